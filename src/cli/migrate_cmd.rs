//! `emp-seal seal ENV --from FILE --migrate`: move an overlay from a SecretGenerator to a
//! SealedSecret (writes sealedsecret.yaml and rewrites the overlay's kustomization).

use crate::migrate::{self, GeneratorSite, MigratePlan};
use crate::seal;
use crate::workspace::rel;

use super::args::SealArgs;
use super::exit::{CliError, Outcome};
use super::{Ctx, TtyPrompter, write_stdout};

pub(super) fn run(ctx: &Ctx, a: SealArgs) -> Result<Outcome, CliError> {
    let root = ctx.root()?;
    check_options(&a)?;
    let from = super::seal_cmd::resolve_from(ctx, &root, &a.from, &a.envs)?;
    let (dry_run, keep_name, no_input) = (a.dry_run, a.keep_name, a.no_input);
    let req = super::seal_cmd::request(&root, from, a)?;
    let env = &req.envs[0];
    // Writers of one overlay serialise (fsio::lock_for_write on the overlay directory, which
    // holds both files --migrate writes); the plan then reads them under the lock.
    let _lock = if dry_run {
        None
    } else {
        let dir = crate::workspace::overlay_dir(&root, env)?;
        Some(
            crate::fsio::lock_for_write(&[dir.join(migrate::SEALED_FILE)])
                .map_err(seal::SealError::from)?,
        )
    };
    let mut prompter = TtyPrompter::new(!no_input, "").requiring_values();
    let plan = migrate::plan(&req, env, keep_name, &mut prompter)?;
    super::seal_cmd::cert_notes(ctx, &root, &plan.env, &plan.cert);
    let ident = seal::describe_identity(plan.scope, &plan.identity);
    note_literals(ctx, &plan);
    if plan.immutable && !ctx.quiet {
        say!(
            "note: {}: the generator made an immutable Secret, and the SealedSecret keeps `immutable: true` in its template (sealed-secrets controllers after v0.24.5 honour it): Kubernetes refuses to change an immutable Secret's data, so a later re-seal takes effect only after the Secret is deleted in the cluster",
            plan.env
        );
    }
    let (drop, dropped) = match &plan.generator {
        GeneratorSite::File(p) => (
            format!("drop {} from generators", rel(&root, p)),
            format!("{} no longer listed", rel(&root, p)),
        ),
        GeneratorSite::Inline(name) => (
            format!("drop secretGenerator `{name}`"),
            format!("secretGenerator `{name}` removed"),
        ),
    };
    if dry_run {
        let out = format!(
            "{env} ({ident}): would create {ss} with {keys}\n  and edit {k}: {drop}, add {ssn} to resources\n",
            env = plan.env,
            ss = rel(&root, &plan.sealed_path),
            keys = plan.keys.join(", "),
            k = rel(&root, &plan.kustomization_path),
            ssn = migrate::SEALED_FILE,
        );
        write_stdout(out.as_bytes())?;
        return Ok(Outcome::Clean);
    }
    migrate::commit(&plan)?;
    if !ctx.quiet {
        say!(
            "{env}: wrote {ss} ({ident}, {n} key(s): {keys})\n  cert     {cert} (sha256 {fp})\n  edited   {k}: {dropped}, {ssn} added to resources",
            env = plan.env,
            ss = rel(&root, &plan.sealed_path),
            n = plan.keys.len(),
            keys = plan.keys.join(", "),
            cert = rel(&root, &plan.cert.path),
            fp = plan.cert.sha256,
            k = rel(&root, &plan.kustomization_path),
            ssn = migrate::SEALED_FILE,
        );
        note_files_left(&root, &plan);
    }
    Ok(Outcome::Clean)
}

/// The seal options --migrate does not take: refused rather than ignored.
fn check_options(a: &SealArgs) -> Result<(), CliError> {
    if a.envs.len() != 1 {
        return Err(CliError::new(format!(
            "--migrate moves one environment at a time, but {} were given",
            a.envs.len()
        )));
    }
    // --strict is not silently ignored: --migrate does not report env-file warnings yet.
    let refused = [
        (!a.only.is_empty(), "--only"),
        (a.prune, "--prune"),
        (a.strict, "--strict"),
        (!a.keys.is_empty(), "--key"),
        (a.stdout, "--stdout"),
        (a.rescope, "--rescope"),
        (a.force, "--force"),
        (a.name.is_some(), "--name"),
    ];
    let Some((_, what)) = refused.iter().find(|(given, _)| *given) else {
        return Ok(());
    };
    Err(
        CliError::new(format!("--migrate cannot be combined with {what}"))
            .with_hint("migrate first, then seal with the usual options"),
    )
}

/// The values that came from `literals:`, which were committed in plaintext. (References a
/// migration would leave dangling are refused in `migrate::plan`, before anything is sealed.)
fn note_literals(ctx: &Ctx, plan: &MigratePlan) {
    if !plan.from_literals.is_empty() && !ctx.quiet {
        say!(
            "note: {}: {} sealed from the generator's literals:, which are committed in plaintext (and stay in git history): rotate them",
            plan.env,
            plan.from_literals.join(", "),
        );
    }
}

/// What the migration left on disk: a generator file no longer listed, the env files it read.
fn note_files_left(root: &std::path::Path, plan: &MigratePlan) {
    let envs: Vec<String> = plan.generator_envs.iter().map(|p| rel(root, p)).collect();
    match &plan.generator {
        GeneratorSite::File(p) => say!(
            "note: {} is left on disk but unused; delete it (git rm) when the change is merged{}",
            rel(root, p),
            if envs.is_empty() {
                String::new()
            } else {
                format!(", and keep {} only where you seal", envs.join(", "))
            }
        ),
        GeneratorSite::Inline(_) if !envs.is_empty() => say!(
            "note: the overlay no longer reads {}; keep it only where you seal",
            envs.join(", ")
        ),
        GeneratorSite::Inline(_) => {}
    }
}
