//! The subscription check (every 5 minutes): due subscriptions → records
//! changed in their window (the change log, per resource) → filter →
//! readable by the subscriber → new/updated per `notify_on` → one digest per
//! subscription and method, published through the notifier and the outbox.
//!
//! Fixes of Eden's faults: the lease expires (a crash never locks a
//! subscription); a failure backs off and, after a limit, suspends the
//! subscription; `notify_on` is honoured; windows are contiguous
//! (`[last_check_time, window_end)`, and the next one starts where this one
//! ended), and the window ends a grace period before the check starts, so a
//! change still being written when the check reads is in the next window;
//! the cost follows due subscriptions and changed records, never totals.
use futures::StreamExt as _;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::filter::Filter;
use super::model::{EmailFormat, Method, NotifyOn, Subscriber, Subscription};
use super::render::{self, DigestContext, ResourceView};
use super::store::SubscriptionStore;
use super::template_store::TemplateStore;
use crate::directory::{DirectoryStore, User};
use crate::domain::{Clock, NotificationId, ResourceName, StoreError, SubscriptionId, TenantId, Timestamp, UserId, WriteError};
use crate::notifications::{Channel, Notification, NotificationStatus, Notifier, RecipientSpec, StatusType, TypeKey};
use crate::records::{Acl, Record, RecordStore, Resource};

/// Due subscriptions taken per store query by a run.
const DUE_BATCH: usize = 1000;
/// Due subscriptions checked at once by one run: enough that the embedded
/// store commits the writes of many together (and DynamoDB's requests
/// overlap), few enough that memory stays small (docs/benchmarks.md).
const CHECK_CONCURRENCY: usize = 256;

#[derive(Debug, Clone)]
pub struct CheckerSettings {
    /// The system name in subjects and templates (`HERALD_SYSTEM_NAME`).
    pub system_name: String,
    /// For subscriptions without their own (`HERALD_EMAIL_FORMAT`).
    pub email_format: EmailFormat,
    /// How long one check owns a subscription.
    pub lease: Duration,
    /// How far before its start a check's window ends: longer than any
    /// record write takes (the api function's timeout), plus clock skew.
    pub grace: Duration,
    /// Consecutive failures before a subscription is suspended.
    pub max_failures: u32,
}

impl Default for CheckerSettings {
    fn default() -> Self {
        Self {
            system_name: "Herald".into(),
            email_format: EmailFormat::Html,
            lease: Duration::from_secs(300),
            grace: Duration::from_secs(30),
            max_failures: 5,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SubscriptionCheckReport {
    pub checked: usize,
    pub digests: usize,
    pub failed: usize,
}

#[derive(Clone)]
pub struct Checker {
    subscriptions: Arc<dyn SubscriptionStore>,
    records: Arc<dyn RecordStore>,
    directory: Arc<dyn DirectoryStore>,
    templates: Arc<dyn TemplateStore>,
    notifier: Notifier,
    clock: Arc<dyn Clock>,
    settings: CheckerSettings,
}

/// What one check run reads once and shares between its subscriptions.
#[derive(Default)]
struct RunCache {
    changes: HashMap<(TenantId, ResourceName), Changes>,
    resources: HashMap<(TenantId, ResourceName), Option<Resource>>,
    templates: render::TemplateCache,
    /// Subscribers, read once per run (a user has several subscriptions).
    users: HashMap<(TenantId, UserId), Option<User>>,
}

/// Users one run keeps; past this each is read again.
const MAX_KEPT_USERS: usize = 100_000;

/// One resource's change-log read: the latest version of each record
/// changed in `[from, to)`, ordered by that version's time. A subscription
/// whose window starts later takes the tail from its own start: a record
/// changed in its window has its latest version there. Memory stays one
/// list per resource, not one per subscription, and no subscription
/// re-reads or re-sorts the log.
struct Changes {
    from: Timestamp,
    to: Timestamp,
    latest: Arc<Vec<Record>>,
    /// Each of `latest` as a digest row, made when a digest first lists it.
    rows: Rows,
    /// Which of `latest` pass a filter, by the filter's JSON (its text is
    /// for people and may say `2` for both 2 and "2"): subscriptions
    /// mostly share a few filters, so each is evaluated once per record
    /// and run, not once per subscription.
    matching: HashMap<String, Arc<Vec<bool>>>,
}

/// Distinct filters whose results one change list keeps, and results in
/// all (one byte each); past these a subscription's filter is evaluated on
/// its own.
const MAX_KEPT_FILTERS: usize = 1024;
const MAX_KEPT_RESULTS: usize = 4 << 20;

/// A change list's rows, one slot per record, filled on first use.
type Rows = Arc<Vec<OnceLock<render::Row>>>;

fn empty_rows(len: usize) -> Rows {
    Arc::new((0..len).map(|_| OnceLock::new()).collect())
}

/// What a subscription reads of a change list: its records, their rows,
/// where its window starts in them, and which pass its filter.
struct ChangeView {
    latest: Arc<Vec<Record>>,
    rows: Rows,
    start: usize,
    matching: Arc<Vec<bool>>,
}

/// Which records of `latest` pass `filter`.
fn evaluate(filter: &Filter, latest: &[Record]) -> Arc<Vec<bool>> {
    Arc::new(latest.iter().map(|record| filter.matches(&record.fields)).collect())
}

impl Changes {
    fn matching(&mut self, filter: &Filter) -> Arc<Vec<bool>> {
        let Ok(key) = serde_json::to_string(filter) else { return evaluate(filter, &self.latest) };
        if let Some(found) = self.matching.get(&key) {
            return found.clone();
        }
        let found = evaluate(filter, &self.latest);
        let kept = self.matching.len();
        if kept < MAX_KEPT_FILTERS && (kept + 1).saturating_mul(self.latest.len()) <= MAX_KEPT_RESULTS {
            self.matching.insert(key, found.clone());
        }
        found
    }
}

/// The latest version of each record of `log` (oldest first), in the same
/// order.
fn latest_versions(log: Vec<Record>) -> Vec<Record> {
    let mut seen = std::collections::HashSet::new();
    let mut latest: Vec<Record> = log.into_iter().rev().filter(|r| seen.insert(r.id.clone())).collect();
    latest.reverse();
    latest
}

fn readable(acl: &Acl, subscriber: &Subscriber, user: Option<&User>) -> bool {
    if acl.public {
        return true;
    }
    match (subscriber, user) {
        (Subscriber::User(_), Some(user)) => {
            acl.users.contains(&user.id)
                || acl.groups.iter().any(|g| user.groups.contains(g))
                || acl.companies.iter().any(|c| user.companies.contains(c))
        }
        // A record shared with a group (company) is readable by every
        // member, so the group's (company's) digest may carry it; nothing
        // shared with only some of its members is.
        (Subscriber::Group(name), _) => acl.groups.contains(name),
        (Subscriber::Company(id), _) => acl.companies.contains(id),
        (Subscriber::User(_), None) => false,
    }
}

fn recipients(subscriber: &Subscriber) -> RecipientSpec {
    match subscriber {
        Subscriber::User(id) => RecipientSpec { users: vec![id.clone()], ..Default::default() },
        Subscriber::Group(name) => RecipientSpec { groups: vec![name.clone()], ..Default::default() },
        Subscriber::Company(id) => RecipientSpec { companies: vec![id.clone()], ..Default::default() },
    }
}

impl Checker {
    pub fn new(
        subscriptions: Arc<dyn SubscriptionStore>,
        records: Arc<dyn RecordStore>,
        directory: Arc<dyn DirectoryStore>,
        templates: Arc<dyn TemplateStore>,
        notifier: Notifier,
        clock: Arc<dyn Clock>,
        settings: CheckerSettings,
    ) -> Self {
        Self { subscriptions, records, directory, templates, notifier, clock, settings }
    }

    pub async fn run(&self) -> Result<SubscriptionCheckReport, StoreError> {
        let mut report = SubscriptionCheckReport::default();
        let mut seen = std::collections::BTreeSet::new();
        let cache = Arc::new(tokio::sync::Mutex::new(RunCache::default()));
        // One window end for the whole run, so subscriptions share reads.
        let start = self.clock.now();
        let window_end = Timestamp::from_millis(start.as_millis() - i64::try_from(self.settings.grace.as_millis()).unwrap_or(0));
        loop {
            let now = self.clock.now();
            let due = self.subscriptions.due(now, DUE_BATCH).await?;
            let fresh: Vec<(TenantId, SubscriptionId)> = due.into_iter().filter(|d| seen.insert(d.clone())).collect();
            if fresh.is_empty() {
                return Ok(report);
            }
            // The batch's subscriptions are read first, then each resource's
            // changes once from the batch's earliest window start: what a
            // run reads does not depend on the order its tasks run in.
            let mut due: Vec<Subscription> = self
                .subscriptions
                .get_many(&fresh)
                .await?
                .into_iter()
                .filter(|s| s.is_scheduled() && s.next_check_time <= now && s.lease_until.is_none_or(|l| l <= now))
                .collect();
            self.read_changes(&due, window_end, &mut *cache.lock().await).await;
            // In key order: the writes of subscriptions checked at the same
            // time touch neighbouring rows, so a commit writes fewer pages.
            due.sort_by(|a, b| (&a.tenant, &a.id).cmp(&(&b.tenant, &b.id)));
            // Several subscriptions at a time: each is claimed, processed and
            // finished by a task of its own (so filters and templates use
            // every core), and the store's writes of several are committed
            // together.
            let outcomes: Vec<Result<Option<Result<usize, ()>>, StoreError>> = futures::stream::iter(due)
                .map(|current| {
                    let (checker, cache) = (self.clone(), cache.clone());
                    async move {
                        tokio::spawn(async move { checker.check_one(current, window_end, &cache).await })
                            .await
                            .unwrap_or_else(|e| Err(StoreError::Unavailable(format!("a subscription check stopped: {e}"))))
                    }
                })
                .buffer_unordered(CHECK_CONCURRENCY)
                .collect()
                .await;
            for outcome in outcomes {
                match outcome? {
                    None => {}
                    Some(Ok(digests)) => {
                        report.checked += 1;
                        report.digests += digests;
                    }
                    Some(Err(())) => {
                        report.checked += 1;
                        report.failed += 1;
                    }
                }
            }
        }
    }

    /// Reads, into the run's cache, each resource of `due` and its changes
    /// up to the run's window end from the earliest window start of the
    /// subscriptions that read it (a crashed check's window, which ends
    /// elsewhere, is read on its own). A resource whose read fails is left
    /// out: each subscription reading it then reads it itself and fails on
    /// its own (backing off), not the whole run.
    async fn read_changes(&self, due: &[Subscription], run_window_end: Timestamp, cache: &mut RunCache) {
        let mut earliest: HashMap<(TenantId, ResourceName), Timestamp> = HashMap::new();
        for subscription in due.iter().filter(|s| s.pending_window_end.is_none_or(|end| end == run_window_end)) {
            for resource in &subscription.resources {
                let from = earliest.entry((subscription.tenant.clone(), resource.clone())).or_insert(subscription.last_check_time);
                *from = (*from).min(subscription.last_check_time);
            }
        }
        for ((tenant, resource), from) in earliest {
            let cached = cache.changes.get(&(tenant.clone(), resource.clone()));
            if from >= run_window_end || cached.is_some_and(|c| c.to == run_window_end && c.from <= from) {
                continue;
            }
            let read = match self.resource(cache, &tenant, &resource).await {
                Ok(Some(_)) => self.records.changes(&tenant, &resource, from, run_window_end).await,
                Ok(None) => continue,
                Err(e) => Err(e),
            };
            match read {
                Ok(log) => {
                    let latest = Arc::new(latest_versions(log));
                    let rows = empty_rows(latest.len());
                    cache.changes.insert((tenant, resource), Changes { from, to: run_window_end, latest, rows, matching: HashMap::new() });
                }
                Err(e) => tracing::warn!(%tenant, %resource, error = %e, "a resource's changes could not be read for the batch; its subscriptions read them on their own"),
            }
        }
    }

    /// Checks one due subscription, as read: `None` if it was not ours to
    /// check, else its digests or that it failed. The digests are composed
    /// from reads first; only a subscription with something to send is
    /// claimed (its window recorded under a lease, so a retry after a crash
    /// sends the same digests, created once under ids derived from the
    /// window), and one with nothing to send moves on in one conditional
    /// write (on the version read: a change since is left to stand).
    async fn check_one(&self, current: Subscription, run_window_end: Timestamp, cache: &tokio::sync::Mutex<RunCache>) -> Result<Option<Result<usize, ()>>, StoreError> {
        let id = current.id.clone();
        // A crashed check's window, else the run's.
        let window = Subscription { pending_window_end: Some(current.pending_window_end.unwrap_or(run_window_end)), ..current };
        let digests = match self.compose(&window, cache).await {
            Ok(digests) => digests,
            Err(e) => {
                tracing::warn!(subscription = %id, error = %e, "subscription check failed; backing off");
                return Ok(self.finish(&window, Some(e.to_string())).await?.then_some(Err(())));
            }
        };
        if digests.is_empty() {
            return Ok(self.finish(&window, None).await?.then_some(Ok(0)));
        }
        let Some(claimed) = self.claim(&window).await? else { return Ok(None) };
        let sent = digests.len();
        for digest in digests {
            if let Err(e) = self.notifier.publish_new(digest).await {
                tracing::warn!(subscription = %id, error = %e, "subscription check failed; backing off");
                self.finish(&claimed, Some(e.to_string())).await?;
                return Ok(Some(Err(())));
            }
        }
        self.finish(&claimed, None).await?;
        Ok(Some(Ok(sent)))
    }

    /// Takes the subscription, with its window, for this run with a
    /// conditional write, unless another check changed it since it was read.
    async fn claim(&self, window: &Subscription) -> Result<Option<Subscription>, StoreError> {
        let claimed = Subscription { lease_until: Some(self.clock.now().plus(self.settings.lease)), version: window.version + 1, ..window.clone() };
        match self.subscriptions.save(&claimed, Some(window.version)).await {
            Ok(()) => Ok(Some(claimed)),
            Err(WriteError::Conflict) => Ok(None),
            Err(WriteError::Store(e)) => Err(e),
        }
    }

    /// Records the outcome over the version `base` was read (or claimed)
    /// at: the next window on success; a backoff (and, at the limit,
    /// suspension) on failure, keeping the pending window so the retry sends
    /// the same digests. False if it changed meanwhile (a user's edit, or
    /// another check): theirs stands.
    async fn finish(&self, base: &Subscription, failure: Option<String>) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let window_end = base.pending_window_end.unwrap_or(base.last_check_time);
        let interval = base.frequency.interval().unwrap_or_default();
        let next = match failure {
            None => Subscription {
                last_check_time: window_end.max(base.last_check_time),
                next_check_time: window_end.max(base.last_check_time).plus(interval),
                lease_until: None,
                pending_window_end: None,
                failures: 0,
                last_error: None,
                version: base.version + 1,
                ..base.clone()
            },
            Some(error) => {
                let failures = base.failures + 1;
                let backoff = Duration::from_secs(60u64.saturating_mul(1 << failures.min(6))).min(Duration::from_secs(3600));
                Subscription {
                    next_check_time: now.plus(backoff),
                    lease_until: None,
                    failures,
                    suspended: failures >= self.settings.max_failures,
                    last_error: Some(error),
                    version: base.version + 1,
                    ..base.clone()
                }
            }
        };
        match self.subscriptions.save(&next, Some(base.version)).await {
            Ok(()) => Ok(true),
            Err(WriteError::Conflict) => Ok(false),
            Err(WriteError::Store(e)) => Err(e),
        }
    }

    /// The latest versions of the records changed in `[from, to)`: the
    /// cached list, where in it they start, and which of it pass `filter`.
    async fn changes(
        &self,
        cache: &mut RunCache,
        tenant: &TenantId,
        resource: &ResourceName,
        from: Timestamp,
        to: Timestamp,
        filter: &Filter,
    ) -> Result<ChangeView, StoreError> {
        let key = (tenant.clone(), resource.clone());
        if let Some(cached) = cache.changes.get_mut(&key) {
            if cached.to == to && cached.from <= from {
                let start = cached.latest.partition_point(|r| r.modified_on < from);
                return Ok(ChangeView { latest: cached.latest.clone(), rows: cached.rows.clone(), start, matching: cached.matching(filter) });
            }
        }
        let latest = Arc::new(latest_versions(self.records.changes(tenant, resource, from, to).await?));
        let rows = empty_rows(latest.len());
        // Keep the widest list for the run's common window end; a crashed
        // check's window (another end) never replaces it.
        let wider = cache.changes.get(&key).is_none_or(|cached| cached.to == to && from < cached.from);
        if wider {
            let mut changes = Changes { from, to, latest: latest.clone(), rows: rows.clone(), matching: HashMap::new() };
            let matching = changes.matching(filter);
            cache.changes.insert(key, changes);
            return Ok(ChangeView { latest, rows, start: 0, matching });
        }
        let matching = evaluate(filter, &latest);
        Ok(ChangeView { latest, rows, start: 0, matching })
    }

    async fn user(&self, cache: &tokio::sync::Mutex<RunCache>, tenant: &TenantId, id: &UserId) -> Result<Option<User>, StoreError> {
        let key = (tenant.clone(), id.clone());
        if let Some(user) = cache.lock().await.users.get(&key) {
            return Ok(user.clone());
        }
        let user = self.directory.get_user(tenant, id).await?;
        let mut cache = cache.lock().await;
        if cache.users.len() < MAX_KEPT_USERS {
            cache.users.insert(key, user.clone());
        }
        Ok(user)
    }

    async fn resource(&self, cache: &mut RunCache, tenant: &TenantId, name: &ResourceName) -> Result<Option<Resource>, StoreError> {
        let key = (tenant.clone(), name.clone());
        if let Some(resource) = cache.resources.get(&key) {
            return Ok(resource.clone());
        }
        let resource = self.records.get_resource(tenant, name).await?;
        cache.resources.insert(key, resource.clone());
        Ok(resource)
    }

    /// Each method's channel and bodies. A digest must fit one stored
    /// notification (and one email): while a body is over its limit, the
    /// listed rows are halved (the counts stay) and all are rendered again.
    /// Templates are looked up in the run's cache; rendering holds no lock.
    async fn bodies(&self, subscription: &Subscription, prefix: &str, context: &mut DigestContext, cache: &tokio::sync::Mutex<RunCache>) -> Result<Vec<(Channel, String, Option<String>)>, StoreError> {
        let mut templates = Vec::new();
        for method in &subscription.methods {
            let text = self.template(cache, &subscription.tenant, &render::lookup_names(prefix, *method, EmailFormat::Text), false).await?;
            let html = match (method, subscription.email_format.unwrap_or(self.settings.email_format)) {
                (Method::Email, EmailFormat::Html) => Some(self.template(cache, &subscription.tenant, &render::lookup_names(prefix, *method, EmailFormat::Html), true).await?),
                _ => None,
            };
            let channel = match method {
                Method::Email => Channel::Email,
                Method::Inapp => Channel::Message,
            };
            templates.push((channel, text, html));
        }
        loop {
            let bodies: Vec<(Channel, String, Option<String>)> = templates
                .iter()
                .map(|(channel, text, html)| (*channel, render::render_with(text.as_ref(), context), html.as_ref().map(|h| render::render_with(h.as_ref(), context))))
                .collect();
            let fits = bodies.iter().all(|(_, text, html)| text.len() <= render::MAX_DIGEST_TEXT_BYTES && html.as_ref().is_none_or(|h| h.len() <= render::MAX_DIGEST_HTML_BYTES));
            if fits {
                return Ok(bodies);
            }
            if !render::shrink(context) {
                tracing::warn!(subscription = %subscription.id, "digest over its size limit with no rows listed; using the fallback text");
                return Ok(bodies
                    .into_iter()
                    .map(|(channel, _, html)| (channel, render::FALLBACK_TEXT.to_owned(), html.map(|_| render::FALLBACK_TEXT.to_owned())))
                    .collect());
            }
        }
    }

    /// A lookup's compiled template, compiled once per run.
    async fn template(&self, cache: &tokio::sync::Mutex<RunCache>, tenant: &TenantId, names: &[String], html: bool) -> Result<Option<render::Compiled>, StoreError> {
        cache.lock().await.templates.find(self.templates.as_ref(), tenant, names, html).await
    }

    /// The digests of a subscription's window (`pending_window_end`), made
    /// from reads only: nothing is written or sent.
    async fn compose(&self, subscription: &Subscription, cache: &tokio::sync::Mutex<RunCache>) -> Result<Vec<Notification>, StoreError> {
        let tenant = &subscription.tenant;
        let from = subscription.last_check_time;
        let Some(to) = subscription.pending_window_end.filter(|to| *to > from) else { return Ok(Vec::new()) };
        let user = match &subscription.subscriber {
            Subscriber::User(id) => match self.user(cache, tenant, id).await?.filter(|u| u.active) {
                Some(user) => Some(user),
                // Unknown or inactive: nothing to send; the window moves on.
                None => return Ok(Vec::new()),
            },
            _ => None,
        };
        let mut views = Vec::new();
        let mut resources: Vec<Resource> = Vec::new();
        let mut listed = 0;
        for name in &subscription.resources {
            let Some(resource) = self.resource(&mut *cache.lock().await, tenant, name).await? else { continue };
            let ChangeView { latest, rows, start, matching } = self.changes(&mut *cache.lock().await, tenant, name, from, to, &subscription.filter).await?;
            let mut view = ResourceView {
                name: name.to_string(),
                title: resource.title.clone(),
                page_url: resource.page_url.clone(),
                new: vec![],
                upd: vec![],
                more_new: 0,
                more_upd: 0,
            };
            // Newest changes first: those are listed while the digest has
            // room; the rest are counted.
            for (index, record) in latest.iter().enumerate().skip(start).rev().filter(|(index, _)| matching.get(*index).is_some_and(|passes| *passes)) {
                if record.deleted || !readable(&record.acl, &subscription.subscriber, user.as_ref()) {
                    continue;
                }
                let kind = if record.created_on >= from { NotifyOn::New } else { NotifyOn::Upd };
                if !subscription.notify_on.contains(&kind) {
                    continue;
                }
                if listed >= render::MAX_DIGEST_ROWS {
                    match kind {
                        NotifyOn::New => view.more_new += 1,
                        NotifyOn::Upd => view.more_upd += 1,
                    }
                    continue;
                }
                listed += 1;
                let row = match rows.get(index) {
                    Some(slot) => slot.get_or_init(|| render::row(&resource, record)).clone(),
                    None => render::row(&resource, record),
                };
                match kind {
                    NotifyOn::New => view.new.push(row),
                    NotifyOn::Upd => view.upd.push(row),
                }
            }
            // Rows by record id, whatever order the changes came in.
            view.new.sort_by(|a, b| a.id.cmp(&b.id));
            view.upd.sort_by(|a, b| a.id.cmp(&b.id));
            views.push(view);
            resources.push(resource);
        }
        let (total_new, total_upd) = views.iter().fold((0, 0), |(n, u), v| (n + v.new.len() + v.more_new, u + v.upd.len() + v.more_upd));
        if total_new + total_upd == 0 {
            return Ok(Vec::new());
        }
        views.retain(|v| v.new.len() + v.upd.len() + v.more_new + v.more_upd > 0);
        let titles = views.iter().map(|v| v.title.clone()).collect::<Vec<_>>().join(", ");
        let mut context = DigestContext {
            system: self.settings.system_name.clone(),
            resource: titles.clone(),
            notify_on: subscription.notify_on.iter().copied().collect(),
            last_check_time: from.to_rfc3339(),
            filter: subscription.filter.to_string(),
            total: total_new + total_upd,
            total_new,
            total_upd,
            more: views.iter().map(|v| v.more_new + v.more_upd).sum(),
            resources: views,
        };
        let first = resources.first();
        let prefix = first.map_or("notify", |r| r.notify_template.as_str());
        let subject = render::subject(first.and_then(|r| r.notify_subject.as_deref()), &self.settings.system_name, &titles);
        let bodies = self.bodies(subscription, prefix, &mut context, cache).await?;
        let mut digests = Vec::new();
        for (method, (channel, body, body_html)) in subscription.methods.iter().zip(bodies) {
            let source = format!("{tenant}/{}/{}/{}", subscription.id, to.as_millis(), method.name());
            let now = self.clock.now();
            digests.push(Notification {
                id: NotificationId::derived(&source),
                tenant: tenant.clone(),
                key: TypeKey::parse("subscription:digest").map_err(|e| StoreError::Corrupt(e.to_string()))?,
                title: subject.clone(),
                body,
                body_html,
                channel,
                status_type: StatusType::Neutral,
                recipients: recipients(&subscription.subscriber),
                due_at: now,
                until: None,
                context: None,
                status: NotificationStatus::Publishing,
                revision: 1,
                lease_until: None,
                created_at: now,
                published_at: None,
                cancel_reason: None,
                version: 1,
            });
        }
        Ok(digests)
    }
}
