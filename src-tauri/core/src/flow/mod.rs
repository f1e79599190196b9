//! The flow vocabulary, at the bottom of the engine: what every protocol family, the runner, the
//! vault, the window and the CLI share. `event` is the wire vocabulary (ids, methods, subjects,
//! evidence, events); `context` is what a running flow gets; `job` is the one interface the runner
//! drives. Nothing here knows a protocol: the families (`rest`, `oidc`, `ciba`, `sign`) build on
//! it, and the runner (`crate::runner`) sits above them.

pub mod bounds;
mod call;
pub mod clock;
mod context;
pub mod event;
mod job;
mod retired;

pub use call::{CallInitiator, USER_DECLINED_CALL};
pub use context::{EventSink, FlowContext, PollConfig, CUSTOMER_ABORTED};
pub use event::{
    Evidence, EvidenceKind, ExpectedIdentity, FlowEvent, FlowId, FlowUpdate, Method, SdoRef,
    Subject,
};
pub use job::{FlowJob, JobFuture};
pub use retired::Retirement;
