//! Write: put a file honk makes (a model, a report, a seccomp profile) in place
//! atomically, without clobbering what the path names.
//!
//! What happens depends on what the path is:
//!
//! - **A regular file, or nothing yet**: the bytes go to a new file in the same
//!   directory (so the final step stays on one filesystem and is atomic), which
//!   is flushed and synced, then put in place by a rename (or a link, when
//!   nothing was there); the directory is then synced so that survives a crash.
//!   A reader sees the old file or the new one, never a mix; on error the old
//!   file is untouched and nothing is left behind.
//! - **A symbolic link**: it is followed (through any chain of links, to a
//!   target that may not exist yet), and the target is written as above. The
//!   link stays a link.
//! - **A device, a pipe or a socket** (`/dev/null`, `/dev/stdout`, a fifo): the
//!   bytes are written to it in place. Replacing it would turn a device node
//!   into a regular file.
//! - **A directory**: an error.
//!
//! On Linux the new file is made with `O_TMPFILE`: it has no name until it is
//! complete, so a writer killed halfway (even by SIGKILL) leaves nothing
//! behind; it gets a name with `linkat`. When replacing a file it is first
//! linked under a temporary name and renamed over the target at once, so only
//! a kill in the microseconds between the two can leave a `.honk-*.tmp` file.
//! Filesystems without `O_TMPFILE` get a named temporary file, removed on
//! error but not after a SIGKILL.
//!
//! When replacing a file, its permissions are kept; a new file gets the usual
//! permissions for new files (0666 minus the umask). This module does not
//! encode anything: callers hand it finished bytes. [`same_file`] tells
//! callers whether an output would overwrite one of their inputs.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A failed write: what was being done, and the operating system's error.
#[derive(Debug)]
pub struct WriteError {
    /// What failed, for messages: "create a temporary file to write", "write", "sync", "replace", ...
    pub action: &'static str,
    /// What the operating system said.
    pub source: io::Error,
}

/// How many symbolic links are followed before giving up (as Linux does).
const MAX_LINKS: usize = 40;

/// Write `bytes` to `path` atomically (see the module comment).
pub fn atomically(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    atomically_with(path, |out| out.write_all(bytes))
}

/// Like [`atomically`], with the content written by `fill` (say, copied from a
/// reader), so that it need not be in memory at once.
pub fn atomically_with(path: &Path, fill: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), WriteError> {
    let failed = |action: &'static str| move |source: io::Error| WriteError { action, source };
    let resolved = || resolve(path).map_err(failed("follow the symbolic link"));
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(WriteError {
            action: "replace",
            source: io::Error::new(io::ErrorKind::IsADirectory, "it is a directory"),
        }),
        // Opened by the path as given: /dev/stdout's link names no real path.
        Ok(meta) if !meta.is_file() => in_place(path, fill),
        Ok(meta) => replace(&resolved()?, Some(meta.permissions()), fill),
        Err(e) if e.kind() == io::ErrorKind::NotFound => replace(&resolved()?, None, fill),
        Err(e) => Err(failed("look at")(e)),
    }
}

/// Whether `a` and `b` name the same file: the same device and inode when
/// both exist, else the same path once symbolic links are resolved.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (fs::metadata(a), fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    match (resolve(a), resolve(b)) {
        (Ok(x), Ok(y)) => absolute(&x) == absolute(&y),
        _ => false,
    }
}

/// `path` made absolute, without touching the filesystem beyond the current directory.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Follows `path` through symbolic links to what they finally name (which
/// need not exist). A path that is not a link is returned as it is.
fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::other(format!(
        "more than {MAX_LINKS} levels of symbolic links"
    )))
}

/// Writes to a device, pipe or socket as it is: it cannot be replaced.
fn in_place(path: &Path, fill: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), WriteError> {
    let failed = |action: &'static str| move |source: io::Error| WriteError { action, source };
    let file = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(failed("open to write"))?;
    let mut out = io::BufWriter::new(file);
    fill(&mut out).map_err(failed("write"))?;
    out.flush().map_err(failed("write"))
}

/// The directory a new file beside `path` goes in.
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Writes a new regular file at `path` (which is not a link), replacing what is there.
fn replace(
    path: &Path,
    old_permissions: Option<fs::Permissions>,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), WriteError> {
    #[cfg(target_os = "linux")]
    if let Some(file) = unnamed::create(directory_of(path)) {
        return unnamed::write(file, path, old_permissions, fill);
    }
    named(path, old_permissions, fill)
}

/// Fills `file`, keeping `permissions`, and syncs it.
fn fill_and_sync(
    file: &mut fs::File,
    permissions: Option<fs::Permissions>,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), WriteError> {
    let failed = |action: &'static str| move |source: io::Error| WriteError { action, source };
    if let Some(permissions) = permissions {
        // Set after creation: passing them at creation would let the umask narrow them.
        file.set_permissions(permissions)
            .map_err(failed("set the permissions of"))?;
    }
    {
        let mut out = io::BufWriter::new(&mut *file);
        fill(&mut out).map_err(failed("write"))?;
        out.flush().map_err(failed("write"))?;
    }
    file.sync_all().map_err(failed("sync"))
}

/// The portable way: a named temporary file, renamed over the target.
fn named(
    path: &Path,
    old_permissions: Option<fs::Permissions>,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), WriteError> {
    let failed = |action: &'static str| move |source: io::Error| WriteError { action, source };
    let dir = directory_of(path);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".honk-").suffix(".tmp");
    #[cfg(unix)]
    if old_permissions.is_none() {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    // From here on, dropping `tmp` (on any early return) deletes it.
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(failed("create a temporary file to write"))?;
    fill_and_sync(tmp.as_file_mut(), old_permissions, fill)?;
    // On failure the error hands the temporary file back; dropping it deletes it.
    tmp.persist(path).map_err(|e| failed("replace")(e.error))?;
    sync_dir(dir);
    Ok(())
}

/// Linux's unnamed temporary files (`O_TMPFILE`), linked into place when complete.
#[cfg(target_os = "linux")]
mod unnamed {
    use std::fs;
    use std::io::{self, Write};
    use std::os::fd::AsRawFd;
    use std::path::{Path, PathBuf};

    use rustix::fs::{linkat, openat, AtFlags, Mode, OFlags, CWD};

    use super::{directory_of, fill_and_sync, sync_dir, WriteError};

    /// An unnamed file in `dir`, or `None` when the filesystem (or a missing
    /// `/proc`, which `linkat` goes through) does not allow one.
    pub(super) fn create(dir: &Path) -> Option<fs::File> {
        if !Path::new("/proc/self/fd").is_dir() {
            return None;
        }
        let fd = openat(
            CWD,
            dir,
            OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o666),
        )
        .ok()?;
        Some(fs::File::from(fd))
    }

    pub(super) fn write(
        mut file: fs::File,
        path: &Path,
        old_permissions: Option<fs::Permissions>,
        fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), WriteError> {
        let failed = |action: &'static str| move |source: io::Error| WriteError { action, source };
        fill_and_sync(&mut file, old_permissions, fill)?;
        let proc_path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        let link = |to: &Path| linkat(CWD, &proc_path, CWD, to, AtFlags::SYMLINK_FOLLOW).map_err(io::Error::from);
        let dir = directory_of(path);
        match link(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                // Something is there to replace: link beside it, then rename over it.
                let tmp = link_beside(dir, link).map_err(failed("create a temporary file to write"))?;
                if let Err(e) = fs::rename(&tmp, path) {
                    let _ = fs::remove_file(&tmp);
                    return Err(failed("replace")(e));
                }
            }
            Err(e) => return Err(failed("create")(e)),
        }
        sync_dir(dir);
        Ok(())
    }

    /// Links the file under a fresh temporary name in `dir`; returns the name.
    fn link_beside(dir: &Path, link: impl Fn(&Path) -> io::Result<()>) -> io::Result<PathBuf> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for attempt in 0u32..100 {
            let name = dir.join(format!(".honk-{}-{stamp:x}-{attempt}.tmp", std::process::id()));
            match link(&name) {
                Ok(()) => return Ok(name),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free temporary name after 100 attempts",
        ))
    }
}

/// The lock file of `path` (see [`Lock`]): beside what it names, with
/// `.lock` added.
pub fn lock_path(path: &Path) -> PathBuf {
    let target = resolve(path).unwrap_or_else(|_| path.to_path_buf());
    let mut name = target.into_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

/// An advisory lock (`flock`) on a file honk updates, held until dropped, so
/// that two honks adding to one model take turns instead of one overwriting
/// the other's work.
///
/// The lock is on a file beside the locked one, named like it with `.lock`
/// added (beside the target, when the path is a symbolic link); it holds the
/// process id of its holder, for the message of whoever waits. The holder
/// removes it when done; one left by a killed holder is harmless (the
/// operating system released its lock) and is taken over by the next.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    file: fs::File,
}

impl Lock {
    /// Takes the lock on `path`, waiting for it when another process holds
    /// it; then `waiting` is called first with the lock file's name and what
    /// it says of its holder (its process id), so the user knows what honk
    /// is waiting for.
    #[cfg(unix)]
    pub fn acquire(path: &Path, mut waiting: impl FnMut(&Path, Option<u32>)) -> Result<Lock, WriteError> {
        use std::io::{Read, Seek};
        use std::os::unix::fs::MetadataExt;

        use rustix::fs::{flock, FlockOperation};

        let failed = |action: &'static str| move |source: io::Error| WriteError { action, source };
        let lock_path = lock_path(path);
        let mut told = false;
        loop {
            let mut file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&lock_path)
                .map_err(failed("create the lock file"))?;
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => {}
                Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                    if !told {
                        let mut text = String::new();
                        let _ = (&file).take(32).read_to_string(&mut text);
                        waiting(&lock_path, text.trim().parse().ok());
                        told = true;
                    }
                    flock(&file, FlockOperation::LockExclusive).map_err(|e| failed("lock")(io::Error::from(e)))?;
                }
                Err(e) => return Err(failed("lock")(io::Error::from(e))),
            }
            // The holder before us may have removed the file we locked (and
            // someone else made a new one): only the file at the path counts.
            let ours = file.metadata().map_err(failed("lock"))?;
            let current = fs::metadata(&lock_path);
            if !current.is_ok_and(|m| m.dev() == ours.dev() && m.ino() == ours.ino()) {
                continue;
            }
            file.set_len(0).map_err(failed("write the lock file"))?;
            file.rewind().map_err(failed("write the lock file"))?;
            writeln!(file, "{}", std::process::id()).map_err(failed("write the lock file"))?;
            return Ok(Lock { path: lock_path, file });
        }
    }

    /// Without `flock`, no lock: the last writer wins.
    #[cfg(not(unix))]
    pub fn acquire(path: &Path, _waiting: impl FnMut(&Path, Option<u32>)) -> Result<Lock, WriteError> {
        let file = fs::File::open(path).map_err(|source| WriteError { action: "lock", source })?;
        Ok(Lock {
            path: PathBuf::new(),
            file,
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still locked, so that nobody locks it in between and
        // then loses it; whoever waits on the removed file notices and
        // starts again. The lock goes with the file descriptor.
        #[cfg(unix)]
        let _ = fs::remove_file(&self.path);
        let _ = &self.file;
    }
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

/// Which file a path names and its state: a model replaced or changed since
/// it was read has another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileIdentity(Option<(u64, u64, u64, Option<std::time::SystemTime>)>);

impl FileIdentity {
    /// The identity of the file at `path` now (`None` inside if there is none).
    pub fn of(path: &Path) -> FileIdentity {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileIdentity(
                std::fs::metadata(path)
                    .ok()
                    .map(|m| (m.dev(), m.ino(), m.len(), m.modified().ok())),
            )
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            FileIdentity(None)
        }
    }
}

#[cfg(test)]
#[allow(unsafe_code)] // mkfifo, to test writing to a FIFO.
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

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
        // A missing directory is an error, and writes nothing.
        assert!(atomically(&dir.path().join("missing/f"), b"x").is_err());
        assert_eq!(names(dir.path()), ["f"]);
    }

    #[test]
    fn the_portable_way_also_replaces_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        named(&path, None, |out| out.write_all(b"one")).unwrap();
        named(&path, None, |out| out.write_all(b"two")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let err = named(&path, None, |_| Err(io::Error::other("no"))).unwrap_err();
        assert_eq!(err.action, "write");
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["f"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn nothing_has_a_name_until_the_file_is_complete() {
        // So a writer killed while writing (SIGKILL included) leaves nothing.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model");
        for before in [vec![], vec!["model".to_string()]] {
            atomically_with(&path, |out| {
                out.write_all(&[7; 100_000])?;
                out.flush()?;
                assert_eq!(names(dir.path()), before, "a name appeared while writing");
                Ok(())
            })
            .unwrap();
            assert_eq!(names(dir.path()), ["model"]);
            assert_eq!(fs::read(&path).unwrap().len(), 100_000);
        }
        // A failed fill leaves the old file as it was, and nothing else.
        let err = atomically_with(&path, |out| {
            out.write_all(b"partial")?;
            Err(io::Error::other("stop"))
        })
        .unwrap_err();
        assert_eq!(err.action, "write");
        assert_eq!(fs::read(&path).unwrap().len(), 100_000);
        assert_eq!(names(dir.path()), ["model"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_followed_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("real")).unwrap();
        let target = dir.path().join("real/model");
        fs::write(&target, b"old").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("real/model", &link).unwrap();
        let chain = dir.path().join("chain");
        std::os::unix::fs::symlink("link", &chain).unwrap();
        atomically(&chain, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert!(fs::symlink_metadata(&chain).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(names(&dir.path().join("real")), ["model"]);
        // A dangling link makes its target.
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink("real/new", &dangling).unwrap();
        atomically(&dangling, b"made").unwrap();
        assert!(fs::symlink_metadata(&dangling).unwrap().file_type().is_symlink());
        assert_eq!(fs::read(dir.path().join("real/new")).unwrap(), b"made");
        // A loop is an error, not a hang.
        let a = dir.path().join("a");
        std::os::unix::fs::symlink("b", &a).unwrap();
        std::os::unix::fs::symlink("a", dir.path().join("b")).unwrap();
        assert!(atomically(&a, b"x").is_err());
        assert!(fs::symlink_metadata(&a).unwrap().file_type().is_symlink());
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_pipes_are_written_in_place() {
        use std::os::unix::fs::FileTypeExt;
        // /dev/null stays a device (as root, a rename would have replaced it).
        atomically(Path::new("/dev/null"), b"gone").unwrap();
        assert!(fs::metadata("/dev/null").unwrap().file_type().is_char_device());

        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(&fifo).unwrap())
        };
        atomically(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(names(dir.path()), ["fifo"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_says_who_holds_it_and_is_removed_when_done() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("m.honk");
        let first = Lock::acquire(&model, |_, _| panic!("nobody holds it")).unwrap();
        assert_eq!(first.path(), dir.path().join("m.honk.lock"));
        assert_eq!(
            fs::read_to_string(first.path()).unwrap().trim(),
            std::process::id().to_string()
        );
        let (tx, rx) = std::sync::mpsc::channel();
        let second = {
            let model = model.clone();
            std::thread::spawn(move || {
                let lock = Lock::acquire(&model, |path, pid| tx.send((path.to_path_buf(), pid)).unwrap()).unwrap();
                drop(lock);
            })
        };
        // The second one says it waits, and for whom; it gets the lock once the first lets go.
        let (path, pid) = rx.recv().unwrap();
        assert_eq!(path, dir.path().join("m.honk.lock"));
        assert_eq!(pid, Some(std::process::id()));
        drop(first);
        second.join().unwrap();
        assert_eq!(names(dir.path()), Vec::<String>::new());
    }

    #[test]
    fn a_directory_is_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("keep"), b"x").unwrap();
        let err = atomically(dir.path(), b"x").unwrap_err();
        assert_eq!(err.action, "replace");
        assert_eq!(names(dir.path()), ["keep"]);
    }

    #[cfg(unix)]
    #[test]
    fn same_file_sees_through_links_and_spellings() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        fs::write(&log, b"x").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("log", &link).unwrap();
        let hard = dir.path().join("hard");
        fs::hard_link(&log, &hard).unwrap();
        assert!(same_file(&log, &link));
        assert!(same_file(&log, &hard));
        assert!(same_file(&log, &dir.path().join(".").join("log")));
        assert!(!same_file(&log, &dir.path().join("other")));
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink("new", &dangling).unwrap();
        assert!(same_file(&dangling, &dir.path().join("new")));
    }
}
