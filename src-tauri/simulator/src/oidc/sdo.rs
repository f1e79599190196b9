//! The Consent Signature result: an LTV-SDO-like XML document. It is built once per transaction
//! (at the token exchange) and served byte-identical on every read, as a real SDO is evidence.

use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// What the SDO attests.
pub(crate) struct SdoInput<'a> {
    pub(crate) transaction_id: &'a str,
    pub(crate) method_acr: &'a str,
    pub(crate) sign_text: &'a str,
    pub(crate) national_id: &'a str,
    pub(crate) country: &'a str,
    pub(crate) name: &'a str,
    pub(crate) signed_at: OffsetDateTime,
}

pub(crate) fn build(input: &SdoInput<'_>) -> Vec<u8> {
    let timestamp = input
        .signed_at
        .format(&Rfc3339)
        .unwrap_or_else(|_| input.signed_at.unix_timestamp().to_string());
    let digest = hex::encode(Sha256::digest(input.sign_text.as_bytes()));
    // Not a real signature: the simulator has no BankID certificate. The digest lets a reader check
    // that the text was not altered in the simulator's own store.
    format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
            "<ltvsdo:LtvSdo xmlns:ltvsdo=\"urn:id-desk:simulator:ltv-sdo:1\" simulated=\"true\">\n",
            "  <ltvsdo:TransactionId>{tx}</ltvsdo:TransactionId>\n",
            "  <ltvsdo:Method>{method}</ltvsdo:Method>\n",
            "  <ltvsdo:SignedText mimeType=\"text/plain\" sha256=\"{digest}\">{text}</ltvsdo:SignedText>\n",
            "  <ltvsdo:Signer country=\"{country}\">\n",
            "    <ltvsdo:NationalId>{nin}</ltvsdo:NationalId>\n",
            "    <ltvsdo:Name>{name}</ltvsdo:Name>\n",
            "  </ltvsdo:Signer>\n",
            "  <ltvsdo:SignatureTimestamp>{ts}</ltvsdo:SignatureTimestamp>\n",
            "</ltvsdo:LtvSdo>\n"
        ),
        tx = escape(input.transaction_id),
        method = escape(input.method_acr),
        digest = digest,
        text = escape(input.sign_text),
        country = escape(input.country),
        nin = escape(input.national_id),
        name = escape(input.name),
        ts = timestamp,
    )
    .into_bytes()
}

/// XML text/attribute escaping (the five predefined entities).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_digest_covers_the_raw_text() {
        let xml = build(&SdoInput {
            transaction_id: "tx1",
            method_acr: "urn:signicat:oidc:method:nbid-inapp-sign",
            sign_text: "a <b> & \"c\" 'd'",
            national_id: "07128300141",
            country: "NO",
            name: "Kari Mobil",
            signed_at: OffsetDateTime::UNIX_EPOCH,
        });
        let xml = String::from_utf8(xml).unwrap();
        assert!(xml.contains(">a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;</ltvsdo:SignedText>"));
        assert!(xml.contains(&hex::encode(Sha256::digest(b"a <b> & \"c\" 'd'"))));
        assert!(xml.contains("1970-01-01T00:00:00Z"));
    }
}
