//! Read: find the inputs and hand out their lines.
//!
//! An input is a file, every file under a directory (recursively, in name order),
//! a member of a zip archive (every log in a `.zip`, as LID-DS ships its
//! recordings), or standard input (`-`). Gzip and zstd streams are decompressed
//! transparently, recognised by their magic bytes rather than by file name. Lines are bytes:
//! invalid UTF-8 is decoded lossily, and a line longer than [`MAX_LINE_BYTES`] is
//! cut there (the rest of it is skipped, not buffered), so one hostile line cannot
//! take unbounded memory.
//!
//! This module knows nothing of formats: it does not split records or look inside
//! lines.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

pub mod follow;

/// Longest line kept, in bytes; longer lines are truncated.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// `line` cut at [`MAX_LINE_BYTES`] (on a character boundary), and whether
/// it was: for lines that arrive whole (a message, a request's record) rather
/// than through [`Lines`].
pub fn cut_line(line: &str) -> (&str, bool) {
    if line.len() <= MAX_LINE_BYTES {
        return (line, false);
    }
    let mut end = MAX_LINE_BYTES;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    (&line[..end], true)
}

/// The lines of a text that arrived whole (a message, a request's record):
/// split on `\n`, a `\r` before it dropped, and no empty last line for a
/// final newline.
pub fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l))
}

/// How many times longer than [`MAX_LINE_BYTES`] a line of only numbers
/// (digits and blanks) may be: a whole trace of system-call numbers on one
/// line, as ADFA-LD ships them (40,000 calls are about 200 KiB). 16 MiB.
pub const NUMBERS_LINE_FACTOR: usize = 256;

const BUFFER_BYTES: usize = 256 * 1024;

/// The name standard input goes by in output.
pub const STDIN_NAME: &str = "<stdin>";

/// Something went wrong finding or opening an input.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The path could not be opened or listed.
    #[error("cannot read {path}")]
    Open {
        /// The path as given, or the input's name (see [`Input::name`]).
        path: String,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// A directory held no files at all.
    #[error("{path} is a directory with no files in it")]
    EmptyDirectory {
        /// The directory, as given.
        path: String,
    },
    /// A zip archive could not be read.
    #[error("cannot read the zip archive {path}: {reason}")]
    Zip {
        /// The archive's path.
        path: String,
        /// What the zip reader said, prefixed with the member's name when that member could not be opened.
        reason: String,
    },
}

/// Members of a zip archive that are not logs: LID-DS's metadata, resource
/// statistics and network captures.
const ZIP_SKIPPED: &[&str] = &[".json", ".res", ".pcap", ".pcapng"];

/// Bytes handed over at a time from a zip member's reading thread.
const ZIP_CHUNK: usize = 256 * 1024;

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file on disk.
    File(PathBuf),
    /// One member of a zip archive.
    ZipEntry {
        /// The archive.
        archive: PathBuf,
        /// The member's name in it.
        entry: String,
    },
    /// Bytes in memory, under a name of the caller's choosing (a library
    /// caller's log, a test's lines).
    Memory {
        /// How reports name it.
        name: String,
        /// The content, read as a file's would be (compressed or not).
        bytes: std::sync::Arc<[u8]>,
    },
}

impl Input {
    /// An input of `text` in memory, named `name` in reports.
    pub fn text(name: &str, text: &str) -> Input {
        Input::Memory {
            name: name.to_owned(),
            bytes: std::sync::Arc::from(text.as_bytes()),
        }
    }

    /// How the input is named in output: the path as given, or `<stdin>`.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => STDIN_NAME.to_owned(),
            Input::Memory { name, .. } => name.clone(),
            Input::File(path) => path.display().to_string(),
            Input::ZipEntry { archive, entry } => format!("{}/{entry}", archive.display()),
        }
    }

    /// Size in bytes on disk, when known (for progress bars).
    pub fn size_on_disk(&self) -> Option<u64> {
        match self {
            Input::Stdin | Input::ZipEntry { .. } => None,
            Input::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            Input::Memory { bytes, .. } => Some(bytes.len() as u64),
        }
    }

    /// Open the input, decompressing gzip or zstd if its first bytes say so.
    pub fn open(&self) -> Result<Box<dyn BufRead + Send>, ReadError> {
        let raw = self.open_raw()?;
        self.decode(raw)
    }

    /// The input's bytes as stored (a zip member already inflated).
    pub fn open_raw(&self) -> Result<Box<dyn Read + Send>, ReadError> {
        Ok(match self {
            Input::Stdin => Box::new(io::stdin()),
            Input::File(path) => Box::new(File::open(path).map_err(|e| self.error(e))?),
            Input::ZipEntry { archive, entry } => Box::new(ZipMember::open(archive, entry)?),
            Input::Memory { bytes, .. } => Box::new(io::Cursor::new(std::sync::Arc::clone(bytes))),
        })
    }

    /// Wrap an already opened reader of this input (e.g. one that counts progress).
    pub fn decode(&self, raw: Box<dyn Read + Send>) -> Result<Box<dyn BufRead + Send>, ReadError> {
        decoded(raw).map_err(|e| self.error(e))
    }

    /// An error reading this input, named for the user.
    pub fn error(&self, source: io::Error) -> ReadError {
        ReadError::Open {
            path: self.name(),
            source,
        }
    }
}

/// A path as honk prints it on a terminal: control characters (a file named
/// with `ESC]0;...BEL` or `ESC[2J`) escaped as in log text, so a name cannot
/// drive the terminal. Every message that names a file goes through this (or,
/// for names already in a string, [`crate::report::human::escape`]); errors
/// are escaped whole where they are printed.
pub fn shown(path: &Path) -> String {
    crate::report::human::escape(&path.display().to_string()).into_owned()
}

/// Turn command-line paths into inputs: `-` is stdin, a directory is every file
/// under it in name order (hidden files included), anything else a file.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<Input>, ReadError> {
    let mut inputs = Vec::new();
    for path in paths {
        if is_stdin(path) {
            inputs.push(Input::Stdin);
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|source| ReadError::Open {
            path: path.display().to_string(),
            source,
        })?;
        if !meta.is_dir() {
            push_file(path.clone(), &mut inputs)?;
            continue;
        }
        let before = inputs.len();
        for entry in walkdir::WalkDir::new(path).follow_links(true).sort_by_file_name() {
            let entry = entry.map_err(|e| ReadError::Open {
                path: e.path().unwrap_or(path).display().to_string(),
                source: e.into(),
            })?;
            if entry.file_type().is_file() {
                push_file(entry.into_path(), &mut inputs)?;
            }
        }
        if inputs.len() == before {
            return Err(ReadError::EmptyDirectory {
                path: path.display().to_string(),
            });
        }
    }
    Ok(inputs)
}

/// A file is one input; a zip archive is one input per log member.
fn push_file(path: PathBuf, inputs: &mut Vec<Input>) -> Result<(), ReadError> {
    let is_zip = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if !is_zip {
        inputs.push(Input::File(path));
        return Ok(());
    }
    let zip_error = |reason: String| ReadError::Zip {
        path: path.display().to_string(),
        reason,
    };
    let archive = parsed_archive(&path).map_err(|e| match e {
        ArchiveError::Open(source) => ReadError::Open {
            path: path.display().to_string(),
            source,
        },
        ArchiveError::Zip(reason) => zip_error(reason),
    })?;
    for entry in log_members(&archive) {
        inputs.push(Input::ZipEntry {
            archive: path.clone(),
            entry,
        });
    }
    Ok(())
}

/// The members of a zip archive that are logs, in name order: not
/// directories, not metadata ([`ZIP_SKIPPED`]).
fn log_members<R: Read + io::Seek>(archive: &zip::ZipArchive<R>) -> Vec<String> {
    let mut members: Vec<String> = archive
        .file_names()
        .filter(|name| !name.ends_with('/'))
        .filter(|name| !ZIP_SKIPPED.iter().any(|ext| name.to_ascii_lowercase().ends_with(ext)))
        .map(str::to_owned)
        .collect();
    members.sort();
    members
}

/// A zip archive held in memory, read as [`expand`] and [`Input::open`] read
/// one on disk: `each` is called with the name and the decoded contents
/// (gzip and zstd members decompressed) of every log member, in name order.
/// For tests and fuzzing of the archive reader without files; an error of
/// `each` stops the reading and is returned as the member's.
pub fn read_zip_bytes(
    bytes: &[u8],
    mut each: impl FnMut(&str, &mut dyn BufRead) -> io::Result<()>,
) -> Result<(), ReadError> {
    let name = "<zip in memory>";
    let zip_error = |reason: String| ReadError::Zip {
        path: name.to_owned(),
        reason,
    };
    let mut archive = zip::ZipArchive::new(io::Cursor::new(bytes)).map_err(|e| zip_error(e.to_string()))?;
    for entry in log_members(&archive) {
        let member = archive
            .by_name(&entry)
            .map_err(|e| zip_error(format!("{entry}: {e}")))?;
        let open_error = |source| ReadError::Open {
            path: format!("{name}/{entry}"),
            source,
        };
        let mut reader = decoded(member).map_err(open_error)?;
        each(&entry, &mut reader).map_err(open_error)?;
    }
    Ok(())
}

/// `raw`, buffered, and decompressed when its first bytes are the gzip or
/// zstd magic.
fn decoded<'a>(raw: impl Read + Send + 'a) -> io::Result<Box<dyn BufRead + Send + 'a>> {
    let mut buffered = BufReader::with_capacity(BUFFER_BYTES, raw);
    let magic = buffered.fill_buf()?;
    Ok(if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(
            BUFFER_BYTES,
            flate2::bufread::MultiGzDecoder::new(buffered),
        ))
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(BufReader::with_capacity(
            BUFFER_BYTES,
            zstd::stream::read::Decoder::with_buffer(buffered)?,
        ))
    } else {
        Box::new(buffered)
    })
}

/// An archive file shared by the readers of its members: each has its own
/// position and reads with `pread`, so a parsed archive can be cloned cheaply
/// (a `ZipArchive` clone shares its parsed central directory).
#[derive(Clone, Debug)]
struct SharedFile {
    file: std::sync::Arc<File>,
    at: u64,
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.at)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

impl io::Seek for SharedFile {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let invalid = || io::Error::new(io::ErrorKind::InvalidInput, "seek before the start of the file");
        self.at = match to {
            io::SeekFrom::Start(at) => at,
            io::SeekFrom::Current(by) => self.at.checked_add_signed(by).ok_or_else(invalid)?,
            io::SeekFrom::End(by) => self.file.metadata()?.len().checked_add_signed(by).ok_or_else(invalid)?,
        };
        Ok(self.at)
    }
}

/// Why an archive could not be parsed.
enum ArchiveError {
    Open(io::Error),
    Zip(String),
}

/// Archives parsed so far, by path, and how many times each was parsed: an
/// archive is parsed once, not once per member (that made reading an archive
/// of n members cost n²: 10,000 members took minutes).
#[derive(Default)]
struct Archives {
    parsed: HashMap<PathBuf, zip::ZipArchive<SharedFile>>,
    parses: HashMap<PathBuf, usize>,
}

static ARCHIVES: std::sync::LazyLock<std::sync::Mutex<Archives>> = std::sync::LazyLock::new(Default::default);

/// The parsed archive at `path`, parsed on first use.
fn parsed_archive(path: &Path) -> Result<zip::ZipArchive<SharedFile>, ArchiveError> {
    let mut archives = ARCHIVES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(archive) = archives.parsed.get(path) {
        return Ok(archive.clone());
    }
    let file = File::open(path).map_err(ArchiveError::Open)?;
    let shared = SharedFile {
        file: std::sync::Arc::new(file),
        at: 0,
    };
    *archives.parses.entry(path.to_path_buf()).or_default() += 1;
    let archive = zip::ZipArchive::new(shared).map_err(|e| ArchiveError::Zip(e.to_string()))?;
    archives.parsed.insert(path.to_path_buf(), archive.clone());
    Ok(archive)
}

/// A zip member read by a thread of its own, handed over in chunks through a
/// bounded channel: the archive's reader borrows the archive, and this way
/// neither has to live in the caller, nor the member in memory.
struct ZipMember {
    chunks: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    at: usize,
}

impl ZipMember {
    fn open(archive: &Path, entry: &str) -> Result<ZipMember, ReadError> {
        let path = archive.display().to_string();
        let mut zip = parsed_archive(archive).map_err(|e| match e {
            ArchiveError::Open(source) => ReadError::Open {
                path: path.clone(),
                source,
            },
            ArchiveError::Zip(reason) => ReadError::Zip {
                path: path.clone(),
                reason,
            },
        })?;
        // Fail here, not in the thread, when the member is missing.
        zip.by_name(entry).map_err(|e| ReadError::Zip {
            path,
            reason: format!("{entry}: {e}"),
        })?;
        let (send, chunks) = std::sync::mpsc::sync_channel(2);
        let entry = entry.to_owned();
        std::thread::spawn(move || {
            let mut member = match zip.by_name(&entry) {
                Ok(member) => member,
                Err(e) => {
                    let _ = send.send(Err(io::Error::other(e.to_string())));
                    return;
                }
            };
            loop {
                let mut chunk = vec![0; ZIP_CHUNK];
                match member.read(&mut chunk) {
                    Ok(0) => return,
                    Ok(n) => {
                        chunk.truncate(n);
                        if send.send(Ok(chunk)).is_err() {
                            return; // the reader went away
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = send.send(Err(e));
                        return;
                    }
                }
            }
        });
        Ok(ZipMember {
            chunks,
            current: Vec::new(),
            at: 0,
        })
    }
}

impl Read for ZipMember {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at >= self.current.len() {
            match self.chunks.recv() {
                Ok(chunk) => {
                    self.current = chunk?;
                    self.at = 0;
                }
                Err(_) => return Ok(0), // the thread is done: end of the member
            }
        }
        let n = buf.len().min(self.current.len() - self.at);
        buf[..n].copy_from_slice(&self.current[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// Reads lines from a buffered reader, capped at [`MAX_LINE_BYTES`] each.
pub struct Lines<R> {
    reader: R,
    bytes: Vec<u8>,
    number: u64,
    truncated: u64,
    max: usize,
}

impl<R: BufRead> Lines<R> {
    /// Lines of `reader`, each cut at [`MAX_LINE_BYTES`].
    pub fn new(reader: R) -> Self {
        Self::with_max(reader, MAX_LINE_BYTES)
    }

    /// Lines of `reader`, each cut at `max` bytes, or at `max` times
    /// [`NUMBERS_LINE_FACTOR`] for a line of only numbers (cut then after
    /// the last whole number, never inside one).
    pub fn with_max(reader: R, max: usize) -> Self {
        Lines {
            reader,
            bytes: Vec::new(),
            number: 0,
            truncated: 0,
            max,
        }
    }

    /// How many lines were longer than the cap so far.
    pub fn truncated(&self) -> u64 {
        self.truncated
    }

    /// Read the next line into `line` (without its `\n` or `\r\n`), returning its
    /// 1-based number, or `None` at the end of input.
    pub fn next_line(&mut self, line: &mut String) -> io::Result<Option<u64>> {
        self.bytes.clear();
        let mut seen_any = false;
        let mut cut = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                break;
            }
            seen_any = true;
            let (chunk, used, done) = match memchr::memchr(b'\n', available) {
                Some(at) => (&available[..at], at + 1, true),
                None => (available, available.len(), false),
            };
            if !cut {
                let numbers =
                    self.bytes.len() + chunk.len() > self.max && only_numbers(&self.bytes) && only_numbers(chunk);
                let max = if numbers {
                    self.max.saturating_mul(NUMBERS_LINE_FACTOR)
                } else {
                    self.max
                };
                let room = max.saturating_sub(self.bytes.len());
                if chunk.len() > room {
                    cut = true;
                    self.bytes.extend_from_slice(&chunk[..room]);
                    if numbers && chunk[room].is_ascii_digit() {
                        // Not inside a number: back to the last blank.
                        while self.bytes.last().is_some_and(u8::is_ascii_digit) {
                            self.bytes.pop();
                        }
                    }
                } else {
                    self.bytes.extend_from_slice(chunk);
                }
            }
            self.reader.consume(used);
            if done {
                break;
            }
        }
        if !seen_any {
            return Ok(None);
        }
        if cut {
            self.truncated += 1;
        }
        if self.bytes.last() == Some(&b'\r') {
            self.bytes.pop();
        }
        self.number += 1;
        line.clear();
        match std::str::from_utf8(&self.bytes) {
            Ok(text) => line.push_str(text),
            Err(_) => line.push_str(&String::from_utf8_lossy(&self.bytes)),
        }
        Ok(Some(self.number))
    }
}

/// Whether `bytes` hold only digits and blanks (a line of system-call numbers).
fn only_numbers(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|&b| b.is_ascii_digit() || matches!(b, b' ' | b'\t' | b'\r'))
}

/// Whether a path names standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn all_lines(data: &[u8], max: usize) -> (Vec<(u64, String)>, u64) {
        let mut lines = Lines::with_max(Cursor::new(data.to_vec()), max);
        let mut out = Vec::new();
        let mut line = String::new();
        while let Some(n) = lines.next_line(&mut line).unwrap() {
            out.push((n, line.clone()));
        }
        (out, lines.truncated())
    }

    #[test]
    fn an_archive_of_many_members_is_parsed_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("many.zip");
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        let members = 10_000;
        for i in 0..members {
            zip.start_file(format!("m{i:05}.log"), zip::write::SimpleFileOptions::default())
                .unwrap();
            writeln!(zip, "line of member {i}").unwrap();
        }
        zip.start_file("meta.json", zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.finish().unwrap();
        let inputs = expand(std::slice::from_ref(&path)).unwrap();
        assert_eq!(inputs.len(), members);
        let mut text = String::new();
        for input in &inputs {
            text.clear();
            input.open().unwrap().read_to_string(&mut text).unwrap();
            let Input::ZipEntry { entry, .. } = input else {
                panic!("{input:?}")
            };
            let i: usize = entry[1..6].parse().unwrap();
            assert_eq!(text, format!("line of member {i}\n"));
        }
        let parses = ARCHIVES.lock().unwrap().parses.get(&path).copied();
        assert_eq!(
            parses,
            Some(1),
            "the central directory is parsed once, not once per member"
        );
    }

    #[test]
    fn a_line_of_numbers_may_be_much_longer_and_is_never_cut_inside_a_number() {
        // 40,000 calls on one line, as in ADFA-LD: about 160 KiB, kept whole.
        let calls: Vec<String> = (0..40_000).map(|i| (i % 340).to_string()).collect();
        let mut data = calls.join(" ").into_bytes();
        data.extend_from_slice(b"\nnext\n");
        let (lines, truncated) = all_lines(&data, MAX_LINE_BYTES);
        assert_eq!(truncated, 0);
        assert_eq!(lines[0].1.split(' ').count(), 40_000);
        assert_eq!(lines[1], (2, "next".to_owned()));
        // Past its own cap it is cut after a whole number, and counted.
        let max = 10;
        let cap = max * NUMBERS_LINE_FACTOR;
        let long: String = (0..cap).map(|i| format!("{} ", 100 + i % 900)).collect();
        let (lines, truncated) = all_lines(long.as_bytes(), max);
        assert_eq!(truncated, 1);
        assert!(lines[0].1.len() <= cap);
        assert!(long.starts_with(&lines[0].1));
        assert!(lines[0].1.split_whitespace().all(|n| n.len() == 3), "a number was cut");
        // Text is cut at the ordinary cap.
        let (lines, truncated) = all_lines("word ".repeat(100).as_bytes(), max);
        assert_eq!((lines[0].1.len(), truncated), (max, 1));
    }

    #[test]
    fn splits_lines_and_strips_line_endings() {
        let (lines, truncated) = all_lines(b"one\r\ntwo\n\nlast without newline", 100);
        let texts: Vec<_> = lines.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["one", "two", "", "last without newline"]);
        assert_eq!(lines.last().unwrap().0, 4);
        assert_eq!(truncated, 0);
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily() {
        let (lines, _) = all_lines(b"ok \xff\xfe bytes\n", 100);
        assert_eq!(lines[0].1, "ok \u{fffd}\u{fffd} bytes");
    }

    #[test]
    fn long_lines_are_cut_and_counted_and_the_next_line_survives() {
        let mut data = vec![b'x'; 10_000];
        data.extend_from_slice(b"\nnext\n");
        let (lines, truncated) = all_lines(&data, 16);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].1, "x".repeat(16));
        assert_eq!(lines[1], (2, "next".to_owned()));
        assert_eq!(truncated, 1);
    }

    #[test]
    fn gzip_and_zstd_are_decoded_by_magic() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"alpha\nbeta\n";

        let gz_path = dir.path().join("log.gz");
        let mut gz = flate2::write::GzEncoder::new(File::create(&gz_path).unwrap(), flate2::Compression::default());
        gz.write_all(text).unwrap();
        gz.finish().unwrap();

        // No extension: detection must not depend on the name.
        let zst_path = dir.path().join("log-zstd");
        std::fs::write(&zst_path, zstd::encode_all(&text[..], 3).unwrap()).unwrap();

        for path in [gz_path, zst_path] {
            let reader = Input::File(path).open().unwrap();
            let mut lines = Lines::new(reader);
            let mut line = String::new();
            let mut got = Vec::new();
            while lines.next_line(&mut line).unwrap().is_some() {
                got.push(line.clone());
            }
            assert_eq!(got, ["alpha", "beta"]);
        }
    }

    #[test]
    fn zip_members_are_inputs_and_metadata_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("recording.zip");
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("b.sc", options).unwrap();
        // Larger than one hand-over chunk, to cross chunk boundaries.
        for i in 0..40_000 {
            writeln!(zip, "line {i}").unwrap();
        }
        zip.start_file("a.json", options).unwrap();
        zip.write_all(b"{}").unwrap();
        zip.start_file("a.sc", options).unwrap();
        zip.write_all(b"first\nsecond\n").unwrap();
        zip.finish().unwrap();

        let inputs = expand(std::slice::from_ref(&path)).unwrap();
        let names: Vec<String> = inputs.iter().map(Input::name).collect();
        let base = path.display();
        assert_eq!(names, [format!("{base}/a.sc"), format!("{base}/b.sc")]);
        let mut lines = Lines::new(inputs[1].open().unwrap());
        let mut line = String::new();
        let mut count = 0;
        while lines.next_line(&mut line).unwrap().is_some() {
            assert_eq!(line, format!("line {count}"));
            count += 1;
        }
        assert_eq!(count, 40_000);
    }

    #[test]
    fn a_broken_zip_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.zip");
        std::fs::write(&path, b"PK\x03\x04 not really").unwrap();
        let err = expand(&[path]).unwrap_err().to_string();
        assert!(err.starts_with("cannot read the zip archive"), "{err}");
    }

    #[test]
    fn directories_expand_recursively_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.log"), "b").unwrap();
        std::fs::write(dir.path().join("a.log"), "a").unwrap();
        std::fs::write(dir.path().join("sub/c.log"), "c").unwrap();
        let inputs = expand(&[dir.path().to_path_buf(), PathBuf::from("-")]).unwrap();
        let names: Vec<_> = inputs
            .iter()
            .map(|i| match i {
                Input::File(p) => p.strip_prefix(dir.path()).unwrap().display().to_string(),
                Input::Stdin => "-".to_owned(),
                Input::ZipEntry { entry, .. } => entry.clone(),
                Input::Memory { name, .. } => name.clone(),
            })
            .collect();
        assert_eq!(names, ["a.log", "b.log", "sub/c.log", "-"]);
    }

    #[test]
    fn missing_paths_and_empty_directories_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.log");
        let err = expand(&[missing]).unwrap_err().to_string();
        assert!(err.starts_with("cannot read ") && err.contains("nope.log"), "{err}");
        let err = expand(&[dir.path().to_path_buf()]).unwrap_err().to_string();
        assert!(err.contains("no files"), "{err}");
    }
}
