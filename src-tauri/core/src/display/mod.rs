//! The customer display: a second window facing the customer that shows only what they must see
//! (binding words, the QR code, the merchant's name, "Thank you" / "Try again"). This module
//! decides what that is; the app shell only opens the window and hands it each `Frame`.
//!
//! `view` turns flow events into customer screens (no identity number can be represented),
//! `follow` tracks which flow is shown, `settings` keeps the merchant name and the window's place.

mod follow;
mod settings;
mod view;

use std::path::PathBuf;
use std::sync::Mutex;

use serde::Serialize;

use crate::flow::{FlowId, FlowUpdate};
use crate::messages::Lang;
use crate::Result;

pub use follow::{Follower, Shown};
pub use settings::{DisplaySettings, MonitorArea, Placement};
pub use view::Screen;

/// Everything the display window receives, in one message: it keeps no state of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Frame {
    pub merchant: String,
    /// The desk's language (the customer is served in it).
    pub lang: Lang,
    pub screen: Screen,
}

/// Whether the display is open and which flow it shows, for the staff window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisplayStatus {
    pub open: bool,
    pub merchant: String,
    pub flow_id: Option<FlowId>,
}

pub struct CustomerDisplay {
    config_dir: PathBuf,
    settings: Mutex<DisplaySettings>,
    follower: Follower,
}

impl CustomerDisplay {
    /// Reads `customer-display.toml` from `config_dir`; a broken file is logged and replaced by
    /// defaults at the next save (it holds nothing but a name and a window position).
    pub fn open(config_dir: PathBuf) -> CustomerDisplay {
        let settings = DisplaySettings::load(&config_dir).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "customer display settings unreadable; using defaults");
            DisplaySettings::default()
        });
        CustomerDisplay {
            config_dir,
            settings: Mutex::new(settings),
            follower: Follower::default(),
        }
    }

    pub fn frame(&self, lang: Lang) -> Frame {
        self.frame_with(self.follower.screen(), lang)
    }

    fn frame_with(&self, screen: Screen, lang: Lang) -> Frame {
        Frame {
            merchant: self.settings().merchant,
            lang,
            screen,
        }
    }

    /// Records a flow update; `Some` when the display must change (and whether the shown flow
    /// changed).
    pub fn observe(&self, update: &FlowUpdate, lang: Lang) -> Option<(Frame, bool)> {
        let Shown {
            screen,
            newly_selected,
        } = self.follower.observe(update)?;
        Some((self.frame_with(screen, lang), newly_selected))
    }

    /// Shows the flow the agent picked.
    pub fn show(&self, id: &FlowId, lang: Lang) -> Result<Frame> {
        let screen = self.follower.select(id)?;
        Ok(self.frame_with(screen, lang))
    }

    pub fn status(&self, open: bool) -> DisplayStatus {
        DisplayStatus {
            open,
            merchant: self.settings().merchant,
            flow_id: self.follower.selected(),
        }
    }

    /// Sets the merchant name (validated first, naming the field `merchant`) and saves it.
    pub fn set_merchant(&self, raw: &str) -> Result<()> {
        let merchant = settings::merchant(raw)?;
        self.update(|s| s.merchant = merchant)
    }

    pub fn placement(&self) -> Option<Placement> {
        self.settings().placement
    }

    /// Remembers where the window was (called when it closes).
    pub fn remember_placement(&self, placement: Placement) -> Result<()> {
        self.update(|s| s.placement = Some(placement))
    }

    fn settings(&self) -> DisplaySettings {
        self.settings
            .lock()
            .map(|s| s.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    fn update(&self, change: impl FnOnce(&mut DisplaySettings)) -> Result<()> {
        let mut guard = self.settings.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = guard.clone();
        change(&mut next);
        next.save(&self.config_dir)?;
        *guard = next;
        Ok(())
    }
}
