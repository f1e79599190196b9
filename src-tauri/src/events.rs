//! Flow events to the window, namespaced `flow://event`. QR payloads get a locally rendered SVG
//! alongside, so the window draws the code without any library or network access.

use std::sync::Arc;

use id_desk_core::desk::{finished_notice, qr};
use id_desk_core::flow::{EventSink, FlowEvent, FlowUpdate};
use id_desk_core::messages::Lang;
use serde::Serialize;
use tauri::{AppHandle, Emitter, Manager, Runtime, UserAttentionType};
use tauri_plugin_notification::NotificationExt;

pub const FLOW_EVENT: &str = "flow://event";

#[derive(Debug, Clone, Serialize)]
pub struct WindowFlowEvent {
    #[serde(flatten)]
    pub update: FlowUpdate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub svg: Option<String>,
    /// When the event left Rust (Unix epoch, ms): the window measures how long the binding words
    /// took to reach the screen (`make bench`).
    pub sent_at_ms: f64,
}

impl From<FlowUpdate> for WindowFlowEvent {
    fn from(update: FlowUpdate) -> Self {
        let svg = match &update.event {
            FlowEvent::Qr { data } => qr::svg(data).ok(),
            FlowEvent::SignatureUrl { url } => qr::svg(url).ok(),
            _ => None,
        };
        let sent_at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or_default();
        WindowFlowEvent {
            update,
            svg,
            sent_at_ms,
        }
    }
}

/// The sink the engine pushes a flow's events into.
pub fn sink<R: Runtime>(app: AppHandle<R>, lang: Lang) -> EventSink {
    Arc::new(move |update: FlowUpdate| {
        let notice = finished_notice(&update.event, lang);
        // The customer display first: it only ever gets the customer's view of the update.
        crate::display::follow(&app, &update);
        // The redirect flow's sandboxed window opens with its page and goes with the flow.
        match &update.event {
            FlowEvent::Redirect { url } => crate::redirect::open(&app, &update.flow_id, url),
            // Kept for `open_signing_window`: the window asks by flow id, never with a URL.
            FlowEvent::SignatureUrl { url } => {
                if let Some(state) = app.try_state::<crate::state::AppState>() {
                    state.remember_signing_link(&update.flow_id, url);
                }
            }
            event if event.is_terminal() => {
                crate::redirect::close(&app, &update.flow_id);
                if let Some(state) = app.try_state::<crate::state::AppState>() {
                    state.forget_signing_link(&update.flow_id);
                }
            }
            _ => {}
        }
        if let Err(e) = app.emit(FLOW_EVENT, WindowFlowEvent::from(update)) {
            tracing::warn!(error = %e, "could not send a flow event to the window");
        }
        // A flow that ends while staff look elsewhere: an OS notification and a taskbar flash.
        if let (Some(text), Some(w)) = (notice, app.get_webview_window("main")) {
            if !w.is_focused().unwrap_or(true) {
                let _ = w.request_user_attention(Some(UserAttentionType::Informational));
                if let Err(e) = app
                    .notification()
                    .builder()
                    .title("ID Desk")
                    .body(text)
                    .show()
                {
                    tracing::debug!(error = %e, "no OS notification service");
                }
            }
        }
    })
}
