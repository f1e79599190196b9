//! Methods production no longer runs, in one place: the window, `profiles check`, the CLI and
//! the request parser all read this table, so a retired method is never shown as usable anywhere.
//! Facts and sources: `../shared/reference/signicat-2026.md` §2.1, §3.1, §4.

use super::Method;

/// Why a method cannot succeed for a real customer any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retirement {
    /// The day production stopped (`YYYY-MM-DD`).
    pub since: &'static str,
    /// What stopped, in staff's words (English; the window has its own texts per language).
    pub what: &'static str,
    /// The method to use instead.
    pub instead: &'static [Method],
}

impl Method {
    /// `Some` when production no longer runs this method. Such a method is offered only when the
    /// profile sets `legacy_methods = true` (Training does, in a "Legacy" group, for practice).
    pub fn retirement(self) -> Option<Retirement> {
        const BIM_OFF: &str = "2024-09-01";
        const SECURE_START: &str = "2024-05-01";
        match self {
            Method::NbidMobile | Method::NbidInapp => Some(Retirement {
                since: BIM_OFF,
                what: "BankID on mobile was switched off by BankID Norge",
                instead: &[Method::NbidSafeConversation],
            }),
            Method::NbidSign => Some(Retirement {
                since: BIM_OFF,
                what: "the Norwegian Consent Signature runs on BankID on mobile, switched off by BankID Norge",
                instead: &[Method::SignLink],
            }),
            // Secure Start: a personal-number start without animated QR is refused by BankID; the
            // legacy inapp answer carries no QR data, so cross-device use cannot start.
            Method::SbidInapp => Some(Retirement {
                since: SECURE_START,
                what: "Swedish BankID Secure Start ended starts by personal number outside the Phone flow",
                instead: &[Method::SbidPhone, Method::SbidQr],
            }),
            Method::SbidSign => Some(Retirement {
                since: SECURE_START,
                what: "Swedish BankID Secure Start ended starts by personal number outside the Phone flow",
                instead: &[Method::SignSbidPhone],
            }),
            _ => None,
        }
    }

    /// One line for `profiles check` and the CLI: "retired in production since …; use … instead".
    pub fn retirement_note(self) -> Option<String> {
        let r = self.retirement()?;
        let instead: Vec<&str> = r.instead.iter().map(|m| m.as_str()).collect();
        Some(format!(
            "retired in production since {} ({}); use {} instead",
            r.since,
            r.what,
            instead.join(" or ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retired_methods_name_their_date_and_a_usable_successor() {
        let retired = [
            Method::NbidMobile,
            Method::NbidInapp,
            Method::NbidSign,
            Method::SbidInapp,
            Method::SbidSign,
        ];
        for m in retired {
            let r = m.retirement().expect("retired");
            assert!(r.since.starts_with("2024-"), "{m:?}");
            for successor in r.instead {
                assert!(successor.retirement().is_none(), "{m:?} → {successor:?}");
            }
        }
        for m in [
            Method::NbidSafeConversation,
            Method::SbidQr,
            Method::SbidPhone,
            Method::SbidIdCard,
            Method::Ciba,
            Method::SignSbidPhone,
        ] {
            assert_eq!(m.retirement(), None, "{m:?}");
        }
        assert!(Method::NbidMobile
            .retirement_note()
            .unwrap()
            .contains("since 2024-09-01"));
    }
}
