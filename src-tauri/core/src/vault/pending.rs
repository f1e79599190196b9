//! Writes the vault owes (issue 23, item 4: no signature lost). When the evidence of a signature
//! cannot be written after the customer signed (disk full, a busy or failing database), or the
//! outcome of a flow cannot be recorded, the bytes and the event are kept here, in memory, and
//! written again by `retry_pending` (the app runs it every 15 s; a flow first tries a few times
//! itself). The row meanwhile says `evidence_pending`, which History shows.
//!
//! Memory is the one place a full disk cannot refuse. If the desk stops first, the row is marked
//! `interrupted` at the next start, and a Sign API v2 signature is fetched again from Signicat,
//! which still has it: the flow deletes nothing there until its evidence is on disk.

use std::path::Path;

use crate::flow::{Evidence, EvidenceKind, FlowEvent, FlowId, Subject};
use crate::{Error, Result};

use super::Vault;

/// One downloaded document waiting to be stored (`Vault::store_evidence`'s arguments).
#[derive(Debug, Clone)]
pub struct PendingPiece {
    pub kind: EvidenceKind,
    pub name: String,
    pub extension: &'static str,
    pub bytes: Vec<u8>,
}

/// What the vault still owes one flow.
#[derive(Debug, Clone)]
pub enum PendingWrite {
    /// A signature whose pieces (some, or all) are not stored yet; once they are, the row
    /// becomes `signed`.
    Signature {
        id: FlowId,
        subject: Subject,
        pieces: Vec<PendingPiece>,
    },
    /// A legacy Consent Signature's SDO, not stored yet; once it is, the row becomes `signed`.
    Sdo {
        id: FlowId,
        subject: Subject,
        bytes: Vec<u8>,
    },
    /// An event the vault could not record when it happened.
    Event { id: FlowId, event: FlowEvent },
}

impl PendingWrite {
    fn id(&self) -> &FlowId {
        match self {
            PendingWrite::Signature { id, .. }
            | PendingWrite::Sdo { id, .. }
            | PendingWrite::Event { id, .. } => id,
        }
    }
}

/// Free bytes for this user on the file system that holds `dir`; `None` where unknown.
pub fn available_space(dir: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        let s = rustix::fs::statvfs(dir).ok()?;
        Some(s.f_bavail.saturating_mul(s.f_frsize))
    }
    #[cfg(windows)]
    {
        id_desk_windows::available_space(dir).ok()
    }
    #[cfg(not(any(unix, windows)))]
    {
        let _ = dir;
        None
    }
}

impl Vault {
    /// Keeps `write` for `retry_pending`. Never fails: it touches no disk.
    pub fn hold_pending(&self, write: PendingWrite) {
        tracing::warn!(flow_id = %write.id(), "a vault write is kept in memory until it succeeds");
        if let Ok(mut p) = self.inner.pending.lock() {
            p.push(write);
        }
    }

    /// How many writes are owed.
    pub fn pending_count(&self) -> usize {
        self.inner.pending.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// Tries every owed write once; returns how many are done. Blocking (fsync, SQLite).
    pub fn retry_pending(&self) -> usize {
        let owed = match self.inner.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => return 0,
        };
        let mut done = 0;
        let mut still = Vec::new();
        for write in owed {
            match self.settle(&write) {
                Ok(()) => {
                    tracing::info!(flow_id = %write.id(), "an owed vault write is done");
                    done += 1;
                }
                Err(e) => {
                    tracing::warn!(flow_id = %write.id(), code = e.code(), error = %e, "an owed vault write failed again");
                    still.push(write);
                }
            }
        }
        if let Ok(mut p) = self.inner.pending.lock() {
            p.extend(still);
        }
        done
    }

    fn settle(&self, write: &PendingWrite) -> Result<()> {
        match write {
            PendingWrite::Event { id, event } => self.record(id, event),
            PendingWrite::Signature {
                id,
                subject,
                pieces,
            } => {
                let mut evidence: Vec<Evidence> = Vec::with_capacity(pieces.len());
                for p in pieces {
                    evidence.push(self.store_evidence(
                        id,
                        p.kind,
                        &p.name,
                        p.extension,
                        &p.bytes,
                    )?);
                }
                self.settle_signed(id, subject, &evidence)
            }
            PendingWrite::Sdo { id, subject, bytes } => {
                let sdo = self.store_sdo_again(id, bytes)?;
                self.settle_signed(id, subject, &[Evidence::ltv_sdo(sdo)])
            }
        }
    }

    /// `evidence_pending` (or `running`, when the outcome itself could not be recorded) becomes
    /// `signed` once every piece is stored; queued for the archive in the same transaction.
    fn settle_signed(&self, id: &FlowId, subject: &Subject, evidence: &[Evidence]) -> Result<()> {
        match self.get(id)?.status {
            super::TxStatus::Running => self.record(
                id,
                &FlowEvent::Signed {
                    subject: subject.clone(),
                    evidence: evidence.to_vec(),
                },
            ),
            _ => self.recover_signed_with(
                id,
                subject,
                evidence,
                "Signed; the evidence was saved after a delay",
            ),
        }
    }
}

/// `SignedEvidencePending` with the reason, for the flow's outcome.
pub fn pending_error(cause: &Error) -> Error {
    Error::SignedEvidencePending(cause.to_string())
}
