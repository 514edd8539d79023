//! Resources and records (DESIGN §5): what subscriptions watch.
pub mod model;
pub mod service;
pub mod store;

pub use model::{Acl, NotifyField, Record, Resource};
pub use service::{Change, RecordError, RecordReport, Records};
pub use store::RecordStore;
