//! Audit events: the tokens strace's normalization keeps, read from the fields
//! of an event's joined audit records.
//!
//! For a syscall event: the syscall name; the errno name of a failure
//! (`exit=-13` is `EACCES`; `ausearch -i` writes `exit=EACCES(...)`); each
//! `PATH` record's `name` whole (twice) and in parts, with its `nametype`
//! (paths of `PARENT` items are left out: the file itself is named by the
//! next item); for `execve`, the program (item 0) and the arguments `a1`...
//! like strace's (`a0` repeats the program name); a `SOCKADDR`'s family,
//! `port=` and address, decoded from the hex `saddr` (or read from `ausearch
//! -i`'s `{ saddr_fam=inet laddr=... lport=... }`); the process as `comm=NAME`
//! and its `exe` path. Strings audit hex-encoded (names with spaces, quotes or
//! control characters) are decoded first.
//!
//! For other events (`USER_AUTH`, `LOGIN`, `CONFIG_CHANGE`, `AVC`, ...) and
//! fields this module has no rule for, a field is kept as `key=value` unless
//! its value is a number or hex, empty (`?`, `(none)`, `(null)`); the inside
//! of a user-space `msg='...'` is read as fields too. `res=` is written
//! `res=success` or `res=failed` whatever its spelling (`1`, `yes`,
//! `success`). The type of a record that is not one of a syscall's usual
//! companions (`CWD`, `PATH`, `EXECVE`, `SOCKADDR`, `PROCTITLE`,
//! `BPRM_FCAPS`) is kept as a token, so `sendto` with a `CONFIG_CHANGE` is not
//! just any `sendto`.
//!
//! Dropped: ids and numbers that vary per run or per machine (`pid`, `ppid`,
//! `auid`, `uid`… `ses`, `tty`, `items`, `inode`, `dev`, `mode`, `ouid`,
//! `ogid`, `rdev`, `cap_*`, `a0`–`a3` of the `SYSCALL` record, `arch`,
//! `argc`, the stamp), the rule `key`, the working directory (`CWD`), the
//! `PROCTITLE` (the command line is in `EXECVE` and `comm`), capability
//! bookkeeping (`BPRM_FCAPS`), auditd's version fields, and the `ENRICHED`
//! interpretations (upper-case keys: `AUID="root"`, `SYSCALL=openat`), which
//! repeat raw fields in a form that differs between RAW and ENRICHED logs.
//! The same event therefore has the same tokens in a RAW log, an ENRICHED log
//! and `ausearch -i` output.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::parse::{decode_string, fields, Field};
use crate::formats::gvisor::normalize::errno_name;
use crate::formats::strace::normalize::push_path;
use crate::formats::strace::normalize::{push_argument, push_program};
use crate::normalize::{mask_path, push_words, Tokens};

/// `execve` arguments looked at.
const ARGV_STRINGS: usize = 16;

/// Tokens of one audit event.
pub fn event(name: &str, args: &str, result: &str, out: &mut Tokens) {
    out.push(name);
    let exec = name == "execve" || name == "execveat";
    // The records of the event, each with its fields.
    let mut records: Vec<(&str, Vec<Field>)> = vec![("", Vec::new())];
    for f in fields(args) {
        if f.key == "type" {
            records.push((f.value, Vec::new()));
        } else if let Some((_, record_fields)) = records.last_mut() {
            record_fields.push(f);
        }
    }
    // A unix socket's path is in its SOCKADDR and again in a PATH record: count it once, as strace shows it.
    let socket_path = records
        .iter()
        .filter(|(typ, _)| *typ == "SOCKADDR")
        .flat_map(|(_, fs)| fs.iter().filter(|f| f.key == "saddr"))
        .find_map(|f| match sockaddr(f.value) {
            Some(Sockaddr::Unix(path)) => Some(path),
            _ => None,
        });
    for (typ, record_fields) in &records {
        record(typ, record_fields, name, exec, socket_path.as_deref(), out);
    }
    push_result(result, out);
}

/// The tokens of one record of the event.
fn record(typ: &str, fields: &[Field], name: &str, exec: bool, socket_path: Option<&str>, out: &mut Tokens) {
    if out.full() || (typ.is_empty() && fields.is_empty()) {
        return;
    }
    let usual = matches!(
        typ,
        "" | "SYSCALL" | "CWD" | "PATH" | "EXECVE" | "SOCKADDR" | "PROCTITLE" | "BPRM_FCAPS" | "EOE"
    );
    if !usual && typ != name {
        out.push(typ);
    }
    match typ {
        "CWD" | "PROCTITLE" | "BPRM_FCAPS" => {}
        "PATH" => path_record(fields, exec, socket_path, out),
        "EXECVE" => {
            for f in fields {
                // `a1`, not `a1_len` or the pieces `a1[0]` of a very long argument.
                let index = f.key.strip_prefix('a').and_then(|n| n.parse::<usize>().ok());
                if index.is_some_and(|i| (1..ARGV_STRINGS).contains(&i)) {
                    push_argument(&decode_string(f.value), out);
                }
            }
        }
        "SOCKADDR" => {
            for f in fields.iter().filter(|f| f.key == "saddr") {
                push_sockaddr(f.value, out);
            }
        }
        _ => generic(fields, out),
    }
}

/// A `PATH` record: the file (not its parent directory), or for `execve` the program.
fn path_record(fields: &[Field], exec: bool, socket_path: Option<&str>, out: &mut Tokens) {
    let value = |key: &str| fields.iter().find(|f| f.key == key).map(|f| f.value);
    let name = value("name").map(decode_string);
    let name = name.as_deref().filter(|n| !n.is_empty() && *n != "(null)");
    let nametype = value("nametype");
    if exec {
        // Item 0 is the program; the next one is its ELF interpreter, the same for every program.
        if value("item") == Some("0") {
            if let Some(name) = name {
                push_program(name, out);
            }
        }
        return;
    }
    if nametype != Some("PARENT") && name != socket_path {
        if let Some(name) = name {
            push_path(name, out);
        }
    }
    if let Some(nametype) = nametype {
        out.push_pair("nametype=", nametype);
    }
}

/// Keys whose values vary per run or machine, or repeat what is kept elsewhere.
fn dropped(key: &str) -> bool {
    matches!(
        key,
        "pid"
            | "ppid"
            | "auid"
            | "uid"
            | "gid"
            | "euid"
            | "suid"
            | "fsuid"
            | "egid"
            | "sgid"
            | "fsgid"
            | "ses"
            | "tty"
            | "items"
            | "item"
            | "inode"
            | "dev"
            | "mode"
            | "ouid"
            | "ogid"
            | "rdev"
            | "key"
            | "serial"
            | "time"
            | "arch"
            | "syscall"
            | "success"
            | "exit"
            | "argc"
            | "a0"
            | "a1"
            | "a2"
            | "a3"
            | "proctitle"
            | "cwd"
            | "ver"
            | "kernel"
            | "auditd_pid"
    ) || key.starts_with("cap_")
        || key.starts_with("old")
}

/// Fields of a `SYSCALL` record, a user-space message, or any other record.
fn generic(fields: &[Field], out: &mut Tokens) {
    for f in fields {
        if out.full() {
            return;
        }
        let key = f.key;
        // Words that are not fields, and the ENRICHED interpretations (upper-case keys).
        if key.is_empty() || key.starts_with(|c: char| c.is_ascii_uppercase()) || dropped(key) {
            continue;
        }
        if key == "msg" {
            // A user-space message's own fields: `msg='op=PAM:authentication ... res=success'`.
            if let Some(inner) = f.value.strip_prefix('\'') {
                let inner = inner.strip_suffix('\'').unwrap_or(inner);
                let inner: Vec<Field> = fields_of(inner);
                generic(&inner, out);
            }
            continue;
        }
        let value = decode_string(f.value);
        let value = value.trim();
        if matches!(value, "" | "?" | "(none)" | "(null)") {
            continue;
        }
        match key {
            "comm" => out.push_pair("comm=", value),
            "exe" => out.push(&mask_path(value)),
            "name" | "path" => push_path(value, out),
            "res" | "result" => out.push(match value {
                "1" | "yes" | "success" => "res=success",
                "0" | "no" | "failed" | "fail" => "res=failed",
                _ => "res=other",
            }),
            _ if is_numeric(value) => {}
            _ if value.starts_with('/') => {
                let mut token = String::with_capacity(key.len() + 1 + value.len());
                token.push_str(key);
                token.push('=');
                token.push_str(&mask_path(value));
                out.push(&token);
            }
            _ if value.contains(char::is_whitespace) => push_words(value, 4, out),
            _ => {
                let mut token = String::with_capacity(key.len() + 1 + value.len());
                token.push_str(key);
                token.push('=');
                token.push_str(value);
                out.push(&token);
            }
        }
    }
}

fn fields_of(text: &str) -> Vec<Field<'_>> {
    fields(text).collect()
}

/// A number or hex value (`0`, `-1`, `0x1f`, `000001fffeffffff`, `c000003e`):
/// hex letters alone (`add`, `bad`) are words.
fn is_numeric(value: &str) -> bool {
    let v = value.strip_prefix('-').unwrap_or(value);
    let v = v.strip_prefix("0x").unwrap_or(v);
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_hexdigit()) && v.bytes().any(|b| b.is_ascii_digit())
}

/// A decoded `SOCKADDR`.
#[derive(Debug, PartialEq, Eq)]
enum Sockaddr {
    Unix(String),
    /// An abstract unix socket: a name, not a file.
    Abstract(String),
    Inet {
        family: &'static str,
        port: Option<u16>,
        address: Option<String>,
    },
    Family(&'static str),
    /// A family this module has no name for: its number, or `ausearch -i`'s word.
    Other(String),
}

/// A socket address: hex `struct sockaddr` bytes, or `ausearch -i`'s `{ saddr_fam=... }`.
fn sockaddr(value: &str) -> Option<Sockaddr> {
    if let Some(inner) = value.strip_prefix('{') {
        let inner = inner.strip_suffix('}').unwrap_or(inner);
        let get = |key: &str| fields(inner).find(|f| f.key == key).map(|f| f.value);
        return Some(match get("saddr_fam")? {
            "local" | "unix" => match get("path") {
                Some(path) => Sockaddr::Unix(path.to_owned()),
                None => Sockaddr::Family("AF_UNIX"),
            },
            fam @ ("inet" | "inet6") => Sockaddr::Inet {
                family: if fam == "inet" { "AF_INET" } else { "AF_INET6" },
                port: get("lport").and_then(|p| p.parse().ok()),
                address: get("laddr").map(str::to_owned),
            },
            "netlink" => Sockaddr::Family("AF_NETLINK"),
            other => Sockaddr::Other(other.to_owned()),
        });
    }
    let bytes = hex_bytes(value)?;
    let (&lo, &hi) = (bytes.first()?, bytes.get(1)?);
    // `sa_family` is in host byte order (little-endian on x86 and arm64); ports are big-endian.
    let family = u16::from_le_bytes([lo, hi]);
    let port = bytes.get(2..4).map(|p| u16::from_be_bytes([p[0], p[1]]));
    let cstr = |b: &[u8]| {
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).into_owned()
    };
    Some(match family {
        1 => {
            let path = bytes.get(2..).unwrap_or(&[]);
            match path.strip_prefix(&[0]) {
                Some(name) => Sockaddr::Abstract(cstr(name)),
                None => Sockaddr::Unix(cstr(path)),
            }
        }
        2 => Sockaddr::Inet {
            family: "AF_INET",
            port,
            address: bytes
                .get(4..8)
                .map(|a| Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string()),
        },
        10 => Sockaddr::Inet {
            family: "AF_INET6",
            port,
            address: bytes
                .get(8..24)
                .and_then(|a| <[u8; 16]>::try_from(a).ok())
                .map(|a| Ipv6Addr::from(a).to_string()),
        },
        0 => Sockaddr::Family("AF_UNSPEC"),
        16 => Sockaddr::Family("AF_NETLINK"),
        17 => Sockaddr::Family("AF_PACKET"),
        38 => Sockaddr::Family("AF_ALG"),
        40 => Sockaddr::Family("AF_VSOCK"),
        other => Sockaddr::Other(other.to_string()),
    })
}

/// A socket address as strace's tokens: family, `port=`, address, or the unix path.
fn push_sockaddr(value: &str, out: &mut Tokens) {
    match sockaddr(value) {
        Some(Sockaddr::Unix(path)) => {
            out.push("AF_UNIX");
            push_path(&path, out);
        }
        Some(Sockaddr::Abstract(name)) => {
            out.push("AF_UNIX");
            push_words(&name, 4, out);
        }
        Some(Sockaddr::Inet { family, port, address }) => {
            out.push(family);
            if let Some(port) = port {
                out.push_pair("port=", &port.to_string());
            }
            if let Some(address) = address {
                out.push(&address);
            }
        }
        Some(Sockaddr::Family(family)) => out.push(family),
        Some(Sockaddr::Other(family)) => out.push_pair("family=", &family),
        None => {}
    }
}

/// Bytes of an even-length hex string (either case), or `None`.
fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    let b = hex.as_bytes();
    if b.len() < 2 || !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16);
            Some((digit(pair[0])? << 4 | digit(pair[1])?) as u8)
        })
        .collect()
}

/// The errno name of a failed call: `exit=-13`, or `exit=EACCES(Permission denied)` from `ausearch -i`.
fn push_result(result: &str, out: &mut Tokens) {
    for f in fields(result) {
        if f.key != "exit" {
            continue;
        }
        let value = f.value;
        if let Some(digits) = value.strip_prefix('-') {
            if let Ok(n) = digits.parse::<u32>() {
                match errno_name(n) {
                    Some(name) => out.push(name),
                    None => out.push_pair("errno=", digits),
                }
            }
        } else if value.starts_with('E') {
            let end = value
                .bytes()
                .position(|b| !(b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
                .unwrap_or(value.len());
            out.push(&value[..end]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::audit::parse::AuditParser;
    use crate::parse::testing::parse_all;
    use crate::parse::Record;

    const ENRICHED: &str = include_str!("../../../tests/fixtures/audit/enriched.log");
    const RAW: &str = include_str!("../../../tests/fixtures/audit/raw.log");
    const AUSEARCH_I: &str = include_str!("../../../tests/fixtures/audit/ausearch-i.txt");

    fn parse(input: &str) -> Vec<Record> {
        parse_all(AuditParser::default(), input)
    }

    /// The key of the event with serial `serial`.
    fn key_of(input: &str, serial: u32) -> String {
        let records = parse(input);
        let needle = format!(":{serial}):");
        let needle_i = format!(":{serial}) :");
        let record = records
            .iter()
            .find(|r| r.text.contains(&needle) || r.text.contains(&needle_i))
            .unwrap_or_else(|| panic!("no event {serial}"));
        crate::normalize::key_of(record)
    }

    fn sorted(key: &str) -> Vec<&str> {
        let mut tokens: Vec<&str> = key.split(' ').collect();
        tokens.sort_unstable();
        tokens
    }

    #[test]
    fn openat_of_etc_shadow() {
        let denied = key_of(RAW, 286);
        assert_eq!(
            denied,
            "openat comm=cat /usr/bin/cat /etc/shadow /etc/shadow etc shadow nametype=NORMAL EACCES"
        );
        // The same event in the ENRICHED log (another run) and in `ausearch -i` output.
        assert_eq!(key_of(ENRICHED, 246), denied);
        assert_eq!(sorted(&key_of(AUSEARCH_I, 286)), sorted(&denied));
        assert_eq!(
            key_of(RAW, 281),
            "openat comm=cat /usr/bin/cat /etc/shadow /etc/shadow etc shadow nametype=NORMAL"
        );
        // A name audit hex-encoded because of its space.
        assert_eq!(
            key_of(RAW, 290),
            "openat comm=cat /usr/bin/cat /tmp/a_b.txt /tmp/a_b.txt tmp a_b.txt nametype=NORMAL"
        );
    }

    #[test]
    fn execve_of_sh_c_id() {
        let k = key_of(RAW, 282);
        // `exe` is what ran: /usr/bin/sh is a link to dash.
        assert_eq!(k, "execve comm=sh /usr/bin/dash -c id /usr/bin/sh /usr/bin/sh");
        assert_eq!(key_of(ENRICHED, 242), k);
        // A hex-encoded script argument.
        assert_eq!(
            key_of(RAW, 287),
            "execve comm=bash /usr/bin/bash -c echo hi /dev/tcp/127.0.0.1/N /dev/tcp/127.0.0.1/N dev tcp 127.0.0.1 /usr/bin/bash /usr/bin/bash"
        );
    }

    #[test]
    fn connect_to_127_0_0_1_port_4444() {
        let k = key_of(RAW, 288);
        assert_eq!(
            k,
            "connect comm=bash /usr/bin/bash AF_INET port=4444 127.0.0.1 ECONNREFUSED"
        );
        assert_eq!(key_of(ENRICHED, 248), k);
        assert_eq!(sorted(&key_of(AUSEARCH_I, 288)), sorted(&k));
        // A unix socket that is not there.
        assert_eq!(
            key_of(RAW, 299),
            "connect comm=su /usr/bin/su AF_UNIX /run/dbus/system_bus_socket /run/dbus/system_bus_socket run dbus system_bus_socket nametype=UNKNOWN ENOENT"
        );
    }

    #[test]
    fn events_without_a_syscall() {
        assert_eq!(
            key_of(RAW, 293),
            "USER_AUTH op=PAM:authentication grantors=pam_rootok acct=nobody /usr/bin/su res=success"
        );
        assert_eq!(key_of(ENRICHED, 253), key_of(RAW, 293));
        assert_eq!(
            key_of(ENRICHED, 3586),
            "DAEMON_START op=start format=enriched res=success"
        );
        assert_eq!(
            key_of(ENRICHED, 232),
            "sendto CONFIG_CHANGE op=add_rule res=success comm=auditctl /usr/sbin/auditctl"
        );
        assert_eq!(
            key_of(RAW, 277),
            "write LOGIN res=success comm=workload.sh /usr/bin/dash"
        );
    }

    #[test]
    fn socket_addresses() {
        let k = |saddr: &str| {
            let mut key = String::new();
            push_sockaddr(saddr, &mut Tokens::new(&mut key));
            key
        };
        assert_eq!(
            k("0A000016000000000000000000000000000000000000000100000000"),
            "AF_INET6 port=22 ::1"
        );
        assert_eq!(k("0100006162630000"), "AF_UNIX abc");
        assert_eq!(k("2A00"), "family=42");
        assert_eq!(k("02"), "");
        assert_eq!(k("zz00"), "");
        assert_eq!(k("{ saddr_fam=inet6 laddr=::1 lport=22 }"), "AF_INET6 port=22 ::1");
        assert_eq!(k("{ saddr_fam=local path=/run/x }"), "AF_UNIX /run/x /run/x run x");
        assert_eq!(k("{ saddr_fam=bluetooth }"), "family=bluetooth");
    }

    #[test]
    fn hostile_fields_never_panic() {
        for args in [
            "type=",
            "type=PATH name=",
            "msg='",
            "msg='msg='",
            "saddr=",
            "type=SOCKADDR saddr=0",
            "type=SOCKADDR saddr={",
            "type=EXECVE a99999999999999999999=\"x\"",
            "type=PATH name=C3",
            "a=\"",
            "|",
            "= = =",
            "exit=-",
        ] {
            let mut key = String::new();
            event(
                "execve",
                args,
                "exit=-99999999999999 exit=E",
                &mut Tokens::new(&mut key),
            );
            let mut key = String::new();
            event("openat", args, args, &mut Tokens::new(&mut key));
        }
    }
}
