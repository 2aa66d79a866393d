//! The `honk` binary: parse the command line into the library's settings, run
//! one command, print what it found, and map the outcome to an exit status like
//! diff's (0 nothing unusual, 1 anomalies, 2 trouble; `honk trace` passes the
//! traced command's on, as strace does).

// The only unsafe code here installs the stop signals' handler (signals.rs).
#![deny(unsafe_code)]

mod bars;
mod cli;
mod print;
#[allow(unsafe_code)] // sigaction, with a handler that only stores atomics.
mod signals;

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::{CommandFactory, Parser};

use cli::{Cli, ColorArg, Command, Generate, OutputArgs, SeccompExec, SECCOMP_EXEC};
use honk::commands::{self, TraceOutcome, Ui};
use honk::model::Model;
use honk::progress::Progress;
use honk::read::{self, shown, Input};
use honk::report::human::{escape, HumanPrinter};
use honk::report::json::JsonPrinter;
use honk::report::Sink;
use honk::{demo, inspect};

/// What a command found.
enum Outcome {
    Clean,
    Anomalies,
    /// `honk trace` without --learn/--score: the command's own exit status, as strace gives it.
    Exit(u8),
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let result = if args.get(1).is_some_and(|a| a == SECCOMP_EXEC) {
        let exec = SeccompExec::parse_from(std::iter::once(args[0].clone()).chain(args.into_iter().skip(2)));
        Err(commands::seccomp_exec(&exec.profile, &exec.command).into())
    } else {
        run(Cli::parse_from(args))
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::from(0),
        Ok(Outcome::Anomalies) => ExitCode::from(1),
        Ok(Outcome::Exit(code)) => ExitCode::from(code),
        Err(err) if is_broken_pipe(&err) => {
            // The reader went away (`honk ... | head`): we were printing anomalies.
            ExitCode::from(1)
        }
        Err(err) => {
            // Errors name files, and a file name can hold terminal escapes.
            eprintln!("honk: error: {}", escape(&format!("{err:#}")));
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The binary's [`Ui`]: progress bars and notes on standard error, none with --quiet.
struct Terminal {
    quiet: bool,
}

impl Ui for Terminal {
    fn progress(&self, what: &str, total: Option<u64>) -> Progress {
        bars::bar(!self.quiet, what, total)
    }

    fn note(&self, message: &str) {
        if !self.quiet {
            eprintln!("honk: {message}");
        }
    }

    fn warn(&self, message: &str) {
        eprintln!("honk: warning: {message}");
    }
}

fn run(cli: Cli) -> Result<Outcome> {
    let quiet = cli.quiet;
    let ui = Terminal { quiet };
    let started = Instant::now();
    match cli.command {
        Command::Learn(args) => {
            hint_at_terminal_stdin(&args.inputs);
            let learned = commands::learn(&args.settings(), &ui)?;
            if !quiet {
                print::learned(&learned, &args.output, started);
            }
            Ok(Outcome::Clean)
        }
        Command::Score(args) => {
            hint_at_terminal_stdin(&args.targets);
            if args.targets.is_empty() {
                hint_at_terminal_stdin(&[PathBuf::from("-")]);
            }
            scored(&args.output, quiet, started, |sink| {
                commands::score(&args.settings(), sink, &ui)
            })
        }
        Command::Watch(args) => {
            if args.ebpf {
                let targets = usize::from(args.pid.is_some())
                    + usize::from(args.cgroup.is_some())
                    + usize::from(args.comm.is_some())
                    + usize::from(!args.command.is_empty());
                if targets != 1 {
                    bail!("--ebpf watches one of: a COMMAND after `--`, --pid PID, --cgroup PATH, --comm NAME");
                }
                // The watched programs run on this machine: scoring them
                // takes a quarter of its cores (at least one), not all of
                // them as scoring a file does.
                let threads = std::thread::available_parallelism().map_or(1, |n| (n.get() / 4).max(1));
                let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
            } else if !args.command.is_empty() {
                bail!("a COMMAND after `--` is watched with --ebpf");
            }
            let sources = if args.sources.is_empty() {
                vec![PathBuf::from("-")]
            } else {
                args.sources.clone()
            };
            if !args.ebpf {
                hint_at_terminal_stdin(&sources);
            }
            signals::catch_stop();
            // Standard output as it is: flushed at every line, so each alert shows at once.
            let mut printer = printer_on(&args.output, io::stdout());
            let watched = commands::watch(&args.settings(), printer.as_mut(), &ui, &signals::STOP)?;
            drop(printer);
            if !quiet {
                print::watched(&watched, signals::caught(), started);
                print::warn_truncated(&watched.stats);
            }
            Ok(if watched.found_something() {
                Outcome::Anomalies
            } else {
                Outcome::Clean
            })
        }
        Command::Serve(args) => {
            honk::serve::serve(&args.settings(), |address| {
                let mut out = io::stdout().lock();
                let _ = writeln!(out, "listening on http://{address}");
                let _ = out.flush();
                if !quiet {
                    eprintln!(
                        "honk: serving the models of {} on http://{address}",
                        shown(&args.models)
                    );
                }
            })?;
            Ok(Outcome::Clean)
        }
        Command::Consume(args) => {
            signals::catch_stop();
            let consumed = honk::consume::consume(&args.settings(), &ui, &signals::STOP)?;
            if !quiet {
                print::consumed(&consumed, signals::caught(), started);
            }
            Ok(Outcome::Clean)
        }
        Command::Diff(args) => {
            hint_at_terminal_stdin(&args.paths);
            scored(&args.output, quiet, started, |sink| {
                commands::diff(&args.settings(), sink, &ui)
            })
        }
        Command::Demo(args) => {
            let traces = demo::prepare(args.embedded, args.keep.as_deref(), &mut io::stderr())?;
            let settings = commands::Diff {
                baseline: vec![traces.baseline.clone()],
                target: traces.target.clone(),
                format: Some(honk::parse::Format::Strace),
                model: commands::ModelChoices::default(),
                report: args.output.report(),
            };
            let outcome = scored(&args.output, quiet, started, |sink| {
                commands::diff(&settings, sink, &ui)
            });
            if !quiet {
                eprintln!("{}", traces.epilogue());
            }
            outcome
        }
        Command::Trace(args) => {
            if args.net && !args.sandbox && !args.gvisor {
                bail!("--net gives a sandbox the host's network; it needs --sandbox or --gvisor");
            }
            if args.ebpf {
                // A Ctrl-C ends the command; honk keeps its capture.
                signals::catch_stop();
            }
            let output = &args.output_args;
            let mut printer = printer(output);
            let outcome = commands::trace(&args.settings(), printer.as_mut(), &ui)?;
            drop(printer);
            match outcome {
                TraceOutcome::Kept { exit } => Ok(Outcome::Exit(exit)),
                TraceOutcome::Learned(learned) => {
                    if !quiet {
                        print::learned(&learned, args.learn.as_deref().unwrap_or(Path::new("")), started);
                    }
                    Ok(Outcome::Clean)
                }
                TraceOutcome::Scored { scored, stopped } => {
                    finish_scored(&scored, output, quiet, started);
                    // A run stopped at a limit did not do all it meant to: that is unusual in itself.
                    Ok(if stopped || scored.found_something() {
                        Outcome::Anomalies
                    } else {
                        Outcome::Clean
                    })
                }
            }
        }
        Command::Eval(args) => {
            let settings = args.settings();
            let given: Vec<&Path> = (settings.baseline.iter())
                .chain(&settings.normal)
                .chain(&settings.attack)
                .chain(&settings.labelled)
                .chain(&settings.line_labels)
                .map(PathBuf::as_path)
                .collect();
            let directories: Vec<PathBuf> = given.iter().filter(|p| p.is_dir()).map(|p| p.to_path_buf()).collect();
            let listed = read::expand(&directories).unwrap_or_default();
            commands::refuse_overwriting(args.html.html.as_deref(), "report", &given, &listed)?;
            let evaluation = honk::eval::run(&settings, &ui)?;
            let mut out = io::stdout().lock();
            if args.json {
                serde_json::to_writer(&mut out, &evaluation)?;
                writeln!(out)?;
            } else {
                evaluation.write_text(&mut out)?;
            }
            if let Some(path) = &args.html.html {
                let page = evaluation.page()?;
                let html = honk::report::html::render(&page)?;
                commands::write_file(path, html.as_bytes(), "report")?;
                report_written(path, args.html.open, quiet);
            }
            Ok(Outcome::Clean)
        }
        Command::Seccomp(args) => {
            let profiled = commands::seccomp_profile(&args.settings())?;
            if args.output.is_none() {
                io::stdout().lock().write_all(profiled.json.as_bytes())?;
            }
            if !quiet {
                print::profiled(&profiled, args.arch);
            }
            Ok(Outcome::Clean)
        }
        Command::Inspect(args) => {
            let inputs = read::expand(&args.inputs)?;
            let progress = ui.progress("reading", honk::pipeline::total_bytes(&inputs));
            let mut out = BufWriter::new(io::stdout().lock());
            for input in &inputs {
                // A model is shown as a model, not read as a text log.
                if let Input::File(path) = input {
                    if Model::is_model_file(path) {
                        let inspection = inspect::inspect_model(&input.name(), &Model::load_any(path)?);
                        if args.json {
                            serde_json::to_writer(&mut out, &inspection)?;
                            writeln!(out)?;
                        } else {
                            inspect::print_model(&inspection, &mut out)?;
                        }
                        continue;
                    }
                }
                let inspection = inspect::inspect(input, args.input.forced(), &progress)?;
                if args.json {
                    serde_json::to_writer(&mut out, &inspection)?;
                    writeln!(out)?;
                } else {
                    inspect::print_human(&inspection, &mut out)?;
                }
            }
            progress.finish();
            out.flush()?;
            Ok(Outcome::Clean)
        }
        Command::Generate { what } => {
            let mut out = io::stdout().lock();
            match what {
                Generate::Man { dir: None } => clap_mangen::Man::new(Cli::command()).render(&mut out)?,
                Generate::Man { dir: Some(dir) } => {
                    let written = write_man_pages(&dir)?;
                    ui.note(&format!("wrote {} man pages to {}", written, shown(&dir)));
                }
                Generate::Completions { shell } => {
                    clap_complete::generate(shell, &mut Cli::command(), "honk", &mut out)
                }
            }
            Ok(Outcome::Clean)
        }
    }
}

/// The printer `--json` or the terminal asks for, on standard output.
fn printer(output: &OutputArgs) -> Box<dyn Sink> {
    // Not locked: `honk trace` copies the traced command's output to standard
    // output from other threads while the printer exists.
    printer_on(output, BufWriter::with_capacity(64 * 1024, io::stdout()))
}

/// The printer `--json` or the terminal asks for, writing to `stdout`.
fn printer_on(output: &OutputArgs, stdout: impl Write + 'static) -> Box<dyn Sink> {
    let (before, after) = output.context();
    if output.json {
        Box::new(JsonPrinter::new(stdout, before > 0 || after > 0))
    } else {
        let records = output.records;
        let blocks = output.top.is_none();
        Box::new(HumanPrinter::new(stdout, use_color(output.color), blocks).records_per_incident(records))
    }
}

/// Runs a scoring command into the printer, then summarizes.
fn scored(
    output: &OutputArgs,
    quiet: bool,
    started: Instant,
    command: impl FnOnce(&mut dyn Sink) -> Result<commands::Scored, commands::Error>,
) -> Result<Outcome> {
    let mut printer = printer(output);
    let scored = command(printer.as_mut())?;
    drop(printer);
    finish_scored(&scored, output, quiet, started);
    Ok(if scored.found_something() {
        Outcome::Anomalies
    } else {
        Outcome::Clean
    })
}

fn finish_scored(scored: &commands::Scored, output: &OutputArgs, quiet: bool, started: Instant) {
    if let Some(path) = &output.html.html {
        report_written(path, output.html.open, quiet);
    }
    if !quiet {
        print::warn_truncated(&scored.baseline_stats);
        print::summary(&scored.summary, &scored.stats, started);
        print::warn_truncated(&scored.stats);
    }
}

/// Says where the report is; opens it if asked.
fn report_written(path: &Path, open: bool, quiet: bool) {
    if !quiet {
        eprintln!("report written to {}", shown(path));
    }
    if open {
        // A missing or failing opener is not a failed run: the report is written.
        if let Err(e) = std::process::Command::new("xdg-open")
            .arg(path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        {
            eprintln!("honk: could not open {} with xdg-open: {e}", shown(path));
        }
    }
}

/// One man page per command, `honk.1`, `honk-learn.1`, ..., `honk-generate-man.1`,
/// written to `dir`; returns how many.
fn write_man_pages(dir: &Path) -> Result<usize> {
    fn pages(cmd: &clap::Command, dir: &Path, written: &mut usize) -> Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            pages(sub, dir, written)?;
        }
        let man = clap_mangen::Man::new(cmd.clone());
        let mut page = Vec::new();
        man.render(&mut page)?;
        commands::write_file(&dir.join(man.get_filename()), &page, "man page")?;
        *written += 1;
        Ok(())
    }
    if !dir.is_dir() {
        bail!("{} is not a directory", shown(dir));
    }
    // Built, so that subcommands know their full names (honk-learn).
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut written = 0;
    pages(&cmd, dir, &mut written)?;
    Ok(written)
}

/// When standard input is one of the inputs and a terminal, honk would seem
/// to hang (a spinner, nothing else): say what it is waiting for.
fn hint_at_terminal_stdin(paths: &[PathBuf]) {
    if paths.iter().any(|p| read::is_stdin(p)) && io::stdin().is_terminal() {
        eprintln!("honk: reading standard input (end it with Ctrl-D); give a file or pipe a log");
    }
}

fn use_color(choice: ColorArg) -> bool {
    match choice {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    }
}
