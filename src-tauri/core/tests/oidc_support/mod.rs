//! Shared helpers of the `oidc_*` tests: a simulator, an `OidcClient` pointed at it, a flow
//! context that collects events, and the built-in legacy personas.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use id_desk_core::flow::{FlowContext, FlowEvent, FlowId, FlowUpdate, Method, PollConfig};
use id_desk_core::identity::{BirthDate, NorwegianMobile, SignText, SwedishPersonnummer};
use id_desk_core::messages::Lang;
use id_desk_core::oidc::{LegacyAuth, LegacySign, OidcClient, OidcConfig, TestKnobs};
use id_desk_core::secrets::SecretString;
use id_desk_simulator::{Simulator, SimulatorConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use url::Url;

pub const REDIRECT: &str = "https://id-desk.invalid/callback";

pub async fn sim() -> Simulator {
    sim_with(|_| {}).await
}

/// Personas act at 5 % of real time ("approves after 2 s" → 100 ms); `tweak` adjusts the rest.
pub async fn sim_with(tweak: impl FnOnce(&mut SimulatorConfig)) -> Simulator {
    let mut cfg = SimulatorConfig::for_tests();
    cfg.time_scale = 0.05;
    tweak(&mut cfg);
    Simulator::start(cfg).await.unwrap()
}

pub fn oidc_config(sim: &Simulator) -> OidcConfig {
    let c = sim.config();
    OidcConfig {
        issuer: Url::parse(&sim.issuer()).unwrap(),
        client_id: c.oidc_client.client_id.clone(),
        client_secret: SecretString::new(c.oidc_client.client_secret.clone()),
        sign_client_id: c.sign_client.client_id.clone(),
        sign_client_secret: SecretString::new(c.sign_client.client_secret.clone()),
        redirect_uri: Url::parse(REDIRECT).unwrap(),
        max_wait: Duration::from_secs(20),
    }
}

pub fn client(sim: &Simulator) -> OidcClient {
    OidcClient::new(oidc_config(sim)).unwrap()
}

pub fn client_with(sim: &Simulator, knobs: TestKnobs) -> OidcClient {
    OidcClient::new_with_test_knobs(oidc_config(sim), knobs).unwrap()
}

/// A flow context whose events land in `events`.
pub struct Ctx {
    pub ctx: FlowContext,
    pub events: Arc<Mutex<Vec<FlowEvent>>>,
}

impl Ctx {
    pub fn new(method: Method) -> Ctx {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink_events = events.clone();
        let ctx = FlowContext {
            flow_id: FlowId::new(),
            method,
            sink: Arc::new(move |u: FlowUpdate| sink_events.lock().unwrap().push(u.event)),
            cancel: CancellationToken::new(),
            lang: Lang::En,
            // The floor: tests poll once a second.
            poll: PollConfig::new(Duration::from_secs(1), Duration::from_secs(1)),
        };
        Ctx { ctx, events }
    }

    pub fn events(&self) -> Vec<FlowEvent> {
        self.events.lock().unwrap().clone()
    }

    pub fn event_types(&self) -> Vec<String> {
        self.events()
            .iter()
            .map(|e| {
                serde_json::to_value(e).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }
}

/// Kari Mobil (07128300141): approves.
pub fn nbid_approves() -> LegacyAuth {
    LegacyAuth::Nbid {
        phone: NorwegianMobile::parse("+47 998 87 766").unwrap(),
        birthdate: BirthDate::parse("1983-12-07").unwrap(),
    }
}

/// Trond Avbryter (23017500384): cancels in the app.
pub fn nbid_cancels() -> LegacyAuth {
    LegacyAuth::Nbid {
        phone: NorwegianMobile::parse("91234567").unwrap(),
        birthdate: BirthDate::parse("230175").unwrap(),
    }
}

/// Anna Andersson: approves.
pub fn sbid_approves() -> LegacyAuth {
    LegacyAuth::Sbid {
        nin: SwedishPersonnummer::parse("198304062717").unwrap(),
    }
}

/// Erik Avbrytare: cancels in the app (USER_CANCEL).
pub fn sbid_cancels() -> LegacyAuth {
    LegacyAuth::Sbid {
        nin: SwedishPersonnummer::parse("199010270537").unwrap(),
    }
}

pub const SIGN_TEXT: &str =
    "Jeg bekrefter lån på 25 000 kr.\nÆrlig talt: blåbærsyltetøy & <xml> \"sitater\" – Åsa Öberg";

pub fn sign(signer: LegacyAuth) -> LegacySign {
    LegacySign {
        signer,
        text: SignText::parse(SIGN_TEXT).unwrap(),
    }
}
