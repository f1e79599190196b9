//! The REST client and the flow runner under faults, against the simulator over real HTTP:
//! token single-flight and refresh, refused credentials, redirects, clock skew. The faults of
//! issue 23's matrix (503, 429, lost creates, malformed and huge answers, hangs) are in
//! `fault_matrix.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use id_desk_core::flow::{FlowEvent, Method};
use id_desk_core::rest::RestClient;
use id_desk_core::Error;
use id_desk_simulator::{Endpoint, Fault, FaultKind, Simulator};
use rest_support::*;
use std::time::Duration;

const APPROVES: &str = "29124815345";

/// Runs a Safe Conversation flow for the approving persona and returns its terminal event.
async fn run_sc(sim: &Simulator, nin: &str) -> (FlowEvent, Vec<FlowEvent>) {
    let engine = engine(sim);
    let rec = Recorder::default();
    let id = engine
        .start(
            request(&input(Method::NbidSafeConversation, Some(nin))),
            rec.sink(),
        )
        .await
        .unwrap();
    let terminal = tokio::time::timeout(Duration::from_secs(20), engine.wait(&id))
        .await
        .unwrap()
        .unwrap();
    let events = rec.events(&id);
    assert_well_formed(&events);
    (terminal, events)
}

fn succeeded(e: &FlowEvent) -> bool {
    matches!(e, FlowEvent::Succeeded { .. })
}

/// A token that really runs out (2 s lifetime) is renewed ahead of time; the flow runs on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_lived_tokens_are_renewed_before_expiry() {
    let sim = simulator(|cfg| {
        cfg.token_ttl = Duration::from_secs(2);
        cfg.session_lifetime_override = Some(Duration::from_secs(4));
    })
    .await;
    let (terminal, _) = run_sc(&sim, "15059000141").await;
    assert_eq!(terminal, FlowEvent::Expired);
    assert!(sim.control().stats().token_requests() >= 2);
}

/// A 401 on create is the one case a create is sent again: the server refused it before creating
/// anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_401_refreshes_and_creates_once() {
    let sim = simulator(|_| {}).await;
    sim.control()
        .inject(Fault::new(Endpoint::Create, FaultKind::ExpireToken));
    let (terminal, _) = run_sc(&sim, APPROVES).await;
    assert!(succeeded(&terminal), "{terminal:?}");
    let stats = sim.control().stats();
    assert_eq!(stats.creates(), 2);
    assert_eq!(sim.control().sessions().len(), 1);
    assert_eq!(stats.token_requests(), 2);
}

/// Nothing listening: the create certainly never reached a server, so `network`, not
/// `outcome_unknown`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_without_a_server_is_a_network_error() {
    let sim = simulator(|_| {}).await;
    let mut cfg = rest_config(&sim);
    drop(sim);
    // The token endpoint is down as well, so point only the sessions at a closed port.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    cfg.base_url = url::Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
    cfg.token_url =
        url::Url::parse(&format!("http://127.0.0.1:{port}/auth/open/connect/token")).unwrap();
    let client = RestClient::with_timeouts(&cfg, TEST_TIMEOUTS).unwrap();
    let body = id_desk_core::rest::CreateSession::headless("nbid", &["name"]);
    let err = client.create(&body).await.unwrap_err();
    assert_eq!(err.code(), "network", "{err:?}");
}

/// 200 flows started at once share one token request.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_flows_share_one_token() {
    let sim = simulator(|cfg| cfg.qr_scan_timeout = Duration::from_secs(30)).await;
    let engine = engine(&sim);
    let rec = Recorder::default();
    let starts = (0..200).map(|_| {
        let engine = engine.clone();
        let sink = rec.sink();
        async move {
            engine
                .start(request(&input(Method::SbidQr, None)), sink)
                .await
                .unwrap()
        }
    });
    let ids = futures::future::join_all(starts).await;
    for id in &ids {
        rec.until(id, |e| matches!(e, FlowEvent::Started { .. }))
            .await;
    }
    let stats = sim.control().stats();
    assert_eq!(stats.creates(), 200);
    assert_eq!(stats.token_requests(), 1);
    assert_eq!(engine.rest_client().unwrap().token_requests(), 1);
    engine.cancel_all(Duration::from_secs(3)).await;
    for id in &ids {
        assert_eq!(engine.wait(id).await, Some(FlowEvent::Cancelled));
    }
    eprintln!(
        "[figures] 200 concurrent flows: {} token request(s)",
        stats.token_requests()
    );
}

/// 1,000 concurrent sessions calls with a cold cache: one token request.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_calls_cause_one_token_request() {
    let sim = simulator(|_| {}).await;
    let client = RestClient::with_timeouts(&rest_config(&sim), TEST_TIMEOUTS).unwrap();
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    let calls = (0..1000).map(|i| {
        let client = client.clone();
        async move { client.get(&format!("no-such-session-{i}"), until).await }
    });
    for r in futures::future::join_all(calls).await {
        assert!(matches!(r, Err(Error::NotFound(_))), "{r:?}");
    }
    assert_eq!(sim.control().stats().token_requests(), 1);
    assert_eq!(client.token_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_client_secret_is_unauthorized() {
    let sim = simulator(|_| {}).await;
    let mut cfg = rest_config(&sim);
    cfg.client_secret = id_desk_core::secrets::SecretString::new("wrong-secret-value");
    let client = RestClient::new(&cfg).unwrap();
    let err = client
        .create(&id_desk_core::rest::CreateSession::headless(
            "nbid",
            &["name"],
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unauthorized", "{err:?}");
    assert!(!err.to_string().contains("wrong-secret-value"));
    assert!(!format!("{err:?}{client:?}").contains("wrong-secret-value"));
    assert_eq!(sim.control().stats().creates(), 0);
    // Refused credentials are not retried until the deadline: the answer comes at once.
    let until = tokio::time::Instant::now() + Duration::from_secs(60);
    let err = tokio::time::timeout(Duration::from_secs(5), client.get("any", until))
        .await
        .expect("not retried")
        .unwrap_err();
    assert_eq!(err.code(), "unauthorized");
}

/// The token endpoint failing briefly does not fail the flow: the token request is retried
/// (it is harmless), the create is still sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_503_is_retried() {
    let sim = simulator(|_| {}).await;
    sim.control().inject(
        Fault::new(
            Endpoint::Token,
            FaultKind::Unavailable {
                retry_after_secs: 0,
            },
        )
        .times(2),
    );
    let (terminal, _) = run_sc(&sim, APPROVES).await;
    assert!(succeeded(&terminal), "{terminal:?}");
    let stats = sim.control().stats();
    assert_eq!(stats.token_requests(), 3);
    assert_eq!(stats.creates(), 1);
}

/// A refused create (problem+json) is reported with Signicat's code and the invalid parameter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_create_is_an_api_error() {
    let sim = simulator(|_| {}).await;
    let client = RestClient::new(&rest_config(&sim)).unwrap();
    // No prefilled nin for Safe Conversation: Signicat refuses it.
    let mut body = id_desk_core::rest::CreateSession::headless("nbid", &["name"]);
    body.additional_parameters
        .insert("nbid_auth_type".into(), "PHONE".into());
    let err = client.create(&body).await.unwrap_err();
    match &err {
        Error::Api {
            status,
            code,
            message,
        } => {
            assert_eq!(*status, 400);
            assert!(!code.is_empty());
            assert!(!message.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

/// Review finding M-6 (issue 23, item 5): the token endpoint answering `307` to another server
/// does not get the client's credentials sent there. The REST client follows no redirect; the
/// flow fails typed, no session is created, and the other server sees no connection at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_from_the_token_endpoint_is_never_followed() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = elsewhere.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = connections.clone();
    tokio::spawn(async move {
        while let Ok((_socket, _)) = elsewhere.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    let sim = simulator(|_| {}).await;
    sim.control().inject(Fault::new(
        Endpoint::Token,
        FaultKind::RedirectTo {
            location: format!("http://{addr}/collect-secrets"),
        },
    ));
    let (terminal, _) = run_sc(&sim, APPROVES).await;
    assert!(
        matches!(&terminal, FlowEvent::Failed { .. }),
        "{terminal:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
    assert_eq!(sim.control().stats().creates(), 0);
}

/// Issue 23, item 6: Signicat's clock five minutes behind the desk's. The deadline comes from the
/// server's own lifetime (its `expiresAt` minus its `Date`) on the monotonic clock, so the flow
/// neither expires at once (as comparing `expiresAt` with the desk's clock would) nor is the skew
/// hidden: staff are told the PC's clock is about 5 minutes off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_clock_minutes_off_does_not_expire_the_flow_and_is_shown() {
    let sim = simulator(|c| c.clock_offset_secs = -300).await;
    let (terminal, events) = run_sc(&sim, APPROVES).await;
    assert!(succeeded(&terminal), "{terminal:?} after {events:?}");
    let skew = events
        .iter()
        .find_map(|e| match e {
            FlowEvent::Progress { status, message } if status == "clock_skew" => Some(message),
            _ => None,
        })
        .expect("staff are told about the clock");
    assert!(skew.contains("5 min ahead of"), "{skew}");
    // The deadline shown to staff is in the desk's own clock: minutes ahead, not already past.
    let expires = events
        .iter()
        .find_map(|e| match e {
            FlowEvent::Started { expires_at, .. } => expires_at.clone(),
            _ => None,
        })
        .unwrap();
    let expires =
        time::OffsetDateTime::parse(&expires, &time::format_description::well_known::Rfc3339)
            .unwrap();
    assert!(expires > time::OffsetDateTime::now_utc(), "{expires}");
}

/// Within a minute, nothing is said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_within_a_minute_is_not_mentioned() {
    let sim = simulator(|c| c.clock_offset_secs = 20).await;
    let (terminal, events) = run_sc(&sim, APPROVES).await;
    assert!(succeeded(&terminal), "{terminal:?}");
    assert!(!events
        .iter()
        .any(|e| matches!(e, FlowEvent::Progress { status, .. } if status == "clock_skew")));
}
