//! A desk built without Training (`--no-default-features`, for banks that want no simulator on
//! their PCs): no simulator is compiled in, the training phone's commands say so, and a desk
//! without a usable profile shows why it cannot open instead of practising.

use id_desk_core::desk::{DeskPaths, ProfileChoice, Training};
use id_desk_core::Error;

type Result<T> = std::result::Result<T, Error>;

/// No value of this type exists: there is never a simulator in this build.
pub enum Simulator {}

pub async fn start(
    _paths: &DeskPaths,
    _choice: &ProfileChoice,
) -> Result<(Option<Simulator>, Option<Training>)> {
    Ok((None, None))
}

pub fn warm_up(_sim: Option<&Simulator>) {}

fn absent() -> Error {
    Error::NotFound("this ID Desk is built without Training mode".into())
}

#[tauri::command]
pub fn sim_sessions() -> Result<Vec<serde_json::Value>> {
    Err(absent())
}

#[tauri::command]
pub fn sim_act(id: String, action: serde_json::Value, text: Option<String>) -> Result<()> {
    let _ = (id, action, text);
    Err(absent())
}

#[tauri::command]
pub fn sim_idcard(nin: String) -> Result<String> {
    let _ = nin;
    Err(absent())
}
