//! The desk's clock against the server's (issue 23, item 6; review finding M-9). A branch PC's
//! clock can be minutes off. Deadlines therefore come from the server's own lifetime (its
//! `expiresAt` minus its `Date`), counted on the monotonic clock, never from comparing the
//! server's wall time with ours; and a desk more than [`SKEW_WARNING`] off is told so.

use std::time::Duration;

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Beyond this, staff are told their PC's clock is off (BankID itself tolerates little more).
pub const SKEW_WARNING: Duration = Duration::from_secs(60);

/// An HTTP `Date` (RFC 9110 IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`); `None` otherwise.
pub fn parse_http_date(raw: &str) -> Option<OffsetDateTime> {
    let fmt = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    PrimitiveDateTime::parse(raw.trim(), &fmt)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Formats `t` as an HTTP `Date` (the simulator's skewed clock uses it too).
pub fn format_http_date(t: OffsetDateTime) -> String {
    let fmt = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

/// How long the server gives a session from its answer on: `expires_at - server_date` when the
/// server said its time, else against our own clock; never negative, at most `max`.
pub fn server_lifetime(
    expires_at: OffsetDateTime,
    server_date: Option<OffsetDateTime>,
    max: Duration,
) -> Duration {
    let now = server_date.unwrap_or_else(OffsetDateTime::now_utc);
    Duration::try_from(expires_at - now)
        .unwrap_or(Duration::ZERO)
        .min(max)
}

/// Seconds our clock is behind (negative: ahead of) the server's, when more than
/// [`SKEW_WARNING`]; `None` when within it or unknown.
pub fn notable_skew(server_date: Option<OffsetDateTime>) -> Option<i64> {
    let skew = server_date? - OffsetDateTime::now_utc();
    (skew.unsigned_abs() > SKEW_WARNING).then(|| skew.whole_seconds())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn http_dates_round_trip_and_junk_is_none() {
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(t, datetime!(1994-11-06 08:49:37 UTC));
        assert_eq!(format_http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn the_lifetime_is_the_servers_whatever_our_clock_says() {
        let server_now = datetime!(2026-12-03 12:00:00 UTC);
        let expires = server_now + time::Duration::seconds(180);
        let max = Duration::from_secs(3600);
        // Our clock plays no part when the server said its time.
        assert_eq!(
            server_lifetime(expires, Some(server_now), max),
            Duration::from_secs(180)
        );
        assert_eq!(
            server_lifetime(expires, Some(expires + time::Duration::seconds(5)), max),
            Duration::ZERO
        );
        assert_eq!(
            server_lifetime(expires + time::Duration::days(400), Some(server_now), max),
            max
        );
        assert_eq!(notable_skew(None), None);
        assert_eq!(notable_skew(Some(OffsetDateTime::now_utc())), None);
        let ahead = notable_skew(Some(OffsetDateTime::now_utc() + time::Duration::minutes(5)));
        assert!(ahead.is_some_and(|s| (295..=305).contains(&s)), "{ahead:?}");
    }
}
