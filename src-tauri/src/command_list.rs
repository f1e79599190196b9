/// Every `#[tauri::command]` the app exposes. `build.rs` generates an `allow-<name>` permission for
/// each, and `permissions/app-commands.toml` bundles them into `allow-app-commands`, the only
/// permission set the windows get besides event listening.
pub const COMMANDS: &[&str] = &[
    "app_info",
    "validate_input",
    "start_flow",
    "cancel_flow",
    "open_signing_window",
    "running_flows",
    "list_history",
    "verify_evidence",
    "export_evidence",
    "list_profiles",
    "activate_profile",
    "check_profile",
    "secret_status",
    "set_secret",
    "delete_secret",
    "set_preferences",
    "sim_sessions",
    "sim_act",
    "window_ready",
    "customer_display_status",
    "open_customer_display",
    "close_customer_display",
    "show_on_customer_display",
    "set_display_merchant",
];
