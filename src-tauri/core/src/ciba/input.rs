//! What staff type for a CIBA flow, validated before any request: who the customer is (the hint)
//! and the binding message both sides read.

use std::fmt;

use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::identity::{mask_nin, NorwegianNin, SwedishPersonnummer};
use crate::{Error, Result};

/// Counted in Unicode scalar values: a hint is a user name, an e-mail address or a number.
pub const MAX_HINT_CHARS: usize = 256;
/// Counted in Unicode scalar values. CIBA asks for a message "relatively short"; the customer's
/// device shows it in one line next to the one the agent reads aloud.
pub const MAX_BINDING_CHARS: usize = 20;

/// How the profile's provider identifies a customer from what staff type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HintKind {
    /// Any text the provider understands (user name, e-mail, customer number).
    #[default]
    Text,
    /// A Norwegian fødselsnummer, checked like Safe Conversation's, sent as 11 digits.
    NinNo,
    /// A Swedish personnummer in any written form, sent as 12 digits.
    PnrSe,
}

/// How the hint travels: CIBA's `login_hint` (plain) or `login_hint_token` (a token the
/// customer's bank issued, e.g. a JWT).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum LoginHint {
    Hint(String),
    Token(String),
}

impl LoginHint {
    /// `login_hint` from staff input. `prefix` (from the profile, e.g. `nin:`) is put in front of
    /// the normalised value.
    pub fn parse(
        input: &str,
        kind: HintKind,
        prefix: &str,
        allow_test_identities: bool,
    ) -> Result<LoginHint> {
        let value = match kind {
            HintKind::Text => plain("login_hint", input)?,
            HintKind::NinNo => NorwegianNin::parse(input, allow_test_identities)
                .map_err(|e| renamed(e, "login_hint"))?
                .as_str()
                .to_string(),
            HintKind::PnrSe => SwedishPersonnummer::parse(input)
                .map_err(|e| renamed(e, "login_hint"))?
                .as_str()
                .to_string(),
        };
        Ok(LoginHint::Hint(format!("{prefix}{value}")))
    }

    /// `login_hint_token`: passed on as given (the provider checks it), after the same basic
    /// checks as a hint.
    pub fn token(input: &str) -> Result<LoginHint> {
        let t = plain("login_hint_token", input)?;
        if t.chars().any(char::is_whitespace) {
            return Err(Error::invalid_input(
                "login_hint_token",
                "must not contain spaces",
            ));
        }
        Ok(LoginHint::Token(t))
    }

    /// The form parameter: `(name, value)`.
    pub fn param(&self) -> (&'static str, &str) {
        match self {
            LoginHint::Hint(h) => ("login_hint", h),
            LoginHint::Token(t) => ("login_hint_token", t),
        }
    }

    /// For logs, the vault and the running list: never the whole hint (it is often a number).
    pub fn masked(&self) -> String {
        match self {
            LoginHint::Hint(h) => mask_nin(h),
            LoginHint::Token(_) => "login_hint_token".to_string(),
        }
    }

    /// One running flow per customer.
    pub fn key(&self) -> String {
        match self {
            LoginHint::Hint(h) => format!("CIBA:{h}"),
            LoginHint::Token(t) => format!("CIBA-token:{t}"),
        }
    }
}

impl fmt::Debug for LoginHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LoginHint").field(&self.masked()).finish()
    }
}

/// Trimmed, 1–256 characters, no control characters.
fn plain(field: &str, input: &str) -> Result<String> {
    let t = input.trim();
    if t.is_empty() {
        return Err(Error::invalid_input(field, "is required"));
    }
    if t.chars().count() > MAX_HINT_CHARS {
        return Err(Error::invalid_input(
            field,
            format!("is longer than {MAX_HINT_CHARS} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(Error::invalid_input(field, "contains a control character"));
    }
    Ok(t.to_string())
}

/// The validators name their own field (`nin`); here the staff typed into `login_hint`.
fn renamed(e: Error, field: &str) -> Error {
    match e {
        Error::InvalidInput { reason, .. } => Error::invalid_input(field, reason),
        other => other,
    }
}

/// The message shown both on the agent's screen and on the customer's device, so the customer can
/// tell the agent's request from anyone else's.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BindingMessage(String);

/// Words a Norwegian or Swedish customer reads easily, with the letters their alphabets add
/// (providers must carry them as UTF-8).
const ADJECTIVES: &[&str] = &[
    "blå", "grønn", "rød", "gul", "søt", "rask", "stø", "klok", "glad", "modig", "stille", "varm",
];
const NOUNS: &[&str] = &[
    "elg", "ørn", "rev", "bjørn", "hare", "laks", "måke", "ugle", "gås", "hval", "sel", "ekorn",
];

impl BindingMessage {
    /// Staff's own message (trimmed; letters, digits, spaces and `.,-!?#+/_`).
    pub fn parse(input: &str) -> Result<BindingMessage> {
        let t = input.trim();
        let bad = |reason: &str| Err(Error::invalid_input("binding_message", reason));
        if t.is_empty() {
            return bad("is empty");
        }
        if t.chars().count() > MAX_BINDING_CHARS {
            return bad("is longer than 20 characters");
        }
        if !t
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || ".,-!?#+/_".contains(c))
        {
            return bad("may contain only letters, digits, spaces and . , - ! ? # + / _");
        }
        Ok(BindingMessage(t.to_string()))
    }

    /// Two words and a number ("grønn måke 47"): easy to read aloud, hard to guess.
    pub fn generate() -> BindingMessage {
        let mut rng = rand::thread_rng();
        let adjective = ADJECTIVES.choose(&mut rng).copied().unwrap_or("blå");
        let noun = NOUNS.choose(&mut rng).copied().unwrap_or("elg");
        let n: u8 = rng.gen_range(10..100);
        BindingMessage(format!("{adjective} {noun} {n}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_are_checked_and_named() {
        let e = LoginHint::parse("  ", HintKind::Text, "", false).unwrap_err();
        assert_eq!(e.field(), Some("login_hint"));
        let e = LoginHint::parse("17029012345", HintKind::NinNo, "", false).unwrap_err();
        assert_eq!(e.field(), Some("login_hint"));
        let e = LoginHint::parse("a\u{7}b", HintKind::Text, "", false).unwrap_err();
        assert_eq!(e.field(), Some("login_hint"));
        let long = "x".repeat(MAX_HINT_CHARS + 1);
        assert!(LoginHint::parse(&long, HintKind::Text, "", false).is_err());

        let h = LoginHint::parse(" 29124815345 ", HintKind::NinNo, "nin:", true).unwrap();
        assert_eq!(h.param(), ("login_hint", "nin:29124815345"));
        assert_eq!(h.masked(), "nin:*******");
        assert!(!format!("{h:?}").contains("29124815345"));
        let h = LoginHint::parse("830406-2717", HintKind::PnrSe, "", false).unwrap();
        assert_eq!(h.param(), ("login_hint", "198304062717"));
        let t = LoginHint::token("eyJ.a.b").unwrap();
        assert_eq!(t.param(), ("login_hint_token", "eyJ.a.b"));
        assert_eq!(
            LoginHint::token("a b").unwrap_err().field(),
            Some("login_hint_token")
        );
    }

    #[test]
    fn binding_messages_are_short_and_readable() {
        for _ in 0..200 {
            let m = BindingMessage::generate();
            assert_eq!(BindingMessage::parse(m.as_str()).unwrap(), m);
        }
        assert_eq!(
            BindingMessage::parse(" Blåbær på kø 7 ").unwrap().as_str(),
            "Blåbær på kø 7"
        );
        for bad in ["", "   ", "a\nb", "<script>", "twenty-one characters"] {
            assert_eq!(
                BindingMessage::parse(bad).unwrap_err().field(),
                Some("binding_message"),
                "{bad:?}"
            );
        }
    }
}
