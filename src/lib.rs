//! honk finds what is unusual in logs.
//!
//! It learns a baseline of normal records from known-good logs and scores a
//! target against it: each record is normalized, hashed into a sparse vector
//! and compared with its nearest neighbours in the baseline. The pipeline, one
//! module per stage:
//!
//! read → parse → normalize → vectorize → index → report
//!
//! - [`read`]: open inputs (files, directories, stdin, `.gz`, `.zst`, zip) and yield capped, lossily decoded lines.
//! - [`parse`]: detect the format and turn lines into records (one per line or per system call).
//! - [`normalize`]: keep the words that carry meaning, drop those that vary at random.
//! - [`formats`]: what is particular to each input format (strace, sysdig, gVisor, the audit log,
//!   syscall numbers, text), one folder each with its parser and normalizer, all registered in one
//!   list ([`formats::ALL`]); [`parse`] and [`normalize`] hold what the formats share.
//! - [`vectorize`]: hash the words into sparse L2-normalized vectors (the hashing trick).
//! - [`window`]: windows of a thread's consecutive events, scored besides single events.
//! - [`template`]: words that vary between known-good runs, replaced by `<*>` in keys.
//! - [`index`]: exact k-nearest-neighbour cosine search over the baseline.
//! - [`model`]: the baseline on disk, and the rules for reading, checking and merging it.
//! - [`report`]: the sinks that print scored records for people and programs, and the HTML report.
//!
//! [`pipeline`] wires the stages together for learning and scoring;
//! [`commands`] are what the `honk` binary's commands do, as library calls
//! that take plain settings; [`eval`] measures detection quality on labelled
//! data; [`trace`] runs a command under strace; [`seccomp`] writes and applies
//! allow-list profiles; [`inspect`] tallies what was parsed; [`demo`] makes the
//! traces `honk demo` shows; [`mod@write`] puts files in place atomically;
//! [`progress`] is how long work reports how far it got; [`choice`] names the
//! values of settings.
//!
//! # Example
//!
//! Learn a baseline from two lines and score a third:
//!
//! ```
//! use honk::model::Model;
//! use honk::commands::ModelChoices;
//! use honk::pipeline::{self, Baseline, ScoreOptions};
//! use honk::progress::Progress;
//! use honk::read::Input;
//! use honk::report::Collect;
//!
//! let normal = Input::text("good.log", "GET /index.html 200\nGET /about.html 200\n");
//! let (model, _) = pipeline::learn(&[normal], ModelChoices::default().settings(), None, &Progress::hidden())?;
//! let baseline = Baseline::new(model);
//!
//! let target = Input::text("new.log", "GET /index.html 200\nDELETE /admin/users 500\n");
//! let mut found = Collect::default();
//! let (summary, _) = pipeline::score(&baseline, &[target], &ScoreOptions::default(), &mut found, &Progress::hidden())?;
//! assert_eq!(summary.anomalies, 1);
//! assert_eq!(found.anomalies[0].line, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
// unsafe is only where honk talks to the kernel through libc (process groups,
// signals, descriptor flags, the seccomp launcher) and in tests that need a
// FIFO: each such place says `allow(unsafe_code)` and why it is sound.
#![deny(unsafe_code)]

pub mod capture;
pub mod choice;
pub mod commands;
#[cfg(feature = "consume")]
pub mod consume;
pub mod demo;
pub mod eval;
pub mod formats;
pub mod index;
pub mod inspect;
pub mod model;
pub mod normalize;
pub mod parse;
pub mod pipeline;
pub mod progress;
pub mod read;
pub mod report;
pub mod seccomp;
#[cfg(feature = "serve")]
pub mod serve;
pub mod template;
#[cfg(test)]
mod testing;
#[allow(unsafe_code)] // fcntl, geteuid, kill and signal through libc.
pub mod trace;
pub mod vectorize;
pub mod window;
pub mod write;
