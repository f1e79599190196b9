//! Issue 23's fault matrix for the Authentication REST API flow: each fault injected into the
//! simulator over real HTTP, the flow run to its end, and what the desk must do asserted. The
//! cases run at once, each on its own simulator; the matrix with each case's result is written to
//! the test output (stderr, not captured) and is the table in the README's Security model.
//! A SIGKILL at each step of a signature needs the desk as a process: `tests/cli.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use futures::FutureExt;
use id_desk_core::flow::{FlowEvent, Method};
use id_desk_simulator::{Endpoint, Fault, FaultKind, Simulator};
use rest_support::*;
use std::io::Write;
use std::time::Duration;

/// The approving Safe Conversation persona (approves after a few seconds).
const APPROVES: &str = "29124815345";
/// A persona that never answers: the flow outlives any fault injected into it.
const WAITS: &str = "15059000141";
const TWENTY_MB: u64 = 20 * 1024 * 1024;
/// How long a hung poll's answer takes (the test client gives up after 2 s).
const HANG: Duration = Duration::from_secs(20);

type Outcome = Result<String, String>;

macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// Runs a Safe Conversation flow for `nin` and returns its events (the terminal one last).
async fn run(sim: &Simulator, nin: &str) -> Result<Vec<FlowEvent>, String> {
    let engine = engine(sim);
    let rec = Recorder::default();
    let id = engine
        .start(
            request(&input(Method::NbidSafeConversation, Some(nin))),
            rec.sink(),
        )
        .await
        .map_err(|e| format!("start: {e}"))?;
    tokio::time::timeout(Duration::from_secs(30), engine.wait(&id))
        .await
        .map_err(|_| "no outcome within 30 s".to_string())?
        .ok_or("the engine lost the flow")?;
    let events = rec.events(&id);
    assert_well_formed(&events);
    Ok(events)
}

fn terminal(events: &[FlowEvent]) -> &FlowEvent {
    events.last().expect("well formed: a terminal event")
}

fn failed_with<'a>(events: &'a [FlowEvent], want: &str) -> Result<&'a str, String> {
    match terminal(events) {
        FlowEvent::Failed { code, message } if code == want => Ok(message),
        other => Err(format!("expected failed/{want}, got {other:?}")),
    }
}

fn succeeded(events: &[FlowEvent]) -> Result<(), String> {
    match terminal(events) {
        FlowEvent::Succeeded { .. } => Ok(()),
        other => Err(format!("expected succeeded, got {other:?}")),
    }
}

/// The one session the simulator holds, with its polls.
fn only_session(sim: &Simulator) -> Result<(String, String), String> {
    let sessions = sim.control().sessions();
    check!(sessions.len() == 1, "{} sessions", sessions.len());
    Ok((sessions[0].id.clone(), sessions[0].status.to_string()))
}

async fn faulted(target: Endpoint, kind: FaultKind, times: u32) -> Simulator {
    let sim = simulator(|_| {}).await;
    sim.control().inject(Fault::new(target, kind).times(times));
    sim
}

async fn storm_503() -> Outcome {
    let sim = faulted(
        Endpoint::Get,
        FaultKind::Unavailable {
            retry_after_secs: 1,
        },
        3,
    )
    .await;
    succeeded(&run(&sim, APPROVES).await?)?;
    let stats = sim.control().stats();
    check!(stats.creates() == 1, "{} creates", stats.creates());
    let polls = stats.session(&only_session(&sim)?.0).poll_unix_ns;
    check!(polls.len() >= 4, "{} polls", polls.len());
    let gaps: Vec<u64> = polls.windows(2).take(3).map(|w| w[1] - w[0]).collect();
    check!(
        gaps.iter().all(|g| *g >= 950_000_000),
        "retried sooner than Retry-After: {gaps:?} ns"
    );
    Ok(format!(
        "3 × 503 answered, {} polls, 1 create, succeeded",
        polls.len()
    ))
}

async fn too_many_requests() -> Outcome {
    let sim = faulted(
        Endpoint::Get,
        FaultKind::TooManyRequests {
            retry_after_secs: 1,
        },
        1,
    )
    .await;
    succeeded(&run(&sim, APPROVES).await?)?;
    let polls = sim
        .control()
        .stats()
        .session(&only_session(&sim)?.0)
        .poll_unix_ns;
    check!(polls.len() >= 2, "{} polls", polls.len());
    let gap = polls[1] - polls[0];
    // Our own first backoff would be 250 ms.
    check!(gap >= 950_000_000, "retried after {gap} ns");
    Ok(format!("retried after {} ms, succeeded", gap / 1_000_000))
}

/// The create is handled (the customer's phone is notified), its answer lost.
async fn dropped_after_create() -> Outcome {
    let sim = faulted(Endpoint::Create, FaultKind::DropAfterProcessing, 1).await;
    let events = run(&sim, APPROVES).await?;
    check!(events.len() == 1, "only the outcome: {events:?}");
    let message = failed_with(&events, "outcome_unknown")?;
    check!(
        message.contains("Check the customer's phone"),
        "staff not told: {message}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let creates = sim.control().stats().creates();
    check!(creates == 1, "{creates} creates");
    check!(
        sim.control().sessions().len() == 1,
        "the session exists at the server"
    );
    Ok("outcome_unknown, \"check the customer's phone\", 1 create".into())
}

/// The create's answer is lost in every other way: never retried, `outcome_unknown`.
async fn lost_create(kind: FaultKind) -> Outcome {
    let sim = faulted(Endpoint::Create, kind, 1).await;
    let events = run(&sim, APPROVES).await?;
    failed_with(&events, "outcome_unknown")?;
    // A delayed create finishes on the server before counting.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let creates = sim.control().stats().creates();
    check!(creates == 1, "{creates} creates");
    Ok("outcome_unknown, 1 create".into())
}

async fn dropped_polls() -> Outcome {
    let sim = faulted(Endpoint::Get, FaultKind::DropConnection, 2).await;
    succeeded(&run(&sim, APPROVES).await?)?;
    check!(sim.control().pending_faults().is_empty(), "faults unused");
    Ok("2 polls dropped, succeeded".into())
}

async fn malformed_poll() -> Outcome {
    let sim = faulted(Endpoint::Get, FaultKind::MalformedJson, 1).await;
    let events = run(&sim, WAITS).await?;
    let message = failed_with(&events, "protocol")?;
    check!(message.contains("unexpected answer"), "{message}");
    let (_, status) = only_session(&sim)?;
    check!(status == "CANCELLED", "session left {status}");
    Ok("protocol, session cancelled".into())
}

async fn token_expired_mid_flow() -> Outcome {
    let sim = faulted(Endpoint::Get, FaultKind::ExpireToken, 1).await;
    succeeded(&run(&sim, APPROVES).await?)?;
    let tokens = sim.control().stats().token_requests();
    check!(tokens == 2, "{tokens} token requests");
    check!(sim.control().pending_faults().is_empty(), "fault unused");
    Ok("401 on a poll: 1 refresh, poll repeated, succeeded".into())
}

/// A poll whose answer never comes: the request times out and polling goes on.
async fn hanging_poll() -> Outcome {
    let sim = faulted(Endpoint::Get, FaultKind::Latency(HANG), 1).await;
    let started = tokio::time::Instant::now();
    succeeded(&run(&sim, APPROVES).await?)?;
    let took = started.elapsed();
    let polls = sim.control().stats().session(&only_session(&sim)?.0).polls;
    check!(polls >= 2, "{polls} polls");
    // Had the desk waited for the hung answer, it could not have finished before it came.
    check!(took < HANG, "waited out the hang: {took:?}");
    Ok(format!(
        "poll timed out after {} s, {polls} polls, succeeded in {:.1} s",
        TEST_TIMEOUTS.request.as_secs(),
        took.as_secs_f64()
    ))
}

async fn huge_poll() -> Outcome {
    let sim = faulted(Endpoint::Get, FaultKind::HugeBody { bytes: TWENTY_MB }, 1).await;
    let events = run(&sim, WAITS).await?;
    let message = failed_with(&events, "protocol")?;
    check!(message.contains("larger than 1048576 bytes"), "{message}");
    let (_, status) = only_session(&sim)?;
    check!(status == "CANCELLED", "session left {status}");
    let sent = sim.control().huge_bytes_streamed();
    // Stopped reading at 1 MiB: the rest stays in the server (socket buffers aside).
    check!(sent < TWENTY_MB * 3 / 4, "{sent} bytes read of {TWENTY_MB}");
    Ok(format!(
        "protocol at 1 MiB, {:.1} MB of 20 left the server, session cancelled",
        sent as f64 / 1e6
    ))
}

async fn huge_token() -> Outcome {
    let sim = faulted(Endpoint::Token, FaultKind::HugeBody { bytes: TWENTY_MB }, 1).await;
    let events = run(&sim, APPROVES).await?;
    match terminal(&events) {
        FlowEvent::Failed { message, .. } if message.contains("larger than") => {}
        other => return Err(format!("{other:?}")),
    }
    let creates = sim.control().stats().creates();
    check!(creates == 0, "{creates} creates");
    Ok("refused, nothing created".into())
}

struct Case {
    fault: &'static str,
    asserts: &'static str,
    run: futures::future::BoxFuture<'static, Outcome>,
}

fn cases() -> Vec<Case> {
    let case = |fault, asserts, run: futures::future::BoxFuture<'static, Outcome>| Case {
        fault,
        asserts,
        run,
    };
    vec![
        case(
            "503 storm with Retry-After: 1 (3 polls)",
            "polls wait the server's Retry-After; one create; the flow succeeds",
            storm_503().boxed(),
        ),
        case(
            "429 with Retry-After: 1",
            "the next poll comes ≥ 1 s later (not our 250 ms backoff); succeeds",
            too_many_requests().boxed(),
        ),
        case(
            "connection dropped after the create was received",
            "exactly one create; `outcome_unknown` telling staff to check the customer's phone",
            dropped_after_create().boxed(),
        ),
        case(
            "create answer never arrives (timeout)",
            "exactly one create; `outcome_unknown`",
            lost_create(FaultKind::Latency(
                TEST_TIMEOUTS.request + Duration::from_secs(1),
            ))
            .boxed(),
        ),
        case(
            "create answered with malformed JSON",
            "exactly one create; `outcome_unknown`",
            lost_create(FaultKind::MalformedJson).boxed(),
        ),
        case(
            "create answered with 20 MB",
            "exactly one create; `outcome_unknown`",
            lost_create(FaultKind::HugeBody { bytes: TWENTY_MB }).boxed(),
        ),
        case(
            "connection dropped on 2 polls",
            "polling goes on; succeeds",
            dropped_polls().boxed(),
        ),
        case(
            "malformed JSON on a poll",
            "typed `protocol` failure; the session is cancelled at Signicat",
            malformed_poll().boxed(),
        ),
        case(
            "token expires mid-flow (401 on a poll)",
            "one token refresh, the poll repeated once; succeeds",
            token_expired_mid_flow().boxed(),
        ),
        case(
            "a poll that hangs (answer after 20 s)",
            "the poll times out (2 s here, 15 s by default), polling goes on; succeeds",
            hanging_poll().boxed(),
        ),
        case(
            "20 MB answer to a poll (no Content-Length)",
            "typed `protocol` failure at 1 MiB, most of it never read; session cancelled",
            huge_poll().boxed(),
        ),
        case(
            "20 MB answer from the token endpoint",
            "typed failure; no session created",
            huge_token().boxed(),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_fault_matrix() {
    let cases = cases();
    let handles: Vec<_> = cases
        .into_iter()
        .map(|c| (c.fault, c.asserts, tokio::spawn(c.run)))
        .collect();
    let mut table = String::from(
        "\nFault matrix (Authentication REST API flow, simulator over HTTP)\n\
         | fault | asserts | result |\n|---|---|---|\n",
    );
    let mut failures = Vec::new();
    for (fault, asserts, handle) in handles {
        let result = match handle.await {
            Ok(Ok(seen)) => format!("pass: {seen}"),
            Ok(Err(why)) => {
                failures.push(fault);
                format!("FAIL: {why}")
            }
            Err(panic) => {
                failures.push(fault);
                format!("FAIL (panicked): {panic}")
            }
        };
        table.push_str(&format!("| {fault} | {asserts} | {result} |\n"));
    }
    // Written past the harness's capture, so the matrix is in every run's output.
    let _ = std::io::stderr().write_all(table.as_bytes());
    assert!(failures.is_empty(), "failed: {failures:?}\n{table}");
}
