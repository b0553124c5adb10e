//! API keys: generation, hashing, and the middleware that turns a bearer key
//! into the request's organization and environment (`Caller`). Every request
//! looks its key up in the database (one indexed read, no per-node cache), so
//! a key revoked by `kycd key revoke` on any node or process stops working at
//! once.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kycd_store::Scope;
use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Who is calling: the key's organization and environment.
#[derive(Debug, Clone)]
pub struct Caller {
    pub scope: Scope,
    pub key_id: String,
}

impl Caller {
    pub fn actor(&self) -> String {
        format!("api_key:{}", self.key_id)
    }
    pub fn is_sandbox(&self) -> bool {
        self.scope.environment == "sandbox"
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::invalid_api_key("missing API key"))
    }
}

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A new key: `sk_test_…` or `sk_live_…` followed by 40 base62 characters (~238 bits).
pub fn generate_key(environment: &str) -> String {
    let prefix = if environment == "live" {
        "sk_live_"
    } else {
        "sk_test_"
    };
    let mut rng = rand::rngs::OsRng;
    let body: String = (0..40)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{body}")
}

/// Keys are stored only as SHA-256 (they are high-entropy, so a fast hash is enough).
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn bearer(req: &Request) -> Option<&str> {
    let v = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, key) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(key.trim())
}

/// Authenticates `/v1` requests.
pub async fn require_key(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(key) = bearer(&req) else {
        return ApiError::invalid_api_key(
            "missing API key: send Authorization: Bearer sk_test_… or sk_live_…",
        )
        .into_response();
    };
    if !(key.starts_with("sk_test_") || key.starts_with("sk_live_")) || key.len() > 128 {
        return ApiError::invalid_api_key("invalid API key").into_response();
    }
    let hash = hash_key(key);
    let found = match state.store.reader().await {
        Ok(mut conn) => kycd_store::orgs::find_key(&mut conn, &hash).await,
        Err(e) => Err(e),
    };
    let caller = match found {
        Ok(Some((owner, stored_hash)))
            if bool::from(stored_hash.as_bytes().ct_eq(hash.as_bytes())) =>
        {
            Caller {
                scope: owner.scope,
                key_id: owner.key_id,
            }
        }
        Ok(_) => return ApiError::invalid_api_key("invalid API key").into_response(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    req.extensions_mut().insert(caller);
    next.run(req).await
}
