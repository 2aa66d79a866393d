//! Where `pid` sits in the kernel's `struct task_struct`, read from the
//! kernel's BTF (`/sys/kernel/btf/vmlinux`): what the raw tracepoint
//! `sched_process_fork`, which hands over the child's task_struct, needs to
//! read the child's pid.
//!
//! A scan of the type section for one struct and one member, nothing more:
//! it does not resolve types or relocate anything. Bytes it cannot read
//! give `None`, never a panic, and honk then uses the classic tracepoint.

/// BTF's magic number, as its first two bytes say it.
const MAGIC: u16 = 0xeb9f;

/// The byte offset of `pid` in `struct task_struct`, from the BTF at `path`.
pub fn task_pid_offset_in(path: &str) -> Option<u32> {
    task_pid_offset(&std::fs::read(path).ok()?)
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

/// One struct's or union's members: name, type id, bit offset.
struct Composite {
    members: Vec<(u32, u32, u32)>,
}

/// The byte offset of `pid` in `struct task_struct`, from BTF bytes
/// (little-endian, as on x86_64).
pub fn task_pid_offset(b: &[u8]) -> Option<u32> {
    if u16_at(b, 0)? != MAGIC {
        return None;
    }
    let header = u32_at(b, 4)? as usize;
    let (type_off, type_len) = (u32_at(b, 8)? as usize, u32_at(b, 12)? as usize);
    let (str_off, str_len) = (u32_at(b, 16)? as usize, u32_at(b, 20)? as usize);
    let types = b.get(header.checked_add(type_off)?..header.checked_add(type_off)?.checked_add(type_len)?)?;
    let strings = b.get(header.checked_add(str_off)?..header.checked_add(str_off)?.checked_add(str_len)?)?;
    let name = |off: u32| -> &[u8] {
        let rest = strings.get(off as usize..).unwrap_or_default();
        &rest[..rest.iter().position(|&c| c == 0).unwrap_or(rest.len())]
    };
    // Type ids count from 1; keep the structs and unions, by id.
    let mut composites: std::collections::HashMap<u32, Composite> = std::collections::HashMap::new();
    let mut task = None;
    let (mut at, mut id) = (0usize, 1u32);
    while at + 12 <= types.len() {
        let (name_off, info) = (u32_at(types, at)?, u32_at(types, at + 4)?);
        let kind = (info >> 24) & 0x1f;
        let vlen = (info & 0xffff) as usize;
        let bitfields = info >> 31 == 1;
        at += 12;
        let extra = match kind {
            1 | 14 | 17 => 4,
            3 => 12,
            4 | 5 => 12 * vlen,
            6 | 13 => 8 * vlen,
            15 | 19 => 12 * vlen,
            2 | 7..=12 | 16 | 18 => 0,
            _ => return None,
        };
        if kind == 4 || kind == 5 {
            let mut members = Vec::with_capacity(vlen);
            for m in 0..vlen {
                let base = at + 12 * m;
                let offset = u32_at(types, base + 8)?;
                let bits = if bitfields { offset & 0xff_ffff } else { offset };
                members.push((u32_at(types, base)?, u32_at(types, base + 4)?, bits));
            }
            if kind == 4 && name(name_off) == b"task_struct" && task.is_none() && vlen > 0 {
                task = Some(id);
            }
            composites.insert(id, Composite { members });
        }
        at += extra;
        id += 1;
    }
    let bits = find(&composites, task?, b"pid", &name, 0)?;
    (bits % 8 == 0).then_some(bits / 8)
}

/// The bit offset of member `wanted` in composite `id`, looking into its
/// anonymous structs and unions too.
fn find<'s>(
    composites: &std::collections::HashMap<u32, Composite>,
    id: u32,
    wanted: &[u8],
    name: &dyn Fn(u32) -> &'s [u8],
    depth: u32,
) -> Option<u32> {
    let composite = composites.get(&id)?;
    for &(member, _, bits) in &composite.members {
        if member != 0 && name(member) == wanted {
            return Some(bits);
        }
    }
    if depth >= 4 {
        return None;
    }
    for &(member, kind, bits) in &composite.members {
        if member == 0 {
            if let Some(inner) = find(composites, kind, wanted, name, depth + 1) {
                return Some(bits + inner);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_gives_nothing() {
        assert_eq!(task_pid_offset(&[]), None);
        assert_eq!(task_pid_offset(&[0x9f, 0xeb, 1, 0]), None);
        assert_eq!(task_pid_offset(&[0u8; 64]), None);
        let mut b = vec![0x9f, 0xeb, 1, 0];
        b.extend_from_slice(&24u32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        assert_eq!(task_pid_offset(&b), None);
    }

    /// On a kernel with BTF, an offset is found, and a plausible one (past
    /// the start, 4-byte aligned). That it is right is shown by the eBPF
    /// tests: a command's children are watched from their fork through it.
    #[test]
    fn this_kernels_task_struct_has_a_pid() {
        let Some(offset) = task_pid_offset_in("/sys/kernel/btf/vmlinux") else {
            assert!(
                !std::path::Path::new("/sys/kernel/btf/vmlinux").exists(),
                "the kernel has BTF, but no pid was found in task_struct"
            );
            return;
        };
        eprintln!("pid is at byte {offset} of task_struct");
        assert!(offset > 0 && offset % 4 == 0 && offset < 16384, "{offset}");
    }
}
