//! Step 2: polling the BankID order until the customer is done (reference §2.2). Each new status
//! becomes one `progress` event with its staff-language message.

use super::authorize::PollTarget;
use super::http::FlowHttp;
use super::{provider_stop, FlowStop};
use crate::flow::{FlowContext, FlowEvent};
use crate::messages::BankIdCode;
use crate::Error;
use serde::Deserialize;
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// Transport hiccups tolerated in a row while polling (polls are safe to repeat).
const MAX_CONSECUTIVE_GLITCHES: u32 = 3;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PollAnswer {
    /// nbid
    status: Option<String>,
    complete_uri: Option<String>,
    /// sbid
    progress_status: Option<String>,
    complete_url: Option<String>,
    error: Option<String>,
    #[serde(rename = "error_description")]
    error_description: Option<String>,
}

fn with_order_ref(collect_url: &Url, order_ref: &str) -> Url {
    let mut u = collect_url.clone();
    u.query_pairs_mut().append_pair("orderRef", order_ref);
    u
}

enum PollStep {
    Pending(String),
    Done(Url),
}

async fn poll_once(http: &FlowHttp, url: &Url) -> Result<PollStep, FlowStop> {
    let resp = http
        .send(http.get(url.clone()).header("Accept", "application/json"))
        .await?;
    let status = resp.status();
    if status.is_server_error() {
        return Err(Error::Network(format!("status check answered HTTP {status}")).into());
    }
    let body = crate::http_body::read_capped(resp, crate::http_body::MAX_JSON_BYTES)
        .await
        .map_err(|e| e.into_error("status check"))?;
    let answer: PollAnswer = serde_json::from_slice(&body).map_err(|_| {
        Error::Protocol(format!(
            "status check answered HTTP {} without readable JSON",
            status.as_u16()
        ))
    })?;
    if let Some(error) = answer.error.as_deref() {
        return Err(provider_stop(error, answer.error_description.as_deref()));
    }
    if !status.is_success() {
        return Err(Error::Api {
            status: status.as_u16(),
            code: format!("http_{}", status.as_u16()),
            message: "the status check was refused".into(),
        }
        .into());
    }
    if let Some(done) = answer.complete_uri.or(answer.complete_url) {
        let u = super::http::join_same_origin(url, &done, "completion URL")?;
        return Ok(PollStep::Done(u));
    }
    let raw = answer
        .status
        .or(answer.progress_status)
        .ok_or_else(|| Error::Protocol("status answer has neither status nor error".into()))?;
    let finished = ["finished", "complete"]
        .iter()
        .any(|s| raw.eq_ignore_ascii_case(s));
    if finished {
        return Err(Error::Protocol(format!("status {raw} came without a completion URL")).into());
    }
    Ok(PollStep::Pending(raw))
}

/// Polls until a completion URL arrives. Emits `progress` on every status change.
pub(crate) async fn until_complete(
    http: &FlowHttp,
    target: &PollTarget,
    max_wait: Duration,
    ctx: &FlowContext,
) -> Result<Url, FlowStop> {
    // The engine's poll interval (default 2 s, never below 1 s).
    let interval = ctx.poll.interval();
    let url = match target {
        PollTarget::Nbid { status_uri } => status_uri.clone(),
        PollTarget::Sbid {
            collect_url,
            order_ref,
            ..
        } => with_order_ref(collect_url, order_ref),
    };
    let deadline = Instant::now() + max_wait;
    let mut last: Option<String> = None;
    let mut glitches = 0;
    loop {
        match poll_once(http, &url).await {
            Ok(PollStep::Done(u)) => return Ok(u),
            Ok(PollStep::Pending(raw)) => {
                glitches = 0;
                // Case-insensitive: nbid says `pending`, sbid `OUTSTANDING_TRANSACTION`, and
                // neither promises the case.
                let key = raw.to_ascii_uppercase();
                if last.as_deref() != Some(key.as_str()) {
                    let message = BankIdCode::parse(&raw).message(ctx.lang, false);
                    ctx.emit(FlowEvent::Progress {
                        status: raw,
                        message,
                    });
                    last = Some(key);
                }
            }
            Err(FlowStop::Failed(Error::Network(e))) if glitches < MAX_CONSECUTIVE_GLITCHES => {
                glitches += 1;
                tracing::warn!(flow_id = %ctx.flow_id, error = %e, "status check failed; retrying");
            }
            Err(stop) => return Err(stop),
        }
        if Instant::now() + interval > deadline {
            return Err(FlowStop::Expired);
        }
        tokio::time::sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ref_is_appended_keeping_the_query() {
        let u = Url::parse("https://x.test/oidc/collect?lang=sv&a=b").unwrap();
        assert_eq!(
            with_order_ref(&u, "o r&1").as_str(),
            "https://x.test/oidc/collect?lang=sv&a=b&orderRef=o+r%261"
        );
    }
}
