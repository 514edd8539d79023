//! An inbox item as the API and the live `user-notification` message show it.
use serde_json::{json, Value};

use super::model::InboxItem;
use crate::domain::Timestamp;

/// An inbox item as the API and the live message show it.
pub fn inbox_json(item: &InboxItem) -> Value {
    json!({
        "id": item.id,
        "notification": item.notification,
        "key": item.key,
        "channel": item.channel,
        "status_type": item.status_type,
        "title": item.title,
        "body": item.body,
        "context": item.context,
        "created_at": item.created_at.as_millis(),
        "due_at": item.due_at.as_millis(),
        "read": item.read_at.is_some(),
        "read_at": item.read_at.map(Timestamp::as_millis),
    })
}
