//! The database layout, versioned with SQLite's `user_version`. Each migration runs once, in order,
//! inside one transaction; an older app refuses a newer database instead of guessing.

use crate::{Error, Result};
use rusqlite::Connection;

/// Migration N brings `user_version` from N to N+1.
const MIGRATIONS: &[&str] = &[
    // 0 → 1: transactions and their event trail.
    "CREATE TABLE transactions (
        id              TEXT PRIMARY KEY NOT NULL,
        kind            TEXT NOT NULL CHECK (kind IN ('auth', 'sign')),
        method          TEXT NOT NULL,
        identity_masked TEXT,
        subject_name    TEXT,
        status          TEXT NOT NULL,
        error_code      TEXT,
        message         TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        reference       TEXT,
        profile         TEXT,
        sign_text       TEXT,
        sdo_path        TEXT,
        sdo_sha256      TEXT,
        sdo_bytes       INTEGER,
        instance        TEXT
    );
    CREATE INDEX transactions_status ON transactions(status);
    CREATE INDEX transactions_created ON transactions(created_at);
    CREATE TABLE transaction_events (
        tx_id      TEXT NOT NULL REFERENCES transactions(id),
        seq        INTEGER NOT NULL,
        at         TEXT NOT NULL,
        event_type TEXT NOT NULL,
        status     TEXT,
        message    TEXT,
        PRIMARY KEY (tx_id, seq)
    );",
    // 1 → 2: the archive outbox (issue 17) and this desk's identity in the archive. Every row
    // already final is queued, so a desk that gets an archive ships its whole history.
    "CREATE TABLE archive_outbox (
        tx_id      TEXT PRIMARY KEY NOT NULL REFERENCES transactions(id),
        queued_at  TEXT NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        sent_at    TEXT
    );
    CREATE INDEX archive_outbox_waiting ON archive_outbox(attempts, queued_at) WHERE sent_at IS NULL;
    INSERT INTO archive_outbox (tx_id, queued_at)
        SELECT id, updated_at FROM transactions WHERE status <> 'running';
    CREATE TABLE desk (
        one     INTEGER PRIMARY KEY NOT NULL CHECK (one = 1),
        desk_id TEXT NOT NULL
    );
    INSERT INTO desk (one, desk_id) VALUES (1, lower(hex(randomblob(16))));",
    // 2 → 3: Sign API v2 evidence (issue 21): a signature may come with several result documents
    // and packages. One row per file in `evidence/`, stored before the flow may say `signed`.
    "CREATE TABLE evidence (
        tx_id     TEXT NOT NULL REFERENCES transactions(id),
        seq       INTEGER NOT NULL,
        kind      TEXT NOT NULL,
        file      TEXT NOT NULL UNIQUE,
        sha256    TEXT NOT NULL,
        bytes     INTEGER NOT NULL,
        stored_at TEXT NOT NULL,
        PRIMARY KEY (tx_id, seq)
    );",
    // 3 → 4: retention (issue 23, item 2). One line per purged transaction: what it was, why it
    // went and which files went with it. No name, number, text or evidence: the audit of a purge
    // must not keep what the purge removed. `files_removed_at` stays empty until every file is
    // gone, so a purge stopped half-way finishes at the next one.
    "CREATE TABLE purge_log (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        at               TEXT NOT NULL,
        tx_id            TEXT NOT NULL,
        kind             TEXT NOT NULL,
        method           TEXT NOT NULL,
        status           TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        reason           TEXT NOT NULL,
        files            TEXT NOT NULL,
        files_removed_at TEXT
    );",
    // 4 → 5: Training rows queued by earlier versions leave the outbox unsent (issue 23, item 8).
    "DELETE FROM archive_outbox WHERE sent_at IS NULL
        AND tx_id IN (SELECT id FROM transactions WHERE profile = 'training');",
    // 5 → 6: who did what (issue 24): the OS user, the PC, the branch and the app version of
    // each new row. Earlier rows keep them empty: nobody recorded them then.
    "ALTER TABLE transactions ADD COLUMN staff_user TEXT;
    ALTER TABLE transactions ADD COLUMN desk_host TEXT;
    ALTER TABLE transactions ADD COLUMN branch TEXT;
    ALTER TABLE transactions ADD COLUMN app_version TEXT;
    CREATE INDEX transactions_staff ON transactions(staff_user);",
    // 6 → 7: the archive each row is owed to (review N-3): a fingerprint of the archive of the
    // profile that recorded it. Earlier rows keep it empty and go to an archive of their own
    // profile's name, as before. And what a Sign API v2 flow asked for (review N-8), JSON: a
    // recovered signature is checked against it. And whether every evidence file has been sealed
    // (review N-15): from then on a file in clear is refused.
    "ALTER TABLE transactions ADD COLUMN archive_target TEXT;
    ALTER TABLE transactions ADD COLUMN sign_expected TEXT;
    ALTER TABLE desk ADD COLUMN files_sealed INTEGER NOT NULL DEFAULT 0;",
];

pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

fn db_err(e: rusqlite::Error) -> Error {
    Error::Vault(e.to_string())
}

pub fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(db_err)?;
    // WAL: readers (the staff list) never block the flow that is writing.
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(db_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Vault(format!("cannot enable WAL (got {mode})")));
    }
    // FULL: a committed row survives power loss, like the SDO files next to it.
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .map_err(db_err)?;
    Ok(())
}

pub fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db_err)?;
    if version > CURRENT_VERSION {
        return Err(Error::Vault(format!(
            "the vault was written by a newer ID Desk (schema {version}, this build knows {CURRENT_VERSION})"
        )));
    }
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction().map_err(db_err)?;
        tx.execute_batch(sql).map_err(db_err)?;
        tx.pragma_update(None, "user_version", from as i64 + 1)
            .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
    }
    Ok(())
}
