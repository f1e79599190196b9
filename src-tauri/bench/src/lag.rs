//! Detection lag: the simulator records the instant a customer approves; the engine's
//! `succeeded` event follows at the next poll. Also the engine's own share of showing a binding
//! message: from `started` (emitted once the create answer is parsed) to `binding_message`.
//! Engine and simulator share this process (the Control API approves in-process).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use id_desk_bench::nins::interactive_nins;
use id_desk_bench::sim_info::SimInfo;
use id_desk_core::flow::{EventSink, FlowEvent, FlowId, FlowUpdate, Method, PollConfig};
use id_desk_core::runner::{Engine, FlowRequest, FlowSettings, RawFlowInput};
use id_desk_simulator::{Simulator, SimulatorConfig};

pub struct LagFigures {
    pub interval: Duration,
    pub flows: usize,
    /// Approval instant → `succeeded`, ms.
    pub lag_ms: Vec<f64>,
    /// `started` → `binding_message`, µs.
    pub binding_us: Vec<f64>,
    pub token_requests: u64,
}

type Log = Arc<Mutex<HashMap<FlowId, Vec<(u64, FlowEvent)>>>>;

fn now_ns() -> u64 {
    u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos()).unwrap_or(0)
}

fn events_of(log: &Log, id: &FlowId) -> Vec<(u64, FlowEvent)> {
    log.lock()
        .map(|m| m.get(id).cloned().unwrap_or_default())
        .unwrap_or_default()
}

async fn wait_for(
    log: &Log,
    id: &FlowId,
    pred: impl Fn(&FlowEvent) -> bool,
    within: Duration,
) -> Result<(u64, FlowEvent), String> {
    let until = tokio::time::Instant::now() + within;
    loop {
        if let Some(found) = events_of(log, id).into_iter().find(|(_, e)| pred(e)) {
            return Ok(found);
        }
        if tokio::time::Instant::now() > until {
            return Err(format!(
                "flow {id}: no such event; got {:?}",
                events_of(log, id)
            ));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Runs `flows` Safe Conversation flows polling every `interval`; customers approve at moments
/// spread evenly over two poll cycles, so every phase of the cycle is covered.
pub async fn run(interval: Duration, flows: usize) -> Result<LagFigures, String> {
    // Over HTTPS, so the engine multiplexes its polls on one HTTP/2 connection as it does with
    // Signicat.
    let sim = Simulator::start(SimulatorConfig {
        time_scale: 1.0,
        tls: true,
        ..SimulatorConfig::for_tests()
    })
    .await
    .map_err(|e| format!("simulator: {e}"))?;
    let control = sim.control();
    let info = SimInfo::of(&sim);
    let settings = FlowSettings {
        poll: PollConfig::new(interval, interval),
        ..FlowSettings::default()
    };
    let engine = Engine::new(None, settings.clone())
        .map_err(|e| format!("engine: {e}"))?
        .with_rest_client(info.rest_client()?);
    let log: Log = Arc::default();
    let sink: EventSink = {
        let log = log.clone();
        Arc::new(move |u: FlowUpdate| {
            let at = now_ns();
            if let Ok(mut m) = log.lock() {
                m.entry(u.flow_id).or_default().push((at, u.event));
            }
        })
    };

    // One after the other, so the simulator's session list (oldest first) matches `ids`; the
    // binding message check below proves the pairing.
    let mut ids = Vec::with_capacity(flows);
    for nin in interactive_nins(flows) {
        let mut raw = RawFlowInput::new(Method::NbidSafeConversation);
        raw.nin = Some(nin);
        raw.call_initiator = Some("user".into());
        let req = FlowRequest::parse(&raw, &settings).map_err(|e| format!("input: {e}"))?;
        let id = engine
            .start(req, sink.clone())
            .await
            .map_err(|e| format!("start: {e}"))?;
        wait_for(
            &log,
            &id,
            |e| matches!(e, FlowEvent::BindingMessage { .. }),
            Duration::from_secs(10),
        )
        .await?;
        ids.push(id);
    }
    let sessions = control.sessions();
    if sessions.len() != ids.len() {
        return Err(format!(
            "{} flows but {} sessions",
            ids.len(),
            sessions.len()
        ));
    }
    let spread = interval * 2;
    let approvals = ids
        .iter()
        .zip(&sessions)
        .enumerate()
        .map(|(i, (id, session))| {
            let (log, control) = (log.clone(), control.clone());
            // A stride coprime with most flow counts scatters neighbours over the whole spread.
            let slot = (i * 37) % flows.max(1);
            let delay = spread.mul_f64(slot as f64 / flows.max(1) as f64);
            async move {
                let (_, event) = wait_for(
                    &log,
                    id,
                    |e| matches!(e, FlowEvent::BindingMessage { .. }),
                    Duration::from_secs(1),
                )
                .await?;
                let FlowEvent::BindingMessage { text } = event else {
                    return Err("not a binding message".to_owned());
                };
                if session.binding_message.as_deref() != Some(text.as_str()) {
                    return Err(format!("flow {id} is not session {}", session.id));
                }
                tokio::time::sleep(delay).await;
                control
                    .pick_binding_message(&session.id, &text)
                    .map_err(|e| format!("approve: {e}"))
            }
        });
    for r in futures::future::join_all(approvals).await {
        r?;
    }
    let mut lag_ms = Vec::with_capacity(flows);
    let mut binding_us = Vec::with_capacity(flows);
    for id in &ids {
        match engine.wait(id).await {
            Some(FlowEvent::Succeeded { .. }) => {}
            other => return Err(format!("flow {id} ended with {other:?}")),
        }
    }
    let stats = control.stats();
    for (id, session) in ids.iter().zip(&sessions) {
        let events = events_of(&log, id);
        let at = |pred: fn(&FlowEvent) -> bool| events.iter().find(|(_, e)| pred(e)).map(|x| x.0);
        let started = at(|e| matches!(e, FlowEvent::Started { .. }));
        let binding = at(|e| matches!(e, FlowEvent::BindingMessage { .. }));
        let done = at(|e| matches!(e, FlowEvent::Succeeded { .. }));
        let approved = stats.session(&session.id).approved_at_unix_ns;
        match (started, binding, done, approved) {
            (Some(s), Some(b), Some(d), Some(a)) => {
                binding_us.push(b.saturating_sub(s) as f64 / 1e3);
                lag_ms.push((d as f64 - a as f64) / 1e6);
            }
            _ => return Err(format!("flow {id}: missing instants")),
        }
    }
    let token_requests = stats.token_requests();
    sim.shutdown().await;
    Ok(LagFigures {
        interval,
        flows,
        lag_ms,
        binding_us,
        token_requests,
    })
}
