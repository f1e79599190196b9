//! Simultaneous Safe Conversation flows for `BENCH_SECONDS` at 1 s polling: the engine
//! (`bench-flows`) and the Python baseline, each run against its own fresh `sim-server` process and
//! measured by `/usr/bin/time -v` (CPU seconds, peak RSS). While a client runs, its established
//! connections to the simulator are counted from `/proc` every 100 ms. The simulator's statistics
//! give token requests, connections accepted, HTTP/2, and the instants of every poll.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use id_desk_bench::procfs;
use id_desk_bench::sim_info::{SimInfo, SIM_INFO_ENV};

/// A poll is late when it follows the previous poll of its session by more than this.
pub const LATE_AFTER: Duration = Duration::from_millis(1100);
/// When "connections held" is read, as issue 9 first measured it.
pub const CONNECTIONS_AT: Duration = Duration::from_secs(5);
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// Which client and how it talks to the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Engine,
    Baseline,
}

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub side: Side,
    pub flows: usize,
    /// HTTPS (HTTP/2 offered by ALPN) rather than plain HTTP/1.1.
    pub tls: bool,
}

impl Spec {
    fn label(&self) -> String {
        let side = match self.side {
            Side::Engine => "engine",
            Side::Baseline => "baseline",
        };
        let scheme = if self.tls { "https" } else { "http" };
        format!("{side}-{scheme}-{}", self.flows)
    }
}

#[derive(Debug, Default, Clone)]
pub struct SideFigures {
    pub flows: usize,
    pub cpu_seconds: f64,
    pub peak_rss_kib: u64,
    pub token_requests: u64,
    pub creates: u64,
    pub polls: u64,
    pub late_polls: u64,
    pub max_gap_ms: f64,
    /// Established connections to the simulator [`CONNECTIONS_AT`] after the client started.
    pub connections_at_5s: usize,
    /// The most seen at once.
    pub connections_peak: usize,
    /// Connections the simulator accepted from the client.
    pub connections_opened: u64,
    /// Of those, the ones that carried HTTP/2.
    pub connections_http2: u64,
    /// Milliseconds between the earliest and the latest first poll of the sessions.
    pub first_poll_spread_ms: f64,
    /// The most first polls that fell into one 100 ms slot.
    pub first_polls_busiest_100ms: usize,
    /// The client's own JSON summary (flows, errors, ...).
    pub summary: serde_json::Value,
}

impl SideFigures {
    /// Flows that ended before the end or never started (none should).
    pub fn flows_lost(&self) -> u64 {
        let n = |key: &str| self.summary[key].as_u64().unwrap_or(u64::MAX);
        match self.summary.get("terminal_before_end") {
            Some(_) => n("terminal_before_end").saturating_add(n("start_errors")),
            None => n("errors").saturating_add(n("terminal")),
        }
    }
}

pub struct Setup<'a> {
    pub sim_server: &'a Path,
    pub engine: &'a Path,
    pub python: &'a str,
    pub baseline: &'a Path,
    pub seconds: u64,
    pub work_dir: &'a Path,
}

struct SimProcess {
    child: Child,
    info: SimInfo,
    info_json: String,
}

impl SimProcess {
    fn start(setup: &Setup<'_>, tls: bool) -> Result<SimProcess, String> {
        let mut child = Command::new(setup.sim_server)
            .env("BENCH_SIM_LIFETIME", (setup.seconds + 120).to_string())
            .env("BENCH_SIM_TLS", if tls { "1" } else { "0" })
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

/// Runs one client against a fresh simulator.
pub async fn measure(setup: &Setup<'_>, spec: Spec) -> Result<SideFigures, String> {
    let label = spec.label();
    eprintln!("[bench] load: {label} for {} s", setup.seconds);
    let nins_file = setup.work_dir.join(format!("nins-{}.txt", spec.flows));
    let nins = id_desk_bench::nins::interactive_nins(spec.flows).join("\n");
    std::fs::write(&nins_file, nins + "\n").map_err(|e| format!("{}: {e}", nins_file.display()))?;
    let sim = SimProcess::start(setup, spec.tls)?;
    let result = measure_with(setup, &sim, spec, &label, &nins_file).await;
    sim.stop();
    result
}

async fn measure_with(
    setup: &Setup<'_>,
    sim: &SimProcess,
    spec: Spec,
    label: &str,
    nins_file: &Path,
) -> Result<SideFigures, String> {
    let time_file: PathBuf = setup.work_dir.join(format!("{label}.time.txt"));
    let mut command = Command::new("/usr/bin/time");
    command.arg("-v").arg("-o").arg(&time_file);
    match spec.side {
        Side::Engine => command.arg(setup.engine),
        Side::Baseline => command.arg(setup.python).arg(setup.baseline),
    };
    if let Some(pem) = &sim.info.tls_root_pem {
        // `requests` reads its trusted roots from this file.
        let ca_file = setup.work_dir.join("sim-ca.pem");
        std::fs::write(&ca_file, pem).map_err(|e| format!("{}: {e}", ca_file.display()))?;
        command.env("REQUESTS_CA_BUNDLE", &ca_file);
    }
    let mut child = command
        .env(SIM_INFO_ENV, &sim.info_json)
        .env("BENCH_NINS_FILE", nins_file)
        .env("BENCH_SECONDS", setup.seconds.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("{label}: {e}"))?;
    let started = Instant::now();
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });

    let port = sim.info.port()?;
    let (mut peak, mut at_5s) = (0, None);
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("{label}: {e}"))? {
            break status;
        }
        let held = procfs::tcp_connections_to(&procfs::process_tree(child.id()), port);
        peak = peak.max(held);
        if at_5s.is_none() && started.elapsed() >= CONNECTIONS_AT {
            at_5s = Some(held);
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    };
    let stdout = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("{label} failed: {status}"));
    }
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
        flows: spec.flows,
        cpu_seconds: field("User time (seconds):").unwrap_or(f64::NAN)
            + field("System time (seconds):").unwrap_or(f64::NAN),
        peak_rss_kib: field("Maximum resident set size (kbytes):").unwrap_or(0.0) as u64,
        connections_at_5s: at_5s.unwrap_or(peak),
        connections_peak: peak,
        summary,
        ..SideFigures::default()
    };
    sim_figures(&sim.info, &mut figures).await?;
    Ok(figures)
}

async fn sim_figures(info: &SimInfo, figures: &mut SideFigures) -> Result<(), String> {
    let mut http = reqwest::Client::builder();
    if let Some(pem) = &info.tls_root_pem {
        let root = reqwest::Certificate::from_pem(pem.as_bytes()).map_err(|e| e.to_string())?;
        http = http.add_root_certificate(root);
    }
    let http = http.build().map_err(|e| e.to_string())?;
    let stats: serde_json::Value = http
        .get(format!("{}/_sim/stats", info.base_url))
        .send()
        .await
        .map_err(|e| format!("stats: {e}"))?
        .json()
        .await
        .map_err(|e| format!("stats: {e}"))?;
    let count = |name: &str| stats["requests"][name].as_u64().unwrap_or(0);
    figures.token_requests = count("Token");
    figures.creates = count("Create");
    let connections = &stats["connections"];
    // The statistics request came on a connection of its own.
    figures.connections_opened = connections["accepted"]
        .as_u64()
        .unwrap_or(0)
        .saturating_sub(1);
    figures.connections_http2 = connections["http2"].as_u64().unwrap_or(0);
    let late_ns = LATE_AFTER.as_nanos() as u64;
    let mut first_polls: Vec<u64> = Vec::new();
    if let Some(sessions) = stats["sessions"].as_object() {
        for session in sessions.values() {
            let mut polls: Vec<u64> = session["poll_unix_ns"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_u64()).collect())
                .unwrap_or_default();
            polls.sort_unstable();
            figures.polls += polls.len() as u64;
            first_polls.extend(polls.first().copied());
            for pair in polls.windows(2) {
                let gap = pair[1].saturating_sub(pair[0]);
                figures.max_gap_ms = figures.max_gap_ms.max(gap as f64 / 1e6);
                if gap > late_ns {
                    figures.late_polls += 1;
                }
            }
        }
    }
    if let (Some(first), Some(last)) = (first_polls.iter().min(), first_polls.iter().max()) {
        figures.first_poll_spread_ms = (last - first) as f64 / 1e6;
        let mut slots = std::collections::HashMap::<u64, usize>::new();
        for t in &first_polls {
            *slots.entry((t - first) / 100_000_000).or_default() += 1;
        }
        figures.first_polls_busiest_100ms = slots.values().copied().max().unwrap_or(0);
    }
    Ok(())
}

/// Every load run of one `make bench`, by flow count.
#[derive(Default)]
pub struct Load {
    pub engine_https: std::collections::BTreeMap<usize, Result<SideFigures, String>>,
    pub engine_http: std::collections::BTreeMap<usize, Result<SideFigures, String>>,
    pub baseline_https: std::collections::BTreeMap<usize, Result<SideFigures, String>>,
}

/// KiB each flow adds above the process's one-flow floor (peak RSS).
pub fn kib_per_flow(one: &SideFigures, many: &SideFigures) -> Option<f64> {
    (many.flows > one.flows).then(|| {
        (many.peak_rss_kib as f64 - one.peak_rss_kib as f64) / (many.flows - one.flows) as f64
    })
}

/// The engine over HTTPS at every count of `scale` and at `flows`, over plain HTTP/1.1 at
/// `flows`, and the baseline over HTTPS at `flows`, each also with one flow for the floor.
pub async fn run_all(setup: &Setup<'_>, flows: usize, scale: &[usize]) -> Load {
    let mut load = Load::default();
    let mut engine_counts: Vec<usize> = scale.iter().copied().chain([1, flows]).collect();
    engine_counts.sort_unstable();
    engine_counts.dedup();
    for n in engine_counts {
        let spec = Spec {
            side: Side::Engine,
            flows: n,
            tls: true,
        };
        load.engine_https.insert(n, measure(setup, spec).await);
    }
    for n in [1, flows] {
        let spec = Spec {
            side: Side::Engine,
            flows: n,
            tls: false,
        };
        load.engine_http.insert(n, measure(setup, spec).await);
        let spec = Spec {
            side: Side::Baseline,
            flows: n,
            tls: true,
        };
        load.baseline_https.insert(n, measure(setup, spec).await);
    }
    load
}
