//! A typed notification as stored: what to say, to whom, on which channel,
//! and when. Recipients are resolved when it is published, not when it is
//! sent, so a scheduled notification reaches the directory of its due time.
use serde::{Deserialize, Serialize};

use super::recipients::RecipientSpec;
use super::types::{Channel, StatusType, TypeKey};
use crate::domain::{TenantId, Timestamp};

pub const MAX_TITLE_BYTES: usize = 256;
pub const MAX_BODY_BYTES: usize = 16 * 1024;
pub const MAX_CONTEXT_BYTES: usize = 128;
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 128;

pub use crate::domain::NotificationId;

/// The application object a notification is about (`{"table", "id"}`); a
/// new send with the same context and key replaces the notification.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    pub table: String,
    pub id: String,
}

impl Context {
    pub fn validate(&self) -> Result<(), String> {
        let ok = |s: &str| !s.is_empty() && s.len() <= MAX_CONTEXT_BYTES && !s.contains('#');
        if ok(&self.table) && ok(&self.id) {
            Ok(())
        } else {
            Err(format!("context table and id are 1 to {MAX_CONTEXT_BYTES} bytes without '#'"))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationStatus {
    /// Waiting for its due time.
    Scheduled,
    /// Claimed by a publisher until `lease_until`; another one takes over
    /// after that (a crash never leaves it stuck).
    Publishing,
    Published,
    /// Cancelled by `DELETE`, or its `until` passed before it was due.
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: NotificationId,
    pub tenant: TenantId,
    pub key: TypeKey,
    pub title: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    /// The type's default channel, or `force_channel`, fixed when sent.
    pub channel: Channel,
    pub status_type: StatusType,
    pub recipients: RecipientSpec,
    pub due_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    pub status: NotificationStatus,
    /// Starts at 1; a republish (same context, already published) adds one,
    /// so its deliveries are new ones.
    pub revision: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<Timestamp>,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    /// Optimistic concurrency: every store write is conditioned on it.
    pub version: u64,
}

impl Notification {
    /// Waiting to be published (scheduled, or a publisher's lease ran out).
    pub fn awaits_publication(&self) -> bool {
        matches!(self.status, NotificationStatus::Scheduled | NotificationStatus::Publishing)
    }

    /// Its time in the due index: the due time, or while a publisher holds
    /// it, the end of that lease (when another may take over). So a run
    /// reading the head of the index never meets notifications it cannot claim.
    pub fn due_index_at(&self) -> Option<Timestamp> {
        match self.status {
            NotificationStatus::Scheduled => Some(self.due_at),
            NotificationStatus::Publishing => Some(self.lease_until.map_or(self.due_at, |lease| lease.max(self.due_at))),
            NotificationStatus::Published | NotificationStatus::Cancelled => None,
        }
    }
}
