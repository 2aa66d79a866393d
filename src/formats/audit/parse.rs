//! The Linux audit log: `/var/log/audit/audit.log` as auditd writes it (`RAW`
//! or `ENRICHED` format) and the output of `ausearch` (also `ausearch -i`).
//!
//! The kernel reports one audited event as several records that share a
//! stamp, `msg=audit(EPOCH.MILLIS:SERIAL)`: a `SYSCALL` record, then `CWD`,
//! `PATH` (one per file), `EXECVE`, `SOCKADDR`, `PROCTITLE` and so on. The
//! records of one event are joined into one [`Kind::Event`] record
//! ([`DIALECT`]):
//!
//! - `line` is the line of the `SYSCALL` record, or of the event's first record
//!   when it has none;
//! - `text` is the records joined with ` | `: the first record as it is, the
//!   others without their repeated `msg=audit(...)` stamp; auditd's `ENRICHED`
//!   separator (`\x1d`, between raw fields and their interpretation) becomes a
//!   space. When the syscall name is only given as a number, the name is put
//!   in front (`openat | type=SYSCALL ...`) so the record says what it is;
//! - `name` is the syscall name (from `SYSCALL=` in the enriched form, else
//!   `syscall=` resolved through [`crate::parse::syscall_table`] with `arch=`; an
//!   unknown number keeps its `syscall=NNN` field as the name), or, for an
//!   event without a `SYSCALL` record (`USER_LOGIN`, `CRED_ACQ`, `DAEMON_START`),
//!   the record type: those are behaviour too;
//! - `args` covers all the joined records from the first `type=` on, `result`
//!   the `success=... exit=...` fields;
//! - `pid` is `pid=` and `process` is `comm=` (or the file name of `exe=`).
//!
//! An event is complete at its `EOE` record, at an `ausearch` `----` separator,
//! or once [`LOOKAHEAD`] further lines have gone by without another record of
//! it (auditd's log usually has no `EOE`, and records of two events can
//! interleave). Events are released in the order of their `line`, held back at
//! most that long; an event of more than [`MAX_EVENT_RECORDS`] records is cut
//! into several. Lines that are not audit records become [`Kind::Text`]
//! records, except `ausearch`'s `----` separators and `time->` headers.
//!
//! It does not read audit records relayed through syslog (`audisp-syslog`,
//! journald's `audit[...]` lines), nor does it interpret field values; see
//! [`super::normalize`]. Only ASCII delimiters are searched for, so every
//! range is on a char boundary, and nothing panics on malformed input.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::Range;

use memchr::memchr;

use super::DIALECT;
use crate::parse::syscall_table::{self, Arch};
use crate::parse::{Kind, Parser, Record};

/// Lines after an event's last record before the event is taken as complete.
pub const LOOKAHEAD: u64 = 32;

/// Most records joined into one event record.
pub const MAX_EVENT_RECORDS: usize = 64;

/// Whether `line` is an audit record: `type=XXX msg=audit(STAMP): ...`,
/// optionally after a `node=NAME ` prefix.
pub fn looks_like_audit(line: &str) -> bool {
    header(line.as_bytes()).is_some()
}

/// Parser for the audit log; see the module documentation.
#[derive(Debug, Default)]
pub struct AuditParser {
    /// Events still collecting records, oldest first.
    open: Vec<Open>,
    /// Complete records not yet released, smallest line first.
    done: BinaryHeap<Reverse<Done>>,
    /// Non-blank lines seen.
    seen: u64,
}

#[derive(Debug)]
struct Open {
    /// `node` and stamp: what the records of one event share.
    key: String,
    first_line: u64,
    syscall_line: Option<u64>,
    last_seen: u64,
    /// Line number and text of each record, in arrival order.
    parts: Vec<(u64, String)>,
}

impl Open {
    /// The smallest `line` this event's record can end up with.
    fn min_line(&self) -> u64 {
        self.syscall_line.unwrap_or(self.first_line)
    }
}

#[derive(Debug)]
struct Done(Record);

impl PartialEq for Done {
    fn eq(&self, other: &Self) -> bool {
        self.0.line == other.0.line
    }
}
impl Eq for Done {}
impl PartialOrd for Done {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Done {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.line.cmp(&other.0.line)
    }
}

impl Parser for AuditParser {
    fn push(&mut self, line_no: u64, line: &str, out: &mut Vec<Record>) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return;
        }
        self.seen += 1;
        if trimmed.starts_with("----") {
            // ausearch prints whole events between separators.
            for open in std::mem::take(&mut self.open) {
                self.complete(open);
            }
            self.release(out);
            return;
        }
        if trimmed.starts_with("time->") {
            return;
        }
        self.expire();
        let b = line.as_bytes();
        let Some(h) = header(b) else {
            self.done.push(Reverse(Done(Record {
                line: line_no,
                text: line.to_owned(),
                pid: None,
                process: None,
                kind: Kind::Text,
            })));
            self.release(out);
            return;
        };
        let key = format!("{} {}", &line[h.node.clone()], &line[h.stamp.clone()]);
        let typ = &line[h.typ.clone()];
        let found = self.open.iter().position(|o| o.key == key);
        if typ == "EOE" {
            if let Some(i) = found {
                let open = self.open.remove(i);
                self.complete(open);
            }
            self.release(out);
            return;
        }
        let is_syscall = typ == "SYSCALL";
        match found {
            Some(i) => {
                let open = &mut self.open[i];
                open.parts.push((line_no, line.to_owned()));
                open.last_seen = self.seen;
                if is_syscall && open.syscall_line.is_none() {
                    open.syscall_line = Some(line_no);
                }
                if open.parts.len() >= MAX_EVENT_RECORDS {
                    let open = self.open.remove(i);
                    self.complete(open);
                }
            }
            None => self.open.push(Open {
                key,
                first_line: line_no,
                syscall_line: is_syscall.then_some(line_no),
                last_seen: self.seen,
                parts: vec![(line_no, line.to_owned())],
            }),
        }
        self.release(out);
    }

    fn finish(&mut self, out: &mut Vec<Record>) {
        for open in std::mem::take(&mut self.open) {
            self.complete(open);
        }
        self.release(out);
    }
}

impl AuditParser {
    /// Complete the events that have had no record for [`LOOKAHEAD`] lines.
    fn expire(&mut self) {
        let seen = self.seen;
        let mut i = 0;
        while i < self.open.len() {
            if seen - self.open[i].last_seen > LOOKAHEAD {
                let open = self.open.remove(i);
                self.complete(open);
            } else {
                i += 1;
            }
        }
    }

    fn complete(&mut self, open: Open) {
        self.done.push(Reverse(Done(build(open))));
    }

    /// Release the complete records that no open event can come before.
    fn release(&mut self, out: &mut Vec<Record>) {
        let bound = self.open.iter().map(Open::min_line).min().unwrap_or(u64::MAX);
        while self.done.peek().is_some_and(|Reverse(d)| d.0.line < bound) {
            if let Some(Reverse(Done(record))) = self.done.pop() {
                out.push(record);
            }
        }
    }
}

/// The joined record of one event.
fn build(open: Open) -> Record {
    let main_idx = open
        .parts
        .iter()
        .position(|(_, l)| header(l.as_bytes()).is_some_and(|h| &l[h.typ] == "SYSCALL"))
        .unwrap_or(0);
    let mut text = String::new();
    let mut args_start = 0;
    // Where the main record's type and body are in `text`.
    let mut main_typ = 0..0;
    let mut main_body = 0..0;
    let mut line = open.first_line;
    for (i, (line_no, part)) in open.parts.iter().enumerate() {
        let Some(h) = header(part.as_bytes()) else {
            continue;
        };
        let (typ, body) = if i == 0 {
            // The first record as it is, `node=` and stamp included.
            let start = text.len();
            push_clean(&mut text, part);
            args_start = start + h.typ.start - 5;
            (start + h.typ.start..start + h.typ.end, (start + h.body).min(text.len()))
        } else {
            text.push_str(" | type=");
            let typ_start = text.len();
            text.push_str(&part[h.typ.clone()]);
            let typ = typ_start..text.len();
            text.push(' ');
            let body = text.len();
            push_clean(&mut text, &part[h.body..]);
            (typ, body)
        };
        if i == main_idx {
            main_typ = typ;
            main_body = body..text.len();
            line = *line_no;
        }
    }
    let body = &text[main_body.clone()];
    let base = main_body.start;
    let mut pid = None;
    let mut comm = None;
    let mut exe = None;
    let mut arch = None;
    let mut syscall = None;
    let mut enriched_name = None;
    let mut success = None;
    let mut exit = None;
    for f in fields(body) {
        let value = base + f.value_start..base + f.end;
        match f.key {
            "pid" => pid = f.value.parse::<u32>().ok(),
            "comm" => comm = Some(decode_string(f.value).into_owned()),
            "exe" => exe = Some(decode_string(f.value).into_owned()),
            "arch" => arch = Some(f.value),
            "syscall" => syscall = Some((value, base + f.start..base + f.end)),
            "SYSCALL" => enriched_name = Some(value),
            // A user-space message names its program inside `msg='... exe="/usr/bin/su" ...'`.
            "msg" if f.value.starts_with('\'') => {
                for inner in fields(f.value.trim_matches('\'')) {
                    match inner.key {
                        "comm" if comm.is_none() => comm = Some(decode_string(inner.value).into_owned()),
                        "exe" if exe.is_none() => exe = Some(decode_string(inner.value).into_owned()),
                        _ => {}
                    }
                }
            }
            "success" => success = Some(base + f.start..base + f.end),
            "exit" => exit = Some(base + f.start..base + f.end),
            _ => {}
        }
    }
    let result = match (success, exit) {
        (Some(s), Some(e)) if s.start <= e.start => s.start..e.end,
        (Some(r), _) | (None, Some(r)) => r,
        (None, None) => text.len()..text.len(),
    };
    let process = comm.filter(|c| !c.is_empty()).or_else(|| {
        exe.as_deref()
            .and_then(|e| e.rsplit('/').next())
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
    });
    let is_syscall = text.get(main_typ.clone()) == Some("SYSCALL");
    // The syscall name: given by name, or resolved from its number (and then
    // written in front of the text), or, unknown, the `syscall=N` field itself.
    let mut prefix = None;
    let name = match (is_syscall, enriched_name, syscall) {
        (false, _, _) => main_typ,
        (true, Some(name), _) => name,
        (true, None, Some((value, field))) => {
            let number = &text[value.clone()];
            if number.bytes().all(|b| b.is_ascii_digit()) {
                let resolved = arch
                    .and_then(Arch::from_audit)
                    .zip(number.parse::<u32>().ok())
                    .and_then(|(arch, n)| syscall_table::name(arch, n));
                match resolved {
                    Some(name) => {
                        prefix = Some(name);
                        0..name.len()
                    }
                    None => field,
                }
            } else {
                value
            }
        }
        (true, None, None) => main_typ,
    };
    let (text, args, result, name) = match prefix {
        Some(p) => {
            let shift = p.len() + 3;
            let mut joined = String::with_capacity(text.len() + shift);
            joined.push_str(p);
            joined.push_str(" | ");
            joined.push_str(&text);
            let moved = |r: Range<usize>| r.start + shift..r.end + shift;
            (joined, moved(args_start..text.len()), moved(result), name)
        }
        None => {
            let len = text.len();
            (text, args_start..len, result, name)
        }
    };
    Record {
        line,
        text,
        pid,
        process,
        kind: Kind::Event {
            name,
            args,
            result,
            dialect: DIALECT,
        },
    }
}

/// Append `s` with auditd's enrichment separator (`\x1d`) shown as a space.
fn push_clean(text: &mut String, s: &str) {
    let s = s.trim_end();
    if s.contains('\x1d') {
        text.extend(s.chars().map(|c| if c == '\x1d' { ' ' } else { c }));
    } else {
        text.push_str(s);
    }
}

/// Where the parts of an audit record's header are.
#[derive(Debug)]
struct Header {
    /// The `node=` value; empty when there is none.
    node: Range<usize>,
    typ: Range<usize>,
    /// Inside `audit(...)`: `1795834658.252:241`, or `11/28/26 02:57:53.452:274` from `ausearch -i`.
    stamp: Range<usize>,
    /// Where the fields start.
    body: usize,
}

fn header(b: &[u8]) -> Option<Header> {
    let mut i = 0;
    let mut node = 0..0;
    if b.starts_with(b"node=") {
        let sp = memchr(b' ', b)?;
        node = 5..sp;
        i = skip_spaces(b, sp);
    }
    if !b.get(i..)?.starts_with(b"type=") {
        return None;
    }
    let typ_start = i + 5;
    let mut j = typ_start;
    while j < b.len() && matches!(b[j], b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'[' | b']') {
        j += 1;
    }
    if j == typ_start || b.get(j) != Some(&b' ') {
        return None;
    }
    let typ = typ_start..j;
    let i = skip_spaces(b, j);
    if !b.get(i..)?.starts_with(b"msg=audit(") {
        return None;
    }
    let stamp_start = i + 10;
    let close = stamp_start + memchr(b')', &b[stamp_start..])?;
    let stamp = stamp_start..close;
    // The serial: digits after the last `:`.
    let colon = memchr::memrchr(b':', &b[stamp.clone()])? + stamp_start;
    if colon + 1 == close || !b[colon + 1..close].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut k = skip_spaces(b, close + 1);
    if b.get(k) != Some(&b':') {
        return None;
    }
    k = skip_spaces(b, k + 1);
    Some(Header {
        node,
        typ,
        stamp,
        body: k,
    })
}

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    i
}

/// One `key=value` field of audit record text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field<'a> {
    /// The key, e.g. `name`; empty for a word that is not a field.
    pub key: &'a str,
    /// The value as written: quoted (`"/etc/shadow"`, `'op=... res=success'`),
    /// braced (`{ saddr_fam=inet ... }`), hex-encoded or plain.
    pub value: &'a str,
    /// Offsets of the field (key start, value start, value end) in the text.
    pub start: usize,
    /// Byte offset of the value, just after the `=` (quotes included); equal
    /// to `start` for a word that is not a field.
    pub value_start: usize,
    /// Byte offset just past the value (exclusive), after a closing quote or brace.
    pub end: usize,
}

/// The fields of audit record text, in order.
///
/// Values are quoted (`"..."`, `'...'`), braced (`{...}`) or end at a blank;
/// an unquoted value goes on over following words that are not fields, which
/// is how `ausearch -i` writes values with spaces (`name=/tmp/a b.txt`,
/// `exit=EACCES(Permission denied)`). A lone `|` (the separator of joined
/// records) ends a value and is skipped; `\x1d` counts as a blank.
pub fn fields(text: &str) -> impl Iterator<Item = Field<'_>> {
    let b = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || loop {
        while i < b.len() && is_blank(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        if b[i] == b'|' && b.get(i + 1).is_none_or(|&c| is_blank(c)) {
            i += 1;
            continue;
        }
        let start = i;
        let key_stop = key_end(b, i);
        if key_stop == i || b.get(key_stop) != Some(&b'=') {
            // A word that is not a field.
            let end = word_end(b, i);
            i = end;
            return Some(Field {
                key: "",
                value: &text[start..end],
                start,
                value_start: start,
                end,
            });
        }
        let value_start = key_stop + 1;
        let end = match b.get(value_start) {
            Some(&q @ (b'"' | b'\'')) => memchr(q, &b[value_start + 1..]).map_or(b.len(), |p| value_start + 1 + p + 1),
            Some(b'{') => {
                let mut depth = 0usize;
                let mut j = value_start;
                while j < b.len() {
                    match b[j] {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                j += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                j
            }
            _ => {
                let mut end = word_end(b, value_start);
                // Continuation words of an unquoted value.
                loop {
                    let mut next = end;
                    while next < b.len() && is_blank(b[next]) {
                        next += 1;
                    }
                    if next >= b.len() || b[next] == b'|' {
                        break;
                    }
                    let k = key_end(b, next);
                    if k > next && b.get(k) == Some(&b'=') {
                        break;
                    }
                    end = word_end(b, next);
                }
                end
            }
        };
        i = end;
        return Some(Field {
            key: &text[start..key_stop],
            value: &text[value_start..end],
            start,
            value_start,
            end,
        });
    })
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\x1d' | b'\r' | b'\n')
}

/// End of a field key `[A-Za-z][A-Za-z0-9_\-\[\]]*` starting at `i` (`i` when there is none).
fn key_end(b: &[u8], i: usize) -> usize {
    if !b.get(i).is_some_and(u8::is_ascii_alphabetic) {
        return i;
    }
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'_' | b'-' | b'[' | b']')) {
        j += 1;
    }
    j
}

fn word_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && !is_blank(b[i]) {
        i += 1;
    }
    i
}

/// A string field's value: the inside of `"..."`, or the text that audit
/// hex-encoded because it had spaces, quotes or control characters in it
/// (`2F746D702F6120622E747874` is `/tmp/a b.txt`; NULs, which separate
/// `proctitle`'s arguments, become spaces), or the value as it is.
///
/// Only for fields that hold strings (`name`, `comm`, `exe`, `a1`, `proctitle`,
/// ...): a number like `uid=0` also looks like hex.
pub fn decode_string(value: &str) -> Cow<'_, str> {
    if let Some(inner) = value.strip_prefix('"') {
        return inner.strip_suffix('"').unwrap_or(inner).into();
    }
    let b = value.as_bytes();
    let is_hex = b.len() >= 2 && b.len().is_multiple_of(2) && b.iter().all(|c| matches!(c, b'0'..=b'9' | b'A'..=b'F'));
    if !is_hex {
        return value.into();
    }
    let bytes: Vec<u8> = b
        .chunks(2)
        .map(|pair| {
            let digit = |c: u8| if c.is_ascii_digit() { c - b'0' } else { c - b'A' + 10 };
            let byte = digit(pair[0]) << 4 | digit(pair[1]);
            if byte == 0 {
                b' '
            } else {
                byte
            }
        })
        .collect();
    match String::from_utf8_lossy(&bytes) {
        Cow::Borrowed(s) => s.trim_end().to_owned().into(),
        Cow::Owned(s) => s.trim_end().to_owned().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testing::{assert_well_formed as check_wellformed, parse_all};
    use proptest::prelude::*;

    const ENRICHED: &str = include_str!("../../../tests/fixtures/audit/enriched.log");
    const RAW: &str = include_str!("../../../tests/fixtures/audit/raw.log");
    const AUSEARCH_I: &str = include_str!("../../../tests/fixtures/audit/ausearch-i.txt");

    fn parse(input: &str) -> Vec<Record> {
        parse_all(AuditParser::default(), input)
    }

    fn event(r: &Record) -> (&str, &str, &str) {
        match &r.kind {
            Kind::Event {
                name,
                args,
                result,
                dialect,
            } if *dialect == DIALECT => (&r.text[name.clone()], &r.text[args.clone()], &r.text[result.clone()]),
            other => panic!("line {}: not an audit event: {other:?} in {:?}", r.line, r.text),
        }
    }

    /// The record whose event has serial `serial`.
    fn by_serial(records: &[Record], serial: u32) -> &Record {
        let needle = format!(":{serial}):");
        let needle_i = format!(":{serial}) :");
        records
            .iter()
            .find(|r| r.text.contains(&needle) || r.text.contains(&needle_i))
            .unwrap_or_else(|| panic!("no event {serial}"))
    }

    /// Distinct stamps in the input: each is one event.
    fn stamps(input: &str) -> usize {
        let mut seen: Vec<&str> = input
            .lines()
            .filter_map(|l| header(l.as_bytes()).map(|h| &l[h.stamp]))
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }

    #[test]
    fn raw_fixture_joins_events() {
        let records = parse(RAW);
        check_wellformed(&records);
        assert_eq!(records.len(), stamps(RAW));
        assert!(RAW.lines().all(looks_like_audit));
        // cat opening /etc/shadow as nobody: denied.
        let r = by_serial(&records, 286);
        let (name, args, result) = event(r);
        assert_eq!(name, "openat");
        assert_eq!(result, "success=no exit=-13");
        assert!(r
            .text
            .starts_with("openat | type=SYSCALL msg=audit(1795834673.488:286): arch=c000003e syscall=257 "));
        assert!(args.starts_with("type=SYSCALL msg=audit("));
        assert!(
            args.contains(r#" | type=CWD cwd="/tmp" | type=PATH item=0 name="/etc/shadow" "#),
            "{args}"
        );
        assert!(args.ends_with(" | type=PROCTITLE proctitle=73657470726976002D2D72657569643D3635353334002D2D72656769643D3635353334002D2D636C6561722D67726F75707300636174002F6574632F736861646F77"));
        assert_eq!((r.pid, r.process.as_deref()), (Some(14620), Some("cat")));
        assert_eq!(
            r.line,
            RAW.lines()
                .position(|l| l.contains("audit(1795834673.488:286): arch="))
                .map(|p| p as u64 + 1)
                .unwrap_or(0)
        );
        // The LOGIN record comes before its SYSCALL: the event is at the SYSCALL's line.
        let r = by_serial(&records, 277);
        assert_eq!(event(r).0, "write");
        assert_eq!(r.line, 2);
        assert!(r
            .text
            .starts_with("write | type=LOGIN msg=audit(1795834673.468:277): pid=14616 "));
        // A user-space event with no SYSCALL record is named by its type.
        let r = by_serial(&records, 293);
        assert_eq!(event(r).0, "USER_AUTH");
        assert_eq!(event(r).2, "");
        assert_eq!((r.pid, r.process.as_deref()), (Some(14624), Some("su")));
        // connect to 127.0.0.1:4444
        let r = by_serial(&records, 288);
        assert_eq!(event(r).0, "connect");
        assert_eq!(event(r).2, "success=no exit=-111");
        assert!(r
            .text
            .contains(" | type=SOCKADDR saddr=0200115C7F0000010000000000000000 | "));
    }

    #[test]
    fn enriched_fixture_uses_the_interpreted_name() {
        let records = parse(ENRICHED);
        check_wellformed(&records);
        assert_eq!(records.len(), stamps(ENRICHED));
        assert!(records.iter().all(|r| !r.text.contains('\x1d')));
        let r = by_serial(&records, 246);
        let (name, _, result) = event(r);
        assert_eq!((name, result), ("openat", "success=no exit=-13"));
        assert!(r
            .text
            .starts_with("type=SYSCALL msg=audit(1795834658.260:246): arch=c000003e syscall=257 success=no "));
        assert!(r
            .text
            .contains(r#" key="honk-file" ARCH=x86_64 SYSCALL=openat AUID="unknown(4242)""#));
        // sh -c id
        let r = by_serial(&records, 242);
        assert_eq!(event(r).0, "execve");
        assert!(event(r)
            .1
            .contains(r#" | type=EXECVE argc=3 a0="sh" a1="-c" a2="id" | "#));
        assert_eq!(r.process.as_deref(), Some("sh"));
        // The daemon's own event has a serial from another counter, and comes first.
        assert_eq!(event(&records[0]).0, "DAEMON_START");
        assert_eq!(records[0].line, 1);
        // CONFIG_CHANGE + SYSCALL: named by the syscall, auditctl's sendto.
        let r = by_serial(&records, 232);
        assert_eq!(event(r).0, "sendto");
        assert_eq!(r.line, 5);
        assert_eq!(crate::parse::detect(ENRICHED.lines()), crate::parse::Format::Audit);
        assert_eq!(crate::parse::detect(RAW.lines()), crate::parse::Format::Audit);
    }

    #[test]
    fn ausearch_interpreted_output() {
        let records = parse(AUSEARCH_I);
        check_wellformed(&records);
        assert_eq!(records.len(), 4);
        let r = by_serial(&records, 286);
        // ausearch lists an event's records backwards: the SYSCALL record is last.
        assert_eq!(r.line, 5);
        assert_eq!(
            event(r),
            ("openat", event(r).1, "success=no exit=EACCES(Permission denied)")
        );
        assert_eq!((r.pid, r.process.as_deref()), (Some(14620), Some("cat")));
        let r = by_serial(&records, 288);
        assert_eq!(event(r).0, "connect");
        assert!(event(r)
            .1
            .contains("saddr={ saddr_fam=inet laddr=127.0.0.1 lport=4444 }"));
        assert_eq!(crate::parse::detect(AUSEARCH_I.lines()), crate::parse::Format::Audit);
    }

    #[test]
    fn other_logs_are_not_audit() {
        for line in [
            "Nov 28 02:08:30 vm sshd[1234]: Accepted publickey for root from 10.0.0.1 port 5555 ssh2",
            r#"openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3"#,
            "I1128 02:52:19.857620   24672 strace.go:561] [   1:   1] cat E brk(0x0)",
            "type=SYSCALL arch=c000003e syscall=257",
            "type=SYSCALL msg=audit(1795834658.260): arch=c000003e",
            "audit: type=1400 audit(1700000000.123:45): apparmor=\"DENIED\"",
            "----",
            "",
        ] {
            assert!(!looks_like_audit(line), "{line}");
        }
        assert!(looks_like_audit(
            "node=web1 type=USER_LOGIN msg=audit(1700000000.123:45): pid=1 uid=0"
        ));
        assert!(looks_like_audit(
            "type=UNKNOWN[1334] msg=audit(1700000000.123:45): prog-id=1"
        ));
    }

    #[test]
    fn eoe_completes_and_interleaving_is_joined() {
        let input = "\
type=SYSCALL msg=audit(1.000:10): arch=c000003e syscall=59 success=yes exit=0 pid=5 comm=\"sh\"
type=SYSCALL msg=audit(1.000:11): arch=40000003 syscall=5 success=no exit=-2 pid=6 comm=\"old\"
type=EXECVE msg=audit(1.000:10): argc=1 a0=\"sh\"
type=EOE msg=audit(1.000:10):
type=PATH msg=audit(1.000:11): item=0 name=\"/nonexistent\" nametype=UNKNOWN
garbage line
type=SYSCALL msg=audit(1.000:12): arch=c00000b7 syscall=56 success=yes exit=3 pid=7
node=b type=SYSCALL msg=audit(1.000:12): arch=c000003e syscall=9999 pid=8
";
        let records = parse(input);
        check_wellformed(&records);
        let summary: Vec<(u64, &str, Option<u32>)> = records
            .iter()
            .map(|r| (r.line, if r.kind == Kind::Text { "TEXT" } else { event(r).0 }, r.pid))
            .collect();
        assert_eq!(
            summary,
            [
                (1, "execve", Some(5)),
                (2, "open", Some(6)),
                (6, "TEXT", None),
                (7, "syscall=56", Some(7)),
                (8, "syscall=9999", Some(8)),
            ]
        );
        assert!(
            records[0].text.ends_with(r#"type=EXECVE argc=1 a0="sh""#),
            "{}",
            records[0].text
        );
        assert!(records[1].text.contains(r#"| type=PATH item=0 name="/nonexistent""#));
    }

    #[test]
    fn lookahead_completes_events_without_eoe() {
        let mut parser = AuditParser::default();
        let mut out = Vec::new();
        parser.push(
            1,
            "type=SYSCALL msg=audit(1.0:1): arch=c000003e syscall=0 success=yes exit=0",
            &mut out,
        );
        for n in 2..=(LOOKAHEAD + 1) {
            parser.push(
                n,
                &format!("type=USER_LOGIN msg=audit(1.0:{n}): pid=1 res=success"),
                &mut out,
            );
        }
        assert!(out.is_empty(), "every event may still get records");
        parser.push(LOOKAHEAD + 2, "type=USER_LOGIN msg=audit(1.0:999): pid=1", &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(event(&out[0]).0, "read");
        parser.finish(&mut out);
        check_wellformed(&out);
        assert_eq!(out.len(), LOOKAHEAD as usize + 2);
        // Held back at most LOOKAHEAD lines, however long the log.
        let mut parser = AuditParser::default();
        let mut out = Vec::new();
        for n in 1..=1000u64 {
            parser.push(
                n,
                &format!("type=PATH msg=audit(1.0:{}): item=0 name=\"/x\"", n / 3),
                &mut out,
            );
            assert!(parser.open.len() as u64 <= LOOKAHEAD + 1 && parser.done.len() as u64 <= LOOKAHEAD + 1);
        }
    }

    #[test]
    fn huge_events_are_cut() {
        let mut input = String::from("type=SYSCALL msg=audit(1.0:1): arch=c000003e syscall=2 success=yes exit=3\n");
        for i in 0..200 {
            input.push_str(&format!("type=PATH msg=audit(1.0:1): item={i} name=\"/x\"\n"));
        }
        let records = parse(&input);
        check_wellformed(&records);
        assert_eq!(records.len(), 201_usize.div_ceil(MAX_EVENT_RECORDS));
        assert_eq!(event(&records[0]).0, "open");
    }

    #[test]
    fn fields_and_decoding() {
        let text = r#"a0="cat" a1=2F746D702F6120622E747874 msg='op=PAM:x res=success' SADDR={ saddr_fam=inet laddr=1.2.3.4 } | type=PATH name=/tmp/a b.txt nametype=NORMAL exit=EACCES(Permission denied) tty=(none)"#;
        let got: Vec<(&str, &str)> = fields(text).map(|f| (f.key, f.value)).collect();
        assert_eq!(
            got,
            [
                ("a0", "\"cat\""),
                ("a1", "2F746D702F6120622E747874"),
                ("msg", "'op=PAM:x res=success'"),
                ("SADDR", "{ saddr_fam=inet laddr=1.2.3.4 }"),
                ("type", "PATH"),
                ("name", "/tmp/a b.txt"),
                ("nametype", "NORMAL"),
                ("exit", "EACCES(Permission denied)"),
                ("tty", "(none)"),
            ]
        );
        assert_eq!(decode_string("2F746D702F6120622E747874"), "/tmp/a b.txt");
        assert_eq!(decode_string("7368002D63006964"), "sh -c id");
        assert_eq!(decode_string("\"/etc/shadow\""), "/etc/shadow");
        assert_eq!(decode_string("/etc/shadow"), "/etc/shadow");
        assert_eq!(decode_string("C3A9FF"), "é\u{FFFD}");
        assert_eq!(decode_string("\""), "");
    }

    const FRAGMENTS: &[&str] = &[
        "type=SYSCALL ",
        "type=PATH ",
        "type=EOE ",
        "node=x ",
        "msg=audit(1.0:1): ",
        "msg=audit(1.0:2) : ",
        "msg=audit(",
        "arch=c000003e ",
        "syscall=257 ",
        "syscall=openat ",
        "SYSCALL=x ",
        "success=no exit=-13 ",
        "exit=",
        "name=\"/a b\" ",
        "name=2F41 ",
        "'",
        "\"",
        "{",
        "}",
        "|",
        "\x1d",
        "=",
        " ",
        "----",
        "é",
        "\u{1F600}",
        "pid=99999999999 ",
        "comm=",
    ];

    fn audit_like() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..14).prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn arbitrary_lines_never_break_it(lines in prop::collection::vec(any::<String>(), 0..20)) {
            let mut parser = AuditParser::default();
            let mut out = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                let _ = looks_like_audit(line);
                parser.push(i as u64 + 1, line, &mut out);
            }
            parser.finish(&mut out);
            check_wellformed(&out);
            prop_assert!(out.len() <= lines.len());
        }

        #[test]
        fn audit_like_lines_never_break_it(lines in prop::collection::vec(audit_like(), 0..40)) {
            let mut parser = AuditParser::default();
            let mut out = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                let _ = looks_like_audit(line);
                parser.push(i as u64 + 1, line, &mut out);
            }
            parser.finish(&mut out);
            check_wellformed(&out);
            for r in &out {
                let _ = crate::normalize::key_of(r);
            }
        }
    }
}
