//! Resources and records: what subscriptions watch.
pub mod model;
pub mod service;
pub mod store;

pub use model::{Acl, NotifyField, Record, Resource};
pub use service::{Change, RecordError, RecordReport, Records, ResourceRequest};
pub use store::{RecordStore, CHANGE_LOG_RETENTION};
