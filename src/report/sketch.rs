//! Sketch: a bounded summary of every scored record of one input, for plots.
//!
//! The HTML report plots the whole target, not only its anomalies: the scores
//! over the lines (a timeline), and a sample of its records on the vector map.
//! A target may have millions of records, so the sketch keeps a fixed amount
//! whatever the input's size: at most [`MAX_BINS`] timeline bins (adjacent
//! bins merge as the input grows), a uniform random sample of
//! [`SAMPLE`] records (reservoir sampling, seeded, so a report is the same
//! every time), the [`TOP`] highest-scoring records, and the process name of
//! each thread (at most [`MAX_NAMES`]). It does not score or render.

use std::collections::BTreeMap;

/// Timeline bins kept per input.
pub const MAX_BINS: usize = 1_000;
/// Records sampled per input for the map.
pub const SAMPLE: usize = 1_000;
/// Highest-scoring records kept per input for the map.
pub const TOP: usize = 300;
/// Threads whose process name is kept per input.
pub const MAX_NAMES: usize = 4_096;
/// Characters of a record's text kept for hover labels.
const TEXT_CHARS: usize = 300;

/// A range of lines of the input and what scored there.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bin {
    /// 1-based first line it covers.
    pub first_line: u64,
    /// Last line it covers, inclusive; bins are of equal width.
    pub last_line: u64,
    /// The highest score of a record or window (by its last line) in it; 0
    /// when there is none, and a score that is not finite counts as 0.
    pub max_score: f64,
    /// Records starting in it (windows are not counted).
    pub records: u64,
    /// Its records and windows that scored above the threshold.
    pub anomalies: u64,
}

/// A record kept for the map.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Kept {
    /// 1-based line where the record starts.
    pub line: u64,
    /// Its score, a distance in [0, 1] (0 if it was not finite).
    pub score: f64,
    /// Its normalized key, to vectorize and project.
    pub key: String,
    /// The start of its text, for hover labels.
    pub text: String,
}

/// The bounded summary of one input's scored records.
#[derive(Clone, Debug, PartialEq)]
pub struct Sketch {
    bins: Vec<Bin>,
    /// Lines per bin; doubles whenever the bins would exceed [`MAX_BINS`].
    width: u64,
    sample: Vec<Kept>,
    seen: u64,
    rng: u64,
    /// The highest-scoring records, unordered; the lowest is replaced first.
    top: Vec<Kept>,
    /// The lowest score in `top` once it is full.
    top_min: f64,
    /// The process name of each thread, when the format gives one (at most [`MAX_NAMES`] threads).
    processes: BTreeMap<u32, String>,
}

impl Sketch {
    /// An empty sketch; `seed` makes its sample reproducible (use the input's name).
    pub fn new(seed: &str) -> Sketch {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for b in seed.bytes() {
            rng = splitmix(rng ^ u64::from(b));
        }
        Sketch {
            bins: Vec::new(),
            width: 1,
            sample: Vec::new(),
            seen: 0,
            rng,
            top: Vec::new(),
            top_min: 0.0,
            processes: BTreeMap::new(),
        }
    }

    /// One scored record. `anomaly` says whether it was above the threshold.
    pub fn record(&mut self, line: u64, score: f64, anomaly: bool, key: &str, text: &str) {
        let score = if score.is_finite() { score } else { 0.0 };
        self.bin(line, score, anomaly, true);
        // Reservoir sampling (Algorithm R): the i-th record replaces a kept one
        // with probability SAMPLE / i.
        self.seen += 1;
        if self.sample.len() < SAMPLE {
            self.sample.push(kept(line, score, key, text));
        } else {
            self.rng = splitmix(self.rng);
            let slot = self.rng % self.seen;
            if let Some(place) = self.sample.get_mut(slot as usize) {
                *place = kept(line, score, key, text);
            }
        }
        if self.top.len() < TOP {
            self.top.push(kept(line, score, key, text));
            if self.top.len() == TOP {
                self.top_min = lowest(&self.top).map_or(0.0, |(_, s)| s);
            }
        } else if score > self.top_min {
            // Rare once the top has filled: only records that beat its lowest.
            if let Some((i, _)) = lowest(&self.top) {
                self.top[i] = kept(line, score, key, text);
            }
            self.top_min = lowest(&self.top).map_or(0.0, |(_, s)| s);
        }
    }

    /// The process name of a thread, seen on one of its records; the first name is kept.
    pub fn process(&mut self, thread: u32, name: &str) {
        if self.processes.len() < MAX_NAMES && !self.processes.contains_key(&thread) {
            self.processes.insert(thread, name.chars().take(64).collect());
        }
    }

    /// The process names of the threads, by thread.
    pub fn processes(&self) -> &BTreeMap<u32, String> {
        &self.processes
    }

    /// One scored window, ending at `line`: it counts on the timeline only.
    pub fn window(&mut self, line: u64, score: f64, anomaly: bool) {
        let score = if score.is_finite() { score } else { 0.0 };
        self.bin(line, score, anomaly, false);
    }

    fn bin(&mut self, line: u64, score: f64, anomaly: bool, record: bool) {
        let line = line.max(1);
        let mut index = ((line - 1) / self.width) as usize;
        while index >= MAX_BINS {
            self.halve();
            index = ((line - 1) / self.width) as usize;
        }
        while self.bins.len() <= index {
            let first = (self.bins.len() as u64).saturating_mul(self.width).saturating_add(1);
            self.bins.push(Bin {
                first_line: first,
                last_line: first.saturating_add(self.width - 1),
                ..Bin::default()
            });
        }
        let bin = &mut self.bins[index];
        bin.max_score = bin.max_score.max(score);
        bin.records += u64::from(record);
        bin.anomalies += u64::from(anomaly);
    }

    /// Merge neighbouring bins pairwise: twice the lines per bin.
    fn halve(&mut self) {
        let merged = self
            .bins
            .chunks(2)
            .map(|pair| {
                let mut bin = pair[0].clone();
                if let Some(next) = pair.get(1) {
                    bin.max_score = bin.max_score.max(next.max_score);
                    bin.records += next.records;
                    bin.anomalies += next.anomalies;
                }
                bin.last_line = bin.first_line.saturating_add(self.width.saturating_mul(2) - 1);
                bin
            })
            .collect();
        self.bins = merged;
        self.width = self.width.saturating_mul(2);
    }

    /// The timeline: bins of equal width from line 1, empty ones included.
    pub fn bins(&self) -> &[Bin] {
        &self.bins
    }

    /// The sampled records, in no particular order.
    pub fn sample(&self) -> &[Kept] {
        &self.sample
    }

    /// The highest-scoring records, highest first.
    pub fn top(&self) -> Vec<&Kept> {
        let mut top: Vec<&Kept> = self.top.iter().collect();
        top.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.line.cmp(&b.line)));
        top
    }
}

/// The position and score of the lowest-scoring kept record.
fn lowest(kept: &[Kept]) -> Option<(usize, f64)> {
    kept.iter()
        .enumerate()
        .min_by(|a, b| a.1.score.total_cmp(&b.1.score))
        .map(|(i, k)| (i, k.score))
}

fn kept(line: u64, score: f64, key: &str, text: &str) -> Kept {
    Kept {
        line,
        score,
        key: key.to_owned(),
        text: text.chars().take(TEXT_CHARS).collect(),
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_merge_as_the_input_grows_and_stay_bounded() {
        let mut sketch = Sketch::new("t");
        for line in 1..=10 * MAX_BINS as u64 + 3 {
            let score = if line == 5_000 { 0.9 } else { 0.1 };
            sketch.record(line, score, line == 5_000, "k", "text");
        }
        let bins = sketch.bins();
        assert!(bins.len() <= MAX_BINS, "{}", bins.len());
        // Bins tile the lines from 1 without gaps.
        assert_eq!(bins[0].first_line, 1);
        for pair in bins.windows(2) {
            assert_eq!(pair[1].first_line, pair[0].last_line + 1);
        }
        assert_eq!(bins.iter().map(|b| b.records).sum::<u64>(), 10 * MAX_BINS as u64 + 3);
        assert_eq!(bins.iter().map(|b| b.anomalies).sum::<u64>(), 1);
        let hot = bins.iter().find(|b| b.max_score == 0.9).unwrap();
        assert!(hot.first_line <= 5_000 && 5_000 <= hot.last_line);
    }

    #[test]
    fn sample_is_bounded_reproducible_and_spread() {
        let fill = |seed: &str| {
            let mut sketch = Sketch::new(seed);
            for line in 1..=20_000u64 {
                sketch.record(line, 0.0, false, "k", "t");
            }
            sketch
        };
        let a = fill("x");
        assert_eq!(a.sample().len(), SAMPLE);
        assert_eq!(a.sample(), fill("x").sample());
        // A uniform sample of 1..=20,000 has about half its lines above 10,000.
        let high = a.sample().iter().filter(|k| k.line > 10_000).count();
        assert!((400..600).contains(&high), "{high}");
    }

    #[test]
    fn top_keeps_the_highest_scores() {
        let mut sketch = Sketch::new("t");
        for line in 1..=5_000u64 {
            sketch.record(line, (line % 1_000) as f64 / 1_000.0, false, "k", "t");
        }
        let top = sketch.top();
        assert_eq!(top.len(), TOP);
        assert_eq!(top[0].score, 0.999);
        assert!(top.iter().all(|k| k.score >= 0.939), "{}", top[TOP - 1].score);
    }

    #[test]
    fn hostile_values_are_bounded() {
        let mut sketch = Sketch::new("t");
        let long = "x".repeat(100_000);
        sketch.record(u64::MAX, f64::NAN, true, "k", &long);
        sketch.record(0, f64::INFINITY, false, "k", "t");
        assert!(sketch.bins().len() <= MAX_BINS);
        assert!(sketch
            .sample()
            .iter()
            .all(|k| k.score.is_finite() && k.text.len() <= 300));
        for thread in 0..(MAX_NAMES as u32 + 10) {
            sketch.process(thread, &long);
        }
        assert_eq!(sketch.processes().len(), MAX_NAMES);
        assert!(sketch.processes().values().all(|name| name.len() <= 64));
    }
}
