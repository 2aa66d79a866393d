//! NATS JetStream for `honk consume`: a durable pull consumer with explicit
//! acks, shared by every worker that names it, and alerts published to a
//! subject a stream captures, each publish acknowledged by the server.
//!
//! This module talks to the server (async-nats); it scores nothing.

use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, consumer::AckPolicy, consumer::PullConsumer};
use futures_util::StreamExt;

use super::{Broker, Delivery, Error, From, Origin, To};

/// A connection to a JetStream stream's durable consumer (and alert subject).
pub(crate) struct Nats {
    client: async_nats::Client,
    context: jetstream::Context,
    consumer: PullConsumer,
    stream: String,
    alerts: Option<String>,
    /// The messages of the batch last fetched, to acknowledge.
    pending: Vec<jetstream::Message>,
}

impl Nats {
    /// Connects to the server of `from`, and gets (or creates) its durable consumer.
    pub(crate) async fn connect(from: &From, to: &To) -> Result<Nats, Error> {
        let From::Nats {
            server,
            stream,
            durable,
            ack_wait,
            filter,
        } = from;
        if let To::Nats { server: other, .. } = to {
            if other != server {
                return Err(Error::Refused(format!(
                    "alerts go to the server records come from ({server}), not {other}"
                )));
            }
        }
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(Duration::from_secs(5))
            .connect(server.as_str())
            .await
            .map_err(|e| Error::broker(format!("cannot connect to NATS at {server}"), e))?;
        let context = jetstream::new(client.clone());
        let handle = context
            .get_stream(stream)
            .await
            .map_err(|e| Error::broker(format!("cannot open JetStream stream {stream} on {server}"), e))?;
        let config = pull::Config {
            durable_name: Some(durable.clone()),
            ack_policy: AckPolicy::Explicit,
            ack_wait: *ack_wait,
            filter_subject: filter.clone().unwrap_or_default(),
            ..Default::default()
        };
        let consumer = handle
            .get_or_create_consumer(durable, config)
            .await
            .map_err(|e| Error::broker(format!("cannot get or create consumer {durable} of stream {stream}"), e))?;
        let alerts = match to {
            To::Nats { subject, .. } => {
                // Alerts must be kept: some stream has to capture their subject.
                context.stream_by_subject(subject.as_str()).await.map_err(|e| {
                    Error::broker(
                        format!("no JetStream stream on {server} captures the alert subject {subject}; create one"),
                        e,
                    )
                })?;
                Some(subject.clone())
            }
            To::Stdout => None,
        };
        Ok(Nats {
            client,
            context,
            consumer,
            stream: stream.clone(),
            alerts,
            pending: Vec::new(),
        })
    }
}

impl Broker for Nats {
    async fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, Error> {
        let mut messages = self
            .consumer
            .batch()
            .max_messages(max)
            .expires(wait)
            .messages()
            .await
            .map_err(|e| Error::broker(format!("cannot pull messages of stream {}", self.stream), e))?;
        let mut batch = Vec::new();
        self.pending.clear();
        while let Some(message) = messages.next().await {
            let message =
                message.map_err(|e| Error::broker(format!("cannot pull messages of stream {}", self.stream), e))?;
            let sequence = message.info().map(|i| i.stream_sequence).unwrap_or(0);
            let subject = message.subject.to_string();
            batch.push(Delivery {
                source: subject.clone(),
                payload: message.payload.to_vec(),
                origin: Origin {
                    broker: "nats",
                    stream: self.stream.clone(),
                    subject,
                    sequence,
                },
            });
            self.pending.push(message);
        }
        Ok(batch)
    }

    async fn publish(&mut self, alerts: &[Vec<u8>]) -> Result<(), Error> {
        let Some(subject) = &self.alerts else {
            return Ok(());
        };
        // Publish them all, then wait for every acknowledgement.
        let mut acks = Vec::with_capacity(alerts.len());
        for alert in alerts {
            let ack = self
                .context
                .publish(subject.clone(), alert.clone().into())
                .await
                .map_err(|e| Error::broker(format!("cannot publish an alert to {subject}"), e))?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await
                .map_err(|e| Error::broker(format!("the server did not keep an alert published to {subject}"), e))?;
        }
        Ok(())
    }

    async fn lag(&mut self) -> Result<u64, Error> {
        let info = self
            .consumer
            .info()
            .await
            .map_err(|e| Error::broker("cannot ask for the consumer's state", e))?;
        Ok(info.num_pending)
    }

    async fn ack(&mut self) -> Result<(), Error> {
        for message in self.pending.drain(..) {
            message
                .ack()
                .await
                .map_err(|e| Error::broker("cannot acknowledge a message", e))?;
        }
        self.client
            .flush()
            .await
            .map_err(|e| Error::broker("cannot send acknowledgements", e))
    }
}
