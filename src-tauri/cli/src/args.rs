//! The command line as staff and scripts type it (issue 7's contract). Only parsing lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use id_desk_core::messages::Lang;

#[derive(Debug, Parser)]
#[command(
    name = "id-desk-cli",
    version,
    about = "Every ID Desk flow from a terminal. stdout is JSON Lines; logs go to stderr."
)]
pub struct Cli {
    /// A profile from the profile store (its secrets come from the OS keyring).
    #[arg(long, global = true, conflicts_with = "profile_file")]
    pub profile: Option<String>,
    /// A profile TOML file anywhere on disk (its secrets come from the keyring under its `name`).
    #[arg(long, global = true)]
    pub profile_file: Option<PathBuf>,
    /// Keep configuration, evidence vault and logs under this directory instead of the OS ones.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// Language of progress messages and of the customer's BankID texts.
    #[arg(long, global = true, value_enum)]
    pub lang: Option<LangArg>,
    /// Debug logging (stderr and the log file).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LangArg {
    En,
    Nb,
    Sv,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::En => Lang::En,
            LangArg::Nb => Lang::Nb,
            LangArg::Sv => Lang::Sv,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Identify a customer.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Collect a consent signature (Sign API v2: sbid-phone, link; legacy OIDC: nbid, sbid).
    #[command(subcommand)]
    Sign(SignCommand),
    /// Client secrets of the profile, in the OS keyring.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Configured profiles.
    #[command(subcommand)]
    Profiles(ProfilesCommand),
    /// Recorded transactions, newest first (one JSON line each).
    History {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Only what this OS user ran (who did what).
        #[arg(long)]
        staff: Option<String>,
    },
    /// Copy a transaction's signed document (SDO) out of the vault, checking its hash.
    Export {
        transaction_id: String,
        path: PathBuf,
    },
    /// Run the local Signicat simulator until SIGINT/SIGTERM.
    Simulator(SimulatorArgs),
    /// The central archive: what waits in this desk's outbox, and delivering it now.
    #[command(subcommand)]
    Archive(ArchiveCommand),
    /// The local vault: retention.
    #[command(subcommand)]
    Vault(VaultCommand),
    /// The IT department's directory (policy.toml, managed profiles): whether the desk trusts it.
    #[command(subcommand, name = "system-dir")]
    SystemDir(SystemDirCommand),
}

#[derive(Debug, Subcommand)]
pub enum SystemDirCommand {
    /// One JSON line per file the desk would trust, with why it would be refused; exit 2 when
    /// any would be.
    Check,
    /// Create the directory as the administrators' alone (the per-machine installer runs this;
    /// needs an administrator / root).
    Protect,
}

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Delete what the active profile's `[retention]` no longer allows this desk to keep (rows,
    /// evidence files, outbox); prints one `purged` line each and a `purge_report`.
    Purge {
        /// Print what would be deleted; delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// The purge audit: what was deleted, when and why (no personal data).
    PurgeLog {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// The outbox: waiting and archived transactions, the last delivery error (no network).
    Status,
    /// Deliver every waiting transaction now; exit 0 when none is left waiting.
    Flush,
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Norwegian BankID, Safe Conversation (REST). BankID Norge allows it only when the
    /// customer called us: say so with `--call-initiator user`.
    Nbid {
        /// The fødselsnummer, or `-` to read it from stdin.
        #[arg(long)]
        nin: String,
        /// Who called whom: `user` (the customer called us; required for Safe Conversation).
        #[arg(long)]
        call_initiator: Option<String>,
    },
    /// Swedish BankID Phone (REST): the order goes to the personnummer's BankID app, which asks
    /// the customer to confirm they are in a call with us.
    SbidPhone {
        /// The personnummer, or `-` to read it from stdin.
        #[arg(long)]
        nin: String,
        /// Who called whom: `user` (the customer called us) or `rp` (we called the customer).
        #[arg(long)]
        call_initiator: Option<String>,
        /// Why we ask, shown in the customer's BankID app (simpleMarkdownV1, at most 1000
        /// characters).
        #[arg(long)]
        intention: Option<String>,
    },
    /// Swedish BankID Digital ID card (REST): the QR code the customer shows in the BankID app,
    /// as the barcode scanner reads it.
    SbidIdcard {
        /// The scanned payload (`BANKIDF.…`), or `-` to read it from stdin (a scanner script).
        #[arg(long)]
        qr_data: String,
    },
    /// Norwegian BankID on mobile (REST).
    NbidMobile(PhoneArgs),
    /// Swedish BankID headless (REST); animated QR unless --app-launch.
    Sbid {
        #[arg(long)]
        nin: Option<String>,
        #[arg(long, conflicts_with = "app_launch")]
        qr: bool,
        #[arg(long)]
        app_launch: bool,
    },
    /// Norwegian BankID, legacy OIDC.
    NbidInapp(PhoneArgs),
    /// Swedish BankID, legacy OIDC.
    SbidInapp {
        #[arg(long)]
        nin: String,
    },
    /// OpenID Connect CIBA (the profile's [ciba] provider), poll mode.
    Ciba {
        /// Who the customer is, as the profile's login_hint_kind says (text, nin_no, pnr_se);
        /// `-` reads it from stdin.
        #[arg(long, required_unless_present = "login_hint_token")]
        login_hint: Option<String>,
        /// A login_hint_token instead of a login hint.
        #[arg(long, conflicts_with = "login_hint")]
        login_hint_token: Option<String>,
        /// The words both screens show (at most 20 characters); generated when absent.
        #[arg(long)]
        binding_message: Option<String>,
        /// With a `[ciba] phone_auth` provider: `user` (the customer called us) or `rp`.
        #[arg(long)]
        call_initiator: Option<String>,
    },
    /// REST redirect flow for an eID without a headless flow (the profile's [redirect]
    /// providers): prints `redirect {url}`, the page the customer completes in a browser, and
    /// polls until the outcome.
    Redirect {
        /// Signicat's provider id: mitid, ftn, smartid, itsme, idin or freja.
        #[arg(long)]
        provider: String,
    },
}

#[derive(Debug, Args)]
pub struct PhoneArgs {
    /// 8 digits.
    #[arg(long)]
    pub phone: String,
    /// YYYY-MM-DD.
    #[arg(long)]
    pub birthdate: String,
}

#[derive(Debug, Subcommand)]
pub enum SignCommand {
    /// Sign API v2, Swedish BankID Phone signing: the text goes to the customer's BankID app.
    SbidPhone {
        /// The personnummer, or `-` to read it from stdin (kept out of the process list).
        #[arg(long)]
        nin: String,
        /// Who called whom: `user` (the customer called us) or `rp` (we called the customer).
        #[arg(long)]
        call_initiator: String,
        #[command(flatten)]
        what: SignWhat,
    },
    /// Sign API v2 by link: prints `signature_url {url}` for the customer's own phone, then
    /// polls until the outcome.
    Link {
        /// `nbid-pki`, or one of the profile's [sign] link_providers.
        #[arg(long)]
        provider: String,
        /// Locks the session to this person; `-` reads it from stdin.
        #[arg(long)]
        nin: Option<String>,
        #[command(flatten)]
        what: SignWhat,
    },
    /// Consent Signature, Norwegian BankID on mobile (legacy OIDC; retired in production).
    Nbid {
        #[command(flatten)]
        who: PhoneArgs,
        #[arg(long)]
        text: String,
    },
    /// Consent Signature, Swedish BankID (legacy OIDC).
    Sbid {
        #[arg(long)]
        nin: String,
        #[arg(long)]
        text: String,
    },
}

/// What is signed: a text, a PDF, or both.
#[derive(Debug, Args)]
pub struct SignWhat {
    #[arg(long, conflicts_with = "text_file")]
    pub text: Option<String>,
    /// The text to sign, from a file (UTF-8).
    #[arg(long)]
    pub text_file: Option<std::path::PathBuf>,
    /// A PDF to sign (size and type are checked before anything is sent).
    #[arg(long)]
    pub pdf: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Store a secret read from stdin (never from the command line).
    Set {
        name: String,
    },
    Delete {
        name: String,
    },
    Status,
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// The profiles (managed ones marked `managed`), the active one, and files that cannot be used.
    List,
    /// The IT department's policy as this desk applies it (`file` is null without one).
    Policy,
    /// Test connection: REST token, OIDC discovery and JWKS, CIBA discovery.
    Check,
}

#[derive(Debug, Args)]
pub struct SimulatorArgs {
    /// 0 = any free port (always 127.0.0.1).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The profile whose keyring secrets the simulator uses (generated and stored when absent).
    #[arg(long, default_value = "simulator")]
    pub profile_name: String,
    /// Multiplies the personas' delays (tests use 0.1).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Replaces every session lifetime (to see expiry quickly).
    #[arg(long)]
    pub session_lifetime: Option<f64>,
    /// Plays a Signicat whose clock is this many seconds ahead of this PC's (negative: behind),
    /// in its HTTP `Date` and times: how a desk with a wrong clock behaves.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub clock_offset: i64,
}
