//! A run's own places: its work directory, its home and the temporary
//! directories it makes, so that paths under them compare between runs made in
//! different places.
//!
//! A CI job, a developer's machine and a container each run a program from
//! another directory, with another `HOME` and other temporary names. A path
//! under one of these roots is rewritten relative to it before it is masked:
//! `/tmp/tmp.UEsGhSDNFd/src/main.c` becomes `$CWD/src/main.c` when the run
//! worked in `/tmp/tmp.UEsGhSDNFd`, `/home/alice/.gitconfig` becomes
//! `~/.gitconfig`, and `/tmp/jsonapp-arhpyrih/out.json` becomes `$TMP/out.json`
//! when the run made that directory itself.
//!
//! The roots are inferred from the trace, as [`Roots::observe`] sees its records
//! in order:
//! - the work directory: the first directory a call reports as its current one
//!   (`AT_FDCWD</dir>` with strace's `-yy`, a `getcwd` result, an absolute `chdir`);
//! - home: `/root` and `/home/NAME` always, and the directory holding the first
//!   per-user dot file read or written (`.gitconfig`, `.ssh`, `.cache`, ...);
//! - temporary directories and files: made by the run itself in a temporary
//!   directory, with `mkdir(..., 0700)` or `O_CREAT|O_EXCL` (what `mkdtemp`,
//!   `mkstemp`, `mktemp` and Python's `tempfile` do).
//!
//! `honk trace --learn/--score` knows the run's context for sure and seeds it
//! ([`Roots::seed`], [`Roots::of_this_process`]); a trace read later from a file
//! has the inference above.
//!
//! This module only finds roots and rebases paths; it does not mask or weigh.

use std::borrow::Cow;

use crate::parse::{Kind, Record};

/// How a rebased path starts for each kind of root.
pub const WORK: &str = "$CWD";
/// Home, as a shell writes it.
pub const HOME: &str = "~";
/// A temporary directory or file the run made.
pub const TEMP: &str = "$TMP";

/// Temporary places remembered per input; a run that makes more than this is
/// hostile or unusual, and the rest are masked by name only.
const MAX_TEMPS: usize = 1024;

/// Dot files and directories that live in a user's home and nowhere else (not
/// `.cargo` or `.npmrc`, which tools also look for in every parent directory).
const HOME_MARKERS: &[&str] = &[
    ".gitconfig",
    ".git-credentials",
    ".ssh",
    ".cache",
    ".config",
    ".local",
    ".bashrc",
    ".bash_profile",
    ".bash_history",
    ".profile",
    ".zshrc",
    ".python_history",
    ".pythonrc",
    ".sqlite_history",
    ".sqliterc",
    ".netrc",
    ".gnupg",
    ".wget-hsts",
    ".curlrc",
    ".inputrc",
    ".lesshst",
    ".viminfo",
    ".selected_editor",
];

/// The run's places, as far as they are known.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Roots {
    /// The run's first working directory.
    pub work: Option<String>,
    /// The run's home directory (besides `/root` and `/home/NAME`).
    pub home: Option<String>,
    /// Temporary directories and files the run made, in the order it made them.
    pub temps: Vec<String>,
}

/// Places known before reading starts (see [`Roots::seed`]).
static SEED: std::sync::OnceLock<Roots> = std::sync::OnceLock::new();

impl Roots {
    /// No roots known: paths are masked as they are.
    pub fn new() -> Roots {
        Roots::default()
    }

    /// The places every input read from now on starts with: for a trace honk
    /// made itself (`honk trace --learn/--score`), the run's own context, known
    /// for sure rather than inferred. Set once per process; later calls are ignored.
    pub fn seed(roots: Roots) {
        let _ = SEED.set(roots);
    }

    /// The roots an input starts with: the [`Roots::seed`], or none.
    pub fn for_input() -> Roots {
        SEED.get().cloned().unwrap_or_default()
    }

    /// The context of this process, as a command it runs inherits it: its
    /// current directory, `HOME`, and `TMPDIR` when that is a directory of its
    /// own (not `/tmp`).
    pub fn of_this_process() -> Roots {
        let mut roots = Roots::new();
        if let Some(dir) = std::env::current_dir().ok().and_then(|d| d.to_str().map(str::to_owned)) {
            roots.set_work(&dir);
        }
        roots.home = std::env::var("HOME")
            .ok()
            .filter(|h| h.starts_with('/') && h.len() > 1 && !is_system_dir(h))
            .map(|h| h.trim_end_matches('/').to_owned());
        if let Ok(tmp) = std::env::var("TMPDIR") {
            let tmp = tmp.trim_end_matches('/');
            if tmp.starts_with('/') && !matches!(tmp, "" | "/tmp" | "/var/tmp") && !is_system_dir(tmp) {
                roots.temps.push(tmp.to_owned());
            }
        }
        roots
    }

    /// Learn what a record tells about the run's places.
    pub fn observe(&mut self, record: &Record) {
        let Kind::Syscall { name, args, result } = &record.kind else {
            return;
        };
        let text = record.text.as_str();
        let part = |r: &std::ops::Range<usize>| text.get(r.clone()).unwrap_or("");
        let (name, args, result) = (part(name), part(args), part(result));
        if self.work.is_none() {
            if let Some(at) = args.find("AT_FDCWD<") {
                let rest = &args[at + "AT_FDCWD<".len()..];
                if let Some(end) = rest.find('>') {
                    self.set_work(&rest[..end]);
                }
            } else if name == "getcwd" || name == "chdir" {
                if let Some(path) = first_string(args) {
                    if !result.trim_start().starts_with('-') {
                        self.set_work(&path);
                    }
                }
            }
        }
        if self.home.is_none() && args.contains("/.") {
            if let Some(path) = first_string_with(args, "/.") {
                // A project's own dot files are not home's.
                self.home = home_of(&path).filter(|h| !self.work.as_deref().is_some_and(|w| under(h, w)));
            }
        }
        if self.temps.len() < MAX_TEMPS && !result.trim_start().starts_with('-') {
            let made = match name {
                "mkdir" | "mkdirat" => args.contains(", 0700"),
                "open" | "openat" | "creat" => args.contains("O_CREAT") && args.contains("O_EXCL"),
                _ => false,
            };
            if made {
                if let Some(path) = first_string(args).filter(|p| in_temp_dir(p) || generated_name(p)) {
                    if !self.temps.contains(&path) {
                        self.temps.push(path);
                    }
                }
            }
        }
    }

    fn set_work(&mut self, dir: &str) {
        // The root directory or a system directory is nobody's work place.
        if dir.starts_with('/') && dir.len() > 1 && !is_system_dir(dir) {
            self.work = Some(dir.trim_end_matches('/').to_owned());
        }
    }

    /// `path` relative to the root it lies under (`$CWD/src/main.c`), or as it is.
    pub fn rebase<'p>(&self, path: &'p str) -> Cow<'p, str> {
        if !path.starts_with('/') {
            return path.into();
        }
        let mut best: Option<(&str, usize)> = None;
        let mut consider = |root: &str, label: &'static str| {
            if under(path, root) && best.is_none_or(|(_, len)| root.len() > len) {
                best = Some((label, root.len()));
            }
        };
        for temp in &self.temps {
            consider(temp, TEMP);
        }
        if let Some(home) = &self.home {
            consider(home, HOME);
        }
        if let Some(work) = &self.work {
            consider(work, WORK);
        }
        if let Some(len) = standard_home(path) {
            if best.is_none_or(|(_, l)| len > l) {
                best = Some((HOME, len));
            }
        }
        match best {
            Some((label, len)) => {
                let mut out = String::with_capacity(label.len() + path.len() - len);
                out.push_str(label);
                out.push_str(&path[len..]);
                out.into()
            }
            None => path.into(),
        }
    }
}

/// Whether `path` is `root` or lies under it.
fn under(path: &str, root: &str) -> bool {
    path.starts_with(root) && (path.len() == root.len() || path.as_bytes().get(root.len()) == Some(&b'/'))
}

/// The length of `/root` or `/home/NAME` at the start of `path`, if it starts so.
fn standard_home(path: &str) -> Option<usize> {
    if under(path, "/root") {
        return Some("/root".len());
    }
    let rest = path.strip_prefix("/home/")?;
    let name = rest.split('/').next().filter(|n| !n.is_empty())?;
    Some("/home/".len() + name.len())
}

fn is_system_dir(dir: &str) -> bool {
    [
        "/usr", "/etc", "/proc", "/sys", "/dev", "/lib", "/lib64", "/bin", "/sbin", "/boot", "/run", "/var/lib",
    ]
    .iter()
    .any(|root| under(dir, root))
}

/// Whether a path lies directly in a temporary directory.
pub fn in_temp_dir(path: &str) -> bool {
    let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
    matches!(parent, "/tmp" | "/var/tmp" | "/dev/shm") || parent.ends_with("/tmp") && !parent.starts_with("/usr")
}

/// Whether the last component of a path a run made exclusively (`O_EXCL`) looks
/// made by `mkstemp` anywhere (git's `.git/thy1pnf`, `.git/trKGRvT`): six to
/// twelve letters and digits with a digit or a capital.
fn generated_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).as_bytes();
    (6..=12).contains(&name.len())
        && name.iter().all(u8::is_ascii_alphanumeric)
        && name.iter().any(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

/// The home directory a path with a per-user dot file names, if it does.
fn home_of(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let mut at = 0;
    for component in path.split('/') {
        if HOME_MARKERS.contains(&component) {
            let home = path[..at].trim_end_matches('/');
            if home.is_empty() || is_system_dir(home) || home == "/tmp" {
                return None;
            }
            return Some(home.to_owned());
        }
        at += component.len() + 1;
    }
    None
}

/// The first quoted string of a call's arguments, with `\"` and `\\` undone.
fn first_string(args: &str) -> Option<String> {
    strings(args).next()
}

/// The first quoted string that contains `needle`.
fn first_string_with(args: &str, needle: &str) -> Option<String> {
    strings(args).find(|s| s.contains(needle))
}

fn strings(args: &str) -> impl Iterator<Item = String> + '_ {
    let mut rest = args;
    std::iter::from_fn(move || {
        let start = rest.find('"')? + 1;
        let mut out = String::new();
        let mut chars = rest[start..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, e)) => out.push(e),
                    None => break,
                },
                '"' => {
                    rest = &rest[start + i + 1..];
                    return Some(out);
                }
                c => out.push(c),
            }
        }
        rest = "";
        Some(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{self, Format};

    fn roots_of(trace: &str) -> Roots {
        let mut parser = parse::parser(Format::Strace);
        let mut records = Vec::new();
        for (i, line) in trace.lines().enumerate() {
            parser.push(i as u64 + 1, line, &mut records);
        }
        parser.finish(&mut records);
        let mut roots = Roots::new();
        for record in &records {
            roots.observe(record);
        }
        roots
    }

    #[test]
    fn work_home_and_temps_are_found() {
        let roots = roots_of(concat!(
            "100 execve(\"/usr/bin/sh\", [\"sh\", \"w.sh\"], 0x7ffd /* 20 vars */) = 0\n",
            "100 openat(AT_FDCWD</tmp/tmp.UEsGhSDNFd>, \"src/a.txt\", O_RDONLY) = 3</tmp/tmp.UEsGhSDNFd/src/a.txt>\n",
            "101 openat(AT_FDCWD</tmp/tmp.UEsGhSDNFd/repo>, \"/tmp/tmp.Kq/home/.gitconfig\", O_RDONLY) = 3\n",
            "102 mkdir(\"/tmp/jsonapp-arhpyrih\", 0700) = 0\n",
            "102 openat(AT_FDCWD</tmp/tmp.UEsGhSDNFd>, \"/tmp/3_zniumv\", O_RDWR|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600) = 4\n",
            "102 mkdir(\"/tmp/public\", 0755) = 0\n",
        ));
        assert_eq!(roots.work.as_deref(), Some("/tmp/tmp.UEsGhSDNFd"));
        assert_eq!(roots.home.as_deref(), Some("/tmp/tmp.Kq/home"));
        assert_eq!(roots.temps, ["/tmp/jsonapp-arhpyrih", "/tmp/3_zniumv"]);
        assert_eq!(roots.rebase("/tmp/tmp.UEsGhSDNFd/src/a.txt"), "$CWD/src/a.txt");
        assert_eq!(roots.rebase("/tmp/tmp.UEsGhSDNFd"), "$CWD");
        assert_eq!(roots.rebase("/tmp/tmp.UEsGhSDNFdX/a"), "/tmp/tmp.UEsGhSDNFdX/a");
        assert_eq!(
            roots.rebase("/tmp/tmp.Kq/home/.ssh/authorized_keys"),
            "~/.ssh/authorized_keys"
        );
        assert_eq!(roots.rebase("/tmp/jsonapp-arhpyrih/x.json"), "$TMP/x.json");
        assert_eq!(roots.rebase("/home/alice/.bashrc"), "~/.bashrc");
        assert_eq!(roots.rebase("/root/.ssh/id_rsa"), "~/.ssh/id_rsa");
        assert_eq!(roots.rebase("/etc/shadow"), "/etc/shadow");
        assert_eq!(roots.rebase("src/a.txt"), "src/a.txt");
    }

    #[test]
    fn getcwd_gives_the_work_directory_without_yy() {
        let roots = roots_of("7 getcwd(\"/home/bob/build\", 4096) = 16\n");
        assert_eq!(roots.work.as_deref(), Some("/home/bob/build"));
        // The work directory is more specific than home.
        assert_eq!(roots.rebase("/home/bob/build/x.c"), "$CWD/x.c");
        assert_eq!(roots.rebase("/home/bob/.profile"), "~/.profile");
    }

    #[test]
    fn this_process_gives_its_directory_and_home() {
        let roots = Roots::of_this_process();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(roots.work.as_deref(), cwd.to_str());
        if let Ok(home) = std::env::var("HOME") {
            if home != "/" {
                assert_eq!(roots.home.as_deref(), Some(home.trim_end_matches('/')));
            }
        }
    }

    #[test]
    fn system_places_are_never_roots() {
        let roots = roots_of(concat!(
            "7 getcwd(\"/\", 4096) = 2\n",
            "7 openat(AT_FDCWD</usr/lib>, \"/etc/skel/.bashrc\", O_RDONLY) = 3\n",
            "7 mkdir(\"/etc/x\", 0700) = 0\n",
        ));
        assert_eq!(roots, Roots::new());
    }
}
