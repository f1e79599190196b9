//! What a profile decides about flows, as the runner and the request parser read it.

use crate::ciba::HintKind;
use crate::flow::PollConfig;
use crate::messages::Lang;
use crate::rest::protocol::SbidPhoneOptions;
use crate::rest::RedirectProvider;
use crate::sign::SignSetups;
use crate::{Error, Result};

/// Per-profile flow behaviour. The lead maps `Profile` onto this.
#[derive(Debug, Clone, Default)]
pub struct FlowSettings {
    /// Staff language: progress texts and Signicat's `language`.
    pub lang: Lang,
    /// Accept synthetic (+80) Norwegian test numbers: test profiles and Training mode only.
    pub allow_test_identities: bool,
    /// The workstation's public IP, which Swedish BankID requires (`sbid_end_user_ip`).
    pub sbid_end_user_ip: Option<String>,
    pub poll: PollConfig,
    /// CIBA: how staff input becomes the `login_hint` (profile `[ciba]`).
    pub ciba_hint_kind: HintKind,
    pub ciba_hint_prefix: String,
    /// The eIDs this profile offers through the REST redirect flow (profile `[redirect]`).
    pub redirect_providers: Vec<RedirectProvider>,
    /// The Sign API v2 signing setups this profile offers (profile `[sign]`).
    pub sign: SignSetups,
    /// The largest PDF staff may have signed (profile `[sign] max_document_bytes`; `None` is
    /// [`SignConfig::DEFAULT_MAX_DOCUMENT_BYTES`]).
    pub sign_max_document_bytes: Option<usize>,
    /// Offer the methods production retired (profile `legacy_methods`; Training sets it).
    pub legacy_methods: bool,
    /// What every Swedish BankID Phone order asks for besides the identification (profile
    /// `[sbid_phone]`).
    pub sbid_phone: SbidPhoneOptions,
    /// The profile's approved Swedish BankID Phone intention texts (`[[sbid_phone.intentions]]`):
    /// when there are any, only these may be shown to a customer (review N-19). Empty: any text
    /// that is a valid intention.
    pub sbid_phone_intentions: Vec<String>,
    /// The CIBA provider runs CIBA as a phone authentication (profile `[ciba] phone_auth`):
    /// staff say who called whom and it goes out as `authorization_details`.
    pub ciba_phone_auth: bool,
    /// Free disk space a signature needs before it may start; `None` is the rule in
    /// [`FlowSettings::evidence_headroom`]. Tests set it to play a full disk.
    pub evidence_headroom: Option<u64>,
}

impl FlowSettings {
    /// Bytes a signature's evidence may need on disk, with room to spare: 64 MiB, plus four
    /// times the largest document (a signed PDF comes back as PAdES and in a package too).
    pub fn evidence_headroom(&self) -> u64 {
        self.evidence_headroom.unwrap_or_else(|| {
            let doc = self
                .sign_max_document_bytes
                .unwrap_or(crate::sign::SignConfig::DEFAULT_MAX_DOCUMENT_BYTES)
                as u64;
            (64 << 20) + doc.saturating_mul(4)
        })
    }

    pub(crate) fn require_sbid_end_user_ip(&self) -> Result<&str> {
        self.sbid_end_user_ip
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Error::invalid_config(
                    "sbid_end_user_ip",
                    "Swedish BankID needs this workstation's public IP address in the profile",
                )
            })
    }
}
