//! All configuration, read once from the environment. Every variable is
//! documented in README.md and set in template.yaml.
use std::fmt;
use std::time::Duration;

use crate::auth::{TokenPolicy, MIN_SECRET_BYTES};
use crate::bus::BusSettings;
use crate::directory::DirectoryQuota;
use crate::domain::EmailAddress;
use crate::sessions::SessionSettings;
use crate::subscriptions::{EmailFormat, SubscriptionQuota};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} must be {expected}, got '{value}'")]
    Invalid { name: &'static str, expected: &'static str, value: String },
    #[error("{0} is required")]
    Missing(&'static str),
}

/// A secret: never printed, not even by `Debug`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// The file of a data directory that keeps its generated token secret.
pub const SECRET_FILE: &str = "secret";

impl Secret {
    /// The secret kept in the data directory `dir`, made (32 random bytes,
    /// hex, file mode 0600) the first time: so tokens outlive restarts.
    pub fn kept_in(dir: &std::path::Path) -> std::io::Result<Self> {
        match Self::read_from(dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            other => return other,
        }
        std::fs::create_dir_all(dir)?;
        let value: String = rand::random::<[u8; 32]>().iter().map(|b| format!("{b:02x}")).collect();
        // Written whole under a name of its own, then linked into place:
        // the secret file is never seen empty or half written, and of two
        // processes making it at once the first link wins for both.
        let staged = dir.join(format!("{SECRET_FILE}.{}", uuid::Uuid::new_v4().simple()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&staged).and_then(|mut file| {
            std::io::Write::write_all(&mut file, value.as_bytes())?;
            file.sync_all()
        });
        let linked = written.and_then(|()| std::fs::hard_link(&staged, dir.join(SECRET_FILE)));
        let _ = std::fs::remove_file(&staged);
        match linked {
            Ok(()) => Ok(Self(value)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::read_from(dir),
            Err(e) => Err(e),
        }
    }

    /// The secret kept in the data directory `dir` (`herald token
    /// --data-dir`); an error if there is none or it is too short.
    pub fn read_from(dir: &std::path::Path) -> std::io::Result<Self> {
        let value = std::fs::read_to_string(dir.join(SECRET_FILE))?.trim().to_owned();
        if value.len() < 16 {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{} holds no secret of 16 bytes or more", dir.join(SECRET_FILE).display())));
        }
        Ok(Self(value))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Which web origins a browser may call Herald from (`HERALD_CORS_ORIGINS`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CorsOrigins {
    /// Unset or empty: none; no CORS header is ever sent.
    #[default]
    None,
    /// `*`: any origin, without credentials (a browser sends no cookie and
    /// reads no answer to a request that carries one).
    Any,
    /// A comma-separated list of origins (`https://erp.example`), the only
    /// ones answered, with credentials.
    Listed(Vec<String>),
}

impl CorsOrigins {
    /// The most origins a list may name.
    pub const MAX_LISTED: usize = 32;

    fn parse(value: &str) -> Result<Self, ConfigError> {
        let invalid = || ConfigError::Invalid {
            name: "HERALD_CORS_ORIGINS",
            expected: "empty, '*', or up to 32 comma-separated origins like https://erp.example",
            value: value.to_owned(),
        };
        let origins: Vec<&str> = value.split(',').map(str::trim).filter(|o| !o.is_empty()).collect();
        match origins.as_slice() {
            [] => Ok(Self::None),
            ["*"] => Ok(Self::Any),
            listed if listed.len() > Self::MAX_LISTED => Err(invalid()),
            listed => {
                let origin_like = |o: &&str| {
                    let rest = o.strip_prefix("https://").or_else(|| o.strip_prefix("http://"));
                    rest.is_some_and(|host| !host.is_empty() && !host.contains('/') && !host.contains('*') && o.is_ascii())
                };
                if listed.iter().all(origin_like) {
                    Ok(Self::Listed(listed.iter().map(|o| (*o).to_owned()).collect()))
                } else {
                    Err(invalid())
                }
            }
        }
    }
}

/// Defaults of the tenant quotas (README, "Limits").
pub const DEFAULT_MAX_TYPES_PER_TENANT: u64 = 200;
pub const DEFAULT_MAX_RESOURCES_PER_TENANT: u64 = 200;
pub const DEFAULT_MAX_TEMPLATES_PER_TENANT: u64 = 100;
pub const DEFAULT_MAX_USERS_PER_TENANT: u64 = 10_000;
pub const DEFAULT_MAX_COMPANIES_PER_TENANT: u64 = 10_000;

#[derive(Debug, Clone)]
pub struct Config {
    /// `HERALD_JWT_SECRET`: HS256 secret for tokens (at least 16 bytes).
    pub jwt_secret: Option<Secret>,
    /// `HERALD_CORS_ORIGINS` (unset: none).
    pub cors: CorsOrigins,
    /// `HERALD_TOKEN_MAX_LIFETIME_SECS` (2592000, 30 days),
    /// `HERALD_TOKEN_LEEWAY_SECS` (30), `HERALD_TOKEN_ISSUER`,
    /// `HERALD_TOKEN_AUDIENCE` (unset: not checked).
    pub tokens: TokenPolicy,
    /// `HERALD_BUS_RETENTION_SECS` (300), `HERALD_BUS_WAIT_SECS` (20),
    /// `HERALD_BUS_POLL_MS` (500).
    pub bus: BusSettings,
    /// `HERALD_BUS_TABLE`: DynamoDB table of the bus (`herald-bus`).
    pub bus_table: String,
    /// `HERALD_DATA_TABLE`: DynamoDB table of the directory and other
    /// records (`herald-data`).
    pub data_table: String,
    /// `HERALD_EMAIL_FROM`: the sender of every email (`herald@example.com`);
    /// in AWS, an SES identity of the account.
    pub email_from: EmailAddress,
    /// `HERALD_OUTBOX_QUEUE_URL`: the SQS outbox queue (AWS only; the local
    /// gateway creates `herald-outbox` when unset).
    pub outbox_queue_url: Option<String>,
    /// `HERALD_OUTBOX_MAX_ATTEMPTS` (5): attempts per delivery; the queue's
    /// `maxReceiveCount` matches it.
    pub outbox_max_attempts: u32,
    /// `HERALD_OUTBOX_RETRY_SECS` (30): the wait before the first retry of
    /// a failed send, doubled for each one after (up to 15 minutes).
    pub outbox_retry_base: Duration,
    /// `HERALD_INBOX_READ_RETENTION_DAYS` (30): read inbox items expire then.
    pub inbox_read_retention: Duration,
    /// `HERALD_MAIL_DIR` (`herald-mail`, under the working directory): where
    /// the embedded mailer writes each email as an `.eml` file.
    pub mail_dir: std::path::PathBuf,
    /// `HERALD_SYSTEM_NAME` (`Herald`): the system name in digest subjects
    /// and templates.
    pub system_name: String,
    /// `HERALD_MAX_TYPES_PER_TENANT` (200): a tenant's own notification types.
    pub max_types_per_tenant: usize,
    /// `HERALD_MAX_RESOURCES_PER_TENANT` (200).
    pub max_resources_per_tenant: usize,
    /// `HERALD_MAX_TEMPLATES_PER_TENANT` (100).
    pub max_templates_per_tenant: usize,
    /// `HERALD_MAX_SUBSCRIPTIONS_PER_SUBSCRIBER` (100).
    pub subscription_quota: SubscriptionQuota,
    /// `HERALD_MAX_USERS_PER_TENANT` (10000), `HERALD_MAX_COMPANIES_PER_TENANT` (10000).
    pub directory_quota: DirectoryQuota,
    /// `HERALD_EMAIL_FORMAT` (`html`): digests' email format for
    /// subscriptions that do not choose (`html` or `text`).
    pub email_format: EmailFormat,
    /// `HERALD_TRYTON_BIND_ADDRESS` (`on`): a mirrored Tryton session bound
    /// to an address is honoured only from it (`off`: from anywhere).
    pub tryton_sessions: SessionSettings,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let defaults = BusSettings::default();
        let secret = lookup("HERALD_JWT_SECRET").filter(|s| !s.is_empty());
        if let Some(s) = &secret {
            if s.len() < MIN_SECRET_BYTES {
                return Err(ConfigError::Invalid {
                    name: "HERALD_JWT_SECRET",
                    expected: "at least 16 bytes",
                    value: "(hidden)".into(),
                });
            }
        }
        let number = |name: &'static str, default: u64, min: u64, max: u64| -> Result<u64, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(v) => v.trim().parse::<u64>().ok().filter(|n| (min..=max).contains(n)).ok_or(
                    ConfigError::Invalid { name, expected: "a whole number in range", value: v },
                ),
            }
        };
        Ok(Self {
            jwt_secret: secret.map(Secret::new),
            cors: CorsOrigins::parse(&lookup("HERALD_CORS_ORIGINS").unwrap_or_default())?,
            tokens: TokenPolicy {
                max_lifetime_secs: number("HERALD_TOKEN_MAX_LIFETIME_SECS", TokenPolicy::DEFAULT_MAX_LIFETIME_SECS, 60, TokenPolicy::LONGEST_MAX_LIFETIME_SECS)?,
                leeway_secs: number("HERALD_TOKEN_LEEWAY_SECS", TokenPolicy::DEFAULT_LEEWAY_SECS, 0, 300)?,
                issuer: lookup("HERALD_TOKEN_ISSUER").filter(|s| !s.is_empty()),
                audience: lookup("HERALD_TOKEN_AUDIENCE").filter(|s| !s.is_empty()),
            },
            bus: BusSettings {
                retention: Duration::from_secs(number(
                    "HERALD_BUS_RETENTION_SECS",
                    defaults.retention.as_secs(),
                    1,
                    7 * 24 * 3600,
                )?),
                wait: Duration::from_secs(number("HERALD_BUS_WAIT_SECS", defaults.wait.as_secs(), 0, 600)?),
                poll_interval: Duration::from_millis(number(
                    "HERALD_BUS_POLL_MS",
                    u64::try_from(defaults.poll_interval.as_millis()).unwrap_or(500),
                    10,
                    60_000,
                )?),
            },
            bus_table: lookup("HERALD_BUS_TABLE").unwrap_or_else(|| "herald-bus".to_owned()),
            data_table: lookup("HERALD_DATA_TABLE").unwrap_or_else(|| "herald-data".to_owned()),
            email_from: match lookup("HERALD_EMAIL_FROM").filter(|s| !s.is_empty()) {
                None => EmailAddress::parse("herald@example.com").map_err(|_| ConfigError::Missing("HERALD_EMAIL_FROM"))?,
                Some(v) => EmailAddress::parse(v.clone()).map_err(|_| ConfigError::Invalid {
                    name: "HERALD_EMAIL_FROM",
                    expected: "an email address",
                    value: v,
                })?,
            },
            outbox_queue_url: lookup("HERALD_OUTBOX_QUEUE_URL").filter(|s| !s.is_empty()),
            outbox_max_attempts: u32::try_from(number("HERALD_OUTBOX_MAX_ATTEMPTS", 5, 1, 100)?).unwrap_or(5),
            max_types_per_tenant: usize::try_from(number("HERALD_MAX_TYPES_PER_TENANT", DEFAULT_MAX_TYPES_PER_TENANT, 1, 10_000)?).unwrap_or(200),
            max_resources_per_tenant: usize::try_from(number("HERALD_MAX_RESOURCES_PER_TENANT", DEFAULT_MAX_RESOURCES_PER_TENANT, 1, 10_000)?).unwrap_or(200),
            max_templates_per_tenant: usize::try_from(number("HERALD_MAX_TEMPLATES_PER_TENANT", DEFAULT_MAX_TEMPLATES_PER_TENANT, 1, 10_000)?).unwrap_or(100),
            subscription_quota: SubscriptionQuota(
                usize::try_from(number("HERALD_MAX_SUBSCRIPTIONS_PER_SUBSCRIBER", 100, 1, 10_000)?).unwrap_or(100),
            ),
            directory_quota: DirectoryQuota {
                users: usize::try_from(number("HERALD_MAX_USERS_PER_TENANT", DEFAULT_MAX_USERS_PER_TENANT, 1, 1_000_000)?).unwrap_or(10_000),
                companies: usize::try_from(number("HERALD_MAX_COMPANIES_PER_TENANT", DEFAULT_MAX_COMPANIES_PER_TENANT, 1, 1_000_000)?).unwrap_or(10_000),
            },
            outbox_retry_base: Duration::from_secs(number("HERALD_OUTBOX_RETRY_SECS", 30, 0, 3600)?),
            inbox_read_retention: Duration::from_secs(86_400 * number("HERALD_INBOX_READ_RETENTION_DAYS", 30, 1, 3650)?),
            system_name: lookup("HERALD_SYSTEM_NAME").filter(|s| !s.trim().is_empty() && s.len() <= 64).unwrap_or_else(|| "Herald".to_owned()),
            email_format: match lookup("HERALD_EMAIL_FORMAT").as_deref() {
                None | Some("") | Some("html") => EmailFormat::Html,
                Some("text") => EmailFormat::Text,
                Some(other) => {
                    return Err(ConfigError::Invalid { name: "HERALD_EMAIL_FORMAT", expected: "html or text", value: other.to_owned() })
                }
            },
            mail_dir: lookup("HERALD_MAIL_DIR").filter(|s| !s.is_empty()).unwrap_or_else(|| "herald-mail".to_owned()).into(),
            tryton_sessions: SessionSettings {
                bind_to_address: match lookup("HERALD_TRYTON_BIND_ADDRESS").as_deref() {
                    None | Some("") | Some("on") => true,
                    Some("off") => false,
                    Some(other) => return Err(ConfigError::Invalid { name: "HERALD_TRYTON_BIND_ADDRESS", expected: "on or off", value: other.to_owned() }),
                },
            },
        })
    }

    pub fn require_jwt_secret(&self) -> Result<&Secret, ConfigError> {
        self.jwt_secret.as_ref().ok_or(ConfigError::Missing("HERALD_JWT_SECRET"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_overrides() {
        let c = from(&[]).unwrap();
        assert_eq!(c.bus.retention, Duration::from_secs(300));
        assert_eq!(c.bus.wait, Duration::from_secs(20));
        assert!(c.require_jwt_secret().is_err());
        let c = from(&[("HERALD_BUS_WAIT_SECS", "3"), ("HERALD_JWT_SECRET", "0123456789abcdef")]).unwrap();
        assert_eq!(c.bus.wait, Duration::from_secs(3));
        assert!(!format!("{c:?}").contains("0123456789abcdef"));
        assert!(from(&[("HERALD_BUS_WAIT_SECS", "soon")]).is_err());
        assert!(from(&[("HERALD_JWT_SECRET", "short")]).is_err());
        assert!(c.tryton_sessions.bind_to_address);
        assert!(!from(&[("HERALD_TRYTON_BIND_ADDRESS", "off")]).unwrap().tryton_sessions.bind_to_address);
        assert!(from(&[("HERALD_TRYTON_BIND_ADDRESS", "maybe")]).is_err());
    }

    #[test]
    fn cors_origins() {
        let cors = |v: &str| from(&[("HERALD_CORS_ORIGINS", v)]).map(|c| c.cors);
        assert_eq!(from(&[]).unwrap().cors, CorsOrigins::None);
        assert_eq!(cors(" ").unwrap(), CorsOrigins::None);
        assert_eq!(cors("*").unwrap(), CorsOrigins::Any);
        assert_eq!(
            cors("https://erp.example, http://localhost:8000").unwrap(),
            CorsOrigins::Listed(vec!["https://erp.example".into(), "http://localhost:8000".into()])
        );
        for bad in ["*, https://erp.example", "erp.example", "https://erp.example/path", "https://*.example", "https://"] {
            assert!(cors(bad).is_err(), "{bad}");
        }
    }
}
