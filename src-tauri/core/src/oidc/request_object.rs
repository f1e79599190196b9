//! The Consent Signature request object (reference §3): every authorize parameter, the sign text
//! included, as JSON claims encrypted (not signed) to the issuer's `enc` key as a compact JWE.

use super::discovery::EncryptionKey;
use crate::{Error, Result};
use josekit::jwe::{JweHeader, RSA_OAEP, RSA_OAEP_256};
use serde_json::{Map, Value};

pub(crate) const CONTENT_ENCRYPTION: &str = "A256CBC-HS512";

pub(crate) fn encrypt(claims: &Map<String, Value>, key: &EncryptionKey) -> Result<String> {
    let mut header = JweHeader::new();
    header.set_token_type("JWE");
    header.set_content_encryption(CONTENT_ENCRYPTION);
    header.set_key_id(key.kid.clone());
    let payload =
        serde_json::to_vec(claims).map_err(|e| Error::Protocol(format!("request object: {e}")))?;
    let failed = |e: josekit::JoseError| Error::Protocol(format!("request object encryption: {e}"));
    match key.alg.as_str() {
        "RSA-OAEP" => {
            let enc = RSA_OAEP.encrypter_from_jwk(&key.jwk).map_err(failed)?;
            josekit::jwe::serialize_compact(&payload, &header, &enc).map_err(failed)
        }
        "RSA-OAEP-256" => {
            let enc = RSA_OAEP_256.encrypter_from_jwk(&key.jwk).map_err(failed)?;
            josekit::jwe::serialize_compact(&payload, &header, &enc).map_err(failed)
        }
        other => Err(Error::Protocol(format!(
            "the issuer's encryption key uses {other:?}; only RSA-OAEP and RSA-OAEP-256 are supported"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jwk::alg::rsa::RsaKeyPair;

    #[test]
    fn round_trips_with_both_algorithms() {
        let pair = RsaKeyPair::generate(2048).unwrap();
        let mut public = pair.to_jwk_public_key();
        public.set_key_id("enc-1");
        let mut claims = Map::new();
        claims.insert(
            "signicat_signtext".into(),
            Value::from("Jeg låner 10 000 kr. Åsa"),
        );
        for alg in ["RSA-OAEP", "RSA-OAEP-256"] {
            let key = EncryptionKey {
                jwk: public.clone(),
                kid: "enc-1".into(),
                alg: alg.into(),
            };
            let jwe = encrypt(&claims, &key).unwrap();
            assert_eq!(jwe.split('.').count(), 5);
            let (payload, header) = if alg == "RSA-OAEP" {
                let d = RSA_OAEP
                    .decrypter_from_jwk(&pair.to_jwk_private_key())
                    .unwrap();
                josekit::jwe::deserialize_compact(&jwe, &d).unwrap()
            } else {
                let d = RSA_OAEP_256
                    .decrypter_from_jwk(&pair.to_jwk_private_key())
                    .unwrap();
                josekit::jwe::deserialize_compact(&jwe, &d).unwrap()
            };
            assert_eq!(header.algorithm(), Some(alg));
            assert_eq!(header.content_encryption(), Some(CONTENT_ENCRYPTION));
            assert_eq!(header.key_id(), Some("enc-1"));
            assert_eq!(header.token_type(), Some("JWE"));
            let back: Map<String, Value> = serde_json::from_slice(&payload).unwrap();
            assert_eq!(back, claims);
        }
        let bad = EncryptionKey {
            jwk: public,
            kid: "enc-1".into(),
            alg: "RSA1_5".into(),
        };
        assert!(encrypt(&claims, &bad).is_err());
    }
}
