//! `herald`: the HTTP API from a shell, in the spirit of `endi-admin
//! notify`. URL, tenant and token come from flags or `HERALD_URL`,
//! `HERALD_DB`, `HERALD_TOKEN`.
mod api;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use herald::auth::{issue, TenantClaim, TokenRequest, ADMIN_ROLE};
use reqwest::Method;
use serde_json::{json, Map, Value};

use api::Api;

#[derive(Parser)]
#[command(name = "herald", version, about = "Send notifications, read types and the inbox, tail the bus, mint dev tokens")]
struct Cli {
    /// Base URL of the API (the local gateway, or the deployed ApiUrl).
    #[arg(long, env = "HERALD_URL", default_value = "http://127.0.0.1:3000", global = true)]
    url: String,
    /// Tenant (the `{db}` of every route).
    #[arg(long, env = "HERALD_DB", default_value = "demo", global = true)]
    db: String,
    /// Bearer token (admin for `notify` and `types`).
    #[arg(long, env = "HERALD_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Send a typed notification now, or at --from (POST /{db}/notifications).
    Notify(Box<NotifyArgs>),
    /// Show a sent notification: status and deliveries.
    Show {
        /// The id `herald notify` printed.
        id: String,
    },
    /// List the notification types (defaults and the tenant's own).
    Types,
    /// List the signed-in user's inbox (unread and due by default).
    Inbox(InboxArgs),
    /// The bus, for debugging.
    Bus {
        #[command(subcommand)]
        command: BusCommand,
    },
    /// Mint a development token signed with HERALD_JWT_SECRET.
    Token(TokenArgs),
}

#[derive(Args)]
struct NotifyArgs {
    /// Notification type key.
    #[arg(long, default_value = "message:internal")]
    key: String,
    #[arg(long)]
    title: String,
    /// The body text.
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,
    /// Read the body from a file (`-` for standard input).
    #[arg(long)]
    body_file: Option<PathBuf>,
    /// User ids, comma-separated.
    #[arg(long, value_delimiter = ',')]
    users: Vec<String>,
    /// Group names, comma-separated.
    #[arg(long, value_delimiter = ',')]
    groups: Vec<String>,
    /// Company ids, comma-separated.
    #[arg(long, value_delimiter = ',')]
    companies: Vec<String>,
    /// Notify the follower (référent) of these users.
    #[arg(long, value_delimiter = ',')]
    followers_of: Vec<String>,
    /// Groups notified when a user of --followers-of has no active follower.
    #[arg(long, value_delimiter = ',')]
    fallback_groups: Vec<String>,
    /// Only users of this account type.
    #[arg(long)]
    account_type: Option<String>,
    /// Force the channel: email, message, header_message or alert.
    #[arg(long)]
    channel: Option<String>,
    /// Due time (RFC 3339); now when absent.
    #[arg(long = "from")]
    from: Option<String>,
    /// Cancel if not published by then (RFC 3339).
    #[arg(long)]
    until: Option<String>,
    /// The object it is about, `table:id` (a new send with it replaces the notification).
    #[arg(long)]
    context: Option<String>,
    /// Makes a retried send a no-op for 24 hours.
    #[arg(long)]
    idempotency_key: Option<String>,
}

#[derive(Args)]
struct InboxArgs {
    /// unread (default), read or all.
    #[arg(long, default_value = "unread")]
    state: String,
    #[arg(long)]
    channel: Option<String>,
    #[arg(long)]
    key: Option<String>,
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

#[derive(Subcommand)]
enum BusCommand {
    /// Long-poll channels and print each message (a JSON line) as it arrives.
    Tail {
        /// Channels, comma-separated (`user:3`, `notification:3`, ...).
        #[arg(long, value_delimiter = ',', required = true)]
        channels: Vec<String>,
        /// Stop after this many messages (default: never).
        #[arg(long)]
        count: Option<u64>,
    },
}

#[derive(Args)]
struct TokenArgs {
    /// The user id (`sub`).
    #[arg(long, default_value = "1")]
    sub: String,
    /// Grant the admin role.
    #[arg(long)]
    admin: bool,
    /// Tenants the token may use (`*` for any).
    #[arg(long = "tenant", default_value = "*")]
    tenant: String,
    /// Shared channels it may read, comma-separated (`chat:*`).
    #[arg(long, value_delimiter = ',')]
    channels: Vec<String>,
    /// Hours until it expires.
    #[arg(long, default_value_t = 24)]
    hours: u64,
    /// The gateway's secret (`HERALD_JWT_SECRET`).
    #[arg(long, env = "HERALD_JWT_SECRET", hide_env_values = true, required_unless_present = "data_dir")]
    secret: Option<String>,
    /// Or the data directory of a herald-local that generated its secret
    /// (its `secret` file).
    #[arg(long, conflicts_with = "secret")]
    data_dir: Option<std::path::PathBuf>,
    /// `iss`, for a service with HERALD_TOKEN_ISSUER set.
    #[arg(long, env = "HERALD_TOKEN_ISSUER")]
    issuer: Option<String>,
    /// `aud`, for a service with HERALD_TOKEN_AUDIENCE set.
    #[arg(long, env = "HERALD_TOKEN_AUDIENCE")]
    audience: Option<String>,
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("herald: {e:#}");
        std::process::exit(1);
    }
}

fn print(value: &Value) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string()));
}

/// Every type, following the list's pages: `{"types": [...]}`.
async fn all_types(api: &Api) -> anyhow::Result<Value> {
    let mut types = Vec::new();
    let mut path = "/types?limit=100".to_owned();
    // Bounded: the tenant's own types have a quota, the defaults are few.
    for _ in 0..100 {
        let page = api.call(Method::GET, &path, None).await?;
        types.extend(page["types"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/types?limit=100&cursor={cursor}"),
            None => break,
        }
    }
    Ok(serde_json::json!({ "types": types }))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let api = Api::new(&cli.url, &cli.db, cli.token.clone())?;
    match cli.command {
        Command::Notify(args) => print(&api.call(Method::POST, "/notifications", Some(&notify_body(*args)?)).await?),
        Command::Show { id } => print(&api.call(Method::GET, &format!("/notifications/{id}"), None).await?),
        Command::Types => print(&all_types(&api).await?),
        Command::Inbox(args) => {
            let mut query = format!("?state={}&limit={}", args.state, args.limit);
            for (name, value) in [("channel", args.channel), ("key", args.key)] {
                if let Some(value) = value {
                    query.push_str(&format!("&{name}={value}"));
                }
            }
            print(&api.call(Method::GET, &format!("/inbox{query}"), None).await?)
        }
        Command::Bus { command: BusCommand::Tail { channels, count } } => tail(&api, channels, count).await?,
        Command::Token(args) => println!("{}", token(args)?),
    }
    Ok(())
}

fn notify_body(args: NotifyArgs) -> anyhow::Result<Value> {
    let body = match (&args.body, &args.body_file) {
        (Some(body), _) => body.clone(),
        (None, Some(path)) if path.as_os_str() == "-" => std::io::read_to_string(std::io::stdin())?,
        (None, Some(path)) => std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
        (None, None) => String::new(),
    };
    let mut recipients = Map::new();
    for (name, list) in [
        ("users", args.users),
        ("groups", args.groups),
        ("companies", args.companies),
        ("followers_of", args.followers_of),
        ("fallback_groups", args.fallback_groups),
    ] {
        if !list.is_empty() {
            recipients.insert(name.into(), json!(list));
        }
    }
    if let Some(account_type) = args.account_type {
        recipients.insert("account_type".into(), json!(account_type));
    }
    let mut request = json!({ "key": args.key, "title": args.title, "body": body, "recipients": recipients });
    let optional = [
        ("force_channel", args.channel.map(Value::from)),
        ("due_at", args.from.map(Value::from)),
        ("until", args.until.map(Value::from)),
        ("idempotency_key", args.idempotency_key.map(Value::from)),
        (
            "context",
            match args.context {
                None => None,
                Some(c) => {
                    let (table, id) = c.split_once(':').context("--context is table:id")?;
                    Some(json!({ "table": table, "id": id }))
                }
            },
        ),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            request[name] = value;
        }
    }
    Ok(request)
}

/// Polls like a Tryton client: each reply's `message_id` is the next
/// poll's `last_message`.
async fn tail(api: &Api, channels: Vec<String>, count: Option<u64>) -> anyhow::Result<()> {
    let mut last_message = Value::Null;
    let mut printed = 0;
    while count.is_none_or(|c| printed < c) {
        let reply = api.call(Method::POST, "/bus", Some(&json!({ "last_message": last_message, "channels": channels }))).await?;
        if let Some(message) = reply.get("message").filter(|m| !m.is_null()) {
            last_message = message["message_id"].clone();
            println!("{}", json!({ "channel": reply["channel"], "message": message }));
            printed += 1;
        }
    }
    Ok(())
}

fn token(args: TokenArgs) -> anyhow::Result<String> {
    let request = TokenRequest {
        sub: args.sub,
        tenants: TenantClaim::One(args.tenant),
        roles: if args.admin { vec![ADMIN_ROLE.to_owned()] } else { vec![] },
        channels: args.channels,
        expires_in_secs: i64::try_from(args.hours.saturating_mul(3600)).unwrap_or(i64::MAX),
        issuer: args.issuer,
        audience: args.audience,
    };
    let secret = match (&args.secret, &args.data_dir) {
        (_, Some(dir)) => herald::config::Secret::read_from(dir).map_err(|e| anyhow::anyhow!("no secret in the data directory {}: {e}", dir.display()))?,
        (Some(secret), None) => herald::config::Secret::new(secret.clone()),
        (None, None) => anyhow::bail!("give --secret (HERALD_JWT_SECRET) or --data-dir"),
    };
    Ok(issue(secret.expose(), &request)?)
}
