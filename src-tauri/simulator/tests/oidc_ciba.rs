//! CIBA over real HTTP: `authorization_details` with `phoneAuth` (RFC 9396), and how a customer
//! declining the call reaches the token endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod oidc_support;

use std::time::Duration;

use id_desk_simulator::phone::{CallInitiator, Method};
use id_desk_simulator::Simulator;
use oidc_support::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

const GRANT: &str = "urn:openid:params:grant-type:ciba";

async fn backchannel(sim: &Simulator, hint: &str, details: Option<&str>) -> (StatusCode, Value) {
    let c = &sim.config().oidc_client;
    let mut form = vec![("scope", "openid profile"), ("login_hint", hint)];
    if let Some(d) = details {
        form.push(("authorization_details", d));
    }
    let r = Flow::new()
        .http
        .post(format!("{}/backchannel", sim.issuer()))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

/// Polls the token endpoint until the answer is not `authorization_pending`.
async fn poll_token(sim: &Simulator, auth_req_id: &str) -> (StatusCode, Value) {
    let flow = Flow::new();
    let c = sim.config().oidc_client.clone();
    for _ in 0..1000 {
        let (status, body) = flow
            .token(
                sim,
                (&c.client_id, &c.client_secret),
                &[("grant_type", GRANT), ("auth_req_id", auth_req_id)],
            )
            .await;
        if body["error"] != "authorization_pending" {
            return (status, body);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("still pending after 1000 polls");
}

async fn outcome(sim: &Simulator, hint: &str, details: Option<&str>) -> (StatusCode, Value) {
    let (status, started) = backchannel(sim, hint, details).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    poll_token(sim, started["auth_req_id"].as_str().unwrap()).await
}

const PHONE_RP: &str = r#"[{"type":"phoneAuth","callInitiator":"RP"}]"#;
const PHONE_USER: &str = r#"[{"type":"phoneAuth","callInitiator":"user"}]"#;

#[tokio::test]
async fn phone_auth_makes_a_declined_call_access_denied() {
    let sim = start(config()).await;
    sim.warm_up_keys();

    // Karin says she is not in a call with you.
    let (status, body) = outcome(&sim, "198702142343", Some(PHONE_RP)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": "access_denied", "error_description": "userDeclinedCall"})
    );
    let order = &sim.control().sessions()[0];
    assert_eq!(order.method, Method::SbidPhone);
    assert_eq!(order.requested.call_initiator, Some(CallInitiator::Rp));
    assert_eq!(
        order.requested.authorization_details,
        Some(serde_json::from_str::<Value>(PHONE_RP).unwrap())
    );

    // Per picks the wrong words: in a Norwegian call that is a declined call too.
    let (_, body) = outcome(&sim, "30049200079", Some(PHONE_USER)).await;
    assert_eq!(body["error"], "access_denied");
    assert_eq!(body["error_description"], "userDeclinedCall");

    // Without phoneAuth nothing changes: a BankID failure.
    let (_, body) = outcome(&sim, "198702142343", None).await;
    assert_eq!(body["error"], "transaction_failed");
    assert_eq!(
        sim.control().sessions()[2].method,
        Method::SbidAppLaunch,
        "no phoneAuth, no Phone order"
    );
    assert!(sim.control().sessions()[2]
        .requested
        .authorization_details
        .is_none());

    // A normal cancel stays a normal refusal, and Anna still identifies.
    let (_, body) = outcome(&sim, "199010270537", Some(PHONE_RP)).await;
    assert_eq!(body["error"], "access_denied");
    assert_eq!(body["error_description"], "the customer declined");
    let (status, tokens) = outcome(&sim, "198304062717", Some(PHONE_USER)).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = verify_id_token(tokens["id_token"].as_str().unwrap(), &jwks(&sim).await).unwrap();
    assert_eq!(claims["signicat.national_id"], "198304062717");
}

#[tokio::test]
async fn phone_auth_for_an_unknown_customer_follows_the_control_api() {
    let sim = start(config()).await;
    let control = sim.control();
    let (status, started) = backchannel(&sim, "199001011239", Some(PHONE_USER)).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let order = control.sessions()[0].clone();
    assert_eq!(order.method, Method::SbidPhone);
    assert_eq!(order.requested.call_initiator, Some(CallInitiator::User));
    control.decline_call(&order.id).unwrap();
    let (_, body) = poll_token(&sim, started["auth_req_id"].as_str().unwrap()).await;
    assert_eq!(body["error_description"], "userDeclinedCall");
}

#[tokio::test]
async fn malformed_authorization_details_are_refused() {
    let sim = start(config()).await;
    for bad in [
        "not json",
        "",
        r#"{"type":"phoneAuth","callInitiator":"RP"}"#,
        r#"[{"type":"payment"}]"#,
        r#"[{"type":"phoneAuth"}]"#,
        r#"[{"type":"phoneAuth","callInitiator":"rp"}]"#,
        r#"[{"type":"phoneAuth","callInitiator":1}]"#,
        r#"["phoneAuth"]"#,
        r#"[{"callInitiator":"RP"}]"#,
        r#"[{"type":"phoneAuth","callInitiator":"RP"},{"type":"phoneAuth","callInitiator":"user"}]"#,
    ] {
        let (status, body) = backchannel(&sim, "198304062717", Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body["error"], "invalid_authorization_details", "{bad}");
        assert!(
            body["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{bad}"
        );
    }
    assert!(sim.control().sessions().is_empty(), "nothing was started");
    // An empty list asks for nothing in particular.
    let (status, _) = backchannel(&sim, "198304062717", Some("[]")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sim.control().sessions()[0].method, Method::SbidAppLaunch);
}
