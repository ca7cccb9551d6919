//! Environment discovery without a config file, from the kustomization graph (the rule is
//! documented in docs/check.md, "Where the environments are").
//!
//! Steps: walk the tree once (skipping `.git`, `target`, `node_modules`, hidden directories and
//! configured ignores; following symlinked directories once each), note every kustomization
//! directory and which local directories it includes, and every Argo CD `Application` /
//! Flux `Kustomization` object's path; then pick the candidates ([`pick`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use yaml_serde::Value;

use super::artifact::{Artifact, GitSpec, IgnoreFiles, SpecIgnore};
use super::flux_vars::Parent;
use super::{DeployOption, DeployTime, Found, PostBuild, is_flux, kustomization_file, rel};
use crate::yamlpos::Seg;

/// Directory names the walk never enters (besides hidden ones).
const SKIPPED_DIRS: [&str; 3] = [".git", "target", "node_modules"];

/// Whether the walk never enters a directory named `name`: a hidden one or [`SKIPPED_DIRS`].
pub(crate) fn skipped_dir(name: &str) -> bool {
    name.starts_with('.') || SKIPPED_DIRS.contains(&name)
}

/// Up to this many files (YAML files and kustomizations together), the scan reads them on the
/// calling thread (`par::map`).
const SEQUENTIAL_MAX: usize = 64;

/// Largest YAML file read to look for Argo CD / Flux objects.
const MAX_SCAN_BYTES: u64 = 4 * 1024 * 1024;

/// A kustomization directory seen by the walk.
#[derive(Debug, Clone)]
pub(crate) struct KustDir {
    /// The directory as reached from the root (a symlinked path stays as named).
    pub(crate) dir: PathBuf,
    /// True when its kustomization file says `kind: Component`.
    pub(crate) component: bool,
    /// True when its path (from the root) has a `base`, `bases` or `components` directory in
    /// it: a shared part by name ([`is_shared_part`]).
    pub(crate) shared_path: bool,
    /// Canonical directories it includes through `resources`, `bases` or `components`.
    pub(crate) includes: Vec<PathBuf>,
    /// The files its `resources` name (canonical); those outside its own directory are read by
    /// Flux's load restrictor (none, within the repository), not by kustomize's default one.
    pub(crate) files: Vec<PathBuf>,
    /// Its `namespace` when set (`""` when not a string), and whether it sets a `namePrefix` or
    /// `nameSuffix` (for [`super::flux_vars`]).
    pub(crate) namespace: Option<String>,
    pub(crate) renames: bool,
    /// False when its kustomization file cannot be read or does not parse: what it includes
    /// is then unknown, not nothing.
    pub(crate) parsed: bool,
    /// Where it patches an Argo CD / Flux object, with a note for `check`
    /// ([`super::deploy_patches::note`]).
    pub(crate) deploy_patch: Option<(String, String)>,
}

/// What the walk found.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Kustomization directories by canonical path.
    pub(crate) kust: BTreeMap<PathBuf, KustDir>,
    /// Directories named by Argo CD / Flux objects (canonical), with how they were found.
    pub(crate) named: BTreeMap<PathBuf, Found>,
    /// The same by the path each object names (lexical: a symbolic link not resolved).
    pub(crate) deployed: BTreeMap<PathBuf, Found>,
    /// The other paths than [`KustDir::dir`] that reach a kustomization directory (canonical)
    /// through a symbolic link (`overlays/qa -> dev`), as the walk or an object reaches them.
    pub(crate) aliases: BTreeMap<PathBuf, Vec<PathBuf>>,
    /// Those of them that hold no kustomization file, which the tool builds from their
    /// manifests (`super::plain`), by canonical path, as reached from the root.
    pub(crate) plain: BTreeMap<PathBuf, PathBuf>,
    /// What every Argo CD / Flux object deploying a directory applies at sync time, by the path
    /// it names (as [`Scan::deployed`]), read whether or not discovery decides the environments.
    pub(crate) deploy_times: BTreeMap<PathBuf, DeployTime>,
    /// Their texts by repository-relative path, so that `check` need not read them again.
    pub(crate) texts: std::collections::HashMap<String, String>,
    /// The notes for `check`.
    pub(crate) notes: Notes,
    /// The directories the walk did not enter (hidden ones, `target`, `node_modules`; `.git`
    /// aside), repo-relative: named when no environment is found.
    pub(crate) skipped: Vec<String>,
    /// The build of every Flux parent ([`Parent`]) by the directory it deploys ([`build`]),
    /// read once: [`parent_reads`] and [`routes`] ask for it per file.
    builds: BTreeMap<String, Option<BTreeSet<PathBuf>>>,
    /// Every directory a kustomization includes, gathered once (`kust` is final by then) for
    /// [`wrapped`], which asks for each candidate.
    included: std::sync::OnceLock<BTreeSet<PathBuf>>,
}

/// The notes discovery leaves for `check` to print ([`super::Workspace::notes`]), each with its
/// place: a directory, or `file:line` of the object or kustomization it is about.
#[derive(Debug, Clone, Default)]
pub(crate) struct Notes {
    /// Directories without a kustomization file that an Argo CD source deploys as a Helm chart
    /// or through a plugin ([`generated_note`]): not modelled, so not environments. Those Flux
    /// and Argo CD build from their manifests are environments ([`super::plain`]).
    pub(crate) generated: Vec<(String, String)>,
    /// Flux `Kustomization`s that deploy a path of an artifact other than this repository (an
    /// `OCIRepository`, `Bucket` or `ExternalArtifact` source, [`artifact_note`]): not read.
    pub(crate) artifacts: Vec<(String, String)>,
    /// Flux `Kustomization`s deploying from a `GitRepository` not in this repository: its
    /// `spec.ignore` and `spec.recurseSubmodules` are not known.
    pub(crate) unknown_sources: Vec<(String, String)>,
    /// Argo CD `ApplicationSet`s whose paths are not known offline ([`unresolved_note`]): not
    /// read.
    pub(crate) unresolved: Vec<(String, String)>,
    /// Kustomizations patching Argo CD / Flux objects ([`super::deploy_patches::note`]): the
    /// patches are not applied to what discovery reads, which reads those objects as written.
    pub(crate) deploy_patches: Vec<(String, String)>,
    /// Argo CD / Flux objects that cannot be read: in a file that does not parse (or a Helm
    /// template, [`super::unparsed`]), a Flux path whose `${var}` is not known offline
    /// ([`super::flux_vars`]), or a path that is no directory of this repository.
    pub(crate) unread: Vec<(String, String)>,
    /// Symbolic links in the tree that lead nowhere or into a loop (`overlays/qa -> dev` after
    /// `dev` is gone): no environment is read through them.
    pub(crate) links: Vec<(String, String)>,
    /// emp-seal config files below the root: a run reads the root's only, so their settings
    /// (a monorepo project's `unsuppressible`, `ignore`, environments) do not apply.
    pub(crate) configs: Vec<(String, String)>,
    /// Kustomizations no other includes whose model lacks part of what they deploy (a remote
    /// base, `helmCharts`) and holds nothing of a secret otherwise: not environments, though
    /// what the model does not see may be a secret.
    pub(crate) incomplete: Vec<(String, String)>,
    /// With `environments` in the config: the kustomizations no other includes that are no
    /// configured environment nor wrap one (a variant left behind when its overlay was renamed):
    /// not checked, in one note.
    pub(crate) uncovered: Vec<(String, String)>,
}

impl Notes {
    /// Every list, with what its places are, in the one order `check` prints them and the
    /// "no environment" error names them.
    pub(crate) fn lists(&self) -> [(&'static str, &[(String, String)]); 10] {
        [
            (
                "directories without a kustomization file they deploy as a Helm chart or through a plugin, which emp-seal does not model",
                &self.generated,
            ),
            (
                "Flux Kustomizations not read, whose source is another artifact than this repository",
                &self.artifacts,
            ),
            (
                "Flux Kustomizations deploying from a GitRepository not in this repository",
                &self.unknown_sources,
            ),
            (
                "Argo CD ApplicationSets not read, whose paths are not known offline",
                &self.unresolved,
            ),
            (
                "kustomizations patching Argo CD / Flux objects, read as written",
                &self.deploy_patches,
            ),
            ("Argo CD / Flux objects that cannot be read", &self.unread),
            (
                "symbolic links that lead nowhere, where kustomize builds nothing",
                &self.links,
            ),
            (
                "emp-seal config files below the root, which this run does not read",
                &self.configs,
            ),
            (
                "kustomizations whose model is incomplete, not checked as environments",
                &self.incomplete,
            ),
            (
                "kustomizations that are no configured environment and neither include nor wrap one",
                &self.uncovered,
            ),
        ]
    }
}

/// One environment candidate picked by [`pick`].
#[derive(Debug, Clone)]
pub(crate) struct Pick {
    /// The directory (as reached from the root).
    pub(crate) dir: PathBuf,
    pub(crate) found: Found,
    /// True when a secret-free directory is kept anyway (conventional `overlays/<env>`).
    pub(crate) keep_without_secret: bool,
    /// Wrapping kustomizations that render this environment plus something (`k8s/no-keda/dev`).
    pub(crate) variants: Vec<PathBuf>,
}

impl Pick {
    /// A candidate without variants (yet).
    pub(crate) fn new(dir: PathBuf, found: Found, keep_without_secret: bool) -> Pick {
        Pick {
            dir,
            found,
            keep_without_secret,
            variants: Vec::new(),
        }
    }
}

/// Walks `root` and reads every kustomization file and every Argo CD / Flux object.
pub(crate) fn scan(root: &Path, ignore: &dyn Fn(&str) -> bool, globs: &[&str]) -> Scan {
    let mut s = Scan::default();
    let remotes = Remotes::default();
    let (yaml_files, objects) = read_tree(root, ignore, globs, &remotes, &mut s);
    let repos: BTreeMap<(String, String), String> = objects
        .iter()
        .flat_map(|o| o.git_repositories.iter())
        .filter_map(|(key, url, _)| Some((key.clone(), url.clone()?)))
        .collect();
    let mut artifacts = Artifacts::new(root, &objects);
    // A Flux Kustomization whose GitRepository is another repository deploys that one's path.
    let foreign = |source: &Option<(String, String)>| {
        let url = source.as_ref().and_then(|s| repos.get(s));
        url.is_some_and(|u| remotes.elsewhere(root, u))
    };
    let parents = flux_parents(root, &mut s, (&yaml_files, &objects), &foreign);
    let mut missing: BTreeMap<GitSource, BTreeSet<String>> = BTreeMap::new();
    for (mut o, f) in objects.into_iter().zip(yaml_files) {
        resolve_pending(root, &s, &parents, &mut o, &foreign);
        parent_clusters(root, &s, &parents, &mut o);
        for mut n in o.named.into_iter().filter(|n| !foreign(&n.source)) {
            if let Some((source, at)) = artifacts.attach(&mut n) {
                missing.entry(source).or_default().insert(at);
            }
            s.add_named(n);
        }
        s.notes.generated.extend(
            o.generated
                .into_iter()
                .filter(|(_, source)| !foreign(source))
                .map(|(note, _)| note),
        );
        s.notes.artifacts.extend(o.artifacts);
        s.notes.unresolved.extend(o.unresolved);
        s.notes.unread.extend(o.unread);
        s.texts.extend(o.text.map(|t| (f, t)));
    }
    s.notes.generated.sort();
    s.notes.generated.dedup();
    s.notes.unknown_sources = unknown_source_notes(missing);
    s
}

/// The reading step of [`scan`]: walks the tree, reads every kustomization into `s` (its
/// [`Scan::kust`], [`Scan::aliases`] and [`Notes::deploy_patches`]), and gives every other YAML
/// file (in walk order, then those of the repository above the root) with the Argo CD / Flux
/// objects read from it.
fn read_tree(
    root: &Path,
    ignore: &dyn Fn(&str) -> bool,
    globs: &[&str],
    remotes: &Remotes,
    s: &mut Scan,
) -> (Vec<String>, Vec<FileObjects>) {
    let mut w = Walk::default();
    if let Ok(canon) = std::fs::canonicalize(root) {
        walk(root, "", &canon, ignore, &mut w);
    }
    // Every non-kustomization YAML file (for the Argo CD / Flux scan), in walk order.
    let mut yaml_files = std::mem::take(&mut w.yaml_files);
    // An object elsewhere in a repository whose top is above the root may deploy a directory
    // of it: read after the root's own.
    yaml_files.extend(super::gitroot::outside_manifests(root));
    // Files are read in parallel (a monorepo has thousands of manifests), a small tree's on
    // this thread ([`SEQUENTIAL_MAX`]); Argo CD / Flux objects are merged in walk order: the
    // first naming a directory says how it was found.
    let small = yaml_files.len() + w.kfiles.len() <= SEQUENTIAL_MAX;
    let objects = crate::par::map(&yaml_files, small, |f| named_paths(root, f, remotes));
    // What the walk passed over but an object deploys or a config glob names is walked after all.
    let named = (objects.iter().flat_map(|o| &o.named))
        .filter(|n| !n.plain && !w.seen.contains(&n.dir))
        .map(|n| rel(root, &n.path));
    let globbed = globs.iter().map(|g| g.trim_start_matches("./").to_owned());
    let wanted: Vec<String> = named.chain(globbed).collect();
    let entered = walk_skipped(root, ignore, &wanted, &mut w);
    s.skipped = (w.skipped.iter())
        .filter(|d| !entered.contains(*d))
        .cloned()
        .collect();
    s.notes.links = (w.broken.into_iter())
        .map(|(link, to)| {
            let note = format!("{link} is a symbolic link to `{to}`, which is not there (or a loop): nothing behind it was read or checked, and kustomize cannot build or read it");
            (link, note)
        })
        .collect();
    s.notes.configs = (w.configs.into_iter())
        .map(|file| {
            let dir = file.rsplit_once('/').map_or(".", |(d, _)| d).to_owned();
            let note = format!("{file} is not read: a run reads the config file of its root only, so its settings do not apply here; run with {} to apply them", super::run_from(&dir));
            (file, note)
        })
        .collect();
    let kfiles = w.kfiles;
    // Only a repository holding Argo CD / Flux objects can patch one: elsewhere the
    // kustomizations' patch files are not read for it.
    let deploys = objects.iter().any(|o| o.deploys);
    // A directory the walk reached again through a link is read once, under its first path.
    let mut firsts = BTreeSet::new();
    let (kfiles, links): (Vec<_>, Vec<_>) =
        (kfiles.into_iter()).partition(|(c, ..)| firsts.insert(c.clone()));
    for (c, dir, _) in links {
        s.aliases.entry(c).or_default().push(dir);
    }
    let kust = |(canon, dir, kfile): (PathBuf, PathBuf, PathBuf)| {
        let k = read_kust(root, (dir, &canon), &kfile, deploys);
        (canon, k)
    };
    s.kust = crate::par::map(kfiles, small, kust).into_iter().collect();
    s.notes.deploy_patches = s
        .kust
        .values()
        .filter_map(|k| k.deploy_patch.clone())
        .collect();
    (yaml_files, objects)
}

/// The Flux parents step of [`scan`]: the Flux `Kustomization`s with a literal path that
/// deploy from this repository (not `foreign`), which give `${var}` paths and options their
/// variables ([`Parent`]). Each one's build is read once into [`Scan::builds`], and, when one
/// has a `substituteFrom`, the ConfigMaps and Secrets of the tree (`yaml_files`, read into
/// `objects`) are read for it ([`super::flux_vars::read_sources`]).
fn flux_parents(
    root: &Path,
    s: &mut Scan,
    (yaml_files, objects): (&[String], &[FileObjects]),
    foreign: &dyn Fn(&Option<GitSource>) -> bool,
) -> Vec<Parent> {
    let mut parents: Vec<Parent> = objects
        .iter()
        .flat_map(|o| &o.parents)
        .filter(|p| !foreign(&p.source))
        .cloned()
        .collect();
    // Several Flux Kustomizations may deploy one path: each directory is built once.
    let dirs: BTreeSet<&String> = parents.iter().map(|p| &p.dir).collect();
    s.builds = (dirs.into_iter())
        .map(|d| (d.clone(), build(root, s, d)))
        .collect();
    // Only a `substituteFrom` reads the tree's ConfigMaps and Secrets: without one, none is parsed.
    if parents.iter().all(|p| p.substitute_from.is_empty()) {
        return parents;
    }
    let texts: Vec<(&str, &str)> = (yaml_files.iter().zip(objects))
        .filter_map(|(f, o)| Some((f.as_str(), o.text.as_deref()?)))
        .collect();
    // What the build of each kustomization directory of those builds reads ([`reached`], when
    // known), made once: [`routes`] asks for it per file.
    let dirs: BTreeSet<&PathBuf> = s.builds.values().flatten().flatten().collect();
    let reach: BTreeMap<PathBuf, Vec<PathBuf>> = (dirs.into_iter())
        .filter_map(|k| Some((k.clone(), reached(s, k)?)))
        .collect();
    let s = &*s;
    let reads = |dir: &str, file: &str| parent_reads(root, s, dir, file);
    let routes = |dir: &str, file_dir: &str| routes(root, s, &reach, dir, file_dir);
    super::flux_vars::read_sources(root, &s.kust, &mut parents, &texts, &reads, &routes);
    parents
}

impl Scan {
    /// Records a directory an Argo CD / Flux object names, in walk order: a directory without a
    /// kustomization file as [`Scan::plain`], the path it is named by as an alias of a
    /// kustomization directory reached by another, and how it was found and what is applied to
    /// it at sync time ([`Scan::named`], [`Scan::deployed`], [`Scan::deploy_times`]).
    fn add_named(&mut self, n: Named) {
        if n.plain {
            self.plain.entry(n.dir.clone()).or_insert(n.path.clone());
        } else if let Some(k) = self.kust.get(&n.dir) {
            let known = |d: &PathBuf| super::lexical(d) == super::lexical(&n.path);
            let aliases = self.aliases.entry(n.dir.clone()).or_default();
            if !known(&k.dir) && !aliases.iter().any(known) {
                aliases.push(n.path.clone());
            }
        }
        let path = super::lexical(&n.path);
        self.deployed.entry(path.clone()).or_insert(n.found.clone());
        // The first object naming a directory says how it was found; every object's
        // deploy-time options count (two Applications may deploy one path), on the path it
        // names only: `overlays/qa -> dev` deployed does not deploy `dev`.
        self.deploy_times
            .entry(path)
            .or_default()
            .extend(n.deploy_time);
        self.named.entry(n.dir).or_insert(n.found);
    }
}

/// One note for `check` (at the first, as `file:line`) per `GitRepository` not in this
/// repository, naming the Flux Kustomizations deploying from it (see [`Artifacts::attach`]).
fn unknown_source_notes(missing: BTreeMap<GitSource, BTreeSet<String>>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = (missing.into_iter())
        .filter_map(|((name, ns), ats)| {
            // In file order, then by line as a number (`a.yaml:9` before `a.yaml:10`).
            let mut ats: Vec<String> = ats.into_iter().collect();
            ats.sort_by_cached_key(|at| {
                let (file, line) = at.rsplit_once(':').unwrap_or((at, ""));
                (file.to_owned(), line.parse::<usize>().unwrap_or(0))
            });
            let first = ats.first()?.clone();
            let mut shown: Vec<&str> = ats.iter().take(3).map(String::as_str).collect();
            let more = format!("and {} more", ats.len().saturating_sub(3));
            shown.extend((ats.len() > 3).then_some(more.as_str()));
            let s = if ats.len() > 1 { "s" } else { "" };
            let note = format!("{} Flux Kustomization{s} in {} deploy{} from the GitRepository `{name}` (namespace `{ns}`), which is not in this repository: its `spec.ignore` and `spec.recurseSubmodules` are not known, and emp-seal takes its artifact to hold what the `.sourceignore` files and source-controller's default exclusions keep, without git submodules (the default)", ats.len(), shown.join(", "), if s.is_empty() { "s" } else { "" });
            Some((first, note))
        })
        .collect();
    out.sort();
    out
}

/// What [`walk`] collects.
#[derive(Default)]
struct Walk {
    /// Every real directory entered (loop protection: each is entered once, however many links
    /// lead to it).
    seen: BTreeSet<PathBuf>,
    /// Every kustomization directory met: canonical path, path as reached, kustomization file.
    kfiles: Vec<(PathBuf, PathBuf, PathBuf)>,
    /// Every other YAML file, in walk order (repo-relative).
    yaml_files: Vec<String>,
    /// The directories not entered ([`skipped_dir`], `.git` aside), repo-relative: a path an
    /// Argo CD / Flux object deploys or a config glob leads through one has it walked after all
    /// ([`walk_skipped`]).
    skipped: Vec<String>,
    /// Symbolic links that lead nowhere or into a loop, with where they point: nothing behind
    /// them is read.
    broken: Vec<(String, String)>,
    /// emp-seal config files below the root (repo-relative).
    configs: Vec<String>,
}

/// Notes every kustomization directory and every other YAML file under `root`/`rel`
/// (repo-relative, `""` for the root) into `w`, `canon` being that directory with symlinks
/// resolved.
///
/// `target` or `node_modules` is entered only when it holds a kustomization file itself
/// (`k8s/overlays/target`): a build output or a dependency tree holds none, and walking one
/// would cost more than the rest of the tree. A hidden directory is not entered ([`walk_skipped`]
/// enters those a deployed path or a config glob leads through).
fn walk(root: &Path, rel: &str, canon: &Path, ignore: &dyn Fn(&str) -> bool, w: &mut Walk) {
    let dir = root.join(rel);
    let first = w.seen.insert(canon.to_path_buf());
    // Noted again when reached again (`scan` keeps the first path, the others as aliases).
    if let Some(kfile) = kustomization_file(&dir) {
        w.kfiles.push((canon.to_path_buf(), dir.clone(), kfile));
    }
    if !first {
        return;
    }
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    // The entry's own type spares a stat per file; a symlink is followed.
    // A name that is not UTF-8 (kept lossily) is resolved as a link is, by the system.
    let mut entries: Vec<(String, bool, bool, Option<PathBuf>)> = entries
        .filter_map(Result::ok)
        .map(|e| {
            let t = e.file_type().ok();
            let link = t.is_some_and(|t| t.is_symlink());
            let is_dir = t.is_some_and(|t| t.is_dir()) || (link && e.path().is_dir());
            let name = e.file_name();
            let by_system = link || name.to_str().is_none();
            // A link that leads to nothing there (not even a file) or into a loop.
            let broken = (link && !is_dir && std::fs::metadata(e.path()).is_err())
                .then(|| std::fs::read_link(e.path()).unwrap_or_default());
            (
                name.to_string_lossy().into_owned(),
                is_dir,
                by_system,
                broken,
            )
        })
        .collect();
    entries.sort_unstable();
    for (name, is_dir, by_system, broken) in entries {
        let r = if rel.is_empty() {
            name.clone()
        } else {
            [rel, "/", &name].concat()
        };
        if ignore(&r) {
            continue;
        }
        if let Some(to) = broken {
            w.broken.push((r, to.display().to_string()));
            continue;
        }
        if !is_dir {
            if is_manifest(&name) && !super::KUSTOMIZATION_FILE_NAMES.contains(&name.as_str()) {
                w.yaml_files.push(r);
            } else if !rel.is_empty() && super::config::CONFIG_FILE_NAMES.contains(&name.as_str()) {
                w.configs.push(r);
            }
            continue;
        }
        // `target` and `node_modules` holding a kustomization themselves are overlays so named;
        // a hidden directory is entered only when something names a path through it.
        let overlay_so_named =
            || !name.starts_with('.') && kustomization_file(&dir.join(&name)).is_some();
        if skipped_dir(&name) && !overlay_so_named() {
            if name != ".git" {
                w.skipped.push(r);
            }
            continue;
        }
        // A real directory in a resolved one is resolved already: only a link (or a name
        // that is not UTF-8) is resolved by the system, a `readlink` per path component.
        let sub = match by_system {
            false => Some(canon.join(&name)),
            true => std::fs::canonicalize(dir.join(&name)).ok(),
        };
        if let Some(sub) = sub {
            walk(root, &r, &sub, ignore, w);
        }
    }
}

/// Walks, after all, the directories the first walk did not enter ([`Walk::skipped`]: hidden
/// ones, `target`, `node_modules`) on the way to one of `wanted` (repo-relative): a directory an
/// Argo CD / Flux object deploys (`.deploy/prod`), or a config glob (`.k8s/overlays/*`,
/// `apps/*/.k8s/overlays/*`; [`leads_through`]). Each is walked from the outermost skipped
/// directory on the way, so that the bases beside the wanted one are read too. The YAML files
/// met there are not searched for more Argo CD / Flux objects. Gives the directories it walked
/// from.
fn walk_skipped(
    root: &Path,
    ignore: &dyn Fn(&str) -> bool,
    wanted: &[String],
    w: &mut Walk,
) -> BTreeSet<String> {
    let mut entered = BTreeSet::new();
    // A walk from one may pass over another below it (`.deploy/.k8s`): until none is left.
    loop {
        let starts: BTreeSet<String> = (wanted.iter())
            .filter_map(|r| {
                let on_the_way =
                    (w.skipped.iter()).filter(|d| !entered.contains(*d) && leads_through(r, d));
                on_the_way.min_by_key(|d| d.len()).cloned()
            })
            .collect();
        if starts.is_empty() {
            return entered;
        }
        for start in starts {
            if let Ok(canon) = std::fs::canonicalize(root.join(&start)) {
                walk(root, &start, &canon, ignore, w);
            }
            entered.insert(start);
        }
    }
}

/// Whether the path or glob `wanted` (a directory path, or an `environments` glob) leads through
/// the directory `dir`: `dir`'s segments match its first ones (`apps/shop/.k8s` for
/// `apps/*/.k8s/overlays/*`; a `**` matches the rest). As in a shell, a hidden name is matched
/// only by a segment that starts with `.` itself: `overlays/*` does not lead into a
/// `overlays/.template` scaffold.
fn leads_through(wanted: &str, dir: &str) -> bool {
    let mut w = wanted.split('/');
    for d in dir.split('/') {
        match w.next() {
            Some(seg) if seg == d => {}
            Some(seg) if d.starts_with('.') && !seg.starts_with('.') => return false,
            Some("**") => return true,
            Some(seg) if super::config::segment_match(seg, d) => {}
            _ => return false,
        }
    }
    true
}

/// The directories (canonical) whose files `dir`'s build can render: itself and the
/// kustomization directories it includes, transitively, and the directory of every resource
/// file they name ([`KustDir::files`]: `sub/cm.yaml` in a `sub/` without a kustomization, or
/// `../../shared/cm.yaml`). Under kustomize's default load restrictor a file is read only by a
/// kustomization in its own directory or above; Flux builds with none (within the repository),
/// so a resource file elsewhere counts too (kept whatever the build's restrictor: one that
/// refuses it renders nothing of it, which loading it shows). An environment none of whose
/// directories is above a file cannot render it. `None` when one of them was not scanned
/// (ignored, or no kustomization file, or one that does not parse), so that what it includes
/// is unknown.
pub(crate) fn reached(scan: &Scan, dir: &Path) -> Option<Vec<PathBuf>> {
    let mut seen = included(scan, dir)?;
    let reads: Vec<PathBuf> = (seen.iter())
        .filter_map(|d| scan.kust.get(d))
        .flat_map(|k| k.files.iter().filter_map(|f| f.parent()))
        .map(Path::to_path_buf)
        .collect();
    seen.extend(reads);
    Some(seen.into_iter().collect())
}

/// The kustomization directories (canonical) `dir`'s build includes: itself and those it
/// includes through `resources`, `bases` or `components`, transitively. `None` as for
/// [`reached`].
fn included(scan: &Scan, dir: &Path) -> Option<BTreeSet<PathBuf>> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![std::fs::canonicalize(dir).ok()?];
    while let Some(d) = todo.pop() {
        let k = scan.kust.get(&d).filter(|k| k.parsed)?;
        if seen.insert(d) {
            todo.extend(k.includes.iter().cloned());
        }
    }
    Some(seen)
}

/// A kustomization directory with its kind and the local directories it includes (remote bases
/// are skipped; a kustomization that cannot be read includes nothing, and is not `parsed`), and,
/// when the repository holds Argo CD / Flux objects (`deploys`), whether it patches one.
/// `real` is `dir` with symlinks resolved.
fn read_kust(root: &Path, (dir, real): (PathBuf, &Path), kfile: &Path, deploys: bool) -> KustDir {
    let text = crate::fsio::read_to_string_limited(kfile, MAX_SCAN_BYTES).ok();
    let read: Option<Value> = text
        .as_deref()
        .and_then(|text| yaml_serde::from_str(crate::yamlpos::without_bom(text)).ok());
    let parsed = read.is_some();
    let v = read.unwrap_or_default();
    let deploy_patch = text
        .as_deref()
        .filter(|_| deploys)
        .and_then(|t| super::deploy_patches::note(root, kfile, t, &v));
    let component = v.get("kind").and_then(Value::as_str) == Some("Component");
    // Each local entry resolved once; the directories on the way are looked at once.
    let entries = ["resources", "bases", "components"]
        .into_iter()
        .flat_map(|key| {
            let list = v
                .get(key)
                .and_then(Value::as_sequence)
                .into_iter()
                .flatten();
            list.filter_map(Value::as_str).map(move |e| (key, e))
        });
    let mut dirs = HashMap::new();
    let (mut includes, mut files) = (Vec::new(), Vec::new());
    // A local file comes first, as in the build (`kustomize::build`, `resources`).
    let local = |e: &str| !crate::kustomize::is_remote(e) || real.join(e).is_file();
    for (key, e) in entries.filter(|(_, e)| local(e)) {
        match resolve_in(real, e, &mut dirs) {
            Some((p, t)) if t.is_dir() => includes.push(p),
            Some((p, t)) if t.is_file() && key == "resources" => files.push(p),
            _ => {}
        }
    }
    let namespace = v.get("namespace").map(|n| n.as_str().unwrap_or_default());
    let shared_path =
        (rel(root, &dir).split('/')).any(|s| matches!(s, "base" | "bases" | "components"));
    KustDir {
        dir,
        component,
        shared_path,
        includes,
        files,
        namespace: namespace.map(str::to_owned),
        renames: v.get("namePrefix").is_some() || v.get("nameSuffix").is_some(),
        parsed,
        deploy_patch,
    }
}

/// `rel`, a path the kustomization in the directory `real` (symlinks resolved) names, resolved
/// as kustomize resolves it ([`super::entry_path`]: the entry tidied lexically, then joined onto
/// `real`) with its symlinks resolved, and the type of what it leads to, in fewer syscalls than
/// `std::fs::canonicalize` and a `stat`: a leading `..` steps up lexically (`real` holds no link
/// to step back through), a named component costs an `lstat`, and only a link is left to the
/// system. `None` when it does not resolve. `dirs` keeps the directories (no links) met on the
/// way, so that the entries of one kustomization look at their shared directories once.
fn resolve_in(
    real: &Path,
    rel: &str,
    dirs: &mut HashMap<PathBuf, std::fs::FileType>,
) -> Option<(PathBuf, std::fs::FileType)> {
    use std::path::Component;
    let by_system = || {
        let p = std::fs::canonicalize(super::entry_path(real, rel)).ok()?;
        let t = p.metadata().ok()?.file_type();
        Some((p, t))
    };
    // The type of `at` once a component is named (`real`, and what `..` leads to, are directories).
    let (mut at, mut kind) = (real.to_path_buf(), None::<std::fs::FileType>);
    for c in super::tidy(Path::new(rel)).components() {
        match c {
            Component::ParentDir => _ = at.pop(),
            Component::Normal(name) if kind.is_none_or(|t| t.is_dir()) => {
                at.push(name);
                let t = match dirs.get(&at) {
                    Some(t) => *t,
                    None => {
                        let t = at.symlink_metadata().ok()?.file_type();
                        if t.is_dir() {
                            dirs.insert(at.clone(), t);
                        }
                        t
                    }
                };
                if t.is_symlink() {
                    return by_system();
                }
                kind = Some(t);
            }
            Component::Normal(_) => return None,
            _ => return by_system(),
        }
    }
    let kind = match kind {
        Some(t) => t,
        None => at.metadata().ok()?.file_type(),
    };
    Some((at, kind))
}

/// A Flux `GitRepository` source as a `Kustomization` names it: name and namespace.
type GitSource = (String, String);

/// A Flux `Kustomization`'s `spec.sourceRef` when it is a `GitRepository`: its name and
/// namespace (the Kustomization's own when unset, as Flux resolves it).
fn git_source(v: &Value) -> Option<(String, String)> {
    let source = v.get("spec")?.get("sourceRef")?;
    if source.get("kind").and_then(Value::as_str) != Some("GitRepository") {
        return None;
    }
    let own_ns = v.get("metadata").and_then(|m| m.get("namespace"));
    let ns = source.get("namespace").or(own_ns).and_then(Value::as_str);
    let name = source.get("name").and_then(Value::as_str)?;
    Some((name.to_owned(), ns.unwrap_or("default").to_owned()))
}

/// A Flux `GitRepository` (`source.toolkit.fluxcd.io`): its name and namespace, and its
/// `spec.url` (None when it has none: it is still a `GitRepository` of this repository).
fn git_repository(v: &Value) -> Option<((String, String), Option<String>)> {
    let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = v.get("kind").and_then(Value::as_str);
    if !api.starts_with("source.toolkit.fluxcd.io/") || kind != Some("GitRepository") {
        return None;
    }
    let meta = |k: &str| v.get("metadata")?.get(k)?.as_str();
    let url = v.get("spec").and_then(|s| s.get("url")?.as_str());
    let ns = meta("namespace").unwrap_or("default");
    Some((
        (meta("name")?.to_owned(), ns.to_owned()),
        url.map(str::to_owned),
    ))
}

/// What a `GitRepository` (at `at` of `file`) says of its artifact: `spec.ignore` and
/// `spec.recurseSubmodules` (fluxcd/source-controller `api/v1/gitrepository_types.go`).
fn git_spec(at: &Located<'_, '_>, v: &Value, file: &str) -> GitSpec {
    let recurse = v.get("spec").and_then(|s| s.get("recurseSubmodules"));
    GitSpec {
        ignore: spec_ignore(at, v, file),
        recurse_submodules: recurse.and_then(Value::as_bool) == Some(true),
    }
}

/// A `GitRepository`'s `spec.ignore` (at `at` of `file`), when it is a string: with the line
/// of its first pattern, the line after the key's for a literal block scalar (`ignore: |`).
fn spec_ignore(at: &Located<'_, '_>, v: &Value, file: &str) -> Option<SpecIgnore> {
    let text = v.get("spec")?.get("ignore")?.as_str()?;
    // The patterns are kept whatever their line: a line not found only moves where a finding
    // points (the document's first line, not a block scalar).
    let first = usize::try_from(at.doc.first_line).unwrap_or(1);
    let line = at.line(&[], &["spec", "ignore"]);
    let key_line = (at.doc.text.lines())
        .nth(line.saturating_sub(first))
        .unwrap_or("");
    let after = key_line.split_once(':').map_or("", |(_, v)| v.trim_start());
    let block = after.starts_with('|');
    Some(SpecIgnore {
        text: text.to_owned(),
        file: file.to_owned(),
        line: if block { line + 1 } else { line },
        block,
    })
}

/// The artifacts of the Flux `GitRepository` objects the Flux `Kustomization`s deploy from
/// (`super::artifact`), each made once: the repository's `.sourceignore` files are read on the
/// first one needed.
struct Artifacts {
    root: PathBuf,
    top: PathBuf,
    /// Every `GitRepository` of the repository.
    specs: BTreeMap<GitSource, GitSpec>,
    /// The `.sourceignore` files, by whether those of submodules are read.
    files: BTreeMap<bool, IgnoreFiles>,
    made: BTreeMap<Option<GitSource>, Arc<Artifact>>,
}

impl Artifacts {
    fn new(root: &Path, objects: &[FileObjects]) -> Artifacts {
        let specs = (objects.iter())
            .flat_map(|o| o.git_repositories.iter())
            .map(|(key, _, spec)| (key.clone(), spec.clone()))
            .collect();
        Artifacts {
            root: root.to_path_buf(),
            top: super::gitroot::top(root),
            specs,
            files: BTreeMap::new(),
            made: BTreeMap::new(),
        }
    }

    /// Gives the Flux deploys of `n` the artifact of their `GitRepository` (one not found in
    /// the repository: its `spec` is not known, and only the `.sourceignore` files and the
    /// defaults apply, without submodules: that source and where the Kustomization is,
    /// `file:line`, are returned for [`unknown_source_notes`]).
    fn attach(&mut self, n: &mut Named) -> Option<(GitSource, String)> {
        let flux = n.deploy_time.deploys.iter().find(|d| is_flux(d.tool))?;
        let note = (n.source.clone())
            .filter(|s| !self.specs.contains_key(s))
            .map(|s| (s, format!("{}:{}", flux.file, flux.line)));
        let artifact = match self.made.get(&n.source) {
            Some(a) => Arc::clone(a),
            None => {
                let default = GitSpec::default();
                let spec = (n.source.as_ref())
                    .and_then(|s| self.specs.get(s))
                    .unwrap_or(&default);
                let (root, top) = (&self.root, &self.top);
                let files = (self.files.entry(spec.recurse_submodules))
                    .or_insert_with(|| IgnoreFiles::load(root, top, spec.recurse_submodules));
                let a = Arc::new(Artifact::new(root, top, files, spec));
                self.made.insert(n.source.clone(), Arc::clone(&a));
                a
            }
        };
        for d in n.deploy_time.deploys.iter_mut().filter(|d| is_flux(d.tool)) {
            d.artifact = Some(Arc::clone(&artifact));
        }
        note
    }
}

/// A directory without a kustomization and the note on it ([`generated_note`]).
type GeneratedNote = (String, String);

/// A kustomization directory an Argo CD / Flux object names.
struct Named {
    /// The directory, canonical.
    dir: PathBuf,
    /// The directory as the object names it (a symbolic link on its way not resolved).
    path: PathBuf,
    found: Found,
    /// What the object applies at sync time.
    deploy_time: DeployTime,
    /// A Flux `Kustomization`'s `GitRepository` source ([`git_source`]).
    source: Option<(String, String)>,
    /// True when it holds no kustomization file (see [`Scan::plain`]).
    plain: bool,
}

/// What one file's Argo CD / Flux objects name: kustomization directories, notes on directories
/// without one (see [`Notes::generated`]) with their Flux source, notes on objects deploying
/// another artifact (see [`Notes::artifacts`]), and the text read.
#[derive(Default)]
struct FileObjects {
    named: Vec<Named>,
    generated: Vec<(GeneratedNote, Option<(String, String)>)>,
    artifacts: Vec<(String, String)>,
    /// Argo CD `ApplicationSet`s whose paths cannot be resolved ([`unresolved_note`]).
    unresolved: Vec<(String, String)>,
    /// Whether the file holds an Argo CD / Flux object that deploys a path.
    deploys: bool,
    /// Its Flux `GitRepository` objects ([`git_repository`]).
    git_repositories: Vec<(GitSource, Option<String>, GitSpec)>,
    text: Option<String>,
    /// Objects that cannot be read (see [`Notes::unread`]).
    unread: Vec<(String, String)>,
    /// Flux `Kustomization`s whose path holds a `${var}`, resolved once every object is read.
    pending: Vec<Pending>,
    /// Flux `Kustomization`s with a literal path: the parents that give `pending` its variables.
    parents: Vec<Parent>,
    /// The `path` lines of its Flux `Kustomization`s that opt out of substitution.
    opted_out: Vec<usize>,
}

/// A Flux `Kustomization` whose `spec.path` holds a `${var}` expression: Flux substitutes it with
/// the variables of the Kustomization that deploys this object's file ([`resolve_pending`]).
struct Pending {
    /// The path as written.
    path: String,
    name: String,
    found: Found,
    deploy_time: DeployTime,
    source: Option<GitSource>,
    /// The file, and the line of its `spec.path`.
    file: String,
    line: usize,
}

/// Argo CD `Application` (`spec.source.path`, `spec.sources[].path`) and Flux `Kustomization`
/// (`spec.path`) objects in `file` (repository-relative): the kustomization directories they
/// name, the directories they name that hold none, the objects that deploy another artifact,
/// its Flux `GitRepository` objects, and the text read: each file's objects parsed once.
fn named_paths(root: &Path, file: &str, remotes: &Remotes) -> FileObjects {
    let mut out = FileObjects::default();
    let Ok(text) = crate::fsio::read_to_string_limited(&root.join(file), MAX_SCAN_BYTES) else {
        return out;
    };
    let toolkit = [
        "argoproj.io",
        "kustomize.toolkit.fluxcd.io",
        "source.toolkit.fluxcd.io",
    ];
    if toolkit.iter().any(|t| text.contains(t)) {
        let mut unparsed = Vec::new();
        // At most one piece holds a document when the file is kyaml's only piece.
        let alone = crate::kustomize::lists::only_piece(&text);
        for piece in crate::yamlpos::pieces(&text, false) {
            let v = match yaml_serde::from_str::<Value>(piece.text) {
                Ok(v) if !crate::kustomize::has_complex_key(&v) => v,
                parsed => {
                    let e = parsed.err();
                    let u = super::unparsed::unparsed(piece.text, piece.first_line, e.as_ref());
                    unparsed.extend(u);
                    continue;
                }
            };
            let doc = crate::yamlpos::Document::new(piece.text, piece.first_line, piece.offset);
            for (base, object) in objects(&v, alone) {
                let at = Located {
                    doc: &doc,
                    base,
                    template: None,
                };
                out.git_repositories.extend(
                    git_repository(object).map(|(k, url)| (k, url, git_spec(&at, object, file))),
                );
                object_paths(root, (file, &at), object, remotes, &mut out);
            }
        }
        out.unread
            .extend(super::unparsed::notes(root, file, &unparsed));
    }
    out.text = Some(text);
    out
}

/// A document's object or, when it is a `kind: List` (any kind ending in `List`), each of its
/// items with its path, lists inside it expanded too ([`crate::kustomize::lists`]; `alone`: the
/// document is its file's only piece): an Application or Flux Kustomization in a list is
/// deployed like one of its own.
fn objects(v: &Value, alone: bool) -> Vec<(Vec<Seg>, &Value)> {
    use crate::kustomize::lists;
    if !lists::expands_doc(v, alone) {
        return vec![(Vec::new(), v)];
    }
    lists::objects_of_doc(v, alone).collect()
}

/// An object's place: its document, and the path to it there (empty for the document's own
/// object, `items[N]` for an item of a list, see [`objects`]).
struct Located<'d, 't> {
    doc: &'d crate::yamlpos::Document<'t>,
    base: Vec<Seg>,
    /// For an `ApplicationSet` read per generator ([`super::appset::per_generator`]), where that
    /// generator's own template is and what it holds: what it sets is written there, not under
    /// `spec.template`.
    template: Option<(Vec<Seg>, Value)>,
}

impl Located<'_, '_> {
    /// Where `path` (from the object) is in the file, or its longest prefix that is there
    /// ([`crate::yamlpos::Document::find_or_parent`]).
    fn pos(&self, path: &[Seg]) -> crate::yamlpos::Pos {
        let spec_template = [Seg::from("spec"), Seg::from("template")];
        if let Some((at, template)) = &self.template
            && let Some(rest) = path.strip_prefix(&spec_template[..])
            && crate::yamlpos::value_at(template, rest).is_some()
        {
            let own: Vec<Seg> = [&self.base, at, rest].concat();
            return self.doc.find_or_parent(&own);
        }
        let full: Vec<Seg> = self.base.iter().chain(path).cloned().collect();
        self.doc.find_or_parent(&full)
    }

    /// The line of `keys` below `at` (both from the object), as [`Located::pos`] finds it.
    fn line(&self, at: &[Seg], keys: &[&str]) -> usize {
        let keys = keys.iter().map(|k| Seg::from(*k));
        let path: Vec<Seg> = at.iter().cloned().chain(keys).collect();
        usize::try_from(self.pos(&path).line).unwrap_or(1)
    }
}

/// What one object `v` (at `doc` of `file`) deploys, added to `out` (see [`named_paths`]).
fn object_paths(
    root: &Path,
    (file, doc): (&str, &Located<'_, '_>),
    v: &Value,
    remotes: &Remotes,
    out: &mut FileObjects,
) {
    let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    // An ApplicationSet whose generators have templates of their own: one per generator.
    if kind == "ApplicationSet"
        && api.starts_with("argoproj.io/")
        && let Some(sets) = super::appset::per_generator(v)
    {
        for (template, set) in sets {
            let at = Located {
                doc: doc.doc,
                base: doc.base.clone(),
                template,
            };
            object_paths(root, (file, &at), &set, remotes, out);
        }
        return;
    }
    let Some(sources) = deploy_sources(api, kind, v) else {
        return;
    };
    out.deploys = true;
    if kind == "Kustomization"
        && let Some(note) = artifact_note(doc, v, file)
    {
        out.artifacts.push(note);
        return;
    }
    let flux = kind == "Kustomization";
    for (at, source, options) in sources {
        // A Flux Kustomization without `spec.path` deploys its source's root
        // (fluxcd/kustomize-controller `api/v1/kustomization_types.go`, `Path`); an Argo CD
        // source without one is a Helm chart of a chart repository.
        let Some(p) = source
            .get("path")
            .and_then(Value::as_str)
            .or(flux.then_some("./"))
        else {
            continue;
        };
        let repo_url = source.get("repoURL").and_then(Value::as_str);
        if repo_url.is_some_and(|u| remotes.elsewhere(root, u)) {
            continue;
        }
        let owned = file.to_owned();
        let found = match kind {
            "Kustomization" => Found::FluxKustomization { file: owned },
            "ApplicationSet" => Found::ArgoApplicationSet { file: owned },
            _ => Found::ArgoApplication { file: owned },
        };
        let line = doc.line(&at, &["path"]);
        let deploy_time = sync_time(doc, v, (&at, source, options), (kind, file, line));
        let deployed = (p, found, deploy_time);
        deploy_path(root, (v, remotes), deployed, (kind, file, line), out);
    }
}

/// Adds what the path `p` of an object `v` of `kind` (at `file:line`) deploys to `out`: a Flux
/// path holding a `${var}` is left for [`resolve_pending`] (a Flux path without one is a
/// [`Parent`] for those); an `ApplicationSet`'s is expanded over its generators
/// ([`super::appset::paths`]; a note when it cannot be).
fn deploy_path(
    root: &Path,
    (v, remotes): (&Value, &Remotes),
    (p, found, deploy_time): (&str, Found, DeployTime),
    (kind, file, line): (&str, &str, usize),
    out: &mut FileObjects,
) {
    if kind == "Kustomization" {
        let at = format!("{file}:{line}");
        out.parents.extend(Parent::of(v, p, git_source(v), at));
        // An object opted out of substitution keeps its path and options as written
        // (fluxcd/pkg `kustomize/kustomize_varsub.go`, `SubstituteVariables`).
        let opted_out = crate::kustomize::varsub::written_opt_out(v);
        out.opted_out.extend(opted_out.then_some(line));
        if p.contains('$') && !opted_out {
            out.pending.push(Pending {
                path: p.to_owned(),
                name: object_name(v).to_owned(),
                found,
                deploy_time,
                source: git_source(v),
                file: file.to_owned(),
                line,
            });
            return;
        }
    }
    let elsewhere = |u: &str| remotes.elsewhere(root, u);
    let dirs = match kind {
        // Its git generators' `directories` are relative to the git repository's top, as
        // the paths it gives are; each generated Application fills its options from its set.
        "ApplicationSet" => {
            super::appset::paths(&super::gitroot::top(root), v, p, &elsewhere).map(|d| {
                let mut d: Vec<_> = (d.into_iter())
                    .map(|(p, set)| (p, super::appset::filled(&deploy_time, &set)))
                    .collect();
                d.dedup();
                d
            })
        }
        _ => Ok(vec![(p.to_owned(), deploy_time)]),
    };
    match dirs {
        Ok(dirs) => {
            for (p, deploy_time) in dirs {
                let deployed = (&found, &deploy_time, git_source(v));
                add_deployed(root, &p, deployed, (kind, file, line), out);
            }
        }
        Err(why) => out.unresolved.push(unresolved_note(v, file, line, p, &why)),
    }
}

/// What a deploy source (see [`deploy_sources`]: its path in `doc`, the mapping, where its
/// kustomize options are) of the object `v` of `kind` in `file` (its `path` at `line`) applies at
/// sync time.
fn sync_time(
    doc: &Located<'_, '_>,
    v: &Value,
    (at, source, options): (&[Seg], &Value, &[&str]),
    (kind, file, line): (&str, &str, usize),
) -> DeployTime {
    let opts = deploy_options(doc, at, source, options, (kind, file));
    let deploy = super::Deploy {
        tool: tool_name(kind),
        file: file.to_owned(),
        line,
        options: opts.clone(),
        destination: destination(doc, v, (kind, file)),
        plain: super::plain::of_source(source, kind, &|keys: &[&str]| doc.line(at, keys)),
        artifact: None,
        cluster: cluster(v, kind, file),
    };
    DeployTime {
        options: opts,
        post_build: if kind == "Kustomization" {
            post_build(doc, source, file)
        } else {
            Vec::new()
        },
        deploys: vec![deploy],
    }
}

/// The cluster the object `v` of `kind` in `file` applies to ([`super::Deploy::cluster`]),
/// before its Flux parents are known ([`parent_clusters`]). An Argo CD object's destination
/// names it by `server` or by `name` (argo-cd `pkg/apis/application/v1alpha1/types.go`,
/// `ApplicationDestination`); a Flux Kustomization with `spec.kubeConfig` applies to a remote
/// cluster (fluxcd/kustomize-controller `api/v1/kustomization_types.go`, `KubeConfig`).
fn cluster(v: &Value, kind: &str, file: &str) -> Option<String> {
    let spec = v.get("spec")?;
    if kind == "Kustomization" {
        let remote = spec.get("kubeConfig").is_some_and(|k| !k.is_null());
        return (!remote).then(|| super::flux_vars::own_cluster(file));
    }
    let spec = match kind {
        "ApplicationSet" => spec.get("template")?.get("spec")?,
        _ => spec,
    };
    let dest = spec.get("destination")?;
    let known = |k: &str| (dest.get(k)?.as_str()).filter(|s| !s.is_empty() && !s.contains("{{"));
    match (known("server"), known("name")) {
        (Some(s), None) => Some(format!("Argo CD server {s}")),
        (None, Some(n)) => Some(format!("Argo CD name {n}")),
        _ => None,
    }
}

/// How findings name the object of `kind` that deploys a directory.
pub(super) fn tool_name(kind: &str) -> &'static str {
    match kind {
        "Application" => "Argo CD Application",
        "ApplicationSet" => "Argo CD ApplicationSet",
        _ => super::FLUX_KUSTOMIZATION,
    }
}

/// An Argo CD Application's `spec.destination.namespace` (an `ApplicationSet`'s under
/// `spec.template.spec`) as an option at its line; `None` for a Flux Kustomization or when
/// unset. Argo CD applies the namespaced objects that render without a namespace into it
/// (argo-cd `controller/state.go`, `DeduplicateTargetObjects`).
fn destination(
    doc: &Located<'_, '_>,
    v: &Value,
    (kind, file): (&str, &str),
) -> Option<super::DeployOption> {
    let keys: &[&str] = match kind {
        "Application" => &["spec", "destination", "namespace"],
        "ApplicationSet" => &["spec", "template", "spec", "destination", "namespace"],
        _ => return None,
    };
    let value = crate::yamlpos::value_at(v, keys)?;
    if matches!(value, Value::Null) {
        return None;
    }
    Some(super::DeployOption {
        tool: tool_name(kind),
        option: "destination.namespace".to_owned(),
        value: value.as_str().map(str::to_owned),
        file: file.to_owned(),
        line: doc.line(&[], keys),
        unresolved: None,
    })
}

/// Resolves the Flux `Kustomization`s of `o` whose path holds a `${var}` ([`Pending`]) with the
/// variables of their `parents` that render their file ([`Parent::renders`]): what each
/// resolved path deploys is added to `o`, and a note says what cannot be resolved (no parent,
/// or a variable not known offline). One of another repository (`foreign`) is left out.
fn resolve_pending(
    root: &Path,
    s: &Scan,
    parents: &[Parent],
    o: &mut FileObjects,
    foreign: &dyn Fn(&Option<GitSource>) -> bool,
) {
    let reads = |dir: &str, file: &str| parent_reads(root, s, dir, file);
    for p in std::mem::take(&mut o.pending) {
        if foreign(&p.source) {
            continue;
        }
        let mine: Vec<&Parent> = parents
            .iter()
            .filter(|q| q.renders(&p.file, &reads))
            .collect();
        let mut why = mine.is_empty().then(|| {
            let dir = p.file.rsplit_once('/').map_or(".", |(d, _)| d);
            format!("no Flux Kustomization of this repository deploys {dir}, whose `postBuild` would give the variables")
        });
        let mut dirs = BTreeSet::new();
        for q in mine {
            match super::flux_vars::substitute(&p.path, q) {
                Ok(d) => {
                    dirs.insert(d);
                }
                Err(e) => {
                    why.get_or_insert(e);
                }
            }
        }
        for d in dirs {
            let deployed = (&p.found, &p.deploy_time, p.source.clone());
            add_deployed(root, &d, deployed, ("Kustomization", &p.file, p.line), o);
        }
        if let Some(why) = why {
            let note = format!(
                "Flux Kustomization `{}` in {}:{} deploys `{}`, which emp-seal cannot resolve offline ({why}): the directory it deploys there, and the kustomize options it applies to it at sync time, are not read",
                p.name.escape_debug(),
                p.file,
                p.line,
                p.path.escape_debug()
            );
            o.unread.push((format!("{}:{}", p.file, p.line), note));
        }
    }
}

/// Whether the build of a Flux parent deploying `dir` renders `file` (both repository-relative;
/// never a file outside `dir`, see [`Parent::renders`]). Flux generates the kustomization of a level
/// without one (fluxcd/pkg `kustomize/kustomize_generator.go`): it lists every manifest there,
/// walks into a sub-directory without a kustomization and lists one with a kustomization as a
/// directory. So with no kustomization from `dir` down to `file`'s directory, Flux lists the
/// file if it is a `.yaml` / `.yml` one (the only files it lists); else the kustomize builds of
/// the parent's ([`Scan::builds`]) render only the files one of their kustomizations lists in
/// `resources` (`KustDir::files`). A build not known offline counts as rendering it (fail
/// closed: the parent's variables are then asked of it, not taken as absent).
fn parent_reads(root: &Path, s: &Scan, dir: &str, file: &str) -> bool {
    let file_dir = file.rsplit_once('/').map_or("", |(d, _)| d);
    if !super::within(file_dir, dir) {
        return false;
    }
    let rest = file_dir.get(dir.len()..).unwrap_or_default();
    let mut level = root.join(dir);
    let mut steps = std::iter::once("").chain(rest.split('/').filter(|s| !s.is_empty()));
    let generated = steps.all(|step| {
        level.push(step);
        kustomization_file(&level).is_none()
    });
    if generated {
        return super::plain::flux_lists(file);
    }
    let all = s.builds.get(dir).and_then(Option::as_ref);
    match (all, std::fs::canonicalize(root.join(file))) {
        (Some(all), Ok(f)) => {
            (all.iter().filter_map(|d| s.kust.get(d))).any(|k| k.files.contains(&f))
        }
        _ => true,
    }
}

/// Gives the Flux deploys of `o` whose cluster is known the `parents` rendering their file as
/// their cluster (see [`super::Deploy::cluster`]), when one does.
fn parent_clusters(root: &Path, s: &Scan, parents: &[Parent], o: &mut FileObjects) {
    let reads = |dir: &str, file: &str| parent_reads(root, s, dir, file);
    for t in o.named.iter_mut().map(|n| &mut n.deploy_time) {
        for d in (t.deploys.iter_mut()).filter(|d| !o.opted_out.contains(&d.line)) {
            super::flux_vars::substitute_options(&mut d.options, parents, &reads);
        }
        let all: Vec<&DeployOption> = t.deploys.iter().flat_map(|d| &d.options).collect();
        for x in &mut t.options {
            let same =
                |y: &&&DeployOption| (&y.file, y.line, &y.option) == (&x.file, x.line, &x.option);
            if let Some(y) = all.iter().find(same) {
                *x = (**y).clone();
            }
        }
    }
    for d in o
        .named
        .iter_mut()
        .flat_map(|n| n.deploy_time.deploys.iter_mut())
    {
        if is_flux(d.tool) && d.cluster.is_some() {
            d.cluster = Some(super::flux_vars::cluster(&d.file, parents, &reads));
        }
    }
}

/// The kustomization directories (canonical) of the build of a Flux parent deploying `dir`
/// whose builds read `file_dir` (both repository-relative, see [`super::flux_vars::Routes`],
/// [`Scan::builds`]), by what each kustomization directory's build reads (`reach`).
fn routes(
    root: &Path,
    s: &Scan,
    reach: &BTreeMap<PathBuf, Vec<PathBuf>>,
    dir: &str,
    file_dir: &str,
) -> Option<Vec<PathBuf>> {
    let f = root.join(file_dir).canonicalize().ok()?;
    let reads = |k: &&PathBuf| reach.get(*k).is_some_and(|r| r.contains(&f));
    let all = s.builds.get(dir)?.as_ref()?;
    Some(all.iter().filter(reads).cloned().collect())
}

/// The kustomization directories (canonical, as [`included`] gives them) of the build of a
/// Flux parent deploying `dir` (repository-relative): a directory without a kustomization is
/// generated by Flux from the manifests and the topmost kustomization directories under it,
/// which it does not walk into (fluxcd/pkg `kustomize/kustomize_generator.go`). `None` when not known offline.
fn build(root: &Path, s: &Scan, dir: &str) -> Option<BTreeSet<PathBuf>> {
    let d = root.join(dir).canonicalize().ok()?;
    let under = |k: &&PathBuf, top: &Path| k.starts_with(top) && k.as_path() != top;
    let tops: Vec<&PathBuf> = match s.kust.contains_key(&d) {
        true => vec![&d],
        false => (s.kust.keys())
            .filter(|k| {
                k.starts_with(&d) && !s.kust.keys().any(|o| under(k, o) && o.starts_with(&d))
            })
            .collect(),
    };
    let mut all = BTreeSet::new();
    for t in tops {
        all.extend(included(s, t)?);
    }
    Some(all)
}

/// Adds the directory `p` an object of `kind` (its `path` at `file:line`) deploys to `out`: as
/// named, found so and with those sync-time options, when it holds a kustomization; with a note
/// when it is a directory without one, or (but for an `ApplicationSet`, whose generators may
/// give combinations that are not there) no directory of this repository.
fn add_deployed(
    root: &Path,
    p: &str,
    (found, deploy_time, source): (&Found, &DeployTime, Option<(String, String)>),
    (kind, file, line): (&str, &str, usize),
    out: &mut FileObjects,
) {
    // Relative to the git repository, whose top may be above the root (a monorepo).
    let Some(dir) = super::gitroot::deployed_dir(root, p) else {
        return;
    };
    let tool = tool_name(kind);
    // source-controller's artifact holds no symbolic link (`super::artifact`): Flux finds no
    // path through one (kustomize-controller: "kustomization path not found").
    let top = super::gitroot::top(root);
    if let Some(link) = super::link_below(&top, &dir).filter(|_| kind == "Kustomization") {
        let which = match super::rel(root, &link) {
            l if link == super::lexical(&dir) => format!("that directory, {l}, is"),
            l => format!("the directory {l} on its way is"),
        };
        let note = format!(
            "{tool} in {file}:{line} deploys `{}`, but {which} a symbolic link, and source-controller leaves links and what they reach out of the artifact: Flux finds no such path, so it names no environment",
            p.escape_debug(),
        );
        out.unread.push((format!("{file}:{line}"), note));
        return;
    }
    let plain = kustomization_file(&dir).is_none();
    // One without a kustomization is built from its manifests as the tool generates its
    // kustomization (`super::plain`).
    if !plain
        || dir.is_dir()
            && deploy_time.deploys.iter().all(|d| d.plain.is_some())
            && (kind == "Kustomization" || !super::plain::is_helm_chart(&dir))
    {
        if let Ok(canon) = std::fs::canonicalize(&dir) {
            out.named.push(Named {
                dir: canon,
                path: dir,
                found: found.clone(),
                deploy_time: deploy_time.clone(),
                source,
                plain,
            });
        }
    } else if dir.is_dir() {
        let note = generated_note(&super::dir_rel(root, &dir), kind, file, line);
        out.generated.push((note, source));
    } else if kind != "ApplicationSet" {
        let note = format!(
            "{tool} in {file}:{line} deploys `{}`, which is no directory of this repository: it names no environment, and the kustomize options it applies at sync time are laid on nothing",
            p.escape_debug()
        );
        out.unread.push((format!("{file}:{line}"), note));
    }
}

/// Where (`file:line` of its template's `path`) and a note for `check`, when the paths the
/// `ApplicationSet` `v` deploys cannot be known offline (`why`, see [`super::appset::paths`]).
fn unresolved_note(v: &Value, file: &str, line: usize, path: &str, why: &str) -> (String, String) {
    let note = format!(
        "Argo CD ApplicationSet `{}` in {file}:{line} deploys `{}`, which emp-seal cannot resolve offline ({why}): the directories its Applications deploy, and the kustomize options its template applies to them at sync time, are not read",
        object_name(v).escape_debug(),
        path.escape_debug()
    );
    (format!("{file}:{line}"), note)
}

/// An object's `metadata.name`, empty when it has none.
fn object_name(v: &Value) -> &str {
    v.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The kinds of a Flux `Kustomization`'s `spec.sourceRef` whose artifact is not a git
/// repository's tree but what was pushed or uploaded (the kinds `CrossNamespaceSourceReference`
/// accepts, fluxcd/kustomize-controller `api/v1/reference_types.go`, besides `GitRepository`).
/// `spec.path` is relative to that artifact's root, not to this repository's.
const ARTIFACT_SOURCE_KINDS: [&str; 3] = ["OCIRepository", "Bucket", "ExternalArtifact"];

/// Where (`file:line`), and a note for `check`, when the Flux `Kustomization` `v` (in `doc` of
/// `file`) deploys a path of an artifact that is not this repository (its `spec.sourceRef.kind`
/// is one of [`ARTIFACT_SOURCE_KINDS`]): it names no environment and lays no option on this
/// repository's directory of the same path, like an Argo CD Application of another repository.
fn artifact_note(doc: &Located<'_, '_>, v: &Value, file: &str) -> Option<(String, String)> {
    let spec = v.get("spec")?;
    let kind = spec.get("sourceRef")?.get("kind")?.as_str()?;
    if !ARTIFACT_SOURCE_KINDS.contains(&kind) {
        return None;
    }
    let line = doc.line(&[], &["spec", "sourceRef", "kind"]);
    let path = spec.get("path").and_then(Value::as_str).unwrap_or("./");
    let note = format!(
        "Flux Kustomization `{}` in {file}:{line} deploys `{}` of its {kind} source, an artifact that is not this repository: emp-seal does not read it (no environment, and its sync-time options and postBuild are not laid on this repository's directory of that path)",
        object_name(v).escape_debug(),
        path.escape_debug()
    );
    Some((format!("{file}:{line}"), note))
}

/// This repository's git remotes as [`repo_key`]s, asked of git the first time an Argo CD
/// `Application` names a `repoURL` (`None`: no git, or no remote).
#[derive(Default)]
struct Remotes(std::sync::OnceLock<Option<BTreeSet<String>>>);

impl Remotes {
    /// Whether `url` is known to be another repository than this one: an `Application` of an
    /// app-of-apps repository often deploys `overlays/prod` of another, and its options must
    /// not be laid on this repository's `overlays/prod`. Unknown (no remote, or a templated
    /// URL such as an `ApplicationSet`'s `{{.repo}}`) is not elsewhere: reading what may not
    /// apply is the side that fails closed.
    fn elsewhere(&self, root: &Path, url: &str) -> bool {
        if url.contains("{{") {
            return false;
        }
        let remotes = self.0.get_or_init(|| {
            let args = ["config", "--get-regexp", r"^remote\..*\.url$"];
            // git fails (and lists nothing) when no remote is set.
            let text = super::gitroot::git(root, &args).ok()?;
            let keys: BTreeSet<String> = text
                .lines()
                .filter_map(|l| l.split_once(' ').map(|(_, u)| repo_key(u)))
                .collect();
            (!keys.is_empty()).then_some(keys)
        });
        remotes
            .as_ref()
            .is_some_and(|r| !r.contains(&repo_key(url)))
    }
}

/// A git URL as host and path, lowercase, without scheme, user, port, `.git` or a trailing
/// slash: `https://github.com/Org/Repo.git`, `git@github.com:org/repo` and
/// `ssh://git@github.com:22/org/repo` all give `github.com/org/repo`. The hosts that spell one
/// repository's SSH and HTTPS paths differently are brought to one ([`hosted_key`]).
fn repo_key(url: &str) -> String {
    let key = host_and_path(url);
    let (host, path) = key.split_once('/').unwrap_or((&key, ""));
    hosted_key(host, path).unwrap_or(key)
}

/// The one key of an Azure DevOps or Bitbucket Server repository, whose SSH and HTTPS URLs
/// differ in more than the scheme (`host`, `path` as [`host_and_path`] gives them):
/// - Azure DevOps: `git@ssh.dev.azure.com:v3/ORG/PROJECT/REPO`,
///   `https://dev.azure.com/ORG/PROJECT/_git/REPO` (a repository named like its project also
///   `https://dev.azure.com/ORG/_git/REPO`), and the older `ORG.visualstudio.com/PROJECT/_git/REPO`
///   (maybe under `DefaultCollection/`) and `vs-ssh.visualstudio.com:v3/ORG/PROJECT/REPO`, all
///   `dev.azure.com/ORG/PROJECT/REPO`;
/// - Bitbucket Server / Data Center: `https://HOST/scm/PROJECT/REPO.git` (maybe under a context
///   path) is `ssh://git@HOST:7999/PROJECT/REPO.git`: `HOST/PROJECT/REPO`.
///
/// Taking two URLs for one repository when they are not is the side that fails closed (its
/// Applications are read, see [`Remotes::elsewhere`]).
fn hosted_key(host: &str, path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let azure = |org: &str, project: &str, repo: &str| {
        Some(format!("dev.azure.com/{org}/{project}/{repo}"))
    };
    match (host, &parts[..]) {
        ("ssh.dev.azure.com" | "vs-ssh.visualstudio.com", ["v3", org, project, repo])
        | ("dev.azure.com", [org, project, "_git", repo]) => azure(org, project, repo),
        ("dev.azure.com", [org, "_git", repo]) => azure(org, repo, repo),
        (h, [project, "_git", repo] | ["defaultcollection", project, "_git", repo])
            if h.ends_with(".visualstudio.com") =>
        {
            azure(h.strip_suffix(".visualstudio.com")?, project, repo)
        }
        (_, [.., "scm", project, repo]) => Some(format!("{host}/{project}/{repo}")),
        _ => None,
    }
}

/// A git URL as `host/path`, lowercase, without scheme, user, port, `.git` or a trailing slash
/// (see [`repo_key`]).
fn host_and_path(url: &str) -> String {
    let url = url.trim();
    let (scheme, rest) = match url.split_once("://") {
        Some((_, rest)) => (true, rest),
        None => (false, url),
    };
    let rest = rest.split_once('@').map_or(rest, |(_, r)| r);
    let (host, path) = match rest.find(['/', ':']) {
        Some(i) => (
            &rest[..i],
            rest[i + 1..].trim_start_matches(|c: char| scheme && c.is_ascii_digit()),
        ),
        None => (rest, ""),
    };
    let path = path.trim_start_matches('/').trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    format!("{host}/{path}").to_lowercase()
}

/// The kustomize options a deploy source applies at sync time that may rename or move objects
/// ([`renaming_options`]), each at its line in `doc`, of an object of `kind` in `file`.
fn deploy_options(
    doc: &Located<'_, '_>,
    at: &[Seg],
    source: &Value,
    options: &[&str],
    (kind, file): (&str, &str),
) -> Vec<DeployOption> {
    let tool = tool_name(kind);
    let block = crate::yamlpos::value_at(source, options);
    renaming_options(source, options)
        .map(|key| {
            let value = block.and_then(|b| b.get(key)).and_then(Value::as_str);
            DeployOption {
                tool,
                option: key.to_owned(),
                value: value.map(str::to_owned),
                file: file.to_owned(),
                line: doc.line(at, &[options, &[key]].concat()),
                unresolved: None,
            }
        })
        .collect()
}

/// A Flux `Kustomization`'s `spec.postBuild` (its `spec` is `spec`, in `doc` of `file`) when it
/// substitutes variables: Flux runs the substitution only when at least one variable or one
/// source of variables is given (fluxcd/pkg `kustomize/kustomize_varsub.go`,
/// `SubstituteVariables`: nothing is done when the variables it gathers are none). A
/// `substitute` or `substituteFrom` that is neither absent, null nor empty counts (one that is
/// not a map or a list is not understood, so it counts too).
fn post_build(doc: &Located<'_, '_>, spec: &Value, file: &str) -> Vec<PostBuild> {
    let Some(post) = spec.get("postBuild") else {
        return Vec::new();
    };
    let given = |key: &str| match post.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::Mapping(m)) => !m.is_empty(),
        Some(Value::Sequence(s)) => !s.is_empty(),
        Some(_) => true,
    };
    if !given("substitute") && !given("substituteFrom") {
        return Vec::new();
    }
    let at = |keys: &[&str]| doc.line(&[], keys);
    let substitute = super::scalar_pairs(post.get("substitute"))
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, _)| {
            let line = at(&["spec", "postBuild", "substitute", &k]);
            (k, line)
        })
        .collect();
    vec![PostBuild {
        file: file.to_owned(),
        line: at(&["spec", "postBuild"]),
        substitute,
    }]
}

/// The directory `shown` (as [`super::dir_rel`] gives it) an object of `kind` (at `file:line`)
/// deploys, which has no kustomization file, and the note `check` prints about it (see
/// [`Notes::generated`]).
fn generated_note(shown: &str, kind: &str, file: &str, line: usize) -> (String, String) {
    let tool = tool_name(kind);
    let what = if shown == "." {
        "the repository root"
    } else {
        shown
    };
    let note = format!(
        "{what} ({tool} in {file}:{line}) has no kustomization file and is deployed as a Helm chart or through a config management plugin, which emp-seal does not model, so it is no environment and its files are checked one by one (placeholders, plaintext, ciphertext), not against a render"
    );
    (shown.to_owned(), note)
}

/// One deploy source: its path in the document, the mapping, and the keys leading from it to
/// its kustomize options.
type DeploySource<'v> = (Vec<Seg>, &'v Value, &'static [&'static str]);

/// The sources of an Argo CD `Application` (`spec.source`, `spec.sources[]`; an
/// `ApplicationSet`'s under `spec.template.spec`) or a Flux
/// `Kustomization` (its `spec`): where each is in the document, the mapping, and where its
/// kustomize options sit in it (`kustomize` for Argo CD, the mapping itself for Flux). `None`
/// for any other object.
fn deploy_sources<'v>(api: &str, kind: &str, v: &'v Value) -> Option<Vec<DeploySource<'v>>> {
    let spec = v.get("spec")?;
    let at = |keys: &[&str]| keys.iter().map(|k| Seg::from(*k)).collect::<Vec<Seg>>();
    if api.starts_with("argoproj.io/") && matches!(kind, "Application" | "ApplicationSet") {
        // An ApplicationSet's Applications are its `spec.template`.
        let (spec, base) = if kind == "ApplicationSet" {
            let template = spec.get("template")?.get("spec")?;
            (template, &["spec", "template", "spec"][..])
        } else {
            (spec, &["spec"][..])
        };
        let under = |key: &str| {
            let mut path = at(base);
            path.push(Seg::from(key));
            path
        };
        let one = spec
            .get("source")
            .map(|s| (under("source"), s, &["kustomize"][..]));
        let many = spec.get("sources").and_then(Value::as_sequence);
        let many = many.into_iter().flatten().enumerate().map(|(i, s)| {
            let mut path = under("sources");
            path.push(Seg::Index(i));
            (path, s, &["kustomize"][..])
        });
        Some(one.into_iter().chain(many).collect())
    } else if api.starts_with("kustomize.toolkit.fluxcd.io/") && kind == "Kustomization" {
        Some(vec![(at(&["spec"]), spec, &[][..])])
    } else {
        None
    }
}

/// The kustomize options a deploy source (see [`deploy_sources`]) applies at sync time that can
/// rename or move objects, which the model of the overlay does not see. Argo CD
/// (`spec.source.kustomize`, argo-cd `util/kustomize/kustomize.go`): every option but those that
/// change no name. Flux (`spec`, fluxcd/pkg `kustomize/kustomize_generator.go`): the name,
/// namespace, patch and component options.
fn renaming_options<'v>(source: &'v Value, options: &[&str]) -> impl Iterator<Item = &'v str> {
    const ARGO_HARMLESS: [&str; 9] = [
        "images",
        "commonLabels",
        "forceCommonLabels",
        "labelWithoutSelector",
        "labelIncludeTemplates",
        "replicas",
        "version",
        "kubeVersion",
        "apiVersions",
    ];
    const FLUX_RENAMING: [&str; 5] = [
        "targetNamespace",
        "namePrefix",
        "nameSuffix",
        "patches",
        "components",
    ];
    let argo = !options.is_empty();
    let block = crate::yamlpos::value_at(source, options);
    block
        .and_then(Value::as_mapping)
        .into_iter()
        .flat_map(|m| m.keys())
        .filter_map(Value::as_str)
        .filter(move |k| {
            if argo {
                !ARGO_HARMLESS.contains(k)
            } else {
                FLUX_RENAMING.contains(k)
            }
        })
}

/// True for a directory kustomize users mean as a shared part, never deployed alone: a
/// `kind: Component`, or a path with a `base`, `bases` or `components` directory in it.
fn is_shared_part(k: &KustDir) -> bool {
    k.component || k.shared_path
}

/// True when the directory's parent is named `overlays` (the conventional layout).
fn is_conventional(dir: &Path) -> bool {
    dir.parent()
        .and_then(Path::file_name)
        .is_some_and(|n| n == "overlays")
}

/// Applies the discovery rule to a scan (secret relevance is judged by the caller).
pub(crate) fn pick(s: &Scan) -> Vec<Pick> {
    let included = includers(s);
    let mut picks: BTreeMap<&Path, Pick> = BTreeMap::new();
    // An overlay a symbolic link reaches too (`overlays/qa -> dev`) is an environment under
    // each path deployed (an `overlays/` directory or a path an object names), built through
    // that path as kubectl kustomize follows the link: whoever deploys `qa` finds it by that
    // name, its files named by that path (docs/check.md, "Where the environments are").
    let mut aliases = Vec::new();
    for (c, k) in &s.kust {
        let paths = std::iter::once(&k.dir).chain(s.aliases.get(c).into_iter().flatten());
        // A component of `overlays/` that another overlay there includes (`overlays/common`)
        // is shared by them, not deployed alone. (A plain kustomization another overlay
        // includes stays an environment: `overlays/staging` may build on `overlays/dev`.)
        let shared = k.component
            && (included.get(c.as_path()).into_iter().flatten())
                .any(|i| s.kust.get(*i).is_some_and(|o| is_conventional(&o.dir)));
        let mut deployed = paths.filter_map(|d| {
            let conventional = is_conventional(d) && !shared;
            let found = (s.deployed.get(&super::lexical(d)).cloned())
                .or(conventional.then_some(Found::OverlaysDir))?;
            Some(Pick::new(d.clone(), found, conventional))
        });
        if let Some(first) = deployed.next() {
            picks.insert(c, first);
            aliases.extend(deployed);
            continue;
        }
        let root_candidate = !included.contains_key(c.as_path()) && !is_shared_part(k);
        // A root that only wraps another environment is a variant of it, not a rival.
        if !root_candidate || wrapped(s, c).is_some() {
            continue;
        }
        picks.insert(c, Pick::new(k.dir.clone(), Found::Graph, false));
    }
    // A directory without a kustomization file that an object deploys (`Scan::plain`).
    for (c, dir) in &s.plain {
        if let Some(found) = s.named.get(c) {
            let pick = Pick::new(dir.clone(), found.clone(), false);
            picks.entry(c).or_insert(pick);
        }
    }
    add_wrapped(s, &mut picks);
    picks.into_values().chain(aliases).collect()
}

/// The first step of [`pick`]: which directories include each kustomization directory (by
/// canonical path), so that it is part of their deployment and no root candidate of its own.
/// Besides those naming it in `resources`, `bases` or `components`, a directory without a
/// kustomization file that Flux (or an Argo CD directory source with `recurse`) builds from its
/// manifests includes every kustomization under it (`super::plain`).
fn includers(s: &Scan) -> BTreeMap<&Path, Vec<&Path>> {
    let mut included: BTreeMap<&Path, Vec<&Path>> = BTreeMap::new();
    for (c, k) in &s.kust {
        for inc in &k.includes {
            if inc != c {
                included.entry(inc.as_path()).or_default().push(c.as_path());
            }
        }
    }
    for c in s.plain.keys().filter(|c| walks_subdirectories(s, c)) {
        for k in s.kust.keys().filter(|k| k.starts_with(c) && *k != c) {
            included.entry(k.as_path()).or_default().push(c.as_path());
        }
    }
    included
}

/// The last step of [`pick`]: a wrapped overlay ([`wrapped`]) that nothing else picked becomes
/// an environment found so; each wrapper not picked itself is a variant of it.
///
/// A root holding a sealed secret of its own builds on the overlay instead (an environment of
/// its own, `apps/web/prod-canary` over `apps/web/prod`): the overlay is an environment too when
/// it holds a sealed secret of its own as well (`prod`'s SealedSecret) and its own certificate
/// or a single includer, and so on down a chain; it is none when it does not
/// (`overlays/prod/common` under regional overlays).
fn add_wrapped<'s>(s: &'s Scan, picks: &mut BTreeMap<&'s Path, Pick>) {
    let mut built_on: Vec<&Path> = Vec::new();
    for (c, k) in &s.kust {
        let Some(inner) = builds_on(s, c) else {
            continue;
        };
        let Some(ik) = s.kust.get(inner) else {
            continue;
        };
        if holds_own_secret(k) {
            built_on.push(inner);
            continue;
        }
        if picks.contains_key(c.as_path()) {
            continue;
        }
        let p = (picks.entry(inner))
            .or_insert_with(|| Pick::new(ik.dir.clone(), Found::Wrapped, false));
        p.variants.push(k.dir.clone());
    }
    // Down a chain (`canary` over `prod` over `staging`), each overlay built on that holds a
    // sealed secret of its own is an environment, when it has its own certificate or only one
    // kustomization includes it: a part several include holding their shared SealedSecret
    // (`overlays/prod/common` under regions) is none.
    let mut seen = std::collections::BTreeSet::new();
    while let Some(inner) = built_on.pop() {
        let Some(ik) = s.kust.get(inner).filter(|_| seen.insert(inner)) else {
            continue;
        };
        if !holds_own_secret(ik) {
            continue;
        }
        let includers = (s.kust.values()).filter(|o| o.includes.iter().any(|i| i == inner));
        let own_cert = ik.dir.join(super::DEFAULT_CERT_FILE).is_file();
        if picks.contains_key(inner) || own_cert || includers.count() == 1 {
            (picks.entry(inner))
                .or_insert_with(|| Pick::new(ik.dir.clone(), Found::BuiltOn, false));
            built_on.extend(single_overlay(s, ik));
        }
    }
}

/// Whether an object deploying the directory without a kustomization file `c` (canonical, by
/// its path in [`Scan::plain`]) builds its sub-directories too: Flux does, an Argo CD directory
/// source with `recurse`.
fn walks_subdirectories(s: &Scan, c: &Path) -> bool {
    use super::plain::Plain;
    let time = s
        .plain
        .get(c)
        .and_then(|d| s.deploy_times.get(&super::lexical(d)));
    let deploys = time.map(|t| t.deploys.as_slice());
    deploys.unwrap_or_default().iter().any(|d| match &d.plain {
        Some(Plain::Flux) => true,
        Some(Plain::ArgoDirectory { recurse, .. }) => *recurse,
        None => false,
    })
}

/// The overlay a root kustomization wraps: its only included directory that is not a component,
/// when that directory is itself an overlay (it includes another directory, sits in an
/// `overlays` directory, or an Argo CD / Flux object names it) and no shared part by name (a
/// `base` directory), and when the root adds no secret of its own ([`holds_own_secret`]).
/// `k8s/no-keda/dev` wraps `k8s/overlays/dev`; `apps/x/prod` does not wrap `apps/x/base`,
/// whatever the base includes, and `overlays/prod/eu-west-1` does not wrap the
/// `overlays/prod/common` it shares with `us-east-1` when it holds its own SealedSecret or
/// sealing certificate: each region is an environment sealed for its own controller.
pub(crate) fn wrapped<'s>(s: &'s Scan, c: &Path) -> Option<&'s Path> {
    let inner = builds_on(s, c)?;
    (!holds_own_secret(s.kust.get(c)?)).then_some(inner)
}

/// The overlay a root kustomization builds on alone ([`wrapped`] without its secret test): its
/// only included directory that is not a component, when that directory is an overlay and no
/// `base`.
fn builds_on<'s>(s: &'s Scan, c: &Path) -> Option<&'s Path> {
    let k = s.kust.get(c)?;
    if !is_top_level(s, c, k) {
        return None;
    }
    single_overlay(s, k)
}

/// The only directory `k` includes that is not a component, when it is an overlay and no `base`
/// ([`builds_on`], wherever `k` sits).
fn single_overlay<'s>(s: &'s Scan, k: &KustDir) -> Option<&'s Path> {
    // A kustomization directory that is no `kind: Component`.
    let not_component = |i: &&PathBuf| s.kust.get(i.as_path()).is_some_and(|d| !d.component);
    let mut dirs = k.includes.iter().filter(not_component);
    let inner = dirs.next()?;
    if dirs.next().is_some() {
        return None;
    }
    let (key, ik) = s.kust.get_key_value(inner.as_path())?;
    // An environment by name or place is an overlay even when its kustomization cannot be
    // read (the check reports that; its wrapper must not take its name meanwhile).
    let is_overlay = is_conventional(&ik.dir)
        || s.named.contains_key(key)
        || ik.includes.iter().any(|i| not_component(&i));
    Some(key.as_path()).filter(|_| is_overlay && !ik.shared_path)
}

/// Whether a kustomization directory holds a sealed secret of its own, as an environment does
/// and a variant (a wrapper adding a component or a patch) does not: a sealing certificate in
/// its directory (`sealing-cert.pem`: a controller of its own), or a resource file naming a
/// `SealedSecret`. (A variant generating a Secret stays a variant: its Secret shadows the
/// environment's, which `sealed-secret-shadowed` reports.) Read only for a kustomization that
/// would otherwise be a variant.
fn holds_own_secret(k: &KustDir) -> bool {
    let read = |p: &Path| crate::fsio::read_limited(p, MAX_SCAN_BYTES).ok();
    // A `kind: SealedSecret` line (a document, a list item), or the JSON `"kind": "SealedSecret"`;
    // the word in a comment or a ConfigMap's text is no SealedSecret.
    let names_kind = |text: &str| {
        // Lines as YAML breaks them (lone CRs too); quotes, a comment, a list dash, blanks and
        // a JSON comma aside.
        let text = crate::yamlpos::lone_cr_as_lf(text.to_owned());
        text.lines().any(|l| {
            let l = l.split('#').next().unwrap_or(l).replace(['"', '\''], "");
            let l = l
                .trim()
                .trim_start_matches("- ")
                .trim_end_matches([',', ' ', '\t']);
            l.strip_prefix("kind:")
                .is_some_and(|v| v.trim() == "SealedSecret")
        }) || text.replace(' ', "").contains("\"kind\":\"SealedSecret\"")
    };
    k.dir.join(super::DEFAULT_CERT_FILE).is_file()
        || (k.files.iter())
            .filter_map(|f| read(f))
            .any(|b| names_kind(&String::from_utf8_lossy(&b)))
}

/// Whether the kustomization `k` (canonical directory `c`) is no component and no other
/// kustomization includes it.
pub(crate) fn is_top_level(s: &Scan, c: &Path, k: &KustDir) -> bool {
    let included = s.included.get_or_init(|| {
        let all = s.kust.values().flat_map(|o| o.includes.iter().cloned());
        all.collect()
    });
    !k.component && !included.contains(c)
}

/// The shortest path suffix (in whole components) of each directory that no other directory
/// shares: `apps/a/dev`, `apps/b/dev` -> `a/dev`, `b/dev`; `k8s/overlays/dev` -> `dev`.
pub(crate) fn unique_names(rels: &[String]) -> Vec<String> {
    let parts: Vec<Vec<&str>> = rels.iter().map(|r| r.split('/').collect()).collect();
    parts
        .iter()
        .map(|p| {
            (1..=p.len())
                .map(|n| &p[p.len() - n..])
                .find(|suffix| parts.iter().filter(|o| o.ends_with(suffix)).count() == 1)
                .unwrap_or(p)
                .join("/")
        })
        .collect()
}

/// A file the repository-wide rules read: YAML or JSON, by its extension in any case
/// (`Secret.YAML`: kustomize reads a file whatever its name).
pub(crate) fn is_manifest(rel: &str) -> bool {
    let ext = rel.rsplit_once('.').map_or("", |(_, e)| e);
    ["yaml", "yml", "json"]
        .iter()
        .any(|e| ext.eq_ignore_ascii_case(e))
}

/// A file that may hold a private key, by its name: `.pem`, `.key`, `.crt` or `.cer`, or one of
/// OpenSSH's default key names (`id_rsa`, `id_ecdsa`, `id_ed25519`, `id_dsa`). The pre-commit
/// hooks' `files` patterns (`.pre-commit-hooks.yaml`) name the same files.
pub(crate) fn is_key_file(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    [".pem", ".key", ".crt", ".cer"]
        .iter()
        .any(|e| name.ends_with(e))
        || ["id_rsa", "id_ecdsa", "id_ed25519", "id_dsa"].contains(&name)
}

/// Every file under `root`/`rel` (no symlinked directories, none whose name `skip` matches),
/// repo-relative (`rel` is too, `""` for the root).
pub(crate) fn list_files(
    root: &Path,
    rel: &str,
    skip: &dyn Fn(&str) -> bool,
    out: &mut BTreeSet<String>,
) {
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let Ok(ft) = e.file_type() else { continue };
        let name = e.file_name();
        let name = name.to_string_lossy();
        let r = if rel.is_empty() {
            name.to_string()
        } else {
            [rel, "/", &name].concat()
        };
        if ft.is_dir() {
            if !skip(&name) {
                list_files(root, &r, skip, out);
            }
        } else if ft.is_file() || (ft.is_symlink() && e.path().is_file()) {
            out.insert(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::workspace::write_fixture as write;

    #[test]
    fn an_unknown_source_is_noted_at_its_first_kustomization_by_line_number() {
        let ats = ["a.yaml:10", "a.yaml:9", "b.yaml:1"].map(String::from);
        let missing = BTreeMap::from([(("src".into(), "ns".into()), ats.into())]);
        let notes = unknown_source_notes(missing);
        assert_eq!(notes[0].0, "a.yaml:9");
        assert!(
            notes[0]
                .1
                .contains("in a.yaml:9, a.yaml:10, b.yaml:1 deploy"),
            "{notes:?}"
        );
    }

    /// A Flux parent deploying `apps/a` renders nothing of `apps/ab` (the directory names share
    /// a prefix, not a component); one deploying `apps` (without kustomizations, so generated)
    /// renders its manifests below.
    #[test]
    fn a_flux_parent_reads_no_file_of_a_directory_named_like_its_own() {
        let (root, s) = (Path::new("/nonexistent"), Scan::default());
        assert!(!parent_reads(root, &s, "apps/a", "apps/ab/x.yaml"));
        assert!(parent_reads(root, &s, "apps", "apps/ab/x.yaml"));
        assert!(parent_reads(root, &s, "", "apps/ab/x.yaml"));
    }

    fn picked(root: &Path) -> Vec<(String, Vec<String>)> {
        let s = scan(root, &|_| false, &[]);
        pick(&s)
            .into_iter()
            .map(|p| {
                (
                    rel(root, &p.dir),
                    p.variants.iter().map(|v| rel(root, v)).collect(),
                )
            })
            .collect()
    }

    const K: &str = "kustomization.yaml";

    #[test]
    fn repo_urls_compare_by_host_and_path() {
        let key = "github.com/acme/platform";
        for url in [
            "https://github.com/acme/platform.git",
            "https://github.com/Acme/Platform/",
            "git@github.com:acme/platform.git",
            "ssh://git@github.com:22/acme/platform",
            "ssh://git@github.com/acme/platform.git",
        ] {
            assert_eq!(repo_key(url), key, "{url}");
        }
        assert_ne!(repo_key("https://github.com/acme/other"), key);
        assert_ne!(repo_key("https://gitlab.com/acme/platform"), key);
    }

    #[test]
    fn azure_devops_and_bitbucket_server_spellings_are_one_repository() {
        let azure = "dev.azure.com/acme/platform/gitops";
        for url in [
            "git@ssh.dev.azure.com:v3/acme/platform/gitops",
            "ssh://git@ssh.dev.azure.com/v3/acme/platform/gitops",
            "https://dev.azure.com/acme/platform/_git/gitops",
            "https://acme@dev.azure.com/acme/Platform/_git/gitops/",
            "https://acme.visualstudio.com/platform/_git/gitops",
            "https://acme.visualstudio.com/DefaultCollection/platform/_git/gitops",
            "acme@vs-ssh.visualstudio.com:v3/acme/platform/gitops",
        ] {
            assert_eq!(repo_key(url), azure, "{url}");
        }
        // A repository named like its project.
        assert_eq!(
            repo_key("https://dev.azure.com/acme/_git/gitops"),
            repo_key("git@ssh.dev.azure.com:v3/acme/gitops/gitops")
        );
        for other in [
            "https://dev.azure.com/acme/platform/_git/other",
            "https://dev.azure.com/acme/shop/_git/gitops",
            "git@ssh.dev.azure.com:v3/umbrella/platform/gitops",
            "https://umbrella.visualstudio.com/platform/_git/gitops",
        ] {
            assert_ne!(repo_key(other), azure, "{other}");
        }
        let bitbucket = "git.example.org/proj/repo";
        for url in [
            "ssh://git@git.example.org:7999/proj/repo.git",
            "https://git.example.org/scm/proj/repo.git",
            "https://me@git.example.org:8443/bitbucket/scm/PROJ/repo.git",
        ] {
            assert_eq!(repo_key(url), bitbucket, "{url}");
        }
        assert_ne!(
            repo_key("https://git.example.org/scm/proj/other.git"),
            bitbucket
        );
    }

    #[test]
    fn a_path_or_glob_leads_through_the_directories_its_first_segments_match() {
        for (wanted, dir) in [
            (".deploy/.k8s/prod", ".deploy"),
            (".deploy/.k8s/prod", ".deploy/.k8s"),
            (".k8s/overlays/*", ".k8s"),
            ("apps/*/.k8s/overlays/*", "apps/shop/.k8s"),
            ("apps/**", "apps/shop/target"),
            (".deploy", ".deploy"),
        ] {
            assert!(leads_through(wanted, dir), "{wanted} {dir}");
        }
        for (wanted, dir) in [
            (".deploy/prod", ".other"),
            ("apps/*/.k8s/overlays/*", "apps/shop/.git"),
            ("k8s/overlays/*", "k8s/overlays/dev/.cache"),
            ("k8s/overlays/*", "k8s/overlays/.template"),
            ("**", ".hidden"),
        ] {
            assert!(!leads_through(wanted, dir), "{wanted} {dir}");
        }
    }

    #[test]
    fn suffixes_are_shortest_unique() {
        let rels = [
            "apps/a/dev",
            "apps/b/dev",
            "apps/a/prod",
            "k8s/overlays/paper",
        ]
        .map(str::to_owned);
        assert_eq!(unique_names(&rels), ["a/dev", "b/dev", "prod", "paper"]);
    }

    #[test]
    fn wrapper_is_a_variant_and_a_shared_base_is_not_an_environment() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        write(r, &format!("k8s/base/{K}"), "resources: [d.yaml]\n");
        for env in ["dev", "prod"] {
            write(
                r,
                &format!("k8s/overlays/{env}/{K}"),
                "resources: [../../base]\n",
            );
        }
        write(
            r,
            &format!("k8s/no-keda/dev/{K}"),
            "resources: [../../overlays/dev]\ncomponents: [../../components/c]\n",
        );
        write(r, &format!("k8s/components/c/{K}"), "kind: Component\n");
        // A wrapped overlay whose kustomization does not parse keeps its name.
        write(r, &format!("k8s/overlays/qa/{K}"), "resources: [unclosed\n");
        write(
            r,
            &format!("k8s/no-keda/qa/{K}"),
            "resources: [../../overlays/qa]\n",
        );
        let got = picked(r);
        assert_eq!(
            got,
            [
                (
                    "k8s/overlays/dev".to_owned(),
                    vec!["k8s/no-keda/dev".to_owned()]
                ),
                ("k8s/overlays/prod".to_owned(), vec![]),
                (
                    "k8s/overlays/qa".to_owned(),
                    vec!["k8s/no-keda/qa".to_owned()]
                ),
            ]
        );
    }

    #[test]
    fn a_wrapper_with_a_secret_of_its_own_or_over_a_base_is_an_environment() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        // Regions over a shared per-environment part, each with its own SealedSecret or
        // certificate: two environments, and the part they share is none.
        write(r, &format!("base/{K}"), "resources: [d.yaml]\n");
        // The part both include holds their shared SealedSecret, and no certificate: none.
        write(
            r,
            &format!("overlays/prod/common/{K}"),
            "resources: [../../../base, ss.yaml]\n",
        );
        write(r, "overlays/prod/common/ss.yaml", "kind: SealedSecret\n");
        write(
            r,
            &format!("overlays/prod/eu/{K}"),
            "resources: [../common, ss.yaml]\n",
        );
        write(r, "overlays/prod/eu/ss.yaml", "kind: SealedSecret\n");
        write(
            r,
            &format!("overlays/prod/us/{K}"),
            "resources: [../common]\n",
        );
        write(r, "overlays/prod/us/sealing-cert.pem", "");
        // An overlay with its own sealed secret that a canary wrapper (with its own too) builds
        // on: both are environments.
        write(r, &format!("apps/web/base/{K}"), "resources: [d.yaml]\n");
        write(
            r,
            &format!("apps/web/prod/{K}"),
            "resources: [../staging, ss.yaml]\n",
        );
        // A chain: staging under prod, with a SealedSecret of its own and one includer.
        write(
            r,
            &format!("apps/web/staging/{K}"),
            "resources: [../base, ss.yaml]\n",
        );
        write(r, "apps/web/staging/ss.yaml", "kind: SealedSecret\n");
        write(r, "apps/web/prod/ss.yaml", "kind: SealedSecret\n");
        write(
            r,
            &format!("apps/web/canary/{K}"),
            "resources: [../prod, ss.yaml]\n",
        );
        write(
            r,
            "apps/web/canary/ss.yaml",
            "- kind:  'SealedSecret'\t# a list item\r",
        );
        // The word in a comment is no SealedSecret: this wrapper is a variant.
        write(
            r,
            &format!("apps/web/debug/{K}"),
            "resources: [../prod, cm.yaml]\n",
        );
        write(
            r,
            "apps/web/debug/cm.yaml",
            "# no SealedSecret here\nkind: ConfigMap\n",
        );
        // An app's base including a shared directory: its dev is the environment.
        write(r, &format!("shared/mon/{K}"), "resources: [m.yaml]\n");
        write(
            r,
            &format!("apps/shop/base/{K}"),
            "resources: [d.yaml, ../../../shared/mon]\n",
        );
        write(r, &format!("apps/shop/dev/{K}"), "resources: [../base]\n");
        let got = picked(r);
        assert_eq!(
            got,
            [
                ("apps/shop/dev".to_owned(), vec![]),
                ("apps/web/canary".to_owned(), vec![]),
                (
                    "apps/web/prod".to_owned(),
                    vec!["apps/web/debug".to_owned()]
                ),
                ("apps/web/staging".to_owned(), vec![]),
                ("overlays/prod/eu".to_owned(), vec![]),
                ("overlays/prod/us".to_owned(), vec![]),
            ]
        );
    }

    #[test]
    fn single_overlay_over_a_leaf_base_is_the_environment() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        write(r, &format!("apps/x/core/{K}"), "resources: [d.yaml]\n");
        write(r, "apps/x/prod/kustomization.yml", "resources: [../core]\n");
        let got = picked(r);
        // `core` is included, `prod` wraps a leaf: prod is the environment.
        assert_eq!(got, [("apps/x/prod".to_owned(), vec![])]);
    }

    #[test]
    fn flux_post_build_that_substitutes_is_kept_from_every_kustomization() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        write(r, &format!("apps/x/{K}"), "resources: [s.yaml]\n");
        let ks = |name: &str, post: &str| {
            format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\nspec:\n  path: ./apps/x\n{post}"
            )
        };
        // The first deploys it without substituting (an empty map substitutes nothing), the
        // second with variables from the cluster: its `postBuild` line counts.
        let first = ks("a", "  postBuild:\n    substitute: {}\n");
        let second = ks(
            "b",
            "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: vars\n",
        );
        let text = format!("{first}---\n{second}");
        write(r, "flux/a.yaml", &text);
        let s = scan(r, &|_| false, &[]);
        let found: Vec<&Found> = s.named.values().collect();
        let lines: Vec<&str> = text.lines().collect();
        let line = lines
            .iter()
            .rposition(|l| *l == "  postBuild:")
            .expect("line")
            + 1;
        assert_eq!(
            found,
            [&Found::FluxKustomization {
                file: "flux/a.yaml".to_owned()
            }]
        );
        let times: Vec<&DeployTime> = s.deploy_times.values().collect();
        assert_eq!(
            times,
            [&DeployTime {
                options: Vec::new(),
                post_build: vec![PostBuild {
                    file: "flux/a.yaml".to_owned(),
                    line,
                    substitute: Vec::new(),
                }],
                deploys: times[0].deploys.clone(),
            }]
        );
    }

    #[test]
    fn reached_holds_the_directory_of_every_resource_file_its_build_lists() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = &std::fs::canonicalize(t.path()).expect("canonical");
        let list = "resources: [sub/cm.yaml, ../../shared/s.yaml]\n";
        write(r, &format!("overlays/dev/{K}"), list);
        for f in ["overlays/dev/sub/cm.yaml", "shared/s.yaml", "other/o.yaml"] {
            write(r, f, "kind: ConfigMap\n");
        }
        let s = scan(r, &|_| false, &[]);
        let got = reached(&s, &r.join("overlays/dev")).expect("known");
        let got: Vec<String> = got.iter().map(|d| rel(r, d)).collect();
        // `sub/` has no kustomization: only the list says the build reads it (Flux's
        // `routes` to a `substituteFrom` source there); `other/` it never reads.
        assert_eq!(got, ["overlays/dev", "overlays/dev/sub", "shared"]);
    }

    /// A resource named by its file name alone is in the kustomization's resolved directory,
    /// unless it is a link: then where the link leads. Both hold when the walk reaches the
    /// kustomization's directory through a symlinked directory first.
    #[cfg(unix)]
    #[test]
    fn a_resource_file_is_found_where_links_lead() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = &std::fs::canonicalize(t.path()).expect("canonical");
        write(
            r,
            &format!("real/dev/{K}"),
            "resources: [cm.yaml, s.yaml]
",
        );
        write(r, "real/dev/cm.yaml", "kind: ConfigMap\n");
        write(r, "shared/s.yaml", "kind: Secret\n");
        std::os::unix::fs::symlink("../../shared/s.yaml", r.join("real/dev/s.yaml")).expect("ln");
        std::os::unix::fs::symlink("real", r.join("a-link")).expect("ln");
        let s = scan(r, &|_| false, &[]);
        let k = s
            .kust
            .get(&r.join("real/dev"))
            .expect("by its resolved path");
        let files: Vec<String> = k.files.iter().map(|f| rel(r, f)).collect();
        assert_eq!(files, ["real/dev/cm.yaml", "shared/s.yaml"]);
        let got = reached(&s, &r.join("a-link/dev")).expect("known");
        let got: Vec<String> = got.iter().map(|d| rel(r, d)).collect();
        assert_eq!(got, ["real/dev", "shared"]);
    }

    /// [`resolve_in`] resolves a kustomization's relative paths as kustomize does: tidied
    /// lexically (a `..` after a link steps back over the link as written), then through links
    /// as `canonicalize` resolves them, and not through a file.
    #[cfg(unix)]
    #[test]
    fn resolve_in_agrees_with_kustomize() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = &std::fs::canonicalize(t.path()).expect("canonical");
        write(r, "real/dev/cm.yaml", "kind: ConfigMap\n");
        write(r, "shared/deep/s.yaml", "kind: Secret\n");
        std::os::unix::fs::symlink("../../shared/deep/s.yaml", r.join("real/dev/s.yaml"))
            .expect("ln");
        std::os::unix::fs::symlink("shared/deep", r.join("a-link")).expect("ln");
        let dir = r.join("real/dev");
        let mut met = HashMap::new();
        for rel in [
            "cm.yaml",
            "./cm.yaml",
            "s.yaml",
            "../dev/cm.yaml",
            "../../shared",
            "../../a-link",
            "../../a-link/../deep/s.yaml",
            "../../a-link/..",
            "cm.yaml/..",
            "cm.yaml/",
            "cm.yaml/.",
            "s.yaml/",
            "../../a-link/",
            "../../a-link/.",
            "missing",
            "",
            "../../../../../..",
            "/",
        ] {
            let want = std::fs::canonicalize(crate::workspace::entry_path(&dir, rel)).ok();
            // Fresh, and through the directories the entries before it met.
            assert_eq!(
                resolve_in(&dir, rel, &mut HashMap::new()).map(|(p, _)| p),
                want,
                "{rel}"
            );
            assert_eq!(
                resolve_in(&dir, rel, &mut met).map(|(p, _)| p),
                want,
                "{rel}"
            );
        }
        // Where the system and kustomize part: the `..` after the link, and the `/` after a file.
        let (shared, own) = (r.join("shared"), dir.join("cm.yaml"));
        let path = |rel| resolve_in(&dir, rel, &mut HashMap::new()).map(|(p, _)| p);
        assert_eq!(path("../../a-link/.."), Some(r.clone()));
        assert_eq!(
            std::fs::canonicalize(dir.join("../../a-link/..")).ok(),
            Some(shared)
        );
        assert_eq!(path("cm.yaml/"), Some(own));
        assert!(resolve_in(&dir, "cm.yaml", &mut HashMap::new()).is_some_and(|(_, t)| t.is_file()));
        assert!(
            resolve_in(&dir, "../../a-link", &mut HashMap::new()).is_some_and(|(_, t)| t.is_dir())
        );
        assert!(std::fs::canonicalize(dir.join("cm.yaml/")).is_err());
    }

    #[test]
    fn argo_and_flux_objects_name_environments_and_links_do_not_loop() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        write(r, "envs/a/Kustomization", "resources: [s.yaml]\n");
        write(r, &format!("envs/b/{K}"), "resources: [s.yaml]\n");
        write(r, &format!("included/{K}"), "resources: [s.yaml]\n");
        write(r, &format!("top/{K}"), "resources: [../included]\n");
        write(
            r,
            "argo/app.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nspec:\n  source:\n    path: included\n",
        );
        #[cfg(unix)]
        std::os::unix::fs::symlink(r, r.join("envs/loop")).expect("symlink");
        let s = scan(r, &|_| false, &[]);
        let named: Vec<String> = s
            .named
            .keys()
            .map(|p| rel(&std::fs::canonicalize(r).expect("c"), p))
            .collect();
        assert_eq!(named, ["included"]);
        assert_eq!(s.kust.len(), 4, "each directory once despite the loop");
    }
}
