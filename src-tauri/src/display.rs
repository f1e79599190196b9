//! The customer display window: a second window facing the customer (issue 14). What it shows is
//! decided by the engine (`id_desk_core::display`); this module opens and closes the window,
//! remembers where it was, and hands it each frame.
//!
//! The window has no IPC access at all: it is in no capability, so it can call no command and
//! cannot even listen to events. That is deliberate. Tauri's `core:event:allow-listen` cannot be
//! limited to one event name, and a page listener registered for any target receives every event
//! whatever `emit_to` names (tauri 2.12, `event/listener.rs`): granted listening, the page could
//! subscribe to `flow://event`, whose `succeeded` carries the customer's full identity number.
//! Instead Rust calls the page's `show(frame)` through the webview's script evaluation, the same
//! path Tauri itself uses to deliver events, with a frame that cannot carry an identity number.

use id_desk_core::display::{Frame, MonitorArea, Placement};
use id_desk_core::flow::{FlowId, FlowUpdate};
use id_desk_core::{Error, Result};
use tauri::{
    AppHandle, Emitter, Manager, Monitor, Runtime, WebviewUrl, WebviewWindow, WebviewWindowBuilder,
    WindowEvent,
};

use crate::state::AppState;

pub const LABEL: &str = "customer-display";
/// To the staff window: `{open, merchant, flow_id}` whenever the display opens, closes or shows
/// another flow.
pub const STATUS_EVENT: &str = "display://status";
const PAGE: &str = "display.html";
// ASCII: ImageMagick's `import -window NAME` (the e2e screenshots) matches the X11 WM_NAME.
const TITLE: &str = "ID Desk - customer display";

pub use id_desk_core::display::DisplayStatus;

pub fn status<R: Runtime>(app: &AppHandle<R>) -> DisplayStatus {
    let open = app.get_webview_window(LABEL).is_some();
    match app.try_state::<AppState>() {
        Some(state) => state.display.status(open),
        None => DisplayStatus {
            open,
            merchant: String::new(),
            flow_id: None,
        },
    }
}

/// Opens the display (or brings it to the front), where it was last time when that monitor is
/// still connected.
pub fn open<R: Runtime>(app: &AppHandle<R>) -> Result<DisplayStatus> {
    if let Some(window) = app.get_webview_window(LABEL) {
        let _ = window.show();
        let _ = window.set_focus();
        return Ok(status(app));
    }
    let mut builder = WebviewWindowBuilder::new(app, LABEL, WebviewUrl::App(PAGE.into()))
        .title(TITLE)
        .inner_size(960.0, 640.0)
        .min_inner_size(320.0, 240.0)
        // Our own page only: a link or a script can never take this window elsewhere.
        .on_navigation(|url| is_own_page(url.scheme(), url.host_str(), url.path()));
    // Placed by the builder, before the window exists: moving or resizing a just-created webview
    // made WebKit's automation drop the WebDriver session ("page crash or hang") under Xvfb.
    if let Some((x, y, width, height)) = restored_place(app) {
        builder = builder.position(x, y).inner_size(width, height);
    }
    let window = builder
        .build()
        .map_err(|e| Error::Io(format!("the customer display could not open: {e}")))?;
    crate::webview::tune(&window);
    track_placement(app, &window);
    announce(app);
    Ok(status(app))
}

pub fn close<R: Runtime>(app: &AppHandle<R>) -> DisplayStatus {
    if let Some(window) = app.get_webview_window(LABEL) {
        // `destroy`, not `close`: a close request could be vetoed; the staff asked for it.
        if let Err(e) = window.destroy() {
            tracing::warn!(error = %e, "the customer display did not close");
        }
    }
    DisplayStatus {
        open: false,
        ..status(app)
    }
}

/// Points the display at the flow the agent picked in the running-flows list.
pub fn show<R: Runtime>(app: &AppHandle<R>, flow_id: &FlowId) -> Result<DisplayStatus> {
    // Absent when the desk failed to open (review N-21): an error, never a panic.
    let state = app
        .try_state::<AppState>()
        .ok_or_else(|| Error::invalid_input("flow_id", "the desk did not open, so no flow runs"))?;
    let frame = state.display.show(flow_id, state.desk.lang())?;
    push(app, &frame);
    announce(app);
    Ok(status(app))
}

/// Every flow update passes here (from the engine's event sink) before it reaches staff.
pub fn follow<R: Runtime>(app: &AppHandle<R>, update: &FlowUpdate) {
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    if let Some((frame, newly_selected)) = state.display.observe(update, state.desk.lang()) {
        push(app, &frame);
        if newly_selected {
            announce(app);
        }
    }
}

/// The display page has loaded: give it the current frame (anything pushed before its script ran
/// was dropped, and a reload starts blank).
pub fn page_loaded<R: Runtime>(app: &AppHandle<R>) {
    if let Some(state) = app.try_state::<AppState>() {
        push(app, &state.display.frame(state.desk.lang()));
    }
}

/// Staff changed the language or the merchant name: redraw.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    page_loaded(app);
    announce(app);
}

fn push<R: Runtime>(app: &AppHandle<R>, frame: &Frame) {
    let Some(window) = app.get_webview_window(LABEL) else {
        return;
    };
    // JSON is a JavaScript literal; the page's `show` sets text with textContent and inserts only
    // the SVG our own renderer made.
    let json = match serde_json::to_string(frame) {
        Ok(json) => json,
        Err(e) => {
            tracing::warn!(error = %e, "customer display frame not serialisable");
            return;
        }
    };
    // Before the page's module has run, the frame waits in `__iddeskPending` and the module shows
    // it when it starts: a frame pushed in that gap used to be lost (the display stayed on
    // "Welcome", issue 24).
    let script = format!(
        "(f => window.__iddeskDisplay ? window.__iddeskDisplay.show(f) : (window.__iddeskPending = f))({json});"
    );
    if let Err(e) = window.eval(&script) {
        tracing::debug!(error = %e, "customer display not reachable");
    }
}

fn announce<R: Runtime>(app: &AppHandle<R>) {
    announce_status(app, status(app));
}

fn announce_status<R: Runtime>(app: &AppHandle<R>, status: DisplayStatus) {
    if let Err(e) = app.emit_to("main", STATUS_EVENT, status) {
        tracing::debug!(error = %e, "display status not delivered");
    }
}

/// `tauri://localhost/display.html` (macOS, Linux) or `http://tauri.localhost/display.html`
/// (Windows); in development the same page from the dev server is not used (no dev server).
fn is_own_page(scheme: &str, host: Option<&str>, path: &str) -> bool {
    let own_origin = matches!(
        (scheme, host),
        ("tauri", Some("localhost")) | ("http" | "https", Some("tauri.localhost"))
    );
    own_origin && path.trim_start_matches('/') == PAGE
}

fn monitors<R: Runtime>(window: &WebviewWindow<R>) -> Vec<MonitorArea> {
    window
        .available_monitors()
        .unwrap_or_default()
        .iter()
        .map(area)
        .collect()
}

fn area(m: &Monitor) -> MonitorArea {
    MonitorArea {
        name: m.name().cloned(),
        x: m.position().x,
        y: m.position().y,
        width: m.size().width,
        height: m.size().height,
    }
}

/// The saved place in logical units for the window builder, when its monitor is still there.
/// Monitors are listed through the staff window (the display does not exist yet).
fn restored_place<R: Runtime>(app: &AppHandle<R>) -> Option<(f64, f64, f64, f64)> {
    let saved = app.try_state::<AppState>()?.display.placement()?;
    let main = app.get_webview_window("main")?;
    let list = main.available_monitors().unwrap_or_default();
    let areas = list.iter().map(area).collect::<Vec<_>>();
    let Some(p) = saved.restore(&areas) else {
        tracing::info!("the customer display's monitor is gone; opening it anew");
        return None;
    };
    let scale = list
        .iter()
        .find(|m| m.name() == p.monitor.as_ref())
        .map_or(1.0, |m| m.scale_factor());
    Some((
        f64::from(p.x) / scale,
        f64::from(p.y) / scale,
        f64::from(p.width) / scale,
        f64::from(p.height) / scale,
    ))
}

/// Follows moves and resizes in memory and saves the last place when the window goes.
fn track_placement<R: Runtime>(app: &AppHandle<R>, window: &WebviewWindow<R>) {
    let here = |w: &WebviewWindow<R>| {
        let p = w.outer_position().unwrap_or_default();
        let s = w.inner_size().unwrap_or_default();
        Placement::at(p.x, p.y, s.width, s.height, &monitors(w))
    };
    // Monitors are looked up while the window exists; once destroyed it can no longer ask.
    let last = std::sync::Mutex::new(here(window));
    let (app, w) = (app.clone(), window.clone());
    window.on_window_event(move |event| {
        let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            WindowEvent::Moved(_) => *last = here(&w),
            WindowEvent::Resized(s) if s.width > 0 && s.height > 0 => {
                last.width = s.width;
                last.height = s.height;
            }
            WindowEvent::Destroyed => {
                let placement = last.clone();
                if let Some(state) = app.try_state::<AppState>() {
                    if let Err(e) = state.display.remember_placement(placement) {
                        tracing::warn!(error = %e, "customer display position not saved");
                    }
                }
                // The window may still be listed while its handlers run: it is closed, say so.
                announce_status(
                    &app,
                    DisplayStatus {
                        open: false,
                        ..status(&app)
                    },
                );
            }
            _ => {}
        }
    });
}

#[cfg(test)]
mod tests {
    use super::is_own_page;

    #[test]
    fn only_our_own_display_page_may_load() {
        assert!(is_own_page("tauri", Some("localhost"), "/display.html"));
        assert!(is_own_page(
            "http",
            Some("tauri.localhost"),
            "/display.html"
        ));
        assert!(!is_own_page("tauri", Some("localhost"), "/index.html"));
        assert!(!is_own_page("https", Some("example.org"), "/display.html"));
        assert!(!is_own_page(
            "tauri",
            Some("localhost.evil"),
            "/display.html"
        ));
    }
}
