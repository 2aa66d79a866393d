//! The command line: every flag is defined once, here; `--help`, the man page
//! and shell completions are all generated from these definitions.
//!
//! Parsing ends in validated values (clap checks ranges and choices), so the
//! commands never see a malformed option; each `*Args` turns into the
//! library's settings for its command. The values of named choices (formats,
//! tokenizers, seccomp actions) come from the library's [`Choice`] lists.

use std::ffi::OsStr;
use std::marker::PhantomData;
use std::path::PathBuf;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use honk::choice::Choice;
use honk::commands::{self, ModelChoices, Report, DEFAULT_THRESHOLD};
use honk::eval::items::{Unseen, Weight};
use honk::eval::{Items, Method};
use honk::parse::Format;
use honk::seccomp::{Action, Arch, ProfileFormat};
use honk::vectorize::Tokenizer;

/// The value parser of a flag whose values are a library [`Choice`]: its
/// names are the possible values, with their help, in `--help`, man pages and
/// completions.
#[derive(Clone, Copy)]
pub struct Choose<T>(PhantomData<fn() -> T>);

/// The value parser for a choice of `T`.
pub fn choose<T: Choice + Send + Sync>() -> Choose<T> {
    Choose(PhantomData)
}

/// Like [`Choose`], with one more value, `auto`, which means `None`.
#[derive(Clone, Copy)]
pub struct ChooseOrAuto<T> {
    /// What `auto` does, for `--help`.
    auto: &'static str,
    of: PhantomData<fn() -> T>,
}

/// The value parser for a choice of `T` or `auto`; `what` says what auto does.
pub fn choose_or_auto<T: Choice + Send + Sync>(what: &'static str) -> ChooseOrAuto<T> {
    ChooseOrAuto {
        auto: what,
        of: PhantomData,
    }
}

/// A value of [`ChooseOrAuto`]: `None` for `auto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Auto<T>(pub Option<T>);

/// The choices of `T`, with their help.
fn possible<T: Choice>() -> impl Iterator<Item = PossibleValue> {
    T::ALL.iter().map(|c| PossibleValue::new(c.name()).help(c.help()))
}

/// clap's error for a value that is none of `valid`.
fn invalid(cmd: &clap::Command, arg: Option<&clap::Arg>, value: &str, valid: Vec<String>) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let mut err = clap::Error::new(ErrorKind::InvalidValue).with_cmd(cmd);
    if let Some(arg) = arg {
        err.insert(ContextKind::InvalidArg, ContextValue::String(arg.to_string()));
    }
    err.insert(ContextKind::InvalidValue, ContextValue::String(value.to_owned()));
    err.insert(ContextKind::ValidValue, ContextValue::Strings(valid));
    err
}

impl<T: Choice + Send + Sync> TypedValueParser for Choose<T> {
    type Value = T;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        T::from_name(&text).ok_or_else(|| {
            let valid = T::ALL.iter().map(|c| c.name().to_owned()).collect();
            invalid(cmd, arg, &text, valid)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(possible::<T>()))
    }
}

impl<T: Choice + Send + Sync> TypedValueParser for ChooseOrAuto<T> {
    type Value = Auto<T>;

    fn parse_ref(&self, cmd: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<Auto<T>, clap::Error> {
        let text = value.to_string_lossy();
        if text == "auto" {
            return Ok(Auto(None));
        }
        match T::from_name(&text) {
            Some(choice) => Ok(Auto(Some(choice))),
            None => {
                let names = std::iter::once("auto").chain(T::ALL.iter().map(|c| c.name()));
                Err(invalid(cmd, arg, &text, names.map(str::to_owned).collect()))
            }
        }
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        let auto = PossibleValue::new("auto").help(self.auto);
        Some(Box::new(std::iter::once(auto).chain(possible::<T>())))
    }
}

const AFTER_HELP: &str = "\
Exit status: 0 if no record scored above the threshold, 1 if some did, 2 on trouble \
(bad arguments, unreadable input, a bad model).

Examples:
  honk diff good-run.strace suspicious-run.strace
  honk learn -o base.honk runs/good/         # learn (or grow) a baseline
  honk score -m base.honk --json new.strace | jq .score
  honk trace --score base.honk -- ./tool --its-args
  honk watch -m base.honk /var/log/app.log   # each anomaly as the log grows; Ctrl-C stops
  honk inspect capture.scap.txt              # what was parsed, when results look odd";

/// honk: find what is unusual in logs.
///
/// honk learns a baseline of normal behaviour from known-good logs (a clean run
/// of a program traced with strace, a sane workload's application logs) and
/// scores a target log against it. Each line is normalized (the words that vary
/// at random, like pids, addresses, timestamps and sizes, are dropped), hashed
/// into a sparse vector, and compared with its nearest neighbours in the
/// baseline. A line far from everything in the baseline is reported with its
/// score, a distance between 0 (seen before) and 1 (nothing in common), and the
/// nearest baseline line, so you can see why.
#[derive(Debug, Parser)]
#[command(name = "honk", version, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Print no progress bars and no summary on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Learn a baseline model from known-good logs, or add them to an existing model.
    ///
    /// When MODEL exists, the new inputs are added to it (the baseline grows as
    /// new known-good runs arrive); otherwise it is created. The model is
    /// written atomically: a crash never leaves a half-written file. Two learns
    /// into one model take turns (a lock file, MODEL.lock, beside it), so
    /// neither loses the other's inputs. A model file is not a log: given as
    /// an input it is refused, and MODEL inside an input directory is skipped.
    Learn(LearnArgs),

    /// Score target logs against a model and report the unusual records.
    ///
    /// Reads standard input when no target is given.
    Score(ScoreArgs),

    /// Score logs as they grow: follow files like `tail -F` (or read standard input) and print each anomaly at once.
    ///
    /// Each line is scored as it arrives, as `honk score` would score it, and
    /// each anomaly is printed (and flushed) at once, human or --json; context
    /// (-A/-B/-C) works as in `score` (with -A, an anomaly waits for the lines
    /// after it, or for its source to be quiet for a second), but anomalies are
    /// not grouped into incidents, which need the whole run. A file is followed by its path:
    /// by default from its end, as `tail -F` does (--from-start scores what it
    /// holds already first); a truncated file is read again from its start; a
    /// file rotated by rename is read to its end and the new file at the path
    /// from its start; a path that names nothing yet is waited for. Standard
    /// input (`-`, or no SOURCE) is read to its end, and the watch ends with it.
    ///
    /// The format is forced with --format, or detected from a source's first
    /// 64 lines, or from the lines it has when it first pauses (a log that
    /// starts slowly: give --format). An unfinished system call is held back
    /// for its tail until its source has been quiet for a second.
    ///
    /// SIGINT (Ctrl-C) or SIGTERM stops it: what is held back is scored, and
    /// the summary goes to standard error. Exit status: 1 if anything scored
    /// above the threshold, 0 if not, 2 on trouble.
    Watch(WatchArgs),

    /// Score what a message broker holds, as one of a group of workers.
    ///
    /// Takes batches of messages from a NATS JetStream stream through a
    /// durable pull consumer that every worker naming it shares (created if
    /// missing), scores each message's lines (or the `message`/`log` field of
    /// a JSON body) with the message's subject as their source, publishes an
    /// alert per anomaly (the `--json` row plus `origin`: stream, subject,
    /// sequence), waits for the server to keep the alerts, and only then
    /// acknowledges the messages: a worker that dies loses nothing, its
    /// unacknowledged messages go to another worker after the ack wait.
    ///
    /// A model replaced on disk is used from the next batch on. SIGINT or
    /// SIGTERM: the batch in hand is finished and acknowledged, then honk
    /// exits 0. Exit status 2 on trouble (a bad model, no broker).
    Consume(ConsumeArgs),

    /// Learn from baseline logs and score a target in one go; the last path is the target.
    ///
    /// `honk diff BASELINE... TARGET`: the same as `honk learn` of the BASELINE
    /// logs into a temporary model followed by `honk score` of the TARGET,
    /// without writing anything.
    Diff(DiffArgs),

    /// Show what honk does on a normal and a suspicious workload.
    ///
    /// Traces both with strace when it is installed (in a scratch directory;
    /// the suspicious run reads /etc/shadow, spawns a shell, connects to
    /// 127.0.0.1 and appends to a scratch authorized_keys), otherwise uses
    /// traces of the same workloads built into honk. Then runs `honk diff` on them.
    Demo(DemoArgs),

    /// Run a command under strace (in a sandbox, or in gVisor) and write its trace; optionally learn or score it.
    ///
    /// The trace uses the strace options honk reads best (-f -q -yy -ttt -s 256).
    /// strace gives no isolation: the command runs as you, with your files and
    /// network. With --sandbox (bubblewrap) it runs in new namespaces with the
    /// host's files read-only, a scratch /tmp and no network; it can still read
    /// your files. With --gvisor it runs in a gVisor sandbox (runsc do, as root):
    /// no network, writes to an overlay that is thrown away, but the host's files
    /// are readable. --seccomp PROFILE enforces a profile from `honk seccomp`.
    ///
    /// The command cannot change its trace: strace writes it to a file with no
    /// name, copied to -o once the run has ended (without a sandbox a command can
    /// still reach it through /proc). Sandboxes limit processes, memory and time
    /// (--max-procs, --max-memory, --timeout).
    ///
    /// Exit status: the command's, as strace gives it (124 if killed at
    /// --timeout), or 2 if honk failed; with --learn or --score, theirs. --learn
    /// refuses a run that failed, unless --learn-failed.
    Trace(TraceArgs),

    /// Measure detection quality on labelled data: ROC AUC, detection rates, F1.
    ///
    /// Learns the BASELINE inputs, gives every NORMAL and ATTACK item one score and
    /// reports how well those scores separate the two labels. An item is a file
    /// (one trace), or with --items lines one line (one session of events, as in
    /// HDFS). --method chooses how items are compared: their records (events), a
    /// bag of their n-grams (bag), their unseen windows (stide), or a supervised
    /// forest trained on the labels by cross-validation (forest). The bag and
    /// stide methods also report F1 at a threshold chosen from the baseline alone.
    Eval(EvalArgs),

    /// Write a seccomp profile that allows every system call the baseline made.
    ///
    /// An allow-list of the model's system calls, in Docker's profile schema
    /// (`docker run --security-opt seccomp=FILE`) or as the `linux.seccomp`
    /// object of an OCI runtime's config.json. Every other call gets the
    /// default action: fail with EPERM, log and allow (`--action log`, for a
    /// first rollout: read the kernel's audit log), or kill the process. Names
    /// that are not system calls of the architecture (sysdig's `procexit`, say)
    /// are left out and listed on stderr. Arguments are not checked.
    Seccomp(SeccompArgs),

    /// Serve models over HTTP: other programs and log shippers send records, honk answers with what is unusual.
    ///
    /// Serves the models of a directory (the model NAME is the file
    /// DIR/NAME.honk) on --listen. `POST /v1/models/NAME/score` scores the body's
    /// records (text/plain, one record per line; or application/json: an array
    /// of strings or of objects with a "message" or "log" field, or such
    /// objects one per line) and answers with the rows `honk score --json`
    /// prints, as a JSON array (or NDJSON with `Accept: application/x-ndjson`
    /// or ?output=ndjson, or the HTML report with ?output=html). `POST
    /// /v1/models/NAME/learn` adds the body's records to the model as `honk
    /// learn` does. `GET /v1/models` lists the models, `GET /metrics` gives
    /// Prometheus metrics, `GET /healthz` says it is up. docs/openapi.yaml
    /// describes it all.
    ///
    /// A model file replaced on disk is served from the next request on,
    /// without a restart; one that does not load leaves the old one in
    /// service. The first line on standard output is `listening on
    /// http://ADDRESS` (with the real port when --listen asks for port 0).
    /// SIGINT or SIGTERM stops accepting, lets the requests in flight finish,
    /// and exits 0.
    Serve(ServeArgs),

    /// Show what honk reads in logs: format, records, processes, syscalls, unparsed lines.
    ///
    /// The first thing to check when results look odd: whether the format was
    /// detected right and how many lines the parser could not read.
    Inspect(InspectArgs),

    /// Write the man pages or shell completions.
    Generate {
        #[command(subcommand)]
        what: Generate,
    },
}

// `honk __seccomp-exec --profile PROFILE -- COMMAND...`: run a command under a
// seccomp profile. Internal (`honk trace --seccomp` runs it under strace), so
// it is parsed apart from `Cli` and appears in no help, man page or
// completion.
#[derive(Debug, Parser)]
#[command(
    name = "honk __seccomp-exec",
    about = "Run a command under a seccomp profile (internal: honk trace --seccomp runs it under strace)"
)]
pub struct SeccompExec {
    #[arg(long)]
    pub profile: PathBuf,
    #[arg(required = true, last = true)]
    pub command: Vec<std::ffi::OsString>,
}

/// The name [`SeccompExec`] is invoked by, as honk's first argument.
pub const SECCOMP_EXEC: &str = commands::SECCOMP_EXEC;

#[derive(Debug, Subcommand)]
pub enum Generate {
    /// Man pages, in roff: with DIR, one per command (honk.1, honk-learn.1, ...)
    /// written there; without, the top-level page on standard output.
    Man {
        /// The directory to write the pages in.
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Completions for a shell.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// How inputs are read.
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// Input format; `auto` detects it per file from its first lines.
    #[arg(long, default_value = "auto", value_name = "FORMAT", value_parser = choose_or_auto::<Format>("detect per file"))]
    pub format: Auto<Format>,
}

/// How a new model is built. Ignored when adding to an existing model, which
/// keeps the settings it was created with.
#[derive(Debug, Args, Clone)]
pub struct ModelArgs {
    /// How normalized lines are cut into hashed words: honk's own tokens (the
    /// default), or scikit-learn's HashingVectorizer defaults (lowercase, words of
    /// 2+ word characters), whose vectors are bit-compatible with scikit-learn's.
    #[arg(long, value_name = "TOKENIZER", value_parser = choose::<Tokenizer>())]
    pub tokenizer: Option<Tokenizer>,

    /// Dimension of the hashed vectors [default: 1048576].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=(1 << 31)))]
    pub features: Option<u32>,

    /// Also score windows of N consecutive events of one thread (syscall traces),
    /// to catch ordinary calls in an unusual order; 0 or absent: no windows.
    /// A window is reported only when none of its events is unusual by itself.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=64))]
    pub window: Option<u32>,

    /// Make windows of the events' normalized arguments too, not only their syscall names.
    #[arg(long, requires = "window")]
    pub window_args: bool,
}

#[derive(Debug, Args)]
pub struct LearnArgs {
    /// The model file to create or add to.
    #[arg(short, long, value_name = "MODEL")]
    pub output: PathBuf,

    /// Known-good logs: files, directories (read recursively), or - for stdin. Gzip and zstd are read transparently.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The model learned with `honk learn`.
    #[arg(short, long, value_name = "MODEL")]
    pub model: PathBuf,

    /// Logs to score: files, directories, or - for stdin (the default).
    #[arg(value_name = "TARGET")]
    pub targets: Vec<PathBuf>,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The model learned with `honk learn`.
    #[arg(short, long, value_name = "MODEL")]
    pub model: PathBuf,

    /// Log files to follow, or - for standard input (the default).
    #[arg(value_name = "SOURCE")]
    pub sources: Vec<PathBuf>,

    /// Watch live system calls with eBPF instead of logs (root or CAP_BPF+CAP_PERFMON,
    /// Linux 5.8+, x86_64): of the COMMAND after `--` and all its descendants, or of
    /// --pid and its descendants (the watch ends with them), or of --cgroup or --comm
    /// (until stopped).
    #[arg(long, conflicts_with_all = ["sources", "from_start"])]
    pub ebpf: bool,

    /// With --ebpf: watch this running process and its descendants.
    #[arg(long, value_name = "PID", requires = "ebpf")]
    pub pid: Option<u32>,

    /// With --ebpf: watch the processes in this cgroup (v2) directory and the cgroups below it (a container, a pod).
    #[arg(long, value_name = "PATH", requires = "ebpf", conflicts_with = "pid")]
    pub cgroup: Option<PathBuf>,

    /// With --ebpf: watch every process with this name (as /proc/PID/comm says).
    #[arg(long, value_name = "NAME", requires = "ebpf", conflicts_with_all = ["pid", "cgroup"])]
    pub comm: Option<String>,

    /// With --ebpf: the ring buffer's size in KiB (a power of two).
    #[arg(long, value_name = "KIB", hide = true, default_value_t = 16384)]
    pub ebpf_ring_kib: u32,

    /// With --ebpf: the command to start and watch, after `--`.
    #[arg(last = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,

    /// Also score what the files hold already, from their first line; by
    /// default, as with `tail -F`, only the lines written after honk started
    /// are scored (line numbers count the lines before all the same).
    #[arg(long)]
    pub from_start: bool,

    /// Also learn what is watched into the model: it is saved (as loaded,
    /// plus everything watched so far) every --save-every and when the watch
    /// ends. The watch holds the model's lock meanwhile, so a `honk learn`
    /// into it waits. Records are scored against the model as loaded.
    #[arg(long)]
    pub learn: bool,

    /// With --learn: how often the model is saved (90, 90s, 10m, 1h).
    #[arg(long, value_name = "TIME", default_value = "60s", requires = "learn",
          value_parser = honk::trace::parse_duration)]
    pub save_every: std::time::Duration,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The directory of the models to serve: the model NAME is DIR/NAME.honk.
    #[arg(long, value_name = "DIR")]
    pub models: PathBuf,

    /// The address and port to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:7878", value_name = "ADDRESS")]
    pub listen: std::net::SocketAddr,

    /// Require `Authorization: Bearer TOKEN` on every route but /healthz, the token being this file's content (surrounding whitespace ignored).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,

    /// The largest request body (64M, 1G; larger ones get 413; none or 0: no limit).
    #[arg(long, default_value = "64M", value_name = "SIZE", value_parser = honk::trace::parse_size)]
    pub max_body: u64,

    /// The longest a request may take, body included (30, 30s, 2m; over it: 408 if waiting for the client to send more of the body, else 503; none or 0: no limit). Request headers must come within 10 s (or this, if less).
    #[arg(long, default_value = "60s", value_name = "TIME", value_parser = honk::trace::parse_duration)]
    pub timeout: std::time::Duration,

    /// Score and learn requests served at once; more get 503 with Retry-After at once, not queued [default: twice the CPUs].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub concurrency: Option<u32>,

    /// Also print the incident, anomaly and policy rows of every score request on standard output (NDJSON, as --json prints them), for shippers that drop the responses.
    #[arg(long)]
    pub print_anomalies: bool,
}

#[derive(Debug, Args)]
pub struct ConsumeArgs {
    /// The model learned with `honk learn`.
    #[arg(short, long, value_name = "MODEL")]
    pub model: PathBuf,

    /// The stream: nats://HOST[:PORT]/STREAM[?durable=NAME&ack_wait=TIME&filter=SUBJECT]
    /// (durable consumer `honk` and ack wait 30s by default, used when the consumer is created),
    /// or kafka://HOST[:PORT]/TOPIC[?group=NAME] (consumer group `honk` by default; port 9092).
    #[arg(long, value_name = "URL", value_parser = honk::consume::address::parse_from)]
    pub from: honk::consume::From,

    /// Where alerts go: nats://HOST[:PORT]/SUBJECT (a subject some JetStream stream
    /// captures, on the same server), kafka://HOST[:PORT]/TOPIC (produced with acks=all; for a
    /// Kafka source), or - for standard output (JSON Lines).
    #[arg(long, value_name = "URL", default_value = "-", value_parser = honk::consume::address::parse_to)]
    pub alerts: honk::consume::To,

    /// Messages taken at a time, at most.
    #[arg(long, value_name = "N", default_value_t = honk::consume::DEFAULT_BATCH as u64,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch: u64,

    /// Records whose distance to the baseline is above T are anomalies.
    #[arg(short, long, default_value_t = DEFAULT_THRESHOLD, value_name = "T", value_parser = parse_threshold)]
    pub threshold: f64,

    /// A record's score is its mean distance to its K nearest baseline records.
    #[arg(short, default_value_t = 1, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub k: u32,

    /// Serve GET /metrics (Prometheus: messages, records, alerts, batch times, reloads,
    /// lag) and GET /healthz on ADDR (host:port; port 0 picks one, and honk says which).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,

    #[command(flatten)]
    pub input: InputArgs,
}

impl ConsumeArgs {
    /// `honk consume`'s settings.
    pub fn settings(&self) -> honk::consume::Consume {
        honk::consume::Consume {
            model: self.model.clone(),
            from: self.from.clone(),
            alerts: self.alerts.clone(),
            format: self.input.forced(),
            threshold: self.threshold,
            k: self.k as usize,
            batch: self.batch as usize,
            metrics: self.metrics,
            ..honk::consume::Consume::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Baseline logs (files, directories or -), then the target log last: at least two paths.
    #[arg(required = true, num_args = 2.., value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub model: ModelArgs,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("then").args(["learn", "score"])))]
pub struct TraceArgs {
    /// Where to write the trace, once the command has ended; with --learn/--score, keeps it
    /// (reports point into it) [default: with --learn/--score a temporary file, deleted
    /// afterwards, that reports name `trace`; else trace.strace, or trace.gvisor.log with --gvisor].
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Then add the trace to this model (created if missing), as `honk learn` does.
    #[arg(long, value_name = "MODEL")]
    pub learn: Option<PathBuf>,

    /// Then score the trace against this model, as `honk score` does.
    #[arg(long, value_name = "MODEL")]
    pub score: Option<PathBuf>,

    /// Run the command in a gVisor sandbox (`runsc do`, needs root) and keep gVisor's
    /// strace log: no network, file writes thrown away; host files stay readable.
    #[arg(long)]
    pub gvisor: bool,

    /// Run the command in a bubblewrap sandbox (traced from outside): new user, pid,
    /// mount, network, IPC and UTS namespaces, the host's files read-only (the
    /// current directory too, kept), a scratch tmpfs on /tmp, no network. The
    /// command can still read what your user can.
    #[arg(long, conflicts_with = "gvisor")]
    pub sandbox: bool,

    /// With --sandbox or --gvisor: give the command the host's network.
    #[arg(long)]
    pub net: bool,

    /// Enforce this seccomp profile (from `honk seccomp`, Docker or OCI form) on
    /// the command: calls outside it fail with EPERM, are logged, or kill it, as
    /// the profile's default action says. strace itself is not filtered.
    #[arg(long, value_name = "PROFILE", conflicts_with = "gvisor")]
    pub seccomp: Option<PathBuf>,

    /// At most N processes and threads at once [default: 1024 with --sandbox or --gvisor, else none; 0: none].
    #[arg(long, value_name = "N")]
    pub max_procs: Option<u64>,

    /// At most SIZE of memory (512M, 4G) [default: 4G with --sandbox or --gvisor, else none; 0: none].
    #[arg(long, value_name = "SIZE", value_parser = honk::trace::parse_size)]
    pub max_memory: Option<u64>,

    /// Kill the command after TIME (90, 90s, 10m, 1h) [default: 1h with --sandbox or --gvisor, else none; 0: none].
    #[arg(long, value_name = "TIME", value_parser = honk::trace::parse_duration)]
    pub timeout: Option<std::time::Duration>,

    /// Capture the command's system calls with eBPF instead of strace (needs root or
    /// CAP_BPF+CAP_PERFMON, Linux 5.8+): much less overhead; the trace is written in
    /// strace's form [default file: trace.ebpf.strace].
    #[arg(long, conflicts_with_all = ["gvisor", "sandbox", "seccomp"])]
    pub ebpf: bool,

    /// With --ebpf: the ring buffer's size in KiB (a power of two).
    #[arg(long, value_name = "KIB", hide = true, default_value_t = 16384)]
    pub ebpf_ring_kib: u32,

    /// With --learn: learn the run even if the command failed (a non-zero exit
    /// status, killed, or stopped by a limit); by default such a run is refused.
    #[arg(long, requires = "learn")]
    pub learn_failed: bool,

    #[command(flatten)]
    pub output_args: OutputArgs,

    /// The command to trace and its arguments, after `--`.
    #[arg(required = true, last = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct SeccompArgs {
    /// The model whose system calls are allowed.
    #[arg(short, long, value_name = "MODEL")]
    pub model: PathBuf,

    /// Write the profile to FILE (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The profile's schema: Docker's, or the OCI runtime spec's `linux.seccomp` object.
    #[arg(long, default_value = "docker", value_name = "FORMAT", value_parser = choose::<ProfileFormat>())]
    pub format: ProfileFormat,

    /// What every other system call gets: `errno` (fails with EPERM), `log`
    /// (allowed and logged by the kernel: "log, don't block"), `kill` (the process is killed).
    #[arg(long, default_value = "errno", value_name = "ACTION", value_parser = choose::<Action>())]
    pub action: Action,

    /// The architecture the profile is for.
    #[arg(long, default_value = "x86_64", value_name = "ARCH", value_parser = choose::<Arch>())]
    pub arch: Arch,

    /// Also allow a base set: `default` adds the calls a container runtime
    /// (runc, crun) makes after loading the filter and those the dynamic loader
    /// and libc make before main, which a trace of the program may lack.
    #[arg(long, value_enum, value_name = "SET")]
    pub base: Option<BaseSet>,
}

/// `honk seccomp --base`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BaseSet {
    /// The runtime's and the loader's start-up calls.
    Default,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Known-good training inputs.
    #[arg(long, required_unless_present_any = ["line_labels", "lid_ds"], num_args = 1.., value_name = "PATH")]
    pub baseline: Vec<PathBuf>,

    /// Known-normal test inputs.
    #[arg(long, required_unless_present_any = ["line_labels", "labelled", "lid_ds"], num_args = 1.., value_name = "PATH")]
    pub normal: Vec<PathBuf>,

    /// Known-attack test inputs.
    #[arg(long, required_unless_present_any = ["line_labels", "labelled", "lid_ds"], num_args = 1.., value_name = "PATH")]
    pub attack: Vec<PathBuf>,

    /// Instead of --normal and --attack: test items with their labels, one per
    /// line as `EVENTS,LABEL` (the CSV in which HDFS sessions are shared): the
    /// events separated by spaces, the label 0 for normal and any other whole
    /// number for an attack. A header line is skipped. Implies --items lines.
    #[arg(long, num_args = 1.., value_name = "FILE", conflicts_with_all = ["normal", "attack", "line_labels"])]
    pub labelled: Vec<PathBuf>,

    /// Instead: one log whose lines carry their label as the first word (`-`
    /// for normal, anything else an alert, as in BGL). The normal lines of its
    /// first part (--split) are the baseline; every line of the rest is scored
    /// on its own, the label word removed first.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["baseline", "normal", "attack"])]
    pub line_labels: Option<PathBuf>,

    /// Instead: a LID-DS scenario directory (`training/`, `validation/`,
    /// `test/normal/`, `test/normal_and_attack/`, one zip per recording), scored
    /// the way the data set's authors score a detector. The training recordings
    /// are the baseline; the highest event score on the validation recordings is
    /// the threshold; every event of a test recording above it is an alarm. An
    /// attack recording is detected by an alarm at or after its exploit time
    /// (`time.exploit[0].absolute` in its metadata); alarms before it and in
    /// normal recordings are false, and a run of consecutive false alarms counts
    /// once. ROC AUC and the like rank recordings by their highest event score.
    #[arg(long = "lid-ds", value_name = "DIR", conflicts_with_all = ["baseline", "normal", "attack", "labelled", "line_labels"])]
    pub lid_ds: Option<PathBuf>,

    /// With --line-labels: the share of lines, from the start, that makes the training part.
    #[arg(long, default_value_t = 0.5, value_name = "FRACTION", value_parser = parse_split)]
    pub split: f64,

    /// What one item is: `files` (each input file is one trace, parsed in its
    /// format) or `lines` (each line is one session: its space-separated words,
    /// taken as they are, are its events).
    #[arg(long, default_value = "files", value_name = "UNIT", value_parser = choose::<Items>())]
    pub items: Items,

    /// How items are compared. `events`: each record (and window, with
    /// --window) is scored as `honk score` would, and a trace's score sums them
    /// up by --aggregate. `bag`: each item is a bag of its n-grams (--ngram,
    /// --weight), scored by its mean cosine distance to the -k nearest baseline
    /// items. `stide`: the share of the item's windows of --window events that
    /// no baseline item has. `forest`: a random forest trained on the test
    /// items' labels, each item scored by a forest that never saw it
    /// (cross-validation in --folds folds); supervised, a reference for what
    /// labels buy, not an anomaly detector. Default: bag, the best unsupervised
    /// method on ADFA-LD and HDFS (docs/evaluation.md); events with
    /// --line-labels and --lid-ds, which score single lines and events.
    #[arg(long, value_name = "METHOD", value_parser = choose::<Method>())]
    pub method: Option<Method>,

    /// With bag and forest: n-grams of every order from 1 to N.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=8))]
    pub ngram: u32,

    /// With bag: how n-grams are weighted. `binary` (present or not), `counts`,
    /// or `tf-idf` (counts times the n-gram's inverse document frequency among
    /// the baseline's items).
    #[arg(long, default_value = "binary", value_name = "WEIGHT", value_parser = choose::<Weight>())]
    pub weight: Weight,

    /// With bag: what an item with an event the baseline never had scores.
    /// `alarm`: 1, the highest score. `distance`: its distance, like any item.
    #[arg(long, default_value = "alarm", value_name = "HOW", value_parser = choose::<Unseen>())]
    pub unseen: Unseen,

    /// With forest: the number of cross-validation folds.
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=100))]
    pub folds: u32,

    /// With events: how a trace's record scores become one score: max,
    /// mean-top-M (mean of the M highest, M ≤ 16) or fraction (share of records
    /// above --threshold).
    #[arg(long, default_value = "max", value_name = "HOW", value_parser = parse_aggregate)]
    pub aggregate: honk::eval::Aggregate,

    /// Print one JSON object instead.
    #[arg(long)]
    pub json: bool,

    #[command(flatten)]
    pub html: HtmlArgs,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub model: ModelArgs,

    /// The item threshold for the confusion counts (and, with events, the
    /// record threshold for the fraction aggregate). Default: with bag and
    /// stide, the largest leave-one-out score of a baseline item (chosen
    /// without test labels); with forest 0.5; with --lid-ds the highest score
    /// on the validation recordings; with events 0.3.
    #[arg(short, long, value_name = "T", value_parser = parse_threshold)]
    pub threshold: Option<f64>,

    /// Score by the mean distance to the K nearest (distinct baseline records
    /// with events; baseline items with bag). A large K prunes less and can cost
    /// up to O(baseline × target), as with `honk score -k`.
    #[arg(short, default_value_t = 1, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub k: u32,
}

fn parse_split(s: &str) -> Result<f64, String> {
    let f: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if f > 0.0 && f < 1.0 {
        Ok(f)
    } else {
        Err(format!("{f} is not strictly between 0 and 1"))
    }
}

fn parse_aggregate(s: &str) -> Result<honk::eval::Aggregate, String> {
    use honk::eval::Aggregate;
    match s {
        "max" => Ok(Aggregate::Max),
        "fraction" => Ok(Aggregate::Fraction),
        _ => match s.strip_prefix("mean-top-").map(str::parse::<usize>) {
            Some(Ok(m)) if (1..=honk::report::PROFILED_SCORES).contains(&m) => Ok(Aggregate::MeanTop(m)),
            _ => Err(format!(
                "`{s}` is not max, fraction or mean-top-M with M from 1 to {}",
                honk::report::PROFILED_SCORES
            )),
        },
    }
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Logs to inspect: files, directories, or - for stdin. A honk model is shown as a model.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    #[command(flatten)]
    pub input: InputArgs,

    /// Print one JSON object per input instead.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Use the built-in traces even when strace is installed.
    #[arg(long)]
    pub embedded: bool,

    /// Keep the traces in this directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// What is reported and how.
#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Report records whose distance to the baseline is above T (0 = seen before, 1 = nothing in common).
    #[arg(short, long, default_value_t = DEFAULT_THRESHOLD, value_name = "T", value_parser = parse_threshold)]
    pub threshold: f64,

    /// Score a record by its mean distance to its K nearest distinct baseline records.
    ///
    /// Cost: with K = 1 most of the baseline is pruned away; the larger K, the
    /// less can be pruned, up to a comparison of every distinct target record
    /// with every baseline record that shares a word with it (O(baseline ×
    /// target)): -k 1000 with 400,000 baseline and 2,000 target records took
    /// 40 s.
    #[arg(short, default_value_t = 1, value_name = "K", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub k: u32,

    /// Show N records after each anomaly.
    #[arg(short = 'A', long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub after_context: Option<u32>,

    /// Show N records before each anomaly.
    #[arg(short = 'B', long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub before_context: Option<u32>,

    /// Show N records before and after each anomaly.
    #[arg(short = 'C', long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub context: Option<u32>,

    /// Report only the N highest-scoring incidents (groups of anomalies that are one event), highest first.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub top: Option<u64>,

    /// Records printed under each incident; 0 prints them all (JSON always has them all).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub records: u64,

    /// Print JSON Lines, one object per incident, anomaly and policy violation, each with a "type": an anomaly is {"type": "anomaly", "source", "line", "score", "text", "nearest": {"source", "line", "text"} | null, "incident", "new"}.
    #[arg(long)]
    pub json: bool,

    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN")]
    pub color: ColorArg,

    #[command(flatten)]
    pub html: HtmlArgs,
}

/// The HTML report.
#[derive(Debug, Args, Clone)]
pub struct HtmlArgs {
    /// Also write a self-contained HTML report to FILE: the anomalies with
    /// their context and nearest baseline lines (filterable), a 2-D map of the
    /// baseline's and the target's vectors, score timelines and, for syscall
    /// traces, threads and system calls the baseline never made. It needs no
    /// network when opened.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Open the HTML report with the desktop's opener (xdg-open) once written.
    #[arg(long, requires = "html")]
    pub open: bool,
}

impl OutputArgs {
    /// Context before and after, `-A`/`-B` overriding `-C`.
    pub fn context(&self) -> (usize, usize) {
        let both = self.context.unwrap_or(0);
        (
            self.before_context.unwrap_or(both) as usize,
            self.after_context.unwrap_or(both) as usize,
        )
    }
}

fn parse_threshold(s: &str) -> Result<f64, String> {
    let t: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&t) {
        Ok(t)
    } else {
        Err(format!("{t} is outside [0, 1]; scores are distances between 0 and 1"))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// Colour when standard output is a terminal and NO_COLOR is not set.
    Auto,
    Always,
    Never,
}

/// The settings the flags describe: what the library's commands take.
impl InputArgs {
    /// The forced format, or `None` to detect.
    pub fn forced(&self) -> Option<Format> {
        self.format.0
    }
}

impl ModelArgs {
    /// The model settings asked for.
    pub fn choices(&self) -> ModelChoices {
        ModelChoices {
            tokenizer: self.tokenizer,
            features: self.features,
            window: self.window,
            window_args: self.window_args,
        }
    }
}

impl OutputArgs {
    /// What is reported.
    pub fn report(&self) -> Report {
        let (before, after) = self.context();
        Report {
            threshold: self.threshold,
            k: self.k as usize,
            before,
            after,
            top: self.top.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
            html: self.html.html.clone(),
        }
    }
}

impl LearnArgs {
    /// `honk learn`'s settings.
    pub fn settings(&self) -> commands::Learn {
        commands::Learn {
            output: self.output.clone(),
            inputs: self.inputs.clone(),
            format: self.input.forced(),
            model: self.model.choices(),
        }
    }
}

impl ScoreArgs {
    /// `honk score`'s settings.
    pub fn settings(&self) -> commands::Score {
        commands::Score {
            model: self.model.clone(),
            targets: self.targets.clone(),
            format: self.input.forced(),
            report: self.output.report(),
        }
    }
}

impl WatchArgs {
    /// `honk watch`'s settings.
    pub fn settings(&self) -> commands::Watch {
        commands::Watch {
            model: self.model.clone(),
            sources: self.sources.clone(),
            format: self.input.forced(),
            report: self.output.report(),
            from_start: self.from_start,
            learn: self.learn,
            save_every: self.save_every,
            ebpf: self.ebpf.then(|| {
                use honk::capture::Target;
                match (&self.pid, &self.cgroup, &self.comm) {
                    (Some(pid), _, _) => Target::Pid(*pid),
                    (_, Some(dir), _) => Target::Cgroup(dir.clone()),
                    (_, _, Some(name)) => Target::Comm(name.clone()),
                    _ => Target::Command(self.command.clone()),
                }
            }),
            ring_bytes: self.ebpf_ring_kib.saturating_mul(1024),
            ..commands::Watch::default()
        }
    }
}

impl ServeArgs {
    /// `honk serve`'s settings.
    pub fn settings(&self) -> honk::serve::Serve {
        let defaults = honk::serve::Serve::default();
        honk::serve::Serve {
            models: self.models.clone(),
            listen: self.listen,
            token_file: self.token_file.clone(),
            max_body: if self.max_body == 0 { u64::MAX } else { self.max_body },
            timeout: self.timeout,
            concurrency: self.concurrency.map_or(defaults.concurrency, |n| n as usize),
            print_anomalies: self.print_anomalies,
        }
    }
}

impl DiffArgs {
    /// `honk diff`'s settings: the last path is the target.
    pub fn settings(&self) -> commands::Diff {
        let (target, baseline) = match self.paths.split_last() {
            Some((target, baseline)) => (target.clone(), baseline.to_vec()),
            None => (PathBuf::new(), Vec::new()),
        };
        commands::Diff {
            baseline,
            target,
            format: self.input.forced(),
            model: self.model.choices(),
            report: self.output.report(),
        }
    }
}

impl TraceArgs {
    /// `honk trace`'s settings.
    pub fn settings(&self) -> commands::Trace {
        use honk::trace::Isolation;
        let then = match (&self.learn, &self.score) {
            (Some(model), _) => commands::Then::Learn {
                model: model.clone(),
                failed_too: self.learn_failed,
            },
            (None, Some(model)) => commands::Then::Score {
                model: model.clone(),
                report: self.output_args.report(),
            },
            (None, None) => commands::Then::Keep,
        };
        commands::Trace {
            command: self.command.clone(),
            output: self.output.clone(),
            then,
            isolation: match (self.sandbox, self.gvisor) {
                (true, _) => Isolation::Sandbox { network: self.net },
                (_, true) => Isolation::Gvisor { network: self.net },
                _ => Isolation::None,
            },
            seccomp: self.seccomp.clone(),
            launcher: None,
            max_procs: self.max_procs,
            max_memory: self.max_memory,
            timeout: self.timeout,
            ebpf: self.ebpf,
            ring_bytes: Some(self.ebpf_ring_kib.saturating_mul(1024)),
        }
    }
}

impl SeccompArgs {
    /// `honk seccomp`'s settings.
    pub fn settings(&self) -> commands::SeccompProfile {
        commands::SeccompProfile {
            model: self.model.clone(),
            output: self.output.clone(),
            options: honk::seccomp::ProfileOptions {
                format: self.format,
                action: self.action,
                arch: self.arch,
                base: self.base.is_some(),
            },
        }
    }
}

impl EvalArgs {
    /// `honk eval`'s settings.
    pub fn settings(&self) -> honk::eval::Evaluate {
        honk::eval::Evaluate {
            baseline: self.baseline.clone(),
            normal: self.normal.clone(),
            attack: self.attack.clone(),
            labelled: self.labelled.clone(),
            line_labels: self.line_labels.clone(),
            lid_ds: self.lid_ds.clone(),
            split: self.split,
            items: self.items,
            method: self.method,
            ngram: self.ngram as usize,
            weight: self.weight,
            unseen: self.unseen,
            folds: self.folds as usize,
            aggregate: self.aggregate,
            format: self.input.forced(),
            model: self.model.choices(),
            threshold: self.threshold,
            k: self.k as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn context_flags_combine_like_grep() {
        let cli = Cli::try_parse_from(["honk", "score", "-m", "m", "-C", "3", "-A", "1"]).unwrap();
        let Command::Score(args) = cli.command else {
            panic!("score")
        };
        assert_eq!(args.output.context(), (3, 1));
    }

    #[test]
    fn choice_flags_offer_the_library_names_and_take_them() {
        let cmd = Cli::command();
        let learn = cmd.find_subcommand("learn").unwrap();
        let format = learn.get_arguments().find(|a| a.get_id() == "format").unwrap();
        let offered: Vec<String> = format
            .get_possible_values()
            .iter()
            .map(|v| v.get_name().to_owned())
            .collect();
        let mut expected = vec!["auto".to_owned()];
        expected.extend(honk::formats::ALL.iter().map(|f| f.name().to_owned()));
        assert_eq!(offered, expected);

        let cli = Cli::try_parse_from([
            "honk",
            "learn",
            "-o",
            "m",
            "--format",
            "sysdig-json",
            "--tokenizer",
            "sklearn",
            "x",
        ])
        .unwrap();
        let Command::Learn(args) = cli.command else {
            panic!("learn")
        };
        assert_eq!(args.input.forced().map(|f| f.name()), Some("sysdig-json"));
        assert_eq!(args.model.tokenizer, Some(Tokenizer::Sklearn));
        let cli = Cli::try_parse_from(["honk", "learn", "-o", "m", "x"]).unwrap();
        let Command::Learn(args) = cli.command else {
            panic!("learn")
        };
        assert_eq!(args.input.forced().map(|f| f.name()), None);
        assert!(Cli::try_parse_from(["honk", "learn", "-o", "m", "--format", "Strace", "x"]).is_err());
    }

    #[test]
    fn out_of_range_values_are_refused() {
        assert!(Cli::try_parse_from(["honk", "score", "-m", "m", "--threshold", "1.5"]).is_err());
        assert!(Cli::try_parse_from(["honk", "score", "-m", "m", "-k", "0"]).is_err());
        assert!(Cli::try_parse_from(["honk", "diff", "only-one"]).is_err());
    }
}
