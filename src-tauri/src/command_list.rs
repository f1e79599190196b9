/// Every `#[tauri::command]` the app exposes. `build.rs` generates an `allow-<name>` permission for
/// each, and `permissions/app-commands.toml` bundles them into `allow-app-commands`.
pub const COMMANDS: &[&str] = &["app_info"];
