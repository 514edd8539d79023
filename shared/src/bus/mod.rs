//! The Tryton-compatible long-polling bus: channels and who may read them,
//! the opaque `message_id` cursor, the storage port and the service.
pub mod channel;
pub mod cursor;
pub mod service;
pub mod store;

pub use channel::{ChannelError, ChannelGrants, ChannelKey, Subscription};
pub use cursor::Cursor;
pub use service::{BatchMessage, Bus, BusError, BusSettings, Delivery, NotifyRequest, PollRequest, PublishBatch, PublishRequest, Published, MAX_BATCH_MESSAGES, MAX_CLIENT_ID_BYTES, MAX_NOTIFY_TITLE_BYTES, MAX_PUBLICATION_ID_BYTES};
pub use store::{BusStore, ClientBinding, Look, Moved, Seen, Seq, StoredMessage};
