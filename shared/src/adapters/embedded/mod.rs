//! In-process adapters: nothing to install, state lives in memory (and
//! emails in `.eml` files).
mod bus_store;
mod directory_store;
mod file_mailer;
mod inbox_store;
mod notification_store;
mod queue;
mod record_store;
mod subscription_store;
mod template_store;
mod type_store;

pub use bus_store::EmbeddedBusStore;
pub use directory_store::EmbeddedDirectoryStore;
pub use file_mailer::FileMailer;
pub use inbox_store::EmbeddedInboxStore;
pub use notification_store::EmbeddedNotificationStore;
pub use queue::EmbeddedQueue;
pub use record_store::EmbeddedRecordStore;
pub use subscription_store::EmbeddedSubscriptionStore;
pub use template_store::EmbeddedTemplateStore;
pub use type_store::EmbeddedTypeStore;
