//! The outbox queue on SQS: keys go in as JSON message bodies; the local
//! gateway and tests pull them with `ReceiveMessage` (Lambda's event source
//! does it in AWS).
use async_trait::async_trait;
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use aws_sdk_sqs::Client;

use crate::domain::StoreError;
use crate::notifications::{DeliveryKey, OutboxQueue};
use crate::outbox::{QueueConsumer, Received, DELIVERY_LEASE};

use super::sdk_client::SdkClient;


#[derive(Clone)]
pub struct SqsQueue {
    client: SdkClient<Client>,
    url: String,
}

fn unavailable<E: std::error::Error>(e: E) -> StoreError {
    StoreError::Unavailable(aws_sdk_sqs::error::DisplayErrorContext(e).to_string())
}

impl SqsQueue {
    pub fn new(client: impl Into<SdkClient<Client>>, url: impl Into<String>) -> Self {
        Self { client: client.into(), url: url.into() }
    }
}

/// Creates the outbox queue and its dead-letter queue (`{name}-dlq`) with a
/// redrive after `max_receives` receives, unless they exist; the queue URL.
pub async fn ensure_outbox_queue(client: &Client, name: &str, max_receives: u32) -> Result<String, StoreError> {
    let dlq = client.create_queue().queue_name(format!("{name}-dlq")).send().await.map_err(unavailable)?;
    let dlq_url = dlq.queue_url.unwrap_or_default();
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(unavailable)?
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .ok_or_else(|| StoreError::Unavailable("the dead-letter queue has no ARN".into()))?;
    let redrive = serde_json::json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives }).to_string();
    let queue = client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::VisibilityTimeout, DELIVERY_LEASE.as_secs().to_string())
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .send()
        .await
        .map_err(unavailable)?;
    queue.queue_url.ok_or_else(|| StoreError::Unavailable("the queue has no URL".into()))
}

#[async_trait]
impl OutboxQueue for SqsQueue {
    async fn enqueue(&self, keys: &[DeliveryKey]) -> Result<(), StoreError> {
        // SendMessageBatch takes 10 entries at most.
        for chunk in keys.chunks(10) {
            let mut request = self.client.send_message_batch().queue_url(&self.url);
            for (i, key) in chunk.iter().enumerate() {
                let body = serde_json::to_string(key).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let entry = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(body)
                    .build()
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                request = request.entries(entry);
            }
            let out = request.send().await.map_err(unavailable)?;
            if let Some(failed) = out.failed.first() {
                return Err(StoreError::Unavailable(format!("SQS refused a message: {}", failed.message.clone().unwrap_or_default())));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl QueueConsumer for SqsQueue {
    async fn receive(&self, max: usize) -> Result<Vec<Received>, StoreError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(i32::try_from(max.clamp(1, 10)).unwrap_or(10))
            .wait_time_seconds(0)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| Some(Received { handle: m.receipt_handle?, body: m.body.unwrap_or_default() }))
            .collect())
    }

    async fn delete(&self, handle: &str) -> Result<(), StoreError> {
        self.client.delete_message().queue_url(&self.url).receipt_handle(handle).send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn release(&self, handle: &str, after: std::time::Duration) -> Result<(), StoreError> {
        // SQS's longest visibility timeout is 12 hours.
        let seconds = i32::try_from(after.as_secs().min(43_200)).unwrap_or(43_200);
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
