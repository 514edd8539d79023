//! The queue consumer port: pulling delivery keys off the outbox queue, what
//! `herald-local` does in place of Lambda's SQS event source (`events.rs`).
use async_trait::async_trait;

use crate::domain::StoreError;

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
    /// Failed: make it visible again `after` this long (SQS:
    /// `ChangeMessageVisibility`; zero for at once).
    async fn release(&self, handle: &str, after: std::time::Duration) -> Result<(), StoreError>;
}
