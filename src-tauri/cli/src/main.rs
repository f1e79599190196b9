//! id-desk-cli (being built).
fn main() {}
