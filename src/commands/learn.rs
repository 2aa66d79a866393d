//! `honk learn`: learn known-good logs into a model, or add them to one.

use std::path::{Path, PathBuf};

use super::{Error, ModelChoices, Ui};
use crate::model::{Model, Origin};
use crate::parse::Format;
use crate::pipeline::{self, InputStats};
use crate::read::{self, shown, Input};
use crate::write::FileIdentity;

/// What to learn, and where.
#[derive(Clone, Debug, Default)]
pub struct Learn {
    /// The model file to create or add to.
    pub output: PathBuf,
    /// Known-good logs: files, directories (read recursively), `-` for stdin.
    pub inputs: Vec<PathBuf>,
    /// The input format, or `None` to detect it per input.
    pub format: Option<Format>,
    /// How a new model is built; when adding, what is given must agree.
    pub model: ModelChoices,
}

/// What learning did.
#[derive(Clone, Debug)]
pub struct Learned {
    /// Records learned from the inputs.
    pub records: u64,
    /// Distinct keys among them.
    pub unique: usize,
    /// What was read from each input.
    pub stats: Vec<InputStats>,
    /// Distinct keys the model holds now.
    pub model_unique: usize,
    /// Inputs the model was learned from, in all.
    pub model_sources: usize,
}

/// Learns `settings.inputs` into the model at `settings.output`, created if
/// missing. Two learns into one model take turns (a lock file beside it) and
/// merge into the model as it is once they hold the lock, so neither loses
/// the other's inputs; the model is replaced atomically.
pub fn learn(settings: &Learn, ui: &dyn Ui) -> Result<Learned, Error> {
    let output = settings.output.as_path();
    let inputs = learn_inputs(&settings.inputs, output)?;
    learn_into(output, &inputs, settings.format, &settings.model, ui, &|| true).map(|(learned, _)| learned)
}

/// [`learn`] of inputs already opened (files, or bytes in memory) into the
/// model at `output`, under the same lock and written as atomically; also
/// returns the model as written. Once the lock is held, `still_wanted` is
/// asked whether to go on (a caller that waited too long for the lock has
/// given up): if not, nothing is written and the learn is refused.
pub fn learn_into(
    output: &Path,
    inputs: &[Input],
    format: Option<Format>,
    choices: &ModelChoices,
    ui: &dyn Ui,
    still_wanted: &dyn Fn() -> bool,
) -> Result<(Learned, Model), Error> {
    let origin = Origin::File(output.to_path_buf());
    // Read now to learn with its settings (and to fail before the work if it
    // is no model); read again under the lock below if it changed meanwhile.
    let existing = if output.exists() {
        let model = Model::load(output)?;
        model.check_requested(&choices.requested(), &origin)?;
        Some((model, FileIdentity::of(output)))
    } else {
        None
    };
    let model_settings = match &existing {
        Some((model, _)) => model.settings.clone(),
        None => choices.settings(),
    };
    let progress = ui.progress("learning", pipeline::total_bytes(inputs));
    let (learned, stats) = pipeline::learn(inputs, model_settings, format, &progress)?;
    progress.finish();
    let (records, unique) = (learned.records(), learned.entries.len());
    let lock = super::lock_model(output, ui)?;
    if !still_wanted() {
        return Err(Error::Refused(format!(
            "gave up adding to {} (waited too long for its lock)",
            shown(output)
        )));
    }
    let current = match existing {
        Some((model, identity)) if FileIdentity::of(output) == identity => Some(model),
        _ if output.exists() => {
            let model = Model::load(output)?;
            model.check_requested(&choices.requested(), &origin)?;
            Some(model)
        }
        _ => None,
    };
    let model = match current {
        Some(mut model) => {
            model.merge(learned)?;
            model
        }
        None => learned,
    };
    model.save(output)?;
    drop(lock);
    let learned = Learned {
        records,
        unique,
        stats,
        model_unique: model.entries.len(),
        model_sources: model.sources.len(),
    };
    Ok((learned, model))
}

/// The inputs of `honk learn`: a model is no log to learn (refused), and
/// the output model (or its lock file) met inside an input directory is
/// skipped rather than learned.
fn learn_inputs(paths: &[PathBuf], output: &Path) -> Result<Vec<Input>, Error> {
    let lock = crate::write::lock_path(output);
    let mut inputs = Vec::new();
    for path in paths {
        if !read::is_stdin(path) && crate::write::same_file(path, output) {
            return Err(Error::Refused(format!(
                "{} is the model being written; give it only as -o, and logs as inputs",
                shown(path)
            )));
        }
        let from_directory = path.is_dir();
        for input in read::expand(std::slice::from_ref(path))? {
            if let Input::File(file) = &input {
                if from_directory && (crate::write::same_file(file, output) || crate::write::same_file(file, &lock)) {
                    continue;
                }
                if Model::is_model_file(file) {
                    return Err(Error::Refused(format!(
                        "{} is a honk model, not a log: learn from the logs it was learned from \
                         (honk cannot merge two model files)",
                        shown(file)
                    )));
                }
            }
            inputs.push(input);
        }
    }
    if inputs.is_empty() {
        return Err(Error::Refused(
            "no inputs to learn from besides the model itself".into(),
        ));
    }
    Ok(inputs)
}
