//! The REST redirect flow against the simulator over real HTTP: the engine creates the session
//! with `redirectSettings`, emits `redirect {url}`, and the outcome comes from GET session. The
//! customer is played by an HTTP client that reads the provider's page and presses its buttons
//! (what the sandboxed window does), never following the final redirect.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use id_desk_core::flow::FlowId;
use id_desk_core::flow::{FlowEvent, Method};
use id_desk_core::rest::redirect::{self, Navigation, RedirectEnd};
use id_desk_core::rest::RedirectProvider;
use id_desk_core::runner::{FlowRequest, FlowSettings, RawFlowInput};
use rest_support::*;
use std::time::Duration;

fn redirect_settings() -> FlowSettings {
    FlowSettings {
        redirect_providers: vec![RedirectProvider::Mitid, RedirectProvider::Ftn],
        ..settings()
    }
}

fn redirect_input(provider: &str) -> RawFlowInput {
    RawFlowInput {
        provider: Some(provider.into()),
        ..RawFlowInput::new(Method::Redirect)
    }
}

fn engine_for(sim: &id_desk_simulator::Simulator) -> id_desk_core::runner::Engine {
    id_desk_core::runner::Engine::with_timeouts(
        Some(rest_config(sim)),
        redirect_settings(),
        TEST_TIMEOUTS,
    )
    .unwrap()
}

/// Starts a MitID flow and returns its id, the provider page's URL and the recorder.
async fn start(
    sim: &id_desk_simulator::Simulator,
    engine: &id_desk_core::runner::Engine,
    provider: &str,
) -> (FlowId, url::Url, Recorder) {
    let rec = Recorder::default();
    let req = FlowRequest::parse(&redirect_input(provider), &redirect_settings()).unwrap();
    let id = engine.start(req, rec.sink()).await.unwrap();
    let FlowEvent::Redirect { url } = rec
        .until(&id, |e| matches!(e, FlowEvent::Redirect { .. }))
        .await
    else {
        unreachable!()
    };
    let url = url::Url::parse(&url).unwrap();
    assert!(
        url.as_str().starts_with(&sim.base_url()),
        "the page is the simulator's: {url}"
    );
    (id, url, rec)
}

/// Presses one button of the provider's page; returns where the page sends the browser.
async fn press(page: &url::Url, button_value: &str) -> url::Url {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let html = http
        .get(page.clone())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("value=\"{button_value}\"")),
        "{button_value} on the page: {html}"
    );
    assert!(!html.contains("<script"), "the page runs no script");
    let answer = http
        .post(page.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("choice={}", button_value.replace(':', "%3A")))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::SEE_OTHER);
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    url::Url::parse(&location).unwrap()
}

async fn terminal(engine: &id_desk_core::runner::Engine, id: &FlowId) -> FlowEvent {
    tokio::time::timeout(Duration::from_secs(15), engine.wait(id))
        .await
        .expect("the flow ends")
        .expect("a terminal event")
}

#[tokio::test]
async fn a_mitid_persona_succeeds_through_the_providers_page() {
    let sim = simulator(|_| {}).await;
    let engine = engine_for(&sim);
    let (id, page, rec) = start(&sim, &engine, "mitid").await;
    let back = press(&page, "approve:lars").await;
    assert_eq!(
        redirect::final_redirect(&back),
        Some(RedirectEnd::Success),
        "{back}"
    );
    assert!(back.query().unwrap_or_default().starts_with("sessionId="));
    let FlowEvent::Succeeded { subject } = terminal(&engine, &id).await else {
        panic!("expected succeeded, got {:?}", rec.events(&id));
    };
    assert_eq!(subject.name, "Lars Jensen");
    assert_eq!(subject.country.as_deref(), Some("DK"));
    assert_eq!(subject.nin_masked.as_deref(), Some("0101*******"));
    let events = rec.events(&id);
    assert_well_formed(&events);
    let tags: Vec<String> = events.iter().map(tag).collect();
    assert_eq!(tags[..2], ["started", "redirect"], "{tags:?}");
}

#[tokio::test]
async fn abort_on_the_page_is_cancelled_and_an_error_is_failed() {
    let sim = simulator(|_| {}).await;
    let engine = engine_for(&sim);

    let (id, page, _) = start(&sim, &engine, "mitid").await;
    let back = press(&page, "abort").await;
    assert_eq!(redirect::final_redirect(&back), Some(RedirectEnd::Abort));
    assert_eq!(terminal(&engine, &id).await, FlowEvent::Cancelled);

    let (id, page, _) = start(&sim, &engine, "ftn").await;
    let back = press(&page, "error").await;
    assert_eq!(redirect::final_redirect(&back), Some(RedirectEnd::Error));
    match terminal(&engine, &id).await {
        FlowEvent::Failed { code, message } => {
            assert_eq!(code, "idp_error");
            assert!(message.contains("identity provider"), "{message}");
        }
        other => panic!("expected failed, got {other:?}"),
    }
}

#[tokio::test]
async fn the_window_rules_accept_the_simulators_pages_and_stop_at_the_final_url() {
    let sim = simulator(|_| {}).await;
    let engine = engine_for(&sim);
    let (id, page, _) = start(&sim, &engine, "mitid").await;
    let base = url::Url::parse(&sim.base_url()).unwrap();
    let allowed = redirect::AllowedOrigins::new(&[&base, &page]);
    assert_eq!(redirect::navigation(&page, &allowed), Navigation::Load);
    let back = press(&page, "approve:mette").await;
    assert_eq!(
        redirect::navigation(&back, &allowed),
        Navigation::Finished(RedirectEnd::Success)
    );
    assert!(matches!(
        terminal(&engine, &id).await,
        FlowEvent::Succeeded { .. }
    ));
}

#[tokio::test]
async fn staff_cancel_ends_the_session_at_the_simulator() {
    let sim = simulator(|_| {}).await;
    let engine = engine_for(&sim);
    let (id, page, _) = start(&sim, &engine, "mitid").await;
    engine.cancel(&id).await.unwrap();
    assert_eq!(terminal(&engine, &id).await, FlowEvent::Cancelled);
    // The page is over: the customer can no longer answer it.
    let status = reqwest::get(page).await.unwrap().status();
    assert_eq!(status, reqwest::StatusCode::GONE);
}

#[tokio::test]
async fn an_unanswered_page_expires() {
    let sim = simulator(|cfg| cfg.session_lifetime_override = Some(Duration::from_secs(2))).await;
    let engine = engine_for(&sim);
    let (id, _, _) = start(&sim, &engine, "ftn").await;
    assert_eq!(terminal(&engine, &id).await, FlowEvent::Expired);
}

#[tokio::test]
async fn a_bad_or_unoffered_provider_is_refused_naming_the_field() {
    let only_mitid = FlowSettings {
        redirect_providers: vec![RedirectProvider::Mitid],
        ..settings()
    };
    for (raw, why) in [
        (RawFlowInput::new(Method::Redirect), "is required"),
        (redirect_input("bankid-dk"), "unknown eID provider"),
        (redirect_input("ftn"), "does not offer ftn"),
    ] {
        let e = FlowRequest::parse(&raw, &only_mitid).unwrap_err();
        assert_eq!(e.field(), Some("provider"), "{raw:?}");
        assert!(e.to_string().contains(why), "{e}");
    }
    // No profile providers at all: nothing is offered.
    let e = FlowRequest::parse(&redirect_input("mitid"), &settings()).unwrap_err();
    assert_eq!(e.field(), Some("provider"));
}
