//! Wire types of the Authentication REST API (reference §1.3–§1.6). Reading is lenient on purpose:
//! unknown fields are ignored and every optional field may be missing or `null`, because Signicat
//! adds fields without notice and a poll must never fail on something we do not use.

use crate::messages::RestStatus;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A session as returned by create, get and cancel.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    /// Unknown values are kept (`RestStatus::Unknown`) and are not terminal.
    #[serde(deserialize_with = "status")]
    pub status: RestStatus,
    #[serde(default, deserialize_with = "lenient_datetime")]
    pub expires_at: Option<OffsetDateTime>,
    /// The server's clock when it answered (HTTP `Date`), set by the client; not in the body.
    #[serde(skip)]
    pub server_date: Option<OffsetDateTime>,
    /// Provider data: `bindingMessage`, `qrData`, `autoStartToken`, ... Kept as JSON values because
    /// nothing guarantees they stay strings; read them with [`Session::idp_str`].
    #[serde(default, deserialize_with = "null_as_default")]
    pub idp_data: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub subject: Option<RestSubject>,
    #[serde(default)]
    pub loa: Option<String>,
    #[serde(default)]
    pub error: Option<SessionError>,
    #[serde(default)]
    pub external_reference: Option<String>,
    #[serde(default)]
    pub provider: Option<String>,
    /// Redirect flow: the provider's page the customer completes.
    #[serde(default)]
    pub authentication_url: Option<String>,
}

impl Session {
    /// A non-empty string from `idpData`.
    pub fn idp_str(&self, key: &str) -> Option<&str> {
        self.idp_data
            .get(key)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    }
}

/// `subject` of a successful session. Provider-specific keys are kept in `extra`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestSubject {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub idp_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub middle_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub date_of_birth: Option<String>,
    #[serde(default)]
    pub nin: Option<RestNin>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestNin {
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub issuing_country: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// `error` of a session in status `ERROR`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionError {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
}

/// An RFC 7807 problem body (§1.6). Every field optional: a proxy may answer with anything.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub invalid_params: Vec<InvalidParam>,
    /// OAuth error bodies (token endpoint) use these instead.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct InvalidParam {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

impl Problem {
    /// The machine code: `code`, else the OAuth `error`, else `http_<status>`.
    pub fn code_or(&self, status: u16) -> String {
        self.code
            .clone()
            .or_else(|| self.error.clone())
            .unwrap_or_else(|| format!("http_{status}"))
    }

    /// A staff-readable sentence: title and detail, plus the invalid parameters.
    pub fn message_or(&self, status: u16) -> String {
        let mut parts: Vec<String> = Vec::new();
        for p in [&self.title, &self.detail, &self.error_description]
            .into_iter()
            .flatten()
        {
            if !p.is_empty() && !parts.contains(p) {
                parts.push(p.clone());
            }
        }
        for ip in &self.invalid_params {
            if let Some(name) = &ip.name {
                parts.push(format!(
                    "{name}: {}",
                    ip.reason.as_deref().unwrap_or("invalid")
                ));
            }
        }
        if parts.is_empty() {
            format!("HTTP {status}")
        } else {
            parts.join(" — ")
        }
    }
}

/// The body of a session create (§1.3). Built by the flow layer from a validated request.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CreateSession {
    pub flow: String,
    pub allowed_providers: Vec<String>,
    pub requested_attributes: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub prefilled_input: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub additional_parameters: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_lifetime: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_settings: Option<RedirectSettings>,
}

/// `redirectSettings` of a redirect-flow session: where the browser goes at the end.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RedirectSettings {
    pub success_url: String,
    pub abort_url: String,
    pub error_url: String,
}

impl CreateSession {
    /// A headless session for one provider (`nbid`, `sbid`).
    pub fn headless(provider: &str, attributes: &[&str]) -> Self {
        CreateSession {
            flow: "headless".into(),
            allowed_providers: vec![provider.into()],
            requested_attributes: attributes.iter().map(|s| s.to_string()).collect(),
            prefilled_input: BTreeMap::new(),
            additional_parameters: BTreeMap::new(),
            language: None,
            external_reference: None,
            session_lifetime: None,
            redirect_settings: None,
        }
    }

    /// A redirect-flow session for one provider, ending at `urls`.
    pub fn redirect(provider: &str, attributes: &[&str], urls: RedirectSettings) -> Self {
        CreateSession {
            flow: "redirect".into(),
            redirect_settings: Some(urls),
            ..Self::headless(provider, attributes)
        }
    }
}

/// The token endpoint's answer (§1.1). `access_token` is read into a secret at once.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

fn status<'de, D: Deserializer<'de>>(d: D) -> Result<RestStatus, D::Error> {
    Ok(RestStatus::parse(&String::deserialize(d)?))
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `expiresAt` with any number of fractional digits and any offset. An unreadable value is treated
/// as absent (the flow then relies on its own lifetime cap) rather than failing the whole session.
fn lenient_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    let raw = Option::<String>::deserialize(d)?;
    Ok(raw.and_then(|s| parse_datetime(&s)))
}

/// RFC 3339 with more than nine fractional digits is cut to nine first; `time` refuses more.
pub fn parse_datetime(raw: &str) -> Option<OffsetDateTime> {
    let raw = raw.trim();
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some(t);
    }
    let dot = raw.find('.')?;
    let digits = raw[dot + 1..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    if digits <= 9 {
        return None;
    }
    let cut = format!("{}{}", &raw[..dot + 10], &raw[dot + 1 + digits..]);
    OffsetDateTime::parse(&cut, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_session_with_unknown_fields_and_seven_fractional_digits() {
        let s: Session = serde_json::from_str(
            r#"{"id":"abc","accountId":"a-1","status":"CREATED","expiresAt":"2026-06-29T11:08:34.9495067+00:00",
                "idpData":{"bindingMessage":"Snedig redning","n":3},"somethingNew":{"x":1},"subject":null}"#,
        )
        .unwrap();
        assert_eq!(s.status, RestStatus::Created);
        assert_eq!(s.idp_str("bindingMessage"), Some("Snedig redning"));
        assert_eq!(s.idp_str("n"), None);
        let t = s.expires_at.unwrap();
        assert_eq!(t.nanosecond(), 949_506_700);
    }

    #[test]
    fn reads_offsets_and_long_fractions() {
        let a = parse_datetime("2026-06-29T13:08:34.123456789012+02:00").unwrap();
        let b = parse_datetime("2026-06-29T11:08:34.123456789Z").unwrap();
        assert_eq!(a, b);
        assert!(parse_datetime("2026-06-29T11:08:34+00:00").is_some());
        assert!(parse_datetime("yesterday").is_none());
    }

    #[test]
    fn unknown_status_is_kept_and_not_terminal() {
        let s: Session =
            serde_json::from_str(r#"{"id":"x","status":"PENDING_SOMETHING"}"#).unwrap();
        assert_eq!(s.status.as_str(), "PENDING_SOMETHING");
        assert!(!s.status.is_terminal());
    }

    #[test]
    fn problem_message_names_invalid_params() {
        let p: Problem = serde_json::from_str(
            r#"{"title":"Bad request","code":"invalid_request_parameter","traceId":"t1",
                "invalidParams":[{"name":"prefilledInput.nin","reason":"required"}]}"#,
        )
        .unwrap();
        assert_eq!(p.code_or(400), "invalid_request_parameter");
        assert_eq!(
            p.message_or(400),
            "Bad request — prefilledInput.nin: required"
        );
    }

    #[test]
    fn create_body_uses_camel_case() {
        let mut b = CreateSession::headless("nbid", &["name"]);
        b.prefilled_input.insert("nin".into(), "29124815345".into());
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(v["allowedProviders"][0], "nbid");
        assert_eq!(v["prefilledInput"]["nin"], "29124815345");
        assert!(v.get("additionalParameters").is_none());
    }
}
