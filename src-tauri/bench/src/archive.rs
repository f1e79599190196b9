//! Issue 17's benchmark: 10,000 finished transactions queued in a desk's vault (every fifth a
//! consent signature with a 16 KiB SDO) delivered to a throw-away PostgreSQL cluster on loopback
//! (`tests/support/pg.rs`) by the desk's own archive delivery, with its production batch sizes.
//! Timed from the first connection to the last local mark; filling the vault is not timed.

use std::time::{Duration, Instant};

use id_desk_core::archive::{Archiver, Target, Tuning};
use id_desk_core::flow::{Evidence, FlowEvent, FlowId, Method, Subject};
use id_desk_core::profile::{ArchiveConfig, ArchiveSettings};
use id_desk_core::secrets::{SecretName, SecretSource, SecretString};
use id_desk_core::vault::{NewTransaction, Vault};
use id_desk_e2e::pg::PgCluster;

pub struct ArchiveFigures {
    pub rows: u64,
    pub signatures: u64,
    pub sdo_bytes: usize,
    pub elapsed: Duration,
    pub archived: u64,
}

const SDO_BYTES: usize = 16 * 1024;

fn fill(vault: &Vault, rows: u64) -> Result<u64, String> {
    let sdo: Vec<u8> = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ltv-sdo>{}</ltv-sdo>\n",
        "x".repeat(SDO_BYTES - 64)
    )
    .into_bytes();
    let subject = Subject {
        name: "Kari Nordmann".into(),
        nin_masked: Some("2912*******".into()),
        ..Default::default()
    };
    let mut signatures = 0;
    for i in 0..rows {
        let sign = i % 5 == 0;
        let method = if sign {
            Method::NbidSign
        } else {
            Method::NbidSafeConversation
        };
        let id = FlowId::new();
        vault
            .begin(&NewTransaction {
                id: id.clone(),
                method,
                identity_masked: Some("2912*******".into()),
                profile: Some("bench".into()),
                sign_text: sign.then(|| "I confirm my purchase of Medium500.".to_string()),
                archive_target: None,
            })
            .map_err(|e| e.to_string())?;
        let ev = if sign {
            signatures += 1;
            let stored = vault.store_sdo(&id, &sdo).map_err(|e| e.to_string())?;
            FlowEvent::Signed {
                subject: subject.clone(),
                evidence: vec![Evidence::ltv_sdo(stored)],
            }
        } else {
            FlowEvent::Succeeded {
                subject: subject.clone(),
            }
        };
        vault.record(&id, &ev).map_err(|e| e.to_string())?;
    }
    Ok(signatures)
}

pub async fn run(rows: u64) -> Result<ArchiveFigures, String> {
    let pg = PgCluster::start().map_err(|e| e.to_string())?;
    let dir = tempfile_dir()?;
    let vault = Vault::open(&dir).map_err(|e| e.to_string())?;
    let signatures = {
        let vault = vault.clone();
        tokio::task::spawn_blocking(move || fill(&vault, rows))
            .await
            .map_err(|e| e.to_string())??
    };
    let settings = ArchiveSettings::validate(&ArchiveConfig {
        url: pg.url(),
        ca_file: None,
    })
    .map_err(|e| e.to_string())?;
    let archiver = Archiver::new(vault.clone(), Tuning::default());
    archiver.set_target(Some(Target {
        settings,
        profile: "bench".into(),
        source: SecretSource::memory([(
            SecretName::ArchivePassword,
            SecretString::new(pg.password()),
        )]),
    }));
    let started = Instant::now();
    let report = archiver.flush().await.map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    if report.waiting != 0 || report.inserted != rows {
        return Err(format!("delivery incomplete: {report:?}"));
    }
    let archived = pg
        .sql("SELECT count(*) FROM id_desk_transactions")
        .map_err(|e| e.to_string())?
        .parse::<u64>()
        .map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ArchiveFigures {
        rows,
        signatures,
        sdo_bytes: SDO_BYTES,
        elapsed,
        archived,
    })
}

fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("iddesk-bench-archive-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}
