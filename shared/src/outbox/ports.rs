//! What the outbox needs from the outside: a queue carrying delivery keys
//! (SQS, or in-process) and a mailer (SES v2, or `.eml` files).
use async_trait::async_trait;

use super::model::DeliveryKey;
use crate::domain::EmailAddress;
use crate::ports::StoreError;

/// Where published deliveries are announced.
#[async_trait]
pub trait OutboxQueue: Send + Sync {
    async fn enqueue(&self, keys: &[DeliveryKey]) -> Result<(), StoreError>;
}

/// A message taken from the queue, invisible to others until deleted or
/// released.
#[derive(Debug, Clone)]
pub struct Received {
    pub handle: String,
    pub body: String,
}

/// Pulling from the queue: what the local gateway does in place of Lambda's
/// SQS event source. After the queue's maximum number of receives, a
/// message moves to its dead-letter queue instead of being received again.
#[async_trait]
pub trait QueueConsumer: Send + Sync {
    async fn receive(&self, max: usize) -> Result<Vec<Received>, StoreError>;
    /// Done with it: remove it.
    async fn delete(&self, handle: &str) -> Result<(), StoreError>;
    /// Failed: make it visible again for a later attempt.
    async fn release(&self, handle: &str) -> Result<(), StoreError>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub from: EmailAddress,
    pub to: EmailAddress,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// This address cannot take mail (invalid, suppressed): try the next.
    #[error("address refused: {0}")]
    AddressRefused(String),
    /// Throttling, a timeout, a 5xx: the same send may work later.
    #[error("temporary mail failure: {0}")]
    Transient(String),
    /// The provider refuses the send itself (sender not verified, account
    /// paused): counts as an attempt like a transient one, then fails.
    #[error("mail refused: {0}")]
    Permanent(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one email; the provider's message id.
    async fn send(&self, email: &Email) -> Result<String, MailError>;
}
