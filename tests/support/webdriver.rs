//! A minimal W3C WebDriver client over reqwest: exactly the commands the suite uses. (fantoccini's
//! session request never reached the app through tauri-driver here; the protocol is small enough
//! that a plain client is the simpler thing to trust.)

use std::time::Duration;

use serde_json::{json, Value};

use crate::BoxError;

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

#[derive(Clone)]
pub struct WebDriver {
    http: reqwest::Client,
    session: String,
}

#[derive(Clone, Debug)]
pub struct Element(String);

impl Element {
    /// The element as a script argument (WebDriver's element reference).
    pub fn to_json(&self) -> Value {
        json!({ ELEMENT_KEY: self.0 })
    }
}

impl WebDriver {
    /// Opens a session at `base` (e.g. `http://127.0.0.1:4444`) with `capabilities.alwaysMatch`.
    /// tauri-driver accepts connections before the native driver behind it listens and then drops
    /// them, so a transport error is retried until `within` has passed.
    pub async fn connect(
        base: &str,
        always_match: Value,
        within: Duration,
    ) -> Result<WebDriver, BoxError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let body = json!({ "capabilities": { "alwaysMatch": always_match } });
        let deadline = std::time::Instant::now() + within;
        let resp: Value = loop {
            match http
                .post(format!("{base}/session"))
                .json(&body)
                .send()
                .await
            {
                Ok(r) => break r.json().await?,
                Err(e) if std::time::Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => return Err(e.into()),
            }
        };
        let session = resp["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no WebDriver session: {resp}"))?
            .to_string();
        Ok(WebDriver {
            http,
            session: format!("{base}/session/{session}"),
        })
    }

    async fn cmd(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, BoxError> {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp: Value = req.send().await?.json().await?;
        let value = resp.get("value").cloned().unwrap_or(Value::Null);
        if let Some(err) = value.get("error").and_then(Value::as_str) {
            let msg = value
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default();
            return Err(format!("webdriver {path}: {err}: {msg}").into());
        }
        Ok(value)
    }

    pub async fn find(&self, css: &str) -> Result<Element, BoxError> {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        let id = v[ELEMENT_KEY]
            .as_str()
            .ok_or_else(|| format!("no element for {css}: {v}"))?;
        Ok(Element(id.to_string()))
    }

    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>, BoxError> {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT_KEY].as_str().map(|s| Element(s.to_string())))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub async fn text(&self, el: &Element) -> Result<String, BoxError> {
        let v = self
            .cmd(
                reqwest::Method::GET,
                &format!("/element/{}/text", el.0),
                None,
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    pub async fn click(&self, el: &Element) -> Result<(), BoxError> {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/click", el.0),
            Some(json!({})),
        )
        .await?;
        Ok(())
    }

    pub async fn clear(&self, el: &Element) -> Result<(), BoxError> {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/clear", el.0),
            Some(json!({})),
        )
        .await?;
        Ok(())
    }

    pub async fn send_keys(&self, el: &Element, text: &str) -> Result<(), BoxError> {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/value", el.0),
            Some(json!({"text": text})),
        )
        .await?;
        Ok(())
    }

    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value, BoxError> {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// Runs `script` with a `done` callback as its last argument (for promises such as IPC calls).
    pub async fn execute_async(&self, script: &str, args: Vec<Value>) -> Result<Value, BoxError> {
        self.cmd(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": script, "args": args})),
        )
        .await
    }

    /// The handle of the window commands go to now (W3C `GET /window`).
    pub async fn window_handle(&self) -> Result<String, BoxError> {
        let v = self.cmd(reqwest::Method::GET, "/window", None).await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Every top-level browsing context of the session (W3C `GET /window/handles`).
    pub async fn window_handles(&self) -> Result<Vec<String>, BoxError> {
        let v = self
            .cmd(reqwest::Method::GET, "/window/handles", None)
            .await?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Sends the following commands to `handle`'s window (W3C `POST /window`).
    pub async fn switch_to_window(&self, handle: &str) -> Result<(), BoxError> {
        self.cmd(
            reqwest::Method::POST,
            "/window",
            Some(json!({ "handle": handle })),
        )
        .await?;
        Ok(())
    }

    /// The current window's position and size (W3C `GET /window/rect`).
    pub async fn window_rect(&self) -> Result<Value, BoxError> {
        self.cmd(reqwest::Method::GET, "/window/rect", None).await
    }

    pub async fn set_window_rect(&self, rect: &Value) -> Result<Value, BoxError> {
        self.cmd(reqwest::Method::POST, "/window/rect", Some(rect.clone()))
            .await
    }

    pub async fn close(&self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}
