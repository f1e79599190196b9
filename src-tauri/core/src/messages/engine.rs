//! Staff texts for the engine's error codes (`Error::code()`) and for flow outcomes.

use super::Lang;

/// A short, plain staff text for an engine error code or a flow outcome. An unknown code gets a
/// general text that keeps the raw code, so support can still find it.
pub fn error_message(code: &str, lang: Lang) -> String {
    let text = match code.trim().to_ascii_lowercase().as_str() {
        "invalid_input" => lang.pick(
            "Check the highlighted field.",
            "Sjekk feltet som er merket.",
            "Kontrollera det markerade fältet.",
        ),
        "invalid_config" => lang.pick(
            "The profile settings are incomplete or wrong. Check Settings.",
            "Profilinnstillingene er ufullstendige eller feil. Sjekk Innstillinger.",
            "Profilinställningarna är ofullständiga eller fel. Kontrollera Inställningar.",
        ),
        "not_allowed_by_policy" => lang.pick(
            "Your IT department's policy does not allow this on this PC.",
            "IT-avdelingens policy tillater ikke dette på denne PC-en.",
            "IT-avdelningens policy tillåter inte detta på den här datorn.",
        ),
        "untrusted_certificate" => lang.pick(
            "This PC does not trust the server's certificate, so nothing was sent. Call your IT department.",
            "Denne PC-en stoler ikke på serverens sertifikat, så ingenting ble sendt. Ring IT-avdelingen.",
            "Den här datorn litar inte på serverns certifikat, så inget skickades. Ring IT-avdelningen.",
        ),
        "network" => lang.pick(
            "Could not reach Signicat. Check the network connection and try again.",
            "Fikk ikke kontakt med Signicat. Sjekk nettverket og prøv igjen.",
            "Kunde inte nå Signicat. Kontrollera nätverket och försök igen.",
        ),
        "outcome_unknown" => lang.pick(
            "No answer from Signicat: the session may have started. Check the customer's phone before starting again.",
            "Ikke noe svar fra Signicat: økten kan ha startet. Sjekk kundens telefon før du starter på nytt.",
            "Inget svar från Signicat: sessionen kan ha startat. Kontrollera kundens telefon innan du börjar om.",
        ),
        "api_error" => lang.pick(
            "Signicat refused the request.",
            "Signicat avviste forespørselen.",
            "Signicat avvisade begäran.",
        ),
        "unauthorized" => lang.pick(
            "Signicat rejected our credentials. Check the client id and secret in Settings.",
            "Signicat avviste påloggingsdataene. Sjekk klient-id og hemmelighet i Innstillinger.",
            "Signicat avvisade inloggningsuppgifterna. Kontrollera klient-id och hemlighet i Inställningar.",
        ),
        "protocol" => lang.pick(
            "Signicat sent an answer we could not read. Please try again.",
            "Signicat sendte et svar vi ikke kunne lese. Prøv igjen.",
            "Signicat skickade ett svar som inte gick att läsa. Försök igen.",
        ),
        "id_token_invalid" => lang.pick(
            "The identity could not be verified. Please start again.",
            "Identiteten kunne ikke bekreftes. Start på nytt.",
            "Identiteten kunde inte bekräftas. Börja om.",
        ),
        "state_mismatch" => lang.pick(
            "The answer did not belong to this request. Please start again.",
            "Svaret hørte ikke til denne forespørselen. Start på nytt.",
            "Svaret hörde inte till den här begäran. Börja om.",
        ),
        "provider_error" => lang.pick(
            "BankID reported an error. Please try again.",
            "BankID meldte en feil. Prøv igjen.",
            "BankID rapporterade ett fel. Försök igen.",
        ),
        "already_running" => lang.pick(
            "A flow for this customer is already running. Cancel it first.",
            "Det pågår allerede en økt for denne kunden. Avbryt den først.",
            "En session för den här kunden pågår redan. Avbryt den först.",
        ),
        "keyring_unavailable" => lang.pick(
            "The system keychain is not available, so secrets cannot be stored or read.",
            "Systemets nøkkelring er ikke tilgjengelig, så hemmeligheter kan ikke lagres eller leses.",
            "Systemets nyckelring är inte tillgänglig, så hemligheter kan inte sparas eller läsas.",
        ),
        "secret_missing" => lang.pick(
            "A secret this profile needs is not stored. Add it in Settings.",
            "En hemmelighet profilen trenger er ikke lagret. Legg den inn i Innstillinger.",
            "En hemlighet som profilen behöver är inte sparad. Lägg till den i Inställningar.",
        ),
        "keyring" => lang.pick(
            "The system keychain reported an error.",
            "Systemets nøkkelring meldte en feil.",
            "Systemets nyckelring rapporterade ett fel.",
        ),
        "vault" => lang.pick(
            "The evidence store failed. The result may not be saved.",
            "Bevislageret feilet. Resultatet er kanskje ikke lagret.",
            "Bevisarkivet misslyckades. Resultatet kanske inte är sparat.",
        ),
        "evidence_mismatch" => lang.pick(
            "Stored evidence does not match its recorded fingerprint.",
            "Lagret bevis stemmer ikke med det registrerte fingeravtrykket.",
            "Sparat bevis stämmer inte med det registrerade fingeravtrycket.",
        ),
        "not_found" => lang.pick("Not found.", "Ikke funnet.", "Hittades inte."),
        "io" => lang.pick(
            "A local file could not be read or written.",
            "En lokal fil kunne ikke leses eller skrives.",
            "En lokal fil kunde inte läsas eller skrivas.",
        ),
        "succeeded" => lang.pick(
            "The customer is identified.",
            "Kunden er identifisert.",
            "Kunden är identifierad.",
        ),
        "signed" => lang.pick(
            "The customer has signed. The evidence is saved.",
            "Kunden har signert. Beviset er lagret.",
            "Kunden har skrivit under. Beviset är sparat.",
        ),
        "aborted" | "abort" => lang.pick(
            "The customer cancelled in the BankID app.",
            "Kunden avbrøt i BankID-appen.",
            "Kunden avbröt i BankID-appen.",
        ),
        "cancelled" => lang.pick(
            "The session was cancelled.",
            "Økten ble avbrutt.",
            "Sessionen avbröts.",
        ),
        "expired" => lang.pick(
            "The session expired before the customer finished.",
            "Økten gikk ut før kunden ble ferdig.",
            "Sessionen gick ut innan kunden var klar.",
        ),
        "identity_mismatch" => lang.pick(
            "The person who signed is not the customer you asked for. Nothing was recorded as signed; the evidence is kept for review.",
            "Personen som signerte er ikke kunden du ba om. Ingenting ble registrert som signert; beviset er tatt vare på for gjennomgang.",
            "Personen som skrev under är inte kunden du bad om. Inget registrerades som underskrivet; beviset sparas för granskning.",
        ),
        "document_mismatch" => lang.pick(
            "The signature Signicat returned is not of the text shown to the customer. Nothing was recorded as signed; the evidence is kept for review.",
            "Signaturen fra Signicat gjelder ikke teksten kunden ble vist. Ingenting ble registrert som signert; beviset er tatt vare på for gjennomgang.",
            "Underskriften från Signicat gäller inte texten som kunden visades. Inget registrerades som underskrivet; beviset sparas för granskning.",
        ),
        "signed_evidence_pending" => lang.pick(
            "The customer has signed, but the evidence could not be saved on this PC yet. Do not ask the customer to sign again: ID Desk keeps trying and History shows when it is saved.",
            "Kunden har signert, men beviset kunne ikke lagres på denne PC-en ennå. Ikke be kunden signere på nytt: ID Desk prøver igjen, og Historikk viser når det er lagret.",
            "Kunden har skrivit under, men beviset kunde inte sparas på den här datorn ännu. Be inte kunden skriva under igen: ID Desk försöker igen och Historik visar när det är sparat.",
        ),
        "disk_full" => lang.pick(
            "Too little free disk space to keep a signature's evidence. Nothing was sent; free some space or call IT support.",
            "For lite ledig diskplass til å ta vare på beviset for en signatur. Ingenting ble sendt; frigjør plass eller ring IT-støtte.",
            "För lite ledigt diskutrymme för att spara beviset för en underskrift. Inget skickades; frigör utrymme eller ring IT-supporten.",
        ),
        "user_declined_call" => lang.pick(
            "The customer did not confirm the call: do not retry. End the call per your fraud routine.",
            "Kunden bekreftet ikke samtalen: ikke prøv igjen. Avslutt samtalen etter rutinen for svindel.",
            "Kunden bekräftade inte samtalet: försök inte igen. Avsluta samtalet enligt er rutin för bedrägeriförsök.",
        ),
        "idcard_expired" => lang.pick(
            "The ID card's QR code expired before it was checked: ask the customer to show the ID card again and scan the new code at once.",
            "QR-koden på ID-kortet gikk ut før den ble sjekket: be kunden vise ID-kortet igjen og skann den nye koden med en gang.",
            "ID-kortets QR-kod hann gå ut innan den kontrollerades: be kunden visa ID-kortet igen och skanna den nya koden direkt.",
        ),
        "idcard_invalid" => lang.pick(
            "BankID could not read the scanned code: ask the customer to open ID-kort in the BankID app and scan again.",
            "BankID kunne ikke lese koden som ble skannet: be kunden åpne ID-kort i BankID-appen og skann igjen.",
            "BankID kunde inte läsa den skannade koden: be kunden öppna ID-kort i BankID-appen och skanna igen.",
        ),
        "authorization_pending" => lang.pick(
            "Waiting for the customer to confirm on their device. Read the words on the screen aloud.",
            "Venter på at kunden bekrefter på sin enhet. Les ordene på skjermen høyt.",
            "Väntar på att kunden bekräftar på sin enhet. Läs upp orden på skärmen.",
        ),
        "failed" => lang.pick(
            "The session failed. Please try again.",
            "Økten mislyktes. Prøv igjen.",
            "Sessionen misslyckades. Försök igen.",
        ),
        _ => {
            let text = lang.pick(
                "Something went wrong",
                "Noe gikk galt",
                "Något gick fel",
            );
            return format!("{text} ({code}).");
        }
    };
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn every_error() -> Vec<Error> {
        vec![
            Error::invalid_input("nin", "x"),
            Error::invalid_config("rest.base_url", "x"),
            Error::Network("x".into()),
            Error::OutcomeUnknown,
            Error::Api {
                status: 400,
                code: "x".into(),
                message: "x".into(),
            },
            Error::Unauthorized("x".into()),
            Error::Protocol("x".into()),
            Error::IdToken("x".into()),
            Error::StateMismatch,
            Error::Provider {
                code: "x".into(),
                message: "x".into(),
            },
            Error::AlreadyRunning {
                flow_id: "x".into(),
            },
            Error::KeyringUnavailable("x".into()),
            Error::SecretMissing("x".into()),
            Error::Keyring("x".into()),
            Error::Vault("x".into()),
            Error::EvidenceMismatch("x".into()),
            Error::IdentityMismatch("x".into()),
            Error::DocumentMismatch("x".into()),
            Error::SignedEvidencePending("x".into()),
            Error::DiskFull("x".into()),
            Error::NotFound("x".into()),
            Error::Io("x".into()),
            Error::UntrustedCertificate {
                host: "x".into(),
                problem: "x".into(),
            },
            Error::NotAllowed {
                field: "x".into(),
                reason: "x".into(),
            },
        ]
    }

    #[test]
    fn every_engine_code_and_outcome_has_its_own_text() {
        let codes = every_error()
            .iter()
            .map(|e| e.code())
            .chain([
                "succeeded",
                "signed",
                "aborted",
                "cancelled",
                "expired",
                "failed",
            ])
            .collect::<Vec<_>>();
        for code in codes {
            for lang in Lang::ALL {
                let text = error_message(code, lang);
                assert!(!text.trim().is_empty());
                assert!(
                    !text.ends_with(&format!("({code}).")),
                    "{code} fell back: {text}"
                );
            }
            assert_ne!(
                error_message(code, Lang::En),
                error_message(code, Lang::Nb),
                "{code}"
            );
            assert_ne!(
                error_message(code, Lang::En),
                error_message(code, Lang::Sv),
                "{code}"
            );
        }
    }

    #[test]
    fn unknown_codes_fall_back_and_keep_the_raw_code() {
        assert_eq!(
            error_message("quantum_flux", Lang::En),
            "Something went wrong (quantum_flux)."
        );
        assert_eq!(
            error_message("quantum_flux", Lang::Nb),
            "Noe gikk galt (quantum_flux)."
        );
        assert_eq!(
            error_message("quantum_flux", Lang::Sv),
            "Något gick fel (quantum_flux)."
        );
    }
}
