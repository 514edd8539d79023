//! Resources (kinds of records) and the records applications report, with
//! who may read them.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::{CompanyId, GroupName, RecordId, ResourceName, Timestamp, UserId};

/// Longest title, subject template or URL of a resource.
pub const MAX_RESOURCE_TEXT_BYTES: usize = 1024;
pub const MAX_NOTIFY_FIELDS: usize = 32;
/// Longest name and label of a notify field.
pub const MAX_NOTIFY_FIELD_NAME_BYTES: usize = 64;
pub const MAX_NOTIFY_FIELD_LABEL_BYTES: usize = 256;
/// Longest prefix of a resource's message templates (`notify`).
pub const MAX_NOTIFY_TEMPLATE_BYTES: usize = 64;
pub const MAX_FIELDS_BYTES: usize = 16 * 1024;
pub const MAX_ACL_ENTRIES: usize = 64;

/// A field shown in notifications, with its label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyField {
    pub name: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Resource {
    pub name: ResourceName,
    pub title: String,
    pub notify_fields: Vec<NotifyField>,
    /// Prefix of the message templates (`notify` → `notify_email_html`, ...).
    pub notify_template: String,
    /// Subject template (`{system}`, `{resource}`); the deployment's if none.
    pub notify_subject: Option<String>,
    pub page_url: Option<String>,
    /// The page of one record; `{id}` is replaced by the record's id.
    pub item_url: Option<String>,
}

impl Resource {
    pub fn item_url(&self, id: &RecordId) -> Option<String> {
        self.item_url.as_ref().map(|t| t.replace("{id}", id.as_str()))
    }
}

/// Who may read a record: everyone (`public`), or the users, groups and
/// companies named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acl {
    #[serde(default)]
    pub public: bool,
    /// User ids, as strings or integers (Tryton's ids).
    #[serde(default)]
    #[schema(schema_with = crate::domain::schema::user_refs)]
    pub users: Vec<UserId>,
    #[serde(default)]
    pub groups: Vec<GroupName>,
    #[serde(default)]
    pub companies: Vec<CompanyId>,
}

impl Acl {
    pub fn entries(&self) -> usize {
        self.users.len() + self.groups.len() + self.companies.len()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub resource: ResourceName,
    pub id: RecordId,
    pub fields: Map<String, Value>,
    pub acl: Acl,
    /// First time Herald saw it.
    pub created_on: Timestamp,
    /// Last change Herald saw (fields, access or deletion).
    pub modified_on: Timestamp,
    pub deleted: bool,
    pub version: u64,
}
