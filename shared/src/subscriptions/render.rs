//! Rendering digests: a pre-render step turns the matched records into a
//! context (Eden's meta data: system name, resources and their titles and
//! URLs, notify_on, last check time, filter text, counts, rows with
//! labelled fields); minijinja templates turn it into text or HTML.
//! Template lookup: `{prefix}_email_{html|text}` then `{prefix}_{method}`,
//! the tenant's own before the bundled ones; else "New updates are
//! available.".
use async_trait::async_trait;
use minijinja::{AutoEscape, Environment};
use serde::Serialize;
use serde_json::Value;

use super::model::{EmailFormat, Method, NotifyOn};
use crate::domain::TenantId;
use crate::ports::StoreError;
use crate::records::{Record, Resource};

pub const FALLBACK_TEXT: &str = "New updates are available.";
pub const DEFAULT_SUBJECT: &str = "{system} Update Notification: {resource}";
pub const MAX_SUBJECT_CHARS: usize = 78;
pub const MAX_TEMPLATE_BYTES: usize = 32 * 1024;
/// Bounds a template's work (loops, filters): a tenant's template cannot
/// hang a check.
const FUEL: u64 = 200_000;

/// Tenants' own templates, by name.
#[async_trait]
pub trait TemplateStore: Send + Sync {
    async fn put_template(&self, tenant: &TenantId, name: &str, source: &str) -> Result<(), StoreError>;
    async fn get_template(&self, tenant: &TenantId, name: &str) -> Result<Option<String>, StoreError>;
}

const BUNDLED: &[(&str, &str)] = &[
    ("notify_email_text", include_str!("templates/notify_email_text.txt")),
    ("notify_email_html", include_str!("templates/notify_email_html.html")),
    ("notify_inapp", include_str!("templates/notify_inapp.txt")),
];

pub fn bundled(name: &str) -> Option<&'static str> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(_, source)| *source)
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // HTML templates escape what they print; text ones do not.
    env.set_auto_escape_callback(|name| if name.ends_with("_html") { AutoEscape::Html } else { AutoEscape::None });
    env.set_fuel(Some(FUEL));
    env
}

/// A template name: 1 to 64 characters of a-z, 0-9 and '_'.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty() && name.len() <= 64 && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok { Ok(()) } else { Err("a template name is 1 to 64 characters of a-z, 0-9 and '_'".into()) }
}

/// Checks a tenant's template when saved: it must compile, and render a
/// sample context.
pub fn check_template(name: &str, source: &str) -> Result<(), String> {
    check_name(name)?;
    if source.len() > MAX_TEMPLATE_BYTES {
        return Err(format!("a template is at most {MAX_TEMPLATE_BYTES} bytes"));
    }
    let mut env = environment();
    env.add_template_owned(name.to_owned(), source.to_owned()).map_err(|e| format!("invalid template: {e}"))?;
    let template = env.get_template(name).map_err(|e| format!("invalid template: {e}"))?;
    template.render(minijinja::value::Serde(sample_context())).map_err(|e| format!("the template fails on a sample digest: {e}"))?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldView {
    pub name: String,
    pub label: String,
    pub value: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct RowView {
    pub id: String,
    pub url: Option<String>,
    pub created_on: String,
    pub modified_on: String,
    pub fields: Vec<FieldView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceView {
    pub name: String,
    pub title: String,
    pub page_url: Option<String>,
    pub new: Vec<RowView>,
    pub upd: Vec<RowView>,
}

/// What templates see.
#[derive(Debug, Clone, Serialize)]
pub struct DigestContext {
    pub system: String,
    pub resource: String,
    pub notify_on: Vec<NotifyOn>,
    pub last_check_time: String,
    pub filter: String,
    pub total: usize,
    pub total_new: usize,
    pub total_upd: usize,
    pub resources: Vec<ResourceView>,
}

/// A record as a row: its notify fields, labelled, in order (all its
/// fields, by name, when the resource names none).
pub fn row(resource: &Resource, record: &Record) -> RowView {
    let fields = if resource.notify_fields.is_empty() {
        record.fields.iter().map(|(k, v)| FieldView { name: k.clone(), label: k.clone(), value: v.clone() }).collect()
    } else {
        resource
            .notify_fields
            .iter()
            .map(|f| FieldView { name: f.name.clone(), label: f.label.clone(), value: record.fields.get(&f.name).cloned().unwrap_or(Value::Null) })
            .collect()
    };
    RowView {
        id: record.id.to_string(),
        url: resource.item_url(&record.id),
        created_on: record.created_on.to_rfc3339(),
        modified_on: record.modified_on.to_rfc3339(),
        fields,
    }
}

fn sample_context() -> DigestContext {
    let row = RowView {
        id: "1".into(),
        url: Some("https://example.org/1".into()),
        created_on: "2026-01-01T00:00:00Z".into(),
        modified_on: "2026-01-01T00:00:00Z".into(),
        fields: vec![FieldView { name: "name".into(), label: "Name".into(), value: Value::String("Sample".into()) }],
    };
    DigestContext {
        system: "Herald".into(),
        resource: "Samples".into(),
        notify_on: vec![NotifyOn::New, NotifyOn::Upd],
        last_check_time: "2026-01-01T00:00:00Z".into(),
        filter: "all records".into(),
        total: 2,
        total_new: 1,
        total_upd: 1,
        resources: vec![ResourceView { name: "sample".into(), title: "Samples".into(), page_url: None, new: vec![row.clone()], upd: vec![row] }],
    }
}

/// The subject: the resource's template or the default, with `{system}`
/// and `{resource}`, cut to 78 characters.
pub fn subject(template: Option<&str>, system: &str, resource: &str) -> String {
    let text = template.unwrap_or(DEFAULT_SUBJECT).replace("{system}", system).replace("{resource}", resource);
    let text = text.replace(['\r', '\n'], " ");
    if text.chars().count() <= MAX_SUBJECT_CHARS {
        text
    } else {
        text.chars().take(MAX_SUBJECT_CHARS - 1).chain(std::iter::once('…')).collect()
    }
}

/// The names to try, in order, for a method (and an email format).
pub fn lookup_names(prefix: &str, method: Method, format: EmailFormat) -> Vec<String> {
    match method {
        Method::Email => {
            let suffix = match format {
                EmailFormat::Html => "html",
                EmailFormat::Text => "text",
            };
            vec![format!("{prefix}_email_{suffix}"), format!("{prefix}_email")]
        }
        Method::Inapp => vec![format!("{prefix}_inapp")],
    }
}

/// Renders the first template found (tenant's, then bundled); the
/// fallback text if none is. `html` escapes what the template prints,
/// whatever the template's name. A tenant template that fails at render
/// time falls back too (it was checked when saved; the data may still
/// surprise it), and the failure is logged.
pub async fn render(store: &dyn TemplateStore, tenant: &TenantId, names: &[String], html: bool, context: &DigestContext) -> Result<String, StoreError> {
    let mut sources: Vec<(String, String)> = Vec::new();
    for name in names {
        if let Some(source) = store.get_template(tenant, name).await? {
            sources.push((name.clone(), source));
            break;
        }
    }
    if sources.is_empty() {
        if let Some((name, source)) = names.iter().find_map(|n| bundled(n).map(|s| (n.clone(), s.to_owned()))) {
            sources.push((name, source));
        }
    }
    let Some((name, source)) = sources.pop() else { return Ok(FALLBACK_TEXT.to_owned()) };
    let mut env = environment();
    let registered = if html { "digest_html" } else { "digest_text" };
    let rendered = env
        .add_template_owned(registered, source)
        .and_then(|()| env.get_template(registered).and_then(|t| t.render(minijinja::value::Serde(context))));
    match rendered {
        Ok(text) => Ok(text.trim().to_owned()),
        Err(e) => {
            tracing::warn!(template = %name, error = %e, "template failed; using the fallback text");
            Ok(FALLBACK_TEXT.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_templates_are_valid() {
        for (name, source) in BUNDLED {
            check_template(name, source).unwrap();
        }
    }

    #[test]
    fn subjects_are_filled_and_cut() {
        assert_eq!(subject(None, "Herald", "Requests"), "Herald Update Notification: Requests");
        let long = subject(Some("{resource} {resource} {resource}"), "S", &"x".repeat(40));
        assert_eq!(long.chars().count(), 78);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn bad_templates_are_refused() {
        assert!(check_template("notify_email_text", "{% for x in %}").is_err());
        assert!(check_template("notify_email_text", "{{ resources[0].new[0].fields | nosuchfilter }}").is_err());
        assert!(check_template("Bad Name", "x").is_err());
        assert!(check_template("loop", "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}").is_err(), "fuel runs out");
    }

    #[tokio::test]
    async fn lookup_prefers_the_tenant_then_bundled_then_fallback_and_escapes_html() {
        let store = crate::adapters::embedded::EmbeddedTemplateStore::new();
        let tenant = TenantId::parse("demo").unwrap();
        let mut context = sample_context();
        context.system = "<Acme & co>".into();
        let html = lookup_names("custom", Method::Email, EmailFormat::Html);
        assert_eq!(html, ["custom_email_html", "custom_email"]);
        assert_eq!(render(&store, &tenant, &html, true, &context).await.unwrap(), FALLBACK_TEXT);
        store.put_template(&tenant, "custom_email", "{{ system }}").await.unwrap();
        assert_eq!(render(&store, &tenant, &html, true, &context).await.unwrap(), "&lt;Acme &amp; co&gt;", "HTML escapes whatever the name");
        let text = lookup_names("custom", Method::Email, EmailFormat::Text);
        assert_eq!(render(&store, &tenant, &text, false, &context).await.unwrap(), "<Acme & co>");
        let bundled = lookup_names("notify", Method::Inapp, EmailFormat::Text);
        assert_eq!(render(&store, &tenant, &bundled, false, &context).await.unwrap(), "1 new and 1 updated: Samples 1, Samples 1");
        store.put_template(&tenant, "notify_inapp", "mine").await.unwrap();
        assert_eq!(render(&store, &tenant, &bundled, false, &context).await.unwrap(), "mine");
    }

    #[test]
    fn html_is_escaped_text_is_not() {
        let mut env = environment();
        env.add_template("a_html", "{{ v }}").unwrap();
        env.add_template("a_text", "{{ v }}").unwrap();
        let ctx = minijinja::context! { v => "<b>&" };
        assert_eq!(env.get_template("a_html").unwrap().render(&ctx).unwrap(), "&lt;b&gt;&amp;");
        assert_eq!(env.get_template("a_text").unwrap().render(&ctx).unwrap(), "<b>&");
    }
}
