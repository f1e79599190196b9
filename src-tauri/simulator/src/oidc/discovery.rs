//! Discovery document and JWKS.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::keys::SigKey;
use crate::faults::{Endpoint, Intercept};
use crate::server::ConnHandle;
use crate::state::AppState;

pub(crate) async fn configuration(State(state): State<AppState>, conn: ConnHandle) -> Response {
    if let Intercept::Respond(r) = state.begin(&conn, Endpoint::Discovery, None).await {
        return r;
    }
    let keys = match state.oidc().keys().await {
        Ok(keys) => keys,
        Err(e) => return e.into_response(),
    };
    let issuer = state.issuer();
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks.json"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", super::ciba::GRANT_TYPE],
        "backchannel_authentication_endpoint": format!("{issuer}/backchannel"),
        "backchannel_token_delivery_modes_supported": ["poll"],
        "backchannel_user_code_parameter_supported": false,
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "request_object_encryption_alg_values_supported": [keys.enc_alg().as_str()],
        "request_object_encryption_enc_values_supported": ["A256CBC-HS512"],
        "request_parameter_supported": true,
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "signicat.sign"],
        "acr_values_supported": [
            "urn:signicat:oidc:method:nbid-inapp",
            "urn:signicat:oidc:method:sbid-inapp",
            "urn:signicat:oidc:method:nbid-inapp-sign",
            "urn:signicat:oidc:method:sbid-inapp-sign",
        ],
        "claims_supported": [
            "sub", "name", "given_name", "family_name", "birthdate", "signicat.national_id",
        ],
        "ui_locales_supported": ["en", "nb", "sv"],
    }))
    .into_response()
}

pub(crate) async fn jwks(State(state): State<AppState>, conn: ConnHandle) -> Response {
    if let Intercept::Respond(r) = state.begin(&conn, Endpoint::Jwks, None).await {
        return r;
    }
    let oidc = state.oidc();
    let set = match oidc.keys().await {
        Ok(keys) => keys,
        Err(e) => return e.into_response(),
    };
    let rotated = oidc.store.lock().rotated;
    let mut keys: Vec<Value> = vec![jwk_value(set.sig_public_jwk(SigKey::Current))];
    if rotated {
        keys.push(jwk_value(set.sig_public_jwk(SigKey::Next)));
    }
    keys.push(jwk_value(set.enc_public_jwk()));
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    (headers, Json(json!({ "keys": keys }))).into_response()
}

fn jwk_value(jwk: josekit::jwk::Jwk) -> Value {
    let map: Map<String, Value> = jwk.into();
    Value::Object(map)
}
