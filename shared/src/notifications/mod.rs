//! Typed notifications (as enDI has them): channels, status types and the
//! notification types a tenant can change; sending, scheduling and
//! publishing to resolved recipients, which creates the notification's
//! deliveries and announces them on the outbox queue.
pub mod delivery;
pub mod model;
pub mod recipients;
pub mod service;
pub mod store;
pub mod type_store;
pub mod types;

pub use delivery::{Delivery, DeliveryKey, DeliveryStatus, OutboxQueue, Recipient};
pub use model::{default_types, effective_types, Channel, Context, NotificationType, Notification, NotificationId, NotificationStatus, RecipientSpec, StatusType, TypeKey};
pub use service::{CheckReport, NotifyError, Notifier, NotifierSettings, SendOutcome, SendRequest};
pub use store::{NotificationStore, Publication};
pub use type_store::TypeStore;
pub use types::{TypeError, TypeRequest, Types};
