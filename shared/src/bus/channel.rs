//! Channel names as clients write them, and the storage keys they map to.
//!
//! Per-user channels are bound to the caller: `user:*` is replaced by the
//! caller's own and `notification:<uid>` is only for the caller. A
//! `client:<id>` channel is the client's, as in Tryton (a publisher reaches
//! it by the id alone); the bus binds each client id to one user, the
//! first that polls it or that a publisher names, and no other user reads
//! it (`Bus::listen`). Any other channel needs a grant in the token.
//! Channels a user may not read are dropped silently (Tryton clients stop
//! listening on an error).
use crate::domain::UserId;

pub const MAX_CHANNELS: usize = 32;
pub const MAX_CHANNEL_BYTES: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    #[error("channel names must not be empty")]
    Empty,
    #[error("channel names are limited to {MAX_CHANNEL_BYTES} bytes")]
    TooLong,
    #[error("channel names must not contain control characters")]
    ControlCharacter,
    #[error("a client channel needs a client id after 'client:'")]
    MissingClientId,
    #[error("'user:' and 'notification:' channels need a valid user id")]
    InvalidUserId,
}

/// The key a channel's messages are stored under, tenant excluded.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelKey(String);

impl ChannelKey {
    pub fn user(user: &UserId) -> Self {
        Self(format!("u:{user}"))
    }
    pub fn notification(user: &UserId) -> Self {
        Self(format!("n:{user}"))
    }
    pub fn client(client: &str) -> Self {
        Self(format!("cl:{client}"))
    }
    /// The client id of a `client:<id>` channel's key.
    pub fn client_id(&self) -> Option<&str> {
        self.0.strip_prefix("cl:")
    }
    fn shared(name: &str) -> Self {
        Self(format!("s:{name}"))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// A key as a store wrote it (its [`ChannelKey::as_str`]), read back.
    pub fn stored(key: impl Into<String>) -> Self {
        Self(key.into())
    }
}

/// One channel a poll listens to: the name the client used (echoed in the
/// reply) and where it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub name: String,
    pub key: ChannelKey,
}

/// Shared channels a token may read, from its `channels` claim: exact names,
/// or prefixes ending in `*`.
#[derive(Debug, Clone, Default)]
pub struct ChannelGrants(Vec<String>);

impl ChannelGrants {
    pub fn new(patterns: Vec<String>) -> Self {
        Self(patterns)
    }
    fn allows(&self, channel: &str) -> bool {
        self.0.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => channel.starts_with(prefix),
            None => p == channel,
        })
    }
}

pub fn check_name(name: &str) -> Result<(), ChannelError> {
    if name.is_empty() {
        return Err(ChannelError::Empty);
    }
    if name.len() > MAX_CHANNEL_BYTES {
        return Err(ChannelError::TooLong);
    }
    if name.chars().any(char::is_control) {
        return Err(ChannelError::ControlCharacter);
    }
    Ok(())
}

/// The channels `user` may listen to out of `requested`, in request order,
/// without duplicates, always including the user's own `user:<uid>`.
/// Names must have been checked with [`check_name`].
pub fn authorize_subscriptions(
    user: &UserId,
    grants: &ChannelGrants,
    requested: &[String],
) -> Vec<Subscription> {
    let own_user_channel = format!("user:{user}");
    let own_notification_channel = format!("notification:{user}");
    let mut subscriptions: Vec<Subscription> = Vec::new();
    let mut push = |name: &str, key: ChannelKey| {
        if !subscriptions.iter().any(|s| s.key == key) {
            subscriptions.push(Subscription { name: name.to_owned(), key });
        }
    };
    for name in requested {
        if name.starts_with("user:") {
            continue; // replaced by the caller's own, below
        } else if let Some(client) = name.strip_prefix("client:") {
            if !client.is_empty() {
                push(name, ChannelKey::client(client));
            }
        } else if name.starts_with("notification:") {
            if *name == own_notification_channel {
                push(name, ChannelKey::notification(user));
            }
        } else if grants.allows(name) {
            push(name, ChannelKey::shared(name));
        }
    }
    push(&own_user_channel, ChannelKey::user(user));
    subscriptions
}

/// Where a publisher's message for `name` goes.
pub fn publish_key(name: &str) -> Result<ChannelKey, ChannelError> {
    check_name(name)?;
    if let Some(target) = name.strip_prefix("user:") {
        let target = UserId::parse(target).map_err(|_| ChannelError::InvalidUserId)?;
        return Ok(ChannelKey::user(&target));
    }
    if let Some(target) = name.strip_prefix("notification:") {
        let target = UserId::parse(target).map_err(|_| ChannelError::InvalidUserId)?;
        return Ok(ChannelKey::notification(&target));
    }
    if let Some(client) = name.strip_prefix("client:") {
        if client.is_empty() {
            return Err(ChannelError::MissingClientId);
        }
        return Ok(ChannelKey::client(client));
    }
    Ok(ChannelKey::shared(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    fn names(subs: &[Subscription]) -> Vec<&str> {
        subs.iter().map(|s| s.name.as_str()).collect()
    }

    #[test]
    fn foreign_user_channels_are_replaced_by_the_callers_own() {
        let subs = authorize_subscriptions(
            &uid("5"),
            &ChannelGrants::default(),
            &["user:6".into(), "notification:6".into(), "notification:5".into(), "chat:x".into()],
        );
        assert_eq!(names(&subs), ["notification:5", "user:5"]);
        assert_eq!(subs[1].key, ChannelKey::user(&uid("5")));
    }

    /// A client channel is the client's, whoever publishes; which user may
    /// read it is the bus's binding (`Bus::listen`), not its key.
    #[test]
    fn client_channels_are_keyed_by_the_client_id_alone() {
        let a = authorize_subscriptions(&uid("5"), &ChannelGrants::default(), &["client:abc".into()]);
        assert_eq!(a[0].key, publish_key("client:abc").unwrap());
        assert_eq!(a[0].key.client_id(), Some("abc"));
        assert_eq!(ChannelKey::user(&uid("5")).client_id(), None);
        assert_ne!(publish_key("client:abc").unwrap(), publish_key("client:abd").unwrap());
    }

    #[test]
    fn shared_channels_need_a_grant() {
        let grants = ChannelGrants::new(vec!["chat:*".into(), "board".into()]);
        let subs = authorize_subscriptions(
            &uid("1"),
            &grants,
            &["chat:sale.order,5".into(), "board".into(), "boards".into(), "chat:x".into(), "board".into()],
        );
        assert_eq!(names(&subs), ["chat:sale.order,5", "board", "chat:x", "user:1"]);
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(check_name(""), Err(ChannelError::Empty));
        assert_eq!(check_name(&"a".repeat(257)), Err(ChannelError::TooLong));
        assert!(check_name(&"a".repeat(256)).is_ok());
        assert_eq!(check_name("a\nb"), Err(ChannelError::ControlCharacter));
        assert!(publish_key("client:").is_err());
        assert!(publish_key("user:").is_err());
    }
}
