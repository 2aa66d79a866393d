//! sysdig events: keep what a call does, drop what varies per run.
//!
//! A joined `open` whose exit reads `fd=3(<f>/etc/passwd) name=/etc/passwd
//! flags=4097(O_RDONLY|O_CLOEXEC) mode=0` becomes `open /etc/passwd /etc/passwd
//! etc passwd O_RDONLY O_CLOEXEC`: the event type, then for each `key=value`
//! parameter of the enter and the exit event (the record's args and result,
//! see [`super::parse`]):
//!
//! - a file descriptor's decoration: a file or directory path (`fd=3(<f>/etc/passwd)`),
//!   a socket's protocol (`TCP`, `UDPv6`, `ipv4` when not connected yet) with its
//!   addresses and service port, a pipe, eventfd and the like by kind;
//! - the symbolic names in `N(NAME|NAME)`: flags, modes, address families, errno
//!   names (`res=-2(ENOENT)`, `fd=-13(EACCES)`);
//! - paths (`name=`, `path=`, `filename=`, any value starting with `/`): whole,
//!   twice, and in parts, random parts masked, as for strace;
//! - socket tuples (`tuple=`, `addr=`): the addresses and the ports below the
//!   kernel's ephemeral range, as `port=N`; a unix socket's path;
//! - for `execve`: the program (`filename=`, `trusted_exepath=`, twice), `argv[0]`
//!   (`exe=`), the arguments (`args=`) read like strace's argv, the working
//!   directory (`cwd=DIR`) and the parent's command (`parent=NAME` from `ptid=`);
//! - the first few words of a data buffer (`data=`), or `ELF` for an ELF header,
//!   nothing for binary data;
//! - a few informative numbers: the `type=` and `proto=` of `socket`, a file
//!   `mode=` other than 0, the `status=` of `procexit`.
//!
//! Enter and exit often repeat a parameter (an `fd=`, the path an `open`
//! gives in `fd=` and `name=`, `openat`'s flags): each path, address, port,
//! name and fd kind counts once per event.
//!
//! Dropped: other numbers, pointers, sizes, fd numbers, the pid and command in
//! `tid=17497(curl)` and the like, the environment (`env=`), control groups,
//! `comm=`, and the description of the calling process that `clone` repeats on
//! exit (`exe=`, `args=`, `cwd=`, `ptid=` of anything but `execve`). Keys are
//! not tokens, except in the `port=`, `parent=`, `cwd=`, `type=`, `proto=`,
//! `mode=` and `status=` tokens above, whose number or name says nothing alone.
//!
//! LID-DS 2021 records buffers in base64 (`sysdig -b`); `data=` and `args=`
//! values that decode to text are read decoded, and `args=` split at its NULs.
//! In sysdig's default output a NUL shows as `.`, so there `args=` is split at
//! dots that end an option or start an option or path (`-6.http://x.org.` is
//! `-6` and `http://x.org`).

use crate::formats::strace::normalize::{push_argument, push_path};
use crate::normalize::{looks_like_path, mask_path, push_words, Tokens};

/// Words kept from the start of a data buffer.
const BUFFER_WORDS: usize = 3;
/// Words kept from any other value.
const OTHER_WORDS: usize = 4;
/// `execve` arguments looked at.
const ARGV_PIECES: usize = 16;
/// Linux hands out local ports from 32768 up (`ip_local_port_range`): those
/// vary per connection, while a port below is a service's.
const EPHEMERAL_PORTS: u32 = 32768;

/// Tokens of one sysdig event: its type `name`, the enter event's parameters
/// `args` and the exit event's parameters `result` (either may be empty).
pub fn event(name: &str, args: &str, result: &str, out: &mut Tokens) {
    out.push(name);
    let mut reader = Reader {
        call: name,
        exec: matches!(name, "execve" | "execveat"),
        seen: Vec::new(),
    };
    for part in [args, result] {
        for_each_param(part, |key, value| reader.param(key, value, out));
    }
}

/// Call `f` with each `key=value` parameter of `s`. A value runs to the next
/// blank followed by a `key=`: sysdig does not quote, so values may hold blanks
/// (`tuple=0->ffff9a /var/run/nscd/socket`). Text before the first key comes
/// with an empty key.
fn for_each_param<'a>(s: &'a str, mut f: impl FnMut(&'a str, &'a str)) {
    let b = s.as_bytes();
    // Key start, key end and value start of the parameter being read.
    let mut current: Option<(usize, usize, usize)> = None;
    let mut last_end = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        let end = memchr::memchr(b' ', &b[i..]).map_or(b.len(), |p| i + p);
        if let Some(eq) = key_end(b, i, end) {
            if let Some((ks, ke, vs)) = current {
                f(&s[ks..ke], s[vs..last_end.max(vs)].trim_start());
            }
            current = Some((i, eq, eq + 1));
        } else if current.is_none() {
            current = Some((i, i, i));
        }
        last_end = end;
        i = end;
    }
    if let Some((ks, ke, vs)) = current {
        f(&s[ks..ke], s[vs..last_end.max(vs)].trim_start());
    }
}

/// The offset of the `=` when a parameter name starts at `i`. sysdig's names
/// are lower case (`fd`, `vm_rss`, `fd1`) but for the generic event's `ID` and
/// `nativeID`; an upper-case word is the inside of a value (`SSH_TTY=` in `env=`).
fn key_end(b: &[u8], i: usize, end: usize) -> Option<usize> {
    for special in [&b"ID="[..], b"nativeID="] {
        if b[i..end].starts_with(special) {
            return Some(i + special.len() - 1);
        }
    }
    if !(b[i].is_ascii_lowercase() || b[i] == b'_') {
        return None;
    }
    let mut j = i + 1;
    while j < end && (b[j].is_ascii_lowercase() || b[j].is_ascii_digit() || b[j] == b'_') {
        j += 1;
    }
    (j < end && b[j] == b'=').then_some(j)
}

struct Reader<'a> {
    call: &'a str,
    exec: bool,
    /// Tokens counted once per event that were already pushed: paths,
    /// addresses, ports, symbolic names, fd kinds.
    seen: Vec<String>,
}

impl Reader<'_> {
    fn param(&mut self, key: &str, value: &str, out: &mut Tokens) {
        // sysdig writes `<NA>` for a value it does not know.
        if value.is_empty() || value == "<NA>" || out.full() {
            return;
        }
        match key {
            // Long, and different between hosts and sessions; `comm` repeats the process name.
            "env" | "cgroups" | "comm" => {}
            // `clone` and `procinfo` describe the calling process with these;
            // only for `execve` are they what the call does.
            "exe" | "args" | "cwd" | "ptid" | "trusted_exepath" if !self.exec => {}
            "filename" | "trusted_exepath" if self.exec => self.program(value, out),
            "exe" => self.once(&mask_path(value), out),
            "args" => arguments(value, out),
            "cwd" => out.push_pair("cwd=", &mask_path(value)),
            "ptid" => {
                if let Some((_, comm)) = parenthesized(value) {
                    out.push_pair("parent=", comm);
                }
            }
            "data" => buffer(value, out),
            "tuple" => self.tuple(value, out),
            "addr" if value.contains(':') || value.contains('.') => self.endpoints(value, out),
            "type" | "proto" if matches!(self.call, "socket" | "socketpair") && is_number(value) => {
                out.push_pair(if key == "type" { "type=" } else { "proto=" }, value);
            }
            "mode" if is_number(value) => {
                if value.trim_start_matches('0').is_empty() {
                    return;
                }
                out.push_pair("mode=", value);
            }
            "status" if self.call == "procexit" && is_number(value) => out.push_pair("status=", value),
            "name" | "path" | "filename" | "pathname" | "oldpath" | "newpath" | "linkpath" | "target"
                if is_plain_path(value) =>
            {
                self.path(value, out);
            }
            _ => self.value(value, out),
        }
    }

    /// Any other value: a decorated fd, names in parentheses, a path or words.
    fn value(&mut self, value: &str, out: &mut Tokens) {
        if let Some((_, inner)) = parenthesized(value) {
            if let Some(decoration) = inner.strip_prefix('<') {
                self.fd(decoration, out);
            } else if inner.starts_with('/') {
                // Old sysdig versions: `fd=3(/etc/passwd)`.
                self.path(inner, out);
            } else if is_names(inner) {
                // Enter and exit may both give the flags (`openat`): once is enough.
                for name in inner.split('|') {
                    self.once(name, out);
                }
            }
            // Else a pid and its command (`17498(curl)`), which say which thread, not what it did.
            return;
        }
        if looks_like_path(value) {
            self.path(value, out);
        } else {
            push_words(value, OTHER_WORDS, out);
        }
    }

    /// The inside of an fd decoration after its `<`: `f>/etc/passwd`, `4t>1.2.3.4:5->6.7.8.9:80`, `p>`.
    fn fd(&mut self, decoration: &str, out: &mut Tokens) {
        let (tag, rest) = decoration.split_once('>').unwrap_or((decoration, ""));
        let mut tag = tag.chars();
        match tag.next() {
            Some('f' | 'd') if !rest.is_empty() => self.path(rest, out),
            Some(family @ ('4' | '6' | '2' | '3')) => {
                self.once(socket_kind(family, tag.next()), out);
                self.endpoints(rest, out);
            }
            Some('u') => {
                self.once("unix", out);
                self.unix_peer(rest, out);
            }
            Some(c) => {
                if let Some(kind) = fd_kind(c) {
                    self.once(kind, out);
                }
                push_words(rest, 2, out);
            }
            None => {}
        }
    }

    /// A `tuple=`: `src:port->dst:port`, a unix socket's `src->dst path`, or `NULL`.
    fn tuple(&mut self, value: &str, out: &mut Tokens) {
        if value == "NULL" {
            return;
        }
        if value.contains(' ') {
            self.unix_peer(value, out);
        } else {
            self.endpoints(value, out);
        }
    }

    /// A unix socket's path, after the kernel addresses sysdig writes first.
    fn unix_peer(&mut self, value: &str, out: &mut Tokens) {
        let peer = value.rsplit(' ').next().unwrap_or("");
        if looks_like_path(peer) {
            self.path(peer, out);
        } else if !peer.contains("->") {
            // An abstract socket's name, `@name`.
            push_words(peer, 2, out);
        }
    }

    /// One endpoint `addr:port` or a connection `addr:port->addr:port`: the
    /// addresses, and the ports that are not ephemeral.
    fn endpoints(&mut self, value: &str, out: &mut Tokens) {
        let (a, b) = match value.split_once("->") {
            Some((a, b)) => (a, Some(b)),
            None => (value, None),
        };
        for end in [Some(a), b].into_iter().flatten() {
            let (address, port) = split_port(end);
            // Unix sockets give kernel addresses (`ffff9a0c3b1e4400`), not IP ones.
            if address.contains('.') || address.contains(':') {
                self.once(address, out);
            }
            if let Some(port) = port.filter(|&p| p > 0 && p < EPHEMERAL_PORTS) {
                self.once(&format!("port={port}"), out);
            }
        }
    }

    fn path(&mut self, path: &str, out: &mut Tokens) {
        if self.first_time(&mask_path(path)) {
            push_path(path, out);
        }
    }

    /// The program an `execve` runs: its path alone, weighted like a path's whole token.
    fn program(&mut self, path: &str, out: &mut Tokens) {
        let whole = mask_path(path);
        if self.first_time(&whole) {
            out.push(&whole);
            out.push(&whole);
        }
    }

    /// Push `token` unless this event already has it: enter and exit often
    /// repeat an fd, its path or the flags.
    fn once(&mut self, token: &str, out: &mut Tokens) {
        if self.first_time(token) {
            out.push(token);
        }
    }

    fn first_time(&mut self, token: &str) -> bool {
        if self.seen.iter().any(|s| s == token) {
            return false;
        }
        self.seen.push(token.to_owned());
        true
    }
}

/// The protocol token of a socket fd's type: `4t` is `TCP`, `6u` `UDPv6`; a
/// socket not connected yet shows only its family.
fn socket_kind(family: char, l4: Option<char>) -> &'static str {
    // '2' and '3' are the server sockets of old sysdig versions.
    let v6 = matches!(family, '6' | '3');
    match (l4, v6) {
        (Some('t'), false) => "TCP",
        (Some('t'), true) => "TCPv6",
        (Some('u'), false) => "UDP",
        (Some('u'), true) => "UDPv6",
        (Some('i'), false) => "ICMP",
        (Some('i'), true) => "ICMPv6",
        (Some('r'), false) => "RAW",
        (Some('r'), true) => "RAWv6",
        (_, false) => "ipv4",
        (_, true) => "ipv6",
    }
}

/// The kind of a non-socket, non-file fd, by sysdig's type letter.
fn fd_kind(c: char) -> Option<&'static str> {
    Some(match c {
        'p' => "pipe",
        'e' => "eventfd",
        's' => "signalfd",
        'l' => "eventpoll",
        'i' => "inotify",
        't' => "timerfd",
        'n' => "netlink",
        'b' => "bpf",
        'r' => "io_uring",
        'm' => "memfd",
        'P' => "pidfd",
        _ => return None,
    })
}

/// `addr:port` split at its last colon when a port follows (IPv6 addresses are unbracketed).
fn split_port(end: &str) -> (&str, Option<u32>) {
    match end.rsplit_once(':') {
        Some((address, port)) if !port.is_empty() && port.len() <= 5 && is_number(port) => (address, port.parse().ok()),
        _ => (end, None),
    }
}

/// `N(inner)`, where N is a number: the number and the inside. A value cut
/// short by sysdig (`3(<f>/usr/lib/x86_64-linux-gnu/libfoo...`) counts too.
fn parenthesized(value: &str) -> Option<(&str, &str)> {
    let open = value.find('(')?;
    let number = &value[..open];
    if number.is_empty() || !number.bytes().all(|c| c.is_ascii_hexdigit() || c == b'-' || c == b'x') {
        return None;
    }
    let inner = &value[open + 1..];
    if let Some(inner) = inner.strip_suffix(')') {
        return Some((number, inner));
    }
    inner.ends_with("...").then_some((number, inner))
}

/// `O_RDONLY|O_CLOEXEC`, `ENOENT`, `AF_INET6`: symbolic constants only.
fn is_names(inner: &str) -> bool {
    !inner.is_empty()
        && inner.split('|').all(|name| {
            name.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
                && name
                    .bytes()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
        })
}

fn is_number(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|c| c.is_ascii_digit())
}

/// A value of a path parameter that is a path, relative or not; `<NA>` and
/// decorated values are not.
fn is_plain_path(value: &str) -> bool {
    value != "<NA>" && !value.contains('(') && !value.contains(' ')
}

/// The arguments of an `execve` (argv without argv[0]), from `args=`.
fn arguments(value: &str, out: &mut Tokens) {
    match decode_base64(value) {
        Some(Payload::Text(text)) => {
            for piece in text.split('\0').filter(|p| !p.is_empty()).take(ARGV_PIECES) {
                push_argument(piece, out);
            }
        }
        Some(Payload::Elf | Payload::Binary) => {}
        None => {
            for piece in split_dotted(value).into_iter().take(ARGV_PIECES) {
                push_argument(piece, out);
            }
        }
    }
}

/// Split an argv that sysdig printed with its NULs as dots. A dot is taken for
/// a NUL when it ends an option (`-6.http…`), when an option or path follows
/// (`….-v`, `…./etc/x`), or at the very end; other dots are the arguments' own.
fn split_dotted(value: &str) -> Vec<&str> {
    let v = value.strip_suffix('.').unwrap_or(value);
    let b = v.as_bytes();
    let mut pieces = Vec::new();
    let mut start = 0;
    for i in 0..b.len() {
        if b[i] != b'.' {
            continue;
        }
        let piece = &v[start..i];
        let ends_option = piece.starts_with('-') && !piece.contains('=');
        if ends_option || matches!(b.get(i + 1), Some(b'-' | b'/')) {
            pieces.push(piece);
            start = i + 1;
        }
    }
    pieces.push(&v[start..]);
    pieces.retain(|p| !p.is_empty());
    pieces
}

/// The first words of a data buffer, if it is text.
fn buffer(value: &str, out: &mut Tokens) {
    match decode_base64(value) {
        Some(Payload::Elf) => out.push("ELF"),
        Some(Payload::Binary) => {}
        Some(Payload::Text(text)) => push_words(&text, BUFFER_WORDS, out),
        None => {
            // sysdig prints non-printable bytes as dots: a buffer mostly made
            // of them is binary, whose printable runs are noise.
            if value.starts_with(".ELF") {
                out.push("ELF");
                return;
            }
            let dots = value.bytes().filter(|&c| c == b'.').count();
            if dots * 4 <= value.len() * 3 {
                push_words(value, BUFFER_WORDS, out);
            }
        }
    }
}

/// A base64 buffer, decoded.
#[derive(Debug, PartialEq, Eq)]
enum Payload {
    /// Mostly printable: the text, NULs kept.
    Text(String),
    /// Starts with an ELF header.
    Elf,
    /// Anything else.
    Binary,
}

/// Decode `value` when it is base64 (as LID-DS 2021 records buffers); `None`
/// when it is not, or when it is more likely a plain word that happens to be
/// valid base64 (`password`: letters only, no padding, decoding to binary).
fn decode_base64(value: &str) -> Option<Payload> {
    let b = value.as_bytes();
    if b.len() < 4 || !b.len().is_multiple_of(4) {
        return None;
    }
    let body = b.strip_suffix(b"==").or_else(|| b.strip_suffix(b"=")).unwrap_or(b);
    let mut bytes = Vec::with_capacity(body.len() / 4 * 3 + 2);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in body {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if bytes.starts_with(b"\x7fELF") {
        return Some(Payload::Elf);
    }
    // Text is valid UTF-8 (but for a character cut at the end of a captured
    // buffer); random bytes almost never are.
    let text = match std::str::from_utf8(&bytes) {
        Ok(s) => Some(s),
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&bytes[..e.valid_up_to()]).ok(),
        Err(_) => None,
    };
    if let Some(text) = text {
        let chars = text.chars().count();
        let printable = text
            .chars()
            .filter(|&c| !c.is_control() || matches!(c, '\0' | '\t' | '\n' | '\r'))
            .count();
        if printable * 10 >= chars * 9 {
            return Some(Payload::Text(text.to_owned()));
        }
    }
    // A word as people write them (`password`, `Password`, `HTTP`) rather
    // than base64's mixed case.
    let padded = body.len() != b.len();
    let tail = &b[1..];
    let plain_case = tail.iter().all(u8::is_ascii_lowercase) || b.iter().all(u8::is_ascii_uppercase);
    if !padded && b.iter().all(u8::is_ascii_alphabetic) && plain_case {
        return None;
    }
    Some(Payload::Binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, args: &str, result: &str) -> String {
        let mut key = String::new();
        event(name, args, result, &mut Tokens::new(&mut key));
        key
    }

    #[test]
    fn open_keeps_path_once_flags_and_errno() {
        assert_eq!(
            key(
                "open",
                "",
                "fd=3(<f>/etc/ld.so.cache) name=/etc/ld.so.cache flags=4097(O_RDONLY|O_CLOEXEC) mode=0"
            ),
            "open /etc/ld.so.cache /etc/ld.so.cache etc ld.so.cache O_RDONLY O_CLOEXEC"
        );
        assert_eq!(
            key(
                "openat",
                "dirfd=-100(AT_FDCWD) name=/etc/shadow flags=1(O_RDONLY) mode=0",
                "fd=-13(EACCES) dirfd=-100(AT_FDCWD) name=/etc/shadow flags=1(O_RDONLY) mode=0 dev=0"
            ),
            "openat AT_FDCWD /etc/shadow /etc/shadow etc shadow O_RDONLY EACCES"
        );
        assert_eq!(
            key("access", "mode=0(F_OK)", "res=-2(ENOENT) name=/etc/ld.so.nohwcap"),
            "access F_OK ENOENT /etc/ld.so.nohwcap /etc/ld.so.nohwcap etc ld.so.nohwcap"
        );
        assert_eq!(
            key("stat", "", "res=0 path=/etc/resolv.conf"),
            "stat /etc/resolv.conf /etc/resolv.conf etc resolv.conf"
        );
    }

    #[test]
    fn numbers_pointers_and_sizes_are_dropped() {
        assert_eq!(
            key(
                "mmap",
                "addr=0 length=24778 prot=1(PROT_READ) flags=2(MAP_PRIVATE) fd=3(<f>/etc/ld.so.cache) offset=0",
                "res=7FA69774E000 vm_size=536 vm_rss=4 vm_swap=0"
            ),
            "mmap PROT_READ MAP_PRIVATE /etc/ld.so.cache /etc/ld.so.cache etc ld.so.cache"
        );
        assert_eq!(
            key("close", "fd=3(<f>/etc/ld.so.cache)", "res=0"),
            "close /etc/ld.so.cache /etc/ld.so.cache etc ld.so.cache"
        );
        assert_eq!(
            key("brk", "addr=0", "res=55DB0DE73000 vm_size=508 vm_rss=4 vm_swap=0"),
            "brk"
        );
        assert_eq!(key("poll", "fds=4:64 timeout=199", "res=1 fds=4:64"), "poll");
        assert_eq!(
            key("switch", "next=17498(curl) pgft_maj=0 pgft_min=378 vm_size=93240", ""),
            "switch"
        );
        assert_eq!(
            key(
                "futex",
                "addr=7FA6955AF740 op=129(FUTEX_PRIVATE_FLAG|FUTEX_WAKE) val=2147483647",
                "res=0"
            ),
            "futex FUTEX_PRIVATE_FLAG FUTEX_WAKE"
        );
    }

    #[test]
    fn sockets_keep_protocol_addresses_and_service_port() {
        assert_eq!(
            key(
                "connect",
                "fd=4(<6>)",
                "res=-115(EINPROGRESS) tuple=2600:1f18::d29e:37140->2607:f8b0:4004:802::2004:80"
            ),
            "connect ipv6 EINPROGRESS 2600:1f18::d29e 2607:f8b0:4004:802::2004 port=80"
        );
        assert_eq!(
            key(
                "write",
                "fd=3(<4t>127.0.0.1:34567->127.0.0.1:4444) size=15",
                "res=15 data=this is a test."
            ),
            "write TCP 127.0.0.1 port=4444 this is test"
        );
        // Datagrams run both ways; each address and the service port count once.
        assert_eq!(
            key(
                "recvfrom",
                "fd=4(<6u>2600::9a47:40251->2001:4860:4860::8888:53) size=1024",
                "res=60 data=.............www.google.com..... tuple=2001:4860:4860::8888:53->2600::9a47:40251"
            ),
            "recvfrom UDPv6 2600::9a47 2001:4860:4860::8888 port=53 www google com"
        );
        assert_eq!(
            key(
                "connect",
                "fd=3(<u>)",
                "res=-2(ENOENT) tuple=0->ffff94dc817b9400 /var/run/nscd/socket"
            ),
            "connect unix ENOENT /var/run/nscd/socket /var/run/nscd/socket var run nscd socket"
        );
        assert_eq!(
            key("socket", "domain=10(AF_INET6) type=1 proto=6", "fd=3(<6>)"),
            "socket AF_INET6 type=1 proto=6 ipv6"
        );
        assert_eq!(
            key("bind", "fd=3(<6>)", "res=0 addr=2001:db8::3:1234"),
            "bind ipv6 2001:db8::3 port=1234"
        );
        assert_eq!(key("pipe", "", "res=0 fd1=4(<p>) fd2=5(<p>) ino=38688"), "pipe pipe");
    }

    #[test]
    fn execve_keeps_program_arguments_cwd_and_parent() {
        let exit = "res=0 exe=curl args=-6.http://www.google.com. tid=17497(curl) pid=17497(curl) ptid=3200(bash) \
                    cwd=/home/ubuntu fdlimit=1024 pgft_maj=0 pgft_min=34 vm_size=508 vm_rss=4 vm_swap=0 comm=curl \
                    cgroups=cpuset=/.cpu=/user.slice env=XDG_SESSION_ID=1.TERM=xterm-256color.SHELL=/bin/bash";
        assert_eq!(
            key("execve", "filename=/usr/bin/curl", exit),
            "execve /usr/bin/curl /usr/bin/curl curl http://www.google.com parent=bash cwd=/home/ubuntu"
        );
        // The same call as LID-DS 2021 records it: argv in base64.
        let b64 = exit.replace(
            "args=-6.http://www.google.com.",
            "args=LTYAaHR0cDovL3d3dy5nb29nbGUuY29tAA==",
        );
        assert_eq!(
            key("execve", "filename=/usr/bin/curl", &b64),
            key("execve", "filename=/usr/bin/curl", exit)
        );
        assert_eq!(key("execve", "", "res=0 exe=sh args=-c.id."), "execve sh -c id");
        // clone describes the calling process on exit: none of it is the call.
        assert_eq!(
            key("clone", "", "res=17498(curl) exe=curl args=-6.http://www.google.com. tid=17497(curl) ptid=3200(bash) cwd=/home/ubuntu flags=47619(CLONE_FILES|CLONE_VM) uid=1000"),
            "clone CLONE_FILES CLONE_VM"
        );
    }

    #[test]
    fn dotted_arguments_are_split_where_nuls_were() {
        assert_eq!(
            split_dotted("-6.http://www.google.com."),
            ["-6", "http://www.google.com"]
        );
        assert_eq!(split_dotted("-o.out.txt.-v./etc/x."), ["-o", "out.txt", "-v", "/etc/x"]);
        assert_eq!(split_dotted("--level=1.5.file.c"), ["--level=1.5.file.c"]);
        assert!(split_dotted(".").is_empty());
    }

    #[test]
    fn buffers_keep_first_words_or_elf() {
        assert_eq!(
            key(
                "read",
                "fd=3(<f>/lib/libz.so.1) size=832",
                "res=832 data=.ELF..............>.............@......."
            ),
            "read /lib/libz.so.1 /lib/libz.so.1 lib libz.so.1 ELF"
        );
        assert_eq!(
            key("read", "", "res=832 data=f0VMRgIBAQAAAAAAAAAAAAMAPgABAAAAQLAAAAAAAABAAAAAAAAAAOBADQAAAAAAAAAAAEAAOAAHAEAAGgAZAAEAAAAFAAAAAAAAAAAAAAA="),
            "read ELF"
        );
        assert_eq!(
            key(
                "sendto",
                "size=78 tuple=NULL",
                "res=78 data=GET / HTTP/1.1..Host: www.google.com..User-Agent: curl/7.47.0"
            ),
            "sendto GET HTTP Host"
        );
        // "GET / HTTP/1.1\r\nHost: x\r\n" in base64.
        assert_eq!(
            key("read", "", "res=25 data=R0VUIC8gSFRUUC8xLjENCkhvc3Q6IHgNCg=="),
            "read GET HTTP Host"
        );
        assert_eq!(key("read", "", "res=8 data=......x.Zq......................"), "read");
        assert_eq!(key("read", "", "res=12 data=AAECAwQFBgcICQoL"), "read");
        assert_eq!(key("write", "", "res=8 data=password"), "write password");
    }

    #[test]
    fn values_with_blanks_stay_whole() {
        let mut seen = Vec::new();
        for_each_param(
            "res=0 tuple=0->ffff9a /var/run/nscd/socket data=GET / HTTP/1.1 x",
            |k, v| {
                seen.push((k.to_owned(), v.to_owned()));
            },
        );
        assert_eq!(
            seen,
            [
                ("res".to_owned(), "0".to_owned()),
                ("tuple".to_owned(), "0->ffff9a /var/run/nscd/socket".to_owned()),
                ("data".to_owned(), "GET / HTTP/1.1 x".to_owned()),
            ]
        );
        let mut seen = Vec::new();
        for_each_param("bare words  a= SSH_TTY=/dev/pts/1 ID=5", |k, v| {
            seen.push((k.to_owned(), v.to_owned()))
        });
        assert_eq!(
            seen,
            [
                (String::new(), "bare words".to_owned()),
                ("a".to_owned(), "SSH_TTY=/dev/pts/1".to_owned()),
                ("ID".to_owned(), "5".to_owned()),
            ]
        );
    }

    #[test]
    fn random_path_parts_are_masked() {
        assert_eq!(
            key(
                "open",
                "",
                "fd=5(<f>/proc/12345/status) name=/proc/12345/status flags=1(O_RDONLY)"
            ),
            "open /proc/N/status /proc/N/status proc status O_RDONLY"
        );
        assert_eq!(
            key("unlink", "", "res=0 path=/tmp/tmp.x8Kq2Lz9Q1"),
            "unlink /tmp/tmp.* /tmp/tmp.* tmp tmp.*"
        );
    }

    #[test]
    fn hostile_values_never_panic() {
        for text in [
            "",
            "=",
            "a=",
            "fd=",
            "fd=3(",
            "fd=3(<",
            "fd=3(<4t>",
            "fd=3(<6t>->)",
            "fd=(<f>)",
            "tuple= ",
            "tuple=->",
            "data=====",
            "data=é",
            "args=é.",
            "args=....",
            "fd=3(<f>/é...",
            "addr=:",
            "ID=",
            "nativeID=x",
            "x=é(é)",
            "fd=1(<u>@\"a\")",
            "res=-1(E|)",
            "data=QUJD\u{e9}",
            "ptid=1(",
            "cwd=",
            "mode=0777",
            "status=x",
        ] {
            for name in ["open", "execve", "socket", "procexit", "read"] {
                let _ = key(name, text, text);
            }
        }
    }
}
