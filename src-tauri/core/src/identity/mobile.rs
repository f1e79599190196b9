//! Norwegian mobile numbers, for BankID on mobile.

use std::fmt;

use crate::{Error, Result};

const FIELD: &str = "phone";

/// Eight digits starting with 4 or 9.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NorwegianMobile(String);

impl NorwegianMobile {
    /// Accepts `99887766`, `+47 998 87 766`, `0047 99887766` and the like (spaces anywhere).
    pub fn parse(input: &str) -> Result<Self> {
        let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        let national = compact
            .strip_prefix("+47")
            .or_else(|| compact.strip_prefix("0047"))
            .unwrap_or(&compact);
        if national.is_empty() {
            return Err(invalid("is empty"));
        }
        if !national.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "may contain only digits, spaces and a +47 or 0047 prefix",
            ));
        }
        if national.len() != 8 {
            return Err(invalid("must be 8 digits (after +47)"));
        }
        if !(national.starts_with('4') || national.starts_with('9')) {
            return Err(invalid("a Norwegian mobile number starts with 4 or 9"));
        }
        Ok(NorwegianMobile(national.to_string()))
    }

    /// `99887766`: the form the legacy `phone-` login hint wants.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// `+4799887766`: the form the REST API wants.
    pub fn e164(&self) -> String {
        format!("+47{}", self.0)
    }
}

impl fmt::Display for NorwegianMobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164())
    }
}

fn invalid(reason: &str) -> Error {
    Error::invalid_input(FIELD, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_prefixes_and_spaces() {
        for input in [
            "99887766",
            "+4799887766",
            "0047 998 87 766",
            " +47 99 88 77 66 ",
        ] {
            let m = NorwegianMobile::parse(input).unwrap();
            assert_eq!(m.digits(), "99887766", "{input}");
            assert_eq!(m.e164(), "+4799887766");
        }
        assert_eq!(
            NorwegianMobile::parse("41234567").unwrap().digits(),
            "41234567"
        );
    }

    #[test]
    fn rejects_other_numbers() {
        let reason = |s: &str| match NorwegianMobile::parse(s) {
            Err(Error::InvalidInput { field, reason }) if field == "phone" => reason,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(reason(""), "is empty");
        assert_eq!(reason("+47"), "is empty");
        assert_eq!(
            reason("22334455"),
            "a Norwegian mobile number starts with 4 or 9"
        );
        assert_eq!(reason("9988776"), "must be 8 digits (after +47)");
        assert_eq!(
            reason("+46 99887766"),
            "may contain only digits, spaces and a +47 or 0047 prefix"
        );
        assert_eq!(reason("4799887766"), "must be 8 digits (after +47)");
        assert_eq!(
            reason("99-88-77-66"),
            "may contain only digits, spaces and a +47 or 0047 prefix"
        );
    }
}
