//! Start-up time as staff experience it: from the process starting to the page saying it has
//! booted (profile loaded, forms mounted), and, for comparison with a bare Tauri app, to WebKit
//! having loaded the page. Each is logged once, so support sees them and `make bench` can time the
//! "ready" signal from outside.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

static STARTED: OnceLock<Instant> = OnceLock::new();
static LOADED: AtomicBool = AtomicBool::new(false);
static READY: AtomicBool = AtomicBool::new(false);

pub fn process_started() {
    STARTED.get_or_init(Instant::now);
}

/// WebKit has loaded the page (the signal a bare Tauri app has).
pub fn page_loaded() {
    log_once(&LOADED, "page loaded");
}

/// The page has booted and the desk is usable.
pub fn window_ready() {
    log_once(&READY, "window ready");
}

/// Only the first call counts; a reload is not a start.
fn log_once(flag: &AtomicBool, message: &str) {
    if flag.swap(true, Ordering::SeqCst) {
        return;
    }
    let ms = STARTED.get().map(|t| t.elapsed().as_secs_f64() * 1000.0);
    tracing::info!(startup_ms = ms.map(|ms| format!("{ms:.0}")), "{message}");
}
