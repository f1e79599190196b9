//! Validation of the create-session body, strict like Signicat: every problem is reported as an
//! `invalidParams` entry; unknown fields are ignored.

use std::net::IpAddr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{Map, Value};

use super::problem::InvalidParam;
use crate::idcard::{self, Payload};
use crate::identity;
use crate::phone::{CallInitiator, Identity, Method, Requested};

/// Counted on the decoded intention text: the customer's app shows the text, not its base64.
const MAX_INTENTION_BYTES: usize = 4000;
const INTENTION_FORMAT: &str = "simpleMarkdownV1";

/// What a valid body asks for.
#[derive(Clone, Debug)]
pub(crate) struct CreateRequest {
    pub(crate) provider: &'static str,
    pub(crate) method: Method,
    pub(crate) identity: Identity,
    pub(crate) requested_attributes: Vec<String>,
    pub(crate) requested_lifetime: Option<u64>,
    pub(crate) language: Option<String>,
    pub(crate) external_reference: Option<String>,
    pub(crate) additional_parameters: Map<String, Value>,
    /// The Swedish BankID options, decoded.
    pub(crate) requested: Requested,
    /// `sbid-idcard`: the scanned payload as the simulator reads it.
    pub(crate) idcard: Option<Payload>,
}

/// What a headless provider's parameters ask for.
struct Target {
    method: Method,
    identity: Identity,
    requested: Requested,
    idcard: Option<Payload>,
}

/// The fields every flow shares.
#[derive(Clone, Debug)]
pub(crate) struct Common {
    pub(crate) requested_attributes: Vec<String>,
    pub(crate) requested_lifetime: Option<u64>,
    pub(crate) language: Option<String>,
    pub(crate) external_reference: Option<String>,
}

/// A valid create body: a headless session (the phone plays it) or a redirect session (the
/// redirect page plays it).
#[derive(Clone, Debug)]
pub(crate) enum Body {
    Headless(CreateRequest),
    Redirect(super::redirect::RedirectRequest),
}

const LANGUAGES: &[&str] = &["en", "nb", "nn", "no", "sv", "da", "fi"];

/// Signicat's lifetime rules: default 1200 s, values below 300 raised to 300.
pub(crate) fn effective_lifetime(requested: Option<u64>, over: Option<Duration>) -> Duration {
    over.unwrap_or_else(|| Duration::from_secs(requested.unwrap_or(1200).max(300)))
}

pub(crate) fn parse(body: &[u8]) -> Result<Body, Vec<InvalidParam>> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| vec![InvalidParam::new("body", format!("not valid JSON: {e}"))])?;
    let Value::Object(obj) = value else {
        return Err(vec![InvalidParam::new("body", "must be a JSON object")]);
    };
    let mut bad = Vec::new();

    let redirect = match obj.get("flow") {
        Some(Value::String(f)) if f == "headless" => false,
        Some(Value::String(f)) if f == "redirect" => true,
        Some(Value::String(_)) => {
            bad.push(InvalidParam::new(
                "flow",
                "the simulator supports the headless and redirect flows only",
            ));
            false
        }
        Some(_) => {
            bad.push(InvalidParam::new("flow", "must be a string"));
            false
        }
        None => {
            bad.push(InvalidParam::new("flow", "is required"));
            false
        }
    };
    let common = common(&obj, &mut bad);
    if redirect {
        return super::redirect::parse(&obj, common, bad).map(Body::Redirect);
    }

    let provider = match obj.get("allowedProviders") {
        Some(Value::Array(a)) => match a.as_slice() {
            [Value::String(p)] if p == "nbid" => Some("nbid"),
            [Value::String(p)] if p == "sbid" => Some("sbid"),
            [Value::String(p)] if p == idcard::PROVIDER => Some(idcard::PROVIDER),
            [Value::String(p)] if super::redirect::PROVIDERS.contains(&p.as_str()) => {
                bad.push(InvalidParam::new(
                    "allowedProviders",
                    format!("'{p}' has no headless flow: use the redirect flow"),
                ));
                None
            }
            [Value::String(p)] => {
                bad.push(InvalidParam::new(
                    "allowedProviders",
                    format!("unknown provider '{p}'"),
                ));
                None
            }
            _ => {
                bad.push(InvalidParam::new(
                    "allowedProviders",
                    "headless flows need exactly one provider",
                ));
                None
            }
        },
        Some(_) => {
            bad.push(InvalidParam::new("allowedProviders", "must be an array"));
            None
        }
        None => {
            bad.push(InvalidParam::new("allowedProviders", "is required"));
            None
        }
    };

    let empty = Map::new();
    let additional = object(&obj, "additionalParameters", &mut bad).unwrap_or(&empty);
    for (k, v) in additional {
        if !v.is_string() {
            bad.push(InvalidParam::new(
                format!("additionalParameters.{k}"),
                "must be a string",
            ));
        }
    }
    let prefilled = object(&obj, "prefilledInput", &mut bad).unwrap_or(&empty);

    let param = |name: &str| additional.get(name).and_then(Value::as_str);
    let input = |name: &str| prefilled.get(name).and_then(Value::as_str);
    let target = match provider {
        Some("nbid") => nbid(param, input, &mut bad).map(|(method, identity)| Target {
            method,
            identity,
            requested: Requested::default(),
            idcard: None,
        }),
        Some(idcard::PROVIDER) => sbid_idcard(additional, &mut bad),
        Some(_) => sbid(additional, input, &mut bad),
        None => None,
    };

    match (bad.is_empty(), provider, target, common) {
        (true, Some(provider), Some(target), Some(common)) => Ok(Body::Headless(CreateRequest {
            provider,
            method: target.method,
            identity: target.identity,
            requested_attributes: common.requested_attributes,
            requested_lifetime: common.requested_lifetime,
            language: common.language,
            external_reference: common.external_reference,
            additional_parameters: additional.clone(),
            requested: target.requested,
            idcard: target.idcard,
        })),
        _ => Err(bad),
    }
}

/// `requestedAttributes`, `sessionLifetime`, `language` and `externalReference` (`None` when one
/// of them is bad; the reason is in `bad`).
fn common(obj: &Map<String, Value>, bad: &mut Vec<InvalidParam>) -> Option<Common> {
    let before = bad.len();
    let requested_attributes = match obj.get("requestedAttributes") {
        Some(Value::Array(a)) if !a.is_empty() => {
            let names: Option<Vec<String>> =
                a.iter().map(|v| v.as_str().map(str::to_owned)).collect();
            names.unwrap_or_else(|| {
                bad.push(InvalidParam::new("requestedAttributes", "must be strings"));
                Vec::new()
            })
        }
        Some(Value::Array(_)) => {
            bad.push(InvalidParam::new(
                "requestedAttributes",
                "must not be empty",
            ));
            Vec::new()
        }
        Some(_) => {
            bad.push(InvalidParam::new("requestedAttributes", "must be an array"));
            Vec::new()
        }
        None => {
            bad.push(InvalidParam::new("requestedAttributes", "is required"));
            Vec::new()
        }
    };

    let requested_lifetime = match obj.get("sessionLifetime") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 => Some(n),
            _ => {
                bad.push(InvalidParam::new(
                    "sessionLifetime",
                    "must be a positive integer (seconds)",
                ));
                None
            }
        },
    };
    let language = match obj.get("language") {
        None | Some(Value::Null) => None,
        Some(Value::String(l)) if LANGUAGES.contains(&l.as_str()) => Some(l.clone()),
        Some(_) => {
            bad.push(InvalidParam::new("language", "unsupported language"));
            None
        }
    };
    let external_reference = match obj.get("externalReference") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            bad.push(InvalidParam::new("externalReference", "must be a string"));
            None
        }
    };

    (bad.len() == before).then_some(Common {
        requested_attributes,
        requested_lifetime,
        language,
        external_reference,
    })
}

fn object<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
    bad: &mut Vec<InvalidParam>,
) -> Option<&'a Map<String, Value>> {
    match obj.get(name) {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => {
            bad.push(InvalidParam::new(name, "must be an object"));
            None
        }
    }
}

fn nbid<'a>(
    param: impl Fn(&str) -> Option<&'a str>,
    input: impl Fn(&str) -> Option<&'a str>,
    bad: &mut Vec<InvalidParam>,
) -> Option<(Method, Identity)> {
    match param("nbid_auth_type") {
        Some("PHONE") => match input("nin") {
            Some(nin) if identity::norwegian_birth_date(nin).is_some() => Some((
                Method::NbidSafeConversation,
                Identity::NorwegianNin(nin.to_owned()),
            )),
            Some(_) => {
                bad.push(InvalidParam::new(
                    "prefilledInput.nin",
                    "not a valid Norwegian national identity number",
                ));
                None
            }
            None => {
                bad.push(InvalidParam::new(
                    "prefilledInput.nin",
                    "is required when nbid_auth_type is PHONE",
                ));
                None
            }
        },
        Some(other) => {
            bad.push(InvalidParam::new(
                "additionalParameters.nbid_auth_type",
                format!("unsupported value '{other}'"),
            ));
            None
        }
        None => {
            let phone = match input("phoneNumber") {
                Some(p) => {
                    let n = identity::norwegian_mobile_e164(p);
                    if n.is_none() {
                        bad.push(InvalidParam::new(
                            "prefilledInput.phoneNumber",
                            "must be a Norwegian mobile number in E.164 form (+47XXXXXXXX)",
                        ));
                    }
                    n
                }
                None => {
                    bad.push(InvalidParam::new(
                        "prefilledInput.phoneNumber",
                        "is required for Norwegian BankID on mobile",
                    ));
                    None
                }
            };
            let dob = match input("dateOfBirth") {
                Some(d) => {
                    let date = identity::iso_date(d);
                    if date.is_none() {
                        bad.push(InvalidParam::new(
                            "prefilledInput.dateOfBirth",
                            "must be a date YYYY-MM-DD",
                        ));
                    }
                    date
                }
                None => {
                    bad.push(InvalidParam::new(
                        "prefilledInput.dateOfBirth",
                        "is required for Norwegian BankID on mobile",
                    ));
                    None
                }
            };
            Some((
                Method::NbidMobile,
                Identity::NorwegianPhone {
                    phone: phone?,
                    birth_date: dob?,
                },
            ))
        }
    }
}

fn sbid<'a>(
    additional: &'a Map<String, Value>,
    input: impl Fn(&str) -> Option<&'a str>,
    bad: &mut Vec<InvalidParam>,
) -> Option<Target> {
    let param = |name: &str| additional.get(name).and_then(Value::as_str);
    // A parameter that is there but not a string was reported already; "is required" would only
    // repeat it.
    let given = |name: &str| additional.contains_key(name);
    let method = match param("sbid_flow") {
        Some("QR") => Some(Method::SbidQr),
        Some("APP_LAUNCH") => Some(Method::SbidAppLaunch),
        Some("PHONE") => Some(Method::SbidPhone),
        Some(_) => {
            bad.push(InvalidParam::new(
                "additionalParameters.sbid_flow",
                "must be QR, APP_LAUNCH or PHONE",
            ));
            None
        }
        None if given("sbid_flow") => None,
        None => {
            bad.push(InvalidParam::new(
                "additionalParameters.sbid_flow",
                "is required for headless Swedish BankID",
            ));
            None
        }
    };
    let phone = method == Some(Method::SbidPhone);
    match param("sbid_end_user_ip") {
        Some(ip) if ip.parse::<IpAddr>().is_ok() => {}
        Some(_) => bad.push(InvalidParam::new(
            "additionalParameters.sbid_end_user_ip",
            "must be an IP address",
        )),
        // BankID's /phone/auth has no endUserIp: the customer is on the phone, not on a web page.
        None if phone || given("sbid_end_user_ip") => {}
        None => bad.push(InvalidParam::new(
            "additionalParameters.sbid_end_user_ip",
            "is required for headless Swedish BankID (QR and APP_LAUNCH)",
        )),
    }
    let call_initiator = if phone {
        let name = "additionalParameters.sbid_call_initiator";
        match param("sbid_call_initiator") {
            Some(c) => {
                let parsed = CallInitiator::parse(c);
                if parsed.is_none() {
                    bad.push(InvalidParam::new(
                        name,
                        "must be user or RP (case-sensitive)",
                    ));
                }
                parsed
            }
            None if given("sbid_call_initiator") => None,
            None => {
                bad.push(InvalidParam::new(
                    name,
                    "is required when sbid_flow is PHONE (user or RP)",
                ));
                None
            }
        }
    } else {
        None
    };
    let nin = match input("nin") {
        Some(n) if identity::swedish_birth_date(n).is_some() => Some(Some(n.to_owned())),
        Some(_) => {
            bad.push(InvalidParam::new(
                "prefilledInput.nin",
                "not a valid 12-digit Swedish personnummer",
            ));
            None
        }
        None if phone => {
            bad.push(InvalidParam::new(
                "prefilledInput.nin",
                "is required when sbid_flow is PHONE",
            ));
            None
        }
        None => Some(None),
    };
    let intention_text = param("sbid_intention_text").and_then(|text| {
        intention(text)
            .map_err(|reason| {
                bad.push(InvalidParam::new(
                    "additionalParameters.sbid_intention_text",
                    reason,
                ))
            })
            .ok()
    });
    let format_problem = match (
        additional.get("sbid_intention_text_format"),
        given("sbid_intention_text"),
    ) {
        (Some(Value::String(f)), true) if f == INTENTION_FORMAT => None,
        (Some(Value::String(_)), true) => Some("must be simpleMarkdownV1"),
        (Some(_), true) => None,
        (None, true) => Some("is required with sbid_intention_text (simpleMarkdownV1)"),
        (Some(_), false) => Some("is only allowed with sbid_intention_text"),
        (None, false) => None,
    };
    if let Some(reason) = format_problem {
        bad.push(InvalidParam::new(
            "additionalParameters.sbid_intention_text_format",
            reason,
        ));
    }
    let requirement_mrtd = flag(additional, "sbid_requirement_mrtd", bad);
    let return_risk = flag(additional, "sbid_return_risk", bad);
    Some(Target {
        method: method?,
        identity: Identity::SwedishNin(nin?),
        requested: Requested {
            call_initiator,
            intention_text,
            requirement_mrtd,
            return_risk,
            authorization_details: None,
        },
        idcard: None,
    })
}

/// `sbid_intention_text`: standard base64 of non-empty UTF-8 text of at most 4000 bytes.
fn intention(encoded: &str) -> Result<String, &'static str> {
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| "must be standard base64 (with padding)")?;
    if bytes.is_empty() {
        return Err("must not be empty once decoded");
    }
    if bytes.len() > MAX_INTENTION_BYTES {
        return Err("must be at most 4000 bytes once decoded");
    }
    String::from_utf8(bytes).map_err(|_| "must be base64 of UTF-8 text")
}

/// An optional `"true"` / `"false"` parameter.
fn flag(additional: &Map<String, Value>, name: &str, bad: &mut Vec<InvalidParam>) -> Option<bool> {
    match additional.get(name)?.as_str()? {
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            bad.push(InvalidParam::new(
                format!("additionalParameters.{name}"),
                "must be \"true\" or \"false\"",
            ));
            None
        }
    }
}

/// `sbid-idcard`: only the scanned payload. One the simulator cannot read still makes a session
/// (it fails with `invalidQrData`), as BankID reads the payload only after the request.
fn sbid_idcard(additional: &Map<String, Value>, bad: &mut Vec<InvalidParam>) -> Option<Target> {
    let name = "additionalParameters.sbid_idcard_qr_data";
    let payload = match additional.get("sbid_idcard_qr_data") {
        Some(Value::String(q)) if q.starts_with(idcard::PREFIX) => idcard::decode(q),
        Some(Value::String(q)) if q.is_empty() => {
            bad.push(InvalidParam::new(name, "must not be empty"));
            return None;
        }
        Some(Value::String(_)) => {
            bad.push(InvalidParam::new(
                name,
                "not a BankID ID card QR code (it starts with BANKIDF.)",
            ));
            return None;
        }
        Some(_) => return None,
        None => {
            bad.push(InvalidParam::new(name, "is required for sbid-idcard"));
            return None;
        }
    };
    let identity = match &payload {
        Payload::Card { nin, .. } => Identity::SwedishNin(Some(nin.clone())),
        Payload::Unreadable => Identity::SwedishNin(None),
    };
    Some(Target {
        method: Method::SbidIdCard,
        identity,
        requested: Requested::default(),
        idcard: Some(payload),
    })
}
