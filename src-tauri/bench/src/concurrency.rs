//! 1,000 simultaneous Safe Conversation flows for 60 s at 1 s polling: the engine
//! (`bench-flows`) and the Python baseline, each against its own fresh `sim-server` process and
//! each measured by `/usr/bin/time -v` (CPU seconds, peak RSS). The simulator's statistics give
//! token requests and the gaps between polls of each session.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use id_desk_bench::sim_info::{SimInfo, SIM_INFO_ENV};

/// A poll is late when it follows the previous poll of its session by more than this.
pub const LATE_AFTER: Duration = Duration::from_millis(1100);

#[derive(Debug, Default)]
pub struct SideFigures {
    pub cpu_seconds: f64,
    pub peak_rss_kib: u64,
    pub token_requests: u64,
    pub creates: u64,
    pub polls: u64,
    pub late_polls: u64,
    pub max_gap_ms: f64,
    /// The client's own JSON summary (flows, errors, ...).
    pub summary: serde_json::Value,
}

pub struct Setup<'a> {
    pub sim_server: &'a Path,
    pub nins_file: &'a Path,
    pub seconds: u64,
    pub work_dir: &'a Path,
}

struct SimProcess {
    child: Child,
    info: SimInfo,
    info_json: String,
}

impl SimProcess {
    fn start(setup: &Setup<'_>) -> Result<SimProcess, String> {
        let mut child = Command::new(setup.sim_server)
            .env("BENCH_SIM_LIFETIME", (setup.seconds + 120).to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e}", setup.sim_server.display()))?;
        let stdout = child.stdout.take().ok_or("sim-server: no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("sim-server: {e}"))?;
        let info: SimInfo = serde_json::from_str(line.trim())
            .map_err(|e| format!("sim-server said {line:?}: {e}"))?;
        Ok(SimProcess {
            child,
            info,
            info_json: line.trim().to_owned(),
        })
    }

    fn stop(mut self) {
        // Closing stdin is sim-server's stop signal.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Runs `client` (the engine or the baseline) under `/usr/bin/time -v` against a fresh simulator.
pub async fn measure(
    setup: &Setup<'_>,
    label: &str,
    client: &[&str],
) -> Result<SideFigures, String> {
    let sim = SimProcess::start(setup)?;
    let result = measure_with(setup, &sim, label, client).await;
    sim.stop();
    result
}

async fn measure_with(
    setup: &Setup<'_>,
    sim: &SimProcess,
    label: &str,
    client: &[&str],
) -> Result<SideFigures, String> {
    let time_file: PathBuf = setup.work_dir.join(format!("{label}.time.txt"));
    let output = Command::new("/usr/bin/time")
        .arg("-v")
        .arg("-o")
        .arg(&time_file)
        .args(client)
        .env(SIM_INFO_ENV, &sim.info_json)
        .env("BENCH_NINS_FILE", setup.nins_file)
        .env("BENCH_SECONDS", setup.seconds.to_string())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{label}: {e}"))?;
    if !output.status.success() {
        return Err(format!("{label} failed: {}", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or(serde_json::Value::Null);
    let time_text =
        std::fs::read_to_string(&time_file).map_err(|e| format!("{}: {e}", time_file.display()))?;
    let field = |name: &str| -> Option<f64> {
        time_text
            .lines()
            .find_map(|l| l.trim().strip_prefix(name)?.trim().parse().ok())
    };
    let mut figures = SideFigures {
        cpu_seconds: field("User time (seconds):").unwrap_or(f64::NAN)
            + field("System time (seconds):").unwrap_or(f64::NAN),
        peak_rss_kib: field("Maximum resident set size (kbytes):").unwrap_or(0.0) as u64,
        summary,
        ..SideFigures::default()
    };
    poll_figures(&sim.info, &mut figures).await?;
    Ok(figures)
}

async fn poll_figures(info: &SimInfo, figures: &mut SideFigures) -> Result<(), String> {
    let stats: serde_json::Value = reqwest::get(format!("{}/_sim/stats", info.base_url))
        .await
        .map_err(|e| format!("stats: {e}"))?
        .json()
        .await
        .map_err(|e| format!("stats: {e}"))?;
    let count = |name: &str| stats["requests"][name].as_u64().unwrap_or(0);
    figures.token_requests = count("Token");
    figures.creates = count("Create");
    let late_ns = LATE_AFTER.as_nanos() as u64;
    if let Some(sessions) = stats["sessions"].as_object() {
        for session in sessions.values() {
            let mut polls: Vec<u64> = session["poll_unix_ns"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_u64()).collect())
                .unwrap_or_default();
            polls.sort_unstable();
            figures.polls += polls.len() as u64;
            for pair in polls.windows(2) {
                let gap = pair[1].saturating_sub(pair[0]);
                figures.max_gap_ms = figures.max_gap_ms.max(gap as f64 / 1e6);
                if gap > late_ns {
                    figures.late_polls += 1;
                }
            }
        }
    }
    Ok(())
}
