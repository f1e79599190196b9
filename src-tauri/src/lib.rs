//! The ID Desk app: a thin Tauri shell. Commands convert arguments, call the engine
//! (`id_desk_core`), and map errors to `{code, message}`; events carry flow updates to the window.

mod command_list;
mod commands;

use tauri::{Builder, Runtime};

/// Registers everything the app exposes. Shared by `run()` and the headless command tests.
pub fn setup<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder.invoke_handler(tauri::generate_handler![commands::app_info])
}

pub fn run() {
    let result = setup(Builder::default()).run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("ID Desk could not start: {e}");
        std::process::exit(1);
    }
}
