//! Create answer → binding words visible in the real window (release app under Xvfb, driven over
//! WebDriver like the end-to-end suite). The app stamps each window event with the instant it left
//! Rust (`sent_at_ms`, microseconds after the create answer: see the lag figures); the page records
//! the delay until the words are laid out and visible (layout forced right after the DOM update).
//! Not the next paint: under Xvfb, with no compositor, WebKit throttles animation frames to a few
//! per second, which would measure Xvfb rather than ID Desk.

use std::time::Duration;

use id_desk_e2e::Desk;

/// Delays in ms, one per flow, from `flows` Safe Conversations started in one window.
pub async fn run(flows: usize) -> Result<Vec<f64>, String> {
    let desk = Desk::open().await.map_err(|e| e.to_string())?;
    let result = measure(&desk, flows).await;
    desk.close().await;
    result
}

async fn measure(desk: &Desk, flows: usize) -> Result<Vec<f64>, String> {
    let err = |e: id_desk_e2e::BoxError| e.to_string();
    for (i, nin) in id_desk_bench::nins::interactive_nins(flows)
        .iter()
        .enumerate()
    {
        desk.fill("#auth-nin", nin).await.map_err(err)?;
        desk.click("#identify-start").await.map_err(err)?;
        let want = i + 1;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let n = desk
                .js("return (window.__bindingShownMs || []).length")
                .await
                .map_err(err)?
                .as_u64()
                .unwrap_or(0) as usize;
            if n >= want {
                break;
            }
            if std::time::Instant::now() > deadline {
                return Err(format!(
                    "flow {want}: the binding words never became visible"
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // End the flow so the next one starts from a calm window.
        desk.click(".flow-card[data-state='running'] .cancel")
            .await
            .map_err(err)?;
    }
    let samples = desk
        .js("return window.__bindingShownMs")
        .await
        .map_err(err)?;
    let samples: Vec<f64> = serde_json::from_value(samples).map_err(|e| e.to_string())?;
    Ok(samples)
}
