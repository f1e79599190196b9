//! What a USB barcode scanner types when staff scan the QR code of a customer's Swedish BankID
//! Digital ID card (`sbid_idcard_qr_data`). The payload is BankID's and opaque to us: only its
//! shape is checked here, so a half scan or a stray keystroke is caught before any request.

use crate::{Error, Result};

const FIELD: &str = "qr_data";
/// The prefix of every ID card payload in Signicat's documentation (`BANKIDF.74226FAAE…`)
/// [decided: verify against a sandbox account].
pub const PREFIX: &str = "BANKIDF.";
/// Far above a real payload (a QR code holds at most 4,296 characters); protects the request.
pub const MAX_CHARS: usize = 4096;

/// A scanned ID card payload: `BANKIDF.` then printable ASCII, no spaces. Scanners end a scan
/// with Enter or Tab and some pad it with spaces, so surrounding whitespace is dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct IdCardQrData(String);

impl IdCardQrData {
    pub fn parse(input: &str) -> Result<Self> {
        let s = input.trim();
        if s.is_empty() {
            return Err(Error::invalid_input(
                FIELD,
                "is required: scan the customer's ID card",
            ));
        }
        if s.len() > MAX_CHARS {
            return Err(Error::invalid_input(
                FIELD,
                "is longer than any ID card QR code: scan it again",
            ));
        }
        if !s.starts_with(PREFIX) {
            return Err(Error::invalid_input(
                FIELD,
                "is not a BankID ID card QR code (it starts with BANKIDF.): scan it again",
            ));
        }
        if s.len() == PREFIX.len() || !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::invalid_input(
                FIELD,
                "was not scanned completely: scan it again",
            ));
        }
        Ok(IdCardQrData(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The payload identifies a person: never printed whole.
impl std::fmt::Debug for IdCardQrData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdCardQrData({} chars)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_is_trimmed_and_checked_for_shape() {
        let q = IdCardQrData::parse("  BANKIDF.74226FAAE0\r\n").unwrap();
        assert_eq!(q.as_str(), "BANKIDF.74226FAAE0");
        assert!(!format!("{q:?}").contains("74226"));
        for bad in [
            "",
            "\n",
            "74226FAAE0",
            "BANKIDF.",
            "BANKIDF.7422 6FAA",
            "bankidf.74226",
        ] {
            assert_eq!(
                IdCardQrData::parse(bad).unwrap_err().field(),
                Some(FIELD),
                "{bad:?}"
            );
        }
        assert!(IdCardQrData::parse(&format!("{PREFIX}{}", "A".repeat(MAX_CHARS))).is_err());
    }
}
