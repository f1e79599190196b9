//! What a running flow gets from the runner: its identity, where its events go, the staff's
//! cancel, and the few settings every protocol family reads (language, poll cadence).

use super::event::{FlowEvent, FlowId, FlowUpdate, Method};
use crate::messages::Lang;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Receives every event of every flow, in order per flow. Called from the flow's task: keep it
/// quick (forward to a channel, emit a Tauri event, print a line).
pub type EventSink = Arc<dyn Fn(FlowUpdate) + Send + Sync>;

/// The `failed` code for "the customer said no in the BankID app" (REST `ABORT`, legacy
/// `USER_CANCEL`, a rejected signing session). The CLI maps it to its own exit code, so it must stay
/// distinct from every `Error::code()`.
pub const CUSTOMER_ABORTED: &str = "customer_aborted";

/// How often a session is polled. Both intervals are at least [`PollConfig::FLOOR`]: Signicat asks
/// for 1–3 s, and the type refuses anything faster so no profile or test can hammer the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollConfig {
    interval: Duration,
    qr_interval: Duration,
}

impl PollConfig {
    pub const FLOOR: Duration = Duration::from_secs(1);

    /// Values below the floor are raised to it.
    pub fn new(interval: Duration, qr_interval: Duration) -> Self {
        PollConfig {
            interval: interval.max(Self::FLOOR),
            qr_interval: qr_interval.max(Self::FLOOR),
        }
    }
    /// While nothing needs refreshing on screen (default 2 s).
    pub fn interval(&self) -> Duration {
        self.interval
    }
    /// While an animated QR is shown: its payload changes every second (default 1 s).
    pub fn qr_interval(&self) -> Duration {
        self.qr_interval
    }
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig::new(Duration::from_secs(2), Duration::from_secs(1))
    }
}

/// What a running flow gets from the runner.
pub struct FlowContext {
    pub flow_id: FlowId,
    pub method: Method,
    pub sink: EventSink,
    pub cancel: CancellationToken,
    pub lang: Lang,
    pub poll: PollConfig,
}

impl FlowContext {
    /// Emit a non-terminal event (the runner emits the terminal one).
    pub fn emit(&self, event: FlowEvent) {
        (self.sink)(FlowUpdate {
            flow_id: self.flow_id.clone(),
            event,
        });
    }
}

impl fmt::Debug for FlowContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowContext")
            .field("flow_id", &self.flow_id)
            .field("method", &self.method)
            .finish()
    }
}
