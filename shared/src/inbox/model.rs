//! Inbox items: what the bell, the banner and the modal show a user.
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{TenantId, Timestamp, UserId};
use crate::notifications::{Channel, Context, NotificationId, StatusType, TypeKey};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an inbox item id")]
pub struct InvalidInboxId;

/// `{created ms, 13 digits}-{notification id}-{revision}`: sorts by time, and
/// is the same for the same delivery, so creating it twice creates one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InboxId(String);

impl InboxId {
    pub fn new(created_at: Timestamp, notification: &NotificationId, revision: u32) -> Self {
        Self(format!("{:013}-{notification}-{revision}", created_at.as_millis().max(0)))
    }
    pub fn parse(value: impl Into<String>) -> Result<Self, InvalidInboxId> {
        let value = value.into();
        let mut parts = value.splitn(3, '-');
        let valid = matches!(
            (parts.next(), parts.next(), parts.next()),
            (Some(ms), Some(id), Some(rev))
                if ms.len() == 13 && ms.bytes().all(|b| b.is_ascii_digit())
                && NotificationId::parse(id).is_ok()
                && !rev.is_empty() && rev.len() <= 10 && rev.bytes().all(|b| b.is_ascii_digit())
        );
        if valid { Ok(Self(value)) } else { Err(InvalidInboxId) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The revision of the notification this item shows.
    pub fn revision(&self) -> u32 {
        self.0.rsplit('-').next().and_then(|r| r.parse().ok()).unwrap_or(0)
    }
}

crate::domain::schema::text_schema!(InboxId, "an inbox item: <13-digit millis>-<notification id>-<revision>", 48, 57, "^[0-9]{13}-[0-9a-f]{32}-[0-9]{1,10}$");

impl TryFrom<String> for InboxId {
    type Error = InvalidInboxId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(value)
    }
}

impl From<InboxId> for String {
    fn from(id: InboxId) -> String {
        id.0
    }
}

impl fmt::Display for InboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    pub id: InboxId,
    pub tenant: TenantId,
    pub user: UserId,
    pub notification: NotificationId,
    pub key: TypeKey,
    pub channel: Channel,
    pub status_type: StatusType,
    pub title: String,
    pub body: String,
    /// The notification's HTML body, stored as given (clients sanitise it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    pub created_at: Timestamp,
    /// When it shows as due: its creation, or where a postpone moved it.
    pub due_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_at: Option<Timestamp>,
    /// Read items expire after the retention (TTL; readers filter too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// Postponed, and its coming due is still to be pushed to the user's
    /// clients (it is in the stores' due index while unread).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub push_when_due: bool,
    pub version: u64,
}

impl InboxItem {
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// Its time in the stores' due index: its due time while it is unread
    /// and its coming due is still to be pushed.
    pub fn due_index_at(&self) -> Option<Timestamp> {
        (self.push_when_due && self.read_at.is_none()).then_some(self.due_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_refuse_others() {
        let n = NotificationId::random();
        let id = InboxId::new(Timestamp::from_millis(1_700_000_000_000), &n, 2);
        assert_eq!(InboxId::parse(id.to_string()), Ok(id));
        for bad in ["", "x", "1700000000000-abc-1", "170000000000-0123456789abcdef0123456789abcdef-1", "1700000000000-0123456789abcdef0123456789abcdef-"] {
            assert!(InboxId::parse(bad).is_err(), "{bad}");
        }
    }
}
