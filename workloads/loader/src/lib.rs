//! Reads profile and invoice files and publishes them to Kafka, keyed and partitioned by freelancer id.

pub mod publish;
pub mod read;

pub use publish::{load, FileKind, FileSummary, LoadReport, LoaderConfig};
