//! Shared by the REST integration tests: a simulator per test, an engine pointed at it, and a sink
//! that records every event with the wall-clock instant it arrived.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use id_desk_core::flow::{EventSink, FlowEvent, FlowId, FlowUpdate, Method, PollConfig};
use id_desk_core::rest::{HttpTimeouts, RestConfig};
use id_desk_core::runner::{Engine, FlowRequest, FlowSettings, RawFlowInput};
use id_desk_core::secrets::SecretString;
use id_desk_simulator::{Simulator, SimulatorConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

pub async fn simulator(tweak: impl FnOnce(&mut SimulatorConfig)) -> Simulator {
    let mut cfg = SimulatorConfig::for_tests();
    tweak(&mut cfg);
    Simulator::start(cfg).await.expect("simulator starts")
}

pub fn rest_config(sim: &Simulator) -> RestConfig {
    let cfg = sim.config();
    let base = sim.base_url();
    RestConfig {
        base_url: Url::parse(&base).unwrap(),
        token_url: Url::parse(&format!("{base}/auth/open/connect/token")).unwrap(),
        account_id: cfg.account_id.clone(),
        client_id: cfg.rest_client.client_id.clone(),
        client_secret: SecretString::new(cfg.rest_client.client_secret.clone()),
    }
}

/// Polls as fast as the floor allows, so tests stay short.
pub fn settings() -> FlowSettings {
    FlowSettings {
        legacy_methods: true,
        allow_test_identities: true,
        sbid_end_user_ip: Some("203.0.113.7".into()),
        poll: PollConfig::new(Duration::from_secs(1), Duration::from_secs(1)),
        ..FlowSettings::default()
    }
}

/// Short request timeout: the create-timeout test injects a latency longer than this.
pub const TEST_TIMEOUTS: HttpTimeouts = HttpTimeouts {
    connect: Duration::from_secs(2),
    request: Duration::from_secs(2),
};

pub fn engine(sim: &Simulator) -> Engine {
    Engine::with_timeouts(Some(rest_config(sim)), settings(), TEST_TIMEOUTS).unwrap()
}

pub fn input(method: Method, nin: Option<&str>) -> RawFlowInput {
    let mut raw = RawFlowInput::new(method);
    raw.nin = nin.map(str::to_string);
    // Safe Conversation is for customers who called us (BankID Norge's rule): staff confirm it.
    if method == Method::NbidSafeConversation {
        raw.call_initiator = Some("user".into());
    }
    raw
}

pub fn mobile_input(phone: &str, birthdate: &str) -> RawFlowInput {
    let mut raw = RawFlowInput::new(Method::NbidMobile);
    raw.phone = Some(phone.into());
    raw.birthdate = Some(birthdate.into());
    raw
}

pub fn request(raw: &RawFlowInput) -> FlowRequest {
    FlowRequest::parse(raw, &settings()).unwrap()
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub wall_ns: u64,
    pub update: FlowUpdate,
}

/// Records every update; cheap to clone.
#[derive(Clone, Default)]
pub struct Recorder {
    inner: Arc<Mutex<Vec<Recorded>>>,
}

pub fn now_ns() -> u64 {
    u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos()).unwrap()
}

impl Recorder {
    pub fn sink(&self) -> EventSink {
        let inner = self.inner.clone();
        Arc::new(move |update: FlowUpdate| {
            inner.lock().unwrap().push(Recorded {
                wall_ns: now_ns(),
                update,
            });
        })
    }

    pub fn all(&self) -> Vec<Recorded> {
        self.inner.lock().unwrap().clone()
    }

    pub fn of(&self, id: &FlowId) -> Vec<Recorded> {
        self.all()
            .into_iter()
            .filter(|r| &r.update.flow_id == id)
            .collect()
    }

    pub fn events(&self, id: &FlowId) -> Vec<FlowEvent> {
        self.of(id).into_iter().map(|r| r.update.event).collect()
    }

    /// Waits (up to 10 s) until an event of this flow matches.
    pub async fn until(&self, id: &FlowId, pred: impl Fn(&FlowEvent) -> bool) -> FlowEvent {
        for _ in 0..1000 {
            if let Some(e) = self.events(id).into_iter().find(|e| pred(e)) {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no matching event; got {:?}", self.events(id));
    }
}

/// The tag of an event (`started`, `qr`, ...), for order checks.
pub fn tag(e: &FlowEvent) -> String {
    serde_json::to_value(e).unwrap()["type"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Checks the per-flow grammar: `started` first, exactly one terminal event, and it is last.
pub fn assert_well_formed(events: &[FlowEvent]) {
    let tags: Vec<String> = events.iter().map(tag).collect();
    assert!(!events.is_empty(), "no events");
    let terminals = events.iter().filter(|e| e.is_terminal()).count();
    assert_eq!(terminals, 1, "exactly one terminal event: {tags:?}");
    assert!(
        events.last().unwrap().is_terminal(),
        "terminal last: {tags:?}"
    );
    if events.len() > 1 {
        assert_eq!(tags[0], "started", "started first: {tags:?}");
    }
}

/// Valid fødselsnumre born 1 January 1980 (individual numbers 000–499 → 19xx), not personas: the
/// simulator treats them as interactive customers.
pub fn valid_nins(n: usize) -> Vec<String> {
    const W1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
    const W2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let check = |digits: &[u32], w: &[u32]| {
        let s: u32 = digits.iter().zip(w).map(|(d, w)| d * w).sum();
        match 11 - s % 11 {
            11 => Some(0),
            10 => None,
            k => Some(k),
        }
    };
    (100..500)
        .filter_map(|ind: u32| {
            let base = format!("010180{ind:03}");
            let mut d: Vec<u32> = base.chars().map(|c| c.to_digit(10).unwrap()).collect();
            d.push(check(&d, &W1)?);
            d.push(check(&d, &W2)?);
            Some(
                d.iter()
                    .map(|x| char::from_digit(*x, 10).unwrap())
                    .collect(),
            )
        })
        .take(n)
        .collect()
}
