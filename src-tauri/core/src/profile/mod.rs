//! Profiles: one Signicat setup each (issue 6). `ProfileConfig` is the TOML file as written;
//! `Profile` is the checked form the engine uses (URLs parse, HTTPS except on loopback, required
//! ids present, IP parses), with errors naming the field (`rest.base_url`). Secrets are never part
//! of a profile: they live in the OS keyring under the profile's name (`secrets`).

mod archive;
mod config;
mod store;
mod template;
mod validate;

use std::net::IpAddr;

use url::Url;

use crate::ciba::{ClientAuthMethod, HintKind, SigningAlg};
use crate::messages::Lang;
use crate::rest::RedirectProvider;
use crate::Result;

pub use archive::{ArchiveConfig, ArchiveSettings, ArchiveTls};
pub use config::{
    CibaConfig, OidcConfig, ProfileConfig, RedirectConfig, RestConfig, RetentionConfig, SbidConfig,
    SbidPhoneConfig, SignConfig, TemplateConfig,
};
pub use store::{ProfileOrigin, ProfileStore};
pub use template::Template;
pub(crate) use validate::{name as validate_name, retention as validate_retention};

/// The built-in Training profile's name (reserved: no file may use it).
pub const TRAINING: &str = "training";
/// Signicat's Authentication REST API host (test and production accounts alike).
pub const SIGNICAT_API: &str = "https://api.signicat.com";
pub const SIGNICAT_TEST_ISSUER: &str = "https://preprod.signicat.com/oidc";
pub const SIGNICAT_PRODUCTION_ISSUER: &str = "https://id.signicat.com/oidc";

/// A validated profile. Built only by `Profile::validate` (or `Profile::training`), so every value
/// in it has passed the checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    name: String,
    allow_test_identities: bool,
    language: Lang,
    rest: Option<RestSettings>,
    oidc: Option<OidcSettings>,
    sbid: Option<SbidSettings>,
    ciba: Option<CibaSettings>,
    templates: Vec<Template>,
    archive: Option<ArchiveSettings>,
    /// The redirect flow's providers, never empty when present.
    redirect: Vec<RedirectProvider>,
    /// `[redirect.origins]`: per provider, the origins its pages may also load from.
    redirect_origins: std::collections::BTreeMap<String, Vec<Url>>,
    sign: Option<SignSettings>,
    /// `[sbid_phone]`, validated; the defaults when absent.
    sbid_phone: SbidPhoneSettings,
    legacy_methods: bool,
    /// `NO`/`SE` as configured (empty: derived from the language, see [`Profile::countries`]).
    countries: Vec<&'static str>,
    retention: RetentionSettings,
}

/// `[retention]`, validated (each 1 to 36,500 days).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RetentionSettings {
    pub after_archive_days: u32,
    pub without_archive_days: u32,
    pub unsuccessful_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            after_archive_days: 30,
            without_archive_days: 1826,
            unsuccessful_days: 90,
        }
    }
}

/// `[sbid_phone]`, validated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SbidPhoneSettings {
    pub options: crate::rest::protocol::SbidPhoneOptions,
    /// Named intention texts, each a valid [`crate::identity::IntentionText`].
    pub intentions: Vec<Template>,
}

/// `[sign]`, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignSettings {
    pub base_url: Url,
    pub setups: crate::sign::SignSetups,
    pub sender_display_name: Option<String>,
    pub max_document_bytes: usize,
    pub lifetime: std::time::Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestSettings {
    pub base_url: Url,
    /// `token_url` from the file, or `{base_url}/auth/open/connect/token`.
    pub token_url: Url,
    pub account_id: String,
    pub client_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcSettings {
    /// Kept exactly as configured: ID tokens' `iss` is compared with it character for character.
    pub issuer: String,
    pub client_id: String,
    pub sign_client_id: Option<String>,
    pub redirect_uri: Url,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CibaSettings {
    /// Kept exactly as configured, like the OIDC issuer (compared with `iss`).
    pub issuer: String,
    pub client_id: String,
    pub client_auth: ClientAuthMethod,
    pub signing_alg: SigningAlg,
    pub key_id: Option<String>,
    pub scope: String,
    pub acr_values: Option<String>,
    pub requested_expiry: Option<u32>,
    pub login_hint_kind: HintKind,
    pub login_hint_prefix: String,
    pub country: Option<String>,
    pub phone_auth: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SbidSettings {
    pub end_user_ip: IpAddr,
}

/// What the simulator generated for a Training session, besides its URLs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrainingIds {
    pub account_id: String,
    pub rest_client_id: String,
    pub oidc_client_id: String,
    pub sign_client_id: String,
    pub redirect_uri: String,
}

impl Profile {
    /// Checks every field; the first problem is returned with the field's dotted name.
    pub fn validate(config: &ProfileConfig) -> Result<Profile> {
        validate::profile(config)
    }

    /// The Training profile: the in-process simulator at `base_url` (REST) and `issuer` (OIDC),
    /// test identities allowed, Swedish BankID end-user IP 127.0.0.1.
    pub fn training(base_url: &str, issuer: &str, ids: &TrainingIds) -> Result<Profile> {
        Profile::validate(&ProfileConfig {
            name: TRAINING.to_string(),
            allow_test_identities: true,
            language: Lang::En,
            rest: Some(RestConfig {
                base_url: base_url.to_string(),
                account_id: ids.account_id.clone(),
                client_id: ids.rest_client_id.clone(),
                token_url: None,
            }),
            oidc: Some(OidcConfig {
                issuer: issuer.to_string(),
                client_id: ids.oidc_client_id.clone(),
                sign_client_id: Some(ids.sign_client_id.clone()),
                redirect_uri: ids.redirect_uri.clone(),
            }),
            sbid: Some(SbidConfig {
                end_user_ip: "127.0.0.1".to_string(),
            }),
            // The simulator's CIBA speaks to its authentication client; Norwegian personas.
            ciba: Some(CibaConfig {
                issuer: issuer.to_string(),
                client_id: ids.oidc_client_id.clone(),
                login_hint_kind: HintKind::NinNo,
                country: Some("NO".to_string()),
                ..CibaConfig::default()
            }),
            templates: default_templates(),
            archive: None,
            // The simulator's redirect page plays a MitID and an FTN customer.
            redirect: Some(RedirectConfig {
                providers: vec!["mitid".to_string(), "ftn".to_string()],
                origins: Default::default(),
            }),
            // Every signing setup: Swedish BankID Phone, Norwegian BankID PKI and eID links.
            sign: Some(SignConfig {
                setups: vec!["sbid-phone".into(), "nbid-pki".into(), "link".into()],
                link_providers: vec!["mitid".into(), "nbid".into(), "sbid".into()],
                sender_display_name: Some("ID Desk Training".into()),
                ..SignConfig::default()
            }),
            sbid_phone: Some(SbidPhoneConfig {
                extra_control: false,
                return_risk: true,
                intentions: vec![
                    TemplateConfig {
                        name: "Customer service".into(),
                        text: "You are identifying yourself to *ID Desk Training customer service*, on a call you are in now.".into(),
                    },
                    TemplateConfig {
                        name: "Kundtjänst".into(),
                        text: "Du identifierar dig för *ID Desk Trainings kundtjänst* i samtalet du har nu.".into(),
                    },
                ],
            }),
            // Practice on the methods production retired, labelled so.
            legacy_methods: true,
            countries: Vec::new(),
            retention: None,
        })
    }

    /// Back to the editable file form (what `ProfileStore::save` writes).
    pub fn to_config(&self) -> ProfileConfig {
        ProfileConfig {
            name: self.name.clone(),
            allow_test_identities: self.allow_test_identities,
            language: self.language,
            rest: self.rest.as_ref().map(|r| RestConfig {
                base_url: r.base_url.to_string(),
                account_id: r.account_id.clone(),
                client_id: r.client_id.clone(),
                token_url: (validate::derived_token_url(&r.base_url).ok().as_ref()
                    != Some(&r.token_url))
                .then(|| r.token_url.to_string()),
            }),
            oidc: self.oidc.as_ref().map(|o| OidcConfig {
                issuer: o.issuer.clone(),
                client_id: o.client_id.clone(),
                sign_client_id: o.sign_client_id.clone(),
                redirect_uri: o.redirect_uri.to_string(),
            }),
            sbid: self.sbid.as_ref().map(|s| SbidConfig {
                end_user_ip: s.end_user_ip.to_string(),
            }),
            ciba: self.ciba.as_ref().map(|c| CibaConfig {
                issuer: c.issuer.clone(),
                client_id: c.client_id.clone(),
                client_auth: c.client_auth,
                signing_alg: (c.client_auth == ClientAuthMethod::PrivateKeyJwt)
                    .then_some(c.signing_alg),
                key_id: c.key_id.clone(),
                scope: (c.scope != validate::DEFAULT_CIBA_SCOPE).then(|| c.scope.clone()),
                acr_values: c.acr_values.clone(),
                requested_expiry: c.requested_expiry,
                login_hint_kind: c.login_hint_kind,
                login_hint_prefix: (!c.login_hint_prefix.is_empty())
                    .then(|| c.login_hint_prefix.clone()),
                country: c.country.clone(),
                phone_auth: c.phone_auth,
            }),
            templates: self
                .templates
                .iter()
                .map(|t| TemplateConfig {
                    name: t.name.clone(),
                    text: t.text.clone(),
                })
                .collect(),
            archive: self.archive.as_ref().map(ArchiveSettings::to_config),
            redirect: (!self.redirect.is_empty()).then(|| RedirectConfig {
                providers: self.redirect.iter().map(|p| p.id().to_string()).collect(),
                origins: self
                    .redirect_origins
                    .iter()
                    .map(|(p, urls)| {
                        (
                            p.clone(),
                            urls.iter()
                                .map(|u| u.as_str().trim_end_matches('/').to_string())
                                .collect(),
                        )
                    })
                    .collect(),
            }),
            sign: self.sign.as_ref().map(|s| SignConfig {
                base_url: Some(s.base_url.to_string()),
                setups: [
                    (s.setups.sbid_phone, "sbid-phone"),
                    (s.setups.nbid_pki, "nbid-pki"),
                    (!s.setups.link_providers.is_empty(), "link"),
                ]
                .into_iter()
                .filter(|(on, _)| *on)
                .map(|(_, id)| id.to_string())
                .collect(),
                link_providers: s.setups.link_providers.clone(),
                sender_display_name: s.sender_display_name.clone(),
                max_document_bytes: Some(s.max_document_bytes),
                due_minutes: u32::try_from(s.lifetime.as_secs() / 60).ok(),
            }),
            sbid_phone: (self.sbid_phone != SbidPhoneSettings::default()).then(|| {
                SbidPhoneConfig {
                    extra_control: self.sbid_phone.options.extra_control,
                    return_risk: self.sbid_phone.options.return_risk,
                    intentions: self
                        .sbid_phone
                        .intentions
                        .iter()
                        .map(|t| TemplateConfig {
                            name: t.name.clone(),
                            text: t.text.clone(),
                        })
                        .collect(),
                }
            }),
            legacy_methods: self.legacy_methods,
            countries: self.countries.iter().map(|c| c.to_string()).collect(),
            retention: (self.retention != RetentionSettings::default()).then_some(
                RetentionConfig {
                    after_archive_days: Some(self.retention.after_archive_days),
                    without_archive_days: Some(self.retention.without_archive_days),
                    unsuccessful_days: Some(self.retention.unsuccessful_days),
                },
            ),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn allow_test_identities(&self) -> bool {
        self.allow_test_identities
    }
    pub fn language(&self) -> Lang {
        self.language
    }
    /// `None` when the profile has no `[rest]` section (REST flows unavailable).
    pub fn rest(&self) -> Option<&RestSettings> {
        self.rest.as_ref()
    }
    /// `None` when the profile has no `[oidc]` section (legacy OIDC flows unavailable).
    pub fn oidc(&self) -> Option<&OidcSettings> {
        self.oidc.as_ref()
    }
    /// `None` when the profile has no `[sbid]` section (Swedish BankID unavailable).
    pub fn sbid(&self) -> Option<&SbidSettings> {
        self.sbid.as_ref()
    }
    /// `None` when the profile has no `[ciba]` section (CIBA unavailable).
    pub fn ciba(&self) -> Option<&CibaSettings> {
        self.ciba.as_ref()
    }
    /// Where the bearer token the REST client secret buys is sent, with the setting naming each:
    /// the REST API and, when the profile signs with Sign API v2, that API (review N-2).
    pub fn bearer_endpoints(&self) -> Vec<(&'static str, &Url)> {
        let Some(rest) = self.rest() else {
            return Vec::new();
        };
        let mut out = vec![("rest.base_url", &rest.base_url)];
        if let Some(sign) = self.sign() {
            out.push(("sign.base_url", &sign.base_url));
        }
        out
    }

    /// Where a secret, or what it buys, is sent: the hosts its keyring entry is bound to (review
    /// findings M-15 and N-2), sorted and space-separated. The REST client secret goes to the
    /// token endpoint and its tokens to the REST and Sign APIs, so it is bound to all three; the
    /// OIDC and sign secrets to the issuer, the CIBA secret or key to its issuer, the archive
    /// password to the archive. `None` when the profile has no such section.
    pub fn secret_host(&self, name: crate::secrets::SecretName) -> Option<String> {
        use crate::secrets::SecretName as N;
        let host_of = |u: &str| {
            Url::parse(u)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
        };
        match name {
            N::RestClientSecret => {
                let token = self.rest()?.token_url.host_str()?.to_ascii_lowercase();
                let mut hosts: Vec<String> = self
                    .bearer_endpoints()
                    .into_iter()
                    .filter_map(|(_, u)| u.host_str().map(str::to_ascii_lowercase))
                    .chain([token])
                    .collect();
                hosts.sort();
                hosts.dedup();
                Some(hosts.join(" "))
            }
            N::OidcClientSecret | N::SignClientSecret => {
                self.oidc().and_then(|o| host_of(&o.issuer))
            }
            N::CibaClientSecret | N::CibaPrivateKey => self.ciba().and_then(|c| host_of(&c.issuer)),
            N::ArchivePassword => self.archive().map(|a| a.host().to_string()),
        }
    }

    /// `None` when the profile has no `[archive]` section (transactions stay in the local vault).
    pub fn archive(&self) -> Option<&ArchiveSettings> {
        self.archive.as_ref()
    }
    /// The eIDs offered through the redirect flow (empty without a `[redirect]` section).
    pub fn redirect_providers(&self) -> &[RedirectProvider] {
        &self.redirect
    }
    /// Every origin `[redirect.origins]` allows for any of the profile's providers (the sandboxed
    /// window loads these besides Signicat's own).
    pub fn redirect_origins(&self) -> Vec<Url> {
        self.redirect_origins.values().flatten().cloned().collect()
    }
    /// `None` when the profile has no `[sign]` section (Sign API v2 signing unavailable).
    pub fn sign(&self) -> Option<&SignSettings> {
        self.sign.as_ref()
    }
    pub fn sbid_phone(&self) -> &SbidPhoneSettings {
        &self.sbid_phone
    }
    /// The countries this desk serves, first first.
    pub fn countries(&self) -> Vec<&'static str> {
        match (self.countries.is_empty(), self.language) {
            (false, _) => self.countries.clone(),
            (true, Lang::Sv) => vec!["SE", "NO"],
            (true, _) => vec!["NO", "SE"],
        }
    }
    /// Whether retired methods are offered (labelled as retired).
    pub fn legacy_methods(&self) -> bool {
        self.legacy_methods
    }
    /// `[retention]`, or the defaults.
    pub fn retention(&self) -> RetentionSettings {
        self.retention
    }
    pub fn templates(&self) -> &[Template] {
        &self.templates
    }
    pub fn template(&self, name: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.name == name)
    }
    pub fn is_training(&self) -> bool {
        self.name == TRAINING
    }

    /// The same profile keeping its data for `retention` days (the IT department's policy).
    pub(crate) fn with_retention(mut self, retention: RetentionSettings) -> Profile {
        self.retention = retention;
        self
    }

    /// The same profile offering these Sign API v2 settings (`None`: no signing).
    pub(crate) fn with_sign(mut self, sign: Option<SignSettings>) -> Profile {
        self.sign = sign;
        self
    }
}

impl ProfileConfig {
    /// Preset: Signicat's test environment. The account and client ids are the customer's own and
    /// left empty for Settings to fill; the result does not validate until they are.
    pub fn signicat_test(name: &str) -> ProfileConfig {
        preset(name, SIGNICAT_TEST_ISSUER, true)
    }

    /// Preset: Signicat production. Test identities are refused.
    pub fn signicat_production(name: &str) -> ProfileConfig {
        preset(name, SIGNICAT_PRODUCTION_ISSUER, false)
    }
}

fn preset(name: &str, issuer: &str, allow_test_identities: bool) -> ProfileConfig {
    ProfileConfig {
        name: name.to_string(),
        allow_test_identities,
        language: Lang::En,
        rest: Some(RestConfig {
            base_url: SIGNICAT_API.to_string(),
            ..RestConfig::default()
        }),
        oidc: Some(OidcConfig {
            issuer: issuer.to_string(),
            ..OidcConfig::default()
        }),
        sbid: None,
        ciba: None,
        templates: default_templates(),
        archive: None,
        redirect: None,
        sign: None,
        sbid_phone: None,
        legacy_methods: false,
        countries: Vec::new(),
        retention: None,
    }
}

fn default_templates() -> Vec<TemplateConfig> {
    vec![TemplateConfig {
        name: "Purchase".to_string(),
        text: "I confirm that I buy {product} for {price}.".to_string(),
    }]
}

#[cfg(test)]
mod tests;
