//! Development conveniences: a generated secret and ready-made tokens, so a
//! newcomer can curl the gateway at once.
use herald::auth::{issue, TenantClaim, TokenPolicy, TokenRequest, ADMIN_ROLE};
use herald::config::Secret;

pub fn generated_secret() -> Secret {
    let bytes: [u8; 32] = rand_bytes();
    Secret::new(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn rand_bytes() -> [u8; 32] {
    // uuid's v4 generator draws from the OS RNG.
    let a = uuid::Uuid::new_v4();
    let b = uuid::Uuid::new_v4();
    let mut out = [0u8; 32];
    out[..16].copy_from_slice(a.as_bytes());
    out[16..].copy_from_slice(b.as_bytes());
    out
}

/// A token valid 30 days on any tenant, with the `iss` and `aud` the
/// configuration asks for.
pub fn token(secret: &Secret, policy: &TokenPolicy, sub: &str, admin: bool) -> anyhow::Result<String> {
    let request = TokenRequest {
        sub: sub.to_owned(),
        tenants: TenantClaim::One("*".into()),
        roles: if admin { vec![ADMIN_ROLE.to_owned()] } else { vec![] },
        channels: vec![],
        expires_in_secs: i64::try_from(policy.max_lifetime_secs.min(30 * 24 * 3600)).unwrap_or(3600),
        issuer: policy.issuer.clone(),
        audience: policy.audience.clone(),
    };
    Ok(issue(secret.expose(), &request)?)
}
