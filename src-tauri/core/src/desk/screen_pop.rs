//! Screen-pop: the phone system opens `id-desk://identify?method=nbid&nin=…&call=inbound` when an
//! agent picks up, and the Identify form is filled in with the caller's number. Nothing is ever
//! sent from a link: a person presses Send. Every field is checked as typed input is, and what is
//! wrong is named, so the agent sees it in the form.
//!
//! A link is a hint, not an attestation (review N-5): anyone can open one (a web page, an e-mail,
//! any local process), so it never ticks "the customer called us" nor picks who called whom. The
//! phone system's claim is shown beside the unticked control ([`CallClaim`]), and the member of
//! staff confirms it. Nothing the link says is echoed back into the staff UI except the number,
//! which goes into the field where staff check it anyway.

use serde::Serialize;
use url::Url;

use crate::flow::Method;
use crate::runner::{FlowRequest, FlowSettings, RawFlowInput};
use crate::{Error, Result};

/// The URL scheme the desk registers.
pub const SCHEME: &str = "id-desk";
/// Longer links are refused unread (a screen-pop carries three short fields).
const MAX_URL_CHARS: usize = 2048;

/// A checked screen-pop: the Identify form's method and fields, and what is wrong with them.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct ScreenPop {
    /// The Identify method id to select.
    pub method: Method,
    pub nin: Option<String>,
    /// Who the phone system says made the call; `None` when the link did not say. Shown as a hint
    /// beside the control staff tick themselves, never filled in.
    pub call_claim: Option<CallClaim>,
    /// Field problems, as `validate_input` reports them (the form marks them).
    pub problems: Vec<FieldProblem>,
    /// Earlier links that arrived while this one's predecessor was still waiting for the window,
    /// so were never shown (staff are told, not left to wonder where a caller went).
    pub replaced: u32,
}

/// `Debug` masks the number: a pop is handled next to logging code.
impl std::fmt::Debug for ScreenPop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScreenPop")
            .field("method", &self.method)
            .field("nin", &self.nin.as_deref().map(crate::identity::mask_nin))
            .field("call_claim", &self.call_claim)
            .field("problems", &self.problems)
            .field("replaced", &self.replaced)
            .finish()
    }
}

/// What the phone system claims about the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallClaim {
    /// The customer called us.
    Inbound,
    /// We called the customer.
    Outbound,
}

impl CallClaim {
    /// The `call_initiator` value the claim would stand for, were staff to confirm it.
    fn call_initiator(self) -> &'static str {
        match self {
            CallClaim::Inbound => "user",
            CallClaim::Outbound => "rp",
        }
    }
}

/// The link waiting for the window to take it. One slot: a newer link replaces the one not yet
/// shown, and the count of replaced ones travels with it.
#[derive(Debug, Default)]
pub struct Pending {
    slot: std::sync::Mutex<Option<(String, u32)>>,
}

impl Pending {
    pub fn put(&self, link: &str) {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        let replaced = slot.as_ref().map_or(0, |(_, n)| n.saturating_add(1));
        *slot = Some((link.to_string(), replaced));
    }

    /// The waiting link and how many earlier ones it replaced.
    pub fn take(&self) -> Option<(String, u32)> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// Reads a screen-pop link. `Err` when it is not one the desk understands at all (wrong scheme or
/// action, unknown method); a bad field is a [`FieldProblem`] instead, so the form can show it.
pub fn parse(link: &str, settings: &FlowSettings) -> Result<ScreenPop> {
    let link = link.trim();
    if link.chars().count() > MAX_URL_CHARS {
        return Err(Error::invalid_input(
            "link",
            "is too long for a screen-pop link",
        ));
    }
    let url = Url::parse(link).map_err(|_| Error::invalid_input("link", "is not a URL"))?;
    if url.scheme() != SCHEME {
        return Err(Error::invalid_input(
            "link",
            format!("must start with {SCHEME}://"),
        ));
    }
    if url.host_str() != Some("identify") {
        return Err(Error::invalid_input(
            "link",
            format!("{SCHEME}:// links can only open Identify ({SCHEME}://identify?…)"),
        ));
    }
    let (mut method, mut nin, mut call) = (None, None, None);
    for (k, v) in url.query_pairs() {
        let slot = match k.as_ref() {
            "method" => &mut method,
            "nin" => &mut nin,
            "call" => &mut call,
            // The name is not echoed: the staff UI shows no text a link's author chose.
            _ => {
                return Err(Error::invalid_input(
                    "link",
                    "has a parameter the desk does not know (known: method, nin, call)",
                ))
            }
        };
        if slot.replace(v.into_owned()).is_some() {
            return Err(Error::invalid_input(
                "link",
                format!("'{k}' is given twice"),
            ));
        }
    }
    let method =
        match method.as_deref() {
            Some("nbid") => Method::NbidSafeConversation,
            Some("sbid-phone") => Method::SbidPhone,
            Some(_) => return Err(Error::invalid_input(
                "method",
                "the link asks for a method that cannot be opened from a link (nbid or sbid-phone)",
            )),
            None => return Err(Error::invalid_input("method", "is required")),
        };
    let mut problems = Vec::new();
    let call_claim = match call.as_deref() {
        None => None,
        Some("inbound") => Some(CallClaim::Inbound),
        Some("outbound") => Some(CallClaim::Outbound),
        Some(_) => {
            problems.push(FieldProblem {
                field: "call_initiator".into(),
                message: "the link's call must be inbound or outbound".into(),
            });
            None
        }
    };
    let nin = nin.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    // The same checks as typed input: parse the form as it would be sent were staff to confirm
    // the claim, and keep the field problems (so an outbound Safe Conversation is named at once).
    // A missing call direction is the agent's to choose, not a problem of the link.
    let raw = RawFlowInput {
        nin: nin.clone(),
        call_initiator: call_claim.map(|c| c.call_initiator().to_string()),
        ..RawFlowInput::new(method)
    };
    match FlowRequest::parse(&raw, settings) {
        Err(e) if e.field().is_some_and(|f| f == "call_initiator") && call_claim.is_none() => {}
        Err(e) => problems.push(FieldProblem {
            field: e.field().unwrap_or("link").to_string(),
            message: e.to_string(),
        }),
        Ok(_) => {}
    }
    Ok(ScreenPop {
        method,
        nin,
        call_claim,
        problems,
        replaced: 0,
    })
}

/// A screen-pop link found among a process's arguments (the OS starts the desk with the link as
/// an argument; a running desk receives the second start's arguments).
pub fn find_link(args: &[String]) -> Option<&str> {
    args.iter().map(String::as_str).find(|a| is_link(a))
}

fn is_link(arg: &str) -> bool {
    arg.starts_with(&format!("{SCHEME}:"))
}

/// Set on a desk started to take over a link from the process the OS started with it (review
/// N-4): the link arrives on stdin, so the long-lived desk's command line, which any local user
/// can read (`/proc/<pid>/cmdline`, Windows process auditing), never holds a customer's number.
pub const HANDOVER_ENV: &str = "IDDESK_SCREEN_POP_HANDOVER";

/// The arguments to start the long-lived desk with: the process's own, without the link.
pub fn args_without_link(args: &[String]) -> Vec<String> {
    args.iter().filter(|a| !is_link(a)).cloned().collect()
}

/// Reads a handed-over link from `input` (the starting process writes it and closes the pipe).
/// Bounded like a link itself; anything that is not a link is refused here, before the window.
pub fn read_handover(input: impl std::io::Read) -> Result<String> {
    use std::io::Read;
    let mut text = String::new();
    input
        .take(MAX_URL_CHARS as u64 * 4 + 1)
        .read_to_string(&mut text)
        .map_err(|e| Error::invalid_input("link", format!("cannot be read: {e}")))?;
    let link = text.trim();
    if !is_link(link) {
        return Err(Error::invalid_input(
            "link",
            "the handed-over input is not a screen-pop link",
        ));
    }
    Ok(link.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> FlowSettings {
        FlowSettings {
            allow_test_identities: true,
            ..FlowSettings::default()
        }
    }

    #[test]
    fn a_good_link_fills_the_form_and_a_bad_field_is_named() {
        let p = parse(
            "id-desk://identify?method=nbid&nin=29124815345&call=inbound",
            &settings(),
        )
        .unwrap();
        assert_eq!(p.method, Method::NbidSafeConversation);
        assert_eq!(p.nin.as_deref(), Some("29124815345"));
        assert_eq!(p.call_claim, Some(CallClaim::Inbound));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        // A claim, not a form value: what the window receives has no call_initiator to fill in.
        let sent = serde_json::to_value(&p).unwrap();
        assert_eq!(sent["call_claim"], "inbound");
        assert!(sent.get("call_initiator").is_none(), "{sent}");
        assert!(!format!("{p:?}").contains("29124815345"));

        let p = parse(
            "id-desk://identify?method=sbid-phone&nin=19830406-2718",
            &settings(),
        )
        .unwrap();
        assert_eq!(p.method, Method::SbidPhone);
        assert_eq!(p.call_claim, None, "the agent chooses");
        assert_eq!(p.problems.len(), 1);
        assert_eq!(p.problems[0].field, "nin");

        let p = parse(
            "id-desk://identify?method=nbid&nin=29124815345&call=sideways",
            &settings(),
        )
        .unwrap();
        assert_eq!(p.problems[0].field, "call_initiator");
        // Outbound Safe Conversation breaks BankID Norge's rules: named, not sent.
        let p = parse(
            "id-desk://identify?method=nbid&nin=29124815345&call=outbound",
            &settings(),
        )
        .unwrap();
        assert_eq!(p.problems[0].field, "call_initiator");
    }

    #[test]
    fn links_the_desk_does_not_understand_are_refused() {
        for bad in [
            "https://identify?method=nbid",
            "id-desk://sign?method=nbid",
            "id-desk://identify?method=nbid_mobile&nin=1",
            "id-desk://identify?nin=29124815345",
            "id-desk://identify?method=nbid&method=sbid-phone",
            "id-desk://identify?method=nbid&send=1",
            "not a url",
        ] {
            assert!(parse(bad, &settings()).is_err(), "{bad}");
        }
        // What a link's author wrote is not echoed into the staff UI.
        for (bad, planted) in [
            (
                "id-desk://identify?method=nbid&CALL_BACK_ON_4612345=1",
                "CALL_BACK",
            ),
            ("id-desk://identify?method=Ring+oss+p%C3%A5+046", "Ring oss"),
        ] {
            let message = parse(bad, &settings()).unwrap_err().to_string();
            assert!(!message.contains(planted), "{message}");
        }
        assert!(parse(
            &format!("id-desk://identify?method=nbid&nin={}", "1".repeat(3000)),
            &settings()
        )
        .is_err());
    }

    #[test]
    fn a_newer_link_replaces_a_waiting_one_and_says_so() {
        let pending = Pending::default();
        assert_eq!(pending.take(), None);
        pending.put("id-desk://identify?method=nbid&nin=1");
        pending.put("id-desk://identify?method=nbid&nin=2");
        pending.put("id-desk://identify?method=nbid&nin=3");
        assert_eq!(
            pending.take(),
            Some(("id-desk://identify?method=nbid&nin=3".to_string(), 2))
        );
        assert_eq!(pending.take(), None);
        pending.put("id-desk://identify?method=nbid&nin=4");
        assert_eq!(pending.take().map(|(_, n)| n), Some(0));
    }

    #[test]
    fn the_link_is_found_among_arguments() {
        let args = vec![
            "/usr/bin/id-desk".to_string(),
            "id-desk://identify?method=nbid".to_string(),
        ];
        assert_eq!(find_link(&args), Some("id-desk://identify?method=nbid"));
        assert_eq!(find_link(&args[..1]), None);
        assert_eq!(
            args_without_link(&args),
            vec!["/usr/bin/id-desk".to_string()]
        );
    }

    #[test]
    fn a_handed_over_link_is_read_whole_and_anything_else_refused() {
        let link = "id-desk://identify?method=nbid&nin=29124815345&call=inbound";
        assert_eq!(read_handover(format!("{link}\n").as_bytes()).unwrap(), link);
        assert!(read_handover(&b""[..]).is_err());
        assert!(read_handover(&b"https://example.com"[..]).is_err());
        assert!(read_handover(&[0xff, 0xfe][..]).is_err(), "not UTF-8");
        let long = format!("id-desk://identify?nin={}", "1".repeat(20_000));
        // Cut at the bound, then refused as a link by `parse`; never an unbounded read.
        let read = read_handover(long.as_bytes()).unwrap();
        assert!(read.len() <= MAX_URL_CHARS * 4 + 1);
        assert!(parse(&read, &settings()).is_err());
    }
}
