//! Follow: read sources that keep growing, as `tail -F` does, and hand out
//! their complete lines as they arrive.
//!
//! A followed file is read from its end (or, when asked, from its start) and
//! then polled: appended lines are handed out; a file that shrank was
//! truncated and is read again from its start; a path that names another file
//! than the one open (rotated by rename, or replaced) has the old file read to
//! its end first, then the new one from its start; a path that names nothing
//! is waited for. Standard input is read until it ends. A line is handed out
//! once its newline has come (or its source ended, or its file was replaced
//! or truncated), cut at [`MAX_LINE_BYTES`] as [`super::Lines`] cuts it.
//!
//! Each source is read on its own thread, which sends [`Followed`] messages on
//! one bounded channel, so a slow reader of the channel holds the readers
//! back rather than letting memory grow. Compressed files are not followed:
//! their bytes are read as they are. This module knows nothing of formats or
//! scores.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::{MAX_LINE_BYTES, NUMBERS_LINE_FACTOR, STDIN_NAME};

/// Bytes read from a source before its lines are sent on (a burst is sent in
/// pieces of about this size).
const BURST_BYTES: usize = 1 << 20;

/// Messages waiting in the channel at most.
const CHANNEL_MESSAGES: usize = 16;

/// What to follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Standard input, until it ends.
    Stdin,
    /// A file, followed by its path (as `tail -F` does).
    Path(PathBuf),
}

impl Source {
    /// The source for a command-line path: `-` is standard input.
    pub fn from_path(path: &Path) -> Source {
        if super::is_stdin(path) {
            Source::Stdin
        } else {
            Source::Path(path.to_path_buf())
        }
    }

    /// How reports name it: the path as given, or `<stdin>`.
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => STDIN_NAME.to_owned(),
            Source::Path(path) => path.display().to_string(),
        }
    }
}

/// How sources are followed.
#[derive(Clone, Debug)]
pub struct FollowOptions {
    /// Read what a file holds already, not only what is appended afterwards.
    pub from_start: bool,
    /// How often a file is checked for new lines, truncation and rotation.
    pub poll: Duration,
}

impl Default for FollowOptions {
    /// From the end, polled every 50 ms (a stat of the path and a read; an alert waits 25 ms on average).
    fn default() -> FollowOptions {
        FollowOptions {
            from_start: false,
            poll: Duration::from_millis(50),
        }
    }
}

/// Why a source's reading (re)starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// The source was opened when following began.
    First,
    /// The path named nothing and now names a file.
    Appeared,
    /// The file shrank: it is read again from its start.
    Truncated,
    /// The path names another file (rotation by rename, or a replacement):
    /// the old file was read to its end, the new one is read from its start.
    Replaced,
}

/// A complete line of a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The line, without its `\n` or `\r\n`, invalid UTF-8 decoded lossily.
    pub text: String,
    /// Whether it was longer than honk keeps and was cut.
    pub cut: bool,
}

/// What happened to a followed source.
#[derive(Debug)]
pub enum Event {
    /// Reading (re)starts; `skipped` lines were there already and are not
    /// read (a file followed from its end), so the first line read is line
    /// `skipped + 1`. The lines before a restart belong to the previous file.
    Started {
        /// Why.
        why: Start,
        /// Lines passed over.
        skipped: u64,
    },
    /// The next complete lines, in order.
    Lines(Vec<Line>),
    /// The path names nothing now (removed, or not created yet); it is
    /// watched for a file to appear.
    Missing,
    /// The source ended (standard input closed); nothing more comes from it.
    Ended,
    /// The source could not be read; nothing more comes from it.
    Failed(io::Error),
}

/// An [`Event`] of the source at `source` in the list given to [`follow`].
#[derive(Debug)]
pub struct Followed {
    /// The source's position in the list.
    pub source: usize,
    /// What happened.
    pub event: Event,
}

/// Follow every source on its own thread until `stop` is set; their events
/// arrive on the returned channel. A file thread notices `stop` within one
/// poll; the standard input thread only when a read returns.
pub fn follow(sources: &[Source], options: &FollowOptions, stop: Arc<AtomicBool>) -> io::Result<Receiver<Followed>> {
    let (send, receive) = sync_channel(CHANNEL_MESSAGES);
    for (i, source) in sources.iter().enumerate() {
        let send = send.clone();
        let stop = Arc::clone(&stop);
        let options = options.clone();
        let source = source.clone();
        thread::Builder::new().name(format!("follow {i}")).spawn(move || {
            let out = Out { send, source: i };
            match source {
                Source::Stdin => follow_stdin(&out, &stop),
                Source::Path(path) => follow_file(&path, &options, &out, &stop),
            }
        })?;
    }
    Ok(receive)
}

/// Sends one source's events; `false` once nobody listens.
struct Out {
    send: SyncSender<Followed>,
    source: usize,
}

impl Out {
    fn send(&self, event: Event) -> bool {
        self.send
            .send(Followed {
                source: self.source,
                event,
            })
            .is_ok()
    }

    fn lines(&self, lines: &mut Vec<Line>) -> bool {
        lines.is_empty() || self.send(Event::Lines(std::mem::take(lines)))
    }
}

fn follow_stdin(out: &Out, stop: &AtomicBool) {
    if out.send(Event::Started {
        why: Start::First,
        skipped: 0,
    }) {
        read_to_end(io::stdin().lock(), out, stop);
    }
}

/// Read a stream (standard input, a fifo) until it ends, sending its lines as they come.
fn read_to_end(mut stdin: impl Read, out: &Out, stop: &AtomicBool) {
    let mut splitter = Splitter::default();
    let mut buf = vec![0; 64 * 1024];
    let mut lines = Vec::new();
    loop {
        match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                splitter.push(&buf[..n], &mut lines);
                if !out.lines(&mut lines) || stop.load(Ordering::Relaxed) {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = out.send(Event::Failed(e));
                return;
            }
        }
    }
    splitter.finish(&mut lines);
    if out.lines(&mut lines) {
        let _ = out.send(Event::Ended);
    }
}

/// The identity of a file: device and inode.
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

/// An open followed file.
struct Open {
    file: File,
    id: (u64, u64),
    /// Bytes read so far (the offset of the next read).
    at: u64,
    /// A regular file (else a fifo or a device: read as a stream until it ends).
    regular: bool,
}

/// Open `path` for following: a regular file or a fifo, refused otherwise.
fn open(path: &Path) -> io::Result<Open> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "it is a directory"));
    }
    Ok(Open {
        id: identity(&meta),
        regular: meta.is_file(),
        file,
        at: 0,
    })
}

/// Count the lines in the first `len` bytes of `file` and leave it positioned there.
fn skip_to_end(file: &mut File) -> io::Result<(u64, u64)> {
    let mut lines = 0u64;
    let mut at = 0u64;
    let mut buf = vec![0; 256 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        at += n as u64;
    }
    // A last line without its newline is still being written: read it whole later.
    if at > 0 {
        let mut last = [0u8];
        file.seek(SeekFrom::Start(at - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            let mut back = at;
            // Back to just after the last newline.
            let mut chunk = vec![0; 64 * 1024];
            loop {
                let from = back.saturating_sub(chunk.len() as u64);
                let len = (back - from) as usize;
                file.seek(SeekFrom::Start(from))?;
                file.read_exact(&mut chunk[..len])?;
                match memchr::memrchr(b'\n', &chunk[..len]) {
                    Some(i) => {
                        back = from + i as u64 + 1;
                        break;
                    }
                    None if from == 0 => {
                        back = 0;
                        break;
                    }
                    None => back = from,
                }
            }
            at = back;
        }
        file.seek(SeekFrom::Start(at))?;
    }
    Ok((lines, at))
}

fn follow_file(path: &Path, options: &FollowOptions, out: &Out, stop: &AtomicBool) {
    let mut splitter = Splitter::default();
    let mut lines = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    let mut current: Option<Open> = None;
    // Whether Missing was said since the path last named a file.
    let mut said_missing = false;
    // How the next open starts.
    let mut next_start = Start::First;
    while !stop.load(Ordering::Relaxed) {
        let Some(open_file) = current.as_mut() else {
            match open(path) {
                Ok(mut opened) => {
                    let mut skipped = 0;
                    if !opened.regular {
                        // A fifo or a device has no end to start from, nor a size to shrink.
                        if out.send(Event::Started {
                            why: next_start,
                            skipped,
                        }) {
                            read_to_end(opened.file, out, stop);
                        }
                        return;
                    }
                    if next_start == Start::First && !options.from_start {
                        match skip_to_end(&mut opened.file) {
                            Ok((lines, at)) => {
                                skipped = lines;
                                opened.at = at;
                            }
                            Err(e) => {
                                let _ = out.send(Event::Failed(e));
                                return;
                            }
                        }
                    }
                    if !out.send(Event::Started {
                        why: next_start,
                        skipped,
                    }) {
                        return;
                    }
                    said_missing = false;
                    current = Some(opened);
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if !said_missing {
                        said_missing = true;
                        if !out.send(Event::Missing) {
                            return;
                        }
                    }
                    if next_start == Start::First {
                        // Whatever appears at the path is new: read it whole.
                        next_start = Start::Appeared;
                    }
                    thread::sleep(options.poll);
                    continue;
                }
                Err(e) => {
                    let _ = out.send(Event::Failed(e));
                    return;
                }
            }
        };
        // Read what has come.
        let mut read = 0usize;
        loop {
            match open_file.file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    open_file.at += n as u64;
                    read += n;
                    splitter.push(&buf[..n], &mut lines);
                    if read >= BURST_BYTES {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = out.send(Event::Failed(e));
                    return;
                }
            }
        }
        if !out.lines(&mut lines) {
            return;
        }
        if read >= BURST_BYTES {
            // More is waiting: read on before looking at the path.
            continue;
        }
        // Has the file shrunk, or does the path name another file now?
        let size = open_file.file.metadata().map(|m| m.len()).unwrap_or(open_file.at);
        let named = std::fs::metadata(path);
        let replaced = match &named {
            Ok(meta) => identity(meta) != open_file.id,
            Err(_) => false,
        };
        if size < open_file.at && !replaced {
            splitter.finish(&mut lines);
            if !out.lines(&mut lines) {
                return;
            }
            if open_file.file.seek(SeekFrom::Start(0)).is_err() {
                current = None;
                next_start = Start::Truncated;
                continue;
            }
            open_file.at = 0;
            if !out.send(Event::Started {
                why: Start::Truncated,
                skipped: 0,
            }) {
                return;
            }
            continue;
        }
        if replaced {
            // The old file is read to its end (above, and once more for what
            // was written between that read and the rename), then let go.
            loop {
                match open_file.file.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => splitter.push(&buf[..n], &mut lines),
                }
            }
            splitter.finish(&mut lines);
            if !out.lines(&mut lines) {
                return;
            }
            current = None;
            next_start = Start::Replaced;
            continue;
        }
        if let Err(e) = &named {
            if e.kind() == io::ErrorKind::NotFound && !said_missing {
                // Renamed away or removed, nothing new yet: keep reading the
                // old file until a new one appears at the path.
                said_missing = true;
                if !out.send(Event::Missing) {
                    return;
                }
            }
        } else {
            said_missing = false;
        }
        thread::sleep(options.poll);
    }
}

/// Cuts bytes into complete lines, keeping the unfinished last line until
/// its newline comes; a line is kept to [`MAX_LINE_BYTES`] (or
/// [`NUMBERS_LINE_FACTOR`] times that for a line of only numbers), the rest
/// of it skipped.
#[derive(Debug, Default)]
pub struct Splitter {
    partial: Vec<u8>,
    cut: bool,
}

impl Splitter {
    /// Take the next bytes; append the lines they complete to `out`.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<Line>) {
        while !bytes.is_empty() {
            let (piece, done) = match memchr::memchr(b'\n', bytes) {
                Some(at) => (&bytes[..at], Some(at + 1)),
                None => (bytes, None),
            };
            self.keep(piece);
            match done {
                Some(used) => {
                    self.emit(out);
                    bytes = &bytes[used..];
                }
                None => break,
            }
        }
    }

    /// The source ended: the unfinished last line, if any, is a line.
    pub fn finish(&mut self, out: &mut Vec<Line>) {
        if !self.partial.is_empty() || self.cut {
            self.emit(out);
        }
    }

    fn keep(&mut self, piece: &[u8]) {
        if self.cut {
            return;
        }
        let numbers = |b: &[u8]| {
            b.iter()
                .all(|&c| c.is_ascii_digit() || matches!(c, b' ' | b'\t' | b'\r'))
        };
        let max = if self.partial.len() + piece.len() > MAX_LINE_BYTES && numbers(&self.partial) && numbers(piece) {
            MAX_LINE_BYTES.saturating_mul(NUMBERS_LINE_FACTOR)
        } else {
            MAX_LINE_BYTES
        };
        let room = max.saturating_sub(self.partial.len());
        if piece.len() > room {
            self.partial.extend_from_slice(&piece[..room]);
            self.cut = true;
        } else {
            self.partial.extend_from_slice(piece);
        }
    }

    fn emit(&mut self, out: &mut Vec<Line>) {
        if self.partial.last() == Some(&b'\r') {
            self.partial.pop();
        }
        let text = match std::str::from_utf8(&self.partial) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(&self.partial).into_owned(),
        };
        out.push(Line { text, cut: self.cut });
        self.partial.clear();
        if self.partial.capacity() > MAX_LINE_BYTES {
            self.partial = Vec::new();
        }
        self.cut = false;
    }
}

#[cfg(test)]
#[allow(unsafe_code)] // mkfifo, to follow a FIFO.
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Instant;

    fn texts(lines: &[Line]) -> Vec<&str> {
        lines.iter().map(|l| l.text.as_str()).collect()
    }

    #[test]
    fn a_line_waits_for_its_newline() {
        let mut s = Splitter::default();
        let mut out = Vec::new();
        s.push(b"one\ntw", &mut out);
        assert_eq!(texts(&out), ["one"]);
        s.push(b"o\r\nthr", &mut out);
        assert_eq!(texts(&out), ["one", "two"]);
        s.push(b"ee", &mut out);
        assert_eq!(out.len(), 2);
        s.finish(&mut out);
        assert_eq!(texts(&out), ["one", "two", "three"]);
        s.finish(&mut out);
        assert_eq!(out.len(), 3, "nothing left to finish");
    }

    #[test]
    fn long_lines_are_cut_and_the_next_line_survives() {
        let mut s = Splitter::default();
        let mut out = Vec::new();
        let long = vec![b'x'; MAX_LINE_BYTES + 10];
        s.push(&long[..100], &mut out);
        s.push(&long[100..], &mut out);
        s.push(b"\nnext\n", &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].text.len(), MAX_LINE_BYTES);
        assert!(out[0].cut);
        assert_eq!(
            out[1],
            Line {
                text: "next".into(),
                cut: false
            }
        );
    }

    /// Events until `until` holds of the lines so far (or 10 s pass).
    fn collect(rx: &Receiver<Followed>, events: &mut Vec<String>, until: impl Fn(&[String]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !until(events) && Instant::now() < deadline {
            if let Ok(f) = rx.recv_timeout(Duration::from_millis(50)) {
                match f.event {
                    Event::Lines(lines) => events.extend(lines.into_iter().map(|l| l.text)),
                    Event::Started { why, skipped } => events.push(format!("<{why:?} {skipped}>")),
                    Event::Missing => events.push("<missing>".into()),
                    other => events.push(format!("<{other:?}>")),
                }
            }
        }
    }

    #[test]
    fn a_file_is_followed_through_appends_truncation_and_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app log é.txt");
        std::fs::write(&path, "old 1\nold 2\npart").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let options = FollowOptions {
            from_start: false,
            poll: Duration::from_millis(20),
        };
        let rx = follow(&[Source::Path(path.clone())], &options, Arc::clone(&stop)).unwrap();
        let mut events = Vec::new();
        collect(&rx, &mut events, |e| !e.is_empty());
        assert_eq!(events, ["<First 2>"], "existing whole lines are skipped");
        let append = |text: &str| {
            let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
            f.write_all(text.as_bytes()).unwrap();
        };
        append("ial\nnew 1\n");
        collect(&rx, &mut events, |e| e.len() >= 3);
        assert_eq!(events[1..], ["partial", "new 1"]);
        std::fs::write(&path, "").unwrap();
        collect(&rx, &mut events, |e| e.len() >= 4);
        assert_eq!(events[3], "<Truncated 0>");
        append("after truncation\n");
        collect(&rx, &mut events, |e| e.len() >= 5);
        assert_eq!(events[4], "after truncation");
        // Rotation: the old file gets a last line after the rename, then a new file appears.
        let rotated = dir.path().join("app log é.txt.1");
        std::fs::rename(&path, &rotated).unwrap();
        {
            let mut f = std::fs::OpenOptions::new().append(true).open(&rotated).unwrap();
            f.write_all(b"last of old").unwrap();
        }
        std::fs::write(&path, "first of new\n").unwrap();
        collect(&rx, &mut events, |e| e.iter().any(|x| x == "first of new"));
        let tail: Vec<&str> = events[5..]
            .iter()
            .map(String::as_str)
            .filter(|e| *e != "<missing>")
            .collect();
        assert_eq!(tail, ["last of old", "<Replaced 0>", "first of new"]);
        stop.store(true, Ordering::Relaxed);
    }

    #[test]
    fn a_fifo_is_read_as_a_stream_until_its_writer_closes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipe");
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo on a path in our own scratch directory.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let stop = Arc::new(AtomicBool::new(false));
        let rx = follow(
            &[Source::Path(path.clone())],
            &FollowOptions::default(),
            Arc::clone(&stop),
        )
        .unwrap();
        let mut writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        writer.write_all(b"one\ntwo").unwrap();
        drop(writer);
        let mut events = Vec::new();
        collect(&rx, &mut events, |e| e.len() >= 4);
        assert_eq!(events, ["<First 0>", "one", "two", "<Ended>"]);
    }

    #[test]
    fn a_missing_file_is_waited_for_and_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("later.log");
        let stop = Arc::new(AtomicBool::new(false));
        let options = FollowOptions {
            from_start: false,
            poll: Duration::from_millis(20),
        };
        let rx = follow(&[Source::Path(path.clone())], &options, Arc::clone(&stop)).unwrap();
        let mut events = Vec::new();
        collect(&rx, &mut events, |e| !e.is_empty());
        assert_eq!(events, ["<missing>"]);
        std::fs::write(&path, "hello\n").unwrap();
        collect(&rx, &mut events, |e| e.len() >= 3);
        assert_eq!(events, ["<missing>", "<Appeared 0>", "hello"]);
        stop.store(true, Ordering::Relaxed);
    }
}
