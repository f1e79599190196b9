//! Bookkeeping of flows: which are running (for the list, one-flow-per-identity and cancel), and
//! the terminal event of recently finished ones (so `wait` works even after a fast flow ended).

use crate::flow::{FlowEvent, FlowId, Method};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use tokio_util::sync::CancellationToken;

/// How many finished flows keep their terminal event for `wait`.
const FINISHED_KEPT: usize = 1024;

/// A running flow as the window lists it. Never carries a full identity number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunningFlow {
    pub flow_id: FlowId,
    pub method: Method,
    /// RFC 3339.
    pub started_at: String,
    /// e.g. `2912*******` or `+47 *****766`; `None` for an open QR.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_masked: Option<String>,
}

pub(crate) struct Entry {
    pub info: RunningFlow,
    pub identity_key: Option<String>,
    pub cancel: CancellationToken,
    /// Fired once the terminal event is in `finished`. A token rather than a `watch` channel:
    /// 112 bytes instead of 592 per flow, and waiting on it cannot miss the moment.
    pub done: CancellationToken,
}

#[derive(Default)]
pub(crate) struct Registry {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    running: HashMap<FlowId, Entry>,
    /// Identity key → its running flow, so a start checks in constant time, not by a scan.
    identities: HashMap<String, FlowId>,
    finished: HashMap<FlowId, FlowEvent>,
    finished_order: VecDeque<FlowId>,
}

/// What `wait` found.
pub(crate) enum Lookup {
    Finished(Box<FlowEvent>),
    Running(CancellationToken),
    Unknown,
}

impl Registry {
    // The lock is never held across an await, and nothing in it can panic while held, but a
    // poisoned lock must not take the whole engine down: recover the data.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Register a flow unless another running flow has the same identity key (checked and inserted
    /// under one lock, so two simultaneous starts cannot both pass). Returns the other flow's id.
    pub fn insert(&self, id: FlowId, entry: Entry) -> Result<(), FlowId> {
        let mut inner = self.lock();
        if let Some(key) = &entry.identity_key {
            if let Some(other) = inner.identities.get(key) {
                return Err(other.clone());
            }
            inner.identities.insert(key.clone(), id.clone());
        }
        inner.running.insert(id, entry);
        Ok(())
    }

    /// The flow running for this customer, if any.
    pub fn running_for(&self, identity_key: &str) -> Option<FlowId> {
        self.lock().identities.get(identity_key).cloned()
    }

    pub fn finish(&self, id: &FlowId, event: FlowEvent) {
        let mut inner = self.lock();
        let done = inner.running.remove(id).map(|entry| {
            if let Some(key) = &entry.identity_key {
                inner.identities.remove(key);
            }
            entry.done
        });
        inner.finished.insert(id.clone(), event);
        inner.finished_order.push_back(id.clone());
        while inner.finished_order.len() > FINISHED_KEPT {
            if let Some(old) = inner.finished_order.pop_front() {
                inner.finished.remove(&old);
            }
        }
        drop(inner);
        if let Some(done) = done {
            done.cancel();
        }
    }

    /// The terminal event of a finished flow still kept.
    pub fn finished(&self, id: &FlowId) -> Option<FlowEvent> {
        self.lock().finished.get(id).cloned()
    }

    pub fn lookup(&self, id: &FlowId) -> Lookup {
        let inner = self.lock();
        if let Some(ev) = inner.finished.get(id) {
            return Lookup::Finished(Box::new(ev.clone()));
        }
        match inner.running.get(id) {
            Some(e) => Lookup::Running(e.done.clone()),
            None => Lookup::Unknown,
        }
    }

    /// The cancel token and completion signal of a running flow.
    pub fn control(&self, id: &FlowId) -> Option<(CancellationToken, CancellationToken)> {
        self.lock()
            .running
            .get(id)
            .map(|e| (e.cancel.clone(), e.done.clone()))
    }

    pub fn all_controls(&self) -> Vec<(CancellationToken, CancellationToken)> {
        self.lock()
            .running
            .values()
            .map(|e| (e.cancel.clone(), e.done.clone()))
            .collect()
    }

    pub fn running(&self) -> Vec<RunningFlow> {
        let mut v: Vec<RunningFlow> = self
            .lock()
            .running
            .values()
            .map(|e| e.info.clone())
            .collect();
        v.sort_by(|a, b| a.started_at.cmp(&b.started_at));
        v
    }
}
