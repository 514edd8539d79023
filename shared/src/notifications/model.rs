//! A typed notification as stored: what to say, to whom, on which channel,
//! and when. Recipients are resolved when it is published, not when it is
//! sent, so a scheduled notification reaches the directory of its due time.
//! And the notification types: the key a notification names, its channel
//! and status type, and the defaults every tenant starts with.
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{CompanyId, GroupName, TenantId, Timestamp, UserId};

pub const MAX_TITLE_BYTES: usize = 256;
pub const MAX_BODY_BYTES: usize = 16 * 1024;
pub const MAX_CONTEXT_BYTES: usize = 128;
pub const MAX_IDEMPOTENCY_KEY_BYTES: usize = 128;

pub use crate::domain::NotificationId;

/// The application object a notification is about (`{"table", "id"}`); a
/// new send with the same context and key replaces the notification.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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

pub const MAX_RECIPIENT_ENTRIES: usize = 100;

/// The `recipients` of a send request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipientSpec {
    /// User ids, as strings or integers (Tryton's ids).
    #[serde(default)]
    #[schema(schema_with = crate::domain::schema::user_refs)]
    pub users: Vec<UserId>,
    #[serde(default)]
    pub groups: Vec<GroupName>,
    #[serde(default)]
    pub companies: Vec<CompanyId>,
    /// Users whose follower (référent) is to be notified.
    #[serde(default)]
    #[schema(schema_with = crate::domain::schema::user_refs)]
    pub followers_of: Vec<UserId>,
    /// Groups notified for a user of `followers_of` without an active follower.
    #[serde(default)]
    pub fallback_groups: Vec<GroupName>,
    /// Only users of this account type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
}

impl RecipientSpec {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty() && self.companies.is_empty() && self.followers_of.is_empty()
    }

    pub fn entries(&self) -> usize {
        self.users.len() + self.groups.len() + self.companies.len() + self.followers_of.len() + self.fallback_groups.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// Where a notification is shown: by email, the bell (`message`), the banner
/// (`header_message`) or a modal (`alert`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Message,
    HeaderMessage,
    Alert,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusType {
    Valid,
    Success,
    Error,
    Invalid,
    Caution,
    Neutral,
    Calendar,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a type key is 1 to 128 characters of a-z, 0-9, '_', '-', '.' and ':'")]
pub struct InvalidTypeKey;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TypeKey(String);

impl TypeKey {
    pub fn parse(value: impl Into<String>) -> Result<Self, InvalidTypeKey> {
        let value = value.into();
        let valid = !value.is_empty()
            && value.len() <= 128
            && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.' | ':'));
        if valid { Ok(Self(value)) } else { Err(InvalidTypeKey) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::domain::schema::text_schema!(TypeKey, "a notification type key", 1, 128, "^[a-z0-9_.:-]+$");

impl TryFrom<String> for TypeKey {
    type Error = InvalidTypeKey;
    fn try_from(value: String) -> Result<Self, InvalidTypeKey> {
        Self::parse(value)
    }
}

impl From<TypeKey> for String {
    fn from(k: TypeKey) -> String {
        k.0
    }
}

impl fmt::Display for TypeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotificationType {
    pub key: TypeKey,
    pub label: String,
    pub default_channel: Channel,
    pub status_type: StatusType,
}

/// The types every tenant starts with (enDI's `message:internal` and
/// `message:system`, and the task statuses it names).
pub fn default_types() -> Vec<NotificationType> {
    let t = |key: &str, label: &str, default_channel, status_type| NotificationType {
        key: TypeKey(key.to_owned()),
        label: label.to_owned(),
        default_channel,
        status_type,
    };
    vec![
        t("message:internal", "Internal message", Channel::Message, StatusType::Neutral),
        t("message:system", "System message", Channel::Alert, StatusType::Caution),
        t("task:status:valid", "Task validated", Channel::Message, StatusType::Valid),
        t("task:status:invalid", "Task invalidated", Channel::Message, StatusType::Invalid),
    ]
}

/// Defaults overridden by the tenant's own entries, sorted by key.
pub fn effective_types(tenant_types: Vec<NotificationType>) -> Vec<NotificationType> {
    let mut all: std::collections::BTreeMap<TypeKey, NotificationType> =
        default_types().into_iter().map(|t| (t.key.clone(), t)).collect();
    for t in tenant_types {
        all.insert(t.key.clone(), t);
    }
    all.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_channels_parse() {
        assert!(TypeKey::parse("task:status:valid").is_ok());
        assert!(TypeKey::parse("Task").is_err());
        assert!(TypeKey::parse("").is_err());
        assert_eq!(serde_json::from_str::<Channel>("\"header_message\"").unwrap(), Channel::HeaderMessage);
        assert!(serde_json::from_str::<Channel>("\"sms\"").is_err());
    }

    #[test]
    fn tenant_types_override_defaults() {
        let own = NotificationType {
            key: TypeKey::parse("message:system").unwrap(),
            label: "Ours".into(),
            default_channel: Channel::Email,
            status_type: StatusType::Error,
        };
        let all = effective_types(vec![own.clone()]);
        assert_eq!(all.len(), default_types().len());
        assert_eq!(all.iter().find(|t| t.key == own.key), Some(&own));
    }
}
