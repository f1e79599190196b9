//! `logging::init` for real: the global subscriber writes a daily file in the given directory, and
//! what reaches it is masked. (One test per binary: the global subscriber can be set only once.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use id_desk_core::logging;
use id_desk_core::secrets::SecretString;

#[test]
fn init_writes_a_daily_file_with_masked_values_only() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    // The assertions below are about the default filter, whatever the caller's environment says.
    std::env::remove_var(logging::FILTER_ENV);
    let guard = logging::init(&logs, false, logging::LogFormat::Text).unwrap();
    assert_eq!(guard.dir(), logs);

    let secret = SecretString::new("do-not-log-me");
    tracing::info!(target: "id_desk_core::flow", nin = %logging::mask_nin("29124815345"), %secret, "flow started");
    tracing::debug!(target: "id_desk_core::flow", "hidden at the default level");
    tracing::info!(target: "some_dependency", "other crates log at warn only");
    // A second init is refused instead of silently replacing the first.
    assert!(logging::init(&logs, true, logging::LogFormat::Text).is_err());
    drop(guard); // flushes the file writer

    let files: Vec<_> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        name.starts_with("id-desk.") && name.ends_with(".log"),
        "{name}"
    );
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("flow started"), "{text}");
    assert!(text.contains("nin=2912*******"), "{text}");
    assert!(text.contains("secret=<redacted>"), "{text}");
    assert!(!text.contains("29124815345"));
    assert!(!text.contains("do-not-log-me"));
    assert!(!text.contains("hidden at the default level"));
    assert!(!text.contains("other crates log"));
    assert!(!text.contains('\u{1b}'), "no colour codes in the file");
}
