//! The outbox (DESIGN §6): every outgoing message is an item with a
//! deterministic id and a status machine; a queue carries the ids.
pub mod model;
pub mod ports;
pub mod service;

pub use model::{Delivery, DeliveryKey, DeliveryStatus, Recipient};
pub use ports::{Email, MailError, Mailer, OutboxQueue, QueueConsumer, Received};
pub use service::{inbox_json, DrainReport, Handled, Outbox, OutboxSettings};
