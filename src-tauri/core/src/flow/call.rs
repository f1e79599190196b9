//! Who called whom: the fact every phone method turns on. BankID's Phone flow asks the customer to
//! confirm the call and names who started it; BankID Norge allows Safe Conversation only when the
//! customer called in. Staff must say which; there is never a default.

use crate::{Error, Result};

/// The customer said in the BankID app that they are not in a call with us (`userDeclinedCall`):
/// its own outcome, because staff must not retry and must follow their fraud routine. Exit 3.
pub const USER_DECLINED_CALL: &str = "user_declined_call";

/// Who called whom on a phone order. Staff must say; there is no default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallInitiator {
    /// The customer called us.
    User,
    /// We called the customer.
    Rp,
}

impl CallInitiator {
    /// `user` or `rp` (any case), as the window and the CLI send it.
    pub fn parse(raw: &str) -> Result<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "user" => Ok(CallInitiator::User),
            "rp" => Ok(CallInitiator::Rp),
            _ => Err(Error::invalid_input(
                "call_initiator",
                "say who called whom: user (the customer called us) or rp (we called the customer)",
            )),
        }
    }

    /// BankID's casing (`user`, `RP`): it matters.
    pub fn wire(self) -> &'static str {
        match self {
            CallInitiator::User => "user",
            CallInitiator::Rp => "RP",
        }
    }
}
