//! `emp-seal seal ENV... --from FILE`: the main job. Validates arguments into a
//! [`SealRequest`], plans every environment, then writes all files (or prints, or lists).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::crypto::Scope;
use crate::seal::{self, EnvPlan, SealRequest};
use crate::workspace::{from_display, rel};

use super::args::SealArgs;
use super::exit::{CliError, Outcome};
use super::{Ctx, TtyPrompter, write_stdout};

pub(super) fn run(ctx: &Ctx, a: SealArgs) -> Result<Outcome, CliError> {
    if a.force && !a.prune {
        return Err(CliError::new(
            "--force only lifts --prune's refusals (an empty secret, keys the workloads read); without --prune it does nothing",
        )
        .with_hint("add --prune, or leave --force out"));
    }
    let root = ctx.root()?;
    let from = resolve_from(ctx, &root, &a.from, &a.envs)?;
    let (dry_run, to_stdout, no_input) = (a.dry_run, a.stdout, a.no_input);
    let req = request(&root, from, a)?;
    let mut tty = TtyPrompter::new(!no_input, "").requiring_values();
    let mut prompter = seal::RememberingPrompter::new(&mut tty);
    let inputs = seal::load_inputs(&req)?;
    let plans = seal::plan_with(&req, &inputs, &mut prompter)?;

    print_env_warnings(&root, &req.from, &plans);
    for p in &plans {
        print_plan_warnings(ctx, &root, p);
    }

    if dry_run {
        let out: String = plans.iter().map(|p| dry_run_listing(&root, p)).collect();
        write_stdout(out.as_bytes())?;
        return Ok(Outcome::Clean);
    }
    let plans = if to_stdout {
        write_stdout(stdout_text(&root, &plans).as_bytes())?;
        plans
    } else {
        let replan = || seal::plan_with(&req, &inputs, &mut prompter);
        seal::commit_locked(plans, |p| p, replan)?
    };
    if !ctx.quiet {
        let mut err = std::io::stderr().lock();
        for p in &plans {
            let _ = err.write_all(summary(&root, p, to_stdout).as_bytes());
        }
    }
    Ok(Outcome::Clean)
}

/// What `--stdout` prints: the new file; with several environments, each file after a `---`
/// line and a comment naming it, so that the output is one YAML stream holding the documents of
/// every file (two files put end to end would read as one document, or not parse).
fn stdout_text(root: &Path, plans: &[EnvPlan]) -> String {
    if let [one] = plans {
        return one.new_text.clone();
    }
    let mut out = String::new();
    for p in plans {
        out.push_str(&format!("---\n# {}\n", rel(root, &p.target)));
        out.push_str(&p.new_text);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// `--from` as given, or the overlay file a bare name was found as (said on stderr).
pub(super) fn resolve_from(
    ctx: &Ctx,
    root: &Path,
    from: &Path,
    envs: &[String],
) -> Result<PathBuf, CliError> {
    let (from, looked_up) = crate::workspace::resolve_from(root, from, envs)?;
    if looked_up && !ctx.quiet {
        say!("using {}", rel(root, &from));
    }
    Ok(from)
}

/// `--only`'s keys, each once, in the order first given (`--only A,A` seals `A`).
fn distinct_keys(keys: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    keys.into_iter()
        .filter(|k| seen.insert(k.clone()))
        .collect()
}

/// The validated arguments as a [`SealRequest`] for the env file `from`.
pub(super) fn request(root: &Path, from: PathBuf, a: SealArgs) -> Result<SealRequest, CliError> {
    Ok(SealRequest {
        envs: super::env_names(root, &a.envs)?,
        root: root.to_path_buf(),
        from,
        cert: a.cert,
        scope: a.scope.map(Scope::from),
        rescope: a.rescope,
        only: distinct_keys(a.only),
        prune: a.prune,
        force: a.force,
        strict: a.strict,
        key_files: a.keys,
        now: super::now(),
        name: a.name,
        keep_old_records: false,
    })
}

/// One environment's warnings and notes about its plan: pruned keys the workloads read, keys
/// the overlay does not know, and [`cert_notes`].
fn print_plan_warnings(ctx: &Ctx, root: &Path, p: &EnvPlan) {
    if !p.pruned_needed.is_empty() {
        say!(
            "warning: {}: --prune --force removes keys the workloads read: {}",
            p.env,
            seal::describe_lost(&p.pruned_needed)
        );
    }
    for k in &p.unknown {
        say!(
            "warning: {}: `{k}` is not a key the overlay knows (no example, sealed value or reference); sealing it anyway",
            p.env
        );
    }
    cert_notes(ctx, root, &p.env, &p.cert);
}

/// The certificate's expiry warning, a warning when its file also holds a private key, and a
/// note when it is the demo certificate.
pub(super) fn cert_notes(ctx: &Ctx, root: &Path, env: &str, cert: &seal::CertSummary) {
    let path = rel(root, &cert.path);
    if let Some(w) = &cert.expiry_warning {
        say!("warning: {env}: {path}: {w}");
    }
    if let Some(label) = &cert.private_key {
        say!("warning: {env}: {}", private_key_warning(&path, label));
    }
    if cert.demo && !ctx.quiet {
        say!(
            "note: {env}: sealing with the DEMO certificate {path}; replace it with your controller's (docs/certificates.md)"
        );
    }
}

/// What a `warning:` line says about a certificate file that also holds a private key (its
/// block's `label`, never its content): sealing uses only the certificate, but the file is
/// committed.
pub(super) fn private_key_warning(path: &str, label: &str) -> String {
    format!(
        "{path}: the certificate file also holds a private key (a `{label}` block); remove it from the file and rotate the controller's key: anyone who can read the file can decrypt what is sealed with it (docs/certificates.md)"
    )
}

/// The env file's warnings, once per run (every plan carries the same list): line and key,
/// never a value.
fn print_env_warnings(root: &Path, from: &Path, plans: &[EnvPlan]) {
    let Some(p) = plans.first() else { return };
    let file = from_display(root, from);
    for w in &p.env_warnings {
        let key = w
            .key
            .as_ref()
            .map(|k| format!("`{k}`: "))
            .unwrap_or_default();
        say!("warning: {file}:{}: {key}{} [{}]", w.line, w.what, w.id);
    }
}

/// `  label    KEY, KEY2` and a newline; nothing for no keys.
pub(super) fn keys_line(label: &str, keys: &[String]) -> String {
    if keys.is_empty() {
        String::new()
    } else {
        format!("  {label:<8} {}\n", keys.join(", "))
    }
}

fn dry_run_listing(root: &Path, p: &EnvPlan) -> String {
    format!(
        "{} ({}): {} {}\n{}",
        p.env,
        seal::describe_identity(p.scope, &p.identity),
        written_verb(p, true, false),
        rel(root, &p.target),
        key_lines(p, ["add", "seal", "change", "keep", "remove"]),
    )
}

/// [`keys_line`] for the added, filled, changed, kept and removed keys, under `labels`.
fn key_lines(p: &EnvPlan, labels: [&str; 5]) -> String {
    [&p.added, &p.filled, &p.changed, &p.kept, &p.removed]
        .into_iter()
        .zip(labels)
        .map(|(keys, label)| keys_line(label, keys))
        .collect()
}

fn summary(root: &Path, p: &EnvPlan, to_stdout: bool) -> String {
    let sealed = p.added.len() + p.filled.len() + p.changed.len();
    format!(
        "{env}: {verb} {target}\n  cert     {cert} (sha256 {fp}, {bits}-bit, expires {exp})\n  scope    {ident}\n  sealed   {sealed} key(s)\n{keys}",
        env = p.env,
        verb = written_verb(p, false, to_stdout),
        target = written(root, &p.target, to_stdout),
        cert = rel(root, &p.cert.path),
        fp = p.cert.sha256,
        bits = p.cert.key_bits,
        exp = crate::cert::rfc3339(p.cert.not_after),
        ident = seal::describe_identity(p.scope, &p.identity),
        keys = key_lines(p, ["added", "sealed", "resealed", "kept", "removed"]),
    )
}

/// What the run did with the plan's file: printed it, wrote it, or left it as it was (its text
/// would not change: [`EnvPlan::unchanged`]); under `dry_run`, what the real run would do.
pub(super) fn written_verb(p: &EnvPlan, dry_run: bool, to_stdout: bool) -> &'static str {
    match (dry_run, to_stdout, p.unchanged()) {
        (true, _, true) => "would leave unchanged",
        (true, _, false) => "would rewrite",
        (false, true, _) => "printed",
        (false, false, true) => "left unchanged",
        (false, false, false) => "wrote",
    }
}

/// The file written for `target`, naming the symlink it was reached through when there is one:
/// the file's own, or a directory's on its way (`overlays/qa -> dev`, where kubectl kustomize
/// reads it through the link).
pub(super) fn written(root: &Path, target: &Path, to_stdout: bool) -> String {
    let real = crate::fsio::write_target(target);
    let dir_link = real
        .parent()
        .and_then(|d| crate::workspace::link_below(root, d));
    let in_real_dir = |link: PathBuf| {
        let dir = std::fs::canonicalize(real.parent()?).ok()?;
        let top = std::fs::canonicalize(root).ok()?;
        let file = dir.join(real.file_name()?);
        Some(format!(
            "{} (through the symlinked directory {})",
            rel(&top, &file),
            rel(root, &link)
        ))
    };
    if let Some(shown) = dir_link.filter(|_| !to_stdout).and_then(in_real_dir) {
        shown
    } else if to_stdout || real == target {
        rel(root, target)
    } else {
        format!(
            "{} (through the symlink {})",
            rel(root, &real),
            rel(root, target)
        )
    }
}
