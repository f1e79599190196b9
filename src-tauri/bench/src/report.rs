//! The Markdown table: one row per figure, with its target and whether it was met.

use std::path::Path;

use id_desk_bench::numbers::{median, summary};

use crate::archive::ArchiveFigures;
use crate::concurrency::{kib_per_flow, Load, SideFigures, LATE_AFTER};
use crate::lag::LagFigures;
use crate::startup::Sample;

pub struct Report {
    seconds: u64,
    flows: usize,
    rows: Vec<[String; 6]>,
    /// SVG files written by this run, named under the table.
    plots: Vec<std::path::PathBuf>,
}

fn ms(v: f64) -> String {
    format!("{v:.1}")
}

fn mib(kib: f64) -> String {
    format!("{:.1} MiB", kib / 1024.0)
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn met(ok: bool) -> String {
    if ok { "yes" } else { "**no**" }.to_owned()
}

fn quad(values: [f64; 4], unit: &str, fmt: fn(f64) -> String) -> String {
    let [a, b, c, d] = values;
    format!("{} / {} / {} / {} {unit}", fmt(a), fmt(b), fmt(c), fmt(d))
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|x| x.1.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let ram_gib = meminfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("MemTotal:")?
                .split_whitespace()
                .next()?
                .parse::<f64>()
                .ok()
        })
        .map(|kib| kib / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cores} cores (nproc), {model}, {ram_gib:.1} GiB RAM, Linux {}",
        kernel.trim()
    )
}

impl Report {
    pub fn new(seconds: u64, flows: usize) -> Report {
        Report {
            seconds,
            flows,
            rows: Vec::new(),
            plots: Vec::new(),
        }
    }

    fn row(&mut self, cells: [&str; 6]) {
        self.rows.push(cells.map(str::to_owned));
    }

    pub fn not_measured(&mut self, what: &str, why: &str) {
        let why = format!("not measured: {}", why.replace('|', "/"));
        self.row([what, &why, "", "", "", "—"]);
    }

    pub fn lag(&mut self, f: &LagFigures) {
        let secs = f.interval.as_secs_f64();
        let target_ms = f.interval.as_secs_f64() * 1000.0 + 20.0;
        match summary(&f.lag_ms) {
            Some(q) => self.row([
                &format!("Detection lag, {secs} s polling ({} flows): approval → `succeeded`, p50 / p95 / p99 / max", f.flows),
                &quad(q, "ms", ms),
                "",
                "",
                &format!("p99 ≤ {target_ms:.0} ms"),
                &met(q[2] <= target_ms),
            ]),
            None => self.not_measured("Detection lag", "no samples"),
        }
        match summary(&f.binding_us) {
            Some(q) => self.row([
                &format!("Create answer → `binding_message` event in the engine, {secs} s run, p50 / p95 / p99 / max"),
                &quad(q, "µs", |v| format!("{v:.0}")),
                "",
                "",
                "p99 ≤ 1,000 µs",
                &met(q[2] <= 1000.0),
            ]),
            None => self.not_measured("Create answer → binding_message", "no samples"),
        }
        self.row([
            &format!("Token requests, lag run at {secs} s"),
            &f.token_requests.to_string(),
            "",
            "",
            "1",
            &met(f.token_requests == 1),
        ]);
    }

    /// `samples`: ms from the event leaving Rust to the words laid out and visible in the window.
    pub fn window_binding(&mut self, samples: &[f64]) {
        match summary(samples) {
            Some(q) => self.row([
                &format!(
                    "Create answer → binding words visible in the window ({} flows, release app, Xvfb, WebDriver), p50 / p95 / p99 / max",
                    samples.len()
                ),
                &quad(q, "ms", ms),
                "",
                "",
                "p99 ≤ 100 ms",
                &met(q[2] <= 100.0),
            ]),
            None => self.not_measured("Create answer → binding words in the window", "no samples"),
        }
    }

    /// The load runs: per-flow memory, CPU, connections, polls (issues 9 and 13).
    pub fn load(&mut self, load: &Load) {
        let n = self.flows;
        let s = self.seconds;
        let (e1, en) = match (load.engine_https.get(&1), load.engine_https.get(&n)) {
            (Some(Ok(a)), Some(Ok(b))) => (a, b),
            (Some(Err(e)), _) | (_, Some(Err(e))) => return self.not_measured("Load (engine)", e),
            _ => return self.not_measured("Load (engine)", "no run"),
        };
        let base = match (load.baseline_https.get(&1), load.baseline_https.get(&n)) {
            (Some(Ok(a)), Some(Ok(b))) => Ok((a, b)),
            (Some(Err(e)), _) | (_, Some(Err(e))) => Err(e.clone()),
            _ => Err("no run".to_owned()),
        };
        let what = format!(
            "{} flows over HTTPS, {s} s, 1 s polling",
            thousands(n as u64)
        );
        match &base {
            Ok((b1, bn)) => {
                let (ek, bk) = (kib_per_flow(e1, en), kib_per_flow(b1, bn));
                match (ek, bk) {
                    (Some(ek), Some(bk)) => self.row([
                        &format!("{what}: memory per flow above the one-flow floor (peak RSS: {} → {} engine, {} → {} baseline)", mib(e1.peak_rss_kib as f64), mib(en.peak_rss_kib as f64), mib(b1.peak_rss_kib as f64), mib(bn.peak_rss_kib as f64)),
                        &format!("{ek:.1} KiB"),
                        &format!("{bk:.1} KiB"),
                        &format!("{:.1}× less", bk / ek),
                        "≤ 8 KiB and ≥ 10× less",
                        &met(ek <= 8.0 && bk / ek >= 10.0),
                    ]),
                    _ => self.not_measured("Memory per flow", "flow counts"),
                }
                let cpu_ratio = bn.cpu_seconds / en.cpu_seconds;
                self.row([
                    &format!("{what}: CPU seconds (user + system)"),
                    &format!("{:.2} s", en.cpu_seconds),
                    &format!("{:.2} s", bn.cpu_seconds),
                    &format!("{cpu_ratio:.1}× less"),
                    "≥ 10× less",
                    &met(cpu_ratio >= 10.0),
                ]);
            }
            Err(e) => self.not_measured("Load (Python baseline)", e),
        }
        let base_n = base.as_ref().ok().map(|(_, b)| *b);
        let or_dash = |f: &dyn Fn(&SideFigures) -> String| base_n.map(f).unwrap_or_default();
        let conns = |f: &SideFigures| {
            format!(
                "{} / {} / {} ({} HTTP/2)",
                f.connections_at_5s, f.connections_peak, f.connections_opened, f.connections_http2
            )
        };
        self.row([
            &format!("{what}: connections to the simulator at 5 s / most at once / opened in all"),
            &conns(en),
            &or_dash(&conns),
            "",
            "≤ 8",
            &met(en.connections_at_5s <= 8 && en.connections_peak <= 8),
        ]);
        match load.engine_http.get(&n) {
            Some(Ok(h)) => self.row([
                &format!("{} flows over plain HTTP/1.1 (no HTTP/2 offered): connections at 5 s / most / opened; late polls", thousands(n as u64)),
                &format!("{} / {} / {}; {} late", h.connections_at_5s, h.connections_peak, h.connections_opened, h.late_polls),
                "",
                "",
                "≤ 8; 0 late",
                &met(h.connections_peak <= 8 && h.late_polls == 0),
            ]),
            Some(Err(e)) => self.not_measured("Load over plain HTTP/1.1", e),
            None => {}
        }
        self.row([
            &format!("{what}: token requests"),
            &en.token_requests.to_string(),
            &or_dash(&|b| b.token_requests.to_string()),
            "",
            "1",
            &met(en.token_requests == 1),
        ]);
        self.row([
            &format!("{what}: sessions created / status polls"),
            &format!("{} / {}", en.creates, en.polls),
            &or_dash(&|b| format!("{} / {}", b.creates, b.polls)),
            "",
            &format!("{n} / ≈ {}", n as u64 * s.saturating_sub(1)),
            &met(en.creates == n as u64),
        ]);
        self.row([
            &format!("{what}: first polls spread over / most in one 100 ms slot"),
            &format!(
                "{:.0} ms / {}",
                en.first_poll_spread_ms, en.first_polls_busiest_100ms
            ),
            &or_dash(&|b| {
                format!(
                    "{:.0} ms / {}",
                    b.first_poll_spread_ms, b.first_polls_busiest_100ms
                )
            }),
            "",
            "inside the 1,000 ms interval",
            &met(en.first_poll_spread_ms <= 1000.0 && en.first_poll_spread_ms >= 500.0),
        ]);
        self.row([
            &format!(
                "{what}: late polls (gap > {} ms) / longest gap",
                LATE_AFTER.as_millis()
            ),
            &format!("{} / {:.0} ms", en.late_polls, en.max_gap_ms),
            &or_dash(&|b| format!("{} / {:.0} ms", b.late_polls, b.max_gap_ms)),
            "",
            "0",
            &met(en.late_polls == 0),
        ]);
        self.row([
            &format!("{what}: flows that ended early or failed to start"),
            &en.flows_lost().to_string(),
            &or_dash(&|b| b.flows_lost().to_string()),
            "",
            "0",
            &met(en.flows_lost() == 0),
        ]);
    }

    /// The engine's scale curve (issue 13): one row per flow count, the plot to `svg`.
    pub fn scale(&mut self, load: &Load, svg: &Path) {
        let Some(Ok(one)) = load.engine_https.get(&1) else {
            return self.not_measured("Scale curve", "no one-flow run");
        };
        let mut points = Vec::new();
        for (&n, run) in load.engine_https.iter().filter(|(&n, _)| n > 1) {
            match run {
                Ok(f) => {
                    let per_flow = kib_per_flow(one, f).unwrap_or(f64::NAN);
                    self.row([
                        &format!("Scale, engine over HTTPS: {} flows, {} s — CPU / peak RSS / per flow above the floor / late polls / connections", thousands(n as u64), self.seconds),
                        &format!("{:.2} s / {} / {per_flow:.1} KiB / {} / {}", f.cpu_seconds, mib(f.peak_rss_kib as f64), f.late_polls, f.connections_peak),
                        "",
                        "",
                        "reported",
                        "—",
                    ]);
                    points.push((n, f.cpu_seconds, f.peak_rss_kib as f64 / 1024.0, per_flow));
                }
                Err(e) => self.not_measured(&format!("Scale, {n} flows"), e),
            }
        }
        // Linear or better: what each flow costs must not grow with the number of flows.
        if let (Some(small), Some(big)) = (
            points.iter().find(|p| p.0 >= 1000),
            points.last().filter(|p| p.0 > 1000),
        ) {
            let cpu_growth = (big.1 / big.0 as f64) / (small.1 / small.0 as f64);
            let mem_growth = big.3 / small.3;
            self.row([
                &format!(
                    "Scale: cost per flow at {} against {} flows, CPU / memory",
                    thousands(big.0 as u64),
                    thousands(small.0 as u64)
                ),
                &format!("{cpu_growth:.2}× / {mem_growth:.2}×"),
                "",
                "",
                "≤ 1.10× (linear or better)",
                &met(cpu_growth <= 1.10 && mem_growth <= 1.10),
            ]);
        }
        match std::fs::write(svg, crate::plot::scale_svg(&points)) {
            Ok(()) => self.plots.push(svg.to_path_buf()),
            Err(e) => self.not_measured("Scale plot", &format!("{}: {e}", svg.display())),
        }
    }

    pub fn archive(&mut self, f: &ArchiveFigures) {
        let secs = f.elapsed.as_secs_f64();
        let what = format!(
            "Archive: {} queued transactions delivered to PostgreSQL on loopback ({} with a {} KiB SDO), time / rows per second",
            thousands(f.rows),
            thousands(f.signatures),
            f.sdo_bytes / 1024
        );
        let figure = format!(
            "{secs:.2} s / {} rows/s ({} archived)",
            thousands((f.rows as f64 / secs.max(1e-9)) as u64),
            thousands(f.archived)
        );
        self.row([&what, &figure, "", "", "reported", "—"]);
    }

    /// Every shipped binary against the hello-world, as built by the release profile.
    pub fn binary_sizes(&mut self, app: &Path, cli: &Path, hello: &Path) {
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len() as f64 / 1024.0).ok();
        let Some(h) = size(hello) else {
            return self.not_measured(
                "Release binary size",
                &format!("{} missing", hello.display()),
            );
        };
        for (name, path, target) in [
            ("id-desk (the app)", app, true),
            ("id-desk-cli", cli, false),
        ] {
            match size(path) {
                Some(a) => self.row([
                    &format!("Release binary size, {name} (LTO, codegen-units 1, stripped)"),
                    &mib(a),
                    &mib(h),
                    &format!("{:.2}×", a / h),
                    if target {
                        "≤ 2× hello-world"
                    } else {
                        "reported"
                    },
                    &if target {
                        met(a / h <= 2.0)
                    } else {
                        "—".to_owned()
                    },
                ]),
                None => self.not_measured(name, &format!("{} missing", path.display())),
            }
        }
    }

    /// `timing` and `memory`: samples of ID Desk, the hello-world, and the hello-world without
    /// GPU compositing, in that order.
    pub fn startup(&mut self, timing: &[Vec<Sample>], memory: &[Vec<Sample>]) {
        let (Some(app_t), Some(hello_t)) = (timing.first(), timing.get(1)) else {
            return self.not_measured("Start-up", "no samples");
        };
        let (Some(app_m), Some(hello_m), Some(flat_m)) =
            (memory.first(), memory.get(1), memory.get(2))
        else {
            return self.not_measured("Idle memory", "no samples");
        };
        let med = |s: &[Sample], f: fn(&Sample) -> f64| {
            median(&s.iter().map(f).collect::<Vec<_>>()).unwrap_or(f64::NAN)
        };
        let mut compare = |what: &str,
                           (app, base): (&[Sample], &[Sample]),
                           f: fn(&Sample) -> f64,
                           fmt: fn(f64) -> String,
                           target: bool| {
            let (a, h) = (med(app, f), med(base, f));
            let ratio = a / h;
            self.row([
                &format!("{what} (median of {}, Xvfb)", app.len()),
                &fmt(a),
                &fmt(h),
                &format!("{ratio:.2}×"),
                if target {
                    "≤ 1.10× hello-world"
                } else {
                    "reported"
                },
                &if target {
                    met(ratio <= 1.10)
                } else {
                    "—".to_owned()
                },
            ]);
        };
        let ms = |v: f64| format!("{v:.0} ms");
        let timing = (app_t.as_slice(), hello_t.as_slice());
        let memory = (app_m.as_slice(), hello_m.as_slice());
        compare(
            "Cold start: exec → ready (ID Desk: page booted, profile loaded; hello-world: page loaded)",
            timing,
            |s| s.ready_ms,
            ms,
            true,
        );
        compare(
            "… exec → page loaded, the same WebKit signal for both",
            timing,
            |s| s.loaded_ms,
            ms,
            false,
        );
        compare(
            "… exec → first viewable X window (±20 ms)",
            timing,
            |s| s.window_ms,
            ms,
            false,
        );
        // Like for like (issue 13): both without GPU compositing, as ID Desk runs.
        let flat = (app_m.as_slice(), flat_m.as_slice());
        compare(
            "Idle memory 10 s after ready, app + WebKit processes (PSS), against the hello-world with GPU compositing off too (like for like)",
            flat,
            |s| s.pss_tree_kib as f64,
            mib,
            true,
        );
        compare(
            "… app process alone (RSS), like for like",
            flat,
            |s| s.rss_main_kib as f64,
            mib,
            false,
        );
        compare(
            "… PSS against the hello-world with Tauri's defaults (GPU compositing on)",
            memory,
            |s| s.pss_tree_kib as f64,
            mib,
            false,
        );
    }

    pub fn render(&self) -> String {
        let date = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let mut out = format!(
            "### Benchmarks ({date})\n\nMachine: {}. Run: `make bench`, BENCH_SECONDS={}, {} flows.\n\n",
            machine(),
            self.seconds,
            self.flows
        );
        out.push_str("| Measure | ID Desk | Baseline | Ratio | Target | Met |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for r in &self.rows {
            out.push_str(&format!("| {} |\n", r.join(" | ")));
        }
        for plot in &self.plots {
            out.push_str(&format!("\nPlot: `{}`\n", plot.display()));
        }
        out.push_str(
            "\nHow: load baseline = Python 3 + `requests`, one thread per flow, one token, \
             a `requests.Session` per thread (`src-tauri/bench/baseline/safe_conversation.py`); \
             every load run has its own `sim-server` process (HTTPS with a self-signed \
             certificate and HTTP/2 offered by ALPN, or plain HTTP/1.1), measured by \
             `/usr/bin/time -v`; memory per flow = (peak RSS at N flows − peak RSS at 1 flow) / \
             (N − 1); connections = the client's established TCP connections to the simulator, \
             read from /proc every 100 ms; late = gap between two polls of one session above \
             1,100 ms, from the simulator's poll instants. Detection lag: engine and simulator \
             (HTTPS) in one process, customers approve at instants spread over two poll cycles. \
             Start-up baseline = a bare Tauri 2 hello-world (`src-tauri/bench/hello`, same `tauri` \
             features, same release profile); \"ready\" = the app's ready line on stderr, stamped \
             as it arrives (ID Desk logs it when its page has booted, the hello-world when its \
             page has loaded); windows looked for every 20 ms with `xwininfo`; times from many \
             quick alternating starts, memory from a few starts that idle 10 s; fresh XDG \
             config/data/cache dirs per run, page cache warm; ID Desk runs WebKit without GPU \
             compositing (its default), and so does the hello-world in the like-for-like rows. \
             Window: the app stamps each event as it leaves Rust; the page records when the \
             binding words are laid out and visible, read over WebDriver.\n",
        );
        out
    }
}
