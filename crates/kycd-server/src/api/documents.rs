//! `/v1/customers/{id}/documents`: upload (JSON with base64 or multipart),
//! list, read, and download the decrypted content. The upload body is read
//! here with its own limit (larger than the app's 1 MB default) and turned
//! into a validated `NewDocument`: known type and side, a content type that
//! matches the bytes' magic numbers, not empty, at most
//! `config.max_document_bytes` (413 above; an oversized body is drained, not
//! buffered, so the client reads a clean 413).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::http::{ApiQuery, List, created};
use crate::http::{IdPath, IdsPath};
use crate::service::documents::{Document, NewDocument};
use crate::service::{self, documents};
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::StreamExt;
use kycd_core::ids::{CustomerId, DocumentId};
use serde::Deserialize;

pub use kycd_core::documents::{CONTENT_TYPES, RawUpload, TYPES, sniff};
use kycd_core::documents::{UploadError, normalize_content_type};

/// Room for the JSON/multipart envelope around the file.
const ENVELOPE_BYTES: usize = 256 * 1024;
/// Oversized bodies up to this size are read and discarded before the 413 so
/// that the client sees the answer instead of a reset connection; larger ones
/// are refused at once from their Content-Length.
const DRAIN_CAP: usize = 128 * 1024 * 1024;

/// The largest body accepted for a document of `max` bytes (base64 grows it by 4/3).
pub fn body_limit(max: usize) -> usize {
    max.div_ceil(3) * 4 + ENVELOPE_BYTES
}

pub fn router(max_document_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/v1/customers/{id}/documents", get(list).post(upload))
        .route("/v1/customers/{id}/documents/{doc_id}", get(retrieve))
        .route(
            "/v1/customers/{id}/documents/{doc_id}/content",
            get(download),
        )
        .layer(DefaultBodyLimit::max(body_limit(max_document_bytes)))
}

/// The JSON form of a document upload, as `parse_json_upload` and `validate`
/// accept it: the base64 must decode to the declared kind of file (JPEG,
/// PNG or PDF by magic bytes), which the `oneOf` says by the base64 prefix.
pub struct DocumentUpload;

/// Canonical padded base64 after a prefix that ends on a 4-character boundary.
const B64_TAIL: &str =
    "([A-Za-z0-9+/]{4})*([A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?";

fn upload_schema(multipart: bool) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use serde_json::json;
    let schema = if multipart {
        json!({
            "type": "object",
            "description": "The multipart form of a document upload: the same fields, the file in `content` (its part's Content-Type stands in for a missing `content_type`). The bytes must be a real JPEG, PNG or PDF of the declared type.",
            "additionalProperties": false,
            "required": ["type", "content"],
            "properties": {
                "type": {"$ref": "#/components/schemas/DocumentType"},
                "side": {"$ref": "#/components/schemas/DocumentSide"},
                "content_type": {"$ref": "#/components/schemas/DocumentContentType"},
                "content": {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream", "description": "The file (JPEG, PNG or PDF)."}
            }
        })
    } else {
        json!({
            "type": "object",
            "description": "The JSON form of a document upload. `content_base64` is the file in standard padded base64 and must decode to the declared `content_type` (JPEG `/9j/…`, PNG `iVBORw0KGgo…`, PDF `JVBERi…`).",
            "additionalProperties": false,
            "required": ["type", "content_type", "content_base64"],
            "properties": {
                "type": {"$ref": "#/components/schemas/DocumentType"},
                "side": {"anyOf": [{"$ref": "#/components/schemas/DocumentSide"}, {"type": "null"}]},
                "content_type": {"$ref": "#/components/schemas/DocumentContentType"},
                "content_base64": {"type": "string", "contentEncoding": "base64", "minLength": 4}
            }
        })
    };
    serde_json::from_value(schema).expect("a valid schema")
}

/// The JSON upload's rule across fields (a `oneOf` the schema types of utoipa
/// cannot carry, added to the document as JSON): the base64 starts with the
/// magic bytes of the declared content type.
pub fn upload_content_rules() -> serde_json::Value {
    let tail = B64_TAIL;
    serde_json::json!([
        {"properties": {"content_type": {"const": "image/jpeg"}, "content_base64": {"pattern": format!("^/9j/{tail}$")}}},
        {"properties": {"content_type": {"const": "image/png"}, "content_base64": {"pattern": format!("^iVBORw0KGgo(=|[A-Za-z0-9+/]{tail})$")}}},
        {"properties": {"content_type": {"const": "application/pdf"}, "content_base64": {"pattern": format!("^JVBERi(0=|[0-3][A-Za-z0-9+/]{tail})$")}}}
    ])
}

impl utoipa::PartialSchema for DocumentUpload {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        upload_schema(false)
    }
}

impl utoipa::ToSchema for DocumentUpload {}

/// The multipart form of a document upload.
pub struct DocumentUploadForm;

impl utoipa::PartialSchema for DocumentUploadForm {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        upload_schema(true)
    }
}

impl utoipa::ToSchema for DocumentUploadForm {}

/// The 413 for a document above the limit.
pub fn too_large(max_bytes: usize) -> ApiError {
    ApiError::payload_too_large(format!(
        "documents are limited to {max_bytes} bytes ({} MB)",
        max_bytes / (1024 * 1024)
    ))
}

/// Checks an upload (`kycd_core::documents::validate`): 400 naming the
/// field, 413 above `max_bytes`.
pub fn validate(raw: RawUpload, max_bytes: usize) -> ApiResult<NewDocument> {
    kycd_core::documents::validate(raw, max_bytes).map_err(upload_error)
}

fn upload_error(e: UploadError) -> ApiError {
    match e {
        UploadError::TooLarge(max) => too_large(max),
        UploadError::Field { param, message } => ApiError::invalid_field(param, message),
        UploadError::Request(message) => ApiError::invalid_request(message),
    }
}

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Reads the body up to `limit` bytes. Above it: 413, after draining what the
/// client still sends (bounded by `DRAIN_CAP`; nothing is kept in memory).
async fn read_limited(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    max: usize,
) -> ApiResult<Bytes> {
    let expects_continue = headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if let Some(n) = declared_length(headers)
        && n > limit
        && (expects_continue || n > DRAIN_CAP)
    {
        return Err(too_large(max));
    }
    let mut stream = body.into_data_stream();
    let mut buf = Vec::with_capacity(declared_length(headers).unwrap_or(0).min(limit));
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::invalid_request("the request body could not be read"))?;
        if buf.len() + chunk.len() > limit {
            let mut seen = buf.len() + chunk.len();
            drop(buf);
            while seen <= DRAIN_CAP {
                match stream.next().await {
                    Some(Ok(c)) => seen += c.len(),
                    _ => break,
                }
            }
            return Err(too_large(max));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}

/// The JSON upload: the body parsed as the API parses JSON (duplicate keys
/// refused), then its fields read by `kycd_core::documents::from_json`.
fn parse_json_upload(bytes: &[u8], max: usize) -> ApiResult<RawUpload> {
    let body: serde_json::Map<String, serde_json::Value> = crate::http::parse_json(bytes)?;
    kycd_core::documents::from_json(body, max).map_err(upload_error)
}

fn malformed_multipart() -> ApiError {
    ApiError::invalid_request("malformed multipart/form-data body")
}

async fn parse_multipart(req: Request) -> ApiResult<RawUpload> {
    let mut mp = axum::extract::Multipart::from_request(req, &())
        .await
        .map_err(|_| malformed_multipart())?;
    let mut raw = RawUpload {
        content_param: "content",
        ..Default::default()
    };
    let mut part_type = None;
    while let Some(field) = mp.next_field().await.map_err(|_| malformed_multipart())? {
        let name = field.name().unwrap_or("").to_string();
        let slot = match name.as_str() {
            "type" => &mut raw.doc_type,
            "side" => &mut raw.side,
            "content_type" => &mut raw.content_type,
            "content" => {
                if raw.content.is_some() {
                    return Err(ApiError::invalid_request(
                        "the field content was given twice",
                    ));
                }
                part_type = field.content_type().map(normalize_content_type);
                raw.content = Some(
                    field
                        .bytes()
                        .await
                        .map_err(|_| malformed_multipart())?
                        .to_vec(),
                );
                continue;
            }
            _ => {
                return Err(ApiError::invalid_request(
                    "unknown field in the form: send type, side, content_type and content",
                ));
            }
        };
        if slot.is_some() {
            return Err(ApiError::invalid_request(format!(
                "the field {name} was given twice"
            )));
        }
        let value = field.bytes().await.map_err(|_| malformed_multipart())?;
        if value.len() > 200 {
            return Err(ApiError::invalid_field(name, "too long"));
        }
        let text = String::from_utf8(value.to_vec())
            .map_err(|_| ApiError::invalid_field(name.clone(), "must be UTF-8 text"))?;
        *slot = Some(text);
    }
    // The file part's own Content-Type stands in for a missing content_type field.
    if raw.content_type.is_none()
        && let Some(ct) = part_type.filter(|ct| CONTENT_TYPES.contains(&ct.as_str()))
    {
        raw.content_type = Some(ct);
    }
    Ok(raw)
}

async fn upload(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
    req: Request,
) -> ApiResult<Response> {
    let max = s.config.max_document_bytes;
    let (parts, body) = req.into_parts();
    let multipart = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let bytes = read_limited(&parts.headers, body, body_limit(max), max).await?;
    let raw = if multipart {
        parse_multipart(Request::from_parts(parts, Body::from(bytes))).await?
    } else {
        let raw = parse_json_upload(&bytes, max)?;
        drop(bytes);
        raw
    };
    let doc = validate(raw, max)?;
    let cx = service::context(&s, &caller).await?;
    Ok(created(documents::upload(&s, &cx, &id, doc).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<String>,
    starting_after: Option<String>,
}

async fn list(
    State(s): State<AppState>,
    caller: Caller,
    IdPath(id): IdPath<CustomerId>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<List<Document>>> {
    let page = crate::http::Page {
        limit: q.limit,
        starting_after: q.starting_after,
    };
    let limit = page.limit()?;
    if let Some(after) = &page.starting_after
        && DocumentId::parse(after).is_none()
    {
        return Err(ApiError::invalid_field(
            "starting_after",
            "must be a document id",
        ));
    }
    let cx = service::context(&s, &caller).await?;
    let (data, more) = documents::list(&s, &cx, &id, page.starting_after.as_deref(), limit).await?;
    Ok(Json(List::new(data, more)))
}

async fn retrieve(
    State(s): State<AppState>,
    caller: Caller,
    IdsPath(id, doc_id): IdsPath<CustomerId, DocumentId>,
) -> ApiResult<Json<Document>> {
    let cx = service::context(&s, &caller).await?;
    Ok(Json(documents::get(&s, &cx, &id, &doc_id).await?))
}

async fn download(
    State(s): State<AppState>,
    caller: Caller,
    IdsPath(id, doc_id): IdsPath<CustomerId, DocumentId>,
) -> ApiResult<Response> {
    let cx = service::context(&s, &caller).await?;
    let (doc, bytes) = documents::content(&s, &cx, &id, &doc_id).await?;
    let ext = match doc.content_type.as_str() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        _ => "pdf",
    };
    let mut res = Body::from(bytes).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&doc.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.{ext}\"", doc.id)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 0xFF, 0xD9];
    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];

    #[test]
    fn body_limit_fits_base64_of_the_max() {
        assert!(body_limit(10 * 1024 * 1024) > 10 * 1024 * 1024 / 3 * 4);
        assert!(body_limit(10 * 1024 * 1024) < 14 * 1024 * 1024);
    }

    #[test]
    fn json_upload_rejects_truncated_base64_and_huge_content() {
        let e = parse_json_upload(
            br#"{"type":"selfie","content_type":"image/png","content_base64":"iVBORw0KGgo"}"#,
            100,
        )
        .unwrap_err();
        assert_eq!(param(e), (400, "content_base64".into()));
        let e = parse_json_upload(
            br#"{"type":"selfie","content_type":"image/png","content_base64":"AAAAAAAAAAAAAAAA"}"#,
            5,
        )
        .unwrap_err();
        assert_eq!(e.status.as_u16(), 413);
        let ok = parse_json_upload(
            b"{\"type\":\"selfie\",\"content_base64\":\"/9j/\\n2Q==\"}",
            100,
        )
        .unwrap();
        assert_eq!(ok.content, Some(vec![0xFF, 0xD8, 0xFF, 0xD9]));
    }

    fn param(e: ApiError) -> (u16, String) {
        (e.status.as_u16(), e.param.unwrap_or_default())
    }

    /// The rest of validation is exercised over HTTP in tests/documents.rs.
    #[test]
    fn sniffs_the_three_formats_and_nothing_else() {
        assert_eq!(sniff(JPEG), Some("image/jpeg"));
        assert_eq!(sniff(PNG), Some("image/png"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(&[0xFF, 0xD8]), None);
        assert_eq!(sniff(b"%PDF"), None);
    }
}
