//! `honk serve`: honk as an HTTP service that log shippers and other programs
//! call (tokio and axum, behind the `serve` feature).
//!
//! Routes (`docs/openapi.yaml` describes them):
//! - `POST /v1/models/{name}/score`: the body's records (text, one per line;
//!   or JSON, see [`records`]) scored against the model; the response is the
//!   rows `honk score --json` prints (incidents, anomalies, policy rows, the
//!   summary) as a JSON array, or as NDJSON (`Accept: application/x-ndjson`
//!   or `?output=ndjson`), or the HTML report (`?output=html`).
//! - `POST /v1/models/{name}/learn`: the body's records added to the model
//!   (created if missing) as `honk learn` adds them: under its lock, written
//!   atomically; the server serves the result at once.
//! - `GET /v1/models`: the models, their settings and sizes.
//! - `GET /metrics` (Prometheus text format), `GET /healthz`.
//!
//! Safety: with a token file, every route but `/healthz` needs
//! `Authorization: Bearer TOKEN` (compared in constant time; 401 otherwise).
//! A body over the size limit gets 413, a request over the time limit 408
//! (it was waiting for more of its body from the client) or 503 (it was
//! waiting for the server), a model route over the concurrency
//! limit 503 with `Retry-After` at once (requests are not queued). Every
//! error is a JSON object `{"type": "error", "error": str, "status": int}`.
//! Scoring and learning run on blocking threads, the body streamed to them
//! as it arrives. SIGINT or SIGTERM stops accepting, lets the requests in
//! flight finish, and returns.
//!
//! Models are reloaded when their file changes ([`registry`]). This module
//! wires HTTP to the library; it does not score or parse logs itself.

pub mod metrics;
pub mod records;
pub mod registry;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use crate::parse::Format;
use crate::pipeline::{self, ScoreOptions, SourceId, Stream};
use crate::progress::Progress;
use crate::read::Input;
use crate::report::html::builder::{InputRow, PageBuilder};
use crate::report::json::JsonPrinter;
use crate::report::{Discard, Incidents, Tee};
use metrics::Metrics;
use records::{read_records, BodyKind, RecordsError};
use registry::{log, Registry};

/// The default largest request body: 64 MiB.
pub const DEFAULT_MAX_BODY: u64 = 64 << 20;

/// The longest a client may take to send a request's headers (less when
/// the request time limit is less); then its connection is closed.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Sources one request may name (each is scored apart and holds state).
pub const MAX_SOURCES: usize = 256;

/// The source name of records that name none.
pub const DEFAULT_SOURCE: &str = "request";

/// How a server runs.
#[derive(Clone, Debug)]
pub struct Serve {
    /// The directory of the models served (`NAME.honk`).
    pub models: PathBuf,
    /// Where to listen (port 0: any free port).
    pub listen: SocketAddr,
    /// A file whose content (surrounding whitespace aside) is the bearer
    /// token every request but `/healthz` must carry, if any.
    pub token_file: Option<PathBuf>,
    /// The largest request body, in bytes.
    pub max_body: u64,
    /// The longest a request may take, from its arrival to its response
    /// (zero: no limit).
    pub timeout: Duration,
    /// Requests to the model routes served at once; more get 503.
    pub concurrency: usize,
    /// Also write the incident, anomaly and policy rows of every score
    /// request to standard output, as NDJSON (for shippers that drop the
    /// responses they get).
    pub print_anomalies: bool,
}

impl Default for Serve {
    fn default() -> Serve {
        Serve {
            models: PathBuf::from("."),
            listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
            token_file: None,
            max_body: DEFAULT_MAX_BODY,
            timeout: Duration::from_secs(60),
            concurrency: 2 * std::thread::available_parallelism().map_or(2, |n| n.get()),
            print_anomalies: false,
        }
    }
}

/// Why the server could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The settings cannot work.
    #[error("{0}")]
    Refused(String),
    /// The address could not be listened on.
    #[error("cannot listen on {address}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("the server failed")]
    Run(#[source] std::io::Error),
}

/// Why a request failed: each maps to an HTTP status and a JSON error body.
#[derive(Debug, Clone)]
pub enum ServeError {
    /// 400: the request is malformed.
    BadRequest(String),
    /// 401: no token, or the wrong one.
    Unauthorized,
    /// 404: no such model or route.
    NotFound(String),
    /// 405: the route does not take this method.
    MethodNotAllowed,
    /// 408: the body did not come within the time limit.
    Timeout(String),
    /// 409: the request does not fit the model (its settings).
    Conflict(String),
    /// 413: the body is over the size limit.
    TooLarge(u64),
    /// 415: the body's content type is not one honk reads.
    Unsupported(String),
    /// 500: honk failed.
    Internal(String),
    /// 503: the model does not load, or scoring took too long.
    Unavailable(String),
    /// 503 with `Retry-After`: too many requests at once.
    Busy,
}

impl ServeError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ServeError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ServeError::Unauthorized => StatusCode::UNAUTHORIZED,
            ServeError::NotFound(_) => StatusCode::NOT_FOUND,
            ServeError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ServeError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ServeError::Conflict(_) => StatusCode::CONFLICT,
            ServeError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ServeError::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ServeError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ServeError::Unavailable(_) | ServeError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn message(&self) -> String {
        match self {
            ServeError::BadRequest(m)
            | ServeError::NotFound(m)
            | ServeError::Timeout(m)
            | ServeError::Conflict(m)
            | ServeError::Unsupported(m)
            | ServeError::Internal(m)
            | ServeError::Unavailable(m) => m.clone(),
            ServeError::Unauthorized => "a valid bearer token is needed (Authorization: Bearer TOKEN)".into(),
            ServeError::MethodNotAllowed => "this route does not take that method".into(),
            ServeError::TooLarge(limit) => format!("the request body is larger than the limit, {limit} bytes"),
            ServeError::Busy => "too many requests at once; try again shortly".into(),
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    r#type: &'static str,
    error: &'a str,
    status: u16,
}

impl IntoResponse for ServeError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            r#type: "error",
            error: &self.message(),
            status: status.as_u16(),
        };
        let mut response = json_response(status, serde_json::to_vec(&body).unwrap_or_default());
        let headers = response.headers_mut();
        match self {
            ServeError::Unauthorized => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"honk\""),
                );
            }
            ServeError::Busy => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// An error and its causes, as one line.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// What the handlers share.
#[derive(Clone)]
struct App {
    registry: Arc<Registry>,
    metrics: Arc<Metrics>,
    token: Option<Arc<[u8]>>,
    max_body: u64,
    timeout: Duration,
    permits: Arc<Semaphore>,
    print_anomalies: bool,
}

/// Serves `settings.models` on `settings.listen` until SIGINT or SIGTERM;
/// `ready` is told the address bound (the real port when 0 was asked for)
/// once requests are accepted.
pub fn serve(settings: &Serve, ready: impl FnOnce(SocketAddr)) -> Result<(), Error> {
    if !settings.models.is_dir() {
        return Err(Error::Refused(format!(
            "{} is not a directory (give the directory of the .honk models to serve)",
            crate::read::shown(&settings.models)
        )));
    }
    if settings.concurrency == 0 {
        return Err(Error::Refused("--concurrency must be at least 1".into()));
    }
    let token = match &settings.token_file {
        Some(path) => {
            let shown = crate::read::shown(path);
            let text =
                std::fs::read(path).map_err(|e| Error::Refused(format!("cannot read the token file {shown}: {e}")))?;
            let token = String::from_utf8(text)
                .map_err(|_| Error::Refused(format!("the token file {shown} is not UTF-8 text")))?;
            let token = token.trim();
            if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(Error::Refused(format!(
                    "the token file {shown} must hold one token, without spaces"
                )));
            }
            Some(token.to_owned())
        }
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("honk-serve")
        .build()
        .map_err(Error::Run)?;
    runtime.block_on(run(settings.clone(), token, ready))
}

async fn run(settings: Serve, token: Option<String>, ready: impl FnOnce(SocketAddr)) -> Result<(), Error> {
    let metrics = Arc::new(Metrics::default());
    let app = App {
        registry: Arc::new(Registry::new(settings.models.clone(), Arc::clone(&metrics))),
        metrics,
        token: token.as_deref().map(|t| Arc::from(t.as_bytes())),
        max_body: settings.max_body,
        timeout: settings.timeout,
        permits: Arc::new(Semaphore::new(settings.concurrency)),
        print_anomalies: settings.print_anomalies,
    };
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| Error::Listen {
            address: settings.listen,
            source,
        })?;
    let address = listener.local_addr().map_err(Error::Run)?;
    ready(address);
    let header_timeout = if settings.timeout.is_zero() {
        HEADER_TIMEOUT
    } else {
        settings.timeout.min(HEADER_TIMEOUT)
    };
    let service = hyper_util::service::TowerToHyperService::new(router(app));
    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    let stop = stop_signal();
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, say: wait a little, go on.
                    log(&format!("cannot accept a connection: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(header_timeout);
        let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service.clone());
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            // A client that goes away mid-request is its own business.
            let _ = connection.await;
        });
    }
    // No new connections; those open finish their request in flight (idle
    // ones are closed), then the server returns.
    drop(listener);
    connections.shutdown().await;
    Ok(())
}

/// SIGINT or SIGTERM.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        // No signal handling: run until killed.
        return std::future::pending().await;
    };
    let name = tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    };
    log(&format!("{name}: finishing the requests in flight, then stopping"));
}

fn router(app: App) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/v1/models", get(list))
        .route("/v1/models/{name}/score", post(score))
        .route("/v1/models/{name}/learn", post(learn))
        .fallback(|| async { ServeError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async { ServeError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Whether a request is waiting for its client (the next piece of its body)
/// rather than for the server: a request out of time then gets 408, not 503.
#[derive(Clone, Default)]
struct BodyRead(Arc<AtomicBool>);

/// Around every request: the token, the time limit, the metrics.
async fn guard(State(app): State<App>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("other", |m| m.as_str())
        .to_owned();
    let method = match *request.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        _ => "other",
    };
    app.metrics.started();
    let response = if route != "/healthz" && !authorized(app.token.as_deref(), request.headers()) {
        app.metrics.rejected("unauthorized");
        ServeError::Unauthorized.into_response()
    } else {
        let body_read = BodyRead::default();
        request.extensions_mut().insert(body_read.clone());
        // No limit: a deadline too far to come.
        let limit = if app.timeout.is_zero() {
            Duration::from_secs(100 * 365 * 24 * 3600)
        } else {
            app.timeout
        };
        match tokio::time::timeout(limit, next.run(request)).await {
            Ok(response) => response,
            Err(_) => {
                app.metrics.rejected("timeout");
                let limit = app.timeout.as_secs_f64();
                if body_read.0.load(Ordering::SeqCst) {
                    ServeError::Timeout(format!("the request body did not come within the limit, {limit} s"))
                } else {
                    ServeError::Unavailable(format!("the request took longer than the limit, {limit} s"))
                }
                .into_response()
            }
        }
    };
    app.metrics
        .ended(&route, method, response.status().as_u16(), started.elapsed());
    response
}

/// Whether `headers` carry the token (any, when there is none).
fn authorized(token: Option<&[u8]>, headers: &HeaderMap) -> bool {
    let Some(token) = token else { return true };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
    given.is_some_and(|given| same_bytes(given.as_bytes(), token))
}

/// `a == b` in time that depends on their lengths only.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

async fn healthz() -> Response {
    json_response(StatusCode::OK, br#"{"type":"health","status":"ok"}"#.to_vec())
}

async fn metrics_text(State(app): State<App>) -> Response {
    let mut response = app.metrics.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// One model in `GET /v1/models`.
#[derive(Serialize)]
struct ModelRow {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    entries: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    records: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sources: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    settings: Option<crate::model::Settings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

async fn list(State(app): State<App>) -> Result<Response, ServeError> {
    let registry = Arc::clone(&app.registry);
    let rows = blocking(move || {
        let mut rows = Vec::new();
        for name in registry.names()? {
            let row = match registry.get(&name) {
                Ok(loaded) => {
                    let model = loaded.baseline.model();
                    ModelRow {
                        name,
                        file_bytes: Some(loaded.file_bytes),
                        entries: Some(model.entries.len()),
                        records: Some(model.records()),
                        sources: Some(model.sources.len()),
                        settings: Some(model.settings.clone()),
                        error: None,
                    }
                }
                // Removed since it was listed.
                Err(ServeError::NotFound(_)) => continue,
                Err(e) => ModelRow {
                    name,
                    file_bytes: None,
                    entries: None,
                    records: None,
                    sources: None,
                    settings: None,
                    error: Some(e.message()),
                },
            };
            rows.push(row);
        }
        Ok(rows)
    })
    .await?;
    let body = serde_json::json!({"type": "models", "models": rows});
    Ok(json_response(StatusCode::OK, body.to_string().into_bytes()))
}

/// Runs `work` on a blocking thread.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ServeError> + Send + 'static,
) -> Result<T, ServeError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ServeError::Internal(format!("the request's work failed: {e}")))?
}

/// What the score route answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Output {
    Json,
    Ndjson,
    Html,
}

/// A score request's settings, from its query.
struct Asked {
    options: ScoreOptions,
    source: String,
    output: Option<Output>,
}

fn asked(query: &HashMap<String, String>, for_learn: bool) -> Result<Asked, ServeError> {
    let bad = |what: &str, value: &str| ServeError::BadRequest(format!("{what}={value:?} is not valid"));
    let mut options = ScoreOptions::default();
    let mut source = DEFAULT_SOURCE.to_owned();
    let mut output = None;
    for (key, value) in query {
        match (key.as_str(), for_learn) {
            ("format", _) if value == "auto" => options.format = None,
            ("format", _) => {
                options.format = Some(Format::from_name(value).ok_or_else(|| bad("format", value))?);
            }
            ("source", _) => {
                if value.is_empty() || value.chars().count() > 200 || value.chars().any(char::is_control) {
                    return Err(bad("source", value));
                }
                source.clone_from(value);
            }
            ("threshold", false) => {
                options.selection.threshold = value
                    .parse::<f64>()
                    .ok()
                    .filter(|t| t.is_finite() && *t >= 0.0)
                    .ok_or_else(|| bad("threshold", value))?;
            }
            ("k", false) => {
                options.k = value
                    .parse::<usize>()
                    .ok()
                    .filter(|k| (1..=64).contains(k))
                    .ok_or_else(|| bad("k", value))?;
            }
            ("before", false) | ("after", false) => {
                let n = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n <= 100)
                    .ok_or_else(|| bad(key, value))?;
                if key == "before" {
                    options.selection.before = n;
                } else {
                    options.selection.after = n;
                }
            }
            ("output", false) => {
                output = Some(match value.as_str() {
                    "json" => Output::Json,
                    "ndjson" => Output::Ndjson,
                    "html" => Output::Html,
                    _ => return Err(bad("output", value)),
                });
            }
            _ => {
                return Err(ServeError::BadRequest(format!("unknown query parameter {key:?}")));
            }
        }
    }
    Ok(Asked {
        options,
        source,
        output,
    })
}

/// How the body is written, from its content type.
fn body_kind(headers: &HeaderMap) -> Result<BodyKind, ServeError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(BodyKind::Text);
    };
    let value = value.to_str().unwrap_or("");
    let mime = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match mime.as_str() {
        "text/plain" | "" => Ok(BodyKind::Text),
        "application/json"
        | "application/x-ndjson"
        | "application/ndjson"
        | "application/jsonl"
        | "application/json-seq" => Ok(BodyKind::Json),
        _ => Err(ServeError::Unsupported(format!(
            "content type {value:?} is not read: send text/plain (a record per line) or application/json"
        ))),
    }
}

/// Refuses a body whose announced length is over the limit, before reading it.
fn check_length(headers: &HeaderMap, limit: u64) -> Result<(), ServeError> {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match length {
        Some(n) if n > limit => Err(ServeError::TooLarge(limit)),
        _ => Ok(()),
    }
}

/// A piece of the body on its way to the blocking reader.
enum Piece {
    Data(Bytes),
    /// The body ended.
    End,
    /// The body could not be read whole: the reader fails.
    Failed,
}

/// The body as a blocking reader, pieces as they come.
struct BodyReader {
    pieces: mpsc::Receiver<Piece>,
    current: Bytes,
    ended: bool,
}

impl std::io::Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            if self.ended {
                return Ok(0);
            }
            match self.pieces.blocking_recv() {
                Some(Piece::Data(bytes)) => self.current = bytes,
                Some(Piece::End) => self.ended = true,
                Some(Piece::Failed) | None => {
                    return Err(std::io::Error::other("the request body was not read whole"));
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        let _ = self.current.split_to(n);
        Ok(n)
    }
}

/// Sends `body` to `pieces`, at most `limit` bytes of it.
async fn pump(body: Body, pieces: mpsc::Sender<Piece>, limit: u64, read: &BodyRead) -> Result<(), ServeError> {
    let mut stream = body.into_data_stream();
    let mut total = 0u64;
    loop {
        read.0.store(true, Ordering::SeqCst);
        let piece = stream.next().await;
        read.0.store(false, Ordering::SeqCst);
        let Some(piece) = piece else { break };
        let bytes = match piece {
            Ok(bytes) => bytes,
            Err(e) => {
                let _ = pieces.send(Piece::Failed).await;
                return Err(ServeError::BadRequest(format!("cannot read the request body: {e}")));
            }
        };
        total += bytes.len() as u64;
        if total > limit {
            let _ = pieces.send(Piece::Failed).await;
            return Err(ServeError::TooLarge(limit));
        }
        // The reader gone (it failed): what it said is the answer.
        if pieces.send(Piece::Data(bytes)).await.is_err() {
            return Ok(());
        }
    }
    let _ = pieces.send(Piece::End).await;
    Ok(())
}

/// Runs `work` over the streamed body on a blocking thread, holding
/// `permit`; the body's own failure (too large, cut) wins over the work's.
async fn over_body<T: Send + 'static>(
    app: &App,
    body: Body,
    read: &BodyRead,
    permit: OwnedSemaphorePermit,
    work: impl FnOnce(BodyReader, &AtomicBool) -> Result<T, ServeError> + Send + 'static,
) -> Result<T, ServeError> {
    let (sender, receiver) = mpsc::channel(16);
    let reader = BodyReader {
        pieces: receiver,
        current: Bytes::new(),
        ended: false,
    };
    // Set if this future is dropped before the work is done (the request timed out).
    let mut abandoned = Abandoned {
        flag: Arc::new(AtomicBool::new(false)),
        done: false,
    };
    let flag = Arc::clone(&abandoned.flag);
    let job = tokio::task::spawn_blocking(move || {
        let result = work(reader, &flag);
        drop(permit);
        result
    });
    let pumped = pump(body, sender, app.max_body, read).await;
    let done = job
        .await
        .map_err(|e| ServeError::Internal(format!("the request's work failed: {e}")));
    abandoned.done = true;
    if let Err(e) = pumped {
        if matches!(e, ServeError::TooLarge(_)) {
            app.metrics.rejected("too_large");
        }
        return Err(e);
    }
    done?
}

/// Sets its flag when dropped: a request's future dropped before its work
/// was done (by the time limit) marks the work abandoned.
struct Abandoned {
    flag: Arc<AtomicBool>,
    done: bool,
}

impl Drop for Abandoned {
    fn drop(&mut self) {
        if !self.done {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
}

fn permit(app: &App) -> Result<OwnedSemaphorePermit, ServeError> {
    Arc::clone(&app.permits).try_acquire_owned().map_err(|_| {
        app.metrics.rejected("busy");
        ServeError::Busy
    })
}

/// The model name from the path, checked.
fn model_name(app: &App, name: Result<Path<String>, PathRejection>) -> Result<String, ServeError> {
    let Path(name) = name.map_err(|e| ServeError::BadRequest(format!("bad model name: {e}")))?;
    app.registry.path_of(&name)?;
    Ok(name)
}

fn query(query: Result<Query<HashMap<String, String>>, QueryRejection>) -> Result<HashMap<String, String>, ServeError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ServeError::BadRequest(format!("bad query: {e}")))
}

fn records_error(e: RecordsError) -> ServeError {
    match e {
        RecordsError::Malformed(m) => ServeError::BadRequest(m),
        RecordsError::Read(e) => ServeError::BadRequest(format!("cannot read the request body: {e}")),
        RecordsError::Consumer(m) => ServeError::BadRequest(m),
    }
}

/// Wants NDJSON: asked by the query, else by the Accept header.
fn chosen_output(asked: Option<Output>, headers: &HeaderMap) -> Output {
    if let Some(output) = asked {
        return output;
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if accept.contains("application/x-ndjson") || accept.contains("application/jsonl") {
        Output::Ndjson
    } else if accept.starts_with("text/html") {
        Output::Html
    } else {
        Output::Json
    }
}

async fn score(
    State(app): State<App>,
    name: Result<Path<String>, PathRejection>,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
    read: Option<axum::Extension<BodyRead>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ServeError> {
    let name = model_name(&app, name)?;
    let asked = asked(&query(params)?, false)?;
    let kind = body_kind(&headers)?;
    check_length(&headers, app.max_body)?;
    let output = chosen_output(asked.output, &headers);
    let permit = permit(&app)?;
    let registry = Arc::clone(&app.registry);
    let metrics = Arc::clone(&app.metrics);
    let read = read.map(|e| e.0).unwrap_or_default();
    let print = app.print_anomalies;
    let (bytes, content_type) = over_body(&app, body, &read, permit, move |reader, _| {
        let loaded = registry.get(&name)?;
        let (bytes, records, anomalies) = match output {
            Output::Html => score_html(&loaded, &name, reader, kind, &asked)?,
            Output::Json | Output::Ndjson => score_rows(&loaded, reader, kind, &asked, output == Output::Json, print)?,
        };
        metrics.scored(&name, records, anomalies);
        let content_type = match output {
            Output::Json => "application/json",
            Output::Ndjson => "application/x-ndjson",
            Output::Html => "text/html; charset=utf-8",
        };
        Ok((bytes, content_type))
    })
    .await?;
    let mut response = (StatusCode::OK, bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}

/// Scores the body's records as they come; returns the `--json` rows (as
/// NDJSON, or as a JSON array when `array`), the records and the anomalies.
fn score_rows(
    loaded: &registry::Loaded,
    reader: BodyReader,
    kind: BodyKind,
    asked: &Asked,
    array: bool,
    print: bool,
) -> Result<(Vec<u8>, u64, u64), ServeError> {
    let context = asked.options.selection.before > 0 || asked.options.selection.after > 0;
    let mut printer = JsonPrinter::new(Vec::new(), context);
    let mut discard = Discard;
    let mut grouped = Incidents::new(Tee(&mut printer, &mut discard), None);
    let mut stream = Stream::new(&loaded.baseline, &asked.options);
    let mut sources: HashMap<String, SourceId> = HashMap::new();
    let mut failed: Option<ServeError> = None;
    let result = read_records(reader, kind, &mut |source, line, cut| {
        let name = source.unwrap_or(&asked.source);
        let id = match sources.get(name) {
            Some(id) => *id,
            None => {
                if sources.len() >= MAX_SOURCES {
                    return Err(format!("a request may name at most {MAX_SOURCES} sources"));
                }
                let id = stream.open(name);
                sources.insert(name.to_owned(), id);
                id
            }
        };
        stream.line(id, line, cut, &mut grouped).map_err(|e| {
            let message = chain(&e);
            failed = Some(ServeError::Internal(message.clone()));
            message
        })
    });
    if let Some(e) = failed {
        return Err(e);
    }
    result.map_err(records_error)?;
    let (summary, _) = stream
        .finish(&mut grouped)
        .map_err(|e| ServeError::Internal(chain(&e)))?;
    drop(grouped);
    let rows = printer.into_inner();
    if print {
        print_rows(&rows);
    }
    let bytes = if array { ndjson_to_array(&rows) } else { rows };
    Ok((bytes, summary.records, summary.anomalies))
}

/// The rows but the summary, on standard output, all together.
fn print_rows(rows: &[u8]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for row in rows.split(|b| *b == b'\n').filter(|r| !r.is_empty()) {
        if !row.starts_with(br#"{"type":"summary""#) {
            let _ = out.write_all(row);
            let _ = out.write_all(b"\n");
        }
    }
    let _ = out.flush();
}

/// NDJSON rows as one JSON array.
fn ndjson_to_array(rows: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() + 2);
    out.push(b'[');
    for (i, row) in rows.split(|b| *b == b'\n').filter(|r| !r.is_empty()).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(row);
    }
    out.extend_from_slice(b"]\n");
    out
}

/// Scores the body's records as `honk score --html` does (the whole body
/// first: a report needs the whole run); returns the page.
fn score_html(
    loaded: &registry::Loaded,
    name: &str,
    reader: BodyReader,
    kind: BodyKind,
    asked: &Asked,
) -> Result<(Vec<u8>, u64, u64), ServeError> {
    let inputs = collect_inputs(reader, kind, &asked.source)?;
    let options = ScoreOptions {
        sketch: true,
        ..asked.options.clone()
    };
    let mut page = PageBuilder::default();
    let mut discard = Discard;
    let mut grouped = Incidents::new(Tee(&mut discard, &mut page), None);
    let (summary, stats) = pipeline::score(&loaded.baseline, &inputs, &options, &mut grouped, &Progress::hidden())
        .map_err(|e| ServeError::Internal(chain(&e)))?;
    drop(grouped);
    let rows: Vec<InputRow> = stats.iter().map(InputRow::from).collect();
    let title = format!("honk serve: {name}");
    let page = page.page(&title, loaded.baseline.model(), rows, Vec::new());
    let rendered = crate::report::html::render(&page).map_err(|e| ServeError::Internal(chain(&e)))?;
    Ok((rendered.into_bytes(), summary.records, summary.anomalies))
}

/// The body's records as one text input per source, in memory.
fn collect_inputs(reader: BodyReader, kind: BodyKind, default: &str) -> Result<Vec<Input>, ServeError> {
    let mut order: Vec<String> = Vec::new();
    let mut texts: HashMap<String, String> = HashMap::new();
    read_records(reader, kind, &mut |source, line, _| {
        let name = source.unwrap_or(default);
        let text = match texts.get_mut(name) {
            Some(text) => text,
            None => {
                if order.len() >= MAX_SOURCES {
                    return Err(format!("a request may name at most {MAX_SOURCES} sources"));
                }
                order.push(name.to_owned());
                texts.entry(name.to_owned()).or_default()
            }
        };
        text.push_str(line);
        text.push('\n');
        Ok(())
    })
    .map_err(records_error)?;
    Ok(order
        .iter()
        .map(|name| Input::text(name, texts.get(name).map_or("", String::as_str)))
        .collect())
}

/// What `POST /v1/models/{name}/learn` answers.
#[derive(Serialize)]
struct LearnedRow {
    r#type: &'static str,
    model: String,
    records: u64,
    unique: usize,
    model_unique: usize,
    model_sources: usize,
}

async fn learn(
    State(app): State<App>,
    name: Result<Path<String>, PathRejection>,
    params: Result<Query<HashMap<String, String>>, QueryRejection>,
    read: Option<axum::Extension<BodyRead>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ServeError> {
    let name = model_name(&app, name)?;
    let asked = asked(&query(params)?, true)?;
    let kind = body_kind(&headers)?;
    check_length(&headers, app.max_body)?;
    let permit = permit(&app)?;
    let registry = Arc::clone(&app.registry);
    let read = read.map(|e| e.0).unwrap_or_default();
    let row = over_body(&app, body, &read, permit, move |reader, abandoned| {
        let inputs = collect_inputs(reader, kind, &asked.source)?;
        if inputs.is_empty() {
            return Err(ServeError::BadRequest("the body holds no records to learn".into()));
        }
        let learned = registry.learn(&name, &inputs, asked.options.format, abandoned)?;
        Ok(LearnedRow {
            r#type: "learned",
            model: name,
            records: learned.records,
            unique: learned.unique,
            model_unique: learned.model_unique,
            model_sources: learned.model_sources,
        })
    })
    .await?;
    Ok(json_response(
        StatusCode::OK,
        serde_json::to_vec(&row).map_err(|e| ServeError::Internal(e.to_string()))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same_bytes(b"secret", b"secret"));
        assert!(!same_bytes(b"secret", b"secreT"));
        assert!(!same_bytes(b"secret", b"secret2"));
        let mut headers = HeaderMap::new();
        assert!(authorized(None, &headers));
        assert!(!authorized(Some(b"t0k"), &headers));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t0k"));
        assert!(authorized(Some(b"t0k"), &headers));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic t0k"));
        assert!(!authorized(Some(b"t0k"), &headers));
    }

    #[test]
    fn model_names_are_plain_file_names() {
        for bad in ["", "..", "../x", "a/b", ".hidden", "a\0b", "a\\b", "x\n"] {
            assert!(!registry::valid_name(bad), "{bad:?}");
        }
        for good in ["web", "nginx-prod_2", "modèle été", "a.b"] {
            assert!(registry::valid_name(good), "{good:?}");
        }
    }
}
