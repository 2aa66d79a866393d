//! The gvisor format.

pub mod normalize;
pub mod parse;
