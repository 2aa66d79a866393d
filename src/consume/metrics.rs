//! A worker's counters in the Prometheus text format, for `GET /metrics` on
//! `honk consume --metrics ADDR`: messages, records and alerts, batches and
//! how long they took (a histogram), model reloads and failed reloads, and
//! the lag (messages the consumer has not delivered yet, as the broker last
//! said). Every series carries the worker's consumer name. This module counts
//! and renders; it serves nothing.

use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the batch-time histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Counts {
    messages: u64,
    records: u64,
    alerts: u64,
    batches: u64,
    reloads: u64,
    reload_failures: u64,
    lag: Option<u64>,
    buckets: [u64; BUCKETS.len()],
    seconds: f64,
}

/// A worker's counters (shared with the metrics endpoint).
#[derive(Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
}

impl Metrics {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A batch was scored, its alerts kept and its messages acknowledged.
    pub fn batch(&self, messages: u64, records: u64, alerts: u64, took: Duration) {
        let mut c = self.counts();
        c.messages += messages;
        c.records += records;
        c.alerts += alerts;
        c.batches += 1;
        let seconds = took.as_secs_f64();
        c.seconds += seconds;
        for (bound, count) in BUCKETS.iter().zip(c.buckets.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
    }

    /// A model replaced on disk was loaded (`true`) or failed to load.
    pub fn reload(&self, loaded: bool) {
        let mut c = self.counts();
        if loaded {
            c.reloads += 1;
        } else {
            c.reload_failures += 1;
        }
    }

    /// What the broker says is left to deliver to the consumer.
    pub fn lag(&self, pending: u64) {
        self.counts().lag = Some(pending);
    }

    /// The counters in the Prometheus text format (version 0.0.4).
    pub fn render(&self, consumer: &str) -> String {
        let c = self.counts();
        let label = format!("consumer=\"{}\"", escape(consumer));
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name}{{{label}}} {value}"
            );
        };
        counter(
            "honk_consume_messages_total",
            "Messages scored and acknowledged.",
            c.messages,
        );
        counter("honk_consume_records_total", "Records scored.", c.records);
        counter(
            "honk_consume_alerts_total",
            "Alerts published (anomalies and first calls outside the baseline).",
            c.alerts,
        );
        counter(
            "honk_consume_model_reloads_total",
            "Models replaced on disk and loaded.",
            c.reloads,
        );
        counter(
            "honk_consume_model_reload_failures_total",
            "Models replaced on disk that did not load (the old one is kept).",
            c.reload_failures,
        );
        let name = "honk_consume_batch_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time from a batch's arrival to its messages' acknowledgement.\n# TYPE {name} histogram"
        );
        for (bound, count) in BUCKETS.iter().zip(c.buckets.iter()) {
            let _ = writeln!(out, "{name}_bucket{{{label},le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(out, "{name}_bucket{{{label},le=\"+Inf\"}} {}", c.batches);
        let _ = writeln!(out, "{name}_sum{{{label}}} {}", c.seconds);
        let _ = writeln!(out, "{name}_count{{{label}}} {}", c.batches);
        if let Some(lag) = c.lag {
            let name = "honk_consume_lag_messages";
            let _ = writeln!(
                out,
                "# HELP {name} Messages the broker has not yet delivered to the consumer.\n# TYPE {name} gauge\n{name}{{{label}}} {lag}"
            );
        }
        out
    }
}

/// A label value: backslash, double quote and newline escaped.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_the_histogram_render_in_the_text_format() {
        let m = Metrics::default();
        m.batch(20, 25, 2, Duration::from_millis(3));
        m.batch(10, 10, 0, Duration::from_millis(300));
        m.reload(true);
        m.reload(false);
        m.lag(7);
        let text = m.render("honk\"1");
        for line in [
            "honk_consume_messages_total{consumer=\"honk\\\"1\"} 30",
            "honk_consume_records_total{consumer=\"honk\\\"1\"} 35",
            "honk_consume_alerts_total{consumer=\"honk\\\"1\"} 2",
            "honk_consume_model_reloads_total{consumer=\"honk\\\"1\"} 1",
            "honk_consume_model_reload_failures_total{consumer=\"honk\\\"1\"} 1",
            "honk_consume_batch_seconds_bucket{consumer=\"honk\\\"1\",le=\"0.001\"} 0",
            "honk_consume_batch_seconds_bucket{consumer=\"honk\\\"1\",le=\"0.005\"} 1",
            "honk_consume_batch_seconds_bucket{consumer=\"honk\\\"1\",le=\"0.5\"} 2",
            "honk_consume_batch_seconds_bucket{consumer=\"honk\\\"1\",le=\"+Inf\"} 2",
            "honk_consume_batch_seconds_count{consumer=\"honk\\\"1\"} 2",
            "honk_consume_lag_messages{consumer=\"honk\\\"1\"} 7",
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
        }
    }
}
