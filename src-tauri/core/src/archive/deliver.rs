//! One delivery: a batch of finished transactions, each with its SDO bytes and SHA-256, inserted
//! in one PostgreSQL transaction with `ON CONFLICT DO NOTHING` on (desk id, transaction id). A
//! batch sent twice (the desk died after the server's commit, before its own mark) changes
//! nothing the second time.

use std::path::Path;

use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use super::connect::pg_error;
use crate::flow::FlowId;
use crate::vault::Transaction;
use crate::{Error, Result};

/// One transaction as the archive receives it.
pub(crate) struct Row {
    tx: Transaction,
    sdo: Option<(Vec<u8>, String)>,
}

impl Row {
    pub(crate) fn id(&self) -> &FlowId {
        &self.tx.id
    }
    pub(crate) fn sdo_len(&self) -> usize {
        self.sdo.as_ref().map_or(0, |(b, _)| b.len())
    }
}

/// Reads the SDO a row names and checks it against the recorded hash: evidence that no longer
/// matches is never shipped (and the archive's own check would refuse it). Blocking file I/O.
pub(crate) fn prepare(tx: Transaction) -> Result<Row> {
    let sdo = match &tx.sdo {
        None => None,
        Some(sdo) => {
            let bytes = std::fs::read(Path::new(&sdo.path))
                .map_err(|e| Error::Io(format!("{}: {e}", sdo.path)))?;
            let sha = hex::encode(Sha256::digest(&bytes));
            if sha != sdo.sha256 {
                return Err(Error::EvidenceMismatch(format!("transaction {}", tx.id)));
            }
            Some((bytes, sha))
        }
    };
    Ok(Row { tx, sdo })
}

const INSERT: &str = "INSERT INTO id_desk_transactions (desk_id, tx_id, kind, method, status,
        identity_masked, subject_name, error_code, message, reference, profile, sign_text,
        created_at, updated_at, sdo, sdo_sha256)
    SELECT $1, tx_id, kind, method, status, identity_masked, subject_name, error_code, message,
        reference, profile, sign_text, created_at::timestamptz, updated_at::timestamptz, sdo,
        sdo_sha256
    FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
        $15::bytea[], $16::text[])
        AS u(tx_id, kind, method, status, identity_masked, subject_name, error_code, message,
        reference, profile, sign_text, created_at, updated_at, sdo, sdo_sha256)
    ON CONFLICT (desk_id, tx_id) DO NOTHING";

/// Sends `rows` and returns how many the archive did not have yet, once its commit is done.
pub(crate) async fn send(client: &mut Client, desk_id: &str, rows: &[Row]) -> Result<u64> {
    fn col<'a, T>(rows: &'a [Row], f: impl Fn(&'a Row) -> T) -> Vec<T> {
        rows.iter().map(f).collect()
    }
    let ids = col(rows, |r| r.tx.id.as_str().to_string());
    let kinds = col(rows, |r| r.tx.kind.as_str());
    let methods = col(rows, |r| r.tx.method.as_str());
    let statuses = col(rows, |r| r.tx.status.as_str());
    let masked = col(rows, |r| r.tx.identity_masked.clone());
    let names = col(rows, |r| r.tx.subject_name.clone());
    let codes = col(rows, |r| r.tx.error_code.clone());
    let messages = col(rows, |r| r.tx.message.clone());
    let references = col(rows, |r| r.tx.reference.clone());
    let profiles = col(rows, |r| r.tx.profile.clone());
    let texts = col(rows, |r| r.tx.sign_text.clone());
    let created = col(rows, |r| r.tx.created_at.clone());
    let updated = col(rows, |r| r.tx.updated_at.clone());
    let sdos = col(rows, |r| r.sdo.as_ref().map(|(b, _)| b.as_slice()));
    let hashes = col(rows, |r| r.sdo.as_ref().map(|(_, h)| h.as_str()));

    let tx = client.transaction().await.map_err(pg_error)?;
    let inserted = tx
        .execute(
            INSERT,
            &[
                &desk_id,
                &ids,
                &kinds,
                &methods,
                &statuses,
                &masked,
                &names,
                &codes,
                &messages,
                &references,
                &profiles,
                &texts,
                &created,
                &updated,
                &sdos,
                &hashes,
            ],
        )
        .await
        .map_err(pg_error)?;
    // Only a finished COMMIT lets the caller mark the rows sent.
    tx.commit().await.map_err(pg_error)?;
    Ok(inserted)
}
