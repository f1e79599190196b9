//! Reading an HTTP answer with a ceiling (issue 23): a server gone wrong, or someone in the
//! middle, must not be able to fill the desk's memory. A declared `Content-Length` over the limit
//! is refused before any byte is read; otherwise reading stops at the first chunk past it.

/// What every JSON answer may weigh: Signicat's largest (a session with its subject) is a few KiB.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;

/// What signed evidence may weigh (an LTV-SDO with its CRLs and OCSP answers, a PAdES with its
/// validation data): far more than JSON, and the token to fetch it again is short-lived, so a cap
/// too tight loses a signature (review N-16). Still a ceiling: 16 MiB.
pub const MAX_EVIDENCE_BYTES: usize = 16 * 1024 * 1024;

/// The cap for a signed result over documents of at most `max_document_bytes`: the evidence cap,
/// or four times the document when that is more (a PAdES carries the PDF and its validation data).
pub fn evidence_cap(max_document_bytes: usize) -> usize {
    MAX_EVIDENCE_BYTES.max(max_document_bytes.saturating_mul(4))
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// Larger than the limit; what came in so far is dropped.
    TooLarge(usize),
    Transport(reqwest::Error),
}

impl BodyError {
    /// The engine's error: a typed protocol failure for the size, a network one otherwise.
    pub fn into_error(self, what: &str) -> crate::Error {
        match self {
            BodyError::TooLarge(limit) => crate::Error::Protocol(format!(
                "{what}: the answer is larger than {limit} bytes and was not read"
            )),
            // Without the URL: it may carry an identifier.
            BodyError::Transport(e) => {
                crate::Error::Network(format!("{what}: {}", e.without_url()))
            }
        }
    }
}

/// The whole body, at most `limit` bytes.
pub async fn read_capped(mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod cap_tests {
    const _: () = assert!(super::MAX_EVIDENCE_BYTES > super::MAX_JSON_BYTES);

    #[test]
    fn evidence_may_outweigh_json_and_the_document_it_signs() {
        assert_eq!(super::evidence_cap(1024), super::MAX_EVIDENCE_BYTES);
        assert_eq!(super::evidence_cap(10 << 20), 40 << 20);
        assert_eq!(super::evidence_cap(usize::MAX), usize::MAX);
    }
}
