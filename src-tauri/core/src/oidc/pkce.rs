//! Per-flow secrets of the authorization request: `state` (CSRF), `nonce` (ID token replay) and the
//! PKCE S256 verifier/challenge. Fresh for every flow; never logged.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// 256 random bits, base64url without padding (43 characters).
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) struct FlowSecrets {
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
}

impl FlowSecrets {
    pub fn fresh() -> Self {
        FlowSecrets {
            state: random_token(),
            nonce: random_token(),
            code_verifier: random_token(),
        }
    }

    /// `BASE64URL(SHA256(verifier))`, RFC 7636 §4.2.
    pub fn code_challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.code_verifier.as_bytes()))
    }
}

impl std::fmt::Debug for FlowSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FlowSecrets(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let s = FlowSecrets {
            state: String::new(),
            nonce: String::new(),
            code_verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
        };
        assert_eq!(
            s.code_challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn every_flow_gets_new_values() {
        let a = FlowSecrets::fresh();
        let b = FlowSecrets::fresh();
        assert_ne!(a.state, b.state);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.code_verifier, b.code_verifier);
        assert_eq!(a.state.len(), 43);
        assert_eq!(a.code_verifier.len(), 43);
    }
}
