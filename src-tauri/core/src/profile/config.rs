//! The profile file as written on disk (TOML) and edited in Settings. Nothing here is validated:
//! `Profile::validate` turns it into the checked `Profile` the engine uses.

use serde::{Deserialize, Serialize};

use crate::ciba::{ClientAuthMethod, HintKind, SigningAlg};
use crate::messages::Lang;

/// One Signicat setup, as stored in `{config dir}/id-desk/profiles/{name}.toml`.
/// Unknown keys are refused, so a misspelt key (or a secret pasted into the file) is reported
/// instead of silently ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileConfig {
    pub name: String,
    #[serde(default)]
    pub allow_test_identities: bool,
    #[serde(default)]
    pub language: Lang,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest: Option<RestConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbid: Option<SbidConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciba: Option<CibaConfig>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<TemplateConfig>,
    /// `[archive]`: the central archive this desk ships its transactions to (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<super::ArchiveConfig>,
    /// `[redirect]`: eIDs offered through the REST redirect flow (optional; needs `[rest]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<RedirectConfig>,
    /// `[sign]`: consent signatures through Signicat Sign API v2 (optional; needs `[rest]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign: Option<SignConfig>,
    /// `[sbid_phone]`: what Swedish BankID Phone orders carry (optional; needs `[rest]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbid_phone: Option<SbidPhoneConfig>,
    /// Offer the methods production retired (BankID on mobile, legacy `sbid-inapp`, the legacy
    /// Consent Signature), labelled as retired. Off unless set; Training sets it for practice.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub legacy_methods: bool,
    /// `NO`, `SE`: the countries this desk serves, first first (orders the Identify screen).
    /// Defaults to Sweden first for a Swedish profile, Norway first otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
    /// `[retention]`: how long personal data stays on this desk (defaults when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionConfig>,
}

/// `[retention]`, in days. Agree the numbers with Compliance: signature evidence and KYC
/// identifications are kept for the AML period, failed attempts much shorter.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Days a transaction stays on the desk after the central archive has it (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_archive_days: Option<u32>,
    /// Without an `[archive]`: days a verified identity or signature stays (default 1,826, five
    /// years).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub without_archive_days: Option<u32>,
    /// Without an `[archive]`: days a failed, aborted, expired, cancelled or interrupted attempt
    /// stays (default 90).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsuccessful_days: Option<u32>,
}

/// `[sbid_phone]`: Swedish BankID Phone through the Authentication REST API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SbidPhoneConfig {
    /// Ask for BankID's extra control of the customer's ID document.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub extra_control: bool,
    /// Ask for BankID's risk indication (shown on the result card).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub return_risk: bool,
    /// `[[sbid_phone.intentions]]`: the approved "why we ask" texts staff pick from
    /// (`simpleMarkdownV1`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intentions: Vec<TemplateConfig>,
}

/// `[sign]`: Signicat Sign API v2, served to the `[rest]` API client (it needs Signicat's
/// "Signature API" permission).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignConfig {
    /// Defaults to `[rest] base_url` (the API lives under `{base_url}/sign`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The signing setups offered: `sbid-phone`, `nbid-pki`, `link`.
    pub setups: Vec<String>,
    /// With `link`: the Signicat identity providers the customer may sign with (`mitid`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link_providers: Vec<String>,
    /// Shown to the signer as who asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_display_name: Option<String>,
    /// The largest PDF staff may upload and result document the desk accepts (default 10 MiB).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_document_bytes: Option<usize>,
    /// Minutes the customer has to sign (1–1440, default 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_minutes: Option<u32>,
}

/// `[redirect]`: the eIDs without a headless flow that the customer completes in a sandboxed
/// window on this desk, by Signicat provider id (`mitid`, `ftn`, `smartid`, `itsme`, `idin`,
/// `freja`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedirectConfig {
    pub providers: Vec<String>,
    /// Origins a provider's pages move through besides Signicat's (MitID, for instance, hands over
    /// to its own domain), per provider: `[redirect.origins] mitid = ["https://mitid.dk"]`.
    /// Anything else stays refused in the sandboxed window.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub origins: std::collections::BTreeMap<String, Vec<String>>,
}

/// `[rest]`: the Authentication REST API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestConfig {
    pub base_url: String,
    pub account_id: String,
    pub client_id: String,
    /// Defaults to `{base_url}/auth/open/connect/token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
}

/// `[oidc]`: the legacy OIDC ("inapp") server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    /// The Consent Signature client; without it the profile cannot collect signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_client_id: Option<String>,
    pub redirect_uri: String,
}

/// `[ciba]`: an OpenID Connect CIBA provider (poll mode). The client secret or private key is
/// in the OS keyring (`ciba-client-secret` / `ciba-private-key`), never here.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CibaConfig {
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_auth: ClientAuthMethod,
    /// `private_key_jwt` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_alg: Option<SigningAlg>,
    /// `private_key_jwt` only: the `kid` the provider knows our public key by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// Defaults to `openid profile`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr_values: Option<String>,
    /// Seconds the customer has to answer (1–3600); the provider's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_expiry: Option<u32>,
    /// What staff type: `text` (default), `nin_no` or `pnr_se` (checked like the other methods).
    #[serde(default)]
    pub login_hint_kind: HintKind,
    /// Put in front of the typed value, e.g. `nin:`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_hint_prefix: Option<String>,
    /// `NO` or `SE`: the verified person's country when the provider does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The provider runs CIBA as a phone authentication (Idura's Swedish BankID Phone): staff say
    /// who called whom, sent as `authorization_details` type `phoneAuth`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub phone_auth: bool,
}

/// `[sbid]`: Swedish BankID needs the customer-facing IP of this workstation or branch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SbidConfig {
    pub end_user_ip: String,
}

/// `[[templates]]`: a consent text with `{placeholders}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    pub name: String,
    pub text: String,
}
