//! HTTP plumbing shared by every router: request ids, error rendering, the JSON
//! body and query extractors that turn malformed input into stable 4xx codes,
//! and list pagination.

use crate::error::{ApiError, ApiResult};
use crate::service::Refusal;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderValue, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kycd_core::ids::PrefixedId;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The request id of the current request (`req_…`).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Assigns a request id, and renders `ApiError` bodies with it. Every response
/// carries `X-Request-Id`; every log line written while the request runs
/// carries `request_id` (its span).
pub async fn request_id_and_errors(mut req: Request, next: Next) -> Response {
    use tracing::Instrument;
    let id = kycd_store::ids::new("req");
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id);
    let mut res = next.run(req).instrument(span).await;
    if let Some(err) = res.extensions_mut().remove::<ApiError>() {
        log_failure(&id, &err);
        let body = err.body(&id);
        let mut rendered = (err.status, axum::Json(body)).into_response();
        // Headers other layers set on the error (rate-limit fields) are kept.
        for (name, value) in res.headers() {
            if name != axum::http::header::CONTENT_TYPE
                && name != axum::http::header::CONTENT_LENGTH
            {
                rendered.headers_mut().append(name.clone(), value.clone());
            }
        }
        if let Some(seconds) = err.retry_after {
            rendered.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from(seconds.get()),
            );
        }
        res = rendered;
    } else if res.status().is_server_error() && res.headers().get("content-type").is_none() {
        res = ApiError::internal().body(&id).to_string().into_response();
        *res.status_mut() = axum::http::StatusCode::INTERNAL_SERVER_ERROR;
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

/// Logs a failure that is not the caller's, with the request id and where it
/// arose (the body only shows the request id).
fn log_failure(request_id: &str, err: &ApiError) {
    let Some(origin) = &err.origin else { return };
    if !err.status.is_server_error() {
        return;
    }
    // The same fields at two levels: an outage is a warning, anything else an error.
    macro_rules! log_failure {
        ($level:ident, $message:literal) => {
            tracing::$level!(
                request_id,
                code = err.code,
                layer = origin.layer,
                location = %origin.location,
                error = %origin.detail,
                $message
            )
        };
    }
    if err.status == axum::http::StatusCode::SERVICE_UNAVAILABLE {
        log_failure!(warn, "request failed: unavailable");
    } else {
        log_failure!(error, "request failed");
    }
}

/// A path naming one resource by its prefixed id: a malformed id is answered
/// `404 no such {resource}`, as a missing one is.
pub struct IdPath<T>(pub T);

impl<S: Send + Sync, T: PrefixedId + Send> FromRequestParts<S> for IdPath<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        let missing = || ApiError::not_found(T::RESOURCE);
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| missing())?;
        T::parse(&raw).map(IdPath).ok_or_else(missing)
    }
}

/// A path naming a resource under another (`/customers/{id}/documents/{doc_id}`);
/// the ids are checked in path order.
pub struct IdsPath<A, B>(pub A, pub B);

impl<S: Send + Sync, A: PrefixedId + Send, B: PrefixedId + Send> FromRequestParts<S>
    for IdsPath<A, B>
{
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        let axum::extract::Path((a, b)) =
            axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::not_found(A::RESOURCE))?;
        let a = A::parse(&a).ok_or_else(|| ApiError::not_found(A::RESOURCE))?;
        let b = B::parse(&b).ok_or_else(|| ApiError::not_found(B::RESOURCE))?;
        Ok(IdsPath(a, b))
    }
}

/// Unknown paths.
/// A path that exists, called with a method it does not take.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request_error",
        "method_not_allowed",
        "this path does not take this method",
    )
}

pub async fn not_found() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "invalid_request_error",
        "resource_not_found",
        "no such path",
    )
}

/// Parses a JSON document into `T`, naming the field that failed.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    check_body(bytes)?;
    deserialize(&crate::json_shape::normalize(bytes)?)
}

/// Like [`parse_json`] but without [`crate::json_shape::normalize`]: for an
/// envelope whose items are parsed (and normalized) one by one, as each would
/// be alone (`POST /v1/customers/batch`).
pub fn parse_json_envelope<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    check_body(bytes)?;
    deserialize(bytes)
}

/// Not empty, and no key twice in one object.
fn check_body(bytes: &[u8]) -> Result<(), Refusal> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Refusal::invalid_request(
            "the request body must be a JSON object",
        ));
    }
    if let Some(key) = crate::json_keys::first_duplicate_key(bytes) {
        return Err(Refusal::invalid_field(
            key,
            "duplicate key in a JSON object",
        ));
    }
    Ok(())
}

fn deserialize<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let msg = redact_value(&inner.to_string());
            if inner.is_syntax() || inner.is_eof() {
                return Err(Refusal::invalid_request(format!("malformed JSON: {msg}")));
            }
            let param = if path == "." || path.is_empty() {
                None
            } else {
                Some(path)
            };
            let mut err = Refusal::invalid_field(param.clone().unwrap_or_default(), msg);
            err.param = param;
            if err.param.is_none() {
                err.code = "invalid_request";
            }
            Err(err)
        }
    }
}

/// Serde names the offending value (``invalid type: integer `52998224725`, expected
/// a string``), which may be personal data sent in the wrong place: the quoted parts
/// before ", expected" are dropped (the kind of value and what was expected stay).
fn redact_value(msg: &str) -> String {
    let (head, tail) = match msg.find(", expected") {
        Some(i) => msg.split_at(i),
        None => return msg.to_string(),
    };
    let mut out = String::with_capacity(msg.len());
    let mut quote = None;
    for ch in head.chars() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == '`' || ch == '"' => quote = Some(ch),
            None => out.push(ch),
        }
    }
    format!("{}{tail}", out.trim_end())
}

async fn read_body(req: Request) -> ApiResult<Bytes> {
    Bytes::from_request(req, &()).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large("the request body is too large")
        } else {
            ApiError::invalid_request("the request body could not be read")
        }
    })
}

/// The raw request body, with the API's errors (`413 payload_too_large`).
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;
    async fn from_request(req: Request, _: &S) -> ApiResult<Self> {
        read_body(req).await.map(RawBody)
    }
}

/// A required JSON body.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, _: &S) -> ApiResult<Self> {
        let bytes = read_body(req).await?;
        Ok(parse_json(&bytes).map(ApiJson)?)
    }
}

/// An optional JSON body: empty means `T::default()`.
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, _: &S) -> ApiResult<Self> {
        let bytes = read_body(req).await?;
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(OptionalJson(T::default()));
        }
        Ok(parse_json(&bytes).map(OptionalJson)?)
    }
}

/// Query parameters with errors in the API format.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| ApiError::invalid_field(e.path().to_string(), e.into_inner().to_string()))
    }
}

/// `?limit=&starting_after=`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Page {
    pub limit: Option<String>,
    pub starting_after: Option<String>,
}

impl Page {
    pub fn limit(&self) -> ApiResult<i64> {
        match &self.limit {
            None => Ok(20),
            Some(s) => match s.parse::<i64>() {
                Ok(n) if (1..=100).contains(&n) => Ok(n),
                _ => Err(ApiError::invalid_field(
                    "limit",
                    "must be an integer from 1 to 100",
                )),
            },
        }
    }
}

/// `{"object": "list", "data": [...], "has_more": bool}`.
#[derive(Serialize)]
pub struct List<T: Serialize> {
    pub object: &'static str,
    pub data: Vec<T>,
    pub has_more: bool,
}

impl<T: Serialize> List<T> {
    pub fn new(data: Vec<T>, has_more: bool) -> Self {
        List {
            object: "list",
            data,
            has_more,
        }
    }
}

/// A `201 Created` JSON response.
pub fn created<T: Serialize>(v: T) -> Response {
    (axum::http::StatusCode::CREATED, axum::Json(v)).into_response()
}

/// Buffers a response body (for idempotency replays).
pub async fn buffer(res: Response) -> (axum::http::response::Parts, Bytes) {
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    (parts, bytes)
}

pub fn json_response(status: u16, body: Bytes) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() =
        axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::OK);
    res.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    res
}

#[cfg(test)]
mod log_tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logged(err: &ApiError) -> String {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || log_failure("req_test123", err));
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn server_failures_are_logged_with_request_id_and_location() {
        let err: ApiError =
            crate::service::ServiceError::from(kycd_store::StoreError::Corrupt("row 7".into()))
                .into();
        let line = logged(&err);
        assert!(line.contains("req_test123"), "{line}");
        assert!(line.contains("http.rs:"), "the location: {line}");
        assert!(
            line.contains("layer=\"store\"") || line.contains("layer=store"),
            "{line}"
        );
        assert!(line.contains("row 7"), "{line}");
        // The caller's own mistakes are answered, not logged.
        assert_eq!(logged(&ApiError::not_found("customer")), "");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn lines_logged_inside_a_request_carry_its_id() {
        use tower::ServiceExt;
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = axum::Router::new()
            .route(
                "/",
                axum::routing::get(|| async {
                    tracing::warn!("inside the handler");
                    "ok"
                }),
            )
            .layer(axum::middleware::from_fn(request_id_and_errors));
        let res = app
            .oneshot(Request::builder().uri("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
        let logs = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let line = logs
            .lines()
            .find(|l| l.contains("inside the handler"))
            .expect("the handler's line");
        assert!(line.contains(&id), "{line}");
    }
}
