//! Whether a file the desk takes for the IT department's really is (review finding N-1): the
//! system directory, its `policy.toml`, its `profiles/` and each managed profile must be owned by
//! an administrator and changeable by no one else. Anything else is refused, naming the path and
//! why, and the desk does not open (fails closed, like a policy that does not parse): a policy or
//! profile planted by a user would otherwise be obeyed and shown as IT's.
//!
//! - Unix: owned by root, and neither group nor others may write.
//! - Windows: owned by SYSTEM, Administrators or TrustedInstaller, and no access-control entry
//!   lets anyone else change it (`id_desk_windows::managed_violation`). The per-machine
//!   installer creates `%ProgramData%\ID Desk` that way (`id-desk-cli system-dir protect`);
//!   `C:\ProgramData` itself lets every user create folders, so a folder a user made first is
//!   owned by that user and refused.
//!
//! Debug builds with `IDDESK_SYSTEM_DIR` (the test suites) also trust the account running them,
//! so tests need no root; release builds never read that variable.

use std::path::Path;

use crate::{Error, Result};

/// `Ok` when `path` is IT's alone, or does not exist (nothing to trust then). Errors name it.
pub fn check(path: &Path) -> Result<()> {
    check_trusting_self(path, tests_trust_themselves())
}

fn check_trusting_self(path: &Path, trust_self: bool) -> Result<()> {
    let why = match violation(path, trust_self) {
        Ok(None) => return Ok(()),
        Ok(Some(why)) => why,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => format!("its owner and access cannot be read ({e})"),
    };
    tracing::error!(path = %path.display(), reason = %why, "managed configuration refused");
    Err(Error::UntrustedConfig {
        path: path.display().to_string(),
        reason: why,
    })
}

/// Checks `dir` and then `file` inside it (when it exists): a sound file in a folder anyone may
/// change could be swapped at any time.
pub fn check_in(dir: &Path, file: &Path) -> Result<()> {
    check(dir)?;
    check(file)
}

/// One checked path of the system directory, for `id-desk-cli system-dir check`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Checked {
    pub path: String,
    /// `None` when only IT may change it.
    pub refused: Option<String>,
}

/// Every path the desk would trust in `system_dir` (itself, `policy_file`, `profiles/` and each
/// `profiles/*.toml`) that exists, with why it would be refused.
pub fn report(system_dir: &Path, policy_file: &str) -> Vec<Checked> {
    let mut paths = vec![system_dir.to_path_buf(), system_dir.join(policy_file)];
    let profiles = system_dir.join("profiles");
    paths.push(profiles.clone());
    if let Ok(entries) = std::fs::read_dir(&profiles) {
        let mut files: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        paths.extend(files);
    }
    paths
        .into_iter()
        .filter(|p| p.exists())
        .map(|p| Checked {
            refused: check(&p).err().map(|e| match e {
                Error::UntrustedConfig { reason, .. } => reason,
                other => other.to_string(),
            }),
            path: p.display().to_string(),
        })
        .collect()
}

/// Creates `system_dir` and its `profiles/` as IT's alone: on Windows the protected list
/// `id_desk_windows::sddl::MANAGED` (owner Administrators; Users may read), on Unix root-owned
/// 0755. Needs an administrator (the per-machine installer runs it); anyone else gets an error
/// saying so, and nothing is half-done silently.
pub fn protect(system_dir: &Path) -> Result<()> {
    let profiles = system_dir.join("profiles");
    std::fs::create_dir_all(&profiles)
        .map_err(|e| Error::Io(format!("cannot create {}: {e}", profiles.display())))?;
    for dir in [system_dir, profiles.as_path()] {
        protect_one(dir).map_err(|e| {
            Error::Io(format!(
                "cannot give {} to the administrators (run this as an administrator): {e}",
                dir.display()
            ))
        })?;
    }
    check(system_dir)?;
    check(&profiles)
}

#[cfg(unix)]
fn protect_one(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    rustix::fs::chown(dir, Some(rustix::process::Uid::ROOT), None).map_err(std::io::Error::from)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
}

#[cfg(windows)]
fn protect_one(dir: &Path) -> std::io::Result<()> {
    id_desk_windows::protect_managed(dir)
}

#[cfg(not(any(unix, windows)))]
fn protect_one(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The test suites' own account, trusted like an administrator (debug builds only).
fn tests_trust_themselves() -> bool {
    cfg!(debug_assertions) && std::env::var_os("IDDESK_SYSTEM_DIR").is_some_and(|d| !d.is_empty())
}

#[cfg(unix)]
fn violation(path: &Path, trust_self: bool) -> std::io::Result<Option<String>> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    let me = rustix::process::geteuid().as_raw();
    let trusted: &[u32] = if trust_self { &[0, me] } else { &[0] };
    Ok(unix_violation(meta.uid(), meta.mode(), trusted))
}

/// The Unix rule on an owner and a mode.
#[cfg(any(unix, test))]
fn unix_violation(uid: u32, mode: u32, trusted: &[u32]) -> Option<String> {
    if !trusted.contains(&uid) {
        return Some(format!("it is owned by uid {uid}, not by root"));
    }
    if mode & 0o002 != 0 {
        Some("every user may change it (mode o+w)".into())
    } else if mode & 0o020 != 0 {
        Some("its group may change it (mode g+w)".into())
    } else {
        None
    }
}

#[cfg(windows)]
fn violation(path: &Path, trust_self: bool) -> std::io::Result<Option<String>> {
    let also = if trust_self {
        Some(id_desk_windows::current_user_sid()?)
    } else {
        None
    };
    id_desk_windows::managed_violation_trusting(path, also.as_deref())
}

#[cfg(not(any(unix, windows)))]
fn violation(_path: &Path, _trust_self: bool) -> std::io::Result<Option<String>> {
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_owned_and_written_by_root_alone_is_trusted() {
        assert_eq!(unix_violation(0, 0o40755, &[0]), None);
        assert_eq!(unix_violation(0, 0o100644, &[0]), None);
        assert_eq!(unix_violation(0, 0o100600, &[0]), None);
    }

    #[test]
    fn another_owner_or_a_group_or_world_write_is_refused_by_name() {
        let why = unix_violation(1000, 0o40755, &[0]).unwrap_or_default();
        assert!(why.contains("uid 1000"), "{why}");
        let why = unix_violation(0, 0o40777, &[0]).unwrap_or_default();
        assert!(why.contains("every user"), "{why}");
        let why = unix_violation(0, 0o40775, &[0]).unwrap_or_default();
        assert!(why.contains("group"), "{why}");
        let why = unix_violation(0, 0o41777, &[0]).unwrap_or_default();
        assert!(why.contains("every user"), "sticky /tmp-like: {why}");
    }

    #[test]
    fn the_tests_own_account_is_trusted_only_when_named() {
        assert_eq!(unix_violation(1000, 0o40700, &[0, 1000]), None);
        assert!(unix_violation(1001, 0o40700, &[0, 1000]).is_some());
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_anyone_may_write_is_refused_with_its_path() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let system = dir.path().join("id-desk");
        std::fs::create_dir(&system).unwrap();
        std::fs::set_permissions(&system, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = check_trusting_self(&system, true).unwrap_err();
        assert_eq!(e.code(), "untrusted_config");
        assert!(e.to_string().contains(&system.display().to_string()), "{e}");
        assert!(e.to_string().contains("every user may change it"), "{e}");
        std::fs::set_permissions(&system, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(check_trusting_self(&system, true).is_ok());
        let missing = dir.path().join("missing");
        assert!(
            check_trusting_self(&missing, false).is_ok(),
            "nothing there, nothing to trust"
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_report_lists_what_exists_and_why_it_would_be_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let system = dir.path().join("id-desk");
        std::fs::create_dir_all(system.join("profiles")).unwrap();
        std::fs::write(system.join("profiles/bank.toml"), "name = \"bank\"\n").unwrap();
        std::fs::write(system.join("profiles/notes.txt"), "").unwrap();
        let file = system.join("profiles/bank.toml");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        let report = report(&system, "policy.toml");
        let paths: Vec<&str> = report.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths.len(), 3, "no policy.toml, no .txt: {paths:?}");
        let bank = report
            .iter()
            .find(|c| c.path.ends_with("bank.toml"))
            .unwrap();
        assert!(bank
            .refused
            .as_deref()
            .unwrap_or_default()
            .contains("every user"));
    }
}
