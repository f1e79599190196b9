//! The customer's phone: orders (REST sessions and legacy OIDC orders alike), their personas, and
//! their state over time. Transitions are computed lazily on every read from the scenario's
//! timeline, so the moment SUCCESS becomes visible is exactly the scheduled instant.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::error::SimError;
use crate::persona::{self, FailCode, Person, Scenario, Step};
use crate::qr;

/// Which API created the order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Rest,
    Oidc,
}

/// How the customer is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Norwegian BankID Safe Conversation: push + binding message.
    NbidSafeConversation,
    /// Norwegian BankID on mobile: phone number + birth date (REST and legacy `nbid-inapp`).
    NbidMobile,
    /// Swedish BankID, animated QR code.
    SbidQr,
    /// Swedish BankID, app launch with `autoStartToken` (REST `APP_LAUNCH` and legacy `sbid-inapp`).
    SbidAppLaunch,
    /// Swedish BankID Phone: staff and the customer are in a call; the customer opens the app,
    /// confirms the call (`userCallConfirm`) and identifies (REST `PHONE`, CIBA `phoneAuth`).
    SbidPhone,
    /// Swedish BankID Digital ID card: staff scanned the card's QR code (REST `sbid-idcard`); the
    /// simulator's check plays the order, not the customer (see [`crate::idcard`]).
    #[serde(rename = "sbid_idcard")]
    SbidIdCard,
}

impl Method {
    pub fn is_swedish(self) -> bool {
        matches!(
            self,
            Method::SbidQr | Method::SbidAppLaunch | Method::SbidPhone | Method::SbidIdCard
        )
    }

    /// Staff and the customer are in a call, so the customer can say in the app that they are
    /// not (`userDeclinedCall`).
    pub fn is_call(self) -> bool {
        matches!(self, Method::NbidSafeConversation | Method::SbidPhone)
    }

    /// The relying party starts the app (QR code or `autoStartToken`), which BankID gives up on
    /// after a while (`startFailed`). A Phone customer opens the app themselves any time before
    /// the order expires.
    fn starts_the_app(self) -> bool {
        matches!(self, Method::SbidQr | Method::SbidAppLaunch)
    }

    /// The error title a relying party sees for `code` on an order of this method.
    pub fn failure_title(self, code: FailCode) -> &'static str {
        match (self, code) {
            (Method::NbidSafeConversation, _) => code.title(),
            (_, FailCode::WrongBindingMessage) => {
                "The customer said in the BankID app that they are not in a call with you."
            }
            _ => code.title(),
        }
    }
}

/// Who called whom in a phone authentication, with BankID's spelling (`callInitiator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CallInitiator {
    /// The customer called the relying party.
    #[serde(rename = "user")]
    User,
    /// The relying party called the customer.
    #[serde(rename = "RP")]
    Rp,
}

impl CallInitiator {
    /// BankID's values, case-sensitive: `user` or `RP`.
    pub fn parse(s: &str) -> Option<CallInitiator> {
        match s {
            "user" => Some(CallInitiator::User),
            "RP" => Some(CallInitiator::Rp),
            _ => None,
        }
    }
}

/// What the relying party asked beyond the identity, kept on the order so the phone view (and
/// the tests) can see what the customer's app would show.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Requested {
    /// Phone authentication: who called whom.
    pub call_initiator: Option<CallInitiator>,
    /// Swedish BankID: the intention text, decoded from `sbid_intention_text`.
    pub intention_text: Option<String>,
    /// Swedish BankID: `sbid_requirement_mrtd` (extra control of a passport or ID card).
    pub requirement_mrtd: Option<bool>,
    /// Swedish BankID: `sbid_return_risk`; SUCCESS then carries `sbidRisk`.
    pub return_risk: Option<bool>,
    /// CIBA: `authorization_details` as sent (RFC 9396).
    pub authorization_details: Option<serde_json::Value>,
}

/// Who the order is for, as the relying party gave it (already validated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    NorwegianNin(String),
    /// 8 national digits and the birth date.
    NorwegianPhone {
        phone: String,
        birth_date: Date,
    },
    /// A 12-digit personnummer, or none (any Swedish customer may scan the QR code).
    SwedishNin(Option<String>),
}

impl Identity {
    /// Masked for display (never the full number).
    pub fn masked(&self) -> String {
        match self {
            Identity::NorwegianNin(n) => crate::identity::mask(n),
            Identity::NorwegianPhone { phone, birth_date } => {
                let tail: String = phone.chars().skip(phone.len().saturating_sub(2)).collect();
                format!("phone ******{tail}, born {birth_date}")
            }
            Identity::SwedishNin(Some(n)) => crate::identity::mask(n),
            Identity::SwedishNin(None) => "(anyone who scans)".to_owned(),
        }
    }
}

/// What the caller asks the phone to do.
#[derive(Clone, Debug)]
pub struct OrderSpec {
    pub family: Family,
    pub method: Method,
    pub identity: Identity,
    /// Time until the order expires (EXPIRED / `EXPIRED_TRANSACTION`).
    pub lifetime: Duration,
    /// Consent Signature: the text the customer signs.
    pub sign_text: Option<String>,
    /// CIBA: the binding message the client sent (Safe Conversation words are generated when
    /// `None`).
    pub binding_message: Option<String>,
    pub requested: Requested,
    /// Replaces the persona's (or the interactive) scenario: the ID card check is the
    /// simulator's own, whoever the card belongs to.
    pub scenario: Option<Scenario>,
}

/// The order's state, family-neutral.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum OrderStatus {
    Created,
    WaitingForUser,
    Success,
    /// The customer cancelled in the app (REST `ABORT`, legacy `USER_CANCEL`).
    Aborted,
    Failed(FailCode),
    /// The relying party cancelled.
    Cancelled,
    Expired,
}

impl OrderStatus {
    pub fn is_terminal(self) -> bool {
        !matches!(self, OrderStatus::Created | OrderStatus::WaitingForUser)
    }

    /// The REST API's status string.
    pub fn rest_status(self) -> &'static str {
        match self {
            OrderStatus::Created => "CREATED",
            OrderStatus::WaitingForUser => "WAITING_FOR_USER",
            OrderStatus::Success => "SUCCESS",
            OrderStatus::Aborted => "ABORT",
            OrderStatus::Failed(_) => "ERROR",
            OrderStatus::Cancelled => "CANCELLED",
            OrderStatus::Expired => "EXPIRED",
        }
    }
}

/// A consistent picture of one order at one instant.
#[derive(Clone, Debug)]
pub struct OrderSnapshot {
    pub id: String,
    pub family: Family,
    pub method: Method,
    pub identity: Identity,
    pub status: OrderStatus,
    /// QR scanned / push opened / app launched.
    pub picked_up: bool,
    /// The person the order resolves to (the subject on SUCCESS).
    pub person: Person,
    pub persona: Option<&'static str>,
    pub binding_message: Option<String>,
    /// The word pairs the phone offers (Safe Conversation), the right one among them.
    pub binding_choices: Vec<String>,
    pub auto_start_token: Option<String>,
    /// The current animated QR string, only while a QR order is not yet picked up.
    pub qr_data: Option<String>,
    /// QR orders: the server-side `qrStartSecret` (tests verify `qr_data` against it).
    pub qr_start_secret: Option<String>,
    pub sign_text: Option<String>,
    pub requested: Requested,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub lifetime: Duration,
    /// When SUCCESS became visible.
    pub approved_at: Option<Instant>,
    pub approved_at_wall: Option<OffsetDateTime>,
    /// When the order reached its terminal state.
    pub finished_at: Option<Instant>,
}

impl OrderSnapshot {
    /// BankID's hint code while the order is open, where the simulator reports one: a Phone
    /// customer who opened the app is asked to confirm the call.
    pub fn hint_code(&self) -> Option<&'static str> {
        (self.method == Method::SbidPhone && self.status == OrderStatus::WaitingForUser)
            .then_some("userCallConfirm")
    }
}

const WORD_PAIRS: &[&str] = &[
    "Snedig redning",
    "Blå fjord",
    "Rask elg",
    "Stille hav",
    "Grønn skog",
    "Varm kaffe",
    "Lett bris",
    "Klok ugle",
    "Modig ørn",
    "Rolig elv",
    "Lys morgen",
    "Sterk bjørk",
];

struct Order {
    id: String,
    spec: OrderSpec,
    person: Person,
    persona: Option<&'static str>,
    /// Scaled offsets from `created`.
    steps: Vec<(Duration, Step)>,
    next_step: usize,
    status: OrderStatus,
    picked_up: bool,
    binding_message: Option<String>,
    binding_choices: Vec<String>,
    auto_start_token: Option<String>,
    qr_start_token: String,
    qr_start_secret: String,
    created: Instant,
    created_wall: OffsetDateTime,
    qr_scan_timeout: Duration,
    approved_at: Option<Instant>,
    finished_at: Option<Instant>,
}

impl Order {
    fn expires(&self) -> Instant {
        self.created + self.spec.lifetime
    }

    fn start_deadline(&self) -> Option<Instant> {
        (self.spec.method.starts_the_app() && !self.picked_up)
            .then(|| self.created + self.qr_scan_timeout)
    }

    /// Applies every scheduled event up to `now`, in time order.
    fn advance(&mut self, now: Instant) {
        while !self.status.is_terminal() {
            let step = self
                .steps
                .get(self.next_step)
                .map(|(at, step)| (self.created + *at, *step));
            let mut next: Option<(Instant, Event)> = step.map(|(at, s)| (at, Event::Step(s)));
            for (at, event) in [
                (Some(self.expires()), Event::Expire),
                (self.start_deadline(), Event::StartTimeout),
            ] {
                if let Some(at) = at {
                    if next.is_none_or(|(n, _)| at < n) {
                        next = Some((at, event));
                    }
                }
            }
            let Some((at, event)) = next else { return };
            if at > now {
                return;
            }
            match event {
                Event::Step(step) => {
                    self.next_step += 1;
                    self.apply(step, at);
                }
                Event::Expire => self.finish(OrderStatus::Expired, at),
                Event::StartTimeout => self.finish(OrderStatus::Failed(FailCode::StartFailed), at),
            }
        }
    }

    fn apply(&mut self, step: Step, at: Instant) {
        match step {
            Step::PickUp => {
                self.picked_up = true;
                self.status = OrderStatus::WaitingForUser;
            }
            Step::Approve => {
                self.picked_up = true;
                self.approved_at = Some(at);
                self.finish(OrderStatus::Success, at);
            }
            Step::Reject => self.finish(OrderStatus::Aborted, at),
            Step::Fail(code) => self.finish(OrderStatus::Failed(code), at),
        }
    }

    fn finish(&mut self, status: OrderStatus, at: Instant) {
        self.status = status;
        self.finished_at = Some(at);
    }

    fn snapshot(&self, now: Instant) -> OrderSnapshot {
        let qr_data =
            (self.spec.method == Method::SbidQr && !self.picked_up && !self.status.is_terminal())
                .then(|| {
                    let t = now.saturating_duration_since(self.created).as_secs();
                    qr::qr_data(&self.qr_start_token, &self.qr_start_secret, t)
                });
        let wall = |i: Instant| self.created_wall + i.saturating_duration_since(self.created);
        OrderSnapshot {
            id: self.id.clone(),
            family: self.spec.family,
            method: self.spec.method,
            identity: self.spec.identity.clone(),
            status: self.status,
            picked_up: self.picked_up,
            person: self.person.clone(),
            persona: self.persona,
            binding_message: self.binding_message.clone(),
            binding_choices: self.binding_choices.clone(),
            auto_start_token: self.auto_start_token.clone(),
            qr_data,
            qr_start_secret: (self.spec.method == Method::SbidQr)
                .then(|| self.qr_start_secret.clone()),
            sign_text: self.spec.sign_text.clone(),
            requested: self.spec.requested.clone(),
            created_at: self.created_wall,
            expires_at: self.created_wall + self.spec.lifetime,
            lifetime: self.spec.lifetime,
            approved_at: self.approved_at,
            approved_at_wall: self.approved_at.map(wall),
            finished_at: self.finished_at,
        }
    }

    fn require_active(&self, what: &str) -> Result<(), SimError> {
        if self.status.is_terminal() {
            return Err(SimError::InvalidAction {
                id: self.id.clone(),
                reason: format!("cannot {what}: the order is already {:?}", self.status),
            });
        }
        Ok(())
    }

    /// A control action replaces the rest of the persona's script.
    fn take_over(&mut self) {
        self.next_step = self.steps.len();
    }
}

#[derive(Clone, Copy)]
enum Event {
    Step(Step),
    Expire,
    StartTimeout,
}

/// All orders of one simulator. Cheap to clone.
#[derive(Clone)]
pub struct Phone {
    orders: Arc<Mutex<HashMap<String, Order>>>,
    time_scale: f64,
    qr_scan_timeout: Duration,
}

impl Phone {
    pub(crate) fn new(time_scale: f64, qr_scan_timeout: Duration) -> Self {
        Phone {
            orders: Arc::default(),
            time_scale: if time_scale.is_finite() && time_scale > 0.0 {
                time_scale
            } else {
                0.0
            },
            qr_scan_timeout,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Order>> {
        // A panic while holding the lock cannot leave an order half-updated in a way that matters
        // for a simulator; keep serving.
        self.orders.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates an order: the push is "sent" now and the persona (if any) starts its scenario.
    /// Returns `None` only if the identity cannot be resolved to a person (invalid numbers are
    /// rejected by the callers before).
    pub fn create(&self, spec: OrderSpec) -> Option<OrderSnapshot> {
        let (person, persona_scenario) = resolve(&spec.identity)?;
        let id = uuid::Uuid::new_v4().to_string();
        let mut rng = rand::thread_rng();
        let (binding_message, binding_choices) = if spec.method == Method::NbidSafeConversation {
            let mut picks: Vec<String> = WORD_PAIRS
                .choose_multiple(&mut rng, 3)
                .map(|s| (*s).to_owned())
                .collect();
            if let (Some(given), Some(first)) = (&spec.binding_message, picks.first_mut()) {
                first.clone_from(given);
            }
            let right = picks.first().cloned();
            let mut choices = picks;
            choices.shuffle(&mut rng);
            (right, choices)
        } else {
            (None, Vec::new())
        };
        let (scenario, persona) = match &spec.scenario {
            Some(own) => (own.clone(), Some(own.description)),
            None => {
                let persona = is_persona(&spec.identity).then_some(persona_scenario.description);
                (persona_scenario, persona)
            }
        };
        let steps = scenario
            .steps
            .iter()
            .map(|(at, s)| (at.mul_f64(self.time_scale), *s))
            .collect();
        let now = Instant::now();
        let order = Order {
            id: id.clone(),
            person,
            persona,
            steps,
            next_step: 0,
            status: OrderStatus::Created,
            picked_up: false,
            binding_message,
            binding_choices,
            auto_start_token: spec
                .method
                .starts_the_app()
                .then(|| uuid::Uuid::new_v4().to_string()),
            qr_start_token: uuid::Uuid::new_v4().to_string(),
            qr_start_secret: uuid::Uuid::new_v4().to_string(),
            created: now,
            created_wall: OffsetDateTime::now_utc(),
            qr_scan_timeout: self.qr_scan_timeout,
            approved_at: None,
            finished_at: None,
            spec,
        };
        let snapshot = order.snapshot(now);
        self.lock().insert(id, order);
        Some(snapshot)
    }

    /// The order as of now (scheduled transitions applied).
    pub fn get(&self, id: &str) -> Option<OrderSnapshot> {
        let now = Instant::now();
        let mut orders = self.lock();
        let order = orders.get_mut(id)?;
        order.advance(now);
        Some(order.snapshot(now))
    }

    /// Every order, oldest first.
    pub fn list(&self) -> Vec<OrderSnapshot> {
        let now = Instant::now();
        let mut orders = self.lock();
        let mut out: Vec<OrderSnapshot> = orders
            .values_mut()
            .map(|o| {
                o.advance(now);
                o.snapshot(now)
            })
            .collect();
        out.sort_by_key(|o| o.created_at);
        out
    }

    /// The relying party cancels. A terminal order stays as it is (the caller sees its state).
    pub fn cancel(&self, id: &str) -> Option<OrderSnapshot> {
        self.act(id, |o, now| {
            if !o.status.is_terminal() {
                o.take_over();
                o.finish(OrderStatus::Cancelled, now);
            }
            Ok(())
        })
        .ok()
    }

    /// The customer identifies (for Safe Conversation: picks the right words; for a QR order that
    /// was not scanned yet: scans and identifies).
    pub fn approve(&self, id: &str) -> Result<OrderSnapshot, SimError> {
        self.act(id, |o, now| {
            o.require_active("approve")?;
            o.take_over();
            o.apply(Step::Approve, now);
            Ok(())
        })
    }

    /// The customer cancels in the app.
    pub fn reject(&self, id: &str) -> Result<OrderSnapshot, SimError> {
        self.act(id, |o, now| {
            o.require_active("reject")?;
            o.take_over();
            o.apply(Step::Reject, now);
            Ok(())
        })
    }

    /// The customer scans the QR code / opens the push / launches the app.
    pub fn scan(&self, id: &str) -> Result<OrderSnapshot, SimError> {
        self.act(id, |o, now| {
            o.require_active("scan")?;
            if o.picked_up {
                return Err(SimError::InvalidAction {
                    id: o.id.clone(),
                    reason: "already picked up".to_owned(),
                });
            }
            o.take_over();
            o.apply(Step::PickUp, now);
            Ok(())
        })
    }

    /// The customer picks words on Safe Conversation: the right ones identify, any other fails
    /// the order.
    pub fn pick_binding_message(&self, id: &str, text: &str) -> Result<OrderSnapshot, SimError> {
        self.act(id, |o, now| {
            o.require_active("pick words")?;
            let Some(right) = o.binding_message.clone() else {
                return Err(SimError::InvalidAction {
                    id: o.id.clone(),
                    reason: "this order has no binding message".to_owned(),
                });
            };
            o.take_over();
            if text.trim() == right {
                o.apply(Step::Approve, now);
            } else {
                o.apply(Step::Fail(FailCode::WrongBindingMessage), now);
            }
            Ok(())
        })
    }

    /// The customer says in the app that they are not in a call with the relying party
    /// (`userDeclinedCall`); only orders made during a call can be declined.
    pub fn decline_call(&self, id: &str) -> Result<OrderSnapshot, SimError> {
        self.act(id, |o, now| {
            o.require_active("decline the call")?;
            if !o.spec.method.is_call() {
                return Err(SimError::InvalidAction {
                    id: o.id.clone(),
                    reason: "only an order made during a phone call can be declined".to_owned(),
                });
            }
            o.take_over();
            o.apply(Step::Fail(FailCode::WrongBindingMessage), now);
            Ok(())
        })
    }

    /// Forgets every order (tests, Training mode "clear").
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn act(
        &self,
        id: &str,
        f: impl FnOnce(&mut Order, Instant) -> Result<(), SimError>,
    ) -> Result<OrderSnapshot, SimError> {
        let now = Instant::now();
        let mut orders = self.lock();
        let order = orders
            .get_mut(id)
            .ok_or_else(|| SimError::UnknownSession(id.to_owned()))?;
        order.advance(now);
        f(order, now)?;
        Ok(order.snapshot(now))
    }
}

fn is_persona(identity: &Identity) -> bool {
    match identity {
        Identity::NorwegianNin(n) | Identity::SwedishNin(Some(n)) => persona::by_nin(n).is_some(),
        Identity::NorwegianPhone { phone, birth_date } => {
            persona::by_phone(phone, *birth_date).is_some()
        }
        Identity::SwedishNin(None) => false,
    }
}

fn resolve(identity: &Identity) -> Option<(Person, Scenario)> {
    let found = match identity {
        Identity::NorwegianNin(n) | Identity::SwedishNin(Some(n)) => persona::by_nin(n),
        Identity::NorwegianPhone { phone, birth_date } => persona::by_phone(phone, *birth_date),
        Identity::SwedishNin(None) => None,
    };
    if let Some(p) = found {
        return Some((p.person, p.scenario));
    }
    let person = match identity {
        Identity::NorwegianNin(n) => persona::stranger_norwegian(n)?,
        Identity::SwedishNin(Some(n)) => persona::stranger_swedish(n)?,
        Identity::NorwegianPhone { birth_date, .. } => {
            persona::stranger_by_birth_date(*birth_date)?
        }
        Identity::SwedishNin(None) => persona::anonymous_swedish()?,
    };
    Some((person, Scenario::interactive()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_for(phone: &Phone, method: Method, identity: Identity, lifetime: Duration) -> String {
        phone
            .create(OrderSpec {
                family: Family::Rest,
                method,
                identity,
                lifetime,
                sign_text: None,
                binding_message: None,
                requested: Requested::default(),
                scenario: None,
            })
            .unwrap()
            .id
    }

    /// The order's state as seen `after` its creation (no sleeping: the clock is an argument).
    fn at(phone: &Phone, id: &str, after: Duration) -> (OrderStatus, bool) {
        let mut orders = phone.lock();
        let o = orders.get_mut(id).unwrap();
        let now = o.created + after;
        o.advance(now);
        (o.status, o.picked_up)
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn persona_timeline_is_applied_in_order() {
        let phone = Phone::new(1.0, secs(30.0));
        let id = order_for(
            &phone,
            Method::NbidSafeConversation,
            Identity::NorwegianNin("29124815345".into()),
            secs(1200.0),
        );
        assert_eq!(at(&phone, &id, secs(0.5)), (OrderStatus::Created, false));
        assert_eq!(
            at(&phone, &id, secs(1.5)),
            (OrderStatus::WaitingForUser, true)
        );
        assert_eq!(at(&phone, &id, secs(2.0)).0, OrderStatus::Success);
        let snap = phone.get(&id).unwrap();
        let created = phone.lock().get(&id).unwrap().created;
        assert_eq!(
            snap.approved_at,
            Some(created + secs(2.0)),
            "exact approval instant"
        );
    }

    #[test]
    fn expiry_wins_over_a_later_step() {
        let phone = Phone::new(1.0, secs(30.0));
        let id = order_for(
            &phone,
            Method::NbidSafeConversation,
            Identity::NorwegianNin("29124815345".into()),
            secs(1.8),
        );
        assert_eq!(at(&phone, &id, secs(5.0)).0, OrderStatus::Expired);
        assert!(phone.get(&id).unwrap().approved_at.is_none());
    }

    #[test]
    fn time_scale_shrinks_persona_delays() {
        let phone = Phone::new(0.1, secs(30.0));
        let id = order_for(
            &phone,
            Method::NbidSafeConversation,
            Identity::NorwegianNin("01100844350".into()),
            secs(1200.0),
        );
        assert_eq!(at(&phone, &id, secs(0.15)).0, OrderStatus::WaitingForUser);
        assert_eq!(at(&phone, &id, secs(0.2)).0, OrderStatus::Aborted);
    }

    #[test]
    fn swedish_orders_fail_when_not_picked_up_in_time() {
        let phone = Phone::new(1.0, secs(30.0));
        let never = order_for(
            &phone,
            Method::SbidQr,
            Identity::SwedishNin(Some("198503151238".into())),
            secs(1200.0),
        );
        assert_eq!(at(&phone, &never, secs(29.9)).0, OrderStatus::Created);
        assert_eq!(
            at(&phone, &never, secs(30.0)).0,
            OrderStatus::Failed(FailCode::StartFailed)
        );
        // Picked up in time: the QR deadline no longer applies, only expiry.
        let silent = order_for(
            &phone,
            Method::SbidAppLaunch,
            Identity::SwedishNin(Some("199207071235".into())),
            secs(100.0),
        );
        assert_eq!(
            at(&phone, &silent, secs(60.0)),
            (OrderStatus::WaitingForUser, true)
        );
        assert_eq!(at(&phone, &silent, secs(100.0)).0, OrderStatus::Expired);
    }

    #[test]
    fn a_control_action_replaces_the_rest_of_the_script() {
        let phone = Phone::new(1.0, secs(30.0));
        let id = order_for(
            &phone,
            Method::NbidSafeConversation,
            Identity::NorwegianNin("29124815345".into()),
            secs(1200.0),
        );
        phone.reject(&id).unwrap();
        assert_eq!(at(&phone, &id, secs(10.0)).0, OrderStatus::Aborted);
        assert!(phone.approve(&id).is_err());
        assert_eq!(phone.cancel(&id).unwrap().status, OrderStatus::Aborted);
    }

    #[test]
    fn phone_orders_confirm_the_call_and_never_fail_to_start() {
        let phone = Phone::new(1.0, secs(30.0));
        let karin = order_for(
            &phone,
            Method::SbidPhone,
            Identity::SwedishNin(Some("198702142343".into())),
            secs(1200.0),
        );
        let snap = phone.get(&karin).unwrap();
        assert!(snap.auto_start_token.is_none() && snap.qr_data.is_none());
        assert_eq!(snap.hint_code(), None);
        assert_eq!(
            at(&phone, &karin, secs(1.5)),
            (OrderStatus::WaitingForUser, true)
        );
        assert_eq!(
            phone.get(&karin).unwrap().hint_code(),
            Some("userCallConfirm")
        );
        assert_eq!(
            at(&phone, &karin, secs(2.0)).0,
            OrderStatus::Failed(FailCode::WrongBindingMessage)
        );
        // An interactive customer may take longer than the QR deadline to open the app.
        let stranger = order_for(
            &phone,
            Method::SbidPhone,
            Identity::SwedishNin(Some("197711201231".into())),
            secs(100.0),
        );
        assert_eq!(at(&phone, &stranger, secs(60.0)).0, OrderStatus::Created);
        phone.decline_call(&stranger).unwrap();
        assert_eq!(
            phone.get(&stranger).unwrap().status,
            OrderStatus::Failed(FailCode::WrongBindingMessage)
        );
        let qr = order_for(
            &phone,
            Method::SbidQr,
            Identity::SwedishNin(None),
            secs(100.0),
        );
        assert!(phone.decline_call(&qr).is_err(), "no call to decline");
        assert_eq!(
            Method::SbidPhone.failure_title(FailCode::WrongBindingMessage),
            "The customer said in the BankID app that they are not in a call with you."
        );
    }

    #[test]
    fn qr_data_only_for_unscanned_qr_orders() {
        let phone = Phone::new(1.0, secs(30.0));
        let qr = order_for(
            &phone,
            Method::SbidQr,
            Identity::SwedishNin(None),
            secs(1200.0),
        );
        let app = order_for(
            &phone,
            Method::SbidAppLaunch,
            Identity::SwedishNin(None),
            secs(1200.0),
        );
        assert!(phone.get(&qr).unwrap().qr_data.is_some());
        assert!(phone.get(&app).unwrap().qr_data.is_none());
        assert!(phone.get(&app).unwrap().auto_start_token.is_some());
        phone.scan(&qr).unwrap();
        assert!(phone.get(&qr).unwrap().qr_data.is_none());
    }

    #[test]
    fn unknown_phone_customers_get_a_valid_number_for_their_birth_date() {
        let phone = Phone::new(1.0, secs(30.0));
        let dob = time::macros::date!(1990 - 01 - 31);
        let id = order_for(
            &phone,
            Method::NbidMobile,
            Identity::NorwegianPhone {
                phone: "41111111".into(),
                birth_date: dob,
            },
            secs(1200.0),
        );
        let snap = phone.get(&id).unwrap();
        assert_eq!(snap.persona, None);
        assert_eq!(
            crate::identity::norwegian_birth_date(&snap.person.nin),
            Some(dob)
        );
        assert_eq!(snap.identity.masked(), "phone ******11, born 1990-01-31");
    }
}
