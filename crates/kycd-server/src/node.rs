//! This node's identity, and whether another node is still alive: an
//! idempotency claim held by a node that died (kill -9, power loss) is
//! retryable at once instead of after its lease.
//!
//! On SQLite there is one process per database, so a claim of any other node
//! id belongs to a dead process. On PostgreSQL each node keeps one dedicated
//! session open for its whole life; its id is that session's `(pid,
//! backend_start)`, and the node is alive exactly as long as PostgreSQL still
//! lists that session (the kernel closes the socket of a killed process, and
//! PostgreSQL ends the session). A node whose anchor session dropped takes a
//! new id: its running claims may then be taken over, which is safe because
//! only the holder of a claim's token can complete it.

use kycd_store::{Store, idempotency};
use sqlx::Connection;
use std::sync::{Arc, RwLock};
use std::time::Duration;

#[derive(Clone)]
pub struct Node {
    id: Arc<RwLock<String>>,
}

impl Node {
    /// A node id for this process; on PostgreSQL, opens the anchor session
    /// (kept by a background task that re-opens it when it drops).
    pub async fn start(store: &Store, database_url: &str) -> anyhow::Result<Node> {
        if store.dialect != kycd_store::Dialect::Postgres {
            return Ok(Node {
                id: Arc::new(RwLock::new(format!("proc:{}", ulid::Ulid::new()))),
            });
        }
        let (conn, id) = anchor(database_url).await?;
        let node = Node {
            id: Arc::new(RwLock::new(id)),
        };
        let keeper = node.clone();
        let url = database_url.to_string();
        tokio::spawn(async move { keeper.keep_anchor(conn, url).await });
        Ok(node)
    }

    pub fn id(&self) -> String {
        self.id.read().expect("node id").clone()
    }

    /// Whether the node `owner` (an id from [`Node::id`]) may still be running
    /// a request. Unknown forms count as alive: their claims wait for the lease.
    pub async fn is_alive(&self, store: &Store, owner: &str) -> bool {
        if owner == self.id() {
            return true;
        }
        if let Some(rest) = owner.strip_prefix("pg:") {
            let mut parts = rest.split(':').map(str::parse::<i64>);
            let (Some(Ok(pid)), Some(Ok(started))) = (parts.next(), parts.next()) else {
                return true;
            };
            return match store.reader().await {
                Ok(mut conn) => idempotency::postgres_session_alive(&mut conn, pid, started)
                    .await
                    .unwrap_or(true),
                Err(_) => true,
            };
        }
        // Another process on this SQLite file: there is none, so it is gone.
        !owner.starts_with("proc:")
    }

    async fn keep_anchor(self, mut conn: sqlx::AnyConnection, url: String) {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            if conn.ping().await.is_ok() {
                continue;
            }
            tracing::warn!("the node's PostgreSQL anchor session dropped: reconnecting");
            loop {
                match anchor(&url).await {
                    Ok((c, id)) => {
                        conn = c;
                        *self.id.write().expect("node id") = id;
                        break;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                }
            }
        }
    }
}

async fn anchor(url: &str) -> anyhow::Result<(sqlx::AnyConnection, String)> {
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    let (pid, started) = idempotency::postgres_session(&mut conn).await?;
    Ok((conn, format!("pg:{pid}:{started}")))
}
