//! Flows: one customer interaction (an authentication or a consent signature) from start to a
//! terminal event. `event` is the vocabulary shared by the window, the CLI and the vault;
//! `request` validates what staff ask for; `runner` is the engine that runs flows; `poll` runs a
//! REST headless flow; `registry` tracks running and finished flows.

pub mod event;
pub mod poll;
mod registry;
pub mod request;
pub mod runner;

pub use event::{FlowEvent, FlowId, FlowUpdate, Method, SdoRef, Subject};
pub use poll::{PollConfig, CUSTOMER_ABORTED};
pub use request::{FlowRequest, RawFlowInput};
pub use runner::{exit_code, Engine, EventSink, FlowContext, FlowSettings, RunningFlow};
