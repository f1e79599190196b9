//! The authorize request: raw parameters (form/query pairs or request-object claims) validated into
//! an [`AuthorizeRequest`] that can only hold what Signicat would accept.

use serde_json::{Map, Value};
use time::Date;

use super::error::OidcError;
use crate::identity;
use crate::ClientCredentials;

const ACR_PREFIX: &str = "urn:signicat:oidc:method:";
/// Signicat shows at most this much text on the phone.
const MAX_SIGN_TEXT_CHARS: usize = 1000;

/// The four legacy headless methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    NbidInapp,
    SbidInapp,
    NbidInappSign,
    SbidInappSign,
}

impl Method {
    fn from_acr(acr: &str) -> Option<Method> {
        match acr.strip_prefix(ACR_PREFIX)? {
            "nbid-inapp" => Some(Method::NbidInapp),
            "sbid-inapp" => Some(Method::SbidInapp),
            "nbid-inapp-sign" => Some(Method::NbidInappSign),
            "sbid-inapp-sign" => Some(Method::SbidInappSign),
            _ => None,
        }
    }

    pub(crate) fn acr(self) -> String {
        let name = match self {
            Method::NbidInapp => "nbid-inapp",
            Method::SbidInapp => "sbid-inapp",
            Method::NbidInappSign => "nbid-inapp-sign",
            Method::SbidInappSign => "sbid-inapp-sign",
        };
        format!("{ACR_PREFIX}{name}")
    }

    pub(crate) fn is_sign(self) -> bool {
        matches!(self, Method::NbidInappSign | Method::SbidInappSign)
    }

    pub(crate) fn is_swedish(self) -> bool {
        matches!(self, Method::SbidInapp | Method::SbidInappSign)
    }
}

/// The customer, from `login_hint`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LoginHint {
    Nbid { birth_date: Date, phone: String },
    Sbid { subject: String },
}

/// A validated authorize request.
#[derive(Clone, Debug)]
pub(crate) struct AuthorizeRequest {
    pub(crate) method: Method,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) scope: String,
    pub(crate) state: String,
    pub(crate) nonce: String,
    /// PKCE S256 challenge (base64url of a SHA-256).
    pub(crate) code_challenge: String,
    pub(crate) hint: LoginHint,
    /// Consent Signature only (required there, absent otherwise).
    pub(crate) sign_text: Option<String>,
}

/// Parameters as received: single values by name, `login_hint` as a list.
#[derive(Debug, Default)]
pub(crate) struct RawParams {
    single: Vec<(String, String)>,
    login_hint: Vec<String>,
}

impl RawParams {
    /// From `application/x-www-form-urlencoded` pairs (`login_hint` repeated once per element).
    pub(crate) fn from_pairs(pairs: Vec<(String, String)>) -> RawParams {
        let mut raw = RawParams::default();
        for (k, v) in pairs {
            if k == "login_hint" {
                raw.login_hint.push(v);
            } else {
                raw.single.push((k, v));
            }
        }
        raw
    }

    /// From request-object claims: `login_hint` must be a JSON array of strings.
    pub(crate) fn from_claims(claims: Map<String, Value>) -> Result<RawParams, OidcError> {
        let mut raw = RawParams::default();
        for (k, v) in claims {
            if k == "login_hint" {
                let Value::Array(items) = v else {
                    return Err(OidcError::invalid_request(
                        "login_hint in the request object must be a JSON array of strings",
                    ));
                };
                for item in items {
                    let Value::String(s) = item else {
                        return Err(OidcError::invalid_request(
                            "login_hint elements must be strings",
                        ));
                    };
                    raw.login_hint.push(s);
                }
            } else {
                match v {
                    Value::String(s) => raw.single.push((k, s)),
                    // Standard JWT claims such as exp/iat may be numbers; they are not used.
                    Value::Number(n) => raw.single.push((k, n.to_string())),
                    _ => {
                        return Err(OidcError::invalid_request(&format!(
                            "request object claim {k:?} must be a string"
                        )))
                    }
                }
            }
        }
        Ok(raw)
    }

    /// Every `login_hint` value, in order.
    pub(crate) fn login_hints(&self) -> &[String] {
        &self.login_hint
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.single.iter().any(|(k, _)| k == name)
            || (name == "login_hint" && !self.login_hint.is_empty())
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.single.iter().map(|(k, _)| k.as_str())
    }

    /// The value of a parameter that must occur at most once.
    pub(crate) fn get(&self, name: &str) -> Result<Option<&str>, OidcError> {
        let mut values = self.single.iter().filter(|(k, _)| k == name);
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(OidcError::invalid_request(&format!(
                "parameter {name} must not be repeated"
            )));
        }
        Ok(first)
    }

    fn required(&self, name: &str) -> Result<&str, OidcError> {
        match self.get(name)? {
            Some(v) if !v.trim().is_empty() => Ok(v),
            _ => Err(OidcError::invalid_request(&format!(
                "missing required parameter {name}"
            ))),
        }
    }
}

/// The clients and redirect URIs the issuer knows.
pub(crate) struct Clients<'a> {
    pub(crate) auth: &'a ClientCredentials,
    pub(crate) sign: &'a ClientCredentials,
    pub(crate) redirect_uris: &'a [String],
}

/// Where the parameters came from: plain parameters, or a decrypted request object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Plain,
    RequestObject,
}

pub(crate) fn validate(
    raw: &RawParams,
    source: Source,
    clients: &Clients<'_>,
) -> Result<AuthorizeRequest, OidcError> {
    let client_id = raw.required("client_id")?;
    let is_sign_client = client_id == clients.sign.client_id;
    if !is_sign_client && client_id != clients.auth.client_id {
        return Err(OidcError::bad_request(
            "unauthorized_client",
            &format!("unknown client_id {client_id:?}"),
        ));
    }
    let acr = raw.required("acr_values")?;
    let method = Method::from_acr(acr).ok_or_else(|| {
        OidcError::invalid_request(&format!(
            "acr_values {acr:?} is not one of urn:signicat:oidc:method:nbid-inapp, sbid-inapp, nbid-inapp-sign, sbid-inapp-sign"
        ))
    })?;
    if method.is_sign() != is_sign_client {
        return Err(OidcError::bad_request(
            "unauthorized_client",
            &format!("client {client_id:?} may not use {acr}"),
        ));
    }
    match (method.is_sign(), source) {
        (true, Source::Plain) => {
            return Err(OidcError::invalid_request(
                "Consent Signature needs an encrypted request object: send request=<compact JWE> as the only parameter",
            ))
        }
        (false, Source::RequestObject) => {
            return Err(OidcError::bad_request(
                "request_not_supported",
                "request objects are only accepted for the Consent Signature (-sign) methods",
            ))
        }
        _ => {}
    }
    let redirect_uri = raw.required("redirect_uri")?;
    if !clients.redirect_uris.iter().any(|u| u == redirect_uri) {
        return Err(OidcError::invalid_request(&format!(
            "redirect_uri {redirect_uri:?} is not registered for this client"
        )));
    }
    let response_type = raw.required("response_type")?;
    if response_type != "code" {
        return Err(OidcError::bad_request(
            "unsupported_response_type",
            "response_type must be \"code\"",
        ));
    }
    let scope = raw.required("scope")?;
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    if !scopes.contains(&"openid") {
        return Err(OidcError::bad_request(
            "invalid_scope",
            "scope must contain \"openid\"",
        ));
    }
    if method.is_sign() && !scopes.contains(&"signicat.sign") {
        return Err(OidcError::bad_request(
            "invalid_scope",
            "Consent Signature needs the scope \"signicat.sign\"",
        ));
    }
    let state = raw.required("state")?;
    let nonce = raw.required("nonce")?;
    let code_challenge = raw.required("code_challenge")?;
    match raw.get("code_challenge_method")? {
        Some("S256") => {}
        Some(other) => {
            return Err(OidcError::invalid_request(&format!(
                "code_challenge_method {other:?} is not supported; use S256"
            )))
        }
        None => {
            return Err(OidcError::invalid_request(
                "missing code_challenge_method (must be S256)",
            ))
        }
    }
    let challenge_ok = code_challenge.len() == 43
        && code_challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !challenge_ok {
        return Err(OidcError::invalid_request(
            "code_challenge must be the base64url (no padding) SHA-256 of the verifier (43 characters)",
        ));
    }
    let hint = login_hint(method, &raw.login_hint)?;
    let sign_text = if method.is_sign() {
        let text = raw.get("signicat_signtext")?.unwrap_or("");
        let chars = text.chars().count();
        if text.trim().is_empty() || chars > MAX_SIGN_TEXT_CHARS {
            return Err(OidcError::invalid_request(&format!(
                "signicat_signtext is required and must be 1–{MAX_SIGN_TEXT_CHARS} characters (got {chars})"
            )));
        }
        Some(text.to_owned())
    } else {
        None
    };
    Ok(AuthorizeRequest {
        method,
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scope: scope.to_owned(),
        state: state.to_owned(),
        nonce: nonce.to_owned(),
        code_challenge: code_challenge.to_owned(),
        hint,
        sign_text,
    })
}

fn login_hint(method: Method, hints: &[String]) -> Result<LoginHint, OidcError> {
    if hints.is_empty() {
        return Err(OidcError::invalid_request(
            "missing login_hint (repeat it once per element)",
        ));
    }
    if method.is_swedish() {
        let [only] = hints else {
            return Err(OidcError::invalid_request(
                "Swedish BankID takes exactly one login_hint: subject-YYYYMMDDNNNN",
            ));
        };
        let subject = only.strip_prefix("subject-").ok_or_else(|| {
            OidcError::invalid_request(&format!(
                "unexpected login_hint element {}; expected subject-YYYYMMDDNNNN",
                hint_prefix(only)
            ))
        })?;
        if identity::swedish_birth_date(subject).is_none() {
            return Err(OidcError::invalid_request(
                "login_hint subject- must be a valid 12-digit personnummer (YYYYMMDDNNNN)",
            ));
        }
        return Ok(LoginHint::Sbid {
            subject: subject.to_owned(),
        });
    }
    let mut birth_date = None;
    let mut phone = None;
    for hint in hints {
        if let Some(v) = hint.strip_prefix("birthdate-") {
            if birth_date.is_some() {
                return Err(OidcError::invalid_request(
                    "login_hint birthdate- given twice",
                ));
            }
            birth_date = Some(identity::ddmmyy_date(v).ok_or_else(|| {
                OidcError::invalid_request("login_hint birthdate- must be a real date as DDMMYY")
            })?);
        } else if let Some(v) = hint.strip_prefix("phone-") {
            if phone.is_some() {
                return Err(OidcError::invalid_request("login_hint phone- given twice"));
            }
            phone = Some(identity::norwegian_mobile_national(v).ok_or_else(|| {
                OidcError::invalid_request(
                    "login_hint phone- must be 8 digits starting with 4 or 9, without country code",
                )
            })?);
        } else {
            return Err(OidcError::invalid_request(&format!(
                "unexpected login_hint element {}; expected birthdate-DDMMYY and phone-NNNNNNNN",
                hint_prefix(hint)
            )));
        }
    }
    match (birth_date, phone) {
        (Some(birth_date), Some(phone)) => Ok(LoginHint::Nbid { birth_date, phone }),
        _ => Err(OidcError::invalid_request(
            "Norwegian BankID needs both login_hint elements: birthdate-DDMMYY and phone-NNNNNNNN",
        )),
    }
}

/// Only a short alphabetic prefix such as `phone-…`; anything else may carry an identity number
/// and is never echoed.
fn hint_prefix(hint: &str) -> String {
    match hint.split_once('-') {
        Some((prefix, _))
            if !prefix.is_empty()
                && prefix.len() <= 20
                && prefix.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            format!("{prefix}-…")
        }
        _ => "(element without a known prefix)".to_owned(),
    }
}
