//! ID tokens: RS256 JWTs signed with one of the issuer's keys, and the faults that spoil them.

use josekit::jws::JwsHeader;
use josekit::jwt::{self, JwtPayload};
use serde_json::{Map, Value};

use super::keys::{KeyError, OidcKeys, SigKey};

/// How the next ID token is spoiled (see `faults`); `None` = a correct token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum IdTokenSpoil {
    #[default]
    None,
    /// The signature bytes are altered.
    BadSignature,
    /// `aud` names another client.
    WrongAudience,
    /// `nonce` differs from the one in the authorize request.
    WrongNonce,
    /// `exp` (and `iat`) lie an hour in the past.
    Expired,
    /// Signed by a key that is never published in the JWKS.
    UnknownKid,
    /// Signed by the rotation key, which the JWKS publishes from now on (a client that refetches
    /// the JWKS once on an unknown `kid` verifies it).
    RotatedKey,
    /// `iss` names another issuer.
    WrongIssuer,
}

/// What goes into an ID token before any spoiling.
#[derive(Clone, Debug)]
pub(crate) struct IdTokenInput<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) nonce: &'a str,
    pub(crate) acr: &'a str,
    /// Unix seconds.
    pub(crate) now: i64,
    pub(crate) lifetime_secs: i64,
    /// The identity claims (`sub`, `name`, ..., `signicat.national_id`).
    pub(crate) identity: &'a Map<String, Value>,
    /// The rotation key has been published and is now the signing key.
    pub(crate) rotated: bool,
}

/// Mints the ID token.
pub(crate) fn mint(
    keys: &OidcKeys,
    input: &IdTokenInput<'_>,
    spoil: IdTokenSpoil,
) -> Result<String, KeyError> {
    let mut claims = input.identity.clone();
    let (iat, exp) = match spoil {
        IdTokenSpoil::Expired => (input.now - 7200, input.now - 3600),
        _ => (input.now, input.now + input.lifetime_secs),
    };
    let aud = match spoil {
        IdTokenSpoil::WrongAudience => "some-other-client".to_owned(),
        _ => input.client_id.to_owned(),
    };
    let nonce = match spoil {
        IdTokenSpoil::WrongNonce => format!("{}-not-yours", input.nonce),
        _ => input.nonce.to_owned(),
    };
    let iss = match spoil {
        IdTokenSpoil::WrongIssuer => format!("{}-other", input.issuer),
        _ => input.issuer.to_owned(),
    };
    claims.insert("iss".into(), Value::from(iss));
    claims.insert("aud".into(), Value::from(aud));
    claims.insert("iat".into(), Value::from(iat));
    claims.insert("auth_time".into(), Value::from(iat));
    claims.insert("exp".into(), Value::from(exp));
    // CIBA sends no nonce: the token then carries none.
    if !nonce.is_empty() {
        claims.insert("nonce".into(), Value::from(nonce));
    }
    claims.insert("acr".into(), Value::from(input.acr));
    let which = match spoil {
        IdTokenSpoil::UnknownKid => SigKey::Rogue,
        IdTokenSpoil::RotatedKey => SigKey::Next,
        _ if input.rotated => SigKey::Next,
        _ => SigKey::Current,
    };
    let token = sign(keys, which, claims)?;
    Ok(match spoil {
        IdTokenSpoil::BadSignature => corrupt_signature(&token),
        _ => token,
    })
}

fn sign(keys: &OidcKeys, which: SigKey, claims: Map<String, Value>) -> Result<String, KeyError> {
    let signer = keys.signer(which)?;
    let payload = JwtPayload::from_map(claims).map_err(|e| key_error(&e))?;
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    header.set_key_id(keys.sig_kid_of(which));
    jwt::encode_with_signer(&payload, &header, &signer).map_err(|e| key_error(&e))
}

fn key_error(e: &josekit::JoseError) -> KeyError {
    KeyError::signing(e)
}

/// Flips bits in the middle of the signature, keeping valid base64url.
fn corrupt_signature(token: &str) -> String {
    let Some(dot) = token.rfind('.') else {
        return token.to_owned();
    };
    let (head, sig) = token.split_at(dot + 1);
    let mut sig: Vec<char> = sig.chars().collect();
    let mid = sig.len() / 2;
    if let Some(c) = sig.get_mut(mid) {
        *c = if *c == 'A' { 'B' } else { 'A' };
    }
    format!("{head}{}", sig.into_iter().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::keys::EncAlg;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oidc");

    fn fixture_keys() -> OidcKeys {
        let sig = std::fs::read(format!("{FIXTURES}/sig_key.pem")).unwrap();
        let enc = std::fs::read(format!("{FIXTURES}/enc_key.pem")).unwrap();
        OidcKeys::from_pem(
            "sim-fixture-sig",
            &sig,
            "sim-fixture-enc",
            &enc,
            EncAlg::RsaOaep,
        )
        .unwrap()
    }

    fn fixed_identity() -> Map<String, Value> {
        let v = serde_json::json!({
            "sub": "sim-sub-fixture",
            "name": "Kari Mobil",
            "given_name": "Kari",
            "family_name": "Mobil",
            "birthdate": "1983-12-07",
            "signicat.national_id": "07128300141",
        });
        v.as_object().unwrap().clone()
    }

    fn fixed_input(identity: &Map<String, Value>) -> IdTokenInput<'_> {
        IdTokenInput {
            issuer: "http://127.0.0.1/oidc",
            client_id: "demo-inapp",
            nonce: "fixture-nonce",
            acr: "urn:signicat:oidc:method:nbid-inapp",
            now: 1_700_000_000,
            lifetime_secs: 600,
            identity,
            rotated: false,
        }
    }

    /// RS256 (PKCS#1 v1.5) is deterministic, so the simulator must reproduce, byte for byte, the
    /// committed token that Python jwcrypto verified (`generate.py verify-id-token id_token.jwt`).
    /// Regenerate with SIM_REGENERATE_FIXTURES=1, then re-run the Python check.
    #[test]
    fn id_token_matches_the_jwcrypto_verified_fixture() {
        let keys = fixture_keys();
        let identity = fixed_identity();
        let token = mint(&keys, &fixed_input(&identity), IdTokenSpoil::None).unwrap();
        let path = format!("{FIXTURES}/id_token.jwt");
        if std::env::var_os("SIM_REGENERATE_FIXTURES").is_some() {
            std::fs::write(&path, format!("{token}\n")).unwrap();
        }
        let expected = std::fs::read_to_string(&path).unwrap();
        assert_eq!(token, expected.trim());
    }

    #[test]
    fn spoiled_tokens_differ_where_intended() {
        let keys = fixture_keys();
        let identity = fixed_identity();
        let input = fixed_input(&identity);
        let good = mint(&keys, &input, IdTokenSpoil::None).unwrap();
        let bad = mint(&keys, &input, IdTokenSpoil::BadSignature).unwrap();
        assert_ne!(good, bad);
        assert_eq!(
            good.rsplit_once('.').unwrap().0,
            bad.rsplit_once('.').unwrap().0
        );
        let rogue = mint(&keys, &input, IdTokenSpoil::UnknownKid).unwrap();
        let header = jwt::decode_header(&rogue).unwrap();
        assert_eq!(
            header.claim("kid").and_then(Value::as_str),
            Some(keys.sig_kid_of(SigKey::Rogue))
        );
        assert_ne!(keys.sig_kid_of(SigKey::Rogue), keys.sig_kid());
    }
}
