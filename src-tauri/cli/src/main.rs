//! `id-desk-cli`: every ID Desk flow from a terminal. stdout carries JSON Lines in the engine's
//! event vocabulary (the contract scripts rely on); logs go to stderr and the log file. Exit codes:
//! 0 succeeded/signed, 2 invalid input or configuration (nothing sent), 3 aborted by the customer,
//! 4 expired, 5 cancelled (SIGINT/SIGTERM cancel the session at Signicat first), 1 anything else.

mod admin;
mod args;
mod flow_cmd;
mod output;
mod session;
mod simulator_cmd;
mod stop;

use std::process::ExitCode;
use std::time::Duration;

use clap::error::ErrorKind;
use clap::Parser;
use id_desk_core::desk::DeskPaths;

use args::{Cli, Command};
use output::exit;

fn main() -> ExitCode {
    id_desk_core::owner_only_by_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            e.exit()
        }
        Err(e) => {
            eprintln!("{e}");
            return code(output::invalid("arguments", &first_line(&e.to_string())));
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return code(exit::OTHER);
        }
    };
    let status = runtime.block_on(run(cli));
    // Blocking keyring or file calls still running must not hold the exit up.
    runtime.shutdown_timeout(Duration::from_secs(1));
    code(status)
}

fn code(status: i32) -> ExitCode {
    ExitCode::from(u8::try_from(status).unwrap_or(1))
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string()
}

async fn run(cli: Cli) -> i32 {
    let paths = match &cli.data_dir {
        Some(dir) => DeskPaths::under(dir),
        None => match DeskPaths::from_os() {
            Ok(p) => p,
            Err(e) => return output::failed(&e),
        },
    };
    let format = id_desk_core::policy::log_format(&paths.system_dir);
    let _log = match id_desk_core::logging::init(&paths.log_dir, cli.verbose, format) {
        Ok(guard) => Some(guard),
        Err(e) => {
            eprintln!("logging to a file is off: {e}");
            None
        }
    };
    match &cli.command {
        Command::Simulator(args) => simulator_cmd::run(args).await,
        Command::Secrets(cmd) => admin::secrets(&cli, paths, cmd).await,
        Command::SystemDir(cmd) => admin::system_dir(&paths, cmd),
        command => {
            let session = match session::open(&cli, paths).await {
                Ok(s) => s,
                Err(e) => return output::failed(&e),
            };
            if matches!(command, Command::Auth(_) | Command::Sign(_)) {
                // A desk that runs flows from a terminal ships them too.
                session.desk.start_archive_delivery();
            }
            let status = match command {
                Command::Auth(a) => match flow_cmd::auth_input(a) {
                    Ok(raw) => flow_cmd::run(&session.desk, raw).await,
                    Err(e) => output::failed(&e),
                },
                Command::Sign(s) => match flow_cmd::sign_input(s) {
                    Ok(raw) => flow_cmd::run(&session.desk, raw).await,
                    Err(e) => output::failed(&e),
                },
                Command::Profiles(p) => admin::profiles(&session.desk, p).await,
                Command::History { limit, staff } => {
                    admin::history(&session.desk, staff.as_deref(), *limit)
                }
                Command::Export {
                    transaction_id,
                    path,
                } => admin::export(&session.desk, transaction_id, path),
                Command::Archive(a) => admin::archive(&session.desk, a).await,
                Command::Vault(v) => admin::vault(&session.desk, v),
                Command::Simulator(_) | Command::Secrets(_) | Command::SystemDir(_) => exit::OTHER,
            };
            session.close().await;
            status
        }
    }
}
