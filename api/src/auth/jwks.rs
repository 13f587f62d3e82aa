//! The identity provider's signing keys, fetched from its JWKS URL and cached. A token whose `kid`
//! is not in the cache triggers one refetch (at most every `jwks_min_refetch_seconds`, so a flood
//! of forged `kid`s cannot make us hammer the provider); keys are also refetched once the cache is
//! older than `jwks_cache_seconds`. A key rotation at the provider is thus picked up without a
//! restart.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::Mutex;

use super::AuthError;

/// A cached JWKS.
pub struct Jwks {
    url: String,
    client: reqwest::Client,
    ttl: Duration,
    min_refetch: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, (DecodingKey, Algorithm)>,
    fetched_at: Option<Instant>,
}

impl Jwks {
    pub fn new(url: String, ttl: Duration, min_refetch: Duration) -> Jwks {
        Jwks {
            url,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            ttl,
            min_refetch,
            state: Mutex::new(State::default()),
        }
    }

    /// The key named `kid`, for a token signed with `alg`.
    pub async fn key(&self, kid: &str, alg: Algorithm) -> Result<DecodingKey, AuthError> {
        // One lock around lookup and fetch: concurrent requests with a new `kid` share one fetch.
        let mut state = self.state.lock().await;
        let stale = state.fetched_at.is_none_or(|at| at.elapsed() >= self.ttl);
        if stale {
            self.refresh(&mut state).await;
        }
        if !state.keys.contains_key(kid)
            && !stale
            && state
                .fetched_at
                .is_none_or(|at| at.elapsed() >= self.min_refetch)
        {
            self.refresh(&mut state).await;
        }
        match state.keys.get(kid) {
            Some((key, key_alg)) if *key_alg == alg => Ok(key.clone()),
            Some(_) => Err(AuthError::InvalidToken(
                "the token's algorithm does not match its key".into(),
            )),
            None => Err(AuthError::InvalidToken(format!(
                "the token's key id `{}` is unknown",
                kid.chars().take(64).collect::<String>()
            ))),
        }
    }

    /// Fetches the key set; on failure keeps the keys it had (and says so in the log).
    async fn refresh(&self, state: &mut State) {
        state.fetched_at = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), "fetched the JWKS");
                state.keys = keys;
            }
            Err(e) => tracing::warn!(url = %self.url, error = %e, "cannot fetch the JWKS"),
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, (DecodingKey, Algorithm)>, String> {
        let body: serde_json::Value = self
            .client
            .get(&self.url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let entries = body["keys"]
            .as_array()
            .ok_or("the JWKS has no `keys` array")?;
        // Keys of kinds we do not verify (e.g. encryption keys, other curves) are skipped one by
        // one rather than failing the whole set.
        Ok(entries
            .iter()
            .filter_map(|entry| serde_json::from_value::<Jwk>(entry.clone()).ok())
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                let alg = algorithm(&jwk)?;
                let key = DecodingKey::from_jwk(&jwk).ok()?;
                Some((kid, (key, alg)))
            })
            .collect())
    }
}

/// RS256 for RSA keys, ES256 for P-256 keys; the JWK's own `alg`, when present, must agree.
fn algorithm(jwk: &Jwk) -> Option<Algorithm> {
    let by_type = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        _ => return None,
    };
    match jwk.common.key_algorithm {
        None => Some(by_type),
        Some(KeyAlgorithm::RS256) if by_type == Algorithm::RS256 => Some(by_type),
        Some(KeyAlgorithm::ES256) if by_type == Algorithm::ES256 => Some(by_type),
        Some(_) => None,
    }
}
