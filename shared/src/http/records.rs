//! Resources and records (admin role): `PUT|GET /{db}/resources/{name}`,
//! `GET /{db}/resources`, `PUT|GET|DELETE /{db}/resources/{name}/records/{id}`,
//! `POST /{db}/resources/{name}/records` (a batch of up to 100).
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{authorize_admin, body, ApiError};
use crate::app::Services;
use crate::domain::{RecordId, ResourceName};
use crate::records::model::{MAX_NOTIFY_FIELDS, MAX_TEXT_BYTES};
use crate::records::{Acl, Change, NotifyField, Record, RecordError, RecordReport, Resource};

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/{db}/resources", get(list_resources))
        .route("/{db}/resources/{name}", put(put_resource).get(get_resource))
        .route("/{db}/resources/{name}/records", post(report_batch))
        .route("/{db}/resources/{name}/records/{id}", put(report).get(get_record).delete(delete_record))
        .with_state(services)
}

impl From<RecordError> for ApiError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::UnknownResource(_) | RecordError::NotFound(_) => Self::NotFound(e.to_string()),
            RecordError::Invalid(m) => Self::BadRequest(m),
            RecordError::Store(e) => Self::Unavailable(e),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutResource {
    title: String,
    #[serde(default)]
    notify_fields: Vec<NotifyField>,
    #[serde(default)]
    notify_template: Option<String>,
    #[serde(default)]
    notify_subject: Option<String>,
    #[serde(default)]
    page_url: Option<String>,
    #[serde(default)]
    item_url: Option<String>,
}

/// A subject template may use `{system}` and `{resource}`, nothing else.
pub fn check_subject(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or("notify_subject has an unclosed '{'")?;
        match &after[..close] {
            "system" | "resource" => rest = &after[close + 1..],
            other => return Err(format!("notify_subject may use {{system}} and {{resource}}, not {{{other}}}")),
        }
    }
    Ok(())
}

fn text_ok(name: &str, value: &str) -> Result<(), ApiError> {
    if value.len() > MAX_TEXT_BYTES {
        return Err(ApiError::BadRequest(format!("{name} is over {MAX_TEXT_BYTES} bytes")));
    }
    Ok(())
}

async fn put_resource(
    State(services): State<Services>,
    Path((db, name)): Path<(String, String)>,
    headers: HeaderMap,
    request: Body,
) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let name = ResourceName::parse(name).map_err(ApiError::bad_request)?;
    let request: PutResource = body::parse(body::json_object(request).await?)?;
    if request.title.trim().is_empty() {
        return Err(ApiError::bad_request("title must not be empty"));
    }
    text_ok("title", &request.title)?;
    if request.notify_fields.len() > MAX_NOTIFY_FIELDS {
        return Err(ApiError::BadRequest(format!("at most {MAX_NOTIFY_FIELDS} notify_fields")));
    }
    for field in &request.notify_fields {
        if field.name.is_empty() || field.name.len() > 64 || field.label.len() > 256 {
            return Err(ApiError::bad_request("a notify field has a name of 1 to 64 bytes and a label of at most 256"));
        }
    }
    let prefix = request.notify_template.unwrap_or_else(|| "notify".to_owned());
    if prefix.is_empty() || prefix.len() > 64 || !prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
        return Err(ApiError::bad_request("notify_template is 1 to 64 characters of a-z, 0-9 and '_'"));
    }
    if let Some(subject) = &request.notify_subject {
        text_ok("notify_subject", subject)?;
        check_subject(subject).map_err(ApiError::BadRequest)?;
    }
    for (field, value) in [("page_url", &request.page_url), ("item_url", &request.item_url)] {
        if let Some(value) = value {
            text_ok(field, value)?;
        }
    }
    let resource = Resource {
        name,
        title: request.title,
        notify_fields: request.notify_fields,
        notify_template: prefix,
        notify_subject: request.notify_subject,
        page_url: request.page_url,
        item_url: request.item_url,
    };
    services.records.store().put_resource(&tenant, &resource).await?;
    Ok(Json(serde_json::to_value(&resource).unwrap_or(Value::Null)))
}

async fn get_resource(State(services): State<Services>, Path((db, name)): Path<(String, String)>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let name = ResourceName::parse(name).map_err(|e| ApiError::NotFound(e.to_string()))?;
    let resource = services.records.resource(&tenant, &name).await?;
    Ok(Json(serde_json::to_value(&resource).unwrap_or(Value::Null)))
}

async fn list_resources(State(services): State<Services>, Path(db): Path<String>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let resources = services.records.store().resources(&tenant).await?;
    Ok(Json(json!({ "resources": resources })))
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

fn names(resource: String, id: String) -> Result<(ResourceName, RecordId), ApiError> {
    Ok((ResourceName::parse(resource).map_err(ApiError::bad_request)?, RecordId::parse(id).map_err(ApiError::bad_request)?))
}

async fn report(
    State(services): State<Services>,
    Path((db, resource, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    request: Body,
) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let (resource, id) = names(resource, id)?;
    let request: ReportBody = body::parse(body::json_object(request).await?)?;
    let report = RecordReport { id, fields: request.fields, acl: request.acl, deleted: false };
    let (record, change) = services.records.report(&tenant, &resource, report).await?;
    Ok(Json(record_json(&record, Some(change))))
}

async fn report_batch(
    State(services): State<Services>,
    Path((db, resource)): Path<(String, String)>,
    headers: HeaderMap,
    request: Body,
) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let resource = ResourceName::parse(resource).map_err(ApiError::bad_request)?;
    let request: BatchBody = body::parse(body::json_object(request).await?)?;
    let reports = request.records.into_iter().map(|r| RecordReport { id: r.id, fields: r.fields, acl: r.acl, deleted: r.deleted }).collect();
    let saved = services.records.report_batch(&tenant, &resource, reports).await?;
    let answer: Vec<Value> = saved
        .iter()
        .map(|(record, change)| json!({"id": record.id, "change": change, "modified_on": record.modified_on.to_rfc3339()}))
        .collect();
    Ok(Json(json!({ "records": answer })))
}

async fn get_record(
    State(services): State<Services>,
    Path((db, resource, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let (resource, id) = names(resource, id).map_err(|e| ApiError::NotFound(e.to_string()))?;
    let record = services.records.store().get_record(&tenant, &resource, &id).await?.ok_or(RecordError::NotFound(id))?;
    Ok(Json(record_json(&record, None)))
}

async fn delete_record(
    State(services): State<Services>,
    Path((db, resource, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let (resource, id) = names(resource, id)?;
    let report = RecordReport { id, fields: Map::new(), acl: Acl::default(), deleted: true };
    let (record, change) = services.records.report(&tenant, &resource, report).await?;
    Ok(Json(record_json(&record, Some(change))))
}
