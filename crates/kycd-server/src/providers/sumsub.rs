//! Sumsub as an identity provider: its configuration per organization and
//! environment (credentials sealed by the vault), the signed API client
//! (applicants, WebSDK links) and the application of its webhooks.
//!
//! The API as documented at docs.sumsub.com:
//! - Authentication (reference/authentication): every request carries
//!   `X-App-Token`, `X-App-Access-Ts` (Unix seconds) and `X-App-Access-Sig`,
//!   the lowercase hex HMAC-SHA256 under the secret key of
//!   ts + upper-case method + path with query + the body exactly as sent.
//! - Create applicant (reference/create-applicants):
//!   `POST /resources/applicants?levelName=…` with `{"externalUserId"}` → `{"id"}`;
//!   an existing one is fetched with `GET /resources/applicants/-;externalUserId=…/one`
//!   (reference/get-applicant-data-via-externaluserid).
//! - Generate external WebSDK link (reference/generate-websdk-external-link):
//!   `POST /resources/sdkIntegrations/levels/-/websdkLink` with
//!   `{"levelName", "userId", "ttlInSecs"}` → `{"url"}`.
//! - Webhooks (docs/user-verification-webhooks): `type`, `applicantId`,
//!   `externalUserId`, `reviewResult {reviewAnswer, rejectLabels,
//!   reviewRejectType}`, `createdAtMs`; signed with `X-Payload-Digest` /
//!   `X-Payload-Digest-Alg` (checked in `api::inbound`).

use super::ExternalLink;
use crate::service::{self, OperationContext, ProviderError, Refusal, ServiceError, ServiceResult};
use crate::state::AppState;
use hmac::{Hmac, Mac};
use kycd_core::customer::Level;
use kycd_core::lifecycle::Change;
use kycd_core::providers::{ProviderKind, sumsub_created_at_ms, sumsub_verdict};
use kycd_store::KeyOwner;
use kycd_store::webhooks::inbound::Inbound;
use kycd_store::{Conn, Scope, Tx, customers as db, providers as store};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::time::Duration;

pub const NAME: &str = "sumsub";
/// Sumsub's API.
pub const DEFAULT_BASE_URL: &str = "https://api.sumsub.com";
/// One request's time limit.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Tries per request (a 5xx, a 429 or no answer is tried again).
const ATTEMPTS: u32 = 3;
/// The first retry's wait; each next one doubles.
const BACKOFF: Duration = Duration::from_millis(200);

/// What may be shown: the level and where the API is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicConfig {
    pub level_name: String,
    pub base_url: String,
    /// kycd level (`basic`, `full`) → Sumsub level name; else `level_name`.
    #[serde(default)]
    pub levels: BTreeMap<String, String>,
}

/// The credentials: sealed by the vault, never returned, never logged.
#[derive(Clone, Serialize, Deserialize)]
struct Secrets {
    app_token: String,
    secret_key: String,
    webhook_secret: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

/// Sumsub's configuration for one scope.
#[derive(Debug, Clone)]
pub struct SumsubConfig {
    pub public: PublicConfig,
    secrets: Secrets,
    pub configured_at: chrono::DateTime<chrono::Utc>,
}

impl SumsubConfig {
    pub fn webhook_secret(&self) -> &str {
        &self.secrets.webhook_secret
    }

    /// The Sumsub level of a kycd level.
    pub fn level_for(&self, level: Level) -> &str {
        self.public
            .levels
            .get(level.as_str())
            .unwrap_or(&self.public.level_name)
    }

    /// The configuration as the API shows it (no secrets).
    pub fn to_json(&self, scope: &Scope) -> Value {
        json!({
            "object": "provider",
            "provider": NAME,
            "environment": scope.environment,
            "level_name": self.public.level_name,
            "levels": self.public.levels,
            "base_url": self.public.base_url,
            "configured_at": kycd_core::time::format(&self.configured_at),
        })
    }
}

/// The vault owner id the credentials are sealed under (one data key per scope).
fn owner_id(scope: &Scope) -> String {
    format!("idp_sumsub_{}", scope.environment)
}
const FIELD: &str = "provider_secrets";

/// The scope's Sumsub configuration, if any.
pub async fn load(state: &AppState, scope: &Scope) -> ServiceResult<Option<SumsubConfig>> {
    let mut conn = state.store.reader().await?;
    let Some(row) = store::get(&mut conn, scope, NAME).await? else {
        return Ok(None);
    };
    let corrupt = |what: &str| {
        ServiceError::from(kycd_store::StoreError::Corrupt(format!(
            "sumsub configuration: {what}"
        )))
    };
    let public: PublicConfig =
        serde_json::from_str(&row.config).map_err(|_| corrupt("settings do not parse"))?;
    let org = &scope.organization_id;
    let owner = owner_id(scope);
    let Some(key) = state
        .vault
        .existing_customer_key(&mut conn, KeyOwner::scoped(scope, &owner))
        .await?
    else {
        return Err(corrupt("no data key"));
    };
    let json = state
        .vault
        .open_str(&key, org, &owner, FIELD, &row.secrets)?;
    let secrets: Secrets =
        serde_json::from_str(&json).map_err(|_| corrupt("credentials do not parse"))?;
    Ok(Some(SumsubConfig {
        public,
        secrets,
        configured_at: row.configured_at,
    }))
}

/// Validates and stores `PUT /v1/providers/sumsub`.
pub async fn configure(
    state: &AppState,
    scope: &Scope,
    body: Value,
) -> ServiceResult<SumsubConfig> {
    let Some(obj) = body.as_object() else {
        return Err(Refusal::invalid_request("the request body must be a JSON object").into());
    };
    const KNOWN: &[&str] = &[
        "app_token",
        "secret_key",
        "level_name",
        "webhook_secret",
        "base_url",
        "levels",
    ];
    if let Some(k) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(Refusal::invalid_field(k.clone(), format!("unknown field `{k}`")).into());
    }
    let text = |k: &str| -> ServiceResult<String> {
        match obj.get(k) {
            Some(Value::String(s)) if !s.trim().is_empty() && s.len() <= 1024 => {
                Ok(s.trim().into())
            }
            _ => Err(
                Refusal::invalid_field(k, format!("`{k}` is required: a non-empty string")).into(),
            ),
        }
    };
    let secrets = Secrets {
        app_token: text("app_token")?,
        secret_key: text("secret_key")?,
        webhook_secret: text("webhook_secret")?,
    };
    let level_name = text("level_name")?;
    let base_url = match obj.get("base_url") {
        None | Some(Value::Null) => DEFAULT_BASE_URL.to_string(),
        Some(Value::String(s)) => {
            let ok = url::Url::parse(s)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            match ok {
                Some(_) => s.trim_end_matches('/').to_string(),
                None => {
                    return Err(Refusal::invalid_field(
                        "base_url",
                        "`base_url` must be an http(s) URL",
                    )
                    .into());
                }
            }
        }
        Some(_) => {
            return Err(Refusal::invalid_field("base_url", "`base_url` must be a string").into());
        }
    };
    let mut levels = BTreeMap::new();
    match obj.get("levels") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let param = format!("levels.{k}");
                if Level::parse(k).is_none() {
                    return Err(
                        Refusal::invalid_field(param, "a kycd level: `basic` or `full`").into(),
                    );
                }
                match v {
                    Value::String(s) if !s.trim().is_empty() => {
                        levels.insert(k.clone(), s.trim().to_string());
                    }
                    _ => return Err(Refusal::invalid_field(param, "a Sumsub level name").into()),
                }
            }
        }
        Some(_) => {
            return Err(Refusal::invalid_field(
                "levels",
                "`levels` maps kycd levels to Sumsub level names",
            )
            .into());
        }
    }
    let public = PublicConfig {
        level_name,
        base_url,
        levels,
    };
    let now = chrono::DateTime::from_timestamp_millis(chrono::Utc::now().timestamp_millis())
        .unwrap_or_default();
    let mut tx = state.store.begin().await?;
    let org = &scope.organization_id;
    let owner = owner_id(scope);
    let key = state
        .vault
        .customer_key(&mut tx, KeyOwner::scoped(scope, &owner))
        .await?;
    let json = serde_json::to_string(&secrets)
        .map_err(|e| ServiceError::internal(format!("provider secrets: {e}")))?;
    let sealed = state.vault.seal_str(&key, org, &owner, FIELD, &json)?;
    store::put(
        &mut tx,
        scope,
        &store::StoredProvider {
            provider: NAME.into(),
            config: serde_json::to_string(&public)
                .map_err(|e| ServiceError::internal(format!("provider config: {e}")))?,
            secrets: sealed,
            configured_at: now,
        },
    )
    .await?;
    tx.commit().await.map_err(kycd_store::StoreError::from)?;
    Ok(SumsubConfig {
        public,
        secrets,
        configured_at: now,
    })
}

/// `DELETE /v1/providers/sumsub`; false when none was configured.
pub async fn remove(state: &AppState, scope: &Scope) -> ServiceResult<bool> {
    let mut conn = state.store.writer().await?;
    Ok(store::delete(&mut conn, scope, NAME).await?)
}

/// `X-App-Access-Sig`: lowercase hex HMAC-SHA256 of ts + METHOD + path with query + body.
pub fn sign(secret_key: &str, ts: i64, method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(secret_key.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(ts.to_string().as_bytes());
    mac.update(method.as_bytes());
    mac.update(path_and_query.as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn http() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    })
}

fn failure(message: impl Into<String>, transient: bool) -> ProviderError {
    ProviderError {
        provider: NAME,
        message: message.into(),
        transient,
    }
}

/// One signed call, tried again with backoff on no answer, a 5xx or a 429.
/// `Ok((status, body))` for any other answer. The error is not transient
/// (the retries are spent: the caller's transaction is not run again).
async fn call(
    state: &AppState,
    cfg: &SumsubConfig,
    method: reqwest::Method,
    path_and_query: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), ProviderError> {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let url = format!("{}{path_and_query}", cfg.public.base_url);
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(BACKOFF * 2u32.pow(attempt - 1)).await;
        }
        let ts = chrono::Utc::now().timestamp();
        let sig = sign(
            &cfg.secrets.secret_key,
            ts,
            method.as_str(),
            path_and_query,
            &bytes,
        );
        let mut req = http()
            .request(method.clone(), &url)
            .header("X-App-Token", &cfg.secrets.app_token)
            .header("X-App-Access-Ts", ts.to_string())
            .header("X-App-Access-Sig", sig)
            .header("Accept", "application/json");
        if body.is_some() {
            req = req
                .header("Content-Type", "application/json")
                .body(bytes.clone());
        }
        let started = std::time::Instant::now();
        let outcome = req.send().await;
        let elapsed = started.elapsed();
        match outcome {
            Err(e) => {
                let kind = if e.is_timeout() {
                    "timeout"
                } else {
                    "unreachable"
                };
                state.metrics.provider_request(NAME, kind, elapsed);
                last = format!("{kind} on attempt {}", attempt + 1);
            }
            Ok(res) => {
                let status = res.status().as_u16();
                if status == 429 || status >= 500 {
                    state.metrics.provider_request(NAME, "retryable", elapsed);
                    last = format!("HTTP {status} on attempt {}", attempt + 1);
                    continue;
                }
                let outcome = if status < 400 { "ok" } else { "refused" };
                state.metrics.provider_request(NAME, outcome, elapsed);
                let text = res.text().await.unwrap_or_default();
                return Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)));
            }
        }
    }
    tracing::warn!(provider = NAME, path = %path_and_query.split('?').next().unwrap_or(""), error = %last, "identity provider unavailable");
    Err(failure(last, false))
}

fn refused(what: &str, status: u16, body: &Value) -> ProviderError {
    // Sumsub's error body: {"description", "code", "errorCode", "errorName"}; no personal data.
    let name = body
        .get("errorName")
        .or_else(|| body.get("description"))
        .and_then(Value::as_str)
        .unwrap_or("");
    failure(format!("{what}: HTTP {status} {name}"), false)
}

/// The applicant of the customer: the one recorded, else created with
/// `externalUserId` = the customer id (an existing one is fetched).
async fn applicant_id(
    state: &AppState,
    cx: &OperationContext,
    cfg: &SumsubConfig,
    customer_id: &str,
    level_name: &str,
) -> ServiceResult<String> {
    {
        let mut conn = state.store.reader().await?;
        if let Some(a) = store::applicant_of(&mut conn, &cx.scope, NAME, customer_id).await? {
            return Ok(a.applicant_id);
        }
    }
    let path = format!("/resources/applicants?levelName={}", urlencode(level_name));
    let (status, body) = call(
        state,
        cfg,
        reqwest::Method::POST,
        &path,
        Some(&json!({"externalUserId": customer_id})),
    )
    .await?;
    let body = match status {
        200 | 201 => body,
        409 => {
            let path = format!(
                "/resources/applicants/-;externalUserId={}/one",
                urlencode(customer_id)
            );
            let (status, body) = call(state, cfg, reqwest::Method::GET, &path, None).await?;
            if status != 200 {
                return Err(refused("fetch applicant", status, &body).into());
            }
            body
        }
        _ => return Err(refused("create applicant", status, &body).into()),
    };
    body.get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| failure("create applicant: no id in the answer", false).into())
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Creates or reuses the applicant and obtains a WebSDK link valid for the
/// `link_ttl_minutes` setting. Runs before the start's transaction.
pub async fn prepare_link(
    state: &AppState,
    cx: &OperationContext,
    cfg: &SumsubConfig,
    customer_id: &str,
    level: Level,
) -> ServiceResult<ExternalLink> {
    let level_name = cfg.level_for(level).to_string();
    let applicant = applicant_id(state, cx, cfg, customer_id, &level_name).await?;
    let ttl = cx.settings.link_ttl_minutes as i64 * 60;
    let (status, body) = call(
        state,
        cfg,
        reqwest::Method::POST,
        "/resources/sdkIntegrations/levels/-/websdkLink",
        Some(&json!({"levelName": level_name, "userId": customer_id, "ttlInSecs": ttl})),
    )
    .await?;
    if status != 200 {
        return Err(refused("websdk link", status, &body).into());
    }
    let url = body
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .ok_or_else(|| ServiceError::from(failure("websdk link: no url in the answer", false)))?;
    Ok(ExternalLink {
        url: url.to_string(),
        expires_at: cx.now + chrono::Duration::seconds(ttl),
        applicant_id: applicant,
    })
}

/// Records the applicant and gives the customer the WebSDK link (sealed like
/// a hosted link) while it waits on the end user.
pub async fn attach_link(
    state: &AppState,
    conn: &mut Conn,
    cx: &OperationContext,
    ch: &mut Change,
    link: ExternalLink,
) -> ServiceResult<()> {
    let c = &mut ch.customer;
    store::put_applicant(conn, &cx.scope, NAME, &link.applicant_id, &c.id, cx.now).await?;
    if !matches!(
        c.status,
        kycd_core::status::CustomerStatus::Pending
            | kycd_core::status::CustomerStatus::NeedsInformation
            | kycd_core::status::CustomerStatus::UpdateRequested
    ) {
        c.verification.url = None;
        c.verification.url_expires_at = None;
        return Ok(());
    }
    let key = state
        .vault
        .customer_key(conn, KeyOwner::scoped(&cx.scope, &c.id))
        .await?;
    let sealed = state.vault.seal_str(
        &key,
        &cx.scope.organization_id,
        &c.id,
        "hosted_url",
        &link.url,
    )?;
    db::put_secret(conn, &cx.scope, &c.id, "hosted_url", &sealed).await?;
    c.verification.url = Some(link.url);
    c.verification.url_expires_at = Some(link.expires_at);
    Ok(())
}

/// Applies one stored Sumsub webhook, in the inbox transaction that marks it
/// processed. The applicant names the customer (recorded at the start; else
/// `externalUserId` within the webhook's organization); an event older than
/// the newest applied to the applicant is ignored.
pub async fn process_webhook(state: &AppState, tx: &mut Tx, w: &Inbound) -> Result<(), String> {
    let payload: Value = serde_json::from_str(&w.payload).map_err(|_| "payload is not JSON")?;
    let text = |k: &str| payload.get(k).and_then(Value::as_str);
    let event_type = text("type").unwrap_or("");
    let Some(applicant_id) = text("applicantId") else {
        return Ok(());
    };
    let review = payload.get("reviewResult");
    let labels = reject_labels(review);
    let verdict = sumsub_verdict(
        event_type,
        review
            .and_then(|r| r.get("reviewAnswer"))
            .and_then(Value::as_str),
        review
            .and_then(|r| r.get("reviewRejectType"))
            .and_then(Value::as_str),
        &labels,
    );
    let Some(verdict) = verdict else {
        return Ok(());
    };
    let err = |e: ServiceError| e.to_string();
    let known = store::applicant(tx, NAME, applicant_id)
        .await
        .map_err(|e| e.to_string())?;
    let applicant = match known {
        Some(a) => a,
        None => {
            let (Some(scope), Some(customer_id)) = (&w.scope, text("externalUserId")) else {
                return Err("unknown applicant".into());
            };
            if db::get(tx, &*state.vault, scope, customer_id)
                .await
                .is_err()
            {
                return Err("unknown applicant".into());
            }
            let now = chrono::Utc::now();
            store::put_applicant(tx, scope, NAME, applicant_id, customer_id, now)
                .await
                .map_err(|e| e.to_string())?;
            store::applicant(tx, NAME, applicant_id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("applicant not recorded")?
        }
    };
    if w.scope.as_ref().is_some_and(|s| *s != applicant.scope) {
        return Err("the applicant belongs to another organization".into());
    }
    let at = payload
        .get("createdAtMs")
        .and_then(sumsub_created_at_ms)
        .unwrap_or_else(|| w.received_at.timestamp_millis());
    if !store::advance_event(tx, &applicant.scope, NAME, applicant_id, at)
        .await
        .map_err(|e| e.to_string())?
    {
        tracing::info!(provider = NAME, id = %w.id, "an older provider event was ignored");
        return Ok(());
    }
    let cx = service::context_for(state, &applicant.scope, ProviderKind::Sumsub.actor())
        .await
        .map_err(err)?;
    service::lifecycle::apply_provider_verdict(state, tx, &cx, &applicant.customer_id, verdict)
        .await
        .map_err(err)
}

/// Reconciliation (webhooks get lost): for customers waiting on Sumsub
/// longer than `KYCD_SUMSUB_RECONCILE_AFTER_SECS`, fetches the applicant's
/// review status (`GET /resources/applicants/{applicantId}/status`, Sumsub
/// reference/get-applicant-review-status: `reviewStatus`, `reviewResult`) and
/// applies a decisive one (`completed` with GREEN/RED, `onHold`) as a webhook
/// would. Returns how many customers changed.
pub async fn reconcile(state: &AppState, after: Duration) -> ServiceResult<usize> {
    let cutoff = chrono::Utc::now()
        - chrono::Duration::from_std(after).unwrap_or(chrono::Duration::hours(1));
    let waiting = {
        let mut conn = state.store.reader().await?;
        store::waiting(&mut conn, NAME, cutoff, 100).await?
    };
    let mut changed = 0;
    for a in waiting {
        let Some(cfg) = load(state, &a.scope).await? else {
            continue;
        };
        let path = format!(
            "/resources/applicants/{}/status",
            urlencode(&a.applicant_id)
        );
        let (status, body) = match call(state, &cfg, reqwest::Method::GET, &path, None).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(provider = NAME, error = %e.message, "reconciliation deferred");
                continue;
            }
        };
        if status != 200 {
            continue;
        }
        let review = body.get("reviewResult");
        let labels = reject_labels(review);
        let event_type = match body.get("reviewStatus").and_then(Value::as_str) {
            Some("completed") => "applicantReviewed",
            Some("onHold") => "applicantOnHold",
            _ => continue,
        };
        let Some(verdict) = sumsub_verdict(
            event_type,
            review
                .and_then(|r| r.get("reviewAnswer"))
                .and_then(Value::as_str),
            review
                .and_then(|r| r.get("reviewRejectType"))
                .and_then(Value::as_str),
            &labels,
        ) else {
            continue;
        };
        let cx = service::context_for(state, &a.scope, ProviderKind::Sumsub.actor()).await?;
        let mut tx = state.store.begin().await?;
        if !store::mark_reconciled(
            &mut tx,
            &a.scope,
            NAME,
            &a.applicant_id,
            cx.now.timestamp_millis(),
        )
        .await?
        {
            continue;
        }
        service::lifecycle::apply_provider_verdict(state, &mut tx, &cx, &a.customer_id, verdict)
            .await?;
        tx.commit().await.map_err(kycd_store::StoreError::from)?;
        changed += 1;
    }
    Ok(changed)
}

/// The `rejectLabels` of a `reviewResult` (a webhook's or the applicant's
/// review status), empty when there are none.
fn reject_labels(review: Option<&Value>) -> Vec<String> {
    review
        .and_then(|r| r.get("rejectLabels"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_ts_method_path_and_body() {
        // The string to sign of Sumsub's documented example.
        let path = "/resources/accessTokens?userId=cfd20712-24a2-4c7d-9ab0-146f3c142335&levelName=basic-kyc-level&ttlInSecs=600";
        let sig = sign("secret", 1607551635, "POST", path, b"");
        let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(b"secret").unwrap();
        mac.update(format!("1607551635POST{path}").as_bytes());
        assert_eq!(sig, hex::encode(mac.finalize().into_bytes()));
        assert_eq!(sig, sig.to_lowercase());
        assert_eq!(sig.len(), 64);
    }
}
