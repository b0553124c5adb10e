//! The PII vault at the edge: per-customer data keys and per-organization
//! blind-index keys, wrapped by the master key and kept in the store.
//! Erasing a customer deletes its data key (crypto-shredding).

use crate::service::ServiceResult;
use kycd_store::{Conn, KeyOwner, Scope, customers as db};
use kycd_vault::{Aad, AuditKey, BlindIndexKey, DataKey, MasterKey, WrappedKey};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

pub struct Vault {
    master: MasterKey,
    /// Accepted for unwrapping only, during a master-key rotation
    /// (`KYCD_MASTER_KEY_PREVIOUS`); new keys are always wrapped by `master`.
    previous: Option<MasterKey>,
    /// Blind-index keys by (organization, environment).
    blind_keys: Mutex<HashMap<(String, String), Arc<BlindIndexKey>>>,
    /// The audit log's MAC keys, derived from `master` (and `previous`).
    audit: AuditKey,
    previous_audit: Option<AuditKey>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault { .. }")
    }
}

fn customer_context(org: &str, customer_id: &str) -> String {
    format!("org:{org}/customer:{customer_id}")
}

/// The purpose under which an environment's blind-index key is stored: live
/// keeps the key of the time when one key served both environments, sandbox
/// has its own, so the two can never be linked by their indexes.
fn blind_context(org: &str, purpose: &str) -> String {
    match purpose.strip_prefix("blind_index:") {
        Some(env) => format!("org:{org}/blind-index/{env}"),
        None => format!("org:{org}/blind-index"),
    }
}

impl Vault {
    pub fn new(master: MasterKey) -> Self {
        Vault {
            audit: master.audit_key(),
            master,
            previous: None,
            blind_keys: Mutex::new(HashMap::new()),
            previous_audit: None,
        }
    }

    /// Also accepts keys wrapped by `previous` (the master key being rotated
    /// out), and audit entries MAC'd under it.
    pub fn with_previous(mut self, previous: Option<MasterKey>) -> Self {
        self.previous = previous.filter(|p| p.key_id() != self.master.key_id());
        self.previous_audit = self.previous.as_ref().map(MasterKey::audit_key);
        self
    }

    /// The master key that wrapped `w`: the current one, else the previous one.
    fn master_for(&self, w: &WrappedKey) -> &MasterKey {
        match &self.previous {
            Some(p) if w.master_key_id == p.key_id() => p,
            _ => &self.master,
        }
    }

    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    /// The data key of `owner` (a customer, webhook endpoint, provider
    /// configuration or organization-wide subject), created on first use.
    pub async fn customer_key(
        &self,
        conn: &mut Conn,
        owner: KeyOwner<'_>,
    ) -> ServiceResult<DataKey> {
        let (org, id) = (owner.organization_id, owner.id);
        if let Some(w) = db::get_customer_key(conn, owner).await? {
            return Ok(self.unwrap_customer_key(org, id, &w)?);
        }
        let key = DataKey::generate();
        let stored =
            db::put_customer_key(conn, owner, &self.wrap_customer_key(org, id, &key)).await?;
        if !stored {
            // Another request created it first: use theirs.
            let w = db::get_customer_key(conn, owner).await?.unwrap_or_default();
            return Ok(self.unwrap_customer_key(org, id, &w)?);
        }
        Ok(key)
    }

    /// Wraps a new customer's data key (stored with the customer's first write).
    pub fn wrap_customer_key(&self, org: &str, customer_id: &str, key: &DataKey) -> String {
        self.master
            .wrap(key, &customer_context(org, customer_id))
            .to_string()
    }

    /// The scope's blind-index key if it is cached already.
    pub fn cached_blind_key(&self, scope: &Scope) -> Option<Arc<BlindIndexKey>> {
        self.blind_keys
            .lock()
            .expect("blind key cache")
            .get(&(scope.organization_id.clone(), scope.environment.clone()))
            .cloned()
    }

    /// The data key of `owner` if it still exists (not erased).
    pub async fn existing_customer_key(
        &self,
        conn: &mut Conn,
        owner: KeyOwner<'_>,
    ) -> ServiceResult<Option<DataKey>> {
        let Some(w) = db::get_customer_key(conn, owner).await? else {
            return Ok(None);
        };
        Ok(Some(self.unwrap_customer_key(
            owner.organization_id,
            owner.id,
            &w,
        )?))
    }

    /// The blind-index key of an organization's environment, created on
    /// first use and cached.
    pub async fn blind_key(
        &self,
        conn: &mut Conn,
        scope: &Scope,
    ) -> ServiceResult<Arc<BlindIndexKey>> {
        if let Some(k) = self.cached_blind_key(scope) {
            return Ok(k);
        }
        let org = &scope.organization_id;
        let ctx = blind_context(org, &db::blind_index_purpose(scope));
        let stored = db::get_blind_index_key(conn, scope).await?;
        let key = match stored {
            Some(w) => {
                let w = WrappedKey::from_str(&w)?;
                self.master_for(&w).unwrap_blind_index_key(&w, &ctx)?
            }
            None => {
                let k = BlindIndexKey::generate();
                if !db::put_blind_index_key(conn, scope, &self.master.wrap(&k, &ctx).to_string())
                    .await?
                {
                    // Another request created it first: use theirs.
                    let w = db::get_blind_index_key(conn, scope)
                        .await?
                        .unwrap_or_default();
                    let w = WrappedKey::from_str(&w)?;
                    self.master_for(&w).unwrap_blind_index_key(&w, &ctx)?
                } else {
                    k
                }
            }
        };
        let key = Arc::new(key);
        self.blind_keys
            .lock()
            .expect("blind key cache")
            .insert((org.to_string(), scope.environment.clone()), key.clone());
        Ok(key)
    }

    pub fn seal(
        &self,
        key: &DataKey,
        org: &str,
        customer_id: &str,
        field: &str,
        plaintext: &[u8],
    ) -> ServiceResult<Vec<u8>> {
        Ok(key.encrypt(
            self.master.key_id(),
            &Aad::new(org, customer_id, field),
            plaintext,
        )?)
    }

    pub fn open(
        &self,
        key: &DataKey,
        org: &str,
        customer_id: &str,
        field: &str,
        ciphertext: &[u8],
    ) -> ServiceResult<Vec<u8>> {
        Ok(key.decrypt(&Aad::new(org, customer_id, field), ciphertext)?)
    }

    pub fn seal_str(
        &self,
        key: &DataKey,
        org: &str,
        customer_id: &str,
        field: &str,
        plaintext: &str,
    ) -> ServiceResult<String> {
        Ok(key.encrypt_to_string(
            self.master.key_id(),
            &Aad::new(org, customer_id, field),
            plaintext,
        )?)
    }

    pub fn open_str(
        &self,
        key: &DataKey,
        org: &str,
        customer_id: &str,
        field: &str,
        ciphertext: &str,
    ) -> ServiceResult<String> {
        Ok(key
            .decrypt_from_string(&Aad::new(org, customer_id, field), ciphertext)?
            .to_string())
    }
}

impl Vault {
    /// Proves that this vault's master key (or the previous one) is the one
    /// that wrapped `stored`, a row of `any_wrapped_key`: unwraps it. The
    /// error says which master key wrapped it.
    pub fn prove(&self, stored: &(String, String, String, String)) -> Result<(), String> {
        let (table, id, purpose_or_org, wrapped) = stored;
        let w = WrappedKey::from_str(wrapped)
            .map_err(|e| format!("a stored key is unreadable: {e}"))?;
        let known = w.master_key_id == self.master.key_id()
            || self
                .previous
                .as_ref()
                .is_some_and(|p| p.key_id() == w.master_key_id);
        let unwrapped = if !known {
            Err(format!("it was wrapped by master key {}", w.master_key_id))
        } else if table == "customer_keys" {
            self.master_for(&w)
                .unwrap(&w, &customer_context(purpose_or_org, id))
                .map(drop)
                .map_err(|e| e.to_string())
        } else if purpose_or_org.starts_with("blind_index") {
            self.master_for(&w)
                .unwrap_blind_index_key(&w, &blind_context(id, purpose_or_org))
                .map(drop)
                .map_err(|e| e.to_string())
        } else {
            // A key of another purpose: its master key id must match (above).
            Ok(())
        };
        unwrapped.map_err(|why| {
            format!(
                "master key {} does not unwrap the keys stored in this database ({why})",
                self.master.key_id()
            )
        })
    }
}

/// The master key being rotated out (`KYCD_MASTER_KEY_PREVIOUS`), if set.
pub fn previous_key(config: &crate::Config) -> anyhow::Result<Option<MasterKey>> {
    use secrecy::ExposeSecret;
    match &config.master_key_previous {
        Some(v) if !v.expose_secret().trim().is_empty() => Ok(Some(
            MasterKey::from_base64(v.expose_secret())
                .map_err(|e| anyhow::anyhow!("KYCD_MASTER_KEY_PREVIOUS: {e}"))?,
        )),
        _ => Ok(None),
    }
}

/// The audit log's entries are MAC'd under the master key's audit key;
/// during a rotation, entries MAC'd under the previous one still check.
impl kycd_store::audit::EntryMac for Vault {
    fn mac(&self, content: &[u8]) -> String {
        self.audit.mac(content)
    }
    fn check(&self, content: &[u8], mac: &str) -> bool {
        self.audit.verify(content, mac)
            || self
                .previous_audit
                .as_ref()
                .is_some_and(|p| p.verify(content, mac))
    }
}

/// One audit key as an [`kycd_store::audit::EntryMac`] (a rotation's old and new keys).
struct OneAuditKey(AuditKey);

impl kycd_store::audit::EntryMac for OneAuditKey {
    fn mac(&self, content: &[u8]) -> String {
        self.0.mac(content)
    }
    fn check(&self, content: &[u8], mac: &str) -> bool {
        self.0.verify(content, mac)
    }
}

/// Wraps every data and blind-index key under `new` (blobs are not
/// re-encrypted) and MACs the audit entries again under `new`'s audit key
/// (an entry whose MAC `old` refuses keeps it: verify still names it).
pub async fn rotate(
    store: &kycd_store::Store,
    old: &MasterKey,
    new: &MasterKey,
) -> anyhow::Result<usize> {
    let mut tx = store.begin().await?;
    let keys = db::all_wrapped_keys(&mut tx).await?;
    let n = keys.len();
    for (table, id, purpose_or_org, wrapped) in keys {
        let w = WrappedKey::from_str(&wrapped)?;
        if table == "customer_keys" {
            let ctx = customer_context(&purpose_or_org, &id);
            let re = kycd_vault::rewrap(old, new, &w, &ctx)?;
            db::rewrap_customer_key(&mut tx, &id, &re.to_string()).await?;
        } else {
            let ctx = blind_context(&id, &purpose_or_org);
            let re = kycd_vault::rewrap(old, new, &w, &ctx)?;
            db::rewrap_org_key(&mut tx, &id, &purpose_or_org, &re.to_string()).await?;
        }
    }
    kycd_store::audit::remac(
        &mut tx,
        &OneAuditKey(old.audit_key()),
        &OneAuditKey(new.audit_key()),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// The field under which a customer's whole document is sealed.
const DOC_FIELD: &str = "customer";

impl Vault {
    /// Seals a customer's document (JSON) under its data key.
    pub fn seal_doc_with(
        &self,
        key: &DataKey,
        org: &str,
        customer_id: &str,
        doc: &str,
    ) -> ServiceResult<String> {
        self.seal_str(key, org, customer_id, DOC_FIELD, doc)
    }

    /// Unwraps a customer's stored data key (by the current or previous master key).
    fn unwrap_customer_key(
        &self,
        org: &str,
        customer_id: &str,
        wrapped: &str,
    ) -> kycd_vault::Result<DataKey> {
        let w = WrappedKey::from_str(wrapped)?;
        self.master_for(&w)
            .unwrap(&w, &customer_context(org, customer_id))
    }
}

impl db::DocCipher for Vault {
    fn seal_doc(
        &self,
        org: &str,
        customer_id: &str,
        wrapped_key: &str,
        doc: &str,
    ) -> Result<String, String> {
        let key = self
            .unwrap_customer_key(org, customer_id, wrapped_key)
            .map_err(|e| e.to_string())?;
        key.encrypt_to_string(
            self.master.key_id(),
            &Aad::new(org, customer_id, DOC_FIELD),
            doc,
        )
        .map_err(|e| e.to_string())
    }

    fn open_doc(
        &self,
        org: &str,
        customer_id: &str,
        wrapped_key: &str,
        sealed: &str,
    ) -> Result<String, String> {
        let key = self
            .unwrap_customer_key(org, customer_id, wrapped_key)
            .map_err(|e| e.to_string())?;
        key.decrypt_from_string(&Aad::new(org, customer_id, DOC_FIELD), sealed)
            .map(|s| s.to_string())
            .map_err(|e| e.to_string())
    }

    fn new_wrapped_key(&self, org: &str, customer_id: &str) -> String {
        self.wrap_customer_key(org, customer_id, &DataKey::generate())
    }
}
