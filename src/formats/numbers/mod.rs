//! The numbers format.

pub mod parse;
