//! gVisor system calls: the tokens strace's normalization keeps, read from
//! gVisor's own way of writing arguments.
//!
//! gVisor (`runsc --strace`) prints a path argument as its address and the
//! unquoted path (`0x7f… /etc/hostname`), an fd as its number and what it refers
//! to (`0x3 /etc/hostname`, `0x1 host:[2]`, `0x3 socket:[9]`, `AT_FDCWD /tmp`),
//! flags symbolically (`O_RDONLY|O_CLOEXEC`), modes in Go octal (`0o644`),
//! buffers and `execve` vectors as Go-quoted strings, socket addresses as
//! `{Family: AF_INET, Addr: 127.0.0.1, Port: 4444}`, and an error as
//! `= 0 (0x0) errno=2 (no such file or directory)`.
//!
//! So that the same behaviour gives the same kind of key as under strace, an
//! `openat` of `/etc/shadow` denied becomes
//! `openat AT_FDCWD /etc/shadow /etc/shadow etc shadow O_RDONLY EACCES`: the
//! name, symbolic constants, each path whole (twice) and in parts, the
//! `execve` program and arguments, socket family, address and `port=`, a few
//! words of a data buffer, file modes like `0644`, and the errno name. Dropped:
//! addresses, numbers, sizes, the timestamps in a `stat` struct, the
//! environment of an `execve`, the errno message, and the working directory
//! gVisor prints after `AT_FDCWD` (strace does not show it, and it says where a
//! program was started rather than what it did). Unlike default strace, the
//! path behind an fd is kept, as strace's `-y` would.
//!
//! [`errno_name`] is shared with [`crate::formats::audit`].

use std::borrow::Cow;

use super::parse::{skip_go_string, split_top_level};
use crate::formats::strace::normalize::{push_argument, push_path, push_program};
use crate::normalize::{keep_word, looks_like_path, push_words, Tokens};

/// Words kept from the start of a data buffer (`read`, `write`, ...).
const BUFFER_WORDS: usize = 3;
/// Words kept from any other string.
const OTHER_STRING_WORDS: usize = 4;
/// `execve` argument strings looked at.
const ARGV_STRINGS: usize = 16;

/// Tokens of one gVisor system call.
pub fn event(name: &str, args: &str, result: &str, out: &mut Tokens) {
    out.push(name);
    let role = Role::of(name);
    for (i, arg) in split_top_level(args).into_iter().enumerate() {
        if out.full() {
            break;
        }
        argument(i, arg.trim(), role, out);
    }
    push_result(result, out);
}

/// The name of Linux errno `n` (the generic numbering x86 and arm64 use), e.g. 13 is `EACCES`.
///
/// Also knows the kernel-internal restart codes (512–516) that gVisor reports
/// for a call interrupted by a signal.
pub fn errno_name(n: u32) -> Option<&'static str> {
    const NAMES: [&str; 134] = [
        "",
        "EPERM",
        "ENOENT",
        "ESRCH",
        "EINTR",
        "EIO",
        "ENXIO",
        "E2BIG",
        "ENOEXEC",
        "EBADF",
        "ECHILD",
        "EAGAIN",
        "ENOMEM",
        "EACCES",
        "EFAULT",
        "ENOTBLK",
        "EBUSY",
        "EEXIST",
        "EXDEV",
        "ENODEV",
        "ENOTDIR",
        "EISDIR",
        "EINVAL",
        "ENFILE",
        "EMFILE",
        "ENOTTY",
        "ETXTBSY",
        "EFBIG",
        "ENOSPC",
        "ESPIPE",
        "EROFS",
        "EMLINK",
        "EPIPE",
        "EDOM",
        "ERANGE",
        "EDEADLK",
        "ENAMETOOLONG",
        "ENOLCK",
        "ENOSYS",
        "ENOTEMPTY",
        "ELOOP",
        "",
        "ENOMSG",
        "EIDRM",
        "ECHRNG",
        "EL2NSYNC",
        "EL3HLT",
        "EL3RST",
        "ELNRNG",
        "EUNATCH",
        "ENOCSI",
        "EL2HLT",
        "EBADE",
        "EBADR",
        "EXFULL",
        "ENOANO",
        "EBADRQC",
        "EBADSLT",
        "",
        "EBFONT",
        "ENOSTR",
        "ENODATA",
        "ETIME",
        "ENOSR",
        "ENONET",
        "ENOPKG",
        "EREMOTE",
        "ENOLINK",
        "EADV",
        "ESRMNT",
        "ECOMM",
        "EPROTO",
        "EMULTIHOP",
        "EDOTDOT",
        "EBADMSG",
        "EOVERFLOW",
        "ENOTUNIQ",
        "EBADFD",
        "EREMCHG",
        "ELIBACC",
        "ELIBBAD",
        "ELIBSCN",
        "ELIBMAX",
        "ELIBEXEC",
        "EILSEQ",
        "ERESTART",
        "ESTRPIPE",
        "EUSERS",
        "ENOTSOCK",
        "EDESTADDRREQ",
        "EMSGSIZE",
        "EPROTOTYPE",
        "ENOPROTOOPT",
        "EPROTONOSUPPORT",
        "ESOCKTNOSUPPORT",
        "EOPNOTSUPP",
        "EPFNOSUPPORT",
        "EAFNOSUPPORT",
        "EADDRINUSE",
        "EADDRNOTAVAIL",
        "ENETDOWN",
        "ENETUNREACH",
        "ENETRESET",
        "ECONNABORTED",
        "ECONNRESET",
        "ENOBUFS",
        "EISCONN",
        "ENOTCONN",
        "ESHUTDOWN",
        "ETOOMANYREFS",
        "ETIMEDOUT",
        "ECONNREFUSED",
        "EHOSTDOWN",
        "EHOSTUNREACH",
        "EALREADY",
        "EINPROGRESS",
        "ESTALE",
        "EUCLEAN",
        "ENOTNAM",
        "ENAVAIL",
        "EISNAM",
        "EREMOTEIO",
        "EDQUOT",
        "ENOMEDIUM",
        "EMEDIUMTYPE",
        "ECANCELED",
        "ENOKEY",
        "EKEYEXPIRED",
        "EKEYREVOKED",
        "EKEYREJECTED",
        "EOWNERDEAD",
        "ENOTRECOVERABLE",
        "ERFKILL",
        "EHWPOISON",
    ];
    let name = match n {
        512 => "ERESTARTSYS",
        513 => "ERESTARTNOINTR",
        514 => "ERESTARTNOHAND",
        515 => "ENOIOCTLCMD",
        516 => "ERESTART_RESTARTBLOCK",
        _ => usize::try_from(n)
            .ok()
            .and_then(|i| NAMES.get(i))
            .copied()
            .unwrap_or(""),
    };
    (!name.is_empty()).then_some(name)
}

/// What some arguments of a call are, where the value alone does not tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// `execve`-like: the program, then argv, then the environment.
    Exec {
        path: usize,
    },
    /// Strings are data: keep only their first words.
    Buffer,
    /// `access`-like: the argument at `mode` is `R_OK|W_OK|X_OK` in octal.
    Access {
        mode: usize,
    },
    Other,
}

impl Role {
    fn of(name: &str) -> Role {
        match name {
            "execve" => Role::Exec { path: 0 },
            "execveat" => Role::Exec { path: 1 },
            "read" | "pread64" | "readv" | "preadv" | "preadv2" | "write" | "pwrite64" | "writev" | "pwritev"
            | "pwritev2" | "recvfrom" | "recvmsg" | "recvmmsg" | "sendto" | "sendmsg" | "sendmmsg" | "getrandom" => {
                Role::Buffer
            }
            "access" => Role::Access { mode: 1 },
            "faccessat" | "faccessat2" => Role::Access { mode: 2 },
            _ => Role::Other,
        }
    }
}

fn argument(i: usize, arg: &str, role: Role, out: &mut Tokens) {
    if arg.is_empty() {
        return;
    }
    match role {
        Role::Exec { path } if i == path => {
            let (_, rest) = split_head(arg);
            if !rest.is_empty() && !rest.starts_with('(') {
                push_program(rest, out);
            }
            return;
        }
        Role::Exec { path } if i == path + 1 => {
            let (_, rest) = split_head(arg);
            // argv[0] repeats the program's name; what matters is the rest.
            for s in go_strings(rest).skip(1).take(ARGV_STRINGS - 1) {
                push_argument(&unescape(s), out);
            }
            return;
        }
        // The environment: what varies between runs, not what the program does.
        Role::Exec { path } if i == path + 2 => return,
        Role::Access { mode } if i == mode => {
            push_access_mode(arg, out);
            return;
        }
        _ => {}
    }
    let (head, rest) = split_head(arg);
    if head == "AT_FDCWD" {
        out.push("AT_FDCWD");
        return;
    }
    if rest.is_empty() {
        if head.len() == arg.len() && starts_numeric(head) {
            push_number(head, out);
        } else {
            Scanner::new(arg, role).run(out);
        }
        return;
    }
    // An address or fd number, then what it points to.
    match rest.as_bytes()[0] {
        b'"' => {
            if let Some(s) = go_strings(rest).next() {
                push_string(s, role, out);
            }
        }
        b'{' | b'[' => Scanner::new(rest, role).run(out),
        // `(bad FD)`, `(error decoding path: ...)`: gVisor's comments, not the program's data.
        b'(' => {}
        _ => push_decoration(rest, out),
    }
}

/// Split `0x7f… rest` or `AT_FDCWD rest` into the number and what follows it.
fn split_head(arg: &str) -> (&str, &str) {
    if starts_numeric(arg) || arg.starts_with("AT_FDCWD") {
        match arg.split_once(' ') {
            Some((head, rest)) => (head, rest.trim_start()),
            None => (arg, ""),
        }
    } else {
        (arg, "")
    }
}

fn starts_numeric(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// What an fd or path argument refers to: a path, or `host:[3]`, `socket:[9]`, `pipe:[4]`.
fn push_decoration(rest: &str, out: &mut Tokens) {
    if rest.starts_with('/') {
        push_path(rest, out);
        return;
    }
    if let Some((kind, inner)) = rest.split_once(":[") {
        if !kind.contains(' ') {
            push_words(kind, 1, out);
            let inner = inner.trim_end_matches(']');
            if !inner.bytes().all(|b| b.is_ascii_digit()) {
                push_words(inner, 2, out);
            }
            return;
        }
    }
    // A relative path: gVisor prints paths unquoted after their address.
    push_path(rest, out);
}

/// A bare number: only a file mode (`0o644`) means something.
fn push_number(number: &str, out: &mut Tokens) {
    if let Some(octal) = number.strip_prefix("0o") {
        // Permission bits say what a program asks for (0600 vs 0777); written
        // as strace does (`0644`) so the two give the same token. Shorter
        // values are modes of `access`, umasks or flags, not permissions.
        if (3..=4).contains(&octal.len()) && octal.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            out.push_pair("0", octal);
        }
    }
}

/// `access`'s mode as strace writes it: `F_OK`, or `R_OK|W_OK|X_OK` bits.
fn push_access_mode(arg: &str, out: &mut Tokens) {
    let digits = arg.strip_prefix("0o").unwrap_or(arg);
    let Ok(mode) = u32::from_str_radix(digits, 8) else {
        return;
    };
    if mode == 0 {
        out.push("F_OK");
    }
    for (bit, name) in [(4, "R_OK"), (2, "W_OK"), (1, "X_OK")] {
        if mode & bit != 0 {
            out.push(name);
        }
    }
}

fn push_string(raw: &str, role: Role, out: &mut Tokens) {
    let s = unescape(raw);
    if role == Role::Buffer {
        push_buffer(raw, &s, out);
    } else if looks_like_path(&s) {
        push_path(&s, out);
    } else {
        push_words(&s, OTHER_STRING_WORDS, out);
    }
}

/// The result: only an error is kept, as its errno name.
fn push_result(result: &str, out: &mut Tokens) {
    let Some(at) = result.find("errno=") else {
        return;
    };
    let digits = &result[at + 6..];
    let end = digits.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(digits.len());
    let Ok(n) = digits[..end].parse::<u32>() else {
        return;
    };
    match errno_name(n) {
        Some(name) => out.push(name),
        None => out.push_pair("errno=", &digits[..end]),
    }
}

/// Structs, vectors and flag sets: constants, strings, modes, socket addresses.
struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    role: Role,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str, role: Role) -> Self {
        Scanner {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            role,
        }
    }

    fn run(&mut self, out: &mut Tokens) {
        while self.pos < self.bytes.len() && !out.full() {
            let c = self.bytes[self.pos];
            match c {
                b'"' => {
                    let s = self.string();
                    push_string(s, self.role, out);
                }
                b'0'..=b'9' => {
                    let number = self.word();
                    push_number(number, out);
                }
                b'(' => self.skip_group(),
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    let ident = self.ident();
                    let after = self.skip_spaces_from(self.pos);
                    if matches!(self.bytes.get(after), Some(b'=' | b':')) {
                        self.pos = after + 1;
                        self.field(ident, out);
                    } else if ident.starts_with(|c: char| c.is_ascii_uppercase() || c == '_') && keep_word(ident) {
                        // Symbolic constants (`S_IFREG`, `AF_INET`, `FUTEX_WAKE`); lowercase
                        // words outside strings are gVisor's own (`null`, `host`).
                        out.push(ident);
                    }
                }
                _ => self.pos += self.text[self.pos..].chars().next().map_or(1, char::len_utf8),
            }
        }
    }

    /// The value of struct field `name`, which has just been read with its `=` or `:`.
    fn field(&mut self, name: &str, out: &mut Tokens) {
        self.pos = self.skip_spaces_from(self.pos);
        match name {
            // Socket addresses: `{Family: AF_INET, Addr: 127.0.0.1, Port: 4444}`.
            "Addr" if self.bytes.get(self.pos) != Some(&b'"') => {
                let value = self.until_separator();
                if !value.is_empty() {
                    out.push(value);
                }
            }
            "Port" => {
                let value = self.until_separator();
                out.push_pair("port=", value);
            }
            // `stat` times say when, not what.
            _ if name.ends_with("time") => {
                let _ = self.until_separator();
            }
            _ => {}
        }
    }

    /// Text up to the next `,` or `}` at this level, trimmed.
    fn until_separator(&mut self) -> &'a str {
        let start = self.pos;
        while self.pos < self.bytes.len() && !matches!(self.bytes[self.pos], b',' | b'}') {
            self.pos += 1;
        }
        self.text[start..self.pos].trim()
    }

    fn string(&mut self) -> &'a str {
        let start = self.pos + 1;
        let end = skip_go_string(self.bytes, start);
        self.pos = end;
        if self.text[self.pos..].starts_with("...") {
            self.pos += 3;
        }
        let inner_end = if end > start && self.bytes.get(end - 1) == Some(&b'"') {
            end - 1
        } else {
            end
        };
        self.text.get(start.min(inner_end)..inner_end).unwrap_or("")
    }

    fn skip_group(&mut self) {
        let mut depth = 0usize;
        while self.pos < self.bytes.len() {
            match self.bytes[self.pos] {
                b'(' => depth += 1,
                b')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.pos += 1;
                        return;
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while self.pos < self.bytes.len()
            && (self.bytes[self.pos].is_ascii_alphanumeric() || self.bytes[self.pos] == b'.')
        {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    fn ident(&mut self) -> &'a str {
        let start = self.pos;
        while self.pos < self.bytes.len()
            && (self.bytes[self.pos].is_ascii_alphanumeric() || self.bytes[self.pos] == b'_')
        {
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    fn skip_spaces_from(&self, mut i: usize) -> usize {
        while i < self.bytes.len() && self.bytes[i] == b' ' {
            i += 1;
        }
        i
    }
}

/// The raw insides of the Go-quoted strings in `s`, in order.
fn go_strings(s: &str) -> impl Iterator<Item = &str> {
    let b = s.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        let open = i + memchr::memchr(b'"', b.get(i..)?)?;
        let end = skip_go_string(b, open + 1);
        i = end;
        let inner_end = if b.get(end.wrapping_sub(1)) == Some(&b'"') && end > open + 1 {
            end - 1
        } else {
            end
        };
        // Escapes are ASCII, so a backslash skip can only land mid-char at the very end.
        let mut inner_end = inner_end.min(s.len());
        while !s.is_char_boundary(inner_end) {
            inner_end -= 1;
        }
        Some(s.get(open + 1..inner_end.max(open + 1)).unwrap_or(""))
    })
}

/// The first words of a data buffer if it is text; an ELF header is `ELF`;
/// other binary data has no words worth keeping.
fn push_buffer(raw: &str, unescaped: &str, out: &mut Tokens) {
    if raw.starts_with("\\x7fELF") {
        out.push("ELF");
        return;
    }
    let escapes = raw
        .as_bytes()
        .windows(2)
        .filter(|w| w[0] == b'\\' && matches!(w[1], b'x' | b'u'))
        .count();
    let chars = unescaped.chars().count().max(1);
    if escapes * 4 > chars {
        return;
    }
    push_words(unescaped, BUFFER_WORDS, out);
}

/// Undo Go's `%q` escapes enough to find words and paths: `\"` and `\\` stand
/// for themselves, every other escape (`\n`, `\x00`, `\u00e9`) becomes a space.
fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return raw.into();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex_digits = match chars.next() {
            Some('"') => {
                out.push('"');
                continue;
            }
            Some('\\') => {
                out.push('\\');
                continue;
            }
            Some('x') => 2,
            Some('u') => 4,
            Some('U') => 8,
            _ => 0,
        };
        for _ in 0..hex_digits {
            if chars.peek().is_some_and(char::is_ascii_hexdigit) {
                chars.next();
            }
        }
        out.push(' ');
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::strace::normalize as strace;

    fn key(name: &str, args: &str, result: &str) -> String {
        let mut key = String::new();
        event(name, args, result, &mut Tokens::new(&mut key));
        key
    }

    fn strace_key(name: &str, args: &str, result: &str) -> String {
        let mut key = String::new();
        strace::syscall(name, args, result, &mut Tokens::new(&mut key));
        key
    }

    #[test]
    fn openat_keeps_flags_path_and_errno() {
        let k = key(
            "openat",
            "AT_FDCWD /tmp, 0x7fed96936fad /etc/shadow, O_RDONLY|0x0, 0o0",
            "0 (0x0) errno=13 (permission denied)",
        );
        assert_eq!(k, "openat AT_FDCWD /etc/shadow /etc/shadow etc shadow O_RDONLY EACCES");
        // The same call seen by strace gives the same key.
        assert_eq!(
            k,
            strace_key(
                "openat",
                r#"AT_FDCWD, "/etc/shadow", O_RDONLY"#,
                "-1 EACCES (Permission denied)"
            )
        );
        assert_eq!(
            key(
                "openat",
                "AT_FDCWD /tmp, 0x55a079853878 /dev/null, O_WRONLY|O_CREAT|O_TRUNC, 0o666",
                "3 (0x3)"
            ),
            "openat AT_FDCWD /dev/null /dev/null dev null O_WRONLY O_CREAT O_TRUNC 0666"
        );
    }

    #[test]
    fn execve_keeps_program_and_arguments() {
        let k = key(
            "execve",
            r#"0x55a0798538d0 /usr/bin/sh, 0x55a079853870 ["sh", "-c", "id"], 0x55a0798538b0 ["HOME=/root", "PATH=/usr/bin:/bin", "PWD=/tmp"]"#,
            "0 (0x0)",
        );
        assert_eq!(k, "execve /usr/bin/sh /usr/bin/sh -c id");
        assert_eq!(
            k,
            strace_key(
                "execve",
                r#""/usr/bin/sh", ["sh", "-c", "id"], 0x7ffd3b1c /* 3 vars */"#,
                "0"
            )
        );
        let k = key(
            "execve",
            r#"0x55a0798538d0 /usr/bin/bash, 0x55a079853890 ["bash", "-c", "echo hi > /dev/tcp/127.0.0.1/4444"], 0x55a0798538b0 []"#,
            "0 (0x0)",
        );
        assert_eq!(
            k,
            "execve /usr/bin/bash /usr/bin/bash -c echo hi /dev/tcp/127.0.0.1/N /dev/tcp/127.0.0.1/N dev tcp 127.0.0.1"
        );
    }

    #[test]
    fn sockets_keep_family_address_and_port() {
        let k = key(
            "connect",
            "0x3 socket:[11], 0x5646065b43b0 {Family: AF_INET, Addr: 127.0.0.1, Port: 4444}, 0x10",
            "0 (0x0) errno=111 (connection refused)",
        );
        assert_eq!(k, "connect socket AF_INET 127.0.0.1 port=4444 ECONNREFUSED");
        let k = key(
            "connect",
            r#"0x3 socket:[1], 0x7fb3da5437e0 {Family: AF_UNIX, Addr: "/var/run/nscd/socket"}, 0x6e"#,
            "0 (0x0) errno=2 (no such file or directory)",
        );
        assert_eq!(
            k,
            "connect socket AF_UNIX /var/run/nscd/socket /var/run/nscd/socket var run nscd socket ENOENT"
        );
        let k = key(
            "connect",
            "0x3 socket:[2], 0x1 {Family: AF_INET6, Addr: ::1, Port: 22}, 0x1c",
            "0 (0x0)",
        );
        assert_eq!(k, "connect socket AF_INET6 ::1 port=22");
        assert_eq!(
            key("socket", "AF_INET, SOCK_STREAM|0x0, IPPROTO_TCP", "3 (0x3)"),
            "socket AF_INET SOCK_STREAM IPPROTO_TCP"
        );
    }

    #[test]
    fn buffers_structs_and_fds() {
        assert_eq!(
            key(
                "read",
                r#"0x3 /etc/hostname, 0x7f89b9209000 "vm\n", 0x20000"#,
                "3 (0x3)"
            ),
            "read /etc/hostname /etc/hostname etc hostname vm"
        );
        assert_eq!(
            key(
                "read",
                r#"0x3 /usr/lib/libc.so.6, 0x7f "\x7fELF\x02\x01\x01\x03\x00", 0x340"#,
                "832 (0x340)"
            ),
            "read /usr/lib/libc.so.6 /usr/lib/libc.so.6 usr lib libc.so.6 ELF"
        );
        assert_eq!(
            key(
                "write",
                r#"0x2 host:[3], 0x7fed969344d0 ": Permission denied", 0x13"#,
                "19 (0x13)"
            ),
            "write host Permission denied"
        );
        assert_eq!(
            key(
                "newfstatat",
                "0x3 /etc/shadow, 0x7f54b01b6dd5 , 0x7f41806d86a0 {dev=14, ino=147, mode=S_IFREG|0o640, nlink=1, uid=0, gid=42, rdev=0, size=631, blksize=4096, blocks=2, atime=2026-11-28 02:15:13.272772631 +0000 UTC, mtime=2026-05-20 16:27:29 +0000 UTC, ctime=2026-05-20 16:27:29 +0000 UTC}, 0x1000",
                "0 (0x0)"
            ),
            "newfstatat /etc/shadow /etc/shadow etc shadow S_IFREG 0640"
        );
        assert_eq!(
            key(
                "mmap",
                "0x0, 0x2000, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, 0xffffffffffffffff (bad FD), 0x0",
                "139635400400896 (0x7eff66706000)"
            ),
            "mmap PROT_READ PROT_WRITE MAP_PRIVATE MAP_ANONYMOUS"
        );
        assert_eq!(
            key("close", "0x3 /etc/hostname", "0 (0x0)"),
            "close /etc/hostname /etc/hostname etc hostname"
        );
        assert_eq!(key("close", "0x1 pipe:[4]", "0 (0x0)"), "close pipe");
        assert_eq!(
            key("access", "0x5646065ab210 /usr/bin/bash, 0o1", "0 (0x0)"),
            "access /usr/bin/bash /usr/bin/bash usr bin bash X_OK"
        );
        assert_eq!(
            key(
                "wait4",
                "0xffffffff, 0x7f6db820d7cc, 0x0, null",
                "0 (0x0) errno=512 (to be restarted if SA_RESTART is set)"
            ),
            "wait4 ERESTARTSYS"
        );
        assert_eq!(key("getpid", "", "0x3"), "getpid");
        assert_eq!(
            key(
                "openat",
                "AT_FDCWD /, 0x1 (error decoding path: bad address), O_RDONLY, 0o0",
                "0x0 errno=14 (bad address)"
            ),
            "openat AT_FDCWD O_RDONLY EFAULT"
        );
    }

    #[test]
    fn errno_names() {
        assert_eq!(errno_name(2), Some("ENOENT"));
        assert_eq!(errno_name(13), Some("EACCES"));
        assert_eq!(errno_name(111), Some("ECONNREFUSED"));
        assert_eq!(errno_name(133), Some("EHWPOISON"));
        assert_eq!(errno_name(0), None);
        assert_eq!(errno_name(41), None);
        assert_eq!(errno_name(9999), None);
        assert_eq!(key("foo", "", "0 (0x0) errno=9999 (odd)"), "foo errno=9999");
    }

    #[test]
    fn hostile_argument_text_never_panics() {
        for args in [
            "\"",
            "\"\\",
            "((((",
            "))))",
            "0x1 \"é\\",
            "0x1 (",
            "0x1 {Addr:",
            "{Port:",
            "0x1 é:[",
            "0x1 [\"a\\",
            "0o",
            "0o99999",
            "AT_FDCWD",
            "0x1 ",
            ", , ,",
            "\\xé",
            "0x1 \"\\u00",
        ] {
            for name in ["openat", "execve", "read", "access", "connect"] {
                let _ = key(name, args, "errno=");
                let _ = key(name, args, "0 errno=99999999999999999999");
            }
        }
    }
}
