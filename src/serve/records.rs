//! Request bodies as records: plain text (one record per line) or JSON (an
//! array of strings or objects, or objects one after another as NDJSON),
//! read incrementally from a blocking reader, so that memory is bounded by
//! one record, not by the body.
//!
//! A JSON object's record is its `message` field, else its `log` field (what
//! Vector and Fluent Bit send); its optional `source` field names the source
//! it belongs to (each source is scored apart, with its own line numbers).
//! A record with several lines is several records. Lines longer than
//! [`crate::read::MAX_LINE_BYTES`] are cut. This module neither scores nor
//! knows about HTTP.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde::Deserialize;

use crate::read::Lines;

/// How a body is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// One record per line.
    Text,
    /// A JSON array of records, or JSON records one after another (NDJSON).
    Json,
}

/// Why a body could not be read as records.
#[derive(Debug)]
pub enum RecordsError {
    /// The body is not what its content type says (a client's mistake).
    Malformed(String),
    /// Reading the body failed (the client went away, or it was too large).
    Read(io::Error),
    /// The consumer of the records failed.
    Consumer(String),
}

impl fmt::Display for RecordsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordsError::Malformed(why) => write!(f, "{why}"),
            RecordsError::Read(e) => write!(f, "cannot read the request body: {e}"),
            RecordsError::Consumer(why) => write!(f, "{why}"),
        }
    }
}

/// One record from a JSON body.
#[derive(Deserialize)]
#[serde(untagged)]
enum Record {
    Text(String),
    Object {
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        log: Option<String>,
        #[serde(default)]
        source: Option<String>,
    },
}

/// Where records go: `(source, line)`, the source `None` for the request's default.
pub type Consumer<'a> = dyn FnMut(Option<&str>, &str, bool) -> Result<(), String> + 'a;

/// Reads the records of `body` as `kind` says, handing each line to `consume`
/// with its source (if the record names one) and whether it was cut.
pub fn read_records(body: impl Read, kind: BodyKind, consume: &mut Consumer<'_>) -> Result<(), RecordsError> {
    let mut reader = BufReader::with_capacity(64 * 1024, body);
    match kind {
        BodyKind::Text => {
            let mut lines = Lines::new(reader);
            let mut line = String::new();
            let mut truncated = 0;
            while lines.next_line(&mut line).map_err(RecordsError::Read)?.is_some() {
                let cut = lines.truncated() > truncated;
                truncated = lines.truncated();
                consume(None, &line, cut).map_err(RecordsError::Consumer)?;
            }
            Ok(())
        }
        BodyKind::Json => {
            let first = loop {
                let buf = reader.fill_buf().map_err(RecordsError::Read)?;
                match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                    Some(at) => {
                        let byte = buf[at];
                        reader.consume(at);
                        break Some(byte);
                    }
                    None if buf.is_empty() => break None,
                    None => {
                        let n = buf.len();
                        reader.consume(n);
                    }
                }
            };
            let mut failed = None;
            let result = match first {
                None => return Ok(()),
                Some(b'[') => {
                    let mut de = serde_json::Deserializer::from_reader(reader);
                    let seed = Each {
                        consume,
                        failed: &mut failed,
                    };
                    seed.deserialize(&mut de).and_then(|()| de.end())
                }
                Some(_) => {
                    let mut result = Ok(());
                    for record in serde_json::Deserializer::from_reader(reader).into_iter::<Record>() {
                        match record {
                            Ok(record) => {
                                if let Err(e) = give(record, consume) {
                                    failed = Some(e);
                                    break;
                                }
                            }
                            Err(e) => {
                                result = Err(e);
                                break;
                            }
                        }
                    }
                    result
                }
            };
            if let Some(e) = failed {
                return Err(e);
            }
            result.map_err(|e| match e.classify() {
                serde_json::error::Category::Io => RecordsError::Read(io::Error::other(e.to_string())),
                _ => RecordsError::Malformed(format!("malformed JSON body: {e}")),
            })
        }
    }
}

/// Hands one JSON record's lines to `consume`.
fn give(record: Record, consume: &mut Consumer<'_>) -> Result<(), RecordsError> {
    let (text, source) = match record {
        Record::Text(text) => (text, None),
        Record::Object {
            message, log, source, ..
        } => match message.or(log) {
            Some(text) => (text, source),
            None => {
                return Err(RecordsError::Malformed(
                    "a JSON record must be a string or an object with a \"message\" (or \"log\") string".into(),
                ))
            }
        },
    };
    for line in crate::read::split_lines(&text) {
        let (line, cut) = crate::read::cut_line(line);
        consume(source.as_deref(), line, cut).map_err(RecordsError::Consumer)?;
    }
    Ok(())
}

/// The elements of a JSON array, each handed on as it is parsed.
struct Each<'c, 'a> {
    consume: &'c mut Consumer<'a>,
    failed: &'c mut Option<RecordsError>,
}

impl<'de> DeserializeSeed<'de> for Each<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Each<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records (strings, or objects with a \"message\")")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(record) = seq.next_element::<Record>()? {
            if let Err(e) = give(record, self.consume) {
                let message = e.to_string();
                *self.failed = Some(e);
                return Err(de::Error::custom(message));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::MAX_LINE_BYTES;

    fn records(body: &str, kind: BodyKind) -> Result<Vec<(Option<String>, String)>, String> {
        let mut out = Vec::new();
        read_records(body.as_bytes(), kind, &mut |source, line, _| {
            out.push((source.map(str::to_owned), line.to_owned()));
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        Ok(out)
    }

    fn texts(found: &[(Option<String>, String)]) -> Vec<&str> {
        found.iter().map(|(_, t)| t.as_str()).collect()
    }

    #[test]
    fn text_is_one_record_per_line() {
        let found = records("a b\r\nc\n\nd", BodyKind::Text).unwrap();
        assert_eq!(texts(&found), ["a b", "c", "", "d"]);
    }

    #[test]
    fn json_arrays_ndjson_strings_and_objects() {
        let array = records(
            r#" [ "one", {"message": "two", "source": "web"}, {"log": "three\nfour\n", "date": 1.5} ] "#,
            BodyKind::Json,
        )
        .unwrap();
        assert_eq!(texts(&array), ["one", "two", "three", "four"]);
        assert_eq!(array[1].0.as_deref(), Some("web"));
        let ndjson = records("{\"message\":\"a\"}\n{\"message\":\"b\",\"x\":[1]}\n", BodyKind::Json).unwrap();
        assert_eq!(texts(&ndjson), ["a", "b"]);
        assert!(records("   ", BodyKind::Json).unwrap().is_empty());
    }

    #[test]
    fn malformed_json_is_refused_with_a_reason() {
        for body in [
            "[\"a\", ",
            "{\"message\": 3}",
            "[{\"other\": \"x\"}]",
            "{\"message\":\"a\"} nonsense",
            "[1, 2]",
            "[\"a\"] [\"b\"]",
        ] {
            let err = records(body, BodyKind::Json).unwrap_err();
            assert!(err.contains("JSON") || err.contains("record"), "{body}: {err}");
        }
    }

    #[test]
    fn long_lines_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_LINE_BYTES);
        let body = serde_json::to_string(&[long.as_str()]).unwrap();
        let mut cuts = Vec::new();
        read_records(body.as_bytes(), BodyKind::Json, &mut |_, line, cut| {
            cuts.push((line.len(), cut));
            Ok(())
        })
        .unwrap();
        assert_eq!(cuts, [(MAX_LINE_BYTES, true)]);
    }
}
