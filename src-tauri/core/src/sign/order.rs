//! What staff ask to have signed, validated before anything is sent: who signs, how they are
//! reached, and what they sign (a consent text, a PDF, or both).

pub use crate::flow::CallInitiator;
use crate::identity::{NorwegianNin, SignText, SwedishPersonnummer};
use crate::{Error, Result};
use std::path::Path;

/// The signing setups a profile offers (profile `[sign]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignSetups {
    pub sbid_phone: bool,
    pub nbid_pki: bool,
    /// Signicat identity provider names offered for signing by link (`mitid`, `ftn`, `sbid`, ...).
    pub link_providers: Vec<String>,
}

/// How the customer is reached when signing by link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkProvider {
    /// Norwegian BankID PKI signing (qualified signatures through BankID's signing service).
    NbidPki,
    /// Authentication-based signing with one of the profile's eIDs.
    Eid(String),
}

impl LinkProvider {
    pub const NBID_PKI: &'static str = "nbid-pki";

    pub fn id(&self) -> &str {
        match self {
            LinkProvider::NbidPki => Self::NBID_PKI,
            LinkProvider::Eid(name) => name,
        }
    }
}

/// A signer's national identity number, Norwegian (11 digits) or Swedish (12 digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerNin {
    No(NorwegianNin),
    Se(SwedishPersonnummer),
}

impl SignerNin {
    /// By its length once separators are gone: 11 digits Norwegian, 10 or 12 Swedish.
    pub fn parse(raw: &str, allow_test: bool) -> Result<Self> {
        let digits = raw.chars().filter(char::is_ascii_digit).count();
        if digits == 11 {
            NorwegianNin::parse(raw, allow_test).map(SignerNin::No)
        } else {
            SwedishPersonnummer::parse(raw).map(SignerNin::Se)
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            SignerNin::No(n) => n.as_str(),
            SignerNin::Se(n) => n.as_str(),
        }
    }

    pub fn masked(&self) -> String {
        match self {
            SignerNin::No(n) => n.masked(),
            SignerNin::Se(n) => n.masked(),
        }
    }

    pub fn country(&self) -> &'static str {
        match self {
            SignerNin::No(_) => "NO",
            SignerNin::Se(_) => "SE",
        }
    }

    pub fn key(&self) -> String {
        format!("{}:{}", self.country(), self.as_str())
    }
}

/// How the customer signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignHow {
    /// Swedish BankID Phone: the order goes to the app of this personnummer; no browser.
    SbidPhone {
        nin: SwedishPersonnummer,
        call: CallInitiator,
    },
    /// The customer opens the session's `signatureUrl` (QR on the customer display, or the desk's
    /// sandboxed window). A number given locks the session to that person.
    Link {
        provider: LinkProvider,
        nin: Option<SignerNin>,
    },
}

/// A PDF staff picked: its bytes, checked for type and size.
#[derive(Clone, PartialEq, Eq)]
pub struct PdfDocument {
    bytes: Vec<u8>,
}

impl std::fmt::Debug for PdfDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PdfDocument({} bytes)", self.bytes.len())
    }
}

impl PdfDocument {
    /// Reads `path`, refusing a file larger than `max_bytes` (checked before reading) or one that
    /// is not a PDF (it must start with `%PDF-`).
    pub fn read(path: &Path, max_bytes: usize) -> Result<Self> {
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::invalid_input("pdf", format!("cannot read the file: {e}")))?;
        if !meta.is_file() {
            return Err(Error::invalid_input("pdf", "is not a file"));
        }
        if meta.len() > max_bytes as u64 {
            return Err(Error::invalid_input(
                "pdf",
                format!(
                    "is {} bytes; this profile accepts at most {max_bytes}",
                    meta.len()
                ),
            ));
        }
        let bytes = std::fs::read(path)
            .map_err(|e| Error::invalid_input("pdf", format!("cannot read the file: {e}")))?;
        Self::from_bytes(bytes, max_bytes)
    }

    /// The file's bytes as the window sends them (standard base64). An encoding longer than a
    /// file of `max_bytes` can be is refused before it is decoded.
    pub fn from_base64(encoded: &str, max_bytes: usize) -> Result<Self> {
        use base64::Engine as _;
        if encoded.len() > max_bytes.div_ceil(3).saturating_mul(4) {
            return Err(Error::invalid_input(
                "pdf",
                format!("is larger than {max_bytes} bytes"),
            ));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| Error::invalid_input("pdf", "could not be read"))?;
        Self::from_bytes(bytes, max_bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>, max_bytes: usize) -> Result<Self> {
        if bytes.len() > max_bytes {
            return Err(Error::invalid_input(
                "pdf",
                format!("is larger than {max_bytes} bytes"),
            ));
        }
        if !bytes.starts_with(b"%PDF-") {
            return Err(Error::invalid_input("pdf", "is not a PDF document"));
        }
        Ok(PdfDocument { bytes })
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A validated signing order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOrder {
    pub how: SignHow,
    pub text: Option<SignText>,
    pub pdf: Option<PdfDocument>,
}

impl SignOrder {
    /// Checks what only the combination can tell: something to sign, and Swedish BankID Phone
    /// signing takes plain text only (Signicat: "not PDFs").
    pub fn new(how: SignHow, text: Option<SignText>, pdf: Option<PdfDocument>) -> Result<Self> {
        if text.is_none() && pdf.is_none() {
            return Err(Error::invalid_input(
                "text",
                "give a text to sign, a PDF, or both",
            ));
        }
        if let SignHow::SbidPhone { .. } = how {
            if pdf.is_some() {
                return Err(Error::invalid_input(
                    "pdf",
                    "Swedish BankID Phone signing takes plain text only",
                ));
            }
            if text.is_none() {
                return Err(Error::invalid_input("text", "is required"));
            }
        }
        Ok(SignOrder { how, text, pdf })
    }

    /// The bytes of each document the flow uploads, in upload order: the text, then the PDF.
    pub fn documents(&self) -> Vec<&[u8]> {
        self.text
            .iter()
            .map(|t| t.as_str().as_bytes())
            .chain(self.pdf.iter().map(PdfDocument::bytes))
            .collect()
    }

    /// The person staff asked for, when known in advance.
    pub fn signer(&self) -> Option<SignerNin> {
        match &self.how {
            SignHow::SbidPhone { nin, .. } => Some(SignerNin::Se(nin.clone())),
            SignHow::Link { nin, .. } => nin.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text() -> Option<SignText> {
        SignText::parse("I confirm my purchase of broadband subscription Medium500").ok()
    }

    #[test]
    fn phone_signing_takes_text_only() {
        let how = SignHow::SbidPhone {
            nin: SwedishPersonnummer::parse("198304062717").unwrap(),
            call: CallInitiator::User,
        };
        let pdf = PdfDocument::from_bytes(b"%PDF-1.4\n".to_vec(), 100).unwrap();
        let e = SignOrder::new(how.clone(), text(), Some(pdf)).unwrap_err();
        assert_eq!(e.field(), Some("pdf"));
        let e = SignOrder::new(how.clone(), None, None).unwrap_err();
        assert_eq!(e.field(), Some("text"));
        assert!(SignOrder::new(how, text(), None).is_ok());
    }

    #[test]
    fn a_pdf_is_checked_for_type_and_size() {
        assert_eq!(
            PdfDocument::from_bytes(b"hello".to_vec(), 100)
                .unwrap_err()
                .field(),
            Some("pdf")
        );
        assert!(PdfDocument::from_bytes(vec![b'%'; 101], 100).is_err());
        assert!(PdfDocument::from_bytes(b"%PDF-1.7".to_vec(), 100).is_ok());
    }

    #[test]
    fn a_pdf_from_the_window_is_size_checked_before_it_is_decoded() {
        use base64::Engine as _;
        let encode = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        assert!(PdfDocument::from_base64(&encode(b"%PDF-1.4 tiny"), 100).is_ok());
        let big = encode(&[b'%'; 200]);
        assert_eq!(
            PdfDocument::from_base64(&big, 100).unwrap_err().field(),
            Some("pdf")
        );
        assert!(PdfDocument::from_base64("not base64!", 100).is_err());
        assert!(PdfDocument::from_base64(&encode(b"hello"), 100).is_err());
    }

    #[test]
    fn call_initiator_has_no_default_and_keeps_bankid_casing() {
        assert_eq!(CallInitiator::parse("RP").unwrap().wire(), "RP");
        assert_eq!(CallInitiator::parse("user").unwrap().wire(), "user");
        assert_eq!(
            CallInitiator::parse("").unwrap_err().field(),
            Some("call_initiator")
        );
    }

    #[test]
    fn signer_numbers_by_length() {
        assert_eq!(
            SignerNin::parse("29124815345", false).unwrap().country(),
            "NO"
        );
        assert_eq!(
            SignerNin::parse("19830406-2717", false).unwrap().country(),
            "SE"
        );
        assert_eq!(
            SignerNin::parse("123", false).unwrap_err().field(),
            Some("nin")
        );
    }
}
