//! strace output: one record per system call, signal, process exit or message.
//!
//! Understands the shapes strace prints with `-f` (a `12345 ` or `[pid 12345] `
//! column, optionally `12345<comm>` from `-Y`), `-ff -o` (no pid column),
//! `-t`/`-tt`/`-ttt`/`-r` timestamps, `-T` durations, `-y`/`-yy` fd decorations,
//! `-k` stack frames, and `<unfinished ...>` calls whose `<... NAME resumed>`
//! tail arrives later. The two halves of an interrupted call are merged into one
//! record that keeps the line number of its start; records still come out in
//! line order, held back only while an older call is waiting for its tail.
//!
//! It does not decode arguments (flags, structs, strings stay text for
//! [`crate::normalize`]), does not interpret timestamps or durations (they are
//! skipped, never part of a record's name, args or result), and does not follow
//! a thread across `execve` when the kernel renumbers it: such a tail is
//! reported as a call whose start was not seen.
//!
//! Lines may be any text at all. Every delimiter searched for is ASCII, so each
//! byte offset produced here is a char boundary of the line; nothing panics on
//! malformed or truncated input, which degrades to a best-effort record or to a
//! [`Kind::Text`] record.

use std::ops::Range;

use memchr::{memchr, memchr2, memrchr};

use crate::parse::bytes::{digits_end, parse_u32, trim_end};
use crate::parse::holdback::HoldBack;
use crate::parse::{Kind, Parser, Record};

/// Records held back behind an unanswered `<unfinished ...>` before the oldest
/// such call is given up on, so a call that never resumes cannot grow memory
/// without bound.
const MAX_HELD: usize = 4096;

/// Largest pid Linux hands out (`PID_MAX_LIMIT`): a bigger leading number is a
/// `-ttt` timestamp with second precision, not a pid.
const PID_MAX: u32 = 1 << 22;

const UNFINISHED: &[u8] = b"<unfinished ...>";
const DETACHED: &[u8] = b"<detached ...>";
const RESUMED: &[u8] = b" resumed>";

/// Whether `line` has the shape of a line of strace output.
///
/// Meant for format detection, so it is stricter than the parser: a system
/// call must be a lowercase name directly followed by `(` and either return
/// (` = ...` after the balanced closing parenthesis) or end in
/// `<unfinished ...>`; text logs that merely contain parentheses rarely match.
pub fn looks_like_strace(line: &str) -> bool {
    let b = line.as_bytes();
    let end = trim_end(b, 0, b.len());
    let (_, body) = parse_prefix(b, end);
    match classify(b, body, end) {
        Body::Call { args, .. } => {
            if unfinished_head(b, args, end).is_some() {
                return true;
            }
            let e = strip_duration(b, args, end);
            match find_close(b, args, e) {
                Scan::Closed(c) => {
                    let i = skip_ws(b, c + 1, e);
                    i < e && b[i] == b'=' && skip_ws(b, i + 1, e) < e
                }
                _ => false,
            }
        }
        Body::Resumed { .. } | Body::Exit(_) => true,
        Body::Signal(r) => {
            let s = &b[r];
            s.starts_with(b"SIG") || s.starts_with(b"stopped by ")
        }
        Body::Text => {
            let s = &b[body..end];
            s.starts_with(b"strace: Process ") || is_stack_frame(b, end)
        }
    }
}

/// Parser for strace output; see the module documentation for what it accepts.
#[derive(Debug)]
pub struct StraceParser {
    /// Records not yet released, in line order, behind the `<unfinished ...>`
    /// calls waiting for their tails. A thread has at most one system call in
    /// flight, so the pid is the key (`None` for pid-less `-ff` files, which
    /// hold one thread each).
    /// The queue keeps the starts it gave up on (more than [`MAX_HELD`]
    /// records came before their tails), so that a tail coming after all
    /// still makes the whole call.
    queue: HoldBack<Option<u32>, Unfinished, MAX_HELD>,
}

impl Default for StraceParser {
    fn default() -> Self {
        StraceParser {
            queue: HoldBack::remembering_given_up(),
        }
    }
}

/// Where the parts of an unfinished call are in its record's text.
#[derive(Clone, Debug)]
struct Unfinished {
    name: Range<usize>,
    args_start: usize,
    /// End of the text kept when the tail is joined: the line up to the
    /// `<unfinished ...>` marker, trailing blanks dropped.
    head_end: usize,
}

impl Parser for StraceParser {
    fn push(&mut self, line_no: u64, line: &str, out: &mut Vec<Record>) {
        if line.trim().is_empty() {
            return;
        }
        let b = line.as_bytes();
        let end = trim_end(b, 0, b.len());
        let (pid, body) = parse_prefix(b, end);
        let record = |kind| Record {
            line: line_no,
            text: line.to_owned(),
            pid,
            process: None,
            kind,
        };
        match classify(b, body, end) {
            Body::Call { name, args } => {
                if let Some(head_end) = unfinished_head(b, args, end) {
                    let kind = Kind::Syscall {
                        name: name.clone(),
                        args: args..head_end,
                        result: b.len()..b.len(),
                    };
                    let waiting = Unfinished {
                        name,
                        args_start: args,
                        head_end,
                    };
                    self.hold_unfinished(record(kind), waiting, out);
                } else {
                    let (args, result) = call_ranges(b, args, end);
                    self.emit(record(Kind::Syscall { name, args, result }), out);
                }
            }
            Body::Resumed { name, tail } => {
                let tail = skip_ws(b, tail, end);
                if !self.try_merge(pid, &line[name.clone()], &line[tail..end], out) {
                    // A start given up on, whose tail came after all: the
                    // whole call, at the tail's line (its start left alone).
                    match self.queue.take_late(&pid) {
                        Some((mut start, w)) if start.text.get(w.name.clone()) == Some(&line[name.clone()]) => {
                            join(&mut start, w, &line[tail..end]);
                            start.line = line_no;
                            self.emit(start, out);
                        }
                        _ => {
                            let (args, result) = call_ranges(b, tail, end);
                            self.emit(record(Kind::Syscall { name, args, result }), out);
                        }
                    }
                }
            }
            Body::Signal(body) => self.emit(record(Kind::Signal { body }), out),
            Body::Exit(body) => {
                // A process that ended will not resume the call it was in.
                self.give_up(pid, out);
                self.emit(record(Kind::Exit { body }), out);
            }
            Body::Text => self.emit(record(Kind::Text), out),
        }
    }

    fn finish(&mut self, out: &mut Vec<Record>) {
        self.queue.finish(out);
    }
}

impl StraceParser {
    /// Release `record` now if nothing older is waiting, else queue it behind.
    fn emit(&mut self, record: Record, out: &mut Vec<Record>) {
        self.queue.push(record, out);
    }

    fn hold_unfinished(&mut self, record: Record, waiting: Unfinished, out: &mut Vec<Record>) {
        let pid = record.pid;
        // A thread starting a new call is no longer in its previous one.
        self.give_up(pid, out);
        self.queue.push_waiting(pid, record, waiting, out);
    }

    /// Join a `<... name resumed>` tail to the waiting start of the same call.
    /// Returns false when there is no such start; the caller then makes the
    /// tail a record of its own.
    fn try_merge(&mut self, pid: Option<u32>, name: &str, tail: &str, out: &mut Vec<Record>) -> bool {
        let Some((record, w)) = self.queue.waiting(&pid) else {
            return false;
        };
        if record.text.get(w.name.clone()) != Some(name) {
            // The start waiting for this thread is of another call, so it will
            // never see its own tail; the tail gets a record of its own.
            self.give_up(pid, out);
            return false;
        }
        self.queue.complete(&pid, out, |record, w| join(record, w, tail))
    }

    /// Stop waiting for the tail of `pid`'s call: release it as it is.
    fn give_up(&mut self, pid: Option<u32>, out: &mut Vec<Record>) {
        self.queue.release(&pid, out);
    }
}

/// Joins `tail`, what follows `<... name resumed>`, to the record of its
/// call's start, whose parts `w` says.
fn join(record: &mut Record, w: Unfinished, tail: &str) {
    let text = &mut record.text;
    text.truncate(w.head_end);
    if needs_space(text.as_bytes().last(), tail.as_bytes().first()) {
        text.push(' ');
    }
    text.push_str(tail);
    let (args, result) = call_ranges(text.as_bytes(), w.args_start, text.len());
    record.kind = Kind::Syscall {
        name: w.name,
        args,
        result,
    };
}

/// What the part of a line after its pid and timestamp is.
#[derive(Debug)]
enum Body {
    /// `name(`…; `args` is the offset just after the parenthesis.
    Call {
        name: Range<usize>,
        args: usize,
    },
    /// `<... name resumed>`…; `tail` is the offset just after the marker.
    Resumed {
        name: Range<usize>,
        tail: usize,
    },
    /// `--- body ---`
    Signal(Range<usize>),
    /// `+++ body +++`
    Exit(Range<usize>),
    Text,
}

fn classify(b: &[u8], body: usize, end: usize) -> Body {
    let s = &b[body..end];
    if let Some(r) = between(s, b"--- ", b" ---") {
        return Body::Signal(body + r.start..body + r.end);
    }
    if let Some(r) = between(s, b"+++ ", b" +++") {
        return Body::Exit(body + r.start..body + r.end);
    }
    if s.starts_with(b"<... ") {
        let start = body + 5;
        let name_end = ident_end(b, start, end);
        if name_end > start && b[name_end..end].starts_with(RESUMED) {
            return Body::Resumed {
                name: start..name_end,
                tail: name_end + RESUMED.len(),
            };
        }
        return Body::Text;
    }
    let name_end = ident_end(b, body, end);
    if name_end > body && name_end < end && b[name_end] == b'(' {
        return Body::Call {
            name: body..name_end,
            args: name_end + 1,
        };
    }
    Body::Text
}

/// The range strictly between `open` and `close` when `s` is `open…close`.
fn between(s: &[u8], open: &[u8], close: &[u8]) -> Option<Range<usize>> {
    (s.len() >= open.len() + close.len() && s.starts_with(open) && s.ends_with(close))
        .then(|| open.len()..s.len() - close.len())
}

/// Split off the pid column and timestamp: returns the pid, if any, and the
/// offset where the body starts.
fn parse_prefix(b: &[u8], end: usize) -> (Option<u32>, usize) {
    let mut pid = None;
    let mut i = 0;
    if b[..end].starts_with(b"[pid ") {
        let start = skip_ws(b, 5, end);
        let digits_end = digits_end(b, start, end);
        if digits_end > start && digits_end < end && b[digits_end] == b']' {
            pid = parse_pid(&b[start..digits_end]);
            i = digits_end + 1;
        }
    } else {
        let digits_end = digits_end(b, 0, end);
        if digits_end > 0 && digits_end < end {
            let after = match b[digits_end] {
                b' ' | b'\t' => Some(digits_end),
                // `-Y` prints the command name after the pid: `123<sh>`.
                b'<' => memchr(b'>', &b[digits_end..end]).map(|p| digits_end + p + 1),
                _ => None,
            };
            if let (Some(after), Some(p)) = (after, parse_pid(&b[..digits_end])) {
                if after < end && matches!(b[after], b' ' | b'\t') {
                    pid = Some(p);
                    i = after;
                }
            }
        }
    }
    i = skip_ws(b, i, end);
    // Nothing strace prints as a body starts with a digit, so a leading token of
    // digits, dots and colons followed by a blank is a timestamp.
    let mut j = i;
    while j < end && matches!(b[j], b'0'..=b'9' | b'.' | b':') {
        j += 1;
    }
    if j > i && b[i].is_ascii_digit() && j < end && matches!(b[j], b' ' | b'\t') {
        i = skip_ws(b, j, end);
    }
    (pid, i)
}

fn parse_pid(digits: &[u8]) -> Option<u32> {
    parse_u32(digits).filter(|&n| n <= PID_MAX)
}

/// The ranges of args and result of a call whose arguments start at
/// `args_start`: the args run to the matching `)`, the result from after
/// ` = ` to the end, less a `-T` duration. A call with no closing parenthesis
/// (truncated, or `<detached ...>`) keeps what there is as args and an empty result.
fn call_ranges(b: &[u8], args_start: usize, end: usize) -> (Range<usize>, Range<usize>) {
    let end = trim_end(b, args_start, end);
    let e = strip_duration(b, args_start, end);
    match find_close(b, args_start, e) {
        Scan::Closed(c) => {
            let i = skip_ws(b, c + 1, e);
            let result = if i < e && b[i] == b'=' {
                skip_ws(b, i + 1, e)..e
            } else {
                e..e
            };
            (args_start..c, result)
        }
        _ => {
            let mut a = e;
            if b[args_start..a].ends_with(DETACHED) {
                a = trim_end(b, args_start, a - DETACHED.len());
            }
            (args_start..a, e..e)
        }
    }
}

/// For a call line ending in `<unfinished ...>` outside any string, the end
/// of the part to keep when its tail is joined.
fn unfinished_head(b: &[u8], args: usize, end: usize) -> Option<usize> {
    if end < args + UNFINISHED.len() || !b[..end].ends_with(UNFINISHED) {
        return None;
    }
    let marker = end - UNFINISHED.len();
    match find_close(b, args, marker) {
        // The marker is the tail of a string cut short, not strace's own.
        Scan::InString => None,
        _ => Some(trim_end(b, args, marker)),
    }
}

/// Whether joining `head` and `tail` of a resumed call needs a blank between
/// them: strace prints `read(3,  <unfinished ...>` and then either
/// `<... read resumed>"abc", 3) = 3` or `<... read resumed> "abc", 3) = 3`.
fn needs_space(head_last: Option<&u8>, tail_first: Option<&u8>) -> bool {
    match (head_last, tail_first) {
        (Some(&h), Some(&t)) => !matches!(h, b'(' | b'[' | b'{') && !matches!(t, b')' | b']' | b'}' | b','),
        _ => false,
    }
}

/// Whether the line is a `-k` stack frame: ` > /lib/libc.so.6(read+0x12) [0x...]`.
fn is_stack_frame(b: &[u8], end: usize) -> bool {
    let s = &b[..end];
    s.starts_with(b" > ") && s.ends_with(b"]") && memchr::memmem::find(s, b" [0x").is_some()
}

#[derive(Debug, PartialEq, Eq)]
enum Scan {
    /// The unmatched `)` that closes the argument list is at this offset.
    Closed(usize),
    /// The range ended with brackets still open.
    Open,
    /// The range ended inside a quoted string.
    InString,
    /// The range ended inside something taken for a `-y` decoration.
    InDecoration,
}

/// Find the `)` closing an argument list that starts at `from`, minding quoted
/// strings and nested brackets.
fn find_close(b: &[u8], from: usize, end: usize) -> Scan {
    match scan(b, from, end, true) {
        // The `<` that opened it was not a decoration after all.
        Scan::InDecoration => scan(b, from, end, false),
        s => s,
    }
}

fn scan(b: &[u8], from: usize, end: usize, decorations: bool) -> Scan {
    let mut depth = 0u32;
    let mut i = from;
    while i < end {
        match b[i] {
            b'"' => match skip_string(b, i + 1, end) {
                Some(next) => {
                    i = next;
                    continue;
                }
                None => return Scan::InString,
            },
            b'(' | b'[' | b'{' => depth += 1,
            b')' if depth == 0 => return Scan::Closed(i),
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            // `-y` prints paths after fds (`3</etc/passwd>`, `AT_FDCWD</tmp>`)
            // unquoted, and a path may hold unbalanced brackets.
            b'<' if decorations && i > from && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') => {
                match skip_decoration(b, i + 1, end) {
                    Some(next) => {
                        i = next;
                        continue;
                    }
                    None => return Scan::InDecoration,
                }
            }
            _ => {}
        }
        i += 1;
    }
    Scan::Open
}

/// Offset just past the closing quote of a string whose body starts at `i`.
fn skip_string(b: &[u8], mut i: usize, end: usize) -> Option<usize> {
    while i < end {
        let p = i + memchr2(b'"', b'\\', &b[i..end])?;
        if b[p] == b'"' {
            return Some(p + 1);
        }
        i = p + 2;
    }
    None
}

/// Offset just past the `>` closing a `-y`/`-yy` decoration whose body starts
/// at `i`. strace escapes `<`, `>` and `"` in paths, but `-yy` nests
/// decorations (`2</dev/null<char 1:3>>`) and socket ones hold `->` inside
/// brackets (`<TCP:[1.2.3.4:5->6.7.8.9:10]>`) and quoted names.
fn skip_decoration(b: &[u8], mut i: usize, end: usize) -> Option<usize> {
    let (mut angle, mut square) = (1u32, 0u32);
    while i < end {
        match b[i] {
            b'\\' => i += 1,
            b'"' => {
                i = skip_string(b, i + 1, end)?;
                continue;
            }
            b'[' => square += 1,
            b']' => square = square.saturating_sub(1),
            b'<' if square == 0 => angle += 1,
            b'>' if square == 0 => {
                angle -= 1;
                if angle == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The end of `b[start..end]` without a trailing `-T` duration like ` <0.000123>`.
fn strip_duration(b: &[u8], start: usize, end: usize) -> usize {
    if end <= start || b[end - 1] != b'>' {
        return end;
    }
    let Some(lt) = memrchr(b'<', &b[start..end]).map(|p| start + p) else {
        return end;
    };
    let inner = &b[lt + 1..end - 1];
    let is_duration =
        !inner.is_empty() && inner.iter().all(|c| c.is_ascii_digit() || *c == b'.') && lt > start && b[lt - 1] == b' ';
    if is_duration {
        trim_end(b, start, lt)
    } else {
        end
    }
}

/// End of a `[a-z_][a-z0-9_]*` identifier starting at `i` (`i` itself when there is none).
fn ident_end(b: &[u8], i: usize, end: usize) -> usize {
    if i >= end || !matches!(b[i], b'a'..=b'z' | b'_') {
        return i;
    }
    let mut j = i + 1;
    while j < end && matches!(b[j], b'a'..=b'z' | b'0'..=b'9' | b'_') {
        j += 1;
    }
    j
}

fn skip_ws(b: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testing::{assert_well_formed as check_wellformed, parse_all};
    use proptest::prelude::*;

    fn parse(input: &str) -> Vec<Record> {
        parse_all(StraceParser::default(), input)
    }

    /// Name, args and result of a syscall record.
    fn call(r: &Record) -> (&str, &str, &str) {
        match &r.kind {
            Kind::Syscall { name, args, result } => {
                (&r.text[name.clone()], &r.text[args.clone()], &r.text[result.clone()])
            }
            other => panic!("line {}: not a syscall: {other:?} in {:?}", r.line, r.text),
        }
    }

    fn at(records: &[Record], line: u64) -> &Record {
        records
            .iter()
            .find(|r| r.line == line)
            .unwrap_or_else(|| panic!("no record for line {line}"))
    }

    /// Checks shared by every real capture; returns the records.
    fn check_fixture(input: &str) -> Vec<Record> {
        let records = parse(input);
        check_wellformed(&records);
        let lines: Vec<&str> = input.lines().collect();
        let non_blank = lines.iter().filter(|l| !l.trim().is_empty()).count();
        // A merged record no longer shows its tail's marker; an orphan tail does.
        let resumed = lines.iter().filter(|l| l.contains(" resumed>")).count();
        let orphans = records.iter().filter(|r| r.text.contains(" resumed>")).count();
        assert_eq!(records.len() + resumed - orphans, non_blank);
        let strace_like = lines.iter().filter(|l| looks_like_strace(l)).count();
        assert!(
            strace_like * 10 > non_blank * 9,
            "{strace_like} of {non_blank} look like strace"
        );
        for r in &records {
            let original = lines[(r.line - 1) as usize];
            match &r.kind {
                Kind::Text => assert!(original.starts_with("strace: "), "unparsed: {original:?}"),
                Kind::Event { .. } => panic!("the strace parser makes no other-dialect events: {original:?}"),
                Kind::Syscall { .. } => {
                    let (name, args, result) = call(r);
                    assert!(
                        name.bytes().all(|c| matches!(c, b'a'..=b'z' | b'0'..=b'9' | b'_')),
                        "{name:?}"
                    );
                    assert!(!args.contains("<unfinished ...>") || r.text != original);
                    // Never a `-T` duration in the result.
                    assert!(
                        strip_duration(result.as_bytes(), 0, result.len()) == result.len(),
                        "{result:?}"
                    );
                    if !original.contains("<unfinished ...>") {
                        assert_eq!(r.text, original, "a complete line is kept as is");
                    }
                }
                Kind::Signal { .. } | Kind::Exit { .. } => assert_eq!(r.text, original),
            }
        }
        records
    }

    fn assert_pids(records: &[Record], expect_pid: bool) {
        for r in records {
            assert_eq!(r.pid.is_some(), expect_pid, "pid of {:?}", r.text);
            if let Some(pid) = r.pid {
                assert!(r.text.contains(&pid.to_string()));
            }
        }
    }

    fn count_kind(records: &[Record], f: impl Fn(&Kind) -> bool) -> usize {
        records.iter().filter(|r| f(&r.kind)).count()
    }

    const PLAIN: &str = include_str!("../../../tests/fixtures/strace/plain.strace");
    const F: &str = include_str!("../../../tests/fixtures/strace/f.strace");
    const F_TT_T: &str = include_str!("../../../tests/fixtures/strace/f-tt-T.strace");
    const TTT: &str = include_str!("../../../tests/fixtures/strace/ttt.strace");
    const T: &str = include_str!("../../../tests/fixtures/strace/t.strace");
    const R: &str = include_str!("../../../tests/fixtures/strace/r.strace");
    const YY: &str = include_str!("../../../tests/fixtures/strace/yy.strace");
    const FF_SH: &str = include_str!("../../../tests/fixtures/strace/ff.strace.4572");
    const FF_CAT: &str = include_str!("../../../tests/fixtures/strace/ff.strace.4574");
    const SIGNAL_KILLED: &str = include_str!("../../../tests/fixtures/strace/signal-killed.strace");
    const THREADS: &str = include_str!("../../../tests/fixtures/strace/threads-f.strace");
    const PID_BRACKETS: &str = include_str!("../../../tests/fixtures/strace/pid-brackets-rewritten-from-f.strace");
    const K: &str = include_str!("../../../tests/fixtures/strace/k.strace");

    #[test]
    fn plain_fixture() {
        let records = check_fixture(PLAIN);
        assert_eq!(records.len(), 46);
        assert_pids(&records, false);
        assert_eq!(
            call(at(&records, 1)),
            (
                "execve",
                r#""/usr/bin/cat", ["cat", "/etc/hostname"], 0x7ffc4be5a908 /* 2 vars */"#,
                "0"
            )
        );
        assert_eq!(call(at(&records, 2)), ("brk", "NULL", "0x55e105d39000"));
        assert_eq!(
            call(at(&records, 4)),
            (
                "access",
                r#""/etc/ld.so.preload", R_OK"#,
                "-1 ENOENT (No such file or directory)"
            )
        );
        assert_eq!(call(at(&records, 40)), ("read", r#"3, "", 131072"#, "0"));
        assert_eq!(call(at(&records, 45)), ("exit_group", "0", "?"));
        let exit = at(&records, 46);
        assert_eq!(exit.kind, Kind::Exit { body: 4..17 });
        assert_eq!(&exit.text[4..17], "exited with 0");
    }

    #[test]
    fn truncated_binary_string() {
        let records = check_fixture(PLAIN);
        let (name, args, result) = call(at(&records, 10));
        assert_eq!(name, "read");
        assert_eq!(
            args,
            r#"3, "\177ELF\2\1\1\3\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0\20t\2\0\0\0\0\0"..., 832"#
        );
        assert_eq!(result, "832");
    }

    #[test]
    fn timestamp_fixtures() {
        for (input, ts) in [(T, "02:08:26"), (TTT, "1795831706.518172"), (R, "0.000039")] {
            let records = check_fixture(input);
            assert_eq!(records.len(), 46);
            assert_pids(&records, false);
            let r = at(&records, 4);
            assert_eq!(
                call(r),
                (
                    "access",
                    r#""/etc/ld.so.preload", R_OK"#,
                    "-1 ENOENT (No such file or directory)"
                )
            );
            let Kind::Syscall { name, .. } = &r.kind else {
                unreachable!()
            };
            assert_eq!(r.text[..name.start].trim(), ts);
            for r in &records {
                if let Kind::Syscall { name, .. } | Kind::Exit { body: name } = &r.kind {
                    assert!(r.text[..name.start]
                        .trim_start()
                        .starts_with(|c: char| c.is_ascii_digit()));
                }
            }
        }
    }

    #[test]
    fn follow_forks_fixture() {
        let records = check_fixture(F);
        assert_pids(&records, true);
        assert_eq!(count_kind(&records, |k| matches!(k, Kind::Text)), 0);
        assert!(records.iter().all(|r| !r.text.contains("resumed>")), "no orphans");
        // Line 50 is `4544  newfstatat(AT_FDCWD, "/usr/bin/cat",  <unfinished ...>`,
        // resumed on line 52 with `{st_mode=...}, 0) = 0`.
        let r = at(&records, 50);
        assert_eq!(r.pid, Some(4544));
        assert_eq!(
            r.text,
            r#"4544  newfstatat(AT_FDCWD, "/usr/bin/cat", {st_mode=S_IFREG|0755, st_size=44016, ...}, 0) = 0"#
        );
        assert_eq!(
            call(r),
            (
                "newfstatat",
                r#"AT_FDCWD, "/usr/bin/cat", {st_mode=S_IFREG|0755, st_size=44016, ...}, 0"#,
                "0"
            )
        );
        assert_eq!(
            r.kind,
            Kind::Syscall {
                name: 6..16,
                args: 17..88,
                result: 92..93
            }
        );
        // `4545  set_robust_list(0x7f79835e3a20, 24 <unfinished ...>` + `<... set_robust_list resumed>)    = 0`.
        let r = at(&records, 49);
        assert_eq!(r.text, "4545  set_robust_list(0x7f79835e3a20, 24)    = 0");
        assert_eq!(call(r), ("set_robust_list", "0x7f79835e3a20, 24", "0"));
        // `vfork( <unfinished ...>` … `<... vfork resumed>)              = 4546`.
        let r = at(&records, 55);
        assert_eq!(r.text, "4544  vfork()              = 4546");
        assert_eq!(call(r), ("vfork", "", "4546"));
        assert!(
            records.iter().all(|r| r.line != 51 && r.line != 52),
            "tails are merged away"
        );
        let wait = records
            .iter()
            .find(|r| r.text.starts_with("4544  wait4(-1, [{WIFEXITED"))
            .map(call);
        assert_eq!(
            wait,
            Some(("wait4", "-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL", "4546"))
        );
    }

    #[test]
    fn follow_forks_with_times_and_durations() {
        let records = check_fixture(F_TT_T);
        assert_pids(&records, true);
        assert_eq!(count_kind(&records, |k| matches!(k, Kind::Text)), 0);
        let r = at(&records, 49);
        assert_eq!(
            r.text,
            "4608  02:08:30.248054 set_robust_list(0x7f08baddda20, 24) = 0 <0.000125>"
        );
        assert_eq!(call(r), ("set_robust_list", "0x7f08baddda20, 24", "0"));
        let r = at(&records, 50);
        assert_eq!(r.pid, Some(4607));
        assert_eq!(r.text, r#"4607  02:08:30.248173 write(1, "hi\n", 3) = 3 <0.000038>"#);
        assert_eq!(call(r), ("write", r#"1, "hi\n", 3"#, "3"));
        assert_eq!(call(at(&records, 99)), ("exit_group", "0", "?"));
        let r = records.iter().find(|r| r.text.contains("rt_sigsuspend")).map(call);
        assert_eq!(
            r,
            Some((
                "rt_sigsuspend",
                "[], 8",
                "? ERESTARTNOHAND (To be restarted if no handler)"
            ))
        );
        for r in &records {
            if let Kind::Syscall { name, result, .. } = &r.kind {
                let prefix = &r.text[..name.start];
                assert!(
                    prefix.contains(':') && prefix.contains('.'),
                    "timestamp before the name"
                );
                assert!(!r.text[result.clone()].contains('<'), "no duration in {:?}", r.text);
            }
        }
    }

    #[test]
    fn per_pid_files() {
        for input in [FF_SH, FF_CAT] {
            let records = check_fixture(input);
            assert_pids(&records, false);
            assert_eq!(count_kind(&records, |k| matches!(k, Kind::Text)), 0);
        }
        let records = parse(FF_CAT);
        assert_eq!(
            call(at(&records, 1)),
            ("rt_sigprocmask", "SIG_SETMASK, [], ~[KILL STOP RTMIN RT_1], 8", "0")
        );
        assert!(matches!(records.last().map(|r| &r.kind), Some(Kind::Exit { .. })));
        let records = parse(FF_SH);
        assert!(records.iter().any(|r| r.text.starts_with("wait4(")));
    }

    #[test]
    fn fd_decorations_fixture() {
        let records = check_fixture(YY);
        assert_pids(&records, true);
        assert_eq!(
            call(at(&records, 5)),
            (
                "openat",
                r#"AT_FDCWD</tmp/cap>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC"#,
                "3</etc/ld.so.cache>"
            )
        );
        assert_eq!(
            call(at(&records, 114)),
            (
                "connect",
                r#"3<TCP:[7807]>, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, 16"#,
                "-1 ECONNREFUSED (Connection refused)"
            )
        );
        assert_eq!(
            call(at(&records, 117)),
            (
                "write",
                r#"2</dev/null<char 1:3>>, "bash: connect: Connection refuse"..., 34"#,
                "34"
            )
        );
    }

    #[test]
    fn signal_and_killed_fixture() {
        let records = check_fixture(SIGNAL_KILLED);
        assert_pids(&records, true);
        let signals: Vec<&str> = records
            .iter()
            .filter_map(|r| match &r.kind {
                Kind::Signal { body } => Some(&r.text[body.clone()]),
                _ => None,
            })
            .collect();
        assert_eq!(signals.len(), 2);
        assert_eq!(
            signals[1],
            "SIGCHLD {si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=4632, si_uid=0, si_status=SIGKILL, si_utime=0, si_stime=0}"
        );
        let exits: Vec<(Option<u32>, &str)> = records
            .iter()
            .filter_map(|r| match &r.kind {
                Kind::Exit { body } => Some((r.pid, &r.text[body.clone()])),
                _ => None,
            })
            .collect();
        assert_eq!(
            exits,
            [
                (Some(4633), "exited with 0"),
                (Some(4632), "killed by SIGKILL"),
                (Some(4631), "exited with 0")
            ]
        );
        // The sleeper was killed inside its call: strace closes it with
        // `<... clock_nanosleep resumed> <unfinished ...>) = ?`.
        let r = at(&records, 173);
        assert_eq!(
            r.text,
            "4632  clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=5, tv_nsec=0}, <unfinished ...>) = ?"
        );
        assert_eq!(
            call(r),
            (
                "clock_nanosleep",
                "CLOCK_REALTIME, 0, {tv_sec=5, tv_nsec=0}, <unfinished ...>",
                "?"
            )
        );
    }

    #[test]
    fn threads_fixture() {
        let records = check_fixture(THREADS);
        assert_pids(&records, true);
        let r = at(&records, 72);
        let (name, args, result) = call(r);
        assert_eq!(name, "clone3");
        assert!(args.ends_with("=> {parent_tid=[4584]}, 88"), "{args}");
        assert_eq!(result, "4584");
        let r = at(&records, 74);
        assert_eq!(
            (r.pid, call(r)),
            (Some(4584), ("rseq", "0x7f35bb851fe0, 0x20, 0, 0x53053053", "0"))
        );
        let r = at(&records, 75);
        assert_eq!(r.pid, Some(4583));
        assert_eq!(call(r).2, "0x7f35bb030000");
        assert_eq!(count_kind(&records, |k| matches!(k, Kind::Exit { .. })), 3);
    }

    #[test]
    fn bracketed_pids() {
        let records = check_fixture(PID_BRACKETS);
        assert_pids(&records, true);
        assert_eq!(count_kind(&records, |k| matches!(k, Kind::Text)), 0);
        assert!(records.iter().all(|r| !r.text.contains("resumed>")), "no orphans");
        let r = at(&records, 11);
        assert_eq!(r.pid, Some(4544));
        assert_eq!(
            r.text,
            r#"[pid 4544] newfstatat(AT_FDCWD, "/usr/bin/cat", {st_mode=S_IFREG|0755, st_size=44016, ...}, 0) = 0"#
        );
        // The same calls as the `-f` capture it was rewritten from.
        let f = parse(F);
        // Only `wait4(-1,  <unfinished ...>` resumes after the excerpt ends.
        for r in &records {
            let twin = at(&f, r.line + 39);
            if r.text.ends_with("<unfinished ...>") {
                assert_eq!((r.pid, call(r)), (Some(4544), ("wait4", "-1,", "")));
            } else {
                assert_eq!((r.pid, call(r)), (twin.pid, call(twin)));
            }
        }
    }

    #[test]
    fn stack_frames_are_text() {
        let records = parse(K);
        check_wellformed(&records);
        let frames = K.lines().filter(|l| l.starts_with(" > ")).count();
        assert_eq!(count_kind(&records, |k| matches!(k, Kind::Text)), frames);
        assert_eq!(records.len(), K.lines().count());
        assert_eq!(call(at(&records, 1)), ("write", r#"1, "hi\n", 3"#, "3"));
        assert!(K.lines().all(looks_like_strace));
        assert_eq!(crate::parse::detect(K.lines()), crate::parse::Format::Strace);
    }

    #[test]
    fn detects_fixtures_as_strace() {
        for input in [
            PLAIN,
            F,
            F_TT_T,
            TTT,
            T,
            R,
            YY,
            FF_SH,
            FF_CAT,
            SIGNAL_KILLED,
            THREADS,
            PID_BRACKETS,
        ] {
            assert_eq!(crate::parse::detect(input.lines()), crate::parse::Format::Strace);
        }
    }

    #[test]
    fn shapes_are_recognized() {
        for line in [
            r#"openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3"#,
            "12345 openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3",
            "[pid 12345] openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3",
            "[pid  4567] 12:34:56.123456 read(3, \"\", 10) = 0 <0.000010>",
            "12:34:56 close(3) = 0",
            "1700000000.123456 close(3) = 0",
            "1700000000 close(3) = 0",
            "     0.000123 close(3) = 0",
            "4975<sh> brk(NULL) = 0x55e4b9837000",
            "syscall_0x1b6(0x1, 0x2) = -1 ENOSYS (Function not implemented)",
            "100  read(3,  <unfinished ...>",
            "100  <... read resumed>\"abc\", 4096) = 3",
            "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=2, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---",
            "--- stopped by SIGSTOP ---",
            "+++ exited with 0 +++",
            "123 +++ killed by SIGKILL +++",
            "+++ killed by SIGSEGV (core dumped) +++",
            "strace: Process 123 attached",
            "exit_group(0) = ?",
            "close(3) = ? <unavailable>",
        ] {
            assert!(looks_like_strace(line), "{line}");
        }
    }

    #[test]
    fn text_logs_are_not_strace() {
        for line in [
            "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block blk_38865049064139660 terminating",
            "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected",
            "Nov 28 02:08:30 vm sshd[1234]: Accepted publickey for root from 10.0.0.1 port 5555 ssh2",
            r#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#,
            "Starting foo(bar) = ok",
            "2024-01-01 12:00:00 main(): started = true",
            "12:00:01 call(x) returned",
            "do_thing(a, b)",
            "--- separator ---",
            "[pid 12] Handler(x) = 1",
            "",
        ] {
            assert!(!looks_like_strace(line), "{line}");
        }
    }

    #[test]
    fn tricky_strings() {
        let input = concat!(
            r#"write(1, "a) = 4 (\"b\" <unfinished ...>", 30) = 30"#,
            "\n",
            r#"write(1, "x(y"..., 4096) = 4096"#,
            "\n",
            r#"openat(AT_FDCWD, "/tmp/a,b=c{d[e", O_RDONLY) = -1 ENOENT (No such file or directory)"#,
            "\n",
            r#"read(3</tmp/a\74b\76)c\"d/f(>, "", 131072) = 0"#,
            "\n",
            "mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, -1, 0) = 0x55d1c2a3e000",
            "\n",
            "fcntl(3, F_GETFL) = 0x8002 (flags O_RDWR|O_LARGEFILE)",
            "\n",
            r#"write(1, "abc <unfinished ...>"#,
            "\n",
            "restart_syscall(<... resumed interrupted clock_nanosleep ...>) = 0",
            "\n",
        );
        let records = parse(input);
        check_wellformed(&records);
        assert_eq!(records.len(), 8);
        assert_eq!(
            call(&records[0]),
            ("write", r#"1, "a) = 4 (\"b\" <unfinished ...>", 30"#, "30")
        );
        assert_eq!(call(&records[1]), ("write", r#"1, "x(y"..., 4096"#, "4096"));
        assert_eq!(
            call(&records[2]),
            (
                "openat",
                r#"AT_FDCWD, "/tmp/a,b=c{d[e", O_RDONLY"#,
                "-1 ENOENT (No such file or directory)"
            )
        );
        assert_eq!(
            call(&records[3]),
            ("read", r#"3</tmp/a\74b\76)c\"d/f(>, "", 131072"#, "0")
        );
        assert_eq!(call(&records[4]).2, "0x55d1c2a3e000");
        assert_eq!(call(&records[5]).2, "0x8002 (flags O_RDWR|O_LARGEFILE)");
        // Cut inside a string: the marker is string text, so the call is complete as far as it goes.
        assert_eq!(call(&records[6]), ("write", r#"1, "abc <unfinished ...>"#, ""));
        assert_eq!(
            call(&records[7]),
            ("restart_syscall", "<... resumed interrupted clock_nanosleep ...>", "0")
        );
    }

    #[test]
    fn resumed_join_spacing() {
        for tail in [
            r#"<... read resumed>"abc", 4096) = 3"#,
            r#"<... read resumed> "abc", 4096) = 3"#,
        ] {
            let input = format!("100  read(3,  <unfinished ...>\n100  {tail}\n");
            let records = parse(&input);
            assert_eq!(records.len(), 1);
            let r = &records[0];
            assert_eq!((r.line, r.pid), (1, Some(100)));
            assert_eq!(r.text, r#"100  read(3, "abc", 4096) = 3"#);
            assert_eq!(
                r.kind,
                Kind::Syscall {
                    name: 5..9,
                    args: 10..24,
                    result: 28..29
                }
            );
        }
        let records = parse("clone3({flags=CLONE_VM, exit_signal=0} <unfinished ...>\n<... clone3 resumed> => {parent_tid=[7]}, 88) = 7\n");
        assert_eq!(
            records[0].text,
            "clone3({flags=CLONE_VM, exit_signal=0} => {parent_tid=[7]}, 88) = 7"
        );
        assert_eq!(call(&records[0]).2, "7");
    }

    #[test]
    fn interleaved_calls_come_out_in_line_order() {
        let input = "\
1 read(0,  <unfinished ...>
2 write(1, \"a\", 1 <unfinished ...>
3 getpid() = 3

2 <... write resumed>) = 1
1 <... read resumed>\"b\", 1) = 1
";
        let mut parser = StraceParser::default();
        let mut out = Vec::new();
        for (i, line) in input.lines().enumerate() {
            parser.push(i as u64 + 1, line, &mut out);
            if i == 4 {
                assert!(out.is_empty(), "held back behind line 1");
            }
        }
        assert_eq!(out.len(), 3, "released once the oldest call resumed");
        parser.finish(&mut out);
        assert_eq!(out.len(), 3);
        let texts: Vec<&str> = out.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(
            texts,
            ["1 read(0, \"b\", 1) = 1", "2 write(1, \"a\", 1) = 1", "3 getpid() = 3"]
        );
        assert_eq!(out.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn orphan_resumed() {
        let records = parse("77  <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 78 <0.001>\n<... read resumed>)\n<... read resumed");
        check_wellformed(&records);
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].pid, Some(77));
        assert_eq!(
            call(&records[0]),
            ("wait4", "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL", "78")
        );
        assert_eq!(call(&records[1]), ("read", "", ""));
        assert_eq!(records[2].kind, Kind::Text);
    }

    #[test]
    fn mismatched_resume_releases_both() {
        let records = parse("5 read(0,  <unfinished ...>\n5 <... write resumed>) = 1\n");
        assert_eq!(records.len(), 2);
        assert_eq!(call(&records[0]), ("read", "0,", ""));
        assert_eq!(call(&records[1]), ("write", "", "1"));
    }

    #[test]
    fn never_resumed() {
        let input = "9 futex(0x7f, FUTEX_WAIT, 0, NULL <unfinished ...>\n10 getpid() = 10\n";
        let records = parse(input);
        assert_eq!(records.len(), 2);
        let r = &records[0];
        assert_eq!(r.text, "9 futex(0x7f, FUTEX_WAIT, 0, NULL <unfinished ...>");
        assert_eq!(call(r), ("futex", "0x7f, FUTEX_WAIT, 0, NULL", ""));
        // A second call of the same thread means the first one is over.
        let records = parse("9 read(0,  <unfinished ...>\n9 close(0) = 0\n9 getpid( <unfinished ...>\n");
        assert_eq!(records.len(), 3);
        assert_eq!(call(&records[0]), ("read", "0,", ""));
        assert_eq!(call(&records[2]), ("getpid", "", ""));
        // So is its death.
        let mut parser = StraceParser::default();
        let mut out = Vec::new();
        parser.push(1, "9 pause( <unfinished ...>", &mut out);
        parser.push(2, "9 +++ killed by SIGTERM +++", &mut out);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn hold_back_is_bounded() {
        let mut parser = StraceParser::default();
        let mut out = Vec::new();
        parser.push(1, "1 read(0,  <unfinished ...>", &mut out);
        for n in 2..=(MAX_HELD as u64 + 10) {
            parser.push(n, "2 getpid() = 2", &mut out);
            assert!(parser.queue.held_len() <= MAX_HELD);
        }
        assert_eq!(out.len(), MAX_HELD + 10);
        assert_eq!(call(&out[0]), ("read", "0,", ""));
        assert!(parser.queue.nothing_waits());
        parser.push(MAX_HELD as u64 + 11, "1 <... read resumed>\"x\", 1) = 1", &mut out);
        parser.finish(&mut out);
        check_wellformed(&out);
        // The tail that came after all is the whole call, at the tail's line.
        let last = out.last().unwrap_or_else(|| unreachable!());
        assert_eq!(call(last), ("read", "0, \"x\", 1", "1"));
        assert_eq!(last.line, MAX_HELD as u64 + 11);
        // A late tail of another call than the one given up stays alone.
        parser.push(MAX_HELD as u64 + 12, "3 read(0,  <unfinished ...>", &mut out);
        for n in 0..(MAX_HELD as u64 + 1) {
            parser.push(MAX_HELD as u64 + 13 + n, "2 getpid() = 2", &mut out);
        }
        parser.push(2 * MAX_HELD as u64 + 20, "3 <... write resumed>\"x\", 1) = 1", &mut out);
        parser.finish(&mut out);
        assert_eq!(
            call(out.last().unwrap_or_else(|| unreachable!())),
            ("write", "\"x\", 1", "1")
        );
    }

    #[test]
    fn odd_lines_are_text_not_dropped() {
        let input =
            "strace: Process 123 attached\n\n   \nhello world\n<... >\n[pid x] foo\n+++\n--- ---\n\u{1F600}(x) = 1\n";
        let records = parse(input);
        check_wellformed(&records);
        assert_eq!(records.len(), 7);
        assert!(records.iter().all(|r| r.kind == Kind::Text));
        assert_eq!(
            records.iter().map(|r| r.line).collect::<Vec<_>>(),
            [1, 4, 5, 6, 7, 8, 9]
        );
    }

    #[test]
    fn detached_and_truncated() {
        let records =
            parse("read(0,  <detached ...>\nwrite(1, \"abc\", 3\nopenat(AT_FDCWD, \"/x\", O_RDONLY) = 3\u{e9}");
        check_wellformed(&records);
        assert_eq!(call(&records[0]), ("read", "0,", ""));
        assert_eq!(call(&records[1]), ("write", "1, \"abc\", 3", ""));
        assert_eq!(call(&records[2]).2, "3\u{e9}");
    }

    const FRAGMENTS: &[&str] = &[
        "123 ",
        "[pid 4] ",
        "12:34:56.1 ",
        "  0.1 ",
        "read",
        "openat",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "\"",
        "\\",
        "\\\"",
        ", ",
        " = ",
        "-1 ENOENT (No such file)",
        " <0.000123>",
        " <unfinished ...>",
        "<... read resumed>",
        "<... openat resumed> ",
        "3</etc/passwd>",
        "AT_FDCWD<",
        "<TCP:[1->2]>",
        ">",
        "<",
        "...",
        "--- ",
        " ---",
        "+++ ",
        " +++",
        "SIGCHLD",
        "é",
        "\u{1F600}",
        "strace: ",
        " > ",
        "?",
        "0x1f",
        "resumed>",
        " ",
    ];

    fn strace_like() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..16).prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn arbitrary_lines_never_break_it(lines in prop::collection::vec(any::<String>(), 0..20)) {
            let mut parser = StraceParser::default();
            let mut out = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                let _ = looks_like_strace(line);
                parser.push(i as u64 + 1, line, &mut out);
            }
            parser.finish(&mut out);
            check_wellformed(&out);
            // Every non-blank line is a record, or the tail of one.
            let non_blank = lines.iter().filter(|l| !l.trim().is_empty()).count();
            let tails = lines.iter().filter(|l| l.contains(" resumed>")).count();
            prop_assert!(out.len() <= non_blank && out.len() + tails >= non_blank);
        }

        #[test]
        fn strace_like_lines_never_break_it(lines in prop::collection::vec(strace_like(), 0..40)) {
            let mut parser = StraceParser::default();
            let mut out = Vec::new();
            for (i, line) in lines.iter().enumerate() {
                let _ = looks_like_strace(line);
                parser.push(i as u64 + 1, line, &mut out);
            }
            parser.finish(&mut out);
            check_wellformed(&out);
            let non_blank = lines.iter().filter(|l| !l.trim().is_empty()).count();
            let tails = lines.iter().filter(|l| l.contains(" resumed>")).count();
            prop_assert!(out.len() <= non_blank && out.len() + tails >= non_blank);
        }
    }
}
