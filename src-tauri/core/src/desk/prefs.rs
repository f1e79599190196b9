//! Staff preferences: language and theme, in `preferences.toml` next to the profiles.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::messages::Lang;
use crate::Result;

const FILE: &str = "preferences.toml";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Preferences {
    pub lang: Lang,
    pub theme: Theme,
}

impl Preferences {
    /// Missing file: defaults. A broken file is an error (the caller decides to fall back).
    pub fn load(config_dir: &Path) -> Result<Self> {
        crate::settings_file::load(config_dir, FILE)
    }

    pub fn save(&self, config_dir: &Path) -> Result<()> {
        crate::settings_file::save(self, config_dir, FILE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reports_a_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Preferences::load(dir.path()).unwrap(),
            Preferences::default()
        );
        let p = Preferences {
            lang: Lang::Sv,
            theme: Theme::Dark,
        };
        p.save(dir.path()).unwrap();
        assert_eq!(Preferences::load(dir.path()).unwrap(), p);
        std::fs::write(dir.path().join(FILE), "lang = 42").unwrap();
        assert_eq!(
            Preferences::load(dir.path()).unwrap_err().code(),
            "invalid_config"
        );
    }
}
