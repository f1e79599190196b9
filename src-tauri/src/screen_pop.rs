//! Screen-pop links from the phone system (`id-desk://identify?method=nbid&nin=…&call=inbound`).
//! The OS starts the desk with the link as an argument; a desk already running gets the second
//! start's arguments through the single-instance plugin (and, on macOS, the deep-link plugin's
//! event). The link is kept until the window takes it (`take_screen_pop`), so one that arrives
//! before the page listens is not lost; the window fills the Identify form and never sends.

use id_desk_core::desk::screen_pop::find_link;
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::AppState;

/// Tells the main window a link is waiting (no payload: the window asks for it).
pub const EVENT: &str = "desk://screen-pop";

/// Keeps the link for the window and brings the desk to the front.
pub fn deliver<R: Runtime>(app: &AppHandle<R>, link: &str) {
    // The link carries a national identity number: it is never logged.
    tracing::info!("screen-pop link received");
    if let Some(state) = app.try_state::<AppState>() {
        state.set_screen_pop(link);
    }
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
    let _ = app.emit_to("main", EVENT, ());
}

/// A link among a process's arguments (the first start, or a second one forwarded to us).
pub fn deliver_from_args<R: Runtime>(app: &AppHandle<R>, args: &[String]) {
    if let Some(link) = find_link(args) {
        deliver(app, link);
    }
}
