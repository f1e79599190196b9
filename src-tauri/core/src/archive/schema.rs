//! The archive's tables, versioned: migration N is recorded as row N of `id_desk_schema` and runs
//! once, in order, in one PostgreSQL transaction under an advisory lock, so hundreds of desks
//! starting together migrate once. Migrations only ever add: a desk built before a migration keeps
//! delivering into a newer schema during a gradual roll-out.
//!
//! A small ordered list instead of a migration crate: one table so far, the same pattern as the
//! vault's `user_version`, and nothing to pull in beyond the driver.

use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::connect::pg_error;
use crate::Result;

/// Any fixed number: the key of the advisory lock the migrating desk holds.
const MIGRATION_LOCK: i64 = 0x1d_de5c_a4c1_0017;

/// Migration N (1-based) is `MIGRATIONS[N - 1]`.
const MIGRATIONS: &[&str] = &[
    // 1: one row per transaction and desk. The server re-checks the SDO's hash, so evidence that
    // does not match its recorded SHA-256 can never be archived.
    "CREATE TABLE id_desk_transactions (
        desk_id         TEXT NOT NULL,
        tx_id           TEXT NOT NULL,
        kind            TEXT NOT NULL,
        method          TEXT NOT NULL,
        status          TEXT NOT NULL,
        identity_masked TEXT,
        subject_name    TEXT,
        error_code      TEXT,
        message         TEXT,
        reference       TEXT,
        profile         TEXT,
        sign_text       TEXT,
        created_at      TIMESTAMPTZ NOT NULL,
        updated_at      TIMESTAMPTZ NOT NULL,
        sdo             BYTEA,
        sdo_sha256      TEXT,
        archived_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (desk_id, tx_id),
        CONSTRAINT sdo_has_hash CHECK ((sdo IS NULL) = (sdo_sha256 IS NULL)),
        CONSTRAINT sdo_matches_hash CHECK (sdo IS NULL OR encode(sha256(sdo), 'hex') = sdo_sha256)
    );
    CREATE INDEX id_desk_transactions_created ON id_desk_transactions (created_at);",
    // 2: Sign API v2 evidence (issue 21): every result document and package of a signature, one
    // row each, with the same server-side hash check as the SDO.
    "CREATE TABLE id_desk_evidence (
        desk_id  TEXT NOT NULL,
        tx_id    TEXT NOT NULL,
        seq      INTEGER NOT NULL,
        kind     TEXT NOT NULL,
        content  BYTEA NOT NULL,
        sha256   TEXT NOT NULL,
        PRIMARY KEY (desk_id, tx_id, seq),
        FOREIGN KEY (desk_id, tx_id) REFERENCES id_desk_transactions (desk_id, tx_id),
        CONSTRAINT evidence_matches_hash CHECK (encode(sha256(content), 'hex') = sha256)
    );",
    // 3: server-side retention (issue 23, item 2). The bank's scheduler (pg_cron, or cron with
    // psql) runs `SELECT id_desk_purge('5 years', '90 days')` as the schema owner: transactions
    // that verified or signed someone go `keep_evidence` after they were created, every other
    // outcome `keep_other` after; their evidence rows go with them. Returns how many
    // transactions it deleted. Agree the two periods with Compliance (AML: five years).
    "CREATE FUNCTION id_desk_purge(keep_evidence interval, keep_other interval)
        RETURNS bigint LANGUAGE plpgsql AS $$
    DECLARE
        gone bigint;
    BEGIN
        IF keep_evidence < interval '1 day' OR keep_other < interval '1 day' THEN
            RAISE EXCEPTION 'id_desk_purge: keep at least one day';
        END IF;
        DELETE FROM id_desk_evidence e USING id_desk_transactions t
            WHERE e.desk_id = t.desk_id AND e.tx_id = t.tx_id
              AND t.created_at < now() - CASE WHEN t.status IN ('succeeded', 'signed')
                                          THEN keep_evidence ELSE keep_other END;
        DELETE FROM id_desk_transactions t
            WHERE t.created_at < now() - CASE WHEN t.status IN ('succeeded', 'signed')
                                       THEN keep_evidence ELSE keep_other END;
        GET DIAGNOSTICS gone = ROW_COUNT;
        RETURN gone;
    END $$;
    COMMENT ON FUNCTION id_desk_purge(interval, interval) IS
        'ID Desk retention: deletes transactions (and their evidence) older than keep_evidence when they verified or signed someone, keep_other otherwise. Run daily by the bank''s scheduler.';
    REVOKE EXECUTE ON FUNCTION id_desk_purge(interval, interval) FROM PUBLIC;",
    // 4: least privilege (issue 23, item 9). A desk's role needs no SELECT on the archive: what
    // it must know of rows it already delivered (their status and evidence hash, to tell a
    // repeated delivery from a conflict) it asks this function, which runs with the owner's
    // rights and answers only for the desk and transaction ids given. Granted by the bank to
    // the desks' role (README: For IT departments).
    "CREATE FUNCTION id_desk_archived(desk text, ids text[])
        RETURNS TABLE (tx_id text, status text, sdo_sha256 text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
        SELECT t.tx_id, t.status, t.sdo_sha256 FROM id_desk_transactions t
        WHERE t.desk_id = desk AND t.tx_id = ANY (ids)
    $$;
    REVOKE EXECUTE ON FUNCTION id_desk_archived(text, text[]) FROM PUBLIC;",
    // 5: who did what (issue 24): the OS user, the PC, the branch and the app version of each
    // transaction, as the desk recorded them (empty for rows desks recorded before).
    "ALTER TABLE id_desk_transactions ADD COLUMN staff_user TEXT;
    ALTER TABLE id_desk_transactions ADD COLUMN desk_host TEXT;
    ALTER TABLE id_desk_transactions ADD COLUMN branch TEXT;
    ALTER TABLE id_desk_transactions ADD COLUMN app_version TEXT;
    CREATE INDEX id_desk_transactions_staff ON id_desk_transactions (staff_user);",
];

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// The archive's schema version (0: no ID Desk table yet).
pub async fn version(client: &Client) -> Result<i64> {
    match client
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::bigint FROM id_desk_schema",
            &[],
        )
        .await
    {
        Ok(row) => row.try_get(0).map_err(pg_error),
        Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => Ok(0),
        Err(e) => Err(pg_error(e)),
    }
}

/// Brings the archive up to `CURRENT_VERSION`. When it is already there this is one read, so a
/// desk whose database user may only insert works once the schema exists.
pub async fn ensure(client: &mut Client) -> Result<()> {
    if version(client).await? >= CURRENT_VERSION {
        return Ok(());
    }
    let tx = client.transaction().await.map_err(pg_error)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_error)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS id_desk_schema (
            version    INTEGER PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .await
    .map_err(pg_error)?;
    let current: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::bigint FROM id_desk_schema",
            &[],
        )
        .await
        .and_then(|r| r.try_get(0))
        .map_err(pg_error)?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let n = i as i64 + 1;
        if n <= current {
            continue;
        }
        tx.batch_execute(sql).await.map_err(pg_error)?;
        tx.execute(
            "INSERT INTO id_desk_schema (version) VALUES ($1)",
            &[&(n as i32)],
        )
        .await
        .map_err(pg_error)?;
        tracing::info!(version = n, "archive schema migrated");
    }
    tx.commit().await.map_err(pg_error)
}
