#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The evidence vault against a real SQLite file and real SDO files in a temp dir.

use id_desk_core::flow::{Evidence, FlowEvent, FlowId, Method, Subject};
use id_desk_core::vault::{ListFilter, NewTransaction, TxKind, TxStatus, Vault};
use id_desk_core::Error;

fn new_tx(method: Method) -> NewTransaction {
    NewTransaction {
        id: FlowId::new(),
        method,
        identity_masked: Some("198304*****".into()),
        profile: Some("test".into()),
        sign_text: method
            .is_signature()
            .then(|| "Jeg godkjenner lånet på 10 000 kr. Blåbær æøå.".to_string()),
    }
}

fn subject() -> Subject {
    Subject {
        name: "Ola Nordmann".into(),
        nin: Some("29124815345".into()),
        nin_masked: Some("291248*****".into()),
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
    assert_eq!(row.identity_masked.as_deref(), Some("198304*****"));

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
    assert_eq!(row.identity_masked.as_deref(), Some("291248*****"));

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
    assert_eq!(std::fs::read(&sdo.path).unwrap(), SDO);
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

    // Tampering is detected by verify and blocks export.
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
    let conn = rusqlite::Connection::open(dir.path().join("vault.sqlite3")).unwrap();
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 3);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    // A newer schema is refused rather than misread.
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert_eq!(Vault::open(dir.path()).unwrap_err().code(), "vault");
    let conn = rusqlite::Connection::open(dir.path().join("vault.sqlite3")).unwrap();
    conn.pragma_update(None, "user_version", 3).unwrap();
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
    for name in ["vault.sqlite3", "vault.sqlite3-wal"] {
        let path = dir.path().join(name);
        if let Ok(bytes) = std::fs::read(&path) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("29124815345"), "{name} holds the full nin");
            if name == "vault.sqlite3" {
                assert!(text.contains("291248*****"), "masked nin missing in {name}");
            }
        }
    }
}

#[test]
fn an_sdo_renamed_into_place_just_before_a_crash_is_attached_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let vault = Vault::open(dir.path()).unwrap();
        let tx = new_tx(Method::SbidSign);
        vault.begin(&tx).unwrap();
        // The process died after the rename, before the row named the file.
        std::fs::write(dir.path().join("sdo").join(format!("{}.xml", tx.id)), SDO).unwrap();
        tx.id
    };
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
        assert_eq!(std::fs::read(&piece.path).unwrap(), b"<x/>");
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
