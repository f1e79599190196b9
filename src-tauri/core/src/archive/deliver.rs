//! One delivery: a batch of finished transactions, each with its SDO bytes and SHA-256, inserted
//! in one PostgreSQL transaction with `ON CONFLICT DO NOTHING` on (desk id, transaction id). A
//! batch sent twice (the desk died after the server's commit, before its own mark) changes
//! nothing the second time.

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use super::connect::pg_error;
use crate::flow::FlowId;
use crate::vault::{Transaction, Vault};
use crate::{Error, Result};

/// One transaction as the archive receives it.
pub(crate) struct Row {
    tx: Transaction,
    sdo: Option<(Vec<u8>, String)>,
    /// Sign API v2 evidence: (kind, bytes, SHA-256), in the vault's order.
    evidence: Vec<(&'static str, Vec<u8>, String)>,
}

impl Row {
    pub(crate) fn id(&self) -> &FlowId {
        &self.tx.id
    }
    /// The evidence bytes this row carries (the batch size is bounded by them).
    pub(crate) fn sdo_len(&self) -> usize {
        self.sdo.as_ref().map_or(0, |(b, _)| b.len())
            + self.evidence.iter().map(|(_, b, _)| b.len()).sum::<usize>()
    }
}

/// A stored file's bytes, refused when they no longer match the recorded hash.
fn read_checked(vault: &Vault, path: &str, sha256: &str, id: &FlowId) -> Result<(Vec<u8>, String)> {
    let bytes = vault.read_stored(Path::new(path))?;
    let sha = hex::encode(Sha256::digest(&bytes));
    if sha != sha256 {
        return Err(Error::EvidenceMismatch(format!("transaction {id}")));
    }
    Ok((bytes, sha))
}

/// Reads the SDO a row names and checks it against the recorded hash: evidence that no longer
/// matches is never shipped (and the archive's own check would refuse it). Blocking file I/O.
pub(crate) fn prepare(vault: &Vault, tx: Transaction) -> Result<Row> {
    let sdo = tx
        .sdo
        .as_ref()
        .map(|s| read_checked(vault, &s.path, &s.sha256, &tx.id))
        .transpose()?;
    let evidence = tx
        .evidence
        .iter()
        .map(|e| {
            let (bytes, sha) = read_checked(vault, &e.path, &e.sha256, &tx.id)?;
            Ok((e.kind.as_str(), bytes, sha))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Row { tx, sdo, evidence })
}

/// `ON CONFLICT DO NOTHING` without a conflict target: with one, PostgreSQL requires SELECT on
/// the table, which the desks' insert-only role does not have. The primary key is the only
/// unique constraint, so the effect is the same.
const INSERT: &str = "INSERT INTO id_desk_transactions (desk_id, tx_id, kind, method, status,
        identity_masked, subject_name, error_code, message, reference, profile, sign_text,
        created_at, updated_at, sdo, sdo_sha256, staff_user, desk_host, branch, app_version)
    SELECT $1, tx_id, kind, method, status, identity_masked, subject_name, error_code, message,
        reference, profile, sign_text, created_at::timestamptz, updated_at::timestamptz, sdo,
        sdo_sha256, staff_user, desk_host, branch, app_version
    FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
        $15::bytea[], $16::text[], $17::text[], $18::text[], $19::text[], $20::text[])
        AS u(tx_id, kind, method, status, identity_masked, subject_name, error_code, message,
        reference, profile, sign_text, created_at, updated_at, sdo, sdo_sha256, staff_user,
        desk_host, branch, app_version)
    ON CONFLICT DO NOTHING";

const INSERT_EVIDENCE: &str = "INSERT INTO id_desk_evidence (desk_id, tx_id, seq, kind, content,
        sha256)
    SELECT $1, tx_id, seq, kind, content, sha256
    FROM UNNEST($2::text[], $3::int[], $4::text[], $5::bytea[], $6::text[])
        AS u(tx_id, seq, kind, content, sha256)
    ON CONFLICT DO NOTHING";

/// What one delivery found, once the archive's commit is done.
#[derive(Debug, Default)]
pub(crate) struct Delivered {
    /// How many rows were new in the archive.
    pub inserted: u64,
    /// Rows the archive now holds as sent: new, or already there with the same status and
    /// evidence hash (a delivery repeated after a crash).
    pub done: Vec<FlowId>,
    /// Already there with other content: reported, never taken as archived.
    pub conflicts: Vec<(FlowId, String)>,
}

/// Sends `rows`; see [`Delivered`].
pub(crate) async fn send(client: &mut Client, desk_id: &str, rows: &[Row]) -> Result<Delivered> {
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
    let staff = col(rows, |r| r.tx.staff_user.clone());
    let hosts = col(rows, |r| r.tx.desk_host.clone());
    let branches = col(rows, |r| r.tx.branch.clone());
    let versions = col(rows, |r| r.tx.app_version.clone());

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
                &staff,
                &hosts,
                &branches,
                &versions,
            ],
        )
        .await
        .map_err(pg_error)?;
    // What the archive holds for these ids now, asked of `id_desk_archived` (the desk's role
    // has no SELECT): a row just inserted matches, a repeat of an earlier delivery matches, a
    // row held with other content is a conflict.
    let held: HashMap<String, (String, Option<String>)> = tx
        .query(
            "SELECT tx_id, status, sdo_sha256 FROM id_desk_archived($1, $2)",
            &[&desk_id, &ids],
        )
        .await
        .map_err(pg_error)?
        .iter()
        .map(|r| Ok((r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?))))
        .collect::<std::result::Result<_, tokio_postgres::Error>>()
        .map_err(pg_error)?;
    let mut delivered = Delivered {
        inserted,
        ..Delivered::default()
    };
    for r in rows {
        let ours = (
            r.tx.status.as_str(),
            r.sdo.as_ref().map(|(_, h)| h.as_str()),
        );
        match held.get(r.tx.id.as_str()) {
            Some((status, sha)) if (status.as_str(), sha.as_deref()) == ours => {
                delivered.done.push(r.tx.id.clone())
            }
            Some((status, _)) => delivered.conflicts.push((
                r.tx.id.clone(),
                format!(
                    "conflict: the archive holds this transaction with other content \
                     (status {status}, here {})",
                    ours.0
                ),
            )),
            None => delivered.conflicts.push((
                r.tx.id.clone(),
                "conflict: the archive took the row but does not hold it".into(),
            )),
        }
    }
    // Evidence goes with the rows this delivery inserted (and repeats of them: the same rows
    // and hashes); a conflicting row's evidence is never mixed into what the archive holds.
    let pieces: Vec<(&Row, usize)> = rows
        .iter()
        .filter(|r| !delivered.conflicts.iter().any(|(id, _)| id == &r.tx.id))
        .flat_map(|r| (0..r.evidence.len()).map(move |i| (r, i)))
        .collect();
    if !pieces.is_empty() {
        let ids: Vec<&str> = pieces.iter().map(|(r, _)| r.tx.id.as_str()).collect();
        let seqs: Vec<i32> = pieces
            .iter()
            .map(|(_, i)| i32::try_from(*i + 1).unwrap_or(i32::MAX))
            .collect();
        let kinds: Vec<&str> = pieces.iter().map(|(r, i)| r.evidence[*i].0).collect();
        let contents: Vec<&[u8]> = pieces
            .iter()
            .map(|(r, i)| r.evidence[*i].1.as_slice())
            .collect();
        let hashes: Vec<&str> = pieces
            .iter()
            .map(|(r, i)| r.evidence[*i].2.as_str())
            .collect();
        tx.execute(
            INSERT_EVIDENCE,
            &[&desk_id, &ids, &seqs, &kinds, &contents, &hashes],
        )
        .await
        .map_err(pg_error)?;
    }
    // Only a finished COMMIT lets the caller mark the rows sent.
    tx.commit().await.map_err(pg_error)?;
    Ok(delivered)
}
