//! Decision D10 (`PROTOCOL.md`): a signature counts as evidence only if it is of what staff
//! showed. An XAdES result's detached references (XMLDSig `Reference` elements with a URI that is
//! not a same-document `#fragment` and no `Transforms`) are, by the XMLDSig standard, digests of
//! the raw external bytes: each such SHA-256 digest must be the digest of a document this flow
//! uploaded (the text staff showed, or the PDF), else the flow fails `document_mismatch` with the
//! evidence kept. A result that is not XML fails the same way. References that say nothing about
//! our bytes (the signature's own properties, enveloped or transformed data) are left alone, and
//! an XAdES with no other reference is accepted with a warning: Signicat does not document its
//! XAdES layout, and a production signature must not be refused on a guess. PAdES and packages
//! are not parsed (the PDF is the signed document itself).

use base64::Engine as _;
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use sha2::{Digest, Sha256};

use crate::flow::EvidenceKind;
use crate::vault::PendingPiece;
use crate::{Error, Result};

const SHA256_URIS: [&str; 2] = [
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2000/09/xmldsig#sha256",
];

/// What the check could tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentCheck {
    /// Every XAdES result names, by digest, only documents this flow uploaded.
    Matched,
    /// No XAdES result names a document by a digest we can compare (see the module docs).
    NotStated,
}

/// The base64 SHA-256 of each uploaded document, as XAdES states digests (and as a row keeps
/// them for a recovery after a crash, review N-8).
pub fn document_digests(uploaded: &[&[u8]]) -> Vec<String> {
    uploaded
        .iter()
        .map(|d| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(d)))
        .collect()
}

/// Checks every XAdES piece against the documents uploaded (`uploaded`: their bytes).
pub fn check_documents(uploaded: &[&[u8]], pieces: &[PendingPiece]) -> Result<DocumentCheck> {
    check_document_digests(&document_digests(uploaded), pieces)
}

/// As [`check_documents`], with the uploads' digests ([`document_digests`]).
pub fn check_document_digests(ours: &[String], pieces: &[PendingPiece]) -> Result<DocumentCheck> {
    let mut compared = false;
    for piece in pieces.iter().filter(|p| p.kind == EvidenceKind::Xades) {
        let digests = detached_sha256_digests(&piece.bytes).map_err(|why| {
            Error::DocumentMismatch(format!(
                "the XAdES result {} is unreadable: {why}",
                piece.name
            ))
        })?;
        if let Some(other) = digests.iter().find(|d| !ours.contains(d)) {
            return Err(Error::DocumentMismatch(format!(
                "the XAdES result {} signs a document this desk did not show (SHA-256 {other})",
                piece.name
            )));
        }
        compared |= !digests.is_empty();
    }
    Ok(if compared {
        DocumentCheck::Matched
    } else {
        DocumentCheck::NotStated
    })
}

/// The base64 SHA-256 `DigestValue`s of the detached, untransformed references of an XMLDSig
/// signature (any namespace prefix).
fn detached_sha256_digests(xml: &[u8]) -> std::result::Result<Vec<String>, String> {
    #[derive(Default)]
    struct Reference {
        detached: bool,
        transformed: bool,
        sha256: bool,
        digest: String,
    }
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut current: Option<Reference> = None;
    let mut in_digest = false;
    let mut out = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => match e.local_name().into_inner() {
                "Reference" => {
                    let uri = e.try_get_attribute("URI").ok().flatten().and_then(|a| {
                        a.normalized_value(XmlVersion::Implicit1_0)
                            .ok()
                            .map(|v| v.into_owned())
                    });
                    current = Some(Reference {
                        detached: uri.is_some_and(|u| !u.is_empty() && !u.starts_with('#')),
                        ..Reference::default()
                    });
                }
                "Transforms" => {
                    if let Some(r) = current.as_mut() {
                        r.transformed = true;
                    }
                }
                "DigestMethod" => {
                    let algorithm = e
                        .try_get_attribute("Algorithm")
                        .ok()
                        .flatten()
                        .and_then(|a| {
                            a.normalized_value(XmlVersion::Implicit1_0)
                                .ok()
                                .map(|v| v.into_owned())
                        });
                    if let Some(r) = current.as_mut() {
                        r.sha256 = algorithm.is_some_and(|a| SHA256_URIS.contains(&a.as_str()));
                    }
                }
                "DigestValue" => in_digest = matches!(event, Event::Start(_)),
                _ => {}
            },
            Event::Text(t) if in_digest => {
                if let Some(r) = current.as_mut() {
                    r.digest
                        .push_str(t.xml_content(XmlVersion::Implicit1_0).trim());
                }
            }
            Event::End(ref e) => match e.local_name().into_inner() {
                "DigestValue" => in_digest = false,
                "Reference" => {
                    if let Some(r) = current.take() {
                        if r.detached && !r.transformed && r.sha256 && !r.digest.is_empty() {
                            // Base64 may be wrapped over lines inside the element.
                            out.push(r.digest.split_whitespace().collect());
                        }
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xades(uri: &str, transforms: bool, digest_of: &[u8]) -> PendingPiece {
        let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(digest_of));
        let transforms = if transforms {
            r#"<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#base64"/></ds:Transforms>"#
        } else {
            ""
        };
        let xml = format!(
            r##"<?xml version="1.0"?>
<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>
  <ds:Reference URI="{uri}">{transforms}<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
    <ds:DigestValue>{digest}</ds:DigestValue></ds:Reference>
  <ds:Reference Type="http://uri.etsi.org/01903#SignedProperties" URI="#props"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference>
</ds:SignedInfo></ds:Signature>"##
        );
        PendingPiece {
            kind: EvidenceKind::Xades,
            name: "result-1".into(),
            extension: "xml",
            bytes: xml.into_bytes(),
        }
    }

    const SHOWN: &[u8] = "Jeg samtykker til kjøp av Medium500".as_bytes();

    #[test]
    fn an_xades_over_the_shown_text_passes_and_one_over_other_bytes_fails() {
        assert_eq!(
            check_documents(&[SHOWN], &[xades("document", false, SHOWN)]).unwrap(),
            DocumentCheck::Matched
        );
        let err =
            check_documents(&[SHOWN], &[xades("document", false, b"other text")]).unwrap_err();
        assert_eq!(err.code(), "document_mismatch");
        assert!(err.to_string().contains("did not show"), "{err}");
    }

    #[test]
    fn references_that_say_nothing_about_our_document_are_not_judged() {
        // Transformed, or to the signature's own object: not a digest of our raw bytes.
        let transformed = xades("document", true, b"base64 of something");
        let internal = xades("#object-1", false, b"the signature's own object");
        for piece in [transformed, internal] {
            assert_eq!(
                check_documents(&[SHOWN], &[piece]).unwrap(),
                DocumentCheck::NotStated
            );
        }
        // PAdES and packages are not parsed.
        let pades = PendingPiece {
            kind: EvidenceKind::Pades,
            name: "pdf".into(),
            extension: "pdf",
            bytes: b"%PDF-1.7".to_vec(),
        };
        assert_eq!(
            check_documents(&[SHOWN], &[pades]).unwrap(),
            DocumentCheck::NotStated
        );
    }

    #[test]
    fn a_result_that_is_not_xml_is_a_mismatch_not_a_panic() {
        let mut piece = xades("document", false, SHOWN);
        piece.bytes.truncate(60);
        piece.bytes.extend_from_slice(b"</ds:Nope><<<");
        assert_eq!(
            check_documents(&[SHOWN], &[piece]).unwrap_err().code(),
            "document_mismatch"
        );
    }
}
