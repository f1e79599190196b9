#![allow(dead_code)]
//! Starts the CIBA peer (node `oidc-provider`, OpenID Certified, see `tests/ciba-peer/`) on
//! loopback, and plays the customer's device through its test-only control API.
//!
//! The peer's npm packages come from `tests/ciba-peer/package-lock.json`; `make deps-test`
//! installs them (`npm ci`). A missing install fails the test with that instruction: an
//! acceptance test that silently skips would prove nothing.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

pub const BASIC_CLIENT: &str = "desk-basic";
pub const JWT_CLIENT: &str = "desk-pkjwt";

pub struct Peer {
    pub issuer: String,
    pub basic_secret: String,
    child: Child,
    // Dropping it closes the peer's stdin, which ends the peer.
    stdin: Option<ChildStdin>,
    http: reqwest::Client,
}

/// `tests/ciba-peer` at the workspace root, found from whichever crate includes this module.
fn peer_dir() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|dir| dir.join("tests/ciba-peer"))
        .find(|dir| dir.join("server.mjs").is_file())
        .unwrap_or_else(|| manifest.join("tests/ciba-peer"))
}

impl Peer {
    /// `interval`: the poll interval the peer advertises (`None`: it says nothing, so the
    /// client must use CIBA's default of 5 s). `jwk`: the public key of the `private_key_jwt`
    /// client.
    pub async fn start(interval: Option<u64>, jwk: Option<Value>) -> Peer {
        let dir = peer_dir();
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the CIBA peer is not installed: run `make deps-test` (npm ci in tests/ciba-peer)"
        );
        let basic_secret = format!("{}{}", uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
        let mut clients = vec![json!({
            "client_id": BASIC_CLIENT,
            "client_secret": basic_secret,
            "grant_types": ["urn:openid:params:grant-type:ciba"],
            "response_types": [],
            "redirect_uris": [],
            "token_endpoint_auth_method": "client_secret_basic",
            "backchannel_token_delivery_mode": "poll",
            // Caller authentication (RFC 9396): the one authorization details type it may ask for.
            "authorization_details_types": ["phoneAuth"],
        })];
        if let Some(jwk) = jwk {
            clients.push(json!({
                "client_id": JWT_CLIENT,
                "grant_types": ["urn:openid:params:grant-type:ciba"],
                "response_types": [],
                "redirect_uris": [],
                "token_endpoint_auth_method": "private_key_jwt",
                "backchannel_token_delivery_mode": "poll",
                "jwks": {"keys": [jwk]},
            }));
        }
        let mut config = json!({ "clients": clients });
        if let Some(i) = interval {
            config["interval"] = json!(i);
        }
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs (make deps-test installs it)");
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{config}").expect("config sent");
        let stdout = child.stdout.take().expect("stdout");
        // The first line says where the peer listens; whatever oidc-provider prints later is
        // drained, so the peer never dies writing to a closed pipe.
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            for _ in lines {}
        });
        let line = rx
            .await
            .expect("reader")
            .expect("the peer says where it listens")
            .expect("readable");
        let hello: Value = serde_json::from_str(&line).expect("the peer's first line is JSON");
        Peer {
            issuer: hello["issuer"].as_str().expect("issuer").to_string(),
            basic_secret,
            child,
            stdin: Some(stdin),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                // Node closes an idle connection after 5 s (keepAliveTimeout); a control call
                // after a longer pause (slow_down waits that long) must not reuse one it closed.
                .pool_max_idle_per_host(0)
                .build()
                .expect("client"),
        }
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/_test/{path}", self.issuer))
            .json(&body)
            .send()
            .await
            .expect("peer control");
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.expect("json")
    }

    /// A read of the control API that must succeed.
    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let r = self
            .http
            .get(format!("{}/_test/{path}", self.issuer))
            .query(query)
            .send()
            .await
            .expect("peer control");
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.expect("json")
    }

    /// The request pending on the customer's device for `hint`, if any.
    pub async fn pending(&self, hint: &str) -> Option<Value> {
        let r = self
            .http
            .get(format!("{}/_test/pending", self.issuer))
            .query(&[("login_hint", hint)])
            .send()
            .await
            .expect("peer control");
        if r.status().is_success() {
            Some(r.json().await.expect("json"))
        } else {
            None
        }
    }

    /// The pending request the customer's device got for `hint`, once it is there.
    pub async fn wait_pending(&self, hint: &str) -> Value {
        for _ in 0..400 {
            if let Some(p) = self.pending(hint).await {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no backchannel request for {hint} reached the peer");
    }

    /// Backchannel authentication requests received so far (each one notifies a customer).
    pub async fn backchannel_requests(&self) -> u64 {
        let v = self.get("stats", &[]).await;
        v["backchannel"].as_u64().expect("count")
    }

    pub async fn approve(&self, hint: &str) {
        self.post("approve", json!({ "login_hint": hint })).await;
    }

    pub async fn deny(&self, hint: &str) {
        self.post("deny", json!({ "login_hint": hint })).await;
    }

    /// A phone authentication's customer says they are not in a call with us.
    pub async fn decline_call(&self, hint: &str) {
        self.post("decline_call", json!({ "login_hint": hint }))
            .await;
    }

    pub async fn slow_down(&self, hint: &str, times: u32) {
        self.post("slow_down", json!({ "login_hint": hint, "times": times }))
            .await;
    }

    pub async fn forge(&self, hint: &str, how: &str) {
        self.post("forge", json!({ "login_hint": hint, "how": how }))
            .await;
    }

    /// When each token poll for `hint` arrived (ms since the epoch).
    pub async fn polls(&self, hint: &str) -> Vec<u64> {
        let v = self.get("polls", &[("login_hint", hint)]).await;
        v["polls"]
            .as_array()
            .expect("polls")
            .iter()
            .filter_map(Value::as_u64)
            .collect()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
