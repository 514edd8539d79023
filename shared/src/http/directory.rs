//! The directory (admin role): `PUT|GET|DELETE /{db}/users/{id}`,
//! `PUT|GET /{db}/companies/{id}`, `GET /{db}/groups/{name}/members`.
use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::extract::{AdminTenant, Id, JsonBody};
use super::{json_of, ApiError};
use crate::directory::service::{DEFAULT_MEMBERS_PAGE, MAX_MEMBERS_PAGE};
use crate::directory::{CompanyRequest, UserRequest};
use crate::domain::{CompanyId, GroupName, UserId};
use crate::services::Services;

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/{db}/users/{id}", get(get_user).put(put_user).delete(delete_user))
        .route("/{db}/companies/{id}", get(get_company).put(put_company))
        .route("/{db}/groups/{name}/members", get(group_members))
        .with_state(services)
}

async fn put_user(State(services): State<Services>, admin: AdminTenant, Id(id): Id<UserId>, JsonBody(request): JsonBody<UserRequest>) -> Result<Json<Value>, ApiError> {
    Ok(json_of(&services.directory.put_user(&admin.tenant, id, request).await?))
}

async fn get_user(State(services): State<Services>, admin: AdminTenant, Id(id): Id<UserId>) -> Result<Json<Value>, ApiError> {
    Ok(json_of(&services.directory.user(&admin.tenant, &id).await?))
}

async fn delete_user(State(services): State<Services>, admin: AdminTenant, Id(id): Id<UserId>) -> Result<Json<Value>, ApiError> {
    services.directory.delete_user(&admin.tenant, &id).await?;
    Ok(Json(json!({ "deleted": id })))
}

async fn put_company(State(services): State<Services>, admin: AdminTenant, Id(id): Id<CompanyId>, JsonBody(request): JsonBody<CompanyRequest>) -> Result<Json<Value>, ApiError> {
    Ok(json_of(&services.directory.put_company(&admin.tenant, id, request).await?))
}

async fn get_company(State(services): State<Services>, admin: AdminTenant, Id(id): Id<CompanyId>) -> Result<Json<Value>, ApiError> {
    Ok(json_of(&services.directory.company(&admin.tenant, &id).await?))
}

/// Longest query string of `GET /{db}/groups/{name}/members`.
pub const MAX_MEMBERS_QUERY_BYTES: usize = 512;

async fn group_members(State(services): State<Services>, admin: AdminTenant, Id(group): Id<GroupName>, RawQuery(query): RawQuery) -> Result<Json<Value>, ApiError> {
    let query = query.unwrap_or_default();
    if query.len() > MAX_MEMBERS_QUERY_BYTES {
        return Err(ApiError::BadRequest(format!("the query string exceeds {MAX_MEMBERS_QUERY_BYTES} bytes")));
    }
    let (mut cursor, mut limit) = (None, DEFAULT_MEMBERS_PAGE);
    for (name, value) in serde_urlencoded::from_str::<Vec<(String, String)>>(&query).map_err(ApiError::bad_request)? {
        match name.as_str() {
            "cursor" => cursor = Some(UserId::parse(&value).map_err(|_| ApiError::bad_request("cursor: not one this list gave"))?),
            "limit" => limit = value.parse().map_err(|_| ApiError::BadRequest(format!("limit is 1 to {MAX_MEMBERS_PAGE}")))?,
            other => return Err(ApiError::BadRequest(format!("unknown query parameter '{other}'"))),
        }
    }
    let (members, next) = services.directory.group_members(&admin.tenant, &group, cursor.as_ref(), limit).await?;
    Ok(Json(json!({ "group": group, "members": members, "next_cursor": next })))
}
