//! `emp-seal check [PATH...]`: runs [`crate::check`] and renders its report in the chosen
//! format. Exit codes: 0 clean, 1 findings at or above error (0 with `--exit-zero`), 2 usage or
//! configuration errors (from [`crate::check::CheckError`]).

use crate::check::{self, CheckOptions};
use crate::finding::Severity;
use crate::render::RenderMode;
use crate::report::{self, Format, RenderOptions};

use super::args::{CheckArgs, CheckFormat, RenderWhen};
use super::exit::{CliError, Outcome};
use super::{Ctx, now, write_stdout};

pub(super) fn run(ctx: &Ctx, a: CheckArgs) -> Result<Outcome, CliError> {
    let root = ctx.root()?;
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::new(format!("cannot read the current directory: {e}")))?;
    let opts = CheckOptions {
        root,
        paths: a.paths,
        cwd,
        // An empty value is refused by `check::run`, never read as "no release gate".
        release: a.release,
        rules: a.rules,
        now: now(),
        render: match a.render {
            RenderWhen::Auto => RenderMode::Auto,
            RenderWhen::Always => RenderMode::Always,
            RenderWhen::Never => RenderMode::Never,
        },
        allow_runtime_secrets: a.allow_runtime_secrets,
    };
    let outcome = check::run(&opts)?;
    // Statements of what was not verified, printed even under `-q`: without them a quiet clean
    // run would read as "verified clean" (docs/check.md, "When the gate cannot look"). The
    // json, sarif and github formats carry them in the report too.
    for note in &outcome.notes {
        say!("note: {}", report::text::escape(&note.message));
    }
    let format = match a.format {
        CheckFormat::Text => Format::Text,
        CheckFormat::Json => Format::Json,
        CheckFormat::Sarif => Format::Sarif,
        CheckFormat::Github => Format::Github,
    };
    let options = RenderOptions {
        color: ctx.color && format == Format::Text,
        show_suppressed: a.show_suppressed,
    };
    let mut buf = Vec::new();
    report::render(format, &outcome, &mut buf, &options)
        .map_err(|e| CliError::new(format!("cannot render the report: {e}")))?;
    write_stdout(&buf)?;
    if a.exit_zero || outcome.exit_code(Severity::Error) == 0 {
        Ok(Outcome::Clean)
    } else {
        Ok(Outcome::Findings)
    }
}
