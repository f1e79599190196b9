#![allow(clippy::unwrap_used, clippy::expect_used)]
//! CIBA in Training mode: the desk's CIBA client against the simulator's CIBA (the acceptance
//! tests against `oidc-provider` are in `ciba.rs`). The Safe Conversation personas answer; the
//! customer's phone offers the desk's binding message among other word pairs.

mod oidc_support;

use id_desk_core::ciba::{CibaConfig, ClientAuth, HintKind};
use id_desk_core::flow::{EventSink, FlowEvent, Method};
use id_desk_core::runner::{Engine, FlowRequest, FlowSettings, RawFlowInput};
use id_desk_core::secrets::SecretString;
use id_desk_simulator::Simulator;
use oidc_support::sim;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

fn engine(sim: &Simulator, secret: &str) -> Engine {
    let c = sim.config();
    Engine::new(None, settings())
        .unwrap()
        .with_ciba(CibaConfig {
            issuer: Url::parse(&sim.issuer()).unwrap(),
            client_id: c.oidc_client.client_id.clone(),
            auth: ClientAuth::Basic {
                secret: SecretString::new(secret),
            },
            scope: "openid profile".into(),
            acr_values: None,
            requested_expiry: None,
            country: Some("NO".into()),
        })
        .unwrap()
}

fn settings() -> FlowSettings {
    FlowSettings {
        allow_test_identities: true,
        ciba_hint_kind: HintKind::NinNo,
        ..FlowSettings::default()
    }
}

async fn run(engine: &Engine, nin: &str, binding: Option<&str>) -> (FlowEvent, Vec<FlowEvent>) {
    let mut raw = RawFlowInput::new(Method::Ciba);
    raw.login_hint = Some(nin.into());
    raw.binding_message = binding.map(str::to_string);
    let req = FlowRequest::parse(&raw, &settings()).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let sink: EventSink = Arc::new(move |u| s.lock().unwrap().push(u.event));
    let id = engine.start(req, sink).await.unwrap();
    let terminal = tokio::time::timeout(Duration::from_secs(30), engine.wait(&id))
        .await
        .expect("ends")
        .expect("known");
    let events = seen.lock().unwrap().clone();
    (terminal, events)
}

#[tokio::test]
async fn the_personas_answer_a_ciba_request() {
    let sim = sim().await;
    let secret = sim.config().oidc_client.client_secret.clone();
    let engine = engine(&sim, &secret);

    let (done, events) = run(&engine, "29124815345", Some("Blåbær på kø 7")).await;
    let FlowEvent::Succeeded { subject } = &done else {
        panic!("Kari approves: {done:?}");
    };
    assert_eq!(subject.name, "Kari Nordmann");
    assert_eq!(subject.nin.as_deref(), Some("29124815345"));
    assert_eq!(subject.loa.as_deref(), Some("high"));
    assert!(events.contains(&FlowEvent::BindingMessage {
        text: "Blåbær på kø 7".into()
    }));
    // The customer's phone offered the desk's words among its choices.
    let order = sim
        .control()
        .sessions()
        .into_iter()
        .find(|o| o.binding_message.as_deref() == Some("Blåbær på kø 7"))
        .expect("the phone order carries the desk's binding message");
    assert!(order.binding_choices.iter().any(|c| c == "Blåbær på kø 7"));
    assert_eq!(order.binding_choices.len(), 3);

    let (done, _) = run(&engine, "01100844350", None).await;
    assert!(
        matches!(&done, FlowEvent::Failed { code, .. } if code == "customer_aborted"),
        "Ola aborts: {done:?}"
    );
    let (done, _) = run(&engine, "23017500112", None).await;
    assert!(
        matches!(&done, FlowEvent::Failed { code, .. } if code == "transaction_failed"),
        "Berit's BankID fails: {done:?}"
    );
    let (done, _) = run(&engine, "30049200079", None).await;
    assert!(
        matches!(&done, FlowEvent::Failed { code, .. } if code == "transaction_failed"),
        "Per picks the wrong words: {done:?}"
    );
}

#[tokio::test]
async fn a_wrong_client_secret_is_refused_before_any_phone_rings() {
    let sim = sim().await;
    let engine = engine(&sim, "not-the-secret");
    let (done, _) = run(&engine, "29124815345", None).await;
    assert!(
        matches!(&done, FlowEvent::Failed { code, .. } if code == "unauthorized"),
        "{done:?}"
    );
    assert!(sim.control().sessions().is_empty());
}

/// A provider that runs CIBA as Swedish BankID Phone (Idura): the desk says who called whom in
/// `authorization_details`, and a customer who says they are not in a call is its own outcome.
#[tokio::test]
async fn phone_authentication_names_who_called_and_a_declined_call_is_its_own_outcome() {
    let sim = sim().await;
    let secret = sim.config().oidc_client.client_secret.clone();
    let engine = engine(&sim, &secret);
    let phone = FlowSettings {
        ciba_hint_kind: HintKind::PnrSe,
        ciba_phone_auth: true,
        ..settings()
    };
    let mut raw = RawFlowInput::new(Method::Ciba);
    raw.login_hint = Some("198702142343".into()); // Karin: "I am not in a call"
    assert_eq!(
        FlowRequest::parse(&raw, &phone).unwrap_err().field(),
        Some("call_initiator"),
        "no default for who called whom"
    );
    raw.call_initiator = Some("rp".into());
    let req = FlowRequest::parse(&raw, &phone).unwrap();
    let sink: EventSink = Arc::new(|_| {});
    let id = engine.start(req, sink).await.unwrap();
    let done = tokio::time::timeout(Duration::from_secs(30), engine.wait(&id))
        .await
        .expect("ends")
        .expect("known");
    match &done {
        FlowEvent::Failed { code, .. } => assert_eq!(code, "user_declined_call"),
        other => panic!("{other:?}"),
    }
    assert_eq!(id_desk_core::runner::exit_code(&done), 3);
    let order = serde_json::to_value(&sim.control().sessions()[0]).unwrap();
    assert_eq!(
        order["authorization_details"],
        serde_json::json!([{"type": "phoneAuth", "callInitiator": "RP"}]),
        "{order}"
    );
}
