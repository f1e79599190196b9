//! Session statuses of the Authentication REST API (`signicat-api.md` §1.5).

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use super::{normalise_code, Lang};

/// A REST session status. Anything Signicat sends that we do not know is kept as `Unknown(raw)`:
/// it is not terminal, so polling goes on until `expiresAt`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RestStatus {
    Created,
    WaitingForUser,
    Success,
    Abort,
    Error,
    Cancelled,
    Expired,
    Invalid,
    Unknown(String),
}

impl RestStatus {
    pub const KNOWN: [RestStatus; 8] = [
        RestStatus::Created,
        RestStatus::WaitingForUser,
        RestStatus::Success,
        RestStatus::Abort,
        RestStatus::Error,
        RestStatus::Cancelled,
        RestStatus::Expired,
        RestStatus::Invalid,
    ];

    /// Case-insensitive; never fails.
    pub fn parse(raw: &str) -> Self {
        match normalise_code(raw).as_str() {
            "created" => RestStatus::Created,
            "waitingforuser" => RestStatus::WaitingForUser,
            "success" => RestStatus::Success,
            "abort" => RestStatus::Abort,
            "error" => RestStatus::Error,
            "cancelled" => RestStatus::Cancelled,
            "expired" => RestStatus::Expired,
            "invalid" => RestStatus::Invalid,
            _ => RestStatus::Unknown(raw.to_string()),
        }
    }

    /// The wire form (`WAITING_FOR_USER`); an unknown status keeps its raw text.
    pub fn as_str(&self) -> &str {
        match self {
            RestStatus::Created => "CREATED",
            RestStatus::WaitingForUser => "WAITING_FOR_USER",
            RestStatus::Success => "SUCCESS",
            RestStatus::Abort => "ABORT",
            RestStatus::Error => "ERROR",
            RestStatus::Cancelled => "CANCELLED",
            RestStatus::Expired => "EXPIRED",
            RestStatus::Invalid => "INVALID",
            RestStatus::Unknown(raw) => raw,
        }
    }

    /// Polling stops at a terminal status.
    pub fn is_terminal(&self) -> bool {
        !matches!(
            self,
            RestStatus::Created | RestStatus::WaitingForUser | RestStatus::Unknown(_)
        )
    }

    pub fn message(&self, lang: Lang) -> String {
        let text = match self {
            RestStatus::Created => lang.pick(
                "Waiting for the customer to open BankID.",
                "Venter på at kunden åpner BankID.",
                "Väntar på att kunden öppnar BankID.",
            ),
            RestStatus::WaitingForUser => lang.pick(
                "The customer is using the BankID app.",
                "Kunden er i gang i BankID-appen.",
                "Kunden använder BankID-appen.",
            ),
            RestStatus::Success => lang.pick(
                "The customer is identified.",
                "Kunden er identifisert.",
                "Kunden är identifierad.",
            ),
            RestStatus::Abort => lang.pick(
                "The customer cancelled in the BankID app.",
                "Kunden avbrøt i BankID-appen.",
                "Kunden avbröt i BankID-appen.",
            ),
            RestStatus::Error => lang.pick(
                "BankID reported an error. Please try again.",
                "BankID meldte en feil. Prøv igjen.",
                "BankID rapporterade ett fel. Försök igen.",
            ),
            RestStatus::Cancelled => lang.pick(
                "The session was cancelled.",
                "Økten ble avbrutt.",
                "Sessionen avbröts.",
            ),
            RestStatus::Expired => lang.pick(
                "The session expired before the customer finished.",
                "Økten gikk ut før kunden ble ferdig.",
                "Sessionen gick ut innan kunden var klar.",
            ),
            RestStatus::Invalid => lang.pick(
                "Signicat marked the session as invalid. Please start again.",
                "Signicat merket økten som ugyldig. Start på nytt.",
                "Signicat markerade sessionen som ogiltig. Börja om.",
            ),
            RestStatus::Unknown(raw) => {
                let prefix = lang.pick(
                    "Status from Signicat",
                    "Status fra Signicat",
                    "Status från Signicat",
                );
                return format!("{prefix}: {raw}");
            }
        };
        text.to_string()
    }
}

impl FromStr for RestStatus {
    type Err = Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(RestStatus::parse(s))
    }
}

impl fmt::Display for RestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_and_round_trips() {
        for s in RestStatus::KNOWN {
            assert_eq!(RestStatus::parse(s.as_str()), s);
            assert_eq!(RestStatus::parse(&s.as_str().to_lowercase()), s);
        }
        assert_eq!(
            "waiting_for_user".parse::<RestStatus>().unwrap(),
            RestStatus::WaitingForUser
        );
    }

    #[test]
    fn terminal_statuses() {
        let terminal: Vec<_> = RestStatus::KNOWN
            .iter()
            .filter(|s| s.is_terminal())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            terminal,
            [
                "SUCCESS",
                "ABORT",
                "ERROR",
                "CANCELLED",
                "EXPIRED",
                "INVALID"
            ]
        );
        assert!(!RestStatus::parse("PENDING_SOMETHING").is_terminal());
    }

    #[test]
    fn every_status_has_a_text_in_every_language() {
        for s in RestStatus::KNOWN {
            let texts: Vec<String> = Lang::ALL.iter().map(|l| s.message(*l)).collect();
            for t in &texts {
                assert!(!t.trim().is_empty(), "{s:?}");
            }
            assert_ne!(texts[0], texts[1], "{s:?} en/nb");
            assert_ne!(texts[0], texts[2], "{s:?} en/sv");
        }
    }

    #[test]
    fn unknown_keeps_the_raw_status() {
        let s = RestStatus::parse("Queued_Somewhere");
        assert_eq!(s, RestStatus::Unknown("Queued_Somewhere".into()));
        assert_eq!(s.as_str(), "Queued_Somewhere");
        for lang in Lang::ALL {
            assert!(s.message(lang).ends_with(": Queued_Somewhere"));
        }
    }
}
