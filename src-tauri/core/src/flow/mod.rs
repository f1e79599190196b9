//! Flows: one customer interaction (an authentication or a consent signature) from start to a
//! terminal event. `event` is the vocabulary shared by the window, the CLI and the vault.

pub mod event;

pub use event::{FlowEvent, FlowId, FlowUpdate, Method, SdoRef, Subject};
