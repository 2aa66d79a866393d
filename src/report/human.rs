//! The terminal printer: one block per anomaly, grep-like.
//!
//! ```text
//! target.strace:57  0.71  openat(AT_FDCWD, "/etc/shadow", O_RDONLY) = 3
//!   ~ baseline.strace:812  openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3
//! ```
//!
//! Grouped into incidents ([`super::incident`]), each incident starts with a
//! header, and only its first few records follow (`records_per_incident`):
//!
//! ```text
//! target.strace:1360-1402  0.87  incident 2: 14 records, threads 1583 1584; new: /etc/shadow shadow cat
//! ```
//!
//! System calls the baseline never made follow the anomalies, one line each:
//!
//! ```text
//! target.strace:1643  policy  getgroups is a system call the baseline never made (2 calls)
//! ```
//!
//! Context records print as `source-line-` like grep's, and a context record
//! already printed is not printed twice. Control characters and bidirectional
//! overrides in log text are escaped, so a hostile line cannot drive the terminal.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::Arc;

use super::{thousands, Anomaly, Incident, Sink, Summary, Violation, WindowInfo};

const RESET: &str = "\x1b[0m";
const SOURCE: &str = "\x1b[35m";
const LINE: &str = "\x1b[32m";
const SCORE: &str = "\x1b[1;31m";
const DIM: &str = "\x1b[2m";
const NEAREST: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";

/// Prints anomalies for people.
pub struct HumanPrinter<W: Write> {
    out: W,
    color: bool,
    /// Whether anomalies arrive in input order, so that overlapping context can be merged.
    in_order: bool,
    /// The last record printed: (source, line), to merge overlapping context.
    last: Option<(Arc<str>, u64)>,
    /// Records printed per incident (0: all).
    per_incident: u64,
    /// The incident being printed: its id and records, and how many came so far.
    incident: Option<(u64, u64)>,
    seen: u64,
    /// Violations came as they happened ([`Sink::violation`]): not listed again at the end.
    told_live: bool,
}

impl<W: Write> HumanPrinter<W> {
    /// `in_order`: anomalies come in input order (not `--top`'s score order), so
    /// context shared by neighbouring anomalies is printed once.
    pub fn new(out: W, color: bool, in_order: bool) -> Self {
        HumanPrinter {
            out,
            color,
            in_order,
            last: None,
            per_incident: 0,
            incident: None,
            seen: 0,
            told_live: false,
        }
    }

    /// Print at most `n` records of each incident (0: all of them); the rest
    /// are counted in one line.
    pub fn records_per_incident(mut self, n: u64) -> Self {
        self.per_incident = n;
        self
    }

    fn paint(&self, color: &'static str) -> (&'static str, &'static str) {
        if self.color {
            (color, RESET)
        } else {
            ("", "")
        }
    }

    /// Whether `line` of `source` was printed already. Sources are compared by
    /// identity: the same file given twice is two inputs.
    fn already_printed(&self, source: &Arc<str>, line: u64) -> bool {
        self.in_order && matches!(&self.last, Some((s, l)) if Arc::ptr_eq(s, source) && *l >= line)
    }

    fn context(&mut self, source: &Arc<str>, line: u64, text: &str) -> io::Result<()> {
        if self.already_printed(source, line) {
            return Ok(());
        }
        let (s, r) = self.paint(SOURCE);
        let (l, _) = self.paint(LINE);
        let (d, _) = self.paint(DIM);
        writeln!(
            self.out,
            "{s}{}{r}-{l}{line}{r}-{d}        {}{r}",
            escape(source),
            escape(text)
        )?;
        self.last = Some((source.clone(), line));
        Ok(())
    }
}

impl<W: Write> HumanPrinter<W> {
    /// An unusual window: its span, then its events, then the nearest baseline window.
    fn window(&mut self, a: &Anomaly, w: &WindowInfo) -> io::Result<()> {
        let (s, r) = self.paint(SOURCE);
        let (l, _) = self.paint(LINE);
        let (sc, _) = self.paint(SCORE);
        let (n, _) = self.paint(NEAREST);
        let (d, _) = self.paint(DIM);
        let thread = w.thread.map_or(String::new(), |t| format!(" of thread {t}"));
        writeln!(
            self.out,
            "{s}{}{r}:{l}{}-{}{r}  {sc}{:.2}{r}  {} events{thread} in an unusual order:",
            escape(&a.source),
            a.line,
            w.last_line,
            a.score,
            w.events
        )?;
        for event in a.text.lines() {
            writeln!(self.out, "    {}", escape(event))?;
        }
        match &a.nearest {
            Some(near) => {
                // A window's text is `LINE<TAB>event` per event: its last line tells where it ends.
                let last = near
                    .text
                    .lines()
                    .last()
                    .and_then(|l| l.split('\t').next())
                    .unwrap_or("");
                let span = if last.is_empty() || last == near.line.to_string() {
                    near.line.to_string()
                } else {
                    format!("{}-{}", near.line, escape(last))
                };
                writeln!(
                    self.out,
                    "  {n}~{r} {d}{}:{span}  nearest baseline window:{r}",
                    escape(&near.source)
                )?;
                for event in near.text.lines() {
                    writeln!(self.out, "    {d}{}{r}", escape(event))?;
                }
            }
            None => writeln!(
                self.out,
                "  {n}~{r} {d}(no baseline window shares a pair of calls with it){r}"
            )?,
        }
        self.last = Some((a.source.clone(), a.line));
        Ok(())
    }
}

impl<W: Write> Sink for HumanPrinter<W> {
    /// An incident's header: where it starts and ends, its size, its highest
    /// score, its threads and what is new in it.
    fn incident(&mut self, i: &Incident) -> io::Result<()> {
        let (s, r) = self.paint(SOURCE);
        let (l, _) = self.paint(LINE);
        let (sc, _) = self.paint(SCORE);
        let (b, _) = self.paint(BOLD);
        if self.last.is_some() {
            writeln!(self.out)?;
        }
        let span = if i.last_line > i.line {
            format!("{}-{}", i.line, i.last_line)
        } else {
            i.line.to_string()
        };
        let records = if i.records == 1 {
            "1 record".to_string()
        } else {
            format!("{} records", thousands(i.records))
        };
        let threads = match i.threads.len() {
            0 => String::new(),
            1 => format!(", thread {}", i.threads[0]),
            _ => format!(
                ", threads {}",
                i.threads.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
            ),
        };
        let new = if i.new.is_empty() {
            String::new()
        } else {
            format!("; new: {}", escape(&i.new.join(" ")))
        };
        writeln!(
            self.out,
            "{s}{}{r}:{l}{span}{r}  {sc}{:.2}{r}  {b}incident {}{r}: {records}{threads}{new}",
            escape(&i.source),
            i.score,
            i.id
        )?;
        self.incident = Some((i.id, i.records));
        self.seen = 0;
        self.last = None;
        Ok(())
    }

    fn anomaly(&mut self, a: &Anomaly) -> io::Result<()> {
        if let Some((id, records)) = self.incident.filter(|_| self.per_incident > 0) {
            // The incident's highest-scoring records, in line order.
            self.seen += 1;
            let shown = u64::from(a.rank) <= self.per_incident;
            if self.seen == records && records > self.per_incident {
                if shown {
                    self.record(a)?;
                }
                let (d, r) = self.paint(DIM);
                let more = records - self.per_incident;
                return writeln!(
                    self.out,
                    "  {d}... and {} more {} of incident {id} (--records 0 shows all){r}",
                    thousands(more),
                    if more == 1 { "record" } else { "records" }
                );
            }
            if !shown {
                return Ok(());
            }
        }
        self.record(a)
    }

    /// A first call outside the baseline, as it happens (`honk watch`).
    fn violation(&mut self, source: &str, v: &Violation) -> io::Result<()> {
        let (source_color, reset) = self.paint(SOURCE);
        let (score_color, _) = self.paint(SCORE);
        let (line_color, _) = self.paint(LINE);
        writeln!(
            self.out,
            "{source_color}{}{reset}:{line_color}{}{reset}  {score_color}policy{reset}  {} is a system call \
             the baseline never made (its first call)",
            escape(source),
            v.line,
            escape(&v.syscall),
        )?;
        self.told_live = true;
        self.out.flush()
    }

    /// System calls the baseline never made, after the anomalies: a category
    /// of their own, however close each call is to something in the baseline.
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.violations(summary)
    }
}

impl<W: Write> HumanPrinter<W> {
    /// One anomaly's block.
    fn record(&mut self, a: &Anomaly) -> io::Result<()> {
        if let Some(w) = &a.window {
            return self.window(a, w);
        }
        let first = a.before.first().map_or(a.line, |c| c.line);
        let contiguous =
            self.in_order && matches!(&self.last, Some((s, l)) if Arc::ptr_eq(s, &a.source) && l + 1 >= first);
        let has_context = !a.before.is_empty() || !a.after.is_empty();
        if has_context && self.last.is_some() && !contiguous {
            writeln!(self.out, "--")?;
        }
        for c in &a.before {
            self.context(&a.source, c.line, &c.text)?;
        }
        let (s, r) = self.paint(SOURCE);
        let (l, _) = self.paint(LINE);
        let (sc, _) = self.paint(SCORE);
        writeln!(
            self.out,
            "{s}{}{r}:{l}{}{r}  {sc}{:.2}{r}  {}",
            escape(&a.source),
            a.line,
            a.score,
            escape(&a.text)
        )?;
        let (n, _) = self.paint(NEAREST);
        let (d, _) = self.paint(DIM);
        match &a.nearest {
            Some(near) => writeln!(
                self.out,
                "  {n}~{r} {d}{}:{}  {}{r}",
                escape(&near.source),
                near.line,
                escape(&near.text)
            )?,
            None => writeln!(self.out, "  {n}~{r} {d}(no baseline line shares a word with it){r}")?,
        }
        self.last = Some((a.source.clone(), a.line));
        for c in &a.after {
            self.context(&a.source, c.line, &c.text)?;
        }
        Ok(())
    }

    fn violations(&mut self, summary: &Summary) -> io::Result<()> {
        if self.told_live {
            return self.out.flush();
        }
        let (source_color, reset) = self.paint(SOURCE);
        let (score_color, _) = self.paint(SCORE);
        let (line_color, _) = self.paint(LINE);
        if self.incident.is_some() && summary.violations > 0 {
            writeln!(self.out)?;
        }
        for input in summary.per_input.iter().filter(|i| !i.violations.is_empty()) {
            for v in &input.violations {
                writeln!(
                    self.out,
                    "{source_color}{}{reset}:{line_color}{}{reset}  {score_color}policy{reset}  {} is a system call \
                     the baseline never made ({} {})",
                    escape(&input.source),
                    v.line,
                    escape(&v.syscall),
                    v.count,
                    if v.count == 1 { "call" } else { "calls" }
                )?;
            }
        }
        self.out.flush()
    }
}

/// Log text made safe to print: control characters (other than tab), DEL, C1
/// controls and bidirectional overrides become `\xNN` / `\u{NNNN}` escapes.
pub fn escape(text: &str) -> Cow<'_, str> {
    let unsafe_char =
        |c: char| (c.is_control() && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::super::{ContextLine, Nearest};
    use super::*;

    fn anomaly(line: u64, before: &[u64], after: &[u64]) -> Anomaly {
        let ctx = |l: &u64| ContextLine {
            line: *l,
            text: format!("ctx {l}"),
        };
        Anomaly {
            source: Arc::from("t.strace"),
            line,
            text: format!("odd {line}"),
            score: 0.714,
            nearest: Some(Nearest {
                source: Arc::from("b.strace"),
                line: 812,
                text: "normal".into(),
            }),
            before: before.iter().map(ctx).collect(),
            after: after.iter().map(ctx).collect(),
            window: None,
            thread: None,
            novel: Vec::new(),
            incident: None,
            rank: 0,
        }
    }

    /// Print anomalies that all come from one input (one shared source name).
    fn print(anomalies: &[Anomaly]) -> String {
        let source: Arc<str> = Arc::from("t.strace");
        let mut printer = HumanPrinter::new(Vec::new(), false, true);
        for a in anomalies {
            let a = Anomaly {
                source: source.clone(),
                ..a.clone()
            };
            printer.anomaly(&a).unwrap();
        }
        String::from_utf8(printer.out).unwrap()
    }

    #[test]
    fn one_block_per_anomaly_with_its_nearest_baseline_line() {
        assert_eq!(
            print(&[anomaly(57, &[], &[])]),
            "t.strace:57  0.71  odd 57\n  ~ b.strace:812  normal\n"
        );
    }

    #[test]
    fn overlapping_context_is_printed_once_and_gaps_get_a_separator() {
        let out = print(&[anomaly(4, &[3], &[5]), anomaly(6, &[5], &[]), anomaly(20, &[19], &[])]);
        let lines: Vec<_> = out.lines().collect();
        assert_eq!(
            lines,
            [
                "t.strace-3-        ctx 3",
                "t.strace:4  0.71  odd 4",
                "  ~ b.strace:812  normal",
                "t.strace-5-        ctx 5",
                "t.strace:6  0.71  odd 6",
                "  ~ b.strace:812  normal",
                "--",
                "t.strace-19-        ctx 19",
                "t.strace:20  0.71  odd 20",
                "  ~ b.strace:812  normal",
            ]
        );
    }

    #[test]
    fn terminal_escapes_in_log_text_are_neutralised() {
        assert_eq!(escape("a\x1b[31mb\u{202e}c\td"), "a\\x1b[31mb\\u{202e}c\td");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
    }
}
