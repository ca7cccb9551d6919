//! A read-only model of a Kustomize tree: which overlays exist, which objects each one renders,
//! the name and namespace every object has after rendering, the Secrets/ConfigMaps its generators
//! produce, where each overlay's Secret comes from, and every name reference its workloads make.
//!
//! Owns following `resources`/`components`/`generators`/patches
//! through nested kustomizations, and replaying kustomize's name transforms (namespace, prefix,
//! suffix, generator hash, name-reference rewriting) without running kustomize. It must not write
//! anything, fetch remote bases, run `kubectl`, or read secret values: env files are read for key
//! names only, through [`crate::envfile::parse`]. What is and is not modelled: docs/kustomize-model.md.
//!
//! Upstream order of operations: kubernetes-sigs/kustomize `api/internal/target/kusttarget.go`
//! (`accumulateTarget`, `makeCustomizedResMap`) and `kusttarget_configplugin.go`
//! (`configureBuiltinTransformers`).

mod build;
mod built;
mod deploy;
mod docs;
mod examples;
pub(crate) mod lists;
mod patch;
mod plain;
mod refs;
pub mod runtime_secrets;
pub(crate) mod varsub;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::crypto::Scope;
pub use crate::yamlpos::Seg;
pub use build::ParseCache;
pub(crate) use build::{is_remote, lands_in_destination};
pub(crate) use built::Built;
pub(crate) use docs::{has_complex_key, merged};
pub use examples::{ExampleFile, ExampleKeys, examples_on_disk};
/// Every name reference in one object value (for `check --render`'s reading of a real render).
pub(crate) use refs::extract as extract_refs;
pub use refs::{RefField, Resolution};
pub use runtime_secrets::{RuntimeSecret, SecretScope};

/// Errors that stop loading an overlay at all. Everything else is a [`Problem`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KustomizeError {
    /// The overlay directory has no kustomization file.
    #[error("{dir}: no kustomization.yaml, kustomization.yml or Kustomization")]
    NoKustomization {
        /// The directory that was searched.
        dir: PathBuf,
    },
    /// The overlay's own kustomization file could not be read.
    #[error("{path}: cannot read kustomization: {message}")]
    Unreadable {
        path: PathBuf,
        /// What went wrong (never file content).
        message: String,
    },
    /// The overlay's own kustomization file is not UTF-8 (kustomize's YAML parser refuses it).
    #[error("{}", crate::fsio::not_utf8(path.display(), *line))]
    NotUtf8 {
        path: PathBuf,
        /// 1-based line of the first byte that is not UTF-8.
        line: usize,
    },
    /// The overlay's own kustomization file is not YAML kustomize can parse.
    #[error("{path}:{line}: kustomization does not parse: {message}")]
    Syntax {
        path: PathBuf,
        /// 1-based line the parser points at.
        line: usize,
        /// The parser's message (never file content).
        message: String,
    },
}

impl KustomizeError {
    /// A one-line suggestion for the user, when there is one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            KustomizeError::NoKustomization { .. } => Some(
                "an environment is a directory with a kustomization.yaml (`emp-seal config` lists them)",
            ),
            KustomizeError::Unreadable { .. }
            | KustomizeError::NotUtf8 { .. }
            | KustomizeError::Syntax { .. } => None,
        }
    }

    /// The error with its path relative to `root`, as every message names a file.
    fn relative_to(mut self, root: &Path) -> Self {
        let (KustomizeError::NoKustomization { dir: p }
        | KustomizeError::Unreadable { path: p, .. }
        | KustomizeError::NotUtf8 { path: p, .. }
        | KustomizeError::Syntax { path: p, .. }) = &mut self;
        *p = PathBuf::from(crate::workspace::rel(root, p));
        self
    }
}

/// The top-level identity an object has after rendering.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity {
    /// `metadata.name`, without a generator hash suffix (see [`Generated::hash_suffix`]).
    pub name: String,
    /// `metadata.namespace`, if set.
    pub namespace: Option<String>,
}

/// `NAMESPACE/NAME`, or `NAME` without a namespace: how messages show an identity, and how
/// `--name` takes one.
impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Where something was written: a file (relative to the repository root when it is inside it)
/// and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
}

impl Origin {
    /// Line `line` (1-based) of `file`.
    pub fn new(file: impl Into<PathBuf>, line: usize) -> Origin {
        Origin {
            file: file.into(),
            line,
        }
    }
}

/// `file:line`, the file named as `check` names it ([`crate::workspace::path_str`]: `..` steps
/// resolved, so `k8s/overlays/dev/../../base/x.yaml` is `k8s/base/x.yaml`).
impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let file = crate::workspace::path_str(&self.file);
        write!(f, "{file}:{}", self.line)
    }
}

/// What kind of trouble a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A file or directory is missing or unreadable, or YAML does not parse.
    Invalid,
    /// Objects kustomize would add that the model does not have: a remote resource it would
    /// fetch, or a Helm chart it would inflate. They cannot rename or re-scope the objects the
    /// model has: kustomize builds each base as a target of its own and applies its
    /// transformers to its own objects only (api/internal/target/kusttarget.go,
    /// `accumulateResources`), and a chart only generates.
    Unfetched,
    /// A `generators:` entry kustomize would treat as an external plugin (not `apiVersion: builtin`).
    ExternalPlugin,
    /// A feature emp-seal does not model, so rendered names may differ from this model.
    NotModelled,
    /// Kustomize itself would fail (e.g. `merge` with nothing to merge into).
    BuildError,
}

/// A non-fatal problem found while loading, with its location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub origin: Origin,
    /// One lowercase line, never a secret value.
    pub message: String,
}

impl Problem {
    /// A [`ProblemKind::NotModelled`] problem at `origin`.
    pub(crate) fn not_modelled(origin: Origin, message: String) -> Problem {
        Problem {
            kind: ProblemKind::NotModelled,
            origin,
            message,
        }
    }

    /// True when the problem is YAML that does not parse (or cannot be read as manifests, e.g.
    /// a `{{ }}` template): the check reports those as `yaml-syntax` for files it scans.
    pub fn is_yaml_syntax(&self) -> bool {
        self.kind == ProblemKind::Invalid && self.message.starts_with(build::YAML_SYNTAX_PREFIX)
    }

    /// True when kustomize itself would refuse to build the overlay (a missing or unreadable
    /// file, YAML that does not parse, an external plugin, or a build error).
    pub fn fails_build(&self) -> bool {
        matches!(
            self.kind,
            ProblemKind::Invalid | ProblemKind::ExternalPlugin | ProblemKind::BuildError
        )
    }
}

/// One object from a `resources:` file, as it renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub api_version: String,
    pub kind: String,
    /// Name and namespace as written in the file.
    pub original: Identity,
    /// Name and namespace after every transform of every level.
    pub rendered: Identity,
    /// The file and line of the document (its first line).
    pub origin: Origin,
    /// 0-based index of the document among the file's non-empty documents.
    pub doc_index: usize,
    /// Line of `metadata.name` in the file (the document line when there is none).
    pub name_line: usize,
    /// Top-level `metadata.annotations` after rendering (the file's own, patches,
    /// `commonAnnotations`).
    pub annotations: Vec<(String, String)>,
    /// The key names of a Secret or `SealedSecret` after rendering (patches may add or remove
    /// some): `data` and `stringData`, or `spec.encryptedData`; `None` for other kinds.
    pub keys: Option<BTreeSet<String>>,
    /// The type of a Secret (`type`) or `SealedSecret` (`spec.template.type`) after rendering,
    /// `Opaque` when none is written as a string; `None` for other kinds.
    pub secret_type: Option<String>,
    /// The Secrets an operator makes from it at run time, read from its rendered value
    /// ([`runtime_secrets::SECRET_MAKERS`]); empty for other kinds.
    pub runtime_secrets: Vec<RuntimeSecret>,
}

impl Resource {
    /// Whether it is a `bitnami.com/v1alpha1` `SealedSecret` (a [`SecretSource::Sealed`]).
    pub fn is_sealed_secret(&self) -> bool {
        self.kind == "SealedSecret" && self.api_version == "bitnami.com/v1alpha1"
    }
}

/// An object a strategic-merge patch with `$patch: delete` took out of the render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub kind: String,
    /// Its name when the patch deleted it.
    pub name: String,
    /// The patch document (file and first line).
    pub patch: Origin,
}

/// A value a patch writes into a Secret (`data`, `stringData`) or a `SealedSecret`
/// (`spec.encryptedData`). The rules read Secret and `SealedSecret` documents in files; values
/// from other text (an inline patch of a kustomization, a JSON 6902 operation: `in_document`
/// false) they learn from the build. `seal` looks at all of them: a patched key renders the
/// patch's value, not the file's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenValue {
    /// `Secret` or `SealedSecret`.
    pub kind: String,
    /// The object's name when the patch applied.
    pub name: String,
    /// The file (repository-relative), name and namespace the patched object is written with
    /// (one file may hold a name in several namespaces).
    pub object_file: PathBuf,
    pub object_name: String,
    pub object_namespace: Option<String>,
    /// Whether the patch is a Secret or `SealedSecret` document in a file of its own (which the
    /// rules read as such).
    pub in_document: bool,
    /// `data`, `stringData` or `encryptedData`; for a `SealedSecret`'s template,
    /// `spec.template.data` or `spec.template.stringData` (plaintext: no `ciphertext`).
    pub field: &'static str,
    pub key: String,
    /// The patch line that writes it (repository-relative file).
    pub origin: Origin,
    /// A `SealedSecret`'s sealed value (`""` when not a string). `None` for plaintext (a
    /// Secret's value, a `SealedSecret`'s template value), which is not kept (only filled values
    /// are recorded).
    pub ciphertext: Option<String>,
}

/// The key names of a Secret (`data` and `stringData`) or a `SealedSecret`
/// (`spec.encryptedData`); `None` for an object of another kind.
pub(crate) fn secret_key_names(kind: &str, object: &yaml_serde::Value) -> Option<BTreeSet<String>> {
    let names = |path: &[&str]| -> BTreeSet<String> {
        path.iter()
            .try_fold(object, |v, k| v.get(*k))
            .and_then(yaml_serde::Value::as_mapping)
            .into_iter()
            .flat_map(|m| m.keys())
            .filter_map(|k| k.as_str().map(str::to_owned))
            .collect()
    };
    match kind {
        "Secret" => Some(&names(&["data"]) | &names(&["stringData"])),
        "SealedSecret" => Some(names(&["spec", "encryptedData"])),
        _ => None,
    }
}

/// The type of a Secret (`type`) or `SealedSecret` (`spec.template.type`), `Opaque` when none
/// is written as a string; `None` for an object of another kind.
pub(crate) fn secret_type_of(kind: &str, object: &yaml_serde::Value) -> Option<String> {
    let path: &[&str] = match kind {
        "Secret" => &["type"],
        "SealedSecret" => &["spec", "template", "type"],
        _ => return None,
    };
    let ty = path.iter().try_fold(object, |v, k| v.get(*k));
    Some(
        ty.and_then(yaml_serde::Value::as_str)
            .unwrap_or("Opaque")
            .to_owned(),
    )
}

/// `create`, `merge` or `replace` (kustomize `types.GenerationBehavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    /// The default; fails if the object already exists.
    Create,
    /// Adds keys to an existing generated object.
    Merge,
    /// Replaces an existing generated object's keys.
    Replace,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratedKind {
    /// `secretGenerator` / `kind: SecretGenerator`.
    Secret,
    /// `configMapGenerator` / `kind: ConfigMapGenerator`.
    ConfigMap,
}

impl GeneratedKind {
    /// The kind of object produced.
    pub fn kind(self) -> &'static str {
        match self {
            GeneratedKind::Secret => "Secret",
            GeneratedKind::ConfigMap => "ConfigMap",
        }
    }
}

/// A `files:` entry of a generator: `[key=]path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSource {
    /// The key it produces (the file's base name when no `key=` is given).
    pub key: String,
    /// The file, resolved against the kustomization directory.
    pub path: PathBuf,
}

/// An `envs:` entry of a generator (or its `env:` file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvSource {
    /// The file, resolved against the kustomization directory.
    pub path: PathBuf,
    /// The 1-based line of the entry, in the generator's file.
    pub line: usize,
}

/// One generator entry that contributed to a generated object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratorSpec {
    /// Where the entry is (its `name:` line).
    pub origin: Origin,
    /// True when it came from a `generators:` entry (`apiVersion: builtin`): a file, or
    /// configuration given inline (then `origin` is in the kustomization).
    pub from_generators_file: bool,
    pub behavior: Behavior,
    /// `envs:` files (then the `env:` file).
    pub envs: Vec<EnvSource>,
    /// Keys of `literals:` (the part before the first `=`).
    pub literal_keys: Vec<String>,
    /// Keys of `literals:` whose value is not empty: plaintext written in the kustomization.
    pub filled_literals: Vec<String>,
    pub files: Vec<FileSource>,
    /// `disableNameSuffixHash` after merging `generatorOptions` (None = not set).
    pub disable_name_suffix_hash: Option<bool>,
    /// `immutable` after merging `generatorOptions`, read as kustomize reads it (YAML 1.1
    /// booleans in a kustomization: `yes`, `on`, `True`; None = not set, or not a boolean).
    pub immutable: Option<bool>,
    /// `type:` (Secrets only).
    pub secret_type: Option<String>,
    /// The keys its `envs:` files give on lines without `=` (among [`Generated::keys`]).
    pub bare_env_keys: Vec<BareEnvKey>,
}

/// A key an `envs:` file gives on a line without `=` (kustomize v5: a key with the empty value).
/// Such a line is often a piece of a pasted value: a message names it by `env` and `line`, never
/// by `key`.
#[derive(Clone, PartialEq, Eq)]
pub struct BareEnvKey {
    pub key: String,
    /// The env file, repo-relative.
    pub env: PathBuf,
    /// 1-based line.
    pub line: usize,
}

impl std::fmt::Debug for BareEnvKey {
    /// Never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BareEnvKey({}:{})", self.env.display(), self.line)
    }
}

/// A Secret or `ConfigMap` produced by generators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub kind: GeneratedKind,
    /// Name and namespace as written in the (first, creating) generator.
    pub original: Identity,
    /// Rendered identity; the real name is `rendered.name` + `-<hash>` when `hash_suffix`.
    pub rendered: Identity,
    /// True when kustomize appends `-<10-char content hash>` to the name.
    pub hash_suffix: bool,
    /// Every generator entry that contributed, in build order (create first).
    pub specs: Vec<GeneratorSpec>,
    /// Keys produced, when every env file was readable (None otherwise). Never values.
    pub keys: Option<Vec<String>>,
    /// Top-level `metadata.annotations` after rendering (the generator's own, patches,
    /// `commonAnnotations`).
    pub annotations: Vec<(String, String)>,
    /// A Secret's `type` after rendering: the last generator entry's (`Opaque` when it gives
    /// none) or a later patch's; `None` for a `ConfigMap`.
    pub secret_type: Option<String>,
}

/// A `bitnami.com/v1alpha1` `SealedSecret` an overlay renders: where it is written and what it
/// renders as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedRef {
    /// Its file, as the build names it.
    pub file: PathBuf,
    /// 0-based document index in the file.
    pub doc_index: usize,
    /// 1-based line of its `metadata.name`.
    pub line: usize,
    /// `metadata.name` as written.
    pub name_in_file: String,
    /// `metadata.namespace` as written.
    pub namespace_in_file: Option<String>,
    /// Name and namespace after rendering: what the controller's label uses.
    pub rendered: Identity,
    /// The scope the rendered top-level annotations declare (the file's own, patches,
    /// `commonAnnotations`): what the controller's label uses.
    pub scope: Scope,
    /// Its `encryptedData` keys after rendering (a patch may add or remove some; see
    /// [`Resource::keys`]).
    pub keys: Option<BTreeSet<String>>,
    /// `spec.template.type` after rendering (a patch may set it; see [`Resource::secret_type`]).
    pub secret_type: Option<String>,
}

/// Where an overlay's Secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// A `bitnami.com/v1alpha1` `SealedSecret` document.
    Sealed(SealedRef),
    /// A generated Secret.
    Generator {
        /// The creating generator's location.
        origin: Origin,
        /// The generator's name as written.
        name: String,
        /// Rendered identity (without hash).
        rendered: Identity,
        /// True when a hash suffix is appended.
        hash_suffix: bool,
        /// `envs:` files of every contributing generator.
        envs: Vec<PathBuf>,
        /// True when it came from a `generators:` file.
        from_generators_file: bool,
    },
}

impl SecretSource {
    /// The `SealedSecret` it is (`None` for a generator).
    pub fn as_sealed(&self) -> Option<&SealedRef> {
        match self {
            SecretSource::Sealed(s) => Some(s),
            SecretSource::Generator { .. } => None,
        }
    }
}

/// A name reference from one object to another (a Secret, `ConfigMap`, `ServiceAccount`, PVC or
/// KEDA `TriggerAuthentication`), with the value kustomize leaves in the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub referrer_kind: String,
    /// The referring object's rendered identity.
    pub referrer: Identity,
    pub field: RefField,
    /// The kind the field points to.
    pub target_kind: String,
    /// The path of the field in the referring object (after patches).
    pub path: Vec<Seg>,
    /// The value as written (in the resource or in the patch that set it).
    pub name: String,
    /// `key` for `secretKeyRef`/`configMapKeyRef`/`secretTargetRef`, `items[].key` of volumes,
    /// each with where it was written (`origin` for a key without a position of its own: an
    /// Ingress's TLS keys, a key no source document shows).
    pub keys: Vec<(String, Origin)>,
    /// `optional: true` was set.
    pub optional: bool,
    /// Where the value was written (resource or patch file).
    pub origin: Origin,
    /// True when kustomize rewrites this field (built-in field or a `configurations:` entry).
    pub rewritable: bool,
    /// The value after rendering (without hash; see `rendered_hash_suffix`).
    pub rendered_name: String,
    /// True when the rendered value is a generated name with a hash suffix appended.
    pub rendered_hash_suffix: bool,
    /// What the rendered value points at in this overlay.
    pub resolution: Resolution,
}

/// One overlay, loaded: its rendered inventory, secret sources, references and problems.
#[derive(Debug, Clone)]
pub struct Overlay {
    /// Overlay name (directory name).
    pub name: String,
    pub dir: PathBuf,
    built: build::BuildOutput,
    /// The sync-time options of the objects deploying it that the model replays.
    deployed: deploy::Layer,
    /// The `postBuild` substitutions of the Flux Kustomizations deploying it.
    post_build: Vec<crate::workspace::PostBuild>,
    /// See [`Overlay::generated_entries`].
    generated_entries: Option<build::GeneratedTop>,
}

impl Overlay {
    /// Loads the environment `name` (a name or path, see [`crate::workspace::resolve`]) under
    /// the repository `root`, named as the workspace names it.
    pub fn load(root: &Path, name: &str) -> Result<Overlay, KustomizeError> {
        Self::load_with(root, name, &ParseCache::default()).map_err(|e| e.relative_to(root))
    }

    /// Like [`Overlay::load`], reading files outside the overlay through `cache`.
    /// The Argo CD / Flux sync-time options deploying it are among its problems
    /// (`deploy::problems`): not modelled.
    fn load_with(root: &Path, name: &str, cache: &ParseCache) -> Result<Overlay, KustomizeError> {
        let (dir, env, deploy_time) = Self::env_dir(root, name);
        Built::load(root, &dir, env, deploy_time, cache)
    }

    /// The environment's directory, name and sync-time options; an unknown name is looked for
    /// as a path under `root`, so that loading it reports a missing kustomization there.
    fn env_dir(root: &Path, name: &str) -> (PathBuf, String, crate::workspace::DeployTime) {
        crate::workspace::resolve_fresh(root, name).map_or_else(
            || (root.join(name), name.to_owned(), Default::default()),
            |e| (e.dir, e.name, e.deploy_time),
        )
    }

    /// Like [`Overlay::load`], but an overlay whose own kustomization does not parse or is not
    /// UTF-8 loads as an empty overlay carrying that one problem (a YAML problem when it does
    /// not parse), so that a check can report it and go on with the other overlays. One that
    /// cannot be read at all ([`KustomizeError::Unreadable`]) is still an error.
    /// Files outside the overlay are read through `cache`, shared with the run's other overlays.
    pub fn load_or_unbuildable(
        root: &Path,
        name: &str,
        cache: &ParseCache,
    ) -> Result<Overlay, KustomizeError> {
        let (path, line, message) = match Self::load_with(root, name, cache) {
            Err(KustomizeError::Syntax {
                path,
                line,
                message,
            }) => {
                // Valid YAML kustomize cannot read is no syntax error (as in `build`).
                let message = if message == docs::DIRECTIVE {
                    message
                } else {
                    format!("{}{message}", build::YAML_SYNTAX_PREFIX)
                };
                (path, line, message)
            }
            Err(KustomizeError::NotUtf8 { path, line }) => {
                let message = build::not_utf8(&crate::workspace::rel(root, &path), line);
                (path, line, message)
            }
            // A kustomization that cannot be read at all is the caller's error (exit 2 for
            // `check`, docs/check.md), not a finding.
            other => return other,
        };
        let file = path
            .strip_prefix(root)
            .map_or_else(|_| path.clone(), Path::to_path_buf);
        let problem = Problem {
            kind: ProblemKind::Invalid,
            origin: Origin { file, line },
            message,
        };
        let built = build::BuildOutput {
            problems: vec![problem],
            ..build::BuildOutput::default()
        };
        let mut o = Self::with_build(&Self::env_dir(root, name).0, built);
        o.name = name.to_owned();
        Ok(o)
    }

    /// The overlay in `dir` (named after it) with what its build found.
    fn with_build(dir: &Path, built: build::BuildOutput) -> Overlay {
        Overlay {
            name: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            dir: dir.to_path_buf(),
            built,
            deployed: deploy::Layer::default(),
            post_build: Vec::new(),
            generated_entries: None,
        }
    }

    /// For a directory without a kustomization file, the resources of the kustomization the
    /// tool deploying it generates (relative to the directory: `./a.yaml`, `./sub`), which the
    /// model built: what `check --render` renders it with.
    /// With them, where the object deploying it names the directory (its `path` line).
    pub(crate) fn generated_entries(&self) -> Option<(&[String], &Origin)> {
        (self.generated_entries.as_ref()).map(|g| (g.entries.as_slice(), &g.at))
    }

    /// The kustomization fields (`namespace`, `namePrefix`, `nameSuffix`) the objects deploying
    /// it set in its own kustomization, as the model replays them: what `check --render` renders
    /// it with.
    pub(crate) fn deployed_fields(&self) -> Vec<(&'static str, &str)> {
        (self.deployed.fields.iter())
            .map(|(f, v, _)| (*f, v.as_str()))
            .collect()
    }

    /// Whether Argo CD or Flux deploys it, building it from the repository's commits
    /// ([`deploy::Layer::from_git`]).
    pub(crate) fn built_from_git(&self) -> bool {
        self.deployed.from_git
    }

    /// Whether the objects deploying it build it with no load restriction (Flux's, confined to
    /// the repository: [`deploy::Restrictor::SourceRoot`]): what `check --render` renders it
    /// with (`--load-restrictor LoadRestrictionsNone`).
    pub(crate) fn unrestricted(&self) -> bool {
        matches!(self.deployed.restrictor, deploy::Restrictor::SourceRoot(_))
    }

    /// The directory outside which no file of the overlay is loaded, written or copied (the
    /// repository's top for an overlay only Flux deploys, else `root`): see
    /// [`deploy::Restrictor::bound`].
    pub(crate) fn load_bound<'a>(&'a self, root: &'a Path) -> &'a Path {
        self.deployed.restrictor.bound(root)
    }

    /// For an overlay built with no load restriction ([`Overlay::unrestricted`]), the first
    /// file the build refuses for lying outside the repository, with its problem: Flux refuses
    /// it, but `kubectl kustomize --load-restrictor LoadRestrictionsNone`, which has no such
    /// bound, would load it, so its render could not stand for Flux's. Failing closed, else the
    /// first path kustomize loads that the build could not judge (a value that is not a
    /// string, a pattern, a directory of plugin configurations: `build::BuildOutput::unjudged`).
    pub(crate) fn outside_source(&self) -> Option<&Problem> {
        if !self.unrestricted() {
            return None;
        }
        (self.built.refused.first().map(|(_, p)| p)).or_else(|| self.built.unjudged.first())
    }

    /// The namespace Argo CD applies its namespaced objects that render without one into, when
    /// the model replays it.
    pub(crate) fn destination(&self) -> Option<&str> {
        match &self.deployed.destination {
            deploy::Destination::Into(ns) => Some(ns),
            _ => None,
        }
    }

    /// The clusters the objects deploying it apply it to (see [`deploy::Layer::clusters`]).
    pub(crate) fn clusters(&self) -> &[String] {
        &self.deployed.clusters
    }

    /// Every object from `resources:` (not generated), with rendered identities.
    pub fn resources(&self) -> &[Resource] {
        &self.built.resources
    }

    /// The `postBuild` substitutions of the Flux Kustomizations deploying the overlay (with
    /// the variables each gives), which Flux applies to every rendered object after the build.
    pub fn post_build(&self) -> &[crate::workspace::PostBuild] {
        &self.post_build
    }

    /// Generated Secrets and `ConfigMap`s.
    pub fn generated(&self) -> &[Generated] {
        &self.built.generated
    }

    /// The env files the overlay's generators read (`envs:`), as forward-slash paths
    /// ([`crate::workspace::path_str`]): relative to the root when inside it, whatever they are
    /// named (`secrets.properties` too).
    pub fn env_files(&self) -> BTreeSet<String> {
        (self.built.generated.iter())
            .flat_map(|g| &g.specs)
            .flat_map(|s| &s.envs)
            .map(|e| crate::workspace::path_str(&e.path))
            .collect()
    }

    /// Name references found in resources and patches.
    pub fn references(&self) -> &[Reference] {
        &self.built.references
    }

    /// Secret and `SealedSecret` values written by patches no file reader sees (see
    /// [`WrittenValue`]).
    pub fn written_values(&self) -> &[WrittenValue] {
        &self.built.written
    }

    /// The objects `$patch: delete` patches took out of the render.
    pub fn deleted(&self) -> &[Deleted] {
        &self.built.deleted
    }

    /// Non-fatal problems, in the order found.
    pub fn problems(&self) -> &[Problem] {
        &self.built.problems
    }

    /// The problem recorded when kustomize's load restrictor refuses to load `file` (named as
    /// [`GeneratorSpec::envs`] names it: relative to the root when inside it, not normalised),
    /// or None when it loads it or the build never asked for it. The one judgement
    /// of the restriction the overlay is built with (api/internal/loader/fileloader.go
    /// `RestrictionRootOnly`, or for an overlay only Flux deploys, the repository's bound:
    /// `deploy::Restrictor`): callers that must not act on a refused file ask here.
    pub fn load_refusal(&self, file: &Path) -> Option<&Problem> {
        (self.built.refused.iter())
            .find(|(f, _)| f == file)
            .map(|(_, p)| p)
    }

    /// The files a tool deploying it reads that are not built: those [`Overlay::load_refusal`]
    /// refuses, as it names them, and for a directory without a kustomization file, those the
    /// tool would list were git tracking them ([`build::GeneratedTop`]).
    pub(crate) fn unbuilt_files(&self) -> Vec<PathBuf> {
        let refused = self.built.refused.iter().map(|(f, _)| f.clone());
        let untracked = (self.generated_entries.iter())
            .flat_map(|g| g.untracked.iter().map(|e| self.dir.join(e)));
        refused.chain(untracked).collect()
    }

    /// Adds a problem found outside the kustomization files (an option the Argo CD Application
    /// or Flux Kustomization deploying the overlay applies).
    pub(crate) fn add_problem(&mut self, problem: Problem) {
        self.built.problems.push(problem);
    }

    /// Every Secret source of the overlay: `SealedSecret`s first, then generated Secrets.
    pub fn secret_sources(&self) -> Vec<SecretSource> {
        let generated = self.built.generated.iter().filter_map(|g| {
            let first = g
                .specs
                .first()
                .filter(|_| g.kind == GeneratedKind::Secret)?;
            Some(SecretSource::Generator {
                origin: first.origin.clone(),
                name: g.original.name.clone(),
                rendered: g.rendered.clone(),
                hash_suffix: g.hash_suffix,
                envs: (g.specs.iter().flat_map(|s| &s.envs))
                    .map(|e| e.path.clone())
                    .collect(),
                from_generators_file: first.from_generators_file,
            })
        });
        (self.sealed_secret_sources().map(SecretSource::Sealed))
            .chain(generated)
            .collect()
    }

    /// The overlay's `SealedSecret`s ([`SecretSource::Sealed`]), in render order: the one
    /// mapping from a rendered resource to its sealed source.
    pub fn sealed_secret_sources(&self) -> impl Iterator<Item = SealedRef> + '_ {
        (self.built.resources.iter())
            .filter(|r| r.is_sealed_secret())
            .map(|r| SealedRef {
                file: r.origin.file.clone(),
                doc_index: r.doc_index,
                line: r.name_line,
                name_in_file: r.original.name.clone(),
                namespace_in_file: r.original.namespace.clone(),
                rendered: r.rendered.clone(),
                scope: crate::sealedsecret::scope_of(&r.annotations),
                keys: r.keys.clone(),
                secret_type: r.secret_type.clone(),
            })
    }

    /// The overlay's first Secret source (see [`Overlay::secret_sources`]).
    pub fn secret_source(&self) -> Option<SecretSource> {
        self.secret_sources().into_iter().next()
    }

    /// The files the build read that its results name, as they name them (relative to the
    /// root when inside it; a file reached through a symlinked directory by that path): every
    /// resource file, each generator's file, `envs:` and `files:`, the files references were
    /// written in (resources and patches), the files of its problems, and every file it read as
    /// YAML ([`Overlay::manifest_files`]). What the overlay deploys is in these files. Each
    /// once, in byte order.
    pub fn files(&self) -> Vec<&Path> {
        let b = &self.built;
        let generators = b.generated.iter().flat_map(|g| &g.specs).flat_map(|s| {
            std::iter::once(s.origin.file.as_path())
                .chain(s.envs.iter().map(|e| e.path.as_path()))
                .chain(s.files.iter().map(|f| f.path.as_path()))
        });
        let mut files: Vec<&Path> = (b.resources.iter().map(|r| r.origin.file.as_path()))
            .chain(b.references.iter().map(|r| r.origin.file.as_path()))
            .chain(b.problems.iter().map(|p| p.origin.file.as_path()))
            .chain(generators)
            .chain(self.manifest_files())
            .collect();
        // Many resources and references share a file: the same bytes are the same path, and
        // comparing bytes is cheaper than comparing components as a set of paths does.
        files.sort_unstable_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
        files.dedup();
        files
    }

    /// Every file the build read as YAML, named as [`Overlay::files`] names them: kustomization
    /// files, resources, patches, configurations and generator configs. kustomize reads them
    /// whatever their names (a resource `db-secret` or `secret.txt` is loaded as YAML: api
    /// `internal/target/kusttarget.go` `accumulateResources`), so the rules read them as YAML too.
    pub fn manifest_files(&self) -> impl Iterator<Item = &Path> {
        self.built.manifests.iter().map(PathBuf::as_path)
    }
}

/// The string-to-string entries of a mapping (labels, annotations); other entries are skipped.
pub(crate) fn string_pairs(map: Option<&yaml_serde::Value>) -> Vec<(String, String)> {
    map.and_then(yaml_serde::Value::as_mapping)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
        .collect()
}

#[cfg(test)]
mod tests {
    /// An origin reached through `../../base` is named as `check` names the file.
    #[test]
    fn an_origin_is_shown_with_its_steps_resolved() {
        let o = Origin::new("k8s/overlays/dev/../../base/kustomization.yaml", 3);
        assert_eq!(o.to_string(), "k8s/base/kustomization.yaml:3");
    }

    use super::*;

    use crate::workspace::write_fixture as write;

    #[test]
    fn problems_are_collected_with_locations() {
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path();
        write(
            root,
            "k8s/overlays/x/kustomization.yaml",
            "resources:\n  - https://github.com/org/repo//base?ref=v1\n  - missing.yaml\n  - ../../outside.yaml\nsecretGenerator:\n  - name: s\n    behavior: merge\n    envs:\n      - absent.env\ntransformers:\n  - t.yaml\n",
        );
        write(
            root,
            "k8s/outside.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        );
        let o = Overlay::load(root, "x").expect("loads");
        let got: Vec<(ProblemKind, usize)> = o
            .problems()
            .iter()
            .map(|p| (p.kind, p.origin.line))
            .collect();
        assert!(got.contains(&(ProblemKind::Unfetched, 2)), "{got:?}");
        assert!(got.contains(&(ProblemKind::Invalid, 3)), "{got:?}");
        assert!(got.contains(&(ProblemKind::BuildError, 4)), "{got:?}");
        // An env file's problem is at its own `envs:` entry; the generator's at its `name:`.
        assert!(got.contains(&(ProblemKind::Invalid, 9)), "{got:?}");
        assert!(got.contains(&(ProblemKind::BuildError, 6)), "{got:?}");
        assert!(got.contains(&(ProblemKind::NotModelled, 10)), "{got:?}");
        assert!(o.problems().iter().all(|p| p.origin.file.is_relative()));
    }

    #[test]
    fn missing_overlay_is_an_error() {
        let t = tempfile::tempdir().expect("tempdir");
        let err = Overlay::load(t.path(), "nope").expect_err("no kustomization");
        assert!(matches!(err, KustomizeError::NoKustomization { .. }));
        assert!(err.hint().is_some());
    }
}
