//! Mirroring trytond's sessions and checking the ones clients send.
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::model::{KeyHash, MirroredSession, MAX_SESSION_AGE};
use super::store::{live, SessionStore};
use crate::domain::{Clock, StoreError, TenantId, Timestamp, UserId};

/// Sessions one mirror or removal request names at most.
pub const MAX_SESSIONS_PER_REQUEST: usize = 200;
/// Channel patterns one session may carry, and their longest.
const MAX_CHANNEL_GRANTS: usize = 32;
const MAX_GRANT_BYTES: usize = 256;
/// Sessions a prune looks at per request (it answers where to go on).
pub const PRUNE_PAGE: usize = 1000;
/// How long an instance trusts a session it read, before reading it again:
/// a logout reaches the instances that did not see it within this.
const TRUSTED_FOR: Duration = Duration::from_secs(5);
/// Sessions an instance keeps in memory; past this it forgets them all.
const MAX_TRUSTED: usize = 65_536;

#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// Whether a session bound to an address (trytond 8.2 binds each to the
    /// address it was opened from) is honoured only from that address.
    pub bind_to_address: bool,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self { bind_to_address: true }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One session a Tryton site mirrors.
#[derive(Debug, Clone)]
pub struct MirrorRequest {
    pub user: UserId,
    pub key_hash: KeyHash,
    pub created_at: Timestamp,
    /// trytond's `[session] max_age`.
    pub max_age: Duration,
    pub ip: Option<IpAddr>,
    pub channels: Vec<String>,
}

/// Sessions to remove: some by key, and every session of some users.
#[derive(Debug, Clone, Default)]
pub struct RemoveRequest {
    pub sessions: Vec<(UserId, KeyHash)>,
    pub users: Vec<UserId>,
}

/// What a live session lets its client do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionGrant {
    pub user: UserId,
    pub channels: Vec<String>,
}

/// Why a session is not honoured (for the log; the client hears 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Expired,
    OtherAddress,
}

#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
    settings: SessionSettings,
    /// Sessions read from the store, until `TRUSTED_FOR` after the read.
    trusted: Arc<Mutex<HashMap<TrustedKey, (Timestamp, MirroredSession)>>>,
}

/// A session as a client names it.
type TrustedKey = (TenantId, UserId, KeyHash);

impl Sessions {
    pub fn new(store: Arc<dyn SessionStore>, clock: Arc<dyn Clock>, settings: SessionSettings) -> Self {
        Self { store, clock, settings, trusted: Arc::default() }
    }

    /// Stores the sessions (each replacing the same one mirrored before);
    /// answers Herald's time of the mirror, which a prune after a full push
    /// names.
    pub async fn mirror(&self, tenant: &TenantId, sessions: Vec<MirrorRequest>) -> Result<Timestamp, SessionError> {
        if sessions.len() > MAX_SESSIONS_PER_REQUEST {
            return Err(SessionError::Invalid(format!("at most {MAX_SESSIONS_PER_REQUEST} sessions per request")));
        }
        for session in &sessions {
            if session.channels.len() > MAX_CHANNEL_GRANTS || session.channels.iter().any(|c| c.is_empty() || c.len() > MAX_GRANT_BYTES) {
                return Err(SessionError::Invalid(format!("channels: at most {MAX_CHANNEL_GRANTS} patterns of 1 to {MAX_GRANT_BYTES} bytes")));
            }
        }
        let now = self.clock.now();
        for session in sessions {
            let age = session.max_age.min(MAX_SESSION_AGE);
            let mirrored = MirroredSession {
                tenant: tenant.clone(),
                user: session.user,
                key_hash: session.key_hash,
                created_at: session.created_at,
                expires_at: session.created_at.plus(age),
                ip: session.ip.map(|ip| ip.to_canonical()),
                channels: session.channels,
                mirrored_at: now,
            };
            self.store.put(&mirrored).await?;
        }
        Ok(now)
    }

    /// Removes sessions (a logout, trytond's `clear` of users); how many
    /// were there.
    pub async fn remove(&self, tenant: &TenantId, request: RemoveRequest) -> Result<usize, SessionError> {
        if request.sessions.len() + request.users.len() > MAX_SESSIONS_PER_REQUEST {
            return Err(SessionError::Invalid(format!("at most {MAX_SESSIONS_PER_REQUEST} sessions and users per request")));
        }
        let mut removed = 0;
        for (user, hash) in &request.sessions {
            removed += usize::from(self.store.delete(tenant, user, hash).await?);
        }
        for user in &request.users {
            loop {
                let sessions = self.store.of_user(tenant, user, PRUNE_PAGE).await?;
                for session in &sessions {
                    removed += usize::from(self.store.delete(tenant, user, &session.key_hash).await?);
                }
                if sessions.len() < PRUNE_PAGE {
                    break;
                }
            }
        }
        self.forget(tenant);
        Ok(removed)
    }

    /// Removes, from one page of the tenant's sessions after `after`, those
    /// mirrored before `mirrored_before` (a full push since did not name
    /// them: trytond no longer has them) and those expired. The removed
    /// count and where the next page starts, if any.
    pub async fn prune(&self, tenant: &TenantId, mirrored_before: Timestamp, after: Option<(UserId, KeyHash)>) -> Result<(usize, Option<(UserId, KeyHash)>), SessionError> {
        let now = self.clock.now();
        let page = self.store.page(tenant, after.as_ref().map(|(u, h)| (u, h)), PRUNE_PAGE).await?;
        let mut removed = 0;
        for session in &page {
            if session.mirrored_at < mirrored_before || !live(session, now) {
                removed += usize::from(self.store.delete(tenant, &session.user, &session.key_hash).await?);
            }
        }
        self.forget(tenant);
        let next = (page.len() == PRUNE_PAGE).then(|| page.last().map(|s| (s.user.clone(), s.key_hash.clone()))).flatten();
        Ok((removed, next))
    }

    /// The grant of the session `key` of `user`, sent from `address`, if
    /// it is live; else why not.
    pub async fn verify(&self, tenant: &TenantId, user: &UserId, key: &str, address: Option<IpAddr>) -> Result<Result<SessionGrant, Refusal>, StoreError> {
        let now = self.clock.now();
        let hash = KeyHash::of_key(key);
        let cache_key = (tenant.clone(), user.clone(), hash.clone());
        let known = self.trusted.lock().ok().and_then(|t| t.get(&cache_key).filter(|(until, _)| *until > now).map(|(_, s)| s.clone()));
        let session = match known {
            Some(session) => Some(session),
            None => {
                let found = self.store.get(tenant, user, &hash).await?;
                if let (Some(session), Ok(mut trusted)) = (&found, self.trusted.lock()) {
                    if trusted.len() >= MAX_TRUSTED {
                        trusted.clear();
                    }
                    trusted.insert(cache_key, (now.plus(TRUSTED_FOR), session.clone()));
                }
                found
            }
        };
        let Some(session) = session.filter(|s| s.key_hash.matches(&hash) && s.user == *user && s.tenant == *tenant) else {
            return Ok(Err(Refusal::Unknown));
        };
        if !live(&session, now) {
            return Ok(Err(Refusal::Expired));
        }
        if self.settings.bind_to_address {
            if let Some(bound) = session.ip {
                if address.map(|a| a.to_canonical()) != Some(bound) {
                    return Ok(Err(Refusal::OtherAddress));
                }
            }
        }
        Ok(Ok(SessionGrant { user: session.user, channels: session.channels }))
    }

    /// Forgets what this instance trusted of a tenant: a removal is seen at
    /// once here (elsewhere within `TRUSTED_FOR`).
    fn forget(&self, tenant: &TenantId) {
        if let Ok(mut trusted) = self.trusted.lock() {
            trusted.retain(|(t, _, _), _| t != tenant);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::embedded::{Database, EmbeddedSessionStore};
    use crate::domain::ManualClock;

    fn sessions(bind_to_address: bool) -> (Sessions, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new());
        let store = Arc::new(EmbeddedSessionStore::new(Database::in_memory()));
        (Sessions::new(store, clock.clone(), SessionSettings { bind_to_address }), clock)
    }

    fn opened(user: &str, key: &str, at: Timestamp, max_age: Duration, ip: Option<&str>) -> MirrorRequest {
        MirrorRequest {
            user: UserId::parse(user).unwrap(),
            key_hash: KeyHash::of_key(key),
            created_at: at,
            max_age,
            ip: ip.map(|ip| ip.parse().unwrap()),
            channels: vec!["chat:*".into()],
        }
    }

    const DAY: Duration = Duration::from_secs(86_400);

    #[tokio::test]
    async fn a_live_session_is_honoured_from_its_address_until_it_ends() {
        let (sessions, clock) = sessions(true);
        let tenant = TenantId::parse("demo").unwrap();
        let (ann, here, there) = (UserId::parse("1").unwrap(), "192.0.2.1".parse().ok(), "192.0.2.2".parse().ok());
        sessions.mirror(&tenant, vec![opened("1", "k-ann", clock.now(), DAY, Some("192.0.2.1")), opened("2", "k-bob", clock.now(), DAY, None)]).await.unwrap();
        let grant = sessions.verify(&tenant, &ann, "k-ann", here).await.unwrap().expect("live");
        assert_eq!(grant, SessionGrant { user: ann.clone(), channels: vec!["chat:*".into()] });
        assert_eq!(sessions.verify(&tenant, &ann, "k-anm", here).await.unwrap(), Err(Refusal::Unknown), "another key");
        assert_eq!(sessions.verify(&tenant, &UserId::parse("2").unwrap(), "k-ann", here).await.unwrap(), Err(Refusal::Unknown), "another user's key");
        assert_eq!(sessions.verify(&TenantId::parse("other").unwrap(), &ann, "k-ann", here).await.unwrap(), Err(Refusal::Unknown), "another tenant");
        assert_eq!(sessions.verify(&tenant, &ann, "k-ann", there).await.unwrap(), Err(Refusal::OtherAddress));
        assert_eq!(sessions.verify(&tenant, &ann, "k-ann", None).await.unwrap(), Err(Refusal::OtherAddress));
        assert!(sessions.verify(&tenant, &UserId::parse("2").unwrap(), "k-bob", there).await.unwrap().is_ok(), "bound to no address");
        // IPv4 written as IPv6 is the same address.
        assert!(sessions.verify(&tenant, &ann, "k-ann", "::ffff:192.0.2.1".parse().ok()).await.unwrap().is_ok());
        clock.advance(DAY);
        assert_eq!(sessions.verify(&tenant, &ann, "k-ann", here).await.unwrap(), Err(Refusal::Expired));
    }

    #[tokio::test]
    async fn without_address_binding_any_address_will_do_and_no_session_outlives_the_cap() {
        let (sessions, clock) = sessions(false);
        let tenant = TenantId::parse("demo").unwrap();
        let ann = UserId::parse("1").unwrap();
        sessions.mirror(&tenant, vec![opened("1", "k", clock.now(), Duration::from_secs(10 * 365 * 86_400), Some("192.0.2.1"))]).await.unwrap();
        assert!(sessions.verify(&tenant, &ann, "k", "198.51.100.7".parse().ok()).await.unwrap().is_ok());
        clock.advance(MAX_SESSION_AGE);
        assert_eq!(sessions.verify(&tenant, &ann, "k", None).await.unwrap(), Err(Refusal::Expired));
    }

    #[tokio::test]
    async fn a_removed_session_is_refused_at_once_and_a_prune_removes_what_a_push_left_out() {
        let (sessions, clock) = sessions(true);
        let tenant = TenantId::parse("demo").unwrap();
        let ann = UserId::parse("1").unwrap();
        sessions.mirror(&tenant, vec![opened("1", "a", clock.now(), DAY, None), opened("1", "b", clock.now(), DAY, None), opened("2", "c", clock.now(), DAY, None)]).await.unwrap();
        assert!(sessions.verify(&tenant, &ann, "a", None).await.unwrap().is_ok(), "trusted for a while");
        let removed = sessions.remove(&tenant, RemoveRequest { sessions: vec![(ann.clone(), KeyHash::of_key("a"))], users: vec![] }).await.unwrap();
        assert_eq!(removed, 1);
        assert_eq!(sessions.verify(&tenant, &ann, "a", None).await.unwrap(), Err(Refusal::Unknown), "a logout is seen at once");
        // A full push names only "b": "c" is gone from trytond.
        clock.advance(Duration::from_secs(60));
        let pushed = sessions.mirror(&tenant, vec![opened("1", "b", clock.now(), DAY, None)]).await.unwrap();
        let (removed, next) = sessions.prune(&tenant, pushed, None).await.unwrap();
        assert_eq!((removed, next), (1, None));
        assert!(sessions.verify(&tenant, &ann, "b", None).await.unwrap().is_ok());
        assert_eq!(sessions.verify(&tenant, &UserId::parse("2").unwrap(), "c", None).await.unwrap(), Err(Refusal::Unknown));
        // Every session of a user (trytond's `clear`).
        assert_eq!(sessions.remove(&tenant, RemoveRequest { sessions: vec![], users: vec![ann.clone()] }).await.unwrap(), 1);
        assert_eq!(sessions.verify(&tenant, &ann, "b", None).await.unwrap(), Err(Refusal::Unknown));
        // Bounded requests.
        let many: Vec<MirrorRequest> = (0..=MAX_SESSIONS_PER_REQUEST).map(|n| opened("1", &n.to_string(), clock.now(), DAY, None)).collect();
        assert!(matches!(sessions.mirror(&tenant, many).await, Err(SessionError::Invalid(_))));
        let granted = MirrorRequest { channels: vec!["x".repeat(257)], ..opened("1", "d", clock.now(), DAY, None) };
        assert!(matches!(sessions.mirror(&tenant, vec![granted]).await, Err(SessionError::Invalid(_))));
    }
}
