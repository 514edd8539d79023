use std::path::PathBuf;

use async_trait::async_trait;
use mail_builder::MessageBuilder;

use crate::outbox::{Email, MailError, Mailer};

/// Writes each email as an `.eml` file into a folder: the local gateway's
/// mail, readable with any mail client.
///
/// A send is idempotent: the file is named after the email's key (its
/// delivery and address), written under a temporary name and renamed into
/// place, so an email either exists whole or not at all, and sending the
/// same email again (a retry after a crash between the send and its record)
/// finds it and writes nothing.
pub struct FileMailer {
    dir: PathBuf,
}

impl FileMailer {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

#[async_trait]
impl Mailer for FileMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, email.key.as_bytes()).simple().to_string();
        let path = self.dir.join(format!("{id}.eml"));
        if tokio::fs::try_exists(&path).await.map_err(|e| MailError::Transient(e.to_string()))? {
            return Ok(id);
        }
        let mut message = MessageBuilder::new()
            .message_id(format!("{id}@herald.local"))
            .from(email.from.as_str())
            .to(email.to.as_str())
            .subject(email.subject.as_str());
        if let Some(text) = &email.text {
            message = message.text_body(text.as_str());
        }
        if let Some(html) = &email.html {
            message = message.html_body(html.as_str());
        }
        let bytes = message.write_to_vec().map_err(|e| MailError::Permanent(e.to_string()))?;
        tokio::fs::create_dir_all(&self.dir).await.map_err(|e| MailError::Transient(e.to_string()))?;
        let partial = self.dir.join(format!("{id}.eml.partial"));
        tokio::fs::write(&partial, bytes).await.map_err(|e| MailError::Transient(e.to_string()))?;
        tokio::fs::rename(&partial, &path).await.map_err(|e| MailError::Transient(e.to_string()))?;
        Ok(id)
    }

    fn idempotent(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::EmailAddress;

    fn email(key: &str, subject: &str) -> Email {
        let address = |a: &str| EmailAddress::parse(a).unwrap();
        Email { key: key.into(), from: address("herald@example.com"), to: address("ann@example.com"), subject: subject.into(), text: Some("t".into()), html: None }
    }

    fn files(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn one_file_per_key_however_often_it_is_sent() {
        let dir = std::env::temp_dir().join(format!("herald-mailer-{}", uuid::Uuid::new_v4()));
        let mailer = FileMailer::new(&dir);
        let first = mailer.send(&email("demo/n1/1/user:1/ann@example.com", "First")).await.unwrap();
        let again = mailer.send(&email("demo/n1/1/user:1/ann@example.com", "First")).await.unwrap();
        assert_eq!(first, again, "the same provider id: it was sent once");
        assert_eq!(files(&dir), [format!("{first}.eml")]);
        mailer.send(&email("demo/n1/2/user:1/ann@example.com", "Second revision")).await.unwrap();
        let names = files(&dir);
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.iter().all(|n| n.ends_with(".eml")), "no partial file is left: {names:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
