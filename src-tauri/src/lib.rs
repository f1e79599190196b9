//! The ID Desk app: a thin Tauri shell. Commands convert arguments, call the engine
//! (`id_desk_core::desk::Desk`) and map errors to `{code, message}`; `events` carries flow updates
//! to the window. No business logic lives here.

#[cfg_attr(not(test), allow(dead_code))]
mod command_list;
mod commands;
mod display;
mod events;
mod redirect;
mod screen_pop;
mod startup;
mod state;
#[cfg(test)]
mod tests;
// Training mode, or its absence (`--no-default-features`): the same names either way.
#[cfg(feature = "training")]
#[path = "training/with_simulator.rs"]
mod training;
#[cfg(not(feature = "training"))]
#[path = "training/without.rs"]
mod training;
mod webview;
#[cfg(windows)]
mod webview2;

use id_desk_core::desk::screen_pop::find_link;
use id_desk_core::desk::DeskPaths;
use tauri::webview::PageLoadEvent;
use tauri::{Builder, Manager, RunEvent, Runtime, WindowEvent};
use tauri_plugin_deep_link::DeepLinkExt;

pub use state::AppState;

/// `identifier` in tauri.conf.json: the single-instance name starts with it.
const IDENTIFIER: &str = "no.iddesk.desk";

/// Registers everything the app exposes. Shared by `run()` and the headless command tests.
pub fn setup<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .plugin(tauri_plugin_notification::init())
        // Rust-side only (the export folder picker): no capability grants its commands.
        .plugin(tauri_plugin_dialog::init())
        .on_page_load(|webview, payload| {
            if payload.event() == PageLoadEvent::Finished {
                if webview.label() == display::LABEL {
                    display::page_loaded(webview.app_handle());
                } else if webview.label() == "main" {
                    startup::page_loaded();
                }
            }
        })
        .on_window_event(|window, event| {
            // The display must not keep the app running once staff have closed the desk.
            if window.label() == "main" && matches!(event, WindowEvent::Destroyed) {
                display::close(window.app_handle());
                redirect::close_all(window.app_handle());
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::validate_input,
            commands::start_flow,
            commands::cancel_flow,
            commands::open_signing_window,
            commands::running_flows,
            commands::list_history,
            commands::verify_evidence,
            commands::export_evidence,
            commands::list_profiles,
            commands::activate_profile,
            commands::check_profile,
            commands::secret_status,
            commands::set_secret,
            commands::delete_secret,
            commands::set_preferences,
            training::sim_sessions,
            training::sim_act,
            training::sim_idcard,
            commands::take_screen_pop,
            commands::window_ready,
            commands::customer_display_status,
            commands::open_customer_display,
            commands::close_customer_display,
            commands::show_on_customer_display,
            commands::set_display_merchant,
        ])
}

pub fn run() {
    startup::process_started();
    id_desk_core::owner_only_by_default();
    if let Err(e) = try_run() {
        eprintln!("ID Desk could not start: {e}");
        std::process::exit(1);
    }
}

fn try_run() -> Result<(), Box<dyn std::error::Error>> {
    let paths = DeskPaths::from_os()?;
    let _logs = id_desk_core::logging::init(
        &paths.log_dir,
        false,
        id_desk_core::policy::log_format(&paths.system_dir),
    )?;
    #[cfg(windows)]
    webview2::require()?;
    // A desk started to take over a screen-pop link gets it on stdin, before it looks for another
    // instance (see `screen_pop::hand_over`).
    let handed_over = screen_pop::handed_over();
    // Single instance first (the plugin's rule): a second start (the phone system opening a
    // screen-pop link) hands its arguments to this desk and exits. Not in `setup`, which the
    // headless tests share: there a second test app would end the test process.
    let builder = Builder::default()
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(paths.instance_id(IDENTIFIER))
                .callback(|app, args, _cwd| screen_pop::deliver_from_args(app, &args))
                .build(),
        )
        .plugin(tauri_plugin_deep_link::init());
    let app = setup(builder)
        .setup(move |app| {
            let args: Vec<String> = std::env::args().collect();
            if handed_over.is_none() {
                if let Some(link) = find_link(&args) {
                    match screen_pop::hand_over(app.handle(), link) {
                        Ok(()) => {
                            tracing::info!(
                                "screen-pop link handed over to a desk started without it"
                            );
                            app.handle().cleanup_before_exit();
                            std::process::exit(0);
                        }
                        Err(e) => tracing::warn!(
                            error = %e,
                            "the screen-pop link could not be handed over; this desk keeps it"
                        ),
                    }
                }
            }
            if let Some(window) = app.get_webview_window("main") {
                webview::tune(&window);
                // Whatever a provider's page left when the desk last stopped (a crash before its
                // window closed) is gone before the next customer.
                if let Err(e) = window.clear_all_browsing_data() {
                    tracing::warn!(error = %e, "browsing data from the last run was not cleared");
                }
            }
            let state = match tauri::async_runtime::block_on(AppState::open(paths.clone())) {
                Ok(state) => state,
                Err(e) => {
                    tracing::error!(code = e.code(), error = %e, "ID Desk cannot open its desk");
                    let shown = serde_json::to_value(&e).unwrap_or_else(
                        |_| serde_json::json!({"code": e.code(), "message": e.to_string()}),
                    );
                    app.manage(state::StartupFailure(shown));
                    return Ok(());
                }
            };
            tracing::info!(
                training = state.desk.is_training(),
                profile = state.desk.profile().name(),
                "ID Desk ready"
            );
            app.manage(state);
            // Started by a screen-pop link (handed over, or kept when that failed): the window
            // takes it once its page listens.
            match &handed_over {
                Some(link) => screen_pop::deliver(app.handle(), link),
                None => screen_pop::deliver_from_args(app.handle(), &args),
            }
            // macOS hands links to a running app as events, not arguments.
            let handle = app.handle().clone();
            app.deep_link().on_open_url(move |event| {
                if let Some(url) = event.urls().first() {
                    screen_pop::deliver(&handle, url.as_str());
                }
            });
            Ok(())
        })
        .build(tauri::generate_context!())?;
    app.run(|handle, event| {
        // Quitting cancels every running flow at Signicat first (bounded to 3 s).
        if let RunEvent::ExitRequested { .. } = event {
            if let Some(state) = handle.try_state::<AppState>() {
                let desk = state.desk.clone();
                tauri::async_runtime::block_on(async move { desk.shutdown().await });
            }
        }
    });
    Ok(())
}
