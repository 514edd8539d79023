//! Who a notification reaches (DESIGN §4, the enDI seed): users, groups,
//! companies, the followers ("référents") of given users with fallback groups,
//! filtered by account type; inactive users and companies are skipped.
//! Resolved at publish time, so a scheduled notification reaches the
//! directory as it is when it is sent.
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::types::Channel;
use crate::directory::{DirectoryStore, User};
use crate::domain::{CompanyId, EmailAddress, GroupName, TenantId, UserId};
use crate::domain::StoreError;

pub const MAX_RECIPIENT_ENTRIES: usize = 100;

/// The `recipients` of a send request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientSpec {
    /// User ids, as strings or integers (Tryton's ids).
    #[serde(default, deserialize_with = "user_ids")]
    pub users: Vec<UserId>,
    #[serde(default)]
    pub groups: Vec<GroupName>,
    #[serde(default)]
    pub companies: Vec<CompanyId>,
    /// Users whose follower (référent) is to be notified.
    #[serde(default, deserialize_with = "user_ids")]
    pub followers_of: Vec<UserId>,
    /// Groups notified for a user of `followers_of` without an active follower.
    #[serde(default)]
    pub fallback_groups: Vec<GroupName>,
    /// Only users of this account type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
}

fn user_ids<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<UserId>, D::Error> {
    let values = Vec::<serde_json::Value>::deserialize(deserializer)?;
    values.iter().map(|v| UserId::from_json(v).map_err(serde::de::Error::custom)).collect()
}

impl RecipientSpec {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty() && self.companies.is_empty() && self.followers_of.is_empty()
    }

    pub fn entries(&self) -> usize {
        self.users.len() + self.groups.len() + self.companies.len() + self.followers_of.len() + self.fallback_groups.len()
    }
}

/// Resolved recipients: users (each gets the notification on the channel;
/// their records as read, so publishing needs no second read), and, for
/// email only, companies reached at their own address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    pub users: BTreeMap<UserId, User>,
    pub company_addresses: Vec<(CompanyId, EmailAddress)>,
}

async fn active_user(store: &dyn DirectoryStore, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError> {
    Ok(store.get_user(tenant, id).await?.filter(|u| u.active))
}

pub async fn resolve(
    store: &dyn DirectoryStore,
    tenant: &TenantId,
    spec: &RecipientSpec,
    channel: Channel,
) -> Result<Resolved, StoreError> {
    let mut candidates: BTreeSet<UserId> = spec.users.iter().cloned().collect();
    for group in &spec.groups {
        candidates.extend(store.group_members(tenant, group).await?);
    }
    let mut resolved = Resolved::default();
    for company_id in &spec.companies {
        let Some(company) = store.get_company(tenant, company_id).await?.filter(|c| c.active) else {
            continue;
        };
        match (&company.email, channel) {
            (Some(address), Channel::Email) => resolved.company_addresses.push((company.id.clone(), address.clone())),
            _ => candidates.extend(store.company_members(tenant, company_id).await?),
        }
    }
    let mut fallback_needed = false;
    for followed in &spec.followers_of {
        let follower = match active_user(store, tenant, followed).await? {
            Some(user) => user.follower,
            None => None,
        };
        match follower {
            Some(f) if active_user(store, tenant, &f).await?.is_some() => {
                candidates.insert(f);
            }
            _ => fallback_needed = true,
        }
    }
    if fallback_needed {
        for group in &spec.fallback_groups {
            candidates.extend(store.group_members(tenant, group).await?);
        }
    }
    for id in candidates {
        let Some(user) = active_user(store, tenant, &id).await? else { continue };
        if spec.account_type.as_ref().is_some_and(|wanted| user.account_type.as_ref() != Some(wanted)) {
            continue;
        }
        resolved.users.insert(id, user);
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::embedded::EmbeddedDirectoryStore;
    use crate::directory::Company;

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    fn user(id: &str, groups: &[&str], companies: &[&str], follower: Option<&str>, active: bool, account: &str) -> User {
        User {
            id: uid(id),
            login: id.into(),
            email: None,
            active,
            groups: groups.iter().map(|g| GroupName::parse(*g).unwrap()).collect(),
            companies: companies.iter().map(|c| CompanyId::parse(*c).unwrap()).collect(),
            follower: follower.map(uid),
            account_type: Some(account.into()),
            locale: None,
            timezone: None,
            contacts: vec![],
        }
    }

    async fn directory() -> (EmbeddedDirectoryStore, TenantId) {
        let store = EmbeddedDirectoryStore::new();
        let t = TenantId::parse("demo").unwrap();
        for u in [
            user("1", &["manager"], &["acme"], Some("3"), true, "entrepreneur"),
            user("2", &["manager", "admin"], &["acme"], None, true, "equipe"),
            user("3", &["support"], &[], None, true, "equipe"),
            user("4", &["manager"], &["acme"], Some("5"), false, "entrepreneur"),
            user("5", &["support"], &[], None, false, "equipe"),
            user("6", &["admin"], &[], Some("5"), true, "entrepreneur"),
        ] {
            store.put_user(&t, &u).await.unwrap();
        }
        let acme = Company { id: CompanyId::parse("acme").unwrap(), name: "ACME".into(), email: None, active: true };
        let mailed = Company {
            id: CompanyId::parse("mailed").unwrap(),
            name: "Mailed".into(),
            email: Some(EmailAddress::parse("hq@mailed.example").unwrap()),
            active: true,
        };
        let closed = Company { id: CompanyId::parse("closed").unwrap(), name: "Closed".into(), email: None, active: false };
        for c in [acme, mailed, closed] {
            store.put_company(&t, &c).await.unwrap();
        }
        (store, t)
    }

    fn ids(r: &Resolved) -> Vec<&str> {
        r.users.keys().map(UserId::as_str).collect()
    }

    fn spec(json: serde_json::Value) -> RecipientSpec {
        serde_json::from_value(json).unwrap()
    }

    #[tokio::test]
    async fn users_and_groups_skip_inactive_and_duplicates() {
        let (store, t) = directory().await;
        let r = resolve(&store, &t, &spec(serde_json::json!({"users": ["1", "5", "9"], "groups": ["manager"]})), Channel::Message).await.unwrap();
        assert_eq!(ids(&r), ["1", "2"]);
    }

    #[tokio::test]
    async fn companies_by_address_for_email_else_employees() {
        let (store, t) = directory().await;
        let s = spec(serde_json::json!({"companies": ["acme", "mailed", "closed", "unknown"]}));
        let email = resolve(&store, &t, &s, Channel::Email).await.unwrap();
        assert_eq!(ids(&email), ["1", "2"], "acme has no address: its active employees");
        assert_eq!(email.company_addresses.len(), 1);
        assert_eq!(email.company_addresses[0].1.as_str(), "hq@mailed.example");
        let inapp = resolve(&store, &t, &s, Channel::Message).await.unwrap();
        assert_eq!(ids(&inapp), ["1", "2"]);
        assert!(inapp.company_addresses.is_empty());
    }

    #[tokio::test]
    async fn followers_with_fallback_groups() {
        let (store, t) = directory().await;
        // 1 → follower 3 (active). 6 → follower 5 (inactive): fallback to admins.
        let s = spec(serde_json::json!({"followers_of": ["1", "6"], "fallback_groups": ["admin"]}));
        assert_eq!(ids(&resolve(&store, &t, &s, Channel::Email).await.unwrap()), ["2", "3", "6"]);
        let only_found = spec(serde_json::json!({"followers_of": ["1"], "fallback_groups": ["admin"]}));
        assert_eq!(ids(&resolve(&store, &t, &only_found, Channel::Email).await.unwrap()), ["3"]);
    }

    #[tokio::test]
    async fn account_type_filters_every_source() {
        let (store, t) = directory().await;
        let s = spec(serde_json::json!({"groups": ["manager", "admin"], "account_type": "entrepreneur"}));
        assert_eq!(ids(&resolve(&store, &t, &s, Channel::Alert).await.unwrap()), ["1", "6"]);
    }

    #[test]
    fn specs_refuse_unknown_fields_and_bad_ids() {
        assert!(serde_json::from_value::<RecipientSpec>(serde_json::json!({"user": ["1"]})).is_err());
        assert!(serde_json::from_value::<RecipientSpec>(serde_json::json!({"groups": ["a#b"]})).is_err());
        assert!(RecipientSpec::default().is_empty());
        let numeric: RecipientSpec = serde_json::from_value(serde_json::json!({"users": [3, "4"], "followers_of": [5]})).unwrap();
        assert_eq!(numeric.users, [uid("3"), uid("4")]);
        assert_eq!(numeric.followers_of, [uid("5")]);
        assert!(serde_json::from_value::<RecipientSpec>(serde_json::json!({"users": [1.5]})).is_err());
    }
}
