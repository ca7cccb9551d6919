//! The `emp-seal check` use case: read the tree once, build the rules' [`Context`] (files with
//! their git status, every overlay's model and certificate, every env file's keys and lints),
//! run the rules and narrow the report to the requested paths or release environment.
//!
//! Owns which files make up "the tree" (the wanted files under the workspace's tree
//! directories and environment directories, paths given explicitly, and every file an
//! environment's build reads, whatever `ignore` says) and the repository's other YAML/JSON
//! files that the repository-wide rules read, their tracked status and ignores (from the
//! workspace's one `git ls-files` listing of the repository), and the release-gate scoping.
//! Refuses to check nothing: no overlay at all, or an empty release environment, is an error
//! (exit 2), while an overlay kustomize cannot build is loaded anyway and reported by the
//! rules, and a file that cannot be read is reported, not skipped. Must not print, decide exit
//! codes, write files, or keep env-file values: env files are parsed here into key names and
//! lints, and their text is handed to the rules with every non-comment line blanked.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;

use crate::cert::{CertError, Certificate};
use crate::envfile;
use crate::finding::{Note, Report, RuleScope, Severity, plural};
use crate::fsio;
use crate::keys;
use crate::kustomize::{self, Overlay};
use crate::rules::model::{
    CertModel, CertPlace, CertStatus, EnvFileModel, OverlayModel, TreeModel, Variant,
};
use crate::rules::{self, Context, GitMap, GitStatus, SourceFile};
use crate::workspace::{
    CertSource, MAX_FILE_BYTES, below, in_repository, is_key_file, is_manifest, list_files,
    path_str, rel, within,
};

/// Errors that stop a check before any rule runs (the CLI exits 2 on them).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// `--release ENV` names no overlay.
    #[error("unknown environment `{env}` (known: {known})")]
    UnknownEnv {
        env: String,
        /// The overlays that exist, comma-separated.
        known: String,
    },
    /// `--release PATH` names a kustomization directory that is no environment `check` checks
    /// (a shared base, a directory no discovery rule or config glob makes one).
    #[error(
        "`{env}` is the kustomization directory {dir}, which is no environment check gates (environments: {known})"
    )]
    NotAnEnvironment {
        env: String,
        /// The directory, repository-relative (`.` for the root).
        dir: String,
        known: String,
    },
    /// `--release ENV` names an environment below a config file this run does not read (it reads
    /// the root's only): the settings written for it would not apply to its release gate.
    #[error(transparent)]
    UnreadConfig(#[from] crate::workspace::UnreadConfig),
    /// `--release` (or `EMP_SEAL_RELEASE`) is set but empty: refused, so that an unset CI
    /// variable cannot switch the release gate off.
    #[error("the release environment is empty (--release \"\" or an empty EMP_SEAL_RELEASE)")]
    EmptyRelease,
    /// `--release`, and git refuses to list the repository the root is in: which files are
    /// committed is unknown, so a committed env file or a build input a clone lacks would pass.
    #[error(
        "git could not list the repository's files ({reason}): the release gate needs to know what is committed"
    )]
    GitRefused { reason: String },
    /// The repository has no environment at all: nothing would be checked.
    #[error("no overlays found: {looked}")]
    NoOverlays {
        /// Where discovery looked and what it saw.
        looked: String,
    },
    #[error(transparent)]
    Config(#[from] crate::workspace::ConfigError),
    /// `--rules` names an id no rule has.
    #[error("unknown rule id `{id}`")]
    UnknownRule { id: String },
    /// A path argument does not exist or is outside the repository.
    #[error("{path}: {reason}")]
    BadPath { path: String, reason: String },
    /// An overlay's kustomization cannot be read.
    #[error(transparent)]
    Overlay(#[from] kustomize::KustomizeError),
    /// `--render=always` cannot render.
    #[error(transparent)]
    Render(#[from] crate::render::RenderError),
    /// An overlay's sealing certificate is not a usable certificate.
    #[error("{file}: {source}")]
    Certificate {
        /// The certificate file, repo-relative.
        file: String,
        source: CertError,
    },
}

impl CheckError {
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            CheckError::UnknownEnv { .. } => {
                "pass an environment name or the path of its directory (`emp-seal config` lists them)"
            }
            CheckError::NotAnEnvironment { .. } => {
                "gate an environment (`emp-seal config` lists them), or make this directory one in emp-seal.toml: `environments` then lists every environment, this one and the others, for its globs replace discovery (docs/check.md)"
            }
            CheckError::UnreadConfig(e) => return Some(e.hint()),
            CheckError::GitRefused { .. } => {
                "fix what git says and run again (install git when it could not be run); for \"dubious ownership\" (a checkout made by another user, as in many CI containers), mark the directory safe: git config --global --add safe.directory DIR"
            }
            CheckError::EmptyRelease => {
                "name the environment to gate (--release paper), or unset EMP_SEAL_RELEASE"
            }
            CheckError::NoOverlays { .. } => {
                "run inside the repository or point at it with -C DIR; an environment is a kustomization directory under overlays/, one nothing else includes, or one an Argo CD Application or Flux Kustomization names, whose render holds a secret; or list them in emp-seal.toml (environments = [\"deploy/*/overlays/*\"], docs/check.md)"
            }
            CheckError::UnknownRule { .. } => "rule ids are listed in docs/rules.md",
            CheckError::BadPath { .. } => "pass files or directories inside the repository",
            CheckError::Overlay(e) => e.hint()?,
            CheckError::Certificate { source, .. } => source.hint()?,
            CheckError::Render(e) => e.hint()?,
            CheckError::Config(_) => "fix the config file (docs/check.md lists its keys)",
        };
        Some(hint.to_owned())
    }
}

/// What to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub root: PathBuf,
    /// Only report findings in these files or directories (absolute, or relative to `cwd`).
    pub paths: Vec<PathBuf>,
    /// The directory relative paths are resolved against.
    pub cwd: PathBuf,
    /// `--release ENV`.
    pub release: Option<String>,
    /// Only these rule ids (all when empty).
    pub rules: Vec<String>,
    /// Now, as Unix seconds (certificate expiry).
    pub now: u64,
    /// `--render`: compare the model with the real kustomize (docs/check.md).
    pub render: crate::render::RenderMode,
    /// `--allow-runtime-secret`: Secret names workloads create at run time (not dangling).
    pub allow_runtime_secrets: Vec<String>,
}

/// Runs the check: the findings, narrowed to the requested paths and release environment, and
/// the notes of what the run could not look at ([`Report::notes`]: no git, `--render=auto`
/// without a tool, deployed directories emp-seal does not model and Flux Kustomizations of other
/// artifacts it does not read (see [`crate::workspace::Workspace::notes`]), git submodules whose
/// files it did not read).
///
/// # Errors
/// [`CheckError`] for an unknown environment or rule, a bad path, an unreadable kustomization
/// or an unusable certificate.
pub fn run(opts: &CheckOptions) -> Result<Report, CheckError> {
    let root = &opts.root;
    let only = selected_rules(&opts.rules)?;
    let ws = crate::workspace::load_cached(root)?;
    usable_workspace(&ws)?;
    let release = release_env(&ws, opts.release.as_deref())?;
    let filters = resolve_paths(root, &opts.cwd, &opts.paths)?;
    let refused = git_refusal(root, release.is_some())?;

    let (rels, outside, listing) = tree_files(root, &ws, &filters);
    let (git, submodules) = listing.map_or((None, Vec::new()), |(map, s)| (Some(map), s));
    let (mut files, mut env_files) = read_files(
        root,
        (&rels, &outside, &BTreeSet::new()),
        git.as_ref(),
        ws.take_texts(),
    );
    let parsed = read_cache(root, &files);
    let config_file = ws.config_file.as_deref();
    let envs = (ws.envs.as_slice(), ws.take_builds());
    let overlay_models = load_overlays(root, envs, config_file, &files, &parsed)?;
    let parsed_elsewhere = parsed_elsewhere(root, &parsed);
    drop(parsed);
    let deployed: Vec<BTreeSet<String>> = (overlay_models.par_iter())
        .map(|o| deployed_files(root, &o.overlay))
        .collect();
    let manifests = manifest_files(root, &overlay_models);
    let unlisted_above = read_deployed(
        root,
        (&deployed, &overlay_models, &manifests),
        (git.as_ref(), &submodules),
        &mut files,
        &mut env_files,
    );
    for f in &mut files {
        f.manifest = manifests.contains(&f.path);
    }
    let release_files = release_files(root, &overlay_models, &deployed, release.as_deref());

    let (renders, render_note) = render(root, &overlay_models, release.as_deref(), opts.render)?;
    let public_inputs = public_generator_inputs(root, &overlay_models);
    let tree = TreeModel {
        overlays: overlay_models,
        env_files,
        now: opts.now,
        release_env: release.clone(),
        renders,
        runtime_secrets: (opts.allow_runtime_secrets.iter().cloned())
            .chain((ws.config.release.allow_runtime_secret.iter()).map(|n| n.to_string()))
            .collect(),
        release_unsuppressible: (ws.config.release.unsuppressible.iter())
            .map(|id| id.to_string())
            .collect(),
        parsed_elsewhere,
        git,
        public_inputs,
    };
    // The ciphertext rules take each environment's certificate from its model.
    let mut cx = Context::new(root, &files)
        .release(opts.release.is_some())
        .with_tree(tree);
    let mut report = rules::run_only(&cx, only.as_ref());
    let outside = narrow(
        &mut report,
        &ws,
        release.as_deref().map(|r| (r, &release_files)),
        &filters,
        &files,
    );
    let hidden = hidden_note(root, &ws, cx.tree.git.as_ref());
    let unmodelled = unmodelled(
        root,
        &ws,
        unlisted_above.into_iter().chain(hidden),
        &submodules,
    );
    let not_git = cx.tree.git.is_none().then_some(refused.as_deref());
    report.notes = notes(not_git, render_note.as_deref(), &unmodelled);
    report.notes.extend(outside);
    report.root_in_repository = crate::workspace::repository_prefix(root);
    // Freeing the overlays' models, one allocation at a time, is a serial tail of a big check: a
    // thread of its own frees them while the caller reports (at exit, the system does). They hold
    // no secret value (an env file's keys only).
    let overlays = std::mem::take(&mut cx.tree.overlays);
    // Should the system refuse a thread, the closure and the models are dropped here.
    let _ = std::thread::Builder::new().spawn(move || drop(overlays));
    Ok(report)
}

/// Why git refuses to list the repository the root is in (None when it lists it, or the root
/// is in none). Under `--release` a refusal is an error: which files are committed is unknown,
/// so a committed env file or a build input a clone lacks would pass.
fn git_refusal(root: &Path, release: bool) -> Result<Option<String>, CheckError> {
    match (release, crate::workspace::git_refusal(root)) {
        (true, Some(reason)) => Err(CheckError::GitRefused { reason }),
        (_, refused) => Ok(refused),
    }
}

/// The builds' cache over the texts `check` just read, so that they do not read the files
/// again. A file that could not be read has no text to hand over (its empty text is not the
/// file's): the builds read it themselves and say why it cannot be built. Nor has a file read
/// only for the repository-wide rules (outside the tree's directories), whose text may have been
/// dropped or outlined (`SourceFile::repository_only`): a build reading it (a patch elsewhere in
/// the repository, which an overlay Flux builds without load restrictor may name) reads it itself.
fn read_cache<'t>(root: &Path, files: &'t [SourceFile]) -> kustomize::ParseCache<'t> {
    kustomize::ParseCache::with_texts(
        (files.iter())
            .filter(|f| is_manifest(&f.path) && f.unread.is_none() && !f.repository_only)
            .map(|f| (root.join(&f.path), f.text.as_str())),
    )
}

/// What a run of `check` without git's listing says it could not look at.
const NOT_GIT_NOTE: &str = "tracked status is unknown; manifests and key files are checked as committed, env files and Secret generators' input files are not checked for being committed";

/// The report's notes: statements of what was not verified, which every format carries
/// (docs/check.md, "When the gate cannot look"). `not_git`: git's listing is missing, with why
/// git refused it when the root is in a repository.
fn notes(
    not_git: Option<Option<&str>>,
    render_note: Option<&str>,
    unmodelled: &[String],
) -> Vec<Note> {
    let not_git = not_git.map(|refused| {
        let why = match refused {
            Some(reason) => format!("git could not list the repository's files ({reason})"),
            None => "not a git repository".to_owned(),
        };
        Note::new(Note::NOT_GIT, &format!("{why}: {NOT_GIT_NOTE}"))
    });
    let render = render_note.map(|n| Note::new(Note::RENDER_UNAVAILABLE, n));
    (not_git.into_iter().chain(render))
        .chain(unmodelled.iter().map(|n| Note::new(Note::NOT_CHECKED, n)))
        .collect()
}

/// `--render`: the real kustomize renders of the checked overlays and of their variants (the
/// models check built), and the note to print when rendering was not possible.
fn render(
    root: &Path,
    models: &[OverlayModel],
    release: Option<&str>,
    mode: crate::render::RenderMode,
) -> Result<(Vec<crate::render::RenderedOverlay>, Option<String>), CheckError> {
    let overlays: Vec<(&str, &Overlay)> = models
        .iter()
        .map(|o| (o.name.as_str(), &o.overlay))
        .collect();
    let variants: Vec<crate::render::Variant<'_>> = models
        .iter()
        .flat_map(|o| {
            o.variants.iter().map(|v| crate::render::Variant {
                env: &o.name,
                dir: &v.dir,
                model: &v.overlay,
            })
        })
        .collect();
    Ok(crate::render::render_checked(
        root, &overlays, &variants, release, mode,
    )?)
}

/// The release environment's files (`deployed` is each of `models`' files) and its variants'
/// (deployed in its place): its gate keeps their findings wherever they sit.
fn release_files(
    root: &Path,
    models: &[OverlayModel],
    deployed: &[BTreeSet<String>],
    release: Option<&str>,
) -> BTreeSet<String> {
    let Some((model, files)) = models
        .iter()
        .zip(deployed)
        .find(|(o, _)| release == Some(o.name.as_str()))
    else {
        return BTreeSet::new();
    };
    let mut files = files.clone();
    for v in &model.variants {
        files.extend(deployed_files(root, &v.overlay));
    }
    files
}

/// The `--rules` ids as a set (`None`: every rule), refusing an unknown id.
fn selected_rules(ids: &[String]) -> Result<Option<BTreeSet<String>>, CheckError> {
    if let Some(id) = ids.iter().find(|id| rules::find(id).is_none()) {
        return Err(CheckError::UnknownRule { id: id.clone() });
    }
    Ok((!ids.is_empty()).then(|| ids.iter().cloned().collect()))
}

/// Refuses a workspace with no environment (nothing would be checked) or whose config names
/// an unknown rule as unsuppressible (an error naming the config file and line).
pub(crate) fn usable_workspace(ws: &crate::workspace::Workspace) -> Result<(), CheckError> {
    if ws.envs.is_empty() {
        return Err(CheckError::NoOverlays {
            looked: ws.looked(),
        });
    }
    let unsuppressible = &ws.config.release.unsuppressible;
    let Some(id) = unsuppressible.iter().find(|id| rules::find(id).is_none()) else {
        return Ok(());
    };
    Err(crate::workspace::ConfigError::Invalid {
        file: ws.config_file.clone().unwrap_or_default(),
        line: ws.config.unsuppressible_line(id),
        message: format!("[release] unsuppressible: `{id}` is no rule id"),
    }
    .into())
}

/// Reads the tree's files and the repository's other manifests (in parallel), keeping the
/// order given: the files for the rules, and the env files' models (an env file by its name, or
/// one of `env_named`, which generators read). A file whose text discovery read (`texts`) is
/// not read again.
fn read_files(
    root: &Path,
    (rels, outside, env_named): (&BTreeSet<String>, &BTreeSet<String>, &BTreeSet<String>),
    git: Option<&GitMap>,
    mut texts: HashMap<String, String>,
) -> (Vec<SourceFile>, Vec<EnvFileModel>) {
    let todo: Vec<(&String, bool, Option<String>)> = rels
        .iter()
        .map(|rel| (rel, false))
        .chain(outside.iter().map(|rel| (rel, true)))
        .map(|(rel, repository_only)| (rel, repository_only, texts.remove(rel)))
        .collect();
    drop(texts);
    let (files, env_files): (Vec<SourceFile>, Vec<Option<EnvFileModel>>) = todo
        .into_par_iter()
        .map(|(rel, repository_only, text)| {
            // Outside the tree only manifests and private keys are looked at.
            let as_env = !repository_only && (is_env_file(rel) || env_named.contains(rel));
            let (f, env) = read_file(root, (rel, as_env), git, text, repository_only);
            (
                if repository_only {
                    f.repository_only()
                } else {
                    f
                },
                env,
            )
        })
        .unzip();
    (files, env_files.into_iter().flatten().collect())
}

/// Builds every environment's model, in parallel; a base they share is parsed once, through
/// `parsed`. One whose directory discovery built already (`builds`, by directory) is not built
/// again: that build is finished into its model.
fn load_overlays(
    root: &Path,
    (envs, mut builds): (
        &[crate::workspace::Environment],
        HashMap<PathBuf, kustomize::Built>,
    ),
    config_file: Option<&str>,
    files: &[SourceFile],
    parsed: &kustomize::ParseCache<'_>,
) -> Result<Vec<OverlayModel>, CheckError> {
    let by_path: HashMap<&str, &SourceFile> = files.iter().map(|f| (f.path.as_str(), f)).collect();
    // Environments often share a certificate: each distinct one is parsed once.
    let pems: HashSet<&str> = envs
        .iter()
        .filter_map(|e| by_path.get(rel(root, &e.cert).as_str()))
        .map(|f| f.text.as_str())
        .collect();
    let certs: HashMap<&str, Result<Certificate, CertError>> = pems
        .into_par_iter()
        .map(|pem| (pem, Certificate::from_pem(pem.as_bytes())))
        .collect();
    let envs: Vec<_> = (envs.iter()).map(|e| (e, builds.remove(&e.dir))).collect();
    envs.into_par_iter()
        .map(|(o, built)| {
            let cert_place = CertPlace {
                path: rel(root, &o.cert),
                configured: match (&o.cert_source, config_file) {
                    (CertSource::Config { line }, Some(file)) => Some((file.to_owned(), *line)),
                    _ => None,
                },
            };
            load_overlay(root, (o, built), cert_place, &by_path, &certs, parsed)
        })
        .collect()
}

/// The `files:` of every Secret generator that hold only PEM certificates (a `ca.crt`): public,
/// so committing them is no plaintext secret. Each is read once, into a buffer wiped on drop
/// (the others may hold secrets); one that cannot be read is not public.
fn public_generator_inputs(root: &Path, overlays: &[OverlayModel]) -> BTreeSet<String> {
    let inputs: BTreeSet<String> = overlays
        .iter()
        .flat_map(|o| o.overlay.generated())
        .filter(|g| g.kind == kustomize::GeneratedKind::Secret)
        .flat_map(|g| &g.specs)
        .flat_map(|s| &s.files)
        .map(|f| path_str(&f.path))
        .collect();
    inputs
        .into_iter()
        .filter(|rel| {
            let bytes = fsio::read_limited(&root.join(rel), MAX_FILE_BYTES);
            let bytes = zeroize::Zeroizing::new(bytes.unwrap_or_default());
            std::str::from_utf8(&bytes).is_ok_and(crate::cert::only_certificates)
        })
        .collect()
}

/// Narrows the findings to the release environment and to the requested paths. A finding
/// inside another environment's directory is not this release's, unless the release
/// environment or one of its variants deploys that file (`release_files`: an overlay built on
/// another one, a variant kept in another environment's directory) or an overlay rule made it
/// (those ran for the release environment only). Returns a note counting the unsuppressed
/// findings the paths left out: the rules saw the whole tree, and a report narrowed to clean
/// files must not read as a clean tree.
fn narrow(
    report: &mut Report,
    ws: &crate::workspace::Workspace,
    release: Option<(&str, &BTreeSet<String>)>,
    filters: &[String],
    files: &[SourceFile],
) -> Option<Note> {
    if let Some((env, release_files)) = release.and_then(|(e, f)| Some((ws.env(e)?, f))) {
        // The repository root as an environment (`.`) holds the others' directories: what it
        // deploys, and what no other environment holds, is its.
        let inside = |p: &str, dir: &str| dir != "." && below(p, dir);
        report.findings.retain(|f| {
            let p = &f.primary.path;
            matches!(f.rule.scope, RuleScope::Overlay | RuleScope::Model)
                || inside(p, &env.rel)
                || release_files.contains(p)
                || !ws.envs.iter().any(|o| inside(p, &o.rel))
        });
    }
    if !filters.is_empty() {
        let inside = |p: &str| (filters.iter()).any(|f| within(p, f));
        let (mut left_out, mut errors) = (0, 0);
        report.findings.retain(|f| {
            let keep = inside(&f.primary.path);
            if !keep && !f.is_suppressed() {
                left_out += 1;
                errors += usize::from(f.severity == Severity::Error);
            }
            keep
        });
        report.files_checked = files.iter().filter(|f| inside(&f.path)).count();
        return (left_out > 0).then(|| {
            let msg = format!(
                "{} ({}) outside the paths given not reported; run `emp-seal check` without paths to see them",
                plural(left_out, "finding"),
                plural(errors, "error")
            );
            Note::new(Note::OUTSIDE_PATHS, &msg)
        });
    }
    None
}

/// The repo-relative paths of the files an overlay's build reads (see [`Overlay::files`]),
/// those inside the git repository (above the root too: `../shared/app.env` for an overlay
/// only Flux deploys, [`in_repository`]), and the `.example` of each env file its generators
/// read (the record of that file's keys, which the environment is checked against).
fn deployed_files(root: &Path, overlay: &Overlay) -> BTreeSet<String> {
    let examples = env_inputs(root, overlay)
        .into_iter()
        .filter(|p| p.ends_with(".example"));
    overlay
        .files()
        .into_iter()
        .map(|p| rel(root, p))
        .chain(examples)
        .filter(|p| in_repository(root, p))
        .collect()
}

/// The env files the overlay's generators read ([`Overlay::env_files`]), and each one's
/// `.example`, those inside the repository.
fn env_inputs(root: &Path, overlay: &Overlay) -> BTreeSet<String> {
    (overlay.env_files().into_iter())
        .flat_map(|e| [format!("{e}.example"), e])
        .filter(|p| in_repository(root, p))
        .collect()
}

/// The repo-relative paths of the files the environments' builds (their variants' too) read as
/// YAML whatever their names ([`Overlay::manifest_files`]), those inside the repository.
fn manifest_files(root: &Path, models: &[OverlayModel]) -> BTreeSet<String> {
    models
        .par_iter()
        .flat_map_iter(|o| std::iter::once(&o.overlay).chain(o.variants.iter().map(|v| &v.overlay)))
        .flat_map_iter(Overlay::manifest_files)
        .map(|p| rel(root, p))
        .filter(|p| in_repository(root, p))
        .collect()
}

/// Reads the files the environments' builds read (`deployed`) that the tree lacks or holds
/// only for the repository-wide rules: one the config's `ignore` lists, one reached through a
/// symlinked directory (the tree's walk does not follow those), one outside the tree's
/// directories, one whose name is not a YAML name that a build reads as YAML (`manifests`: a
/// resource `db-secret`), one above the root in the git repository (which an overlay only Flux
/// deploys may read; its git status is in the repository's one listing). What an environment
/// deploys is checked, under the name its build reads it by. Says so when git could not list
/// the files above the root.
fn read_deployed(
    root: &Path,
    (deployed, models, manifests): (&[BTreeSet<String>], &[OverlayModel], &BTreeSet<String>),
    (git, unlisted): (Option<&GitMap>, &[(String, String)]),
    files: &mut Vec<SourceFile>,
    env_files: &mut Vec<EnvFileModel>,
) -> Option<String> {
    let env_named: BTreeSet<String> = (models.iter())
        .flat_map(|o| env_inputs(root, &o.overlay))
        .collect();
    let mut missing: BTreeSet<String> = {
        let in_tree: HashSet<&str> = files
            .iter()
            .filter(|f| !f.repository_only)
            .map(|f| f.path.as_str())
            .collect();
        (deployed.iter().flatten().chain(manifests))
            .filter(|r| wanted(r) || env_named.contains(*r) || manifests.contains(*r))
            .filter(|r| !in_tree.contains(r.as_str()))
            .filter(|r| root.join(r).is_file())
            .cloned()
            .collect()
    };
    // One already read for the repository-wide rules joins the tree as it is when it was read
    // as the tree reads it (a manifest, a key file's outline); any other file there was read
    // for private keys only, and is read again.
    files.retain(|f| {
        let read_for_keys = f.repository_only && !is_manifest(&f.path) && !is_key_file(&f.path);
        !read_for_keys || !missing.contains(&f.path)
    });
    for f in files.iter_mut().filter(|f| f.repository_only) {
        if missing.remove(&f.path) {
            f.repository_only = false;
        }
    }
    if missing.is_empty() {
        return None;
    }
    let mut note = None;
    // Git lists a file above the root with the rest of the repository; not one in a
    // submodule git could not list.
    let unknown: BTreeSet<String> = (missing.iter())
        .filter(|r| r.starts_with("../"))
        .filter(|r| (unlisted.iter()).any(|(s, _)| below(r, s)))
        .cloned()
        .collect();
    let none = BTreeSet::new();
    let mut read = |rels: &BTreeSet<String>, listing: Option<&GitMap>| {
        let (more, more_env) = read_files(root, (rels, &none, &env_named), listing, HashMap::new());
        files.extend(more);
        env_files.extend(more_env);
    };
    if git.is_some() && !unknown.is_empty() {
        // Their status is unknown, which the rules take as committed.
        missing.retain(|r| !unknown.contains(r));
        read(&unknown, None);
        let listed: Vec<&str> = unknown.iter().map(String::as_str).collect();
        note = Some(format!(
            "git could not list the files above the root that the environments read ({}): their tracked status is unknown; key files and manifests there are checked as committed, env files and Secret generators' input files are not checked for being committed",
            listed.join(", ")
        ));
    }
    read(&missing, git);
    note
}

/// Repo-relative paths of the resource, kustomization and patch files the overlay builds parsed
/// whole and found none of the kinds the rules' own YAML pass reads in (so that it does not
/// parse them again).
fn parsed_elsewhere(root: &Path, parsed: &kustomize::ParseCache<'_>) -> HashSet<String> {
    parsed
        .manifests()
        .into_par_iter()
        .filter(|(_, kinds)| !kinds.iter().any(|k| rules::yamldocs::is_read(k)))
        // Lexically normalised already: no `.` or `..` for `path_str` to resolve.
        .filter(|(p, _)| p.starts_with(root))
        .map(|(p, _)| rel(root, &p))
        .collect()
}

/// Files the rules read: YAML (JSON too: kubeseal's default output, and valid YAML), env files
/// (examples and real ones) and sealing certificates.
fn wanted(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    is_manifest(rel) || name == crate::workspace::DEFAULT_CERT_FILE || is_env_file(rel)
}

/// `*.env.example` or a real env file.
fn is_env_file(rel: &str) -> bool {
    rel.ends_with(".env.example") || envfile::is_real_env_file(rel)
}

/// The files of one check, repo-relative, and their git status (see [`GitListing`]):
///
/// - the tree: every wanted file under the workspace's tree directories (those holding
///   kustomizations or certificates), git-ignored ones included (overlays read ignored env
///   files), each file given, and what git does not ignore under each directory given, minus
///   the config file's `ignore` paths;
/// - outside it, for the repository-wide rules: every file of the repository that is not
///   ignored (YAML/JSON files for the Secret rules, every file for `committed-private-key`):
///   what `git ls-files` lists (in checked-out submodules too), or without git, a walk that
///   skips `.git`, `target`, `node_modules` and hidden directories.
fn tree_files(
    root: &Path,
    ws: &crate::workspace::Workspace,
    filters: &[String],
) -> (BTreeSet<String>, BTreeSet<String>, Option<GitListing>) {
    // git lists the repository while the tree is walked.
    let (listing, mut rels) = rayon::join(
        || crate::workspace::git_status(root),
        || tree_walk(root, ws),
    );
    // Outside the tree, what git lists (tracked, or untracked and not ignored); without git, a
    // walk that skips what is usually ignored.
    let skip = |n: &str| n.starts_with('.') || n == "target" || n == "node_modules";
    let listed = |dir: &str, out: &mut BTreeSet<String>| match &listing {
        Some((map, _)) => out.extend(
            map.keys()
                .filter(|r| !r.starts_with("../"))
                .filter(|r| dir.is_empty() || below(r, dir))
                .cloned(),
        ),
        None => list_files(root, dir, &skip, out),
    };
    // A file named on the command line is checked whatever git says of it; a directory adds
    // what it holds the same way the rest of the repository is read (`check .` must not read
    // an ignored `target/` or `node_modules/`).
    for f in filters {
        if root.join(f).is_dir() {
            listed(f, &mut rels);
        } else {
            rels.insert(f.clone());
        }
    }
    rels.retain(|r| wanted(r) && !ws.is_ignored(r));
    // A certificate the config names may live anywhere, under any name.
    rels.extend(
        ws.envs
            .iter()
            .filter(|e| e.cert.is_file())
            .map(|e| rel(root, &e.cert)),
    );
    let mut outside = BTreeSet::new();
    listed("", &mut outside);
    // A file git lists that the work tree no longer has (deleted, the deletion not yet staged)
    // is not there to check.
    // A symlink that is no manifest or key file is read where it points (a file of the
    // repository is read as itself; one outside it is not the repository's content).
    outside.retain(|r| {
        !rels.contains(r)
            && !ws.is_ignored(r)
            && (root.join(r).symlink_metadata())
                .is_ok_and(|m| !m.file_type().is_symlink() || is_manifest(r) || is_key_file(r))
    });
    (rels, outside, listing)
}

/// Every file under the workspace's tree directories, repo-relative, and under each
/// environment's directory as discovery reached it when that walk did not list it: outside
/// them, or with a symlinked directory on its path (the walk does not follow those). Its env
/// examples are among them.
fn tree_walk(root: &Path, ws: &crate::workspace::Workspace) -> BTreeSet<String> {
    let no_git = |n: &str| n == ".git";
    let mut rels = BTreeSet::new();
    for d in &ws.tree_dirs {
        list_files(root, d, &no_git, &mut rels);
    }
    let canon_root = std::fs::canonicalize(root).ok();
    // Its real path is not the root's joined with its path below the root (when unsure: walk).
    let linked = |dir: &Path| {
        let lexical =
            (dir.strip_prefix(root).ok().zip(canon_root.as_ref())).map(|(d, r)| r.join(d));
        lexical.is_none() || std::fs::canonicalize(dir).ok() != lexical
    };
    for e in &ws.envs {
        let r = rel(root, &e.dir);
        let walked = ws.tree_dirs.iter().any(|t| crate::workspace::within(&r, t));
        if !walked || linked(&e.dir) {
            list_files(root, &r, &no_git, &mut rels);
        }
    }
    rels
}

/// Turns path arguments into repo-relative paths (`""` for the root itself).
fn resolve_paths(root: &Path, cwd: &Path, paths: &[PathBuf]) -> Result<Vec<String>, CheckError> {
    let mut out = Vec::new();
    for p in paths {
        let bad = |reason: String| CheckError::BadPath {
            path: p.display().to_string(),
            reason,
        };
        // An absolute `p` replaces `cwd` (`Path::join`).
        let canon =
            std::fs::canonicalize(cwd.join(p)).map_err(|e| bad(e.to_string().to_lowercase()))?;
        // A FIFO, socket or device is nothing check reads: never "no findings in 0 files".
        if crate::fsio::is_special_file(&canon) {
            return Err(bad(
                "not a regular file or directory (a FIFO, socket or device): nothing to check"
                    .to_owned(),
            ));
        }
        let rel = (canon.strip_prefix(root))
            .map_err(|_| bad(format!("outside the repository {}", root.display())))?;
        let parts: Vec<String> = rel
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        out.push(parts.join("/"));
    }
    Ok(out)
}

/// The note naming the kustomization directories git lists under a hidden directory
/// (`services/api/.deploy/overlays/prod`) that no environment builds: discovery does not enter
/// hidden directories, so such an overlay is not checked unless an environments glob or a
/// deploying object names it, and "no findings" must not read as "verified clean" for it.
fn hidden_note(
    root: &Path,
    ws: &crate::workspace::Workspace,
    git: Option<&crate::rules::GitMap>,
) -> Option<String> {
    let built: Vec<PathBuf> = (ws.envs.iter())
        .flat_map(|e| e.reaches.iter().flatten().cloned())
        .collect();
    let dirs: std::collections::BTreeSet<&str> = (git?.keys())
        .filter_map(|f| {
            let (dir, name) = f.rsplit_once('/')?;
            crate::workspace::KUSTOMIZATION_FILE_NAMES
                .contains(&name)
                .then_some(dir)
        })
        .filter(|d| d.split('/').any(|s| s.len() > 1 && s.starts_with('.')))
        .filter(|d| !ws.is_ignored(d))
        .filter(|d| {
            let canon = std::fs::canonicalize(root.join(d));
            !canon.is_ok_and(|c| built.contains(&c))
        })
        .collect();
    let dirs: Vec<&str> = dirs.into_iter().collect();
    (!dirs.is_empty()).then(|| {
        format!(
            "{} kustomization director{} under hidden directories, which discovery does not enter, {} not checked: {}; list them under `environments` in emp-seal.toml to check them, or under `ignore`",
            dirs.len(),
            if dirs.len() == 1 { "y" } else { "ies" },
            if dirs.len() == 1 { "is" } else { "are" },
            crate::workspace::first_five(&dirs)
        )
    })
}

/// What git lists ([`crate::workspace::git_status`]): the tracked status of every file, and
/// the submodules whose files are not there to list, each with why.
type GitListing = (GitMap, Vec<(String, String)>);

/// What the run did not read or model, each a `not-checked` note: the repository's own notes,
/// the deployed files above the root git does not list (`unlisted_above`), the workspace's notes,
/// and each submodule under the root whose files are not there (with why, see [`GitListing`]).
fn unmodelled(
    root: &Path,
    ws: &crate::workspace::Workspace,
    unlisted_above: impl Iterator<Item = String>,
    submodules: &[(String, String)],
) -> Vec<String> {
    let submodules = (submodules.iter())
        .filter(|(p, _)| !p.starts_with("../"))
        .map(|(path, why)| format!(
            "git submodule {path}: {why}, so its files are not checked (no environment in it is found, and no rule reads them); check it out (`git submodule update --init --recursive`) to check them"
        ));
    let sparse = crate::workspace::sparse_note(root, |p| ws.is_ignored(p));
    let unnamed = crate::workspace::unnamed_note(root, |p| ws.is_ignored(p));
    (crate::workspace::repository_notes(root).into_iter())
        .chain(unnamed)
        .chain(sparse)
        .chain(unlisted_above)
        .chain(ws.notes().map(str::to_owned))
        .chain(submodules)
        .collect()
}

/// Reads one file. Env files are parsed here (keys and lints) and handed on with every
/// non-comment line blanked, so no value reaches the rules; a file outside the tree that may
/// hold private keys is handed on as [`keys::outline`] shows it. A file that cannot be read is
/// kept, empty, with the reason (`SourceFile::unread`; an env file's as its parse error), so
/// that the report says it went unchecked instead of counting it as clean.
fn read_file(
    root: &Path,
    (rel, as_env): (&str, bool),
    git: Option<&GitMap>,
    text: Option<String>,
    repository_only: bool,
) -> (SourceFile, Option<EnvFileModel>) {
    let status = GitStatus::of(git, rel);
    let path = root.join(rel);
    // The reason without the absolute path the error starts with.
    let reason = |e: fsio::FsError| {
        let full = e.to_string();
        let prefix = format!("{}: ", path.display());
        full.strip_prefix(&prefix).unwrap_or(&full).to_owned()
    };
    let file = SourceFile::new(rel, String::new()).with_git(status);
    if as_env {
        return match fsio::read_limited(&path, MAX_FILE_BYTES) {
            Ok(bytes) => {
                let (text, model) = env_file_model(rel, &zeroize::Zeroizing::new(bytes));
                (file.with_text(text), Some(model))
            }
            Err(e) => {
                let why = reason(e);
                let model = EnvFileModel {
                    path: rel.to_owned(),
                    parsed: Err((
                        1,
                        format!("cannot be read: {why}; no rule checked its keys"),
                    )),
                    bare: Vec::new(),
                    lints: Vec::new(),
                };
                (file.unread(why), Some(model))
            }
        };
    }
    if repository_only && !is_manifest(rel) {
        return match key_file_outline(&path, is_key_file(rel)) {
            Ok(outline) => (file.with_text(outline), None),
            Err(e) => (file.unread(reason(e)), None),
        };
    }
    match text.map_or_else(|| fsio::read_to_string_limited(&path, MAX_FILE_BYTES), Ok) {
        Ok(text) if is_manifest(rel) => (file.with_text(crate::yamlpos::lone_cr_as_lf(text)), None),
        Ok(text) => (file.with_text(text), None),
        Err(e) => (file.unread(reason(e)), None),
    }
}

/// An env file's keys and lints, and its text with every non-comment line blanked (what the
/// rules get: no value).
fn env_file_model(rel: &str, bytes: &[u8]) -> (String, EnvFileModel) {
    let (parsed, bare) = match envfile::parse(bytes) {
        // Lines that look like pieces of a value are no keys to report (lints name them); lines
        // without `=` are keys, but named by line only (`rules::model::shown_key`).
        Ok(f) => {
            let entry = |e: &envfile::EnvEntry| (e.key.clone(), e.line);
            let bare = f.bare_entries().map(entry).collect();
            (Ok(f.key_entries().map(entry).collect()), bare)
        }
        Err(e) => (Err((e.line().unwrap_or(1), e.to_string())), Vec::new()),
    };
    // A file that is not UTF-8 is copied to be read lossily: the copy holds its values.
    let lossy = zeroize::Zeroizing::new(String::from_utf8_lossy(bytes).into_owned());
    let text = (lossy.lines())
        .map(|l| {
            if l.trim_start().starts_with('#') {
                l
            } else {
                ""
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let model = EnvFileModel {
        path: rel.to_owned(),
        parsed,
        bare,
        lints: envfile::lint(bytes),
    };
    (text, model)
}

/// [`keys::outline`] of a file outside the tree that is no manifest, read into a buffer wiped
/// on drop. A file whose name says it holds a key (`named`, [`is_key_file`]) must be UTF-8 (a
/// binary DER key is not, and is reported unread); any other file is looked at for PEM BEGIN
/// lines whatever else it holds, and its outline is empty when it has no private key's.
fn key_file_outline(path: &Path, named: bool) -> Result<String, fsio::FsError> {
    let bytes = zeroize::Zeroizing::new(fsio::read_limited(path, MAX_FILE_BYTES)?);
    let outline = |text: &str| match named || crate::cert::may_hold_private_key(text) {
        true => keys::outline(text),
        false => String::new(),
    };
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(outline(text)),
        Err(e) if named => Err(fsio::FsError::InvalidUtf8 {
            path: path.to_path_buf(),
            line: fsio::line_at(&bytes, e.valid_up_to()),
        }),
        // A binary file (an image, an archive) is copied into text only when it holds the
        // words a private key's BEGIN line would: most hold neither.
        Err(_) if !has(&bytes, b"-----BEGIN ") || !has(&bytes, b"PRIVATE KEY") => Ok(String::new()),
        Err(_) => Ok(outline(&zeroize::Zeroizing::new(
            String::from_utf8_lossy(&bytes).into_owned(),
        ))),
    }
}

fn has(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle)
}

/// `--release ENV` as the workspace names it (a path to the directory works too); an empty or
/// blank ENV (an unset CI variable) is refused, never read as "no release gate".
fn release_env(
    ws: &crate::workspace::Workspace,
    release: Option<&str>,
) -> Result<Option<String>, CheckError> {
    let Some(env) = release else { return Ok(None) };
    if env.trim().is_empty() {
        return Err(CheckError::EmptyRelease);
    }
    let known = ws.names().join(", ");
    match crate::workspace::resolve_typed(&ws.root, env) {
        Some(e) if ws.env(&e.name).is_some() => {
            let dir = crate::workspace::dir_rel(&ws.root, &e.dir);
            ws.refuse_unread_config(&e.name, &dir)?;
            Ok(Some(e.name))
        }
        Some(e) => Err(CheckError::NotAnEnvironment {
            env: env.to_owned(),
            dir: crate::workspace::dir_rel(&ws.root, &e.dir),
            known,
        }),
        None => Err(CheckError::UnknownEnv {
            env: env.to_owned(),
            known,
        }),
    }
}

/// Loads one overlay's model (finishing discovery's build of it when there is one) and
/// certificate (which is to be at `cert_place`); `files` by path, `certs` parsed by text.
fn load_overlay(
    root: &Path,
    (env, built): (&crate::workspace::Environment, Option<kustomize::Built>),
    cert_place: CertPlace,
    files: &HashMap<&str, &SourceFile>,
    certs: &HashMap<&str, Result<Certificate, CertError>>,
    parsed: &kustomize::ParseCache<'_>,
) -> Result<OverlayModel, CheckError> {
    let name = env.name.as_str();
    let overlay = match built {
        Some(b) => b.finish(root, name.to_owned(), env.deploy_time.clone(), parsed),
        None => Overlay::load_or_unbuildable(root, name, parsed)?,
    };
    let cert_rel = cert_place.path.clone();
    let cert = match files.get(cert_rel.as_str()) {
        None => None,
        Some(f) => Some(CertModel {
            path: cert_rel.clone(),
            status: match certs
                .get(f.text.as_str())
                .cloned()
                .unwrap_or_else(|| Certificate::from_pem(f.text.as_bytes()))
            {
                Ok(c) => CertStatus::Ok(Box::new(c)),
                Err(CertError::TooSmall { bits }) => CertStatus::WeakKey { bits },
                Err(source) => {
                    return Err(CheckError::Certificate {
                        file: cert_rel,
                        source,
                    });
                }
            },
            private_keys: crate::cert::private_key_blocks(f.text.as_bytes()),
        }),
    };
    // A variant whose kustomization does not parse loads as an empty model carrying that
    // problem: under --render it is still rendered (render-failed), never dropped; one that
    // cannot be read is an error, as the environment's own would be.
    let variants = env
        .variants
        .iter()
        .map(|v| {
            Ok(Variant {
                dir: v.clone(),
                overlay: Overlay::load_or_unbuildable(root, v, parsed)?,
            })
        })
        .collect::<Result<_, CheckError>>()?;
    Ok(OverlayModel {
        name: name.to_owned(),
        dir: env.rel.clone(),
        overlay,
        cert,
        cert_place,
        variants,
    })
}
