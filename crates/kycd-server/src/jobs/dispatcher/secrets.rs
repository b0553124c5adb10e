//! An endpoint's signing secrets: the current one and, after a rotation, the
//! previous ones until they expire (24 h), sealed with the endpoint's data key
//! in the vault. Only this module sees them in clear.

use crate::service::{ServiceError, ServiceResult};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use kycd_store::KeyOwner;
use kycd_store::{Conn, Scope, micros};
use serde::{Deserialize, Serialize};

/// How long a replaced secret keeps signing alongside the new one.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);
/// Replaced secrets kept at most (several rotations within a day).
const MAX_PREVIOUS: usize = 4;
/// The vault field the secrets are sealed under.
const FIELD: &str = "webhook_secrets";

#[derive(Clone, Serialize, Deserialize)]
struct Previous {
    secret: String,
    /// Microseconds, on the scope's clock.
    expires_at: i64,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct SecretSet {
    current: String,
    #[serde(default)]
    previous: Vec<Previous>,
}

impl std::fmt::Debug for SecretSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretSet(<{} redacted>)", 1 + self.previous.len())
    }
}

impl SecretSet {
    /// A fresh `whsec_` secret.
    pub fn generate() -> Self {
        SecretSet {
            current: kycd_webhooks::generate_secret(),
            previous: vec![],
        }
    }

    pub fn current(&self) -> &str {
        &self.current
    }

    /// Replaces the current secret; the old one keeps signing for 24 h.
    /// Returns when it stops.
    pub fn rotate(&mut self, now: DateTime<Utc>) -> DateTime<Utc> {
        let expires = now + ROTATION_OVERLAP;
        let t = micros(&now);
        self.previous.retain(|p| p.expires_at > t);
        let old = std::mem::replace(&mut self.current, kycd_webhooks::generate_secret());
        self.previous.insert(
            0,
            Previous {
                secret: old,
                expires_at: micros(&expires),
            },
        );
        self.previous.truncate(MAX_PREVIOUS);
        expires
    }

    /// The secrets that sign at `now` (scope clock): the current one first.
    pub fn signing(&self, now: DateTime<Utc>) -> Vec<&str> {
        let t = micros(&now);
        std::iter::once(self.current.as_str())
            .chain(
                self.previous
                    .iter()
                    .filter(|p| p.expires_at > t)
                    .map(|p| p.secret.as_str()),
            )
            .collect()
    }

    /// Seals the set for the `secrets` column (creates the endpoint's data key on first use).
    pub async fn seal(
        &self,
        state: &AppState,
        conn: &mut Conn,
        scope: &Scope,
        endpoint_id: &str,
    ) -> ServiceResult<String> {
        let org = &scope.organization_id;
        let key = state
            .vault
            .customer_key(conn, KeyOwner::scoped(scope, endpoint_id))
            .await?;
        let json = serde_json::to_string(self)
            .map_err(|e| ServiceError::internal(format!("endpoint secrets: {e}")))?;
        state.vault.seal_str(&key, org, endpoint_id, FIELD, &json)
    }

    /// Opens a sealed set.
    pub async fn open(
        state: &AppState,
        conn: &mut Conn,
        scope: &Scope,
        endpoint_id: &str,
        sealed: &str,
    ) -> ServiceResult<SecretSet> {
        let org = &scope.organization_id;
        let Some(key) = state
            .vault
            .existing_customer_key(conn, KeyOwner::scoped(scope, endpoint_id))
            .await?
        else {
            return Err(ServiceError::from(kycd_store::StoreError::Corrupt(
                format!("webhook endpoint {endpoint_id} has no data key"),
            )));
        };
        let json = state
            .vault
            .open_str(&key, org, endpoint_id, FIELD, sealed)?;
        Ok(serde_json::from_str(&json).map_err(|_| {
            kycd_store::StoreError::Corrupt(format!(
                "webhook secrets of endpoint {endpoint_id} do not parse"
            ))
        })?)
    }
}
