//! The one place that maps outcomes to exit codes and prints errors with their `help:` hints.
//!
//! 0 clean, 1 findings at or above the failing severity, 2 usage or configuration error.
//! A broken pipe on stdout is not an error.

use std::io::{self, Write};
use std::process::ExitCode;

/// What a command ended with.
#[derive(Debug)]
pub enum Outcome {
    /// Nothing to report.
    Clean,
    /// Findings at or above the failing severity.
    Findings,
}

/// A command-line error: one line naming the file/line and the problem, and an optional hint.
/// Never carries a secret value.
#[derive(Debug)]
pub struct CliError {
    /// One line, lowercase, naming what and where.
    pub message: String,
    pub hint: Option<String>,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Every use-case error reaches the CLI through [`crate::Error`], whose `hint()` is the one
/// place hints are chosen.
impl<E: Into<crate::Error>> From<E> for CliError {
    fn from(e: E) -> Self {
        let e = e.into();
        CliError {
            hint: e.hint(),
            message: e.to_string(),
        }
    }
}

/// Turns a command result into the process exit code, printing errors on stderr.
pub fn finish(result: Result<Outcome, CliError>) -> ExitCode {
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) => {
            let mut err = io::stderr().lock();
            let _ = writeln!(err, "error: {}", e.message);
            if let Some(h) = e.hint {
                let _ = writeln!(err, "help: {h}");
            }
            ExitCode::from(2)
        }
    }
}
