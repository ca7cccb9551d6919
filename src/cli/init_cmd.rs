//! `emp-seal init ENV`: create the untracked env files the overlay's Secret generators read from
//! their examples, asking each value with hidden input on a terminal (`--no-input` keeps the
//! examples' values).

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};

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

/// Says what `init` did: each file created (or replaced, with `--force`), each left as it was, each `files:` source it
/// cannot create, and that there was nothing to do when it created none.
fn report(root: &Path, env: &str, force: bool, done: &init::InitOutcome) {
    let not_ignored = not_ignored(root, &done.created);
    for c in &done.created {
        say!(
            "{}: {} from {} ({} typed, {} from the example)",
            rel(root, &c.file),
            if c.replaced { "replaced" } else { "created" },
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
        if not_ignored.contains(&c.in_repository.as_path()) {
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

/// The files of `created` git does not ignore, by [`init::Created::in_repository`], asked of one
/// `git check-ignore --stdin -z`; none when git cannot answer (no git, or exit 128 outside a
/// repository): nothing to warn about then. A root below the repository's top level (a
/// monorepo's `services/api`) has no `.git` of its own: git finds the repository above it. The
/// paths go through standard input because git takes `-z` (names compared byte for byte, none
/// quoted) only with `--stdin` (git `builtin/check-ignore.c`).
fn not_ignored<'c>(root: &Path, created: &'c [init::Created]) -> Vec<&'c Path> {
    let paths = created.iter().map(|c| c.in_repository.as_path());
    if created.is_empty() {
        return Vec::new();
    }
    let child = (Command::new("git").args([OsStr::new("-C"), root.as_os_str()]))
        .args(["check-ignore", "--stdin", "-z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return Vec::new();
    };
    let input: Vec<u8> = (paths.clone())
        .flat_map(|p| [p.as_os_str().as_bytes(), b"\0"].concat())
        .collect();
    let mut stdin = child.stdin.take();
    // Written beside the reading, so that neither side waits on a full pipe.
    let writer = std::thread::spawn(move || stdin.as_mut().map(|s| s.write_all(&input)));
    let out = child.wait_with_output();
    match (out, writer.join()) {
        // Exit 0: those listed are ignored; 1: none is; any other: git could not answer.
        (Ok(o), Ok(Some(Ok(())))) if matches!(o.status.code(), Some(0 | 1)) => {
            let ignored: Vec<&[u8]> = o.stdout.split(|b| *b == 0).collect();
            let ignored = |p: &Path| ignored.contains(&p.as_os_str().as_bytes());
            paths.filter(|p| !ignored(p)).collect()
        }
        _ => Vec::new(),
    }
}
