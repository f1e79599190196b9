#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The central archive (issue 17) against a real PostgreSQL server: a throw-away cluster on
//! 127.0.0.1 per test (`tests/support/pg.rs`), the real vault (SQLite and SDO files in a temp dir),
//! the real driver. The SIGKILL case runs `id-desk-cli` as the desk process (`tests/cli.rs`).

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use id_desk_core::archive::{Archiver, Target, Tuning};
use id_desk_core::flow::{Evidence, FlowEvent, FlowId, Method, SdoRef, Subject};
use id_desk_core::profile::{ArchiveConfig, ArchiveSettings};
use id_desk_core::secrets::{SecretName, SecretSource, SecretString};
use id_desk_core::vault::{ArchiveMark, NewTransaction, OutboxTarget, OwedElsewhere, Vault};
use id_desk_core::Error;
use id_desk_e2e::pg::PgCluster;

const SDO: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ltv-sdo>Jeg godkjenner \xc3\xa6\xc3\xb8\xc3\xa5</ltv-sdo>\n";

fn target(pg: &PgCluster, password: &str) -> Target {
    Target {
        settings: ArchiveSettings::validate(&ArchiveConfig {
            url: pg.url(),
            ca_file: None,
        })
        .unwrap(),
        profile: "branch-17".into(),
        source: SecretSource::memory([(SecretName::ArchivePassword, SecretString::new(password))]),
    }
}

/// Short waits so a test sees retries quickly; the behaviour is the production one.
fn quick() -> Tuning {
    Tuning {
        batch_rows: 7,
        retry_min: Duration::from_millis(50),
        retry_max: Duration::from_millis(200),
        idle_poll: Duration::from_millis(500),
        ..Tuning::default()
    }
}

struct Fixture {
    pg: PgCluster,
    dir: tempfile::TempDir,
    vault: Vault,
    archiver: Archiver,
}

impl Fixture {
    fn new() -> Fixture {
        let pg = PgCluster::start().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        let archiver = Archiver::new(vault.clone(), quick());
        archiver.set_target(Some(target(&pg, pg.password())));
        Fixture {
            pg,
            dir,
            vault,
            archiver,
        }
    }

    async fn archive(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::Config::new()
            .host("127.0.0.1")
            .port(self.pg.port())
            .user(id_desk_e2e::pg::USER)
            .password(self.pg.password())
            .dbname(id_desk_e2e::pg::DATABASE)
            .connect(tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
    }

    /// Transaction ids in the archive, once each (the primary key would refuse a second copy;
    /// counting rows and distinct ids checks it anyway).
    async fn archived_ids(&self) -> HashSet<String> {
        let client = self.archive().await;
        let rows = client
            .query("SELECT tx_id FROM id_desk_transactions", &[])
            .await
            .unwrap();
        let ids: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
        let set: HashSet<String> = ids.iter().cloned().collect();
        assert_eq!(set.len(), ids.len(), "a transaction archived twice");
        set
    }
}

fn begin(vault: &Vault, method: Method) -> FlowId {
    let id = FlowId::new();
    vault
        .begin(&NewTransaction {
            id: id.clone(),
            method,
            identity_masked: Some("2912*******".into()),
            profile: Some("branch-17".into()),
            sign_text: method
                .is_signature()
                .then(|| "Jeg godkjenner lånet.".to_string()),
            archive_target: None,
        })
        .unwrap();
    id
}

fn subject() -> Subject {
    Subject {
        name: "Kari Nordmann".into(),
        nin: Some("29124815345".into()),
        nin_masked: Some("2912*******".into()),
        ..Default::default()
    }
}

fn identified(vault: &Vault) -> FlowId {
    let id = begin(vault, Method::NbidSafeConversation);
    vault
        .record(&id, &FlowEvent::Succeeded { subject: subject() })
        .unwrap();
    id
}

fn signed(vault: &Vault) -> (FlowId, SdoRef) {
    let id = begin(vault, Method::NbidSign);
    let sdo = vault.store_sdo(&id, SDO).unwrap();
    vault
        .record(
            &id,
            &FlowEvent::Signed {
                subject: subject(),
                evidence: vec![Evidence::ltv_sdo(sdo.clone())],
            },
        )
        .unwrap();
    (id, sdo)
}

fn waiting(vault: &Vault) -> u64 {
    vault.outbox_summary().unwrap().waiting
}

/// Polls `done` until it holds; the limit only stops a broken test from hanging.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let limit = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < limit, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_transactions_reach_the_archive_with_their_evidence() {
    let f = Fixture::new();
    let auth = identified(&f.vault);
    let (sign, sdo) = signed(&f.vault);
    let failed = begin(&f.vault, Method::SbidQr);
    f.vault
        .record(
            &failed,
            &FlowEvent::Failed {
                code: "customer_aborted".into(),
                message: "The customer cancelled".into(),
            },
        )
        .unwrap();
    let running = begin(&f.vault, Method::NbidMobile);
    assert_eq!(waiting(&f.vault), 3, "a running flow is not queued");

    let report = f.archiver.flush().await.unwrap();
    assert_eq!((report.inserted, report.already_archived), (3, 0));
    assert_eq!(report.waiting, 0);
    let ids = f.archived_ids().await;
    let want: HashSet<String> = [&auth, &sign, &failed]
        .iter()
        .map(|i| i.to_string())
        .collect();
    assert_eq!(ids, want);

    // The archived SDO is the local file byte for byte, and its hash the local one, as the
    // archive server computes it.
    let client = f.archive().await;
    let row = client
        .query_one(
            "SELECT sdo, sdo_sha256, encode(sha256(sdo), 'hex'), status, identity_masked,
                    subject_name, sign_text, method, kind
             FROM id_desk_transactions WHERE tx_id = $1",
            &[&sign.to_string()],
        )
        .await
        .unwrap();
    let bytes: Vec<u8> = row.get(0);
    assert_eq!(bytes, f.vault.read_stored(Path::new(&sdo.path)).unwrap());
    assert_eq!(row.get::<_, String>(1), sdo.sha256);
    assert_eq!(row.get::<_, String>(2), sdo.sha256);
    assert_eq!(row.get::<_, String>(3), "signed");
    assert_eq!(row.get::<_, String>(4), "2912*******");
    assert_eq!(row.get::<_, String>(5), "Kari Nordmann");
    assert_eq!(row.get::<_, String>(6), "Jeg godkjenner lånet.");
    assert_eq!(row.get::<_, String>(7), "nbid_sign");
    assert_eq!(row.get::<_, String>(8), "sign");
    // Never a full identity number.
    let all = client
        .query("SELECT count(*) FROM id_desk_transactions WHERE identity_masked LIKE '%29124815345%' OR sign_text LIKE '%29124815345%'", &[])
        .await
        .unwrap();
    assert_eq!(all[0].get::<_, i64>(0), 0);
    let desk: String = client
        .query_one("SELECT DISTINCT desk_id FROM id_desk_transactions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(desk, f.vault.desk_id().unwrap());
    // Who did what (issue 24): the OS user, the PC and the version, as the vault recorded them.
    let who = f.vault.workstation();
    let row = client
        .query_one(
            "SELECT staff_user, desk_host, app_version FROM id_desk_transactions WHERE tx_id = $1",
            &[&sign.as_str()],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<String>>(0), who.os_user);
    assert_eq!(row.get::<_, Option<String>>(1), who.host);
    assert_eq!(row.get::<_, Option<String>>(2), Some(who.app_version));
    assert!(who.os_user.is_some() && who.host.is_some());

    // History shows each row archived; the running one has no mark yet.
    for id in [&auth, &sign, &failed] {
        assert!(matches!(
            f.vault.get(id).unwrap().archive,
            Some(ArchiveMark::Archived { .. })
        ));
    }
    assert_eq!(f.vault.get(&running).unwrap().archive, None);

    // The background task delivers what finishes next, woken by the outbox.
    f.archiver.start();
    f.vault.record(&running, &FlowEvent::Expired).unwrap();
    eventually("the expired flow is archived", || waiting(&f.vault) == 0).await;
    assert_eq!(f.archived_ids().await.len(), 4);
    assert_eq!(f.archiver.flush().await.unwrap().inserted, 0);
    f.archiver.stop();
}

/// Review N-3: a row goes only to the archive it was recorded for. A staff-made profile with an
/// archive of its own receives nothing that another profile recorded, and the status says which
/// profile's archive the rest waits for; the bank's archive then gets exactly what it is owed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_goes_only_to_the_archive_it_was_recorded_for() {
    let f = Fixture::new();
    let bank = target(&f.pg, f.pg.password());
    f.pg.sql("CREATE DATABASE elsewhere").unwrap();
    let elsewhere = Target {
        settings: ArchiveSettings::validate(&ArchiveConfig {
            url: format!(
                "postgresql://{}@127.0.0.1:{}/elsewhere",
                id_desk_e2e::pg::USER,
                f.pg.port()
            ),
            ca_file: None,
        })
        .unwrap(),
        profile: "staff-made".into(),
        ..target(&f.pg, f.pg.password())
    };
    assert_ne!(
        bank.settings.fingerprint(),
        elsewhere.settings.fingerprint()
    );
    let record = |profile: &str, archive_target: Option<String>| {
        let id = FlowId::new();
        f.vault
            .begin(&NewTransaction {
                id: id.clone(),
                method: Method::NbidSafeConversation,
                identity_masked: Some("2912*******".into()),
                profile: Some(profile.into()),
                sign_text: None,
                archive_target,
            })
            .unwrap();
        f.vault
            .record(&id, &FlowEvent::Succeeded { subject: subject() })
            .unwrap();
        id
    };
    let owed = record("branch-17", Some(bank.settings.fingerprint()));
    let unnamed = record("branch-17", None);
    let other = record("other-profile", None);

    f.archiver.set_target(Some(elsewhere));
    let report = f.archiver.flush().await.unwrap();
    assert_eq!(report.inserted + report.already_archived, 0);
    assert_eq!(
        waiting(&f.vault),
        3,
        "nothing left for the staff-made archive"
    );
    let status = f.archiver.status().unwrap();
    assert_eq!(
        status.owed_elsewhere,
        [
            OwedElsewhere {
                profile: Some("branch-17".into()),
                waiting: 2
            },
            OwedElsewhere {
                profile: Some("other-profile".into()),
                waiting: 1
            },
        ]
    );

    f.archiver.set_target(Some(bank));
    let report = f.archiver.flush().await.unwrap();
    assert_eq!(report.inserted, 2);
    let want: HashSet<String> = [&owed, &unnamed].iter().map(|i| i.to_string()).collect();
    assert_eq!(f.archived_ids().await, want);
    assert!(matches!(
        f.vault.get(&other).unwrap().archive,
        Some(ArchiveMark::Waiting { .. })
    ));
    let status = f.archiver.status().unwrap();
    assert_eq!(
        status.owed_elsewhere,
        [OwedElsewhere {
            profile: Some("other-profile".into()),
            waiting: 1
        }]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_offline_keeps_working_and_catches_up_with_nothing_lost_or_duplicated() {
    let f = Fixture::new();
    f.archiver.start();
    let mut local: HashSet<String> = HashSet::new();
    for _ in 0..5 {
        local.insert(identified(&f.vault).to_string());
    }
    eventually("the first five are archived", || waiting(&f.vault) == 0).await;

    f.pg.stop().unwrap();
    // The server is down: flows still finish and are recorded, the outbox holds them.
    for i in 0..40 {
        let id = if i % 4 == 0 {
            signed(&f.vault).0
        } else {
            identified(&f.vault)
        };
        local.insert(id.to_string());
    }
    let err = f.archiver.flush().await.unwrap_err();
    assert_eq!(err.code(), "archive", "{err}");
    assert_eq!(waiting(&f.vault), 40);
    let summary = f.vault.outbox_summary().unwrap();
    assert!(summary.last_error.is_some());
    let marks: Vec<_> = f
        .vault
        .list(&Default::default(), 100)
        .unwrap()
        .into_iter()
        .filter_map(|t| t.archive)
        .collect();
    assert!(
        marks
            .iter()
            .any(|m| matches!(m, ArchiveMark::Waiting { attempts, .. } if *attempts >= 1)),
        "{marks:?}"
    );

    f.pg.start_again().unwrap();
    eventually("the desk caught up", || waiting(&f.vault) == 0).await;
    assert_eq!(f.archived_ids().await, local, "0 lost, 0 duplicated");
    f.archiver.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivering_again_what_the_archive_already_has_changes_nothing() {
    let f = Fixture::new();
    let ids: HashSet<String> = (0..10).map(|_| identified(&f.vault).to_string()).collect();
    f.archiver.flush().await.unwrap();
    // As if the desk had died between the server's commit and its own mark: the local marks are
    // gone, the rows are in the archive. (The real kill of a desk process: tests/cli.rs.)
    let db = id_desk_e2e::vault_db::open(f.dir.path()).unwrap();
    db.execute("UPDATE archive_outbox SET sent_at = NULL", [])
        .unwrap();
    assert_eq!(waiting(&f.vault), 10);
    let again = f.archiver.flush().await.unwrap();
    assert_eq!((again.inserted, again.already_archived), (0, 10));
    assert_eq!(again.waiting, 0);
    assert_eq!(f.archived_ids().await, ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_a_typed_error_and_the_desk_keeps_working() {
    let f = Fixture::new();
    f.archiver
        .set_target(Some(target(&f.pg, "not-the-password")));
    f.archiver.start();
    let first = identified(&f.vault);
    let err = f.archiver.flush().await.unwrap_err();
    assert!(matches!(err, Error::ArchiveUnauthorized(_)), "{err:?}");
    assert_eq!(err.code(), "archive_unauthorized");
    assert!(!err.to_string().contains("not-the-password"), "{err}");
    assert!(!err.to_string().contains(f.pg.password()), "{err}");

    // The desk keeps recording flows; the archive task keeps failing politely.
    let (second, _) = signed(&f.vault);
    assert_eq!(waiting(&f.vault), 2);
    match f.vault.get(&first).unwrap().archive {
        Some(ArchiveMark::Waiting {
            attempts,
            last_error,
            ..
        }) => {
            assert!(attempts >= 1);
            assert!(last_error.unwrap().contains("credentials"));
        }
        other => panic!("{other:?}"),
    }
    let check = Archiver::check(&target(&f.pg, "not-the-password")).await;
    assert_eq!(check.unwrap_err().code(), "archive_unauthorized");

    // No password stored at all: named, like every other missing secret.
    let mut none = target(&f.pg, "");
    none.source = SecretSource::memory([]);
    f.archiver.set_target(Some(none));
    let err = f.archiver.flush().await.unwrap_err();
    assert!(
        matches!(&err, Error::SecretMissing(n) if n == "archive-password"),
        "{err:?}"
    );

    // The right password: everything waiting goes.
    f.archiver.set_target(Some(target(&f.pg, f.pg.password())));
    eventually("the outbox drains", || waiting(&f.vault) == 0).await;
    let want: HashSet<String> = [first.to_string(), second.to_string()].into();
    assert_eq!(f.archived_ids().await, want);
    assert_eq!(
        Archiver::check(&target(&f.pg, f.pg.password()))
            .await
            .unwrap(),
        id_desk_core::archive::SCHEMA_VERSION
    );
    f.archiver.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_that_no_longer_matches_its_hash_is_never_archived() {
    let f = Fixture::new();
    let (bad, sdo) = signed(&f.vault);
    let good: HashSet<String> = (0..9).map(|_| identified(&f.vault).to_string()).collect();
    std::fs::write(&sdo.path, b"<ltv-sdo>forged</ltv-sdo>").unwrap();

    let report = f.archiver.flush().await.unwrap();
    assert_eq!(report.inserted, 9);
    assert_eq!(report.skipped, 1);
    assert_eq!(report.waiting, 1);
    assert_eq!(f.archived_ids().await, good, "the forged SDO stays out");
    match f.vault.get(&bad).unwrap().archive {
        Some(ArchiveMark::Waiting { last_error, .. }) => {
            assert!(last_error.unwrap().contains("hash"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_outbox_row_commits_with_the_final_status() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let id = begin(&vault, Method::NbidSafeConversation);
    vault
        .record(
            &id,
            &FlowEvent::Progress {
                status: "WAITING".into(),
                message: "Waiting".into(),
            },
        )
        .unwrap();
    assert_eq!(vault.get(&id).unwrap().archive, None);
    vault.record(&id, &FlowEvent::Cancelled).unwrap();
    assert_eq!(
        vault.get(&id).unwrap().archive,
        Some(ArchiveMark::Waiting {
            attempts: 0,
            last_error: None,
            owed_to: None,
        })
    );
    // A later event changes neither the status nor the queue.
    vault.record(&id, &FlowEvent::Expired).unwrap();
    assert_eq!(vault.outbox_summary().unwrap().waiting, 1);
    // The desk id is made once and kept.
    let desk = vault.desk_id().unwrap();
    assert_eq!(desk.len(), 32);
    drop(vault);
    assert_eq!(Vault::open(dir.path()).unwrap().desk_id().unwrap(), desk);
}

/// Issue 23, item 8: a Training transaction never enters the outbox, whatever profile (and
/// archive) is active later, and so never reaches a bank's archive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn training_transactions_never_reach_the_archive() {
    assert_eq!(
        id_desk_core::vault::TRAINING_PROFILE,
        id_desk_core::profile::TRAINING
    );
    let f = Fixture::new();
    let practice = FlowId::new();
    f.vault
        .begin(&NewTransaction {
            id: practice.clone(),
            method: Method::NbidSafeConversation,
            identity_masked: Some("2912*******".into()),
            profile: Some("training".into()),
            sign_text: None,
            archive_target: None,
        })
        .unwrap();
    f.vault
        .record(&practice, &FlowEvent::Succeeded { subject: subject() })
        .unwrap();
    assert_eq!(f.vault.get(&practice).unwrap().archive, None);
    let real = identified(&f.vault);
    assert_eq!(f.vault.outbox_summary().unwrap().waiting, 1);
    let report = f.archiver.flush().await.unwrap();
    assert_eq!(report.inserted, 1);
    assert_eq!(f.archived_ids().await, HashSet::from([real.to_string()]));
}

#[test]
fn flows_left_running_by_a_crash_are_queued_when_marked_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let vault = Vault::open(dir.path()).unwrap();
        begin(&vault, Method::SbidQr)
    };
    let vault = Vault::open(dir.path()).unwrap();
    assert_eq!(vault.interrupted_on_open(), 1);
    assert!(matches!(
        vault.get(&id).unwrap().archive,
        Some(ArchiveMark::Waiting { .. })
    ));
}

#[test]
fn a_vault_from_before_the_archive_queues_its_whole_history() {
    let dir = tempfile::tempdir().unwrap();
    {
        // Schema 1 as ID Desk wrote it before issue 17: one finished row, one left running.
        let db = rusqlite::Connection::open(dir.path().join("vault.sqlite3")).unwrap();
        db.execute_batch(
            "CREATE TABLE transactions (
                id TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('auth', 'sign')),
                method TEXT NOT NULL, identity_masked TEXT, subject_name TEXT, status TEXT NOT NULL,
                error_code TEXT, message TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
                reference TEXT, profile TEXT, sign_text TEXT, sdo_path TEXT, sdo_sha256 TEXT,
                sdo_bytes INTEGER, instance TEXT);
            CREATE TABLE transaction_events (
                tx_id TEXT NOT NULL REFERENCES transactions(id), seq INTEGER NOT NULL,
                at TEXT NOT NULL, event_type TEXT NOT NULL, status TEXT, message TEXT,
                PRIMARY KEY (tx_id, seq));
            INSERT INTO transactions (id, kind, method, status, created_at, updated_at)
                VALUES ('old-done', 'auth', 'nbid_safe_conversation', 'succeeded',
                        '2026-01-02T10:00:00Z', '2026-01-02T10:00:05Z'),
                       ('old-running', 'auth', 'sbid_qr', 'running',
                        '2026-01-02T11:00:00Z', '2026-01-02T11:00:00Z');
            PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let vault = Vault::open(dir.path()).unwrap();
    let waiting: Vec<String> = vault
        .outbox_waiting(
            &OutboxTarget {
                fingerprint: "not-this-one".into(),
                profile: "branch-17".into(),
            },
            10,
        )
        .unwrap()
        .into_iter()
        .map(|t| t.id.to_string())
        .collect();
    // The finished one from the migration, the running one once marked interrupted.
    assert_eq!(waiting, ["old-done", "old-running"]);
}

/// Issue 21: a Sign API v2 signature reaches the archive with every piece of its evidence, each
/// byte for byte and with the hash the archive server computes itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_api_v2_evidence_reaches_the_archive_piece_by_piece() {
    use id_desk_core::flow::EvidenceKind;
    let f = Fixture::new();
    let id = begin(&f.vault, Method::SignSbidPhone);
    let xades = f
        .vault
        .store_evidence(&id, EvidenceKind::Xades, "doc-1", "xml", b"<ds:Signature/>")
        .unwrap();
    let sdo = f
        .vault
        .store_evidence(&id, EvidenceKind::LtvSdo, "doc-2", "xml", SDO)
        .unwrap();
    f.vault
        .record(
            &id,
            &FlowEvent::Signed {
                subject: subject(),
                evidence: vec![xades.clone(), sdo.clone()],
            },
        )
        .unwrap();
    let report = f.archiver.flush().await.unwrap();
    assert_eq!(report.inserted, 1);
    let client = f.archive().await;
    let rows = client
        .query(
            "SELECT seq, kind, content, sha256, encode(sha256(content), 'hex')
             FROM id_desk_evidence WHERE tx_id = $1 ORDER BY seq",
            &[&id.to_string()],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for (row, (piece, kind)) in rows.iter().zip([(&xades, "xades"), (&sdo, "ltv_sdo")]) {
        assert_eq!(row.get::<_, String>(1), kind);
        assert_eq!(
            row.get::<_, Vec<u8>>(2),
            f.vault.read_stored(Path::new(&piece.path)).unwrap()
        );
        assert_eq!(row.get::<_, String>(3), piece.sha256);
        assert_eq!(row.get::<_, String>(4), piece.sha256);
    }
    // A second flush finds nothing waiting, and nothing is doubled.
    assert_eq!(f.archiver.flush().await.unwrap().inserted, 0);
    let count: i64 = client
        .query_one("SELECT count(*) FROM id_desk_evidence", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 2);
}

/// Issue 23, item 2: the archive ships its own retention procedure. Run as the bank's scheduler
/// would, it deletes old evidence after the long period and other outcomes after the short one,
/// with their evidence rows, and refuses a period under a day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_archive_purges_by_its_own_retention_procedure() {
    let f = Fixture::new();
    let (sign, _) = signed(&f.vault);
    let ok = identified(&f.vault);
    let failed = begin(&f.vault, Method::NbidInapp);
    f.vault.record(&failed, &FlowEvent::Expired).unwrap();
    f.vault
        .store_evidence(
            &sign,
            id_desk_core::flow::EvidenceKind::Xades,
            "res-1",
            "xml",
            b"<x/>",
        )
        .unwrap();
    f.archiver.flush().await.unwrap();
    let client = f.archive().await;
    let evidence = || async {
        client
            .query_one("SELECT count(*) FROM id_desk_evidence", &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
    };
    assert_eq!(evidence().await, 1);
    let purge = |keep_evidence: &'static str, keep_other: &'static str| {
        let client = &client;
        async move {
            client
                .query_one(
                    "SELECT id_desk_purge($1::text::interval, $2::text::interval)",
                    &[&keep_evidence, &keep_other],
                )
                .await
                .map(|r| r.get::<_, i64>(0))
        }
    };
    assert_eq!(purge("5 years", "90 days").await.unwrap(), 0);
    // Age the rows: the signature and the identification by 6 years, the failure by 100 days.
    client
        .execute(
            "UPDATE id_desk_transactions SET created_at = now() - CASE
                 WHEN status = 'expired' THEN interval '100 days' ELSE interval '2000 days' END",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(purge("10 years", "90 days").await.unwrap(), 1);
    assert_eq!(
        f.archived_ids().await,
        HashSet::from([sign.to_string(), ok.to_string()])
    );
    assert_eq!(purge("5 years", "90 days").await.unwrap(), 2);
    assert!(f.archived_ids().await.is_empty());
    assert_eq!(evidence().await, 0);
    assert!(purge("1 hour", "90 days").await.is_err());
}

fn target_as(pg: &PgCluster, user: &str, password: &str) -> Target {
    Target {
        settings: ArchiveSettings::validate(&ArchiveConfig {
            url: format!(
                "postgresql://{user}@127.0.0.1:{}/{}",
                pg.port(),
                id_desk_e2e::pg::DATABASE
            ),
            ca_file: None,
        })
        .unwrap(),
        profile: "branch-17".into(),
        source: SecretSource::memory([(SecretName::ArchivePassword, SecretString::new(password))]),
    }
}

/// Issue 23, item 9: least privilege. The schema's owner migrates; a desk whose role may only
/// INSERT (plus read the schema version and call `id_desk_archived`) delivers, can read and
/// delete nothing, recognises a repeated delivery as such, and reports a row the archive holds
/// with other content as a conflict instead of "already archived".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_insert_only_desk_role_delivers_and_a_conflict_is_reported_not_taken() {
    let f = Fixture::new();
    let first = identified(&f.vault);
    f.archiver.flush().await.unwrap();
    f.pg.sql(
        "CREATE ROLE desk_writer LOGIN PASSWORD 'writer-pw';
         GRANT SELECT ON id_desk_schema TO desk_writer;
         GRANT INSERT ON id_desk_transactions, id_desk_evidence TO desk_writer;
         GRANT EXECUTE ON FUNCTION id_desk_archived(text, text[]) TO desk_writer;",
    )
    .unwrap();
    let writer = Archiver::new(f.vault.clone(), quick());
    writer.set_target(Some(target_as(&f.pg, "desk_writer", "writer-pw")));
    let (sign, _) = signed(&f.vault);
    let report = writer.flush().await.unwrap();
    assert_eq!((report.inserted, report.conflicts), (1, 0), "{report:?}");

    let (as_writer, conn) = tokio_postgres::Config::new()
        .host("127.0.0.1")
        .port(f.pg.port())
        .user("desk_writer")
        .password("writer-pw")
        .dbname(id_desk_e2e::pg::DATABASE)
        .connect(tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    for sql in [
        "SELECT count(*) FROM id_desk_transactions",
        "DELETE FROM id_desk_transactions",
        "SELECT id_desk_purge('1 day', '1 day')",
    ] {
        let e = as_writer.simple_query(sql).await.unwrap_err();
        assert_eq!(
            e.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{sql}: {e:?}"
        );
    }

    // Both rows sent again (the desk died before its marks): the same, not duplicated.
    id_desk_e2e::vault_db::open(f.dir.path())
        .unwrap()
        .execute("UPDATE archive_outbox SET sent_at = NULL", [])
        .unwrap();
    let again = writer.flush().await.unwrap();
    assert_eq!(
        (again.inserted, again.already_archived),
        (0, 2),
        "{again:?}"
    );

    // The archive's copy changed behind the desk's back: a conflict, left waiting.
    f.pg.sql(&format!(
        "UPDATE id_desk_transactions SET status = 'failed' WHERE tx_id = '{sign}'"
    ))
    .unwrap();
    id_desk_e2e::vault_db::open(f.dir.path())
        .unwrap()
        .execute("UPDATE archive_outbox SET sent_at = NULL", [])
        .unwrap();
    let conflict = writer.flush().await.unwrap();
    assert_eq!(
        (
            conflict.already_archived,
            conflict.conflicts,
            conflict.waiting
        ),
        (1, 1, 1),
        "{conflict:?}"
    );
    let summary = f.vault.outbox_summary().unwrap();
    assert!(
        summary
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("conflict") && e.contains("status failed")),
        "{summary:?}"
    );
    assert!(matches!(
        f.vault.get(&first).unwrap().archive,
        Some(ArchiveMark::Archived { .. })
    ));
}

/// Review finding M-10: a table locked by someone else makes a flush fail after the lock
/// timeout, typed, with the rows still waiting; it never hangs. Once the lock is gone it delivers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_archive_fails_the_flush_in_time_instead_of_hanging() {
    let f = Fixture::new();
    identified(&f.vault);
    f.archiver.flush().await.unwrap();
    let impatient = Archiver::new(
        f.vault.clone(),
        Tuning {
            lock_timeout: Duration::from_millis(500),
            ..quick()
        },
    );
    impatient.set_target(Some(target(&f.pg, f.pg.password())));
    let holder = f.archive().await;
    holder
        .batch_execute("BEGIN; LOCK TABLE id_desk_transactions IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    identified(&f.vault);
    let started = Instant::now();
    let err = impatient.flush().await.unwrap_err();
    assert_eq!(err.code(), "archive", "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(waiting(&f.vault), 1);
    holder.batch_execute("ROLLBACK").await.unwrap();
    let report = impatient.flush().await.unwrap();
    assert_eq!((report.inserted, report.waiting), (1, 0));
}
