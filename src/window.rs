//! Windows: a thread's events, n at a time, as one more thing to score.
//!
//! An attack is often an unusual *sequence* of calls that are each ordinary: a
//! line-by-line score cannot see it. For syscall traces honk therefore also
//! scores every window of `n` consecutive events of one thread. A window's key
//! is the bag of its consecutive pairs (`w__openat__read`), so windows that do
//! the same things in the same order are equal, and a swap of two calls changes
//! the pairs around it. Events are taken by their syscall name, or with
//! [`Window::args`] by their whole normalized key.
//!
//! This module only builds window keys and remembers which events a window
//! spans; hashing and searching them is the ordinary vectorize and index work.
//! Text-log lines and unparsed records take no part in windows.

use std::collections::{HashMap, VecDeque};

use crate::model::Window;
use crate::parse::{Kind, Record};

/// Threads followed at once; past this the oldest-started thread's history is
/// dropped, so a trace with endless short-lived threads keeps bounded memory.
const MAX_THREADS: usize = 1 << 16;

/// With [`Window::args`], the longest event key that enters a window as it is
/// (its spaces as `_`). A longer key enters as `#` and the 16 hex digits of
/// its 64-bit FNV-1a hash: the same key always gives the same part, so
/// windows compare as before, but a window's key is at most
/// `(size - 1) * (2 * MAX_PART_BYTES + 6)` bytes however long its events'
/// keys are (a whole key can be 64 tokens of 256 bytes).
pub const MAX_PART_BYTES: usize = 32;

/// Most bytes of a window's text (its events' lines, shown as the nearest
/// baseline window and stored in a model for it). A longer text keeps its
/// first events and its last one, with a line `… N events not kept …` between.
pub const MAX_TEXT_BYTES: usize = 2048;

/// A complete window: its key and the events it spans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// The window's key: its consecutive pairs as `w__A__B`, space-separated, in order.
    pub key: String,
    /// The thread, when the format names one.
    pub thread: Option<u32>,
    /// Line of the first event.
    pub first_line: u64,
    /// Line of the last event.
    pub last_line: u64,
    /// The events, one per line, each as `LINE<TAB>text`.
    pub text: String,
}

struct Event {
    line: u64,
    part: String,
    text: String,
}

/// Follows every thread of one input and yields a window each time a thread's
/// last `size` events change.
pub struct Windower {
    window: Window,
    threads: HashMap<Option<u32>, VecDeque<Event>>,
    order: VecDeque<Option<u32>>,
}

impl Windower {
    /// Windows of `window.size` events (which must be at least 2 to mean anything).
    pub fn new(window: Window) -> Self {
        Windower {
            window,
            threads: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Whether windows are on.
    pub fn enabled(&self) -> bool {
        self.window.size >= 2
    }

    /// Entries kept for threads now (their histories and their places in
    /// the order of eviction): a measure of the memory held.
    pub fn footprint(&self) -> usize {
        self.threads.len() + self.order.len()
    }

    /// Drop the history of threads whose last event is on a line before
    /// `line` (threads gone idle), so that a stream that runs for ever keeps
    /// only its live threads.
    pub fn forget_idle(&mut self, line: u64) {
        self.threads
            .retain(|_, events| events.back().is_some_and(|e| e.line >= line));
        let threads = &self.threads;
        self.order.retain(|t| threads.contains_key(t));
    }

    /// Take the next record of the input (with its key); return the window that
    /// ends with it, if the record is an event and its thread has enough history.
    pub fn push(&mut self, record: &Record, key: &str) -> Option<Span> {
        if !self.enabled() {
            return None;
        }
        let part = match &record.kind {
            Kind::Syscall { name, .. } | Kind::Event { name, .. } => {
                let name = record.text.get(name.clone()).unwrap_or("");
                if self.window.args {
                    part_of(key)
                } else {
                    name.to_owned()
                }
            }
            Kind::Signal { .. } => "signal".to_owned(),
            Kind::Exit { .. } => {
                // The thread is gone; a reused id starts a new history.
                self.threads.remove(&record.pid);
                return None;
            }
            Kind::Text => return None,
        };
        let size = self.window.size as usize;
        if !self.threads.contains_key(&record.pid) {
            if self.threads.len() >= MAX_THREADS {
                while let Some(old) = self.order.pop_front() {
                    if self.threads.remove(&old).is_some() {
                        break;
                    }
                }
            }
            self.order.push_back(record.pid);
        }
        let events = self.threads.entry(record.pid).or_default();
        if events.len() == size {
            events.pop_front();
        }
        events.push_back(Event {
            line: record.line,
            part,
            text: cut(&record.text, MAX_TEXT_BYTES).to_owned(),
        });
        if events.len() < size {
            return None;
        }
        let mut key = String::new();
        for (i, event) in events.iter().enumerate().skip(1) {
            key.push_str("w__");
            key.push_str(&events[i - 1].part);
            key.push_str("__");
            key.push_str(&event.part);
            if i + 1 < events.len() {
                key.push(' ');
            }
        }
        Some(Span {
            key,
            thread: record.pid,
            first_line: events.front().map_or(record.line, |e| e.line),
            last_line: record.line,
            text: text_of(events),
        })
    }
}

/// How an event's normalized key enters a window with [`Window::args`]:
/// as it is (spaces as `_`) up to [`MAX_PART_BYTES`], else as a digest.
fn part_of(key: &str) -> String {
    if key.len() <= MAX_PART_BYTES {
        return key.replace(' ', "_");
    }
    // FNV-1a, 64 bits: stable across builds and platforms, as model keys must be.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("#{hash:016x}")
}

/// The text of a window: `LINE<TAB>text` per event, at most [`MAX_TEXT_BYTES`]
/// (see there).
fn text_of(events: &VecDeque<Event>) -> String {
    let lines: Vec<String> = events.iter().map(|e| format!("{}\t{}", e.line, e.text)).collect();
    let whole = lines.iter().map(|l| l.len() + 1).sum::<usize>().saturating_sub(1);
    if whole <= MAX_TEXT_BYTES {
        return lines.join("\n");
    }
    // The last event, then as many of the first ones as fit before it.
    let Some((last, head)) = lines.split_last() else {
        return String::new();
    };
    let last = cut(last, MAX_TEXT_BYTES / 4);
    let elision = |n: usize| format!("… {n} events not kept …");
    let budget = MAX_TEXT_BYTES - last.len() - elision(lines.len()).len() - 2;
    let mut text = String::with_capacity(MAX_TEXT_BYTES);
    let mut kept = 0;
    for line in head {
        let room = budget.saturating_sub(text.len() + usize::from(kept > 0));
        if line.len() > room {
            if kept == 0 {
                // Not even the first event fits whole: its start, then.
                text.push_str(cut(line, room));
                kept = 1;
            }
            break;
        }
        if kept > 0 {
            text.push('\n');
        }
        text.push_str(line);
        kept += 1;
    }
    if kept < head.len() {
        text.push('\n');
        text.push_str(&elision(head.len() - kept));
    }
    text.push('\n');
    text.push_str(last);
    text
}

/// `s` cut to at most `max` bytes, at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::strace::parse::StraceParser;
    use crate::parse::testing::parse_all;

    fn spans(trace: &str, window: Window) -> Vec<Span> {
        let records = parse_all(StraceParser::default(), trace);
        let mut windower = Windower::new(window);
        records
            .iter()
            .filter_map(|r| windower.push(r, &crate::normalize::key_of(r)))
            .collect()
    }

    const TRACE: &str = "\
10 openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3
11 openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY) = 3
10 read(3, \"root\", 4) = 4
10 close(3) = 0
11 read(3, \"vm\", 2) = 2
10 write(1, \"x\", 1) = 1
11 close(3) = 0
";

    #[test]
    fn windows_follow_one_thread_at_a_time() {
        let found = spans(TRACE, Window { size: 3, args: false });
        let keys: Vec<_> = found
            .iter()
            .map(|s| (s.thread, s.key.as_str(), s.first_line, s.last_line))
            .collect();
        assert_eq!(
            keys,
            [
                (Some(10), "w__openat__read w__read__close", 1, 4),
                (Some(10), "w__read__close w__close__write", 3, 6),
                (Some(11), "w__openat__read w__read__close", 2, 7),
            ]
        );
        assert_eq!(found[0].text.lines().count(), 3);
        assert!(found[0].text.starts_with("1\t10 openat("));
    }

    #[test]
    fn order_matters_and_args_can_count() {
        let swapped = TRACE.replace(
            "10 read(3, \"root\", 4) = 4\n10 close(3) = 0",
            "10 close(3) = 0\n10 read(3, \"root\", 4) = 4",
        );
        let a = spans(TRACE, Window { size: 3, args: false });
        let b = spans(&swapped, Window { size: 3, args: false });
        assert_ne!(a[0].key, b[0].key, "a swap changes the window");
        let with_args = spans(TRACE, Window { size: 3, args: true });
        assert_ne!(with_args[0].key, with_args[2].key, "different files, different windows");
        // A short key enters as it is, a long one as its digest.
        let first = &with_args[0].key;
        assert!(first.starts_with("w__#") && first.ends_with("__close"), "{first}");
    }

    /// A thread of `n` calls, each opening a file with a long path of its own.
    fn long_calls(n: usize, path_len: usize) -> String {
        (0..n)
            .map(|i| {
                let own = format!(
                    "{}{}",
                    char::from(b'a' + (i / 26 % 26) as u8),
                    char::from(b'a' + (i % 26) as u8)
                );
                format!(
                    "10 openat(AT_FDCWD, \"/{own}/{}\", O_RDONLY) = 3\n",
                    "dir/".repeat(path_len / 4)
                )
            })
            .collect()
    }

    #[test]
    fn a_window_key_is_bounded_whatever_its_events_keys() {
        let size = 64;
        let trace = long_calls(size, 2000);
        let events: Vec<String> = parse_all(StraceParser::default(), &trace)
            .iter()
            .map(crate::normalize::key_of)
            .collect();
        let bound = (size - 1) * (2 * MAX_PART_BYTES + 6);
        // Each pair repeated two whole keys: such a window's key was about 80 KB.
        let whole: usize = events.iter().map(String::len).sum();
        assert!(whole > 4 * bound, "the events' keys are long: {whole} bytes");
        let found = spans(
            &trace,
            Window {
                size: size as u32,
                args: true,
            },
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].key.len() <= bound, "{} > {bound}", found[0].key.len());
        assert_eq!(
            found[0].key.split(' ').count(),
            size - 1,
            "one token per pair of events"
        );
        // The same calls give the same window; another call, another one.
        let mut other = trace.clone();
        other.push_str(long_calls(size + 1, 2000).lines().last().unwrap_or(""));
        let found_again = spans(
            &other,
            Window {
                size: size as u32,
                args: true,
            },
        );
        assert_eq!(found_again[0].key, found[0].key);
        assert_ne!(found_again[1].key, found[0].key);
    }

    #[test]
    fn a_window_text_is_bounded_and_keeps_its_first_and_last_events() {
        let size = 64;
        let trace = long_calls(size, 200);
        let found = spans(
            &trace,
            Window {
                size: size as u32,
                args: false,
            },
        );
        let text = &found[0].text;
        assert!(text.len() <= MAX_TEXT_BYTES, "{} bytes", text.len());
        assert!(text.starts_with("1\t10 openat("), "{text}");
        let last = text.lines().last().unwrap_or("");
        assert!(last.starts_with(&format!("{size}\t10 openat(")), "{last}");
        assert!(text.contains(" events not kept …\n"), "{text}");
        // A short window's text is whole.
        let short = spans(&long_calls(3, 10), Window { size: 3, args: false });
        assert_eq!(short[0].text.lines().count(), 3);
        // One huge line is cut too.
        let huge = spans(&long_calls(2, 60_000), Window { size: 2, args: true });
        assert!(huge[0].text.len() <= MAX_TEXT_BYTES, "{} bytes", huge[0].text.len());
    }

    #[test]
    fn idle_threads_are_forgotten_and_start_again() {
        let records = parse_all(StraceParser::default(), TRACE);
        let mut windower = Windower::new(Window { size: 3, args: false });
        for r in &records[..5] {
            windower.push(r, "");
        }
        // Thread 10's last event is line 4, thread 11's line 5.
        windower.forget_idle(5);
        assert_eq!(windower.threads.len(), 1);
        assert_eq!(windower.order.len(), 1);
        // Thread 10 starts a new history: one event is no window.
        assert!(windower.push(&records[5], "").is_none());
        assert!(windower.push(&records[6], "").is_some(), "thread 11 kept its history");
    }

    #[test]
    fn off_means_no_windows() {
        assert!(spans(TRACE, Window { size: 0, args: false }).is_empty());
    }
}
