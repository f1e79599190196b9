//! Poll mode (CIBA Core §7.3, §11): the token endpoint is asked every `interval` seconds until the
//! customer has answered. `slow_down` adds 5 s to the interval for the rest of the flow.

use std::time::Duration;

use serde::Deserialize;

use crate::messages::BankIdCode;
use tokio::time::Instant;

/// CIBA Core §7.3: "If no value is provided, clients MUST use 5 as the default value."
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
/// RFC 8628 §3.5, which CIBA §11 refers to: each `slow_down` adds 5 s, and it stays added.
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// Transport hiccups tolerated in a row while polling (a token poll is safe to repeat).
pub const MAX_CONSECUTIVE_GLITCHES: u32 = 3;

/// When to ask next. Pure, so its rules are tested without a clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    interval: Duration,
    deadline: Instant,
}

impl Schedule {
    /// `interval` as the provider answered it (seconds), `deadline` when the request expires.
    pub fn new(interval_secs: Option<u64>, deadline: Instant) -> Self {
        let interval = match interval_secs {
            // Zero would poll in a busy loop (kept at 1 s); an absurd value is capped.
            Some(s) => crate::flow::bounds::poll_interval(s),
            None => DEFAULT_INTERVAL,
        };
        Schedule { interval, deadline }
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    pub fn slow_down(&mut self) {
        self.interval =
            (self.interval + SLOW_DOWN_STEP).min(crate::flow::bounds::MAX_POLL_INTERVAL);
    }

    /// The next poll after one made at `last`, or `None` once that is past the deadline (the
    /// request has expired: asking again can only answer `expired_token`).
    pub fn next_after(&self, last: Instant) -> Option<Instant> {
        let next = last.checked_add(self.interval)?;
        (next <= self.deadline).then_some(next)
    }
}

/// The token endpoint's answer to a CIBA grant, success or error.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TokenAnswer {
    pub access_token: Option<String>,
    pub id_token: Option<String>,
    pub token_type: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// What one poll means for the flow.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PollOutcome {
    Pending,
    SlowDown,
    Denied,
    Expired,
    /// Another OAuth error: the flow fails with it.
    Error {
        code: String,
        description: Option<String>,
    },
}

impl PollOutcome {
    pub fn of_error(code: &str, description: Option<&str>) -> PollOutcome {
        match code {
            "authorization_pending" => PollOutcome::Pending,
            "slow_down" => PollOutcome::SlowDown,
            // A phone authentication the customer declined in BankID ("I am not in a call with
            // you"): its own outcome, not a cancel [decided, rest/PROTOCOL.md R8].
            "access_denied"
                if description.is_some_and(|d| {
                    BankIdCode::parse(d.trim()) == BankIdCode::UserDeclinedCall
                }) =>
            {
                PollOutcome::Error {
                    code: "userDeclinedCall".into(),
                    description: None,
                }
            }
            "access_denied" => PollOutcome::Denied,
            "expired_token" => PollOutcome::Expired,
            other => PollOutcome::Error {
                code: other.to_string(),
                description: description.map(str::to_string),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_defaults_to_five_seconds_and_slow_down_keeps_adding() {
        let t0 = Instant::now();
        let mut s = Schedule::new(None, t0 + Duration::from_secs(120));
        assert_eq!(s.interval(), Duration::from_secs(5));
        assert_eq!(s.next_after(t0), Some(t0 + Duration::from_secs(5)));
        s.slow_down();
        s.slow_down();
        assert_eq!(s.interval(), Duration::from_secs(15));
        assert_eq!(s.next_after(t0), Some(t0 + Duration::from_secs(15)));
        assert_eq!(
            Schedule::new(Some(2), t0).interval(),
            Duration::from_secs(2)
        );
        assert_eq!(
            Schedule::new(Some(0), t0).interval(),
            Duration::from_secs(1)
        );
    }

    /// Issue 23, item 5: a provider's absurd `interval` is capped, and slowing down keeps to the
    /// cap, so no arithmetic on it can panic.
    #[test]
    fn an_absurd_interval_is_capped_and_slowing_down_stays_under_the_cap() {
        let t0 = Instant::now();
        let mut s = Schedule::new(Some(u64::MAX), t0 + Duration::from_secs(3600));
        assert_eq!(s.interval(), crate::flow::bounds::MAX_POLL_INTERVAL);
        for _ in 0..100 {
            s.slow_down();
        }
        assert_eq!(s.interval(), crate::flow::bounds::MAX_POLL_INTERVAL);
        assert_eq!(s.next_after(t0), Some(t0 + Duration::from_secs(60)));
    }

    #[test]
    fn no_poll_is_planned_past_the_deadline() {
        let t0 = Instant::now();
        let s = Schedule::new(Some(5), t0 + Duration::from_secs(7));
        assert!(s.next_after(t0).is_some());
        assert_eq!(s.next_after(t0 + Duration::from_secs(5)), None);
    }

    #[test]
    fn errors_map_to_outcomes() {
        assert_eq!(
            PollOutcome::of_error("authorization_pending", None),
            PollOutcome::Pending
        );
        assert_eq!(
            PollOutcome::of_error("slow_down", None),
            PollOutcome::SlowDown
        );
        assert_eq!(
            PollOutcome::of_error("access_denied", None),
            PollOutcome::Denied
        );
        assert_eq!(
            PollOutcome::of_error("access_denied", Some("userDeclinedCall")),
            PollOutcome::Error {
                code: "userDeclinedCall".into(),
                description: None
            }
        );
        assert_eq!(
            PollOutcome::of_error("expired_token", None),
            PollOutcome::Expired
        );
        assert_eq!(
            PollOutcome::of_error("transaction_failed", Some("x")),
            PollOutcome::Error {
                code: "transaction_failed".into(),
                description: Some("x".into())
            }
        );
    }
}
