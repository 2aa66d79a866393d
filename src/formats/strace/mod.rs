//! The strace format.

pub mod normalize;
pub mod parse;
