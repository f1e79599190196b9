//! A simulator in its own process, so a benchmark client is measured alone. Prints one JSON line
//! ([`SimInfo`]) when it listens and runs until its stdin closes (or Ctrl-C).
//!
//! Environment: `BENCH_SIM_SECRET` (REST client secret; random when unset), `BENCH_SIM_LIFETIME`
//! (seconds every session lives; Signicat's rules when unset), `BENCH_SIM_TLS=1` (HTTPS with a
//! self-signed certificate and HTTP/2 by ALPN; the certificate travels in the JSON line).

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use id_desk_bench::sim_info::SimInfo;
use id_desk_simulator::{ClientCredentials, Simulator, SimulatorConfig};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sim-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let mut config = SimulatorConfig::training();
    if let Ok(secret) = std::env::var("BENCH_SIM_SECRET") {
        config.rest_client = ClientCredentials::new(config.rest_client.client_id, secret);
    }
    if let Ok(secs) = std::env::var("BENCH_SIM_LIFETIME") {
        let secs: u64 = secs
            .parse()
            .map_err(|e| format!("BENCH_SIM_LIFETIME: {e}"))?;
        config.session_lifetime_override = Some(Duration::from_secs(secs));
    }
    config.tls = std::env::var("BENCH_SIM_TLS").is_ok_and(|v| v == "1");
    let sim = Simulator::start(config)
        .await
        .map_err(|e| format!("cannot start: {e}"))?;
    sim.warm_up_keys();
    let info = SimInfo::of(&sim);
    let line = serde_json::to_string(&info).map_err(|e| e.to_string())?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    // The parent closing our stdin is the stop signal: no signals to send, nothing left behind
    // if the parent dies.
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut lines = std::io::stdin().lock().lines();
        while let Some(Ok(_)) = lines.next() {}
    });
    tokio::select! {
        _ = stdin_closed => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    sim.shutdown().await;
    Ok(())
}
