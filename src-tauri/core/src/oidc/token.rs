//! Step 4: exchanging the code for tokens, validating the ID token before trusting anything in it,
//! and reading the customer from userinfo (reference §2.4).

use super::discovery::IssuerCache;
use super::http::{success_body, FlowHttp};
use crate::flow::Subject;
use crate::identity::mask_nin;
use crate::secrets::SecretString;
use crate::{Error, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use josekit::jws::RS256;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use url::Url;

/// Clock difference tolerated on `exp`.
pub(crate) const CLOCK_SKEW: Duration = Duration::from_secs(60);

pub(crate) struct Tokens {
    pub access_token: SecretString,
    pub id_token: String,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    id_token: Option<String>,
    token_type: Option<String>,
}

pub(crate) struct ClientAuth<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a SecretString,
}

pub(crate) async fn exchange_code(
    http: &FlowHttp,
    token_endpoint: &Url,
    auth: &ClientAuth<'_>,
    code: &str,
    redirect_uri: &Url,
    code_verifier: &str,
) -> Result<Tokens> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", code_verifier),
    ];
    let resp = http
        .send(
            http.post(token_endpoint.clone())
                .basic_auth(auth.client_id, Some(auth.client_secret.expose()))
                .header("Accept", "application/json")
                .form(&form),
        )
        .await?;
    let body = success_body(resp, "token").await?;
    let answer: TokenAnswer = serde_json::from_slice(&body)
        .map_err(|_| Error::Protocol("the token answer is not readable".into()))?;
    if let Some(t) = answer.token_type.as_deref() {
        if !t.eq_ignore_ascii_case("bearer") {
            return Err(Error::Protocol(format!("token type {t:?} is not Bearer")));
        }
    }
    Ok(Tokens {
        access_token: SecretString::new(answer.access_token),
        id_token: answer
            .id_token
            .ok_or_else(|| Error::Protocol("the token answer has no id_token".into()))?,
    })
}

/// What must hold for an ID token to be ours.
pub(crate) struct Expect<'a> {
    pub client_id: &'a str,
    /// `None` where the flow sends none (CIBA has no nonce).
    pub nonce: Option<&'a str>,
}

fn header_of(jwt: &str) -> Result<Map<String, Value>> {
    let first = jwt
        .split('.')
        .next()
        .ok_or_else(|| Error::IdToken("not a JWT".into()))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(first)
        .map_err(|_| Error::IdToken("header is not base64url".into()))?;
    serde_json::from_slice(&bytes).map_err(|_| Error::IdToken("header is not JSON".into()))
}

/// Validates signature, `iss`, `aud`, `exp` and `nonce`; returns the claims.
pub(crate) async fn validate_id_token(
    issuer: &IssuerCache,
    jwt: &str,
    expect: &Expect<'_>,
) -> Result<Map<String, Value>> {
    if jwt.split('.').count() != 3 {
        return Err(Error::IdToken("not a signed JWT".into()));
    }
    let header = header_of(jwt)?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg != "RS256" {
        return Err(Error::IdToken(format!("algorithm {alg:?} is not RS256")));
    }
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::IdToken("no kid in the header".into()))?;
    let jwk = issuer.signing_key(kid).await?;
    let verifier = RS256
        .verifier_from_jwk(&jwk)
        .map_err(|e| Error::IdToken(format!("unusable signing key: {e}")))?;
    let (payload, _) = josekit::jws::deserialize_compact(jwt, &verifier)
        .map_err(|_| Error::IdToken("the signature does not verify".into()))?;
    let claims: Map<String, Value> = serde_json::from_slice(&payload)
        .map_err(|_| Error::IdToken("claims are not a JSON object".into()))?;
    check_claims(&claims, issuer.issuer(), expect, SystemTime::now())?;
    Ok(claims)
}

fn check_claims(
    claims: &Map<String, Value>,
    issuer: &str,
    expect: &Expect<'_>,
    now: SystemTime,
) -> Result<()> {
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if iss.trim_end_matches('/') != issuer {
        return Err(Error::IdToken(format!("issued by {iss:?}, not our issuer")));
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == expect.client_id,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(expect.client_id)),
        _ => false,
    };
    if !aud_ok {
        return Err(Error::IdToken("issued for another client (aud)".into()));
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_f64)
        .ok_or_else(|| Error::IdToken("no exp".into()))?;
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    if exp + CLOCK_SKEW.as_secs_f64() < now_secs {
        return Err(Error::IdToken("expired".into()));
    }
    if let Some(nonce) = expect.nonce {
        if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
            return Err(Error::IdToken("nonce differs from the one sent".into()));
        }
    }
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
struct UserInfo {
    sub: Option<String>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    birthdate: Option<String>,
    #[serde(rename = "signicat.national_id")]
    national_id: Option<String>,
    #[serde(rename = "signicat.country")]
    country: Option<String>,
}

pub(crate) async fn userinfo(
    http: &FlowHttp,
    endpoint: &Url,
    access_token: &SecretString,
    id_claims: &Map<String, Value>,
    country: &str,
) -> Result<Subject> {
    let resp = http
        .send(
            http.get(endpoint.clone())
                .bearer_auth(access_token.expose())
                .header("Accept", "application/json"),
        )
        .await?;
    let body = success_body(resp, "userinfo").await?;
    let info: UserInfo = serde_json::from_slice(&body)
        .map_err(|_| Error::Protocol("userinfo is not readable".into()))?;
    // OIDC Core §5.3.2: userinfo about someone else than the ID token must not be used.
    let token_sub = id_claims.get("sub").and_then(Value::as_str);
    if let (Some(a), Some(b)) = (token_sub, info.sub.as_deref()) {
        if a != b {
            return Err(Error::Protocol(
                "userinfo describes another subject than the ID token".into(),
            ));
        }
    }
    Ok(subject_of(info, id_claims, country))
}

/// The subject from the validated ID token's own claims (Signicat puts the same person claims
/// there), for when userinfo cannot be read after a signature whose evidence is already stored.
pub(crate) fn subject_from_id_token(id_claims: &Map<String, Value>, country: &str) -> Subject {
    let info: UserInfo =
        serde_json::from_value(Value::Object(id_claims.clone())).unwrap_or_default();
    subject_of(info, id_claims, country)
}

fn subject_of(info: UserInfo, id_claims: &Map<String, Value>, country: &str) -> Subject {
    let name = info
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            [&info.given_name, &info.family_name]
                .into_iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        });
    Subject {
        name,
        first_name: info.given_name,
        last_name: info.family_name,
        date_of_birth: info.birthdate,
        nin_masked: info.national_id.as_deref().map(mask_nin),
        nin: info.national_id,
        country: Some(info.country.unwrap_or_else(|| country.to_string())),
        loa: id_claims
            .get("acr")
            .and_then(Value::as_str)
            .and_then(loa_of)
            .map(str::to_string),
        risk: None,
        locked_to: None,
    }
}

/// BankID is "high" on every method we use; keep whatever the token says when it says it.
fn loa_of(acr: &str) -> Option<&'static str> {
    if acr.contains("inapp") {
        Some("high")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn claims_are_checked() {
        let now = SystemTime::now();
        let exp = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
        let e = Expect {
            client_id: "demo-inapp",
            nonce: Some("n1"),
        };
        let good = json!({"iss": "https://x/oidc", "aud": ["demo-inapp", "other"], "exp": exp + 10, "nonce": "n1"});
        assert!(check_claims(&claims(good.clone()), "https://x/oidc", &e, now).is_ok());
        // Within the skew.
        let mut c = claims(good.clone());
        c.insert("exp".into(), json!(exp - 30));
        assert!(check_claims(&c, "https://x/oidc", &e, now).is_ok());
        c.insert("exp".into(), json!(exp - 90));
        assert!(check_claims(&c, "https://x/oidc", &e, now).is_err());
        let mut c = claims(good.clone());
        c.insert("aud".into(), json!("other"));
        assert!(check_claims(&c, "https://x/oidc", &e, now).is_err());
        let mut c = claims(good.clone());
        c.insert("nonce".into(), json!("n2"));
        assert!(check_claims(&c, "https://x/oidc", &e, now).is_err());
        assert!(check_claims(&claims(good), "https://y/oidc", &e, now).is_err());
    }
}
