#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every way a legacy OIDC flow can fail, against the simulator: each failure is typed and clear,
//! and nothing after the failing step is requested.

mod oidc_support;

use id_desk_core::flow::{FlowEvent, Method, CUSTOMER_ABORTED};
use id_desk_core::oidc::{FlowStop, TestKnobs};
use id_desk_core::vault::{NewTransaction, TxStatus, Vault};
use id_desk_core::Error;
use id_desk_simulator::{Endpoint, Fault, FaultKind};
use oidc_support::*;
use std::time::Duration;

#[tokio::test]
async fn customer_cancel_in_the_app_is_customer_aborted() {
    let sim = sim().await;
    for (method, who) in [
        (Method::NbidInapp, nbid_cancels()),
        (Method::SbidInapp, sbid_cancels()),
    ] {
        let c = Ctx::new(method);
        let stop = client(&sim).authenticate(&who, &c.ctx).await.unwrap_err();
        assert!(matches!(stop, FlowStop::CustomerAborted), "{stop:?}");
        let c = Ctx::new(method);
        let event = client(&sim).run_authenticate(&who, None, &c.ctx).await;
        assert_eq!(
            event,
            FlowEvent::Failed {
                code: CUSTOMER_ABORTED.into(),
                message: "The action was cancelled.".into()
            }
        );
    }
    assert_eq!(sim.control().stats().count(Endpoint::OidcToken), 0);
}

#[tokio::test]
async fn an_order_that_expires_ends_as_expired() {
    let sim = sim_with(|c| c.oidc_order_lifetime = Duration::from_millis(1500)).await;
    // Siri Taus never answers.
    let who = id_desk_core::oidc::LegacyAuth::Nbid {
        phone: id_desk_core::identity::NorwegianMobile::parse("48123456").unwrap(),
        birthdate: id_desk_core::identity::BirthDate::parse("150590").unwrap(),
    };
    let c = Ctx::new(Method::NbidInapp);
    let event = client(&sim).run_authenticate(&who, None, &c.ctx).await;
    assert_eq!(event, FlowEvent::Expired);
}

#[tokio::test]
async fn error_json_from_authorize_is_shown_as_sent() {
    let sim = sim().await;
    sim.control().inject(Fault::new(
        Endpoint::Authorize,
        FaultKind::ErrorJson {
            error: "invalid_request".into(),
            description: "The login hint is not accepted for this client".into(),
        },
    ));
    let c = Ctx::new(Method::NbidInapp);
    let event = client(&sim)
        .run_authenticate(&nbid_approves(), None, &c.ctx)
        .await;
    assert_eq!(
        event,
        FlowEvent::Failed {
            code: "invalid_request".into(),
            message: "The login hint is not accepted for this client".into()
        }
    );
    // Nothing was started, nothing polled.
    assert!(c.events().is_empty(), "{:?}", c.events());
    assert_eq!(sim.control().stats().count(Endpoint::Status), 0);
}

#[tokio::test]
async fn bankid_error_while_polling_gets_bankids_message() {
    let sim = sim().await;
    sim.control().inject(Fault::new(
        Endpoint::Collect,
        FaultKind::ErrorJson {
            error: "CERTIFICATE_ERR".into(),
            description: "certificate error".into(),
        },
    ));
    let c = Ctx::new(Method::SbidInapp);
    let event = client(&sim)
        .run_authenticate(&sbid_approves(), None, &c.ctx)
        .await;
    let FlowEvent::Failed { code, message } = event else {
        panic!("{event:?}")
    };
    assert_eq!(code, "CERTIFICATE_ERR");
    assert!(
        message.starts_with("Your BankID is blocked or too old."),
        "{message}"
    );
}

#[tokio::test]
async fn a_state_that_differs_from_the_one_sent_is_refused() {
    let sim = sim().await;
    let client = client_with(
        &sim,
        TestKnobs {
            expect_other_state: true,
            ..TestKnobs::default()
        },
    );
    let c = Ctx::new(Method::NbidInapp);
    let stop = client
        .authenticate(&nbid_approves(), &c.ctx)
        .await
        .unwrap_err();
    assert!(
        matches!(stop, FlowStop::Failed(Error::StateMismatch)),
        "{stop:?}"
    );
    // The code of an answer that may not be ours is never redeemed.
    assert_eq!(sim.control().stats().count(Endpoint::OidcToken), 0);
}

async fn id_token_fault(kind: FaultKind) -> FlowStop {
    let sim = sim().await;
    sim.control()
        .inject(Fault::new(Endpoint::OidcToken, kind.clone()));
    let c = Ctx::new(Method::SbidInapp);
    let stop = client(&sim)
        .authenticate(&sbid_approves(), &c.ctx)
        .await
        .unwrap_err();
    // Nothing from an untrusted token is used: no userinfo call.
    assert_eq!(
        sim.control().stats().count(Endpoint::Userinfo),
        0,
        "{kind:?}"
    );
    stop
}

#[tokio::test]
async fn untrusted_id_tokens_are_refused() {
    for (kind, says) in [
        (FaultKind::IdTokenBadSignature, "signature"),
        (FaultKind::IdTokenWrongAudience, "aud"),
        (FaultKind::IdTokenWrongNonce, "nonce"),
        (FaultKind::IdTokenExpired, "expired"),
        (FaultKind::IdTokenWrongIssuer, "issuer"),
        (FaultKind::IdTokenUnknownKid, "does not publish"),
    ] {
        let stop = id_token_fault(kind.clone()).await;
        let FlowStop::Failed(e @ Error::IdToken(_)) = &stop else {
            panic!("{kind:?}: {stop:?}")
        };
        assert_eq!(e.code(), "id_token_invalid");
        assert!(e.to_string().contains(says), "{kind:?}: {e}");
    }
}

#[tokio::test]
async fn a_rotated_signing_key_is_picked_up_by_refetching_the_jwks_once() {
    let sim = sim().await;
    let client = client(&sim);
    // Warm the JWKS cache with the old key.
    let c = Ctx::new(Method::SbidInapp);
    client.authenticate(&sbid_approves(), &c.ctx).await.unwrap();
    sim.control().inject(Fault::new(
        Endpoint::OidcToken,
        FaultKind::IdTokenRotatedKey,
    ));
    let c = Ctx::new(Method::NbidInapp);
    let subject = client.authenticate(&nbid_approves(), &c.ctx).await.unwrap();
    assert_eq!(subject.name, "Kari Mobil");
    let stats = sim.control().stats();
    assert_eq!(stats.count(Endpoint::Jwks), 2);
    assert_eq!(stats.count(Endpoint::Discovery), 1);
}

#[tokio::test]
async fn a_refused_sdo_download_fails_the_signature_and_stores_nothing() {
    let sim = sim().await;
    sim.control()
        .inject(Fault::new(Endpoint::Signature, FaultKind::Refused));
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let c = Ctx::new(Method::NbidSign);
    vault
        .begin(&NewTransaction {
            id: c.ctx.flow_id.clone(),
            method: Method::NbidSign,
            identity_masked: Some("0712*******".into()),
            profile: None,
            sign_text: Some(SIGN_TEXT.into()),
            archive_target: None,
        })
        .unwrap();
    let stop = client(&sim)
        .sign(&sign(nbid_approves()), &vault, &c.ctx)
        .await
        .unwrap_err();
    let FlowStop::Failed(Error::Api { status, code, .. }) = &stop else {
        panic!("{stop:?}")
    };
    assert_eq!((*status, code.as_str()), (403, "access_denied"));
    let event = stop.into_event(c.ctx.lang);
    vault.record(&c.ctx.flow_id, &event).unwrap();
    let row = vault.get(&c.ctx.flow_id).unwrap();
    assert_eq!(row.status, TxStatus::Failed);
    assert_eq!(row.error_code.as_deref(), Some("api_error"));
    assert!(row.sdo.is_none());
    assert_eq!(
        std::fs::read_dir(dir.path().join("sdo")).unwrap().count(),
        0
    );
}

#[tokio::test]
async fn a_redirect_loop_stops_after_ten_hops() {
    let sim = sim().await;
    sim.control()
        .inject(Fault::new(Endpoint::Complete, FaultKind::RedirectLoop));
    let c = Ctx::new(Method::NbidInapp);
    let stop = client(&sim)
        .authenticate(&nbid_approves(), &c.ctx)
        .await
        .unwrap_err();
    let FlowStop::Failed(e @ Error::Protocol(_)) = &stop else {
        panic!("{stop:?}")
    };
    assert!(e.to_string().contains("redirect loop"), "{e}");
    let stats = sim.control().stats();
    // The completion URL and ten more hops, then we stop.
    assert_eq!(stats.count(Endpoint::Complete), 11);
    assert_eq!(stats.count(Endpoint::OidcToken), 0);
}

#[tokio::test]
async fn the_session_cookie_is_required() {
    let sim = sim().await;
    // A client that keeps no cookies fails on the first follow-up request...
    let cookieless = client_with(
        &sim,
        TestKnobs {
            drop_cookies: true,
            ..TestKnobs::default()
        },
    );
    let c = Ctx::new(Method::NbidInapp);
    let stop = cookieless
        .authenticate(&nbid_approves(), &c.ctx)
        .await
        .unwrap_err();
    let event = stop.into_event(c.ctx.lang);
    let FlowEvent::Failed { code, message } = &event else {
        panic!("{event:?}")
    };
    eprintln!("cookieless flow: {code}: {message}");
    assert_ne!(code, CUSTOMER_ABORTED);
    let stats = sim.control().stats();
    assert_eq!(stats.count(Endpoint::Status), 1);
    assert_eq!(stats.count(Endpoint::OidcToken), 0);
    // ...while the same flow with its own cookie jar succeeds.
    let c = Ctx::new(Method::NbidInapp);
    client(&sim)
        .authenticate(&nbid_approves(), &c.ctx)
        .await
        .unwrap();
    // And a cookie the server stops recognising mid-flow fails the flow the same way.
    sim.control()
        .inject(Fault::new(Endpoint::Complete, FaultKind::DropCookie));
    let c = Ctx::new(Method::NbidInapp);
    let again = client(&sim)
        .run_authenticate(&nbid_approves(), None, &c.ctx)
        .await;
    assert_eq!(
        serde_json::to_value(&again).unwrap()["code"],
        serde_json::to_value(&event).unwrap()["code"]
    );
}

#[tokio::test]
async fn a_userinfo_failure_after_signing_keeps_the_signature() {
    let sim = sim().await;
    sim.control().inject(Fault::new(
        Endpoint::Userinfo,
        FaultKind::Unavailable {
            retry_after_secs: 1,
        },
    ));
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let c = Ctx::new(Method::SbidSign);
    vault
        .begin(&NewTransaction {
            id: c.ctx.flow_id.clone(),
            method: Method::SbidSign,
            identity_masked: Some("1983*******".into()),
            profile: None,
            sign_text: Some(SIGN_TEXT.into()),
            archive_target: None,
        })
        .unwrap();
    let (subject, sdo) = client(&sim)
        .sign(&sign(sbid_approves()), &vault, &c.ctx)
        .await
        .unwrap();
    // The person comes from the validated ID token instead.
    assert_eq!(subject.name, "Anna Andersson");
    assert_eq!(subject.nin.as_deref(), Some("198304062717"));
    assert_eq!(sim.control().stats().count(Endpoint::Userinfo), 1);
    assert!(vault.verify(&c.ctx.flow_id).unwrap());
    assert!(sdo.bytes > 0);
}
