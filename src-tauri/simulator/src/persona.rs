//! Built-in customers: who they are and what they do on their phone. Keyed by identity (valid
//! test numbers only). Delays here are in "real" seconds and are multiplied by
//! `SimulatorConfig::time_scale`.
//!
//! The Swedish personas play every Swedish BankID flow that names them (QR / app launch, Phone,
//! CIBA, Sign API Phone); "picks up" is scanning, launching or opening the app and confirming the
//! call (`userCallConfirm`):
//!
//! | Personnummer | Name | QR / app launch | Phone (REST `PHONE`, CIBA `phoneAuth`) |
//! |---|---|---|---|
//! | 198304062717 | Anna Andersson | SUCCESS | SUCCESS |
//! | 199010270537 | Erik Avbrytare | ABORT | ABORT (CIBA `access_denied`) |
//! | 199010275312 | Maja Spärrad | ERROR `certificateErr` | ERROR `certificateErr` |
//! | 198503151238 | Sven Borta | ERROR `startFailed` | EXPIRED (a Phone order has no start deadline) |
//! | 198702142343 | Karin Nekar | ERROR `userDeclinedCall` | ERROR `userDeclinedCall` (CIBA `access_denied`, `userDeclinedCall`) |
//! | 199207071235 | Lisa Tyst | EXPIRED | EXPIRED |
//!
//! Any other valid personnummer is interactive (the control API acts for the customer). The
//! Digital ID card does not play personas: its QR payload decides (see [`crate::idcard`]).

use std::time::Duration;

use serde::Serialize;
use time::Date;

use crate::identity;

/// Country that issued a national identity number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Country {
    #[serde(rename = "NO")]
    Norway,
    #[serde(rename = "SE")]
    Sweden,
}

impl Country {
    pub fn code(self) -> &'static str {
        match self {
            Country::Norway => "NO",
            Country::Sweden => "SE",
        }
    }
}

/// The person behind an order: what a successful session reports as its subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Person {
    pub nin: String,
    pub country: Country,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: Date,
}

impl Person {
    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// Why an order fails on the customer's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum FailCode {
    /// BankID blocked or too old.
    CertificateErr,
    /// The QR code / app launch was not picked up in time.
    StartFailed,
    /// The customer chose words that differ from the binding message shown by staff, or (Swedish
    /// BankID Phone) said in the app that they are not in a call with the relying party.
    WrongBindingMessage,
    /// Digital ID card: the scanned QR payload cannot be read.
    InvalidQrData,
    /// Digital ID card: the scanned QR payload was older than its validity.
    IdCardQrExpired,
}

impl FailCode {
    /// The REST `error.code`.
    pub fn rest_code(self) -> &'static str {
        match self {
            FailCode::CertificateErr => "certificateErr",
            FailCode::StartFailed => "startFailed",
            FailCode::WrongBindingMessage => "userDeclinedCall",
            FailCode::InvalidQrData => "invalidQrData",
            FailCode::IdCardQrExpired => "idCardQrExpired",
        }
    }

    /// The legacy OIDC `error` value.
    pub fn oidc_error(self) -> &'static str {
        match self {
            FailCode::CertificateErr => "CERTIFICATE_ERR",
            FailCode::StartFailed => "START_FAILED",
            FailCode::WrongBindingMessage => "USER_DECLINED_CALL",
            // The ID card is REST-only; these spellings only keep the legacy mapping total.
            FailCode::InvalidQrData => "INVALID_QR_DATA",
            FailCode::IdCardQrExpired => "ID_CARD_QR_EXPIRED",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            FailCode::CertificateErr => "Your BankID is blocked or too old.",
            FailCode::StartFailed => "Failed to scan the QR code or start the BankID app.",
            FailCode::WrongBindingMessage => {
                "The customer chose words that differ from the ones shown."
            }
            FailCode::InvalidQrData => "The ID card's QR code could not be read.",
            FailCode::IdCardQrExpired => {
                "The ID card's QR code has expired: ask the customer to show it again."
            }
        }
    }
}

/// One thing the customer does at a moment after the order was created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Step {
    /// Push received / QR scanned / app launched: the customer is now acting in the app.
    PickUp,
    /// Identifies (picks the right words on Safe Conversation).
    Approve,
    /// Cancels in the app.
    Reject,
    /// BankID reports an error.
    Fail(FailCode),
}

/// What a persona does, as steps at offsets from the order's creation (unscaled).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scenario {
    pub description: &'static str,
    pub steps: Vec<(Duration, Step)>,
}

impl Scenario {
    /// Waits for the control API (Training mode's phone panel); expires otherwise.
    pub fn interactive() -> Self {
        Scenario {
            description: "interactive: waits for the control API, expires otherwise",
            steps: Vec::new(),
        }
    }
}

/// A built-in customer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Persona {
    pub person: Person,
    /// For Norwegian BankID on mobile and the legacy `phone-` hint: 8 digits.
    pub phone: Option<&'static str>,
    pub scenario: Scenario,
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn person(nin: &str, first: &str, last: &str) -> Option<Person> {
    let (country, dob) = if nin.len() == 11 {
        (Country::Norway, identity::norwegian_birth_date(nin)?)
    } else {
        (Country::Sweden, identity::swedish_birth_date(nin)?)
    };
    Some(Person {
        nin: nin.to_owned(),
        country,
        first_name: first.to_owned(),
        last_name: last.to_owned(),
        date_of_birth: dob,
    })
}

fn approve_after(s: f64) -> Vec<(Duration, Step)> {
    vec![(secs(s / 2.0), Step::PickUp), (secs(s), Step::Approve)]
}

/// Every built-in persona (the table in the README is generated from the same data).
pub fn all() -> Vec<Persona> {
    let table: [(&str, &str, &str, Option<&'static str>, Scenario); 12] = [
        (
            "29124815345",
            "Kari",
            "Nordmann",
            None,
            Scenario {
                description: "approves after 2 s",
                steps: approve_after(2.0),
            },
        ),
        (
            "01100844350",
            "Ola",
            "Nordmann",
            None,
            Scenario {
                description: "aborts in the app after 2 s",
                steps: vec![(secs(1.0), Step::PickUp), (secs(2.0), Step::Reject)],
            },
        ),
        (
            "15059000141",
            "Nils",
            "Stille",
            None,
            Scenario {
                description: "opens the app after 1 s, never answers (session expires)",
                steps: vec![(secs(1.0), Step::PickUp)],
            },
        ),
        (
            "23017500112",
            "Berit",
            "Sperret",
            None,
            Scenario {
                description: "fails with certificateErr after 1 s",
                steps: vec![(secs(1.0), Step::Fail(FailCode::CertificateErr))],
            },
        ),
        (
            "30049200079",
            "Per",
            "Feilvalg",
            None,
            Scenario {
                description: "picks the WRONG binding message after 2 s (ERROR userDeclinedCall)",
                steps: vec![
                    (secs(1.0), Step::PickUp),
                    (secs(2.0), Step::Fail(FailCode::WrongBindingMessage)),
                ],
            },
        ),
        (
            "07128300141",
            "Kari",
            "Mobil",
            Some("99887766"),
            Scenario {
                description: "approves after 2 s",
                steps: approve_after(2.0),
            },
        ),
        (
            "23017500384",
            "Trond",
            "Avbryter",
            Some("91234567"),
            Scenario {
                description: "aborts in the app after 2 s",
                steps: vec![(secs(1.0), Step::PickUp), (secs(2.0), Step::Reject)],
            },
        ),
        (
            "15059000222",
            "Siri",
            "Taus",
            Some("48123456"),
            Scenario {
                description: "never answers (session expires)",
                steps: vec![(secs(1.0), Step::PickUp)],
            },
        ),
        (
            "198304062717",
            "Anna",
            "Andersson",
            None,
            Scenario {
                description: "scans/launches/confirms the call after 1 s, approves after 2 s",
                steps: approve_after(2.0),
            },
        ),
        (
            "199010270537",
            "Erik",
            "Avbrytare",
            None,
            Scenario {
                description:
                    "scans after 1 s, cancels in the app after 2 s (userCancel: REST ABORT)",
                steps: vec![(secs(1.0), Step::PickUp), (secs(2.0), Step::Reject)],
            },
        ),
        (
            "199010275312",
            "Maja",
            "Spärrad",
            None,
            Scenario {
                description: "scans after 1 s, fails with certificateErr after 2 s",
                steps: vec![
                    (secs(1.0), Step::PickUp),
                    (secs(2.0), Step::Fail(FailCode::CertificateErr)),
                ],
            },
        ),
        (
            "198503151238",
            "Sven",
            "Borta",
            None,
            Scenario {
                description: "never scans: startFailed after qr_scan_timeout",
                steps: Vec::new(),
            },
        ),
    ];
    let mut out: Vec<Persona> = table
        .into_iter()
        .filter_map(|(nin, first, last, phone, scenario)| {
            Some(Persona {
                person: person(nin, first, last)?,
                phone,
                scenario,
            })
        })
        .collect();
    if let Some(p) = person("198702142343", "Karin", "Nekar") {
        out.push(Persona {
            person: p,
            phone: None,
            scenario: Scenario {
                description: "opens after 1 s, says she is not in a call with you after 2 s (userDeclinedCall)",
                steps: vec![
                    (secs(1.0), Step::PickUp),
                    (secs(2.0), Step::Fail(FailCode::WrongBindingMessage)),
                ],
            },
        });
    }
    if let Some(p) = person("199207071235", "Lisa", "Tyst") {
        out.push(Persona {
            person: p,
            phone: None,
            scenario: Scenario {
                description: "scans/opens after 1 s, never answers (session expires)",
                steps: vec![(secs(1.0), Step::PickUp)],
            },
        });
    }
    out
}

/// The persona with this national identity number, if any.
pub fn by_nin(nin: &str) -> Option<Persona> {
    all().into_iter().find(|p| p.person.nin == nin)
}

/// The persona with this Norwegian mobile number (8 digits) and birth date, if any. A known phone
/// with another birth date is not that persona.
pub fn by_phone(phone: &str, dob: Date) -> Option<Persona> {
    all()
        .into_iter()
        .find(|p| p.phone == Some(phone) && p.person.date_of_birth == dob)
}

/// Someone the simulator does not know (interactive scenario).
pub fn stranger_norwegian(nin: &str) -> Option<Person> {
    person(nin, "Test", "Kunde")
}

pub fn stranger_swedish(pnr: &str) -> Option<Person> {
    person(pnr, "Test", "Kund")
}

/// The unknown customer behind a phone number: a valid synthetic number for their birth date.
pub fn stranger_by_birth_date(dob: Date) -> Option<Person> {
    let nin = identity::synthesize_norwegian_nin(dob)?;
    person(&nin, "Test", "Mobilkunde")
}

/// Who approves a Swedish QR order that was created without a personnummer.
pub fn anonymous_swedish() -> Option<Person> {
    person("197711201231", "Test", "Kund")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_persona_has_a_valid_identity_and_unique_key() {
        let all = all();
        assert_eq!(all.len(), 14, "a persona number failed its check digits");
        let mut nins: Vec<_> = all.iter().map(|p| p.person.nin.clone()).collect();
        nins.sort();
        nins.dedup();
        assert_eq!(nins.len(), all.len());
        for p in &all {
            if let Some(phone) = p.phone {
                assert!(identity::norwegian_mobile_national(phone).is_some());
            }
        }
        assert!(anonymous_swedish().is_some());
    }
}
