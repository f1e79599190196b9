//! The control API over HTTP (`/_sim/...`): the same phone, faults and statistics as the Rust API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use id_desk_simulator::{Endpoint, Fault, FaultKind, Simulator, SimulatorConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn token(sim: &Simulator, http: &reqwest::Client) -> String {
    let c = &sim.config().rest_client;
    let body: Value = http
        .post(format!("{}/auth/open/connect/token", sim.base_url()))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

async fn create(sim: &Simulator, http: &reqwest::Client, token: &str, body: Value) -> Value {
    http.post(format!(
        "{}/auth/rest/sessions?signicat-accountId={}",
        sim.base_url(),
        sim.config().account_id
    ))
    .bearer_auth(token)
    .json(&body)
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap()
}

async fn get(sim: &Simulator, http: &reqwest::Client, token: &str, id: &str) -> reqwest::Response {
    http.get(format!(
        "{}/auth/rest/sessions/{id}?signicat-accountId={}",
        sim.base_url(),
        sim.config().account_id
    ))
    .bearer_auth(token)
    .send()
    .await
    .unwrap()
}

fn safe_conversation(nin: &str) -> Value {
    json!({
        "allowedProviders": ["nbid"], "flow": "headless",
        "additionalParameters": { "nbid_auth_type": "PHONE" },
        "requestedAttributes": ["name","nin"],
        "prefilledInput": { "nin": nin }
    })
}

#[tokio::test]
async fn http_control_acts_as_the_phone() {
    let sim = Simulator::start(SimulatorConfig::for_tests())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let token = token(&sim, &http).await;
    let sim_url = format!("{}/_sim", sim.base_url());

    let a = create(&sim, &http, &token, safe_conversation("07128300060")).await;
    let a_id = a["id"].as_str().unwrap();
    let b = create(&sim, &http, &token, safe_conversation("07128300060")).await;
    let b_id = b["id"].as_str().unwrap();
    let c = create(&sim, &http, &token, safe_conversation("07128300060")).await;
    let c_id = c["id"].as_str().unwrap();

    let list: Value = http
        .get(format!("{sim_url}/sessions"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["family"], "rest");
    assert_eq!(list[0]["method"], "nbid_safe_conversation");
    assert_eq!(list[0]["status"], "CREATED");
    assert_eq!(list[0]["identity"], "071283*****");
    assert!(
        !list[0].to_string().contains("07128300060"),
        "full identity numbers never leave the phone view"
    );
    assert_eq!(list[0]["binding_choices"].as_array().unwrap().len(), 3);

    let words = a["idpData"]["bindingMessage"].as_str().unwrap();
    let picked: Value = http
        .post(format!("{sim_url}/sessions/{a_id}/pick"))
        .json(&json!({ "text": words }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(picked["status"], "SUCCESS");
    assert!(picked["approved_at_unix_ns"].as_u64().is_some());

    let r = http
        .post(format!("{sim_url}/sessions/{b_id}/reject"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let session: Value = get(&sim, &http, &token, b_id).await.json().await.unwrap();
    assert_eq!(session["status"], "ABORT");

    let again = http
        .post(format!("{sim_url}/sessions/{b_id}/approve"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);

    let approved = http
        .post(format!("{sim_url}/sessions/{c_id}/approve"))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), StatusCode::OK);
    let session: Value = get(&sim, &http, &token, c_id).await.json().await.unwrap();
    assert_eq!(session["status"], "SUCCESS");

    let unknown = http
        .post(format!("{sim_url}/sessions/nope/scan"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let personas: Value = http
        .get(format!("{sim_url}/personas"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(personas.as_array().unwrap().len() >= 12);
}

#[tokio::test]
async fn http_control_injects_faults_and_reads_stats() {
    let sim = Simulator::start(SimulatorConfig::for_tests())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let token = token(&sim, &http).await;
    let sim_url = format!("{}/_sim", sim.base_url());
    let s = create(&sim, &http, &token, safe_conversation("07128300060")).await;
    let id = s["id"].as_str().unwrap();

    // The JSON form of a Fault is its serde form; check it against the Rust type.
    let fault = Fault::new(
        Endpoint::Get,
        FaultKind::Unavailable {
            retry_after_secs: 2,
        },
    )
    .for_session(id)
    .times(2);
    let fault_json = serde_json::to_value(&fault).unwrap();
    assert_eq!(
        fault_json,
        json!({"target": "Get", "session": id, "kind": {"Unavailable": {"retry_after_secs": 2}}, "times": 2})
    );
    let r = http
        .post(format!("{sim_url}/faults"))
        .json(&fault_json)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let pending: Value = http
        .get(format!("{sim_url}/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pending.as_array().unwrap().len(), 1);

    assert_eq!(
        get(&sim, &http, &token, id).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    // Latency given as JSON too.
    http.post(format!("{sim_url}/faults"))
        .json(&json!({"target": "Token", "kind": {"Latency": {"secs": 0, "nanos": 1000000}}}))
        .send()
        .await
        .unwrap();
    let bad = http
        .post(format!("{sim_url}/faults"))
        .json(&json!({"target": "Nowhere", "kind": "DropConnection"}))
        .send()
        .await
        .unwrap();
    assert!(bad.status().is_client_error());

    let r = http
        .delete(format!("{sim_url}/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(get(&sim, &http, &token, id).await.status(), StatusCode::OK);

    let stats: Value = http
        .get(format!("{sim_url}/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["requests"]["Token"], 1);
    assert_eq!(stats["requests"]["Create"], 1);
    assert_eq!(stats["requests"]["Get"], 2);
    assert_eq!(stats["sessions"][id]["polls"], 2);

    let r = http
        .post(format!("{sim_url}/stats/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(sim.control().stats().count(Endpoint::Get), 0);

    let r = http
        .delete(format!("{sim_url}/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get(&sim, &http, &token, id).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn control_debug_output_has_no_secrets() {
    let config = SimulatorConfig::training();
    let secret = config.rest_client.client_secret.clone();
    assert_eq!(secret.len(), 32);
    assert!(!format!("{config:?}").contains(&secret));
    assert_ne!(
        SimulatorConfig::training().rest_client.client_secret,
        secret,
        "training secrets are random"
    );
    let sim = Simulator::start(config).await.unwrap();
    assert!(!format!("{sim:?} {:?}", sim.control()).contains(&secret));
    assert!(sim.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(sim.issuer(), format!("{}/oidc", sim.base_url()));
    sim.shutdown().await;
}
