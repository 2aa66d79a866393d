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
                    key.replace(' ', "_")
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
            text: record.text.clone(),
        });
        if events.len() < size {
            return None;
        }
        let mut key = String::new();
        let mut text = String::new();
        for (i, event) in events.iter().enumerate() {
            if i > 0 {
                key.push_str("w__");
                key.push_str(&events[i - 1].part);
                key.push_str("__");
                key.push_str(&event.part);
                if i + 1 < events.len() {
                    key.push(' ');
                }
                text.push('\n');
            }
            text.push_str(&event.line.to_string());
            text.push('\t');
            text.push_str(&event.text);
        }
        Some(Span {
            key,
            thread: record.pid,
            first_line: events.front().map_or(record.line, |e| e.line),
            last_line: record.line,
            text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::strace::StraceParser;
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
        assert!(with_args[0].key.contains("/etc/passwd"), "{}", with_args[0].key);
        assert_ne!(with_args[0].key, with_args[2].key, "different files, different windows");
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
