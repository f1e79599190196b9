//! Staff-language texts: English, Norwegian (bokmål) and Swedish. Swedish BankID texts follow
//! BankID's recommended messages (RFA codes, `/work/shared/reference/bankid.md`); the Norwegian ones
//! are ours. Every lookup has a fallback, and fallbacks for codes we do not know keep the raw code.

mod bankid_code;
mod engine;
mod rest_status;

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

pub use bankid_code::{BankIdCode, BankIdState};
pub use engine::error_message;
pub use rest_status::RestStatus;

/// The staff member's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Nb,
    Sv,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Nb, Lang::Sv];

    /// `en`, `nb`, `sv`: also the value of Signicat's `language` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Nb => "nb",
            Lang::Sv => "sv",
        }
    }

    /// Picks the text for this language.
    pub(crate) fn pick<'a>(self, en: &'a str, nb: &'a str, sv: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Nb => nb,
            Lang::Sv => sv,
        }
    }
}

impl FromStr for Lang {
    type Err = Error;

    /// `en`, `nb`, `sv`, and `no` for bokmål (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Lang::En),
            "nb" | "no" => Ok(Lang::Nb),
            "sv" => Ok(Lang::Sv),
            _ => Err(Error::invalid_input("lang", "must be en, nb or sv")),
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Staff are told their PC's clock is off by `skew_secs` (positive: behind Signicat's).
pub fn clock_skew(skew_secs: i64, lang: Lang) -> String {
    let mins = skew_secs.unsigned_abs().div_ceil(60);
    let (en, nb, sv) = if skew_secs > 0 {
        ("behind", "etter", "efter")
    } else {
        ("ahead of", "foran", "före")
    };
    match lang {
        Lang::En => format!(
            "This PC's clock is about {mins} min {en} Signicat's. The flow still runs on Signicat's time; ask IT to correct the clock."
        ),
        Lang::Nb => format!(
            "Klokken på denne PC-en går omtrent {mins} min {nb} Signicats. Flyten følger likevel Signicats tid; be IT rette klokken."
        ),
        Lang::Sv => format!(
            "Den här datorns klocka går ungefär {mins} min {sv} Signicats. Flödet följer ändå Signicats tid; be IT rätta klockan."
        ),
    }
}

/// Lowercase with `_` and `-` removed: `USER_SIGN`, `userSign` and `user-sign` compare equal.
pub(crate) fn normalise_code(raw: &str) -> String {
    raw.trim()
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lang_parses_and_serialises() {
        assert_eq!("en".parse::<Lang>().unwrap(), Lang::En);
        assert_eq!("NB".parse::<Lang>().unwrap(), Lang::Nb);
        assert_eq!("no".parse::<Lang>().unwrap(), Lang::Nb);
        assert_eq!(" sv ".parse::<Lang>().unwrap(), Lang::Sv);
        let e = "de".parse::<Lang>().unwrap_err();
        assert_eq!(e.field(), Some("lang"));
        assert_eq!(serde_json::to_string(&Lang::Nb).unwrap(), "\"nb\"");
        assert_eq!(serde_json::from_str::<Lang>("\"sv\"").unwrap(), Lang::Sv);
        assert_eq!(Lang::default(), Lang::En);
    }
}
