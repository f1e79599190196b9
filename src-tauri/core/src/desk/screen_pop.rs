//! Screen-pop: the phone system opens `id-desk://identify?method=nbid&nin=…&call=inbound` when an
//! agent picks up, and the Identify form is filled in with the caller's number. Nothing is ever
//! sent from a link: a person presses Send. Every field is checked as typed input is, and what is
//! wrong is named, so the agent sees it in the form.

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScreenPop {
    /// The Identify method id to select.
    pub method: Method,
    pub nin: Option<String>,
    /// `user` (the customer called us) or `rp` (we called them); `None` when the link did not say.
    pub call_initiator: Option<String>,
    /// Field problems, as `validate_input` reports them (the form marks them).
    pub problems: Vec<FieldProblem>,
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
            other => {
                return Err(Error::invalid_input(
                    "link",
                    format!("unknown parameter '{other}' (known: method, nin, call)"),
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
    let method = match method.as_deref() {
        Some("nbid") => Method::NbidSafeConversation,
        Some("sbid-phone") => Method::SbidPhone,
        Some(other) => {
            return Err(Error::invalid_input(
                "method",
                format!("'{other}' cannot be opened from a link (nbid or sbid-phone)"),
            ))
        }
        None => return Err(Error::invalid_input("method", "is required")),
    };
    let mut problems = Vec::new();
    let call_initiator = match call.as_deref() {
        None => None,
        Some("inbound") => Some("user".to_string()),
        Some("outbound") => Some("rp".to_string()),
        Some(_) => {
            problems.push(FieldProblem {
                field: "call_initiator".into(),
                message: "the link's call must be inbound or outbound".into(),
            });
            None
        }
    };
    let nin = nin.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    // The same checks as typed input: parse the form as it will be sent, and keep the field
    // problems (a missing call direction is the agent's to choose, not a problem of the link).
    let raw = RawFlowInput {
        nin: nin.clone(),
        call_initiator: call_initiator.clone(),
        ..RawFlowInput::new(method)
    };
    match FlowRequest::parse(&raw, settings) {
        Err(e) if e.field().is_some_and(|f| f == "call_initiator") && call_initiator.is_none() => {}
        Err(e) => problems.push(FieldProblem {
            field: e.field().unwrap_or("link").to_string(),
            message: e.to_string(),
        }),
        Ok(_) => {}
    }
    Ok(ScreenPop {
        method,
        nin,
        call_initiator,
        problems,
    })
}

/// A screen-pop link found among a process's arguments (the OS starts the desk with the link as
/// an argument; a running desk receives the second start's arguments).
pub fn find_link(args: &[String]) -> Option<&str> {
    args.iter()
        .map(String::as_str)
        .find(|a| a.starts_with(&format!("{SCHEME}:")))
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
        assert_eq!(p.call_initiator.as_deref(), Some("user"));
        assert!(p.problems.is_empty(), "{:?}", p.problems);

        let p = parse(
            "id-desk://identify?method=sbid-phone&nin=19830406-2718",
            &settings(),
        )
        .unwrap();
        assert_eq!(p.method, Method::SbidPhone);
        assert_eq!(p.call_initiator, None, "the agent chooses");
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
        assert!(parse(
            &format!("id-desk://identify?method=nbid&nin={}", "1".repeat(3000)),
            &settings()
        )
        .is_err());
    }

    #[test]
    fn the_link_is_found_among_arguments() {
        let args = vec![
            "/usr/bin/id-desk".to_string(),
            "id-desk://identify?method=nbid".to_string(),
        ];
        assert_eq!(find_link(&args), Some("id-desk://identify?method=nbid"));
        assert_eq!(find_link(&args[..1]), None);
    }
}
