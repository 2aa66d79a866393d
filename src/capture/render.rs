//! Captured records → the lines strace prints for the same calls.
//!
//! honk reads a capture as it reads `strace -f -Y -yy -ttt` output (the
//! options `honk trace` uses, plus `-Y`'s command name after the thread id),
//! so the strace parser and normalizer make the keys, and a call captured
//! with eBPF has the key the same call traced with strace has, as far as this
//! module prints what strace prints. What it prints, for the calls [`CALLS`]
//! lists: each argument as strace shows it (flags and constants by name,
//! paths and argv as strings, socket addresses with `htons`/`inet_addr`,
//! clone's and clone3's flags, file descriptors with their `-yy` decoration:
//! the file, or the socket's kind; `AT_FDCWD`), and the result (`-1 ERRNO`,
//! a decorated new descriptor, or `?` for a call that never returns). Calls it
//! does not list show their arguments as hexadecimal numbers, which the
//! normalizer drops: their key is their name and result. Ends of processes
//! (`+++ exited with N +++`, `+++ killed by SIG +++`) and delivered signals
//! (`--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---`) are printed too.
//! Each call's line ends with its process and parent process, which strace
//! does not print, in a comment (`/* pid 12 ppid 7 */`) that keys leave out.
//!
//! Since a call is written when it ends, what it wrote back is read too, for
//! the calls strace decodes and everyday programs make: `stat` and `statx`
//! buffers, the old signal mask and action, `wait4`'s status, the pair of
//! descriptors of `pipe` and `socketpair`, `uname`'s system name, the strings
//! of `readlink` and `getcwd`, `poll`'s returned events, socket options,
//! the addresses `accept`, `getsockname` and `recvfrom` write; and
//! `AT_FDCWD` carries the current directory, as `strace -yy` shows it. Data
//! buffers (`read`, `write`, `sendto`, `recvfrom`) show their first 32 bytes
//! (strace's default; `honk trace` asks strace for 256, of which keys keep
//! the first three words). What it cannot print: anything strace decodes
//! from arguments this module does not list (`sendmsg`'s message, `ioctl`'s
//! structs), poll arrays past their eighth entry (fourth for `ppoll`).
//! Strings are cut at 255 bytes, argv at 16 strings.
//!
//! A file descriptor's decoration comes from what opened it (followed per
//! process, through `dup`s, `close` and `fork`; the path resolved as `/proc`
//! would name it, in honk's own mount namespace), else from `/proc/PID/fd/N`
//! when the process is still there. An internet socket's addresses come
//! from the process's `/proc/PID/net` tables once it is connected, bound or
//! accepted, while it is still there; a connection gone by then (most on
//! loopback last a millisecond) shows its peer and, as its local end, the
//! address this machine sends from to reach it, with a `?` port until
//! `getsockname` says it.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use super::record::{Enter, Event, Header};
use crate::parse::syscall_table::{self, Arch};

/// How an argument is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A file descriptor, with its decoration.
    Fd,
    /// A directory descriptor (`AT_FDCWD` or a descriptor).
    DirFd,
    /// A path (a string the call reads).
    Path,
    /// Another string the call reads.
    Str,
    /// `execve`'s argv.
    Argv,
    /// `execve`'s environment: its address and a comment.
    Envp,
    /// A signed number.
    Int,
    /// An address or size in hexadecimal (`NULL` for 0).
    Ptr,
    /// A data buffer (not read: shown as its address).
    Buf,
    /// A file mode in octal.
    Mode,
    /// open(2) flags.
    OpenFlags,
    /// `AT_*` flags.
    AtFlags,
    /// access(2) mode.
    Access,
    /// mmap/mprotect protection.
    Prot,
    /// mmap flags.
    MapFlags,
    /// clone(2) flags (with the exit signal).
    CloneFlags,
    /// clone3's `struct clone_args`.
    CloneArgs,
    /// A signal number.
    Signal,
    /// A socket's address family.
    Family,
    /// A socket's type and flags.
    SockType,
    /// A socket's protocol.
    Protocol,
    /// A `struct sockaddr *`; the argument after it is its length.
    Sockaddr,
    /// openat2's `struct open_how`.
    OpenHow,
    /// ptrace's request.
    PtraceRequest,
    /// mount(2) flags.
    MountFlags,
    /// memfd_create's flags.
    MfdFlags,
    /// A file offset whence.
    Whence,
    /// Flags shown as a hexadecimal number.
    Hex,
    /// rt_sigprocmask's how.
    SigHow,
    /// A resource limit's name.
    Rlimit,
    /// fcntl's command.
    FcntlCmd,
    /// futex's operation.
    FutexOp,
    /// arch_prctl's code.
    ArchCode,
    /// getrandom's flags.
    RandomFlags,
    /// madvise's advice.
    Advice,
    /// A `struct stat` the call fills (its type, mode and size or device).
    StatBuf,
    /// statx's flags (`AT_STATX_SYNC_AS_STAT` and `AT_*`).
    StatxFlags,
    /// statx's mask (`STATX_*`).
    StatxMask,
    /// The `struct statx` the call fills.
    StatxBuf,
    /// A signal set the call reads (`[CHLD]`, `~[RTMIN RT_1]`).
    SigSet,
    /// ioctl's request (the common ones by name).
    IoctlReq,
    /// A string the call writes, read after it (`getcwd`'s; `readlink`'s,
    /// as long as the result says).
    OutStr,
    /// A `struct sigaction` the call reads.
    SigAction,
    /// wait4's options.
    WaitOptions,
    /// The status wait4 writes.
    WaitStatus,
    /// The two descriptors pipe(2) and socketpair(2) write.
    FdPair,
    /// The `struct utsname` uname(2) writes (its first field read as a string).
    Utsname,
    /// epoll_create1's flags.
    EpollFlags,
    /// fadvise64's advice.
    FileAdvice,
    /// poll's and ppoll's `struct pollfd` array (the first entries), and
    /// what the call wrote back into it (`revents`, shown in the result).
    Pollfds,
    /// A `struct timespec` the call reads (ppoll's timeout; what is left of
    /// it, written back, is shown in the result).
    Timespec,
    /// A socket option's level (`SOL_SOCKET`, `SOL_TCP`).
    SockLevel,
    /// A socket option's name, by its level (`SO_KEEPALIVE`, `TCP_NODELAY`).
    SockOpt,
    /// An int a call reads or writes through a pointer (a socket option's
    /// value, its length): `[1]`.
    IntPtr,
    /// A `struct sockaddr *` the call writes (accept's peer, getsockname's
    /// address); the argument after it is a pointer to its length.
    OutSockaddr,
    /// The pointer to an [`OutSockaddr`]'s length: `[16]`.
    SockLenPtr,
    /// send/recv flags (`MSG_NOSIGNAL`).
    MsgFlags,
}

use Arg::*;

impl Arg {
    /// How many bytes of what the argument points to the BPF program reads,
    /// when it is a struct: openat2's `open_how`, clone3's `clone_args`, a
    /// `stat` up to st_size (or st_rdev), a `statx` up to stx_size, a
    /// 64-signal set, the kernel's struct sigaction (handler, flags,
    /// restorer, mask), a wait status, two descriptors, eight `pollfd`s (four
    /// when the call reads a second struct), a timespec, an int; and the
    /// first 32 bytes of a data buffer (strace's default `-s`), which keys
    /// keep a few words of.
    fn struct_size(self) -> Option<u8> {
        Some(match self {
            Pollfds => 64,
            Buf => 32,
            Timespec => 16,
            IntPtr => 4,
            OpenHow => 24,
            CloneArgs => 40,
            StatBuf => 56,
            StatxBuf => 48,
            SigSet | FdPair => 8,
            SigAction => 32,
            WaitStatus => 4,
            _ => return None,
        })
    }
}

/// The calls whose arguments are shown, by name, with their arguments' kinds.
pub const CALLS: &[(&str, &[Arg])] = &[
    ("read", &[Fd, Buf, Int]),
    ("write", &[Fd, Buf, Int]),
    ("pread64", &[Fd, Buf, Int, Int]),
    ("pwrite64", &[Fd, Buf, Int, Int]),
    ("readv", &[Fd, Ptr, Int]),
    ("writev", &[Fd, Ptr, Int]),
    ("close", &[Fd]),
    ("fstat", &[Fd, StatBuf]),
    ("lseek", &[Fd, Int, Whence]),
    ("ioctl", &[Fd, IoctlReq, Ptr]),
    ("fsync", &[Fd]),
    ("fdatasync", &[Fd]),
    ("ftruncate", &[Fd, Int]),
    ("getdents64", &[Fd, Ptr, Int]),
    ("fchdir", &[Fd]),
    ("fchmod", &[Fd, Mode]),
    ("fchown", &[Fd, Int, Int]),
    ("flock", &[Fd, Hex]),
    ("dup", &[Fd]),
    ("dup2", &[Fd, Fd]),
    ("dup3", &[Fd, Fd, OpenFlags]),
    ("sendfile", &[Fd, Fd, Ptr, Int]),
    ("open", &[Path, OpenFlags, Mode]),
    ("creat", &[Path, Mode]),
    ("openat", &[DirFd, Path, OpenFlags, Mode]),
    ("openat2", &[DirFd, Path, OpenHow, Int]),
    ("stat", &[Path, StatBuf]),
    ("lstat", &[Path, StatBuf]),
    ("newfstatat", &[DirFd, Path, StatBuf, AtFlags]),
    ("statx", &[DirFd, Path, StatxFlags, StatxMask, StatxBuf]),
    ("statfs", &[Path, Ptr]),
    ("fstatfs", &[Fd, Ptr]),
    ("getxattr", &[Path, Str, Ptr, Int]),
    ("lgetxattr", &[Path, Str, Ptr, Int]),
    ("fgetxattr", &[Fd, Str, Ptr, Int]),
    ("setxattr", &[Path, Str, Ptr, Int, Hex]),
    ("lsetxattr", &[Path, Str, Ptr, Int, Hex]),
    ("fsetxattr", &[Fd, Str, Ptr, Int, Hex]),
    ("listxattr", &[Path, Ptr, Int]),
    ("llistxattr", &[Path, Ptr, Int]),
    ("flistxattr", &[Fd, Ptr, Int]),
    ("removexattr", &[Path, Str]),
    ("lremovexattr", &[Path, Str]),
    ("fremovexattr", &[Fd, Str]),
    ("access", &[Path, Access]),
    ("faccessat", &[DirFd, Path, Access]),
    ("faccessat2", &[DirFd, Path, Access, AtFlags]),
    ("readlink", &[Path, OutStr, Int]),
    ("readlinkat", &[DirFd, Path, OutStr, Int]),
    ("chdir", &[Path]),
    ("chroot", &[Path]),
    ("truncate", &[Path, Int]),
    ("unlink", &[Path]),
    ("unlinkat", &[DirFd, Path, AtFlags]),
    ("rename", &[Path, Path]),
    ("renameat", &[DirFd, Path, DirFd, Path]),
    ("renameat2", &[DirFd, Path, DirFd, Path, Hex]),
    ("mkdir", &[Path, Mode]),
    ("mkdirat", &[DirFd, Path, Mode]),
    ("rmdir", &[Path]),
    ("link", &[Path, Path]),
    ("linkat", &[DirFd, Path, DirFd, Path, AtFlags]),
    ("symlink", &[Path, Path]),
    ("symlinkat", &[Path, DirFd, Path]),
    ("chmod", &[Path, Mode]),
    ("fchmodat", &[DirFd, Path, Mode]),
    ("chown", &[Path, Int, Int]),
    ("lchown", &[Path, Int, Int]),
    ("fchownat", &[DirFd, Path, Int, Int, AtFlags]),
    ("execve", &[Path, Argv, Envp]),
    ("execveat", &[DirFd, Path, Argv, Envp, AtFlags]),
    ("clone", &[CloneFlags, Ptr, Ptr, Ptr, Ptr]),
    ("clone3", &[CloneArgs, Int]),
    ("fork", &[]),
    ("vfork", &[]),
    ("exit", &[Int]),
    ("exit_group", &[Int]),
    ("wait4", &[Int, WaitStatus, WaitOptions, Ptr]),
    ("kill", &[Int, Signal]),
    ("tkill", &[Int, Signal]),
    ("tgkill", &[Int, Int, Signal]),
    ("setuid", &[Int]),
    ("setgid", &[Int]),
    ("setreuid", &[Int, Int]),
    ("setregid", &[Int, Int]),
    ("setresuid", &[Int, Int, Int]),
    ("setresgid", &[Int, Int, Int]),
    ("setfsuid", &[Int]),
    ("setfsgid", &[Int]),
    ("setgroups", &[Int, Ptr]),
    ("ptrace", &[PtraceRequest, Int, Ptr, Ptr]),
    ("mmap", &[Ptr, Int, Prot, MapFlags, Fd, Hex]),
    ("mprotect", &[Ptr, Int, Prot]),
    ("munmap", &[Ptr, Int]),
    ("brk", &[Ptr]),
    ("socket", &[Family, SockType, Protocol]),
    ("connect", &[Fd, Sockaddr, Int]),
    ("bind", &[Fd, Sockaddr, Int]),
    ("listen", &[Fd, Int]),
    ("accept", &[Fd, OutSockaddr, SockLenPtr]),
    ("accept4", &[Fd, OutSockaddr, SockLenPtr, SockType]),
    ("sendto", &[Fd, Buf, Int, MsgFlags, Sockaddr, Int]),
    ("recvfrom", &[Fd, Buf, Int, MsgFlags, OutSockaddr, SockLenPtr]),
    ("sendmsg", &[Fd, Ptr, MsgFlags]),
    ("recvmsg", &[Fd, Ptr, MsgFlags]),
    ("sendmmsg", &[Fd, Ptr, Int, MsgFlags]),
    ("recvmmsg", &[Fd, Ptr, Int, MsgFlags, Ptr]),
    ("setsockopt", &[Fd, SockLevel, SockOpt, IntPtr, Int]),
    ("getsockopt", &[Fd, SockLevel, SockOpt, IntPtr, IntPtr]),
    ("poll", &[Pollfds, Int, Int]),
    ("ppoll", &[Pollfds, Int, Timespec, Ptr, Int]),
    ("shutdown", &[Fd, Int]),
    ("mount", &[Path, Path, Str, MountFlags, Ptr]),
    ("umount2", &[Path, Hex]),
    ("init_module", &[Ptr, Int, Str]),
    ("finit_module", &[Fd, Str, Hex]),
    ("delete_module", &[Str, Hex]),
    ("memfd_create", &[Str, MfdFlags]),
    ("pipe2", &[FdPair, OpenFlags]),
    ("rt_sigaction", &[Signal, SigAction, SigAction, Int]),
    ("rt_sigprocmask", &[SigHow, SigSet, SigSet, Int]),
    ("prlimit64", &[Int, Rlimit, Ptr, Ptr]),
    ("getrlimit", &[Rlimit, Ptr]),
    ("setrlimit", &[Rlimit, Ptr]),
    ("fcntl", &[Fd, FcntlCmd, Hex]),
    ("futex", &[Ptr, FutexOp, Int, Ptr]),
    ("arch_prctl", &[ArchCode, Ptr]),
    ("getrandom", &[Buf, Int, RandomFlags]),
    ("madvise", &[Ptr, Int, Advice]),
    ("fadvise64", &[Fd, Int, Int, FileAdvice]),
    ("set_tid_address", &[Ptr]),
    ("set_robust_list", &[Ptr, Int]),
    ("getcwd", &[OutStr, Int]),
    ("uname", &[Utsname]),
    ("sysinfo", &[Ptr]),
    ("getdents", &[Fd, Ptr, Int]),
    ("pipe", &[FdPair]),
    ("socketpair", &[Family, SockType, Protocol, FdPair]),
    ("getsockname", &[Fd, OutSockaddr, SockLenPtr]),
    ("getpeername", &[Fd, OutSockaddr, SockLenPtr]),
    ("epoll_create1", &[EpollFlags]),
    ("eventfd2", &[Int, OpenFlags]),
    ("getpid", &[]),
    ("getppid", &[]),
    ("gettid", &[]),
    ("getuid", &[]),
    ("geteuid", &[]),
    ("getgid", &[]),
    ("getegid", &[]),
];

/// The arguments of call `name`, when it is listed.
pub fn call(name: &str) -> Option<&'static [Arg]> {
    CALLS.iter().find(|(n, _)| *n == name).map(|(_, args)| *args)
}

/// What the BPF program reads for a call, as its `struct spec` (8 bytes):
/// string arguments (a bit each, from 0), the argv argument, the socket
/// address argument and its length's, the small struct argument (each counted
/// from 1; 0: none) and the struct's size; `None` when it reads nothing
/// beyond the registers. The entries honk does not fill are zeroes, which
/// must mean "nothing to read", hence the arguments counted from 1.
pub fn spec(name: &str) -> Option<[u8; 8]> {
    let args = call(name)?;
    let mut s = [0u8; 8];
    for (i, arg) in (1u8..).zip(args.iter()) {
        match arg {
            Path | Str | OutStr | Utsname => s[0] |= 1 << (i - 1),
            Argv => s[1] = i,
            Sockaddr => {
                s[2] = i;
                s[3] = i + 1;
            }
            // The length is read through its pointer, after the call: a
            // negative argument number says so.
            OutSockaddr => {
                s[2] = i;
                s[3] = (-((i + 1) as i8)) as u8;
            }
            // A struct: the first goes to the first slot, a second (the old
            // signal mask or action) to the second.
            _ => {
                if let Some(size) = arg.struct_size() {
                    if s[4] == 0 {
                        s[4] = i;
                        s[5] = size;
                    } else {
                        s[6] = i;
                        s[7] = size.min(32);
                    }
                }
            }
        }
    }
    // The second struct is read into the second half of the first's space.
    if s[6] != 0 {
        s[5] = s[5].min(32);
    }
    (s != [0u8; 8]).then_some(s)
}

/// The call numbers whose records carry more than registers, with their specs.
pub fn specs() -> Vec<(u32, [u8; 8])> {
    (0..1024u32)
        .filter_map(|n| {
            let name = syscall_table::name(Arch::X86_64, n)?;
            Some((n, spec(name)?))
        })
        .collect()
}

/// The name of call `id` (`syscall_0x1c4` when unknown, as strace says).
fn name_of(id: i64) -> String {
    u32::try_from(id)
        .ok()
        .and_then(|n| syscall_table::name(Arch::X86_64, n))
        .map_or_else(|| format!("syscall_{id:#x}"), str::to_string)
}

/// A line, ready for the strace parser, and who it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The process.
    pub pid: u32,
    /// Its parent (0: not known).
    pub ppid: u32,
    /// The strace-style text, without a newline.
    pub text: String,
}

/// Turns records into strace lines: pairs each call's start with its end,
/// follows file descriptors, and knows how processes ended.
#[derive(Debug, Default)]
pub struct Renderer {
    /// `CLOCK_REALTIME - CLOCK_MONOTONIC`, in nanoseconds.
    wall_offset: i128,
    /// Calls started and not yet ended, by thread.
    pending: HashMap<u32, Enter>,
    /// Decorations of descriptors, by process and descriptor.
    fds: HashMap<(u32, i64), String>,
    /// Current directories, by process.
    cwds: HashMap<u32, String>,
    /// `exit_group`'s status, by process.
    exit_status: HashMap<u32, i64>,
    /// The last fatal-looking signal delivered, by process.
    last_signal: HashMap<u32, i32>,
    /// Processes whose calls are dropped until their first `execve`: the
    /// command honk starts, between its fork and its exec (strace's trace
    /// starts at the `execve`).
    before_exec: Option<u32>,
    /// Whether to look descriptors up in `/proc`.
    proc_lookup: bool,
    /// Paths opened, resolved (at most [`CANONICAL_CACHE`]).
    canonical: HashMap<String, String>,
    /// The peer a socket was connected to, by process and descriptor, while
    /// its decoration does not show it yet (see [`Renderer::socket_addresses`]).
    peers: HashMap<(u32, i64), String>,
    /// The processes seen: a process's first record, or the `clone` that made
    /// it, gives it its parent's descriptors and directory (see
    /// [`Renderer::inherit`]).
    known: HashSet<u32>,
    /// Where this machine sends from to reach an address (at most [`ROUTE_SOURCES`]).
    sources: HashMap<std::net::IpAddr, Option<std::net::IpAddr>>,
}

/// Most route sources remembered.
const ROUTE_SOURCES: usize = 1024;

/// Most resolved paths remembered.
const CANONICAL_CACHE: usize = 8192;

impl Renderer {
    /// A renderer whose times are `monotonic + wall_offset` nanoseconds.
    pub fn new(wall_offset: i128, proc_lookup: bool) -> Self {
        Renderer {
            wall_offset,
            proc_lookup,
            ..Renderer::default()
        }
    }

    /// Drop the calls of process `pid` until its first `execve`.
    pub fn skip_until_exec(&mut self, pid: u32) {
        self.before_exec = Some(pid);
    }

    /// Process `pid` runs in directory `dir` (the command honk started).
    pub fn set_cwd(&mut self, pid: u32, dir: String) {
        self.cwds.insert(pid, dir);
    }

    /// A process's first record, when the `clone` that made it has not been
    /// read yet (a child often runs before its parent's `clone` returns): it
    /// starts with its parent's descriptors and directory as the parent's
    /// records so far left them.
    fn first_seen(&mut self, pid: u32, ppid: u32) {
        if ppid != 0 && self.known.contains(&ppid) {
            self.inherit(pid, ppid);
        } else {
            self.known.insert(pid);
        }
    }

    /// Child `child` of `parent` gets the parent's descriptors and directory,
    /// where it has none of its own yet (its own records may have come
    /// first), and is known from now on.
    fn inherit(&mut self, child: u32, parent: u32) {
        self.known.insert(child);
        let inherited: Vec<(i64, String)> = self
            .fds
            .iter()
            .filter(|((p, _), _)| *p == parent)
            .map(|((_, fd), d)| (*fd, d.clone()))
            .collect();
        for (fd, d) in inherited {
            self.fds.entry((child, fd)).or_insert(d);
        }
        if !self.cwds.contains_key(&child) {
            if let Some(dir) = self.cwds.get(&parent).cloned() {
                self.cwds.insert(child, dir);
            }
        }
    }

    /// Looks up where process `pid`'s standard streams go, in `/proc`, now.
    pub fn look_up_standard_streams(&mut self, pid: u32) {
        for fd in 0..3 {
            self.fd_decoration(pid, fd);
        }
    }

    /// Adds the lines one record makes to `out`.
    pub fn push(&mut self, event: Event, out: &mut Vec<Line>) {
        if let Event::Call {
            call: Enter { header, .. },
            ..
        }
        | Event::Enter(Enter { header, .. }) = &event
        {
            if !self.known.contains(&header.pid) {
                self.first_seen(header.pid, header.ppid);
            }
        }
        match event {
            Event::Call { call, ret } => {
                if self.before_exec == Some(call.header.pid) {
                    return;
                }
                if let Some(open) = self.pending.remove(&call.header.tid) {
                    // A start whose end never came (see below).
                    self.finish(open, None, out);
                }
                let header = call.header;
                self.finish(call, Some((header, ret)), out);
            }
            Event::Enter(e) => {
                if self.before_exec == Some(e.header.pid) {
                    if name_of(e.id).starts_with("execve") {
                        self.before_exec = None;
                    } else {
                        return;
                    }
                }
                let tid = e.header.tid;
                if let Some(open) = self.pending.remove(&tid) {
                    // A call that did not return before the thread's next one (an
                    // `execve` replacing the thread): strace prints `= ?`.
                    self.finish(open, None, out);
                }
                let name = name_of(e.id);
                if name == "exit_group" || name == "exit" {
                    self.exit_status.insert(e.header.pid, e.args[0] as i32 as i64);
                    self.finish(e, None, out);
                } else {
                    self.pending.insert(tid, e);
                }
            }
            Event::Exit { header, ret, .. } => {
                if let Some(open) = self.pending.remove(&header.tid) {
                    self.finish(open, Some((header, ret)), out);
                }
            }
            Event::ProcessEnd(h) => {
                if self.before_exec == Some(h.pid) {
                    self.before_exec = None;
                }
                let threads: Vec<u32> = self
                    .pending
                    .iter()
                    .filter(|(_, e)| e.header.pid == h.pid)
                    .map(|(&t, _)| t)
                    .collect();
                for t in threads {
                    if let Some(open) = self.pending.remove(&t) {
                        self.finish(open, None, out);
                    }
                }
                let how = match (self.exit_status.remove(&h.pid), self.last_signal.remove(&h.pid)) {
                    (Some(status), _) => format!("exited with {}", status & 0xff),
                    (None, Some(sig)) => format!("killed by {}", signal_name(sig)),
                    (None, None) => "exited with 0".to_string(),
                };
                self.fds.retain(|(pid, _), _| *pid != h.pid);
                self.peers.retain(|(pid, _), _| *pid != h.pid);
                self.known.remove(&h.pid);
                self.cwds.remove(&h.pid);
                out.push(Line {
                    pid: h.pid,
                    ppid: h.ppid,
                    text: format!("{} {} +++ {how} +++", h.pid, self.time(h.time)),
                });
            }
            Event::Signal { header, sig, code } => {
                if self.before_exec == Some(header.pid) {
                    return;
                }
                if fatal_by_default(sig) {
                    self.last_signal.insert(header.pid, sig);
                }
                let name = signal_name(sig);
                out.push(Line {
                    pid: header.pid,
                    ppid: header.ppid,
                    text: format!(
                        "{} {} --- {name} {{si_signo={name}, si_code={}}} ---",
                        header.tid,
                        self.time(header.time),
                        si_code(sig, code)
                    ),
                });
            }
        }
    }

    fn time(&self, monotonic: u64) -> String {
        let ns = i128::from(monotonic) + self.wall_offset;
        format!(
            "{}.{:06}",
            ns.div_euclid(1_000_000_000),
            ns.rem_euclid(1_000_000_000) / 1000
        )
    }

    /// Prints call `e`, which returned `end` (`None`: it never returned).
    fn finish(&mut self, e: Enter, end: Option<(Header, i64)>, out: &mut Vec<Line>) {
        let name = name_of(e.id);
        let pid = e.header.pid;
        let ret = end.map(|(_, r)| r);
        let mut args = String::new();
        self.learn_addresses(&name, &e, ret);
        match call(&name) {
            Some(kinds) => self.args(&name, kinds, &e, ret, &mut args),
            None => {
                // Unknown arguments: as many as the call takes is not known; the
                // registers say nothing the normalizer keeps, so none are shown.
            }
        }
        let result = match ret {
            None => "?".to_string(),
            Some(r) => self.result(&name, &e, r),
        };
        let comm: String = e
            .comm
            .chars()
            .map(|c| {
                if c.is_control() || matches!(c, '<' | '>' | ' ') {
                    '?'
                } else {
                    c
                }
            })
            .collect();
        out.push(Line {
            pid,
            ppid: e.header.ppid,
            // The process and its parent, which strace's line does not say, in
            // a comment the normalizer skips.
            text: format!(
                "{}<{comm}> {} {name}({args}) = {result} /* pid {pid} ppid {} */",
                e.header.tid,
                self.time(e.header.time),
                e.header.ppid
            ),
        });
    }

    fn result(&mut self, name: &str, e: &Enter, r: i64) -> String {
        let pid = e.header.pid;
        if (-4095..0).contains(&r) {
            if name == "connect" && r == -i64::from(libc::EINPROGRESS) {
                // Connecting: the socket has both its addresses already.
                self.connected(pid, e);
            }
            let errno = u32::try_from(-r).unwrap_or(0);
            return match crate::formats::gvisor::normalize::errno_name(errno) {
                Some(n) if !n.is_empty() => {
                    let message = std::io::Error::from_raw_os_error(errno as i32).to_string();
                    let message = message.split(" (os error").next().unwrap_or("");
                    format!("-1 {n} ({message})")
                }
                _ => format!("-1 E{errno}"),
            };
        }
        match name {
            "open" | "openat" | "openat2" | "creat" | "memfd_create" | "dup" | "dup2" | "dup3" | "accept"
            | "accept4" => {
                let decoration = match name {
                    "dup" | "dup2" | "dup3" => self.fd_decoration(pid, e.args[0] as i32 as i64),
                    "accept" | "accept4" => self
                        .fd_decoration(pid, e.args[0] as i32 as i64)
                        .map(|d| d.split(':').next().unwrap_or("").to_string() + ":[0]"),
                    _ => None,
                };
                self.fds.remove(&(pid, r));
                // What was opened is the path given (made absolute): the
                // descriptor may be closed and reused by the time the record
                // is read, so /proc is not asked.
                let opened = match (name, e.strings.first()) {
                    ("open" | "openat" | "openat2" | "creat", Some(Some(path))) => {
                        let path = String::from_utf8_lossy(path).into_owned();
                        if path.starts_with('/') {
                            Some(path)
                        } else {
                            let dirfd = if name == "open" || name == "creat" {
                                None
                            } else {
                                Some(e.args[0] as i32 as i64)
                            };
                            let base = match dirfd {
                                Some(fd) if fd != i64::from(libc::AT_FDCWD) => self.fd_decoration(pid, fd),
                                _ => self.cwd(pid, e.header.ppid).map(str::to_owned),
                            };
                            Some(match base {
                                Some(b) => format!("{}/{}", b.trim_end_matches('/'), path.trim_start_matches("./")),
                                None => path,
                            })
                        }
                        .map(|path| self.canonical(path))
                    }
                    ("open" | "openat" | "openat2" | "creat", _) => None,
                    _ => decoration.or_else(|| self.fd_decoration(pid, r)),
                };
                let mut decoration = opened;
                if let Some(d) = &decoration {
                    self.fds.insert((pid, r), d.clone());
                }
                if name == "accept" || name == "accept4" {
                    self.accepted(pid, e.args[0] as i32 as i64, r, e.sockaddr.as_deref());
                    decoration = self.fds.get(&(pid, r)).cloned();
                }
                match decoration {
                    Some(d) => format!("{r}<{d}>"),
                    None => r.to_string(),
                }
            }
            "connect" => {
                self.connected(pid, e);
                r.to_string()
            }
            "bind" => {
                self.bound(pid, e);
                r.to_string()
            }
            "listen" => {
                self.socket_addresses(pid, e.args[0] as i32 as i64);
                r.to_string()
            }
            "socket" => {
                let kind = socket_kind(e.args[0], e.args[1]);
                self.fds.insert((pid, r), format!("{kind}:[0]"));
                format!("{r}<{kind}:[0]>")
            }
            "close" => {
                self.fds.remove(&(pid, e.args[0] as i32 as i64));
                self.peers.remove(&(pid, e.args[0] as i32 as i64));
                r.to_string()
            }
            "chdir" | "fchdir" => {
                let dir = if name == "fchdir" {
                    self.fd_decoration(pid, e.args[0] as i32 as i64)
                } else {
                    e.strings.first().cloned().flatten().and_then(|path| {
                        let path = String::from_utf8_lossy(&path).into_owned();
                        let joined = if path.starts_with('/') {
                            path
                        } else {
                            format!("{}/{path}", self.cwd(pid, e.header.ppid)?.trim_end_matches('/'))
                        };
                        // The directory as /proc would name it (no `..`, no links).
                        Some(std::fs::canonicalize(&joined).map_or(joined, |p| p.to_string_lossy().into_owned()))
                    })
                };
                match dir {
                    Some(dir) => self.cwds.insert(pid, dir),
                    None => self.cwds.remove(&pid),
                };
                r.to_string()
            }
            "chroot" => {
                self.cwds.remove(&pid);
                r.to_string()
            }
            "clone" | "clone3" | "fork" | "vfork" => {
                // A new process starts where its parent is.
                let flags = match name {
                    "clone" => e.args[0],
                    "clone3" => e.blob.as_deref().map_or(0, |b| u64_at(b, 0)),
                    _ => 0,
                };
                if flags & (libc::CLONE_THREAD as u64) == 0 {
                    if let Ok(child) = u32::try_from(r) {
                        // And with its parent's descriptors: its directory and
                        // standard streams looked up now, while it is there.
                        self.cwd(pid, e.header.ppid);
                        self.look_up_standard_streams(pid);
                        self.inherit(child, pid);
                    }
                }
                r.to_string()
            }
            "poll" | "ppoll" => {
                if r == 0 {
                    return "0 (Timeout)".to_string();
                }
                let mut text = format!("{r} ([");
                let mut first = true;
                if let Some(b) = &e.blob {
                    for k in 0..(e.args[1] as u32 as usize).min(b.len() / 8) {
                        let revents = u64::from(u16_at(b, k * 8 + 6));
                        if revents != 0 {
                            if !first {
                                text.push_str(", ");
                            }
                            first = false;
                            let _ = write!(
                                text,
                                "{{fd={}, revents={}}}",
                                u32_at(b, k * 8) as i32,
                                flags(revents, POLL, None)
                            );
                        }
                    }
                }
                text.push(']');
                // What is left of ppoll's timeout, which it wrote back.
                if name == "ppoll" && e.args[2] != 0 {
                    if let Some(t) = e.blob2.as_deref().filter(|t| t.len() >= 16) {
                        let _ = write!(
                            text,
                            ", left {{tv_sec={}, tv_nsec={}}}",
                            u64_at(t, 0) as i64,
                            u64_at(t, 8) as i64
                        );
                    }
                }
                text.push(')');
                text
            }
            "epoll_create" | "epoll_create1" | "eventfd" | "eventfd2" | "timerfd_create" | "signalfd" | "signalfd4"
            | "inotify_init" | "inotify_init1" => {
                let d = match name {
                    "epoll_create" | "epoll_create1" => "anon_inode:[eventpoll]",
                    "eventfd" | "eventfd2" => "anon_inode:[eventfd]",
                    "timerfd_create" => "anon_inode:[timerfd]",
                    "signalfd" | "signalfd4" => "anon_inode:[signalfd]",
                    _ => "anon_inode:inotify",
                };
                self.fds.insert((pid, r), d.to_string());
                format!("{r}<{d}>")
            }
            "mmap" | "brk" => format!("{r:#x}"),
            // What F_GETFL and F_GETFD return, decoded.
            // F_DUPFD and F_DUPFD_CLOEXEC: a copy, with the same decoration.
            "fcntl" if e.args[1] == 0 || e.args[1] == 1030 => {
                let fd = e.args[0] as i32 as i64;
                match self.fd_decoration(pid, fd) {
                    Some(d) => {
                        self.fds.insert((pid, r), d.clone());
                        format!("{r}<{d}>")
                    }
                    None => r.to_string(),
                }
            }
            "fcntl" if e.args[1] == 3 => format!("{r:#x} (flags {})", open_flags(r as u64)),
            "fcntl" if e.args[1] == 1 && r & 1 != 0 => format!("{r:#x} (flags FD_CLOEXEC)"),
            _ => r.to_string(),
        }
    }

    /// A path as `/proc/PID/fd/N` names what it opened (links followed, as
    /// strace -yy shows it), when honk can resolve it (in its own mount
    /// namespace); else the path as given.
    fn canonical(&mut self, path: String) -> String {
        if !self.proc_lookup {
            return path;
        }
        if let Some(known) = self.canonical.get(&path) {
            return known.clone();
        }
        let Ok(resolved) = std::fs::canonicalize(&path) else {
            return path;
        };
        let resolved = resolved.to_string_lossy().into_owned();
        if self.canonical.len() >= CANONICAL_CACHE {
            self.canonical.clear();
        }
        self.canonical.insert(path, resolved.clone());
        resolved
    }

    /// A process's current directory: as last seen (its start, `chdir`),
    /// else `/proc/PID/cwd`, else its parent's (where it started, when it
    /// ended before honk could look).
    fn cwd(&mut self, pid: u32, ppid: u32) -> Option<&str> {
        if !self.cwds.contains_key(&pid) {
            if !self.proc_lookup {
                return None;
            }
            let dir = match std::fs::read_link(format!("/proc/{pid}/cwd")) {
                Ok(dir) => dir.to_string_lossy().into_owned(),
                Err(_) => self.cwds.get(&ppid)?.clone(),
            };
            self.cwds.insert(pid, dir);
        }
        self.cwds.get(&pid).map(String::as_str)
    }

    /// A descriptor's decoration: what opened it, or `/proc/PID/fd/N`.
    fn fd_decoration(&mut self, pid: u32, fd: i64) -> Option<String> {
        if let Some(d) = self.fds.get(&(pid, fd)) {
            return Some(d.clone());
        }
        if !self.proc_lookup || fd < 0 {
            return None;
        }
        let target = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
        let target = target.to_string_lossy().into_owned();
        let d = if target.starts_with('/') {
            target
        } else if let Some(inode) = target.strip_prefix("socket:") {
            ["TCP", "TCPv6", "UDP", "UDPv6"]
                .iter()
                .find_map(|kind| inet_socket(pid, kind, inode))
                .unwrap_or_else(|| format!("socket:{inode}"))
        } else {
            target
        };
        self.fds.insert((pid, fd), d.clone());
        Some(d)
    }

    /// After `connect`: the socket's addresses, from `/proc` while it is
    /// there; else its peer is remembered, for its local address to join when
    /// the program asks for it (`getsockname`, which most clients call).
    ///
    /// A connection often ends before its record is read (a request on
    /// loopback takes a millisecond): then the decoration shows the peer,
    /// and as the local end the address this machine sends from to reach
    /// the peer (asked of the kernel's routes) with a `?` port, until
    /// `getsockname` says it.
    fn connected(&mut self, pid: u32, e: &Enter) {
        let fd = e.args[0] as i32 as i64;
        self.socket_addresses(pid, fd);
        let Some(kind) = self.inet_kind(pid, fd) else {
            return;
        };
        if self.fds.get(&(pid, fd)).is_some_and(|d| d.contains("->")) {
            return;
        }
        let Some(peer) = e.sockaddr.as_deref().and_then(inet_sockaddr) else {
            return;
        };
        self.peers.insert((pid, fd), end_text(peer));
        if let Some(local) = self.route_source(peer.0) {
            let local = match local {
                std::net::IpAddr::V4(a) => format!("{a}:?"),
                std::net::IpAddr::V6(a) => format!("[{a}]:?"),
            };
            self.fds
                .insert((pid, fd), format!("{kind}:[{local}->{}]", end_text(peer)));
        }
    }

    /// After `bind`: the socket's address, from /proc, else from the call
    /// (when it names a port).
    fn bound(&mut self, pid: u32, e: &Enter) {
        let fd = e.args[0] as i32 as i64;
        self.socket_addresses(pid, fd);
        let Some(kind) = self.inet_kind(pid, fd) else {
            return;
        };
        if self
            .fds
            .get(&(pid, fd))
            .is_some_and(|d| d.contains('.') || d.contains("]:"))
        {
            return;
        }
        if let Some(end) = e.sockaddr.as_deref().and_then(inet_sockaddr).filter(|end| end.1 != 0) {
            self.fds.insert((pid, fd), format!("{kind}:[{}]", end_text(end)));
        }
    }

    /// After `accept`: the new socket's addresses, from /proc, else the
    /// listener's port and the peer the call wrote (the local address, when
    /// the listener is bound to all of them, as in [`Renderer::connected`]).
    fn accepted(&mut self, pid: u32, listener: i64, fd: i64, peer: Option<&[u8]>) {
        self.socket_addresses(pid, fd);
        if self.fds.get(&(pid, fd)).is_some_and(|d| d.contains("->")) {
            return;
        }
        let Some(kind) = self.inet_kind(pid, fd) else {
            return;
        };
        let Some(peer) = peer.and_then(inet_sockaddr) else {
            return;
        };
        let Some(listening) = self.fds.get(&(pid, listener)).cloned() else {
            return;
        };
        let Some(end) = listening
            .split_once(":[")
            .map(|(_, rest)| rest.trim_end_matches(']'))
            .filter(|rest| !rest.contains("->"))
            .and_then(|rest| rest.rsplit_once(':'))
        else {
            return;
        };
        let (address, port) = end;
        let address: Option<std::net::IpAddr> = address.trim_start_matches('[').trim_end_matches(']').parse().ok();
        let (Some(address), Ok(port)) = (address, port.parse::<u16>()) else {
            return;
        };
        let local = if address.is_unspecified() {
            self.route_source(peer.0)
        } else {
            Some(address)
        };
        if let Some(local) = local {
            self.fds.insert(
                (pid, fd),
                format!("{kind}:[{}->{}]", end_text((local, port)), end_text(peer)),
            );
        }
    }

    /// The kind of an internet socket (`TCP`, `UDPv6`), from its decoration.
    fn inet_kind(&self, pid: u32, fd: i64) -> Option<String> {
        self.fds
            .get(&(pid, fd))
            .and_then(|d| d.split(':').next())
            .filter(|k| matches!(*k, "TCP" | "TCPv6" | "UDP" | "UDPv6"))
            .map(str::to_string)
    }

    /// The address this machine sends from to reach `to`: the kernel's
    /// choice for a UDP socket connected there (which sends nothing), in
    /// honk's own network namespace; remembered.
    fn route_source(&mut self, to: std::net::IpAddr) -> Option<std::net::IpAddr> {
        if !self.proc_lookup {
            return None;
        }
        if let Some(known) = self.sources.get(&to) {
            return *known;
        }
        let any: std::net::SocketAddr = if to.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let source = std::net::UdpSocket::bind(any)
            .and_then(|socket| {
                socket.connect((to, 9))?;
                socket.local_addr()
            })
            .ok()
            .map(|a| a.ip());
        if self.sources.len() >= ROUTE_SOURCES {
            self.sources.clear();
        }
        self.sources.insert(to, source);
        source
    }

    /// Before a call is printed: what it shows of its socket's addresses
    /// (`getsockname`'s local end; `getpeername`'s peer) was the socket's
    /// already, so its decoration shows them, as strace's would.
    fn learn_addresses(&mut self, name: &str, e: &Enter, ret: Option<i64>) {
        if ret != Some(0) || !matches!(name, "getsockname" | "getpeername") {
            return;
        }
        let pid = e.header.pid;
        let fd = e.args[0] as i32 as i64;
        let Some(end) = e.sockaddr.as_deref().and_then(inet_sockaddr) else {
            return;
        };
        // Not when it shows both ends already, unless one was a guess.
        if self
            .fds
            .get(&(pid, fd))
            .is_some_and(|d| d.contains("->") && !d.contains(":?->"))
        {
            return;
        }
        let Some(kind) = self.inet_kind(pid, fd) else {
            return;
        };
        let d = if name == "getsockname" {
            match self.peers.get(&(pid, fd)) {
                Some(peer) => format!("{kind}:[{}->{peer}]", end_text(end)),
                None => format!("{kind}:[{}]", end_text(end)),
            }
        } else {
            self.peers.insert((pid, fd), end_text(end));
            return;
        };
        self.fds.insert((pid, fd), d);
    }

    /// Once an internet socket has addresses (connected, accepted, bound),
    /// its decoration shows them, as `strace -yy` does from the kernel's
    /// socket tables: the process's `/proc/PID/net/tcp` (and `tcp6`, `udp`,
    /// `udp6`) read for the socket's inode, while the process and the
    /// descriptor are still there; else the decoration stays the kind alone.
    fn socket_addresses(&mut self, pid: u32, fd: i64) {
        if !self.proc_lookup || fd < 0 {
            return;
        }
        let Some(kind) = self.inet_kind(pid, fd) else {
            return;
        };
        let Ok(target) = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")) else {
            return;
        };
        let target = target.to_string_lossy();
        if let Some(d) = target
            .strip_prefix("socket:")
            .and_then(|inode| inet_socket(pid, &kind, inode))
        {
            self.fds.insert((pid, fd), d);
        }
    }

    fn args(&mut self, name: &str, kinds: &[Arg], e: &Enter, ret: Option<i64>, out: &mut String) {
        let pid = e.header.pid;
        let mut strings = e.strings.iter();
        // The structs read, in argument order.
        let mut blobs = [&e.blob, &e.blob2].into_iter();
        let mut blob = |kind: &Arg| -> &Option<Vec<u8>> {
            match kind.struct_size() {
                Some(_) => blobs.next().unwrap_or(&None),
                None => &None,
            }
        };
        for (i, kind) in kinds.iter().enumerate() {
            let struct_read = blob(kind);
            if i > 0 {
                out.push_str(", ");
            }
            let v = e.args[i];
            match kind {
                Fd => {
                    let fd = v as i32 as i64;
                    match self.fd_decoration(pid, fd) {
                        Some(d) if fd >= 0 => {
                            let _ = write!(out, "{fd}<{d}>");
                        }
                        _ => {
                            let _ = write!(out, "{fd}");
                        }
                    }
                    if name == "dup2" || name == "dup3" {
                        // The new descriptor's decoration is the old one's.
                        break_after_dup(self, pid, e, out, i, kinds.len());
                        return;
                    }
                }
                DirFd => {
                    let fd = v as i32 as i64;
                    if fd == i64::from(libc::AT_FDCWD) {
                        // strace -yy decorates it with the current directory.
                        out.push_str("AT_FDCWD");
                        if let Some(dir) = self.cwd(pid, e.header.ppid) {
                            let _ = write!(out, "<{dir}>");
                        }
                    } else {
                        match self.fd_decoration(pid, fd) {
                            Some(d) => {
                                let _ = write!(out, "{fd}<{d}>");
                            }
                            None => {
                                let _ = write!(out, "{fd}");
                            }
                        }
                    }
                }
                Path | Str => match strings.next() {
                    Some(Some(s)) => quote(s, out),
                    _ => ptr(v, out),
                },
                Argv => match &e.argv {
                    Some((argv, more)) if v != 0 => {
                        out.push('[');
                        for (j, a) in argv.iter().enumerate() {
                            if j > 0 {
                                out.push_str(", ");
                            }
                            match a {
                                Some(a) => quote(a, out),
                                None => out.push_str("???"),
                            }
                        }
                        if *more {
                            out.push_str(", ...");
                        }
                        out.push(']');
                    }
                    _ => ptr(v, out),
                },
                Envp => {
                    let _ = write!(out, "{v:#x} /* ? vars */");
                }
                Int => {
                    // An int argument's register may hold it zero-extended
                    // (-1 as 0xffffffff): shown as the int, as strace does.
                    let n = if (0x8000_0000..=0xffff_ffff).contains(&v) {
                        i64::from(v as u32 as i32)
                    } else {
                        v as i64
                    };
                    let _ = write!(out, "{n}");
                }
                Ptr => ptr(v, out),
                Buf => match (struct_read, buffer_len(name, e, ret)) {
                    (Some(b), Some(n)) => {
                        quote(&b[..n.min(b.len())], out);
                        if n > b.len() {
                            out.push_str("...");
                        }
                    }
                    _ => ptr(v, out),
                },
                Pollfds => match struct_read {
                    Some(b) => {
                        let nfds = e.args[1] as u32 as usize;
                        let read = b.len() / 8;
                        out.push('[');
                        for k in 0..nfds.min(read) {
                            if k > 0 {
                                out.push_str(", ");
                            }
                            let fd = i64::from(u32_at(b, k * 8) as i32);
                            out.push_str("{fd=");
                            match self.fd_decoration(pid, fd) {
                                Some(d) if fd >= 0 => {
                                    let _ = write!(out, "{fd}<{d}>");
                                }
                                _ => {
                                    let _ = write!(out, "{fd}");
                                }
                            }
                            if fd >= 0 {
                                let events = u64::from(u16_at(b, k * 8 + 4));
                                let _ = write!(out, ", events={}", flags(events, POLL, Some("0")));
                            }
                            out.push('}');
                        }
                        if nfds > read {
                            out.push_str(", ...");
                        }
                        out.push(']');
                    }
                    None => ptr(v, out),
                },
                Timespec => match struct_read {
                    Some(b) if b.len() >= 16 => {
                        let _ = write!(
                            out,
                            "{{tv_sec={}, tv_nsec={}}}",
                            u64_at(b, 0) as i64,
                            u64_at(b, 8) as i64
                        );
                    }
                    _ => ptr(v, out),
                },
                SockLevel => out.push_str(&sock_level(v)),
                SockOpt => out.push_str(&sock_option(e.args[1], v)),
                IntPtr => match struct_read {
                    // getsockopt's value and length are written by the call.
                    Some(b) if b.len() >= 4 && (name != "getsockopt" || ret.is_some_and(|r| r >= 0)) => {
                        let _ = write!(out, "[{}]", u32_at(b, 0) as i32);
                    }
                    _ => ptr(v, out),
                },
                OutSockaddr => match (&e.sockaddr, ret) {
                    (Some(b), Some(r)) if r >= 0 && v != 0 => sockaddr(b, out),
                    _ => ptr(v, out),
                },
                SockLenPtr => match (&e.sockaddr, ret) {
                    (Some(b), Some(r)) if r >= 0 && v != 0 => {
                        let _ = write!(out, "[{}]", b.len());
                    }
                    _ => ptr(v, out),
                },
                MsgFlags => out.push_str(&flags(v, MSG, Some("0"))),
                Hex => {
                    let _ = write!(out, "{v:#x}");
                }
                Mode => {
                    if name == "open" || name == "openat" {
                        // strace shows a mode only when the flags create a file.
                        let flags = if name == "open" { e.args[1] } else { e.args[2] };
                        if flags & (libc::O_CREAT as u64) == 0 && flags & (O_TMPFILE as u64) != O_TMPFILE as u64 {
                            out.truncate(out.len() - 2);
                            continue;
                        }
                    }
                    let _ = write!(out, "{:#05o}", v & 0o7777);
                    fix_octal(out);
                }
                OpenFlags => {
                    if name == "dup3" || name == "pipe2" {
                        out.push_str(&flags(v, OPEN_FLAGS, Some("0")));
                    } else {
                        out.push_str(&open_flags(v));
                    }
                }
                AtFlags => out.push_str(&flags(v, AT_FLAGS, Some("0"))),
                Access => {
                    if v == 0 {
                        out.push_str("F_OK");
                    } else {
                        out.push_str(&flags(v, &[(4, "R_OK"), (2, "W_OK"), (1, "X_OK")], None));
                    }
                }
                Prot => {
                    if v == 0 {
                        out.push_str("PROT_NONE");
                    } else {
                        out.push_str(&flags(v, PROT, None));
                    }
                }
                MapFlags => {
                    let kind = match v & 3 {
                        1 => "MAP_SHARED",
                        2 => "MAP_PRIVATE",
                        3 => "MAP_SHARED_VALIDATE",
                        _ => "0",
                    };
                    out.push_str(kind);
                    if v & !3 != 0 {
                        out.push('|');
                        out.push_str(&flags(v & !3, MAP, None));
                    }
                }
                CloneFlags => {
                    out.push_str("child_stack=");
                    ptr(e.args[1], out);
                    out.push_str(", flags=");
                    out.push_str(&clone_flags(v));
                    let _ = write!(out, ", child_tidptr={:#x}", e.args[3]);
                    return;
                }
                CloneArgs => match struct_read {
                    Some(b) if b.len() >= 40 => {
                        let word = |k: usize| u64::from_ne_bytes(b[k * 8..k * 8 + 8].try_into().unwrap_or([0; 8]));
                        let _ = write!(
                            out,
                            "{{flags={}, exit_signal={}}}",
                            flags(word(0), CLONE, Some("0")),
                            match word(4) {
                                0 => "0".to_string(),
                                s => signal_name(s as i32),
                            }
                        );
                    }
                    _ => ptr(v, out),
                },
                Signal => {
                    if v == 0 {
                        out.push('0');
                    } else {
                        out.push_str(&signal_name(v as i32));
                    }
                }
                Family => out.push_str(&family(v as u16)),
                SockType => out.push_str(&sock_type(v)),
                Protocol => out.push_str(&protocol(e.args[0], v)),
                Sockaddr => match &e.sockaddr {
                    Some(b) => sockaddr(b, out),
                    None => ptr(v, out),
                },
                OpenHow => match struct_read {
                    Some(b) if b.len() >= 24 => {
                        let word = |k: usize| u64::from_ne_bytes(b[k * 8..k * 8 + 8].try_into().unwrap_or([0; 8]));
                        let _ = write!(out, "{{flags={}", open_flags(word(0)));
                        if word(1) != 0 {
                            let _ = write!(out, ", mode={:#05o}", word(1) & 0o7777);
                        }
                        if word(2) != 0 {
                            let _ = write!(out, ", resolve={}", flags(word(2), RESOLVE, None));
                        }
                        out.push('}');
                    }
                    _ => ptr(v, out),
                },
                PtraceRequest => out.push_str(&ptrace_request(v)),
                MountFlags => out.push_str(&flags(v, MOUNT, Some("0"))),
                MfdFlags => out.push_str(&flags(v, MFD, Some("0"))),
                SigHow => out.push_str(match v {
                    0 => "SIG_BLOCK",
                    1 => "SIG_UNBLOCK",
                    2 => "SIG_SETMASK",
                    _ => "?",
                }),
                Rlimit => out.push_str(match v {
                    0 => "RLIMIT_CPU",
                    1 => "RLIMIT_FSIZE",
                    2 => "RLIMIT_DATA",
                    3 => "RLIMIT_STACK",
                    4 => "RLIMIT_CORE",
                    5 => "RLIMIT_RSS",
                    6 => "RLIMIT_NPROC",
                    7 => "RLIMIT_NOFILE",
                    8 => "RLIMIT_MEMLOCK",
                    9 => "RLIMIT_AS",
                    10 => "RLIMIT_LOCKS",
                    11 => "RLIMIT_SIGPENDING",
                    12 => "RLIMIT_MSGQUEUE",
                    13 => "RLIMIT_NICE",
                    14 => "RLIMIT_RTPRIO",
                    15 => "RLIMIT_RTTIME",
                    _ => "?",
                }),
                FcntlCmd => {
                    let name = match v {
                        0 => "F_DUPFD",
                        1 => "F_GETFD",
                        2 => "F_SETFD",
                        3 => "F_GETFL",
                        4 => "F_SETFL",
                        5 => "F_GETLK",
                        6 => "F_SETLK",
                        7 => "F_SETLKW",
                        1030 => "F_DUPFD_CLOEXEC",
                        1033 => "F_ADD_SEALS",
                        1034 => "F_GET_SEALS",
                        _ => "?",
                    };
                    out.push_str(name);
                    match v {
                        // No third argument shown.
                        1 | 3 | 1034 => return,
                        2 => {
                            out.push_str(if e.args[2] & 1 != 0 { ", FD_CLOEXEC" } else { ", 0" });
                            return;
                        }
                        4 => {
                            out.push_str(", ");
                            out.push_str(&open_flags(e.args[2]));
                            return;
                        }
                        _ => {}
                    }
                }
                FutexOp => {
                    let private = v & 128 != 0;
                    let base = match v & 0x7f {
                        0 => "FUTEX_WAIT",
                        1 => "FUTEX_WAKE",
                        5 => "FUTEX_WAKE_OP",
                        9 => "FUTEX_WAIT_BITSET",
                        10 => "FUTEX_WAKE_BITSET",
                        _ => "FUTEX_?",
                    };
                    out.push_str(base);
                    if private {
                        out.push_str("_PRIVATE");
                    }
                    if v & 256 != 0 {
                        out.push_str("|FUTEX_CLOCK_REALTIME");
                    }
                }
                ArchCode => out.push_str(match v {
                    0x1001 => "ARCH_SET_GS",
                    0x1002 => "ARCH_SET_FS",
                    0x1003 => "ARCH_GET_FS",
                    0x1004 => "ARCH_GET_GS",
                    0x3001 => "ARCH_CET_STATUS",
                    _ => "?",
                }),
                RandomFlags => out.push_str(&flags(
                    v,
                    &[(1, "GRND_NONBLOCK"), (2, "GRND_RANDOM"), (4, "GRND_INSECURE")],
                    Some("0"),
                )),
                Advice => out.push_str(match v {
                    0 => "MADV_NORMAL",
                    1 => "MADV_RANDOM",
                    2 => "MADV_SEQUENTIAL",
                    3 => "MADV_WILLNEED",
                    4 => "MADV_DONTNEED",
                    8 => "MADV_FREE",
                    14 => "MADV_HUGEPAGE",
                    15 => "MADV_NOHUGEPAGE",
                    _ => "?",
                }),
                Whence => out.push_str(match v {
                    0 => "SEEK_SET",
                    1 => "SEEK_CUR",
                    2 => "SEEK_END",
                    3 => "SEEK_DATA",
                    4 => "SEEK_HOLE",
                    _ => "?",
                }),
                // What the call filled, as strace shows it after a success.
                StatBuf => match (struct_read, ret) {
                    (Some(b), Some(0)) if b.len() >= 56 => {
                        let mode = u32_at(b, 24);
                        out.push_str("{st_mode=");
                        file_mode(mode, out);
                        if matches!(mode & 0o170000, 0o020000 | 0o060000) {
                            let rdev = u64_at(b, 40);
                            let _ = write!(out, ", st_rdev=makedev({:#x}, {:#x})", dev_major(rdev), dev_minor(rdev));
                        } else {
                            let _ = write!(out, ", st_size={}", u64_at(b, 48));
                        }
                        out.push_str(", ...}");
                    }
                    _ => ptr(v, out),
                },
                StatxFlags => {
                    out.push_str(match v & 0x6000 {
                        0 => "AT_STATX_SYNC_AS_STAT",
                        0x2000 => "AT_STATX_FORCE_SYNC",
                        0x4000 => "AT_STATX_DONT_SYNC",
                        _ => "AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC",
                    });
                    if v & !0x6000 != 0 {
                        out.push('|');
                        out.push_str(&flags(v & !0x6000, AT_FLAGS, None));
                    }
                }
                StatxMask => out.push_str(&statx_mask(v)),
                StatxBuf => match (struct_read, ret) {
                    (Some(b), Some(0)) if b.len() >= 48 => {
                        let _ = write!(
                            out,
                            "{{stx_mask={}, stx_attributes={:#x}, stx_mode=",
                            statx_mask(u64::from(u32_at(b, 0))),
                            u64_at(b, 8)
                        );
                        file_mode(u32::from(u16::from_ne_bytes([b[28], b[29]])), out);
                        let _ = write!(out, ", stx_size={}, ...}}", u64_at(b, 40));
                    }
                    _ => ptr(v, out),
                },
                // An input set (the first), or the old set the call wrote.
                SigSet => match struct_read {
                    Some(b) if b.len() >= 8 && v != 0 && (i == 1 || ret == Some(0)) => sigset(u64_at(b, 0), out),
                    _ => ptr(v, out),
                },
                OutStr => match (strings.next(), ret) {
                    (Some(Some(text)), Some(r)) if r >= 0 => {
                        // readlink's is not NUL-terminated: its length is the result.
                        let len = if name == "getcwd" {
                            text.len()
                        } else {
                            (r as usize).min(text.len())
                        };
                        quote(&text[..len], out);
                    }
                    _ => ptr(v, out),
                },
                SigAction => match struct_read {
                    Some(b) if b.len() >= 32 && v != 0 && (i == 1 || ret == Some(0)) => {
                        out.push_str("{sa_handler=");
                        match u64_at(b, 0) {
                            0 => out.push_str("SIG_DFL"),
                            1 => out.push_str("SIG_IGN"),
                            h => {
                                let _ = write!(out, "{h:#x}");
                            }
                        }
                        out.push_str(", sa_mask=");
                        sigset(u64_at(b, 24), out);
                        let sa_flags = u64_at(b, 8);
                        let _ = write!(out, ", sa_flags={}", flags(sa_flags, SA_FLAGS, Some("0")));
                        if sa_flags & 0x0400_0000 != 0 {
                            let _ = write!(out, ", sa_restorer={:#x}", u64_at(b, 16));
                        }
                        out.push('}');
                    }
                    _ => ptr(v, out),
                },
                WaitOptions => out.push_str(&flags(
                    v,
                    &[
                        (1, "WNOHANG"),
                        (2, "WSTOPPED"),
                        (8, "WCONTINUED"),
                        (0x4000_0000, "__WALL"),
                        (0x8000_0000, "__WCLONE"),
                        (0x2000_0000, "__WNOTHREAD"),
                    ],
                    Some("0"),
                )),
                WaitStatus => match (struct_read, ret) {
                    (Some(b), Some(r)) if b.len() >= 4 && v != 0 && r > 0 => {
                        let status = u32_at(b, 0);
                        let (sig, code) = (status & 0x7f, (status >> 8) & 0xff);
                        if sig == 0 {
                            let _ = write!(out, "[{{WIFEXITED(s) && WEXITSTATUS(s) == {code}}}]");
                        } else if sig == 0x7f {
                            let _ = write!(
                                out,
                                "[{{WIFSTOPPED(s) && WSTOPSIG(s) == {}}}]",
                                signal_name(code as i32)
                            );
                        } else {
                            let core = if status & 0x80 != 0 { " && WCOREDUMP(s)" } else { "" };
                            let _ = write!(
                                out,
                                "[{{WIFSIGNALED(s) && WTERMSIG(s) == {}{core}}}]",
                                signal_name(sig as i32)
                            );
                        }
                    }
                    _ => ptr(v, out),
                },
                FdPair => match (struct_read, ret) {
                    (Some(b), Some(0)) if b.len() >= 8 => {
                        let kind = if name == "socketpair" {
                            socket_kind(e.args[0], e.args[1])
                        } else {
                            "pipe".to_string()
                        };
                        let (a, z) = (i64::from(u32_at(b, 0) as i32), i64::from(u32_at(b, 4) as i32));
                        for fd in [a, z] {
                            self.fds.insert((pid, fd), format!("{kind}:[0]"));
                        }
                        let _ = write!(out, "[{a}<{kind}:[0]>, {z}<{kind}:[0]>]");
                    }
                    _ => ptr(v, out),
                },
                Utsname => match (strings.next(), ret) {
                    (Some(Some(sysname)), Some(0)) => {
                        out.push_str("{sysname=");
                        quote(sysname, out);
                        // The node name is this machine's: the watched
                        // program runs here (in a container with its own
                        // name, that one is not known).
                        out.push_str(", nodename=");
                        quote(node_name().as_bytes(), out);
                        out.push_str(", ...}");
                    }
                    _ => ptr(v, out),
                },
                FileAdvice => out.push_str(match v {
                    0 => "POSIX_FADV_NORMAL",
                    1 => "POSIX_FADV_RANDOM",
                    2 => "POSIX_FADV_SEQUENTIAL",
                    3 => "POSIX_FADV_WILLNEED",
                    4 => "POSIX_FADV_DONTNEED",
                    5 => "POSIX_FADV_NOREUSE",
                    _ => "?",
                }),
                EpollFlags => out.push_str(&flags(v, &[(0o2000000, "EPOLL_CLOEXEC")], Some("0"))),
                IoctlReq => match ioctl_name(v) {
                    Some(n) => out.push_str(n),
                    None => {
                        let _ = write!(out, "{v:#x}");
                    }
                },
            }
        }
    }
}

/// dup2/dup3: the second descriptor (and dup3's flags); the new descriptor
/// takes the old one's decoration when the call returns.
fn break_after_dup(r: &mut Renderer, pid: u32, e: &Enter, out: &mut String, _i: usize, n: usize) {
    let newfd = e.args[1] as i32 as i64;
    out.push_str(", ");
    match r.fd_decoration(pid, newfd) {
        Some(d) => {
            let _ = write!(out, "{newfd}<{d}>");
        }
        None => {
            let _ = write!(out, "{newfd}");
        }
    }
    if n > 2 {
        out.push_str(", ");
        out.push_str(&flags(e.args[2], OPEN_FLAGS, Some("0")));
    }
    if let Some(d) = r.fd_decoration(pid, e.args[0] as i32 as i64) {
        r.fds.insert((pid, newfd), d);
    }
}

/// `0644`, not `0o644`.
fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|w| w.try_into().ok())
        .map_or(0, u32::from_ne_bytes)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u16::from_ne_bytes)
}

/// How many bytes of a data buffer a call read or wrote: a read's result
/// (`None` when it failed), a write's count.
fn buffer_len(name: &str, e: &Enter, ret: Option<i64>) -> Option<usize> {
    match name {
        "write" | "pwrite64" | "sendto" => usize::try_from(e.args[2]).ok(),
        _ => ret.and_then(|r| usize::try_from(r).ok()),
    }
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|w| w.try_into().ok())
        .map_or(0, u64::from_ne_bytes)
}

/// glibc's `major()` and `minor()` of a `dev_t`.
fn dev_major(dev: u64) -> u64 {
    ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)
}

fn dev_minor(dev: u64) -> u64 {
    ((dev >> 12) & 0xffff_ff00) | (dev & 0xff)
}

/// A file's type and permissions as strace shows `st_mode` (`S_IFDIR|0755`).
fn file_mode(mode: u32, out: &mut String) {
    out.push_str(match mode & 0o170000 {
        0o140000 => "S_IFSOCK",
        0o120000 => "S_IFLNK",
        0o100000 => "S_IFREG",
        0o060000 => "S_IFBLK",
        0o040000 => "S_IFDIR",
        0o020000 => "S_IFCHR",
        0o010000 => "S_IFIFO",
        _ => "0",
    });
    for (bit, name) in [(0o4000, "S_ISUID"), (0o2000, "S_ISGID"), (0o1000, "S_ISVTX")] {
        if mode & bit != 0 {
            out.push('|');
            out.push_str(name);
        }
    }
    let _ = write!(out, "|{:#05o}", mode & 0o777);
    fix_octal(out);
}

/// statx's mask as strace names it.
fn statx_mask(v: u64) -> String {
    const BASIC: u64 = 0x7ff;
    const NAMES: &[(u64, &str)] = &[
        (0x1, "STATX_TYPE"),
        (0x2, "STATX_MODE"),
        (0x4, "STATX_NLINK"),
        (0x8, "STATX_UID"),
        (0x10, "STATX_GID"),
        (0x20, "STATX_ATIME"),
        (0x40, "STATX_MTIME"),
        (0x80, "STATX_CTIME"),
        (0x100, "STATX_INO"),
        (0x200, "STATX_SIZE"),
        (0x400, "STATX_BLOCKS"),
        (0x800, "STATX_BTIME"),
        (0x1000, "STATX_MNT_ID"),
        (0x2000, "STATX_DIOALIGN"),
        (0x4000, "STATX_MNT_ID_UNIQUE"),
        (0x8000, "STATX_SUBVOL"),
        (0x10000, "STATX_WRITE_ATOMIC"),
        (0x20000, "STATX_DIO_READ_ALIGN"),
    ];
    if v & BASIC == BASIC {
        let rest = v & !BASIC;
        if rest == 0 {
            return "STATX_BASIC_STATS".to_string();
        }
        return format!("STATX_BASIC_STATS|{}", flags(rest, NAMES, None));
    }
    flags(v, NAMES, Some("0"))
}

/// A signal set as strace shows it: the signals in it, or `~[...]` those
/// not in it when it holds more than half of them.
fn sigset(set: u64, out: &mut String) {
    let short = |sig: i32| -> String {
        match sig {
            32 => "RTMIN".to_string(),
            33..=64 => format!("RT_{}", sig - 32),
            _ => signal_name(sig).trim_start_matches("SIG").to_string(),
        }
    };
    let (set, prefix) = if set.count_ones() > 32 {
        (!set, "~[")
    } else {
        (set, "[")
    };
    out.push_str(prefix);
    let mut first = true;
    for sig in 1..=64 {
        if set & (1u64 << (sig - 1)) != 0 {
            if !first {
                out.push(' ');
            }
            first = false;
            out.push_str(&short(sig));
        }
    }
    out.push(']');
}

/// This machine's name, as uname(2) says.
fn node_name() -> String {
    rustix::system::uname().nodename().to_string_lossy().into_owned()
}

/// sigaction's flags in strace's order.
const SA_FLAGS: &[(u64, &str)] = &[
    (0x0400_0000, "SA_RESTORER"),
    (0x0800_0000, "SA_ONSTACK"),
    (0x1000_0000, "SA_RESTART"),
    (0x4000_0000, "SA_NODEFER"),
    (0x8000_0000, "SA_RESETHAND"),
    (1, "SA_NOCLDSTOP"),
    (2, "SA_NOCLDWAIT"),
    (4, "SA_SIGINFO"),
];

/// The common ioctl requests, by name.
fn ioctl_name(v: u64) -> Option<&'static str> {
    Some(match v & 0xffff_ffff {
        0x5401 => "TCGETS",
        0x5402 => "TCSETS",
        0x5403 => "TCSETSW",
        0x5404 => "TCSETSF",
        0x540e => "TIOCSCTTY",
        0x540f => "TIOCGPGRP",
        0x5410 => "TIOCSPGRP",
        0x5413 => "TIOCGWINSZ",
        0x5414 => "TIOCSWINSZ",
        0x541b => "FIONREAD",
        0x5421 => "FIONBIO",
        0x5422 => "TIOCNOTTY",
        0x5450 => "FIONCLEX",
        0x5451 => "FIOCLEX",
        0x5452 => "FIOASYNC",
        0x8004_5430 => "TIOCGPTN",
        0x4004_5431 => "TIOCSPTLCK",
        0x8008_6601 => "FS_IOC_GETFLAGS",
        0x4008_6602 => "FS_IOC_SETFLAGS",
        _ => return None,
    })
}

fn fix_octal(out: &mut String) {
    if let Some(at) = out.rfind("0o") {
        out.replace_range(at..at + 2, "0");
    }
}

fn ptr(v: u64, out: &mut String) {
    if v == 0 {
        out.push_str("NULL");
    } else {
        let _ = write!(out, "{v:#x}");
    }
}

/// A string as strace quotes it: printable ASCII as is, `\"`, `\\`, `\n`,
/// `\t`, and other bytes in octal.
fn quote(s: &[u8], out: &mut String) {
    out.push('"');
    for &b in s {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:o}");
            }
        }
    }
    out.push('"');
}

/// Flags by name, in the table's order, with what is left in hexadecimal;
/// `zero` names 0.
fn flags(v: u64, table: &[(u64, &str)], zero: Option<&str>) -> String {
    if v == 0 {
        return zero.unwrap_or("0").to_string();
    }
    let mut left = v;
    let mut parts: Vec<String> = Vec::new();
    for &(bit, name) in table {
        if bit != 0 && left & bit == bit {
            parts.push(name.to_string());
            left &= !bit;
        }
    }
    if left != 0 {
        parts.push(format!("{left:#x}"));
    }
    parts.join("|")
}

const O_TMPFILE: i64 = 0o20200000;

/// open(2) flags in strace's order.
const OPEN_FLAGS: &[(u64, &str)] = &[
    (0o100, "O_CREAT"),
    (0o200, "O_EXCL"),
    (0o400, "O_NOCTTY"),
    (0o1000, "O_TRUNC"),
    (0o2000, "O_APPEND"),
    (0o4000, "O_NONBLOCK"),
    (0o4010000, "O_SYNC"),
    (0o10000, "O_DSYNC"),
    (0o40000, "O_DIRECT"),
    (0o100000, "O_LARGEFILE"),
    (0o400000, "O_NOFOLLOW"),
    (0o1000000, "O_NOATIME"),
    (0o2000000, "O_CLOEXEC"),
    (0o10000000, "O_PATH"),
    (0o20200000, "O_TMPFILE"),
    (0o200000, "O_DIRECTORY"),
    (0o20000, "FASYNC"),
];

fn open_flags(v: u64) -> String {
    let mode = match v & 3 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        2 => "O_RDWR",
        _ => "O_ACCMODE",
    };
    if v & !3 == 0 {
        mode.to_string()
    } else {
        format!("{mode}|{}", flags(v & !3, OPEN_FLAGS, None))
    }
}

const AT_FLAGS: &[(u64, &str)] = &[
    (0x100, "AT_SYMLINK_NOFOLLOW"),
    (0x200, "AT_REMOVEDIR"),
    (0x400, "AT_SYMLINK_FOLLOW"),
    (0x800, "AT_NO_AUTOMOUNT"),
    (0x1000, "AT_EMPTY_PATH"),
];

const PROT: &[(u64, &str)] = &[
    (1, "PROT_READ"),
    (2, "PROT_WRITE"),
    (4, "PROT_EXEC"),
    (0x8, "PROT_SEM"),
    (0x0100_0000, "PROT_GROWSDOWN"),
    (0x0200_0000, "PROT_GROWSUP"),
];

const MAP: &[(u64, &str)] = &[
    (0x10, "MAP_FIXED"),
    (0x20, "MAP_ANONYMOUS"),
    (0x40, "MAP_32BIT"),
    (0x100, "MAP_GROWSDOWN"),
    (0x800, "MAP_DENYWRITE"),
    (0x1000, "MAP_EXECUTABLE"),
    (0x2000, "MAP_LOCKED"),
    (0x4000, "MAP_NORESERVE"),
    (0x8000, "MAP_POPULATE"),
    (0x10000, "MAP_NONBLOCK"),
    (0x20000, "MAP_STACK"),
    (0x40000, "MAP_HUGETLB"),
    (0x80000, "MAP_SYNC"),
    (0x100000, "MAP_FIXED_NOREPLACE"),
];

const CLONE: &[(u64, &str)] = &[
    (0x100, "CLONE_VM"),
    (0x200, "CLONE_FS"),
    (0x400, "CLONE_FILES"),
    (0x800, "CLONE_SIGHAND"),
    (0x1000, "CLONE_PIDFD"),
    (0x2000, "CLONE_PTRACE"),
    (0x4000, "CLONE_VFORK"),
    (0x8000, "CLONE_PARENT"),
    (0x10000, "CLONE_THREAD"),
    (0x20000, "CLONE_NEWNS"),
    (0x40000, "CLONE_SYSVSEM"),
    (0x80000, "CLONE_SETTLS"),
    (0x100000, "CLONE_PARENT_SETTID"),
    (0x200000, "CLONE_CHILD_CLEARTID"),
    (0x400000, "CLONE_DETACHED"),
    (0x800000, "CLONE_UNTRACED"),
    (0x1000000, "CLONE_CHILD_SETTID"),
    (0x2000000, "CLONE_NEWCGROUP"),
    (0x4000000, "CLONE_NEWUTS"),
    (0x8000000, "CLONE_NEWIPC"),
    (0x10000000, "CLONE_NEWUSER"),
    (0x20000000, "CLONE_NEWPID"),
    (0x40000000, "CLONE_NEWNET"),
    (0x80000000, "CLONE_IO"),
];

/// clone(2)'s flags: the flags, then the exit signal (`CLONE_VM|SIGCHLD`).
fn clone_flags(v: u64) -> String {
    let sig = v & 0xff;
    let rest = flags(v & !0xff, CLONE, None);
    match (v & !0xff, sig) {
        (0, 0) => "0".to_string(),
        (0, s) => signal_name(s as i32),
        (_, 0) => rest,
        (_, s) => format!("{rest}|{}", signal_name(s as i32)),
    }
}

const RESOLVE: &[(u64, &str)] = &[
    (1, "RESOLVE_NO_XDEV"),
    (2, "RESOLVE_NO_MAGICLINKS"),
    (4, "RESOLVE_NO_SYMLINKS"),
    (8, "RESOLVE_BENEATH"),
    (0x10, "RESOLVE_IN_ROOT"),
    (0x20, "RESOLVE_CACHED"),
];

const MOUNT: &[(u64, &str)] = &[
    (1, "MS_RDONLY"),
    (2, "MS_NOSUID"),
    (4, "MS_NODEV"),
    (8, "MS_NOEXEC"),
    (16, "MS_SYNCHRONOUS"),
    (32, "MS_REMOUNT"),
    (64, "MS_MANDLOCK"),
    (128, "MS_DIRSYNC"),
    (256, "MS_NOSYMFOLLOW"),
    (1024, "MS_NOATIME"),
    (2048, "MS_NODIRATIME"),
    (4096, "MS_BIND"),
    (8192, "MS_MOVE"),
    (16384, "MS_REC"),
    (32768, "MS_SILENT"),
    (1 << 16, "MS_POSIXACL"),
    (1 << 17, "MS_UNBINDABLE"),
    (1 << 18, "MS_PRIVATE"),
    (1 << 19, "MS_SLAVE"),
    (1 << 20, "MS_SHARED"),
    (1 << 21, "MS_RELATIME"),
    (1 << 22, "MS_KERNMOUNT"),
    (1 << 23, "MS_I_VERSION"),
    (1 << 24, "MS_STRICTATIME"),
    (1 << 25, "MS_LAZYTIME"),
];

const MFD: &[(u64, &str)] = &[
    (1, "MFD_CLOEXEC"),
    (2, "MFD_ALLOW_SEALING"),
    (4, "MFD_HUGETLB"),
    (8, "MFD_NOEXEC_SEAL"),
    (16, "MFD_EXEC"),
];

fn ptrace_request(v: u64) -> String {
    let name = match v {
        0 => "PTRACE_TRACEME",
        1 => "PTRACE_PEEKTEXT",
        2 => "PTRACE_PEEKDATA",
        3 => "PTRACE_PEEKUSER",
        4 => "PTRACE_POKETEXT",
        5 => "PTRACE_POKEDATA",
        6 => "PTRACE_POKEUSER",
        7 => "PTRACE_CONT",
        8 => "PTRACE_KILL",
        9 => "PTRACE_SINGLESTEP",
        12 => "PTRACE_GETREGS",
        13 => "PTRACE_SETREGS",
        16 => "PTRACE_ATTACH",
        17 => "PTRACE_DETACH",
        24 => "PTRACE_SYSCALL",
        0x4200 => "PTRACE_SETOPTIONS",
        0x4201 => "PTRACE_GETEVENTMSG",
        0x4202 => "PTRACE_GETSIGINFO",
        0x4204 => "PTRACE_GETREGSET",
        0x4205 => "PTRACE_SETREGSET",
        0x4206 => "PTRACE_SEIZE",
        0x4207 => "PTRACE_INTERRUPT",
        0x4208 => "PTRACE_LISTEN",
        _ => return format!("{v:#x} /* PTRACE_??? */"),
    };
    name.to_string()
}

/// Signal names by number (x86_64).
pub fn signal_name(sig: i32) -> String {
    const NAMES: [&str; 32] = [
        "0",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    match usize::try_from(sig).ok().and_then(|s| NAMES.get(s)) {
        Some(n) => (*n).to_string(),
        None if (32..=64).contains(&sig) => format!("SIGRT_{}", sig - 32),
        None => sig.to_string(),
    }
}

/// Whether a signal's default action ends the process (what `+++ killed by` needs).
fn fatal_by_default(sig: i32) -> bool {
    !matches!(sig, 17 | 18 | 19 | 20 | 21 | 22 | 23 | 28)
}

fn si_code(sig: i32, code: i32) -> String {
    let general = match code {
        0 => Some("SI_USER"),
        0x80 => Some("SI_KERNEL"),
        -1 => Some("SI_QUEUE"),
        -2 => Some("SI_TIMER"),
        -3 => Some("SI_MESGQ"),
        -4 => Some("SI_ASYNCIO"),
        -5 => Some("SI_SIGIO"),
        -6 => Some("SI_TKILL"),
        _ => None,
    };
    if let Some(g) = general {
        return g.to_string();
    }
    let specific: &[&str] = match sig {
        17 => &[
            "CLD_EXITED",
            "CLD_KILLED",
            "CLD_DUMPED",
            "CLD_TRAPPED",
            "CLD_STOPPED",
            "CLD_CONTINUED",
        ],
        11 => &["SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR"],
        7 => &["BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR"],
        5 => &["TRAP_BRKPT", "TRAP_TRACE"],
        4 => &[
            "ILL_ILLOPC",
            "ILL_ILLOPN",
            "ILL_ILLADR",
            "ILL_ILLTRP",
            "ILL_PRVOPC",
            "ILL_PRVREG",
            "ILL_COPROC",
        ],
        8 => &[
            "FPE_INTDIV",
            "FPE_INTOVF",
            "FPE_FLTDIV",
            "FPE_FLTOVF",
            "FPE_FLTUND",
            "FPE_FLTRES",
            "FPE_FLTINV",
        ],
        31 => &["SYS_SECCOMP"],
        _ => &[],
    };
    usize::try_from(code - 1)
        .ok()
        .and_then(|i| specific.get(i))
        .map_or_else(|| code.to_string(), |s| (*s).to_string())
}

const POLL: &[(u64, &str)] = &[
    (0x1, "POLLIN"),
    (0x2, "POLLPRI"),
    (0x4, "POLLOUT"),
    (0x8, "POLLERR"),
    (0x10, "POLLHUP"),
    (0x20, "POLLNVAL"),
    (0x40, "POLLRDNORM"),
    (0x80, "POLLRDBAND"),
    (0x100, "POLLWRNORM"),
    (0x200, "POLLWRBAND"),
    (0x400, "POLLMSG"),
    (0x1000, "POLLREMOVE"),
    (0x2000, "POLLRDHUP"),
];

const MSG: &[(u64, &str)] = &[
    (0x1, "MSG_OOB"),
    (0x2, "MSG_PEEK"),
    (0x4, "MSG_DONTROUTE"),
    (0x8, "MSG_CTRUNC"),
    (0x10, "MSG_PROBE"),
    (0x20, "MSG_TRUNC"),
    (0x40, "MSG_DONTWAIT"),
    (0x80, "MSG_EOR"),
    (0x100, "MSG_WAITALL"),
    (0x200, "MSG_FIN"),
    (0x400, "MSG_SYN"),
    (0x800, "MSG_CONFIRM"),
    (0x1000, "MSG_RST"),
    (0x2000, "MSG_ERRQUEUE"),
    (0x4000, "MSG_NOSIGNAL"),
    (0x8000, "MSG_MORE"),
    (0x10000, "MSG_WAITFORONE"),
    (0x40000, "MSG_BATCH"),
    (0x4000000, "MSG_ZEROCOPY"),
    (0x20000000, "MSG_FASTOPEN"),
    (0x40000000, "MSG_CMSG_CLOEXEC"),
];

/// Most bytes of a `/proc/PID/net` table read to find one socket.
const SOCKET_TABLE_BYTES: u64 = 4 << 20;

/// The decoration of internet socket `inode` (`[41801]`) of kind `kind`
/// (`TCP`, `UDPv6`) as strace shows it, `TCP:[127.0.0.1:5555->127.0.0.1:22]`
/// (or the local end alone while there is no peer), from process `pid`'s
/// network namespace's table; `None` when it is not there.
fn inet_socket(pid: u32, kind: &str, inode: &str) -> Option<String> {
    use std::io::Read as _;
    let inode = inode.trim_start_matches('[').trim_end_matches(']');
    let table = match kind {
        "TCP" => "tcp",
        "TCPv6" => "tcp6",
        "UDP" => "udp",
        "UDPv6" => "udp6",
        _ => return None,
    };
    let mut text = String::new();
    std::fs::File::open(format!("/proc/{pid}/net/{table}"))
        .ok()?
        .take(SOCKET_TABLE_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    let line = text
        .lines()
        .skip(1)
        .find(|l| l.split_whitespace().nth(9) == Some(inode))?;
    let mut fields = line.split_whitespace().skip(1);
    let local = inet_end(fields.next()?)?;
    let remote = inet_end(fields.next()?)?;
    Some(if remote.1 == 0 && remote.0.is_unspecified() {
        format!("{kind}:[{}]", end_text(local))
    } else {
        format!("{kind}:[{}->{}]", end_text(local), end_text(remote))
    })
}

/// One end of a socket in a `/proc/net` table: `0100007F:0016` (the address
/// as the kernel's 32-bit words in this machine's byte order, the port in
/// hexadecimal).
fn inet_end(field: &str) -> Option<(std::net::IpAddr, u16)> {
    let (addr, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        Some(u32::from_str_radix(addr.get(i * 8..i * 8 + 8)?, 16).ok()?.to_ne_bytes())
    };
    let ip = match addr.len() {
        8 => std::net::IpAddr::from(word(0)?),
        32 => {
            let mut octets = [0u8; 16];
            for i in 0..4 {
                octets[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            std::net::IpAddr::from(octets)
        }
        _ => return None,
    };
    Some((ip, port))
}

/// The address and port of an internet `struct sockaddr`.
fn inet_sockaddr(b: &[u8]) -> Option<(std::net::IpAddr, u16)> {
    let family = i32::from(u16::from_ne_bytes([*b.first()?, *b.get(1)?]));
    let port = u16::from_be_bytes([*b.get(2)?, *b.get(3)?]);
    match family {
        libc::AF_INET => Some((std::net::IpAddr::from(<[u8; 4]>::try_from(b.get(4..8)?).ok()?), port)),
        libc::AF_INET6 => Some((std::net::IpAddr::from(<[u8; 16]>::try_from(b.get(8..24)?).ok()?), port)),
        _ => None,
    }
}

fn end_text((ip, port): (std::net::IpAddr, u16)) -> String {
    match ip {
        std::net::IpAddr::V4(a) => format!("{a}:{port}"),
        std::net::IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// A socket option's level, as strace names it.
fn sock_level(level: u64) -> String {
    match level as u32 as i32 {
        0 => "SOL_IP".into(),
        1 => "SOL_SOCKET".into(),
        6 => "SOL_TCP".into(),
        17 => "SOL_UDP".into(),
        41 => "SOL_IPV6".into(),
        58 => "SOL_ICMPV6".into(),
        255 => "SOL_RAW".into(),
        263 => "SOL_PACKET".into(),
        270 => "SOL_NETLINK".into(),
        282 => "SOL_TLS".into(),
        n => n.to_string(),
    }
}

/// A socket option's name at its level, as strace names it (x86_64's
/// numbers); a number when honk does not know it.
fn sock_option(level: u64, name: u64) -> String {
    let known: &[(u64, &str)] = match level as u32 as i32 {
        1 => &[
            (1, "SO_DEBUG"),
            (2, "SO_REUSEADDR"),
            (3, "SO_TYPE"),
            (4, "SO_ERROR"),
            (5, "SO_DONTROUTE"),
            (6, "SO_BROADCAST"),
            (7, "SO_SNDBUF"),
            (8, "SO_RCVBUF"),
            (9, "SO_KEEPALIVE"),
            (10, "SO_OOBINLINE"),
            (11, "SO_NO_CHECK"),
            (12, "SO_PRIORITY"),
            (13, "SO_LINGER"),
            (14, "SO_BSDCOMPAT"),
            (15, "SO_REUSEPORT"),
            (16, "SO_PASSCRED"),
            (17, "SO_PEERCRED"),
            (18, "SO_RCVLOWAT"),
            (19, "SO_SNDLOWAT"),
            (20, "SO_RCVTIMEO_OLD"),
            (21, "SO_SNDTIMEO_OLD"),
            (25, "SO_BINDTODEVICE"),
            (29, "SO_TIMESTAMP_OLD"),
            (30, "SO_ACCEPTCONN"),
            (31, "SO_PEERSEC"),
            (32, "SO_SNDBUFFORCE"),
            (33, "SO_RCVBUFFORCE"),
            (34, "SO_PASSSEC"),
            (36, "SO_MARK"),
            (38, "SO_PROTOCOL"),
            (39, "SO_DOMAIN"),
            (46, "SO_BUSY_POLL"),
            (49, "SO_INCOMING_CPU"),
            (60, "SO_ZEROCOPY"),
        ],
        6 => &[
            (1, "TCP_NODELAY"),
            (2, "TCP_MAXSEG"),
            (3, "TCP_CORK"),
            (4, "TCP_KEEPIDLE"),
            (5, "TCP_KEEPINTVL"),
            (6, "TCP_KEEPCNT"),
            (7, "TCP_SYNCNT"),
            (8, "TCP_LINGER2"),
            (9, "TCP_DEFER_ACCEPT"),
            (10, "TCP_WINDOW_CLAMP"),
            (11, "TCP_INFO"),
            (12, "TCP_QUICKACK"),
            (13, "TCP_CONGESTION"),
            (14, "TCP_MD5SIG"),
            (18, "TCP_USER_TIMEOUT"),
            (23, "TCP_FASTOPEN"),
            (25, "TCP_NOTSENT_LOWAT"),
            (30, "TCP_FASTOPEN_CONNECT"),
            (31, "TCP_ULP"),
        ],
        0 => &[
            (1, "IP_TOS"),
            (2, "IP_TTL"),
            (3, "IP_HDRINCL"),
            (4, "IP_OPTIONS"),
            (8, "IP_PKTINFO"),
            (10, "IP_MTU_DISCOVER"),
            (11, "IP_RECVERR"),
            (13, "IP_RECVTOS"),
            (24, "IP_BIND_ADDRESS_NO_PORT"),
            (33, "IP_MULTICAST_TTL"),
            (34, "IP_MULTICAST_LOOP"),
            (35, "IP_ADD_MEMBERSHIP"),
        ],
        41 => &[
            (16, "IPV6_UNICAST_HOPS"),
            (18, "IPV6_MULTICAST_HOPS"),
            (23, "IPV6_MTU_DISCOVER"),
            (25, "IPV6_RECVERR"),
            (26, "IPV6_V6ONLY"),
            (49, "IPV6_RECVPKTINFO"),
            (67, "IPV6_TCLASS"),
        ],
        17 => &[(1, "UDP_CORK"), (103, "UDP_SEGMENT"), (104, "UDP_GRO")],
        _ => &[],
    };
    let name = name as u32;
    known
        .iter()
        .find(|(n, _)| *n == u64::from(name))
        .map_or_else(|| name.to_string(), |(_, s)| (*s).to_string())
}

fn family(f: u16) -> String {
    match i32::from(f) {
        libc::AF_UNSPEC => "AF_UNSPEC".into(),
        libc::AF_UNIX => "AF_UNIX".into(),
        libc::AF_INET => "AF_INET".into(),
        libc::AF_INET6 => "AF_INET6".into(),
        libc::AF_NETLINK => "AF_NETLINK".into(),
        libc::AF_PACKET => "AF_PACKET".into(),
        libc::AF_VSOCK => "AF_VSOCK".into(),
        libc::AF_ALG => "AF_ALG".into(),
        libc::AF_BLUETOOTH => "AF_BLUETOOTH".into(),
        n => format!("{n} /* AF_??? */"),
    }
}

fn sock_type(v: u64) -> String {
    let base = match v & 0xf {
        0 => "0",
        1 => "SOCK_STREAM",
        2 => "SOCK_DGRAM",
        3 => "SOCK_RAW",
        4 => "SOCK_RDM",
        5 => "SOCK_SEQPACKET",
        6 => "SOCK_DCCP",
        10 => "SOCK_PACKET",
        _ => "?",
    };
    let mut s = base.to_string();
    if v & 0o2000000 != 0 {
        s.push_str("|SOCK_CLOEXEC");
    }
    if v & 0o4000 != 0 {
        s.push_str("|SOCK_NONBLOCK");
    }
    s
}

fn protocol(family: u64, p: u64) -> String {
    let family = family as i32;
    if family != libc::AF_INET && family != libc::AF_INET6 {
        return p.to_string();
    }
    match p as i32 {
        libc::IPPROTO_IP => "IPPROTO_IP".into(),
        libc::IPPROTO_ICMP => "IPPROTO_ICMP".into(),
        libc::IPPROTO_TCP => "IPPROTO_TCP".into(),
        libc::IPPROTO_UDP => "IPPROTO_UDP".into(),
        libc::IPPROTO_ICMPV6 => "IPPROTO_ICMPV6".into(),
        libc::IPPROTO_RAW => "IPPROTO_RAW".into(),
        n => n.to_string(),
    }
}

/// A new socket's decoration kind, as `-yy` shows it (`TCP`, `UDPv6`, `UNIX-STREAM`).
fn socket_kind(family: u64, kind: u64) -> String {
    let stream = kind & 0xf == 1;
    match family as i32 {
        libc::AF_INET if stream => "TCP".into(),
        libc::AF_INET => "UDP".into(),
        libc::AF_INET6 if stream => "TCPv6".into(),
        libc::AF_INET6 => "UDPv6".into(),
        libc::AF_UNIX if stream => "UNIX-STREAM".into(),
        libc::AF_UNIX => "UNIX-DGRAM".into(),
        libc::AF_NETLINK => "NETLINK".into(),
        libc::AF_PACKET => "PACKET".into(),
        _ => "socket".into(),
    }
}

/// A socket address as strace shows it.
fn sockaddr(b: &[u8], out: &mut String) {
    if b.len() < 2 {
        out.push_str("{}");
        return;
    }
    let fam = u16::from_ne_bytes([b[0], b[1]]);
    let _ = write!(out, "{{sa_family={}", family(fam));
    match i32::from(fam) {
        libc::AF_INET if b.len() >= 8 => {
            let port = u16::from_be_bytes([b[2], b[3]]);
            let _ = write!(
                out,
                ", sin_port=htons({port}), sin_addr=inet_addr(\"{}.{}.{}.{}\")",
                b[4], b[5], b[6], b[7]
            );
        }
        libc::AF_INET6 if b.len() >= 24 => {
            let port = u16::from_be_bytes([b[2], b[3]]);
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&b[8..24]);
            let addr = std::net::Ipv6Addr::from(octets);
            let _ = write!(
                out,
                ", sin6_port=htons({port}), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"{addr}\", &sin6_addr), sin6_scope_id=0"
            );
        }
        libc::AF_UNIX => {
            let path = &b[2..];
            if path.first() == Some(&0) && path.len() > 1 {
                let name = &path[1..];
                let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
                out.push_str(", sun_path=@");
                quote(&name[..end], out);
            } else {
                let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
                out.push_str(", sun_path=");
                quote(&path[..end], out);
            }
        }
        _ => {}
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::record::Header;

    fn enter(pid: u32, name: &str, args: [u64; 6], strings: &[&str]) -> Event {
        let id = (0..1024)
            .find(|&n| syscall_table::name(Arch::X86_64, n) == Some(name))
            .unwrap();
        Event::Enter(Enter {
            header: Header {
                pid,
                tid: pid,
                ppid: 1,
                time: 5_000_000,
            },
            id: i64::from(id),
            args,
            comm: "cat".into(),
            strings: strings.iter().map(|s| Some(s.as_bytes().to_vec())).collect(),
            ..Enter::default()
        })
    }

    fn exit(pid: u32, ret: i64) -> Event {
        Event::Exit {
            header: Header {
                pid,
                tid: pid,
                ppid: 1,
                time: 6_000_000,
            },
            id: 0,
            ret,
        }
    }

    fn render(events: Vec<Event>) -> Vec<String> {
        let mut r = Renderer::new(1_700_000_000_000_000_000, false);
        let mut out = Vec::new();
        for e in events {
            r.push(e, &mut out);
        }
        out.into_iter().map(|l| l.text).collect()
    }

    #[test]
    fn calls_look_as_strace_prints_them() {
        let at = libc::AT_FDCWD as i64 as u64;
        let lines = render(vec![
            enter(9, "openat", [at, 0, 0o2000000, 0, 0, 0], &["/etc/hostname"]),
            exit(9, 3),
            enter(9, "close", [3, 0, 0, 0, 0, 0], &[]),
            exit(9, 0),
            enter(9, "openat", [at, 0, 0o1101, 0o644, 0, 0], &["/tmp/x y"]),
            exit(9, -13),
            enter(9, "exit_group", [0, 0, 0, 0, 0, 0], &[]),
            Event::ProcessEnd(Header {
                pid: 9,
                tid: 9,
                ppid: 1,
                time: 7_000_000,
            }),
        ]);
        assert_eq!(
            lines,
            [
                "9<cat> 1700000000.005000 openat(AT_FDCWD, \"/etc/hostname\", O_RDONLY|O_CLOEXEC) = 3</etc/hostname> /* pid 9 ppid 1 */"
                    .to_string(),
                "9<cat> 1700000000.005000 close(3</etc/hostname>) = 0 /* pid 9 ppid 1 */".to_string(),
                "9<cat> 1700000000.005000 openat(AT_FDCWD, \"/tmp/x y\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = -1 EACCES (Permission denied) /* pid 9 ppid 1 */".to_string(),
                "9<cat> 1700000000.005000 exit_group(0) = ? /* pid 9 ppid 1 */".to_string(),
                "9 1700000000.007000 +++ exited with 0 +++".to_string(),
            ]
        );
    }

    /// A whole call (most calls' one record) from a start and an end.
    fn whole(start: Event, ret: i64) -> Event {
        let Event::Enter(call) = start else { panic!() };
        Event::Call { call, ret }
    }

    /// The key strace's normalizer makes of a call's line: `name(args) = result`.
    fn key_of_call(line: &str) -> String {
        let (name, rest) = line.split_once('(').unwrap();
        let (args, result) = rest.rsplit_once(") = ").unwrap();
        let mut key = String::new();
        crate::formats::strace::normalize::syscall(name, args, result, &mut crate::normalize::Tokens::new(&mut key));
        key
    }

    #[test]
    fn network_calls_look_as_strace_prints_them_and_key_alike() {
        // A client's socket, its options, a poll, and a connection's ends,
        // beside the lines strace 6.1 printed for curl doing the same.
        let mut peer = vec![0u8; 16];
        peer[0..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        peer[2..4].copy_from_slice(&8765u16.to_be_bytes());
        peer[4..8].copy_from_slice(&[127, 0, 0, 1]);
        let mut local = peer.clone();
        local[2..4].copy_from_slice(&60850u16.to_be_bytes());
        let call = |name: &str, args: [u64; 6], blob: Option<Vec<u8>>, blob2: Option<Vec<u8>>, addr: Option<&[u8]>| {
            let Event::Enter(mut e) = enter(9, name, args, &[]) else {
                panic!()
            };
            e.blob = blob;
            e.blob2 = blob2;
            e.sockaddr = addr.map(<[u8]>::to_vec);
            e
        };
        // Two pollfds: {fd 5, POLLOUT, revents POLLOUT}, {fd 3, POLLIN, 0}.
        let mut fds = Vec::new();
        for (fd, events, revents) in [(5i32, 4u16, 4u16), (3, 1, 0)] {
            fds.extend_from_slice(&fd.to_ne_bytes());
            fds.extend_from_slice(&events.to_ne_bytes());
            fds.extend_from_slice(&revents.to_ne_bytes());
        }
        let request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8765\r\nUser-Agent: curl/7.88.1\r\n".to_vec();
        let lines = render(vec![
            whole(enter(9, "socket", [1, 1, 0, 0, 0, 0], &[]), 3),
            whole(enter(9, "socket", [2, 1, 6, 0, 0, 0], &[]), 5),
            Event::Call {
                call: call(
                    "setsockopt",
                    [5, 6, 1, 0x7ff0, 4, 0],
                    Some(1u32.to_ne_bytes().to_vec()),
                    None,
                    None,
                ),
                ret: 0,
            },
            Event::Call {
                call: call("connect", [5, 0x7ff1, 16, 0, 0, 0], None, None, Some(&peer)),
                ret: -115,
            },
            Event::Call {
                call: call("poll", [0x7ff2, 2, 199, 0, 0, 0], Some(fds), None, None),
                ret: 1,
            },
            Event::Call {
                call: call(
                    "getsockopt",
                    [5, 1, 4, 0x7ff3, 0x7ff4, 0],
                    Some(0u32.to_ne_bytes().to_vec()),
                    Some(4u32.to_ne_bytes().to_vec()),
                    None,
                ),
                ret: 0,
            },
            Event::Call {
                call: call("getsockname", [5, 0x7ff5, 0x7ff6, 0, 0, 0], None, None, Some(&local)),
                ret: 0,
            },
            Event::Call {
                call: call(
                    "sendto",
                    [5, 0x7ff7, 78, 0x4000, 0, 0],
                    Some(request[..32].to_vec()),
                    None,
                    None,
                ),
                ret: 78,
            },
            Event::Call {
                call: call("recvfrom", [5, 0x7ff8, 102400, 0, 0, 0], None, None, None),
                ret: -11,
            },
            whole(enter(9, "close", [5, 0, 0, 0, 0, 0], &[]), 0),
            whole(enter(9, "epoll_create1", [0x80000, 0, 0, 0, 0, 0], &[]), 4),
        ]);
        let calls: Vec<&str> = lines
            .iter()
            .map(|l| l.split_once(' ').unwrap().1.split_once(' ').unwrap().1)
            .map(|l| l.strip_suffix(" /* pid 9 ppid 1 */").unwrap())
            .skip(1)
            .collect();
        assert_eq!(
            calls,
            [
                "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 5<TCP:[0]>",
                "setsockopt(5<TCP:[0]>, SOL_TCP, TCP_NODELAY, [1], 4) = 0",
                "connect(5<TCP:[0]>, {sa_family=AF_INET, sin_port=htons(8765), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = -1 EINPROGRESS (Operation now in progress)",
                "poll([{fd=5<TCP:[0]>, events=POLLOUT}, {fd=3<UNIX-STREAM:[0]>, events=POLLIN}], 2, 199) = 1 ([{fd=5, revents=POLLOUT}])",
                "getsockopt(5<TCP:[0]>, SOL_SOCKET, SO_ERROR, [0], [4]) = 0",
                "getsockname(5<TCP:[127.0.0.1:60850->127.0.0.1:8765]>, {sa_family=AF_INET, sin_port=htons(60850), sin_addr=inet_addr(\"127.0.0.1\")}, [16]) = 0",
                "sendto(5<TCP:[127.0.0.1:60850->127.0.0.1:8765]>, \"GET / HTTP/1.1\\r\\nHost: 127.0.0.1:\"..., 78, MSG_NOSIGNAL, NULL, 0) = 78",
                "recvfrom(5<TCP:[127.0.0.1:60850->127.0.0.1:8765]>, 0x7ff8, 102400, 0, NULL, NULL) = -1 EAGAIN (Resource temporarily unavailable)",
                "close(5<TCP:[127.0.0.1:60850->127.0.0.1:8765]>) = 0",
                "epoll_create1(EPOLL_CLOEXEC) = 4<anon_inode:[eventpoll]>",
            ]
        );
        // strace's lines for the same calls (its inode numbers and its
        // socket's decoration before connecting differ, and key alike).
        let strace = [
            "setsockopt(5<TCP:[3398131]>, SOL_TCP, TCP_NODELAY, [1], 4) = 0",
            "poll([{fd=5<TCP:[127.0.0.1:60850->127.0.0.1:8765]>, events=POLLOUT}, {fd=3<UNIX-STREAM:[3398126->3398127]>, events=POLLIN}], 2, 199) = 1 ([{fd=5, revents=POLLOUT}])",
            "getsockopt(5<TCP:[127.0.0.1:60850->127.0.0.1:8765]>, SOL_SOCKET, SO_ERROR, [0], [4]) = 0",
            "getsockname(5<TCP:[127.0.0.1:60850->127.0.0.1:8765]>, {sa_family=AF_INET, sin_port=htons(60850), sin_addr=inet_addr(\"127.0.0.1\")}, [128 => 16]) = 0",
            "sendto(5<TCP:[127.0.0.1:60850->127.0.0.1:8765]>, \"GET / HTTP/1.1\\r\\nHost: 127.0.0.1:8765\\r\\nUser-Agent: curl/7.88.1\\r\\nAccept: */*\\r\\n\\r\\n\", 78, MSG_NOSIGNAL, NULL, 0) = 78",
            "close(5<TCP:[127.0.0.1:60850->127.0.0.1:8765]>) = 0",
            "epoll_create1(EPOLL_CLOEXEC) = 4<anon_inode:[eventpoll]>",
        ];
        for (ours, theirs) in [1, 3, 4, 5, 6, 8, 9].into_iter().zip(strace) {
            let mut expected = key_of_call(theirs);
            if ours < 5 {
                // Before getsockname, the socket's addresses come from /proc
                // only (not asked here): its decoration is its kind alone.
                expected = expected.replace(" 127.0.0.1 127.0.0.1", "");
            }
            assert_eq!(key_of_call(calls[ours]), expected, "{theirs}");
        }
    }

    #[test]
    fn socket_table_ends_read_as_the_kernel_writes_them() {
        // /proc/net/tcp's words are the address's bytes in this machine's order.
        let v4 = format!("{:08X}:0016", u32::from_ne_bytes([127, 0, 0, 1]));
        assert_eq!(inet_end(&v4).map(end_text).as_deref(), Some("127.0.0.1:22"));
        let one = format!("{:08X}", u32::from_ne_bytes([0, 0, 0, 1]));
        let v6 = format!("000000000000000000000000{one}:1F90");
        assert_eq!(inet_end(&v6).map(end_text).as_deref(), Some("[::1]:8080"));
        assert_eq!(inet_end("0100007F"), None);
        assert_eq!(inet_end("zz:0016"), None);
    }

    #[test]
    fn ppoll_shows_what_is_left_of_its_timeout() {
        let Event::Enter(mut e) = enter(9, "ppoll", [0x7ff0, 1, 0x7ff1, 0, 8, 0], &[]) else {
            panic!()
        };
        let mut fds = 0i32.to_ne_bytes().to_vec();
        fds.extend_from_slice(&1u16.to_ne_bytes());
        fds.extend_from_slice(&0x11u16.to_ne_bytes());
        e.blob = Some(fds);
        let mut left = 0u64.to_ne_bytes().to_vec();
        left.extend_from_slice(&999_000u64.to_ne_bytes());
        e.blob2 = Some(left);
        let lines = render(vec![
            Event::Call {
                call: e.clone(),
                ret: 1,
            },
            Event::Call { call: e, ret: 0 },
        ]);
        assert!(lines[0].contains(
            "ppoll([{fd=0, events=POLLIN}], 1, {tv_sec=0, tv_nsec=999000}, NULL, 8) = 1 ([{fd=0, revents=POLLIN|POLLHUP}], left {tv_sec=0, tv_nsec=999000})"
        ), "{}", lines[0]);
        assert!(lines[1].contains(") = 0 (Timeout)"), "{}", lines[1]);
    }

    #[test]
    fn specs_count_arguments_from_one_so_that_zeroes_read_nothing() {
        // execve(path, argv, envp): the path is a string, argv the second argument.
        assert_eq!(spec("execve"), Some([0b1, 2, 0, 0, 0, 0, 0, 0]));
        // connect(fd, addr, len): the address and its length.
        assert_eq!(spec("connect"), Some([0, 0, 2, 3, 0, 0, 0, 0]));
        assert_eq!(spec("openat"), Some([0b10, 0, 0, 0, 0, 0, 0, 0]));
        // accept(fd, addr, &len): the length read through argument 3's pointer.
        assert_eq!(spec("accept"), Some([0, 0, 2, (-3i8) as u8, 0, 0, 0, 0]));
        // ppoll: four pollfds (the second struct, its timeout, takes the rest).
        assert_eq!(spec("ppoll"), Some([0, 0, 0, 0, 1, 32, 3, 16]));
        // A call that points to nothing has no entry: the kernel's zeroes.
        assert_eq!(spec("close"), None);
        assert!(specs().iter().all(|(_, s)| *s != [0u8; 8]));
    }

    #[test]
    fn what_calls_write_back_looks_as_strace_prints_it() {
        let at = libc::AT_FDCWD as i64 as u64;
        // A directory's struct stat: st_mode at 24, st_size at 48.
        let mut stat = vec![0u8; 56];
        stat[24..28].copy_from_slice(&0o040755u32.to_ne_bytes());
        stat[48..56].copy_from_slice(&4096u64.to_ne_bytes());
        let Event::Enter(mut fstatat) = enter(9, "newfstatat", [at, 0, 0x7ff0, 0, 0, 0], &["/etc"]) else {
            panic!()
        };
        fstatat.blob = Some(stat);
        // glibc's full mask (all but its two signals), then the old one the kernel wrote.
        let Event::Enter(mut mask) = enter(9, "rt_sigprocmask", [2, 0x7ff1, 0x7ff2, 8, 0, 0], &[]) else {
            panic!()
        };
        mask.blob = Some((!(3u64 << 31)).to_ne_bytes().to_vec());
        mask.blob2 = Some(0u64.to_ne_bytes().to_vec());
        let Event::Enter(mut wait) = enter(9, "wait4", [0xffff_ffff, 0x7ff3, 0, 0, 0, 0], &[]) else {
            panic!()
        };
        wait.blob = Some((9u32).to_ne_bytes().to_vec());
        let lines = render(vec![
            Event::Call { call: fstatat, ret: 0 },
            Event::Call { call: mask, ret: 0 },
            Event::Call { call: wait, ret: 12 },
            whole(enter(9, "statx", [at, 0, 0x900, 0x25e, 0, 0], &["/etc"]), -2),
            whole(enter(9, "fcntl", [3, 3, 0, 0, 0, 0], &[]), 0x8002),
            whole(enter(9, "ioctl", [1, 0x5401, 0x7ff4, 0, 0, 0], &[]), -25),
        ]);
        let calls: Vec<&str> = lines
            .iter()
            .map(|l| l.split_once(' ').unwrap().1.split_once(' ').unwrap().1)
            .map(|l| l.strip_suffix(" /* pid 9 ppid 1 */").unwrap())
            .collect();
        assert_eq!(
            calls,
            [
                "newfstatat(AT_FDCWD, \"/etc\", {st_mode=S_IFDIR|0755, st_size=4096, ...}, 0) = 0",
                "rt_sigprocmask(SIG_SETMASK, ~[RTMIN RT_1], [], 8) = 0",
                "wait4(-1, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], 0, NULL) = 12",
                "statx(AT_FDCWD, \"/etc\", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW|AT_NO_AUTOMOUNT, STATX_MODE|STATX_NLINK|STATX_UID|STATX_GID|STATX_MTIME|STATX_SIZE, NULL) = -1 ENOENT (No such file or directory)",
                "fcntl(3, F_GETFL) = 0x8002 (flags O_RDWR|O_LARGEFILE)",
                "ioctl(1, TCGETS, 0x7ff4) = -1 ENOTTY (Inappropriate ioctl for device)",
            ]
        );
    }

    #[test]
    fn a_whole_call_renders_as_its_start_and_end() {
        let at = libc::AT_FDCWD as i64 as u64;
        let open = || enter(9, "openat", [at, 0, 0o2000000, 0, 0, 0], &["/etc/hostname"]);
        let close = || enter(9, "close", [3, 0, 0, 0, 0, 0], &[]);
        let pairs = render(vec![open(), exit(9, 3), close(), exit(9, 0)]);
        let whole_calls = render(vec![whole(open(), 3), whole(close(), 0)]);
        assert_eq!(pairs, whole_calls);
        assert!(
            whole_calls[1].contains("close(3</etc/hostname>) = 0"),
            "{whole_calls:?}"
        );
        // A start whose end never came is printed with `= ?` when the
        // thread's next call arrives.
        let lines = render(vec![enter(9, "rt_sigreturn", [0; 6], &[]), whole(close(), 0)]);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(
            lines[0].contains("rt_sigreturn") && lines[0].contains(" = ? "),
            "{lines:?}"
        );
        // Before the command's execve, its calls are not its own.
        let mut r = Renderer::new(0, false);
        r.skip_until_exec(9);
        let mut out = Vec::new();
        r.push(whole(close(), 0), &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn exec_sockets_clone_and_dup_look_as_strace_prints_them() {
        let mut exec = enter(4, "execve", [1, 2, 3, 0, 0, 0], &["/usr/bin/id"]);
        if let Event::Enter(e) = &mut exec {
            e.argv = Some((vec![Some(b"id".to_vec()), Some(b"-u \"x\"".to_vec())], false));
        }
        let mut connect = enter(4, "connect", [3, 5, 16, 0, 0, 0], &[]);
        if let Event::Enter(e) = &mut connect {
            let mut sa = vec![2u8, 0, 0x1f, 0x90, 127, 0, 0, 1];
            sa.resize(16, 0);
            e.sockaddr = Some(sa);
        }
        let lines = render(vec![
            exec,
            exit(4, 0),
            enter(4, "socket", [2, 0o2000001, 6, 0, 0, 0], &[]),
            exit(4, 3),
            connect,
            exit(4, -111),
            enter(4, "clone", [0x1200011, 0, 0, 0x7f00, 0, 0], &[]),
            exit(4, 5),
            enter(4, "dup2", [3, 1, 0, 0, 0, 0], &[]),
            exit(4, 1),
            enter(4, "mmap", [0, 4096, 5, 0x22, u64::MAX, 0], &[]),
            exit(4, 0x7f0000),
        ]);
        assert!(lines.iter().all(|l| l.ends_with(" /* pid 4 ppid 1 */")), "{lines:?}");
        let calls: Vec<&str> = lines
            .iter()
            .map(|l| {
                let call = l.split_once(' ').unwrap().1.split_once(' ').unwrap().1;
                call.strip_suffix(" /* pid 4 ppid 1 */").unwrap()
            })
            .collect();
        assert_eq!(
            calls,
            [
                "execve(\"/usr/bin/id\", [\"id\", \"-u \\\"x\\\"\"], 0x3 /* ? vars */) = 0",
                "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3<TCP:[0]>",
                "connect(3<TCP:[0]>, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = -1 ECONNREFUSED (Connection refused)",
                "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f00) = 5",
                "dup2(3<TCP:[0]>, 1) = 1<TCP:[0]>",
                "mmap(NULL, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0x0) = 0x7f0000",
            ]
        );
    }
}
