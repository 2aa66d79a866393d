//! gVisor's system-call trace: the debug log of `runsc --strace --debug`.
//!
//! runsc writes glog-style lines (`I1128 02:52:19.857620 24672 strace.go:570] msg`).
//! With `--strace`, the sentry logs each system call twice: an `E`nter line with
//! the arguments it could decode before the call, and an e`X`it line that
//! repeats them, fills in what the call wrote (a `read`'s buffer, a `stat`'s
//! struct) and adds the result:
//!
//! ```text
//! … strace.go:570] [   1:   1] cat E openat(AT_FDCWD /tmp, 0x7f… /etc/hostname, O_RDONLY|O_CLOEXEC, 0o0)
//! … strace.go:608] [   1:   1] cat X openat(AT_FDCWD /tmp, 0x7f… /etc/hostname, O_RDONLY|O_CLOEXEC, 0o0) = 3 (0x3) (82.7µs)
//! ```
//!
//! The two lines of one call are joined into one [`Kind::Event`] record
//! ([`DIALECT`]) that keeps the line number of the enter line. Its text is
//! the exit line, which is the more complete one — except that gVisor prints a
//! written buffer only on entry (the exit line shows `...`) and an empty buffer
//! on exit when nothing was read; such arguments are taken from the enter line,
//! position by position. Calls are paired per sandbox (the glog pid column) and
//! thread (the second number in `[pid: tid]`); the record's pid is the thread
//! id and its process the command name. An enter line whose exit never comes (the
//! thread exited, the log ended, another call of the same thread started) and an
//! exit line without its enter line become records of their own. Records come
//! out in line order, held back while an older call waits for its exit, at
//! most [`MAX_HELD`] of them.
//!
//! The rest of the debug log is runsc talking about itself (start-up banner,
//! spec and seccomp dumps, gofer and urpc chatter, task state changes). Those
//! glog lines, and the lines that continue a multi-line glog message (the
//! `Spec:` JSON, the seccomp program), are skipped without a record: they say
//! how the sandbox was set up, not what the program in it did, and the spec's
//! environment would otherwise make every run look unusual. A line that is not
//! glog-shaped and does not continue such a message (text before the first glog
//! line, something interleaved by another writer) becomes a [`Kind::Text`]
//! record, so nothing unexpected is dropped silently.
//!
//! It does not read runsc's JSON log format (`--debug-log-format=json`), the
//! `--strace-event` channel, or gVisor's signal and task-exit debug lines
//! (skipped, like all non-strace lines). Argument text is not interpreted here;
//! see [`super::normalize`]. Every delimiter searched for is ASCII, so
//! each range is on a char boundary; nothing panics on malformed input.

use std::ops::Range;

use memchr::memmem;

use super::DIALECT;
use crate::parse::bytes::{digits_end, parse_u32, word_end};
use crate::parse::holdback::HoldBack;
use crate::parse::{Kind, Parser, Record};

/// Records held back behind a call waiting for its exit line before the
/// oldest such call is given up on, so a lost exit cannot grow memory without bound.
pub const MAX_HELD: usize = 4096;

/// Whether `line` has the shape of a line of a runsc debug log.
///
/// Accepted: a strace line (glog header, then `[pid: tid] comm E|X name(`), a
/// glog line at gVisor's debug level `D` (glog and Kubernetes' klog have only
/// `I`, `W`, `E`, `F`), and runsc's start-up banner (`main.go:` lines such as
/// `Args: [runsc`, `Version`, the tab-indented configuration). Ordinary glog or
/// klog lines from other programs are not claimed, so a Kubernetes component's
/// log is not mistaken for a gVisor one; a runsc debug log starts with its banner,
/// has many `D` lines, and, with `--strace`, mostly strace lines.
pub fn looks_like_gvisor(line: &str) -> bool {
    let b = line.as_bytes();
    let end = trim_end(b);
    let Some(head) = glog_header(b, end) else {
        return false;
    };
    if head.level == b'D' || strace_message(b, head.msg, end).is_some() {
        return true;
    }
    let file = &b[head.file.clone()];
    let msg = &b[head.msg..end];
    file == b"main.go"
        && (msg.starts_with(b"Args: [runsc")
            || msg.starts_with(b"***************************")
            || msg.starts_with(b"Version ")
            || msg.starts_with(b"GOOS: ")
            || msg.starts_with(b"GOARCH: ")
            || msg.starts_with(b"PID: ")
            || msg.starts_with(b"UID: ")
            || msg.starts_with(b"Configuration:")
            || msg.starts_with(b"\t\t"))
}

/// Parser for a runsc debug log; see the module documentation.
#[derive(Debug, Default)]
pub struct GvisorParser {
    /// Records not yet released, in line order, behind the calls waiting for
    /// their exit lines, one at most for each (sandbox, thread).
    queue: HoldBack<(u32, u32), Enter, MAX_HELD>,
    /// Whether the last glog line was skipped, so that lines continuing its
    /// message are skipped too.
    in_skipped_message: bool,
}

/// What the join needs of a waiting enter line.
#[derive(Clone, Debug)]
struct Enter {
    name: Range<usize>,
    args: Range<usize>,
}

/// The parts of a strace message, as offsets into the line.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Call {
    tid: Option<u32>,
    comm: Range<usize>,
    exit: bool,
    name: Range<usize>,
    args: Range<usize>,
    /// After ` = ` on an exit line, without the trailing duration; empty on an enter line.
    result: Range<usize>,
}

impl Parser for GvisorParser {
    fn push(&mut self, line_no: u64, line: &str, out: &mut Vec<Record>) {
        if line.trim().is_empty() {
            return;
        }
        let b = line.as_bytes();
        let end = trim_end(b);
        let Some(head) = glog_header(b, end) else {
            if !self.in_skipped_message {
                let record = text_record(line_no, line, None, Kind::Text);
                self.emit(record, out);
            }
            return;
        };
        let Some(call) = strace_message(b, head.msg, end) else {
            // A line from gVisor's strace that cannot be read is a malformed
            // record, counted as such; any other glog line is runsc's own chatter.
            if line.get(..head.msg).is_some_and(|h| h.contains(" strace.go:")) {
                self.in_skipped_message = false;
                let record = text_record(line_no, line, None, Kind::Text);
                self.emit(record, out);
            } else {
                self.in_skipped_message = true;
            }
            return;
        };
        self.in_skipped_message = false;
        let process = (!call.comm.is_empty()).then(|| line[call.comm.clone()].to_owned());
        let kind = Kind::Event {
            name: call.name.clone(),
            args: call.args.clone(),
            result: call.result.clone(),
            dialect: DIALECT,
        };
        let record = text_record(line_no, line, call.tid, kind);
        let record = Record { process, ..record };
        let key = call.tid.map(|tid| (head.pid, tid));
        match (key, call.exit) {
            (Some(key), false) => {
                let enter = Enter {
                    name: call.name,
                    args: call.args,
                };
                self.hold_enter(key, record, enter, out);
            }
            (Some(key), true) => {
                if !self.try_join(key, line, &call, out) {
                    self.emit(record, out);
                }
            }
            (None, _) => self.emit(record, out),
        }
    }

    fn finish(&mut self, out: &mut Vec<Record>) {
        self.queue.finish(out);
    }
}

impl GvisorParser {
    /// Release `record` now if nothing older is waiting, else queue it behind.
    fn emit(&mut self, record: Record, out: &mut Vec<Record>) {
        self.queue.push(record, out);
    }

    fn hold_enter(&mut self, key: (u32, u32), record: Record, enter: Enter, out: &mut Vec<Record>) {
        // A thread entering a new call has left its previous one: its exit was not logged.
        self.give_up(key, out);
        self.queue.push_waiting(key, record, enter, out);
    }

    /// Join the exit line `line` to the waiting enter line of the same call.
    /// Returns false when there is none; the caller then emits the exit alone.
    fn try_join(&mut self, key: (u32, u32), line: &str, call: &Call, out: &mut Vec<Record>) -> bool {
        let Some((record, enter)) = self.queue.waiting(&key) else {
            return false;
        };
        if record.text.get(enter.name.clone()) != line.get(call.name.clone()) {
            self.give_up(key, out);
            return false;
        }
        self.queue.complete(&key, out, |record, enter| {
            let enter_args = record.text.get(enter.args.clone()).unwrap_or("");
            let (text, kind) = joined(line, call, enter_args);
            record.text = text;
            record.kind = kind;
        })
    }

    /// Stop waiting for the exit of `key`'s call: release it as it is.
    fn give_up(&mut self, key: (u32, u32), out: &mut Vec<Record>) {
        self.queue.release(&key, out);
    }
}

fn text_record(line_no: u64, line: &str, pid: Option<u32>, kind: Kind) -> Record {
    Record {
        line: line_no,
        text: line.to_owned(),
        pid,
        process: None,
        kind,
    }
}

/// The record text and ranges for an exit line joined with its enter line's
/// arguments: the exit line, with any argument it no longer shows (`...` for a
/// written buffer, nothing for an empty read) taken from the enter line.
fn joined(exit_line: &str, call: &Call, enter_args: &str) -> (String, Kind) {
    let exit_args = exit_line.get(call.args.clone()).unwrap_or("");
    let merged = merge_args(enter_args, exit_args);
    let kind = |args: Range<usize>, result: Range<usize>| Kind::Event {
        name: call.name.clone(),
        args,
        result,
        dialect: DIALECT,
    };
    match merged {
        Some(merged) if merged != exit_args => {
            let mut text = String::with_capacity(exit_line.len() + merged.len());
            text.push_str(&exit_line[..call.args.start]);
            text.push_str(&merged);
            let args = call.args.start..text.len();
            text.push_str(&exit_line[call.args.end..]);
            // Everything after the arguments moved by the same amount.
            let shift = |i: usize| i + args.end - call.args.end;
            let result = shift(call.result.start)..shift(call.result.end);
            (text, kind(args, result))
        }
        _ => (exit_line.to_owned(), kind(call.args.clone(), call.result.clone())),
    }
}

/// The exit arguments with the ones lost on exit restored from the enter
/// arguments, or `None` when the two lists do not line up (then the exit line
/// is taken as it is).
fn merge_args(enter: &str, exit: &str) -> Option<String> {
    if enter == exit {
        return None;
    }
    let enter_items = split_top_level(enter);
    let exit_items = split_top_level(exit);
    if enter_items.len() != exit_items.len() {
        return None;
    }
    let mut merged = String::with_capacity(enter.len().max(exit.len()));
    for (i, (e, x)) in enter_items.iter().zip(&exit_items).enumerate() {
        if i > 0 {
            merged.push_str(", ");
        }
        let x_trim = x.trim();
        merged.push_str(if x_trim.is_empty() || x_trim == "..." {
            e.trim()
        } else {
            x_trim
        });
    }
    Some(merged)
}

/// Split an argument list at its top-level commas, minding Go-quoted strings
/// and brackets. Unquoted paths with commas or brackets in them split wrongly;
/// the caller only uses the split when both lists agree.
pub fn split_top_level(args: &str) -> Vec<&str> {
    let b = args.as_bytes();
    let mut items = Vec::new();
    let mut depth = 0u32;
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = skip_go_string(b, i + 1);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => {
                items.push(&args[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < b.len() || !items.is_empty() {
        items.push(&args[start..]);
    }
    items
}

/// Offset just past the closing quote of a Go `%q` string whose body starts at
/// `i` (or the end of `b` when it is cut off).
pub(crate) fn skip_go_string(b: &[u8], mut i: usize) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// The parts of a glog header.
#[derive(Debug)]
struct Glog {
    level: u8,
    /// The number after the time: the logging process (the sandbox's sentry).
    pid: u32,
    /// The source file name, without `:line`.
    file: Range<usize>,
    /// Offset of the message.
    msg: usize,
}

/// Parse `Lmmdd hh:mm:ss.uuuuuu pid file:line] ` at the start of `b[..end]`.
fn glog_header(b: &[u8], end: usize) -> Option<Glog> {
    let b = &b[..end];
    let level = *b.first()?;
    if !matches!(level, b'D' | b'I' | b'W' | b'E' | b'F') || b.len() < 6 {
        return None;
    }
    if !b[1..5].iter().all(u8::is_ascii_digit) || b[5] != b' ' {
        return None;
    }
    // hh:mm:ss.frac
    let mut i = 6;
    let time_start = i;
    while i < b.len() && matches!(b[i], b'0'..=b'9' | b':' | b'.') {
        i += 1;
    }
    let time = &b[time_start..i];
    if time.len() < 8 || time[2] != b':' || time[5] != b':' {
        return None;
    }
    let i = skip_spaces(b, i);
    let pid_start = i;
    let pid_end = digits_end(b, i, b.len());
    let pid = parse_u32(&b[pid_start..pid_end])?;
    if pid_end >= b.len() || b[pid_end] != b' ' {
        return None;
    }
    // `file.go:123] `
    let file_start = pid_end + 1;
    let close = file_start + memchr::memchr(b']', &b[file_start..])?;
    let colon = file_start + memchr::memrchr(b':', &b[file_start..close])?;
    if colon == file_start
        || colon + 1 == close
        || !b[colon + 1..close].iter().all(u8::is_ascii_digit)
        || b[file_start..colon].contains(&b' ')
    {
        return None;
    }
    let msg = if b.get(close + 1) == Some(&b' ') {
        close + 2
    } else {
        close + 1
    };
    Some(Glog {
        level,
        pid,
        file: file_start..colon,
        msg,
    })
}

/// Parse a strace message `[ pid: tid] comm E name(args)` or
/// `... X name(args) = result (duration)` starting at `msg`.
fn strace_message(b: &[u8], msg: usize, end: usize) -> Option<Call> {
    let mut i = msg;
    let mut tid = None;
    if b.get(i) == Some(&b'[') {
        // `[   1:   2]` (thread group and thread, root pid namespace) or `[  2]`.
        let close = i + memchr::memchr(b']', &b[i..end])?;
        let inside = &b[i + 1..close];
        let last = inside.rsplit(|&c| c == b':').next()?;
        let last = trim_spaces(last);
        tid = Some(parse_u32(last)?);
        if !inside.iter().all(|c| c.is_ascii_digit() || matches!(c, b' ' | b':')) {
            return None;
        }
        i = close + 1;
        if b.get(i) != Some(&b' ') {
            return None;
        }
        i += 1;
    }
    // The command name may hold spaces, so find the first ` E name(` / ` X name(`
    // after it; a command name is at most 15 bytes, so look only that far.
    let window_end = end.min(i + 24);
    let comm_start = i;
    let mut j = i;
    let (mark, name_start) = loop {
        let p = j + memchr::memchr2(b'E', b'X', b.get(j..window_end)?)?;
        let is_mark = (p == comm_start || b[p - 1] == b' ') && b.get(p + 1) == Some(&b' ');
        if is_mark {
            let name_start = p + 2;
            let name_end = word_end(b, name_start, end);
            if name_end > name_start && b.get(name_end) == Some(&b'(') {
                break (p, name_start);
            }
        }
        j = p + 1;
    };
    let comm_end = if mark > comm_start { mark - 1 } else { mark };
    let name_end = word_end(b, name_start, end);
    let args_start = name_end + 1;
    let exit = b[mark] == b'X';
    let (args, result) = if exit {
        match memmem::rfind(&b[args_start..end], b") = ") {
            Some(p) => {
                let close = args_start + p;
                let result_start = close + 4;
                (args_start..close, result_start..strip_duration(b, result_start, end))
            }
            None => (args_start..args_end(b, args_start, end), end..end),
        }
    } else {
        (args_start..args_end(b, args_start, end), end..end)
    };
    Some(Call {
        tid,
        comm: comm_start..comm_end,
        exit,
        name: name_start..name_end,
        args,
        result,
    })
}

/// End of an enter line's arguments: before its final `)`, or the end of a cut-off line.
fn args_end(b: &[u8], start: usize, end: usize) -> usize {
    if end > start && b[end - 1] == b')' {
        end - 1
    } else {
        end
    }
}

/// The end of a result without its trailing duration, e.g. ` (12.3µs)`, ` (1.5ms)`, ` (2s)`.
fn strip_duration(b: &[u8], start: usize, end: usize) -> usize {
    if end <= start || b[end - 1] != b')' {
        return end;
    }
    let Some(open) = memchr::memrchr(b'(', &b[start..end]).map(|p| start + p) else {
        return end;
    };
    let inside = &b[open + 1..end - 1];
    let is_duration = inside.first().is_some_and(u8::is_ascii_digit) && inside.last() == Some(&b's');
    if is_duration && open > start && b[open - 1] == b' ' {
        let mut e = open - 1;
        while e > start && b[e - 1] == b' ' {
            e -= 1;
        }
        e
    } else {
        end
    }
}

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    i
}

fn trim_spaces(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&c| c != b' ').unwrap_or(s.len());
    let end = s.iter().rposition(|&c| c != b' ').map_or(start, |p| p + 1);
    &s[start..end]
}

fn trim_end(b: &[u8]) -> usize {
    let mut end = b.len();
    while end > 0 && matches!(b[end - 1], b' ' | b'\t' | b'\r' | b'\n') {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testing::{assert_well_formed as check_wellformed, parse_all};
    use proptest::prelude::*;

    const BOOT: &str = include_str!("../../../tests/fixtures/gvisor/runsc-do.boot.log");

    fn parse(input: &str) -> Vec<Record> {
        parse_all(GvisorParser::default(), input)
    }

    fn event(r: &Record) -> (&str, &str, &str) {
        match &r.kind {
            Kind::Event {
                name,
                args,
                result,
                dialect,
            } if *dialect == DIALECT => (&r.text[name.clone()], &r.text[args.clone()], &r.text[result.clone()]),
            other => panic!("line {}: not a gVisor event: {other:?} in {:?}", r.line, r.text),
        }
    }

    fn at(records: &[Record], line: u64) -> &Record {
        records
            .iter()
            .find(|r| r.line == line)
            .unwrap_or_else(|| panic!("no record for line {line}"))
    }

    fn call_of(line: &str) -> Option<Call> {
        let b = line.as_bytes();
        let end = trim_end(b);
        strace_message(b, glog_header(b, end)?.msg, end)
    }

    fn line_of(input: &str, needle: &str) -> u64 {
        input
            .lines()
            .position(|l| l.contains(needle))
            .map(|i| i as u64 + 1)
            .unwrap_or_else(|| panic!("{needle:?} not in input"))
    }

    #[test]
    fn fixture_pairs_enter_and_exit() {
        let records = parse(BOOT);
        check_wellformed(&records);
        let lines: Vec<&str> = BOOT.lines().collect();
        let calls: Vec<Call> = lines.iter().filter_map(|l| call_of(l)).collect();
        assert_eq!(calls.len(), lines.iter().filter(|l| l.contains(" strace.go:")).count());
        let enters = calls.iter().filter(|c| !c.exit).count();
        let exits = calls.len() - enters;
        // Only strace lines make records; all other lines are runsc's own
        // (glog lines and the continuation lines of the spec and seccomp dumps).
        assert!(records.iter().all(|r| matches!(r.kind, Kind::Event { .. })));
        // Every call in this capture returned, so each enter line found its exit
        // and each record's text is an exit line.
        assert_eq!(enters, exits);
        assert_eq!(records.len(), enters);
        for r in &records {
            let enter = lines[(r.line - 1) as usize];
            assert!(
                call_of(enter).is_some_and(|c| !c.exit),
                "record not at an enter line: {enter}"
            );
            assert!(
                call_of(&r.text).is_some_and(|c| c.exit),
                "record text not an exit line: {}",
                r.text
            );
            let (name, _, result) = event(r);
            assert!(enter.contains(&format!(" {name}(")), "{name} vs {enter}");
            assert!(
                !["µs)", "ms)", "ns)"].iter().any(|d| result.ends_with(d)),
                "duration left in {result:?}"
            );
            assert!(r.pid.is_some() && r.process.is_some());
        }
    }

    #[test]
    fn fixture_calls() {
        let records = parse(BOOT);
        // The openat of /etc/shadow that setpriv's cat was denied.
        let l = line_of(BOOT, "cat E openat(AT_FDCWD /tmp, 0x7fed96936fad /etc/shadow");
        let r = at(&records, l);
        assert_eq!(r.pid, Some(6));
        assert_eq!(r.process.as_deref(), Some("cat"));
        assert_eq!(
            event(r),
            (
                "openat",
                "AT_FDCWD /tmp, 0x7fed96936fad /etc/shadow, O_RDONLY|0x0, 0o0",
                "0 (0x0) errno=13 (permission denied)"
            )
        );
        assert!(r.text.contains("cat X openat("), "the text is the exit line");
        // sh -c id
        let l = line_of(BOOT, "sh E execve(0x55a0798538d0 /usr/bin/sh");
        let (name, args, result) = event(at(&records, l));
        assert_eq!(name, "execve");
        assert!(args.starts_with(r#"0x55a0798538d0 /usr/bin/sh, 0x55a079853870 ["sh", "-c", "id"], "#));
        assert_eq!(result, "0 (0x0)");
        // bash's connect to 127.0.0.1:4444, refused.
        let l = line_of(BOOT, "bash E connect(");
        let r = at(&records, l);
        assert_eq!((r.pid, r.process.as_deref()), (Some(7), Some("bash")));
        assert_eq!(
            event(r),
            (
                "connect",
                "0x3 socket:[11], 0x5646065b43b0 {Family: AF_INET, Addr: 127.0.0.1, Port: 4444}, 0x10",
                "0 (0x0) errno=111 (connection refused)"
            )
        );
    }

    #[test]
    fn fixture_buffers_are_restored_from_the_enter_line() {
        let records = parse(BOOT);
        // write: the data is only on the enter line; the exit line shows `...`.
        let l = line_of(BOOT, r#"cat E write(0x1 host:[2], 0x7f89b9209000 "vm\n", 0x3)"#);
        let r = at(&records, l);
        assert_eq!(
            event(r),
            ("write", r#"0x1 host:[2], 0x7f89b9209000 "vm\n", 0x3"#, "3 (0x3)")
        );
        assert!(r
            .text
            .contains(r#"cat X write(0x1 host:[2], 0x7f89b9209000 "vm\n", 0x3) = 3 (0x3) (25.077µs)"#));
        // read: the data is only on the exit line.
        let l = line_of(BOOT, "cat E read(0x3 /etc/hostname, 0x7f89b9209000, 0x20000)");
        assert_eq!(
            event(at(&records, l)),
            (
                "read",
                r#"0x3 /etc/hostname, 0x7f89b9209000 "vm\n", 0x20000"#,
                "3 (0x3)"
            )
        );
        // A read of nothing shows an empty buffer on exit: the pointer comes back.
        let second_read = BOOT
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains("cat E read(0x3 /etc/hostname"))
            .nth(1)
            .map(|(i, _)| i as u64 + 1)
            .unwrap_or_else(|| panic!("second read"));
        assert_eq!(
            event(at(&records, second_read)),
            ("read", "0x3 /etc/hostname, 0x7f89b9209000, 0x20000", "0 (0x0)")
        );
    }

    #[test]
    fn interleaved_threads_come_out_in_line_order() {
        let records = parse(BOOT);
        // sh (tid 1) enters wait4 before its child runs; the child's calls come
        // after it in the log and in the output, the wait4 keeps its enter line.
        let wait = line_of(BOOT, "[   1:   1] sh E wait4(0xffffffff, 0x7f6db820d7cc, 0x0, 0x0)");
        let r = at(&records, wait);
        let (name, _, result) = event(r);
        assert_eq!(name, "wait4");
        assert_eq!(result, "0 (0x0) errno=512 (to be restarted if SA_RESTART is set)");
        let child = line_of(BOOT, "cat E openat(AT_FDCWD /tmp, 0x7fa951348fab /etc/hostname");
        assert!(wait < child);
        let pos = |line| records.iter().position(|r| r.line == line);
        assert!(pos(wait) < pos(child));
    }

    #[test]
    fn fixture_is_detected_and_lines_are_recognized() {
        assert_eq!(crate::parse::detect(BOOT.lines()), crate::parse::Format::Gvisor);
        for line in BOOT.lines().filter(|l| l.contains(" strace.go:")) {
            assert!(looks_like_gvisor(line), "{line}");
        }
        // The runsc head alone (banner, spec dump, seccomp) is also claimed.
        let head: Vec<&str> = BOOT.lines().take(64).collect();
        assert_eq!(crate::parse::detect(head), crate::parse::Format::Gvisor);
    }

    #[test]
    fn other_logs_are_not_gvisor() {
        for line in [
            "I0102 15:04:05.123456    1234 server.go:123] Started kubelet",
            "W0102 15:04:05.123456    1234 reflector.go:324] watch of *v1.Pod ended",
            "E1128 01:20:34.235364   19891 main.go:216] something failed",
            r#"openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3"#,
            "12345 openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3",
            "Nov 28 02:08:30 vm sshd[1234]: Accepted publickey for root from 10.0.0.1 port 5555 ssh2",
            "type=SYSCALL msg=audit(1795834658.252:241): arch=c000003e syscall=257 success=yes exit=3",
            "[   1:   1] cat E openat(AT_FDCWD /tmp)",
            "",
        ] {
            assert!(!looks_like_gvisor(line), "{line}");
        }
        let kubelet = "I0102 15:04:05.123456    1234 server.go:123] Started kubelet\n".repeat(10);
        assert_ne!(crate::parse::detect(kubelet.lines()), crate::parse::Format::Gvisor);
    }

    #[test]
    fn old_and_new_result_shapes() {
        let input = "\
I0101 00:00:00.000001       7 strace.go:570] [   3:   4] app E openat(AT_FDCWD /, 0x1 /x, O_RDONLY, 0o0)
I0101 00:00:00.000002       7 strace.go:608] [   3:   4] app X openat(AT_FDCWD /, 0x1 /x, O_RDONLY, 0o0) = 0x0 errno=2 (no such file or directory) (1.5µs)
I0101 00:00:00.000003       7 strace.go:570] [   3:   4] app E getpid()
I0101 00:00:00.000004       7 strace.go:608] [   3:   4] app X getpid() = 0x3 (1.002ms)
";
        let records = parse(input);
        check_wellformed(&records);
        assert_eq!(records.len(), 2);
        assert_eq!(event(&records[0]).2, "0x0 errno=2 (no such file or directory)");
        assert_eq!(event(&records[1]), ("getpid", "", "0x3"));
        assert_eq!((records[1].line, records[1].pid), (3, Some(4)));
    }

    #[test]
    fn unpaired_lines_are_records_of_their_own() {
        let input = "\
I0101 00:00:00.000001       7 strace.go:570] [   1:   1] sh E read(0x0 host:[1], 0x7f, 0x10)
I0101 00:00:00.000002       7 strace.go:570] [   1:   2] sh E futex(0x7f, FUTEX_WAIT, 0x0, null)
I0101 00:00:00.000003       7 strace.go:570] [   1:   1] sh E close(0x3 /x)
I0101 00:00:00.000004       7 strace.go:608] [   1:   1] sh X close(0x3 /x) = 0 (0x0) (1µs)
I0101 00:00:00.000005       7 strace.go:608] [   1:   1] sh X write(0x1 host:[1], ..., 0x1) = 1 (0x1) (1µs)
I0101 00:00:00.000006       8 strace.go:608] [   1:   2] sh X futex(0x7f, FUTEX_WAIT, 0x0, null) = 0 (0x0) (1µs)
";
        let records = parse(input);
        check_wellformed(&records);
        let summary: Vec<(u64, &str, &str)> = records.iter().map(|r| (r.line, event(r).0, event(r).2)).collect();
        assert_eq!(
            summary,
            [
                // The read never returned before the thread's next call.
                (1, "read", ""),
                // Waits forever: another sandbox (glog pid 8) has a thread 2 too.
                (2, "futex", ""),
                (3, "close", "0 (0x0)"),
                (5, "write", "1 (0x1)"),
                (6, "futex", "0 (0x0)"),
            ]
        );
    }

    #[test]
    fn non_strace_lines() {
        let input = "\
stray text before the log
I0101 00:00:00.000001       7 main.go:216] ***************************
D0101 00:00:00.000002       7 specutils.go:75] Spec:
{
  \"ociVersion\": \"\",

}
I0101 00:00:00.000003       7 strace.go:570] [   1:   1] sh E getpid()
I0101 00:00:00.000004       7 strace.go:608] [   1:   1] sh X getpid() = 1 (0x1) (1µs)
another writer's line
";
        let records = parse(input);
        check_wellformed(&records);
        let lines: Vec<(u64, bool)> = records.iter().map(|r| (r.line, r.kind == Kind::Text)).collect();
        assert_eq!(lines, [(1, true), (8, false), (10, true)]);
    }

    #[test]
    fn hold_back_is_bounded() {
        let mut parser = GvisorParser::default();
        let mut out = Vec::new();
        parser.push(
            1,
            "I0101 00:00:00.000001 7 strace.go:570] [ 1: 1] sh E pause()",
            &mut out,
        );
        for n in 2..=(MAX_HELD as u64 + 10) {
            let line = format!("I0101 00:00:00.000001 7 strace.go:570] [ 1: 2] sh X getpid() = {n} ({n:#x}) (1µs)");
            parser.push(n, &line, &mut out);
            assert!(parser.queue.held_len() <= MAX_HELD);
        }
        assert_eq!(out.len(), MAX_HELD + 10);
        assert_eq!(event(&out[0]), ("pause", "", ""));
        assert!(parser.queue.nothing_waits());
        parser.finish(&mut out);
        check_wellformed(&out);
    }

    #[test]
    fn comm_with_spaces_and_odd_shapes() {
        let input = "\
I0101 00:00:00.000001       7 strace.go:570] [   1:   1] Web Content E openat(AT_FDCWD /, 0x1 /a b, O_RDONLY, 0o0)
I0101 00:00:00.000002       7 strace.go:570] [   1:   1] Web Content X openat(AT_FDCWD /, 0x1 /a b, O_RDONLY, 0o0) = 3 (0x3) (1µs)
I0101 00:00:00.000003       7 strace.go:570] [   1:   1] sh X write(0x1 host:[1], \"a) = 4 (\", 0x1
I0101 00:00:00.000004       7 strace.go:570] [   1:   1] sh E write(0x1 host:[1], 0x7f \"é\\x00\"..., 0x1
";
        let records = parse(input);
        check_wellformed(&records);
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].process.as_deref(), Some("Web Content"));
        assert_eq!(event(&records[0]).1, "AT_FDCWD /, 0x1 /a b, O_RDONLY, 0o0");
        // An exit line cut off mid-arguments: the ` = ` inside the string is not a result.
        assert_eq!(event(&records[1]), ("write", "0x1 host:[1], \"a", "4 (\", 0x1"));
        assert_eq!(event(&records[2]).1, "0x1 host:[1], 0x7f \"é\\x00\"..., 0x1");
    }

    #[test]
    fn merge_keeps_the_richer_argument() {
        assert_eq!(
            merge_args(r#"0x1 host:[3], 0x7f "hi\n", 0x3"#, "0x1 host:[3], ..., 0x3").as_deref(),
            Some(r#"0x1 host:[3], 0x7f "hi\n", 0x3"#)
        );
        assert_eq!(
            merge_args("0x3 /x, 0x7f, 0x10", r#"0x3 /x, 0x7f "a, b", 0x10"#).as_deref(),
            Some(r#"0x3 /x, 0x7f "a, b", 0x10"#)
        );
        assert_eq!(merge_args("a, b", "a, b"), None);
        assert_eq!(merge_args("a, b", "a"), None);
        assert_eq!(
            split_top_level(r#"{a, b}, "x\", y", [1 2]"#),
            [r#"{a, b}"#, r#" "x\", y""#, " [1 2]"]
        );
        assert!(split_top_level("").is_empty());
    }

    /// Whether this process runs as root (runsc needs it for `do` without `--rootless`).
    fn is_root() -> bool {
        std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().next())
                == Some("0")
        })
    }

    /// Trace a tiny command with the real runsc and parse its debug log.
    #[test]
    fn live_runsc_capture() {
        use std::process::{Command, Stdio};
        use std::time::{Duration, Instant};
        let Some(runsc) = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("runsc"))
                .find(|p| p.is_file())
        }) else {
            crate::testing::skip("runsc is not installed (apt-get install runsc)");
            return;
        };
        if !is_root() {
            crate::testing::skip("runsc do needs root here");
            return;
        }
        let Ok(dir) = tempfile::tempdir() else {
            crate::testing::skip("no temporary directory");
            return;
        };
        let mut debug_log = dir.path().as_os_str().to_owned();
        debug_log.push("/");
        let child = Command::new(&runsc)
            .arg("--network=none")
            .arg("--strace")
            .arg("--strace-syscalls=openat,read,write,close,exit_group")
            .arg("--debug")
            .arg({
                let mut flag = std::ffi::OsString::from("--debug-log=");
                flag.push(&debug_log);
                flag
            })
            .args(["do", "/bin/cat", "/etc/hostname"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            crate::testing::skip("runsc did not start");
            return;
        };
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if started.elapsed() < Duration::from_secs(60) => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        if !status.is_some_and(|s| s.success()) {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
            }
            crate::testing::skip(&format!("runsc could not run a sandbox here ({status:?}): {stderr}"));
            return;
        }
        let boot = std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(".boot.txt"));
        let Some(log) = boot.and_then(|p| std::fs::read_to_string(p).ok()) else {
            panic!(
                "runsc ran but wrote no readable .boot.txt debug log in {}",
                dir.path().display()
            );
        };
        assert_eq!(crate::parse::detect(log.lines()), crate::parse::Format::Gvisor);
        let records = parse(&log);
        check_wellformed(&records);
        let open = records
            .iter()
            .find(|r| event(r).0 == "openat" && event(r).1.contains(" /etc/hostname,"))
            .unwrap_or_else(|| panic!("no openat of /etc/hostname in {} records", records.len()));
        assert!(
            !event(open).2.is_empty() && !event(open).2.contains("errno="),
            "{}",
            open.text
        );
        assert_eq!(open.process.as_deref(), Some("cat"));
        let key = crate::normalize::key_of(open);
        assert!(
            key.starts_with("openat AT_FDCWD /etc/hostname /etc/hostname etc hostname O_RDONLY"),
            "{key}"
        );
        assert!(records.iter().any(|r| event(r).0 == "exit_group"));
    }

    const FRAGMENTS: &[&str] = &[
        "I0101 00:00:00.000001 7 strace.go:570] ",
        "D0101 00:00:00.1 7 x.go:1]",
        "[   1:   1] ",
        "[ 1]",
        "sh ",
        " E ",
        " X ",
        "E ",
        "openat(",
        "read(",
        ")",
        " = ",
        ") = ",
        "0 (0x0) errno=2 (no such file)",
        " (1.5µs)",
        "(",
        "\"",
        "\\",
        "...",
        ", ",
        "{Family: AF_INET, Addr: 1.2.3.4, Port: 1}",
        "0x7f /etc/passwd",
        "é",
        "\u{1F600}",
        " ",
        "]",
    ];

    fn gvisor_like() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..12).prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn arbitrary_lines_never_break_it(lines in prop::collection::vec(any::<String>(), 0..20)) {
            let mut parser = GvisorParser::default();
            let mut out = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                let _ = looks_like_gvisor(line);
                parser.push(i as u64 + 1, line, &mut out);
            }
            parser.finish(&mut out);
            check_wellformed(&out);
            prop_assert!(out.len() <= lines.len());
        }

        #[test]
        fn gvisor_like_lines_never_break_it(lines in prop::collection::vec(gvisor_like(), 0..40)) {
            let mut parser = GvisorParser::default();
            let mut out = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                let _ = looks_like_gvisor(line);
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
