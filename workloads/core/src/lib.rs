//! The FreelanceFlow data contract in code: money, dates, field aliases, validation rules, rejects, the
//! Kafka partitioner and the Kafka envelope, shared by every other crate.

pub mod aliases;
pub mod dates;
pub mod decimal;
pub mod envelope;
mod fields;
pub mod invoice;
pub mod partition;
pub mod profile;
pub mod reject;

pub use aliases::{
    fold_accents, fold_key, invoice_field, profile_field, InvoiceField, ProfileField,
};
pub use dates::{parse_date, DateError};
pub use decimal::{dec2_from_f64, parse_money, parse_quantity, Dec2, NumberError};
pub use envelope::{Envelope, SourceRef};
pub use invoice::{
    derive_facture_id, invoice_freelance_ref, validate_invoice, FreelanceRef, Invoice,
    InvoiceStatus,
};
pub use partition::{murmur2, Partitioner, PartitionerParseError};
pub use profile::{is_plausible_email, validate_profile, Profile, ProfileStatus};
pub use reject::{Reject, RuleCode};
