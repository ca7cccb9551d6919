//! Where emp-seal's root sits in its git repository. Argo CD (`spec.source.path`, argo-cd
//! `pkg/apis/application/v1alpha1/types.go`: a directory path within the git repository) and Flux
//! (`spec.path`, fluxcd/kustomize-controller `api/v1/kustomization_types.go`, relative to the
//! source's root) name directories relative to the git repository's top level, which is above
//! emp-seal's root when that root is found by its config file or its `k8s/overlays` directory
//! inside a larger repository (a monorepo's `services/api`). Those paths are mapped into the
//! root here, and the objects written outside the root are listed for discovery to read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// The root's path inside its git repository (`services/api`), forward slashes; empty when the
/// root is the top level (it holds `.git`) or is in no git repository. Asked of git once per
/// root and process.
fn prefix(root: &Path) -> String {
    static PREFIXES: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    if root.join(".git").exists() {
        return String::new();
    }
    let cache = PREFIXES.get_or_init(Mutex::default);
    if let Some(p) = cache.lock().ok().and_then(|c| c.get(root).cloned()) {
        return p;
    }
    let asked = if in_a_repository(root) {
        git(root, &["rev-parse", "--show-prefix"])
            .map(|out| out.trim_end_matches(['\n', '/']).to_owned())
            .unwrap_or_default()
    } else {
        String::new()
    };
    if let Ok(mut c) = cache.lock() {
        c.insert(root.to_path_buf(), asked.clone());
    }
    asked
}

/// False when no directory from `root` up holds `.git` (a directory, or the file of a worktree
/// or submodule) and `GIT_DIR` is not set: git then finds no repository for it, and is not
/// asked (a process per command run outside git).
fn in_a_repository(root: &Path) -> bool {
    let abs = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    std::env::var_os("GIT_DIR").is_some() || abs.ancestors().any(|d| d.join(".git").exists())
}

/// `git -C dir ARGS`'s standard output, when it succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The directory under `root` that the path `p` of an Argo CD / Flux object names (relative to
/// the git repository's top level, a leading `./` or `/` allowed), or `None` when it names a
/// directory outside the root: another part of the monorepo, none of this root's environments.
pub(crate) fn deployed_dir(root: &Path, p: &str) -> Option<PathBuf> {
    let rel = p.trim_start_matches("./").trim_start_matches('/');
    let prefix = prefix(root);
    if prefix.is_empty() {
        return Some(root.join(rel));
    }
    let full = super::path_str(Path::new(rel));
    if full == prefix {
        return Some(root.to_path_buf());
    }
    let inside = full.strip_prefix(&prefix)?.strip_prefix('/')?;
    Some(root.join(inside))
}

/// The git repository's top level as reached from `root` (`root/../..` for a root at
/// `services/api`), where Argo CD reads an `ApplicationSet` git generator's `directories`
/// patterns (argo-cd `reposerver/repository/repository.go`, `GetGitDirectories`: every directory
/// of the repository, relative to its top); `root` itself when it is the top or in no git
/// repository. What is found there is mapped back with [`deployed_dir`].
pub(crate) fn top(root: &Path) -> PathBuf {
    let prefix = prefix(root);
    if prefix.is_empty() {
        return root.to_path_buf();
    }
    root.join("../".repeat(prefix.split('/').count()))
}

/// The YAML files of the git repository outside the root (when the root is below its top
/// level), named relative to the root (`../../argocd/api.yaml`), that are not kustomization
/// files and not in a directory the discovery walk skips: an Argo CD Application or Flux
/// Kustomization there may deploy a directory of the root. What git lists (tracked, or
/// untracked and not ignored); nothing without git.
pub(crate) fn outside_manifests(root: &Path) -> Vec<String> {
    let prefix = prefix(root);
    if prefix.is_empty() {
        return Vec::new();
    }
    let up = "../".repeat(prefix.split('/').count());
    let listed = git(
        &top(root),
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    )
    .unwrap_or_default();
    let mine = format!("{prefix}/");
    let skipped = |dir: &str| dir.starts_with('.') || super::discover::SKIPPED_DIRS.contains(&dir);
    let mut files: Vec<String> = listed
        .split('\0')
        .filter(|f| super::is_manifest(f) && !f.starts_with(&mine))
        .filter(|f| {
            let mut parts: Vec<&str> = f.split('/').collect();
            let name = parts.pop().unwrap_or_default();
            !super::KUSTOMIZATION_FILE_NAMES.contains(&name) && !parts.into_iter().any(skipped)
        })
        .map(|f| format!("{up}{f}"))
        .collect();
    files.sort();
    files.dedup();
    files
}
