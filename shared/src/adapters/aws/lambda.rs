//! Lambda event shapes for the non-HTTP functions: the outbox's SQS batch
//! (with partial batch failures) and the check's EventBridge schedule.
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};

use crate::notifications::{CheckReport, Notifier};
use crate::outbox::{Handled, Outbox};
use crate::ports::StoreError;
use crate::subscriptions::Checker;

/// Handles the records concurrently (each is its own delivery); those to
/// retry are reported as batch item failures (`ReportBatchItemFailures`),
/// so SQS redelivers only them and, after `maxReceiveCount`, moves them to
/// the DLQ.
pub async fn outbox_batch(outbox: &Outbox, event: SqsEvent) -> SqsBatchResponse {
    let handled = futures::future::join_all(event.records.into_iter().map(|record| async move {
        let outcome = outbox.handle_message(record.body.as_deref().unwrap_or_default()).await;
        (record.message_id.unwrap_or_default(), outcome)
    }))
    .await;
    let mut response = SqsBatchResponse::default();
    for (id, outcome) in handled {
        if outcome == Handled::Retry {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// The scheduled check. Two EventBridge schedules invoke it: every minute
/// with the plain schedule event (publish due notifications), and every 5
/// minutes with the input `{"job": "subscriptions"}` (the subscription
/// check).
pub async fn scheduled_check(notifier: &Notifier, checker: &Checker, event: &serde_json::Value) -> Result<serde_json::Value, StoreError> {
    if event.get("job").and_then(|j| j.as_str()) == Some("subscriptions") {
        let report = checker.run().await?;
        tracing::info!(checked = report.checked, digests = report.digests, failed = report.failed, "subscription check done");
        return Ok(serde_json::json!({ "subscriptions": report }));
    }
    let report: CheckReport = notifier.run_due().await?;
    tracing::info!(published = report.published, cancelled = report.cancelled, deliveries = report.deliveries, "notification check done");
    Ok(serde_json::json!({ "notifications": report }))
}
