//! Every route's preamble as an axum extractor: who is calling (an admin of
//! the path's tenant, a signed-in user of it, an active user of its
//! directory), the path's ids parsed with the route's refusal, and a JSON
//! object body within limits. Extractors run in the order a handler names
//! them, body last: a request is refused for its credentials first, then
//! its tenant, then its ids, then its body.
use std::future::Future;
use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::edge::ClientAddress;
use super::ApiError;
use crate::auth::{AuthError, Credential, Principal};
use crate::domain::{CompanyId, GroupName, NotificationId, RecordId, ResourceName, SubscriptionId, TenantId, UserId};
use crate::inbox::InboxId;
use crate::notifications::TypeKey;
use crate::services::Services;

/// Largest request body any route accepts (a typed notification's own
/// body is smaller: `notifications::model::MAX_BODY_BYTES`).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// The longest a body may take to arrive, however slowly it trickles in.
pub const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The path's parameters (percent-decoded), in order; a JSON 400 with
/// axum's reason when one is not UTF-8. axum's other rejections are its
/// own 500s for a route written wrong, which no request can reach.
async fn path_params<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<Vec<(String, String)>, Response> {
    let Path(params) = Path::<Vec<(String, String)>>::from_request_parts(parts, state).await.map_err(|rejection| {
        if rejection.status().is_client_error() {
            ApiError::BadRequest(rejection.body_text()).into_response()
        } else {
            rejection.into_response()
        }
    })?;
    Ok(params)
}

/// The caller, authenticated. A request carrying the session cookie that
/// changes anything must say its body is JSON: a page of another site can
/// make a browser send a cookie with a plain-text or form POST, never with
/// `application/json` unless CORS lets that site (a preflight asks first).
fn authenticate(services: &Services, parts: &Parts) -> Result<Principal, ApiError> {
    cookie_rule(parts, services.auth.authenticate(&parts.headers)?)
}

/// The caller of a tenant's route: a token, or a live Tryton session of
/// that tenant mirrored by its site, from the address it is bound to.
async fn authenticate_for(services: &Services, parts: &Parts, tenant: impl FnOnce() -> Result<TenantId, ApiError>) -> Result<(Principal, TenantId), ApiError> {
    match Credential::of(&parts.headers)? {
        Credential::Token { token, session_uid, source } => {
            let principal = cookie_rule(parts, services.auth.verify(&token, session_uid, source)?)?;
            Ok((principal, tenant()?))
        }
        Credential::TrytonSession { user, key, source } => {
            let tenant = tenant()?;
            let address = parts.extensions.get::<ClientAddress>().map(|a| a.0);
            match services.sessions.verify(&tenant, &user, &key, address).await? {
                Ok(grant) => Ok((cookie_rule(parts, Principal::tryton_session(grant.user, &tenant, grant.channels, source))?, tenant)),
                Err(refusal) => {
                    tracing::info!(%tenant, user = %user, ?refusal, "a Tryton session was refused");
                    Err(AuthError::Invalid("the Tryton session is not one this site shared with Herald, has ended, or is used from another address".into()).into())
                }
            }
        }
    }
}

/// A request carrying the session cookie that changes anything must say
/// its body is JSON.
fn cookie_rule(parts: &Parts, principal: Principal) -> Result<Principal, ApiError> {
    let safe = matches!(parts.method, http::Method::GET | http::Method::HEAD | http::Method::OPTIONS);
    if principal.via_cookie() && !safe && !declares_json(&parts.headers) {
        return Err(ApiError::UnsupportedMediaType(
            "a request authenticated by the session cookie must send 'Content-Type: application/json'".into(),
        ));
    }
    Ok(principal)
}

/// `application/json`, or a `+json` type, with any parameters.
fn declares_json(headers: &http::HeaderMap) -> bool {
    let Some(value) = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// An authenticated caller whose token allows the path's tenant (`{db}`),
/// and who meets `R` ([`SignedIn`], [`AdminTenant`], [`ActiveUser`]).
#[derive(Debug, Clone)]
pub struct Authorized<R> {
    pub tenant: TenantId,
    pub principal: Principal,
    meets: PhantomData<R>,
}

/// What a caller must be, beyond signed in to the path's tenant.
pub trait Requirement: Send + Sync {
    fn check(services: &Services, tenant: &TenantId, principal: &Principal) -> impl Future<Output = Result<(), ApiError>> + Send;
}

/// Nothing more: any user the token names.
#[derive(Debug, Clone, Copy)]
pub struct AnyUser;

/// The admin role.
#[derive(Debug, Clone, Copy)]
pub struct AdminRole;

/// An active user of the tenant's directory: who may own an inbox.
#[derive(Debug, Clone, Copy)]
pub struct InDirectory;

impl Requirement for AnyUser {
    async fn check(_: &Services, _: &TenantId, _: &Principal) -> Result<(), ApiError> {
        Ok(())
    }
}

impl Requirement for AdminRole {
    async fn check(_: &Services, _: &TenantId, principal: &Principal) -> Result<(), ApiError> {
        Ok(principal.require_admin()?)
    }
}

impl Requirement for InDirectory {
    async fn check(services: &Services, tenant: &TenantId, principal: &Principal) -> Result<(), ApiError> {
        services.directory.active_user(tenant, &principal.user).await?;
        Ok(())
    }
}

/// The signed-in user of the path's tenant.
pub type SignedIn = Authorized<AnyUser>;
/// An admin of the path's tenant.
pub type AdminTenant = Authorized<AdminRole>;
/// The signed-in user, an active user of the tenant's directory.
pub type ActiveUser = Authorized<InDirectory>;

impl<S, R> FromRequestParts<S> for Authorized<R>
where
    Services: FromRef<S>,
    S: Send + Sync,
    R: Requirement,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let params = path_params(parts, state).await?;
        let services = Services::from_ref(state);
        let db = params.iter().find(|(name, _)| name == "db").map_or("", |(_, value)| value.as_str());
        let (principal, tenant) = authenticate_for(&services, parts, || TenantId::parse(db).map_err(ApiError::bad_request)).await?;
        principal.require_tenant(&tenant).map_err(ApiError::from)?;
        R::check(&services, &tenant, &principal).await?;
        Ok(Self { tenant, principal, meets: PhantomData })
    }
}

/// An admin of every tenant (`"db": "*"`): `herald-local`'s own routes,
/// which have no `{db}` and act on all tenants at once (the one clock, every
/// tenant's jobs), so an admin of one tenant may not call them.
#[derive(Debug, Clone)]
pub struct Operator(pub Principal);

impl<S> FromRequestParts<S> for Operator
where
    Services: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let principal = authenticate(&Services::from_ref(state), parts)?;
        principal.require_every_tenant()?;
        principal.require_admin()?;
        Ok(Self(principal))
    }
}

/// A path parameter, parsed with the refusal its kind gets.
pub trait FromParam: Sized {
    fn from_param(value: &str) -> Result<Self, ApiError>;
}

/// Ids a caller names to create or change: a malformed one is a bad request.
macro_rules! bad_request_when_malformed {
    ($($id:ty),*) => {$(
        impl FromParam for $id {
            fn from_param(value: &str) -> Result<Self, ApiError> {
                <$id>::parse(value).map_err(ApiError::bad_request)
            }
        }
    )*};
}

bad_request_when_malformed!(UserId, CompanyId, GroupName, TypeKey, ResourceName, RecordId);

/// Ids Herald hands out: a malformed one names nothing there is.
macro_rules! not_found_when_malformed {
    ($($id:ty => $what:literal),*) => {$(
        impl FromParam for $id {
            fn from_param(value: &str) -> Result<Self, ApiError> {
                <$id>::parse(value).map_err(|_| ApiError::NotFound(concat!("no such ", $what).into()))
            }
        }
    )*};
}

not_found_when_malformed!(InboxId => "inbox item", NotificationId => "notification", SubscriptionId => "subscription");

/// A name the service checks itself, with the rest of the request.
impl FromParam for String {
    fn from_param(value: &str) -> Result<Self, ApiError> {
        Ok(value.to_owned())
    }
}

/// An id on a route that only reads: a malformed one is not found (404),
/// with the reason.
#[derive(Debug, Clone)]
pub struct Found<T>(pub T);

impl<T: FromParam> FromParam for Found<T> {
    fn from_param(value: &str) -> Result<Self, ApiError> {
        T::from_param(value).map(Found).map_err(|e| match e {
            ApiError::BadRequest(message) => ApiError::NotFound(message),
            other => other,
        })
    }
}

/// The last parameter of the path (`{id}`, `{name}`, `{key}`).
#[derive(Debug, Clone)]
pub struct Id<T>(pub T);

impl<S: Send + Sync, T: FromParam> FromRequestParts<S> for Id<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let params = path_params(parts, state).await?;
        let last = params.last().map_or("", |(_, value)| value.as_str());
        Ok(Self(T::from_param(last)?))
    }
}

/// The last two parameters of the path (`{name}/records/{id}`), in order.
#[derive(Debug, Clone)]
pub struct Ids<A, B>(pub A, pub B);

impl<S: Send + Sync, A: FromParam, B: FromParam> FromRequestParts<S> for Ids<A, B> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let params = path_params(parts, state).await?;
        let values: Vec<&str> = params.iter().map(|(_, value)| value.as_str()).collect();
        let [.., a, b] = values.as_slice() else {
            return Err(ApiError::NotFound("no such route".into()).into_response());
        };
        Ok(Self(A::from_param(a)?, B::from_param(b)?))
    }
}

/// The body as a JSON object, or `None` for an empty (or blank) one.
async fn json_object(request: Request) -> Result<Option<Map<String, Value>>, ApiError> {
    let bytes = tokio::time::timeout(BODY_READ_TIMEOUT, axum::body::to_bytes(request.into_body(), MAX_REQUEST_BYTES))
        .await
        .map_err(|_| ApiError::RequestTimeout(format!("the body did not arrive within {} s", BODY_READ_TIMEOUT.as_secs())))?
        .map_err(|_| ApiError::BadRequest(format!("the body exceeds {MAX_REQUEST_BYTES} bytes")))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: Value = super::strict_json::parse(&bytes).map_err(|e| ApiError::bad_request(format_args!("the body is not valid JSON: {e}")))?;
    match value {
        Value::Object(map) => Ok(Some(map)),
        _ => Err(ApiError::bad_request("the body must be a JSON object")),
    }
}

/// A typed request out of a JSON object; serde's message names the field.
fn parse<T: DeserializeOwned>(object: Map<String, Value>) -> Result<T, ApiError> {
    serde_json::from_value(Value::Object(object)).map_err(|e| ApiError::bad_request(format_args!("invalid request: {e}")))
}

/// A JSON object body of at most [`MAX_REQUEST_BYTES`], as a `T`.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        let object = json_object(request).await?.ok_or_else(|| ApiError::bad_request("the body must be a JSON object"))?;
        parse(object).map(Self)
    }
}

/// As [`JsonBody`], where an empty body means `None`.
#[derive(Debug, Clone)]
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        json_object(request).await?.map(parse).transpose().map(Self)
    }
}

/// Longest query string of a list route paged with [`PageQuery`].
pub const MAX_PAGE_QUERY_BYTES: usize = 512;

/// `?limit=N&cursor=C` of a list route; any other parameter is refused
/// unless the route names it. As an extractor: the bounds of
/// [`ListQuery::DEFAULT`].
#[derive(Debug, Clone)]
pub struct PageQuery {
    pub limit: usize,
    pub cursor: Option<String>,
}

/// What a list route's query may hold.
#[derive(Debug, Clone, Copy)]
pub struct ListQuery<'a> {
    /// Longest query string.
    pub max_bytes: usize,
    /// `limit` is 1 to this; `default_limit` when absent.
    pub max_limit: usize,
    pub default_limit: usize,
    /// Further parameters the route reads itself.
    pub extra: &'a [&'a str],
}

impl ListQuery<'_> {
    /// Types and resources: 1 to `paging::MAX_PAGE`, `paging::DEFAULT_PAGE`.
    pub const DEFAULT: ListQuery<'static> = ListQuery {
        max_bytes: MAX_PAGE_QUERY_BYTES,
        max_limit: crate::domain::paging::MAX_PAGE,
        default_limit: crate::domain::paging::DEFAULT_PAGE,
        extra: &[],
    };
}

/// Longest cursor a list gives.
const MAX_CURSOR_BYTES: usize = 256;

impl PageQuery {
    /// The page `query` asks for, and its `extra` parameters in order.
    pub fn parse(query: &str, list: ListQuery<'_>) -> Result<(Self, Vec<(String, String)>), ApiError> {
        if query.len() > list.max_bytes {
            return Err(ApiError::BadRequest(format!("the query string exceeds {} bytes", list.max_bytes)));
        }
        let mut page = Self { limit: list.default_limit, cursor: None };
        let mut extra = Vec::new();
        for (name, value) in serde_urlencoded::from_str::<Vec<(String, String)>>(query).map_err(ApiError::bad_request)? {
            match name.as_str() {
                "limit" => {
                    page.limit = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=list.max_limit).contains(n))
                        .ok_or_else(|| ApiError::BadRequest(format!("limit is 1 to {}", list.max_limit)))?
                }
                "cursor" if !value.is_empty() && value.len() <= MAX_CURSOR_BYTES => page.cursor = Some(value),
                "cursor" => return Err(ApiError::bad_request("cursor: not one this list gave")),
                other if list.extra.contains(&other) => extra.push((name, value)),
                other => return Err(ApiError::BadRequest(format!("unknown query parameter '{other}'"))),
            }
        }
        Ok((page, extra))
    }

    /// The cursor as the id the list gave, or the refusal of any other.
    pub fn cursor_as<T, E>(&self, parse: impl FnOnce(&str) -> Result<T, E>) -> Result<Option<T>, ApiError> {
        self.cursor.as_deref().map(|c| parse(c).map_err(|_| ApiError::bad_request("cursor: not one this list gave"))).transpose()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Self::parse(parts.uri.query().unwrap_or_default(), ListQuery::DEFAULT).map(|(page, _)| page)
    }
}
