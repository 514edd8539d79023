//! Who a notification reaches (as in enDI): users, groups,
//! companies, the followers ("référents") of given users with fallback groups,
//! filtered by account type; inactive users and companies are skipped.
//! Resolved at publish time, so a scheduled notification reaches the
//! directory as it is when it is sent.
use std::collections::{BTreeMap, BTreeSet};

use super::model::{Channel, RecipientSpec};
use crate::directory::{DirectoryStore, User};
use crate::domain::{CompanyId, EmailAddress, StoreError, TenantId, UserId};

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
    use crate::domain::GroupName;

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
        let store = EmbeddedDirectoryStore::new(crate::adapters::embedded::Database::in_memory());
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
