//! Date helpers shared by the validators: building a date that must exist, today's date, and the
//! "latest century that is not in the future" rule used by two-digit years.

use time::{Date, Month};

/// The calendar date if it exists (`None` for 31 April, 29 February in a common year, ...).
pub(crate) fn date(year: i32, month: u32, day: u32) -> Option<Date> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()
}

/// Today in UTC. A day's difference from local time only matters for people born today.
pub(crate) fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

/// The latest year ending in `yy` whose `month`/`day` falls on or before `latest`.
/// Returns the year even when that date does not exist in it (29 February); the caller checks.
pub(crate) fn latest_year(yy: u32, month: u32, day: u32, latest: Date) -> i32 {
    let this_year = latest.year();
    let yy = yy as i32;
    let mut year = this_year - (this_year - yy).rem_euclid(100);
    let later_this_year =
        (month, day) > (u32::from(u8::from(latest.month())), u32::from(latest.day()));
    if year == this_year && later_this_year {
        year -= 100;
    }
    year
}

/// Parses a string of ASCII digits into a number; `None` if any other character is present.
pub(crate) fn digits_value(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn latest_year_is_not_in_the_future() {
        let today = date!(2026 - 06 - 15);
        assert_eq!(latest_year(26, 6, 15, today), 2026);
        assert_eq!(latest_year(26, 6, 16, today), 1926);
        assert_eq!(latest_year(83, 12, 7, today), 1983);
        assert_eq!(latest_year(0, 1, 1, today), 2000);
        assert_eq!(latest_year(25, 12, 31, today), 2025);
    }

    #[test]
    fn dates_must_exist() {
        assert!(date(2000, 2, 29).is_some());
        assert!(date(1900, 2, 29).is_none());
        assert!(date(2026, 4, 31).is_none());
        assert!(date(2026, 13, 1).is_none());
        assert!(date(2026, 0, 1).is_none());
        assert!(date(2026, 1, 0).is_none());
        assert!(date(2026, 1, 300).is_none());
    }
}
