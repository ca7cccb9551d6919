//! `emp-seal init ENV`: create the overlay's untracked env file from its example, asking each
//! value with hidden input on a terminal (`--no-input` keeps the example's values).

use crate::init;
use crate::workspace::rel;

use super::args::InitArgs;
use super::exit::{CliError, Outcome};
use super::{Ctx, TtyPrompter};

pub(super) fn run(ctx: &Ctx, a: &InitArgs) -> Result<Outcome, CliError> {
    let root = ctx.root()?;
    let mut prompter = TtyPrompter::new(true, " (empty keeps the example's value)");
    // `.` typed in an overlay directory is that overlay, as for `seal` and `check --release`.
    let env = crate::workspace::env_name(&root, &a.env);
    let done = init::init(&root, &env, a.force, a.no_input, &mut prompter)?;
    if !ctx.quiet {
        say!(
            "{}: created from {} ({} typed, {} from the example)",
            rel(&root, &done.file),
            rel(&root, &done.example),
            done.asked.len(),
            done.kept.len()
        );
        if !done.kept.is_empty() {
            say!(
                "note: {} kept the example's value; edit the file before using real services",
                done.kept.join(", ")
            );
        }
        if root.join(".git").exists() && !git_ignored(&root, &done.file) {
            say!(
                "warning: {} is not ignored by git; add it to .gitignore so it is never committed",
                rel(&root, &done.file)
            );
        }
    }
    Ok(Outcome::Clean)
}

/// `git check-ignore`; true when git is unavailable (nothing to warn about then).
fn git_ignored(root: &std::path::Path, file: &std::path::Path) -> bool {
    std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["check-ignore", "-q", "--"])
        .arg(file)
        .status()
        .map_or(true, |s| s.code() != Some(1))
}
