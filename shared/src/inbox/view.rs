//! An inbox item as the API and the live `user-notification` message show it.
use serde::Serialize;
use serde_json::Value;

use super::model::{InboxId, InboxItem};
use crate::domain::{NotificationId, Timestamp};
use crate::notifications::{Channel, Context, StatusType, TypeKey};

/// An inbox item as the API and the live message show it. Times are
/// milliseconds since the epoch, as Tryton's clients read them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InboxView {
    pub id: InboxId,
    pub notification: NotificationId,
    pub key: TypeKey,
    pub channel: Channel,
    pub status_type: StatusType,
    pub title: String,
    pub body: String,
    /// HTML as the sender gave it (`null` if none): sanitise before showing.
    pub body_html: Option<String>,
    pub context: Option<Context>,
    pub created_at: i64,
    pub due_at: i64,
    pub read: bool,
    pub read_at: Option<i64>,
}

impl From<&InboxItem> for InboxView {
    fn from(item: &InboxItem) -> Self {
        Self {
            id: item.id.clone(),
            notification: item.notification.clone(),
            key: item.key.clone(),
            channel: item.channel,
            status_type: item.status_type,
            title: item.title.clone(),
            body: item.body.clone(),
            body_html: item.body_html.clone(),
            context: item.context.clone(),
            created_at: item.created_at.as_millis(),
            due_at: item.due_at.as_millis(),
            read: item.read_at.is_some(),
            read_at: item.read_at.map(Timestamp::as_millis),
        }
    }
}

/// [`InboxView`] as JSON, for the live message.
pub fn inbox_json(item: &InboxItem) -> Value {
    serde_json::to_value(InboxView::from(item)).unwrap_or(Value::Null)
}
