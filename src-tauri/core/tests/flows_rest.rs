//! Every REST flow × every outcome against the simulator over real HTTP, plus the event grammar,
//! one flow per identity, cancel and cancel_all, and the animated QR checked against the BankID
//! HMAC algorithm.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use hmac::{Hmac, Mac};
use id_desk_core::flow::{FlowEvent, Method, CUSTOMER_ABORTED};
use id_desk_core::runner::{exit_code, RawFlowInput};
use id_desk_core::Error;
use rest_support::*;
use sha2::Sha256;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
enum Expect {
    Succeeded,
    Failed(&'static str),
    Cancelled,
    Expired,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Act {
    /// Let the persona act.
    Nothing,
    /// Staff cancel once the flow has started.
    Cancel,
    /// The customer (control API) scans and approves once a QR has been shown.
    ScanAndApprove,
}

struct Case {
    name: &'static str,
    raw: RawFlowInput,
    act: Act,
    expect: Expect,
}

fn case(name: &'static str, raw: RawFlowInput, act: Act, expect: Expect) -> Case {
    Case {
        name,
        raw,
        act,
        expect,
    }
}

/// Runs one case on its own simulator (sessions expire after 3 s; unscanned QR fails after 2 s)
/// and checks the terminal event, the grammar and what the simulator saw. A case that scans gets
/// 30 s for both: the short limits are for the cases that run into them, and under Wine the test
/// once reached its scan more than 2 s after the session was made.
async fn run_case(c: Case) {
    let (lifetime, scan) = if matches!(c.act, Act::ScanAndApprove) {
        (30, 30)
    } else {
        (3, 2)
    };
    let sim = simulator(|cfg| {
        cfg.session_lifetime_override = Some(Duration::from_secs(lifetime));
        cfg.qr_scan_timeout = Duration::from_secs(scan);
    })
    .await;
    let control = sim.control();
    let engine = engine(&sim);
    let rec = Recorder::default();
    let req = request(&c.raw);
    let method = req.method();
    let id = engine.start(req, rec.sink()).await.unwrap();
    match c.act {
        Act::Nothing => {}
        Act::Cancel => {
            rec.until(&id, |e| matches!(e, FlowEvent::Started { .. }))
                .await;
            engine.cancel(&id).await.unwrap();
        }
        Act::ScanAndApprove => {
            rec.until(&id, |e| matches!(e, FlowEvent::Qr { .. })).await;
            let sid = control.sessions()[0].id.clone();
            control.scan_qr(&sid).unwrap();
            control.approve(&sid).unwrap();
        }
    }
    let terminal = tokio::time::timeout(Duration::from_secs(15), engine.wait(&id))
        .await
        .unwrap_or_else(|_| panic!("{}: no terminal event", c.name))
        .unwrap();
    let events = rec.events(&id);
    assert_well_formed(&events);
    assert_eq!(events.last(), Some(&terminal), "{}", c.name);
    let ok = match (c.expect, &terminal) {
        (Expect::Succeeded, FlowEvent::Succeeded { .. }) => true,
        (Expect::Failed(want), FlowEvent::Failed { code, message }) => {
            assert!(!message.is_empty(), "{}: failure without a message", c.name);
            code == want
        }
        (Expect::Cancelled, FlowEvent::Cancelled) => true,
        (Expect::Expired, FlowEvent::Expired) => true,
        _ => false,
    };
    assert!(ok, "{}: expected {:?}, got {terminal:?}", c.name, c.expect);

    let sessions = control.sessions();
    assert_eq!(sessions.len(), 1, "{}: exactly one session", c.name);
    let session = &sessions[0];
    let stats = control.stats();
    assert_eq!(stats.creates(), 1, "{}", c.name);
    assert_eq!(stats.token_requests(), 1, "{}", c.name);
    match &terminal {
        FlowEvent::Succeeded { subject } => {
            assert_eq!(subject.name, session.customer_name, "{}", c.name);
            if let Some(nin) = &subject.nin {
                assert_eq!(
                    subject.nin_masked.as_deref(),
                    Some(format!("{}*******", &nin[..4]).as_str())
                );
            }
            let country = if method == Method::NbidMobile || method == Method::NbidSafeConversation
            {
                "NO"
            } else {
                "SE"
            };
            assert_eq!(subject.country.as_deref(), Some(country), "{}", c.name);
            assert!(subject.loa.is_some(), "{}", c.name);
        }
        FlowEvent::Cancelled => {
            assert_eq!(session.status, "CANCELLED", "{}", c.name);
            assert_eq!(stats.session(&session.id).cancels, 1, "{}", c.name);
        }
        _ => {}
    }
    // Method-specific artefacts, shown before the terminal event.
    let tags: Vec<String> = events.iter().map(tag).collect();
    match method {
        Method::NbidSafeConversation => {
            let bm = events.iter().find_map(|e| match e {
                FlowEvent::BindingMessage { text } => Some(text.clone()),
                _ => None,
            });
            assert_eq!(bm, session.binding_message, "{}: {tags:?}", c.name);
            assert_eq!(tags[1], "binding_message", "{}: {tags:?}", c.name);
        }
        Method::SbidAppLaunch => {
            let token = session.auto_start_token.clone().unwrap();
            assert!(
                events.contains(&FlowEvent::AppLaunch {
                    url: format!("bankid:///?autostarttoken={token}&redirect=null")
                }),
                "{}: {tags:?}",
                c.name
            );
        }
        Method::SbidQr => assert!(tags.contains(&"qr".to_string()), "{}: {tags:?}", c.name),
        _ => {}
    }
    assert!(
        tags.contains(&"progress".to_string()),
        "{}: {tags:?}",
        c.name
    );
    eprintln!(
        "[figures] {}: polls {} events {:?}",
        c.name,
        stats.session(&session.id).polls,
        tags
    );
}

async fn run_all(cases: Vec<Case>) {
    futures::future::join_all(cases.into_iter().map(run_case)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn safe_conversation_every_outcome() {
    use Method::NbidSafeConversation as M;
    run_all(vec![
        case(
            "sc success",
            input(M, Some("29124815345")),
            Act::Nothing,
            Expect::Succeeded,
        ),
        case(
            "sc abort",
            input(M, Some("01100844350")),
            Act::Nothing,
            Expect::Failed(CUSTOMER_ABORTED),
        ),
        case(
            "sc error",
            input(M, Some("23017500112")),
            Act::Nothing,
            Expect::Failed("certificateErr"),
        ),
        case(
            "sc wrong words",
            input(M, Some("30049200079")),
            Act::Nothing,
            Expect::Failed("user_declined_call"),
        ),
        case(
            "sc expired",
            input(M, Some("15059000141")),
            Act::Nothing,
            Expect::Expired,
        ),
        case(
            "sc cancelled",
            input(M, Some("15059000141")),
            Act::Cancel,
            Expect::Cancelled,
        ),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bankid_on_mobile_every_outcome() {
    run_all(vec![
        case(
            "mobile success",
            mobile_input("+47 998 87 766", "1983-12-07"),
            Act::Nothing,
            Expect::Succeeded,
        ),
        case(
            "mobile abort",
            mobile_input("91234567", "1975-01-23"),
            Act::Nothing,
            Expect::Failed(CUSTOMER_ABORTED),
        ),
        case(
            "mobile expired",
            mobile_input("48123456", "1990-05-15"),
            Act::Nothing,
            Expect::Expired,
        ),
        case(
            "mobile cancelled",
            mobile_input("48123456", "1990-05-15"),
            Act::Cancel,
            Expect::Cancelled,
        ),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn swedish_qr_every_outcome() {
    use Method::SbidQr as M;
    run_all(vec![
        case(
            "qr success (persona)",
            input(M, Some("198304062717")),
            Act::Nothing,
            Expect::Succeeded,
        ),
        case(
            "qr success (anyone scans)",
            input(M, None),
            Act::ScanAndApprove,
            Expect::Succeeded,
        ),
        case(
            "qr abort",
            input(M, Some("199010270537")),
            Act::Nothing,
            Expect::Failed(CUSTOMER_ABORTED),
        ),
        case(
            "qr error",
            input(M, Some("199010275312")),
            Act::Nothing,
            Expect::Failed("certificateErr"),
        ),
        case(
            "qr never scanned",
            input(M, Some("198503151238")),
            Act::Nothing,
            Expect::Failed("startFailed"),
        ),
        case(
            "qr expired",
            input(M, Some("199207071235")),
            Act::Nothing,
            Expect::Expired,
        ),
        case(
            "qr cancelled",
            input(M, None),
            Act::Cancel,
            Expect::Cancelled,
        ),
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn swedish_app_launch_every_outcome() {
    use Method::SbidAppLaunch as M;
    run_all(vec![
        case(
            "app success",
            input(M, Some("198304062717")),
            Act::Nothing,
            Expect::Succeeded,
        ),
        case(
            "app abort",
            input(M, Some("199010270537")),
            Act::Nothing,
            Expect::Failed(CUSTOMER_ABORTED),
        ),
        case(
            "app error",
            input(M, Some("199010275312")),
            Act::Nothing,
            Expect::Failed("certificateErr"),
        ),
        case(
            "app expired",
            input(M, Some("199207071235")),
            Act::Nothing,
            Expect::Expired,
        ),
        case(
            "app cancelled",
            input(M, None),
            Act::Cancel,
            Expect::Cancelled,
        ),
    ])
    .await;
}

/// Every QR string is `bankid.<token>.<t>.<hex HMAC-SHA256(secret, t)>`, t counts up from 0, and
/// consecutive events differ (the engine forwards each new animation frame).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_strings_follow_the_bankid_hmac_algorithm() {
    let sim = simulator(|cfg| cfg.qr_scan_timeout = Duration::from_secs(30)).await;
    let control = sim.control();
    let engine = engine(&sim);
    let rec = Recorder::default();
    let id = engine
        .start(request(&input(Method::SbidQr, None)), rec.sink())
        .await
        .unwrap();
    // Three frames: polls run every second while the QR is shown.
    for _ in 0..500 {
        let n = rec
            .events(&id)
            .iter()
            .filter(|e| matches!(e, FlowEvent::Qr { .. }))
            .count();
        if n >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let session = control.sessions()[0].clone();
    let secret = qr_start_secret(&control, &session.id);
    let frames: Vec<String> = rec
        .events(&id)
        .into_iter()
        .filter_map(|e| match e {
            FlowEvent::Qr { data } => Some(data),
            _ => None,
        })
        .collect();
    assert!(frames.len() >= 3, "{frames:?}");
    let mut last_t = None;
    let mut token = None;
    for f in &frames {
        let parts: Vec<&str> = f.split('.').collect();
        assert_eq!(parts.len(), 4, "{f}");
        assert_eq!(parts[0], "bankid");
        let t: u64 = parts[2].parse().unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(t.to_string().as_bytes());
        assert_eq!(parts[3], hex::encode(mac.finalize().into_bytes()), "{f}");
        if let Some(prev) = last_t {
            assert!(t > prev, "qrTime must increase: {frames:?}");
        }
        assert_eq!(*token.get_or_insert(parts[1].to_string()), parts[1]);
        last_t = Some(t);
    }
    engine.cancel(&id).await.unwrap();
    assert_eq!(engine.wait(&id).await, Some(FlowEvent::Cancelled));
}

/// The simulator keeps the secret server-side; its control API exposes it for this check.
fn qr_start_secret(control: &id_desk_simulator::Control, id: &str) -> String {
    control.session(id).unwrap().qr_start_secret.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_flow_per_identity_and_running_list() {
    let sim = simulator(|_| {}).await;
    let engine = engine(&sim);
    let rec = Recorder::default();
    let raw = input(Method::NbidSafeConversation, Some("15059000141"));
    let first = engine.start(request(&raw), rec.sink()).await.unwrap();
    let err = engine.start(request(&raw), rec.sink()).await.unwrap_err();
    match &err {
        Error::AlreadyRunning { flow_id } => assert_eq!(flow_id, first.as_str()),
        other => panic!("expected already_running, got {other:?}"),
    }
    // An open QR has no identity: any number may run side by side.
    let qr1 = engine
        .start(request(&input(Method::SbidQr, None)), rec.sink())
        .await
        .unwrap();
    let qr2 = engine
        .start(request(&input(Method::SbidQr, None)), rec.sink())
        .await
        .unwrap();
    let running = engine.running();
    assert_eq!(running.len(), 3);
    let listed = running.iter().find(|r| r.flow_id == first).unwrap();
    assert_eq!(listed.identity_masked.as_deref(), Some("1505*******"));
    assert_eq!(listed.method, Method::NbidSafeConversation);
    assert!(!serde_json::to_string(&running)
        .unwrap()
        .contains("15059000141"));

    engine.cancel(&first).await.unwrap();
    assert_eq!(engine.wait(&first).await, Some(FlowEvent::Cancelled));
    // The identity is free again; in the same call, sending again is a retry staff confirm.
    let unconfirmed = engine.start(request(&raw), rec.sink()).await.unwrap_err();
    assert_eq!(unconfirmed.field(), Some("retry_confirmed"));
    let again = engine
        .start_confirmed(request(&raw), true, rec.sink())
        .await
        .unwrap();
    assert_ne!(again, first);

    // Quitting: everything ends cancelled within the bound.
    engine.cancel_all(Duration::from_secs(3)).await;
    for id in [&again, &qr1, &qr2] {
        assert_eq!(engine.wait(id).await, Some(FlowEvent::Cancelled));
        assert_eq!(exit_code(&FlowEvent::Cancelled), 5);
    }
    assert!(engine.running().is_empty());
    assert_eq!(
        sim.control()
            .stats()
            .count(id_desk_simulator::Endpoint::Cancel),
        4
    );
    assert!(matches!(
        engine.cancel(&first).await.unwrap_err(),
        Error::NotFound(_)
    ));
}

/// The binding message is emitted as soon as the create answer is read: before the first poll
/// reaches the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binding_message_arrives_before_the_first_poll() {
    let sim = simulator(|_| {}).await;
    let control = sim.control();
    let engine = engine(&sim);
    let rec = Recorder::default();
    let id = engine
        .start(
            request(&input(Method::NbidSafeConversation, Some("29124815345"))),
            rec.sink(),
        )
        .await
        .unwrap();
    let terminal = engine.wait(&id).await.unwrap();
    assert!(
        matches!(terminal, FlowEvent::Succeeded { .. }),
        "{terminal:?}"
    );
    let recs = rec.of(&id);
    let started = recs
        .iter()
        .find(|r| matches!(r.update.event, FlowEvent::Started { .. }))
        .unwrap();
    let binding = recs
        .iter()
        .find(|r| matches!(r.update.event, FlowEvent::BindingMessage { .. }))
        .unwrap();
    let succeeded = recs.last().unwrap();
    let session = control.sessions()[0].clone();
    let stats = control.stats().session(&session.id);
    let first_poll = stats.poll_unix_ns[0];
    assert!(
        binding.wall_ns < first_poll,
        "binding message after the first poll"
    );
    let approved = stats.approved_at_unix_ns.unwrap();
    assert!(succeeded.wall_ns >= approved);
    eprintln!(
        "[figures] started→binding_message {} µs; approval→succeeded {} ms; polls {}",
        (binding.wall_ns - started.wall_ns) / 1000,
        (succeeded.wall_ns - approved) / 1_000_000,
        stats.polls
    );
}

/// A cancel while the create is still on its way waits for the answer and cancels the session it
/// created: no order is left on the customer's phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_during_create_cancels_the_created_session() {
    let sim = simulator(|_| {}).await;
    let control = sim.control();
    control.inject(id_desk_simulator::Fault::new(
        id_desk_simulator::Endpoint::Create,
        id_desk_simulator::FaultKind::Latency(Duration::from_millis(500)),
    ));
    let engine = engine(&sim);
    let rec = Recorder::default();
    let id = engine
        .start(
            request(&input(Method::NbidSafeConversation, Some("15059000141"))),
            rec.sink(),
        )
        .await
        .unwrap();
    engine.cancel(&id).await.unwrap();
    assert_eq!(engine.wait(&id).await, Some(FlowEvent::Cancelled));
    let sessions = control.sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].status, "CANCELLED");
    assert_eq!(control.stats().creates(), 1);
}

/// Progress texts come in the flow's language; the QR flow never polls faster than once a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_in_the_staff_language_and_poll_floor() {
    use id_desk_core::messages::{Lang, RestStatus};
    let sim = simulator(|cfg| cfg.qr_scan_timeout = Duration::from_secs(30)).await;
    let control = sim.control();
    let settings = id_desk_core::runner::FlowSettings {
        lang: Lang::Sv,
        ..settings()
    };
    let engine = id_desk_core::runner::Engine::with_timeouts(
        Some(rest_config(&sim)),
        settings.clone(),
        TEST_TIMEOUTS,
    )
    .unwrap();
    let rec = Recorder::default();
    let req =
        id_desk_core::runner::FlowRequest::parse(&input(Method::SbidQr, None), &settings).unwrap();
    let id = engine.start(req, rec.sink()).await.unwrap();
    let progress = rec
        .until(&id, |e| matches!(e, FlowEvent::Progress { .. }))
        .await;
    assert_eq!(
        progress,
        FlowEvent::Progress {
            status: "CREATED".into(),
            message: RestStatus::Created.message(Lang::Sv),
        }
    );
    // Let a few polls happen, then have the customer scan and approve.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let sid = control.sessions()[0].id.clone();
    control.scan_qr(&sid).unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    control.approve(&sid).unwrap();
    let terminal = engine.wait(&id).await.unwrap();
    assert!(
        matches!(terminal, FlowEvent::Succeeded { .. }),
        "{terminal:?}"
    );
    let events = rec.events(&id);
    assert!(events.contains(&FlowEvent::Progress {
        status: "WAITING_FOR_USER".into(),
        message: RestStatus::WaitingForUser.message(Lang::Sv),
    }));
    let polls = control.stats().session(&sid).poll_unix_ns;
    assert!(polls.len() >= 4, "{polls:?}");
    for w in polls.windows(2) {
        assert!(
            w[1] - w[0] >= 950_000_000,
            "polled {} ns apart",
            w[1] - w[0]
        );
    }
}

/// Issue 23: Signicat's answer names another person than the one staff asked for. The flow ends
/// `identity_mismatch` (exit 1), the vault row is failed (nothing verified), and the message
/// names neither number in full.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_person_other_than_the_one_asked_for_is_an_identity_mismatch() {
    use id_desk_core::vault::{TxStatus, Vault};
    use id_desk_simulator::faults::{Endpoint, Fault, FaultKind};
    // An interactive customer: the session stays open until the control API approves it.
    const ASKED: &str = "12038010008";
    let sim = simulator(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let engine = engine(&sim).with_vault(vault.clone(), Some("test".into()));
    let rec = Recorder::default();
    // A Safe Conversation order for the asked-for customer, open until the control API approves.
    let start_and_wait_for_the_words = || async {
        // The same customer again and again: each a retry staff confirmed.
        let id = engine
            .start_confirmed(
                request(&input(Method::NbidSafeConversation, Some(ASKED))),
                true,
                rec.sink(),
            )
            .await
            .unwrap();
        rec.until(&id, |e| matches!(e, FlowEvent::BindingMessage { .. }))
            .await;
        id
    };
    let id = start_and_wait_for_the_words().await;
    let control = sim.control();
    let sid = control.sessions()[0].id.clone();
    control.inject(
        Fault::new(Endpoint::Get, FaultKind::WrongSubject)
            .for_session(&sid)
            .times(100),
    );
    control.approve(&sid).unwrap();
    let terminal = engine.wait(&id).await.unwrap();
    let FlowEvent::Failed { code, message } = &terminal else {
        panic!("{terminal:?}")
    };
    assert_eq!(code, "identity_mismatch");
    assert!(
        !message.contains(ASKED) && !message.contains("01100844350"),
        "{message}"
    );
    assert_eq!(exit_code(&terminal), 1);
    let row = vault.get(&id).unwrap();
    assert_eq!(row.status, TxStatus::Failed);
    assert_eq!(row.subject_name, None, "nothing recorded as verified");
    // Without the fault the same customer is verified.
    control.clear_faults();
    let id = start_and_wait_for_the_words().await;
    let sid = control
        .sessions()
        .into_iter()
        .find(|s| s.id != sid)
        .unwrap()
        .id;
    control.approve(&sid).unwrap();
    assert!(matches!(
        engine.wait(&id).await.unwrap(),
        FlowEvent::Succeeded { .. }
    ));
}

/// Issue 23, item 4: an outcome the vault cannot record when it happens (another process holds
/// the database's write lock past the 5 s busy timeout) is not only logged: staff still get it,
/// the vault keeps it in memory, and the next retry records it once the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outcome_the_vault_cannot_record_yet_is_kept_and_recorded_later() {
    use id_desk_core::vault::{TxStatus, Vault};
    // An interactive customer: approved below, while the database is locked.
    const CUSTOMER: &str = "12038010008";
    let sim = simulator(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::open(dir.path()).unwrap();
    let engine = engine(&sim).with_vault(vault.clone(), Some("test".into()));
    let rec = Recorder::default();
    let id = engine
        .start(
            request(&input(Method::NbidSafeConversation, Some(CUSTOMER))),
            rec.sink(),
        )
        .await
        .unwrap();
    rec.until(&id, |e| matches!(e, FlowEvent::BindingMessage { .. }))
        .await;

    let lock = id_desk_e2e::vault_db::open(dir.path()).unwrap();
    lock.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let sid = sim.control().sessions()[0].id.clone();
    sim.control().approve(&sid).unwrap();
    let terminal = tokio::time::timeout(Duration::from_secs(30), engine.wait(&id))
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(terminal, FlowEvent::Succeeded { .. }),
        "staff are told: {terminal:?}"
    );
    assert_eq!(vault.pending_count(), 1, "the outcome is kept");
    lock.execute_batch("COMMIT").unwrap();
    drop(lock);
    assert_eq!(vault.get(&id).unwrap().status, TxStatus::Running);

    assert_eq!(vault.retry_pending(), 1);
    assert_eq!(vault.pending_count(), 0);
    let row = vault.get(&id).unwrap();
    assert_eq!(row.status, TxStatus::Succeeded, "{row:?}");
    assert!(row.subject_name.is_some(), "{row:?}");
}
