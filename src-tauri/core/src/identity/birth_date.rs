//! A customer's date of birth, for BankID on mobile.

use std::fmt;

use time::Date;

use super::calendar::{date, digits_value, today};
use crate::{Error, Result};

const FIELD: &str = "birthdate";

/// A date that exists and lies in the past.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BirthDate(Date);

impl BirthDate {
    /// Accepts `YYYY-MM-DD` or `DDMMYY` (the century is the latest that puts the date in the past).
    pub fn parse(input: &str) -> Result<Self> {
        Self::parse_on(input, today())
    }

    /// `parse` as if today were `today`.
    pub fn parse_on(input: &str, today: Date) -> Result<Self> {
        let s = input.trim();
        let number = |t: &str| digits_value(t);
        let parsed = if s.len() == 10 && s.is_ascii() && &s[4..5] == "-" && &s[7..8] == "-" {
            let (year, month, day) = (number(&s[..4]), number(&s[5..7]), number(&s[8..]));
            match (year, month, day) {
                (Some(y), Some(m), Some(d)) => date(y as i32, m, d),
                _ => return Err(invalid(FORMAT)),
            }
        } else if s.len() == 6 && s.is_ascii() {
            let (day, month, yy) = match (number(&s[..2]), number(&s[2..4]), number(&s[4..])) {
                (Some(d), Some(m), Some(y)) => (d, m, y),
                _ => return Err(invalid(FORMAT)),
            };
            // Born today is not "in the past": step back so the latest past date is chosen.
            let latest = today.previous_day().unwrap_or(today);
            date(
                super::calendar::latest_year(yy, month, day, latest),
                month,
                day,
            )
        } else {
            return Err(invalid(FORMAT));
        };
        let date = parsed.ok_or_else(|| invalid("this date does not exist"))?;
        if date >= today {
            return Err(invalid("must be in the past"));
        }
        Ok(BirthDate(date))
    }

    pub fn date(&self) -> Date {
        self.0
    }

    /// `1983-12-07`, as the REST API wants.
    pub fn iso(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }

    /// `071283`, as the legacy login hint wants.
    pub fn ddmmyy(&self) -> String {
        format!(
            "{:02}{:02}{:02}",
            self.0.day(),
            u8::from(self.0.month()),
            self.0.year().rem_euclid(100)
        )
    }
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iso())
    }
}

const FORMAT: &str = "must be written YYYY-MM-DD or DDMMYY";

fn invalid(reason: &str) -> Error {
    Error::invalid_input(FIELD, reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 06 - 15);

    fn reason(input: &str) -> String {
        match BirthDate::parse_on(input, TODAY) {
            Err(Error::InvalidInput { field, reason }) if field == "birthdate" => reason,
            other => panic!("{input}: {other:?}"),
        }
    }

    #[test]
    fn both_forms() {
        let a = BirthDate::parse_on("1983-12-07", TODAY).unwrap();
        let b = BirthDate::parse_on(" 071283 ", TODAY).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.iso(), "1983-12-07");
        assert_eq!(a.ddmmyy(), "071283");
        assert_eq!(
            BirthDate::parse_on("010105", TODAY).unwrap().iso(),
            "2005-01-01"
        );
        assert_eq!(
            BirthDate::parse_on("0101", TODAY)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err("birthdate: must be written YYYY-MM-DD or DDMMYY".into())
        );
    }

    #[test]
    fn century_is_the_latest_in_the_past() {
        assert_eq!(
            BirthDate::parse_on("140626", TODAY).unwrap().iso(),
            "2026-06-14"
        );
        assert_eq!(
            BirthDate::parse_on("150626", TODAY).unwrap().iso(),
            "1926-06-15"
        );
        assert_eq!(
            BirthDate::parse_on("160626", TODAY).unwrap().iso(),
            "1926-06-16"
        );
    }

    #[test]
    fn must_exist_and_be_past() {
        assert_eq!(reason("1983-02-29"), "this date does not exist");
        assert_eq!(reason("310483"), "this date does not exist");
        assert_eq!(reason("2026-06-15"), "must be in the past");
        assert_eq!(reason("2030-01-01"), "must be in the past");
        assert_eq!(reason("1983/12/07"), "must be written YYYY-MM-DD or DDMMYY");
        assert_eq!(reason("07-12-83"), "must be written YYYY-MM-DD or DDMMYY");
        assert_eq!(reason("198a-12-07"), "must be written YYYY-MM-DD or DDMMYY");
        assert_eq!(reason("ææ"), "must be written YYYY-MM-DD or DDMMYY");
    }
}
