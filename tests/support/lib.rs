//! Shared harness for the end-to-end suite: the real app window driven over WebDriver
//! (`tauri-driver` → Debian's `WebKitWebDriver` → our binary under Xvfb), and paths to the built
//! binaries. `make e2e` builds the binaries and sets `IDDESK_APP` / `IDDESK_CLI`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod a11y;
pub mod cli;
pub mod pg;
pub mod tls_proxy;
pub mod vault_db;
pub mod webdriver;

use webdriver::WebDriver;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The main window's title (`src-tauri/tauri.conf.json`).
const WINDOW_TITLE: &str = "ID Desk";

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
    pub client: WebDriver,
    driver: Child,
    pub home: tempfile::TempDir,
}

impl Desk {
    pub async fn open() -> Result<Desk, BoxError> {
        Self::open_with(|_| Ok(())).await
    }

    /// As [`Desk::open`], after `prepare` has written files into the app's config directory
    /// (`$XDG_CONFIG_HOME/id-desk`), e.g. a profile.
    pub async fn open_with(
        prepare: impl FnOnce(&Path) -> std::io::Result<()>,
    ) -> Result<Desk, BoxError> {
        Self::open_until(prepare, "body[data-ready='true']").await
    }

    /// As [`Desk::open_with`], for a desk that cannot open: the window comes up showing why
    /// (`body[data-ready='failed']`).
    pub async fn open_failing(
        prepare: impl FnOnce(&Path) -> std::io::Result<()>,
    ) -> Result<Desk, BoxError> {
        Self::open_until(prepare, "body[data-ready='failed']").await
    }

    async fn open_until(
        prepare: impl FnOnce(&Path) -> std::io::Result<()>,
        ready: &str,
    ) -> Result<Desk, BoxError> {
        let app = binary("IDDESK_APP", "id-desk");
        if !app.exists() {
            return Err(format!("app binary {} not found: run `make e2e`", app.display()).into());
        }
        let home = tempfile::tempdir()?;
        let config = home.path().join("config").join("id-desk");
        std::fs::create_dir_all(&config)?;
        prepare(&config)?;
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
                .envs(app_dirs(home.path()))
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(|e| format!("cannot start tauri-driver (run `make e2e`): {e}"))?;
        let caps = serde_json::json!({ "tauri:options": { "application": app.to_string_lossy() } });
        let url = format!("http://127.0.0.1:{port}");
        wait_for_port(port, Duration::from_secs(20)).await?;
        let client = WebDriver::connect(&url, caps, Duration::from_secs(20)).await?;
        let desk = Desk {
            client,
            driver,
            home,
        };
        if let Err(e) = desk.wait_for_css(ready, Duration::from_secs(15)).await {
            let state = desk
                .js("return [location.href, document.readyState, typeof window.__TAURI__, document.body ? document.body.dataset.ready : null, window.__bootError || null]")
                .await;
            return Err(
                format!("the window never became ready ({e}); page state: {state:?}").into(),
            );
        }
        Ok(desk)
    }

    /// Waits until WebDriver sees exactly `count` windows (a second window opens or closes
    /// asynchronously) and returns their handles.
    pub async fn wait_for_windows(
        &self,
        count: usize,
        within: Duration,
    ) -> Result<Vec<String>, BoxError> {
        let deadline = Instant::now() + within;
        loop {
            let handles = self.client.window_handles().await?;
            if handles.len() == count {
                return Ok(handles);
            }
            if Instant::now() > deadline {
                return Err(format!("expected {count} windows, WebDriver sees {handles:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for a second window to open beside the current one; returns (current, second).
    pub async fn wait_for_second_window(
        &self,
        within: Duration,
    ) -> Result<(String, String), BoxError> {
        let main = self.client.window_handle().await?;
        let other = self
            .wait_for_windows(2, within)
            .await?
            .into_iter()
            .find(|h| *h != main)
            .ok_or("two handles, none of them new")?;
        Ok((main, other))
    }

    /// Waits until an element matching `css` exists and returns its text.
    pub async fn wait_for_css(&self, css: &str, within: Duration) -> Result<String, BoxError> {
        let deadline = Instant::now() + within;
        loop {
            let err = match self.client.find(css).await {
                Ok(el) => return Ok(self.client.text(&el).await.unwrap_or_default()),
                Err(e) => e,
            };
            if Instant::now() > deadline {
                return Err(format!("nothing matched `{css}` within {within:?}: {err}").into());
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
            if let Ok(el) = self.client.find(css).await {
                if let Ok(t) = self.client.text(&el).await {
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

    /// Clicks like a person: the element is scrolled into the middle of its scrolling column
    /// first (WebKitWebDriver scrolls only the page, not the columns, and refuses an element
    /// below a column's fold as "not interactable").
    pub async fn click(&self, css: &str) -> Result<(), BoxError> {
        let el = self.client.find(css).await?;
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'}); return true",
                vec![el.to_json()],
            )
            .await?;
        self.client.click(&el).await
    }

    pub async fn fill(&self, css: &str, text: &str) -> Result<(), BoxError> {
        let el = self.client.find(css).await?;
        self.client.clear(&el).await?;
        // WebKitWebDriver refuses an empty text: a cleared field is already "".
        if text.is_empty() {
            return Ok(());
        }
        self.client.send_keys(&el, text).await
    }

    pub async fn js(&self, script: &str) -> Result<serde_json::Value, BoxError> {
        self.client.execute(script, vec![]).await
    }

    /// Calls one of the app's commands from inside the window, as the UI does.
    pub async fn invoke(
        &self,
        cmd: &str,
        args: serde_json::Value,
    ) -> Result<serde_json::Value, BoxError> {
        let script = "const done = arguments[arguments.length - 1];\
            window.__TAURI__.core.invoke(arguments[0], arguments[1])\
              .then((v) => done({ ok: v }), (e) => done({ err: e }));";
        let v = self
            .client
            .execute_async(script, vec![cmd.into(), args])
            .await?;
        match v.get("ok") {
            Some(ok) => Ok(ok.clone()),
            None => Err(format!(
                "{cmd} failed: {}",
                v.get("err").cloned().unwrap_or_default()
            )
            .into()),
        }
    }

    /// The whole window as the X server shows it (ImageMagick's `import`, by window title):
    /// WebDriver's own screenshot never returns when WebKit's GPU compositing is off, as the desk
    /// runs it. Waits a moment first so the last DOM change has been painted.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf, BoxError> {
        self.screenshot_of(WINDOW_TITLE, name).await
    }

    /// As [`Desk::screenshot`], of the app window titled `title` (e.g. the customer display).
    pub async fn screenshot_of(&self, title: &str, name: &str) -> Result<PathBuf, BoxError> {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let path = artifacts_dir().join(format!("{name}.png"));
        // `import` waits for a mouse click when no window has that name: bounded.
        let run = tokio::process::Command::new("import")
            .args(["-window", title])
            .arg(&path)
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(20), run)
            .await
            .map_err(|_| format!("import -window {title:?}: no such window"))?
            .map_err(|e| format!("import (ImageMagick): {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "import -window {title:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        Ok(path)
    }

    /// Answers the OS folder picker titled `title` (GTK's, opened by the app) as staff would with
    /// the keyboard: the location field (Ctrl+L), the folder's path, Enter. `None` presses
    /// Escape instead (staff close the picker). Driven through the X server with `xdotool`.
    pub async fn answer_folder_picker(
        &self,
        title: &str,
        folder: Option<&Path>,
    ) -> Result<(), BoxError> {
        // Polled: `--sync` may return a picker that is not shown yet, or the one closed before.
        let deadline = Instant::now() + Duration::from_secs(20);
        let window = loop {
            let found = xdotool(
                &["search", "--onlyvisible", "--name", title],
                Duration::from_secs(5),
            )
            .await
            .unwrap_or_default();
            if let Some(id) = found.lines().next() {
                break id.to_string();
            }
            if Instant::now() > deadline {
                return Err(format!("no folder picker titled {title:?} shown within 20 s").into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        xdotool(&["windowfocus", "--sync", &window], Duration::from_secs(5)).await?;
        // GTK builds the dialog's widgets after mapping it: let it settle before typing.
        tokio::time::sleep(Duration::from_millis(700)).await;
        match folder {
            None => {
                xdotool(&["key", "Escape"], Duration::from_secs(5)).await?;
                // Closed, not merely hidden behind the next step.
                let deadline = Instant::now() + Duration::from_secs(5);
                while xdotool(
                    &["search", "--onlyvisible", "--name", title],
                    Duration::from_secs(5),
                )
                .await
                .is_ok_and(|found| !found.trim().is_empty())
                {
                    if Instant::now() > deadline {
                        return Err(format!("the picker {title:?} stayed open on Escape").into());
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            Some(folder) => {
                let path = format!("{}/", folder.display());
                xdotool(&["key", "ctrl+l"], Duration::from_secs(5)).await?;
                tokio::time::sleep(Duration::from_millis(300)).await;
                xdotool(&["type", "--delay", "20", &path], Duration::from_secs(20)).await?;
                tokio::time::sleep(Duration::from_millis(300)).await;
                xdotool(&["key", "Return"], Duration::from_secs(5)).await?;
            }
        }
        Ok(())
    }

    /// Starts the app binary again with `args`, in this desk's directories, as the OS does when
    /// the phone system opens a screen-pop link. The running desk takes the link and the second
    /// start exits; its exit status is returned (bounded).
    pub fn start_again(&self, args: &[&str]) -> Result<std::process::ExitStatus, BoxError> {
        let app = binary("IDDESK_APP", "id-desk");
        let home = self.home.path();
        let mut child = Command::new(app)
            .args(args)
            .envs(app_dirs(home))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err("the second start did not hand over and exit within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub async fn close(mut self) {
        self.client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The app's configuration, data and state directories under one test home.
/// Runs `xdotool` (bounded), returning its stdout.
async fn xdotool(args: &[&str], within: Duration) -> Result<String, BoxError> {
    let run = tokio::process::Command::new("xdotool")
        .args(args)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(within, run)
        .await
        .map_err(|_| format!("xdotool {args:?}: no answer within {within:?}"))?
        .map_err(|e| format!("xdotool: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "xdotool {args:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn app_dirs(home: &Path) -> [(&'static str, PathBuf); 4] {
    [
        ("XDG_CONFIG_HOME", home.join("config")),
        ("XDG_DATA_HOME", home.join("data")),
        ("XDG_STATE_HOME", home.join("state")),
        // The IT department's directory (policy.toml, managed profiles) of this desk alone;
        // debug builds only read it from here (see id_desk_core::policy::system_dir).
        ("IDDESK_SYSTEM_DIR", home.join("system")),
    ]
}

/// Prepares a config directory whose active profile cannot be used (an `http://` Signicat URL):
/// the desk opens its window only to say why (`Desk::open_failing`).
pub fn broken_active_profile(config: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(config.join("profiles"))?;
    std::fs::write(
        config.join("profiles").join("branch.toml"),
        "name = \"branch\"\n[rest]\nbase_url = \"http://api.signicat.com\"\naccount_id = \"a\"\nclient_id = \"c\"\n",
    )?;
    std::fs::write(config.join("active-profile"), "branch\n")
}

/// The system directory IT manages for the desk whose config directory `prepare` was given.
pub fn system_dir_of(config: &Path) -> PathBuf {
    config
        .parent()
        .and_then(Path::parent)
        .map(|home| home.join("system"))
        .unwrap_or_else(|| config.join("system"))
}

async fn wait_for_port(port: u16, within: Duration) -> Result<(), BoxError> {
    let deadline = Instant::now() + within;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        if Instant::now() > deadline {
            return Err(format!("tauri-driver did not listen on {port}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
