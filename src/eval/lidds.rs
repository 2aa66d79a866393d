//! LID-DS: the Leipzig Intrusion Detection Data Set (2021) and the way its authors evaluate a detector.
//!
//! A LID-DS scenario is a directory of recordings, `training/`, `validation/`,
//! `test/normal/` and `test/normal_and_attack/`, each recording a zip holding
//! `NAME.sc` (sysdig text, one event per line, the first field a nanosecond Unix
//! time), `NAME.json` (metadata: whether an exploit ran, and when), `NAME.res` and
//! `NAME.pcap`. This module:
//!
//! - lists a scenario's recordings ([`scenario_layout`]);
//! - reads a recording's metadata ([`read_metadata`]): its name and, for an attack
//!   recording, the exploit time in nanoseconds;
//! - finds the first `.sc` line at or after the exploit time ([`exploit_line`],
//!   or [`exploit_line_in`] reading the recording itself), since honk names a
//!   record by its 1-based line;
//! - computes the LID-DS metrics over recordings whose events are scored
//!   ([`evaluate`]), as the data set's own framework does: per event, an alarm is
//!   a score strictly above the threshold (the highest score seen on the
//!   validation recordings, [`threshold`]); an attack recording is detected by its
//!   first alarm at or after the exploit; a maximal run of false alarms within one
//!   recording counts once, as one consecutive false alarm (cfa).
//!
//! Besides zips, a recording may be an unzipped directory holding `NAME.json`
//! beside `NAME.sc`, or (for the metadata) the `NAME.json` file itself.
//!
//! Not done here: nothing is parsed, learnt or scored (that is the pipeline's
//! job), `.res` and `.pcap` members are ignored, only the first exploit time of a
//! recording is used, and the 2019 version of LID-DS (whose layout and metadata
//! differ) is not read.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::read::{Input, Lines, ReadError};

/// Largest metadata file read, in bytes. LID-DS's are well under a kilobyte.
pub const MAX_METADATA_BYTES: u64 = 4 * 1024 * 1024;

/// The subfolders of a LID-DS scenario, as [`Layout`] holds them.
const SCENARIO_FOLDERS: [&str; 4] = ["training", "validation", "test/normal", "test/normal_and_attack"];

/// Why a LID-DS recording or scenario cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LidDsError {
    /// A file or directory could not be opened or listed.
    #[error("cannot read {path}")]
    Open {
        /// The path; for a zip member, `ARCHIVE/MEMBER`.
        path: String,
        /// What the operating system (or the zip reader) said.
        #[source]
        source: io::Error,
    },
    /// The file is not a zip archive.
    #[error("{path} is not a zip archive, as a LID-DS recording is: {reason}")]
    NotAZip {
        /// The file's path.
        path: String,
        /// What the zip reader said.
        reason: String,
    },
    /// A member of a zip archive could not be read.
    #[error("cannot read {member} in the zip archive {path}: {reason}")]
    Zip {
        /// The archive's path.
        path: String,
        /// The member's name in the archive.
        member: String,
        /// What the zip reader said.
        reason: String,
    },
    /// The recording holds no member (or file) with the given extension.
    #[error("{path} has no .{extension} file; a LID-DS recording holds NAME.sc, NAME.json, NAME.res and NAME.pcap")]
    Missing {
        /// The zip archive or directory searched.
        path: String,
        /// The extension looked for, without the dot: `"sc"` or `"json"`.
        extension: &'static str,
    },
    /// A directory holds several candidate files and none is named after it.
    #[error(
        "{path} holds {count} .{extension} files and none is named after the directory; \
         give one recording (its zip, its directory or its NAME.json)"
    )]
    Ambiguous {
        /// The directory.
        path: String,
        /// How many files in it have the extension (2 or more).
        count: usize,
        /// The extension looked for, without the dot: `"sc"` or `"json"`.
        extension: &'static str,
    },
    /// The metadata is larger than [`MAX_METADATA_BYTES`].
    #[error("the metadata {path} is larger than {limit} bytes; LID-DS metadata is a small JSON object")]
    TooLarge {
        /// The metadata file; for a zip member, `ARCHIVE/MEMBER`.
        path: String,
        /// The largest size accepted, in bytes: [`MAX_METADATA_BYTES`].
        limit: u64,
    },
    /// The metadata is not the JSON LID-DS writes.
    #[error("the metadata {path} is not LID-DS JSON: {reason}")]
    BadJson {
        /// The metadata file; for a zip member, `ARCHIVE/MEMBER`.
        path: String,
        /// What is wrong: the JSON parser's message, or the field that is missing or of the wrong type.
        reason: String,
    },
    /// The metadata says an exploit ran but not when.
    #[error(
        "the metadata {path} says \"exploit\": true but gives no time.exploit[0].absolute (a Unix time in seconds)"
    )]
    NoExploitTime {
        /// The metadata file; for a zip member, `ARCHIVE/MEMBER`.
        path: String,
    },
    /// The directory lacks some of a scenario's subfolders.
    #[error(
        "{path} is not a LID-DS scenario: it has no {missing} folder \
         (a scenario holds training/, validation/, test/normal/ and test/normal_and_attack/)"
    )]
    NotAScenario {
        /// The directory given as the scenario.
        path: String,
        /// The missing subfolders, each with a trailing `/`, joined by " or ".
        missing: String,
    },
    /// Reading a recording's events failed.
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// One recording's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recording {
    /// The recording's name: the zip's (or directory's, or JSON file's) name without extension.
    pub name: String,
    /// When the exploit started, in nanoseconds since the Unix epoch; `None` for a normal recording.
    pub exploit_time_ns: Option<u64>,
}

impl Recording {
    /// Whether an exploit ran during the recording.
    pub fn is_attack(&self) -> bool {
        self.exploit_time_ns.is_some()
    }
}

/// A scenario's recordings, each list sorted by path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    /// `training/`: normal recordings to learn from.
    pub training: Vec<PathBuf>,
    /// `validation/`: normal recordings that set the threshold.
    pub validation: Vec<PathBuf>,
    /// `test/normal/`: normal recordings to evaluate on.
    pub test_normal: Vec<PathBuf>,
    /// `test/normal_and_attack/`: recordings with an exploit to evaluate on.
    pub test_normal_and_attack: Vec<PathBuf>,
}

/// List the recordings of the LID-DS scenario `dir`: in each subfolder, every
/// `.zip` file and every directory (an unzipped recording), hidden entries and
/// other files left out.
pub fn scenario_layout(dir: &Path) -> Result<Layout, LidDsError> {
    let meta = std::fs::metadata(dir).map_err(|source| open_error(dir, source))?;
    if !meta.is_dir() {
        return Err(open_error(
            dir,
            io::Error::other("it is not a directory; give a LID-DS scenario directory"),
        ));
    }
    let missing: Vec<String> = SCENARIO_FOLDERS
        .iter()
        .filter(|folder| !dir.join(folder).is_dir())
        .map(|folder| format!("{folder}/"))
        .collect();
    if !missing.is_empty() {
        return Err(LidDsError::NotAScenario {
            path: dir.display().to_string(),
            missing: missing.join(" or "),
        });
    }
    let [training, validation, test_normal, test_normal_and_attack] = SCENARIO_FOLDERS;
    Ok(Layout {
        training: recordings_in(&dir.join(training))?,
        validation: recordings_in(&dir.join(validation))?,
        test_normal: recordings_in(&dir.join(test_normal))?,
        test_normal_and_attack: recordings_in(&dir.join(test_normal_and_attack))?,
    })
}

/// The `.zip` files and the directories directly in `folder`, sorted.
fn recordings_in(folder: &Path) -> Result<Vec<PathBuf>, LidDsError> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).map_err(|source| open_error(folder, source))? {
        let entry = entry.map_err(|source| open_error(folder, source))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        // Follows symbolic links, as a scenario assembled from links should work.
        if path.is_dir() || (has_extension(&path, "zip") && path.is_file()) {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// Read a recording's metadata: from a LID-DS zip (its `.json` member), from an
/// unzipped recording directory (its `.json` file), or from the `NAME.json` file itself.
pub fn read_metadata(path: &Path) -> Result<Recording, LidDsError> {
    let (name, bytes, shown) = if path.is_dir() {
        let json = file_in_directory(path, "json")?;
        let bytes = read_bounded(
            File::open(&json).map_err(|s| open_error(&json, s))?,
            &json.display().to_string(),
        )?;
        (stem(&json), bytes, json.display().to_string())
    } else if has_extension(path, "json") {
        let bytes = read_bounded(
            File::open(path).map_err(|s| open_error(path, s))?,
            &path.display().to_string(),
        )?;
        (stem(path), bytes, path.display().to_string())
    } else {
        let mut archive = open_zip(path)?;
        let member = member_with_extension(&archive, path, "json")?;
        let shown = format!("{}/{member}", path.display());
        let zip_error = |reason: String| LidDsError::Zip {
            path: path.display().to_string(),
            member: member.clone(),
            reason,
        };
        let file = archive.by_name(&member).map_err(|e| zip_error(e.to_string()))?;
        if file.size() > MAX_METADATA_BYTES {
            return Err(LidDsError::TooLarge {
                path: shown,
                limit: MAX_METADATA_BYTES,
            });
        }
        let bytes = read_bounded(file, &shown)?;
        (stem(path), bytes, shown)
    };
    Ok(Recording {
        name,
        exploit_time_ns: parse_metadata(&bytes, &shown)?,
    })
}

/// The exploit time of LID-DS metadata, in nanoseconds; `None` when no exploit ran.
fn parse_metadata(bytes: &[u8], shown: &str) -> Result<Option<u64>, LidDsError> {
    let bad = |reason: &str| LidDsError::BadJson {
        path: shown.to_owned(),
        reason: reason.to_owned(),
    };
    let value: Value = serde_json::from_slice(bytes).map_err(|e| bad(&e.to_string()))?;
    if !value.is_object() {
        return Err(bad("it is not a JSON object"));
    }
    match value.get("exploit") {
        Some(Value::Bool(false)) => return Ok(None),
        Some(Value::Bool(true)) => {}
        Some(_) => return Err(bad("\"exploit\" is not true or false")),
        None => return Err(bad("it has no \"exploit\" field (true or false)")),
    }
    let seconds = value
        .pointer("/time/exploit/0/absolute")
        .and_then(Value::as_f64)
        .ok_or_else(|| LidDsError::NoExploitTime { path: shown.to_owned() })?;
    seconds_to_ns(seconds)
        .map(Some)
        .ok_or_else(|| bad(&format!("the exploit time {seconds} is not a Unix time in seconds")))
}

/// Seconds to nanoseconds as LID-DS's framework converts them: cut to whole
/// microseconds, then times a thousand. `None` for a negative, infinite or
/// unrepresentable time.
fn seconds_to_ns(seconds: f64) -> Option<u64> {
    let micros = (seconds * 1e6).trunc();
    // 2^64 / 1000 microseconds, in f64; comparisons with NaN are false.
    if !(0.0..1.8e16).contains(&micros) {
        return None;
    }
    (micros as u64).checked_mul(1000)
}

/// The 1-based number of the first line whose leading number (a nanosecond
/// time) is at least `exploit_time_ns`; `None` when there is none. Lines whose
/// first field is not a number are counted but never chosen.
///
/// Records on this line and after are after the exploit; as in LID-DS, the
/// lines are taken to be in time order.
pub fn exploit_line<I, S>(lines: I, exploit_time_ns: u64) -> Option<u64>
where
    I: IntoIterator<Item = S>,
    S: AsRef<[u8]>,
{
    (1u64..)
        .zip(lines)
        .find(|(_, line)| leading_number(line.as_ref()).is_some_and(|t| t >= exploit_time_ns))
        .map(|(number, _)| number)
}

/// The first field of a line when it is a whole number.
fn leading_number(line: &[u8]) -> Option<u64> {
    let start = line.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = &line[start..];
    let end = rest.iter().position(u8::is_ascii_whitespace).unwrap_or(rest.len());
    let field = &rest[..end];
    if !field.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(field).ok()?.parse().ok()
}

/// [`exploit_line`] over the `.sc` events of a recording (a LID-DS zip or an
/// unzipped directory), read and numbered as honk reads its inputs.
pub fn exploit_line_in(recording: &Path, exploit_time_ns: u64) -> Result<Option<u64>, LidDsError> {
    let input = if recording.is_dir() {
        Input::File(file_in_directory(recording, "sc")?)
    } else {
        let archive = open_zip(recording)?;
        Input::ZipEntry {
            archive: recording.to_path_buf(),
            entry: member_with_extension(&archive, recording, "sc")?,
        }
    };
    let mut lines = Lines::new(input.open()?);
    let mut line = String::new();
    while let Some(number) = lines.next_line(&mut line).map_err(|e| input.error(e))? {
        if leading_number(line.as_bytes()).is_some_and(|t| t >= exploit_time_ns) {
            return Ok(Some(number));
        }
    }
    Ok(None)
}

/// One recording's scored events, for [`evaluate`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScoredRecording {
    /// For an attack recording, the first line after the exploit (see
    /// [`exploit_line`]); `None` for a normal recording. An attack recording
    /// whose events all precede the exploit is `Some(u64::MAX)`.
    pub attack_from_line: Option<u64>,
    /// Each event's line and score, in line order.
    pub events: Vec<(u64, f64)>,
}

/// The LID-DS metrics over test recordings.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LidDsMetrics {
    /// An event is an alarm when its score is strictly above this.
    pub threshold: f64,
    /// Attack recordings.
    pub exploit_count: u64,
    /// Attack recordings with an alarm at or after the exploit (LID-DS's `alarm_count`).
    pub detected: u64,
    /// `detected / exploit_count` (LID-DS's recall), 0 without attack recordings.
    pub detection_rate: f64,
    /// `detected / (detected + cfa_normal + cfa_exploits)`, 0 when that is 0/0.
    pub precision_with_cfa: f64,
    /// The harmonic mean of `precision_with_cfa` and `detection_rate`, 0 when both are 0.
    pub f1_cfa: f64,
    /// Alarms in normal recordings, and before the exploit in attack recordings.
    pub false_positives: u64,
    /// Alarms at or after the exploit.
    pub true_positives: u64,
    /// Events without alarm in normal recordings and before the exploit.
    pub true_negatives: u64,
    /// Events without alarm at or after the exploit.
    pub false_negatives: u64,
    /// Runs of consecutive false alarms in normal recordings.
    pub cfa_normal: u64,
    /// Runs of consecutive false alarms (before the exploit) in attack recordings.
    pub cfa_exploits: u64,
}

/// The threshold LID-DS uses: the highest score seen on the validation
/// recordings (`None` when there is no score that is a number).
pub fn threshold<I: IntoIterator<Item = f64>>(validation_scores: I) -> Option<f64> {
    validation_scores.into_iter().filter(|s| !s.is_nan()).reduce(f64::max)
}

/// Score test recordings as LID-DS does. An event is an alarm when its score is
/// strictly above `threshold` (a NaN score never is). In an attack recording an
/// alarm on a line before `attack_from_line` is a false positive, one on or after
/// it a true positive, and the first of those detects the recording; in a normal
/// recording every alarm is false. A run of false alarms ends at an event without
/// alarm, at a true alarm or at the end of its recording, and counts as one
/// consecutive false alarm.
pub fn evaluate(recordings: &[ScoredRecording], threshold: f64) -> LidDsMetrics {
    let mut m = LidDsMetrics {
        threshold,
        ..LidDsMetrics::default()
    };
    for recording in recordings {
        let attack = recording.attack_from_line.is_some();
        if attack {
            m.exploit_count += 1;
        }
        let mut detected = false;
        let mut in_false_run = false;
        for &(line, score) in &recording.events {
            let alarm = score > threshold;
            let after_exploit = recording.attack_from_line.is_some_and(|from| line >= from);
            match (alarm, after_exploit) {
                (true, false) => {
                    m.false_positives += 1;
                    if !in_false_run {
                        in_false_run = true;
                        // Every run ends (at the latest with its recording), so
                        // counting it where it starts counts it once.
                        if attack {
                            m.cfa_exploits += 1;
                        } else {
                            m.cfa_normal += 1;
                        }
                    }
                }
                (true, true) => {
                    in_false_run = false;
                    m.true_positives += 1;
                    if !detected {
                        detected = true;
                        m.detected += 1;
                    }
                }
                (false, false) => {
                    in_false_run = false;
                    m.true_negatives += 1;
                }
                (false, true) => {
                    in_false_run = false;
                    m.false_negatives += 1;
                }
            }
        }
    }
    m.update_rates();
    m
}

impl LidDsMetrics {
    /// Adds the counts of `other`, evaluated at the same threshold over other
    /// recordings, and recomputes the rates: the metrics of both sets at once.
    /// Recordings can so be scored and evaluated one at a time.
    pub fn merge(&mut self, other: &LidDsMetrics) {
        self.exploit_count += other.exploit_count;
        self.detected += other.detected;
        self.false_positives += other.false_positives;
        self.true_positives += other.true_positives;
        self.true_negatives += other.true_negatives;
        self.false_negatives += other.false_negatives;
        self.cfa_normal += other.cfa_normal;
        self.cfa_exploits += other.cfa_exploits;
        self.update_rates();
    }

    fn update_rates(&mut self) {
        self.detection_rate = ratio(self.detected, self.exploit_count);
        self.precision_with_cfa = ratio(self.detected, self.detected + self.cfa_normal + self.cfa_exploits);
        let sum = self.precision_with_cfa + self.detection_rate;
        self.f1_cfa = if sum == 0.0 {
            0.0
        } else {
            2.0 * self.precision_with_cfa * self.detection_rate / sum
        };
    }
}

/// `numerator / denominator`, 0 when the denominator is.
fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

fn open_error(path: &Path, source: io::Error) -> LidDsError {
    LidDsError::Open {
        path: path.display().to_string(),
        source,
    }
}

fn has_extension(path: &Path, extension: &str) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case(extension))
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn open_zip(path: &Path) -> Result<zip::ZipArchive<File>, LidDsError> {
    let file = File::open(path).map_err(|source| open_error(path, source))?;
    zip::ZipArchive::new(file).map_err(|e| LidDsError::NotAZip {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// The zip member ending in `.extension`: the one named after the archive if
/// there is one (LID-DS's `NAME.zip` holds `NAME.sc`), else the first by name.
fn member_with_extension(
    archive: &zip::ZipArchive<File>,
    path: &Path,
    extension: &'static str,
) -> Result<String, LidDsError> {
    let mut members: Vec<&str> = archive
        .file_names()
        .filter(|name| !name.ends_with('/') && has_extension(Path::new(name), extension))
        .collect();
    members.sort_unstable();
    let own = stem(path);
    members
        .iter()
        .find(|name| Path::new(name).file_stem().is_some_and(|s| s.to_string_lossy() == own))
        .or(members.first())
        .map(|name| (*name).to_owned())
        .ok_or_else(|| LidDsError::Missing {
            path: path.display().to_string(),
            extension,
        })
}

/// The file ending in `.extension` in the directory `dir`: the one named after
/// the directory, else the only one.
fn file_in_directory(dir: &Path, extension: &'static str) -> Result<PathBuf, LidDsError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|source| open_error(dir, source))? {
        let path = entry.map_err(|source| open_error(dir, source))?.path();
        if has_extension(&path, extension) && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    let own = stem(dir);
    if let Some(named) = files.iter().find(|f| stem(f) == own) {
        return Ok(named.clone());
    }
    match files.len() {
        0 => Err(LidDsError::Missing {
            path: dir.display().to_string(),
            extension,
        }),
        1 => Ok(files.swap_remove(0)),
        count => Err(LidDsError::Ambiguous {
            path: dir.display().to_string(),
            count,
            extension,
        }),
    }
}

/// All of `reader`, refusing more than [`MAX_METADATA_BYTES`].
fn read_bounded<R: Read>(reader: R, shown: &str) -> Result<Vec<u8>, LidDsError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_METADATA_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| LidDsError::Open {
            path: shown.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > MAX_METADATA_BYTES {
        return Err(LidDsError::TooLarge {
            path: shown.to_owned(),
            limit: MAX_METADATA_BYTES,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn normal(events: &[(u64, f64)]) -> ScoredRecording {
        ScoredRecording {
            attack_from_line: None,
            events: events.to_vec(),
        }
    }

    fn attack(from: u64, events: &[(u64, f64)]) -> ScoredRecording {
        ScoredRecording {
            attack_from_line: Some(from),
            events: events.to_vec(),
        }
    }

    /// Events on lines 1, 2, … with score 1 where `pattern` has `x`, 0 where `.`.
    fn events(pattern: &str) -> Vec<(u64, f64)> {
        (1u64..)
            .zip(pattern.chars())
            .map(|(line, c)| (line, if c == 'x' { 1.0 } else { 0.0 }))
            .collect()
    }

    #[test]
    fn normal_recording_counts_each_run_of_false_alarms_once() {
        let m = evaluate(&[normal(&events("xx.x"))], 0.5);
        assert_eq!(
            (m.false_positives, m.true_negatives, m.cfa_normal, m.cfa_exploits),
            (3, 1, 2, 0)
        );
        assert_eq!(
            (m.true_positives, m.false_negatives, m.exploit_count, m.detected),
            (0, 0, 0, 0)
        );
        // No attack recording: nothing to detect, and 0/(0+2) precision.
        assert_eq!((m.detection_rate, m.precision_with_cfa, m.f1_cfa), (0.0, 0.0, 0.0));
    }

    #[test]
    fn attack_recording_with_false_alarms_before_and_a_detection_after() {
        // Lines 1..6, exploit from line 4: x x . | . x x
        let m = evaluate(&[attack(4, &events("xx..xx"))], 0.5);
        assert_eq!((m.false_positives, m.cfa_exploits, m.true_negatives), (2, 1, 1));
        assert_eq!((m.false_negatives, m.true_positives), (1, 2));
        assert_eq!((m.exploit_count, m.detected, m.cfa_normal), (1, 1, 0));
        assert_eq!(m.detection_rate, 1.0);
        assert_eq!(m.precision_with_cfa, 0.5); // 1 / (1 + 0 + 1)
        assert_eq!(m.f1_cfa, 2.0 * 0.5 * 1.0 / 1.5);
    }

    #[test]
    fn a_run_of_false_alarms_ends_at_the_exploit_line() {
        // . x x | x x: the false run (lines 2-3) ends where the true alarms begin.
        let m = evaluate(&[attack(4, &events(".xxxx"))], 0.5);
        assert_eq!(
            (m.false_positives, m.cfa_exploits, m.true_positives, m.detected),
            (2, 1, 2, 1)
        );
        assert_eq!((m.true_negatives, m.false_negatives), (1, 0));
        // The exploit line falling between scored lines: lines 1, 3, 7 with the exploit at 5.
        let m = evaluate(&[attack(5, &[(1, 1.0), (3, 1.0), (7, 1.0)])], 0.5);
        assert_eq!(
            (m.false_positives, m.cfa_exploits, m.true_positives, m.detected),
            (2, 1, 1, 1)
        );
    }

    #[test]
    fn runs_end_with_their_recording() {
        // Two recordings, each ending and starting with a false alarm: three runs, not one.
        let m = evaluate(
            &[normal(&events(".x")), normal(&events("x.")), attack(9, &events("x"))],
            0.5,
        );
        assert_eq!((m.cfa_normal, m.cfa_exploits, m.false_positives), (2, 1, 3));
        // A recording whose exploit comes after its last event.
        let m = evaluate(&[attack(u64::MAX, &events("x.x"))], 0.5);
        assert_eq!(
            (m.cfa_exploits, m.true_negatives, m.detected, m.exploit_count),
            (2, 1, 0, 1)
        );
    }

    #[test]
    fn attack_recording_without_alarm_after_the_exploit_is_missed() {
        let m = evaluate(&[attack(3, &events("x...")), normal(&events("..."))], 0.5);
        assert_eq!(
            (m.false_positives, m.cfa_exploits, m.true_negatives, m.false_negatives),
            (1, 1, 4, 2)
        );
        assert_eq!((m.true_positives, m.detected, m.exploit_count), (0, 0, 1));
        assert_eq!((m.detection_rate, m.precision_with_cfa, m.f1_cfa), (0.0, 0.0, 0.0));
    }

    #[test]
    fn detection_counts_once_per_recording_and_precision_counts_both_kinds_of_runs() {
        let m = evaluate(
            &[
                attack(3, &events("..xxx")), // detected, no false alarm
                attack(3, &events("x.x.x")), // detected, one run before
                attack(2, &events("....")),  // missed
                normal(&events("x.xx.")),    // two runs
            ],
            0.5,
        );
        assert_eq!((m.exploit_count, m.detected, m.true_positives), (3, 2, 5));
        assert_eq!((m.cfa_exploits, m.cfa_normal, m.false_positives), (1, 2, 4));
        assert_eq!(m.detection_rate, 2.0 / 3.0);
        assert_eq!(m.precision_with_cfa, 2.0 / 5.0);
        let (p, r) = (2.0 / 5.0, 2.0 / 3.0);
        assert_eq!(m.f1_cfa, 2.0 * p * r / (p + r));
    }

    #[test]
    fn alarms_are_strictly_above_the_threshold() {
        let m = evaluate(&[normal(&[(1, 0.5), (2, 0.50001), (3, f64::NAN)])], 0.5);
        assert_eq!((m.false_positives, m.true_negatives, m.cfa_normal), (1, 2, 1));
        assert_eq!(threshold([0.1, f64::NAN, 0.7, 0.3]), Some(0.7));
        assert_eq!(threshold([f64::NAN]), None);
        assert_eq!(threshold(std::iter::empty()), None);
    }

    #[test]
    fn empty_classes_give_zeros_not_nan() {
        let m = evaluate(&[], 0.0);
        assert_eq!(m, LidDsMetrics::default());
        let m = evaluate(&[normal(&[]), attack(1, &[])], 0.0);
        assert_eq!(
            (m.exploit_count, m.detected, m.detection_rate, m.f1_cfa),
            (1, 0, 0.0, 0.0)
        );
        // Only attack recordings, all detected without a false alarm.
        let m = evaluate(&[attack(1, &events("x"))], 0.0);
        assert_eq!((m.detection_rate, m.precision_with_cfa, m.f1_cfa), (1.0, 1.0, 1.0));
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["cfa_exploits"], 0);
        assert_eq!(json["f1_cfa"], 1.0);
    }

    #[test]
    fn exploit_line_is_the_first_line_at_or_after_the_exploit() {
        let sc = "\
# a header
1631209047000000000 33 29092 apache2 29092 accept4 > flags=0

1631209047999999999 33 29092 apache2 29092 read > fd=9
1631209048000000000 33 29092 apache2 29092 read < res=52
1631209049000000000 33 29092 apache2 29092 close > fd=9";
        assert_eq!(exploit_line(sc.lines(), 1_631_209_048_000_000_000), Some(5));
        assert_eq!(exploit_line(sc.lines(), 1_631_209_047_500_000_000), Some(4));
        assert_eq!(exploit_line(sc.lines(), 0), Some(2));
        assert_eq!(exploit_line(sc.lines(), 1_631_209_050_000_000_000), None);
        // Fields that are not whole numbers, or too large, are skipped.
        let odd = ["12abc 1", "-5 x", "99999999999999999999999 x", "  42 x"];
        assert_eq!(exploit_line(odd.iter(), 1), Some(4));
        assert_eq!(exploit_line(Vec::<String>::new(), 1), None);
    }

    #[test]
    fn the_lidds_sysdig_fixture_has_an_exploit_line() {
        let text = std::fs::read_to_string("tests/fixtures/sysdig/lidds-2021.sc").unwrap();
        assert_eq!(exploit_line(text.lines(), 1_631_209_047_761_541_230), Some(3));
    }

    #[test]
    fn seconds_become_nanoseconds_as_lidds_converts_them() {
        assert_eq!(seconds_to_ns(1631610418.52), Some(1_631_610_418_520_000_000));
        // Cut to whole microseconds, as int(t * 10**6) * 10**3 does.
        assert_eq!(seconds_to_ns(1631610418.1234567), Some(1_631_610_418_123_456_000));
        assert_eq!(seconds_to_ns(0.0), Some(0));
        assert_eq!(seconds_to_ns(-1.0), None);
        assert_eq!(seconds_to_ns(f64::NAN), None);
        assert_eq!(seconds_to_ns(f64::INFINITY), None);
        assert_eq!(seconds_to_ns(1e300), None);
    }

    const ATTACK_JSON: &str = r#"{"container": [{"ip": "172.17.0.2", "name": "victim", "role": "victim"}],
        "exploit": true, "exploit_name": "CVE-2017-7529", "image": "nginx:1.13.2", "recording_time": 30,
        "time": {"container_ready": {"absolute": 1631610402.27, "source": "T1"},
                 "warmup_end": {"absolute": 1631610412.3, "source": "T1"},
                 "exploit": [{"absolute": 1631610418.52, "name": "exploit", "source": "T2"}]}}"#;

    const NORMAL_JSON: &str = r#"{"container": [], "exploit": false, "exploit_name": "no exploit",
        "image": "nginx:1.13.2", "recording_time": 30, "time": {"exploit": []}}"#;

    /// A zip at `dir/name` holding `members` (name, contents), deflated.
    fn zip_with(dir: &Path, name: &str, members: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join(name);
        let mut writer = zip::ZipWriter::new(File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (member, contents) in members {
            writer.start_file(*member, options).unwrap();
            writer.write_all(contents).unwrap();
        }
        writer.finish().unwrap();
        path
    }

    #[test]
    fn metadata_of_attack_and_normal_zips() {
        let dir = tempfile::tempdir().unwrap();
        let sc = b"1631610418000000000 0 1 a 1 read > fd=1\n1631610418600000000 0 1 a 1 read < res=1\n";
        let zip = zip_with(
            dir.path(),
            "bold_hopper_4291.zip",
            &[
                ("bold_hopper_4291.sc", sc),
                ("bold_hopper_4291.json", ATTACK_JSON.as_bytes()),
                ("bold_hopper_4291.res", b"cpu,memory\n"),
            ],
        );
        let recording = read_metadata(&zip).unwrap();
        assert_eq!(
            recording,
            Recording {
                name: "bold_hopper_4291".into(),
                exploit_time_ns: Some(1_631_610_418_520_000_000)
            }
        );
        assert!(recording.is_attack());
        assert_eq!(exploit_line_in(&zip, 1_631_610_418_520_000_000).unwrap(), Some(2));

        let zip = zip_with(
            dir.path(),
            "calm_lovelace_1.zip",
            &[
                ("calm_lovelace_1.sc", b""),
                ("calm_lovelace_1.json", NORMAL_JSON.as_bytes()),
            ],
        );
        let recording = read_metadata(&zip).unwrap();
        assert_eq!(recording.exploit_time_ns, None);
        assert_eq!(recording.name, "calm_lovelace_1");
        assert_eq!(exploit_line_in(&zip, 0).unwrap(), None);
    }

    #[test]
    fn metadata_of_an_unzipped_recording_and_of_the_json_itself() {
        let dir = tempfile::tempdir().unwrap();
        let recording = dir.path().join("bold_hopper_4291");
        std::fs::create_dir(&recording).unwrap();
        std::fs::write(recording.join("bold_hopper_4291.json"), ATTACK_JSON).unwrap();
        std::fs::write(recording.join("bold_hopper_4291.sc"), "1 x\n1631610418520000000 y\n").unwrap();
        let read = read_metadata(&recording).unwrap();
        assert_eq!(read.exploit_time_ns, Some(1_631_610_418_520_000_000));
        assert_eq!(read.name, "bold_hopper_4291");
        assert_eq!(exploit_line_in(&recording, 1_631_610_418_520_000_000).unwrap(), Some(2));
        let read = read_metadata(&recording.join("bold_hopper_4291.json")).unwrap();
        assert_eq!(read.name, "bold_hopper_4291");

        // Several JSON files, none named after the directory: which one is unclear.
        let mixed = dir.path().join("mixed");
        std::fs::create_dir(&mixed).unwrap();
        std::fs::write(mixed.join("a.json"), NORMAL_JSON).unwrap();
        std::fs::write(mixed.join("b.json"), NORMAL_JSON).unwrap();
        let err = read_metadata(&mixed).unwrap_err();
        assert!(matches!(err, LidDsError::Ambiguous { count: 2, .. }), "{err:?}");
        assert!(matches!(
            exploit_line_in(&mixed, 0),
            Err(LidDsError::Missing { extension: "sc", .. })
        ));
    }

    #[test]
    fn metadata_errors_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();

        let not_zip = dir.path().join("r.zip");
        std::fs::write(&not_zip, "just text").unwrap();
        let err = read_metadata(&not_zip).unwrap_err();
        assert!(matches!(err, LidDsError::NotAZip { .. }), "{err:?}");
        assert!(err.to_string().contains("is not a zip archive"), "{err}");

        let err = read_metadata(&dir.path().join("absent.zip")).unwrap_err();
        assert!(matches!(err, LidDsError::Open { .. }), "{err:?}");

        let no_json = zip_with(dir.path(), "no_json.zip", &[("no_json.sc", b"1 x\n")]);
        let err = read_metadata(&no_json).unwrap_err();
        assert!(matches!(err, LidDsError::Missing { extension: "json", .. }), "{err:?}");
        assert!(err.to_string().contains("has no .json file"), "{err}");

        for (json, expected) in [
            ("{not json", "is not LID-DS JSON"),
            ("[1, 2]", "not a JSON object"),
            (r#"{"time": {}}"#, "no \"exploit\" field"),
            (r#"{"exploit": "yes"}"#, "not true or false"),
            (
                r#"{"exploit": true, "time": {"exploit": [{"absolute": -3.0}]}}"#,
                "not a Unix time",
            ),
        ] {
            let zip = zip_with(dir.path(), "bad.zip", &[("bad.json", json.as_bytes())]);
            let err = read_metadata(&zip).unwrap_err();
            assert!(matches!(err, LidDsError::BadJson { .. }), "{json}: {err:?}");
            assert!(err.to_string().contains(expected), "{json}: {err}");
        }

        for json in [
            r#"{"exploit": true, "time": {"exploit": []}}"#,
            r#"{"exploit": true}"#,
            r#"{"exploit": true, "time": {"exploit": [{"absolute": "soon"}]}}"#,
        ] {
            let zip = zip_with(dir.path(), "untimed.zip", &[("untimed.json", json.as_bytes())]);
            let err = read_metadata(&zip).unwrap_err();
            assert!(matches!(err, LidDsError::NoExploitTime { .. }), "{json}: {err:?}");
            assert!(err.to_string().contains("gives no time.exploit[0].absolute"), "{err}");
        }

        // Padding makes valid JSON too large to be metadata.
        let mut huge = vec![b' '; MAX_METADATA_BYTES as usize];
        huge.extend_from_slice(NORMAL_JSON.as_bytes());
        let zip = zip_with(dir.path(), "huge.zip", &[("huge.json", &huge)]);
        assert!(matches!(read_metadata(&zip), Err(LidDsError::TooLarge { .. })));
        let file = dir.path().join("huge.json");
        std::fs::write(&file, &huge).unwrap();
        assert!(matches!(read_metadata(&file), Err(LidDsError::TooLarge { .. })));
    }

    #[test]
    fn scenario_layout_lists_each_folder_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("CVE-2017-7529");
        for folder in SCENARIO_FOLDERS {
            std::fs::create_dir_all(root.join(folder)).unwrap();
        }
        for name in ["b.zip", "a.zip", "notes.txt", ".hidden.zip"] {
            std::fs::write(root.join("training").join(name), "").unwrap();
        }
        std::fs::create_dir(root.join("validation/unzipped")).unwrap();
        std::fs::write(root.join("test/normal_and_attack/x.ZIP"), "").unwrap();
        let layout = scenario_layout(&root).unwrap();
        assert_eq!(
            layout.training,
            vec![root.join("training/a.zip"), root.join("training/b.zip")]
        );
        assert_eq!(layout.validation, vec![root.join("validation/unzipped")]);
        assert!(layout.test_normal.is_empty());
        assert_eq!(
            layout.test_normal_and_attack,
            vec![root.join("test/normal_and_attack/x.ZIP")]
        );
    }

    #[test]
    fn scenario_layout_names_the_missing_folders() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("training")).unwrap();
        std::fs::create_dir_all(dir.path().join("test/normal")).unwrap();
        let err = scenario_layout(dir.path()).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, LidDsError::NotAScenario { .. }), "{err:?}");
        assert!(
            message.contains("it has no validation/ or test/normal_and_attack/ folder"),
            "{message}"
        );

        let err = scenario_layout(&dir.path().join("absent")).unwrap_err();
        assert!(matches!(err, LidDsError::Open { .. }), "{err:?}");
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        assert!(matches!(scenario_layout(&file), Err(LidDsError::Open { .. })));
    }

    #[test]
    fn merging_per_recording_metrics_equals_evaluating_all_at_once() {
        let recordings = vec![
            ScoredRecording {
                attack_from_line: None,
                events: vec![(1, 0.9), (2, 0.9), (3, 0.1), (4, 0.8)],
            },
            ScoredRecording {
                attack_from_line: Some(3),
                events: vec![(1, 0.9), (2, 0.1), (3, 0.7), (4, 0.9)],
            },
            ScoredRecording {
                attack_from_line: Some(2),
                events: vec![(1, 0.1), (2, 0.2)],
            },
        ];
        let all = evaluate(&recordings, 0.5);
        let mut merged = LidDsMetrics {
            threshold: 0.5,
            ..LidDsMetrics::default()
        };
        for recording in &recordings {
            merged.merge(&evaluate(std::slice::from_ref(recording), 0.5));
        }
        assert_eq!(merged, all);
        assert_eq!(
            (all.detected, all.exploit_count, all.cfa_normal, all.cfa_exploits),
            (1, 2, 2, 1)
        );
    }
}
