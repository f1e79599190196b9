//! Validated identity inputs. Every value a flow sends to Signicat is parsed into one of these types
//! first, so a malformed number is refused before any request (and before a push reaches a phone).
//! Parsing never panics, whatever the input.

mod birth_date;
mod calendar;
mod idcard;
mod intention;
mod mobile;
mod nin;
mod personnummer;
mod sign_text;

pub use birth_date::BirthDate;
pub use idcard::IdCardQrData;
pub use intention::IntentionText;
pub use mobile::NorwegianMobile;
pub use nin::{NinKind, NorwegianNin};
pub use personnummer::SwedishPersonnummer;
pub use sign_text::SignText;

/// A national identity number as it may appear in a log line: the first six characters (the birth
/// date part) and `*****`. Works on any string and never panics (it counts characters, not bytes).
pub fn mask_nin(raw: &str) -> String {
    let mut out: String = raw.chars().take(6).collect();
    out.push_str("*****");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_first_six_characters() {
        assert_eq!(mask_nin("29124815345"), "291248*****");
        assert_eq!(mask_nin("198304062717"), "198304*****");
        assert_eq!(mask_nin(""), "*****");
        assert_eq!(mask_nin("ææææææææ"), "ææææææ*****");
    }
}
