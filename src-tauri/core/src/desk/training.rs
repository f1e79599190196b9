//! Training mode: the in-process simulator plays Signicat and the customer's phone, so staff can
//! practise without contacting anyone. Its client secrets are generated at start and held in
//! memory only.

use id_desk_simulator::phone::Method as SimMethod;
use id_desk_simulator::{Control, SessionView, Simulator, SimulatorConfig};
use serde::{Deserialize, Serialize};

use super::Training;
use crate::profile::TrainingIds;
use crate::secrets::{SecretName, SecretString};
use crate::{Error, Result};

/// Starts the simulator on 127.0.0.1 (any free port) with real-time personas.
pub async fn start() -> Result<(Simulator, Training)> {
    start_with(SimulatorConfig::training()).await
}

pub async fn start_with(config: SimulatorConfig) -> Result<(Simulator, Training)> {
    let sim = Simulator::start(config)
        .await
        .map_err(|e| Error::Network(format!("the Training simulator could not start: {e}")))?;
    let training = describe(&sim)?;
    Ok((sim, training))
}

/// What the desk needs to know about a running simulator.
pub fn describe(sim: &Simulator) -> Result<Training> {
    let cfg = sim.config();
    let redirect_uri = cfg.redirect_uris.first().cloned().ok_or_else(|| {
        Error::invalid_config(
            "training.redirect_uri",
            "the simulator allows no redirect_uri",
        )
    })?;
    Ok(Training {
        base_url: sim.base_url(),
        issuer: sim.issuer(),
        ids: TrainingIds {
            account_id: cfg.account_id.clone(),
            rest_client_id: cfg.rest_client.client_id.clone(),
            oidc_client_id: cfg.oidc_client.client_id.clone(),
            sign_client_id: cfg.sign_client.client_id.clone(),
            redirect_uri,
        },
        secrets: vec![
            (
                SecretName::RestClientSecret,
                SecretString::new(cfg.rest_client.client_secret.clone()),
            ),
            (
                SecretName::OidcClientSecret,
                SecretString::new(cfg.oidc_client.client_secret.clone()),
            ),
            (
                SecretName::SignClientSecret,
                SecretString::new(cfg.sign_client.client_secret.clone()),
            ),
            (
                SecretName::CibaClientSecret,
                SecretString::new(cfg.oidc_client.client_secret.clone()),
            ),
        ],
    })
}

/// One request on the training phone, as the phone panel shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PhoneRequest {
    pub id: String,
    pub title: String,
    /// Masked identity and the customer's name.
    pub identity: String,
    pub status: String,
    /// Still waiting for the customer.
    pub pending: bool,
    /// A QR order not yet scanned.
    pub needs_scan: bool,
    /// Safe Conversation: the word pairs offered; picking the wrong one fails the session.
    pub binding_choices: Vec<String>,
    pub sign_text: Option<String>,
    /// Swedish BankID Phone: the app asks whether the customer is in a call with us.
    pub asks_about_call: bool,
    /// Why the caller is asked (the intention text BankID shows).
    pub intention: Option<String>,
}

impl From<SessionView> for PhoneRequest {
    fn from(s: SessionView) -> Self {
        let pending = matches!(s.status, "CREATED" | "WAITING_FOR_USER");
        let title = match (s.method, s.sign_text.is_some()) {
            (_, true) => "Sign with BankID",
            (SimMethod::NbidSafeConversation, _) => "BankID — a call from your bank",
            (SimMethod::NbidMobile, _) => "BankID on mobile",
            (SimMethod::SbidQr, _) => "BankID — scan the QR code",
            (SimMethod::SbidAppLaunch, _) => "BankID — identify",
            (SimMethod::SbidPhone, _) => "BankID — are you in a call with ID Desk Training?",
            (SimMethod::SbidIdCard, _) => "BankID — ID card check",
        };
        let asks_about_call = pending && s.method == SimMethod::SbidPhone;
        PhoneRequest {
            title: title.to_string(),
            identity: format!("{} · {}", s.customer_name, s.identity),
            status: s.status.to_string(),
            pending,
            needs_scan: pending && s.method == SimMethod::SbidQr && !s.picked_up,
            binding_choices: if pending {
                s.binding_choices
            } else {
                Vec::new()
            },
            sign_text: s.sign_text,
            asks_about_call,
            intention: s.requested.intention_text,
            id: s.id,
        }
    }
}

/// What the customer does on the training phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneAction {
    Approve,
    Reject,
    Scan,
    Pick,
    /// "I am not in a call": Swedish BankID Phone's fraud warning.
    Decline,
}

/// The training phone: requests waiting on it, newest first.
pub fn phone_requests(control: &Control) -> Vec<PhoneRequest> {
    let mut all: Vec<PhoneRequest> = control
        .sessions()
        .into_iter()
        .map(PhoneRequest::from)
        .collect();
    all.reverse();
    all
}

pub fn phone_act(
    control: &Control,
    id: &str,
    action: PhoneAction,
    text: Option<&str>,
) -> Result<()> {
    let done = match action {
        PhoneAction::Approve => control.approve(id),
        PhoneAction::Reject => control.reject(id),
        PhoneAction::Scan => control.scan_qr(id),
        PhoneAction::Decline => control.decline_call(id),
        PhoneAction::Pick => {
            let text =
                text.ok_or_else(|| Error::invalid_input("text", "pick needs the words picked"))?;
            control.pick_binding_message(id, text)
        }
    };
    done.map_err(|e| Error::NotFound(e.to_string()))
}

/// A fresh ID card QR payload for `nin`, as the customer's BankID app shows it.
pub fn idcard_qr(control: &Control, nin: &str) -> Result<String> {
    control
        .idcard_qr(nin)
        .map_err(|e| Error::invalid_input("nin", e.to_string()))
}
