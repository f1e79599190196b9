//! Request counters and approval instants.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;

use crate::faults::Endpoint;

/// Counters since start or the last reset.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    /// Requests received per endpoint (faulted ones included).
    pub requests: BTreeMap<Endpoint, u64>,
    /// Per REST session id / OIDC order ref.
    pub sessions: BTreeMap<String, SessionStats>,
    /// TCP connections clients made to the simulator.
    pub connections: ConnectionStats,
}

/// What clients did with connections: how many they opened, how many they held at once, and
/// how many spoke HTTP/2 (the benchmark's measure of a client's pool, issue 13).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ConnectionStats {
    /// Accepted since start or the last reset.
    pub accepted: u64,
    /// Open now (the connection that asks for the statistics included).
    pub open: u64,
    /// Most open at once since start or the last reset.
    pub peak_open: u64,
    /// Accepted connections that carried an HTTP/2 request.
    pub http2: u64,
}

impl Stats {
    pub fn count(&self, endpoint: Endpoint) -> u64 {
        self.requests.get(&endpoint).copied().unwrap_or(0)
    }

    /// REST token requests.
    pub fn token_requests(&self) -> u64 {
        self.count(Endpoint::Token)
    }

    /// REST session creates (including rejected ones).
    pub fn creates(&self) -> u64 {
        self.count(Endpoint::Create)
    }

    pub fn session(&self, id: &str) -> SessionStats {
        self.sessions.get(id).cloned().unwrap_or_default()
    }
}

/// What happened to one session.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SessionStats {
    /// Status reads: REST `get`, OIDC status/collect.
    pub polls: u64,
    pub cancels: u64,
    /// Every other request naming this session (complete, ...).
    pub other: u64,
    /// Wall-clock instants of the polls, Unix ns.
    pub poll_unix_ns: Vec<u64>,
    /// When SUCCESS became visible.
    #[serde(skip)]
    pub approved_at: Option<Instant>,
    pub approved_at_unix_ns: Option<u64>,
    /// When the first poll that saw SUCCESS arrived.
    #[serde(skip)]
    pub success_seen_at: Option<Instant>,
}

#[derive(Clone, Default)]
pub(crate) struct Counters {
    inner: Arc<Mutex<Stats>>,
}

impl Counters {
    pub(crate) fn record(&self, endpoint: Endpoint, session: Option<&str>) {
        let mut stats = self.lock();
        *stats.requests.entry(endpoint).or_default() += 1;
        if let Some(id) = session {
            let s = stats.sessions.entry(id.to_owned()).or_default();
            match endpoint {
                Endpoint::Get | Endpoint::Status | Endpoint::Collect | Endpoint::SignGet => {
                    s.polls += 1;
                    s.poll_unix_ns
                        .push(crate::timefmt::unix_ns(time::OffsetDateTime::now_utc()));
                }
                Endpoint::Cancel => s.cancels += 1,
                _ => s.other += 1,
            }
        }
    }

    /// A poll answered SUCCESS for this session (first one wins).
    pub(crate) fn success_seen(&self, id: &str) {
        let mut stats = self.lock();
        let s = stats.sessions.entry(id.to_owned()).or_default();
        s.success_seen_at.get_or_insert_with(Instant::now);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        self.lock().clone()
    }

    pub(crate) fn reset(&self) {
        let mut stats = self.lock();
        let open = stats.connections.open;
        *stats = Stats::default();
        // Connections still open stay counted as open.
        stats.connections.open = open;
        stats.connections.peak_open = open;
    }

    pub(crate) fn connection_opened(&self) {
        let c = &mut self.lock().connections;
        c.accepted += 1;
        c.open += 1;
        c.peak_open = c.peak_open.max(c.open);
    }

    pub(crate) fn connection_closed(&self) {
        let c = &mut self.lock().connections;
        c.open = c.open.saturating_sub(1);
    }

    pub(crate) fn connection_http2(&self) {
        self.lock().connections.http2 += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
