//! Evaluation: how well scores separate known-normal from known-attack inputs.
//!
//! The metrics of the anomaly-detection literature, over one score per labelled
//! item (a trace, or a line): ROC AUC (ties counted as half, as the
//! Mann–Whitney statistic does), the detection rate at a fixed false-alarm
//! rate, the best F1 over all thresholds, and the confusion counts at a given
//! threshold. An item is flagged when its score is strictly above the
//! threshold, as everywhere in honk. This module computes; [`run()`] reads,
//! learns and scores the items and computes these over them.

pub mod forest;
pub mod items;
pub mod lidds;
pub mod run;

pub use run::{run, Evaluate, Evaluation, Items, Method, RunError};

use serde::Serialize;

/// Why a metric cannot be computed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// One label has no items: the field is the missing one, `"normal"` or `"attack"`.
    #[error("there are no {0} items to evaluate on; give at least one of each label")]
    EmptyClass(&'static str),
    /// Some item's score is NaN.
    #[error("a score is not a number")]
    NotANumber,
}

/// One labelled score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Labelled {
    /// The item's score: higher is more unusual; it must not be NaN.
    pub score: f64,
    /// Whether the item is known to be an attack (else it is known-normal).
    pub attack: bool,
}

/// Counts at one threshold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Confusion {
    /// Attack items scoring above the threshold (flagged, rightly).
    pub true_positives: u64,
    /// Normal items scoring above the threshold (false alarms).
    pub false_positives: u64,
    /// Normal items at or below the threshold (left alone, rightly).
    pub true_negatives: u64,
    /// Attack items at or below the threshold (missed).
    pub false_negatives: u64,
}

impl Confusion {
    /// The share of alarms that are attacks (0 without alarms).
    pub fn precision(&self) -> f64 {
        let alarms = self.true_positives + self.false_positives;
        if alarms == 0 {
            0.0
        } else {
            self.true_positives as f64 / alarms as f64
        }
    }

    /// The share of attacks flagged (0 without attacks).
    pub fn recall(&self) -> f64 {
        let attacks = self.true_positives + self.false_negatives;
        if attacks == 0 {
            0.0
        } else {
            self.true_positives as f64 / attacks as f64
        }
    }

    /// The harmonic mean of precision and recall (0 where undefined).
    pub fn f1(&self) -> f64 {
        let tp = self.true_positives as f64;
        let denominator = 2.0 * tp + self.false_positives as f64 + self.false_negatives as f64;
        if denominator == 0.0 {
            0.0
        } else {
            2.0 * tp / denominator
        }
    }
}

fn check(items: &[Labelled]) -> Result<(usize, usize), EvalError> {
    if items.iter().any(|i| i.score.is_nan()) {
        return Err(EvalError::NotANumber);
    }
    let attacks = items.iter().filter(|i| i.attack).count();
    let normals = items.len() - attacks;
    if normals == 0 {
        return Err(EvalError::EmptyClass("normal"));
    }
    if attacks == 0 {
        return Err(EvalError::EmptyClass("attack"));
    }
    Ok((normals, attacks))
}

/// Area under the ROC curve: the chance that a random attack item scores
/// above a random normal one, ties counting one half.
pub fn roc_auc(items: &[Labelled]) -> Result<f64, EvalError> {
    let (normals, attacks) = check(items)?;
    let mut sorted: Vec<&Labelled> = items.iter().collect();
    sorted.sort_by(|a, b| a.score.total_cmp(&b.score));
    // Sum of the (average, for ties) ranks of the attack items.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1].score == sorted[i].score {
            j += 1;
        }
        let average_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += average_rank * sorted[i..=j].iter().filter(|x| x.attack).count() as f64;
        i = j + 1;
    }
    let (n, p) = (normals as f64, attacks as f64);
    Ok((rank_sum - p * (p + 1.0) / 2.0) / (n * p))
}

/// The detection rate (share of attack items flagged) at the lowest threshold
/// whose false-alarm rate (share of normal items flagged) is at most `far`.
pub fn detection_rate_at(items: &[Labelled], far: f64) -> Result<f64, EvalError> {
    let (normals, attacks) = check(items)?;
    let mut normal: Vec<f64> = items.iter().filter(|i| !i.attack).map(|i| i.score).collect();
    normal.sort_by(|a, b| b.total_cmp(a));
    let allowed = ((far * normals as f64) + 1e-9).floor() as usize;
    // Flagging is "strictly above": with the threshold at the (allowed+1)-th
    // highest normal score, at most `allowed` normal items are above it.
    let threshold = normal.get(allowed).copied().unwrap_or(f64::NEG_INFINITY);
    let detected = items.iter().filter(|i| i.attack && i.score > threshold).count();
    Ok(detected as f64 / attacks as f64)
}

/// Counts when items scoring above `threshold` are flagged.
pub fn confusion(items: &[Labelled], threshold: f64) -> Confusion {
    let mut c = Confusion::default();
    for item in items {
        match (item.attack, item.score > threshold) {
            (true, true) => c.true_positives += 1,
            (true, false) => c.false_negatives += 1,
            (false, true) => c.false_positives += 1,
            (false, false) => c.true_negatives += 1,
        }
    }
    c
}

/// The ROC curve: (false-alarm rate, detection rate) at every distinct
/// threshold, from (0, 0) (nothing flagged) to (1, 1) (everything flagged).
/// Tied scores make one diagonal step, as the AUC counts them.
pub fn roc_curve(items: &[Labelled]) -> Result<Vec<(f64, f64)>, EvalError> {
    let (normals, attacks) = check(items)?;
    let mut sorted: Vec<&Labelled> = items.iter().collect();
    sorted.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut curve = vec![(0.0, 0.0)];
    let (mut fp, mut tp) = (0usize, 0usize);
    let mut i = 0;
    while i < sorted.len() {
        let score = sorted[i].score;
        while i < sorted.len() && sorted[i].score == score {
            if sorted[i].attack {
                tp += 1;
            } else {
                fp += 1;
            }
            i += 1;
        }
        curve.push((fp as f64 / normals as f64, tp as f64 / attacks as f64));
    }
    Ok(curve)
}

/// The best F1 over every threshold that changes the outcome, and that threshold.
pub fn best_f1(items: &[Labelled]) -> Result<(f64, f64), EvalError> {
    check(items)?;
    let mut thresholds: Vec<f64> = items.iter().map(|i| i.score).collect();
    thresholds.push(f64::NEG_INFINITY);
    thresholds.sort_by(|a, b| a.total_cmp(b));
    thresholds.dedup();
    let mut best = (0.0, f64::NEG_INFINITY);
    for t in thresholds {
        let f1 = confusion(items, t).f1();
        if f1 > best.0 {
            best = (f1, t);
        }
    }
    Ok(best)
}

/// How one input's records are summed up into one trace score.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub enum Aggregate {
    /// The highest score of any record or window.
    Max,
    /// The mean of the `m` highest.
    MeanTop(usize),
    /// The share of records (and windows) above the threshold.
    Fraction,
}

impl std::fmt::Display for Aggregate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Aggregate::Max => write!(f, "max"),
            Aggregate::MeanTop(m) => write!(f, "mean-top-{m}"),
            Aggregate::Fraction => write!(f, "fraction"),
        }
    }
}

impl Aggregate {
    /// The trace score of an input's profile.
    pub fn of(&self, profile: &crate::report::InputProfile) -> f64 {
        match *self {
            Aggregate::Max => profile.max_score,
            Aggregate::MeanTop(m) => {
                let top = &profile.top_scores[..m.min(profile.top_scores.len())];
                if top.is_empty() {
                    0.0
                } else {
                    top.iter().sum::<f64>() / top.len() as f64
                }
            }
            Aggregate::Fraction => {
                if profile.records == 0 {
                    0.0
                } else {
                    profile.anomalies as f64 / profile.records as f64
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(normal: &[f64], attack: &[f64]) -> Vec<Labelled> {
        normal
            .iter()
            .map(|&score| Labelled { score, attack: false })
            .chain(attack.iter().map(|&score| Labelled { score, attack: true }))
            .collect()
    }

    #[test]
    fn auc_by_hand() {
        // Perfect, inverted and chance separations.
        assert_eq!(roc_auc(&items(&[0.1, 0.2], &[0.3, 0.4])).unwrap(), 1.0);
        assert_eq!(roc_auc(&items(&[0.3, 0.4], &[0.1, 0.2])).unwrap(), 0.0);
        // Pairs (n, a): (0.1,0.15)>, (0.1,0.3)>, (0.2,0.15)<, (0.2,0.3)> → 3/4.
        assert_eq!(roc_auc(&items(&[0.1, 0.2], &[0.15, 0.3])).unwrap(), 0.75);
        // Ties count one half: every pair tied → 0.5.
        assert_eq!(roc_auc(&items(&[0.5, 0.5], &[0.5])).unwrap(), 0.5);
        // One tie of four pairs: (0.2 vs 0.2) = 0.5, the rest won → 3.5/4.
        assert_eq!(roc_auc(&items(&[0.1, 0.2], &[0.2, 0.3])).unwrap(), 0.875);
    }

    #[test]
    fn empty_classes_are_clear_errors() {
        assert_eq!(roc_auc(&items(&[0.1], &[])), Err(EvalError::EmptyClass("attack")));
        assert_eq!(roc_auc(&items(&[], &[0.1])), Err(EvalError::EmptyClass("normal")));
        assert!(EvalError::EmptyClass("attack").to_string().contains("no attack items"));
        assert_eq!(roc_auc(&items(&[f64::NAN], &[0.1])), Err(EvalError::NotANumber));
    }

    #[test]
    fn detection_rate_at_a_false_alarm_rate_by_hand() {
        let normal: Vec<f64> = (0..10).map(|i| i as f64 / 10.0).collect(); // 0.0 .. 0.9
        let attack = [0.95, 0.85, 0.5, 0.05];
        let all = items(&normal, &attack);
        // 0% false alarms: threshold 0.9 → only 0.95 detected.
        assert_eq!(detection_rate_at(&all, 0.0).unwrap(), 0.25);
        // 10% (one of ten normals may be flagged): threshold 0.8 → 0.95, 0.85.
        assert_eq!(detection_rate_at(&all, 0.1).unwrap(), 0.5);
        // 50%: threshold 0.4 → 0.95, 0.85, 0.5.
        assert_eq!(detection_rate_at(&all, 0.5).unwrap(), 0.75);
        assert_eq!(detection_rate_at(&all, 1.0).unwrap(), 1.0);
    }

    #[test]
    fn roc_curve_by_hand_and_its_area_is_the_auc() {
        let all = items(&[0.1, 0.4, 0.4], &[0.4, 0.9]);
        let curve = roc_curve(&all).unwrap();
        // 0.9 (an attack), then the tie at 0.4 (two normals, one attack), then 0.1.
        assert_eq!(curve, vec![(0.0, 0.0), (0.0, 0.5), (2.0 / 3.0, 1.0), (1.0, 1.0)]);
        let area: f64 = curve
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
            .sum();
        assert!((area - roc_auc(&all).unwrap()).abs() < 1e-12);
        assert_eq!(roc_curve(&items(&[0.1], &[])), Err(EvalError::EmptyClass("attack")));
    }

    #[test]
    fn f1_and_confusion_by_hand() {
        let all = items(&[0.1, 0.2, 0.6], &[0.5, 0.7, 0.9]);
        let c = confusion(&all, 0.4);
        assert_eq!(
            c,
            Confusion {
                true_positives: 3,
                false_positives: 1,
                true_negatives: 2,
                false_negatives: 0
            }
        );
        assert_eq!(c.f1(), 6.0 / 7.0);
        let (f1, threshold) = best_f1(&all).unwrap();
        // At 0.6: tp 2, fp 0, fn 1 → 4/5; at 0.2: tp 3, fp 1 → 6/7, the best.
        assert_eq!((f1, threshold), (6.0 / 7.0, 0.2));
    }
}
