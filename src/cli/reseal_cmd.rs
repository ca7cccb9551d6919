//! `emp-seal reseal ENV... --key KEY...`: re-encrypt every value to each environment's current
//! certificate, offline. Prints key names and certificate fingerprints, never a value.

use std::io::Write;

use crate::reseal::{self, ResealPlan, ResealRequest};
use crate::workspace::rel;

use super::args::ResealArgs;
use super::exit::{CliError, Outcome};
use super::{Ctx, write_stdout};

pub(super) fn run(ctx: &Ctx, a: ResealArgs) -> Result<Outcome, CliError> {
    let root = ctx.root()?;
    let req = ResealRequest {
        envs: super::env_names(&root, &a.envs)?,
        root: root.clone(),
        key_files: a.keys,
        skip_unopened: a.skip_unopened,
        now: super::now(),
        name: a.name,
    };
    let plans = if a.dry_run {
        reseal::plan(&req)?
    } else {
        reseal::reseal(&req)?
    };
    // The certificate warnings and notes `seal` prints, once per environment resealed.
    for p in &plans {
        super::seal_cmd::cert_notes(ctx, &root, &p.plan.env, &p.plan.cert);
    }
    if a.dry_run {
        let out: String = plans.iter().map(|p| summary(&root, p, true)).collect();
        write_stdout(out.as_bytes())?;
    } else if !ctx.quiet {
        let mut err = std::io::stderr().lock();
        for p in &plans {
            let _ = err.write_all(summary(&root, p, false).as_bytes());
        }
    }
    Ok(Outcome::Clean)
}

fn summary(root: &std::path::Path, p: &ResealPlan, dry_run: bool) -> String {
    let e = &p.plan;
    let mut out = format!(
        "{env}: {verb} {target}\n  old cert sha256 {old}\n  new cert sha256 {new} ({cert}, {bits}-bit, expires {exp})\n  scope    {ident}\n",
        env = e.env,
        verb = super::seal_cmd::written_verb(e, dry_run, false),
        target = super::seal_cmd::written(root, &e.target, dry_run),
        old = p.old_cert.as_deref().unwrap_or("(not recorded)"),
        new = e.cert.sha256,
        cert = rel(root, &e.cert.path),
        bits = e.cert.key_bits,
        exp = crate::cert::rfc3339(e.cert.not_after),
        ident = crate::seal::describe_identity(e.scope, &e.identity),
    );
    let line = super::seal_cmd::keys_line;
    out.push_str(&format!("  resealed {} key(s)\n", p.resealed.len()));
    out.push_str(&line("resealed", &p.resealed));
    out.push_str(&line("current", &p.current));
    let skipped: Vec<String> = p.skipped.iter().map(|u| u.key.clone()).collect();
    out.push_str(&line("skipped", &skipped));
    if p.skipped.iter().any(|u| !u.placeholder) {
        out.push_str(
            "  note     skipped keys stay sealed as they were; the file keeps its old emp-seal.dev/* records\n",
        );
    }
    out
}
