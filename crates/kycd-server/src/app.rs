//! `Application::build(config)`: shared by `kycd serve` and the tests (which
//! bind port 0 with a fresh database). Also the first-start bootstrap and
//! organization creation.

use crate::config::Config;
use crate::state::{AppState, Inner};
use crate::vault::Vault;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use kycd_store::{Scope, Store, ids, orgs};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use tokio::net::TcpListener;

pub struct Application {
    pub state: AppState,
    listener: TcpListener,
    pub addr: SocketAddr,
    pub bootstrap: Option<Bootstrap>,
}

/// What the first start created: the default organization and its keys.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Bootstrap {
    pub id: String,
    pub name: String,
    pub sandbox_api_key: String,
    pub live_api_key: String,
}

/// Loads the master key from config or the key file in the data dir.
pub fn master_key(config: &Config) -> anyhow::Result<kycd_vault::MasterKey> {
    if let Some(k) = &config.master_key {
        return Ok(kycd_vault::MasterKey::from_base64(k)?);
    }
    let path = config.data_dir.join("master.key");
    let (key, created) = kycd_vault::load_or_create_key_file(&path)?;
    if created {
        tracing::warn!(
            path = %path.display(),
            "generated a new master key: BACK THIS FILE UP (without it the encrypted customer data cannot be read), or set KYCD_MASTER_KEY"
        );
    }
    Ok(key)
}

/// Opens the database of `config` and runs the migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    if config.is_sqlite() {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let options = kycd_store::StoreOptions {
        acquire_timeout: config.db_acquire_timeout,
        ..Default::default()
    };
    let store = Store::connect_with(&config.database_url(), &options).await?;
    store.migrate().await?;
    Ok(store)
}

/// Creates an organization with a sandbox and a live key (printed once, stored hashed).
pub async fn create_org(store: &Store, name: &str) -> anyhow::Result<Bootstrap> {
    let now = chrono::Utc::now();
    let org = orgs::Organization {
        id: ids::new("org"),
        name: name.to_string(),
        created_at: now,
    };
    let mut tx = store.begin().await?;
    orgs::insert_org(&mut tx, &org).await?;
    let mut keys = vec![];
    for env in ["sandbox", "live"] {
        let key = crate::auth::generate_key(env);
        let scope = Scope::new(&org.id, env);
        orgs::insert_key(
            &mut tx,
            &ids::new("key"),
            &scope,
            &crate::auth::hash_key(&key),
            &key[..12],
            now,
        )
        .await?;
        keys.push(key);
    }
    tx.commit().await?;
    Ok(Bootstrap {
        id: org.id,
        name: org.name,
        sandbox_api_key: keys[0].clone(),
        live_api_key: keys[1].clone(),
    })
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let store = open_store(&config).await?;
        let master = master_key(&config)?;
        let bootstrap = {
            let mut conn = store.writer().await?;
            if orgs::count_orgs(&mut conn).await? == 0 {
                drop(conn);
                Some(create_org(&store, "default").await?)
            } else {
                None
            }
        };
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let state = AppState {
            inner: Arc::new(Inner {
                store,
                vault: Vault::new(master).with_previous(crate::vault::previous_from_env()?),
                metrics: Default::default(),
                screener: RwLock::new(None),
                screening: Default::default(),
                outbox_notify: Default::default(),
                public_url,
                auth_cache: Default::default(),
                settings_cache: Default::default(),
                rate_limits: Default::default(),
                blobs: crate::blobs::Blobs::from_config(&config)?,
                config,
            }),
        };
        if !state.config.screening_sources.is_empty() {
            crate::screening::parse_sources(&state.config.screening_sources)?;
            crate::jobs::screening::refresh(&state).await?;
        }
        Ok(Application {
            state,
            listener,
            addr,
            bootstrap,
        })
    }

    pub fn router(state: AppState) -> Router {
        let limit = state.config.max_body_bytes;
        Router::new()
            .merge(crate::api::router(state.clone()))
            .route(
                "/healthz",
                get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }),
            )
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .route(
                "/hosted/v/{token}",
                get(hosted_page).route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    crate::ratelimit::per_address,
                )),
            )
            .merge(
                crate::api::inbound::router().route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    crate::ratelimit::per_address,
                )),
            )
            .route("/openapi.json", get(crate::openapi::openapi_json))
            .merge(crate::openapi::docs::router())
            .fallback(crate::http::not_found)
            .layer(DefaultBodyLimit::max(limit))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::limits::body_deadline,
            ))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::limits::request_deadline,
            ))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::metrics::track,
            ))
            .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
                crate::error::ApiError::internal().into_response()
            }))
            .layer(axum::middleware::from_fn(crate::limits::no_store))
            .layer(axum::middleware::from_fn(
                crate::http::request_id_and_errors,
            ))
            .with_state(state)
    }

    /// Serves until `shutdown` resolves; background workers run alongside.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (tx, rx) = tokio::sync::watch::channel(false);
        if self.state.config.workers {
            crate::jobs::spawn(self.state.clone(), rx);
        }
        let app = Self::router(self.state.clone());
        let config = &self.state.config;
        let limits = crate::serve::ConnectionLimits {
            max_connections: config.max_connections,
            header_read_timeout: config.header_read_timeout,
            // A request may run quietly up to its own timeout: never cut it
            // as an inactive connection before that.
            idle_timeout: config
                .idle_timeout
                .max(config.request_timeout + std::time::Duration::from_secs(1)),
            drain_timeout: config.request_timeout + std::time::Duration::from_secs(1),
        };
        crate::serve::serve(self.listener, app, limits, async move {
            shutdown.await;
            let _ = tx.send(true);
        })
        .await?;
        Ok(())
    }
}

/// How long `/readyz` waits for the database before it says `503`.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(800);

async fn readyz(State(s): State<AppState>) -> impl IntoResponse {
    let ready = tokio::time::timeout(READY_TIMEOUT, s.store.ping())
        .await
        .unwrap_or(false);
    if ready {
        (
            axum::http::StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ready"})),
        )
            .into_response()
    } else {
        crate::error::ApiError::unavailable().into_response()
    }
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    (
        [("content-type", "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

/// The end user's page (the full hosted flow arrives with its own issue):
/// checks the token and says what is needed.
async fn hosted_page(
    State(s): State<AppState>,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> impl IntoResponse {
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    let found = match s.store.reader().await {
        Ok(mut conn) => kycd_store::customers::find_link(&mut conn, &hash, chrono::Utc::now())
            .await
            .ok()
            .flatten(),
        Err(_) => None,
    };
    match found {
        Some(_) => Html(
            "<!doctype html><html lang=en><meta charset=utf-8><title>Verify your identity</title>\
             <h1>Verify your identity</h1><p>This link is valid. The verification steps will appear here.</p></html>"
                .to_string(),
        )
        .into_response(),
        None => (
            axum::http::StatusCode::NOT_FOUND,
            Html("<!doctype html><html lang=en><meta charset=utf-8><title>Link expired</title><h1>This link has expired</h1><p>Ask for a new verification link.</p></html>".to_string()),
        )
            .into_response(),
    }
}
