//! Step 5 of a Consent Signature: the signed data object (SDO), downloaded at once after the token
//! exchange (the access token is short-lived and the SDO cannot be fetched later).

use super::http::{success_body_capped, FlowHttp};
use crate::secrets::SecretString;
use crate::{Error, Result};

pub(crate) async fn download(
    http: &FlowHttp,
    issuer: &str,
    access_token: &SecretString,
) -> Result<Vec<u8>> {
    let url = url::Url::parse(&format!("{issuer}/signature"))
        .map_err(|e| Error::invalid_config("issuer", e.to_string()))?;
    let resp = http
        .send(
            http.get(url)
                .bearer_auth(access_token.expose())
                .header("Accept", "application/xml"),
        )
        .await?;
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let body = success_body_capped(
        resp,
        "signature download",
        crate::http_body::MAX_EVIDENCE_BYTES,
    )
    .await?;
    if !content_type.contains("xml") && !content_type.contains("ltv-sdo") {
        return Err(Error::Protocol(format!(
            "the signature came as {content_type:?}, not XML"
        )));
    }
    if body.is_empty() {
        return Err(Error::Protocol("the signature download is empty".into()));
    }
    Ok(body.to_vec())
}
