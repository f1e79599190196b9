//! Result documents a signed session returns. Not legally valid signatures, but real files of the
//! stated type (a PDF that opens, well-formed XML), with bytes fixed at the moment of signing so
//! every download has the same hash.

use sha2::{Digest, Sha256};

/// Who signed, as the results name them.
pub(crate) struct SignedBy<'a> {
    pub nin: &'a str,
    pub name: &'a str,
    pub at: &'a str,
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An XAdES-shaped signature over `document`.
pub(crate) fn xades(document: &[u8], by: &SignedBy<'_>) -> Vec<u8> {
    use base64::Engine as _;
    let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(document));
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xades="http://uri.etsi.org/01903/v1.3.2#" Id="id-desk-simulator">
  <ds:SignedInfo>
    <ds:Reference URI="document"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>{digest}</ds:DigestValue></ds:Reference>
  </ds:SignedInfo>
  <ds:SignatureValue>SIMULATED-NOT-A-REAL-SIGNATURE</ds:SignatureValue>
  <ds:Object><xades:QualifyingProperties><xades:SignedProperties>
    <xades:SigningTime>{at}</xades:SigningTime>
    <xades:SignerRole><xades:ClaimedRoles><xades:ClaimedRole>{name}</xades:ClaimedRole></xades:ClaimedRoles></xades:SignerRole>
    <SignerNationalIdentityNumber>{nin}</SignerNationalIdentityNumber>
  </xades:SignedProperties></xades:QualifyingProperties></ds:Object>
</ds:Signature>
"#,
        at = xml_escape(by.at),
        name = xml_escape(by.name),
        nin = xml_escape(by.nin),
    )
    .into_bytes()
}

/// `xml` with its first `DigestValue` replaced by another document's (the `WrongDocument`
/// fault); other bytes unchanged.
pub(crate) fn with_other_digest(xml: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let text = String::from_utf8_lossy(xml);
    let other = base64::engine::general_purpose::STANDARD
        .encode(Sha256::digest(b"a document the desk never uploaded"));
    let (open, close) = ("<ds:DigestValue>", "</ds:DigestValue>");
    match (text.find(open), text.find(close)) {
        (Some(a), Some(b)) if a < b => {
            format!("{}{open}{other}{}", &text[..a], &text[b..]).into_bytes()
        }
        _ => xml.to_vec(),
    }
}

/// An LTV-SDO-shaped evidence package naming the signer and every document's hash.
pub(crate) fn ltv_sdo(documents: &[&[u8]], by: &SignedBy<'_>) -> Vec<u8> {
    let refs: String = documents
        .iter()
        .map(|d| {
            format!(
                "    <DocumentDigest algorithm=\"SHA-256\">{}</DocumentDigest>\n",
                hex::encode(Sha256::digest(d))
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<LTVSDO xmlns="http://www.signicat.com/ltvsdo/simulated">
  <Signer nationalIdentityNumber="{nin}" name="{name}"/>
  <SigningTime>{at}</SigningTime>
{refs}</LTVSDO>
"#,
        nin = xml_escape(by.nin),
        name = xml_escape(by.name),
        at = xml_escape(by.at),
    )
    .into_bytes()
}

/// A one-page PDF with `lines` of text (Helvetica, ASCII; other characters become `?`).
pub(crate) fn pdf(lines: &[String]) -> Vec<u8> {
    let mut content = String::from("BT /F1 11 Tf 50 790 Td 14 TL\n");
    for line in lines {
        let safe: String = line
            .chars()
            .map(|c| match c {
                '(' | ')' | '\\' => '?',
                c if c.is_ascii() && !c.is_control() => c,
                _ => '?',
            })
            .collect();
        content.push_str(&format!("({safe}) Tj T*\n"));
    }
    content.push_str("ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, obj) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{obj}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_real_files_with_stable_bytes() {
        let by = SignedBy {
            nin: "198304062717",
            name: "Anna <Andersson>",
            at: "2026-12-03T10:00:00Z",
        };
        let a = xades(b"doc", &by);
        assert_eq!(a, xades(b"doc", &by));
        let text = String::from_utf8(a).unwrap();
        assert!(text.starts_with("<?xml"));
        assert!(text.contains("Anna &lt;Andersson&gt;"));
        let p = pdf(&["Signed by Anna".into()]);
        assert!(p.starts_with(b"%PDF-1.4"));
        assert!(p.ends_with(b"%%EOF\n"));
        let text = String::from_utf8_lossy(&p);
        let xref: usize = text
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!(text[xref..].starts_with("xref"));
    }
}
