//! A throw-away PostgreSQL cluster for the archive tests and the archive benchmark: Debian's
//! `postgresql` server binaries (`make` installs the package), `initdb` in a temporary directory,
//! listening on a free port of 127.0.0.1 only, password logins (SCRAM) over TCP. It runs as the
//! user running the tests; as root (CI) it runs as the package's unprivileged `postgres` user,
//! because the server refuses to run as root. Dropping the cluster stops it and deletes it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::{free_port, BoxError};

/// The cluster's superuser; the desk logs in as it.
pub const USER: &str = "iddesk";
/// The database the desk ships to (created by `initdb`).
pub const DATABASE: &str = "postgres";

pub struct PgCluster {
    /// Holds `data/`, the socket and the log; removed on drop.
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    password: String,
    /// `Some("postgres")` when the tests run as root.
    run_as: Option<String>,
}

impl PgCluster {
    /// `initdb` and start. Fails with a readable reason when the server binaries are missing.
    pub fn start() -> Result<PgCluster, BoxError> {
        let bin = server_bin_dir()?;
        let run_as = if is_root()? {
            Some("postgres".to_string())
        } else {
            None
        };
        let dir = tempfile::Builder::new().prefix("iddesk-pg-").tempdir()?;
        let password = format!("pw-{}-{}", std::process::id(), free_port());
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, format!("{password}\n"))?;
        if let Some(user) = &run_as {
            // The unprivileged server user must own its directory (and read the password file).
            check(
                Command::new("chown")
                    .arg("-R")
                    .arg(format!("{user}:"))
                    .arg(dir.path())
                    .output()?,
                "chown",
            )?;
        }
        let cluster = PgCluster {
            port: free_port(),
            dir,
            bin,
            password,
            run_as,
        };
        let data = cluster.data_dir();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                USER,
                "--pwfile",
                &pwfile.to_string_lossy(),
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "-E",
                "UTF8",
                "--no-instructions",
                "--no-sync",
            ],
        )?;
        std::fs::remove_file(&pwfile)?;
        cluster.start_again()?;
        Ok(cluster)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The superuser's password (a test stores it in the keyring as `archive-password`).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// `postgresql://iddesk@127.0.0.1:PORT/postgres`: what a profile's `[archive] url` says.
    pub fn url(&self) -> String {
        format!("postgresql://{USER}@127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// Runs `sql` with `psql` as the superuser over TCP; the result rows, unaligned, `|`-separated.
    pub fn sql(&self, sql: &str) -> Result<String, BoxError> {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                USER,
                "-d",
                DATABASE,
            ])
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .env("PGPASSWORD", &self.password)
            .env("PGCONNECT_TIMEOUT", "10")
            .output()?;
        if !out.status.success() {
            return Err(format!("psql: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn data_dir(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    /// Starts the (stopped) server again on the same port; returns once it accepts connections.
    pub fn start_again(&self) -> Result<(), BoxError> {
        let log = self.dir.path().join("server.log");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data_dir(),
                "-l",
                &log.to_string_lossy(),
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
    }

    /// Stops the server (fast shutdown: open connections are cut, as when a server goes down).
    pub fn stop(&self) -> Result<(), BoxError> {
        self.run(
            "pg_ctl",
            &["-D", &self.data_dir(), "-m", "fast", "-w", "stop"],
        )
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), BoxError> {
        let exe = self.bin.join(program);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        // A directory the server user can enter, whatever the caller's working directory.
        cmd.args(args).current_dir(self.dir.path());
        check(cmd.output()?, program)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.run(
            "pg_ctl",
            &["-D", &self.data_dir(), "-m", "immediate", "-w", "stop"],
        );
    }
}

fn check(out: Output, what: &str) -> Result<(), BoxError> {
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .into())
}

fn is_root() -> Result<bool, BoxError> {
    let out = Command::new("id").arg("-u").output()?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// `IDDESK_PG_BIN`, else the newest `/usr/lib/postgresql/<version>/bin` with `initdb`.
fn server_bin_dir() -> Result<PathBuf, BoxError> {
    if let Some(dir) = std::env::var_os("IDDESK_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let root = Path::new("/usr/lib/postgresql");
    let mut best: Option<(u32, PathBuf)> = None;
    for entry in std::fs::read_dir(root).map_err(|e| {
        format!(
            "{}: {e} (install Debian's postgresql package)",
            root.display()
        )
    })? {
        let entry = entry?;
        let version = entry.file_name().to_string_lossy().parse::<u32>().ok();
        let bin = entry.path().join("bin");
        if let Some(v) = version {
            if bin.join("initdb").is_file() && best.as_ref().is_none_or(|(b, _)| v > *b) {
                best = Some((v, bin));
            }
        }
    }
    best.map(|(_, bin)| bin).ok_or_else(|| {
        "no PostgreSQL server under /usr/lib/postgresql (install Debian's postgresql package)"
            .into()
    })
}
