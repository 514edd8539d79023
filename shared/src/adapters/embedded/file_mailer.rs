use std::path::PathBuf;

use async_trait::async_trait;
use mail_builder::MessageBuilder;

use crate::domain::{Clock, SystemClock};
use crate::outbox::{Email, MailError, Mailer};

/// Writes each email as an `.eml` file into a folder: the local gateway's
/// mail, readable with any mail client.
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
        let id = uuid::Uuid::new_v4().simple().to_string();
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
        let name = format!("{}-{id}.eml", SystemClock.now().as_millis());
        tokio::fs::write(self.dir.join(name), bytes).await.map_err(|e| MailError::Transient(e.to_string()))?;
        Ok(id)
    }
}
