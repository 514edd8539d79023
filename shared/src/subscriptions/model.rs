//! A subscription: who, to which resources, under which filter, about what
//! (new, updated), how often, by which methods; and the check's
//! bookkeeping (last check, next check, lease, failures).
use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::filter::Filter;
use crate::domain::{CompanyId, GroupName, ResourceName, SubscriptionId, TenantId, Timestamp, UserId};

pub const MAX_RESOURCES: usize = 16;

/// A user; or a group or a company, which see public records and those
/// shared with the whole group (company).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Subscriber {
    User(UserId),
    Group(GroupName),
    Company(CompanyId),
}

impl fmt::Display for Subscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::User(id) => write!(f, "user:{id}"),
            Self::Group(name) => write!(f, "group:{name}"),
            Self::Company(id) => write!(f, "company:{id}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotifyOn {
    New,
    Upd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// Every check (5 minutes).
    Immediately,
    Hourly,
    #[default]
    Daily,
    Weekly,
    Never,
}

impl Frequency {
    pub fn interval(self) -> Option<Duration> {
        match self {
            Self::Immediately => Some(Duration::from_secs(300)),
            Self::Hourly => Some(Duration::from_secs(3600)),
            Self::Daily => Some(Duration::from_secs(86_400)),
            Self::Weekly => Some(Duration::from_secs(7 * 86_400)),
            Self::Never => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Method {
    #[serde(rename = "EMAIL")]
    Email,
    #[serde(rename = "INAPP")]
    Inapp,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Inapp => "inapp",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmailFormat {
    Html,
    Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub tenant: TenantId,
    pub subscriber: Subscriber,
    pub resources: Vec<ResourceName>,
    pub filter: Filter,
    /// The filter as the caller wrote it (Eden's pairs), shown back.
    pub filter_source: Value,
    pub notify_on: BTreeSet<NotifyOn>,
    pub frequency: Frequency,
    pub methods: BTreeSet<Method>,
    pub email_format: Option<EmailFormat>,
    pub created_at: Timestamp,
    /// Changes after this are not yet reported.
    pub last_check_time: Timestamp,
    pub next_check_time: Timestamp,
    /// A check owns it until then; after, another may take over.
    pub lease_until: Option<Timestamp>,
    /// The end of the window the owning check reports on, fixed when it
    /// claimed the subscription: a check taking over after a crash reports
    /// the same window under the same digest ids, so nothing goes twice.
    #[serde(default)]
    pub pending_window_end: Option<Timestamp>,
    /// Consecutive failed checks; at the limit the subscription is
    /// suspended (no longer due) until it is saved again.
    pub failures: u32,
    pub suspended: bool,
    pub last_error: Option<String>,
    pub version: u64,
}

impl Subscription {
    /// A new subscription, created at `now`, with nothing to watch yet and
    /// never checked: the service gives it its settings.
    pub fn new(id: SubscriptionId, tenant: TenantId, subscriber: Subscriber, now: Timestamp) -> Self {
        Self {
            id,
            tenant,
            subscriber,
            resources: Vec::new(),
            filter: Filter::default(),
            filter_source: Value::Null,
            notify_on: BTreeSet::new(),
            frequency: Frequency::Never,
            methods: BTreeSet::new(),
            email_format: None,
            created_at: now,
            last_check_time: now,
            next_check_time: now,
            lease_until: None,
            pending_window_end: None,
            failures: 0,
            suspended: false,
            last_error: None,
            version: 1,
        }
    }

    /// Whether the check should look at it at all.
    pub fn is_scheduled(&self) -> bool {
        self.frequency != Frequency::Never && !self.suspended
    }

    /// Its time in the due index: the next check, or while a check holds it,
    /// the end of that lease (when another may take over). So a run reading
    /// the head of the index never meets subscriptions it cannot claim.
    pub fn due_index_at(&self) -> Option<Timestamp> {
        self.is_scheduled().then(|| self.lease_until.map_or(self.next_check_time, |lease| lease.max(self.next_check_time)))
    }
}
