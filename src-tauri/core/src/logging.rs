//! Logging: human-readable lines to stderr and to a daily file (about a week kept) in the OS data
//! dir, filtered by `IDDESK_LOG` (an `EnvFilter` directive such as `debug` or
//! `id_desk_core=trace`). The file can be JSON lines instead, one object per event, for a bank's
//! log collector (issue 24): the policy's `log_format = "json"`, or `IDDESK_LOG_FORMAT=json`.
//!
//! Nothing secret reaches a log by construction: secrets are `SecretString`s, whose `Debug` and
//! `Display` print `<redacted>`, and national identity numbers are logged only through
//! `mask_nin` / `masked()` (the identity types' `Debug` is masked too). What other crates print at
//! debug and trace is not ours to construct, so [`CAPPED_TARGETS`] stay at info whatever
//! `IDDESK_LOG` asks for (review N-10).

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

pub use crate::identity::mask_nin;
use crate::{Error, Result};

/// The environment variable holding the log filter.
pub const FILTER_ENV: &str = "IDDESK_LOG";
/// Daily files kept; older ones are removed by the appender.
pub const KEEP_FILES: usize = 7;
const FILE_PREFIX: &str = "id-desk";
const FILE_SUFFIX: &str = "log";

/// The environment variable that picks the log file's format (`text` or `json`) when the
/// policy does not.
pub const FORMAT_ENV: &str = "IDDESK_LOG_FORMAT";

/// How the log file is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `target`, `fields`, `spans`).
    Json,
}

impl LogFormat {
    /// `IDDESK_LOG_FORMAT`, when it says `json` or `text`.
    pub fn from_env() -> Option<LogFormat> {
        match std::env::var(FORMAT_ENV).ok()?.trim() {
            "json" => Some(LogFormat::Json),
            "text" => Some(LogFormat::Text),
            _ => None,
        }
    }
}

/// Crates whose debug and trace events carry what a log must never hold, capped at info even under
/// `IDDESK_LOG=trace`: tokio-postgres prints every archive parameter (names, sign texts, whole
/// SDOs, which contain full identity numbers); h2, hyper and reqwest print headers and bodies
/// (bearer tokens, identity results); zbus prints the screen-pop link a second instance forwards;
/// tauri, wry and tao print IPC payloads; keyring and the Secret Service client print entry
/// traffic. `log` records (tokio-postgres, keyring) arrive through `tracing-log` under the same
/// target names.
pub const CAPPED_TARGETS: &[&str] = &[
    "tokio_postgres",
    "postgres_protocol",
    "h2",
    "hyper",
    "hyper_util",
    "reqwest",
    "zbus",
    "tauri",
    "wry",
    "tao",
    "keyring",
    "secret_service",
    "dbus_secret_service",
];

/// The cap as a global filter: an event passes only if both it and the user's filter allow it,
/// so the user can still lower these crates (say to `warn`) but never raise them above info.
/// (Appending directives to the user's `EnvFilter` would not do: a more specific directive of
/// theirs, `tokio_postgres::query=trace`, would still win.)
pub fn privacy_cap() -> Targets {
    CAPPED_TARGETS.iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |t, name| t.with_target(*name, LevelFilter::INFO),
    )
}

/// Keeps the file writer alive: dropping it flushes what is buffered. Hold it until exit.
#[must_use = "dropping the guard stops file logging"]
pub struct LogGuard {
    dir: PathBuf,
    _worker: WorkerGuard,
}

impl LogGuard {
    /// The directory the log files are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl std::fmt::Debug for LogGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogGuard").field("dir", &self.dir).finish()
    }
}

/// The filter used when `IDDESK_LOG` is unset: our crates at info (debug when `verbose`),
/// everything else at warn.
pub fn default_filter(verbose: bool) -> String {
    let ours = if verbose { "debug" } else { "info" };
    format!("warn,id_desk={ours},id_desk_core={ours},id_desk_cli={ours},id_desk_simulator={ours}")
}

/// Installs the global subscriber: stderr plus a daily-rotating file in `log_dir` (the desk's
/// [`crate::desk::DeskPaths::log_dir`]: `~/.local/share/id-desk/logs` on Linux,
/// `%LOCALAPPDATA%\ID Desk\logs` on Windows). Fails if the directory cannot be created or a
/// subscriber is already set.
pub fn init(log_dir: &Path, verbose: bool, format: LogFormat) -> Result<LogGuard> {
    let dir = log_dir.to_path_buf();
    crate::private_fs::private_dir(&dir)?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix(FILE_SUFFIX)
        .max_log_files(KEEP_FILES)
        .build(&dir)
        .map_err(|e| Error::Io(format!("{}: {e}", dir.display())))?;
    let (file_writer, worker) = tracing_appender::non_blocking(appender);

    let (filter, bad_filter) = match std::env::var(FILTER_ENV) {
        Ok(spec) if !spec.trim().is_empty() => match EnvFilter::try_new(&spec) {
            Ok(f) => (f, None),
            Err(e) => (EnvFilter::new(default_filter(verbose)), Some(e.to_string())),
        },
        _ => (EnvFilter::new(default_filter(verbose)), None),
    };

    tracing_subscriber::registry()
        .with(filter)
        .with(privacy_cap())
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(file_layer(format, file_writer))
        .try_init()
        .map_err(|e| Error::Io(format!("logging is already set up: {e}")))?;

    if let Some(e) = bad_filter {
        tracing::warn!(error = %e, "{FILTER_ENV} is not a valid filter; using the default");
    }
    tracing::debug!(dir = %dir.display(), "logging started");
    Ok(LogGuard {
        dir,
        _worker: worker,
    })
}

/// The file's layer in `format`. Boxed: the two formats are different types.
fn file_layer<S, W>(
    format: LogFormat,
    writer: W,
) -> Box<dyn tracing_subscriber::Layer<S> + Send + Sync + 'static>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(layer),
        LogFormat::Json => Box::new(layer.json().with_current_span(true).with_span_list(true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::NorwegianNin;
    use crate::secrets::SecretString;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// Collects formatted output in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    #[test]
    fn only_masked_numbers_and_redacted_secrets_reach_the_output() {
        let out = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(out.clone())
            .with_max_level(tracing::Level::TRACE)
            .finish();
        let nin = NorwegianNin::parse("29124815345", false).unwrap();
        let secret = SecretString::new("client-secret-value-42");
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("flow", nin = %mask_nin(nin.as_str()));
            let _entered = span.enter();
            tracing::info!(nin = %nin.masked(), "session created");
            tracing::info!(?nin, %secret, ?secret, "debug formatting");
            tracing::info!(pnr = %mask_nin("198304062717"), "swedish");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("flow{nin=2912*******}"), "{text}");
        assert!(text.contains("session created nin=2912*******"), "{text}");
        assert!(text.contains("NorwegianNin(2912*******)"), "{text}");
        assert!(text.contains("pnr=1983*******"), "{text}");
        assert!(text.contains("secret=<redacted>"), "{text}");
        assert!(text.contains("SecretString(<redacted>)"), "{text}");
        assert!(!text.contains("29124815345"), "{text}");
        assert!(!text.contains("198304062717"), "{text}");
        assert!(!text.contains("client-secret-value-42"), "{text}");
    }

    #[test]
    fn json_lines_carry_masked_numbers_and_redacted_secrets_only() {
        let out = Captured::default();
        let subscriber =
            tracing_subscriber::registry().with(file_layer(LogFormat::Json, out.clone()));
        let nin = NorwegianNin::parse("29124815345", false).unwrap();
        let secret = SecretString::new("client-secret-value-42");
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("flow", flow_id = "f-1", nin = %nin.masked());
            let _entered = span.enter();
            tracing::info!(?nin, %secret, "session created");
            tracing::warn!(code = "network", "poll failed");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[0]["fields"]["message"], "session created");
        assert_eq!(lines[0]["fields"]["nin"], "NorwegianNin(2912*******)");
        assert_eq!(lines[0]["fields"]["secret"], "<redacted>");
        assert_eq!(lines[0]["span"]["flow_id"], "f-1");
        assert_eq!(lines[1]["fields"]["code"], "network");
        assert!(lines[0]["timestamp"].is_string());
        assert!(!text.contains("29124815345") && !text.contains("client-secret-value-42"));
    }

    #[test]
    fn other_crates_never_log_above_info_whatever_the_filter_says() {
        let out = Captured::default();
        let subscriber = tracing_subscriber::registry()
            .with(EnvFilter::new(
                "trace,tokio_postgres::query=trace,hyper=trace",
            ))
            .with(privacy_cap())
            .with(file_layer(LogFormat::Text, out.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(target: "tokio_postgres::query", "executing statement s0 with parameters: [\"Kari Nordmann\"]");
            tracing::trace!(target: "hyper_util::client", "authorization: Bearer abc.def");
            tracing::trace!(target: "h2::codec", "frame");
            tracing::info!(target: "tokio_postgres::connection", "NOTICE: relation exists");
            tracing::trace!(target: "id_desk_core::archive", "our own trace line");
            tracing::trace!(target: "some_dependency", "other crates are not capped");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains("Kari Nordmann"), "{text}");
        assert!(!text.contains("Bearer"), "{text}");
        assert!(!text.contains("frame"), "{text}");
        assert!(text.contains("NOTICE: relation exists"), "{text}");
        assert!(text.contains("our own trace line"), "{text}");
        assert!(text.contains("other crates are not capped"), "{text}");
    }

    #[test]
    fn default_filter_parses() {
        for verbose in [false, true] {
            assert!(EnvFilter::try_new(default_filter(verbose)).is_ok());
        }
        assert!(default_filter(true).contains("id_desk_core=debug"));
    }
}
