//! The hold-back queue the strace, gVisor and sysdig parsers share, so that
//! records leave in the order of their first line although some are finished
//! later.
//!
//! A record may *wait* under a key (the pid or thread that will finish it) with
//! a payload saying how to finish it: an `<unfinished ...>` call waiting for
//! its `<... resumed>` tail, an enter event waiting for its exit. While the
//! oldest record still waits, every later record is held behind it. When the
//! wait ends — the record is completed, or its key is released, or the queue
//! grows past `MAX` records or `MAX_BYTES` bytes of text and the oldest wait
//! is given up, or the input ends — the records at the front that no longer
//! wait are released in order. A key has at most one waiting record. So the
//! queue's memory is bounded by both: a trace full of calls that never resume,
//! with long lines behind them, holds at most `MAX_BYTES` of text (plus the
//! record that crosses it), not `MAX` lines of up to 64 KiB each.
//!
//! Not done here: deciding what a key is, whether a later line finishes the
//! waiting record, how the record is finished, or when a wait is hopeless —
//! all of that is the parser's. A record whose wait is given up or released
//! leaves as it is.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

use super::Record;

/// Text held by default at most, in bytes, whatever the number of records.
pub(crate) const MAX_HELD_BYTES: usize = 8 << 20;

/// Records in line order, some waiting under a key `K` with payload `W`; at most
/// `MAX` records and `MAX_BYTES` bytes of their text are held (see the module
/// documentation).
#[derive(Debug)]
pub(crate) struct HoldBack<K, W, const MAX: usize, const MAX_BYTES: usize = MAX_HELD_BYTES> {
    /// Records not yet released, in line order. The front, when there is one,
    /// is always a record still waiting.
    held: VecDeque<Held<K, W>>,
    /// Sequence number of `held[0]`; a held record's index is its number minus this.
    base: u64,
    /// The sequence number of the record waiting under each key.
    pending: HashMap<K, u64>,
    /// Bytes of text of the records in `held`.
    bytes: usize,
    /// Waits given up because the queue was full, with a copy of their
    /// records, by key, for a finish that comes late (see
    /// [`HoldBack::remembering_given_up`]); at most `late_max` bytes of text.
    late: HashMap<K, (Record, W)>,
    late_bytes: usize,
    late_max: usize,
}

/// One record of the queue and, while it waits, its key and payload.
#[derive(Debug)]
struct Held<K, W> {
    record: Record,
    waiting: Option<(K, W)>,
}

impl<K, W, const MAX: usize, const MAX_BYTES: usize> Default for HoldBack<K, W, MAX, MAX_BYTES> {
    fn default() -> Self {
        HoldBack {
            held: VecDeque::new(),
            base: 0,
            pending: HashMap::new(),
            bytes: 0,
            late: HashMap::new(),
            late_bytes: 0,
            late_max: 0,
        }
    }
}

impl<K: Hash + Eq + Clone, W, const MAX: usize, const MAX_BYTES: usize> HoldBack<K, W, MAX, MAX_BYTES> {
    /// A queue that also keeps the waits it gives up when full (their record
    /// leaves as it is, and a copy stays), so that a finish coming after all
    /// can still be made ([`HoldBack::take_late`]): a shell blocked in `read`
    /// on a pipe while its child writes thousands of lines. At most an eighth
    /// of `MAX_BYTES` of text is kept; a key's copy goes when its key is
    /// released.
    pub(crate) fn remembering_given_up() -> Self {
        HoldBack {
            late_max: MAX_BYTES / 8,
            ..Self::default()
        }
    }

    /// The record given up under `key` because the queue was full (already
    /// released as it was), and its payload.
    pub(crate) fn take_late(&mut self, key: &K) -> Option<(Record, W)> {
        let (record, waiting) = self.late.remove(key)?;
        self.late_bytes = self.late_bytes.saturating_sub(record.text.len());
        Some((record, waiting))
    }

    /// Records held back now.
    #[cfg(test)]
    pub(crate) fn held_len(&self) -> usize {
        self.held.len()
    }

    /// Whether no record waits under any key.
    #[cfg(test)]
    pub(crate) fn nothing_waits(&self) -> bool {
        self.pending.is_empty()
    }

    /// Release `record` now if nothing older is waiting, else queue it behind.
    pub(crate) fn push(&mut self, record: Record, out: &mut Vec<Record>) {
        if self.held.is_empty() {
            out.push(record);
        } else {
            self.bytes += record.text.len();
            self.held.push_back(Held { record, waiting: None });
            self.bound(out);
        }
    }

    /// Queue `record` to wait under `key` with `waiting`, what finishing it needs.
    /// A record already waiting under `key` is released first, as it is.
    pub(crate) fn push_waiting(&mut self, key: K, record: Record, waiting: W, out: &mut Vec<Record>) {
        self.release(&key, out);
        let seq = self.base + self.held.len() as u64;
        self.pending.insert(key.clone(), seq);
        self.bytes += record.text.len();
        self.held.push_back(Held {
            record,
            waiting: Some((key, waiting)),
        });
        self.bound(out);
    }

    /// The record waiting under `key`, and its payload.
    pub(crate) fn waiting(&self, key: &K) -> Option<(&Record, &W)> {
        let held = self.index(key).and_then(|i| self.held.get(i))?;
        let (_, waiting) = held.waiting.as_ref()?;
        Some((&held.record, waiting))
    }

    /// Finish the record waiting under `key`: `finish` gets the record and its
    /// payload; then the wait ends and what can go is released. Returns false,
    /// without calling `finish`, when nothing waits under `key`.
    pub(crate) fn complete(&mut self, key: &K, out: &mut Vec<Record>, finish: impl FnOnce(&mut Record, W)) -> bool {
        let Some(held) = self.index(key).and_then(|i| self.held.get_mut(i)) else {
            return false;
        };
        let Some((_, waiting)) = held.waiting.take() else {
            return false;
        };
        let before = held.record.text.len();
        finish(&mut held.record, waiting);
        self.bytes = (self.bytes + held.record.text.len()).saturating_sub(before);
        self.pending.remove(key);
        self.drain(out);
        self.bound(out);
        true
    }

    /// Stop waiting under `key`: its record is released as it is (once nothing
    /// older waits). Nothing happens when nothing waits under `key`.
    pub(crate) fn release(&mut self, key: &K, out: &mut Vec<Record>) {
        self.take_late(key);
        if let Some(seq) = self.pending.remove(key) {
            let idx = seq.checked_sub(self.base).and_then(|i| usize::try_from(i).ok());
            if let Some(held) = idx.and_then(|i| self.held.get_mut(i)) {
                held.waiting = None;
            }
            self.drain(out);
        }
    }

    /// End of input: stop every wait and release everything, in order.
    pub(crate) fn finish(&mut self, out: &mut Vec<Record>) {
        self.pending.clear();
        for held in &mut self.held {
            held.waiting = None;
        }
        self.drain(out);
    }

    /// Index in `held` of the record waiting under `key`.
    fn index(&self, key: &K) -> Option<usize> {
        let seq = *self.pending.get(key)?;
        seq.checked_sub(self.base).and_then(|i| usize::try_from(i).ok())
    }

    /// Release the records at the front that no longer wait for anything.
    fn drain(&mut self, out: &mut Vec<Record>) {
        while self.held.front().is_some_and(|h| h.waiting.is_none()) {
            if let Some(held) = self.held.pop_front() {
                self.base += 1;
                self.bytes = self.bytes.saturating_sub(held.record.text.len());
                out.push(held.record);
            }
        }
    }

    /// Keep at most `MAX` records and `MAX_BYTES` bytes of text by giving up
    /// on the oldest waits (their records leave as they are, unfinished).
    fn bound(&mut self, out: &mut Vec<Record>) {
        while self.held.len() > MAX || (self.bytes > MAX_BYTES && !self.held.is_empty()) {
            if let Some(front) = self.held.front_mut() {
                if let Some((key, waiting)) = front.waiting.take() {
                    if self.pending.get(&key) == Some(&self.base) {
                        self.pending.remove(&key);
                        let size = front.record.text.len();
                        if size <= self.late_max {
                            if self.late_bytes + size > self.late_max {
                                self.late.clear();
                                self.late_bytes = 0;
                            }
                            self.late_bytes += size;
                            self.late.insert(key, (front.record.clone(), waiting));
                        }
                    }
                }
            }
            self.drain(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Kind;
    use super::*;

    type Queue = HoldBack<u32, &'static str, 4>;

    fn record(line: u64) -> Record {
        Record {
            line,
            text: format!("line {line}"),
            pid: None,
            process: None,
            kind: Kind::Text,
        }
    }

    fn lines(out: &[Record]) -> Vec<u64> {
        out.iter().map(|r| r.line).collect()
    }

    #[test]
    fn ready_records_pass_straight_through() {
        let mut q = Queue::default();
        let mut out = Vec::new();
        q.push(record(1), &mut out);
        q.push(record(2), &mut out);
        assert_eq!(lines(&out), [1, 2]);
        assert!(q.held.is_empty());
    }

    #[test]
    fn order_is_kept_behind_a_wait() {
        let mut q = Queue::default();
        let mut out = Vec::new();
        q.push_waiting(7, record(1), "a", &mut out);
        q.push(record(2), &mut out);
        q.push_waiting(8, record(3), "b", &mut out);
        q.push(record(4), &mut out);
        assert!(out.is_empty());
        // Finishing a later wait releases nothing while an older one waits.
        assert!(q.complete(&8, &mut out, |r, w| r.text.push_str(w)));
        assert!(out.is_empty());
        assert_eq!(q.waiting(&8).map(|(r, _)| r.line), None);
        assert_eq!(q.waiting(&7).map(|(r, w)| (r.line, *w)), Some((1, "a")));
        assert!(q.complete(&7, &mut out, |r, w| r.text.push_str(w)));
        assert_eq!(lines(&out), [1, 2, 3, 4]);
        assert_eq!(out[0].text, "line 1a");
        assert_eq!(out[2].text, "line 3b");
        assert!(q.held.is_empty() && q.pending.is_empty());
        // Later records flow straight through again.
        q.push(record(5), &mut out);
        assert_eq!(lines(&out), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn complete_without_a_wait_does_nothing() {
        let mut q = Queue::default();
        let mut out = Vec::new();
        assert!(!q.complete(&1, &mut out, |_, _| unreachable!()));
        q.push_waiting(1, record(1), "a", &mut out);
        assert!(!q.complete(&2, &mut out, |_, _| unreachable!()));
        assert!(q.waiting(&2).is_none());
        assert!(out.is_empty());
    }

    #[test]
    fn release_lets_the_record_go_as_it_is() {
        let mut q = Queue::default();
        let mut out = Vec::new();
        q.push_waiting(1, record(1), "a", &mut out);
        q.push_waiting(2, record(2), "b", &mut out);
        q.push(record(3), &mut out);
        q.release(&1, &mut out);
        assert_eq!(lines(&out), [1]);
        assert_eq!(out[0].text, "line 1");
        q.release(&1, &mut out);
        assert_eq!(lines(&out), [1]);
        q.release(&2, &mut out);
        assert_eq!(lines(&out), [1, 2, 3]);
        assert!(q.held.is_empty() && q.pending.is_empty());
    }

    #[test]
    fn a_new_wait_under_a_key_releases_the_old_one() {
        let mut q = Queue::default();
        let mut out = Vec::new();
        q.push_waiting(1, record(1), "a", &mut out);
        q.push_waiting(1, record(2), "b", &mut out);
        assert_eq!(lines(&out), [1]);
        assert_eq!(q.waiting(&1).map(|(r, w)| (r.line, *w)), Some((2, "b")));
    }

    #[test]
    fn bound_gives_up_on_the_oldest_waits() {
        let mut q = Queue::default();
        let mut out = Vec::new();
        q.push_waiting(1, record(1), "a", &mut out);
        q.push_waiting(2, record(2), "b", &mut out);
        q.push(record(3), &mut out);
        q.push(record(4), &mut out);
        assert!(out.is_empty());
        assert_eq!(q.held.len(), 4);
        // A fifth record: the oldest wait is given up, the second still holds the rest.
        q.push(record(5), &mut out);
        assert_eq!(lines(&out), [1]);
        assert_eq!(out[0].text, "line 1");
        assert!(q.waiting(&1).is_none());
        assert_eq!(q.waiting(&2).map(|(r, _)| r.line), Some(2));
        assert_eq!(q.held.len(), 4);
        q.push(record(6), &mut out);
        assert_eq!(lines(&out), [1, 2, 3, 4, 5, 6]);
        assert!(q.held.is_empty() && q.pending.is_empty());
        // A bound wait that is then completed finds nothing to finish.
        assert!(!q.complete(&2, &mut out, |_, _| unreachable!()));
    }

    #[test]
    fn held_text_is_bounded_in_bytes_too() {
        // At most 100 records but 64 bytes of text: long lines behind calls
        // that never resume give up the oldest waits long before 100 records.
        let mut q = HoldBack::<u32, &str, 100, 64>::default();
        let mut out = Vec::new();
        let long = |line: u64| Record {
            text: format!("{line:>20}"),
            ..record(line)
        };
        for key in 0..10u32 {
            q.push_waiting(key, long(u64::from(key) + 1), "never resumed", &mut out);
            assert!(q.bytes <= 64, "{} bytes held", q.bytes);
            assert_eq!(q.bytes, q.held.iter().map(|h| h.record.text.len()).sum::<usize>());
        }
        // The oldest left first, unfinished, in order; the newest still wait.
        assert_eq!(lines(&out), (1..=7).collect::<Vec<_>>());
        assert!(q.waiting(&9).is_some() && q.waiting(&0).is_none());
        // A completion that makes a record longer is bounded as well.
        assert!(q.complete(&9, &mut out, |r, _| r.text.push_str(&"x".repeat(100))));
        assert!(q.bytes <= 64);
        q.finish(&mut out);
        assert_eq!(lines(&out), (1..=10).collect::<Vec<_>>());
        assert_eq!(q.bytes, 0);
    }

    #[test]
    fn finish_flushes_everything_in_order() {
        let mut q = Queue::default();
        let mut out = Vec::new();
        q.push_waiting(1, record(1), "a", &mut out);
        q.push(record(2), &mut out);
        q.push_waiting(2, record(3), "b", &mut out);
        q.finish(&mut out);
        assert_eq!(lines(&out), [1, 2, 3]);
        assert_eq!(out[0].text, "line 1");
        assert!(q.held.is_empty() && q.pending.is_empty());
        q.finish(&mut out);
        assert_eq!(out.len(), 3);
    }
}
