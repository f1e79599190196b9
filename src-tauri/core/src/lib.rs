//! The ID Desk flow engine. Knows nothing of Tauri: the app, the CLI and the tests drive it the same way.

pub mod archive;
pub mod ciba;
pub mod desk;
pub mod display;
pub mod error;
pub mod flow;
pub mod http_body;
pub mod identity;
pub mod logging;
pub mod managed_trust;
pub mod messages;
pub mod net;
pub mod oidc;
pub mod policy;
mod private_fs;
pub use private_fs::owner_only_by_default;
pub mod profile;
pub mod rest;
pub mod runner;
pub mod secrets;
mod settings_file;
pub mod sign;
pub mod vault;

pub use error::{Error, Result};
