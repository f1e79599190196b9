//! Sign API v2 wire types (`sign/PROTOCOL.md`). Unknown fields are ignored, missing optional ones
//! are not errors; the state and the package and signature types keep an `Unknown` arm, so a value
//! Signicat adds later is shown raw instead of failing the flow.

use serde::{Deserialize, Serialize};

/// `POST /sign/documents` answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadedDocument {
    pub document_id: String,
}

/// `POST /sign/document-collections` body.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCollection {
    pub documents: Vec<CollectionDocument>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub package_to: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionDocument {
    pub document_id: String,
}

/// `POST /sign/document-collections` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Collection {
    pub id: String,
}

/// One element of the `POST /sign/signing-sessions` array.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSession {
    pub title: String,
    pub documents: Vec<SessionDocument>,
    pub signing_setup: Vec<SigningSetup>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<Signer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_display_name: Option<String>,
    pub external_reference: String,
    /// RFC 3339.
    pub due_date: String,
    pub ui: Ui,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub package_to: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionDocument {
    /// `SIGN`.
    pub action: String,
    pub document_collection_id: String,
    pub document_id: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SigningSetup {
    /// `PKISIGNING` or `AUTHENTICATION_BASED`.
    pub signing_flow: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub identity_providers: Vec<IdentityProvider>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub additional_parameters: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProvider {
    pub idp_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Signer {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub national_identification_number: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validations: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ui {
    pub language: String,
}

/// A signing session as `POST` (array element) and `GET /sign/signing-sessions/{id}` return it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    #[serde(default)]
    pub signature_url: Option<String>,
    #[serde(default)]
    pub due_date: Option<String>,
    #[serde(default)]
    pub lifecycle: Lifecycle,
    #[serde(default)]
    pub output: Output,
    #[serde(default)]
    pub signer: Option<Signer>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Lifecycle {
    #[serde(default)]
    pub state: SessionState,
    #[serde(default)]
    pub state_is_final: bool,
    /// The BankID hint code of a Swedish BankID order in progress, where Signicat passes it on
    /// (`PROTOCOL.md`, decision D4).
    #[serde(default)]
    pub hint_code: Option<String>,
}

/// `lifecycle.state`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SessionState {
    /// Waiting for an earlier session (`subsequentTo`).
    Blocked,
    /// Open for the signer.
    #[default]
    Ready,
    /// The signer refused.
    Rejected,
    Signed,
    Unknown(String),
}

impl SessionState {
    pub fn as_str(&self) -> &str {
        match self {
            SessionState::Blocked => "BLOCKED",
            SessionState::Ready => "READY",
            SessionState::Rejected => "REJECTED",
            SessionState::Signed => "SIGNED",
            SessionState::Unknown(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for SessionState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Ok(match raw.to_ascii_uppercase().as_str() {
            "BLOCKED" => SessionState::Blocked,
            "READY" => SessionState::Ready,
            "REJECTED" => SessionState::Rejected,
            "SIGNED" => SessionState::Signed,
            _ => SessionState::Unknown(raw),
        })
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    #[serde(default)]
    pub signatures: Vec<OutputSignature>,
    #[serde(default)]
    pub packages: Vec<OutputPackage>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputSignature {
    /// `PADES`, `XADES`, or a type added later.
    #[serde(default)]
    pub signature_type: Option<String>,
    pub result_document_id: String,
    /// Who signed, where Signicat says it (`PROTOCOL.md`, decision D5).
    #[serde(default)]
    pub signer: Option<SignedBy>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputPackage {
    /// `PADES_CONTAINER`, `LTV_SDO`, or a type added later.
    #[serde(default)]
    pub package_type: Option<String>,
    pub result_document_id: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct SignedBy {
    #[serde(default)]
    pub national_identification_number: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub date_of_birth: Option<String>,
}
