//! Commands: what `honk learn`, `score`, `diff`, `watch`, `trace` and `seccomp` do, as
//! library calls that take plain settings and return what they found.
//!
//! Each command validates its settings, wires the pipeline's stages together
//! and writes the files it was asked to (a model, an HTML report) atomically.
//! It does not parse flags, print summaries or pick exit statuses: the `honk`
//! binary does that from the returned values. Anomalies go to the
//! [`Sink`](crate::report::Sink) the caller passes, so that one stream feeds any
//! printer. Long work reports to the caller's [`Ui`]: progress, and notes a
//! person should see while it runs.
//!
//! `honk eval` is [`crate::eval::run()`]; `honk inspect` is [`crate::inspect`].

mod learn;
mod score;
mod seccomp;
mod trace;
mod watch;

use std::path::{Path, PathBuf};

pub use learn::{learn, learn_into, Learn, Learned};
pub use score::{diff, score, Diff, Report, Score, Scored};
pub use seccomp::{seccomp_exec, seccomp_profile, Profiled, SeccompProfile};
pub use trace::{trace, Then, Trace, TraceOutcome, SECCOMP_EXEC};
pub use watch::{watch, Captured, Watch, Watched};

use crate::model::{ModelError, Settings, Window};
use crate::progress::Progress;
use crate::read::{self, shown, Input};
use crate::vectorize::{Tokenizer, DEFAULT_N_FEATURES};

/// Distance above which a record is reported, unless the caller says otherwise.
///
/// Chosen from the scenario suite (`scenarios/`): see the README's "Choosing the
/// threshold" for the measurement.
pub const DEFAULT_THRESHOLD: f64 = 0.3;

/// Why a command stopped. Every message is written for the person who ran it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading, learning or scoring failed.
    #[error(transparent)]
    Pipeline(#[from] crate::pipeline::Error),
    /// A model could not be read, written or merged.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// An input could not be opened or read.
    #[error(transparent)]
    Read(#[from] read::ReadError),
    /// The command could not be traced.
    #[error(transparent)]
    Trace(#[from] crate::trace::TraceError),
    /// A seccomp profile could not be made, read or applied.
    #[error(transparent)]
    Seccomp(#[from] crate::seccomp::SeccompError),
    /// The HTML report could not be rendered.
    #[error(transparent)]
    Report(#[from] crate::report::html::HtmlError),
    /// An evaluation could not be computed.
    #[error(transparent)]
    Eval(#[from] crate::eval::RunError),
    /// A file honk makes could not be written.
    #[error("cannot write the {what} {}", shown(.path))]
    Write {
        /// What it is: "report", "profile", "man page".
        what: &'static str,
        /// Where it was to go.
        path: PathBuf,
        /// Why it could not.
        #[source]
        source: std::io::Error,
    },
    /// The model could not be locked for adding to it.
    #[error("cannot lock {}", shown(.path))]
    Lock {
        /// The model.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Output could not be written (the printer's stream).
    #[error("cannot write output")]
    Output(#[source] std::io::Error),
    /// A request honk will not carry out, with the reason.
    #[error("{0}")]
    Refused(String),
}

/// Where a command's progress and notes go: the binary draws bars and writes
/// notes on standard error; a library caller may ignore both (the default).
pub trait Ui: Sync {
    /// Progress for work called `what` over `total` bytes (unknown: `None`).
    fn progress(&self, _what: &str, _total: Option<u64>) -> Progress {
        Progress::hidden()
    }

    /// Something a person should know while the command runs (`honk: ...`).
    fn note(&self, _message: &str) {}

    /// Something that may be wrong (`honk: warning: ...`).
    fn warn(&self, _message: &str) {}
}

/// A [`Ui`] that shows nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Quiet;

impl Ui for Quiet {}

/// How a new model is built; every `None` takes the default. When a command
/// adds to an existing model, what is given must agree with how it was built.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelChoices {
    /// How keys are cut into hashed words [default: [`Tokenizer::Honk`]].
    pub tokenizer: Option<Tokenizer>,
    /// Dimension of the hashed vectors [default: [`DEFAULT_N_FEATURES`]].
    pub features: Option<u32>,
    /// Windows of N consecutive events of a thread, scored besides single
    /// events (0 or `None`: none).
    pub window: Option<u32>,
    /// Windows of the events' normalized arguments, not only their names.
    pub window_args: bool,
}

impl ModelChoices {
    /// The settings of a new model.
    pub fn settings(&self) -> Settings {
        Settings {
            n_features: self.features.unwrap_or(DEFAULT_N_FEATURES),
            tokenizer: self.tokenizer.unwrap_or(Tokenizer::Honk),
            normalizer: crate::normalize::VERSION,
            window: Window {
                size: self.window.unwrap_or(0),
                args: self.window_args,
            },
        }
    }

    /// The settings requested, as far as they were: what an existing model
    /// must agree with.
    fn requested(&self) -> crate::model::Requested {
        crate::model::Requested {
            tokenizer: self.tokenizer,
            features: self.features,
            window: self.window.map(|size| Window {
                size,
                args: self.window_args,
            }),
        }
    }
}

/// Refuses to write `output` over one of the files read: the `paths` given
/// and the files and archives of `inputs`.
pub fn refuse_overwriting(output: Option<&Path>, what: &str, paths: &[&Path], inputs: &[Input]) -> Result<(), Error> {
    let Some(output) = output else { return Ok(()) };
    let read_from = paths
        .iter()
        .copied()
        .chain(inputs.iter().filter_map(|input| match input {
            Input::Stdin | Input::Memory { .. } => None,
            Input::File(path) => Some(path.as_path()),
            Input::ZipEntry { archive, .. } => Some(archive.as_path()),
        }));
    for path in read_from {
        if !read::is_stdin(path) && crate::write::same_file(output, path) {
            return Err(Error::Refused(format!(
                "will not write the {what} to {}: it is {}, which honk reads",
                shown(output),
                shown(path)
            )));
        }
    }
    Ok(())
}

/// Write `bytes` to `path` atomically ([`crate::write::atomically`]); `what` names it in errors.
pub fn write_file(path: &Path, bytes: &[u8], what: &'static str) -> Result<(), Error> {
    crate::write::atomically(path, bytes).map_err(|e| Error::Write {
        what,
        path: path.to_path_buf(),
        source: e.source,
    })
}

/// Takes the lock of the model at `path` (a lock file beside it), which a
/// `honk learn` or a learning `honk watch` holds while it adds to the model,
/// telling the user through `ui` whom honk waits for if another holds it.
pub(crate) fn lock_model(path: &Path, ui: &dyn Ui) -> Result<crate::write::Lock, Error> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(Error::Refused(format!(
                "{} is no directory: create it first (mkdir -p {})",
                shown(parent),
                shown(parent)
            )));
        }
    }
    crate::write::Lock::acquire(path, |lock, pid| {
        let who = pid.map_or_else(|| "another honk".to_owned(), |pid| format!("honk (process {pid})"));
        ui.note(&format!(
            "waiting for {who} to finish with {} (it holds the lock {})",
            shown(path),
            shown(lock)
        ));
    })
    .map_err(|e| Error::Lock {
        path: path.to_path_buf(),
        source: e.source,
    })
}
