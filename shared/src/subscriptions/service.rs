//! Managing subscriptions: users manage their own; admins any, and only
//! admins subscribe a group or a company. Everything is checked when saved
//! (filters included), never at check time.
use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;

use super::filter::Filter;
use super::model::{EmailFormat, Frequency, Method, NotifyOn, Subscriber, Subscription, MAX_RESOURCES};
use super::store::SubscriptionStore;
use crate::domain::{Clock, ResourceName, StoreError, SubscriptionId, TenantId, UserId, WriteError};
use crate::records::RecordStore;

/// A subscription as a caller asks for it (POST, or PUT to replace).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionRequest {
    #[serde(default)]
    pub subscriber: Option<Subscriber>,
    pub resources: Vec<ResourceName>,
    #[serde(default)]
    pub filter: Value,
    #[serde(default)]
    pub notify_on: Option<Vec<NotifyOn>>,
    #[serde(default)]
    pub frequency: Option<Frequency>,
    #[serde(default)]
    pub methods: Option<Vec<Method>>,
    #[serde(default)]
    pub email_format: Option<EmailFormat>,
}

/// Who is asking.
pub struct Caller<'a> {
    pub user: &'a UserId,
    pub admin: bool,
}

impl Caller<'_> {
    fn may_manage(&self, subscriber: &Subscriber) -> bool {
        self.admin || subscriber == &Subscriber::User(self.user.clone())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("no such subscription")]
    NotFound,
    #[error("{0}")]
    QuotaExceeded(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The most subscriptions one page of a list holds.
pub const MAX_PAGE: usize = 100;

/// How many subscriptions a subscriber may have
/// (`HERALD_MAX_SUBSCRIPTIONS_PER_SUBSCRIBER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionQuota(pub usize);

impl Default for SubscriptionQuota {
    fn default() -> Self {
        Self(100)
    }
}

/// A page of a subscriber's subscriptions and the cursor of the next.
#[derive(Debug, Clone)]
pub struct SubscriptionPage {
    pub subscriptions: Vec<Subscription>,
    pub next: Option<SubscriptionId>,
}

#[derive(Clone)]
pub struct Subscriptions {
    store: Arc<dyn SubscriptionStore>,
    records: Arc<dyn RecordStore>,
    clock: Arc<dyn Clock>,
    quota: SubscriptionQuota,
}

struct Settings {
    subscriber: Subscriber,
    resources: Vec<ResourceName>,
    filter: Filter,
    filter_source: Value,
    notify_on: BTreeSet<NotifyOn>,
    frequency: Frequency,
    methods: BTreeSet<Method>,
    email_format: Option<EmailFormat>,
}

impl Settings {
    /// Puts these settings on `subscription`: its next check is one
    /// interval after its last, and a suspended one is scheduled again.
    fn apply(self, subscription: &mut Subscription) {
        subscription.next_check_time = subscription.last_check_time.plus(self.frequency.interval().unwrap_or_default());
        subscription.resources = self.resources;
        subscription.filter = self.filter;
        subscription.filter_source = self.filter_source;
        subscription.notify_on = self.notify_on;
        subscription.frequency = self.frequency;
        subscription.methods = self.methods;
        subscription.email_format = self.email_format;
        subscription.failures = 0;
        subscription.suspended = false;
        subscription.last_error = None;
    }
}

impl Subscriptions {
    pub fn new(store: Arc<dyn SubscriptionStore>, records: Arc<dyn RecordStore>, clock: Arc<dyn Clock>, quota: SubscriptionQuota) -> Self {
        Self { store, records, clock, quota }
    }

    async fn settings(&self, tenant: &TenantId, caller: &Caller<'_>, request: SubscriptionRequest) -> Result<Settings, SubscriptionError> {
        let invalid = |m: String| Err(SubscriptionError::Invalid(m));
        let subscriber = request.subscriber.unwrap_or_else(|| Subscriber::User(caller.user.clone()));
        if !caller.may_manage(&subscriber) {
            let what = if matches!(subscriber, Subscriber::User(_)) { "another user" } else { "a group or a company" };
            return Err(SubscriptionError::Forbidden(format!("only admins may subscribe {what}")));
        }
        let resources: Vec<ResourceName> = request.resources.into_iter().collect::<BTreeSet<_>>().into_iter().collect();
        if resources.is_empty() || resources.len() > MAX_RESOURCES {
            return invalid(format!("resources: 1 to {MAX_RESOURCES} resource names"));
        }
        for resource in &resources {
            if self.records.get_resource(tenant, resource).await?.is_none() {
                return invalid(format!("resources: no resource '{resource}'"));
            }
        }
        let filter = Filter::parse(&request.filter).map_err(|e| SubscriptionError::Invalid(format!("filter: {e}")))?;
        let notify_on: BTreeSet<NotifyOn> = request.notify_on.unwrap_or_else(|| vec![NotifyOn::New]).into_iter().collect();
        if notify_on.is_empty() {
            return invalid("notify_on: at least one of new, upd".into());
        }
        let methods: BTreeSet<Method> = request.methods.unwrap_or_else(|| vec![Method::Email]).into_iter().collect();
        if methods.is_empty() {
            return invalid("methods: at least one of EMAIL, INAPP".into());
        }
        Ok(Settings {
            subscriber,
            resources,
            filter,
            filter_source: request.filter,
            notify_on,
            frequency: request.frequency.unwrap_or_default(),
            methods,
            email_format: request.email_format,
        })
    }

    pub async fn create(&self, tenant: &TenantId, caller: &Caller<'_>, request: SubscriptionRequest) -> Result<Subscription, SubscriptionError> {
        let settings = self.settings(tenant, caller, request).await?;
        // Counted, then created: concurrent creates may pass the quota by
        // as many as run at once, never more.
        let SubscriptionQuota(quota) = self.quota;
        if self.store.count_of_subscriber(tenant, &settings.subscriber, quota).await? >= quota {
            return Err(SubscriptionError::QuotaExceeded(format!(
                "{} has {quota} subscriptions, the most one subscriber may have: delete one first",
                settings.subscriber
            )));
        }
        let mut subscription = Subscription::new(SubscriptionId::random(), tenant.clone(), settings.subscriber.clone(), self.clock.now());
        settings.apply(&mut subscription);
        match self.store.save(&subscription, None).await {
            Ok(()) => Ok(subscription),
            Err(WriteError::Conflict) => Err(StoreError::Contention.into()),
            Err(WriteError::Store(e)) => Err(e.into()),
        }
    }

    /// The subscription, if the caller may see it (anyone else's is not found).
    pub async fn get(&self, tenant: &TenantId, caller: &Caller<'_>, id: &SubscriptionId) -> Result<Subscription, SubscriptionError> {
        match self.store.get(tenant, id).await? {
            Some(s) if caller.may_manage(&s.subscriber) => Ok(s),
            _ => Err(SubscriptionError::NotFound),
        }
    }

    /// Replaces the settings (the subscriber stays); a suspended
    /// subscription is scheduled again.
    pub async fn replace(&self, tenant: &TenantId, caller: &Caller<'_>, id: &SubscriptionId, request: SubscriptionRequest) -> Result<Subscription, SubscriptionError> {
        for _ in 0..16 {
            let current = self.get(tenant, caller, id).await?;
            let request = SubscriptionRequest { subscriber: Some(request.subscriber.clone().unwrap_or_else(|| current.subscriber.clone())), ..request.clone() };
            let settings = self.settings(tenant, caller, request).await?;
            if settings.subscriber != current.subscriber {
                return Err(SubscriptionError::Invalid("the subscriber of a subscription cannot change".into()));
            }
            let mut replaced = current.clone();
            settings.apply(&mut replaced);
            replaced.version = current.version + 1;
            match self.store.save(&replaced, Some(current.version)).await {
                Ok(()) => return Ok(replaced),
                Err(WriteError::Conflict) => continue,
                Err(WriteError::Store(e)) => return Err(e.into()),
            }
        }
        Err(StoreError::Contention.into())
    }

    pub async fn delete(&self, tenant: &TenantId, caller: &Caller<'_>, id: &SubscriptionId) -> Result<(), SubscriptionError> {
        for _ in 0..16 {
            let current = self.get(tenant, caller, id).await?;
            match self.store.delete(&current, current.version).await {
                Ok(()) => return Ok(()),
                Err(WriteError::Conflict) => continue,
                Err(WriteError::Store(e)) => return Err(e.into()),
            }
        }
        Err(StoreError::Contention.into())
    }

    /// A page of the caller's own subscriptions, or (admins) a given
    /// subscriber's: at most `limit` (1 to [`MAX_PAGE`]), by id, after `after`.
    pub async fn list(
        &self,
        tenant: &TenantId,
        caller: &Caller<'_>,
        subscriber: Option<Subscriber>,
        after: Option<&SubscriptionId>,
        limit: usize,
    ) -> Result<SubscriptionPage, SubscriptionError> {
        let subscriber = subscriber.unwrap_or_else(|| Subscriber::User(caller.user.clone()));
        if !caller.may_manage(&subscriber) {
            return Err(SubscriptionError::Forbidden("only admins may list another subscriber's subscriptions".into()));
        }
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(SubscriptionError::Invalid(format!("limit is 1 to {MAX_PAGE}")));
        }
        // One more than asked: whether there is a next page.
        let mut subscriptions = self.store.of_subscriber(tenant, &subscriber, after, limit + 1).await?;
        let next = (subscriptions.len() > limit).then(|| {
            subscriptions.truncate(limit);
            subscriptions.last().map(|s| s.id.clone())
        });
        Ok(SubscriptionPage { subscriptions, next: next.flatten() })
    }
}
