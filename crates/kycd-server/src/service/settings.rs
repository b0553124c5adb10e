//! Organization settings per environment, merged over the defaults in code.

use super::Refusal;
use crate::service::{ServiceError, ServiceResult};
use crate::state::AppState;
use kycd_core::policy::Settings;
use kycd_store::{Scope, orgs};
use serde_json::Value;

/// How long a node trusts its cached copy of a scope's settings and clock.
/// Changes made through this node apply at once; other nodes see them within this.
pub const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// A per-node cache of settings and sandbox clock offsets.
#[derive(Default)]
pub struct Cache(
    std::sync::Mutex<std::collections::HashMap<Scope, (Settings, i64, std::time::Instant)>>,
);

impl Cache {
    pub fn invalidate(&self, scope: &Scope) {
        self.0.lock().expect("settings cache").remove(scope);
    }
}

/// The settings and the sandbox clock offset (seconds) of a scope.
pub async fn load(state: &AppState, scope: &Scope) -> ServiceResult<(Settings, i64)> {
    if let Some((s, o, at)) = state
        .settings_cache
        .0
        .lock()
        .expect("settings cache")
        .get(scope)
        && at.elapsed() < CACHE_TTL
    {
        return Ok((s.clone(), *o));
    }
    let loaded = load_uncached(state, scope).await?;
    state
        .settings_cache
        .0
        .lock()
        .expect("settings cache")
        .insert(
            scope.clone(),
            (loaded.0.clone(), loaded.1, std::time::Instant::now()),
        );
    Ok(loaded)
}

async fn load_uncached(state: &AppState, scope: &Scope) -> ServiceResult<(Settings, i64)> {
    let mut conn = state.store.reader().await?;
    let stored = orgs::get_settings(&mut conn, scope).await?;
    let defaults = Settings::defaults(scope.is_live());
    match stored {
        None => Ok((defaults, 0)),
        Some((body, offset)) => {
            let merged = merge_json(
                serde_json::to_value(&defaults).unwrap_or_default(),
                parse_body(&body),
            );
            let settings = serde_json::from_value(merged).unwrap_or(defaults);
            Ok((settings, offset))
        }
    }
}

fn parse_body(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or(Value::Object(Default::default()))
}

/// Deep merge: objects merge key by key, anything else replaces.
pub fn merge_json(mut base: Value, patch: Value) -> Value {
    match (&mut base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                let cur = b.remove(&k).unwrap_or(Value::Null);
                b.insert(
                    k,
                    if v.is_object() && cur.is_object() {
                        merge_json(cur, v)
                    } else {
                        v
                    },
                );
            }
            base
        }
        (_, p) => p,
    }
}

/// Fields that take `null`: no country restriction; the server-wide rate limit.
const NULLABLE: &[&str] = &["allowed_countries", "rate_limit_per_second"];

/// The longest list a setting takes: every ISO 3166-1 country fits in
/// `allowed_countries`; other lists (requirements) are short.
fn max_list_len(param: &str) -> usize {
    if param == "allowed_countries" {
        300
    } else {
        32
    }
}

/// Refuses what a merge would hide or make costly, before merging: `null`
/// where a value is required (it would replace the setting), and oversized
/// lists. `param` names the field in the request.
fn check_patch(patch: &Value, prefix: &str) -> ServiceResult<()> {
    let Value::Object(fields) = patch else {
        return Ok(());
    };
    for (key, value) in fields {
        let param = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Null if !NULLABLE.contains(&param.as_str()) => {
                return Err(ServiceError::from(Refusal::invalid_field(
                    param,
                    "must not be null: leave the field out to keep its value",
                )));
            }
            Value::Array(items) if items.len() > max_list_len(&param) => {
                let max = max_list_len(&param);
                return Err(ServiceError::from(Refusal::invalid_field(
                    param,
                    format!("at most {max} entries"),
                )));
            }
            Value::Object(_) => check_patch(value, &param)?,
            _ => {}
        }
    }
    Ok(())
}

/// PATCH /v1/settings: merges, validates and stores the overrides.
/// A branding logo checked and re-encoded: base64 of a PNG or JPEG within
/// the limits, without its metadata.
fn clean_logo(b64: &str) -> Result<String, Refusal> {
    use base64::Engine;
    let param = "branding.logo_base64";
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| Refusal::invalid_field(param, "must be base64 (RFC 4648, with padding)"))?;
    if bytes.len() > kycd_core::policy::MAX_LOGO_BYTES {
        return Err(Refusal::invalid_field(
            param,
            "the logo is limited to 32 KB",
        ));
    }
    let Some(content_type @ ("image/png" | "image/jpeg")) = crate::api::documents::sniff(&bytes)
    else {
        return Err(Refusal::invalid_field(
            param,
            "the logo must be a PNG or a JPEG",
        ));
    };
    let clean = crate::images::clean(&bytes, content_type)
        .map_err(|_| Refusal::invalid_field(param, "the logo cannot be decoded"))?;
    let (w, h) = crate::images::dimensions(&clean.bytes);
    if w > 1024 || h > 1024 {
        return Err(Refusal::invalid_field(
            param,
            "the logo is limited to 1024 pixels a side",
        ));
    }
    Ok(base64::engine::general_purpose::STANDARD.encode(clean.bytes))
}

pub async fn update(state: &AppState, scope: &Scope, patch: Value) -> ServiceResult<Settings> {
    if !patch.is_object() {
        return Err(ServiceError::from(Refusal::invalid_request(
            "the request body must be a JSON object",
        )));
    }
    check_patch(&patch, "")?;
    let (current, _) = load_uncached(state, scope).await?;
    let merged = merge_json(serde_json::to_value(&current).unwrap_or_default(), patch);
    // Errors name the field of the request (`param`), never a position in
    // the merged document the server built.
    let settings: Settings = serde_path_to_error::deserialize(merged).map_err(|e| {
        let param = e.path().to_string();
        Refusal::invalid_field(param, e.into_inner().to_string())
    })?;
    let mut settings = settings;
    settings
        .validate()
        .map_err(|(param, msg)| Refusal::invalid_field(param, msg))?;
    if settings.branding.logo_base64 != current.branding.logo_base64
        && let Some(logo) = &settings.branding.logo_base64
    {
        settings.branding.logo_base64 = Some(clean_logo(logo)?);
    }
    let mut conn = state.store.writer().await?;
    orgs::put_settings(
        &mut conn,
        scope,
        &serde_json::to_string(&settings).unwrap_or_default(),
    )
    .await?;
    state.settings_cache.invalidate(scope);
    Ok(settings)
}
