//! Progress: how long work tells whoever is watching how far it has got.
//!
//! The core (reading, learning, scoring) reports to a [`Progress`], a cheap
//! handle over any [`Meter`]; it draws nothing itself and has no terminal
//! dependency. The `honk` binary's meter is a progress bar on standard error;
//! a library user passes [`Progress::hidden`] or a meter of their own.

use std::io::{self, Read};
use std::sync::Arc;

/// Something that shows progress: a bar, a log line, a counter in a service.
///
/// It is shared by the threads that read inputs in parallel, hence `Sync`.
pub trait Meter: Send + Sync {
    /// `bytes` more input bytes were read.
    fn advance(&self, bytes: u64);
    /// The work changed its name, e.g. from "learning" to "scoring".
    fn relabel(&self, _what: &str) {}
    /// The work is done: remove whatever was drawn.
    fn finish(&self) {}
}

/// A handle the core reports progress to; hidden (reports to nobody) by default.
#[derive(Clone, Default)]
pub struct Progress {
    meter: Option<Arc<dyn Meter>>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress")
            .field("shown", &self.meter.is_some())
            .finish()
    }
}

impl Progress {
    /// Progress that nobody sees.
    pub fn hidden() -> Progress {
        Progress { meter: None }
    }

    /// Progress reported to `meter`.
    pub fn to(meter: Arc<dyn Meter>) -> Progress {
        Progress { meter: Some(meter) }
    }

    /// Count the bytes read through `reader` as progress.
    pub fn wrap(&self, reader: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
        match &self.meter {
            Some(meter) => Box::new(Counted {
                inner: reader,
                meter: Arc::clone(meter),
            }),
            None => reader,
        }
    }

    /// `bytes` more were done.
    pub fn advance(&self, bytes: u64) {
        if let Some(meter) = &self.meter {
            meter.advance(bytes);
        }
    }

    /// Change what the work is called.
    pub fn set_message(&self, what: &str) {
        if let Some(meter) = &self.meter {
            meter.relabel(what);
        }
    }

    /// The work is done.
    pub fn finish(&self) {
        if let Some(meter) = &self.meter {
            meter.finish();
        }
    }
}

/// A reader that reports the bytes read through it.
struct Counted {
    inner: Box<dyn Read + Send>,
    meter: Arc<dyn Meter>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.advance(n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[derive(Default)]
    struct Count(AtomicU64);

    impl Meter for Count {
        fn advance(&self, bytes: u64) {
            self.0.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    #[test]
    fn bytes_read_through_a_wrapped_reader_are_counted() {
        let count = Arc::new(Count::default());
        let progress = Progress::to(count.clone());
        let mut reader = progress.wrap(Box::new(io::Cursor::new(vec![7u8; 10_000])));
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        assert_eq!(all.len(), 10_000);
        assert_eq!(count.0.load(Ordering::Relaxed), 10_000);
    }

    #[test]
    fn hidden_progress_reads_through_unchanged() {
        let mut reader = Progress::hidden().wrap(Box::new(io::Cursor::new(b"abc".to_vec())));
        let mut all = String::new();
        reader.read_to_string(&mut all).unwrap();
        assert_eq!(all, "abc");
    }
}
