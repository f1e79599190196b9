#![allow(clippy::unwrap_used, clippy::expect_used)]
//! CIBA acceptance tests against a peer we did not write: node `oidc-provider` (OpenID Certified)
//! in CIBA poll mode on loopback (`tests/ciba-peer/`). The peer's control API plays the customer's
//! device: approve, deny, slow_down, and a forged ID token on its way out.

mod ciba_peer;

use ciba_peer::{Peer, BASIC_CLIENT, JWT_CLIENT};
use id_desk_core::ciba::{CibaConfig, ClientAuth, HintKind, SigningAlg};
use id_desk_core::flow::{EventSink, FlowEvent, FlowUpdate, Method};
use id_desk_core::runner::{exit_code, Engine, FlowRequest, FlowSettings, RawFlowInput};
use id_desk_core::secrets::SecretString;
use id_desk_core::vault::{ListFilter, TxStatus, Vault};
use josekit::jwk::alg::rsa::RsaKeyPair;
use josekit::jws::alg::rsassa::RsassaJwsAlgorithm;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

fn settings(kind: HintKind) -> FlowSettings {
    FlowSettings {
        allow_test_identities: true,
        ciba_hint_kind: kind,
        ..FlowSettings::default()
    }
}

fn config(peer: &Peer, auth: ClientAuth, client_id: &str) -> CibaConfig {
    CibaConfig {
        issuer: Url::parse(&peer.issuer).unwrap(),
        client_id: client_id.into(),
        auth,
        scope: "openid profile".into(),
        acr_values: None,
        requested_expiry: None,
        country: Some("NO".into()),
    }
}

fn basic(peer: &Peer) -> CibaConfig {
    config(
        peer,
        ClientAuth::Basic {
            secret: SecretString::new(peer.basic_secret.clone()),
        },
        BASIC_CLIENT,
    )
}

fn key_pair() -> RsaKeyPair {
    RsassaJwsAlgorithm::Rs256.generate_key_pair(2048).unwrap()
}

fn public_jwk(pair: &RsaKeyPair, kid: &str) -> serde_json::Value {
    let mut jwk = pair.to_jwk_public_key();
    jwk.set_key_id(kid);
    jwk.set_algorithm("RS256");
    jwk.set_key_use("sig");
    serde_json::to_value(jwk.as_ref()).unwrap()
}

struct Run {
    terminal: FlowEvent,
    events: Vec<FlowEvent>,
}

fn recorder() -> (EventSink, Arc<Mutex<Vec<FlowUpdate>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    (Arc::new(move |u| s.lock().unwrap().push(u)), seen)
}

fn raw(hint: &str, binding: Option<&str>) -> RawFlowInput {
    let mut r = RawFlowInput::new(Method::Ciba);
    r.login_hint = Some(hint.into());
    r.binding_message = binding.map(str::to_string);
    r
}

/// Starts a flow for `input`; `customer` acts on the peer once the request is there.
async fn run<F, Fut>(engine: &Engine, input: RawFlowInput, kind: HintKind, customer: F) -> Run
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let req = FlowRequest::parse(&input, &settings(kind)).unwrap();
    let (sink, seen) = recorder();
    let id = engine.start(req, sink).await.unwrap();
    customer().await;
    let terminal = tokio::time::timeout(Duration::from_secs(60), engine.wait(&id))
        .await
        .expect("the flow ends")
        .expect("known flow");
    let events = seen
        .lock()
        .unwrap()
        .iter()
        .map(|u| u.event.clone())
        .collect();
    Run { terminal, events }
}

fn engine_with(cfg: CibaConfig, vault: Option<&Vault>) -> Engine {
    let e = Engine::new(None, settings(HintKind::Text))
        .unwrap()
        .with_ciba(cfg)
        .unwrap();
    match vault {
        Some(v) => e.with_vault(v.clone(), Some("ciba-test".into())),
        None => e,
    }
}

fn binding_of(events: &[FlowEvent]) -> String {
    events
        .iter()
        .find_map(|e| match e {
            FlowEvent::BindingMessage { text } => Some(text.clone()),
            _ => None,
        })
        .expect("a binding_message event")
}

#[tokio::test]
async fn client_secret_basic_succeeds_at_the_default_interval_and_is_recorded() {
    // The peer advertises no interval: CIBA's default of 5 s applies.
    let peer = Peer::start(None, None).await;
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let engine = engine_with(basic(&peer), Some(&vault));
    let hint = "29124815345";
    let r = run(&engine, raw(hint, None), HintKind::NinNo, || async {
        let pending = peer.wait_pending(hint).await;
        // Two polls answered authorization_pending before the customer approves.
        while peer.polls(hint).await.len() < 2 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(pending["params"]["scope"], "openid profile");
        peer.approve(hint).await;
    })
    .await;

    let FlowEvent::Succeeded { subject } = &r.terminal else {
        panic!("expected success, got {:?}", r.terminal);
    };
    assert_eq!(subject.name, "Kari Nordmann");
    assert_eq!(subject.nin.as_deref(), Some("29124815345"));
    assert_eq!(subject.date_of_birth.as_deref(), Some("1948-12-29"));
    assert_eq!(subject.country.as_deref(), Some("NO"));
    // The binding message is shown before anything else happens after `started`.
    let kinds: Vec<&str> = r
        .events
        .iter()
        .map(|e| match e {
            FlowEvent::Started { .. } => "started",
            FlowEvent::BindingMessage { .. } => "binding_message",
            FlowEvent::Progress { .. } => "progress",
            FlowEvent::Succeeded { .. } => "succeeded",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        ["started", "binding_message", "progress", "succeeded"]
    );
    let polls = peer.polls(hint).await;
    for gap in polls.windows(2).map(|w| w[1] - w[0]) {
        assert!(gap >= 4_900, "polled {gap} ms apart, under the default 5 s");
    }
    let rows = vault.list(&ListFilter::default(), 10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, TxStatus::Succeeded);
    assert_eq!(rows[0].identity_masked.as_deref(), Some("2912*******"));
    assert_eq!(exit_code(&r.terminal), 0);
}

#[tokio::test]
async fn private_key_jwt_succeeds_with_a_fresh_assertion_per_request() {
    let pair = key_pair();
    let peer = Peer::start(Some(1), Some(public_jwk(&pair, "desk-key-1"))).await;
    let cfg = config(
        &peer,
        ClientAuth::PrivateKeyJwt {
            key: SecretString::new(String::from_utf8(pair.to_pem_private_key()).unwrap()),
            alg: SigningAlg::RS256,
            kid: Some("desk-key-1".into()),
        },
        JWT_CLIENT,
    );
    let engine = engine_with(cfg, None);
    let hint = "kari";
    let r = run(&engine, raw(hint, None), HintKind::Text, || async {
        peer.wait_pending(hint).await;
        // oidc-provider refuses a replayed assertion: a second poll proves each is new.
        while peer.polls(hint).await.len() < 2 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peer.approve(hint).await;
    })
    .await;
    let FlowEvent::Succeeded { subject } = &r.terminal else {
        panic!("expected success, got {:?}", r.terminal);
    };
    assert_eq!(subject.name, "Kari Nordmann");
}

#[tokio::test]
async fn a_wrong_private_key_is_refused_by_the_provider() {
    let peer = Peer::start(Some(1), Some(public_jwk(&key_pair(), "desk-key-1"))).await;
    let other = key_pair();
    let cfg = config(
        &peer,
        ClientAuth::PrivateKeyJwt {
            key: SecretString::new(String::from_utf8(other.to_pem_private_key()).unwrap()),
            alg: SigningAlg::RS256,
            kid: Some("desk-key-1".into()),
        },
        JWT_CLIENT,
    );
    let r = run(
        &engine_with(cfg, None),
        raw("kari", None),
        HintKind::Text,
        || async {},
    )
    .await;
    let FlowEvent::Failed { code, .. } = &r.terminal else {
        panic!("expected a failure, got {:?}", r.terminal);
    };
    assert_eq!(code, "unauthorized");
}

#[tokio::test]
async fn the_customer_declining_is_an_abort() {
    let peer = Peer::start(Some(1), None).await;
    let hint = "anna";
    let r = run(
        &engine_with(basic(&peer), None),
        raw(hint, None),
        HintKind::Text,
        || async {
            peer.wait_pending(hint).await;
            peer.deny(hint).await;
        },
    )
    .await;
    let FlowEvent::Failed { code, message } = &r.terminal else {
        panic!("expected a failure, got {:?}", r.terminal);
    };
    assert_eq!(code, "customer_aborted");
    assert!(!message.is_empty());
    assert_eq!(exit_code(&r.terminal), 3);
}

/// Caller authentication as Idura runs it: `authorization_details` phoneAuth, checked by
/// oidc-provider's RFC 9396 support; the call confirmed, then a call declined.
#[tokio::test]
async fn phone_authentication_carries_who_called_and_a_declined_call_is_its_own_outcome() {
    let peer = Peer::start(Some(1), None).await;
    let hint = "anna";
    let phone = FlowSettings {
        ciba_phone_auth: true,
        ..settings(HintKind::Text)
    };
    let engine = Engine::new(None, phone.clone())
        .unwrap()
        .with_ciba(basic(&peer))
        .unwrap();
    let start = |call: &str| {
        let mut input = raw(hint, None);
        input.call_initiator = Some(call.into());
        FlowRequest::parse(&input, &phone).unwrap()
    };
    let wait = |id| {
        let engine = engine.clone();
        async move {
            tokio::time::timeout(Duration::from_secs(60), engine.wait(&id))
                .await
                .expect("the flow ends")
                .expect("known flow")
        }
    };

    let (sink, _) = recorder();
    let id = engine.start(start("rp"), sink).await.unwrap();
    let pending = peer.wait_pending(hint).await;
    let details: serde_json::Value =
        serde_json::from_str(pending["params"]["authorization_details"].as_str().unwrap()).unwrap();
    assert_eq!(
        details,
        serde_json::json!([{"type": "phoneAuth", "callInitiator": "RP"}])
    );
    peer.approve(hint).await;
    assert!(matches!(wait(id).await, FlowEvent::Succeeded { .. }));

    let (sink, _) = recorder();
    let id = engine.start(start("user"), sink).await.unwrap();
    peer.wait_pending(hint).await;
    peer.decline_call(hint).await;
    let done = wait(id).await;
    let FlowEvent::Failed { code, .. } = &done else {
        panic!("{done:?}")
    };
    assert_eq!(code, "user_declined_call");
    assert_eq!(exit_code(&done), 3);
}

#[tokio::test]
async fn an_unanswered_request_expires_at_the_requested_expiry() {
    let peer = Peer::start(Some(1), None).await;
    let mut cfg = basic(&peer);
    cfg.requested_expiry = Some(3);
    let hint = "kari";
    let r = run(
        &engine_with(cfg, None),
        raw(hint, None),
        HintKind::Text,
        || async {
            let pending = peer.wait_pending(hint).await;
            assert_eq!(pending["params"]["requested_expiry"], "3");
        },
    )
    .await;
    assert_eq!(r.terminal, FlowEvent::Expired);
    let FlowEvent::Started { expires_at, .. } = &r.events[0] else {
        panic!("started first");
    };
    assert!(expires_at.is_some());
    assert_eq!(exit_code(&r.terminal), 4);
}

#[tokio::test]
async fn slow_down_adds_five_seconds_for_the_rest_of_the_flow() {
    let peer = Peer::start(Some(1), None).await;
    let hint = "kari";
    let r = run(
        &engine_with(basic(&peer), None),
        raw(hint, None),
        HintKind::Text,
        || async {
            peer.wait_pending(hint).await;
            peer.slow_down(hint, 1).await;
            // The slowed-down poll, then two more at the new interval.
            while peer.polls(hint).await.len() < 3 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            peer.approve(hint).await;
        },
    )
    .await;
    assert!(
        matches!(r.terminal, FlowEvent::Succeeded { .. }),
        "{:?}",
        r.terminal
    );
    let polls = peer.polls(hint).await;
    let gaps: Vec<u64> = polls.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.len() >= 2, "{gaps:?}");
    // 1 s advertised + 5 s after slow_down, and it stays added.
    for gap in &gaps {
        assert!(*gap >= 5_900, "poll gaps {gaps:?}: slow_down was not kept");
    }
}

#[tokio::test]
async fn a_binding_message_with_spaces_and_nordic_letters_arrives_unchanged() {
    let peer = Peer::start(Some(1), None).await;
    let hint = "kari";
    let message = "Blåbær på kø 7";
    let r = run(
        &engine_with(basic(&peer), None),
        raw(hint, Some(message)),
        HintKind::Text,
        || async {
            let pending = peer.wait_pending(hint).await;
            assert_eq!(pending["binding_message"], message);
            peer.approve(hint).await;
        },
    )
    .await;
    assert_eq!(binding_of(&r.events), message);
    assert!(
        matches!(r.terminal, FlowEvent::Succeeded { .. }),
        "{:?}",
        r.terminal
    );
}

#[tokio::test]
async fn a_generated_binding_message_is_the_one_the_device_shows() {
    let peer = Peer::start(Some(1), None).await;
    let hint = "kari";
    let seen_by_device = Arc::new(Mutex::new(String::new()));
    let r = run(
        &engine_with(basic(&peer), None),
        raw(hint, None),
        HintKind::Text,
        || {
            let seen = seen_by_device.clone();
            let peer = &peer;
            async move {
                let pending = peer.wait_pending(hint).await;
                *seen.lock().unwrap() = pending["binding_message"].as_str().unwrap().to_string();
                peer.approve(hint).await;
            }
        },
    )
    .await;
    let shown = binding_of(&r.events);
    assert_eq!(shown, *seen_by_device.lock().unwrap());
    assert!(shown.contains(' '));
}

#[tokio::test]
async fn a_forged_id_token_is_rejected() {
    for how in ["claims", "none"] {
        let peer = Peer::start(Some(1), None).await;
        let hint = "kari";
        let r = run(
            &engine_with(basic(&peer), None),
            raw(hint, None),
            HintKind::Text,
            || async {
                peer.wait_pending(hint).await;
                peer.forge(hint, how).await;
                peer.approve(hint).await;
            },
        )
        .await;
        let FlowEvent::Failed { code, .. } = &r.terminal else {
            panic!("{how}: expected a failure, got {:?}", r.terminal);
        };
        assert_eq!(code, "id_token_invalid", "{how}");
    }
}

#[tokio::test]
async fn a_login_hint_token_is_passed_through() {
    let peer = Peer::start(Some(1), None).await;
    // The peer reads `sub` from an unsigned JWT (see server.mjs).
    let token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbm5hIn0.";
    let mut input = RawFlowInput::new(Method::Ciba);
    input.login_hint_token = Some(token.into());
    let r = run(
        &engine_with(basic(&peer), None),
        input,
        HintKind::Text,
        || async {
            let pending = peer.wait_pending("token:anna").await;
            assert_eq!(pending["params"]["login_hint_token"], token);
            peer.approve("token:anna").await;
        },
    )
    .await;
    let FlowEvent::Succeeded { subject } = &r.terminal else {
        panic!("expected success, got {:?}", r.terminal);
    };
    assert_eq!(subject.name, "Anna Andersson");
}

#[tokio::test]
async fn an_unknown_customer_is_refused_by_the_provider_with_its_code() {
    let peer = Peer::start(Some(1), None).await;
    let r = run(
        &engine_with(basic(&peer), None),
        raw("nobody", None),
        HintKind::Text,
        || async {},
    )
    .await;
    let FlowEvent::Failed { code, message } = &r.terminal else {
        panic!("expected a failure, got {:?}", r.terminal);
    };
    assert_eq!(code, "api_error");
    assert!(message.contains("unknown_user_id"), "{message}");
    // A refused request is reported, never sent again (each one would notify someone).
    assert_eq!(peer.backchannel_requests().await, 1);
}

#[tokio::test]
async fn staff_cancel_stops_polling() {
    let peer = Peer::start(Some(1), None).await;
    let engine = engine_with(basic(&peer), None);
    let hint = "kari";
    let req = FlowRequest::parse(&raw(hint, None), &settings(HintKind::Text)).unwrap();
    let (sink, _) = recorder();
    let id = engine.start(req, sink).await.unwrap();
    peer.wait_pending(hint).await;
    engine.cancel(&id).await.unwrap();
    assert_eq!(engine.wait(&id).await, Some(FlowEvent::Cancelled));
    let polls = peer.polls(hint).await.len();
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(peer.polls(hint).await.len(), polls, "no poll after cancel");
}
