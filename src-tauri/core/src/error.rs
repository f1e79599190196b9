//! The engine's one error type. Every variant has a stable snake_case `code()` that the window, the
//! CLI and the vault rely on; the `Display` text is for staff and never carries a secret or a full
//! national identity number.

use serde::ser::SerializeStruct;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad user input, caught before any request. `field` names the input (e.g. `nin`, `phone`).
    #[error("{field}: {reason}")]
    InvalidInput { field: String, reason: String },

    /// A profile or other configuration value is unusable. `field` names it (e.g. `rest.base_url`).
    #[error("configuration {field}: {reason}")]
    InvalidConfig { field: String, reason: String },

    /// The server's TLS certificate is not trusted on this PC (an unknown CA, such as a
    /// TLS-inspecting proxy's that IT has not installed): the connection stopped in the handshake,
    /// so nothing was sent.
    #[error("the certificate of {host} is not trusted on this PC ({problem}); nothing was sent. If your network inspects TLS, your IT department must add its CA to the system's certificate store (or SSL_CERT_FILE)")]
    UntrustedCertificate { host: String, problem: String },

    /// The request never reached Signicat (connection refused, DNS, TLS) or no answer could be read.
    #[error("could not reach Signicat: {0}")]
    Network(String),

    /// A session create may or may not have reached Signicat. Never retried: each create pushes a
    /// notification to the customer's phone.
    #[error("no answer from Signicat: the session may have started. Check the customer's phone before starting again")]
    OutcomeUnknown,

    /// Signicat answered with an error (problem+json or OAuth error body).
    #[error("Signicat refused the request ({status} {code}): {message}")]
    Api {
        status: u16,
        code: String,
        message: String,
    },

    /// Client credentials or token rejected.
    #[error("Signicat rejected our credentials: {0}")]
    Unauthorized(String),

    /// Signicat answered with something we cannot read (malformed JSON, missing field).
    #[error("unexpected answer from Signicat: {0}")]
    Protocol(String),

    /// The ID token failed validation (signature, iss, aud, exp, nonce).
    #[error("the identity token could not be trusted: {0}")]
    IdToken(String),

    /// The OIDC `state` that came back differs from the one sent (possible CSRF).
    #[error("the answer from Signicat did not match this request (state mismatch)")]
    StateMismatch,

    /// The identity provider reported a failure (legacy OIDC `error` values, REST `ERROR`).
    #[error("{message}")]
    Provider { code: String, message: String },

    /// A flow for the same identity is already running.
    #[error("a flow for this customer is already running; cancel it first")]
    AlreadyRunning { flow_id: String },

    /// No OS keyring backend could be reached. Secrets are never stored anywhere else.
    #[error("no OS keyring is available: {0}")]
    KeyringUnavailable(String),

    /// A secret the profile needs is not stored in the keyring.
    #[error("the secret {0} is not stored for this profile")]
    SecretMissing(String),

    /// The keyring answered with an error.
    #[error("keyring error: {0}")]
    Keyring(String),

    /// The evidence vault (SQLite or SDO files) failed.
    #[error("evidence vault: {0}")]
    Vault(String),

    /// A stored SDO does not match its recorded SHA-256.
    #[error("evidence does not match its recorded hash: {0}")]
    EvidenceMismatch(String),

    /// The person who signed or identified is not the person staff asked for. Nothing is recorded
    /// as verified or signed.
    #[error("identity mismatch: {0}")]
    IdentityMismatch(String),

    /// The signed result is not of the document this desk showed (`sign/PROTOCOL.md` D10).
    /// Nothing is recorded as signed; the evidence is kept for review.
    #[error("the signature is not of the document shown: {0}")]
    DocumentMismatch(String),

    /// The customer signed, but the evidence could not be written on this PC yet (disk full, a
    /// busy or failing database). The bytes are kept in memory and written again in the
    /// background; Sign API v2 leaves the documents at Signicat so a restart can fetch them.
    #[error("the customer signed; the evidence is not saved yet: {0}")]
    SignedEvidencePending(String),

    /// Too little free disk space to keep a signature's evidence: refused before anything is sent.
    #[error("not enough free disk space for the evidence: {0}")]
    DiskFull(String),

    /// Something asked for does not exist (profile, transaction, flow).
    #[error("not found: {0}")]
    NotFound(String),

    /// Local file I/O failed.
    #[error("file error: {0}")]
    Io(String),

    /// The IT department's policy (`policy.toml`) turns this off. `field` names what staff asked
    /// for (`method`, `provider`, `profile`, `archive`, `customer_display`); nothing was sent.
    #[error("{field}: {reason}")]
    NotAllowed { field: String, reason: String },

    /// The central archive (PostgreSQL) could not be reached or refused a delivery. The desk keeps
    /// working; the outbox keeps the transactions until the archive takes them.
    #[error("archive: {0}")]
    Archive(String),

    /// The archive refused our user name or `archive-password`.
    #[error("the archive refused our credentials: {0}")]
    ArchiveUnauthorized(String),

    /// A file or directory that only the IT department may write (the system directory, its
    /// `policy.toml`, a managed profile) could have been written by someone else: the desk
    /// refuses it rather than take a planted policy or profile for IT's (review finding N-1).
    #[error("{path} is not under your IT department's control: {reason}. Ask IT to reinstall ID Desk for all users, or to remove it")]
    UntrustedConfig { path: String, reason: String },
}

impl Error {
    /// Stable machine-readable code. Never change an existing code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidInput { .. } => "invalid_input",
            Error::InvalidConfig { .. } => "invalid_config",
            Error::Network(_) => "network",
            Error::UntrustedCertificate { .. } => "untrusted_certificate",
            Error::OutcomeUnknown => "outcome_unknown",
            Error::Api { .. } => "api_error",
            Error::Unauthorized(_) => "unauthorized",
            Error::Protocol(_) => "protocol",
            Error::IdToken(_) => "id_token_invalid",
            Error::StateMismatch => "state_mismatch",
            Error::Provider { .. } => "provider_error",
            Error::AlreadyRunning { .. } => "already_running",
            Error::KeyringUnavailable(_) => "keyring_unavailable",
            Error::SecretMissing(_) => "secret_missing",
            Error::Keyring(_) => "keyring",
            Error::Vault(_) => "vault",
            Error::EvidenceMismatch(_) => "evidence_mismatch",
            Error::IdentityMismatch(_) => "identity_mismatch",
            Error::DocumentMismatch(_) => "document_mismatch",
            Error::SignedEvidencePending(_) => "signed_evidence_pending",
            Error::DiskFull(_) => "disk_full",
            Error::NotFound(_) => "not_found",
            Error::Io(_) => "io",
            Error::NotAllowed { .. } => "not_allowed_by_policy",
            Error::Archive(_) => "archive",
            Error::ArchiveUnauthorized(_) => "archive_unauthorized",
            Error::UntrustedConfig { .. } => "untrusted_config",
        }
    }

    /// The input or configuration field this error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::InvalidInput { field, .. }
            | Error::InvalidConfig { field, .. }
            | Error::NotAllowed { field, .. } => Some(field),
            _ => None,
        }
    }

    pub fn invalid_input(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    pub fn invalid_config(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidConfig {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// Serialised as `{ "code", "message", "field"?, "flow_id"? }` for the window and the CLI.
impl serde::Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let field = self.field();
        let running = match self {
            Error::AlreadyRunning { flow_id } => Some(flow_id),
            _ => None,
        };
        let len = 2 + usize::from(field.is_some()) + usize::from(running.is_some());
        let mut st = s.serialize_struct("Error", len)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("message", &self.to_string())?;
        if let Some(f) = field {
            st.serialize_field("field", f)?;
        }
        // The window offers to cancel the flow already running for this customer.
        if let Some(id) = running {
            st.serialize_field("flow_id", id)?;
        }
        st.end()
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_code_message_and_field() {
        let e = Error::invalid_input("nin", "check digits do not match");
        let v = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(v["code"], "invalid_input");
        assert_eq!(v["field"], "nin");
        assert_eq!(v["message"], "nin: check digits do not match");
        let v = serde_json::to_value(Error::OutcomeUnknown).unwrap_or_default();
        assert_eq!(v["code"], "outcome_unknown");
        assert!(v.get("field").is_none());
    }
}
