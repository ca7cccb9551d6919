//! `emp-seal man [--dir DIR]`: the manual. Without `--dir`, one page on stdout that documents
//! the program and then every subcommand with all its options; with `--dir`, one page per
//! command (`emp-seal.1`, `emp-seal-seal.1`, ...), the layout `man -l` and packagers expect.

use std::path::Path;

use clap::CommandFactory;

use super::args::{Documented, ManArgs};
use super::exit::{CliError, Outcome};
use super::{Ctx, write_stdout};

/// The full command tree, built (subcommands know their `emp-seal-<name>` display names), without
/// clap's `help` subcommand, which has no options of its own to document.
fn command() -> clap::Command {
    let mut cmd = Documented::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

fn visible_subcommands(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands().filter(|s| !s.is_hide_set())
}

fn render_err(e: &std::io::Error) -> CliError {
    CliError::new(format!("cannot render the man page: {e}"))
}

/// One section per subcommand, appended to the top page: the subcommand's own synopsis,
/// description and options, with its page's section headings demoted to subsections.
fn subcommand_sections(cmd: &clap::Command) -> Result<Vec<u8>, CliError> {
    let mut out = Vec::new();
    for sub in visible_subcommands(cmd) {
        let name = sub
            .get_display_name()
            .unwrap_or_else(|| sub.get_name())
            .replace('-', " ");
        out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        let man = clap_mangen::Man::new(sub.clone());
        let mut body = Vec::new();
        man.render_synopsis_section(&mut body)
            .and_then(|()| man.render_description_section(&mut body))
            .and_then(|()| man.render_options_section(&mut body))
            .map_err(|e| render_err(&e))?;
        for line in String::from_utf8_lossy(&body).lines() {
            let line = line
                .strip_prefix(".SH ")
                .map_or_else(|| line.to_owned(), |heading| format!(".SS {heading}"));
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
    }
    Ok(out)
}

/// Every page of the per-command layout: (file name, roff).
fn pages(cmd: &clap::Command) -> Result<Vec<(String, Vec<u8>)>, CliError> {
    let mut out = Vec::new();
    let mut stack = vec![cmd.clone()];
    while let Some(c) = stack.pop() {
        stack.extend(visible_subcommands(&c).cloned());
        let man = clap_mangen::Man::new(c);
        let mut buf = Vec::new();
        man.render(&mut buf).map_err(|e| render_err(&e))?;
        out.push((man.get_filename(), buf));
    }
    out.sort();
    Ok(out)
}

fn write_pages(ctx: &Ctx, dir: &Path) -> Result<(), CliError> {
    if !dir.is_dir() {
        return Err(CliError::new(format!("{}: not a directory", dir.display()))
            .with_hint("create it first (mkdir -p DIR)"));
    }
    for (name, roff) in pages(&command())? {
        let path = dir.join(&name);
        crate::fsio::atomic_write(&path, &roff).map_err(crate::seal::SealError::from)?;
        if !ctx.quiet {
            say!("wrote {}", path.display());
        }
    }
    Ok(())
}

pub(super) fn run(ctx: &Ctx, a: &ManArgs) -> Result<Outcome, CliError> {
    if let Some(dir) = &a.dir {
        write_pages(ctx, dir)?;
        return Ok(Outcome::Clean);
    }
    let cmd = command();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .map_err(|e| render_err(&e))?;
    buf.extend(subcommand_sections(&cmd)?);
    write_stdout(&buf)?;
    Ok(Outcome::Clean)
}
