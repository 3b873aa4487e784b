//! The FreelanceFlow master and workers: a Kafka consumer group, T1/T2 on DataFusion micro-batches
//! committed to PostgreSQL in one fenced transaction each, T3 indicators and the master's HTTP API.

pub mod batch;
pub mod committer;
pub mod cursor;
pub mod decode;
pub mod dlq;
pub mod engine;
pub mod kafka;
pub mod lag;
pub mod latency;
pub mod master;
pub mod t3;
pub mod worker;
