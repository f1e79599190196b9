//! What staff ask for: a validated flow request. The window and the CLI hand over raw strings
//! ([`RawFlowInput`]); [`FlowRequest::parse`] validates every field before anything is sent, so a
//! typo never reaches Signicat (or pushes a notification to the wrong phone).

use super::settings::FlowSettings;
use crate::ciba::{BindingMessage, CibaAuth, HintKind, LoginHint};
use crate::flow::CallInitiator;
use crate::flow::{ExpectedIdentity, Method};
use crate::identity::{
    BirthDate, IdCardQrData, IntentionText, NorwegianMobile, NorwegianNin, SignText,
    SwedishPersonnummer,
};
use crate::oidc::LegacyAuth;
use crate::rest::redirect::{self, RedirectProvider};
use crate::rest::{protocol, CreateSession, RedirectSettings};
use crate::sign::{LinkProvider, PdfDocument, SignHow, SignOrder, SignerNin};
use crate::{Error, Result};
use serde::Deserialize;

/// The key every redirect flow shares: the customer in front of this screen.
pub const ON_THIS_SCREEN: &str = "on-this-screen";

/// A validated request for one flow. The types make an unvalidated identity unrepresentable.
#[derive(Debug, Clone, PartialEq)]
pub enum FlowRequest {
    /// Norwegian BankID Safe Conversation: the customer called us (BankID Norge allows it for
    /// inbound calls only); a binding message is shown.
    NbidSafeConversation { nin: NorwegianNin },
    /// Norwegian BankID on mobile: phone number and date of birth.
    NbidMobile {
        phone: NorwegianMobile,
        birthdate: BirthDate,
    },
    /// Swedish BankID, animated QR on the staff screen, optionally locked to one personnummer.
    SbidQr { nin: Option<SwedishPersonnummer> },
    /// Swedish BankID opened on this device, optionally locked to one personnummer.
    SbidAppLaunch { nin: Option<SwedishPersonnummer> },
    /// Swedish BankID Phone: the order goes to the personnummer's app; the customer confirms
    /// the call. `intention` is the "why" BankID shows them.
    SbidPhone {
        nin: SwedishPersonnummer,
        call: CallInitiator,
        intention: Option<IntentionText>,
    },
    /// Swedish BankID Digital ID card, scanned at the counter.
    SbidIdCard { qr: IdCardQrData },
    /// Norwegian BankID on mobile, legacy OIDC `nbid-inapp`.
    NbidInapp {
        phone: NorwegianMobile,
        birthdate: BirthDate,
    },
    /// Swedish BankID, legacy OIDC `sbid-inapp`.
    SbidInapp { nin: SwedishPersonnummer },
    /// Consent Signature with Norwegian BankID on mobile (`nbid-inapp-sign`).
    NbidSign {
        phone: NorwegianMobile,
        birthdate: BirthDate,
        text: SignText,
    },
    /// Consent Signature with Swedish BankID (`sbid-inapp-sign`).
    SbidSign {
        nin: SwedishPersonnummer,
        text: SignText,
    },
    /// OpenID Connect CIBA: the customer named by a login hint, and the binding message.
    Ciba(CibaAuth),
    /// REST redirect flow with one of the profile's redirect providers; the customer says who
    /// they are on the provider's page, so nothing about them is known in advance.
    Redirect { provider: RedirectProvider },
    /// Sign API v2: Swedish BankID Phone signing, or signing by link.
    Sign(Box<SignOrder>),
}

/// Raw input from the window or the CLI. Only the fields the method needs are read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RawFlowInput {
    pub method: Method,
    #[serde(default)]
    pub nin: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub birthdate: Option<String>,
    /// The text to sign (signature methods only).
    #[serde(default)]
    pub text: Option<String>,
    /// CIBA: who the customer is, as the provider knows them (or `login_hint_token`).
    #[serde(default)]
    pub login_hint: Option<String>,
    #[serde(default)]
    pub login_hint_token: Option<String>,
    /// CIBA: staff's own binding message; generated when absent.
    #[serde(default)]
    pub binding_message: Option<String>,
    /// Redirect flow: the eID provider (`mitid`, `ftn`, ...), one of the profile's. Signing by
    /// link: `nbid-pki` or one of the profile's signing eIDs.
    #[serde(default)]
    pub provider: Option<String>,
    /// Swedish BankID Phone: `user` (the customer called us) or `rp` (we called the customer).
    #[serde(default)]
    pub call_initiator: Option<String>,
    /// Sign API v2: the path of a PDF to sign (read and checked before anything is sent).
    #[serde(default)]
    pub pdf: Option<String>,
    /// Sign API v2 from the window: the PDF staff picked, its bytes in standard base64.
    #[serde(default)]
    pub pdf_base64: Option<String>,
    /// Swedish BankID Phone: why staff ask, shown to the customer in the app.
    #[serde(default)]
    pub intention: Option<String>,
    /// Swedish BankID ID card: what the barcode scanner typed.
    #[serde(default)]
    pub qr_data: Option<String>,
    /// A phone method sent again to the same customer in the same call: staff confirm that the
    /// customer wants to try again (BankID Norge's Safe Conversation rules).
    #[serde(default)]
    pub retry_confirmed: bool,
}

impl RawFlowInput {
    /// The input as the desk's window may send it: a PDF travels as bytes (`pdf_base64`, from the
    /// OS file picker), never as a path (review N-14: a page naming paths for the desk to read
    /// would learn which files exist and could upload any PDF on disk). Refused by field.
    pub fn sent_by_window(self) -> Result<RawFlowInput> {
        if self.pdf.is_some() {
            return Err(Error::invalid_input(
                "pdf",
                "the window sends the PDF staff picked, never a file path",
            ));
        }
        Ok(self)
    }

    pub fn new(method: Method) -> Self {
        RawFlowInput {
            method,
            nin: None,
            phone: None,
            birthdate: None,
            text: None,
            login_hint: None,
            login_hint_token: None,
            binding_message: None,
            provider: None,
            call_initiator: None,
            pdf: None,
            pdf_base64: None,
            intention: None,
            qr_data: None,
            retry_confirmed: false,
        }
    }
}

/// The value of an optional field, `None` when absent or blank.
fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Review N-19: a profile that lists its intention texts shows customers only those, whatever
/// the CLI or a page sends.
fn approved_intention(intention: Option<&IntentionText>, settings: &FlowSettings) -> Result<()> {
    let approved = &settings.sbid_phone_intentions;
    match intention {
        Some(i)
            if !approved.is_empty() && !approved.iter().any(|t| t.trim() == i.as_str().trim()) =>
        {
            Err(Error::invalid_input(
                "intention",
                "is not one of the profile's approved intention texts ([[sbid_phone.intentions]])",
            ))
        }
        _ => Ok(()),
    }
}

fn required<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str> {
    present(v).ok_or_else(|| Error::invalid_input(field, "is required"))
}

impl FlowRequest {
    /// Validate raw input. Errors name the field (`method`, `nin`, `phone`, `birthdate`) or, for
    /// a missing setting, the configuration key (`sbid_end_user_ip`).
    pub fn parse(raw: &RawFlowInput, settings: &FlowSettings) -> Result<FlowRequest> {
        let method = raw.method;
        if let Some(note) = method
            .retirement_note()
            .filter(|_| !settings.legacy_methods)
        {
            return Err(Error::invalid_input(
                "method",
                format!("{}: {note}", method.as_str()),
            ));
        }
        match method {
            Method::NbidSafeConversation => {
                let nin = NorwegianNin::parse(
                    required(&raw.nin, "nin")?,
                    settings.allow_test_identities,
                )?;
                inbound_only(raw)?;
                Ok(FlowRequest::NbidSafeConversation { nin })
            }
            Method::SbidPhone => {
                let nin = required(&raw.nin, "nin").and_then(SwedishPersonnummer::parse)?;
                let call = call_initiator(raw)?;
                let intention = present(&raw.intention)
                    .map(IntentionText::parse)
                    .transpose()?;
                approved_intention(intention.as_ref(), settings)?;
                Ok(FlowRequest::SbidPhone {
                    nin,
                    call,
                    intention,
                })
            }
            Method::SbidIdCard => Ok(FlowRequest::SbidIdCard {
                qr: IdCardQrData::parse(raw.qr_data.as_deref().unwrap_or_default())?,
            }),
            Method::NbidMobile => {
                // Both fields are checked so the window can mark every bad field at once; the
                // first error is returned.
                let phone = required(&raw.phone, "phone").and_then(NorwegianMobile::parse);
                let birthdate = required(&raw.birthdate, "birthdate").and_then(BirthDate::parse);
                Ok(FlowRequest::NbidMobile {
                    phone: phone?,
                    birthdate: birthdate?,
                })
            }
            Method::SbidQr | Method::SbidAppLaunch => {
                settings.require_sbid_end_user_ip()?;
                let nin = present(&raw.nin)
                    .map(SwedishPersonnummer::parse)
                    .transpose()?;
                Ok(if method == Method::SbidQr {
                    FlowRequest::SbidQr { nin }
                } else {
                    FlowRequest::SbidAppLaunch { nin }
                })
            }
            Method::NbidInapp | Method::NbidSign => {
                let phone = required(&raw.phone, "phone").and_then(NorwegianMobile::parse);
                let birthdate = required(&raw.birthdate, "birthdate").and_then(BirthDate::parse);
                if method == Method::NbidInapp {
                    return Ok(FlowRequest::NbidInapp {
                        phone: phone?,
                        birthdate: birthdate?,
                    });
                }
                let text = required(&raw.text, "text").and_then(SignText::parse);
                Ok(FlowRequest::NbidSign {
                    phone: phone?,
                    birthdate: birthdate?,
                    text: text?,
                })
            }
            Method::Ciba => {
                let hint = match (present(&raw.login_hint), present(&raw.login_hint_token)) {
                    (Some(h), None) => LoginHint::parse(
                        h,
                        settings.ciba_hint_kind,
                        &settings.ciba_hint_prefix,
                        settings.allow_test_identities,
                    ),
                    (None, Some(t)) => LoginHint::token(t),
                    (None, None) => Err(Error::invalid_input("login_hint", "is required")),
                    (Some(_), Some(_)) => Err(Error::invalid_input(
                        "login_hint_token",
                        "give a login hint or a login hint token, not both",
                    )),
                };
                let binding_message = present(&raw.binding_message)
                    .map(BindingMessage::parse)
                    .transpose();
                // A provider that runs CIBA as a phone authentication needs to hear who called whom.
                let phone_call = settings.ciba_phone_auth.then(|| call_initiator(raw));
                Ok(FlowRequest::Ciba(CibaAuth {
                    hint: hint?,
                    binding_message: binding_message?.unwrap_or_else(BindingMessage::generate),
                    phone_call: phone_call.transpose()?,
                }))
            }
            Method::Redirect => {
                let provider =
                    RedirectProvider::parse(required(&raw.provider, "provider")?, "provider")?;
                if !settings.redirect_providers.contains(&provider) {
                    return Err(Error::invalid_input(
                        "provider",
                        format!("this profile does not offer {}", provider.id()),
                    ));
                }
                Ok(FlowRequest::Redirect { provider })
            }
            Method::SignSbidPhone | Method::SignLink => {
                Ok(FlowRequest::Sign(Box::new(parse_sign(raw, settings)?)))
            }
            Method::SbidInapp | Method::SbidSign => {
                let nin = required(&raw.nin, "nin").and_then(SwedishPersonnummer::parse);
                if method == Method::SbidInapp {
                    return Ok(FlowRequest::SbidInapp { nin: nin? });
                }
                let text = required(&raw.text, "text").and_then(SignText::parse);
                Ok(FlowRequest::SbidSign {
                    nin: nin?,
                    text: text?,
                })
            }
        }
    }

    /// The legacy OIDC customer and, for a signature, the text; `None` for REST kinds.
    pub(crate) fn legacy(&self) -> Option<(LegacyAuth, Option<SignText>)> {
        let nbid = |phone: &NorwegianMobile, birthdate: &BirthDate| LegacyAuth::Nbid {
            phone: phone.clone(),
            birthdate: *birthdate,
        };
        match self {
            FlowRequest::NbidInapp { phone, birthdate } => Some((nbid(phone, birthdate), None)),
            FlowRequest::SbidInapp { nin } => Some((LegacyAuth::Sbid { nin: nin.clone() }, None)),
            FlowRequest::NbidSign {
                phone,
                birthdate,
                text,
            } => Some((nbid(phone, birthdate), Some(text.clone()))),
            FlowRequest::SbidSign { nin, text } => {
                Some((LegacyAuth::Sbid { nin: nin.clone() }, Some(text.clone())))
            }
            _ => None,
        }
    }

    /// The text to sign (signature kinds only).
    pub fn sign_text(&self) -> Option<&SignText> {
        match self {
            FlowRequest::NbidSign { text, .. } | FlowRequest::SbidSign { text, .. } => Some(text),
            FlowRequest::Sign(order) => order.text.as_ref(),
            _ => None,
        }
    }

    pub fn method(&self) -> Method {
        match self {
            FlowRequest::NbidSafeConversation { .. } => Method::NbidSafeConversation,
            FlowRequest::NbidMobile { .. } => Method::NbidMobile,
            FlowRequest::SbidQr { .. } => Method::SbidQr,
            FlowRequest::SbidAppLaunch { .. } => Method::SbidAppLaunch,
            FlowRequest::SbidPhone { .. } => Method::SbidPhone,
            FlowRequest::SbidIdCard { .. } => Method::SbidIdCard,
            FlowRequest::NbidInapp { .. } => Method::NbidInapp,
            FlowRequest::SbidInapp { .. } => Method::SbidInapp,
            FlowRequest::NbidSign { .. } => Method::NbidSign,
            FlowRequest::SbidSign { .. } => Method::SbidSign,
            FlowRequest::Ciba(_) => Method::Ciba,
            FlowRequest::Redirect { .. } => Method::Redirect,
            FlowRequest::Sign(order) => match order.how {
                SignHow::SbidPhone { .. } => Method::SignSbidPhone,
                SignHow::Link { .. } => Method::SignLink,
            },
        }
    }

    /// The key under which at most one flow may run: BankID fails both orders when one person has
    /// two at once. `None` when the customer is not known in advance (an open QR).
    pub fn identity_key(&self) -> Option<String> {
        match self {
            FlowRequest::NbidSafeConversation { nin } => Some(format!("NO:{}", nin.as_str())),
            // The legacy kinds share the keys: it is the same customer's BankID either way.
            FlowRequest::NbidMobile { phone, .. }
            | FlowRequest::NbidInapp { phone, .. }
            | FlowRequest::NbidSign { phone, .. } => Some(format!("NO-mobile:{}", phone.e164())),
            FlowRequest::SbidInapp { nin }
            | FlowRequest::SbidSign { nin, .. }
            | FlowRequest::SbidPhone { nin, .. } => Some(format!("SE:{}", nin.as_str())),
            // The payload names the person, but only BankID can read it.
            FlowRequest::SbidIdCard { .. } => None,
            FlowRequest::SbidQr { nin } | FlowRequest::SbidAppLaunch { nin } => {
                nin.as_ref().map(|n| format!("SE:{}", n.as_str()))
            }
            FlowRequest::Ciba(auth) => Some(auth.hint.key()),
            // One customer at a time completes a flow on this screen: the sandboxed window's
            // browser data is cleared when it closes, so two at once would share it
            // (issue 23, item 10). A second one is `already_running` until the first ends.
            FlowRequest::Redirect { .. } => Some(ON_THIS_SCREEN.to_string()),
            FlowRequest::Sign(order) => order.signer().map(|n| n.key()),
        }
    }

    /// The customer whose orders in a phone call are counted ([`super::CallLedger`]): the methods
    /// that push an order to a known customer's phone while staff talk to them.
    pub fn call_key(&self) -> Option<String> {
        let on_the_phone = match self {
            FlowRequest::NbidSafeConversation { .. } | FlowRequest::SbidPhone { .. } => true,
            FlowRequest::Ciba(auth) => auth.phone_call.is_some(),
            FlowRequest::Sign(order) => matches!(order.how, SignHow::SbidPhone { .. }),
            _ => false,
        };
        on_the_phone.then(|| self.identity_key()).flatten()
    }

    /// Who the verified person must be (issue 23): the number staff typed, or the date of birth
    /// where only that was asked. Empty when the customer is not known in advance.
    pub fn expected_identity(&self, settings: &FlowSettings) -> ExpectedIdentity {
        let iso =
            |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
        let no = |n: &NorwegianNin| ExpectedIdentity {
            nin: Some(n.as_str().to_string()),
            date_of_birth: Some(iso(n.birth_date())),
        };
        let se = |n: &SwedishPersonnummer| ExpectedIdentity {
            nin: Some(n.as_str().to_string()),
            date_of_birth: Some(iso(n.birth_date())),
        };
        let born = |b: &BirthDate| ExpectedIdentity {
            nin: None,
            date_of_birth: Some(b.iso()),
        };
        match self {
            FlowRequest::NbidSafeConversation { nin } => no(nin),
            FlowRequest::NbidMobile { birthdate, .. }
            | FlowRequest::NbidInapp { birthdate, .. }
            | FlowRequest::NbidSign { birthdate, .. } => born(birthdate),
            FlowRequest::SbidInapp { nin }
            | FlowRequest::SbidSign { nin, .. }
            | FlowRequest::SbidPhone { nin, .. } => se(nin),
            FlowRequest::SbidIdCard { .. } => ExpectedIdentity::default(),
            FlowRequest::SbidQr { nin } | FlowRequest::SbidAppLaunch { nin } => {
                nin.as_ref().map(se).unwrap_or_default()
            }
            // A hint that is a national identity number names the person; free text does not.
            FlowRequest::Ciba(auth) => match (&auth.hint, settings.ciba_hint_kind) {
                (LoginHint::Hint(h), HintKind::NinNo | HintKind::PnrSe) => ExpectedIdentity {
                    nin: Some(
                        h.strip_prefix(settings.ciba_hint_prefix.as_str())
                            .unwrap_or(h)
                            .to_string(),
                    ),
                    date_of_birth: None,
                },
                _ => ExpectedIdentity::default(),
            },
            // Sign API v2 checks its signer itself (it has the result documents to hand).
            FlowRequest::Redirect { .. } | FlowRequest::Sign(_) => ExpectedIdentity::default(),
        }
    }

    /// The customer as it may be shown in a list or a log line (never a full number).
    pub fn masked_identity(&self) -> Option<String> {
        match self {
            FlowRequest::NbidSafeConversation { nin } => Some(nin.masked()),
            FlowRequest::NbidMobile { phone, .. }
            | FlowRequest::NbidInapp { phone, .. }
            | FlowRequest::NbidSign { phone, .. } => Some(mask_phone(phone.digits())),
            FlowRequest::SbidInapp { nin }
            | FlowRequest::SbidSign { nin, .. }
            | FlowRequest::SbidPhone { nin, .. } => Some(nin.masked()),
            FlowRequest::SbidIdCard { .. } => None,
            FlowRequest::SbidQr { nin } | FlowRequest::SbidAppLaunch { nin } => {
                nin.as_ref().map(SwedishPersonnummer::masked)
            }
            FlowRequest::Ciba(auth) => Some(auth.hint.masked()),
            // One customer at a time completes a flow on this screen: the sandboxed window's
            // browser data is cleared when it closes, so two at once would share it
            // (issue 23, item 10). A second one is `already_running` until the first ends.
            FlowRequest::Redirect { .. } => Some(ON_THIS_SCREEN.to_string()),
            FlowRequest::Sign(order) => order.signer().map(|n| n.masked()),
        }
    }

    /// The REST session create body (reference §1.3), or `None` for a kind that is not REST.
    pub(crate) fn rest_body(
        &self,
        settings: &FlowSettings,
        external_reference: &str,
    ) -> Result<Option<CreateSession>> {
        let mut body = match self {
            FlowRequest::NbidSafeConversation { nin } => {
                let mut b = CreateSession::headless(
                    "nbid",
                    &["name", "firstName", "lastName", "nin", "dateOfBirth"],
                );
                b.additional_parameters
                    .insert("nbid_auth_type".into(), "PHONE".into());
                b.prefilled_input.insert("nin".into(), nin.as_str().into());
                b
            }
            FlowRequest::NbidMobile { phone, birthdate } => {
                let mut b = CreateSession::headless(
                    "nbid",
                    &["name", "firstName", "lastName", "dateOfBirth"],
                );
                b.prefilled_input.insert("phoneNumber".into(), phone.e164());
                b.prefilled_input
                    .insert("dateOfBirth".into(), birthdate.iso());
                b
            }
            FlowRequest::SbidQr { nin } | FlowRequest::SbidAppLaunch { nin } => {
                let mut b = CreateSession::headless(
                    "sbid",
                    &["name", "firstName", "lastName", "dateOfBirth", "nin"],
                );
                let flow = if matches!(self, FlowRequest::SbidQr { .. }) {
                    "QR"
                } else {
                    "APP_LAUNCH"
                };
                b.additional_parameters
                    .insert("sbid_flow".into(), flow.into());
                b.additional_parameters.insert(
                    "sbid_end_user_ip".into(),
                    settings.require_sbid_end_user_ip()?.to_string(),
                );
                if let Some(n) = nin {
                    b.prefilled_input.insert("nin".into(), n.as_str().into());
                }
                b
            }
            FlowRequest::SbidPhone {
                nin,
                call,
                intention,
            } => {
                let mut attributes = vec!["name", "firstName", "lastName", "dateOfBirth", "nin"];
                if settings.sbid_phone.return_risk {
                    attributes.push(protocol::SBID_RISK_ATTRIBUTE);
                }
                let mut b = CreateSession::headless("sbid", &attributes);
                protocol::sbid_phone(&mut b, *call, intention.as_ref(), &settings.sbid_phone);
                b.prefilled_input.insert("nin".into(), nin.as_str().into());
                b
            }
            FlowRequest::SbidIdCard { qr } => {
                let mut b = CreateSession::headless(
                    protocol::SBID_IDCARD_PROVIDER,
                    &["name", "firstName", "lastName", "dateOfBirth", "nin"],
                );
                b.additional_parameters
                    .insert(protocol::SBID_IDCARD_QR_DATA.into(), qr.as_str().into());
                b
            }
            FlowRequest::Redirect { provider } => CreateSession::redirect(
                provider.id(),
                &["name", "firstName", "lastName", "dateOfBirth", "nin"],
                RedirectSettings {
                    success_url: redirect::SUCCESS_URL.into(),
                    abort_url: redirect::ABORT_URL.into(),
                    error_url: redirect::ERROR_URL.into(),
                },
            ),
            FlowRequest::NbidInapp { .. }
            | FlowRequest::SbidInapp { .. }
            | FlowRequest::NbidSign { .. }
            | FlowRequest::SbidSign { .. }
            | FlowRequest::Ciba(_)
            | FlowRequest::Sign(_) => return Ok(None),
        };
        body.language = Some(settings.lang.as_str().to_string());
        body.external_reference = Some(external_reference.to_string());
        Ok(Some(body))
    }
}

/// Who called whom, required: an absent answer is refused like a wrong one (no default).
fn call_initiator(raw: &RawFlowInput) -> Result<CallInitiator> {
    CallInitiator::parse(present(&raw.call_initiator).unwrap_or_default())
}

/// BankID Norge allows Safe Conversation only when the customer contacted us (called in, or is
/// at the counter): staff confirm it with `call_initiator = user`; `rp` is refused.
fn inbound_only(raw: &RawFlowInput) -> Result<()> {
    match present(&raw.call_initiator).map(CallInitiator::parse).transpose()? {
        Some(CallInitiator::User) => Ok(()),
        Some(CallInitiator::Rp) => Err(Error::invalid_input(
            "call_initiator",
            "Safe Conversation is only for customers who called us: BankID Norge's rules do not allow it when we called the customer",
        )),
        None => Err(Error::invalid_input(
            "call_initiator",
            "confirm that the customer called us (Safe Conversation is for inbound calls only)",
        )),
    }
}

/// A Sign API v2 order: every field checked, in the window's order, before anything is read or sent.
fn parse_sign(raw: &RawFlowInput, settings: &FlowSettings) -> Result<SignOrder> {
    let offered = &settings.sign;
    let how = if raw.method == Method::SignSbidPhone {
        if !offered.sbid_phone {
            return Err(Error::invalid_input(
                "method",
                "this profile does not offer Swedish BankID Phone signing",
            ));
        }
        let nin = required(&raw.nin, "nin").and_then(SwedishPersonnummer::parse)?;
        let call = call_initiator(raw)?;
        SignHow::SbidPhone { nin, call }
    } else {
        let id = required(&raw.provider, "provider")?;
        let provider = if id == LinkProvider::NBID_PKI && offered.nbid_pki {
            LinkProvider::NbidPki
        } else if offered.link_providers.iter().any(|p| p == id) {
            LinkProvider::Eid(id.to_string())
        } else {
            return Err(Error::invalid_input(
                "provider",
                format!("this profile does not offer signing with {id}"),
            ));
        };
        let nin = present(&raw.nin)
            .map(|n| SignerNin::parse(n, settings.allow_test_identities))
            .transpose()?;
        SignHow::Link { provider, nin }
    };
    let text = present(&raw.text).map(SignText::parse).transpose()?;
    let max = settings
        .sign_max_document_bytes
        .unwrap_or(crate::sign::SignConfig::DEFAULT_MAX_DOCUMENT_BYTES);
    let pdf = match (present(&raw.pdf), present(&raw.pdf_base64)) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid_input(
                "pdf",
                "give the file's path or its bytes, not both",
            ))
        }
        (Some(path), None) => Some(PdfDocument::read(std::path::Path::new(path), max)?),
        (None, Some(encoded)) => Some(PdfDocument::from_base64(encoded, max)?),
        (None, None) => None,
    };
    SignOrder::new(how, text, pdf)
}

/// `+47 *****766`: enough for staff to tell two flows apart.
fn mask_phone(digits: &str) -> String {
    let tail: String = digits
        .chars()
        .rev()
        .take(3)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("+47 *****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> FlowSettings {
        FlowSettings {
            legacy_methods: true,
            sbid_end_user_ip: Some("203.0.113.7".into()),
            ..FlowSettings::default()
        }
    }

    fn raw(method: Method) -> RawFlowInput {
        RawFlowInput::new(method)
    }

    #[test]
    fn missing_and_bad_fields_are_named() {
        let e = FlowRequest::parse(&raw(Method::NbidSafeConversation), &settings()).unwrap_err();
        assert_eq!(e.field(), Some("nin"));
        let mut r = raw(Method::NbidSafeConversation);
        r.nin = Some("17029012345".into());
        assert_eq!(
            FlowRequest::parse(&r, &settings()).unwrap_err().field(),
            Some("nin")
        );
        let mut r = raw(Method::NbidMobile);
        r.phone = Some("99887766".into());
        assert_eq!(
            FlowRequest::parse(&r, &settings()).unwrap_err().field(),
            Some("birthdate")
        );
        // The legacy kinds validate their fields too; the sign text last.
        let e = FlowRequest::parse(&raw(Method::NbidSign), &settings()).unwrap_err();
        assert_eq!(e.field(), Some("phone"));
        let mut r = raw(Method::SbidSign);
        r.nin = Some("198304062717".into());
        assert_eq!(
            FlowRequest::parse(&r, &settings()).unwrap_err().field(),
            Some("text")
        );
    }

    #[test]
    fn sbid_needs_the_end_user_ip_setting() {
        let e = FlowRequest::parse(&raw(Method::SbidQr), &FlowSettings::default()).unwrap_err();
        assert_eq!(e.code(), "invalid_config");
        assert_eq!(e.field(), Some("sbid_end_user_ip"));
    }

    #[test]
    fn builds_the_documented_bodies() {
        let mut r = raw(Method::NbidSafeConversation);
        r.nin = Some("29124815345".into());
        r.call_initiator = Some("user".into());
        let req = FlowRequest::parse(&r, &settings()).unwrap();
        assert_eq!(req.identity_key().as_deref(), Some("NO:29124815345"));
        assert_eq!(req.masked_identity().as_deref(), Some("2912*******"));
        let body = req.rest_body(&settings(), "f1").unwrap().unwrap();
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(v["additionalParameters"]["nbid_auth_type"], "PHONE");
        assert_eq!(v["prefilledInput"]["nin"], "29124815345");
        assert_eq!(v["externalReference"], "f1");

        let mut r = raw(Method::NbidMobile);
        r.phone = Some("+47 998 87 766".into());
        r.birthdate = Some("1983-12-07".into());
        let req = FlowRequest::parse(&r, &settings()).unwrap();
        assert_eq!(req.masked_identity().as_deref(), Some("+47 *****766"));
        let v = serde_json::to_value(req.rest_body(&settings(), "f2").unwrap()).unwrap();
        assert_eq!(v["prefilledInput"]["phoneNumber"], "+4799887766");
        assert_eq!(v["prefilledInput"]["dateOfBirth"], "1983-12-07");

        let mut r = raw(Method::SbidAppLaunch);
        r.nin = Some("830406-2717".into());
        let req = FlowRequest::parse(&r, &settings()).unwrap();
        assert_eq!(req.identity_key().as_deref(), Some("SE:198304062717"));
        let v = serde_json::to_value(req.rest_body(&settings(), "f3").unwrap()).unwrap();
        assert_eq!(v["additionalParameters"]["sbid_flow"], "APP_LAUNCH");
        assert_eq!(v["additionalParameters"]["sbid_end_user_ip"], "203.0.113.7");
        assert_eq!(v["prefilledInput"]["nin"], "198304062717");

        let req = FlowRequest::parse(&raw(Method::SbidQr), &settings()).unwrap();
        assert_eq!(req.identity_key(), None);
    }

    #[test]
    fn retired_methods_are_refused_unless_the_profile_offers_them() {
        let strict = FlowSettings {
            legacy_methods: false,
            ..settings()
        };
        let mut r = raw(Method::NbidMobile);
        r.phone = Some("99887766".into());
        r.birthdate = Some("1983-12-07".into());
        let e = FlowRequest::parse(&r, &strict).unwrap_err();
        assert_eq!(e.field(), Some("method"));
        assert!(e.to_string().contains("since 2024-09-01"), "{e}");
        assert!(e.to_string().contains("nbid_safe_conversation"), "{e}");
        assert!(FlowRequest::parse(&r, &settings()).is_ok());
        for m in [
            Method::NbidInapp,
            Method::SbidInapp,
            Method::NbidSign,
            Method::SbidSign,
        ] {
            let e = FlowRequest::parse(&raw(m), &strict).unwrap_err();
            assert_eq!(e.field(), Some("method"), "{m:?}");
        }
    }

    #[test]
    fn safe_conversation_is_for_customers_who_called_us() {
        let mut r = raw(Method::NbidSafeConversation);
        r.nin = Some("29124815345".into());
        let e = FlowRequest::parse(&r, &settings()).unwrap_err();
        assert_eq!(e.field(), Some("call_initiator"));
        r.call_initiator = Some("rp".into());
        let e = FlowRequest::parse(&r, &settings()).unwrap_err();
        assert_eq!(e.field(), Some("call_initiator"));
        assert!(
            e.to_string().contains("only for customers who called us"),
            "{e}"
        );
        r.call_initiator = Some("user".into());
        assert!(FlowRequest::parse(&r, &settings()).is_ok());
    }

    #[test]
    fn swedish_phone_and_id_card_build_their_bodies() {
        let mut r = raw(Method::SbidPhone);
        r.nin = Some("19830406-2717".into());
        assert_eq!(
            FlowRequest::parse(&r, &settings()).unwrap_err().field(),
            Some("call_initiator"),
            "no default for who called whom"
        );
        r.call_initiator = Some("rp".into());
        r.intention = Some("Du identifierar dig för *kundtjänst*".into());
        let with_risk = FlowSettings {
            sbid_phone: crate::rest::protocol::SbidPhoneOptions {
                extra_control: false,
                return_risk: true,
            },
            ..settings()
        };
        let req = FlowRequest::parse(&r, &with_risk).unwrap();
        assert_eq!(req.identity_key().as_deref(), Some("SE:198304062717"));
        assert_eq!(req.call_key(), req.identity_key());
        let v = serde_json::to_value(req.rest_body(&with_risk, "f").unwrap().unwrap()).unwrap();
        assert_eq!(v["allowedProviders"][0], "sbid");
        assert_eq!(v["prefilledInput"]["nin"], "198304062717");
        assert_eq!(v["additionalParameters"]["sbid_flow"], "PHONE");
        assert_eq!(v["additionalParameters"]["sbid_call_initiator"], "RP");
        assert_eq!(v["additionalParameters"]["sbid_return_risk"], "true");
        assert!(v["requestedAttributes"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("sbidRisk")));
        assert_eq!(
            req.expected_identity(&with_risk).nin.as_deref(),
            Some("198304062717")
        );

        // A profile that lists its texts accepts those only (review N-19).
        let listed = FlowSettings {
            sbid_phone_intentions: vec!["Du identifierar dig för *kundtjänst*".into()],
            ..settings()
        };
        assert!(FlowRequest::parse(&r, &listed).is_ok());
        let mut other = r.clone();
        other.intention = Some("Ring oss på 0701234567".into());
        assert_eq!(
            FlowRequest::parse(&other, &listed).unwrap_err().field(),
            Some("intention")
        );
        assert!(
            FlowRequest::parse(&other, &settings()).is_ok(),
            "no list: any valid text"
        );

        let mut r = raw(Method::SbidIdCard);
        assert_eq!(
            FlowRequest::parse(&r, &settings()).unwrap_err().field(),
            Some("qr_data")
        );
        r.qr_data = Some("BANKIDF.74226FAAE0\n".into());
        let req = FlowRequest::parse(&r, &settings()).unwrap();
        assert_eq!(req.identity_key(), None);
        assert_eq!(req.call_key(), None, "the counter is not a call");
        let v = serde_json::to_value(req.rest_body(&settings(), "f").unwrap().unwrap()).unwrap();
        assert_eq!(v["allowedProviders"][0], "sbid-idcard");
        assert_eq!(
            v["additionalParameters"]["sbid_idcard_qr_data"],
            "BANKIDF.74226FAAE0"
        );
        assert!(v["additionalParameters"].get("sbid_end_user_ip").is_none());
    }

    #[test]
    fn a_phone_ciba_provider_needs_to_hear_who_called_whom() {
        let phone = FlowSettings {
            ciba_phone_auth: true,
            ..settings()
        };
        let mut r = raw(Method::Ciba);
        r.login_hint = Some("anyone".into());
        assert!(FlowRequest::parse(&r, &settings()).is_ok());
        assert_eq!(
            FlowRequest::parse(&r, &phone).unwrap_err().field(),
            Some("call_initiator")
        );
        r.call_initiator = Some("user".into());
        match FlowRequest::parse(&r, &phone).unwrap() {
            FlowRequest::Ciba(auth) => assert_eq!(auth.phone_call, Some(CallInitiator::User)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn raw_input_deserialises_from_the_window() {
        let r: RawFlowInput =
            serde_json::from_str(r#"{"method":"nbid_mobile","phone":"99887766","extra":1}"#)
                .unwrap();
        assert_eq!(r.method, Method::NbidMobile);
        assert_eq!(r.birthdate, None);
    }
}
