//! The records the BPF program (`ebpf/honk.bpf.c`) writes to its ring buffer,
//! read from their bytes.
//!
//! The layouts are the C structs' (x86_64, natural alignment); a record that
//! is too short for its kind is `None`, never a panic. This module only
//! reads bytes; [`super::render`] makes strace lines of them.

/// Sizes of the string slots, as in the C program.
pub const STR_LEN: usize = 256;
/// Path slots of a call record.
pub const STR_SLOTS: usize = 4;
/// argv strings an `execve` record holds.
pub const ARGV_SLOTS: usize = 16;
/// Bytes of a socket address read.
pub const SOCK_LEN: usize = 128;
/// Bytes of a small struct (clone3's, openat2's) read.
pub const BLOB_LEN: usize = 64;

/// Where a whole call's result is (after the start's fields).
const RET: usize = 96;
/// Where the lengths of a path record's strings are (after the result).
const LENS: usize = RET + 8;
/// Where a path record's socket address is (after the lengths).
const SOCK: usize = LENS + 16;
/// Where the strings of a path record start (after the socket address and the struct).
const STR: usize = SOCK + SOCK_LEN + BLOB_LEN;

const KIND_ENTER: u8 = 1;
const KIND_ENTER_EXEC: u8 = 3;
const KIND_EXIT: u8 = 4;
const KIND_PROCESS_END: u8 = 5;
const KIND_SIGNAL: u8 = 6;
const KIND_CALL: u8 = 7;
const KIND_CALL_PATHS: u8 = 8;

/// Who and when, on every record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Process id (the kernel's tgid).
    pub pid: u32,
    /// Thread id.
    pub tid: u32,
    /// The process's parent, when its fork was seen (0: not known).
    pub ppid: u32,
    /// `CLOCK_MONOTONIC` nanoseconds.
    pub time: u64,
}

/// The start of a system call, with what its arguments point to.
#[derive(Clone, Debug, Default)]
pub struct Enter {
    /// Who and when.
    pub header: Header,
    /// The call's number.
    pub id: i64,
    /// Its six argument registers.
    pub args: [u64; 6],
    /// The thread's name.
    pub comm: String,
    /// The string arguments, in argument order (`None`: not readable).
    pub strings: Vec<Option<Vec<u8>>>,
    /// `execve`'s argv as read (at most [`ARGV_SLOTS`]) and whether there were more.
    pub argv: Option<(Vec<Option<Vec<u8>>>, bool)>,
    /// The socket address argument's bytes.
    pub sockaddr: Option<Vec<u8>>,
    /// The small struct argument's bytes.
    pub blob: Option<Vec<u8>>,
    /// A second small struct argument's bytes.
    pub blob2: Option<Vec<u8>>,
}

/// One record.
#[derive(Clone, Debug)]
pub enum Event {
    /// A whole call, written when it ended (most calls are).
    Call {
        /// The call, as it started.
        call: Enter,
        /// What it returned (`-errno` on failure).
        ret: i64,
    },
    /// A call starts (`execve`, `exit`, `rt_sigreturn`: the calls written as
    /// a start and an end).
    Enter(Enter),
    /// A call returns.
    Exit {
        /// Who and when.
        header: Header,
        /// The call's number.
        id: i64,
        /// What it returned (`-errno` on failure).
        ret: i64,
    },
    /// A process ended (its last thread).
    ProcessEnd(Header),
    /// A signal is delivered.
    Signal {
        /// Who and when.
        header: Header,
        /// The signal.
        sig: i32,
        /// Its `si_code`.
        code: i32,
    },
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn i16_at(b: &[u8], at: usize) -> Option<i16> {
    Some(i16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// A C string read by `bpf_probe_read_user_str` into a slot: `len` counts its
/// NUL; negative is a failed read.
fn c_string(b: &[u8], at: usize, len: i16) -> Option<Vec<u8>> {
    let len = usize::try_from(len).ok()?.min(STR_LEN);
    let slot = b.get(at..at + len)?;
    let end = slot.iter().position(|&c| c == 0).unwrap_or(slot.len());
    Some(slot[..end].to_vec())
}

fn header(b: &[u8]) -> Option<Header> {
    Some(Header {
        pid: u32_at(b, 4)?,
        tid: u32_at(b, 8)?,
        ppid: u32_at(b, 12)?,
        time: u64_at(b, 16)?,
    })
}

fn enter(b: &[u8]) -> Option<Enter> {
    let mut args = [0u64; 6];
    for (i, arg) in args.iter_mut().enumerate() {
        *arg = u64_at(b, 32 + 8 * i)?;
    }
    let comm = b.get(80..96)?;
    let end = comm.iter().position(|&c| c == 0).unwrap_or(comm.len());
    Some(Enter {
        header: header(b)?,
        id: u64_at(b, 24)? as i64,
        args,
        comm: String::from_utf8_lossy(&comm[..end]).into_owned(),
        ..Enter::default()
    })
}

/// Reads one record; `None` when it is shorter than its kind says or of no kind known.
pub fn parse(b: &[u8]) -> Option<Event> {
    match *b.first()? {
        KIND_ENTER => Some(Event::Enter(enter(b)?)),
        KIND_CALL => Some(Event::Call {
            call: enter(b)?,
            ret: u64_at(b, RET)? as i64,
        }),
        KIND_CALL_PATHS => {
            // The strings come last, and the record ends with the last one read.
            if b.len() < STR {
                return None;
            }
            let mut e = enter(b)?;
            for slot in 0..STR_SLOTS {
                let len = i16_at(b, LENS + 2 * slot)?;
                if len < 0 && slot > 0 {
                    break;
                }
                e.strings.push(c_string(b, STR + slot * STR_LEN, len));
            }
            if let Ok(n) = usize::try_from(i16_at(b, LENS + 8)?) {
                e.sockaddr = Some(b.get(SOCK..SOCK + n.min(SOCK_LEN))?.to_vec());
            }
            let blob_at = SOCK + SOCK_LEN;
            if let Ok(n) = usize::try_from(i16_at(b, LENS + 10)?) {
                e.blob = Some(b.get(blob_at..blob_at + n.min(BLOB_LEN))?.to_vec());
            }
            let blob2_at = blob_at + BLOB_LEN / 2;
            if let Ok(n) = usize::try_from(i16_at(b, LENS + 12)?) {
                e.blob2 = Some(b.get(blob2_at..blob2_at + n.min(BLOB_LEN / 2))?.to_vec());
            }
            Some(Event::Call {
                call: e,
                ret: u64_at(b, RET)? as i64,
            })
        }
        KIND_ENTER_EXEC => {
            // The record ends after the last argv string read.
            const PATH: usize = 136;
            const ARGV: usize = PATH + STR_LEN;
            if b.len() < ARGV {
                return None;
            }
            let mut e = enter(b)?;
            e.strings.push(c_string(b, PATH, i16_at(b, 96)?));
            let argc = i16_at(b, 98)?;
            let read = usize::try_from(argc).unwrap_or(0).min(ARGV_SLOTS);
            let mut argv = Vec::with_capacity(read);
            for i in 0..read {
                argv.push(c_string(b, ARGV + i * STR_LEN, i16_at(b, 100 + 2 * i)?));
            }
            e.argv = Some((argv, usize::try_from(argc).unwrap_or(0) > ARGV_SLOTS));
            Some(Event::Enter(e))
        }
        KIND_EXIT => Some(Event::Exit {
            header: header(b)?,
            id: u64_at(b, 24)? as i64,
            ret: u64_at(b, 32)? as i64,
        }),
        KIND_PROCESS_END => Some(Event::ProcessEnd(header(b)?)),
        KIND_SIGNAL => Some(Event::Signal {
            header: header(b)?,
            sig: i32_at(b, 24)?,
            code: i32_at(b, 28)?,
        }),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A record as the BPF program lays it out, for tests.
    pub fn enter_bytes(kind: u8, pid: u32, tid: u32, id: i64, args: [u64; 6], comm: &str) -> Vec<u8> {
        let size = match kind {
            KIND_ENTER => 96,
            KIND_CALL => RET + 8,
            KIND_CALL_PATHS => STR + STR_SLOTS * STR_LEN,
            _ => 136 + STR_LEN + ARGV_SLOTS * STR_LEN,
        };
        let mut b = vec![0u8; size];
        b[0] = kind;
        b[4..8].copy_from_slice(&pid.to_ne_bytes());
        b[8..12].copy_from_slice(&tid.to_ne_bytes());
        b[16..24].copy_from_slice(&1_000_000_000u64.to_ne_bytes());
        b[24..32].copy_from_slice(&id.to_ne_bytes());
        for (i, a) in args.iter().enumerate() {
            b[32 + 8 * i..40 + 8 * i].copy_from_slice(&a.to_ne_bytes());
        }
        b[80..80 + comm.len()].copy_from_slice(comm.as_bytes());
        b
    }

    #[test]
    fn short_and_unknown_records_are_none() {
        assert!(parse(&[]).is_none());
        assert!(parse(&[9; 64]).is_none());
        assert!(parse(&[KIND_ENTER; 40]).is_none());
        assert!(parse(&[KIND_ENTER_EXEC; 200]).is_none());
    }

    #[test]
    fn a_path_record_reads_its_strings_and_result() {
        let mut b = enter_bytes(KIND_CALL_PATHS, 7, 8, 257, [0; 6], "cat");
        b[RET..RET + 8].copy_from_slice(&3i64.to_ne_bytes());
        b[LENS..LENS + 2].copy_from_slice(&14i16.to_ne_bytes());
        b[LENS + 2..LENS + 4].copy_from_slice(&(-1i16).to_ne_bytes());
        b[LENS + 8..LENS + 10].copy_from_slice(&(-1i16).to_ne_bytes());
        b[LENS + 10..LENS + 12].copy_from_slice(&(-1i16).to_ne_bytes());
        b[LENS + 12..LENS + 14].copy_from_slice(&(-1i16).to_ne_bytes());
        b[STR..STR + 13].copy_from_slice(b"/etc/hostname");
        b.truncate(STR + 14);
        let Some(Event::Call { call: e, ret }) = parse(&b) else {
            panic!()
        };
        assert_eq!(
            (e.header.pid, e.header.tid, e.id, e.comm.as_str(), ret),
            (7, 8, 257, "cat", 3)
        );
        assert_eq!(e.strings, vec![Some(b"/etc/hostname".to_vec())]);
        assert!(e.sockaddr.is_none() && e.blob.is_none() && e.blob2.is_none());
        // Cut inside its fixed part: no record.
        b.truncate(STR - 1);
        assert!(parse(&b).is_none());
    }

    #[test]
    fn a_call_record_reads_its_result() {
        let mut b = enter_bytes(KIND_CALL, 7, 9, 3, [4, 0, 0, 0, 0, 0], "cat");
        b[RET..RET + 8].copy_from_slice(&(-9i64).to_ne_bytes());
        let Some(Event::Call { call: e, ret }) = parse(&b) else {
            panic!()
        };
        assert_eq!((e.header.tid, e.id, e.args[0], ret), (9, 3, 4, -9));
        assert!(parse(&b[..RET + 4]).is_none());
    }
}
