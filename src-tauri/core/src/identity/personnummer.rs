//! Swedish personnummer and samordningsnummer, in any of their written forms, normalised to the
//! 12 digits BankID wants. Rules: `/work/shared/reference/bankid.md` §"Swedish personnummer".

use std::fmt;

use time::Date;

use super::calendar::{date, digits_value, latest_year, today};
use super::mask_nin;
use crate::{Error, Result};

const FIELD: &str = "nin";

/// A personnummer or samordningsnummer (day + 60), normalised to `YYYYMMDDNNNC`.
/// `Debug` shows only the masked form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SwedishPersonnummer {
    digits: String,
    birth_date: Date,
    coordination: bool,
}

impl SwedishPersonnummer {
    /// Accepts `YYMMDD-NNNC`, `YYMMDD+NNNC` (`+`: 100 years or older), `YYMMDDNNNC`,
    /// `YYYYMMDDNNNC` and `YYYYMMDD-NNNC`, with surrounding whitespace.
    pub fn parse(input: &str) -> Result<Self> {
        Self::parse_on(input, today())
    }

    /// `parse` as if today were `today`: the century of a two-digit year depends on it.
    pub fn parse_on(input: &str, today: Date) -> Result<Self> {
        let s = input.trim();
        let form = written_form(s).ok_or_else(|| {
            invalid("must be 10 or 12 digits, written YYMMDD-NNNC or YYYYMMDDNNNC")
        })?;
        let ten = &form.ten;
        if !luhn_ok(ten) {
            return Err(invalid("the check digit does not match"));
        }
        let number = |range: std::ops::Range<usize>| digits_value(&ten[range]).unwrap_or(0);
        let (yy, month, mut day) = (number(0..2), number(2..4), number(4..6));
        let coordination = day > 60;
        if coordination {
            day -= 60;
        }
        let year = match form.century_year {
            Some(year) => year,
            None => {
                let year = latest_year(yy, month, day, today);
                if form.plus {
                    year - 100
                } else {
                    year
                }
            }
        };
        let birth_date = date(year, month, day)
            .ok_or_else(|| invalid("the birth date in the number does not exist"))?;
        if birth_date > today {
            return Err(invalid("the birth date in the number is in the future"));
        }
        Ok(SwedishPersonnummer {
            digits: format!("{:02}{ten}", year.div_euclid(100)),
            birth_date,
            coordination,
        })
    }

    /// The 12 digits `YYYYMMDDNNNC`, as sent to BankID.
    pub fn as_str(&self) -> &str {
        &self.digits
    }

    /// `1983*******`: the only form that may be logged.
    pub fn masked(&self) -> String {
        mask_nin(&self.digits)
    }

    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    /// A samordningsnummer (coordination number, day + 60).
    pub fn is_coordination_number(&self) -> bool {
        self.coordination
    }
}

impl fmt::Debug for SwedishPersonnummer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SwedishPersonnummer({})", self.masked())
    }
}

struct WrittenForm {
    /// `YYMMDDNNNC`, the part the check digit covers.
    ten: String,
    /// The full year when the input had four year digits (the century is then not checked by Luhn).
    century_year: Option<i32>,
    plus: bool,
}

fn written_form(s: &str) -> Option<WrittenForm> {
    if !s.is_ascii() {
        return None;
    }
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let (ten, century, plus) = match s.len() {
        10 if all_digits(s) => (s.to_string(), None, false),
        11 if all_digits(&s[..6]) && all_digits(&s[7..]) => match &s[6..7] {
            "-" => (format!("{}{}", &s[..6], &s[7..]), None, false),
            "+" => (format!("{}{}", &s[..6], &s[7..]), None, true),
            _ => return None,
        },
        12 if all_digits(s) => (s[2..].to_string(), Some(&s[..2]), false),
        13 if all_digits(&s[..8]) && &s[8..9] == "-" && all_digits(&s[9..]) => {
            (format!("{}{}", &s[2..8], &s[9..]), Some(&s[..2]), false)
        }
        _ => return None,
    };
    let century_year = match century {
        Some(cc) => {
            let year = digits_value(cc)? * 100 + digits_value(&ten[..2])?;
            Some(i32::try_from(year).ok()?)
        }
        None => None,
    };
    Some(WrittenForm {
        ten,
        century_year,
        plus,
    })
}

/// Luhn over the ten digits: weights 2,1,2,1,... from the left, digit sums of the products.
fn luhn_ok(ten: &str) -> bool {
    let sum: u32 = ten
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0') * if i % 2 == 0 { 2 } else { 1 };
            d / 10 + d % 10
        })
        .sum();
    sum.is_multiple_of(10)
}

fn invalid(reason: &str) -> Error {
    Error::invalid_input(FIELD, reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 06 - 15);

    fn ok(input: &str) -> SwedishPersonnummer {
        SwedishPersonnummer::parse_on(input, TODAY).unwrap()
    }

    fn reason(input: &str) -> String {
        match SwedishPersonnummer::parse_on(input, TODAY) {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, "nin");
                reason
            }
            other => panic!("expected invalid input for {input:?}, got {other:?}"),
        }
    }

    #[test]
    fn accepts_signicat_test_users_in_every_form() {
        for input in [
            "198304062717",
            "19830406-2717",
            "830406-2717",
            "8304062717",
            " 830406-2717\n",
        ] {
            let p = ok(input);
            assert_eq!(p.as_str(), "198304062717", "{input}");
            assert_eq!(p.birth_date(), date!(1983 - 04 - 06));
            assert!(!p.is_coordination_number());
        }
        assert_eq!(ok("199010270537").as_str(), "199010270537");
        assert_eq!(ok("901027-5312").as_str(), "199010275312");
        assert_eq!(ok("199010270537").masked(), "1990*******");
    }

    #[test]
    fn plus_means_a_hundred_years_more() {
        let p = ok("830406+2717");
        assert_eq!(p.as_str(), "188304062717");
        assert_eq!(p.birth_date(), date!(1883 - 04 - 06));
    }

    #[test]
    fn century_is_the_latest_not_in_the_future() {
        // 2026-06-15 (Luhn digit computed for each) and one day later.
        let born_today = with_check("260615123");
        assert_eq!(ok(&born_today).birth_date(), date!(2026 - 06 - 15));
        let tomorrow = with_check("260616123");
        assert_eq!(ok(&tomorrow).birth_date(), date!(1926 - 06 - 16));
        let twelve = format!("20{tomorrow}");
        assert_eq!(
            reason(&twelve),
            "the birth date in the number is in the future"
        );
    }

    #[test]
    fn samordningsnummer() {
        let s = with_check("830466123");
        let p = ok(&s);
        assert!(p.is_coordination_number());
        assert_eq!(p.birth_date(), date!(1983 - 04 - 06));
        assert_eq!(p.as_str(), format!("19{s}"));
    }

    #[test]
    fn rejects_bad_input() {
        let form = "must be 10 or 12 digits, written YYMMDD-NNNC or YYYYMMDDNNNC";
        for input in [
            "",
            "83040627",
            "1983040627170",
            "830406*2717",
            "19830406+2717",
            "83O4062717",
            "ö30406-2717",
        ] {
            assert_eq!(reason(input), form, "{input:?}");
        }
        assert_eq!(reason("198304062718"), "the check digit does not match");
        let no_date = with_check("830431123");
        assert_eq!(
            reason(&no_date),
            "the birth date in the number does not exist"
        );
    }

    /// Appends the Luhn check digit to nine digits.
    fn with_check(nine: &str) -> String {
        (0..=9)
            .map(|c| format!("{nine}{c}"))
            .find(|t| luhn_ok(t))
            .unwrap()
    }
}
