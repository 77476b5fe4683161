//! Shared by the test binaries and the benchmark.

pub mod receiver;
