//! `honk consume`: a worker that scores what a message broker holds, with
//! others like it sharing the stream, and nothing lost when one dies.
//!
//! A worker takes a batch of messages from the broker (`nats.rs`: a JetStream
//! durable pull consumer that all workers of a group share), scores their
//! records with the same [`Stream`] as `honk watch` (each message's subject
//! is a source: its own format, places and windows), publishes an alert per
//! anomaly or first call outside the baseline, waits for the broker to
//! acknowledge the alerts, and only then acknowledges the batch's messages.
//! A worker killed at any point has acknowledged only messages whose alerts
//! the broker holds: the others go to another worker once the consumer's ack
//! wait has passed, so delivery is at least once (an alert may come twice,
//! never not at all). Nothing a parser holds back is kept across batches.
//!
//! The model file is checked before every batch; a model replaced on disk is
//! loaded and used from the next batch on (one that does not load is told
//! and the old one kept). On a stop request the batch in hand is finished
//! and acknowledged, then the worker returns.
//!
//! What it does not do: partition sources between workers. On JetStream,
//! workers sharing a consumer share messages, not subjects, so the records of
//! one subject can be scored by several workers: fine for single records,
//! not for windows (`--window`), which need a source's records in order on
//! one worker (give each worker its own subjects with `filter=`).

pub mod address;
mod kafka;
pub mod metrics;
mod nats;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::commands::Ui;
use crate::model::{Model, ModelError};
use crate::parse::Format;
use crate::pipeline::{self, Baseline, ScoreOptions, SourceId, Stream};
use crate::read::shown;
use crate::report::json::JsonPrinter;
use crate::report::{Anomaly, Selection, Sink, Summary, Violation};
use crate::write::FileIdentity;

pub use address::{From, To};

/// Why a worker stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model could not be loaded.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Scoring failed (a model that cannot be used, the output).
    #[error(transparent)]
    Pipeline(#[from] pipeline::Error),
    /// The broker could not be reached, or refused something.
    #[error("{what}")]
    Broker {
        /// What honk was doing, and with what.
        what: String,
        /// The client's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The settings cannot work.
    #[error("{0}")]
    Refused(String),
    /// Standard output could not be written.
    #[error("cannot write alerts to standard output")]
    Output(#[source] std::io::Error),
}

impl Error {
    fn broker(what: impl Into<String>, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        Error::Broker {
            what: what.into(),
            source: source.into(),
        }
    }
}

/// A worker's settings.
#[derive(Clone, Debug)]
pub struct Consume {
    /// The model, from `honk learn`.
    pub model: PathBuf,
    /// Where records come from.
    pub from: From,
    /// Where alerts go.
    pub alerts: To,
    /// The input format, or `None` to detect it per source.
    pub format: Option<Format>,
    /// Records above this are anomalies.
    pub threshold: f64,
    /// Neighbours a score is the mean distance to.
    pub k: usize,
    /// Messages taken from the broker at a time, at most.
    pub batch: usize,
    /// How long a request for messages waits when none are there (and so
    /// how soon a stop request is seen).
    pub wait: Duration,
    /// Serve `GET /metrics` (Prometheus) and `GET /healthz` on this address.
    pub metrics: Option<std::net::SocketAddr>,
}

impl Default for Consume {
    fn default() -> Consume {
        Consume {
            model: PathBuf::new(),
            from: From::Nats {
                server: "127.0.0.1:4222".into(),
                stream: "LOGS".into(),
                durable: address::DEFAULT_DURABLE.into(),
                ack_wait: address::DEFAULT_ACK_WAIT,
                filter: None,
            },
            alerts: To::Stdout,
            format: None,
            threshold: crate::commands::DEFAULT_THRESHOLD,
            k: 1,
            batch: DEFAULT_BATCH,
            wait: Duration::from_millis(500),
            metrics: None,
        }
    }
}

/// Messages a worker takes at a time, by default.
pub const DEFAULT_BATCH: usize = 256;

/// How often the broker is asked for the consumer's lag, at most.
const LAG_EVERY: Duration = Duration::from_secs(1);

/// Sources (subjects) a worker keeps state for; past this, the one used
/// least recently is ended.
pub const MAX_SOURCES: usize = 1024;

/// What a worker did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Consumed {
    /// Messages scored and acknowledged.
    pub messages: u64,
    /// Records scored.
    pub records: u64,
    /// Alerts published (anomalies and first calls outside the baseline).
    pub alerts: u64,
    /// Batches handled.
    pub batches: u64,
    /// Times a model replaced on disk was loaded.
    pub reloads: u64,
    /// Whether a stop request ended it (rather than an error).
    pub stopped: bool,
}

/// One message taken from the broker.
pub(crate) struct Delivery {
    /// The source its records belong to (a subject).
    pub source: String,
    /// Its body.
    pub payload: Vec<u8>,
    /// Where it came from, carried by its alerts.
    pub origin: Origin,
}

/// Where a record came from in the broker, as alerts say it (`"origin"`,
/// with `"broker"` naming which).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "broker", rename_all = "lowercase")]
pub enum Origin {
    /// A NATS JetStream message.
    Nats {
        /// The stream.
        stream: String,
        /// The message's subject.
        subject: String,
        /// The message's sequence number in the stream.
        sequence: u64,
    },
    /// A Kafka record.
    Kafka {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The record's offset in its partition.
        offset: i64,
    },
}

/// What a broker does for a worker.
pub(crate) trait Broker {
    /// Up to `max` messages, waiting at most `wait` for the first.
    async fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, Error>;
    /// Publishes alerts (JSON objects, one per alert) and waits until the
    /// broker holds them all.
    async fn publish(&mut self, alerts: &[Vec<u8>]) -> Result<(), Error>;
    /// Acknowledges the batch last fetched, and waits until the acks are sent.
    async fn ack(&mut self) -> Result<(), Error>;
    /// Messages not yet delivered to the consumer, as the broker says now.
    async fn lag(&mut self) -> Result<u64, Error>;
}

/// Runs a worker until `stop` is set or the broker fails.
pub fn consume(settings: &Consume, ui: &dyn Ui, stop: &AtomicBool) -> Result<Consumed, Error> {
    if settings.batch == 0 {
        return Err(Error::Refused("a batch must hold at least one message".into()));
    }
    // Fail on a bad model before connecting to anything.
    let model = Model::load(&settings.model)?;
    // One worker thread beside this one, which scores: the brokers' clients
    // keep their background tasks (Kafka's group heartbeat) going while a
    // batch is scored.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Error::broker("cannot start the async runtime", e))?;
    runtime.block_on(async {
        let metrics = Arc::new(metrics::Metrics::default());
        let consumer = match &settings.from {
            From::Nats { durable, .. } => durable.clone(),
            From::Kafka { group, .. } => group.clone(),
        };
        if let Some(address) = settings.metrics {
            let bound = serve_metrics(address, Arc::clone(&metrics), consumer).await?;
            ui.note(&format!("metrics on http://{bound}/metrics"));
        }
        match &settings.from {
            From::Nats { .. } => {
                let mut broker = nats::Nats::connect(&settings.from, &settings.alerts).await?;
                ui.note(&format!("consuming {}; stop with Ctrl-C", describe(&settings.from)));
                work(&mut broker, model, settings, &metrics, ui, stop).await
            }
            From::Kafka { .. } => {
                let mut broker = kafka::Kafka::connect(&settings.from, &settings.alerts).await?;
                ui.note(&format!("consuming {}; stop with Ctrl-C", describe(&settings.from)));
                let done = work(&mut broker, model, settings, &metrics, ui, stop).await;
                // Leave the group now, so its partitions go to the others at once.
                let left = broker.leave().await;
                let done = done?;
                left?;
                Ok(done)
            }
        }
    })
}

/// Serves `GET /metrics` and `GET /healthz` on `address` in the background;
/// returns the address bound (port 0 picks one).
async fn serve_metrics(
    address: std::net::SocketAddr,
    metrics: Arc<metrics::Metrics>,
    consumer: String,
) -> Result<std::net::SocketAddr, Error> {
    use http_body_util::Full;
    use hyper::body::Bytes;
    use hyper::{Method, Response, StatusCode};

    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| Error::broker(format!("cannot listen on {address} for metrics"), e))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::broker("cannot tell the metrics address", e))?;
    let consumer: Arc<str> = Arc::from(consumer);
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let metrics = Arc::clone(&metrics);
            let consumer = Arc::clone(&consumer);
            let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let (status, kind, body) = match (request.method(), request.uri().path()) {
                    (&Method::GET, "/metrics") => (
                        StatusCode::OK,
                        "text/plain; version=0.0.4; charset=utf-8",
                        metrics.render(&consumer),
                    ),
                    (&Method::GET, "/healthz") => (StatusCode::OK, "text/plain; charset=utf-8", "ok\n".to_owned()),
                    _ => (
                        StatusCode::NOT_FOUND,
                        "text/plain; charset=utf-8",
                        "only GET /metrics and GET /healthz here\n".to_owned(),
                    ),
                };
                let response = Response::builder()
                    .status(status)
                    .header("content-type", kind)
                    .body(Full::new(Bytes::from(body)));
                async move { response }
            });
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(socket);
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(io, service);
                let _ = connection.await;
            });
        }
    });
    Ok(bound)
}

fn describe(from: &From) -> String {
    match from {
        From::Nats {
            server,
            stream,
            durable,
            ..
        } => format!("stream {stream} on nats://{server} as consumer {durable}"),
        From::Kafka { server, topic, group } => format!("topic {topic} on kafka://{server} in group {group}"),
    }
}

/// The worker's loop, whatever the broker.
async fn work<B: Broker>(
    broker: &mut B,
    mut model: Model,
    settings: &Consume,
    metrics: &metrics::Metrics,
    ui: &dyn Ui,
    stop: &AtomicBool,
) -> Result<Consumed, Error> {
    let options = ScoreOptions {
        k: settings.k,
        format: settings.format,
        selection: Selection {
            threshold: settings.threshold,
            before: 0,
            after: 0,
            overlap: false,
        },
        sketch: false,
    };
    let mut done = Consumed::default();
    let mut identity = FileIdentity::of(&settings.model);
    // A batch fetched when the model had changed: scored with the new one.
    let mut carried: Option<Vec<Delivery>> = None;
    // When the broker was last asked for the lag.
    let mut lag_asked: Option<std::time::Instant> = None;
    loop {
        let baseline = Baseline::new(model);
        let mut worker = Worker::new(&baseline, &options);
        let next = loop {
            let batch = match carried.take() {
                Some(batch) => batch,
                None => {
                    if stop.load(Ordering::Relaxed) {
                        done.stopped = true;
                        break None;
                    }
                    if lag_asked.is_none_or(|at| at.elapsed() >= LAG_EVERY) {
                        lag_asked = Some(std::time::Instant::now());
                        if let Ok(lag) = broker.lag().await {
                            metrics.lag(lag);
                        }
                    }
                    let batch = broker.fetch(settings.batch, settings.wait).await?;
                    // Whatever came after the model changed is scored with the new one.
                    let now = FileIdentity::of(&settings.model);
                    if now != identity {
                        identity = now;
                        match Model::load(&settings.model) {
                            Ok(new) => {
                                ui.note(&format!(
                                    "{} changed; scoring with it from now on",
                                    shown(&settings.model)
                                ));
                                done.reloads += 1;
                                metrics.reload(true);
                                carried = Some(batch);
                                break Some(new);
                            }
                            Err(e) => {
                                metrics.reload(false);
                                ui.note(&format!("{e}; still scoring with the model loaded before"));
                            }
                        }
                    }
                    batch
                }
            };
            if batch.is_empty() {
                continue;
            }
            let began = std::time::Instant::now();
            let records_before = worker.stream.records_so_far();
            let alerts = worker.score(&batch)?;
            match &settings.alerts {
                To::Stdout => {
                    use std::io::Write;
                    let mut out = std::io::stdout().lock();
                    for alert in &alerts {
                        out.write_all(alert).map_err(Error::Output)?;
                        out.write_all(b"\n").map_err(Error::Output)?;
                    }
                    out.flush().map_err(Error::Output)?;
                }
                To::Nats { .. } | To::Kafka { .. } => broker.publish(&alerts).await?,
            }
            broker.ack().await?;
            let records = worker.stream.records_so_far() - records_before;
            metrics.batch(batch.len() as u64, records, alerts.len() as u64, began.elapsed());
            done.messages += batch.len() as u64;
            done.alerts += alerts.len() as u64;
            done.batches += 1;
        };
        done.records += worker.finish()?;
        match next {
            Some(new) => model = new,
            None => return Ok(done),
        }
    }
}

/// Scores batches of messages against one baseline.
struct Worker<'b> {
    stream: Stream<'b>,
    /// Per source: its stream source, its lines so far, and the batch it was last used in.
    sources: HashMap<String, Open>,
    batch: u64,
}

struct Open {
    id: SourceId,
    lines: u64,
    used: u64,
}

impl<'b> Worker<'b> {
    fn new(baseline: &'b Baseline, options: &ScoreOptions) -> Worker<'b> {
        Worker {
            stream: Stream::new(baseline, options),
            sources: HashMap::new(),
            batch: 0,
        }
    }

    /// Scores a batch; returns its alerts, each a JSON object.
    fn score(&mut self, batch: &[Delivery]) -> Result<Vec<Vec<u8>>, Error> {
        self.batch += 1;
        let mut found = Found::default();
        // Per source, the lines each message brought: (first, last, message), in order.
        let mut spans: HashMap<&str, Vec<(u64, u64, usize)>> = HashMap::new();
        let mut touched: Vec<SourceId> = Vec::new();
        for (at, delivery) in batch.iter().enumerate() {
            if !self.sources.contains_key(&delivery.source) {
                if self.sources.len() >= MAX_SOURCES {
                    self.end_least_used(&mut found)?;
                }
                let id = self.stream.open(&delivery.source);
                self.sources
                    .insert(delivery.source.clone(), Open { id, lines: 0, used: 0 });
            }
            let Some(open) = self.sources.get_mut(&delivery.source) else {
                continue;
            };
            open.used = self.batch;
            if !touched.contains(&open.id) {
                touched.push(open.id);
            }
            let first = open.lines + 1;
            for text in texts_of(&delivery.payload) {
                for line in crate::read::split_lines(&text) {
                    open.lines += 1;
                    let (line, cut) = crate::read::cut_line(line);
                    self.stream.line(open.id, line, cut, &mut found)?;
                }
            }
            spans
                .entry(delivery.source.as_str())
                .or_default()
                .push((first, open.lines, at));
        }
        // Nothing is held back past the batch: its messages are acknowledged next.
        for id in touched {
            self.stream.release(id, &mut found)?;
        }
        // The message a line of a source came from.
        let message_of = |source: &str, line: u64| {
            let spans = spans.get(source)?;
            let at = spans.partition_point(|&(_, last, _)| last < line);
            spans
                .get(at)
                .filter(|&&(first, _, _)| first <= line)
                .map(|&(_, _, at)| at)
        };
        let mut alerts = Vec::with_capacity(found.rows.len());
        for row in found.rows {
            let origin = message_of(&row.source, row.line)
                .or_else(|| row.last_line.and_then(|l| message_of(&row.source, l)))
                .map(|at| &batch[at].origin);
            let mut value: serde_json::Value =
                serde_json::from_slice(&row.json).map_err(|e| Error::Output(std::io::Error::other(e)))?;
            if let Some(object) = value.as_object_mut() {
                object.insert(
                    "origin".into(),
                    serde_json::to_value(origin).map_err(|e| Error::Output(std::io::Error::other(e)))?,
                );
            }
            alerts.push(serde_json::to_vec(&value).map_err(|e| Error::Output(std::io::Error::other(e)))?);
        }
        Ok(alerts)
    }

    fn end_least_used(&mut self, found: &mut Found) -> Result<(), Error> {
        let oldest = self
            .sources
            .iter()
            .min_by_key(|(_, open)| open.used)
            .map(|(name, _)| name.clone());
        if let Some(name) = oldest {
            if let Some(open) = self.sources.remove(&name) {
                self.stream.end(open.id, found)?;
            }
        }
        Ok(())
    }

    /// Ends the stream; returns the records it scored.
    fn finish(self) -> Result<u64, Error> {
        let mut found = Found::default();
        let (summary, _) = self.stream.finish(&mut found)?;
        Ok(summary.records)
    }
}

/// A message body's records: a JSON object's `message` or `log` field (what
/// Vector sends), each record of a JSON array (strings, such objects, or
/// `[time, object]` pairs, as Fluent Bit's NATS output sends them), else the
/// body as text, invalid UTF-8 decoded lossily. A record may hold several
/// lines.
fn texts_of(payload: &[u8]) -> Vec<Cow<'_, str>> {
    let text = String::from_utf8_lossy(payload);
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(trimmed) {
            let records: Option<Vec<&str>> = match &value {
                serde_json::Value::Array(items) => items.iter().map(record_text).collect(),
                other => record_text(other).map(|t| vec![t]),
            };
            if let Some(records) = records {
                return records.into_iter().map(|t| Cow::Owned(t.to_owned())).collect();
            }
        }
    }
    vec![text]
}

/// The text of one JSON record: a string, an object's `message` or `log`
/// field, or the object of a `[time, object]` pair.
fn record_text(value: &serde_json::Value) -> Option<&str> {
    use serde_json::Value;
    match value {
        Value::String(text) => Some(text),
        Value::Object(object) => ["message", "log"]
            .iter()
            .find_map(|field| object.get(*field).and_then(Value::as_str)),
        Value::Array(pair) if pair.len() == 2 && pair[1].is_object() => record_text(&pair[1]),
        _ => None,
    }
}

/// An alert as `--json` writes it, and where its record is.
struct Row {
    source: Arc<str>,
    line: u64,
    last_line: Option<u64>,
    json: Vec<u8>,
}

/// Collects a batch's anomalies and first calls outside the baseline as JSON rows.
#[derive(Default)]
struct Found {
    rows: Vec<Row>,
}

impl Sink for Found {
    fn anomaly(&mut self, anomaly: &Anomaly) -> std::io::Result<()> {
        let mut json = Vec::new();
        JsonPrinter::new(&mut json, false).anomaly(anomaly)?;
        self.rows.push(Row {
            source: Arc::clone(&anomaly.source),
            line: anomaly.line,
            last_line: anomaly.window.as_ref().map(|w| w.last_line),
            json,
        });
        Ok(())
    }

    fn violation(&mut self, source: &str, violation: &Violation) -> std::io::Result<()> {
        let mut json = Vec::new();
        JsonPrinter::new(&mut json, false).violation(source, violation)?;
        self.rows.push(Row {
            source: Arc::from(source),
            line: violation.line,
            last_line: None,
            json,
        });
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::MAX_LINE_BYTES;

    /// A body's lines, as a worker scores them.
    fn lines_of(payload: &[u8]) -> Vec<String> {
        texts_of(payload)
            .iter()
            .flat_map(|t| crate::read::split_lines(t).map(str::to_owned).collect::<Vec<_>>())
            .collect()
    }

    #[test]
    fn a_body_is_its_lines_or_the_message_of_a_json_object() {
        assert_eq!(lines_of(b"a b\r\nc d\n"), vec!["a b", "c d"]);
        assert_eq!(lines_of(br#"{"message":"one\ntwo","host":"h"}"#), vec!["one", "two"]);
        assert_eq!(lines_of(br#"{"log":"from fluent bit"}"#), vec!["from fluent bit"]);
        assert_eq!(lines_of(br#"{"other":1}"#), vec![r#"{"other":1}"#]);
        assert_eq!(
            lines_of(br#"[[1700000000.5,{"log":"first"}],[1700000001,{"log":"second","x":1}]]"#),
            vec!["first", "second"]
        );
        assert_eq!(lines_of(br#"["a","b"]"#), vec!["a", "b"]);
        assert_eq!(lines_of(br#"[1,2]"#), vec!["[1,2]"]);
        assert_eq!(lines_of(b"\xff\xfe ok"), vec!["\u{fffd}\u{fffd} ok"]);
        let long = "é".repeat(MAX_LINE_BYTES);
        let (cut, was) = crate::read::cut_line(&long);
        assert!(was && cut.len() <= MAX_LINE_BYTES && cut.len() > MAX_LINE_BYTES - 2);
    }
}
