//! The worlds the in-process benches build through the library: users in a
//! group to notify (notifications-bench, costs-bench), and records with
//! subscriptions to check (subscriptions-bench, costs-bench).
#![allow(dead_code)] // not every bench binary that includes this module uses all of it
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use herald::adapters::aws::RequestCount;
use herald::directory::{Contact, ContactMethod, User, UserRequest};
use herald::domain::{EmailAddress, GroupName, ManualClock, RecordId, ResourceName, TenantId, UserId};
use herald::notifications::{Channel, RecipientSpec, SendRequest, TypeKey};
use herald::outbox::{Email, MailError, Mailer};
use herald::records::{Acl, RecordReport, ResourceRequest};
use herald::services::Services;
use herald::subscriptions::{Caller, SubscriptionRequest};
use herald::wiring::{Backend, LocalGateway, Wiring};
use serde_json::json;

/// A mailer that only counts what it is given.
#[derive(Default)]
pub struct CountingMailer(pub AtomicU64);

#[async_trait]
impl Mailer for CountingMailer {
    async fn send(&self, _: &Email) -> Result<String, MailError> {
        Ok(self.0.fetch_add(1, Ordering::Relaxed).to_string())
    }
}

pub struct Parts {
    pub tenant: TenantId,
    pub services: Services,
    /// DynamoDB requests of every store (zero when embedded).
    pub requests: RequestCount,
}

/// The services `wiring` builds, with a mailer that only counts, and
/// `recipients` users in the group `everyone`.
pub async fn parts<B: Backend>(wiring: Wiring<B, LocalGateway>, recipients: usize) -> anyhow::Result<Parts> {
    let mut adapters = wiring.adapters().await?;
    let tenant = TenantId::parse("bench")?;
    for i in 0..recipients {
        let user = User {
            id: UserId::parse(i.to_string())?,
            login: format!("user{i}"),
            email: None,
            active: true,
            groups: vec![GroupName::parse("everyone")?],
            companies: vec![],
            follower: None,
            account_type: None,
            locale: None,
            timezone: None,
            contacts: vec![Contact { method: ContactMethod::Email, address: EmailAddress::parse(format!("user{i}@bench.example"))?, priority: 0 }],
        };
        adapters.directory.put_user(&tenant, &user).await?;
    }
    adapters.mailer = Arc::new(CountingMailer::default());
    let requests = adapters.dynamodb_requests.clone();
    let services = wiring.services(adapters)?;
    Ok(Parts { tenant, services, requests })
}

pub fn request(channel: Channel, n: usize) -> anyhow::Result<SendRequest> {
    Ok(SendRequest {
        key: TypeKey::parse("message:internal")?,
        title: format!("Bench {n}"),
        body: "A notification body of a realistic size, a sentence or two long.".into(),
        body_html: None,
        recipients: RecipientSpec { groups: vec![GroupName::parse("everyone")?], ..Default::default() },
        due_at: None,
        until: None,
        force_channel: Some(channel),
        context: None,
        idempotency_key: None,
    })
}

pub struct World {
    pub tenant: TenantId,
    pub clock: Arc<ManualClock>,
    pub services: Services,
    /// DynamoDB requests of every store (zero when embedded).
    pub requests: RequestCount,
}

pub fn resource_name() -> ResourceName {
    ResourceName::parse("req").expect("name")
}

pub fn report(id: usize, priority: usize, public: bool) -> RecordReport {
    RecordReport {
        id: RecordId::parse(format!("R{id}")).expect("id"),
        fields: json!({"status": if id.is_multiple_of(7) { "closed" } else { "open" }, "priority": priority, "name": format!("Request {id}")})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        acl: if public { Acl { public: true, ..Default::default() } } else { Acl { groups: vec![GroupName::parse(format!("g{}", id % 10)).expect("group")], ..Default::default() } },
        deleted: false,
    }
}

/// Users, the resource, `records` records, then `due` immediate
/// subscriptions plus `idle` weekly ones (not due), then `changed` records
/// changed; the clock is moved past the first check time.
pub async fn world<B: Backend>(wiring: Wiring<B, LocalGateway>, users: usize, due: usize, idle: usize, records: usize, changed: usize) -> anyhow::Result<World> {
    let clock = Arc::new(ManualClock::new());
    let wiring = wiring.with_clock(clock.clone());
    let mut adapters = wiring.adapters().await?;
    adapters.mailer = Arc::new(CountingMailer::default());
    let requests = adapters.dynamodb_requests.clone();
    let services = wiring.services(adapters)?;
    let tenant = TenantId::parse("bench")?;
    for i in 0..users {
        let user: UserRequest = serde_json::from_value(json!({"login": format!("u{i}"), "email": format!("u{i}@bench.example"),
            "active": true, "groups": [format!("g{}", i % 10)], "companies": [], "follower": null, "account_type": null, "locale": null,
            "timezone": null, "contacts": []}))?;
        services.directory.put_user(&tenant, UserId::parse(i.to_string())?, user).await?;
    }
    let resource: ResourceRequest = serde_json::from_value(json!({"title": "Requests", "notify_fields": [], "notify_template": "notify"}))?;
    services.records.put_resource(&tenant, resource_name(), resource).await?;
    for i in 0..records {
        services.records.report(&tenant, &resource_name(), report(i, i % 5, i.is_multiple_of(2))).await?;
    }
    clock.advance(Duration::from_secs(60));
    for n in 0..due + idle {
        let user = UserId::parse((n % users).to_string())?;
        let frequency = if n < due { "immediately" } else { "weekly" };
        let request: SubscriptionRequest = serde_json::from_value(json!({"resources": ["req"], "frequency": frequency, "notify_on": ["new", "upd"],
            "methods": ["INAPP"], "filter": [["priority__ge", n % 5], ["status", "open"]]}))?;
        services.subscriptions.create(&tenant, &Caller { user: &user, admin: false }, request).await?;
    }
    clock.advance(Duration::from_secs(10));
    for i in 0..changed {
        let id = i * (records / changed.max(1)).max(1);
        services.records.report(&tenant, &resource_name(), report(id, (id + 1) % 5, id.is_multiple_of(2))).await?;
    }
    clock.advance(Duration::from_secs(360));
    Ok(World { tenant, clock, services, requests })
}

