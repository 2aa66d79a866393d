//! The server's counters, written in the Prometheus text format for
//! `GET /metrics`: records scored and anomalies per model, the latency of
//! requests per route and status (a histogram), the models' sizes, their
//! reloads and failed reloads, requests in flight and requests turned away.
//!
//! Labels are bounded: routes are the router's templates (not the paths
//! asked for), models are those that loaded. This module counts; it does not
//! serve.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use super::registry::Loaded;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default, Clone)]
struct ModelCounts {
    records: u64,
    anomalies: u64,
    entries: u64,
    baseline_records: u64,
    bytes: u64,
    reloads: u64,
    reload_failures: u64,
    loaded: bool,
}

#[derive(Default)]
struct Counts {
    latency: BTreeMap<(String, String, u16), Histogram>,
    models: BTreeMap<String, ModelCounts>,
    rejected: BTreeMap<&'static str, u64>,
}

/// The server's counters.
#[derive(Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
    in_flight: AtomicI64,
}

impl Metrics {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A request started.
    pub fn started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A request ended: its route template, method, status and time taken.
    pub fn ended(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let seconds = took.as_secs_f64();
        let mut counts = self.counts();
        let h = counts
            .latency
            .entry((route.to_owned(), method.to_owned(), status))
            .or_default();
        h.count += 1;
        h.sum += seconds;
        for (bound, count) in BUCKETS.iter().zip(h.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
    }

    /// A request was turned away for `reason` ("busy", "unauthorized", "too_large", "timeout").
    pub fn rejected(&self, reason: &'static str) {
        *self.counts().rejected.entry(reason).or_default() += 1;
    }

    /// `records` were scored against `model`, `anomalies` of them unusual.
    pub fn scored(&self, model: &str, records: u64, anomalies: u64) {
        let mut counts = self.counts();
        let m = counts.models.entry(model.to_owned()).or_default();
        m.records += records;
        m.anomalies += anomalies;
    }

    /// `model` was loaded (`reload`: in place of another).
    pub fn loaded(&self, model: &str, loaded: &Loaded, reload: bool) {
        let mut counts = self.counts();
        let m = counts.models.entry(model.to_owned()).or_default();
        let held = loaded.baseline.model();
        m.entries = held.entries.len() as u64;
        m.baseline_records = held.records();
        m.bytes = loaded.file_bytes;
        m.loaded = true;
        m.reloads += u64::from(reload);
    }

    /// `model` changed on disk but did not load.
    pub fn reload_failed(&self, model: &str) {
        self.counts()
            .models
            .entry(model.to_owned())
            .or_default()
            .reload_failures += 1;
    }

    /// `model`'s file is gone: its sizes are no longer reported.
    pub fn forget_model(&self, model: &str) {
        if let Some(m) = self.counts().models.get_mut(model) {
            m.loaded = false;
        }
    }

    /// Everything, in the Prometheus text format (version 0.0.4).
    pub fn render(&self) -> String {
        let counts = self.counts();
        let mut out = String::new();
        let models: Vec<(String, ModelCounts)> = counts.models.iter().map(|(k, v)| (label(k), v.clone())).collect();
        let per_model =
            |out: &mut String, name: &str, kind: &str, help: &str, value: &dyn Fn(&ModelCounts) -> Option<u64>| {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
                for (model, m) in &models {
                    if let Some(v) = value(m) {
                        let _ = writeln!(out, "{name}{{model=\"{model}\"}} {v}");
                    }
                }
            };
        per_model(
            &mut out,
            "honk_records_scored_total",
            "counter",
            "Records scored, per model.",
            &|m| Some(m.records),
        );
        per_model(
            &mut out,
            "honk_anomalies_total",
            "counter",
            "Records found unusual, per model.",
            &|m| Some(m.anomalies),
        );
        per_model(
            &mut out,
            "honk_model_entries",
            "gauge",
            "Distinct records of the model in service.",
            &|m| m.loaded.then_some(m.entries),
        );
        per_model(
            &mut out,
            "honk_model_records",
            "gauge",
            "Records the model in service was learned from.",
            &|m| m.loaded.then_some(m.baseline_records),
        );
        per_model(
            &mut out,
            "honk_model_file_bytes",
            "gauge",
            "Size of the model file in service.",
            &|m| m.loaded.then_some(m.bytes),
        );
        per_model(
            &mut out,
            "honk_model_reloads_total",
            "counter",
            "Times a changed model file was loaded in place of the one in service.",
            &|m| Some(m.reloads),
        );
        per_model(
            &mut out,
            "honk_model_reload_failures_total",
            "counter",
            "Times a model file did not load (the one before stayed in service).",
            &|m| Some(m.reload_failures),
        );
        let _ = writeln!(
            out,
            "# HELP honk_requests_in_flight Requests being served.\n# TYPE honk_requests_in_flight gauge\nhonk_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP honk_requests_rejected_total Requests turned away, by reason.\n# TYPE honk_requests_rejected_total counter"
        );
        for (reason, n) in &counts.rejected {
            let _ = writeln!(out, "honk_requests_rejected_total{{reason=\"{reason}\"}} {n}");
        }
        let name = "honk_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time from a request's arrival to its response, by route, method and status.\n# TYPE {name} histogram"
        );
        for ((route, method, status), h) in &counts.latency {
            let labels = format!(
                "route=\"{}\",method=\"{}\",status=\"{status}\"",
                label(route),
                label(method)
            );
            for (bound, count) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
        }
        out
    }
}

/// A label value escaped as the text format says: backslash, quote, newline.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_buckets_are_cumulative_and_labels_escaped() {
        let metrics = Metrics::default();
        metrics.started();
        metrics.ended("/v1/models/{name}/score", "POST", 200, Duration::from_millis(7));
        metrics.started();
        metrics.ended("/v1/models/{name}/score", "POST", 200, Duration::from_millis(70));
        metrics.scored("we\"b", 10, 2);
        let text = metrics.render();
        let bucket = |le: &str| {
            let wanted = format!(
                "honk_request_duration_seconds_bucket{{route=\"/v1/models/{{name}}/score\",method=\"POST\",status=\"200\",le=\"{le}\"}} "
            );
            text.lines()
                .find_map(|l| l.strip_prefix(&wanted))
                .and_then(|v| v.parse::<u64>().ok())
        };
        assert_eq!(bucket("0.005"), Some(0));
        assert_eq!(bucket("0.01"), Some(1));
        assert_eq!(bucket("0.1"), Some(2));
        assert_eq!(bucket("+Inf"), Some(2));
        assert!(
            text.contains("honk_records_scored_total{model=\"we\\\"b\"} 10"),
            "{text}"
        );
        assert!(text.contains("honk_requests_in_flight 0"));
    }
}
