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
//! Isolation with strace: none. strace runs the command as you, with your
//! files, network and privileges; it only watches.
//!
//! With gVisor (`runsc do`, as root): the command runs on gVisor's own kernel
//! in user space, with no network unless asked (`--network=none`), and what it
//! writes to the file system goes to an overlay that is thrown away (tested).
//! It can still *read* the host's files, as the user running honk (root).
//! gVisor's `--strace` log of the sandbox's system calls is the trace.
//!
//! With `--sandbox` (bubblewrap, `bwrap`): strace and the command run in new
//! user, pid, mount, network, IPC and UTS namespaces; the host's file system is
//! mounted read-only, with a fresh tmpfs on `/tmp` for scratch, a minimal
//! `/dev` and a new `/proc`; there is no network (not even the host's
//! loopback) unless asked. The command can still read every host file its user
//! can read, and it runs on the host's kernel: a kernel exploit is out of scope.
//! Each of these claims has a test below.
//!
//! This module starts processes; it does not parse or score their traces.

use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

/// strace's options for a trace honk reads best (see the module comment).
pub const STRACE_OPTIONS: &[&str] = &["-f", "-q", "-yy", "-ttt", "-s", "256"];

/// Why a trace could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("strace is not installed; install it with `apt-get install strace` (or your system's package manager)")]
    NoStrace,
    #[error("runsc (gVisor) is not installed; install it with `apt-get install runsc`")]
    NoRunsc,
    #[error("bubblewrap is not installed; install it with `apt-get install bubblewrap`")]
    NoBwrap,
    #[error(
        "the sandbox could not start `{command}` (exit status {status}); bubblewrap needs user \
         namespaces (kernel.unprivileged_userns_clone, or run as root)"
    )]
    NoSandbox { command: String, status: ExitStatus },
    #[error("cannot run {0}")]
    Spawn(&'static str, #[source] io::Error),
    #[error(
        "runsc left no strace log for `{command}` (exit status {status}); `runsc do` needs root \
         (or try strace without --gvisor)"
    )]
    NoGvisorLog { command: String, status: ExitStatus },
    #[error("cannot keep the trace in {path}")]
    Write {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "strace could not trace `{command}` (exit status {status}); ptrace may be forbidden here \
         (containers often drop CAP_SYS_PTRACE, or kernel.yama.ptrace_scope is 3)"
    )]
    NotTraced { command: String, status: ExitStatus },
}

/// How the traced command is isolated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Isolation {
    /// None: strace only watches.
    #[default]
    None,
    /// bubblewrap's namespaces, a read-only host, scratch `/tmp`; the host's
    /// network only if `network`.
    Sandbox { network: bool },
}

/// Run `command` under strace, writing the trace to `output`. Returns the
/// command's own exit status (strace passes it through). With
/// `stdout_to_stderr`, the command's standard output goes to standard error, so
/// that honk's own output (scores) is all that is on standard output.
///
/// In the sandbox, `visible` are host files the command needs to read (a
/// seccomp profile, say) that would be hidden by the scratch `/tmp`; they are
/// bound read-only at their paths. Without a sandbox they are always visible.
pub fn strace(
    command: &[OsString],
    output: &Path,
    isolation: Isolation,
    visible: &[&Path],
    stdout_to_stderr: bool,
) -> Result<ExitStatus, TraceError> {
    let stdout = if stdout_to_stderr {
        Stdio::from(io::stderr())
    } else {
        Stdio::inherit()
    };
    // In the sandbox the trace goes to a directory of its own, the one place
    // bound writable; it is copied to `output` afterwards.
    let sandbox_dir = match isolation {
        Isolation::Sandbox { .. } => Some(
            tempfile::Builder::new()
                .prefix("honk-sandbox-")
                .tempdir()
                .map_err(|e| TraceError::Spawn("bwrap", e))?,
        ),
        Isolation::None => None,
    };
    let trace_file = match &sandbox_dir {
        Some(dir) => dir.path().join("trace.strace"),
        None => output.to_path_buf(),
    };
    let mut cmd = match (isolation, &sandbox_dir) {
        (Isolation::Sandbox { network }, Some(dir)) => {
            let mut bwrap = Command::new("bwrap");
            bwrap.args(sandbox_args(network, dir.path()));
            for path in visible {
                bwrap.arg("--ro-bind").arg(path).arg(path);
            }
            bwrap.arg("--").arg("strace");
            bwrap
        }
        _ => Command::new("strace"),
    };
    let status = cmd
        .args(STRACE_OPTIONS)
        .arg("-o")
        .arg(&trace_file)
        .arg("--")
        .args(command)
        .stdin(Stdio::inherit())
        .stdout(stdout)
        .status()
        .map_err(|e| match (e.kind(), isolation) {
            (io::ErrorKind::NotFound, Isolation::None) => TraceError::NoStrace,
            (io::ErrorKind::NotFound, Isolation::Sandbox { .. }) => TraceError::NoBwrap,
            (_, Isolation::None) => TraceError::Spawn("strace", e),
            (_, Isolation::Sandbox { .. }) => TraceError::Spawn("bwrap", e),
        })?;
    if sandbox_dir.is_some() {
        let traced = std::fs::metadata(&trace_file).is_ok_and(|m| m.len() > 0);
        if !traced {
            return Err(TraceError::NoSandbox {
                command: describe(command),
                status,
            });
        }
        std::fs::copy(&trace_file, output).map_err(|source| TraceError::Write {
            path: output.display().to_string(),
            source,
        })?;
    }
    // strace exits with the command's status, so a failing command is not a
    // failed trace; an empty trace file is.
    let traced = std::fs::metadata(output).map(|m| m.len() > 0).unwrap_or(false);
    if !traced {
        return Err(TraceError::NotTraced {
            command: describe(command),
            status,
        });
    }
    Ok(status)
}

/// Cut honk's seccomp launcher out of a strace trace: everything before the
/// command's own `execve` (the launcher's start-up and its installing the
/// filter), so that the trace is the command's alone. The launcher is the
/// trace's first process; its first successful `execve` started honk, its
/// second the command. A trace without that second `execve` (the command could
/// not be run) is left whole. Returns whether it was cut.
///
/// The launcher's calls are the first few lines; the rest is copied, not held
/// in memory, and the trace is replaced atomically.
pub fn drop_launcher(path: &Path) -> Result<bool, TraceError> {
    use std::io::{BufRead, Seek};
    let failed = |source| TraceError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut reader = io::BufReader::new(std::fs::File::open(path).map_err(failed)?);
    let (mut offset, mut execs, mut first_pid) = (0u64, 0, None::<String>);
    let mut line = String::new();
    let start = loop {
        line.clear();
        let read = reader.read_line(&mut line).map_err(failed)?;
        if read == 0 {
            return Ok(false);
        }
        let text = line.trim_end();
        let pid = text.split_whitespace().next().unwrap_or("");
        let first = first_pid.get_or_insert_with(|| pid.to_owned());
        if pid == first && text.contains(" execve(") && text.ends_with("= 0") {
            execs += 1;
            if execs == 2 {
                break offset;
            }
        }
        offset += read as u64;
    };
    reader.seek(io::SeekFrom::Start(start)).map_err(failed)?;
    crate::write::atomically_with(path, |out| io::copy(&mut reader, out).map(drop)).map_err(|e| failed(e.source))?;
    Ok(true)
}

/// bubblewrap's options: new namespaces (user, pid, IPC, UTS, cgroup if it
/// can, network unless `network`; bwrap always makes a new mount namespace),
/// the host read-only, scratch `/tmp`, a minimal `/dev`, a new `/proc`, and
/// `out` (where the trace goes) the only writable host directory.
fn sandbox_args(network: bool, out: &Path) -> Vec<OsString> {
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
    args.extend(["--bind".into(), out.as_os_str().to_owned(), out.as_os_str().to_owned()]);
    args
}

/// Run `command` in a gVisor sandbox (`runsc do`) with its system calls traced,
/// writing gVisor's strace log to `output`. No network unless `network`.
/// Returns the command's exit status.
pub fn gvisor(
    command: &[OsString],
    output: &Path,
    network: bool,
    stdout_to_stderr: bool,
) -> Result<ExitStatus, TraceError> {
    let logs = tempfile::Builder::new()
        .prefix("honk-runsc-")
        .tempdir()
        .map_err(|e| TraceError::Spawn("runsc", e))?;
    let mut debug_flag = OsString::from("--debug-log=");
    debug_flag.push(logs.path().as_os_str());
    debug_flag.push("/");
    let stdout = if stdout_to_stderr {
        Stdio::from(io::stderr())
    } else {
        Stdio::inherit()
    };
    let status = Command::new("runsc")
        .arg(if network { "--network=host" } else { "--network=none" })
        .args(["--strace", "--debug"])
        .arg(debug_flag)
        .arg("do")
        .args(command)
        .stdin(Stdio::inherit())
        .stdout(stdout)
        .status()
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => TraceError::NoRunsc,
            _ => TraceError::Spawn("runsc", e),
        })?;
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
            command: describe(command),
            status,
        });
    };
    std::fs::copy(&boot_log, output).map_err(|source| TraceError::Write {
        path: output.display().to_string(),
        source,
    })?;
    Ok(status)
}

fn describe(command: &[OsString]) -> String {
    command
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strace_present() -> bool {
        Command::new("strace")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    #[test]
    fn traces_a_real_command_with_honks_options() {
        if !strace_present() {
            eprintln!("skipping: strace is not installed");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t.strace");
        let status = match strace(
            &["cat".into(), "/etc/hostname".into()],
            &out,
            Isolation::None,
            &[],
            true,
        ) {
            Ok(status) => status,
            Err(TraceError::NotTraced { .. }) => {
                eprintln!("skipping: ptrace is not allowed here");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        assert!(status.success());
        let trace = std::fs::read_to_string(&out).unwrap();
        assert!(trace.contains("execve(\"/usr/bin/cat\""), "{trace}");
        assert!(
            trace.contains("</etc/hostname>"),
            "-yy shows the file behind the fd: {trace}"
        );
        assert!(crate::parse::detect(trace.lines()) == crate::parse::Format::Strace);
    }

    fn runsc_usable() -> bool {
        let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        });
        root && Command::new("runsc")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    #[test]
    fn gvisor_traces_and_throws_writes_away() {
        if !runsc_usable() {
            eprintln!("skipping: needs runsc (apt-get install runsc) and root");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t.log");
        let probe = dir.path().join("written-in-the-sandbox");
        let script = format!("cat /etc/hostname; echo x > {}", probe.display());
        match gvisor(&["/bin/sh".into(), "-c".into(), script.into()], &out, false, true) {
            Ok(status) => assert!(status.success(), "{status}"),
            Err(e) => panic!("{e}"),
        }
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
            eprintln!("skipping: needs runsc (apt-get install runsc) and root");
            return;
        }
        // A listener on the host's loopback: the sandbox must not reach it.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t.log");
        let script = format!("exec 3<>/dev/tcp/127.0.0.1/{port}");
        let status = gvisor(&["/bin/bash".into(), "-c".into(), script.into()], &out, false, true).unwrap();
        assert!(!status.success(), "the connection fails in the sandbox");
        assert!(listener.accept().is_err(), "nothing arrived on the host");
        let log = std::fs::read_to_string(&out).unwrap();
        assert!(log.contains("connect("), "the attempt is in the trace");
    }

    #[test]
    fn a_failing_command_is_still_a_trace() {
        if !strace_present() {
            eprintln!("skipping: strace is not installed");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t.strace");
        match strace(
            &["sh".into(), "-c".into(), "exit 3".into()],
            &out,
            Isolation::None,
            &[],
            false,
        ) {
            Ok(status) => assert_eq!(status.code(), Some(3)),
            Err(TraceError::NotTraced { .. }) => eprintln!("skipping: ptrace is not allowed here"),
            Err(e) => panic!("{e}"),
        }
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
        let command = ["/bin/bash".into(), "-c".into(), script.into()];
        let status = strace(&command, &out, Isolation::Sandbox { network }, &[], true).unwrap();
        (status, std::fs::read_to_string(&out).unwrap())
    }

    #[test]
    fn the_sandbox_traces_and_keeps_writes_in_its_scratch_space() {
        if !sandbox_usable() {
            eprintln!("skipping: needs strace and bubblewrap with user namespaces (apt-get install bubblewrap)");
            return;
        }
        // A host directory outside /tmp (which the sandbox replaces): the package's.
        let host = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).unwrap();
        let outside = host.path().join("written-outside");
        let scratch_name = format!("honk-scratch-{}", std::process::id());
        let script = format!(
            "cat /etc/hostname > /dev/null; echo x > /tmp/{scratch_name} && cat /tmp/{scratch_name} > /dev/null; \
             echo y > {}; exit 0",
            outside.display()
        );
        let (status, trace) = sandboxed(&script, false);
        assert!(status.success(), "{status}");
        assert_eq!(crate::parse::detect(trace.lines()), crate::parse::Format::Strace);
        assert!(
            trace.contains("</etc/hostname>"),
            "the command's calls are traced: {trace}"
        );
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
            eprintln!("skipping: needs strace and bubblewrap with user namespaces (apt-get install bubblewrap)");
            return;
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
}
