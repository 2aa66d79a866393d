//! The audit format.

pub mod normalize;
pub mod parse;
