//! Black-box helpers for `id-desk-cli`: the built binary as a child process, its JSON Lines read
//! as they come, and the standalone simulator (`id-desk-cli simulator`) each test starts for
//! itself with a unique profile name.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::{binary, BoxError};

/// How long any single CLI run may take before the test gives up on it.
pub const RUN_LIMIT: Duration = Duration::from_secs(30);

pub fn cli_binary() -> PathBuf {
    binary("IDDESK_CLI", "id-desk-cli")
}

/// The Windows CLI under Wine (`make test-windows`): `IDDESK_CLI` names the `.exe` and
/// `IDDESK_CLI_RUNNER` the program that runs it (tests/harness/wine-run).
pub fn runner() -> Option<PathBuf> {
    std::env::var_os("IDDESK_CLI_RUNNER")
        .filter(|r| !r.is_empty())
        .map(PathBuf::from)
}

/// Whether the CLI under test is the Windows one. There, SIGINT reaches it as Ctrl+C (Wine turns
/// the signal into the console event); SIGTERM has no Windows counterpart.
pub fn windows() -> bool {
    runner().is_some()
}

/// A path the CLI printed, as this (Linux) test process reads it: the Windows CLI under Wine
/// names `/tmp/x` as `/tmp/x\\data\\…` or `Z:\\tmp\\x\\…`.
pub fn host_path(printed: &str) -> PathBuf {
    if !windows() {
        return PathBuf::from(printed);
    }
    let unix = printed.replace('\\', "/");
    PathBuf::from(
        unix.strip_prefix("Z:")
            .or_else(|| unix.strip_prefix("z:"))
            .unwrap_or(&unix),
    )
}

/// `id-desk-cli` (or its runner with the CLI as first argument), ready for arguments.
fn command() -> Command {
    match runner() {
        Some(r) => {
            let mut c = Command::new(r);
            c.arg(cli_binary());
            c
        }
        None => Command::new(cli_binary()),
    }
}

/// A profile name no other test (or earlier run in the same keyring session) uses.
pub fn unique_name(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("cli-{test}-{}-{nanos}", std::process::id())
}

/// Lines of a child's stdout, read on a thread so a test can wait with a limit.
pub struct Lines {
    rx: mpsc::Receiver<String>,
}

impl Lines {
    fn read(stdout: ChildStdout) -> Lines {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines { rx }
    }

    /// The next line as JSON; an error at EOF, on a non-JSON line or after `within`.
    pub fn next_json(&self, within: Duration) -> Result<Value, BoxError> {
        let line = self
            .rx
            .recv_timeout(within)
            .map_err(|e| format!("no stdout line within {within:?}: {e}"))?;
        serde_json::from_str(&line)
            .map_err(|e| format!("stdout line is not JSON ({e}): {line}").into())
    }

    /// Reads until a line with `"type": kind` arrives; returns every line read, that one last.
    pub fn until_type(&self, kind: &str, within: Duration) -> Result<Vec<Value>, BoxError> {
        let mut seen = Vec::new();
        loop {
            let v = self.next_json(within)?;
            let done = v["type"] == kind;
            seen.push(v);
            if done {
                return Ok(seen);
            }
        }
    }

    /// Whatever remains until EOF.
    pub fn rest(&self, within: Duration) -> Vec<Value> {
        let mut all = Vec::new();
        while let Ok(v) = self.next_json(within) {
            all.push(v);
        }
        all
    }
}

/// A finished CLI run.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub lines: Vec<Value>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn last(&self) -> &Value {
        self.lines.last().unwrap_or(&Value::Null)
    }

    pub fn of_type(&self, kind: &str) -> Vec<&Value> {
        self.lines.iter().filter(|l| l["type"] == kind).collect()
    }
}

/// Runs the CLI to completion with `stdin` piped in; every stdout line must be JSON.
pub fn run(args: &[&str], stdin: Option<&str>) -> Result<Run, BoxError> {
    run_with_env(args, stdin, &[])
}

/// As [`run`], with these environment variables set for the CLI alone.
pub fn run_with_env(
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &Path)],
) -> Result<Run, BoxError> {
    let mut child = command()
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", cli_binary().display()))?;
    if let Some(mut pipe) = child.stdin.take() {
        if let Some(text) = stdin {
            pipe.write_all(text.as_bytes())?;
        }
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(RUN_LIMIT)
        .map_err(|_| format!("id-desk-cli {args:?} did not finish within {RUN_LIMIT:?}"))??;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut lines = Vec::new();
    for l in stdout.lines() {
        let v: Value = serde_json::from_str(l)
            .map_err(|e| format!("stdout line is not JSON ({e}): {l}\nstderr: {stderr}"))?;
        lines.push(v);
    }
    Ok(Run {
        code: out.status.code(),
        lines,
        stdout,
        stderr,
    })
}

/// A CLI run still in progress (to signal or kill it mid-flow).
pub struct Running {
    pub child: Child,
    pub lines: Lines,
}

pub fn spawn(args: &[&str]) -> Result<Running, BoxError> {
    let mut child = command()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", cli_binary().display()))?;
    let stdout = child.stdout.take().ok_or("no stdout pipe")?;
    Ok(Running {
        child,
        lines: Lines::read(stdout),
    })
}

impl Running {
    /// Sends a signal by name (`INT`, `TERM`) with kill(1): the workspace forbids unsafe code.
    pub fn signal(&self, name: &str) -> Result<(), BoxError> {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()?;
        if !status.success() {
            return Err(format!("kill -{name} failed: {status}").into());
        }
        Ok(())
    }

    pub fn wait(&mut self, within: Duration) -> Result<ExitStatus, BoxError> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if std::time::Instant::now() > deadline {
                return Err(format!("the CLI did not exit within {within:?}").into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `id-desk-cli simulator` as a child process, with the profile it printed written to a file.
pub struct Sim {
    pub running: Running,
    pub base_url: String,
    pub profile_name: String,
    pub profile_file: PathBuf,
    /// Holds the profile file and the simulator's own log directory.
    _dir: tempfile::TempDir,
}

impl Sim {
    /// Starts a fast simulator (`--time-scale 0.1`) for `profile_name`, plus `extra` flags.
    pub fn start(profile_name: &str, extra: &[&str]) -> Result<Sim, BoxError> {
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("sim-data");
        let data = data.to_string_lossy();
        let mut args = vec![
            "--data-dir",
            &data,
            "simulator",
            "--port",
            "0",
            "--time-scale",
            "0.1",
            "--profile-name",
            profile_name,
        ];
        args.extend_from_slice(extra);
        let running = spawn(&args)?;
        let ready = running.lines.next_json(Duration::from_secs(20))?;
        if ready["type"] != "simulator" {
            return Err(format!("the simulator said {ready}").into());
        }
        let profile = ready["profile"]
            .as_str()
            .ok_or("no profile in the ready line")?;
        let profile_file = dir.path().join(format!("{profile_name}.toml"));
        std::fs::write(&profile_file, profile)?;
        Ok(Sim {
            base_url: ready["base_url"]
                .as_str()
                .ok_or("no base_url in the ready line")?
                .to_string(),
            running,
            profile_name: profile_name.to_string(),
            profile_file,
            _dir: dir,
        })
    }

    /// `--profile-file <this simulator's profile> --data-dir <data>` followed by `rest`.
    pub fn args<'a>(&'a self, data: &'a Path, rest: &[&'a str]) -> Vec<String> {
        let mut all = vec![
            "--profile-file".to_string(),
            self.profile_file.to_string_lossy().into_owned(),
            "--data-dir".to_string(),
            data.to_string_lossy().into_owned(),
        ];
        all.extend(rest.iter().map(|s| s.to_string()));
        all
    }

    /// Runs the CLI against this simulator.
    pub fn cli(&self, data: &Path, rest: &[&str]) -> Result<Run, BoxError> {
        let args = self.args(data, rest);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&refs, None)
    }

    /// As [`Sim::cli`], with these environment variables set for the CLI alone.
    pub fn cli_with_env(
        &self,
        data: &Path,
        rest: &[&str],
        env: &[(&str, &Path)],
    ) -> Result<Run, BoxError> {
        let args = self.args(data, rest);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run_with_env(&refs, None, env)
    }

    pub fn spawn_cli(&self, data: &Path, rest: &[&str]) -> Result<Running, BoxError> {
        let args = self.args(data, rest);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        spawn(&refs)
    }

    /// `GET {base}/_sim/{path}` as JSON.
    pub fn control(&self, path: &str) -> Result<Value, BoxError> {
        let url = format!("{}/_sim/{path}", self.base_url);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let v = reqwest::get(&url).await?.error_for_status()?.json().await?;
            Ok(v)
        })
    }

    /// `POST {base}/_sim/{path}` with a JSON body, as JSON.
    pub fn control_post(&self, path: &str, body: &Value) -> Result<Value, BoxError> {
        let url = format!("{}/_sim/{path}", self.base_url);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let v = reqwest::Client::new()
                .post(&url)
                .json(body)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            Ok(v)
        })
    }

    /// Requests the simulator received, by endpoint (`Token`, `Create`, `Cancel`, ...).
    pub fn requests(&self, endpoint: &str) -> Result<u64, BoxError> {
        Ok(self.control("stats")?["requests"][endpoint]
            .as_u64()
            .unwrap_or(0))
    }

    pub fn total_requests(&self) -> Result<u64, BoxError> {
        let stats = self.control("stats")?;
        Ok(stats["requests"]
            .as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0))
    }

    /// Stops the simulator the way staff do (SIGINT) and returns its exit status.
    pub fn stop(mut self) -> Result<ExitStatus, BoxError> {
        self.running.signal("INT")?;
        self.running.wait(Duration::from_secs(10))
    }
}
