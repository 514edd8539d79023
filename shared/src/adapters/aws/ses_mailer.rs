//! Email through SES v2 `SendEmail`.
use async_trait::async_trait;
use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::operation::send_email::SendEmailError;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use aws_sdk_sesv2::Client;

use crate::outbox::{Email, MailError, Mailer};
use super::sdk_client::SdkClient;

#[derive(Clone)]
pub struct SesMailer {
    client: SdkClient<Client>,
}

impl SesMailer {
    pub fn new(client: impl Into<SdkClient<Client>>) -> Self {
        Self { client: client.into() }
    }
}

fn content(text: &str) -> Result<Content, MailError> {
    Content::builder().data(text).charset("UTF-8").build().map_err(|e| MailError::Permanent(e.to_string()))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> Result<String, MailError> {
        let mut body = Body::builder();
        if let Some(text) = &email.text {
            body = body.text(content(text)?);
        }
        if let Some(html) = &email.html {
            body = body.html(content(html)?);
        }
        let message = Message::builder().subject(content(&email.subject)?).body(body.build()).build();
        let sent = self
            .client
            .send_email()
            .from_email_address(email.from.as_str())
            .destination(Destination::builder().to_addresses(email.to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        match sent {
            Ok(out) => Ok(out.message_id.unwrap_or_default()),
            Err(e) => {
                // SES's code and message ("MessageRejected: Email address is
                // not verified"), not the SDK's whole debug context.
                let text = match (e.code(), e.message()) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(code), None) => code.to_owned(),
                    _ => aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string(),
                };
                Err(match e.as_service_error() {
                    Some(SendEmailError::BadRequestException(_)) => MailError::AddressRefused(text),
                    Some(s) if s.code() == Some("InvalidParameterValue") => MailError::AddressRefused(text),
                    Some(
                        SendEmailError::MessageRejected(_)
                        | SendEmailError::AccountSuspendedException(_)
                        | SendEmailError::SendingPausedException(_)
                        | SendEmailError::MailFromDomainNotVerifiedException(_)
                        | SendEmailError::NotFoundException(_),
                    ) => MailError::Permanent(text),
                    _ => MailError::Transient(text),
                })
            }
        }
    }
}
