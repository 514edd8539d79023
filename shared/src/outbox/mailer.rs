//! The mailer port: how the outbox sends one email (SES v2, or `.eml` files).
use async_trait::async_trait;

use crate::domain::EmailAddress;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// Names this email among all Herald sends: its delivery and address.
    /// A mailer that can (`Mailer::idempotent`) sends one email per key.
    pub key: String,
    pub from: EmailAddress,
    pub to: EmailAddress,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// This address cannot take mail (invalid, suppressed): try the next.
    #[error("address refused: {0}")]
    AddressRefused(String),
    /// Throttling, a timeout, a 5xx: the same send may work later.
    #[error("temporary mail failure: {0}")]
    Transient(String),
    /// The provider refuses the send itself (sender not verified, account
    /// paused): counts as an attempt like a transient one, then fails.
    #[error("mail refused: {0}")]
    Permanent(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one email; the provider's message id.
    async fn send(&self, email: &Email) -> Result<String, MailError>;

    /// Whether sending the same email (`Email::key`) twice sends it once:
    /// then a send interrupted before its record can safely be redone.
    fn idempotent(&self) -> bool {
        false
    }
}
