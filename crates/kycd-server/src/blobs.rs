//! Document blob storage through the `object_store` crate: local files under
//! `<data_dir>/blobs` by default, S3-compatible object storage when
//! `KYCD_BLOB_URL=s3://bucket[/prefix]` is set (cargo feature `s3`, on by
//! default). Blobs hold ciphertext only (sealed with the customer's data key
//! by `service::documents`); keys are `<org>/<env>/<customer>/<doc>` and carry
//! no personal data. Errors are logged without content and surface as 500.

use crate::config::Config;

use crate::service::ServiceResult;
use axum::body::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};
use std::sync::Arc;

/// The environment variable selecting the blob store (`s3://…` or `file:///…`).
pub const BLOB_URL_ENV: &str = "KYCD_BLOB_URL";

#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    /// Where the blobs live, for logs and docs (never contains credentials).
    pub location: String,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blobs")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

#[track_caller]
fn failed(what: &str, e: object_store::Error) -> crate::service::ServiceError {
    crate::service::ServiceError::blobs(what, e)
}

impl Blobs {
    /// From `KYCD_BLOB_URL` when set, else local files under `<data_dir>/blobs`.
    pub fn from_config(config: &Config) -> anyhow::Result<Blobs> {
        match config.blob_url() {
            Some(url) => Self::open(url, &[]),
            None => Self::local(&config.data_dir.join("blobs")),
        }
    }

    /// Local files under `dir` (created when missing).
    pub fn local(dir: &std::path::Path) -> anyhow::Result<Blobs> {
        std::fs::create_dir_all(dir)?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)?
            .with_automatic_cleanup(true);
        Ok(Blobs {
            store: Arc::new(fs),
            prefix: Path::default(),
            location: dir.display().to_string(),
        })
    }

    /// `file:///dir` or `s3://bucket[/prefix]`; S3 settings come from the
    /// usual `AWS_*` variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_REGION`, `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`…), then from `options`
    /// (`aws_endpoint`, … as `object_store` names them).
    pub fn open(url: &str, options: &[(&str, &str)]) -> anyhow::Result<Blobs> {
        let parsed = url::Url::parse(url).map_err(|_| {
            anyhow::anyhow!(
                "{BLOB_URL_ENV} is not a URL (expected s3://bucket/prefix or file:///dir)"
            )
        })?;
        match parsed.scheme() {
            "file" => {
                let dir = parsed
                    .to_file_path()
                    .map_err(|_| anyhow::anyhow!("{BLOB_URL_ENV}: bad file URL"))?;
                Self::local(&dir)
            }
            "s3" | "s3a" => Self::s3(&parsed, options),
            other => {
                anyhow::bail!("{BLOB_URL_ENV}: unsupported scheme {other}: use s3:// or file://")
            }
        }
    }

    #[cfg(feature = "s3")]
    fn s3(url: &url::Url, options: &[(&str, &str)]) -> anyhow::Result<Blobs> {
        use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
        let bucket = url
            .host_str()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| anyhow::anyhow!("{BLOB_URL_ENV}: s3://bucket/prefix needs a bucket"))?;
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
        for (k, v) in options {
            let key: AmazonS3ConfigKey = k
                .parse()
                .map_err(|_| anyhow::anyhow!("unknown S3 option {k}"))?;
            b = b.with_config(key, *v);
        }
        let store = b.build()?;
        let prefix = Path::from(url.path().trim_matches('/'));
        Ok(Blobs {
            store: Arc::new(store),
            location: format!("s3://{bucket}/{prefix}"),
            prefix,
        })
    }

    #[cfg(not(feature = "s3"))]
    fn s3(_: &url::Url, _: &[(&str, &str)]) -> anyhow::Result<Blobs> {
        anyhow::bail!("{BLOB_URL_ENV}=s3://… needs kycd built with the `s3` feature")
    }

    fn path(&self, key: &str) -> Path {
        let mut parts: Vec<object_store::path::PathPart<'_>> = self.prefix.parts().collect();
        parts.extend(key.split('/').filter(|s| !s.is_empty()).map(Into::into));
        Path::from_iter(parts)
    }

    /// The key of a document's blob (ids only: no personal data).
    pub fn key_for(scope: &kycd_store::Scope, customer_id: &str, doc_id: &str) -> String {
        format!(
            "{}/{}/{customer_id}/{doc_id}",
            scope.organization_id, scope.environment
        )
    }

    /// The prefix holding every blob of a customer.
    pub fn customer_prefix(scope: &kycd_store::Scope, customer_id: &str) -> String {
        format!(
            "{}/{}/{customer_id}",
            scope.organization_id, scope.environment
        )
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> ServiceResult<()> {
        self.store
            .put(&self.path(key), PutPayload::from(bytes))
            .await
            .map_err(|e| failed("put", e))?;
        Ok(())
    }

    /// The blob, or None when it does not exist.
    pub async fn get(&self, key: &str) -> ServiceResult<Option<Bytes>> {
        match self.store.get(&self.path(key)).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(|e| failed("get", e))?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(failed("get", e)),
        }
    }

    /// Deletes a blob; a missing blob is not an error.
    pub async fn delete(&self, key: &str) -> ServiceResult<()> {
        match self.store.delete(&self.path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(failed("delete", e)),
        }
    }

    /// Deletes every blob under `prefix`; returns how many were deleted.
    pub async fn delete_prefix(&self, prefix: &str) -> ServiceResult<usize> {
        let keys: Vec<Path> = self
            .store
            .list(Some(&self.path(prefix)))
            .map_ok(|m| m.location)
            .try_collect()
            .await
            .map_err(|e| failed("list", e))?;
        for k in &keys {
            match self.store.delete(k).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(failed("delete", e)),
            }
        }
        Ok(keys.len())
    }
}
