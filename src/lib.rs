//! honk finds what is unusual in logs.
//!
//! It learns a baseline of normal lines and scores a target against it. The
//! pipeline, one module per stage:
//!
//! read → parse → normalize → vectorize → index → report
//!
//! - [`read`]: open inputs (files, directories, stdin, `.gz`, `.zst`) and yield capped, lossily decoded lines.
//! - [`parse`]: detect the format and turn lines into records (one per line or per system call).
//! - [`normalize`]: keep the words that carry meaning, drop those that vary at random.
//! - [`formats`]: what is particular to each input format (strace, sysdig, gVisor, the audit log,
//!   syscall numbers, text), one folder each with its parser and normalizer, all registered in one
//!   list ([`formats::ALL`]); [`parse`] and [`normalize`] hold what the formats share.
//! - [`vectorize`]: hash the words into sparse L2-normalized vectors (the hashing trick).
//! - [`window`]: windows of a thread's consecutive events, scored besides single events.
//! - [`template`]: words that vary between known-good runs, replaced by `<*>` in keys.
//! - [`index`]: exact k-nearest-neighbour cosine search over the baseline.
//! - [`model`]: the baseline on disk.
//! - [`report`]: the sinks that print scored records for people and programs.
//!
//! [`pipeline`] wires the stages together for learning and scoring; [`cli`] is
//! the command line; [`demo`] makes the traces `honk demo` shows; [`inspect`] tallies what was parsed; [`trace`] runs a command under strace; [`eval`] computes detection metrics.
//! [`seccomp`] writes a seccomp allow-list profile of the system calls a baseline made;
//! [`write`] puts the files honk makes (models, reports, profiles) in place atomically.

pub mod cli;
pub mod demo;
pub mod eval;
pub mod formats;
pub mod index;
pub mod inspect;
pub mod model;
pub mod normalize;
pub mod parse;
pub mod pipeline;
pub mod read;
pub mod report;
pub mod seccomp;
pub mod template;
#[cfg(test)]
mod testing;
pub mod trace;
pub mod vectorize;
pub mod window;
pub mod write;
