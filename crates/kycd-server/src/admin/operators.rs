//! Operator accounts (the `kycd operator …` commands call these): creation
//! with a random password shown once, listing, disabling, password resets;
//! argon2id hashing and verification.

use anyhow::{Context, bail};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use kycd_store::Store;
use kycd_store::operators::{self as db, Operator};
use serde::Serialize;

/// What an operator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, including deactivation and reactivation.
    Admin,
    /// Decisions on cases (approve, reject, documents, matches, products, notes).
    Reviewer,
    /// Reads only.
    Viewer,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "reviewer" => Some(Role::Reviewer),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::Viewer => "viewer",
        }
    }
}

/// An operator as the CLI prints it (the password only when just set).
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    pub id: String,
    pub email: String,
    pub role: String,
    pub organization_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

impl Shown {
    fn of(op: &Operator, password: Option<String>) -> Shown {
        Shown {
            id: op.id.clone(),
            email: op.email.clone(),
            role: op.role.clone(),
            organization_id: op.organization_id.clone(),
            password,
            disabled: op.disabled_at.is_some(),
        }
    }
}

/// A new random password: 24 URL-safe characters (144 bits).
fn new_password() -> String {
    crate::web::random_token()[..24].to_string()
}

/// The argon2id PHC string of a password (random salt).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))
}

/// Whether `password` matches the stored hash (constant time inside argon2).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Creates an operator; `organization` limits it to one organization.
pub async fn create(
    store: &Store,
    email: &str,
    role: &str,
    organization: Option<&str>,
) -> anyhow::Result<Shown> {
    let email = kycd_core::validate::email(email)
        .map_err(|e| anyhow::anyhow!("--email: {e}"))?
        .to_lowercase();
    let Some(role) = Role::parse(role) else {
        bail!("--role must be admin, reviewer or viewer");
    };
    let mut conn = store.writer().await?;
    if let Some(org) = organization
        && kycd_store::orgs::get_org(&mut conn, org).await?.is_none()
    {
        bail!("--organization: no organization {org}");
    }
    let password = new_password();
    let op = Operator {
        id: kycd_store::ids::new("op"),
        email,
        role: role.as_str().into(),
        organization_id: organization.map(str::to_string),
        password_hash: hash_password(&password)?,
        disabled_at: None,
        created_at: chrono::Utc::now(),
    };
    match db::insert(&mut conn, &op).await {
        Err(kycd_store::StoreError::Conflict(_)) => {
            bail!("an operator with the email {} exists", op.email)
        }
        r => r?,
    }
    Ok(Shown::of(&op, Some(password)))
}

/// Every operator (no passwords).
pub async fn list(store: &Store) -> anyhow::Result<Vec<Shown>> {
    let mut conn = store.reader().await?;
    Ok(db::list(&mut conn)
        .await?
        .iter()
        .map(|o| Shown::of(o, None))
        .collect())
}

/// An operator by id (`op_…`) or email.
async fn find(store: &Store, who: &str) -> anyhow::Result<Operator> {
    let mut conn = store.reader().await?;
    let op = if who.starts_with("op_") {
        db::by_id(&mut conn, who).await?
    } else {
        db::by_email(&mut conn, &who.trim().to_lowercase()).await?
    };
    op.with_context(|| format!("no operator {who}"))
}

/// Disables an operator (it can no longer sign in; its sessions end).
pub async fn disable(store: &Store, who: &str) -> anyhow::Result<Shown> {
    let mut op = find(store, who).await?;
    let now = chrono::Utc::now();
    let mut conn = store.writer().await?;
    db::disable(&mut conn, &op.id, now).await?;
    op.disabled_at = Some(now);
    Ok(Shown::of(&op, None))
}

/// Sets a new random password (shown once), ends the sessions and lifts a lockout.
pub async fn reset_password(store: &Store, who: &str) -> anyhow::Result<Shown> {
    let op = find(store, who).await?;
    let password = new_password();
    let mut conn = store.writer().await?;
    db::set_password(&mut conn, &op.id, &hash_password(&password)?).await?;
    db::clear_failures(&mut conn, &format!("account:{}", op.email)).await?;
    Ok(Shown::of(&op, Some(password)))
}

/// Removes an operator's TOTP second factor (lost device): it signs in with
/// the password alone until it enrols again. `false` when it had none.
pub async fn reset_totp(
    store: &Store,
    keys: &dyn kycd_store::audit::EntryMac,
    who: &str,
) -> anyhow::Result<(Shown, bool)> {
    let op = find(store, who).await?;
    let removed = super::totp::reset(store, keys, &op).await?;
    Ok((Shown::of(&op, None), removed))
}
