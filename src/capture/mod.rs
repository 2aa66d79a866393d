//! Live system calls with eBPF: the read stage of `honk watch --ebpf` and
//! `honk trace --ebpf`.
//!
//! A BPF program (`ebpf/honk.bpf.c`, compiled into the committed
//! `ebpf/honk.bpf.o` by `ebpf/build.sh` and embedded in honk) sits on the
//! kernel's system-call tracepoints and reports every call of the processes
//! watched: a command honk starts and all its descendants (from their fork,
//! so no call is missed), a running process tree (`--pid`), a cgroup (the
//! processes in it and in the cgroups below it; honk must see the cgroup
//! hierarchy from its root, outside a cgroup namespace), or every process of a name
//! (`--comm`). For each call: time, process, thread, parent, name, the
//! system call with its arguments and its result, in one record written
//! when the call ends (strings, socket addresses and the small structs a
//! call reads or writes back are read from the process's memory then;
//! `execve`'s argv as it starts).
//!
//! [`render`] turns the records into the lines strace prints for the same
//! calls, so a capture is read, learned, scored and diffed as an strace
//! trace is, with the same keys (as far as `render` says). Records the
//! kernel could not hand over because the ring buffer was full are counted
//! ([`Capture::lost`]): never silently.
//!
//! [`bpf`] loads the program (aya, behind the `ebpf` feature); [`record`]
//! reads its records. This module starts the command and runs the loop; it
//! does not score (see [`crate::commands`]).
//!
//! Limits: x86_64 only (the call numbers and register layouts are its);
//! Linux 5.8 or later (the ring buffer); root, or CAP_BPF with CAP_PERFMON.
//! A call that never ends (a process killed in it, `exit_group`) is written
//! when it starts (`exit`, `execve`) or not at all.

// Built without eBPF, the capture refuses to start: what would run it is unused.
#![cfg_attr(not(feature = "ebpf"), allow(dead_code, unused_imports))]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

#[cfg(feature = "ebpf")]
pub mod bpf;
pub mod btf;
pub mod record;
pub mod render;

pub use render::Line;

/// How long the reader waits for records before it looks by itself: the
/// kernel side wakes it only once 256 KiB are waiting, so that a busy
/// process does not pay for a wake-up per call; this bounds the delay of a
/// record when few come.
pub const READ_EVERY: Duration = Duration::from_millis(20);

/// Default size of the ring buffer, in bytes.
pub const RING_BYTES: u32 = 16 << 20;

/// What to say instead when eBPF cannot be used.
pub const USE_STRACE: &str = "use `honk trace` (strace) instead";

/// Whom to watch.
#[derive(Clone, Debug)]
pub enum Target {
    /// Start this command and watch it and all its descendants.
    Command(Vec<OsString>),
    /// Watch this running process and its descendants (present and future).
    Pid(u32),
    /// Watch the processes in this cgroup (v2) directory.
    Cgroup(PathBuf),
    /// Watch every process with this name.
    Comm(String),
}

/// How to capture.
#[derive(Clone, Debug)]
pub struct Options {
    /// Whom to watch.
    pub target: Target,
    /// Ring buffer size in bytes: a power of two, at least a page.
    pub ring_bytes: u32,
    /// The command's standard output goes to honk's standard error (when
    /// honk's standard output is its report).
    pub stdout_to_stderr: bool,
}

/// Why a capture cannot start or go on; each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// honk was built without the `ebpf` feature.
    #[error("this honk was built without eBPF (cargo feature `ebpf`); {USE_STRACE}")]
    NotBuilt,
    /// Not x86_64.
    #[error("eBPF capture knows x86_64's system calls only; {USE_STRACE}")]
    Arch,
    /// Not root, no CAP_BPF.
    #[error("eBPF needs root or CAP_BPF+CAP_PERFMON; {USE_STRACE}")]
    NotPermitted,
    /// The kernel lacks something (ring buffers came in Linux 5.8).
    #[error("this kernel cannot run honk's BPF program (it needs Linux 5.8 or later, for BPF ring buffers): {0}; {USE_STRACE}")]
    OldKernel(String),
    /// Anything else the kernel refused.
    #[error("eBPF: {0}; {USE_STRACE}")]
    Kernel(String),
    /// The process to attach to does not exist.
    #[error("no process {0} (it exited?); give the pid of a running process")]
    NoProcess(u32),
    /// The cgroup does not exist.
    #[error("{0} is not a cgroup v2 directory; give one in the cgroup2 file system (/sys/fs/cgroup on most systems)")]
    NoCgroup(String),
    /// An empty or too long name.
    #[error("--comm takes a process name of 1 to 15 bytes (what /proc/PID/comm says), not {0:?}")]
    BadComm(String),
    /// The ring buffer size.
    #[error("the ring buffer size must be a power of two of at least 4096 bytes, not {0}")]
    RingSize(u32),
    /// The command could not start.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command.
        command: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A running capture.
pub struct Capture {
    #[cfg(feature = "ebpf")]
    kernel: bpf::Kernel,
    renderer: render::Renderer,
    child: Option<Child>,
    status: Option<ExitStatus>,
    /// Whether the watched set can end (a command, a process tree).
    ends: bool,
    records: u64,
    unreadable: u64,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture").field("records", &self.records).finish()
    }
}

/// The offset from `CLOCK_MONOTONIC` (the BPF program's clock) to wall time, in nanoseconds.
fn wall_offset() -> i128 {
    let ns = |t: rustix::time::Timespec| i128::from(t.tv_sec) * 1_000_000_000 + i128::from(t.tv_nsec);
    let real = ns(rustix::time::clock_gettime(rustix::time::ClockId::Realtime));
    let mono = ns(rustix::time::clock_gettime(rustix::time::ClockId::Monotonic));
    real - mono
}

/// `pid` and its descendants, each with its parent, from `/proc`.
fn process_tree(pid: u32) -> Vec<(u32, u32)> {
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(p) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if let Some(pp) = parent_pid(p) {
                parent_of.push((p, pp));
            }
        }
    }
    let mut tree = vec![(pid, parent_pid(pid).unwrap_or(0))];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i].0;
        for &(c, pp) in &parent_of {
            if pp == p && !tree.iter().any(|&(t, _)| t == c) {
                tree.push((c, pp));
            }
        }
        i += 1;
    }
    tree
}

/// How deep cgroup `dir` is below the root of its cgroup v2 hierarchy (the
/// root is 0): its parents up to the last one on the same file system.
#[cfg(feature = "ebpf")]
fn cgroup_level(dir: &Path) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let mut at = std::fs::canonicalize(dir).ok()?;
    let device = std::fs::metadata(&at).ok()?.dev();
    let mut level = 0;
    while let Some(parent) = at.parent() {
        if std::fs::metadata(parent).is_ok_and(|m| m.dev() == device) {
            level += 1;
            at = parent.to_path_buf();
        } else {
            break;
        }
    }
    Some(level)
}

/// A process's parent, from `/proc/PID/stat` (its name may hold spaces and parentheses).
fn parent_pid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

impl Capture {
    /// Loads the BPF program, starts watching, and (for a command) starts it.
    pub fn start(options: &Options) -> Result<Capture, CaptureError> {
        if !cfg!(target_arch = "x86_64") {
            return Err(CaptureError::Arch);
        }
        let ring = options.ring_bytes;
        if ring < 4096 || !ring.is_power_of_two() {
            return Err(CaptureError::RingSize(ring));
        }
        // What can be checked before loading anything.
        match &options.target {
            Target::Pid(pid) => {
                if !Path::new(&format!("/proc/{pid}")).exists() || *pid == 0 {
                    return Err(CaptureError::NoProcess(*pid));
                }
            }
            Target::Cgroup(dir) => {
                // A cgroup v1 directory has cgroup.procs too, but the kernel
                // tells the v2 cgroup of a task only.
                const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;
                // f_type's width differs between architectures.
                #[allow(clippy::unnecessary_cast)]
                let v2 = rustix::fs::statfs(dir).is_ok_and(|s| s.f_type as i64 == CGROUP2_SUPER_MAGIC);
                if !v2 || !dir.join("cgroup.procs").is_file() {
                    return Err(CaptureError::NoCgroup(crate::read::shown(dir).to_string()));
                }
            }
            Target::Comm(name) => {
                if name.is_empty() || name.len() > 15 || name.contains('\0') {
                    return Err(CaptureError::BadComm(name.clone()));
                }
            }
            Target::Command(_) => {}
        }
        Self::start_built(options)
    }

    #[cfg(not(feature = "ebpf"))]
    fn start_built(_options: &Options) -> Result<Capture, CaptureError> {
        Err(CaptureError::NotBuilt)
    }

    #[cfg(feature = "ebpf")]
    fn start_built(options: &Options) -> Result<Capture, CaptureError> {
        use std::os::unix::fs::MetadataExt;
        let mut renderer = render::Renderer::new(wall_offset(), true);
        let me = rustix::thread::gettid().as_raw_nonzero().get() as u32;
        let tree;
        let cgroup;
        let who = match &options.target {
            Target::Command(_) => bpf::Who::Tree {
                pids: &[],
                spawner: Some(me),
            },
            Target::Pid(pid) => {
                tree = process_tree(*pid);
                bpf::Who::Tree {
                    pids: &tree,
                    spawner: None,
                }
            }
            Target::Cgroup(dir) => {
                let no_cgroup = || CaptureError::NoCgroup(crate::read::shown(dir).to_string());
                cgroup = std::fs::metadata(dir).map_err(|_| no_cgroup())?.ino();
                bpf::Who::Cgroup {
                    id: cgroup,
                    level: cgroup_level(dir).ok_or_else(no_cgroup)?,
                }
            }
            Target::Comm(name) => bpf::Who::Comm(name.as_bytes()),
        };
        let mut kernel = bpf::Kernel::start(&who, options.ring_bytes)?;
        let mut child = None;
        if let Target::Command(command) = &options.target {
            let spawned = spawn(command, options.stdout_to_stderr);
            kernel.spawned(me);
            let c = spawned?;
            renderer.skip_until_exec(c.id());
            if let Ok(dir) = std::env::current_dir() {
                renderer.set_cwd(c.id(), dir.to_string_lossy().into_owned());
            }
            // Where its standard streams go, while it is surely there: its
            // children inherit them, and most end before their records are read.
            renderer.look_up_standard_streams(c.id());
            child = Some(c);
        }
        if let Target::Pid(pid) = options.target {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                return Err(CaptureError::NoProcess(pid));
            }
        }
        Ok(Capture {
            kernel,
            renderer,
            child,
            status: None,
            ends: matches!(options.target, Target::Command(_) | Target::Pid(_)),
            records: 0,
            unreadable: 0,
        })
    }

    /// The command's process id, when honk started one.
    pub fn child(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Waits up to `wait` for records and adds the lines they make to `out`.
    #[cfg(feature = "ebpf")]
    pub fn read(&mut self, wait: Duration, out: &mut Vec<Line>) {
        let renderer = &mut self.renderer;
        let records = &mut self.records;
        let unreadable = &mut self.unreadable;
        self.kernel.read(wait, &mut |bytes| {
            *records += 1;
            match record::parse(bytes) {
                Some(event) => renderer.push(event, out),
                None => *unreadable += 1,
            }
        });
    }

    /// Waits up to `wait` for records (never any without eBPF).
    #[cfg(not(feature = "ebpf"))]
    pub fn read(&mut self, wait: Duration, _out: &mut Vec<Line>) {
        std::thread::sleep(wait);
    }

    /// Whether everything watched has ended: the command and all its
    /// descendants, or the process tree. A cgroup or a name never ends.
    pub fn ended(&mut self) -> bool {
        if !self.ends {
            return false;
        }
        if let Some(child) = &mut self.child {
            if self.status.is_none() {
                match child.try_wait() {
                    Ok(Some(status)) => self.status = Some(status),
                    Ok(None) => return false,
                    Err(_) => {}
                }
            }
        }
        #[cfg(feature = "ebpf")]
        {
            !self.kernel.anyone_watched()
        }
        #[cfg(not(feature = "ebpf"))]
        {
            true
        }
    }

    /// The command's exit status, once it has ended.
    pub fn status(&self) -> Option<ExitStatus> {
        self.status
    }

    /// Records the kernel dropped because the ring buffer was full, plus
    /// records that could not be read.
    pub fn lost(&self) -> u64 {
        #[cfg(feature = "ebpf")]
        let lost = self.kernel.lost();
        #[cfg(not(feature = "ebpf"))]
        let lost = 0;
        lost + self.unreadable
    }

    /// Records received.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Stops the command (when honk started it): SIGTERM, then waits for it.
    pub fn stop_command(&mut self) {
        if let Some(child) = &mut self.child {
            if self.status.is_none() {
                let pid = rustix::process::Pid::from_raw(child.id() as i32);
                if let Some(pid) = pid {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
                }
                self.status = child.wait().ok();
            }
        }
    }
}

/// Starts the command; its standard output goes to standard error when asked.
#[cfg(feature = "ebpf")]
fn spawn(command: &[OsString], stdout_to_stderr: bool) -> Result<Child, CaptureError> {
    use std::os::unix::process::CommandExt;
    let shown = command
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let Some((program, args)) = command.split_first() else {
        return Err(CaptureError::Spawn {
            command: shown,
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "no command given"),
        });
    };
    // The program is looked up in PATH here, as strace does, so that the
    // trace starts with one execve of the program found (not one per PATH
    // entry tried) and reads as strace's.
    let mut cmd = Command::new(search_path(program));
    cmd.arg0(program);
    cmd.args(args);
    if stdout_to_stderr {
        let stderr = std::io::stderr().as_fd_owned().map_err(|source| CaptureError::Spawn {
            command: shown.clone(),
            source,
        })?;
        cmd.stdout(Stdio::from(stderr));
    }
    cmd.spawn()
        .map_err(|source| CaptureError::Spawn { command: shown, source })
}

/// `program` as found in `PATH` (an executable file), or as given.
#[cfg(feature = "ebpf")]
fn search_path(program: &std::ffi::OsStr) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    if program.as_bytes().contains(&b'/') || program.is_empty() {
        return PathBuf::from(program);
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(program);
        if std::fs::metadata(&candidate).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0) {
            return candidate;
        }
    }
    PathBuf::from(program)
}

/// A duplicate of a standard stream's descriptor.
trait AsFdOwned {
    fn as_fd_owned(&self) -> std::io::Result<std::os::fd::OwnedFd>;
}

impl AsFdOwned for std::io::Stderr {
    fn as_fd_owned(&self) -> std::io::Result<std::os::fd::OwnedFd> {
        use std::os::fd::AsFd;
        self.as_fd().try_clone_to_owned()
    }
}

/// Runs `options`' command under capture, writing its strace lines to `out`,
/// until it and all its descendants end; returns its exit status and the
/// records lost.
pub fn record_command(
    options: &Options,
    out: &mut dyn std::io::Write,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<Recorded, CaptureError> {
    let mut capture = Capture::start(options)?;
    let mut lines = Vec::new();
    let write_error = |e: std::io::Error| CaptureError::Kernel(format!("writing the capture: {e}"));
    loop {
        capture.read(READ_EVERY, &mut lines);
        for line in lines.drain(..) {
            writeln!(out, "{}", line.text).map_err(write_error)?;
        }
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            capture.stop_command();
        }
        if capture.ended() {
            // What the ring buffer still holds.
            capture.read(Duration::ZERO, &mut lines);
            for line in lines.drain(..) {
                writeln!(out, "{}", line.text).map_err(write_error)?;
            }
            break;
        }
    }
    Ok(Recorded {
        status: capture.status(),
        lost: capture.lost(),
        records: capture.records(),
    })
}

/// What [`record_command`] saw.
#[derive(Clone, Copy, Debug)]
pub struct Recorded {
    /// The command's exit status.
    pub status: Option<ExitStatus>,
    /// Records lost.
    pub lost: u64,
    /// Records received.
    pub records: u64,
}
