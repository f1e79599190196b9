//! The customer display's own settings, in `customer-display.toml` next to the preferences: the
//! merchant name it shows and where its window was last (so it reopens on the customer's monitor).
//! Kept apart from `preferences.toml`, which the staff window rewrites as a whole.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

const FILE: &str = "customer-display.toml";
/// Long enough for "Sparebanken Vest, Bryggen branch", short enough for one line in large type.
const MERCHANT_MAX: usize = 60;
/// Smaller than this is not readable from across a counter.
const MIN_WIDTH: u32 = 320;
const MIN_HEIGHT: u32 = 240;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DisplaySettings {
    pub merchant: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
}

/// The window's outer position and inner size in physical pixels (the desktop's coordinates, so
/// the position also says which monitor), and that monitor's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor: Option<String>,
}

/// One monitor as the OS reports it now, in physical pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorArea {
    pub name: Option<String>,
    pub x: i32,
    pub y: i32,
    pub width: u32,
    pub height: u32,
}

impl MonitorArea {
    fn contains(&self, x: i32, y: i32) -> bool {
        let (x, y) = (i64::from(x), i64::from(y));
        let (left, top) = (i64::from(self.x), i64::from(self.y));
        x >= left
            && y >= top
            && x < left + i64::from(self.width)
            && y < top + i64::from(self.height)
    }
}

impl DisplaySettings {
    /// Missing file: defaults. A broken file is an error (the caller falls back to defaults).
    pub fn load(config_dir: &Path) -> Result<Self> {
        crate::settings_file::load(config_dir, FILE)
    }

    pub fn save(&self, config_dir: &Path) -> Result<()> {
        crate::settings_file::save(self, config_dir, FILE)
    }
}

/// The merchant name as typed: trimmed, one line, at most 60 characters; empty shows none.
pub fn merchant(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.chars().any(char::is_control) {
        return Err(Error::invalid_input("merchant", "must be a single line"));
    }
    if name.chars().count() > MERCHANT_MAX {
        return Err(Error::invalid_input(
            "merchant",
            format!("at most {MERCHANT_MAX} characters"),
        ));
    }
    Ok(name.to_string())
}

impl Placement {
    /// The window's place now, naming the monitor its top-left corner is on.
    pub fn at(x: i32, y: i32, width: u32, height: u32, monitors: &[MonitorArea]) -> Placement {
        Placement {
            x,
            y,
            width,
            height,
            monitor: monitors
                .iter()
                .find(|m| m.contains(x, y))
                .and_then(|m| m.name.clone()),
        }
    }

    /// Where to put the window now: the saved place when it is still on a monitor; the saved
    /// monitor's corner when that monitor is still there but the place is not; `None` (the OS
    /// decides) when the monitor has gone. The size never exceeds the monitor it lands on.
    pub fn restore(&self, monitors: &[MonitorArea]) -> Option<Placement> {
        let named = self
            .monitor
            .as_ref()
            .and_then(|n| monitors.iter().find(|m| m.name.as_ref() == Some(n)));
        let on_saved_spot = monitors.iter().find(|m| m.contains(self.x, self.y));
        let (screen, x, y) = match (named, on_saved_spot) {
            (Some(m), Some(spot)) if m == spot => (m, self.x, self.y),
            (Some(m), _) => (m, m.x, m.y),
            (None, Some(spot)) if self.monitor.is_none() => (spot, self.x, self.y),
            _ => return None,
        };
        Some(Placement {
            x,
            y,
            width: self.width.clamp(MIN_WIDTH, screen.width.max(MIN_WIDTH)),
            height: self.height.clamp(MIN_HEIGHT, screen.height.max(MIN_HEIGHT)),
            monitor: screen.name.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monitors() -> Vec<MonitorArea> {
        vec![
            MonitorArea {
                name: Some("DP-1".into()),
                x: 0,
                y: 0,
                width: 1920,
                height: 1080,
            },
            MonitorArea {
                name: Some("HDMI-1".into()),
                x: 1920,
                y: 0,
                width: 1280,
                height: 800,
            },
        ]
    }

    fn at(x: i32, y: i32, monitor: &str) -> Placement {
        Placement {
            x,
            y,
            width: 1000,
            height: 700,
            monitor: Some(monitor.into()),
        }
    }

    #[test]
    fn reopens_where_it_was_on_the_same_monitor() {
        let saved = Placement::at(2000, 40, 1000, 700, &monitors());
        assert_eq!(saved, at(2000, 40, "HDMI-1"));
        assert_eq!(
            at(2000, 40, "HDMI-1").restore(&monitors()),
            Some(at(2000, 40, "HDMI-1"))
        );
    }

    #[test]
    fn moves_to_its_monitors_corner_when_the_layout_changed_and_gives_up_when_it_is_gone() {
        // The customer's monitor is still there but the saved spot is now on the staff monitor.
        let restored = at(100, 100, "HDMI-1").restore(&monitors()).unwrap();
        assert_eq!((restored.x, restored.y), (1920, 0));
        assert_eq!(at(2000, 40, "DP-2").restore(&monitors()), None);
        // Never larger than the monitor it lands on.
        let big = Placement {
            width: 5000,
            height: 5000,
            ..at(1920, 0, "HDMI-1")
        };
        let restored = big.restore(&monitors()).unwrap();
        assert_eq!((restored.width, restored.height), (1280, 800));
    }

    #[test]
    fn settings_round_trip_and_a_broken_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            DisplaySettings::load(dir.path()).unwrap(),
            DisplaySettings::default()
        );
        let s = DisplaySettings {
            merchant: "Sparebanken Vest".into(),
            placement: Some(at(1920, 0, "HDMI-1")),
        };
        s.save(dir.path()).unwrap();
        assert_eq!(DisplaySettings::load(dir.path()).unwrap(), s);
        std::fs::write(dir.path().join(FILE), "merchant = 7").unwrap();
        assert_eq!(
            DisplaySettings::load(dir.path()).unwrap_err().code(),
            "invalid_config"
        );
    }

    #[test]
    fn a_merchant_name_is_one_short_line() {
        assert_eq!(merchant("  Acme Telecom ").unwrap(), "Acme Telecom");
        assert_eq!(merchant("").unwrap(), "");
        let e = merchant("Acme\nTelecom").unwrap_err();
        assert_eq!((e.code(), e.field()), ("invalid_input", Some("merchant")));
        assert!(merchant(&"x".repeat(61)).is_err());
    }
}
