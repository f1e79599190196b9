//! Step 1: the authorize request (plain form for authentication, an encrypted request object for
//! Consent Signature) and what Signicat answers: where to poll, or why not.

use super::http::FlowHttp;
use super::provider_stop;
use super::{FlowStop, LegacyAuth};
use crate::{Error, Result};
use serde::Deserialize;
use url::Url;

pub(crate) const ACR_PREFIX: &str = "urn:signicat:oidc:method:";

/// The `acr_values` method name.
pub(crate) fn method_name(who: &LegacyAuth, sign: bool) -> &'static str {
    match (who, sign) {
        (LegacyAuth::Nbid { .. }, false) => "nbid-inapp",
        (LegacyAuth::Sbid { .. }, false) => "sbid-inapp",
        (LegacyAuth::Nbid { .. }, true) => "nbid-inapp-sign",
        (LegacyAuth::Sbid { .. }, true) => "sbid-inapp-sign",
    }
}

/// `login_hint` elements (reference §2.1).
pub(crate) fn login_hints(who: &LegacyAuth) -> Vec<String> {
    match who {
        LegacyAuth::Nbid { phone, birthdate } => vec![
            format!("birthdate-{}", birthdate.ddmmyy()),
            format!("phone-{}", phone.digits()),
        ],
        LegacyAuth::Sbid { nin } => vec![format!("subject-{}", nin.as_str())],
    }
}

/// Where to poll, per method family.
#[derive(Debug, Clone)]
pub(crate) enum PollTarget {
    Nbid {
        status_uri: Url,
    },
    Sbid {
        collect_url: Url,
        order_ref: String,
        auto_start_token: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizeAnswer {
    status_uri: Option<String>,
    collect_url: Option<String>,
    order_ref: Option<String>,
    auto_start_token: Option<String>,
    error: Option<String>,
    #[serde(rename = "error_description")]
    error_description: Option<String>,
}

/// Sends the prepared authorize request and reads the JSON answer.
pub(crate) async fn send_authorize(
    http: &FlowHttp,
    endpoint: &Url,
    who: &LegacyAuth,
    form: &[(&str, String)],
) -> Result<PollTarget, FlowStop> {
    let resp = http
        .send(
            http.post(endpoint.clone())
                .header("Accept", "application/json")
                .form(form),
        )
        .await?;
    let status = resp.status();
    let body = crate::http_body::read_capped(resp, crate::http_body::MAX_JSON_BYTES)
        .await
        .map_err(|e| e.into_error("authorize"))?;
    let answer: AuthorizeAnswer = serde_json::from_slice(&body).map_err(|_| {
        if status.is_success() {
            Error::Protocol("authorize did not answer JSON".into())
        } else {
            Error::Api {
                status: status.as_u16(),
                code: format!("http_{}", status.as_u16()),
                message: "authorize refused the request".into(),
            }
        }
    })?;
    if let Some(error) = answer.error.as_deref() {
        return Err(provider_stop(error, answer.error_description.as_deref()));
    }
    if !status.is_success() {
        return Err(Error::Api {
            status: status.as_u16(),
            code: format!("http_{}", status.as_u16()),
            message: "authorize refused the request".into(),
        }
        .into());
    }
    let join = |s: &str, field: &str| super::http::join_same_origin(endpoint, s, field);
    let missing = |field: &str| Error::Protocol(format!("authorize answer has no {field}"));
    Ok(match who {
        LegacyAuth::Nbid { .. } => PollTarget::Nbid {
            status_uri: join(
                answer
                    .status_uri
                    .as_deref()
                    .ok_or_else(|| missing("statusUri"))?,
                "statusUri",
            )?,
        },
        LegacyAuth::Sbid { .. } => PollTarget::Sbid {
            collect_url: join(
                answer
                    .collect_url
                    .as_deref()
                    .ok_or_else(|| missing("collectUrl"))?,
                "collectUrl",
            )?,
            order_ref: answer.order_ref.ok_or_else(|| missing("orderRef"))?,
            auto_start_token: answer
                .auto_start_token
                .ok_or_else(|| missing("autoStartToken"))?,
        },
    })
}

/// The link that opens the BankID app on this device (`redirect=null`: stay in BankID).
pub(crate) fn app_launch_url(auto_start_token: &str) -> String {
    let token: String = url::form_urlencoded::byte_serialize(auto_start_token.as_bytes()).collect();
    format!("bankid:///?autostarttoken={token}&redirect=null")
}
