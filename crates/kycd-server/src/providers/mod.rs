//! Identity providers behind one interface: start a verification (a link
//! for the end user), apply a provider's verdict, map its reasons. kycd's
//! built-in hosted flow is one implementation, Sumsub the other; the
//! lifecycle calls `Provider` and never knows which one it talks to.

pub mod kycd;
pub mod sumsub;

use crate::service::{OperationContext, Refusal, ServiceError, ServiceResult};
use crate::state::AppState;
use kycd_core::customer::{Level, Mode};
use kycd_core::lifecycle::Change;
use kycd_core::providers::ProviderKind;
use kycd_core::time::Timestamp;
use kycd_store::{Conn, Scope};

/// The provider of one verification, with what it needs to work.
#[derive(Debug, Clone)]
pub enum Provider {
    /// kycd's hosted flow (`/hosted/v/…`).
    Kycd,
    /// Sumsub, configured for the scope.
    Sumsub(Box<sumsub::SumsubConfig>),
}

/// A link obtained from an external provider before the transaction (the
/// provider is called outside it: when it is down, nothing changes).
#[derive(Debug, Clone)]
pub struct ExternalLink {
    pub url: String,
    pub expires_at: Timestamp,
    /// The provider's id of the end user (Sumsub: the applicant id).
    pub applicant_id: String,
}

impl Provider {
    /// The provider a start asks for: the requested one, else Sumsub when
    /// configured for the scope (hosted mode), else kycd.
    pub async fn resolve(
        state: &AppState,
        scope: &Scope,
        requested: Option<ProviderKind>,
        mode: Mode,
    ) -> ServiceResult<Provider> {
        if mode == Mode::Reliance {
            return match requested {
                Some(ProviderKind::Sumsub) => Err(ServiceError::from(Refusal::invalid_field(
                    "provider",
                    "a reliance verification carries its provider's attestation: `provider` applies to hosted verifications",
                ))),
                _ => Ok(Provider::Kycd),
            };
        }
        let configured = sumsub::load(state, scope).await?;
        match (requested, configured) {
            (Some(ProviderKind::Kycd), _) => Ok(Provider::Kycd),
            // A valid request the environment's state refuses: 409, not 400.
            (Some(ProviderKind::Sumsub), None) => Err(ServiceError::from(Refusal::conflict(
                "provider_not_configured",
                "sumsub is not configured for this environment (PUT /v1/providers/sumsub)",
            ))),
            (_, Some(cfg)) => Ok(Provider::Sumsub(Box::new(cfg))),
            (None, None) => Ok(Provider::Kycd),
        }
    }

    pub fn kind(&self) -> ProviderKind {
        match self {
            Provider::Kycd => ProviderKind::Kycd,
            Provider::Sumsub(_) => ProviderKind::Sumsub,
        }
    }

    /// The provider's outbound work for a start, before the transaction:
    /// nothing for kycd; Sumsub creates (or reuses) the applicant and a WebSDK link.
    pub async fn prepare(
        &self,
        state: &AppState,
        cx: &OperationContext,
        customer_id: &str,
        level: Level,
    ) -> ServiceResult<Option<ExternalLink>> {
        match self {
            Provider::Kycd => Ok(None),
            Provider::Sumsub(cfg) => Ok(Some(
                sumsub::prepare_link(state, cx, cfg, customer_id, level).await?,
            )),
        }
    }

    /// Inside the start's transaction: gives the customer its link.
    pub async fn attach(
        &self,
        state: &AppState,
        conn: &mut Conn,
        cx: &OperationContext,
        ch: &mut Change,
        prepared: Option<ExternalLink>,
    ) -> ServiceResult<()> {
        ch.customer.verification.provider = Some(self.kind());
        match (self, prepared) {
            (Provider::Sumsub(_), Some(link)) => {
                sumsub::attach_link(state, conn, cx, ch, link).await
            }
            _ => kycd::attach_link(state, conn, cx, ch).await,
        }
    }
}
