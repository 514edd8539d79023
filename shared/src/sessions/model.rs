use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::{TenantId, Timestamp, UserId};

/// The longest a mirrored session is honoured, whatever trytond's
/// `[session] max_age` says (its default is 30 days).
pub const MAX_SESSION_AGE: Duration = Duration::from_secs(90 * 86_400);

/// The SHA-256 of a session key, as 64 lowercase hex digits: what is
/// mirrored and stored instead of the key. trytond's keys are 32 random
/// bytes, so a fast hash is enough: nothing short of the key finds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyHash(String);

impl KeyHash {
    /// The hash of a key a client sends.
    pub fn of_key(key: &str) -> Self {
        use sha2::Digest as _;
        let digest = sha2::Sha256::digest(key.as_bytes());
        Self(digest.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn parse(text: impl Into<String>) -> Result<Self, String> {
        let text = text.into();
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self(text))
        } else {
            Err("key_sha256 must be 64 lowercase hex digits (the SHA-256 of the session key)".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares in constant time.
    pub fn matches(&self, other: &KeyHash) -> bool {
        use subtle::ConstantTimeEq as _;
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl TryFrom<String> for KeyHash {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        Self::parse(value)
    }
}

impl From<KeyHash> for String {
    fn from(hash: KeyHash) -> String {
        hash.0
    }
}

impl fmt::Display for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One trytond session as Herald keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MirroredSession {
    pub tenant: TenantId,
    pub user: UserId,
    pub key_hash: KeyHash,
    pub created_at: Timestamp,
    /// Creation plus trytond's `max_age` (at most [`MAX_SESSION_AGE`]).
    pub expires_at: Timestamp,
    /// The address trytond bound the session to, if any.
    pub ip: Option<IpAddr>,
    /// Shared bus channels the session may read (`chat:*`), as a token's
    /// `channels` claim.
    #[serde(default)]
    pub channels: Vec<String>,
    /// When Herald last received it (a re-push refreshes it; a prune
    /// removes what a push did not refresh).
    pub mirrored_at: Timestamp,
}
