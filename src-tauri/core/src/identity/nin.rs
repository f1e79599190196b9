//! Norwegian national identity number (fødselsnummer), with D-, H- and synthetic test numbers.
//! Rules: `/work/shared/reference/bankid.md` §"Norwegian national identity number".

use std::fmt;

use time::Date;

use super::calendar::{date, digits_value};
use super::mask_nin;
use crate::{Error, Result};

const FIELD: &str = "nin";
const K1_WEIGHTS: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const K2_WEIGHTS: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

/// What kind of number it is. A synthetic number (Tenor / Test-Norge, month + 80) is reported as
/// `Synthetic` even when it is also a D-number: what matters downstream is that it is not a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NinKind {
    Ordinary,
    /// Day + 40: people without a Norwegian birth number.
    D,
    /// Month + 40: an auxiliary number issued by health services.
    H,
    /// Month + 80: a synthetic test identity; accepted only where test identities are allowed.
    Synthetic,
}

/// An 11-digit fødselsnummer whose check digits, century and birth date are valid.
/// `Debug` shows only the masked form, so the full number cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NorwegianNin {
    digits: String,
    kind: NinKind,
    birth_date: Date,
}

impl NorwegianNin {
    /// Parses `input` (surrounding and inner spaces are ignored). `allow_test` admits synthetic test
    /// numbers; production profiles pass `false`.
    pub fn parse(input: &str, allow_test: bool) -> Result<Self> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.chars().count() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("must be 11 digits"));
        }
        let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        if !check_digits_match(&d) {
            return Err(invalid("the check digits do not match"));
        }

        let field = |range: std::ops::Range<usize>| digits_value(&digits[range]).unwrap_or(0);
        let (mut day, mut month, yy, individual) =
            (field(0..2), field(2..4), field(4..6), field(6..9));
        let synthetic = month > 80;
        if synthetic {
            if !allow_test {
                return Err(invalid(
                    "synthetic test numbers are not allowed in this profile",
                ));
            }
            month -= 80;
        }
        let d_number = day > 40;
        if d_number {
            day -= 40;
        }
        let h_number = month > 40;
        if h_number {
            if d_number {
                return Err(invalid("cannot be both a D-number and an H-number"));
            }
            month -= 40;
        }
        let kind = match (synthetic, d_number, h_number) {
            (true, _, _) => NinKind::Synthetic,
            (false, true, _) => NinKind::D,
            (false, false, true) => NinKind::H,
            (false, false, false) => NinKind::Ordinary,
        };
        let century = century(individual, yy)
            .ok_or_else(|| invalid("the individual number does not fit the year of birth"))?;
        let birth_date = date(century + yy as i32, month, day)
            .ok_or_else(|| invalid("the birth date in the number does not exist"))?;
        Ok(NorwegianNin {
            digits,
            kind,
            birth_date,
        })
    }

    /// The 11 digits, as sent to Signicat.
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// `2912*******`: the only form that may be logged.
    pub fn masked(&self) -> String {
        mask_nin(&self.digits)
    }

    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    pub fn kind(&self) -> NinKind {
        self.kind
    }
}

impl fmt::Debug for NorwegianNin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NorwegianNin({})", self.masked())
    }
}

/// k2 must match exactly. k1 may follow the classic rule or, for numbers issued from 2032, carry an
/// offset r in 0..=3: `(weighted sum + k1) mod 11 == r`. r = 0 is the classic rule.
fn check_digits_match(d: &[u32]) -> bool {
    let k1_sum: u32 = K1_WEIGHTS.iter().zip(d).map(|(w, x)| w * x).sum();
    let k2_sum: u32 = K2_WEIGHTS.iter().zip(d).map(|(w, x)| w * x).sum();
    let k1_ok = (k1_sum + d[9]) % 11 <= 3;
    let k2_ok = (k2_sum + d[10]).is_multiple_of(11);
    k1_ok && k2_ok
}

/// The century from the individual number and the two-digit year (Skatteetaten's table).
fn century(individual: u32, yy: u32) -> Option<i32> {
    match individual {
        0..=499 => Some(1900),
        500..=749 if yy >= 54 => Some(1800),
        500..=999 if yy < 40 => Some(2000),
        900..=999 if yy >= 40 => Some(1900),
        _ => None,
    }
}

fn invalid(reason: &str) -> Error {
    Error::invalid_input(FIELD, reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn reason(input: &str, allow_test: bool) -> String {
        match NorwegianNin::parse(input, allow_test) {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, "nin");
                reason
            }
            other => panic!("expected invalid input for {input}, got {other:?}"),
        }
    }

    #[test]
    fn accepts_signicat_test_users() {
        let n = NorwegianNin::parse("29124815345", false).unwrap();
        assert_eq!(n.as_str(), "29124815345");
        assert_eq!(n.masked(), "2912*******");
        assert_eq!(n.birth_date(), date!(1948 - 12 - 29));
        assert_eq!(n.kind(), NinKind::Ordinary);
        let n = NorwegianNin::parse(" 011008 44350 ", false).unwrap();
        assert_eq!(n.as_str(), "01100844350");
        assert_eq!(n.birth_date(), date!(1908 - 10 - 01));
    }

    #[test]
    fn rejects_the_documentation_example() {
        assert_eq!(reason("17029012345", true), "the check digits do not match");
    }

    #[test]
    fn length_and_characters() {
        assert_eq!(reason("", false), "must be 11 digits");
        assert_eq!(reason("2912481534", false), "must be 11 digits");
        assert_eq!(reason("291248153450", false), "must be 11 digits");
        assert_eq!(reason("2912481534a", false), "must be 11 digits");
        assert_eq!(reason("29124815٣45", false), "must be 11 digits");
    }

    /// Builds a number with valid check digits (k1 with offset `r`) or `None` if k1 or k2 would be 10.
    fn with_checks(first9: &str, r: u32) -> Option<String> {
        let d: Vec<u32> = first9.bytes().map(|b| u32::from(b - b'0')).collect();
        let s1: u32 = K1_WEIGHTS.iter().zip(&d).map(|(w, x)| w * x).sum();
        let k1 = (11 + r - s1 % 11) % 11;
        if k1 == 10 {
            return None;
        }
        let mut d10 = d.clone();
        d10.push(k1);
        let s2: u32 = K2_WEIGHTS.iter().zip(&d10).map(|(w, x)| w * x).sum();
        let k2 = (11 - s2 % 11) % 11;
        if k2 == 10 {
            return None;
        }
        Some(format!("{first9}{k1}{k2}"))
    }

    fn first_valid(prefix6: &str, from_individual: u32) -> String {
        (from_individual..1000)
            .find_map(|i| with_checks(&format!("{prefix6}{i:03}"), 0))
            .unwrap()
    }

    #[test]
    fn accepts_the_2032_k1_offsets() {
        for r in 0..=3 {
            let n = (0..500)
                .find_map(|i| with_checks(&format!("010203{i:03}"), r))
                .unwrap();
            assert!(NorwegianNin::parse(&n, false).is_ok(), "r={r}: {n}");
        }
        // r = 4 is outside the rule: some k1 that is neither classic nor offset by 0..=3.
        let n = (0..500)
            .find_map(|i| with_checks(&format!("010203{i:03}"), 4))
            .unwrap();
        assert_eq!(reason(&n, true), "the check digits do not match");
    }

    #[test]
    fn d_h_and_synthetic_numbers() {
        let d = first_valid("411283", 0);
        let n = NorwegianNin::parse(&d, false).unwrap();
        assert_eq!(n.kind(), NinKind::D);
        assert_eq!(n.birth_date(), date!(1983 - 12 - 01));

        let h = first_valid("015283", 0);
        let n = NorwegianNin::parse(&h, false).unwrap();
        assert_eq!(n.kind(), NinKind::H);
        assert_eq!(n.birth_date(), date!(1983 - 12 - 01));

        let s = first_valid("019283", 0);
        assert_eq!(
            reason(&s, false),
            "synthetic test numbers are not allowed in this profile"
        );
        let n = NorwegianNin::parse(&s, true).unwrap();
        assert_eq!(n.kind(), NinKind::Synthetic);
        assert_eq!(n.birth_date(), date!(1983 - 12 - 01));

        let synthetic_d = first_valid("419283", 0);
        assert_eq!(
            NorwegianNin::parse(&synthetic_d, true).unwrap().kind(),
            NinKind::Synthetic
        );

        let d_and_h = first_valid("415283", 0);
        assert_eq!(
            reason(&d_and_h, true),
            "cannot be both a D-number and an H-number"
        );
    }

    #[test]
    fn century_rules() {
        let cases = [
            ("010160", "123", Some(1960)),
            ("010160", "950", Some(1960)),
            ("010110", "600", Some(2010)),
            ("010110", "950", Some(2010)),
            ("010160", "600", Some(1860)),
            ("010145", "600", None),
            ("010160", "800", None),
        ];
        for (prefix, individual, year) in cases {
            let n = (0..=3)
                .find_map(|r| with_checks(&format!("{prefix}{individual}"), r))
                .unwrap();
            match year {
                Some(y) => assert_eq!(
                    NorwegianNin::parse(&n, false).unwrap().birth_date().year(),
                    y,
                    "{n}"
                ),
                None => assert_eq!(
                    reason(&n, false),
                    "the individual number does not fit the year of birth"
                ),
            }
        }
    }

    #[test]
    fn date_must_exist() {
        let n = first_valid("310483", 0);
        assert_eq!(
            reason(&n, false),
            "the birth date in the number does not exist"
        );
        let n = first_valid("290201", 0);
        assert_eq!(
            reason(&n, false),
            "the birth date in the number does not exist"
        );
        let n = first_valid("290200", 500);
        assert!(NorwegianNin::parse(&n, false).is_ok());
    }

    #[test]
    fn debug_is_masked() {
        let n = NorwegianNin::parse("29124815345", false).unwrap();
        assert_eq!(format!("{n:?}"), "NorwegianNin(2912*******)");
    }
}
