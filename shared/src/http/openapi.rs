//! The written contract of the HTTP API: an OpenAPI 3.1 document generated
//! from the routers themselves (each route is registered with its
//! `#[utoipa::path]`, so a route cannot exist undocumented). herald-local
//! serves it at `GET /openapi.json`; `docs/openapi.json` is the committed
//! copy, and the suite fails when they differ.
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder, Schema};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, ToSchema};

use crate::auth::SESSION_COOKIE;
use crate::domain::TenantId;

/// Every refusal's body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code: `bad_request`, `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `quota_exceeded`, `request_timeout`,
    /// `unsupported_media_type`, `uri_too_long`, `headers_too_large`,
    /// `method_not_allowed`, `unavailable`.
    pub error: String,
    /// What was wrong, for a person.
    pub message: String,
}

/// The `{db}` every route starts with. Only described here: the
/// `extract::Authorized` extractor parses it.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct TenantPath {
    /// The tenant (Tryton's database name); the token must allow it.
    #[param(inline)]
    db: TenantId,
}

/// `{"deleted": true}`: what a removal answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    pub deleted: bool,
}

/// Every refusal the API answers: status, name among the document's
/// responses, and when.
const REFUSALS: [(u16, &str, &str); 10] = [
    (400, "BadRequest", "The request is malformed or a value is refused (the message says which)."),
    (401, "Unauthorized", "No token, or one that is expired, forged or not yet valid."),
    (403, "Forbidden", "The token is not for this tenant, or lacks the role."),
    (404, "NotFound", "The named thing does not exist (or is not the caller's), or the caller is not an active user."),
    (408, "RequestTimeout", "The body did not arrive in time."),
    (409, "Conflict", "A quota is reached (`quota_exceeded`) or the request conflicts with what is stored."),
    (414, "UriTooLong", "The request line is too long."),
    (415, "UnsupportedMediaType", "Authenticated by the session cookie, the request does not say `Content-Type: application/json`."),
    (431, "HeadersTooLarge", "The request headers are too large."),
    (503, "Unavailable", "The store is unavailable; retry later."),
];

/// References to the refusals of `statuses`.
fn refusals(statuses: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    REFUSALS
        .iter()
        .filter(|(status, ..)| statuses.contains(status))
        .map(|(status, name, _)| (status.to_string(), RefOr::Ref(Ref::new(format!("#/components/responses/{name}")))))
        .collect()
}

/// What any route may answer instead of its result.
pub struct Refusals;

impl IntoResponses for Refusals {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refusals(&[400, 401, 403, 404, 414, 431, 503])
    }
}

/// What a route that changes something may also answer.
pub struct WriteRefusals;

impl IntoResponses for WriteRefusals {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refusals(&[415])
    }
}

/// What a route that reads a JSON body may also answer.
pub struct BodyRefusals;

impl IntoResponses for BodyRefusals {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refusals(&[408, 415])
    }
}

/// What a route that creates something may also answer.
pub struct Conflicts;

impl IntoResponses for Conflicts {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        refusals(&[409])
    }
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (_, name, description) in REFUSALS {
            let body = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
            components.responses.insert(name.to_owned(), ResponseBuilder::new().description(description).content("application/json", body).build().into());
        }
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()));
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "Tryton's `login:uid:jwt` session cookie; writes with it must be JSON.",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Herald",
        description = "Notifications and subscriptions for Tryton, Sahana Eden, enDI and their like: the long-polling bus, the in-app inbox, email, subscriptions to record changes.",
        license(name = "MIT OR Apache-2.0")
    ),
    security(("bearer" = []), ("session_cookie" = [])),
    components(schemas(ErrorBody)),
    modifiers(&Security)
)]
struct Base;

/// The document: every route of every HTTP function.
pub fn document() -> Value {
    let mut document = utoipa_axum::router::OpenApiRouter::<crate::services::Services>::with_openapi(Base::openapi()).merge(super::every_route()).into_openapi();
    document.info.version = env!("CARGO_PKG_VERSION").to_owned();
    // Handlers are named within their module (`list`, `show`): the tag,
    // which is the module, makes the operation's id unique.
    for item in document.paths.paths.values_mut() {
        for operation in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete].into_iter().flatten() {
            let tag = operation.tags.as_ref().and_then(|tags| tags.first()).cloned().unwrap_or_default();
            operation.operation_id = operation.operation_id.take().map(|id| format!("{tag}_{id}"));
        }
    }
    let mut document = serde_json::to_value(document).unwrap_or(Value::Null);
    constrain(&mut document);
    document
}

/// The document as herald-local serves it and `docs/openapi.json` holds it.
pub fn document_json() -> String {
    serde_json::to_string_pretty(&document()).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The limits the services check, from their constants, on the request
/// fields they bound (attributes take only literals): (schema, property,
/// keywords). Lengths are bytes in the services and characters in JSON
/// Schema, so a text of multibyte characters may still be refused.
pub fn field_limits() -> Vec<(&'static str, &'static str, Value)> {
    use crate::bus::{channel, cursor, service as bus};
    use crate::directory::model as directory;
    use crate::notifications::{model as notifications, types};
    use crate::records::{model as records, service as record_service};
    use crate::subscriptions::render;
    // `\S`: not blank, as the services' `trim().is_empty()` checks.
    let named = |max: usize| json!({"minLength": 1, "maxLength": max, "pattern": "\\S"});
    let text = |min: usize, max: usize| json!({"minLength": min, "maxLength": max});
    let without_hash = |max: usize| json!({"minLength": 1, "maxLength": max, "pattern": "^[^#]+$"});
    let at_most = |max: usize| json!({"maxItems": max});
    let mut limits = vec![
        ("UserRequest", "login", named(directory::MAX_DIRECTORY_TEXT_BYTES)),
        ("UserRequest", "account_type", named(directory::MAX_DIRECTORY_TEXT_BYTES)),
        ("UserRequest", "locale", named(directory::MAX_DIRECTORY_TEXT_BYTES)),
        ("UserRequest", "timezone", named(directory::MAX_DIRECTORY_TEXT_BYTES)),
        ("UserRequest", "groups", at_most(directory::MAX_GROUPS_PER_USER)),
        ("UserRequest", "companies", at_most(directory::MAX_COMPANIES_PER_USER)),
        ("UserRequest", "contacts", at_most(directory::MAX_CONTACTS_PER_USER)),
        ("CompanyRequest", "name", named(directory::MAX_DIRECTORY_TEXT_BYTES)),
        ("TypeRequest", "label", named(types::MAX_LABEL_BYTES)),
        ("ResourceRequest", "title", named(records::MAX_RESOURCE_TEXT_BYTES)),
        ("ResourceRequest", "notify_fields", at_most(records::MAX_NOTIFY_FIELDS)),
        ("ResourceRequest", "notify_template", json!({"minLength": 1, "maxLength": records::MAX_NOTIFY_TEMPLATE_BYTES, "pattern": "^[a-z0-9_]+$"})),
        ("NotifyField", "name", text(1, records::MAX_NOTIFY_FIELD_NAME_BYTES)),
        ("NotifyField", "label", text(0, records::MAX_NOTIFY_FIELD_LABEL_BYTES)),
        ("Acl", "users", at_most(records::MAX_ACL_ENTRIES)),
        ("Acl", "groups", at_most(records::MAX_ACL_ENTRIES)),
        ("Acl", "companies", at_most(records::MAX_ACL_ENTRIES)),
        ("BatchBody", "records", at_most(record_service::MAX_BATCH)),
        // At most `subscriptions::MAX_RESOURCES` once duplicates are dropped,
        // so no `maxItems`.
        ("SubscriptionRequest", "resources", json!({"minItems": 1})),
        // A u32: utoipa says int32.
        ("Contact", "priority", json!({"format": "int64", "minimum": 0, "maximum": u32::MAX})),
        ("PutTemplate", "source", text(0, render::MAX_TEMPLATE_BYTES)),
        ("PollRequest", "channels", at_most(channel::MAX_CHANNELS)),
        ("PollRequest", "last_message", text(0, cursor::MAX_CURSOR_LEN)),
        ("PublishRequest", "channel", text(1, channel::MAX_CHANNEL_BYTES)),
        ("NotifyRequest", "title", named(bus::MAX_NOTIFY_TITLE_BYTES)),
        ("NotifyRequest", "body", text(0, bus::MAX_NOTIFY_BODY_BYTES)),
        ("NotifyRequest", "client", text(1, bus::MAX_CLIENT_ID_BYTES)),
        ("NotifyRequest", "priority", json!({"minimum": 0, "maximum": 3})),
        ("SendBody", "title", named(notifications::MAX_TITLE_BYTES)),
        ("SendBody", "body", text(0, notifications::MAX_BODY_BYTES)),
        ("SendBody", "body_html", text(0, notifications::MAX_BODY_BYTES)),
        ("SendBody", "idempotency_key", without_hash(notifications::MAX_IDEMPOTENCY_KEY_BYTES)),
        ("Context", "table", without_hash(notifications::MAX_CONTEXT_BYTES)),
        ("Context", "id", without_hash(notifications::MAX_CONTEXT_BYTES)),
        ("RecipientSpec", "account_type", text(1, 64)),
        ("PublishBatch", "messages", at_most(bus::MAX_BATCH_MESSAGES)),
        ("BatchMessage", "channel", text(1, channel::MAX_CHANNEL_BYTES)),
        ("BatchMessage", "id", json!({"minLength": 1, "maxLength": bus::MAX_PUBLICATION_ID_BYTES, "pattern": "^[A-Za-z0-9._:-]+$"})),
        ("MirrorBody", "sessions", at_most(crate::sessions::MAX_SESSIONS_PER_REQUEST)),
        ("SessionBody", "key_sha256", json!({"pattern": "^[0-9a-f]{64}$"})),
        ("SessionBody", "channels", at_most(32)),
        ("SessionKey", "key_sha256", json!({"pattern": "^[0-9a-f]{64}$"})),
        ("RemoveBody", "sessions", at_most(crate::sessions::MAX_SESSIONS_PER_REQUEST)),
        ("RemoveBody", "users", at_most(crate::sessions::MAX_SESSIONS_PER_REQUEST)),
    ];
    for list in ["users", "groups", "companies", "followers_of", "fallback_groups"] {
        limits.push(("RecipientSpec", list, at_most(notifications::MAX_RECIPIENT_ENTRIES)));
    }
    for url in ["notify_subject", "page_url", "item_url"] {
        limits.push(("ResourceRequest", url, text(0, records::MAX_RESOURCE_TEXT_BYTES)));
    }
    limits
}

/// Puts [`field_limits`] into the document's schemas; the (schema,
/// property) pairs it did not find.
pub fn constrain(document: &mut Value) -> Vec<String> {
    let mut missing = Vec::new();
    for (schema, property, keywords) in field_limits() {
        let target = document.pointer_mut(&format!("/components/schemas/{schema}/properties/{property}")).and_then(Value::as_object_mut);
        match (target, keywords) {
            (Some(target), Value::Object(keywords)) => target.extend(keywords),
            _ => missing.push(format!("{schema}.{property}")),
        }
    }
    missing
}

pub(super) fn limit(max: usize, default: usize) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .minimum(Some(1))
        .maximum(Some(max as f64))
        .default(Some(default.into()))
        .build()
}

fn page_limit() -> utoipa::openapi::Object {
    limit(crate::domain::paging::MAX_PAGE, crate::domain::paging::DEFAULT_PAGE)
}

fn members_limit() -> utoipa::openapi::Object {
    use crate::directory::service::{DEFAULT_MEMBERS_PAGE, MAX_MEMBERS_PAGE};
    limit(MAX_MEMBERS_PAGE, DEFAULT_MEMBERS_PAGE)
}

fn inbox_limit() -> utoipa::openapi::Object {
    use crate::inbox::service::{DEFAULT_LIMIT, MAX_LIMIT};
    limit(MAX_LIMIT, DEFAULT_LIMIT)
}

// The query parameters of the list routes, as described. Each route parses
// its own query (and refuses any other parameter); these only say what it
// takes.

/// `?limit&cursor` of the types and resources lists.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageParams {
    /// How many a page holds.
    #[param(schema_with = page_limit)]
    limit: Option<usize>,
    /// The `next_cursor` of the page before.
    #[param(min_length = 1, max_length = 256)]
    cursor: Option<String>,
}

/// `?limit&cursor` of a group's members.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct MemberParams {
    #[param(schema_with = members_limit)]
    limit: Option<usize>,
    #[param(inline)]
    cursor: Option<crate::domain::UserId>,
}

/// Which of the caller's inbox items: unread and due by default.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct InboxParams {
    #[param(inline)]
    state: Option<ReadStateParam>,
    #[param(inline)]
    channel: Option<crate::notifications::Channel>,
    #[param(inline)]
    key: Option<crate::notifications::TypeKey>,
    /// Items due before this time (RFC 3339, or milliseconds since the epoch).
    due_before: Option<String>,
    #[param(schema_with = inbox_limit)]
    limit: Option<usize>,
    #[param(inline)]
    cursor: Option<crate::inbox::InboxId>,
}

/// `state` of the inbox list.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ReadStateParam {
    Unread,
    Read,
    All,
}

/// A time a request may give: RFC 3339 text or milliseconds since the epoch.
pub fn time_schema() -> Schema {
    use utoipa::openapi::schema::{OneOfBuilder, SchemaFormat, KnownFormat, Type};
    use utoipa::openapi::ObjectBuilder;
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))))
        .item(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)).maximum(Some(crate::domain::Timestamp::MAX_MILLIS as f64)))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build()
        .into()
}
