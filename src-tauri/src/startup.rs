//! Start-up time as staff experience it: from the process starting to the page saying it has
//! booted (profile loaded, forms mounted). Logged once, so support sees it and `make bench` can
//! time the "ready" signal from outside.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

static STARTED: OnceLock<Instant> = OnceLock::new();
static READY: AtomicBool = AtomicBool::new(false);

/// The message `make bench` looks for.
pub const READY_MESSAGE: &str = "window ready";

pub fn process_started() {
    STARTED.get_or_init(Instant::now);
}

/// The first call logs the start-up time; later ones (a reload) are ignored.
pub fn window_ready() {
    if READY.swap(true, Ordering::SeqCst) {
        return;
    }
    let ms = STARTED.get().map(|t| t.elapsed().as_secs_f64() * 1000.0);
    tracing::info!(
        startup_ms = ms.map(|ms| format!("{ms:.0}")),
        "{READY_MESSAGE}"
    );
}
