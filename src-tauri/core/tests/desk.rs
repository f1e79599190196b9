//! The desk facade that the window and the CLI share: profile resolution, Training, validation
//! before any request, the vault record of each flow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use id_desk_core::desk::{Desk, DeskPaths, ProfileChoice, Training};
use id_desk_core::flow::{FlowEvent, FlowUpdate, Method};
use id_desk_core::runner::RawFlowInput;
use id_desk_simulator::{Simulator, SimulatorConfig};

async fn training() -> (Simulator, Training) {
    id_desk_core::desk::training::start_with(SimulatorConfig::for_tests())
        .await
        .unwrap()
}

fn collect() -> (Arc<Mutex<Vec<FlowEvent>>>, id_desk_core::flow::EventSink) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink_events = events.clone();
    let sink = Arc::new(move |u: FlowUpdate| sink_events.lock().unwrap().push(u.event));
    (events, sink)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unconfigured_desk_opens_in_training_and_records_the_flow() {
    let dir = tempfile::tempdir().unwrap();
    let paths = DeskPaths::under(dir.path());
    assert!(Desk::needs_training(&paths, &ProfileChoice::Active));
    let (sim, training) = training().await;
    let desk = Desk::open(paths, ProfileChoice::Active, Some(training)).unwrap();
    assert!(desk.is_training());

    let mut raw = RawFlowInput::new(Method::NbidSafeConversation);
    raw.nin = Some("29124815345".into());
    raw.call_initiator = Some("user".into());
    let (events, sink) = collect();
    let id = desk.start(&raw, sink).await.unwrap();
    let terminal = tokio::time::timeout(Duration::from_secs(20), desk.wait(&id))
        .await
        .unwrap();
    assert!(
        matches!(terminal, Some(FlowEvent::Succeeded { .. })),
        "{terminal:?}"
    );
    assert!(events
        .lock()
        .unwrap()
        .iter()
        .any(|e| matches!(e, FlowEvent::BindingMessage { .. })));

    let rows = desk.history(None, Some("succeeded"), None, 10).unwrap();
    assert_eq!(rows.len(), 1);
    let id_desk_core::vault::HistoryEntry::Transaction(row) = &rows[0] else {
        panic!("{rows:?}")
    };
    assert_eq!(row.identity_masked.as_deref(), Some("2912*******"));
    assert_eq!(sim.control().stats().creates(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_and_missing_setup_are_refused_before_any_request() {
    let dir = tempfile::tempdir().unwrap();
    let paths = DeskPaths::under(dir.path());
    let desk_profiles = paths.config_dir.join("profiles");
    std::fs::create_dir_all(&desk_profiles).unwrap();
    std::fs::write(
        desk_profiles.join("rest-only.toml"),
        "name = \"rest-only\"\n[rest]\nbase_url = \"https://api.signicat.com\"\naccount_id = \"a\"\nclient_id = \"c\"\n",
    )
    .unwrap();
    let (sim, training) = training().await;
    let desk = Desk::open(paths, ProfileChoice::Active, Some(training)).unwrap();

    let mut bad = RawFlowInput::new(Method::NbidSafeConversation);
    bad.nin = Some("17029012345".into());
    let errors = desk.validate(&bad);
    assert_eq!(errors[0].field(), Some("nin"));
    let (_, sink) = collect();
    assert_eq!(
        desk.start(&bad, sink).await.unwrap_err().field(),
        Some("nin")
    );

    // A profile without [oidc] cannot run a legacy method: the missing section is named.
    desk.activate("rest-only").unwrap();
    let mut sign = RawFlowInput::new(Method::NbidSign);
    sign.phone = Some("99887766".into());
    sign.birthdate = Some("1983-12-07".into());
    sign.text = Some("I agree".into());
    // Retired in production: refused by name unless the profile offers legacy methods.
    let (_, sink) = collect();
    let err = desk.start(&sign, sink).await.unwrap_err();
    assert_eq!((err.code(), err.field()), ("invalid_input", Some("method")));
    assert!(err.to_string().contains("retired in production"), "{err}");
    std::fs::write(
        desk_profiles.join("rest-only.toml"),
        "name = \"rest-only\"\nlegacy_methods = true\n[rest]\nbase_url = \"https://api.signicat.com\"\naccount_id = \"a\"\nclient_id = \"c\"\n",
    )
    .unwrap();
    desk.activate("rest-only").unwrap();
    let (_, sink) = collect();
    let err = desk.start(&sign, sink).await.unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("invalid_config", Some("oidc.sign_client_id"))
    );
    assert_eq!(sim.control().stats().creates(), 0);
    assert_eq!(sim.control().stats().token_requests(), 0);
}

/// Issue 23, item 8: a broken active profile fails closed, naming the field and the profile,
/// instead of opening Training in its place; the file is never rewritten.
#[tokio::test(flavor = "multi_thread")]
async fn a_broken_active_profile_fails_closed_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let paths = DeskPaths::under(dir.path());
    std::fs::create_dir_all(paths.config_dir.join("profiles")).unwrap();
    std::fs::write(
        paths.config_dir.join("profiles/branch.toml"),
        "name = \"branch\"\n[rest]\nbase_url = \"http://api.signicat.com\"\naccount_id = \"a\"\nclient_id = \"c\"\n",
    )
    .unwrap();
    std::fs::write(paths.config_dir.join("active-profile"), "branch\n").unwrap();
    assert!(!Desk::needs_training(&paths, &ProfileChoice::Active));
    let (_sim, practice) = training().await;
    let err = Desk::open(paths.clone(), ProfileChoice::Active, Some(practice))
        .err()
        .expect("a broken active profile must not open");
    assert_eq!(
        (err.code(), err.field()),
        ("invalid_config", Some("rest.base_url"))
    );
    assert!(
        err.to_string().contains("\"branch\" cannot be used"),
        "{err}"
    );
    // The file is reported, never rewritten.
    let text = std::fs::read_to_string(paths.config_dir.join("profiles/branch.toml")).unwrap();
    assert!(text.contains("http://api.signicat.com"));
    // Without the active-profile file, Training opens (the way out the message names).
    std::fs::remove_file(paths.config_dir.join("active-profile")).unwrap();
    let (_sim2, practice) = training().await;
    let desk = Desk::open(paths, ProfileChoice::Active, Some(practice)).unwrap();
    assert!(desk.is_training());
    assert_eq!(desk.profiles().unwrap().broken.len(), 1);
}

/// A desk built without Training, with no profile: it says so, naming the setting, and opens
/// nothing in its place.
#[test]
fn without_training_and_without_a_profile_the_desk_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let err = Desk::open(DeskPaths::under(dir.path()), ProfileChoice::Active, None)
        .err()
        .expect("nothing to open");
    assert_eq!(
        (err.code(), err.field()),
        ("invalid_config", Some("profile"))
    );
    assert!(
        err.to_string().contains("Training mode is not available"),
        "{err}"
    );
}

#[test]
fn a_finished_notice_names_the_customer_in_the_staff_language_never_the_number() {
    use id_desk_core::desk::finished_notice;
    use id_desk_core::flow::Subject;
    use id_desk_core::messages::Lang;
    let subject = Subject {
        name: "Kari Nordmann".into(),
        nin: Some("29124815345".into()),
        nin_masked: Some("2912*******".into()),
        ..Subject::default()
    };
    let text = finished_notice(&FlowEvent::Succeeded { subject }, Lang::Nb).unwrap();
    assert!(
        text.contains("Kari Nordmann") && text.contains("identifisert"),
        "{text}"
    );
    assert!(!text.contains("29124815345"));
    let aborted = FlowEvent::Failed {
        code: "customer_aborted".into(),
        message: "x".into(),
    };
    assert!(finished_notice(&aborted, Lang::Sv)
        .unwrap()
        .contains("avbröt"));
    assert_eq!(
        finished_notice(
            &FlowEvent::Qr {
                data: "bankid.x".into()
            },
            Lang::En
        ),
        None
    );
}

/// Review finding M-15 (issue 23, item 7): a keyring secret goes only to the host it was stored
/// for. The profile edited to send the REST client secret to another host is refused by the
/// setting's name before any request; storing the secret again (on purpose) binds the new host.
#[tokio::test(flavor = "multi_thread")]
async fn a_secret_goes_only_to_the_host_it_was_stored_for() {
    use id_desk_core::secrets::{SecretName, SecretString};
    let dir = tempfile::tempdir().unwrap();
    let paths = DeskPaths::under(dir.path());
    let profiles = paths.config_dir.join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    let (sim, training) = training().await;
    let cfg = sim.config().clone();
    let name = format!("bank-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let port = url::Url::parse(&sim.base_url()).unwrap().port().unwrap();
    let profile_at = |base_host: &str, token_host: &str| {
        format!(
            "name = \"{name}\"\nallow_test_identities = true\n[rest]\n\
             base_url = \"http://{base_host}:{port}\"\n\
             token_url = \"http://{token_host}:{port}/auth/open/connect/token\"\n\
             account_id = \"{}\"\nclient_id = \"{}\"\n",
            cfg.account_id, cfg.rest_client.client_id
        )
    };
    let profile = |host: &str| profile_at(host, host);
    std::fs::write(profiles.join(format!("{name}.toml")), profile("127.0.0.1")).unwrap();
    let desk = Desk::open(paths, ProfileChoice::Active, Some(training)).unwrap();
    let secret = || SecretString::new(cfg.rest_client.client_secret.clone());
    desk.set_secret(&name, SecretName::RestClientSecret, secret())
        .unwrap();
    desk.activate(&name).unwrap();
    let mut raw = RawFlowInput::new(Method::NbidSafeConversation);
    raw.nin = Some("29124815345".into());
    raw.call_initiator = Some("user".into());
    let run = |raw: RawFlowInput| {
        let desk = &desk;
        async move {
            let (_, sink) = collect();
            let id = desk.start(&raw, sink).await?;
            Ok::<_, id_desk_core::Error>(
                tokio::time::timeout(Duration::from_secs(20), desk.wait(&id))
                    .await
                    .unwrap()
                    .unwrap(),
            )
        }
    };
    let first = run(raw.clone()).await.unwrap();
    assert!(matches!(first, FlowEvent::Succeeded { .. }), "{first:?}");

    // Review N-2: the token host stays, the API moves to another site. The bank's token would
    // go there: the profile is refused by the field's name, and nothing is sent.
    let file = profiles.join(format!("{name}.toml"));
    std::fs::write(&file, profile_at("localhost", "127.0.0.1")).unwrap();
    let tokens = sim.control().stats().token_requests();
    let err = desk.activate(&name).unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("invalid_config", Some("rest.base_url")),
        "{err}"
    );
    assert!(err.to_string().contains("allowed_hosts"), "{err}");
    assert_eq!(sim.control().stats().token_requests(), tokens);
    let listed = desk.profiles().unwrap();
    assert!(
        listed.broken.iter().any(|b| b.name == name),
        "listed as unusable, with the reason"
    );

    // Someone points the token endpoint elsewhere (here: another name for this machine).
    std::fs::write(
        dir.path()
            .join("config/profiles")
            .join(format!("{name}.toml")),
        profile("localhost"),
    )
    .unwrap();
    desk.activate(&name).unwrap();
    let tokens = sim.control().stats().token_requests();
    let err = run(raw.clone()).await.unwrap_err();
    assert_eq!(
        (err.code(), err.field()),
        ("invalid_config", Some("rest.token_url"))
    );
    assert!(
        err.to_string().contains("was stored for 127.0.0.1"),
        "{err}"
    );
    assert!(!err.to_string().contains(&cfg.rest_client.client_secret));
    assert_eq!(
        sim.control().stats().token_requests(),
        tokens,
        "nothing sent"
    );

    // Stored again on purpose: the new host is bound and the flow runs.
    desk.set_secret(&name, SecretName::RestClientSecret, secret())
        .unwrap();
    let again = run(raw).await.unwrap();
    assert!(matches!(again, FlowEvent::Succeeded { .. }), "{again:?}");
}
