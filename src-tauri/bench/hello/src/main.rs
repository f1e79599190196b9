//! The smallest Tauri v2 app: one window, one static page. Same `tauri` features as ID Desk, so
//! the start-up comparison measures what ID Desk adds on top of Tauri itself.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(e) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("hello-tauri could not start: {e}");
        std::process::exit(1);
    }
}
