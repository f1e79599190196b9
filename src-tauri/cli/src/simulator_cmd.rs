//! `simulator`: the local Signicat as a process of its own, for scripts and the black-box tests.
//! Its client secrets live in the OS keyring under `--profile-name` (reused when stored, generated
//! and stored otherwise), so the CLI's flows read them from there and they are never printed: the
//! one stdout line carries URLs, ids and a ready-to-use profile, nothing secret.

use std::time::Duration;

use id_desk_core::ciba::HintKind;
use id_desk_core::profile::{
    CibaConfig, OidcConfig, Profile, ProfileConfig, RedirectConfig, RestConfig, SbidConfig,
    SbidPhoneConfig, SignConfig, TRAINING,
};
use id_desk_core::secrets::{SecretName, Secrets};
use id_desk_core::{Error, Result};
use id_desk_simulator::{Simulator, SimulatorConfig};
use serde_json::json;

use crate::args::SimulatorArgs;
use crate::output::{self, exit};
use crate::stop::StopSignals;

pub async fn run(args: &SimulatorArgs) -> i32 {
    match serve(args).await {
        Ok(()) => exit::OK,
        Err(e) => output::failed(&e),
    }
}

async fn serve(args: &SimulatorArgs) -> Result<()> {
    if args.profile_name == TRAINING {
        return Err(Error::invalid_input(
            "profile_name",
            "`training` is reserved for the app's own Training mode",
        ));
    }
    if !(args.time_scale.is_finite() && args.time_scale >= 0.0) {
        return Err(Error::invalid_input(
            "time_scale",
            "must be a number 0 or above",
        ));
    }
    let lifetime = match args.session_lifetime {
        None => None,
        Some(s) if s.is_finite() && s > 0.0 => Some(Duration::from_secs_f64(s)),
        Some(_) => {
            return Err(Error::invalid_input(
                "session_lifetime",
                "must be a positive number of seconds",
            ))
        }
    };
    let mut config = SimulatorConfig::training();
    config.port = args.port;
    config.time_scale = args.time_scale;
    config.session_lifetime_override = lifetime;
    // A day either way is already absurd for a PC; more would only overflow date arithmetic.
    if args.clock_offset.unsigned_abs() > 86_400 {
        return Err(Error::invalid_input(
            "clock_offset",
            "must be within a day (-86400 to 86400 seconds)",
        ));
    }
    config.clock_offset_secs = args.clock_offset;
    adopt_keyring_secrets(&args.profile_name, &mut config)?;

    // Registered before the ready line, so a caller may signal as soon as it has read it.
    let mut stop = StopSignals::install()?;
    let sim = Simulator::start(config)
        .await
        .map_err(|e| Error::Network(format!("the simulator could not start: {e}")))?;
    sim.warm_up_keys();
    let profile = profile_toml(&args.profile_name, &sim)?;
    output::ok_row(
        "simulator",
        json!({
            "base_url": sim.base_url(),
            "issuer": sim.issuer(),
            "profile": profile,
        }),
    );
    tracing::info!(url = %sim.base_url(), profile = %args.profile_name, "simulator serving until stopped (SIGINT/SIGTERM, Ctrl+C)");
    stop.recv().await;
    tracing::info!("simulator stopping");
    sim.shutdown().await;
    Ok(())
}

/// Reuses the profile's stored secrets; generates (`training()` already did) and stores the
/// missing ones. A keyring that cannot be reached is an error: the flows could not read them.
fn adopt_keyring_secrets(profile: &str, config: &mut SimulatorConfig) -> Result<()> {
    let keyring = Secrets::new();
    for name in SecretName::SIGNICAT {
        let slot = match name {
            SecretName::RestClientSecret => &mut config.rest_client.client_secret,
            SecretName::OidcClientSecret => &mut config.oidc_client.client_secret,
            SecretName::SignClientSecret => &mut config.sign_client.client_secret,
            // The simulator's CIBA client is its authentication client (settled just before).
            SecretName::CibaClientSecret => {
                let same = id_desk_core::secrets::SecretString::new(
                    config.oidc_client.client_secret.clone(),
                );
                keyring.set(profile, name, &same)?;
                continue;
            }
            // Not in SIGNICAT: the simulator has no key-based client and no archive.
            SecretName::CibaPrivateKey | SecretName::ArchivePassword => continue,
        };
        match keyring.get(profile, name) {
            Ok(stored) => *slot = stored.expose().to_string(),
            Err(Error::SecretMissing(_)) => {
                let generated = id_desk_core::secrets::SecretString::new(slot.clone());
                keyring.set(profile, name, &generated)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The profile file for this simulator (validated, so what we print is loadable as is).
fn profile_toml(name: &str, sim: &Simulator) -> Result<String> {
    let cfg = sim.config();
    let redirect_uri = cfg.redirect_uris.first().cloned().ok_or_else(|| {
        Error::invalid_config("oidc.redirect_uri", "the simulator allows no redirect_uri")
    })?;
    let config = ProfileConfig {
        name: name.to_string(),
        allow_test_identities: true,
        rest: Some(RestConfig {
            base_url: sim.base_url(),
            account_id: cfg.account_id.clone(),
            client_id: cfg.rest_client.client_id.clone(),
            token_url: None,
        }),
        oidc: Some(OidcConfig {
            issuer: sim.issuer(),
            client_id: cfg.oidc_client.client_id.clone(),
            sign_client_id: Some(cfg.sign_client.client_id.clone()),
            redirect_uri,
        }),
        sbid: Some(SbidConfig {
            end_user_ip: "127.0.0.1".to_string(),
        }),
        redirect: Some(RedirectConfig {
            providers: vec!["mitid".to_string(), "ftn".to_string()],
            origins: Default::default(),
        }),
        ciba: Some(CibaConfig {
            issuer: sim.issuer(),
            client_id: cfg.oidc_client.client_id.clone(),
            login_hint_kind: HintKind::NinNo,
            ..CibaConfig::default()
        }),
        sign: Some(SignConfig {
            setups: vec!["sbid-phone".into(), "nbid-pki".into(), "link".into()],
            link_providers: vec!["mitid".into(), "nbid".into()],
            sender_display_name: Some("ID Desk simulator".into()),
            ..SignConfig::default()
        }),
        sbid_phone: Some(SbidPhoneConfig {
            return_risk: true,
            ..SbidPhoneConfig::default()
        }),
        // The simulator plays the methods production retired too, for practice and tests.
        legacy_methods: true,
        ..ProfileConfig::default()
    };
    Profile::validate(&config)?;
    toml::to_string(&config)
        .map_err(|e| Error::invalid_config("profile", format!("cannot write TOML: {e}")))
}
