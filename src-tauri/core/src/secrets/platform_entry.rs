//! The keyring entry a secret lives in, per platform (issue 23, item 7).
//!
//! Windows: keyring 3 writes Credential Manager entries with enterprise persistence, which roams
//! with the user's profile to every PC they log on to; a branch's API secret must stay on the
//! branch PC. There, entries are written with local-machine persistence through the keyring
//! project's own Windows store (`windows-native-keyring-store`, same target names as keyring 3,
//! so secrets stored earlier are found), and an entry an earlier version wrote roaming is written
//! again, local, the first time it is read. Elsewhere keyring 3's backends as they are (Linux:
//! Secret Service only; macOS: the login Keychain, which does not sync).

/// The entry for `account` under `service`.
pub(super) fn entry(service: &str, account: &str) -> keyring::Result<keyring::Entry> {
    #[cfg(windows)]
    {
        windows_local::entry(service, account)
    }
    #[cfg(not(windows))]
    {
        keyring::Entry::new(service, account)
    }
}

#[cfg(windows)]
mod windows_local {
    use std::collections::HashMap;

    use keyring::credential::CredentialApi;
    use keyring_core::api::CredentialStoreApi;
    use zeroize::Zeroize;

    pub(super) fn entry(service: &str, account: &str) -> keyring::Result<keyring::Entry> {
        let store = windows_native_keyring_store::Store::new().map_err(to_keyring)?;
        let local = HashMap::from([("persistence", "local")]);
        let inner = store
            .build(service, account, Some(&local))
            .map_err(to_keyring)?;
        Ok(keyring::Entry::new_with_credential(Box::new(LocalMachine(
            inner,
        ))))
    }

    /// A keyring 3 credential over a Credential Manager entry persisted on this machine only.
    struct LocalMachine(keyring_core::Entry);

    impl LocalMachine {
        /// An entry written roaming (by an earlier version) is written again, the same bytes,
        /// local to this machine. Failing that, it is still read: the secret is not lost.
        fn stop_roaming(&self) {
            let roams = self
                .0
                .get_attributes()
                .map(|a| a.get("persistence").map(String::as_str) != Some("Local"))
                .unwrap_or(false);
            if !roams {
                return;
            }
            if let Ok(mut raw) = self.0.get_secret() {
                match self.0.set_secret(&raw) {
                    Ok(()) => {
                        tracing::info!("keyring entry now kept on this PC only (was roaming)")
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "keyring entry still roams: could not rewrite it")
                    }
                }
                raw.zeroize();
            }
        }
    }

    impl CredentialApi for LocalMachine {
        fn set_password(&self, password: &str) -> keyring::Result<()> {
            self.0.set_password(password).map_err(to_keyring)
        }
        fn set_secret(&self, secret: &[u8]) -> keyring::Result<()> {
            self.0.set_secret(secret).map_err(to_keyring)
        }
        fn get_password(&self) -> keyring::Result<String> {
            let value = self.0.get_password().map_err(to_keyring)?;
            self.stop_roaming();
            Ok(value)
        }
        fn get_secret(&self) -> keyring::Result<Vec<u8>> {
            let value = self.0.get_secret().map_err(to_keyring)?;
            self.stop_roaming();
            Ok(value)
        }
        fn delete_credential(&self) -> keyring::Result<()> {
            self.0.delete_credential().map_err(to_keyring)
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
        fn debug_fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("LocalMachine(Windows Credential Manager)")
        }
    }

    fn to_keyring(e: keyring_core::Error) -> keyring::Error {
        match e {
            keyring_core::Error::NoEntry => keyring::Error::NoEntry,
            keyring_core::Error::PlatformFailure(cause) => keyring::Error::PlatformFailure(cause),
            keyring_core::Error::NoStorageAccess(cause) => keyring::Error::NoStorageAccess(cause),
            keyring_core::Error::BadEncoding(bytes) => keyring::Error::BadEncoding(bytes),
            keyring_core::Error::TooLong(name, limit) => keyring::Error::TooLong(name, limit),
            keyring_core::Error::Invalid(name, why) => keyring::Error::Invalid(name, why),
            other => keyring::Error::PlatformFailure(Box::new(other)),
        }
    }
}

/// Issue 23, item 7, on Windows or under Wine (whose Credential Manager keeps each credential's
/// persistence; `make test-windows`): a secret stored now is local to this machine, never
/// roaming; one an earlier version stored roaming (keyring 3's enterprise persistence) is read
/// unchanged and rewritten local; passwords keep keyring 3's UTF-16 encoding; missing and
/// deleted entries are `NoEntry`.
#[cfg(all(test, windows))]
#[allow(clippy::unwrap_used)]
mod windows_tests {
    use keyring_core::api::CredentialStoreApi;

    const SERVICE: &str = "id-desk-test";

    fn persistence(account: &str) -> String {
        let store = windows_native_keyring_store::Store::new().unwrap();
        let entry = store.build(SERVICE, account, None).unwrap();
        entry.get_attributes().unwrap()["persistence"].clone()
    }

    #[test]
    fn secrets_stay_on_this_pc_and_roaming_ones_are_brought_home() {
        let tag = std::process::id();
        let new = format!("check-{tag}:rest-client-secret");
        let e = super::entry(SERVICE, &new).unwrap();
        e.set_password("s3cret-æøå").unwrap();
        assert_eq!(e.get_password().unwrap(), "s3cret-æøå");
        assert_eq!(persistence(&new), "Local", "stored now: this PC only");

        let old_account = format!("check-{tag}:old-secret");
        let old = keyring::Entry::new(SERVICE, &old_account).unwrap();
        old.set_password("older-ø").unwrap();
        assert_eq!(persistence(&old_account), "Enterprise", "keyring 3 roams");
        let now = super::entry(SERVICE, &old_account).unwrap();
        assert_eq!(now.get_password().unwrap(), "older-ø");
        assert_eq!(
            persistence(&old_account),
            "Local",
            "rewritten at first read"
        );
        assert_eq!(old.get_password().unwrap(), "older-ø", "same target name");

        let none = super::entry(SERVICE, &format!("check-{tag}:none")).unwrap();
        assert!(matches!(none.get_password(), Err(keyring::Error::NoEntry)));
        e.delete_credential().unwrap();
        assert!(matches!(e.get_password(), Err(keyring::Error::NoEntry)));
        now.delete_credential().unwrap();
    }
}
