//! The OS keyring, for real: set, read back, replace, delete, is_stored, persistence across
//! processes, and a clear error when no keyring is reachable. On Linux these tests need a session
//! bus with an unlocked Secret Service; without one they FAIL and say how to run them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use id_desk_core::secrets::{SecretName, SecretString, Secrets};
use id_desk_core::Error;

const HOW_TO_RUN: &str = "these tests need a real OS keyring. On Linux run them inside a D-Bus \
session with an unlocked GNOME Keyring (XDG_DATA_HOME and XDG_RUNTIME_DIR pointing at a temp dir):
  keyctl session - dbus-run-session -- bash -c \"echo '' | gnome-keyring-daemon --unlock --components=secrets >/dev/null && cargo test -p id-desk-core --test secrets\"
or run `make test`, which does this for the whole workspace.";

/// The real keyring, or a failing test that says how to get one.
fn keyring() -> Secrets {
    if cfg!(target_os = "linux") && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        panic!("DBUS_SESSION_BUS_ADDRESS is not set: {HOW_TO_RUN}");
    }
    let secrets = Secrets::new();
    if let Err(e) = secrets.is_stored("id-desk-test-probe", SecretName::RestClientSecret) {
        panic!("the keyring is not usable ({e}): {HOW_TO_RUN}");
    }
    secrets
}

/// A profile name no other test (or person) uses; its entries are deleted when dropped.
struct TestProfile {
    name: String,
    secrets: Secrets,
}

impl TestProfile {
    fn new(secrets: &Secrets) -> Self {
        TestProfile {
            name: format!("test-{}", uuid::Uuid::new_v4()),
            secrets: secrets.clone(),
        }
    }
}

impl Drop for TestProfile {
    fn drop(&mut self) {
        for n in SecretName::ALL {
            let _ = self.secrets.delete(&self.name, n);
        }
    }
}

#[test]
fn set_read_back_replace_and_delete() {
    let secrets = keyring();
    let p = TestProfile::new(&secrets);
    let name = SecretName::RestClientSecret;

    assert!(!secrets.is_stored(&p.name, name).unwrap());
    assert!(matches!(
        secrets.get(&p.name, name),
        Err(Error::SecretMissing(n)) if n == "rest-client-secret"
    ));

    secrets
        .set(&p.name, name, &SecretString::new("first-välue-✓"))
        .unwrap();
    assert!(secrets.is_stored(&p.name, name).unwrap());
    assert_eq!(
        secrets.get(&p.name, name).unwrap().expose(),
        "first-välue-✓"
    );

    secrets
        .set(&p.name, name, &SecretString::new("second"))
        .unwrap();
    assert_eq!(secrets.get(&p.name, name).unwrap().expose(), "second");

    assert!(secrets.delete(&p.name, name).unwrap());
    assert!(!secrets.is_stored(&p.name, name).unwrap());
    let e = secrets.get(&p.name, name).unwrap_err();
    assert_eq!(e.code(), "secret_missing");
    assert!(
        !secrets.delete(&p.name, name).unwrap(),
        "second delete finds nothing"
    );
}

#[test]
fn entries_are_per_profile_and_per_name() {
    let secrets = keyring();
    let a = TestProfile::new(&secrets);
    let b = TestProfile::new(&secrets);
    secrets
        .set(
            &a.name,
            SecretName::RestClientSecret,
            &SecretString::new("a-rest"),
        )
        .unwrap();
    secrets
        .set(
            &a.name,
            SecretName::SignClientSecret,
            &SecretString::new("a-sign"),
        )
        .unwrap();
    secrets
        .set(
            &b.name,
            SecretName::RestClientSecret,
            &SecretString::new("b-rest"),
        )
        .unwrap();
    assert_eq!(
        secrets
            .get(&a.name, SecretName::RestClientSecret)
            .unwrap()
            .expose(),
        "a-rest"
    );
    assert_eq!(
        secrets
            .get(&a.name, SecretName::SignClientSecret)
            .unwrap()
            .expose(),
        "a-sign"
    );
    assert_eq!(
        secrets
            .get(&b.name, SecretName::RestClientSecret)
            .unwrap()
            .expose(),
        "b-rest"
    );
    assert!(!secrets
        .is_stored(&a.name, SecretName::OidcClientSecret)
        .unwrap());
    assert!(!secrets
        .is_stored(&b.name, SecretName::SignClientSecret)
        .unwrap());
    secrets
        .delete(&a.name, SecretName::RestClientSecret)
        .unwrap();
    assert!(secrets
        .is_stored(&b.name, SecretName::RestClientSecret)
        .unwrap());
}

/// keyring's mock store keeps nothing beyond one `Entry`, and nothing survives a process in
/// memory: another process reading the value back proves it is in the OS keyring.
#[test]
fn a_stored_secret_is_readable_from_another_process() {
    let secrets = keyring();
    let p = TestProfile::new(&secrets);
    let value = format!("cross-process-{}", uuid::Uuid::new_v4());
    secrets
        .set(
            &p.name,
            SecretName::OidcClientSecret,
            &SecretString::new(value.clone()),
        )
        .unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_reads_a_secret",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("IDDESK_TEST_CHILD_PROFILE", &p.name)
        .env("IDDESK_TEST_CHILD_EXPECT", &value)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("CHILD-READ-OK"), "{stdout}");
}

/// Run by `a_stored_secret_is_readable_from_another_process` in a separate process.
#[test]
#[ignore = "helper: run by a_stored_secret_is_readable_from_another_process"]
fn child_reads_a_secret() {
    let (Ok(profile), Ok(expect)) = (
        std::env::var("IDDESK_TEST_CHILD_PROFILE"),
        std::env::var("IDDESK_TEST_CHILD_EXPECT"),
    ) else {
        println!("helper test: nothing to do outside its parent");
        return;
    };
    let got = Secrets::new()
        .get(&profile, SecretName::OidcClientSecret)
        .unwrap();
    assert_eq!(got.expose(), expect);
    println!("CHILD-READ-OK");
}

/// With the session bus pointing at a dead socket there is no Secret Service: every operation
/// must fail with `keyring_unavailable` (never succeed into a file or a mock, never claim the
/// secret is merely missing).
#[cfg(target_os = "linux")]
#[test]
fn no_reachable_keyring_is_a_clear_error() {
    let dead = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_without_a_keyring",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus-here", dead.path().display()),
        )
        .env("IDDESK_TEST_CHILD_DEAD_BUS", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("CHILD-UNAVAILABLE-OK"), "{stdout}");
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "helper: run by no_reachable_keyring_is_a_clear_error"]
fn child_without_a_keyring() {
    if std::env::var_os("IDDESK_TEST_CHILD_DEAD_BUS").is_none() {
        println!("helper test: nothing to do outside its parent");
        return;
    }
    let secrets = Secrets::new();
    let value = "never-stored-anywhere";
    let name = SecretName::RestClientSecret;
    let results = [
        secrets
            .set("dead", name, &SecretString::new(value))
            .map(|_| ()),
        secrets.get("dead", name).map(|_| ()),
        secrets.is_stored("dead", name).map(|_| ()),
        secrets.delete("dead", name).map(|_| ()),
    ];
    for r in results {
        let e = r.unwrap_err();
        assert_eq!(e.code(), "keyring_unavailable", "{e}");
        let text = e.to_string();
        assert!(text.starts_with("no OS keyring is available"), "{text}");
        assert!(!text.contains(value));
        println!("{text}");
    }
    println!("CHILD-UNAVAILABLE-OK");
}
