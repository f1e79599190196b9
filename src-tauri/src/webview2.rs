//! The desk's window is Microsoft Edge WebView2 on Windows. It ships with Windows 11 and current
//! Windows 10, but a locked-down image can lack it; then Tauri would fail deep inside window
//! creation. The desk asks first and, when it is missing, says so in words (a message box, the
//! log, stderr) and exits, instead of crashing or downloading anything.

use std::fmt;

/// What staff and IT read when WebView2 is missing.
pub const MISSING: &str = "ID Desk cannot open its window: this PC does not have the Microsoft \
Edge WebView2 Runtime.\n\nAsk your IT department to install it (Microsoft's offline \"Evergreen \
Standalone Installer\"). Nothing was downloaded. Until then id-desk-cli works for every flow.";

#[derive(Debug)]
pub struct Missing(String);

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the WebView2 Runtime is missing ({})", self.0)
    }
}

impl std::error::Error for Missing {}

/// `Ok` with WebView2 present; else tells the person at the PC and returns the error.
pub fn require() -> Result<(), Missing> {
    match tauri::webview_version() {
        Ok(version) => {
            tracing::info!(webview2 = %version, "WebView2 Runtime found");
            Ok(())
        }
        Err(e) => {
            tracing::error!(error = %e, "the WebView2 Runtime is missing: the window cannot open");
            eprintln!("{MISSING}");
            id_desk_windows::message_box("ID Desk", MISSING);
            Err(Missing(e.to_string()))
        }
    }
}
