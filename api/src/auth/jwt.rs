//! User tokens: JWTs from the platform's identity provider (RS256/ES256, by PEM key or JWKS) or,
//! in development, signed with a shared HS256 secret (`creatorlink token issue`).
//!
//! Every token must carry `sub`, `org`, `role`, `iss`, `aud` and `exp`; `nbf` is checked when
//! present. The algorithm is taken from the token header only to choose among the keys configured
//! for it: an HS256 token is verified with the HS256 secret and nothing else, so a public RSA key
//! can never be abused as an HMAC secret, and `alg: none` does not parse at all.

use std::path::Path;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use domain::access::{Role, UserCaller};
use domain::secret::Secret;
use domain::OrgId;

use super::jwks::Jwks;
use super::AuthError;
use crate::config::AuthConfig;
use crate::graphql::ids::{self, NodeType};

/// The claims of a user token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id at the identity provider.
    pub sub: String,
    /// The organization (id) the user acts in.
    pub org: Uuid,
    /// `admin`, `manager` or `creator`.
    pub role: String,
    /// For creators: the creator profiles (global ids or UUIDs) the user may act on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
}

/// A public key from a PEM file and the algorithm it verifies.
struct PemKey {
    key: DecodingKey,
    alg: Algorithm,
}

/// Verifies user tokens with the configured keys.
pub struct JwtVerifier {
    hs256: Option<DecodingKey>,
    pem: Option<PemKey>,
    jwks: Option<Jwks>,
    issuer: String,
    audience: String,
    leeway: u64,
}

impl JwtVerifier {
    /// Reads the configured keys; an unreadable or unparsable PEM file is an error naming it.
    pub fn from_config(config: &AuthConfig) -> Result<JwtVerifier, String> {
        let pem = match &config.jwt_public_key_file {
            Some(path) => Some(read_pem(path)?),
            None => None,
        };
        Ok(JwtVerifier {
            hs256: config
                .jwt_hs256_secret
                .as_ref()
                .map(|s| DecodingKey::from_secret(s.expose().as_bytes())),
            pem,
            jwks: config.jwks_url.as_ref().map(|url| {
                Jwks::new(
                    url.clone(),
                    std::time::Duration::from_secs(config.jwks_cache_seconds),
                    std::time::Duration::from_secs(config.jwks_min_refetch_seconds),
                )
            }),
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            leeway: config.jwt_leeway_seconds,
        })
    }

    /// The user a token authenticates, or why it does not.
    pub async fn verify(&self, token: &str) -> Result<UserCaller, AuthError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AuthError::InvalidToken("the token is not a well-formed JWT".into()))?;
        let key = match header.alg {
            Algorithm::HS256 => self.hs256.clone().ok_or_else(|| {
                AuthError::InvalidToken("HS256 tokens are not accepted by this server".into())
            })?,
            Algorithm::RS256 | Algorithm::ES256 => self.public_key(&header).await?,
            other => {
                return Err(AuthError::InvalidToken(format!(
                    "the algorithm {other:?} is not accepted (HS256, RS256 or ES256)"
                )))
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| AuthError::InvalidToken(describe(&e)))?;
        user_from_claims(data.claims)
    }

    async fn public_key(&self, header: &Header) -> Result<DecodingKey, AuthError> {
        if let (Some(kid), Some(jwks)) = (&header.kid, &self.jwks) {
            return jwks.key(kid, header.alg).await;
        }
        if let Some(pem) = &self.pem {
            if pem.alg == header.alg {
                return Ok(pem.key.clone());
            }
        }
        if self.jwks.is_some() && header.kid.is_none() {
            return Err(AuthError::InvalidToken(
                "the token has no `kid` to find its key in the JWKS".into(),
            ));
        }
        Err(AuthError::InvalidToken(format!(
            "no key is configured for {:?} tokens",
            header.alg
        )))
    }
}

fn read_pem(path: &Path) -> Result<PemKey, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!(
            "auth.jwt_public_key_file (CREATORLINK_AUTH_JWT_PUBLIC_KEY_FILE): cannot read {}: {e}",
            path.display()
        )
    })?;
    if let Ok(key) = DecodingKey::from_rsa_pem(&bytes) {
        return Ok(PemKey {
            key,
            alg: Algorithm::RS256,
        });
    }
    if let Ok(key) = DecodingKey::from_ec_pem(&bytes) {
        return Ok(PemKey {
            key,
            alg: Algorithm::ES256,
        });
    }
    Err(format!(
        "auth.jwt_public_key_file (CREATORLINK_AUTH_JWT_PUBLIC_KEY_FILE): {} holds no RSA or P-256 public key in PEM form",
        path.display()
    ))
}

fn describe(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::InvalidAudience => "the token is for another audience (aud)".into(),
        ErrorKind::InvalidIssuer => "the token is from another issuer (iss)".into(),
        ErrorKind::InvalidSignature => "the token's signature does not verify".into(),
        ErrorKind::InvalidAlgorithm => "the token's algorithm does not match its key".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("the token lacks the `{c}` claim"),
        ErrorKind::Json(_) => "the token's claims are not valid (sub, org, role)".into(),
        _ => "the token is not valid".into(),
    }
}

fn user_from_claims(claims: Claims) -> Result<UserCaller, AuthError> {
    let role: Role = claims.role.parse().map_err(AuthError::InvalidToken)?;
    let mut profile_ids = Vec::new();
    if role == Role::Creator {
        for p in &claims.profiles {
            let id = ids::decode_as(NodeType::CreatorProfile, p)
                .or_else(|| Uuid::parse_str(p).ok())
                .ok_or_else(|| {
                    AuthError::InvalidToken(
                        "the `profiles` claim holds something that is not a profile id".into(),
                    )
                })?;
            profile_ids.push(id);
        }
    }
    Ok(UserCaller {
        user_id: claims.sub,
        org: OrgId::new(claims.org),
        role,
        profile_ids,
    })
}

/// What a development token says.
pub struct TokenRequest {
    pub user_id: String,
    pub org: OrgId,
    pub role: Role,
    pub profiles: Vec<Uuid>,
    pub lifetime: chrono::Duration,
}

/// Signs a token with the configured HS256 secret (`creatorlink token issue`, tests). Refused when
/// no secret is configured.
pub fn issue(config: &AuthConfig, req: &TokenRequest) -> Result<Secret, String> {
    let secret = config.jwt_hs256_secret.as_ref().ok_or(
        "no HS256 secret is configured (auth.jwt_hs256_secret / CREATORLINK_AUTH_JWT_HS256_SECRET)",
    )?;
    let now = Utc::now().timestamp();
    let claims = Claims {
        sub: req.user_id.clone(),
        org: req.org.uuid(),
        role: req.role.as_str().to_owned(),
        profiles: req
            .profiles
            .iter()
            .map(|p| ids::encode(NodeType::CreatorProfile, *p).0)
            .collect(),
        iss: config.jwt_issuer.clone(),
        aud: config.jwt_audience.clone(),
        exp: now + req.lifetime.num_seconds(),
        nbf: Some(now),
        iat: Some(now),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.expose().as_bytes()),
    )
    .map(Secret::new)
    .map_err(|e| format!("cannot sign the token: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config() -> AuthConfig {
        let mut c = Config::default().auth;
        c.jwt_hs256_secret = Some(Secret::new("0123456789abcdef0123456789abcdef"));
        c
    }

    fn token(config: &AuthConfig, role: Role, lifetime: i64) -> String {
        issue(
            config,
            &TokenRequest {
                user_id: "u-1".into(),
                org: OrgId::new(Uuid::now_v7()),
                role,
                profiles: vec![Uuid::now_v7()],
                lifetime: chrono::Duration::seconds(lifetime),
            },
        )
        .expect("signed")
        .expose()
        .to_owned()
    }

    #[tokio::test]
    async fn an_issued_token_verifies_and_carries_role_and_profiles() {
        let c = config();
        let v = JwtVerifier::from_config(&c).expect("verifier");
        let user = v
            .verify(&token(&c, Role::Creator, 60))
            .await
            .expect("valid");
        assert_eq!(user.user_id, "u-1");
        assert_eq!(user.role, Role::Creator);
        assert_eq!(user.profile_ids.len(), 1);
        let admin = v.verify(&token(&c, Role::Admin, 60)).await.expect("valid");
        assert!(admin.profile_ids.is_empty(), "only creators are limited");
    }

    #[tokio::test]
    async fn expired_tampered_and_unsigned_tokens_are_refused() {
        let c = config();
        let v = JwtVerifier::from_config(&c).expect("verifier");
        let e = v
            .verify(&token(&c, Role::Admin, -120))
            .await
            .expect_err("expired");
        assert!(e.to_string().contains("expired"), "{e}");

        let mut other = c.clone();
        other.jwt_hs256_secret = Some(Secret::new("another-secret-another-secret-xx"));
        let e = v
            .verify(&token(&other, Role::Admin, 60))
            .await
            .expect_err("forged");
        assert!(e.to_string().contains("signature"), "{e}");

        other = c.clone();
        other.jwt_audience = "someone-else".into();
        let e = v
            .verify(&token(&other, Role::Admin, 60))
            .await
            .expect_err("aud");
        assert!(e.to_string().contains("audience"), "{e}");

        // alg: none, with the claims of a valid token.
        let valid = token(&c, Role::Admin, 60);
        let claims = valid.split('.').nth(1).expect("payload");
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{claims}.");
        assert!(v.verify(&none).await.is_err());
        // HS512 is not an accepted algorithm even with the right secret.
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &serde_json::json!({"sub":"u","org":Uuid::nil(),"role":"admin","iss":"creatorlink","aud":"creatorlink","exp":Utc::now().timestamp()+60}),
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .expect("signed");
        let e = v.verify(&hs512).await.expect_err("HS512");
        assert!(e.to_string().contains("not accepted"), "{e}");
    }

    #[tokio::test]
    async fn hs256_tokens_are_refused_when_no_secret_is_configured() {
        let c = config();
        let t = token(&c, Role::Admin, 60);
        let v = JwtVerifier::from_config(&Config::default().auth).expect("verifier");
        assert!(v.verify(&t).await.is_err());
        assert!(issue(
            &Config::default().auth,
            &TokenRequest {
                user_id: "u".into(),
                org: OrgId::new(Uuid::nil()),
                role: Role::Admin,
                profiles: vec![],
                lifetime: chrono::Duration::seconds(60),
            }
        )
        .is_err());
    }
}
