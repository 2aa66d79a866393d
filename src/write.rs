//! Write: put a file honk makes (a model, a report, a seccomp profile) in place
//! atomically.
//!
//! The bytes go to a temporary file in the same directory (so the final rename
//! stays on one filesystem and is atomic), which is flushed and synced before
//! being renamed over the target; the directory is then synced so the rename
//! itself survives a crash. A reader sees the old file or the new one, never a
//! mix; on error the old file is untouched and the temporary file is removed.
//!
//! When replacing a file, its permissions are kept; a new file gets the usual
//! permissions for new files (0666 minus the umask) rather than the owner-only
//! permissions temporary files are created with. This module does not encode
//! anything: callers hand it finished bytes.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// A failed atomic write: what was being done, and the operating system's error.
#[derive(Debug)]
pub struct WriteError {
    /// What failed, for messages: "create a temporary file to write", "write", "sync", "replace", ...
    pub action: &'static str,
    pub source: io::Error,
}

/// Write `bytes` to `path` atomically (see the module comment).
pub fn atomically(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    atomically_with(path, |out| out.write_all(bytes))
}

/// Like [`atomically`], with the content written by `fill` (say, copied from a
/// reader), so that it need not be in memory at once.
pub fn atomically_with(path: &Path, fill: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), WriteError> {
    let failed = |action: &'static str| move |source: io::Error| WriteError { action, source };
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".honk-").suffix(".tmp");
    #[cfg(unix)]
    let old_permissions = fs::metadata(path).ok().map(|m| m.permissions());
    #[cfg(unix)]
    if old_permissions.is_none() {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    // From here on, dropping `tmp` (on any early return) deletes it.
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(failed("create a temporary file to write"))?;
    #[cfg(unix)]
    if let Some(permissions) = old_permissions {
        // Set after creation: passing them to the builder would let the umask narrow them.
        tmp.as_file()
            .set_permissions(permissions)
            .map_err(failed("set the permissions of"))?;
    }
    {
        let mut out = io::BufWriter::new(tmp.as_file_mut());
        fill(&mut out).map_err(failed("write"))?;
        out.flush().map_err(failed("write"))?;
    }
    tmp.as_file().sync_all().map_err(failed("sync"))?;
    // On failure the error hands the temporary file back; dropping it deletes it.
    tmp.persist(path).map_err(|e| failed("replace")(e.error))?;
    sync_dir(dir);
    Ok(())
}

/// Best effort: make a rename in `dir` durable.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replaces_and_keeps_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        atomically(&path, b"one").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
            atomically(&path, b"two").unwrap();
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        }
        assert_eq!(fs::read(&path).unwrap(), b"two");
        // Nothing is left behind but the file.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        // A missing directory is an error naming the step, and writes nothing.
        let err = atomically(&dir.path().join("missing/f"), b"x").unwrap_err();
        assert_eq!(err.action, "create a temporary file to write");
    }
}
