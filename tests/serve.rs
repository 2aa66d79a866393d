//! `honk serve`, the real binary on loopback, called over raw HTTP/1.1 the
//! way any client would: scoring text and JSON bodies (the same anomalies as
//! `honk score --json` on the same lines), learning, concurrent clients, a
//! model swapped on disk mid-load (by atomic rename, and by a writer that
//! writes in place), hostile requests (oversized, malformed, bad names, bad
//! tokens, a slow body), the concurrency limit, SIGTERM with a request in
//! flight, and the server answering as docs/openapi.json says.
//!
//! Models are learned by the real `honk learn` from loghub's Linux and
//! Apache logs (`../shared/data/loghub-2k`), in a temporary directory whose
//! name has spaces and accents.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

fn honk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_honk"))
}

fn loghub(name: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/loghub-2k")
        .join(name)
        .join(format!("{name}_2k.log"));
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) => {
            common::skip(&format!("loghub's {name} log is not at {}: {e}", path.display()));
            None
        }
    }
}

/// A directory named with spaces and accents, holding `models/` and logs.
struct Place {
    dir: tempfile::TempDir,
    /// loghub's Linux log, cut in two: what the model learns, what is scored.
    base: String,
    target: String,
}

impl Place {
    fn new() -> Option<Place> {
        let linux = loghub("Linux")?;
        let lines: Vec<&str> = linux.lines().collect();
        let (base, target) = lines.split_at(1500);
        let dir = tempfile::Builder::new().prefix("honk sérve ").tempdir().unwrap();
        std::fs::create_dir(dir.path().join("models")).unwrap();
        let place = Place {
            dir,
            base: base.join("\n") + "\n",
            target: target.join("\n") + "\n",
        };
        std::fs::write(place.path("base.log"), &place.base).unwrap();
        std::fs::write(place.path("target.log"), &place.target).unwrap();
        place.learn("linux", &["base.log"]);
        Some(place)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn models(&self) -> PathBuf {
        self.path("models")
    }

    fn model(&self, name: &str) -> PathBuf {
        self.models().join(format!("{name}.honk"))
    }

    /// `honk learn -o models/NAME.honk INPUTS...`.
    fn learn(&self, name: &str, inputs: &[&str]) {
        let out = honk()
            .current_dir(self.dir.path())
            .args(["learn", "-q", "-o"])
            .arg(self.model(name))
            .args(inputs)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }

    /// `honk score --json` rows of `target` against the model file `model`.
    fn score_rows(&self, model: &Path, target: &str) -> Vec<Value> {
        let out = honk()
            .current_dir(self.dir.path())
            .args(["score", "--json", "-m"])
            .arg(model)
            .arg(target)
            .output()
            .unwrap();
        assert!(
            out.status.code().is_some_and(|c| c < 2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        ndjson(&out.stdout)
    }
}

fn ndjson(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A running `honk serve`, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
    /// Standard output after its first line.
    printed: Arc<Mutex<String>>,
}

impl Server {
    fn start(models: &Path, args: &[&str]) -> Server {
        let mut child = honk()
            .args(["serve", "--models"])
            .arg(models)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut first).unwrap();
        let printed = Arc::new(Mutex::new(String::new()));
        let kept = Arc::clone(&printed);
        std::thread::spawn(move || {
            let mut line = String::new();
            while stdout.read_line(&mut line).is_ok_and(|n| n > 0) {
                kept.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let port = first
            .trim()
            .strip_prefix("listening on http://127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("first line: {first:?}"));
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().unwrap();
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                kept.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Server {
            child,
            port,
            log,
            printed,
        }
    }

    fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        request(self.port, method, path, headers, body)
    }

    fn score(&self, model: &str, query: &str, content_type: &str, body: &[u8]) -> Reply {
        self.call(
            "POST",
            &format!("/v1/models/{model}/score{query}"),
            &[("Content-Type", content_type)],
            body,
        )
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {} {}", self.status, String::from_utf8_lossy(&self.body)))
    }

    /// A JSON error of this status, as every error is.
    fn assert_error(&self, status: u16) {
        assert_eq!(self.status, status, "{}", String::from_utf8_lossy(&self.body));
        let json = self.json();
        assert_eq!(json["type"], "error", "{json}");
        assert_eq!(json["status"], status, "{json}");
        assert!(json["error"].as_str().is_some_and(|e| !e.is_empty()), "{json}");
        assert_eq!(self.header("content-type"), Some("application/json"));
    }
}

/// One HTTP/1.1 request on a new connection; the body is written from
/// another thread while the reply is read, so that a server answering before
/// it has read the whole body (413) is heard.
fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-length")) {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let body = body.to_vec();
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(&body);
    });
    let reply = read_reply(&mut stream);
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let _ = sender.join();
    reply
}

fn read_reply(stream: &mut TcpStream) -> Reply {
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            // A reset after the reply (the server did not read the whole body).
            Err(e) if !raw.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("reading the reply: {e}"),
        }
    }
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Reply {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = unchunk(&body);
    }
    Reply { status, headers, body }
}

fn unchunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(at) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&raw[..at]).trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[at + 2..at + 2 + size]);
        raw = &raw[at + 2 + size + 2..];
    }
    out
}

/// The anomalies of `--json` rows, as what can be compared across runs:
/// line, score, text and nearest record (not the source's name).
fn anomalies(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .filter(|r| r["type"] == "anomaly")
        .map(|r| format!("{} {} {} {}", r["line"], r["score"], r["text"], r["nearest"]["text"]))
        .collect()
}

fn summary(rows: &[Value]) -> &Value {
    rows.iter().rev().find(|r| r["type"] == "summary").unwrap()
}

#[test]
fn text_and_json_bodies_score_as_honk_score_does() {
    let Some(place) = Place::new() else { return };
    let expected = place.score_rows(&place.model("linux"), "target.log");
    let wanted = anomalies(&expected);
    assert!(
        wanted.len() > 20,
        "the Linux log's tail has anomalies: {}",
        wanted.len()
    );
    let server = Server::start(&place.models(), &[]);

    // Text, answered as a JSON array.
    let reply = server.score("linux", "", "text/plain", place.target.as_bytes());
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let rows: Vec<Value> = reply.json().as_array().unwrap().clone();
    assert_eq!(anomalies(&rows), wanted);
    assert_eq!(summary(&rows)["records"], summary(&expected)["records"]);
    assert_eq!(summary(&rows)["incidents"], summary(&expected)["incidents"]);
    assert_eq!(
        rows.iter().filter(|r| r["type"] == "incident").count(),
        expected.iter().filter(|r| r["type"] == "incident").count()
    );

    // A JSON array of objects as Fluent Bit and Vector send them, answered as NDJSON.
    let objects: Vec<Value> = place
        .target
        .lines()
        .map(|l| serde_json::json!({"message": l, "host": "combo", "timestamp": "2026-12-04T00:00:00Z"}))
        .collect();
    let body = serde_json::to_vec(&objects).unwrap();
    let reply = server.call(
        "POST",
        "/v1/models/linux/score",
        &[("Content-Type", "application/json"), ("Accept", "application/x-ndjson")],
        &body,
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/x-ndjson"));
    assert_eq!(anomalies(&ndjson(&reply.body)), wanted);

    // NDJSON in, `log` fields (Fluent Bit's tail input), a named source.
    let body: String = place
        .target
        .lines()
        .map(|l| serde_json::json!({"log": l, "source": "combo"}).to_string() + "\n")
        .collect();
    let reply = server.score("linux", "?output=ndjson", "application/x-ndjson", body.as_bytes());
    assert_eq!(reply.status, 200);
    let rows = ndjson(&reply.body);
    assert_eq!(anomalies(&rows), wanted);
    assert!(rows
        .iter()
        .filter(|r| r["type"] == "anomaly")
        .all(|r| r["source"] == "combo"));

    // Two sources interleaved are scored apart, each with its own lines.
    let mixed: Vec<Value> = place
        .target
        .lines()
        .take(100)
        .enumerate()
        .map(|(i, l)| serde_json::json!({"message": l, "source": if i % 2 == 0 { "even" } else { "odd" }}))
        .collect();
    let reply = server.score("linux", "", "application/json", &serde_json::to_vec(&mixed).unwrap());
    let rows = reply.json();
    let inputs = &summary(rows.as_array().unwrap())["inputs"];
    let names: BTreeSet<&str> = inputs
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["source"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(["even", "odd"]));
    assert!(inputs.as_array().unwrap().iter().all(|i| i["records"] == 50));

    // Anomalies printed for shippers that drop responses (`--print-anomalies`).
    let printing = Server::start(&place.models(), &["--print-anomalies"]);
    let reply = printing.score("linux", "", "text/plain", place.target.as_bytes());
    assert_eq!(reply.status, 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let printed = ndjson(printing.printed.lock().unwrap().as_bytes());
        if anomalies(&printed) == wanted {
            assert!(printed.iter().all(|r| r["type"] != "summary"));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "printed {} anomalies",
            anomalies(&printed).len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        server.printed.lock().unwrap().is_empty(),
        "printed without --print-anomalies"
    );

    // The HTML report of the same request.
    let reply = server.score("linux", "?output=html", "text/plain", place.target.as_bytes());
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("text/html; charset=utf-8"));
    let page = String::from_utf8(reply.body).unwrap();
    assert!(
        page.starts_with("<!DOCTYPE html>") || page.starts_with("<!doctype html>"),
        "{}",
        &page[..100]
    );
    assert!(page.contains("portmap startup succeeded"));

    // The metrics counted the records.
    let metrics = String::from_utf8(server.call("GET", "/metrics", &[], b"").body).unwrap();
    let scored = metric(&metrics, "honk_records_scored_total{model=\"linux\"}");
    assert_eq!(scored, 500.0 * 4.0 + 100.0, "{metrics}");
    let anomalous = metric(&metrics, "honk_anomalies_total{model=\"linux\"}");
    assert!(anomalous >= 4.0 * wanted.len() as f64);
    assert_eq!(metric(&metrics, "honk_model_entries{model=\"linux\"}"), 60.0);
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).map(str::trim))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

#[test]
fn learning_grows_the_model_on_disk_and_in_service() {
    let Some(place) = Place::new() else { return };
    let Some(apache) = loghub("Apache") else { return };
    let server = Server::start(&place.models(), &[]);
    let before = server.score("linux", "?output=ndjson", "text/plain", place.target.as_bytes());
    let anomalies_before = summary(&ndjson(&before.body))["anomalies"].as_u64().unwrap();
    assert!(anomalies_before > 20);
    let listed = server.call("GET", "/v1/models", &[], b"").json();
    assert_eq!(listed["models"][0]["name"], "linux");
    assert_eq!(listed["models"][0]["entries"], 60);

    let reply = server.call(
        "POST",
        "/v1/models/linux/learn?source=tail.log",
        &[("Content-Type", "text/plain")],
        place.target.as_bytes(),
    );
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    let learned = reply.json();
    assert_eq!(learned["type"], "learned");
    assert_eq!(learned["records"], 500);
    assert_eq!(learned["model_sources"], 2);
    let grown = learned["model_unique"].as_u64().unwrap();
    assert!(grown > 60, "{learned}");

    // Served at once: the tail is normal now.
    let after = server.score("linux", "?output=ndjson", "text/plain", place.target.as_bytes());
    assert_eq!(summary(&ndjson(&after.body))["anomalies"], 0);
    // On disk: `honk score` reads the model the server wrote and agrees.
    let rows = place.score_rows(&place.model("linux"), "target.log");
    assert_eq!(summary(&rows)["anomalies"], 0);
    assert_eq!(summary(&rows)["baseline"]["unique"], grown);

    // A new model, from JSON records.
    let records: Vec<&str> = apache.lines().take(1000).collect();
    let reply = server.call(
        "POST",
        "/v1/models/apache%20web/learn",
        &[("Content-Type", "application/json")],
        &serde_json::to_vec(&records).unwrap(),
    );
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    assert!(place.model("apache web").is_file());
    let listed = server.call("GET", "/v1/models", &[], b"").json();
    let names: Vec<&str> = listed["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["apache web", "linux"]);
    assert_eq!(listed["models"][1]["entries"], grown);
    assert_eq!(listed["models"][0]["records"], 1000);
    // Learning into a model that another learn holds the lock of waits its turn (the CLI's lock).
    let lock = honk::write::Lock::acquire(&place.model("linux"), |_, _| {}).unwrap();
    let port = server.port;
    let body = place.base.clone();
    let waiting = std::thread::spawn(move || {
        request(
            port,
            "POST",
            "/v1/models/linux/learn",
            &[("Content-Type", "text/plain")],
            body.as_bytes(),
        )
    });
    std::thread::sleep(Duration::from_millis(500));
    assert!(!waiting.is_finished(), "learn went ahead without the lock");
    drop(lock);
    let reply = waiting.join().unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["model_sources"], 3);
}

#[test]
fn a_learn_that_timed_out_waiting_for_the_lock_is_not_applied() {
    let Some(place) = Place::new() else { return };
    let server = Server::start(&place.models(), &["--timeout", "1s"]);
    let lock = honk::write::Lock::acquire(&place.model("linux"), |_, _| {}).unwrap();
    let reply = server.call(
        "POST",
        "/v1/models/linux/learn",
        &[("Content-Type", "text/plain")],
        place.target.as_bytes(),
    );
    reply.assert_error(503);
    // The server's blocking thread gets the lock once it is free, and must
    // then leave the model alone.
    drop(lock);
    std::thread::sleep(Duration::from_millis(500));
    let relock = honk::write::Lock::acquire(&place.model("linux"), |_, _| {}).unwrap();
    drop(relock);
    let rows = place.score_rows(&place.model("linux"), "target.log");
    assert_eq!(
        summary(&rows)["baseline"]["unique"],
        60,
        "the abandoned learn was applied"
    );
    let listed = server.call("GET", "/v1/models", &[], b"").json();
    assert_eq!(listed["models"][0]["sources"], 1);
}

#[test]
fn concurrent_clients_and_a_model_swapped_on_disk_see_no_failed_request() {
    let Some(place) = Place::new() else { return };
    // The replacement knows the tail: nothing in it is unusual any more.
    place.learn("grown", &["base.log", "target.log"]);
    let grown = std::fs::read(place.model("grown")).unwrap();
    std::fs::remove_file(place.model("grown")).unwrap();
    let server = Server::start(&place.models(), &["--concurrency", "64"]);
    let old_anomalies = summary(&ndjson(
        &server
            .score("linux", "?output=ndjson", "text/plain", place.target.as_bytes())
            .body,
    ))["anomalies"]
        .as_u64()
        .unwrap();
    assert!(old_anomalies > 20);

    let port = server.port;
    let target = Arc::new(place.target.clone());
    let swapped = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..8)
        .map(|client| {
            let (target, swapped, failures, done, stop) = (
                Arc::clone(&target),
                Arc::clone(&swapped),
                Arc::clone(&failures),
                Arc::clone(&done),
                Arc::clone(&stop),
            );
            std::thread::spawn(move || {
                // (anomalies seen, whether the swap was done before the request started)
                let mut seen = Vec::new();
                // Until told to stop, once well past the swap.
                for i in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let after_swap = swapped.load(Ordering::SeqCst);
                    let json = i % 2 == client % 2;
                    let reply = if json {
                        let lines: Vec<&str> = target.lines().collect();
                        request(
                            port,
                            "POST",
                            "/v1/models/linux/score?output=ndjson",
                            &[("Content-Type", "application/json")],
                            &serde_json::to_vec(&lines).unwrap(),
                        )
                    } else {
                        request(
                            port,
                            "POST",
                            "/v1/models/linux/score?output=ndjson",
                            &[("Content-Type", "text/plain")],
                            target.as_bytes(),
                        )
                    };
                    if reply.status != 200 {
                        failures.lock().unwrap().push(format!(
                            "{} {}",
                            reply.status,
                            String::from_utf8_lossy(&reply.body)
                        ));
                        continue;
                    }
                    let rows = ndjson(&reply.body);
                    seen.push((summary(&rows)["anomalies"].as_u64().unwrap(), after_swap));
                    done.fetch_add(1, Ordering::SeqCst);
                }
                seen
            })
        })
        .collect();
    // Mid-load: first a writer that writes in place (the file is half a
    // model for a while), then an atomic rename of the whole new model.
    while done.load(Ordering::SeqCst) < 80 && failures.lock().unwrap().len() < 10 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let old = std::fs::read(place.model("linux")).unwrap();
    std::fs::write(place.model("linux"), &old[..old.len() / 2]).unwrap();
    // Until the server has looked at the bad file (at most 100 ms after the
    // last look, while requests come), and 40 requests more.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !server.log().contains("does not load") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let half_done_at = done.load(Ordering::SeqCst);
    while done.load(Ordering::SeqCst) < half_done_at + 40 && failures.lock().unwrap().len() < 10 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let staged = place.models().join(".grown.tmp");
    std::fs::write(&staged, &grown).unwrap();
    std::fs::rename(&staged, place.model("linux")).unwrap();
    // Requests that start from now on may be checked: the registry looks at
    // the file once the last look is 100 ms old (and loading it takes a few ms).
    std::thread::sleep(Duration::from_millis(500));
    swapped.store(true, Ordering::SeqCst);
    let swapped_at = done.load(Ordering::SeqCst);
    while done.load(Ordering::SeqCst) < swapped_at + 80 && failures.lock().unwrap().len() < 10 {
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::SeqCst);
    let mut results = Vec::new();
    for client in clients {
        results.extend(client.join().unwrap());
    }
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    assert_eq!(results.len(), done.load(Ordering::SeqCst));
    let (after, before): (Vec<_>, Vec<_>) = results.iter().partition(|(_, after_swap)| *after_swap);
    assert!(!after.is_empty(), "the load ended before the swap");
    assert!(
        after.iter().all(|(anomalies, _)| *anomalies == 0),
        "after the swap: {after:?}"
    );
    assert!(before.iter().all(|(a, _)| *a == 0 || *a == old_anomalies), "{before:?}");
    assert!(before.iter().any(|(a, _)| *a == old_anomalies));
    // The half-written file was logged and counted, and did not replace the model.
    let log = server.log();
    assert!(log.contains("does not load"), "{log}");
    let metrics = String::from_utf8(server.call("GET", "/metrics", &[], b"").body).unwrap();
    assert!(metric(&metrics, "honk_model_reload_failures_total{model=\"linux\"}") >= 1.0);
    assert_eq!(metric(&metrics, "honk_model_reloads_total{model=\"linux\"}"), 1.0);
    assert!(metric(&metrics, "honk_model_entries{model=\"linux\"}") > 60.0);
    assert_eq!(metric(&metrics, "honk_requests_in_flight"), 1.0, "this request");
}

#[test]
fn hostile_requests_get_json_errors_and_the_server_stays_up() {
    let Some(place) = Place::new() else { return };
    let server = Server::start(&place.models(), &["--max-body", "64K"]);
    // Too large, said up front, and found while streaming (no length given).
    let big = place.target.repeat(2);
    assert!(big.len() > 64 * 1024);
    server
        .score("linux", "", "text/plain", big.as_bytes())
        .assert_error(413);
    let mut chunked = Vec::new();
    for piece in big.as_bytes().chunks(4000) {
        chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        chunked.extend_from_slice(piece);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let reply = request_raw(
        server.port,
        b"POST /v1/models/linux/score HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
        &chunked,
    );
    reply.assert_error(413);

    // Malformed JSON, records without text, a wrong content type.
    for body in [
        "[\"a\", ",
        "{\"message\": 3}",
        "[{\"msg\": \"x\"}]",
        "\u{0}\u{1}",
        "[\"a\"] trailing",
    ] {
        server
            .score("linux", "", "application/json", body.as_bytes())
            .assert_error(400);
    }
    let deep = "[".repeat(60_000);
    server
        .score("linux", "", "application/json", deep.as_bytes())
        .assert_error(400);
    let deep = format!("{{\"message\": \"x\", \"extra\": {}}}", "[".repeat(60_000));
    server
        .score("linux", "", "application/json", deep.as_bytes())
        .assert_error(400);
    // Too many sources in one request (each holds state while it is scored).
    let many: Vec<Value> = (0..300)
        .map(|i| serde_json::json!({"message": "x", "source": format!("s{i}")}))
        .collect();
    let reply = server.score("linux", "", "application/json", &serde_json::to_vec(&many).unwrap());
    reply.assert_error(400);
    assert!(reply.json()["error"].as_str().unwrap().contains("256 sources"));
    server.score("linux", "", "application/xml", b"<a/>").assert_error(415);
    // Bad query parameters.
    for query in [
        "?threshold=-1",
        "?k=0",
        "?k=many",
        "?before=100000",
        "?output=pdf",
        "?format=word",
        "?nope=1",
    ] {
        server.score("linux", query, "text/plain", b"x\n").assert_error(400);
    }
    // Model names that are no plain file name, or no model.
    for name in [
        "..%2F..%2Fbase",
        "..",
        ".hidden",
        "a%2Fb",
        "a%00b",
        "%2Fetc%2Fpasswd",
        "x%0Ay",
    ] {
        let reply = server.score(name, "", "text/plain", b"x\n");
        assert!(reply.status == 400 || reply.status == 404, "{name}: {reply:?}");
        reply.assert_error(reply.status);
    }
    server.score("nope", "", "text/plain", b"x\n").assert_error(404);
    // A file in the directory that is not a model.
    std::fs::write(place.model("junk"), b"not a model at all").unwrap();
    server.score("junk", "", "text/plain", b"x\n").assert_error(503);
    let listed = server.call("GET", "/v1/models", &[], b"").json();
    let junk = listed["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "junk")
        .unwrap();
    assert!(junk["error"].as_str().is_some(), "{listed}");
    // Unknown routes and methods.
    server.call("GET", "/v2/everything", &[], b"").assert_error(404);
    server.call("GET", "/v1/models/linux/score", &[], b"").assert_error(405);
    server.call("DELETE", "/v1/models", &[], b"").assert_error(405);
    // Binary junk as text is lines like any other.
    let junk: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let reply = server.score("linux", "", "text/plain", &junk);
    assert_eq!(reply.status, 200);
    // Garbage instead of HTTP.
    let reply = request_raw(server.port, b"\x16\x03\x01 hello\r\n\r\n", b"");
    assert_eq!(reply.status, 400);
    // Still up, and still right.
    assert_eq!(server.call("GET", "/healthz", &[], b"").status, 200);
    let reply = server.score("linux", "?output=ndjson", "text/plain", place.target.as_bytes());
    assert_eq!(reply.status, 200);
    assert!(summary(&ndjson(&reply.body))["anomalies"].as_u64().unwrap() > 20);
}

/// Sends `head` then `body` as they are; reads the reply (empty: status 0).
fn request_raw(port: u16, head: &[u8], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    stream.write_all(head).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let body = body.to_vec();
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(&body);
    });
    let reply = read_reply(&mut stream);
    let _ = sender.join();
    reply
}

#[test]
fn tokens_are_checked_on_every_route_but_healthz() {
    let Some(place) = Place::new() else { return };
    std::fs::write(place.path("token"), "s3cr3t-t0ken\n").unwrap();
    let token_file = place.path("token");
    let server = Server::start(&place.models(), &["--token-file", token_file.to_str().unwrap()]);
    for (method, path) in [
        ("GET", "/v1/models"),
        ("GET", "/metrics"),
        ("POST", "/v1/models/linux/score"),
        ("POST", "/v1/models/linux/learn"),
    ] {
        for auth in [
            None,
            Some("Bearer wrong"),
            Some("Bearer s3cr3t-t0ke"),
            Some("Basic s3cr3t-t0ken"),
            Some("s3cr3t-t0ken"),
        ] {
            let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
            let reply = server.call(method, path, &headers, b"x\n");
            reply.assert_error(401);
            assert_eq!(reply.header("www-authenticate"), Some("Bearer realm=\"honk\""));
        }
    }
    assert_eq!(server.call("GET", "/healthz", &[], b"").status, 200);
    let ok = [("Authorization", "Bearer s3cr3t-t0ken"), ("Content-Type", "text/plain")];
    assert_eq!(server.call("GET", "/v1/models", &ok, b"").status, 200);
    assert_eq!(server.call("GET", "/metrics", &ok, b"").status, 200);
    let reply = server.call("POST", "/v1/models/linux/score", &ok, place.target.as_bytes());
    assert_eq!(reply.status, 200);
    // The model was not grown by the refused learns.
    let listed = server.call("GET", "/v1/models", &ok, b"").json();
    assert_eq!(listed["models"][0]["sources"], 1);
    // An empty token file is refused at start.
    std::fs::write(place.path("empty token"), "  \n").unwrap();
    let out = honk()
        .args(["serve", "--listen", "127.0.0.1:0", "--models"])
        .arg(place.models())
        .arg("--token-file")
        .arg(place.path("empty token"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("token"));
}

/// Opens a score request whose body has not all come: headers and `sent` of
/// `length` bytes.
fn open_request(port: u16, length: usize, sent: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST /v1/models/linux/score?output=ndjson HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(sent).unwrap();
    stream
}

#[test]
fn slow_bodies_time_out_and_the_concurrency_limit_turns_requests_away() {
    let Some(place) = Place::new() else { return };
    let server = Server::start(&place.models(), &["--timeout", "2s", "--concurrency", "1"]);
    let body = place.target.as_bytes();
    // A slow client holds the only slot...
    let started = Instant::now();
    let mut slow = open_request(server.port, body.len(), &body[..1000]);
    std::thread::sleep(Duration::from_millis(300));
    // ...so another is turned away at once, told when to come back.
    let reply = server.score("linux", "", "text/plain", body);
    reply.assert_error(503);
    assert_eq!(reply.header("retry-after"), Some("1"));
    // The slow one never finishes its body: 408 after the time limit.
    let reply = read_reply(&mut slow);
    reply.assert_error(408);
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2), "{took:?}");
    // Its slot is free again.
    let mut ok = None;
    for _ in 0..50 {
        let reply = server.score("linux", "", "text/plain", body);
        if reply.status == 200 {
            ok = Some(reply);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(ok.is_some(), "the slot was not freed");
    // Headers that never end (slow loris): the connection is closed at the time limit.
    let started = Instant::now();
    let mut loris = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    loris.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    loris
        .write_all(b"POST /v1/models/linux/score HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut buf = Vec::new();
    let read = loris.read_to_end(&mut buf);
    let took = started.elapsed();
    assert!(read.is_ok(), "{read:?} after {took:?}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(20),
        "{took:?}"
    );
    assert!(
        buf.is_empty() || buf.starts_with(b"HTTP/1.1 408"),
        "{:?}",
        String::from_utf8_lossy(&buf)
    );
    let metrics = String::from_utf8(server.call("GET", "/metrics", &[], b"").body).unwrap();
    assert_eq!(metric(&metrics, "honk_requests_rejected_total{reason=\"busy\"}"), 1.0);
    assert_eq!(
        metric(&metrics, "honk_requests_rejected_total{reason=\"timeout\"}"),
        1.0
    );
}

#[test]
fn scoring_past_the_time_limit_gets_503_and_the_server_goes_on() {
    let Some(place) = Place::new() else { return };
    let server = Server::start(&place.models(), &["--timeout", "1s"]);
    // 300,000 distinct lines: each is a search of the index, seconds of work.
    let mut body = String::new();
    let mut x = 0x2545_f491_u64;
    for i in 0..300_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        body.push_str(&format!(
            "Jul 27 14:41:57 combo kernel: unit{i} w{:x} w{:x}\n",
            x % 100_000,
            x >> 40
        ));
    }
    let started = Instant::now();
    let reply = server.score("linux", "", "text/plain", body.as_bytes());
    let took = started.elapsed();
    reply.assert_error(503);
    assert!(
        reply.json()["error"].as_str().unwrap().contains("took longer"),
        "{:?}",
        reply.json()
    );
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(10),
        "{took:?}"
    );
    // The server is still there, and answers in time what fits in it.
    let reply = server.score("linux", "?output=ndjson", "text/plain", place.target.as_bytes());
    assert_eq!(reply.status, 200);
    assert!(summary(&ndjson(&reply.body))["anomalies"].as_u64().unwrap() > 20);
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let Some(place) = Place::new() else { return };
    let mut server = Server::start(&place.models(), &[]);
    let body = place.target.as_bytes();
    let mut stream = open_request(server.port, body.len(), &body[..body.len() / 2]);
    std::thread::sleep(Duration::from_millis(300));
    let pid = server.child.id() as libc::pid_t;
    // SAFETY: kill(2) on the server this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    std::thread::sleep(Duration::from_millis(300));
    // No new connections are served...
    let refused = TcpStream::connect(("127.0.0.1", server.port)).map(|mut s| {
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut buf = [0u8; 16];
        s.read(&mut buf).unwrap_or(0)
    });
    assert!(!matches!(refused, Ok(n) if n > 0), "served after SIGTERM");
    // ...but the one in flight is, whole.
    stream.write_all(&body[body.len() / 2..]).unwrap();
    let reply = read_reply(&mut stream);
    assert_eq!(reply.status, 200);
    let rows = ndjson(&reply.body);
    assert_eq!(summary(&rows)["records"], 500);
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{}", server.log());
    assert!(server.log().contains("SIGTERM"));
}

/// A JSON value checked against an OpenAPI (JSON Schema) schema: `$ref`,
/// `oneOf`, `type` (one or several), `const`, `required`, `properties`, `items`.
fn check(spec: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let path = reference.strip_prefix("#/").unwrap();
        let target = path.split('/').fold(spec, |v, part| &v[part]);
        assert!(!target.is_null(), "{reference} is not in the spec");
        return check(spec, target, value, at);
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let fits: Vec<_> = options.iter().filter(|o| check(spec, o, value, at).is_ok()).collect();
        return if fits.len() == 1 {
            Ok(())
        } else {
            Err(format!("{at}: {} of oneOf fit {value}", fits.len()))
        };
    }
    if let Some(constant) = schema.get("const") {
        if constant != value {
            return Err(format!("{at}: {value} is not {constant}"));
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() {
        let fits = types.iter().any(|t| match *t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_u64() || value.is_i64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            other => panic!("type {other} in the spec"),
        });
        if !fits {
            return Err(format!("{at}: {value} is not {types:?}"));
        }
    }
    if let Some(object) = value.as_object() {
        for field in schema["required"].as_array().into_iter().flatten() {
            let field = field.as_str().unwrap();
            if !object.contains_key(field) {
                return Err(format!("{at}: no {field:?} in {value}"));
            }
        }
        if let Some(properties) = schema["properties"].as_object() {
            for (name, inner) in object {
                if let Some(property) = properties.get(name) {
                    check(spec, property, inner, &format!("{at}.{name}"))?;
                }
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            check(spec, items, item, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// A request of the OpenAPI test: method, the spec's path, the path asked, headers, body.
type Call<'a> = (&'a str, &'a str, String, Vec<(&'a str, &'a str)>, &'a [u8]);

#[test]
fn the_server_answers_as_its_openapi_description_says() {
    let Some(place) = Place::new() else { return };
    let spec_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(spec_path).unwrap()).unwrap();
    std::fs::write(place.path("token"), "openapi-token").unwrap();
    let token_file = place.path("token");
    let server = Server::start(
        &place.models(),
        &["--token-file", token_file.to_str().unwrap(), "--max-body", "100K"],
    );
    let auth = ("Authorization", "Bearer openapi-token");
    let text = ("Content-Type", "text/plain");
    let json = ("Content-Type", "application/json");
    let big = "x\n".repeat(60_000);
    let records = serde_json::to_string(
        &place
            .target
            .lines()
            .map(|l| serde_json::json!({"message": l}))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    // (method, spec path, request path, headers, body): every operation, its
    // success and its errors.
    let calls: Vec<Call> = vec![
        ("get", "/healthz", "/healthz".into(), vec![], b""),
        ("get", "/metrics", "/metrics".into(), vec![auth], b""),
        ("get", "/metrics", "/metrics".into(), vec![], b""),
        ("get", "/v1/models", "/v1/models".into(), vec![auth], b""),
        (
            "get",
            "/v1/models",
            "/v1/models".into(),
            vec![("Authorization", "Bearer no")],
            b"",
        ),
        (
            "post",
            "/v1/models/{name}/score",
            "/v1/models/linux/score".into(),
            vec![auth, text],
            place.target.as_bytes(),
        ),
        (
            "post",
            "/v1/models/{name}/score",
            "/v1/models/linux/score?before=1&after=1&k=2".into(),
            vec![auth, json],
            records.as_bytes(),
        ),
        (
            "post",
            "/v1/models/{name}/score",
            "/v1/models/linux/score".into(),
            vec![auth, json],
            b"[1,",
        ),
        (
            "post",
            "/v1/models/{name}/score",
            "/v1/models/nope/score".into(),
            vec![auth, text],
            b"x",
        ),
        (
            "post",
            "/v1/models/{name}/score",
            "/v1/models/linux/score".into(),
            vec![auth, text],
            big.as_bytes(),
        ),
        (
            "post",
            "/v1/models/{name}/score",
            "/v1/models/linux/score".into(),
            vec![auth, ("Content-Type", "image/png")],
            b"x",
        ),
        (
            "post",
            "/v1/models/{name}/score",
            "/v1/models/linux/score".into(),
            vec![text],
            b"x",
        ),
        (
            "post",
            "/v1/models/{name}/learn",
            "/v1/models/linux/learn".into(),
            vec![auth, text],
            place.target.as_bytes(),
        ),
        (
            "post",
            "/v1/models/{name}/learn",
            "/v1/models/linux/learn".into(),
            vec![auth, text],
            b"",
        ),
        (
            "post",
            "/v1/models/{name}/learn",
            "/v1/models/linux/learn".into(),
            vec![auth, text],
            big.as_bytes(),
        ),
        (
            "post",
            "/v1/models/{name}/learn",
            "/v1/models/linux/learn".into(),
            vec![auth, ("Content-Type", "image/png")],
            b"x",
        ),
        (
            "post",
            "/v1/models/{name}/learn",
            "/v1/models/linux/learn".into(),
            vec![],
            b"x",
        ),
    ];
    let mut exercised = BTreeSet::new();
    for (method, spec_path, path, headers, body) in &calls {
        let operation = &spec["paths"][*spec_path][*method];
        assert!(operation.is_object(), "{method} {spec_path} is not in the spec");
        let reply = server.call(&method.to_uppercase(), path, headers, body);
        let described = &operation["responses"][reply.status.to_string()];
        assert!(
            described.is_object(),
            "{method} {path}: status {} is not in the spec ({})",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        let content_type = reply
            .header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let content = &described["content"][&content_type];
        assert!(
            content.is_object(),
            "{method} {path}: {content_type} is not in the spec for {}",
            reply.status
        );
        if content_type == "application/json" {
            if let Err(e) = check(&spec, &content["schema"], &reply.json(), "body") {
                panic!("{method} {path} {}: {e}", reply.status);
            }
        }
        exercised.insert((spec_path.to_string(), method.to_string(), reply.status));
    }
    // Every operation of the spec was called, with a success.
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(
                exercised.iter().any(|(p, m, s)| p == path && m == method && *s == 200),
                "{method} {path} was not exercised with a success"
            );
        }
    }
    // Every input format the spec lists is one the server takes.
    let parameters = spec["paths"]["/v1/models/{name}/score"]["post"]["parameters"]
        .as_array()
        .unwrap();
    let format = parameters.iter().find(|p| p["name"] == "format").unwrap();
    let formats = format["schema"]["enum"].as_array().unwrap();
    assert!(formats.len() >= 8);
    for name in formats {
        let path = format!("/v1/models/linux/score?format={}", name.as_str().unwrap());
        let reply = server.call(
            "POST",
            &path,
            &[auth, text],
            b"Jul 27 14:41:57 combo portmap: portmap startup succeeded\n",
        );
        assert_eq!(reply.status, 200, "{path}: {}", String::from_utf8_lossy(&reply.body));
    }
    let reply = server.call("POST", "/v1/models/linux/score?format=klingon", &[auth, text], b"x\n");
    reply.assert_error(400);
    // Every error status the spec lists for scoring that a client can cause here was seen.
    for status in [400, 401, 404, 413, 415] {
        assert!(exercised.contains(&("/v1/models/{name}/score".to_string(), "post".to_string(), status)));
    }
}
