//! What the app keeps for its lifetime: the desk (engine facade) and, in Training mode, the
//! in-process simulator that plays Signicat and the customer's phone.

use std::sync::Arc;

use id_desk_core::desk::{self, Desk, DeskPaths, ProfileChoice};
use id_desk_core::display::CustomerDisplay;
use id_desk_core::Result;
use id_desk_simulator::Simulator;

pub struct AppState {
    pub desk: Arc<Desk>,
    /// Kept alive while the app runs; `None` outside Training mode.
    pub simulator: Option<Simulator>,
    /// What the customer display shows (see `crate::display`).
    pub display: CustomerDisplay,
}

impl AppState {
    pub async fn open(paths: DeskPaths) -> Result<AppState> {
        let choice = ProfileChoice::Active;
        let (simulator, training) = if Desk::needs_training(&paths, &choice) {
            let (sim, training) = desk::training::start().await?;
            (Some(sim), Some(training))
        } else {
            (None, None)
        };
        let display = CustomerDisplay::open(paths.config_dir.clone());
        let desk = Arc::new(Desk::open(paths, choice, training)?);
        // Runs on Tauri's runtime for the app's life; never in a flow's way.
        desk.start_archive_delivery();
        Ok(AppState {
            desk,
            simulator,
            display,
        })
    }

    /// The page has booted: log the start-up time, then let Training's simulator make its RSA
    /// keys, which would otherwise have competed with start-up for the CPU.
    pub fn window_ready(&self) {
        crate::startup::window_ready();
        if let Some(sim) = &self.simulator {
            sim.warm_up_keys();
        }
    }
}
