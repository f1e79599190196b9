//! What the issuer remembers: transactions (one per authorize, keyed by the phone order id),
//! authorization codes and access tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde_json::{Map, Value};

use super::params::AuthorizeRequest;

#[derive(Default)]
pub(crate) struct Store {
    inner: Mutex<Inner>,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) txns: HashMap<String, Txn>,
    pub(crate) codes: HashMap<String, CodeGrant>,
    pub(crate) tokens: HashMap<String, AccessGrant>,
    /// CIBA requests by `auth_req_id`.
    pub(crate) ciba: HashMap<String, super::ciba::CibaRequest>,
    /// The rotation key is published (and signs) from the first `IdTokenRotatedKey` fault on.
    pub(crate) rotated: bool,
}

/// One authorize request and its phone order.
pub(crate) struct Txn {
    /// The session cookie value set by the authorize response.
    pub(crate) cookie: String,
    pub(crate) request: AuthorizeRequest,
    /// The last sbid `progressStatus` reported, so the sequence runs
    /// OUTSTANDING_TRANSACTION → NO_CLIENT → STARTED → USER_SIGN like BankID's.
    pub(crate) last_progress: Option<&'static str>,
    /// Fault `RedirectLoop` hit: every completion hop of this transaction loops.
    pub(crate) looping: bool,
    /// A code was issued; completion cannot be replayed.
    pub(crate) code_issued: bool,
}

/// An issued authorization code (single use).
pub(crate) struct CodeGrant {
    pub(crate) order_id: String,
    pub(crate) request: AuthorizeRequest,
    /// `sub`, `name`, ..., `signicat.national_id`.
    pub(crate) identity: Map<String, Value>,
    pub(crate) expires: Instant,
    /// Consent Signature: the SDO, built when the code is issued (the moment of signing).
    pub(crate) sdo: Option<Arc<Vec<u8>>>,
}

/// An issued access token.
pub(crate) struct AccessGrant {
    pub(crate) order_id: String,
    pub(crate) identity: Map<String, Value>,
    pub(crate) expires: Instant,
    pub(crate) sdo: Option<Arc<Vec<u8>>>,
}

impl Store {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-written entry that matters here.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A random URL-safe token (codes, access tokens, cookies): 256 bits, hex.
pub(crate) fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}
