//! System-call records: keep what a call does, drop what varies per run.
//!
//! A call `openat(AT_FDCWD, "/etc/shadow", O_RDONLY|O_CLOEXEC) = -1 EACCES (...)`
//! becomes `openat AT_FDCWD /etc/shadow etc shadow O_RDONLY O_CLOEXEC EACCES`:
//! the name, every symbolic constant (flags, errno, signal, address family), each
//! path whole and in parts, addresses and ports; not numbers, pointers, struct
//! field names, comments or the errno message. Strings are read according to the
//! call: paths for file calls, program and arguments for `execve`, a few words of
//! a data buffer for `read`/`write`-like calls.
//!
//! The grammar is strace's; the record's parts were already found by
//! [`super::parse`]. This module only scans the argument text.

use crate::normalize::{keep_word, looks_like_path, mask_path, push_words, Tokens};

/// Words kept from the start of a data buffer (`read`, `write`, `sendto`, ...).
const BUFFER_WORDS: usize = 3;
/// Words kept from any other string argument.
const OTHER_STRING_WORDS: usize = 4;
/// `execve` argument strings looked at.
const ARGV_STRINGS: usize = 16;

/// Tokens of a system call.
pub fn syscall(name: &str, args: &str, result: &str, out: &mut Tokens) {
    if name == "restart_syscall" {
        // `restart_syscall(<... resuming interrupted futex ...>)`: the kernel
        // finishing the call a signal interrupted; that call is what happened.
        let resumed = args.split_whitespace().skip_while(|w| *w != "interrupted").nth(1);
        out.push(resumed.unwrap_or(name));
        push_result(result, out);
        return;
    }
    out.push(name);
    if on_standard_stream(args) {
        // Where the standard streams point (a terminal, a file, a pipe,
        // /dev/null) is how the run was started, not what it does; so are
        // the file type and flags a call on them reports, and whether a
        // terminal ioctl succeeds. What the program asks for stays.
        for arg in top_level_args(args).skip(1) {
            if arg
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'|')
            {
                for flag in arg.split('|') {
                    if flag.bytes().any(|b| b.is_ascii_uppercase()) {
                        out.push(flag);
                    }
                }
            }
        }
        return;
    }
    let role = Role::of(name);
    Scanner::new(args, role).run(out);
    push_result(result, out);
}

/// Whether a call's first argument is a standard stream with its `-y` decoration (`1</dev/pts/0>`).
fn on_standard_stream(args: &str) -> bool {
    let b = args.as_bytes();
    b.len() > 2 && matches!(b[0], b'0' | b'1' | b'2') && b[1] == b'<'
}

/// The top-level arguments of a call, trimmed: commas inside brackets, braces,
/// decorations and strings do not split.
fn top_level_args(args: &str) -> impl Iterator<Item = &str> {
    let b = args.as_bytes();
    let (mut depth, mut start, mut i, mut quoted) = (0usize, 0usize, 0usize, false);
    let mut parts = Vec::new();
    while i < b.len() {
        match b[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'(' | b'[' | b'{' | b'<' if !quoted => depth += 1,
            b')' | b']' | b'}' | b'>' if !quoted => depth = depth.saturating_sub(1),
            b',' if !quoted && depth == 0 => {
                parts.push(args.get(start..i).unwrap_or("").trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(args.get(start..).unwrap_or("").trim());
    parts.into_iter()
}

/// Tokens of a signal line body, e.g. `SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, ...}`.
pub fn signal(body: &str, out: &mut Tokens) {
    out.push("---");
    Scanner::new(body, Role::Other).run(out);
}

/// Tokens of a process end, e.g. `exited with 0` or `killed by SIGKILL (core dumped)`.
pub fn exit(body: &str, out: &mut Tokens) {
    out.push("+++");
    for word in body.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
        if word.is_empty() {
            continue;
        }
        if word.bytes().all(|b| b.is_ascii_digit()) {
            // The exit status is small and meaningful: a failing run differs from a passing one.
            out.push_pair("status=", word);
        } else {
            out.push(word);
        }
    }
}

/// What the string arguments of a call are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Strings at these argument positions are paths (bit i set = argument i).
    Paths(u32),
    /// `execve`-like: the path, then argv.
    Exec { path: usize },
    /// A data buffer: keep only its first words.
    Buffer,
    /// Anything else.
    Other,
}

impl Role {
    fn of(name: &str) -> Role {
        const A0: u32 = 1;
        const A1: u32 = 2;
        const A2: u32 = 4;
        const A3: u32 = 8;
        const A4: u32 = 16;
        match name {
            "execve" => Role::Exec { path: 0 },
            "execveat" => Role::Exec { path: 1 },
            "read" | "pread64" | "readv" | "preadv" | "preadv2" | "write" | "pwrite64" | "writev" | "pwritev"
            | "pwritev2" | "recv" | "recvfrom" | "recvmsg" | "recvmmsg" | "send" | "sendto" | "sendmsg"
            | "sendmmsg" | "getrandom" | "getdents" | "getdents64" => Role::Buffer,
            "open" | "creat" | "stat" | "lstat" | "stat64" | "lstat64" | "access" | "readlink" | "unlink" | "mkdir"
            | "rmdir" | "chdir" | "chmod" | "chown" | "lchown" | "truncate" | "mknod" | "statfs" | "chroot"
            | "acct" | "swapon" | "swapoff" | "umount" | "umount2" | "uselib" | "getxattr" | "lgetxattr"
            | "setxattr" | "lsetxattr" | "listxattr" | "llistxattr" | "removexattr" | "lremovexattr" | "utime"
            | "utimes" => Role::Paths(A0),
            "openat" | "openat2" | "newfstatat" | "fstatat64" | "statx" | "faccessat" | "faccessat2" | "readlinkat"
            | "unlinkat" | "mkdirat" | "fchmodat" | "fchmodat2" | "fchownat" | "mknodat" | "utimensat"
            | "futimesat" | "inotify_add_watch" | "name_to_handle_at" | "open_tree" | "fsconfig" => Role::Paths(A1),
            "rename" | "link" | "symlink" | "pivot_root" | "mount" => Role::Paths(A0 | A1),
            "renameat" | "renameat2" | "linkat" | "move_mount" => Role::Paths(A1 | A3),
            "symlinkat" => Role::Paths(A0 | A2),
            "fanotify_mark" => Role::Paths(A4),
            _ => Role::Other,
        }
    }
}

/// The context a string or number appears in.
#[derive(Clone, Copy)]
struct At<'a> {
    /// Top-level argument position.
    arg: usize,
    /// Nesting depth of brackets and braces (0 = top level).
    depth: usize,
    /// Name of the innermost enclosing function-like wrapper (`htons`, `inet_addr`), or "".
    func: &'a str,
    /// The struct field this value belongs to (`sun_path`, `sin_port`), or "".
    field: &'a str,
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    role: Role,
    /// Strings seen so far in execve's argv.
    argv_seen: usize,
    /// What the call's fd is, as far as its decoration says.
    fd_kind: FdKind,
}

/// What an fd refers to, from its `-y`/`-yy` decoration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FdKind {
    /// No decoration (a trace made without `-y`): unknown.
    Unknown,
    /// A standard stream, a file, a pipe: what flows through it is the run's
    /// data (file contents, output), not behaviour.
    Data,
    /// A socket or another kernel object: what goes over it is a protocol.
    Channel,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str, role: Role) -> Self {
        Scanner {
            text,
            bytes: text.as_bytes(),
            pos: 0,
            role,
            argv_seen: 0,
            fd_kind: FdKind::Unknown,
        }
    }

    fn run(&mut self, out: &mut Tokens) {
        // Open brackets, each with the function name it belongs to ("" for plain brackets).
        let mut stack: Vec<&'a str> = Vec::new();
        let mut arg = 0usize;
        let mut field: &'a str = "";
        let mut pending_func: &'a str = "";
        while self.pos < self.bytes.len() && !out.full() {
            let c = self.bytes[self.pos];
            let at = At {
                arg,
                depth: stack.len(),
                func: stack.last().copied().unwrap_or(""),
                field,
            };
            match c {
                b'"' => {
                    let s = self.string();
                    self.on_string(s, at, out);
                    field = "";
                }
                b'/' if self.bytes.get(self.pos + 1) == Some(&b'*') => self.skip_comment(),
                b'(' | b'[' | b'{' => {
                    stack.push(if c == b'(' { pending_func } else { "" });
                    pending_func = "";
                    self.pos += 1;
                }
                b')' | b']' | b'}' => {
                    stack.pop();
                    self.pos += 1;
                }
                b',' => {
                    if stack.is_empty() {
                        arg += 1;
                    }
                    field = "";
                    self.pos += 1;
                }
                b'0'..=b'9' => {
                    let number = self.number();
                    if self.bytes.get(self.pos) == Some(&b'<') {
                        let decoration = self.decoration();
                        self.on_decoration(number, decoration, at, out);
                    } else {
                        on_number(number, at, out);
                    }
                    field = "";
                }
                b'-' if self.bytes.get(self.pos + 1).is_some_and(u8::is_ascii_digit) => {
                    self.pos += 1;
                    let _ = self.number();
                    field = "";
                }
                b'@' if self.bytes.get(self.pos + 1) == Some(&b'"') => {
                    // An abstract unix socket name: `sun_path=@"name"`.
                    self.pos += 1;
                    let s = self.string();
                    push_words(&unescape(s), OTHER_STRING_WORDS, out);
                    field = "";
                }
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    let ident = self.ident();
                    match self.next_non_space() {
                        Some(b'=') if self.bytes.get(self.skip_spaces_from(self.pos) + 1) != Some(&b'=') => {
                            // A struct field name: constant per call, so it says nothing; remember
                            // it to read the value right.
                            field = ident;
                            self.pos = self.skip_spaces_from(self.pos) + 1;
                        }
                        Some(b'(') => pending_func = ident,
                        // `AT_FDCWD</work/dir>`: the current directory, which the
                        // run's roots already account for; not behaviour.
                        Some(b'<') if self.bytes.get(self.pos) == Some(&b'<') => {
                            out.push(ident);
                            let _ = self.decoration();
                            field = "";
                        }
                        _ => {
                            out.push(ident);
                            field = "";
                        }
                    }
                }
                _ => {
                    // Separators and anything unexpected: skip one character.
                    self.pos += self.text[self.pos..].chars().next().map_or(1, char::len_utf8);
                }
            }
        }
    }

    fn on_string(&mut self, raw: &str, at: At, out: &mut Tokens) {
        if at.func == "inet_addr" || at.func == "inet_pton" {
            out.push(raw);
            return;
        }
        let s = unescape(raw);
        if at.field == "sun_path" {
            push_path(&s, out);
            return;
        }
        match self.role {
            Role::Exec { path } if at.depth == 0 && at.arg == path => push_program(&s, out),
            Role::Exec { path } if at.arg == path + 1 && at.depth == 1 => {
                self.argv_seen += 1;
                // argv[0] repeats the program's name; what matters is the rest.
                if (2..=ARGV_STRINGS).contains(&self.argv_seen) {
                    push_argument(&s, out);
                }
            }
            Role::Exec { .. } => {}
            Role::Paths(mask) if at.depth == 0 && at.arg < 32 && mask & (1 << at.arg) != 0 => push_path(&s, out),
            // The contents of a file, a pipe or a standard stream are the run's
            // data: which file was opened already counted. Words on a socket
            // are a protocol's and stay.
            Role::Buffer if self.fd_kind == FdKind::Data => {
                // Only that it is an executable, which says what kind of file it is.
                if is_elf(raw) {
                    out.push("ELF");
                }
            }
            Role::Buffer => push_buffer(raw, &s, out),
            _ if looks_like_path(&s) => push_path(&s, out),
            _ => push_words(&s, OTHER_STRING_WORDS, out),
        }
    }

    /// An fd with its `-y`/`-yy` decoration (`3</etc/passwd>`, `5<TCP:[...]>`).
    ///
    /// Where a file was opened is behaviour, once: the path of an fd counts only
    /// where it names the directory a path argument is relative to (the `dirfd`
    /// of `openat` and friends, or the file itself with `AT_EMPTY_PATH`), not
    /// again on every read, write, ioctl and close, where one new file name would
    /// make each call on it look new. Sockets, pipes and other kinds keep their
    /// kind (and a socket its addresses). Where the standard streams point is
    /// how the run was started, not what it does: their decorations are dropped.
    fn on_decoration(&mut self, fd: &str, inside: &str, at: At, out: &mut Tokens) {
        if at.depth == 0 && at.arg == 0 {
            let channel = ["TCP", "UDP", "UNIX", "NETLINK", "RAW", "PACKET"]
                .iter()
                .any(|kind| inside.starts_with(kind));
            self.fd_kind = if channel { FdKind::Channel } else { FdKind::Data };
        }
        if matches!(fd, "0" | "1" | "2") {
            return;
        }
        let dirfd = match self.role {
            Role::Paths(mask) => at.depth == 0 && at.arg < 31 && mask & (1 << (at.arg + 1)) != 0,
            _ => false,
        };
        if inside.starts_with('/') {
            if dirfd {
                push_path(inside, out);
            }
            return;
        }
        push_decoration(inside, out);
    }

    /// The raw contents of a quoted string starting at `pos`; moves past it and
    /// past a `...` truncation mark.
    fn string(&mut self) -> &'a str {
        let start = self.pos + 1;
        let mut i = start;
        while i < self.bytes.len() {
            match self.bytes[i] {
                b'\\' => i += 2,
                b'"' => break,
                _ => i += 1,
            }
        }
        let end = i.min(self.bytes.len());
        self.pos = (end + 1).min(self.bytes.len());
        if self.text[self.pos..].starts_with("...") {
            self.pos += 3;
        }
        // `end` is a quote, a backslash-skip landing, or the end: all ASCII-adjacent,
        // but a `\` before a multi-byte char can land mid-char, so step back to a boundary.
        let mut end = end;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        self.text.get(start.min(end)..end).unwrap_or("")
    }

    fn skip_comment(&mut self) {
        match self.text[self.pos + 2..].find("*/") {
            Some(at) => self.pos += 2 + at + 2,
            None => self.pos = self.bytes.len(),
        }
    }

    fn number(&mut self) -> &'a str {
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

    /// The inside of a `-y` fd decoration `<...>` starting at `pos`; moves past it.
    /// Brackets inside are balanced so `TCP:[a:1->b:2]` is read whole.
    fn decoration(&mut self) -> &'a str {
        let start = self.pos + 1;
        let mut depth = 0usize;
        let mut i = start;
        while i < self.bytes.len() {
            match self.bytes[i] {
                b'[' => depth += 1,
                b']' => depth = depth.saturating_sub(1),
                b'>' if depth == 0 => break,
                _ => {}
            }
            i += 1;
        }
        self.pos = (i + 1).min(self.bytes.len());
        self.text.get(start..i).unwrap_or("")
    }

    fn skip_spaces_from(&self, mut i: usize) -> usize {
        while i < self.bytes.len() && self.bytes[i] == b' ' {
            i += 1;
        }
        i
    }

    fn next_non_space(&self) -> Option<u8> {
        self.bytes.get(self.skip_spaces_from(self.pos)).copied()
    }
}

fn on_number(number: &str, at: At, out: &mut Tokens) {
    if at.func == "htons" || at.func == "ntohs" {
        // Which port a program talks to weighs what which file it opens does.
        out.push_pair("port=", number);
        out.push_pair("port=", number);
    } else if is_file_mode(number) {
        // Permission bits say what a program asks for (0600 vs 0777); they do not vary per run.
        out.push(number);
    }
}

/// An octal permission literal as strace prints it: `0644`, `0755`, `04755`.
fn is_file_mode(number: &str) -> bool {
    number.len() >= 4
        && number.len() <= 5
        && number.starts_with('0')
        && number.bytes().all(|b| (b'0'..=b'7').contains(&b))
}

/// The return part: an errno name is kept, the errno message and the returned
/// number are not; other decorations and symbolic extras are read as arguments are.
fn push_result(result: &str, out: &mut Tokens) {
    let result = result.trim();
    if let Some(rest) = result.strip_prefix("-1 ") {
        if let Some(errno) = rest.split_whitespace().next() {
            if errno.starts_with('E') && errno.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
                out.push(errno);
                return;
            }
        }
    }
    if result.starts_with('?') {
        return;
    }
    Scanner::new(result, Role::Other).run(out);
}

/// A `-y`/`-yy` fd decoration: a path, a socket (`TCP:[10.0.0.1:5555->10.0.0.2:22]`),
/// a pipe, an anonymous inode.
fn push_decoration(inside: &str, out: &mut Tokens) {
    if inside.starts_with('/') {
        push_path(inside, out);
        return;
    }
    let (kind, rest) = inside.split_once(':').unwrap_or((inside, ""));
    push_words(kind, 1, out);
    let rest = rest.trim_start_matches('[').trim_end_matches(']');
    if !rest.contains(':') && rest.bytes().all(|b| b.is_ascii_digit()) {
        // An inode number (`TCP:[41801]`, `pipe:[34008]`): it differs every time.
        return;
    }
    if kind.starts_with("TCP") || kind.starts_with("UDP") {
        for end in rest.split("->") {
            // `127.0.0.1:22` or `[::1]:22`: the address, without the port, which is
            // ephemeral on one side and we cannot tell which.
            let address = end.rsplit_once(':').map_or(end, |(a, _)| a);
            let address = address.trim_start_matches('[').trim_end_matches(']');
            out.push(address);
        }
    } else if !rest.bytes().all(|b| b.is_ascii_digit() || b == b'-' || b == b'>') {
        push_words(rest, 2, out);
    }
}

/// A path: whole (with random parts masked) and each meaningful component.
///
/// The whole path counts twice: which file a call touches is most of what the
/// call means, and without the extra weight a call on `/etc/shadow` would sit
/// as close to one on `/etc/hostname` as the shared syscall, flags and
/// directory make it.
pub fn push_path(path: &str, out: &mut Tokens) {
    if path.is_empty() {
        return;
    }
    let whole = mask_path(&out.rebase(path));
    out.push(&whole);
    out.push(&whole);
    for component in whole.split('/') {
        if out.full() {
            break;
        }
        if component.is_empty() || component == "." || component == ".." || component == "N" || component == "*" {
            continue;
        }
        // A single-component relative path was already pushed whole.
        if component != whole {
            out.push(component);
        }
    }
}

/// The program an `execve` runs: its path alone, weighted like a path's whole
/// token; its directories say little (most programs live in `/usr/bin`).
pub(crate) fn push_program(path: &str, out: &mut Tokens) {
    let whole = mask_path(&out.rebase(path));
    out.push(&whole);
    out.push(&whole);
}

/// The first words of a data buffer, if it is text; binary data (hashes,
/// compressed or machine data) has no words worth keeping, only an ELF header.
fn push_buffer(raw: &str, unescaped: &str, out: &mut Tokens) {
    if is_elf(raw) {
        out.push("ELF");
        return;
    }
    let escapes = raw
        .as_bytes()
        .windows(2)
        .filter(|w| w[0] == b'\\' && (w[1].is_ascii_digit() || w[1] == b'x'))
        .count();
    let chars = unescaped.chars().count().max(1);
    // Mostly escapes, or a short buffer with any: random bytes (a hash, a key,
    // an index entry), whose letters make words only by chance.
    if escapes * 4 > chars || (escapes > 0 && chars < 32) || looks_encoded(unescaped) {
        return;
    }
    push_words(unescaped, BUFFER_WORDS, out);
}

/// Whether a buffer, as strace escapes it, starts with an ELF header.
fn is_elf(raw: &str) -> bool {
    raw.starts_with("\\177ELF") || raw.starts_with("\\x7fELF")
}

/// Whether text starts like base64 or another encoding of random bytes: a long
/// run of letters and digits that mixes upper case, lower case and digits,
/// which prose, code and configuration do not have. Its letters make words
/// only by chance (`Fg`, `oWyWwy`).
fn looks_encoded(text: &str) -> bool {
    const LONG_RUN: usize = 16;
    let head = text.get(..text.len().min(256)).unwrap_or(text);
    head.split(|c: char| !c.is_ascii_alphanumeric()).any(|run| {
        let b = run.as_bytes();
        b.len() >= LONG_RUN
            && b.iter().any(u8::is_ascii_uppercase)
            && b.iter().any(u8::is_ascii_lowercase)
            && b.iter().any(u8::is_ascii_digit)
    })
}

/// One `execve` argument: a path, an option, or words (a `sh -c` script).
pub(crate) fn push_argument(arg: &str, out: &mut Tokens) {
    for piece in arg.split_whitespace() {
        if out.full() {
            return;
        }
        if looks_like_path(piece) {
            push_path(piece, out);
        } else if piece.starts_with('-') && piece.len() <= 32 {
            // Options (`-c`, `--rm`) change what a program does; keep them whole, minus any value.
            let option = piece.split('=').next().unwrap_or(piece);
            if !option.bytes().any(|b| b.is_ascii_digit()) {
                out.push(option);
            }
        } else if keep_word(piece) {
            out.push(piece);
        } else {
            push_words(piece, 4, out);
        }
    }
}

/// Undo strace's C-style escapes enough to find words and paths: `\n`, `\t`, `\"`,
/// `\\` and octal/hex escapes of non-printable bytes (which become a space).
fn unescape(raw: &str) -> std::borrow::Cow<'_, str> {
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
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('x') => {
                for _ in 0..2 {
                    if chars.peek().is_some_and(char::is_ascii_hexdigit) {
                        chars.next();
                    }
                }
                out.push(' ');
            }
            Some(d) if d.is_ascii_digit() => {
                for _ in 0..2 {
                    if chars.peek().is_some_and(char::is_ascii_digit) {
                        chars.next();
                    }
                }
                out.push(' ');
            }
            _ => out.push(' '),
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, args: &str, result: &str) -> String {
        let mut key = String::new();
        syscall(name, args, result, &mut Tokens::new(&mut key));
        key
    }

    #[test]
    fn openat_keeps_flags_path_and_errno() {
        assert_eq!(
            key(
                "openat",
                r#"AT_FDCWD, "/etc/shadow", O_RDONLY|O_CLOEXEC"#,
                "-1 EACCES (Permission denied)"
            ),
            "openat AT_FDCWD /etc/shadow /etc/shadow etc shadow O_RDONLY O_CLOEXEC EACCES"
        );
        assert_ne!(
            key("openat", r#"AT_FDCWD, "/etc/shadow", O_RDONLY"#, "3"),
            key("openat", r#"AT_FDCWD, "/etc/hostname", O_RDONLY"#, "3")
        );
    }

    #[test]
    fn numbers_pointers_and_sizes_are_dropped() {
        assert_eq!(
            key(
                "mmap",
                "NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0",
                "0x7f2b4c1d2000"
            ),
            "mmap NULL PROT_READ PROT_WRITE MAP_PRIVATE MAP_ANONYMOUS"
        );
        assert_eq!(key("close", "3", "0"), "close");
        assert_eq!(
            key("fstat", "3, {st_mode=S_IFREG|0644, st_size=1234, ...}", "0"),
            "fstat S_IFREG 0644"
        );
    }

    #[test]
    fn execve_keeps_program_and_short_arguments() {
        let k = key(
            "execve",
            r#""/usr/bin/sh", ["sh", "-c", "id"], 0x7ffd3b1c /* 20 vars */"#,
            "0",
        );
        assert_eq!(k, "execve /usr/bin/sh /usr/bin/sh -c id");
    }

    #[test]
    fn sockets_keep_family_address_and_port() {
        let k = key(
            "connect",
            r#"3, {sa_family=AF_INET, sin_port=htons(22), sin_addr=inet_addr("127.0.0.1")}, 16"#,
            "-1 ECONNREFUSED (Connection refused)",
        );
        assert_eq!(k, "connect AF_INET port=22 port=22 127.0.0.1 ECONNREFUSED");
        let k = key(
            "connect",
            r#"3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110"#,
            "0",
        );
        assert_eq!(
            k,
            "connect AF_UNIX /var/run/nscd/socket /var/run/nscd/socket var run nscd socket"
        );
    }

    #[test]
    fn buffers_keep_only_their_first_words() {
        let k = key(
            "read",
            r#"3, "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1"..., 4096"#,
            "1234",
        );
        assert_eq!(k, "read root root root");
        let k = key("write", r#"1, "\x7fELF\2\1\1\0", 8"#, "8");
        assert_eq!(k, "write ELF");
        // A git object id written as raw bytes: no words worth keeping.
        let k = key(
            "write",
            r#"3, "d\17\262-iK\370\303\33\335}\316\177Ga\347\16;\257\324", 20"#,
            "20",
        );
        assert_eq!(k, "write");
        // Eight random bytes that happen to hold two letters in a row.
        let k = key("read", r#"3, "\nri\233\377CY[", 8"#, "8");
        assert_eq!(k, "read");
    }

    #[test]
    fn an_fd_path_counts_where_it_was_opened_not_on_every_call() {
        // One new input name must not make every call on its fd new.
        for (args, result) in [
            (
                r#"3</tmp/w/src/pavo_133.txt>, TCGETS, 0x7ffd"#,
                "-1 ENOTTY (Inappropriate ioctl for device)",
            ),
            (
                r#"3</tmp/w/src/draco_394.txt>, TCGETS, 0x7ffd"#,
                "-1 ENOTTY (Inappropriate ioctl for device)",
            ),
        ] {
            assert_eq!(key("ioctl", args, result), "ioctl TCGETS ENOTTY");
        }
        assert_eq!(
            key("close", "3</tmp/jsonapp-arhpyrih/rec_delta_310.json>", "0"),
            "close"
        );
        let k = key("openat", r#"AT_FDCWD, "/etc/passwd", O_RDONLY"#, "3</etc/passwd>");
        assert_eq!(k, "openat AT_FDCWD /etc/passwd /etc/passwd etc passwd O_RDONLY");
        // The directory an *at call's path is relative to still counts.
        let k = key(
            "newfstatat",
            r#"3</etc/shadow>, "", {st_mode=S_IFREG|0640}, AT_EMPTY_PATH"#,
            "0",
        );
        assert_eq!(
            k,
            "newfstatat /etc/shadow /etc/shadow etc shadow S_IFREG 0640 AT_EMPTY_PATH"
        );
    }

    #[test]
    fn what_a_standard_stream_is_does_not_count() {
        let stat = |decoration: &str, mode: &str| {
            key(
                "newfstatat",
                &format!(
                    r#"1<{decoration}>, "", {{st_mode={mode}|0666, st_rdev=makedev(0x1, 0x3), ...}}, AT_EMPTY_PATH"#
                ),
                "0",
            )
        };
        assert_eq!(stat("/dev/null<char 1:3>", "S_IFCHR"), stat("pipe:[4242]", "S_IFIFO"));
        assert_eq!(stat("/dev/null<char 1:3>", "S_IFCHR"), "newfstatat AT_EMPTY_PATH");
        assert_eq!(
            key("ioctl", "2</dev/pts/0<char 136:0>>, TCGETS, {c_iflag=ICRNL}", "0"),
            key(
                "ioctl",
                "2</tmp/w/err.log>, TCGETS, 0x7ffd",
                "-1 ENOTTY (Inappropriate ioctl for device)"
            )
        );
        assert_eq!(
            key(
                "fcntl",
                "1</dev/null<char 1:3>>, F_GETFL",
                "0x8001 (flags O_WRONLY|O_LARGEFILE)"
            ),
            "fcntl F_GETFL"
        );
    }

    #[test]
    fn standard_streams_and_the_current_directory_are_not_behaviour() {
        assert_eq!(
            key("ioctl", "1</tmp/w/other.log>, TCGETS, 0x7ffd", "-1 ENOTTY (x)"),
            key("ioctl", "1</dev/null<char 1:3>>, TCGETS, 0x7ffd", "-1 ENOTTY (x)")
        );
        assert_eq!(key("write", r#"2<pipe:[4242]>, "x", 1"#, "1"), "write");
        let k = key("openat", r#"AT_FDCWD</tmp/tmp.UEsGhSDNFd>, "Makefile", O_RDONLY"#, "3");
        assert_eq!(k, "openat AT_FDCWD Makefile Makefile O_RDONLY");
    }

    #[test]
    fn sockets_keep_peers_not_inodes() {
        let k = key("write", r#"4<TCP:[127.0.0.1:41234->127.0.0.1:22]>, "x", 1"#, "1");
        assert_eq!(k, "write TCP 127.0.0.1 127.0.0.1");
        assert_eq!(key("close", "5<TCP:[41801]>", "0"), key("close", "5<TCP:[40797]>", "0"));
        assert_eq!(key("close", "5<TCP:[41801]>", "0"), "close TCP");
    }

    #[test]
    fn data_in_files_and_pipes_has_no_words_but_protocols_do() {
        let read = |fd: &str| key("read", &format!(r#"{fd}, "slate thistle topaz cedar\n", 4096"#), "25");
        assert_eq!(read("4</tmp/w/project/olive.txt>"), "read");
        assert_eq!(read("0<pipe:[214252]>"), "read");
        assert_eq!(read("1</dev/pts/0>"), "read");
        assert_eq!(
            read("5<TCP:[127.0.0.1:41234->127.0.0.1:22]>"),
            "read TCP 127.0.0.1 127.0.0.1 slate thistle topaz"
        );
        assert_eq!(
            read("3"),
            "read slate thistle topaz",
            "without -y the fd could be anything"
        );
    }

    #[test]
    fn encoded_buffers_have_no_words() {
        let k = key(
            "read",
            r#"3, "EbbSu28wmrkOfwIOlZLgE5zovV5Mh5y1SP8LpuHKlfsiGp0q6psjlIa3aKKOZkjYQH/Fg+oWyWwy
", 4096"#,
            "77",
        );
        assert_eq!(k, "read");
        // Prose and configuration keep theirs.
        let k = key(
            "read",
            r#"3, "[core]
	repositoryformatversion = 0
", 4096"#,
            "40",
        );
        assert_eq!(k, "read core repositoryformatversion");
    }

    #[test]
    fn paths_under_a_runs_places_agree_between_runs() {
        use crate::normalize::Roots;
        let keyed = |work: &str, home: &str, path: &str| {
            let roots = Roots {
                work: Some(work.to_owned()),
                home: Some(home.to_owned()),
                temps: Vec::new(),
            };
            let mut k = String::new();
            let args = format!(r#"AT_FDCWD</x>, "{path}", O_RDONLY"#);
            syscall("openat", &args, "3", &mut Tokens::with_roots(&mut k, &roots));
            k
        };
        let a = keyed("/tmp/tmp.AAAA", "/tmp/h1", "/tmp/tmp.AAAA/src/main.c");
        let b = keyed("/srv/ci/job-77", "/tmp/h2", "/srv/ci/job-77/src/main.c");
        assert_eq!(a, b);
        assert_eq!(
            a,
            "openat AT_FDCWD $CWD/src/main.c $CWD/src/main.c $CWD src main.c O_RDONLY"
        );
        let a = keyed("/tmp/tmp.AAAA", "/tmp/h1", "/tmp/h1/.ssh/authorized_keys");
        let b = keyed("/w", "/home/ci", "/home/ci/.ssh/authorized_keys");
        assert_eq!(a, b);
        assert!(a.contains(" ~/.ssh/authorized_keys "), "{a}");
    }

    #[test]
    fn random_path_parts_are_masked() {
        assert_eq!(
            key("openat", r#"AT_FDCWD, "/proc/12345/status", O_RDONLY"#, "3"),
            "openat AT_FDCWD /proc/N/status /proc/N/status proc status O_RDONLY"
        );
        assert_eq!(
            key("unlink", r#""/tmp/tmp.x8Kq2Lz9Q1""#, "0"),
            "unlink /tmp/tmp.* /tmp/tmp.* tmp tmp.*"
        );
    }

    #[test]
    fn signals_and_exits() {
        let mut k = String::new();
        signal(
            "SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=4242, si_uid=0, si_status=0}",
            &mut Tokens::new(&mut k),
        );
        assert_eq!(k, "--- SIGCHLD SIGCHLD CLD_EXITED");
        let mut k = String::new();
        exit("exited with 1", &mut Tokens::new(&mut k));
        assert_eq!(k, "+++ exited with status=1");
        let mut k = String::new();
        exit("killed by SIGSEGV (core dumped)", &mut Tokens::new(&mut k));
        assert_eq!(k, "+++ killed by SIGSEGV core dumped");
    }

    #[test]
    fn a_restarted_call_is_the_call_it_resumes() {
        assert_eq!(
            key(
                "restart_syscall",
                "<... resuming interrupted futex ...>",
                "-1 ETIMEDOUT (Connection timed out)"
            ),
            "futex ETIMEDOUT"
        );
        assert_eq!(key("restart_syscall", "<...>", "0"), "restart_syscall");
    }

    #[test]
    fn hostile_argument_text_never_panics() {
        for args in [
            "\"", "\"\\", "((((", "))))", "/*", "1<", "1<[", "\"é\\", "a=", "=", "@\"", "-", "\\xé",
        ] {
            let _ = key("openat", args, "-1 ");
            let _ = key("execve", args, "?");
        }
    }
}
