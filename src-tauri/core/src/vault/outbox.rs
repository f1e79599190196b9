//! The archive outbox (issue 17). When a transaction reaches its final status, the same SQLite
//! transaction that writes the status writes an outbox row: a crash can leave a final row without
//! its outbox row never, and the other way round never either. The archive task (`crate::archive`)
//! reads waiting rows, delivers them, and marks them sent only after the archive server committed
//! them. The local vault stays the source of truth: outbox rows are never deleted, and a row marked
//! sent is not sent again (a re-delivery after a crash is harmless: the archive ignores it).

use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::{db_err, now, Vault};
use crate::flow::FlowId;
use crate::vault::{Transaction, SELECT_TX};
use crate::Result;

/// Where one transaction stands with the archive (shown in History as "Archived ✓ / waiting (n)").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ArchiveMark {
    /// Queued; `attempts` deliveries were tried so far (0: none yet), the last one failed with
    /// `last_error`.
    Waiting {
        attempts: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_error: Option<String>,
        /// The profile whose archive the row is owed to, when it names one (review N-3): it goes
        /// nowhere else, so History says which profile must be active for it to leave.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        owed_to: Option<String>,
    },
    /// The archive server committed it at `at` (RFC 3339, as this desk's clock saw the commit).
    Archived { at: String },
}

/// The outbox at a glance (`id-desk-cli archive status`, Settings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxSummary {
    /// This desk's identity in the archive (with the transaction id, the delivery key).
    pub desk_id: String,
    pub waiting: u64,
    pub archived: u64,
    /// When the oldest waiting transaction was queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_waiting: Option<String>,
    /// The most recent delivery error among waiting rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// The archive a delivery goes to, as the outbox matches rows against it (review N-3): a row is
/// delivered only to the archive it was recorded for, and a row recorded without an archive (or
/// before rows named theirs) only to an archive of the profile that recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxTarget {
    /// [`crate::profile::ArchiveSettings::fingerprint`].
    pub fingerprint: String,
    /// The profile whose archive it is.
    pub profile: String,
}

/// Waiting rows owed to an archive other than the one delivering now, by the profile that
/// recorded them: the window says who they wait for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwedElsewhere {
    pub profile: Option<String>,
    pub waiting: u64,
}

/// The SQL condition "row `t` may go to target (?1 fingerprint, ?2 profile)". Rows from before
/// the vault recorded profiles name neither, and go to whichever archive comes first, as before.
const FOR_TARGET: &str = "(t.archive_target = ?1
    OR (t.archive_target IS NULL AND (t.profile IS NULL OR t.profile = ?2)))";

/// Called inside the SQLite transaction that gives `id` its final status. A Training row (the
/// built-in simulator's made-up customers) is never queued: practice must not reach a bank's
/// archive, whichever profile is active when the outbox is next delivered (review finding M-4).
pub(super) fn enqueue(conn: &Connection, id: &str, at: &str) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO archive_outbox (tx_id, queued_at)
         SELECT id, ?2 FROM transactions WHERE id = ?1 AND COALESCE(profile, '') <> ?3",
        params![id, at, super::TRAINING_PROFILE],
    )
    .map_err(db_err)?;
    Ok(())
}

/// The columns `SELECT_TX` joins in, read back into a mark (`None` for rows not queued: running).
pub(super) fn mark_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<ArchiveMark>> {
    let queued: Option<String> = r.get("outbox_tx")?;
    if queued.is_none() {
        return Ok(None);
    }
    let sent_at: Option<String> = r.get("outbox_sent_at")?;
    Ok(Some(match sent_at {
        Some(at) => ArchiveMark::Archived { at },
        None => ArchiveMark::Waiting {
            attempts: u32::try_from(r.get::<_, i64>("outbox_attempts")?).unwrap_or(u32::MAX),
            last_error: r.get("outbox_error")?,
            owed_to: match r.get::<_, Option<String>>("archive_target")? {
                Some(_) => r.get("profile")?,
                None => None,
            },
        },
    }))
}

impl Vault {
    /// This desk's identity in the archive, made once when the vault got its outbox.
    pub fn desk_id(&self) -> Result<String> {
        let conn = self.conn()?;
        conn.query_row("SELECT desk_id FROM desk WHERE one = 1", [], |r| r.get(0))
            .map_err(db_err)
    }

    /// Notified each time a transaction is queued for the archive.
    pub fn outbox_signal(&self) -> Arc<Notify> {
        self.inner.outbox_signal.clone()
    }

    /// Up to `limit` transactions waiting for `target`: the fewest failed attempts first, then
    /// the oldest (a row that keeps failing sinks behind the others instead of holding them up).
    pub fn outbox_waiting(&self, target: &OutboxTarget, limit: usize) -> Result<Vec<Transaction>> {
        let conn = self.conn()?;
        let sql = format!(
            "{SELECT_TX} WHERE o.tx_id IS NOT NULL AND o.sent_at IS NULL AND {FOR_TARGET}
             ORDER BY o.attempts, o.queued_at, o.rowid LIMIT {}",
            limit.min(i64::MAX as usize)
        );
        let mut st = conn.prepare(&sql).map_err(db_err)?;
        let rows = st
            .query_map(params![target.fingerprint, target.profile], |r| {
                Ok(self.row_to_tx(r).map_err(|e| Self::unreadable(r, &e)))
            })
            .map_err(db_err)?;
        let mut txs = Vec::new();
        let mut bad = Vec::new();
        for row in rows {
            match row.map_err(db_err)? {
                Ok(tx) => txs.push(tx),
                Err(u) => bad.push(u),
            }
        }
        drop(st);
        // A row that cannot be read is never shipped and never holds up the others: it counts a
        // failed attempt, so it sinks behind them, and History shows why.
        for u in bad {
            tracing::error!(flow_id = %u.id, error = %u.unreadable, "a vault row cannot be read");
            conn.execute(
                "UPDATE archive_outbox SET attempts = attempts + 1, last_error = ?2
                 WHERE tx_id = ?1",
                params![u.id, format!("unreadable: {}", u.unreadable)],
            )
            .map_err(db_err)?;
        }
        self.attach_evidence(&conn, &mut txs)?;
        Ok(txs)
    }

    /// Marks `ids` sent, in one SQLite transaction. Call only after the archive server committed
    /// them. Returns how many were still waiting.
    pub fn outbox_mark_sent(&self, ids: &[FlowId]) -> Result<usize> {
        let at = now();
        let conn = self.conn()?;
        let tx = conn.unchecked_transaction().map_err(db_err)?;
        let mut n = 0;
        {
            let mut st = tx
                .prepare(
                    "UPDATE archive_outbox SET sent_at = ?2, attempts = attempts + 1, last_error = NULL
                     WHERE tx_id = ?1 AND sent_at IS NULL",
                )
                .map_err(db_err)?;
            for id in ids {
                n += st.execute(params![id.as_str(), at]).map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)?;
        Ok(n)
    }

    /// Records a failed delivery attempt of `ids` (they stay waiting).
    pub fn outbox_mark_failed(&self, ids: &[FlowId], error: &str) -> Result<()> {
        let conn = self.conn()?;
        let tx = conn.unchecked_transaction().map_err(db_err)?;
        {
            let mut st = tx
                .prepare(
                    "UPDATE archive_outbox SET attempts = attempts + 1, last_error = ?2
                     WHERE tx_id = ?1 AND sent_at IS NULL",
                )
                .map_err(db_err)?;
            for id in ids {
                st.execute(params![id.as_str(), error]).map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)?;
        Ok(())
    }

    /// Waiting rows that `target` (the active profile's archive; `None` when it has none) may
    /// not receive, by recording profile.
    pub fn outbox_owed_elsewhere(
        &self,
        target: Option<&OutboxTarget>,
    ) -> Result<Vec<OwedElsewhere>> {
        let conn = self.conn()?;
        // Without an archive every waiting row is owed elsewhere.
        let (fingerprint, profile, elsewhere) = match target {
            Some(t) => (
                Some(t.fingerprint.as_str()),
                Some(t.profile.as_str()),
                format!("NOT COALESCE({FOR_TARGET}, 0)"),
            ),
            None => (None, None, "(?1 IS NULL AND ?2 IS NULL)".to_string()),
        };
        let mut st = conn
            .prepare(&format!(
                "SELECT t.profile, COUNT(*) FROM archive_outbox o JOIN transactions t ON t.id = o.tx_id
                 WHERE o.sent_at IS NULL AND {elsewhere}
                 GROUP BY t.profile ORDER BY t.profile"
            ))
            .map_err(db_err)?;
        let rows = st
            .query_map(params![fingerprint, profile], |r| {
                Ok(OwedElsewhere {
                    profile: r.get(0)?,
                    waiting: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                })
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
    }

    pub fn outbox_summary(&self) -> Result<OutboxSummary> {
        let desk_id = self.desk_id()?;
        let conn = self.conn()?;
        let (waiting, archived): (i64, i64) = conn
            .query_row(
                "SELECT COALESCE(SUM(sent_at IS NULL), 0), COALESCE(SUM(sent_at IS NOT NULL), 0)
                 FROM archive_outbox",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(db_err)?;
        let oldest_waiting: Option<String> = conn
            .query_row(
                "SELECT MIN(queued_at) FROM archive_outbox WHERE sent_at IS NULL",
                [],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        let last_error: Option<String> = conn
            .query_row(
                "SELECT last_error FROM archive_outbox
                 WHERE sent_at IS NULL AND last_error IS NOT NULL
                 ORDER BY attempts DESC, queued_at DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        Ok(OutboxSummary {
            desk_id,
            waiting: u64::try_from(waiting).unwrap_or(0),
            archived: u64::try_from(archived).unwrap_or(0),
            oldest_waiting,
            last_error,
        })
    }
}
