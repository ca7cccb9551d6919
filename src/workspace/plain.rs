//! Directories an Argo CD / Flux object deploys that hold no kustomization file: the
//! kustomization each tool builds them with, synthesised as a value (nothing is ever written into
//! the tree), for the model to build like any other (`kustomize::build`).
//!
//! - Flux: kustomize-controller generates a kustomization listing, in walk order, every
//!   `.yaml` / `.yml` file under the path (recursively, hidden ones too) and every sub-directory
//!   holding a kustomization file, as a resource, without descending into it (fluxcd/pkg
//!   `kustomize/kustomize_generator.go`, `generateKustomization`). A listed file that does not
//!   decode as Kubernetes objects fails the sync there, as it fails the model's build. The files
//!   source-controller leaves out of the artifact (its default exclusions, `.sourceignore`
//!   files, the `GitRepository`'s `spec.ignore`: `super::artifact`), and those git does not
//!   track (the artifact is made from a clone), are not there to list.
//! - Argo CD (a "directory" source): the `.yaml`, `.yml` and `.json` files of the path, of its
//!   sub-directories too only with `directory.recurse: true`, each as plain objects, without
//!   kustomize's transformations (argo-cd `reposerver/repository/repository.go`,
//!   `findManifests`, `getPotentiallyValidManifestFile`, `getObjsFromYAMLOrJSON`). A YAML file
//!   whose first document is no Kubernetes object is skipped, unless it looks like one (it holds
//!   `apiVersion:`, `kind:` and `metadata:`), which fails the sync; a file holding
//!   `+argocd:skip-file-rendering` is skipped. The repo-server walks a clone of a commit: a
//!   file git does not track is not there.

use std::path::{Path, PathBuf};

use yaml_serde::Value;

use super::artifact::Artifact;

/// How the object deploying a directory without a kustomization file builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plain {
    /// Flux kustomize-controller's generated kustomization.
    Flux,
    /// An Argo CD directory source.
    ArgoDirectory {
        /// `directory.recurse: true`.
        recurse: bool,
        /// The `directory` options the model does not replay (`include`, `exclude`), each with
        /// its line in the object's file. (`directory.jsonnet` only feeds the evaluation of
        /// `.jsonnet` files, each of which is reported as not modelled already.)
        unmodelled: Vec<(String, usize)>,
    },
}

impl std::fmt::Display for Plain {
    /// How messages name the way the directory is built.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Plain::Flux => f.write_str("Flux's generated kustomization"),
            Plain::ArgoDirectory { recurse: true, .. } => {
                f.write_str("an Argo CD directory source with `recurse`")
            }
            Plain::ArgoDirectory { .. } => f.write_str("an Argo CD directory source"),
        }
    }
}

/// The kustomization a tool builds a plain directory with, and what the model cannot replay of
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synthesised {
    /// The kustomization's `resources:` (it has nothing else), relative to the directory
    /// (`./a.yaml`, `./sub`).
    pub entries: Vec<String>,
    /// The files it would list were git tracking them (as `entries` are written).
    pub untracked: Vec<String>,
    /// What the model does not replay, each with the repository-relative file and the line it
    /// concerns and a message.
    pub unmodelled: Vec<(String, usize, String)>,
}

/// Argo CD's marker that keeps a file out of a directory source (argo-cd
/// `reposerver/repository/repository.go`, `skipFileRenderingMarker`).
const ARGO_SKIP_MARKER: &str = "+argocd:skip-file-rendering";

/// The kustomization `plain` builds `dir` (under `root`) with; `at` is the object's file
/// (repository-relative) and the line of its `path`, where what concerns the directory itself is
/// reported.
pub fn synthesise(
    root: &Path,
    dir: &Path,
    (plain, artifact): (&Plain, Option<&Artifact>),
    at: (&str, usize),
) -> Synthesised {
    let mut walk = Walk::default();
    let mut unmodelled = Vec::new();
    match plain {
        // Only the files of the source's artifact are there to list (`super::artifact`); a
        // deploy's artifact's unreplayed patterns are the overlay's problems
        // (`kustomize::deploy::plan`). Discovery gives every Flux deploy its artifact
        // (`discover::Artifacts::attach`): without one, the listing is not guessed.
        Plain::Flux => match artifact {
            Some(artifact) => flux_walk(dir, dir, (artifact, root), &mut walk),
            None => unmodelled.push((
                at.0.to_owned(),
                at.1,
                "emp-seal knows no Flux artifact for this Kustomization (an internal error): the files of its generated kustomization are not known".to_owned(),
            )),
        },
        Plain::ArgoDirectory {
            recurse,
            unmodelled: options,
        } => {
            argo_walk(dir, dir, (*recurse, root), &mut walk);
            for (option, line) in options {
                unmodelled.push((
                    at.0.to_owned(),
                    *line,
                    format!(
                        "the Argo CD Application's `directory.{option}` picks which files of the directory are applied, which emp-seal does not replay: it reads every manifest there"
                    ),
                ));
            }
            for e in walk.entries.iter().filter(|e| e.ends_with(".jsonnet")) {
                unmodelled.push((
                    super::rel(root, &dir.join(e)),
                    1,
                    "Argo CD evaluates this Jsonnet file into objects, which emp-seal does not"
                        .to_owned(),
                ));
            }
            walk.entries.retain(|e| !e.ends_with(".jsonnet"));
        }
    }
    // A directory that cannot be listed: both tools fail the sync, and its files go unchecked.
    for (d, why) in walk.unlisted {
        unmodelled.push((
            super::rel(root, &d),
            1,
            format!("this directory cannot be listed ({why}): its files are not checked"),
        ));
    }
    Synthesised {
        entries: walk.entries,
        untracked: walk.untracked,
        unmodelled,
    }
}

/// What a walk found: the entries to list, those it would list were git tracking them, and the
/// directories it could not list with why.
#[derive(Default)]
struct Walk {
    entries: Vec<String>,
    untracked: Vec<String>,
    unlisted: Vec<(PathBuf, String)>,
}

/// The entries of `dir`, sorted by name as Go's `filepath.Walk` visits them, each with whether
/// it is a directory as `lstat` sees it (a symlink is not: neither tool's walk follows one).
pub(super) fn sorted_entries(dir: &Path) -> std::io::Result<Vec<(String, bool)>> {
    let mut entries: Vec<(String, bool)> = (std::fs::read_dir(dir)?)
        .filter_map(Result::ok)
        .map(|e| {
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            (e.file_name().to_string_lossy().into_owned(), is_dir)
        })
        .collect();
    entries.sort_unstable();
    Ok(entries)
}

impl Walk {
    /// The [`sorted_entries`] of `dir`; none when it cannot be read, recorded in `unlisted`.
    fn list(&mut self, dir: &Path) -> Vec<(String, bool)> {
        sorted_entries(dir).unwrap_or_else(|e| {
            self.unlisted
                .push((dir.to_path_buf(), e.kind().to_string()));
            Vec::new()
        })
    }
}

/// `./` and the path of `p` under `base`, with forward slashes.
fn entry(base: &Path, p: &Path) -> String {
    format!("./{}", super::rel(base, p))
}

/// Flux's walk (see the module's comment) of `dir` under `base`, into `walk`: only files of
/// the source's `artifact` that git tracks under `root`'s repository (source-controller
/// archives a clone of a commit, fluxcd/source-controller
/// `internal/controller/gitrepository_controller.go`: an untracked or ignored file is not in
/// it, and goes to `walk.untracked`); a directory is a kustomization's when the artifact holds its kustomization file, and is
/// then not looked into.
fn flux_walk(base: &Path, dir: &Path, (artifact, root): (&Artifact, &Path), walk: &mut Walk) {
    for (name, is_dir) in walk.list(dir) {
        let p = dir.join(&name);
        let tracked = |f: &Path| super::gitroot::clone_lacks(root, f).is_none();
        let in_artifact = |f: &Path| artifact.leaves_out(f).is_none() && tracked(f);
        if is_dir {
            if name == ".git" {
                continue;
            }
            // kustomize-controller asks `fs.Exists(kpath) && !fs.IsDir(kpath)`.
            let has_kustomization = (super::KUSTOMIZATION_FILE_NAMES.iter()).any(|k| {
                let kfile = p.join(k);
                kfile.exists() && !kfile.is_dir() && in_artifact(&kfile)
            });
            if has_kustomization {
                walk.entries.push(entry(base, &p));
            } else {
                flux_walk(base, &p, (artifact, root), walk);
            }
        } else if flux_lists(&name) && artifact.leaves_out(&p).is_none() {
            match tracked(&p) {
                true => walk.entries.push(entry(base, &p)),
                false => walk.untracked.push(entry(base, &p)),
            }
        }
    }
}

/// Whether Flux's generated kustomization lists the file `name` (a name or path): only a `.yaml`
/// or `.yml` one, by its exact extension (fluxcd/pkg `kustomize/kustomize_generator.go`).
pub(super) fn flux_lists(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// Argo CD's walk (see the module's comment) of `dir` under `base`, into `out`: only files git
/// tracks under `root`'s repository (the repo-server walks a clone of a commit; the others go to
/// `walk.untracked`).
fn argo_walk(base: &Path, dir: &Path, (recurse, root): (bool, &Path), walk: &mut Walk) {
    for (name, is_dir) in walk.list(dir) {
        let p = dir.join(&name);
        if is_dir {
            if recurse {
                argo_walk(base, &p, (recurse, root), walk);
            }
            continue;
        }
        let manifest = [".yaml", ".yml", ".json", ".jsonnet"]
            .iter()
            .any(|e| name.len() > e.len() && name.ends_with(e));
        // Only a regular file, or a link to one, is read.
        if !manifest || !p.is_file() {
            continue;
        }
        let list = match super::gitroot::clone_lacks(root, &p) {
            None => &mut walk.entries,
            Some(_) => &mut walk.untracked,
        };
        if name.ends_with(".jsonnet") {
            list.push(entry(base, &p));
            continue;
        }
        let Ok(bytes) = crate::fsio::read_limited(&p, super::MAX_FILE_BYTES) else {
            // Unreadable or over the size limit: listed, so that the build says why.
            list.push(entry(base, &p));
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        if text.contains(ARGO_SKIP_MARKER) || (!name.ends_with(".json") && argo_skips(&text)) {
            continue;
        }
        list.push(entry(base, &p));
    }
}

/// Whether Argo CD skips a YAML file as unrelated to Kubernetes: its first document that is not
/// empty does not decode as an object with a `kind`, and the text does not look like a manifest
/// (`getObjsFromYAMLOrJSON`: one that does, or a bad document after good ones, fails the sync).
fn argo_skips(text: &str) -> bool {
    let looks_like_manifest =
        text.contains("apiVersion:") && text.contains("kind:") && text.contains("metadata:");
    if looks_like_manifest {
        return false;
    }
    for piece in crate::yamlpos::pieces(text, false) {
        match yaml_serde::from_str::<Value>(piece.text) {
            Ok(Value::Null) => {}
            Ok(v) => {
                return v
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty);
            }
            Err(_) => return true,
        }
    }
    false
}

/// How the deploy source `source` of an object of `kind` builds a directory without a
/// kustomization file: always Flux's generated kustomization; for Argo CD a directory source,
/// unless the source names a Helm chart, Helm options or a plugin (argo-cd
/// `reposerver/repository/repository.go`, `GetAppSourceType`), or the directory holds a
/// `Chart.yaml` (checked by the caller's build, see [`is_helm_chart`]). `line` gives the line of
/// a key path under the source.
pub(crate) fn of_source(
    source: &Value,
    kind: &str,
    line: &dyn Fn(&[&str]) -> usize,
) -> Option<Plain> {
    if kind == "Kustomization" {
        return Some(Plain::Flux);
    }
    if ["chart", "helm", "plugin"]
        .iter()
        .any(|k| source.get(*k).is_some())
    {
        return None;
    }
    let directory = source.get("directory");
    let recurse = directory
        .and_then(|d| d.get("recurse"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let given = |key: &str| match directory.and_then(|d| d.get(key)) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Mapping(m)) => !m.is_empty(),
        Some(_) => true,
    };
    let unmodelled = ["include", "exclude"]
        .into_iter()
        .filter(|k| given(k))
        .map(|k| (k.to_owned(), line(&["directory", k])))
        .collect();
    Some(Plain::ArgoDirectory {
        recurse,
        unmodelled,
    })
}

/// Whether Argo CD takes `dir` for a Helm chart (it holds a `Chart.yaml`), not a directory of
/// manifests (argo-cd `util/app/discovery/discovery.go`).
pub fn is_helm_chart(dir: &Path) -> bool {
    dir.join("Chart.yaml").is_file()
}
