//! Signicat's timestamp format: RFC 3339 with 7 fractional digits and an explicit `+00:00`.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

const SIGNICAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]+00:00");

pub(crate) fn signicat(t: OffsetDateTime) -> String {
    let utc = t.to_offset(time::UtcOffset::UTC);
    // Formatting a UTC value with this description cannot fail; keep a readable fallback anyway.
    utc.format(SIGNICAT)
        .unwrap_or_else(|_| utc.unix_timestamp().to_string())
}

pub(crate) fn unix_ns(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp_nanos()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seven_fraction_digits_and_offset() {
        let t = time::macros::datetime!(2026-06-29 11:08:34.949506712 UTC);
        assert_eq!(signicat(t), "2026-06-29T11:08:34.9495067+00:00");
    }
}
