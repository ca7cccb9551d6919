//! `emp-seal init ENV`: create the untracked env files the overlay's Secret generators read from
//! their examples, asking each value with hidden input on a terminal (`--no-input` keeps the
//! examples' values).

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
        report(&root, &env, a.force, &done);
    }
    Ok(Outcome::Clean)
}

/// Says what `init` did: each file created, each left as it was, each `files:` source it
/// cannot create, and that there was nothing to do when it created none.
fn report(root: &std::path::Path, env: &str, force: bool, done: &init::InitOutcome) {
    for c in &done.created {
        say!(
            "{}: created from {} ({} typed, {} from the example)",
            rel(root, &c.file),
            rel(root, &c.example),
            c.asked.len(),
            c.kept.len()
        );
        if !c.kept.is_empty() {
            say!(
                "note: {} kept the example's value; edit the file before using real services",
                c.kept.join(", ")
            );
        }
        if root.join(".git").exists() && !git_ignored(root, &c.file) {
            say!(
                "warning: {} is not ignored by git; add it to .gitignore so it is never committed",
                rel(root, &c.file)
            );
        }
    }
    for f in &done.existing {
        let why = if force {
            "it has no example to replace it from"
        } else {
            "--force replaces it from its example"
        };
        say!("{}: exists; left as it is ({why})", rel(root, f));
    }
    for f in &done.missing_files {
        say!(
            "warning: {} (a `files:` source of the Secret) does not exist and init does not create it; kustomize fails to build until it does",
            rel(root, &root.join(f))
        );
    }
    if done.created.is_empty() {
        say!("{env}: nothing to do: every env file its Secret generators read exists");
    }
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
