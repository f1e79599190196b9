//! The REST API over real HTTP on 127.0.0.1: token, sessions, strictness rules, personas, faults.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use id_desk_simulator::{Endpoint, Fault, FaultKind, Simulator, SimulatorConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};

struct Rest {
    sim: Simulator,
    http: reqwest::Client,
    token: String,
}

impl Rest {
    async fn start(config: SimulatorConfig) -> Rest {
        let sim = Simulator::start(config).await.unwrap();
        let http = reqwest::Client::new();
        let mut rest = Rest {
            sim,
            http,
            token: String::new(),
        };
        rest.token = rest.new_token().await;
        rest
    }

    async fn new_token(&self) -> String {
        let c = &self.sim.config().rest_client;
        let r = self
            .http
            .post(format!("{}/auth/open/connect/token", self.sim.base_url()))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "signicat-api"),
                ("client_id", c.client_id.as_str()),
                ("client_secret", c.client_secret.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/auth/rest/sessions{path}?signicat-accountId={}",
            self.sim.base_url(),
            self.sim.config().account_id
        )
    }

    async fn create_raw(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url(""))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn create(&self, body: &Value) -> Value {
        let r = self.create_raw(body).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn get_raw(&self, id: &str) -> reqwest::Response {
        self.http
            .get(self.url(&format!("/{id}")))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, id: &str) -> Value {
        let r = self.get_raw(id).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    async fn cancel(&self, id: &str) -> reqwest::Response {
        self.http
            .post(self.url(&format!("/{id}/cancel")))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    /// Polls every 20 ms until the status is terminal (bounded, so a stuck session fails).
    async fn until_terminal(&self, id: &str) -> Value {
        for _ in 0..1000 {
            let s = self.get(id).await;
            match s["status"].as_str().unwrap() {
                "CREATED" | "WAITING_FOR_USER" => {
                    tokio::time::sleep(Duration::from_millis(20)).await
                }
                _ => return s,
            }
        }
        panic!("session {id} never finished");
    }
}

fn safe_conversation(nin: &str) -> Value {
    json!({
        "allowedProviders": ["nbid"], "flow": "headless",
        "additionalParameters": { "nbid_auth_type": "PHONE" },
        "requestedAttributes": ["name","firstName","lastName","nin","dateOfBirth"],
        "prefilledInput": { "nin": nin }
    })
}

fn mobile(phone: &str, dob: &str) -> Value {
    json!({
        "allowedProviders": ["nbid"], "flow": "headless",
        "requestedAttributes": ["name","firstName","lastName","dateOfBirth","nin"],
        "prefilledInput": { "phoneNumber": phone, "dateOfBirth": dob }
    })
}

fn sbid(flow: &str, nin: Option<&str>) -> Value {
    let mut body = json!({
        "allowedProviders": ["sbid"], "flow": "headless",
        "additionalParameters": { "sbid_flow": flow, "sbid_end_user_ip": "203.0.113.7" },
        "requestedAttributes": ["name","firstName","lastName","dateOfBirth","nin"]
    });
    if let Some(n) = nin {
        body["prefilledInput"] = json!({ "nin": n });
    }
    body
}

fn fast() -> SimulatorConfig {
    SimulatorConfig {
        time_scale: 0.05,
        qr_scan_timeout: Duration::from_millis(300),
        ..SimulatorConfig::for_tests()
    }
}

fn expiring() -> SimulatorConfig {
    SimulatorConfig {
        session_lifetime_override: Some(Duration::from_millis(400)),
        ..fast()
    }
}

async fn problem(r: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    r.json().await.unwrap()
}

fn invalid_param_names(p: &Value) -> Vec<String> {
    p["invalidParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap().to_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Token

#[tokio::test]
async fn token_accepts_form_and_basic_credentials_and_rejects_others() {
    let rest = Rest::start(SimulatorConfig::for_tests()).await;
    let url = format!("{}/auth/open/connect/token", rest.sim.base_url());
    let c = rest.sim.config().rest_client.clone();

    let r = rest
        .http
        .post(&url)
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    // The token is a JWT whose payload carries account_id.
    let token = body["access_token"].as_str().unwrap();
    let payload = token.split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["account_id"], "a-sim-test");

    let wrong = rest
        .http
        .post(&url)
        .basic_auth(&c.client_id, Some("nope"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let e: Value = wrong.json().await.unwrap();
    assert_eq!(e["error"], "invalid_client");

    let anonymous = rest
        .http
        .post(&url)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let grant = rest
        .http
        .post(&url)
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status(), StatusCode::BAD_REQUEST);
    let e: Value = grant.json().await.unwrap();
    assert_eq!(e["error"], "unsupported_grant_type");

    let json_body = rest
        .http
        .post(&url)
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), StatusCode::BAD_REQUEST);

    let scope = rest
        .http
        .post(&url)
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "openid")])
        .send()
        .await
        .unwrap();
    assert_eq!(scope.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn missing_invalid_and_expired_tokens_are_401_invalid_token() {
    let rest = Rest::start(SimulatorConfig::for_tests()).await;
    let body = safe_conversation("29124815345");

    let none = rest
        .http
        .post(rest.url(""))
        .json(&body)
        .send()
        .await
        .unwrap();
    let p = problem(none, StatusCode::UNAUTHORIZED).await;
    assert_eq!(p["code"], "invalid_token");

    let forged = rest
        .http
        .post(rest.url(""))
        .bearer_auth(format!("{}x", rest.token))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(forged, StatusCode::UNAUTHORIZED).await["code"],
        "invalid_token"
    );

    let expired = Rest::start(SimulatorConfig {
        token_ttl: Duration::ZERO,
        ..SimulatorConfig::for_tests()
    })
    .await;
    let r = expired.create_raw(&body).await;
    assert_eq!(
        problem(r, StatusCode::UNAUTHORIZED).await["code"],
        "invalid_token"
    );
    assert_eq!(expired.sim.control().stats().creates(), 1);
    assert!(
        expired.sim.control().sessions().is_empty(),
        "no session may be created"
    );
}

// ---------------------------------------------------------------------------------------------
// Strictness

#[tokio::test]
async fn account_id_is_required_and_must_match() {
    let rest = Rest::start(SimulatorConfig::for_tests()).await;
    let base = format!("{}/auth/rest/sessions", rest.sim.base_url());
    let body = safe_conversation("29124815345");

    let missing = rest
        .http
        .post(&base)
        .bearer_auth(&rest.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let p = problem(missing, StatusCode::BAD_REQUEST).await;
    assert_eq!(p["code"], "invalid_request_parameter");
    assert_eq!(invalid_param_names(&p), vec!["signicat-accountId"]);

    let wrong = rest
        .http
        .post(format!("{base}?signicat-accountId=a-someone-else"))
        .bearer_auth(&rest.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(wrong, StatusCode::FORBIDDEN).await["code"],
        "access_denied"
    );

    let created = rest.create(&body).await;
    let id = created["id"].as_str().unwrap();
    let get_missing = rest
        .http
        .get(format!("{base}/{id}"))
        .bearer_auth(&rest.token)
        .send()
        .await
        .unwrap();
    assert_eq!(get_missing.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn invalid_bodies_are_400_with_invalid_params() {
    let rest = Rest::start(SimulatorConfig::for_tests()).await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"allowedProviders": ["nbid"], "flow": "headless",
                   "additionalParameters": {"nbid_auth_type": "PHONE"},
                   "requestedAttributes": ["name"]}),
            vec!["prefilledInput.nin"],
        ),
        (safe_conversation("17029012345"), vec!["prefilledInput.nin"]),
        (safe_conversation("2912481534"), vec!["prefilledInput.nin"]),
        (
            json!({"allowedProviders": ["sbid"], "flow": "headless", "requestedAttributes": ["name"]}),
            vec![
                "additionalParameters.sbid_flow",
                "additionalParameters.sbid_end_user_ip",
            ],
        ),
        (
            json!({"allowedProviders": ["sbid"], "flow": "headless", "requestedAttributes": ["name"],
                   "additionalParameters": {"sbid_flow": "SMS", "sbid_end_user_ip": "not-an-ip"}}),
            vec![
                "additionalParameters.sbid_flow",
                "additionalParameters.sbid_end_user_ip",
            ],
        ),
        (sbid("QR", Some("199010270538")), vec!["prefilledInput.nin"]),
        (
            json!({"allowedProviders": ["nbid"], "flow": "headless"}),
            vec![
                "requestedAttributes",
                "prefilledInput.phoneNumber",
                "prefilledInput.dateOfBirth",
            ],
        ),
        (
            mobile("99887766", "1983-12-07"),
            vec!["prefilledInput.phoneNumber"],
        ),
        (
            mobile("+4799887766", "07.12.1983"),
            vec!["prefilledInput.dateOfBirth"],
        ),
        (
            json!({"flow": "headless", "requestedAttributes": ["name"]}),
            vec!["allowedProviders"],
        ),
        (
            json!({"allowedProviders": ["nbid", "sbid"], "flow": "headless", "requestedAttributes": ["name"]}),
            vec!["allowedProviders"],
        ),
        (
            json!({"allowedProviders": ["nbid"], "flow": "redirect", "requestedAttributes": ["name"],
                   "additionalParameters": {"nbid_auth_type": "PHONE"},
                   "prefilledInput": {"nin": "29124815345"}}),
            vec!["allowedProviders", "redirectSettings"],
        ),
        (
            json!({"allowedProviders": ["mitid"], "flow": "iframe", "requestedAttributes": ["name"]}),
            vec!["flow", "allowedProviders"],
        ),
        // MitID has no headless flow; the redirect flow needs all three URLs, absolute.
        (
            json!({"allowedProviders": ["mitid"], "flow": "headless", "requestedAttributes": ["name"]}),
            vec!["allowedProviders"],
        ),
        (
            json!({"allowedProviders": ["mitid"], "flow": "redirect", "requestedAttributes": ["name"],
                   "redirectSettings": {"successUrl": "/done", "abortUrl": "https://a.example/abort"}}),
            vec!["redirectSettings.successUrl", "redirectSettings.errorUrl"],
        ),
        (
            {
                let mut b = safe_conversation("29124815345");
                b["sessionLifetime"] = json!(-5);
                b
            },
            vec!["sessionLifetime"],
        ),
        (
            {
                let mut b = safe_conversation("29124815345");
                b["language"] = json!("klingon");
                b
            },
            vec!["language"],
        ),
        (json!([1, 2, 3]), vec!["body"]),
    ];
    for (body, expected) in cases {
        let r = rest.create_raw(&body).await;
        let p = problem(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(p["code"], "invalid_request_parameter", "{body}");
        assert_eq!(invalid_param_names(&p), expected, "{body}");
    }

    let not_json = rest
        .http
        .post(rest.url(""))
        .bearer_auth(&rest.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        invalid_param_names(&problem(not_json, StatusCode::BAD_REQUEST).await),
        vec!["body"]
    );

    let form = rest
        .http
        .post(rest.url(""))
        .bearer_auth(&rest.token)
        .form(&[("flow", "headless")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(rest.sim.control().sessions().is_empty());
}

#[tokio::test]
async fn unknown_fields_are_ignored_and_echoed_fields_kept() {
    let rest = Rest::start(SimulatorConfig::for_tests()).await;
    let mut body = safe_conversation("29124815345");
    body["somethingNew"] = json!({"nested": true});
    body["externalReference"] = json!("tx-42");
    body["language"] = json!("nb");
    body["callbackUrls"] = json!({"success": "https://example.invalid"});
    let s = rest.create(&body).await;
    assert_eq!(s["status"], "CREATED");
    assert_eq!(s["externalReference"], "tx-42");
    assert_eq!(s["language"], "nb");
    assert_eq!(s["accountId"], "a-sim-test");
    assert_eq!(s["provider"], "nbid");
    assert!(s.get("subject").is_none());
}

#[tokio::test]
async fn session_lifetime_rules_and_expires_at_format() {
    let rest = Rest::start(SimulatorConfig::for_tests()).await;
    let re = |s: &str| {
        // 2026-06-29T11:08:34.9495067+00:00
        let (date, rest) = s.split_once('T').unwrap();
        assert_eq!(date.len(), 10, "{s}");
        let (clock, offset) = rest.split_at(rest.len() - 6);
        assert_eq!(offset, "+00:00", "{s}");
        let (_, fraction) = clock.split_once('.').unwrap();
        assert_eq!(fraction.len(), 7, "{s}");
        assert!(fraction.chars().all(|c| c.is_ascii_digit()));
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    };
    for (requested, effective) in [
        (None, 1200),
        (Some(100), 300),
        (Some(300), 300),
        (Some(900), 900),
    ] {
        let mut body = safe_conversation("07128300060");
        if let Some(r) = requested {
            body["sessionLifetime"] = json!(r);
        }
        let before = time::OffsetDateTime::now_utc();
        let s = rest.create(&body).await;
        assert_eq!(s["sessionLifetime"], effective);
        let expires = re(s["expiresAt"].as_str().unwrap());
        let delta = (expires - before).whole_seconds();
        assert!(
            (effective - 5..=effective + 5).contains(&delta),
            "{delta} vs {effective}"
        );
    }
}

#[tokio::test]
async fn unknown_sessions_are_404_on_get_and_cancel() {
    let rest = Rest::start(SimulatorConfig::for_tests()).await;
    let p = problem(rest.get_raw("no-such-session").await, StatusCode::NOT_FOUND).await;
    assert_eq!(p["status"], 404);
    assert!(p["traceId"].as_str().is_some());
    problem(rest.cancel("no-such-session").await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn cancel_is_final_and_repeatable() {
    let rest = Rest::start(SimulatorConfig::for_tests()).await;
    let s = rest.create(&safe_conversation("07128300060")).await;
    let id = s["id"].as_str().unwrap();
    let r = rest.cancel(id).await;
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "CANCELLED");
    let again: Value = rest.cancel(id).await.json().await.unwrap();
    assert_eq!(again["status"], "CANCELLED");
    assert_eq!(rest.get(id).await["status"], "CANCELLED");
    assert!(rest.sim.control().approve(id).is_err());
}

// ---------------------------------------------------------------------------------------------
// Personas

async fn outcome(rest: &Rest, body: Value) -> Value {
    let s = rest.create(&body).await;
    assert_eq!(s["status"], "CREATED");
    rest.until_terminal(s["id"].as_str().unwrap()).await
}

#[tokio::test]
async fn nbid_safe_conversation_personas() {
    let rest = Rest::start(expiring()).await;

    let created = rest.create(&safe_conversation("29124815345")).await;
    let words = created["idpData"]["bindingMessage"].as_str().unwrap();
    assert_eq!(words.split(' ').count(), 2, "{words}");
    let id = created["id"].as_str().unwrap();
    let ok = rest.until_terminal(id).await;
    assert_eq!(ok["status"], "SUCCESS");
    let subject = &ok["subject"];
    assert_eq!(subject["name"], "Kari Nordmann");
    assert_eq!(subject["firstName"], "Kari");
    assert_eq!(subject["lastName"], "Nordmann");
    assert_eq!(subject["dateOfBirth"], "1948-12-29");
    assert_eq!(subject["nin"]["value"], "29124815345");
    assert_eq!(subject["nin"]["issuingCountry"], "NO");
    assert_eq!(subject["nin"]["type"], "BIRTH");
    assert_eq!(ok["loa"], "high");
    let stats = rest.sim.control().stats();
    assert!(stats.session(id).approved_at.is_some());
    assert!(stats.session(id).approved_at_unix_ns.is_some());
    assert!(stats.session(id).polls >= 1);

    assert_eq!(
        outcome(&rest, safe_conversation("01100844350")).await["status"],
        "ABORT"
    );
    assert_eq!(
        outcome(&rest, safe_conversation("15059000141")).await["status"],
        "EXPIRED"
    );
    let err = outcome(&rest, safe_conversation("23017500112")).await;
    assert_eq!(err["status"], "ERROR");
    assert_eq!(err["error"]["code"], "certificateErr");
    assert!(err.get("subject").is_none());
    let wrong = outcome(&rest, safe_conversation("30049200079")).await;
    assert_eq!(wrong["status"], "ERROR");
    assert_eq!(wrong["error"]["code"], "userDeclinedCall");
}

#[tokio::test]
async fn nbid_mobile_personas() {
    let rest = Rest::start(expiring()).await;
    let ok = outcome(&rest, mobile("+4799887766", "1983-12-07")).await;
    assert_eq!(ok["status"], "SUCCESS");
    assert_eq!(ok["subject"]["nin"]["value"], "07128300141");
    assert_eq!(ok["subject"]["dateOfBirth"], "1983-12-07");
    assert!(ok["idpData"].get("bindingMessage").is_none());
    assert_eq!(
        outcome(&rest, mobile("+4791234567", "1975-01-23")).await["status"],
        "ABORT"
    );
    assert_eq!(
        outcome(&rest, mobile("+4748123456", "1990-05-15")).await["status"],
        "EXPIRED"
    );
    // A known phone with another birth date is an unknown (interactive) customer.
    let other = outcome(&rest, mobile("+4799887766", "1984-01-01")).await;
    assert_eq!(other["status"], "EXPIRED");
}

#[tokio::test]
async fn sbid_qr_data_is_animated_until_scanned() {
    let rest = Rest::start(SimulatorConfig {
        qr_scan_timeout: Duration::from_secs(20),
        ..SimulatorConfig::for_tests()
    })
    .await;
    let s = rest.create(&sbid("QR", None)).await;
    let id = s["id"].as_str().unwrap().to_owned();
    assert!(s["idpData"]["autoStartToken"].as_str().unwrap().len() >= 32);
    let first = s["idpData"]["qrData"].as_str().unwrap().to_owned();
    let parts: Vec<&str> = first.split('.').collect();
    assert_eq!(parts.len(), 4, "{first}");
    assert_eq!(parts[0], "bankid");
    assert_eq!(parts[2], "0");
    assert_eq!(parts[3].len(), 64);
    assert!(parts[3]
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));

    // The QR changes with the second: same start token, qrTime + 1, another code.
    let mut later = None;
    for _ in 0..300 {
        let g = rest.get(&id).await;
        let q = g["idpData"]["qrData"].as_str().unwrap().to_owned();
        if q != first {
            later = Some(q);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let later = later.expect("qrData never changed");
    let p: Vec<&str> = later.split('.').collect();
    assert_eq!(p[1], parts[1], "same qrStartToken");
    assert_eq!(p[2], "1");
    assert_ne!(p[3], parts[3]);
    // Both codes are the real BankID HMAC of the order's secret.
    let secret = rest
        .sim
        .control()
        .session(&id)
        .unwrap()
        .qr_start_secret
        .expect("QR orders have a secret");
    assert_eq!(parts[3], id_desk_simulator::qr_auth_code(&secret, 0));
    assert_eq!(p[3], id_desk_simulator::qr_auth_code(&secret, 1));

    // Once scanned, the QR code is gone.
    rest.sim.control().scan_qr(&id).unwrap();
    let g = rest.get(&id).await;
    assert_eq!(g["status"], "WAITING_FOR_USER");
    assert!(g["idpData"].get("qrData").is_none());
    assert!(g["idpData"]["autoStartToken"].is_string());
}

#[tokio::test]
async fn sbid_persona_approves_after_scanning() {
    let rest = Rest::start(fast()).await;
    let done = outcome(&rest, sbid("QR", Some("198304062717"))).await;
    assert_eq!(done["status"], "SUCCESS");
    assert_eq!(done["subject"]["name"], "Anna Andersson");
    assert_eq!(done["subject"]["nin"]["value"], "198304062717");
    assert_eq!(done["subject"]["nin"]["issuingCountry"], "SE");
    assert_eq!(done["subject"]["dateOfBirth"], "1983-04-06");
    assert_eq!(done["loa"], "substantial");
}

#[tokio::test]
async fn sbid_personas() {
    let rest = Rest::start(expiring()).await;
    for flow in ["QR", "APP_LAUNCH"] {
        let ok = outcome(&rest, sbid(flow, Some("198304062717"))).await;
        assert_eq!(ok["status"], "SUCCESS", "{flow}");
        assert!(ok["idpData"].get("qrData").is_none());
        assert_eq!(
            outcome(&rest, sbid(flow, Some("199010270537"))).await["status"],
            "ABORT"
        );
        let cert = outcome(&rest, sbid(flow, Some("199010275312"))).await;
        assert_eq!(cert["error"]["code"], "certificateErr");
        let never = outcome(&rest, sbid(flow, Some("199207071235"))).await;
        assert_eq!(never["status"], "EXPIRED");
    }
    let app = rest.create(&sbid("APP_LAUNCH", None)).await;
    assert!(app["idpData"].get("qrData").is_none());
    assert!(app["idpData"]["autoStartToken"].is_string());
}

#[tokio::test]
async fn sbid_not_scanned_in_time_is_start_failed() {
    let rest = Rest::start(SimulatorConfig {
        qr_scan_timeout: Duration::from_millis(200),
        ..SimulatorConfig::for_tests()
    })
    .await;
    let failed = outcome(&rest, sbid("QR", Some("198503151238"))).await;
    assert_eq!(failed["status"], "ERROR");
    assert_eq!(failed["error"]["code"], "startFailed");
    assert!(failed["idpData"].get("qrData").is_none());
    // An interactive QR order without a personnummer fails the same way.
    let anon = outcome(&rest, sbid("QR", None)).await;
    assert_eq!(anon["error"]["code"], "startFailed");
}

#[tokio::test]
async fn subject_holds_only_requested_attributes() {
    let rest = Rest::start(fast()).await;
    let mut body = safe_conversation("29124815345");
    body["requestedAttributes"] = json!(["firstName"]);
    let s = outcome(&rest, body).await;
    assert_eq!(s["subject"]["firstName"], "Kari");
    assert!(s["subject"].get("nin").is_none());
    assert!(s["subject"].get("name").is_none());
    assert!(s["subject"]["id"].is_string());
}

// ---------------------------------------------------------------------------------------------
// The phone, interactively

#[tokio::test]
async fn interactive_customers_follow_the_control_api() {
    let rest = Rest::start(fast()).await;
    let control = rest.sim.control();

    let a = rest.create(&safe_conversation("07128300060")).await;
    let a_id = a["id"].as_str().unwrap();
    let view = control.session(a_id).unwrap();
    assert_eq!(view.identity, "0712*******");
    assert_eq!(view.persona, None);
    let right = a["idpData"]["bindingMessage"].as_str().unwrap();
    assert_eq!(view.binding_message.as_deref(), Some(right));
    assert_eq!(view.binding_choices.len(), 3);
    assert!(view.binding_choices.iter().any(|c| c == right));
    assert_eq!(rest.get(a_id).await["status"], "CREATED");
    control.pick_binding_message(a_id, right).unwrap();
    let ok = rest.get(a_id).await;
    assert_eq!(ok["status"], "SUCCESS");
    assert_eq!(ok["subject"]["nin"]["value"], "07128300060");
    assert!(
        control.reject(a_id).is_err(),
        "terminal sessions do not change"
    );

    let b = rest.create(&safe_conversation("07128300060")).await;
    let b_id = b["id"].as_str().unwrap();
    let wrong = control
        .session(b_id)
        .unwrap()
        .binding_choices
        .into_iter()
        .find(|c| c != b["idpData"]["bindingMessage"].as_str().unwrap())
        .unwrap();
    control.pick_binding_message(b_id, &wrong).unwrap();
    let failed = rest.get(b_id).await;
    assert_eq!(failed["status"], "ERROR");
    assert_eq!(failed["error"]["code"], "userDeclinedCall");

    let c = rest.create(&mobile("+4741111111", "2004-02-29")).await;
    let c_id = c["id"].as_str().unwrap();
    control.reject(c_id).unwrap();
    assert_eq!(rest.get(c_id).await["status"], "ABORT");

    let d = rest.create(&sbid("QR", None)).await;
    let d_id = d["id"].as_str().unwrap();
    assert!(control.pick_binding_message(d_id, "x").is_err());
    control.scan_qr(d_id).unwrap();
    let scanned = rest.get(d_id).await;
    assert_eq!(scanned["status"], "WAITING_FOR_USER");
    assert!(scanned["idpData"].get("qrData").is_none());
    assert!(control.scan_qr(d_id).is_err(), "scanning twice");
    control.approve(d_id).unwrap();
    let approved = rest.get(d_id).await;
    assert_eq!(approved["status"], "SUCCESS");
    assert_eq!(approved["subject"]["nin"]["issuingCountry"], "SE");
    assert!(control.stats().session(d_id).approved_at.is_some());

    let e = rest.create(&mobile("+4741111111", "2004-02-29")).await;
    let e_id = e["id"].as_str().unwrap();
    control.approve(e_id).unwrap();
    let mobile_ok = rest.get(e_id).await;
    assert_eq!(mobile_ok["subject"]["dateOfBirth"], "2004-02-29");
    assert_eq!(
        mobile_ok["subject"]["nin"]["value"].as_str().unwrap().len(),
        11
    );

    assert!(matches!(
        control.approve("nope"),
        Err(id_desk_simulator::SimError::UnknownSession(_))
    ));
    assert_eq!(control.sessions().len(), 5);
}

// ---------------------------------------------------------------------------------------------
// Faults and statistics

#[tokio::test]
async fn faults_503_429_malformed_and_latency() {
    let rest = Rest::start(fast()).await;
    let control = rest.sim.control();
    let s = rest.create(&safe_conversation("07128300060")).await;
    let id = s["id"].as_str().unwrap();

    control.inject(
        Fault::new(
            Endpoint::Get,
            FaultKind::Unavailable {
                retry_after_secs: 7,
            },
        )
        .times(2),
    );
    for _ in 0..2 {
        let r = rest.get_raw(id).await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()["retry-after"], "7");
    }
    assert_eq!(rest.get_raw(id).await.status(), StatusCode::OK);

    control.inject(Fault::new(
        Endpoint::Create,
        FaultKind::TooManyRequests {
            retry_after_secs: 3,
        },
    ));
    let r = rest.create_raw(&safe_conversation("07128300060")).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "3");
    assert_eq!(
        control.sessions().len(),
        1,
        "a refused create creates nothing"
    );

    control.inject(Fault::new(Endpoint::Any, FaultKind::MalformedJson));
    let r = rest.get_raw(id).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.json::<Value>().await.is_err());

    control.inject(Fault::new(
        Endpoint::Get,
        FaultKind::Latency(Duration::from_millis(50)),
    ));
    assert_eq!(rest.get(id).await["status"], "CREATED");
    assert!(control.pending_faults().is_empty());
}

#[tokio::test]
async fn session_scoped_faults_hit_only_that_session() {
    let rest = Rest::start(fast()).await;
    let control = rest.sim.control();
    let a = rest.create(&safe_conversation("07128300060")).await;
    let b = rest.create(&safe_conversation("07128300060")).await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    control.inject(
        Fault::new(
            Endpoint::Get,
            FaultKind::Unavailable {
                retry_after_secs: 1,
            },
        )
        .for_session(a),
    );
    assert_eq!(rest.get_raw(b).await.status(), StatusCode::OK);
    assert_eq!(
        rest.get_raw(a).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(rest.get_raw(a).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn dropped_connection_gives_no_response() {
    let rest = Rest::start(fast()).await;
    let control = rest.sim.control();
    control.inject(Fault::new(Endpoint::Create, FaultKind::DropConnection));
    let err = rest
        .http
        .post(rest.url(""))
        .bearer_auth(&rest.token)
        .json(&safe_conversation("29124815345"))
        .send()
        .await
        .expect_err("the connection must close without a response");
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    assert!(control.sessions().is_empty());
    // The server keeps serving other connections.
    rest.create(&safe_conversation("29124815345")).await;
}

#[tokio::test]
async fn dropped_after_processing_creates_the_session_but_loses_the_answer() {
    let rest = Rest::start(fast()).await;
    let control = rest.sim.control();
    control.inject(Fault::new(Endpoint::Create, FaultKind::DropAfterProcessing));
    let err = rest
        .http
        .post(rest.url(""))
        .bearer_auth(&rest.token)
        .json(&safe_conversation("07128300060"))
        .send()
        .await
        .expect_err("the answer is lost");
    assert!(!err.is_status(), "{err:?}");
    let sessions = control.sessions();
    assert_eq!(
        sessions.len(),
        1,
        "the push went out although the client saw no answer"
    );
    assert_eq!(rest.get(&sessions[0].id).await["status"], "CREATED");
}

#[tokio::test]
async fn expire_token_fault_invalidates_the_token_for_good() {
    let mut rest = Rest::start(fast()).await;
    let control = rest.sim.control();
    let s = rest.create(&safe_conversation("07128300060")).await;
    let id = s["id"].as_str().unwrap().to_owned();
    control.inject(Fault::new(Endpoint::Get, FaultKind::ExpireToken));
    let p = problem(rest.get_raw(&id).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(p["code"], "invalid_token");
    assert_eq!(rest.get_raw(&id).await.status(), StatusCode::UNAUTHORIZED);
    rest.token = rest.new_token().await;
    assert_eq!(rest.get_raw(&id).await.status(), StatusCode::OK);
    assert_eq!(control.stats().token_requests(), 2);
}

#[tokio::test]
async fn stats_count_requests_per_endpoint_and_session() {
    let rest = Rest::start(fast()).await;
    let control = rest.sim.control();
    let s = rest.create(&safe_conversation("07128300060")).await;
    let id = s["id"].as_str().unwrap();
    for _ in 0..3 {
        rest.get(id).await;
    }
    rest.cancel(id).await;
    let stats = control.stats();
    assert_eq!(stats.token_requests(), 1);
    assert_eq!(stats.creates(), 1);
    assert_eq!(stats.count(Endpoint::Get), 3);
    assert_eq!(stats.count(Endpoint::Cancel), 1);
    assert_eq!(stats.session(id).polls, 3);
    assert_eq!(stats.session(id).poll_unix_ns.len(), 3);
    assert_eq!(stats.session(id).cancels, 1);
    control.reset_stats();
    assert_eq!(control.stats().count(Endpoint::Get), 0);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let rest = Rest::start(fast()).await;
    let base = rest.sim.base_url();
    rest.sim.shutdown().await;
    let r = reqwest::Client::new()
        .post(format!("{base}/auth/open/connect/token"))
        .send()
        .await;
    assert!(r.is_err());
}

// ---------------------------------------------------------------------------------------------
// Swedish BankID Phone and the Digital ID card

fn sbid_phone(nin: &str, initiator: &str) -> Value {
    json!({
        "allowedProviders": ["sbid"], "flow": "headless",
        "additionalParameters": { "sbid_flow": "PHONE", "sbid_call_initiator": initiator },
        "requestedAttributes": ["name","firstName","lastName","dateOfBirth","nin"],
        "prefilledInput": { "nin": nin }
    })
}

fn idcard(qr: &str) -> Value {
    json!({
        "allowedProviders": ["sbid-idcard"], "flow": "headless",
        "additionalParameters": { "sbid_idcard_qr_data": qr },
        "requestedAttributes": ["name","firstName","lastName","dateOfBirth","nin"]
    })
}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

#[tokio::test]
async fn sbid_phone_personas() {
    let rest = Rest::start(expiring()).await;

    // Anna: the app opens (the customer confirms the call), then she identifies.
    let s = rest.create(&sbid_phone("198304062717", "RP")).await;
    let id = s["id"].as_str().unwrap().to_owned();
    assert_eq!(s["status"], "CREATED");
    assert!(s["idpData"].get("qrData").is_none());
    assert!(
        s["idpData"].get("autoStartToken").is_none(),
        "BankID's phone orders have no autoStartToken"
    );
    let mut done = None;
    for _ in 0..1000 {
        let g = rest.get(&id).await;
        match g["status"].as_str().unwrap() {
            "CREATED" => assert!(g["idpData"].get("hintCode").is_none(), "{g}"),
            "WAITING_FOR_USER" => assert_eq!(g["idpData"]["hintCode"], "userCallConfirm"),
            _ => {
                done = Some(g);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ok = done.expect("Anna never finished");
    assert_eq!(ok["status"], "SUCCESS");
    assert_eq!(ok["provider"], "sbid");
    assert_eq!(ok["subject"]["name"], "Anna Andersson");
    assert_eq!(ok["subject"]["nin"]["value"], "198304062717");
    assert_eq!(ok["subject"]["nin"]["issuingCountry"], "SE");
    assert!(
        ok["subject"].get("sbidRisk").is_none(),
        "risk not asked for"
    );
    assert!(ok["idpData"].get("hintCode").is_none());

    // Asked for the risk indication: it comes with the subject.
    let mut risky = sbid_phone("198304062717", "user");
    risky["additionalParameters"]["sbid_return_risk"] = json!("true");
    let ok = outcome(&rest, risky).await;
    assert_eq!(ok["status"], "SUCCESS");
    assert_eq!(ok["subject"]["sbidRisk"], "low");

    let karin = outcome(&rest, sbid_phone("198702142343", "RP")).await;
    assert_eq!(karin["status"], "ERROR");
    assert_eq!(karin["error"]["code"], "userDeclinedCall");
    assert!(
        karin["error"]["title"]
            .as_str()
            .unwrap()
            .contains("not in a call with you"),
        "{karin}"
    );
    assert!(karin.get("subject").is_none());
    assert_eq!(
        outcome(&rest, sbid_phone("199010270537", "RP")).await["status"],
        "ABORT"
    );
    assert_eq!(
        outcome(&rest, sbid_phone("199207071235", "user")).await["status"],
        "EXPIRED"
    );
}

#[tokio::test]
async fn sbid_phone_parameters_are_checked() {
    let rest = Rest::start(SimulatorConfig::for_tests()).await;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = sbid_phone("198304062717", "RP");
        f(&mut b);
        b
    };
    let p = |name: &str| format!("additionalParameters.{name}");
    let cases: Vec<(Value, Vec<String>)> = vec![
        (
            json!({"allowedProviders": ["sbid"], "flow": "headless", "requestedAttributes": ["name"],
                   "additionalParameters": {"sbid_flow": "PHONE"}}),
            vec![p("sbid_call_initiator"), "prefilledInput.nin".into()],
        ),
        (
            sbid_phone("198304062717", "rp"),
            vec![p("sbid_call_initiator")],
        ),
        (
            sbid_phone("198304062717", "USER"),
            vec![p("sbid_call_initiator")],
        ),
        (
            sbid_phone("198304062717", ""),
            vec![p("sbid_call_initiator")],
        ),
        (
            with(&|b| b["additionalParameters"]["sbid_call_initiator"] = json!(1)),
            vec![p("sbid_call_initiator")],
        ),
        (
            sbid_phone("198304062718", "RP"),
            vec!["prefilledInput.nin".into()],
        ),
        (
            with(&|b| b["additionalParameters"]["sbid_end_user_ip"] = json!("not-an-ip")),
            vec![p("sbid_end_user_ip")],
        ),
        (
            with(&|b| {
                b["additionalParameters"]["sbid_intention_text"] = json!("not base64!");
                b["additionalParameters"]["sbid_intention_text_format"] = json!("simpleMarkdownV1");
            }),
            vec![p("sbid_intention_text")],
        ),
        (
            with(&|b| {
                b["additionalParameters"]["sbid_intention_text"] = json!("");
                b["additionalParameters"]["sbid_intention_text_format"] = json!("simpleMarkdownV1");
            }),
            vec![p("sbid_intention_text")],
        ),
        (
            // 0xFF 0xFE: base64 all right, but not UTF-8.
            with(&|b| {
                b["additionalParameters"]["sbid_intention_text"] = json!("//4=");
                b["additionalParameters"]["sbid_intention_text_format"] = json!("simpleMarkdownV1");
            }),
            vec![p("sbid_intention_text")],
        ),
        (
            with(&|b| {
                b["additionalParameters"]["sbid_intention_text"] = json!(b64(&"x".repeat(4001)));
                b["additionalParameters"]["sbid_intention_text_format"] = json!("simpleMarkdownV1");
            }),
            vec![p("sbid_intention_text")],
        ),
        (
            with(&|b| b["additionalParameters"]["sbid_intention_text"] = json!(b64("Hej"))),
            vec![p("sbid_intention_text_format")],
        ),
        (
            with(&|b| {
                b["additionalParameters"]["sbid_intention_text"] = json!(b64("Hej"));
                b["additionalParameters"]["sbid_intention_text_format"] = json!("plaintext");
            }),
            vec![p("sbid_intention_text_format")],
        ),
        (
            with(&|b| {
                b["additionalParameters"]["sbid_intention_text_format"] = json!("simpleMarkdownV1")
            }),
            vec![p("sbid_intention_text_format")],
        ),
        (
            with(&|b| {
                b["additionalParameters"]["sbid_requirement_mrtd"] = json!("yes");
                b["additionalParameters"]["sbid_return_risk"] = json!("TRUE");
            }),
            vec![p("sbid_requirement_mrtd"), p("sbid_return_risk")],
        ),
    ];
    for (body, expected) in cases {
        let r = rest.create_raw(&body).await;
        let problem = problem(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(invalid_param_names(&problem), expected, "{body}");
    }
    let sms = rest.create_raw(&sbid("SMS", None)).await;
    let sms = problem(sms, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        sms["invalidParams"][0]["reason"],
        "must be QR, APP_LAUNCH or PHONE"
    );
    assert!(rest.sim.control().sessions().is_empty());

    // No end-user IP for PHONE; all options at their limits are accepted and kept, decoded.
    let text = format!("Du identifierar dig för *Kundtjänst*{}", "x".repeat(3960));
    assert!(text.len() <= 4000);
    let ok = rest
        .create(&with(&|b| {
            let a = &mut b["additionalParameters"];
            a["sbid_intention_text"] = json!(b64(&text));
            a["sbid_intention_text_format"] = json!("simpleMarkdownV1");
            a["sbid_requirement_mrtd"] = json!("true");
            a["sbid_return_risk"] = json!("false");
        }))
        .await;
    assert!(ok["additionalParameters"].get("sbid_end_user_ip").is_none());
    let view = rest
        .sim
        .control()
        .session(ok["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(view.method, id_desk_simulator::phone::Method::SbidPhone);
    assert_eq!(
        view.requested.call_initiator,
        Some(id_desk_simulator::phone::CallInitiator::Rp)
    );
    assert_eq!(
        view.requested.intention_text.as_deref(),
        Some(text.as_str())
    );
    assert_eq!(view.requested.requirement_mrtd, Some(true));
    assert_eq!(view.requested.return_risk, Some(false));

    // The options are BankID's for every Swedish flow, not only PHONE.
    let mut qr = sbid("QR", None);
    qr["additionalParameters"]["sbid_return_risk"] = json!("maybe");
    let r = problem(rest.create_raw(&qr).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(invalid_param_names(&r), vec![p("sbid_return_risk")]);
}

#[tokio::test]
async fn sbid_phone_interactive_customer_follows_the_control_api() {
    let rest = Rest::start(fast()).await;
    let control = rest.sim.control();
    let stranger = "199001011239";

    let a = rest.create(&sbid_phone(stranger, "user")).await;
    let a_id = a["id"].as_str().unwrap();
    assert_eq!(control.session(a_id).unwrap().persona, None);
    // Longer than the QR scan timeout: a Phone customer opens the app when they like.
    tokio::time::sleep(rest.sim.config().qr_scan_timeout + Duration::from_millis(100)).await;
    assert_eq!(rest.get(a_id).await["status"], "CREATED");
    control.scan_qr(a_id).unwrap();
    let open = rest.get(a_id).await;
    assert_eq!(open["status"], "WAITING_FOR_USER");
    assert_eq!(open["idpData"]["hintCode"], "userCallConfirm");
    assert_eq!(
        control.session(a_id).unwrap().hint_code,
        Some("userCallConfirm")
    );
    control.decline_call(a_id).unwrap();
    let declined = rest.get(a_id).await;
    assert_eq!(declined["status"], "ERROR");
    assert_eq!(declined["error"]["code"], "userDeclinedCall");
    assert!(control.decline_call(a_id).is_err(), "already over");

    let b = rest.create(&sbid_phone(stranger, "RP")).await;
    let b_id = b["id"].as_str().unwrap();
    control.approve(b_id).unwrap();
    let ok = rest.get(b_id).await;
    assert_eq!(ok["status"], "SUCCESS");
    assert_eq!(ok["subject"]["nin"]["value"], stranger);
    assert_eq!(ok["subject"]["dateOfBirth"], "1990-01-01");

    let c = rest.create(&sbid_phone(stranger, "RP")).await;
    let c_id = c["id"].as_str().unwrap();
    control.reject(c_id).unwrap();
    assert_eq!(rest.get(c_id).await["status"], "ABORT");

    // Only orders made during a call can be declined; Safe Conversation is one.
    let qr = rest.create(&sbid("QR", None)).await;
    assert!(control.decline_call(qr["id"].as_str().unwrap()).is_err());
    let words = rest.create(&safe_conversation("07128300060")).await;
    let words_id = words["id"].as_str().unwrap();
    control.decline_call(words_id).unwrap();
    assert_eq!(
        rest.get(words_id).await["error"]["code"],
        "userDeclinedCall"
    );
}

#[tokio::test]
async fn sbid_idcard_checks_the_scanned_payload() {
    // Slow enough that CREATED is seen before the check's second (500 ms here) is over.
    let rest = Rest::start(SimulatorConfig {
        time_scale: 0.5,
        ..SimulatorConfig::for_tests()
    })
    .await;
    let control = rest.sim.control();

    let qr = control.idcard_qr("198304062717").unwrap();
    assert!(qr.starts_with("BANKIDF."), "{qr}");
    let s = rest.create(&idcard(&qr)).await;
    let id = s["id"].as_str().unwrap().to_owned();
    assert_eq!(s["status"], "CREATED");
    assert_eq!(s["provider"], "sbid-idcard");
    assert_eq!(rest.get(&id).await["status"], "CREATED");
    let ok = rest.until_terminal(&id).await;
    assert_eq!(ok["status"], "SUCCESS");
    assert_eq!(ok["provider"], "sbid-idcard");
    assert_eq!(ok["subject"]["name"], "Anna Andersson");
    assert_eq!(ok["subject"]["firstName"], "Anna");
    assert_eq!(ok["subject"]["lastName"], "Andersson");
    assert_eq!(ok["subject"]["dateOfBirth"], "1983-04-06");
    assert_eq!(
        ok["subject"]["nin"],
        json!({"value": "198304062717", "issuingCountry": "SE", "type": "PERSON"})
    );
    assert!(control.stats().session(&id).approved_at.is_some());
    let view = control.session(&id).unwrap();
    assert_eq!(view.method, id_desk_simulator::phone::Method::SbidIdCard);
    assert!(view.auto_start_token.is_none() && view.qr_data.is_none());

    // The card check is the simulator's: Karin's card is hers whatever she does on calls, and an
    // unknown personnummer is a generated stranger.
    let karin = rest
        .create(&idcard(&control.idcard_qr("198702142343").unwrap()))
        .await;
    let karin = rest.until_terminal(karin["id"].as_str().unwrap()).await;
    assert_eq!(karin["status"], "SUCCESS");
    assert_eq!(karin["subject"]["name"], "Karin Nekar");
    let stranger = rest
        .create(&idcard(&control.idcard_qr("199001011239").unwrap()))
        .await;
    let stranger = rest.until_terminal(stranger["id"].as_str().unwrap()).await;
    assert_eq!(stranger["status"], "SUCCESS");
    assert_eq!(stranger["subject"]["nin"]["value"], "199001011239");
    assert_eq!(stranger["subject"]["dateOfBirth"], "1990-01-01");

    // Older than its validity (30 s × 0.5 = 15 s): created, then ERROR.
    let issued = time::OffsetDateTime::now_utc().unix_timestamp() - 20;
    let old = id_desk_simulator::idcard::qr_data("198304062717", issued);
    let s = rest.create(&idcard(&old)).await;
    assert_eq!(s["status"], "CREATED");
    let expired = rest.until_terminal(s["id"].as_str().unwrap()).await;
    assert_eq!(expired["status"], "ERROR");
    assert_eq!(expired["error"]["code"], "idCardQrExpired");
    assert!(
        expired["error"]["title"]
            .as_str()
            .unwrap()
            .contains("QR code has expired"),
        "{expired}"
    );
    assert!(expired.get("subject").is_none());
    // Within it (10 s ago): still good.
    let recent = id_desk_simulator::idcard::qr_data("198304062717", issued + 10);
    let s = rest.create(&idcard(&recent)).await;
    assert_eq!(
        rest.until_terminal(s["id"].as_str().unwrap()).await["status"],
        "SUCCESS"
    );

    // `BANKIDF.` values the simulator cannot read: the session exists and fails.
    let hex = |s: &str| format!("BANKIDF.{}", hex::encode_upper(s));
    for unreadable in [
        "BANKIDF.".to_owned(),
        "BANKIDF.NOT-HEX".to_owned(),
        hex("198304062717"),
        hex("198304062718:1700000000"),
        hex("198304062717:soon"),
    ] {
        let s = rest.create(&idcard(&unreadable)).await;
        let failed = rest.until_terminal(s["id"].as_str().unwrap()).await;
        assert_eq!(failed["status"], "ERROR", "{unreadable}");
        assert_eq!(failed["error"]["code"], "invalidQrData", "{unreadable}");
    }

    // Anything else is a bad parameter.
    let name = vec!["additionalParameters.sbid_idcard_qr_data"];
    for body in [
        idcard(""),
        idcard("bankidf.3139"),
        idcard("bankid.67df3917"),
        json!({"allowedProviders": ["sbid-idcard"], "flow": "headless", "requestedAttributes": ["name"]}),
        json!({"allowedProviders": ["sbid-idcard"], "flow": "headless", "requestedAttributes": ["name"],
               "additionalParameters": {"sbid_idcard_qr_data": 42}}),
    ] {
        let p = problem(rest.create_raw(&body).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(invalid_param_names(&p), name, "{body}");
    }
    assert!(control.idcard_qr("198304062718").is_err());
    assert!(control.idcard_qr("8304062717").is_err());
}
