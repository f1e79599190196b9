//! Every strictness rule of the legacy OIDC issuer: parameters, cookies, token endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod oidc_support;

use id_desk_simulator::{Endpoint, Fault, FaultKind, Simulator};
use oidc_support::*;
use reqwest::{header, StatusCode};
use serde_json::Value;

async fn refused(sim: &Simulator, params: Vec<(String, String)>) -> (StatusCode, Value) {
    let flow = Flow::new();
    let (status, body) = flow.authorize_post(sim, &params).await;
    assert!(status.is_client_error(), "accepted: {body}");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{body}"
    );
    // No session was started.
    assert!(flow.cookies.lock().unwrap().iter_any().next().is_none());
    (status, body)
}

#[tokio::test]
async fn authorize_rejects_every_malformed_request() {
    let sim = start(config()).await;
    let base = AuthRequest::nbid(&sim, "071283", "99887766");
    let cases: Vec<(&str, Option<&str>, &str)> = vec![
        ("client_id", Some("someone-else"), "unauthorized_client"),
        ("client_id", None, "invalid_request"),
        (
            "redirect_uri",
            Some("https://evil.example/cb"),
            "invalid_request",
        ),
        ("redirect_uri", None, "invalid_request"),
        ("response_type", Some("token"), "unsupported_response_type"),
        ("scope", Some("profile"), "invalid_scope"),
        ("state", None, "invalid_request"),
        ("state", Some(""), "invalid_request"),
        ("nonce", None, "invalid_request"),
        ("code_challenge", None, "invalid_request"),
        ("code_challenge", Some("too-short"), "invalid_request"),
        ("code_challenge_method", Some("plain"), "invalid_request"),
        ("code_challenge_method", None, "invalid_request"),
        (
            "acr_values",
            Some("urn:signicat:oidc:method:nbid"),
            "invalid_request",
        ),
        ("acr_values", None, "invalid_request"),
        ("request", Some("eyJ.x.y.z.w"), "invalid_request"),
    ];
    for (name, value, error) in cases {
        let mut params = base.params();
        set_param(&mut params, name, value);
        let (_, body) = refused(&sim, params).await;
        assert_eq!(body["error"], error, "{name}={value:?}: {body}");
    }
    // A repeated single-valued parameter.
    let mut params = base.params();
    params.push(("state".into(), "second".into()));
    refused(&sim, params).await;
    assert_eq!(
        sim.control().sessions().len(),
        0,
        "a refused authorize created an order"
    );
}

#[tokio::test]
async fn login_hints_are_checked_per_method() {
    let sim = start(config()).await;
    let nbid_bad: Vec<Vec<&str>> = vec![
        vec![],
        vec!["birthdate-071283"],
        vec!["phone-99887766"],
        vec!["birthdate-071283", "phone-+4799887766"],
        vec!["birthdate-071283", "phone-9988776"],
        vec!["birthdate-071283", "phone-29887766"],
        vec!["birthdate-311383", "phone-99887766"],
        vec!["birthdate-1983-12-07", "phone-99887766"],
        vec!["birthdate-071283", "phone-99887766", "phone-99887766"],
        vec!["birthdate-071283", "phone-99887766", "subject-198304062717"],
        vec!["birthdate-071283,phone-99887766"],
    ];
    for hints in nbid_bad {
        let req = AuthRequest::nbid(&sim, "071283", "99887766")
            .with(|r| r.hints = hints.iter().map(|s| s.to_string()).collect());
        let (_, body) = refused(&sim, req.params()).await;
        assert_eq!(body["error"], "invalid_request", "{hints:?}: {body}");
        // Never echo an identity number back.
        assert!(!body.to_string().contains("99887766"), "{body}");
    }
    let sbid_bad: Vec<Vec<&str>> = vec![
        vec![],
        vec!["subject-8304062717"],
        vec!["subject-198304062718"],
        vec!["198304062717"],
        vec!["subject-198304062717", "subject-198304062717"],
        vec!["birthdate-071283", "phone-99887766"],
    ];
    for hints in sbid_bad {
        let req = AuthRequest::sbid(&sim, "198304062717")
            .with(|r| r.hints = hints.iter().map(|s| s.to_string()).collect());
        let (_, body) = refused(&sim, req.params()).await;
        assert_eq!(body["error"], "invalid_request", "{hints:?}: {body}");
        assert!(!body.to_string().contains("8304062717"), "{body}");
    }
}

#[tokio::test]
async fn sign_methods_and_sign_client_need_a_request_object() {
    let sim = start(config()).await;
    // The sign acr with plain parameters.
    let req = AuthRequest::nbid(&sim, "071283", "99887766").with(|r| {
        r.client_id = "demo-inapp-sign".into();
    });
    let mut params = req.params();
    set_param(&mut params, "acr_values", Some(NBID_SIGN));
    set_param(&mut params, "scope", Some("openid profile signicat.sign"));
    set_param(&mut params, "signicat_signtext", Some("I agree"));
    let (_, body) = refused(&sim, params).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("request"),
        "{body}"
    );
    // The authentication client may not use a sign method, nor the sign client an auth method.
    let mut params = AuthRequest::nbid(&sim, "071283", "99887766").params();
    set_param(&mut params, "acr_values", Some(NBID_SIGN));
    assert_eq!(
        refused(&sim, params).await.1["error"],
        "unauthorized_client"
    );
    let mut params = AuthRequest::nbid(&sim, "071283", "99887766").params();
    set_param(&mut params, "client_id", Some("demo-inapp-sign"));
    assert_eq!(
        refused(&sim, params).await.1["error"],
        "unauthorized_client"
    );
}

#[tokio::test]
async fn without_accept_json_authorize_answers_html_and_starts_nothing() {
    let sim = start(config()).await;
    let flow = Flow::new();
    let req = AuthRequest::nbid(&sim, "071283", "99887766");
    let r = flow
        .http
        .post(format!("{}/authorize", sim.issuer()))
        .form(&req.params())
        .send()
        .await
        .unwrap();
    assert!(r.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(r.headers().get(header::SET_COOKIE).is_none());
    assert_eq!(sim.control().sessions().len(), 0);
}

#[tokio::test]
async fn authorize_sets_an_httponly_session_cookie_scoped_to_the_issuer() {
    let sim = start(config()).await;
    let r = Flow::cookieless()
        .post(format!("{}/authorize", sim.issuer()))
        .header(header::ACCEPT, "application/json")
        .form(&AuthRequest::nbid(&sim, "071283", "99887766").params())
        .send()
        .await
        .unwrap();
    let cookie = r.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("Path=/oidc"), "{cookie}");
}

#[tokio::test]
async fn polls_and_completion_require_this_flows_cookie() {
    let sim = start(config()).await;
    let flow = Flow::new();
    let req = AuthRequest::nbid(&sim, "071283", "99887766");
    let (_, body) = flow.authorize_post(&sim, &req.params()).await;
    let status_uri = body["statusUri"].as_str().unwrap().to_owned();

    // No cookie at all.
    let r = Flow::cookieless()
        .get(&status_uri)
        .header(header::ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_session");

    // Another flow's cookie.
    let other = Flow::new();
    let (_, _) = other
        .authorize_post(
            &sim,
            &AuthRequest::nbid(&sim, "071283", "99887766").params(),
        )
        .await;
    let (status, body) = other.get_json(&status_uri).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_session");

    // The right cookie works; completion hops need it too.
    let seen = flow.poll_status(&status_uri).await;
    let complete = seen.last().unwrap()["completeUri"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = Flow::cookieless().get(&complete).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let order = status_uri.rsplit('/').next().unwrap();
    for hop in ["authorize/resume", "authorize/callback"] {
        let r = Flow::cookieless()
            .get(format!("{}/{hop}/{order}", sim.issuer()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{hop}");
    }
    let (location, _) = flow.complete(&complete, REDIRECT).await.unwrap();
    assert!(query(&location, "code").is_some());
    // Completion cannot be replayed.
    assert!(flow.complete(&complete, REDIRECT).await.is_err());
}

#[tokio::test]
async fn drop_cookie_fault_makes_the_session_unknown() {
    let sim = start(config()).await;
    let flow = Flow::new();
    let (_, body) = flow
        .authorize_post(
            &sim,
            &AuthRequest::nbid(&sim, "071283", "99887766").params(),
        )
        .await;
    let status_uri = body["statusUri"].as_str().unwrap();
    sim.control()
        .inject(Fault::new(Endpoint::Status, FaultKind::DropCookie));
    let (status, body) = flow.get_json(status_uri).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_session");
    let (status, _) = flow.get_json(status_uri).await;
    assert_eq!(status, StatusCode::OK, "the fault was for one request only");

    // On authorize: no Set-Cookie, so the client's polls carry no cookie.
    sim.control()
        .inject(Fault::new(Endpoint::Authorize, FaultKind::DropCookie));
    let lost = Flow::new();
    let (_, body) = lost
        .authorize_post(
            &sim,
            &AuthRequest::nbid(&sim, "071283", "99887766").params(),
        )
        .await;
    let (status, _) = lost.get_json(body["statusUri"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn code_for(sim: &Simulator, flow: &Flow) -> (AuthRequest, String) {
    let req = AuthRequest::nbid(sim, "071283", "99887766");
    let location = run_to_code(flow, sim, &req).await;
    let code = query(&location, "code").unwrap();
    (req, code)
}

#[tokio::test]
async fn token_endpoint_enforces_client_auth_pkce_redirect_and_single_use() {
    let sim = start(config()).await;
    let flow = Flow::new();
    let client = sim.config().oidc_client.clone();
    let creds = (client.client_id.as_str(), client.client_secret.as_str());

    // Wrong PKCE verifier: refused, and the code is burnt.
    let (req, code) = code_for(&sim, &flow).await;
    let (wrong_verifier, _) = pkce();
    let form = |code: &str, redirect: &str, verifier: &str| {
        vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code.to_owned()),
            ("redirect_uri".to_owned(), redirect.to_owned()),
            ("code_verifier".to_owned(), verifier.to_owned()),
        ]
    };
    let post = |form: Vec<(String, String)>| {
        let f: Vec<(String, String)> = form;
        let flow = &flow;
        let sim = &sim;
        async move {
            let borrowed: Vec<(&str, &str)> =
                f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            flow.token(sim, creds, &borrowed).await
        }
    };
    let (status, body) = post(form(&code, REDIRECT, &wrong_verifier)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"].as_str().unwrap().contains("PKCE"));
    let (status, body) = post(form(&code, REDIRECT, &req.verifier)).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a code is burnt by a failed attempt"
    );
    assert_eq!(body["error"], "invalid_grant");

    // Wrong redirect_uri.
    let (req, code) = code_for(&sim, &flow).await;
    let (_, body) = post(form(&code, "http://127.0.0.1/callback", &req.verifier)).await;
    assert_eq!(body["error"], "invalid_grant");

    // Reused code.
    let (req, code) = code_for(&sim, &flow).await;
    let (status, _) = post(form(&code, REDIRECT, &req.verifier)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = post(form(&code, REDIRECT, &req.verifier)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");

    // Client authentication: Basic only, right secret, the client the code was issued to.
    let (req, code) = code_for(&sim, &flow).await;
    let url = format!("{}/token", sim.issuer());
    let plain_form = form(&code, REDIRECT, &req.verifier);
    let r = flow.http.post(&url).form(&plain_form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    let r = flow
        .http
        .post(&url)
        .basic_auth(&client.client_id, Some("wrong"))
        .form(&plain_form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let mut with_secret = plain_form.clone();
    with_secret.push(("client_secret".into(), client.client_secret.clone()));
    with_secret.push(("client_id".into(), client.client_id.clone()));
    let r = flow
        .http
        .post(&url)
        .basic_auth(&client.client_id, Some(&client.client_secret))
        .form(&with_secret)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "client_secret in the body is refused"
    );
    let sign = sim.config().sign_client.clone();
    let (req, code) = code_for(&sim, &flow).await;
    let f = form(&code, REDIRECT, &req.verifier);
    let borrowed: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (_, body) = flow
        .token(&sim, (&sign.client_id, &sign.client_secret), &borrowed)
        .await;
    assert_eq!(body["error"], "invalid_grant", "code of another client");

    // Grant type.
    let (req, code) = code_for(&sim, &flow).await;
    let mut f = form(&code, REDIRECT, &req.verifier);
    f[0].1 = "client_credentials".into();
    let (_, body) = post(f).await;
    assert_eq!(body["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn bearer_endpoints_refuse_missing_unknown_and_expired_tokens() {
    let sim = start(config()).await;
    let flow = Flow::new();
    let url = format!("{}/userinfo", sim.issuer());
    let r = flow.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get(header::WWW_AUTHENTICATE).is_some());
    let r = flow
        .http
        .get(&url)
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let (status, tokens) =
        run_to_tokens(&flow, &sim, &AuthRequest::nbid(&sim, "071283", "99887766")).await;
    assert_eq!(status, StatusCode::OK);
    let access = tokens["access_token"].as_str().unwrap();
    let r = flow
        .http
        .get(&url)
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    sim.control()
        .inject(Fault::new(Endpoint::Userinfo, FaultKind::ExpireToken));
    let r = flow
        .http
        .get(&url)
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = flow
        .http
        .get(&url)
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "expired for good");
}

#[tokio::test]
async fn access_tokens_expire_after_the_configured_lifetime() {
    let mut cfg = config();
    cfg.oidc.access_token_ttl = std::time::Duration::ZERO;
    let sim = start(cfg).await;
    let flow = Flow::new();
    let (_, tokens) =
        run_to_tokens(&flow, &sim, &AuthRequest::nbid(&sim, "071283", "99887766")).await;
    assert_eq!(tokens["expires_in"], 0);
    let r = flow
        .http
        .get(format!("{}/userinfo", sim.issuer()))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
