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
    /// The inputs scored: name, format detected, lines read, records, unique keys.
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
    pub id: u64,
    pub source: String,
    pub line: u64,
    pub last_line: u64,
    pub records: u64,
    pub score: f64,
    pub threads: Vec<u32>,
    /// What is new in it: tokens the baseline never had.
    pub new: Vec<String>,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PageInput {
    pub name: String,
    pub format: String,
    pub lines: u64,
    pub records: u64,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PageAnomaly {
    /// Position in file order over all anomalies (0-based), for the order toggle.
    pub order: u64,
    pub source: String,
    pub line: u64,
    pub score: f64,
    /// The record's text; for a window, its events one per line.
    pub text: String,
    /// The process or thread, when the format names one (for the filter).
    pub process: Option<String>,
    /// Context before and after: (line, text).
    pub before: Vec<(u64, String)>,
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
    pub baseline: Vec<MapPoint>,
    pub target: Vec<MapPoint>,
    /// Share of the baseline's variance along each axis.
    pub explained: [f64; 2],
    /// How many points each side had before sampling (the page says if it sampled).
    pub baseline_total: u64,
    pub target_total: u64,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct MapPoint {
    pub x: f64,
    pub y: f64,
    /// What hovering shows: the line (truncated by the renderer).
    pub label: String,
    pub score: f64,
    pub anomaly: bool,
}

/// A target's scores over its lines, in bins.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Timeline {
    pub source: String,
    pub bins: Vec<TimelineBin>,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct TimelineBin {
    pub first_line: u64,
    pub last_line: u64,
    pub max_score: f64,
    pub records: u64,
    pub anomalies: u64,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PageThread {
    pub source: String,
    pub thread: u32,
    pub records: u64,
    pub anomalies: u64,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct EvalPlots {
    pub auc: f64,
    /// The ROC curve: (false-alarm rate, detection rate), from (0,0) to (1,1).
    pub roc: Vec<(f64, f64)>,
    /// Item scores by label.
    pub normal_scores: Vec<f64>,
    pub attack_scores: Vec<f64>,
    /// The threshold the confusion counts were taken at.
    pub threshold: f64,
}
