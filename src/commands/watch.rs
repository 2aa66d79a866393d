//! `honk watch`: score logs as they grow, handing each anomaly to the sink
//! the moment it is found, until the sources end or the caller says stop.
//!
//! The sources are followed by [`crate::read::follow`] (files as `tail -F`
//! follows them, standard input to its end) and scored by
//! [`crate::pipeline::Stream`]. This module wires the two together: it opens
//! a stream source whenever a followed source (re)starts, scores what has
//! arrived whenever nothing more is waiting, lets go of records a parser
//! holds back once their source has been quiet a while, and says what
//! happened to the files (truncated, replaced, missing) through the [`Ui`].
//! It does not group anomalies into incidents: an incident needs the whole
//! run, and a watched log has no end.
//!
//! With [`Watch::learn`], what is watched is also learned into the model:
//! the watch holds the model's lock (the one `honk learn` takes) from start
//! to end, and saves the model as loaded plus everything watched so far,
//! atomically, every [`Watch::save_every`] and once more at the end. Each
//! save is computed from the model as it was loaded, so a run is never
//! counted twice however often it is saved. Records are still scored
//! against the model as it was loaded: what the watch learns takes effect
//! in the next run that loads the model.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Error, Report, Ui};
use crate::model::Model;
use crate::parse::Format;
use crate::pipeline::{Baseline, InputStats, ScoreOptions, SourceId, Stream};
use crate::read::follow::{self, Event, FollowOptions, Followed, Source, Start};
use crate::read::{self, shown, ReadError};
use crate::report::{Selection, Sink, Summary};

/// How often the loop looks at the stop flag when nothing arrives.
const TICK: Duration = Duration::from_millis(50);

/// Messages handled before what they brought is scored, under a flood.
const BATCH_MESSAGES: usize = 64;

/// How often a learning watch saves the model, by default.
pub const DEFAULT_SAVE_EVERY: Duration = Duration::from_secs(60);

/// Watch logs against a model file.
#[derive(Clone, Debug)]
pub struct Watch {
    /// The model, from `honk learn`.
    pub model: PathBuf,
    /// Files to follow, or `-` for standard input; none: standard input.
    pub sources: Vec<PathBuf>,
    /// The input format, or `None` to detect it per source from its first lines.
    pub format: Option<Format>,
    /// What is reported (`top` and `html` are refused: a watch has no end to rank or render at).
    pub report: Report,
    /// Read what the files hold already, not only what is appended (standard input is always read whole).
    pub from_start: bool,
    /// How often files are checked for new lines.
    pub poll: Duration,
    /// Records a parser holds back (an unfinished system call waiting for
    /// its tail) are scored as they are once their source has been quiet this long.
    pub release_after: Duration,
    /// Also learn what is watched into the model (see the module documentation).
    pub learn: bool,
    /// With `learn`: how often the grown model is saved, besides at the end.
    pub save_every: Duration,
    /// Watch live system calls captured with eBPF ([`crate::capture`])
    /// instead of following `sources`.
    pub ebpf: Option<crate::capture::Target>,
    /// With `ebpf`: the ring buffer's size in bytes.
    pub ring_bytes: u32,
}

impl Default for Watch {
    fn default() -> Watch {
        Watch {
            model: PathBuf::new(),
            sources: Vec::new(),
            format: None,
            report: Report::default(),
            from_start: false,
            poll: FollowOptions::default().poll,
            release_after: Duration::from_secs(1),
            learn: false,
            save_every: DEFAULT_SAVE_EVERY,
            ebpf: None,
            ring_bytes: crate::capture::RING_BYTES,
        }
    }
}

/// What a watch saw.
#[derive(Clone, Debug)]
pub struct Watched {
    /// The run's summary: counts, threshold, per-source profiles.
    pub summary: Summary,
    /// What was read from each source (a file truncated or replaced counts
    /// once per start).
    pub stats: Vec<InputStats>,
    /// Whether the caller stopped it (the sources had not all ended).
    pub stopped: bool,
    /// What a learning watch added to the model; `None` if it did not learn.
    pub learned: Option<LiveLearned>,
    /// With eBPF: what the capture saw.
    pub captured: Option<Captured>,
}

/// What a learning watch ([`Watch::learn`]) added to its model.
#[derive(Clone, Debug, Default)]
pub struct LiveLearned {
    /// Records learned from the watched sources.
    pub records: u64,
    /// Distinct keys the model holds now.
    pub model_unique: usize,
    /// Times the model was saved (0 if nothing was learned: the file is untouched).
    pub saves: u32,
}

/// A learning watch's saves: the model as loaded plus what the stream
/// learned so far, written whole each time.
struct Saver<'a> {
    path: &'a std::path::Path,
    every: Duration,
    last: Instant,
    /// Records learned at the last save.
    saved_records: u64,
    learned: LiveLearned,
}

impl Saver<'_> {
    /// Saves `base` ⊕ `session` if the session learned records since the last save.
    fn save(&mut self, base: &Model, session: Model, records: u64) -> Result<(), Error> {
        self.last = Instant::now();
        if records == self.saved_records {
            return Ok(());
        }
        let mut grown = base.clone();
        grown.merge(session)?;
        grown.save(self.path)?;
        self.saved_records = records;
        self.learned = LiveLearned {
            records,
            model_unique: grown.entries.len(),
            saves: self.learned.saves + 1,
        };
        Ok(())
    }

    /// The last save, when the watch ends: what the whole session learned
    /// (`None` when the watch did not learn).
    fn last(saver: Option<&mut Self>, base: &Model, session: Option<Model>) -> Result<Option<LiveLearned>, Error> {
        match (saver, session) {
            (Some(saver), Some(session)) => {
                let records = session.sources.iter().map(|s| s.records).sum();
                saver.save(base, session, records)?;
                Ok(Some(saver.learned.clone()))
            }
            _ => Ok(None),
        }
    }

    /// Saves at the interval; a failure is told and tried again at the next one.
    fn tick(&mut self, stream: &Stream<'_>, base: &Model, ui: &dyn Ui) {
        if self.last.elapsed() < self.every {
            return;
        }
        let records = stream.learned_records();
        if records == self.saved_records {
            self.last = Instant::now();
            return;
        }
        let saved = stream.learned().map_err(Error::from).and_then(|session| match session {
            Some(session) => self.save(base, session, records),
            None => Ok(()),
        });
        if let Err(e) = saved {
            ui.note(&format!(
                "cannot save what was learned into {} ({}); trying again in {} s",
                shown(self.path),
                chain(&e),
                self.every.as_secs()
            ));
        }
    }
}

/// What an eBPF capture saw, for the closing summary.
#[derive(Clone, Copy, Debug)]
pub struct Captured {
    /// Records received from the kernel.
    pub records: u64,
    /// Records lost because the ring buffer was full (or unreadable).
    pub lost: u64,
    /// The command's exit status as a shell gives it, when honk started one and it ended.
    pub exit: Option<u8>,
}

impl Watched {
    /// Whether anything was unusual: an anomaly, or a call the baseline never made.
    pub fn found_something(&self) -> bool {
        self.summary.anomalies > 0 || self.summary.violations > 0
    }
}

/// Per followed source: its stream source, and what is left to do for it.
struct Tracked {
    name: String,
    id: Option<SourceId>,
    /// Lines given since the last flush.
    dirty: bool,
    /// Flushed since the last release: a parser may hold records back.
    holding: bool,
    /// When lines last came.
    last: Instant,
    ended: bool,
    /// Whether the source's reader has said anything yet (it is open, or waited for).
    heard: bool,
}

/// Follows `settings.sources` and scores them against the model as they
/// grow, handing anomalies to `sink` at once, until every source has ended
/// (only standard input ends) or `stop` is set. Then every source is scored
/// to its end and `sink` is finished with the summary.
pub fn watch(settings: &Watch, sink: &mut dyn Sink, ui: &dyn Ui, stop: &AtomicBool) -> Result<Watched, Error> {
    if settings.report.top.is_some() {
        return Err(Error::Refused(
            "watch reports anomalies as they come; --top needs the whole run (use honk score)".into(),
        ));
    }
    if settings.report.html.is_some() {
        return Err(Error::Refused(
            "watch reports anomalies as they come; --html needs the whole run (use honk score)".into(),
        ));
    }
    let paths = if settings.sources.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        settings.sources.clone()
    };
    if paths.iter().filter(|p| read::is_stdin(p)).count() > 1 {
        return Err(Error::Refused("standard input (-) can be watched once".into()));
    }
    for path in paths.iter().filter(|p| !read::is_stdin(p)) {
        if path.is_dir() {
            return Err(Error::Refused(format!(
                "{} is a directory; watch follows files (give the log files in it)",
                shown(path)
            )));
        }
        if crate::write::same_file(path, &settings.model) {
            return Err(Error::Refused(format!("{} is the model, not a log", shown(path))));
        }
    }
    // A learning watch holds the model's lock until it ends, and loads the model under it.
    let lock = if settings.learn {
        if settings.save_every.is_zero() {
            return Err(Error::Refused("the interval between saves must be more than 0".into()));
        }
        Some(super::lock_model(&settings.model, ui)?)
    } else {
        None
    };
    let model = Model::load(&settings.model)?;
    let baseline = Baseline::new(model);
    let mut saver = lock.as_ref().map(|_| Saver {
        path: &settings.model,
        every: settings.save_every,
        last: Instant::now(),
        saved_records: 0,
        learned: LiveLearned::default(),
    });
    if let Some(target) = &settings.ebpf {
        let watched = watch_ebpf(settings, target, &baseline, saver.as_mut(), sink, ui, stop);
        drop(lock);
        return watched;
    }
    let options = score_options(settings, settings.format);
    let sources: Vec<Source> = paths.iter().map(|p| Source::from_path(p)).collect();
    let readers_stop = Arc::new(AtomicBool::new(false));
    let follow_options = FollowOptions {
        from_start: settings.from_start,
        poll: settings.poll,
    };
    let events = follow::follow(&sources, &follow_options, Arc::clone(&readers_stop))
        .map_err(|e| Error::Refused(format!("cannot start a thread to read the sources: {e}")))?;
    let mut state: Vec<Tracked> = sources
        .iter()
        .map(|s| Tracked {
            name: s.name(),
            id: None,
            dirty: false,
            holding: false,
            last: Instant::now(),
            ended: false,
            heard: false,
        })
        .collect();
    let mut stream = Stream::new(&baseline, &options);
    if settings.learn {
        stream = stream.learning();
    }
    let result = run(&mut stream, &events, &mut state, settings, sink, ui, stop, |stream| {
        if let Some(saver) = saver.as_mut() {
            saver.tick(stream, baseline.model(), ui);
        }
    });
    // The readers stop within a poll; a reader blocked on standard input ends with the process.
    readers_stop.store(true, Ordering::Relaxed);
    drop(events);
    let stopped = result?;
    let (summary, stats, session) = stream.finish_learning(sink)?;
    let learned = Saver::last(saver.as_mut(), baseline.model(), session)?;
    drop(lock);
    Ok(Watched {
        summary,
        stats,
        stopped,
        learned,
        captured: None,
    })
}

/// `honk watch --ebpf`: the captured calls, as strace lines, scored (and,
/// with a `saver`, learned) as they come.
fn watch_ebpf(
    settings: &Watch,
    target: &crate::capture::Target,
    baseline: &Baseline,
    mut saver: Option<&mut Saver<'_>>,
    sink: &mut dyn Sink,
    ui: &dyn Ui,
    stop: &AtomicBool,
) -> Result<Watched, Error> {
    use crate::capture::{Capture, Options, Target};
    let options = score_options(settings, Some(Format::Strace));
    let capture_options = Options {
        target: target.clone(),
        ring_bytes: settings.ring_bytes,
        stdout_to_stderr: true,
    };
    let name = match target {
        Target::Command(command) => {
            let words: Vec<_> = command.iter().map(|a| a.to_string_lossy()).collect();
            words.join(" ")
        }
        Target::Pid(pid) => format!("pid {pid}"),
        Target::Cgroup(dir) => format!("cgroup {}", shown(dir)),
        Target::Comm(name) => format!("comm {name}"),
    };
    let shown_name = crate::report::human::escape(&name).into_owned();
    // The run's places are honk's: the command starts here.
    crate::normalize::Roots::seed(crate::normalize::Roots::of_this_process());
    let mut capture = Capture::start(&capture_options).map_err(|e| Error::Refused(e.to_string()))?;
    let mut stream = Stream::new(baseline, &options);
    if saver.is_some() {
        stream = stream.learning();
    }
    let id = stream.open(&name);
    ui.note(&format!(
        "watching {shown_name} with eBPF{}",
        if matches!(target, Target::Command(_)) {
            ""
        } else {
            "; stop with Ctrl-C"
        }
    ));
    let mut lines = Vec::new();
    let mut holding = false;
    let mut last = Instant::now();
    let mut reported_lost = 0;
    let mut stopped = false;
    loop {
        capture.read(crate::capture::READ_EVERY, &mut lines);
        if !lines.is_empty() {
            for line in lines.drain(..) {
                stream.line(id, &line.text, false, sink)?;
            }
            stream.flush(id, sink)?;
            holding = true;
            last = Instant::now();
        } else if holding && last.elapsed() >= settings.release_after {
            stream.release(id, sink)?;
            holding = false;
        }
        if let Some(saver) = saver.as_deref_mut() {
            saver.tick(&stream, baseline.model(), ui);
        }
        let lost = capture.lost();
        if lost > reported_lost {
            ui.warn(&format!(
                "{} system-call records lost so far (the ring buffer was full): calls were missed",
                lost
            ));
            reported_lost = lost;
        }
        if stop.load(Ordering::Relaxed) {
            stopped = true;
            capture.stop_command();
        }
        if stopped || capture.ended() {
            capture.read(Duration::ZERO, &mut lines);
            for line in lines.drain(..) {
                stream.line(id, &line.text, false, sink)?;
            }
            break;
        }
    }
    stream.end(id, sink)?;
    stream.set_lost_events(capture.lost());
    let (summary, stats, session) = stream.finish_learning(sink)?;
    let learned = Saver::last(saver, baseline.model(), session)?;
    Ok(Watched {
        summary,
        stats,
        stopped,
        learned,
        captured: Some(Captured {
            records: capture.records(),
            lost: capture.lost(),
            exit: capture.status().map(crate::trace::exit_code),
        }),
    })
}

/// The loop: returns whether it was stopped (rather than every source ending).
/// `tick` runs after each round of scoring.
#[allow(clippy::too_many_arguments)]
fn run(
    stream: &mut Stream<'_>,
    events: &std::sync::mpsc::Receiver<Followed>,
    state: &mut [Tracked],
    settings: &Watch,
    sink: &mut dyn Sink,
    ui: &dyn Ui,
    stop: &AtomicBool,
    mut tick: impl FnMut(&Stream<'_>),
) -> Result<bool, Error> {
    let mut announced = false;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(true);
        }
        if !announced && state.iter().all(|s| s.heard) {
            // Every source is open (or waited for): lines written from now on are read.
            announced = true;
            let names: Vec<String> = state
                .iter()
                .map(|s| crate::report::human::escape(&s.name).into_owned())
                .collect();
            ui.note(&format!("watching {}; stop with Ctrl-C", names.join(", ")));
        }
        let mut next = match events.recv_timeout(TICK) {
            Ok(message) => Some(message),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return Ok(false),
        };
        let mut handled = 0;
        while let Some(Followed { source, event }) = next {
            if let Some(at) = state.get_mut(source) {
                at.heard = true;
                handle(stream, at, event, sink, ui)?;
            }
            handled += 1;
            if handled >= BATCH_MESSAGES || stop.load(Ordering::Relaxed) {
                break;
            }
            next = events.try_recv().ok();
        }
        // Nothing more at hand: score what came.
        for at in state.iter_mut() {
            let Some(id) = at.id else { continue };
            if at.dirty {
                stream.flush(id, sink)?;
                at.dirty = false;
                at.holding = true;
            } else if at.holding && at.last.elapsed() >= settings.release_after {
                stream.release(id, sink)?;
                at.holding = false;
            }
        }
        tick(stream);
        if state.iter().all(|s| s.ended) {
            return Ok(false);
        }
    }
}

fn handle(
    stream: &mut Stream<'_>,
    at: &mut Tracked,
    event: Event,
    sink: &mut dyn Sink,
    ui: &dyn Ui,
) -> Result<(), Error> {
    let name = crate::report::human::escape(&at.name).into_owned();
    match event {
        Event::Started { why, skipped } => {
            if let Some(id) = at.id.take() {
                stream.end(id, sink)?;
            }
            match why {
                Start::First => {}
                Start::Appeared => ui.note(&format!("{name} appeared; reading it from its start")),
                Start::Truncated => ui.note(&format!("{name} was truncated; reading it again from its start")),
                Start::Replaced => ui.note(&format!(
                    "{name} was replaced (rotated?); the old file was read to its end, reading the new one from its start"
                )),
            }
            at.id = Some(stream.open_at(&at.name, skipped));
            at.dirty = false;
            at.holding = false;
        }
        Event::Lines(lines) => {
            if let Some(id) = at.id {
                for line in &lines {
                    stream.line(id, &line.text, line.cut, sink)?;
                }
                at.dirty = true;
                at.last = Instant::now();
            }
        }
        Event::Missing => ui.note(&format!("{name} does not exist (now); waiting for it to appear")),
        Event::Ended => {
            if let Some(id) = at.id.take() {
                stream.end(id, sink)?;
            }
            at.ended = true;
        }
        Event::Failed(source) => {
            return Err(Error::Read(ReadError::Open {
                path: at.name.clone(),
                source,
            }))
        }
    }
    Ok(())
}

/// How a watch scores: its report settings, and the input format.
fn score_options(settings: &Watch, format: Option<Format>) -> ScoreOptions {
    ScoreOptions {
        k: settings.report.k,
        format,
        selection: Selection {
            threshold: settings.report.threshold,
            before: settings.report.before,
            after: settings.report.after,
            overlap: false,
        },
        sketch: false,
    }
}

/// An error and its causes, as one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}
