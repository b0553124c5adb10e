//! `/docs`: interactive API docs (Swagger UI) that load with no internet.
//! The Swagger UI files are compiled into the binary by `utoipa-swagger-ui`
//! with its `vendored` feature (the zip ships inside a crate: nothing is
//! downloaded at build time); the page and its start script are ours, every
//! asset is same-origin, and a Content-Security-Policy keeps the browser
//! from fetching anything elsewhere.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::{Arc, OnceLock};

/// The Swagger UI files served, and nothing else of the distribution.
pub const ASSETS: &[&str] = &[
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "favicon-32x32.png",
    "favicon-16x16.png",
];

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                   base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const INDEX: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kycd API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16">
</head>
<body>
<noscript>These docs need JavaScript. The OpenAPI document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/kycd-docs.js"></script>
</body>
</html>
"##;

/// Starts Swagger UI on our document; no validator badge (it would call an
/// outside service), "Try it out" on, the API key kept across reloads.
const START: &str = r##""use strict";
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    tryItOutEnabled: true,
    persistAuthorization: true,
    displayOperationId: true,
    displayRequestDuration: true,
    filter: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"##;

/// `/docs`, `/docs/` and the assets under `/docs/`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/docs", get(index))
        .route("/docs/", get(index))
        .route("/docs/{*file}", get(asset))
}

/// `GET /docs`.
pub async fn index() -> Response {
    page(
        StatusCode::OK,
        "text/html; charset=utf-8",
        INDEX.as_bytes().to_vec(),
        false,
    )
}

/// `GET /docs/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    if file.is_empty() || file == "index.html" {
        return index().await;
    }
    if file == "kycd-docs.js" {
        return page(
            StatusCode::OK,
            "text/javascript; charset=utf-8",
            START.as_bytes().to_vec(),
            false,
        );
    }
    if !ASSETS.contains(&file.as_str()) {
        return crate::http::not_found().await.into_response();
    }
    let found = utoipa_swagger_ui::serve(&file, swagger_config())
        .ok()
        .flatten()
        .map(|f| (f.content_type, f.bytes.into_owned()));
    match found {
        Some((content_type, bytes)) => page(StatusCode::OK, &content_type, bytes, true),
        None => crate::http::not_found().await.into_response(),
    }
}

fn swagger_config() -> Arc<utoipa_swagger_ui::Config<'static>> {
    static CONFIG: OnceLock<Arc<utoipa_swagger_ui::Config<'static>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| Arc::new(utoipa_swagger_ui::Config::new(["/openapi.json"])))
        .clone()
}

fn page(status: StatusCode, content_type: &str, body: Vec<u8>, immutable: bool) -> Response {
    let cache = if immutable {
        "public, max-age=86400"
    } else {
        "no-cache"
    };
    (
        status,
        [
            ("content-type", content_type.to_string()),
            ("cache-control", cache.to_string()),
            ("content-security-policy", CSP.to_string()),
            ("x-content-type-options", "nosniff".to_string()),
        ],
        body,
    )
        .into_response()
}
