//! The `emp-seal check` use case: read the tree once, build the rules' [`Context`] (files with
//! their git status, every overlay's model and certificate, every env file's keys and lints),
//! run the rules and narrow the report to the requested paths or release environment.
//!
//! Owns which files make up "the tree" (everything under `k8s/`, plus paths given explicitly),
//! the one `git ls-files` call that gives tracked status, and the release-gate scoping. Refuses
//! to check nothing: no overlay at all, or an empty release environment, is an error (exit 2),
//! while an overlay kustomize cannot build is loaded anyway and reported by the rules. Must not
//! print, decide exit codes, write files, or keep env-file values: env files are parsed here
//! into key names and lints, and their text is handed to the rules with every non-comment line
//! blanked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use rayon::prelude::*;

use crate::cert::{CertError, Certificate};
use crate::envfile;
use crate::finding::Report;
use crate::fsio;
use crate::kustomize::{self, Overlay, SecretSource};
use crate::rules::model::{CertModel, CertStatus, EnvFileModel, OverlayModel, TreeModel, path_str};
use crate::rules::plaintext_env_file::is_real_env_file;
use crate::rules::{self, Context, GitStatus, SourceFile};

/// Largest file the check reads (larger files are skipped).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The file name of an overlay's sealing certificate.
pub const CERT_FILE: &str = "sealing-cert.pem";

/// Errors that stop a check before any rule runs (the CLI exits 2 on them).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// `--release ENV` names no overlay.
    #[error("unknown environment `{env}`: no kustomization in k8s/overlays/{env} (known: {known})")]
    UnknownEnv {
        /// The name given.
        env: String,
        /// The overlays that exist, comma-separated.
        known: String,
    },
    /// `--release` (or `EMP_SEAL_RELEASE`) is set but empty: refused, so that an unset CI
    /// variable cannot switch the release gate off.
    #[error("the release environment is empty (--release \"\" or an empty EMP_SEAL_RELEASE)")]
    EmptyRelease,
    /// The repository has no overlay at all: nothing would be checked.
    #[error(
        "no overlays found: no directory under {looked} holds a kustomization.yaml, kustomization.yml or Kustomization"
    )]
    NoOverlays {
        /// The directory searched (`<root>/k8s/overlays`).
        looked: String,
    },
    /// `--rules` names an id no rule has.
    #[error("unknown rule id `{id}`")]
    UnknownRule {
        /// The id given.
        id: String,
    },
    /// A path argument does not exist or is outside the repository.
    #[error("{path}: {reason}")]
    BadPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
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
        /// Why it is unusable.
        source: CertError,
    },
}

impl CheckError {
    /// A next step for the user.
    pub fn hint(&self) -> Option<String> {
        match self {
            CheckError::UnknownEnv { .. } => {
                Some("pass the name of a directory under k8s/overlays".to_owned())
            }
            CheckError::EmptyRelease => Some(
                "name the environment to gate (--release paper), or unset EMP_SEAL_RELEASE".to_owned(),
            ),
            CheckError::NoOverlays { .. } => Some(
                "run inside the repository or point at it with -C DIR; overlays are k8s/overlays/<env>/ directories".to_owned(),
            ),
            CheckError::UnknownRule { .. } => {
                Some("rule ids are listed in docs/rules.md".to_owned())
            }
            CheckError::BadPath { .. } => {
                Some("pass files or directories inside the repository".to_owned())
            }
            CheckError::Overlay(e) => e.hint().map(str::to_owned),
            CheckError::Certificate { source, .. } => source.hint().map(str::to_owned),
            CheckError::Render(e) => e.hint().map(str::to_owned),
        }
    }
}

/// What to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The repository root.
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

/// The result of a check.
#[derive(Debug)]
pub struct CheckOutcome {
    /// The findings, narrowed to the requested paths and release environment.
    pub report: Report,
    /// False when the root is not in a git repository (or git is not installed): tracked status
    /// is then unknown, and rules that need it treat files as committed (plaintext) or skip
    /// them (env files).
    pub git: bool,
    /// A line for stderr when `--render=auto` wanted to render and could not (no tool).
    pub render_note: Option<String>,
}

/// Runs the check.
///
/// # Errors
/// [`CheckError`] for an unknown environment or rule, a bad path, an unreadable kustomization
/// or an unusable certificate.
pub fn run(opts: &CheckOptions) -> Result<CheckOutcome, CheckError> {
    let root = &opts.root;
    let only: Option<BTreeSet<String>> = if opts.rules.is_empty() {
        None
    } else {
        for id in &opts.rules {
            if rules::find(id).is_none() {
                return Err(CheckError::UnknownRule { id: id.clone() });
            }
        }
        Some(opts.rules.iter().cloned().collect())
    };
    if opts.release.as_ref().is_some_and(|r| r.trim().is_empty()) {
        return Err(CheckError::EmptyRelease);
    }
    let overlays = kustomize::discover_overlays(root);
    if overlays.is_empty() {
        return Err(CheckError::NoOverlays {
            looked: root.join("k8s").join("overlays").display().to_string(),
        });
    }
    if let Some(env) = &opts.release
        && !overlays.iter().any(|o| &o.name == env)
    {
        return Err(CheckError::UnknownEnv {
            env: env.clone(),
            known: overlays
                .iter()
                .map(|o| o.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let filters = resolve_paths(root, &opts.cwd, &opts.paths)?;

    // The tree: k8s/ plus the given paths.
    let mut rels: BTreeSet<String> = BTreeSet::new();
    walk(root, &root.join("k8s"), &mut rels);
    for f in &filters {
        let p = root.join(f);
        if p.is_dir() {
            walk(root, &p, &mut rels);
        } else {
            rels.insert(f.clone());
        }
    }
    rels.retain(|r| wanted(r));
    let mut spec: Vec<String> = vec!["k8s".to_owned()];
    spec.extend(filters.iter().cloned());
    let git = git_status(root, &spec);

    let loaded: Vec<(SourceFile, Option<EnvFileModel>)> = rels
        .par_iter()
        .filter_map(|rel| read_file(root, rel, git.as_ref()))
        .collect();
    let mut files = Vec::with_capacity(loaded.len());
    let mut env_files = Vec::new();
    for (f, env) in loaded {
        files.push(f);
        env_files.extend(env);
    }

    let models: Vec<Result<OverlayModel, CheckError>> = overlays
        .par_iter()
        .map(|o| load_overlay(root, &o.name, &files))
        .collect();
    let mut overlay_models = Vec::with_capacity(models.len());
    for m in models {
        overlay_models.push(m?);
    }

    // The key each SealedSecret file is judged against: its overlay's certificate, unless two
    // overlays that include the file disagree.
    let mut keys: BTreeMap<String, Option<Certificate>> = BTreeMap::new();
    for ov in &overlay_models {
        let cert = ov.cert.as_ref().and_then(CertModel::certificate);
        for src in ov.overlay.secret_sources() {
            if let SecretSource::Sealed { file, .. } = src {
                let path = path_str(&file);
                match (keys.get(&path), cert) {
                    (None, Some(c)) => {
                        keys.insert(path, Some(c.clone()));
                    }
                    (None, None) => {
                        keys.insert(path, None);
                    }
                    (Some(Some(old)), Some(c)) if old.der() == c.der() => {}
                    (Some(_), _) => {
                        keys.insert(path, None);
                    }
                }
            }
        }
    }

    let (renders, render_note) =
        crate::render::render_checked(root, &overlay_models, opts.release.as_deref(), opts.render)?;
    let tree = TreeModel {
        overlays: overlay_models,
        env_files,
        now: opts.now,
        release_env: opts.release.clone(),
        renders,
        runtime_secrets: opts.allow_runtime_secrets.clone(),
    };
    let mut cx = Context::new(root, &files)
        .release(opts.release.is_some())
        .with_tree(tree);
    for (path, cert) in keys {
        if let Some(c) = cert {
            cx = cx.with_key(path, c.public_key().clone());
        }
    }
    let mut report = rules::run_only(&cx, only.as_ref());

    if let Some(env) = &opts.release {
        let own = format!("k8s/overlays/{env}/");
        report.findings.retain(|f| {
            !f.primary.path.starts_with("k8s/overlays/") || f.primary.path.starts_with(&own)
        });
    }
    if !filters.is_empty() {
        let inside = |p: &str| {
            filters
                .iter()
                .any(|f| p == f || f.is_empty() || p.starts_with(&format!("{f}/")))
        };
        report.findings.retain(|f| inside(&f.primary.path));
        report.files_checked = files.iter().filter(|f| inside(&f.path)).count();
    }
    Ok(CheckOutcome {
        report,
        git: git.is_some(),
        render_note,
    })
}

/// Files the rules read: YAML (JSON too: kubeseal's default output, and valid YAML), env files
/// (examples and real ones) and sealing certificates.
fn wanted(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    rel.ends_with(".yaml")
        || rel.ends_with(".yml")
        || rel.ends_with(".json")
        || name == CERT_FILE
        || is_env_file(rel)
}

/// `*.env.example` or a real env file.
fn is_env_file(rel: &str) -> bool {
    rel.ends_with(".env.example") || is_real_env_file(rel)
}

/// Every file under `dir` (no symlinked directories, no `.git`), repo-relative.
fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let Ok(ft) = e.file_type() else { continue };
        let p = e.path();
        if ft.is_dir() {
            if e.file_name() != ".git" {
                walk(root, &p, out);
            }
        } else if (ft.is_file() || (ft.is_symlink() && p.is_file()))
            && let Ok(rel) = p.strip_prefix(root)
        {
            out.insert(path_str(rel));
        }
    }
}

/// Turns path arguments into repo-relative paths (`""` for the root itself).
fn resolve_paths(root: &Path, cwd: &Path, paths: &[PathBuf]) -> Result<Vec<String>, CheckError> {
    let mut out = Vec::new();
    for p in paths {
        let abs = if p.is_absolute() {
            p.clone()
        } else {
            cwd.join(p)
        };
        let shown = p.display().to_string();
        let canon = std::fs::canonicalize(&abs).map_err(|e| CheckError::BadPath {
            path: shown.clone(),
            reason: e.to_string().to_lowercase(),
        })?;
        let rel = canon.strip_prefix(root).map_err(|_| CheckError::BadPath {
            path: shown.clone(),
            reason: format!("outside the repository {}", root.display()),
        })?;
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

/// Tracked status of every file under `pathspecs`, from one `git ls-files` call: `Some(map)`
/// of listed files (true = tracked, false = untracked and not ignored); files not listed are
/// ignored. `None` outside a git repository or without git.
fn git_status(root: &Path, pathspecs: &[String]) -> Option<BTreeMap<String, bool>> {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(root)
        .args([
            "ls-files",
            "-z",
            "-t",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
        ])
        .args(
            pathspecs
                .iter()
                .map(|p| if p.is_empty() { "." } else { p.as_str() }),
        )
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    let out = cmd.output().ok()?;
    if !out.status.success() {
        return None;
    }
    let mut map = BTreeMap::new();
    for entry in out.stdout.split(|b| *b == 0).filter(|e| e.len() > 2) {
        let tag = entry[0];
        let path = String::from_utf8_lossy(&entry[2..]).into_owned();
        let tracked = tag != b'?';
        // A file listed as both (cannot happen) counts as tracked.
        let e = map.entry(path).or_insert(tracked);
        *e |= tracked;
    }
    Some(map)
}

/// Reads one file. Env files are parsed here (keys and lints) and handed on with every
/// non-comment line blanked, so no value reaches the rules.
fn read_file(
    root: &Path,
    rel: &str,
    git: Option<&BTreeMap<String, bool>>,
) -> Option<(SourceFile, Option<EnvFileModel>)> {
    let status = match git {
        None => GitStatus::Unknown,
        Some(map) => match map.get(rel) {
            Some(true) => GitStatus::Tracked,
            Some(false) => GitStatus::Untracked { ignored: false },
            None => GitStatus::Untracked { ignored: true },
        },
    };
    let path = root.join(rel);
    if is_env_file(rel) {
        let bytes = zeroize::Zeroizing::new(fsio::read_limited(&path, MAX_FILE_BYTES).ok()?);
        let parsed = match envfile::parse(&bytes) {
            // Lines that look like pieces of a value are no keys to report (lints name them).
            Ok(f) => Ok(f.key_entries().map(|e| (e.key.clone(), e.line)).collect()),
            Err(e) => Err((e.line().unwrap_or(1), e.to_string())),
        };
        let lints = envfile::lint(&bytes);
        let text: String = String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| {
                if l.trim_start().starts_with('#') {
                    l.to_owned()
                } else {
                    String::new()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let model = EnvFileModel {
            path: rel.to_owned(),
            parsed,
            lints,
        };
        return Some((SourceFile::new(rel, text).with_git(status), Some(model)));
    }
    let text = fsio::read_to_string_limited(&path, MAX_FILE_BYTES).ok()?;
    Some((SourceFile::new(rel, text).with_git(status), None))
}

/// Loads one overlay's model and certificate.
fn load_overlay(root: &Path, name: &str, files: &[SourceFile]) -> Result<OverlayModel, CheckError> {
    let overlay = Overlay::load_or_unbuildable(root, name)?;
    let dir = format!("k8s/overlays/{name}");
    let cert_rel = format!("{dir}/{CERT_FILE}");
    let cert = match files.iter().find(|f| f.path == cert_rel) {
        None => None,
        Some(f) => Some(CertModel {
            path: cert_rel.clone(),
            status: match Certificate::from_pem(f.text.as_bytes()) {
                Ok(c) => CertStatus::Ok(Box::new(c)),
                Err(CertError::TooSmall { bits }) => CertStatus::WeakKey { bits },
                Err(source) => {
                    return Err(CheckError::Certificate {
                        file: cert_rel,
                        source,
                    });
                }
            },
        }),
    };
    let examples = files
        .iter()
        .filter(|f| {
            f.path.ends_with(".env.example")
                && f.path
                    .strip_prefix(&format!("{dir}/"))
                    .is_some_and(|r| !r.contains('/'))
        })
        .map(|f| f.path.clone())
        .collect();
    Ok(OverlayModel {
        name: name.to_owned(),
        dir,
        overlay,
        cert,
        examples,
    })
}
