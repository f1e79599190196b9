//! The phone-call rules (BankID Norge's Safe Conversation rules; Swedish BankID's fraud warning):
//! within one call, an order may be sent again to the same customer at most twice, each time only
//! after staff confirm the customer wants to retry, and never after the customer said in BankID
//! that they are not in a call with us. The desk counts per customer, in memory.
//!
//! The desk cannot see the phone system, so "one call" is decided here: attempts for the same
//! customer less than [`CALL_GAP`] apart belong to one call, and a verified identity ends it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::flow::{FlowEvent, USER_DECLINED_CALL};
use crate::{Error, Result};

/// Attempts for one customer less than this apart are one call [decided].
pub const CALL_GAP: Duration = Duration::from_secs(20 * 60);
/// The first send and two retries.
pub const MAX_RETRIES: u32 = 2;

/// The field of a retry staff may confirm: the window asks them (the CLI cannot).
const FIELD: &str = "retry_confirmed";
/// The field of a retry the rules refuse, whatever staff say.
const REFUSED: &str = "retry";

#[derive(Debug, Clone)]
struct Call {
    /// Orders sent in this call so far.
    sent: u32,
    last: Instant,
    declined: bool,
}

/// Per-customer attempts of the running desk.
#[derive(Debug, Default)]
pub struct CallLedger {
    calls: Mutex<HashMap<String, Call>>,
}

impl CallLedger {
    /// Whether another order may go to `key` now. `Err` says why, with the count, so staff can
    /// tell the customer: field `retry_confirmed` when staff's confirmation would allow it, `retry`
    /// when the rules refuse it.
    pub fn check(&self, key: &str, retry_confirmed: bool) -> Result<()> {
        self.check_at(key, retry_confirmed, Instant::now())
    }

    fn check_at(&self, key: &str, retry_confirmed: bool, now: Instant) -> Result<()> {
        let calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let Some(call) = calls
            .get(key)
            .filter(|c| now.duration_since(c.last) < CALL_GAP)
        else {
            return Ok(());
        };
        if call.declined {
            return Err(Error::invalid_input(
                REFUSED,
                "the customer said in BankID that they are not in a call with us: do not send again; end the call and follow your fraud routine",
            ));
        }
        let retry = call.sent; // the retry this would be: 1 after one send, 2 after two
        if retry > MAX_RETRIES {
            return Err(Error::invalid_input(
                REFUSED,
                format!("{} retries in this call already, the most BankID allows: no more orders to this customer in this call", MAX_RETRIES),
            ));
        }
        if !retry_confirmed {
            return Err(Error::invalid_input(
                FIELD,
                format!("this would be retry {retry} of {MAX_RETRIES} for this customer in this call: confirm that the customer wants to try again"),
            ));
        }
        Ok(())
    }

    /// An order went out to `key`.
    pub fn sent(&self, key: &str) {
        self.sent_at(key, Instant::now());
    }

    fn sent_at(&self, key: &str, now: Instant) {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let call = calls
            .entry(key.to_string())
            .and_modify(|c| {
                if now.duration_since(c.last) >= CALL_GAP {
                    *c = Call {
                        sent: 0,
                        last: now,
                        declined: false,
                    };
                }
            })
            .or_insert(Call {
                sent: 0,
                last: now,
                declined: false,
            });
        call.sent += 1;
        call.last = now;
    }

    /// The order to `key` ended: a verified identity (or signature) ends the call's count; a
    /// declined call blocks further orders in it.
    pub fn finished(&self, key: &str, terminal: &FlowEvent) {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        match terminal {
            FlowEvent::Succeeded { .. } | FlowEvent::Signed { .. } => {
                calls.remove(key);
            }
            FlowEvent::Failed { code, .. } if code == USER_DECLINED_CALL => {
                if let Some(c) = calls.get_mut(key) {
                    c.declined = true;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Subject;

    fn field(r: Result<()>) -> Option<String> {
        r.err().and_then(|e| e.field().map(str::to_string))
    }

    #[test]
    fn two_retries_each_confirmed_then_no_more() {
        let l = CallLedger::default();
        let t0 = Instant::now();
        assert!(
            l.check_at("NO:1", false, t0).is_ok(),
            "the first send needs nothing"
        );
        l.sent_at("NO:1", t0);
        let e = l.check_at("NO:1", false, t0).unwrap_err();
        assert!(e.to_string().contains("retry 1 of 2"), "{e}");
        assert!(l.check_at("NO:1", true, t0).is_ok());
        l.sent_at("NO:1", t0);
        assert!(l
            .check_at("NO:1", false, t0)
            .unwrap_err()
            .to_string()
            .contains("retry 2 of 2"));
        l.sent_at("NO:1", t0);
        let e = l.check_at("NO:1", true, t0).unwrap_err();
        assert_eq!(e.field(), Some(REFUSED));
        assert!(e.to_string().contains("no more orders"), "{e}");
        // Another customer, and the same one in a later call, start afresh.
        assert!(l.check_at("NO:2", false, t0).is_ok());
        assert!(l.check_at("NO:1", false, t0 + CALL_GAP).is_ok());
        l.sent_at("NO:1", t0 + CALL_GAP);
        assert!(l.check_at("NO:1", true, t0 + CALL_GAP).is_ok());
    }

    #[test]
    fn a_verified_customer_ends_the_count_and_a_declined_call_ends_the_retries() {
        let l = CallLedger::default();
        l.sent("SE:1");
        l.finished(
            "SE:1",
            &FlowEvent::Succeeded {
                subject: Subject::default(),
            },
        );
        assert!(l.check("SE:1", false).is_ok());
        l.sent("SE:1");
        l.finished(
            "SE:1",
            &FlowEvent::Failed {
                code: USER_DECLINED_CALL.into(),
                message: String::new(),
            },
        );
        let e = l.check("SE:1", true).unwrap_err();
        assert!(e.to_string().contains("fraud routine"), "{e}");
        assert_eq!(field(l.check("SE:1", true)).as_deref(), Some(REFUSED));
        assert_eq!(field(l.check("NO:9", false)), None, "another customer");
    }
}
