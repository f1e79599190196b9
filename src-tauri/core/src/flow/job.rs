//! The one interface the runner drives. Each protocol family (REST authentication, REST redirect,
//! legacy OIDC, CIBA, Sign API v2) turns a validated request into a [`FlowJob`] before anything is
//! spawned, so configuration errors surface at start; the runner then only calls [`FlowJob::run`].

use super::context::FlowContext;
use super::event::FlowEvent;
use std::future::Future;
use std::pin::Pin;

/// A flow's future, on the heap: a task's size is that of its largest possible state, and the
/// families differ several-fold (issue 13: bytes per flow).
pub type JobFuture<'a> = Pin<Box<dyn Future<Output = FlowEvent> + Send + 'a>>;

/// One prepared flow of some protocol family.
///
/// `run` emits the flow's non-terminal events through `ctx.emit` and *returns* its terminal event;
/// the runner emits that one, records it for `wait` and frees the customer's identity. It must
/// watch `ctx.cancel` while waiting and return [`FlowEvent::Cancelled`] promptly (quitting the app
/// allows 3 s in all), except while a session create is in flight (dropping it could orphan a
/// session that already pushed to a phone) or once a customer has signed (the evidence is always
/// fetched and kept).
pub trait FlowJob: Send {
    fn run<'a>(self: Box<Self>, ctx: &'a FlowContext) -> JobFuture<'a>;
}
