//! The in-app inbox (DESIGN §4): items the outbox creates for the bell, the
//! banner and the modal, read and managed by their user only.
pub mod model;
pub mod service;
pub mod store;

pub use model::{InboxId, InboxItem};
pub use service::{Inbox, InboxError, InboxFilter, InboxPage, ReadState};
pub use store::InboxStore;
