//! Formats: one folder per input format, holding its parser and its normalizer.

pub mod audit;
pub mod gvisor;
pub mod numbers;
pub mod strace;
pub mod sysdig;
pub mod text;
