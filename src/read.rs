//! Read: find the inputs and hand out their lines.
//!
//! An input is a file, every file under a directory (recursively, in name order),
//! or standard input (`-`). Gzip and zstd streams are decompressed transparently,
//! recognised by their magic bytes rather than by file name. Lines are bytes:
//! invalid UTF-8 is decoded lossily, and a line longer than [`MAX_LINE_BYTES`] is
//! cut there (the rest of it is skipped, not buffered), so one hostile line cannot
//! take unbounded memory.
//!
//! This module knows nothing of formats: it does not split records or look inside
//! lines.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Longest line kept, in bytes; longer lines are truncated.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

const BUFFER_BYTES: usize = 256 * 1024;

/// The name standard input goes by in output.
pub const STDIN_NAME: &str = "<stdin>";

/// Something went wrong finding or opening an input.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The path could not be opened or listed.
    #[error("cannot read {path}")]
    Open {
        path: String,
        #[source]
        source: io::Error,
    },
    /// A directory held no files at all.
    #[error("{path} is a directory with no files in it")]
    EmptyDirectory { path: String },
}

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Standard input.
    Stdin,
    /// A file on disk.
    File(PathBuf),
}

impl Input {
    /// How the input is named in output: the path as given, or `<stdin>`.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => STDIN_NAME.to_owned(),
            Input::File(path) => path.display().to_string(),
        }
    }

    /// Size in bytes on disk, when known (for progress bars).
    pub fn size_on_disk(&self) -> Option<u64> {
        match self {
            Input::Stdin => None,
            Input::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
        }
    }

    /// Open the input, decompressing gzip or zstd if its first bytes say so.
    pub fn open(&self) -> Result<Box<dyn BufRead + Send>, ReadError> {
        let raw: Box<dyn Read + Send> = match self {
            Input::Stdin => Box::new(io::stdin()),
            Input::File(path) => Box::new(File::open(path).map_err(|e| self.error(e))?),
        };
        self.decode(raw)
    }

    /// Wrap an already opened reader of this input (e.g. one that counts progress).
    pub fn decode(&self, raw: Box<dyn Read + Send>) -> Result<Box<dyn BufRead + Send>, ReadError> {
        let mut buffered = BufReader::with_capacity(BUFFER_BYTES, raw);
        let magic = buffered.fill_buf().map_err(|e| self.error(e))?;
        Ok(if magic.starts_with(&[0x1f, 0x8b]) {
            Box::new(BufReader::with_capacity(
                BUFFER_BYTES,
                flate2::bufread::MultiGzDecoder::new(buffered),
            ))
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            let decoder = zstd::stream::read::Decoder::with_buffer(buffered).map_err(|e| self.error(e))?;
            Box::new(BufReader::with_capacity(BUFFER_BYTES, decoder))
        } else {
            Box::new(buffered)
        })
    }

    /// An error reading this input, named for the user.
    pub fn error(&self, source: io::Error) -> ReadError {
        ReadError::Open {
            path: self.name(),
            source,
        }
    }
}

/// Turn command-line paths into inputs: `-` is stdin, a directory is every file
/// under it in name order (hidden files included), anything else a file.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<Input>, ReadError> {
    let mut inputs = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|source| ReadError::Open {
            path: path.display().to_string(),
            source,
        })?;
        if !meta.is_dir() {
            inputs.push(Input::File(path.clone()));
            continue;
        }
        let before = inputs.len();
        for entry in walkdir::WalkDir::new(path).follow_links(true).sort_by_file_name() {
            let entry = entry.map_err(|e| ReadError::Open {
                path: e.path().unwrap_or(path).display().to_string(),
                source: e.into(),
            })?;
            if entry.file_type().is_file() {
                inputs.push(Input::File(entry.into_path()));
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

    /// Lines of `reader`, each cut at `max` bytes.
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
            let room = self.max.saturating_sub(self.bytes.len());
            if chunk.len() > room {
                cut = true;
            }
            self.bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
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
