//! Swedish BankID Digital ID card (REST provider `sbid-idcard`): staff scan the QR code the
//! customer's BankID app shows, and the relying party sends what the scanner read as
//! `additionalParameters.sbid_idcard_qr_data`.
//!
//! BankID's real payload is opaque and signed; the simulator uses a format of its own so tests and
//! Training can produce cards for any personnummer:
//!
//! ```text
//! BANKIDF.<uppercase hex of the UTF-8 string "{personnummer}:{issued_unix_seconds}">
//! ```
//!
//! e.g. `198304062717` issued at `1700000000` is
//! `BANKIDF.3139383330343036323731373A31373030303030303030`. A payload is valid for [`VALIDITY`]
//! (scaled by `SimulatorConfig::time_scale`) from its issue time. [`crate::Control::idcard_qr`]
//! and `POST /_sim/idcard` issue one for now.
//!
//! What a headless `sbid-idcard` session does with the value:
//!
//! | `sbid_idcard_qr_data`                                   | Outcome                              |
//! |---------------------------------------------------------|--------------------------------------|
//! | missing, empty, or not starting with `BANKIDF.`         | 400 `invalidParams`                  |
//! | `BANKIDF.` + bad hex / no `:` / invalid personnummer / bad or future time | created, then ERROR `invalidQrData` |
//! | issued longer ago than the validity                     | created, then ERROR `idCardQrExpired` |
//! | valid                                                   | CREATED, SUCCESS 1 s (scaled) later  |

use std::time::Duration;

use time::OffsetDateTime;

use crate::persona::{FailCode, Scenario, Step};

/// The REST provider name.
pub(crate) const PROVIDER: &str = "sbid-idcard";

/// Every ID card payload starts with this (BankID's prefix too).
pub const PREFIX: &str = "BANKIDF.";

/// How long a payload may be used after it was issued, in real time (scaled like persona delays).
pub const VALIDITY: Duration = Duration::from_secs(30);

/// From the request to SUCCESS for a valid card, unscaled.
const CHECK_DELAY: Duration = Duration::from_secs(1);

/// The simulator's payload for `nin` issued at `issued_unix` (seconds since the Unix epoch). The
/// number is not checked here: tests use it to build unreadable cards too.
pub fn qr_data(nin: &str, issued_unix: i64) -> String {
    format!(
        "{PREFIX}{}",
        hex::encode_upper(format!("{nin}:{issued_unix}").as_bytes())
    )
}

/// A `BANKIDF.` payload as the simulator reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Payload {
    Card { nin: String, issued_unix: i64 },
    Unreadable,
}

/// Reads a value that starts with [`PREFIX`] (anything else is refused before, as a bad
/// parameter).
pub(crate) fn decode(value: &str) -> Payload {
    let card = || {
        let bytes = hex::decode(value.strip_prefix(PREFIX)?).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (nin, issued) = text.split_once(':')?;
        crate::identity::swedish_birth_date(nin)?;
        // Digits only: `i64::from_str` would also take a sign.
        if issued.is_empty() || !issued.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Payload::Card {
            nin: nin.to_owned(),
            issued_unix: issued.parse().ok()?,
        })
    };
    card().unwrap_or(Payload::Unreadable)
}

impl Payload {
    /// What the card check does, seen at `now` with the (scaled) `validity`.
    pub(crate) fn scenario(&self, now: OffsetDateTime, validity: Duration) -> Scenario {
        let fail = |description, code| Scenario {
            description,
            steps: vec![(Duration::ZERO, Step::Fail(code))],
        };
        let Payload::Card { issued_unix, .. } = self else {
            return fail(
                "ID card QR code unreadable: ERROR invalidQrData",
                FailCode::InvalidQrData,
            );
        };
        const SECOND: i128 = 1_000_000_000;
        let since_issue = now.unix_timestamp_nanos() - i128::from(*issued_unix) * SECOND;
        // One second of tolerance either way: the issue time has whole seconds, so a fresh
        // payload must never look expired (however small the time scale) nor issued ahead.
        if since_issue < -SECOND {
            return fail(
                "ID card QR code issued in the future: ERROR invalidQrData",
                FailCode::InvalidQrData,
            );
        }
        let validity = i128::try_from(validity.as_nanos()).unwrap_or(i128::MAX);
        if since_issue >= validity.saturating_add(SECOND) {
            return fail(
                "ID card QR code expired: ERROR idCardQrExpired",
                FailCode::IdCardQrExpired,
            );
        }
        Scenario {
            description: "ID card QR code valid: SUCCESS after 1 s",
            steps: vec![(CHECK_DELAY, Step::Approve)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_700_000_000;

    fn at(unix: f64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos((unix * 1e9) as i128).unwrap()
    }

    #[test]
    fn payload_round_trip_and_unreadable_ones() {
        let q = qr_data("198304062717", T);
        assert_eq!(q, "BANKIDF.3139383330343036323731373A31373030303030303030");
        assert_eq!(
            decode(&q),
            Payload::Card {
                nin: "198304062717".into(),
                issued_unix: T
            }
        );
        assert_eq!(
            decode(&q.to_lowercase().replace("bankidf.", PREFIX)),
            decode(&q)
        );
        for bad in [
            "BANKIDF.".to_owned(),
            "BANKIDF.XYZ".to_owned(),
            "BANKIDF.ABC".to_owned(),
            format!("{PREFIX}{}", hex::encode_upper("198304062717")),
            qr_data("198304062718", T),
            qr_data("8304062717", T),
            format!("{PREFIX}{}", hex::encode_upper("198304062717:+5")),
            format!("{PREFIX}{}", hex::encode_upper("198304062717:")),
            format!(
                "{PREFIX}{}",
                hex::encode_upper("198304062717:99999999999999999999")
            ),
            format!("{PREFIX}{}", hex::encode_upper([0xff, 0xfe])),
        ] {
            assert_eq!(decode(&bad), Payload::Unreadable, "{bad}");
        }
    }

    #[test]
    fn validity_counts_from_the_end_of_the_issuing_second() {
        let card = decode(&qr_data("198304062717", T));
        let steps = |now: f64| card.scenario(at(now), VALIDITY).steps;
        assert_eq!(steps(T as f64 + 0.9), vec![(CHECK_DELAY, Step::Approve)]);
        assert_eq!(steps(T as f64 + 30.9), vec![(CHECK_DELAY, Step::Approve)]);
        let expired = vec![(Duration::ZERO, Step::Fail(FailCode::IdCardQrExpired))];
        assert_eq!(steps(T as f64 + 31.0), expired);
        assert_eq!(steps(T as f64 + 3600.0), expired);
        let future = vec![(Duration::ZERO, Step::Fail(FailCode::InvalidQrData))];
        assert_eq!(steps(T as f64 - 0.5), vec![(CHECK_DELAY, Step::Approve)]);
        assert_eq!(steps(T as f64 - 5.0), future);
        // A tiny time scale still leaves a fresh payload valid.
        let tiny = card.scenario(at(T as f64 + 0.99), Duration::from_millis(10));
        assert_eq!(tiny.steps, vec![(CHECK_DELAY, Step::Approve)]);
    }
}
