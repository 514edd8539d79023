//! Deliveries (outbox items): one message of a notification to one
//! recipient on one channel, with the status machine the outbox drives
//! (docs/data-model.md, "Notifications, deliveries, exactly once"); and the
//! port publishing announces them on.
//! A notification's deliveries are its own: they are created when it is
//! published and stored with it (`NotificationStore`); the outbox worker
//! only moves their status on.
use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::model::NotificationId;
use super::model::Channel;
use crate::domain::{CompanyId, EmailAddress, StoreError, TenantId, Timestamp, UserId};

/// Who a delivery is for: a user, or a company at its own address (email).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    User(UserId),
    Company(CompanyId),
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user:{id}"),
            Self::Company(id) => write!(f, "company:{id}"),
        }
    }
}

/// The deterministic identity of a delivery: the same notification revision
/// to the same recipient is always the same item, so publishing twice
/// creates nothing new. It is also the SQS message body.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeliveryKey {
    pub tenant: TenantId,
    pub notification: NotificationId,
    pub revision: u32,
    pub recipient: Recipient,
}

impl fmt::Display for DeliveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}/{}", self.tenant, self.notification, self.revision, self.recipient)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Queued,
    /// Claimed by one outbox run until `lease_until`.
    Sending,
    Sent,
    /// Gave up: attempts exhausted, or an email whose send was interrupted
    /// (sending it again could deliver it twice).
    Failed,
    /// No usable address (none, or every one refused).
    Invalid,
    /// Not sent on purpose: the notification was cancelled or superseded.
    Suppressed,
}

impl DeliveryStatus {
    pub fn is_final(self) -> bool {
        matches!(self, Self::Sent | Self::Failed | Self::Invalid | Self::Suppressed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub key: DeliveryKey,
    pub channel: Channel,
    pub status: DeliveryStatus,
    /// Email only: where to send, in the order to try (contacts by
    /// priority, then the user's own address).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<EmailAddress>,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The address that took the email, or the inbox item created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Finished items are kept this long, then expire (TTL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    pub version: u64,
}

/// Where published deliveries are announced (SQS, or in-process): the
/// outbox takes their keys from there.
#[async_trait]
pub trait OutboxQueue: Send + Sync {
    async fn enqueue(&self, keys: &[DeliveryKey]) -> Result<(), StoreError>;
}
