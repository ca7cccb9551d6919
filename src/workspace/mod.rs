//! The repository as emp-seal sees it: its root, its environments (name, overlay directory, how
//! each was found, where its sealing certificate is) and the paths derived from them.
//!
//! Owns every decision about layout: which directory is the root, which kustomization file
//! names count, which directories are environments (from `emp-seal.toml` globs, else discovered
//! from the kustomization graph: docs/check.md, "Where the environments are"), what an
//! environment argument (`paper`, `a/dev`, `apps/a/dev/`) names, and each environment's
//! certificate path. Every other module asks here instead of joining directory names itself.
//! Must not write anything or print.

mod appset;
pub(crate) mod artifact;
pub mod config;
mod deploy_patches;
mod discover;
mod files;
mod flux_vars;
mod gitroot;
pub mod plain;
mod unparsed;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

pub use config::{Config, ConfigError};
pub(crate) use discover::{is_key_file, is_manifest, list_files};
pub use files::{
    MAX_FILE_BYTES, MAX_INPUT_BYTES, cert_path, env_name, load_cert, load_keys, overlay_dir,
    resolve_from,
};
pub(crate) use gitroot::{
    CloneContents, clone_lacks, in_repository, notes as repository_notes,
    prefix as repository_prefix, refusal as git_refusal, sparse_note, status as git_status,
    top as repository_top, unnamed_note,
};
pub(crate) use unparsed::helm_chart;

/// The file names kustomize recognises, in its order (kustomize `api/konfig/general.go`
/// `RecognizedKustomizationFileNames`).
pub const KUSTOMIZATION_FILE_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Name of an environment's default sealing certificate, inside its overlay directory.
pub const DEFAULT_CERT_FILE: &str = "sealing-cert.pem";

/// The kustomization file of `dir`, if any (first recognised name). The one place that knows
/// the names: the model builder and discovery both ask here.
///
/// When no recognised name is a file, the first one that is there all the same (a symlink
/// that leads nowhere or into a loop, a directory) is given: kustomize cannot read it and fails
/// to build the directory (api `internal/target/kusttarget.go` `loadKustFile`: "unable to find
/// one of ..."), and the callers that read it say why, instead of passing the directory over as
/// one without a kustomization.
pub fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    let names = || KUSTOMIZATION_FILE_NAMES.iter().map(|n| dir.join(n));
    names()
        .find(|p| p.is_file())
        .or_else(|| names().find(|p| p.symlink_metadata().is_ok()))
}

/// Why the kustomization entry `path` (see [`kustomization_file`]) is no file that can be
/// read, when it is not: a symlink to nothing or into a loop, or a directory.
pub fn unreadable_entry(path: &Path) -> Option<String> {
    let meta = path.symlink_metadata().ok()?;
    if path.is_file() {
        return None;
    }
    if meta.file_type().is_symlink() {
        let to = std::fs::read_link(path).unwrap_or_default();
        // A link whose target is there but does not resolve is one link of a loop.
        let target = path.parent().map(|d| d.join(&to)).unwrap_or_default();
        let why = match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => "a directory",
            Ok(_) => "no regular file",
            Err(_) if target.symlink_metadata().is_ok() => "a symlink loop",
            Err(_) => "not there",
        };
        let to = to.display();
        return Some(format!("it is a symlink to `{to}`, which is {why}"));
    }
    Some(if meta.is_dir() {
        "it is a directory, not a file".to_owned()
    } else {
        "it is not a regular file".to_owned()
    })
}

/// An environment below a config file this run does not read (it reads its root's only): the
/// settings written for it would not apply.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "the environment `{env}` is below {config}, which this run does not read (it reads the config file of its root only): its settings would not apply"
)]
pub struct UnreadConfig {
    pub env: String,
    /// The config file, repository-relative.
    pub config: String,
    /// Its directory, repository-relative.
    pub dir: String,
}

impl UnreadConfig {
    pub fn hint(&self) -> String {
        format!("run from that directory: {}", run_from(&self.dir))
    }
}

/// How to run from the directory `dir` (repository-relative), on the command line and in a
/// pre-commit hook (which runs from the git top level).
pub(crate) fn run_from(dir: &str) -> String {
    format!("`-C {dir}` (in a pre-commit hook, `args: [-C, {dir}]`)")
}

/// Walks up from `start` to the first directory holding an emp-seal config file, `.git`, or a
/// `k8s/overlays` directory (the layout emp-seal started with).
pub fn find_repo_root(start: &Path) -> Option<PathBuf> {
    let start = if start.is_file() {
        start.parent()?
    } else {
        start
    };
    start
        .ancestors()
        .find(|d| {
            config::config_path(d).is_some()
                || d.join(".git").exists()
                || d.join("k8s").join("overlays").is_dir()
        })
        .map(Path::to_path_buf)
}

/// A path relative to the repository root, with forward slashes and `.` and `..` steps resolved
/// lexically ([`path_str`]: a base file an overlay reaches through `../../base` is named
/// `k8s/base/...`; symlinks are not resolved), for messages.
pub fn rel(root: &Path, p: &Path) -> String {
    path_str(p.strip_prefix(root).unwrap_or(p))
}

/// Whether the relative path `path` is below the directory `dir` (both forward-slashed),
/// compared by whole components: `apps/a` holds `apps/a/x`, not `apps/ab/x`.
pub(crate) fn below(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// Whether the relative directory `dir` is `path` or holds it ([`below`]); the root (an empty
/// `dir`) holds every path.
/// At most the first five of `items`, comma-separated, and how many more: how a note names a
/// list of places.
pub(crate) fn first_five(items: &[impl AsRef<str>]) -> String {
    let shown: Vec<&str> = items.iter().take(5).map(AsRef::as_ref).collect();
    match items.len() - shown.len() {
        0 => shown.join(", "),
        more => format!("{} and {more} more", shown.join(", ")),
    }
}

pub(crate) fn within(path: &str, dir: &str) -> bool {
    dir.is_empty() || path == dir || below(path, dir)
}

/// The entries of the YAML mapping `map` whose key is a string and whose value a scalar, the
/// value as text (`3`, `true`): the parameters of an Argo CD generator element, the variables
/// of a Flux `postBuild.substitute`.
pub(crate) fn scalar_pairs(map: Option<&yaml_serde::Value>) -> BTreeMap<String, String> {
    use yaml_serde::Value;
    map.and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some((k.as_str()?.to_owned(), v))
        })
        .collect()
}

/// `p`'s path relative to `root` as [`rel`] gives it, for a directory: the root itself is `.`
/// (a Flux Kustomization without `spec.path` deploys it), not an empty name.
pub(crate) fn dir_rel(root: &Path, p: &Path) -> String {
    let r = rel(root, p);
    if r.is_empty() { ".".to_owned() } else { r }
}

/// The name `--from` is shown with in messages.
pub fn from_display(root: &Path, from: &Path) -> String {
    if from.as_os_str() == crate::fsio::STDIN {
        "<stdin>".to_owned()
    } else {
        rel(root, from)
    }
}

/// Forward-slash path of a kustomize path (relative to the root when the loader made it so),
/// with `.` and `..` steps resolved lexically (as `lexical` does: `k8s/overlays/dev/../../base/x.yaml`
/// is `k8s/base/x.yaml`).
pub fn path_str(p: &Path) -> String {
    match p.to_str() {
        Some(s) if is_lexical(p) && !s.contains('\\') => s.to_owned(),
        _ => lexical(p).to_string_lossy().replace('\\', "/"),
    }
}

/// Whether [`lexical`] gives `p` back unchanged (on Unix): no `.` step, no `..` but a relative
/// path's leading ones (`../../base`), no empty step (`a//b`, a trailing `/`) but the root's.
/// Most paths are, and need no rebuilding.
fn is_lexical(p: &Path) -> bool {
    let b = p.as_os_str().as_encoded_bytes();
    let mut leading = !b.starts_with(b"/");
    let mut step = |(i, c): (usize, &[u8])| {
        leading &= c == b"..";
        leading || (!matches!(c, b"." | b"..") && (i == 0 || !c.is_empty()))
    };
    cfg!(unix) && !b.ends_with(b"/") && b.split(|&c| c == b'/').enumerate().all(&mut step)
}

/// `p` with `.` and `..` steps resolved lexically (no file system access, symlinks not
/// resolved). A `..` with nothing to go up from is kept in a relative path (`../x` stays, the
/// root-relative name of a file above the root) and dropped at the root of an absolute one
/// (`/..` is `/`, as the operating system resolves it).
pub(crate) fn lexical(p: &Path) -> PathBuf {
    tidy(p).into_owned()
}

/// [`lexical`], borrowing `p` when it needs no rebuilding.
fn tidy(p: &Path) -> std::borrow::Cow<'_, Path> {
    match is_lexical(p) {
        true => std::borrow::Cow::Borrowed(p),
        false => std::borrow::Cow::Owned(resolve_steps(p)),
    }
}

/// The path a kustomization in `dir` names by `entry` (a `resources`, `components`, patch or
/// generator file entry), as kustomize resolves it: api/internal/loader/fileloader.go joins the
/// entry onto the loader's root with Go's `filepath.Join`, which tidies it lexically, and that
/// root is the directory with its symbolic links resolved (kyaml filesys/confirmeddir.go). So a
/// `..` inside the entry steps back over a link named before it (`linked/../x` is `x`) and a
/// trailing `/` is dropped, while a leading `..` leaves where `dir` really is (the system resolves
/// it from `dir` as written, through its links).
pub(crate) fn entry_path(dir: &Path, entry: &str) -> PathBuf {
    let entry = tidy(Path::new(entry));
    match entry.as_os_str().is_empty() {
        true => dir.to_path_buf(),
        false => dir.join(entry),
    }
}

/// [`lexical`]'s work: `p` rebuilt step by step.
fn resolve_steps(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::with_capacity(p.as_os_str().len());
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => _ = out.pop(),
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The first symbolic link on `path`'s way down from `top` (both as written, resolved
/// lexically), if any; `None` too when `path` is not below `top`.
pub(crate) fn link_below(top: &Path, path: &Path) -> Option<PathBuf> {
    let rel = lexical(path).strip_prefix(lexical(top)).ok()?.to_path_buf();
    let mut at = lexical(top);
    rel.components().find_map(|c| {
        at.push(c);
        let link = at.symlink_metadata().is_ok_and(|m| m.is_symlink());
        link.then(|| at.clone())
    })
}

/// How findings name a Flux `Kustomization` that deploys a directory ([`Deploy::tool`]).
pub(crate) const FLUX_KUSTOMIZATION: &str = "Flux Kustomization";

/// Whether `tool` (a [`Deploy::tool`] or [`DeployOption::tool`]) is a Flux `Kustomization`,
/// else an Argo CD object.
pub(crate) fn is_flux(tool: &str) -> bool {
    tool == FLUX_KUSTOMIZATION
}

/// A kustomize option an Argo CD `Application` (`spec.source.kustomize.namePrefix`, ...) or a
/// Flux `Kustomization` (`spec.targetNamespace`, ...) applies at sync time that may rename or
/// move objects, and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployOption {
    /// `Argo CD Application` or `Flux Kustomization`.
    pub tool: &'static str,
    pub option: String,
    /// Its value when it is a plain string (`None` for a list, a map or a number): only such a
    /// value of a name or namespace option is modelled (`kustomize::deploy`).
    pub value: Option<String>,
    /// The file, repository-relative, and the option's line.
    pub file: String,
    pub line: usize,
    /// Why its value holds a Flux `${var}` not known offline, when discovery looked.
    pub unresolved: Option<String>,
}

/// One deploy source of one Argo CD `Application` (`spec.source`, or one of `spec.sources`) or
/// Flux `Kustomization` deploying a directory: what it applies at sync time, so that the model
/// can replay it when every object deploying the directory applies the same
/// (`kustomize::deploy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deploy {
    /// `Argo CD Application`, `Argo CD ApplicationSet` or `Flux Kustomization`.
    pub tool: &'static str,
    /// The object's file, repository-relative, and the line of its `path`.
    pub file: String,
    pub line: usize,
    /// Every kustomize option it applies that may rename or move objects (the same as
    /// [`DeployTime::options`] holds for it).
    pub options: Vec<DeployOption>,
    /// An Argo CD Application's `spec.destination.namespace`: where Argo CD applies the
    /// namespaced objects that render without a namespace.
    pub destination: Option<DeployOption>,
    /// How the tool builds the directory when it holds no kustomization file
    /// ([`plain::Plain`]); `None` when it would not build it as plain manifests (an Argo CD
    /// Helm, plugin or chart source).
    pub plain: Option<plain::Plain>,
    /// For a Flux `Kustomization` deploying from a `GitRepository`: which files of the
    /// repository its artifact holds (`workspace::artifact`); `None` for Argo CD.
    pub artifact: Option<Arc<artifact::Artifact>>,
    /// The cluster it applies to, as far as the repository tells: an Argo CD object's
    /// `destination.server` or `destination.name`; a Flux `Kustomization`'s parent render (the
    /// Flux Kustomizations of this repository whose render holds its file, else its file's
    /// directory, Flux bootstrap's `clusters/<name>`). `None` when not known offline (a
    /// templated destination, a Flux `spec.kubeConfig`): what the other objects of its cluster
    /// render answers the overlay's references (rule `dangling-reference`).
    pub cluster: Option<String>,
}

/// A Flux `Kustomization`'s `spec.postBuild` that substitutes variables (a non-empty
/// `substitute` map or `substituteFrom` list) in every object of the render after the build,
/// and where it is written. Whether that changes what the model checks depends on the objects:
/// `check` looks for substitution expressions in what the secret rules read
/// (`kustomize::varsub`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostBuild {
    /// The file, repository-relative, and the line of its `postBuild` key.
    pub file: String,
    pub line: usize,
    /// The variables its `postBuild.substitute` gives a value that is not empty, each with its
    /// line: committed text Flux writes wherever `${NAME}` stands (names only, never values).
    pub substitute: Vec<(String, usize)>,
}

/// What the Argo CD `Application`s and Flux `Kustomization`s deploying a directory of this
/// repository apply at sync time that the overlay's model does not replay: from every such
/// object, however the environment was found (by an object, a config glob, the `overlays/`
/// convention, the graph or a path given on the command line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployTime {
    /// Kustomize options that may rename or move objects.
    pub options: Vec<DeployOption>,
    /// The `postBuild` substitutions of the Flux `Kustomization`s.
    pub post_build: Vec<PostBuild>,
    /// Every deploy source, one per object (and per source of an Argo CD Application with
    /// several).
    pub deploys: Vec<Deploy>,
}

impl DeployTime {
    /// Adds what another object deploying the same directory applies.
    pub(crate) fn extend(&mut self, more: DeployTime) {
        self.options.extend(more.options);
        self.post_build.extend(more.post_build);
        self.deploys.extend(more.deploys);
    }
}

/// How an environment was found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Found {
    /// A kustomization directory inside a directory named `overlays`.
    OverlaysDir,
    /// A kustomization no other kustomization in the tree includes.
    Graph,
    /// An overlay that only variants (kustomizations wrapping it) include.
    Wrapped,
    /// An overlay holding a sealed secret of its own that only another environment (a wrapper
    /// with a sealed secret of its own too, `apps/web/prod-canary`) includes.
    BuiltOn,
    /// Named by an Argo CD `Application` in this file (the first object naming it).
    ArgoApplication {
        /// The file, repository-relative.
        file: String,
    },
    /// Named by an Argo CD `ApplicationSet`'s template in this file (the first object naming
    /// it), through its generators.
    ArgoApplicationSet {
        /// The file, repository-relative.
        file: String,
    },
    /// Named by a Flux `Kustomization` in this file (the first object naming it).
    FluxKustomization {
        /// The file, repository-relative.
        file: String,
    },
    /// Matched by this glob of the config file.
    Config {
        /// The glob.
        glob: String,
    },
    /// Named by path on the command line (not otherwise an environment).
    Path,
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Found::OverlaysDir => write!(f, "overlay directory (under overlays/)"),
            Found::Graph => write!(f, "top-level kustomization (nothing includes it)"),
            Found::Wrapped => write!(f, "overlay wrapped only by variants"),
            Found::BuiltOn => write!(f, "overlay another environment builds on"),
            Found::ArgoApplication { file, .. } => write!(f, "Argo CD Application in {file}"),
            Found::ArgoApplicationSet { file, .. } => {
                write!(f, "Argo CD ApplicationSet in {file}")
            }
            Found::FluxKustomization { file, .. } => write!(f, "Flux Kustomization in {file}"),
            Found::Config { glob } => write!(f, "config glob {glob}"),
            Found::Path => write!(f, "path given on the command line"),
        }
    }
}

/// Where an environment's certificate path came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertSource {
    /// `<overlay>/sealing-cert.pem`.
    Default,
    /// The config file's `[environment.NAME] certificate`, set on this 1-based line of the file.
    Config {
        /// The line of the `certificate` setting ([`Config::certificate_line`]).
        line: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Environment {
    /// Its name: the shortest path suffix no other environment shares (`dev`, `a/dev`).
    pub name: String,
    /// The overlay directory (under the root, as reached from it).
    pub dir: PathBuf,
    /// The overlay directory, repository-relative with forward slashes.
    pub rel: String,
    pub found: Found,
    pub cert: PathBuf,
    pub cert_source: CertSource,
    /// The config's certificate URL (for `cert --fetch` with no URL).
    pub cert_url: Option<String>,
    /// The config's scope for it.
    pub scope: Option<crate::crypto::Scope>,
    /// Kustomizations that wrap it and add to it (`k8s/no-keda/dev`), repository-relative.
    pub variants: Vec<String>,
    /// The directories its build reads a file from (its kustomization directories and those of
    /// the resource files they list), canonical, when discovery knows them all
    /// (`discover::reached`).
    pub reaches: Option<Vec<PathBuf>>,
    /// What the Argo CD / Flux objects deploying its directory apply at sync time.
    pub deploy_time: DeployTime,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    /// The config file, repository-relative, when there is one.
    pub config_file: Option<String>,
    /// The config (defaults when there is no file).
    pub config: Config,
    /// The environments, sorted by directory.
    pub envs: Vec<Environment>,
    /// Kustomization directories seen but not environments, with why (for "nothing found").
    pub rejected: Vec<(String, &'static str)>,
    /// The notes discovery leaves for `check` to print ([`Workspace::notes`]).
    notes: discover::Notes,
    /// The top-level directories (repository-relative) holding kustomizations or environment
    /// certificates: the tree `check` reads. `""` is the root itself.
    pub tree_dirs: Vec<String>,
    /// The config's `environments` globs that match no kustomization directory.
    unmatched_globs: Vec<String>,
    /// The directories discovery did not enter (`discover::Scan::skipped`).
    skipped: Vec<String>,
    /// The YAML texts discovery read, by repository-relative path, until `check` takes them.
    texts: Arc<Mutex<HashMap<String, String>>>,
    /// The builds discovery judged the environments by, by directory, until `check` takes them
    /// ([`Workspace::take_builds`]).
    builds: Arc<Mutex<HashMap<PathBuf, crate::kustomize::Built>>>,
    /// What the Argo CD / Flux objects deploying each directory (canonical) apply at sync time.
    deploy_times: Arc<std::collections::BTreeMap<PathBuf, DeployTime>>,
}

impl Workspace {
    /// Every note discovery leaves for `check` to print (each without `note: `): generated,
    /// artifact, unknown source, unresolved, patched and unread deploy objects, in that order.
    pub fn notes(&self) -> impl Iterator<Item = &str> {
        (self.notes.lists().into_iter())
            .flat_map(|(_, notes)| notes)
            .map(|(_, note)| note.as_str())
    }

    /// Refuses the environment `env` in `dir` (repository-relative) when a config file below
    /// the root that this run does not read holds it: the innermost, whose root would read it.
    ///
    /// # Errors
    /// [`UnreadConfig`].
    pub(crate) fn refuse_unread_config(&self, env: &str, dir: &str) -> Result<(), UnreadConfig> {
        let holder = |file: &str| file.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
        let innermost = (self.notes.configs.iter())
            .filter(|(file, _)| within(dir, &holder(file)))
            .max_by_key(|(file, _)| file.len());
        match innermost {
            Some((file, _)) => Err(UnreadConfig {
                env: env.to_owned(),
                config: file.clone(),
                dir: holder(file),
            }),
            None => Ok(()),
        }
    }

    /// Reads the config file (if any) and finds the environments.
    ///
    /// # Errors
    /// [`ConfigError`] for a config file that cannot be used.
    pub fn load(root: &Path) -> Result<Workspace, ConfigError> {
        let (config_file, config) =
            config::load(root)?.map_or((None, Config::default()), |(f, c)| (Some(f), c));
        let ws = Self::with_config(root, config_file, config);
        ws.check_environment_globs()?;
        ws.check_environment_tables()?;
        Ok(ws)
    }

    /// Every `environments` glob must match a kustomization directory: one that matches none (a
    /// typo, a moved directory) would silently drop the environments it was written for while
    /// the other globs still find some.
    fn check_environment_globs(&self) -> Result<(), ConfigError> {
        let (Some(file), Some(glob)) = (&self.config_file, self.unmatched_globs.first()) else {
            return Ok(());
        };
        Err(ConfigError::Invalid {
            file: file.clone(),
            line: self.config.environments_line(glob),
            message: format!(
                "environments: `{}` matches no directory holding a kustomization.yaml, kustomization.yml or Kustomization{}",
                glob.escape_debug(),
                if self.config.ignore.is_empty() {
                    ""
                } else {
                    " (outside the ignore paths)"
                }
            ),
        })
    }

    /// Every `[environment.KEY]` table must name an environment (by name or directory) or a
    /// kustomization directory (a path commands take as given): otherwise its settings would
    /// silently apply to nothing (a typo, or a name that gained a path suffix when another app
    /// brought an environment of the same name), and `seal` would use the default certificate.
    fn check_environment_tables(&self) -> Result<(), ConfigError> {
        let Some(file) = &self.config_file else {
            return Ok(());
        };
        let known = |key: &str| {
            self.envs.iter().any(|e| e.name == key || e.rel == key)
                || (!key.split('/').any(|s| s.is_empty() || s == "..")
                    && kustomization_file(&self.root.join(key)).is_some())
        };
        // One environment, one table: with a table by name and another by directory, the
        // second's settings would be dropped in silence.
        let twice = self.envs.iter().find(|e| {
            e.name != e.rel
                && self.config.environment.contains_key(e.name.as_str())
                && self.config.environment.contains_key(e.rel.as_str())
        });
        if let Some(e) = twice {
            return Err(ConfigError::Invalid {
                file: file.clone(),
                line: self.config.environment_line(&e.rel),
                message: format!(
                    "[environment.{}] and [environment.{:?}] both name environment {} ({}): one table per environment, or the settings of one would be dropped",
                    toml_key(&e.name),
                    e.rel,
                    e.name,
                    e.rel
                ),
            });
        }
        match self.config.environment.keys().find(|k| !known(k)) {
            None => Ok(()),
            Some(key) => Err(ConfigError::Invalid {
                file: file.clone(),
                line: self.config.environment_line(key),
                message: format!(
                    "[environment.{}] names no environment and no kustomization directory (the environments: {})",
                    key.escape_debug(),
                    if self.envs.is_empty() {
                        "none found".to_owned()
                    } else {
                        self.names().join(", ")
                    }
                ),
            }),
        }
    }

    fn with_config(root: &Path, config_file: Option<String>, config: Config) -> Workspace {
        let ignored = |r: &str| config.ignore.iter().any(|g| config::glob_match(g, r));
        let globs: Vec<&str> = (config.environments.iter())
            .flat_map(|g| g.get_ref().iter().map(|s| &**s))
            .collect();
        let scan = discover::scan(root, &ignored, &globs);
        let mut uncovered = Vec::new();
        let (picks, rejected, unmatched_globs, builds) = match &config.environments {
            Some(globs) => {
                let (picks, unmatched) = from_globs(root, globs.get_ref(), &scan);
                uncovered = uncovered_note(root, &scan, &picks);
                (picks, Vec::new(), unmatched, HashMap::new())
            }
            None => {
                let (picks, rejected, builds) = discovered(root, &scan);
                (picks, rejected, Vec::new(), builds)
            }
        };
        let rels: Vec<String> = picks.iter().map(|p| dir_rel(root, &p.dir)).collect();
        let names = discover::unique_names(&rels);
        let mut envs: Vec<Environment> = picks
            .into_iter()
            .zip(names)
            .map(|(p, name)| {
                let mut e = Environment::new(root, &config, name, p.dir, p.found);
                e.variants = p.variants.iter().map(|v| dir_rel(root, v)).collect();
                e.reaches = discover::reached(&scan, &e.dir);
                e.deploy_time = deploy_time(&scan.deploy_times, &e.dir);
                e
            })
            .collect();
        envs.sort_by(|a, b| a.rel.cmp(&b.rel));
        let tree_dirs = (scan.kust.values().map(|k| &k.dir))
            .chain(scan.plain.values())
            .map(|d| rel(root, d))
            .chain(envs.iter().map(|e| rel(root, &e.cert)))
            .map(|r| match r.split_once('/') {
                Some((top, _)) => top.to_owned(),
                None if root.join(&r).is_dir() => r,
                None => String::new(),
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let notes = discover::Notes {
            incomplete: incomplete_notes(&rejected),
            uncovered,
            ..scan.notes
        };
        Workspace {
            root: root.to_path_buf(),
            config_file,
            config,
            envs,
            rejected,
            notes,
            tree_dirs,
            unmatched_globs,
            skipped: scan.skipped,
            texts: Arc::new(Mutex::new(scan.texts)),
            builds: Arc::new(Mutex::new(builds)),
            deploy_times: Arc::new(scan.deploy_times),
        }
    }

    /// The YAML texts discovery read (once: later calls get none, the files may have changed).
    pub(crate) fn take_texts(&self) -> HashMap<String, String> {
        self.texts
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default()
    }

    /// The builds discovery made of environment directories as `check` builds them, by
    /// directory as the environments hold it (once: later calls get none, the files may have
    /// changed), so that `check` builds each directory once per run.
    pub(crate) fn take_builds(&self) -> HashMap<PathBuf, crate::kustomize::Built> {
        self.builds
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default()
    }

    pub fn env(&self, name: &str) -> Option<&Environment> {
        self.envs.iter().find(|e| e.name == name)
    }

    /// Environment names, in order.
    pub fn names(&self) -> Vec<String> {
        self.envs.iter().map(|e| e.name.clone()).collect()
    }

    /// True when `rel` (repository-relative) is under a configured ignore path.
    pub fn is_ignored(&self, rel: &str) -> bool {
        self.config
            .ignore
            .iter()
            .any(|g| config::glob_match(g, rel))
    }

    /// The directory every environment sits in when they share one (`k8s/overlays`), for
    /// messages about a name that is not there.
    pub fn common_parent(&self) -> Option<String> {
        let mut parents = self.envs.iter().map(|e| {
            e.rel
                .rsplit_once('/')
                .map_or(String::new(), |(p, _)| p.to_owned())
        });
        let first = parents.next()?;
        parents.all(|p| p == first).then_some(first)
    }

    /// Where discovery looked and what it would accept, for "no environment found".
    pub fn looked(&self) -> String {
        let root = self.root.display();
        if let (Some(file), Some(globs)) = (&self.config_file, &self.config.environments) {
            return format!(
                "no directory under {root} matches the environments globs of {file} ({}) and holds a kustomization.yaml, kustomization.yml or Kustomization",
                globs.get_ref().join(", ")
            );
        }
        let seen = if self.rejected.is_empty() {
            match &self.config_file {
                Some(file) if !self.config.ignore.is_empty() => format!(
                    "none found outside what {file} ignores ({})",
                    self.config.ignore.join(", ")
                ),
                _ => "none found".to_owned(),
            }
        } else {
            self.rejected
                .iter()
                .take(8)
                .map(|(d, why)| format!("{d}: {why}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        // "; WHAT: a, b" for the places of `notes`, nothing when there are none.
        let listed = |what: &str, notes: &[(String, String)]| {
            if notes.is_empty() {
                return String::new();
            }
            let places: Vec<&str> = notes.iter().map(|(p, _)| p.as_str()).collect();
            format!("; {what}: {}", places.join(", "))
        };
        let mut notes: String = (self.notes.lists().into_iter())
            .map(|(what, notes)| listed(what, notes))
            .collect();
        if !self.skipped.is_empty() {
            let shown: Vec<&str> = self.skipped.iter().take(8).map(String::as_str).collect();
            let more = if self.skipped.len() > 8 { ", ..." } else { "" };
            notes.push_str(&format!(
                "; directories not entered (hidden ones, target, node_modules, unless an environments glob in emp-seal.toml names them): {}{more}",
                shown.join(", ")
            ));
        }
        format!(
            "no environment under {root}: looked for overlay directories ({root}/k8s/overlays/<env>, {root}/overlays/<env>, any .../overlays/<env>), top-level kustomizations anywhere in the tree, and Argo CD Application / ApplicationSet and Flux Kustomization objects naming directories (kustomization directories seen: {seen}{notes})"
        )
    }
}

/// What the objects deploying the path `dir` apply at sync time (nothing when none deploys it,
/// as when they deploy another path, a symbolic link, to its directory: `discover::Scan`).
fn deploy_time(times: &std::collections::BTreeMap<PathBuf, DeployTime>, dir: &Path) -> DeployTime {
    times.get(&lexical(dir)).cloned().unwrap_or_default()
}

/// Config globs: every kustomization directory matching one, and every directory without a
/// kustomization file that an object deploys (`discover::Scan::plain`), each by its path as
/// environments are named (`.` for the root); with the globs that match none of them.
fn from_globs(
    root: &Path,
    globs: &[config::Setting],
    scan: &discover::Scan,
) -> (Vec<discover::Pick>, Vec<String>) {
    // By directory as reached: one reached through a link too is an environment under each path
    // a glob matches (`discover::pick`).
    let mut picks: BTreeMap<(&Path, &Path), discover::Pick> = BTreeMap::new();
    let mut matched = vec![false; globs.len()];
    let aliases = (scan.aliases.iter()).flat_map(|(c, ds)| ds.iter().map(move |d| (c, d)));
    let dirs = (scan.kust.iter().map(|(c, k)| (c, &k.dir)))
        .chain(aliases)
        .chain(&scan.plain);
    for (c, dir) in dirs {
        let r = dir_rel(root, dir);
        let mut first = None;
        for (i, g) in globs.iter().enumerate() {
            if config::glob_match(g, &r) {
                matched[i] = true;
                first = first.or(Some(g));
            }
        }
        let Some(glob) = first.map(|g| g.to_string()) else {
            continue;
        };
        let pick = discover::Pick::new(dir.clone(), Found::Config { glob }, true);
        picks.insert((c, dir), pick);
    }
    // A kustomization no glob names that wraps a configured environment is deployed in its
    // place: its variant, as discovery makes it.
    for (c, k) in &scan.kust {
        if picks.keys().any(|(p, _)| p == c) {
            continue;
        }
        if let Some(inner) = discover::wrapped(scan, c) {
            let mut wrapping = picks.iter_mut().filter(|((p, _), _)| *p == inner);
            if let Some((_, p)) = wrapping.next() {
                p.variants.push(k.dir.clone());
            }
        }
    }
    let unmatched = (globs.iter().zip(matched))
        .filter(|(_, m)| !m)
        .map(|(g, _)| g.to_string())
        .collect();
    (picks.into_values().collect(), unmatched)
}

/// With config globs: one note naming the kustomizations no other includes that are neither a
/// configured environment nor one of their variants (at most five, and how many more): nothing
/// checks them. A variant whose overlay was renamed, so that it wraps nothing, is one.
fn uncovered_note(
    root: &Path,
    scan: &discover::Scan,
    picks: &[discover::Pick],
) -> Vec<(String, String)> {
    let covered = |dir: &PathBuf| {
        picks
            .iter()
            .any(|p| &p.dir == dir || p.variants.contains(dir))
    };
    // An aggregator (a cluster directory listing environments) includes what is checked.
    let configured: Vec<&Path> = (scan.kust.iter())
        .filter(|(_, k)| picks.iter().any(|p| p.dir == k.dir))
        .map(|(c, _)| c.as_path())
        .collect();
    let aggregates =
        |k: &discover::KustDir| k.includes.iter().any(|i| configured.contains(&i.as_path()));
    let left: Vec<String> = (scan.kust.iter())
        .filter(|(c, k)| discover::is_top_level(scan, c, k) && !covered(&k.dir) && !aggregates(k))
        .map(|(_, k)| dir_rel(root, &k.dir))
        .collect();
    let Some(first) = left.first() else {
        return Vec::new();
    };
    let note = format!(
        "{} kustomization(s) that are no environment of the config's `environments` and neither include nor wrap one were not checked: {}; list them in `environments` to check them (one may be a variant whose overlay was renamed, which kustomize cannot build)",
        left.len(),
        first_five(&left)
    );
    vec![(first.clone(), note)]
}

/// The builds of environment directories discovery made, by directory.
type Builds = HashMap<PathBuf, crate::kustomize::Built>;

/// Discovery without globs: the rule's picks, less those with no secret in their model; with
/// the builds that judged the kept ones, for `check` to take over.
fn discovered(
    root: &Path,
    scan: &discover::Scan,
) -> (Vec<discover::Pick>, Vec<(String, &'static str)>, Builds) {
    let picks = discover::pick(scan);
    let judge = |p: discover::Pick| {
        if p.keep_without_secret {
            return Ok((p, None));
        }
        let times = deploy_time(&scan.deploy_times, &p.dir);
        match has_secret(root, &p.dir, deployed(&p.found), &times) {
            Ok(built) => Ok((p, built)),
            Err(why) => Err((rel(root, &p.dir), why)),
        }
    };
    // The builds run in parallel; with at most one to run, on this thread.
    let one = picks.iter().filter(|p| !p.keep_without_secret).count() <= 1;
    let (mut kept, mut rejected, mut builds) = (Vec::new(), Vec::new(), Builds::new());
    for judged in crate::par::map(picks, one, judge) {
        match judged {
            Ok((p, built)) => {
                builds.extend(built.map(|b| (p.dir.clone(), b)));
                kept.push(p);
            }
            Err(r) => rejected.push(r),
        }
    }
    for k in scan.kust.values() {
        if !kept.iter().any(|p| p.dir == k.dir)
            && !rejected.iter().any(|(d, _)| *d == rel(root, &k.dir))
        {
            rejected.push((
                rel(root, &k.dir),
                "included by another kustomization, or a base",
            ));
        }
    }
    rejected.sort();
    (kept, rejected, builds)
}

/// True for a directory an Argo CD / Flux object deploys.
fn deployed(found: &Found) -> bool {
    matches!(
        found,
        Found::ArgoApplication { .. }
            | Found::ArgoApplicationSet { .. }
            | Found::FluxKustomization { .. }
    )
}

/// The notes for the directories discovery did not keep as environments because their model
/// is incomplete ([`NOT_SEEN`]).
fn incomplete_notes(rejected: &[(String, &'static str)]) -> Vec<(String, String)> {
    (rejected.iter())
        .filter(|(_, why)| *why == NOT_SEEN)
        .map(|(dir, _)| (dir.clone(), format!(
            "{dir}: a kustomization no other includes, not checked as an environment: its model lacks what kustomize fetches there (a remote resource, a Helm chart), so whether it deploys a secret is not known; list it under `environments` in emp-seal.toml to check it, or under `ignore`"
        )))
        .collect()
}

/// Why a directory discovery picked is no environment: its model holds nothing of a secret.
pub(crate) const NO_SECRET: &str = "no secret in its render";

/// Why a directory discovery picked is no environment although its model may miss a secret: it
/// lacks objects kustomize would fetch (`ProblemKind::Unfetched`). `check` notes such directories (`Notes::incomplete`).
pub(crate) const NOT_SEEN: &str = "a remote resource or a Helm chart it does not fetch, and nothing of a secret in what it does model";

/// Keeps a directory whose model holds a SealedSecret, a Secret (generated or not) or a
/// reference to a Secret, or that cannot be built (the check then reports why); for a directory
/// an Argo CD / Flux object deploys (`deployed`), also one whose model does not hold all of it
/// (a remote resource, a `List`, a feature it does not replay): what it does not see may be a
/// secret, and the check then reports what it could not model. Kept: with the build, when
/// `check` can take it over ([`crate::kustomize::Built::reusable`]); else why not
/// ([`NO_SECRET`], [`NOT_SEEN`]).
fn has_secret(
    root: &Path,
    dir: &Path,
    deployed: bool,
    deploy_time: &DeployTime,
) -> Result<Option<crate::kustomize::Built>, &'static str> {
    use crate::kustomize::ProblemKind;
    let Ok(built) = crate::kustomize::Built::for_discovery(root, dir, deploy_time) else {
        return Ok(None);
    };
    let o = built.judged();
    let kinds = |k: &[ProblemKind]| o.problems().iter().any(|p| k.contains(&p.kind));
    // Objects kustomize adds that the model lacks (a remote base, a Helm chart) may be Secrets.
    let unfetched = kinds(&[ProblemKind::Unfetched]);
    let secret = !o.secret_sources().is_empty()
        || o.resources().iter().any(|r| r.kind == "Secret")
        || o.references().iter().any(|r| r.target_kind == "Secret")
        || o.problems().iter().any(|p| p.fails_build())
        || (deployed && kinds(&[ProblemKind::Unfetched, ProblemKind::NotModelled]));
    match (secret, unfetched) {
        (true, _) => Ok(built.reusable().then_some(built)),
        (false, true) => Err(NOT_SEEN),
        (false, false) => Err(NO_SECRET),
    }
}

/// `key` as a TOML table key is written: bare when it may be (`prod`), else quoted
/// (`"shop/dev"`).
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && (key.chars()).all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

impl Environment {
    /// An environment with the config's settings for it (by name or directory): scope and
    /// certificate path.
    fn new(root: &Path, config: &Config, name: String, dir: PathBuf, found: Found) -> Environment {
        let rel = dir_rel(root, &dir);
        let (key, own) = [&name, &rel]
            .into_iter()
            .find_map(|k| Some((k.as_str(), config.environment.get(k.as_str())?)))
            .unzip();
        let scope = own
            .and_then(|c| c.scope)
            .or(config.scope)
            .map(config::ScopeName::scope);
        let cert = own.and_then(|c| c.certificate.as_deref());
        let cert_url = cert.filter(|c| c.starts_with("https://") || c.starts_with("http://"));
        let (cert, cert_source) = match cert.filter(|_| cert_url.is_none()) {
            Some(c) => (
                root.join(c),
                CertSource::Config {
                    line: key.map_or(1, |k| config.certificate_line(k)),
                },
            ),
            None => (dir.join(DEFAULT_CERT_FILE), CertSource::Default),
        };
        Environment {
            name,
            dir,
            rel,
            found,
            cert,
            cert_source,
            cert_url: cert_url.map(str::to_owned),
            scope,
            variants: Vec::new(),
            reaches: None,
            deploy_time: DeployTime::default(),
        }
    }
}

/// The workspace of `root`, discovered once per process (a missing name rediscovers: see
/// [`refresh`]). A config file that cannot be used counts as absent here: the CLI reports it
/// before any command runs ([`Workspace::load`]).
pub fn get(root: &Path) -> Arc<Workspace> {
    cached(root).unwrap_or_else(|| refresh(root))
}

/// Rediscovers the workspace of `root` (after a command created an overlay, or when a name is
/// not found in the cached one).
pub fn refresh(root: &Path) -> Arc<Workspace> {
    store(
        root,
        Workspace::load(root)
            .unwrap_or_else(|_| Workspace::with_config(root, None, Config::default())),
    )
}

/// Like [`get`], but a config file that cannot be used is an error (for commands that report
/// it: `check`, `config`, and the CLI before any command).
///
/// # Errors
/// [`ConfigError`].
pub fn load_cached(root: &Path) -> Result<Arc<Workspace>, ConfigError> {
    match cached(root) {
        Some(w) if w.config_file.is_some() == config::config_path(root).is_some() => Ok(w),
        _ => Ok(store(root, Workspace::load(root)?)),
    }
}

static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Workspace>>>> = OnceLock::new();

fn cached(root: &Path) -> Option<Arc<Workspace>> {
    CACHE
        .get_or_init(Mutex::default)
        .lock()
        .ok()?
        .get(root)
        .cloned()
}

fn store(root: &Path, w: Workspace) -> Arc<Workspace> {
    let w = Arc::new(w);
    if let Ok(mut c) = CACHE.get_or_init(Mutex::default).lock() {
        c.insert(root.to_path_buf(), Arc::clone(&w));
    }
    w
}

/// Like [`resolve`], rediscovering once when the cached workspace does not know `arg` (the tree
/// may have changed since it was discovered in this process).
pub fn resolve_fresh(root: &Path, arg: &str) -> Option<Environment> {
    resolve(root, arg).or_else(|| {
        refresh(root);
        resolve(root, arg)
    })
}

/// The environment a name or path names, as commands pass them on: an environment name (the
/// root's environment is `.`), or a path to a kustomization directory inside the root,
/// relative to the working directory, else to the root (so `apps/a/dev` works from anywhere in
/// the repository). What a user typed goes through [`resolve_typed`] first. A directory that is
/// no discovered environment is taken as given ([`Found::Path`]), named by its relative path.
pub fn resolve(root: &Path, arg: &str) -> Option<Environment> {
    let ws = get(root);
    let trimmed = arg.trim_end_matches('/');
    if let Some(e) = ws.env(arg).or_else(|| ws.env(trimmed)) {
        return Some(e.clone());
    }
    // A path relative to the working directory that leaves the root (a run with `-C` from
    // another checkout) is not this repository's: the root's own path is. `.` passed on is the
    // root (the root's environment's name), whatever the working directory.
    let canon_root = std::fs::canonicalize(root).ok()?;
    let mut cands = vec![root.join(trimmed)];
    if trimmed != "." {
        cands.insert(0, PathBuf::from(trimmed));
    }
    let (given, dir) = cands
        .iter()
        .filter(|p| !trimmed.is_empty() && kustomization_file(p).is_some())
        .filter_map(|p| Some((p, std::fs::canonicalize(p).ok()?)))
        .find(|(_, p)| p.starts_with(&canon_root))?;
    // The environment by the path given, else one reaching the same directory through a link.
    let given = std::path::absolute(given).map(|p| lexical(&p)).ok();
    let same_path =
        |e: &&Environment| std::path::absolute(&e.dir).is_ok_and(|d| Some(lexical(&d)) == given);
    let same_dir = |e: &&Environment| std::fs::canonicalize(&e.dir).is_ok_and(|d| d == dir);
    if let Some(e) = ws
        .envs
        .iter()
        .find(same_path)
        .or_else(|| ws.envs.iter().find(same_dir))
    {
        return Some(e.clone());
    }
    let inside = dir.strip_prefix(&canon_root).ok()?;
    let name = rel(Path::new(""), inside);
    let mut e = Environment::new(root, &ws.config, name, root.join(inside), Found::Path);
    e.deploy_time = deploy_time(&ws.deploy_times, &e.dir);
    Some(e)
}

/// The environment an argument as typed names: like [`resolve`], except that a path written
/// from the working directory (`.`, `..`, `./dev`, `../prod`) is no name and is taken from the
/// working directory when that is inside the root: `.` run in `deploy/overlays/prod` is that
/// directory, and the root's environment `.` only at the root (or, with `-C`, from outside it).
pub fn resolve_typed(root: &Path, arg: &str) -> Option<Environment> {
    match typed_path(root, arg) {
        Some(abs) => resolve(root, &abs.to_string_lossy()),
        None => resolve(root, arg),
    }
}

/// The directory `arg` names when it is a path written from the working directory and that is
/// inside the root: absolute, with `.` and `..` steps resolved lexically (so that no
/// environment name can match it). `None` for any other argument.
pub(crate) fn typed_path(root: &Path, arg: &str) -> Option<PathBuf> {
    let t = arg.trim_end_matches('/');
    if !(t == "." || t == ".." || t.starts_with("./") || t.starts_with("../")) {
        return None;
    }
    let cwd = std::env::current_dir().ok()?;
    let inside = |p: &Path| {
        std::fs::canonicalize(p)
            .ok()
            .zip(std::fs::canonicalize(root).ok())
            .is_some_and(|(p, r)| p.starts_with(r))
    };
    inside(&cwd).then(|| PathBuf::from(path_str(&cwd.join(t))))
}

/// Writes a test fixture `rel` under `root`, creating its directories.
#[cfg(test)]
pub(crate) fn write_fixture(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    let mut f = std::fs::File::create(p).expect("create fixture");
    std::io::Write::write_all(&mut f, text.as_bytes()).expect("write fixture");
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::workspace::write_fixture as write;

    const SEALED: &str = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: s\nspec:\n  encryptedData: {}\n";

    #[test]
    fn lexical_keeps_a_relative_leading_parent_and_drops_one_above_the_root() {
        let l = |p: &str| lexical(Path::new(p));
        assert_eq!(
            l("/r/k8s/overlays/dev/../../base/./x.yaml"),
            Path::new("/r/k8s/base/x.yaml")
        );
        // The builder's and the artifact's absolute paths: nothing is above `/`.
        assert_eq!(l("/r/../../x"), Path::new("/x"));
        // A root-relative name of a file above the root keeps every leading `..`.
        assert_eq!(l("../../shared/a.env"), Path::new("../../shared/a.env"));
        assert_eq!(l("a/../../b"), Path::new("../b"));
        assert_eq!(l("./"), Path::new(""));
        assert_eq!(path_str(Path::new("../a/./../b")), "../b");
    }

    #[test]
    fn a_path_taken_as_it_is_is_the_one_rebuilt_step_by_step() {
        // Every path of up to 7 characters from `a`, `.` and `/`: one `is_lexical` takes as it
        // is must come out of the step-by-step rebuild byte for byte.
        let (mut paths, mut layer) = (vec![String::new()], vec![String::new()]);
        for _ in 0..7 {
            layer = (layer.iter())
                .flat_map(|p| ["a", ".", "/"].map(|c| format!("{p}{c}")))
                .collect();
            paths.extend(layer.iter().cloned());
        }
        let mut taken = 0;
        for p in &paths {
            let path = Path::new(p);
            if is_lexical(path) {
                taken += 1;
                assert_eq!(resolve_steps(path).as_os_str(), path.as_os_str(), "{p:?}");
            }
            assert_eq!(lexical(path), resolve_steps(path), "{p:?}");
        }
        assert!(taken > 100, "only {taken} paths taken as they are");
        for (p, as_is) in [
            ("/r/k8s/base/x.yaml", true),
            ("../../a", true),
            ("a/../b", false),
            ("/../a", false),
            (".a/b..", true),
            ("a//b", false),
            ("a/b/", false),
            ("a/.", false),
        ] {
            assert_eq!(is_lexical(Path::new(p)), as_is, "{p}");
        }
        assert_eq!(path_str(Path::new("a//b/")), "a/b");
        assert_eq!(path_str(Path::new("a\\b")), "a/b");
    }

    #[test]
    fn repeated_names_get_path_suffixes_and_secret_free_roots_are_dropped() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        for app in ["a", "b"] {
            write(
                r,
                &format!("apps/{app}/base/kustomization.yaml"),
                "resources: [s.yaml]\n",
            );
            write(r, &format!("apps/{app}/base/s.yaml"), SEALED);
            write(
                r,
                &format!("apps/{app}/dev/kustomization.yaml"),
                "resources: [../base]\n",
            );
        }
        write(r, "docs-site/kustomization.yaml", "resources: [cm.yaml]\n");
        write(
            r,
            "docs-site/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        );
        let ws = Workspace::load(r).expect("loads");
        assert_eq!(ws.names(), ["a/dev", "b/dev"]);
        assert!(
            ws.rejected.iter().any(|(d, _)| d == "docs-site"),
            "{:?}",
            ws.rejected
        );
    }

    #[test]
    fn config_globs_replace_discovery_and_set_certificates() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        write(
            r,
            "deploy/web/overlays/prod/kustomization.yaml",
            "resources: []\n",
        );
        write(
            r,
            "deploy/web/other/kustomization.yaml",
            "resources: [s.yaml]\n",
        );
        write(
            r,
            "emp-seal.toml",
            "environments = [\"deploy/*/overlays/*\"]\n[environment.prod]\ncertificate = \"certs/prod.pem\"\n",
        );
        let ws = Workspace::load(r).expect("loads");
        assert_eq!(ws.names(), ["prod"]);
        let e = &ws.envs[0];
        assert_eq!(e.cert, r.join("certs/prod.pem"));
        assert_eq!(e.cert_source, CertSource::Config { line: 3 });
        assert_eq!(
            e.found,
            Found::Config {
                glob: "deploy/*/overlays/*".to_owned()
            }
        );
    }

    /// A kustomization directory named by path on the command line, not an environment (no
    /// glob matches it), carries what the Flux Kustomization deploying it applies at sync time,
    /// like an environment the globs found.
    #[test]
    fn path_given_on_the_command_line_gets_the_deploy_time_options() {
        let t = tempfile::tempdir().expect("tempdir");
        let r = t.path();
        write(r, "emp-seal.toml", "environments = [\"envs/*\"]\n");
        for dir in ["envs/qa", "other/app"] {
            write(
                r,
                &format!("{dir}/kustomization.yaml"),
                "resources: [s.yaml]\n",
            );
            write(r, &format!("{dir}/s.yaml"), SEALED);
        }
        let flux = |path: &str| {
            format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: x\nspec:\n  path: ./{path}\n  namePrefix: x-\n"
            )
        };
        write(
            r,
            "flux/x.yaml",
            &format!("{}---\n{}", flux("envs/qa"), flux("other/app")),
        );
        let option = |line: usize| DeployOption {
            tool: "Flux Kustomization",
            option: "namePrefix".to_owned(),
            value: Some("x-".to_owned()),
            file: "flux/x.yaml".to_owned(),
            line,
            unresolved: None,
        };
        let ws = Workspace::load(r).expect("loads");
        assert_eq!(ws.names(), ["qa"]);
        assert_eq!(ws.envs[0].deploy_time.options, [option(7)]);
        let e = resolve(r, "other/app").expect("a kustomization directory");
        assert_eq!(e.found, Found::Path);
        assert_eq!(e.deploy_time.options, [option(15)]);
    }
}
