//! Training mode built in (the default `training` feature): the in-process simulator plays
//! Signicat and the customer's phone.

use id_desk_core::desk::training::{self, PhoneAction, PhoneRequest};
use id_desk_core::desk::{Desk, DeskPaths, ProfileChoice, Training};
use id_desk_core::Error;
use tauri::State;

use crate::state::AppState;

type Result<T> = std::result::Result<T, Error>;

pub type Simulator = id_desk_simulator::Simulator;

/// Starts the simulator when `choice` resolves to Training.
pub async fn start(
    paths: &DeskPaths,
    choice: &ProfileChoice,
) -> Result<(Option<Simulator>, Option<Training>)> {
    if !Desk::needs_training(paths, choice) {
        return Ok((None, None));
    }
    let (sim, t) = training::start().await?;
    Ok((Some(sim), Some(t)))
}

/// Lets the simulator make its RSA keys once the window is up.
pub fn warm_up(sim: Option<&Simulator>) {
    if let Some(sim) = sim {
        sim.warm_up_keys();
    }
}

fn sim<'a>(state: &'a State<'_, AppState>) -> Result<&'a Simulator> {
    state
        .simulator
        .as_ref()
        .ok_or_else(|| Error::NotFound("the training phone exists only in Training mode".into()))
}

/// Training mode's customer phone: requests waiting on it.
#[tauri::command]
pub fn sim_sessions(state: State<'_, AppState>) -> Result<Vec<PhoneRequest>> {
    Ok(training::phone_requests(&sim(&state)?.control()))
}

#[tauri::command]
pub fn sim_act(
    state: State<'_, AppState>,
    id: String,
    action: PhoneAction,
    text: Option<String>,
) -> Result<()> {
    training::phone_act(&sim(&state)?.control(), &id, action, text.as_deref())
}

/// A fresh Swedish BankID ID card QR payload for a personnummer, as the customer's BankID app
/// would show it (the training phone's "Show ID card").
#[tauri::command]
pub fn sim_idcard(state: State<'_, AppState>, nin: String) -> Result<String> {
    training::idcard_qr(&sim(&state)?.control(), &nin)
}
