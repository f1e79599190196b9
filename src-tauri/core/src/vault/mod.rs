//! The evidence vault: a SQLite database with one row per flow (authentication or signature) and,
//! for signatures, the SDO files stored verbatim next to it (`sdo/<flow id>.xml`) with their SHA-256.
//! Both are encrypted at rest with a key from the OS keyring, and owner-only on disk (`at_rest`).
//!
//! Rules it keeps: a row exists before the flow's first request and follows every transition; a
//! final status never changes; the SDO is on disk (fsynced, renamed, directory fsynced) before the
//! flow may say `signed`; rows left `running` by a process that died are marked `interrupted` when
//! the vault is next opened, so nothing disappears. No secret is ever written here, and no full
//! national identity number is written by us: rows hold masked numbers only. The one exception is
//! the SDO itself, Signicat's signed evidence, which names the signer and is kept byte for byte.

mod at_rest;
mod durable_file;
mod instance_lock;
mod model;
mod outbox;
mod pending;
mod retention;
mod schema;
mod workstation;

pub use model::{
    HistoryEntry, ListFilter, NewTransaction, Transaction, TxEvent, TxKind, TxStatus, UnreadableRow,
};
pub use outbox::{ArchiveMark, OutboxSummary, OutboxTarget, OwedElsewhere};
pub use pending::{available_space, pending_error, PendingPiece, PendingWrite};
pub use retention::{PurgeLogLine, PurgePolicy, PurgeReport, Purged};
pub use workstation::Workstation;

use crate::flow::{Evidence, EvidenceKind, FlowEvent, FlowId, Method, SdoRef, Subject};
use crate::{Error, Result};
use durable_file::Existing;
use instance_lock::InstanceLock;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// `Failed` codes that mean the customer said no in the BankID app: cancelled, or said they are
/// not in a call with us (stored as `aborted`).
pub const CUSTOMER_ABORTED_CODES: &[&str] = &["customer_aborted", crate::flow::USER_DECLINED_CALL];

/// The built-in Training profile's name (`profile::TRAINING`; spelt here so the vault does not
/// depend on the profile module, and a test keeps the two equal).
pub const TRAINING_PROFILE: &str = "training";

const DB_FILE: &str = "vault.sqlite3";
const SDO_DIR: &str = "sdo";
const EVIDENCE_DIR: &str = "evidence";
const INSTANCES_DIR: &str = "instances";

/// Every read of a transaction: the row with its archive outbox state (see `outbox::mark_of`).
const SELECT_TX: &str = "SELECT t.*, o.tx_id AS outbox_tx, o.attempts AS outbox_attempts,
        o.last_error AS outbox_error, o.sent_at AS outbox_sent_at
    FROM transactions t LEFT JOIN archive_outbox o ON o.tx_id = t.id";

/// A handle on the vault. Cheap to clone; all clones share one connection.
#[derive(Clone)]
pub struct Vault {
    inner: Arc<Inner>,
}

struct Inner {
    conn: Mutex<Connection>,
    dir: PathBuf,
    sdo_dir: PathBuf,
    evidence_dir: PathBuf,
    instances_dir: PathBuf,
    lock: InstanceLock,
    /// Seals and opens the evidence files with the vault's key.
    sealer: at_rest::Sealer,
    /// Writes owed after a failure (see `pending`).
    pending: Mutex<Vec<PendingWrite>>,
    interrupted_on_open: usize,
    outbox_signal: Arc<tokio::sync::Notify>,
    /// Written on every new row (who did what, issue 24).
    workstation: std::sync::RwLock<Workstation>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

fn db_err(e: rusqlite::Error) -> Error {
    Error::Vault(e.to_string())
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// History's line for a signature whose answer named no signer.
fn unnamed_signer(locked_to: &str) -> String {
    format!(
        "signed; Signicat's answer names no signer: the session was locked to {locked_to}, \
         which Signicat enforces"
    )
}

/// A run of 7+ digits cannot be a masked number (masks keep at most 6 digits).
fn looks_unmasked(s: &str) -> bool {
    let mut run = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 7 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// Flow ids become file names: only letters, digits, `-` and `_`.
fn file_safe_id(id: &FlowId) -> Result<&str> {
    let s = id.as_str();
    if s.is_empty()
        || s.len() > 100
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::invalid_input(
            "flow_id",
            "must be letters, digits, '-' or '_'",
        ));
    }
    Ok(s)
}

fn parse_method(s: &str) -> Option<Method> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

fn event_type(ev: &FlowEvent) -> &'static str {
    match ev {
        FlowEvent::Started { .. } => "started",
        FlowEvent::BindingMessage { .. } => "binding_message",
        FlowEvent::Qr { .. } => "qr",
        FlowEvent::AppLaunch { .. } => "app_launch",
        FlowEvent::Redirect { .. } => "redirect",
        FlowEvent::SignatureUrl { .. } => "signature_url",
        FlowEvent::Progress { .. } => "progress",
        FlowEvent::Succeeded { .. } => "succeeded",
        FlowEvent::Signed { .. } => "signed",
        FlowEvent::Failed { .. } => "failed",
        FlowEvent::Cancelled => "cancelled",
        FlowEvent::Expired => "expired",
    }
}

impl Vault {
    /// Opens (creating if needed) the vault in `dir`, migrates the schema and marks rows left
    /// `running` by dead processes as `interrupted` (see [`Vault::interrupted_on_open`]).
    pub fn open(dir: &Path) -> Result<Vault> {
        let sdo_dir = dir.join(SDO_DIR);
        let evidence_dir = dir.join(EVIDENCE_DIR);
        let instances_dir = dir.join(INSTANCES_DIR);
        for d in [dir, &sdo_dir, &evidence_dir, &instances_dir] {
            crate::private_fs::private_dir(d)?;
        }
        let db = dir.join(DB_FILE);
        // Key creation and the one-time encryption of a plain vault run one process at a time.
        let open_lock = at_rest::OpenLock::acquire(dir)?;
        // The one-time encryption replaces the database file: never while another desk, which
        // may be an older version that knows nothing of `.open.lock`, has it open (review N-6).
        if at_rest::needs_migration(&db)? && instance_lock::alive_count(&instances_dir) > 0 {
            return Err(at_rest::still_open_elsewhere());
        }
        let key = at_rest::obtain_key(dir, &db)?;
        at_rest::migrate_database(dir, &db, &key)?;
        let sealer = at_rest::sealer_for(&key)?;
        let mut conn = at_rest::open_database(&db, &key)?;
        drop(key);
        schema::configure(&conn)?;
        schema::migrate(&mut conn)?;
        // Files from before encryption at rest are sealed once; recorded, so that afterwards a
        // file in clear is refused instead of sealed and trusted (review N-15). A run cut short
        // is finished at the next open.
        let sealed: bool = conn
            .query_row("SELECT files_sealed FROM desk WHERE one = 1", [], |r| {
                r.get(0)
            })
            .map_err(db_err)?;
        if !sealed {
            at_rest::migrate_files(&sdo_dir, &sealer)?;
            at_rest::migrate_files(&evidence_dir, &sealer)?;
            conn.execute("UPDATE desk SET files_sealed = 1 WHERE one = 1", [])
                .map_err(db_err)?;
        }
        sealer.refuse_unsealed();
        at_rest::restrict_side_files(&db)?;
        drop(open_lock);
        let lock = InstanceLock::acquire(&instances_dir)?;
        let mut vault = Vault {
            inner: Arc::new(Inner {
                conn: Mutex::new(conn),
                dir: dir.to_path_buf(),
                sdo_dir,
                evidence_dir,
                instances_dir,
                lock,
                sealer,
                pending: Mutex::new(Vec::new()),
                interrupted_on_open: 0,
                outbox_signal: Arc::new(tokio::sync::Notify::new()),
                workstation: std::sync::RwLock::new(Workstation::current()),
            }),
        };
        let count = vault.mark_interrupted()?;
        if let Some(inner) = Arc::get_mut(&mut vault.inner) {
            inner.interrupted_on_open = count;
        }
        instance_lock::remove_dead(&vault.inner.instances_dir, vault.inner.lock.id());
        Ok(vault)
    }

    /// The OS keyring account (service `id-desk`) that holds the key of the vault in `dir`.
    pub fn key_account(dir: &Path) -> String {
        at_rest::key_account(dir)
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// How many rows `open` marked `interrupted` (to tell staff at start).
    pub fn interrupted_on_open(&self) -> usize {
        self.inner.interrupted_on_open
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        self.inner
            .conn
            .lock()
            .map_err(|_| Error::Vault("vault connection poisoned by an earlier panic".into()))
    }

    /// Marks every `running` row whose process is no longer alive as `interrupted`; returns how
    /// many. Rows of this process and of other live processes are left alone.
    pub fn mark_interrupted(&self) -> Result<usize> {
        let conn = self.conn()?;
        let own = self.inner.lock.id();
        let instances: Vec<Option<String>> = {
            let mut st = conn
                .prepare(
                    "SELECT DISTINCT instance FROM transactions
                     WHERE status IN ('running', 'evidence_pending')",
                )
                .map_err(db_err)?;
            let rows = st.query_map([], |r| r.get(0)).map_err(db_err)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db_err)?
        };
        let at = now();
        let mut count = 0;
        for instance in instances {
            let dead = match &instance {
                Some(id) if id == own => false,
                Some(id) => !instance_lock::is_alive(&self.inner.instances_dir, id)?,
                None => true,
            };
            if !dead {
                continue;
            }
            let ids: Vec<String> = {
                let mut st = conn
                    .prepare(
                        "SELECT id FROM transactions
                         WHERE status IN ('running', 'evidence_pending') AND instance IS ?1",
                    )
                    .map_err(db_err)?;
                let rows = st.query_map([&instance], |r| r.get(0)).map_err(db_err)?;
                rows.collect::<rusqlite::Result<_>>().map_err(db_err)?
            };
            for id in ids {
                // The final status and its archive outbox row commit together.
                let tx = conn.unchecked_transaction().map_err(db_err)?;
                self.recover_orphan_sdo(&tx, &id)?;
                // A Sign API v2 signature the customer may have completed waits for the desk to
                // ask Signicat (`recover_signed`/`release_recovery`) before it is archived.
                let awaits_recovery: bool = tx
                    .query_row(
                        "SELECT method IN ('sign_sbid_phone', 'sign_link') AND reference IS NOT NULL
                         FROM transactions WHERE id = ?1",
                        [&id],
                        |r| r.get(0),
                    )
                    .map_err(db_err)?;
                let changed = tx
                    .execute(
                        "UPDATE transactions SET status = 'interrupted', error_code = 'interrupted',
                            message = CASE status WHEN 'evidence_pending'
                                THEN 'The customer signed; ID Desk stopped before the evidence was saved'
                                ELSE 'ID Desk stopped while this flow was running; check the outcome with the customer' END,
                            updated_at = ?1
                         WHERE id = ?2 AND status IN ('running', 'evidence_pending')",
                        params![at, id],
                    )
                    .map_err(db_err)?;
                if changed > 0 && !awaits_recovery {
                    outbox::enqueue(&tx, &id, &at)?;
                }
                tx.commit().map_err(db_err)?;
                count += changed;
            }
        }
        if count > 0 {
            self.inner.outbox_signal.notify_one();
        }
        Ok(count)
    }

    /// A process killed between renaming an SDO into place and recording it leaves a file the row
    /// does not name. Attach it, so the evidence is listed, verifiable and exportable.
    fn recover_orphan_sdo(&self, conn: &Connection, id: &str) -> Result<()> {
        let known: Option<String> = conn
            .query_row(
                "SELECT sdo_path FROM transactions WHERE id = ?1 AND kind = 'sign'",
                [id],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?
            .flatten();
        let name = format!("{id}.xml");
        let path = self.inner.sdo_dir.join(&name);
        if known.is_some() || !path.is_file() {
            return Ok(());
        }
        // A file the desk did not seal is not its evidence (review N-15): left unattached, and
        // the vault still opens.
        let (sha, bytes) = match self.hash_stored(&path) {
            Ok(found) => found,
            Err(e) => {
                tracing::warn!(flow_id = id, code = e.code(), error = %e, "a file in the vault is not attached");
                return Ok(());
            }
        };
        tracing::warn!(
            flow_id = id,
            "attaching an SDO stored just before ID Desk stopped"
        );
        conn.execute(
            "UPDATE transactions SET sdo_path = ?2, sdo_sha256 = ?3, sdo_bytes = ?4
             WHERE id = ?1 AND kind = 'sign' AND sdo_path IS NULL",
            params![id, name, sha, bytes as i64],
        )
        .map_err(db_err)?;
        Ok(())
    }

    /// Who and where this vault's new rows say they were made.
    pub fn workstation(&self) -> Workstation {
        self.inner
            .workstation
            .read()
            .map(|w| w.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// The branch label new rows carry (policy's; `None` for none).
    pub fn set_branch(&self, branch: Option<String>) {
        let mut w = self
            .inner
            .workstation
            .write()
            .unwrap_or_else(|e| e.into_inner());
        w.branch = branch;
    }

    /// Writes the row for a new flow. Call before the flow's first request.
    pub fn begin(&self, tx: &NewTransaction) -> Result<()> {
        file_safe_id(&tx.id)?;
        if let Some(m) = &tx.identity_masked {
            if looks_unmasked(m) {
                return Err(Error::invalid_input(
                    "identity_masked",
                    "the vault only stores masked identity numbers",
                ));
            }
        }
        let at = now();
        let who = self.workstation();
        let conn = self.conn()?;
        conn.execute(
            "INSERT INTO transactions (id, kind, method, identity_masked, status, created_at,
                updated_at, profile, sign_text, instance, staff_user, desk_host, branch,
                app_version, archive_target)
             VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            params![
                tx.id.as_str(),
                TxKind::of(tx.method).as_str(),
                tx.method.as_str(),
                tx.identity_masked,
                at,
                tx.profile,
                tx.sign_text,
                self.inner.lock.id(),
                who.os_user,
                who.host,
                who.branch,
                who.app_version,
                tx.archive_target,
            ],
        )
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Error::Vault(format!("transaction {} already exists", tx.id))
            }
            other => db_err(other),
        })?;
        Self::append_event(&conn, &tx.id, &at, "begin", Some(TxStatus::Running), None)?;
        Ok(())
    }

    /// Records Signicat's reference for the flow (REST session id, sbid orderRef, ...).
    /// As [`Vault::set_reference`] for a signing session, with what the flow asked for (who, and
    /// the documents' digests: `sign::SignExpectation` as JSON), in one write.
    pub fn set_sign_reference(&self, id: &FlowId, reference: &str, expected: &str) -> Result<()> {
        let conn = self.conn()?;
        let n = conn
            .execute(
                "UPDATE transactions SET reference = ?2, sign_expected = ?3, updated_at = ?4
                 WHERE id = ?1",
                params![id.as_str(), reference, expected, now()],
            )
            .map_err(db_err)?;
        if n == 0 {
            return Err(Error::NotFound(format!("transaction {id}")));
        }
        Ok(())
    }

    /// What [`Vault::set_sign_reference`] kept for `id`; `None` for rows from before it did.
    pub fn sign_expected(&self, id: &FlowId) -> Result<Option<String>> {
        let conn = self.conn()?;
        conn.query_row(
            "SELECT sign_expected FROM transactions WHERE id = ?1",
            [id.as_str()],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)
        .map(Option::flatten)
    }

    pub fn set_reference(&self, id: &FlowId, reference: &str) -> Result<()> {
        let conn = self.conn()?;
        let n = conn
            .execute(
                "UPDATE transactions SET reference = ?2, updated_at = ?3 WHERE id = ?1",
                params![id.as_str(), reference, now()],
            )
            .map_err(db_err)?;
        if n == 0 {
            return Err(Error::NotFound(format!("transaction {id}")));
        }
        Ok(())
    }

    /// Applies one flow event to the row. Events after a final status are ignored (the first
    /// outcome stands). QR payloads are not kept: they change every second and prove nothing.
    pub fn record(&self, id: &FlowId, ev: &FlowEvent) -> Result<()> {
        if matches!(ev, FlowEvent::Qr { .. }) {
            return Ok(());
        }
        let at = now();
        let conn = self.conn()?;
        let current: Option<(String, Option<String>)> = conn
            .query_row(
                "SELECT status, sdo_sha256 FROM transactions WHERE id = ?1",
                [id.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err)?;
        let Some((status, stored_sha)) = current else {
            return Err(Error::NotFound(format!("transaction {id}")));
        };
        if TxStatus::parse(&status).is_none_or(TxStatus::is_final) {
            return Ok(());
        }
        // A signature whose answer names nobody says so in History (review N-12).
        let unnamed_note = match ev {
            FlowEvent::Signed { subject, .. } => subject.locked_to.as_deref().map(unnamed_signer),
            _ => None,
        };
        let (new_status, code, message, subject): (
            TxStatus,
            Option<&str>,
            Option<&str>,
            Option<&Subject>,
        ) = match ev {
            FlowEvent::Started { .. } | FlowEvent::Qr { .. } => {
                (TxStatus::Running, None, None, None)
            }
            FlowEvent::AppLaunch { .. }
            | FlowEvent::Redirect { .. }
            | FlowEvent::SignatureUrl { .. } => (TxStatus::Running, None, None, None),
            FlowEvent::BindingMessage { text } => (TxStatus::Running, None, Some(text), None),
            FlowEvent::Progress { message, .. } => (TxStatus::Running, None, Some(message), None),
            FlowEvent::Succeeded { subject } => (TxStatus::Succeeded, None, None, Some(subject)),
            FlowEvent::Signed { subject, evidence } => {
                // `signed` may only follow a durable store of exactly those files.
                let stored = Self::evidence_hashes(&conn, id)?;
                let all_stored = !evidence.is_empty()
                    && evidence.iter().all(|e| {
                        stored_sha.as_deref() == Some(e.sha256.as_str())
                            || stored.contains(&e.sha256)
                    });
                if !all_stored {
                    return Err(Error::Vault(format!(
                        "transaction {id} reports a signature whose evidence is not stored"
                    )));
                }
                (
                    TxStatus::Signed,
                    None,
                    unnamed_note.as_deref(),
                    Some(subject),
                )
            }
            FlowEvent::Failed { code, message } => {
                let st = if CUSTOMER_ABORTED_CODES.contains(&code.as_str()) {
                    TxStatus::Aborted
                } else if code == "signed_evidence_pending" {
                    TxStatus::EvidencePending
                } else {
                    TxStatus::Failed
                };
                (st, Some(code), Some(message), None)
            }
            FlowEvent::Cancelled => (TxStatus::Cancelled, None, None, None),
            FlowEvent::Expired => (TxStatus::Expired, None, None, None),
        };
        let subject_name = subject.map(|s| s.name.as_str()).filter(|n| !n.is_empty());
        // Only the masked number; the full one never reaches the disk.
        let subject_masked = subject.and_then(|s| s.nin_masked.as_deref());
        // A final status and its archive outbox row commit in one SQLite transaction.
        let tx = conn.unchecked_transaction().map_err(db_err)?;
        let changed = tx
            .execute(
                "UPDATE transactions SET status = ?2,
                error_code = COALESCE(?3, error_code),
                message = CASE WHEN ?8 THEN ?4 ELSE COALESCE(?4, message) END,
                subject_name = COALESCE(?5, subject_name),
                identity_masked = COALESCE(?6, identity_masked),
                updated_at = ?7
             WHERE id = ?1 AND status = 'running'",
                params![
                    id.as_str(),
                    new_status.as_str(),
                    code,
                    message,
                    subject_name,
                    subject_masked.filter(|m| !looks_unmasked(m)),
                    at,
                    // A finished row keeps only its outcome's own text: "Signed" must not sit
                    // above "An identification or signing is in progress." (issue 24).
                    new_status.is_final()
                ],
            )
            .map_err(db_err)?;
        let queued = changed > 0 && new_status.is_final();
        if queued {
            outbox::enqueue(&tx, id.as_str(), &at)?;
        }
        Self::append_event(&tx, id, &at, event_type(ev), Some(new_status), message)?;
        tx.commit().map_err(db_err)?;
        if queued {
            self.inner.outbox_signal.notify_one();
        }
        Ok(())
    }

    fn append_event(
        conn: &Connection,
        id: &FlowId,
        at: &str,
        event_type: &str,
        status: Option<TxStatus>,
        message: Option<&str>,
    ) -> Result<()> {
        conn.execute(
            "INSERT INTO transaction_events (tx_id, seq, at, event_type, status, message)
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM transaction_events WHERE tx_id = ?1),
                     ?2, ?3, ?4, ?5)",
            params![id.as_str(), at, event_type, status.map(TxStatus::as_str), message],
        )
        .map_err(db_err)?;
        Ok(())
    }

    /// Stores a signature's SDO durably and records it on the row. Returns where it is. Must
    /// complete before the flow emits `signed`. Blocking (fsync): call it from `spawn_blocking`
    /// in async code.
    pub fn store_sdo(&self, id: &FlowId, bytes: &[u8]) -> Result<SdoRef> {
        let name = format!("{}.xml", file_safe_id(id)?);
        {
            let conn = self.conn()?;
            let row: Option<(String, Option<String>)> = conn
                .query_row(
                    "SELECT kind, sdo_path FROM transactions WHERE id = ?1",
                    [id.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db_err)?;
            match row {
                None => return Err(Error::NotFound(format!("transaction {id}"))),
                Some((kind, _)) if kind != TxKind::Sign.as_str() => {
                    return Err(Error::Vault(format!("transaction {id} is not a signature")))
                }
                Some((_, Some(_))) => {
                    return Err(Error::Vault(format!(
                        "transaction {id} already has its evidence stored"
                    )))
                }
                Some(_) => {}
            }
        }
        // The file write happens without holding the connection: other flows keep recording.
        let sealed = self.inner.sealer.seal(&name, bytes)?;
        durable_file::write_durably(&self.inner.sdo_dir, &name, &sealed, Existing::Refuse)?;
        let path = self.inner.sdo_dir.join(&name);
        let sdo = SdoRef {
            path: path.to_string_lossy().into_owned(),
            sha256: durable_file::sha256_hex(bytes),
            bytes: bytes.len() as u64,
        };
        let at = now();
        let conn = self.conn()?;
        conn.execute(
            "UPDATE transactions SET sdo_path = ?2, sdo_sha256 = ?3, sdo_bytes = ?4, updated_at = ?5
             WHERE id = ?1",
            params![id.as_str(), name, sdo.sha256, sdo.bytes as i64, at],
        )
        .map_err(db_err)?;
        Self::append_event(&conn, id, &at, "sdo_stored", None, None)?;
        Ok(sdo)
    }

    /// [`Vault::store_sdo`] for a write that may have been tried before: a file an earlier
    /// attempt wrote before its row update failed is attached first (and returned, when its
    /// bytes are these), so a retry neither fails on the file nor writes it twice.
    pub fn store_sdo_again(&self, id: &FlowId, bytes: &[u8]) -> Result<SdoRef> {
        {
            let conn = self.conn()?;
            self.recover_orphan_sdo(&conn, id.as_str())?;
        }
        match self.get(id)?.sdo {
            Some(sdo) if sdo.sha256 == durable_file::sha256_hex(bytes) => Ok(sdo),
            Some(_) => Err(Error::Vault(format!(
                "transaction {id} already has other evidence stored"
            ))),
            None => self.store_sdo(id, bytes),
        }
    }

    /// Stores one Sign API v2 result document durably and records it on the row; returns where it
    /// is. Every piece must be stored before the flow emits `signed`. `name` is a stable name for
    /// this document within the transaction (Signicat's result document id): storing the same
    /// bytes under it again (a recovered flow fetching its result once more) returns the stored
    /// piece, while other bytes under it are refused. Blocking (fsync).
    pub fn store_evidence(
        &self,
        id: &FlowId,
        kind: EvidenceKind,
        name: &str,
        extension: &str,
        bytes: &[u8],
    ) -> Result<Evidence> {
        let safe = |s: &str| {
            !s.is_empty()
                && s.len() <= 100
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if !safe(name) || !safe(extension) {
            return Err(Error::Protocol(
                "a result document id is not usable as a file name".into(),
            ));
        }
        let file = format!("{}-{name}.{extension}", file_safe_id(id)?);
        let sha256 = durable_file::sha256_hex(bytes);
        let path = self.inner.evidence_dir.join(&file);
        let piece = Evidence {
            kind,
            path: path.to_string_lossy().into_owned(),
            sha256: sha256.clone(),
            bytes: bytes.len() as u64,
        };
        {
            let conn = self.conn()?;
            let kind_of_row: Option<String> = conn
                .query_row(
                    "SELECT kind FROM transactions WHERE id = ?1",
                    [id.as_str()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            match kind_of_row {
                None => return Err(Error::NotFound(format!("transaction {id}"))),
                Some(k) if k != TxKind::Sign.as_str() => {
                    return Err(Error::Vault(format!("transaction {id} is not a signature")))
                }
                Some(_) => {}
            }
            let known: Option<String> = conn
                .query_row(
                    "SELECT sha256 FROM evidence WHERE file = ?1",
                    [&file],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            match known {
                Some(sha) if sha == sha256 => return Ok(piece),
                Some(_) => {
                    return Err(Error::EvidenceMismatch(format!(
                        "transaction {id}: {name} was stored with other bytes"
                    )))
                }
                None => {}
            }
        }
        // A file left by a process killed before it recorded the row: the same bytes are kept,
        // other bytes are never overwritten.
        let on_disk = path
            .is_file()
            .then(|| self.hash_stored(&path))
            .transpose()?;
        match on_disk {
            Some((sha, _)) if sha == sha256 => {}
            Some(_) => {
                return Err(Error::EvidenceMismatch(format!(
                    "transaction {id}: {file} already holds other bytes"
                )))
            }
            None => durable_file::write_durably(
                &self.inner.evidence_dir,
                &file,
                &self.inner.sealer.seal(&file, bytes)?,
                Existing::Refuse,
            )?,
        }
        let at = now();
        let conn = self.conn()?;
        let tx = conn.unchecked_transaction().map_err(db_err)?;
        tx.execute(
            "INSERT INTO evidence (tx_id, seq, kind, file, sha256, bytes, stored_at)
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM evidence WHERE tx_id = ?1),
                     ?2, ?3, ?4, ?5, ?6)",
            params![
                id.as_str(),
                kind.as_str(),
                file,
                sha256,
                bytes.len() as i64,
                at
            ],
        )
        .map_err(db_err)?;
        Self::append_event(&tx, id, &at, "evidence_stored", None, Some(kind.as_str()))?;
        tx.commit().map_err(db_err)?;
        Ok(piece)
    }

    /// Sign API v2 signatures of `profile` that ended `interrupted` (the desk stopped while they
    /// ran) and are not archived yet: `(transaction, Signicat's signing session id)`.
    pub fn signatures_to_recover(&self, profile: &str) -> Result<Vec<(FlowId, String)>> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare(
                "SELECT t.id, t.reference FROM transactions t
                 LEFT JOIN archive_outbox o ON o.tx_id = t.id
                 WHERE t.status = 'interrupted' AND t.method IN ('sign_sbid_phone', 'sign_link')
                   AND t.reference IS NOT NULL AND t.profile IS ?1 AND o.tx_id IS NULL
                 ORDER BY t.created_at",
            )
            .map_err(db_err)?;
        let rows = st
            .query_map([profile], |r| {
                Ok((FlowId::from(r.get::<_, String>(0)?), r.get::<_, String>(1)?))
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    /// A signature found signed at Signicat after the desk stopped: `interrupted` becomes `signed`
    /// (the one change of a final status the vault allows, because the evidence proves it), once
    /// every piece of `evidence` is stored. Queued for the archive in the same transaction.
    pub fn recover_signed(
        &self,
        id: &FlowId,
        subject: &Subject,
        evidence: &[Evidence],
    ) -> Result<()> {
        self.recover_signed_with(
            id,
            subject,
            evidence,
            "Signed; the evidence was fetched when ID Desk started again",
        )
    }

    /// As [`Vault::recover_signed`], also from `evidence_pending`, with staff's `message`.
    fn recover_signed_with(
        &self,
        id: &FlowId,
        subject: &Subject,
        evidence: &[Evidence],
        message: &str,
    ) -> Result<()> {
        let at = now();
        let conn = self.conn()?;
        let mut stored = Self::evidence_hashes(&conn, id)?;
        // A legacy Consent Signature keeps its one SDO on the row itself.
        let sdo: Option<String> = conn
            .query_row(
                "SELECT sdo_sha256 FROM transactions WHERE id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?
            .flatten();
        stored.extend(sdo);
        if evidence.is_empty() || !evidence.iter().all(|e| stored.contains(&e.sha256)) {
            return Err(Error::Vault(format!(
                "transaction {id} reports a signature whose evidence is not stored"
            )));
        }
        let tx = conn.unchecked_transaction().map_err(db_err)?;
        let changed = tx
            .execute(
                "UPDATE transactions SET status = 'signed', error_code = NULL,
                    message = ?4,
                    subject_name = COALESCE(?2, subject_name), updated_at = ?3
                 WHERE id = ?1 AND status IN ('interrupted', 'evidence_pending')",
                params![
                    id.as_str(),
                    Some(subject.name.as_str()).filter(|n| !n.is_empty()),
                    at,
                    message
                ],
            )
            .map_err(db_err)?;
        if changed == 0 {
            return Err(Error::Vault(format!(
                "transaction {id} is neither interrupted nor waiting for its evidence"
            )));
        }
        outbox::enqueue(&tx, id.as_str(), &at)?;
        Self::append_event(&tx, id, &at, "recovered", Some(TxStatus::Signed), None)?;
        tx.commit().map_err(db_err)?;
        self.inner.outbox_signal.notify_one();
        Ok(())
    }

    /// A signature the desk could settle no better: it stays `interrupted` with `message`, and
    /// goes to the archive as such.
    pub fn release_recovery(&self, id: &FlowId, message: &str) -> Result<()> {
        let at = now();
        let conn = self.conn()?;
        let tx = conn.unchecked_transaction().map_err(db_err)?;
        tx.execute(
            "UPDATE transactions SET message = ?2, updated_at = ?3
             WHERE id = ?1 AND status = 'interrupted'",
            params![id.as_str(), message, at],
        )
        .map_err(db_err)?;
        outbox::enqueue(&tx, id.as_str(), &at)?;
        Self::append_event(&tx, id, &at, "recovery_checked", None, Some(message))?;
        tx.commit().map_err(db_err)?;
        self.inner.outbox_signal.notify_one();
        Ok(())
    }

    fn evidence_hashes(conn: &Connection, id: &FlowId) -> Result<Vec<String>> {
        let mut st = conn
            .prepare("SELECT sha256 FROM evidence WHERE tx_id = ?1")
            .map_err(db_err)?;
        let rows = st.query_map([id.as_str()], |r| r.get(0)).map_err(db_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db_err)
    }

    /// The Sign API v2 evidence of one transaction, in the order it was stored.
    pub fn evidence(&self, id: &FlowId) -> Result<Vec<Evidence>> {
        let conn = self.conn()?;
        self.evidence_of(&conn, id.as_str()).map_err(db_err)
    }

    /// Every read of whole transactions ends here: a signature's row carries its evidence.
    fn attach_evidence(&self, conn: &Connection, txs: &mut [Transaction]) -> Result<()> {
        for tx in txs.iter_mut().filter(|t| t.kind == TxKind::Sign) {
            tx.evidence = self.evidence_of(conn, tx.id.as_str()).map_err(db_err)?;
        }
        Ok(())
    }

    fn evidence_of(&self, conn: &Connection, id: &str) -> rusqlite::Result<Vec<Evidence>> {
        let mut st = conn.prepare_cached(
            "SELECT kind, file, sha256, bytes FROM evidence WHERE tx_id = ?1 ORDER BY seq",
        )?;
        let rows = st.query_map([id], |r| {
            let kind: String = r.get(0)?;
            let file: String = r.get(1)?;
            Ok(Evidence {
                kind: EvidenceKind::parse(&kind).unwrap_or(EvidenceKind::Document),
                path: self
                    .inner
                    .evidence_dir
                    .join(file)
                    .to_string_lossy()
                    .into_owned(),
                sha256: r.get(2)?,
                bytes: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
            })
        })?;
        rows.collect()
    }

    fn row_to_tx(&self, r: &Row<'_>) -> rusqlite::Result<Transaction> {
        let kind: String = r.get("kind")?;
        let method: String = r.get("method")?;
        let status: String = r.get("status")?;
        let bad = |col: &str, v: &str| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!("unknown {col} {v:?}").into(),
            )
        };
        let sdo_path: Option<String> = r.get("sdo_path")?;
        let sdo = match (
            sdo_path,
            r.get::<_, Option<String>>("sdo_sha256")?,
            r.get::<_, Option<i64>>("sdo_bytes")?,
        ) {
            (Some(p), Some(sha256), Some(bytes)) => Some(SdoRef {
                path: self.inner.sdo_dir.join(p).to_string_lossy().into_owned(),
                sha256,
                bytes: u64::try_from(bytes).unwrap_or(0),
            }),
            _ => None,
        };
        Ok(Transaction {
            id: FlowId::from(r.get::<_, String>("id")?),
            kind: if kind == "sign" {
                TxKind::Sign
            } else {
                TxKind::Auth
            },
            method: parse_method(&method).ok_or_else(|| bad("method", &method))?,
            identity_masked: r.get("identity_masked")?,
            subject_name: r.get("subject_name")?,
            status: TxStatus::parse(&status).ok_or_else(|| bad("status", &status))?,
            error_code: r.get("error_code")?,
            message: r.get("message")?,
            created_at: r.get("created_at")?,
            updated_at: r.get("updated_at")?,
            reference: r.get("reference")?,
            profile: r.get("profile")?,
            sign_text: r.get("sign_text")?,
            staff_user: r.get("staff_user")?,
            desk_host: r.get("desk_host")?,
            branch: r.get("branch")?,
            app_version: r.get("app_version")?,
            sdo,
            evidence: Vec::new(),
            archive: outbox::mark_of(r)?,
        })
    }

    /// Rows matching `filter`, newest first, at most `limit`; rows this build cannot read are
    /// left out (see [`Vault::history`], which shows them).
    pub fn list(&self, filter: &ListFilter, limit: usize) -> Result<Vec<Transaction>> {
        Ok(self
            .history(filter, limit)?
            .into_iter()
            .filter_map(|e| match e {
                HistoryEntry::Transaction(t) => Some(*t),
                HistoryEntry::Unreadable(_) => None,
            })
            .collect())
    }

    /// A row that `row_to_tx` refused, with what can still be read of it.
    fn unreadable(r: &Row<'_>, e: &rusqlite::Error) -> UnreadableRow {
        UnreadableRow {
            id: r.get::<_, String>("id").unwrap_or_default(),
            created_at: r.get::<_, String>("created_at").ok(),
            unreadable: e.to_string(),
        }
    }

    /// As [`Vault::list`], with each row this build cannot read in its place, marked so: one bad
    /// row never hides the others (issue 23, item 11).
    pub fn history(&self, filter: &ListFilter, limit: usize) -> Result<Vec<HistoryEntry>> {
        let mut sql = format!("{SELECT_TX} WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        if let Some(s) = filter.status {
            args.push(s.as_str().into());
            sql.push_str(&format!(" AND status = ?{}", args.len()));
        }
        if let Some(k) = filter.kind {
            args.push(k.as_str().into());
            sql.push_str(&format!(" AND kind = ?{}", args.len()));
        }
        if let Some(m) = filter.method {
            args.push(m.as_str().into());
            sql.push_str(&format!(" AND method = ?{}", args.len()));
        }
        if let Some(user) = &filter.staff_user {
            args.push(user.clone());
            sql.push_str(&format!(" AND staff_user = ?{}", args.len()));
        }
        sql.push_str(&format!(
            " ORDER BY t.created_at DESC, t.rowid DESC LIMIT {}",
            limit.min(i64::MAX as usize)
        ));
        let conn = self.conn()?;
        let mut st = conn.prepare(&sql).map_err(db_err)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok(self.row_to_tx(r).map_err(|e| Self::unreadable(r, &e)))
            })
            .map_err(db_err)?;
        let mut entries = Vec::new();
        for row in rows {
            entries.push(match row.map_err(db_err)? {
                Ok(mut tx) => {
                    if tx.kind == TxKind::Sign {
                        match self.evidence_of(&conn, tx.id.as_str()) {
                            Ok(ev) => tx.evidence = ev,
                            Err(e) => {
                                entries.push(HistoryEntry::Unreadable(UnreadableRow {
                                    id: tx.id.to_string(),
                                    created_at: Some(tx.created_at.clone()),
                                    unreadable: format!("its evidence cannot be read: {e}"),
                                }));
                                continue;
                            }
                        }
                    }
                    HistoryEntry::Transaction(Box::new(tx))
                }
                Err(bad) => HistoryEntry::Unreadable(bad),
            });
        }
        Ok(entries)
    }

    pub fn get(&self, id: &FlowId) -> Result<Transaction> {
        let conn = self.conn()?;
        conn.query_row(
            &format!("{SELECT_TX} WHERE t.id = ?1"),
            [id.as_str()],
            |r| self.row_to_tx(r),
        )
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| Error::NotFound(format!("transaction {id}")))
        .and_then(|tx| {
            let mut one = [tx];
            self.attach_evidence(&conn, &mut one)?;
            let [tx] = one;
            Ok(tx)
        })
    }

    /// The event trail of one transaction, oldest first.
    pub fn events(&self, id: &FlowId) -> Result<Vec<TxEvent>> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare(
                "SELECT at, event_type, status, message FROM transaction_events
                 WHERE tx_id = ?1 ORDER BY seq",
            )
            .map_err(db_err)?;
        let rows = st
            .query_map([id.as_str()], |r| {
                Ok(TxEvent {
                    at: r.get(0)?,
                    event_type: r.get(1)?,
                    status: r.get(2)?,
                    message: r.get(3)?,
                })
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
    }

    /// The plain bytes of a file in the vault (an SDO or a piece of evidence), decrypted. What the
    /// desk compares with the recorded hash and ships or exports; the file itself is ciphertext.
    /// Blocking file I/O.
    pub fn read_stored(&self, path: &Path) -> Result<Vec<u8>> {
        if !path.starts_with(&self.inner.sdo_dir) && !path.starts_with(&self.inner.evidence_dir) {
            return Err(Error::Vault(format!(
                "{} is not a file of this vault",
                path.display()
            )));
        }
        self.inner.sealer.read(path)
    }

    fn hash_stored(&self, path: &Path) -> Result<(String, u64)> {
        let bytes = self.read_stored(path)?;
        Ok((durable_file::sha256_hex(&bytes), bytes.len() as u64))
    }

    /// [`Vault::hash_stored`] for a comparison: a file that is not this vault's (altered, not
    /// sealed) is `None`, a mismatch like any other.
    fn hash_to_compare(&self, path: &Path) -> Result<Option<(String, u64)>> {
        match self.hash_stored(path) {
            Ok(h) => Ok(Some(h)),
            Err(Error::EvidenceMismatch(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn stored_sdo(&self, id: &FlowId) -> Result<SdoRef> {
        self.get(id)?
            .sdo
            .ok_or_else(|| Error::NotFound(format!("evidence for transaction {id}")))
    }

    /// Re-reads the stored SDO and compares it with the recorded hash and size.
    pub fn verify(&self, id: &FlowId) -> Result<bool> {
        let tx = self.get(id)?;
        if tx.sdo.is_none() && !tx.evidence.is_empty() {
            // Sign API v2: every piece must still match.
            for e in &tx.evidence {
                let stored = self.hash_to_compare(Path::new(&e.path))?;
                if stored != Some((e.sha256.clone(), e.bytes)) {
                    return Ok(false);
                }
            }
            return Ok(true);
        }
        let sdo = self.stored_sdo(id)?;
        let stored = self.hash_to_compare(Path::new(&sdo.path))?;
        Ok(stored == Some((sdo.sha256, sdo.bytes)))
    }

    /// Copies every Sign API v2 piece of evidence into the directory `dest` (created if needed),
    /// under its vault file name, each checked against its recorded hash before and after.
    pub fn export_evidence(&self, id: &FlowId, dest: &Path) -> Result<Vec<Evidence>> {
        let pieces = self.get(id)?.evidence;
        if pieces.is_empty() {
            return Err(Error::NotFound(format!("evidence for transaction {id}")));
        }
        // Owner-only, as the files in it (0600): evidence names the customer.
        crate::private_fs::private_dir(dest)?;
        let mut out = Vec::with_capacity(pieces.len());
        for e in pieces {
            let bytes = self.read_stored(Path::new(&e.path))?;
            if durable_file::sha256_hex(&bytes) != e.sha256 {
                return Err(Error::EvidenceMismatch(format!("transaction {id}")));
            }
            let name = Path::new(&e.path)
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| Error::Vault(format!("evidence file {} has no name", e.path)))?
                .to_string();
            durable_file::write_durably(dest, &name, &bytes, Existing::Replace)?;
            let copy = dest.join(&name);
            let (sha, len) = durable_file::hash_file(&copy)?;
            if sha != e.sha256 {
                return Err(Error::EvidenceMismatch(format!(
                    "exported copy of transaction {id}"
                )));
            }
            out.push(Evidence {
                kind: e.kind,
                path: copy.to_string_lossy().into_owned(),
                sha256: sha,
                bytes: len,
            });
        }
        Ok(out)
    }

    /// Copies the stored SDO to `dest` (durably) and checks the copy against the recorded hash.
    /// Refuses to export evidence that no longer matches its hash.
    pub fn export(&self, id: &FlowId, dest: &Path) -> Result<SdoRef> {
        let sdo = self.stored_sdo(id)?;
        let bytes = self.read_stored(Path::new(&sdo.path))?;
        if durable_file::sha256_hex(&bytes) != sdo.sha256 {
            return Err(Error::EvidenceMismatch(format!("transaction {id}")));
        }
        let (dir, name) = match (dest.parent(), dest.file_name().and_then(|n| n.to_str())) {
            (Some(d), Some(n)) => (
                if d.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    d
                },
                n,
            ),
            _ => return Err(Error::invalid_input("dest", "must be a file path")),
        };
        durable_file::write_durably(dir, name, &bytes, Existing::Replace)?;
        let (sha, len) = durable_file::hash_file(dest)?;
        if sha != sdo.sha256 {
            return Err(Error::EvidenceMismatch(format!(
                "exported copy of transaction {id}"
            )));
        }
        Ok(SdoRef {
            path: dest.to_string_lossy().into_owned(),
            sha256: sha,
            bytes: len,
        })
    }
}
