//! What the vault holds: one `Transaction` per flow, with a status that only moves forward.

use crate::flow::{Evidence, FlowId, Method, SdoRef};
use serde::{Deserialize, Serialize};

/// An authentication or a consent signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxKind {
    Auth,
    Sign,
}

impl TxKind {
    pub fn of(method: Method) -> Self {
        if method.is_signature() {
            TxKind::Sign
        } else {
            TxKind::Auth
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Auth => "auth",
            TxKind::Sign => "sign",
        }
    }
}

/// Where a transaction stands. Everything but `Running` and `EvidencePending` is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TxStatus {
    Running,
    Succeeded,
    Signed,
    Failed,
    /// The customer cancelled in the BankID app.
    Aborted,
    /// Staff cancelled (or the app quit) before an outcome.
    Cancelled,
    Expired,
    /// The app stopped (crash, kill, power loss) while the flow was running.
    Interrupted,
    /// The customer signed; the evidence is not on disk yet (`signed_evidence_pending`). Not
    /// final: it becomes `signed` once written, or `interrupted` if this desk stops first.
    EvidencePending,
}

impl TxStatus {
    pub const ALL: [TxStatus; 9] = [
        TxStatus::Running,
        TxStatus::Succeeded,
        TxStatus::Signed,
        TxStatus::Failed,
        TxStatus::Aborted,
        TxStatus::Cancelled,
        TxStatus::Expired,
        TxStatus::Interrupted,
        TxStatus::EvidencePending,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TxStatus::Running => "running",
            TxStatus::Succeeded => "succeeded",
            TxStatus::Signed => "signed",
            TxStatus::Failed => "failed",
            TxStatus::Aborted => "aborted",
            TxStatus::Cancelled => "cancelled",
            TxStatus::Expired => "expired",
            TxStatus::Interrupted => "interrupted",
            TxStatus::EvidencePending => "evidence_pending",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        !matches!(self, TxStatus::Running | TxStatus::EvidencePending)
    }
}

/// What a flow tells the vault before its first request. `identity_masked` must already be masked
/// (`identity::mask_nin` or a masked phone number); the vault re-checks that no long digit run
/// slips through.
#[derive(Debug, Clone)]
pub struct NewTransaction {
    pub id: FlowId,
    pub method: Method,
    pub identity_masked: Option<String>,
    pub profile: Option<String>,
    /// The text the customer is asked to sign (signatures only).
    pub sign_text: Option<String>,
    /// The archive the row is owed to ([`crate::profile::ArchiveSettings::fingerprint`] of the
    /// recording profile's `[archive]`); `None` when that profile has none.
    pub archive_target: Option<String>,
}

/// One row of the vault as staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    pub id: FlowId,
    pub kind: TxKind,
    pub method: Method,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_masked: Option<String>,
    /// The verified person's display name, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_name: Option<String>,
    pub status: TxStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The latest staff-visible message (progress or outcome).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub updated_at: String,
    /// Signicat's session id (REST) or order reference / session marker (legacy OIDC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_text: Option<String>,
    /// Who did it: the OS user, the PC, the branch and the app version (issue 24). Empty on rows
    /// an earlier version wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desk_host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// The legacy Consent Signature's SDO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdo: Option<SdoRef>,
    /// Sign API v2 result documents and packages, in the order they were stored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// The central archive's copy: queued once the status is final (`None` while running).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<super::ArchiveMark>,
}

/// A row this build cannot read: a status or method it does not know (written by a newer desk),
/// or a damaged value. History shows it as such, and it never stops the other rows or delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadableRow {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Why it cannot be read.
    pub unreadable: String,
}

/// One line of History: a transaction, or a row that cannot be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum HistoryEntry {
    Transaction(Box<Transaction>),
    Unreadable(UnreadableRow),
}

/// Which rows `Vault::list` returns (newest first). Empty filter = all.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<TxStatus>,
    pub kind: Option<TxKind>,
    pub method: Option<Method>,
    /// The OS user who ran it.
    pub staff_user: Option<String>,
}

/// One entry of a transaction's event trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TxEvent {
    /// RFC 3339, UTC.
    pub at: String,
    /// `begin`, `sdo_stored`, or a `FlowEvent` tag.
    pub event_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}
