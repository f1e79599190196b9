//! The Markdown table: one row per figure, with its target and whether it was met.

use std::path::Path;

use id_desk_bench::numbers::{median, summary};

use crate::archive::ArchiveFigures;
use crate::concurrency::{SideFigures, LATE_AFTER};
use crate::lag::LagFigures;
use crate::startup::Sample;

pub struct Report {
    seconds: u64,
    flows: usize,
    rows: Vec<[String; 6]>,
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
        if i > 0 && (s.len() - i) % 3 == 0 {
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

    pub fn concurrency(
        &mut self,
        engine: Result<SideFigures, String>,
        base: Result<SideFigures, String>,
    ) {
        let (e, b) = match (engine, base) {
            (Ok(e), Ok(b)) => (e, b),
            (Err(e), _) => return self.not_measured("Concurrency (engine)", &e),
            (_, Err(e)) => return self.not_measured("Concurrency (Python baseline)", &e),
        };
        let what = format!(
            "{} Safe Conversation flows, {} s, 1 s polling",
            self.flows, self.seconds
        );
        let cpu_ratio = b.cpu_seconds / e.cpu_seconds;
        self.row([
            &format!("{what}: CPU seconds (user + system)"),
            &format!("{:.2} s", e.cpu_seconds),
            &format!("{:.2} s", b.cpu_seconds),
            &format!("{cpu_ratio:.1}× less"),
            "≥ 10× less",
            &met(cpu_ratio >= 10.0),
        ]);
        let rss_ratio = b.peak_rss_kib as f64 / e.peak_rss_kib as f64;
        self.row([
            &format!("{what}: peak RSS"),
            &mib(e.peak_rss_kib as f64),
            &mib(b.peak_rss_kib as f64),
            &format!("{rss_ratio:.1}× less"),
            "≥ 10× less",
            &met(rss_ratio >= 10.0),
        ]);
        self.row([
            &format!("{what}: token requests"),
            &e.token_requests.to_string(),
            &b.token_requests.to_string(),
            "",
            "1",
            &met(e.token_requests == 1),
        ]);
        self.row([
            &format!("{what}: sessions created / status polls"),
            &format!("{} / {}", e.creates, e.polls),
            &format!("{} / {}", b.creates, b.polls),
            "",
            &format!(
                "{} / ≈ {}",
                self.flows,
                self.flows as u64 * self.seconds.saturating_sub(1)
            ),
            &met(e.creates == self.flows as u64),
        ]);
        self.row([
            &format!(
                "{what}: late polls (gap > {} ms) / longest gap",
                LATE_AFTER.as_millis()
            ),
            &format!("{} / {:.0} ms", e.late_polls, e.max_gap_ms),
            &format!("{} / {:.0} ms", b.late_polls, b.max_gap_ms),
            "",
            "0",
            &met(e.late_polls == 0),
        ]);
        let flows_ok = |s: &SideFigures, key: &str| s.summary[key].as_u64().unwrap_or(u64::MAX);
        self.row([
            &format!("{what}: flows that ended early or failed to start"),
            &format!(
                "{}",
                flows_ok(&e, "terminal_before_end").saturating_add(flows_ok(&e, "start_errors"))
            ),
            &format!(
                "{}",
                flows_ok(&b, "errors").saturating_add(flows_ok(&b, "terminal"))
            ),
            "",
            "0",
            &met(flows_ok(&e, "terminal_before_end") == 0 && flows_ok(&e, "start_errors") == 0),
        ]);
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

    pub fn binary_sizes(&mut self, app: &Path, hello: &Path) {
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len() as f64 / 1024.0).ok();
        match (size(app), size(hello)) {
            (Some(a), Some(h)) => self.row([
                "Release binary size (as built, not stripped)",
                &mib(a),
                &mib(h),
                &format!("{:.2}×", a / h),
                "reported",
                "—",
            ]),
            _ => self.not_measured(
                "Release binary size",
                &format!("{} or {} missing", app.display(), hello.display()),
            ),
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
                    "≤ 1.25× hello-world"
                } else {
                    "reported"
                },
                &if target {
                    met(ratio <= 1.25)
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
        compare(
            "Idle RSS 10 s after ready, app process",
            memory,
            |s| s.rss_main_kib as f64,
            mib,
            true,
        );
        compare(
            "Idle memory 10 s after ready, app + WebKit processes (PSS)",
            memory,
            |s| s.pss_tree_kib as f64,
            mib,
            true,
        );
        compare("… (RSS sum)", memory, |s| s.rss_tree_kib as f64, mib, true);
        compare(
            "… PSS against the hello-world with GPU compositing off too, as ID Desk runs",
            (app_m.as_slice(), flat_m.as_slice()),
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
        out.push_str(
            "\nHow: concurrency baseline = Python 3 + `requests`, one thread per flow, one token, \
             a `requests.Session` per thread (`src-tauri/bench/baseline/safe_conversation.py`); \
             engine and baseline each run against their own `sim-server` process, measured by \
             `/usr/bin/time -v`; late = gap between two polls of one session above 1,100 ms, from \
             the simulator's poll instants. Detection lag: engine and simulator in one process, \
             customers approve at instants spread over two poll cycles. Start-up baseline = a bare \
             Tauri 2 hello-world (`src-tauri/bench/hello`, same `tauri` features); \"ready\" = the \
             app's ready line on stderr, stamped as it arrives (ID Desk logs it when its page has \
             booted, the hello-world when its page has loaded); windows looked for every 20 ms \
             with `xwininfo`; times from many quick alternating starts, memory from a few starts \
             that idle 10 s; fresh XDG config/data/cache dirs per run, page cache warm; ID Desk \
             runs WebKit without GPU compositing (its default), the hello-world with Tauri's \
             defaults and, in the last row, without it too. Window: the \
             app stamps each event as it leaves Rust; the page records when the binding words are \
             laid out and visible, read over WebDriver.\n",
        );
        out
    }
}
