//! Issue 13: simultaneous flows share the REST client's connections. Over HTTPS the simulator
//! offers HTTP/2 by ALPN, as Signicat does, and every flow rides one multiplexed connection; over
//! plain HTTP/1.1 the pool stays within `HTTP1_CONNECTIONS`. First polls are spread inside the
//! poll interval instead of arriving together. Real simulator on loopback, real TLS.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use id_desk_core::flow::{FlowEvent, Method};
use id_desk_core::rest::{RestClient, HTTP1_CONNECTIONS};
use id_desk_core::runner::Engine;
use id_desk_simulator::Simulator;
use rest_support::*;
use std::time::Duration;

const FLOWS: usize = 60;

/// Starts `FLOWS` Safe Conversation flows at once, lets each be polled about twice, and returns
/// the simulator's statistics before cancelling them all.
async fn run_flows(sim: &Simulator, client: RestClient) -> id_desk_simulator::Stats {
    let engine = Engine::new(None, settings())
        .unwrap()
        .with_rest_client(client);
    let rec = Recorder::default();
    let starts = valid_nins(FLOWS).into_iter().map(|nin| {
        let req = request(&input(Method::NbidSafeConversation, Some(&nin)));
        engine.start(req, rec.sink())
    });
    let ids: Vec<_> = futures::future::join_all(starts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let stats = sim.control().stats();
    engine.cancel_all(Duration::from_secs(10)).await;
    for id in &ids {
        let events = rec.events(id);
        assert!(
            events
                .iter()
                .any(|e| matches!(e, FlowEvent::Started { .. })),
            "flow {id} never started: {events:?}"
        );
    }
    stats
}

fn first_polls_spread_ms(stats: &id_desk_simulator::Stats) -> f64 {
    let firsts: Vec<u64> = stats
        .sessions
        .values()
        .filter_map(|s| s.poll_unix_ns.iter().min().copied())
        .collect();
    assert_eq!(firsts.len(), FLOWS, "every session was polled");
    let (lo, hi) = (firsts.iter().min().unwrap(), firsts.iter().max().unwrap());
    (hi - lo) as f64 / 1e6
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_over_https_share_one_http2_connection() {
    let sim = simulator(|c| c.tls = true).await;
    assert!(sim.base_url().starts_with("https://"));
    let root = sim
        .tls_root_pem()
        .expect("a TLS simulator has a certificate");
    let client = RestClient::trusting(&rest_config(&sim), TEST_TIMEOUTS, root).unwrap();
    let stats = run_flows(&sim, client.clone()).await;

    assert_eq!(stats.creates(), FLOWS as u64);
    assert_eq!(stats.token_requests(), 1);
    assert!(client.multiplexed(), "the client did not speak HTTP/2");
    // Token, creates and polls: one connection, opened once.
    assert_eq!(stats.connections.accepted, 1, "{:?}", stats.connections);
    assert_eq!(stats.connections.http2, 1, "{:?}", stats.connections);
    assert_eq!(stats.connections.peak_open, 1, "{:?}", stats.connections);
    let spread = first_polls_spread_ms(&stats);
    assert!(
        spread >= 400.0,
        "first polls came together: spread over {spread:.0} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_over_plain_http1_stay_within_the_pool_bound() {
    let sim = simulator(|_| {}).await;
    let client = RestClient::with_timeouts(&rest_config(&sim), TEST_TIMEOUTS).unwrap();
    let stats = run_flows(&sim, client.clone()).await;

    assert_eq!(stats.creates(), FLOWS as u64);
    assert!(!client.multiplexed());
    let c = stats.connections;
    eprintln!("[figures] {FLOWS} flows over HTTP/1.1: {c:?}");
    assert!(c.peak_open as usize <= HTTP1_CONNECTIONS, "{c:?}");
    // Reused, not churned: no more connections opened than the bound.
    assert!(c.accepted as usize <= HTTP1_CONNECTIONS, "{c:?}");
    assert_eq!(c.http2, 0, "{c:?}");
    let spread = first_polls_spread_ms(&stats);
    assert!(
        spread >= 400.0,
        "first polls came together: spread over {spread:.0} ms"
    );
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_certificate_creates_nothing() {
    let sim = simulator(|c| c.tls = true).await;
    let engine = Engine::with_timeouts(Some(rest_config(&sim)), settings(), TEST_TIMEOUTS).unwrap();
    let rec = Recorder::default();
    let nin = valid_nins(1).remove(0);
    let id = engine
        .start(
            request(&input(Method::NbidSafeConversation, Some(&nin))),
            rec.sink(),
        )
        .await
        .unwrap();
    let terminal = engine.wait(&id).await.expect("the flow ends");
    assert!(
        matches!(&terminal, FlowEvent::Failed { code, .. } if code == "network"),
        "{terminal:?}"
    );
    assert_eq!(sim.control().stats().creates(), 0);
}
