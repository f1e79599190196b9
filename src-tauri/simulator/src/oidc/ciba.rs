//! OpenID Connect CIBA, poll mode, for Training and tests: `POST {issuer}/backchannel` and the
//! CIBA grant at `{issuer}/token`. The acceptance tests of the desk's CIBA client run against
//! node `oidc-provider`; this is the same protocol on the simulator's personas, so staff can
//! practise it.
//!
//! * The authentication client (HTTP Basic) may use CIBA.
//! * `login_hint` is a Norwegian fødselsnummer (the Safe Conversation personas: the customer's
//!   BankID shows the client's binding message among other word pairs) or a Swedish personnummer
//!   (the Swedish personas), optionally after `nin:`. Anyone else is `unknown_user_id`.
//! * `authorization_details` (RFC 9396) is optional: a JSON array whose one known entry is
//!   `{"type": "phoneAuth", "callInitiator": "RP" | "user"}` — staff and the customer are in a
//!   call (a Swedish hint then makes a Swedish BankID Phone order). Anything else in it is
//!   `invalid_authorization_details`. The details are kept on the order (control API view).
//! * The answer advertises `interval: 2` (the desk's own REST cadence).
//! * Outcomes: pending → `authorization_pending`; the customer's cancel (and staff's) →
//!   `access_denied`; expiry → `expired_token`; a BankID failure → `transaction_failed` with
//!   BankID's text, except that in a `phoneAuth` request the customer saying they are not in the
//!   call (Karin, Per, or the control API's decline) is `access_denied` with the description
//!   `userDeclinedCall`.
//!
//! | login_hint | `phoneAuth` | Order method |
//! |---|---|---|
//! | fødselsnummer | either | Safe Conversation |
//! | personnummer | no | Swedish BankID app launch |
//! | personnummer | yes | Swedish BankID Phone |

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::error::OidcError;
use super::http::form_pairs;
use super::id_token::IdTokenSpoil;
use super::keys::OidcKeys;
use super::params::RawParams;
use super::store::random_token;
use crate::faults::{Endpoint, Intercept};
use crate::persona::FailCode;
use crate::phone::{
    CallInitiator, Family, Identity, Method as PhoneMethod, OrderSpec, OrderStatus, Requested,
};
use crate::server::ConnHandle;
use crate::state::AppState;

pub(crate) const GRANT_TYPE: &str = "urn:openid:params:grant-type:ciba";
const INTERVAL_SECS: u64 = 2;
const MAX_BINDING_CHARS: usize = 20;
const ACR: &str = "urn:signicat:oidc:method:ciba:loa:high";

/// A backchannel authentication request and its phone order.
pub(crate) struct CibaRequest {
    pub(crate) order_id: String,
    pub(crate) client_id: String,
    pub(crate) scope: String,
    pub(crate) expires: Instant,
    /// `authorization_details` asked for a phone authentication.
    pub(crate) phone_auth: bool,
}

pub(crate) async fn backchannel(
    State(state): State<AppState>,
    conn: ConnHandle,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Intercept::Respond(r) = state.begin(&conn, Endpoint::Backchannel, None).await {
        return r;
    }
    match start(&state, &headers, &body) {
        Ok(r) => r,
        Err(e) => {
            tracing::info!(error = %e.error, "ciba request refused");
            e.into_response()
        }
    }
}

fn start(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Result<Response, OidcError> {
    let client_id = super::token::authenticate(state, headers)?;
    let raw = RawParams::from_pairs(form_pairs(body));
    let scope = raw.get("scope")?.unwrap_or_default().to_owned();
    if !scope.split_whitespace().any(|s| s == "openid") {
        return Err(OidcError::bad_request(
            "invalid_scope",
            "scope must include openid",
        ));
    }
    if raw.has("login_hint_token") || raw.has("id_token_hint") {
        return Err(OidcError::invalid_request(
            "this simulator identifies customers by login_hint only",
        ));
    }
    // CIBA's login_hint is one value (the legacy authorize repeats it).
    let hint = match raw.login_hints() {
        [one] if !one.is_empty() => one.as_str(),
        [] => {
            return Err(OidcError::invalid_request(
                "missing required parameter login_hint",
            ))
        }
        _ => return Err(OidcError::invalid_request("login_hint must be given once")),
    };
    let (mut method, identity) = person_of(hint)?;
    let (details, call_initiator) = match raw.get("authorization_details")? {
        None => (None, None),
        Some(text) => {
            let (details, call) = authorization_details(text)?;
            (Some(details), call)
        }
    };
    if call_initiator.is_some() && method.is_swedish() {
        method = PhoneMethod::SbidPhone;
    }
    let binding_message = match raw.get("binding_message")? {
        None => None,
        Some(m) if valid_binding_message(m) => Some(m.to_owned()),
        Some(_) => {
            return Err(OidcError::bad_request(
                "invalid_binding_message",
                "binding_message must be 1-20 letters, digits, spaces or . , - ! ? # + / _",
            ))
        }
    };
    let config = state.config();
    let lifetime = match raw.get("requested_expiry")? {
        None => config.oidc_order_lifetime,
        Some(v) => match v.parse::<u64>() {
            Ok(secs @ 1..=600) => Duration::from_secs(secs),
            _ => {
                return Err(OidcError::invalid_request(
                    "requested_expiry must be 1-600 seconds",
                ))
            }
        },
    };
    let lifetime = config.session_lifetime_override.unwrap_or(lifetime);
    let order = state
        .phone()
        .create(OrderSpec {
            family: Family::Oidc,
            method,
            identity,
            lifetime,
            sign_text: None,
            binding_message,
            requested: Requested {
                call_initiator,
                authorization_details: details,
                ..Requested::default()
            },
            scenario: None,
        })
        .ok_or_else(|| OidcError::bad_request("unknown_user_id", "no such customer"))?;
    tracing::info!(order = %order.id, customer = %order.identity.masked(), "ciba order created");
    let auth_req_id = random_token();
    state.oidc().store.lock().ciba.insert(
        auth_req_id.clone(),
        CibaRequest {
            order_id: order.id,
            client_id,
            scope,
            expires: Instant::now() + lifetime,
            phone_auth: call_initiator.is_some(),
        },
    );
    Ok(Json(json!({
        "auth_req_id": auth_req_id,
        "expires_in": lifetime.as_secs(),
        "interval": INTERVAL_SECS,
    }))
    .into_response())
}

/// The persona or interactive customer a hint names.
fn person_of(hint: &str) -> Result<(PhoneMethod, Identity), OidcError> {
    let number = hint.strip_prefix("nin:").unwrap_or(hint);
    if crate::identity::norwegian_birth_date(number).is_some() {
        return Ok((
            PhoneMethod::NbidSafeConversation,
            Identity::NorwegianNin(number.to_owned()),
        ));
    }
    if number.len() == 12 && crate::identity::swedish_birth_date(number).is_some() {
        return Ok((
            PhoneMethod::SbidAppLaunch,
            Identity::SwedishNin(Some(number.to_owned())),
        ));
    }
    Err(OidcError::bad_request(
        "unknown_user_id",
        "login_hint must be a fødselsnummer or a 12-digit personnummer",
    ))
}

/// RFC 9396 `authorization_details`: the details as sent, and the call initiator of a
/// `phoneAuth` entry.
fn authorization_details(text: &str) -> Result<(Value, Option<CallInitiator>), OidcError> {
    let invalid =
        |description: &str| OidcError::bad_request("invalid_authorization_details", description);
    let details: Value = serde_json::from_str(text)
        .map_err(|e| invalid(&format!("authorization_details is not valid JSON: {e}")))?;
    let Value::Array(entries) = &details else {
        return Err(invalid("authorization_details must be a JSON array"));
    };
    let mut call = None;
    for entry in entries {
        match entry.get("type").and_then(Value::as_str) {
            Some("phoneAuth") => {}
            Some(other) => {
                return Err(invalid(&format!(
                    "unknown authorization_details type '{other}' (this simulator knows phoneAuth)"
                )))
            }
            None => {
                return Err(invalid(
                    "every authorization_details entry must be an object with a string type",
                ))
            }
        }
        if call.is_some() {
            return Err(invalid("phoneAuth may be given once"));
        }
        let initiator = entry
            .get("callInitiator")
            .and_then(Value::as_str)
            .and_then(CallInitiator::parse)
            .ok_or_else(|| invalid("phoneAuth needs callInitiator \"RP\" or \"user\""))?;
        call = Some(initiator);
    }
    Ok((details, call))
}

fn valid_binding_message(m: &str) -> bool {
    let n = m.chars().count();
    (1..=MAX_BINDING_CHARS).contains(&n)
        && m.chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || ".,-!?#+/_".contains(c))
}

/// The CIBA grant at the token endpoint (the client is already authenticated).
pub(crate) fn grant(
    state: &AppState,
    keys: &OidcKeys,
    client_id: &str,
    raw: &RawParams,
    spoil: IdTokenSpoil,
) -> Result<Response, OidcError> {
    let id = raw
        .get("auth_req_id")?
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OidcError::invalid_request("missing required parameter auth_req_id"))?;
    let oidc = state.oidc();
    let mut store = oidc.store.lock();
    let request = store
        .ciba
        .get(id)
        .ok_or_else(|| OidcError::bad_request("invalid_grant", "unknown auth_req_id"))?;
    if request.client_id != client_id {
        return Err(OidcError::bad_request(
            "invalid_grant",
            "auth_req_id was issued to another client",
        ));
    }
    let order_id = request.order_id.clone();
    let scope = request.scope.clone();
    let phone_auth = request.phone_auth;
    let past_expiry = request.expires <= Instant::now();
    let status = state.phone().get(&order_id).map(|o| (o.status, o.person));
    let (status, person) = match status {
        Some(s) => s,
        None => {
            return Err(OidcError::bad_request(
                "expired_token",
                "the request expired",
            ))
        }
    };
    let refuse = |error: &str, description: &str| Err(OidcError::bad_request(error, description));
    match status {
        OrderStatus::Success => {}
        OrderStatus::Created | OrderStatus::WaitingForUser if past_expiry => {
            return refuse("expired_token", "the request expired")
        }
        OrderStatus::Created | OrderStatus::WaitingForUser => {
            return refuse("authorization_pending", "the customer has not answered yet")
        }
        OrderStatus::Aborted | OrderStatus::Cancelled => {
            store.ciba.remove(id);
            return refuse("access_denied", "the customer declined");
        }
        OrderStatus::Expired => {
            store.ciba.remove(id);
            return refuse("expired_token", "the request expired");
        }
        // In a call, the customer saying they are not in it is their refusal, not a failure.
        OrderStatus::Failed(FailCode::WrongBindingMessage) if phone_auth => {
            store.ciba.remove(id);
            return refuse("access_denied", "userDeclinedCall");
        }
        OrderStatus::Failed(code) => {
            store.ciba.remove(id);
            return refuse("transaction_failed", code.title());
        }
    }
    // Single use, like an authorization code.
    store.ciba.remove(id);
    super::token::issue_tokens(
        state,
        keys,
        store,
        super::token::Issue {
            client_id,
            nonce: "",
            acr: ACR,
            scope: &scope,
            order_id,
            identity: super::complete::identity_claims(&person),
            sdo: None,
        },
        spoil,
    )
}
