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
    assert_eq!(list[0]["identity"], "0712*******");
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

#[tokio::test]
async fn http_control_shows_a_phone_order_and_declines_the_call() {
    let sim = Simulator::start(SimulatorConfig::for_tests())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let token = token(&sim, &http).await;
    let sim_url = format!("{}/_sim", sim.base_url());
    use base64::Engine;
    let text = "Du identifierar dig för *Kundtjänst*";
    let phone = |nin: &str| {
        json!({
            "allowedProviders": ["sbid"], "flow": "headless",
            "additionalParameters": {
                "sbid_flow": "PHONE", "sbid_call_initiator": "RP",
                "sbid_intention_text": base64::engine::general_purpose::STANDARD.encode(text),
                "sbid_intention_text_format": "simpleMarkdownV1",
                "sbid_requirement_mrtd": "true", "sbid_return_risk": "true"
            },
            "requestedAttributes": ["name","nin"],
            "prefilledInput": { "nin": nin }
        })
    };
    let s = create(&sim, &http, &token, phone("199001011239")).await;
    let id = s["id"].as_str().unwrap();

    let view: Value = http
        .get(format!("{sim_url}/sessions/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["method"], "sbid_phone");
    assert_eq!(view["status"], "CREATED");
    assert_eq!(view["call_initiator"], "RP");
    assert_eq!(view["intention_text"], text, "decoded from base64");
    assert_eq!(view["requirement_mrtd"], true);
    assert_eq!(view["return_risk"], true);
    assert!(view["authorization_details"].is_null());
    assert!(view["hint_code"].is_null());
    assert!(!view.to_string().contains("199001011239"));

    let scanned: Value = http
        .post(format!("{sim_url}/sessions/{id}/scan"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(scanned["status"], "WAITING_FOR_USER");
    assert_eq!(scanned["hint_code"], "userCallConfirm");

    let declined = http
        .post(format!("{sim_url}/sessions/{id}/decline"))
        .send()
        .await
        .unwrap();
    assert_eq!(declined.status(), StatusCode::OK);
    let declined: Value = declined.json().await.unwrap();
    assert_eq!(declined["status"], "ERROR");
    assert_eq!(declined["error_code"], "userDeclinedCall");
    let session: Value = get(&sim, &http, &token, id).await.json().await.unwrap();
    assert_eq!(session["error"]["code"], "userDeclinedCall");

    let again = http
        .post(format!("{sim_url}/sessions/{id}/decline"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let unknown = http
        .post(format!("{sim_url}/sessions/nope/decline"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn http_control_issues_id_card_qr_codes() {
    let sim = Simulator::start(SimulatorConfig::for_tests())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let token = token(&sim, &http).await;
    let sim_url = format!("{}/_sim", sim.base_url());

    let before = time::OffsetDateTime::now_utc().unix_timestamp();
    let r = http
        .post(format!("{sim_url}/idcard"))
        .json(&json!({ "nin": "198304062717" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let card: Value = r.json().await.unwrap();
    // 30 s at the tests' time scale of 0.1.
    assert_eq!(card["expiresInSeconds"], 3);
    let qr = card["qrData"].as_str().unwrap();
    let payload = qr.strip_prefix("BANKIDF.").unwrap();
    assert!(payload
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
    let decoded = String::from_utf8(hex::decode(payload).unwrap()).unwrap();
    let (nin, issued) = decoded.split_once(':').unwrap();
    assert_eq!(nin, "198304062717");
    let issued: i64 = issued.parse().unwrap();
    assert!(issued >= before && issued <= time::OffsetDateTime::now_utc().unix_timestamp());

    let s = create(
        &sim,
        &http,
        &token,
        json!({
            "allowedProviders": ["sbid-idcard"], "flow": "headless",
            "additionalParameters": { "sbid_idcard_qr_data": qr },
            "requestedAttributes": ["name"]
        }),
    )
    .await;
    assert_eq!(s["status"], "CREATED");
    let view: Value = http
        .get(format!("{sim_url}/sessions/{}", s["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["method"], "sbid_idcard");
    assert_eq!(view["customer_name"], "Anna Andersson");

    for bad in [
        json!({ "nin": "198304062718" }),
        json!({ "nin": "29124815345" }),
    ] {
        let r = http
            .post(format!("{sim_url}/idcard"))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        let e: Value = r.json().await.unwrap();
        assert!(e["error"].as_str().unwrap().contains("personnummer"), "{e}");
    }
    let missing = http
        .post(format!("{sim_url}/idcard"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(missing.status().is_client_error());
}
