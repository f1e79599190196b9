//! The central archive (issue 17) through the built `id-desk-cli`, the desk as a real process: it
//! is SIGKILLed between the archive server's commit and its own mark, and a wrong password is
//! a typed error that stops no flow. A throw-away PostgreSQL cluster on 127.0.0.1
//! (`support/pg.rs`), the standalone simulator, the real keyring. Run with `make e2e`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use id_desk_e2e::cli::{run, spawn, unique_name, Run, Sim, RUN_LIMIT};
use id_desk_e2e::pg::PgCluster;
use serde_json::Value;

const NO_APPROVES: &str = "29124815345";
const SE_APPROVES: &str = "198304062717";

/// The simulator's profile with an `[archive]` section, next to the desk's data.
fn archive_profile(sim: &Sim, pg: &PgCluster, dir: &Path) -> PathBuf {
    let file = dir.join("with-archive.toml");
    let base = std::fs::read_to_string(&sim.profile_file).unwrap();
    std::fs::write(
        &file,
        format!("{base}\n[archive]\nurl = \"{}\"\n", pg.url()),
    )
    .unwrap();
    file
}

struct Desk<'a> {
    profile: &'a Path,
    data: &'a Path,
}

impl Desk<'_> {
    fn args<'b>(&'b self, rest: &[&'b str]) -> Vec<&'b str> {
        let mut args = vec![
            "--profile-file",
            self.profile.to_str().unwrap(),
            "--data-dir",
            self.data.to_str().unwrap(),
        ];
        args.extend_from_slice(rest);
        args
    }
    fn run(&self, rest: &[&str], stdin: Option<&str>) -> Run {
        run(&self.args(rest), stdin).unwrap()
    }
    fn set_password(&self, value: &str) {
        let r = self.run(&["secrets", "set", "archive-password"], Some(value));
        assert_eq!(r.code, Some(0), "{r:?}");
    }
    fn forget_password(&self) {
        let _ = run(&self.args(&["secrets", "delete", "archive-password"]), None);
    }
    fn status(&self) -> Value {
        let r = self.run(&["archive", "status"], None);
        assert_eq!(r.code, Some(0), "{r:?}");
        assert_eq!(r.last()["type"], "archive_status");
        r.last().clone()
    }
}

fn count(pg: &PgCluster, sql: &str) -> Option<u64> {
    pg.sql(sql).ok().and_then(|s| s.parse().ok())
}

#[test]
#[ignore = "needs the built CLI, a keyring session and PostgreSQL: run make e2e"]
fn a_desk_killed_between_the_archive_commit_and_its_own_mark_delivers_again_harmlessly() {
    let pg = PgCluster::start().unwrap();
    let sim = Sim::start(&unique_name("archive-kill"), &[]).unwrap();
    let data = tempfile::tempdir().unwrap();
    // Two flows recorded with the simulator's own profile (no archive): they wait in the outbox.
    let auth = sim
        .cli(
            data.path(),
            &[
                "auth",
                "nbid",
                "--call-initiator",
                "user",
                "--nin",
                NO_APPROVES,
            ],
        )
        .unwrap();
    assert_eq!(auth.code, Some(0), "{auth:?}");
    let sign = sim
        .cli(
            data.path(),
            &["sign", "sbid", "--nin", SE_APPROVES, "--text", "I agree"],
        )
        .unwrap();
    assert_eq!(sign.code, Some(0), "{sign:?}");
    let sha = sign.last()["evidence"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let sign_id = sign.last()["flow_id"].as_str().unwrap().to_string();

    let profile = archive_profile(&sim, &pg, data.path());
    let desk = Desk {
        profile: &profile,
        data: data.path(),
    };
    desk.set_password(pg.password());
    assert_eq!(desk.status()["waiting"], 2);

    // Hold the vault's write lock: the desk reads its outbox, delivers, the archive commits, and
    // the desk then waits for the lock to mark the rows sent. That is where it is killed.
    let vault = id_desk_e2e::vault_db::open(&data.path().join("data")).unwrap();
    vault.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut flush = spawn(&desk.args(&["archive", "flush"])).unwrap();
    let limit = Instant::now() + RUN_LIMIT;
    while count(&pg, "SELECT count(*) FROM id_desk_transactions") != Some(2) {
        assert!(
            flush.child.try_wait().unwrap().is_none(),
            "the desk exited before the archive committed"
        );
        assert!(Instant::now() < limit, "the archive never got the rows");
        std::thread::sleep(Duration::from_millis(10));
    }
    flush.signal("KILL").unwrap();
    let status = flush.wait(RUN_LIMIT).unwrap();
    assert_eq!(
        status.code(),
        None,
        "killed by the signal, not exited: {status:?}"
    );
    vault.execute_batch("ROLLBACK").unwrap();
    drop(vault);

    // The archive has both, the desk's marks never happened.
    let before = desk.status();
    assert_eq!(
        (before["waiting"].as_u64(), before["archived"].as_u64()),
        (Some(2), Some(0))
    );

    // Delivering again is harmless: nothing inserted, nothing duplicated, both marked sent.
    let again = desk.run(&["archive", "flush"], None);
    assert_eq!(again.code, Some(0), "{again:?}");
    let report = again.last();
    assert_eq!(report["type"], "archive_flushed");
    assert_eq!(
        (
            report["inserted"].as_u64(),
            report["already_archived"].as_u64(),
            report["waiting"].as_u64()
        ),
        (Some(0), Some(2), Some(0)),
        "{report}"
    );
    assert_eq!(
        count(&pg, "SELECT count(*) FROM id_desk_transactions"),
        Some(2)
    );
    assert_eq!(
        count(
            &pg,
            "SELECT count(DISTINCT (desk_id, tx_id)) FROM id_desk_transactions"
        ),
        Some(2)
    );
    // The archived SDO's hash is the one the desk reported when it signed.
    let archived = pg
        .sql(&format!(
            "SELECT sdo_sha256 || '|' || encode(sha256(sdo), 'hex') FROM id_desk_transactions WHERE tx_id = '{sign_id}'"
        ))
        .unwrap();
    assert_eq!(archived, format!("{sha}|{sha}"));
    let history = desk.run(&["history"], None);
    assert_eq!(history.lines.len(), 2, "{history:?}");
    for row in &history.lines {
        assert_eq!(row["archive"]["state"], "archived", "{row}");
    }
    desk.forget_password();
}

#[test]
#[ignore = "needs the built CLI, a keyring session and PostgreSQL: run make e2e"]
fn a_wrong_archive_password_is_a_typed_error_and_flows_still_run() {
    let pg = PgCluster::start().unwrap();
    let sim = Sim::start(&unique_name("archive-pw"), &[]).unwrap();
    let data = tempfile::tempdir().unwrap();
    let profile = archive_profile(&sim, &pg, data.path());
    let desk = Desk {
        profile: &profile,
        data: data.path(),
    };
    let wrong = unique_name("wrong-password");
    desk.set_password(&wrong);

    // The desk keeps working: the flow succeeds while its delivery is refused in the background.
    let auth = desk.run(
        &[
            "auth",
            "nbid",
            "--call-initiator",
            "user",
            "--nin",
            NO_APPROVES,
        ],
        None,
    );
    assert_eq!(auth.code, Some(0), "{auth:?}");

    let flush = desk.run(&["archive", "flush"], None);
    assert_eq!(flush.code, Some(1), "{flush:?}");
    assert_eq!(flush.last()["type"], "failed");
    assert_eq!(flush.last()["code"], "archive_unauthorized");
    assert!(!flush.stdout.contains(&wrong) && !flush.stderr.contains(&wrong));
    let status = desk.status();
    assert_eq!(status["waiting"], 1);
    assert!(
        status["last_error"]
            .as_str()
            .unwrap()
            .contains("credentials"),
        "{status}"
    );
    assert_eq!(
        count(
            &pg,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'id_desk_transactions'"
        ),
        Some(0)
    );

    let check = desk.run(&["profiles", "check"], None);
    let step = check.lines.iter().find(|l| l["step"] == "archive").unwrap();
    assert_eq!(step["ok"], false, "{check:?}");

    // The right password: the waiting flow goes, and Test connection says so.
    desk.set_password(pg.password());
    let flush = desk.run(&["archive", "flush"], None);
    assert_eq!(flush.code, Some(0), "{flush:?}");
    assert_eq!(flush.last()["inserted"], 1);
    assert_eq!(
        count(&pg, "SELECT count(*) FROM id_desk_transactions"),
        Some(1)
    );
    let check = desk.run(&["profiles", "check"], None);
    let step = check.lines.iter().find(|l| l["step"] == "archive").unwrap();
    assert_eq!(step["ok"], true, "{check:?}");
    desk.forget_password();
}
