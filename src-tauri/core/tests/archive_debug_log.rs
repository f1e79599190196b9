#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Review N-10: an archive delivery with `IDDESK_LOG=trace` puts none of what it sends into the
//! log. tokio-postgres logs every bound parameter at debug (names, sign texts, whole SDOs); the
//! log file must still hold only what the desk itself chose to write. The real subscriber
//! (`logging::init`), a real PostgreSQL cluster on 127.0.0.1, the real vault. One test per binary:
//! the global subscriber can be set only once.

use id_desk_core::archive::{Archiver, Target, Tuning};
use id_desk_core::flow::{Evidence, FlowEvent, FlowId, Method, Subject};
use id_desk_core::logging;
use id_desk_core::profile::{ArchiveConfig, ArchiveSettings};
use id_desk_core::secrets::{SecretName, SecretSource, SecretString};
use id_desk_core::vault::{NewTransaction, Vault};
use id_desk_e2e::pg::PgCluster;

const NIN: &str = "29124815345";
const NAME: &str = "Kari Debugsdottir";
const TEXT: &str = "Jeg godkjenner lånet på 1 234 567 kroner.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_at_trace_level_logs_no_name_text_number_or_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::env::set_var(logging::FILTER_ENV, "trace");
    let guard = logging::init(&logs, true, logging::LogFormat::Text).unwrap();

    let pg = PgCluster::start().unwrap();
    let vault = Vault::open(&dir.path().join("vault")).unwrap();
    let id = FlowId::new();
    vault
        .begin(&NewTransaction {
            id: id.clone(),
            method: Method::NbidSign,
            identity_masked: Some(logging::mask_nin(NIN)),
            profile: Some("branch-17".into()),
            sign_text: Some(TEXT.into()),
            archive_target: None,
        })
        .unwrap();
    let sdo_bytes = format!("<ltv-sdo><serialNumber>{NIN}</serialNumber></ltv-sdo>");
    let sdo = vault.store_sdo(&id, sdo_bytes.as_bytes()).unwrap();
    let subject = Subject {
        name: NAME.into(),
        nin: Some(NIN.into()),
        nin_masked: Some(logging::mask_nin(NIN)),
        ..Default::default()
    };
    vault
        .record(
            &id,
            &FlowEvent::Signed {
                subject,
                evidence: vec![Evidence::ltv_sdo(sdo)],
            },
        )
        .unwrap();

    let archiver = Archiver::new(vault.clone(), Tuning::default());
    archiver.set_target(Some(Target {
        settings: ArchiveSettings::validate(&ArchiveConfig {
            url: pg.url(),
            ca_file: None,
        })
        .unwrap(),
        profile: "branch-17".into(),
        source: SecretSource::memory([(
            SecretName::ArchivePassword,
            SecretString::new(pg.password()),
        )]),
    }));
    let report = archiver.flush().await.unwrap();
    assert_eq!(
        report.inserted, 1,
        "the delivery this test is about happened"
    );
    // The row really went: what the log must not hold is in the archive.
    let stored = pg
        .sql("SELECT subject_name FROM id_desk_transactions")
        .unwrap();
    assert_eq!(stored, NAME);
    drop(guard); // flushes the file writer

    let mut text = String::new();
    for entry in std::fs::read_dir(&logs).unwrap() {
        text.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    // The filter really was trace: the desk's own debug lines are there.
    assert!(text.contains("logging started"), "{text}");
    for leak in [NIN, NAME, TEXT, "with parameters", pg.password()] {
        assert!(!text.contains(leak), "the log holds {leak:?}:\n{text}");
    }
    // The SDO as tokio-postgres' Debug would print a bytea: a list of decimal bytes.
    let as_debug = format!("{:?}", &sdo_bytes.as_bytes()[..8]);
    let as_debug = as_debug.trim_end_matches(']');
    assert!(!text.contains(as_debug), "the log holds the SDO's bytes");
}
