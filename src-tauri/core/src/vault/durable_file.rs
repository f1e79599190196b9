//! Writing evidence so that it survives a crash or power loss: a temporary file in the same
//! directory, written and fsynced, renamed over the final name, then the directory fsynced so the
//! rename itself is on disk.

use crate::{Error, Result};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Whether an existing file at the destination may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Evidence in the vault is never overwritten.
    Refuse,
    /// An export target the staff member chose (the save dialog already asked).
    Replace,
}

/// Writes `bytes` to `dir/name` durably.
pub fn write_durably(dir: &Path, name: &str, bytes: &[u8], existing: Existing) -> Result<()> {
    let final_path = dir.join(name);
    if existing == Existing::Refuse && final_path.exists() {
        return Err(Error::Vault(format!(
            "evidence file {name} already exists; refusing to overwrite it"
        )));
    }
    let tmp_path = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let result = (|| -> std::io::Result<()> {
        let mut o = OpenOptions::new();
        o.write(true).create_new(true);
        // Owner-only, whatever the umask: evidence names the customer (review finding H-2).
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
        let mut f = o.open(&tmp_path)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp_path, &final_path)?;
        sync_dir(dir)
    })();
    if let Err(e) = result {
        // Best effort: a stray temp file is harmless, but tidy up when we can.
        let _ = fs::remove_file(&tmp_path);
        return Err(Error::Vault(format!(
            "could not store evidence {name}: {e}"
        )));
    }
    Ok(())
}

#[cfg(unix)]
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

// Windows cannot open a directory as a file; NTFS journals the rename metadata itself.
#[cfg(not(unix))]
pub(crate) fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Reads a file fully and returns its bytes' SHA-256 and length.
pub fn hash_file(path: &Path) -> Result<(String, u64)> {
    let mut f = File::open(path).map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = [0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}
