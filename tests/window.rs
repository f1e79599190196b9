//! The real app window under Xvfb, driven over WebDriver. Run with `make e2e` (part of `make test`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use id_desk_e2e::Desk;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
#[ignore = "needs the built app, tauri-driver and a display: run `make e2e`"]
async fn starts_in_training_mode_with_a_visible_banner() {
    let desk = Desk::open().await.unwrap();
    let banner = desk
        .wait_text("#training-banner", WAIT, |t| !t.is_empty())
        .await
        .unwrap();
    assert!(banner.contains("Training mode"), "banner says {banner:?}");
    let shown = desk
        .js("return !document.getElementById('training-banner').hidden")
        .await
        .unwrap();
    assert_eq!(shown, serde_json::Value::Bool(true));
    desk.screenshot("start").await.unwrap();
    desk.close().await;
}
