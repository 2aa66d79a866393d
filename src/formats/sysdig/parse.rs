//! sysdig output: one record per system call, its enter and exit events joined.
//!
//! sysdig prints a system call as two events: an enter event (`>`) with the
//! arguments known on entry, and an exit event (`<`) with the return value and
//! the arguments the kernel filled in (for `open`, the path and flags only come
//! on exit). This module joins the two events of a call, per thread, into one
//! [`Kind::Event`] record of [`DIALECT`].
//!
//! Line shapes understood (one event per line):
//!
//! - sysdig's default text output, `*%evt.num %evt.outputtime %evt.cpu
//!   %proc.name (%thread.tid) %evt.dir %evt.type %evt.info`, with any `-t` time
//!   mode (`17:35:48.514632619`, `1533943853.939056`, `0.000007188`);
//! - its terminal variant, whose thread column is `(%proc.pid.%thread.tid)`;
//! - the container formats of `-pc` (`… %evt.cpu %container.name
//!   (%container.id) %proc.name (%thread.tid:%thread.vtid) …`), `-pk` and `-pm`
//!   (the pod or task name in place of the container name);
//! - LID-DS 2021 `.sc` recordings, `%evt.rawtime %user.uid %proc.pid %proc.name
//!   %thread.tid %syscall.type %evt.dir %evt.args` (buffers in base64);
//! - LID-DS 2019 recordings, `%evt.num %evt.time %evt.cpu %user.uid %proc.name
//!   %thread.tid %evt.dir %evt.type %evt.args`;
//! - `sysdig -j` JSON, one object per line, through [`SysdigJsonParser`].
//!
//! What a record holds:
//!
//! - `line`: the line of the call's enter event (or of its only event);
//! - `text`: for a joined call, the enter line and the exit line, trailing
//!   blanks dropped, joined by [`PAIR_SEPARATOR`] (` ⏎ `); otherwise the line as
//!   it is. JSON events are shown rendered in the default text layout (see
//!   [`SysdigJsonParser`]);
//! - `pid`: the thread id; `process`: the process name, unless sysdig had none (`<NA>`);
//! - `kind`: [`Kind::Event`] whose `name` is the event type, `args` the enter
//!   event's parameters and `result` the exit event's *whole* parameter list —
//!   `res=…` (or `fd=…` for calls that return one) and everything sysdig only
//!   reports on exit. The two must stay apart because a range is contiguous, and
//!   they are adjacent neither in the joined text nor in meaning. Either is an
//!   empty range when its event was not seen.
//!
//! Pairing: a thread has one system call in flight, so an enter waits for the
//! next exit of the same thread and type. It is given up on (released as a
//! record of its own) when the thread enters another call, when the thread
//! exits (`procexit`), when an exit of another type arrives for the thread, or
//! at the end of the input. An exit with no waiting enter (the capture started
//! inside the call, or the child's side of `clone`) is a record of its own.
//! Events that never have an exit — scheduler switches, signal deliveries,
//! page faults, `procexit`, and the calls that do not return (`exit`,
//! `exit_group`) — are records of their own and do not end the wait of a call
//! they interrupt. Records leave in the order of their first line; an enter
//! waiting for its exit holds back the records after it, at most
//! [`MAX_HELD`] of them before the oldest wait is given up.
//!
//! Not done here: arguments are not decoded (that is [`crate::normalize`]'s
//! job); timestamps, event numbers and CPUs are skipped; other `-p` formats are
//! not recognised, nor is the `-A`/`-X` output whose data buffers span several
//! lines (each continuation line becomes a [`Kind::Text`] record). A thread
//! renumbered by `execve` in a multi-threaded process shows as an enter and an
//! exit that are not joined.
//!
//! Lines may be any text: every delimiter searched for is ASCII, so every range
//! is on a char boundary, and nothing panics; a line that is not an event is a
//! [`Kind::Text`] record.

use std::ops::Range;

use memchr::{memchr, memrchr};
use serde_json::{Map, Value};

use super::DIALECT;
use crate::parse::bytes::{digits_end, parse_u32, trim_end, word_end};
use crate::parse::holdback::HoldBack;
use crate::parse::{Kind, Parser, Record};

/// What joins the enter and exit lines of a call in a record's text.
pub const PAIR_SEPARATOR: &str = " ⏎ ";

/// Records held back behind an enter waiting for its exit before the oldest
/// wait is given up, so a call that never returns cannot grow memory without bound.
pub const MAX_HELD: usize = 4096;

/// A LID-DS 2021 line starts with a nanosecond Unix time (19 digits today);
/// requiring ten digits keeps other logs that start with two numbers out.
const MIN_RAWTIME_DIGITS: usize = 10;

/// Whether `line` has the shape of one event of sysdig's text output, in any of
/// the layouts this module reads (see the module documentation).
///
/// Meant for format detection: the line must have the event number (or raw
/// time) and the fixed columns of one of those layouts, a thread id, an event
/// direction `>` or `<` and an event type, so strace, syslog, HDFS, BGL or
/// access-log lines do not match.
pub fn looks_like_sysdig(line: &str) -> bool {
    parse_line(line.as_bytes()).is_some()
}

/// Whether `line` is one event of `sysdig -j`: a JSON object with a string `evt.type`.
pub fn looks_like_sysdig_json(line: &str) -> bool {
    // The cheap test first: most lines of other logs never reach the JSON parser.
    let s = json_body(line);
    s.starts_with('{')
        && s.ends_with('}')
        && memchr::memmem::find(s.as_bytes(), b"\"evt.type\"").is_some()
        && json_object(s).is_some_and(|map| map.get("evt.type").is_some_and(Value::is_string))
}

/// Parser for sysdig's text output and the LID-DS recordings.
#[derive(Debug, Default)]
pub struct SysdigParser {
    pairer: Pairer,
}

impl Parser for SysdigParser {
    fn push(&mut self, line_no: u64, line: &str, out: &mut Vec<Record>) {
        if line.trim().is_empty() {
            return;
        }
        match parse_line(line.as_bytes()) {
            Some(f) => {
                let process = f.process.and_then(|r| line.get(r)).and_then(process_name);
                self.pairer.event(
                    Event {
                        line: line_no,
                        text: line.to_owned(),
                        tid: Some(f.tid),
                        process,
                        dir: Some(f.dir),
                        name: f.name,
                        info: f.info,
                    },
                    out,
                );
            }
            None => self.pairer.text(line_no, line, out),
        }
    }

    fn finish(&mut self, out: &mut Vec<Record>) {
        self.pairer.finish(out);
    }
}

/// Parser for `sysdig -j`: one JSON object per line.
///
/// The record's text is not the JSON but the event rendered in sysdig's
/// default text layout, `evt.num time evt.cpu [container.name (container.id)]
/// proc.name (thread.tid[:thread.vtid]) evt.dir evt.type evt.info`. The time
/// is `evt.outputtime` (else `evt.time`, `evt.rawtime` or `evt.datetime`);
/// epoch nanoseconds, what `-j` gives, are written as seconds with nine
/// decimals, as `-ta` prints them. Control characters become blanks, and a
/// field the JSON does not have is left out. So a JSON capture reads like, and normalizes like, the
/// text capture of the same events, while records keep the JSON line numbers.
/// `evt.args` stands in for a missing `evt.info`. Lines that are not JSON
/// objects with a string `evt.type` (including the `[` and `]` lines of old
/// sysdig versions, which also ended each object with a comma, tolerated here)
/// are [`Kind::Text`] records of the line as it is.
#[derive(Debug, Default)]
pub struct SysdigJsonParser {
    pairer: Pairer,
}

impl Parser for SysdigJsonParser {
    fn push(&mut self, line_no: u64, line: &str, out: &mut Vec<Record>) {
        if line.trim().is_empty() {
            return;
        }
        match json_object(json_body(line)).and_then(|map| render_json(line_no, &map)) {
            Some(event) => self.pairer.event(event, out),
            None => self.pairer.text(line_no, line, out),
        }
    }

    fn finish(&mut self, out: &mut Vec<Record>) {
        self.pairer.finish(out);
    }
}

/// Event direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    Enter,
    Exit,
}

/// Where the parts of one event line are.
#[derive(Debug, PartialEq, Eq)]
struct Fields {
    tid: u32,
    /// The process name column; `None` when the layout has none.
    process: Option<Range<usize>>,
    dir: Dir,
    name: Range<usize>,
    /// The parameters, up to the end of the line without trailing blanks; may be empty.
    info: Range<usize>,
}

/// One event, whatever layout it came in, ready for pairing.
#[derive(Debug)]
struct Event {
    line: u64,
    text: String,
    tid: Option<u32>,
    process: Option<String>,
    /// `None` when a JSON event has no direction: it is never paired.
    dir: Option<Dir>,
    name: Range<usize>,
    info: Range<usize>,
}

fn parse_line(b: &[u8]) -> Option<Fields> {
    let end = trim_end(b, 0, b.len());
    let first = digits_end(b, 0, end);
    if first == 0 || first >= end || b[first] != b' ' {
        return None;
    }
    let second = first + 1;
    let second_end = token_end(b, second, end);
    if second_end > second && b[second..second_end].iter().all(u8::is_ascii_digit) {
        return (first >= MIN_RAWTIME_DIGITS)
            .then(|| lidds_2021(b, second_end, end))
            .flatten();
    }
    if !is_time(&b[second..second_end]) || second_end >= end {
        return None;
    }
    let cpu = second_end + 1;
    let cpu_end = digits_end(b, cpu, end);
    if cpu_end == cpu || cpu_end >= end || b[cpu_end] != b' ' {
        return None;
    }
    default_layout(b, cpu_end + 1, end).or_else(|| lidds_2019(b, cpu_end + 1, end))
}

/// `… NAME (TID) DIR TYPE INFO` after the CPU column, where `(TID)` may be
/// `(PID.TID)` (terminal) or `(TID:VTID)` (container formats, whose name
/// column is `CONTAINER (ID) NAME`).
fn default_layout(b: &[u8], from: usize, end: usize) -> Option<Fields> {
    let mut i = from;
    // The thread column is the first `(…) > ` or `(…) < ` with a thread id
    // inside; a process name may hold parentheses, so keep looking past others.
    while let Some(p) = memchr(b')', &b[i..end]) {
        let close = i + p;
        i = close + 1;
        if !(close + 3 < end && b[close + 1] == b' ' && matches!(b[close + 2], b'<' | b'>') && b[close + 3] == b' ') {
            continue;
        }
        let Some(open) = memrchr(b'(', &b[from..close]).map(|q| from + q) else {
            continue;
        };
        if open == from || b[open - 1] != b' ' {
            continue;
        }
        let Some((tid, vtid)) = thread_column(&b[open + 1..close]) else {
            continue;
        };
        let Some((name, info)) = type_and_info(b, close + 4, end) else {
            continue;
        };
        let mut process = from..open - 1;
        if vtid {
            process = strip_container(b, process);
        }
        return Some(Fields {
            tid,
            process: Some(process),
            dir: dir_of(b[close + 2]),
            name,
            info,
        });
    }
    None
}

/// The thread id in `TID`, `PID.TID` or `TID:VTID` (`VTID` may be `<NA>`), and
/// whether it was the container form.
fn thread_column(inner: &[u8]) -> Option<(u32, bool)> {
    let d = digits_end(inner, 0, inner.len());
    if d == 0 {
        return None;
    }
    if d == inner.len() {
        return Some((parse_u32(inner)?, false));
    }
    let rest = &inner[d + 1..];
    let rest_is_number = !rest.is_empty() && rest.iter().all(u8::is_ascii_digit);
    match inner[d] {
        b'.' if rest_is_number => Some((parse_u32(rest)?, false)),
        b':' if rest_is_number || rest == b"<NA>" => Some((parse_u32(&inner[..d])?, true)),
        _ => None,
    }
}

/// The process name part of `CONTAINER (ID) NAME`; the whole range when it has no container part.
fn strip_container(b: &[u8], r: Range<usize>) -> Range<usize> {
    let s = &b[r.clone()];
    let open = if s.first() == Some(&b'(') {
        Some(0)
    } else {
        memchr::memmem::find(s, b" (").map(|p| p + 1)
    };
    let Some(open) = open else {
        return r;
    };
    let Some(close) = memchr::memmem::find(&s[open..], b") ").map(|p| open + p) else {
        return r;
    };
    // A container id is one word (`host`, `<NA>`, twelve hex digits): no blanks.
    let id = &s[open + 1..close];
    if id.is_empty() || id.contains(&b' ') {
        return r;
    }
    r.start + close + 2..r.end
}

/// `TYPE[ INFO]` at `i`: the type range and the info range (empty at the end when there is none).
fn type_and_info(b: &[u8], i: usize, end: usize) -> Option<(Range<usize>, Range<usize>)> {
    let type_end = word_end(b, i, end);
    if type_end == i {
        return None;
    }
    if type_end == end {
        return Some((i..type_end, end..end));
    }
    (b[type_end] == b' ').then(|| (i..type_end, type_end + 1..end))
}

/// LID-DS 2021, after the raw time and uid: ` PID NAME TID TYPE DIR[ ARGS]`.
fn lidds_2021(b: &[u8], uid_end: usize, end: usize) -> Option<Fields> {
    if uid_end >= end || b[uid_end] != b' ' {
        return None;
    }
    let pid = uid_end + 1;
    let pid_end = digits_end(b, pid, end);
    if pid_end == pid || pid_end >= end || b[pid_end] != b' ' {
        return None;
    }
    let name_start = pid_end + 1;
    // The name may hold blanks: it ends before the first ` TID TYPE DIR` that fits.
    let mut i = name_start + 1;
    while i < end {
        let sp = i + memchr(b' ', &b[i..end])?;
        i = sp + 1;
        let tid = sp + 1;
        let tid_end = digits_end(b, tid, end);
        if tid_end == tid || tid_end >= end || b[tid_end] != b' ' {
            continue;
        }
        let ty = tid_end + 1;
        let ty_end = word_end(b, ty, end);
        if ty_end == ty || ty_end + 1 >= end || b[ty_end] != b' ' || !matches!(b[ty_end + 1], b'<' | b'>') {
            continue;
        }
        let dir_end = ty_end + 2;
        let info = if dir_end == end {
            end..end
        } else if b[dir_end] == b' ' {
            dir_end + 1..end
        } else {
            continue;
        };
        return Some(Fields {
            tid: parse_u32(&b[tid..tid_end])?,
            process: Some(name_start..sp),
            dir: dir_of(b[ty_end + 1]),
            name: ty..ty_end,
            info,
        });
    }
    None
}

/// LID-DS 2019, after the CPU column: `UID NAME TID DIR TYPE[ ARGS]`.
fn lidds_2019(b: &[u8], from: usize, end: usize) -> Option<Fields> {
    let uid_end = digits_end(b, from, end);
    if uid_end == from || uid_end >= end || b[uid_end] != b' ' {
        return None;
    }
    let name_start = uid_end + 1;
    let mut i = name_start + 1;
    while i < end {
        let sp = i + memchr(b' ', &b[i..end])?;
        i = sp + 1;
        let tid = sp + 1;
        let tid_end = digits_end(b, tid, end);
        if tid_end == tid || tid_end + 3 >= end || b[tid_end] != b' ' {
            continue;
        }
        if !matches!(b[tid_end + 1], b'<' | b'>') || b[tid_end + 2] != b' ' {
            continue;
        }
        let Some((name, info)) = type_and_info(b, tid_end + 3, end) else {
            continue;
        };
        return Some(Fields {
            tid: parse_u32(&b[tid..tid_end])?,
            process: Some(name_start..sp),
            dir: dir_of(b[tid_end + 1]),
            name,
            info,
        });
    }
    None
}

fn dir_of(c: u8) -> Dir {
    if c == b'>' {
        Dir::Enter
    } else {
        Dir::Exit
    }
}

/// A process name worth keeping: sysdig writes `<NA>` when it has none.
fn process_name(name: &str) -> Option<String> {
    (!name.is_empty() && name != "<NA>").then(|| name.to_owned())
}

/// A time column: digits with `.` or `:` (`17:35:48.514632619`, `1533943853.939056`).
fn is_time(tok: &[u8]) -> bool {
    tok.first().is_some_and(u8::is_ascii_digit)
        && tok.iter().all(|&c| c.is_ascii_digit() || c == b'.' || c == b':')
        && tok.iter().any(|&c| c == b'.' || c == b':')
}

fn token_end(b: &[u8], i: usize, end: usize) -> usize {
    memchr(b' ', &b[i..end]).map_or(end, |p| i + p)
}

/// The JSON text of a line: trimmed, without the comma old sysdig versions put after each object.
fn json_body(line: &str) -> &str {
    let s = line.trim();
    s.strip_suffix(',').map_or(s, str::trim_end)
}

fn json_object(s: &str) -> Option<Map<String, Value>> {
    if !s.starts_with('{') {
        return None;
    }
    serde_json::from_str(s).ok()
}

/// Render a `sysdig -j` event in the default text layout (see [`SysdigJsonParser`]).
fn render_json(line: u64, map: &Map<String, Value>) -> Option<Event> {
    let kind = map.get("evt.type")?.as_str()?;
    if kind.is_empty() {
        return None;
    }
    let mut text = String::new();
    let time = ["evt.outputtime", "evt.time", "evt.rawtime", "evt.datetime"]
        .iter()
        .find_map(|k| map.get(*k));
    if let Some(num) = map.get("evt.num") {
        push_value(num, &mut text);
        text.push(' ');
    }
    if let Some(time) = time {
        push_time(time, &mut text);
        text.push(' ');
    }
    if let Some(cpu) = map.get("evt.cpu") {
        push_value(cpu, &mut text);
        text.push(' ');
    }
    if let (Some(name), Some(id)) = (map.get("container.name"), map.get("container.id")) {
        push_value(name, &mut text);
        text.push_str(" (");
        push_value(id, &mut text);
        text.push_str(") ");
    }
    let process_start = text.len();
    match map.get("proc.name") {
        Some(v) => push_value(v, &mut text),
        None => text.push_str("<NA>"),
    }
    let process = process_name(&text[process_start..]);
    let tid = map.get("thread.tid").and_then(value_u32);
    text.push_str(" (");
    match map.get("thread.tid") {
        Some(v) => push_value(v, &mut text),
        None => text.push_str("<NA>"),
    }
    if let Some(vtid) = map.get("thread.vtid") {
        text.push(':');
        push_value(vtid, &mut text);
    }
    text.push_str(") ");
    let dir = match map.get("evt.dir").and_then(Value::as_str) {
        Some(">") => Some(Dir::Enter),
        Some("<") => Some(Dir::Exit),
        _ => None,
    };
    if let Some(d) = dir {
        text.push_str(if d == Dir::Enter { "> " } else { "< " });
    }
    let name_start = text.len();
    push_clean(kind, &mut text);
    let name = name_start..text.len();
    let info = map
        .get("evt.info")
        .or_else(|| map.get("evt.args"))
        .and_then(Value::as_str)
        .map_or("", str::trim);
    let info = if info.is_empty() {
        text.len()..text.len()
    } else {
        text.push(' ');
        let start = text.len();
        push_clean(info, &mut text);
        start..text.len()
    };
    Some(Event {
        line,
        text,
        tid,
        process,
        dir,
        name,
        info,
    })
}

/// A time column: `-j` gives epoch nanoseconds, written here as seconds with
/// nine decimals (sysdig's `-ta` form) so the rendering reads as sysdig text.
fn push_time(v: &Value, out: &mut String) {
    match v.as_u64() {
        Some(ns) if ns >= 1_000_000_000 => {
            out.push_str(&format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000));
        }
        _ => push_value(v, out),
    }
}

fn push_value(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => push_clean(s, out),
        Value::Null => out.push_str("<NA>"),
        other => out.push_str(&other.to_string()),
    }
}

/// Append `s` with control characters (newlines in a data buffer) as blanks, so a record stays one line.
fn push_clean(s: &str, out: &mut String) {
    if s.chars().any(char::is_control) {
        out.extend(s.chars().map(|c| if c.is_control() { ' ' } else { c }));
    } else {
        out.push_str(s);
    }
}

fn value_u32(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => parse_u32(s.as_bytes()),
        _ => None,
    }
}

/// How an enter event relates to the exit that may follow.
#[derive(Debug, PartialEq, Eq)]
enum Enter {
    /// A system call: wait for its exit.
    Call,
    /// A call that never returns: a record at once, and the thread's previous call is over.
    NoReturn,
    /// An event with no exit (scheduler, signals, page faults, sysdig's own
    /// events): a record at once, leaving the thread's call waiting.
    Alone,
}

fn enter_kind(name: &str) -> Enter {
    match name {
        "exit" | "exit_group" => Enter::NoReturn,
        "switch" | "procexit" | "signaldeliver" | "page_fault" | "notification" | "infra" | "container"
        | "cpu_hotplug" | "k8s" | "mesos" | "useradded" | "userdeleted" | "groupadded" | "groupdeleted"
        | "sysdigevent" | "pluginevent" | "procinfo" | "asyncevent" | "drop" => Enter::Alone,
        _ => Enter::Call,
    }
}

/// Joins enter and exit events into records, keeping records in line order.
#[derive(Debug, Default)]
struct Pairer {
    /// Records not yet released, in line order, behind the enters waiting for
    /// their exits, one at most for each thread.
    queue: HoldBack<u32, Waiting, MAX_HELD>,
}

#[derive(Debug)]
struct Waiting {
    /// End of the enter line without trailing blanks: where the exit line is joined.
    head_end: usize,
}

impl Pairer {
    fn text(&mut self, line: u64, text: &str, out: &mut Vec<Record>) {
        let record = Record {
            line,
            text: text.to_owned(),
            pid: None,
            process: None,
            kind: Kind::Text,
        };
        self.emit(record, out);
    }

    fn event(&mut self, event: Event, out: &mut Vec<Record>) {
        let (Some(tid), Some(dir)) = (event.tid, event.dir) else {
            return self.emit(single(event), out);
        };
        let kind = enter_kind(event.text.get(event.name.clone()).unwrap_or(""));
        if dir == Dir::Exit {
            // sysdig's own events (`< drop`) come in the middle of anything.
            let alone = if kind == Enter::Alone {
                Some(event)
            } else {
                self.try_join(tid, event, out)
            };
            if let Some(event) = alone {
                self.emit(single(event), out);
            }
            return;
        }
        // A thread entering a call has left its previous one, and so has a thread that ended.
        let ends_wait = kind != Enter::Alone || event.text.get(event.name.clone()) == Some("procexit");
        if ends_wait {
            self.give_up(tid, out);
        }
        if kind != Enter::Call {
            return self.emit(single(event), out);
        }
        let head_end = event.info.end;
        self.queue.push_waiting(tid, single(event), Waiting { head_end }, out);
    }

    fn finish(&mut self, out: &mut Vec<Record>) {
        self.queue.finish(out);
    }

    /// Release `record` now if nothing older is waiting, else queue it behind.
    fn emit(&mut self, record: Record, out: &mut Vec<Record>) {
        self.queue.push(record, out);
    }

    /// Join an exit to the waiting enter of the same thread and type. Gives
    /// the exit back when there is no such enter; it is then a record of its own.
    fn try_join(&mut self, tid: u32, exit: Event, out: &mut Vec<Record>) -> Option<Event> {
        let Some((enter, _)) = self.queue.waiting(&tid) else {
            return Some(exit);
        };
        let same_call = match &enter.kind {
            Kind::Event { name, args, .. } if enter.text.get(name.clone()) == exit.text.get(exit.name.clone()) => {
                Some((name.clone(), args.clone()))
            }
            _ => None,
        };
        let Some((name, args)) = same_call else {
            // The waiting enter is of another call, whose exit will not come now.
            self.give_up(tid, out);
            return Some(exit);
        };
        self.queue.complete(&tid, out, |record, waiting| {
            let exit_end = trim_end(exit.text.as_bytes(), 0, exit.text.len());
            record.text.truncate(waiting.head_end);
            record.text.push_str(PAIR_SEPARATOR);
            let offset = record.text.len();
            record.text.push_str(&exit.text[..exit_end]);
            let result = offset + exit.info.start.min(exit_end)..offset + exit.info.end.min(exit_end);
            record.kind = Kind::Event {
                name,
                args,
                result,
                dialect: DIALECT,
            };
            if record.process.is_none() {
                record.process = exit.process;
            }
        });
        None
    }

    /// Stop waiting for the exit of `tid`'s call: release its enter as it is.
    fn give_up(&mut self, tid: u32, out: &mut Vec<Record>) {
        self.queue.release(&tid, out);
    }
}

/// The record of one event alone: an enter's parameters are its args, an exit's its result.
fn single(event: Event) -> Record {
    let len = event.text.len();
    let (args, result) = match event.dir {
        Some(Dir::Exit) => (event.info.start..event.info.start, event.info),
        _ => (event.info, len..len),
    };
    Record {
        line: event.line,
        text: event.text,
        pid: event.tid,
        process: event.process,
        kind: Kind::Event {
            name: event.name,
            args,
            result,
            dialect: DIALECT,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::key_of;
    use crate::parse::testing::{assert_well_formed, parse_all};
    use crate::parse::{detect, Format};
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn parse(input: &str) -> Vec<Record> {
        parse_all(SysdigParser::default(), input)
    }

    fn parse_json(input: &str) -> Vec<Record> {
        parse_all(SysdigJsonParser::default(), input)
    }

    /// Name, args and result of an event record.
    fn parts(r: &Record) -> (&str, &str, &str) {
        match &r.kind {
            Kind::Event {
                name,
                args,
                result,
                dialect,
            } if *dialect == DIALECT => (&r.text[name.clone()], &r.text[args.clone()], &r.text[result.clone()]),
            other => panic!("line {}: not a sysdig event: {other:?} in {:?}", r.line, r.text),
        }
    }

    fn type_of(r: &Record) -> &str {
        parts(r).0
    }

    fn at(records: &[Record], line: u64) -> &Record {
        records
            .iter()
            .find(|r| r.line == line)
            .unwrap_or_else(|| panic!("no record for line {line}"))
    }

    fn joined(r: &Record) -> bool {
        r.text.contains(PAIR_SEPARATOR)
    }

    /// Invariants that hold for any input: line order, ranges on char boundaries.
    fn check_wellformed(records: &[Record]) {
        assert_well_formed(records);
        for r in records {
            if let Kind::Event { name, .. } = &r.kind {
                assert!(!name.is_empty(), "empty name in {:?}", r.text);
            }
        }
    }

    /// Checks shared by every capture of event lines; returns the records.
    fn check_capture(records: &[Record], lines: &[&str]) {
        check_wellformed(records);
        let non_blank = lines.iter().filter(|l| !l.trim().is_empty()).count();
        let pairs = records.iter().filter(|r| joined(r)).count();
        assert_eq!(
            records.len() + pairs,
            non_blank,
            "every line is a record or a joined exit"
        );
        for r in records {
            let (name, args, result) = parts(r);
            let enter = lines[(r.line - 1) as usize];
            if joined(r) {
                let (head, tail) = r.text.split_once(PAIR_SEPARATOR).unwrap_or_default();
                assert_eq!(head, enter.trim_end());
                assert!(lines.iter().any(|l| l.trim_end() == tail), "exit line {tail:?}");
                assert!(head.contains(&format!(" > {name}")) || head.contains(&format!(" {name} >")));
                assert!(tail.contains(&format!(" < {name}")) || tail.contains(&format!(" {name} <")));
                assert!(args.len() <= head.len() && result.len() <= tail.len());
            } else {
                assert_eq!(r.text, enter, "a lone event is its line as is");
            }
        }
    }

    fn shared_dir() -> PathBuf {
        std::env::var_os("HONK_SYSDIG_CAPTURES").map_or_else(
            || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/sysdig-captures")),
            PathBuf::from,
        )
    }

    /// A shared capture, or `None` (with the reason printed) when it is not there.
    fn shared(file: &str) -> Option<String> {
        let path = shared_dir().join(file);
        match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) => {
                crate::testing::skip(&format!("cannot read {}: {e}", path.display()));
                None
            }
        }
    }

    const TTY: &str = include_str!("../../../tests/fixtures/sysdig/tty.txt");
    const CONTAINER: &str = include_str!("../../../tests/fixtures/sysdig/container-pc.txt");
    const LIDDS_2021: &str = include_str!("../../../tests/fixtures/sysdig/lidds-2021.sc");
    const LIDDS_2019: &str = include_str!("../../../tests/fixtures/sysdig/lidds-2019.txt");

    #[test]
    fn real_text_capture() {
        let Some(input) = shared("curl_google.txt") else {
            return;
        };
        let lines: Vec<&str> = input.lines().collect();
        assert_eq!(detect(input.lines()), Format::Sysdig);
        assert!(lines.iter().all(|l| looks_like_sysdig(l)));
        let records = parse(&input);
        check_capture(&records, &lines);
        assert!(
            records.iter().all(|r| r.kind != Kind::Text),
            "every line of the capture is an event"
        );
        assert!(records.iter().all(|r| r.process.as_deref() == Some("curl")));
        assert!(records.iter().all(|r| matches!(r.pid, Some(17497 | 17498))));
        let pairs = records.iter().filter(|r| joined(r)).count();
        // 1,221 events, all joined in pairs but 31: the 25 switches, the 2
        // procexits, exit and exit_group, which have no exit event, and the
        // exits of the execve that started before the capture and of the
        // child's side of clone.
        assert_eq!(pairs, 595);
        let alone: Vec<&str> = records.iter().filter(|r| !joined(r)).map(type_of).collect();
        assert_eq!(alone.iter().filter(|&&n| n == "switch").count(), 25);
        let mut others: Vec<&str> = alone.into_iter().filter(|&n| n != "switch").collect();
        others.sort_unstable();
        assert_eq!(
            others,
            ["clone", "execve", "exit", "exit_group", "procexit", "procexit"]
        );
        assert_eq!(records.len(), 626);

        // `218 … > open` and `219 … < open fd=3(<f>/etc/ld.so.cache) name=… flags=4097(O_RDONLY|O_CLOEXEC) mode=0`.
        let r = at(&records, 8);
        assert_eq!((r.pid, r.process.as_deref()), (Some(17497), Some("curl")));
        assert_eq!(
            parts(r),
            (
                "open",
                "",
                "fd=3(<f>/etc/ld.so.cache) name=/etc/ld.so.cache flags=4097(O_RDONLY|O_CLOEXEC) mode=0"
            )
        );
        assert_eq!(
            key_of(r),
            "open /etc/ld.so.cache /etc/ld.so.cache etc ld.so.cache O_RDONLY O_CLOEXEC"
        );
        assert_eq!(
            r.text,
            "218 17:35:48.514678274 0 curl (17497) > open ⏎ 219 17:35:48.514682170 0 curl (17497) < open fd=3(<f>/etc/ld.so.cache) name=/etc/ld.so.cache flags=4097(O_RDONLY|O_CLOEXEC) mode=0"
        );
        let r = at(&records, 4);
        assert_eq!(
            parts(r),
            ("access", "mode=0(F_OK)", "res=-2(ENOENT) name=/etc/ld.so.nohwcap")
        );
        assert_eq!(
            key_of(r),
            "access F_OK ENOENT /etc/ld.so.nohwcap /etc/ld.so.nohwcap etc ld.so.nohwcap"
        );
        // The capture starts inside curl's execve: its exit stands alone.
        let r = at(&records, 1);
        assert!(!joined(r));
        let (name, args, result) = parts(r);
        assert_eq!((name, args), ("execve", ""));
        assert!(result.starts_with("res=0 exe=curl args=-6.http://www.google.com. "));
        assert_eq!(
            key_of(r),
            "execve curl http://www.google.com parent=bash cwd=/home/ubuntu"
        );
        // The HTTP connection: `> connect fd=4(<6>)`, `< connect res=-115(EINPROGRESS) tuple=…:37140->…:80`.
        let connect = records
            .iter()
            .find(|r| type_of(r) == "connect" && r.text.contains("EINPROGRESS"))
            .unwrap_or_else(|| panic!("no connect"));
        assert_eq!((connect.line, connect.pid), (1062, Some(17497)));
        assert_eq!(
            key_of(connect),
            "connect ipv6 EINPROGRESS 2600:1f18:262c:6542:9aa6:df7a:9a47:d29e 2607:f8b0:4004:802::2004 port=80"
        );
        // The resolver thread asks nscd first.
        let r = at(&records, 846);
        assert_eq!((type_of(r), r.pid), ("connect", Some(17498)));
        assert_eq!(
            key_of(r),
            "connect unix ENOENT /var/run/nscd/socket /var/run/nscd/socket var run nscd socket"
        );
        // The child's side of clone has no enter in its thread.
        let r = at(&records, 841);
        assert_eq!((type_of(r), r.pid, joined(r)), ("clone", Some(17498), false));
        assert!(parts(r).2.starts_with("res=0 "));
        // Five scheduler switches come between `> write` and `< write`; they do not end the wait.
        let r = at(&records, 1138);
        assert_eq!(parts(r).0, "write");
        assert!(parts(r).2.starts_with("res=5120 data=<!doctype html>"));
        for line in 1139..=1142 {
            assert_eq!(type_of(at(&records, line)), "switch");
        }
        assert!(
            !records.iter().any(|r| r.line == 1143),
            "the exit is joined to line 1138"
        );
        // The DNS query and answer.
        let r = records
            .iter()
            .find(|r| type_of(r) == "recvfrom" && r.pid == Some(17498))
            .unwrap_or_else(|| panic!("no recvfrom"));
        assert_eq!(
            key_of(r),
            "recvfrom UDPv6 2600:1f18:262c:6542:9aa6:df7a:9a47:d29e 2001:4860:4860::8888 port=53 www google com"
        );
    }

    #[test]
    fn real_json_capture_matches_text() {
        let (Some(text), Some(json)) = (shared("curl_google.txt"), shared("curl_google.jsonl")) else {
            return;
        };
        assert_eq!(detect(json.lines()), Format::SysdigJson);
        assert!(json.lines().all(looks_like_sysdig_json));
        assert!(!json.lines().any(looks_like_sysdig));
        let from_text = parse(&text);
        let from_json = parse_json(&json);
        check_wellformed(&from_json);
        assert!(from_json.iter().all(|r| r.kind != Kind::Text));
        assert_eq!(from_json.len(), from_text.len());
        let shape = |r: &Record| (r.line, type_of(r).to_owned(), r.pid, r.process.clone(), joined(r));
        assert_eq!(
            from_json.iter().map(shape).collect::<Vec<_>>(),
            from_text.iter().map(shape).collect::<Vec<_>>()
        );
        // The JSON is rendered in the text layout; only the time column (the
        // JSON has epoch nanoseconds) and sysdig's cut of long values differ.
        let r = at(&from_json, 8);
        assert_eq!(
            r.text,
            "218 1534527348.514678274 0 curl (17497) > open ⏎ 219 1534527348.514682170 0 curl (17497) < open fd=3(<f>/etc/ld.so.cache) name=/etc/ld.so.cache flags=4097(O_RDONLY|O_CLOEXEC) mode=0"
        );
        assert!(from_json
            .iter()
            .all(|r| looks_like_sysdig(r.text.split(PAIR_SEPARATOR).next().unwrap_or(""))));
        let same_keys = from_json
            .iter()
            .zip(&from_text)
            .filter(|(j, t)| key_of(j) == key_of(t))
            .count();
        assert!(
            same_keys * 100 >= from_text.len() * 98,
            "{same_keys} of {} keys agree",
            from_text.len()
        );
    }

    #[test]
    fn real_ipv6_capture() {
        let Some(input) = shared("single_ipv6_conn.txt") else {
            return;
        };
        let lines: Vec<&str> = input.lines().collect();
        assert_eq!(detect(input.lines()), Format::Sysdig);
        let records = parse(&input);
        check_capture(&records, &lines);
        assert!(
            records.iter().all(|r| r.process.is_none()),
            "sysdig knew no names: <NA>"
        );
        assert_eq!(records.len(), 14, "all 28 events joined");
        // The server's accept (line 7) returns on line 20, after the client's socket, bind and connect.
        let accept = at(&records, 7);
        assert_eq!((type_of(accept), accept.pid), ("accept", Some(25886)));
        assert_eq!(key_of(accept), "accept TCPv6 2001:db8::4 2001:db8::3 port=1234");
        assert_eq!(
            records.iter().map(|r| r.line).collect::<Vec<_>>(),
            [1, 3, 5, 7, 8, 10, 12, 14, 16, 18, 20, 23, 25, 27]
        );
        let r = at(&records, 5);
        assert_eq!(key_of(r), "listen TCPv6 2001:db8::3 port=1234");
        let r = at(&records, 23);
        assert_eq!(key_of(r), "write TCPv6 2001:db8::4 2001:db8::3 port=1234 this is test");
    }

    /// Render the shared `.scap` captures with sysdig in the other layouts and
    /// check they parse to the same calls as the default text.
    #[test]
    fn real_captures_in_other_layouts() {
        let scap = shared_dir().join("curl_google.scap");
        let (Some(text), true) = (shared("curl_google.txt"), scap.exists()) else {
            return;
        };
        let render = |args: &[&str]| -> Option<String> {
            let out = std::process::Command::new("sysdig")
                .arg("-r")
                .arg(&scap)
                .args(args)
                .output();
            match out {
                Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
                Ok(out) => {
                    crate::testing::skip(&format!("sysdig failed: {}", String::from_utf8_lossy(&out.stderr)));
                    None
                }
                Err(e) => {
                    crate::testing::skip(&format!("cannot run sysdig: {e}"));
                    None
                }
            }
        };
        let shape = |r: &Record| (r.line, type_of(r).to_owned(), r.pid, r.process.clone(), joined(r));
        let default: Vec<_> = parse(&text).iter().map(shape).collect();
        let tty = "*%evt.num %evt.outputtime %evt.cpu %proc.name (%proc.pid.%thread.tid) %evt.dir %evt.type %evt.info";
        for args in [
            &["-p", tty][..],
            &["-pc"],
            &["-pk"],
            &[
                "-p",
                "%evt.num %evt.time %evt.cpu %user.uid %proc.name %thread.tid %evt.dir %evt.type %evt.args",
            ],
        ] {
            let Some(output) = render(args) else {
                return;
            };
            assert_eq!(detect(output.lines()), Format::Sysdig, "{args:?}");
            let lines: Vec<&str> = output.lines().collect();
            let records = parse(&output);
            check_capture(&records, &lines);
            assert_eq!(records.iter().map(shape).collect::<Vec<_>>(), default, "{args:?}");
        }
        // LID-DS 2021 as its recorder writes it: no switch events, buffers in base64.
        let lidds = "%evt.rawtime %user.uid %proc.pid %proc.name %thread.tid %syscall.type %evt.dir %evt.args";
        let Some(output) = render(&["-v", "-b", "-p", lidds, "proc.pid != -1"]) else {
            return;
        };
        assert_eq!(detect(output.lines()), Format::Sysdig);
        let lines: Vec<&str> = output.lines().collect();
        let records = parse(&output);
        check_capture(&records, &lines);
        let calls = |records: &[Record]| -> Vec<(String, Option<u32>)> {
            records
                .iter()
                .filter(|r| type_of(r) != "switch")
                .map(|r| (type_of(r).to_owned(), r.pid))
                .collect()
        };
        assert_eq!(calls(&records), calls(&parse(&text)));
        // Decoded, the base64 argv reads like the dotted one.
        assert_eq!(
            key_of(&records[0]),
            "execve curl http://www.google.com parent=bash cwd=/home/ubuntu"
        );
        let elf = records
            .iter()
            .filter(|r| type_of(r) == "read" && key_of(r).ends_with(" ELF"))
            .count();
        assert!(elf >= 30, "{elf} ELF headers read");
    }

    #[test]
    fn tty_fixture() {
        let lines: Vec<&str> = TTY.lines().collect();
        assert_eq!(detect(TTY.lines()), Format::Sysdig);
        let records = parse(TTY);
        check_capture(&records, &lines);
        assert_eq!(
            records.iter().map(|r| r.line).collect::<Vec<_>>(),
            [1, 2, 4, 7, 9, 10, 11, 14, 16]
        );
        let r = at(&records, 1);
        assert_eq!(
            (parts(r), r.pid),
            (("epoll_wait", "maxevents=512", "res=1"), Some(1200))
        );
        let r = at(&records, 2);
        assert_eq!((r.pid, r.process.as_deref()), (Some(1203), Some("nginx")));
        assert_eq!(key_of(r), "accept4 TCP 10.0.0.5 10.0.0.2 port=80");
        assert_eq!(
            key_of(at(&records, 4)),
            "recvfrom TCP 10.0.0.5 10.0.0.2 port=80 GET index html"
        );
        // A switch in the middle of a call is a record of its own; sendfile still joins.
        assert_eq!(parts(at(&records, 9)).0, "switch");
        assert_eq!(parts(at(&records, 10)).2, "res=612 offset=612");
        let r = at(&records, 11);
        assert_eq!(
            (r.pid, r.process.as_deref(), type_of(r)),
            (Some(2214), Some("Web Content"), "read")
        );
        assert_eq!(key_of(r), "read pipe");
        assert_eq!(
            key_of(at(&records, 16)),
            "openat AT_FDCWD /var/www/html/.htpasswd /var/www/html/.htpasswd var www html .htpasswd O_RDONLY EACCES"
        );
    }

    #[test]
    fn container_fixture() {
        let lines: Vec<&str> = CONTAINER.lines().collect();
        assert_eq!(detect(CONTAINER.lines()), Format::Sysdig);
        let records = parse(CONTAINER);
        check_capture(&records, &lines);
        let r = at(&records, 1);
        // execve renames the process: the record keeps the name it was called under.
        assert_eq!(
            (type_of(r), r.pid, r.process.as_deref()),
            ("execve", Some(4100), Some("php-fpm"))
        );
        assert_eq!(
            key_of(r),
            "execve /bin/sh /bin/sh sh -c cat /etc/passwd /etc/passwd etc passwd parent=php-fpm cwd=/var/www/html"
        );
        let r = at(&records, 3);
        assert_eq!(
            (type_of(r), r.pid, r.process.as_deref()),
            ("futex", Some(900), Some("dockerd"))
        );
        assert_eq!(parts(r).2, "res=0");
        assert_eq!(
            key_of(at(&records, 6)),
            "read /etc/passwd /etc/passwd etc passwd root root root"
        );
        let r = at(&records, 9);
        assert_eq!((type_of(r), joined(r)), ("exit_group", false));
        assert_eq!(key_of(at(&records, 10)), "procexit status=0");
        let r = at(&records, 11);
        assert_eq!((r.pid, r.process.as_deref()), (Some(5120), Some("node")));
        assert_eq!(key_of(r), "connect ipv4 10.244.1.7 10.96.0.10 port=53");
        let r = at(&records, 13);
        assert_eq!((r.pid, r.process.as_deref()), (Some(25886), None));
        assert_eq!(key_of(r), "socket AF_INET6 type=1 proto=6 ipv6");
    }

    #[test]
    fn lidds_2021_fixture() {
        let lines: Vec<&str> = LIDDS_2021.lines().collect();
        assert_eq!(detect(LIDDS_2021.lines()), Format::Sysdig);
        let records = parse(LIDDS_2021);
        check_capture(&records, &lines);
        assert_eq!(
            records.iter().map(|r| r.line).collect::<Vec<_>>(),
            [1, 3, 5, 6, 8, 10, 12, 14, 15]
        );
        assert_eq!(key_of(at(&records, 1)), "accept4 TCP 172.17.0.1 172.17.0.2 port=80");
        assert_eq!(
            key_of(at(&records, 3)),
            "read TCP 172.17.0.1 172.17.0.2 port=80 GET index php"
        );
        // The child's clone exit (thread 29100) comes before the parent's (line 7), which joins line 5.
        let r = at(&records, 6);
        assert_eq!((type_of(r), r.pid, joined(r)), ("clone", Some(29100), false));
        assert_eq!(key_of(r), "clone CLONE_CHILD_CLEARTID CLONE_CHILD_SETTID");
        assert!(at(&records, 5).text.contains("res=29100(apache2)"));
        let r = at(&records, 8);
        assert_eq!((r.pid, r.process.as_deref()), (Some(29100), Some("apache2")));
        assert_eq!(
            key_of(r),
            "execve /bin/sh /bin/sh sh -c id parent=apache2 cwd=/var/www/html"
        );
        assert_eq!(key_of(at(&records, 10)), "read /usr/bin/id /usr/bin/id usr bin id ELF");
        assert_eq!(key_of(at(&records, 12)), "write pipe uid www data");
    }

    #[test]
    fn lidds_2019_fixture() {
        let lines: Vec<&str> = LIDDS_2019.lines().collect();
        assert_eq!(detect(LIDDS_2019.lines()), Format::Sysdig);
        let records = parse(LIDDS_2019);
        check_capture(&records, &lines);
        assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 3, 5, 6, 8, 11]);
        let r = at(&records, 1);
        assert_eq!((r.pid, r.process.as_deref()), (Some(12476), Some("apache2")));
        assert_eq!(key_of(r), "read TCP 172.17.0.1 172.17.0.3 port=80 POST dvwa login");
        assert_eq!(
            key_of(at(&records, 3)),
            "stat /var/www/html/dvwa/login.php /var/www/html/dvwa/login.php var www html dvwa login.php"
        );
        let r = at(&records, 5);
        assert_eq!(
            (type_of(r), r.pid, r.process.as_deref()),
            ("poll", Some(6213), Some("mysqld"))
        );
        assert_eq!(parts(r).2, "res=1 fds=11:41");
        assert_eq!(key_of(at(&records, 8)), "connect ipv4 172.17.0.3 172.17.0.4 port=3306");
        assert_eq!(
            key_of(at(&records, 11)),
            "accept TCP 0.0.0.0 port=3306 172.17.0.3 172.17.0.4"
        );
    }

    #[test]
    fn shapes_are_recognized() {
        let cases: &[(&str, u32, Option<&str>, &str)] = &[
            (
                "1 17:36:27.063538186 0 curl (18405) > openat fd=3 name=/etc/ld.so.cache",
                18405,
                Some("curl"),
                "openat",
            ),
            (
                "1 17:36:27.063538186 0 curl (18400.18405) < openat fd=3",
                18405,
                Some("curl"),
                "openat",
            ),
            (
                "849 1533943853.939056 1 <NA> (25886) < socket fd=3(<6>)",
                25886,
                None,
                "socket",
            ),
            (
                "849 0.000007188 1 <NA> (25886) < socket fd=3(<6>) ",
                25886,
                None,
                "socket",
            ),
            (
                "7 12:00:00.1 3 host (host) curl (17497:<NA>) > brk addr=0",
                17497,
                Some("curl"),
                "brk",
            ),
            (
                "7 12:00:00.1 3 web (3f2a9c1d7b6e) my proc (12:1) > brk",
                12,
                Some("my proc"),
                "brk",
            ),
            (
                "7 12:00:00.1 3 odd (name) (12) > getpid",
                12,
                Some("odd (name)"),
                "getpid",
            ),
            (
                "1631209047761484608 0 29092 apache2 29092 open < fd=9(<f>/proc/x) name=/proc/x",
                29092,
                Some("apache2"),
                "open",
            ),
            ("1631209047761484608 0 29092 <NA> 29093 brk >", 29093, None, "brk"),
            (
                "1631209047761484608 0 29092 Web Content 29093 read > fd=1",
                29093,
                Some("Web Content"),
                "read",
            ),
            (
                "1196 00:28:03.532118004 5 33 apache2 12476 > read fd=11 size=8000",
                12476,
                Some("apache2"),
                "read",
            ),
            (
                "1196 00:28:03.532118004 5 33 php fpm 12476 < stat",
                12476,
                Some("php fpm"),
                "stat",
            ),
        ];
        for &(line, tid, process, kind) in cases {
            assert!(looks_like_sysdig(line), "{line}");
            let records = parse(line);
            assert_eq!(records.len(), 1);
            let r = &records[0];
            assert_eq!(
                (r.pid, r.process.as_deref(), type_of(r)),
                (Some(tid), process, kind),
                "{line}"
            );
        }
    }

    #[test]
    fn other_logs_are_not_sysdig() {
        for line in [
            r#"openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3"#,
            "12345 openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3",
            "[pid  4567] 12:34:56.123456 read(3, \"\", 10) = 0 <0.000010>",
            "1700000000.123456 close(3) = 0",
            "Nov 28 02:08:30 vm sshd[1234]: Accepted publickey for root from 10.0.0.1 port 5555 ssh2",
            "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating",
            "081109 203615 148 INFO dfs.DataNode: 3 blocks > 2 limit",
            "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected",
            "1117838570 2005.06.03 R02-M1-N0-C:J12-U11 RAS KERNEL INFO (1) > a",
            r#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#,
            "6 6 63 6 42 120 6 195 120 6 6 114",
            "1234 5",
            "1 17:36:27.063538186 0 curl (18405) = openat",
            "1 17:36:27.063538186 0 curl (x) > openat",
            "1 17:36:27.063538186 curl (18405) > openat",
            "1 17:36:27 0 curl (18405) >",
            r#"{"evt.type":"open"}"#,
            "",
        ] {
            assert!(!looks_like_sysdig(line), "{line}");
        }
        for line in [
            r#"{"level":"info","msg":"started","ts":1700000000}"#,
            r#"{"evt.type":3}"#,
            r#"{"evt.typo":"open"}"#,
            r#"{"msg":"evt.type is \"evt.type\""}"#,
            r#"{"evt.type":"open""#,
            "[",
            "1 17:36:27.063538186 0 curl (18405) > openat",
        ] {
            assert!(!looks_like_sysdig_json(line), "{line}");
        }
        assert!(looks_like_sysdig_json(r#"  {"evt.type":"open","evt.dir":">"},"#));
    }

    #[test]
    fn interleaved_calls_come_out_in_line_order() {
        let input = "\
1 1.0 0 a (1) > read fd=0
2 1.1 0 b (2) > write fd=1

3 1.2 0 c (3) > getpid
4 1.3 0 c (3) < getpid res=3
5 1.4 0 b (2) < write res=1
6 1.5 0 a (1) < read res=1 data=x
";
        let mut parser = SysdigParser::default();
        let mut out = Vec::new();
        for (i, line) in input.lines().enumerate() {
            parser.push(i as u64 + 1, line, &mut out);
            if i < 5 {
                assert!(out.is_empty(), "held back behind line 1");
            }
        }
        assert_eq!(out.len(), 3, "released once the oldest call returned");
        parser.finish(&mut out);
        assert_eq!(out.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 2, 4]);
        assert_eq!(parts(&out[0]), ("read", "fd=0", "res=1 data=x"));
        assert_eq!(
            out[0].text,
            "1 1.0 0 a (1) > read fd=0 ⏎ 6 1.5 0 a (1) < read res=1 data=x"
        );
        assert_eq!(
            out[0].kind,
            Kind::Event {
                name: 16..20,
                args: 21..25,
                result: 51..63,
                dialect: DIALECT
            }
        );
        assert_eq!(parts(&out[2]), ("getpid", "", "res=3"));
    }

    #[test]
    fn unpaired_events_stand_alone() {
        let input = "\
1 1.0 0 a (1) < read res=0
2 1.1 0 a (1) > read fd=0
3 1.2 0 a (1) > close fd=0
4 1.3 0 a (1) < close res=0
5 1.4 0 a (1) > write fd=1
6 1.5 0 a (1) < read res=2
7 1.6 0 a (1) > nanosleep
8 1.7 0 a (1) > procexit status=9
9 1.8 0 a (1) < nanosleep res=0
10 1.9 0 b (2) > pause
11 2.0 0 b (2) < drop ratio=1
12 2.1 0 b (2) < pause res=-4(EINTR)
";
        let records = parse(input);
        check_wellformed(&records);
        let shapes: Vec<(u64, &str, bool)> = records.iter().map(|r| (r.line, type_of(r), joined(r))).collect();
        assert_eq!(
            shapes,
            [
                (1, "read", false),
                (2, "read", false),
                (3, "close", true),
                (5, "write", false),
                (6, "read", false),
                (7, "nanosleep", false),
                (8, "procexit", false),
                (9, "nanosleep", false),
                (10, "pause", true),
                (11, "drop", false),
            ]
        );
        assert_eq!(parts(&records[0]), ("read", "", "res=0"));
        assert_eq!(parts(&records[1]), ("read", "fd=0", ""));
        assert_eq!(parts(&records[8]), ("pause", "", "res=-4(EINTR)"));
    }

    #[test]
    fn hold_back_is_bounded() {
        let mut parser = SysdigParser::default();
        let mut out = Vec::new();
        parser.push(1, "1 1.0 0 a (1) > read fd=0", &mut out);
        let n = MAX_HELD as u64 + 10;
        for i in 2..=n {
            parser.push(i, &format!("{i} 1.0 0 b (2) > switch next=0"), &mut out);
            assert!(parser.pairer.queue.held_len() <= MAX_HELD);
        }
        assert_eq!(out.len(), MAX_HELD + 10);
        assert_eq!(parts(&out[0]), ("read", "fd=0", ""));
        assert!(parser.pairer.queue.nothing_waits());
        parser.push(n + 1, "1 1.0 0 a (1) < read res=1", &mut out);
        parser.finish(&mut out);
        check_wellformed(&out);
        assert_eq!(out.last().map(parts), Some(("read", "", "res=1")));
    }

    #[test]
    fn odd_lines_are_text_not_dropped() {
        let input = "hello\n\n   \n1 1.0 0 a (1) > read fd=0\nDriver Events:0\n1 1.0 0 a (1) <\n\u{1F600} (1) > x\n1 1.1 0 a (1) < read res=1\n";
        let records = parse(input);
        check_wellformed(&records);
        assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 4, 5, 6, 7]);
        assert_eq!(records.iter().filter(|r| r.kind == Kind::Text).count(), 4);
        assert!(joined(&records[1]));
    }

    #[test]
    fn json_events() {
        let input = r#"[
{"evt.cpu":0,"evt.dir":">","evt.info":"fd=3(<f>/etc/passwd) size=4096 ","evt.num":5,"evt.outputtime":1534527348514648551,"evt.type":"read","proc.name":"cat","thread.tid":42},
{"evt.cpu":0,"evt.dir":"<","evt.info":"res=5 data=root:\nx ","evt.num":6,"evt.outputtime":1534527348514649386,"evt.type":"read","proc.name":"cat","thread.tid":42},
not json
{"evt.num":7,"evt.type":"switch","thread.tid":"42","proc.name":null}
{"evt.num":8,"evt.time":"12:00:00.000000001","evt.cpu":1,"evt.type":"open","evt.dir":"<","thread.tid":43,"evt.args":"fd=-2(ENOENT) name=/x","container.name":"web","container.id":"abc","thread.vtid":null}
{"evt.type":"open"}
{"evt.type":""}
]"#;
        let records = parse_json(input);
        check_wellformed(&records);
        let lines: Vec<u64> = records.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 2, 4, 5, 6, 7, 8, 9]);
        let r = &records[1];
        assert_eq!(
            r.text,
            "5 1534527348.514648551 0 cat (42) > read fd=3(<f>/etc/passwd) size=4096 ⏎ 6 1534527348.514649386 0 cat (42) < read res=5 data=root: x"
        );
        assert_eq!((r.pid, r.process.as_deref()), (Some(42), Some("cat")));
        assert_eq!(key_of(r), "read /etc/passwd /etc/passwd etc passwd root");
        assert_eq!(records[2].kind, Kind::Text);
        assert_eq!(records[2].text, "not json");
        let r = &records[3];
        assert_eq!(
            (r.text.as_str(), r.pid, r.process.as_deref()),
            ("7 <NA> (42) switch", Some(42), None)
        );
        let r = &records[4];
        assert_eq!(
            r.text,
            "8 12:00:00.000000001 1 web (abc) <NA> (43:<NA>) < open fd=-2(ENOENT) name=/x"
        );
        assert_eq!(parts(r), ("open", "", "fd=-2(ENOENT) name=/x"));
        assert!(looks_like_sysdig(&r.text));
        assert_eq!(records[5].text, "<NA> (<NA>) open");
        assert_eq!(records[6].kind, Kind::Text);
        assert_eq!(records[0].kind, Kind::Text);
    }

    const FRAGMENTS: &[&str] = &[
        "1 ",
        "17:36:27.063538186 ",
        "1631209047761484608 ",
        "0 ",
        "33 ",
        "curl ",
        "<NA> ",
        "(18405) ",
        "(1.2) ",
        "(3:<NA>) ",
        "host (host) ",
        "> ",
        "< ",
        "read ",
        "open ",
        "switch ",
        "procexit ",
        "fd=3(<f>/etc/passwd) ",
        "fd=4(<6t>::1:5->::1:80) ",
        "res=-2(ENOENT) ",
        "data=aGk= ",
        "args=-c.id. ",
        "tuple=0->ff /x ",
        "(",
        ")",
        "=",
        " ",
        "é",
        "\u{1F600}",
        "{",
        "\"evt.type\":\"open\"",
        "}",
    ];

    fn sysdig_like() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..14).prop_map(|parts| parts.concat())
    }

    fn check_any(lines: &[String]) {
        for json in [false, true] {
            let mut out = Vec::new();
            let non_blank = lines.iter().filter(|l| !l.trim().is_empty()).count();
            if json {
                let mut parser = SysdigJsonParser::default();
                for (i, line) in lines.iter().enumerate() {
                    let _ = looks_like_sysdig_json(line);
                    parser.push(i as u64 + 1, line, &mut out);
                }
                parser.finish(&mut out);
            } else {
                let mut parser = SysdigParser::default();
                for (i, line) in lines.iter().enumerate() {
                    let _ = looks_like_sysdig(line);
                    parser.push(i as u64 + 1, line, &mut out);
                }
                parser.finish(&mut out);
            }
            check_wellformed(&out);
            let pairs = out.iter().filter(|r| r.kind != Kind::Text && joined(r)).count();
            assert!(out.len() + pairs >= non_blank && out.len() <= non_blank);
            for r in &out {
                let _ = key_of(r);
            }
        }
    }

    proptest! {
        #[test]
        fn arbitrary_lines_never_break_it(lines in prop::collection::vec(any::<String>(), 0..20)) {
            check_any(&lines);
        }

        #[test]
        fn sysdig_like_lines_never_break_it(lines in prop::collection::vec(sysdig_like(), 0..40)) {
            check_any(&lines);
        }
    }
}
