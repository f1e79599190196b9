//! Non-flow commands: secrets, profiles, history and export. Each prints JSON (one line, or one
//! line per row) with a `type` field, through the same desk facade the window uses.

use std::io::Read;
use std::path::Path;

use id_desk_core::desk::{Desk, DeskPaths, ProfileChoice};
use id_desk_core::flow::FlowId;
use id_desk_core::profile::ProfileStore;
use id_desk_core::secrets::{SecretName, SecretString};
use id_desk_core::vault::HistoryEntry;
use id_desk_core::Error;
use serde_json::json;

use crate::args::{
    ArchiveCommand, Cli, ProfilesCommand, SecretsCommand, SystemDirCommand, VaultCommand,
};
use crate::output::{self, exit};
use crate::session;

/// Secrets belong to a profile *name*: `--profile NAME` need not exist as a file yet (secrets may
/// be stored before the profile is written), `--profile-file` names its profile inside, and
/// without either the active profile is meant.
pub async fn secrets(cli: &Cli, paths: DeskPaths, cmd: &SecretsCommand) -> i32 {
    let target = match session::choice(cli) {
        ProfileChoice::Named(name) => Ok(name),
        ProfileChoice::File(file) => ProfileStore::load_file(&file).map(|p| p.name().to_string()),
        ProfileChoice::Active => Ok(String::new()),
    };
    let target = match target {
        Ok(t) => t,
        Err(e) => return output::failed(&e),
    };
    // The desk is opened on the active profile: only its keyring access is used here.
    let session = match session::open_with(cli, paths, ProfileChoice::Active).await {
        Ok(s) => s,
        Err(e) => return output::failed(&e),
    };
    let desk = &session.desk;
    let profile = if target.is_empty() {
        desk.profile().name().to_string()
    } else {
        target
    };
    let status = match cmd {
        SecretsCommand::Set { name } => set_secret(desk, &profile, name),
        SecretsCommand::Delete { name } => match name.parse::<SecretName>() {
            Ok(name) => match desk.delete_secret(&profile, name) {
                Ok(deleted) => {
                    output::ok_row(
                        "secret_deleted",
                        json!({"profile": profile, "name": name, "deleted": deleted}),
                    );
                    exit::OK
                }
                Err(e) => output::failed(&e),
            },
            Err(e) => output::failed(&e),
        },
        SecretsCommand::Status => match desk.secret_status(&profile) {
            Ok(all) => {
                for s in all {
                    output::ok_row(
                        "secret",
                        json!({"profile": profile, "name": s.name, "stored": s.stored}),
                    );
                }
                exit::OK
            }
            Err(e) => output::failed(&e),
        },
    };
    session.close().await;
    status
}

/// The value comes from stdin only, so it never shows in `ps`, shell history or our output.
fn set_secret(desk: &Desk, profile: &str, name: &str) -> i32 {
    let name = match name.parse::<SecretName>() {
        Ok(n) => n,
        Err(e) => return output::failed(&e),
    };
    let mut value = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut value) {
        return output::failed(&Error::Io(format!(
            "cannot read the secret from stdin: {e}"
        )));
    }
    let value = SecretString::new(value.trim_end_matches(['\r', '\n']).to_string());
    match desk.set_secret(profile, name, value) {
        Ok(()) => {
            output::ok_row("secret_stored", json!({"profile": profile, "name": name}));
            exit::OK
        }
        Err(e) => output::failed(&e),
    }
}

pub async fn profiles(desk: &Desk, cmd: &ProfilesCommand) -> i32 {
    match cmd {
        ProfilesCommand::List => match desk.profiles() {
            Ok(list) => {
                output::line(&output::typed("profiles", &list));
                exit::OK
            }
            Err(e) => output::failed(&e),
        },
        ProfilesCommand::Policy => {
            output::line(&output::typed("policy", desk.policy()));
            exit::OK
        }
        ProfilesCommand::Check => match desk.check(None).await {
            Ok(steps) => {
                let all_ok = steps.iter().all(|s| s.ok);
                for step in &steps {
                    output::line(&output::typed("check", step));
                }
                if all_ok {
                    exit::OK
                } else {
                    exit::OTHER
                }
            }
            Err(e) => output::failed(&e),
        },
    }
}

pub fn history(desk: &Desk, staff: Option<&str>, limit: usize) -> i32 {
    match desk.history(None, None, staff, limit) {
        Ok(rows) => {
            for row in &rows {
                let kind = match row {
                    HistoryEntry::Transaction(_) => "transaction",
                    HistoryEntry::Unreadable(_) => "unreadable_transaction",
                };
                output::line(&output::typed(kind, row));
            }
            exit::OK
        }
        Err(e) => output::failed(&e),
    }
}

pub fn export(desk: &Desk, id: &str, dest: &Path) -> i32 {
    let id = FlowId::from(id.to_string());
    match desk.export(&id, dest) {
        Ok(path) => {
            output::ok_row(
                "exported",
                json!({"flow_id": id, "path": path.display().to_string()}),
            );
            exit::OK
        }
        Err(e) => output::failed(&e),
    }
}

/// `vault purge [--dry-run]`: one `purged` line per transaction (`would_purge` in a dry run), then
/// `purge_report` with the counts. `vault purge-log`: one `purge_log` line each.
pub fn vault(desk: &Desk, cmd: &VaultCommand) -> i32 {
    match cmd {
        VaultCommand::Purge { dry_run } => match desk.purge(*dry_run) {
            Ok(report) => {
                let kind = if report.dry_run {
                    "would_purge"
                } else {
                    "purged"
                };
                for p in &report.purged {
                    output::line(&output::typed(kind, p));
                }
                output::ok_row(
                    "purge_report",
                    json!({
                        "dry_run": report.dry_run,
                        "purged": report.purged.len(),
                        "files": report.purged.iter().map(|p| p.files).sum::<usize>(),
                        "waiting_for_archive": report.waiting_for_archive,
                        "leftover_files_removed": report.leftover_files_removed,
                    }),
                );
                exit::OK
            }
            Err(e) => output::failed(&e),
        },
        VaultCommand::PurgeLog { limit } => match desk.purge_log(*limit) {
            Ok(lines) => {
                for l in &lines {
                    output::line(&output::typed("purge_log", l));
                }
                exit::OK
            }
            Err(e) => output::failed(&e),
        },
    }
}

/// `system-dir check`: one `system_path` line per file the desk would trust (`refused` says why
/// it would not), exit 2 when any is refused. `system-dir protect`: creates the directory as the
/// administrators' alone and prints `system_dir_protected`.
pub fn system_dir(paths: &DeskPaths, cmd: &SystemDirCommand) -> i32 {
    use id_desk_core::managed_trust;
    match cmd {
        SystemDirCommand::Check => {
            let report = managed_trust::report(&paths.system_dir, id_desk_core::policy::FILE);
            for c in &report {
                output::line(&output::typed("system_path", c));
            }
            if report.iter().any(|c| c.refused.is_some()) {
                exit::INVALID
            } else {
                exit::OK
            }
        }
        SystemDirCommand::Protect => match managed_trust::protect(&paths.system_dir) {
            Ok(()) => {
                output::ok_row(
                    "system_dir_protected",
                    json!({ "path": paths.system_dir.display().to_string() }),
                );
                exit::OK
            }
            Err(e) => output::failed(&e),
        },
    }
}

/// `archive status` prints `archive_status`; `archive flush` prints `archive_flushed` and exits 0
/// only when nothing is left waiting (1 otherwise, or on an unreachable archive or refused login).
pub async fn archive(desk: &Desk, cmd: &ArchiveCommand) -> i32 {
    match cmd {
        ArchiveCommand::Status => match desk.archive_status() {
            Ok(status) => {
                output::line(&output::typed("archive_status", &status));
                exit::OK
            }
            Err(e) => output::failed(&e),
        },
        ArchiveCommand::Flush => match desk.archive_flush().await {
            Ok(report) => {
                output::line(&output::typed("archive_flushed", &report));
                if report.waiting == 0 {
                    exit::OK
                } else {
                    exit::OTHER
                }
            }
            Err(e) => output::failed(&e),
        },
    }
}
