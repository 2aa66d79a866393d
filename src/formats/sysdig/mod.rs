//! The sysdig format.

pub mod normalize;
pub mod parse;
