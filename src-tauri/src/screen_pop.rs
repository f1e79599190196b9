//! Screen-pop links from the phone system (`id-desk://identify?method=nbid&nin=…&call=inbound`).
//! The OS starts the desk with the link as an argument; a desk already running gets the second
//! start's arguments through the single-instance plugin (and, on macOS, the deep-link plugin's
//! event). The link is kept until the window takes it (`take_screen_pop`), so one that arrives
//! before the page listens is not lost; the window fills the Identify form and never sends.
//!
//! The desk the OS starts with a link does not stay: it starts the long-lived desk without the link
//! in its command line, hands the link over on its stdin, and exits (review N-4: any local user can
//! read a process's command line for as long as it runs). A desk already running receives the
//! link from the short-lived second start through the single-instance plugin, as before.
//!
//! A pop never takes the keyboard from another program (review N-5): an agent typing in the CRM
//! when the phone rings would type into the desk. It asks for attention instead (the taskbar
//! entry flashes), and the form is there when the agent switches to the desk.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use id_desk_core::desk::screen_pop::{args_without_link, find_link, read_handover, HANDOVER_ENV};
use tauri::{AppHandle, Emitter, Manager, Runtime, UserAttentionType};

use crate::AppState;

/// Tells the main window a link is waiting (no payload: the window asks for it).
pub const EVENT: &str = "desk://screen-pop";

/// Keeps the link for the window and brings the desk to the front.
pub fn deliver<R: Runtime>(app: &AppHandle<R>, link: &str) {
    // The link carries a national identity number: it is never logged.
    tracing::info!("screen-pop link received");
    if let Some(state) = app.try_state::<AppState>() {
        state.screen_pop.put(link);
    }
    if let Some(window) = app.get_webview_window("main") {
        if !window.is_focused().unwrap_or(false) {
            let _ = window.request_user_attention(Some(UserAttentionType::Informational));
        }
    }
    let _ = app.emit_to("main", EVENT, ());
}

/// A link among a process's arguments (the first start, or a second one forwarded to us).
pub fn deliver_from_args<R: Runtime>(app: &AppHandle<R>, args: &[String]) {
    if let Some(link) = find_link(args) {
        deliver(app, link);
    }
}

/// How long a handed-over desk waits for the link on its stdin (the starting process writes it
/// at once; the bound only keeps a desk started by hand with the variable set from hanging).
const HANDOVER_WAIT: Duration = Duration::from_secs(5);

/// The link handed over on stdin when this desk was started by [`hand_over`]; `None` otherwise.
pub fn handed_over() -> Option<String> {
    std::env::var_os(HANDOVER_ENV)?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read_handover(std::io::stdin().lock()));
    });
    match rx.recv_timeout(HANDOVER_WAIT) {
        Ok(Ok(link)) => Some(link),
        Ok(Err(e)) => {
            tracing::warn!(code = e.code(), error = %e, "the handed-over screen-pop link was refused");
            None
        }
        Err(_) => {
            tracing::warn!("no screen-pop link was handed over within {HANDOVER_WAIT:?}");
            None
        }
    }
}

/// Starts the long-lived desk without the link in its arguments and writes the link to its
/// stdin. The instance lock is released only once the new desk runs, so the new desk becomes the
/// one instance; the caller exits next.
pub fn hand_over<R: Runtime>(app: &AppHandle<R>, link: &str) -> std::io::Result<()> {
    let exe = std::env::current_exe()?;
    let args = args_without_link(&std::env::args().collect::<Vec<_>>());
    let mut child = Command::new(exe)
        .args(args.iter().skip(1))
        .env(HANDOVER_ENV, "1")
        .stdin(Stdio::piped())
        .spawn()?;
    // The new desk reads its stdin before it looks for another instance: by then this one has
    // let go of the lock.
    tauri_plugin_single_instance::destroy(app);
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| std::io::Error::other("the new desk has no stdin"))?;
    stdin.write_all(link.as_bytes())?;
    Ok(())
}
