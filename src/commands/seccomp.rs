//! `honk seccomp`: a model's system calls as an allow-list profile; and the
//! launcher `honk trace --seccomp` runs, which installs a profile's filter and
//! becomes the command.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::{refuse_overwriting, write_file, Error};
use crate::model::Model;
use crate::seccomp::{self, Action, ProfileOptions};

/// Make a profile of a model's system calls.
#[derive(Clone, Debug)]
pub struct SeccompProfile {
    /// The model whose system calls are allowed.
    pub model: PathBuf,
    /// Write the profile here (atomically); `None` returns it only.
    pub output: Option<PathBuf>,
    /// The schema, default action, architecture and base set.
    pub options: ProfileOptions,
}

/// The profile made.
#[derive(Clone, Debug)]
pub struct Profiled {
    /// The profile, as JSON.
    pub json: String,
    /// How many system calls it allows.
    pub allowed: usize,
    /// The model's names left out because they are no system call of the architecture.
    pub dropped: Vec<String>,
    /// What every other call gets.
    pub action: Action,
}

/// Makes the profile, and writes it to `settings.output` if given.
pub fn seccomp_profile(settings: &SeccompProfile) -> Result<Profiled, Error> {
    refuse_overwriting(settings.output.as_deref(), "profile", &[&settings.model], &[])?;
    let model = Model::load(&settings.model)?;
    if model.syscalls.is_empty() && !settings.options.base {
        return Err(Error::Refused(format!(
            "{} has no system calls: it was learned from logs that are not system-call traces \
             (strace, sysdig, gVisor, audit)",
            crate::read::shown(&settings.model)
        )));
    }
    let (profile, dropped) = seccomp::profile(model.syscalls.keys().map(String::as_str), &settings.options)?;
    let json = profile.to_json();
    if let Some(path) = &settings.output {
        write_file(path, json.as_bytes(), "profile")?;
    }
    Ok(Profiled {
        json,
        allowed: profile.names().len(),
        dropped: dropped.into_iter().map(|d| d.to_string()).collect(),
        action: settings.options.action,
    })
}

/// Installs the filter of `profile` (a file from `honk seccomp`, Docker or OCI
/// form) and becomes `command`. Returns only if that failed.
#[allow(unsafe_code)] // pre_exec, with a hook that is safe between fork and exec.
pub fn seccomp_exec(profile: &Path, command: &[OsString]) -> Error {
    use std::os::unix::process::CommandExt;
    let failed = |reason: String| Error::Refused(reason);
    let text = match std::fs::read_to_string(profile) {
        Ok(text) => text,
        Err(e) => return failed(format!("cannot read {}: {e}", crate::read::shown(profile))),
    };
    let (names, action) = match seccomp::read_profile(&text) {
        Ok(read) => read,
        Err(e) => return failed(format!("{}: {e}", crate::read::shown(profile))),
    };
    let Some(arch) = seccomp::Arch::host() else {
        return failed("seccomp filters are made for x86_64 only".into());
    };
    let known: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| seccomp::is_syscall(arch, n))
        .collect();
    let filter = match seccomp::compile(known, action, arch) {
        Ok(filter) => filter,
        Err(e) => return e.into(),
    };
    let Some((program, args)) = command.split_first() else {
        return failed("no command to run".into());
    };
    let mut cmd = std::process::Command::new(program);
    cmd.args(args);
    // SAFETY: the hook only makes the prctl and seccomp system calls and
    // allocates nothing, as is required between fork and exec.
    unsafe {
        cmd.pre_exec(seccomp::pre_exec_hook(filter));
    }
    let error = cmd.exec();
    failed(format!(
        "cannot run {} under {}: {error}{}",
        program.to_string_lossy(),
        crate::read::shown(profile),
        if error.raw_os_error() == Some(1) {
            " (the profile does not allow execve: make it with --base default)"
        } else {
            ""
        }
    ))
}
