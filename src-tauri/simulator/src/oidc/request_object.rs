//! Consent Signature request objects: a compact JWE (encrypted, not signed) whose payload is the
//! JSON authorization request. Signicat is strict about the header, and so are we: a client that
//! passes here should pass there.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use super::error::OidcError;
use super::keys::OidcKeys;

/// The only content encryption Signicat accepts for request objects.
const REQUIRED_ENC: &str = "A256CBC-HS512";

/// Decrypts `request` with the issuer's `enc` key and returns the request object's claims.
pub(crate) fn decrypt(request: &str, keys: &OidcKeys) -> Result<Map<String, Value>, OidcError> {
    let request = request.trim();
    let parts = request.split('.').count();
    if parts == 3 {
        return Err(invalid_request_object(
            "the request object is a signed JWT (JWS); it must be encrypted as a compact JWE",
        ));
    }
    if parts != 5 {
        return Err(invalid_request_object(
            "the request object is not a compact JWE (five dot-separated parts expected)",
        ));
    }
    let header = decode_header(request)?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg != keys.enc_alg().as_str() {
        return Err(invalid_request_object(&format!(
            "JWE alg {alg:?} is not accepted; use {:?} (the alg of the JWKS enc key)",
            keys.enc_alg().as_str()
        )));
    }
    let enc = header.get("enc").and_then(Value::as_str).unwrap_or("");
    if enc != REQUIRED_ENC {
        return Err(invalid_request_object(&format!(
            "JWE enc {enc:?} is not accepted; use {REQUIRED_ENC:?}"
        )));
    }
    match header.get("kid").and_then(Value::as_str) {
        None => {
            return Err(invalid_request_object(
                "the JWE header has no kid; it must name the JWKS enc key",
            ))
        }
        Some(kid) if kid != keys.enc_kid() => {
            return Err(invalid_request_object(&format!(
                "the JWE kid {kid:?} is not the JWKS enc key ({:?})",
                keys.enc_kid()
            )))
        }
        Some(_) => {}
    }
    if let Some(typ) = header.get("typ") {
        if typ.as_str() != Some("JWE") {
            return Err(invalid_request_object("the JWE typ must be \"JWE\""));
        }
    }
    if header.contains_key("zip") {
        return Err(invalid_request_object(
            "compressed request objects are not accepted",
        ));
    }
    let decrypter = keys
        .decrypter()
        .map_err(|e| OidcError::server_error(&e.to_string()))?;
    let (payload, _) = josekit::jwe::deserialize_compact(request, decrypter.as_ref()).map_err(
        |_| {
            invalid_request_object(
                "the request object could not be decrypted with the JWKS enc key (wrong key or corrupted token)",
            )
        },
    )?;
    match serde_json::from_slice::<Value>(&payload) {
        Ok(Value::Object(claims)) => Ok(claims),
        _ => Err(invalid_request_object(
            "the decrypted request object is not a JSON object",
        )),
    }
}

fn decode_header(request: &str) -> Result<Map<String, Value>, OidcError> {
    let b64 = request.split('.').next().unwrap_or("");
    let bytes = URL_SAFE_NO_PAD
        .decode(b64)
        .map_err(|_| invalid_request_object("the JWE protected header is not base64url"))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(invalid_request_object(
            "the JWE protected header is not a JSON object",
        )),
    }
}

fn invalid_request_object(description: &str) -> OidcError {
    OidcError::bad_request("invalid_request_object", description)
}
