//! Replays a kustomize build over names only: accumulate resources, generators and components,
//! apply each level's transforms in kustomize's order, append generator hashes at the top, then
//! fix name references.
//!
//! Owns the walk over kustomization files and the per-object name history. Must not write, run
//! kustomize, fetch URLs, or read env-file values (keys only, via `crate::envfile::parse`).
//!
//! Upstream order (kubernetes-sigs/kustomize `api/internal/target/kusttarget.go`):
//! `accumulateTarget` = resources → configurations → generators (`ConfigMap`, Secret, then
//! `generators:`) → components (run in the parent's accumulator, so their transforms see the
//! parent's objects) → transformers (`kusttarget_configplugin.go`: patchesStrategicMerge,
//! patches, namespace, prefix/suffix, labels, annotations, patchesJson6902). At the top only:
//! hash suffixes (`addHashesToNames`), then `FixBackReferences` (name references).
//!
//! The steps live in `accumulate` (the walk), `generate` (generators), `transform` (patches and
//! name transforms) and `nameref` (the top-level reference fix-up); `obj` is the object being
//! built, `fields` the strict field checks.

mod accumulate;
mod config;
mod entry;
mod fields;
mod fsmerge;
mod generate;
mod loaded;
mod nameref;
mod obj;
mod transform;
mod written;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::deploy::{Destination, Layer, Restrictor};
use super::docs::{self, Doc};
use super::refs::NameRefRule;
use super::{
    Deleted, Generated, Identity, KustomizeError, Origin, Problem, ProblemKind, Reference,
    Resource, WrittenValue,
};
use crate::workspace::{entry_path, kustomization_file, lexical};
pub(crate) use accumulate::is_remote;
use obj::Obj;

#[derive(Debug, Clone, Default)]
pub(crate) struct BuildOutput {
    pub(crate) resources: Vec<Resource>,
    pub(crate) generated: Vec<Generated>,
    pub(crate) references: Vec<Reference>,
    pub(crate) problems: Vec<Problem>,
    pub(crate) written: Vec<WrittenValue>,
    pub(crate) deleted: Vec<Deleted>,
    /// Every file the build read as YAML, whatever its name (kustomization files, resources,
    /// patches, configurations, generator configs), and the files the fields it does not replay
    /// load (`openapi`, `crds`, `replacements`, Helm values, plugin `path`s), as `rel` names it.
    pub(crate) manifests: Vec<PathBuf>,
    /// The files the load restriction refuses (as `rel` names them, not normalised), each with
    /// the problem recorded for it (see `Builder::outside_root`); under Flux's, the directories
    /// outside the repository too (`Builder::outside_source`).
    pub(crate) refused: Vec<(PathBuf, Problem)>,
    /// Under Flux's load restriction only: why the build cannot tell whether a path kustomize
    /// loads lies inside the repository (not a string, a pattern, a directory of plugin
    /// configurations the model does not walk: see `loaded`). Not findings of their own (the
    /// fields are reported as not modelled); they keep `check --render` from running kustomize
    /// unrestricted on the overlay (`Overlay::outside_source`).
    pub(crate) unjudged: Vec<Problem>,
}

/// The start of a [`Problem`] message for YAML that does not parse (see
/// [`Problem::is_yaml_syntax`]).
pub(crate) const YAML_SYNTAX_PREFIX: &str = "yaml does not parse: ";

/// The problem message for a file kustomize reads that is not UTF-8 (kubectl: "yaml: invalid
/// UTF-8" or "incomplete UTF-8 octet sequence", from go-yaml's reader).
pub(crate) fn not_utf8(shown: &str, line: usize) -> String {
    let what = crate::fsio::not_utf8(shown, line);
    format!("{what}: kustomize fails to build")
}

/// The parsed documents of one file.
type FileDocs = Arc<Vec<Arc<Doc>>>;

/// Reads a file a build reads: a regular file of at most [`MAX_FILE_BYTES`](crate::workspace::MAX_FILE_BYTES)
/// (`fsio::read_limited`), never a FIFO or device, whose open would block until a writer came
/// (as `kubectl kustomize`'s does).
fn read_file(path: &Path) -> Result<Vec<u8>, crate::fsio::FsError> {
    crate::fsio::read_limited(path, crate::workspace::MAX_FILE_BYTES)
}

/// `e`'s message without the path it starts with: the caller names the file as it shows it.
fn reason(path: &Path, e: &crate::fsio::FsError) -> String {
    let text = e.to_string();
    let prefix = format!("{}: ", path.display());
    text.strip_prefix(&prefix).unwrap_or(&text).to_owned()
}

/// Why a file gave no documents.
#[derive(Clone, Debug)]
enum Unread {
    /// Not UTF-8, first at this 1-based line.
    NotUtf8 {
        line: usize,
    },
    Io(String),
}

/// Files parsed during one run, shared by every overlay built with it: a base included by many
/// overlays is read and parsed once. Keyed by canonical path; holds only files outside the
/// overlay directory that first read them (an overlay's own files are rarely shared, and are
/// released with its build). Create one per run: it never notices a file changing.
///
/// A caller that has already read the files (check) hands their texts over with
/// [`ParseCache::with_texts`], so that the builds do not read them from disk again.
#[derive(Default, Debug)]
pub struct ParseCache<'t> {
    files: Mutex<HashMap<PathBuf, Result<FileDocs, Unread>>>,
    /// Directories, as the builds joined them, with their symlinks resolved
    /// ([`ParseCache::canonical`]).
    canonical: Mutex<HashMap<PathBuf, Option<PathBuf>>>,
    /// Directories, as the builds joined them, whose lexically tidied path leads elsewhere, with
    /// where they lead (`None`: it leads there too, or nowhere) ([`ParseCache::misspelled`]).
    misspelled: Mutex<HashMap<PathBuf, Option<PathBuf>>>,
    /// Texts read before the builds, by lexically normalised absolute path ([`lexical`]).
    texts: HashMap<PathBuf, &'t str>,
    /// YAML files every document of which parsed (see [`ParseCache::manifests`]).
    manifests: Mutex<Vec<(PathBuf, Vec<String>)>>,
}

impl<'t> ParseCache<'t> {
    /// A cache whose builds take these files' texts (absolute paths) instead of reading them.
    pub fn with_texts(texts: impl IntoIterator<Item = (PathBuf, &'t str)>) -> Self {
        use rayon::prelude::*;
        let texts: Vec<(PathBuf, &'t str)> = texts.into_iter().collect();
        ParseCache {
            texts: texts
                .into_par_iter()
                .map(|(p, t)| (lexical(&p), t))
                .collect(),
            ..ParseCache::default()
        }
    }

    /// The text of `path` (absolute) when the run read it before the builds
    /// ([`ParseCache::with_texts`]). Looked up by its lexically tidied path, which names the same
    /// file for every path the builds read ([`ParseCache::join`]).
    pub(crate) fn text(&self, path: &Path) -> Option<&'t str> {
        self.texts.get(&lexical(path)).copied()
    }

    /// The path `entry` names in the kustomization of `dir` ([`entry_path`]), spelled so that
    /// tidying it lexically (as the texts' keys, the messages and the rules do) names the same
    /// file ([`ParseCache::misspelled`]). Every path a build reads is joined here from the
    /// overlay's directory (as written: its links are resolved where a path is judged), or is
    /// a kustomization file or an env file's `.example` beside a path joined here.
    pub(super) fn join(&self, dir: &Path, entry: &str) -> PathBuf {
        let path = entry_path(dir, entry);
        self.misspelled(&path).unwrap_or(path)
    }

    /// `path` with its directory's symbolic links resolved, when tidying `path` lexically (as
    /// the texts' keys, the messages and the rules do) would name another file than the system
    /// finds at `path`: a `..` after a link (`linked/../x` is, to the system, the `x` beside
    /// where the link leads, not the one beside the link). A path in a directory that does not
    /// exist is judged by where it would be ([`ParseCache::leads_to`]). `None` when the tidied
    /// path names the same file.
    pub(super) fn misspelled(&self, path: &Path) -> Option<PathBuf> {
        let (dir, name) = match path.file_name() {
            Some(name) => (path.parent()?, Some(name)),
            None => (path, None),
        };
        if !dir
            .components()
            .any(|c| c == std::path::Component::ParentDir)
        {
            return None;
        }
        let known = lock(&self.misspelled).get(dir).cloned();
        let real = known.unwrap_or_else(|| {
            let real = self.leads_to(dir);
            let real = real.filter(|r| self.leads_to(&lexical(dir)).as_ref() != Some(r));
            lock(&self.misspelled).insert(dir.to_path_buf(), real.clone());
            real
        })?;
        Some(name.map_or_else(|| real.clone(), |n| real.join(n)))
    }

    /// The documents of `path`, from the cache when `shared`, else read and parsed now. The
    /// cache key is the file's resolved path ([`ParseCache::resolved_file`]), which costs one
    /// `lstat` once its directory is resolved.
    fn load(&self, path: &Path, shared: bool) -> Result<FileDocs, Unread> {
        let key = if shared {
            self.resolved_file(path)
        } else {
            None
        };
        let Some(key) = key else {
            return self.read_docs(path);
        };
        if let Some(hit) = lock(&self.files).get(&key) {
            return hit.clone();
        }
        // Parsed outside the lock: two builds may both parse a file the first time, not more.
        let loaded = self.read_docs(path);
        lock(&self.files).entry(key).or_insert(loaded).clone()
    }

    /// The directory `dir` (absolute) with its symbolic links resolved, as the system resolves
    /// it: a `..` after a link steps out of where the link leads. `None` when it is not a
    /// directory. Remembered per path as written (not lexically tidied, which would take
    /// `linked/../x` for `x`), and worked out from its parent's answer: a directory costs one
    /// `lstat` (a link, a `canonicalize`) once its parent is known, and a `..` none.
    fn canonical(&self, dir: &Path) -> Option<PathBuf> {
        if let Some(known) = lock(&self.canonical).get(dir) {
            return known.clone();
        }
        let resolved = self.resolve_dir(dir);
        lock(&self.canonical)
            .entry(dir.to_path_buf())
            .or_insert(resolved)
            .clone()
    }

    /// [`ParseCache::canonical`]'s work, one step from the parent's answer.
    fn resolve_dir(&self, dir: &Path) -> Option<PathBuf> {
        use std::path::Component;
        match (dir.components().next_back(), dir.parent()) {
            (Some(Component::Normal(name)), Some(up)) if dir.has_root() => {
                let at = self.canonical(up)?.join(name);
                let kind = at.symlink_metadata().ok()?.file_type();
                match kind.is_symlink() {
                    true => std::fs::canonicalize(&at).ok().filter(|p| p.is_dir()),
                    false => kind.is_dir().then_some(at),
                }
            }
            (Some(Component::ParentDir), Some(up)) if dir.has_root() => {
                let real = self.canonical(up)?;
                Some(
                    real.parent()
                        .map_or_else(|| real.clone(), Path::to_path_buf),
                )
            }
            _ => std::fs::canonicalize(dir).ok().filter(|p| p.is_dir()),
        }
    }

    /// Where `dir` (absolute) leads: [`ParseCache::canonical`], or for a directory that does not
    /// exist, where it would be: its deepest existing ancestor resolved, with the rest of the
    /// path after it.
    fn leads_to(&self, dir: &Path) -> Option<PathBuf> {
        if let Some(real) = self.canonical(dir) {
            return Some(real);
        }
        let (up, real) = dir
            .ancestors()
            .skip(1)
            .find_map(|a| Some((a, self.canonical(a)?)))?;
        Some(real.join(lexical(dir.strip_prefix(up).ok()?)))
    }

    /// The file `path` with symlinks resolved: its resolved directory (cached) and its name, or,
    /// when the file itself is a link, where the link leads. One `lstat` for most files instead
    /// of a `readlink` per path component. A missing file is where its resolved directory puts
    /// it: where it will be once created (an env file's `.example` stands in for it until then),
    /// which kyaml filesys/fsondisk.go `CleanedAbs` resolves whole, directory links included.
    fn resolved_file(&self, path: &Path) -> Option<PathBuf> {
        let meta = std::fs::symlink_metadata(path).ok();
        if meta.is_some_and(|m| m.file_type().is_symlink()) {
            return std::fs::canonicalize(path).ok();
        }
        Some(self.canonical(path.parent()?)?.join(path.file_name()?))
    }

    /// The text of `path`: the one handed over, else read from disk.
    fn read_text(&self, path: &Path) -> Result<std::borrow::Cow<'t, str>, Unread> {
        if let Some(t) = self.text(path) {
            return Ok(std::borrow::Cow::Borrowed(t));
        }
        let bytes = read_file(path).map_err(|e| Unread::Io(reason(path, &e)))?;
        // Every text read here is YAML: its lone carriage returns break lines
        // (`yamlpos::lone_cr_as_lf`), for the first-document rules as for the parse.
        String::from_utf8(bytes)
            .map(|t| std::borrow::Cow::Owned(crate::yamlpos::lone_cr_as_lf(t)))
            .map_err(|e| {
                let line = crate::fsio::line_at(e.as_bytes(), e.utf8_error().valid_up_to());
                Unread::NotUtf8 { line }
            })
    }

    fn read_docs(&self, path: &Path) -> Result<FileDocs, Unread> {
        let text = self.read_text(path)?;
        Ok(Arc::new(
            docs::split_docs(&text).into_iter().map(Arc::new).collect(),
        ))
    }

    /// Files the builds read as YAML (resources, kustomizations, patches) whose every document
    /// parsed (no syntax error, no mapping or list as a key, no `...` line), each with its
    /// documents' kinds: a caller that would parse them again only to look for syntax errors or
    /// those kinds need not.
    /// Paths are lexically normalised, as joined from the overlay directories.
    pub fn manifests(&self) -> Vec<(PathBuf, Vec<String>)> {
        std::mem::take(&mut *lock(&self.manifests))
    }

    /// Records the resource, kustomization and patch files another cache's builds parsed whole
    /// ([`ParseCache::manifests`]), for a build made before this cache and taken over by its run.
    pub(crate) fn record_manifests(&self, manifests: Vec<(PathBuf, Vec<String>)>) {
        lock(&self.manifests).extend(manifests);
    }
}

/// A poisoned lock means a build panicked; what it guards is still consistent.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One overlay's build: the objects' walk state and what it found.
struct Builder<'r> {
    root: &'r Path,
    /// The overlay directory being built (files outside it go through the shared cache).
    top: PathBuf,
    shared: &'r ParseCache<'r>,
    /// Files this build has read (each reported once).
    files: HashMap<PathBuf, Option<FileDocs>>,
    problems: Vec<Problem>,
    /// Files the load restrictor refuses, with their problems (see [`BuildOutput::refused`]).
    refused: Vec<(PathBuf, Problem)>,
    /// See [`BuildOutput::unjudged`].
    unjudged: Vec<Problem>,
    /// Files the fields the model does not replay make kustomize read (`loaded`): build
    /// inputs, as the files in `files` are.
    loaded: Vec<PathBuf>,
    /// Secret and SealedSecret values written by patches (see [`written`]).
    written: Vec<WrittenValue>,
    /// Objects `$patch: delete` patches removed.
    deleted: Vec<Deleted>,
    rules: Vec<NameRefRule>,
    /// A kustomization field kustomize reads (a case variant of its name: `Resources`) was
    /// skipped: the objects it would add or change are missing from the model.
    skipped_field: bool,
    /// The `configurations:` fieldSpecs read so far, in kustomize's merge order (`fsmerge`).
    merged: Vec<(fsmerge::Fs, Origin)>,
    /// Canonical kustomization files being accumulated, outermost first (cycle detection).
    stack: Vec<PathBuf>,
    /// What the Argo CD / Flux objects deploying the overlay set in its own kustomization and
    /// where they apply it (`super::deploy`).
    layer: &'r Layer,
    /// The overlay's kustomization when the tool deploying it generates one ([`GeneratedTop`]).
    generated: Option<(Arc<Doc>, Origin)>,
}

/// The kustomization a tool generates for a directory without one (`crate::workspace::plain`),
/// built in its place: its `resources:` (it has nothing else), relative to the directory, and
/// where what concerns it is reported (the deploying object's `path` line, there being no file).
/// `untracked`, written as `entries` are, is not built: the files the tool would list were git
/// tracking them.
#[derive(Debug, Clone)]
pub(crate) struct GeneratedTop {
    pub(crate) entries: Vec<String>,
    pub(crate) at: Origin,
    pub(crate) untracked: Vec<String>,
}

impl<'r> Builder<'r> {
    fn rel(&self, p: &Path) -> PathBuf {
        p.strip_prefix(self.root)
            .map_or_else(|_| p.to_path_buf(), Path::to_path_buf)
    }

    /// `p` as a message names it: relative to the root, with `..` steps for a path above it in
    /// its git repository (`../../shared/app.env`, the name `check` gives the files an overlay
    /// reads there), the root itself as `.`; else as [`Self::rel`] gives it.
    fn shown(&self, p: &Path) -> String {
        let (p, root) = (lexical(p), lexical(self.root));
        let top = lexical(&crate::workspace::repository_top(self.root));
        for (up, dir) in root.ancestors().enumerate() {
            if let Ok(r) = p.strip_prefix(dir) {
                let shown = crate::workspace::path_str(&Path::new(&"../".repeat(up)).join(r));
                return if shown.is_empty() {
                    ".".to_owned()
                } else {
                    shown
                };
            }
            if dir == top {
                break;
            }
        }
        self.rel(&p).display().to_string()
    }

    /// Records a problem; a shared base is built once per including level, so a problem
    /// already recorded at the same place is not repeated.
    fn problem(&mut self, kind: ProblemKind, file: &Path, line: usize, message: String) {
        let origin = Origin {
            file: self.rel(file),
            line,
        };
        if self
            .problems
            .iter()
            .any(|p| p.origin == origin && p.message == message)
        {
            return;
        }
        self.problems.push(Problem {
            kind,
            origin,
            message,
        });
    }

    /// Whether the build has already failed, or skipped a field kustomize reads. kustomize stops
    /// at its first error; the model goes on to find the others, except those the first one
    /// causes: an object that is missing because a resource did not load (or was listed under a
    /// field spelling the model skips) is no second error (a patch target or `replicas` entry
    /// that finds nothing then is not reported).
    fn failed(&self) -> bool {
        self.skipped_field || self.problems.iter().any(super::Problem::fails_build)
    }

    /// Records a problem at `at` even when the same one was recorded before.
    fn problem_at(&mut self, kind: ProblemKind, at: &Origin, message: String) {
        self.problems.push(Problem {
            kind,
            origin: at.clone(),
            message,
        });
    }

    /// The documents of a YAML file, read once per build; problems are recorded at `from`.
    fn docs(&mut self, path: &Path, from: &Origin) -> Option<FileDocs> {
        if let Some(cached) = self.files.get(path) {
            return cached.clone();
        }
        let shared = !lexical(path).starts_with(&self.top);
        let loaded = self.shared.load(path, shared);
        self.remember(path, from, loaded)
    }

    /// Records a file's documents for this build (its syntax problems, or why it is unread).
    fn remember(
        &mut self,
        path: &Path,
        from: &Origin,
        loaded: Result<FileDocs, Unread>,
    ) -> Option<FileDocs> {
        let loaded = match loaded {
            Ok(docs) => {
                for d in docs.iter() {
                    if let Err(e) = &d.value {
                        let at = Origin {
                            file: self.rel(path),
                            line: d.error_line,
                        };
                        // Valid YAML kustomize cannot read is no syntax error: the rules'
                        // own YAML pass accepts it, so it is reported as a build error.
                        let message = if e == super::docs::DIRECTIVE {
                            e.clone()
                        } else {
                            format!("{YAML_SYNTAX_PREFIX}{e}")
                        };
                        self.problem_at(ProblemKind::Invalid, &at, message);
                    }
                }
                Some(docs)
            }
            Err(e) => {
                let shown = self.shown(path);
                let msg = match e {
                    Unread::NotUtf8 { line } => not_utf8(&shown, line),
                    Unread::Io(e) => format!("cannot read {shown}: {e}: kustomize fails to build"),
                };
                self.problem_at(ProblemKind::Invalid, from, msg);
                None
            }
        };
        self.files.insert(path.to_path_buf(), loaded.clone());
        loaded
    }

    /// Whether the load restriction the overlay is built with ([`Restrictor`], from the layer)
    /// refuses the file `path` that the kustomization in `dir` names at `at`. A refused file is
    /// recorded with its problem in [`BuildOutput::refused`].
    ///
    /// kustomize's default (`LoadRestrictionsRootOnly`, api/internal/loader/fileloader.go): a
    /// file (not a directory) must be in or below the kustomization root, both with symlinks
    /// resolved (`filesys.CleanedAbs`, `ConfirmedDir`), so a link inside the root to a file
    /// outside it is refused too, and so is a file in a linked directory that leads outside it.
    /// Flux's (`LoadRestrictionsNone` on a file system confined to the repository): the same
    /// test against the repository's top level instead (fluxcd/pkg
    /// `kustomize/filesys/fs_secure.go`, `isSecurePath`, resolves symlinks too). A path whose
    /// directory does not resolve (a missing directory, reported on its own) is compared as
    /// written.
    fn outside_root(&mut self, dir: &Path, path: &Path, at: &Origin) -> bool {
        let bound = self.layer.restrictor.bound(dir).to_path_buf();
        let Some(link) = self.outside(&bound, path) else {
            return self.not_in_artifact("file", path, path, at);
        };
        let msg = match &self.layer.restrictor {
            Restrictor::RootOnly => format!(
                "file {}{link} is not in or below {}: kustomize refuses to load it",
                self.shown(path),
                self.shown(dir)
            ),
            Restrictor::SourceRoot(_) => self.outside_source_message("file", path, &link),
        };
        self.refuse(path, at, msg);
        true
    }

    /// Under Flux's load restriction, whether it refuses the directory `path` (a resource or
    /// component, named at `at`) for lying outside the repository (fluxcd/pkg
    /// `kustomize/filesys/fs_secure.go`: every path the build opens is confined, directories
    /// too). kustomize's default restriction does not bound directories; a Flux Kustomization
    /// deploying the overlay beside another tool still needs the directory's kustomization
    /// file in its artifact.
    pub(super) fn outside_source(&mut self, path: &Path, at: &Origin) -> bool {
        let layer: &Layer = self.layer;
        let link = match &layer.restrictor {
            Restrictor::SourceRoot(top) => self.outside(top, path),
            Restrictor::RootOnly => None,
        };
        let Some(link) = link else {
            // Inside the bound: Flux's artifact, or git, may still leave its kustomization
            // file out.
            if layer.artifacts.is_empty() && !layer.from_git {
                return false;
            }
            let kfile = crate::workspace::kustomization_file(path);
            return kfile.is_some_and(|k| self.not_in_artifact("directory", path, &k, at));
        };
        let msg = self.outside_source_message("directory", path, &link);
        self.refuse(path, at, msg);
        true
    }

    /// `None` when `path`, symlinks resolved, is in or below `bound`; else what the message
    /// adds about it: where it leads when it is a link (or in a linked directory) written
    /// inside `bound`, or nothing.
    fn outside(&self, bound: &Path, path: &Path) -> Option<String> {
        let resolved = self.shared.resolved_file(path);
        let inside = match (&resolved, self.shared.canonical(bound)) {
            (Some(p), Some(d)) => p.starts_with(d),
            _ => lexical(path).starts_with(lexical(bound)),
        };
        if inside {
            return None;
        }
        Some(
            resolved
                .filter(|r| lexical(path).starts_with(lexical(bound)) && *r != lexical(path))
                .map(|r| format!(" (a link to {})", self.shown(&r)))
                .unwrap_or_default(),
        )
    }

    /// Why Flux refuses the `what` (`file`, `directory`) at `path`: it lies outside the
    /// repository.
    fn outside_source_message(&self, what: &str, path: &Path, link: &str) -> String {
        format!(
            "{what} {}{link} is outside the repository: the Flux Kustomizations deploying the overlay build it with no load restrictor, but on a file system confined to their source's root (this repository), so Flux refuses to load it",
            self.shown(path)
        )
    }

    /// Whether the artifact of a Flux Kustomization deploying the overlay leaves out `file`
    /// (`path` itself, or the kustomization file of the directory `path`, named at `at`): Flux's
    /// build does not find it (fluxcd/source-controller archives only the files its ignore
    /// patterns keep, `crate::workspace::artifact`). Recorded as a refusal.
    fn not_in_artifact(&mut self, what: &str, path: &Path, file: &Path, at: &Origin) -> bool {
        let layer: &Layer = self.layer;
        let Some(why) = layer.artifacts.iter().find_map(|a| a.leaves_out(file)) else {
            return self.not_committed(what, path, file, at);
        };
        let msg = format!(
            "{what} {} is not in the artifact Flux builds from: {why} leaves {} out of its source, so Flux's build does not find it",
            self.shown(path),
            self.shown(file),
        );
        self.refuse(path, at, msg);
        true
    }

    /// Whether Argo CD or Flux, deploying the overlay, build it without `file` (`path` itself,
    /// or the kustomization file of the directory `path`, named at `at`): both build from a
    /// clone of the repository's commits (argo-cd `reposerver/repository/repository.go`,
    /// fluxcd/source-controller `internal/controller/gitrepository_controller.go`), which holds
    /// no file git does not track. A real env file, or a generator input with a `.example`
    /// beside it, is meant to stay out of git, its `.example` standing in: not judged here; nor
    /// is an entry of a generated kustomization (`workspace::plain` lists the files there).
    /// Recorded as a refusal.
    fn not_committed(&mut self, what: &str, path: &Path, file: &Path, at: &Origin) -> bool {
        let generated = self.generated.as_ref().is_some_and(|(_, g)| g == at);
        if !self.layer.from_git || generated || !file.is_file() {
            return false;
        }
        let shown = self.shown(file);
        if crate::envfile::is_real_env_file(&shown) || generate::has_example(file) {
            return false;
        }
        let Some(lacks) = crate::workspace::clone_lacks(self.root, file) else {
            return false;
        };
        let because = match path == file {
            true => lacks.because("it"),
            false => lacks.because(&format!("its kustomization file {shown}")),
        };
        let msg = format!(
            "{what} {} {because}: Argo CD and Flux build from the repository's commits and will not find it",
            self.shown(path),
        );
        self.refuse(path, at, msg);
        true
    }

    /// Records the load restriction's refusal of `path`, named at `at`, as a build error.
    fn refuse(&mut self, path: &Path, at: &Origin, msg: String) {
        let problem = Problem {
            kind: ProblemKind::BuildError,
            origin: Origin {
                file: self.rel(&at.file),
                line: at.line,
            },
            message: msg.clone(),
        };
        self.refused.push((self.rel(path), problem));
        self.problem(ProblemKind::BuildError, &at.file, at.line, msg);
    }
}

/// Builds the kustomization in `dir`, reading shared files through `shared`.
#[cfg(test)]
pub(crate) fn build(
    root: &Path,
    dir: &Path,
    shared: &ParseCache<'_>,
) -> Result<BuildOutput, KustomizeError> {
    build_deployed(root, dir, shared, (&Layer::default(), None))
}

/// The name the generated kustomization goes by inside the build (never a file: nothing is
/// written, and it is no path any finding names).
const GENERATED_KUSTOMIZATION: &str = "<generated kustomization>";

/// The generated kustomization as the document the walk reads (its value only: everything
/// about it is reported at [`GeneratedTop::at`], never at a line of it).
fn generated_doc(g: &GeneratedTop) -> Arc<Doc> {
    use yaml_serde::Value;
    let entries = g.entries.iter().map(|e| Value::from(e.as_str())).collect();
    let mut k = yaml_serde::Mapping::new();
    k.insert("resources".into(), Value::Sequence(entries));
    Arc::new(Doc::of_value(Value::Mapping(k)))
}

/// Builds the kustomization in `dir` as the objects deploying it build it: with the fields of
/// `layer` set in its own kustomization, and its namespaced objects that render without a
/// namespace applied into the layer's destination (see `super::deploy`).
pub(crate) fn build_deployed(
    root: &Path,
    dir: &Path,
    shared: &ParseCache<'_>,
    (layer, generated): (&Layer, Option<&GeneratedTop>),
) -> Result<BuildOutput, KustomizeError> {
    let mut b = Builder {
        root,
        top: lexical(dir),
        shared,
        files: HashMap::new(),
        problems: Vec::new(),
        refused: Vec::new(),
        unjudged: Vec::new(),
        loaded: Vec::new(),
        written: Vec::new(),
        deleted: Vec::new(),
        rules: Vec::new(),
        skipped_field: false,
        merged: Vec::new(),
        stack: Vec::new(),
        layer,
        generated: None,
    };
    let top = match generated {
        Some(g) => {
            b.generated = Some((generated_doc(g), g.at.clone()));
            g.at.clone()
        }
        None => {
            let (kfile, kdocs) = top_kustomization(dir, shared)?;
            let top = Origin {
                file: b.rel(&kfile),
                line: 1,
            };
            // The walk takes the top kustomization as parsed here, not parsing it again.
            _ = b.remember(&kfile, &top, Ok(kdocs));
            top
        }
    };
    let mut acc = Vec::new();
    b.accumulate(dir, &mut acc, false, &top);
    let rels: Vec<PathBuf> = b.problems.iter().map(|p| b.rel(&p.origin.file)).collect();
    for (p, f) in b.problems.iter_mut().zip(rels) {
        p.origin.file = f;
    }

    // kustomize addHashesToNames: once, at the top, after every transform.
    for o in acc.iter_mut().filter(|o| o.needs_hash) {
        o.hashed = true;
    }
    land(&mut acc, layer, &mut b.problems);
    let references = nameref::fix_back_references(&acc, &b.rules, &mut b.problems);
    let (resources, generated) = finish(acc);
    let mut manifests: Vec<PathBuf> = (b.files.keys().chain(&b.loaded))
        .map(|p| b.rel(p))
        .collect();
    manifests.sort();
    manifests.dedup();
    Ok(BuildOutput {
        resources,
        generated,
        references,
        problems: b.problems,
        written: b.written,
        deleted: b.deleted,
        manifests,
        refused: b.refused,
        unjudged: b.unjudged,
    })
}

/// Argo CD's placing of the namespaced objects that render without a namespace into its
/// destination (`layer.destination`, see `super::deploy`), after the build: kustomize's name
/// references were rewritten without it, and resolve with it ([`Obj::deployed_ns`]). When the
/// destination is not known, its problems are recorded if such an object renders.
fn land(acc: &mut [Obj], layer: &Layer, problems: &mut Vec<Problem>) {
    let mut homeless = acc
        .iter_mut()
        .filter(|o| lands_in_destination(&o.kind, o.namespace.as_deref()))
        .peekable();
    match &layer.destination {
        Destination::Keep => {}
        Destination::Into(ns) => homeless.for_each(|o| o.landed = Some(ns.clone())),
        Destination::Unknown(why) => {
            if homeless.peek().is_some() {
                problems.extend(why.iter().cloned());
            }
        }
    }
}

/// Whether an object of `kind` in namespace `ns` (as rendered) is one Argo CD applies into its
/// destination namespace: a namespaced kind without a namespace.
pub(crate) fn lands_in_destination(kind: &str, ns: Option<&str>) -> bool {
    ns.is_none_or(str::is_empty) && !obj::is_cluster_scoped(kind)
}

/// The overlay's own kustomization file and its documents, refused when it is missing,
/// unreadable or does not parse (every other file's trouble is a [`Problem`]).
fn top_kustomization(
    dir: &Path,
    shared: &ParseCache<'_>,
) -> Result<(PathBuf, FileDocs), KustomizeError> {
    let Some(kfile) = kustomization_file(dir) else {
        return Err(KustomizeError::NoKustomization {
            dir: dir.to_path_buf(),
        });
    };
    if let Some(message) = crate::workspace::unreadable_entry(&kfile) {
        return Err(KustomizeError::Unreadable {
            path: kfile,
            message,
        });
    }
    let docs = shared.read_docs(&kfile).map_err(|e| match e {
        Unread::Io(message) => KustomizeError::Unreadable {
            path: kfile.clone(),
            message,
        },
        Unread::NotUtf8 { line } => KustomizeError::NotUtf8 {
            path: kfile.clone(),
            line,
        },
    })?;
    if let Some(d) = docs.first()
        && let Err(e) = &d.value
    {
        return Err(KustomizeError::Syntax {
            path: kfile.clone(),
            line: d.error_line,
            message: e.clone(),
        });
    }
    Ok((kfile, docs))
}

/// The built objects as the model's resources and generated objects.
fn finish(acc: Vec<Obj>) -> (Vec<Resource>, Vec<Generated>) {
    let mut resources = Vec::new();
    let mut generated = Vec::new();
    for o in acc {
        let rendered = Identity {
            name: o.name.clone(),
            namespace: o.deployed_ns().map(str::to_owned),
        };
        let annotations = o.annotations();
        let secret_type = super::secret_type_of(&o.kind, &o.value);
        if let Some(g) = o.generated {
            generated.push(Generated {
                kind: g.kind,
                original: g.original,
                rendered,
                hash_suffix: o.hashed,
                specs: g.specs,
                keys: g.keys,
                annotations,
                secret_type,
            });
        } else {
            let keys = super::secret_key_names(&o.kind, &o.value);
            let runtime_secrets = super::runtime_secrets::made_by(
                (o.group(), &o.kind),
                &o.value,
                (&rendered.name, rendered.namespace.as_deref()),
            );
            resources.push(Resource {
                api_version: o.api_version,
                kind: o.kind,
                original: o.original,
                rendered,
                origin: o.origin,
                doc_index: o.doc_index,
                name_line: o.name_line,
                annotations,
                keys,
                secret_type,
                runtime_secrets,
            });
        }
    }
    (resources, generated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::write_fixture as put;

    /// Issue 16: a base included by several overlays is read and parsed once per cache, while
    /// each overlay's own files are read by its own build.
    #[test]
    fn issue_16_a_shared_base_is_parsed_once_per_cache() {
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path();
        let config_map = |rel: &str, name: &str| {
            let text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
            put(root, rel, &text);
        };
        for dir in ["k8s/overlays/dev", "k8s/overlays/prod"] {
            let kust = "resources:\n  - ../../base\n  - own.yaml\n";
            put(root, &format!("{dir}/kustomization.yaml"), kust);
            config_map(&format!("{dir}/own.yaml"), "own-a");
        }
        put(
            root,
            "k8s/base/kustomization.yaml",
            "resources:\n  - cm.yaml\n",
        );
        config_map("k8s/base/cm.yaml", "base-a");
        let names = |dir: &str, cache: &ParseCache| -> Vec<String> {
            let out = build(root, &root.join(dir), cache).expect("builds");
            out.resources.into_iter().map(|r| r.rendered.name).collect()
        };

        let cache = ParseCache::default();
        assert_eq!(names("k8s/overlays/dev", &cache), ["base-a", "own-a"]);
        // Changed between the two builds: the second sees the first parse of the shared base,
        // and its own file as it is now.
        config_map("k8s/base/cm.yaml", "base-b");
        config_map("k8s/overlays/prod/own.yaml", "own-b");
        assert_eq!(names("k8s/overlays/prod", &cache), ["base-a", "own-b"]);
        assert_eq!(
            names("k8s/overlays/prod", &ParseCache::default()),
            ["base-b", "own-b"]
        );
    }

    /// The cache knows a shared file by its resolved path: a base reached through a symlinked
    /// directory is the base reached directly.
    #[cfg(unix)]
    #[test]
    fn a_base_reached_through_a_linked_directory_is_the_same_cached_file() {
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path();
        let config_map = |name: &str| {
            let text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n");
            put(root, "k8s/base/cm.yaml", &text);
        };
        put(
            root,
            "k8s/base/kustomization.yaml",
            "resources:\n  - cm.yaml\n",
        );
        config_map("base-a");
        std::os::unix::fs::symlink("base", root.join("k8s/linked")).expect("symlink");
        for (dir, base) in [("dev", "base"), ("prod", "linked")] {
            let kust = format!("resources:\n  - ../../{base}\n");
            put(
                root,
                &format!("k8s/overlays/{dir}/kustomization.yaml"),
                &kust,
            );
        }
        let names = |dir: &str, cache: &ParseCache| -> Vec<String> {
            let out = build(root, &root.join(dir), cache).expect("builds");
            out.resources.into_iter().map(|r| r.rendered.name).collect()
        };
        let cache = ParseCache::default();
        assert_eq!(names("k8s/overlays/dev", &cache), ["base-a"]);
        config_map("base-b");
        assert_eq!(names("k8s/overlays/prod", &cache), ["base-a"]);
        let fresh = ParseCache::default();
        assert_eq!(names("k8s/overlays/prod", &fresh), ["base-b"]);
    }
}
