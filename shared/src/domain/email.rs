//! An email address, checked once: what SES would refuse is refused at the edge.
use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an email address")]
pub struct InvalidEmail(String);

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

crate::domain::schema::text_schema!(
    EmailAddress,
    "an email address",
    5,
    EmailAddress::MAX_LEN,
    r"^[^\s<>,;@\x00-\x1f\x7f-\x9f]{1,64}@[^\s<>,;@.\x00-\x1f\x7f-\x9f][^\s<>,;@\x00-\x1f\x7f-\x9f]*\.[^\s<>,;@\x00-\x1f\x7f-\x9f]*[^\s<>,;@.\x00-\x1f\x7f-\x9f]$"
);

impl EmailAddress {
    pub const MAX_LEN: usize = 254;

    pub fn parse(value: impl Into<String>) -> Result<Self, InvalidEmail> {
        let value = value.into();
        let shown = || InvalidEmail(value.chars().take(64).collect());
        let (local, domain) = value.rsplit_once('@').ok_or_else(shown)?;
        let valid = value.len() <= Self::MAX_LEN
            && !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !value.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
        if valid { Ok(Self(value)) } else { Err(shown()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = InvalidEmail;
    fn try_from(value: String) -> Result<Self, InvalidEmail> {
        Self::parse(value)
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_addresses_and_refuses_the_rest() {
        assert!(EmailAddress::parse("ann@example.org").is_ok());
        assert!(EmailAddress::parse("a.b+c@mail.example.co").is_ok());
        for bad in ["", "ann", "ann@", "@example.org", "ann@example", "a b@example.org", "a@b@c.org", "ann@.org", "a@x.org>"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
        assert!(EmailAddress::parse(format!("{}@example.org", "a".repeat(65))).is_err());
    }
}
