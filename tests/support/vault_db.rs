//! The desk's vault database seen from a test: SQLCipher, keyed with the vault key that the desk
//! keeps in the OS keyring (service `id-desk`, account `vault-key:{16 hex of the vault's path}`).
//! Tests use it to change rows behind the desk's back, or to hold its write lock.

use std::path::Path;

use sha2::{Digest, Sha256};

/// The keyring account of the vault in `dir`, derived as the desk derives it. The engine's own
/// tests compare it with `Vault::key_account`, so the two cannot drift apart.
pub fn key_account(dir: &Path) -> String {
    let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    format!("vault-key:{}", &hex::encode(digest)[..16])
}

/// Opens `dir/vault.sqlite3` with its key.
pub fn open(dir: &Path) -> Result<rusqlite::Connection, crate::BoxError> {
    let hex = keyring::Entry::new("id-desk", &key_account(dir))
        .and_then(|e| e.get_password())
        .map_err(|e| format!("the vault key is not in the OS keyring: {e}"))?;
    if hex.len() != 64 {
        return Err(format!("the vault key is {} hex digits, not 64", hex.len()).into());
    }
    let conn = rusqlite::Connection::open(dir.join("vault.sqlite3"))?;
    conn.pragma_update(None, "key", format!("x'{hex}'"))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}
