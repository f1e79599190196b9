//! `#[tauri::command]`s: argument conversion, one call into the engine, error mapping. Nothing
//! else lives here. Errors reach the window as `{code, message, field?}`.

use id_desk_core::desk::screen_pop::ScreenPop;
use id_desk_core::desk::{CheckStep, Desk, DeskInfo, Preferences, ProfileList, SecretStatus};
use id_desk_core::flow::FlowId;
use id_desk_core::runner::{RawFlowInput, RunningFlow};
use id_desk_core::secrets::{SecretName, SecretString};
use id_desk_core::vault::HistoryEntry;
use id_desk_core::Error;
use tauri::{AppHandle, Manager, Runtime, State};

use crate::display::{self, DisplayStatus};
use crate::events;
use crate::state::{AppState, StartupFailure};

type Result<T> = std::result::Result<T, Error>;

/// Keyring and vault calls run on a blocking worker: a slow keyring (a locked Secret Service
/// asking for a password) or a busy database must never freeze the window (issue 23, item 12).
async fn off_main<T: Send + 'static>(
    state: &State<'_, AppState>,
    work: impl FnOnce(&Desk) -> Result<T> + Send + 'static,
) -> Result<T> {
    let desk = state.desk.clone();
    tauri::async_runtime::spawn_blocking(move || work(&desk))
        .await
        .map_err(|e| Error::Io(format!("the desk's worker stopped: {e}")))?
}

/// The desk's profile and methods; when the desk could not open (a broken active profile, a
/// vault whose key is missing), the reason, which the window shows instead of the desk.
#[tauri::command]
pub async fn app_info<R: Runtime>(
    app: AppHandle<R>,
) -> std::result::Result<DeskInfo, serde_json::Value> {
    let Some(state) = app.try_state::<AppState>() else {
        return Err(app
            .try_state::<StartupFailure>()
            .map(|f| f.0.clone())
            .unwrap_or_else(
                || serde_json::json!({"code": "internal", "message": "ID Desk is still starting"}),
            ));
    };
    let desk = state.desk.clone();
    tauri::async_runtime::spawn_blocking(move || desk.info())
        .await
        .map_err(|e| serde_json::json!({"code": "io", "message": format!("the desk's worker stopped: {e}")}))
}

/// The first problem with the input, naming its field; `[]` when the flow may start.
#[tauri::command]
pub async fn validate_input(state: State<'_, AppState>, input: RawFlowInput) -> Result<Vec<Error>> {
    let input = match input.sent_by_window() {
        Ok(input) => input,
        Err(e) => return Ok(vec![e]),
    };
    // The first validation builds the engine, which reads the profile's secrets.
    off_main(&state, move |desk| Ok(desk.validate(&input))).await
}

#[tauri::command]
pub async fn start_flow<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    input: RawFlowInput,
) -> Result<FlowId> {
    let input = input.sent_by_window()?;
    state
        .desk
        .start(&input, events::sink(app, state.desk.lang()))
        .await
}

#[tauri::command]
pub async fn cancel_flow(state: State<'_, AppState>, flow_id: String) -> Result<()> {
    state.desk.cancel(&FlowId::from(flow_id)).await
}

/// Opens a running Sign API v2 flow's signing page in the desk's sandboxed window (a customer at
/// the desk signs there instead of scanning the QR code). Async, like `open_customer_display`:
/// building a window from a synchronous command deadlocks on Windows (review finding N-9).
#[tauri::command]
pub async fn open_signing_window<R: Runtime>(app: AppHandle<R>, flow_id: String) -> Result<()> {
    let flow_id = FlowId::from(flow_id);
    if crate::redirect::open_signing(&app, &flow_id) {
        Ok(())
    } else {
        Err(Error::NotFound(format!(
            "no signing page for flow {flow_id}"
        )))
    }
}

#[tauri::command]
pub fn running_flows(state: State<'_, AppState>) -> Vec<RunningFlow> {
    state.desk.running()
}

#[tauri::command]
pub async fn list_history(
    state: State<'_, AppState>,
    kind: Option<String>,
    status: Option<String>,
    staff: Option<String>,
    limit: Option<usize>,
) -> Result<Vec<HistoryEntry>> {
    off_main(&state, move |desk| {
        desk.history(
            kind.as_deref(),
            status.as_deref(),
            staff.as_deref(),
            limit.unwrap_or(200),
        )
    })
    .await
}

#[tauri::command]
pub async fn verify_evidence(state: State<'_, AppState>, id: String) -> Result<bool> {
    off_main(&state, move |desk| desk.verify(&FlowId::from(id))).await
}

/// Exports a signature's evidence into a folder staff choose in the OS folder picker, opened
/// here in Rust: the page never names a path. `None` when staff close the picker.
#[tauri::command]
pub async fn export_evidence<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
) -> Result<Option<String>> {
    use tauri_plugin_dialog::DialogExt;
    let (start, title) = state.desk.export_prompt();
    let mut picker = app.dialog().file().set_title(title).set_directory(start);
    if let Some(main) = app.get_webview_window("main") {
        picker = picker.set_parent(&main);
    }
    // The picker blocks until staff answer: never on the window's main thread.
    let chosen = tauri::async_runtime::spawn_blocking(move || picker.blocking_pick_folder())
        .await
        .map_err(|e| Error::Io(format!("the folder picker stopped: {e}")))?;
    let Some(chosen) = chosen else {
        return Ok(None);
    };
    let folder = chosen
        .into_path()
        .map_err(|e| Error::invalid_input("folder", e.to_string()))?;
    off_main(&state, move |desk| {
        let path = desk.export(&FlowId::from(id), &folder)?;
        Ok(Some(path.display().to_string()))
    })
    .await
}

#[tauri::command]
pub async fn list_profiles(state: State<'_, AppState>) -> Result<ProfileList> {
    off_main(&state, |desk| desk.profiles()).await
}

#[tauri::command]
pub async fn activate_profile(state: State<'_, AppState>, name: String) -> Result<()> {
    off_main(&state, move |desk| desk.activate(&name)).await
}

#[tauri::command]
pub async fn check_profile(
    state: State<'_, AppState>,
    name: Option<String>,
) -> Result<Vec<CheckStep>> {
    state.desk.check(name.as_deref()).await
}

#[tauri::command]
pub async fn secret_status(
    state: State<'_, AppState>,
    profile: String,
) -> Result<Vec<SecretStatus>> {
    off_main(&state, move |desk| desk.secret_status(&profile)).await
}

/// Write-only: the value goes to the OS keyring and is never returned.
#[tauri::command]
pub async fn set_secret(
    state: State<'_, AppState>,
    profile: String,
    name: SecretName,
    value: String,
) -> Result<()> {
    let value = SecretString::new(value);
    off_main(&state, move |desk| desk.set_secret(&profile, name, value)).await
}

#[tauri::command]
pub async fn delete_secret(
    state: State<'_, AppState>,
    profile: String,
    name: SecretName,
) -> Result<bool> {
    off_main(&state, move |desk| desk.delete_secret(&profile, name)).await
}

#[tauri::command]
pub async fn set_preferences<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    prefs: Preferences,
) -> Result<()> {
    off_main(&state, move |desk| desk.set_preferences(prefs)).await?;
    // The customer display speaks the desk's language.
    display::refresh(&app);
    Ok(())
}

/// The screen-pop link waiting for the Identify form, checked as typed input is; `None` when
/// there is none. Nothing is sent.
#[tauri::command]
pub fn take_screen_pop(state: State<'_, AppState>) -> Result<Option<ScreenPop>> {
    state.desk.take_screen_pop(&state.screen_pop).transpose()
}

/// The page has booted (see `AppState::window_ready`).
#[tauri::command]
pub fn window_ready(state: State<'_, AppState>) {
    state.window_ready();
}

#[tauri::command]
pub fn customer_display_status<R: Runtime>(app: AppHandle<R>) -> DisplayStatus {
    display::status(&app)
}

/// Async: a window is created, which must not block the main thread's event loop.
#[tauri::command]
pub async fn open_customer_display<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> Result<DisplayStatus> {
    state.desk.customer_display_allowed()?;
    display::open(&app)
}

#[tauri::command]
pub fn close_customer_display<R: Runtime>(app: AppHandle<R>) -> DisplayStatus {
    display::close(&app)
}

/// The agent picked a flow in the running-flows list.
#[tauri::command]
pub fn show_on_customer_display<R: Runtime>(
    app: AppHandle<R>,
    flow_id: String,
) -> Result<DisplayStatus> {
    display::show(&app, &FlowId::from(flow_id))
}

#[tauri::command]
pub fn set_display_merchant<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    merchant: String,
) -> Result<()> {
    state.display.set_merchant(&merchant)?;
    display::refresh(&app);
    Ok(())
}
