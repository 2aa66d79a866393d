//! Loading and reading the BPF program with aya: the part of the capture that
//! talks to the kernel.
//!
//! It loads the committed object (`ebpf/honk.bpf.o`), fills its maps (which
//! calls to read what for, who is watched), attaches its tracepoints, and
//! hands back the ring buffer's records and the lost-record count. It does
//! not decode records ([`super::record`]) or start the command ([`super`]).
//! No unsafe code: aya's map and program types are safe.

use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use aya::maps::{Array, HashMap, MapData, PerCpuArray, RingBuf};
use aya::programs::trace_point::TracePointLink;
use aya::programs::{RawTracePoint, TracePoint};
use aya::{Ebpf, EbpfLoader};

use super::CaptureError;

/// The BPF object, built by `ebpf/build.sh` from `ebpf/honk.bpf.c`.
static OBJECT: &[u8] = aya::include_bytes_aligned!("ebpf/honk.bpf.o");

/// Who the kernel side watches.
pub enum Who<'a> {
    /// These processes and, as they fork, their descendants; `spawner` is a
    /// thread whose children are watched from their fork.
    Tree {
        /// Processes watched from the start (with their parents).
        pids: &'a [(u32, u32)],
        /// A thread (of honk) whose next children are watched.
        spawner: Option<u32>,
    },
    /// Every process with this name (at most 15 bytes).
    Comm(&'a [u8]),
    /// Every process in a cgroup or below it.
    Cgroup {
        /// The cgroup's id (its directory's inode).
        id: u64,
        /// Its depth below the hierarchy's root (the root is 0).
        level: u32,
    },
}

/// A loaded, attached program.
pub struct Kernel {
    /// The classic fork tracepoint's attachment, when it is used, detached on
    /// drop (which waits for RCU grace periods, about 75 ms here); the raw
    /// ones go with the object.
    _fork: Option<TracePointLink>,
    _bpf: Ebpf,
    ring: RingBuf<MapData>,
    ready: OwnedFd,
    lost: PerCpuArray<MapData, u64>,
    tracked: Option<HashMap<MapData, u32, u32>>,
    spawners: Option<HashMap<MapData, u32, u32>>,
}

fn load_error(what: &str, e: impl std::fmt::Display + std::fmt::Debug) -> CaptureError {
    let text = format!("{e:?}");
    if text.contains("EPERM") || text.contains("PermissionDenied") || text.contains("Operation not permitted") {
        return CaptureError::NotPermitted;
    }
    CaptureError::Kernel(format!("{what}: {e}"))
}

/// The BPF object to load: the embedded one; with the `bench-object` cargo
/// feature (for bench/ebpf_floor.sh, never in a release), the file
/// `HONK_BPF_OBJECT` names when it is set.
fn object() -> std::borrow::Cow<'static, [u8]> {
    #[cfg(feature = "bench-object")]
    if let Some(path) = std::env::var_os("HONK_BPF_OBJECT") {
        if let Ok(bytes) = std::fs::read(path) {
            return std::borrow::Cow::Owned(bytes);
        }
    }
    std::borrow::Cow::Borrowed(OBJECT)
}

impl Kernel {
    /// Loads the program with a ring buffer of `ring_bytes` and starts watching `who`.
    pub fn start(who: &Who<'_>, ring_bytes: u32) -> Result<Kernel, CaptureError> {
        // Where a task's pid is, for the raw fork tracepoint; without it the
        // classic one is used.
        let pid_offset = super::btf::task_pid_offset_in("/sys/kernel/btf/vmlinux");
        let mut bpf = EbpfLoader::new()
            // The program reads no kernel structure (no CO-RE relocations), so
            // the kernel's BTF, 5 MB that aya would parse first (about 0.1 s),
            // is not needed.
            .btf(None)
            .set_max_entries("EVENTS", ring_bytes)
            .load(&object())
            .map_err(|e| {
                let text = format!("{e:?}");
                if text.contains("EPERM") || text.contains("Operation not permitted") {
                    CaptureError::NotPermitted
                } else if text.contains("RINGBUF") || text.contains("ringbuf") || text.contains("EINVAL") {
                    CaptureError::OldKernel(format!("{e}"))
                } else {
                    load_error("loading the BPF program", e)
                }
            })?;
        {
            let mut config: Array<_, [u8; 40]> =
                Array::try_from(bpf.map_mut("CONFIG").ok_or_else(|| missing("CONFIG"))?)
                    .map_err(|e| load_error("CONFIG", e))?;
            let mut value = [0u8; 40];
            value[32..36].copy_from_slice(&pid_offset.unwrap_or(0).to_ne_bytes());
            match who {
                Who::Tree { .. } => {}
                Who::Comm(name) => {
                    value[0] = 1;
                    let n = name.len().min(15);
                    value[16..16 + n].copy_from_slice(&name[..n]);
                }
                Who::Cgroup { id, level } => {
                    value[0] = 2;
                    value[4..8].copy_from_slice(&level.to_ne_bytes());
                    value[8..16].copy_from_slice(&id.to_ne_bytes());
                }
            }
            config.set(0, value, 0).map_err(|e| load_error("CONFIG", e))?;
        }
        {
            let mut specs: Array<_, [u8; 8]> = Array::try_from(bpf.map_mut("SPECS").ok_or_else(|| missing("SPECS"))?)
                .map_err(|e| load_error("SPECS", e))?;
            for (nr, spec) in super::render::specs() {
                if nr < specs.len() {
                    specs.set(nr, spec, 0).map_err(|e| load_error("SPECS", e))?;
                }
            }
        }
        if let Who::Tree { pids, .. } = who {
            let mut parents: HashMap<_, u32, u32> =
                HashMap::try_from(bpf.map_mut("PARENTS").ok_or_else(|| missing("PARENTS"))?)
                    .map_err(|e| load_error("PARENTS", e))?;
            for &(pid, ppid) in *pids {
                parents.insert(pid, ppid, 0).map_err(|e| load_error("PARENTS", e))?;
            }
            let mut tracked: HashMap<_, u32, u32> =
                HashMap::try_from(bpf.map_mut("TRACKED").ok_or_else(|| missing("TRACKED"))?)
                    .map_err(|e| load_error("TRACKED", e))?;
            for &(pid, ppid) in *pids {
                tracked.insert(pid, ppid, 0).map_err(|e| load_error("TRACKED", e))?;
            }
        }
        ensure_tracefs();
        let fork = if fork_record_has_inline_comms() {
            "process_fork_old"
        } else {
            "process_fork"
        };
        let fork_link = if pid_offset.is_some() {
            let p: &mut RawTracePoint = bpf
                .program_mut("process_fork_raw")
                .ok_or_else(|| missing("process_fork_raw"))?
                .try_into()
                .map_err(|e| load_error("process_fork_raw", e))?;
            p.load().map_err(|e| load_error("verifying process_fork_raw", e))?;
            p.attach("sched_process_fork")
                .map_err(|e| load_error("attaching to the raw tracepoint sched_process_fork", e))?;
            None
        } else {
            let p: &mut TracePoint = bpf
                .program_mut(fork)
                .ok_or_else(|| missing(fork))?
                .try_into()
                .map_err(|e| load_error(fork, e))?;
            p.load().map_err(|e| load_error(&format!("verifying {fork}"), e))?;
            let id = p
                .attach("sched", "sched_process_fork")
                .map_err(|e| load_error("attaching to sched:sched_process_fork", e))?;
            Some(p.take_link(id).map_err(|e| load_error(fork, e))?)
        };
        for (program, tracepoint) in [
            ("process_exit", "sched_process_exit"),
            ("signal_deliver", "signal_deliver"),
            ("sys_exit", "sys_exit"),
            ("sys_enter", "sys_enter"),
        ] {
            let p: &mut RawTracePoint = bpf
                .program_mut(program)
                .ok_or_else(|| missing(program))?
                .try_into()
                .map_err(|e| load_error(program, e))?;
            p.load().map_err(|e| load_error(&format!("verifying {program}"), e))?;
            p.attach(tracepoint)
                .map_err(|e| load_error(&format!("attaching to the raw tracepoint {tracepoint}"), e))?;
        }
        let events = bpf.take_map("EVENTS").ok_or_else(|| missing("EVENTS"))?;
        // A second descriptor of the ring buffer, to wait on with poll(2).
        let ready = match &events {
            aya::maps::Map::RingBuf(data) => data
                .fd()
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| CaptureError::Kernel(format!("the ring buffer's descriptor: {e}")))?,
            _ => return Err(missing("EVENTS as a ring buffer")),
        };
        let ring = RingBuf::try_from(events).map_err(|e| load_error("EVENTS", e))?;
        let lost = PerCpuArray::try_from(bpf.take_map("LOST").ok_or_else(|| missing("LOST"))?)
            .map_err(|e| load_error("LOST", e))?;
        let (tracked, spawners) = match who {
            Who::Tree { spawner, .. } => {
                let tracked = HashMap::try_from(bpf.take_map("TRACKED").ok_or_else(|| missing("TRACKED"))?)
                    .map_err(|e| load_error("TRACKED", e))?;
                let mut spawners: HashMap<MapData, u32, u32> =
                    HashMap::try_from(bpf.take_map("SPAWNERS").ok_or_else(|| missing("SPAWNERS"))?)
                        .map_err(|e| load_error("SPAWNERS", e))?;
                if let Some(tid) = spawner {
                    spawners.insert(*tid, 1, 0).map_err(|e| load_error("SPAWNERS", e))?;
                }
                (Some(tracked), Some(spawners))
            }
            _ => (None, None),
        };
        Ok(Kernel {
            _fork: fork_link,
            _bpf: bpf,
            ring,
            ready,
            lost,
            tracked,
            spawners,
        })
    }

    /// The spawning thread is done: its later children are not watched.
    pub fn spawned(&mut self, tid: u32) {
        if let Some(spawners) = &mut self.spawners {
            let _ = spawners.remove(&tid);
        }
    }

    /// Whether any process is still watched (always true unless watching a
    /// tree). An entry whose process is gone is dropped: a process that
    /// exited between honk's look at /proc and the program's start left one.
    pub fn anyone_watched(&mut self) -> bool {
        let Some(tracked) = &mut self.tracked else {
            return true;
        };
        let keys: Vec<u32> = tracked.keys().filter_map(Result::ok).collect();
        let mut alive = false;
        for pid in keys {
            if std::path::Path::new(&format!("/proc/{pid}")).exists() {
                alive = true;
            } else {
                let _ = tracked.remove(&pid);
            }
        }
        alive
    }

    /// Waits up to `wait` for records, then hands each one waiting to `each`.
    pub fn read(&mut self, wait: Duration, each: &mut dyn FnMut(&[u8])) -> usize {
        let mut n = 0;
        while let Some(item) = self.ring.next() {
            each(&item);
            n += 1;
        }
        if n == 0 && !wait.is_zero() {
            let mut fds = [rustix::event::PollFd::new(&self.ready, rustix::event::PollFlags::IN)];
            let timeout = rustix::time::Timespec {
                tv_sec: wait.as_secs() as i64,
                tv_nsec: i64::from(wait.subsec_nanos()),
            };
            let _ = rustix::event::poll(&mut fds, Some(&timeout));
            while let Some(item) = self.ring.next() {
                each(&item);
                n += 1;
            }
        }
        n
    }

    /// Records the kernel side dropped because the ring buffer was full.
    pub fn lost(&self) -> u64 {
        self.lost
            .get(&0, 0)
            .map(|values| values.iter().copied().sum())
            .unwrap_or(0)
    }
}

fn missing(what: &str) -> CaptureError {
    CaptureError::Kernel(format!("the BPF object has no {what}"))
}

/// Mounts tracefs where the tracepoints are attached from, when it is not
/// mounted (containers often lack it); failing that, attaching says why.
fn ensure_tracefs() {
    for dir in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] {
        if std::path::Path::new(dir).join("events").is_dir() {
            return;
        }
    }
    let _ = rustix::mount::mount(
        "tracefs",
        "/sys/kernel/tracing",
        "tracefs",
        rustix::mount::MountFlags::empty(),
        None,
    );
}

/// Whether `sched_process_fork`'s record has its comms inline (before Linux
/// 6.10); later kernels put them out of line (`__data_loc`), which moves
/// `child_pid`.
fn fork_record_has_inline_comms() -> bool {
    for dir in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] {
        let path = format!("{dir}/events/sched/sched_process_fork/format");
        if let Ok(format) = std::fs::read_to_string(path) {
            return !format.contains("__data_loc char[] child_comm");
        }
    }
    false
}
