//! What asks the CLI to stop: SIGINT and SIGTERM on Unix; on Windows Ctrl+C, Ctrl+Break and the
//! console closing (or logoff / shutdown), which Windows would otherwise end the process on at
//! once. Registered before anything is sent, so none of them can kill us mid-create; each is
//! answered by cancelling at Signicat first.

#[cfg(unix)]
pub struct StopSignals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl StopSignals {
    pub fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(StopSignals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    /// Waits for the next stop request; says which in the log.
    pub async fn recv(&mut self) {
        tokio::select! {
            _ = self.int.recv() => tracing::info!("SIGINT: stopping"),
            _ = self.term.recv() => tracing::info!("SIGTERM: stopping"),
        }
    }
}

#[cfg(windows)]
pub struct StopSignals {
    rx: tokio::sync::mpsc::UnboundedReceiver<id_desk_windows::ConsoleStop>,
}

#[cfg(windows)]
impl StopSignals {
    pub fn install() -> std::io::Result<Self> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        id_desk_windows::on_console_stop(move |event| {
            let _ = tx.send(event);
        })?;
        Ok(StopSignals { rx })
    }

    /// Waits for the next stop request; says which in the log.
    pub async fn recv(&mut self) {
        match self.rx.recv().await {
            Some(event) => tracing::info!(?event, "console stop event: stopping"),
            // The sender lives in a static for the whole process: never reached.
            None => std::future::pending().await,
        }
    }
}
