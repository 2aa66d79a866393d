//! Where `honk consume` reads from and writes alerts to, given as URLs:
//! `nats://HOST:PORT/STREAM?durable=NAME&ack_wait=2s&filter=SUBJECT` for a
//! JetStream stream and its durable pull consumer, and
//! `nats://HOST:PORT/SUBJECT` (or `-` for standard output) for alerts;
//! `kafka://HOST:PORT/TOPIC?group=NAME` for a Kafka topic read by a consumer
//! group, and `kafka://HOST:PORT/TOPIC` for alerts.
//!
//! This module only parses and checks; it connects to nothing.

use std::time::Duration;

use url::Url;

/// The stream records come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum From {
    /// A NATS JetStream stream, read through a durable pull consumer that
    /// workers sharing its name share.
    Nats {
        /// `HOST:PORT` of a NATS server.
        server: String,
        /// The stream's name.
        stream: String,
        /// The durable consumer's name (created if missing): workers with the
        /// same name share the stream's messages.
        durable: String,
        /// How long the server waits for a message's ack before it gives the
        /// message to another worker (when the consumer is created).
        ack_wait: Duration,
        /// Only the stream's subjects matching this (when the consumer is created).
        filter: Option<String>,
    },
    /// A Kafka topic, read by a consumer group that workers with the same
    /// group name share, partition by partition.
    Kafka {
        /// `HOST:PORT` of a bootstrap broker.
        server: String,
        /// The topic.
        topic: String,
        /// The consumer group.
        group: String,
    },
}

/// Where alerts go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum To {
    /// Standard output, as JSON Lines.
    Stdout,
    /// A subject that a JetStream stream captures: each alert is published
    /// and its acknowledgement awaited before the records it came from are
    /// acknowledged.
    Nats {
        /// `HOST:PORT` of a NATS server.
        server: String,
        /// The subject alerts are published to.
        subject: String,
    },
    /// A Kafka topic: each alert is produced and its delivery awaited
    /// before the offsets of the records it came from are committed.
    Kafka {
        /// `HOST:PORT` of a bootstrap broker.
        server: String,
        /// The topic.
        topic: String,
    },
}

/// The default durable consumer name.
pub const DEFAULT_DURABLE: &str = "honk";

/// The default ack wait of a consumer `honk consume` creates.
pub const DEFAULT_ACK_WAIT: Duration = Duration::from_secs(30);

/// Parses the `--from` URL.
pub fn parse_from(text: &str) -> Result<From, String> {
    let url = parse_url(text)?;
    let server = server_of(&url, text)?;
    if url.scheme() == "kafka" {
        let topic = single_path_part(&url, text, "a topic")?;
        if !is_topic(&topic) {
            return Err(format!(
                "`{topic}` is no Kafka topic name (letters, digits, ., - and _), in `{text}`"
            ));
        }
        let mut group = DEFAULT_DURABLE.to_owned();
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "group" if is_topic(&value) => group = value.into_owned(),
                "group" => return Err(format!("`{value}` is no consumer group name")),
                other => {
                    return Err(format!(
                        "`{other}` is no setting of a Kafka source (group), in `{text}`"
                    ))
                }
            }
        }
        return Ok(From::Kafka { server, topic, group });
    }
    let stream = single_path_part(&url, text, "a stream name")?;
    if !is_name(&stream) {
        return Err(format!(
            "`{stream}` is no JetStream stream name (letters, digits, - and _ only), in `{text}`"
        ));
    }
    let mut durable = DEFAULT_DURABLE.to_owned();
    let mut ack_wait = DEFAULT_ACK_WAIT;
    let mut filter = None;
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "durable" => {
                if !is_name(&value) {
                    return Err(format!("`{value}` is no consumer name (letters, digits, - and _ only)"));
                }
                durable = value.into_owned();
            }
            "ack_wait" => {
                ack_wait = crate::trace::parse_duration(&value)?;
                if ack_wait.is_zero() {
                    return Err("ack_wait must be more than 0".into());
                }
            }
            "filter" => filter = Some(subject(&value)?),
            other => {
                return Err(format!(
                    "`{other}` is no setting of a NATS source (durable, ack_wait, filter), in `{text}`"
                ))
            }
        }
    }
    Ok(From::Nats {
        server,
        stream,
        durable,
        ack_wait,
        filter,
    })
}

/// Parses the `--alerts` URL (or `-`).
pub fn parse_to(text: &str) -> Result<To, String> {
    if text == "-" {
        return Ok(To::Stdout);
    }
    let url = parse_url(text).map_err(|e| format!("{e} (or - for standard output)"))?;
    let server = server_of(&url, text)?;
    if url.scheme() == "kafka" {
        let topic = single_path_part(&url, text, "a topic")?;
        if !is_topic(&topic) {
            return Err(format!(
                "`{topic}` is no Kafka topic name (letters, digits, ., - and _)"
            ));
        }
        if let Some((key, _)) = url.query_pairs().next() {
            return Err(format!("`{key}` is no setting of a Kafka alert topic, in `{text}`"));
        }
        return Ok(To::Kafka { server, topic });
    }
    let subject = subject(&single_path_part(&url, text, "a subject")?)?;
    if let Some((key, _)) = url.query_pairs().next() {
        return Err(format!("`{key}` is no setting of a NATS alert subject, in `{text}`"));
    }
    Ok(To::Nats { server, subject })
}

fn parse_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text)
        .map_err(|e| format!("`{text}` is no URL ({e}); say nats://HOST:PORT/NAME or kafka://HOST:PORT/TOPIC"))?;
    match url.scheme() {
        "nats" | "kafka" => Ok(url),
        other => Err(format!(
            "`{other}:` is no broker honk knows; say nats://HOST:PORT/NAME or kafka://HOST:PORT/TOPIC"
        )),
    }
}

fn server_of(url: &Url, text: &str) -> Result<String, String> {
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("`{text}` names no server"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("`{text}`: credentials in the URL are not supported"));
    }
    let default_port = if url.scheme() == "kafka" { 9092 } else { 4222 };
    Ok(format!("{host}:{}", url.port().unwrap_or(default_port)))
}

fn single_path_part(url: &Url, text: &str, what: &str) -> Result<String, String> {
    let parts: Vec<&str> = url.path().split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [one] => percent_decode(one),
        _ => Err(format!("`{text}` must name {what} as its path, once")),
    }
}

fn percent_decode(part: &str) -> Result<String, String> {
    let decoded: Vec<u8> = url::form_urlencoded::parse(format!("x={part}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())
        .unwrap_or_default();
    String::from_utf8(decoded).map_err(|_| format!("`{part}` is not UTF-8"))
}

/// A JetStream stream or consumer name.
fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 255
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A Kafka topic name.
fn is_topic(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 249
        && text != "."
        && text != ".."
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// A NATS subject: dot-separated tokens, no white space; wildcards allowed.
fn subject(text: &str) -> Result<String, String> {
    let ok = !text.is_empty()
        && text.len() <= 1024
        && text
            .split('.')
            .all(|t| !t.is_empty() && t.chars().all(|c| !c.is_whitespace() && !c.is_control()));
    if ok {
        Ok(text.to_owned())
    } else {
        Err(format!("`{text}` is no NATS subject"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nats_source_has_defaults_and_settings() {
        assert_eq!(
            parse_from("nats://127.0.0.1/LOGS").unwrap(),
            From::Nats {
                server: "127.0.0.1:4222".into(),
                stream: "LOGS".into(),
                durable: "honk".into(),
                ack_wait: DEFAULT_ACK_WAIT,
                filter: None,
            }
        );
        assert_eq!(
            parse_from("nats://localhost:4999/LOGS?durable=w_1&ack_wait=2s&filter=logs.web.>").unwrap(),
            From::Nats {
                server: "localhost:4999".into(),
                stream: "LOGS".into(),
                durable: "w_1".into(),
                ack_wait: Duration::from_secs(2),
                filter: Some("logs.web.>".into()),
            }
        );
    }

    #[test]
    fn bad_addresses_say_what_is_wrong() {
        for (text, says) in [
            ("LOGS", "no URL"),
            ("http://h/LOGS", "no broker"),
            ("kafka://h:9092/a/b", "a topic"),
            ("kafka://h:9092/lo gs", "no Kafka topic"),
            ("kafka://h:9092/logs?durable=x", "`durable`"),
            ("nats://h:4222/", "stream name"),
            ("nats://h:4222/a/b", "stream name"),
            ("nats://h:4222/L.OGS", "no JetStream stream name"),
            ("nats://h:4222/LOGS?durable=a.b", "no consumer name"),
            ("nats://h:4222/LOGS?ack_wait=0", "more than 0"),
            ("nats://h:4222/LOGS?ack_wait=soon", "duration"),
            ("nats://h:4222/LOGS?colour=red", "colour"),
            ("nats://u:p@h:4222/LOGS", "credentials"),
        ] {
            let error = parse_from(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
        assert_eq!(parse_to("-").unwrap(), To::Stdout);
        assert_eq!(
            parse_to("nats://h/honk.alerts").unwrap(),
            To::Nats {
                server: "h:4222".into(),
                subject: "honk.alerts".into()
            }
        );
        assert!(parse_to("nats://h/a..b").unwrap_err().contains("subject"));
        assert_eq!(
            parse_from("kafka://k/app-logs?group=honk.w").unwrap(),
            From::Kafka {
                server: "k:9092".into(),
                topic: "app-logs".into(),
                group: "honk.w".into()
            }
        );
        assert_eq!(
            parse_to("kafka://k:19092/honk-alerts").unwrap(),
            To::Kafka {
                server: "k:19092".into(),
                topic: "honk-alerts".into()
            }
        );
        assert!(parse_to("nats://h/a?x=1").unwrap_err().contains("`x`"));
    }
}
