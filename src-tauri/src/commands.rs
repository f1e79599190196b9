//! `#[tauri::command]`s: argument conversion and error mapping only.

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct AppInfo {
    pub version: &'static str,
    pub training: bool,
}

#[tauri::command]
pub fn app_info() -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        training: true,
    }
}
