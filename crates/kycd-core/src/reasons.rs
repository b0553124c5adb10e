//! Rejection reasons: the catalog of codes, whether a new submission may help,
//! and messages safe to show the end user (English and Brazilian Portuguese).

use serde::{Deserialize, Serialize};

/// Why a verification was rejected (see `GET /v1/rejection_reasons`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    DocumentUnreadable,
    DocumentExpired,
    LivenessFailed,
    DataMismatch,
    DuplicateCustomer,
    Underage,
    UnsupportedCountry,
    PepMatch,
    SanctionsMatch,
    FraudSuspected,
}

/// One catalog entry as `GET /v1/rejection_reasons` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = RejectionReasonInfo)]
pub struct ReasonInfo {
    pub code: RejectionReason,
    /// Whether a new submission may succeed.
    pub resubmittable: bool,
    /// Whether the law requires keeping the record (erasure is refused).
    pub retention_required: bool,
    /// A message safe to show the end user (English).
    pub message: &'static str,
    pub messages: Messages,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = ReasonMessages)]
pub struct Messages {
    pub en: &'static str,
    #[serde(rename = "pt-BR")]
    pub pt_br: &'static str,
}

use RejectionReason::*;

impl RejectionReason {
    pub const ALL: [RejectionReason; 10] = [
        DocumentUnreadable,
        DocumentExpired,
        LivenessFailed,
        DataMismatch,
        DuplicateCustomer,
        Underage,
        UnsupportedCountry,
        PepMatch,
        SanctionsMatch,
        FraudSuspected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentUnreadable => "document_unreadable",
            DocumentExpired => "document_expired",
            LivenessFailed => "liveness_failed",
            DataMismatch => "data_mismatch",
            DuplicateCustomer => "duplicate_customer",
            Underage => "underage",
            UnsupportedCountry => "unsupported_country",
            PepMatch => "pep_match",
            SanctionsMatch => "sanctions_match",
            FraudSuspected => "fraud_suspected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether a new submission may change the outcome.
    pub fn resubmittable(self) -> bool {
        !matches!(self, PepMatch | SanctionsMatch | FraudSuspected)
    }

    /// Whether the law requires keeping the record (erasure is refused).
    pub fn retention_required(self) -> bool {
        matches!(self, SanctionsMatch | FraudSuspected)
    }

    pub fn messages(self) -> Messages {
        let (en, pt_br) = match self {
            DocumentUnreadable => (
                "We could not read your document. Please upload a sharp, well-lit photo of the whole document.",
                "Não conseguimos ler seu documento. Envie uma foto nítida e bem iluminada do documento inteiro.",
            ),
            DocumentExpired => (
                "Your document has expired. Please upload a valid document.",
                "Seu documento está vencido. Envie um documento válido.",
            ),
            LivenessFailed => (
                "We could not confirm that you were present. Please take the selfie again in good light.",
                "Não conseguimos confirmar sua presença. Tire a selfie novamente com boa iluminação.",
            ),
            DataMismatch => (
                "The information you entered does not match your document. Please check it and try again.",
                "Os dados informados não conferem com o seu documento. Confira e tente novamente.",
            ),
            DuplicateCustomer => (
                "An account with these details already exists. Please sign in to your existing account or contact support.",
                "Já existe uma conta com estes dados. Acesse sua conta existente ou fale com o suporte.",
            ),
            Underage => (
                "You must be of legal age to use this service.",
                "Você precisa ser maior de idade para usar este serviço.",
            ),
            UnsupportedCountry => (
                "This service is not yet available in your country.",
                "Este serviço ainda não está disponível no seu país.",
            ),
            PepMatch => (
                "We are unable to offer this service to you. Please contact support for more information.",
                "Não podemos oferecer este serviço a você. Fale com o suporte para mais informações.",
            ),
            SanctionsMatch => (
                "We are unable to offer this service to you.",
                "Não podemos oferecer este serviço a você.",
            ),
            FraudSuspected => (
                "We are unable to offer this service to you.",
                "Não podemos oferecer este serviço a você.",
            ),
        };
        Messages { en, pt_br }
    }

    pub fn info(self) -> ReasonInfo {
        let messages = self.messages();
        ReasonInfo {
            code: self,
            resubmittable: self.resubmittable(),
            retention_required: self.retention_required(),
            message: messages.en,
            messages,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The contract (API.md), written out here rather than recomputed from
    /// the code under test: (code, resubmittable).
    const CONTRACT: [(&str, bool); 10] = [
        ("document_unreadable", true),
        ("document_expired", true),
        ("liveness_failed", true),
        ("data_mismatch", true),
        ("duplicate_customer", true),
        ("underage", true),
        ("unsupported_country", true),
        ("pep_match", false),
        ("sanctions_match", false),
        ("fraud_suspected", false),
    ];

    #[test]
    fn final_reasons_are_not_resubmittable() {
        assert_eq!(RejectionReason::ALL.len(), CONTRACT.len());
        for (code, resubmittable) in CONTRACT {
            let r = RejectionReason::parse(code).unwrap_or_else(|| panic!("{code} parses"));
            assert_eq!(r.as_str(), code);
            assert_eq!(r.resubmittable(), resubmittable, "{code}");
            assert_eq!(serde_json::to_value(r).unwrap(), code);
        }
    }
}
