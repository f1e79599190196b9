//! What the app keeps for its lifetime: the desk (engine facade) and, in Training mode, the
//! in-process simulator that plays Signicat and the customer's phone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use id_desk_core::desk::{Desk, DeskPaths, ProfileChoice};
use id_desk_core::display::CustomerDisplay;
use id_desk_core::flow::FlowId;
use id_desk_core::Result;

/// Why the desk could not open, as the window shows it (`{code, message, field?}`): the app still
/// opens its window, which explains instead of vanishing (issue 23, item 8: fail closed, visibly).
pub struct StartupFailure(pub serde_json::Value);

pub struct AppState {
    pub desk: Arc<Desk>,
    /// Kept alive while the app runs; `None` outside Training mode.
    pub simulator: Option<crate::training::Simulator>,
    /// What the customer display shows (see `crate::display`).
    pub display: CustomerDisplay,
    /// Sign API v2 signing pages of running flows, for `open_signing_window`.
    signing_links: Mutex<HashMap<FlowId, String>>,
    /// The last screen-pop link, until the window takes it.
    pub screen_pop: id_desk_core::desk::screen_pop::Pending,
}

impl AppState {
    pub async fn open(paths: DeskPaths) -> Result<AppState> {
        let choice = ProfileChoice::Active;
        let (simulator, training) = crate::training::start(&paths, &choice).await?;
        let display = CustomerDisplay::open(paths.config_dir.clone());
        let desk = Arc::new(Desk::open(paths, choice, training)?);
        // Runs on Tauri's runtime for the app's life; never in a flow's way.
        desk.start_archive_delivery();
        // The profile's [retention], now and every hour.
        desk.start_retention();
        // Signatures that were running when the desk last stopped: their evidence is fetched
        // from Signicat in the background while it still has it.
        if desk.has_signatures_to_recover() {
            let desk = desk.clone();
            tauri::async_runtime::spawn(async move {
                if let Err(e) = desk.recover_signatures().await {
                    tracing::warn!(code = e.code(), error = %e, "settling interrupted signatures failed");
                }
            });
        }
        Ok(AppState {
            desk,
            simulator,
            display,
            signing_links: Mutex::default(),
            screen_pop: Default::default(),
        })
    }

    pub fn remember_signing_link(&self, flow_id: &FlowId, url: &str) {
        if let Ok(mut links) = self.signing_links.lock() {
            links.insert(flow_id.clone(), url.to_string());
        }
    }

    pub fn forget_signing_link(&self, flow_id: &FlowId) {
        if let Ok(mut links) = self.signing_links.lock() {
            links.remove(flow_id);
        }
    }

    pub fn signing_link(&self, flow_id: &FlowId) -> Option<String> {
        self.signing_links.lock().ok()?.get(flow_id).cloned()
    }

    /// The page has booted: log the start-up time, then let Training's simulator make its RSA
    /// keys, which would otherwise have competed with start-up for the CPU.
    pub fn window_ready(&self) {
        crate::startup::window_ready();
        crate::training::warm_up(self.simulator.as_ref());
    }
}
