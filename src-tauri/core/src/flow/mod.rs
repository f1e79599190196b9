//! Flows: one customer interaction (an authentication or a consent signature) from start to a
//! terminal event. `event` is the vocabulary shared by the window, the CLI and the vault;
//! `request` validates what staff ask for; `runner` is the engine that runs flows; `poll` runs a
//! REST headless or redirect flow; `redirect` holds the redirect flow's providers and the sandboxed
//! window's navigation rules; `registry` tracks running and finished flows.

pub mod event;
pub mod poll;
pub mod redirect;
mod registry;
pub mod request;
pub mod runner;

pub use event::{FlowEvent, FlowId, FlowUpdate, Method, SdoRef, Subject};
pub use poll::{PollConfig, CUSTOMER_ABORTED};
pub use redirect::RedirectProvider;
pub use request::{FlowRequest, RawFlowInput};
pub use runner::{exit_code, Engine, EventSink, FlowContext, FlowSettings, RunningFlow};
