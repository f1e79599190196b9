//! Identity checks done by the simulator itself (independent of the engine's validator, so a bug
//! in one is caught by the other).

use time::{Date, Month};

/// A valid Norwegian fødselsnummer / D-number / H-number / synthetic test number, with the birth
/// date it encodes.
pub fn norwegian_birth_date(nin: &str) -> Option<Date> {
    let d = digits(nin, 11)?;
    let sum1: u32 = [3, 7, 6, 1, 8, 9, 4, 5, 2]
        .iter()
        .zip(&d[..9])
        .map(|(w, x)| w * x)
        .sum();
    // From 2032 k1 may carry an offset 0..=3 (bankid.md); accept every variant now.
    let k1_ok = (0..=3).any(|r| {
        let k = (11 + r - sum1 % 11) % 11;
        k != 10 && k == d[9]
    });
    let sum2: u32 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
        .iter()
        .zip(&d[..10])
        .map(|(w, x)| w * x)
        .sum();
    let k2 = match 11 - sum2 % 11 {
        11 => 0,
        10 => return None,
        k => k,
    };
    if !k1_ok || k2 != d[10] {
        return None;
    }
    let mut day = d[0] * 10 + d[1];
    let mut month = d[2] * 10 + d[3];
    let yy = d[4] * 10 + d[5];
    let individual = d[6] * 100 + d[7] * 10 + d[8];
    if day > 40 {
        day -= 40; // D-number
    }
    if month > 80 {
        month -= 80; // synthetic test number (Tenor / Test-Norge)
    } else if month > 40 {
        month -= 40; // H-number
    }
    let century = match individual {
        0..=499 => 1900,
        500..=749 if yy >= 54 => 1800,
        500..=999 if yy < 40 => 2000,
        900..=999 if yy >= 40 => 1900,
        _ => return None,
    };
    date(century + yy, month, day)
}

/// A valid 12-digit Swedish personnummer / samordningsnummer, with its birth date.
pub fn swedish_birth_date(pnr: &str) -> Option<Date> {
    let d = digits(pnr, 12)?;
    if luhn(&d[2..11]) != d[11] {
        return None;
    }
    let year = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3];
    let month = d[4] * 10 + d[5];
    let mut day = d[6] * 10 + d[7];
    if day > 60 {
        day -= 60; // samordningsnummer
    }
    date(year, month, day)
}

/// A Norwegian mobile number in E.164 (`+47` and 8 digits starting with 4 or 9); returns the
/// 8 national digits.
pub fn norwegian_mobile_e164(phone: &str) -> Option<String> {
    let national = phone.strip_prefix("+47")?;
    norwegian_mobile_national(national)
}

/// 8 digits starting with 4 or 9 (the legacy `phone-` login hint form).
pub fn norwegian_mobile_national(national: &str) -> Option<String> {
    digits(national, 8)?;
    national
        .starts_with(['4', '9'])
        .then(|| national.to_owned())
}

/// `YYYY-MM-DD` of a real date.
pub fn iso_date(s: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    (s.len() == 10).then_some(())?;
    Date::parse(s, format).ok()
}

/// `DDMMYY` of the legacy `birthdate-` hint, in 1900..=2099 (the latest century not in the future).
pub fn ddmmyy_date(s: &str) -> Option<Date> {
    let d = digits(s, 6)?;
    let yy = d[4] * 10 + d[5];
    let this_year = u32::try_from(time::OffsetDateTime::now_utc().year()).unwrap_or(2026);
    let year = if 2000 + yy <= this_year {
        2000 + yy
    } else {
        1900 + yy
    };
    date(year, d[2] * 10 + d[3], d[0] * 10 + d[1])
}

/// A valid fødselsnummer for someone born on `dob` (used for customers the simulator does not
/// know, e.g. an unknown phone number on Norwegian BankID on mobile).
pub fn synthesize_norwegian_nin(dob: Date) -> Option<String> {
    let year = u32::try_from(dob.year()).ok()?;
    let range = match year {
        1900..=1999 => 100..=499,
        2000..=2039 => 500..=999,
        _ => return None,
    };
    let prefix = format!(
        "{:02}{:02}{:02}",
        dob.day(),
        u8::from(dob.month()),
        year % 100
    );
    range
        .map(|i| format!("{prefix}{i:03}"))
        .flat_map(|p| (0..100).map(move |k| format!("{p}{k:02}")))
        .find(|candidate| norwegian_birth_date(candidate) == Some(dob))
}

/// First 4 characters and `*******`, as the desk masks identity numbers everywhere.
pub fn mask(id: &str) -> String {
    let head: String = id.chars().take(4).collect();
    format!("{head}*******")
}

fn digits(s: &str, len: usize) -> Option<Vec<u32>> {
    if s.len() != len {
        return None;
    }
    s.chars().map(|c| c.to_digit(10)).collect()
}

fn luhn(d: &[u32]) -> u32 {
    let sum: u32 = d
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let v = if i % 2 == 0 { x * 2 } else { x };
            v / 10 + v % 10
        })
        .sum();
    (10 - sum % 10) % 10
}

fn date(year: u32, month: u32, day: u32) -> Option<Date> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn norwegian_test_numbers() {
        assert_eq!(
            norwegian_birth_date("29124815345"),
            Some(date!(1948 - 12 - 29))
        );
        assert_eq!(
            norwegian_birth_date("01100844350"),
            Some(date!(1908 - 10 - 01))
        );
        assert_eq!(
            norwegian_birth_date("17029012345"),
            None,
            "documentation example"
        );
        assert_eq!(norwegian_birth_date("2912481534"), None);
        assert_eq!(norwegian_birth_date("29124815346"), None);
        assert_eq!(norwegian_birth_date("2912481534a"), None);
    }

    #[test]
    fn swedish_test_numbers() {
        assert_eq!(
            swedish_birth_date("198304062717"),
            Some(date!(1983 - 04 - 06))
        );
        assert!(swedish_birth_date("199010270537").is_some());
        assert!(swedish_birth_date("199010275312").is_some());
        assert_eq!(swedish_birth_date("199010275313"), None);
        assert_eq!(
            swedish_birth_date("8304062717"),
            None,
            "10-digit form not accepted"
        );
    }

    #[test]
    fn phones_and_dates() {
        assert_eq!(
            norwegian_mobile_e164("+4799887766").as_deref(),
            Some("99887766")
        );
        assert_eq!(norwegian_mobile_e164("99887766"), None);
        assert_eq!(norwegian_mobile_e164("+4729887766"), None);
        assert_eq!(iso_date("1983-12-07"), Some(date!(1983 - 12 - 07)));
        assert_eq!(iso_date("1983-02-30"), None);
        assert_eq!(ddmmyy_date("071283"), Some(date!(1983 - 12 - 07)));
    }

    #[test]
    fn synthesized_numbers_are_valid() {
        let nin = synthesize_norwegian_nin(date!(1983 - 12 - 07)).unwrap();
        assert_eq!(norwegian_birth_date(&nin), Some(date!(1983 - 12 - 07)));
        let nin = synthesize_norwegian_nin(date!(2004 - 02 - 29)).unwrap();
        assert_eq!(norwegian_birth_date(&nin), Some(date!(2004 - 02 - 29)));
    }

    #[test]
    fn masking() {
        assert_eq!(mask("29124815345"), "2912*******");
    }
}
