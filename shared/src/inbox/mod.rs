//! The in-app inbox: items the outbox creates for the bell, the banner and
//! the modal, read and managed by their user only.
pub mod model;
pub mod service;
pub mod store;
pub mod view;

pub use model::{InboxId, InboxItem};
pub use service::{DueReport, Inbox, InboxChange, InboxError, InboxFilter, InboxPage, InboxWatch, ReadState};
pub use store::InboxStore;
pub use view::{inbox_json, InboxView};
