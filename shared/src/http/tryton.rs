//! A Tryton site's module mirrors its sessions (admin role of the site's
//! tenant): `PUT /{db}/tryton/sessions` when users log in (and a full push
//! at install), `POST /{db}/tryton/sessions/remove` when they log out,
//! `POST /{db}/tryton/sessions/prune` after a full push (docs/tryton.md).
use std::net::IpAddr;
use std::time::Duration;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{AdminTenant, JsonBody};
use super::notifications::time;
use super::openapi::{time_schema, BodyRefusals, Refusals, TenantPath};
use super::ApiError;
use crate::domain::UserId;
use crate::services::Services;
use crate::sessions::{KeyHash, MirrorRequest, RemoveRequest};

pub(super) fn routes() -> OpenApiRouter<Services> {
    OpenApiRouter::new().routes(routes!(mirror)).routes(routes!(remove)).routes(routes!(prune))
}

/// One trytond session: never its key, only the key's SHA-256.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SessionBody {
    /// The user id (trytond's `res.user` id).
    #[schema(schema_with = crate::domain::schema::user_ref)]
    user: Value,
    /// SHA-256 of the session key, 64 lowercase hex digits.
    key_sha256: String,
    /// When trytond created it (RFC 3339, or milliseconds since the epoch).
    #[schema(schema_with = time_schema)]
    created_at: Value,
    /// trytond's `[session] max_age`, in seconds (Herald honours 90 days at most).
    max_age: u64,
    /// The address trytond bound it to, if any.
    #[serde(default)]
    ip: Option<String>,
    /// Shared bus channels the session may read (`chat:*`), as a token's claim.
    #[serde(default)]
    channels: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MirrorBody {
    /// At most 200.
    sessions: Vec<SessionBody>,
}

/// What a mirror stored, and Herald's time of it (a prune after a full
/// push names the time the push began).
#[derive(Serialize, ToSchema)]
struct Mirrored {
    mirrored: usize,
    /// RFC 3339.
    at: String,
}

fn user(value: &Value) -> Result<UserId, ApiError> {
    UserId::from_json(value).map_err(|e| ApiError::BadRequest(format!("user: {e}")))
}

fn hash(text: &str) -> Result<KeyHash, ApiError> {
    KeyHash::parse(text).map_err(ApiError::BadRequest)
}

/// Mirrors sessions trytond opened (each replacing what was mirrored of it).
#[utoipa::path(
    put,
    path = "/{db}/tryton/sessions",
    tag = "tryton",
    params(TenantPath),
    request_body = MirrorBody,
    responses((status = 200, description = "Mirrored", body = Mirrored), Refusals, BodyRefusals)
)]
async fn mirror(State(services): State<Services>, admin: AdminTenant, JsonBody(body): JsonBody<MirrorBody>) -> Result<Json<Mirrored>, ApiError> {
    let mut sessions = Vec::with_capacity(body.sessions.len());
    for session in body.sessions {
        sessions.push(MirrorRequest {
            user: user(&session.user)?,
            key_hash: hash(&session.key_sha256)?,
            created_at: time("created_at", Some(session.created_at))?.ok_or_else(|| ApiError::BadRequest("created_at is required".into()))?,
            max_age: Duration::from_secs(session.max_age),
            ip: session.ip.map(|ip| ip.parse::<IpAddr>().map_err(|_| ApiError::BadRequest(format!("ip: '{ip}' is not an IP address")))).transpose()?,
            channels: session.channels,
        });
    }
    let mirrored = sessions.len();
    let at = services.sessions.mirror(&admin.tenant, sessions).await?;
    Ok(Json(Mirrored { mirrored, at: at.to_rfc3339() }))
}

/// A session named by its user and key hash.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SessionKey {
    #[schema(schema_with = crate::domain::schema::user_ref)]
    user: Value,
    key_sha256: String,
}

impl SessionKey {
    fn parse(&self) -> Result<(UserId, KeyHash), ApiError> {
        Ok((user(&self.user)?, hash(&self.key_sha256)?))
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RemoveBody {
    /// Sessions closed (a logout).
    #[serde(default)]
    sessions: Vec<SessionKey>,
    /// Users all of whose sessions end (trytond's `clear`).
    #[serde(default)]
    #[schema(schema_with = crate::domain::schema::user_refs)]
    users: Vec<Value>,
}

#[derive(Serialize, ToSchema)]
struct Removed {
    removed: usize,
}

/// Removes sessions trytond closed: each is refused from then on.
#[utoipa::path(
    post,
    path = "/{db}/tryton/sessions/remove",
    tag = "tryton",
    params(TenantPath),
    request_body = RemoveBody,
    responses((status = 200, description = "Removed", body = Removed), Refusals, BodyRefusals)
)]
async fn remove(State(services): State<Services>, admin: AdminTenant, JsonBody(body): JsonBody<RemoveBody>) -> Result<Json<Removed>, ApiError> {
    let request = RemoveRequest {
        sessions: body.sessions.iter().map(SessionKey::parse).collect::<Result<_, _>>()?,
        users: body.users.iter().map(user).collect::<Result<_, _>>()?,
    };
    let removed = services.sessions.remove(&admin.tenant, request).await?;
    Ok(Json(Removed { removed }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PruneBody {
    /// Sessions not mirrored since this time go (the time a full push began).
    #[schema(schema_with = time_schema)]
    mirrored_before: Value,
    /// Where to go on (the `next` of the previous answer).
    #[serde(default)]
    after: Option<SessionKey>,
}

#[derive(Serialize, ToSchema)]
struct Pruned {
    removed: usize,
    /// Call again with this as `after` while it is not null.
    next: Option<SessionKey>,
}

/// After a full push: removes, a page at a time, the sessions it did not
/// name (trytond no longer has them) and those that ended.
#[utoipa::path(
    post,
    path = "/{db}/tryton/sessions/prune",
    tag = "tryton",
    params(TenantPath),
    request_body = PruneBody,
    responses((status = 200, description = "Pruned", body = Pruned), Refusals, BodyRefusals)
)]
async fn prune(State(services): State<Services>, admin: AdminTenant, JsonBody(body): JsonBody<PruneBody>) -> Result<Json<Pruned>, ApiError> {
    let before = time("mirrored_before", Some(body.mirrored_before))?.ok_or_else(|| ApiError::BadRequest("mirrored_before is required".into()))?;
    let after = body.after.as_ref().map(SessionKey::parse).transpose()?;
    let (removed, next) = services.sessions.prune(&admin.tenant, before, after).await?;
    let next = next.map(|(user, hash)| SessionKey { user: Value::String(user.to_string()), key_sha256: hash.to_string() });
    Ok(Json(Pruned { removed, next }))
}
