use super::*;
use crate::Error;

const ISSUE_7_EXAMPLE: &str = r#"
name = "branch-test"
allow_test_identities = true
[rest]
base_url = "https://api.signicat.com"
account_id = "a-spge-..."
client_id = "sandbox-..."
[oidc]
issuer = "https://preprod.signicat.com/oidc"
client_id = "demo-inapp"
sign_client_id = "demo-inapp-sign"
redirect_uri = "https://merchant.example/oidc/callback"
[sbid]
end_user_ip = "203.0.113.7"
"#;

fn example() -> ProfileConfig {
    toml::from_str(ISSUE_7_EXAMPLE).unwrap()
}

fn config_error(c: &ProfileConfig) -> (String, String) {
    match Profile::validate(c) {
        Err(Error::InvalidConfig { field, reason }) => (field, reason),
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn the_issue_7_example_validates() {
    let p = Profile::validate(&example()).unwrap();
    assert_eq!(p.name(), "branch-test");
    assert!(p.allow_test_identities());
    assert_eq!(p.language(), Lang::En);
    let rest = p.rest().unwrap();
    assert_eq!(
        rest.token_url.as_str(),
        "https://api.signicat.com/auth/open/connect/token"
    );
    assert_eq!(rest.account_id, "a-spge-...");
    let oidc = p.oidc().unwrap();
    assert_eq!(oidc.issuer, "https://preprod.signicat.com/oidc");
    assert_eq!(oidc.sign_client_id.as_deref(), Some("demo-inapp-sign"));
    assert_eq!(p.sbid().unwrap().end_user_ip.to_string(), "203.0.113.7");
}

#[test]
fn language_and_templates_are_read() {
    let text = format!(
        "language = \"nb\"\n{ISSUE_7_EXAMPLE}\n[[templates]]\nname = \"Loan\"\ntext = \"I take a loan of {{amount}}.\"\n"
    );
    let p = Profile::validate(&toml::from_str(&text).unwrap()).unwrap();
    assert_eq!(p.language(), Lang::Nb);
    assert_eq!(p.template("Loan").unwrap().placeholders(), ["amount"]);
}

#[test]
fn explicit_token_url_and_base_path_are_kept() {
    let mut c = example();
    c.rest.as_mut().unwrap().base_url = "https://gw.example/signicat/".into();
    let p = Profile::validate(&c).unwrap();
    assert_eq!(
        p.rest().unwrap().token_url.as_str(),
        "https://gw.example/signicat/auth/open/connect/token"
    );
    c.rest.as_mut().unwrap().token_url = Some("https://login.example/token".into());
    let p = Profile::validate(&c).unwrap();
    assert_eq!(
        p.rest().unwrap().token_url.as_str(),
        "https://login.example/token"
    );
}

#[test]
fn https_is_required_except_on_loopback() {
    for ok in [
        "http://127.0.0.1:8080",
        "http://127.1.2.3",
        "http://localhost:1",
        "http://[::1]:9000",
        "https://10.0.0.1",
    ] {
        let mut c = example();
        c.rest.as_mut().unwrap().base_url = ok.into();
        assert!(Profile::validate(&c).is_ok(), "{ok}");
    }
    for (bad, why) in [
        ("http://api.signicat.com", "must use https"),
        ("http://10.0.0.1", "must use https"),
        ("http://localhost.evil.example", "must use https"),
        ("ftp://api.signicat.com", "must be an https URL"),
        ("api.signicat.com", "is not a valid URL"),
        ("", "is empty"),
        ("https://user:pw@api.signicat.com", "user name or password"),
    ] {
        let mut c = example();
        c.rest.as_mut().unwrap().base_url = bad.into();
        let (field, reason) = config_error(&c);
        assert_eq!(field, "rest.base_url", "{bad}");
        assert!(reason.contains(why), "{bad}: {reason}");
    }
    let mut c = example();
    c.oidc.as_mut().unwrap().issuer = "http://preprod.signicat.com/oidc".into();
    assert_eq!(config_error(&c).0, "oidc.issuer");
    let mut c = example();
    c.oidc.as_mut().unwrap().redirect_uri = "http://merchant.example/cb".into();
    assert_eq!(config_error(&c).0, "oidc.redirect_uri");
}

/// Review L-5: plain http to this machine is a simulator's, so only a test profile may use it;
/// a profile for real customers is refused, naming the field, wherever the URL is.
#[test]
fn plain_http_to_this_machine_is_only_for_a_test_profile() {
    let mut c = example();
    c.allow_test_identities = false;
    assert!(Profile::validate(&c).is_ok(), "https is fine either way");
    type Change = fn(&mut ProfileConfig);
    let cases: [(&str, Change); 4] = [
        ("rest.base_url", |c| {
            c.rest.as_mut().unwrap().base_url = "http://127.0.0.1:8080".into()
        }),
        ("rest.token_url", |c| {
            c.rest.as_mut().unwrap().token_url = Some("http://localhost:9/token".into())
        }),
        ("oidc.issuer", |c| {
            c.oidc.as_mut().unwrap().issuer = "http://[::1]:9000/oidc".into()
        }),
        ("oidc.issuer", |c| {
            c.oidc.as_mut().unwrap().issuer = "http://127.1.2.3/oidc".into()
        }),
    ];
    for (field, change) in cases {
        let mut c = example();
        c.allow_test_identities = false;
        change(&mut c);
        let (named, reason) = config_error(&c);
        assert_eq!(named, field);
        assert!(reason.contains("only for a test profile"), "{reason}");
        c.allow_test_identities = true;
        assert!(Profile::validate(&c).is_ok(), "{field} in a test profile");
    }
    // The redirect_uri is never fetched: a loopback callback stays allowed (RFC 8252).
    let mut c = example();
    c.allow_test_identities = false;
    c.oidc.as_mut().unwrap().redirect_uri = "http://127.0.0.1:41234/callback".into();
    assert!(Profile::validate(&c).is_ok());
}

#[test]
fn required_ids_ip_and_name() {
    let mut c = example();
    c.rest.as_mut().unwrap().account_id = " ".into();
    assert_eq!(
        config_error(&c),
        ("rest.account_id".into(), "is required".into())
    );
    let mut c = example();
    c.rest.as_mut().unwrap().client_id = String::new();
    assert_eq!(config_error(&c).0, "rest.client_id");
    let mut c = example();
    c.oidc.as_mut().unwrap().client_id = String::new();
    assert_eq!(config_error(&c).0, "oidc.client_id");
    let mut c = example();
    c.sbid.as_mut().unwrap().end_user_ip = "203.0.113".into();
    assert_eq!(config_error(&c).0, "sbid.end_user_ip");
    let mut c = example();
    c.sbid.as_mut().unwrap().end_user_ip = "2001:db8::7".into();
    assert!(Profile::validate(&c).is_ok());
    for bad in ["", "../etc", "a b", ".hidden", "ø"] {
        let mut c = example();
        c.name = bad.into();
        assert_eq!(config_error(&c).0, "name", "{bad:?}");
    }
    let mut c = example();
    c.rest = None;
    c.oidc = None;
    assert_eq!(config_error(&c).0, "rest");
    let mut c = example();
    c.templates = vec![TemplateConfig {
        name: "a".into(),
        text: " ".into(),
    }];
    assert_eq!(config_error(&c).0, "templates[0].text");
}

#[test]
fn a_secret_in_the_file_is_refused() {
    let text = ISSUE_7_EXAMPLE.replace(
        "client_id = \"sandbox-...\"",
        "client_id = \"sandbox-...\"\nclient_secret = \"hunter2\"",
    );
    let e = toml::from_str::<ProfileConfig>(&text).unwrap_err();
    assert!(e.message().contains("client_secret"), "{}", e.message());
}

#[test]
fn presets() {
    let t = ProfileConfig::signicat_test("bank-test");
    assert!(t.allow_test_identities);
    assert_eq!(
        t.rest.as_ref().unwrap().base_url,
        "https://api.signicat.com"
    );
    assert_eq!(
        t.oidc.as_ref().unwrap().issuer,
        "https://preprod.signicat.com/oidc"
    );
    // The customer's ids are not known until Settings fills them in.
    assert_eq!(config_error(&t).0, "rest.account_id");

    let mut p = ProfileConfig::signicat_production("bank");
    assert!(!p.allow_test_identities);
    assert_eq!(
        p.oidc.as_ref().unwrap().issuer,
        "https://id.signicat.com/oidc"
    );
    let rest = p.rest.as_mut().unwrap();
    rest.account_id = "a-prod-1".into();
    rest.client_id = "prod-client".into();
    let oidc = p.oidc.as_mut().unwrap();
    oidc.client_id = "inapp".into();
    oidc.redirect_uri = "https://bank.example/cb".into();
    let p = Profile::validate(&p).unwrap();
    assert!(!p.allow_test_identities());
    assert_eq!(
        p.rest().unwrap().token_url.as_str(),
        "https://api.signicat.com/auth/open/connect/token"
    );
}

#[test]
fn training_profile() {
    let ids = TrainingIds {
        account_id: "a-sim-training".into(),
        rest_client_id: "sim-rest".into(),
        oidc_client_id: "sim-inapp".into(),
        sign_client_id: "sim-inapp-sign".into(),
        redirect_uri: "http://127.0.0.1:41234/callback".into(),
    };
    let p = Profile::training(
        "http://127.0.0.1:41234",
        "http://127.0.0.1:41234/oidc",
        &ids,
    )
    .unwrap();
    assert!(p.is_training());
    assert!(p.allow_test_identities());
    assert_eq!(
        p.rest().unwrap().token_url.as_str(),
        "http://127.0.0.1:41234/auth/open/connect/token"
    );
    assert_eq!(p.oidc().unwrap().issuer, "http://127.0.0.1:41234/oidc");
    assert!(!p.templates().is_empty());
    // A non-loopback simulator address would be refused like any other plain-http URL.
    assert!(Profile::training("http://192.0.2.1:1", "http://192.0.2.1:1/oidc", &ids).is_err());
}

#[test]
fn round_trips_through_toml() {
    let mut c = example();
    c.language = Lang::Sv;
    c.templates = vec![TemplateConfig {
        name: "Purchase".into(),
        text: "I buy {product}.".into(),
    }];
    let p = Profile::validate(&c).unwrap();
    let text = toml::to_string(&p.to_config()).unwrap();
    assert!(
        !text.contains("token_url"),
        "derived token URL is not written: {text}"
    );
    let again = Profile::validate(&toml::from_str(&text).unwrap()).unwrap();
    assert_eq!(again, p);

    c.rest.as_mut().unwrap().token_url = Some("https://login.example/token".into());
    let p = Profile::validate(&c).unwrap();
    let text = toml::to_string(&p.to_config()).unwrap();
    assert_eq!(
        Profile::validate(&toml::from_str(&text).unwrap()).unwrap(),
        p
    );
}

mod store {
    use super::*;
    use std::fs;

    fn store() -> (tempfile::TempDir, ProfileStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path().join("id-desk"));
        (dir, store)
    }

    #[test]
    fn save_list_load_and_activate() {
        let (_dir, store) = store();
        assert!(store.list().unwrap().is_empty());
        assert_eq!(store.active().unwrap(), None);
        let p = Profile::validate(&example()).unwrap();
        let path = store.save(&p).unwrap();
        assert_eq!(path, store.root().join("profiles/branch-test.toml"));
        assert_eq!(store.list().unwrap(), ["branch-test"]);
        assert_eq!(store.load("branch-test").unwrap(), p);

        // Saved atomically: no temporary files are left behind.
        let entries: Vec<_> = fs::read_dir(store.root().join("profiles"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(entries, ["branch-test.toml"]);

        store.set_active("branch-test").unwrap();
        assert_eq!(store.active().unwrap().as_deref(), Some("branch-test"));
        store.set_active(TRAINING).unwrap();
        assert_eq!(store.active().unwrap().as_deref(), Some("training"));
        assert!(matches!(store.set_active("nope"), Err(Error::NotFound(_))));
        assert!(matches!(store.load("nope"), Err(Error::NotFound(_))));

        store.set_active("branch-test").unwrap();
        store.delete("branch-test").unwrap();
        assert!(store.list().unwrap().is_empty());
        assert_eq!(store.active().unwrap(), None);
    }

    #[test]
    fn save_replaces_and_refuses_the_training_name() {
        let (_dir, store) = store();
        let mut c = example();
        store.save(&Profile::validate(&c).unwrap()).unwrap();
        c.allow_test_identities = false;
        store.save(&Profile::validate(&c).unwrap()).unwrap();
        assert!(!store.load("branch-test").unwrap().allow_test_identities());
        c.name = "training".into();
        let e = store.save(&Profile::validate(&c).unwrap()).unwrap_err();
        assert_eq!(e.field(), Some("name"));
    }

    #[test]
    fn a_broken_file_is_reported_with_its_name_and_left_alone() {
        let (_dir, store) = store();
        let dir = store.root().join("profiles");
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("broken.toml");
        let broken = "name = \"broken\"\n[rest\nbase_url = ";
        fs::write(&path, broken).unwrap();
        assert_eq!(store.list().unwrap(), ["broken"]);
        let e = store.load("broken").unwrap_err();
        assert_eq!(e.code(), "invalid_config");
        assert!(e.to_string().contains("broken.toml"), "{e}");
        assert_eq!(fs::read_to_string(&path).unwrap(), broken);

        // Parses but does not validate: the field and the file are both named.
        let plain_http = ISSUE_7_EXAMPLE
            .replace("branch-test", "insecure")
            .replace("https://api.signicat.com", "http://api.signicat.com");
        fs::write(dir.join("insecure.toml"), &plain_http).unwrap();
        let e = store.load("insecure").unwrap_err();
        assert_eq!(e.field(), Some("rest.base_url"));
        assert!(e.to_string().contains("insecure.toml"), "{e}");
        assert_eq!(
            fs::read_to_string(dir.join("insecure.toml")).unwrap(),
            plain_http
        );

        // The name inside must match the file name: secrets are keyed by it.
        fs::write(dir.join("other.toml"), ISSUE_7_EXAMPLE).unwrap();
        let e = store.load("other").unwrap_err();
        assert_eq!(e.field(), Some("name"));
    }

    #[test]
    fn load_file_names_the_file() {
        let (dir, _store) = store();
        let path = dir.path().join("custom.toml");
        fs::write(&path, ISSUE_7_EXAMPLE).unwrap();
        assert_eq!(
            ProfileStore::load_file(&path).unwrap().name(),
            "branch-test"
        );
        let e = ProfileStore::load_file(&dir.path().join("missing.toml")).unwrap_err();
        assert!(e.to_string().contains("missing.toml"));
    }
}

const CIBA_EXAMPLE: &str = r#"
name = "ciba-branch"
[ciba]
issuer = "https://op.example"
client_id = "id-desk"
client_auth = "private_key_jwt"
signing_alg = "ES256"
key_id = "desk-1"
login_hint_kind = "nin_no"
login_hint_prefix = "nin:"
acr_values = "urn:grn:authn:no:bankid"
requested_expiry = 180
country = "no"
"#;

#[test]
fn a_ciba_only_profile_validates_and_round_trips() {
    let c: ProfileConfig = toml::from_str(CIBA_EXAMPLE).unwrap();
    let p = Profile::validate(&c).unwrap();
    assert!(p.rest().is_none() && p.oidc().is_none());
    let ciba = p.ciba().unwrap();
    assert_eq!(ciba.client_auth, ClientAuthMethod::PrivateKeyJwt);
    assert_eq!(ciba.signing_alg, SigningAlg::ES256);
    assert_eq!(ciba.scope, "openid profile");
    assert_eq!(ciba.login_hint_kind, HintKind::NinNo);
    assert_eq!(ciba.login_hint_prefix, "nin:");
    assert_eq!(ciba.country.as_deref(), Some("NO"));
    let again: ProfileConfig = toml::from_str(&toml::to_string(&p.to_config()).unwrap()).unwrap();
    assert_eq!(Profile::validate(&again).unwrap(), p);
}

#[test]
fn ciba_settings_are_checked_by_field() {
    let base: ProfileConfig = toml::from_str(CIBA_EXAMPLE).unwrap();
    let with = |f: &dyn Fn(&mut CibaConfig)| {
        let mut c = base.clone();
        f(c.ciba.as_mut().unwrap());
        config_error(&c).0
    };
    assert_eq!(
        with(&|c| c.issuer = "http://op.example".into()),
        "ciba.issuer"
    );
    assert_eq!(with(&|c| c.client_id = " ".into()), "ciba.client_id");
    assert_eq!(with(&|c| c.scope = Some("profile".into())), "ciba.scope");
    assert_eq!(
        with(&|c| c.requested_expiry = Some(0)),
        "ciba.requested_expiry"
    );
    assert_eq!(with(&|c| c.country = Some("DK".into())), "ciba.country");
    assert_eq!(
        with(&|c| c.login_hint_prefix = Some("a b".into())),
        "ciba.login_hint_prefix"
    );
    assert_eq!(
        with(&|c| c.client_auth = ClientAuthMethod::ClientSecretBasic),
        "ciba.signing_alg"
    );
    // A secret pasted into the section is refused like anywhere else in the file.
    let pasted = CIBA_EXAMPLE.replace("[ciba]\n", "[ciba]\nclient_secret = \"s3cr3t\"\n");
    assert!(toml::from_str::<ProfileConfig>(&pasted).is_err());
}

#[test]
fn redirect_providers_are_read_checked_by_field_and_written_back() {
    let text = format!("{ISSUE_7_EXAMPLE}[redirect]\nproviders = [\"mitid\", \"ftn\"]\n");
    let config: ProfileConfig = toml::from_str(&text).unwrap();
    let p = Profile::validate(&config).unwrap();
    assert_eq!(
        p.redirect_providers(),
        [RedirectProvider::Mitid, RedirectProvider::Ftn]
    );
    assert_eq!(
        p.to_config().redirect,
        config.redirect,
        "written back as read"
    );
    assert!(Profile::validate(&example())
        .unwrap()
        .redirect_providers()
        .is_empty());

    let with = |providers: &[&str]| {
        let mut c = example();
        c.redirect = Some(RedirectConfig {
            providers: providers.iter().map(|s| s.to_string()).collect(),
            origins: Default::default(),
        });
        config_error(&c)
    };
    assert_eq!(with(&[]).0, "redirect.providers");
    let (field, reason) = with(&["mitid", "bankid-dk"]);
    assert_eq!(field, "redirect.providers[1]");
    assert!(reason.contains("bankid-dk"), "{reason}");
    assert_eq!(with(&["ftn", "ftn"]).0, "redirect.providers[1]");
    // The redirect flow is a REST flow.
    let mut no_rest = example();
    no_rest.rest = None;
    no_rest.redirect = Some(RedirectConfig {
        providers: vec!["mitid".into()],
        origins: Default::default(),
    });
    assert_eq!(config_error(&no_rest).0, "redirect");
    // Only `providers`: the three return URLs are the desk's own, not configurable.
    let extra = format!("{text}success_url = \"https://x.example\"\n");
    assert!(toml::from_str::<ProfileConfig>(&extra).is_err());
}

#[test]
fn sign_setups_are_read_checked_by_field_and_written_back() {
    let text = format!(
        "{ISSUE_7_EXAMPLE}[sign]\nsetups = [\"sbid-phone\", \"link\"]\nlink_providers = [\"mitid\"]\nsender_display_name = \"Telia butikk\"\ndue_minutes = 10\n"
    );
    let config: ProfileConfig = toml::from_str(&text).unwrap();
    let p = Profile::validate(&config).unwrap();
    let s = p.sign().unwrap();
    assert!(s.setups.sbid_phone && !s.setups.nbid_pki);
    assert_eq!(s.setups.link_providers, ["mitid"]);
    assert_eq!(s.base_url.as_str(), "https://api.signicat.com/");
    assert_eq!(s.lifetime, std::time::Duration::from_secs(600));
    assert_eq!(
        Profile::validate(&p.to_config()).unwrap().sign(),
        Some(s),
        "written back as read"
    );

    let with = |edit: &dyn Fn(&mut SignConfig)| {
        let mut c = config.clone();
        if let Some(s) = c.sign.as_mut() {
            edit(s);
        }
        config_error(&c)
    };
    let (field, reason) = with(&|s| s.setups = vec!["sbid-phone".into(), "bankid-sign".into()]);
    assert_eq!(field, "sign.setups[1]");
    assert!(reason.contains("bankid-sign"), "{reason}");
    assert_eq!(with(&|s| s.setups.clear()).0, "sign.setups");
    assert_eq!(with(&|s| s.link_providers.clear()).0, "sign.link_providers");
    assert_eq!(
        with(&|s| s.link_providers = vec!["MitID".into()]).0,
        "sign.link_providers[0]"
    );
    assert_eq!(with(&|s| s.due_minutes = Some(0)).0, "sign.due_minutes");
    assert_eq!(
        with(&|s| s.base_url = Some("http://sign.example".into())).0,
        "sign.base_url"
    );
    // Sign API v2 is served to the [rest] API client.
    let mut no_rest = config.clone();
    no_rest.rest = None;
    assert_eq!(config_error(&no_rest).0, "sign");
    // Unknown keys are refused, naming the key.
    let extra = format!("{text}client_secret = \"s3cret\"\n");
    let e = toml::from_str::<ProfileConfig>(&extra)
        .unwrap_err()
        .to_string();
    assert!(e.contains("client_secret"), "{e}");
}

#[test]
fn retention_has_defaults_and_refuses_out_of_range_days_by_name() {
    let p = Profile::validate(&example()).unwrap();
    assert_eq!(p.retention(), super::RetentionSettings::default());
    assert_eq!(p.retention().after_archive_days, 30);

    let mut c = example();
    c.retention = Some(super::RetentionConfig {
        unsuccessful_days: Some(14),
        ..Default::default()
    });
    let p = Profile::validate(&c).unwrap();
    assert_eq!(p.retention().unsuccessful_days, 14);
    assert_eq!(p.retention().without_archive_days, 1826);
    // Round trip through the file form keeps it.
    assert_eq!(Profile::validate(&p.to_config()).unwrap(), p);

    for (field, bad) in [("after_archive_days", 0), ("unsuccessful_days", 36_501)] {
        let mut c = example();
        let mut r = super::RetentionConfig::default();
        match field {
            "after_archive_days" => r.after_archive_days = Some(bad),
            _ => r.unsuccessful_days = Some(bad),
        }
        c.retention = Some(r);
        assert_eq!(config_error(&c).0, format!("retention.{field}"));
    }
    let unknown = format!("{ISSUE_7_EXAMPLE}\n[retention]\nkeep_forever = true\n");
    let e = toml::from_str::<ProfileConfig>(&unknown).unwrap_err();
    assert!(e.to_string().contains("keep_forever"), "{e}");
}

/// Issue 23, item 10: a provider's extra origins are configured per provider, origins only, and
/// HTTPS; each mistake is named by its field.
#[test]
fn redirect_origins_are_per_provider_https_origins() {
    let with = |origins: &[(&str, &[&str])]| {
        let mut c = example();
        c.redirect = Some(RedirectConfig {
            providers: vec!["mitid".into(), "ftn".into()],
            origins: origins
                .iter()
                .map(|(p, list)| (p.to_string(), list.iter().map(|s| s.to_string()).collect()))
                .collect(),
        });
        c
    };
    let ok = Profile::validate(&with(&[(
        "mitid",
        &["https://mitid.dk", "https://nemlog-in.mitid.dk/"],
    )]))
    .unwrap();
    let hosts: Vec<_> = ok
        .redirect_origins()
        .iter()
        .map(|u| u.host_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(hosts, ["mitid.dk", "nemlog-in.mitid.dk"]);
    assert_eq!(Profile::validate(&ok.to_config()).unwrap(), ok);
    for (origins, field) in [
        (
            with(&[("freja", &["https://freja.example"])]),
            "redirect.origins.freja",
        ),
        (
            with(&[("mitid", &["http://mitid.dk"])]),
            "redirect.origins.mitid[0]",
        ),
        (
            with(&[("ftn", &["https://a.example", "https://b.example/login"])]),
            "redirect.origins.ftn[1]",
        ),
        (
            with(&[("mitid", &["https://user@mitid.dk"])]),
            "redirect.origins.mitid[0]",
        ),
    ] {
        assert_eq!(config_error(&origins).0, field);
    }
}
