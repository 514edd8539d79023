//! Who is calling: Herald JWTs (HS256) read from `Authorization: Bearer`, or,
//! for Tryton clients, `Authorization: Session base64(login:uid:jwt)` or the
//! cookie `tryton_session=login:uid:jwt` (with `uid` equal to the token's `sub`).
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
const MAX_CREDENTIAL_LEN: usize = 8192;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("authentication required: send 'Authorization: Bearer <token>'")]
    Missing,
    #[error("invalid credentials: {0}")]
    Invalid(String),
    #[error("the token has expired")]
    Expired,
    #[error("this token may not use tenant '{0}'")]
    TenantNotAllowed(String),
    #[error("this operation needs the '{ADMIN_ROLE}' role")]
    NotAdmin,
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
    pub exp: u64,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: UserId,
    tenants: TenantClaim,
    roles: Vec<String>,
    pub grants: ChannelGrants,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == ADMIN_ROLE)
    }

    pub fn require_admin(&self) -> Result<(), AuthError> {
        if self.is_admin() { Ok(()) } else { Err(AuthError::NotAdmin) }
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
}

impl Authenticator {
    pub fn hs256(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        Self { key: DecodingKey::from_secret(secret), validation }
    }

    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        let (token, session_uid) = credential(headers)?;
        let claims = jsonwebtoken::decode::<Claims>(&token, &self.key, &self.validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid("the token could not be verified".into()),
            })?
            .claims;
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
        })
    }
}

/// The token and, for Tryton sessions, the user id the session names.
fn credential(headers: &HeaderMap) -> Result<(String, Option<String>), AuthError> {
    if let Some(value) = headers.get(http::header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| AuthError::Invalid("unreadable Authorization header".into()))?;
        if value.len() > MAX_CREDENTIAL_LEN {
            return Err(AuthError::Invalid("Authorization header too long".into()));
        }
        let (scheme, rest) = value.trim().split_once(' ').ok_or(AuthError::Missing)?;
        return match scheme.to_ascii_lowercase().as_str() {
            "bearer" => Ok((rest.trim().to_owned(), None)),
            "session" => {
                let decoded = STANDARD
                    .decode(rest.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| AuthError::Invalid("Session credentials are not base64 text".into()))?;
                session_parts(&decoded)
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
                    return session_parts(value.trim_matches('"'));
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
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let claims = Claims {
        sub: SubjectClaim::Text(request.sub.clone()),
        db: request.tenants.clone(),
        roles: request.roles.clone(),
        channels: request.channels.clone(),
        exp: now.saturating_add_signed(request.expires_in_secs),
    };
    Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"s3cret-of-sixteen-bytes";

    fn mint(secret: &[u8], expires_in_secs: i64) -> String {
        let request = TokenRequest { sub: "5".into(), tenants: TenantClaim::One("demo".into()), roles: vec![], channels: vec![], expires_in_secs };
        issue(secret, &request).unwrap()
    }

    fn headers(name: http::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, value.parse().unwrap());
        h
    }

    /// Tryton's numeric user ids as `sub`, which `issue` never writes.
    fn numeric_subject(secret: &[u8]) -> String {
        let exp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 600;
        let claims = Claims { sub: SubjectClaim::Number(5), db: TenantClaim::One("demo".into()), roles: vec![], channels: vec![], exp };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    #[test]
    fn accepts_bearer_session_and_cookie() {
        let auth = Authenticator::hs256(SECRET);
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
        let auth = Authenticator::hs256(SECRET);
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
}
