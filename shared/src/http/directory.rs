//! The directory (admin role): `PUT|GET|DELETE /{db}/users/{id}`,
//! `PUT|GET /{db}/companies/{id}`, `GET /{db}/groups/{name}/members`.
use axum::extract::{RawQuery, State};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminTenant, Id, JsonBody, ListQuery, PageQuery};
use super::openapi::{BodyRefusals, Conflicts, MemberParams, Refusals, TenantPath, WriteRefusals};
use super::ApiError;
use crate::directory::service::{DEFAULT_MEMBERS_PAGE, MAX_MEMBERS_PAGE};
use crate::directory::{Company, CompanyRequest, User, UserRequest};
use crate::domain::{CompanyId, GroupName, UserId};
use crate::services::Services;

pub(super) fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new()
        .routes(routes!(get_user, put_user, delete_user))
        .routes(routes!(get_company, put_company))
        .routes(routes!(group_members))
}

/// Which user was removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedUser {
    pub deleted: UserId,
}

/// A page of a group's active members, by id.
#[derive(Debug, Serialize, ToSchema)]
pub struct Members {
    pub group: GroupName,
    pub members: Vec<UserId>,
    pub next_cursor: Option<UserId>,
}

/// Creates or replaces user `id`.
#[utoipa::path(
    put,
    path = "/{db}/users/{id}",
    tag = "directory",
    params(TenantPath, ("id" = inline(UserId), Path, description = "The user's id")),
    request_body = UserRequest,
    responses((status = 200, description = "Saved", body = User), Refusals, BodyRefusals, Conflicts)
)]
async fn put_user(State(services): State<Services>, admin: AdminTenant, Id(id): Id<UserId>, JsonBody(request): JsonBody<UserRequest>) -> Result<Json<User>, ApiError> {
    Ok(Json(services.directory.put_user(&admin.tenant, id, request).await?))
}

/// User `id`.
#[utoipa::path(
    get,
    path = "/{db}/users/{id}",
    tag = "directory",
    params(TenantPath, ("id" = inline(UserId), Path, description = "The user's id")),
    responses((status = 200, description = "The user", body = User), Refusals)
)]
async fn get_user(State(services): State<Services>, admin: AdminTenant, Id(id): Id<UserId>) -> Result<Json<User>, ApiError> {
    Ok(Json(services.directory.user(&admin.tenant, &id).await?))
}

/// Removes user `id`.
#[utoipa::path(
    delete,
    path = "/{db}/users/{id}",
    tag = "directory",
    params(TenantPath, ("id" = inline(UserId), Path, description = "The user's id")),
    responses((status = 200, description = "Removed", body = DeletedUser), Refusals, WriteRefusals)
)]
async fn delete_user(State(services): State<Services>, admin: AdminTenant, Id(id): Id<UserId>) -> Result<Json<DeletedUser>, ApiError> {
    services.directory.delete_user(&admin.tenant, &id).await?;
    Ok(Json(DeletedUser { deleted: id }))
}

/// Creates or replaces company `id`.
#[utoipa::path(
    put,
    path = "/{db}/companies/{id}",
    tag = "directory",
    params(TenantPath, ("id" = inline(CompanyId), Path, description = "The company's id")),
    request_body = CompanyRequest,
    responses((status = 200, description = "Saved", body = Company), Refusals, BodyRefusals, Conflicts)
)]
async fn put_company(State(services): State<Services>, admin: AdminTenant, Id(id): Id<CompanyId>, JsonBody(request): JsonBody<CompanyRequest>) -> Result<Json<Company>, ApiError> {
    Ok(Json(services.directory.put_company(&admin.tenant, id, request).await?))
}

/// Company `id`.
#[utoipa::path(
    get,
    path = "/{db}/companies/{id}",
    tag = "directory",
    params(TenantPath, ("id" = inline(CompanyId), Path, description = "The company's id")),
    responses((status = 200, description = "The company", body = Company), Refusals)
)]
async fn get_company(State(services): State<Services>, admin: AdminTenant, Id(id): Id<CompanyId>) -> Result<Json<Company>, ApiError> {
    Ok(Json(services.directory.company(&admin.tenant, &id).await?))
}

/// Longest query string of `GET /{db}/groups/{name}/members`.
pub const MAX_MEMBERS_QUERY_BYTES: usize = 512;

/// The active members of group `name`.
#[utoipa::path(
    get,
    path = "/{db}/groups/{name}/members",
    tag = "directory",
    params(TenantPath, ("name" = inline(GroupName), Path, description = "The group"), MemberParams),
    responses((status = 200, description = "A page of members", body = Members), Refusals)
)]
async fn group_members(State(services): State<Services>, admin: AdminTenant, Id(group): Id<GroupName>, RawQuery(query): RawQuery) -> Result<Json<Members>, ApiError> {
    let list = ListQuery { max_bytes: MAX_MEMBERS_QUERY_BYTES, max_limit: MAX_MEMBERS_PAGE, default_limit: DEFAULT_MEMBERS_PAGE, extra: &[] };
    let (page, _) = PageQuery::parse(&query.unwrap_or_default(), list)?;
    let (cursor, limit) = (page.cursor_as(|c| UserId::parse(c))?, page.limit);
    let (members, next_cursor) = services.directory.group_members(&admin.tenant, &group, cursor.as_ref(), limit).await?;
    Ok(Json(Members { group, members, next_cursor }))
}
