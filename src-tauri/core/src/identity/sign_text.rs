//! The text a customer is asked to sign (Consent Signature).

use std::fmt;

use crate::{Error, Result};

const FIELD: &str = "text";
/// Counted in Unicode scalar values, after trimming.
pub const MAX_CHARS: usize = 1000;

/// 1–1000 characters, trimmed, line breaks as `\n`, no other control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SignText(String);

impl SignText {
    /// Normalises `\r\n` and lone `\r` to `\n` and trims surrounding whitespace before checking.
    pub fn parse(input: &str) -> Result<Self> {
        let normalised = input.replace("\r\n", "\n").replace('\r', "\n");
        let text = normalised.trim();
        if text.is_empty() {
            return Err(invalid("is empty"));
        }
        if text.chars().count() > MAX_CHARS {
            return Err(invalid("is longer than 1000 characters"));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(invalid(
                "contains a control character (only line breaks are allowed)",
            ));
        }
        Ok(SignText(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SignText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn invalid(reason: &str) -> Error {
    Error::invalid_input(FIELD, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_trims() {
        let t = SignText::parse("  Jeg samtykker\r\ntil lånet på 10 000 kr.\r\n ").unwrap();
        assert_eq!(t.as_str(), "Jeg samtykker\ntil lånet på 10 000 kr.");
        assert_eq!(SignText::parse("a\rb").unwrap().as_str(), "a\nb");
    }

    #[test]
    fn length_in_characters_not_bytes() {
        assert!(SignText::parse(&"å".repeat(1000)).is_ok());
        let e = SignText::parse(&"å".repeat(1001)).unwrap_err();
        assert_eq!(e.to_string(), "text: is longer than 1000 characters");
        assert_eq!(
            SignText::parse(" \n\t ").unwrap_err().to_string(),
            "text: is empty"
        );
    }

    #[test]
    fn refuses_control_characters() {
        for bad in ["a\tb", "a\u{0}b", "a\u{1b}[31mb", "a\u{85}b"] {
            assert_eq!(
                SignText::parse(bad).unwrap_err().field(),
                Some("text"),
                "{bad:?}"
            );
        }
    }
}
