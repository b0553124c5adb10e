//! Per-request limits and response hygiene: the request deadline (`503`), the
//! body-read deadline for a declared body that does not arrive (`408
//! request_timeout`), the media types a body may have (`415
//! unsupported_media_type`), and `Cache-Control: no-store` on responses that
//! may carry personal data.

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

/// Answers `503 service_unavailable` (with `Retry-After`) when a request runs
/// past `Config::request_timeout`; the handler is dropped, so an open
/// transaction rolls back.
pub async fn request_deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.config.request_timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!("request exceeded the request timeout");
            let mut err = ApiError::unavailable();
            err.message = "the request took too long: try again shortly".into();
            err.into_response()
        }
    }
}

/// Set by [`TimedBody`] when the client stopped sending a declared body.
#[derive(Clone, Default)]
struct BodyTimedOut(Arc<AtomicBool>);

/// A request body whose chunks must keep arriving: a pause longer than the
/// timeout ends the body with an error (and marks the request).
struct TimedBody {
    inner: Body,
    timeout: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
    timed_out: BodyTimedOut,
}

#[derive(Debug)]
struct BodyReadTimeout;

impl std::fmt::Display for BodyReadTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyReadTimeout {}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let deadline = tokio::time::Instant::now() + this.timeout;
                this.sleep.as_mut().reset(deadline);
                Poll::Ready(frame)
            }
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.timed_out.0.store(true, Ordering::SeqCst);
                    Poll::Ready(Some(Err(axum::Error::new(BodyReadTimeout))))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Wraps the request body so that a body the client declared but stopped
/// sending ends after `Config::body_read_timeout`; whatever the handler made
/// of the failed read, the response is `408 request_timeout`.
pub async fn body_deadline(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let timeout = state.config.body_read_timeout;
    let flag = BodyTimedOut::default();
    let (parts, body) = req.into_parts();
    let body = Body::new(TimedBody {
        inner: body,
        timeout,
        sleep: Box::pin(tokio::time::sleep(timeout)),
        timed_out: flag.clone(),
    });
    let mut res = next.run(Request::from_parts(parts, body)).await;
    if flag.0.load(Ordering::SeqCst) {
        res = ApiError::request_timeout().into_response();
    }
    // A timed-out or over-limit body is never read to its end, so the server
    // drops the connection after answering; saying so stops a client from
    // reusing it for its next request (which would fail as an incomplete
    // message).
    if matches!(
        res.status(),
        StatusCode::REQUEST_TIMEOUT | StatusCode::PAYLOAD_TOO_LARGE
    ) {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

/// Routes that also take `multipart/form-data` (document upload).
const MULTIPART_ROUTES: &[&str] = &["/v1/customers/{id}/documents"];

/// Whether the request carries a body (declared length above zero, or chunked).
fn has_body(req: &Request) -> bool {
    let h = req.headers();
    if h.contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    h.get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > 0)
}

/// Whether `essence` (lower-case `type/subtype`, no parameters) is JSON.
fn is_json(essence: &str) -> bool {
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

/// `415 unsupported_media_type` for a `/v1` body that is neither JSON nor,
/// where the route takes it, `multipart/form-data`. A body without a
/// `Content-Type` is read as JSON (as it always was).
pub async fn require_json_body(req: Request, next: Next) -> Response {
    if !has_body(&req) || matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let Some(content_type) = req.headers().get(header::CONTENT_TYPE) else {
        return next.run(req).await;
    };
    let multipart_allowed = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|p| MULTIPART_ROUTES.contains(&p.as_str()));
    let essence = content_type
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if is_json(&essence) || (multipart_allowed && essence == "multipart/form-data") {
        return next.run(req).await;
    }
    let accepted = if multipart_allowed {
        "application/json or multipart/form-data"
    } else {
        "application/json"
    };
    ApiError::unsupported_media_type(accepted).into_response()
}

/// Paths whose responses may carry personal data: the API and hosted pages.
fn private_path(path: &str) -> bool {
    path.starts_with("/v1/") || path == "/v1" || path.starts_with("/hosted/")
}

/// `Cache-Control: no-store` on every `/v1` and hosted-page response (errors
/// included), so no shared or browser cache keeps personal data.
pub async fn no_store(req: Request, next: Next) -> Response {
    let private = private_path(req.uri().path());
    let mut res = next.run(req).await;
    if private {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_media_types() {
        assert!(is_json("application/json"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("application/jsonx"));
        assert!(!is_json("text/json+"));
    }

    #[test]
    fn private_paths() {
        assert!(private_path("/v1/customers"));
        assert!(private_path("/hosted/v/abc"));
        assert!(!private_path("/v1x"));
        assert!(!private_path("/healthz"));
        assert!(!private_path("/openapi.json"));
    }
}
