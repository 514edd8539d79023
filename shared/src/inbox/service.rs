//! The signed-in user's inbox: list (unread and due by default, filtered,
//! paginated), read, read all, postpone, delete. Every call is scoped to
//! one user's partition, so another user's item is simply not found. The
//! scheduled check pushes postponed items as they come due (`push_due`).
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::model::{InboxId, InboxItem};
use super::store::InboxStore;
use crate::domain::{Clock, StoreError, TenantId, Timestamp, UserId, WriteError};
use crate::notifications::{Channel, TypeKey};

/// Items read from the store per page while filtering.
const PAGE: usize = 100;
/// Items examined by one list call before it answers with a cursor.
const MAX_EXAMINED: usize = 1000;
pub const MAX_LIMIT: usize = 100;
/// Items a list answers when the caller names no limit.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_POSTPONE_DAYS: u32 = 365;
/// A postpone without a number of days moves the item a week on.
pub const DEFAULT_POSTPONE_DAYS: u32 = 7;
const DAY: Duration = Duration::from_secs(86_400);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReadState {
    #[default]
    Unread,
    Read,
    All,
}

#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub state: ReadState,
    pub channel: Option<Channel>,
    pub key: Option<TypeKey>,
    /// Unread items show once due; this looks ahead (or back) instead of now.
    pub due_before: Option<Timestamp>,
}

pub struct InboxPage {
    pub items: Vec<InboxItem>,
    /// Pass back as `cursor` for the next page; `None` at the end.
    pub next: Option<InboxId>,
}

#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("no such inbox item")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a user did to their inbox, as their open clients learn it.
#[derive(Debug, Clone, PartialEq)]
pub enum InboxChange {
    /// These items were read.
    Read(Vec<InboxItem>),
    /// Every unread item due was read.
    ReadAll,
    /// This item moved to a later due time (and is unread).
    Postponed(Box<InboxItem>),
    /// These items are gone (deleted, or replaced by a new revision).
    Deleted(Vec<InboxId>),
    /// These postponed items came due (and are unread).
    Due(Vec<InboxItem>),
}

/// The most item JSON one live message carries: a bus message stays well
/// within a DynamoDB item (400 KB) with a hundred items of 16 KiB bodies due.
pub const MAX_LIVE_ITEMS_BYTES: usize = 64 * 1024;

/// `items` in runs whose JSON is at most [`MAX_LIVE_ITEMS_BYTES`] (an item
/// larger than that alone: bodies are limited, so it still fits a message).
fn live_sized(items: Vec<InboxItem>) -> Vec<Vec<InboxItem>> {
    let mut runs: Vec<Vec<InboxItem>> = Vec::new();
    let mut bytes = 0;
    for item in items {
        let size = super::view::inbox_json(&item).to_string().len();
        match runs.last_mut() {
            Some(run) if bytes + size <= MAX_LIVE_ITEMS_BYTES => run.push(item),
            _ => {
                runs.push(vec![item]);
                bytes = 0;
            }
        }
        bytes += size;
    }
    runs
}

/// What an [`Inbox::push_due`] run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DueReport {
    /// Items come due, pushed to their users' clients.
    pub pushed: usize,
    /// Users told.
    pub users: usize,
}

/// Tells a user's open clients that their inbox changed, with the unread
/// count after it (the bus's `notification:<uid>`: `wiring.rs` plugs it in).
#[async_trait]
pub trait InboxWatch: Send + Sync {
    async fn changed(&self, tenant: &TenantId, user: &UserId, unread: usize, change: &InboxChange) -> Result<(), StoreError>;
}

#[derive(Clone)]
pub struct Inbox {
    store: Arc<dyn InboxStore>,
    clock: Arc<dyn Clock>,
    read_retention: Duration,
    watch: Option<Arc<dyn InboxWatch>>,
}

impl Inbox {
    pub fn new(store: Arc<dyn InboxStore>, clock: Arc<dyn Clock>, read_retention: Duration) -> Self {
        Self { store, clock, read_retention, watch: None }
    }

    /// Every change is told to `watch` once made.
    pub fn watched_by(self, watch: Arc<dyn InboxWatch>) -> Self {
        Self { watch: Some(watch), ..self }
    }

    /// Tells the watch, if any, after a change was made: the change stands
    /// whatever happens here, so a failure is logged, not returned (the
    /// clients' count is then refreshed by the next change or list).
    async fn tell(&self, tenant: &TenantId, user: &UserId, change: InboxChange) {
        let Some(watch) = &self.watch else { return };
        let told = match self.unread_count(tenant, user).await {
            Ok(unread) => watch.changed(tenant, user, unread, &change).await,
            Err(e) => Err(e),
        };
        if let Err(e) = told {
            tracing::warn!(tenant = %tenant, user = %user, error = %e, "inbox change not pushed to the user's clients");
        }
    }

    /// Puts a delivered item in its user's inbox, once: `false` if an item
    /// with its id is there already.
    pub async fn add(&self, item: &InboxItem) -> Result<bool, StoreError> {
        self.store.insert(item).await
    }

    fn matches(filter: &InboxFilter, item: &InboxItem, now: Timestamp) -> bool {
        if item.is_expired(now) {
            return false;
        }
        let due_limit = filter.due_before.unwrap_or(Timestamp::from_millis(now.as_millis().saturating_add(1)));
        let state_ok = match filter.state {
            ReadState::Unread => item.read_at.is_none() && item.due_at < due_limit,
            ReadState::Read => item.read_at.is_some(),
            ReadState::All => filter.due_before.is_none_or(|limit| item.due_at < limit),
        };
        state_ok && filter.channel.is_none_or(|c| c == item.channel) && filter.key.as_ref().is_none_or(|k| *k == item.key)
    }

    pub async fn list(
        &self,
        tenant: &TenantId,
        user: &UserId,
        filter: &InboxFilter,
        cursor: Option<InboxId>,
        limit: usize,
    ) -> Result<InboxPage, StoreError> {
        let now = self.clock.now();
        let limit = limit.clamp(1, MAX_LIMIT);
        let mut items = Vec::new();
        let mut before = cursor;
        let mut examined = 0;
        loop {
            let page = self.store.page(tenant, user, before.as_ref(), PAGE).await?;
            let exhausted = page.len() < PAGE;
            for item in page {
                examined += 1;
                before = Some(item.id.clone());
                if Self::matches(filter, &item, now) {
                    items.push(item);
                    if items.len() == limit {
                        return Ok(InboxPage { items, next: before });
                    }
                }
                if examined >= MAX_EXAMINED {
                    return Ok(InboxPage { items, next: before });
                }
            }
            if exhausted {
                return Ok(InboxPage { items, next: None });
            }
        }
    }

    /// Removes the user's items showing earlier revisions of `item`'s
    /// notification (a republication replaces what it supersedes, read or
    /// not); their ids. Looks at the newest items only, as a list does.
    pub async fn remove_superseded(&self, tenant: &TenantId, user: &UserId, item: &InboxItem) -> Result<Vec<InboxId>, StoreError> {
        let revision = item.id.revision();
        let mut removed = Vec::new();
        let mut before: Option<InboxId> = None;
        let mut examined = 0;
        loop {
            let page = self.store.page(tenant, user, before.as_ref(), PAGE).await?;
            let exhausted = page.len() < PAGE;
            for old in page {
                examined += 1;
                if old.notification == item.notification && old.id.revision() < revision && self.store.delete(tenant, user, &old.id).await? {
                    removed.push(old.id.clone());
                }
                before = Some(old.id);
            }
            if exhausted || examined >= MAX_EXAMINED {
                return Ok(removed);
            }
        }
    }

    /// Unread items due now: the `count` of the live message.
    pub async fn unread_count(&self, tenant: &TenantId, user: &UserId) -> Result<usize, StoreError> {
        let page = self.list(tenant, user, &InboxFilter::default(), None, MAX_LIMIT).await?;
        let mut count = page.items.len();
        let mut next = page.next;
        while let Some(cursor) = next.take() {
            let page = self.list(tenant, user, &InboxFilter::default(), Some(cursor), MAX_LIMIT).await?;
            count += page.items.len();
            next = page.next;
            if count >= MAX_EXAMINED {
                break;
            }
        }
        Ok(count)
    }

    pub async fn get(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<InboxItem, InboxError> {
        let now = self.clock.now();
        self.store.get(tenant, user, id).await?.filter(|i| !i.is_expired(now)).ok_or(InboxError::NotFound)
    }

    /// Applies `change` with a conditional write, re-reading on a conflict;
    /// the item, and whether `change` changed it.
    async fn update(
        &self,
        tenant: &TenantId,
        user: &UserId,
        id: &InboxId,
        change: impl Fn(&mut InboxItem, Timestamp),
    ) -> Result<(InboxItem, bool), InboxError> {
        for _ in 0..16 {
            let current = self.get(tenant, user, id).await?;
            let mut next = current.clone();
            change(&mut next, self.clock.now());
            if next == current {
                return Ok((current, false));
            }
            next.version = current.version + 1;
            match self.store.replace(&next, current.version).await {
                Ok(()) => return Ok((next, true)),
                Err(WriteError::Conflict) => continue,
                Err(WriteError::Store(e)) => return Err(e.into()),
            }
        }
        Err(StoreError::Contention.into())
    }

    pub async fn mark_read(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<InboxItem, InboxError> {
        let (item, changed) = self.read_one(tenant, user, id).await?;
        if changed {
            self.tell(tenant, user, InboxChange::Read(vec![item.clone()])).await;
        }
        Ok(item)
    }

    /// Marks one item read; whether it was unread.
    async fn read_one(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<(InboxItem, bool), InboxError> {
        let retention = self.read_retention;
        self.update(tenant, user, id, |item, now| {
            if item.read_at.is_none() {
                item.read_at = Some(now);
                item.expires_at = Some(now.plus(retention));
                item.push_when_due = false;
            }
        })
        .await
    }

    /// Marks every unread due item read; how many changed.
    pub async fn mark_all_read(&self, tenant: &TenantId, user: &UserId) -> Result<usize, InboxError> {
        let marked = self.read_all(tenant, user).await?;
        if marked > 0 {
            self.tell(tenant, user, InboxChange::ReadAll).await;
        }
        Ok(marked)
    }

    async fn read_all(&self, tenant: &TenantId, user: &UserId) -> Result<usize, InboxError> {
        let mut marked = 0;
        let mut cursor = None;
        loop {
            let page = self.list(tenant, user, &InboxFilter::default(), cursor, MAX_LIMIT).await?;
            for item in &page.items {
                match self.read_one(tenant, user, &item.id).await {
                    Ok(_) => marked += 1,
                    Err(InboxError::NotFound) => {}
                    Err(e) => return Err(e),
                }
            }
            match page.next {
                Some(next) if marked < MAX_EXAMINED => cursor = Some(next),
                _ => return Ok(marked),
            }
        }
    }

    /// Moves the item's due time `days` (a week if `None`) from now and
    /// makes it unread again.
    pub async fn postpone(&self, tenant: &TenantId, user: &UserId, id: &InboxId, days: Option<u32>) -> Result<InboxItem, InboxError> {
        let days = days.unwrap_or(DEFAULT_POSTPONE_DAYS);
        if !(1..=MAX_POSTPONE_DAYS).contains(&days) {
            return Err(InboxError::Invalid(format!("days must be 1 to {MAX_POSTPONE_DAYS}")));
        }
        let (item, _) = self
            .update(tenant, user, id, |item, now| {
                item.due_at = now.plus(DAY * days);
                item.read_at = None;
                item.expires_at = None;
                item.push_when_due = true;
            })
            .await?;
        self.tell(tenant, user, InboxChange::Postponed(Box::new(item.clone()))).await;
        Ok(item)
    }

    /// Pushes the postponed items that came due to their users' clients:
    /// each user's at once, with their unread count. An item's mark is
    /// cleared by a write conditioned on the version read, so of two runs
    /// meeting it only one pushes it. Bounded: what is left waits for the
    /// next run.
    pub async fn push_due(&self) -> Result<DueReport, StoreError> {
        let now = self.clock.now();
        let mut came_due: BTreeMap<(TenantId, UserId), Vec<InboxItem>> = BTreeMap::new();
        let mut examined = 0;
        let outcome = 'pages: loop {
            let page = match self.store.due_items(now, PAGE).await {
                Ok(page) => page,
                Err(e) => break Err(e),
            };
            let (listed, mut cleared) = (page.len(), 0);
            for item in page {
                examined += 1;
                match self.clear_due_mark(&item, now).await {
                    Ok(Some(item)) => {
                        cleared += 1;
                        came_due.entry((item.tenant.clone(), item.user.clone())).or_default().push(item);
                    }
                    Ok(None) => {}
                    Err(e) => break 'pages Err(e),
                }
            }
            // A page short of the limit is not the end: a store may leave
            // out what its index still lists but is no longer due.
            if listed == 0 || cleared == 0 || examined >= MAX_EXAMINED {
                break Ok(());
            }
        };
        // Told even after a failure: their marks are cleared already.
        let mut report = DueReport { pushed: 0, users: came_due.len() };
        for ((tenant, user), items) in came_due {
            report.pushed += items.len();
            for items in live_sized(items) {
                self.tell(&tenant, &user, InboxChange::Due(items)).await;
            }
        }
        outcome.map(|()| report)
    }

    /// Clears `item`'s mark if it is still the version read, marked and due;
    /// the item cleared, or `None` if it changed meanwhile (read, postponed
    /// again, deleted, or pushed by another run).
    async fn clear_due_mark(&self, item: &InboxItem, now: Timestamp) -> Result<Option<InboxItem>, StoreError> {
        if item.due_index_at().is_none_or(|at| at > now) {
            return Ok(None);
        }
        let cleared = InboxItem { push_when_due: false, version: item.version + 1, ..item.clone() };
        match self.store.replace(&cleared, item.version).await {
            Ok(()) => Ok(Some(cleared)),
            Err(WriteError::Conflict) => Ok(None),
            Err(WriteError::Store(e)) => Err(e),
        }
    }

    pub async fn delete(&self, tenant: &TenantId, user: &UserId, id: &InboxId) -> Result<(), InboxError> {
        self.get(tenant, user, id).await?;
        if !self.store.delete(tenant, user, id).await? {
            return Err(InboxError::NotFound);
        }
        self.tell(tenant, user, InboxChange::Deleted(vec![id.clone()])).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NotificationId;
    use crate::notifications::StatusType;

    fn item(n: u32, body_bytes: usize) -> InboxItem {
        let at = Timestamp::from_millis(1_700_000_000_000 + i64::from(n));
        let notification = NotificationId::random();
        InboxItem {
            id: InboxId::new(at, &notification, 1),
            tenant: TenantId::parse("demo").expect("tenant"),
            user: UserId::parse("7").expect("user"),
            notification,
            key: TypeKey::parse("message:internal").expect("key"),
            channel: Channel::Message,
            status_type: StatusType::Neutral,
            title: format!("item {n}"),
            body: "b".repeat(body_bytes),
            body_html: None,
            context: None,
            created_at: at,
            due_at: at,
            read_at: None,
            expires_at: None,
            push_when_due: false,
            version: 1,
        }
    }

    #[test]
    fn items_come_due_in_messages_of_bounded_size_in_order() {
        let size = |items: &[InboxItem]| items.iter().map(|i| super::super::view::inbox_json(i).to_string().len()).sum::<usize>();
        let items: Vec<InboxItem> = (0..7).map(|n| item(n, 20 * 1024)).collect();
        let runs = live_sized(items.clone());
        assert_eq!(runs.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1], "three ~20 KiB items fill 64 KiB");
        assert!(runs.iter().all(|run| size(run) <= MAX_LIVE_ITEMS_BYTES));
        assert_eq!(runs.concat(), items, "every item, in order, once");

        let small: Vec<InboxItem> = (0..100).map(|n| item(n, 10)).collect();
        assert_eq!(live_sized(small).len(), 1, "small items go together");
        let big = vec![item(0, 70 * 1024), item(1, 10)];
        assert_eq!(live_sized(big).iter().map(Vec::len).collect::<Vec<_>>(), [1, 1], "an item over the size goes alone");
    }
}
