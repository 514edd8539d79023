//! Notification types: a key (`message:internal`, `task:status:valid`, ...)
//! naming a label, a default channel and a status type. Herald ships defaults;
//! a tenant's own entries override them. `Types` owns their rules.
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::type_store::TypeStore;
use crate::domain::{StoreError, TenantId};

/// Longest label of a type.
pub const MAX_LABEL_BYTES: usize = 256;

/// Where a notification is shown: by email, the bell (`message`), the banner
/// (`header_message`) or a modal (`alert`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Message,
    HeaderMessage,
    Alert,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationType {
    pub key: TypeKey,
    pub label: String,
    pub default_channel: Channel,
    pub status_type: StatusType,
}

/// The types every tenant starts with (the seed's `message:internal` and
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

/// A type as a tenant defines it (`PUT /{db}/types/{key}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeRequest {
    pub label: String,
    pub default_channel: Channel,
    pub status_type: StatusType,
}

#[derive(Debug, thiserror::Error)]
pub enum TypeError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The notification types of each tenant: its own over the defaults.
#[derive(Clone)]
pub struct Types {
    store: Arc<dyn TypeStore>,
}

impl Types {
    pub fn new(store: Arc<dyn TypeStore>) -> Self {
        Self { store }
    }

    /// Creates or replaces the tenant's type `key`.
    pub async fn put(&self, tenant: &TenantId, key: TypeKey, request: TypeRequest) -> Result<NotificationType, TypeError> {
        if request.label.trim().is_empty() || request.label.len() > MAX_LABEL_BYTES {
            return Err(TypeError::Invalid(format!("label must be 1 to {MAX_LABEL_BYTES} bytes")));
        }
        let notification_type = NotificationType { key, label: request.label, default_channel: request.default_channel, status_type: request.status_type };
        self.store.put_type(tenant, &notification_type).await?;
        Ok(notification_type)
    }

    /// Every type the tenant has: the defaults overridden by its own, by key.
    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<NotificationType>, StoreError> {
        Ok(effective_types(self.store.tenant_types(tenant).await?))
    }

    /// The tenant's type `key` (its own, else a default), if there is one.
    pub async fn find(&self, tenant: &TenantId, key: &TypeKey) -> Result<Option<NotificationType>, StoreError> {
        Ok(self.list(tenant).await?.into_iter().find(|t| &t.key == key))
    }
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
