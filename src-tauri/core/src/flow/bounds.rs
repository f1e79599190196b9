//! Durations a server hands us, bounded before they are used (issue 23, item 5; review finding
//! L-4). `Instant + Duration` panics on overflow, and a server gone wrong (or a man in the middle)
//! can send `expires_in: 18446744073709551615`: each value is clamped to what the protocol can
//! mean, so arithmetic on it cannot panic and a flow cannot wait for years.

use std::time::Duration;

/// The longest a CIBA request (or any session) may stay open: BankID's own orders last minutes.
pub const MAX_EXPIRES_IN: Duration = Duration::from_secs(3600);
/// The longest pause between two polls a server may ask for.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(60);
/// The longest an access token is trusted without asking again.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A request's lifetime in seconds, as answered: between 1 s and [`MAX_EXPIRES_IN`].
pub fn expires_in(secs: u64) -> Duration {
    Duration::from_secs(secs.clamp(1, MAX_EXPIRES_IN.as_secs()))
}

/// A poll interval in seconds, as answered: between 1 s and [`MAX_POLL_INTERVAL`] (zero would
/// poll in a busy loop; the provider meant "no minimum").
pub fn poll_interval(secs: u64) -> Duration {
    Duration::from_secs(secs.clamp(1, MAX_POLL_INTERVAL.as_secs()))
}

/// A token lifetime in seconds, as answered: between 1 s and [`MAX_TOKEN_LIFETIME`].
pub fn token_lifetime(secs: u64) -> Duration {
    Duration::from_secs(secs.clamp(1, MAX_TOKEN_LIFETIME.as_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn absurd_values_are_clamped_and_instant_arithmetic_cannot_panic() {
        let now = Instant::now();
        for v in [0, 1, 59, 3600, 86_400, u64::MAX / 2, u64::MAX] {
            for d in [expires_in(v), poll_interval(v), token_lifetime(v)] {
                assert!(d >= Duration::from_secs(1));
                assert!(d <= MAX_TOKEN_LIFETIME);
                let _ = now + d;
            }
        }
        assert_eq!(expires_in(u64::MAX), MAX_EXPIRES_IN);
        assert_eq!(poll_interval(0), Duration::from_secs(1));
        assert_eq!(poll_interval(5), Duration::from_secs(5));
        assert_eq!(token_lifetime(600), Duration::from_secs(600));
    }
}
