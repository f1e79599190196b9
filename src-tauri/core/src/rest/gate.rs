//! How many requests the shared REST client has in flight to Signicat, and so how many
//! connections it holds (issue 13).
//!
//! reqwest opens a new HTTP/1.1 connection for every request that finds none idle, so 1,000 flows
//! that start together used to open hundreds. The gate lets one request through until the first
//! answer says which protocol the server speaks, then sizes itself once:
//! * HTTP/2 (offered by ALPN over TLS): all requests share one multiplexed connection, at most
//!   [`HTTP2_STREAMS`] at a time, so a burst of creates does not hold a thousand requests'
//!   buffers at once;
//! * HTTP/1.1: at most [`HTTP1_IN_FLIGHT`] requests in flight. A connection goes back to the pool
//!   a moment after its answer has been read (hyper returns it from a task of its own), so a
//!   request let through in that moment may open another: the pool can reach twice the requests
//!   in flight, [`HTTP1_CONNECTIONS`], and keeps that many idle for reuse.
//!
//! A request waits here before it is built and sent, never after: the wait is not part of its
//! timeout, and a session create that waits has not reached the server (queueing is not a retry).

use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{Semaphore, SemaphorePermit};

/// Requests in flight at once over HTTP/1.1.
pub const HTTP1_IN_FLIGHT: usize = 4;
/// Connections to one Signicat origin over HTTP/1.1, at most.
pub const HTTP1_CONNECTIONS: usize = 2 * HTTP1_IN_FLIGHT;
/// Requests in flight at once on the HTTP/2 connection.
pub const HTTP2_STREAMS: usize = 32;

#[derive(Debug)]
pub(crate) struct ConnectionGate {
    permits: Semaphore,
    /// The first answer came over HTTP/2.
    multiplexed: AtomicBool,
    /// The first answer has arrived and the permits have been added.
    sized: AtomicBool,
}

impl ConnectionGate {
    pub fn new() -> Self {
        ConnectionGate {
            permits: Semaphore::new(1),
            multiplexed: AtomicBool::new(false),
            sized: AtomicBool::new(false),
        }
    }

    /// Waits for a turn. Hold the permit until the body is read: over HTTP/1.1 the connection is
    /// busy until then.
    pub async fn enter(&self) -> Option<SemaphorePermit<'_>> {
        // The semaphore is never closed; if it were, letting the request through is the safe side.
        self.permits.acquire().await.ok()
    }

    /// Records the protocol of an answer; the first one sizes the gate. A server that changes
    /// protocol later keeps the first size: HTTP/2 then HTTP/1.1 could hold up to
    /// [`HTTP2_STREAMS`] connections, still bounded.
    pub fn answered_over(&self, version: reqwest::Version) {
        if self.sized.swap(true, Ordering::Relaxed) {
            return;
        }
        let h2 = version == reqwest::Version::HTTP_2;
        self.multiplexed.store(h2, Ordering::Relaxed);
        let size = if h2 { HTTP2_STREAMS } else { HTTP1_IN_FLIGHT };
        self.permits.add_permits(size - 1);
    }

    /// Whether the first answer came over HTTP/2.
    pub fn multiplexed(&self) -> bool {
        self.multiplexed.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn admitted(gate: &ConnectionGate) -> Vec<SemaphorePermit<'_>> {
        let mut held = Vec::new();
        while let Ok(Some(p)) = tokio::time::timeout(Duration::from_millis(20), gate.enter()).await
        {
            held.push(p);
        }
        held
    }

    #[tokio::test]
    async fn one_request_until_the_first_answer_then_four_over_http1() {
        let gate = ConnectionGate::new();
        let first = admitted(&gate).await;
        assert_eq!(first.len(), 1, "more than one request before any answer");
        gate.answered_over(reqwest::Version::HTTP_11);
        drop(first);
        let held = admitted(&gate).await;
        assert_eq!(held.len(), HTTP1_IN_FLIGHT);
        assert!(!gate.multiplexed());
        // Later answers do not resize it.
        gate.answered_over(reqwest::Version::HTTP_11);
        gate.answered_over(reqwest::Version::HTTP_2);
        assert!(admitted(&gate).await.is_empty());
    }

    #[tokio::test]
    async fn http2_admits_more_streams_on_its_one_connection() {
        let gate = ConnectionGate::new();
        let first = admitted(&gate).await;
        gate.answered_over(reqwest::Version::HTTP_2);
        drop(first);
        assert!(gate.multiplexed());
        assert_eq!(admitted(&gate).await.len(), HTTP2_STREAMS);
    }
}
