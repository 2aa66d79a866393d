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

/// The most a payload may decompress to. A larger payload is reported as
/// corrupt: it bounds the memory a hostile file can make us allocate.
pub const MAX_DECODED_BYTES: u64 = 1 << 32;

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
        origin: Origin,
        /// What we were doing, as a verb phrase ("read", "write", ...).
        action: &'static str,
        source: io::Error,
    },
    /// The data does not start with the model magic (or is empty).
    #[error("{origin} is not a honk model ({reason})")]
    NotAModel { origin: Origin, reason: &'static str },
    /// The data ends before the header says it should.
    #[error("{origin} is truncated: {reason}")]
    Truncated { origin: Origin, reason: String },
    /// The data is damaged: checksum mismatch, undecodable payload, trailing
    /// bytes, or a decoded model that is inconsistent.
    #[error("{origin} is corrupt: {reason}")]
    Corrupt { origin: Origin, reason: String },
    /// The data was written in a model format this honk does not know yet.
    #[error(
        "{origin} was written by a newer honk (model format {found}, \
         this honk reads up to {supported}); upgrade honk"
    )]
    NewerVersion { origin: Origin, found: u16, supported: u16 },
    /// The file was written by an older honk in a format this one no longer reads.
    #[error(
        "{origin} is in model format {found}, which this honk no longer reads (it writes \
         format {supported}); learn the baseline again from its logs"
    )]
    OlderVersion { origin: Origin, found: u16, supported: u16 },
    /// Two models cannot be merged because they were built differently.
    #[error("cannot merge models built with different settings: {reason}")]
    Incompatible { reason: String },
    /// The in-memory model is inconsistent, so it is not written or merged
    /// (writing it would produce a file that cannot be loaded).
    #[error("invalid model: {reason}")]
    Invalid { reason: String },
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
        self.encode(&Origin::Bytes)
    }

    /// Decodes a model from bytes in the file format. Never panics; any
    /// input that is not a valid model is an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        decode(bytes, &Origin::Bytes, MAX_DECODED_BYTES)
    }

    /// Reads a model file. Errors name the file.
    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let origin = Origin::File(path.to_path_buf());
        // Reading the whole file is bounded by its real size, not by anything
        // the file claims about itself.
        let bytes = fs::read(path).map_err(|source| ModelError::Io {
            origin: origin.clone(),
            action: "read",
            source,
        })?;
        decode(&bytes, &origin, MAX_DECODED_BYTES)
    }

    /// Writes the model to `path` atomically ([`crate::write::atomically`]): a
    /// reader sees the old model or the new one, never a mix; on error the
    /// previous file at `path`, if any, is untouched and no temporary file is
    /// left behind. A replaced file keeps its permissions.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let origin = Origin::File(path.to_path_buf());
        let bytes = self.encode(&origin)?;
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
    /// On error `self` is unchanged.
    pub fn merge(&mut self, other: Model) -> Result<(), ModelError> {
        if self.settings != other.settings {
            return Err(ModelError::Incompatible {
                reason: describe_differences(&self.settings, &other.settings),
            });
        }
        // Check everything that can fail before changing anything, so a
        // failed merge leaves `self` as it was.
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
        let fits = self
            .sources
            .len()
            .checked_add(other.sources.len())
            .is_some_and(|total| u32::try_from(total).is_ok());
        if !fits {
            return Err(ModelError::Invalid {
                reason: format!(
                    "{} + {} sources are more than a model can hold",
                    self.sources.len(),
                    other.sources.len()
                ),
            });
        }
        // Cannot truncate: it is at most the total, which fits in u32.
        let offset = self.sources.len() as u32;

        let mut position: HashMap<String, usize> = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.key.clone(), i))
            .collect();
        self.sources.extend(other.sources);
        for (name, count) in other.syscalls {
            let tally = self.syscalls.entry(name).or_default();
            *tally = tally.saturating_add(count);
        }
        // The two models' sources are different runs, so their run counts add.
        for (word, runs) in other.words {
            let tally = self.words.entry(word).or_default();
            *tally = tally.saturating_add(runs);
        }
        for mut entry in other.entries {
            if let Some(&i) = position.get(&entry.key) {
                let existing = &mut self.entries[i];
                existing.count = existing.count.saturating_add(entry.count);
            } else {
                // Cannot overflow: checked above that offset + other's source
                // count fits in u32, and entry.source < other's source count.
                entry.source += offset;
                position.insert(entry.key.clone(), self.entries.len());
                self.entries.push(entry);
            }
        }
        Ok(())
    }

    /// Validates, then encodes. `origin` is only used in error messages.
    fn encode(&self, origin: &Origin) -> Result<Vec<u8>, ModelError> {
        if let Err(reason) = self.check() {
            return Err(ModelError::Invalid { reason });
        }
        let raw = postcard::to_stdvec(self).map_err(|e| ModelError::Invalid {
            reason: format!("cannot serialize it: {e}"),
        })?;
        let payload = zstd::bulk::compress(&raw, ZSTD_LEVEL).map_err(|source| ModelError::Io {
            origin: origin.clone(),
            action: "compress",
            source,
        })?;
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

    let raw = decompress(payload, limit).map_err(corrupt)?;
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn settings() -> Settings {
        Settings {
            n_features: 1 << 20,
            tokenizer: Tokenizer::Honk,
            normalizer: 1,
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
    fn merge_rejects_incompatible_settings() {
        let mut m = sample();
        let before = m.clone();
        let other = Model::new(Settings {
            n_features: 4096,
            tokenizer: Tokenizer::Sklearn,
            normalizer: 1,
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
                normalizer: 2,
                ..settings()
            }))
            .unwrap_err();
        assert!(err.to_string().contains("normalizer version is 1 here but 2"));
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
