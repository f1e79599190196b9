//! The central archive (issue 17) in the real window: a desk whose profile has an `[archive]`
//! identifies a customer, and History shows the row "Archived ✓" once the background delivery
//! has reached the throw-away PostgreSQL cluster; Test connection checks the archive. The
//! standalone simulator plays Signicat. Run with `make e2e`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use id_desk_e2e::cli::{run, unique_name, Sim};
use id_desk_e2e::pg::PgCluster;
use id_desk_e2e::Desk;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);
/// Kari Nordmann: approves on her own.
const NO_APPROVES: &str = "29124815345";

#[tokio::test]
#[ignore = "needs the built app and CLI, tauri-driver, a display, a keyring session and PostgreSQL: run `make e2e`"]
async fn history_shows_the_archived_mark_and_test_connection_checks_the_archive() {
    let pg = PgCluster::start().unwrap();
    let name = unique_name("archive-window");
    let sim = Sim::start(&name, &[]).unwrap();
    let profile = format!(
        "{}\n[archive]\nurl = \"{}\"\n",
        std::fs::read_to_string(&sim.profile_file).unwrap(),
        pg.url()
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("with-archive.toml");
    std::fs::write(&file, &profile).unwrap();
    let file = file.to_str().unwrap();
    let stored = run(
        &["--profile-file", file, "secrets", "set", "archive-password"],
        Some(pg.password()),
    )
    .unwrap();
    assert_eq!(stored.code, Some(0), "{stored:?}");

    let desk = Desk::open_with(|config| {
        std::fs::create_dir_all(config.join("profiles"))?;
        std::fs::write(
            config.join("profiles").join(format!("{name}.toml")),
            &profile,
        )?;
        std::fs::write(config.join("active-profile"), &name)
    })
    .await
    .unwrap();
    desk.fill("#auth-nin", NO_APPROVES).await.unwrap();
    // Safe Conversation: staff confirm the customer called us.
    desk.click("#identify-form input[name='call_initiator']")
        .await
        .unwrap();
    desk.click("#identify-start").await.unwrap();
    desk.wait_for_css(".flow-card[data-state='succeeded']", WAIT)
        .await
        .unwrap();

    desk.click("#tab-history").await.unwrap();
    let mark = "#history-table tr[data-status='succeeded'] .archive";
    let limit = Instant::now() + WAIT;
    loop {
        let text = desk
            .js(&format!(
                "return document.querySelector(\"{mark}\")?.textContent ?? ''"
            ))
            .await
            .unwrap();
        if text.as_str() == Some("Archived ✓") {
            break;
        }
        assert!(Instant::now() < limit, "never archived: {text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        desk.click("#history-refresh").await.unwrap();
    }
    let shown = desk
        .js("return getComputedStyle(document.querySelector('#history-table th.archive-col')).display")
        .await
        .unwrap();
    assert_ne!(shown, json!("none"), "the Archive column is shown");
    desk.screenshot("history-archive").await.unwrap();
    assert_eq!(
        pg.sql("SELECT count(*) FROM id_desk_transactions").unwrap(),
        "1"
    );

    let steps = desk
        .invoke("check_profile", json!({ "name": name }))
        .await
        .unwrap();
    let archive = steps
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "archive")
        .cloned()
        .unwrap_or_default();
    assert_eq!(archive["ok"], json!(true), "{steps}");
    desk.close().await;
    let _ = run(
        &[
            "--profile-file",
            file,
            "secrets",
            "delete",
            "archive-password",
        ],
        None,
    );
}
