//! Kafka for `honk consume` (librdkafka through the rdkafka crate, behind
//! the `kafka` feature): a consumer group whose members share a topic's
//! partitions, offsets committed by hand only once a batch's alerts are
//! delivered, and alerts produced to a topic with `acks=all`.
//!
//! A record's source is its key (records of one source should be produced
//! with the same key, so that they land in one partition, in order, on one
//! worker), or `TOPIC:PARTITION` when it has none. This module talks to the
//! brokers; it scores nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::FutureExt;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use super::{Broker, Delivery, Error, From, Origin, To};

/// How long a call to the brokers may take before honk gives up on it.
const PATIENCE: Duration = Duration::from_secs(10);

/// A member of a consumer group on a topic (and a producer of alerts).
pub(crate) struct Kafka {
    consumer: StreamConsumer,
    producer: Option<(FutureProducer, String)>,
    topic: String,
    /// Per partition, the highest offset of the batch last fetched.
    fetched: BTreeMap<i32, i64>,
}

impl Kafka {
    /// Joins the group of `from` (the partitions come with the first fetch).
    pub(crate) fn connect(from: &From, to: &To) -> Result<Kafka, Error> {
        let From::Kafka { server, topic, group } = from else {
            return Err(Error::Refused("not a Kafka source".into()));
        };
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", server)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false")
            .set("session.timeout.ms", "10000")
            .create()
            .map_err(|e| Error::broker(format!("cannot make a Kafka consumer for {server}"), e))?;
        consumer
            .subscribe(&[topic.as_str()])
            .map_err(|e| Error::broker(format!("cannot subscribe to topic {topic} on {server}"), e))?;
        // Fail now on a broker that is not there or a topic that does not exist.
        let metadata = consumer
            .fetch_metadata(Some(topic), PATIENCE)
            .map_err(|e| Error::broker(format!("cannot reach Kafka at {server}"), e))?;
        let known = metadata
            .topics()
            .iter()
            .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty());
        if !known {
            return Err(Error::Refused(format!(
                "topic {topic} does not exist on {server}; create it"
            )));
        }
        let producer = match to {
            To::Kafka { server: other, topic } => {
                let producer: FutureProducer = ClientConfig::new()
                    .set("bootstrap.servers", other)
                    .set("acks", "all")
                    .set("message.timeout.ms", "10000")
                    .create()
                    .map_err(|e| Error::broker(format!("cannot make a Kafka producer for {other}"), e))?;
                Some((producer, topic.clone()))
            }
            To::Stdout => None,
            To::Nats { .. } => {
                return Err(Error::Refused(
                    "records from Kafka send their alerts to Kafka (or -), not NATS".into(),
                ))
            }
        };
        Ok(Kafka {
            consumer,
            producer,
            topic: topic.clone(),
            fetched: BTreeMap::new(),
        })
    }

    /// Leaves the group, so that its partitions go to the other members at once.
    pub(crate) fn leave(&self) {
        self.consumer.unsubscribe();
    }
}

fn delivery(message: &rdkafka::message::BorrowedMessage<'_>) -> Delivery {
    let topic = message.topic().to_owned();
    let partition = message.partition();
    let source = message
        .key()
        .and_then(|k| std::str::from_utf8(k).ok())
        .filter(|k| !k.is_empty())
        .map_or_else(|| format!("{topic}:{partition}"), str::to_owned);
    Delivery {
        source,
        payload: message.payload().unwrap_or_default().to_vec(),
        origin: Origin::Kafka {
            topic,
            partition,
            offset: message.offset(),
        },
    }
}

impl Broker for Kafka {
    async fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, Error> {
        self.fetched.clear();
        let mut batch = Vec::new();
        let first = match tokio::time::timeout(wait, self.consumer.recv()).await {
            Err(_) => return Ok(batch),
            Ok(received) => received.map_err(|e| Error::broker(format!("cannot read topic {}", self.topic), e))?,
        };
        let mut note = |message: &rdkafka::message::BorrowedMessage<'_>, batch: &mut Vec<Delivery>| {
            let offset = self.fetched.entry(message.partition()).or_insert(message.offset());
            *offset = (*offset).max(message.offset());
            batch.push(delivery(message));
        };
        note(&first, &mut batch);
        drop(first);
        // What else has come already, without waiting.
        while batch.len() < max {
            match self.consumer.recv().now_or_never() {
                Some(Ok(message)) => note(&message, &mut batch),
                Some(Err(e)) => return Err(Error::broker(format!("cannot read topic {}", self.topic), e)),
                None => break,
            }
        }
        Ok(batch)
    }

    async fn publish(&mut self, alerts: &[Vec<u8>]) -> Result<(), Error> {
        let Some((producer, topic)) = &self.producer else {
            return Ok(());
        };
        let sends = alerts
            .iter()
            .map(|alert| producer.send(FutureRecord::<(), Vec<u8>>::to(topic).payload(alert), PATIENCE));
        for sent in futures_util::future::join_all(sends).await {
            sent.map_err(|(e, _)| Error::broker(format!("the brokers did not take an alert for topic {topic}"), e))?;
        }
        Ok(())
    }

    async fn ack(&mut self) -> Result<(), Error> {
        if self.fetched.is_empty() {
            return Ok(());
        }
        let mut offsets = TopicPartitionList::new();
        for (&partition, &offset) in &self.fetched {
            offsets
                .add_partition_offset(&self.topic, partition, Offset::Offset(offset + 1))
                .map_err(|e| Error::broker("cannot list offsets to commit", e))?;
        }
        self.consumer
            .commit(&offsets, CommitMode::Sync)
            .map_err(|e| Error::broker(format!("cannot commit offsets of topic {}", self.topic), e))?;
        self.fetched.clear();
        Ok(())
    }

    async fn lag(&mut self) -> Result<u64, Error> {
        // Asking the brokers for each partition's end is a blocking round
        // trip per partition, which held the worker up by seconds; and tansu
        // answers it wrongly. The lag is not exported for Kafka.
        Err(Error::Refused("the lag of a Kafka consumer is not tracked".into()))
    }
}
