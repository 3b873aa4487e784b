//! The FreelanceFlow operator: one controller per custom resource of `ff-crds`, each reconcile split into
//! dereference, validate, build (pure, [`builders`]), apply and status.

pub mod apply;
pub mod builders;
pub mod conditions;
pub mod context;
pub mod controllers;
pub mod error;
pub mod kafka;
pub mod metrics;
pub mod run;
pub mod server;
pub mod warehouse_db;
