//! The "intention" a Swedish BankID order shows the customer: why staff ask, in BankID's
//! `simpleMarkdownV1`. BankID allows intention and security information only
//! (https://www.bankid.com/en/foretag/avsikt); the profile's templates hold the approved wording.

use base64::Engine as _;

use crate::{Error, Result};

const FIELD: &str = "intention";
/// Counted in Unicode scalar values after trimming. BankID caps the visible text at 1,500
/// characters before encoding; staff's templates stay well below it [decided].
pub const MAX_CHARS: usize = 1000;

/// 1–1000 characters, trimmed, line breaks as `\n`, no other control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IntentionText(String);

impl IntentionText {
    pub fn parse(input: &str) -> Result<Self> {
        let normalised = input.replace("\r\n", "\n").replace('\r', "\n");
        let text = normalised.trim();
        if text.is_empty() {
            return Err(Error::invalid_input(FIELD, "is empty"));
        }
        if text.chars().count() > MAX_CHARS {
            return Err(Error::invalid_input(
                FIELD,
                format!("is longer than {MAX_CHARS} characters"),
            ));
        }
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(Error::invalid_input(
                FIELD,
                "contains a control character (only line breaks are allowed)",
            ));
        }
        Ok(IntentionText(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `sbid_intention_text`: standard base64 of the UTF-8 text, as Signicat's examples send it.
    pub fn wire(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_trimmed_checked_and_sent_as_base64() {
        let t = IntentionText::parse("  Du identifierar dig för\r\n*Kundtjänst*  ").unwrap();
        assert_eq!(t.as_str(), "Du identifierar dig för\n*Kundtjänst*");
        assert_eq!(
            IntentionText::parse("Test intention").unwrap().wire(),
            "VGVzdCBpbnRlbnRpb24="
        );
        for bad in ["", "   ", "a\u{7}b"] {
            assert_eq!(IntentionText::parse(bad).unwrap_err().field(), Some(FIELD));
        }
        assert!(IntentionText::parse(&"x".repeat(MAX_CHARS + 1)).is_err());
    }
}
