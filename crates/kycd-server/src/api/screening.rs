//! `/v1/screening`: ad-hoc searches against the loaded sanctions/PEP lists,
//! and the list versions.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::{ApiJson, List};
use crate::service;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use kycd_screening::{EntityKind, Query};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/screening/search", post(search))
        .route("/v1/screening/compare", post(compare))
        .route("/v1/screening/lists", get(lists))
}

/// Names longer than this are refused (no real name is; it bounds the work).
const MAX_NAME_CHARS: usize = 300;

/// The body of `POST /v1/screening/search`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ScreeningSearchRequest)]
pub struct SearchBody {
    /// 1 to 300 characters once trimmed.
    #[schema(schema_with = crate::openapi::enums::screening_name)]
    name: String,
    /// Whether the searched name is a person's or an organization's.
    #[serde(rename = "type")]
    #[schema(schema_with = crate::openapi::enums::screening_entity_type)]
    kind: Option<String>,
    /// `YYYY-MM-DD` or `YYYY`: evidence that raises or lowers the score.
    #[schema(schema_with = crate::openapi::enums::screening_date)]
    date_of_birth: Option<String>,
    /// ISO 3166-1 alpha-2: evidence that raises or lowers the score.
    #[schema(value_type = Option<kycd_core::schema::Country>)]
    country: Option<String>,
    /// Minimum score of a match (default: the organization's screening threshold).
    #[schema(minimum = 0.0, maximum = 1.0)]
    threshold: Option<f64>,
    /// At most this many matches (default 10).
    #[schema(minimum = 1, maximum = 100)]
    limit: Option<usize>,
}

/// The body of `POST /v1/screening/compare`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ScreeningCompareRequest)]
pub struct CompareBody {
    /// The first name, 1 to 300 characters once trimmed.
    #[schema(schema_with = crate::openapi::enums::screening_name)]
    a: String,
    /// The second name, 1 to 300 characters once trimmed.
    #[schema(schema_with = crate::openapi::enums::screening_name)]
    b: String,
    /// Whether both names are persons' or organizations' (they are scored by different rules).
    #[serde(rename = "type")]
    #[schema(schema_with = crate::openapi::enums::screening_entity_type)]
    kind: Option<String>,
}

fn checked_name<'a>(param: &str, name: &'a str) -> Result<&'a str, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid_field(param, "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid_field(
            param,
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name)
}

fn entity_kind(kind: Option<&str>) -> Result<Option<EntityKind>, ApiError> {
    match kind {
        None => Ok(None),
        Some("person") => Ok(Some(EntityKind::Person)),
        Some("organization") => Ok(Some(EntityKind::Organization)),
        Some(_) => Err(ApiError::invalid_field(
            "type",
            "must be person or organization",
        )),
    }
}

/// Why two names match or not: the same scoring and explanation as a search, on the name
/// only (token weights from the loaded lists when there are some).
async fn compare(
    State(s): State<AppState>,
    _caller: Caller,
    ApiJson(b): ApiJson<CompareBody>,
) -> ApiResult<Json<Value>> {
    let a = checked_name("a", &b.a)?.to_string();
    let bn = checked_name("b", &b.b)?.to_string();
    let kind = entity_kind(b.kind.as_deref())?;
    let screener = s.screener();
    let (score, explanation) = tokio::task::spawn_blocking(move || match screener {
        Some(sc) => sc.compare(&a, &bn, kind),
        None => kycd_screening::compare_names(&a, &bn, kind),
    })
    .await
    .map_err(|_| ApiError::internal())?;
    Ok(Json(json!({
        "object": "screening_comparison",
        "score": (score * 1000.0).round() / 1000.0,
        "explanation": explanation,
    })))
}

async fn search(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<SearchBody>,
) -> ApiResult<Json<Value>> {
    let name = b.name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid_field("name", "must not be empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::invalid_field(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    let kind = match b.kind.as_deref() {
        None => None,
        Some("person") => Some(EntityKind::Person),
        Some("organization") => Some(EntityKind::Organization),
        Some(_) => {
            return Err(ApiError::invalid_field(
                "type",
                "must be person or organization",
            ));
        }
    };
    if let Some(d) = &b.date_of_birth {
        let ok = kycd_core::validate::date(d).is_ok()
            || (d.len() == 4 && d.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            return Err(ApiError::invalid_field(
                "date_of_birth",
                "must be YYYY-MM-DD or YYYY",
            ));
        }
    }
    let country = match &b.country {
        None => None,
        Some(c) => Some(
            kycd_core::validate::country(c)
                .map_err(|e| ApiError::invalid_field("country", e.message))?,
        ),
    };
    let cx = service::context(&s, &caller).await?;
    let threshold = b.threshold.unwrap_or(cx.settings.screening_threshold);
    if !(0.0..=1.0).contains(&threshold) {
        return Err(ApiError::invalid_field(
            "threshold",
            "must be between 0 and 1",
        ));
    }
    let limit = b.limit.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_field("limit", "must be from 1 to 100"));
    }
    let Some(screener) = s.screener() else {
        return Ok(Json(
            json!({"object": "screening_result", "matches": [], "lists_loaded": 0}),
        ));
    };
    let q = Query {
        name: name.to_string(),
        kind,
        date_of_birth: b.date_of_birth,
        country,
        threshold,
        limit,
    };
    let matches = tokio::task::spawn_blocking(move || screener.explain(&q))
        .await
        .map_err(|_| ApiError::internal())?;
    let matches: Vec<Value> = matches
        .into_iter()
        .map(|x| {
            let m = x.matched;
            json!({
                "explanation": x.explanation,
                "list": m.list, "entry_id": m.entry_id, "name": m.name, "matched_name": m.matched_name,
                "score": (m.score * 1000.0).round() / 1000.0, "programs": m.programs, "type": m.kind, "pep": m.pep,
            })
        })
        .collect();
    Ok(Json(
        json!({"object": "screening_result", "matches": matches, "threshold": threshold}),
    ))
}

async fn lists(State(s): State<AppState>, _ctx: Caller) -> ApiResult<Json<List<Value>>> {
    let loaded = s.screening.loaded.lock().await;
    let data = loaded
        .iter()
        .map(|l| {
            json!({
                "object": "screening_list",
                "name": l.source.name,
                "format": l.source.format.as_str(),
                "entries": l.list.entries.len(),
                "loaded_at": kycd_core::time::format(&l.loaded_at),
                "checksum": l.list.checksum,
            })
        })
        .collect();
    Ok(Json(List::new(data, false)))
}
