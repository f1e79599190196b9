//! Profiles on disk: `{root}/profiles/{name}.toml`, and the active profile's name in
//! `{root}/active-profile`. `root` is `{OS config dir}/id-desk` unless a test says otherwise.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{validate, Profile, ProfileConfig, TRAINING};
use crate::{Error, Result};

const ACTIVE_FILE: &str = "active-profile";

#[derive(Clone, Debug)]
pub struct ProfileStore {
    root: PathBuf,
}

impl ProfileStore {
    /// The store in the OS config dir (`~/.config/id-desk` on Linux).
    pub fn open_default() -> Result<ProfileStore> {
        let base = dirs::config_dir().ok_or_else(|| {
            Error::Io("this system has no configuration directory for ID Desk".to_string())
        })?;
        Ok(ProfileStore::at(base.join("id-desk")))
    }

    /// A store rooted at `root` (tests, `--data-dir`). Nothing is created until the first save.
    pub fn at(root: impl Into<PathBuf>) -> ProfileStore {
        ProfileStore { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn profiles_dir(&self) -> PathBuf {
        self.root.join("profiles")
    }

    /// Where the profile `name` is (or would be) stored.
    pub fn path_of(&self, name: &str) -> Result<PathBuf> {
        validate::name(name)?;
        Ok(self.profiles_dir().join(format!("{name}.toml")))
    }

    /// The names of the stored profiles, sorted. Files that are not `*.toml` are ignored; broken
    /// ones are listed (loading them reports the problem).
    pub fn list(&self) -> Result<Vec<String>> {
        let dir = self.profiles_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(&dir, &e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io_error(&dir, &e))?;
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            if let Some(stem) = file_name.strip_suffix(".toml") {
                if validate::name(stem).is_ok() {
                    names.push(stem.to_string());
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// Loads and validates one profile. A file that does not parse or validate is an error naming
    /// the file (and the field); it is never replaced.
    pub fn load(&self, name: &str) -> Result<Profile> {
        let path = self.path_of(name)?;
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound(format!("profile {name}")))
            }
            Err(e) => return Err(io_error(&path, &e)),
        };
        let profile = load_text(&text, &path)?;
        if profile.name() != name {
            return Err(Error::invalid_config(
                "name",
                format!(
                    "is {:?} but the file is {} (secrets are stored under the name)",
                    profile.name(),
                    path.display()
                ),
            ));
        }
        Ok(profile)
    }

    /// Loads a profile from any file (the CLI's `--profile-file`); errors name the file.
    pub fn load_file(path: &Path) -> Result<Profile> {
        let text = fs::read_to_string(path).map_err(|e| io_error(path, &e))?;
        load_text(&text, path)
    }

    /// Writes the profile atomically (a temporary file in the same directory, flushed to disk,
    /// then renamed over the old one): a crash leaves the old file or the new one, never half.
    pub fn save(&self, profile: &Profile) -> Result<PathBuf> {
        validate::storable_name(profile.name())?;
        let text = toml::to_string(&profile.to_config())
            .map_err(|e| Error::invalid_config("profile", e.to_string()))?;
        let path = self.path_of(profile.name())?;
        write_atomically(&path, text.as_bytes())?;
        Ok(path)
    }

    /// Removes a stored profile; clears the active choice if it was this one.
    pub fn delete(&self, name: &str) -> Result<()> {
        let path = self.path_of(name)?;
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotFound(format!("profile {name}")))
            }
            Err(e) => return Err(io_error(&path, &e)),
        }
        if self.active()?.as_deref() == Some(name) {
            let active = self.root.join(ACTIVE_FILE);
            fs::remove_file(&active).map_err(|e| io_error(&active, &e))?;
        }
        Ok(())
    }

    /// The active profile's name; `None` when nothing was chosen (the app then uses Training).
    pub fn active(&self) -> Result<Option<String>> {
        let path = self.root.join(ACTIVE_FILE);
        match fs::read_to_string(&path) {
            Ok(t) => {
                let name = t.trim();
                if name.is_empty() {
                    return Ok(None);
                }
                validate::name(name).map_err(|_| {
                    Error::invalid_config(
                        "active-profile",
                        format!("{} does not hold a profile name", path.display()),
                    )
                })?;
                Ok(Some(name.to_string()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&path, &e)),
        }
    }

    /// Makes `name` the active profile: a stored one, or `training`.
    pub fn set_active(&self, name: &str) -> Result<()> {
        validate::name(name)?;
        if name != TRAINING && !self.path_of(name)?.exists() {
            return Err(Error::NotFound(format!("profile {name}")));
        }
        write_atomically(&self.root.join(ACTIVE_FILE), format!("{name}\n").as_bytes())
    }
}

/// Parses and validates a profile file's text; errors name `path`.
fn load_text(text: &str, path: &Path) -> Result<Profile> {
    let config: ProfileConfig = toml::from_str(text).map_err(|e| {
        Error::invalid_config(
            path.display().to_string(),
            format!("is not a valid profile file: {}", e.message()),
        )
    })?;
    Profile::validate(&config).map_err(|e| match e {
        Error::InvalidConfig { field, reason } => {
            Error::invalid_config(field, format!("{reason} (in {})", path.display()))
        }
        other => other,
    })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::Io(format!("{} has no parent directory", path.display())))?;
    crate::private_fs::private_dir(dir)?;
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("profile");
    let tmp = dir.join(format!(
        ".{file_name}.{}.{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_error(path, &e));
    }
    Ok(())
}

fn io_error(path: &Path, e: &std::io::Error) -> Error {
    Error::Io(format!("{}: {e}", path.display()))
}
