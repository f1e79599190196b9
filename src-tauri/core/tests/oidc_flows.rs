#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The legacy OIDC client end to end against the simulator over real HTTP: all four methods,
//! evidence stored in a real vault, separate cookie jars, staff cancel.

mod oidc_support;

use id_desk_core::flow::{Evidence, EvidenceKind, FlowEvent, Method};
use id_desk_core::vault::{NewTransaction, TxStatus, Vault};
use id_desk_simulator::Endpoint;
use oidc_support::*;
use sha2::{Digest, Sha256};

fn progress_statuses(events: &[FlowEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            FlowEvent::Progress { status, message } => {
                assert!(!message.is_empty());
                Some(status.clone())
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn nbid_inapp_authenticates_with_a_validated_id_token() {
    let sim = sim().await;
    let c = Ctx::new(Method::NbidInapp);
    let subject = client(&sim)
        .authenticate(&nbid_approves(), &c.ctx)
        .await
        .unwrap();
    assert_eq!(subject.name, "Kari Mobil");
    assert_eq!(subject.first_name.as_deref(), Some("Kari"));
    assert_eq!(subject.last_name.as_deref(), Some("Mobil"));
    assert_eq!(subject.date_of_birth.as_deref(), Some("1983-12-07"));
    assert_eq!(subject.nin.as_deref(), Some("07128300141"));
    assert_eq!(subject.nin_masked.as_deref(), Some("0712*******"));
    assert_eq!(subject.country.as_deref(), Some("NO"));

    let types = c.event_types();
    assert_eq!(types.first().map(String::as_str), Some("started"));
    assert!(
        types.iter().all(|t| t == "started" || t == "progress"),
        "{types:?}"
    );
    assert_eq!(progress_statuses(&c.events()), ["pending"]);

    let stats = sim.control().stats();
    let requests: u64 = stats.requests.values().sum();
    // discovery, jwks, authorize, ≥1 status, 3 completion hops, token, userinfo.
    assert_eq!(stats.count(Endpoint::Discovery), 1);
    assert_eq!(stats.count(Endpoint::Jwks), 1);
    assert_eq!(stats.count(Endpoint::Authorize), 1);
    assert_eq!(stats.count(Endpoint::Complete), 3);
    assert_eq!(stats.count(Endpoint::OidcToken), 1);
    assert_eq!(stats.count(Endpoint::Userinfo), 1);
    assert_eq!(stats.count(Endpoint::Signature), 0);
    assert_eq!(requests, 8 + stats.count(Endpoint::Status));
    eprintln!("figures: nbid-inapp requests={requests} ({stats:?})");
}

#[tokio::test]
async fn sbid_inapp_authenticates_and_offers_the_app_launch_link() {
    let sim = sim().await;
    let c = Ctx::new(Method::SbidInapp);
    let subject = client(&sim)
        .authenticate(&sbid_approves(), &c.ctx)
        .await
        .unwrap();
    assert_eq!(subject.name, "Anna Andersson");
    assert_eq!(subject.nin.as_deref(), Some("198304062717"));
    assert_eq!(subject.nin_masked.as_deref(), Some("1983*******"));
    assert_eq!(subject.country.as_deref(), Some("SE"));

    let events = c.events();
    assert!(matches!(
        events[0],
        FlowEvent::Started {
            method: Method::SbidInapp,
            ..
        }
    ));
    let FlowEvent::AppLaunch { url } = &events[1] else {
        panic!("{events:?}")
    };
    let session = sim.control().sessions().into_iter().next().unwrap();
    let token = session.auto_start_token.unwrap();
    assert_eq!(
        url,
        &format!("bankid:///?autostarttoken={token}&redirect=null")
    );
    let statuses = progress_statuses(&events);
    assert!(!statuses.is_empty());
    // Each status is reported once, in BankID's order, with BankID's recommended text.
    let mut dedup = statuses.clone();
    dedup.dedup();
    assert_eq!(dedup, statuses);
    if let Some(FlowEvent::Progress { message, .. }) = events.iter().find(
        |e| matches!(e, FlowEvent::Progress { status, .. } if status == "OUTSTANDING_TRANSACTION"),
    ) {
        assert_eq!(message, "Trying to start your BankID app.");
    }
    let stats = sim.control().stats();
    assert_eq!(stats.count(Endpoint::Authorize), 1);
    assert_eq!(stats.count(Endpoint::Userinfo), 1);
    let requests: u64 = stats.requests.values().sum();
    eprintln!(
        "figures: sbid-inapp requests={requests} collect={}",
        stats.count(Endpoint::Collect)
    );
}

async fn sign_and_check(signer: LegacyAuthKind) {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let (method, who, nin) = match signer {
        LegacyAuthKind::Nbid => (Method::NbidSign, nbid_approves(), "07128300141"),
        LegacyAuthKind::Sbid => (Method::SbidSign, sbid_approves(), "198304062717"),
    };
    let c = Ctx::new(method);
    vault
        .begin(&NewTransaction {
            id: c.ctx.flow_id.clone(),
            method,
            identity_masked: Some(format!("{}*******", &nin[..4])),
            profile: Some("test".into()),
            sign_text: Some(SIGN_TEXT.into()),
            archive_target: None,
        })
        .unwrap();
    let event = client(&sim).run_sign(&sign(who), &vault, &c.ctx).await;
    let FlowEvent::Signed { subject, evidence } = &event else {
        panic!("{event:?}")
    };
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0].kind, EvidenceKind::LtvSdo);
    let sdo = &evidence[0];
    assert_eq!(subject.nin.as_deref(), Some(nin));

    // The simulator saw the text we sent, inside the encrypted request object.
    let session = sim.control().sessions().into_iter().next().unwrap();
    assert_eq!(session.sign_text.as_deref(), Some(SIGN_TEXT));

    // The stored file is exactly the SDO: its hash, its size, and the signed text's digest and
    // signer the simulator put into it.
    let bytes = vault.read_stored(std::path::Path::new(&sdo.path)).unwrap();
    assert_eq!(bytes.len() as u64, sdo.bytes);
    assert_eq!(hex::encode(Sha256::digest(&bytes)), sdo.sha256);
    let xml = String::from_utf8(bytes.clone()).unwrap();
    let text_digest = hex::encode(Sha256::digest(SIGN_TEXT.as_bytes()));
    assert!(xml.contains(&format!("sha256=\"{text_digest}\"")), "{xml}");
    assert!(xml.contains(&format!("<ltvsdo:NationalId>{nin}</ltvsdo:NationalId>")));
    assert!(xml.contains("blåbærsyltetøy &amp; &lt;xml&gt;"), "{xml}");

    // The vault row says signed, with the same evidence, and verifies.
    vault.record(&c.ctx.flow_id, &event).unwrap();
    let row = vault.get(&c.ctx.flow_id).unwrap();
    assert_eq!(row.status, TxStatus::Signed);
    assert_eq!(row.sdo.map(Evidence::ltv_sdo).as_ref(), Some(sdo));
    assert!(vault.verify(&c.ctx.flow_id).unwrap());
    let stats = sim.control().stats();
    assert_eq!(stats.count(Endpoint::Signature), 1);
    let requests: u64 = stats.requests.values().sum();
    eprintln!(
        "figures: {} requests={requests} sdo_bytes={} sdo_sha256={}",
        method.as_str(),
        sdo.bytes,
        sdo.sha256
    );
}

enum LegacyAuthKind {
    Nbid,
    Sbid,
}

#[tokio::test]
async fn nbid_inapp_sign_stores_the_sdo_before_reporting_signed() {
    sign_and_check(LegacyAuthKind::Nbid).await;
}

#[tokio::test]
async fn sbid_inapp_sign_stores_the_sdo_before_reporting_signed() {
    sign_and_check(LegacyAuthKind::Sbid).await;
}

#[tokio::test]
async fn concurrent_flows_keep_separate_cookie_jars() {
    // One client, two customers at once. The simulator ties each order to its own session cookie
    // (same cookie name), so a shared jar would send flow A's polls with flow B's cookie.
    let sim = sim().await;
    let client = client(&sim);
    let a = Ctx::new(Method::NbidInapp);
    let b = Ctx::new(Method::SbidInapp);
    let (na, sb) = (nbid_approves(), sbid_approves());
    let (ra, rb) = tokio::join!(
        client.authenticate(&na, &a.ctx),
        client.authenticate(&sb, &b.ctx)
    );
    assert_eq!(ra.unwrap().name, "Kari Mobil");
    assert_eq!(rb.unwrap().name, "Anna Andersson");
    // Discovery and JWKS were shared by both flows.
    let stats = sim.control().stats();
    assert_eq!(stats.count(Endpoint::Discovery), 1);
    assert_eq!(stats.count(Endpoint::Jwks), 1);
}

#[tokio::test]
async fn staff_cancel_stops_polling_and_reports_cancelled() {
    let sim = sim().await;
    // Siri Taus never answers.
    let who = id_desk_core::oidc::LegacyAuth::Nbid {
        phone: id_desk_core::identity::NorwegianMobile::parse("48123456").unwrap(),
        birthdate: id_desk_core::identity::BirthDate::parse("150590").unwrap(),
    };
    let c = Ctx::new(Method::NbidInapp);
    let cancel = c.ctx.cancel.clone();
    let events = c.events.clone();
    tokio::spawn(async move {
        // Cancel once the flow is polling.
        loop {
            if events
                .lock()
                .unwrap()
                .iter()
                .any(|e| matches!(e, FlowEvent::Progress { .. }))
            {
                cancel.cancel();
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    });
    let event = client(&sim).run_authenticate(&who, None, &c.ctx).await;
    assert_eq!(event, FlowEvent::Cancelled);
    assert_eq!(sim.control().stats().count(Endpoint::OidcToken), 0);
}
