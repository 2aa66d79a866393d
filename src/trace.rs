//! `honk trace`: run a command under strace, or in gVisor, and keep the trace.
//!
//! The trace is written with the options honk reads best: `-f` (follow every
//! child process and thread), `-yy` (show the file, socket or pipe behind each
//! file descriptor, so a `read` says what it reads), `-s 256` (enough of each
//! string for paths and arguments), `-ttt` (timestamps, for reports) and `-q`
//! (no attach/detach chatter; process exits are kept). Use the same mode for a
//! baseline and for the runs scored against it: a trace made without `-yy`
//! says less about each call, and would look different.
//!
//! **Where the trace goes.** The traced command must not be able to change
//! what honk reads. strace writes into a file that has no name (an unlinked
//! temporary file honk holds open; strace opens it through `/proc/PID/fd/N`
//! of honk, and its own descriptor is close-on-exec, so the command does not
//! inherit it); honk copies it to `-o FILE` (or scores it) only after the
//! command and all its processes have ended. So no path the command can
//! write, overwrite, rename or truncate is the trace, whatever `-o` says.
//! With gVisor, gVisor's log goes to a directory of honk's own on the host,
//! which the sandbox only sees through its throw-away overlay.
//!
//! Isolation with strace: none. strace runs the command as you, with your
//! files, network and privileges; it only watches. Such a command can still
//! reach honk's and strace's descriptors through `/proc` (it could as well
//! kill honk or rewrite the model): only the sandboxes keep the trace out of
//! a hostile command's reach.
//!
//! With `--sandbox` (bubblewrap, `bwrap`): strace runs *outside* the sandbox
//! and traces bubblewrap, which starts the command in new user, pid, mount,
//! network, IPC and UTS namespaces; bubblewrap's own calls are cut from the
//! trace, which starts at the command's `execve`. The host's file system is
//! mounted read-only, with a fresh tmpfs on `/tmp` for scratch, a minimal
//! `/dev` and a new `/proc` (in which neither honk nor strace exist); the
//! current directory stays the current directory (read-only; bound at its path
//! when it is under `/tmp`, as is a command under `/tmp`); there is no network
//! (not even the host's loopback) unless asked. The command can still read
//! every host file its user can read, and it runs on the host's kernel: a
//! kernel exploit is out of scope.
//!
//! With gVisor (`runsc do`, as root): the command runs on gVisor's own kernel
//! in user space, with no network unless asked (`--network=none`), and what it
//! writes to the file system goes to an overlay that is thrown away (tested).
//! It can still *read* the host's files, as the user running honk (root).
//! gVisor's `--strace` log of the sandbox's system calls is the trace. The
//! command's standard output and error reach the caller through pipes honk
//! copies (runsc would otherwise write to a file at offsets of its own and
//! leave the descriptors non-blocking); standard input's flags are restored
//! afterwards. Debian's runsc 2022-12-19 rejects `statx` with
//! `AT_NO_AUTOMOUNT` (EINVAL), which coreutils' `ls` and `stat` use: they
//! fail in it (`ls: cannot access '/': Invalid argument`), and honk says so
//! by passing their exit status on.
//!
//! **Limits** ([`Limits`]): processes, memory and time. Processes and memory
//! are enforced by a cgroup of the run's own (v2 or v1, created under honk's
//! and removed afterwards) when one can be made (root, or a delegated cgroup);
//! otherwise memory by `RLIMIT_AS` (not with gVisor, whose runtime needs a
//! large address space) and processes by `RLIMIT_NPROC` (which the kernel
//! does not enforce for root). A limit that cannot be enforced is reported as
//! such. On time-out honk kills the run's cgroup; without one, the run's
//! process group, which is then its own (so such a run cannot read the
//! terminal, and a process that leaves the group escapes the kill).
//!
//! While a run goes on honk ignores SIGINT and SIGQUIT (the run gets the
//! dispositions honk had), so that a Ctrl-C ends the run and honk still keeps
//! the trace and removes the cgroup.
//!
//! Each of these claims has a test below or in `tests/trace.rs`.
//!
//! This module starts processes; it does not parse or score their traces.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, BufRead, Seek, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// strace's options for a trace honk reads best (see the module comment).
pub const STRACE_OPTIONS: &[&str] = &["-f", "-q", "-yy", "-ttt", "-s", "256"];

/// Why a trace could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// `strace` is not in `PATH`.
    #[error("strace is not installed; install it with `apt-get install strace` (or your system's package manager)")]
    NoStrace,
    /// `runsc` is not in `PATH` (for [`Isolation::Gvisor`]).
    #[error("runsc (gVisor) is not installed; install it with `apt-get install runsc`")]
    NoRunsc,
    /// `bwrap` is not in `PATH` (for [`Isolation::Sandbox`]).
    #[error("bubblewrap is not installed; install it with `apt-get install bubblewrap`")]
    NoBwrap,
    /// The command line is empty.
    #[error("no command to trace")]
    Empty,
    /// The command, as given, is neither an existing path nor an executable file in `PATH`.
    #[error("cannot run `{0}`: no such command (not a file, nor found in PATH)")]
    NoCommand(String),
    /// The command, as given, is a path to something that is not an executable file.
    #[error("cannot run `{0}`: it is not an executable file")]
    NotExecutable(String),
    /// Starting or waiting for a program failed: what it was (`"strace"`, `"runsc"`, ...), and why.
    #[error("cannot run {0}")]
    Spawn(&'static str, #[source] io::Error),
    /// The temporary file (or directory) that holds the trace while the run goes on could not be made.
    #[error("cannot hold the trace in a temporary file")]
    Scratch(#[source] io::Error),
    /// The run ended without the command ever starting (its `execve` never succeeded); nothing is
    /// written.
    #[error("no trace of `{command}` running ({status}): {why}")]
    NotStarted {
        /// The command line, its arguments joined by spaces.
        command: String,
        /// The exit status strace returned.
        status: ExitStatus,
        /// What the trace says went wrong, or a guess when it says nothing.
        why: String,
    },
    /// gVisor wrote no strace log, so there is no trace to keep.
    #[error(
        "runsc left no strace log for `{command}` (exit status {status}; its message, above, says \
         why; `runsc do` needs root)"
    )]
    NoGvisorLog {
        /// The command line, its arguments joined by spaces.
        command: String,
        /// How `runsc do` exited.
        status: ExitStatus,
    },
    /// The trace could not be written to its destination.
    #[error("cannot keep the trace in {path}")]
    Write {
        /// Where the trace was to go, as given.
        path: String,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The trace could not be read back from its temporary file (or gVisor's log).
    #[error("cannot read the trace")]
    Read(#[source] io::Error),
}

/// How the traced command is isolated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Isolation {
    /// None: strace only watches.
    #[default]
    None,
    /// bubblewrap's namespaces, a read-only host, scratch `/tmp`; the host's
    /// network only if `network`.
    Sandbox {
        /// Share the host's network; else the sandbox gets a network namespace of its own
        /// (`--unshare-net`: loopback only).
        network: bool,
    },
    /// gVisor (`runsc do`); the host's network only if `network`.
    Gvisor {
        /// Share the host's network (`--network=host`); else `--network=none`.
        network: bool,
    },
}

/// Limits on a traced run; `None` is no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Processes and threads at once.
    pub procs: Option<u64>,
    /// Memory, in bytes.
    pub memory: Option<u64>,
    /// Wall-clock time, after which the run is killed.
    pub timeout: Option<Duration>,
}

impl Limits {
    /// The defaults in a sandbox (`--sandbox`, `--gvisor`): 1,024 processes,
    /// 4 GiB of memory, an hour.
    pub const SANDBOX: Limits = Limits {
        procs: Some(1024),
        memory: Some(4 << 30),
        timeout: Some(Duration::from_secs(3600)),
    };
}

/// What to run, and how.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// The command and its arguments.
    pub command: &'a [OsString],
    /// A launcher that becomes the command (honk's seccomp launcher), run
    /// before it: its calls are cut from the trace, which starts at the
    /// command's own `execve`. Empty for none.
    pub launcher: &'a [OsString],
    /// How the command is isolated from the host.
    pub isolation: Isolation,
    /// In the sandbox, host files the command needs to read (a seccomp profile,
    /// say) that would be hidden by the scratch `/tmp`; bound read-only at their
    /// paths. Without a sandbox they are always visible.
    pub visible: &'a [&'a Path],
    /// Send the command's standard output to standard error, so that honk's own
    /// output (scores) is all that is on standard output.
    pub stdout_to_stderr: bool,
    /// Limits on the run; [`Limits::default`] for none.
    pub limits: Limits,
}

/// How a traced run ended.
#[derive(Debug)]
pub struct Traced {
    /// The command's exit status (strace and runsc pass it through).
    pub status: ExitStatus,
    /// Whether honk killed it at its time limit.
    pub timed_out: bool,
    /// The limits it ran into ("the process limit", "the memory limit").
    pub hit: Vec<&'static str>,
    /// Limits asked for that could not be enforced here, and why.
    pub unenforced: Vec<String>,
}

impl Traced {
    /// Whether the run did not end as a normal run does: a failing exit status,
    /// killed at its time limit, or stopped by a limit.
    pub fn failed(&self) -> bool {
        !self.status.success() || self.timed_out || !self.hit.is_empty()
    }

    /// The status as a shell reports it: the exit code, or 128 + the signal.
    pub fn exit_code(&self) -> u8 {
        exit_code(self.status)
    }

    /// What went wrong, for messages ("exit status 1", "killed at its time limit").
    pub fn why(&self) -> String {
        let mut parts = Vec::new();
        if self.timed_out {
            parts.push("killed at its time limit".to_owned());
        } else if !self.status.success() {
            parts.push(match (self.status.code(), self.status.signal()) {
                (Some(code), _) => format!("exit status {code}"),
                (None, Some(signal)) => format!("killed by signal {signal}"),
                _ => self.status.to_string(),
            });
        }
        for hit in &self.hit {
            parts.push(format!("ran into {hit}"));
        }
        parts.join(", ")
    }
}

/// An exit status as a shell reports it: the code, or 128 + the signal.
pub fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
        (None, Some(signal)) => u8::try_from((128 + signal) & 0xff).unwrap_or(1),
        _ => 1,
    }
}

/// Run the request's command, traced, and write the trace to `output` once
/// every process of the run has ended (atomically, unless `output` is not a
/// regular file, like `/dev/stdout`). Returns how the run ended.
pub fn trace(request: &Request, output: &Path) -> Result<Traced, TraceError> {
    let (program, _) = request.command.split_first().ok_or(TraceError::Empty)?;
    let program = resolve(program)?;
    if let Isolation::Sandbox { .. } = request.isolation {
        resolve(OsStr::new("bwrap")).map_err(|_| TraceError::NoBwrap)?;
    }
    // Where the trace goes must exist before the command runs, not after.
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(TraceError::Write {
                path: output.display().to_string(),
                source: io::Error::new(io::ErrorKind::NotFound, format!("no directory {}", parent.display())),
            });
        }
    }
    let mut guard = Guard::new(&request.limits, request.isolation);
    let cwd = std::env::current_dir().map_err(|e| TraceError::Spawn("the command (no current directory)", e))?;
    let stdout = if request.stdout_to_stderr {
        Stdio::from(io::stderr())
    } else {
        Stdio::inherit()
    };
    match request.isolation {
        Isolation::Gvisor { network } => gvisor(request, &mut guard, network, output),
        isolation => {
            // The trace: a file with no name, reachable only through honk's descriptor.
            let scratch = tempfile::tempfile().map_err(TraceError::Scratch)?;
            let target = format!("/proc/{}/fd/{}", std::process::id(), scratch.as_raw_fd());
            let mut cmd = Command::new("strace");
            cmd.args(STRACE_OPTIONS).arg("-o").arg(&target).arg("--");
            let mut execs = 1 + usize::from(!request.launcher.is_empty());
            if let Isolation::Sandbox { network } = isolation {
                execs += 1;
                cmd.arg("bwrap").args(sandbox_args(network, &cwd));
                let mut bound: Vec<PathBuf> = request.visible.iter().map(|p| p.to_path_buf()).collect();
                bound.extend(request.launcher.first().map(PathBuf::from));
                bound.push(program.clone());
                for path in &bound {
                    // Only what the scratch /tmp would hide needs binding (and
                    // binding over /tmp itself would hide the scratch).
                    if path.is_absolute() && path.starts_with("/tmp") && path != Path::new("/tmp") {
                        cmd.arg("--ro-bind").arg(path).arg(path);
                    }
                }
                cmd.arg("--");
            }
            cmd.args(request.launcher).args(request.command);
            cmd.stdin(Stdio::inherit()).stdout(stdout);
            let status = guard.run(cmd, isolation)?;
            let mut scratch = scratch;
            // Nothing is written (nor an existing -o replaced) unless the command started.
            let Some(start) = start_of(&mut scratch, execs).map_err(TraceError::Read)? else {
                return Err(TraceError::NotStarted {
                    command: describe(request.command),
                    status,
                    why: why_not_started(&mut scratch, matches!(isolation, Isolation::Sandbox { .. })),
                });
            };
            keep(output, |out| copy_from(&mut scratch, &start, out))?;
            Ok(guard.finish(status))
        }
    }
}

/// Write `output` with `fill`: atomically for a regular file (or a new one),
/// straight through otherwise (a device, a pipe, `/dev/stdout`).
fn keep<T>(output: &Path, fill: impl FnOnce(&mut dyn Write) -> io::Result<T>) -> Result<T, TraceError> {
    let failed = |source| TraceError::Write {
        path: output.display().to_string(),
        source,
    };
    let special = std::fs::metadata(output).is_ok_and(|m| !m.is_file());
    if special {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(output)
            .map_err(failed)?;
        let value = fill(&mut file).map_err(failed)?;
        file.flush().map_err(failed)?;
        return Ok(value);
    }
    let mut value = None;
    crate::write::atomically_with(output, |out| {
        value = Some(fill(out)?);
        Ok(())
    })
    .map_err(|e| failed(e.source))?;
    value.ok_or_else(|| failed(io::Error::other("nothing was written")))
}

/// Where `program` is: a path (with a `/`) as it is, else the first
/// executable file of that name in `PATH`.
fn resolve(program: &OsStr) -> Result<PathBuf, TraceError> {
    let name = program.to_string_lossy().into_owned();
    let executable =
        |path: &Path| std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    if program.as_bytes().contains(&b'/') {
        let path = PathBuf::from(program);
        return match std::fs::metadata(&path) {
            Err(_) => Err(TraceError::NoCommand(name)),
            Ok(_) if !executable(&path) => Err(TraceError::NotExecutable(name)),
            Ok(_) => Ok(std::path::absolute(&path).unwrap_or(path)),
        };
    }
    if program.is_empty() {
        return Err(TraceError::NoCommand(name));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| executable(candidate))
        .map(|found| std::path::absolute(&found).unwrap_or(found))
        .ok_or(TraceError::NoCommand(name))
}

/// Copy a strace trace from `trace` to `out`, from the `execs`-th successful
/// `execve` of the trace on (the command's own: the first without a sandbox or
/// launcher; bubblewrap's and honk's launcher's come before), leaving out the
/// processes that ran before it (bubblewrap's). Returns whether the command's
/// `execve` was found; nothing is copied if not.
///
/// Lines are `PID TIME call`, as strace `-f -o` writes them; an `execve` split
/// into `<unfinished ...>` and `<... execve resumed>` starts at its first half.
fn cut(trace: &mut File, execs: usize, out: &mut dyn Write) -> io::Result<bool> {
    let Some(start) = start_of(trace, execs)? else {
        return Ok(false);
    };
    copy_from(trace, &start, out)?;
    Ok(true)
}

/// Where the command's part of a strace trace starts: its first line, and the
/// processes that ran before the command (left out).
struct Start {
    line: u64,
    before: Vec<Vec<u8>>,
}

/// A strace line's process id.
fn pid(line: &[u8]) -> &[u8] {
    line.trim_ascii_start().split(|&b| b == b' ').next().unwrap_or(b"")
}

/// Find the `execs`-th successful `execve` (see [`cut`]); `None` if there is none.
fn start_of(trace: &mut File, execs: usize) -> io::Result<Option<Start>> {
    trace.seek(io::SeekFrom::Start(0))?;
    let mut reader = io::BufReader::new(&mut *trace);
    let mut line = Vec::new();
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut unfinished: Vec<(Vec<u8>, u64)> = Vec::new();
    let (mut index, mut count) = (0u64, 0usize);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        let text = line.trim_ascii_end();
        let who = pid(text).to_vec();
        let succeeded = text.ends_with(b"= 0");
        if contains(text, b" execve(") && text.ends_with(b"<unfinished ...>") {
            unfinished.retain(|(p, _)| *p != who);
            unfinished.push((who.clone(), index));
        }
        let start = if contains(text, b" execve(") && succeeded {
            Some(index)
        } else if contains(text, b"<... execve resumed>") && succeeded {
            unfinished.iter().find(|(p, _)| *p == who).map(|&(_, i)| i)
        } else {
            None
        };
        if let Some(start) = start {
            count += 1;
            if count == execs {
                seen.retain(|p| *p != who);
                return Ok(Some(Start {
                    line: start,
                    before: seen,
                }));
            }
        }
        if !seen.contains(&who) {
            seen.push(who);
        }
        index += 1;
    }
}

/// Copy the command's part of the trace, from `start` on, to `out`.
fn copy_from(trace: &mut File, start: &Start, out: &mut dyn Write) -> io::Result<()> {
    trace.seek(io::SeekFrom::Start(0))?;
    let mut reader = io::BufReader::new(&mut *trace);
    let mut out = io::BufWriter::new(out);
    let (mut line, mut index) = (Vec::new(), 0u64);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if index >= start.line && !start.before.iter().any(|p| p.as_slice() == pid(&line)) {
            out.write_all(&line)?;
        }
        index += 1;
    }
    out.flush()
}

/// Why a strace trace has no start of the command, from the trace itself.
fn why_not_started(trace: &mut File, sandboxed: bool) -> String {
    let mut text = String::new();
    let read = trace
        .seek(io::SeekFrom::Start(0))
        .and_then(|_| io::Read::read_to_string(&mut io::Read::take(&mut *trace, 64 << 20), &mut text));
    let emptied = text.starts_with('\0');
    if read.is_err() || emptied || text.trim().is_empty() {
        // strace wrote nothing: it could not trace at all, or the trace was emptied.
        return if Command::new("strace")
            .args(["-o", "/dev/null", "true"])
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|o| o.status.success())
        {
            "the trace is empty, though strace works here: something emptied it while the command ran \
             (without a sandbox, the command can reach it through /proc)"
                .to_owned()
        } else {
            "strace cannot trace here (ptrace is forbidden: containers often drop CAP_SYS_PTRACE, or \
             kernel.yama.ptrace_scope is 3)"
                .to_owned()
        };
    }
    let failed = |l: &&str| l.contains(" = -1 ");
    if sandboxed {
        let namespaces = text
            .lines()
            .filter(failed)
            .find(|l| l.contains("CLONE_NEWUSER") || l.contains(" unshare(") || l.contains(" clone3("));
        if let Some(line) = namespaces {
            let error = line.rsplit(" = -1 ").next().unwrap_or("");
            return format!(
                "bubblewrap could not make its namespaces ({error}): user namespaces may be disabled \
                 (kernel.unprivileged_userns_clone), or run as root"
            );
        }
    }
    match text.lines().filter(failed).rfind(|l| l.contains(" execve(")) {
        Some(line) => format!("its execve failed: {}", line.rsplit(" = -1 ").next().unwrap_or("")),
        None => "no execve of it succeeded".to_owned(),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// Cut honk's seccomp launcher out of a strace trace file: everything before
/// the command's own `execve`. A trace without it is left whole. Returns
/// whether it was cut. (`honk trace` cuts as it keeps the trace; this is for
/// a trace written otherwise.)
pub fn drop_launcher(path: &Path) -> Result<bool, TraceError> {
    let failed = |source| TraceError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut file = File::open(path).map_err(failed)?;
    let mut probe = Vec::new();
    if !cut(&mut file, 2, &mut probe).map_err(failed)? {
        return Ok(false);
    }
    crate::write::atomically(path, &probe).map_err(|e| failed(e.source))?;
    Ok(true)
}

/// bubblewrap's options: new namespaces (user, pid, IPC, UTS, cgroup if it
/// can, network unless `network`; bwrap always makes a new mount namespace),
/// the host read-only, scratch `/tmp`, a minimal `/dev`, a new `/proc`, and
/// the current directory `cwd` kept (bound read-only at its path when the
/// scratch `/tmp` would hide it).
fn sandbox_args(network: bool, cwd: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "--unshare-user",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    if !network {
        args.push("--unshare-net".into());
    }
    if cwd.starts_with("/tmp") && cwd != Path::new("/tmp") {
        args.extend([
            "--ro-bind".into(),
            cwd.as_os_str().to_owned(),
            cwd.as_os_str().to_owned(),
        ]);
    }
    args.extend(["--chdir".into(), cwd.as_os_str().to_owned()]);
    args
}

/// Run the command in a gVisor sandbox (`runsc do`) with its system calls
/// traced, and keep gVisor's strace log in `output`.
fn gvisor(request: &Request, guard: &mut Guard, network: bool, output: &Path) -> Result<Traced, TraceError> {
    let logs = tempfile::Builder::new()
        .prefix("honk-runsc-")
        .tempdir()
        .map_err(TraceError::Scratch)?;
    let mut debug_flag = OsString::from("--debug-log=");
    debug_flag.push(logs.path().as_os_str());
    debug_flag.push("/");
    let mut cmd = Command::new("runsc");
    cmd.arg(if network { "--network=host" } else { "--network=none" })
        .args(["--strace", "--debug"])
        .arg(debug_flag)
        .arg("do")
        .args(request.launcher)
        .args(request.command);
    // runsc's own descriptors: pipes honk copies to its standard output and
    // error. Given the caller's, runsc writes a file at offsets of its own and
    // leaves the descriptors non-blocking.
    cmd.stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let stdin_flags = Flags::save(0);
    let status = guard.run_with(cmd, request.isolation, |child| {
        let out = child.stdout.take();
        let err = child.stderr.take();
        let to_stderr = request.stdout_to_stderr;
        let a = std::thread::spawn(move || {
            if let Some(mut out) = out {
                let _ = if to_stderr {
                    io::copy(&mut out, &mut io::stderr())
                } else {
                    io::copy(&mut out, &mut io::stdout())
                };
            }
        });
        let b = std::thread::spawn(move || {
            if let Some(mut err) = err {
                let _ = io::copy(&mut err, &mut io::stderr());
            }
        });
        vec![a, b]
    });
    stdin_flags.restore();
    let status = status?;
    // The sandbox's kernel ("boot") writes the strace lines to a log file of its own.
    let boot_log = std::fs::read_dir(logs.path())
        .ok()
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains(".boot.")));
    let Some(boot_log) = boot_log else {
        return Err(TraceError::NoGvisorLog {
            command: describe(request.command),
            status,
        });
    };
    let mut log = File::open(&boot_log).map_err(TraceError::Read)?;
    keep(output, |out| io::copy(&mut log, out).map(drop))?;
    Ok(guard.finish(status))
}

/// A descriptor's file status flags (`O_NONBLOCK`, ...), to put back.
struct Flags(RawFd, Option<i32>);

impl Flags {
    fn save(fd: RawFd) -> Flags {
        // SAFETY: F_GETFL only reads the flags of a descriptor number.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        Flags(fd, (flags >= 0).then_some(flags))
    }

    fn restore(&self) {
        if let Some(flags) = self.1 {
            // SAFETY: F_SETFL sets the flags of a descriptor number to what they were.
            unsafe { libc::fcntl(self.0, libc::F_SETFL, flags) };
        }
    }
}

fn describe(command: &[OsString]) -> String {
    command
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The limits of one run: its cgroup (when one could be made), the rlimits
/// that stand in for it, its time limit, and what could not be enforced.
struct Guard {
    limits: Limits,
    cgroup: Option<Cgroup>,
    /// `RLIMIT_AS` and `RLIMIT_NPROC`, where no cgroup does the job.
    address_space: Option<u64>,
    nproc: Option<u64>,
    unenforced: Vec<String>,
    timed_out: bool,
}

impl Guard {
    fn new(limits: &Limits, isolation: Isolation) -> Guard {
        let mut guard = Guard {
            limits: *limits,
            cgroup: None,
            address_space: None,
            nproc: None,
            unenforced: Vec::new(),
            timed_out: false,
        };
        if limits.procs.is_none() && limits.memory.is_none() {
            return guard;
        }
        let cgroup = Cgroup::create(limits.procs, limits.memory);
        let (procs_done, memory_done) = (cgroup.pids.is_some(), cgroup.memory.is_some());
        if !cgroup.dirs.is_empty() {
            guard.cgroup = Some(cgroup);
        }
        if let (Some(memory), false) = (limits.memory, memory_done) {
            if matches!(isolation, Isolation::Gvisor { .. }) {
                guard.unenforced.push(
                    "the memory limit: no memory cgroup could be made, and gVisor's runtime cannot run under \
                     RLIMIT_AS"
                        .to_owned(),
                );
            } else {
                guard.address_space = Some(memory);
            }
        }
        if let (Some(procs), false) = (limits.procs, procs_done) {
            // SAFETY: geteuid cannot fail and has no side effects.
            if unsafe { libc::geteuid() } == 0 {
                guard.unenforced.push(
                    "the process limit: no pids cgroup could be made, and the kernel does not apply \
                     RLIMIT_NPROC to root"
                        .to_owned(),
                );
            } else {
                guard.nproc = Some(procs);
            }
        }
        guard
    }

    fn run(&mut self, cmd: Command, isolation: Isolation) -> Result<ExitStatus, TraceError> {
        self.run_with(cmd, isolation, |_| Vec::new())
    }

    /// Start `cmd` in the run's cgroup, in a process group of its own, with
    /// the rlimits; `started` may take the child's pipes (and returns threads
    /// to join); kill it all at the time limit; wait for it.
    fn run_with(
        &mut self,
        mut cmd: Command,
        isolation: Isolation,
        started: impl FnOnce(&mut Child) -> Vec<std::thread::JoinHandle<()>>,
    ) -> Result<ExitStatus, TraceError> {
        let joins: Vec<RawFd> = self
            .cgroup
            .iter()
            .flat_map(|c| c.joins.iter().map(AsRawFd::as_raw_fd))
            .collect();
        let (address_space, nproc) = (self.address_space, self.nproc);
        // While the run goes on, honk outlives a Ctrl-C (which reaches the
        // run too), so that it still keeps the trace and removes the cgroup;
        // the run gets the dispositions honk had.
        let interrupts = Interrupts::ignore();
        let dispositions = interrupts.before;
        // At the time limit the run's cgroup is killed; without one, its
        // process group, which must then be its own (and so not the terminal's
        // foreground: such a run cannot read the terminal).
        let own_group = self.limits.timeout.is_some() && self.cgroup.is_none();
        if own_group {
            cmd.process_group(0);
        }
        // SAFETY: between fork and exec the hook only makes the signal, write
        // and setrlimit system calls, on descriptors and values prepared
        // before the fork; it allocates nothing.
        unsafe {
            cmd.pre_exec(move || {
                for (signal, disposition) in dispositions {
                    if disposition != libc::SIG_ERR {
                        libc::signal(signal, disposition);
                    }
                }
                for &fd in &joins {
                    // "0" moves the writer into the cgroup.
                    if libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                        return Err(io::Error::last_os_error());
                    }
                }
                for (resource, value) in [(libc::RLIMIT_AS, address_space), (libc::RLIMIT_NPROC, nproc)] {
                    if let Some(value) = value {
                        let limit = libc::rlimit {
                            rlim_cur: value,
                            rlim_max: value,
                        };
                        if libc::setrlimit(resource, &limit) != 0 {
                            return Err(io::Error::last_os_error());
                        }
                    }
                }
                Ok(())
            });
        }
        let program = match isolation {
            Isolation::Gvisor { .. } => "runsc",
            _ => "strace",
        };
        let mut child = cmd.spawn().map_err(|e| match (e.kind(), isolation) {
            (io::ErrorKind::NotFound, Isolation::Gvisor { .. }) => TraceError::NoRunsc,
            (io::ErrorKind::NotFound, _) => TraceError::NoStrace,
            _ => TraceError::Spawn(program, e),
        })?;
        let threads = started(&mut child);
        let (done, wait) = mpsc::channel::<()>();
        let killer = self.limits.timeout.map(|timeout| {
            let pid = i32::try_from(child.id()).unwrap_or(0);
            let group = if own_group { -pid } else { pid };
            let dirs = self.cgroup.as_ref().map(|c| c.dirs.clone()).unwrap_or_default();
            std::thread::spawn(move || {
                if wait.recv_timeout(timeout) != Err(mpsc::RecvTimeoutError::Timeout) {
                    return false;
                }
                if pid > 0 {
                    // SAFETY: signals the child (or its process group), which
                    // still exists: it has not been waited for.
                    unsafe { libc::kill(group, libc::SIGKILL) };
                }
                kill_all(&dirs);
                true
            })
        });
        let status = child.wait();
        drop(done);
        if let Some(killer) = killer {
            self.timed_out = killer.join().unwrap_or(false);
        }
        for thread in threads {
            let _ = thread.join();
        }
        status.map_err(|e| TraceError::Spawn(program, e))
    }

    fn finish(&mut self, status: ExitStatus) -> Traced {
        Traced {
            status,
            timed_out: self.timed_out,
            hit: self.cgroup.as_ref().map(Cgroup::hits).unwrap_or_default(),
            unenforced: std::mem::take(&mut self.unenforced),
        }
    }
}

/// SIGINT and SIGQUIT ignored by honk until dropped; `before` holds what they were.
struct Interrupts {
    before: [(libc::c_int, libc::sighandler_t); 2],
}

impl Interrupts {
    fn ignore() -> Interrupts {
        // SAFETY: setting a signal to be ignored installs no handler code.
        let before =
            [libc::SIGINT, libc::SIGQUIT].map(|signal| (signal, unsafe { libc::signal(signal, libc::SIG_IGN) }));
        Interrupts { before }
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        for (signal, disposition) in self.before {
            if disposition != libc::SIG_ERR {
                // SAFETY: puts back the disposition `ignore` found.
                unsafe { libc::signal(signal, disposition) };
            }
        }
    }
}

/// A cgroup (v2, or one per v1 controller) made for one run, under honk's own.
#[derive(Default)]
struct Cgroup {
    dirs: Vec<PathBuf>,
    /// `cgroup.procs` of each, open for writing, to join it.
    joins: Vec<File>,
    /// The directory limiting processes, and memory.
    pids: Option<PathBuf>,
    memory: Option<PathBuf>,
}

impl Cgroup {
    /// Make the cgroup with what limits it can set; what it cannot is left
    /// out (`pids` or `memory` stays `None`).
    fn create(procs: Option<u64>, memory: Option<u64>) -> Cgroup {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let mut cgroup = Cgroup::default();
        let (Ok(mounts), Ok(own)) = (
            std::fs::read_to_string("/proc/self/mountinfo"),
            std::fs::read_to_string("/proc/self/cgroup"),
        ) else {
            return cgroup;
        };
        let name = format!("honk-{}-{}", std::process::id(), RUNS.fetch_add(1, Ordering::Relaxed));
        let wanted = [("pids", procs, "pids.max"), ("memory", memory, "memory.max")];
        for (controller, limit, v2_file) in wanted {
            let Some(limit) = limit else { continue };
            let (dir, file) = match hierarchy(&mounts, &own, controller) {
                Some((base, true)) => (base.join(&name), v2_file),
                Some((base, false)) if controller == "memory" => (base.join(&name), "memory.limit_in_bytes"),
                Some((base, false)) => (base.join(&name), "pids.max"),
                None => continue,
            };
            if !cgroup.dirs.contains(&dir) {
                if std::fs::create_dir(&dir).is_err() {
                    continue;
                }
                match std::fs::OpenOptions::new().write(true).open(dir.join("cgroup.procs")) {
                    Ok(join) => cgroup.joins.push(join),
                    Err(_) => {
                        let _ = std::fs::remove_dir(&dir);
                        continue;
                    }
                }
                cgroup.dirs.push(dir.clone());
            }
            if std::fs::write(dir.join(file), limit.to_string()).is_err() {
                continue;
            }
            if controller == "memory" {
                // No swapping around the limit (v2; v1 without swap accounting has no such file).
                let _ = std::fs::write(dir.join("memory.swap.max"), "0");
                let _ = std::fs::write(dir.join("memory.memsw.limit_in_bytes"), limit.to_string());
                cgroup.memory = Some(dir);
            } else {
                cgroup.pids = Some(dir);
            }
        }
        cgroup
    }

    /// The limits the run ran into, from the controllers' event counters.
    fn hits(&self) -> Vec<&'static str> {
        let count = |path: PathBuf, key: &str| {
            std::fs::read_to_string(path).ok().and_then(|text| {
                text.lines().find_map(|line| {
                    let (k, v) = line.split_once(' ')?;
                    (k == key).then(|| v.trim().parse::<u64>().ok()).flatten()
                })
            })
        };
        let mut hits = Vec::new();
        if let Some(dir) = &self.pids {
            if count(dir.join("pids.events"), "max").is_some_and(|n| n > 0) {
                hits.push("the process limit");
            }
        }
        if let Some(dir) = &self.memory {
            let oom = count(dir.join("memory.events"), "oom_kill")
                .or_else(|| count(dir.join("memory.oom_control"), "oom_kill"));
            if oom.is_some_and(|n| n > 0) {
                hits.push("the memory limit");
            }
        }
        hits
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        kill_all(&self.dirs);
        for dir in &self.dirs {
            // A killed process leaves its cgroup a moment after it dies.
            for _ in 0..100 {
                if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Kill every process in the cgroups `dirs` (with `cgroup.kill` where there is one).
fn kill_all(dirs: &[PathBuf]) {
    for dir in dirs {
        if std::fs::write(dir.join("cgroup.kill"), "1").is_ok() {
            continue;
        }
        // v1: kill what is there until nothing is (a fork bomb refills it, within its limit).
        for _ in 0..1000 {
            let pids: Vec<i32> = std::fs::read_to_string(dir.join("cgroup.procs"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect();
            if pids.is_empty() {
                break;
            }
            for pid in pids {
                // SAFETY: kill only sends a signal, to a process of the run's cgroup.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

/// The directory of honk's own cgroup in the hierarchy that has `controller`,
/// and whether it is cgroup v2 (where the controller must be enabled for
/// children). From `/proc/self/mountinfo` and `/proc/self/cgroup`.
fn hierarchy(mounts: &str, own: &str, controller: &str) -> Option<(PathBuf, bool)> {
    let mut v2 = None;
    for line in mounts.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let left: Vec<&str> = left.split(' ').collect();
        let right: Vec<&str> = right.split(' ').collect();
        let (Some(root), Some(point), Some(kind), Some(options)) =
            (left.get(3), left.get(4), right.first(), right.get(2))
        else {
            continue;
        };
        let relative = |path: &str| -> Option<PathBuf> {
            let inside = path.strip_prefix(root.trim_end_matches('/')).unwrap_or(path);
            Some(Path::new(point).join(inside.trim_start_matches('/')))
        };
        if *kind == "cgroup" && options.split(',').any(|o| o == controller) {
            let path = own.lines().find_map(|l| {
                let mut parts = l.splitn(3, ':');
                let (_, names, path) = (parts.next()?, parts.next()?, parts.next()?);
                names.split(',').any(|n| n == controller).then_some(path)
            })?;
            return relative(path).map(|dir| (dir, false));
        }
        if *kind == "cgroup2" && v2.is_none() {
            let path = own.lines().find_map(|l| l.strip_prefix("0::"));
            if let Some(dir) = path.and_then(relative) {
                let enabled = std::fs::read_to_string(dir.join("cgroup.subtree_control")).unwrap_or_default();
                if enabled.split_whitespace().any(|c| c == controller) {
                    v2 = Some((dir, true));
                }
            }
        }
    }
    v2
}

/// A size in bytes: a number with an optional K, M, G or T suffix (powers of
/// 1,024; `KiB`, `MB` and the like read the same), or `none` (no limit, 0 too).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let lower = text.trim().to_ascii_lowercase();
    if lower == "none" || lower == "0" {
        return Ok(0);
    }
    let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &lower[digits.len()..];
    let shift = match unit.trim_end_matches("ib").trim_end_matches('b') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return Err(format!("`{text}` is not a size (say 512M, 4G or none)")),
    };
    let number: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a size (say 512M, 4G or none)"))?;
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// A duration: seconds, or a number with s, m or h, or `none` (no limit, 0 too).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let lower = text.trim().to_ascii_lowercase();
    if lower == "none" || lower == "0" {
        return Ok(Duration::ZERO);
    }
    let (digits, unit) = match lower.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => lower.split_at(at),
        None => (lower.as_str(), ""),
    };
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("`{text}` is not a duration (say 90, 90s, 10m, 1h or none)")),
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (say 90, 90s, 10m, 1h or none)"))?;
    number
        .checked_mul(scale)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("`{text}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::skip;

    fn strace_present() -> bool {
        Command::new("strace")
            .args(["-f", "-o", "/dev/null", "true"])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn request(command: &[OsString], isolation: Isolation) -> Request<'_> {
        Request {
            command,
            launcher: &[],
            isolation,
            visible: &[],
            stdout_to_stderr: true,
            limits: Limits::default(),
        }
    }

    fn args(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn traces_a_real_command_with_honks_options() {
        if !strace_present() {
            return skip("strace is not installed, or cannot trace here");
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t.strace");
        let command = args(&["cat", "/etc/hostname"]);
        let traced = trace(&request(&command, Isolation::None), &out).unwrap();
        assert!(traced.status.success());
        assert!(!traced.failed());
        let trace = std::fs::read_to_string(&out).unwrap();
        assert!(trace.starts_with(&format!("{} ", trace.split(' ').next().unwrap())));
        assert!(trace.contains("execve(\"/usr/bin/cat\""), "{trace}");
        assert!(
            trace.contains("</etc/hostname>"),
            "-yy shows the file behind the fd: {trace}"
        );
        assert!(crate::parse::detect(trace.lines()) == crate::parse::Format::Strace);
    }

    fn runsc_usable() -> bool {
        // SAFETY: geteuid cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        root && Command::new("runsc")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn gvisor(script: &str, network: bool, out: &Path) -> Traced {
        let command = args(&["/bin/bash", "-c", script]);
        trace(&request(&command, Isolation::Gvisor { network }), out).unwrap()
    }

    #[test]
    fn gvisor_traces_and_throws_writes_away() {
        if !runsc_usable() {
            return skip("needs runsc (apt-get install runsc) and root");
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t.log");
        let probe = dir.path().join("written-in-the-sandbox");
        let script = format!(
            "cat /etc/hostname; echo x > '{}'",
            probe.display().to_string().replace('\'', r"'\''")
        );
        let traced = gvisor(&script, false, &out);
        assert!(traced.status.success(), "{traced:?}");
        let log = std::fs::read_to_string(&out).unwrap();
        assert!(
            log.contains("strace.go") && log.contains("/etc/hostname"),
            "the sandbox's calls are traced"
        );
        assert_eq!(crate::parse::detect(log.lines()), crate::parse::Format::Gvisor);
        assert!(
            log.contains("written-in-the-sandbox"),
            "the write was attempted in the sandbox"
        );
        assert!(!probe.exists(), "a write in the sandbox does not reach the host");
    }

    #[test]
    fn gvisor_has_no_network_unless_asked() {
        if !runsc_usable() {
            return skip("needs runsc (apt-get install runsc) and root");
        }
        // A listener on the host's loopback: the sandbox must not reach it.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t.log");
        let traced = gvisor(&format!("exec 3<>/dev/tcp/127.0.0.1/{port}"), false, &out);
        assert!(!traced.status.success(), "the connection fails in the sandbox");
        assert!(listener.accept().is_err(), "nothing arrived on the host");
        let log = std::fs::read_to_string(&out).unwrap();
        assert!(log.contains("connect("), "the attempt is in the trace");
    }

    #[test]
    fn gvisor_passes_the_exit_status_on() {
        if !runsc_usable() {
            return skip("needs runsc (apt-get install runsc) and root");
        }
        let dir = tempfile::tempdir().unwrap();
        let traced = gvisor("exit 7", false, &dir.path().join("t.log"));
        assert_eq!(traced.status.code(), Some(7));
        assert!(traced.failed());
    }

    #[test]
    fn a_failing_command_is_still_a_trace() {
        if !strace_present() {
            return skip("strace is not installed, or cannot trace here");
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t.strace");
        let command = args(&["sh", "-c", "exit 3"]);
        let traced = trace(&request(&command, Isolation::None), &out).unwrap();
        assert_eq!(traced.status.code(), Some(3));
        assert_eq!(traced.exit_code(), 3);
        assert!(traced.failed());
        assert!(std::fs::read_to_string(&out).unwrap().contains("exit_group(3)"));
    }

    #[test]
    fn a_missing_command_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t.strace");
        for isolation in [
            Isolation::None,
            Isolation::Sandbox { network: false },
            Isolation::Gvisor { network: false },
        ] {
            for missing in ["honk-no-such-command", "./honk-no-such-script.sh"] {
                let command = args(&[missing]);
                match trace(&request(&command, isolation), &out) {
                    Err(TraceError::NoCommand(name)) => assert_eq!(name, missing),
                    other => panic!("{isolation:?} {missing}: {other:?}"),
                }
            }
        }
        assert!(!out.exists());
    }

    /// Whether bubblewrap can make its sandbox here (it needs user namespaces).
    fn sandbox_usable() -> bool {
        strace_present()
            && Command::new("bwrap")
                .args(["--ro-bind", "/", "/", "--unshare-user", "--unshare-net", "true"])
                .output()
                .is_ok_and(|o| o.status.success())
    }

    fn sandboxed(script: &str, network: bool) -> (ExitStatus, String) {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t.strace");
        let command = args(&["/bin/bash", "-c", script]);
        let traced = trace(&request(&command, Isolation::Sandbox { network }), &out).unwrap();
        (traced.status, std::fs::read_to_string(&out).unwrap())
    }

    #[test]
    fn the_sandbox_traces_and_keeps_writes_in_its_scratch_space() {
        if !sandbox_usable() {
            return skip("needs strace and bubblewrap with user namespaces (apt-get install bubblewrap)");
        }
        // A host directory outside /tmp (which the sandbox replaces): the package's.
        let host = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
        let outside = host.path().join("written-outside");
        let scratch_name = format!("honk-scratch-{}", std::process::id());
        let script = format!(
            "cat /etc/hostname > /dev/null; echo x > /tmp/{scratch_name} && cat /tmp/{scratch_name} > /dev/null; \
             echo y > '{}'; exit 0",
            // Quoted: the checkout's path may hold spaces.
            outside.display().to_string().replace('\'', r"'\''")
        );
        let (status, trace) = sandboxed(&script, false);
        assert!(status.success(), "{status}");
        assert_eq!(crate::parse::detect(trace.lines()), crate::parse::Format::Strace);
        assert!(
            trace.contains("</etc/hostname>"),
            "the command's calls are traced: {trace}"
        );
        // The trace is the command's: bubblewrap's own calls are cut.
        assert!(
            trace.lines().next().unwrap().contains("execve(\"/bin/bash\""),
            "{trace}"
        );
        assert!(!trace.contains("bwrap") && !trace.contains("pivot_root"), "{trace}");
        // The write outside the scratch space was refused by the read-only host...
        assert!(trace.contains("written-outside") && trace.contains("EROFS"), "{trace}");
        assert!(!outside.exists(), "a write outside the scratch space reached the host");
        // ...and the scratch file lived in the sandbox's own /tmp, not the host's.
        assert!(trace.contains(&scratch_name), "{trace}");
        assert!(
            !Path::new("/tmp").join(&scratch_name).exists(),
            "the scratch /tmp is the host's"
        );
    }

    #[test]
    fn the_sandbox_has_no_network_unless_asked() {
        if !sandbox_usable() {
            return skip("needs strace and bubblewrap with user namespaces (apt-get install bubblewrap)");
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let script = format!("exec 3<>/dev/tcp/127.0.0.1/{port}");
        let (status, trace) = sandboxed(&script, false);
        assert!(!status.success(), "the connection fails in the sandbox");
        assert!(listener.accept().is_err(), "nothing arrived on the host");
        assert!(trace.contains("connect(") && trace.contains("ECONNREFUSED"), "{trace}");

        // With the network, the same connection arrives.
        let (status, _) = sandboxed(&format!("exec 3<>/dev/tcp/127.0.0.1/{port}"), true);
        assert!(status.success(), "{status}");
        listener.set_nonblocking(false).unwrap();
        assert!(listener.accept().is_ok(), "the connection arrived");
    }

    #[test]
    fn the_launcher_is_cut_from_the_trace() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.strace");
        let launcher = "7 1.0 execve(\"/usr/bin/honk\", [\"honk\", \"__seccomp-exec\"], 0x1 /* 3 vars */) = 0\n\
                        7 1.1 prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0\n\
                        7 1.2 execve(\"/usr/local/bin/sh\", [\"sh\"], 0x2 /* 3 vars */) = -1 ENOENT (No such file or directory)\n";
        let command = "7 1.3 execve(\"/usr/bin/sh\", [\"sh\"], 0x2 /* 3 vars */) = 0\n7 1.4 exit_group(0) = ?\n";
        std::fs::write(&path, format!("{launcher}{command}")).unwrap();
        assert!(drop_launcher(&path).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), command);
        // Without the command's execve, the trace stays whole.
        std::fs::write(&path, launcher).unwrap();
        assert!(!drop_launcher(&path).unwrap());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), launcher);
    }

    #[test]
    fn bubblewraps_processes_are_cut_and_a_split_execve_starts_the_trace() {
        // bwrap (10) forks its init (11), which forks the command (12); the
        // command's execve is split by the init's wait; the command forks 13.
        let trace = "10 1.0 execve(\"/usr/bin/bwrap\", [\"bwrap\"], 0x1 /* 3 vars */) = 0\n\
                     10 1.1 clone(child_stack=NULL, flags=CLONE_NEWPID|SIGCHLD) = 11\n\
                     11 1.2 mount(\"/\", \"/newroot\", NULL, MS_BIND, NULL) = 0\n\
                     11 1.3 clone(child_stack=NULL, flags=SIGCHLD) = 2\n\
                     12 1.4 execve(\"/usr/bin/sh\", [\"sh\"], 0x2 /* 3 vars */ <unfinished ...>\n\
                     11 1.5 wait4(-1,  <unfinished ...>\n\
                     12 1.6 <... execve resumed>) = 0\n\
                     12 1.7 clone(child_stack=NULL, flags=SIGCHLD) = 3\n\
                     13 1.8 exit_group(0) = ?\n\
                     11 1.9 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 3\n\
                     12 2.0 exit_group(0) = ?\n\
                     10 2.1 +++ exited with 0 +++\n";
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(trace.as_bytes()).unwrap();
        file.seek(io::SeekFrom::Start(0)).unwrap();
        let mut out = Vec::new();
        assert!(cut(&mut file, 2, &mut out).unwrap());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "12 1.4 execve(\"/usr/bin/sh\", [\"sh\"], 0x2 /* 3 vars */ <unfinished ...>\n\
             12 1.6 <... execve resumed>) = 0\n\
             12 1.7 clone(child_stack=NULL, flags=SIGCHLD) = 3\n\
             13 1.8 exit_group(0) = ?\n\
             12 2.0 exit_group(0) = ?\n"
        );
        // No third execve: the command never started, and nothing is kept.
        file.seek(io::SeekFrom::Start(0)).unwrap();
        let mut out = Vec::new();
        assert!(!cut(&mut file, 3, &mut out).unwrap());
        assert!(out.is_empty());
    }

    #[test]
    fn sizes_and_durations_read_as_people_write_them() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("none"), Ok(0));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5X").is_err());
        assert!(parse_size("99999999999T").is_err());
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("none"), Ok(Duration::ZERO));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("1d").is_err());
    }
}
