//! The desk: what the window and the CLI share. It resolves the active profile (Training when
//! nothing is configured), reads secrets from the keyring (or Training's memory), opens the
//! evidence vault, and hands flows to the engine. The Tauri commands and the CLI subcommands are
//! one-line calls into this type.

mod catalog;
mod check;
mod paths;
mod prefs;
pub mod qr;
pub mod screen_pop;
#[cfg(feature = "training")]
pub mod training;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use serde::Serialize;

pub use catalog::{identify_groups, MethodGroup, MethodTile, Situation};
pub use check::CheckStep;
pub use paths::DeskPaths;
pub use prefs::{Preferences, Theme};

use crate::archive::{ArchiveStatus, Archiver, FlushReport, Target, Tuning};
use crate::ciba::{CibaConfig, ClientAuth, ClientAuthMethod, HintKind};
use crate::flow::{EventSink, FlowEvent, FlowId, Method};
use crate::messages::Lang;
use crate::policy::{Policy, Provenance};
use crate::profile::{CibaSettings, Profile, ProfileOrigin, ProfileStore, TrainingIds, TRAINING};
use crate::rest::RedirectProvider;
use crate::runner::{Engine, FlowRequest, FlowSettings, RawFlowInput, RunningFlow};
use crate::secrets::{SecretName, SecretSource, SecretString, Secrets};
use crate::vault::{
    HistoryEntry, ListFilter, PurgeLogLine, PurgePolicy, PurgeReport, TxKind, TxStatus, Vault,
};
use crate::{Error, Result};

/// How long quitting waits for running flows to be cancelled at Signicat.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// The in-process simulator a Training desk talks to (started by the app or the CLI, which own
/// the simulator crate; the engine knows only its URLs and in-memory secrets).
#[derive(Clone)]
pub struct Training {
    pub base_url: String,
    pub issuer: String,
    pub ids: TrainingIds,
    pub secrets: Vec<(SecretName, SecretString)>,
}

/// Which profile to use, in order of precedence.
#[derive(Debug, Clone, Default)]
pub enum ProfileChoice {
    /// The store's active profile, or Training when none is configured.
    #[default]
    Active,
    /// A named profile from the store.
    Named(String),
    /// A profile file anywhere on disk (its secrets come from the keyring under its `name`).
    File(PathBuf),
}

/// What the window shows about the desk. Never carries a secret.
#[derive(Debug, Clone, Serialize)]
pub struct DeskInfo {
    pub version: &'static str,
    pub training: bool,
    pub profile: ProfileSummary,
    pub lang: Lang,
    pub theme: Theme,
    pub templates: Vec<TemplateView>,
    /// Rows a crash left unfinished, marked `interrupted` when this desk opened.
    pub interrupted: usize,
    /// The IT department's policy as it applies here (`file` is `None` without one).
    pub policy: Policy,
}

#[derive(Debug, Clone, Serialize)]
pub struct TemplateView {
    pub name: String,
    pub text: String,
}

/// A profile as the window lists it: ids and URLs, never secrets.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileSummary {
    pub name: String,
    pub training: bool,
    /// The IT department's (read-only), not the user's own.
    pub managed: bool,
    pub has_oidc: bool,
    pub allow_test_identities: bool,
    pub rest_base_url: Option<String>,
    pub account_id: Option<String>,
    pub rest_client_id: Option<String>,
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    pub sign_client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub has_ciba: bool,
    pub ciba_issuer: Option<String>,
    pub ciba_client_id: Option<String>,
    /// What the CIBA login hint field expects: `text`, `nin_no` or `pnr_se`.
    pub ciba_hint_kind: Option<HintKind>,
    /// The keyring entry the CIBA client needs (`ciba-client-secret` or `ciba-private-key`).
    pub ciba_secret: Option<SecretName>,
    /// The central archive (`[archive] url`, never a password).
    pub archive_url: Option<String>,
    /// The eIDs offered through the redirect flow (`[redirect] providers`).
    pub redirect_providers: Vec<RedirectProvider>,
    /// Sign API v2 (`[sign]`): the signing setups offered, `None` without the section.
    pub sign_setups: Option<SignSetupsView>,
    /// The Identify screen's methods, grouped by where the customer is.
    pub identify_groups: Vec<MethodGroup>,
    /// The methods the IT department's policy allows (`None`: all the profile offers).
    pub policy_methods: Option<Vec<Method>>,
    /// Retired methods are offered (labelled so): the legacy Consent Signature too.
    pub legacy_methods: bool,
    /// The CIBA provider runs phone authentication: staff say who called whom.
    pub ciba_phone_auth: bool,
    /// `[[sbid_phone.intentions]]`: the approved "why we ask" texts.
    pub sbid_intentions: Vec<IntentionView>,
    /// Every method production retired, with its date and successors (for labels anywhere).
    pub retired_methods: Vec<MethodTile>,
}

/// One intention text staff may pick for a Swedish BankID Phone order.
#[derive(Debug, Clone, Serialize)]
pub struct IntentionView {
    pub name: String,
    pub text: String,
}

/// The `[sign]` setups as the Consent signature screen offers them.
#[derive(Debug, Clone, Serialize)]
pub struct SignSetupsView {
    pub sbid_phone: bool,
    pub nbid_pki: bool,
    pub link_providers: Vec<String>,
}

impl ProfileSummary {
    /// `p` as policy restricts it (see [`Policy::restrict`]); the methods policy turns off
    /// are left out of the Identify screen.
    fn of(p: &Profile, policy: &Policy, origin: Option<ProfileOrigin>) -> Self {
        let identify_groups = identify_groups(p)
            .into_iter()
            .map(|mut g| {
                g.methods.retain(|t| policy.allows_method(t.method));
                g
            })
            .filter(|g| !g.methods.is_empty())
            .collect();
        ProfileSummary {
            name: p.name().to_string(),
            training: p.is_training(),
            managed: origin == Some(ProfileOrigin::Managed),
            has_oidc: p.oidc().is_some(),
            allow_test_identities: p.allow_test_identities(),
            rest_base_url: p.rest().map(|r| r.base_url.to_string()),
            account_id: p.rest().map(|r| r.account_id.clone()),
            rest_client_id: p.rest().map(|r| r.client_id.clone()),
            oidc_issuer: p.oidc().map(|o| o.issuer.clone()),
            oidc_client_id: p.oidc().map(|o| o.client_id.clone()),
            sign_client_id: p.oidc().and_then(|o| o.sign_client_id.clone()),
            redirect_uri: p.oidc().map(|o| o.redirect_uri.to_string()),
            has_ciba: p.ciba().is_some(),
            ciba_issuer: p.ciba().map(|c| c.issuer.clone()),
            ciba_client_id: p.ciba().map(|c| c.client_id.clone()),
            ciba_hint_kind: p.ciba().map(|c| c.login_hint_kind),
            ciba_secret: p.ciba().map(|c| ciba_secret(c.client_auth)),
            archive_url: p.archive().map(|a| a.url()),
            redirect_providers: p.redirect_providers().to_vec(),
            sign_setups: p.sign().map(|s| SignSetupsView {
                sbid_phone: s.setups.sbid_phone,
                nbid_pki: s.setups.nbid_pki,
                link_providers: s.setups.link_providers.clone(),
            }),
            identify_groups,
            policy_methods: policy.methods.clone(),
            retired_methods: catalog::retired_methods(),
            legacy_methods: p.legacy_methods(),
            ciba_phone_auth: p.ciba().is_some_and(|c| c.phone_auth),
            sbid_intentions: p
                .sbid_phone()
                .intentions
                .iter()
                .map(|t| IntentionView {
                    name: t.name.clone(),
                    text: t.text.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ProfileList {
    pub active: String,
    pub profiles: Vec<ProfileSummary>,
    /// Profile files that could not be read, with the reason (never silently dropped).
    pub broken: Vec<BrokenProfile>,
}

#[derive(Debug, Serialize)]
pub struct BrokenProfile {
    pub name: String,
    pub error: Error,
}

#[derive(Debug, Clone, Serialize)]
pub struct SecretStatus {
    pub name: SecretName,
    pub stored: bool,
}

/// The active profile and the engine built for it.
struct Current {
    profile: Profile,
    source: SecretSource,
    /// Built on first use, so a missing secret is reported when a flow starts, not at launch.
    engine: Option<Engine>,
}

/// The active profile's own error, said as such, with the way out.
fn active_profile_unusable(name: &str, e: Error) -> Error {
    let way_out = "fix the file in the profiles folder, or delete the file active-profile next \
                   to it to open Training";
    match e {
        Error::InvalidConfig { field, reason } => Error::InvalidConfig {
            field,
            reason: format!(
                "the active profile \"{name}\" cannot be used: {reason}. ID Desk will not \
                 open another profile in its place; {way_out}"
            ),
        },
        other => Error::InvalidConfig {
            field: "profile".into(),
            reason: format!(
                "the active profile \"{name}\" cannot be read: {other}. ID Desk will not open \
                 another profile in its place; {way_out}"
            ),
        },
    }
}

/// How often the app writes again what the vault owes (see `vault::pending`).
const PENDING_RETRY_PERIOD: Duration = Duration::from_secs(15);

/// How often the app applies the retention policy.
const RETENTION_PERIOD: Duration = Duration::from_secs(3600);

pub struct Desk {
    paths: DeskPaths,
    store: ProfileStore,
    keyring: Secrets,
    vault: Vault,
    training: Option<Training>,
    current: RwLock<Current>,
    /// Engines of profiles switched away from: their flows run on and are cancelled at shutdown.
    retired: Mutex<Vec<Engine>>,
    /// The IT department's policy, read once when the desk opens.
    policy: Policy,
    prefs: Mutex<Preferences>,
    /// Ships finished transactions to the active profile's `[archive]` in the background.
    archiver: Archiver,
}

impl Desk {
    /// Opens the desk. `training` is required when the choice resolves to Training.
    pub fn open(
        paths: DeskPaths,
        choice: ProfileChoice,
        training: Option<Training>,
    ) -> Result<Desk> {
        // A policy that cannot be read fails closed, like a broken active profile: running
        // without the rules IT set would be worse than not running.
        let policy = Policy::load(&paths.system_dir)?;
        // Before any client is built: the certificates and proxy IT pins (review N-18).
        crate::net::apply(&policy.network)?;
        let store = ProfileStore::at(&paths.config_dir).with_managed(&paths.system_dir);
        let profile = Self::resolve(&store, &choice, training.as_ref(), &policy)?;
        let vault = Vault::open(&paths.data_dir)?;
        vault.set_branch(policy.branch.clone());
        let prefs = Preferences::load(&paths.config_dir).unwrap_or_default();
        let source = Self::source_for(&profile, training.as_ref());
        let archiver = Archiver::new(vault.clone(), Tuning::default());
        archiver.set_target(archive_target(&profile, &source));
        let desk = Desk {
            archiver,
            store,
            keyring: Secrets::new(),
            vault,
            training,
            current: RwLock::new(Current {
                profile,
                source,
                engine: None,
            }),
            retired: Mutex::new(Vec::new()),
            policy,
            prefs: Mutex::new(prefs),
            paths,
        };
        Ok(desk)
    }

    /// Whether `choice` would need the Training simulator (so the caller starts it only then).
    pub fn needs_training(paths: &DeskPaths, choice: &ProfileChoice) -> bool {
        // A policy that cannot be read keeps the desk closed anyway: no simulator for it.
        let Ok(policy) = Policy::load(&paths.system_dir) else {
            return false;
        };
        if !policy.training {
            return false;
        }
        match choice {
            ProfileChoice::Active => match ProfileStore::at(&paths.config_dir).active() {
                Ok(Some(name)) => name == TRAINING,
                _ => policy.default_profile.is_none(),
            },
            ProfileChoice::Named(name) => name == TRAINING,
            ProfileChoice::File(_) => false,
        }
    }

    fn resolve(
        store: &ProfileStore,
        choice: &ProfileChoice,
        training: Option<&Training>,
        policy: &Policy,
    ) -> Result<Profile> {
        let profile = Self::resolve_unrestricted(store, choice, training, policy)?;
        let provenance = match choice {
            _ if profile.is_training() => Provenance::Training,
            ProfileChoice::File(path) => {
                // A file standing in for a managed profile would run with that profile's keyring
                // secrets and none of IT's settings (review N-2).
                if store.origin(profile.name())? == Some(ProfileOrigin::Managed) {
                    return Err(Error::NotAllowed {
                        field: "profile-file".into(),
                        reason: format!(
                            "{} names profile {}, which your IT department manages; a file \
                             cannot stand in for it. Use --profile {} or give the file another name",
                            path.display(),
                            profile.name(),
                            profile.name()
                        ),
                    });
                }
                Provenance::File
            }
            _ => provenance_in(store, profile.name())?,
        };
        policy.admit(profile, provenance)
    }

    /// `name` from the store, as policy admits it.
    fn load_admitted(&self, name: &str) -> Result<Profile> {
        let profile = self.store.load(name)?;
        self.policy
            .admit(profile, provenance_in(&self.store, name)?)
    }

    fn resolve_unrestricted(
        store: &ProfileStore,
        choice: &ProfileChoice,
        training: Option<&Training>,
        policy: &Policy,
    ) -> Result<Profile> {
        let training_profile = || -> Result<Profile> {
            policy.require_training_allowed()?;
            let t = training.ok_or_else(|| {
                Error::invalid_config(
                    "profile",
                    "no Signicat profile is configured and Training mode is not available",
                )
            })?;
            Profile::training(&t.base_url, &t.issuer, &t.ids)
        };
        match choice {
            ProfileChoice::File(path) => ProfileStore::load_file(path),
            ProfileChoice::Named(name) if name == TRAINING => training_profile(),
            ProfileChoice::Named(name) => store.load(name),
            ProfileChoice::Active => match store.active()? {
                // A broken active profile fails closed (issue 23, item 8): opening Training in its
                // place would let staff run practice flows believing they are real, and a fixed
                // file must not be needed to notice the problem. The window shows this error.
                Some(name) if name != TRAINING => store
                    .load(&name)
                    .map_err(|e| active_profile_unusable(&name, e)),
                Some(_) => training_profile(),
                // Nothing chosen yet: IT's default profile, else Training.
                None => match &policy.default_profile {
                    Some(name) => store
                        .load(name)
                        .map_err(|e| active_profile_unusable(name, e)),
                    None => training_profile(),
                },
            },
        }
    }

    fn source_for(profile: &Profile, training: Option<&Training>) -> SecretSource {
        match training {
            Some(t) if profile.is_training() => SecretSource::memory(t.secrets.iter().cloned()),
            _ => SecretSource::Keyring(Secrets::new()),
        }
    }

    pub fn paths(&self) -> &DeskPaths {
        &self.paths
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn profile(&self) -> Profile {
        self.read_current(|c| c.profile.clone())
    }

    pub fn is_training(&self) -> bool {
        self.read_current(|c| c.profile.is_training())
    }

    pub fn lang(&self) -> Lang {
        self.prefs.lock().map(|p| p.lang).unwrap_or_default()
    }

    pub fn info(&self) -> DeskInfo {
        let prefs = self.prefs.lock().map(|p| p.clone()).unwrap_or_default();
        self.read_current(|c| DeskInfo {
            version: env!("CARGO_PKG_VERSION"),
            training: c.profile.is_training(),
            profile: ProfileSummary::of(
                &c.profile,
                &self.policy,
                self.store.origin(c.profile.name()).ok().flatten(),
            ),
            lang: prefs.lang,
            theme: prefs.theme,
            templates: c
                .profile
                .templates()
                .iter()
                .map(|t| TemplateView {
                    name: t.name().to_string(),
                    text: t.text().to_string(),
                })
                .collect(),
            interrupted: self.vault.interrupted_on_open(),
            policy: self.policy.clone(),
        })
    }

    fn read_current<T>(&self, f: impl FnOnce(&Current) -> T) -> T {
        match self.current.read() {
            Ok(c) => f(&c),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    fn settings_for(&self, profile: &Profile) -> FlowSettings {
        FlowSettings {
            lang: self.lang(),
            allow_test_identities: profile.allow_test_identities(),
            sbid_end_user_ip: profile.sbid().map(|s| s.end_user_ip.to_string()),
            ciba_hint_kind: profile
                .ciba()
                .map(|c| c.login_hint_kind)
                .unwrap_or_default(),
            ciba_hint_prefix: profile
                .ciba()
                .map(|c| c.login_hint_prefix.clone())
                .unwrap_or_default(),
            redirect_providers: profile.redirect_providers().to_vec(),
            sign: profile.sign().map(|s| s.setups.clone()).unwrap_or_default(),
            sign_max_document_bytes: profile.sign().map(|s| s.max_document_bytes),
            legacy_methods: profile.legacy_methods(),
            sbid_phone: profile.sbid_phone().options.clone(),
            sbid_phone_intentions: profile
                .sbid_phone()
                .intentions
                .iter()
                .map(|t| t.text.clone())
                .collect(),
            ciba_phone_auth: profile.ciba().is_some_and(|c| c.phone_auth),
            ..FlowSettings::default()
        }
    }

    /// The first problem with the input, naming its field (the window marks it as staff type);
    /// empty when the flow may start.
    pub fn validate(&self, raw: &RawFlowInput) -> Vec<Error> {
        let settings = self.settings_for(&self.profile());
        // The retry rules are part of "may this start": the window asks staff before Send.
        let checked = self
            .permitted(raw)
            .and_then(|()| FlowRequest::parse(raw, &settings))
            .and_then(|req| match self.engine() {
                Ok(engine) => engine.check_call(&req, raw.retry_confirmed),
                Err(_) => Ok(()),
            });
        match checked {
            Ok(()) => Vec::new(),
            Err(e) => vec![e],
        }
    }

    /// The engine of the active profile, built on first use.
    fn engine(&self) -> Result<Engine> {
        let mut cur = self
            .current
            .write()
            .map_err(|_| Error::Vault("desk state poisoned".into()))?;
        if let Some(e) = &cur.engine {
            return Ok(e.clone());
        }
        let engine = build_engine(
            &cur.profile,
            &cur.source,
            self.settings_for(&cur.profile),
            &self.vault,
        )?;
        cur.engine = Some(engine.clone());
        Ok(engine)
    }

    /// Whether signatures of the active profile wait for `recover_signatures` (a cheap local
    /// read: the CLI asks before it decides to wait for Signicat).
    pub fn has_signatures_to_recover(&self) -> bool {
        let profile = self.profile();
        profile.sign().is_some()
            && self
                .vault
                .signatures_to_recover(profile.name())
                .is_ok_and(|rows| !rows.is_empty())
    }

    /// Settles the active profile's Sign API v2 signatures that were running when the desk last
    /// stopped (the customer may have signed meanwhile): their evidence is fetched while Signicat
    /// still has it. Returns how many were signed. The app runs it in the background at start.
    pub async fn recover_signatures(&self) -> Result<usize> {
        if !self.has_signatures_to_recover() {
            return Ok(0);
        }
        let profile = self.profile();
        self.engine()?.recover_signatures(profile.name()).await
    }

    /// Validates (before any request), then starts the flow; events follow on `sink`.
    pub async fn start(&self, raw: &RawFlowInput, sink: EventSink) -> Result<FlowId> {
        self.permitted(raw)?;
        let settings = self.settings_for(&self.profile());
        let request = FlowRequest::parse(raw, &settings)?;
        self.require_setup(request.method())?;
        let engine = self.engine()?;
        engine
            .start_confirmed(request, raw.retry_confirmed, sink)
            .await
    }

    /// What the IT department's policy says of this request, before anything else is read.
    fn permitted(&self, raw: &RawFlowInput) -> Result<()> {
        self.policy.permits(raw)?;
        let (name, has_archive, training) = self.read_current(|c| {
            (
                c.profile.name().to_string(),
                c.profile.archive().is_some(),
                c.profile.is_training(),
            )
        });
        self.policy.require_archive(&name, has_archive, training)
    }

    /// The IT department's policy as this desk applies it.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Refused when policy keeps the customer display closed.
    pub fn customer_display_allowed(&self) -> Result<()> {
        self.policy.require_customer_display_allowed()
    }

    /// Reads the screen-pop link waiting in `pending` for the Identify form, checked against the
    /// active profile's rules; `None` when there is none. Nothing is sent.
    pub fn take_screen_pop(
        &self,
        pending: &screen_pop::Pending,
    ) -> Option<Result<screen_pop::ScreenPop>> {
        let (link, replaced) = pending.take()?;
        let settings = self.settings_for(&self.profile());
        Some(
            screen_pop::parse(&link, &settings)
                .map(|pop| screen_pop::ScreenPop { replaced, ..pop }),
        )
    }

    /// A profile section or secret the method needs is reported by name before anything is sent.
    fn require_setup(&self, method: Method) -> Result<()> {
        let (profile, source) = self.read_current(|c| (c.profile.clone(), c.source.clone()));
        let missing = |field: &str| {
            Err(Error::invalid_config(
                field,
                format!("profile {} has no {field}", profile.name()),
            ))
        };
        match method {
            Method::NbidSafeConversation
            | Method::NbidMobile
            | Method::SbidQr
            | Method::SbidAppLaunch
            | Method::SbidPhone
            | Method::SbidIdCard
                if profile.rest().is_none() =>
            {
                return missing("rest")
            }
            Method::NbidInapp | Method::SbidInapp if profile.oidc().is_none() => {
                return missing("oidc")
            }
            Method::NbidSign | Method::SbidSign
                if profile
                    .oidc()
                    .and_then(|o| o.sign_client_id.as_ref())
                    .is_none() =>
            {
                return missing("oidc.sign_client_id")
            }
            Method::Ciba if profile.ciba().is_none() => return missing("ciba"),
            Method::Redirect if profile.rest().is_none() => return missing("rest"),
            Method::Redirect if profile.redirect_providers().is_empty() => {
                return missing("redirect")
            }
            Method::SignSbidPhone | Method::SignLink if profile.sign().is_none() => {
                return missing("sign")
            }
            _ => {}
        }
        for name in secrets_for(method) {
            bound_secret(&source, &profile, *name)?;
        }
        if let Some(c) = profile.ciba().filter(|_| method == Method::Ciba) {
            bound_secret(&source, &profile, ciba_secret(c.client_auth))?;
        }
        Ok(())
    }

    pub async fn cancel(&self, id: &FlowId) -> Result<()> {
        for engine in self.engines() {
            if engine.running().iter().any(|f| &f.flow_id == id) {
                return engine.cancel(id).await;
            }
        }
        Err(Error::NotFound(format!("no running flow {id}")))
    }

    /// The terminal event of a flow (waits for it).
    pub async fn wait(&self, id: &FlowId) -> Option<FlowEvent> {
        for engine in self.engines() {
            if let Some(ev) = engine.wait(id).await {
                return Some(ev);
            }
        }
        None
    }

    pub fn running(&self) -> Vec<RunningFlow> {
        self.engines().iter().flat_map(Engine::running).collect()
    }

    fn engines(&self) -> Vec<Engine> {
        let mut all: Vec<Engine> = self.retired.lock().map(|r| r.clone()).unwrap_or_default();
        if let Some(e) = self.read_current(|c| c.engine.clone()) {
            all.push(e);
        }
        all
    }

    /// Quitting: cancels every running flow at Signicat, bounded by [`SHUTDOWN_GRACE`].
    pub async fn shutdown(&self) {
        self.archiver.stop();
        let engines = self.engines();
        let all = engines.iter().map(|e| e.cancel_all(SHUTDOWN_GRACE));
        let _ = tokio::time::timeout(SHUTDOWN_GRACE, futures::future::join_all(all)).await;
    }

    // ---- history and evidence ------------------------------------------------------------

    /// History, newest first; `staff` keeps the rows one OS user ran.
    pub fn history(
        &self,
        kind: Option<&str>,
        status: Option<&str>,
        staff: Option<&str>,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>> {
        let filter = ListFilter {
            kind: match kind {
                None => None,
                Some("auth") => Some(TxKind::Auth),
                Some("sign") => Some(TxKind::Sign),
                Some(_) => return Err(Error::invalid_input("kind", "must be auth or sign")),
            },
            status: match status {
                None => None,
                Some(s) => Some(
                    TxStatus::parse(s)
                        .ok_or_else(|| Error::invalid_input("status", "unknown status"))?,
                ),
            },
            staff_user: staff
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            ..ListFilter::default()
        };
        let mut rows = self.vault.history(&filter, limit.clamp(1, 10_000))?;
        // "waiting" would mislead where nothing is shipped: the marks show only with an archive.
        if self.read_current(|c| c.profile.archive().is_none()) {
            for row in &mut rows {
                if let HistoryEntry::Transaction(tx) = row {
                    tx.archive = None;
                }
            }
        }
        Ok(rows)
    }

    pub fn verify(&self, id: &FlowId) -> Result<bool> {
        self.vault.verify(id)
    }

    /// What the folder picker for an export opens with: the folder it starts in (the user's
    /// Downloads, else home) and its title in the desk's language. Evidence goes only where
    /// staff then choose; nothing is written before they do.
    pub fn export_prompt(&self) -> (PathBuf, String) {
        let title = self.lang().pick(
            "Export evidence: choose a folder",
            "Eksporter bevis: velg en mappe",
            "Exportera bevis: välj en mapp",
        );
        (self.paths.export_dir(), title.to_string())
    }

    /// Exports one signature's evidence to `dest`, verifying every hash on the way: the legacy
    /// SDO as one file (`dest` a file path or a directory), Sign API v2 evidence as the files of
    /// a directory (`dest/signature-<id>` when `dest` exists, else `dest` itself).
    pub fn export(&self, id: &FlowId, dest: &Path) -> Result<PathBuf> {
        let tx = self.vault.get(id)?;
        if tx.sdo.is_none() && !tx.evidence.is_empty() {
            let dir = if dest.is_dir() {
                dest.join(format!("signature-{id}"))
            } else {
                dest.to_path_buf()
            };
            self.vault.export_evidence(id, &dir)?;
            return Ok(dir);
        }
        let target = if dest.is_dir() {
            dest.join(format!("sdo-{id}.xml"))
        } else {
            dest.to_path_buf()
        };
        self.vault.export(id, &target)?;
        Ok(target)
    }

    // ---- profiles and secrets --------------------------------------------------------------

    pub fn profiles(&self) -> Result<ProfileList> {
        let active = self.read_current(|c| c.profile.clone());
        let mut profiles = Vec::new();
        let mut broken = Vec::new();
        let policy = &self.policy;
        if let Some(t) = self.training.as_ref().filter(|_| policy.training) {
            if let Ok(p) = Profile::training(&t.base_url, &t.issuer, &t.ids) {
                profiles.push(ProfileSummary::of(&p, policy, None));
            }
        }
        for name in self.store.list()? {
            match self.load_admitted(&name) {
                Ok(p) => profiles.push(ProfileSummary::of(&p, policy, self.store.origin(&name)?)),
                Err(error) => broken.push(BrokenProfile { name, error }),
            }
        }
        // A user's file of a managed profile's name is never used; say so instead of hiding it.
        for name in self.store.shadowed()? {
            let error = Error::NotAllowed {
                field: "profile".into(),
                reason: format!(
                    "your own file {name}.toml is ignored: your IT department manages a profile \
                     of this name"
                ),
            };
            broken.push(BrokenProfile { name, error });
        }
        if !profiles.iter().any(|p| p.name == active.name()) {
            let origin = self.store.origin(active.name()).ok().flatten();
            profiles.insert(0, ProfileSummary::of(&active, policy, origin));
        }
        Ok(ProfileList {
            active: active.name().to_string(),
            profiles,
            broken,
        })
    }

    /// Makes `name` the active profile (remembered for the next start).
    pub fn activate(&self, name: &str) -> Result<()> {
        let profile = if name == TRAINING {
            self.policy.require_training_allowed()?;
            let t = self.training.as_ref().ok_or_else(|| {
                Error::invalid_input("profile", "Training mode is not running in this session")
            })?;
            Profile::training(&t.base_url, &t.issuer, &t.ids)?
        } else {
            self.load_admitted(name)?
        };
        self.store.set_active(name)?;
        let source = Self::source_for(&profile, self.training.as_ref());
        let mut cur = self
            .current
            .write()
            .map_err(|_| Error::Vault("desk state poisoned".into()))?;
        self.retire_engine(&mut cur);
        self.archiver.set_target(archive_target(&profile, &source));
        *cur = Current {
            profile,
            source,
            engine: None,
        };
        Ok(())
    }

    pub fn secret_status(&self, profile: &str) -> Result<Vec<SecretStatus>> {
        SecretName::ALL
            .iter()
            .map(|&name| {
                Ok(SecretStatus {
                    name,
                    stored: self.keyring.is_stored(profile, name)?,
                })
            })
            .collect()
    }

    /// Stores a secret in the OS keyring. The value is never returned by anything.
    pub fn set_secret(&self, profile: &str, name: SecretName, value: SecretString) -> Result<()> {
        if value.expose().trim().is_empty() {
            return Err(Error::invalid_input("value", "a secret cannot be empty"));
        }
        if profile == TRAINING {
            return Err(Error::invalid_input(
                "profile",
                "Training mode keeps its secrets in memory",
            ));
        }
        self.keyring.set(profile, name, &value)?;
        // Bound to where the profile sends it now; a profile not readable here (another file)
        // binds at the secret's first use.
        let host = self
            .read_current(|c| (c.profile.name() == profile).then(|| c.profile.clone()))
            .or_else(|| self.store.load(profile).ok())
            .and_then(|p| p.secret_host(name));
        match host {
            Some(h) => self.keyring.bind_host(profile, name, &h)?,
            None => {
                self.keyring.delete_binding(profile, name)?;
            }
        }
        self.forget_engine_of(profile);
        if name == SecretName::ArchivePassword {
            // A corrected password is tried at once, not after the retry backoff.
            self.archiver.set_target(self.current_archive_target());
        }
        Ok(())
    }

    pub fn delete_secret(&self, profile: &str, name: SecretName) -> Result<bool> {
        let deleted = self.keyring.delete(profile, name)?;
        self.forget_engine_of(profile);
        Ok(deleted)
    }

    /// A changed secret takes effect for the next flow; running flows keep their engine.
    fn forget_engine_of(&self, profile: &str) {
        if let Ok(mut cur) = self.current.write() {
            if cur.profile.name() == profile {
                self.retire_engine(&mut cur);
            }
        }
    }

    /// The next flow gets a freshly built engine (new profile, secret or language); flows already
    /// running keep theirs until they end, and are still cancelled at shutdown.
    fn retire_engine(&self, cur: &mut Current) {
        if let Some(old) = cur.engine.take() {
            if let Ok(mut r) = self.retired.lock() {
                r.retain(|e| !e.running().is_empty());
                r.push(old);
            }
        }
    }

    /// Test connection: REST token, OIDC discovery and JWKS, each with its latency.
    pub async fn check(&self, name: Option<&str>) -> Result<Vec<CheckStep>> {
        let (profile, source) = match name {
            None => self.read_current(|c| (c.profile.clone(), c.source.clone())),
            Some(n) if n == self.profile().name() => {
                self.read_current(|c| (c.profile.clone(), c.source.clone()))
            }
            Some(n) => {
                let p = self.load_admitted(n)?;
                let s = Self::source_for(&p, self.training.as_ref());
                (p, s)
            }
        };
        Ok(check::run(&profile, &source).await)
    }

    // ---- central archive ------------------------------------------------------------------

    fn current_archive_target(&self) -> Option<Target> {
        self.read_current(|c| archive_target(&c.profile, &c.source))
    }

    /// Starts delivering to the archive in the background, on the caller's tokio runtime, for the
    /// desk's life (the app at start; the CLI while a flow runs). Without an `[archive]` section
    /// the task only waits for one.
    pub fn start_archive_delivery(&self) {
        self.archiver.start();
    }

    /// The active profile's `[retention]` applied to this desk's vault now (the app runs it at
    /// start and every hour; `id-desk-cli vault purge`). Blocking.
    pub fn purge(&self, dry_run: bool) -> Result<PurgeReport> {
        let profile = self.profile();
        let r = profile.retention();
        let policy = PurgePolicy {
            after_archive_days: r.after_archive_days,
            without_archive_days: r.without_archive_days,
            unsuccessful_days: r.unsuccessful_days,
            archive_configured: profile.archive().is_some(),
        };
        self.vault
            .purge(&policy, time::OffsetDateTime::now_utc(), dry_run)
    }

    /// Purges now and then every hour, and writes again what the vault owes every 15 s, in the
    /// background, for the desk's life (the app). Must be called inside a Tokio runtime. A failed
    /// purge is logged and tried again an hour later.
    pub fn start_retention(self: &std::sync::Arc<Self>) {
        // Owed vault writes (a signature's evidence after a disk error): every 15 s.
        let vault = self.vault.clone();
        let owed = std::sync::Arc::downgrade(self);
        tokio::spawn(async move {
            while owed.upgrade().is_some() {
                tokio::time::sleep(PENDING_RETRY_PERIOD).await;
                if vault.pending_count() > 0 {
                    let v = vault.clone();
                    let _ = tokio::task::spawn_blocking(move || v.retry_pending()).await;
                }
            }
        });
        let desk = std::sync::Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let Some(d) = desk.upgrade() else { return };
                let run = tokio::task::spawn_blocking(move || d.purge(false)).await;
                match run {
                    Ok(Ok(report)) if !report.purged.is_empty() => {
                        tracing::info!(transactions = report.purged.len(), "retention purge done")
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        tracing::error!(code = e.code(), error = %e, "retention purge failed")
                    }
                    Err(e) => tracing::error!(error = %e, "retention purge stopped"),
                }
                tokio::time::sleep(RETENTION_PERIOD).await;
            }
        });
    }

    /// Writes again what the vault owes, up to `attempts` times a second apart (the CLI before it
    /// exits); returns how many writes are still owed.
    pub async fn settle_pending(&self, attempts: u32) -> usize {
        for i in 0..attempts {
            if self.vault.pending_count() == 0 {
                break;
            }
            if i > 0 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            let v = self.vault.clone();
            let _ = tokio::task::spawn_blocking(move || v.retry_pending()).await;
        }
        self.vault.pending_count()
    }

    /// What earlier purges removed, newest first (no personal data).
    pub fn purge_log(&self, limit: usize) -> Result<Vec<PurgeLogLine>> {
        self.vault.purge_log(limit)
    }

    /// The outbox and the active profile's archive (no network).
    pub fn archive_status(&self) -> Result<ArchiveStatus> {
        self.archiver.status()
    }

    /// Delivers everything waiting now (`id-desk-cli archive flush`).
    pub async fn archive_flush(&self) -> Result<FlushReport> {
        self.archiver.flush().await
    }

    pub fn preferences(&self) -> Preferences {
        self.prefs.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// Uses `lang` for flows started from now on without saving it (the CLI's `--lang`).
    pub fn use_lang(&self, lang: Lang) {
        if let Ok(mut p) = self.prefs.lock() {
            p.lang = lang;
        }
        if let Ok(mut cur) = self.current.write() {
            self.retire_engine(&mut cur);
        }
    }

    /// Saves language and theme. The language applies to flows started from now on.
    pub fn set_preferences(&self, prefs: Preferences) -> Result<()> {
        prefs.save(&self.paths.config_dir)?;
        if let Ok(mut p) = self.prefs.lock() {
            *p = prefs;
        }
        if let Ok(mut cur) = self.current.write() {
            self.retire_engine(&mut cur);
        }
        Ok(())
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        self.archiver.stop();
    }
}

fn archive_target(profile: &Profile, source: &SecretSource) -> Option<Target> {
    profile.archive().map(|settings| Target {
        settings: settings.clone(),
        profile: profile.name().to_string(),
        source: source.clone(),
    })
}

/// What an OS notification says when a flow ends while staff look elsewhere (`None` for events
/// that do not end a flow). Names the customer, never their number.
pub fn finished_notice(event: &FlowEvent, lang: Lang) -> Option<String> {
    use crate::messages::error_message;
    let text = match event {
        FlowEvent::Succeeded { subject } => {
            format!("{} — {}", subject.name, error_message("succeeded", lang))
        }
        FlowEvent::Signed { subject, .. } => {
            format!("{} — {}", subject.name, error_message("signed", lang))
        }
        FlowEvent::Failed { code, .. } if code == crate::flow::CUSTOMER_ABORTED => {
            error_message("aborted", lang)
        }
        FlowEvent::Failed { message, .. } => message.clone(),
        FlowEvent::Expired => error_message("expired", lang),
        FlowEvent::Cancelled => error_message("cancelled", lang),
        _ => return None,
    };
    Some(text)
}

/// The secrets a method needs.
fn secrets_for(method: Method) -> &'static [SecretName] {
    match method {
        Method::NbidSafeConversation
        | Method::NbidMobile
        | Method::SbidQr
        | Method::SbidAppLaunch
        | Method::SbidPhone
        | Method::SbidIdCard
        | Method::Redirect
        // Sign API v2 is served to the same Signicat API client (with the Signature API permission).
        | Method::SignSbidPhone
        | Method::SignLink => &[SecretName::RestClientSecret],
        Method::NbidInapp | Method::SbidInapp => &[SecretName::OidcClientSecret],
        Method::NbidSign | Method::SbidSign => &[SecretName::SignClientSecret],
        // Depends on the profile's client authentication: see `ciba_secret`.
        Method::Ciba => &[],
    }
}

/// The keyring entry a CIBA client authenticates with.
fn ciba_secret(auth: ClientAuthMethod) -> SecretName {
    match auth {
        ClientAuthMethod::ClientSecretBasic => SecretName::CibaClientSecret,
        ClientAuthMethod::PrivateKeyJwt => SecretName::CibaPrivateKey,
    }
}

/// A profile's secret, only for the host it was stored for (review finding M-15): a profile
/// edited (or a `--profile-file` written) to send it elsewhere gets an error naming the setting,
/// never the secret. A secret stored before bindings existed is bound to the profile's host at
/// its first use. Training's in-memory secrets belong to its simulator and are not bound.
pub(crate) fn bound_secret(
    source: &SecretSource,
    profile: &Profile,
    name: SecretName,
) -> Result<SecretString> {
    source.get_for_host(
        profile.name(),
        name,
        profile.secret_host(name).as_deref(),
        secret_field(name),
    )
}

/// Whose the stored profile `name` is.
fn provenance_in(store: &ProfileStore, name: &str) -> Result<Provenance> {
    Ok(match store.origin(name)? {
        Some(ProfileOrigin::Managed) => Provenance::Managed,
        _ => Provenance::User,
    })
}

/// The profile setting that decides where `name` goes.
fn secret_field(name: SecretName) -> &'static str {
    match name {
        SecretName::RestClientSecret => "rest.token_url",
        SecretName::OidcClientSecret | SecretName::SignClientSecret => "oidc.issuer",
        SecretName::CibaClientSecret | SecretName::CibaPrivateKey => "ciba.issuer",
        SecretName::ArchivePassword => "archive.url",
    }
}

/// Maps a profile and its secrets onto the engine. A family whose secret is missing is left out;
/// `Desk::start` reports the missing secret by name before a flow of that family starts.
fn build_engine(
    profile: &Profile,
    source: &SecretSource,
    settings: FlowSettings,
    vault: &Vault,
) -> Result<Engine> {
    let secret = |name| bound_secret(source, profile, name).ok();
    let sign = match (
        profile.rest(),
        profile.sign(),
        secret(SecretName::RestClientSecret),
    ) {
        (Some(r), Some(s), Some(client_secret)) => Some(crate::sign::SignConfig {
            base_url: s.base_url.clone(),
            token_url: r.token_url.clone(),
            client_id: r.client_id.clone(),
            client_secret,
            sender_display_name: s.sender_display_name.clone(),
            max_document_bytes: s.max_document_bytes,
            lifetime: s.lifetime,
        }),
        _ => None,
    };
    let rest = match (profile.rest(), secret(SecretName::RestClientSecret)) {
        (Some(r), Some(client_secret)) => Some(crate::rest::RestConfig {
            base_url: r.base_url.clone(),
            token_url: r.token_url.clone(),
            account_id: r.account_id.clone(),
            client_id: r.client_id.clone(),
            client_secret,
        }),
        _ => None,
    };
    let mut engine = Engine::new(rest, settings)?
        .with_vault(vault.clone(), Some(profile.name().to_string()))
        .with_archive_target(profile.archive().map(|a| a.fingerprint()));
    if let Some(o) = profile.oidc() {
        let issuer = url::Url::parse(&o.issuer)
            .map_err(|e| Error::invalid_config("oidc.issuer", e.to_string()))?;
        let empty = || crate::secrets::SecretString::new(String::new());
        engine = engine.with_oidc(crate::oidc::OidcConfig {
            issuer,
            client_id: o.client_id.clone(),
            client_secret: secret(SecretName::OidcClientSecret).unwrap_or_else(empty),
            sign_client_id: o.sign_client_id.clone().unwrap_or_default(),
            sign_client_secret: secret(SecretName::SignClientSecret).unwrap_or_else(empty),
            redirect_uri: o.redirect_uri.clone(),
            max_wait: crate::oidc::OidcConfig::DEFAULT_MAX_WAIT,
        })?;
    }
    if let Some(c) = profile.ciba() {
        if let Some(stored) = secret(ciba_secret(c.client_auth)) {
            engine = engine.with_ciba(ciba_config(c, stored)?)?;
        }
    }
    if let Some(cfg) = sign {
        engine = engine.with_sign(cfg)?;
    }
    Ok(engine)
}

/// The engine's CIBA client configuration from the profile and its keyring entry.
pub(crate) fn ciba_config(c: &CibaSettings, stored: SecretString) -> Result<CibaConfig> {
    let issuer = url::Url::parse(&c.issuer)
        .map_err(|e| Error::invalid_config("ciba.issuer", e.to_string()))?;
    let auth = match c.client_auth {
        ClientAuthMethod::ClientSecretBasic => ClientAuth::Basic { secret: stored },
        ClientAuthMethod::PrivateKeyJwt => ClientAuth::PrivateKeyJwt {
            key: stored,
            alg: c.signing_alg,
            kid: c.key_id.clone(),
        },
    };
    Ok(CibaConfig {
        issuer,
        client_id: c.client_id.clone(),
        auth,
        scope: c.scope.clone(),
        acr_values: c.acr_values.clone(),
        requested_expiry: c.requested_expiry,
        country: c.country.clone(),
    })
}
