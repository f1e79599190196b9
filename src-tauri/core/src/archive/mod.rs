//! The central archive (issue 17): every finished transaction (row, SDO bytes and SHA-256) shipped
//! from the desk's vault to the bank's PostgreSQL archive, through the vault's outbox.
//!
//! The vault stays the source of truth. A background task owned by the desk delivers what the
//! outbox holds, in batches, idempotently (`ON CONFLICT DO NOTHING` on desk id + transaction id),
//! and marks rows sent only after the server's commit. It never blocks a flow: flows only write
//! the outbox row (in the SQLite transaction of their final status) and wake the task. Offline
//! for hours is normal: the task retries with backoff (and at once when a new row is queued), and
//! catches up when the server answers again.

mod connect;
mod deliver;
mod schema;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Notify;
use tokio_postgres::Client;

use crate::flow::FlowId;
use crate::profile::ArchiveSettings;
use crate::secrets::{SecretName, SecretSource, SecretString};
use crate::vault::{OutboxSummary, OutboxTarget, OwedElsewhere, Vault};
use crate::{Error, Result};

pub use connect::CONNECT_TIMEOUT;
pub use schema::CURRENT_VERSION as SCHEMA_VERSION;

/// Where the desk ships to: the active profile's `[archive]` and where its password is kept.
#[derive(Clone, Debug)]
pub struct Target {
    pub settings: ArchiveSettings,
    /// The profile whose `archive-password` is used.
    pub profile: String,
    pub source: SecretSource,
}

impl Target {
    /// What outbox rows must name to be delivered here.
    pub fn outbox_target(&self) -> OutboxTarget {
        OutboxTarget {
            fingerprint: self.settings.fingerprint(),
            profile: self.profile.clone(),
        }
    }
}

/// How the delivery task paces itself. The defaults suit a branch PC; tests shorten them.
#[derive(Clone, Debug)]
pub struct Tuning {
    /// Transactions per PostgreSQL transaction.
    pub batch_rows: usize,
    /// SDO bytes per batch (a batch always takes at least one row).
    pub batch_bytes: usize,
    /// First wait after a failed delivery; doubled up to `retry_max`.
    pub retry_min: Duration,
    pub retry_max: Duration,
    /// How often an idle task looks at the outbox without being woken (rows queued by another
    /// process sharing the vault, such as `id-desk-cli`).
    pub idle_poll: Duration,
    /// The server ends a statement running longer than this, and gives up waiting for a lock
    /// after `lock_timeout`: delivery and `archive flush` can never hang (review finding M-10).
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            batch_rows: 500,
            batch_bytes: 8 << 20,
            retry_min: Duration::from_secs(2),
            retry_max: Duration::from_secs(300),
            idle_poll: Duration::from_secs(60),
            statement_timeout: Duration::from_secs(30),
            lock_timeout: Duration::from_secs(10),
        }
    }
}

/// What one `flush` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FlushReport {
    /// Transactions the archive did not have before.
    pub inserted: u64,
    /// Transactions the archive already had (a delivery repeated after a crash): marked sent,
    /// not duplicated.
    pub already_archived: u64,
    /// Transactions left waiting because their local evidence cannot be read or no longer matches
    /// its hash (see `last_error` in the status).
    pub skipped: u64,
    /// Transactions the archive holds with other content (status or evidence hash): left waiting
    /// with the conflict as their error, never taken as archived.
    pub conflicts: u64,
    /// Still waiting after this flush.
    pub waiting: u64,
    pub ms: u64,
}

/// The archive as staff and `id-desk-cli archive status` see it.
#[derive(Debug, Clone, Serialize)]
pub struct ArchiveStatus {
    /// The active profile's archive, `None` when it has no `[archive]` section.
    pub url: Option<String>,
    #[serde(flatten)]
    pub outbox: OutboxSummary,
    /// Waiting rows this archive may not receive (recorded for another profile's archive), by
    /// profile: they go when that profile is active again (review N-3).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owed_elsewhere: Vec<OwedElsewhere>,
}

/// The desk's archive delivery: one per desk, shared by the background task and `flush`.
#[derive(Clone)]
pub struct Archiver {
    inner: Arc<Shared>,
}

struct Shared {
    vault: Vault,
    tuning: Tuning,
    wake: Arc<Notify>,
    target: RwLock<Option<Target>>,
    /// One delivery at a time in this process; holds the open connection between deliveries.
    session: tokio::sync::Mutex<Option<Session>>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// An open connection and the target it was opened for.
struct Session {
    client: Client,
    settings: ArchiveSettings,
    profile: String,
}

impl Archiver {
    pub fn new(vault: Vault, tuning: Tuning) -> Archiver {
        Archiver {
            inner: Arc::new(Shared {
                wake: vault.outbox_signal(),
                vault,
                tuning,
                target: RwLock::new(None),
                session: tokio::sync::Mutex::new(None),
                task: Mutex::new(None),
            }),
        }
    }

    /// Ships to `target` from now on (`None`: the active profile has no archive; rows wait).
    pub fn set_target(&self, target: Option<Target>) {
        if let Ok(mut t) = self.inner.target.write() {
            *t = target;
        }
        self.inner.wake.notify_one();
    }

    fn target(&self) -> Option<Target> {
        self.inner.target.read().ok().and_then(|t| t.clone())
    }

    /// Starts the background delivery task on the current tokio runtime (once; a no-op outside a
    /// runtime or when already started).
    pub fn start(&self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Ok(mut task) = self.inner.task.lock() else {
            return;
        };
        if task.is_some() {
            return;
        }
        let me = self.clone();
        *task = Some(handle.spawn(async move { me.run().await }));
    }

    /// Stops the background task. Safe at any point: a delivery cut short between the server's
    /// commit and the local mark is delivered again later, and the archive ignores it.
    pub fn stop(&self) {
        if let Some(task) = self.inner.task.lock().ok().and_then(|mut t| t.take()) {
            task.abort();
        }
    }

    async fn run(self) {
        let t = &self.inner.tuning;
        let mut backoff = t.retry_min;
        loop {
            let wait = match self.flush().await {
                Ok(r) => {
                    if r.inserted + r.already_archived > 0 {
                        tracing::info!(
                            inserted = r.inserted,
                            already_archived = r.already_archived,
                            waiting = r.waiting,
                            ms = r.ms,
                            "archive delivery"
                        );
                    }
                    backoff = t.retry_min;
                    t.idle_poll
                }
                // No archive for this profile: nothing to retry until the target changes.
                Err(Error::InvalidConfig { .. }) => t.idle_poll,
                Err(e) => {
                    tracing::warn!(code = e.code(), error = %e, retry_in_s = backoff.as_secs(), "archive unreachable; transactions wait in the outbox");
                    let w = backoff;
                    backoff = (backoff * 2).min(t.retry_max);
                    w
                }
            };
            tokio::select! {
                _ = self.inner.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Delivers everything waiting now, batch after batch, and reports. An unreachable archive
    /// or a refused login is an error (the rows stay waiting, their attempt counted).
    pub async fn flush(&self) -> Result<FlushReport> {
        let started = Instant::now();
        let target = self.target().ok_or_else(|| {
            Error::invalid_config("archive", "the active profile has no [archive] section")
        })?;
        let mut session = self.inner.session.lock().await;
        let desk_id = self.blocking(|v| v.desk_id()).await?;
        let mut report = FlushReport::default();
        // Rows whose local evidence failed its check in this flush: tried once per flush.
        let mut skipped: HashSet<FlowId> = HashSet::new();
        // Rows the archive holds with other content: reported once per flush, like `skipped`.
        let mut conflicted: HashSet<FlowId> = HashSet::new();
        loop {
            let t = &self.inner.tuning;
            let (rows, bad) = self
                .next_batch(
                    target.outbox_target(),
                    t.batch_rows,
                    t.batch_bytes,
                    skipped.union(&conflicted).cloned().collect(),
                )
                .await?;
            skipped.extend(bad);
            report.skipped = skipped.len() as u64;
            if rows.is_empty() {
                break;
            }
            let ids: Vec<FlowId> = rows.iter().map(|r| r.id().clone()).collect();
            // Beyond the server's own statement timeout: a network that stops answering.
            let bound = t.statement_timeout + connect::CONNECT_TIMEOUT;
            let sent = tokio::time::timeout(bound, async {
                let client = self.client(&mut session, &target).await?;
                deliver::send(client, &desk_id, &rows).await
            })
            .await
            .unwrap_or_else(|_| {
                Err(Error::Archive(format!(
                    "no answer from the archive within {} s",
                    bound.as_secs()
                )))
            });
            match sent {
                Ok(delivered) => {
                    // The server has committed: only now are the rows marked sent.
                    let done = delivered.done;
                    let repeated = (done.len() as u64).saturating_sub(delivered.inserted);
                    self.blocking(move |v| v.outbox_mark_sent(&done)).await?;
                    report.inserted += delivered.inserted;
                    report.already_archived += repeated;
                    report.conflicts += delivered.conflicts.len() as u64;
                    for (id, why) in delivered.conflicts {
                        tracing::error!(flow_id = %id, error = %why, "archive conflict");
                        conflicted.insert(id.clone());
                        self.blocking(move |v| v.outbox_mark_failed(&[id], &why))
                            .await?;
                    }
                }
                Err(e) => {
                    *session = None;
                    let text = e.to_string();
                    self.blocking(move |v| v.outbox_mark_failed(&ids, &text))
                        .await?;
                    return Err(e);
                }
            }
        }
        report.waiting = self.blocking(|v| v.outbox_summary()).await?.waiting;
        report.ms = started.elapsed().as_millis().min(u128::from(u64::MAX)) as u64;
        Ok(report)
    }

    /// The next rows to send, their SDOs read and checked. Rows whose local evidence fails the
    /// check stay waiting with the error recorded; each failed attempt moves a row behind the
    /// others (`Vault::outbox_waiting` serves the fewest attempts first), so it cannot hold up the
    /// queue. They are counted, not sent.
    async fn next_batch(
        &self,
        for_target: OutboxTarget,
        max_rows: usize,
        max_bytes: usize,
        skip: HashSet<FlowId>,
    ) -> Result<(Vec<deliver::Row>, Vec<FlowId>)> {
        let vault = self.inner.vault.clone();
        tokio::task::spawn_blocking(move || {
            let mut rows = Vec::new();
            let mut bad: Vec<(FlowId, Error)> = Vec::new();
            let mut bytes = 0usize;
            for tx in vault.outbox_waiting(&for_target, max_rows)? {
                let id = tx.id.clone();
                if skip.contains(&id) {
                    continue;
                }
                match deliver::prepare(&vault, tx) {
                    Ok(row) => {
                        if !rows.is_empty() && bytes + row.sdo_len() > max_bytes {
                            break;
                        }
                        bytes += row.sdo_len();
                        rows.push(row);
                    }
                    Err(e) => bad.push((id, e)),
                }
            }
            let mut skipped = Vec::with_capacity(bad.len());
            for (id, e) in bad {
                tracing::error!(flow_id = %id, error = %e, "stored evidence cannot be archived");
                vault.outbox_mark_failed(std::slice::from_ref(&id), &e.to_string())?;
                skipped.push(id);
            }
            Ok((rows, skipped))
        })
        .await
        .map_err(|e| Error::Vault(format!("archive batch task failed: {e}")))?
    }

    /// The open connection, or a new one (password read from its source, schema brought up to date).
    async fn client<'a>(
        &self,
        session: &'a mut Option<Session>,
        target: &Target,
    ) -> Result<&'a mut Client> {
        let reusable = session.as_ref().is_some_and(|s| {
            !s.client.is_closed() && s.settings == target.settings && s.profile == target.profile
        });
        if !reusable {
            *session = None;
            let password = password(target).await?;
            let mut client =
                connect::connect(&target.settings, &password, &self.inner.tuning).await?;
            schema::ensure(&mut client).await?;
            *session = Some(Session {
                client,
                settings: target.settings.clone(),
                profile: target.profile.clone(),
            });
        }
        match session.as_mut() {
            Some(s) => Ok(&mut s.client),
            None => Err(Error::Archive("no connection".into())),
        }
    }

    /// Test connection: log in, read the schema version. Creates nothing and sends nothing.
    pub async fn check(target: &Target) -> Result<i64> {
        let password = password(target).await?;
        let client = connect::connect(&target.settings, &password, &Tuning::default()).await?;
        schema::version(&client).await
    }

    pub fn status(&self) -> Result<ArchiveStatus> {
        let target = self.target();
        let owed_elsewhere = self
            .inner
            .vault
            .outbox_owed_elsewhere(target.as_ref().map(Target::outbox_target).as_ref())?;
        Ok(ArchiveStatus {
            url: target.map(|t| t.settings.url()),
            outbox: self.inner.vault.outbox_summary()?,
            owed_elsewhere,
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Vault) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let vault = self.inner.vault.clone();
        tokio::task::spawn_blocking(move || f(&vault))
            .await
            .map_err(|e| Error::Vault(format!("vault task failed: {e}")))?
    }
}

/// The keyring blocks (D-Bus): read it off the async threads.
async fn password(target: &Target) -> Result<SecretString> {
    let source = target.source.clone();
    let profile = target.profile.clone();
    let host = target.settings.host().to_string();
    tokio::task::spawn_blocking(move || {
        source.get_for_host(
            &profile,
            SecretName::ArchivePassword,
            Some(&host),
            "archive.url",
        )
    })
    .await
    .map_err(|e| Error::Keyring(format!("keyring task failed: {e}")))?
}
