//! The directory (admin role): `PUT|GET|DELETE /{db}/users/{id}`,
//! `PUT|GET /{db}/companies/{id}`, `GET /{db}/groups/{name}/members`.
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{authorize_admin, body, ApiError};
use crate::app::Services;
use crate::directory::model::{
    Contact, MAX_COMPANIES_PER_USER, MAX_CONTACTS_PER_USER, MAX_GROUPS_PER_USER, MAX_TEXT_BYTES,
};
use crate::directory::{Company, User};
use crate::domain::{CompanyId, EmailAddress, GroupName, UserId};

pub fn routes(services: Services) -> Router {
    Router::new()
        .route("/{db}/users/{id}", get(get_user).put(put_user).delete(delete_user))
        .route("/{db}/companies/{id}", get(get_company).put(put_company))
        .route("/{db}/groups/{name}/members", get(group_members))
        .with_state(services)
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutUser {
    login: String,
    #[serde(default)]
    email: Option<EmailAddress>,
    #[serde(default = "default_true")]
    active: bool,
    #[serde(default)]
    groups: Vec<GroupName>,
    #[serde(default)]
    companies: Vec<CompanyId>,
    #[serde(default)]
    follower: Option<UserId>,
    #[serde(default)]
    account_type: Option<String>,
    #[serde(default)]
    locale: Option<String>,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    contacts: Vec<Contact>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutCompany {
    name: String,
    #[serde(default)]
    email: Option<EmailAddress>,
    #[serde(default = "default_true")]
    active: bool,
}

fn text(name: &str, value: &str) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::BadRequest(format!("{name} must not be empty")));
    }
    if value.len() > MAX_TEXT_BYTES {
        return Err(ApiError::BadRequest(format!("{name} is limited to {MAX_TEXT_BYTES} bytes")));
    }
    Ok(())
}

fn at_most<T>(name: &str, items: &[T], max: usize) -> Result<(), ApiError> {
    if items.len() > max {
        return Err(ApiError::BadRequest(format!("at most {max} {name}")));
    }
    Ok(())
}

fn dedup<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items.dedup();
    items
}

fn user_id(id: String) -> Result<UserId, ApiError> {
    UserId::parse(id).map_err(ApiError::bad_request)
}

fn company_id(id: String) -> Result<CompanyId, ApiError> {
    CompanyId::parse(id).map_err(ApiError::bad_request)
}

fn as_json<T: serde::Serialize>(value: &T) -> Json<Value> {
    Json(serde_json::to_value(value).unwrap_or(Value::Null))
}

async fn put_user(
    State(services): State<Services>,
    Path((db, id)): Path<(String, String)>,
    headers: HeaderMap,
    request: Body,
) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let id = user_id(id)?;
    let request: PutUser = body::parse(body::json_object(request).await?)?;
    text("login", &request.login)?;
    for (name, value) in [("account_type", &request.account_type), ("locale", &request.locale), ("timezone", &request.timezone)] {
        if let Some(v) = value {
            text(name, v)?;
        }
    }
    at_most("groups", &request.groups, MAX_GROUPS_PER_USER)?;
    at_most("companies", &request.companies, MAX_COMPANIES_PER_USER)?;
    at_most("contacts", &request.contacts, MAX_CONTACTS_PER_USER)?;
    let mut contacts = request.contacts;
    contacts.sort_by_key(|c| c.priority);
    let user = User {
        id,
        login: request.login,
        email: request.email,
        active: request.active,
        groups: dedup(request.groups),
        companies: dedup(request.companies),
        follower: request.follower,
        account_type: request.account_type,
        locale: request.locale,
        timezone: request.timezone,
        contacts,
    };
    services.directory.put_user(&tenant, &user).await?;
    Ok(as_json(&user))
}

async fn get_user(
    State(services): State<Services>,
    Path((db, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let id = user_id(id)?;
    match services.directory.get_user(&tenant, &id).await? {
        Some(user) => Ok(as_json(&user)),
        None => Err(ApiError::NotFound(format!("no user '{id}'"))),
    }
}

async fn delete_user(
    State(services): State<Services>,
    Path((db, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let id = user_id(id)?;
    if services.directory.delete_user(&tenant, &id).await? {
        Ok(Json(json!({ "deleted": id })))
    } else {
        Err(ApiError::NotFound(format!("no user '{id}'")))
    }
}

async fn put_company(
    State(services): State<Services>,
    Path((db, id)): Path<(String, String)>,
    headers: HeaderMap,
    request: Body,
) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let id = company_id(id)?;
    let request: PutCompany = body::parse(body::json_object(request).await?)?;
    text("name", &request.name)?;
    let company = Company { id, name: request.name, email: request.email, active: request.active };
    services.directory.put_company(&tenant, &company).await?;
    Ok(as_json(&company))
}

async fn get_company(
    State(services): State<Services>,
    Path((db, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let id = company_id(id)?;
    match services.directory.get_company(&tenant, &id).await? {
        Some(company) => Ok(as_json(&company)),
        None => Err(ApiError::NotFound(format!("no company '{id}'"))),
    }
}

async fn group_members(
    State(services): State<Services>,
    Path((db, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let (_, tenant) = authorize_admin(&services, &headers, db)?;
    let group = GroupName::parse(name).map_err(ApiError::bad_request)?;
    let members = services.directory.group_members(&tenant, &group).await?;
    Ok(Json(json!({ "group": group, "members": members })))
}
