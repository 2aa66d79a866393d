//! `honk trace`: run a command under strace and keep the trace.
//!
//! The trace is written with the options honk reads best: `-f` (follow every
//! child process and thread), `-yy` (show the file, socket or pipe behind each
//! file descriptor, so a `read` says what it reads), `-s 256` (enough of each
//! string for paths and arguments), `-ttt` (timestamps, for reports) and `-q`
//! (no attach/detach chatter; process exits are kept). Use the same mode for a
//! baseline and for the runs scored against it: a trace made without `-yy`
//! says less about each call, and would look different.
//!
//! Isolation: none. strace runs the command as you, with your files, network
//! and privileges; it only watches. Trace untrusted programs inside a sandbox
//! (a throwaway VM or container, or gVisor with `--gvisor` once supported).
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
    #[error("cannot run strace")]
    Spawn(#[source] io::Error),
    #[error(
        "strace could not trace `{command}` (exit status {status}); ptrace may be forbidden here \
         (containers often drop CAP_SYS_PTRACE, or kernel.yama.ptrace_scope is 3)"
    )]
    NotTraced { command: String, status: ExitStatus },
}

/// Run `command` under strace, writing the trace to `output`. Returns the
/// command's own exit status (strace passes it through). With
/// `stdout_to_stderr`, the command's standard output goes to standard error, so
/// that honk's own output (scores) is all that is on standard output.
pub fn strace(command: &[OsString], output: &Path, stdout_to_stderr: bool) -> Result<ExitStatus, TraceError> {
    let stdout = if stdout_to_stderr {
        Stdio::from(io::stderr())
    } else {
        Stdio::inherit()
    };
    let status = Command::new("strace")
        .args(STRACE_OPTIONS)
        .arg("-o")
        .arg(output)
        .arg("--")
        .args(command)
        .stdin(Stdio::inherit())
        .stdout(stdout)
        .status()
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => TraceError::NoStrace,
            _ => TraceError::Spawn(e),
        })?;
    // strace exits with the command's status, so a failing command is not a
    // failed trace; an empty trace file is.
    let traced = std::fs::metadata(output).map(|m| m.len() > 0).unwrap_or(false);
    if !traced {
        return Err(TraceError::NotTraced {
            command: command
                .iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            status,
        });
    }
    Ok(status)
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
        let status = match strace(&["cat".into(), "/etc/hostname".into()], &out, true) {
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

    #[test]
    fn a_failing_command_is_still_a_trace() {
        if !strace_present() {
            eprintln!("skipping: strace is not installed");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("t.strace");
        match strace(&["sh".into(), "-c".into(), "exit 3".into()], &out, false) {
            Ok(status) => assert_eq!(status.code(), Some(3)),
            Err(TraceError::NotTraced { .. }) => eprintln!("skipping: ptrace is not allowed here"),
            Err(e) => panic!("{e}"),
        }
    }
}
