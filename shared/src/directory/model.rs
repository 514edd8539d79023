use serde::{Deserialize, Serialize};

use crate::domain::{CompanyId, EmailAddress, GroupName, UserId};

pub const MAX_GROUPS_PER_USER: usize = 32;
pub const MAX_COMPANIES_PER_USER: usize = 16;
pub const MAX_CONTACTS_PER_USER: usize = 16;
/// Longest login, company name, account type, locale or timezone.
pub const MAX_DIRECTORY_TEXT_BYTES: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum ContactMethod {
    #[serde(rename = "EMAIL")]
    Email,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub method: ContactMethod,
    pub address: EmailAddress,
    /// Lower is tried first.
    #[serde(default)]
    pub priority: u32,
}

/// A user as the directory keeps it (`PUT /{db}/users/{id}` body plus its id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub login: String,
    pub email: Option<EmailAddress>,
    pub active: bool,
    pub groups: Vec<GroupName>,
    pub companies: Vec<CompanyId>,
    /// The user's référent.
    pub follower: Option<UserId>,
    pub account_type: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub contacts: Vec<Contact>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Company {
    pub id: CompanyId,
    pub name: String,
    pub email: Option<EmailAddress>,
    pub active: bool,
}
