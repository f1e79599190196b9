//! The call centre and the counter against the simulator over real HTTP: Swedish BankID Phone
//! (confirms the call, declines it, never answers), the phone-call retry rules, the Digital ID
//! card (valid, expired), and CIBA phone authentication.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use id_desk_core::flow::{FlowEvent, Method, USER_DECLINED_CALL};
use id_desk_core::rest::protocol::SbidPhoneOptions;
use id_desk_core::runner::{exit_code, Engine, FlowRequest, FlowSettings, RawFlowInput};
use rest_support::*;
use std::time::Duration;

const ANNA_APPROVES: &str = "198304062717";
const KARIN_DECLINES_CALL: &str = "198702142343";
const LISA_NEVER_ANSWERS: &str = "199207071235";

fn phone_settings() -> FlowSettings {
    FlowSettings {
        sbid_phone: SbidPhoneOptions {
            extra_control: false,
            return_risk: true,
        },
        ..settings()
    }
}

fn phone(nin: &str, call: &str) -> RawFlowInput {
    RawFlowInput {
        nin: Some(nin.into()),
        call_initiator: Some(call.into()),
        intention: Some("Du identifierar dig för *kundtjänst*".into()),
        ..RawFlowInput::new(Method::SbidPhone)
    }
}

async fn finish(engine: &Engine, rec: &Recorder, raw: &RawFlowInput, retry: bool) -> FlowEvent {
    let req = FlowRequest::parse(raw, &phone_settings()).unwrap();
    let id = engine
        .start_confirmed(req, retry, rec.sink())
        .await
        .unwrap();
    let terminal = tokio::time::timeout(Duration::from_secs(15), engine.wait(&id))
        .await
        .expect("a terminal event")
        .unwrap();
    assert_well_formed(&rec.events(&id));
    terminal
}

fn phone_engine(sim: &id_desk_simulator::Simulator) -> Engine {
    Engine::with_timeouts(Some(rest_config(sim)), phone_settings(), TEST_TIMEOUTS).unwrap()
}

#[tokio::test]
async fn a_caller_who_confirms_the_call_is_verified_with_the_risk_indication() {
    // Real time: Anna confirms the call for a whole second, so a 1 s poll sees it.
    let sim = simulator(|cfg| cfg.time_scale = 1.0).await;
    let engine = phone_engine(&sim);
    let rec = Recorder::default();
    let terminal = finish(&engine, &rec, &phone(ANNA_APPROVES, "user"), false).await;
    let FlowEvent::Succeeded { subject } = &terminal else {
        panic!("{terminal:?}")
    };
    assert_eq!(subject.nin.as_deref(), Some(ANNA_APPROVES));
    assert_eq!(subject.country.as_deref(), Some("SE"));
    assert_eq!(subject.risk.as_deref(), Some("low"));
    // BankID's own words while the customer confirms the call.
    let all: Vec<FlowEvent> = rec.all().into_iter().map(|r| r.update.event).collect();
    assert!(
        all.iter().any(
            |e| matches!(e, FlowEvent::Progress { status, .. } if status == "userCallConfirm")
        ),
        "{all:?}"
    );
    // What reached the simulator: the Phone mechanism, who called whom, the decoded intention.
    let session = &sim.control().sessions()[0];
    let asked = serde_json::to_value(session).unwrap();
    let text = asked.to_string();
    assert!(
        text.contains("Du identifierar dig för *kundtjänst*"),
        "{text}"
    );
    assert!(text.contains("\"user\""), "{text}");
}

#[tokio::test]
async fn a_declined_call_is_its_own_outcome_and_ends_the_retries() {
    let sim = simulator(|_| {}).await;
    let engine = phone_engine(&sim);
    let rec = Recorder::default();
    let raw = phone(KARIN_DECLINES_CALL, "rp");
    let terminal = finish(&engine, &rec, &raw, false).await;
    match &terminal {
        FlowEvent::Failed { code, message } => {
            assert_eq!(code, USER_DECLINED_CALL);
            assert!(message.contains("do not retry"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(exit_code(&terminal), 3);
    // Not even with staff's confirmation: nothing is sent again in this call.
    let req = FlowRequest::parse(&raw, &phone_settings()).unwrap();
    let e = engine
        .start_confirmed(req, true, rec.sink())
        .await
        .unwrap_err();
    assert_eq!(e.field(), Some("retry"));
    assert!(e.to_string().contains("fraud routine"), "{e}");
    assert_eq!(
        sim.control().stats().creates(),
        1,
        "exactly one order reached the phone"
    );
}

#[tokio::test]
async fn two_retries_per_call_each_confirmed_then_none() {
    let sim = simulator(|cfg| {
        cfg.session_lifetime_override = Some(Duration::from_secs(2));
    })
    .await;
    let engine = phone_engine(&sim);
    let rec = Recorder::default();
    let raw = phone(LISA_NEVER_ANSWERS, "user");
    assert_eq!(finish(&engine, &rec, &raw, false).await, FlowEvent::Expired);
    for retry in 1..=2 {
        let req = FlowRequest::parse(&raw, &phone_settings()).unwrap();
        let e = engine.start(req, rec.sink()).await.unwrap_err();
        assert_eq!(e.field(), Some("retry_confirmed"));
        assert!(
            e.to_string().contains(&format!("retry {retry} of 2")),
            "{e}"
        );
        assert_eq!(finish(&engine, &rec, &raw, true).await, FlowEvent::Expired);
    }
    let req = FlowRequest::parse(&raw, &phone_settings()).unwrap();
    let e = engine
        .start_confirmed(req, true, rec.sink())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no more orders"), "{e}");
    assert_eq!(
        sim.control().stats().creates(),
        3,
        "the first send and two retries"
    );
}

/// The simulator's ID card payload: `BANKIDF.` + hex of `"{personnummer}:{issued unix seconds}"`.
fn idcard_payload(nin: &str, issued: i64) -> String {
    let hex: String = format!("{nin}:{issued}")
        .bytes()
        .map(|b| format!("{b:02X}"))
        .collect();
    format!("BANKIDF.{hex}")
}

async fn idcard(engine: &Engine, rec: &Recorder, qr: String) -> FlowEvent {
    let raw = RawFlowInput {
        qr_data: Some(qr),
        ..RawFlowInput::new(Method::SbidIdCard)
    };
    finish(engine, rec, &raw, false).await
}

#[tokio::test]
async fn an_id_card_scanned_at_the_counter_is_verified_and_an_old_code_is_told_apart() {
    let sim = simulator(|_| {}).await;
    let engine = phone_engine(&sim);
    let rec = Recorder::default();
    let fresh = sim.control().idcard_qr(ANNA_APPROVES).unwrap();
    match idcard(&engine, &rec, format!("{fresh}\r\n")).await {
        FlowEvent::Succeeded { subject } => {
            assert_eq!(subject.nin.as_deref(), Some(ANNA_APPROVES));
            assert_eq!(subject.country.as_deref(), Some("SE"));
        }
        other => panic!("{other:?}"),
    }
    let old = idcard_payload(
        ANNA_APPROVES,
        time::OffsetDateTime::now_utc().unix_timestamp() - 3600,
    );
    match idcard(&engine, &rec, old).await {
        FlowEvent::Failed { code, message } => {
            assert_eq!(code, "idcard_expired");
            assert!(message.contains("show the ID card again"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // A scan that is not an ID card never leaves the desk.
    let raw = RawFlowInput {
        qr_data: Some("https://example.com/".into()),
        ..RawFlowInput::new(Method::SbidIdCard)
    };
    assert_eq!(
        FlowRequest::parse(&raw, &phone_settings())
            .unwrap_err()
            .field(),
        Some("qr_data")
    );
    assert_eq!(sim.control().stats().creates(), 2);
}
