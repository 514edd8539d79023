//! Identifiers parsed once at the edge ("parse, don't validate").
use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {reason}")]
pub struct InvalidId {
    pub what: &'static str,
    pub reason: &'static str,
}

/// Characters allowed in identifiers that end up inside storage keys. `#`, `:`
/// and `/` are excluded because keys use them as separators.
fn check(value: &str, what: &'static str, max: usize) -> Result<(), InvalidId> {
    if value.is_empty() {
        return Err(InvalidId { what, reason: "must not be empty" });
    }
    if value.len() > max {
        return Err(InvalidId { what, reason: "is too long" });
    }
    // "." and ".." mean this and the parent folder to every path and key
    // tool an operator might read them with.
    if value.chars().all(|c| c == '.') {
        return Err(InvalidId { what, reason: "may not be made of dots only" });
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'))
    {
        return Err(InvalidId {
            what,
            reason: "may only contain letters, digits, '_', '-', '.' and '@'",
        });
    }
    Ok(())
}

/// An id as JSON carries it: text, or an integer (Tryton's ids are
/// integers, and its callers send either), taken as its decimal text.
pub struct IdText(String);

impl<'de> Deserialize<'de> for IdText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = IdText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an integer")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<IdText, E> {
                Ok(IdText(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<IdText, E> {
                Ok(IdText(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<IdText, E> {
                Ok(IdText(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<IdText, E> {
                Ok(IdText(v.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "IdText", into = "String")]
        pub struct $name(String);

        impl TryFrom<IdText> for $name {
            type Error = InvalidId;
            fn try_from(value: IdText) -> Result<Self, InvalidId> {
                Self::parse(value.0)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl $name {
            pub const MAX_LEN: usize = $max;

            pub fn parse(value: impl Into<String>) -> Result<Self, InvalidId> {
                let value = value.into();
                check(&value, $what, $max)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        $crate::domain::schema::text_schema!($name, $what, 1, $max, "^[A-Za-z0-9_.@-]*[A-Za-z0-9_@-][A-Za-z0-9_.@-]*$");

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

id_type!(
    /// A tenant: Tryton's database name, the `{db}` of every route.
    TenantId, "tenant", 64
);
id_type!(
    /// A user of a tenant (Tryton's numeric user id, kept as text).
    UserId, "user id", 128
);
id_type!(
    /// A group of users, by name (`manager`, `admin`, ...).
    GroupName, "group name", 128
);
id_type!(
    /// A company ("enseigne") of a tenant.
    CompanyId, "company id", 128
);

id_type!(
    /// A kind of record applications report changes of (Eden's resource,
    /// `req_req`, `org_office`, ...).
    ResourceName, "resource name", 64
);
id_type!(
    /// A record of a resource, as the application names it.
    RecordId, "record id", 128
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an id is 32 lowercase hexadecimal characters")]
pub struct InvalidHexId;

/// Random 128-bit ids in hex, made by Herald (and, derived from a source
/// with `derived`, the same for the same source).
macro_rules! hex_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn random() -> Self {
                Self(uuid::Uuid::new_v4().simple().to_string())
            }
            /// The same id for the same `source` text.
            pub fn derived(source: &str) -> Self {
                let hash = |seed: &str| {
                    let mut h = fnv::FnvHasher::default();
                    std::hash::Hasher::write(&mut h, seed.as_bytes());
                    std::hash::Hasher::write(&mut h, source.as_bytes());
                    std::hash::Hasher::finish(&h)
                };
                Self(format!("{:016x}{:016x}", hash("a"), hash("b")))
            }
            pub fn parse(value: impl Into<String>) -> Result<Self, InvalidHexId> {
                let value = value.into();
                let valid = value.len() == 32 && value.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
                if valid { Ok(Self(value)) } else { Err(InvalidHexId) }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        $crate::domain::schema::text_schema!($name, "32 lowercase hexadecimal characters", 32, 32, "^[0-9a-f]{32}$");

        impl TryFrom<String> for $name {
            type Error = InvalidHexId;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

hex_id!(
    /// A notification.
    NotificationId
);
hex_id!(
    /// A subscription.
    SubscriptionId
);

impl UserId {
    /// Accepts a JSON number or string, as Tryton callers send either.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, InvalidId> {
        match value {
            serde_json::Value::String(s) => Self::parse(s.clone()),
            serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => Self::parse(n.to_string()),
            _ => Err(InvalidId { what: "user id", reason: "must be a string or an integer" }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_separators_and_empty() {
        assert!(TenantId::parse("demo").is_ok());
        assert!(TenantId::parse("").is_err());
        assert!(TenantId::parse("a#b").is_err());
        for dots in [".", "..", "..."] {
            assert!(TenantId::parse(dots).is_err(), "{dots}");
            assert!(UserId::parse(dots).is_err(), "{dots}");
        }
        assert!(UserId::parse("a.b").is_ok());
        assert!(UserId::parse("1:2").is_err());
        assert!(UserId::parse("x".repeat(129)).is_err());
    }

    #[test]
    fn user_ids_come_as_numbers_or_strings() {
        assert_eq!(UserId::from_json(&serde_json::json!(5)).unwrap().as_str(), "5");
        assert_eq!(UserId::from_json(&serde_json::json!("7")).unwrap().as_str(), "7");
        assert!(UserId::from_json(&serde_json::json!(1.5)).is_err());
        assert!(UserId::from_json(&serde_json::json!(null)).is_err());
        // Deserialized anywhere: an integer is its decimal text.
        assert_eq!(serde_json::from_value::<UserId>(serde_json::json!(5)).unwrap().as_str(), "5");
        assert_eq!(serde_json::from_value::<CompanyId>(serde_json::json!("acme")).unwrap().as_str(), "acme");
        let refused = serde_json::from_value::<UserId>(serde_json::json!(1.5)).unwrap_err().to_string();
        assert!(refused.contains("a string or an integer"), "{refused}");
        assert!(serde_json::from_value::<UserId>(serde_json::json!(null)).is_err());
    }
}
