//! Client authentication at the backchannel and token endpoints (CIBA Core §7.1 refers to the
//! token endpoint's methods): `client_secret_basic`, or `private_key_jwt` (RFC 7523) with a key
//! that lives only in the OS keyring.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use josekit::jws::{JwsHeader, JwsSigner, ES256, PS256, RS256};
use josekit::jwt::{self, JwtPayload};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::secrets::SecretString;
use crate::{Error, Result};

/// How long a client assertion is valid. Each request gets a fresh one (new `jti`): providers
/// refuse a replayed assertion.
const ASSERTION_LIFETIME_SECS: u64 = 60;

/// The profile's choice (`[ciba] client_auth`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    #[default]
    ClientSecretBasic,
    PrivateKeyJwt,
}

impl ClientAuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
            ClientAuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

/// The algorithm a `private_key_jwt` assertion is signed with (`[ciba] signing_alg`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningAlg {
    #[default]
    RS256,
    PS256,
    ES256,
}

/// The credential itself, with its secret material.
#[derive(Clone)]
pub enum ClientAuth {
    Basic {
        secret: SecretString,
    },
    PrivateKeyJwt {
        /// PEM (PKCS#8), read from the keyring.
        key: SecretString,
        alg: SigningAlg,
        /// The `kid` the provider knows the public key by, if it needs one.
        kid: Option<String>,
    },
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientAuth::Basic { .. } => f.write_str("ClientAuth::Basic"),
            ClientAuth::PrivateKeyJwt { alg, kid, .. } => f
                .debug_struct("ClientAuth::PrivateKeyJwt")
                .field("alg", alg)
                .field("kid", kid)
                .finish_non_exhaustive(),
        }
    }
}

impl ClientAuth {
    /// Refuses a key that cannot sign before any request is made (a PEM pasted wrongly into the
    /// keyring shows up when the profile is used, not halfway through a customer's flow).
    pub fn check(&self) -> Result<()> {
        match self {
            ClientAuth::Basic { secret } if secret.expose().is_empty() => {
                Err(Error::SecretMissing("ciba-client-secret".into()))
            }
            ClientAuth::Basic { .. } => Ok(()),
            ClientAuth::PrivateKeyJwt { key, alg, .. } => signer(key, *alg).map(|_| ()),
        }
    }

    /// Adds this client's authentication to a form request to `audience`'s endpoint.
    pub(crate) fn apply(
        &self,
        req: reqwest::RequestBuilder,
        client_id: &str,
        audience: &str,
        form: &mut Vec<(&'static str, String)>,
    ) -> Result<reqwest::RequestBuilder> {
        match self {
            ClientAuth::Basic { secret } => Ok(req.basic_auth(
                form_urlencode(client_id),
                Some(form_urlencode(secret.expose())),
            )),
            ClientAuth::PrivateKeyJwt { key, alg, kid } => {
                let assertion = assertion(key, *alg, kid.as_deref(), client_id, audience)?;
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                form.push(("client_assertion", assertion));
                form.push(("client_id", client_id.to_string()));
                Ok(req)
            }
        }
    }
}

/// RFC 6749 §2.3.1: the id and secret are form-urlencoded before they go into Basic.
fn form_urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn signer(key: &SecretString, alg: SigningAlg) -> Result<Box<dyn JwsSigner>> {
    let pem = key.expose().as_bytes();
    let bad = |e: josekit::JoseError| {
        // The key's bytes never go into the message.
        Error::invalid_config(
            "ciba-private-key",
            format!(
                "the stored private key cannot sign {alg:?}: {}",
                kind_of(&e)
            ),
        )
    };
    Ok(match alg {
        SigningAlg::RS256 => Box::new(RS256.signer_from_pem(pem).map_err(bad)?),
        SigningAlg::PS256 => Box::new(PS256.signer_from_pem(pem).map_err(bad)?),
        SigningAlg::ES256 => Box::new(ES256.signer_from_pem(pem).map_err(bad)?),
    })
}

fn kind_of(e: &josekit::JoseError) -> &'static str {
    match e {
        josekit::JoseError::InvalidKeyFormat(_) => "not a PEM private key of that type",
        _ => "unusable key",
    }
}

/// A signed client assertion: `iss` = `sub` = client id, `aud` = the issuer identifier (the
/// audience every current provider accepts, and the only one RFC 7523bis allows), fresh `jti`.
fn assertion(
    key: &SecretString,
    alg: SigningAlg,
    kid: Option<&str>,
    client_id: &str,
    audience: &str,
) -> Result<String> {
    let signer = signer(key, alg)?;
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    if let Some(k) = kid {
        header.set_key_id(k);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut payload = JwtPayload::new();
    payload.set_issuer(client_id);
    payload.set_subject(client_id);
    payload.set_audience(vec![audience]);
    payload.set_jwt_id(uuid::Uuid::new_v4().to_string());
    payload
        .set_claim("iat", Some(Value::from(now)))
        .map_err(|e| Error::Protocol(format!("client assertion: {e}")))?;
    payload
        .set_claim("exp", Some(Value::from(now + ASSERTION_LIFETIME_SECS)))
        .map_err(|e| Error::Protocol(format!("client assertion: {e}")))?;
    jwt::encode_with_signer(&payload, &header, signer.as_ref())
        .map_err(|e| Error::Protocol(format!("cannot sign the client assertion: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jws::alg::rsassa::RsassaJwsAlgorithm;

    #[test]
    fn assertions_carry_the_claims_providers_check() {
        let pair = RsassaJwsAlgorithm::Rs256.generate_key_pair(2048).unwrap();
        let key = SecretString::new(String::from_utf8(pair.to_pem_private_key()).unwrap());
        let a = assertion(&key, SigningAlg::RS256, Some("k1"), "desk", "https://op").unwrap();
        let b = assertion(&key, SigningAlg::RS256, Some("k1"), "desk", "https://op").unwrap();
        let verifier = RS256.verifier_from_pem(pair.to_pem_public_key()).unwrap();
        let (payload, header) = jwt::decode_with_verifier(&a, &verifier).unwrap();
        assert_eq!(header.key_id(), Some("k1"));
        assert_eq!(payload.issuer(), Some("desk"));
        assert_eq!(payload.subject(), Some("desk"));
        assert_eq!(payload.audience(), Some(vec!["https://op"]));
        assert!(payload.claim("exp").is_some());
        let (other, _) = jwt::decode_with_verifier(&b, &verifier).unwrap();
        assert_ne!(payload.jwt_id(), other.jwt_id(), "each assertion is new");
    }

    #[test]
    fn a_key_that_cannot_sign_is_refused_by_name_without_its_bytes() {
        let auth = ClientAuth::PrivateKeyJwt {
            key: SecretString::new("-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n"),
            alg: SigningAlg::RS256,
            kid: None,
        };
        let e = auth.check().unwrap_err();
        assert_eq!(e.field(), Some("ciba-private-key"));
        assert!(!e.to_string().contains("c2VjcmV0"));
        let empty = ClientAuth::Basic {
            secret: SecretString::new(String::new()),
        };
        assert_eq!(empty.check().unwrap_err().code(), "secret_missing");
    }
}
