//! The issuer's RSA keys: RS256 signing keys for ID tokens and one encryption key for Consent
//! Signature request objects.
//!
//! Generating a 2048-bit RSA key costs 50–300 ms, so the generated set is made once per process,
//! the four keys in parallel, and shared by every simulator (tests start many). It is made on first
//! use, or earlier in the background when the owner asks (`Simulator::warm_up_keys`); only the
//! endpoints that sign or decrypt wait for it (`KeyCell`), never the REST family. The app asks once
//! its window is ready: generating during start-up kept both cores busy and delayed the window's
//! page by ~250 ms. Tests that need keys known to an independent JOSE implementation inject PEM
//! keys instead.
//!
//! Signing keys come in three roles so the ID-token faults can be exercised:
//! * `current`: published in the JWKS, signs every ID token by default;
//! * `next`: published only after a rotation; the "rotated key" fault signs with it and publishes it
//!   at the same moment, so a client that refetches the JWKS once on an unknown `kid` verifies;
//! * `rogue`: never published; the "unknown kid" fault signs with it, so even a refetch fails.

use std::fmt;
use std::sync::{Arc, OnceLock};

use josekit::jwe::{JweDecrypter, RSA_OAEP, RSA_OAEP_256};
use josekit::jwk::alg::rsa::RsaKeyPair;
use josekit::jwk::{Jwk, KeyPair};
use josekit::jws::{alg::rsassa::RsassaJwsSigner, RS256};

/// The key-management algorithm of the JWKS `enc` key (the request object's `alg`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EncAlg {
    /// Signicat's published choice.
    #[default]
    RsaOaep,
    RsaOaep256,
}

impl EncAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            EncAlg::RsaOaep => "RSA-OAEP",
            EncAlg::RsaOaep256 => "RSA-OAEP-256",
        }
    }
}

/// Why a key set could not be built.
#[derive(Debug, thiserror::Error)]
#[error("invalid OIDC key ({role}): {reason}")]
pub struct KeyError {
    role: &'static str,
    reason: String,
}

impl KeyError {
    pub(crate) fn signing(err: impl fmt::Display) -> Self {
        Self::new("sig", err)
    }

    fn new(role: &'static str, err: impl fmt::Display) -> Self {
        KeyError {
            role,
            reason: err.to_string(),
        }
    }
}

/// One RSA private key with its `kid`, kept as PEM so signers/decrypters can be rebuilt cheaply.
#[derive(Clone)]
struct RsaKey {
    kid: String,
    pem: Arc<Vec<u8>>,
    public_jwk: Jwk,
}

impl RsaKey {
    fn from_pair(role: &'static str, kid: String, pair: &RsaKeyPair) -> Result<Self, KeyError> {
        Self::from_pem(role, kid, &pair.to_pem_private_key())
    }

    fn from_pem(role: &'static str, kid: String, pem: &[u8]) -> Result<Self, KeyError> {
        let pair = RsaKeyPair::from_pem(pem).map_err(|e| KeyError::new(role, e))?;
        let mut public_jwk = pair.to_jwk_public_key();
        public_jwk.set_key_id(kid.clone());
        Ok(RsaKey {
            kid,
            pem: Arc::new(pem.to_vec()),
            public_jwk,
        })
    }

    fn generate(role: &'static str, kid: String) -> Result<Self, KeyError> {
        let pair = RsaKeyPair::generate(2048).map_err(|e| KeyError::new(role, e))?;
        Self::from_pair(role, kid, &pair)
    }
}

/// The issuer's key set (cheap to clone). `Debug` shows kids only, never key material.
#[derive(Clone)]
pub struct OidcKeys {
    current: RsaKey,
    next: RsaKey,
    rogue: RsaKey,
    enc: RsaKey,
    enc_alg: EncAlg,
}

impl fmt::Debug for OidcKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcKeys")
            .field("sig_kid", &self.current.kid)
            .field("enc_kid", &self.enc.kid)
            .field("enc_alg", &self.enc_alg)
            .finish_non_exhaustive()
    }
}

static GENERATED: OnceLock<Result<OidcKeys, String>> = OnceLock::new();

impl OidcKeys {
    /// The process-wide generated key set (made on first use, then shared), `enc` alg `RSA-OAEP`.
    pub fn generated() -> Result<OidcKeys, KeyError> {
        GENERATED
            .get_or_init(|| Self::generate_now().map_err(|e| e.to_string()))
            .clone()
            .map_err(|reason| KeyError {
                role: "generated",
                reason,
            })
    }

    fn generate_now() -> Result<OidcKeys, KeyError> {
        let tag: u32 = rand::random();
        let roles = [
            ("sig", format!("sim-sig-{tag:08x}")),
            ("sig-next", format!("sim-sig-next-{tag:08x}")),
            ("sig-rogue", format!("sim-sig-rogue-{tag:08x}")),
            ("enc", format!("sim-enc-{tag:08x}")),
        ];
        // Prime search dominates and is independent per key: one thread each.
        let [current, next, rogue, enc] = std::thread::scope(|scope| {
            roles
                .map(|(role, kid)| scope.spawn(move || RsaKey::generate(role, kid)))
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|_| Err(KeyError::new("generated", "key thread panicked")))
                })
        });
        Ok(OidcKeys {
            current: current?,
            next: next?,
            rogue: rogue?,
            enc: enc?,
            enc_alg: EncAlg::RsaOaep,
        })
    }

    /// Injected keys (PEM, PKCS#8 or PKCS#1), e.g. the committed JOSE test fixtures. The rotation
    /// and rogue signing keys come from the generated set.
    pub fn from_pem(
        sig_kid: &str,
        sig_pem: &[u8],
        enc_kid: &str,
        enc_pem: &[u8],
        enc_alg: EncAlg,
    ) -> Result<OidcKeys, KeyError> {
        let generated = Self::generated()?;
        Ok(OidcKeys {
            current: RsaKey::from_pem("sig", sig_kid.to_owned(), sig_pem)?,
            next: generated.next,
            rogue: generated.rogue,
            enc: RsaKey::from_pem("enc", enc_kid.to_owned(), enc_pem)?,
            enc_alg,
        })
    }

    /// The same keys with another `enc` key-management algorithm.
    pub fn with_enc_alg(mut self, enc_alg: EncAlg) -> OidcKeys {
        self.enc_alg = enc_alg;
        self
    }

    pub fn enc_alg(&self) -> EncAlg {
        self.enc_alg
    }

    pub fn enc_kid(&self) -> &str {
        &self.enc.kid
    }

    pub fn sig_kid(&self) -> &str {
        &self.current.kid
    }

    /// The public JWK of the `enc` key (what a client encrypts request objects to).
    pub fn enc_public_jwk(&self) -> Jwk {
        let mut jwk = self.enc.public_jwk.clone();
        jwk.set_key_use("enc");
        jwk.set_algorithm(self.enc_alg.as_str());
        jwk
    }

    pub(crate) fn sig_public_jwk(&self, which: SigKey) -> Jwk {
        let mut jwk = self.sig_key(which).public_jwk.clone();
        jwk.set_key_use("sig");
        jwk.set_algorithm("RS256");
        jwk
    }

    pub(crate) fn sig_kid_of(&self, which: SigKey) -> &str {
        &self.sig_key(which).kid
    }

    fn sig_key(&self, which: SigKey) -> &RsaKey {
        match which {
            SigKey::Current => &self.current,
            SigKey::Next => &self.next,
            SigKey::Rogue => &self.rogue,
        }
    }

    pub(crate) fn signer(&self, which: SigKey) -> Result<RsassaJwsSigner, KeyError> {
        let key = self.sig_key(which);
        let mut signer = RS256
            .signer_from_pem(key.pem.as_slice())
            .map_err(|e| KeyError::new("sig", e))?;
        signer.set_key_id(key.kid.clone());
        Ok(signer)
    }

    pub(crate) fn decrypter(&self) -> Result<Box<dyn JweDecrypter>, KeyError> {
        let pem = self.enc.pem.as_slice();
        let decrypter: Box<dyn JweDecrypter> = match self.enc_alg {
            EncAlg::RsaOaep => Box::new(
                RSA_OAEP
                    .decrypter_from_pem(pem)
                    .map_err(|e| KeyError::new("enc", e))?,
            ),
            EncAlg::RsaOaep256 => Box::new(
                RSA_OAEP_256
                    .decrypter_from_pem(pem)
                    .map_err(|e| KeyError::new("enc", e))?,
            ),
        };
        Ok(decrypter)
    }
}

/// Which signing key signs an ID token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SigKey {
    Current,
    Next,
    Rogue,
}

/// A simulator's keys, ready now (injected) or generated on demand.
#[derive(Clone)]
pub(crate) struct KeyCell {
    cell: Arc<tokio::sync::OnceCell<Result<OidcKeys, String>>>,
    /// The simulator's runtime, so `warm_up` works from any thread (e.g. a window's main thread).
    runtime: Option<tokio::runtime::Handle>,
}

impl KeyCell {
    pub(crate) fn ready(keys: OidcKeys) -> Self {
        KeyCell {
            cell: Arc::new(tokio::sync::OnceCell::new_with(Some(Ok(keys)))),
            runtime: None,
        }
    }

    /// Generated by the first `get`, or by `warm_up`.
    pub(crate) fn lazy() -> Self {
        KeyCell {
            cell: Arc::new(tokio::sync::OnceCell::new()),
            runtime: tokio::runtime::Handle::try_current().ok(),
        }
    }

    /// Starts generating in the background. Harmless when the keys are ready or being made.
    pub(crate) fn warm_up(&self) {
        if let (false, Some(runtime)) = (self.cell.initialized(), &self.runtime) {
            let cell = self.clone();
            runtime.spawn(async move {
                let _ = cell.get().await;
            });
        }
    }

    pub(crate) async fn get(&self) -> Result<OidcKeys, KeyError> {
        self.cell
            .get_or_init(|| async {
                match tokio::task::spawn_blocking(OidcKeys::generated).await {
                    Ok(keys) => keys.map_err(|e| e.to_string()),
                    Err(e) => Err(format!("key generation stopped: {e}")),
                }
            })
            .await
            .clone()
            .map_err(|reason| KeyError {
                role: "generated",
                reason,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lazy_cell_warmed_up_and_read_at_once_yields_the_one_process_key_set() {
        let cell = KeyCell::lazy();
        cell.warm_up();
        let other = cell.clone();
        let (a, b) = tokio::join!(cell.get(), other.get());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.sig_kid(), b.sig_kid());
        assert_eq!(a.sig_kid(), OidcKeys::generated().unwrap().sig_kid());
        let kids = [
            a.sig_kid_of(SigKey::Current),
            a.sig_kid_of(SigKey::Next),
            a.sig_kid_of(SigKey::Rogue),
            a.enc_kid(),
        ];
        let distinct: std::collections::HashSet<_> = kids.iter().collect();
        assert_eq!(
            distinct.len(),
            4,
            "four keys made in parallel, each with its own kid"
        );
    }
}
