//! What an HTML report shows: a [`Page`] and its parts, as plain data that
//! the commands fill (a scoring run through [`super::builder::PageBuilder`],
//! `honk eval` by hand). Text fields hold raw, untrusted text (log lines, file
//! names) and numbers are as computed, possibly not finite: making them safe
//! and readable is [`super::view`]'s job, not the caller's.

/// Everything one report shows. Text fields hold raw, untrusted text (log
/// lines, file names): the renderer escapes all of it.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Page {
    /// What produced it, e.g. "honk diff".
    pub title: String,
    /// honk's version.
    pub version: String,
    /// When the report was made, as text (UTC).
    pub generated: String,
    /// Summary rows, in order: (label, value), e.g. ("threshold", "0.3").
    pub summary: Vec<(String, String)>,
    /// The inputs scored: name, format detected, lines read, records.
    pub inputs: Vec<PageInput>,
    /// The anomalies, highest score first, at most [`MAX_ANOMALIES`].
    pub anomalies: Vec<PageAnomaly>,
    /// How many anomalies there were in all (more than `anomalies.len()` when capped).
    pub anomalies_total: u64,
    /// The incidents (groups of anomalies that are one event), in input order,
    /// at most [`MAX_INCIDENTS`].
    pub incidents: Vec<PageIncident>,
    /// How many incidents there were in all.
    pub incidents_total: u64,
    /// The threshold anomalies are above.
    pub threshold: f64,
    /// The 2-D map of baseline and target vectors, when it could be computed.
    pub map: Option<Map>,
    /// One score timeline per target input.
    pub timelines: Vec<Timeline>,
    /// Per target input, its threads with anomalies (syscall traces).
    pub threads: Vec<PageThread>,
    /// System calls the target made that the baseline never did, with counts.
    pub new_syscalls: Vec<(String, u64)>,
    /// With `honk eval`: the ROC curve and score distributions.
    pub eval: Option<EvalPlots>,
}

/// Anomalies listed at most; the page says how many more there were.
pub const MAX_ANOMALIES: usize = 2_000;

/// Incidents listed at most; the page says how many more there were.
pub const MAX_INCIDENTS: usize = 500;

/// A group of anomalies that are one event (see [`crate::report::incident`]).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PageIncident {
    /// 1-based, in the order incidents were released.
    pub id: u64,
    /// The name of the input its anomalies are in.
    pub source: String,
    /// 1-based line of its first record.
    pub line: u64,
    /// The line of its last record (for a window, the window's last event).
    pub last_line: u64,
    /// How many anomalies it has.
    pub records: u64,
    /// The highest score of its anomalies, a distance in [0, 1].
    pub score: f64,
    /// The threads its anomalies come from, first ones first (at most
    /// [`crate::report::incident::LISTED_THREADS`]); empty when the format names none.
    pub threads: Vec<u32>,
    /// What is new in it: tokens the baseline never had.
    pub new: Vec<String>,
}

/// One input the run read, as the report's table of inputs lists it.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PageInput {
    /// The input's name: a path, `<stdin>`, or `ARCHIVE/ENTRY`.
    pub name: String,
    /// The name of the format it was parsed as, e.g. `strace`.
    pub format: String,
    /// Lines read: the number of the last one.
    pub lines: u64,
    /// Records the parser made of them (a record may span lines, and a line may make none).
    pub records: u64,
}

/// One anomaly as the report lists it.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PageAnomaly {
    /// Position in file order over all anomalies (0-based), for the order toggle.
    pub order: u64,
    /// The name of the input it is in.
    pub source: String,
    /// 1-based line where the record starts; for a window, its first event's line.
    pub line: u64,
    /// Its score, a distance in [0, 1]: the mean cosine distance to the k
    /// nearest baseline records.
    pub score: f64,
    /// The record's text; for a window, its events one per line.
    pub text: String,
    /// The process or thread, when the format names one (for the filter).
    pub process: Option<String>,
    /// Context before and after: (line, text).
    pub before: Vec<(u64, String)>,
    /// Context after, oldest first: (line, text); empty for a window.
    pub after: Vec<(u64, String)>,
    /// The nearest baseline record: (source, line, text).
    pub nearest: Option<(String, u64, String)>,
    /// For a window: the line of its last event.
    pub window_last_line: Option<u64>,
    /// The incident it belongs to, and its rank there (1: tells most).
    pub incident: Option<(u64, u32)>,
}

/// Points of the vector map, in projected coordinates.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Map {
    /// Baseline entries (distinct keys), a spread of them when there are many.
    pub baseline: Vec<MapPoint>,
    /// Target records: a spread of the inputs' samples, then the
    /// highest-scoring anomalies (a record in both is drawn once, as an anomaly).
    pub target: Vec<MapPoint>,
    /// Share of the baseline's variance along each axis.
    pub explained: [f64; 2],
    /// How many points each side had before sampling (the page says if it sampled).
    pub baseline_total: u64,
    /// Records of the target, over all inputs.
    pub target_total: u64,
}

/// One record or baseline entry on the map.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct MapPoint {
    /// Position along the first principal axis of the baseline.
    pub x: f64,
    /// Position along the second principal axis of the baseline.
    pub y: f64,
    /// What hovering shows: the line (truncated by the renderer).
    pub label: String,
    /// Its score, a distance in [0, 1]; 0 for a baseline point.
    pub score: f64,
    /// Whether it scored above the threshold; false for a baseline point.
    pub anomaly: bool,
}

/// A target's scores over its lines, in bins.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Timeline {
    /// The name of the input.
    pub source: String,
    /// Bins of equal width from line 1, in line order, empty ones included
    /// (at most [`crate::report::sketch::MAX_BINS`]).
    pub bins: Vec<TimelineBin>,
}

/// A range of lines of an input and what scored there.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct TimelineBin {
    /// 1-based first line it covers.
    pub first_line: u64,
    /// Last line it covers, inclusive.
    pub last_line: u64,
    /// The highest score of a record or window (by its last line) in it; 0 when there is none.
    pub max_score: f64,
    /// Records starting in it (windows are not counted).
    pub records: u64,
    /// Its records and windows that scored above the threshold.
    pub anomalies: u64,
}

/// A thread of a target input that has anomalies.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PageThread {
    /// The name of the input.
    pub source: String,
    /// The thread id (or process id, when that is all the format gives).
    pub thread: u32,
    /// Records of this thread scored.
    pub records: u64,
    /// Its anomalies: records above the threshold and the windows reported.
    pub anomalies: u64,
}

/// What `honk eval` plots: how well scores tell attack items from normal ones.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct EvalPlots {
    /// Area under the ROC curve, in [0, 1]: the chance that a random attack
    /// item scores above a random normal one, ties counting one half.
    pub auc: f64,
    /// The ROC curve: (false-alarm rate, detection rate), from (0,0) to (1,1).
    pub roc: Vec<(f64, f64)>,
    /// Item scores by label.
    pub normal_scores: Vec<f64>,
    /// Scores of the items known to be attacks.
    pub attack_scores: Vec<f64>,
    /// The threshold the confusion counts were taken at.
    pub threshold: f64,
}
