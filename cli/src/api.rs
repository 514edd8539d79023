//! The HTTP API as the CLI uses it: JSON in, JSON out, and an error that
//! carries the API's own `{"error", "message"}`.
use anyhow::{bail, Context};
use reqwest::Method;
use serde_json::Value;

pub struct Api {
    http: reqwest::Client,
    base: String,
    db: String,
    token: Option<String>,
}

impl Api {
    pub fn new(url: &str, db: &str, token: Option<String>) -> anyhow::Result<Self> {
        // Long enough for a bus poll's wait.
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60)).build()?;
        Ok(Self { http, base: url.trim_end_matches('/').to_owned(), db: db.to_owned(), token })
    }

    /// `path` is relative to the tenant (`/inbox`, `/notifications`, ...).
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let url = format!("{}/{}{path}", self.base, self.db);
        let mut request = self.http.request(method, &url);
        let token = self.token.as_deref().context("no token: pass --token or set HERALD_TOKEN (`herald token` mints one)")?;
        request = request.bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.with_context(|| format!("cannot reach {url}"))?;
        let status = response.status();
        let text = response.text().await?;
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if !status.is_success() {
            let code = value["error"].as_str().unwrap_or("error");
            let message = value["message"].as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
            bail!("{} {code}: {message}", status.as_u16());
        }
        Ok(value)
    }
}
