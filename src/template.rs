//! Templates: words of a key that are parameters of a run, not behaviour.
//!
//! A build of crate `proj_orion` and one of crate `proj_vega` do the same
//! things; a program fed `pavo_133.txt` in one run and `draco_394.txt` in the
//! next reads its input the same way. With several known-good runs, a word
//! that appears in only one of them is such a parameter: the runs agree on
//! everything else. Learning counts, for every candidate word, how many runs
//! (model sources) it appeared in ([`words`] finds the candidates of a key);
//! scoring replaces, in the baseline's keys and the target's alike, every
//! candidate word seen in at most one run by `<*>` ([`Templater::apply`]), so
//! `$CWD/proj_orion/src/main.rs` and `$CWD/proj_vega/src/main.rs` become the
//! same `$CWD/<*>/src/main.rs`. A file extension is kept (`<*>.txt`).
//!
//! What a candidate is, and is not:
//! - the components of paths under the run's work directory and temporary
//!   places (`$CWD`, `$TMP`) and of relative paths (not home's), and single words (program arguments, words of a
//!   data buffer, path components pushed on their own);
//! - never the call's name, a constant (`O_RDONLY`, `ENOENT`), an option
//!   (`-c`), a `name=value` token (`port=4444`), an address, a word shorter
//!   than three characters (`sh`, `id`, `nc`), a component of an absolute
//!   path elsewhere (`/etc/<new>` stays new), or a name that is sensitive
//!   wherever it appears ([`SENSITIVE`]).
//!
//! With fewer than two runs nothing varies, so nothing is templated; nor is a
//! text log's model ([`Templater::for_model`]). This module neither
//! normalizes nor scores; it rewrites keys.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::normalize::roots;

/// What a parameter becomes.
pub const PLACEHOLDER: &str = "<*>";

/// Shortest word that can be a parameter: people name things `app`, `api`,
/// `web`; two letters (`sh`, `id`, `nc`) are commands, never parameters.
const MIN_WORD: usize = 3;

/// Names that stay themselves however rarely the baseline saw them: reading
/// or writing them is what an attack looks like.
pub const SENSITIVE: &[&str] = &[
    "shadow",
    "gshadow",
    "passwd",
    "sudoers",
    "sudoers.d",
    ".ssh",
    "authorized_keys",
    "authorized_keys2",
    "known_hosts",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    ".bashrc",
    ".bash_profile",
    ".profile",
    ".zshrc",
    ".bash_history",
    ".git-credentials",
    ".netrc",
    ".pgpass",
    "credentials",
    "crontab",
    "cron.d",
    "environ",
    "kcore",
    "whoami",
    "curl",
    "wget",
    "bash",
    "python3",
    "perl",
    "socat",
    "ncat",
    "netcat",
    "chmod",
    "chown",
    "sudo",
    "ssh",
    "scp",
    "sftp",
    "ftp",
    "tcp",
    "udp",
];

/// The vocabulary entries of a key (see the module docs): every candidate
/// word, and for a candidate path component also `parent/component`, its
/// position; each as often as it occurs.
pub fn words(key: &str, mut each: impl FnMut(&str)) {
    let mut pair = String::new();
    for token in key.split(' ').skip(1) {
        if token.contains('/') {
            if !own_path(token) {
                continue;
            }
            let mut parent = "";
            for component in token.split('/') {
                if candidate(component) {
                    each(component);
                    pair.clear();
                    pair.push_str(parent);
                    pair.push('/');
                    pair.push_str(component);
                    each(&pair);
                }
                parent = component;
            }
        } else if candidate(token) {
            each(token);
        }
    }
}

/// Whether a path token lies in the run's own places or is relative.
///
/// Not home: a home is where persistence is planted (`~/.config/cron/...`,
/// `~/.bashrc`), and a run's own home is already rebased to `~`, so its paths
/// agree between runs without templates.
fn own_path(token: &str) -> bool {
    !(token.starts_with('/') || token.starts_with(roots::HOME))
        || [roots::WORK, roots::TEMP].iter().any(|root| token.starts_with(root))
}

/// Whether one word or path component can be a parameter.
fn candidate(word: &str) -> bool {
    if word.chars().count() < MIN_WORD || SENSITIVE.contains(&word) {
        return false;
    }
    if matches!(word, roots::WORK | roots::HOME | roots::TEMP) || word.starts_with('-') || word.contains(['=', ':']) {
        return false;
    }
    // Constants are upper case (`O_RDONLY`, `ENOENT`, `AF_INET`); addresses and
    // numbers have no lower-case letter either.
    word.bytes().any(|b| b.is_ascii_lowercase()) || !word.is_ascii()
}

/// How many runs each candidate word appeared in, learned from the baseline.
pub type Vocabulary = BTreeMap<String, u32>;

/// Rewrites keys with the parameters a baseline's runs revealed.
#[derive(Clone, Debug)]
pub struct Templater<'a> {
    vocabulary: &'a Vocabulary,
    enabled: bool,
}

impl<'a> Templater<'a> {
    /// A templater for a baseline of `runs` runs with these word counts.
    pub fn new(vocabulary: &'a Vocabulary, runs: usize) -> Templater<'a> {
        Templater {
            vocabulary,
            enabled: runs >= 2,
        }
    }

    /// The templater of a model: its words and runs. Only a model of system
    /// calls is templated: in a text log a word seen in one run is as often
    /// a new message as a parameter, and nothing (no path, no argument
    /// position) tells them apart.
    pub fn for_model(model: &crate::model::Model) -> Templater<'_> {
        let runs = if model.syscalls.is_empty() {
            0
        } else {
            model.sources.len()
        };
        Templater::new(&model.words, runs)
    }

    /// Whether anything can be templated (two runs or more).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// How many runs had this vocabulary entry.
    fn runs(&self, entry: &str) -> u32 {
        self.vocabulary.get(entry).copied().unwrap_or(0)
    }

    /// Whether `word` varies between runs: a candidate seen in at most one.
    fn varies(&self, word: &str) -> bool {
        candidate(word) && self.runs(word) <= 1
    }

    /// Whether path component `word` varies between runs where it stands:
    /// under a parent that is itself a parameter, wherever it appears (`src`
    /// under a per-run crate directory is still `src`); under a fixed parent,
    /// at that place (`logs/opal` is new even if `opal` is a word every run has).
    fn varies_under(&self, parent: &str, parent_varies: bool, word: &str) -> bool {
        if !candidate(word) {
            return false;
        }
        if parent_varies || self.runs(word) <= 1 {
            return self.runs(word) <= 1;
        }
        let mut pair = String::with_capacity(parent.len() + 1 + word.len());
        pair.push_str(parent);
        pair.push('/');
        pair.push_str(word);
        self.runs(&pair) <= 1
    }

    /// `key` with every word that varies between runs replaced by `<*>`.
    pub fn apply<'k>(&self, key: &'k str) -> Cow<'k, str> {
        if !self.enabled {
            return key.into();
        }
        let mut tokens = key.split(' ');
        let Some(first) = tokens.next() else {
            return key.into();
        };
        let mut out: Option<String> = None;
        let mut done = first.len();
        // Components replaced in a path: the same word on its own (a path's
        // components follow it as tokens) is replaced too.
        let mut replaced: Vec<&str> = Vec::new();
        let mut templated: Vec<String> = Vec::new();
        // Components of paths that are never templated (outside the run's
        // places, or home's): the same words on their own stay too.
        let mut kept: Vec<&str> = Vec::new();
        for token in tokens {
            let rewritten = self.token(token, &mut replaced, &mut kept);
            if let Cow::Owned(new) = rewritten {
                let out = out.get_or_insert_with(|| {
                    let mut s = String::with_capacity(key.len());
                    s.push_str(&key[..done]);
                    s
                });
                // A templated token at most twice (a path's whole token is
                // pushed twice, for its weight): how many parameters a call
                // has (a list of input files) varies between runs as their
                // names do.
                if templated.iter().filter(|t| **t == new).count() < 2 {
                    out.push(' ');
                    out.push_str(&new);
                    templated.push(new);
                }
            } else if let Some(out) = out.as_mut() {
                out.push(' ');
                out.push_str(token);
            }
            done += 1 + token.len();
        }
        match out {
            Some(out) => out.into(),
            None => key.into(),
        }
    }

    fn token<'t>(&self, token: &'t str, replaced: &mut Vec<&'t str>, kept: &mut Vec<&'t str>) -> Cow<'t, str> {
        if token.contains('/') {
            if !own_path(token) {
                // Its components follow it as tokens: they stay too.
                if kept.len() < 64 {
                    kept.extend(token.split('/').filter(|c| candidate(c)).take(64 - kept.len()));
                }
                return token.into();
            }
            let mut out = String::with_capacity(token.len());
            let mut changed = false;
            let (mut parent, mut parent_varies) = ("", false);
            for (i, component) in token.split('/').enumerate() {
                if i > 0 {
                    out.push('/');
                }
                let varies = self.varies_under(parent, parent_varies, component);
                if varies {
                    placeholder(component, &mut out);
                    changed = true;
                    if replaced.len() < 64 {
                        replaced.push(component);
                    }
                } else {
                    out.push_str(component);
                }
                (parent, parent_varies) = (component, varies);
            }
            if changed {
                out.into()
            } else {
                token.into()
            }
        } else if replaced.contains(&token) || (self.varies(token) && !kept.contains(&token)) {
            let mut out = String::new();
            placeholder(token, &mut out);
            out.into()
        } else {
            token.into()
        }
    }
}

/// `<*>`, with the word's file extension if it has a short one (`<*>.txt`).
fn placeholder(word: &str, out: &mut String) {
    out.push_str(PLACEHOLDER);
    if let Some((stem, ext)) = word.rsplit_once('.') {
        if !stem.is_empty() && (1..=5).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric()) {
            out.push('.');
            out.push_str(ext);
        }
    }
}

/// Count, for one run, each vocabulary entry of its keys once.
pub fn count_run<'k>(vocabulary: &mut Vocabulary, keys: impl Iterator<Item = &'k str>) {
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for key in keys {
        words(key, |word| {
            if !seen.contains(word) {
                seen.insert(word.to_owned());
            }
        });
    }
    for word in seen {
        let runs = vocabulary.entry(word).or_default();
        *runs = runs.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary(runs: &[&[&str]]) -> Vocabulary {
        let mut v = Vocabulary::new();
        for keys in runs {
            count_run(&mut v, keys.iter().copied());
        }
        v
    }

    #[test]
    fn a_word_of_one_run_is_a_parameter() {
        let v = vocabulary(&[
            &[
                "openat AT_FDCWD $CWD/proj_orion/src/main.rs $CWD/proj_orion/src/main.rs $CWD proj_orion src main.rs O_RDONLY",
                "execve ./target/debug/proj_orion ./target/debug/proj_orion",
            ],
            &[
                "openat AT_FDCWD $CWD/proj_vega/src/main.rs $CWD/proj_vega/src/main.rs $CWD proj_vega src main.rs O_RDONLY",
                "execve ./target/debug/proj_vega ./target/debug/proj_vega",
            ],
        ]);
        assert_eq!(v.get("proj_orion"), Some(&1));
        assert_eq!(v.get("main.rs"), Some(&2));
        assert_eq!(v.get("O_RDONLY"), None);
        let t = Templater::new(&v, 2);
        let target =
            "openat AT_FDCWD $CWD/proj_lyra/src/main.rs $CWD/proj_lyra/src/main.rs $CWD proj_lyra src main.rs O_RDONLY";
        let templated = "openat AT_FDCWD $CWD/<*>/src/main.rs $CWD/<*>/src/main.rs $CWD <*> src main.rs O_RDONLY";
        assert_eq!(t.apply(target), templated);
        assert_eq!(
            t.apply("openat AT_FDCWD $CWD/proj_orion/src/main.rs $CWD/proj_orion/src/main.rs $CWD proj_orion src main.rs O_RDONLY"),
            templated
        );
        assert_eq!(
            t.apply("execve ./target/debug/proj_vega ./target/debug/proj_vega"),
            "execve ./target/debug/<*> ./target/debug/<*>"
        );
        // `src` right under the work directory is a place no run had.
        assert_eq!(t.apply("read $CWD/src/pavo_133.txt"), "read $CWD/<*>/<*>.txt");
        // However many parameters a call has, a templated token counts as
        // often as one path's (twice).
        assert_eq!(
            t.apply("execve /usr/bin/grep /usr/bin/grep -h $CWD/src/a_one.txt $CWD/src/b_two.txt $CWD/src/c_three.txt"),
            "execve /usr/bin/grep /usr/bin/grep -h $CWD/<*>/<*>.txt $CWD/<*>/<*>.txt"
        );
    }

    #[test]
    fn behaviour_and_sensitive_names_are_never_parameters() {
        let v = vocabulary(&[&["openat /etc/hostname"], &["openat /etc/hostname"]]);
        let t = Templater::new(&v, 2);
        for key in [
            "openat AT_FDCWD /etc/shadow /etc/shadow etc shadow O_RDONLY",
            "openat AT_FDCWD ~/.ssh/authorized_keys ~/.ssh/authorized_keys ~ .ssh authorized_keys O_WRONLY",
            "openat AT_FDCWD ~/.config/cron/update ~/.config/cron/update ~ .config cron O_WRONLY O_CREAT",
            "execve /usr/bin/sh /usr/bin/sh -c id",
            "connect AF_INET port=4444 port=4444 127.0.0.1 ECONNREFUSED",
            "openat AT_FDCWD /usr/lib/evil.so /usr/lib/evil.so",
        ] {
            assert_eq!(t.apply(key), key);
        }
    }

    #[test]
    fn a_familiar_word_in_a_new_place_is_a_parameter_there() {
        // Every run has the words `opal` and `walnut` (in its data, say), but
        // only one run has a directory `logs/opal`.
        let v = vocabulary(&[
            &[
                "write opal walnut",
                "openat logs/cedar/cedar.log logs/cedar/cedar.log logs cedar cedar.log",
            ],
            &[
                "write opal walnut",
                "openat logs/birch/birch.log logs/birch/birch.log logs birch birch.log",
            ],
        ]);
        let t = Templater::new(&v, 2);
        assert_eq!(
            t.apply("openat logs/opal/opal.log logs/opal/opal.log logs opal opal.log"),
            "openat logs/<*>/<*>.log logs/<*>/<*>.log logs <*> <*>.log"
        );
        assert_eq!(t.apply("write opal walnut"), "write opal walnut");
        // A fixed name under a per-run directory stays.
        let v = vocabulary(&[&["openat $CWD/proj_a/src/main.rs"], &["openat $CWD/proj_b/src/main.rs"]]);
        let t = Templater::new(&v, 2);
        assert_eq!(t.apply("openat $CWD/proj_c/src/main.rs"), "openat $CWD/<*>/src/main.rs");
    }

    #[test]
    fn one_run_teaches_nothing() {
        let v = vocabulary(&[&["openat $CWD/proj_orion/x"]]);
        let t = Templater::new(&v, 1);
        assert!(!t.enabled());
        assert_eq!(t.apply("openat $CWD/proj_vega/x"), "openat $CWD/proj_vega/x");
    }

    #[test]
    fn words_are_counted_once_per_run() {
        let v = vocabulary(&[&["write alpha_one alpha_one", "read alpha_one"], &["write beta_two"]]);
        assert_eq!(v.get("alpha_one"), Some(&1));
        assert_eq!(v.get("beta_two"), Some(&1));
        assert_eq!(v.get("write"), None, "the call's name is not a candidate");
    }
}
