//! The command-line front end: argument parsing (`args`), one module per command, and the
//! exit-code mapping (`exit`). The only module that prints, prompts or uses clap.
#![allow(clippy::print_stdout)]

/// `eprintln!` that never panics: when stderr is closed (`2>&-`, or a pipe whose reader has
/// gone), the line is lost instead of aborting a command that may already have written its
/// file. Every message of the command line goes through it (clippy's `print_stderr` stays on
/// here, so an `eprintln!` is refused).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod args;
mod cert_cmd;
mod check_cmd;
mod config_cmd;
mod diff_cmd;
pub mod exit;
mod init_cmd;
mod man_cmd;
mod migrate_cmd;
mod prompt;
mod reseal_cmd;
mod seal_cmd;
mod unseal_cmd;

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use args::{Cli, ColorChoice, Command, CompletionsArgs, Shell};
use exit::{CliError, Outcome};

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            return exit::finish(Err(usage_error(&e.render().to_string())));
        }
    };
    exit::finish(run(cli))
}

/// Folds clap's multi-line usage error into the one-line `error:` + `help:` form every other
/// error has: indented detail lines (e.g. the missing `--from <FILE>`) join the message, the
/// possible values or the usage line become the hint.
fn usage_error(rendered: &str) -> CliError {
    let mut lines = rendered.lines();
    let mut message = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned();
    let mut hint = None;
    for l in lines {
        let t = l.trim();
        if let Some(v) = t
            .strip_prefix("[possible values: ")
            .and_then(|v| v.strip_suffix(']'))
        {
            hint = Some(format!("possible values: {v}"));
        } else if let Some(u) = t.strip_prefix("Usage: ") {
            hint.get_or_insert_with(|| format!("usage: {u}"));
        } else if let Some(tip) = t.strip_prefix("tip: ") {
            // Several tips (a similar command; how to seal an environment of that name) share
            // the one help line.
            match &mut hint {
                Some(h) if !h.starts_with("usage: ") => {
                    h.push_str("; ");
                    h.push_str(tip);
                }
                _ => hint = Some(tip.to_owned()),
            }
        } else if !t.is_empty() && l.starts_with("  ") && hint.is_none() {
            message.push(' ');
            message.push_str(t);
        }
    }
    CliError::new(message).with_hint(hint.unwrap_or_else(|| "see --help".to_owned()))
}

/// What every command needs from the global options.
pub(crate) struct Ctx {
    repo: Option<PathBuf>,
    /// Only errors on stderr.
    pub(crate) quiet: bool,
    /// Colour stdout.
    pub(crate) color: bool,
}

impl Ctx {
    /// The repository root: `--repo`, else found from the current directory.
    pub(crate) fn root(&self) -> Result<PathBuf, CliError> {
        let start = match &self.repo {
            Some(p) => p.clone(),
            None => std::env::current_dir()
                .map_err(|e| CliError::new(format!("cannot read the current directory: {e}")))?,
        };
        let start = std::fs::canonicalize(&start).map_err(|e| {
            CliError::new(format!("{}: {e}", start.display()))
                .with_hint("pass the repository root with -C DIR")
        })?;
        let root = crate::workspace::find_repo_root(&start).ok_or_else(|| {
            CliError::new(format!(
                "{} is not inside a repository (no .git, emp-seal.toml or k8s/overlays above it)",
                start.display()
            ))
            .with_hint("run inside the repository or pass it with -C DIR")
        })?;
        // A config file that cannot be used stops every command before it reads anything.
        crate::workspace::load_cached(&root).map_err(|e| {
            CliError::new(e.to_string())
                .with_hint("fix the config file (its keys are listed in docs/check.md)")
        })?;
        Ok(root)
    }
}

fn run(cli: Cli) -> Result<Outcome, CliError> {
    let (global, command) = cli.into_parts();
    let Some(command) = command else {
        return Err(CliError::new("no command given").with_hint("see --help"));
    };
    let color = match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal()
        }
    };
    let ctx = Ctx {
        repo: global.repo,
        quiet: global.quiet,
        color,
    };
    match command {
        Command::Seal(a) if a.migrate => migrate_cmd::run(&ctx, a),
        Command::Seal(a) => seal_cmd::run(&ctx, a),
        Command::Check(a) => check_cmd::run(&ctx, a),
        Command::Cert(a) => cert_cmd::run(&ctx, &a),
        Command::Unseal(a) => unseal_cmd::run(&ctx, &a),
        Command::Diff(a) => diff_cmd::run(&ctx, &a),
        Command::Init(a) => init_cmd::run(&ctx, &a),
        Command::Completions(a) => completions(&a),
        Command::Man(a) => man_cmd::run(&ctx, &a),
        Command::Reseal(a) => reseal_cmd::run(&ctx, a),
        Command::Config(a) => config_cmd::run(&ctx, &a),
    }
}

/// Hidden-input prompts on the terminal (`prompt::read_hidden`), one per key, used by `seal`,
/// `--migrate` and `init`. Prompting happens only when allowed and both stdin and stderr are
/// terminals. The end of input (Ctrl-D) aborts the run; an empty answer is asked again unless
/// the command gives it a meaning (`init` keeps the example's value).
pub(crate) struct TtyPrompter {
    enabled: bool,
    note: &'static str,
    empty_ok: bool,
}

impl TtyPrompter {
    /// `allowed` is false for `--no-input`; `note` is appended to every prompt.
    pub(crate) fn new(allowed: bool, note: &'static str) -> TtyPrompter {
        TtyPrompter {
            enabled: allowed && io::stdin().is_terminal() && io::stderr().is_terminal(),
            note,
            empty_ok: true,
        }
    }

    /// Asks again on an empty answer: a value is required.
    pub(crate) fn requiring_values(mut self) -> TtyPrompter {
        self.empty_ok = false;
        self
    }
}

impl crate::seal::Prompter for TtyPrompter {
    fn can_prompt(&self) -> bool {
        self.enabled
    }

    fn ask(
        &mut self,
        env: &str,
        key: &str,
    ) -> Result<crate::secret::SecretValue, crate::seal::SealError> {
        use crate::seal::SealError;
        let question = format!("{env}: value for {key}{}: ", self.note);
        loop {
            let answer = prompt::read_hidden(&question).map_err(|e| SealError::Prompt {
                key: key.to_owned(),
                reason: e.to_string(),
            })?;
            match answer {
                prompt::Answer::Eof => {
                    return Err(SealError::PromptEnded {
                        key: key.to_owned(),
                    });
                }
                prompt::Answer::Pasted => {
                    say!(
                        "{env}: that answer ran over several lines (a paste?) and was discarded: a value is one line, as in an env file; enter `{key}` again (Ctrl-D abandons the run, writing nothing)"
                    );
                }
                prompt::Answer::Line(v) if is_blank(&v) && !self.empty_ok => {
                    say!("{env}: `{key}` needs a value (Ctrl-D abandons the run, writing nothing)");
                }
                // A blank answer is no answer: where an empty one has a meaning (`init` keeps
                // the example's value), a blank one has the same.
                prompt::Answer::Line(v) if is_blank(&v) => {
                    return Ok(crate::secret::SecretValue::from_slice(&[]));
                }
                prompt::Answer::Line(v) => {
                    if v.first().is_some_and(u8::is_ascii_whitespace)
                        || v.last().is_some_and(u8::is_ascii_whitespace)
                    {
                        say!(
                            "{env}: warning: the value for `{key}` begins or ends with whitespace, kept as typed"
                        );
                    }
                    return Ok(crate::secret::SecretValue::from_slice(&v));
                }
            }
        }
    }
}

/// Whether a prompted answer holds nothing but spaces and tabs (or nothing at all).
fn is_blank(answer: &[u8]) -> bool {
    answer.iter().all(|b| matches!(b, b' ' | b'\t'))
}

/// The environment names `envs` (names or overlay paths) stand for. One named twice (`seal
/// paper paper`, or by a name and its path) is clap's usage error, never sealed once in silence.
pub(crate) fn env_names(root: &Path, envs: &[String]) -> Result<Vec<String>, CliError> {
    let mut names = Vec::new();
    for typed in envs {
        let name = crate::workspace::env_name(root, typed);
        if names.contains(&name) {
            let msg =
                format!("the argument '<ENV>...' names the environment '{name}' twice ('{typed}')");
            let e = <Cli as clap::CommandFactory>::command()
                .error(clap::error::ErrorKind::ArgumentConflict, msg);
            return Err(usage_error(&e.render().to_string()));
        }
        names.push(name);
    }
    Ok(names)
}

/// An `ENV|FILE` argument (`cert`, `unseal`): an existing file is that file, a path from the
/// working directory as typed; an environment is named through [`crate::workspace::resolve_typed`]
/// as every command's environment argument is (so `.` typed in an overlay directory is that
/// overlay, not the root's environment); a directory that is none by its path from the root
/// ([`crate::workspace::env_name`]), to be reported as no environment; anything else (a file to
/// write, an unknown name) as typed.
pub(crate) fn env_or_file(root: &Path, arg: &str) -> String {
    let p = Path::new(arg);
    if p.is_file() {
        return arg.to_owned();
    }
    match crate::workspace::resolve_typed(root, arg) {
        Some(e) => e.name,
        None if p.is_dir() => crate::workspace::env_name(root, arg),
        None => arg.to_owned(),
    }
}

/// Seconds since the Unix epoch (certificate expiry checks).
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Writes to stdout; a closed pipe (e.g. `emp-seal check | head`) is not an error.
pub(crate) fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::new(format!("cannot write to stdout: {e}"))),
    }
}

fn completions(a: &CompletionsArgs) -> Result<Outcome, CliError> {
    use clap_complete::{Shell as S, generate};
    let shell = match a.shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Powershell => S::PowerShell,
    };
    let mut buf = Vec::new();
    generate(
        shell,
        &mut args::Documented::command(),
        "emp-seal",
        &mut buf,
    );
    write_stdout(&buf)?;
    Ok(Outcome::Clean)
}
