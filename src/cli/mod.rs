//! The command-line front end: argument parsing (`args`), running commands (`run`), terminal
//! interaction (`term`) and the exit-code mapping (`exit`). The only module that prints, prompts
//! or uses clap.
#![allow(clippy::print_stdout, clippy::print_stderr)]

pub mod args;
pub mod exit;
mod run;

use std::process::ExitCode;

use clap::Parser;

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let argv = args::normalize(std::env::args_os().collect());
    let cli = match args::Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    exit::finish(run::run(cli))
}
