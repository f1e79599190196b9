//! The IT department's policy and managed profiles (issue 24): what a desk opened under a policy
//! may do, and that a user cannot replace or edit what IT ships.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use id_desk_core::desk::{Desk, DeskPaths, ProfileChoice, Training};
use id_desk_core::flow::{FlowEvent, FlowUpdate, Method};
use id_desk_core::profile::ProfileStore;
use id_desk_core::runner::RawFlowInput;
use id_desk_core::vault::HistoryEntry;
use id_desk_simulator::{Simulator, SimulatorConfig};

async fn training() -> (Simulator, Training) {
    id_desk_core::desk::training::start_with(SimulatorConfig::for_tests())
        .await
        .unwrap()
}

/// A desk's directories under `root`, with the system directory IT manages at `root/system`.
fn paths(root: &Path, policy: Option<&str>) -> DeskPaths {
    let paths = DeskPaths {
        system_dir: root.join("system"),
        ..DeskPaths::under(root)
    };
    std::fs::create_dir_all(paths.system_dir.join("profiles")).unwrap();
    if let Some(text) = policy {
        std::fs::write(paths.system_dir.join("policy.toml"), text).unwrap();
    }
    paths
}

fn rest_profile(name: &str, client_id: &str) -> String {
    format!(
        "name = \"{name}\"\n[rest]\nbase_url = \"https://api.signicat.com\"\naccount_id = \"a\"\n\
         client_id = \"{client_id}\"\n"
    )
}

fn safe_conversation() -> RawFlowInput {
    let mut raw = RawFlowInput::new(Method::NbidSafeConversation);
    raw.nin = Some("29124815345".into());
    raw.call_initiator = Some("user".into());
    raw
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_narrows_what_staff_may_do_and_names_the_branch_on_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(
        dir.path(),
        Some(
            "branch = \"Oslo Storgata 1\"\ncustomer_display = false\n\
             methods = [\"nbid_safe_conversation\", \"sign_link\"]\nsign_setups = [\"nbid-pki\"]\n\
             [retention]\nafter_archive_days = 7\n",
        ),
    );
    let (sim, training) = training().await;
    let desk = Desk::open(paths, ProfileChoice::Active, Some(training)).unwrap();
    assert!(desk.is_training(), "Training stays allowed by default");

    let info = desk.info();
    assert_eq!(info.policy.branch.as_deref(), Some("Oslo Storgata 1"));
    let offered: Vec<Method> = info
        .profile
        .identify_groups
        .iter()
        .flat_map(|g| g.methods.iter().map(|t| t.method))
        .collect();
    assert_eq!(offered, [Method::NbidSafeConversation], "{offered:?}");
    let sign = info.profile.sign_setups.expect("nbid-pki is left");
    assert!(sign.nbid_pki && !sign.sbid_phone && sign.link_providers.is_empty());
    assert_eq!(desk.profile().retention().after_archive_days, 7);

    // A method policy turns off is refused by name, with nothing sent.
    let mut qr = RawFlowInput::new(Method::SbidQr);
    qr.nin = Some("199006292360".into());
    let errors = desk.validate(&qr);
    assert_eq!(errors[0].code(), "not_allowed_by_policy");
    assert_eq!(errors[0].field(), Some("method"));
    let sink = discard();
    let e = desk.start(&qr, sink).await.unwrap_err();
    assert_eq!(e.code(), "not_allowed_by_policy");
    let mut mitid = RawFlowInput::new(Method::SignLink);
    mitid.provider = Some("mitid".into());
    mitid.text = Some("I agree".into());
    assert_eq!(desk.validate(&mitid)[0].field(), Some("provider"));
    assert_eq!(sim.control().stats().creates(), 0);
    assert_eq!(
        desk.customer_display_allowed().unwrap_err().field(),
        Some("customer_display")
    );

    // What it allows runs, and the row names the branch from policy.
    let sink = discard();
    let id = desk.start(&safe_conversation(), sink).await.unwrap();
    let terminal = tokio::time::timeout(Duration::from_secs(20), desk.wait(&id))
        .await
        .unwrap();
    assert!(matches!(terminal, Some(FlowEvent::Succeeded { .. })));
    let rows = desk.history(None, None, None, 10).unwrap();
    let HistoryEntry::Transaction(row) = &rows[0] else {
        panic!("{rows:?}")
    };
    assert_eq!(row.branch.as_deref(), Some("Oslo Storgata 1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn managed_profiles_are_read_only_and_a_user_file_cannot_shadow_one() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path(), None);
    std::fs::write(
        paths.system_dir.join("profiles/bank.toml"),
        rest_profile("bank", "it-client"),
    )
    .unwrap();
    let user_profiles = paths.config_dir.join("profiles");
    std::fs::create_dir_all(&user_profiles).unwrap();
    std::fs::write(
        user_profiles.join("bank.toml"),
        rest_profile("bank", "my-client"),
    )
    .unwrap();
    std::fs::write(
        user_profiles.join("mine.toml"),
        rest_profile("mine", "mine"),
    )
    .unwrap();
    std::fs::write(paths.config_dir.join("active-profile"), "bank\n").unwrap();

    let store = ProfileStore::at(&paths.config_dir).with_managed(&paths.system_dir);
    let (_sim, training) = training().await;
    let desk = Desk::open(paths.clone(), ProfileChoice::Active, Some(training)).unwrap();
    assert_eq!(desk.profile().name(), "bank");
    assert_eq!(
        desk.profile().rest().unwrap().client_id,
        "it-client",
        "IT's profile wins over the user's file of the same name"
    );

    let list = desk.profiles().unwrap();
    let managed = |name: &str| {
        list.profiles
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.managed)
    };
    assert_eq!(managed("bank"), Some(true));
    assert_eq!(managed("mine"), Some(false));
    assert_eq!(managed("training"), Some(false));
    let shadowed = list.broken.iter().find(|b| b.name == "bank").unwrap();
    assert_eq!(shadowed.error.code(), "not_allowed_by_policy");
    assert!(shadowed.error.to_string().contains("IT department"));

    // Read-only: saving or deleting IT's profile is refused; the user's own still can be.
    let bank = store.load("bank").unwrap();
    assert_eq!(
        store.save(&bank).unwrap_err().code(),
        "not_allowed_by_policy"
    );
    assert_eq!(
        store.delete("bank").unwrap_err().code(),
        "not_allowed_by_policy"
    );
    assert!(paths.system_dir.join("profiles/bank.toml").exists());
    store.delete("mine").unwrap();
    // Switching to a managed profile works like any other.
    desk.activate("training").unwrap();
    desk.activate("bank").unwrap();
    assert_eq!(store.active().unwrap().as_deref(), Some("bank"));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_training_a_desk_opens_its_default_profile_and_never_training() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(
        dir.path(),
        Some("training = false\ndefault_profile = \"bank\"\n"),
    );
    std::fs::write(
        paths.system_dir.join("profiles/bank.toml"),
        rest_profile("bank", "it-client"),
    )
    .unwrap();
    assert!(!Desk::needs_training(&paths, &ProfileChoice::Active));
    let desk = Desk::open(paths.clone(), ProfileChoice::Active, None).unwrap();
    assert_eq!(desk.profile().name(), "bank");
    assert!(!desk.info().policy.training);
    let list = desk.profiles().unwrap();
    assert!(list.profiles.iter().all(|p| !p.training), "{list:?}");
    let e = desk.activate("training").unwrap_err();
    assert_eq!(
        (e.code(), e.field()),
        ("not_allowed_by_policy", Some("profile"))
    );
    drop(desk);

    // Training asked for by name is refused too, and with neither a choice nor a default the
    // desk says why instead of opening Training.
    let e = Desk::open(paths.clone(), ProfileChoice::Named("training".into()), None)
        .err()
        .unwrap();
    assert_eq!(e.code(), "not_allowed_by_policy");
    std::fs::write(paths.system_dir.join("policy.toml"), "training = false\n").unwrap();
    let e = Desk::open(paths, ProfileChoice::Active, None)
        .err()
        .unwrap();
    assert_eq!(e.code(), "not_allowed_by_policy");
    assert!(e.to_string().contains("Training"), "{e}");
}

/// Review N-2: a `--profile-file` cannot stand in for a managed profile (it would run with that
/// profile's keyring secrets and none of IT's settings), and `user_profiles = false` leaves only
/// IT's profiles.
#[tokio::test(flavor = "multi_thread")]
async fn a_file_cannot_stand_in_for_a_managed_profile_and_policy_can_forbid_users_own() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path(), None);
    std::fs::write(
        paths.system_dir.join("profiles/bank.toml"),
        rest_profile("bank", "it-client"),
    )
    .unwrap();
    let planted = dir.path().join("bank.toml");
    std::fs::write(&planted, rest_profile("bank", "my-client")).unwrap();
    let e = Desk::open(paths.clone(), ProfileChoice::File(planted), None)
        .err()
        .unwrap();
    assert_eq!(
        (e.code(), e.field()),
        ("not_allowed_by_policy", Some("profile-file"))
    );
    assert!(e.to_string().contains("--profile bank"), "{e}");
    // A file of its own name is the user's to run.
    let own = dir.path().join("own.toml");
    std::fs::write(&own, rest_profile("own", "my-client")).unwrap();
    let desk = Desk::open(paths.clone(), ProfileChoice::File(own.clone()), None).unwrap();
    assert_eq!(desk.profile().name(), "own");
    drop(desk);

    // IT allows only its own profiles: the user's file and the user's stored profile are refused,
    // the managed one opens, and the list says why the user's is unusable.
    std::fs::write(
        paths.system_dir.join("policy.toml"),
        "user_profiles = false
",
    )
    .unwrap();
    let user_profiles = paths.config_dir.join("profiles");
    std::fs::create_dir_all(&user_profiles).unwrap();
    std::fs::write(user_profiles.join("mine.toml"), rest_profile("mine", "m")).unwrap();
    for choice in [
        ProfileChoice::File(own),
        ProfileChoice::Named("mine".into()),
    ] {
        let e = Desk::open(paths.clone(), choice, None).err().unwrap();
        assert_eq!(
            (e.code(), e.field()),
            ("not_allowed_by_policy", Some("profile"))
        );
        assert!(e.to_string().contains("user_profiles"), "{e}");
    }
    let desk = Desk::open(paths.clone(), ProfileChoice::Named("bank".into()), None).unwrap();
    assert_eq!(desk.profile().rest().unwrap().client_id, "it-client");
    let list = desk.profiles().unwrap();
    let mine = list.broken.iter().find(|b| b.name == "mine").unwrap();
    assert_eq!(mine.error.code(), "not_allowed_by_policy");
    assert_eq!(
        desk.activate("mine").unwrap_err().code(),
        "not_allowed_by_policy"
    );
}

/// Review N-2: the REST token goes to `rest.base_url` and `sign.base_url`; a host off the token
/// host's site is refused by the field's name unless IT lists it in `allowed_hosts`.
#[tokio::test(flavor = "multi_thread")]
async fn the_access_token_goes_only_to_the_token_hosts_site_or_hosts_it_allows() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path(), None);
    let user_profiles = paths.config_dir.join("profiles");
    std::fs::create_dir_all(&user_profiles).unwrap();
    let with = |name: &str, base: &str, sign: Option<&str>| {
        let mut text = format!(
            "name = \"{name}\"\n[rest]\nbase_url = \"{base}\"\n\
             token_url = \"https://api.signicat.com/auth/open/connect/token\"\n\
             account_id = \"a\"\nclient_id = \"c\"\n"
        );
        if let Some(sign) = sign {
            text.push_str(&format!(
                "[sign]\nbase_url = \"{sign}\"\nsetups = [\"sbid-phone\"]\n"
            ));
        }
        std::fs::write(user_profiles.join(format!("{name}.toml")), text).unwrap();
    };
    with(
        "same-site",
        "https://id.signicat.com",
        Some("https://api.signicat.com"),
    );
    with("rest-off-site", "https://api.signicat.example", None);
    with(
        "sign-off-site",
        "https://api.signicat.com",
        Some("https://signicat.com.evil.example"),
    );
    let open = |name: &str| Desk::open(paths.clone(), ProfileChoice::Named(name.into()), None);
    assert!(open("same-site").is_ok());
    for (name, field) in [
        ("rest-off-site", "rest.base_url"),
        ("sign-off-site", "sign.base_url"),
    ] {
        let e = open(name).err().unwrap();
        assert_eq!(
            (e.code(), e.field()),
            ("invalid_config", Some(field)),
            "{name}"
        );
    }
    std::fs::write(
        paths.system_dir.join("policy.toml"),
        "allowed_hosts = [\"API.signicat.example\"]\n",
    )
    .unwrap();
    assert!(open("rest-off-site").is_ok(), "IT named the host");
    assert_eq!(
        open("sign-off-site").err().unwrap().field(),
        Some("sign.base_url")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_archive_required_by_policy_stops_real_flows_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path(), Some("archive_required = true\n"));
    let user_profiles = paths.config_dir.join("profiles");
    std::fs::create_dir_all(&user_profiles).unwrap();
    std::fs::write(user_profiles.join("bank.toml"), rest_profile("bank", "c")).unwrap();
    let (sim, training) = training().await;
    let desk = Desk::open(paths, ProfileChoice::Active, Some(training)).unwrap();
    // Training ships nothing anywhere: practice stays possible.
    assert!(desk.validate(&safe_conversation()).is_empty());
    desk.activate("bank").unwrap();
    let errors = desk.validate(&safe_conversation());
    assert_eq!(errors[0].code(), "not_allowed_by_policy");
    assert_eq!(errors[0].field(), Some("archive"));
    let sink = discard();
    assert_eq!(
        desk.start(&safe_conversation(), sink)
            .await
            .unwrap_err()
            .field(),
        Some("archive")
    );
    assert_eq!(sim.control().stats().creates(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_that_cannot_be_read_keeps_the_desk_closed_and_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let paths = paths(
        dir.path(),
        Some("branch = \"Bergen\"\ncustomer_dispaly = false\n"),
    );
    let (_sim, training) = training().await;
    let e = Desk::open(paths, ProfileChoice::Active, Some(training))
        .err()
        .unwrap();
    assert_eq!(e.code(), "invalid_config");
    let text = e.to_string();
    assert!(
        text.contains("customer_dispaly") && text.contains("policy.toml"),
        "{text}"
    );
}

fn discard() -> id_desk_core::flow::EventSink {
    Arc::new(|_: FlowUpdate| {})
}

/// Review finding N-1: a policy or managed profile someone other than IT could have written is
/// refused, naming the file and why, and the desk does not open (it fails closed).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_policy_or_managed_profile_anyone_may_change_is_refused_and_the_desk_stays_closed() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));

    let dir = tempfile::tempdir().unwrap();
    let paths = paths(dir.path(), Some("training = false\n"));
    let policy = paths.system_dir.join("policy.toml");
    mode(&policy, 0o666).unwrap();
    let (_sim, training) = training().await;
    let e = Desk::open(paths.clone(), ProfileChoice::Active, Some(training))
        .err()
        .expect("a world-writable policy.toml must not be obeyed");
    assert_eq!(e.code(), "untrusted_config");
    assert!(e.to_string().contains(&policy.display().to_string()), "{e}");
    assert!(e.to_string().contains("every user may change it"), "{e}");
    mode(&policy, 0o644).unwrap();

    let profiles = paths.system_dir.join("profiles");
    std::fs::write(profiles.join("bank.toml"), rest_profile("bank", "planted")).unwrap();
    mode(&profiles, 0o777).unwrap();
    let store = ProfileStore::at(&paths.config_dir).with_managed(&paths.system_dir);
    assert_eq!(store.list().unwrap_err().code(), "untrusted_config");
    assert_eq!(store.load("bank").unwrap_err().code(), "untrusted_config");
    mode(&profiles, 0o755).unwrap();
    mode(&profiles.join("bank.toml"), 0o664).unwrap();
    let e = store.load("bank").unwrap_err();
    assert!(e.to_string().contains("its group may change it"), "{e}");
    mode(&profiles.join("bank.toml"), 0o644).unwrap();
    assert_eq!(
        store.load("bank").unwrap().name(),
        "bank",
        "IT's own is read"
    );
}
