//! `honk consume` against a real NATS server with JetStream, started here on
//! a loopback port with its store in a scratch directory: records of the
//! BGL log (`../shared/data/loghub-2k`, labelled) published by subject as a
//! shipper would, scored by two workers sharing one durable consumer, one of
//! them frozen while it holds messages it has not acknowledged and then
//! killed with SIGKILL. Every record `honk score` finds anomalous in the same
//! lines must be alerted at least once, and every message acknowledged.
//!
//! Nothing here asserts a duration: every wait polls for what must come,
//! with a generous limit only a hang reaches.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer::pull, stream};
use futures_util::StreamExt;
use serde_json::Value;

use common::bgl::Bgl;

const PATIENCE: Duration = Duration::from_secs(90);

/// A NATS server with JetStream on a free loopback port, stopped on drop.
struct Server {
    child: Child,
    url: String,
    _store: tempfile::TempDir,
}

impl Server {
    fn start() -> Option<Server> {
        // Debian puts it in /usr/sbin, which not every PATH has.
        let program = ["nats-server", "/usr/sbin/nats-server"]
            .into_iter()
            .find(|p| common::works(p, &["--version"]));
        let Some(program) = program else {
            common::skip("nats-server is not installed (apt-get install nats-server)");
            return None;
        };
        let store = tempfile::Builder::new().prefix("honk nats ✓ ").tempdir().unwrap();
        let mut child = Command::new(program)
            .args(["-js", "-a", "127.0.0.1", "-p", "-1", "-sd"])
            .arg(store.path())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        // Its log goes on being read (a closed pipe would kill it); the
        // address comes first, then "Server is ready".
        let err = BufReader::new(child.stderr.take().unwrap());
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut url = None;
            for line in err.lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("Listening for client connections on ") {
                    url = Some(
                        line[at + "Listening for client connections on ".len()..]
                            .trim()
                            .to_owned(),
                    );
                }
                if line.contains("Server is ready") {
                    let _ = send.send(url.take());
                }
            }
        });
        let url = receive
            .recv_timeout(PATIENCE)
            .ok()
            .flatten()
            .expect("nats-server says where it listens, then that it is ready");
        Some(Server {
            child,
            url,
            _store: store,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Creates the LOGS stream (subjects `logs.>`) and the ALERTS stream (`honk.alerts`).
async fn streams(js: &jetstream::Context) {
    for (name, subject) in [("LOGS", "logs.>"), ("ALERTS", "honk.alerts")] {
        js.create_stream(stream::Config {
            name: name.into(),
            subjects: vec![subject.into()],
            ..Default::default()
        })
        .await
        .unwrap();
    }
}

/// Every alert in the ALERTS stream.
async fn alerts(js: &jetstream::Context) -> Vec<Value> {
    let stream = js.get_stream("ALERTS").await.unwrap();
    let consumer = stream
        .create_consumer(pull::Config {
            ack_policy: jetstream::consumer::AckPolicy::None,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut all = Vec::new();
    loop {
        let mut batch = consumer.fetch().max_messages(1000).messages().await.unwrap();
        let mut got = 0;
        while let Some(message) = batch.next().await {
            all.push(serde_json::from_slice(&message.unwrap().payload).unwrap());
            got += 1;
        }
        if got == 0 {
            return all;
        }
    }
}

/// The consumer's state: (pending, waiting for an ack, deliveries beyond
/// the first of a message: the consumer's delivery count less the last
/// stream sequence it delivered).
async fn consumer_state(js: &jetstream::Context, durable: &str) -> (u64, usize, u64) {
    let mut consumer: jetstream::consumer::PullConsumer = js
        .get_stream("LOGS")
        .await
        .unwrap()
        .get_consumer(durable)
        .await
        .unwrap();
    let info = consumer.info().await.unwrap();
    let again = info.delivered.consumer_sequence - info.delivered.stream_sequence;
    (info.num_pending, info.num_ack_pending, again)
}

/// A NATS server with the LOGS and ALERTS streams, and a client of it.
struct Nats {
    server: Server,
    rt: tokio::runtime::Runtime,
    js: jetstream::Context,
}

impl Nats {
    fn start() -> Option<Nats> {
        let server = Server::start()?;
        let rt = runtime();
        let js = rt.block_on(async {
            let client = async_nats::connect(server.url.as_str()).await.unwrap();
            let js = jetstream::new(client);
            streams(&js).await;
            js
        });
        Some(Nats { server, rt, js })
    }

    /// Waits until the `honk` consumer has nothing left to deliver or to be
    /// acknowledged; returns its deliveries beyond the first of a message.
    fn drained(&self) -> u64 {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (pending, waiting, again) = self.rt.block_on(consumer_state(&self.js, "honk"));
            if pending == 0 && waiting == 0 {
                return again;
            }
            assert!(
                Instant::now() < deadline,
                "never all acknowledged: {pending} pending, {waiting} unacked"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn alerts(&self) -> Vec<Value> {
        self.rt.block_on(alerts(&self.js))
    }
}

fn worker(dir: &Path, model: &Path, url: &str, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_honk"))
        .current_dir(dir)
        .arg("consume")
        .arg("-m")
        .arg(model)
        .arg("--from")
        .arg(format!("nats://{url}/LOGS?durable=honk&ack_wait=2s"))
        .arg("--alerts")
        .arg(format!("nats://{url}/honk.alerts"))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
}

#[test]
fn two_workers_one_killed_holding_messages_lose_nothing() {
    let Some(bgl) = Bgl::new("honk consume é ") else {
        return;
    };
    let Some(nats) = Nats::start() else { return };
    let (dir, model, records) = (&bgl.dir, &bgl.model, &bgl.records);
    let (rt, js, server) = (&nats.rt, &nats.js, &nats.server);
    let wanted = bgl.anomalies();
    assert!(wanted.len() >= 20, "BGL's second half has anomalies: {}", wanted.len());

    let mut a = worker(dir.path(), model, &server.url, &["--batch", "20"]);
    let b = worker(dir.path(), model, &server.url, &["--batch", "20"]);
    // Four sources, as a shipper sends them: a message per record, round robin.
    let (first, rest) = records.split_at(records.len() / 4);
    let publish = |part: &[String], offset: usize| {
        rt.block_on(async {
            let mut acks = Vec::new();
            for (i, record) in part.iter().enumerate() {
                let subject = format!("logs.node{}", (offset + i) % 4);
                acks.push(js.publish(subject, record.clone().into()).await.unwrap());
            }
            for ack in acks {
                ack.await.unwrap();
            }
        })
    };
    publish(first, 0);

    // Freeze worker A at a moment it holds messages it has not acknowledged:
    // stopped, it cannot ack, so what stays unacknowledged past B's quick
    // acks is A's. Then kill it.
    let deadline = Instant::now() + PATIENCE;
    let mut held = false;
    while !held {
        assert!(Instant::now() < deadline, "worker A never held a message");
        signal(&a, libc::SIGSTOP);
        // More records: some go to a request for messages A made before it
        // was stopped, if one is still open.
        publish(&first[..first.len().min(50)], 1);
        // B drains what is left and acks it once its request for messages
        // ends (at most 0.5 s): what still waits for an ack after that,
        // with nothing left to deliver, is A's.
        std::thread::sleep(Duration::from_millis(800));
        let (pending, waiting, _) = rt.block_on(consumer_state(js, "honk"));
        if pending == 0 && waiting > 0 {
            held = true;
        } else {
            signal(&a, libc::SIGCONT);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    signal(&a, libc::SIGKILL);
    a.wait().unwrap();
    publish(rest, first.len());

    // B takes over A's share once the ack wait has passed, and the rest.
    let redelivered = nats.drained();
    assert!(redelivered > 0, "A's unacknowledged messages were delivered again");
    signal(&b, libc::SIGTERM);
    let out = b.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("stopped by SIGTERM"), "{stderr}");

    let alerts = nats.alerts();
    let mut alerted: BTreeMap<String, usize> = BTreeMap::new();
    for alert in &alerts {
        assert_eq!(alert["type"], "anomaly", "{alert}");
        let origin = &alert["origin"];
        assert_eq!(origin["broker"], "nats");
        assert_eq!(origin["stream"], "LOGS");
        assert!(origin["subject"].as_str().unwrap().starts_with("logs.node"), "{alert}");
        assert!(origin["sequence"].as_u64().unwrap() > 0, "{alert}");
        assert_eq!(alert["source"], origin["subject"], "{alert}");
        *alerted.entry(alert["text"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    let missed: Vec<&String> = wanted.iter().filter(|t| !alerted.contains_key(*t)).collect();
    assert!(
        missed.is_empty(),
        "{} anomalies never alerted, e.g. {:?}",
        missed.len(),
        missed.first()
    );
    let unexpected: Vec<&String> = alerted.keys().filter(|t| !wanted.contains(*t)).collect();
    assert!(unexpected.is_empty(), "alerts honk score does not give: {unexpected:?}");
}

#[test]
fn a_model_replaced_on_disk_is_used_from_the_next_batch() {
    let Some(bgl) = Bgl::new("honk consume é ") else {
        return;
    };
    let Some(nats) = Nats::start() else { return };
    let (dir, model, records) = (&bgl.dir, &bgl.model, &bgl.records);
    let (rt, js) = (&nats.rt, &nats.js);
    let w = worker(dir.path(), model, &nats.server.url, &[]);
    let odd = "RAS KERNEL FATAL something never seen before in this log";
    let send = |text: &str| {
        rt.block_on(async {
            js.publish("logs.x", text.to_owned().into())
                .await
                .unwrap()
                .await
                .unwrap()
        });
    };
    let alerts_now = || nats.alerts().len();
    send(odd);
    let deadline = Instant::now() + PATIENCE;
    while alerts_now() < 1 {
        assert!(Instant::now() < deadline, "no alert for a record never seen");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Learn it, replacing the model file atomically as honk learn does.
    let extra = dir.path().join("more.log");
    std::fs::write(&extra, format!("{odd}\n")).unwrap();
    common::learn(model, &extra);
    // The next batch is scored with it: the same record no longer alerts,
    // and a record still unusual does.
    send(odd);
    send(&records[0].replace("INFO", "WEIRDLY"));
    nats.drained();
    signal(&w, libc::SIGTERM);
    let out = w.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("changed; scoring with it"), "{stderr}");
    assert!(stderr.contains("1 reload"), "{stderr}");
    let texts: Vec<String> = nats
        .alerts()
        .iter()
        .map(|a| a["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts.iter().filter(|t| *t == odd).count(), 1, "{texts:?}");
}

#[test]
fn mistakes_get_a_one_line_reason_and_status_2() {
    let Some(server) = Server::start() else { return };
    let dir = tempfile::Builder::new().prefix("honk consume bad ").tempdir().unwrap();
    let log = dir.path().join("a.log");
    std::fs::write(&log, "one line\n").unwrap();
    let model = dir.path().join("m.honk");
    common::learn(&model, &log);
    let url = &server.url;
    let model = model.to_str().unwrap();
    for (args, says) in [
        // Kafka is in every build: with no broker there, honk says so.
        (
            vec!["-m", model, "--from", "kafka://127.0.0.1:1/logs"],
            "cannot reach Kafka at 127.0.0.1:1",
        ),
        (vec!["-m", model, "--from", "nats://127.0.0.1/a/b"], "stream name"),
        (
            vec!["-m", "no model.honk", "--from", &format!("nats://{url}/LOGS")],
            "no model.honk",
        ),
        (
            vec!["-m", model, "--from", &format!("nats://{url}/NOSTREAM")],
            "NOSTREAM",
        ),
        (vec!["-m", model, "--from", "nats://127.0.0.1:1/LOGS"], "cannot connect"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_honk"))
            .arg("consume")
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        // The reason, in the first line.
        let first = stderr.lines().next().unwrap_or_default();
        assert!(first.contains(says), "{args:?}: {stderr}");
    }
}

#[test]
fn metrics_count_messages_alerts_and_lag() {
    let Some(bgl) = Bgl::new("honk consume é ") else {
        return;
    };
    let Some(nats) = Nats::start() else { return };
    let (dir, model, records) = (&bgl.dir, &bgl.model, &bgl.records);
    let (rt, js) = (&nats.rt, &nats.js);
    let mut w = worker(dir.path(), model, &nats.server.url, &["--metrics", "127.0.0.1:0"]);
    let mut err = BufReader::new(w.stderr.take().unwrap()).lines();
    let address = loop {
        let line = err.next().expect("honk says where its metrics are").unwrap();
        if let Some(rest) = line.strip_prefix("honk: metrics on http://") {
            break rest.trim_end_matches("/metrics").to_owned();
        }
    };
    rt.block_on(async {
        for record in &records[..30] {
            js.publish("logs.m", record.clone().into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
    });
    let deadline = Instant::now() + PATIENCE;
    let text = loop {
        let (status, body) = common::http_get(&address, "/metrics");
        assert_eq!(status, "HTTP/1.1 200 OK");
        if body.contains("honk_consume_messages_total{consumer=\"honk\"} 30") {
            break body;
        }
        assert!(Instant::now() < deadline, "never counted 30 messages: {body}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let alerted = nats.alerts().len();
    assert!(
        text.contains(&format!("honk_consume_alerts_total{{consumer=\"honk\"}} {alerted}")),
        "{alerted} alerts kept: {text}"
    );
    assert!(
        text.contains("honk_consume_records_total{consumer=\"honk\"} 30"),
        "{text}"
    );
    assert!(text.contains("# TYPE honk_consume_batch_seconds histogram"), "{text}");
    assert!(text.contains("honk_consume_lag_messages{consumer=\"honk\"} "), "{text}");
    assert_eq!(
        common::http_get(&address, "/healthz"),
        ("HTTP/1.1 200 OK".to_owned(), "ok\n".to_owned())
    );
    assert!(common::http_get(&address, "/other").0.contains("404"));
    signal(&w, libc::SIGTERM);
    assert_eq!(w.wait().unwrap().code(), Some(0));
}
