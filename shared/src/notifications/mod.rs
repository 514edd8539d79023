//! Typed notifications (the enDI seed): channels, status types and the
//! notification types a tenant can change; sending, scheduling and
//! publishing to resolved recipients.
pub mod model;
pub mod recipients;
pub mod service;
pub mod store;
pub mod types;

pub use model::{Context, Notification, NotificationId, NotificationStatus};
pub use service::{CheckReport, NotifyError, Notifier, NotifierSettings, SendOutcome, SendRequest};
pub use store::NotificationStore;
pub use types::{default_types, Channel, NotificationType, StatusType, TypeKey, TypeStore};
