//! API secrets. They live only in the OS keyring (macOS Keychain, Windows Credential Manager,
//! Linux Secret Service; `keyring` 3 with those backends compiled in) and, while a flow needs them,
//! in memory as `SecretString`. There is no file fallback and keyring's mock store is never
//! selected: when no keyring is reachable, storing and reading fail with `KeyringUnavailable`.
//!
//! The keyring calls block (D-Bus on Linux): call them from `spawn_blocking` in async code.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

mod platform_entry;
use platform_entry::entry;

/// The keyring service every entry is stored under.
pub const SERVICE: &str = "id-desk";

/// A secret value in memory. Never `Serialize`, and `Debug`/`Display` redact, so it cannot reach a
/// log line, an error message or a command result by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }
    /// The only way to read the value: for building a request, nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Wiped from memory when dropped (each clone wipes its own copy), so a secret does not linger in
/// freed heap pages after the flow that needed it (review finding M-8).
impl Drop for SecretString {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The secrets a profile can have, one keyring entry each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretName {
    /// Client credentials for the Authentication REST API.
    RestClientSecret,
    /// The legacy OIDC authentication client.
    OidcClientSecret,
    /// The legacy OIDC Consent Signature client.
    SignClientSecret,
    /// The CIBA client, `client_auth = "client_secret_basic"`.
    CibaClientSecret,
    /// The CIBA client's PEM private key, `client_auth = "private_key_jwt"`.
    CibaPrivateKey,
    /// The password of the central archive's database user (`[archive]`).
    ArchivePassword,
}

impl SecretName {
    pub const ALL: [SecretName; 6] = [
        SecretName::RestClientSecret,
        SecretName::OidcClientSecret,
        SecretName::SignClientSecret,
        SecretName::CibaClientSecret,
        SecretName::CibaPrivateKey,
        SecretName::ArchivePassword,
    ];

    /// The client secrets Signicat (or the simulator) knows about.
    pub const SIGNICAT: [SecretName; 4] = [
        SecretName::RestClientSecret,
        SecretName::OidcClientSecret,
        SecretName::SignClientSecret,
        SecretName::CibaClientSecret,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SecretName::RestClientSecret => "rest-client-secret",
            SecretName::OidcClientSecret => "oidc-client-secret",
            SecretName::SignClientSecret => "sign-client-secret",
            SecretName::CibaClientSecret => "ciba-client-secret",
            SecretName::CibaPrivateKey => "ciba-private-key",
            SecretName::ArchivePassword => "archive-password",
        }
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SecretName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        SecretName::ALL
            .into_iter()
            .find(|n| n.as_str() == s.trim())
            .ok_or_else(|| {
                Error::invalid_input(
                    "name",
                    "must be rest-client-secret, oidc-client-secret, sign-client-secret, ciba-client-secret, ciba-private-key or archive-password",
                )
            })
    }
}

/// The OS keyring, one entry per profile and secret: service `id-desk`, user `{profile}:{name}`.
#[derive(Clone, Debug)]
pub struct Secrets {
    service: String,
}

impl Default for Secrets {
    fn default() -> Self {
        Secrets::new()
    }
}

impl Secrets {
    pub fn new() -> Self {
        Secrets {
            service: SERVICE.to_string(),
        }
    }

    /// Stores (or replaces) a secret. An empty value is refused.
    pub fn set(&self, profile: &str, name: SecretName, value: &SecretString) -> Result<()> {
        if value.expose().trim().is_empty() {
            return Err(Error::invalid_input(name.as_str(), "is empty"));
        }
        self.entry(profile, name)?
            .set_password(value.expose())
            .map_err(|e| map_error(e, name.as_str()))?;
        tracing::info!(
            profile,
            secret = name.as_str(),
            "secret stored in the OS keyring"
        );
        Ok(())
    }

    /// Whether the secret is stored. A keyring that cannot be reached is an error, not `false`.
    pub fn is_stored(&self, profile: &str, name: SecretName) -> Result<bool> {
        match self.get(profile, name) {
            Ok(_) => Ok(true),
            Err(Error::SecretMissing(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes the secret; `Ok(false)` if there was none.
    pub fn delete(&self, profile: &str, name: SecretName) -> Result<bool> {
        self.delete_binding(profile, name)?;
        match self.entry(profile, name)?.delete_credential() {
            Ok(()) => {
                tracing::info!(
                    profile,
                    secret = name.as_str(),
                    "secret deleted from the OS keyring"
                );
                Ok(true)
            }
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_error(e, name.as_str())),
        }
    }

    /// The secret's value, for the engine only: no command hands it to the window or the CLI.
    pub fn get(&self, profile: &str, name: SecretName) -> Result<SecretString> {
        self.entry(profile, name)?
            .get_password()
            .map(SecretString)
            .map_err(|e| map_error(e, name.as_str()))
    }

    /// An entry the desk keeps for itself (the vault key, `vault-key:{tag}`), not a profile's
    /// secret. `None` when there is none.
    pub(crate) fn get_raw(&self, account: &str) -> Result<Option<SecretString>> {
        let entry = entry(&self.service, account).map_err(|e| map_error(e, account))?;
        match entry.get_password() {
            Ok(v) => Ok(Some(SecretString(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e, account)),
        }
    }

    pub(crate) fn set_raw(&self, account: &str, value: &SecretString) -> Result<()> {
        entry(&self.service, account)
            .and_then(|e| e.set_password(value.expose()))
            .map_err(|e| map_error(e, account))
    }

    pub(crate) fn location_raw(&self, account: &str) -> String {
        format!("{} / {account}", self.service)
    }

    /// The host `name` was stored for (`{profile}:{name}@host`), if it was bound.
    pub fn bound_host(&self, profile: &str, name: SecretName) -> Result<Option<String>> {
        self.entry(profile, name)?;
        Ok(self
            .get_raw(&format!("{profile}:{}@host", name.as_str()))?
            .map(|h| h.expose().to_string()))
    }

    /// Binds `name` to `host`: the desk sends it nowhere else.
    pub fn bind_host(&self, profile: &str, name: SecretName, host: &str) -> Result<()> {
        self.entry(profile, name)?;
        self.set_raw(
            &format!("{profile}:{}@host", name.as_str()),
            &SecretString::new(host),
        )
    }

    /// Forgets where `name` was bound (a new value binds again at its first use).
    pub fn delete_binding(&self, profile: &str, name: SecretName) -> Result<()> {
        match entry(&self.service, &format!("{profile}:{}@host", name.as_str()))
            .and_then(|e| e.delete_credential())
        {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_error(e, name.as_str())),
        }
    }

    /// Where a secret is stored, for messages: `id-desk / {profile}:{name}`.
    pub fn location(&self, profile: &str, name: SecretName) -> String {
        format!("{} / {profile}:{name}", self.service)
    }

    fn entry(&self, profile: &str, name: SecretName) -> Result<keyring::Entry> {
        if profile.is_empty() || profile.contains(':') || profile.chars().any(char::is_control) {
            return Err(Error::invalid_input(
                "profile",
                "a profile name must be non-empty, without ':' or control characters",
            ));
        }
        entry(&self.service, &format!("{profile}:{}", name.as_str()))
            .map_err(|e| map_error(e, name.as_str()))
    }
}

/// Keyring errors in plain words. The platform's own message is kept for support (it never
/// carries the secret: keyring reports attributes and D-Bus/OS errors only).
fn map_error(e: keyring::Error, name: &str) -> Error {
    match e {
        keyring::Error::NoEntry => Error::SecretMissing(name.to_string()),
        keyring::Error::PlatformFailure(cause) => {
            let hint = if cfg!(target_os = "linux") {
                ". A Secret Service such as GNOME Keyring must be running and unlocked"
            } else {
                ""
            };
            Error::KeyringUnavailable(format!(
                "the system keyring could not be reached ({cause}){hint}"
            ))
        }
        keyring::Error::NoStorageAccess(cause) => Error::KeyringUnavailable(format!(
            "the system keyring refused access; it may be locked ({cause})"
        )),
        keyring::Error::BadEncoding(_) => Error::Keyring(format!(
            "the stored {name} is not valid text; store it again"
        )),
        keyring::Error::Ambiguous(items) => Error::Keyring(format!(
            "{} keyring entries match {name}; delete them and store it again",
            items.len()
        )),
        other => Error::Keyring(other.to_string()),
    }
}

/// Whether two bindings (space-separated host sets, see `Profile::secret_host`) name the same
/// hosts. A binding from before the host sets is one host, and still matches a profile whose
/// endpoints all are that host.
fn same_hosts(a: &str, b: &str) -> bool {
    let set = |s: &str| {
        let mut v: Vec<String> = s.split_whitespace().map(str::to_ascii_lowercase).collect();
        v.sort();
        v.dedup();
        v
    };
    set(a) == set(b)
}

/// Where the engine takes secrets from: the OS keyring, or (Training mode) the simulator's
/// generated secrets held in memory for this run only.
#[derive(Clone, Debug)]
pub enum SecretSource {
    Keyring(Secrets),
    Memory(Arc<HashMap<SecretName, SecretString>>),
}

impl SecretSource {
    /// The secret, only for the host it was stored for (review finding M-15): a profile edited to
    /// send it elsewhere gets an error naming `field` (the setting that decides where it goes),
    /// never the secret. A secret stored before bindings existed is bound to `host` at its first
    /// use. Training's in-memory secrets belong to its simulator and are not bound.
    pub fn get_for_host(
        &self,
        profile: &str,
        name: SecretName,
        host: Option<&str>,
        field: &str,
    ) -> Result<SecretString> {
        let SecretSource::Keyring(keyring) = self else {
            return self.get(profile, name);
        };
        let secret = keyring.get(profile, name)?;
        let Some(host) = host else {
            return Ok(secret);
        };
        match keyring.bound_host(profile, name)? {
            Some(bound) if same_hosts(&bound, host) => Ok(secret),
            Some(bound) => Err(Error::invalid_config(
                field,
                format!(
                    "{name} was stored for {bound}; this profile would send it, or what it buys, \
                     to {host}. If the change is intended, store the secret again"
                ),
            )),
            None => {
                keyring.bind_host(profile, name, host)?;
                tracing::info!(
                    profile,
                    secret = name.as_str(),
                    host,
                    "secret bound to its host"
                );
                Ok(secret)
            }
        }
    }

    pub fn memory(secrets: impl IntoIterator<Item = (SecretName, SecretString)>) -> Self {
        SecretSource::Memory(Arc::new(secrets.into_iter().collect()))
    }

    /// The secret for `profile` (ignored by `Memory`, which serves one profile).
    pub fn get(&self, profile: &str, name: SecretName) -> Result<SecretString> {
        match self {
            SecretSource::Keyring(k) => k.get(profile, name),
            SecretSource::Memory(m) => m
                .get(&name)
                .cloned()
                .ok_or_else(|| Error::SecretMissing(name.as_str().to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_string_redacts() {
        let s = SecretString::new("hunter2");
        assert_eq!(format!("{s:?}"), "SecretString(<redacted>)");
        assert_eq!(format!("{s}"), "<redacted>");
        assert_eq!(s.expose(), "hunter2");
        let src = SecretSource::memory([(SecretName::RestClientSecret, s)]);
        assert!(!format!("{src:?}").contains("hunter2"));
    }

    #[test]
    fn names_are_kebab_case() {
        for n in SecretName::ALL {
            assert_eq!(n.as_str().parse::<SecretName>().unwrap(), n);
            assert_eq!(
                serde_json::to_string(&n).unwrap(),
                format!("\"{}\"", n.as_str())
            );
        }
        assert_eq!(SecretName::RestClientSecret.as_str(), "rest-client-secret");
        assert_eq!(
            "client-secret".parse::<SecretName>().unwrap_err().field(),
            Some("name")
        );
    }

    #[test]
    fn memory_source_serves_what_it_holds() {
        let src = SecretSource::memory([(
            SecretName::RestClientSecret,
            SecretString::new("sim-secret"),
        )]);
        assert_eq!(
            src.get("training", SecretName::RestClientSecret)
                .unwrap()
                .expose(),
            "sim-secret"
        );
        assert!(matches!(
            src.get("training", SecretName::SignClientSecret),
            Err(Error::SecretMissing(n)) if n == "sign-client-secret"
        ));
    }

    #[test]
    fn bad_profile_names_are_refused_before_the_keyring() {
        let s = Secrets::new();
        for bad in ["", "a:b", "a\nb"] {
            let e = s.get(bad, SecretName::RestClientSecret).unwrap_err();
            assert_eq!(e.field(), Some("profile"), "{bad:?}");
        }
        let e = s
            .set("p", SecretName::RestClientSecret, &SecretString::new("  "))
            .unwrap_err();
        assert_eq!(e.field(), Some("rest-client-secret"));
    }
}
