//! `honk trace`: run a command traced (see [`crate::trace`]), then keep the
//! trace, learn it into a model, or score it against one.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{learn, score, Error, Learn, Learned, ModelChoices, Report, Score, Scored, Ui};
use crate::parse::Format;
use crate::report::Sink;
use crate::trace::{Isolation, Limits, Request};

/// The hidden command of the `honk` binary that installs a seccomp profile and
/// becomes the traced command ([`super::seccomp_exec`]).
pub const SECCOMP_EXEC: &str = "__seccomp-exec";

/// What to run and what to do with its trace.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// The command and its arguments.
    pub command: Vec<OsString>,
    /// Where to write the trace; with [`Then::Learn`] or [`Then::Score`]
    /// `None` is a temporary file, deleted afterwards, that reports name
    /// `trace`; otherwise `None` is `trace.strace` (`trace.gvisor.log` in gVisor).
    pub output: Option<PathBuf>,
    /// What to do with the trace.
    pub then: Then,
    /// How the command is isolated.
    pub isolation: Isolation,
    /// Enforce this seccomp profile on the command.
    pub seccomp: Option<PathBuf>,
    /// The honk executable that installs the profile ([`SECCOMP_EXEC`]);
    /// `None` is the running executable.
    pub launcher: Option<PathBuf>,
    /// At most this many processes; `None` is the isolation's default
    /// ([`Limits::SANDBOX`] in a sandbox, else none), `Some(0)` none.
    pub max_procs: Option<u64>,
    /// At most this much memory, in bytes; as for `max_procs`.
    pub max_memory: Option<u64>,
    /// Kill the run after this long; as for `max_procs` (zero: none).
    pub timeout: Option<Duration>,
    /// Capture with eBPF ([`crate::capture`]) instead of strace: the trace is
    /// the capture's strace-style lines (`trace.ebpf.strace` by default).
    pub ebpf: bool,
    /// With `ebpf`: the ring buffer's size in bytes (`None`: [`crate::capture::RING_BYTES`]).
    pub ring_bytes: Option<u32>,
}

/// What `honk trace` does with the trace once the command has ended.
#[derive(Clone, Debug, Default)]
pub enum Then {
    /// Keep it (in [`Trace::output`]).
    #[default]
    Keep,
    /// Add it to this model (created if missing), as `honk learn` does; a run
    /// that failed is refused unless `failed_too`.
    Learn {
        /// The model.
        model: PathBuf,
        /// Learn a failed run too.
        failed_too: bool,
    },
    /// Score it against this model, as `honk score` does.
    Score {
        /// The model.
        model: PathBuf,
        /// What is reported.
        report: Report,
    },
}

/// How a traced run ended, and what came of its trace.
#[derive(Clone, Debug)]
pub enum TraceOutcome {
    /// The trace was kept; the command's exit status as a shell gives it
    /// (124 when killed at its time limit, as `timeout` does).
    Kept {
        /// The exit status.
        exit: u8,
    },
    /// The trace was learned.
    Learned(Learned),
    /// The trace was scored; `stopped` when a limit stopped the run, which is
    /// unusual in itself.
    Scored {
        /// What scoring found.
        scored: Scored,
        /// Whether a limit (time, processes, memory) stopped the run.
        stopped: bool,
    },
}

/// Traces `settings.command` and does what `settings.then` says with the
/// trace; anomalies of a scored trace go to `sink`.
pub fn trace(settings: &Trace, sink: &mut dyn Sink, ui: &dyn Ui) -> Result<TraceOutcome, Error> {
    // Where the command runs, before anything here changes directory.
    let run_context = crate::normalize::Roots::of_this_process();
    let chained = !matches!(settings.then, Then::Keep);
    let gvisor = matches!(settings.isolation, Isolation::Gvisor { .. });
    let scratch = if settings.output.is_none() && chained {
        Some(
            tempfile::Builder::new()
                .prefix("honk-trace-")
                .tempdir()
                .map_err(|e| Error::Trace(crate::trace::TraceError::Scratch(e)))?,
        )
    } else {
        None
    };
    let output = match (&settings.output, &scratch) {
        (Some(path), _) => path.clone(),
        (None, Some(dir)) => dir.path().join("trace"),
        (None, None) if gvisor => PathBuf::from("trace.gvisor.log"),
        (None, None) if settings.ebpf => PathBuf::from("trace.ebpf.strace"),
        (None, None) => PathBuf::from("trace.strace"),
    };
    // With a profile, strace runs honk's launcher, which installs the filter and
    // becomes the command; the launcher's own calls are cut from the trace.
    let profile = settings
        .seccomp
        .as_deref()
        .map(|p| {
            std::fs::canonicalize(p).map_err(|e| Error::Refused(format!("cannot read {}: {e}", crate::read::shown(p))))
        })
        .transpose()?;
    let launcher: Vec<OsString> = match &profile {
        Some(profile) => {
            let text = std::fs::read_to_string(profile)
                .map_err(|e| Error::Refused(format!("cannot read {}: {e}", crate::read::shown(profile))))?;
            crate::seccomp::read_profile(&text)?;
            let exe = match &settings.launcher {
                Some(exe) => exe.clone(),
                None => std::env::current_exe()
                    .map_err(|e| Error::Refused(format!("cannot find honk's own executable: {e}")))?,
            };
            vec![
                exe.into(),
                SECCOMP_EXEC.into(),
                "--profile".into(),
                profile.clone().into(),
                "--".into(),
            ]
        }
        None => Vec::new(),
    };
    // Sandboxes have limits by default; 0 lifts one.
    let defaults = match settings.isolation {
        Isolation::None => Limits::default(),
        _ => Limits::SANDBOX,
    };
    let limits = Limits {
        procs: settings.max_procs.or(defaults.procs).filter(|&n| n > 0),
        memory: settings.max_memory.or(defaults.memory).filter(|&n| n > 0),
        timeout: settings.timeout.or(defaults.timeout).filter(|t| !t.is_zero()),
    };
    let visible: Vec<&Path> = profile.iter().map(PathBuf::as_path).collect();
    // With a model, honk's report is what is on standard output, so the
    // command's goes to standard error; learning does the same, so that a run
    // learned and a run scored write to the same kind of descriptor and their
    // traces agree.
    let request = Request {
        command: &settings.command,
        launcher: &launcher,
        isolation: settings.isolation,
        visible: &visible,
        stdout_to_stderr: chained,
        limits,
    };
    if settings.ebpf {
        return captured(settings, &output, scratch, run_context, sink, ui);
    }
    let traced = crate::trace::trace(&request, &output)?;
    for what in &traced.unenforced {
        ui.warn(&format!("not enforced: {what}"));
    }
    let command: Vec<_> = settings.command.iter().map(|a| a.to_string_lossy()).collect();
    let command = crate::report::human::escape(&command.join(" ")).into_owned();
    let stopped = traced.timed_out || !traced.hit.is_empty();
    if stopped {
        ui.warn(&format!("`{command}` {}", traced.why()));
    }
    ui.note(&format!(
        "traced `{command}` ({}){}",
        traced.status,
        if scratch.is_some() {
            String::new()
        } else {
            format!(" into {}", crate::read::shown(&output))
        }
    ));
    // As timeout(1) does.
    let exit = if traced.timed_out { 124 } else { traced.exit_code() };
    if !chained {
        return Ok(TraceOutcome::Kept { exit });
    }
    if let Then::Learn { failed_too: false, .. } = settings.then {
        if traced.failed() {
            return Err(Error::Refused(format!(
                "not learning `{command}`: it {}; a baseline is made of runs that went well \
                 (--learn-failed learns it anyway)",
                traced.why()
            )));
        }
    }
    // Reports name a trace by its path as given: a temporary trace is read from
    // its own directory, so that they name it `trace`, not a path deleted
    // afterwards (`-o FILE` keeps it, under its name).
    let (then, _back) = into_scratch(&settings.then, scratch.as_ref())?;
    let trace = match &scratch {
        Some(_) => PathBuf::from("trace"),
        None => output,
    };
    let format = Some(if gvisor { Format::Gvisor } else { Format::Strace });
    // The run's places are known here for sure: the trace need not be read for them.
    crate::normalize::Roots::seed(run_context);
    match then {
        Then::Keep => Ok(TraceOutcome::Kept { exit }),
        Then::Learn { model, .. } => {
            let learned = learn(
                &Learn {
                    output: model,
                    inputs: vec![trace],
                    format,
                    model: ModelChoices::default(),
                },
                ui,
            )?;
            Ok(TraceOutcome::Learned(learned))
        }
        Then::Score { model, report } => {
            let scored = score(
                &Score {
                    model,
                    targets: vec![trace],
                    format,
                    report,
                },
                sink,
                ui,
            )?;
            Ok(TraceOutcome::Scored { scored, stopped })
        }
    }
}

/// `honk trace --ebpf`: captures the command with eBPF into `output`, then
/// does what `settings.then` says with it, as [`trace`] does with strace's.
fn captured(
    settings: &Trace,
    output: &Path,
    scratch: Option<tempfile::TempDir>,
    run_context: crate::normalize::Roots,
    sink: &mut dyn Sink,
    ui: &dyn Ui,
) -> Result<TraceOutcome, Error> {
    use crate::capture::{Options, Target};
    if !matches!(settings.isolation, Isolation::None) || settings.seccomp.is_some() {
        return Err(Error::Refused(
            "--ebpf watches the command as it runs on this machine: it cannot be combined with \
             --sandbox, --gvisor or --seccomp (use strace's `honk trace` for those)"
                .into(),
        ));
    }
    if settings.max_procs.is_some() || settings.max_memory.is_some() || settings.timeout.is_some() {
        return Err(Error::Refused(
            "--ebpf does not enforce limits: drop --max-procs, --max-memory and --timeout, \
             or use strace's `honk trace`"
                .into(),
        ));
    }
    let chained = !matches!(settings.then, Then::Keep);
    let options = Options {
        target: Target::Command(settings.command.clone()),
        ring_bytes: settings.ring_bytes.unwrap_or(crate::capture::RING_BYTES),
        stdout_to_stderr: chained,
    };
    let never = std::sync::atomic::AtomicBool::new(false);
    let mut recorded = None;
    let mut failure = None;
    let written = crate::write::atomically_with(output, |out| {
        let mut buffered = std::io::BufWriter::new(out);
        match crate::capture::record_command(&options, &mut buffered, &never) {
            Ok(r) => recorded = Some(r),
            Err(e) => {
                failure = Some(e);
                // Nothing is written: a file already there stays as it was.
                return Err(std::io::Error::other("no capture"));
            }
        }
        std::io::Write::flush(&mut buffered)
    });
    if let Some(e) = failure {
        return Err(Error::Refused(e.to_string()));
    }
    written.map_err(|e| {
        Error::Refused(format!(
            "cannot {} {}: {}",
            e.action,
            crate::read::shown(output),
            e.source
        ))
    })?;
    let recorded = recorded.ok_or_else(|| Error::Refused("the capture did not run".into()))?;
    let command: Vec<_> = settings.command.iter().map(|a| a.to_string_lossy()).collect();
    let command = crate::report::human::escape(&command.join(" ")).into_owned();
    if recorded.lost > 0 {
        ui.warn(&format!(
            "{} system-call records were lost (the ring buffer was full): the trace misses calls",
            recorded.lost
        ));
    }
    let status = recorded.status;
    let exit = status.map_or(1, crate::trace::exit_code);
    let failed = status.is_none_or(|s| !s.success());
    let how = match status {
        Some(s) => s.to_string(),
        None => "status unknown".into(),
    };
    ui.note(&format!(
        "captured `{command}` with eBPF ({how}, {} records, {} lost){}",
        recorded.records,
        recorded.lost,
        if scratch.is_some() {
            String::new()
        } else {
            format!(" into {}", crate::read::shown(output))
        }
    ));
    if !chained {
        return Ok(TraceOutcome::Kept { exit });
    }
    if let Then::Learn { failed_too: false, .. } = settings.then {
        if failed {
            return Err(Error::Refused(format!(
                "not learning `{command}`: it ended with {how}; a baseline is made of runs that went well \
                 (--learn-failed learns it anyway)"
            )));
        }
    }
    // As with strace: a temporary trace is read from its own directory.
    let (then, _back) = into_scratch(&settings.then, scratch.as_ref())?;
    let output = match scratch {
        Some(_) => PathBuf::from("trace"),
        None => output.to_path_buf(),
    };
    crate::normalize::Roots::seed(run_context);
    let format = Some(Format::Strace);
    match then {
        Then::Keep => Ok(TraceOutcome::Kept { exit }),
        Then::Learn { model, .. } => Ok(TraceOutcome::Learned(learn(
            &Learn {
                output: model,
                inputs: vec![output.clone()],
                format,
                model: ModelChoices::default(),
            },
            ui,
        )?)),
        Then::Score { model, report } => Ok(TraceOutcome::Scored {
            scored: score(
                &Score {
                    model,
                    targets: vec![output],
                    format,
                    report,
                },
                sink,
                ui,
            )?,
            stopped: false,
        }),
    }
}

/// For a temporary trace: `then` with its paths made absolute, and the
/// current directory moved to the trace's until the guard is dropped (so
/// that reports and the model name the trace `trace`, not a path deleted
/// afterwards). Without one, `then` as it is and no guard.
fn into_scratch(then: &Then, scratch: Option<&tempfile::TempDir>) -> Result<(Then, Option<CurrentDir>), Error> {
    let Some(dir) = scratch else {
        return Ok((then.clone(), None));
    };
    let absolute = |path: &Path| {
        std::path::absolute(path).map_err(|e| Error::Refused(format!("cannot find {}: {e}", crate::read::shown(path))))
    };
    let mut then = then.clone();
    match &mut then {
        Then::Keep => {}
        Then::Learn { model, .. } => *model = absolute(model)?,
        Then::Score { model, report } => {
            *model = absolute(model)?;
            if let Some(html) = &mut report.html {
                *html = absolute(html)?;
            }
        }
    }
    let here = std::env::current_dir().map_err(|e| Error::Refused(format!("no current directory: {e}")))?;
    std::env::set_current_dir(dir.path())
        .map_err(|e| Error::Refused(format!("cannot read the trace's directory: {e}")))?;
    Ok((then, Some(CurrentDir(here))))
}

/// Goes back to this directory when dropped.
struct CurrentDir(PathBuf);

impl Drop for CurrentDir {
    fn drop(&mut self) {
        let _ = std::env::set_current_dir(&self.0);
    }
}
