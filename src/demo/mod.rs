//! `honk demo`: a normal and a compromised run of the same small workload, ready to diff.
//!
//! With strace installed, both runs are traced live in a scratch directory (the
//! compromised one reads /etc/shadow, spawns `sh -c id`, connects to
//! 127.0.0.1:4444 and appends a key to the scratch directory's
//! `.ssh/authorized_keys`). Without strace, or with `--embedded`, the traces of
//! the same workload recorded when honk was built are used. This module only
//! produces the two traces; scoring them is the ordinary `diff`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workload, as a POSIX shell script taking the scratch directory as `$1`.
pub const WORKLOAD: &str = include_str!("workload.sh");
/// strace -f of the workload, recorded on a Debian 12 machine.
pub const EMBEDDED_BASELINE: &str = include_str!("baseline.strace");
/// strace -f of the workload with `HONK_DEMO=compromised`.
pub const EMBEDDED_TARGET: &str = include_str!("target.strace");

/// The two traces, and the directory holding them.
pub struct Traces {
    /// `baseline.strace`: the strace -f output of the normal run.
    pub baseline: PathBuf,
    /// `target.strace`: the strace -f output of the compromised run, in the same directory.
    pub target: PathBuf,
    /// Whether they were traced just now (else they are the built-in ones).
    pub live: bool,
    dir: Option<tempfile::TempDir>,
}

impl Traces {
    /// What to tell the user after the diff.
    pub fn epilogue(&self) -> String {
        let kept = match &self.dir {
            Some(_) => "they are deleted now".to_owned(),
            None => format!(
                "they are in {}",
                self.baseline.parent().unwrap_or(Path::new(".")).display()
            ),
        };
        let how = if self.live {
            "traced just now with strace"
        } else {
            "built into honk (install strace to trace them live)"
        };
        format!(
            "honk demo: the baseline is a normal run of a small build script, the target the same \
             script with an attacker's payload; both {how}; {kept}."
        )
    }
}

/// Make the demo traces: live with strace unless `embedded` or strace is missing.
/// With `keep`, the traces are written there and left behind.
pub fn prepare(embedded: bool, keep: Option<&Path>, log: &mut dyn Write) -> io::Result<Traces> {
    let (dir, path) = match keep {
        Some(path) => {
            std::fs::create_dir_all(path)?;
            // Absolute: the workload runs in a directory of its own, where a
            // relative path would name something else.
            (None, std::fs::canonicalize(path)?)
        }
        None => {
            let dir = tempfile::Builder::new().prefix("honk-demo-").tempdir()?;
            let path = dir.path().to_path_buf();
            (Some(dir), path)
        }
    };
    let baseline = path.join("baseline.strace");
    let target = path.join("target.strace");
    let mut traces = Traces {
        baseline,
        target,
        live: false,
        dir,
    };
    if !embedded {
        match trace_live(&path, &traces.baseline, &traces.target) {
            Ok(()) => {
                traces.live = true;
                return Ok(traces);
            }
            Err(why) => writeln!(log, "honk demo: using the built-in traces: {why}")?,
        }
    }
    std::fs::write(&traces.baseline, EMBEDDED_BASELINE)?;
    std::fs::write(&traces.target, EMBEDDED_TARGET)?;
    Ok(traces)
}

fn trace_live(dir: &Path, baseline: &Path, target: &Path) -> Result<(), String> {
    let work = dir.join("work");
    let script = dir.join("workload.sh");
    std::fs::write(&script, WORKLOAD).map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    for (output, mode) in [(baseline, "normal"), (target, "compromised")] {
        // Each run starts from the same empty directory, so that only what the
        // payload does differs, not what the first run left behind.
        if work.exists() {
            std::fs::remove_dir_all(&work).map_err(|e| format!("cannot clean {}: {e}", work.display()))?;
        }
        std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
        let status = Command::new("strace")
            .args(["-f", "-o"])
            .arg(output)
            .arg("sh")
            .arg(&script)
            .arg(&work)
            .env("HONK_DEMO", mode)
            .current_dir(&work)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        match status {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                // strace's own complaint, if it made one, says why.
                let stderr = String::from_utf8_lossy(&out.stderr);
                let why = stderr.lines().rfind(|l| l.starts_with("strace:")).unwrap_or("");
                return Err(format!("strace of the {mode} run exited with {}: {why}", out.status));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err("strace is not installed (apt-get install strace)".to_owned())
            }
            Err(e) => return Err(format!("cannot run strace: {e}")),
        }
    }
    Ok(())
}
