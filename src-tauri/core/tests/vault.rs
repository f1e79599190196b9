#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The evidence vault against a real SQLite file and real SDO files in a temp dir.

use id_desk_core::flow::{Evidence, FlowEvent, FlowId, Method, Subject};
use id_desk_core::vault::{ListFilter, NewTransaction, OutboxTarget, TxKind, TxStatus, Vault};
use id_desk_core::Error;
use std::path::Path;

fn new_tx(method: Method) -> NewTransaction {
    NewTransaction {
        id: FlowId::new(),
        method,
        identity_masked: Some("1983*******".into()),
        profile: Some("test".into()),
        sign_text: method
            .is_signature()
            .then(|| "Jeg godkjenner lånet på 10 000 kr. Blåbær æøå.".to_string()),
        archive_target: None,
    }
}

fn subject() -> Subject {
    Subject {
        name: "Ola Nordmann".into(),
        nin: Some("29124815345".into()),
        nin_masked: Some("2912*******".into()),
        country: Some("NO".into()),
        ..Default::default()
    }
}

const SDO: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ltv-sdo>sign\xc3\xa6\xc3\xb8\xc3\xa5</ltv-sdo>\n";

#[test]
fn auth_row_follows_every_transition() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let tx = new_tx(Method::SbidInapp);
    vault.begin(&tx).unwrap();
    let row = vault.get(&tx.id).unwrap();
    assert_eq!(row.status, TxStatus::Running);
    assert_eq!(row.kind, TxKind::Auth);
    assert_eq!(row.identity_masked.as_deref(), Some("1983*******"));

    vault.set_reference(&tx.id, "order-123").unwrap();
    vault
        .record(
            &tx.id,
            &FlowEvent::Started {
                flow_id: tx.id.clone(),
                method: Method::SbidInapp,
                expires_at: None,
            },
        )
        .unwrap();
    vault
        .record(
            &tx.id,
            &FlowEvent::Progress {
                status: "USER_SIGN".into(),
                message: "Enter your security code".into(),
            },
        )
        .unwrap();
    let row = vault.get(&tx.id).unwrap();
    assert_eq!(row.status, TxStatus::Running);
    assert_eq!(row.message.as_deref(), Some("Enter your security code"));
    assert_eq!(row.reference.as_deref(), Some("order-123"));

    vault
        .record(&tx.id, &FlowEvent::Succeeded { subject: subject() })
        .unwrap();
    let row = vault.get(&tx.id).unwrap();
    assert_eq!(row.status, TxStatus::Succeeded);
    assert_eq!(
        row.message, None,
        "a finished row shows its outcome, not the last progress text"
    );
    assert_eq!(row.subject_name.as_deref(), Some("Ola Nordmann"));
    assert_eq!(row.identity_masked.as_deref(), Some("2912*******"));

    // A final status stands: a late event does not change it.
    vault.record(&tx.id, &FlowEvent::Cancelled).unwrap();
    assert_eq!(vault.get(&tx.id).unwrap().status, TxStatus::Succeeded);

    let trail: Vec<String> = vault
        .events(&tx.id)
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(trail, ["begin", "started", "progress", "succeeded"]);
}

#[test]
fn failure_codes_map_to_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let cases = [
        (
            FlowEvent::Failed {
                code: "customer_aborted".into(),
                message: "The action was cancelled.".into(),
            },
            TxStatus::Aborted,
            Some("customer_aborted"),
        ),
        (
            FlowEvent::Failed {
                code: "id_token_invalid".into(),
                message: "bad signature".into(),
            },
            TxStatus::Failed,
            Some("id_token_invalid"),
        ),
        (
            FlowEvent::Failed {
                code: "user_declined_call".into(),
                message: "do not retry".into(),
            },
            TxStatus::Aborted,
            Some("user_declined_call"),
        ),
        (FlowEvent::Cancelled, TxStatus::Cancelled, None),
        (FlowEvent::Expired, TxStatus::Expired, None),
    ];
    for (ev, status, code) in cases {
        let tx = new_tx(Method::NbidInapp);
        vault.begin(&tx).unwrap();
        vault
            .record(
                &tx.id,
                &FlowEvent::Progress {
                    status: "started".into(),
                    message: "Waiting for the customer".into(),
                },
            )
            .unwrap();
        vault.record(&tx.id, &ev).unwrap();
        let row = vault.get(&tx.id).unwrap();
        assert_eq!(row.status, status, "{ev:?}");
        assert_eq!(row.error_code.as_deref(), code);
        // Only the outcome's own text: a failure's message, nothing for the others.
        let own = match &ev {
            FlowEvent::Failed { message, .. } => Some(message.as_str()),
            _ => None,
        };
        assert_eq!(row.message.as_deref(), own, "{ev:?}");
    }
    let aborted = vault
        .list(
            &ListFilter {
                status: Some(TxStatus::Aborted),
                ..Default::default()
            },
            10,
        )
        .unwrap();
    assert_eq!(
        aborted.len(),
        2,
        "the customer said no: in the app, or to the call"
    );
    assert_eq!(vault.list(&ListFilter::default(), 2).unwrap().len(), 2);
    assert_eq!(vault.list(&ListFilter::default(), 100).unwrap().len(), 5);
}

#[test]
fn sdo_is_stored_verbatim_verified_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let tx = new_tx(Method::NbidSign);
    vault.begin(&tx).unwrap();

    // `signed` without stored evidence is refused.
    let fake = id_desk_core::flow::SdoRef {
        path: "x".into(),
        sha256: "00".into(),
        bytes: 1,
    };
    assert!(vault
        .record(
            &tx.id,
            &FlowEvent::Signed {
                subject: subject(),
                evidence: vec![Evidence::ltv_sdo(fake)]
            }
        )
        .is_err());

    let sdo = vault.store_sdo(&tx.id, SDO).unwrap();
    assert_eq!(sdo.bytes, SDO.len() as u64);
    assert_eq!(vault.read_stored(Path::new(&sdo.path)).unwrap(), SDO);
    // Encrypted at rest: the file is not the SDO and does not name the signer.
    let raw = std::fs::read(&sdo.path).unwrap();
    assert!(!String::from_utf8_lossy(&raw).contains("ltv-sdo"));
    assert_ne!(raw, SDO);
    assert_eq!(sdo.sha256.len(), 64);
    // No temp file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path().join("sdo"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, [format!("{}.xml", tx.id)]);
    // Evidence is never overwritten.
    assert!(vault.store_sdo(&tx.id, b"other").is_err());

    vault
        .record(
            &tx.id,
            &FlowEvent::Signed {
                subject: subject(),
                evidence: vec![Evidence::ltv_sdo(sdo.clone())],
            },
        )
        .unwrap();
    let row = vault.get(&tx.id).unwrap();
    assert_eq!(row.status, TxStatus::Signed);
    assert_eq!(row.sdo.as_ref(), Some(&sdo));
    assert_eq!(
        row.sign_text.as_deref(),
        Some("Jeg godkjenner lånet på 10 000 kr. Blåbær æøå.")
    );
    assert!(vault.verify(&tx.id).unwrap());

    let out = dir.path().join("export").join("copy.xml");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let copy = vault.export(&tx.id, &out).unwrap();
    assert_eq!(copy.sha256, sdo.sha256);
    assert_eq!(std::fs::read(&out).unwrap(), SDO);

    // Tampering is detected by verify and blocks export (a plain file, as an intruder without
    // the key would write, fails its hash; a changed sealed file fails to decrypt).
    std::fs::write(&sdo.path, b"<tampered/>").unwrap();
    assert!(!vault.verify(&tx.id).unwrap());
    let err = vault
        .export(&tx.id, &dir.path().join("export").join("again.xml"))
        .unwrap_err();
    assert!(matches!(err, Error::EvidenceMismatch(_)), "{err:?}");
}

#[test]
fn store_sdo_refuses_auth_rows_and_unknown_ids() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let tx = new_tx(Method::NbidInapp);
    vault.begin(&tx).unwrap();
    assert!(vault.store_sdo(&tx.id, SDO).is_err());
    assert!(matches!(
        vault.store_sdo(&FlowId::new(), SDO).unwrap_err(),
        Error::NotFound(_)
    ));
    let evil = NewTransaction {
        id: FlowId::from("../../etc/passwd".to_string()),
        ..new_tx(Method::NbidSign)
    };
    assert_eq!(vault.begin(&evil).unwrap_err().code(), "invalid_input");
}

#[test]
fn rows_of_a_dead_process_become_interrupted_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let (running, finished) = {
        let vault = Vault::open(dir.path()).unwrap();
        assert_eq!(vault.interrupted_on_open(), 0);
        let running = new_tx(Method::SbidSign);
        vault.begin(&running).unwrap();
        let finished = new_tx(Method::NbidInapp);
        vault.begin(&finished).unwrap();
        vault.record(&finished.id, &FlowEvent::Expired).unwrap();

        // A second vault handle opened while the first is alive must not touch its rows
        // (the app and the CLI may share one vault).
        let other = Vault::open(dir.path()).unwrap();
        assert_eq!(other.interrupted_on_open(), 0);
        assert_eq!(other.get(&running.id).unwrap().status, TxStatus::Running);
        (running.id, finished.id)
        // Both handles drop here: their locks go away exactly as on a crash.
    };
    let vault = Vault::open(dir.path()).unwrap();
    assert_eq!(vault.interrupted_on_open(), 1);
    let row = vault.get(&running).unwrap();
    assert_eq!(row.status, TxStatus::Interrupted);
    assert_eq!(row.error_code.as_deref(), Some("interrupted"));
    assert_eq!(vault.get(&finished).unwrap().status, TxStatus::Expired);
    // An interrupted row stays, and stays interrupted.
    assert_eq!(vault.mark_interrupted().unwrap(), 0);
    vault.record(&running, &FlowEvent::Cancelled).unwrap();
    assert_eq!(vault.get(&running).unwrap().status, TxStatus::Interrupted);
    assert_eq!(vault.list(&ListFilter::default(), 10).unwrap().len(), 2);
    // Dead instances' lock files are tidied away; only ours remains.
    let locks: Vec<_> = std::fs::read_dir(dir.path().join("instances"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(locks.len(), 1, "{locks:?}");
    assert!(locks[0].ends_with(".lock"));
}

#[test]
fn own_running_rows_are_not_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let tx = new_tx(Method::NbidSign);
    vault.begin(&tx).unwrap();
    assert_eq!(vault.mark_interrupted().unwrap(), 0);
    assert_eq!(vault.get(&tx.id).unwrap().status, TxStatus::Running);
}

#[test]
fn unmasked_identity_numbers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let tx = NewTransaction {
        identity_masked: Some("198304062717".into()),
        ..new_tx(Method::SbidInapp)
    };
    assert_eq!(vault.begin(&tx).unwrap_err().code(), "invalid_input");
}

/// The vault's database opened as SQLCipher, with the key from where the desk keeps it: the OS
/// keyring (service `id-desk`).
fn open_with_key(dir: &Path) -> rusqlite::Connection {
    assert_eq!(
        Vault::key_account(dir),
        id_desk_e2e::vault_db::key_account(dir)
    );
    id_desk_e2e::vault_db::open(dir).unwrap()
}

#[test]
fn schema_version_is_recorded_and_reopen_keeps_rows() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let vault = Vault::open(dir.path()).unwrap();
        let tx = new_tx(Method::NbidInapp);
        vault.begin(&tx).unwrap();
        vault
            .record(&tx.id, &FlowEvent::Succeeded { subject: subject() })
            .unwrap();
        tx.id
    };
    // Without the key the file is not even a database.
    let keyless = rusqlite::Connection::open(dir.path().join("vault.sqlite3")).unwrap();
    assert!(keyless
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r
            .get::<_, i64>(0))
        .is_err());
    drop(keyless);
    let conn = open_with_key(dir.path());
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 7);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    // A newer schema is refused rather than misread.
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert_eq!(Vault::open(dir.path()).unwrap_err().code(), "vault");
    let conn = open_with_key(dir.path());
    conn.pragma_update(None, "user_version", 7).unwrap();
    drop(conn);
    let vault = Vault::open(dir.path()).unwrap();
    assert_eq!(vault.get(&id).unwrap().status, TxStatus::Succeeded);
}

#[test]
fn database_files_never_hold_a_full_identity_number() {
    let dir = tempfile::tempdir().unwrap();
    {
        let vault = Vault::open(dir.path()).unwrap();
        let tx = new_tx(Method::NbidSign);
        vault.begin(&tx).unwrap();
        let sdo = vault.store_sdo(&tx.id, SDO).unwrap();
        vault
            .record(
                &tx.id,
                &FlowEvent::Signed {
                    subject: subject(),
                    evidence: vec![Evidence::ltv_sdo(sdo)],
                },
            )
            .unwrap();
    }
    // Encrypted at rest: neither the full nor the masked number, nor the name, is readable in
    // the database or its WAL; the vault itself reads the masked number back.
    let mut files = 0;
    for name in ["vault.sqlite3", "vault.sqlite3-wal"] {
        let path = dir.path().join(name);
        if let Ok(bytes) = std::fs::read(&path) {
            files += 1;
            assert!(
                !bytes.starts_with(b"SQLite format 3"),
                "{name} is plain SQLite"
            );
            let text = String::from_utf8_lossy(&bytes);
            for clear in ["29124815345", "2912*******", "Ola Nordmann"] {
                assert!(!text.contains(clear), "{name} holds {clear}");
            }
        }
    }
    assert!(files >= 1);
    let vault = Vault::open(dir.path()).unwrap();
    let rows = vault.list(&ListFilter::default(), 10).unwrap();
    assert_eq!(rows[0].identity_masked.as_deref(), Some("2912*******"));
}

#[test]
fn an_sdo_renamed_into_place_just_before_a_crash_is_attached_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let vault = Vault::open(dir.path()).unwrap();
        let tx = new_tx(Method::SbidSign);
        vault.begin(&tx).unwrap();
        vault.store_sdo(&tx.id, SDO).unwrap();
        tx.id
    };
    // The process died after the (sealed) file was renamed into place, before the row named it.
    open_with_key(dir.path())
        .execute(
            "UPDATE transactions SET sdo_path = NULL, sdo_sha256 = NULL, sdo_bytes = NULL",
            [],
        )
        .unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    assert_eq!(vault.interrupted_on_open(), 1);
    let row = vault.get(&id).unwrap();
    assert_eq!(row.status, TxStatus::Interrupted);
    let sdo = row.sdo.unwrap();
    assert_eq!(sdo.bytes, SDO.len() as u64);
    assert!(vault.verify(&id).unwrap());
}

#[test]
fn export_replaces_a_file_the_staff_member_chose() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let tx = new_tx(Method::NbidSign);
    vault.begin(&tx).unwrap();
    vault.store_sdo(&tx.id, SDO).unwrap();
    let dest = dir.path().join("chosen.xml");
    std::fs::write(&dest, b"old content").unwrap();
    vault.export(&tx.id, &dest).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), SDO);
}

/// Issue 21: Sign API v2 evidence. Each piece is stored once (the same bytes again are the same
/// piece; other bytes under its name are refused), `signed` needs every piece stored, and a
/// signature interrupted by a crash waits for the desk to ask Signicat before it is archived.
#[test]
fn sign_api_v2_evidence_is_stored_once_and_an_interrupted_signature_can_be_recovered() {
    use id_desk_core::flow::EvidenceKind;
    let dir = tempfile::tempdir().unwrap();
    let (id, piece) = {
        let vault = Vault::open(dir.path()).unwrap();
        let tx = new_tx(Method::SignSbidPhone);
        vault.begin(&tx).unwrap();
        let piece = vault
            .store_evidence(&tx.id, EvidenceKind::Xades, "res-1", "xml", b"<x/>")
            .unwrap();
        assert_eq!(vault.read_stored(Path::new(&piece.path)).unwrap(), b"<x/>");
        assert_ne!(std::fs::read(&piece.path).unwrap(), b"<x/>");
        let again = vault
            .store_evidence(&tx.id, EvidenceKind::Xades, "res-1", "xml", b"<x/>")
            .unwrap();
        assert_eq!(again, piece);
        let other = vault
            .store_evidence(&tx.id, EvidenceKind::Xades, "res-1", "xml", b"<y/>")
            .unwrap_err();
        assert_eq!(other.code(), "evidence_mismatch");
        assert!(vault
            .store_evidence(&tx.id, EvidenceKind::Xades, "../res", "xml", b"<x/>")
            .is_err());
        // `signed` names a piece that was never stored: refused.
        let unstored = Evidence {
            sha256: "00".repeat(32),
            ..piece.clone()
        };
        assert!(vault
            .record(
                &tx.id,
                &FlowEvent::Signed {
                    subject: subject(),
                    evidence: vec![piece.clone(), unstored],
                },
            )
            .is_err());
        vault.set_reference(&tx.id, "signing-session-1").unwrap();
        (tx.id, piece)
        // Dropped while running: as on a crash.
    };
    let vault = Vault::open(dir.path()).unwrap();
    assert_eq!(vault.get(&id).unwrap().status, TxStatus::Interrupted);
    // Not archived yet: the customer may have signed.
    assert_eq!(vault.outbox_summary().unwrap().waiting, 0);
    assert_eq!(
        vault.signatures_to_recover("test").unwrap(),
        [(id.clone(), "signing-session-1".to_string())]
    );
    assert!(vault.signatures_to_recover("other").unwrap().is_empty());
    vault
        .recover_signed(&id, &subject(), std::slice::from_ref(&piece))
        .unwrap();
    let row = vault.get(&id).unwrap();
    assert_eq!(row.status, TxStatus::Signed);
    assert_eq!(row.evidence, [piece]);
    assert!(vault.verify(&id).unwrap());
    assert_eq!(vault.outbox_summary().unwrap().waiting, 1);
    assert!(vault.signatures_to_recover("test").unwrap().is_empty());
    // Only an interrupted row can be recovered.
    assert!(vault
        .recover_signed(&id, &subject(), &row.evidence)
        .is_err());

    // Exported as a directory of verified copies.
    let out = tempfile::tempdir().unwrap();
    let copies = vault.export_evidence(&id, out.path()).unwrap();
    assert_eq!(std::fs::read(&copies[0].path).unwrap(), b"<x/>");
    assert_eq!(copies[0].sha256, row.evidence[0].sha256);
}

/// Issue 23, item 1: a vault written before encryption at rest (plain SQLite, plain SDO files, no
/// key in the keyring) is encrypted in place at its first open, and a crash part-way (a stray
/// half-written encrypted copy, some files already sealed) is finished at the next open.
#[test]
fn a_plain_vault_from_before_encryption_is_encrypted_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let (signed, identified) = {
        let vault = Vault::open(dir.path()).unwrap();
        let sign = new_tx(Method::NbidSign);
        vault.begin(&sign).unwrap();
        vault.store_sdo(&sign.id, SDO).unwrap();
        let sign2 = new_tx(Method::NbidSign);
        vault.begin(&sign2).unwrap();
        vault.store_sdo(&sign2.id, b"<second/>").unwrap();
        let auth = new_tx(Method::NbidInapp);
        vault.begin(&auth).unwrap();
        vault
            .record(&auth.id, &FlowEvent::Succeeded { subject: subject() })
            .unwrap();
        ([sign.id, sign2.id], auth.id)
    };
    // Make it what an older desk left: decrypt the database into plain SQLite, put the SDOs back in
    // clear, and forget the key.
    let db = dir.path().join("vault.sqlite3");
    let plain = dir.path().join("plain.sqlite3");
    {
        let conn = open_with_key(dir.path());
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        conn.execute(
            "ATTACH DATABASE ?1 AS plain KEY ''",
            [plain.to_string_lossy()],
        )
        .unwrap();
        conn.query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(()))
            .unwrap();
        // As an older desk left it: its files were never sealed.
        conn.execute_batch(&format!(
            "PRAGMA plain.user_version = {version}; UPDATE plain.desk SET files_sealed = 0;
             DETACH plain"
        ))
        .unwrap();
    }
    std::fs::rename(&plain, &db).unwrap();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("vault.sqlite3{suffix}")));
    }
    std::fs::write(
        dir.path().join("sdo").join(format!("{}.xml", signed[0])),
        SDO,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("sdo").join(format!("{}.xml", signed[1])),
        b"<second/>",
    )
    .unwrap();
    keyring::Entry::new("id-desk", &Vault::key_account(dir.path()))
        .unwrap()
        .delete_credential()
        .unwrap();
    assert!(std::fs::read(&db)
        .unwrap()
        .starts_with(b"SQLite format 3\0"));
    // A crash of an earlier attempt left its half-written copy behind.
    std::fs::write(dir.path().join(".vault-encrypting.sqlite3"), b"partial").unwrap();

    // Review N-6: the older desk is still running after the upgrade (its instance lock held, the
    // plain database open in WAL mode). Nothing is encrypted or deleted under it: refused, named.
    {
        let older_lock =
            rusqlite::Connection::open(dir.path().join("instances/olderdesk1.lock")).unwrap();
        older_lock
            .execute_batch("PRAGMA journal_mode = OFF; BEGIN EXCLUSIVE")
            .unwrap();
        let older = rusqlite::Connection::open(&db).unwrap();
        older
            .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .unwrap();
        older
            .execute_batch("CREATE TABLE IF NOT EXISTS older_was_here (x)")
            .unwrap();
        let Err(e) = Vault::open(dir.path()) else {
            panic!("opened while the older desk runs");
        };
        assert!(
            e.to_string().contains("still open in another ID Desk"),
            "{e}"
        );
        assert!(std::fs::read(&db)
            .unwrap()
            .starts_with(b"SQLite format 3\0"));
        assert!(
            dir.path().join("vault.sqlite3-wal").exists(),
            "its WAL is left alone"
        );
        // The older desk has stopped: its connection closes, SQLite removes its side files.
    }

    let vault = Vault::open(dir.path()).unwrap();
    assert!(!std::fs::read(&db).unwrap().starts_with(b"SQLite format 3"));
    assert!(!dir.path().join(".vault-encrypting.sqlite3").exists());
    assert_eq!(
        vault.get(&identified).unwrap().subject_name.as_deref(),
        Some("Ola Nordmann")
    );
    for id in &signed {
        assert!(vault.verify(id).unwrap());
        let path = vault.get(id).unwrap().sdo.unwrap().path;
        let raw = std::fs::read(&path).unwrap();
        assert!(
            !String::from_utf8_lossy(&raw).contains("sdo"),
            "{path} is in clear"
        );
    }
    assert_eq!(
        vault
            .read_stored(Path::new(&vault.get(&signed[0]).unwrap().sdo.unwrap().path))
            .unwrap(),
        SDO
    );
    drop(vault);
    // Reopening finds nothing left to do and everything still readable.
    let vault = Vault::open(dir.path()).unwrap();
    assert!(vault.verify(&signed[1]).unwrap());
    drop(vault);

    // Review N-15: once every file is sealed, a file put back in clear (its old bytes, a planted
    // copy) is not evidence, whatever its hash, and is not sealed by the next open either.
    let path = dir.path().join("sdo").join(format!("{}.xml", signed[0]));
    std::fs::write(&path, SDO).unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), SDO, "left as it was found");
    assert!(!vault.verify(&signed[0]).unwrap());
    let refused = vault
        .export(&signed[0], &dir.path().join("planted-export.xml"))
        .unwrap_err();
    assert_eq!(refused.code(), "evidence_mismatch", "{refused}");
    assert!(vault.verify(&signed[1]).unwrap());
}

/// An encrypted vault whose key is gone from the keyring is refused with the place to look; no
/// new key is made (that would lock the old rows away for good).
#[test]
fn an_encrypted_vault_without_its_key_is_refused_not_rekeyed() {
    let dir = tempfile::tempdir().unwrap();
    drop(Vault::open(dir.path()).unwrap());
    let entry = keyring::Entry::new("id-desk", &Vault::key_account(dir.path())).unwrap();
    let key = entry.get_password().unwrap();
    entry.delete_credential().unwrap();
    let e = Vault::open(dir.path()).unwrap_err();
    assert_eq!(e.code(), "vault");
    assert!(
        e.to_string().contains("not in this user's OS keyring"),
        "{e}"
    );
    assert!(matches!(entry.get_password(), Err(keyring::Error::NoEntry)));
    // The right key back opens it; a wrong one is refused.
    entry.set_password(&"00".repeat(32)).unwrap();
    assert!(Vault::open(dir.path())
        .unwrap_err()
        .to_string()
        .contains("cannot be decrypted"));
    entry.set_password(&key).unwrap();
    Vault::open(dir.path()).unwrap();
}

/// Review finding H-2: owner-only directories and files whatever the umask, also for a vault
/// directory that existed with a looser mode.
#[cfg(unix)]
#[test]
fn the_vault_is_owner_only_on_disk() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("vault");
    std::fs::create_dir(&root).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    let vault = Vault::open(&root).unwrap();
    let tx = new_tx(Method::NbidSign);
    vault.begin(&tx).unwrap();
    let sdo = vault.store_sdo(&tx.id, SDO).unwrap();
    let out = dir.path().join("export.xml");
    vault.export(&tx.id, &out).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for d in ["", "sdo", "evidence", "instances"] {
        assert_eq!(mode(&root.join(d)), 0o700, "directory {d:?}");
    }
    for f in ["vault.sqlite3", "vault.sqlite3-wal", "vault.sqlite3-shm"] {
        assert_eq!(mode(&root.join(f)), 0o600, "{f}");
    }
    assert_eq!(mode(Path::new(&sdo.path)), 0o600);
    assert_eq!(mode(&out), 0o600, "an exported copy");
}

/// Issue 23, item 2: retention without an archive. Failed attempts go after `unsuccessful_days`,
/// verified identities and signatures (with their SDO files) after `without_archive_days`, a
/// running flow never; a dry run changes nothing; every purge leaves an audit line without
/// personal data; files a purge could not remove are removed by the next one.
#[test]
fn retention_purges_what_the_policy_no_longer_allows_and_keeps_an_audit() {
    use id_desk_core::vault::PurgePolicy;
    use time::{Duration, OffsetDateTime};
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let signed = new_tx(Method::NbidSign);
    vault.begin(&signed).unwrap();
    let sdo = vault.store_sdo(&signed.id, SDO).unwrap();
    vault
        .record(
            &signed.id,
            &FlowEvent::Signed {
                subject: subject(),
                evidence: vec![Evidence::ltv_sdo(sdo.clone())],
            },
        )
        .unwrap();
    let verified = new_tx(Method::NbidInapp);
    vault.begin(&verified).unwrap();
    vault
        .record(&verified.id, &FlowEvent::Succeeded { subject: subject() })
        .unwrap();
    let failed = new_tx(Method::NbidInapp);
    vault.begin(&failed).unwrap();
    vault.record(&failed.id, &FlowEvent::Expired).unwrap();
    let running = new_tx(Method::NbidInapp);
    vault.begin(&running).unwrap();

    let policy = PurgePolicy {
        after_archive_days: 30,
        without_archive_days: 1826,
        unsuccessful_days: 90,
        archive_configured: false,
    };
    let now = OffsetDateTime::now_utc();
    let ids = |r: &id_desk_core::vault::PurgeReport| -> Vec<FlowId> {
        r.purged.iter().map(|p| p.id.clone()).collect()
    };
    assert!(vault
        .purge(&policy, now + Duration::days(89), false)
        .unwrap()
        .purged
        .is_empty());
    let dry = vault
        .purge(&policy, now + Duration::days(91), true)
        .unwrap();
    assert!(dry.dry_run);
    assert_eq!(ids(&dry), std::slice::from_ref(&failed.id));
    assert!(vault.get(&failed.id).is_ok(), "a dry run deletes nothing");
    assert!(vault.purge_log(10).unwrap().is_empty());

    let first = vault
        .purge(&policy, now + Duration::days(91), false)
        .unwrap();
    assert_eq!(ids(&first), std::slice::from_ref(&failed.id));
    assert!(first.purged[0].reason.contains("90 days"), "{first:?}");
    assert!(matches!(vault.get(&failed.id), Err(Error::NotFound(_))));
    assert!(vault.events(&failed.id).unwrap().is_empty());

    let second = vault
        .purge(&policy, now + Duration::days(1827), false)
        .unwrap();
    let mut gone = ids(&second);
    gone.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let mut want = vec![signed.id.clone(), verified.id.clone()];
    want.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(gone, want);
    assert!(
        !Path::new(&sdo.path).exists(),
        "the SDO file goes with its row"
    );
    assert_eq!(
        vault.get(&running.id).unwrap().status,
        TxStatus::Running,
        "a running flow is never purged"
    );

    let log = vault.purge_log(10).unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(log.iter().map(|l| l.files).sum::<usize>(), 1);
    let text = serde_json::to_string(&log).unwrap();
    for personal in ["Ola", "198304", "29124815345", "lånet"] {
        assert!(!text.contains(personal), "the audit keeps {personal}");
    }

    // A purge that stopped after its commit, before the files went: the next one removes them.
    std::fs::write(&sdo.path, b"left behind").unwrap();
    id_desk_e2e::vault_db::open(dir.path())
        .unwrap()
        .execute("UPDATE purge_log SET files_removed_at = NULL", [])
        .unwrap();
    let third = vault.purge(&policy, now, false).unwrap();
    assert_eq!(third.leftover_files_removed, 1);
    assert!(!Path::new(&sdo.path).exists());
}

/// With an archive configured nothing leaves the desk before the archive has it, however old;
/// once archived, it goes `after_archive_days` later.
#[test]
fn with_an_archive_nothing_is_purged_before_the_archive_has_it() {
    use id_desk_core::vault::PurgePolicy;
    use time::{Duration, OffsetDateTime};
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let tx = new_tx(Method::NbidInapp);
        vault.begin(&tx).unwrap();
        vault
            .record(&tx.id, &FlowEvent::Succeeded { subject: subject() })
            .unwrap();
        ids.push(tx.id);
    }
    let policy = PurgePolicy {
        after_archive_days: 30,
        without_archive_days: 1,
        unsuccessful_days: 1,
        archive_configured: true,
    };
    let now = OffsetDateTime::now_utc();
    let report = vault
        .purge(&policy, now + Duration::days(3650), false)
        .unwrap();
    assert!(report.purged.is_empty());
    assert_eq!(report.waiting_for_archive, 2);

    vault
        .outbox_mark_sent(std::slice::from_ref(&ids[0]))
        .unwrap();
    assert!(vault
        .purge(&policy, now + Duration::days(29), false)
        .unwrap()
        .purged
        .is_empty());
    let report = vault
        .purge(&policy, now + Duration::days(31), false)
        .unwrap();
    assert_eq!(report.purged.len(), 1);
    assert_eq!(report.purged[0].id, ids[0]);
    assert!(report.purged[0].reason.contains("central archive"));
    assert_eq!(report.waiting_for_archive, 1);
    assert!(vault.get(&ids[1]).is_ok());
}

/// Review N-20: a row recorded for an archive is kept until that archive has it, whatever the
/// active profile says: switching to a profile without an archive (or to Training) does not
/// purge what an outage left waiting. A row recorded without an archive follows the policy.
#[test]
fn a_row_owed_to_an_archive_is_never_purged_unsent_whatever_profile_is_active() {
    use id_desk_core::vault::PurgePolicy;
    use time::{Duration, OffsetDateTime};
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let record = |archive_target: Option<&str>| {
        let tx = NewTransaction {
            archive_target: archive_target.map(str::to_string),
            ..new_tx(Method::NbidInapp)
        };
        vault.begin(&tx).unwrap();
        vault
            .record(
                &tx.id,
                &FlowEvent::Failed {
                    code: "network".into(),
                    message: "down".into(),
                },
            )
            .unwrap();
        tx.id
    };
    let owed = record(Some("bank-archive-fingerprint"));
    let unowed = record(None);
    // The active profile has no archive: its policy alone would purge both after a day.
    let policy = PurgePolicy {
        after_archive_days: 30,
        without_archive_days: 1,
        unsuccessful_days: 1,
        archive_configured: false,
    };
    let later = OffsetDateTime::now_utc() + Duration::days(3650);
    let report = vault.purge(&policy, later, false).unwrap();
    let purged: Vec<_> = report.purged.iter().map(|p| p.id.clone()).collect();
    assert_eq!(purged, [unowed]);
    assert_eq!(report.waiting_for_archive, 1);
    assert!(vault.get(&owed).is_ok());
    // Once the archive has it, the archive's retention applies.
    vault.outbox_mark_sent(std::slice::from_ref(&owed)).unwrap();
    let report = vault.purge(&policy, later, false).unwrap();
    assert_eq!(report.purged.len(), 1);
    assert_eq!(report.purged[0].id, owed);
}

/// Issue 23, item 11: a row this build cannot read (here a status from a newer desk) shows in
/// History as unreadable, with the reason, between the others; delivery skips it, counts the
/// attempt so it sinks, and goes on with the rest.
#[test]
fn one_unreadable_row_neither_hides_history_nor_stops_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let tx = new_tx(Method::NbidInapp);
        vault.begin(&tx).unwrap();
        vault
            .record(&tx.id, &FlowEvent::Succeeded { subject: subject() })
            .unwrap();
        ids.push(tx.id);
    }
    id_desk_e2e::vault_db::open(dir.path())
        .unwrap()
        .execute(
            "UPDATE transactions SET status = 'teleported' WHERE id = ?1",
            [ids[1].as_str()],
        )
        .unwrap();
    let entries = vault.history(&ListFilter::default(), 10).unwrap();
    assert_eq!(entries.len(), 3);
    let unreadable: Vec<_> = entries
        .iter()
        .filter_map(|e| match e {
            id_desk_core::vault::HistoryEntry::Unreadable(u) => Some(u),
            _ => None,
        })
        .collect();
    assert_eq!(unreadable.len(), 1);
    assert_eq!(unreadable[0].id, ids[1].as_str());
    assert!(
        unreadable[0].unreadable.contains("teleported"),
        "{unreadable:?}"
    );
    assert!(unreadable[0].created_at.is_some());
    let json = serde_json::to_value(&entries).unwrap();
    assert_eq!(json[1]["unreadable"], unreadable[0].unreadable.as_str());
    assert_eq!(vault.list(&ListFilter::default(), 10).unwrap().len(), 2);

    let waiting: Vec<FlowId> = vault
        .outbox_waiting(
            &OutboxTarget {
                fingerprint: "not-this-one".into(),
                profile: "test".into(),
            },
            10,
        )
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(waiting.len(), 2);
    assert!(!waiting.contains(&ids[1]));
    let summary = vault.outbox_summary().unwrap();
    assert_eq!(summary.waiting, 3);
    assert!(
        summary
            .last_error
            .as_deref()
            .is_some_and(|e| e.starts_with("unreadable")),
        "{summary:?}"
    );
}

/// Who did what (issue 24): every new row carries the OS user, the PC, the branch (policy's;
/// none yet) and the app version; History filters by staff; a vault from before keeps its
/// old rows, with nothing made up for them.
#[test]
fn every_row_says_who_ran_it_where_and_history_filters_by_staff() {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let who = vault.workstation();
    let mine = new_tx(Method::NbidMobile);
    vault.begin(&mine).unwrap();
    let row = vault.get(&mine.id).unwrap();
    assert_eq!(row.staff_user, who.os_user);
    assert!(row.staff_user.is_some());
    assert_eq!(row.desk_host, who.host);
    assert_eq!(row.app_version.as_deref(), Some(env!("CARGO_PKG_VERSION")));
    assert_eq!(row.branch, None);

    vault.set_branch(Some("Oslo Storgata".into()));
    let branched = new_tx(Method::NbidMobile);
    vault.begin(&branched).unwrap();
    assert_eq!(
        vault.get(&branched.id).unwrap().branch.as_deref(),
        Some("Oslo Storgata")
    );

    // A row someone else ran on this PC (another OS login).
    id_desk_e2e::vault_db::open(dir.path())
        .unwrap()
        .execute(
            "UPDATE transactions SET staff_user = 'per' WHERE id = ?1",
            [branched.id.as_str()],
        )
        .unwrap();
    let by = |user: &str| {
        vault
            .list(
                &ListFilter {
                    staff_user: Some(user.into()),
                    ..Default::default()
                },
                10,
            )
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(by("per"), vec![branched.id.clone()]);
    assert_eq!(by(who.os_user.as_deref().unwrap()), vec![mine.id.clone()]);
    assert!(by("nobody").is_empty());
}
