//! The IT department's policy (issue 24): `policy.toml` in the system configuration directory
//! (`/etc/id-desk` on Linux, `%ProgramData%\ID Desk` on Windows, `/Library/Application
//! Support/ID Desk` on macOS), beside the managed profiles. It narrows what a desk may do; it never
//! widens a profile. Policy wins over the profile and the user's own choices, and the window says
//! so wherever it applies.
//!
//! A missing file is no policy. A file that does not parse, or names a key or value this build
//! does not know, is an error naming the file and the key: the desk then refuses to open rather
//! than run without the policy IT meant (fails closed, like a broken active profile).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::flow::Method;
use crate::profile::{Profile, RetentionConfig, RetentionSettings};
use crate::runner::RawFlowInput;
use crate::{Error, Result};

/// The policy file's name in the system configuration directory.
pub const FILE: &str = "policy.toml";

/// The file as IT writes it. Every key is optional; an unknown key is refused by name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// The branch or call centre this PC belongs to, recorded on every transaction.
    pub branch: Option<String>,
    /// Whether staff may open Training (the built-in simulator). Default: allowed.
    pub training: Option<bool>,
    /// The profile a desk opens while its user has chosen none (instead of Training).
    pub default_profile: Option<String>,
    /// Whether a real (non-Training) flow needs the profile to have an `[archive]`. Default: no.
    pub archive_required: Option<bool>,
    /// Whether staff may open the customer display. Default: allowed.
    pub customer_display: Option<bool>,
    /// The methods staff may start (`sbid_qr`, `nbid_safe_conversation`, ...). Default: all the
    /// profile offers.
    pub methods: Option<Vec<String>>,
    /// The Sign API v2 setups staff may use (`sbid-phone`, `nbid-pki`, `link`). Default: all the
    /// profile offers.
    pub sign_setups: Option<Vec<String>>,
    /// Retention in days, replacing every profile's `[retention]`.
    pub retention: Option<RetentionConfig>,
    /// The log file's format: `text` (default) or `json` (JSON lines for a log collector).
    pub log_format: Option<crate::logging::LogFormat>,
    /// Whether staff may use profiles of their own (their config directory, `--profile-file`).
    /// Default: allowed. `false` leaves the managed profiles (and Training, if allowed).
    pub user_profiles: Option<bool>,
    /// Hosts a profile may send the bank's access token to besides the token host's own
    /// registrable domain (`rest.base_url`, `sign.base_url`; review N-2).
    pub allowed_hosts: Option<Vec<String>>,
    /// `[network]`: the certificates and the proxy, pinned against the user's environment.
    pub network: Option<NetworkConfig>,
}

/// `[network]` (review N-18).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// `os` (default): the OS store and what `SSL_CERT_FILE`/`SSL_CERT_DIR` add. `pinned`: the
    /// built-in web roots and `ca_files` only.
    pub trust: Option<String>,
    /// With `pinned`: PEM files of the bank's CAs (a TLS-inspecting proxy's too), relative to
    /// the system directory, where only IT can write.
    pub ca_files: Option<Vec<String>>,
    /// `direct`, `system`, or `http://proxy.example:8080`: in place of `HTTPS_PROXY`.
    pub proxy: Option<String>,
}

/// The checked policy. `Policy::default()` is "no policy": everything the profile offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// The file it came from; `None` when there is none.
    pub file: Option<PathBuf>,
    pub branch: Option<String>,
    pub training: bool,
    pub default_profile: Option<String>,
    pub archive_required: bool,
    pub customer_display: bool,
    /// `None`: every method.
    pub methods: Option<Vec<Method>>,
    /// `None`: every setup. Names as in a profile's `[sign] setups`.
    pub sign_setups: Option<Vec<SignSetup>>,
    pub retention: Option<RetentionSettings>,
    /// `None`: as `IDDESK_LOG_FORMAT` says, else text.
    pub log_format: Option<crate::logging::LogFormat>,
    pub user_profiles: bool,
    /// Lower-case host names (see [`PolicyConfig::allowed_hosts`]).
    pub allowed_hosts: Vec<String>,
    pub network: crate::net::NetworkRules,
}

/// Where a profile came from, for the rules that depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provenance {
    /// Built in, played by the simulator on loopback.
    Training,
    /// IT's, in the system directory.
    Managed,
    /// The user's own, in their config directory.
    User,
    /// A file named on the command line (`--profile-file`).
    File,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            file: None,
            branch: None,
            training: true,
            default_profile: None,
            archive_required: false,
            customer_display: true,
            methods: None,
            sign_setups: None,
            retention: None,
            log_format: None,
            user_profiles: true,
            allowed_hosts: Vec::new(),
            network: crate::net::NetworkRules::default(),
        }
    }
}

/// A Sign API v2 signing setup, as profiles and policy name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum SignSetup {
    #[serde(rename = "sbid-phone")]
    SbidPhone,
    #[serde(rename = "nbid-pki")]
    NbidPki,
    #[serde(rename = "link")]
    Link,
}

impl SignSetup {
    const ALL: [SignSetup; 3] = [SignSetup::SbidPhone, SignSetup::NbidPki, SignSetup::Link];

    pub fn as_str(self) -> &'static str {
        match self {
            SignSetup::SbidPhone => "sbid-phone",
            SignSetup::NbidPki => "nbid-pki",
            SignSetup::Link => "link",
        }
    }

    pub fn parse(s: &str) -> Option<SignSetup> {
        SignSetup::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A list of names (`methods`, `sign_setups`), each parsed; an unknown one is refused naming its
/// place (`methods[2]`). `None` stays `None`: no restriction.
fn names<T>(
    list: &Option<Vec<String>>,
    key: &str,
    parse: impl Fn(&str) -> Option<T>,
    what: &str,
) -> Result<Option<Vec<T>>> {
    list.as_ref()
        .map(|list| {
            list.iter()
                .enumerate()
                .map(|(i, name)| {
                    parse(name).ok_or_else(|| {
                        Error::invalid_config(
                            format!("{key}[{i}]"),
                            format!("{name:?} is not {what}"),
                        )
                    })
                })
                .collect()
        })
        .transpose()
}

/// Whether `a` and `b` are one site: the same host, or the same registrable domain by the public
/// suffix list (`api.signicat.com` and `id.signicat.com`; never `bank-a.co.uk` and
/// `bank-b.co.uk`). An IP address or a name without a registrable domain (`localhost`) is its
/// own site only.
pub fn same_site(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    let (a, b) = (a.trim_end_matches('.'), b.trim_end_matches('.'));
    if a == b {
        return true;
    }
    let is_ip = |h: &str| {
        h.trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok()
    };
    if is_ip(a) || is_ip(b) {
        return false;
    }
    match (psl::domain_str(a), psl::domain_str(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// `[network]`, checked: CA files are plain relative paths inside the system directory, and a
/// proxy carries no password (policy files are no place for secrets).
fn network(c: Option<&NetworkConfig>, file: &Path) -> Result<crate::net::NetworkRules> {
    use crate::net::{NetworkRules, ProxyRule};
    let Some(c) = c else {
        return Ok(NetworkRules::default());
    };
    let dir = file.parent().unwrap_or(Path::new("."));
    let pinned = match c.trust.as_deref().map(str::trim) {
        None | Some("os") => false,
        Some("pinned") => true,
        Some(other) => {
            return Err(Error::invalid_config(
                "network.trust",
                format!("{other:?} is not os or pinned"),
            ))
        }
    };
    let files = c.ca_files.as_deref().unwrap_or_default();
    if !pinned && !files.is_empty() {
        return Err(Error::invalid_config(
            "network.ca_files",
            "is only read with trust = \"pinned\" (the OS store takes the bank's CA otherwise)",
        ));
    }
    let mut ca_files = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let rel = Path::new(f.trim());
        let plain = !f.trim().is_empty()
            && rel
                .components()
                .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain {
            return Err(Error::invalid_config(
                format!("network.ca_files[{i}]"),
                format!(
                    "{f:?} must be a path inside the system directory ({})",
                    dir.display()
                ),
            ));
        }
        ca_files.push(dir.join(rel));
    }
    let proxy = match c.proxy.as_deref().map(str::trim) {
        None => None,
        Some("direct") => Some(ProxyRule::Direct),
        Some("system") => Some(ProxyRule::System),
        Some(raw) => {
            // Credentials are refused before anything else, and the value is never echoed: it
            // may be one.
            let parsed = url::Url::parse(raw).ok();
            if parsed
                .as_ref()
                .is_some_and(|u| !u.username().is_empty() || u.password().is_some())
            {
                return Err(Error::invalid_config(
                    "network.proxy",
                    "must not carry a user name or password (a policy file is readable by \
                     every user; the proxy should authenticate the PC or its user by other \
                     means)",
                ));
            }
            match parsed {
                Some(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
                    Some(ProxyRule::Url(raw.to_string()))
                }
                _ => {
                    return Err(Error::invalid_config(
                        "network.proxy",
                        "is not direct, system, or an http(s) proxy URL such as \
                         http://proxy.bank.example:8080",
                    ))
                }
            }
        }
    };
    Ok(NetworkRules {
        pinned_ca_files: pinned.then_some(ca_files),
        proxy,
    })
}

/// What the window and the CLI say about a refusal, so staff know it is not a fault.
const BY_POLICY: &str = "is turned off by your IT department's policy";

impl Policy {
    /// Reads `{system_dir}/policy.toml`; no file is no policy.
    pub fn load(system_dir: &Path) -> Result<Policy> {
        let path = system_dir.join(FILE);
        crate::managed_trust::check_in(system_dir, &path)?;
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Policy::default()),
            Err(e) => return Err(Error::Io(format!("{}: {e}", path.display()))),
        };
        let config: PolicyConfig = toml::from_str(&text).map_err(|e| {
            Error::invalid_config(
                path.display().to_string(),
                format!("is not a valid policy file: {}", e.message()),
            )
        })?;
        let policy = Policy::validate(&config, &path).map_err(|e| match e {
            Error::InvalidConfig { field, reason } => Error::invalid_config(
                format!("policy.{field}"),
                format!("{reason} (in {})", path.display()),
            ),
            other => other,
        })?;
        // A CA file is trusted as the policy is: only if only IT can change it.
        for file in policy.network.pinned_ca_files.iter().flatten() {
            crate::managed_trust::check_in(system_dir, file)?;
        }
        Ok(policy)
    }

    /// Checks every value; errors name the key (`methods[2]`).
    pub fn validate(c: &PolicyConfig, file: &Path) -> Result<Policy> {
        let branch = match c.branch.as_deref().map(str::trim) {
            None => None,
            Some("") => return Err(Error::invalid_config("branch", "must not be empty")),
            Some(b) if b.chars().count() > 128 || b.chars().any(char::is_control) => {
                return Err(Error::invalid_config(
                    "branch",
                    "must be at most 128 printable characters",
                ))
            }
            Some(b) => Some(b.to_string()),
        };
        let methods = names(
            &c.methods,
            "methods",
            Method::parse,
            "a method ID Desk knows",
        )?;
        let sign_setups = names(
            &c.sign_setups,
            "sign_setups",
            SignSetup::parse,
            "a signing setup (sbid-phone, nbid-pki, link)",
        )?;
        let default_profile = c
            .default_profile
            .as_deref()
            .map(|n| {
                crate::profile::validate_name(n)
                    .map(|()| n.to_string())
                    .map_err(|_| {
                        Error::invalid_config(
                            "default_profile",
                            format!("{n:?} is not a profile name"),
                        )
                    })
            })
            .transpose()?;
        let retention = c
            .retention
            .as_ref()
            .map(|r| crate::profile::validate_retention(Some(r)))
            .transpose()?;
        let allowed_hosts = c
            .allowed_hosts
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, h)| {
                let host = h.trim().to_ascii_lowercase();
                let plain = !host.is_empty()
                    && host.len() <= 253
                    && host
                        .chars()
                        .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '.');
                if plain {
                    Ok(host)
                } else {
                    Err(Error::invalid_config(
                        format!("allowed_hosts[{i}]"),
                        format!("{h:?} is not a host name (no scheme, port or path)"),
                    ))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Policy {
            file: Some(file.to_path_buf()),
            branch,
            training: c.training.unwrap_or(true),
            default_profile,
            archive_required: c.archive_required.unwrap_or(false),
            customer_display: c.customer_display.unwrap_or(true),
            methods,
            sign_setups,
            retention,
            log_format: c.log_format,
            user_profiles: c.user_profiles.unwrap_or(true),
            allowed_hosts,
            network: network(c.network.as_ref(), file)?,
        })
    }

    /// `profile`, loaded from `provenance`, if this policy lets staff use it at all, then as it
    /// lets them use it ([`Policy::restrict`]). Refused, naming the setting: a user's profile
    /// under `user_profiles = false`, and a profile that would send the bank's access token
    /// outside the token host's registrable domain and `allowed_hosts` (review N-2). Every
    /// profile the desk runs with comes through here.
    pub fn admit(&self, profile: Profile, provenance: Provenance) -> Result<Profile> {
        if !self.user_profiles && matches!(provenance, Provenance::User | Provenance::File) {
            return Err(Error::NotAllowed {
                field: "profile".into(),
                reason: format!(
                    "profile {} is not one your IT department manages, and its policy allows \
                     only those (user_profiles)",
                    profile.name()
                ),
            });
        }
        if provenance != Provenance::Training {
            self.check_token_destinations(&profile)?;
        }
        let own = matches!(provenance, Provenance::User | Provenance::File);
        if own
            && self.network.pinned_ca_files.is_some()
            && matches!(
                profile.archive().map(|a| a.tls()),
                Some(crate::profile::ArchiveTls::Required { ca_file: Some(_) })
            )
        {
            return Err(Error::NotAllowed {
                field: "archive.ca_file".into(),
                reason: "your IT department's policy pins the certificates this desk trusts \
                         (policy.network): a profile of your own cannot add one"
                    .into(),
            });
        }
        Ok(self.restrict(profile))
    }

    /// The REST token is sent to `rest.base_url` and `sign.base_url`: each must be the token
    /// host's own site or named by IT.
    fn check_token_destinations(&self, profile: &Profile) -> Result<()> {
        let Some(anchor) = profile.rest().and_then(|r| r.token_url.host_str()) else {
            return Ok(());
        };
        for (field, url) in profile.bearer_endpoints() {
            let host = url.host_str().unwrap_or_default();
            if same_site(host, anchor)
                || self
                    .allowed_hosts
                    .iter()
                    .any(|h| host.eq_ignore_ascii_case(h))
            {
                continue;
            }
            return Err(Error::invalid_config(
                field,
                format!(
                    "{host} is not on the token host's site ({anchor}): the bank's access token \
                     would go to another party. Use a host under the token host's domain, or ask \
                     IT to list {host} in the policy's allowed_hosts"
                ),
            ));
        }
        Ok(())
    }

    /// `profile` as this policy lets staff use it: the policy's retention in place of the
    /// profile's, and only the signing setups it allows (no `[sign]` at all when none is left).
    /// Methods are checked per request ([`Policy::permits`]).
    pub fn restrict(&self, profile: Profile) -> Profile {
        let profile = match self.retention {
            Some(r) => profile.with_retention(r),
            None => profile,
        };
        let sign = profile.sign().cloned().and_then(|mut sign| {
            let s = &mut sign.setups;
            s.sbid_phone &= self.allows_setup(SignSetup::SbidPhone);
            s.nbid_pki &= self.allows_setup(SignSetup::NbidPki);
            if !self.allows_setup(SignSetup::Link) {
                s.link_providers.clear();
            }
            (s.sbid_phone || s.nbid_pki || !s.link_providers.is_empty()).then_some(sign)
        });
        profile.with_sign(sign)
    }

    /// Whether IT's policy allows `method` (the window hides the others).
    pub fn allows_method(&self, method: Method) -> bool {
        self.methods.as_ref().is_none_or(|m| m.contains(&method))
    }

    pub fn allows_setup(&self, setup: SignSetup) -> bool {
        self.sign_setups.as_ref().is_none_or(|s| s.contains(&setup))
    }

    /// Refuses, naming the field, what staff asked for that policy turns off. Nothing is sent.
    pub fn permits(&self, raw: &RawFlowInput) -> Result<()> {
        if !self.allows_method(raw.method) {
            return Err(Error::NotAllowed {
                field: "method".into(),
                reason: format!("{} {BY_POLICY} (methods)", raw.method.as_str()),
            });
        }
        let setup = match raw.method {
            Method::SignSbidPhone => Some(SignSetup::SbidPhone),
            Method::SignLink => Some(match raw.provider.as_deref().map(str::trim) {
                Some(crate::sign::LinkProvider::NBID_PKI) => SignSetup::NbidPki,
                _ => SignSetup::Link,
            }),
            _ => None,
        };
        if let Some(s) = setup.filter(|s| !self.allows_setup(*s)) {
            let field = if s == SignSetup::SbidPhone {
                "method"
            } else {
                "provider"
            };
            return Err(Error::NotAllowed {
                field: field.into(),
                reason: format!("signing setup {} {BY_POLICY} (sign_setups)", s.as_str()),
            });
        }
        Ok(())
    }

    /// `archive_required`: a real flow needs the profile to ship its evidence somewhere.
    pub fn require_archive(&self, profile: &str, has_archive: bool, training: bool) -> Result<()> {
        if self.archive_required && !training && !has_archive {
            return Err(Error::NotAllowed {
                field: "archive".into(),
                reason: format!(
                    "your IT department's policy requires a central archive before any real \
                     flow, and profile {profile} has no [archive] (archive_required)"
                ),
            });
        }
        Ok(())
    }

    /// `training = false`: Training cannot be opened.
    pub fn require_training_allowed(&self) -> Result<()> {
        if self.training {
            Ok(())
        } else {
            Err(Error::NotAllowed {
                field: "profile".into(),
                reason: format!("Training {BY_POLICY} (training)"),
            })
        }
    }

    /// `customer_display = false`: the customer display stays closed.
    pub fn require_customer_display_allowed(&self) -> Result<()> {
        if self.customer_display {
            Ok(())
        } else {
            Err(Error::NotAllowed {
                field: "customer_display".into(),
                reason: format!("the customer display {BY_POLICY} (customer_display)"),
            })
        }
    }
}

/// The log file's format: the policy's `log_format`, else `IDDESK_LOG_FORMAT`, else text. Read
/// before the desk opens (logging starts first); a policy that cannot be read counts as none here,
/// and the desk then refuses to open with its error.
pub fn log_format(system_dir: &Path) -> crate::logging::LogFormat {
    Policy::load(system_dir)
        .ok()
        .and_then(|p| p.log_format)
        .or_else(crate::logging::LogFormat::from_env)
        .unwrap_or_default()
}

/// The system configuration directory IT manages: `policy.toml` and `profiles/*.toml`.
///
/// Debug builds (the test suites) honour `IDDESK_SYSTEM_DIR` so tests never touch `/etc`; a
/// release build always reads the operating system's place.
pub fn system_dir() -> PathBuf {
    if cfg!(debug_assertions) {
        if let Some(dir) = std::env::var_os("IDDESK_SYSTEM_DIR").filter(|d| !d.is_empty()) {
            return PathBuf::from(dir);
        }
    }
    os_system_dir()
}

#[cfg(target_os = "linux")]
fn os_system_dir() -> PathBuf {
    PathBuf::from("/etc/id-desk")
}

#[cfg(target_os = "macos")]
fn os_system_dir() -> PathBuf {
    PathBuf::from("/Library/Application Support/ID Desk")
}

/// The ProgramData known folder as Windows reports it, never the `ProgramData` environment
/// variable, which any user may set (review finding N-1). Windows always answers; were it not to,
/// the default place is used, and [`crate::managed_trust`] still checks whoever owns it.
#[cfg(windows)]
fn os_system_dir() -> PathBuf {
    id_desk_windows::program_data()
        .unwrap_or_else(|_| PathBuf::from(r"C:\ProgramData"))
        .join("ID Desk")
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn os_system_dir() -> PathBuf {
    PathBuf::from("/etc/id-desk")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Policy> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), text).unwrap();
        Policy::load(dir.path())
    }

    /// Review N-18: `[network]` is read strictly, each mistake named by its key.
    #[test]
    fn network_rules_are_read_strictly() {
        use crate::net::ProxyRule;
        let p = load(
            "[network]\ntrust = \"pinned\"\nca_files = [\"ca/bank.pem\"]\nproxy = \"direct\"\n",
        )
        .unwrap();
        let files = p.network.pinned_ca_files.unwrap();
        assert!(files[0].ends_with("ca/bank.pem"), "{files:?}");
        assert_eq!(p.network.proxy, Some(ProxyRule::Direct));
        let p = load("[network]\nproxy = \"http://proxy.bank.example:8080\"\n").unwrap();
        assert_eq!(
            p.network.pinned_ca_files, None,
            "trust defaults to the OS store"
        );
        assert_eq!(
            p.network.proxy,
            Some(ProxyRule::Url("http://proxy.bank.example:8080".into()))
        );
        for (text, field) in [
            (
                "[network]\ntrust = \"everything\"\n",
                "policy.network.trust",
            ),
            (
                "[network]\nca_files = [\"a.pem\"]\n",
                "policy.network.ca_files",
            ),
            (
                "[network]\ntrust = \"pinned\"\nca_files = [\"../a.pem\"]\n",
                "policy.network.ca_files[0]",
            ),
            (
                "[network]\ntrust = \"pinned\"\nca_files = [\"/etc/ssl/a.pem\"]\n",
                "policy.network.ca_files[0]",
            ),
            (
                "[network]\nproxy = \"http://u:pw@proxy.example\"\n",
                "policy.network.proxy",
            ),
            ("[network]\nproxy = \"socks\"\n", "policy.network.proxy"),
        ] {
            let e = load(text).unwrap_err();
            assert_eq!(e.field(), Some(field), "{text}: {e}");
            assert!(!e.to_string().contains("pw@"), "{e}");
        }
    }

    fn raw(method: Method, provider: Option<&str>) -> RawFlowInput {
        let mut raw = RawFlowInput::new(method);
        raw.provider = provider.map(str::to_string);
        raw
    }

    #[test]
    fn no_file_is_no_policy() {
        let dir = tempfile::tempdir().unwrap();
        let p = Policy::load(dir.path()).unwrap();
        assert_eq!(p, Policy::default());
        assert!(p.permits(&raw(Method::SbidQr, None)).is_ok());
        assert!(p.require_training_allowed().is_ok());
        assert!(p.require_customer_display_allowed().is_ok());
        assert!(p.require_archive("bank", false, false).is_ok());
    }

    #[test]
    fn an_unknown_key_or_value_is_refused_by_name() {
        let e = load("branch = \"Oslo\"\ntraning = false\n").unwrap_err();
        assert_eq!(e.code(), "invalid_config");
        assert!(e.to_string().contains("traning"), "{e}");
        assert!(e.to_string().contains("policy.toml"), "{e}");

        let e = load("methods = [\"sbid_qr\", \"bankid_on_mobile\"]").unwrap_err();
        assert_eq!(e.field(), Some("policy.methods[1]"), "{e}");
        assert!(e.to_string().contains("bankid_on_mobile"), "{e}");

        let e = load("sign_setups = [\"pades\"]").unwrap_err();
        assert_eq!(e.field(), Some("policy.sign_setups[0]"));

        let e = load("[retention]\nafter_archive_days = 0").unwrap_err();
        assert_eq!(e.field(), Some("policy.retention.after_archive_days"));

        let e = load("branch = \"  \"").unwrap_err();
        assert_eq!(e.field(), Some("policy.branch"));

        let e = load("training = \"no\"").unwrap_err();
        assert!(e.to_string().contains("policy.toml"), "{e}");
    }

    #[test]
    fn every_key_narrows_what_the_desk_may_do() {
        let p = load(
            "branch = \" Oslo Storgata \"\ntraining = false\narchive_required = true\n\
             customer_display = false\nmethods = [\"sbid_qr\", \"sign_link\", \"sign_sbid_phone\"]\n\
             sign_setups = [\"nbid-pki\"]\n[retention]\nafter_archive_days = 7\n",
        )
        .unwrap();
        assert_eq!(p.branch.as_deref(), Some("Oslo Storgata"));
        assert_eq!(p.retention.map(|r| r.after_archive_days), Some(7));
        assert_eq!(
            p.retention.map(|r| r.without_archive_days),
            Some(RetentionSettings::default().without_archive_days)
        );

        assert!(p.permits(&raw(Method::SbidQr, None)).is_ok());
        let e = p
            .permits(&raw(Method::NbidSafeConversation, None))
            .unwrap_err();
        assert_eq!(
            (e.code(), e.field()),
            ("not_allowed_by_policy", Some("method"))
        );
        assert!(e.to_string().contains("IT department"), "{e}");

        assert!(p.permits(&raw(Method::SignLink, Some("nbid-pki"))).is_ok());
        let e = p
            .permits(&raw(Method::SignLink, Some("mitid")))
            .unwrap_err();
        assert_eq!(e.field(), Some("provider"));
        let e = p.permits(&raw(Method::SignSbidPhone, None)).unwrap_err();
        assert_eq!(e.field(), Some("method"));
        assert!(e.to_string().contains("sbid-phone"), "{e}");

        assert_eq!(
            p.require_training_allowed().unwrap_err().field(),
            Some("profile")
        );
        assert_eq!(
            p.require_customer_display_allowed().unwrap_err().field(),
            Some("customer_display")
        );
        assert_eq!(
            p.require_archive("bank", false, false).unwrap_err().field(),
            Some("archive")
        );
        assert!(p.require_archive("bank", true, false).is_ok());
        assert!(p.require_archive("training", false, true).is_ok());
    }

    #[test]
    fn the_example_shipped_in_the_packages_is_a_valid_policy() {
        let dir = tempfile::tempdir().unwrap();
        let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../packaging/policy.toml.example");
        std::fs::copy(&example, dir.path().join(FILE)).unwrap();
        let p = Policy::load(dir.path()).unwrap();
        assert!(p.methods.is_some() && p.sign_setups.is_some() && p.retention.is_some());
        assert_eq!(p.log_format, Some(crate::logging::LogFormat::Json));
    }

    #[test]
    fn one_site_is_one_registrable_domain() {
        for (a, b) in [
            ("api.signicat.com", "api.signicat.com"),
            ("api.signicat.com", "ID.Signicat.com."),
            ("bank.sandbox.signicat.com", "api.signicat.com"),
            ("127.0.0.1", "127.0.0.1"),
            ("localhost", "localhost"),
        ] {
            assert!(same_site(a, b), "{a} {b}");
        }
        for (a, b) in [
            ("api.signicat.com", "api.signicat.example"),
            ("signicat.com.evil.example", "api.signicat.com"),
            ("bank-a.co.uk", "bank-b.co.uk"),
            ("127.0.0.1", "localhost"),
            ("127.0.0.1", "127.0.0.2"),
            ("localhost", "evil.localhost"),
        ] {
            assert!(!same_site(a, b), "{a} {b}");
        }
    }

    #[test]
    fn allowed_hosts_are_plain_host_names() {
        let cfg = |hosts: &[&str]| PolicyConfig {
            allowed_hosts: Some(hosts.iter().map(|h| h.to_string()).collect()),
            ..PolicyConfig::default()
        };
        let p = Policy::validate(&cfg(&["Sign.Bank.example "]), Path::new("p")).unwrap();
        assert_eq!(p.allowed_hosts, ["sign.bank.example"]);
        for bad in [
            "https://sign.bank.example",
            "sign.bank.example:443",
            "",
            "a/b",
        ] {
            let e = Policy::validate(&cfg(&["ok.example", bad]), Path::new("p")).unwrap_err();
            assert_eq!(e.field(), Some("allowed_hosts[1]"), "{bad}");
        }
    }

    #[test]
    fn every_method_name_parses_back() {
        for m in Method::ALL {
            assert_eq!(Method::parse(m.as_str()), Some(m));
        }
    }
}
