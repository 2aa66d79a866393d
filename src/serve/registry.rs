//! The models a server serves: the `.honk` files of one directory, loaded
//! when first asked for and reloaded when their file changes on disk.
//!
//! The model named `NAME` is the file `DIR/NAME.honk`; a name is a plain
//! file name (no `/`, no NUL or control characters, not starting with a
//! dot), so no request opens a path outside the directory. Each loaded
//! model sits in an [`Arc`]: a request holds the one it started with for as
//! long as it runs, whatever happens to the file meanwhile. At most every
//! [`RECHECK`], a request compares the file's identity (device, inode, size,
//! modification time) with the loaded one's and reloads it when it differs;
//! a file that does not load (half written by a writer that does not replace
//! files atomically) leaves the old model in service, is logged and counted,
//! and is tried again at the next check. This module does blocking I/O: call
//! it from blocking threads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use super::metrics::Metrics;
use super::ServeError;
use crate::commands::{self, ModelChoices, Quiet};
use crate::model::Model;
use crate::parse::Format;
use crate::pipeline::Baseline;
use crate::read::Input;

/// How often a model's file is looked at for a change, at most.
pub const RECHECK: Duration = Duration::from_millis(100);

/// The extension of model files.
pub const EXTENSION: &str = "honk";

/// The longest model name.
const MAX_NAME: usize = 200;

/// A file's identity and state: another one, or the same one changed, differs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    modified: Option<SystemTime>,
}

impl Identity {
    fn of(path: &Path) -> Option<Identity> {
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() {
            return None;
        }
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        Some(Identity {
            dev,
            ino,
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}

/// A model in service.
pub struct Loaded {
    /// The model, with its index built.
    pub baseline: Baseline,
    /// The size of its file when it was loaded.
    pub file_bytes: u64,
    identity: Option<Identity>,
}

/// One model name's state.
struct Slot {
    path: PathBuf,
    current: RwLock<Option<Arc<Loaded>>>,
    checked: Mutex<Option<Instant>>,
    /// Held while the file is loaded, so that one request loads it, not all.
    loading: Mutex<()>,
}

/// The models of a directory (see the module docs).
pub struct Registry {
    dir: PathBuf,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    metrics: Arc<Metrics>,
}

/// Whether `name` may name a model: a plain file name, no path.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control())
}

impl Registry {
    /// The models of `dir`.
    pub fn new(dir: PathBuf, metrics: Arc<Metrics>) -> Registry {
        Registry {
            dir,
            slots: Mutex::new(HashMap::new()),
            metrics,
        }
    }

    /// The directory served.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of the model `name`, refused if the name is no plain name.
    pub fn path_of(&self, name: &str) -> Result<PathBuf, ServeError> {
        if !valid_name(name) {
            return Err(ServeError::BadRequest(format!(
                "{name:?} is not a model name (a plain file name without its .{EXTENSION})"
            )));
        }
        Ok(self.dir.join(format!("{name}.{EXTENSION}")))
    }

    fn slot(&self, name: &str) -> Result<Arc<Slot>, ServeError> {
        let path = self.path_of(name)?;
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        Ok(Arc::clone(slots.entry(name.to_owned()).or_insert_with(|| {
            Arc::new(Slot {
                path,
                current: RwLock::new(None),
                checked: Mutex::new(None),
                loading: Mutex::new(()),
            })
        })))
    }

    /// The model `name` as it is now on disk (within [`RECHECK`]).
    pub fn get(&self, name: &str) -> Result<Arc<Loaded>, ServeError> {
        let path = self.path_of(name)?;
        if !path.is_file() {
            // Not served (any more): nothing is kept for the name, so that
            // asking for made-up names does not grow the map.
            self.slots.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
            self.metrics.forget_model(name);
            return Err(ServeError::NotFound(format!("no model named {name:?}")));
        }
        let slot = self.slot(name)?;
        let current = slot.current.read().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(current) = &current {
            let checked = *slot.checked.lock().unwrap_or_else(|e| e.into_inner());
            if checked.is_some_and(|at| at.elapsed() < RECHECK) {
                return Ok(Arc::clone(current));
            }
        }
        let identity = Identity::of(&slot.path);
        let Some(identity) = identity else {
            // Gone (or never there): not served any more.
            *slot.current.write().unwrap_or_else(|e| e.into_inner()) = None;
            self.metrics.forget_model(name);
            return Err(ServeError::NotFound(format!("no model named {name:?}")));
        };
        if let Some(current) = &current {
            if current.identity.as_ref() == Some(&identity) {
                *slot.checked.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                return Ok(Arc::clone(current));
            }
        }
        // Changed, or not loaded yet: one request loads it; while it does,
        // the others are served the model in service, if there is one.
        let _loading = match (slot.loading.try_lock(), &current) {
            (Ok(guard), _) => guard,
            (Err(_), Some(current)) => return Ok(Arc::clone(current)),
            (Err(_), None) => slot.loading.lock().unwrap_or_else(|e| e.into_inner()),
        };
        // Someone may have loaded it while we waited.
        let now = slot.current.read().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(now) = &now {
            if now.identity.as_ref() == Some(&identity) {
                return Ok(Arc::clone(now));
            }
        }
        *slot.checked.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        match Model::load(&slot.path) {
            Ok(model) => {
                let loaded = Arc::new(Loaded {
                    baseline: Baseline::new(model),
                    file_bytes: identity.len,
                    identity: Some(identity),
                });
                self.metrics.loaded(name, &loaded, now.is_some());
                *slot.current.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&loaded));
                Ok(loaded)
            }
            Err(e) => {
                self.metrics.reload_failed(name);
                match now {
                    Some(old) => {
                        log(&format!(
                            "warning: model {name:?} changed on disk but does not load ({}); still serving the one loaded before",
                            super::chain(&e)
                        ));
                        Ok(old)
                    }
                    None => Err(ServeError::Unavailable(format!(
                        "model {name:?} does not load: {}",
                        super::chain(&e)
                    ))),
                }
            }
        }
    }

    /// The names of the models in the directory, sorted.
    pub fn names(&self) -> Result<Vec<String>, ServeError> {
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| ServeError::Internal(format!("cannot list the models directory: {e}")))?;
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let path = entry.path();
                let name = path.file_name()?.to_str()?;
                let stem = name.strip_suffix(&format!(".{EXTENSION}"))?;
                (valid_name(stem) && path.is_file()).then(|| stem.to_owned())
            })
            .collect();
        names.sort();
        Ok(names)
    }

    /// Learns `inputs` into the model `name` (created if missing) as
    /// `honk learn` does: under the model's lock, merged into the model as it
    /// is on disk then, written atomically; then serves the result. Once the
    /// lock is held, nothing is written if the request was `abandoned`
    /// meanwhile (it timed out waiting for the lock).
    pub fn learn(
        &self,
        name: &str,
        inputs: &[Input],
        format: Option<Format>,
        abandoned: &AtomicBool,
    ) -> Result<commands::Learned, ServeError> {
        let slot = self.slot(name)?;
        let still_wanted = || !abandoned.load(Ordering::SeqCst);
        let (learned, model) = commands::learn_into(
            &slot.path,
            inputs,
            format,
            &ModelChoices::default(),
            &Quiet,
            &still_wanted,
        )
        .map_err(|e| match e {
            commands::Error::Model(e) => ServeError::Conflict(e.to_string()),
            e => ServeError::Internal(super::chain(&e)),
        })?;
        let _loading = slot.loading.lock().unwrap_or_else(|e| e.into_inner());
        let identity = Identity::of(&slot.path);
        let loaded = Arc::new(Loaded {
            baseline: Baseline::new(model),
            file_bytes: identity.as_ref().map_or(0, |i| i.len),
            identity,
        });
        let replaced = slot.current.read().unwrap_or_else(|e| e.into_inner()).is_some();
        self.metrics.loaded(name, &loaded, replaced);
        *slot.current.write().unwrap_or_else(|e| e.into_inner()) = Some(loaded);
        *slot.checked.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        Ok(learned)
    }
}

/// A line on standard error, as the server logs.
pub(crate) fn log(message: &str) {
    eprintln!("honk: {}", crate::report::human::escape(message));
}
