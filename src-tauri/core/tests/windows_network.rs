//! The corporate network as Windows configures it (issue 30, item 3), run on Windows or under
//! Wine (`make test-windows`): the system proxy is read from the registry where Internet Options
//! writes it, HTTPS goes through it, and the Training simulator's loopback traffic never does; the
//! Windows certificate store is read. Its own test binary: reqwest reads the system proxy once per
//! process, and the registry value is this test's.
#![cfg(windows)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const SETTINGS: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings";

fn reg(args: &[&str]) {
    let status = Command::new("reg").args(args).status().unwrap();
    assert!(status.success(), "reg {args:?}: {status}");
}

/// One value of Internet Options' settings, as the Control Panel writes it.
fn set_setting(name: &str, kind: &str, data: &str) {
    reg(&["add", SETTINGS, "/v", name, "/t", kind, "/d", data, "/f"]);
}

type Seen = Arc<Mutex<Vec<String>>>;

/// Accepts connections, records the first line of each request, answers 200 and closes.
async fn recorder() -> (u16, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let lines: Seen = Arc::default();
    let l = lines.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = vec![0u8; 4096];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            l.lock()
                .unwrap()
                .push(text.lines().next().unwrap_or_default().to_string());
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .await;
        }
    });
    (port, lines)
}

#[tokio::test]
async fn the_system_proxy_carries_https_and_never_the_loopback_simulator() {
    assert!(
        std::env::var_os("HTTPS_PROXY").is_none() && std::env::var_os("https_proxy").is_none(),
        "the environment must not name a proxy for this test"
    );
    let (proxy_port, proxied) = recorder().await;
    let (sim_port, direct) = recorder().await;
    set_setting("ProxyEnable", "REG_DWORD", "1");
    set_setting("ProxyServer", "REG_SZ", &format!("127.0.0.1:{proxy_port}"));

    let client = id_desk_core::net::client_builder().build().unwrap();
    // HTTPS to Signicat goes to the proxy as a CONNECT (the proxy here answers 200 and closes,
    // so the TLS handshake then fails; what matters is where the request went).
    let _ = client
        .get("https://api.signicat.invalid/health")
        .send()
        .await;
    // The simulator on loopback: directly, never through the proxy.
    let answer = client
        .get(format!("http://127.0.0.1:{sim_port}/_sim/stats"))
        .send()
        .await
        .unwrap();
    set_setting("ProxyEnable", "REG_DWORD", "0");
    reg(&["delete", SETTINGS, "/v", "ProxyServer", "/f"]);

    assert_eq!(answer.status(), 200);
    assert_eq!(direct.lock().unwrap().len(), 1, "loopback went direct");
    let lines = proxied.lock().unwrap().clone();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("CONNECT api.signicat.invalid:443"),
        "{lines:?}"
    );
    let (ok, said) = id_desk_core::net::describe_proxy();
    assert!(ok && said.contains("system's proxy setting"), "{said}");
}

#[test]
fn the_windows_certificate_store_is_read() {
    let found = rustls_native_certs::load_native_certs();
    assert!(found.errors.is_empty(), "{:?}", found.errors);
    // Windows ships dozens of roots (Wine copies the host's); a bank adds its own there.
    assert!(
        found.certs.len() >= 10,
        "{} certificates",
        found.certs.len()
    );
}
