//! Runs a parsed command line. Each command validates its arguments into library calls and
//! renders the results; the library does the work.

use std::io::{self, Write};

use clap::CommandFactory;

use super::args::{Cli, Command, CompletionsArgs, Shell};
use super::exit::{CliError, Outcome, is_broken_pipe};

/// Dispatches one command.
pub(super) fn run(cli: Cli) -> Result<Outcome, CliError> {
    match cli.command {
        Command::Completions(a) => completions(&a),
        Command::Man => man(),
        _ => Err(CliError::new("command not wired yet")),
    }
}

fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if is_broken_pipe(&e) => Ok(()),
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
    generate(shell, &mut Cli::command(), "emp-seal", &mut buf);
    write_stdout(&buf)?;
    Ok(Outcome::Clean)
}

fn man() -> Result<Outcome, CliError> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .map_err(|e| CliError::new(format!("cannot render the man page: {e}")))?;
    write_stdout(&buf)?;
    Ok(Outcome::Clean)
}
