//! Document operations: store a validated upload (`api::documents` checks
//! type, side, magic bytes and size) sealed with the customer's data key (blob
//! in `state.blobs`, metadata row in `documents`), list, read, download
//! (audited), a reviewer's accept/reject, and removal on erasure. Never logs or
//! returns document bytes.

use super::Refusal;
use super::{OperationContext, commit, lifecycle};
use crate::blobs::Blobs;
use crate::service::{ServiceError, ServiceResult};
use crate::state::AppState;
use kycd_core::customer::Customer;
use kycd_core::events;
use kycd_core::reasons::RejectionReason;
use kycd_core::status::CustomerStatus;
use kycd_core::time::Timestamp;
use kycd_store::KeyOwner;
use kycd_store::documents::{self as db, DocumentRow};
use kycd_store::{Conn, customers, ids};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The document object of the API: a document's metadata (its bytes are
/// stored encrypted and only served by the content endpoint).
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Document {
    #[schema(example = "doc_01j9z8k3m4n5p6q7r8s9t0v1w2")]
    pub id: String,
    #[schema(schema_with = crate::openapi::schemas::document_tag)]
    pub object: &'static str,
    pub customer_id: String,
    #[serde(rename = "type")]
    #[schema(value_type = crate::openapi::enums::DocumentType)]
    pub doc_type: String,
    #[schema(value_type = Option<crate::openapi::enums::DocumentSide>, required = true)]
    pub side: Option<String>,
    /// `pending` (waiting for a reviewer), `accepted` or `rejected`.
    #[schema(value_type = crate::openapi::enums::DocumentStatus)]
    pub status: String,
    #[schema(value_type = crate::openapi::enums::DocumentContentType)]
    pub content_type: String,
    /// Size in bytes.
    #[schema(minimum = 1)]
    pub size: i64,
    /// Hex SHA-256 of the plaintext bytes.
    pub sha256: String,
    #[schema(required = true)]
    pub rejection_reason: Option<String>,
    #[serde(with = "kycd_core::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "kycd_core::time::rfc3339_opt")]
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    pub reviewed_at: Option<Timestamp>,
}

impl From<DocumentRow> for Document {
    fn from(r: DocumentRow) -> Self {
        Document {
            id: r.id,
            object: "document",
            customer_id: r.customer_id,
            doc_type: r.doc_type,
            side: r.side,
            status: r.status,
            content_type: r.content_type,
            size: r.size,
            sha256: r.sha256,
            rejection_reason: r.rejection_reason,
            created_at: r.created_at,
            reviewed_at: r.reviewed_at,
        }
    }
}

/// A validated upload (`kycd_core::documents::validate`).
pub use kycd_core::documents::NewDocument;

/// Whether documents may be added in this status. PATCH-able statuses plus
/// those where verification is in progress and the end user may still be
/// supplying documents (`pending`, `update_requested`), and a resubmittable
/// rejection (a reliance restart needs the new document first). Refused:
/// `on_hold`, `verified`, `deactivated`, a final rejection.
pub fn upload_allowed(c: &Customer) -> bool {
    use CustomerStatus::*;
    match c.status {
        NotStarted | Pending | NeedsInformation | UpdateRequested | Active | Expired => true,
        Rejected => c.verification.resubmittable == Some(true),
        OnHold | Verified | Deactivated => false,
    }
}

async fn load_customer(
    conn: &mut Conn,
    cx: &OperationContext,
    id: &str,
) -> ServiceResult<Customer> {
    if !kycd_core::ids::is_prefixed("cus", id) {
        return Err(ServiceError::from(Refusal::not_found("customer")));
    }
    customers::get(conn, &*cx.vault, &cx.scope, id)
        .await
        .map(|s| s.customer)
        .map_err(|_| Refusal::not_found("customer").into())
}

fn check_allowed(c: &Customer) -> ServiceResult<()> {
    if upload_allowed(c) {
        return Ok(());
    }
    Err(ServiceError::from(Refusal::conflict(
        "customer_locked",
        format!(
            "documents cannot be added to a customer in status {}",
            c.status.as_str()
        ),
    )))
}

/// Loads a document of this customer (404 when it belongs to another one).
async fn load_document(
    conn: &mut Conn,
    cx: &OperationContext,
    customer_id: &str,
    doc_id: &str,
) -> ServiceResult<DocumentRow> {
    if !kycd_core::ids::is_prefixed("doc", doc_id) {
        return Err(ServiceError::from(Refusal::not_found("document")));
    }
    match db::get(conn, &cx.scope, doc_id).await {
        Ok(d) if d.customer_id == customer_id => Ok(d),
        Ok(_) | Err(kycd_store::StoreError::NotFound) => {
            Err(ServiceError::from(Refusal::not_found("document")))
        }
        Err(e) => Err(e.into()),
    }
}

/// What follows an upload in its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterUpload {
    /// The new evidence re-submits or re-evaluates the customer (the API).
    Evaluate,
    /// Nothing yet: the hosted flow evaluates once, when the user submits.
    WaitForSubmission,
}

/// Stores a validated upload: sealed blob first, then (in one transaction)
/// the row, the event, the audit row and `on_new_evidence`. When the
/// transaction fails the blob is removed again: nothing is left behind.
pub async fn upload(
    state: &AppState,
    cx: &OperationContext,
    customer_id: &str,
    doc: NewDocument,
) -> ServiceResult<Document> {
    store(state, cx, customer_id, doc, AfterUpload::Evaluate).await
}

/// [`upload`], choosing what follows.
pub async fn store(
    state: &AppState,
    cx: &OperationContext,
    customer_id: &str,
    doc: NewDocument,
    then: AfterUpload,
) -> ServiceResult<Document> {
    let org = cx.scope.organization_id.clone();
    let key = {
        let mut conn = state.store.reader().await?;
        check_allowed(&load_customer(&mut conn, cx, customer_id).await?)?;
        state
            .vault
            .existing_customer_key(&mut conn, KeyOwner::scoped(&cx.scope, customer_id))
            .await?
    };
    let key = match key {
        Some(k) => k,
        None => {
            let mut tx = state.store.begin().await?;
            let k = state
                .vault
                .customer_key(&mut tx, KeyOwner::scoped(&cx.scope, customer_id))
                .await?;
            tx.commit().await.map_err(kycd_store::StoreError::from)?;
            k
        }
    };
    let id = ids::new("doc");
    // Every document image is hashed perceptually: the same photo on two
    // customers is a duplicate signal (a blind index, like identifiers).
    let perceptual_hash = crate::images::perceptual_hash(&doc.bytes, &doc.content_type);
    let row = DocumentRow {
        id: id.clone(),
        customer_id: customer_id.to_string(),
        doc_type: doc.doc_type,
        side: doc.side,
        status: "pending".into(),
        content_type: doc.content_type,
        size: doc.bytes.len() as i64,
        sha256: hex::encode(Sha256::digest(&doc.bytes)),
        blob_key: Blobs::key_for(&cx.scope, customer_id, &id),
        rejection_reason: None,
        created_at: cx.now,
        reviewed_at: None,
    };
    let sealed = state.vault.seal(
        &key,
        &org,
        customer_id,
        &format!("document:{id}"),
        &doc.bytes,
    )?;
    drop(doc.bytes);
    state.blobs.put(&row.blob_key, sealed).await?;
    match record_upload(state, cx, &row, perceptual_hash.as_deref(), then).await {
        Ok(()) => {
            state.outbox_notify.notify_one();
            Ok(row.into())
        }
        Err(e) => {
            if state.blobs.delete(&row.blob_key).await.is_err() {
                tracing::warn!(document = %row.id, "could not remove the blob of a failed upload");
            }
            Err(e)
        }
    }
}

async fn record_upload(
    state: &AppState,
    cx: &OperationContext,
    row: &DocumentRow,
    perceptual_hash: Option<&str>,
    then: AfterUpload,
) -> ServiceResult<()> {
    let mut tx = state.store.begin().await?;
    // Re-checked inside the transaction: the status may have changed meanwhile.
    let customer = load_customer(&mut tx, cx, &row.customer_id).await?;
    check_allowed(&customer)?;
    db::insert(&mut tx, &cx.scope, row).await?;
    if let Some(hash) = perceptual_hash {
        let blind = state.vault.blind_key(&mut tx, &cx.scope).await?;
        customers::add_blind_index(
            &mut tx,
            &cx.scope,
            &row.customer_id,
            super::evaluation::IMAGE_INDEX,
            &blind.compute("image", hash),
        )
        .await?;
    }
    commit::write_events(
        &mut tx,
        &cx.scope,
        &[events::NewEvent {
            event_type: events::DOCUMENT_UPLOADED,
            customer_id: Some(row.customer_id.clone()),
            data: json!({"customer_id": row.customer_id, "external_id": customer.external_id, "document_id": row.id, "type": row.doc_type, "side": row.side, "status": row.status}),
        }],
        cx,
    )
    .await?;
    customers::insert_audit(
        &mut tx,
        &*cx.vault,
        &cx.scope,
        &cx.actor,
        "document.upload",
        Some(&row.id),
        &json!({"customer_id": row.customer_id, "type": row.doc_type, "size": row.size}),
        cx.now,
    )
    .await?;
    if then == AfterUpload::Evaluate {
        lifecycle::on_new_evidence(state, &mut tx, cx, &row.customer_id).await?;
    }
    let response = Document::from(row.clone());
    crate::idempotency::complete_in_tx(
        state,
        &mut tx,
        crate::idempotency::Success::Created,
        &response,
        &row.customer_id,
    )
    .await?;
    tx.commit().await.map_err(kycd_store::StoreError::from)?;
    Ok(())
}

/// A customer's documents, newest first.
pub async fn list(
    state: &AppState,
    cx: &OperationContext,
    customer_id: &str,
    starting_after: Option<&str>,
    limit: i64,
) -> ServiceResult<(Vec<Document>, bool)> {
    let mut conn = state.store.reader().await?;
    load_customer(&mut conn, cx, customer_id).await?;
    let (rows, more) = db::list(&mut conn, &cx.scope, customer_id, starting_after, limit).await?;
    Ok((rows.into_iter().map(Document::from).collect(), more))
}

pub async fn get(
    state: &AppState,
    cx: &OperationContext,
    customer_id: &str,
    doc_id: &str,
) -> ServiceResult<Document> {
    let mut conn = state.store.reader().await?;
    load_customer(&mut conn, cx, customer_id).await?;
    Ok(load_document(&mut conn, cx, customer_id, doc_id)
        .await?
        .into())
}

/// A document by id alone (the sandbox helper knows only the document id).
pub async fn find(
    state: &AppState,
    cx: &OperationContext,
    doc_id: &str,
) -> ServiceResult<Document> {
    if !kycd_core::ids::is_prefixed("doc", doc_id) {
        return Err(ServiceError::from(Refusal::not_found("document")));
    }
    let mut conn = state.store.reader().await?;
    match db::get(&mut conn, &cx.scope, doc_id).await {
        Ok(d) => Ok(d.into()),
        Err(kycd_store::StoreError::NotFound) => {
            Err(ServiceError::from(Refusal::not_found("document")))
        }
        Err(e) => Err(e.into()),
    }
}

/// The decrypted bytes (checked against the recorded SHA-256). Every download
/// is audited (`document.download`) before the bytes leave.
pub async fn content(
    state: &AppState,
    cx: &OperationContext,
    customer_id: &str,
    doc_id: &str,
) -> ServiceResult<(Document, Vec<u8>)> {
    let org = &cx.scope.organization_id;
    let (row, key) = {
        let mut conn = state.store.reader().await?;
        load_customer(&mut conn, cx, customer_id).await?;
        let row = load_document(&mut conn, cx, customer_id, doc_id).await?;
        let key = state
            .vault
            .existing_customer_key(&mut conn, KeyOwner::scoped(&cx.scope, customer_id))
            .await?;
        (row, key)
    };
    let Some(key) = key else {
        return Err(ServiceError::from(Refusal::not_found("document")));
    };
    let Some(sealed) = state.blobs.get(&row.blob_key).await? else {
        tracing::error!(document = %row.id, "document blob is missing");
        return Err(ServiceError::internal("document blob is missing"));
    };
    let bytes = state.vault.open(
        &key,
        org,
        customer_id,
        &format!("document:{}", row.id),
        &sealed,
    )?;
    if hex::encode(Sha256::digest(&bytes)) != row.sha256 {
        tracing::error!(document = %row.id, "document bytes do not match their recorded sha256");
        return Err(ServiceError::internal(
            "document bytes do not match their recorded sha256",
        ));
    }
    let mut conn = state.store.writer().await?;
    customers::insert_audit(
        &mut conn,
        &*cx.vault,
        &cx.scope,
        &cx.actor,
        "document.download",
        Some(&row.id),
        &json!({"customer_id": customer_id}),
        cx.now,
    )
    .await?;
    Ok((row.into(), bytes))
}

/// A reviewer accepts or rejects a `pending` document (`reason`: a rejection
/// reason code, `document_unreadable` by default). The customer's
/// verification then re-evaluates (`on_new_evidence`) in the same transaction.
pub async fn review(
    state: &AppState,
    cx: &OperationContext,
    customer_id: &str,
    doc_id: &str,
    accept: bool,
    reason: Option<&str>,
) -> ServiceResult<Document> {
    let reason = review_reason(accept, reason)?;
    let mut tx = state.store.begin().await?;
    let row = review_in(state, &mut tx, cx, customer_id, doc_id, accept, reason).await?;
    super::finish(state, tx).await?;
    Ok(row)
}

/// A document review's rejection reason (a code; `document_unreadable` by
/// default), refused on an acceptance.
pub fn review_reason(accept: bool, reason: Option<&str>) -> ServiceResult<Option<RejectionReason>> {
    Ok(match (accept, reason) {
        (true, None) => None,
        (true, Some(_)) => {
            return Err(ServiceError::from(Refusal::invalid_field(
                "reason",
                "only a rejection carries a reason",
            )));
        }
        (false, r) => Some(
            RejectionReason::parse(r.unwrap_or("document_unreadable"))
                .ok_or_else(|| Refusal::invalid_field("reason", "unknown rejection reason"))?,
        ),
    })
}

/// [`review`] in the caller's transaction (the reason already parsed).
pub async fn review_in(
    state: &AppState,
    tx: &mut kycd_store::Tx,
    cx: &OperationContext,
    customer_id: &str,
    doc_id: &str,
    accept: bool,
    reason: Option<RejectionReason>,
) -> ServiceResult<Document> {
    let status = if accept { "accepted" } else { "rejected" };
    let customer = load_customer(tx, cx, customer_id).await?;
    let mut row = load_document(tx, cx, customer_id, doc_id).await?;
    let reason = reason.map(RejectionReason::as_str);
    if !db::set_review(tx, &cx.scope, doc_id, status, reason, cx.now).await? {
        return Err(ServiceError::from(Refusal::invalid_transition(format!(
            "the document was already reviewed ({})",
            row.status
        ))));
    }
    row.status = status.into();
    row.rejection_reason = reason.map(str::to_string);
    row.reviewed_at = Some(cx.now);
    commit::write_events(
        tx,
        &cx.scope,
        &[events::NewEvent {
            event_type: events::DOCUMENT_REVIEWED,
            customer_id: Some(customer_id.to_string()),
            data: json!({"customer_id": customer_id, "external_id": customer.external_id, "document_id": doc_id, "type": row.doc_type, "status": status, "rejection_reason": reason}),
        }],
        cx,
    )
    .await?;
    customers::insert_audit(
        tx,
        &*cx.vault,
        &cx.scope,
        &cx.actor,
        "document.review",
        Some(doc_id),
        &json!({"customer_id": customer_id, "status": status, "rejection_reason": reason}),
        cx.now,
    )
    .await?;
    lifecycle::on_new_evidence(state, tx, cx, customer_id).await?;
    Ok(row.into())
}

/// Removes a customer's documents on erasure: the rows, then every blob under
/// the customer's prefix (also orphans of interrupted uploads). The blobs are
/// unreadable anyway once the data key is gone, so a blob store failure is
/// logged and does not block the erasure.
pub async fn erase_all(
    state: &AppState,
    conn: &mut Conn,
    cx: &OperationContext,
    customer_id: &str,
) -> ServiceResult<()> {
    let keys = db::delete_for_customer(conn, &cx.scope, customer_id).await?;
    let mut failed = false;
    for k in &keys {
        failed |= state.blobs.delete(k).await.is_err();
    }
    if !failed {
        failed = state
            .blobs
            .delete_prefix(&Blobs::customer_prefix(&cx.scope, customer_id))
            .await
            .is_err();
    }
    if failed {
        tracing::warn!(
            customer = customer_id,
            "some document blobs could not be deleted; they stay unreadable (data key destroyed)"
        );
    }
    Ok(())
}
