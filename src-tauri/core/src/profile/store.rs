//! Profiles on disk: `{root}/profiles/{name}.toml`, and the active profile's name in
//! `{root}/active-profile`. `root` is `{OS config dir}/id-desk` unless a test says otherwise.
//!
//! Managed profiles (issue 24) are the IT department's, in `{system dir}/profiles/{name}.toml`
//! (see `crate::policy::system_dir`). They are read-only here: saving or deleting one is refused,
//! and a user file of the same name is ignored (listed as shadowed), so nobody can replace IT's
//! profile with their own by giving it the same name.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{validate, Profile, ProfileConfig, TRAINING};
use crate::{Error, Result};

const ACTIVE_FILE: &str = "active-profile";

/// Who a stored profile belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileOrigin {
    /// The user's own, in their config directory.
    User,
    /// The IT department's, in the system directory: read-only.
    Managed,
}

#[derive(Clone, Debug)]
pub struct ProfileStore {
    root: PathBuf,
    /// `{system dir}/profiles`, when the desk reads managed profiles.
    managed: Option<PathBuf>,
}

impl ProfileStore {
    /// A store rooted at `root` (tests, `--data-dir`). Nothing is created until the first save.
    pub fn at(root: impl Into<PathBuf>) -> ProfileStore {
        ProfileStore {
            root: root.into(),
            managed: None,
        }
    }

    /// Also reads the IT department's profiles from `{system_dir}/profiles`.
    pub fn with_managed(mut self, system_dir: &Path) -> ProfileStore {
        self.managed = Some(system_dir.join("profiles"));
        self
    }

    /// `{system dir}/profiles` when the desk reads managed profiles and it is IT's alone (it
    /// and the system directory above it; see [`crate::managed_trust`]). A directory someone
    /// else could have written is an error, never a silent "no managed profiles".
    fn managed_dir(&self) -> Result<Option<&Path>> {
        let Some(dir) = self.managed.as_deref() else {
            return Ok(None);
        };
        match dir.parent() {
            Some(system_dir) => crate::managed_trust::check_in(system_dir, dir)?,
            None => crate::managed_trust::check(dir)?,
        }
        Ok(Some(dir))
    }

    /// The managed file for `name`, when IT ships one (checked like its directory).
    fn managed_file(&self, name: &str) -> Result<Option<PathBuf>> {
        validate::name(name)?;
        let Some(dir) = self.managed_dir()? else {
            return Ok(None);
        };
        let file = dir.join(format!("{name}.toml"));
        if !file.is_file() {
            return Ok(None);
        }
        crate::managed_trust::check(&file)?;
        Ok(Some(file))
    }

    /// Whether `name` is a stored profile, and whose.
    pub fn origin(&self, name: &str) -> Result<Option<ProfileOrigin>> {
        if self.managed_file(name)?.is_some() {
            return Ok(Some(ProfileOrigin::Managed));
        }
        Ok(self.path_of(name)?.is_file().then_some(ProfileOrigin::User))
    }

    /// Refuses to change a profile IT manages, naming it.
    fn refuse_managed(&self, name: &str) -> Result<()> {
        match self.managed_file(name)? {
            Some(path) => Err(Error::NotAllowed {
                field: "profile".into(),
                reason: format!(
                    "profile {name} is managed by your IT department ({}) and cannot be changed \
                     or deleted here",
                    path.display()
                ),
            }),
            None => Ok(()),
        }
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

    /// The names of the stored profiles, managed and the user's, sorted. Files that are not
    /// `*.toml` are ignored; broken ones are listed (loading them reports the problem).
    pub fn list(&self) -> Result<Vec<String>> {
        let mut names = names_in(&self.profiles_dir())?;
        if let Some(dir) = self.managed_dir()? {
            names.extend(names_in(dir)?);
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// The user's files that a managed profile of the same name hides (they are never loaded).
    pub fn shadowed(&self) -> Result<Vec<String>> {
        let Some(dir) = self.managed_dir()? else {
            return Ok(Vec::new());
        };
        let managed = names_in(dir)?;
        Ok(names_in(&self.profiles_dir())?
            .into_iter()
            .filter(|n| managed.contains(n))
            .collect())
    }

    /// Loads and validates one profile (IT's when it manages one of this name). A file that does
    /// not parse or validate is an error naming the file (and the field); it is never replaced.
    pub fn load(&self, name: &str) -> Result<Profile> {
        let path = match self.managed_file(name)? {
            Some(managed) => managed,
            None => self.path_of(name)?,
        };
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
        self.refuse_managed(profile.name())?;
        let text = toml::to_string(&profile.to_config())
            .map_err(|e| Error::invalid_config("profile", e.to_string()))?;
        let path = self.path_of(profile.name())?;
        write_atomically(&path, text.as_bytes())?;
        Ok(path)
    }

    /// Removes a stored profile; clears the active choice if it was this one.
    pub fn delete(&self, name: &str) -> Result<()> {
        self.refuse_managed(name)?;
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
        if name != TRAINING && self.origin(name)?.is_none() {
            return Err(Error::NotFound(format!("profile {name}")));
        }
        write_atomically(&self.root.join(ACTIVE_FILE), format!("{name}\n").as_bytes())
    }
}

/// The profile names of the `*.toml` files in `dir`, unsorted; none when it does not exist.
fn names_in(dir: &Path) -> Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(dir, &e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, &e))?;
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
    Ok(names)
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
