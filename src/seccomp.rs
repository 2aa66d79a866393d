//! `honk seccomp`: a seccomp allow-list of the system calls a baseline made.
//!
//! What it does:
//!
//! - [`profile`] turns the names in a model's syscall tally
//!   ([`Model::syscalls`](crate::model::Model::syscalls)) into a profile that allows exactly those calls and
//!   applies one default [`Action`] to every other call: return `EPERM`, log and allow (a "log, don't block"
//!   profile for a first rollout), or kill the process. The profile is written in Docker's profile schema
//!   (`docker run --security-opt seccomp=FILE`) or as the object that goes under `linux.seccomp` in an OCI
//!   runtime's `config.json` (runc, crun); see [`ProfileFormat`].
//! - With [`ProfileOptions::base`], it adds the few calls a container runtime makes after it has loaded the
//!   filter and the calls the dynamic loader and libc make before `main` ([`BASE_STARTUP`], [`BASE_RUNTIME`],
//!   [`BASE_RUNTIME_PRIVILEGED`]): a baseline traced from inside a running program lacks them.
//! - [`compile`] turns an allow list into a classic BPF program (with the `seccompiler` crate) and
//!   [`apply_to_self`] / [`pre_exec_hook`] install it on the calling thread, for a launcher that runs a program
//!   under the filter.
//!
//! What it does not do:
//!
//! - It does not look at arguments: an allowed call is allowed with any arguments (no `args` rules), and a
//!   blocked call always fails with `EPERM` (no per-call `errnoRet`).
//! - It does not know what the baseline did not do: a path the traced runs never took is blocked. Roll out
//!   with [`Action::Log`] first and read the kernel's audit log (`type=1326` / `SECCOMP` records).
//! - It emits no `includes`/`excludes` (capabilities, kernel versions) and no `flags`.
//! - It knows x86_64 only ([`Arch`]). aarch64 is not offered: honk's syscall table
//!   (`src/parse/syscall_table.rs`, generated from this machine's `asm/unistd_64.h` and `asm/unistd_32.h`) has
//!   no arm64 names, and nothing here could run an arm64 filter to test one.
//!
//! Names that are not system calls of the architecture (sysdig's `procexit`, `switch` or `container` events,
//! misspellings, calls of another architecture) are dropped and returned to the caller, never emitted.
//!
//! i386 names: the x86_64 profiles list the 32-bit x86 ABI as a sub-architecture (as Docker's own default
//! profile does), so a name that only i386 has (`socketcall`, `_llseek`, `mmap2`, ...) is kept: a 32-bit
//! program in the container makes it, and libseccomp resolves every name per architecture, adding it only where
//! it exists. [`compile`] builds a filter for the native ABI only and skips such names; the filter it builds
//! kills a process that makes a call through another ABI (`int 0x80`), whatever the action.
//!
//! Checked by hand on Debian 12 (x86_64) with Docker 20.10.24 (runc 1.1.5 under it): `/bin/true` in a container
//! runs under the Docker form with `--base default` (errno, with and without `--security-opt
//! no-new-privileges`; kill) and under a log profile without it; errno and kill profiles without the base set
//! cannot start it; Docker refuses a profile with both `architectures` and `archMap`, or a rule with both `name`
//! and `names`. runc 1.1.5 with the OCI form: the test `runc_runs_true_under_the_oci_profile` (skipped without
//! runc).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::io;
use std::sync::OnceLock;

use seccompiler::{BpfProgram, SeccompAction, SeccompFilter, TargetArch};

use crate::parse::syscall_table::{self, Arch as Numbering};

/// The largest system-call number looked up in the generated tables, plus one (x86_64 stops at 450 in the
/// 6.1 headers; x32's numbers, 512 and up with bit 30 set, are not in the tables).
const NUMBER_LIMIT: u32 = 1024;

/// `EPERM`, the errno a blocked call returns with [`Action::Errno`] (Docker's default profile uses the same
/// `defaultErrnoRet: 1`).
const EPERM: u32 = 1;

/// Which schema the profile is written in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ProfileFormat {
    /// Docker's seccomp profile: `defaultAction`, `defaultErrnoRet`, `archMap`, `syscalls`.
    #[default]
    Docker,
    /// The OCI runtime spec's `linux.seccomp` object: `defaultAction`, `defaultErrnoRet`, `architectures`,
    /// `syscalls`.
    Oci,
}

/// What happens to a call that is not on the allow list (the profile's default action).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Action {
    /// The call fails with `EPERM` (`SCMP_ACT_ERRNO`, `defaultErrnoRet: 1`).
    #[default]
    Errno,
    /// The call is logged by the kernel (an audit `SECCOMP` record, or a `type=1326` line in the kernel log
    /// without auditd; `kernel.seccomp.actions_logged` lists `log` by default) and allowed (`SCMP_ACT_LOG`): a
    /// profile that blocks nothing.
    Log,
    /// The whole process is killed, as if by `SIGSYS` (`SCMP_ACT_KILL_PROCESS`).
    Kill,
}

impl Action {
    /// libseccomp's name for the action, as the profiles spell it.
    pub fn scmp_name(self) -> &'static str {
        match self {
            Action::Errno => "SCMP_ACT_ERRNO",
            Action::Log => "SCMP_ACT_LOG",
            Action::Kill => "SCMP_ACT_KILL_PROCESS",
        }
    }

    /// The errno a blocked call returns: only [`Action::Errno`] has one.
    pub fn errno(self) -> Option<u32> {
        match self {
            Action::Errno => Some(EPERM),
            Action::Log | Action::Kill => None,
        }
    }

    fn seccompiler(self) -> SeccompAction {
        match self {
            Action::Errno => SeccompAction::Errno(EPERM),
            Action::Log => SeccompAction::Log,
            Action::Kill => SeccompAction::KillProcess,
        }
    }
}

/// The architecture a profile is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Arch {
    /// 64-bit x86, with the 32-bit x86 and x32 ABIs as sub-architectures.
    #[default]
    X86_64,
}

crate::choices!(ProfileFormat {
    ProfileFormat::Docker => "docker", "Docker's seccomp profile (docker run --security-opt seccomp=FILE)";
    ProfileFormat::Oci => "oci", "the OCI runtime spec's linux.seccomp object";
});

crate::choices!(Action {
    Action::Errno => "errno", "the call fails with EPERM";
    Action::Log => "log", "the call is allowed and logged by the kernel: log, don't block";
    Action::Kill => "kill", "the process is killed";
});

crate::choices!(Arch {
    Arch::X86_64 => "x86_64", "64-bit x86, with the x86 and x32 ABIs as sub-architectures";
});

impl Arch {
    /// The architecture of the machine honk runs on, if honk can build filters for it.
    pub fn host() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else {
            None
        }
    }

    /// libseccomp's name for the architecture.
    pub fn scmp_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "SCMP_ARCH_X86_64",
        }
    }

    /// The other ABIs a process of this architecture can call the kernel through, which the profiles cover
    /// too. For x86_64 these are Docker's own: its default profile maps `SCMP_ARCH_X86_64` to
    /// `["SCMP_ARCH_X86", "SCMP_ARCH_X32"]`.
    pub fn scmp_sub_architectures(self) -> &'static [&'static str] {
        match self {
            Arch::X86_64 => &["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        }
    }

    /// The generated table of the native ABI.
    fn native(self) -> Numbering {
        match self {
            Arch::X86_64 => Numbering::X86_64,
        }
    }

    /// The generated tables of the sub-architectures that have one (x32 has none; its calls have x86_64's
    /// names).
    fn others(self) -> &'static [Numbering] {
        match self {
            Arch::X86_64 => &[Numbering::I386],
        }
    }

    fn target(self) -> TargetArch {
        match self {
            Arch::X86_64 => TargetArch::x86_64,
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Arch::X86_64 => "x86_64",
        })
    }
}

/// How [`profile`] writes a profile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProfileOptions {
    /// The schema to write: Docker's profile or the OCI `linux.seccomp` object.
    pub format: ProfileFormat,
    /// The default action, for every call not on the list.
    pub action: Action,
    /// The architecture whose system calls are listed; names of others are dropped.
    pub arch: Arch,
    /// Also allow the runtime's and the loader's start-up calls ([`base_names`]); `--base default`.
    pub base: bool,
}

/// Why a profile or a filter could not be made or installed.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error(
        "no system call to allow: none of the {given} names given is a system call of {arch} (a model learned \
         from a system-call trace lists them; --base default adds a runtime's start-up calls)"
    )]
    /// No name is left to allow: none given is a system call of `arch` (for
    /// [`compile`], of its native ABI), and no base set was added.
    NothingToAllow {
        /// How many names were given (repeats and dropped names included).
        given: usize,
        /// The architecture the names were checked against.
        arch: Arch,
    },
    #[error("`{name}` is not a system call of {arch}")]
    /// A name passed to [`compile`] is not a system call of `arch`.
    UnknownSyscall {
        /// The name, as given.
        name: String,
        /// The architecture it was looked up in.
        arch: Arch,
    },
    #[error("cannot compile the seccomp filter")]
    /// `seccompiler` could not build the BPF program.
    Compile(#[source] seccompiler::BackendError),
    #[error("a seccomp filter for {filter} cannot be installed on this machine ({host})")]
    /// The filter is for another architecture than the machine honk runs on.
    WrongHost {
        /// The filter's architecture.
        filter: Arch,
        /// The host's architecture, as Rust names it (`std::env::consts::ARCH`).
        host: &'static str,
    },
    #[error("cannot install the seccomp filter")]
    /// Installing the filter on the calling thread failed (`prctl` or `seccomp(2)` refused it).
    Install(#[source] seccompiler::Error),
    #[error("not a seccomp profile honk can enforce: {reason}")]
    /// A profile given to [`read_profile`] is not JSON, not a profile, or asks
    /// for what honk cannot enforce (another rule action, argument conditions).
    BadProfile {
        /// What is wrong with it, as the message says.
        reason: String,
    },
}

/// The calls a dynamically linked program makes from `execve` to `main` and on a plain exit: the dynamic
/// loader mapping libc, libc's start-up (TLS, `set_tid_address`, robust futex list, `rseq`, the stack limit)
/// and `exit_group`.
///
/// How it was obtained: `strace -f -qq -o FILE /bin/true` on Debian 12 (glibc 2.36, kernel 6.18), both on the
/// host and inside runc 1.1.5 and crun 1.8.1 containers (a rootfs holding only `/bin/true`, libc and the
/// loader), taking every call from the `execve` on. The host run adds `munmap` (of `/etc/ld.so.cache`, which the
/// bare rootfs lacked). Another libc can differ: glibc before 2.33 uses `fstat` and `stat` where this one uses
/// `newfstatat`, a static binary skips the loader's calls, musl makes fewer.
pub const BASE_STARTUP: &[&str] = &[
    "access",
    "arch_prctl",
    "brk",
    "close",
    "execve",
    "exit_group",
    "mmap",
    "mprotect",
    "munmap",
    "newfstatat",
    "openat",
    "pread64",
    "prlimit64",
    "read",
    "rseq",
    "set_robust_list",
    "set_tid_address",
];

/// The calls an OCI runtime makes between loading the filter and `execve` when the process has
/// `noNewPrivileges` (Docker's `--security-opt no-new-privileges`, Kubernetes' `allowPrivilegeEscalation:
/// false`): then the filter is loaded as late as possible.
///
/// How it was obtained: `strace -f` of `runc run` (runc 1.1.5, libseccomp 2.5.4) and `crun run` (crun 1.8.1)
/// of `/bin/true` under a profile whose default action was `SCMP_ACT_LOG`, taking the calls of the thread that
/// loaded the filter (`prctl(PR_SET_SECCOMP)` / `seccomp(SECCOMP_SET_MODE_FILTER)`) up to its `execve`. runc
/// (Go) closes its sync pipes, opens and writes its exec FIFO through `/proc/self/fd`, lists `/proc/self/fd`
/// to close leaked descriptors, and its runtime needs `futex` and, when it preempts the thread with a signal,
/// `rt_sigreturn`; crun only closes descriptors. Added without a trace: `execveat`, which runc's
/// `standard_init_linux.go` uses instead of `execve` (`Fexecve`) when it starts the program through its
/// `runc-dmz` binary. runc does not document the set (runc issue #2097 asks for it, still open); other
/// versions can need more.
pub const BASE_RUNTIME: &[&str] = &[
    "close",
    "epoll_ctl",
    "execve",
    "execveat",
    "fstatfs",
    "futex",
    "getdents64",
    "getpid",
    "openat",
    "rt_sigreturn",
    "write",
];

/// What the runtime needs besides [`BASE_RUNTIME`] when the process may gain privileges (no
/// `noNewPrivileges`, Docker's default): loading a filter then needs `CAP_SYS_ADMIN`, so the runtime loads it
/// before it drops capabilities and switches to the container's user, and those calls pass through the filter.
///
/// How it was obtained: as [`BASE_RUNTIME`], with `noNewPrivileges: false`. runc 1.1.5: `fcntl` (marking
/// descriptors close-on-exec), `chdir`, `capget`, `capset` and `prctl` (bounding and ambient capability sets,
/// keep-caps), `read` and `fstat` (`/proc/self/status`, `/proc/self/setgroups`, the standard streams),
/// `setgroups`, `setgid`, `setuid`, `getcwd` (checking the working directory), `getppid` (checking its parent),
/// `newfstatat` and `faccessat2` (looking up the program). crun 1.8.1: `capset`, `prctl`, `setresgid`,
/// `setresuid`, `rt_sigaction` and `rt_sigprocmask` (resetting signals), `write`.
pub const BASE_RUNTIME_PRIVILEGED: &[&str] = &[
    "capget",
    "capset",
    "chdir",
    "faccessat2",
    "fcntl",
    "fstat",
    "getcwd",
    "getppid",
    "newfstatat",
    "prctl",
    "read",
    "rt_sigaction",
    "rt_sigprocmask",
    "setgid",
    "setgroups",
    "setresgid",
    "setresuid",
    "setuid",
    "write",
];

/// The `--base default` set: [`BASE_STARTUP`], [`BASE_RUNTIME`] and [`BASE_RUNTIME_PRIVILEGED`], sorted and
/// without repeats (41 names). It is what runc and crun need to start a program under an allow-list profile,
/// with or without `noNewPrivileges`; the program's own calls come from the baseline.
pub fn base_names() -> Vec<&'static str> {
    let all: BTreeSet<&'static str> = BASE_STARTUP
        .iter()
        .chain(BASE_RUNTIME)
        .chain(BASE_RUNTIME_PRIVILEGED)
        .copied()
        .collect();
    all.into_iter().collect()
}

/// An allow-list profile: the calls to allow, the default action for the rest, and how to write it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    format: ProfileFormat,
    action: Action,
    arch: Arch,
    /// Sorted, without repeats, never empty, every one a system call of `arch` (native or sub-architecture).
    names: Vec<String>,
}

/// The profile of `syscalls` (a model's syscall names) with `options`, and the names dropped because they are
/// not system calls of `options.arch` (sorted, without repeats). Fails if no name is left to allow.
pub fn profile<'a>(
    syscalls: impl IntoIterator<Item = &'a str>,
    options: &ProfileOptions,
) -> Result<(Profile, Vec<String>), SeccompError> {
    let arch = options.arch;
    let mut names = BTreeSet::new();
    let mut dropped = BTreeSet::new();
    let mut given = 0;
    for name in syscalls {
        given += 1;
        if is_syscall(arch, name) {
            names.insert(name.to_string());
        } else {
            dropped.insert(name.to_string());
        }
    }
    if options.base {
        names.extend(base_names().into_iter().map(str::to_string));
    }
    if names.is_empty() {
        return Err(SeccompError::NothingToAllow { given, arch });
    }
    let profile = Profile {
        format: options.format,
        action: options.action,
        arch,
        names: names.into_iter().collect(),
    };
    Ok((profile, dropped.into_iter().collect()))
}

impl Profile {
    /// The allowed calls, sorted, without repeats.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The schema it is written in.
    pub fn format(&self) -> ProfileFormat {
        self.format
    }

    /// The default action, for every call not on the list.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The architecture it is for (its sub-architectures are listed too).
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// The profile as pretty JSON (two-space indent, a trailing newline), keys in a fixed order.
    ///
    /// Docker: `defaultAction`, `defaultErrnoRet` (with [`Action::Errno`] only), `archMap` (one entry, the
    /// architecture and its sub-architectures), `syscalls` (one rule: `names` and `action`). OCI: the same with
    /// `architectures` (the architecture, then its sub-architectures) for `archMap`.
    ///
    /// Schema facts this relies on:
    /// - Docker (moby `profiles/seccomp`, `setupSeccomp`) rejects a profile that has both `architectures` and
    ///   `archMap`, and a rule that has both `name` and `names`; from `archMap` it keeps the entry of the
    ///   daemon's native architecture and adds its `subArchitectures`, which is what the OCI form lists
    ///   outright.
    /// - OCI runtime spec, `config-linux.md`: `defaultAction` is required; `defaultErrnoRet` is optional, is
    ///   `EPERM` when absent, and a runtime must fail when it is given with an action that takes no errno
    ///   (hence only with `SCMP_ACT_ERRNO`); `architectures` is optional; each rule's `names` is required and
    ///   must have at least one entry. `SCMP_ACT_LOG` and `SCMP_ACT_KILL_PROCESS` are in its list of actions.
    /// - runc skips a name libseccomp cannot resolve instead of failing (libcontainer/seccomp, `matchCall`),
    ///   and libseccomp adds a name only for the architectures that have it: an i386-only name is harmless.
    pub fn to_json(&self) -> String {
        let subs = self.arch.scmp_sub_architectures();
        let (arch_map, architectures) = match self.format {
            ProfileFormat::Docker => (
                Some(vec![ArchMapEntry {
                    architecture: self.arch.scmp_name(),
                    sub_architectures: subs,
                }]),
                None,
            ),
            ProfileFormat::Oci => (
                None,
                Some(
                    std::iter::once(self.arch.scmp_name())
                        .chain(subs.iter().copied())
                        .collect(),
                ),
            ),
        };
        let json = ProfileJson {
            default_action: self.action.scmp_name(),
            default_errno_ret: self.action.errno(),
            arch_map,
            architectures,
            syscalls: vec![RuleJson {
                names: &self.names,
                action: ALLOW,
            }],
        };
        // Serializing plain strings and numbers into memory cannot fail.
        let mut out = serde_json::to_string_pretty(&json).unwrap_or_default();
        out.push('\n');
        out
    }

    /// The profile as a BPF filter for [`apply_to_self`]; see [`compile`].
    pub fn compile(&self) -> Result<Filter, SeccompError> {
        compile(self.names.iter().map(String::as_str), self.action, self.arch)
    }
}

/// The action of the allow rule.
const ALLOW: &str = "SCMP_ACT_ALLOW";

/// A profile as [`Profile::to_json`] writes it, keys in this order: Docker's schema (with `arch_map`) or the
/// OCI runtime spec's `linux.seccomp` (with `architectures`), never both.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ProfileJson<'a> {
    default_action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_errno_ret: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arch_map: Option<Vec<ArchMapEntry>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    architectures: Option<Vec<&'static str>>,
    syscalls: Vec<RuleJson<'a>>,
}

/// An entry of Docker's `archMap`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ArchMapEntry {
    architecture: &'static str,
    sub_architectures: &'static [&'static str],
}

/// A rule of `syscalls`: these calls get this action.
#[derive(serde::Serialize)]
struct RuleJson<'a> {
    names: &'a [String],
    action: &'static str,
}

/// What [`read_profile`] reads of a profile: the default action and the rules. Other keys (`archMap`,
/// `architectures`, `comment`, a rule's `includes`, ...) are ignored; a missing key is reported by name.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileIn {
    default_action: Option<String>,
    syscalls: Option<Vec<RuleIn>>,
}

/// A rule as [`read_profile`] reads it.
#[derive(serde::Deserialize)]
struct RuleIn {
    action: Option<String>,
    names: Option<Vec<String>>,
    args: Option<Vec<serde_json::Value>>,
}

/// Name → number of one generated table, built once.
fn numbers(table: Numbering) -> &'static HashMap<&'static str, u32> {
    static X86_64: OnceLock<HashMap<&'static str, u32>> = OnceLock::new();
    static I386: OnceLock<HashMap<&'static str, u32>> = OnceLock::new();
    let cell = match table {
        Numbering::X86_64 => &X86_64,
        Numbering::I386 => &I386,
    };
    cell.get_or_init(|| {
        (0..NUMBER_LIMIT)
            .filter_map(|number| syscall_table::name(table, number).map(|name| (name, number)))
            .collect()
    })
}

/// The number of system call `name` in `arch`'s native ABI, e.g. `openat` is 257 on x86_64.
pub fn syscall_number(arch: Arch, name: &str) -> Option<u32> {
    numbers(arch.native()).get(name).copied()
}

/// Whether `name` is a system call of `arch`, natively or through a sub-architecture (i386-only names such as
/// `socketcall` count for x86_64). What [`profile`] keeps.
pub fn is_syscall(arch: Arch, name: &str) -> bool {
    syscall_number(arch, name).is_some() || arch.others().iter().any(|&table| numbers(table).contains_key(name))
}

/// A compiled seccomp filter, for [`apply_to_self`] or [`pre_exec_hook`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    arch: Arch,
    action: Action,
    program: BpfProgram,
}

impl Filter {
    /// The architecture it is for; it installs only on a host of that architecture.
    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// What it does to a call of the native ABI that is not allowed.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The classic BPF program, as `seccomp(2)` takes it.
    pub fn program(&self) -> &BpfProgram {
        &self.program
    }
}

/// The allow list and default action of a profile in Docker's or the OCI form (as [`Profile::to_json`]
/// writes them, or as written by hand): the names of every rule whose action is `SCMP_ACT_ALLOW`, and the
/// `defaultAction`. Rules with another action, or with argument conditions, are not enforceable by
/// [`compile`] and are refused rather than silently widened or dropped.
pub fn read_profile(json: &str) -> Result<(Vec<String>, Action), SeccompError> {
    let bad = |reason: String| SeccompError::BadProfile { reason };
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| bad(format!("not JSON ({e})")))?;
    if !value.is_object() {
        return Err(bad("not a JSON object with a \"defaultAction\"".into()));
    }
    let profile: ProfileIn = serde_json::from_value(value).map_err(|e| bad(format!("not a profile ({e})")))?;
    let default = profile
        .default_action
        .ok_or_else(|| bad("no \"defaultAction\"".into()))?;
    let action = match default.as_str() {
        "SCMP_ACT_ERRNO" => Action::Errno,
        "SCMP_ACT_LOG" => Action::Log,
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_PROCESS" | "SCMP_ACT_KILL_THREAD" => Action::Kill,
        other => return Err(bad(format!("the default action {other} is not ERRNO, LOG or KILL"))),
    };
    let rules = profile.syscalls.ok_or_else(|| bad("no \"syscalls\" list".into()))?;
    let mut names = BTreeSet::new();
    for (i, rule) in rules.into_iter().enumerate() {
        let action = rule.action.unwrap_or_default();
        if action != ALLOW {
            return Err(bad(format!(
                "rule {i} has the action {action:?}; only SCMP_ACT_ALLOW rules are enforced"
            )));
        }
        if rule.args.is_some_and(|args| !args.is_empty()) {
            return Err(bad(format!(
                "rule {i} has argument conditions, which honk does not enforce"
            )));
        }
        let rule_names = rule
            .names
            .ok_or_else(|| bad(format!("rule {i} has no \"names\" list")))?;
        names.extend(rule_names);
    }
    Ok((names.into_iter().collect(), action))
}

/// A filter that allows the calls `names` and applies `action` to every other call of `arch`'s native ABI.
///
/// Built with the `seccompiler` crate: the program first checks the ABI and kills the process on a call
/// through another one (the 32-bit `int 0x80` ABI on x86_64), whatever `action` is; so names only a
/// sub-architecture has are skipped. x32 calls (the native ABI with bit 30 set in the number) match no allowed
/// number and get `action`. Fails on a name that is not a system call of `arch` (pass a [`Profile`]'s names, or
/// see [`is_syscall`]) and when no name is left.
pub fn compile<'a>(
    names: impl IntoIterator<Item = &'a str>,
    action: Action,
    arch: Arch,
) -> Result<Filter, SeccompError> {
    let mut rules = BTreeMap::new();
    let mut given = 0;
    for name in names {
        given += 1;
        match syscall_number(arch, name) {
            Some(number) => {
                rules.insert(i64::from(number), Vec::new());
            }
            None if is_syscall(arch, name) => {}
            None => {
                return Err(SeccompError::UnknownSyscall {
                    name: name.to_string(),
                    arch,
                })
            }
        }
    }
    if rules.is_empty() {
        return Err(SeccompError::NothingToAllow { given, arch });
    }
    let filter = SeccompFilter::new(rules, action.seccompiler(), SeccompAction::Allow, arch.target())
        .map_err(SeccompError::Compile)?;
    let program = BpfProgram::try_from(filter).map_err(SeccompError::Compile)?;
    Ok(Filter { arch, action, program })
}

/// Install `filter` on the calling thread: set `no_new_privs` (so no privilege is needed, and a set-user-ID
/// program run later cannot gain any) and load the program. Irreversible for the thread; inherited by the
/// threads and processes it starts and kept across `execve`. Other threads of the process are not filtered.
///
/// It makes two system calls and allocates nothing, so it may run between `fork` and `execve`. Every call after
/// it goes through the filter, so call it last: with [`std::process::Command`], use [`pre_exec_hook`] rather
/// than calling this before `spawn` or `exec` (std resets the signal mask and `SIGPIPE`, `rt_sigprocmask` and
/// `rt_sigaction`, before it runs `pre_exec` hooks and `execve`).
pub fn apply_to_self(filter: &Filter) -> Result<(), SeccompError> {
    if Arch::host() != Some(filter.arch) {
        return Err(SeccompError::WrongHost {
            filter: filter.arch,
            host: std::env::consts::ARCH,
        });
    }
    seccompiler::apply_filter(&filter.program).map_err(SeccompError::Install)
}

/// A [`std::os::unix::process::CommandExt::pre_exec`] hook that installs `filter` in the child, right before
/// its `execve`: `unsafe { command.pre_exec(pre_exec_hook(filter)) }`. The filter must allow `execve` (every
/// profile with `--base default` does). Errors become [`io::Error`]s without allocating: the `errno` of a failed
/// `prctl` or `seccomp`, or [`io::ErrorKind::InvalidInput`] for a filter of another architecture.
pub fn pre_exec_hook(filter: Filter) -> impl FnMut() -> io::Result<()> + Send + Sync + 'static {
    move || match apply_to_self(&filter) {
        Ok(()) => Ok(()),
        Err(SeccompError::Install(seccompiler::Error::Prctl(error) | seccompiler::Error::Seccomp(error))) => Err(error),
        Err(_) => Err(io::ErrorKind::InvalidInput.into()),
    }
}

#[cfg(test)]
#[allow(unsafe_code)] // getpid, gettid, uname and pre_exec, to see a filter act on real calls.
mod tests {
    use super::*;

    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};

    use proptest::prelude::*;
    use serde_json::Value;

    const ALL_FORMATS: [ProfileFormat; 2] = [ProfileFormat::Docker, ProfileFormat::Oci];

    #[test]
    fn profiles_read_back_as_written() {
        for format in ALL_FORMATS {
            for action in [Action::Errno, Action::Log, Action::Kill] {
                let options = ProfileOptions {
                    format,
                    action,
                    arch: Arch::X86_64,
                    base: false,
                };
                let (profile, _) = profile(["read", "write", "openat", "procexit"], &options).unwrap();
                let (names, read_action) = read_profile(&profile.to_json()).unwrap();
                assert_eq!(names, vec!["openat", "read", "write"]);
                assert_eq!(read_action, action);
            }
        }
        for (json, why) in [
            ("[]", "defaultAction"),
            (r#"{"defaultAction":"SCMP_ACT_TRAP","syscalls":[]}"#, "SCMP_ACT_TRAP"),
            (r#"{"defaultAction":"SCMP_ACT_ERRNO"}"#, "syscalls"),
            (
                r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO"}]}"#,
                "only SCMP_ACT_ALLOW",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"read","action":"SCMP_ACT_ALLOW"}]}"#,
                "names",
            ),
            (
                r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
                "argument",
            ),
            ("not json", "not JSON"),
            (
                r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read",1],"action":"SCMP_ACT_ALLOW"}]}"#,
                "expected a string",
            ),
            (r#"{"defaultAction":2,"syscalls":[]}"#, "not a profile"),
        ] {
            let err = read_profile(json).unwrap_err().to_string();
            assert!(err.contains(why), "{json}: {err}");
        }
    }
    const ALL_ACTIONS: [Action; 3] = [Action::Errno, Action::Log, Action::Kill];

    /// The names of the golden files: a few real calls, repeats, an i386-only call, sysdig events and junk.
    const GOLDEN_INPUT: &[&str] = &[
        "write",
        "read",
        "openat",
        "read",
        "close",
        "exit_group",
        "procexit",
        "socketcall",
        "switch",
        "container",
        "OPENAT",
        "not_a_syscall",
        "",
    ];

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seccomp")
    }

    fn format_name(format: ProfileFormat) -> &'static str {
        match format {
            ProfileFormat::Docker => "docker",
            ProfileFormat::Oci => "oci",
        }
    }

    fn action_name(action: Action) -> &'static str {
        match action {
            Action::Errno => "errno",
            Action::Log => "log",
            Action::Kill => "kill",
        }
    }

    /// Compare `actual` with the golden file `name`; `HONK_BLESS=1` rewrites it instead.
    fn golden(name: &str, actual: &str) {
        let path = fixtures().join(name);
        if std::env::var_os("HONK_BLESS").is_some() {
            std::fs::create_dir_all(fixtures()).unwrap();
            std::fs::write(&path, actual).unwrap();
            return;
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with HONK_BLESS=1 to write it)", path.display()));
        assert_eq!(
            actual,
            expected,
            "{} differs (HONK_BLESS=1 rewrites it)",
            path.display()
        );
    }

    /// Every rule of the issue checked on the parsed JSON; `allowed` is what the profile must allow.
    fn check_rules(json: &str, options: &ProfileOptions, allowed: &BTreeSet<String>) {
        assert!(json.ends_with("}\n"), "no trailing newline");
        let value: Value = serde_json::from_str(json).unwrap();
        let top = value.as_object().expect("the profile is a JSON object");
        let arch = options.arch;

        // Never both `architectures` and `archMap`; the one of the format.
        assert!(!(top.contains_key("architectures") && top.contains_key("archMap")));
        let mut arches = vec![arch.scmp_name()];
        arches.extend(arch.scmp_sub_architectures());
        match options.format {
            ProfileFormat::Docker => {
                let map = top["archMap"].as_array().unwrap();
                assert_eq!(map.len(), 1);
                let entry = map[0].as_object().unwrap();
                assert_eq!(entry.len(), 2);
                assert_eq!(entry["architecture"], arch.scmp_name());
                let subs: Vec<&str> = entry["subArchitectures"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect();
                assert_eq!(subs, arch.scmp_sub_architectures());
            }
            ProfileFormat::Oci => {
                let listed: Vec<&str> = top["architectures"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect();
                assert_eq!(listed, arches);
            }
        }

        // `defaultErrnoRet` iff the action is errno.
        assert_eq!(top["defaultAction"], options.action.scmp_name());
        match options.action {
            Action::Errno => assert_eq!(top["defaultErrnoRet"], 1),
            Action::Log | Action::Kill => assert!(!top.contains_key("defaultErrnoRet")),
        }
        let expected_keys: BTreeSet<&str> = [
            "defaultAction",
            "defaultErrnoRet",
            "archMap",
            "architectures",
            "syscalls",
        ]
        .into_iter()
        .filter(|k| match *k {
            "defaultErrnoRet" => options.action == Action::Errno,
            "archMap" => options.format == ProfileFormat::Docker,
            "architectures" => options.format == ProfileFormat::Oci,
            _ => true,
        })
        .collect();
        assert_eq!(top.keys().map(String::as_str).collect::<BTreeSet<_>>(), expected_keys);

        // Every rule: `names` (sorted, unique, non-empty, all syscalls) and `action`, never `name`.
        let rules = top["syscalls"].as_array().unwrap();
        assert_eq!(rules.len(), 1);
        let mut emitted = BTreeSet::new();
        for rule in rules {
            let rule = rule.as_object().unwrap();
            assert!(!rule.contains_key("name"), "a rule with `name`");
            assert_eq!(
                rule.keys().map(String::as_str).collect::<BTreeSet<_>>(),
                BTreeSet::from(["action", "names"])
            );
            assert_eq!(rule["action"], "SCMP_ACT_ALLOW");
            let names: Vec<&str> = rule["names"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect();
            assert!(!names.is_empty());
            assert!(
                names.windows(2).all(|w| w[0] < w[1]),
                "names not sorted and unique: {names:?}"
            );
            for name in &names {
                assert!(!name.is_empty());
                assert!(is_syscall(arch, name), "{name} is not a system call of {arch}");
            }
            emitted.extend(names.iter().map(|n| n.to_string()));
        }
        assert_eq!(&emitted, allowed);
    }

    #[test]
    fn golden_profiles_in_both_formats_and_all_actions() {
        for format in ALL_FORMATS {
            for action in ALL_ACTIONS {
                let options = ProfileOptions {
                    format,
                    action,
                    ..ProfileOptions::default()
                };
                let (profile, dropped) = profile(GOLDEN_INPUT.iter().copied(), &options).unwrap();
                assert_eq!(
                    dropped,
                    ["", "OPENAT", "container", "not_a_syscall", "procexit", "switch"]
                );
                assert_eq!(
                    profile.names(),
                    ["close", "exit_group", "openat", "read", "socketcall", "write"]
                );
                let json = profile.to_json();
                golden(&format!("{}-{}.json", format_name(format), action_name(action)), &json);
                let allowed = profile.names().iter().cloned().collect();
                check_rules(&json, &options, &allowed);
            }
        }
    }

    #[test]
    fn golden_profile_with_the_base_set() {
        let options = ProfileOptions {
            base: true,
            ..ProfileOptions::default()
        };
        let (profile, dropped) = profile(["getrandom", "uname", "procexit"], &options).unwrap();
        assert_eq!(dropped, ["procexit"]);
        let json = profile.to_json();
        golden("docker-errno-base.json", &json);
        let mut allowed: BTreeSet<String> = base_names().into_iter().map(str::to_string).collect();
        allowed.extend(["getrandom".to_string(), "uname".to_string()]);
        check_rules(&json, &options, &allowed);
    }

    #[test]
    fn base_set_is_small_sorted_and_all_x86_64_syscalls() {
        let base = base_names();
        assert_eq!(base.len(), 41);
        assert!(base.windows(2).all(|w| w[0] < w[1]));
        for name in &base {
            assert!(syscall_number(Arch::X86_64, name).is_some(), "{name}");
        }
        for list in [BASE_STARTUP, BASE_RUNTIME, BASE_RUNTIME_PRIVILEGED] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?} is not sorted");
        }
        assert!(base.contains(&"execve") && base.contains(&"exit_group"));
    }

    #[test]
    fn nothing_to_allow_is_an_error() {
        let options = ProfileOptions::default();
        let err = profile(["procexit", "switch"], &options).unwrap_err();
        assert!(matches!(err, SeccompError::NothingToAllow { given: 2, .. }), "{err}");
        assert!(profile([], &options).is_err());
        // The base set alone is a profile.
        let (only_base, _) = profile([], &ProfileOptions { base: true, ..options }).unwrap();
        assert_eq!(only_base.names().len(), 41);
    }

    #[test]
    fn reverse_lookup_matches_the_generated_table() {
        assert_eq!(syscall_number(Arch::X86_64, "read"), Some(0));
        assert_eq!(syscall_number(Arch::X86_64, "openat"), Some(257));
        assert_eq!(syscall_number(Arch::X86_64, "socketcall"), None);
        assert!(is_syscall(Arch::X86_64, "socketcall"));
        assert!(is_syscall(Arch::X86_64, "_llseek"));
        assert!(!is_syscall(Arch::X86_64, "procexit"));
        assert!(!is_syscall(Arch::X86_64, ""));
        for number in 0..NUMBER_LIMIT {
            if let Some(name) = syscall_table::name(Numbering::X86_64, number) {
                assert_eq!(syscall_number(Arch::X86_64, name), Some(number));
            }
        }
        // The tables end well below the lookup limit.
        assert!(syscall_table::name(Numbering::X86_64, NUMBER_LIMIT - 1).is_none());
        assert!(syscall_table::name(Numbering::I386, NUMBER_LIMIT - 1).is_none());
    }

    fn known_names() -> Vec<&'static str> {
        let mut names: BTreeSet<&'static str> = numbers(Numbering::X86_64).keys().copied().collect();
        names.extend(numbers(Numbering::I386).keys().copied());
        names.into_iter().collect()
    }

    fn options_strategy() -> impl Strategy<Value = ProfileOptions> {
        (
            prop::sample::select(ALL_FORMATS.to_vec()),
            prop::sample::select(ALL_ACTIONS.to_vec()),
            any::<bool>(),
        )
            .prop_map(|(format, action, base)| ProfileOptions {
                format,
                action,
                arch: Arch::X86_64,
                base,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Random real names plus junk (random strings, sysdig events, near misses): the junk is always dropped
        /// and reported, never emitted; the JSON keeps every schema rule.
        #[test]
        fn junk_is_dropped_and_profiles_keep_the_rules(
            real in prop::sample::subsequence(known_names(), 0..40),
            junk in prop::collection::vec(
                prop_oneof![
                    "\\PC{0,16}",
                    "[a-z_0-9]{1,12}",
                    prop::sample::select(vec!["procexit", "switch", "container", "signaldeliver", "OPEN", " read",
                        "read ", "openat\n", "\"", "\\", "read\u{0}"]).prop_map(str::to_string),
                ],
                0..12,
            ),
            options in options_strategy(),
        ) {
            let known: BTreeSet<&str> = known_names().into_iter().collect();
            let mut input: Vec<String> = real.iter().map(|s| s.to_string()).collect();
            input.extend(junk.iter().cloned());
            // Repeat a few, in another order.
            input.extend(real.iter().rev().take(3).map(|s| s.to_string()));

            let expected_dropped: BTreeSet<String> =
                junk.iter().filter(|j| !known.contains(j.as_str())).cloned().collect();
            let mut allowed: BTreeSet<String> = input.iter().filter(|n| known.contains(n.as_str())).cloned().collect();
            if options.base {
                allowed.extend(base_names().into_iter().map(str::to_string));
            }

            match profile(input.iter().map(String::as_str), &options) {
                Ok((profile, dropped)) => {
                    prop_assert_eq!(dropped.iter().cloned().collect::<BTreeSet<_>>(), expected_dropped.clone());
                    prop_assert!(dropped.windows(2).all(|w| w[0] < w[1]));
                    for junk in &expected_dropped {
                        prop_assert!(!profile.names().contains(junk));
                    }
                    check_rules(&profile.to_json(), &options, &allowed);
                    // Deterministic.
                    prop_assert_eq!(profile.to_json(), profile.to_json());
                }
                Err(SeccompError::NothingToAllow { given, .. }) => {
                    prop_assert!(allowed.is_empty());
                    prop_assert_eq!(given, input.len());
                }
                Err(other) => prop_assert!(false, "unexpected error {}", other),
            }
        }
    }

    #[test]
    fn compile_checks_names_and_skips_i386_only_ones() {
        let err = compile(["read", "procexit"], Action::Errno, Arch::X86_64).unwrap_err();
        assert!(
            matches!(&err, SeccompError::UnknownSyscall { name, .. } if name == "procexit"),
            "{err}"
        );
        assert!(matches!(
            compile(["socketcall"], Action::Errno, Arch::X86_64),
            Err(SeccompError::NothingToAllow { given: 1, .. })
        ));
        let with_i386 = compile(["read", "socketcall"], Action::Errno, Arch::X86_64).unwrap();
        let without = compile(["read"], Action::Errno, Arch::X86_64).unwrap();
        assert_eq!(with_i386.program(), without.program());
        for action in ALL_ACTIONS {
            let filter = compile(base_names(), action, Arch::X86_64).unwrap();
            assert_eq!(filter.action(), action);
            assert!(!filter.program().is_empty());
        }
    }

    fn errno() -> i32 {
        io::Error::last_os_error().raw_os_error().unwrap_or(0)
    }

    /// A thread installs a filter allowing every x86_64 call but `getpid` and `uname`: those two fail with
    /// EPERM, the rest works, and the other threads are not filtered.
    #[test]
    fn errno_filter_blocks_only_what_is_left_out_on_the_calling_thread() {
        let allowed: Vec<&str> = numbers(Numbering::X86_64)
            .keys()
            .copied()
            .filter(|name| !matches!(*name, "getpid" | "uname"))
            .collect();
        let filter = compile(allowed, Action::Errno, Arch::X86_64).unwrap();
        let outcome = std::thread::spawn(move || {
            apply_to_self(&filter).unwrap();
            // SAFETY: getpid takes no arguments.
            let pid = unsafe { libc::syscall(libc::SYS_getpid) };
            let pid_errno = errno();
            let mut uts = std::mem::MaybeUninit::<libc::utsname>::uninit();
            // SAFETY: uname writes one utsname into the buffer.
            let uname = unsafe { libc::uname(uts.as_mut_ptr()) };
            let uname_errno = errno();
            // SAFETY: gettid takes no arguments.
            let tid = unsafe { libc::syscall(libc::SYS_gettid) };
            let status = std::fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
            (pid, pid_errno, uname, uname_errno, tid, status)
        })
        .join()
        .unwrap();
        let (pid, pid_errno, uname, uname_errno, tid, status) = outcome;
        assert_eq!((pid, pid_errno), (-1, libc::EPERM));
        assert_eq!((uname, uname_errno), (-1, libc::EPERM));
        assert!(tid > 0);
        assert!(
            status.contains("Seccomp:\t2"),
            "the thread is not in filter mode:\n{status}"
        );
        assert!(status.contains("NoNewPrivs:\t1"));
        // This thread has no filter.
        assert_eq!(std::process::id() as i64, unsafe { libc::syscall(libc::SYS_getpid) });
    }

    fn run_under(filter: Filter, program: &str) -> std::process::Output {
        let mut command = Command::new(program);
        command.stdin(Stdio::null());
        // SAFETY: the hook only calls prctl and seccomp.
        unsafe { command.pre_exec(pre_exec_hook(filter)) };
        command.output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
    }

    /// `true` starts and exits under a filter of the start-up calls only, whatever the action.
    #[test]
    fn true_runs_under_the_startup_set() {
        for action in ALL_ACTIONS {
            let filter = compile(BASE_STARTUP.iter().copied(), action, Arch::X86_64).unwrap();
            let output = run_under(filter, "/bin/true");
            assert!(output.status.success(), "{action:?}: {:?}", output.status);
        }
    }

    /// Without `mprotect` the loader cannot finish: killed under kill, failing under errno, fine under log.
    #[test]
    fn leaving_out_a_startup_call_blocks_true() {
        let without: Vec<&str> = BASE_STARTUP.iter().copied().filter(|n| *n != "mprotect").collect();
        let killed = run_under(
            compile(without.clone(), Action::Kill, Arch::X86_64).unwrap(),
            "/bin/true",
        );
        assert_eq!(killed.status.signal(), Some(libc::SIGSYS), "{:?}", killed.status);
        let refused = run_under(
            compile(without.clone(), Action::Errno, Arch::X86_64).unwrap(),
            "/bin/true",
        );
        assert!(
            !refused.status.success() && refused.status.signal().is_none(),
            "{:?}",
            refused.status
        );
        let logged = run_under(compile(without, Action::Log, Arch::X86_64).unwrap(), "/bin/true");
        assert!(logged.status.success(), "{:?}", logged.status);
        // Nothing but `execve`: log still runs it.
        let logged = run_under(compile(["execve"], Action::Log, Arch::X86_64).unwrap(), "/bin/true");
        assert!(logged.status.success(), "{:?}", logged.status);
        // Without `execve`, errno makes the spawn fail with EPERM (std's child reports it with `write`).
        let err = Command::new("/bin/true")
            .pre_exec_with(compile(["write", "exit_group"], Action::Errno, Arch::X86_64).unwrap())
            .status()
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
    }

    trait PreExecWith {
        fn pre_exec_with(&mut self, filter: Filter) -> &mut Self;
    }

    impl PreExecWith for Command {
        fn pre_exec_with(&mut self, filter: Filter) -> &mut Self {
            // SAFETY: the hook only calls prctl and seccomp.
            unsafe { self.pre_exec(pre_exec_hook(filter)) }
        }
    }

    /// strace's system-call names in a `strace -f -qq -o FILE` trace.
    fn strace_names(trace: &str) -> BTreeSet<String> {
        trace
            .lines()
            .filter_map(|line| {
                let call = line.split_once(' ')?.1.trim_start();
                let call = call.strip_prefix("<... ").unwrap_or(call);
                let end = call.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
                (end > 0).then(|| call[..end].to_string())
            })
            .collect()
    }

    fn strace_of(program: &[&str]) -> Option<BTreeSet<String>> {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("trace");
        let status = Command::new("strace")
            .args(["-f", "-qq", "-o"])
            .arg(&out)
            .args(program)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        match status {
            Ok(status) if status.success() => Some(strace_names(&std::fs::read_to_string(&out).unwrap())),
            Ok(status) => panic!("strace {program:?} failed: {status}"),
            Err(e) => {
                crate::testing::skip(&format!("strace is not installed ({e})"));
                None
            }
        }
    }

    /// The best real test: trace a program, make its profile, run it again under the profile's filter.
    #[test]
    fn programs_run_under_filters_made_from_their_own_traces() {
        for program in [&["/bin/true"][..], &["/bin/uname", "-a"], &["/bin/ls", "/"]] {
            let Some(names) = strace_of(program) else { return };
            let (profile, dropped) = profile(
                names.iter().map(String::as_str),
                &ProfileOptions {
                    action: Action::Kill,
                    ..ProfileOptions::default()
                },
            )
            .unwrap();
            assert!(dropped.is_empty(), "{dropped:?}");
            // The same standard streams as under strace.
            let status = Command::new(program[0])
                .args(&program[1..])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .pre_exec_with(profile.compile().unwrap())
                .status()
                .unwrap();
            assert!(status.success(), "{program:?}: {status:?}");
        }
        // uname without `uname`: it says why and fails, nothing else breaks.
        let Some(names) = strace_of(&["/bin/uname", "-a"]) else {
            return;
        };
        let allowed = names.iter().map(String::as_str).filter(|n| *n != "uname");
        let output = Command::new("/bin/uname")
            .arg("-a")
            .pre_exec_with(compile(allowed, Action::Errno, Arch::X86_64).unwrap())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("Operation not permitted"), "{stderr}");
    }

    /// runc runs `/bin/true` under the OCI profile of `/bin/true`'s trace plus the base set, with and without
    /// `noNewPrivileges`; without the base set it cannot start it. Skipped (saying so) without runc or root.
    #[test]
    fn runc_runs_true_under_the_oci_profile() {
        let runc_ok = Command::new("runc")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        // SAFETY: geteuid has no preconditions.
        if !runc_ok || unsafe { libc::geteuid() } != 0 {
            crate::testing::skip("needs runc and root");
            return;
        }
        let Some(names) = strace_of(&["/bin/true"]) else { return };
        let bundle = tempfile::tempdir().unwrap();
        let rootfs = bundle.path().join("rootfs");
        for file in [
            "/bin/true",
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/lib64/ld-linux-x86-64.so.2",
        ] {
            let to = rootfs.join(file.trim_start_matches('/'));
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            if std::fs::copy(file, &to).is_err() {
                crate::testing::skip(&format!("no {file} to copy into the container"));
                return;
            }
        }
        for dir in ["proc", "dev", "sys", "tmp"] {
            std::fs::create_dir_all(rootfs.join(dir)).unwrap();
        }
        let spec = Command::new("runc")
            .arg("spec")
            .current_dir(bundle.path())
            .status()
            .unwrap();
        assert!(spec.success());
        let config_path = bundle.path().join("config.json");
        let config: Value = serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();

        let run = |base: bool, no_new_privileges: bool, id: &str| {
            let options = ProfileOptions {
                format: ProfileFormat::Oci,
                base,
                ..ProfileOptions::default()
            };
            let (profile, _) = profile(names.iter().map(String::as_str), &options).unwrap();
            let mut config = config.clone();
            config["process"]["terminal"] = Value::Bool(false);
            config["process"]["args"] = serde_json::json!(["/bin/true"]);
            config["process"]["noNewPrivileges"] = Value::Bool(no_new_privileges);
            config["linux"]["seccomp"] = serde_json::from_str(&profile.to_json()).unwrap();
            std::fs::write(&config_path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
            let id = format!("honk-seccomp-{}-{id}", std::process::id());
            let output = Command::new("timeout")
                .args(["60", "runc", "run", "--bundle"])
                .arg(bundle.path())
                .arg(&id)
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let _ = Command::new("runc").args(["delete", "--force", &id]).output();
            output
        };
        for no_new_privileges in [true, false] {
            let output = run(true, no_new_privileges, &format!("base-{no_new_privileges}"));
            assert!(
                output.status.success(),
                "noNewPrivileges {no_new_privileges}: {:?}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            );
            let output = run(false, no_new_privileges, &format!("nobase-{no_new_privileges}"));
            assert!(!output.status.success(), "started without the base set");
        }
    }
}
