//! In-process control: act as the customer's phone, inject faults, read statistics.

use std::time::Duration;

use serde::Serialize;

use crate::error::SimError;
use crate::faults::Fault;
use crate::phone::{Family, Method, OrderSnapshot, Requested};
use crate::state::AppState;
use crate::stats::Stats;

/// What the customer's phone shows for one session or order (Training mode's phone panel).
#[derive(Clone, Debug, Serialize)]
pub struct SessionView {
    /// REST session id or OIDC order ref.
    pub id: String,
    pub family: Family,
    pub method: Method,
    /// REST status names for both families (`CREATED`, `WAITING_FOR_USER`, `SUCCESS`, ...).
    pub status: &'static str,
    /// `certificateErr`, `startFailed`, `userDeclinedCall`, `invalidQrData`, `idCardQrExpired`
    /// when `status` is `ERROR`.
    pub error_code: Option<&'static str>,
    /// BankID's hint code while open (`userCallConfirm` when a Phone customer opened the app).
    pub hint_code: Option<&'static str>,
    /// Masked identity as given by the relying party.
    pub identity: String,
    /// The customer's name (masked identity numbers only).
    pub customer_name: String,
    pub binding_message: Option<String>,
    /// Word pairs the phone offers (Safe Conversation).
    pub binding_choices: Vec<String>,
    pub picked_up: bool,
    /// Current animated QR string while a QR order waits to be scanned.
    pub qr_data: Option<String>,
    /// QR orders: the secret behind `qr_data`, for tests that check the HMAC. Never served over
    /// the HTTP control API (Signicat never reveals it either).
    #[serde(skip)]
    pub qr_start_secret: Option<String>,
    pub auto_start_token: Option<String>,
    /// Consent Signature: the text to sign.
    pub sign_text: Option<String>,
    /// What the relying party asked (call initiator, decoded intention text, extra control, risk,
    /// CIBA `authorization_details`); flattened into this object's JSON.
    #[serde(flatten)]
    pub requested: Requested,
    /// Built-in persona's behaviour, `None` for interactive customers.
    pub persona: Option<&'static str>,
    /// RFC 3339.
    pub created_at: String,
    pub expires_at: String,
    pub approved_at_unix_ns: Option<u64>,
}

impl From<OrderSnapshot> for SessionView {
    fn from(o: OrderSnapshot) -> Self {
        let error_code = match o.status {
            crate::phone::OrderStatus::Failed(code) => Some(code.rest_code()),
            _ => None,
        };
        SessionView {
            hint_code: o.hint_code(),
            id: o.id,
            family: o.family,
            method: o.method,
            status: o.status.rest_status(),
            error_code,
            identity: o.identity.masked(),
            customer_name: o.person.name(),
            binding_message: o.binding_message,
            binding_choices: o.binding_choices,
            picked_up: o.picked_up,
            qr_data: o.qr_data,
            qr_start_secret: o.qr_start_secret,
            auto_start_token: o.auto_start_token,
            sign_text: o.sign_text,
            requested: o.requested,
            persona: o.persona,
            created_at: crate::timefmt::signicat(o.created_at),
            expires_at: crate::timefmt::signicat(o.expires_at),
            approved_at_unix_ns: o.approved_at_wall.map(crate::timefmt::unix_ns),
        }
    }
}

/// Cheap to clone; shares the simulator's state.
#[derive(Clone)]
pub struct Control {
    state: AppState,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("base_url", &self.state.base_url())
            .finish()
    }
}

impl Control {
    pub(crate) fn new(state: AppState) -> Self {
        Control { state }
    }

    /// Sign API v2: how many documents, document collections and signing sessions are stored
    /// (what the desk has not deleted).
    pub fn sign_counts(&self) -> (usize, usize, usize) {
        self.state.sign().counts()
    }

    /// Every session and order, oldest first.
    pub fn sessions(&self) -> Vec<SessionView> {
        self.state
            .phone()
            .list()
            .into_iter()
            .map(SessionView::from)
            .collect()
    }

    /// One session or order.
    pub fn session(&self, id: &str) -> Result<SessionView, SimError> {
        self.state
            .phone()
            .get(id)
            .map(SessionView::from)
            .ok_or_else(|| SimError::UnknownSession(id.to_owned()))
    }

    /// The customer identifies (picks the right words; scans first if needed).
    pub fn approve(&self, id: &str) -> Result<(), SimError> {
        self.state.phone().approve(id).map(drop)
    }

    /// The customer cancels in the app.
    pub fn reject(&self, id: &str) -> Result<(), SimError> {
        self.state.phone().reject(id).map(drop)
    }

    /// The customer scans the QR code (or opens the push / launches the app).
    pub fn scan_qr(&self, id: &str) -> Result<(), SimError> {
        self.state.phone().scan(id).map(drop)
    }

    /// The customer picks words; anything but the binding message fails the session.
    pub fn pick_binding_message(&self, id: &str, text: &str) -> Result<(), SimError> {
        self.state.phone().pick_binding_message(id, text).map(drop)
    }

    /// The customer says in the app that they are not in a call with you (`userDeclinedCall`):
    /// Swedish BankID Phone and Safe Conversation orders.
    pub fn decline_call(&self, id: &str) -> Result<(), SimError> {
        self.state.phone().decline_call(id).map(drop)
    }

    /// A Digital ID card QR payload for this 12-digit personnummer, issued now (the format is in
    /// [`crate::idcard`]). Valid for [`Control::idcard_qr_validity`].
    pub fn idcard_qr(&self, nin: &str) -> Result<String, SimError> {
        if crate::identity::swedish_birth_date(nin).is_none() {
            return Err(SimError::InvalidIdentity(crate::identity::mask(nin)));
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        Ok(crate::idcard::qr_data(nin, now))
    }

    /// How long an ID card payload stays valid here ([`crate::idcard::VALIDITY`], scaled).
    pub fn idcard_qr_validity(&self) -> Duration {
        self.state.config().scaled(crate::idcard::VALIDITY)
    }

    /// Adds a fault for the next `fault.times` matching requests.
    pub fn inject(&self, fault: Fault) {
        self.state.faults().inject(fault);
    }

    /// Faults not used up yet.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.state.faults().pending()
    }

    /// Bytes of 20 MB-style answers (`HugeBody`) the simulator managed to hand to its clients'
    /// connections: far below the answer's size when the client stopped reading.
    pub fn huge_bytes_streamed(&self) -> u64 {
        self.state.faults().huge_bytes_streamed()
    }

    pub fn clear_faults(&self) {
        self.state.faults().clear();
    }

    /// Counters plus the approval instant of every session that succeeded.
    pub fn stats(&self) -> Stats {
        let mut stats = self.state.counters().snapshot();
        for order in self.state.phone().list() {
            if let Some(at) = order.approved_at {
                let s = stats.sessions.entry(order.id.clone()).or_default();
                s.approved_at = Some(at);
                s.approved_at_unix_ns = order.approved_at_wall.map(crate::timefmt::unix_ns);
            }
        }
        stats
    }

    pub fn reset_stats(&self) {
        self.state.counters().reset();
    }

    /// Forgets every session and order (Training mode "clear").
    pub fn clear_sessions(&self) {
        self.state.phone().clear();
    }

    /// The built-in personas (for Training mode's cheat sheet).
    pub fn personas(&self) -> Vec<crate::persona::Persona> {
        crate::persona::all()
    }
}
