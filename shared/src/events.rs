//! Every entry point that is not an HTTP request: the scheduled jobs and
//! the outbox queue's messages. The `check` and `outbox` Lambda functions
//! and `herald-local` all come through here, with one job list and the
//! same concurrency.
use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde_json::{json, Value};

use crate::domain::StoreError;
use crate::inbox::DueReport;
use crate::notifications::CheckReport;
use crate::outbox::{Handled, Outbox};
use crate::services::Services;
use crate::subscriptions::SubscriptionCheckReport;

/// A scheduled job. In AWS two EventBridge schedules invoke the `check`
/// function: every minute with the plain schedule event (what came due),
/// every 5 minutes with the input `{"job": "subscriptions"}` (the
/// subscription check). `herald-local` runs all of them every minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// The subscription check: digests of what changed.
    Subscriptions,
    /// Publishes the notifications whose due time has come, and pushes the
    /// postponed inbox items that came due to their users' clients (one
    /// schedule for both: each is a few `Query`s when nothing is due).
    DueNotifications,
}

impl Job {
    /// Every job, in the order `herald-local` runs them: the subscription
    /// check first, so its digests are published in the same run.
    pub const ALL: [Job; 2] = [Job::Subscriptions, Job::DueNotifications];

    /// The job a schedule's event asks for.
    pub fn of_event(event: &Value) -> Self {
        if event.get("job").and_then(Value::as_str) == Some("subscriptions") {
            Self::Subscriptions
        } else {
            Self::DueNotifications
        }
    }
}

/// What one job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobReport {
    Subscriptions(SubscriptionCheckReport),
    DueNotifications(CheckReport, DueReport),
}

/// Runs one job.
pub async fn run(services: &Services, job: Job) -> Result<JobReport, StoreError> {
    match job {
        Job::Subscriptions => {
            let report = services.checker.run().await?;
            tracing::info!(checked = report.checked, digests = report.digests, failed = report.failed, "subscription check done");
            Ok(JobReport::Subscriptions(report))
        }
        Job::DueNotifications => {
            // Both run, whichever fails: neither waits on the other.
            let notifications = services.notifier.run_due().await;
            let inbox = services.inbox.push_due().await;
            let (report, inbox) = (notifications?, inbox?);
            tracing::info!(published = report.published, cancelled = report.cancelled, deliveries = report.deliveries, "notification check done");
            tracing::info!(pushed = inbox.pushed, users = inbox.users, "inbox items come due pushed");
            Ok(JobReport::DueNotifications(report, inbox))
        }
    }
}

/// The `check` function's answer to a schedule's event:
/// `{"subscriptions": {...}}` or `{"notifications": {...}, "inbox": {...}}`.
pub async fn scheduled(services: &Services, event: &Value) -> Result<Value, StoreError> {
    Ok(match run(services, Job::of_event(event)).await? {
        JobReport::Subscriptions(report) => json!({ "subscriptions": report }),
        JobReport::DueNotifications(report, inbox) => json!({ "notifications": report, "inbox": inbox }),
    })
}

/// Handles queue messages (each a delivery key) concurrently: each is its
/// own delivery. With each message's id, what to tell the queue.
pub async fn deliver<I>(outbox: &Outbox, messages: impl IntoIterator<Item = (I, String)>) -> Vec<(I, Handled)> {
    futures::future::join_all(messages.into_iter().map(|(id, body)| async move { (id, outbox.handle_message(&body).await) })).await
}

/// The `outbox` function's SQS batch. Those to retry are reported as batch
/// item failures (`ReportBatchItemFailures`), so SQS redelivers only them
/// and, after `maxReceiveCount`, moves them to the DLQ.
pub async fn outbox_batch(services: &Services, event: SqsEvent) -> SqsBatchResponse {
    let messages = event.records.into_iter().map(|r| ((r.message_id.unwrap_or_default(), r.receipt_handle), r.body.unwrap_or_default()));
    let mut response = SqsBatchResponse::default();
    for ((id, receipt_handle), handled) in deliver(&services.outbox, messages).await {
        if let (Handled::RetryAfter(delay), Some(handle)) = (handled, &receipt_handle) {
            // Backoff: hidden this long instead of the queue's visibility
            // timeout. If that fails, the message still comes back then.
            if let Err(e) = services.outbox_consumer.release(handle, delay).await {
                tracing::warn!(message = %id, error = %e, "could not delay the retry; the queue's visibility timeout applies");
            }
        }
        if handled.retries() {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// Messages taken from the queue per batch, as the SQS event source sends
/// them to the `outbox` function (template.yaml, `BatchSize`).
pub const OUTBOX_BATCH: usize = 10;

/// What a drain of the queue did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DrainReport {
    pub handled: usize,
    pub retried: usize,
}

/// `herald-local`'s stand-in for the SQS event source: takes batches off
/// the outbox queue and handles each as the `outbox` function does, until
/// the queue answers nothing.
pub async fn drain_outbox(services: &Services) -> Result<DrainReport, StoreError> {
    let queue = services.outbox_consumer.as_ref();
    let mut report = DrainReport::default();
    // Bounded: a message failing forever reaches the DLQ after the queue's
    // maximum receives.
    for _ in 0..10_000 {
        let batch = queue.receive(OUTBOX_BATCH).await?;
        if batch.is_empty() {
            break;
        }
        // Tell the queue about every message, then about the first failure:
        // one that cannot be deleted must not keep its siblings in flight.
        let mut failed = None;
        for (handle, handled) in deliver(&services.outbox, batch.into_iter().map(|m| (m.handle, m.body))).await {
            report.handled += 1;
            let answered = match handled {
                Handled::Done => queue.delete(&handle).await,
                Handled::Retry => {
                    report.retried += 1;
                    queue.release(&handle, Duration::ZERO).await
                }
                Handled::RetryAfter(delay) => {
                    report.retried += 1;
                    queue.release(&handle, delay).await
                }
            };
            failed = failed.or(answered.err());
        }
        if let Some(error) = failed {
            return Err(error);
        }
    }
    Ok(report)
}

/// What [`run_all`] did: `{"subscriptions", "check", "inbox", "outbox"}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunReport {
    pub subscriptions: SubscriptionCheckReport,
    pub check: CheckReport,
    pub inbox: DueReport,
    pub outbox: DrainReport,
}

/// Every job once, in order, then `drain` (the caller's drain of the
/// outbox): `herald-local`'s schedule and its `POST /_local/tick`.
pub async fn run_all<F, D>(services: &Services, drain: D) -> Result<RunReport, StoreError>
where
    D: FnOnce() -> F,
    F: std::future::Future<Output = Result<DrainReport, StoreError>>,
{
    let mut report = RunReport::default();
    for job in Job::ALL {
        match run(services, job).await? {
            JobReport::Subscriptions(r) => report.subscriptions = r,
            JobReport::DueNotifications(check, inbox) => (report.check, report.inbox) = (check, inbox),
        }
    }
    report.outbox = drain().await?;
    Ok(report)
}
