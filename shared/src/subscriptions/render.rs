//! Rendering digests: a pre-render step turns the matched records into a
//! context (Eden's meta data: system name, resources and their titles and
//! URLs, notify_on, last check time, filter text, counts, rows with
//! labelled fields); minijinja templates turn it into text or HTML.
//! Template lookup: `{prefix}_email_{html|text}` then `{prefix}_{method}`,
//! the tenant's own before the bundled ones; else "New updates are
//! available.".
use std::collections::HashMap;
use std::sync::Arc;

use minijinja::{AutoEscape, Environment};
use serde::Serialize;
use serde_json::Value;

use super::model::{EmailFormat, Method, NotifyOn};
use super::template_store::TemplateStore;
use crate::domain::{StoreError, TenantId};
use crate::records::{Record, Resource};

pub const FALLBACK_TEXT: &str = "New updates are available.";
pub const DEFAULT_SUBJECT: &str = "{system} Update Notification: {resource}";
pub const MAX_SUBJECT_CHARS: usize = 78;
pub const MAX_TEMPLATE_BYTES: usize = 32 * 1024;
/// Rows listed in one digest, newest changes first; the counts cover every
/// match and the templates say how many more there are. A digest of
/// thousands of rows is read by nobody and would not fit a stored item.
pub const MAX_DIGEST_ROWS: usize = 50;
/// A field value longer than this (as text) is cut in a digest row.
pub const MAX_ROW_VALUE_CHARS: usize = 200;
/// Largest rendered bodies: with both stored in one notification they stay
/// well under DynamoDB's 400 KB item.
pub const MAX_DIGEST_TEXT_BYTES: usize = 64 * 1024;
pub const MAX_DIGEST_HTML_BYTES: usize = 192 * 1024;
/// Bounds a template's work (loops, filters): a tenant's template cannot
/// hang a check.
const FUEL: u64 = 200_000;

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

/// A row as templates see it (a [`RowView`]), made once per record and run
/// and shared by every digest that lists it: a template value is passed
/// into each digest's context as it is, not copied field by field.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    value: minijinja::Value,
}

impl From<RowView> for Row {
    fn from(view: RowView) -> Self {
        Self { value: minijinja::Value::from(minijinja::value::Serde(&view)), id: view.id }
    }
}

impl Serialize for Row {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceView {
    pub name: String,
    pub title: String,
    pub page_url: Option<String>,
    pub new: Vec<Row>,
    pub upd: Vec<Row>,
    /// Matches counted but not listed.
    pub more_new: usize,
    pub more_upd: usize,
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
    /// Matches counted but not listed, over all resources.
    pub more: usize,
    pub resources: Vec<ResourceView>,
}

/// Halves the rows listed (the dropped ones are counted in `more`);
/// false when none is left to drop.
pub fn shrink(context: &mut DigestContext) -> bool {
    let mut dropped = 0;
    for view in &mut context.resources {
        for (rows, more) in [(&mut view.new, &mut view.more_new), (&mut view.upd, &mut view.more_upd)] {
            let keep = rows.len() / 2;
            *more += rows.len() - keep;
            dropped += rows.len() - keep;
            rows.truncate(keep);
        }
    }
    context.more += dropped;
    dropped > 0
}

/// A field's value as a digest shows it: long texts (and long lists or
/// objects, as JSON text) cut to [`MAX_ROW_VALUE_CHARS`].
fn shown(value: &Value) -> Value {
    let cut = |text: &str| -> Option<String> {
        (text.chars().count() > MAX_ROW_VALUE_CHARS).then(|| text.chars().take(MAX_ROW_VALUE_CHARS - 1).chain(std::iter::once('…')).collect())
    };
    match value {
        Value::String(text) => cut(text).map_or_else(|| value.clone(), Value::String),
        Value::Array(_) | Value::Object(_) => cut(&value.to_string()).map_or_else(|| value.clone(), Value::String),
        _ => value.clone(),
    }
}

/// A record as a row: its notify fields, labelled, in order (all its
/// fields, by name, when the resource names none).
pub fn row(resource: &Resource, record: &Record) -> Row {
    view(resource, record).into()
}

fn view(resource: &Resource, record: &Record) -> RowView {
    let fields = if resource.notify_fields.is_empty() {
        record.fields.iter().map(|(k, v)| FieldView { name: k.clone(), label: k.clone(), value: shown(v) }).collect()
    } else {
        resource
            .notify_fields
            .iter()
            .map(|f| FieldView { name: f.name.clone(), label: f.label.clone(), value: record.fields.get(&f.name).map_or(Value::Null, shown) })
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
        more: 0,
        resources: vec![ResourceView { name: "sample".into(), title: "Samples".into(), page_url: None, new: vec![row.clone().into()], upd: vec![row.into()], more_new: 0, more_upd: 0 }],
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

/// The templates of one check run: each lookup (tenant, names, escaping)
/// is resolved once and each source compiled once, however many digests
/// use it. A check sends thousands of digests from a handful of templates.
/// Each template compiles in an environment of its own, so no `include` or
/// `import` can reach another tenant's (or any other) template; and a
/// compiled one is shared, so digests render in parallel without holding
/// the cache.
pub struct TemplateCache {
    /// (tenant, names tried, html) → the compiled template, or `None` for
    /// the fallback text.
    compiled: HashMap<(TenantId, Vec<String>, bool), Option<Compiled>>,
}

/// One compiled template, cheap to clone.
#[derive(Clone)]
pub struct Compiled {
    env: Arc<Environment<'static>>,
    name: Arc<str>,
}

impl Compiled {
    /// The digest's text; the fallback text if the template fails at render
    /// time (it was checked when saved; the data may still surprise it),
    /// and the failure is logged.
    pub fn render(&self, context: &DigestContext) -> String {
        match self.env.get_template(&self.name).and_then(|t| t.render(minijinja::value::Serde(context))) {
            Ok(text) => text.trim().to_owned(),
            Err(e) => {
                tracing::warn!(template = %self.name, error = %e, "template failed; using the fallback text");
                FALLBACK_TEXT.to_owned()
            }
        }
    }
}

/// Renders a template found by [`TemplateCache::find`]; the fallback text
/// if none was.
pub fn render_with(template: Option<&Compiled>, context: &DigestContext) -> String {
    template.map_or_else(|| FALLBACK_TEXT.to_owned(), |t| t.render(context))
}

impl Default for TemplateCache {
    fn default() -> Self {
        Self::new()
    }
}

impl TemplateCache {
    pub fn new() -> Self {
        Self { compiled: HashMap::new() }
    }

    /// The template of a lookup (tenant's, then bundled; `None` for the
    /// fallback text), compiled at its first lookup in the run. `html`
    /// escapes what the template prints, whatever the template's name.
    pub async fn find(&mut self, store: &dyn TemplateStore, tenant: &TenantId, names: &[String], html: bool) -> Result<Option<Compiled>, StoreError> {
        let key = (tenant.clone(), names.to_vec(), html);
        if let Some(found) = self.compiled.get(&key) {
            return Ok(found.clone());
        }
        let template = compile(store, tenant, names, html).await?;
        self.compiled.insert(key, template.clone());
        Ok(template)
    }

    /// Renders the template [`Self::find`] finds; the fallback text if none is.
    pub async fn render(&mut self, store: &dyn TemplateStore, tenant: &TenantId, names: &[String], html: bool, context: &DigestContext) -> Result<String, StoreError> {
        Ok(render_with(self.find(store, tenant, names, html).await?.as_ref(), context))
    }
}

/// Finds the source (the tenant's, then bundled) and compiles it under a
/// name whose suffix sets the escaping; `None` if there is none or it does
/// not compile.
async fn compile(store: &dyn TemplateStore, tenant: &TenantId, names: &[String], html: bool) -> Result<Option<Compiled>, StoreError> {
    let mut found = None;
    for name in names {
        if let Some(source) = store.get_template(tenant, name).await? {
            found = Some((name.clone(), source));
            break;
        }
    }
    let found = found.or_else(|| names.iter().find_map(|n| bundled(n).map(|s| (n.clone(), s.to_owned()))));
    let Some((name, source)) = found else { return Ok(None) };
    let mut env = environment();
    let registered = format!("{name}{}", if html { "_html" } else { "_text" });
    match env.add_template_owned(registered.clone(), source) {
        Ok(()) => Ok(Some(Compiled { env: Arc::new(env), name: registered.into() })),
        Err(e) => {
            tracing::warn!(template = %name, error = %e, "template does not compile; using the fallback text");
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh cache per call, so each sees the store as it is now.
    async fn render(store: &dyn TemplateStore, tenant: &TenantId, names: &[String], html: bool, context: &DigestContext) -> Result<String, StoreError> {
        TemplateCache::new().render(store, tenant, names, html, context).await
    }

    #[test]
    fn bundled_templates_are_valid() {
        for (name, source) in BUNDLED {
            check_template(name, source).unwrap();
        }
    }

    #[test]
    fn shrinking_halves_the_rows_and_counts_them() {
        let mut context = sample_context();
        context.resources[0].new = vec![context.resources[0].new[0].clone(); 5];
        assert!(shrink(&mut context));
        let view = &context.resources[0];
        assert_eq!((view.new.len(), view.more_new, view.upd.len(), view.more_upd, context.more), (2, 3, 0, 1, 4));
        let text = environment().render_str(bundled("notify_email_text").unwrap(), minijinja::value::Serde(&context)).unwrap();
        assert!(text.contains("New Samples (5):") && text.contains("- and 3 more") && text.contains("Updated Samples (1):\n- and 1 more"), "{text}");
        while shrink(&mut context) {}
        assert_eq!((context.resources[0].new.len(), context.more), (0, 6));
    }

    #[test]
    fn long_values_are_cut_in_rows() {
        let long = Value::String("x".repeat(500));
        assert_eq!(shown(&long).as_str().map(|s| s.chars().count()), Some(MAX_ROW_VALUE_CHARS));
        assert_eq!(shown(&serde_json::json!([1, 2])), serde_json::json!([1, 2]));
        assert!(shown(&serde_json::json!(vec!["abc"; 100])).as_str().is_some_and(|s| s.ends_with('…')));
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
        let store = crate::adapters::embedded::EmbeddedTemplateStore::new(crate::adapters::embedded::Database::in_memory());
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

    /// Finding 3 of issue 11: a tenant's template included another's,
    /// compiled earlier in the same check run.
    #[tokio::test]
    async fn a_tenant_template_cannot_reach_another_tenants() {
        let store = crate::adapters::embedded::EmbeddedTemplateStore::new(crate::adapters::embedded::Database::in_memory());
        let (demo, evil) = (TenantId::parse("demo").unwrap(), TenantId::parse("evil").unwrap());
        store.put_template(&demo, "notify_inapp", "demo's secret").await.unwrap();
        let names = lookup_names("notify", Method::Inapp, EmailFormat::Text);
        let mut cache = TemplateCache::new();
        let context = sample_context();
        assert_eq!(cache.render(&store, &demo, &names, false, &context).await.unwrap(), "demo's secret");
        // Names earlier builds compiled under, and this build's: the last is
        // evil's own template, which includes itself until the recursion
        // limit stops it (the fallback text).
        for (reach, expected) in [("0#demo#notify_inapp_text", "[]"), ("0#notify_inapp_text", "[]"), ("demo#notify_inapp_text", "[]"), ("notify_inapp_text", FALLBACK_TEXT)] {
            let source = format!("[{{% include ['{reach}'] ignore missing %}}]");
            check_template("notify_inapp", &source).unwrap();
            store.put_template(&evil, "notify_inapp", &source).await.unwrap();
            let mut run = TemplateCache::new();
            assert_eq!(run.render(&store, &demo, &names, false, &context).await.unwrap(), "demo's secret");
            assert_eq!(run.render(&store, &evil, &names, false, &context).await.unwrap(), expected, "{reach}");
        }
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
