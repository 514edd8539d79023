//! The live `user-notification` message on a user's `notification:<uid>`:
//! trytond's shape (`count`: the user's unread items; `content`: what is
//! new), sent when an item is delivered, when the user changes their inbox
//! and when a postponed item comes due (`change`: what changed, for the
//! clients' lists and badges).
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use crate::bus::{Bus, ChannelKey};
use crate::domain::{StoreError, TenantId, UserId};
use crate::inbox::{inbox_json, InboxChange, InboxItem, InboxWatch};

/// The message: `count`, `content` (items new to the user), and `change`
/// when the user changed something or a postponed item came due.
pub fn live_message(unread: usize, content: &[InboxItem], change: Option<&InboxChange>) -> Map<String, Value> {
    let mut message = Map::new();
    message.insert("type".into(), json!("user-notification"));
    message.insert("count".into(), json!(unread));
    message.insert("content".into(), Value::Array(content.iter().map(inbox_json).collect()));
    if let Some(change) = change {
        let change = match change {
            InboxChange::Read(items) => json!({"action": "read", "items": items.iter().map(inbox_json).collect::<Vec<_>>()}),
            InboxChange::ReadAll => json!({"action": "read_all"}),
            InboxChange::Postponed(item) => json!({"action": "postponed", "items": [inbox_json(item)]}),
            InboxChange::Deleted(ids) => json!({"action": "deleted", "ids": ids}),
            InboxChange::Due(items) => json!({"action": "due", "items": items.iter().map(inbox_json).collect::<Vec<_>>()}),
        };
        message.insert("change".into(), change);
    }
    message
}

/// Publishes an inbox's changes on its user's `notification:<uid>`.
pub struct BusInboxWatch {
    bus: Arc<Bus>,
}

impl BusInboxWatch {
    pub fn new(bus: Arc<Bus>) -> Self {
        Self { bus }
    }
}

#[async_trait]
impl InboxWatch for BusInboxWatch {
    async fn changed(&self, tenant: &TenantId, user: &UserId, unread: usize, change: &InboxChange) -> Result<(), StoreError> {
        self.bus.publish(tenant, &ChannelKey::notification(user), &live_message(unread, &[], Some(change))).await?;
        Ok(())
    }
}
