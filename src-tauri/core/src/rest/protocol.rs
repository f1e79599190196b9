//! The Authentication REST API names that Signicat's public documentation does not settle, in one
//! place: Swedish BankID Phone, the Digital ID card, and how their outcomes read. Each is a
//! decision recorded in `rest/PROTOCOL.md` (the reference `signicat-api.md` is read-only in the
//! developers' checkout); change them here, after checking with a Signicat sandbox account.

use super::model::{CreateSession, Session};
use crate::flow::{CallInitiator, USER_DECLINED_CALL};
use crate::identity::IntentionText;
use crate::messages::BankIdCode;

/// R1: the Phone mechanism of headless `sbid` (`sbid_flow` beside `QR` and `APP_LAUNCH`).
pub const SBID_FLOW_PHONE: &str = "PHONE";
/// R1: who called whom, with BankID's own values and casing (`user`, `RP`).
pub const SBID_CALL_INITIATOR: &str = "sbid_call_initiator";
/// R2: documented by Signicat: base64 text and its format.
pub const SBID_INTENTION_TEXT: &str = "sbid_intention_text";
pub const SBID_INTENTION_TEXT_FORMAT: &str = "sbid_intention_text_format";
pub const SIMPLE_MARKDOWN_V1: &str = "simpleMarkdownV1";
/// R3: extra control (the customer taps their passport or ID card on the phone).
pub const SBID_REQUIREMENT_MRTD: &str = "sbid_requirement_mrtd";
/// R4: BankID's risk indication, asked for as a flag and returned as a subject attribute.
pub const SBID_RETURN_RISK: &str = "sbid_return_risk";
pub const SBID_RISK_ATTRIBUTE: &str = "sbidRisk";
/// R5: the Digital ID card provider and its one parameter (documented by Signicat).
pub const SBID_IDCARD_PROVIDER: &str = "sbid-idcard";
pub const SBID_IDCARD_QR_DATA: &str = "sbid_idcard_qr_data";
/// R6: BankID's hint code while the order is open, when Signicat passes it on.
pub const IDP_HINT_CODE: &str = "hintCode";

/// The `failed` code of an ID card whose QR code expired before it was checked: staff ask the
/// customer to show a fresh one.
pub const IDCARD_EXPIRED: &str = "idcard_expired";
/// The `failed` code of an ID card payload BankID could not read.
pub const IDCARD_INVALID: &str = "idcard_invalid";

/// What the profile adds to every Swedish BankID Phone order (profile `[sbid_phone]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SbidPhoneOptions {
    /// Ask for the extra control of the customer's ID document (BankID, since May 2025 also in
    /// phone calls).
    pub extra_control: bool,
    /// Ask BankID for its risk indication, shown on the result card.
    pub return_risk: bool,
}

/// The Phone parameters of a headless `sbid` create body.
pub(crate) fn sbid_phone(
    body: &mut CreateSession,
    call: CallInitiator,
    intention: Option<&IntentionText>,
    options: &SbidPhoneOptions,
) {
    let p = &mut body.additional_parameters;
    p.insert("sbid_flow".into(), SBID_FLOW_PHONE.into());
    p.insert(SBID_CALL_INITIATOR.into(), call.wire().into());
    if let Some(text) = intention {
        p.insert(SBID_INTENTION_TEXT.into(), text.wire());
        p.insert(SBID_INTENTION_TEXT_FORMAT.into(), SIMPLE_MARKDOWN_V1.into());
    }
    if options.extra_control {
        p.insert(SBID_REQUIREMENT_MRTD.into(), "true".into());
    }
    if options.return_risk {
        p.insert(SBID_RETURN_RISK.into(), "true".into());
    }
}

/// BankID's hint code of an open session (R6), when there is one.
pub(crate) fn hint_code(s: &Session) -> Option<BankIdCode> {
    s.idp_str(IDP_HINT_CODE).map(BankIdCode::parse)
}

/// The desk's own code for a provider's `error.code` where staff must act differently (R7);
/// other codes are kept as they came.
pub(crate) fn failed_code(provider_code: &str) -> Option<&'static str> {
    match provider_code {
        c if BankIdCode::parse(c) == BankIdCode::UserDeclinedCall => Some(USER_DECLINED_CALL),
        "idCardQrExpired" => Some(IDCARD_EXPIRED),
        "invalidQrData" => Some(IDCARD_INVALID),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_codes_that_need_their_own_guidance_are_renamed() {
        assert_eq!(failed_code("userDeclinedCall"), Some(USER_DECLINED_CALL));
        assert_eq!(failed_code("idCardQrExpired"), Some(IDCARD_EXPIRED));
        assert_eq!(failed_code("invalidQrData"), Some(IDCARD_INVALID));
        assert_eq!(failed_code("certificateErr"), None);
    }

    #[test]
    fn a_phone_order_names_who_called_whom_in_bankid_casing() {
        let mut b = CreateSession::headless("sbid", &["name"]);
        let text = IntentionText::parse("Test intention").unwrap();
        sbid_phone(
            &mut b,
            CallInitiator::Rp,
            Some(&text),
            &SbidPhoneOptions {
                extra_control: true,
                return_risk: false,
            },
        );
        let v = serde_json::to_value(&b).unwrap();
        let p = &v["additionalParameters"];
        assert_eq!(p["sbid_flow"], "PHONE");
        assert_eq!(p["sbid_call_initiator"], "RP");
        assert_eq!(p["sbid_intention_text"], "VGVzdCBpbnRlbnRpb24=");
        assert_eq!(p["sbid_intention_text_format"], "simpleMarkdownV1");
        assert_eq!(p["sbid_requirement_mrtd"], "true");
        assert!(p.get("sbid_return_risk").is_none());
        assert!(
            p.get("sbid_end_user_ip").is_none(),
            "BankID Phone has no end-user IP"
        );
    }
}
