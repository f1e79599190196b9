//! What the customer may see of a flow, and nothing else. A `Screen` is built from a `FlowEvent`
//! by `Screen::after`: the type has no field for a name, an identity number, a staff message or an
//! error code, so the customer display cannot show one even by mistake.

use serde::Serialize;

use crate::flow::{FlowEvent, Method};

/// One screen of the customer display, serialised with `"type"` as the tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Screen {
    /// No flow to show: the merchant's name and a welcome.
    Idle,
    /// A flow has started; the customer follows their BankID app (nothing to read or scan here).
    OpenApp,
    /// Safe Conversation: the words the customer must pick in the BankID app.
    Words { text: String },
    /// Swedish BankID: the current animated QR payload and its locally rendered SVG.
    Qr { data: String, svg: String },
    /// Sign API v2 by link: the signing page's address, for the customer's phone camera.
    SignQr { data: String, svg: String },
    /// Succeeded or signed.
    ThankYou,
    /// Failed, expired or cancelled: a calm invitation to try again, never the reason.
    TryAgain,
}

impl Screen {
    /// The screen after `event`, or `None` when the event changes nothing the customer sees
    /// (progress texts are for staff).
    pub fn after(event: &FlowEvent) -> Option<Screen> {
        Some(match event {
            // A redirect flow happens in its own window, with no BankID app: "open the BankID
            // app" would mislead the customer, so the display stays calm until the outcome.
            FlowEvent::Started {
                method: Method::Redirect,
                ..
            } => Screen::Idle,
            FlowEvent::Started { .. } | FlowEvent::AppLaunch { .. } => Screen::OpenApp,
            FlowEvent::BindingMessage { text } => Screen::Words { text: text.clone() },
            // A payload our renderer refuses is left off the display rather than shown broken;
            // the staff window still has it.
            FlowEvent::Qr { data } => Screen::Qr {
                svg: crate::desk::qr::svg(data).ok()?,
                data: data.clone(),
            },
            // Signing by link: the customer scans the session's address with their own phone.
            FlowEvent::SignatureUrl { url } => Screen::SignQr {
                svg: crate::desk::qr::svg(url).ok()?,
                data: url.clone(),
            },
            // The customer completes a redirect flow in its own window, not on this display.
            FlowEvent::Progress { .. } | FlowEvent::Redirect { .. } => return None,
            FlowEvent::Succeeded { .. } | FlowEvent::Signed { .. } => Screen::ThankYou,
            FlowEvent::Failed { .. } | FlowEvent::Expired | FlowEvent::Cancelled => {
                Screen::TryAgain
            }
        })
    }

    /// A finished flow's last screen stays up until another flow is shown.
    pub fn is_final(&self) -> bool {
        matches!(self, Screen::ThankYou | Screen::TryAgain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Evidence, FlowId, Method, SdoRef, Subject};

    fn subject() -> Subject {
        Subject {
            name: "Kari Nordmann".into(),
            nin: Some("29124815345".into()),
            nin_masked: Some("2912*******".into()),
            date_of_birth: Some("1948-12-29".into()),
            ..Subject::default()
        }
    }

    #[test]
    fn a_redirect_flow_never_asks_for_the_bankid_app() {
        let started = FlowEvent::Started {
            flow_id: FlowId::new(),
            method: Method::Redirect,
            expires_at: None,
        };
        assert_eq!(Screen::after(&started), Some(Screen::Idle));
        let page = FlowEvent::Redirect {
            url: "https://acme.app.signicat.com/auth/x".into(),
        };
        assert_eq!(Screen::after(&page), None);
        assert_eq!(
            Screen::after(&FlowEvent::Succeeded { subject: subject() }),
            Some(Screen::ThankYou)
        );
    }

    #[test]
    fn no_screen_carries_the_subject_or_a_staff_message() {
        let events = [
            FlowEvent::Started {
                flow_id: FlowId::new(),
                method: Method::NbidSafeConversation,
                expires_at: Some("2026-12-03T10:00:00Z".into()),
            },
            FlowEvent::Succeeded { subject: subject() },
            FlowEvent::Signed {
                subject: subject(),
                evidence: vec![Evidence::ltv_sdo(SdoRef {
                    path: "/tmp/29124815345.xml".into(),
                    sha256: "00".into(),
                    bytes: 1,
                })],
            },
            FlowEvent::Failed {
                code: "certificateErr".into(),
                message: "Kari Nordmann 29124815345: certificate revoked".into(),
            },
            FlowEvent::AppLaunch {
                url: "bankid:///?autostarttoken=secret-ish".into(),
            },
        ];
        for event in &events {
            let screen = Screen::after(event).unwrap();
            let json = serde_json::to_string(&screen).unwrap();
            for leak in [
                "29124815345",
                "291248",
                "Kari",
                "certificate",
                "autostart",
                "1948",
            ] {
                assert!(!json.contains(leak), "{event:?} leaked {leak}: {json}");
            }
        }
    }

    #[test]
    fn maps_each_step_to_what_the_customer_must_do() {
        let words = FlowEvent::BindingMessage {
            text: "Snedig redning".into(),
        };
        assert_eq!(
            Screen::after(&words),
            Some(Screen::Words {
                text: "Snedig redning".into()
            })
        );
        let qr = Screen::after(&FlowEvent::Qr {
            data: "bankid.67df3917-fa0d-44e5-b327-edcc928297f8.0.dc69".into(),
        });
        assert!(
            matches!(&qr, Some(Screen::Qr { data, svg }) if data.starts_with("bankid.") && svg.starts_with("<svg")),
            "{qr:?}"
        );
        let progress = FlowEvent::Progress {
            status: "OUTSTANDING_TRANSACTION".into(),
            message: "Waiting for the customer".into(),
        };
        assert_eq!(Screen::after(&progress), None);
        assert_eq!(Screen::after(&FlowEvent::Expired), Some(Screen::TryAgain));
        assert_eq!(Screen::after(&FlowEvent::Cancelled), Some(Screen::TryAgain));
        assert!(Screen::TryAgain.is_final() && !Screen::OpenApp.is_final());
    }
}
