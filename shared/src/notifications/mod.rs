//! Typed notifications (the enDI seed): channels, status types and the
//! notification types a tenant can change.
pub mod recipients;
pub mod types;

pub use types::{default_types, Channel, NotificationType, StatusType, TypeKey, TypeStore};
