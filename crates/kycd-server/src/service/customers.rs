//! Customer operations: create, read, list, update (merge), erase.

use super::Refusal;
use super::{OperationContext, commit, lifecycle, settings::merge_json};
use crate::idempotency::Success;
use crate::metrics::StageClock;
use crate::providers::Provider;
use crate::service::{ServiceError, ServiceResult};
use crate::state::AppState;
use kycd_core::customer::{Customer, CustomerType, Identifier, Level, Mode, Verification};
use kycd_core::events;
use kycd_core::input::CustomerPatch;
use kycd_core::input::{
    self, CustomerInput, ValidAttestation, ValidIdentifier, VerificationRequest,
};
use kycd_core::lifecycle::Change;
use kycd_core::status::CustomerStatus;
use kycd_store::KeyOwner;
use kycd_store::{Conn, Tx, customers as db, ids, usage};
use serde_json::{Value, json};

/// Sensitive values sealed and hashed, ready to write: the CPU work happens
/// before the write transaction so the (SQLite) writer is held only for inserts.
struct Sealed {
    /// The new customer's wrapped data key (creation only).
    wrapped_key: Option<String>,
    secrets: Vec<(String, String)>,
    /// `None`: identifiers unchanged.
    identifier_indexes: Option<Vec<(String, String)>>,
    contact_indexes: Vec<(String, String)>,
}

/// Seals identifier values and the attestation reference under the customer's
/// data key, and computes the blind indexes (identifiers, email, phone).
/// The blind-index hashing is booked on `clock` as `blind_index`.
#[allow(clippy::too_many_arguments)]
fn seal_sensitive(
    state: &AppState,
    cx: &OperationContext,
    c: &Customer,
    key: Option<&kycd_vault::DataKey>,
    blind: &kycd_vault::BlindIndexKey,
    identifiers: Option<&[ValidIdentifier]>,
    attestation: Option<&ValidAttestation>,
    clock: &mut StageClock,
) -> ServiceResult<Sealed> {
    let org = &cx.scope.organization_id;
    let mut hash = |kind: &str, value: &str| {
        let started = std::time::Instant::now();
        let h = blind.compute(kind, value);
        clock.add("blind_index", started.elapsed());
        h
    };
    let mut secrets = vec![];
    let mut identifier_indexes = None;
    if let Some(ids) = identifiers {
        let mut entries = vec![];
        for i in ids {
            // The country tells apart two identifiers of one kind (passports
            // of two countries): it is part of the field and of the index.
            let field = identifier_field(&i.kind, i.country.as_deref());
            let indexed_kind = field.trim_start_matches("identifier:").to_string();
            if let Some(key) = key {
                secrets.push((
                    field.clone(),
                    state.vault.seal_str(key, org, &c.id, &field, &i.value)?,
                ));
            }
            entries.push((field, hash(&indexed_kind, &i.value)));
        }
        identifier_indexes = Some(entries);
    }
    if let (Some(a), Some(key)) = (attestation, key) {
        let field = "attestation_reference";
        secrets.push((
            field.to_string(),
            state.vault.seal_str(key, org, &c.id, field, &a.reference)?,
        ));
    }
    let (email, phone) = match (&c.individual, &c.business) {
        (Some(i), _) => (i.email.clone(), i.phone.clone()),
        (_, Some(b)) => (b.email.clone(), b.phone.clone()),
        _ => (None, None),
    };
    let mut contact_indexes = vec![];
    if let Some(e) = email {
        contact_indexes.push((
            "contact:email".to_string(),
            hash("email", &e.to_lowercase()),
        ));
    }
    if let Some(p) = phone {
        contact_indexes.push(("contact:phone".to_string(), hash("phone", &p)));
    }
    Ok(Sealed {
        wrapped_key: None,
        secrets,
        identifier_indexes,
        contact_indexes,
    })
}

/// The vault field of an identifier's value: its kind, and its country when
/// given (it tells apart two passports of two countries).
pub fn identifier_field(kind: &str, country: Option<&str>) -> String {
    match country {
        Some(country) => format!("identifier:{kind}:{country}"),
        None => format!("identifier:{kind}"),
    }
}

fn has_secrets(
    identifiers: Option<&[ValidIdentifier]>,
    attestation: Option<&ValidAttestation>,
) -> bool {
    identifiers.is_some_and(|i| !i.is_empty()) || attestation.is_some()
}

/// Writes sealed values in the caller's transaction; `fresh`: a new customer (nothing to replace).
async fn write_sensitive(
    conn: &mut Conn,
    cx: &OperationContext,
    c: &Customer,
    s: &Sealed,
    fresh: bool,
) -> ServiceResult<()> {
    if let Some(w) = &s.wrapped_key {
        db::put_customer_key(conn, KeyOwner::scoped(&cx.scope, &c.id), w).await?;
    }
    if fresh {
        // Nothing to replace: every blind index in one multi-row statement.
        let all: Vec<(String, String)> = (s.identifier_indexes.iter().flatten())
            .chain(&s.contact_indexes)
            .cloned()
            .collect();
        db::replace_blind_indexes(conn, &cx.scope, &c.id, "", &all, true).await?;
        for (field, sealed) in &s.secrets {
            db::put_secret(conn, &cx.scope, &c.id, field, sealed).await?;
        }
        return Ok(());
    }
    if let Some(entries) = &s.identifier_indexes {
        if !fresh {
            db::delete_secrets(conn, &cx.scope, &c.id, "identifier:").await?;
        }
        db::replace_blind_indexes(conn, &cx.scope, &c.id, "identifier:", entries, fresh).await?;
    }
    for (field, sealed) in &s.secrets {
        db::put_secret(conn, &cx.scope, &c.id, field, sealed).await?;
    }
    db::replace_blind_indexes(
        conn,
        &cx.scope,
        &c.id,
        "contact:",
        &s.contact_indexes,
        fresh,
    )
    .await?;
    Ok(())
}

/// The scope's blind-index key: cached, else read (or created) through the writer.
pub async fn blind_key(
    state: &AppState,
    cx: &OperationContext,
) -> ServiceResult<std::sync::Arc<kycd_vault::BlindIndexKey>> {
    match state.vault.cached_blind_key(&cx.scope) {
        Some(k) => Ok(k),
        None => {
            state
                .vault
                .blind_key(&mut *state.store.writer().await?, &cx.scope)
                .await
        }
    }
}

/// Beneficial owners must be individual customers of the same scope. Only
/// the owners `before` did not name are checked: one named earlier and since
/// erased is dropped from the business by the erasure, and a PATCH of another
/// field must not fail over an owner the caller did not send.
async fn check_owners(
    conn: &mut Conn,
    cx: &OperationContext,
    c: &Customer,
    before: Option<&Customer>,
) -> ServiceResult<()> {
    let scope = &cx.scope;
    let known: Vec<&str> = before
        .and_then(|b| b.business.as_ref())
        .map(|b| {
            b.beneficial_owners
                .iter()
                .map(|o| o.customer_id.as_str())
                .collect()
        })
        .unwrap_or_default();
    if let Some(b) = &c.business {
        for (i, owner) in b.beneficial_owners.iter().enumerate() {
            if known.contains(&owner.customer_id.as_str()) {
                continue;
            }
            let param = format!("business.beneficial_owners[{i}]");
            match db::get(conn, &*cx.vault, scope, &owner.customer_id).await {
                Ok(o) if o.customer.customer_type == CustomerType::Individual => {}
                Ok(_) => {
                    return Err(ServiceError::from(Refusal::invalid_field(
                        param,
                        "a beneficial owner must be an individual customer",
                    )));
                }
                Err(kycd_store::StoreError::NotFound) => {
                    return Err(ServiceError::from(Refusal::invalid_field(
                        param,
                        "no such customer",
                    )));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// Writes the ids of the business's owners in clear beside its sealed
/// document, so an owner's change finds the businesses that depend on it.
pub async fn write_owner_links(
    conn: &mut Conn,
    cx: &OperationContext,
    c: &Customer,
) -> ServiceResult<()> {
    if let Some(b) = &c.business {
        let ids: Vec<String> = b
            .beneficial_owners
            .iter()
            .map(|o| o.customer_id.clone())
            .collect();
        db::replace_owner_links(conn, &cx.scope, &c.id, &ids).await?;
    }
    Ok(())
}

/// One create (`POST /v1/customers`), its stages booked on `clock`:
/// validated and sealed here, then written by the group committer (with the
/// creates of other requests, in one transaction) or in a transaction of its
/// own when group commit is off; answered once committed.
pub async fn create(
    state: &AppState,
    cx: &OperationContext,
    input: CustomerInput,
    clock: &mut StageClock,
) -> ServiceResult<Customer> {
    let blind = blind_key(state, cx).await?;
    let mut prepared = prepare_create(state, cx, &blind, &input, clock)?;
    if prepared.request.start {
        plan_start(state, cx, &mut prepared).await?;
        clock.lap("start_provider");
    }
    if state.group_commit.enabled() {
        return super::group_commit::submit(state, cx, prepared, clock).await;
    }
    let mut tx = state.store.begin().await?;
    clock.lap("begin");
    // The same writes as a group's, for a group of one: on PostgreSQL one
    // statement for every row of the create.
    let c = write_creates(state, &mut tx, &[(cx, &prepared)])
        .await?
        .pop()
        .ok_or_else(|| ServiceError::internal("a create was not written"))?;
    clock.lap("insert_rows");
    record_created(state, &mut tx, &c, &prepared).await?;
    clock.lap("idempotency");
    tx.commit().await.map_err(kycd_store::StoreError::from)?;
    clock.lap("commit");
    state.outbox_notify.notify_one();
    Ok(c)
}

/// Writes one `POST /v1/customers` in the caller's transaction: the create
/// and the request's Idempotency-Key record (its response, sealed under the
/// new customer's data key, which is at hand: no read of it back). The
/// prepared create is only read: a group commit whose first attempt rolled
/// back writes it again.
pub async fn write_single_create(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    prepared: &PreparedCreate,
    clock: &mut StageClock,
) -> ServiceResult<Customer> {
    let c = write_create(state, tx, cx, prepared, clock).await?;
    record_created(state, tx, &c, prepared).await?;
    clock.lap("idempotency");
    Ok(c)
}

/// Records a written create's response under the request's Idempotency-Key
/// (when it has one), in the caller's transaction: sealed under the new
/// customer's data key, which is at hand (no read of it back).
pub async fn record_created(
    state: &AppState,
    tx: &mut Tx,
    c: &Customer,
    prepared: &PreparedCreate,
) -> ServiceResult<()> {
    let response = crate::wire::CustomerResponse::from(c);
    crate::idempotency::complete_in_tx_with_key(
        state,
        tx,
        Success::Created,
        &response,
        &c.id,
        Some(&prepared.key),
    )
    .await
}

/// A create validated, sealed and hashed, ready to write: the CPU work of a
/// create, done before its transaction so the writer is held only for inserts.
pub struct PreparedCreate {
    customer: Customer,
    /// The customer's data key (its wrapped form is in `sealed`).
    key: kycd_vault::DataKey,
    sealed_doc: String,
    sealed: Sealed,
    request: VerificationRequest,
    /// The verification to start with it, when the body asks (`plan_start`).
    start: Option<PlannedStart>,
}

/// A start on create: its provider chosen as `POST …/verification` does
/// (`sumsub` by default when configured) and already called (a link).
pub struct PlannedStart {
    level: Level,
    mode: Mode,
    provider: Provider,
    prepared: Option<crate::providers::ExternalLink>,
}

/// Calls the verification's provider for a prepared create that asks to
/// start, before any transaction: when it is down, nothing is created (502).
pub async fn plan_start(
    state: &AppState,
    cx: &OperationContext,
    p: &mut PreparedCreate,
) -> ServiceResult<()> {
    if !p.request.start {
        return Ok(());
    }
    let level = p.request.level.unwrap_or(p.customer.verification.level);
    let mode = p.request.mode.unwrap_or(p.customer.verification.mode);
    let provider = Provider::resolve(state, &cx.scope, p.request.provider, mode).await?;
    let prepared = provider.prepare(state, cx, &p.customer.id, level).await?;
    p.start = Some(PlannedStart {
        level,
        mode,
        provider,
        prepared,
    });
    Ok(())
}

/// Validates a create body (as `POST /v1/customers` does), gives the customer
/// its id and data key, and seals its document and secrets.
pub fn prepare_create(
    state: &AppState,
    cx: &OperationContext,
    blind: &kycd_vault::BlindIndexKey,
    input: &CustomerInput,
    clock: &mut StageClock,
) -> ServiceResult<PreparedCreate> {
    let (customer_type, profile, identifiers, attestation) = input::parse_create(input, cx.now)?;
    let request = input.verification.clone().unwrap_or_default();
    let c = Customer {
        id: ids::new("cus"),
        object: "customer".into(),
        customer_type,
        external_id: profile.external_id,
        status: CustomerStatus::NotStarted,
        verification: Verification {
            level: request.level.unwrap_or_default(),
            mode: request.mode.unwrap_or_default(),
            ..Default::default()
        },
        individual: profile.individual,
        business: profile.business,
        addresses: profile.addresses,
        identifiers: identifiers
            .iter()
            .map(|i| Identifier {
                kind: i.kind.clone(),
                country: i.country.clone(),
                last4: i.last4(),
            })
            .collect(),
        attestation: attestation.as_ref().map(ValidAttestation::public),
        metadata: profile.metadata,
        created_at: cx.now,
        updated_at: cx.now,
    };
    let org = &cx.scope.organization_id;
    clock.lap("validate");
    // Every customer has a data key: its whole document is sealed under it.
    let key = kycd_vault::DataKey::generate();
    let mut sealed = seal_sensitive(
        state,
        cx,
        &c,
        Some(&key),
        blind,
        Some(&identifiers),
        attestation.as_ref(),
        clock,
    )?;
    sealed.wrapped_key = Some(state.vault.wrap_customer_key(org, &c.id, &key));
    let sealed_doc =
        state
            .vault
            .seal_doc_with(&key, org, &c.id, &db::encode(&commit::storable(&c))?)?;
    clock.lap("seal");
    Ok(PreparedCreate {
        customer: c,
        key,
        sealed_doc,
        sealed,
        request,
        start: None,
    })
}

impl PreparedCreate {
    /// Whether this create writes only rows of its own: no beneficial owners
    /// to check and link, no verification to start.
    fn is_plain(&self) -> bool {
        self.start.is_none()
            && !self.request.start
            && self
                .customer
                .business
                .as_ref()
                .is_none_or(|b| b.beneficial_owners.is_empty())
    }
}

/// Writes many prepared creates (of any scopes) in the caller's transaction,
/// and answers their customers in the order given. The plain ones (see
/// [`PreparedCreate::is_plain`]) are written together — the same rows
/// [`write_create`] writes, in one statement on PostgreSQL (one round trip
/// for the whole group instead of seven per create) and one multi-row
/// statement per table on SQLite (see [`kycd_store::rows`]); the others one
/// by one. Any failure fails the call and leaves the transaction to roll
/// back: the caller writes the creates again one at a time, each under a
/// savepoint, to tell whose failure it was.
pub async fn write_creates(
    state: &AppState,
    tx: &mut Tx,
    items: &[(&OperationContext, &PreparedCreate)],
) -> ServiceResult<Vec<Customer>> {
    let plain: Vec<&(&OperationContext, &PreparedCreate)> =
        items.iter().filter(|(_, p)| p.is_plain()).collect();
    let new: Vec<db::NewCustomer> = plain
        .iter()
        .map(|(cx, p)| db::NewCustomer {
            scope: &cx.scope,
            customer: &p.customer,
            sealed_doc: &p.sealed_doc,
            wrapped_key: p.sealed.wrapped_key.as_deref().unwrap_or_default(),
            blind_indexes: (p.sealed.identifier_indexes.iter().flatten())
                .chain(&p.sealed.contact_indexes)
                .collect(),
            secrets: &p.sealed.secrets,
        })
        .collect();
    let mut inserts = db::new_customer_rows(&new);
    let events: Vec<(&kycd_store::Scope, kycd_store::events::Event)> = plain
        .iter()
        .map(|(cx, p)| (&cx.scope, created_event(cx, &p.customer)))
        .collect();
    inserts.extend(kycd_store::events::rows(&events));
    let usage: Vec<(&kycd_store::Scope, &str, chrono::DateTime<chrono::Utc>)> = plain
        .iter()
        .map(|(cx, p)| (&cx.scope, p.customer.id.as_str(), cx.now))
        .collect();
    inserts.push(usage::rows(usage::CUSTOMERS_CREATED, &usage));
    let audit: Vec<kycd_store::audit::Entry> = plain
        .iter()
        .map(|(cx, p)| {
            db::audit_entry(
                &cx.scope,
                &cx.actor,
                CREATE_ACTION,
                Some(&p.customer.id),
                &json!({}),
                cx.now,
            )
        })
        .collect();
    inserts.push(kycd_store::audit::rows(&*state.vault, &audit));
    if !plain.is_empty() {
        kycd_store::rows::insert_all(tx, &inserts).await?;
    }
    let mut customers = Vec::with_capacity(items.len());
    for (cx, p) in items {
        customers.push(match p.is_plain() {
            true => p.customer.clone(),
            false => write_create(state, tx, cx, p, &mut StageClock::start()).await?,
        });
    }
    Ok(customers)
}

/// The audit action of a create.
const CREATE_ACTION: &str = "customer.create";

/// The `customer.created` event of a new customer.
fn created_event(cx: &OperationContext, c: &Customer) -> kycd_store::events::Event {
    kycd_store::events::Event {
        id: ids::new("evt"),
        event_type: events::CUSTOMER_CREATED.to_string(),
        customer_id: Some(c.id.clone()),
        data: json!({"customer_id": c.id, "external_id": c.external_id, "type": c.customer_type, "status": c.status}),
        created_at: cx.now,
    }
}

/// Writes a prepared create in the caller's transaction: the customer, its
/// owners' links, secrets and blind indexes, `customer.created`, the usage
/// record and the audit row; then starts the verification when asked. `p` is
/// only read (a rolled-back attempt writes it again).
pub async fn write_create(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    p: &PreparedCreate,
    clock: &mut StageClock,
) -> ServiceResult<Customer> {
    let c = &p.customer;
    check_owners(tx, cx, c, None).await?;
    db::insert(tx, &cx.scope, c, &p.sealed_doc).await?;
    clock.lap("insert_customer");
    write_owner_links(tx, cx, c).await?;
    write_sensitive(tx, cx, c, &p.sealed, true).await?;
    clock.lap("insert_keys_secrets_indexes");
    kycd_store::events::insert(tx, &cx.scope, &created_event(cx, c)).await?;
    clock.lap("insert_event");
    usage::record(tx, &cx.scope, usage::CUSTOMERS_CREATED, &c.id, cx.now).await?;
    clock.lap("insert_usage");
    db::insert_audit(
        tx,
        &*cx.vault,
        &cx.scope,
        &cx.actor,
        CREATE_ACTION,
        Some(&c.id),
        &json!({}),
        cx.now,
    )
    .await?;
    clock.lap("insert_audit");
    // A start not planned by the caller (no provider called) is kycd's own.
    let kycd = Provider::Kycd;
    let start = match &p.start {
        Some(planned) => Some(lifecycle::Start {
            level: planned.level,
            mode: planned.mode,
            provider: &planned.provider,
            prepared: planned.prepared.clone(),
        }),
        None if p.request.start => Some(lifecycle::Start {
            level: p.request.level.unwrap_or(c.verification.level),
            mode: p.request.mode.unwrap_or(c.verification.mode),
            provider: &kycd,
            prepared: None,
        }),
        None => None,
    };
    match start {
        Some(start) => {
            let started = lifecycle::start_with(state, tx, cx, c.clone(), 1, start).await?;
            clock.lap("start_verification");
            Ok(started)
        }
        None => Ok(c.clone()),
    }
}

/// Reads a customer, with the live hosted link unsealed when there is one.
pub async fn get(state: &AppState, cx: &OperationContext, id: &str) -> ServiceResult<Customer> {
    if !kycd_core::ids::is_prefixed("cus", id) {
        return Err(ServiceError::from(Refusal::not_found("customer")));
    }
    let mut conn = state.store.reader().await?;
    let stored = db::get(&mut conn, &*cx.vault, &cx.scope, id)
        .await
        .map_err(|_| Refusal::not_found("customer"))?;
    let mut c = stored.customer;
    with_link(state, &mut conn, cx, &mut c).await?;
    Ok(c)
}

/// Fills `verification.url` from the vault when a link is live.
pub async fn with_link(
    state: &AppState,
    conn: &mut Conn,
    cx: &OperationContext,
    c: &mut Customer,
) -> ServiceResult<()> {
    let live = c.verification.url_expires_at.is_some_and(|e| e > cx.now);
    if !live
        || !matches!(
            c.status,
            CustomerStatus::Pending
                | CustomerStatus::NeedsInformation
                | CustomerStatus::UpdateRequested
        )
    {
        c.verification.url = None;
        return Ok(());
    }
    if let Some(sealed) = db::get_secret(conn, &cx.scope, &c.id, "hosted_url").await?
        && let Some(key) = state
            .vault
            .existing_customer_key(conn, KeyOwner::scoped(&cx.scope, &c.id))
            .await?
    {
        c.verification.url = Some(state.vault.open_str(
            &key,
            &cx.scope.organization_id,
            &c.id,
            "hosted_url",
            &sealed,
        )?);
    }
    Ok(())
}

pub async fn update(
    state: &AppState,
    cx: &OperationContext,
    id: &str,
    body: &[u8],
) -> ServiceResult<Customer> {
    let raw: Value = crate::http::parse_json(body)?;
    let Some(obj) = raw.as_object() else {
        return Err(ServiceError::from(Refusal::invalid_request(
            "the request body must be a JSON object",
        )));
    };
    if obj.contains_key("type") {
        return Err(ServiceError::from(Refusal::invalid_field(
            "type",
            "the customer type cannot be changed",
        )));
    }
    if obj.contains_key("verification") {
        return Err(ServiceError::from(Refusal::invalid_field(
            "verification",
            "use POST /v1/customers/{id}/verification to start a verification",
        )));
    }
    let patch: CustomerPatch = crate::http::parse_json(body)?;
    if !kycd_core::ids::is_prefixed("cus", id) {
        return Err(ServiceError::from(Refusal::not_found("customer")));
    }
    let mut tx = state.store.begin().await?;
    let ch = update_in_tx(state, &mut tx, cx, id, patch, Editor::Platform).await?;
    tx.commit().await.map_err(kycd_store::StoreError::from)?;
    state.outbox_notify.notify_one();
    let mut conn = state.store.reader().await?;
    let mut out = ch.customer;
    with_link(state, &mut conn, cx, &mut out).await?;
    Ok(out)
}

/// Who changes a customer's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editor {
    /// The platform, through the API: in the statuses where PATCH is allowed.
    Platform,
    /// The end user, through the hosted flow: also while the verification
    /// waits on them (`pending` with items missing, `update_requested`).
    EndUser,
}

/// Applies a PATCH in the caller's transaction (the API's PATCH and the
/// hosted flow's submission share it): validated like a create, sealed,
/// committed with its event, then the lifecycle follows the new data.
pub async fn update_in_tx(
    state: &AppState,
    tx: &mut Tx,
    cx: &OperationContext,
    id: &str,
    patch: CustomerPatch,
    editor: Editor,
) -> ServiceResult<Change> {
    let stored = db::get(tx, &*cx.vault, &cx.scope, id)
        .await
        .map_err(|_| Refusal::not_found("customer"))?;
    let old = stored.customer.clone();
    let end_user_turn = editor == Editor::EndUser
        && matches!(
            old.status,
            CustomerStatus::Pending | CustomerStatus::UpdateRequested
        );
    if !kycd_core::lifecycle::may_patch(&old) && !end_user_turn {
        return Err(ServiceError::from(Refusal::customer_locked(
            old.status.as_str(),
        )));
    }
    let business_given = patch.business.is_some();
    let Applied {
        customer: mut c,
        identifiers,
        attestation,
    } = apply_patch(&old, patch, cx.now)?;
    if business_given {
        check_owners(tx, cx, &c, Some(&old)).await?;
        write_owner_links(tx, cx, &c).await?;
    }
    c.updated_at = cx.now;
    let verified_data_changed = c.individual != old.individual
        || c.business != old.business
        || c.addresses != old.addresses
        || identifiers.is_some()
        || attestation.is_some();
    let key = match has_secrets(identifiers.as_deref(), attestation.as_ref()) {
        true => Some(
            state
                .vault
                .customer_key(tx, KeyOwner::scoped(&cx.scope, &c.id))
                .await?,
        ),
        false => None,
    };
    let blind = state.vault.blind_key(tx, &cx.scope).await?;
    let sealed = seal_sensitive(
        state,
        cx,
        &c,
        key.as_ref(),
        &blind,
        identifiers.as_deref(),
        attestation.as_ref(),
        &mut StageClock::start(),
    )?;
    write_sensitive(tx, cx, &c, &sealed, false).await?;
    let mut ch = Change::new(c, cx.actor.clone(), cx.now);
    ch.event(
        events::CUSTOMER_UPDATED,
        json!({"verified_data_changed": verified_data_changed}),
    );
    if verified_data_changed {
        lifecycle::after_data_change(state, tx, cx, &mut ch).await?;
    }
    commit::commit(tx, cx, &ch, stored.version, "customer.update").await?;
    lifecycle::after_status_change(state, tx, cx, &ch).await?;
    Ok(ch)
}

/// A PATCH applied to a customer, validated: the new customer, and the
/// secrets it carries (identifier values, the attestation reference).
pub struct Applied {
    pub customer: Customer,
    pub identifiers: Option<Vec<ValidIdentifier>>,
    pub attestation: Option<ValidAttestation>,
}

/// Applies a PATCH to a customer in memory, with the API's validation (the
/// hosted flow previews its draft through it too). Owners are checked by the caller.
pub fn apply_patch(
    old: &Customer,
    patch: CustomerPatch,
    now: kycd_core::time::Timestamp,
) -> Result<Applied, Refusal> {
    let today = now.date_naive();
    let mut c = old.clone();
    if let Some(ext) = patch.external_id.as_given() {
        c.external_id = input::parse_external_id(&ext.cloned())?;
    }
    if let Some(p) = patch.individual {
        if c.customer_type != CustomerType::Individual {
            return Err(Refusal::invalid_field(
                "individual",
                "a business customer has no individual details",
            ));
        }
        let before = c.individual.clone().unwrap_or_default();
        let merged = merge_json(
            serde_json::to_value(&before).unwrap_or_default(),
            Value::Object(p.clone()),
        );
        let parsed: input::IndividualInput =
            crate::http::parse_json(&serde_json::to_vec(&merged).unwrap_or_default())
                .map_err(|e| prefix_param(e, "individual"))?;
        let mut ind = input::parse_individual(&parsed, today)?;
        // A changed contact is no longer verified unless the patch says so.
        if ind.email != before.email && !p.contains_key("email_verified") {
            ind.email_verified = false;
        }
        if ind.phone != before.phone && !p.contains_key("phone_verified") {
            ind.phone_verified = false;
        }
        c.individual = Some(ind);
    }
    if let Some(p) = patch.business {
        if c.customer_type != CustomerType::Business {
            return Err(Refusal::invalid_field(
                "business",
                "an individual customer has no business details",
            ));
        }
        let before = c.business.clone().unwrap_or_default();
        let merged = merge_json(
            serde_json::to_value(&before).unwrap_or_default(),
            Value::Object(p),
        );
        let parsed: input::BusinessInput =
            crate::http::parse_json(&serde_json::to_vec(&merged).unwrap_or_default())
                .map_err(|e| prefix_param(e, "business"))?;
        c.business = Some(input::parse_business(&parsed, today)?);
    }
    if let Some(a) = &patch.addresses {
        c.addresses = input::parse_addresses(a)?;
    }
    let identifiers = match &patch.identifiers {
        Some(list) => {
            let parsed = input::parse_identifiers(list)?;
            c.identifiers = parsed
                .iter()
                .map(|i| Identifier {
                    kind: i.kind.clone(),
                    country: i.country.clone(),
                    last4: i.last4(),
                })
                .collect();
            Some(parsed)
        }
        None => None,
    };
    let attestation = match &patch.attestation {
        Some(a) => {
            let v = input::parse_attestation(a, now)?;
            c.attestation = Some(v.public());
            Some(v)
        }
        None => None,
    };
    if let Some(m) = &patch.metadata {
        let mut merged = c.metadata.clone();
        for (k, v) in m {
            if v.is_null() {
                merged.remove(k);
            } else {
                merged.insert(k.clone(), v.clone());
            }
        }
        c.metadata = input::parse_metadata(&merged)?;
    }
    Ok(Applied {
        customer: c,
        identifiers,
        attestation,
    })
}

fn prefix_param(mut e: Refusal, prefix: &str) -> Refusal {
    e.param = Some(match e.param {
        Some(p) if !p.is_empty() => format!("{prefix}.{p}"),
        _ => prefix.to_string(),
    });
    e.code = "invalid_field";
    e
}

pub async fn list(
    state: &AppState,
    cx: &OperationContext,
    filter: db::ListFilter,
) -> ServiceResult<(Vec<Customer>, bool)> {
    let mut conn = state.store.reader().await?;
    Ok(db::list(&mut conn, &*cx.vault, &cx.scope, &filter).await?)
}

/// The blind index that finds customers by email or phone (one of them), so a
/// search never compares personal values in clear.
pub async fn contact_index(
    state: &AppState,
    cx: &OperationContext,
    email: Option<&str>,
    phone: Option<&str>,
) -> ServiceResult<Option<(String, String)>> {
    let (kind, value) = match (email, phone) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(ServiceError::from(Refusal::invalid_request(
                "search by email or by phone, not both at once",
            )));
        }
        (Some(e), None) => (
            "email",
            kycd_core::validate::email(e)
                .map_err(|m| Refusal::invalid_field("email", m.to_string()))?
                .to_lowercase(),
        ),
        (None, Some(p)) => (
            "phone",
            kycd_core::validate::phone_e164(p)
                .map_err(|m| Refusal::invalid_field("phone", m.to_string()))?,
        ),
    };
    let blind = blind_key(state, cx).await?;
    Ok(Some((
        format!("contact:{kind}"),
        blind.compute(kind, &value),
    )))
}

/// Erasure (LGPD/GDPR): destroys the data key and personal data, keeps a minimal record.
pub async fn erase(state: &AppState, cx: &OperationContext, id: &str) -> ServiceResult<()> {
    if !kycd_core::ids::is_prefixed("cus", id) {
        return Err(ServiceError::from(Refusal::not_found("customer")));
    }
    let mut tx = state.store.begin().await?;
    let stored = db::get(&mut tx, &*cx.vault, &cx.scope, id)
        .await
        .map_err(|_| Refusal::not_found("customer"))?;
    let c = stored.customer;
    if c.status == CustomerStatus::Rejected
        && let Some(r) = c.verification.rejection_reason
        && r.retention_required()
    {
        return Err(ServiceError::from(Refusal::conflict(
            "retention_required",
            format!(
                "the record must be kept: the customer was rejected for {}",
                r.as_str()
            ),
        )));
    }
    let minimal = Customer {
        id: c.id.clone(),
        object: "customer".into(),
        customer_type: c.customer_type,
        external_id: None,
        status: c.status,
        verification: Verification {
            level: c.verification.level,
            mode: c.verification.mode,
            ..Default::default()
        },
        individual: None,
        business: None,
        addresses: vec![],
        identifiers: vec![],
        attestation: None,
        metadata: Default::default(),
        created_at: c.created_at,
        updated_at: cx.now,
    };
    if c.customer_type == CustomerType::Individual {
        // The businesses naming this person drop it and follow the policy.
        lifecycle::follow_owner(state, &mut tx, cx, id, lifecycle::OwnerChange::Erased).await?;
    }
    super::documents::erase_all(state, &mut tx, cx, id).await?;
    db::erase(&mut tx, &cx.scope, &minimal, cx.now).await?;
    commit::write_events(
        &mut tx,
        &cx.scope,
        &[events::NewEvent {
            event_type: events::CUSTOMER_DELETED,
            customer_id: Some(id.to_string()),
            // The platform's own id, so it can find the user on its side.
            data: json!({"customer_id": id, "external_id": c.external_id}),
        }],
        cx,
    )
    .await?;
    db::insert_audit(
        &mut tx,
        &*cx.vault,
        &cx.scope,
        &cx.actor,
        "customer.erase",
        Some(id),
        &json!({}),
        cx.now,
    )
    .await?;
    tx.commit().await.map_err(kycd_store::StoreError::from)?;
    state.outbox_notify.notify_one();
    Ok(())
}
