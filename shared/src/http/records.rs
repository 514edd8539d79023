//! Resources and records (admin role): `PUT|GET /{db}/resources/{name}`,
//! `GET /{db}/resources`, `PUT|GET|DELETE /{db}/resources/{name}/records/{id}`,
//! `POST /{db}/resources/{name}/records` (a batch of up to 100).
use axum::extract::State;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::extract::{AdminTenant, Found, Id, Ids, JsonBody, PageQuery};
use super::{json_of, ApiError};
use crate::domain::{RecordId, ResourceName};
use crate::records::{Acl, Change, Record, RecordReport, ResourceRequest};
use crate::services::Services;

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/{db}/resources", get(list_resources))
        .route("/{db}/resources/{name}", put(put_resource).get(get_resource))
        .route("/{db}/resources/{name}/records", post(report_batch))
        .route("/{db}/resources/{name}/records/{id}", put(report).get(get_record).delete(delete_record))
        .with_state(services)
}

async fn put_resource(State(services): State<Services>, admin: AdminTenant, Id(name): Id<ResourceName>, JsonBody(request): JsonBody<ResourceRequest>) -> Result<Json<Value>, ApiError> {
    Ok(json_of(&services.records.put_resource(&admin.tenant, name, request).await?))
}

async fn get_resource(State(services): State<Services>, admin: AdminTenant, Id(Found(name)): Id<Found<ResourceName>>) -> Result<Json<Value>, ApiError> {
    Ok(json_of(&services.records.resource(&admin.tenant, &name).await?))
}

async fn list_resources(State(services): State<Services>, admin: AdminTenant, page: PageQuery) -> Result<Json<Value>, ApiError> {
    let found = services.records.resources(&admin.tenant, page.cursor.as_deref(), page.limit).await?;
    Ok(Json(json!({ "resources": found.items, "next_cursor": found.next })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    fields: Map<String, Value>,
    #[serde(default)]
    acl: Acl,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchEntry {
    id: RecordId,
    #[serde(default)]
    fields: Map<String, Value>,
    #[serde(default)]
    acl: Acl,
    #[serde(default)]
    deleted: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    records: Vec<BatchEntry>,
}

fn record_json(record: &Record, change: Option<Change>) -> Value {
    let mut value = json!({
        "resource": record.resource,
        "id": record.id,
        "fields": record.fields,
        "acl": record.acl,
        "created_on": record.created_on.to_rfc3339(),
        "modified_on": record.modified_on.to_rfc3339(),
        "deleted": record.deleted,
    });
    if let Some(change) = change {
        value["change"] = json!(change);
    }
    value
}

async fn report(
    State(services): State<Services>,
    admin: AdminTenant,
    Ids(resource, id): Ids<ResourceName, RecordId>,
    JsonBody(request): JsonBody<ReportBody>,
) -> Result<Json<Value>, ApiError> {
    let report = RecordReport { id, fields: request.fields, acl: request.acl, deleted: false };
    let (record, change) = services.records.report(&admin.tenant, &resource, report).await?;
    Ok(Json(record_json(&record, Some(change))))
}

async fn report_batch(State(services): State<Services>, admin: AdminTenant, Id(resource): Id<ResourceName>, JsonBody(request): JsonBody<BatchBody>) -> Result<Json<Value>, ApiError> {
    let reports = request.records.into_iter().map(|r| RecordReport { id: r.id, fields: r.fields, acl: r.acl, deleted: r.deleted }).collect();
    let saved = services.records.report_batch(&admin.tenant, &resource, reports).await?;
    let answer: Vec<Value> = saved
        .iter()
        .map(|(record, change)| json!({"id": record.id, "change": change, "modified_on": record.modified_on.to_rfc3339()}))
        .collect();
    Ok(Json(json!({ "records": answer })))
}

async fn get_record(State(services): State<Services>, admin: AdminTenant, Ids(Found(resource), Found(id)): Ids<Found<ResourceName>, Found<RecordId>>) -> Result<Json<Value>, ApiError> {
    let record = services.records.record(&admin.tenant, &resource, &id).await?;
    Ok(Json(record_json(&record, None)))
}

async fn delete_record(State(services): State<Services>, admin: AdminTenant, Ids(resource, id): Ids<ResourceName, RecordId>) -> Result<Json<Value>, ApiError> {
    let report = RecordReport { id, fields: Map::new(), acl: Acl::default(), deleted: true };
    let (record, change) = services.records.report(&admin.tenant, &resource, report).await?;
    Ok(Json(record_json(&record, Some(change))))
}
