//! Rough figures for the report: start-up time (OIDC keys cached after the first), token and
//! session request latency over loopback, and how late a persona's SUCCESS is seen by a 1 s poller.
//! `cargo run -p id-desk-simulator --example measure --release`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use id_desk_simulator::{Simulator, SimulatorConfig};
use serde_json::{json, Value};

#[tokio::main]
async fn main() {
    let t = Instant::now();
    let first = Simulator::start(SimulatorConfig::for_tests())
        .await
        .unwrap();
    println!("first start: {:?}", t.elapsed());
    let http = reqwest::Client::new();
    let t = Instant::now();
    http.get(format!("{}/jwks.json", first.issuer()))
        .send()
        .await
        .unwrap();
    println!(
        "first JWKS (generates the four OIDC keys in parallel): {:?}",
        t.elapsed()
    );
    let t = Instant::now();
    for _ in 0..20 {
        Simulator::start(SimulatorConfig::for_tests())
            .await
            .unwrap()
            .shutdown()
            .await;
    }
    println!("later start+shutdown, mean of 20: {:?}", t.elapsed() / 20);

    let sim = first;
    let c = sim.config().rest_client.clone();
    let token_url = format!("{}/auth/open/connect/token", sim.base_url());
    let t = Instant::now();
    let mut token = String::new();
    for _ in 0..200 {
        let v: Value = http
            .post(&token_url)
            .basic_auth(&c.client_id, Some(&c.client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        token = v["access_token"].as_str().unwrap().to_owned();
    }
    println!("token request, mean of 200: {:?}", t.elapsed() / 200);

    let sessions = format!(
        "{}/auth/rest/sessions?signicat-accountId={}",
        sim.base_url(),
        sim.config().account_id
    );
    let body = json!({"allowedProviders": ["sbid"], "flow": "headless",
        "additionalParameters": {"sbid_flow": "QR", "sbid_end_user_ip": "203.0.113.7"},
        "requestedAttributes": ["name", "nin"]});
    let t = Instant::now();
    let mut id = String::new();
    for _ in 0..200 {
        let v: Value = http
            .post(&sessions)
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        id = v["id"].as_str().unwrap().to_owned();
    }
    println!("create (sbid QR), mean of 200: {:?}", t.elapsed() / 200);
    let get = format!(
        "{}/auth/rest/sessions/{id}?signicat-accountId={}",
        sim.base_url(),
        sim.config().account_id
    );
    let t = Instant::now();
    for _ in 0..1000 {
        http.get(&get)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
    }
    println!(
        "get with fresh qrData (HMAC) among 200 sessions, mean of 1000: {:?}",
        t.elapsed() / 1000
    );

    // A 1 s poller sees a persona's SUCCESS between 0 and 1 s after the approval instant.
    let real = Simulator::start(SimulatorConfig {
        time_scale: 1.0,
        ..SimulatorConfig::for_tests()
    })
    .await
    .unwrap();
    let v: Value = http
        .post(format!("{}/auth/open/connect/token", real.base_url()))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = v["access_token"].as_str().unwrap().to_owned();
    let base = format!("{}/auth/rest/sessions", real.base_url());
    let q = format!("signicat-accountId={}", real.config().account_id);
    let v: Value = http
        .post(format!("{base}?{q}"))
        .bearer_auth(&token)
        .json(&json!({"allowedProviders": ["nbid"], "flow": "headless",
            "additionalParameters": {"nbid_auth_type": "PHONE"},
            "requestedAttributes": ["name"], "prefilledInput": {"nin": "29124815345"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = v["id"].as_str().unwrap().to_owned();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let v: Value = http
            .get(format!("{base}/{id}?{q}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["status"] == "SUCCESS" {
            let seen = Instant::now();
            let approved = real.control().stats().session(&id).approved_at.unwrap();
            println!(
                "persona 29124815345 (2 s): SUCCESS seen {:?} after the approval instant",
                seen - approved
            );
            break;
        }
    }
}
