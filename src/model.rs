//! The baseline on disk.
//!
//! # What a model holds
//!
//! A [`Model`] is the *deduplicated, normalized* baseline: one [`Entry`] per
//! distinct normalized key, with how many baseline records produced that key
//! and where the first of them came from (its [`Source`], 1-based line and
//! original text, which reports show as the "nearest" normal line). It also
//! records the [`Settings`] that produced the keys and that the vectors must
//! be built with, and tallies the system calls (and audit or sysdig events)
//! the baseline made, by name: the set a seccomp profile allows and a target
//! is checked against.
//!
//! It does **not** hold vectors. Vectors are a pure function of a key and the
//! settings, so they are rebuilt from the keys on load; storing them would
//! only make files larger and let them disagree with their keys.
//!
//! # File layout
//!
//! All integers are little-endian.
//!
//! | offset | size | field                                                      |
//! |-------:|-----:|------------------------------------------------------------|
//! |      0 |    8 | magic `b"HONKMODL"`                                        |
//! |      8 |    2 | format version, `u16` ([`FORMAT_VERSION`])                 |
//! |     10 |    2 | flags, `u16`, always 0                                     |
//! |     12 |    8 | payload length in bytes, `u64`                             |
//! |     20 |    4 | CRC-32 (IEEE, as computed by `crc32fast`) of the payload   |
//! |     24 |    n | payload: zstd (level 3) of the postcard encoding of [`Model`] |
//!
//! The file ends exactly where the payload ends.
//!
//! # Guarantees
//!
//! - [`Model::save`] is atomic: the model is written to a temporary file in
//!   the same directory, flushed to disk and renamed over the target, so a
//!   reader sees the old model or the new one, never a mix; on error the old
//!   file is untouched and no temporary file is left behind.
//! - [`Model::save`] and [`Model::to_bytes`] refuse to write a model that
//!   [`Model::load`] would reject, so a saved model can always be read back.
//! - Reading never panics and uses bounded memory, whatever the bytes: the
//!   declared payload length is checked against the bytes actually present
//!   before anything is allocated for it, the payload must match its checksum,
//!   and decompression stops at [`MAX_DECODED_BYTES`] instead of trusting any
//!   size declared inside the data.
//! - A model that loads is consistent: `n_features >= 1`, every entry's
//!   `source` indexes [`Model::sources`], and keys are unique.
//! - Files written by a newer honk are recognised and reported as such
//!   ([`ModelError::NewerVersion`]) rather than as corrupt, and so are files
//!   of an older format ([`ModelError::OlderVersion`]: learn them again).
//!
//! Format versions: 1 had no syscall tally; 2 adds [`Model::syscalls`]; 3 adds
//! [`Model::words`], the runs each candidate parameter word appeared in.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::template::Vocabulary;
use crate::vectorize::Tokenizer;

/// The eight bytes every model file starts with.
pub const MAGIC: &[u8; 8] = b"HONKMODL";

/// The model format this honk writes, and the newest it reads.
pub const FORMAT_VERSION: u16 = 3;

/// The most a payload may decompress to, whatever its size. A larger payload
/// is reported as corrupt when read, and refused when written
/// ([`ModelError::TooLarge`]): the writer and the reader use the same limit
/// ([`decoded_limit`]), so honk never writes a model it cannot read back.
pub const MAX_DECODED_BYTES: u64 = 1 << 32;

/// The most a payload may expand when decompressed, as a multiple of its
/// compressed size (models measured compress 5 to 25 times: the demo's 5,
/// with `--window 8 --window-args` 18, the 186 MB model of issue 13 at least
/// 23). A
/// payload that claims more is a decompression bomb: it is rejected after
/// decompressing at most this many times its size, not 4 GiB.
pub const MAX_EXPANSION: u64 = 256;

/// Any payload may decompress to this much, however small it is.
const MIN_DECODED_LIMIT: u64 = 64 << 20;

/// The most a payload of `payload_len` compressed bytes may decompress to:
/// the one rule [`Model::save`] checks before writing and [`Model::load`]
/// enforces while reading.
pub fn decoded_limit(payload_len: u64) -> u64 {
    payload_len
        .saturating_mul(MAX_EXPANSION)
        .clamp(MIN_DECODED_LIMIT, MAX_DECODED_BYTES)
}

/// Length of the fixed header that precedes the payload.
const HEADER_LEN: usize = 24;

/// The zstd level the payload is compressed with: fast, and models are
/// written far less often than they are read.
const ZSTD_LEVEL: i32 = 3;

/// How the keys of a model were made and how their vectors must be built.
///
/// Two models can only be merged, and a target can only be scored against a
/// model, when these agree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Dimension of the hashed vectors (at least 1).
    pub n_features: u32,
    /// How keys are cut into the words that get hashed.
    pub tokenizer: Tokenizer,
    /// Version of honk's normalizer that produced the keys.
    pub normalizer: u32,
    /// Windows of consecutive events scored besides single events.
    pub window: Window,
}

/// Sliding windows of consecutive events of one thread, learned and scored
/// besides single events, so that ordinary calls in an unusual order stand out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Window {
    /// Events per window; 0 means no windows.
    pub size: u32,
    /// Whether a window is made of its events' normalized keys (`true`) or of
    /// their syscall names only.
    pub args: bool,
}

/// One input the baseline was learned from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The path as it was given (or a name such as `-` for stdin).
    pub path: String,
    /// How many records were read from it.
    pub records: u64,
}

/// One distinct normalized line of the baseline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The normalized line: space-separated tokens. Unique within a model.
    pub key: String,
    /// Index into [`Model::sources`] of the first occurrence.
    pub source: u32,
    /// 1-based line of the first occurrence in that source.
    pub line: u64,
    /// The original text of the first occurrence, shown to users as "nearest".
    pub text: String,
    /// How many baseline records normalized to this key.
    pub count: u64,
}

/// A learned baseline: settings, the inputs it came from, and its distinct keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    /// How the keys were made and how vectors must be built from them.
    pub settings: Settings,
    /// The inputs, in the order they were learned.
    pub sources: Vec<Source>,
    /// The distinct keys, in order of first occurrence.
    pub entries: Vec<Entry>,
    /// The system calls of the baseline (and the audit or sysdig events), by
    /// name, with how many records made each. Empty for text logs.
    pub syscalls: BTreeMap<String, u64>,
    /// For each word that can be a parameter of a run (see [`crate::template`]),
    /// how many of the sources it appeared in: a word of one run only is
    /// templated away when keys are compared.
    pub words: Vocabulary,
}

/// Where the model being read or written lives, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Bytes in memory ([`Model::from_bytes`], [`Model::to_bytes`]).
    Bytes,
    /// A file ([`Model::load`], [`Model::save`]).
    File(PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Bytes => f.write_str("the model data"),
            Origin::File(path) => write!(f, "model file {}", path.display()),
        }
    }
}

/// Why a model could not be read, written or merged.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The operating system refused a read or write.
    #[error("cannot {action} {origin}")]
    Io {
        /// Where the model is read from or written to.
        origin: Origin,
        /// What we were doing, as a verb phrase ("read", "write", ...).
        action: &'static str,
        /// What the operating system (or the compressor) said.
        source: io::Error,
    },
    /// The data does not start with the model magic (or is empty).
    #[error("{origin} is not a honk model ({reason})")]
    NotAModel {
        /// Where the model is read from or written to.
        origin: Origin,
        /// Why, in a few words: "it is empty", "bad magic", "it is a directory", ...
        reason: &'static str,
    },
    /// The data ends before the header says it should.
    #[error("{origin} is truncated: {reason}")]
    Truncated {
        /// Where the model is read from or written to.
        origin: Origin,
        /// How many bytes the header or payload needs, and how many there are.
        reason: String,
    },
    /// The data is damaged: checksum mismatch, undecodable payload, trailing
    /// bytes, or a decoded model that is inconsistent.
    #[error("{origin} is corrupt: {reason}")]
    Corrupt {
        /// Where the model is read from or written to.
        origin: Origin,
        /// What is wrong, with the values found.
        reason: String,
    },
    /// The data was written in a model format this honk does not know yet.
    #[error(
        "{origin} was written by a newer honk (model format {found}, \
         this honk reads up to {supported}); upgrade honk"
    )]
    NewerVersion {
        /// Where the model is read from or written to.
        origin: Origin,
        /// The format version in its header.
        found: u16,
        /// The newest format this honk reads: [`FORMAT_VERSION`].
        supported: u16,
    },
    /// The file was written by an older honk in a format this one no longer reads.
    #[error(
        "{origin} is in model format {found}, which this honk no longer reads (it writes \
         format {supported}); learn the baseline again from its logs"
    )]
    OlderVersion {
        /// Where the model is read from or written to.
        origin: Origin,
        /// The format version in its header.
        found: u16,
        /// The only format this honk reads and writes: [`FORMAT_VERSION`].
        supported: u16,
    },
    /// The model is too large for the file format's limits, so it is not
    /// written (the file could not be read back).
    #[error(
        "{origin} is not written: the model encodes to {size} bytes or more, more than \
         the {limit} bytes a model file of its size may hold, so it could not be read back; \
         learn fewer or shorter inputs (or no --window-args) into it, or split the baseline \
         into several models"
    )]
    TooLarge {
        /// Where the model is read from or written to.
        origin: Origin,
        /// Bytes of the uncompressed encoding, at least (counting stops past the limit).
        size: u64,
        /// The most uncompressed bytes allowed: [`MAX_DECODED_BYTES`], or less for a small compressed payload.
        limit: u64,
    },
    /// Two models cannot be merged because they were built differently.
    #[error("cannot merge models built with different settings: {reason}")]
    Incompatible {
        /// Which settings differ, with both values.
        reason: String,
    },
    /// The in-memory model is inconsistent, so it is not written or merged
    /// (writing it would produce a file that cannot be loaded).
    #[error("invalid model: {reason}")]
    Invalid {
        /// What is inconsistent (or why it cannot be serialized).
        reason: String,
    },
    /// The model's keys were made by other normalization rules than this
    /// honk's, so they would not match the keys it makes now.
    #[error(
        "{origin} was learned with normalizer version {found}, this honk normalizes with \
         version {expected}; learn it again from its logs"
    )]
    Outdated {
        /// Where the model is read from or written to.
        origin: Origin,
        /// The normalizer version the model was learned with.
        found: u32,
        /// This honk's normalizer version: [`crate::normalize::VERSION`].
        expected: u32,
    },
    /// Settings asked for while adding to a model disagree with how it was built.
    #[error("{origin} was built with {built}, not {asked}; {advice}")]
    Differs {
        /// Where the model is read from or written to.
        origin: Origin,
        /// How the model was built, as flags (`--tokenizer honk`).
        built: String,
        /// What was asked for.
        asked: String,
        /// What to do instead.
        advice: &'static str,
    },
}

/// Settings asked for when adding to a model; `None` is "whatever it has".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Requested {
    /// The tokenizer.
    pub tokenizer: Option<Tokenizer>,
    /// The dimension of the hashed vectors.
    pub features: Option<u32>,
    /// The windows.
    pub window: Option<Window>,
}

/// A window setting as the flags that make it.
pub fn describe_window(window: Window) -> String {
    match (window.size, window.args) {
        (0, _) => "no windows".to_owned(),
        (n, false) => format!("--window {n}"),
        (n, true) => format!("--window {n} --window-args"),
    }
}

impl Model {
    /// An empty model: no sources, no entries.
    pub fn new(settings: Settings) -> Model {
        Model {
            settings,
            sources: Vec::new(),
            entries: Vec::new(),
            syscalls: BTreeMap::new(),
            words: Vocabulary::new(),
        }
    }

    /// How many baseline records the model was learned from (the sum of the
    /// entries' counts). Saturates rather than overflowing on absurd counts.
    pub fn records(&self) -> u64 {
        self.entries.iter().fold(0u64, |sum, e| sum.saturating_add(e.count))
    }

    /// Encodes the model in the file format described in the module docs.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        self.encode(&Origin::Bytes, MAX_DECODED_BYTES)
    }

    /// Decodes a model from bytes in the file format. Never panics; any
    /// input that is not a valid model is an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        decode(bytes, &Origin::Bytes, MAX_DECODED_BYTES)
    }

    /// Reads a model file made with this honk's normalization rules (a model
    /// of another normalizer version is refused: its keys would not match).
    /// Errors name the file. See [`Model::load_any`] for the file checks.
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let model = Model::load_any(path)?;
        model.check_normalizer(&Origin::File(path.to_path_buf()))?;
        Ok(model)
    }

    /// Refuses a model whose keys were made by other normalization rules than
    /// this honk's ([`crate::normalize::VERSION`]). [`Model::load`] checks it;
    /// [`Model::from_bytes`] and [`Model::load_any`] do not.
    pub fn check_normalizer(&self, origin: &Origin) -> Result<(), ModelError> {
        if self.settings.normalizer != crate::normalize::VERSION {
            return Err(ModelError::Outdated {
                origin: origin.clone(),
                found: self.settings.normalizer,
                expected: crate::normalize::VERSION,
            });
        }
        Ok(())
    }

    /// Refuses settings, asked for while adding to this model, that disagree
    /// with how it was built (`origin` names it in the error).
    pub fn check_requested(&self, asked: &Requested, origin: &Origin) -> Result<(), ModelError> {
        let differs = |built: String, asked: String, advice| ModelError::Differs {
            origin: origin.clone(),
            built,
            asked,
            advice,
        };
        const NEW: &str = "learn into a new model instead";
        let ours = &self.settings;
        if let Some(tokenizer) = asked.tokenizer.filter(|&t| t != ours.tokenizer) {
            use crate::choice::Choice;
            return Err(differs(
                format!("--tokenizer {}", ours.tokenizer.name()),
                format!("--tokenizer {}", tokenizer.name()),
                NEW,
            ));
        }
        if let Some(window) = asked.window.filter(|&w| w != ours.window) {
            return Err(differs(
                describe_window(ours.window),
                describe_window(window),
                "learn into a new model to change windows",
            ));
        }
        if let Some(features) = asked.features.filter(|&f| f != ours.n_features) {
            return Err(differs(
                format!("--features {}", ours.n_features),
                format!("--features {features}"),
                NEW,
            ));
        }
        Ok(())
    }

    /// Reads a model file of any normalizer version (to look at it, as
    /// `honk inspect` does). Errors name the file.
    ///
    /// Only a regular file is read: a device (`/dev/zero`), a pipe or a
    /// directory is refused before it is opened for reading. The read is
    /// bounded by the file's real size, and a file that does not start with
    /// [`MAGIC`] is refused after its first bytes.
    pub fn load_any(path: &Path) -> Result<Model, ModelError> {
        let origin = Origin::File(path.to_path_buf());
        let io = |action: &'static str| {
            let origin = origin.clone();
            move |source| ModelError::Io { origin, action, source }
        };
        // Looked at before opening: opening a pipe for reading would block.
        let meta = fs::metadata(path).map_err(io("read"))?;
        if !meta.is_file() {
            return Err(ModelError::NotAModel {
                origin,
                reason: if meta.is_dir() {
                    "it is a directory"
                } else {
                    "it is a device, pipe or socket, not a regular file"
                },
            });
        }
        let file = fs::File::open(path).map_err(io("read"))?;
        let size = file.metadata().map_err(io("read"))?.len();
        let mut reader = io::BufReader::new(file);
        let mut head = Vec::with_capacity(HEADER_LEN);
        (&mut reader)
            .take(HEADER_LEN as u64)
            .read_to_end(&mut head)
            .map_err(io("read"))?;
        let magic_len = head.len().min(MAGIC.len());
        if !head.is_empty() && head[..magic_len] != MAGIC[..magic_len] {
            return Err(ModelError::NotAModel {
                origin,
                reason: "bad magic",
            });
        }
        // Bounded by the size the file had when opened (plus one byte, to
        // notice growth), not by anything the file claims about itself.
        let mut bytes = head;
        let rest = size.saturating_sub(HEADER_LEN as u64);
        bytes
            .try_reserve(usize::try_from(rest).unwrap_or(usize::MAX))
            .map_err(|_| ModelError::Corrupt {
                origin: origin.clone(),
                reason: format!("it is {size} bytes, more than can be held in memory"),
            })?;
        reader
            .take(rest.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(io("read"))?;
        decode(&bytes, &origin, MAX_DECODED_BYTES)
    }

    /// Whether `path` is a regular file that starts with [`MAGIC`]: honk's
    /// own files are not
    /// logs to learn or inspect as text. Reads at most 8 bytes.
    pub fn is_model_file(path: &Path) -> bool {
        if !fs::metadata(path).is_ok_and(|m| m.is_file()) {
            return false;
        }
        let mut head = Vec::with_capacity(MAGIC.len());
        match fs::File::open(path) {
            Ok(file) => {
                if file.take(MAGIC.len() as u64).read_to_end(&mut head).is_err() {
                    return false;
                }
            }
            Err(_) => return false,
        }
        head.len() == MAGIC.len() && head == MAGIC
    }

    /// Writes the model to `path` atomically ([`crate::write::atomically`]): a
    /// reader sees the old model or the new one, never a mix; on error the
    /// previous file at `path`, if any, is untouched and no temporary file is
    /// left behind. A replaced file keeps its permissions.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        self.save_within(path, MAX_DECODED_BYTES)
    }

    /// [`Model::save`], refusing a model that would decompress to more than
    /// `limit` bytes (or more than [`decoded_limit`] allows for its size):
    /// a parameter so that tests can exercise the check cheaply.
    fn save_within(&self, path: &Path, limit: u64) -> Result<(), ModelError> {
        let origin = Origin::File(path.to_path_buf());
        let bytes = self.encode(&origin, limit)?;
        crate::write::atomically(path, &bytes).map_err(|e| ModelError::Io {
            origin,
            action: e.action,
            source: e.source,
        })
    }

    /// Adds a newer baseline to this one.
    ///
    /// The settings must be equal. `other`'s sources are appended and its
    /// entries' source indices remapped accordingly. An entry whose key is
    /// already present only adds its count: the older first occurrence stays
    /// the representative. New keys are appended in `other`'s order.
    ///
    /// On error `self` is unchanged. To fold many models into one, a
    /// [`Merger`] indexes the keys once instead of on every call.
    pub fn merge(&mut self, other: Model) -> Result<(), ModelError> {
        Merger::check(self, &other)?;
        let mut merger = Merger::new(std::mem::replace(self, Model::new(self.settings.clone())));
        merger.add_checked(other);
        *self = merger.finish();
        Ok(())
    }

    /// Validates, then encodes, refusing a model that [`decode`] with
    /// `limit` would reject for its size. `origin` is only used in error
    /// messages.
    ///
    /// The encoding streams into the compressor, so the uncompressed model
    /// is never held in memory whole.
    fn encode(&self, origin: &Origin, limit: u64) -> Result<Vec<u8>, ModelError> {
        if let Err(reason) = self.check() {
            return Err(ModelError::Invalid { reason });
        }
        let compress_error = |source| ModelError::Io {
            origin: origin.clone(),
            action: "compress",
            source,
        };
        let encoder = zstd::stream::write::Encoder::new(Vec::new(), ZSTD_LEVEL).map_err(compress_error)?;
        let mut counter = Counting {
            inner: encoder,
            written: 0,
            limit,
        };
        if let Err(e) = postcard::to_io(self, &mut counter) {
            // Past the limit is the only way the counting writer fails on its own.
            if counter.written > limit {
                return Err(ModelError::TooLarge {
                    origin: origin.clone(),
                    size: counter.written,
                    limit,
                });
            }
            return Err(ModelError::Invalid {
                reason: format!("cannot serialize it: {e}"),
            });
        }
        let raw_len = counter.written;
        let payload = counter.inner.finish().map_err(compress_error)?;
        let allowed = decoded_limit(payload.len() as u64).min(limit);
        if raw_len > allowed {
            return Err(ModelError::TooLarge {
                origin: origin.clone(),
                size: raw_len,
                limit: allowed,
            });
        }
        Ok(frame(&payload))
    }

    /// The consistency rules every loaded model satisfies; the error is a
    /// human reason.
    fn check(&self) -> Result<(), String> {
        if self.settings.n_features == 0 {
            return Err("n_features is 0; it must be at least 1".to_string());
        }
        let mut keys = HashSet::with_capacity(self.entries.len());
        for (i, e) in self.entries.iter().enumerate() {
            if e.source as usize >= self.sources.len() {
                return Err(format!(
                    "entry {i} refers to source {} but there are only {} sources",
                    e.source,
                    self.sources.len()
                ));
            }
            if !keys.insert(e.key.as_str()) {
                return Err(format!("entry {i} repeats the key {:?}", e.key));
            }
        }
        Ok(())
    }
}

/// A writer that counts what goes through it and fails once more than
/// `limit` bytes have been written.
struct Counting<W> {
    inner: W,
    written: u64,
    limit: u64,
}

impl<W: io::Write> io::Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written = self.written.saturating_add(n as u64);
        if self.written > self.limit {
            return Err(io::Error::other("the model is larger than a model file may hold"));
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Puts the header in front of a compressed payload.
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Decodes a whole model file, checking everything; `limit` caps the
/// decompressed size (a parameter so tests can exercise it cheaply).
fn decode(bytes: &[u8], origin: &Origin, limit: u64) -> Result<Model, ModelError> {
    let not_a_model = |reason| ModelError::NotAModel {
        origin: origin.clone(),
        reason,
    };
    let truncated = |reason: String| ModelError::Truncated {
        origin: origin.clone(),
        reason,
    };
    let corrupt = |reason: String| ModelError::Corrupt {
        origin: origin.clone(),
        reason,
    };

    if bytes.is_empty() {
        return Err(not_a_model("it is empty"));
    }
    // A short file that starts like a model is a truncated model; anything
    // else is not a model at all.
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes[..magic_len] != MAGIC[..magic_len] {
        return Err(not_a_model("bad magic"));
    }
    let header_short = || {
        truncated(format!(
            "the header needs {HEADER_LEN} bytes but there are only {}",
            bytes.len()
        ))
    };
    // The version is checked as soon as it is present, before the rest of
    // the header: a newer format may lay out the rest differently.
    let version = u16::from_le_bytes(field(bytes, 8).ok_or_else(header_short)?);
    if version > FORMAT_VERSION {
        return Err(ModelError::NewerVersion {
            origin: origin.clone(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if version == 0 {
        return Err(corrupt("model format version 0 does not exist".into()));
    }
    if version < FORMAT_VERSION {
        return Err(ModelError::OlderVersion {
            origin: origin.clone(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let flags = u16::from_le_bytes(field(bytes, 10).ok_or_else(header_short)?);
    let declared_len = u64::from_le_bytes(field(bytes, 12).ok_or_else(header_short)?);
    let stored_crc = u32::from_le_bytes(field(bytes, 20).ok_or_else(header_short)?);
    if flags != 0 {
        return Err(corrupt(format!("unknown flags {flags:#06x} in model format {version}")));
    }

    // Compare against what is really there before touching the payload.
    let payload = &bytes[HEADER_LEN..];
    let present = payload.len() as u64;
    if declared_len > present {
        return Err(truncated(format!(
            "the header announces {declared_len} bytes of payload but only {present} follow"
        )));
    }
    if declared_len < present {
        return Err(corrupt(format!(
            "{} unexpected bytes after the {declared_len}-byte payload",
            present - declared_len
        )));
    }
    let computed_crc = crc32fast::hash(payload);
    if computed_crc != stored_crc {
        return Err(corrupt(format!(
            "checksum mismatch (stored {stored_crc:#010x}, computed {computed_crc:#010x})"
        )));
    }

    let raw = decompress(payload, decoded_limit(present).min(limit)).map_err(corrupt)?;
    let (model, rest) =
        postcard::take_from_bytes::<Model>(&raw).map_err(|e| corrupt(format!("the payload does not decode: {e}")))?;
    if !rest.is_empty() {
        return Err(corrupt(format!(
            "{} unexpected bytes after the encoded model",
            rest.len()
        )));
    }
    model.check().map_err(corrupt)?;
    Ok(model)
}

/// The `N` bytes at `at`, if present.
fn field<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// Decompresses a zstd payload, failing if it yields more than `limit`
/// bytes. Streaming through `take` means a hostile payload costs at most
/// `limit + 1` bytes, whatever sizes its frames declare.
fn decompress(payload: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    let decoder = zstd::stream::read::Decoder::with_buffer(payload)
        .map_err(|e| format!("cannot start decompressing the payload: {e}"))?;
    let mut raw = Vec::new();
    decoder
        .take(limit.saturating_add(1))
        .read_to_end(&mut raw)
        .map_err(|e| format!("the payload does not decompress: {e}"))?;
    if raw.len() as u64 > limit {
        return Err(format!("the payload decompresses to more than {limit} bytes"));
    }
    Ok(raw)
}

/// The distinct keys of a baseline as they are gathered: each key once, with
/// its first occurrence and how often it occurred. The one place where entries
/// are deduplicated, for one input's records ([`crate::pipeline`]) and for
/// models folded together ([`Merger`]).
///
/// A key is held once, in its entry: the index finds it by a 64-bit hash and
/// checks the entry's own key (window keys can be kilobytes each, and a
/// baseline has as many keys as distinct records). Only a key whose hash an
/// earlier, different key already has is held a second time, in `more`.
#[derive(Clone, Debug, Default)]
pub struct Entries {
    entries: Vec<Entry>,
    /// Hash of a key → its entry; the first key with that hash.
    first: HashMap<u64, usize>,
    /// Keys whose hash an earlier, different key already has → their entry.
    more: HashMap<String, usize>,
    hasher: std::hash::RandomState,
}

impl Entries {
    /// Gathered entries, indexed by key (their keys are unique, as in a model).
    fn of(entries: Vec<Entry>) -> Entries {
        let mut gathered = Entries::default();
        for (at, entry) in entries.iter().enumerate() {
            gathered.index(&entry.key, at);
        }
        gathered.entries = entries;
        gathered
    }

    fn hash(&self, key: &str) -> u64 {
        std::hash::BuildHasher::hash_one(&self.hasher, key)
    }

    /// Where `key` is among the entries.
    fn find(&self, key: &str) -> Option<usize> {
        match self.first.get(&self.hash(key)) {
            Some(&at) if self.entries.get(at).is_some_and(|e| e.key == key) => Some(at),
            Some(_) => self.more.get(key).copied(),
            None => None,
        }
    }

    /// Notes that `key`, not found, is entry `at`.
    fn index(&mut self, key: &str, at: usize) {
        let hash = self.hash(key);
        if let std::collections::hash_map::Entry::Vacant(slot) = self.first.entry(hash) {
            slot.insert(at);
        } else {
            self.more.insert(key.to_owned(), at);
        }
    }

    /// `count` more occurrences of `key`; the first one seen is kept as the
    /// representative (its source, line and text).
    pub fn add(&mut self, key: String, count: u64, first: impl FnOnce() -> (u32, u64, String)) {
        self.add_key(key, count, first);
    }

    /// [`Entries::add`] for a key owned or borrowed: a borrowed key is
    /// copied only if it is new.
    pub fn add_key(
        &mut self,
        key: impl AsRef<str> + Into<String>,
        count: u64,
        first: impl FnOnce() -> (u32, u64, String),
    ) {
        match self.find(key.as_ref()) {
            Some(at) => {
                let entry = &mut self.entries[at];
                entry.count = entry.count.saturating_add(count);
            }
            None => {
                let (source, line, text) = first();
                let key: String = key.into();
                let at = self.entries.len();
                self.index(&key, at);
                self.entries.push(Entry {
                    key,
                    source,
                    line,
                    text,
                    count,
                });
            }
        }
    }

    /// How many distinct keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries, in the order their keys were first seen.
    pub fn into_vec(self) -> Vec<Entry> {
        self.entries
    }
}

/// Folds baselines into one, in order (see [`Model::merge`]): keys are indexed
/// once, so adding a model costs its own size, not the whole's.
#[derive(Clone, Debug)]
pub struct Merger {
    model: Model,
    entries: Entries,
}

impl Merger {
    /// Starts from `model`.
    pub fn new(mut model: Model) -> Merger {
        let entries = Entries::of(std::mem::take(&mut model.entries));
        Merger { model, entries }
    }

    /// Adds `other` after what is there; on error nothing changed.
    pub fn add(&mut self, other: Model) -> Result<(), ModelError> {
        Merger::check_sizes(&self.model.settings, self.model.sources.len(), &other)?;
        self.add_checked(other);
        Ok(())
    }

    /// Records read from the sources of the models folded so far.
    pub fn records(&self) -> u64 {
        self.model
            .sources
            .iter()
            .fold(0u64, |sum, s| sum.saturating_add(s.records))
    }

    /// The folded model.
    pub fn finish(mut self) -> Model {
        self.model.entries = self.entries.into_vec();
        self.model
    }

    /// What [`Merger::add`] checks before it changes anything.
    fn check(ours: &Model, other: &Model) -> Result<(), ModelError> {
        Merger::check_sizes(&ours.settings, ours.sources.len(), other)
    }

    fn check_sizes(settings: &Settings, sources: usize, other: &Model) -> Result<(), ModelError> {
        if *settings != other.settings {
            return Err(ModelError::Incompatible {
                reason: describe_differences(settings, &other.settings),
            });
        }
        if let Some((i, e)) = other
            .entries
            .iter()
            .enumerate()
            .find(|(_, e)| e.source as usize >= other.sources.len())
        {
            return Err(ModelError::Invalid {
                reason: format!(
                    "entry {i} of the model being merged refers to source {} \
                     but it has only {} sources",
                    e.source,
                    other.sources.len()
                ),
            });
        }
        // Source indices are u32, so all sources together must fit in one.
        let fits = sources
            .checked_add(other.sources.len())
            .is_some_and(|total| u32::try_from(total).is_ok());
        if !fits {
            return Err(ModelError::Invalid {
                reason: format!(
                    "{} + {} sources are more than a model can hold",
                    sources,
                    other.sources.len()
                ),
            });
        }
        Ok(())
    }

    /// Adds `other`, which [`Merger::check`] accepted.
    fn add_checked(&mut self, other: Model) {
        // Cannot truncate: checked that all sources together fit in u32.
        let offset = self.model.sources.len() as u32;
        self.model.sources.extend(other.sources);
        for (name, count) in other.syscalls {
            let tally = self.model.syscalls.entry(name).or_default();
            *tally = tally.saturating_add(count);
        }
        // The models' sources are different runs, so their run counts add.
        for (word, runs) in other.words {
            let tally = self.model.words.entry(word).or_default();
            *tally = tally.saturating_add(runs);
        }
        for entry in other.entries {
            // Cannot overflow: offset + other's source count fits in u32, and
            // entry.source < other's source count.
            let Entry {
                key,
                source,
                line,
                text,
                count,
            } = entry;
            self.entries.add(key, count, || (source + offset, line, text));
        }
    }
}

/// A human explanation of how two settings differ, naming both values.
fn describe_differences(ours: &Settings, theirs: &Settings) -> String {
    let mut diffs = Vec::new();
    if ours.n_features != theirs.n_features {
        diffs.push(format!(
            "n_features is {} here but {} in the other model",
            ours.n_features, theirs.n_features
        ));
    }
    if ours.tokenizer != theirs.tokenizer {
        diffs.push(format!(
            "the tokenizer is {:?} here but {:?} in the other model",
            ours.tokenizer, theirs.tokenizer
        ));
    }
    if ours.window != theirs.window {
        diffs.push(format!(
            "windows are {:?} here but {:?} in the other model",
            ours.window, theirs.window
        ));
    }
    if ours.normalizer != theirs.normalizer {
        diffs.push(format!(
            "normalizer version is {} here but {} in the other model",
            ours.normalizer, theirs.normalizer
        ));
    }
    diffs.join("; ")
}

#[cfg(test)]
#[allow(unsafe_code)] // mkfifo, to test that a FIFO is refused.
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn settings() -> Settings {
        Settings {
            n_features: 1 << 20,
            tokenizer: Tokenizer::Honk,
            normalizer: crate::normalize::VERSION,
            window: Window::default(),
        }
    }

    fn entry(key: &str, source: u32, line: u64, count: u64) -> Entry {
        Entry {
            key: key.to_string(),
            source,
            line,
            text: format!("original: {key}"),
            count,
        }
    }

    fn sample() -> Model {
        Model {
            settings: settings(),
            sources: vec![
                Source {
                    path: "/var/log/a.log".into(),
                    records: 5,
                },
                Source {
                    path: "-".into(),
                    records: 2,
                },
            ],
            entries: vec![
                entry("sshd accepted publickey", 0, 1, 3),
                entry("cron job started", 0, 4, 2),
                entry("kernel usb device", 1, 2, 2),
            ],
            syscalls: [("openat".to_string(), 4), ("read".to_string(), 9)]
                .into_iter()
                .collect(),
            words: [("proj_orion".to_string(), 1), ("main.rs".to_string(), 2)]
                .into_iter()
                .collect(),
        }
    }

    /// Builds a file around already-serialized (uncompressed) payload bytes,
    /// bypassing the checks `to_bytes` makes.
    fn frame_raw(raw: &[u8]) -> Vec<u8> {
        frame(&zstd::bulk::compress(raw, ZSTD_LEVEL).unwrap())
    }

    fn with_version(mut bytes: Vec<u8>, version: u16) -> Vec<u8> {
        bytes[8..10].copy_from_slice(&version.to_le_bytes());
        bytes
    }

    #[test]
    fn round_trip_bytes() {
        let m = sample();
        let bytes = m.to_bytes().unwrap();
        assert_eq!(&bytes[..8], MAGIC);
        assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), FORMAT_VERSION);
        assert_eq!(u16::from_le_bytes([bytes[10], bytes[11]]), 0);
        let len = u64::from_le_bytes(bytes[12..20].try_into().unwrap());
        assert_eq!(len as usize, bytes.len() - HEADER_LEN);
        let crc = u32::from_le_bytes(bytes[20..24].try_into().unwrap());
        assert_eq!(crc, crc32fast::hash(&bytes[HEADER_LEN..]));
        assert_eq!(Model::from_bytes(&bytes).unwrap(), m);

        let empty = Model::new(settings());
        assert_eq!(Model::from_bytes(&empty.to_bytes().unwrap()).unwrap(), empty);
    }

    #[test]
    fn round_trip_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.honk");
        let m = sample();
        m.save(&path).unwrap();
        assert_eq!(Model::load(&path).unwrap(), m);
    }

    #[test]
    fn records_sums_counts() {
        assert_eq!(sample().records(), 7);
        assert_eq!(Model::new(settings()).records(), 0);
    }

    #[test]
    fn merge_adds_counts_keeps_representative_remaps_sources() {
        let mut older = sample();
        let newer = Model {
            settings: settings(),
            sources: vec![Source {
                path: "/var/log/b.log".into(),
                records: 4,
            }],
            entries: vec![
                entry("disk full", 0, 1, 1),
                Entry {
                    text: "a newer occurrence".into(),
                    ..entry("cron job started", 0, 9, 5)
                },
                entry("oom killer invoked", 0, 3, 2),
            ],
            syscalls: BTreeMap::new(),
            words: [("main.rs".to_string(), 1), ("proj_vega".to_string(), 1)]
                .into_iter()
                .collect(),
        };
        older.merge(newer).unwrap();
        assert_eq!(older.words.get("main.rs"), Some(&3), "runs add up");
        assert_eq!(older.words.get("proj_vega"), Some(&1));

        assert_eq!(older.sources.len(), 3);
        assert_eq!(older.sources[2].path, "/var/log/b.log");
        assert_eq!(older.sources[2].records, 4);
        let keys: Vec<&str> = older.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "sshd accepted publickey",
                "cron job started",
                "kernel usb device",
                "disk full",
                "oom killer invoked"
            ]
        );
        // Existing key: count added, older first occurrence kept.
        assert_eq!(
            older.entries[1],
            Entry {
                count: 7,
                ..entry("cron job started", 0, 4, 0)
            }
        );
        // New keys point at the appended source.
        assert_eq!(older.entries[3], entry("disk full", 2, 1, 1));
        assert_eq!(older.entries[4], entry("oom killer invoked", 2, 3, 2));
        assert_eq!(older.records(), 7 + 8);
        // The result is a valid model.
        assert_eq!(Model::from_bytes(&older.to_bytes().unwrap()).unwrap(), older);
    }

    #[test]
    fn merge_folds_repeated_keys_within_other() {
        let mut m = Model::new(settings());
        let mut other = Model::new(settings());
        other.sources.push(Source {
            path: "x".into(),
            records: 2,
        });
        other.entries = vec![entry("a", 0, 1, 1), entry("a", 0, 2, 1)];
        m.merge(other).unwrap();
        assert_eq!(m.entries, vec![entry("a", 0, 1, 2)]);
    }

    #[test]
    fn load_refuses_a_model_of_another_normalizer_but_load_any_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.honk");
        let mut old = sample();
        old.settings.normalizer = crate::normalize::VERSION - 1;
        old.save(&path).unwrap();
        let err = Model::load(&path).unwrap_err();
        assert!(matches!(err, ModelError::Outdated { .. }), "{err:?}");
        assert!(err.to_string().contains("learn it again from its logs"), "{err}");
        assert_eq!(Model::load_any(&path).unwrap(), old);
    }

    #[test]
    fn requested_settings_must_agree_with_the_model() {
        let model = sample();
        let origin = Origin::File(PathBuf::from("m.honk"));
        let same = Requested {
            tokenizer: Some(model.settings.tokenizer),
            features: Some(model.settings.n_features),
            window: Some(model.settings.window),
        };
        model.check_requested(&same, &origin).unwrap();
        model.check_requested(&Requested::default(), &origin).unwrap();
        let err = model
            .check_requested(
                &Requested {
                    features: Some(model.settings.n_features + 1),
                    ..Requested::default()
                },
                &origin,
            )
            .unwrap_err();
        assert!(err.to_string().contains("was built with --features"), "{err}");
        let err = model
            .check_requested(
                &Requested {
                    window: Some(Window { size: 3, args: true }),
                    ..Requested::default()
                },
                &origin,
            )
            .unwrap_err();
        assert!(err.to_string().contains("--window 3 --window-args"), "{err}");
    }

    #[test]
    fn entries_with_one_hash_are_kept_apart() {
        let mut many = Entries::default();
        for round in 0..2u64 {
            for i in 0..10_000 {
                many.add(format!("key {i}"), 1, || (0, round + 1, String::new()));
            }
        }
        assert!(many.more.is_empty());
        assert_eq!(many.len(), 10_000);
        assert!(many.into_vec().iter().all(|e| e.count == 2 && e.line == 1));

        let mut entries = Entries::default();
        entries.add("open a".into(), 1, || (0, 1, "open(a)".into()));
        // Another key under the first one's hash, as a collision would put it.
        let first = entries.hash("open a");
        entries.first.insert(entries.hash("read b"), 0);
        assert_eq!(entries.find("read b"), None);
        entries.add("read b".into(), 1, || (0, 2, "read(b)".into()));
        entries.add("read b".into(), 2, || unreachable!("already there"));
        entries.add("open a".into(), 1, || unreachable!("already there"));
        assert_eq!(entries.first.get(&first), Some(&0));
        let all = entries.into_vec();
        assert_eq!(
            all.iter().map(|e| (e.key.as_str(), e.count)).collect::<Vec<_>>(),
            [("open a", 2), ("read b", 3)]
        );
    }

    #[test]
    fn a_merger_folds_models_as_merge_does_one_at_a_time() {
        let parts: Vec<Model> = (0..4)
            .map(|i| {
                let mut m = Model::new(settings());
                m.sources.push(Source {
                    path: format!("run{i}"),
                    records: 3,
                });
                for key in ["open a", "read b", &format!("only in {i}")] {
                    m.entries.push(Entry {
                        key: key.to_owned(),
                        source: 0,
                        line: i + 1,
                        text: key.to_owned(),
                        count: 1,
                    });
                }
                m
            })
            .collect();
        let mut one_by_one = Model::new(settings());
        for part in parts.clone() {
            one_by_one.merge(part).unwrap();
        }
        let mut merger = Merger::new(Model::new(settings()));
        for part in parts {
            merger.add(part).unwrap();
        }
        let folded = merger.finish();
        assert_eq!(folded, one_by_one);
        assert_eq!(folded.sources.len(), 4);
        assert_eq!(folded.entries.len(), 2 + 4);
        assert_eq!(folded.entries[0].count, 4);
        assert_eq!(folded.entries[5].source, 3);
    }

    #[test]
    fn merge_rejects_incompatible_settings() {
        let mut m = sample();
        let before = m.clone();
        let other = Model::new(Settings {
            n_features: 4096,
            tokenizer: Tokenizer::Sklearn,
            normalizer: crate::normalize::VERSION,
            window: Window::default(),
        });
        let err = m.merge(other).unwrap_err();
        assert!(matches!(err, ModelError::Incompatible { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("n_features") && msg.contains("4096"), "{msg}");
        assert!(msg.contains("tokenizer") && msg.contains("Sklearn"), "{msg}");
        assert!(!msg.contains("normalizer"), "{msg}");
        assert_eq!(m, before);

        let err = m
            .merge(Model::new(Settings {
                normalizer: crate::normalize::VERSION + 1,
                ..settings()
            }))
            .unwrap_err();
        let expected = format!(
            "normalizer version is {} here but {}",
            crate::normalize::VERSION,
            crate::normalize::VERSION + 1
        );
        assert!(err.to_string().contains(&expected), "{err}");
        assert_eq!(m, before);
    }

    #[test]
    fn merge_rejects_invalid_other_without_changing_self() {
        let mut m = sample();
        let before = m.clone();
        let mut other = Model::new(settings());
        other.entries.push(entry("x", 0, 1, 1));
        let err = m.merge(other).unwrap_err();
        assert!(matches!(err, ModelError::Invalid { .. }), "{err:?}");
        assert_eq!(m, before);
    }

    #[test]
    fn empty_is_not_a_model() {
        let err = Model::from_bytes(&[]).unwrap_err();
        assert!(matches!(err, ModelError::NotAModel { .. }), "{err:?}");
        assert!(err.to_string().contains("empty"));
    }

    #[test]
    fn bad_magic_is_not_a_model() {
        let mut bytes = sample().to_bytes().unwrap();
        bytes[0] = b'X';
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(matches!(err, ModelError::NotAModel { .. }), "{err:?}");
        assert!(err.to_string().contains("is not a honk model (bad magic)"));
        let err = Model::from_bytes(b"{\"json\": true}").unwrap_err();
        assert!(matches!(err, ModelError::NotAModel { .. }), "{err:?}");
    }

    #[test]
    fn truncated_header() {
        let bytes = sample().to_bytes().unwrap();
        for len in 1..HEADER_LEN {
            let err = Model::from_bytes(&bytes[..len]).unwrap_err();
            assert!(matches!(err, ModelError::Truncated { .. }), "{len}: {err:?}");
        }
    }

    #[test]
    fn truncated_payload() {
        let bytes = sample().to_bytes().unwrap();
        for len in HEADER_LEN..bytes.len() {
            let err = Model::from_bytes(&bytes[..len]).unwrap_err();
            assert!(matches!(err, ModelError::Truncated { .. }), "{len}: {err:?}");
        }
        let err = Model::from_bytes(&bytes[..bytes.len() - 1]).unwrap_err();
        assert!(err.to_string().contains("announces"), "{err}");
    }

    #[test]
    fn trailing_bytes_are_corrupt() {
        let mut bytes = sample().to_bytes().unwrap();
        bytes.push(0);
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt { .. }), "{err:?}");
    }

    #[test]
    fn flipped_payload_byte_fails_checksum() {
        let mut bytes = sample().to_bytes().unwrap();
        let mid = HEADER_LEN + (bytes.len() - HEADER_LEN) / 2;
        bytes[mid] ^= 0x01;
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("checksum"), "{err}");
    }

    #[test]
    fn every_single_byte_change_is_rejected() {
        let bytes = sample().to_bytes().unwrap();
        for i in 0..bytes.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut b = bytes.clone();
                b[i] ^= mask;
                assert!(Model::from_bytes(&b).is_err(), "byte {i} ^ {mask:#x} accepted");
            }
        }
    }

    #[test]
    fn valid_checksum_over_garbage_is_corrupt() {
        // Not zstd at all.
        let bytes = frame(b"this is not zstd data at all");
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("decompress"), "{err}");

        // Valid zstd, but not a postcard model: a string length far beyond the input.
        let bytes = frame_raw(&[0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]);
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("does not decode"), "{err}");

        // Empty payload.
        let err = Model::from_bytes(&frame(&[])).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt { .. }), "{err:?}");
    }

    #[test]
    fn trailing_bytes_after_encoded_model_are_corrupt() {
        let mut raw = postcard::to_stdvec(&sample()).unwrap();
        raw.extend_from_slice(b"extra");
        let err = Model::from_bytes(&frame_raw(&raw)).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("5 unexpected bytes"), "{err}");
    }

    #[test]
    fn older_version_is_reported_with_what_to_do() {
        let bytes = with_version(sample().to_bytes().unwrap(), 1);
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(
            matches!(err, ModelError::OlderVersion { found: 1, supported, .. } if supported == FORMAT_VERSION),
            "{err:?}"
        );
        assert!(err.to_string().contains("learn the baseline again"), "{err}");
    }

    #[test]
    fn merge_adds_syscall_tallies() {
        let mut a = sample();
        let mut b = Model::new(settings());
        b.syscalls.insert("read".into(), 1);
        b.syscalls.insert("connect".into(), 2);
        a.merge(b).unwrap();
        let tallies: Vec<(&str, u64)> = a.syscalls.iter().map(|(n, c)| (n.as_str(), *c)).collect();
        assert_eq!(tallies, vec![("connect", 2), ("openat", 4), ("read", 10)]);
    }

    #[test]
    fn newer_version_is_reported() {
        let bytes = with_version(sample().to_bytes().unwrap(), FORMAT_VERSION + 1);
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(
            matches!(err, ModelError::NewerVersion { found, supported, .. }
                if found == FORMAT_VERSION + 1 && supported == FORMAT_VERSION),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains("newer") && msg.contains("upgrade honk"), "{msg}");
        // Recognised even when the rest of the header is absent or different.
        let err = Model::from_bytes(&bytes[..10]).unwrap_err();
        assert!(matches!(err, ModelError::NewerVersion { .. }), "{err:?}");

        let err = Model::from_bytes(&with_version(sample().to_bytes().unwrap(), 0)).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt { .. }), "{err:?}");
    }

    #[test]
    fn unknown_flags_are_corrupt() {
        let mut bytes = sample().to_bytes().unwrap();
        bytes[10] = 1;
        let err = Model::from_bytes(&bytes).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("flags"), "{err}");
    }

    #[test]
    fn decoded_models_are_validated() {
        let mut bad_source = sample();
        bad_source.entries[2].source = 2;
        let err = Model::from_bytes(&frame_raw(&postcard::to_stdvec(&bad_source).unwrap())).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("source 2"), "{err}");

        let mut zero_features = sample();
        zero_features.settings.n_features = 0;
        let err = Model::from_bytes(&frame_raw(&postcard::to_stdvec(&zero_features).unwrap())).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("n_features"), "{err}");

        let mut duplicate = sample();
        duplicate.entries.push(entry("cron job started", 1, 7, 1));
        let err = Model::from_bytes(&frame_raw(&postcard::to_stdvec(&duplicate).unwrap())).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("repeats the key"), "{err}");

        // And they are refused on the way out, so they never reach a file.
        let err = bad_source.to_bytes().unwrap_err();
        assert!(matches!(err, ModelError::Invalid { .. }), "{err:?}");
        let dir = tempfile::tempdir().unwrap();
        assert!(duplicate.save(&dir.path().join("m")).is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn decompression_is_capped() {
        let payload = zstd::bulk::compress(&[0u8; 4096], ZSTD_LEVEL).unwrap();
        assert_eq!(decompress(&payload, 4096).unwrap().len(), 4096);
        let err = decompress(&payload, 4095).unwrap_err();
        assert!(err.contains("more than 4095 bytes"), "{err}");
        let err = decode(&frame(&payload), &Origin::Bytes, 100).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt { .. }), "{err:?}");
    }

    #[test]
    fn a_model_too_large_to_read_back_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.honk");
        let old = sample();
        old.save(&path).unwrap();
        let before = fs::read(&path).unwrap();
        let mut big = sample();
        for i in 0..200 {
            big.entries.push(entry(&format!("key number {i}"), 0, i, 1));
        }
        let size = postcard::to_stdvec(&big).unwrap().len() as u64;
        // Over the limit: refused, the old model untouched, nothing left behind.
        let err = big.save_within(&path, size - 1).unwrap_err();
        assert!(matches!(err, ModelError::TooLarge { .. }), "{err:?}");
        assert!(err.to_string().contains("could not be read back"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), before);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        // At the limit: written, and the reader with the same limit takes it.
        big.save_within(&path, size).unwrap();
        assert_eq!(decode(&fs::read(&path).unwrap(), &Origin::Bytes, size).unwrap(), big);
        assert!(decode(&fs::read(&path).unwrap(), &Origin::Bytes, size - 1).is_err());
    }

    #[test]
    fn a_model_that_compresses_beyond_the_reader_s_ratio_is_not_written() {
        let mut m = sample();
        m.entries[0].text = "a".repeat((MIN_DECODED_LIMIT + 1) as usize);
        let err = m.to_bytes().unwrap_err();
        assert!(matches!(err, ModelError::TooLarge { .. }), "{err:?}");
    }

    #[test]
    fn a_decompression_bomb_is_rejected_at_a_limit_set_by_its_size() {
        // 512 MiB of zeros in a few hundred KiB: the reader stops after
        // decoded_limit(its size), 64 MiB, instead of MAX_DECODED_BYTES.
        let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..512 {
            io::Write::write_all(&mut encoder, &zeros).unwrap();
        }
        let payload = encoder.finish().unwrap();
        assert!((payload.len() as u64) * MAX_EXPANSION < MIN_DECODED_LIMIT);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.honk");
        fs::write(&path, frame(&payload)).unwrap();
        let err = Model::load(&path).unwrap_err();
        assert!(matches!(err, ModelError::Corrupt { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains(&format!("more than {MIN_DECODED_LIMIT} bytes")),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn devices_pipes_and_directories_are_not_read_as_models() {
        for path in ["/dev/zero", "/dev/null"] {
            let err = Model::load(Path::new(path)).unwrap_err();
            assert!(matches!(err, ModelError::NotAModel { .. }), "{err:?}");
            assert!(err.to_string().contains("not a regular file"), "{err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // Would block forever if it were opened for reading.
        let err = Model::load(&fifo).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let err = Model::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
        // A large file that is not a model is refused after its first bytes.
        let log = dir.path().join("log");
        fs::write(&log, "x".repeat(100_000)).unwrap();
        let err = Model::load(&log).unwrap_err();
        assert!(err.to_string().contains("bad magic"), "{err}");
    }

    #[test]
    fn load_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.honk");
        fs::write(&path, b"").unwrap();
        let err = Model::load(&path).unwrap_err();
        assert!(matches!(err, ModelError::NotAModel { .. }), "{err:?}");
        assert!(err.to_string().contains(&path.display().to_string()), "{err}");

        let missing = dir.path().join("missing.honk");
        let err = Model::load(&missing).unwrap_err();
        assert!(matches!(err, ModelError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains(&missing.display().to_string()), "{err}");

        let newer = dir.path().join("newer.honk");
        fs::write(&newer, with_version(sample().to_bytes().unwrap(), 7)).unwrap();
        let msg = Model::load(&newer).unwrap_err().to_string();
        assert!(
            msg.contains(&newer.display().to_string()) && msg.contains("newer"),
            "{msg}"
        );
    }

    #[test]
    fn save_replaces_existing_file_without_stray_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.honk");
        fs::write(&path, b"old contents").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        }
        let m = sample();
        m.save(&path).unwrap();
        assert_eq!(Model::load(&path).unwrap(), m);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("model.honk")]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
        }

        // Saving again over a real model works the same way.
        let mut bigger = m.clone();
        bigger.entries.push(entry("new key", 1, 9, 1));
        bigger.save(&path).unwrap();
        assert_eq!(Model::load(&path).unwrap(), bigger);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn save_into_missing_directory_fails_with_io() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no").join("such").join("model.honk");
        let err = sample().save(&path).unwrap_err();
        assert!(matches!(err, ModelError::Io { .. }), "{err:?}");
        assert!(err.to_string().contains(&path.display().to_string()), "{err}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn failed_save_leaves_old_file_intact() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a non-empty directory, so the final rename fails.
        let path = dir.path().join("model.honk");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("keep"), b"x").unwrap();
        let err = sample().save(&path).unwrap_err();
        assert!(matches!(err, ModelError::Io { .. }), "{err:?}");
        assert!(path.join("keep").exists());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("model.honk")]);
    }

    fn arb_model() -> impl Strategy<Value = Model> {
        let settings = (
            1u32..,
            prop_oneof![Just(Tokenizer::Honk), Just(Tokenizer::Sklearn)],
            any::<u32>(),
        )
            .prop_map(|(n_features, tokenizer, normalizer)| Settings {
                n_features,
                tokenizer,
                normalizer,
                window: Window::default(),
            });
        let sources = prop::collection::vec(
            (".{0,12}", any::<u64>()).prop_map(|(path, records)| Source { path, records }),
            1..4,
        );
        let entries = prop::collection::vec((any::<u32>(), 1u64.., ".{0,16}", any::<u64>()), 0..8);
        (settings, sources, entries).prop_map(|(settings, sources, entries)| {
            let n = sources.len() as u32;
            let entries = entries
                .into_iter()
                .enumerate()
                // Index in the key keeps keys unique.
                .map(|(i, (source, line, text, count))| Entry {
                    key: format!("k{i} {text}"),
                    source: source % n,
                    line,
                    text,
                    count,
                })
                .collect();
            Model {
                settings,
                sources,
                entries,
                syscalls: BTreeMap::new(),
                words: Vocabulary::new(),
            }
        })
    }

    #[derive(Clone, Debug)]
    enum Mutation {
        Flip(usize, u8),
        Set(usize, u8),
        Truncate(usize),
        Append(Vec<u8>),
    }

    fn arb_mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            (any::<usize>(), 1u8..).prop_map(|(i, m)| Mutation::Flip(i, m)),
            (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Mutation::Set(i, v)),
            any::<usize>().prop_map(Mutation::Truncate),
            prop::collection::vec(any::<u8>(), 1..8).prop_map(Mutation::Append),
        ]
    }

    fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
        let len = bytes.len();
        if len == 0 && !matches!(mutation, Mutation::Append(_)) {
            return; // nothing left to change
        }
        match *mutation {
            Mutation::Flip(i, mask) => bytes[i % len] ^= mask,
            Mutation::Set(i, v) => bytes[i % len] = v,
            Mutation::Truncate(n) => bytes.truncate(n % len),
            Mutation::Append(ref extra) => bytes.extend_from_slice(extra),
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            prop_assert!(Model::from_bytes(&bytes).is_err());
        }

        #[test]
        fn arbitrary_bytes_after_magic_never_panic(rest in prop::collection::vec(any::<u8>(), 0..256)) {
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&rest);
            let _ = Model::from_bytes(&bytes);
        }

        #[test]
        fn arbitrary_checksummed_payloads_never_panic(payload in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = Model::from_bytes(&frame(&payload));
            let _ = Model::from_bytes(&frame_raw(&payload));
        }

        #[test]
        fn round_trip_arbitrary_models(m in arb_model()) {
            prop_assert_eq!(Model::from_bytes(&m.to_bytes().unwrap()).unwrap(), m);
        }

        #[test]
        fn mutations_never_panic_or_change_content(
            m in arb_model(),
            mutations in prop::collection::vec(arb_mutation(), 1..4),
        ) {
            let original = m.to_bytes().unwrap();
            let mut bytes = original.clone();
            for mutation in &mutations {
                apply(&mut bytes, mutation);
            }
            match Model::from_bytes(&bytes) {
                Ok(decoded) => {
                    prop_assert_eq!(&bytes, &original, "a real change was accepted");
                    prop_assert_eq!(decoded, m);
                }
                Err(_) => prop_assert_ne!(&bytes, &original, "unchanged bytes were rejected"),
            }
        }
    }
}
