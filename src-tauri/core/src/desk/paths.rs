//! Where the desk keeps its files. Profiles and preferences in the OS config dir, the evidence
//! vault in the OS data dir, logs in the OS local data dir. Never a secret in any of them.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

const APP_DIR: &str = "id-desk";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskPaths {
    /// `profiles/*.toml`, `preferences.toml`.
    pub config_dir: PathBuf,
    /// The evidence vault (SQLite + `sdo/`).
    pub data_dir: PathBuf,
    /// Rotating log files.
    pub log_dir: PathBuf,
}

impl DeskPaths {
    /// The operating system's conventional directories (XDG on Linux).
    pub fn from_os() -> Result<Self> {
        let missing = |what: &str| {
            Error::invalid_config(what, "the operating system reports no such directory")
        };
        let config = dirs::config_dir().ok_or_else(|| missing("config_dir"))?;
        let data = dirs::data_dir().ok_or_else(|| missing("data_dir"))?;
        let local = dirs::data_local_dir().ok_or_else(|| missing("data_local_dir"))?;
        Ok(DeskPaths {
            config_dir: config.join(APP_DIR),
            data_dir: data.join(APP_DIR),
            log_dir: local.join(APP_DIR).join("logs"),
        })
    }

    /// Where exported evidence goes: the user's Downloads folder, else home, else the data dir.
    pub fn export_dir(&self) -> PathBuf {
        dirs::download_dir()
            .filter(|d| d.is_dir())
            .or_else(dirs::home_dir)
            .unwrap_or_else(|| self.data_dir.clone())
    }

    /// Everything under one directory (`--data-dir`, tests).
    pub fn under(root: &Path) -> Self {
        DeskPaths {
            config_dir: root.join("config"),
            data_dir: root.join("data"),
            log_dir: root.join("logs"),
        }
    }
}
