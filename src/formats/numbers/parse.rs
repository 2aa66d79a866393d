//! Bare system-call numbers, as research data sets ship their traces.
//!
//! Two layouts are understood:
//!
//! - **Sequence** (ADFA-LD): every token of a line is one system call, in order;
//!   an ADFA-LD trace is one file holding one line of a few dozen to a few
//!   thousand numbers separated by spaces. Records have no pid.
//! - **Pairs** (the UNM data of Forrest et al.): each line is `pid number`.
//!   Records carry the pid.
//!
//! The first line made only of integers decides the layout for the whole input:
//! exactly two integers means pairs, anything else a sequence. Deciding once,
//! rather than line by line, keeps a wrapped sequence whose line happens to hold
//! two numbers from being read as a pid and a call.
//!
//! Each system call becomes one [`Kind::Event`] record with [`DIALECT`],
//! whose text is readable rather than the raw number: `open (5)` for a sequence,
//! `1234 open (5)` for a pair (the pid first, as strace `-f` writes it), and
//! `syscall_400` (or `1234 syscall_400`) for a number the table does not know.
//! The `name` range covers just the name (`open`, `syscall_400`), the only part
//! [`crate::normalize`] keeps; `args` and `result` are empty. All the calls of
//! a line share its line number.
//!
//! Numbers are looked up in one architecture's table ([`Arch::I386`] by
//! default, because ADFA-LD was recorded on 32-bit x86 Linux). The files carry
//! no hint of their architecture, so nothing here guesses it: reading x86_64
//! numbers with the i386 table gives real but wrong names.
//!
//! A line that is not made only of integers (a header, a comment, a CSV row, a
//! number too big for 32 bits) becomes one [`Kind::Text`] record of the whole
//! line, and none of its numbers become calls: a text log forced through this
//! parser should not turn its dates and counters into phantom system calls. In
//! the pairs layout, a line of integers that is not exactly two is text too.
//!
//! It does not decode the UNM data's own numbering (some of it comes from other
//! systems than Linux), and keeps no per-trace state beyond the layout.
//!
//! Lines may be any text. Only ASCII bytes are searched for, and the only text
//! sliced is text this module wrote, so nothing panics on arbitrary input.

use super::DIALECT;
use crate::parse::syscall_table::{self, Arch};
use crate::parse::{Kind, Parser, Record};

/// Syscall numbers are small (i386 and x86_64 stay below 512), so a line of
/// bigger numbers is some other list of integers. For detection only: the
/// parser names any number it is given.
const MAX_SYSCALL: u32 = 1024;

/// Fewest numbers on a line for detection to take it as a sequence: one or two
/// integers alone on a line is too common in ordinary logs to mean anything.
const MIN_SEQUENCE: usize = 3;

/// Whether `line` has the shape of a number trace, for format detection: only
/// decimal integers separated by white space, and either at least three, each
/// below 1024 (an ADFA-LD sequence), or exactly two, the second below 1024 (a
/// UNM `pid number` line).
///
/// Text logs, strace and sysdig lines all hold letters or punctuation and never
/// match; a lone number or a comma-separated row does not either.
pub fn looks_like_numbers(line: &str) -> bool {
    match scan(line.as_bytes()) {
        Some(s) if s.count == 2 => s.max_rest < MAX_SYSCALL,
        Some(s) if s.count >= MIN_SEQUENCE => s.first < MAX_SYSCALL && s.max_rest < MAX_SYSCALL,
        _ => false,
    }
}

/// How the calls of an input are laid out; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    Sequence,
    Pairs,
}

/// Parser for syscall-number traces; see the module documentation.
#[derive(Debug)]
pub struct NumbersParser {
    arch: Arch,
    /// Decided by the first line made only of integers.
    layout: Option<Layout>,
}

impl Default for NumbersParser {
    /// Numbers read as i386 system calls, as in ADFA-LD and the UNM Linux traces.
    fn default() -> Self {
        Self::new(Arch::I386)
    }
}

impl NumbersParser {
    /// A parser that names numbers from `arch`'s system-call table.
    pub fn new(arch: Arch) -> Self {
        NumbersParser { arch, layout: None }
    }

    /// A parser for traces of x86_64 system-call numbers.
    pub fn x86_64() -> Self {
        Self::new(Arch::X86_64)
    }

    /// The architecture whose table names the numbers.
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// One call's record; see the module documentation for its text.
    fn event(&self, line_no: u64, pid: Option<u32>, number: u32) -> Record {
        let name = syscall_table::name(self.arch, number);
        let mut text = String::with_capacity(11 + name.map_or(16, str::len) + 13);
        if let Some(pid) = pid {
            push_u32(&mut text, pid);
            text.push(' ');
        }
        let start = text.len();
        let end = match name {
            Some(name) => {
                text.push_str(name);
                let end = text.len();
                text.push_str(" (");
                push_u32(&mut text, number);
                text.push(')');
                end
            }
            None => {
                text.push_str("syscall_");
                push_u32(&mut text, number);
                text.len()
            }
        };
        let empty = text.len()..text.len();
        Record {
            line: line_no,
            text,
            pid,
            process: None,
            kind: Kind::Event {
                name: start..end,
                args: empty.clone(),
                result: empty,
                dialect: DIALECT,
            },
        }
    }
}

impl Parser for NumbersParser {
    fn push(&mut self, line_no: u64, line: &str, out: &mut Vec<Record>) {
        if line.trim().is_empty() {
            return;
        }
        let b = line.as_bytes();
        // A first pass only validates (it stops at the first letter of a text
        // line), so no call is emitted for a line that turns out to be text.
        let Some(shape) = scan(b) else {
            out.push(text_record(line_no, line));
            return;
        };
        let layout = *self.layout.get_or_insert(if shape.count == 2 {
            Layout::Pairs
        } else {
            Layout::Sequence
        });
        match layout {
            Layout::Pairs if shape.count == 2 => out.push(self.event(line_no, Some(shape.first), shape.second)),
            Layout::Pairs => out.push(text_record(line_no, line)),
            Layout::Sequence => {
                out.reserve(shape.count);
                // Every token is an integer: `scan` said so.
                for number in Tokens::new(b).flatten() {
                    out.push(self.event(line_no, None, number));
                }
            }
        }
    }

    fn finish(&mut self, _out: &mut Vec<Record>) {}
}

fn text_record(line_no: u64, line: &str) -> Record {
    Record {
        line: line_no,
        text: line.to_owned(),
        pid: None,
        process: None,
        kind: Kind::Text,
    }
}

/// What a line made only of integers holds.
#[derive(Clone, Copy, Debug)]
struct Shape {
    /// How many integers.
    count: usize,
    first: u32,
    /// The second integer (0 when there is none).
    second: u32,
    /// The largest integer after the first (0 when there is none).
    max_rest: u32,
}

/// The shape of `b` if every white-space separated token is a decimal integer
/// that fits in 32 bits and there is at least one; `None` otherwise, found at
/// the first token that is not.
fn scan(b: &[u8]) -> Option<Shape> {
    let mut shape = Shape {
        count: 0,
        first: 0,
        second: 0,
        max_rest: 0,
    };
    for token in Tokens::new(b) {
        let n = token?;
        match shape.count {
            0 => shape.first = n,
            1 => shape.second = n,
            _ => {}
        }
        if shape.count > 0 {
            shape.max_rest = shape.max_rest.max(n);
        }
        shape.count += 1;
    }
    (shape.count > 0).then_some(shape)
}

/// The white-space separated tokens of a line, each as the integer it spells,
/// or `None` for a token that is not a decimal integer fitting in a `u32`.
struct Tokens<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Tokens<'a> {
    fn new(b: &'a [u8]) -> Self {
        Tokens { b, i: 0 }
    }
}

impl Iterator for Tokens<'_> {
    type Item = Option<u32>;

    fn next(&mut self) -> Option<Option<u32>> {
        let b = self.b;
        while self.i < b.len() && is_space(b[self.i]) {
            self.i += 1;
        }
        if self.i == b.len() {
            return None;
        }
        // Accumulate while the token is still a valid number; keep walking to
        // its end either way so the next token starts in the right place.
        let mut value = Some(0u32);
        while self.i < b.len() && !is_space(b[self.i]) {
            let c = b[self.i];
            value = match value {
                Some(v) if c.is_ascii_digit() => v.checked_mul(10).and_then(|v| v.checked_add(u32::from(c - b'0'))),
                _ => None,
            };
            self.i += 1;
        }
        Some(value)
    }
}

/// White space between numbers: what `str::trim` strips among ASCII bytes
/// (which includes the vertical tab, unlike `u8::is_ascii_whitespace`), so a
/// line `trim` calls blank has no tokens.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// Append `n` in decimal, without going through the formatting machinery: it
/// runs once or twice for each of millions of records.
fn push_u32(s: &mut String, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    s.extend(digits[i..].iter().map(|&d| char::from(d)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::testing::parse_all;
    use crate::parse::{detect, Format};
    use proptest::prelude::*;
    use std::path::{Path, PathBuf};

    const ADFA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/adfa-ld");
    const LOGHUB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/loghub-2k");
    const ADFA_FOLDERS: [&str; 3] = ["Training_Data_Master", "Validation_Data_Master", "Attack_Data_Master"];

    fn parse(input: &str) -> Vec<Record> {
        parse_all(NumbersParser::default(), input)
    }

    /// The name of an event record, panicking on anything else.
    fn name(r: &Record) -> &str {
        match &r.kind {
            Kind::Event { name, dialect, .. } if *dialect == DIALECT => &r.text[name.clone()],
            other => panic!("line {}: not a bare event: {other:?} in {:?}", r.line, r.text),
        }
    }

    fn names(records: &[Record]) -> Vec<&str> {
        records.iter().map(name).collect()
    }

    /// Every range of every record lies inside its text, on char boundaries.
    fn check_wellformed(records: &[Record]) {
        for r in records {
            match &r.kind {
                Kind::Text => {}
                Kind::Event { name, args, result, .. } => {
                    for range in [name, args, result] {
                        assert!(
                            r.text.get(range.clone()).is_some(),
                            "range {range:?} outside {:?}",
                            r.text
                        );
                    }
                    assert!(!name.is_empty() && args.is_empty() && result.is_empty());
                }
                other => panic!("unexpected kind {other:?}"),
            }
        }
        assert!(
            records.windows(2).all(|w| w[0].line <= w[1].line),
            "records out of order"
        );
    }

    /// The ADFA-LD folder, or `None` (with a note) when this machine lacks it.
    fn adfa() -> Option<PathBuf> {
        let root = PathBuf::from(ADFA);
        if root.join("Training_Data_Master").is_dir() {
            Some(root)
        } else {
            crate::testing::skip(&format!("ADFA-LD is not at {ADFA}"));
            None
        }
    }

    /// The trace files under one ADFA-LD folder (recursively), in name order.
    fn traces(root: &Path, folder: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root.join(folder))
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "txt"))
            .map(|e| e.into_path())
            .collect();
        files.sort();
        files
    }

    /// About `n` files spread evenly over `files`, first and last included.
    fn spread(files: &[PathBuf], n: usize) -> Vec<&PathBuf> {
        let step = (files.len() / n.max(1)).max(1);
        let mut picked: Vec<&PathBuf> = files.iter().step_by(step).collect();
        if let Some(last) = files.last() {
            if picked.last() != Some(&last) {
                picked.push(last);
            }
        }
        picked
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn sequence_line_is_one_event_per_number() {
        let records = parse("6 6 63 5 11 252 \n");
        assert_eq!(
            names(&records),
            ["close", "close", "dup2", "open", "execve", "exit_group"]
        );
        assert_eq!(records[3].text, "open (5)");
        assert!(records
            .iter()
            .all(|r| r.line == 1 && r.pid.is_none() && r.process.is_none()));
        check_wellformed(&records);
    }

    #[test]
    fn sequence_spans_lines_with_their_numbers() {
        // Once a sequence, a later line of two numbers is two more calls, not a pid.
        let records = parse("3 4 5\n\n6 11\n  192\t197\r\n");
        assert_eq!(
            names(&records),
            ["read", "write", "open", "close", "execve", "mmap2", "fstat64"]
        );
        let lines: Vec<u64> = records.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 1, 1, 3, 3, 4, 4]);
        assert!(records.iter().all(|r| r.pid.is_none()));
    }

    #[test]
    fn pairs_give_pid_and_name() {
        let records = parse("1234 5\n1234 3\n99 252\n");
        assert_eq!(names(&records), ["open", "read", "exit_group"]);
        assert_eq!(records[0].text, "1234 open (5)");
        let pids: Vec<Option<u32>> = records.iter().map(|r| r.pid).collect();
        assert_eq!(pids, [Some(1234), Some(1234), Some(99)]);
        check_wellformed(&records);
    }

    #[test]
    fn pairs_layout_turns_other_integer_lines_into_text() {
        let records = parse("10 5\n10 3 4\n10\n10 6\n");
        assert_eq!(records.len(), 4);
        assert!(matches!(records[1].kind, Kind::Text) && records[1].text == "10 3 4");
        assert!(matches!(records[2].kind, Kind::Text) && records[2].text == "10");
        assert_eq!(name(&records[3]), "close");
    }

    #[test]
    fn unknown_numbers_are_named_by_number() {
        // The second line continues the sequence: 77 is a call (getrusage), not a pid.
        let records = parse("5 999 4000000000\n77 1000");
        assert_eq!(
            names(&records),
            ["open", "syscall_999", "syscall_4000000000", "getrusage", "syscall_1000"]
        );
        assert_eq!(records[1].text, "syscall_999");
        let records = parse("42 999\n");
        assert_eq!(records[0].text, "42 syscall_999");
        assert_eq!(name(&records[0]), "syscall_999");
    }

    #[test]
    fn leading_zeros_are_the_same_number() {
        let records = parse("005 0011 0");
        assert_eq!(names(&records), ["open", "execve", "restart_syscall"]);
        assert_eq!(records[1].text, "execve (11)");
    }

    #[test]
    fn x86_64_table_on_request() {
        let parser = NumbersParser::x86_64();
        assert_eq!(parser.arch(), Arch::X86_64);
        let records = parse_all(parser, "59 2 231");
        assert_eq!(names(&records), ["execve", "open", "exit_group"]);
        assert_eq!(NumbersParser::default().arch(), Arch::I386);
    }

    #[test]
    fn lines_with_other_tokens_are_one_text_record() {
        let input = "# trace of sendmail\n5 6 x7 8 foo\n1,2,3\n3 -4 5\n5 6 99999999999\n\n3 4\n";
        let records = parse(input);
        let kinds: Vec<(u64, bool)> = records.iter().map(|r| (r.line, matches!(r.kind, Kind::Text))).collect();
        // One text record per bad line, however many bad tokens it has; then the call.
        assert_eq!(
            kinds,
            [(1, true), (2, true), (3, true), (4, true), (5, true), (7, false)]
        );
        assert_eq!(records[1].text, "5 6 x7 8 foo");
        // The text lines (`3 -4 5` among them) did not fix the layout: the first
        // all-integer line did, and it is a pair.
        assert_eq!((records[5].pid, name(&records[5])), (Some(3), "write"));
        check_wellformed(&records);
    }

    #[test]
    fn blank_lines_give_nothing() {
        assert!(parse("").is_empty());
        assert!(parse("   \n\t\n\u{b}\n").is_empty());
    }

    #[test]
    fn a_text_log_forced_through_the_parser_gives_no_calls() {
        let input = "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown\n\
                     081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating\n";
        let records = parse(input);
        assert_eq!(records.len(), 2);
        assert!(records.iter().all(|r| matches!(r.kind, Kind::Text)));
    }

    #[test]
    fn long_line_is_parsed_whole() {
        // Far longer than any ADFA-LD trace (at most 10,000 bytes), at honk's 64 KiB line cap.
        let numbers: Vec<String> = (0..16_384).map(|i| (100 + (i * 7) % 300).to_string()).collect();
        let line = numbers.join(" ");
        assert_eq!(line.len(), 64 * 1024 - 1);
        let records = parse(&line);
        assert_eq!(records.len(), 16_384);
        assert_eq!(name(&records[1]), "lstat"); // 107
        assert!(looks_like_numbers(&line));
    }

    #[test]
    fn push_u32_writes_decimal() {
        for n in [0, 7, 10, 252, 1_000_000, u32::MAX] {
            let mut s = String::from("x");
            push_u32(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
    }

    #[test]
    fn detection_shapes() {
        assert!(looks_like_numbers("6 6 63 6 42 120"));
        assert!(looks_like_numbers("6 6 63 "));
        assert!(looks_like_numbers("\t5  3\t4"));
        assert!(looks_like_numbers("1234 5"));
        assert!(looks_like_numbers("4194303 252"));
        // A sequence's first number is a call too; a pair's is a pid.
        assert!(!looks_like_numbers("5000 3 4"));
        assert!(!looks_like_numbers("3 4 5000"));
        assert!(!looks_like_numbers("1234 5000"));
        // One number, a comma-separated row, signs, letters.
        for line in [
            "42",
            "",
            "   ",
            "1,2,3",
            "1, 2, 3",
            "5,3,4,6,11,252",
            "3;4;5",
            "-1 2 3",
            "+1 2 3",
            "1 2 3a",
            "0x10 2 3",
            "1.5 2 3",
            "3 4 5 99999999999",
            "1 2 3 \u{a0}",
        ] {
            assert!(!looks_like_numbers(line), "{line:?} looks like numbers");
        }
    }

    #[test]
    fn detection_rejects_strace_sysdig_and_audit_lines() {
        let lines = [
            r#"execve("/bin/true", ["true"], 0x7ffd5d1a4a70 /* 23 vars */) = 0"#,
            "1234  openat(AT_FDCWD, \"/etc/ld.so.cache\", O_RDONLY|O_CLOEXEC) = 3",
            "[pid  4572] 12:00:01.123456 read(3, \"\", 4096) = 0 <0.000010>",
            "1569  read(4, \"src/\"..., 65536) = 10240",
            "4572  +++ exited with 0 +++",
            "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=4574} ---",
            "1234 1.5 <... read resumed>\"\", 4096) = 0",
            "1612345678.123456 4572 exit_group(0) = ?",
            "13 12:00:01.123456789 0 cat (4572) > openat fd=3(<f>/etc/passwd) dirfd=-100(AT_FDCWD)",
            "233 09:17:58.390312344 1 bash (4573) < read res=1 data=.",
            "type=SYSCALL msg=audit(1364481363.243:24287): arch=c000003e syscall=2 success=no exit=-2",
            r#"{"evt.cpu":0,"evt.num":13,"evt.type":"openat"}"#,
        ];
        for line in lines {
            assert!(!looks_like_numbers(line), "{line:?} looks like numbers");
        }
        assert_ne!(detect(lines), Format::Numbers);
    }

    #[test]
    fn detection_rejects_strace_fixtures() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/strace");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            crate::testing::skip(&format!("no {}", dir.display()));
            return;
        };
        let mut checked = 0;
        for entry in entries.filter_map(Result::ok) {
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            for line in text.lines() {
                assert!(!looks_like_numbers(line), "{}: {line:?}", entry.path().display());
                checked += 1;
            }
            assert_ne!(detect(text.lines()), Format::Numbers, "{}", entry.path().display());
        }
        assert!(checked > 0);
    }

    #[test]
    fn detection_rejects_loghub_logs() {
        let root = Path::new(LOGHUB);
        for name in ["HDFS/HDFS_2k.log", "BGL/BGL_2k.log", "Linux/Linux_2k.log"] {
            let path = root.join(name);
            let Ok(text) = std::fs::read_to_string(&path) else {
                crate::testing::skip(&format!("cannot read {}", path.display()));
                continue;
            };
            let mut lines = 0;
            for line in text.lines() {
                assert!(!looks_like_numbers(line), "{name}: {line:?}");
                lines += 1;
            }
            assert!(lines >= 2000, "{name}: only {lines} lines");
            assert_ne!(detect(text.lines()), Format::Numbers, "{name}");
        }
    }

    #[test]
    fn unm_fixture_gives_pids_and_names() {
        let input = include_str!("../../../tests/fixtures/numbers/unm-sample.txt");
        assert_eq!(detect(input.lines()), Format::Numbers);
        let records = parse(input);
        check_wellformed(&records);
        let got: Vec<(u64, Option<u32>, &str)> = records.iter().map(|r| (r.line, r.pid, name(r))).collect();
        let want = [
            (1, Some(551), "execve"),
            (2, Some(551), "brk"),
            (3, Some(551), "open"),
            (4, Some(551), "fstat64"),
            (5, Some(551), "mmap2"),
            (6, Some(551), "close"),
            (7, Some(552), "fork"),
            (8, Some(551), "waitpid"),
            (9, Some(552), "execve"),
            (10, Some(552), "read"),
            (11, Some(552), "write"),
            (12, Some(552), "syscall_999"),
            (13, Some(552), "exit_group"),
            (14, Some(551), "exit"),
        ];
        assert_eq!(got, want);
        assert_eq!(records[0].text, "551 execve (11)");
    }

    #[test]
    fn adfa_i386_names_are_the_right_ones() {
        // The facts the choice of table rests on (from unistd_32.h).
        let records = parse("5 11 252 3 4 6 192 197 195 243");
        assert_eq!(
            names(&records),
            [
                "open",
                "execve",
                "exit_group",
                "read",
                "write",
                "close",
                "mmap2",
                "fstat64",
                "stat64",
                "set_thread_area"
            ]
        );
    }

    #[test]
    fn adfa_list_file_is_the_generic_table_not_i386() {
        // `ADFA-LD+Syscall+List.txt` ships with the data set but is the kernel's
        // asm-generic unistd.h (exit_group = 94, execve = 221), not the table the
        // traces use: its reading of the commonest numbers (3 io_cancel, 5
        // setxattr, 6 lsetxattr) is no process's behaviour, while i386's is.
        let Some(root) = adfa() else { return };
        let Ok(list) = std::fs::read_to_string(root.join("ADFA-LD+Syscall+List.txt")) else {
            crate::testing::skip("ADFA-LD has no ADFA-LD+Syscall+List.txt");
            return;
        };
        let defined = |name: &str, n: u32| list.lines().any(|l| l.trim_end() == format!("#define __NR_{name} {n}"));
        assert!(defined("exit_group", 94) && defined("execve", 221) && defined("setxattr", 5));
        assert!(!defined("exit_group", 252) && !defined("open", 5));
    }

    #[test]
    fn adfa_traces_parse_whole_and_named() {
        let Some(root) = adfa() else { return };
        for folder in ADFA_FOLDERS {
            let files = traces(&root, folder);
            assert!(!files.is_empty(), "{folder} is empty");
            for path in spread(&files, 8) {
                let text = read(path);
                let integers = text.split_ascii_whitespace().count();
                let records = parse(&text);
                check_wellformed(&records);
                assert_eq!(records.len(), integers, "{}", path.display());
                for (r, token) in records.iter().zip(text.split_ascii_whitespace()) {
                    let n = name(r);
                    assert!(!n.starts_with("syscall_"), "{}: {token} unnamed", path.display());
                    assert_eq!(r.text, format!("{n} ({token})"));
                    assert_eq!((r.line, r.pid), (1, None));
                }
            }
        }
    }

    #[test]
    fn adfa_traces_are_detected() {
        let Some(root) = adfa() else { return };
        for folder in ADFA_FOLDERS {
            let files = traces(&root, folder);
            let sample = spread(&files, 50);
            assert!(sample.len() >= 50, "{folder}: only {} files", sample.len());
            for path in sample {
                let text = read(path);
                // ADFA-LD traces are one line: detection decides on that line alone.
                assert_eq!(
                    text.lines().filter(|l| !l.trim().is_empty()).count(),
                    1,
                    "{}",
                    path.display()
                );
                assert_eq!(detect(text.lines()), Format::Numbers, "{}", path.display());
            }
        }
    }

    /// Parse all of ADFA-LD and report the time: `cargo test --release --lib
    /// numbers::tests::adfa_full_parse_timing -- --ignored --nocapture`.
    #[test]
    #[ignore = "walks all of ADFA-LD; run by hand for timing"]
    fn adfa_full_parse_timing() {
        let Some(root) = adfa() else { return };
        // Token counts published in the data set's PROVENANCE.md (checked with `wc -w`).
        let expected = [308_077, 2_122_085, 317_388];
        let mut total_time = std::time::Duration::ZERO;
        let mut total_records = 0;
        for (folder, want) in ADFA_FOLDERS.into_iter().zip(expected) {
            let texts: Vec<String> = traces(&root, folder).iter().map(|p| read(p)).collect();
            let start = std::time::Instant::now();
            let mut records = 0;
            let mut unnamed = 0;
            let mut out = Vec::new();
            for text in &texts {
                let mut parser = NumbersParser::default();
                for (i, line) in text.lines().enumerate() {
                    parser.push(i as u64 + 1, line, &mut out);
                }
                parser.finish(&mut out);
                records += out.len();
                unnamed += out.iter().filter(|r| name(r).starts_with("syscall_")).count();
                out.clear();
            }
            let took = start.elapsed();
            println!(
                "{folder}: {} files, {records} records, {unnamed} unnamed, {took:?}",
                texts.len()
            );
            assert_eq!(records, want, "{folder}");
            assert_eq!(unnamed, 0, "{folder}");
            total_time += took;
            total_records += records;
        }
        println!("all of ADFA-LD: {total_records} records in {total_time:?}");
    }

    /// Lines that are mostly numbers, with the odd stray byte.
    fn numbers_like() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            8 => (0u32..1500).prop_map(|n| n.to_string()),
            4 => Just(" ".to_owned()),
            1 => Just("\t".to_owned()),
            1 => any::<u32>().prop_map(|n| n.to_string()),
            1 => Just("99999999999".to_owned()),
            1 => any::<char>().prop_map(String::from),
        ];
        prop::collection::vec(piece, 0..24).prop_map(|parts| parts.concat())
    }

    fn run_checked(lines: &[String]) -> Result<(), TestCaseError> {
        let mut parser = NumbersParser::default();
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let _ = looks_like_numbers(line);
            let before = out.len();
            parser.push(i as u64 + 1, line, &mut out);
            let added = &out[before..];
            prop_assert!(added.iter().all(|r| r.line == i as u64 + 1));
            if line.trim().is_empty() {
                prop_assert!(added.is_empty());
            } else if added.iter().any(|r| matches!(r.kind, Kind::Text)) {
                // A text line is one record, the whole line.
                prop_assert_eq!(added.len(), 1);
                prop_assert_eq!(&added[0].text, line);
            } else {
                // A line of calls has one per token.
                prop_assert!(matches!(parser.layout, Some(Layout::Sequence)) || added.len() == 1);
                if parser.layout == Some(Layout::Sequence) {
                    let tokens = line
                        .split(|c: char| c.is_ascii() && is_space(c as u8))
                        .filter(|t| !t.is_empty());
                    prop_assert_eq!(added.len(), tokens.count());
                }
            }
        }
        parser.finish(&mut out);
        check_wellformed(&out);
        Ok(())
    }

    proptest! {
        #[test]
        fn arbitrary_lines_never_break_it(lines in prop::collection::vec(any::<String>(), 0..20)) {
            run_checked(&lines)?;
        }

        #[test]
        fn numbers_like_lines_never_break_it(lines in prop::collection::vec(numbers_like(), 0..20)) {
            run_checked(&lines)?;
        }

        #[test]
        fn detection_agrees_with_the_parser(line in numbers_like()) {
            // What detection accepts, the parser reads as calls only.
            if looks_like_numbers(&line) {
                let records = parse(&line);
                prop_assert!(!records.is_empty());
                let all_calls = records.iter().all(|r| matches!(r.kind, Kind::Event { .. }));
                prop_assert!(all_calls);
            }
        }
    }
}
