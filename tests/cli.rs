//! CLI black-box tests (being built).
