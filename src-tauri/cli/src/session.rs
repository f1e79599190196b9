//! Opening the desk for one command: the profile chosen on the command line, or the active one,
//! or Training (whose in-process simulator is started only when the choice needs it).

use id_desk_core::desk::{training, Desk, DeskPaths, ProfileChoice};
use id_desk_core::Result;
use id_desk_simulator::Simulator;

use crate::args::Cli;

pub struct Session {
    pub desk: Desk,
    /// Training's simulator lives exactly as long as the desk that talks to it.
    simulator: Option<Simulator>,
}

pub fn choice(cli: &Cli) -> ProfileChoice {
    match (&cli.profile, &cli.profile_file) {
        (_, Some(file)) => ProfileChoice::File(file.clone()),
        (Some(name), None) => ProfileChoice::Named(name.clone()),
        (None, None) => ProfileChoice::Active,
    }
}

/// How long a CLI command waits for interrupted signatures to be settled before it goes on.
const RECOVERY_BOUND: std::time::Duration = std::time::Duration::from_secs(60);

pub async fn open(cli: &Cli, paths: DeskPaths) -> Result<Session> {
    open_with(cli, paths, choice(cli)).await
}

pub async fn open_with(cli: &Cli, paths: DeskPaths, choice: ProfileChoice) -> Result<Session> {
    let (simulator, training) = if Desk::needs_training(&paths, &choice) {
        let (sim, t) = training::start().await?;
        tracing::info!(url = %t.base_url, "Training mode: the in-process simulator plays Signicat");
        (Some(sim), Some(t))
    } else {
        (None, None)
    };
    let desk = Desk::open(paths, choice, training)?;
    if let Some(lang) = cli.lang {
        desk.use_lang(lang.into());
    }
    // A signature that was running when the last process died may have been signed since: its
    // evidence is fetched now, before this command reads or adds anything (bounded; a session
    // Signicat cannot answer for is left for the next start).
    if desk.has_signatures_to_recover() {
        match tokio::time::timeout(RECOVERY_BOUND, desk.recover_signatures()).await {
            Ok(Ok(n)) => tracing::info!(signed = n, "interrupted signatures settled"),
            Ok(Err(e)) => {
                tracing::warn!(code = e.code(), error = %e, "settling interrupted signatures failed")
            }
            Err(_) => tracing::warn!(
                "settling interrupted signatures took too long; trying again next time"
            ),
        }
    }
    Ok(Session { desk, simulator })
}

impl Session {
    /// Cancels whatever still runs at Signicat (bounded), then stops Training's simulator.
    pub async fn close(self) {
        self.desk.shutdown().await;
        if let Some(sim) = self.simulator {
            sim.shutdown().await;
        }
    }
}
