//! In-process adapters: nothing to install. State lives in an embedded
//! SQLite database, in a data directory or in memory (`db`); emails are
//! `.eml` files.
mod bus_store;
pub mod db;
mod directory_store;
mod file_mailer;
mod inbox_store;
mod notification_store;
mod queue;
mod record_store;
mod schema;
mod session_store;
mod subscription_store;
mod sweeper;
mod template_store;
mod type_store;

pub use bus_store::EmbeddedBusStore;
pub use db::{Database, Durability, Location, OpenError};
pub use directory_store::EmbeddedDirectoryStore;
pub use file_mailer::FileMailer;
pub use inbox_store::EmbeddedInboxStore;
pub use notification_store::{EmbeddedNotificationStore, EmbeddedPublication};
pub use queue::{EmbeddedQueue, VISIBILITY_TIMEOUT};
pub use record_store::EmbeddedRecordStore;
pub use schema::KNOWN_VERSION as SCHEMA_VERSION;
pub use session_store::EmbeddedSessionStore;
pub use subscription_store::EmbeddedSubscriptionStore;
pub use sweeper::{SweepReport, DEAD_LETTER_RETENTION};
pub use template_store::EmbeddedTemplateStore;
pub use type_store::EmbeddedTypeStore;
