//! README's table of limits says what the code enforces: every constant a
//! row names has, among the row's numbers, its value in the code.
use std::collections::HashMap;

use herald::*;

fn values() -> HashMap<&'static str, u64> {
    let n = |v: usize| v as u64;
    HashMap::from([
        ("http::extract::MAX_REQUEST_BYTES", n(http::extract::MAX_REQUEST_BYTES)),
        ("http::extract::BODY_READ_TIMEOUT", http::extract::BODY_READ_TIMEOUT.as_secs()),
        ("http::edge::MAX_URI_BYTES", n(http::edge::MAX_URI_BYTES)),
        ("http::edge::MAX_HEADER_BYTES", n(http::edge::MAX_HEADER_BYTES)),
        ("http::edge::MAX_HEADERS", n(http::edge::MAX_HEADERS)),
        ("auth::MAX_CREDENTIAL_LEN", n(auth::MAX_CREDENTIAL_LEN)),
        ("auth::TokenPolicy::DEFAULT_MAX_LIFETIME_SECS", auth::TokenPolicy::DEFAULT_MAX_LIFETIME_SECS),
        ("bus::channel::MAX_CHANNELS", n(bus::channel::MAX_CHANNELS)),
        ("bus::channel::MAX_CHANNEL_BYTES", n(bus::channel::MAX_CHANNEL_BYTES)),
        ("bus::cursor::MAX_CURSOR_LEN", n(bus::cursor::MAX_CURSOR_LEN)),
        ("bus::service::MAX_NOTIFY_TITLE_BYTES", n(bus::service::MAX_NOTIFY_TITLE_BYTES)),
        ("bus::service::MAX_NOTIFY_BODY_BYTES", n(bus::service::MAX_NOTIFY_BODY_BYTES)),
        ("bus::service::MAX_CLIENT_ID_BYTES", n(bus::service::MAX_CLIENT_ID_BYTES)),
        ("bus::service::MAX_BATCH_MESSAGES", n(bus::service::MAX_BATCH_MESSAGES)),
        ("bus::service::MAX_PUBLICATION_ID_BYTES", n(bus::service::MAX_PUBLICATION_ID_BYTES)),
        ("notifications::model::MAX_TITLE_BYTES", n(notifications::model::MAX_TITLE_BYTES)),
        ("notifications::model::MAX_BODY_BYTES", n(notifications::model::MAX_BODY_BYTES)),
        ("notifications::model::MAX_RECIPIENT_ENTRIES", n(notifications::model::MAX_RECIPIENT_ENTRIES)),
        ("notifications::model::MAX_IDEMPOTENCY_KEY_BYTES", n(notifications::model::MAX_IDEMPOTENCY_KEY_BYTES)),
        ("notifications::model::MAX_CONTEXT_BYTES", n(notifications::model::MAX_CONTEXT_BYTES)),
        ("notifications::types::MAX_LABEL_BYTES", n(notifications::types::MAX_LABEL_BYTES)),
        ("directory::model::MAX_GROUPS_PER_USER", n(directory::model::MAX_GROUPS_PER_USER)),
        ("directory::model::MAX_COMPANIES_PER_USER", n(directory::model::MAX_COMPANIES_PER_USER)),
        ("directory::model::MAX_CONTACTS_PER_USER", n(directory::model::MAX_CONTACTS_PER_USER)),
        ("directory::model::MAX_DIRECTORY_TEXT_BYTES", n(directory::model::MAX_DIRECTORY_TEXT_BYTES)),
        ("records::model::MAX_RESOURCE_TEXT_BYTES", n(records::model::MAX_RESOURCE_TEXT_BYTES)),
        ("records::model::MAX_NOTIFY_FIELDS", n(records::model::MAX_NOTIFY_FIELDS)),
        ("records::model::MAX_FIELDS_BYTES", n(records::model::MAX_FIELDS_BYTES)),
        ("records::model::MAX_ACL_ENTRIES", n(records::model::MAX_ACL_ENTRIES)),
        ("records::service::MAX_BATCH", n(records::service::MAX_BATCH)),
        ("subscriptions::SubscriptionQuota", n(subscriptions::SubscriptionQuota::default().0)),
        ("config::DEFAULT_MAX_TYPES_PER_TENANT", config::DEFAULT_MAX_TYPES_PER_TENANT),
        ("config::DEFAULT_MAX_RESOURCES_PER_TENANT", config::DEFAULT_MAX_RESOURCES_PER_TENANT),
        ("config::DEFAULT_MAX_USERS_PER_TENANT", config::DEFAULT_MAX_USERS_PER_TENANT),
        ("config::DEFAULT_MAX_COMPANIES_PER_TENANT", config::DEFAULT_MAX_COMPANIES_PER_TENANT),
        ("config::DEFAULT_MAX_TEMPLATES_PER_TENANT", config::DEFAULT_MAX_TEMPLATES_PER_TENANT),
        ("subscriptions::model::MAX_RESOURCES", n(subscriptions::model::MAX_RESOURCES)),
        ("subscriptions::filter::MAX_CONDITIONS", n(subscriptions::filter::MAX_CONDITIONS)),
        ("subscriptions::filter::MAX_FIELD_BYTES", n(subscriptions::filter::MAX_FIELD_BYTES)),
        ("subscriptions::filter::MAX_VALUE_BYTES", n(subscriptions::filter::MAX_VALUE_BYTES)),
        ("subscriptions::render::MAX_TEMPLATE_BYTES", n(subscriptions::render::MAX_TEMPLATE_BYTES)),
        ("inbox::service::MAX_LIMIT", n(inbox::service::MAX_LIMIT)),
        ("subscriptions::MAX_PAGE", n(subscriptions::MAX_PAGE)),
        ("http::subscriptions::DEFAULT_PAGE", n(http::subscriptions::DEFAULT_PAGE)),
        ("http::inbox::MAX_INBOX_QUERY_BYTES", n(http::inbox::MAX_INBOX_QUERY_BYTES)),
        ("http::subscriptions::MAX_SUBSCRIPTIONS_QUERY_BYTES", n(http::subscriptions::MAX_SUBSCRIPTIONS_QUERY_BYTES)),
        ("directory::service::MAX_MEMBERS_PAGE", n(directory::service::MAX_MEMBERS_PAGE)),
        ("directory::service::DEFAULT_MEMBERS_PAGE", n(directory::service::DEFAULT_MEMBERS_PAGE)),
        ("http::directory::MAX_MEMBERS_QUERY_BYTES", n(http::directory::MAX_MEMBERS_QUERY_BYTES)),
        ("domain::paging::MAX_PAGE", n(domain::paging::MAX_PAGE)),
        ("domain::paging::DEFAULT_PAGE", n(domain::paging::DEFAULT_PAGE)),
        ("http::extract::MAX_PAGE_QUERY_BYTES", n(http::extract::MAX_PAGE_QUERY_BYTES)),
        ("outbox::MAX_ERROR_BYTES", n(outbox::MAX_ERROR_BYTES)),
        ("sessions::MAX_SESSIONS_PER_REQUEST", n(sessions::MAX_SESSIONS_PER_REQUEST)),
        ("sessions::MAX_SESSION_AGE", sessions::MAX_SESSION_AGE.as_secs()),
    ])
}

#[test]
fn readme_limits_match_the_code() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README.md");
    let section = readme.split("\n## Limits\n").nth(1).expect("a Limits section").split("\n## ").next().unwrap_or_default();
    let values = values();
    let mut checked = 0;
    for row in section.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| what") && !l.starts_with("| ---")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let (limit, constants) = (cells[1], cells.last().copied().unwrap_or_default().trim_end_matches(" |"));
        let numbers: Vec<u64> =
            limit.split(|c: char| !c.is_ascii_digit()).filter(|n| !n.is_empty()).filter_map(|n| n.parse().ok()).collect();
        for constant in constants.split(", ").map(|c| c.trim_matches('`')).filter(|c| *c != "—") {
            let value = values.get(constant).unwrap_or_else(|| panic!("README names {constant}, which this test does not know"));
            assert!(numbers.contains(value), "README says {limit:?} for {constant}, the code {value}");
            checked += 1;
        }
    }
    assert!(checked >= values.len(), "{checked} limits checked of {}", values.len());
}
