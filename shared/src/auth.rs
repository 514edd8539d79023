//! Who is calling: Herald JWTs (HS256) read from `Authorization: Bearer`, or,
//! for Tryton clients, `Authorization: Session base64(login:uid:jwt)` or the
//! cookie `tryton_session=login:uid:jwt` (with `uid` equal to the token's
//! `sub`). A session whose last part is not a JWT is trytond's own session
//! key ([`Credential::TrytonSession`]), checked against the sessions the
//! site mirrored (`sessions`), for the path's tenant.
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::bus::ChannelGrants;
use crate::domain::{TenantId, UserId};

pub const ADMIN_ROLE: &str = "admin";
pub const SESSION_COOKIE: &str = "tryton_session";
/// Shortest HS256 secret Herald accepts (`HERALD_JWT_SECRET`; config.rs's
/// message says 16 too).
pub const MIN_SECRET_BYTES: usize = 16;
/// Longest credential accepted, so a huge header costs nothing to refuse.
pub const MAX_CREDENTIAL_LEN: usize = 8192;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("authentication required: send 'Authorization: Bearer <token>'")]
    Missing,
    #[error("invalid credentials: {0}")]
    Invalid(String),
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("this token may not use tenant '{0}'")]
    TenantNotAllowed(String),
    #[error("this operation needs the '{ADMIN_ROLE}' role")]
    NotAdmin,
    #[error("this operation acts on every tenant: it needs a token for all of them (\"db\": \"*\")")]
    NotEveryTenant,
}

/// `db` claim: one tenant, several, or `"*"` for all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TenantClaim {
    One(String),
    Many(Vec<String>),
}

/// `sub` claim: Tryton user ids are numbers; accept strings too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SubjectClaim {
    Text(String),
    Number(u64),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: SubjectClaim,
    pub db: TenantClaim,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Shared bus channels the bearer may listen to (exact, or prefix`*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    /// Required: a default here only lets the validation say it is missing.
    #[serde(default)]
    pub exp: u64,
    /// Not before (seconds since the epoch); honoured with the leeway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Issued at; with it the lifetime is `exp - iat`, else `exp - now`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
}

/// `aud` claim: one audience or several (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// What a token must be beyond its signature (`HERALD_TOKEN_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPolicy {
    /// The longest a token may live: `exp` at most this far from `iat`
    /// (or from now when it has none).
    pub max_lifetime_secs: u64,
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway_secs: u64,
    /// When set, `iss` must be this.
    pub issuer: Option<String>,
    /// When set, `aud` must be (or contain) this.
    pub audience: Option<String>,
}

impl TokenPolicy {
    /// 30 days: `herald-local`'s development tokens live that long.
    pub const DEFAULT_MAX_LIFETIME_SECS: u64 = 30 * 24 * 3600;
    pub const DEFAULT_LEEWAY_SECS: u64 = 30;
    /// A century: the most `HERALD_TOKEN_MAX_LIFETIME_SECS` may say (the
    /// fixtures in events/ hold tokens valid until 2100).
    pub const LONGEST_MAX_LIFETIME_SECS: u64 = 100 * 365 * 86_400 + 25 * 86_400;
}

impl Default for TokenPolicy {
    fn default() -> Self {
        Self { max_lifetime_secs: Self::DEFAULT_MAX_LIFETIME_SECS, leeway_secs: Self::DEFAULT_LEEWAY_SECS, issuer: None, audience: None }
    }
}

/// Where a request's credential came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    /// `Authorization: Bearer` or `Session`: a page of another site cannot
    /// make a browser send it.
    Header,
    /// The `tryton_session` cookie: a browser sends it with any request to
    /// this origin, whichever page asks ([`Principal::via_cookie`]).
    Cookie,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: UserId,
    tenants: TenantClaim,
    roles: Vec<String>,
    pub grants: ChannelGrants,
    pub source: CredentialSource,
}

impl Principal {
    /// Whether a browser may have sent this on another site's behalf.
    pub fn via_cookie(&self) -> bool {
        self.source == CredentialSource::Cookie
    }

    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == ADMIN_ROLE)
    }

    /// A client holding a live Tryton session of `user` on `tenant`: no
    /// role, that tenant only, the channels the site granted its sessions.
    pub fn tryton_session(user: UserId, tenant: &TenantId, channels: Vec<String>, source: CredentialSource) -> Self {
        Self { user, tenants: TenantClaim::One(tenant.to_string()), roles: Vec::new(), grants: ChannelGrants::new(channels), source }
    }

    pub fn require_admin(&self) -> Result<(), AuthError> {
        if self.is_admin() { Ok(()) } else { Err(AuthError::NotAdmin) }
    }

    /// A token for all tenants (`"*"`), not for a list of some.
    pub fn require_every_tenant(&self) -> Result<(), AuthError> {
        let every = match &self.tenants {
            TenantClaim::One(t) => t == "*",
            TenantClaim::Many(ts) => ts.iter().any(|t| t == "*"),
        };
        if every { Ok(()) } else { Err(AuthError::NotEveryTenant) }
    }

    pub fn require_tenant(&self, tenant: &TenantId) -> Result<(), AuthError> {
        let allowed = match &self.tenants {
            TenantClaim::One(t) => t == "*" || t == tenant.as_str(),
            TenantClaim::Many(ts) => ts.iter().any(|t| t == "*" || t == tenant.as_str()),
        };
        if allowed { Ok(()) } else { Err(AuthError::TenantNotAllowed(tenant.to_string())) }
    }
}

/// Verifies tokens. The secret never leaves this struct (no Debug output).
pub struct Authenticator {
    key: DecodingKey,
    validation: Validation,
    policy: TokenPolicy,
}

impl Authenticator {
    pub fn hs256(secret: &[u8], policy: TokenPolicy) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = policy.leeway_secs;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        match &policy.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &policy.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        Self { key: DecodingKey::from_secret(secret), validation, policy }
    }

    /// The caller of a request that only a token may make (an operator's
    /// routes, with no tenant to check a Tryton session against).
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        match Credential::of(headers)? {
            Credential::Token { token, session_uid, source } => self.verify(&token, session_uid, source),
            Credential::TrytonSession { .. } => Err(AuthError::Invalid("this route takes a token, not a Tryton session".into())),
        }
    }

    /// The caller a token names, checked.
    pub fn verify(&self, token: &str, session_uid: Option<String>, source: CredentialSource) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid("the token could not be verified".into()))?;
        // No extension is understood, so a token that marks any critical
        // must be refused (RFC 7515 §4.1.11).
        if header.crit.is_some() {
            return Err(AuthError::Invalid("the token's header names critical extensions Herald does not understand".into()));
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                jsonwebtoken::errors::ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                jsonwebtoken::errors::ErrorKind::InvalidIssuer => AuthError::Invalid("the token's issuer is not accepted".into()),
                jsonwebtoken::errors::ErrorKind::InvalidAudience => AuthError::Invalid("the token's audience is not this service".into()),
                jsonwebtoken::errors::ErrorKind::MissingRequiredClaim(claim) => AuthError::Invalid(format!("the token has no '{claim}' claim")),
                _ => AuthError::Invalid("the token could not be verified".into()),
            })?
            .claims;
        self.check_lifetime(&claims, now_secs())?;
        let sub = match claims.sub {
            SubjectClaim::Text(s) => s,
            SubjectClaim::Number(n) => n.to_string(),
        };
        let user = UserId::parse(sub).map_err(|e| AuthError::Invalid(format!("sub: {e}")))?;
        if let Some(uid) = session_uid {
            if uid != user.as_str() {
                return Err(AuthError::Invalid("the session's user id is not the token's subject".into()));
            }
        }
        Ok(Principal {
            user,
            tenants: claims.db,
            roles: claims.roles,
            grants: ChannelGrants::new(claims.channels),
            source,
        })
    }
}

impl Authenticator {
    fn check_lifetime(&self, claims: &Claims, now: u64) -> Result<(), AuthError> {
        let leeway = self.policy.leeway_secs;
        if let Some(iat) = claims.iat {
            if iat > now.saturating_add(leeway) {
                return Err(AuthError::NotYetValid);
            }
        }
        let lifetime = claims.exp.saturating_sub(claims.iat.unwrap_or(now));
        if lifetime > self.policy.max_lifetime_secs.saturating_add(leeway) {
            return Err(AuthError::Invalid(format!(
                "the token lives longer than the {} s this service accepts",
                self.policy.max_lifetime_secs
            )));
        }
        Ok(())
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// What a request presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A Herald JWT, and for a Tryton session carrying one the user id the
    /// session names.
    Token { token: String, session_uid: Option<String>, source: CredentialSource },
    /// A Tryton session whose key is trytond's own.
    TrytonSession { user: UserId, key: String, source: CredentialSource },
}

/// Longest trytond session key accepted (trytond's are 64 hex digits).
const MAX_SESSION_KEY_LEN: usize = 256;

impl Credential {
    /// The credential of a request's headers, read but not checked.
    pub fn of(headers: &HeaderMap) -> Result<Self, AuthError> {
        let (token, session_uid, source) = credential(headers)?;
        // A JWT has three parts separated by dots; trytond's keys have none.
        if token.contains('.') {
            return Ok(Self::Token { token, session_uid, source });
        }
        let Some(uid) = session_uid else { return Ok(Self::Token { token, session_uid: None, source }) };
        let key_ok = token.len() <= MAX_SESSION_KEY_LEN && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !key_ok {
            return Err(AuthError::Invalid("a Tryton session key is at most 256 letters, digits, '-' or '_'".into()));
        }
        let user = UserId::parse(uid).map_err(|e| AuthError::Invalid(format!("the session's user id: {e}")))?;
        Ok(Self::TrytonSession { user, key: token, source })
    }
}

/// The token and, for Tryton sessions, the user id the session names.
fn credential(headers: &HeaderMap) -> Result<(String, Option<String>, CredentialSource), AuthError> {
    if let Some(value) = headers.get(http::header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| AuthError::Invalid("unreadable Authorization header".into()))?;
        if value.len() > MAX_CREDENTIAL_LEN {
            return Err(AuthError::Invalid("Authorization header too long".into()));
        }
        let (scheme, rest) = value.trim().split_once(' ').ok_or(AuthError::Missing)?;
        return match scheme.to_ascii_lowercase().as_str() {
            "bearer" => Ok((rest.trim().to_owned(), None, CredentialSource::Header)),
            "session" => {
                let decoded = STANDARD
                    .decode(rest.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| AuthError::Invalid("Session credentials are not base64 text".into()))?;
                let (token, uid) = session_parts(&decoded)?;
                Ok((token, uid, CredentialSource::Header))
            }
            _ => Err(AuthError::Invalid(format!("unsupported authorization scheme '{scheme}'"))),
        };
    }
    for cookies in headers.get_all(http::header::COOKIE) {
        let Ok(cookies) = cookies.to_str() else { continue };
        for cookie in cookies.split(';') {
            if let Some((name, value)) = cookie.trim().split_once('=') {
                if name == SESSION_COOKIE {
                    if value.len() > MAX_CREDENTIAL_LEN {
                        return Err(AuthError::Invalid("session cookie too long".into()));
                    }
                    let (token, uid) = session_parts(value.trim_matches('"'))?;
                    return Ok((token, uid, CredentialSource::Cookie));
                }
            }
        }
    }
    Err(AuthError::Missing)
}

/// `login:uid:token`; the login may itself contain ':'.
fn session_parts(session: &str) -> Result<(String, Option<String>), AuthError> {
    let mut parts = session.rsplitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(token), Some(uid), Some(_login)) if !token.is_empty() => Ok((token.to_owned(), Some(uid.to_owned()))),
        _ => Err(AuthError::Invalid("a session is 'login:user_id:token'".into())),
    }
}

/// What a token issued by [`issue`] says.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub sub: String,
    pub tenants: TenantClaim,
    pub roles: Vec<String>,
    /// Shared bus channels it may read (`chat:*`).
    pub channels: Vec<String>,
    /// Seconds from now until it expires; negative for one that already
    /// has (tests of the refusal).
    pub expires_in_secs: i64,
    /// `iss` and `aud`, for a service that checks them.
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("HERALD_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")]
    ShortSecret,
    #[error("the token could not be signed: {0}")]
    Signing(#[from] jsonwebtoken::errors::Error),
}

/// Signs a token with an HS256 secret: the one minter, for the CLI's
/// `herald token`, `herald-local`'s development tokens and the tests.
pub fn issue(secret: &[u8], request: &TokenRequest) -> Result<String, TokenError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(TokenError::ShortSecret);
    }
    let now = now_secs();
    let claims = Claims {
        sub: SubjectClaim::Text(request.sub.clone()),
        db: request.tenants.clone(),
        roles: request.roles.clone(),
        channels: request.channels.clone(),
        exp: now.saturating_add_signed(request.expires_in_secs),
        nbf: None,
        // An expired token (tests of the refusal) was issued before it expired.
        iat: Some(now.min(now.saturating_add_signed(request.expires_in_secs))),
        iss: request.issuer.clone(),
        aud: request.audience.clone().map(Audience::One),
    };
    Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"s3cret-of-sixteen-bytes";

    fn mint(secret: &[u8], expires_in_secs: i64) -> String {
        let request = TokenRequest {
            sub: "5".into(),
            tenants: TenantClaim::One("demo".into()),
            roles: vec![],
            channels: vec![],
            expires_in_secs,
            issuer: None,
            audience: None,
        };
        issue(secret, &request).unwrap()
    }

    fn now() -> u64 {
        super::now_secs()
    }

    /// A token of any claims and header, signed with `SECRET`.
    fn signed(header: Header, claims: serde_json::Value) -> String {
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(SECRET)).unwrap()
    }

    fn bearer(auth: &Authenticator, token: &str) -> Result<Principal, AuthError> {
        auth.authenticate(&headers(http::header::AUTHORIZATION, &format!("Bearer {token}")))
    }

    fn headers(name: http::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, value.parse().unwrap());
        h
    }

    /// Tryton's numeric user ids as `sub`, which `issue` never writes.
    fn numeric_subject(secret: &[u8]) -> String {
        let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 600;
        let claims = Claims {
            sub: SubjectClaim::Number(5),
            db: TenantClaim::One("demo".into()),
            roles: vec![],
            channels: vec![],
            exp,
            nbf: None,
            iat: None,
            iss: None,
            aud: None,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    #[test]
    fn accepts_bearer_session_and_cookie() {
        let auth = Authenticator::hs256(SECRET, TokenPolicy::default());
        let token = numeric_subject(SECRET);
        assert_eq!(auth.authenticate(&headers(http::header::AUTHORIZATION, &format!("Bearer {token}"))).unwrap().user.as_str(), "5");
        let token = mint(SECRET, 600);
        let bearer = auth.authenticate(&headers(http::header::AUTHORIZATION, &format!("Bearer {token}"))).unwrap();
        assert_eq!(bearer.user.as_str(), "5");
        let session = STANDARD.encode(format!("ad:min:5:{token}"));
        assert!(auth.authenticate(&headers(http::header::AUTHORIZATION, &format!("Session {session}"))).is_ok());
        let cookie = format!("other=1; {SESSION_COOKIE}=admin:5:{token}");
        assert!(auth.authenticate(&headers(http::header::COOKIE, &cookie)).is_ok());
    }

    #[test]
    fn refuses_what_it_must() {
        let auth = Authenticator::hs256(SECRET, TokenPolicy::default());
        assert_eq!(auth.authenticate(&HeaderMap::new()).unwrap_err(), AuthError::Missing);
        let expired = mint(SECRET, -3600);
        assert_eq!(
            auth.authenticate(&headers(http::header::AUTHORIZATION, &format!("Bearer {expired}"))).unwrap_err(),
            AuthError::Expired
        );
        let forged = mint(b"another-secret-of-16-bytes", 600);
        assert!(matches!(
            auth.authenticate(&headers(http::header::AUTHORIZATION, &format!("Bearer {forged}"))),
            Err(AuthError::Invalid(_))
        ));
        let token = mint(SECRET, 600);
        let wrong_uid = STANDARD.encode(format!("admin:6:{token}"));
        assert!(auth.authenticate(&headers(http::header::AUTHORIZATION, &format!("Session {wrong_uid}"))).is_err());
        let p = auth.authenticate(&headers(http::header::AUTHORIZATION, &format!("Bearer {token}"))).unwrap();
        assert_eq!(p.require_admin(), Err(AuthError::NotAdmin));
        assert!(p.require_tenant(&TenantId::parse("demo").unwrap()).is_ok());
        assert!(p.require_tenant(&TenantId::parse("other").unwrap()).is_err());
    }

    #[test]
    fn a_token_not_valid_yet_is_refused() {
        let auth = Authenticator::hs256(SECRET, TokenPolicy::default());
        let in_an_hour = signed(Header::new(Algorithm::HS256), serde_json::json!({"sub": "5", "db": "demo", "exp": now() + 7200, "nbf": now() + 3600}));
        assert_eq!(bearer(&auth, &in_an_hour).unwrap_err(), AuthError::NotYetValid);
        let issued_later = signed(Header::new(Algorithm::HS256), serde_json::json!({"sub": "5", "db": "demo", "exp": now() + 7200, "iat": now() + 3600}));
        assert_eq!(bearer(&auth, &issued_later).unwrap_err(), AuthError::NotYetValid);
        let within_leeway = signed(Header::new(Algorithm::HS256), serde_json::json!({"sub": "5", "db": "demo", "exp": now() + 600, "nbf": now() + 10, "iat": now() + 10}));
        assert!(bearer(&auth, &within_leeway).is_ok());
    }

    #[test]
    fn a_token_must_expire_within_the_maximum_lifetime() {
        let auth = Authenticator::hs256(SECRET, TokenPolicy { max_lifetime_secs: 3600, ..TokenPolicy::default() });
        for exp in [u64::MAX, now() + 7200] {
            let long = signed(Header::new(Algorithm::HS256), serde_json::json!({"sub": "5", "db": "demo", "exp": exp}));
            assert!(matches!(bearer(&auth, &long), Err(AuthError::Invalid(m)) if m.contains("lives longer")), "exp {exp}");
        }
        let old_iat = signed(Header::new(Algorithm::HS256), serde_json::json!({"sub": "5", "db": "demo", "exp": now() + 600, "iat": now() - 7200}));
        assert!(bearer(&auth, &old_iat).is_err(), "lifetime counts from iat");
        let no_exp = signed(Header::new(Algorithm::HS256), serde_json::json!({"sub": "5", "db": "demo"}));
        let refused = bearer(&auth, &no_exp).unwrap_err();
        assert!(matches!(&refused, AuthError::Invalid(m) if m.contains("'exp'")), "{refused:?}");
        assert!(bearer(&auth, &mint(SECRET, 1800)).is_ok());
    }

    #[test]
    fn a_critical_extension_is_refused() {
        let auth = Authenticator::hs256(SECRET, TokenPolicy::default());
        let mut header = Header::new(Algorithm::HS256);
        header.crit = Some(vec!["b64".into()]);
        let token = signed(header, serde_json::json!({"sub": "5", "db": "demo", "exp": now() + 600}));
        assert!(matches!(bearer(&auth, &token), Err(AuthError::Invalid(m)) if m.contains("critical")));
    }

    #[test]
    fn issuer_and_audience_are_checked_when_configured() {
        let policy = TokenPolicy { issuer: Some("https://erp.example".into()), audience: Some("herald".into()), ..TokenPolicy::default() };
        let auth = Authenticator::hs256(SECRET, policy);
        let claims = |iss: &str, aud: serde_json::Value| signed(Header::new(Algorithm::HS256), serde_json::json!({"sub": "5", "db": "demo", "exp": now() + 600, "iss": iss, "aud": aud}));
        assert!(bearer(&auth, &claims("https://erp.example", "herald".into())).is_ok());
        assert!(bearer(&auth, &claims("https://erp.example", serde_json::json!(["other", "herald"]))).is_ok());
        assert!(matches!(bearer(&auth, &claims("https://evil.example", "herald".into())), Err(AuthError::Invalid(m)) if m.contains("issuer")));
        assert!(matches!(bearer(&auth, &claims("https://erp.example", "other".into())), Err(AuthError::Invalid(m)) if m.contains("audience")));
        assert!(bearer(&auth, &mint(SECRET, 600)).is_err(), "no iss, no aud");
        // Unconfigured, neither is required.
        assert!(bearer(&Authenticator::hs256(SECRET, TokenPolicy::default()), &claims("anyone", "anything".into())).is_ok());
    }
}
