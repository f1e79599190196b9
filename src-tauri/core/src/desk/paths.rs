//! Where the desk keeps its files. Profiles and preferences in the OS config dir, the evidence
//! vault and the logs in the OS *local* data dir. Never a secret in any of them.
//!
//! | | Linux | Windows |
//! |---|---|---|
//! | profiles, preferences | `~/.config/id-desk` | `%APPDATA%\ID Desk` (roams with the user) |
//! | vault, instance locks | `~/.local/share/id-desk` | `%LOCALAPPDATA%\ID Desk` (this PC only) |
//! | logs | `~/.local/share/id-desk/logs` | `%LOCALAPPDATA%\ID Desk\logs` |
//!
//! The vault is local because its key is (review findings N-7, M-17): the Windows keyring entry
//! is kept on this machine only, so a vault that roamed to another PC would arrive without the
//! key that opens it. On Linux and macOS the local and roaming data dirs are the same directory,
//! and no Windows desk has ever kept a vault in the roaming one, so nothing moves.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The directory name under each OS directory: Windows users read folder names in Explorer.
const APP_DIR: &str = if cfg!(windows) { "ID Desk" } else { "id-desk" };

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskPaths {
    /// `profiles/*.toml`, `preferences.toml`.
    pub config_dir: PathBuf,
    /// The evidence vault (SQLite + `sdo/`).
    pub data_dir: PathBuf,
    /// Rotating log files.
    pub log_dir: PathBuf,
    /// The IT department's `policy.toml` and managed `profiles/` (read-only; see
    /// [`crate::policy::system_dir`]).
    pub system_dir: PathBuf,
}

impl DeskPaths {
    /// The name under which one running desk answers for these directories (the single-instance
    /// lock): `{app_id}.d{8 hex}` from the data directory. Two starts by the same user find each
    /// other, so a screen-pop link reaches the desk already open; a desk with other directories
    /// (another configuration, each end-to-end test) is a desk of its own.
    pub fn instance_id(&self, app_id: &str) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.data_dir.to_string_lossy().as_bytes());
        let tag: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        format!("{app_id}.d{tag}")
    }

    /// The operating system's conventional directories (XDG on Linux, known folders on
    /// Windows).
    pub fn from_os() -> Result<Self> {
        let missing = |what: &str| {
            Error::invalid_config(what, "the operating system reports no such directory")
        };
        let config = dirs::config_dir().ok_or_else(|| missing("config_dir"))?;
        let local = dirs::data_local_dir().ok_or_else(|| missing("data_local_dir"))?;
        Ok(DeskPaths {
            config_dir: config.join(APP_DIR),
            data_dir: local.join(APP_DIR),
            log_dir: local.join(APP_DIR).join("logs"),
            system_dir: crate::policy::system_dir(),
        })
    }

    /// Where the export folder picker starts: the user's Downloads folder, else home, else the
    /// data dir.
    pub fn export_dir(&self) -> PathBuf {
        dirs::download_dir()
            .filter(|d| d.is_dir())
            .or_else(dirs::home_dir)
            .unwrap_or_else(|| self.data_dir.clone())
    }

    /// Everything under one directory (`--data-dir`, tests). The IT department's policy still
    /// applies: it is not the user's to move.
    pub fn under(root: &Path) -> Self {
        DeskPaths {
            config_dir: root.join("config"),
            data_dir: root.join("data"),
            log_dir: root.join("logs"),
            system_dir: crate::policy::system_dir(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_instance_id_per_data_directory_and_a_valid_dbus_name() {
        let a = DeskPaths::under(Path::new("/home/agent"));
        let b = DeskPaths::under(Path::new("/tmp/e2e-1"));
        let id = a.instance_id("no.iddesk.desk");
        assert_eq!(id, a.instance_id("no.iddesk.desk"));
        assert_ne!(id, b.instance_id("no.iddesk.desk"));
        // D-Bus: dot-separated elements of [A-Za-z0-9_-], none starting with a digit.
        let last = id.rsplit('.').next().unwrap();
        assert!(last.starts_with('d') && last.len() == 9, "{id}");
    }

    #[test]
    fn the_vault_is_in_the_local_data_dir_and_the_profiles_in_the_config_dir() {
        let p = DeskPaths::from_os().unwrap();
        let local = dirs::data_local_dir().unwrap();
        assert!(p.data_dir.starts_with(&local), "{}", p.data_dir.display());
        assert!(
            p.log_dir.starts_with(&p.data_dir),
            "{}",
            p.log_dir.display()
        );
        assert!(p.config_dir.starts_with(dirs::config_dir().unwrap()));
        if cfg!(windows) {
            // %LOCALAPPDATA%\ID Desk, %APPDATA%\ID Desk: not the roaming profile for the vault.
            assert!(p.data_dir.ends_with("ID Desk"), "{}", p.data_dir.display());
            assert!(!p.data_dir.starts_with(dirs::data_dir().unwrap()));
        }
    }
}
