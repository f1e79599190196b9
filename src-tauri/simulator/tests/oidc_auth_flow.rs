//! Legacy OIDC headless authentication over real HTTP: discovery, JWKS, both methods end to end,
//! every legacy persona, statistics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod oidc_support;

use std::time::Duration;

use id_desk_simulator::{Endpoint, FaultKind};
use oidc_support::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn discovery_and_jwks_describe_the_issuer() {
    let sim = start(config()).await;
    let issuer = sim.issuer();
    let d: Value = reqwest::get(format!("{issuer}/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["issuer"], issuer.as_str());
    assert_eq!(
        d["authorization_endpoint"],
        format!("{issuer}/authorize").as_str()
    );
    assert_eq!(d["token_endpoint"], format!("{issuer}/token").as_str());
    assert_eq!(
        d["userinfo_endpoint"],
        format!("{issuer}/userinfo").as_str()
    );
    assert_eq!(d["jwks_uri"], format!("{issuer}/jwks.json").as_str());

    let keys = jwks(&sim).await;
    assert_eq!(keys.len(), 2);
    let sig = key_by_use(&keys, "sig");
    assert_eq!(sig.algorithm(), Some("RS256"));
    assert_eq!(sig.key_type(), "RSA");
    assert!(sig.key_id().is_some());
    assert!(
        sig.parameter("d").is_none(),
        "private key material published"
    );
    let enc = key_by_use(&keys, "enc");
    assert_eq!(enc.algorithm(), Some("RSA-OAEP"));
    assert!(enc.key_id().is_some());
    assert_ne!(enc.key_id(), sig.key_id());
    assert!(
        enc.parameter("d").is_none(),
        "private key material published"
    );
    let stats = sim.control().stats();
    assert_eq!(stats.count(Endpoint::Discovery), 1);
    assert_eq!(stats.count(Endpoint::Jwks), 1);
}

#[tokio::test]
async fn simulators_share_generated_keys_but_config_can_choose_rsa_oaep_256() {
    let a = start(config()).await;
    let b = start(config()).await;
    let (ka, kb) = (jwks(&a).await, jwks(&b).await);
    assert_eq!(
        key_by_use(&ka, "sig").key_id(),
        key_by_use(&kb, "sig").key_id()
    );
    let mut c = config();
    c.oidc.keys = Some(
        id_desk_simulator::OidcKeys::generated()
            .unwrap()
            .with_enc_alg(id_desk_simulator::EncAlg::RsaOaep256),
    );
    let c = start(c).await;
    assert_eq!(
        key_by_use(&jwks(&c).await, "enc").algorithm(),
        Some("RSA-OAEP-256")
    );
}

#[tokio::test]
async fn nbid_inapp_end_to_end_with_verified_id_token_and_userinfo() {
    let sim = start(config()).await;
    let flow = Flow::new();
    let req = AuthRequest::nbid(&sim, "071283", "99887766");
    let (status, body) = flow.authorize_post(&sim, &req.params()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let status_uri = body["statusUri"].as_str().unwrap().to_owned();
    assert!(status_uri.starts_with(&sim.issuer()));
    let seen = flow.poll_status(&status_uri).await;
    assert!(
        seen.len() >= 2,
        "the persona approves after a while: {seen:?}"
    );
    assert!(seen[..seen.len() - 1]
        .iter()
        .all(|b| b["status"] == "pending"));
    let last = seen.last().unwrap();
    assert_eq!(last["status"], "finished");
    let complete = last["completeUri"].as_str().unwrap();

    let (location, hops) = flow.complete(complete, REDIRECT).await.unwrap();
    assert_eq!(hops.len(), 3, "{hops:?}");
    assert!(
        !hops[0].starts_with("http"),
        "first hop must be relative: {hops:?}"
    );
    assert!(
        hops[1].starts_with(&sim.issuer()),
        "second hop absolute: {hops:?}"
    );
    assert_eq!(
        query(&location, "state").as_deref(),
        Some(req.state.as_str())
    );
    let code = query(&location, "code").unwrap();

    let client = sim.config().oidc_client.clone();
    let (status, tokens) = flow
        .token(
            &sim,
            (&client.client_id, &client.client_secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &req.verifier),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["expires_in"].as_u64().unwrap() > 0);
    assert!(tokens["scope"].as_str().unwrap().contains("openid"));
    let claims = verify_id_token(tokens["id_token"].as_str().unwrap(), &jwks(&sim).await).unwrap();
    assert_eq!(claims["iss"], sim.issuer().as_str());
    assert_eq!(claims["aud"], client.client_id.as_str());
    assert_eq!(claims["nonce"], req.nonce.as_str());
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(claims["exp"].as_i64().unwrap() > now);
    assert!(claims["iat"].as_i64().unwrap() <= now);
    assert_eq!(claims["name"], "Kari Mobil");
    assert_eq!(claims["given_name"], "Kari");
    assert_eq!(claims["family_name"], "Mobil");
    assert_eq!(claims["birthdate"], "1983-12-07");
    assert_eq!(claims["signicat.national_id"], "07128300141");
    assert!(claims["sub"].as_str().is_some_and(|s| !s.is_empty()));

    let access = tokens["access_token"].as_str().unwrap();
    let info: Value = flow
        .http
        .get(format!("{}/userinfo", sim.issuer()))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], claims["sub"]);
    assert_eq!(info["signicat.national_id"], "07128300141");
    assert_eq!(info["name"], "Kari Mobil");

    // Not a signing flow: no SDO.
    let r = flow
        .http
        .get(format!("{}/signature", sim.issuer()))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    let stats = sim.control().stats();
    assert_eq!(stats.count(Endpoint::Authorize), 1);
    assert_eq!(stats.count(Endpoint::Status), seen.len() as u64);
    assert_eq!(stats.count(Endpoint::Complete), 3);
    assert_eq!(stats.count(Endpoint::OidcToken), 1);
    assert_eq!(stats.count(Endpoint::Userinfo), 1);
    assert_eq!(stats.count(Endpoint::Signature), 1);
}

#[tokio::test]
async fn authorize_by_get_works_like_post() {
    let sim = start(config()).await;
    let flow = Flow::new();
    let req = AuthRequest::nbid(&sim, "071283", "99887766");
    let (status, body) = flow.authorize_get(&sim, &req.params()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let seen = flow.poll_status(body["statusUri"].as_str().unwrap()).await;
    assert_eq!(seen.last().unwrap()["status"], "finished");
}

#[tokio::test]
async fn sbid_inapp_end_to_end_reports_bankid_progress() {
    let mut cfg = config();
    cfg.time_scale = 0.2; // enough polls to see every progress status
    let sim = start(cfg).await;
    let flow = Flow::new();
    let req = AuthRequest::sbid(&sim, "198304062717");
    let (status, body) = flow.authorize_post(&sim, &req.params()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["autoStartToken"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    let order_ref = body["orderRef"].as_str().unwrap();
    let collect = body["collectUrl"].as_str().unwrap();
    let seen = flow.poll_collect(collect, order_ref).await;
    let statuses: Vec<&str> = seen
        .iter()
        .map(|b| b["progressStatus"].as_str().unwrap())
        .collect();
    // Persona timing decides how many polls land in each phase; the order is BankID's.
    let canonical = [
        "OUTSTANDING_TRANSACTION",
        "NO_CLIENT",
        "STARTED",
        "USER_SIGN",
        "COMPLETE",
    ];
    let mut distinct = statuses.clone();
    distinct.dedup();
    assert_eq!(
        distinct.first(),
        Some(&"OUTSTANDING_TRANSACTION"),
        "{statuses:?}"
    );
    assert_eq!(distinct.last(), Some(&"COMPLETE"), "{statuses:?}");
    let mut rest = canonical.iter();
    assert!(
        distinct.iter().all(|s| rest.any(|c| c == s)),
        "out of order: {statuses:?}"
    );
    let complete = seen.last().unwrap()["completeUrl"].as_str().unwrap();
    let (location, _) = flow.complete(complete, REDIRECT).await.unwrap();
    let code = query(&location, "code").unwrap();
    let client = sim.config().oidc_client.clone();
    let (status, tokens) = flow
        .token(
            &sim,
            (&client.client_id, &client.client_secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &req.verifier),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = verify_id_token(tokens["id_token"].as_str().unwrap(), &jwks(&sim).await).unwrap();
    assert_eq!(claims["signicat.national_id"], "198304062717");
    assert_eq!(claims["name"], "Anna Andersson");
    assert_eq!(claims["birthdate"], "1983-04-06");
    let stats = sim.control().stats();
    assert_eq!(stats.count(Endpoint::Collect), seen.len() as u64);
    assert_eq!(stats.session(order_ref).polls, seen.len() as u64);
}

#[tokio::test]
async fn sbid_progress_follows_the_phone_step_by_step() {
    let sim = start(config()).await;
    let flow = Flow::new();
    // Not a persona: the customer acts only through the control API.
    let req = AuthRequest::sbid(&sim, "197711201231");
    let (_, body) = flow.authorize_post(&sim, &req.params()).await;
    let order = body["orderRef"].as_str().unwrap().to_owned();
    let mut url = reqwest::Url::parse(body["collectUrl"].as_str().unwrap()).unwrap();
    url.query_pairs_mut().append_pair("orderRef", &order);
    let progress = |b: Value| b["progressStatus"].as_str().unwrap().to_owned();
    assert_eq!(
        progress(flow.get_json(url.as_str()).await.1),
        "OUTSTANDING_TRANSACTION"
    );
    assert_eq!(progress(flow.get_json(url.as_str()).await.1), "NO_CLIENT");
    sim.control().scan_qr(&order).unwrap();
    assert_eq!(progress(flow.get_json(url.as_str()).await.1), "STARTED");
    assert_eq!(progress(flow.get_json(url.as_str()).await.1), "USER_SIGN");
    sim.control().approve(&order).unwrap();
    let (_, done) = flow.get_json(url.as_str()).await;
    assert_eq!(done["progressStatus"], "COMPLETE");
    assert!(done["completeUrl"]
        .as_str()
        .unwrap()
        .starts_with(&sim.issuer()));
}

/// Runs a failing persona and returns the final error body.
async fn failing_nbid(sim: &id_desk_simulator::Simulator, birthdate: &str, phone: &str) -> Value {
    let flow = Flow::new();
    let req = AuthRequest::nbid(sim, birthdate, phone);
    let (status, body) = flow.authorize_post(sim, &req.params()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    flow.poll_status(body["statusUri"].as_str().unwrap())
        .await
        .pop()
        .unwrap()
}

async fn failing_sbid(sim: &id_desk_simulator::Simulator, subject: &str) -> Value {
    let flow = Flow::new();
    let req = AuthRequest::sbid(sim, subject);
    let (status, body) = flow.authorize_post(sim, &req.params()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    flow.poll_collect(
        body["collectUrl"].as_str().unwrap(),
        body["orderRef"].as_str().unwrap(),
    )
    .await
    .pop()
    .unwrap()
}

#[tokio::test]
async fn every_legacy_persona_behaves_as_documented() {
    let mut cfg = config();
    cfg.oidc_order_lifetime = Duration::from_millis(400);
    cfg.qr_scan_timeout = Duration::from_millis(200);
    let sim = start(cfg).await;

    // Norwegian BankID on mobile.
    let trond = failing_nbid(&sim, "230175", "91234567").await;
    assert_eq!(trond["error"], "USER_CANCEL", "{trond}");
    assert!(trond["error_description"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    let siri = failing_nbid(&sim, "150590", "48123456").await;
    assert_eq!(siri["error"], "EXPIRED_TRANSACTION", "{siri}");

    // Swedish BankID.
    let erik = failing_sbid(&sim, "199010270537").await;
    assert_eq!(erik["error"], "USER_CANCEL", "{erik}");
    let maja = failing_sbid(&sim, "199010275312").await;
    assert_eq!(maja["error"], "CERTIFICATE_ERR", "{maja}");
    let sven = failing_sbid(&sim, "198503151238").await;
    assert_eq!(sven["error"], "START_FAILED", "{sven}");
    let lisa = failing_sbid(&sim, "199207071235").await;
    assert_eq!(lisa["error"], "EXPIRED_TRANSACTION", "{lisa}");
}

#[tokio::test]
async fn a_known_phone_with_another_birth_date_is_an_interactive_stranger() {
    let sim = start(config()).await;
    let flow = Flow::new();
    // 99887766 belongs to Kari Mobil (born 1983-12-07), not to someone born 1990-05-15.
    let req = AuthRequest::nbid(&sim, "150590", "99887766");
    let (_, body) = flow.authorize_post(&sim, &req.params()).await;
    let status_uri = body["statusUri"].as_str().unwrap().to_owned();
    let (_, first) = flow.get_json(&status_uri).await;
    assert_eq!(first["status"], "pending");
    let order = status_uri.rsplit('/').next().unwrap();
    sim.control().approve(order).unwrap();
    let seen = flow.poll_status(&status_uri).await;
    assert_eq!(seen.last().unwrap()["status"], "finished");
    let (status, tokens) = {
        let complete = seen.last().unwrap()["completeUri"].as_str().unwrap();
        let (location, _) = flow.complete(complete, REDIRECT).await.unwrap();
        let code = query(&location, "code").unwrap();
        let c = sim.config().oidc_client.clone();
        flow.token(
            &sim,
            (&c.client_id, &c.client_secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &req.verifier),
            ],
        )
        .await
    };
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = verify_id_token(tokens["id_token"].as_str().unwrap(), &jwks(&sim).await).unwrap();
    assert_eq!(claims["birthdate"], "1990-05-15");
    assert_ne!(claims["name"], "Kari Mobil");
}

#[tokio::test]
async fn a_failed_order_completes_with_an_error_redirect() {
    let sim = start(config()).await;
    let flow = Flow::new();
    let req = AuthRequest::sbid(&sim, "199010270537");
    let (_, body) = flow.authorize_post(&sim, &req.params()).await;
    let order = body["orderRef"].as_str().unwrap().to_owned();
    let last = flow
        .poll_collect(body["collectUrl"].as_str().unwrap(), &order)
        .await
        .pop()
        .unwrap();
    assert_eq!(last["error"], "USER_CANCEL");
    // A client that goes to completion anyway lands on redirect_uri with error + state.
    let complete = format!("{}/inapp/complete/{order}", sim.issuer());
    let (location, _) = flow.complete(&complete, REDIRECT).await.unwrap();
    assert_eq!(query(&location, "error").as_deref(), Some("access_denied"));
    assert!(query(&location, "error_description")
        .unwrap()
        .contains("USER_CANCEL"));
    assert_eq!(
        query(&location, "state").as_deref(),
        Some(req.state.as_str())
    );
    assert!(query(&location, "code").is_none());
}

#[tokio::test]
async fn error_json_fault_on_authorize_and_status() {
    let sim = start(config()).await;
    let control = sim.control();
    control.inject(id_desk_simulator::Fault::new(
        Endpoint::Authorize,
        FaultKind::ErrorJson {
            error: "server_error".into(),
            description: "Simulated outage".into(),
        },
    ));
    let flow = Flow::new();
    let req = AuthRequest::nbid(&sim, "071283", "99887766");
    let (status, body) = flow.authorize_post(&sim, &req.params()).await;
    assert!(status.is_client_error());
    assert_eq!(body["error"], "server_error");
    assert_eq!(body["error_description"], "Simulated outage");

    let (_, body) = flow.authorize_post(&sim, &req.params()).await;
    let status_uri = body["statusUri"].as_str().unwrap().to_owned();
    control.inject(id_desk_simulator::Fault::new(
        Endpoint::Status,
        FaultKind::ErrorJson {
            error: "INTERNAL_ERROR".into(),
            description: "Simulated BankID failure".into(),
        },
    ));
    let (_, body) = flow.get_json(&status_uri).await;
    assert_eq!(body["error"], "INTERNAL_ERROR");
}
