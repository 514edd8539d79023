//! The directory store contract, on the embedded store and on DynamoDB (moto).
use std::sync::Arc;

use crate::common;

use herald::adapters::aws::DynamoDirectoryStore;
use herald::adapters::embedded::EmbeddedDirectoryStore;
use herald::directory::{Company, Contact, ContactMethod, DirectoryStore, User};
use herald::domain::{CompanyId, EmailAddress, GroupName, TenantId, UserId};

async fn dynamo() -> Arc<dyn DirectoryStore> {
    Arc::new(DynamoDirectoryStore::new(common::data_table("data-contract").await))
}

fn embedded(db: Arc<herald::adapters::embedded::Database>) -> Arc<dyn DirectoryStore> {
    Arc::new(EmbeddedDirectoryStore::new(db))
}

fn tenant() -> TenantId {
    TenantId::parse("demo").unwrap()
}

fn uid(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

fn group(s: &str) -> GroupName {
    GroupName::parse(s).unwrap()
}

fn user(id: &str, groups: &[&str], companies: &[&str]) -> User {
    User {
        id: uid(id),
        login: format!("login{id}"),
        email: Some(EmailAddress::parse(format!("u{id}@example.org")).unwrap()),
        active: true,
        groups: groups.iter().map(|g| group(g)).collect(),
        companies: companies.iter().map(|c| CompanyId::parse(*c).unwrap()).collect(),
        follower: None,
        account_type: Some("entrepreneur".into()),
        locale: Some("fr_FR".into()),
        timezone: Some("Europe/Paris".into()),
        contacts: vec![Contact {
            method: ContactMethod::Email,
            address: EmailAddress::parse(format!("work{id}@example.org")).unwrap(),
            priority: 1,
        }],
    }
}

async fn users_round_trip_and_index_their_groups(store: Arc<dyn DirectoryStore>) {
    let t = tenant();
    assert_eq!(store.get_user(&t, &uid("1")).await.unwrap(), None);
    let ann = user("1", &["manager", "admin"], &["acme"]);
    store.put_user(&t, &ann).await.unwrap();
    store.put_user(&t, &user("2", &["manager"], &[])).await.unwrap();
    assert_eq!(store.get_user(&t, &uid("1")).await.unwrap(), Some(ann.clone()));
    assert_eq!(store.group_members(&t, &group("manager")).await.unwrap(), vec![uid("1"), uid("2")]);
    assert_eq!(store.group_members(&t, &group("admin")).await.unwrap(), vec![uid("1")]);
    let acme = CompanyId::parse("acme").unwrap();
    assert_eq!(store.company_members(&t, &acme).await.unwrap(), vec![uid("1")]);

    // Replacing a user moves its memberships.
    store.put_user(&t, &user("1", &["support"], &[])).await.unwrap();
    assert_eq!(store.group_members(&t, &group("manager")).await.unwrap(), vec![uid("2")]);
    assert_eq!(store.group_members(&t, &group("admin")).await.unwrap(), Vec::<UserId>::new());
    assert_eq!(store.group_members(&t, &group("support")).await.unwrap(), vec![uid("1")]);
    assert_eq!(store.company_members(&t, &acme).await.unwrap(), Vec::<UserId>::new());

    assert!(store.delete_user(&t, &uid("1")).await.unwrap());
    assert!(!store.delete_user(&t, &uid("1")).await.unwrap());
    assert_eq!(store.get_user(&t, &uid("1")).await.unwrap(), None);
    assert_eq!(store.group_members(&t, &group("support")).await.unwrap(), Vec::<UserId>::new());
    // Another tenant sees none of it.
    let other = TenantId::parse("other").unwrap();
    assert_eq!(store.group_members(&other, &group("manager")).await.unwrap(), Vec::<UserId>::new());
}

async fn companies_round_trip(store: Arc<dyn DirectoryStore>) {
    let t = tenant();
    let id = CompanyId::parse("acme").unwrap();
    assert_eq!(store.get_company(&t, &id).await.unwrap(), None);
    let company = Company { id: id.clone(), name: "ACME".into(), email: None, active: true };
    store.put_company(&t, &company).await.unwrap();
    assert_eq!(store.get_company(&t, &id).await.unwrap(), Some(company));
}

async fn concurrent_replacements_leave_consistent_indexes(store: Arc<dyn DirectoryStore>) {
    let t = tenant();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let store = store.clone();
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let g = format!("g{}", i % 3);
            store.put_user(&t, &user("7", &[&g], &[])).await.unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let final_user = store.get_user(&t, &uid("7")).await.unwrap().unwrap();
    for g in ["g0", "g1", "g2"] {
        let members = store.group_members(&t, &group(g)).await.unwrap();
        let expected = final_user.groups.contains(&group(g));
        assert_eq!(members.contains(&uid("7")), expected, "index of {g} matches the stored user");
    }
}

/// Quotas count a tenant's users and companies: a replacement is no new
/// one, a deletion frees one, another tenant's do not count.
async fn counts_users_and_companies_per_tenant(store: Arc<dyn DirectoryStore>) {
    let t = TenantId::parse(format!("count-{}", std::process::id())).unwrap();
    let other = TenantId::parse(format!("count-other-{}", std::process::id())).unwrap();
    assert_eq!(store.count_users(&t, 10).await.unwrap(), 0);
    for id in ["1", "2", "3"] {
        store.put_user(&t, &user(id, &["g"], &["acme"])).await.unwrap();
    }
    store.put_user(&t, &user("2", &[], &[])).await.unwrap();
    store.put_user(&other, &user("9", &[], &[])).await.unwrap();
    assert_eq!(store.count_users(&t, 10).await.unwrap(), 3);
    assert_eq!(store.count_users(&t, 2).await.unwrap(), 2, "counting stops at at_most");
    assert!(store.delete_user(&t, &uid("1")).await.unwrap());
    assert_eq!(store.count_users(&t, 10).await.unwrap(), 2);
    for id in ["acme", "globex", "acme"] {
        let company = Company { id: CompanyId::parse(id).unwrap(), name: id.into(), email: None, active: true };
        store.put_company(&t, &company).await.unwrap();
    }
    assert_eq!(store.count_companies(&t, 10).await.unwrap(), 2);
    assert_eq!(store.count_companies(&other, 10).await.unwrap(), 0);
    // Concurrent replacements of one company all succeed; one of them is kept.
    let tasks: Vec<_> = (0..6)
        .map(|n| {
            let (store, t) = (store.clone(), t.clone());
            tokio::spawn(async move {
                let company = Company { id: CompanyId::parse("acme").unwrap(), name: format!("Acme {n}"), email: None, active: true };
                store.put_company(&t, &company).await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert!(store.get_company(&t, &CompanyId::parse("acme").unwrap()).await.unwrap().unwrap().name.starts_with("Acme "));
    assert_eq!(store.count_companies(&t, 10).await.unwrap(), 2);
}

contract_on_both_stores!(
    users_round_trip_and_index_their_groups,
    companies_round_trip,
    concurrent_replacements_leave_consistent_indexes,
    counts_users_and_companies_per_tenant
);
