//! What the binary tells people on standard error once a command is done:
//! the closing summaries. The library returns values; this module words them.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use honk::commands::{Learned, Profiled, Watched};
use honk::pipeline::InputStats;
use honk::read::{self, shown};
use honk::report::human::escape;
use honk::report::{thousands, Summary};
use honk::seccomp::Arch;

/// `honk learn`'s closing line.
pub fn learned(learned: &Learned, model: &Path, started: Instant) {
    eprintln!(
        "honk: learned {} records ({} unique) from {}; {} now holds {} unique records from {} inputs; {:.2} s",
        thousands(learned.records),
        thousands(learned.unique as u64),
        describe_inputs(&learned.stats),
        shown(model),
        thousands(learned.model_unique as u64),
        thousands(learned.model_sources as u64),
        started.elapsed().as_secs_f64()
    );
    warn_truncated(&learned.stats);
}

/// `honk seccomp`'s closing lines.
pub fn profiled(profiled: &Profiled, arch: Arch) {
    use honk::choice::Choice;
    let dropped = &profiled.dropped;
    if !dropped.is_empty() {
        let dropped: Vec<String> = dropped.iter().map(|d| escape(d).into_owned()).collect();
        eprintln!(
            "honk: left out {} {} that {} not a system call of {}: {}",
            dropped.len(),
            if dropped.len() == 1 { "name" } else { "names" },
            if dropped.len() == 1 { "is" } else { "are" },
            arch.name(),
            dropped.join(", ")
        );
    }
    eprintln!(
        "honk: {} system calls allowed, every other one: {}",
        profiled.allowed,
        profiled.action.scmp_name()
    );
}

/// The closing summary of a scoring command.
pub fn summary(summary: &Summary, stats: &[InputStats], started: Instant) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "honk: {} {} in {} {} above {} in {} records ({} unique) from {}; baseline {} records ({} unique); k {}; {:.2} s",
        thousands(summary.incidents),
        if summary.incidents == 1 { "incident" } else { "incidents" },
        thousands(summary.anomalies),
        if summary.anomalies == 1 { "anomaly" } else { "anomalies" },
        summary.threshold,
        thousands(summary.records),
        thousands(summary.unique),
        describe_inputs(stats),
        thousands(summary.baseline_records),
        thousands(summary.baseline_unique),
        summary.k,
        started.elapsed().as_secs_f64()
    );
    violations(&mut err, summary);
    // The whole-input view: which traces, and which threads in them, stand out most.
    let several = summary.per_input.len() > 1;
    for input in summary.per_input.iter().filter(|i| i.anomalies > 0) {
        let threads: Vec<String> = input
            .threads
            .iter()
            .map(|t| format!("{} ({} of {})", t.thread, t.anomalies, t.records))
            .collect();
        if !several && threads.is_empty() {
            continue;
        }
        let _ = write!(
            err,
            "honk:   {}: {} of {} records unusual, highest score {:.2}",
            escape(&input.source),
            thousands(input.anomalies),
            thousands(input.records),
            input.max_score
        );
        if !threads.is_empty() {
            let _ = write!(err, "; most in threads {}", threads.join(", "));
        }
        let _ = writeln!(err);
    }
}

/// `honk watch`'s closing summary; `signal` is the one that stopped it, if one did.
pub fn watched(watched: &Watched, signal: Option<&str>, started: Instant) {
    let summary = &watched.summary;
    let mut err = std::io::stderr().lock();
    let how = match signal {
        Some(signal) if watched.stopped => format!(", stopped by {signal}"),
        _ if watched.stopped => ", stopped".to_owned(),
        _ => String::new(),
    };
    let _ = writeln!(
        err,
        "honk: {} {} above {} in {} records ({} unique) from {}; baseline {} records ({} unique); k {}; watched {:.2} s{how}",
        thousands(summary.anomalies),
        if summary.anomalies == 1 { "anomaly" } else { "anomalies" },
        summary.threshold,
        thousands(summary.records),
        thousands(summary.unique),
        describe_sources(&watched.stats),
        thousands(summary.baseline_records),
        thousands(summary.baseline_unique),
        summary.k,
        started.elapsed().as_secs_f64()
    );
    if let Some(captured) = &watched.captured {
        let _ = writeln!(
            err,
            "honk: eBPF: {} records from the kernel, {} lost{}{}",
            thousands(captured.records),
            thousands(captured.lost),
            if captured.lost > 0 {
                " (the ring buffer was full: calls were missed)"
            } else {
                ""
            },
            match captured.exit {
                Some(code) => format!("; the command exited with {code}"),
                None => String::new(),
            }
        );
    }
    violations(&mut err, summary);
    if let Some(learned) = &watched.learned {
        let _ = if learned.saves == 0 {
            writeln!(err, "honk: nothing was learned; the model is unchanged")
        } else {
            writeln!(
                err,
                "honk: learned {} records; the model holds {} unique keys (saved {} {})",
                thousands(learned.records),
                thousands(learned.model_unique as u64),
                learned.saves,
                if learned.saves == 1 { "time" } else { "times" }
            )
        };
    }
}

/// The calls to system calls the baseline never made, in a line, if there were any.
fn violations(err: &mut impl Write, summary: &Summary) {
    if summary.violations == 0 {
        return;
    }
    let names: std::collections::BTreeSet<&str> = summary
        .per_input
        .iter()
        .flat_map(|i| i.violations.iter().map(|v| v.syscall.as_str()))
        .collect();
    let names: Vec<String> = names.into_iter().map(|n| escape(n).into_owned()).collect();
    let _ = writeln!(
        err,
        "honk: {} {} to system calls the baseline never made: {}",
        thousands(summary.violations),
        if summary.violations == 1 { "call" } else { "calls" },
        names.join(", ")
    );
}

/// As [`describe_inputs`], a file read again after truncation or rotation counted once.
fn describe_sources(stats: &[InputStats]) -> String {
    let mut once: Vec<InputStats> = Vec::new();
    for stat in stats {
        if !once.iter().any(|s| s.name == stat.name && s.format == stat.format) {
            once.push(stat.clone());
        }
    }
    describe_inputs(&once)
}

/// "3 inputs (strace)" or "<stdin> (text)".
fn describe_inputs(stats: &[InputStats]) -> String {
    let mut formats: Vec<&str> = stats.iter().map(|s| s.format.name()).collect();
    formats.sort_unstable();
    formats.dedup();
    let what = match stats {
        [one] => escape(&one.name).into_owned(),
        _ => format!("{} inputs", stats.len()),
    };
    format!("{what} ({})", formats.join(", "))
}

/// Says how many lines were cut to the longest line honk keeps.
pub fn warn_truncated(stats: &[InputStats]) {
    let cut: u64 = stats.iter().map(|s| s.truncated).sum();
    if cut > 0 {
        eprintln!(
            "honk: warning: {} lines longer than {} bytes ({} for lines of numbers) were cut to that length",
            thousands(cut),
            read::MAX_LINE_BYTES,
            read::MAX_LINE_BYTES * read::NUMBERS_LINE_FACTOR
        );
    }
}

/// The closing line of `honk consume`.
pub fn consumed(consumed: &honk::consume::Consumed, signal: Option<&str>, started: Instant) {
    let how = match signal {
        Some(signal) if consumed.stopped => format!(", stopped by {signal}"),
        _ => String::new(),
    };
    let _ = writeln!(
        std::io::stderr().lock(),
        "honk: {} {} scored and acknowledged ({} records), {} {}, {} {} of the model; {:.2} s{how}",
        thousands(consumed.messages),
        if consumed.messages == 1 { "message" } else { "messages" },
        thousands(consumed.records),
        thousands(consumed.alerts),
        if consumed.alerts == 1 { "alert" } else { "alerts" },
        consumed.reloads,
        if consumed.reloads == 1 { "reload" } else { "reloads" },
        started.elapsed().as_secs_f64()
    );
}
