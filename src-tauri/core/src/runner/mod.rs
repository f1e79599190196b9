//! The runner, at the top of the engine: validates what staff ask for (`request`), hands it to the
//! protocol family that serves it, and runs the family's [`crate::flow::FlowJob`] in a task of its
//! own (`engine`), keeping track of running and finished flows (`registry`) and of the orders sent
//! to each customer in a phone call (`calls`). It imports the
//! families; no family imports it.

mod calls;
mod engine;
mod registry;
mod request;
mod settings;

pub use calls::{CallLedger, CALL_GAP, MAX_RETRIES};
pub use engine::{exit_code, Engine, RunningFlow};
pub use request::{FlowRequest, RawFlowInput};
pub use settings::FlowSettings;
