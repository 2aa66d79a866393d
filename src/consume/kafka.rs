//! Kafka for `honk consume`: a consumer group whose members share a topic's
//! partitions, offsets committed by hand only once a batch's alerts are
//! delivered, and alerts produced to a topic with `acks=all`.
//!
//! The client is krafka, pure Rust (no librdkafka, so no C build and no
//! `make`): it does the group protocol itself (JoinGroup, SyncGroup,
//! Heartbeat on a background task, LeaveGroup on close, partition
//! assignment) and OffsetFetch/OffsetCommit, and produces with `acks=all`.
//! Why it: it is async on tokio, as the worker is; it is released often
//! (0.28); its dependencies are pure Rust but for ring, which async-nats
//! brings already; and it passes tests/kafka.rs against tansu 0.6 with a
//! graceful hand-over. It needs Rust 1.95. Of the others, rustfs-kafka's API
//! is blocking (threads beside the async worker), crabka-client-consumer
//! says it was renamed, and rskafka has no consumer groups; kafrust was not
//! tried.
//!
//! One thing krafka does that tansu does not take: with a bound on the
//! records a poll hands out, it decodes part of a fetch, and on tansu 0.6
//! the partitions left out were not read again (half a topic stuck at the
//! bound). So a poll hands out all it holds (bounded by the fetch sizes),
//! and `fetch` cuts batches from what it holds. Held records of a
//! partition this member no longer has are dropped (uncommitted, so its new
//! owner reads them); until the poll that applies a rebalance, they may
//! still be scored here too: an alert may come twice, never not at all.
//!
//! A record's source is its key (records of one source should be produced
//! with the same key, so that they land in one partition, in order, on one
//! worker), or `TOPIC:PARTITION` when it has none. This module talks to the
//! brokers; it scores nothing. Its lag comes from the ends of partitions
//! the fetch responses carry.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use krafka::consumer::{AutoOffsetReset, Consumer, ConsumerRecord, OffsetAndMetadata, TopicPartition};
use krafka::producer::{Acks, Producer};
use krafka::Record;

use super::{Broker, Delivery, Error, From, Origin, To};

/// How long a call to the brokers may take before honk gives up on it.
const PATIENCE: Duration = Duration::from_secs(10);

/// The most a fetch brings back, in bytes (a quarter of it per partition).
const FETCH_MAX_BYTES: i32 = 8 << 20;

/// A member of a consumer group on a topic (and a producer of alerts).
pub(crate) struct Kafka {
    consumer: Consumer,
    producer: Option<(Producer, String)>,
    topic: String,
    /// Per partition, the highest offset of the batch last fetched.
    fetched: BTreeMap<i32, i64>,
    /// Records polled but not yet handed out (a poll returns all the
    /// client holds; see `connect`).
    pending: VecDeque<ConsumerRecord>,
}

/// `what` within [`PATIENCE`], its error (or the time running out) told as
/// `doing`.
async fn patiently<T>(
    doing: impl FnOnce() -> String,
    what: impl std::future::Future<Output = krafka::Result<T>>,
) -> Result<T, Error> {
    match tokio::time::timeout(PATIENCE, what).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(e)) => Err(error(doing(), e)),
        Err(_) => Err(Error::Refused(format!(
            "{}: no answer in {} s",
            doing(),
            PATIENCE.as_secs()
        ))),
    }
}

/// krafka's error, told once: its message already says what its sources
/// say, which the binary would print again.
fn error(what: String, e: krafka::KrafkaError) -> Error {
    Error::broker(what, e.to_string())
}

/// A client of the brokers at `server`.
async fn client(server: &str) -> Result<krafka::Kafka, Error> {
    let connect = krafka::Kafka::builder(server)
        .client_id("honk")
        .connect_timeout(PATIENCE)
        .request_timeout(PATIENCE)
        .connect();
    patiently(|| format!("cannot reach Kafka at {server}"), connect).await
}

impl Kafka {
    /// Joins the group of `from` (the partitions come with the first fetch).
    pub(crate) async fn connect(from: &From, to: &To) -> Result<Kafka, Error> {
        let From::Kafka { server, topic, group } = from else {
            return Err(Error::Refused("not a Kafka source".into()));
        };
        let producer_to = match to {
            To::Kafka { server, topic } => Some((server, topic)),
            To::Stdout => None,
            To::Nats { .. } => {
                return Err(Error::Refused(
                    "records from Kafka send their alerts to Kafka (or -), not NATS".into(),
                ))
            }
        };
        let kafka = client(server).await?;
        let consumer = kafka
            .consumer(group.as_str())
            .auto_offset_reset(AutoOffsetReset::Earliest)
            .enable_auto_commit(false)
            .session_timeout(Duration::from_secs(10))
            .heartbeat_interval(Duration::from_secs(1))
            // A poll hands out all it has fetched, and `fetch` cuts batches
            // itself (see the module's doc): the memory is bounded by the
            // fetch sizes.
            .max_poll_records(-1)
            .max_buffered_records(0)
            .fetch_max_bytes(FETCH_MAX_BYTES)
            .max_partition_fetch_bytes(FETCH_MAX_BYTES / 4)
            .build();
        let consumer = patiently(|| format!("cannot make a Kafka consumer for {server}"), consumer).await?;
        // Fail now on a topic that does not exist.
        let metadata = patiently(
            || format!("cannot read the metadata of topic {topic} on {server}"),
            consumer.fetch_metadata(Some(topic)),
        )
        .await;
        let known = matches!(&metadata, Ok(m) if m.topics.iter().any(|t| t.name == *topic && !t.partitions.is_empty()));
        if !known {
            return Err(Error::Refused(format!(
                "topic {topic} does not exist on {server}; create it"
            )));
        }
        patiently(
            || format!("cannot subscribe to topic {topic} on {server}"),
            consumer.subscribe([topic.as_str()]),
        )
        .await?;
        let producer = match producer_to {
            Some((other, alerts)) => {
                let kafka = if other == server { kafka } else { client(other).await? };
                let producer = kafka
                    .producer()
                    .acks(Acks::All)
                    .linger(Duration::from_millis(1))
                    .delivery_timeout(PATIENCE * 2)
                    .build();
                let producer = patiently(|| format!("cannot make a Kafka producer for {other}"), producer).await?;
                Some((producer, alerts.clone()))
            }
            None => None,
        };
        Ok(Kafka {
            consumer,
            producer,
            topic: topic.clone(),
            fetched: BTreeMap::new(),
            pending: VecDeque::new(),
        })
    }

    /// Leaves the group, so that its partitions go to the other members at
    /// once (offsets are not committed here: `ack` did).
    pub(crate) async fn leave(&self) -> Result<(), Error> {
        patiently(
            || format!("cannot leave the group of topic {}", self.topic),
            self.consumer.close(),
        )
        .await?;
        if let Some((producer, topic)) = &self.producer {
            patiently(
                || format!("cannot close the producer of topic {topic}"),
                producer.close(),
            )
            .await?;
        }
        Ok(())
    }
}

fn delivery(record: ConsumerRecord) -> Delivery {
    let topic = record.topic.to_string();
    let partition = record.partition;
    let source = record
        .key
        .as_deref()
        .and_then(|k| std::str::from_utf8(k).ok())
        .filter(|k| !k.is_empty())
        .map_or_else(|| format!("{topic}:{partition}"), str::to_owned);
    Delivery {
        source,
        payload: record.value.map(|v| v.to_vec()).unwrap_or_default(),
        origin: Origin::Kafka {
            topic,
            partition,
            offset: record.offset,
        },
    }
}

impl Broker for Kafka {
    async fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, Error> {
        self.fetched.clear();
        if self.pending.is_empty() {
            let records = self
                .consumer
                .poll(wait)
                .await
                .map_err(|e| error(format!("cannot read topic {}", self.topic), e))?;
            self.pending.extend(records);
        } else {
            // Records held over from a poll before a rebalance may belong to
            // partitions that another member reads now: they are its to score.
            let assigned = self.consumer.assignment().await;
            let mine = assigned.get(&self.topic).map(Vec::as_slice).unwrap_or_default();
            self.pending.retain(|r| mine.contains(&r.partition));
        }
        let take = self.pending.len().min(max.max(1));
        let mut batch = Vec::with_capacity(take);
        for record in self.pending.drain(..take) {
            let offset = self.fetched.entry(record.partition).or_insert(record.offset);
            *offset = (*offset).max(record.offset);
            batch.push(delivery(record));
        }
        Ok(batch)
    }

    async fn publish(&mut self, alerts: &[Vec<u8>]) -> Result<(), Error> {
        let Some((producer, topic)) = &self.producer else {
            return Ok(());
        };
        let refused = |e| error(format!("the brokers did not take an alert for topic {topic}"), e);
        // Queue them all (one produce request carries many), then wait for
        // each to be acknowledged by all in-sync replicas.
        let mut handles = Vec::with_capacity(alerts.len());
        for alert in alerts {
            let queued = patiently(
                || format!("cannot queue an alert for topic {topic}"),
                producer.enqueue(Record::new(topic.as_str(), alert.clone())),
            )
            .await?;
            handles.push(queued);
        }
        for handle in handles {
            match tokio::time::timeout(PATIENCE * 3, handle).await {
                Ok(sent) => drop(sent.map_err(refused)?),
                Err(_) => {
                    return Err(Error::Refused(format!(
                        "the brokers did not acknowledge an alert for topic {topic} in {} s",
                        (PATIENCE * 3).as_secs()
                    )))
                }
            }
        }
        Ok(())
    }

    async fn ack(&mut self) -> Result<(), Error> {
        if self.fetched.is_empty() {
            return Ok(());
        }
        let offsets: Vec<(TopicPartition, OffsetAndMetadata)> = self
            .fetched
            .iter()
            .map(|(&partition, &offset)| {
                (
                    TopicPartition::new(self.topic.as_str(), partition),
                    OffsetAndMetadata::new(offset + 1),
                )
            })
            .collect();
        patiently(
            || format!("cannot commit offsets of topic {}", self.topic),
            self.consumer.commit_offsets(offsets),
        )
        .await?;
        self.fetched.clear();
        Ok(())
    }

    async fn lag(&mut self) -> Result<u64, Error> {
        // The ends of the partitions this member has, as the last fetch
        // responses said (krafka asks the brokers nothing for it), less where
        // it has read to, plus what it read and holds but has not scored.
        let mut lag = self.pending.len() as u64;
        let mut known = false;
        for (partition, report) in self.consumer.lag().await {
            if partition.topic != self.topic {
                continue;
            }
            if let Some(behind) = report.lag {
                lag += behind;
                known = true;
            }
        }
        if known {
            Ok(lag)
        } else {
            Err(Error::Refused(
                "the brokers have not yet said where the partitions end".into(),
            ))
        }
    }
}
