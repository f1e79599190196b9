//! The smallest Tauri v2 app: one window, one static page. Same `tauri` features as ID Desk, so
//! the start-up comparison measures what ID Desk adds on top of Tauri itself.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    let app = tauri::Builder::default().on_page_load(|_, payload| {
        // The "ready" signal `make bench` times, as ID Desk logs "window ready".
        if payload.event() == tauri::webview::PageLoadEvent::Finished {
            eprintln!("hello-tauri ready");
        }
    });
    if let Err(e) = app.run(tauri::generate_context!()) {
        eprintln!("hello-tauri could not start: {e}");
        std::process::exit(1);
    }
}
