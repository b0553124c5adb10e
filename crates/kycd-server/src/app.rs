//! `Application::build(config)`: shared by `kycd serve` and the tests (which
//! bind port 0 with a fresh database). Also the first-start bootstrap and
//! organization creation.

use crate::config::Config;
use crate::state::{AppState, Inner};
use crate::vault::Vault;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::IntoResponse;
use axum::routing::get;
use kycd_store::{Scope, Store, ids, orgs};
use secrecy::ExposeSecret;
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
/// `Debug` shows the keys' prefixes only.
#[derive(Clone, serde::Serialize)]
pub struct Bootstrap {
    pub id: String,
    pub name: String,
    pub sandbox_api_key: String,
    pub live_api_key: String,
}

impl std::fmt::Debug for Bootstrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |k: &str| format!("{}…<redacted>", k.get(..12).unwrap_or(""));
        f.debug_struct("Bootstrap")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("sandbox_api_key", &shown(&self.sandbox_api_key))
            .field("live_api_key", &shown(&self.live_api_key))
            .finish()
    }
}

/// Loads the master key from config or the key file, and proves it against
/// the database: a stored wrapped key must unwrap under it (or under
/// `KYCD_MASTER_KEY_PREVIOUS`). A key file is generated only while the
/// database holds no wrapped key, so a wrong `--data-dir`, an unmounted
/// volume or a lost file stops the server instead of splitting the data
/// between two master keys.
pub async fn master_key(config: &Config, store: &Store) -> anyhow::Result<Vault> {
    let stored = {
        let mut conn = store.reader().await?;
        kycd_store::customers::any_wrapped_key(&mut conn).await?
    };
    let path = config.master_key_path();
    let source = if config.master_key.is_some() {
        "KYCD_MASTER_KEY (--master-key)".to_string()
    } else {
        format!("the key file {}", path.display())
    };
    let master = if let Some(k) = &config.master_key {
        kycd_vault::MasterKey::from_base64(k.expose_secret())
            .map_err(|e| anyhow::anyhow!("KYCD_MASTER_KEY (--master-key): {e}"))?
    } else {
        let key = match kycd_vault::load_key_file(&path)? {
            Some(key) => key,
            None => {
                if let Some((_, _, _, wrapped)) = &stored {
                    let by = wrapped
                        .parse::<kycd_vault::WrappedKey>()
                        .map(|w| w.master_key_id)
                        .unwrap_or_else(|_| "an unknown key".into());
                    anyhow::bail!(
                        "the master key file {} does not exist, but this database holds keys wrapped by master key {by}: \
                         refusing to start and refusing to generate a new key (it would split the data between two master keys). \
                         Check --data-dir / KYCD_DATA_DIR and that the volume is mounted, restore the key file from backup, \
                         or point KYCD_MASTER_KEY_FILE (--master-key-file) or KYCD_MASTER_KEY at the key",
                        path.display()
                    );
                }
                let (key, created) = kycd_vault::load_or_create_key_file(&path)?;
                if created {
                    tracing::warn!(
                        path = %path.display(),
                        "generated a new master key: BACK THIS FILE UP (without it the encrypted customer data cannot be read), or set KYCD_MASTER_KEY"
                    );
                }
                key
            }
        };
        if let Some(mode) = kycd_vault::key_file_too_open(&path) {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:o}"),
                "the master key file is readable by other users: restrict it with `chmod 600`"
            );
        }
        key
    };
    let vault = Vault::new(master).with_previous(crate::vault::previous_key(config)?);
    if let Some(stored) = &stored {
        vault.prove(stored).map_err(|why| {
            anyhow::anyhow!(
                "wrong master key from {source}: {why}. Refusing to start. Use the key this database was created with \
                 (during a rotation, set KYCD_MASTER_KEY_PREVIOUS to the old key)"
            )
        })?;
    }
    Ok(vault)
}

/// The shared state over an open store and vault, and the start-up work
/// (sealing documents stored in clear, linking business owners, loading the
/// screening lists).
async fn assemble(
    config: Config,
    store: Store,
    vault: Vault,
    public_url: String,
) -> anyhow::Result<AppState> {
    let webhook_sender =
        crate::jobs::dispatcher::sender::Sender::new(config.webhook_allow_private)?;
    let node = crate::node::Node::start(&store, &config.database_url()).await?;
    let state = AppState {
        inner: Arc::new(Inner {
            store,
            vault: Arc::new(vault),
            webhook_sender,
            metrics: Default::default(),
            screener: RwLock::new(None),
            screening: Default::default(),
            outbox_notify: Default::default(),
            public_url,
            settings_cache: Default::default(),
            node,
            rate_limits: Default::default(),
            group_commit: config.group_commit(),
            blobs: crate::blobs::Blobs::from_config(&config)?,
            config,
        }),
    };
    seal_plain_documents(&state).await?;
    link_business_owners(&state).await?;
    if !state.config.screening_sources().is_empty() {
        crate::screening::parse_sources(&state.config.screening_sources())?;
        crate::jobs::screening::refresh(&state).await?;
    }
    Ok(state)
}

/// Opens the database of `config` and runs the migrations (refusing a
/// database migrated by a newer kycd); with `skip_migrations`, refuses to
/// open a database with pending migrations instead of applying them.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    if config.is_sqlite() {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let store = Store::connect_with(&config.database_url(), &config.store_options()).await?;
    if config.skip_migrations {
        let status = store.schema_status().await?;
        if let Some(refusal) = status.refusal() {
            return Err(refusal.into());
        }
        if !status.pending.is_empty() {
            let pending: Vec<String> = status
                .pending
                .iter()
                .map(|m| format!("{} ({})", m.version, m.description))
                .collect();
            anyhow::bail!(
                "{} migration(s) pending: {}; KYCD_SKIP_MIGRATIONS (--skip-migrations) is set, so they are not \
                 applied at start. Refusing to start; nothing was changed. Apply them with `kycd migrate`",
                pending.len(),
                pending.join(", ")
            );
        }
    } else {
        store.migrate().await?;
    }
    Ok(store)
}

/// A new API key, as `kycd key create` prints it (the key is shown once).
#[derive(Clone, serde::Serialize)]
pub struct NewApiKey {
    pub id: String,
    pub organization_id: String,
    pub environment: String,
    pub api_key: String,
    pub prefix: String,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("id", &self.id)
            .field("organization_id", &self.organization_id)
            .field("environment", &self.environment)
            .field("api_key", &"<redacted>")
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// Stores a new key of `scope` (hashed; the prefix is its first 12 characters).
async fn insert_api_key(
    conn: &mut kycd_store::Conn,
    scope: &Scope,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<NewApiKey> {
    let key = crate::auth::generate_key(&scope.environment);
    let id = ids::new("key");
    let prefix = key[..12].to_string();
    orgs::insert_key(conn, &id, scope, &crate::auth::hash_key(&key), &prefix, now).await?;
    Ok(NewApiKey {
        id,
        organization_id: scope.organization_id.clone(),
        environment: scope.environment.clone(),
        api_key: key,
        prefix,
    })
}

/// Creates one more API key for an existing organization and environment
/// (`live` or `sandbox`). Existing keys keep working: during a rotation both
/// live side by side until the old one is revoked.
pub async fn create_api_key(
    store: &Store,
    organization_id: &str,
    environment: &str,
) -> anyhow::Result<NewApiKey> {
    if !matches!(environment, "live" | "sandbox") {
        anyhow::bail!("--environment must be live or sandbox");
    }
    let mut tx = store.begin().await?;
    if orgs::get_org(&mut tx, organization_id).await?.is_none() {
        anyhow::bail!("no organization {organization_id}");
    }
    let key = insert_api_key(
        &mut tx,
        &Scope::new(organization_id, environment),
        chrono::Utc::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(key)
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
    let sandbox = insert_api_key(&mut tx, &Scope::new(&org.id, "sandbox"), now).await?;
    let live = insert_api_key(&mut tx, &Scope::new(&org.id, "live"), now).await?;
    tx.commit().await?;
    Ok(Bootstrap {
        id: org.id,
        name: org.name,
        sandbox_api_key: sandbox.api_key,
        live_api_key: live.api_key,
    })
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        config.validate()?;
        let store = open_store(&config).await?;
        let vault = master_key(&config, &store).await?;
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
        let state = assemble(config, store, vault, public_url).await?;
        Ok(Application {
            state,
            listener,
            addr,
            bootstrap,
        })
    }

    /// The state a command runs the services on without serving
    /// (`kycd import`): the same database, master key and start-up work as
    /// `serve`, no listener, no organization created, no workers.
    pub async fn command_state(config: Config) -> anyhow::Result<AppState> {
        config.validate()?;
        let store = open_store(&config).await?;
        let vault = master_key(&config, &store).await?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.listen));
        assemble(config, store, vault, public_url).await
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
            .merge(crate::hosted::router(state.clone()))
            .merge(crate::admin::router(state.clone()))
            .merge(
                crate::api::inbound::router().route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    crate::ratelimit::per_address,
                )),
            )
            .route("/openapi.json", get(crate::openapi::openapi_json))
            .merge(crate::openapi::docs::router())
            .fallback(crate::http::not_found)
            .method_not_allowed_fallback(crate::http::method_not_allowed)
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
        let workers = self
            .state
            .config
            .workers
            .then(|| crate::jobs::spawn(self.state.clone()));
        let stop_workers = workers.as_ref().map(crate::jobs::Workers::stopper);
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
        // Shutdown: the listener closes and the workers are told at once;
        // requests in flight finish, then the workers' passes and attempts
        // under way are awaited and recorded.
        let served = crate::serve::serve(self.listener, app, limits, async move {
            shutdown.await;
            tracing::info!(
                "shutting down: no new connections; finishing requests and background work"
            );
            if let Some(stop) = stop_workers {
                let _ = stop.send(true);
            }
        })
        .await;
        if let Some(workers) = workers {
            workers.shutdown().await;
        }
        served?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Seals the customer documents that an older version stored in clear: once
/// per database (recorded when done), not a scan at every start.
async fn seal_plain_documents(state: &AppState) -> anyhow::Result<()> {
    use kycd_store::customers::{SEAL_PLAIN_DOCUMENTS, maintenance_done, mark_maintenance_done};
    if maintenance_done(&mut *state.store.reader().await?, SEAL_PLAIN_DOCUMENTS).await? {
        return Ok(());
    }
    let mut total = 0;
    loop {
        let mut conn = state.store.writer().await?;
        let n = kycd_store::customers::seal_plain_documents(&mut conn, &*state.vault, 500).await?;
        total += n;
        if n == 0 {
            break;
        }
    }
    mark_maintenance_done(
        &mut *state.store.writer().await?,
        SEAL_PLAIN_DOCUMENTS,
        chrono::Utc::now(),
    )
    .await?;
    if total > 0 {
        tracing::info!(
            customers = total,
            "sealed customer documents stored in clear"
        );
    }
    Ok(())
}
/// Writes the owner links of businesses stored before they existed (so an
/// owner's change finds them): once per database, recorded when done.
async fn link_business_owners(state: &AppState) -> anyhow::Result<()> {
    use kycd_store::customers::{LINK_BUSINESS_OWNERS, maintenance_done, mark_maintenance_done};
    if maintenance_done(&mut *state.store.reader().await?, LINK_BUSINESS_OWNERS).await? {
        return Ok(());
    }
    let mut after = String::new();
    loop {
        let mut tx = state.store.begin().await?;
        let last = kycd_store::customers::link_business_owners(&mut tx, &*state.vault, &after, 500)
            .await?;
        tx.commit().await?;
        match last {
            Some(id) => after = id,
            None => break,
        }
    }
    mark_maintenance_done(
        &mut *state.store.writer().await?,
        LINK_BUSINESS_OWNERS,
        chrono::Utc::now(),
    )
    .await?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_of_new_keys_shows_no_key() {
        let live = "sk_live_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd";
        let sandbox = "sk_test_ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210zyxw";
        let bootstrap = Bootstrap {
            id: "org_1".into(),
            name: "default".into(),
            sandbox_api_key: sandbox.into(),
            live_api_key: live.into(),
        };
        let new = NewApiKey {
            id: "key_1".into(),
            organization_id: "org_1".into(),
            environment: "live".into(),
            api_key: live.into(),
            prefix: live[..12].into(),
        };
        let shown = format!("{bootstrap:?} {bootstrap:#?} {new:?} {new:#?}");
        for secret in [live, sandbox, &live[12..], &sandbox[12..]] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("sk_live_AbCd") && shown.contains("org_1"),
            "{shown}"
        );
    }
}
