//! A port a function does not use, left out of its binary: the bus and api
//! functions never queue or mail, the notify and check functions never mail,
//! the outbox function gets its messages from its SQS event source. Using
//! one is a wiring mistake, reported as an unavailable store, never a panic.
use async_trait::async_trait;

use crate::domain::StoreError;
use crate::notifications::{DeliveryKey, OutboxQueue};
use crate::outbox::{Email, MailError, Mailer, QueueConsumer, Received};

/// Stands in for a port this function never uses; names what it stands for.
#[derive(Debug, Clone, Copy)]
pub struct Unwired(pub &'static str);

impl Unwired {
    fn error(&self) -> StoreError {
        StoreError::Unavailable(format!("{} is not wired in this function", self.0))
    }
}

#[async_trait]
impl OutboxQueue for Unwired {
    async fn enqueue(&self, _: &[DeliveryKey]) -> Result<(), StoreError> {
        Err(self.error())
    }
}

#[async_trait]
impl QueueConsumer for Unwired {
    async fn receive(&self, _: usize) -> Result<Vec<Received>, StoreError> {
        Err(self.error())
    }
    async fn delete(&self, _: &str) -> Result<(), StoreError> {
        Err(self.error())
    }
    async fn release(&self, _: &str, _: std::time::Duration) -> Result<(), StoreError> {
        Err(self.error())
    }
}

#[async_trait]
impl Mailer for Unwired {
    async fn send(&self, _: &Email) -> Result<String, MailError> {
        Err(MailError::Transient(self.error().to_string()))
    }
}
