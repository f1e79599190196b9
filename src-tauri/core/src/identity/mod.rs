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

/// Characters of a number kept by [`mask_nin`].
pub const MASK_KEEPS: usize = 4;
const MASK_TAIL: &str = "*******";

/// A national identity number as it may appear in a log line, the vault or the archive: the first
/// four characters and `*******`, e.g. `2912*******` (day and month of a Norwegian number) or
/// `1983*******` (a Swedish birth year). Four, not the six of the whole birth date (review L-8):
/// the full date of birth with a name is an identifier of its own, and four still lets staff tell
/// two customers in History apart. The tail is fixed, so the mask does not give the length away.
/// Works on any string and never panics (it counts characters, not bytes).
pub fn mask_nin(raw: &str) -> String {
    let mut out: String = raw.chars().take(MASK_KEEPS).collect();
    out.push_str(MASK_TAIL);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_first_six_characters() {
        assert_eq!(mask_nin("29124815345"), "2912*******");
        assert_eq!(mask_nin("198304062717"), "1983*******");
        assert_eq!(mask_nin(""), "*******");
        assert_eq!(mask_nin("29"), "29*******");
        assert_eq!(mask_nin("ææææææææ"), "ææææ*******");
    }
}
