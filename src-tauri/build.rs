fn main() {
    // Only the commands listed here get permissions; the capability grants them to our windows.
    let windows = tauri_build::WindowsAttributes::new()
        .app_manifest(include_str!("windows-app-manifest.xml"));
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .windows_attributes(windows)
            .app_manifest(tauri_build::AppManifest::new().commands(id_desk_commands::COMMANDS)),
    )
    .unwrap_or_else(|e| panic!("tauri build script failed: {e}"));
}

mod id_desk_commands {
    include!("src/command_list.rs");
}
