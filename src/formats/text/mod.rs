//! The text format.

pub mod normalize;
pub mod parse;
