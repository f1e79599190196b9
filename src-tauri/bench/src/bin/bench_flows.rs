//! The engine side of the concurrency benchmark: starts `BENCH_FLOWS` (1,000) Norwegian BankID
//! Safe Conversation flows at once against `sim-server`, polls every second for `BENCH_SECONDS`
//! (60), then prints one JSON line with what it saw and its own CPU time and peak RSS.
//! The customers (from `BENCH_NINS_FILE`) never answer, so every flow keeps polling.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use id_desk_bench::procfs;
use id_desk_bench::sim_info::SimInfo;
use id_desk_core::flow::{EventSink, FlowUpdate, Method, PollConfig};
use id_desk_core::runner::{Engine, FlowRequest, FlowSettings, RawFlowInput};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(v) => v.parse().map_err(|_| format!("{name}: not a number: {v}")),
        Err(_) => Ok(default),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-flows: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let info = SimInfo::from_env()?;
    let seconds: u64 = env_or("BENCH_SECONDS", 60)?;
    let nins_file = std::env::var("BENCH_NINS_FILE").map_err(|_| "BENCH_NINS_FILE is not set")?;
    let nins = std::fs::read_to_string(&nins_file).map_err(|e| format!("{nins_file}: {e}"))?;
    let settings = FlowSettings {
        poll: PollConfig::new(Duration::from_secs(1), Duration::from_secs(1)),
        ..FlowSettings::default()
    };
    let engine = Engine::new(None, settings.clone())
        .map_err(|e| format!("engine: {e}"))?
        .with_rest_client(info.rest_client()?);

    let events = Arc::new(AtomicU64::new(0));
    let terminals = Arc::new(AtomicU64::new(0));
    let sink: EventSink = {
        let (events, terminals) = (events.clone(), terminals.clone());
        Arc::new(move |update: FlowUpdate| {
            events.fetch_add(1, Ordering::Relaxed);
            if update.event.is_terminal() {
                terminals.fetch_add(1, Ordering::Relaxed);
            }
        })
    };

    let t0 = Instant::now();
    let mut requests = Vec::new();
    for nin in nins.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut raw = RawFlowInput::new(Method::NbidSafeConversation);
        raw.nin = Some(nin.to_owned());
        raw.call_initiator = Some("user".into());
        requests.push(FlowRequest::parse(&raw, &settings).map_err(|e| format!("input: {e}"))?);
    }
    let flows = requests.len();
    let started = futures::future::join_all(
        requests
            .into_iter()
            .map(|req| engine.start(req, sink.clone())),
    )
    .await;
    let start_errors = started.iter().filter(|r| r.is_err()).count();
    let start_ms = t0.elapsed().as_secs_f64() * 1000.0;
    tokio::time::sleep_until((t0 + Duration::from_secs(seconds)).into()).await;

    let report = serde_json::json!({
        "flows": flows,
        "start_errors": start_errors,
        "start_all_ms": start_ms,
        "events": events.load(Ordering::Relaxed),
        "terminal_before_end": terminals.load(Ordering::Relaxed),
        "running_at_end": engine.running().len(),
        "cpu_seconds": procfs::cpu_seconds("self"),
        "vm_hwm_kib": procfs::status_kib("self", "VmHWM"),
    });
    println!("{report}");
    // Ends without cancelling, like the baseline: the simulator process is discarded.
    Ok(())
}
