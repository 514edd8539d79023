//! A port a function does not use, left out of its binary: the bus and api
//! functions never queue or mail, the notify and check functions never mail,
//! the outbox function gets its messages from its SQS event source. Using
//! one is a wiring mistake, reported as an unavailable store, never a panic.
use async_trait::async_trait;

use crate::outbox::{DeliveryKey, Email, MailError, Mailer, OutboxQueue, QueueConsumer, Received};
use crate::ports::StoreError;

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
    async fn release(&self, _: &str) -> Result<(), StoreError> {
        Err(self.error())
    }
}

#[async_trait]
impl Mailer for Unwired {
    async fn send(&self, _: &Email) -> Result<String, MailError> {
        Err(MailError::Transient(self.error().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{no_outbox, queue_outbox};
    use crate::config::{Config, ConfigError};

    fn config(queue_url: Option<&str>) -> Config {
        let queue_url = queue_url.map(str::to_owned);
        Config::from_lookup(move |name| match name {
            "HERALD_JWT_SECRET" => Some("unwired-test-secret-0123456789".into()),
            "HERALD_OUTBOX_QUEUE_URL" => queue_url.clone(),
            _ => None,
        })
        .unwrap()
    }

    #[tokio::test]
    async fn an_unwired_port_reports_an_unavailable_store() {
        let ports = no_outbox(&aws_config::SdkConfig::builder().build(), &config(None)).unwrap();
        let error = ports.queue.enqueue(&[]).await.unwrap_err();
        assert!(matches!(&error, StoreError::Unavailable(m) if m.contains("not wired")), "{error}");
        assert!(ports.consumer.receive(1).await.is_err());
    }

    #[test]
    fn a_queueing_function_needs_the_queue_url() {
        let sdk = aws_config::SdkConfig::builder().build();
        assert!(matches!(queue_outbox(&sdk, &config(None)), Err(crate::app::StartError::Config(ConfigError::Missing("HERALD_OUTBOX_QUEUE_URL")))));
        assert!(queue_outbox(&sdk, &config(Some("https://sqs.us-east-1.amazonaws.com/1/q"))).is_ok());
    }
}
