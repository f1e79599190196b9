//! Retention (issue 23, item 2; review finding H-1): how long personal data stays on this desk.
//!
//! A finished transaction is purged, with its SDO or evidence files, its event trail and its
//! outbox row:
//! - `after_archive_days` after the central archive committed it;
//! - when the profile has no archive: `without_archive_days` after it ended if it verified or
//!   signed someone (evidence a bank keeps for the AML period), `unsuccessful_days` otherwise
//!   (failed, aborted, expired, cancelled or interrupted attempts, often people who never became
//!   customers);
//! - never while an archive is configured and has not yet taken it: evidence is never lost
//!   (Training rows are never queued for an archive, so they follow the no-archive periods).
//!
//! Each purge writes one `purge_log` line per transaction (no personal data), then deletes the
//! rows in one SQLite transaction, then the files. A purge stopped between the two finishes at the
//! next one, from the log.

use std::path::Path;

use rusqlite::{params, Connection};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::{db_err, now, TxKind, TxStatus, Vault};
use crate::flow::FlowId;
use crate::{Error, Result};

/// What the active profile's `[retention]` asks for, and whether it archives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgePolicy {
    pub after_archive_days: u32,
    pub without_archive_days: u32,
    pub unsuccessful_days: u32,
    /// With an archive, nothing leaves the desk before the archive has it.
    pub archive_configured: bool,
}

/// One transaction a purge removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Purged {
    pub id: FlowId,
    pub kind: TxKind,
    pub status: TxStatus,
    pub created_at: String,
    pub reason: String,
    pub files: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PurgeReport {
    pub dry_run: bool,
    pub purged: Vec<Purged>,
    /// Finished rows kept only because the archive does not have them yet.
    pub waiting_for_archive: usize,
    /// Files of earlier purges removed now (a purge that stopped half-way).
    pub leftover_files_removed: usize,
}

/// A line of the purge audit.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PurgeLogLine {
    pub at: String,
    pub tx_id: String,
    pub kind: String,
    pub method: String,
    pub status: String,
    pub created_at: String,
    pub reason: String,
    pub files: usize,
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

fn older_than(at: &str, days: u32, now: OffsetDateTime) -> bool {
    parse_time(at).is_some_and(|t| t + Duration::days(i64::from(days)) <= now)
}

struct Candidate {
    id: String,
    kind: String,
    method: String,
    status: TxStatus,
    created_at: String,
    updated_at: String,
    /// In the archive outbox (Training rows never are).
    queued: bool,
    /// Recorded by a profile with an `[archive]`: owed to it until sent.
    owed: bool,
    sent_at: Option<String>,
    sdo_path: Option<String>,
}

impl Candidate {
    fn waiting_for_archive(&self, archive_configured: bool) -> bool {
        self.queued && self.sent_at.is_none() && (self.owed || archive_configured)
    }
}

impl PurgePolicy {
    /// Why `c` goes now, or `None` to keep it.
    fn reason(&self, c: &Candidate, now: OffsetDateTime) -> Option<String> {
        if let Some(sent) = &c.sent_at {
            return older_than(sent, self.after_archive_days, now).then(|| {
                format!(
                    "in the central archive for more than {} days",
                    self.after_archive_days
                )
            });
        }
        // Owed to the archive it was recorded for: kept until delivered, whatever the active
        // profile says (review N-20: switching to a profile without an archive, or to Training,
        // must not purge what an outage left waiting).
        if c.waiting_for_archive(self.archive_configured) {
            return None;
        }
        let (days, what) = match c.status {
            TxStatus::Succeeded | TxStatus::Signed => (self.without_archive_days, "ended"),
            _ => (
                self.unsuccessful_days,
                "ended without an identity or signature",
            ),
        };
        older_than(&c.updated_at, days, now)
            .then(|| format!("{what} more than {days} days ago, no archive configured"))
    }
}

impl Vault {
    /// Applies `policy` at `now`. A dry run reports what would go and changes nothing.
    /// Blocking (SQLite, file deletes).
    pub fn purge(
        &self,
        policy: &PurgePolicy,
        now_at: OffsetDateTime,
        dry_run: bool,
    ) -> Result<PurgeReport> {
        let leftover_files_removed = if dry_run {
            0
        } else {
            self.remove_purged_files()?
        };
        let candidates = {
            let conn = self.conn()?;
            candidates(&conn)?
        };
        let mut purged = Vec::new();
        let mut waiting_for_archive = 0;
        for c in candidates {
            let Some(reason) = policy.reason(&c, now_at) else {
                if c.waiting_for_archive(policy.archive_configured) {
                    waiting_for_archive += 1;
                }
                continue;
            };
            let files = if dry_run {
                self.files_of(&c)?.len()
            } else {
                self.purge_one(&c, &reason)?
            };
            purged.push(Purged {
                id: FlowId::from(c.id.clone()),
                kind: if c.kind == "sign" {
                    TxKind::Sign
                } else {
                    TxKind::Auth
                },
                status: c.status,
                created_at: c.created_at,
                reason,
                files,
            });
        }
        if !dry_run {
            let removed = self.remove_purged_files()?;
            if !purged.is_empty() {
                tracing::info!(
                    transactions = purged.len(),
                    files = removed,
                    "purged by the retention policy"
                );
            }
        }
        Ok(PurgeReport {
            dry_run,
            purged,
            waiting_for_archive,
            leftover_files_removed,
        })
    }

    /// The purge audit, newest first.
    pub fn purge_log(&self, limit: usize) -> Result<Vec<PurgeLogLine>> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare(
                "SELECT at, tx_id, kind, method, status, created_at, reason, files
                 FROM purge_log ORDER BY seq DESC LIMIT ?1",
            )
            .map_err(db_err)?;
        let rows = st
            .query_map([limit.min(i64::MAX as usize) as i64], |r| {
                let files: String = r.get(7)?;
                Ok(PurgeLogLine {
                    at: r.get(0)?,
                    tx_id: r.get(1)?,
                    kind: r.get(2)?,
                    method: r.get(3)?,
                    status: r.get(4)?,
                    created_at: r.get(5)?,
                    reason: r.get(6)?,
                    files: serde_json::from_str::<Vec<String>>(&files).map_or(0, |f| f.len()),
                })
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    /// The vault files of a transaction, as `sdo/NAME` or `evidence/NAME`.
    fn files_of(&self, c: &Candidate) -> Result<Vec<String>> {
        let conn = self.conn()?;
        let mut files: Vec<String> = c
            .sdo_path
            .iter()
            .map(|p| format!("{}/{p}", super::SDO_DIR))
            .collect();
        let mut st = conn
            .prepare("SELECT file FROM evidence WHERE tx_id = ?1 ORDER BY seq")
            .map_err(db_err)?;
        let rows = st
            .query_map([&c.id], |r| r.get::<_, String>(0))
            .map_err(db_err)?;
        for f in rows {
            files.push(format!("{}/{}", super::EVIDENCE_DIR, f.map_err(db_err)?));
        }
        Ok(files)
    }

    /// The audit line and the deletes, in one SQLite transaction. Returns how many files the
    /// transaction had (removed after the commit).
    fn purge_one(&self, c: &Candidate, reason: &str) -> Result<usize> {
        let files = self.files_of(c)?;
        let conn = self.conn()?;
        let tx = conn.unchecked_transaction().map_err(db_err)?;
        // Re-check under the write lock: a row that changed since it was read is left for later.
        let still: i64 = tx
            .query_row(
                "SELECT count(*) FROM transactions WHERE id = ?1 AND updated_at = ?2",
                params![c.id, c.updated_at],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        if still == 0 {
            return Ok(0);
        }
        tx.execute(
            "INSERT INTO purge_log (at, tx_id, kind, method, status, created_at, reason, files)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                now(),
                c.id,
                c.kind,
                c.method,
                c.status.as_str(),
                c.created_at,
                reason,
                serde_json::to_string(&files).map_err(|e| Error::Vault(e.to_string()))?
            ],
        )
        .map_err(db_err)?;
        for sql in [
            "DELETE FROM evidence WHERE tx_id = ?1",
            "DELETE FROM transaction_events WHERE tx_id = ?1",
            "DELETE FROM archive_outbox WHERE tx_id = ?1",
            "DELETE FROM transactions WHERE id = ?1",
        ] {
            tx.execute(sql, [&c.id]).map_err(db_err)?;
        }
        tx.commit().map_err(db_err)?;
        Ok(files.len())
    }

    /// Removes the files the purge log lists and has not yet marked removed; returns how many
    /// were still there.
    fn remove_purged_files(&self) -> Result<usize> {
        let pending: Vec<(i64, String)> = {
            let conn = self.conn()?;
            let mut st = conn
                .prepare("SELECT seq, files FROM purge_log WHERE files_removed_at IS NULL")
                .map_err(db_err)?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db_err)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db_err)?
        };
        let mut removed = 0;
        for (seq, files) in pending {
            let files: Vec<String> = serde_json::from_str(&files).unwrap_or_default();
            for f in &files {
                if let Some(path) = self.purged_file_path(f) {
                    match std::fs::remove_file(&path) {
                        Ok(()) => removed += 1,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            return Err(Error::Vault(format!(
                                "cannot remove purged {}: {e}",
                                path.display()
                            )))
                        }
                    }
                }
            }
            self.conn()?
                .execute(
                    "UPDATE purge_log SET files_removed_at = ?2 WHERE seq = ?1",
                    params![seq, now()],
                )
                .map_err(db_err)?;
        }
        Ok(removed)
    }

    /// `sdo/NAME` or `evidence/NAME` inside this vault; anything else (a log line edited to point
    /// elsewhere) is ignored.
    fn purged_file_path(&self, rel: &str) -> Option<std::path::PathBuf> {
        let (dir, name) = rel.split_once('/')?;
        let ok_name = !name.is_empty()
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok_name {
            return None;
        }
        let base: &Path = match dir {
            super::SDO_DIR => &self.inner.sdo_dir,
            super::EVIDENCE_DIR => &self.inner.evidence_dir,
            _ => return None,
        };
        Some(base.join(name))
    }
}

/// Every finished row, with its archive mark. A row whose status this build does not know is
/// not a candidate (it is shown as unreadable, never deleted unseen).
fn candidates(conn: &Connection) -> Result<Vec<Candidate>> {
    let mut st = conn
        .prepare(
            "SELECT t.id, t.kind, t.method, t.status, t.created_at, t.updated_at, o.sent_at,
                    t.sdo_path, o.tx_id IS NOT NULL, t.archive_target IS NOT NULL
             FROM transactions t LEFT JOIN archive_outbox o ON o.tx_id = t.id
             WHERE t.status <> 'running'",
        )
        .map_err(db_err)?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, bool>(8)?,
                r.get::<_, bool>(9)?,
            ))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let Ok((id, kind, method, status, created_at, updated_at, sent_at, sdo_path, queued, owed)) =
            row
        else {
            continue;
        };
        let Some(status) = TxStatus::parse(&status).filter(|s| s.is_final()) else {
            continue;
        };
        out.push(Candidate {
            id,
            kind,
            method,
            status,
            created_at,
            updated_at,
            queued,
            owed,
            sent_at,
            sdo_path,
        });
    }
    Ok(out)
}
