//! The Sign API v2 family (`PROTOCOL.md` beside this file): consent signatures that production
//! accepts today. Swedish BankID Phone signing (no browser), and signing by link (`signatureUrl`)
//! with Norwegian BankID PKI signing or any eID the profile offers. `order` validates what staff
//! ask for, `model` holds the wire types, `client` the calls with their retry rules and body caps,
//! `flow` the runner's job from upload to evidence.

mod client;
mod document_check;
mod expectation;
mod flow;
pub mod model;
mod order;

pub use client::{SignClient, SignConfig, MAX_JSON_BYTES};
pub use expectation::{ExpectedSigner, SignExpectation};
pub use flow::{recover, Recovered, SignJob};
pub use order::{
    CallInitiator, LinkProvider, PdfDocument, SignHow, SignOrder, SignSetups, SignerNin,
};
