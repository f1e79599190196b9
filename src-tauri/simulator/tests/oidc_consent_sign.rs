//! Consent Signature: encrypted request objects (josekit- and jwcrypto-made), the SDO, and every
//! way a request object can be wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod oidc_support;

use id_desk_simulator::{EncAlg, Endpoint, Fault, FaultKind, OidcKeys, Simulator, SimulatorConfig};
use oidc_support::*;
use reqwest::{header, StatusCode};
use serde_json::{Map, Value};

const TEXT: &str = "Jeg bekrefter kjøp av <Bredbånd Medium500> & \"samtykker\" til vilkårene.";
const TEXT_XML: &str =
    "Jeg bekrefter kjøp av &lt;Bredbånd Medium500&gt; &amp; &quot;samtykker&quot; til vilkårene.";

async fn send_request(
    flow: &Flow,
    sim: &Simulator,
    jwe: &str,
    by_get: bool,
) -> (StatusCode, Value) {
    let params = vec![("request".to_owned(), jwe.to_owned())];
    if by_get {
        flow.authorize_get(sim, &params).await
    } else {
        flow.authorize_post(sim, &params).await
    }
}

/// Polls, completes and exchanges the code with the sign client; returns the token response.
async fn finish_sign(flow: &Flow, sim: &Simulator, authorize: &Value, verifier: &str) -> Value {
    let complete = if let Some(status_uri) = authorize["statusUri"].as_str() {
        let seen = flow.poll_status(status_uri).await;
        seen.last().unwrap()["completeUri"]
            .as_str()
            .unwrap()
            .to_owned()
    } else {
        let seen = flow
            .poll_collect(
                authorize["collectUrl"].as_str().unwrap(),
                authorize["orderRef"].as_str().unwrap(),
            )
            .await;
        seen.last().unwrap()["completeUrl"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (location, _) = flow.complete(&complete, REDIRECT).await.unwrap();
    let code = query(&location, "code").unwrap();
    let sign = sim.config().sign_client.clone();
    let (status, tokens) = flow
        .token(
            sim,
            (&sign.client_id, &sign.client_secret),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    tokens
}

async fn sdo(flow: &Flow, sim: &Simulator, access: &str) -> reqwest::Response {
    flow.http
        .get(format!("{}/signature", sim.issuer()))
        .bearer_auth(access)
        .header(header::ACCEPT, "application/xml")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn nbid_sign_end_to_end_serves_the_same_sdo_bytes_every_time() {
    let sim = start(config()).await;
    let flow = Flow::new();
    let req = AuthRequest::nbid(&sim, "071283", "99887766");
    let keys = jwks(&sim).await;
    let enc = key_by_use(&keys, "enc");
    let jwe = encrypt(
        &req.sign_claims(&sim, TEXT),
        enc,
        "RSA-OAEP",
        enc.key_id(),
        "A256CBC-HS512",
    );
    let (status, body) = send_request(&flow, &sim, &jwe, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let order = body["statusUri"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        sim.control().session(&order).unwrap().sign_text.as_deref(),
        Some(TEXT)
    );

    let tokens = finish_sign(&flow, &sim, &body, &req.verifier).await;
    assert!(tokens["scope"].as_str().unwrap().contains("signicat.sign"));
    let claims = verify_id_token(tokens["id_token"].as_str().unwrap(), &keys).unwrap();
    assert_eq!(claims["aud"], "demo-inapp-sign");
    assert_eq!(claims["nonce"], req.nonce.as_str());
    assert_eq!(claims["signicat.national_id"], "07128300141");

    let access = tokens["access_token"].as_str().unwrap();
    let first = sdo(&flow, &sim, access).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/xml"));
    let first = first.bytes().await.unwrap();
    let second = sdo(&flow, &sim, access).await.bytes().await.unwrap();
    assert_eq!(
        first, second,
        "the SDO must be byte-identical on every read"
    );
    let xml = String::from_utf8(first.to_vec()).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains(TEXT_XML), "{xml}");
    assert!(!xml.contains(TEXT), "raw text not escaped: {xml}");
    assert!(xml.contains("07128300141"), "{xml}");
    assert!(xml.contains("SignatureTimestamp"), "{xml}");
    assert_eq!(sim.control().stats().count(Endpoint::Signature), 2);

    // After the access token expires the SDO is gone.
    sim.control()
        .inject(Fault::new(Endpoint::Signature, FaultKind::ExpireToken));
    assert_eq!(
        sdo(&flow, &sim, access).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn sbid_sign_by_get_with_rsa_oaep_256() {
    let mut cfg = config();
    cfg.oidc.keys = Some(
        OidcKeys::generated()
            .unwrap()
            .with_enc_alg(EncAlg::RsaOaep256),
    );
    let sim = start(cfg).await;
    let flow = Flow::new();
    let req = AuthRequest::sbid(&sim, "198304062717");
    let keys = jwks(&sim).await;
    let enc = key_by_use(&keys, "enc");
    assert_eq!(enc.algorithm(), Some("RSA-OAEP-256"));
    let jwe = encrypt(
        &req.sign_claims(&sim, "Jag godkänner."),
        enc,
        "RSA-OAEP-256",
        enc.key_id(),
        "A256CBC-HS512",
    );
    let (status, body) = send_request(&flow, &sim, &jwe, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["orderRef"].is_string() && body["autoStartToken"].is_string());
    let tokens = finish_sign(&flow, &sim, &body, &req.verifier).await;
    let r = sdo(&flow, &sim, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let xml = r.text().await.unwrap();
    assert!(
        xml.contains("Jag godkänner.") && xml.contains("198304062717"),
        "{xml}"
    );

    // An RSA-OAEP request to an RSA-OAEP-256 issuer is refused.
    let wrong = encrypt(
        &req.sign_claims(&sim, "x"),
        enc,
        "RSA-OAEP",
        enc.key_id(),
        "A256CBC-HS512",
    );
    let (status, body) = send_request(&Flow::new(), &sim, &wrong, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request_object", "{body}");
}

#[tokio::test]
async fn signature_refused_fault() {
    let sim = start(config()).await;
    let flow = Flow::new();
    let req = AuthRequest::nbid(&sim, "071283", "99887766");
    let keys = jwks(&sim).await;
    let enc = key_by_use(&keys, "enc");
    let jwe = encrypt(
        &req.sign_claims(&sim, TEXT),
        enc,
        "RSA-OAEP",
        enc.key_id(),
        "A256CBC-HS512",
    );
    let (_, body) = send_request(&flow, &sim, &jwe, false).await;
    let tokens = finish_sign(&flow, &sim, &body, &req.verifier).await;
    let access = tokens["access_token"].as_str().unwrap();
    sim.control()
        .inject(Fault::new(Endpoint::Signature, FaultKind::Refused));
    let r = sdo(&flow, &sim, access).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "access_denied");
    assert_eq!(sdo(&flow, &sim, access).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn request_object_claims_are_validated() {
    let sim = start(config()).await;
    let keys = jwks(&sim).await;
    let enc = key_by_use(&keys, "enc");
    let kid = enc.key_id();
    let req = AuthRequest::nbid(&sim, "071283", "99887766");
    let base = req.sign_claims(&sim, TEXT);
    type Edit = Box<dyn Fn(&mut Map<String, Value>)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "no signtext",
            Box::new(|c| {
                c.remove("signicat_signtext");
            }),
        ),
        (
            "empty signtext",
            Box::new(|c| {
                c.insert("signicat_signtext".into(), "".into());
            }),
        ),
        (
            "1001 chars",
            Box::new(|c| {
                c.insert("signicat_signtext".into(), "é".repeat(1001).into());
            }),
        ),
        (
            "scope without signicat.sign",
            Box::new(|c| {
                c.insert("scope".into(), "openid profile".into());
            }),
        ),
        (
            "login_hint as a string",
            Box::new(|c| {
                c.insert("login_hint".into(), "birthdate-071283".into());
            }),
        ),
        (
            "auth client",
            Box::new(|c| {
                c.insert("client_id".into(), "demo-inapp".into());
            }),
        ),
        (
            "auth acr",
            Box::new(|c| {
                c.insert("acr_values".into(), NBID.into());
            }),
        ),
        (
            "no code_challenge",
            Box::new(|c| {
                c.remove("code_challenge");
            }),
        ),
        (
            "no state",
            Box::new(|c| {
                c.remove("state");
            }),
        ),
        (
            "no nonce",
            Box::new(|c| {
                c.remove("nonce");
            }),
        ),
        (
            "unregistered redirect",
            Box::new(|c| {
                c.insert("redirect_uri".into(), "https://evil.example/".into());
            }),
        ),
    ];
    for (name, edit) in cases {
        let mut claims = base.clone();
        edit(&mut claims);
        let jwe = encrypt(&claims, enc, "RSA-OAEP", kid, "A256CBC-HS512");
        let (status, body) = send_request(&Flow::new(), &sim, &jwe, false).await;
        assert!(status.is_client_error(), "{name}: accepted {body}");
        assert!(
            body["error"].is_string() && body["error_description"].is_string(),
            "{name}"
        );
    }
    // Exactly 1000 characters is fine.
    let mut claims = base.clone();
    claims.insert("signicat_signtext".into(), "é".repeat(1000).into());
    let jwe = encrypt(&claims, enc, "RSA-OAEP", kid, "A256CBC-HS512");
    let (status, body) = send_request(&Flow::new(), &sim, &jwe, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // request must be the only parameter.
    let jwe = encrypt(&base, enc, "RSA-OAEP", kid, "A256CBC-HS512");
    let mut params = vec![("request".to_owned(), jwe)];
    params.push(("client_id".to_owned(), "demo-inapp-sign".to_owned()));
    let (status, _) = Flow::new().authorize_post(&sim, &params).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn jose_header_rules_missing_kid_wrong_kid_wrong_enc_wrong_key_signed_only() {
    let sim = start(config()).await;
    let keys = jwks(&sim).await;
    let enc = key_by_use(&keys, "enc");
    let claims = AuthRequest::nbid(&sim, "071283", "99887766").sign_claims(&sim, TEXT);
    let other_key = {
        let pair = josekit::jwe::RSA_OAEP.generate_key_pair(2048).unwrap();
        let mut jwk = pair.to_jwk_public_key();
        jwk.set_key_id(enc.key_id().unwrap());
        jwk
    };
    let signed = {
        let pair = josekit::jws::RS256.generate_key_pair(2048).unwrap();
        let signer = josekit::jws::RS256
            .signer_from_der(pair.to_der_private_key())
            .unwrap();
        let payload = josekit::jwt::JwtPayload::from_map(claims.clone()).unwrap();
        josekit::jwt::encode_with_signer(&payload, &josekit::jws::JwsHeader::new(), &signer)
            .unwrap()
    };
    let cases = [
        (
            "missing kid",
            encrypt(&claims, enc, "RSA-OAEP", None, "A256CBC-HS512"),
            "kid",
        ),
        (
            "unknown kid",
            encrypt(&claims, enc, "RSA-OAEP", Some("other"), "A256CBC-HS512"),
            "kid",
        ),
        (
            "wrong enc",
            encrypt(&claims, enc, "RSA-OAEP", enc.key_id(), "A128CBC-HS256"),
            "enc",
        ),
        (
            "wrong alg",
            encrypt(&claims, enc, "RSA-OAEP-256", enc.key_id(), "A256CBC-HS512"),
            "alg",
        ),
        (
            "wrong key",
            encrypt(
                &claims,
                &other_key,
                "RSA-OAEP",
                enc.key_id(),
                "A256CBC-HS512",
            ),
            "decrypt",
        ),
        ("signed, not encrypted", signed, "encrypted"),
        ("garbage", "not-a-jwe".to_owned(), "JWE"),
    ];
    for (name, jwe, mention) in cases {
        let (status, body) = send_request(&Flow::new(), &sim, &jwe, false).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
        assert_eq!(body["error"], "invalid_request_object", "{name}: {body}");
        let description = body["error_description"].as_str().unwrap();
        assert!(description.contains(mention), "{name}: {description}");
    }
    assert_eq!(sim.control().sessions().len(), 0);
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}"))
        .unwrap()
        .trim()
        .to_owned()
}

/// A simulator whose keys are the committed fixture keys, and the fixtures' redirect URI.
async fn fixture_sim(enc_alg: EncAlg) -> Simulator {
    let meta: Value = serde_json::from_str(&fixture("fixtures.json")).unwrap();
    let sig = std::fs::read(format!("{FIXTURES}/sig_key.pem")).unwrap();
    let enc = std::fs::read(format!("{FIXTURES}/enc_key.pem")).unwrap();
    let mut cfg: SimulatorConfig = config();
    cfg.oidc.keys = Some(
        OidcKeys::from_pem(
            meta["sig_kid"].as_str().unwrap(),
            &sig,
            meta["enc_kid"].as_str().unwrap(),
            &enc,
            enc_alg,
        )
        .unwrap(),
    );
    cfg.redirect_uris = vec![meta["redirect_uri"].as_str().unwrap().to_owned()];
    start(cfg).await
}

#[tokio::test]
async fn jwcrypto_made_request_objects_decrypt_and_complete() {
    let meta: Value = serde_json::from_str(&fixture("fixtures.json")).unwrap();
    let redirect = meta["redirect_uri"].as_str().unwrap();
    let verifier = meta["code_verifier"].as_str().unwrap();
    for (alg, file, state) in [
        (EncAlg::RsaOaep, "request_nbid_rsa_oaep.jwe", "fx-nbid-oaep"),
        (EncAlg::RsaOaep, "request_sbid_rsa_oaep.jwe", "fx-sbid-oaep"),
        (
            EncAlg::RsaOaep256,
            "request_nbid_rsa_oaep_256.jwe",
            "fx-nbid-oaep256",
        ),
        (
            EncAlg::RsaOaep256,
            "request_sbid_rsa_oaep_256.jwe",
            "fx-sbid-oaep256",
        ),
    ] {
        let sim = fixture_sim(alg).await;
        let keys = jwks(&sim).await;
        assert_eq!(key_by_use(&keys, "enc").key_id(), meta["enc_kid"].as_str());
        let flow = Flow::new();
        let (status, body) = send_request(&flow, &sim, &fixture(file), false).await;
        assert_eq!(status, StatusCode::OK, "{file}: {body}");
        let complete = if let Some(uri) = body["statusUri"].as_str() {
            flow.poll_status(uri).await.pop().unwrap()["completeUri"]
                .as_str()
                .unwrap()
                .to_owned()
        } else {
            flow.poll_collect(
                body["collectUrl"].as_str().unwrap(),
                body["orderRef"].as_str().unwrap(),
            )
            .await
            .pop()
            .unwrap()["completeUrl"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let (location, _) = flow.complete(&complete, redirect).await.unwrap();
        assert_eq!(query(&location, "state").as_deref(), Some(state), "{file}");
        let code = query(&location, "code").unwrap();
        let sign = sim.config().sign_client.clone();
        let (status, tokens) = flow
            .token(
                &sim,
                (&sign.client_id, &sign.client_secret),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", redirect),
                    ("code_verifier", verifier),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{file}: {tokens}");
        let claims = verify_id_token(tokens["id_token"].as_str().unwrap(), &keys).unwrap();
        assert_eq!(claims["nonce"], format!("nonce-{state}").as_str());
        let r = sdo(&flow, &sim, tokens["access_token"].as_str().unwrap()).await;
        let xml = r.text().await.unwrap();
        assert!(xml.contains(TEXT_XML), "{file}: {xml}");
    }
}

#[tokio::test]
async fn jwcrypto_made_bad_request_objects_are_refused() {
    let sim = fixture_sim(EncAlg::RsaOaep).await;
    for (file, mention) in [
        ("bad_wrong_key.jwe", "decrypt"),
        ("bad_missing_kid.jwe", "kid"),
        ("bad_unknown_kid.jwe", "kid"),
        ("bad_wrong_enc.jwe", "enc"),
        ("bad_rsa1_5.jwe", "alg"),
        ("bad_signed_not_encrypted.jws", "encrypted"),
        // Valid RSA-OAEP-256 tokens, but this issuer's enc key is RSA-OAEP.
        ("request_nbid_rsa_oaep_256.jwe", "alg"),
    ] {
        let (status, body) = send_request(&Flow::new(), &sim, &fixture(file), false).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{file}: {body}");
        assert_eq!(body["error"], "invalid_request_object", "{file}: {body}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains(mention),
            "{file}: {body}"
        );
    }
}
