//! The outbox worker: takes a delivery key off the queue and delivers it
//! once (docs/data-model.md, "Notifications, deliveries, exactly once"),
//! by email through its mailer or in-app (an inbox item and a live bus
//! message). The deliveries and their queue belong to `notifications`; this
//! worker only moves them on.
pub mod live;
pub mod mailer;
pub mod queue_consumer;
pub mod service;

pub use live::{live_message, BusInboxWatch};
pub use mailer::{Email, MailError, Mailer};
pub use queue_consumer::{QueueConsumer, Received};
pub use service::{Handled, Outbox, OutboxSettings, DELIVERY_LEASE, MAX_ERROR_BYTES, MAX_RETRY_DELAY};
