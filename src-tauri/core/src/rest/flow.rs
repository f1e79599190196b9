//! Running one REST headless flow: create the session, show what the customer needs (binding
//! message, QR, app link) at once, poll per reference §1.5 until a terminal status, the session's
//! `expiresAt`, or a cancel.

use super::{protocol, CreateSession, RestClient, RestStatus, Session};
use crate::flow::{
    FlowContext, FlowEvent, FlowJob, JobFuture, PollConfig, Subject, CUSTOMER_ABORTED,
};
use crate::identity::mask_nin;
use crate::messages::{BankIdCode, Lang};
use crate::Error;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::time::{Instant, MissedTickBehavior};

/// Which screen artefact this REST flow shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestKind {
    /// Nothing for this screen but words: Norwegian Safe Conversation's binding message, Swedish
    /// BankID Phone's hint codes, the ID card check.
    Push,
    Qr,
    AppLaunch,
    /// Redirect flow: the provider's page is opened in the sandboxed window; an `ABORT` there is
    /// the customer cancelling on this desk's screen, so it ends as `cancelled`.
    Redirect,
}

/// When Signicat sends no readable `expiresAt`, assume its default lifetime (1200 s).
const FALLBACK_LIFETIME: Duration = Duration::from_secs(1200);
/// A cancel sent on our own initiative (local failure) must not hold the flow up for long.
const CLEANUP_CANCEL_BOUND: Duration = Duration::from_secs(3);

/// What has been shown so far, so each event is emitted once per change.
struct Shown<'a> {
    ctx: &'a FlowContext,
    kind: RestKind,
    status: Option<RestStatus>,
    binding_message: bool,
    app_launch: bool,
    qr: Option<String>,
    hint: Option<BankIdCode>,
}

impl Shown<'_> {
    fn observe(&mut self, s: &Session) {
        if !self.binding_message {
            if let Some(text) = s.idp_str("bindingMessage") {
                self.binding_message = true;
                self.ctx
                    .emit(FlowEvent::BindingMessage { text: text.into() });
            }
        }
        if self.kind == RestKind::AppLaunch && !self.app_launch {
            if let Some(token) = s.idp_str("autoStartToken") {
                self.app_launch = true;
                self.ctx.emit(FlowEvent::AppLaunch {
                    url: app_launch_url(token),
                });
            }
        }
        if self.kind == RestKind::Qr && !s.status.is_terminal() {
            match s.idp_str("qrData") {
                Some(q) if self.qr.as_deref() != Some(q) => {
                    self.qr = Some(q.to_string());
                    self.ctx.emit(FlowEvent::Qr { data: q.into() });
                }
                Some(_) => {}
                // Scanned: the QR is gone, so polling slows down again.
                None => self.qr = None,
            }
        }
        if self.status.as_ref() != Some(&s.status) && !s.status.is_terminal() {
            self.ctx.emit(FlowEvent::Progress {
                status: s.status.as_str().to_string(),
                message: status_message(self.ctx.lang, &s.status),
            });
        }
        self.status = Some(s.status.clone());
        // BankID's own words for where the customer is (e.g. confirming the call), when
        // Signicat passes its hint code on.
        if let Some(code) = protocol::hint_code(s).filter(|_| !s.status.is_terminal()) {
            if self.hint.as_ref() != Some(&code) {
                self.ctx.emit(FlowEvent::Progress {
                    status: code.as_str().to_string(),
                    message: code.message(self.ctx.lang, self.kind == RestKind::Qr),
                });
                self.hint = Some(code);
            }
        }
    }

    fn period(&self, poll: &PollConfig) -> Duration {
        if self.qr.is_some() {
            poll.qr_interval()
        } else {
            poll.interval()
        }
    }
}

/// `bankid:///?autostarttoken=<token>&redirect=null` (reference §1.3), the token URL-encoded.
pub fn app_launch_url(token: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    format!("bankid:///?autostarttoken={encoded}&redirect=null")
}

/// A prepared REST session flow, headless or redirect: the runner's [`FlowJob`].
pub struct RestJob {
    client: RestClient,
    body: Box<CreateSession>,
    kind: RestKind,
}

impl RestJob {
    pub fn new(client: RestClient, body: CreateSession, kind: RestKind) -> Self {
        RestJob {
            client,
            body: Box::new(body),
            kind,
        }
    }
}

impl FlowJob for RestJob {
    fn run<'a>(self: Box<Self>, ctx: &'a FlowContext) -> JobFuture<'a> {
        let RestJob { client, body, kind } = *self;
        Box::pin(async move { run_rest_flow(ctx, &client, body, kind).await })
    }
}

/// Run one REST flow to its terminal event (which the caller emits).
///
/// What a flow holds while it waits between polls is what 1,000 flows cost (issue 13). So the
/// create and each poll run in futures of their own, on the heap only while they run; between
/// polls a flow keeps its session id, deadline, what it has shown and its timers (the future
/// measured 3,792 bytes before, 2,080 with the request futures boxed, and less now).
pub(crate) async fn run_rest_flow(
    ctx: &FlowContext,
    rest: &RestClient,
    body: Box<CreateSession>,
    kind: RestKind,
) -> FlowEvent {
    let start = boxed(create_session(ctx, rest, body, kind));
    let Live {
        session_id,
        expires_at,
        deadline,
        mut shown,
    } = match start.await {
        Ok(live) => live,
        Err(terminal) => return *terminal,
    };

    let poll = ctx.poll;
    let mut period = shown.period(&poll);
    let mut ticker = first_ticker(period);
    loop {
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => break,
            _ = tokio::time::sleep_until(deadline) => {
                tracing::info!(flow_id = %ctx.flow_id, "session reached expiresAt without an answer");
                // Our clock says it is over: make sure Signicat (and the customer's app) agree,
                // rather than leave an order the customer could still approve.
                cleanup_cancel(rest, &session_id).await;
                return FlowEvent::Expired;
            }
            _ = ticker.tick() => {}
        }
        let step = boxed(poll_once(
            rest,
            &session_id,
            deadline,
            expires_at,
            &mut shown,
        ));
        let terminal = tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => break,
            t = step => t,
        };
        if let Some(terminal) = terminal {
            return *terminal;
        }
        let next = shown.period(&poll);
        if next != period {
            period = next;
            ticker = self::ticker(period);
        }
    }
    // Only a staff cancel leaves the loop.
    let cancel = boxed(cancel_session(ctx, rest, &session_id));
    cancel.await
}

/// A created session that is still running: all the poll loop needs of it.
struct Live<'a> {
    session_id: String,
    expires_at: OffsetDateTime,
    deadline: Instant,
    shown: Shown<'a>,
}

/// Creates the session and shows what the customer needs. `Err` is the flow's terminal event
/// (the create failed, or the session was over at once).
async fn create_session<'a>(
    ctx: &'a FlowContext,
    rest: &RestClient,
    body: Box<CreateSession>,
    kind: RestKind,
) -> Result<Live<'a>, Box<FlowEvent>> {
    // The create is not raced against a cancel: dropping it half-way would leave a session that may
    // exist (the push went out) with no id to cancel it by. It is bounded by the request timeout.
    let created = match rest.create(&body).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(flow_id = %ctx.flow_id, code = e.code(), "session create failed");
            return Err(Box::new(FlowEvent::failed(&e)));
        }
    };
    let session_id = created.id.clone();
    // The provider's page is checked before the flow says it started: without a usable one the
    // customer could never finish, so the session is ended at once.
    let redirect_url = if kind == RestKind::Redirect {
        match super::redirect::authentication_url(created.authentication_url.as_deref()) {
            Ok(url) => Some(url),
            Err(e) => {
                tracing::warn!(flow_id = %ctx.flow_id, code = e.code(), error = %e, "unusable redirect session");
                cleanup_cancel(rest, &session_id).await;
                return Err(Box::new(FlowEvent::failed(&e)));
            }
        }
    } else {
        None
    };
    // The server's lifetime, counted on our monotonic clock from now: a PC whose clock is off
    // neither expires the flow at once nor waits past the session (issue 23, item 6).
    let lifetime = match created.expires_at {
        Some(at) => crate::flow::clock::server_lifetime(
            at,
            created.server_date,
            crate::flow::bounds::MAX_EXPIRES_IN,
        ),
        None => FALLBACK_LIFETIME,
    };
    let deadline = Instant::now() + lifetime;
    // Shown to staff in their own clock's terms.
    let expires_at = OffsetDateTime::now_utc() + lifetime;
    ctx.emit(FlowEvent::Started {
        flow_id: ctx.flow_id.clone(),
        method: ctx.method,
        expires_at: expires_at.format(&Rfc3339).ok(),
    });
    if let Some(skew) = crate::flow::clock::notable_skew(created.server_date) {
        tracing::warn!(flow_id = %ctx.flow_id, skew_s = skew, "this PC's clock differs from Signicat's");
        ctx.emit(FlowEvent::Progress {
            status: "clock_skew".into(),
            message: crate::messages::clock_skew(skew, ctx.lang),
        });
    }
    tracing::info!(flow_id = %ctx.flow_id, session_id, "session created");
    if let Some(url) = redirect_url {
        ctx.emit(FlowEvent::Redirect { url: url.into() });
    }

    let mut shown = Shown {
        ctx,
        kind,
        status: None,
        binding_message: false,
        app_launch: false,
        qr: None,
        hint: None,
    };
    shown.observe(&created);
    if created.status.is_terminal() {
        return Err(Box::new(terminal_event(ctx, created, kind)));
    }
    Ok(Live {
        session_id,
        expires_at,
        deadline,
        shown,
    })
}

/// One status read. `Some` is the flow's terminal event.
async fn poll_once(
    rest: &RestClient,
    session_id: &str,
    deadline: Instant,
    expires_at: OffsetDateTime,
    shown: &mut Shown<'_>,
) -> Option<Box<FlowEvent>> {
    let ctx = shown.ctx;
    match rest.get(session_id, deadline).await {
        Ok(s) => {
            shown.observe(&s);
            if s.status.is_terminal() {
                return Some(Box::new(terminal_event(ctx, s, shown.kind)));
            }
            None
        }
        // Purged sessions answer 404; past expiresAt that simply means it expired.
        Err(Error::NotFound(_)) if OffsetDateTime::now_utc() >= expires_at => {
            Some(Box::new(FlowEvent::Expired))
        }
        Err(e) => {
            tracing::warn!(flow_id = %ctx.flow_id, code = e.code(), error = %e, "polling failed");
            // The session may still be live on the phone; end it so the customer is not left
            // with an order nobody watches (and BankID does not refuse the next one).
            cleanup_cancel(rest, session_id).await;
            Some(Box::new(FlowEvent::failed(&e)))
        }
    }
}

/// A cancel sent on our own initiative (local failure), bounded.
async fn cleanup_cancel(rest: &RestClient, session_id: &str) {
    let _ = tokio::time::timeout(CLEANUP_CANCEL_BOUND, rest.cancel(session_id)).await;
}

/// Moves a future to the heap, so a waiting flow holds a pointer to it, not its bytes. Call it in
/// a statement of its own and `.await` the box in the next: a temporary lives to the end of its
/// statement, and one that lives across an `.await` keeps its slot in the flow's state even
/// after it was moved out.
fn boxed<F: std::future::Future>(f: F) -> std::pin::Pin<Box<F>> {
    Box::pin(f)
}

/// The first poll comes at a random point inside the first period: flows started together (a
/// batch, or a desk reopening) then poll spread out instead of in lockstep, and a customer who
/// answers at once is seen no later than with a full first period.
///
/// That point is rounded up to a process-wide grid of [`POLL_GRID`], so polls that fall close
/// together are woken in one batch: 1,000 flows spread one by one woke the process about 1,000
/// times a second, and waking cost more CPU than the polls (issue 13).
fn first_ticker(period: Duration) -> tokio::time::Interval {
    use rand::Rng;
    let latest = period.saturating_sub(POLL_GRID).max(FIRST_POLL_MIN);
    let offset = rand::thread_rng().gen_range(FIRST_POLL_MIN.min(latest)..=latest);
    let first = on_grid(Instant::now() + offset);
    let mut t = tokio::time::interval_at(first, period);
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

/// No first poll sooner than this after the create answered (it was a status read itself).
const FIRST_POLL_MIN: Duration = Duration::from_millis(100);
/// Poll instants are multiples of this from a process-wide origin (both poll intervals are whole
/// multiples of it, so later polls stay on the grid).
const POLL_GRID: Duration = Duration::from_millis(50);

/// `at` rounded up to the next point of the grid.
fn on_grid(at: Instant) -> Instant {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let origin = *ORIGIN.get_or_init(Instant::now);
    let since = at.saturating_duration_since(origin).as_nanos();
    let step = POLL_GRID.as_nanos();
    let steps = since.div_ceil(step);
    let rounded = u64::try_from(steps * step).unwrap_or(u64::MAX);
    origin + Duration::from_nanos(rounded)
}

/// Fixed cadence, on the grid: a slow answer delays the next poll instead of bunching polls up
/// afterwards.
fn ticker(period: Duration) -> tokio::time::Interval {
    let mut t = tokio::time::interval_at(on_grid(Instant::now() + period), period);
    t.set_missed_tick_behavior(MissedTickBehavior::Delay);
    t
}

async fn cancel_session(ctx: &FlowContext, rest: &RestClient, session_id: &str) -> FlowEvent {
    match rest.cancel(session_id).await {
        Ok(s) => tracing::info!(flow_id = %ctx.flow_id, status = %s.status, "session cancelled"),
        // Staff asked to stop: the flow ends as cancelled whatever the server said; the log keeps
        // the reason in case the order lingers on the phone.
        Err(e) => {
            tracing::warn!(flow_id = %ctx.flow_id, code = e.code(), error = %e, "cancel call failed")
        }
    }
    FlowEvent::Cancelled
}

/// The terminal event for a terminal status. Documented mapping (the CLI's exit codes rely on it):
/// * `SUCCESS`   → `succeeded {subject}`
/// * `ABORT`     → `failed {code: "customer_aborted"}` (the customer said no in the app); for the
///   redirect flow `cancelled` (the customer pressed cancel on the provider's page at the desk)
/// * `ERROR`     → `failed {code: error.code, or "provider_error"}`
/// * `INVALID`   → `failed {code: "provider_error"}`
/// * `CANCELLED` → `cancelled`, `EXPIRED` → `expired`
fn terminal_event(ctx: &FlowContext, s: Session, kind: RestKind) -> FlowEvent {
    let lang = ctx.lang;
    tracing::info!(flow_id = %ctx.flow_id, status = %s.status, "session finished");
    match s.status {
        RestStatus::Success => match subject_of(&s) {
            Some(subject) => FlowEvent::Succeeded { subject },
            None => FlowEvent::failed(&Error::Protocol(
                "the session succeeded but carries no subject".into(),
            )),
        },
        RestStatus::Abort if kind == RestKind::Redirect => FlowEvent::Cancelled,
        RestStatus::Abort => FlowEvent::Failed {
            code: CUSTOMER_ABORTED.into(),
            message: status_message(lang, &s.status),
        },
        RestStatus::Cancelled => FlowEvent::Cancelled,
        RestStatus::Expired => FlowEvent::Expired,
        RestStatus::Error | RestStatus::Invalid => {
            let err = s.error.unwrap_or_default();
            // Outcomes where staff must act in a particular way get the desk's own code and
            // guidance instead of the provider's words.
            if let Some(own) = err.code.as_deref().and_then(protocol::failed_code) {
                return FlowEvent::Failed {
                    code: own.to_string(),
                    message: crate::messages::error_message(own, lang),
                };
            }
            let code = err
                .code
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| "provider_error".into());
            let message = [err.title, err.detail]
                .into_iter()
                .flatten()
                .filter(|m| !m.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
            FlowEvent::Failed {
                code,
                message: if message.is_empty() {
                    status_message(lang, &s.status)
                } else {
                    message
                },
            }
        }
        // Not reached: only terminal statuses come here.
        RestStatus::Created | RestStatus::WaitingForUser | RestStatus::Unknown(_) => {
            FlowEvent::failed(&Error::Protocol(format!(
                "unexpected status {} at the end of a flow",
                s.status
            )))
        }
    }
}

fn subject_of(s: &Session) -> Option<Subject> {
    let subj = s.subject.as_ref()?;
    let name = subj
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            [&subj.first_name, &subj.middle_name, &subj.last_name]
                .into_iter()
                .flatten()
                .filter(|p| !p.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        });
    let nin = subj.nin.as_ref().and_then(|n| n.value.clone());
    Some(Subject {
        name,
        first_name: subj.first_name.clone(),
        last_name: subj.last_name.clone(),
        date_of_birth: subj.date_of_birth.clone(),
        nin_masked: nin.as_deref().map(mask_nin),
        nin,
        country: subj
            .nin
            .as_ref()
            .and_then(|n| n.issuing_country.clone())
            .or_else(|| provider_country(s)),
        loa: s.loa.clone(),
        risk: subj
            .extra
            .get(protocol::SBID_RISK_ATTRIBUTE)
            .and_then(|v| v.as_str())
            .map(str::to_string),
        locked_to: None,
    })
}

fn provider_country(s: &Session) -> Option<String> {
    match s.provider.as_deref() {
        Some("nbid") => Some("NO".into()),
        Some("sbid") | Some(protocol::SBID_IDCARD_PROVIDER) => Some("SE".into()),
        _ => None,
    }
}

/// The staff-language text for a status (unknown statuses keep their raw code).
fn status_message(lang: Lang, status: &RestStatus) -> String {
    status.message(lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_instants_are_rounded_up_onto_one_grid() {
        let now = Instant::now();
        let a = on_grid(now + Duration::from_millis(130));
        let b = on_grid(now + Duration::from_millis(777));
        for (at, rounded) in [(130, a), (777, b)] {
            let at = now + Duration::from_millis(at);
            assert!(
                rounded >= at && rounded < at + POLL_GRID,
                "{at:?} -> {rounded:?}"
            );
        }
        // Both on the same grid: their distance is a whole number of steps.
        assert_eq!((b - a).as_nanos() % POLL_GRID.as_nanos(), 0);
        assert_eq!(on_grid(a), a, "a grid point stays where it is");
    }

    #[test]
    fn the_first_poll_falls_inside_the_first_period() {
        // Paused: the clock jumps to each timer, so 400 first polls take no real time.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            for period in [PollConfig::FLOOR, Duration::from_secs(2)] {
                for _ in 0..200 {
                    let before = Instant::now();
                    let mut t = first_ticker(period);
                    let first = t.tick().await;
                    assert!(first >= before + FIRST_POLL_MIN, "{:?}", first - before);
                    assert!(
                        first <= before + period,
                        "{:?} after {period:?}",
                        first - before
                    );
                }
            }
        });
    }

    #[test]
    fn poll_intervals_never_go_below_one_second() {
        let p = PollConfig::new(Duration::from_millis(10), Duration::ZERO);
        assert_eq!(p.interval(), PollConfig::FLOOR);
        assert_eq!(p.qr_interval(), PollConfig::FLOOR);
        let d = PollConfig::default();
        assert_eq!(d.interval(), Duration::from_secs(2));
        assert_eq!(d.qr_interval(), Duration::from_secs(1));
    }

    #[test]
    fn app_launch_link_encodes_the_token() {
        assert_eq!(
            app_launch_url("46f6aa68-164d-4e4a-bb56-f3e7b3ab5b80"),
            "bankid:///?autostarttoken=46f6aa68-164d-4e4a-bb56-f3e7b3ab5b80&redirect=null"
        );
        assert_eq!(
            app_launch_url("a&b"),
            "bankid:///?autostarttoken=a%26b&redirect=null"
        );
    }
}
