//! Shared harness for the end-to-end suite: the real app window driven over WebDriver
//! (`tauri-driver` → Debian's `WebKitWebDriver` → our binary under Xvfb), and paths to the built
//! binaries. `make e2e` builds the binaries and sets `IDDESK_APP` / `IDDESK_CLI`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The built binary named by `var`, or `<target>/debug/<name>` next to this test binary.
pub fn binary(var: &str, name: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        return PathBuf::from(p);
    }
    // test binaries live in <target>/debug/deps/
    let exe = std::env::current_exe().unwrap_or_default();
    let debug_dir = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    debug_dir.join(name)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// Where screenshots go: `tests/artifacts/` (ignored by git); `make screenshots` copies the ones
/// the README shows into `tests/screenshots/`.
pub fn artifacts_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// One running app window under WebDriver, with its own config, data and log directories so the
/// app starts in Training mode and leaves nothing behind.
pub struct Desk {
    pub client: Client,
    driver: Child,
    pub home: tempfile::TempDir,
}

impl Desk {
    pub async fn open() -> Result<Desk, BoxError> {
        let app = binary("IDDESK_APP", "id-desk");
        if !app.exists() {
            return Err(format!("app binary {} not found: run `make e2e`", app.display()).into());
        }
        let home = tempfile::tempdir()?;
        let port = free_port();
        let native_port = free_port();
        let driver =
            Command::new(std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into()))
                .args([
                    "--port",
                    &port.to_string(),
                    "--native-port",
                    &native_port.to_string(),
                ])
                .env("XDG_CONFIG_HOME", home.path().join("config"))
                .env("XDG_DATA_HOME", home.path().join("data"))
                .env("XDG_STATE_HOME", home.path().join("state"))
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(|e| format!("cannot start tauri-driver (run `make e2e`): {e}"))?;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app.to_string_lossy() }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::rustls()?
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(format!("no WebDriver session: {e}").into()),
            }
        };
        let desk = Desk {
            client,
            driver,
            home,
        };
        desk.wait_for_css("body[data-ready='true']", Duration::from_secs(15))
            .await?;
        Ok(desk)
    }

    /// Waits until an element matching `css` exists and returns its text.
    pub async fn wait_for_css(&self, css: &str, within: Duration) -> Result<String, BoxError> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                return Ok(el.text().await.unwrap_or_default());
            }
            if Instant::now() > deadline {
                return Err(format!("nothing matched `{css}` within {within:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `css`'s text satisfies `pred`; returns that text.
    pub async fn wait_text(
        &self,
        css: &str,
        within: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Result<String, BoxError> {
        let deadline = Instant::now() + within;
        let mut last = String::new();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(t) = el.text().await {
                    if pred(&t) {
                        return Ok(t);
                    }
                    last = t;
                }
            }
            if Instant::now() > deadline {
                return Err(
                    format!("`{css}` never matched within {within:?}; last text {last:?}").into(),
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn click(&self, css: &str) -> Result<(), BoxError> {
        self.client.find(Locator::Css(css)).await?.click().await?;
        Ok(())
    }

    pub async fn fill(&self, css: &str, text: &str) -> Result<(), BoxError> {
        let el = self.client.find(Locator::Css(css)).await?;
        el.clear().await?;
        el.send_keys(text).await?;
        Ok(())
    }

    pub async fn js(&self, script: &str) -> Result<serde_json::Value, BoxError> {
        Ok(self.client.execute(script, vec![]).await?)
    }

    /// Full-window screenshot (element screenshots come back black on WebKitGTK). Waits a moment
    /// first: the previous frame is returned right after a DOM change.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf, BoxError> {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let png = self.client.screenshot().await?;
        let path = artifacts_dir().join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    pub async fn close(mut self) {
        let client = self.client.clone();
        let _ = client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
