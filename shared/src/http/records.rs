//! Resources and records (admin role): `PUT|GET /{db}/resources/{name}`,
//! `GET /{db}/resources`, `PUT|GET|DELETE /{db}/resources/{name}/records/{id}`,
//! `POST /{db}/resources/{name}/records` (a batch of up to 100).
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminTenant, Found, Id, Ids, JsonBody, PageQuery};
use super::openapi::{BodyRefusals, Conflicts, PageParams, Refusals, TenantPath, WriteRefusals};
use super::ApiError;
use crate::domain::{RecordId, ResourceName};
use crate::records::{Acl, Change, Record, RecordReport, Resource, ResourceRequest};
use crate::services::Services;

pub(super) fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(list_resources))
        .routes(routes!(put_resource, get_resource))
        .routes(routes!(report_batch))
        .routes(routes!(report, get_record, delete_record))
}

/// A page of the tenant's resources, by name.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourcePage {
    pub resources: Vec<Resource>,
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    /// The record's fields, as the application has them.
    fields: Map<String, Value>,
    #[serde(default)]
    acl: Acl,
}

#[derive(Deserialize, ToSchema)]
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

/// Up to 100 records, checked whole before any is saved.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct BatchBody {
    records: Vec<BatchEntry>,
}

/// A record as Herald knows it; `change` says what a report did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordView {
    pub resource: ResourceName,
    pub id: RecordId,
    pub fields: Map<String, Value>,
    pub acl: Acl,
    /// RFC 3339.
    pub created_on: String,
    /// RFC 3339.
    pub modified_on: String,
    pub deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
}

impl RecordView {
    fn of(record: Record, change: Option<Change>) -> Self {
        Self {
            resource: record.resource,
            id: record.id,
            fields: record.fields,
            acl: record.acl,
            created_on: record.created_on.to_rfc3339(),
            modified_on: record.modified_on.to_rfc3339(),
            deleted: record.deleted,
            change,
        }
    }
}

/// What one record of a batch did.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchSaved {
    pub id: RecordId,
    pub change: Change,
    /// RFC 3339.
    pub modified_on: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchAnswer {
    pub records: Vec<BatchSaved>,
}

const NAME: &str = "The resource's name";
const RECORD: &str = "The record's id, as the application names it";

/// Registers or replaces resource `name`.
#[utoipa::path(
    put,
    path = "/{db}/resources/{name}",
    tag = "records",
    params(TenantPath, ("name" = inline(ResourceName), Path, description = NAME)),
    request_body = ResourceRequest,
    responses((status = 200, description = "Saved", body = Resource), Refusals, BodyRefusals, Conflicts)
)]
async fn put_resource(State(services): State<Services>, admin: AdminTenant, Id(name): Id<ResourceName>, JsonBody(request): JsonBody<ResourceRequest>) -> Result<Json<Resource>, ApiError> {
    Ok(Json(services.records.put_resource(&admin.tenant, name, request).await?))
}

/// Resource `name`.
#[utoipa::path(
    get,
    path = "/{db}/resources/{name}",
    tag = "records",
    params(TenantPath, ("name" = inline(ResourceName), Path, description = NAME)),
    responses((status = 200, description = "The resource", body = Resource), Refusals)
)]
async fn get_resource(State(services): State<Services>, admin: AdminTenant, Id(Found(name)): Id<Found<ResourceName>>) -> Result<Json<Resource>, ApiError> {
    Ok(Json(services.records.resource(&admin.tenant, &name).await?))
}

/// The tenant's resources.
#[utoipa::path(
    get,
    path = "/{db}/resources",
    tag = "records",
    params(TenantPath, PageParams),
    responses((status = 200, description = "A page of resources", body = ResourcePage), Refusals)
)]
async fn list_resources(State(services): State<Services>, admin: AdminTenant, page: PageQuery) -> Result<Json<ResourcePage>, ApiError> {
    let found = services.records.resources(&admin.tenant, page.cursor.as_deref(), page.limit).await?;
    Ok(Json(ResourcePage { resources: found.items, next_cursor: found.next }))
}

/// Reports record `id` of resource `name` as it now is.
#[utoipa::path(
    put,
    path = "/{db}/resources/{name}/records/{id}",
    tag = "records",
    params(TenantPath, ("name" = inline(ResourceName), Path, description = NAME), ("id" = inline(RecordId), Path, description = RECORD)),
    request_body = ReportBody,
    responses((status = 200, description = "Saved, with what changed", body = RecordView), Refusals, BodyRefusals, Conflicts)
)]
async fn report(
    State(services): State<Services>,
    admin: AdminTenant,
    Ids(resource, id): Ids<ResourceName, RecordId>,
    JsonBody(request): JsonBody<ReportBody>,
) -> Result<Json<RecordView>, ApiError> {
    let report = RecordReport { id, fields: request.fields, acl: request.acl, deleted: false };
    let (record, change) = services.records.report(&admin.tenant, &resource, report).await?;
    Ok(Json(RecordView::of(record, Some(change))))
}

/// Reports up to 100 records of resource `name` at once.
#[utoipa::path(
    post,
    path = "/{db}/resources/{name}/records",
    tag = "records",
    params(TenantPath, ("name" = inline(ResourceName), Path, description = NAME)),
    request_body = BatchBody,
    responses((status = 200, description = "Saved, each with what changed", body = BatchAnswer), Refusals, BodyRefusals, Conflicts)
)]
async fn report_batch(State(services): State<Services>, admin: AdminTenant, Id(resource): Id<ResourceName>, JsonBody(request): JsonBody<BatchBody>) -> Result<Json<BatchAnswer>, ApiError> {
    let reports = request.records.into_iter().map(|r| RecordReport { id: r.id, fields: r.fields, acl: r.acl, deleted: r.deleted }).collect();
    let saved = services.records.report_batch(&admin.tenant, &resource, reports).await?;
    let records = saved.into_iter().map(|(record, change)| BatchSaved { id: record.id, change, modified_on: record.modified_on.to_rfc3339() }).collect();
    Ok(Json(BatchAnswer { records }))
}

/// Record `id` of resource `name`.
#[utoipa::path(
    get,
    path = "/{db}/resources/{name}/records/{id}",
    tag = "records",
    params(TenantPath, ("name" = inline(ResourceName), Path, description = NAME), ("id" = inline(RecordId), Path, description = RECORD)),
    responses((status = 200, description = "The record", body = RecordView), Refusals)
)]
async fn get_record(State(services): State<Services>, admin: AdminTenant, Ids(Found(resource), Found(id)): Ids<Found<ResourceName>, Found<RecordId>>) -> Result<Json<RecordView>, ApiError> {
    let record = services.records.record(&admin.tenant, &resource, &id).await?;
    Ok(Json(RecordView::of(record, None)))
}

/// Reports record `id` of resource `name` deleted.
#[utoipa::path(
    delete,
    path = "/{db}/resources/{name}/records/{id}",
    tag = "records",
    params(TenantPath, ("name" = inline(ResourceName), Path, description = NAME), ("id" = inline(RecordId), Path, description = RECORD)),
    responses((status = 200, description = "Deleted, with what changed", body = RecordView), Refusals, WriteRefusals, Conflicts)
)]
async fn delete_record(State(services): State<Services>, admin: AdminTenant, Ids(resource, id): Ids<ResourceName, RecordId>) -> Result<Json<RecordView>, ApiError> {
    let report = RecordReport { id, fields: Map::new(), acl: Acl::default(), deleted: true };
    let (record, change) = services.records.report(&admin.tenant, &resource, report).await?;
    Ok(Json(RecordView::of(record, Some(change))))
}
