//! What a signing flow asked for, kept in its vault row when the session is created (review N-8):
//! after a crash the desk checks a recovered signature against this, never against what the
//! server says it asked. The signer is kept as a digest of the number (with its mask and country
//! for the row), the documents as the SHA-256 that XAdES states for them.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::document_check::document_digests;
use super::order::{SignOrder, SignerNin};
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignExpectation {
    /// The person staff asked for; `None` when anyone may sign (a link without a number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<ExpectedSigner>,
    /// Base64 SHA-256 of each uploaded document (the text shown, the PDF).
    pub documents: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedSigner {
    /// Hex SHA-256 of the number's digits.
    pub sha256: String,
    pub masked: String,
    /// `NO` or `SE`.
    pub country: String,
}

impl ExpectedSigner {
    pub fn of(nin: &SignerNin) -> ExpectedSigner {
        ExpectedSigner {
            sha256: digest(nin.as_str()),
            masked: nin.masked(),
            country: nin.country().to_string(),
        }
    }

    /// Whether `digits` (a number's digits, as a signature names it) is this signer's.
    pub fn matches(&self, digits: &str) -> bool {
        digest(digits) == self.sha256
    }
}

fn digest(digits: &str) -> String {
    hex::encode(Sha256::digest(digits.as_bytes()))
}

impl SignExpectation {
    pub fn of(order: &SignOrder) -> SignExpectation {
        SignExpectation {
            signer: order.signer().as_ref().map(ExpectedSigner::of),
            documents: document_digests(&order.documents()),
        }
    }

    pub fn to_json(&self) -> String {
        // A struct of strings always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<SignExpectation> {
        serde_json::from_str(text).map_err(|e| {
            Error::Vault(format!(
                "the signing flow's recorded expectation is unreadable: {e}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::NorwegianNin;

    #[test]
    fn the_signer_is_kept_as_a_digest_and_round_trips() {
        let nin = SignerNin::No(NorwegianNin::parse("29124815345", true).unwrap());
        let e = SignExpectation {
            signer: Some(ExpectedSigner::of(&nin)),
            documents: document_digests(&[b"I agree".as_slice()]),
        };
        let json = e.to_json();
        assert!(!json.contains("29124815345"), "{json}");
        assert!(json.contains("2912*******"), "{json}");
        let back = SignExpectation::from_json(&json).unwrap();
        assert_eq!(back, e);
        let signer = back.signer.unwrap();
        assert!(signer.matches("29124815345"));
        assert!(!signer.matches("12038010008"));
        assert!(SignExpectation::from_json("{").is_err());
    }
}
