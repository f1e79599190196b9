//! Shared by the benchmark binaries: identities for interactive customers, percentiles,
//! `/proc` readings and the simulator's connection details.

pub mod nins;
pub mod numbers;
pub mod procfs;
pub mod sim_info;
