//! The one event vocabulary every flow speaks. The window receives `FlowUpdate`s; the CLI prints
//! them as JSON Lines. Keep the wire format stable: tags and fields are part of the CLI contract.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Our id for one flow (also the vault's transaction id and Signicat's `externalReference`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FlowId(String);

impl FlowId {
    pub fn new() -> Self {
        FlowId(uuid::Uuid::new_v4().to_string())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for FlowId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for FlowId {
    fn from(s: String) -> Self {
        FlowId(s)
    }
}

/// Every way ID Desk can identify a customer or collect a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Norwegian BankID, Safe Conversation (REST, `nin` → binding message).
    NbidSafeConversation,
    /// Norwegian BankID on mobile (REST, phone + date of birth).
    NbidMobile,
    /// Swedish BankID headless, animated QR (REST).
    SbidQr,
    /// Swedish BankID headless, app launch on this device (REST).
    SbidAppLaunch,
    /// Swedish BankID Phone (REST `sbid_flow: PHONE`): the order goes to the app of the
    /// personnummer staff typed; the customer confirms they are in a call with us.
    SbidPhone,
    /// Swedish BankID Digital ID card at the counter (REST provider `sbid-idcard`): staff scan the
    /// QR code the customer shows in the BankID app.
    #[serde(rename = "sbid_idcard")]
    SbidIdCard,
    /// Norwegian BankID on mobile, legacy OIDC `nbid-inapp`.
    NbidInapp,
    /// Swedish BankID, legacy OIDC `sbid-inapp`.
    SbidInapp,
    /// Consent Signature, Norwegian BankID, legacy OIDC `nbid-inapp-sign`.
    NbidSign,
    /// Consent Signature, Swedish BankID, legacy OIDC `sbid-inapp-sign`.
    SbidSign,
    /// OpenID Connect CIBA, poll mode: any provider that offers it (BankID through Signicat,
    /// BankID Norge's OIDC, Criipto...); a login hint → binding message.
    Ciba,
    /// REST redirect flow for an eID without a headless flow (MitID, FTN, ...): the customer
    /// completes it in a sandboxed window on this desk.
    Redirect,
    /// Sign API v2, Swedish BankID Phone signing: the text goes to the app of the personnummer
    /// staff typed; no browser anywhere.
    SignSbidPhone,
    /// Sign API v2, a signing session the customer opens by link (`signatureUrl`) on their own
    /// phone or in the desk's sandboxed window: Norwegian BankID PKI signing or any eID offered.
    SignLink,
}

impl Method {
    /// Every method, in declaration order (policy files name them by [`Method::as_str`]).
    pub const ALL: [Method; 14] = [
        Method::NbidSafeConversation,
        Method::NbidMobile,
        Method::SbidQr,
        Method::SbidAppLaunch,
        Method::SbidPhone,
        Method::SbidIdCard,
        Method::NbidInapp,
        Method::SbidInapp,
        Method::NbidSign,
        Method::SbidSign,
        Method::Ciba,
        Method::Redirect,
        Method::SignSbidPhone,
        Method::SignLink,
    ];

    /// The method named `name` as [`Method::as_str`] spells it.
    pub fn parse(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == name.trim())
    }

    pub fn is_signature(self) -> bool {
        matches!(
            self,
            Method::NbidSign | Method::SbidSign | Method::SignSbidPhone | Method::SignLink
        )
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Method::NbidSafeConversation => "nbid_safe_conversation",
            Method::NbidMobile => "nbid_mobile",
            Method::SbidQr => "sbid_qr",
            Method::SbidAppLaunch => "sbid_app_launch",
            Method::SbidPhone => "sbid_phone",
            Method::SbidIdCard => "sbid_idcard",
            Method::NbidInapp => "nbid_inapp",
            Method::SbidInapp => "sbid_inapp",
            Method::NbidSign => "nbid_sign",
            Method::SbidSign => "sbid_sign",
            Method::Ciba => "ciba",
            Method::Redirect => "redirect",
            Method::SignSbidPhone => "sign_sbid_phone",
            Method::SignLink => "sign_link",
        }
    }
}

/// The verified person. `nin` is the full number (the staff asked for it); logs and the vault only
/// ever see `nin_masked`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nin_masked: Option<String>,
    /// `NO` or `SE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Level of assurance: `low`, `substantial`, `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loa: Option<String>,
    /// Swedish BankID's risk indication (`low`, `moderate`, `high`) when the profile asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<String>,
    /// A Sign API v2 signature whose answer names nobody: the masked number the session was
    /// locked to (`validations`, which Signicat enforces). It says what was asked, not who
    /// signed, so `nin` stays empty (review N-12; `sign/PROTOCOL.md` D5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_to: Option<String>,
}

/// Who staff asked for, as far as the request says: the verified person must be them (issue 23).
/// Numbers are compared by their digits; a birth date as `YYYY-MM-DD`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectedIdentity {
    pub nin: Option<String>,
    pub date_of_birth: Option<String>,
}

impl ExpectedIdentity {
    pub fn is_empty(&self) -> bool {
        self.nin.is_none() && self.date_of_birth.is_none()
    }

    /// `Err` with a reason that names no full number. The number decides when both sides have
    /// one; otherwise the birth date; a subject that carries neither cannot be the person asked
    /// for, so it fails too.
    pub fn check(&self, subject: &Subject) -> Result<(), String> {
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        if let (Some(want), Some(got)) = (&self.nin, &subject.nin) {
            return if digits(want) == digits(got) {
                Ok(())
            } else {
                Err(format!(
                    "the verified person is {}, not {}",
                    crate::identity::mask_nin(&digits(got)),
                    crate::identity::mask_nin(&digits(want))
                ))
            };
        }
        if let (Some(want), Some(got)) = (&self.date_of_birth, &subject.date_of_birth) {
            return if want == got {
                Ok(())
            } else {
                Err("the verified person has another date of birth".to_string())
            };
        }
        if self.is_empty() {
            Ok(())
        } else {
            Err("the answer names no identity number or date of birth to compare".to_string())
        }
    }
}

/// Where the signed evidence (SDO) was durably stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SdoRef {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// What a piece of signed evidence is. The wire names are part of the CLI contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A PDF with the signature embedded (Sign API v2 `PADES`).
    Pades,
    /// An XML signature over the document (Sign API v2 `XADES`).
    Xades,
    /// Sign API v2's `PADES_CONTAINER` package: every signed document in one PDF.
    PadesContainer,
    /// Signicat's long-term-validation signed document object (legacy Consent Signature, or the
    /// Sign API v2 `LTV_SDO` package).
    LtvSdo,
    /// Any other result document Signicat returns, kept as it came.
    Document,
}

impl EvidenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Pades => "pades",
            EvidenceKind::Xades => "xades",
            EvidenceKind::PadesContainer => "pades_container",
            EvidenceKind::LtvSdo => "ltv_sdo",
            EvidenceKind::Document => "document",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            EvidenceKind::Pades,
            EvidenceKind::Xades,
            EvidenceKind::PadesContainer,
            EvidenceKind::LtvSdo,
            EvidenceKind::Document,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One piece of signed evidence, durably in the vault: where, what, and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub kind: EvidenceKind,
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

impl Evidence {
    /// The legacy Consent Signature's one piece of evidence, its SDO.
    pub fn ltv_sdo(sdo: SdoRef) -> Self {
        Evidence {
            kind: EvidenceKind::LtvSdo,
            path: sdo.path,
            sha256: sdo.sha256,
            bytes: sdo.bytes,
        }
    }
}

/// One step of a flow. Serialised with `"type"` as the tag, snake_case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FlowEvent {
    Started {
        flow_id: FlowId,
        method: Method,
        /// RFC 3339; absent when Signicat does not say (legacy OIDC).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<String>,
    },
    /// Safe Conversation: the words the customer must pick in the BankID app.
    BindingMessage {
        text: String,
    },
    /// Swedish BankID: the current animated QR payload (changes every second).
    Qr {
        data: String,
    },
    /// Swedish BankID app launch: the link that opens BankID on this device.
    AppLaunch {
        url: String,
    },
    /// Redirect flow: the provider's page (Signicat's `authenticationUrl`) to open in the sandboxed
    /// window, where the customer completes it.
    Redirect {
        url: String,
    },
    /// A non-terminal status with its staff-language message. `status` keeps the raw code.
    Progress {
        status: String,
        message: String,
    },
    Succeeded {
        subject: Subject,
    },
    /// Sign API v2 signing by link: the session's `signatureUrl`, shown as a QR code for the
    /// customer's own phone, or opened in the desk's sandboxed window.
    SignatureUrl {
        url: String,
    },
    /// Every piece of evidence is durably in the vault before this is emitted.
    Signed {
        subject: Subject,
        evidence: Vec<Evidence>,
    },
    Failed {
        code: String,
        message: String,
    },
    Cancelled,
    Expired,
}

impl FlowEvent {
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            FlowEvent::Succeeded { .. }
                | FlowEvent::Signed { .. }
                | FlowEvent::Failed { .. }
                | FlowEvent::Cancelled
                | FlowEvent::Expired
        )
    }

    pub fn failed(err: &crate::Error) -> Self {
        FlowEvent::Failed {
            code: err.code().to_string(),
            message: err.to_string(),
        }
    }
}

/// A `FlowEvent` addressed to one flow: what the window receives on `flow://event` and the CLI
/// prints, `{"flow_id": .., "type": .., ...}`. Serialised by hand: `started` carries its own
/// `flow_id`, and a derived `#[serde(flatten)]` would write that key twice.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowUpdate {
    pub flow_id: FlowId,
    pub event: FlowEvent,
}

impl Serialize for FlowUpdate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeMap};
        let fields = match serde_json::to_value(&self.event).map_err(S::Error::custom)? {
            serde_json::Value::Object(m) => m,
            _ => return Err(S::Error::custom("a flow event serialises to an object")),
        };
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("flow_id", &self.flow_id)?;
        for (k, v) in fields.iter().filter(|(k, _)| k.as_str() != "flow_id") {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for FlowUpdate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = serde_json::Value::deserialize(d)?;
        let flow_id = value
            .get("flow_id")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| D::Error::missing_field("flow_id"))?;
        let event = FlowEvent::deserialize(&value).map_err(D::Error::custom)?;
        Ok(FlowUpdate {
            flow_id: FlowId::from(flow_id.to_string()),
            event,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format_is_tagged_snake_case() {
        let e = FlowEvent::BindingMessage {
            text: "Snedig redning".into(),
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap_or_default(),
            r#"{"type":"binding_message","text":"Snedig redning"}"#
        );
        let u = FlowUpdate {
            flow_id: FlowId::from("f1".to_string()),
            event: FlowEvent::Cancelled,
        };
        assert_eq!(
            serde_json::to_string(&u).unwrap_or_default(),
            r#"{"flow_id":"f1","type":"cancelled"}"#
        );
        let back: FlowUpdate =
            serde_json::from_str(r#"{"flow_id":"f1","type":"expired"}"#).unwrap_or(u);
        assert_eq!(back.event, FlowEvent::Expired);
    }

    #[test]
    fn the_person_asked_for_by_number_or_birth_date() {
        let asked = ExpectedIdentity {
            nin: Some("29124815345".into()),
            date_of_birth: Some("1948-12-29".into()),
        };
        let subject = |nin: Option<&str>, dob: Option<&str>| Subject {
            nin: nin.map(str::to_string),
            date_of_birth: dob.map(str::to_string),
            ..Subject::default()
        };
        assert!(asked.check(&subject(Some("291248 15345"), None)).is_ok());
        let why = asked
            .check(&subject(Some("01100844350"), Some("1948-12-29")))
            .unwrap_err();
        assert!(
            !why.contains("01100844350") && !why.contains("29124815345"),
            "{why}"
        );
        // No number in the answer: the birth date decides; nothing at all fails.
        assert!(asked.check(&subject(None, Some("1948-12-29"))).is_ok());
        assert!(asked.check(&subject(None, Some("1990-01-01"))).is_err());
        assert!(asked.check(&subject(None, None)).is_err());
        // Nothing asked (an open QR, a redirect): anyone.
        assert!(ExpectedIdentity::default()
            .check(&subject(None, None))
            .is_ok());
    }

    #[test]
    fn started_names_its_flow_once() {
        let id = FlowId::from("f2".to_string());
        let u = FlowUpdate {
            flow_id: id.clone(),
            event: FlowEvent::Started {
                flow_id: id,
                method: Method::SbidQr,
                expires_at: None,
            },
        };
        let text = serde_json::to_string(&u).unwrap();
        assert_eq!(text.matches("\"flow_id\"").count(), 1, "{text}");
        let back: FlowUpdate = serde_json::from_str(&text).unwrap();
        assert_eq!(back, u);
    }
}
