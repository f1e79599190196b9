//! The sandboxed window of the redirect flow (issue 14): the eID provider's pages (MitID, FTN, ...)
//! open here when the engine emits `redirect {url}`, and the customer completes them at the desk's
//! screen. Nothing is decided here: the engine reads the outcome with GET session.
//!
//! The window has no IPC access at all: its label is in no capability (like the customer display,
//! see `display.rs`), so it can call no command and cannot listen to any event; a remote page is
//! also never granted IPC unless a capability names its URL, which none does. Every navigation is
//! asked of `id_desk_core::rest::redirect::navigation`: Signicat's pages load, the final redirect
//! to one of the desk's three `https://id-desk.invalid/redirect/...` URLs is stopped (never
//! loaded) and closes the window, anything else is refused.

use id_desk_core::flow::FlowId;
use id_desk_core::rest::redirect::{self, AllowedOrigins, Navigation};
use tauri::webview::NewWindowResponse;
use tauri::{AppHandle, Manager, Runtime, Url, WebviewUrl, WebviewWindowBuilder};

use crate::state::AppState;

/// Every redirect window's label starts with this (one window per flow).
pub const LABEL_PREFIX: &str = "redirect-";

pub fn label(flow_id: &FlowId) -> String {
    format!("{LABEL_PREFIX}{flow_id}")
}

/// Opens the provider's page for `flow_id` (a second `redirect` for the same flow is ignored).
pub fn open<R: Runtime>(app: &AppHandle<R>, flow_id: &FlowId, raw_url: &str) {
    // The profile's REST origin (Signicat's API host, or the simulator in Training) and the
    // page's own origin (a real account's Signicat domain).
    // Plus the origins the profile's `[redirect.origins]` allows its providers' pages.
    let also: Vec<Url> = app
        .try_state::<AppState>()
        .map(|s| {
            let profile = s.desk.profile();
            profile
                .rest()
                .map(|r| r.base_url.clone())
                .into_iter()
                .chain(profile.redirect_origins())
                .collect()
        })
        .unwrap_or_default();
    open_window(
        app,
        flow_id,
        raw_url,
        also,
        "ID Desk - identify on this screen",
    );
}

/// Sign API v2 by link, for a customer at the desk: the session's signing page (the URL the engine
/// emitted for `flow_id`, never one from the page) in the same confinement as the redirect flow,
/// with Signicat's Sign API origin allowed besides the page's own.
pub fn open_signing<R: Runtime>(app: &AppHandle<R>, flow_id: &FlowId) -> bool {
    let Some(state) = app.try_state::<AppState>() else {
        return false;
    };
    let Some(url) = state.signing_link(flow_id) else {
        return false;
    };
    let also: Vec<Url> = state
        .desk
        .profile()
        .sign()
        .map(|s| s.base_url.clone())
        .into_iter()
        .collect();
    open_window(app, flow_id, &url, also, "ID Desk - sign on this screen");
    true
}

fn open_window<R: Runtime>(
    app: &AppHandle<R>,
    flow_id: &FlowId,
    raw_url: &str,
    also: Vec<Url>,
    title: &str,
) {
    let label = label(flow_id);
    if app.get_webview_window(&label).is_some() {
        return;
    }
    let Ok(url) = Url::parse(raw_url) else {
        tracing::warn!(flow_id = %flow_id, "redirect URL not parseable; no window opened");
        return;
    };
    let allowed = AllowedOrigins::new(&std::iter::once(&url).chain(&also).collect::<Vec<_>>());
    let (handle, closing) = (app.clone(), label.clone());
    let builder = WebviewWindowBuilder::new(app, &label, WebviewUrl::External(url.clone()))
        // ASCII: ImageMagick's `import -window NAME` matches the X11 WM_NAME.
        .title(title)
        .inner_size(560.0, 760.0)
        .min_inner_size(360.0, 480.0)
        // No pop-up and no file: the customer signs in, nothing else happens in this window.
        .on_new_window(|_, _| NewWindowResponse::Deny)
        .on_download(|_, _| false)
        .on_navigation(move |to| match redirect::navigation(to, &allowed) {
            Navigation::Load => true,
            Navigation::Finished(end) => {
                tracing::info!(window = %closing, outcome = ?end, "redirect flow finished in its window");
                // Closed off the navigation callback: the engine reads the outcome over the API.
                let (handle, closing) = (handle.clone(), closing.clone());
                tauri::async_runtime::spawn(async move { close_label(&handle, &closing) });
                false
            }
            Navigation::Refuse => {
                tracing::warn!(window = %closing, host = to.host_str().unwrap_or("-"), "navigation refused in the redirect window");
                false
            }
        });
    match builder.build() {
        Ok(window) => crate::webview::tune(&window),
        Err(e) => {
            tracing::warn!(flow_id = %flow_id, error = %e, "the redirect window could not open")
        }
    }
}

/// The flow ended (or staff cancelled it): its window goes if it is still open.
pub fn close<R: Runtime>(app: &AppHandle<R>, flow_id: &FlowId) {
    close_label(app, &label(flow_id));
}

/// Every redirect window (the desk is closing).
pub fn close_all<R: Runtime>(app: &AppHandle<R>) {
    for label in app.webview_windows().into_keys() {
        if label.starts_with(LABEL_PREFIX) {
            close_label(app, &label);
        }
    }
}

fn close_label<R: Runtime>(app: &AppHandle<R>, label: &str) {
    let Some(window) = app.get_webview_window(label) else {
        return;
    };
    // The provider's cookies, storage and cache must not carry one customer's login to the next
    // (review finding M-2). The engine runs one redirect flow at a time (`ON_THIS_SCREEN`), so
    // the shared browsing data goes with each window; the desk's own page keeps nothing in web
    // storage. Not an incognito context per window: WebKitGTK lets WebDriver automate one web
    // context only, and the end-to-end suite must drive this window as a customer would.
    let others = app
        .webview_windows()
        .into_keys()
        .any(|l| l.starts_with(LABEL_PREFIX) && l != label);
    if !others {
        if let Err(e) = window.clear_all_browsing_data() {
            tracing::warn!(error = %e, "the redirect window's browsing data was not cleared");
        }
    }
    // `destroy`, not `close`: a page cannot veto it.
    if let Err(e) = window.destroy() {
        tracing::warn!(window = %label, error = %e, "the redirect window did not close");
    }
}
