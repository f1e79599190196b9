//! A local Signicat for tests and Training mode (being built).
