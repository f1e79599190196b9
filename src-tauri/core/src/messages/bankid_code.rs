//! Swedish BankID progress and failure codes, with BankID's recommended user messages (RFA).
//! Legacy OIDC sends them in caps (`USER_SIGN`), the REST API in camelCase (`userSign`).

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use super::{normalise_code, Lang};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BankIdState {
    /// The order goes on: keep polling.
    Pending,
    /// The order is over.
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BankIdCode {
    OutstandingTransaction,
    NoClient,
    Started,
    UserSign,
    UserCallConfirm,
    ExpiredTransaction,
    CertificateErr,
    UserCancel,
    Cancelled,
    StartFailed,
    UserDeclinedCall,
    AlreadyInProgress,
    /// A code we do not know, kept raw for the log. Its state comes from where it was seen.
    Unknown(String),
}

impl BankIdCode {
    pub const KNOWN: [BankIdCode; 12] = [
        BankIdCode::OutstandingTransaction,
        BankIdCode::NoClient,
        BankIdCode::Started,
        BankIdCode::UserSign,
        BankIdCode::UserCallConfirm,
        BankIdCode::ExpiredTransaction,
        BankIdCode::CertificateErr,
        BankIdCode::UserCancel,
        BankIdCode::Cancelled,
        BankIdCode::StartFailed,
        BankIdCode::UserDeclinedCall,
        BankIdCode::AlreadyInProgress,
    ];

    /// camelCase or legacy CAPS, case-insensitive; never fails.
    pub fn parse(raw: &str) -> Self {
        match normalise_code(raw).as_str() {
            "outstandingtransaction" => BankIdCode::OutstandingTransaction,
            "noclient" => BankIdCode::NoClient,
            "started" => BankIdCode::Started,
            "usersign" => BankIdCode::UserSign,
            "usercallconfirm" => BankIdCode::UserCallConfirm,
            "expiredtransaction" => BankIdCode::ExpiredTransaction,
            "certificateerr" => BankIdCode::CertificateErr,
            "usercancel" => BankIdCode::UserCancel,
            "cancelled" => BankIdCode::Cancelled,
            "startfailed" => BankIdCode::StartFailed,
            "userdeclinedcall" => BankIdCode::UserDeclinedCall,
            "alreadyinprogress" => BankIdCode::AlreadyInProgress,
            _ => BankIdCode::Unknown(raw.to_string()),
        }
    }

    /// The camelCase form; an unknown code keeps its raw text.
    pub fn as_str(&self) -> &str {
        match self {
            BankIdCode::OutstandingTransaction => "outstandingTransaction",
            BankIdCode::NoClient => "noClient",
            BankIdCode::Started => "started",
            BankIdCode::UserSign => "userSign",
            BankIdCode::UserCallConfirm => "userCallConfirm",
            BankIdCode::ExpiredTransaction => "expiredTransaction",
            BankIdCode::CertificateErr => "certificateErr",
            BankIdCode::UserCancel => "userCancel",
            BankIdCode::Cancelled => "cancelled",
            BankIdCode::StartFailed => "startFailed",
            BankIdCode::UserDeclinedCall => "userDeclinedCall",
            BankIdCode::AlreadyInProgress => "alreadyInProgress",
            BankIdCode::Unknown(raw) => raw,
        }
    }

    /// `None` for an unknown code: only the caller knows whether it came as a progress status
    /// (pending) or as an error (failed).
    pub fn state(&self) -> Option<BankIdState> {
        match self {
            BankIdCode::OutstandingTransaction
            | BankIdCode::NoClient
            | BankIdCode::Started
            | BankIdCode::UserSign
            | BankIdCode::UserCallConfirm => Some(BankIdState::Pending),
            BankIdCode::ExpiredTransaction
            | BankIdCode::CertificateErr
            | BankIdCode::UserCancel
            | BankIdCode::Cancelled
            | BankIdCode::StartFailed
            | BankIdCode::UserDeclinedCall
            | BankIdCode::AlreadyInProgress => Some(BankIdState::Failed),
            BankIdCode::Unknown(_) => None,
        }
    }

    /// The state, with `unknown` for a code we do not know.
    pub fn state_or(&self, unknown: BankIdState) -> BankIdState {
        self.state().unwrap_or(unknown)
    }

    /// BankID's message id (`RFA9`); `qr` chooses between the QR and same-device variants.
    /// `None` for the call-centre codes, which have no RFA message.
    pub fn rfa(&self, qr: bool) -> Option<&'static str> {
        Some(match self {
            BankIdCode::OutstandingTransaction if qr => "RFA1",
            BankIdCode::OutstandingTransaction => "RFA13",
            BankIdCode::NoClient => "RFA1",
            BankIdCode::Started => "RFA15B",
            BankIdCode::UserSign => "RFA9",
            BankIdCode::ExpiredTransaction => "RFA8",
            BankIdCode::CertificateErr => "RFA16",
            BankIdCode::UserCancel => "RFA6",
            BankIdCode::Cancelled => "RFA3",
            BankIdCode::StartFailed if qr => "RFA17B",
            BankIdCode::StartFailed => "RFA17A",
            BankIdCode::AlreadyInProgress => "RFA4",
            BankIdCode::UserCallConfirm | BankIdCode::UserDeclinedCall => return None,
            BankIdCode::Unknown(_) => return None,
        })
    }

    /// The message for this code; an unknown code is treated as pending (RFA21). Use
    /// `message_as` where an unknown code arrived as a failure.
    pub fn message(&self, lang: Lang, qr: bool) -> String {
        self.message_as(lang, qr, BankIdState::Pending)
    }

    /// The message for this code; an unknown code gets RFA21 (`unknown` = pending) or RFA22
    /// (failed). The raw code is not part of the text: log it from `as_str`.
    pub fn message_as(&self, lang: Lang, qr: bool, unknown: BankIdState) -> String {
        let text = match self {
            BankIdCode::OutstandingTransaction if !qr => lang.pick(
                "Trying to start your BankID app.",
                "Prøver å starte BankID-appen.",
                "Försöker starta BankID-appen.",
            ),
            BankIdCode::OutstandingTransaction | BankIdCode::NoClient => lang.pick(
                "Start your BankID app.",
                "Start BankID-appen.",
                "Starta BankID-appen.",
            ),
            BankIdCode::Started => lang.pick(
                "Searching for BankID. Make sure you have a valid BankID on this device.",
                "Søker etter BankID. Sjekk at det finnes en gyldig BankID på denne enheten.",
                "Söker efter BankID. Säkerställ att du har ett giltigt BankID på den här enheten.",
            ),
            BankIdCode::UserSign => lang.pick(
                "Enter your security code in the BankID app and select Identify or Sign.",
                "Skriv inn sikkerhetskoden i BankID-appen og velg Identifiser eller Signer.",
                "Skriv in din säkerhetskod i BankID-appen och välj Identifiera eller Skriv under.",
            ),
            BankIdCode::UserCallConfirm => lang.pick(
                "The customer is confirming the call in the BankID app.",
                "Kunden bekrefter samtalet i BankID-appen.",
                "Kunden bekräftar samtalet i BankID-appen.",
            ),
            BankIdCode::ExpiredTransaction => lang.pick(
                "The BankID app is not responding. Please check that it's started and that you have internet access.",
                "BankID-appen svarer ikke. Sjekk at den er startet og at det er internettilgang.",
                "BankID-appen svarar inte. Kontrollera att den är startad och att du har internetanslutning.",
            ),
            BankIdCode::CertificateErr => lang.pick(
                "Your BankID is blocked or too old. Please use another BankID or get a new one from your bank.",
                "BankID-en er sperret eller for gammel. Bruk en annen BankID eller skaff en ny i banken.",
                "Ditt BankID är för gammalt eller spärrat. Använd ett annat BankID eller skaffa ett nytt hos din bank.",
            ),
            BankIdCode::UserCancel => lang.pick(
                "The action was cancelled.",
                "Handlingen ble avbrutt.",
                "Åtgärden avbröts.",
            ),
            BankIdCode::Cancelled => lang.pick(
                "The action was cancelled. Please try again.",
                "Handlingen ble avbrutt. Prøv igjen.",
                "Åtgärden avbruten. Försök igen.",
            ),
            BankIdCode::StartFailed if qr => lang.pick(
                "Failed to scan the QR code. Start the BankID app and scan the QR code.",
                "Klarte ikke å lese QR-koden. Start BankID-appen og les QR-koden.",
                "Misslyckades att läsa av QR-koden. Starta BankID-appen och läs av QR-koden.",
            ),
            // RFA17A: not in bankid.md's table; BankID's guideline text for the same-device case.
            BankIdCode::StartFailed => lang.pick(
                "The BankID app couldn't be found on your computer or mobile device. Please install it and get a BankID from your bank.",
                "Fant ikke BankID-appen på denne enheten. Installer den og skaff en BankID i banken.",
                "BankID-appen verkar inte finnas i din dator eller telefon. Installera den och skaffa ett BankID hos din bank.",
            ),
            BankIdCode::UserDeclinedCall => lang.pick(
                "The customer said in the BankID app that they are not in a call with us.",
                "Kunden svarte i BankID-appen at de ikke er i en samtale med oss.",
                "Kunden angav i BankID-appen att hen inte är i samtal med oss.",
            ),
            BankIdCode::AlreadyInProgress => lang.pick(
                "An identification or signing for this personal number is already started. Please try again.",
                "En identifisering eller signering for dette personnummeret er allerede startet. Prøv igjen.",
                "En identifiering eller underskrift för det här personnumret är redan påbörjad. Försök igen.",
            ),
            BankIdCode::Unknown(_) => match unknown {
                BankIdState::Pending => lang.pick(
                    "An identification or signing is in progress.",
                    "En identifisering eller signering pågår.",
                    "En identifiering eller underskrift pågår.",
                ),
                BankIdState::Failed => lang.pick(
                    "Something went wrong. Please try again.",
                    "Noe gikk galt. Prøv igjen.",
                    "Något gick fel. Försök igen.",
                ),
            },
        };
        text.to_string()
    }
}

impl FromStr for BankIdCode {
    type Err = Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(BankIdCode::parse(s))
    }
}

impl fmt::Display for BankIdCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_camel_case_and_caps() {
        for code in BankIdCode::KNOWN {
            let camel = code.as_str().to_string();
            let caps: String = camel
                .chars()
                .flat_map(|c| {
                    if c.is_ascii_uppercase() {
                        vec!['_', c]
                    } else {
                        vec![c.to_ascii_uppercase()]
                    }
                })
                .collect();
            assert_eq!(BankIdCode::parse(&camel), code);
            assert_eq!(BankIdCode::parse(&caps), code, "{caps}");
            assert_eq!(BankIdCode::parse(&camel.to_lowercase()), code);
        }
        assert_eq!(BankIdCode::parse("USER_SIGN"), BankIdCode::UserSign);
        assert_eq!(
            BankIdCode::parse("OUTSTANDING_TRANSACTION"),
            BankIdCode::OutstandingTransaction
        );
    }

    #[test]
    fn every_code_has_a_text_in_every_language_both_ways() {
        for code in BankIdCode::KNOWN {
            for qr in [true, false] {
                for lang in Lang::ALL {
                    assert!(!code.message(lang, qr).trim().is_empty(), "{code:?}");
                }
                assert_ne!(code.message(Lang::En, qr), code.message(Lang::Sv, qr));
                assert_ne!(code.message(Lang::En, qr), code.message(Lang::Nb, qr));
            }
            assert!(code.state().is_some());
        }
    }

    #[test]
    fn qr_chooses_the_rfa_variant() {
        let o = BankIdCode::OutstandingTransaction;
        assert_eq!((o.rfa(true), o.rfa(false)), (Some("RFA1"), Some("RFA13")));
        assert_eq!(o.message(Lang::Sv, true), "Starta BankID-appen.");
        assert_eq!(o.message(Lang::Sv, false), "Försöker starta BankID-appen.");
        let s = BankIdCode::StartFailed;
        assert_eq!(
            (s.rfa(true), s.rfa(false)),
            (Some("RFA17B"), Some("RFA17A"))
        );
        assert_eq!(
            s.message(Lang::Sv, true),
            "Misslyckades att läsa av QR-koden. Starta BankID-appen och läs av QR-koden."
        );
        assert_ne!(s.message(Lang::En, true), s.message(Lang::En, false));
    }

    #[test]
    fn unknown_codes_fall_back_and_keep_the_raw_code() {
        let u = BankIdCode::parse("NEW_FANCY_STATE");
        assert_eq!(u, BankIdCode::Unknown("NEW_FANCY_STATE".into()));
        assert_eq!(u.as_str(), "NEW_FANCY_STATE");
        assert_eq!(u.state(), None);
        assert_eq!(u.state_or(BankIdState::Failed), BankIdState::Failed);
        assert_eq!(
            u.message(Lang::Sv, true),
            "En identifiering eller underskrift pågår."
        );
        assert_eq!(
            u.message_as(Lang::Sv, true, BankIdState::Failed),
            "Något gick fel. Försök igen."
        );
        assert_eq!(
            u.message_as(Lang::En, false, BankIdState::Failed),
            "Something went wrong. Please try again."
        );
        for lang in Lang::ALL {
            assert!(!u.message_as(lang, false, BankIdState::Failed).is_empty());
        }
    }

    #[test]
    fn states_follow_the_table() {
        assert_eq!(BankIdCode::UserSign.state(), Some(BankIdState::Pending));
        assert_eq!(
            BankIdCode::UserCallConfirm.state(),
            Some(BankIdState::Pending)
        );
        assert_eq!(BankIdCode::StartFailed.state(), Some(BankIdState::Failed));
        assert_eq!(
            BankIdCode::UserDeclinedCall.state(),
            Some(BankIdState::Failed)
        );
    }
}
