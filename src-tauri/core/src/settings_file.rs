//! The desk's small TOML settings files in the config directory (preferences, the customer
//! display's place): a missing file means defaults, a broken one is an error naming the file (the
//! caller decides to fall back), and a write goes through a temporary file and a rename so a crash
//! never leaves half a file.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Error, Result};

pub(crate) fn load<T: DeserializeOwned + Default>(config_dir: &Path, file: &str) -> Result<T> {
    let path = config_dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|e| {
            Error::invalid_config(path.display().to_string(), e.message().to_string())
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn save<T: Serialize>(value: &T, config_dir: &Path, file: &str) -> Result<()> {
    std::fs::create_dir_all(config_dir)?;
    let text = toml::to_string(value).map_err(|e| Error::Io(e.to_string()))?;
    let tmp = config_dir.join(format!("{file}.tmp"));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, config_dir.join(file))?;
    Ok(())
}
