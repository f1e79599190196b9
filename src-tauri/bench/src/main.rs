//! `make bench`: runs every benchmark of issues 9, 13 and 17 and prints one Markdown table (also written to
//! `$BENCH_OUT/bench.md`). A part that cannot run says so in the table instead of a figure.
//!
//! Environment (all optional): `BENCH_SECONDS` (60; shorten for a smoke run), `BENCH_FLOWS`
//! (1000), `BENCH_LAG_FLOWS` (200), `BENCH_WINDOW_FLOWS` (30; 10 when BENCH_SECONDS < 60), `BENCH_STARTUP_RUNS` (21; 5), `BENCH_MEMORY_RUNS` (5; 1),
//! `BENCH_ARCHIVE_ROWS` (10000), `BENCH_SCALE` (10,100,1000,5000, without 5000 when BENCH_SECONDS < 60: the engine's scale curve),
//! `BENCH_ONLY` (comma list of `lag`, `window`, `concurrency`, `startup`, `archive`), `BENCH_PYTHON` + `BENCH_BASELINE` (interpreter and script of
//! the baseline), `BENCH_APP` + `BENCH_HELLO` (release binaries), `BENCH_OUT` (output dir).

mod archive;
mod concurrency;
mod lag;
mod plot;
mod report;
mod startup;
mod window;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use report::Report;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A comma list of numbers, e.g. `BENCH_SCALE=10,100`.
fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect::<Vec<_>>()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_vec())
}

fn wanted(part: &str) -> bool {
    match std::env::var("BENCH_ONLY") {
        Ok(only) if !only.trim().is_empty() => only.split(',').any(|p| p.trim() == part),
        _ => true,
    }
}

fn path_env(name: &str, default: PathBuf) -> PathBuf {
    std::env::var_os(name).map(PathBuf::from).unwrap_or(default)
}

#[tokio::main]
async fn main() -> ExitCode {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let out_dir = path_env("BENCH_OUT", exe_dir.join("../bench"));
    if let Err(e) = std::fs::create_dir_all(&out_dir) {
        eprintln!("id-desk-bench: {}: {e}", out_dir.display());
        return ExitCode::FAILURE;
    }
    let seconds = env_num("BENCH_SECONDS", 60);
    let flows = env_num("BENCH_FLOWS", 1000) as usize;
    // A smoke run (BENCH_SECONDS below 60, to stay under 3 minutes) measures less: no 5,000-flow
    // point, fewer starts, fewer flows in the window.
    let smoke = seconds < 60;
    let mut report = Report::new(seconds, flows);

    // First, on a quiet machine: nothing else has started X clients or loaded the CPU yet.
    if wanted("startup") {
        let hello = path_env("BENCH_HELLO", exe_dir.join("hello-tauri"));
        let apps = [
            startup::App {
                binary: path_env("BENCH_APP", exe_dir.join("id-desk")),
                title: "ID Desk",
                ready_line: "window ready",
                loaded_line: "page loaded",
                env: vec![],
            },
            startup::App {
                binary: hello.clone(),
                title: "Hello Tauri",
                ready_line: "hello-tauri ready",
                loaded_line: "hello-tauri ready",
                env: vec![],
            },
            // ID Desk turns WebKit's GPU compositing off; the same hello-world under the same
            // policy shows what the desk's page itself costs.
            startup::App {
                binary: hello,
                title: "Hello Tauri",
                ready_line: "hello-tauri ready",
                loaded_line: "hello-tauri ready",
                env: vec![("WEBKIT_DISABLE_COMPOSITING_MODE", "1")],
            },
        ];
        let cli = path_env("BENCH_CLI", exe_dir.join("id-desk-cli"));
        report.binary_sizes(&apps[0].binary, &cli, &apps[1].binary);
        let timing_runs = env_num("BENCH_STARTUP_RUNS", if smoke { 5 } else { 21 }) as usize;
        let memory_runs = env_num("BENCH_MEMORY_RUNS", if smoke { 1 } else { 5 }) as usize;
        eprintln!(
            "[bench] start-up: {timing_runs} timing and {memory_runs} memory runs of each app"
        );
        let scratch = out_dir.join("startup-home");
        match startup::measure(&apps, timing_runs, memory_runs, &scratch) {
            Ok((timing, memory)) => report.startup(&timing, &memory),
            Err(e) => report.not_measured("Start-up and idle memory", &e),
        }
    }

    if wanted("lag") {
        let lag_flows = env_num("BENCH_LAG_FLOWS", 200) as usize;
        for secs in [2, 1] {
            eprintln!("[bench] detection lag: {lag_flows} flows at {secs} s polling");
            match lag::run(Duration::from_secs(secs), lag_flows).await {
                Ok(figures) => report.lag(&figures),
                Err(e) => report.not_measured(&format!("Detection lag at {secs} s"), &e),
            }
        }
    }
    if wanted("window") {
        let n = env_num("BENCH_WINDOW_FLOWS", if smoke { 10 } else { 30 }) as usize;
        eprintln!("[bench] binding words to the screen: {n} flows in the release app's window");
        // The end-to-end harness starts the app named by IDDESK_APP under tauri-driver.
        if std::env::var_os("IDDESK_APP").is_none() {
            std::env::set_var("IDDESK_APP", path_env("BENCH_APP", exe_dir.join("id-desk")));
        }
        match window::run(n).await {
            Ok(samples) => report.window_binding(&samples),
            Err(e) => {
                report.not_measured("Create answer → binding words visible in the window", &e)
            }
        }
    }

    if wanted("concurrency") {
        let python = std::env::var("BENCH_PYTHON").unwrap_or_else(|_| "python3".to_owned());
        let baseline = path_env(
            "BENCH_BASELINE",
            PathBuf::from("src-tauri/bench/baseline/safe_conversation.py"),
        );
        let setup = concurrency::Setup {
            sim_server: &exe_dir.join("sim-server"),
            engine: &exe_dir.join("bench-flows"),
            python: &python,
            baseline: &baseline,
            seconds,
            work_dir: &out_dir,
        };
        let full_scale: &[usize] = if smoke {
            &[10, 100, 1000]
        } else {
            &[10, 100, 1000, 5000]
        };
        let scale = env_list("BENCH_SCALE", full_scale);
        let load = concurrency::run_all(&setup, flows, &scale).await;
        report.load(&load);
        report.scale(&load, &out_dir.join("scale.svg"));
    }

    if wanted("archive") {
        let rows = env_num("BENCH_ARCHIVE_ROWS", 10_000);
        eprintln!("[bench] archive: {rows} queued transactions delivered to PostgreSQL");
        match archive::run(rows).await {
            Ok(figures) => report.archive(&figures),
            Err(e) => report.not_measured("Archive delivery", &e),
        }
    }

    let table = report.render();
    println!("{table}");
    let file = out_dir.join("bench.md");
    if let Err(e) = std::fs::write(&file, &table) {
        eprintln!("id-desk-bench: {}: {e}", file.display());
        return ExitCode::FAILURE;
    }
    eprintln!("[bench] written to {}", file.display());
    ExitCode::SUCCESS
}
