//! Which ID Desk processes are alive. The app and the CLI may use the same vault at once, so "a row
//! is still `running`" alone does not mean its process crashed. Each open vault holds an exclusive
//! SQLite lock on its own small file `instances/<id>.lock` for as long as it lives; the OS drops that
//! lock when the process dies (even on SIGKILL), so a lock we can take belongs to a dead process.

use crate::{Error, Result};
use rusqlite::{Connection, ErrorCode};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

pub struct InstanceLock {
    id: String,
    // Held, never read: the open EXCLUSIVE transaction is the lock.
    _conn: Mutex<Connection>,
}

impl InstanceLock {
    pub fn acquire(instances_dir: &Path) -> Result<Self> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let conn = Connection::open(lock_path(instances_dir, &id))
            .map_err(|e| Error::Vault(format!("instance lock: {e}")))?;
        // No journal: nothing is ever written, only the lock matters.
        conn.execute_batch("PRAGMA journal_mode = OFF; BEGIN EXCLUSIVE")
            .map_err(|e| Error::Vault(format!("instance lock: {e}")))?;
        Ok(InstanceLock {
            id,
            _conn: Mutex::new(conn),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

fn lock_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.lock"))
}

/// Whether the instance `id` still holds its lock. An instance without a lock file is dead.
pub fn is_alive(instances_dir: &Path, id: &str) -> Result<bool> {
    // Ids come from the database; refuse anything that could walk out of the directory.
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Ok(false);
    }
    let path = lock_path(instances_dir, id);
    if !path.exists() {
        return Ok(false);
    }
    let conn = Connection::open(&path).map_err(|e| Error::Vault(format!("instance check: {e}")))?;
    conn.busy_timeout(Duration::ZERO)
        .map_err(|e| Error::Vault(format!("instance check: {e}")))?;
    match conn.execute_batch("BEGIN EXCLUSIVE; ROLLBACK;") {
        Ok(()) => Ok(false),
        Err(rusqlite::Error::SqliteFailure(f, _))
            if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
        {
            Ok(true)
        }
        Err(e) => Err(Error::Vault(format!("instance check: {e}"))),
    }
}

/// How many other instances hold their lock now (any version: every version since the instance
/// locks writes one here).
pub fn alive_count(instances_dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(instances_dir) else {
        return 0;
    };
    entries
        .flatten()
        .filter_map(|e| {
            e.path()
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".lock"))
                .map(str::to_string)
        })
        .filter(|id| matches!(is_alive(instances_dir, id), Ok(true)))
        .count()
}

/// Removes the lock files of dead instances (best effort; a leftover file is harmless).
pub fn remove_dead(instances_dir: &Path, own_id: &str) {
    let Ok(entries) = std::fs::read_dir(instances_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(id) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".lock"))
        else {
            continue;
        };
        if id != own_id && matches!(is_alive(instances_dir, id), Ok(false)) {
            let _ = std::fs::remove_file(&path);
            let _ = std::fs::remove_file(instances_dir.join(format!("{id}.lock-journal")));
        }
    }
}
