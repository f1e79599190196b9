//! Encryption at rest (issue 23, item 1; review finding H-2).
//!
//! One random 256-bit key per vault, kept in the OS keyring (service `id-desk`, account
//! `vault-key:{16 hex of the vault's path}`), never on disk. It encrypts:
//! - the database, with SQLCipher (rusqlite's `bundled-sqlcipher`): pages are AES-256 with an HMAC
//!   per page, so rows, the WAL and any copy of the file are ciphertext. The raw key is given as
//!   `x'…'`, so no passphrase derivation runs at open.
//! - every evidence file, sealed one by one with ChaCha20-Poly1305 from `ring` (already our TLS
//!   provider, so no new crypto stack): `MAGIC || nonce || ciphertext+tag`, with the file's name as
//!   associated data, so a file renamed onto another's name does not open. The file key is derived
//!   from the vault key (SHA-256 with a label), so the two uses never share a key.
//!
//! Why SQLCipher and not only per-file AEAD: the rows hold names, masked numbers and consent texts,
//! and SQLite writes them to the WAL, free pages and journals we do not control. SQLCipher covers
//! all of those; it links the system libcrypto, which josekit links already.
//!
//! A vault written before this (plain SQLite, plain files) is encrypted in place when it is first
//! opened, under the open lock: the database is exported into a new encrypted file that replaces the
//! old one by rename, and each evidence file is sealed to a temporary file and renamed over itself.
//! A crash at any point leaves either the plain or the encrypted form of each file, both readable,
//! and the next open finishes the job.

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::durable_file::{self, Existing};
use crate::private_fs::{private_file, restrict};
use crate::secrets::{SecretString, Secrets};
use crate::{Error, Result};

/// The first bytes of a sealed evidence file.
const MAGIC: &[u8; 8] = b"IDDSKEV1";
/// How every plain SQLite database file starts.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";
const KEY_LEN: usize = 32;

/// The vault's key, in memory only while the vault is open; wiped when dropped.
pub(crate) struct VaultKey(Zeroizing<[u8; KEY_LEN]>);

impl VaultKey {
    fn generate() -> Result<VaultKey> {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        SystemRandom::new()
            .fill(&mut k[..])
            .map_err(|_| Error::Vault("the system random generator failed".into()))?;
        Ok(VaultKey(k))
    }

    fn from_hex(text: &str) -> Result<VaultKey> {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        hex::decode_to_slice(text.trim(), &mut k[..]).map_err(|_| {
            Error::Vault(
                "the vault key in the OS keyring is damaged; restore it from the keyring's backup"
                    .into(),
            )
        })?;
        Ok(VaultKey(k))
    }

    fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(&self.0[..]))
    }

    /// SQLCipher's raw-key form.
    fn sqlcipher_key(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("x'{}'", self.to_hex().as_str()))
    }

    fn sealer(&self) -> Result<Sealer> {
        let mut h = Sha256::new();
        h.update(b"id-desk evidence file key v1\0");
        h.update(&self.0[..]);
        let derived = Zeroizing::new(<[u8; 32]>::from(h.finalize()));
        let key = UnboundKey::new(&CHACHA20_POLY1305, &derived[..])
            .map_err(|_| Error::Vault("cannot build the evidence key".into()))?;
        Ok(Sealer {
            key: LessSafeKey::new(key),
            rng: SystemRandom::new(),
            strict: std::sync::atomic::AtomicBool::new(false),
        })
    }
}

/// Seals and opens evidence files.
pub(crate) struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
    /// Set once the vault recorded that every file was sealed (review N-15): from then on a file
    /// in clear was not written by ID Desk, and is not evidence.
    strict: std::sync::atomic::AtomicBool,
}

impl Sealer {
    /// `name` is the file's name in the vault: it is bound to the ciphertext.
    pub(crate) fn seal(&self, name: &str, plain: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| Error::Vault("the system random generator failed".into()))?;
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + plain.len() + 16);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        let mut body = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut body,
            )
            .map_err(|_| Error::Vault(format!("cannot encrypt evidence {name}")))?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// From now on only sealed files are read (see `strict`).
    pub(crate) fn refuse_unsealed(&self) {
        self.strict
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The plain bytes of a stored file. Until the vault has recorded that all its files are
    /// sealed, a file written before encryption at rest is returned as it is (its recorded hash
    /// still decides whether it counts); after that, a file in clear is refused.
    pub(crate) fn open(&self, name: &str, stored: Vec<u8>) -> Result<Vec<u8>> {
        if !is_sealed(&stored) {
            if self.strict.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(Error::EvidenceMismatch(format!(
                    "{name} is not sealed: ID Desk did not write it, so it is not evidence"
                )));
            }
            return Ok(stored);
        }
        let (nonce, body) = stored[MAGIC.len()..].split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| Error::EvidenceMismatch(format!("{name} is damaged")))?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut body)
            .map_err(|_| {
                Error::EvidenceMismatch(format!(
                    "{name} cannot be decrypted: it was altered, or belongs to another vault"
                ))
            })?;
        Ok(plain.to_vec())
    }

    /// Reads and opens the vault file at `path`.
    pub(crate) fn read(&self, path: &Path) -> Result<Vec<u8>> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::Vault(format!("{} has no file name", path.display())))?;
        let stored = fs::read(path).map_err(|e| Error::Io(format!("{}: {e}", path.display())))?;
        self.open(name, stored)
    }
}

fn is_sealed(bytes: &[u8]) -> bool {
    bytes.len() >= MAGIC.len() + NONCE_LEN + 16 && bytes.starts_with(MAGIC)
}

/// Serialises opening (key creation, migration) between processes sharing one vault: the app,
/// the CLI, a second window. Released when dropped.
pub(crate) struct OpenLock(#[allow(dead_code)] File);

impl OpenLock {
    pub(crate) fn acquire(dir: &Path) -> Result<OpenLock> {
        let path = dir.join(".open.lock");
        let f = private_file(&path)?;
        f.lock()
            .map_err(|e| Error::Vault(format!("cannot lock {}: {e}", path.display())))?;
        Ok(OpenLock(f))
    }
}

/// The keyring account of the vault in `dir`: one key per vault directory.
pub(crate) fn key_account(dir: &Path) -> String {
    let canonical = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    format!("vault-key:{}", &hex::encode(digest)[..16])
}

/// Whether the database file exists and is plain SQLite (written before encryption at rest).
fn is_plain_sqlite(db: &Path) -> Result<bool> {
    let mut f = match File::open(db) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::Vault(format!("{}: {e}", db.display()))),
    };
    let mut head = [0u8; 16];
    match f.read_exact(&mut head) {
        Ok(()) => Ok(&head == SQLITE_HEADER),
        // Empty or shorter than a header: nothing to migrate.
        Err(_) => Ok(false),
    }
}

fn has_content(db: &Path) -> bool {
    fs::metadata(db).map(|m| m.len() > 0).unwrap_or(false)
}

/// The vault's key from the keyring, created on the first open of a new (or plain) vault.
/// An encrypted vault whose key is gone is an error, never a reason to make a new key.
pub(crate) fn obtain_key(dir: &Path, db: &Path) -> Result<VaultKey> {
    let keyring = Secrets::new();
    let account = key_account(dir);
    if let Some(stored) = keyring.get_raw(&account)? {
        return VaultKey::from_hex(stored.expose());
    }
    if has_content(db) && !is_plain_sqlite(db)? {
        return Err(Error::Vault(format!(
            "the vault in {} is encrypted, but its key ({}) is not in this user's OS keyring; \
             restore the keyring, or move the vault aside to start an empty one",
            dir.display(),
            keyring.location_raw(&account)
        )));
    }
    let key = VaultKey::generate()?;
    let text = key.to_hex();
    keyring.set_raw(&account, &SecretString::new(text.as_str()))?;
    // Read it back: a keyring that accepts a write and keeps nothing must fail here, before any
    // data is encrypted with a key that would be lost.
    match keyring.get_raw(&account)? {
        Some(back) if back.expose() == text.as_str() => {}
        _ => {
            return Err(Error::KeyringUnavailable(
                "the OS keyring did not keep the vault key".into(),
            ))
        }
    }
    tracing::info!(account = %account, "vault key created in the OS keyring");
    Ok(key)
}

/// Opens the database with the key (the first statement on the connection), and proves the key
/// fits before anything else runs.
pub(crate) fn open_database(db: &Path, key: &VaultKey) -> Result<Connection> {
    drop(private_file(db)?);
    let conn = Connection::open(db).map_err(|e| Error::Vault(e.to_string()))?;
    conn.pragma_update(None, "key", key.sqlcipher_key().as_str())
        .map_err(|e| Error::Vault(e.to_string()))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|_| {
        Error::Vault(format!(
            "{} cannot be decrypted with the vault key in the OS keyring",
            db.display()
        ))
    })?;
    Ok(conn)
}

/// Why a plain vault is not encrypted now.
pub(crate) fn still_open_elsewhere() -> Error {
    Error::Vault(
        "the vault is still open in another ID Desk (an older version, after an upgrade): close \
         every ID Desk window and command, then start again"
            .into(),
    )
}

/// The SQLite side files get the database file's owner-only mode.
pub(crate) fn restrict_side_files(db: &Path) -> Result<()> {
    for suffix in ["-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let p = std::path::PathBuf::from(p);
        if p.exists() {
            restrict(&p, 0o600)?;
        }
    }
    Ok(())
}

/// Whether `db` is a plain (not yet encrypted) vault that [`migrate_database`] would encrypt.
pub(crate) fn needs_migration(db: &Path) -> Result<bool> {
    is_plain_sqlite(db)
}

/// Encrypts a plain database in place. Returns whether it did.
pub(crate) fn migrate_database(dir: &Path, db: &Path, key: &VaultKey) -> Result<bool> {
    if !is_plain_sqlite(db)? {
        return Ok(false);
    }
    let err = |what: &str, e: &dyn std::fmt::Display| {
        Error::Vault(format!("encrypting the vault ({what}): {e}"))
    };
    let tmp = dir.join(".vault-encrypting.sqlite3");
    let _ = fs::remove_file(&tmp);
    {
        let plain = Connection::open(db).map_err(|e| err("open", &e))?;
        plain
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(|e| err("open", &e))?;
        // Everything in the WAL into the main file, so the export sees all of it.
        plain
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|e| err("checkpoint", &e))?;
        let version: i64 = plain
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| err("schema version", &e))?;
        drop(private_file(&tmp)?);
        plain
            .execute(
                "ATTACH DATABASE ?1 AS encrypted KEY ?2",
                rusqlite::params![tmp.to_string_lossy(), key.sqlcipher_key().as_str()],
            )
            .map_err(|e| err("attach", &e))?;
        plain
            .query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))
            .map_err(|e| err("export", &e))?;
        // sqlcipher_export copies tables, not the header's user_version (our schema version).
        plain
            .execute_batch(&format!("PRAGMA encrypted.user_version = {version}"))
            .map_err(|e| err("schema version", &e))?;
        plain
            .execute_batch("DETACH DATABASE encrypted")
            .map_err(|e| err("detach", &e))?;
        plain.close().map_err(|(_, e)| err("close", &e))?;
    }
    // The plain WAL must be gone before the encrypted file takes the name, or SQLite would try to
    // apply it to the new file. SQLite deletes its own `-wal` and `-shm` when the last connection
    // closes, so one still there belongs to a process that has the vault open: never deleted under
    // it (review N-6: an older desk would go on writing signatures into an unlinked file).
    for suffix in ["-wal", "-shm"] {
        let mut side = db.as_os_str().to_owned();
        side.push(suffix);
        if std::path::PathBuf::from(side).exists() {
            let _ = fs::remove_file(&tmp);
            return Err(still_open_elsewhere());
        }
    }
    // Opened for writing: Windows flushes a file (FlushFileBuffers) only through a handle that
    // may write it, and refuses a read-only one with "Access denied".
    fs::OpenOptions::new()
        .write(true)
        .open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| err("sync", &e))?;
    fs::rename(&tmp, db).map_err(|e| err("rename", &e))?;
    durable_file::sync_dir(dir).map_err(|e| err("sync", &e))?;
    tracing::info!("vault database encrypted in place");
    Ok(true)
}

/// Seals every plain evidence file in `dir` in place; returns how many.
pub(crate) fn migrate_files(dir: &Path, sealer: &Sealer) -> Result<usize> {
    let entries = fs::read_dir(dir).map_err(|e| Error::Vault(format!("{}: {e}", dir.display())))?;
    let mut sealed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        // Temporary files of a write in progress (ours or another process's) are not evidence.
        if name.starts_with('.') || !entry.path().is_file() {
            continue;
        }
        let bytes = fs::read(entry.path())
            .map_err(|e| Error::Vault(format!("{}: {e}", entry.path().display())))?;
        if is_sealed(&bytes) {
            restrict(&entry.path(), 0o600)?;
            continue;
        }
        let sealed_bytes = sealer.seal(name, &bytes)?;
        durable_file::write_durably(dir, name, &sealed_bytes, Existing::Replace)?;
        sealed += 1;
    }
    if sealed > 0 {
        tracing::info!(files = sealed, dir = %dir.display(), "evidence files encrypted in place");
    }
    Ok(sealed)
}

/// The key and what it unlocks, for `Vault::open`.
pub(crate) fn sealer_for(key: &VaultKey) -> Result<Sealer> {
    key.sealer()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        VaultKey::generate().unwrap().sealer().unwrap()
    }

    #[test]
    fn sealed_files_open_only_under_their_own_name_and_key() {
        let s = sealer();
        let sealed = s.seal("a.xml", b"<sdo>Kari</sdo>").unwrap();
        assert!(is_sealed(&sealed));
        assert!(!sealed.windows(4).any(|w| w == b"Kari"));
        assert_eq!(s.open("a.xml", sealed.clone()).unwrap(), b"<sdo>Kari</sdo>");
        assert!(matches!(
            s.open("b.xml", sealed.clone()),
            Err(Error::EvidenceMismatch(_))
        ));
        assert!(matches!(
            sealer().open("a.xml", sealed.clone()),
            Err(Error::EvidenceMismatch(_))
        ));
        let mut flipped = sealed;
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(s.open("a.xml", flipped).is_err());
        // Two seals of the same bytes differ (fresh nonce each time).
        assert_ne!(
            s.seal("a.xml", b"x").unwrap(),
            s.seal("a.xml", b"x").unwrap()
        );
    }

    #[test]
    fn a_plain_legacy_file_reads_as_it_is_until_all_are_sealed() {
        let s = sealer();
        assert_eq!(s.open("a.xml", b"<sdo/>".to_vec()).unwrap(), b"<sdo/>");
        let sealed = s.seal("a.xml", b"<sdo/>").unwrap();
        s.refuse_unsealed();
        let e = s.open("a.xml", b"<sdo/>".to_vec()).unwrap_err();
        assert_eq!(e.code(), "evidence_mismatch");
        assert_eq!(s.open("a.xml", sealed).unwrap(), b"<sdo/>");
    }

    #[test]
    fn a_damaged_key_text_is_refused() {
        assert!(VaultKey::from_hex("zz").is_err());
        let k = VaultKey::generate().unwrap();
        let back = VaultKey::from_hex(&k.to_hex()).unwrap();
        assert_eq!(&k.0[..], &back.0[..]);
        assert!(k.sqlcipher_key().starts_with("x'") && k.sqlcipher_key().len() == 67);
    }
}
