//! Start-up and footprint: time from `exec` to the app's "ready" line on stderr (ID Desk: its page
//! has booted; the hello-world: its page has loaded) and to its first viewable X window, and
//! resident memory 10 s after ready, for the release app and a bare Tauri hello-world, measured
//! identically (alternating runs, median). Needs an X display (the Makefile runs the bench under
//! Xvfb).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use id_desk_bench::procfs;

/// One app under test.
pub struct App {
    pub binary: PathBuf,
    /// The window title to wait for.
    pub title: &'static str,
    /// A stderr line containing this says the app is ready for use.
    pub ready_line: &'static str,
    /// A stderr line containing this says WebKit has loaded the page.
    pub loaded_line: &'static str,
    /// Extra environment, e.g. to run the hello-world under another WebKit rendering policy.
    pub env: Vec<(&'static str, &'static str)>,
}

#[derive(Debug, Default, Clone)]
pub struct Sample {
    /// `exec` → the ready line.
    pub ready_ms: f64,
    /// `exec` → the page-loaded line.
    pub loaded_ms: f64,
    /// `exec` → the first viewable window (looked for every 20 ms).
    pub window_ms: f64,
    /// The app's own process.
    pub rss_main_kib: u64,
    /// The app and its WebKit processes, resident set sizes added up.
    pub rss_tree_kib: u64,
    /// The same processes, proportional set size (shared pages counted once).
    pub pss_tree_kib: u64,
}

const IDLE: Duration = Duration::from_secs(10);
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Between two looks for the window (each `xwininfo` is one X client connecting).
const POLL: Duration = Duration::from_millis(20);

/// True once a window with exactly this title is mapped and viewable.
fn window_viewable(title: &str) -> bool {
    Command::new("xwininfo")
        .args(["-name", title])
        .stderr(Stdio::null())
        .output()
        .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("IsViewable"))
        .unwrap_or(false)
}

/// Stops the app and every process it started (they are ours).
fn stop(child: &mut Child, tree: &[u32]) {
    for pid in tree.iter().rev() {
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg(pid.to_string())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// One start of `app`. With `idle`, it then waits that long after ready and reads memory;
/// without, it stops at once (a timing run).
fn one_run(app: &App, scratch: &Path, idle: Option<Duration>) -> Result<Sample, String> {
    // A fresh home for every run: first start, no settings, logs or caches from a previous one.
    let _ = std::fs::remove_dir_all(scratch);
    for d in ["config", "data", "cache"] {
        std::fs::create_dir_all(scratch.join(d))
            .map_err(|e| format!("{}: {e}", scratch.display()))?;
    }
    if window_viewable(app.title) {
        return Err(format!("a window named {:?} is already open", app.title));
    }
    let stderr_path = scratch.join("stderr.log");
    let mut log = std::fs::File::create(&stderr_path)
        .map_err(|e| format!("{}: {e}", stderr_path.display()))?;
    let t0 = Instant::now();
    let mut child = Command::new(&app.binary)
        .env("XDG_CONFIG_HOME", scratch.join("config"))
        .env("XDG_DATA_HOME", scratch.join("data"))
        .env("XDG_CACHE_HOME", scratch.join("cache"))
        .envs(app.env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{}: {e}", app.binary.display()))?;
    // Lines are stamped as they arrive on the pipe, then kept in the log file.
    let (ready_tx, ready_rx) = mpsc::channel();
    let (loaded_tx, loaded_rx) = mpsc::channel();
    if let Some(stderr) = child.stderr.take() {
        let (ready_line, loaded_line) = (app.ready_line, app.loaded_line);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let at = t0.elapsed();
                if line.contains(ready_line) {
                    let _ = ready_tx.send(at);
                }
                if line.contains(loaded_line) {
                    let _ = loaded_tx.send(at);
                }
                let _ = writeln!(log, "{line}");
            }
        });
    }
    let (mut window, mut ready, mut loaded) = (None, None, None);
    let (window, ready, loaded) = loop {
        if window.is_none() && window_viewable(app.title) {
            window = Some(t0.elapsed());
        }
        ready = ready.or_else(|| ready_rx.try_recv().ok());
        loaded = loaded.or_else(|| loaded_rx.try_recv().ok());
        if let (Some(w), Some(r), Some(l)) = (window, ready, loaded) {
            break (w, r, l);
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            let last = log.lines().rev().take(3).collect::<Vec<_>>().join(" / ");
            return Err(format!(
                "{} exited early ({status}): {last}",
                app.binary.display()
            ));
        }
        if t0.elapsed() > READY_TIMEOUT {
            let tree = procfs::process_tree(child.id());
            stop(&mut child, &tree);
            return Err(format!(
                "{}: within {READY_TIMEOUT:?}: window {window:?}, {:?} line {ready:?}, {:?} line \
                 {loaded:?}",
                app.binary.display(),
                app.ready_line,
                app.loaded_line
            ));
        }
        std::thread::sleep(POLL);
    };
    let mut sample = Sample {
        ready_ms: ready.as_secs_f64() * 1000.0,
        loaded_ms: loaded.as_secs_f64() * 1000.0,
        window_ms: window.as_secs_f64() * 1000.0,
        ..Sample::default()
    };
    if let Some(idle) = idle {
        let since_ready = t0 + ready.max(window) + idle;
        std::thread::sleep(since_ready.saturating_duration_since(Instant::now()));
    }
    let tree = procfs::process_tree(child.id());
    if idle.is_some() {
        let main = child.id().to_string();
        sample.rss_main_kib = procfs::status_kib(&main, "VmRSS").unwrap_or(0);
        sample.rss_tree_kib = tree
            .iter()
            .filter_map(|p| procfs::status_kib(&p.to_string(), "VmRSS"))
            .sum();
        sample.pss_tree_kib = tree.iter().filter_map(|p| procfs::pss_kib(*p)).sum();
    }
    stop(&mut child, &tree);
    // Let the X server forget the window before the next run looks for one.
    std::thread::sleep(Duration::from_millis(500));
    Ok(sample)
}

/// Samples per app, in the order given.
pub type Samples = Vec<Vec<Sample>>;

/// `timing_runs` alternating quick starts of each app (start-up times), then `memory_runs`
/// alternating starts that idle 10 s before memory is read. Start-up times vary by tens of
/// milliseconds from run to run here, so they get many cheap runs; memory barely does.
pub fn measure(
    apps: &[App],
    timing_runs: usize,
    memory_runs: usize,
    scratch: &Path,
) -> Result<(Samples, Samples), String> {
    if std::env::var_os("DISPLAY").is_none() {
        return Err("no X display (DISPLAY unset)".to_owned());
    }
    let rounds = |runs: usize, idle: Option<Duration>| -> Result<Samples, String> {
        let mut all = vec![Vec::new(); apps.len()];
        for run in 1..=runs {
            for (app, samples) in apps.iter().zip(all.iter_mut()) {
                // Under Xvfb a start now and then fails to initialise GTK (seen for ID Desk and
                // the hello-world alike, 1 start in 20–30): such a start shows no window and
                // measures nothing, so it is repeated, at most twice, and said on stderr.
                let mut attempt = 1;
                let sample = loop {
                    match one_run(app, scratch, idle) {
                        Ok(s) => break s,
                        Err(e) if attempt < 3 && e.contains("Failed to initialize GTK") => {
                            eprintln!("[bench] start-up run {run}: GTK did not start; repeated");
                            attempt += 1;
                        }
                        Err(e) => return Err(format!("run {run}: {e}")),
                    }
                };
                samples.push(sample);
            }
        }
        Ok(all)
    };
    Ok((rounds(timing_runs, None)?, rounds(memory_runs, Some(IDLE))?))
}
