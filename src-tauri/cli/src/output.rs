//! stdout is the machine contract: JSON Lines only, one object per line, flushed at once so a
//! reading script sees each event as it happens. Everything for humans goes to stderr via tracing.

use std::io::Write;

use id_desk_core::Error;
use serde::Serialize;
use serde_json::Value;

/// Exit codes of the contract.
pub mod exit {
    pub const OK: i32 = 0;
    pub const OTHER: i32 = 1;
    pub const INVALID: i32 = 2;
}

/// Prints one JSON line. A closed stdout (the reader went away) is not worth a panic.
pub fn line<T: Serialize>(value: &T) {
    let Ok(text) = serde_json::to_string(value) else {
        tracing::error!("an output line could not be serialised");
        return;
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

/// `value` with `"type": kind` first, for non-flow output rows.
pub fn typed<T: Serialize>(kind: &str, value: &T) -> Value {
    let mut row = serde_json::Map::new();
    row.insert("type".into(), Value::String(kind.into()));
    if let Ok(Value::Object(fields)) = serde_json::to_value(value) {
        row.extend(fields);
    }
    Value::Object(row)
}

/// A `failed` line for an error that ended a command (`code`, `message`, `field` when known).
pub fn failed(err: &Error) -> i32 {
    line(&typed("failed", err));
    exit_code_of(err)
}

/// Input or configuration problems (nothing was sent) exit 2; everything else 1.
pub fn exit_code_of(err: &Error) -> i32 {
    match err.code() {
        "invalid_input"
        | "invalid_config"
        | "untrusted_config"
        | "secret_missing"
        | "not_allowed_by_policy" => exit::INVALID,
        _ => exit::OTHER,
    }
}

/// A `failed` line for problems found before the engine is involved (bad arguments).
pub fn invalid(field: &str, reason: &str) -> i32 {
    failed(&Error::invalid_input(field, reason))
}

pub fn ok_row(kind: &str, fields: Value) {
    line(&typed(kind, &fields));
}
