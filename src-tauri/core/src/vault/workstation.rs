//! Who did what (issue 24): every transaction records the operating-system user who ran it, this
//! PC's host name, the branch label (from the IT department's policy, once there is one) and the
//! app version, in the vault and in the central archive. Read from the OS once, when the vault
//! opens; never from the window, which could claim anything.

use serde::{Deserialize, Serialize};

/// The desk and the person at it, as the OS knows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workstation {
    /// The OS account: the passwd entry of this process's uid (NSS, so LDAP and AD users too), the
    /// Windows account name on Windows; the environment and then the uid only when the OS
    /// answers nothing.
    pub os_user: Option<String>,
    /// This PC's host name.
    pub host: Option<String>,
    /// The branch label from policy; `None` until policy sets it.
    pub branch: Option<String>,
    /// This build's version.
    pub app_version: String,
}

impl Workstation {
    /// The current process's user and host.
    pub fn current() -> Self {
        Workstation {
            os_user: os_user(),
            host: host_name(),
            branch: None,
            app_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// A label fit for a row and a filter: trimmed, printable, at most 128 characters.
fn label(raw: &str) -> Option<String> {
    let clean: String = raw
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(128)
        .collect();
    (!clean.is_empty()).then_some(clean)
}

/// From the OS, not the environment first: `USER` is unset under systemd services and `sudo -i`
/// and anybody may set it, and the row names who did what (review, issue 33 item 10).
fn os_user() -> Option<String> {
    whoami::username()
        .ok()
        .as_deref()
        .and_then(label)
        .or_else(|| {
            let names: &[&str] = if cfg!(windows) {
                &["USERNAME"]
            } else {
                &["USER", "LOGNAME"]
            };
            names
                .iter()
                .find_map(|n| std::env::var(n).ok().as_deref().and_then(label))
        })
        .or_else(uid)
}

#[cfg(unix)]
fn uid() -> Option<String> {
    Some(format!("uid {}", rustix::process::getuid().as_raw()))
}

#[cfg(not(unix))]
fn uid() -> Option<String> {
    None
}

fn host_name() -> Option<String> {
    whoami::hostname().ok().as_deref().and_then(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_trimmed_printable_and_bounded() {
        assert_eq!(label("  kari \n"), Some("kari".into()));
        assert_eq!(label("a\u{7}b"), Some("ab".into()));
        assert_eq!(label("   "), None);
        assert_eq!(label(&"x".repeat(500)).map(|l| l.len()), Some(128));
    }

    #[test]
    fn this_process_has_a_user_a_host_and_a_version() {
        let ws = Workstation::current();
        assert!(ws.os_user.is_some_and(|u| !u.is_empty()));
        assert!(ws.host.is_some_and(|h| !h.is_empty()));
        assert_eq!(ws.app_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(ws.branch, None);
    }

    #[cfg(unix)]
    #[test]
    fn the_user_is_the_passwd_entry_not_the_environment() {
        // The test process's own uid has a passwd entry on every machine the suite runs on
        // (root in CI containers, the developer's account elsewhere).
        let ws = Workstation::current();
        let user = ws.os_user.unwrap_or_default();
        assert!(!user.starts_with("uid "), "{user}");
        assert_eq!(Some(user), whoami::username().ok());
    }
}
