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

use super::docs::{self, Doc};
use super::patch::{self, Candidate, JsonOp, Selector};
use super::refs::{self, NameRefRule, RawRef};
use super::{
    Behavior, FileSource, Generated, GeneratedKind, GeneratorSpec, Identity, KustomizeError,
    Origin, Problem, ProblemKind, Reference, Resolution, Resource, kustomization_file,
};
use crate::yamlpos::Seg;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use yaml_serde::Value;

pub(crate) struct BuildOutput {
    pub(crate) resources: Vec<Resource>,
    pub(crate) generated: Vec<Generated>,
    pub(crate) references: Vec<Reference>,
    pub(crate) problems: Vec<Problem>,
}

/// Where a reference value may have been written.
#[derive(Debug, Clone)]
enum Source {
    /// A whole document (the resource itself or a strategic-merge patch).
    Doc(Rc<Doc>, PathBuf),
    /// A JSON6902 op that wrote the subtree at `written`.
    Json {
        file: PathBuf,
        line: usize,
        written: Vec<Seg>,
    },
}

#[derive(Debug, Clone)]
struct GenState {
    kind: GeneratedKind,
    original: Identity,
    specs: Vec<GeneratorSpec>,
    keys: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
struct Obj {
    api_version: String,
    kind: String,
    original: Identity,
    name: String,
    namespace: Option<String>,
    /// Every (name, namespace) the object has had, oldest first, current last.
    history: Vec<(String, Option<String>)>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    /// The object as transformed so far: shared with its source document until a transform
    /// changes it. `metadata.name`/`namespace` in it are brought up to date with `name` and
    /// `namespace` only where something reads them (`sync_metadata`).
    value: Rc<Value>,
    /// Whether `value`'s `metadata.name`/`namespace` may differ from `name`/`namespace`.
    metadata_stale: bool,
    origin: Origin,
    doc_index: usize,
    name_line: usize,
    sources: Vec<Source>,
    generated: Option<GenState>,
    needs_hash: bool,
    hashed: bool,
}

impl Obj {
    fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    fn version(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or(self.api_version.as_str(), |(_, v)| v)
    }

    fn set_identity(&mut self, name: String, namespace: Option<String>) {
        if name != self.name || namespace != self.namespace {
            self.name = name;
            self.namespace = namespace;
            self.history
                .push((self.name.clone(), self.namespace.clone()));
        }
        self.metadata_stale = true;
    }

    /// Writes the current name and namespace into `value`'s metadata (kustomize's transformers
    /// write them there; a JSON6902 op may read or move them).
    fn sync_metadata(&mut self) {
        if std::mem::take(&mut self.metadata_stale) {
            let value = Rc::make_mut(&mut self.value);
            write_meta(value, "name", Some(&self.name));
            write_meta(value, "namespace", self.namespace.as_deref());
        }
    }

    fn had_id(&self, name: &str, namespace: Option<&str>) -> bool {
        self.history.iter().any(|(n, ns)| {
            n == name
                && effective_ns(ns.as_deref(), &self.kind) == effective_ns(namespace, &self.kind)
        })
    }

    fn candidate(&self) -> Candidate<'_> {
        Candidate {
            group: self.group(),
            version: self.version(),
            kind: &self.kind,
            names: [&self.original.name, &self.name],
            namespaces: [
                effective_ns(self.original.namespace.as_deref(), &self.kind),
                effective_ns(self.namespace.as_deref(), &self.kind),
            ],
            value: &self.value,
        }
    }
}

fn write_meta(value: &mut Value, key: &str, v: Option<&str>) {
    let Some(map) = value.as_mapping_mut() else {
        return;
    };
    let meta = map
        .entry(Value::String("metadata".into()))
        .or_insert_with(|| Value::Mapping(yaml_serde::Mapping::new()));
    let Some(meta) = meta.as_mapping_mut() else {
        return;
    };
    match v {
        Some(v) => {
            meta.insert(Value::String(key.into()), Value::String(v.into()));
        }
        None => {
            meta.remove(key);
        }
    }
}

/// Kinds kustomize treats as cluster-scoped (kyaml `openapi.IsCertainlyClusterScoped`, from the
/// built-in schema; custom resources are namespaced).
pub(crate) fn is_cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "StorageClass"
            | "PriorityClass"
            | "IngressClass"
            | "APIService"
            | "MutatingWebhookConfiguration"
            | "ValidatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "CSIDriver"
            | "CSINode"
            | "RuntimeClass"
            | "VolumeAttachment"
            | "CertificateSigningRequest"
            | "ComponentStatus"
            | "FlowSchema"
            | "PriorityLevelConfiguration"
            | "PodSecurityPolicy"
            | "ClusterTriggerAuthentication"
    )
}

fn effective_ns<'a>(ns: Option<&'a str>, kind: &str) -> &'a str {
    if is_cluster_scoped(kind) {
        return "";
    }
    match ns {
        None | Some("") => "default",
        Some(n) => n,
    }
}

fn is_builtin_api(api_version: &str) -> bool {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io")
}

struct Builder<'r> {
    root: &'r Path,
    files: HashMap<PathBuf, Option<Rc<Vec<Rc<Doc>>>>>,
    problems: Vec<Problem>,
    rules: Vec<NameRefRule>,
    stack: Vec<PathBuf>,
}

/// Kustomization fields emp-seal does not replay although they can change what renders:
/// reported as `not-modelled` (helm ones as `unsupported`: kustomize would run helm).
const NOT_MODELLED_FIELDS: [&str; 8] = [
    "transformers",
    "replacements",
    "helmCharts",
    "helmChartInflationGenerator",
    "vars",
    "validators",
    "openapi",
    "crds",
];

/// The shape kustomize's strict decoder expects for a kustomization field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A string.
    Str,
    /// A mapping.
    Map,
    /// A list of anything.
    List,
    /// A list of strings (paths, URLs or inline YAML text).
    StrList,
}

/// Every field of kustomize v5's `Kustomization` (kustomize `api/types/kustomization.go`,
/// decoded strictly: an unknown field or a wrong type is "invalid Kustomization"), with its shape.
const KUSTOMIZATION_FIELDS: [(&str, Shape); 34] = [
    ("apiVersion", Shape::Str),
    ("kind", Shape::Str),
    ("metadata", Shape::Map),
    ("openapi", Shape::Map),
    ("namePrefix", Shape::Str),
    ("nameSuffix", Shape::Str),
    ("namespace", Shape::Str),
    ("commonLabels", Shape::Map),
    ("labels", Shape::List),
    ("commonAnnotations", Shape::Map),
    ("patchesStrategicMerge", Shape::StrList),
    ("patchesJson6902", Shape::List),
    ("patches", Shape::List),
    ("images", Shape::List),
    ("imageTags", Shape::List),
    ("replacements", Shape::List),
    ("replicas", Shape::List),
    ("vars", Shape::List),
    ("sortOptions", Shape::Map),
    ("resources", Shape::StrList),
    ("components", Shape::StrList),
    ("crds", Shape::StrList),
    ("bases", Shape::StrList),
    ("configMapGenerator", Shape::List),
    ("secretGenerator", Shape::List),
    ("helmGlobals", Shape::Map),
    ("helmCharts", Shape::List),
    ("helmChartInflationGenerator", Shape::List),
    ("generatorOptions", Shape::Map),
    ("configurations", Shape::StrList),
    ("generators", Shape::StrList),
    ("transformers", Shape::StrList),
    ("validators", Shape::StrList),
    ("buildMetadata", Shape::StrList),
];

/// Why `v` does not have `shape` (None when it does; `null` always does: an omitted field).
fn shape_error(v: &Value, shape: Shape) -> Option<&'static str> {
    let ok = match (shape, v) {
        (_, Value::Null) => true,
        (Shape::Str, v) => v.is_string() || v.is_number() || v.is_bool(),
        (Shape::Map, v) => v.is_mapping(),
        (Shape::List, v) => v.is_sequence(),
        (Shape::StrList, Value::Sequence(items)) => items.iter().all(Value::is_string),
        (Shape::StrList, _) => false,
    };
    if ok {
        return None;
    }
    Some(match shape {
        Shape::Str => "a string",
        Shape::Map => "a mapping",
        Shape::List => "a list",
        Shape::StrList => "a list of strings",
    })
}

/// The start of a [`Problem`] message for YAML that does not parse (see
/// [`Problem::is_yaml_syntax`]).
pub(crate) const YAML_SYNTAX_PREFIX: &str = "yaml does not parse: ";

/// True when `<env file>.example` exists beside an env file.
fn has_example(env: &Path) -> bool {
    let mut name = env.as_os_str().to_owned();
    name.push(".example");
    Path::new(&name).is_file()
}

/// True when a file that is not named as YAML starts with a PEM header.
fn is_pem(path: &Path) -> bool {
    let yamlish = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
    if yamlish {
        return false;
    }
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    head[..n].trim_ascii_start().starts_with(b"-----BEGIN ")
}

fn str_list(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_sequence)
        .map(|s| {
            s.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn get_str<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
        || entry.starts_with("git@")
        || entry.contains("?ref=")
}

/// Lexically resolves `.` and `..` (no filesystem access).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

impl<'r> Builder<'r> {
    /// kustomize's default load restriction (`LoadRestrictionsRootOnly`, api/internal/loader
    /// fileloader.go): a file (not a directory) must be in or below the kustomization root.
    fn outside_root(&mut self, dir: &Path, path: &Path, at: &Origin) -> bool {
        if normalize(path).starts_with(normalize(dir)) {
            return false;
        }
        let msg = format!(
            "file {} is not in or below {}: kustomize refuses to load it",
            self.rel(&normalize(path)).display(),
            self.rel(&normalize(dir)).display()
        );
        self.problem(ProblemKind::BuildError, &at.file, at.line, msg);
        true
    }

    fn rel(&self, p: &Path) -> PathBuf {
        p.strip_prefix(self.root)
            .map_or_else(|_| p.to_path_buf(), Path::to_path_buf)
    }

    fn problem(&mut self, kind: ProblemKind, file: &Path, line: usize, message: String) {
        let origin = Origin {
            file: self.rel(file),
            line,
        };
        // A shared base is built once per including level: report its problem once.
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

    /// Reads and splits a YAML file once; problems are recorded at `from`.
    fn docs(&mut self, path: &Path, from: &Origin) -> Option<Rc<Vec<Rc<Doc>>>> {
        if let Some(cached) = self.files.get(path) {
            return cached.clone();
        }
        let loaded = match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => {
                    let docs: Vec<Rc<Doc>> =
                        docs::split_docs(&text).into_iter().map(Rc::new).collect();
                    for d in &docs {
                        if let Err(e) = &d.value {
                            let origin = Origin {
                                file: self.rel(path),
                                line: d.error_line,
                            };
                            self.problems.push(Problem {
                                kind: ProblemKind::Invalid,
                                origin,
                                message: format!("{YAML_SYNTAX_PREFIX}{e}"),
                            });
                        }
                    }
                    Some(Rc::new(docs))
                }
                Err(_) => {
                    let msg = format!("{} is not valid utf-8", self.rel(path).display());
                    self.problems.push(Problem {
                        kind: ProblemKind::Invalid,
                        origin: from.clone(),
                        message: msg,
                    });
                    None
                }
            },
            Err(e) => {
                let msg = format!(
                    "cannot read {}: {e}: kustomize fails to build",
                    self.rel(path).display()
                );
                self.problems.push(Problem {
                    kind: ProblemKind::Invalid,
                    origin: from.clone(),
                    message: msg,
                });
                None
            }
        };
        self.files.insert(path.to_path_buf(), loaded.clone());
        loaded
    }

    /// Line of `key` in a kustomization document, and of its n-th list entry.
    fn kline(doc: &Doc, key: &str, idx: Option<usize>) -> usize {
        let mut p = vec![Seg::Key(key.to_owned())];
        if let Some(i) = idx {
            p.push(Seg::Index(i));
        }
        doc.line_of(&p)
    }

    /// Unknown fields and fields of the wrong type: kustomize decodes a kustomization strictly
    /// and refuses it ("invalid Kustomization: json: unknown field ...").
    fn check_fields(&mut self, k: &Value, kdoc: &Doc, kfile: &Path) {
        let Some(map) = k.as_mapping() else {
            let msg = format!(
                "{} is not a mapping: kustomize refuses it (invalid Kustomization)",
                self.rel(kfile).display()
            );
            self.problem(ProblemKind::BuildError, kfile, kdoc.start_line, msg);
            return;
        };
        for (key, v) in map {
            let Some(key) = key.as_str() else { continue };
            let line = Self::kline(kdoc, key, None);
            let exact = KUSTOMIZATION_FIELDS.iter().find(|(f, _)| *f == key);
            // Go's encoding/json matches field names case-insensitively: kustomize reads
            // `nameprefix` as `namePrefix`; the model reads the exact spelling only.
            if exact.is_none()
                && let Some((field, _)) = KUSTOMIZATION_FIELDS
                    .iter()
                    .find(|(f, _)| f.eq_ignore_ascii_case(key))
            {
                let msg = format!(
                    "kustomization field `{key}` is read by kustomize as `{field}`, a spelling the model does not read: rendered names may differ"
                );
                self.problem(ProblemKind::NotModelled, kfile, line, msg);
                continue;
            }
            let msg = match exact {
                None => format!(
                    "unknown kustomization field `{key}`: kustomize refuses the file (invalid Kustomization: json: unknown field \"{key}\")"
                ),
                Some((_, shape)) => match shape_error(v, *shape) {
                    None => continue,
                    Some(want) => format!(
                        "kustomization field `{key}` must be {want}: kustomize refuses the file (invalid Kustomization)"
                    ),
                },
            };
            self.problem(ProblemKind::BuildError, kfile, line, msg);
        }
    }

    /// Unknown fields of an inline generator entry (kustomize `api/types` `GeneratorArgs`,
    /// `SecretArgs`, `GeneratorOptions`, decoded strictly with the kustomization) are build
    /// errors; a known field in another case is read by kustomize (Go `encoding/json` matches
    /// names case-insensitively) but not by the model.
    fn check_generator_fields(
        &mut self,
        args: &Value,
        gk: GeneratedKind,
        kdoc: &Doc,
        kfile: &Path,
        at: &[Seg],
    ) {
        const ARGS: [&str; 9] = [
            "name",
            "namespace",
            "behavior",
            "literals",
            "files",
            "envs",
            "env",
            "options",
            "type",
        ];
        const OPTIONS: [&str; 4] = [
            "labels",
            "annotations",
            "disableNameSuffixHash",
            "immutable",
        ];
        let known_args: &[&str] = match gk {
            GeneratedKind::Secret => &ARGS,
            GeneratedKind::ConfigMap => &ARGS[..8],
        };
        let mut fields: Vec<(Vec<Seg>, &str, &[&str])> = Vec::new();
        if let Some(m) = args.as_mapping() {
            fields.extend(
                m.keys()
                    .filter_map(Value::as_str)
                    .map(|k| (at.to_vec(), k, known_args)),
            );
        }
        if let Some(m) = args.get("options").and_then(Value::as_mapping) {
            let mut opt_at = at.to_vec();
            opt_at.push(Seg::Key("options".into()));
            fields.extend(
                m.keys()
                    .filter_map(Value::as_str)
                    .map(|k| (opt_at.clone(), k, &OPTIONS[..])),
            );
        }
        for (parent, key, known) in fields {
            if known.contains(&key) {
                continue;
            }
            let mut path = parent;
            path.push(Seg::Key(key.to_owned()));
            let line = kdoc.line_of(&path);
            match known.iter().find(|f| f.eq_ignore_ascii_case(key)) {
                Some(field) => self.problem(
                    ProblemKind::NotModelled,
                    kfile,
                    line,
                    format!("generator field `{key}` is read by kustomize as `{field}`, a spelling the model does not read: the generated keys may differ"),
                ),
                None => self.problem(
                    ProblemKind::BuildError,
                    kfile,
                    line,
                    format!("unknown generator field `{key}`: kustomize refuses the file (invalid Kustomization: json: unknown field \"{key}\")"),
                ),
            }
        }
    }

    fn accumulate(&mut self, dir: &Path, acc: &mut Vec<Obj>, is_component: bool, from: &Origin) {
        let Some(kfile) = kustomization_file(dir) else {
            let msg = format!("{} has no kustomization file", self.rel(dir).display());
            self.problems.push(Problem {
                kind: ProblemKind::Invalid,
                origin: from.clone(),
                message: msg,
            });
            return;
        };
        if self.stack.contains(&kfile) {
            let msg = format!("cycle through {}", self.rel(&kfile).display());
            self.problems.push(Problem {
                kind: ProblemKind::BuildError,
                origin: from.clone(),
                message: msg,
            });
            return;
        }
        let Some(docs) = self.docs(&kfile, from) else {
            return;
        };
        let Some(kdoc) = docs.first().cloned() else {
            let msg = format!(
                "{} is empty: kustomize fails to build",
                self.rel(&kfile).display()
            );
            self.problem(ProblemKind::BuildError, &kfile, 1, msg);
            return;
        };
        let Ok(k) = kdoc.value.as_ref() else { return };
        let k = k.clone();
        self.stack.push(kfile.clone());
        let at = |key: &str, idx: Option<usize>| Origin {
            file: kfile.clone(),
            line: Self::kline(&kdoc, key, idx),
        };

        self.check_fields(&k, &kdoc, &kfile);
        let kind = get_str(&k, "kind").unwrap_or("Kustomization");
        if is_component != (kind == "Component") {
            let o = at("kind", None);
            let msg = if is_component {
                format!(
                    "{} is listed under components but is not kind: Component",
                    self.rel(&kfile).display()
                )
            } else {
                format!(
                    "{} is kind: Component but is listed as a resource",
                    self.rel(&kfile).display()
                )
            };
            self.problem(ProblemKind::BuildError, &o.file, o.line, msg);
        }

        // resources (and the deprecated bases)
        for key in ["resources", "bases"] {
            for (i, entry) in str_list(&k, key).iter().enumerate() {
                let o = at(key, Some(i));
                if is_remote(entry) {
                    self.problem(
                        ProblemKind::Unsupported,
                        &o.file,
                        o.line,
                        format!("remote resource `{entry}` is not fetched"),
                    );
                    continue;
                }
                let path = dir.join(entry);
                if path.is_file() {
                    if !self.outside_root(dir, &path, &o) {
                        self.load_resource_file(&path, acc, &o);
                    }
                } else if path.is_dir() {
                    let mut sub = Vec::new();
                    self.accumulate(&path, &mut sub, false, &o);
                    acc.extend(sub);
                } else {
                    self.problem(
                        ProblemKind::Invalid,
                        &o.file,
                        o.line,
                        format!("resource `{entry}` does not exist: kustomize fails to build (accumulating resources: no such file or directory)"),
                    );
                }
            }
        }

        self.check_unique_ids(acc);

        // configurations: nameReference entries
        for (i, entry) in str_list(&k, "configurations").iter().enumerate() {
            let o = at("configurations", Some(i));
            if self.outside_root(dir, &dir.join(entry), &o) {
                continue;
            }
            if let Some(docs) = self.docs(&dir.join(entry), &o) {
                for d in docs.iter() {
                    if let Ok(v) = &d.value {
                        self.rules.extend(refs::parse_configuration(v));
                    }
                }
            }
        }

        // inline generators, ConfigMaps first (configureBuiltinGenerators)
        let global = k.get("generatorOptions").cloned();
        for (key, gk) in [
            ("configMapGenerator", GeneratedKind::ConfigMap),
            ("secretGenerator", GeneratedKind::Secret),
        ] {
            let Some(list) = k.get(key).and_then(Value::as_sequence) else {
                continue;
            };
            for (i, args) in list.iter().enumerate() {
                self.check_generator_fields(
                    args,
                    gk,
                    &kdoc,
                    &kfile,
                    &[Seg::Key(key.into()), Seg::Index(i)],
                );
                let line =
                    kdoc.line_of(&[Seg::Key(key.into()), Seg::Index(i), Seg::Key("name".into())]);
                let origin = Origin {
                    file: kfile.clone(),
                    line,
                };
                let name = get_str(args, "name").unwrap_or_default().to_owned();
                let ns = get_str(args, "namespace").map(str::to_owned);
                self.generate(
                    acc,
                    dir,
                    gk,
                    name,
                    ns,
                    args,
                    global.as_ref(),
                    &origin,
                    false,
                );
            }
        }

        // generators: files with apiVersion: builtin
        for (i, entry) in str_list(&k, "generators").iter().enumerate() {
            let o = at("generators", Some(i));
            if entry.contains('\n') || entry.contains(": ") {
                self.problem(
                    ProblemKind::NotModelled,
                    &o.file,
                    o.line,
                    "inline generator configuration is not modelled".into(),
                );
                continue;
            }
            let path = dir.join(entry);
            if path.is_dir() {
                self.problem(
                    ProblemKind::NotModelled,
                    &o.file,
                    o.line,
                    format!("generator directory `{entry}` is not modelled"),
                );
                continue;
            }
            let Some(docs) = self.docs(&path, &o) else {
                continue;
            };
            for d in docs.iter() {
                let Ok(v) = &d.value else { continue };
                let api = get_str(v, "apiVersion").unwrap_or_default();
                let gkind = get_str(v, "kind").unwrap_or_default();
                let line = d.line_of(&[Seg::Key("apiVersion".into())]);
                let gk = match gkind {
                    "SecretGenerator" => GeneratedKind::Secret,
                    "ConfigMapGenerator" => GeneratedKind::ConfigMap,
                    _ => {
                        self.problem(
                            ProblemKind::NotModelled,
                            &path,
                            d.start_line,
                            format!("generator kind `{gkind}` is not modelled"),
                        );
                        continue;
                    }
                };
                // kustomize's plugin loader refuses anything but `builtin` without
                // --enable-alpha-plugins (errOnlyBuiltinPluginsAllowed: "external plugins
                // disabled; unable to load external plugin ...").
                if api != "builtin" {
                    self.problem(
                        ProblemKind::ExternalPlugin,
                        &path,
                        line,
                        format!("{gkind} has apiVersion `{api}`, not `builtin`: kustomize takes it for an external plugin and fails to build (external plugins disabled; unable to load external plugin '{gkind}')"),
                    );
                    continue;
                }
                let (name, ns, nline) = metadata_identity(v, d);
                let origin = Origin {
                    file: path.clone(),
                    line: nline,
                };
                self.generate(acc, dir, gk, name, ns, v, None, &origin, true);
            }
        }

        // components, in the parent's accumulator
        for (i, entry) in str_list(&k, "components").iter().enumerate() {
            let o = at("components", Some(i));
            if is_remote(entry) {
                self.problem(
                    ProblemKind::Unsupported,
                    &o.file,
                    o.line,
                    format!("remote component `{entry}` is not fetched"),
                );
                continue;
            }
            self.accumulate(&dir.join(entry), acc, true, &o);
        }

        for key in NOT_MODELLED_FIELDS {
            if k.get(key).is_some_and(|v| match v {
                Value::Null => false,
                Value::Sequence(s) => !s.is_empty(),
                Value::Mapping(m) => !m.is_empty(),
                _ => true,
            }) {
                let o = at(key, None);
                let kind = if key.starts_with("helm") {
                    ProblemKind::Unsupported
                } else {
                    ProblemKind::NotModelled
                };
                self.problem(
                    kind,
                    &o.file,
                    o.line,
                    format!("`{key}` is not modelled: rendered names may differ"),
                );
            }
        }

        // transformers, in configureBuiltinTransformers order
        self.patches_strategic_merge(&k, &kdoc, &kfile, dir, acc);
        self.patches(&k, &kdoc, &kfile, dir, acc);
        if let Some(ns) = get_str(&k, "namespace").filter(|n| !n.is_empty()) {
            for o in acc.iter_mut() {
                if o.kind == "Namespace" {
                    // builtinpluginconsts/namespace.go: `metadata/name` of kind Namespace is a
                    // namespace field, so a Namespace object is renamed to the namespace.
                    let keep = o.namespace.clone();
                    o.set_identity(ns.to_owned(), keep);
                } else if !is_cluster_scoped(&o.kind) {
                    let name = o.name.clone();
                    o.set_identity(name, Some(ns.to_owned()));
                }
            }
        }
        let prefix = get_str(&k, "namePrefix").unwrap_or_default();
        let suffix = get_str(&k, "nameSuffix").unwrap_or_default();
        for o in acc.iter_mut() {
            // PrefixSuffixTransformer.go prefixSuffixFieldSpecsToSkip
            let skip = matches!(o.kind.as_str(), "CustomResourceDefinition" | "Namespace")
                || (o.kind == "APIService" && o.group() == "apiregistration.k8s.io");
            if skip {
                continue;
            }
            o.prefixes.push(prefix.to_owned());
            o.suffixes.push(suffix.to_owned());
            let name = format!("{prefix}{}{suffix}", o.name);
            let ns = o.namespace.clone();
            o.set_identity(name, ns);
        }
        if let Some(ann) = k.get("commonAnnotations").and_then(Value::as_mapping) {
            for o in acc.iter_mut() {
                for (key, val) in ann {
                    if let (Some(key), Some(val)) = (key.as_str(), val.as_str()) {
                        set_annotation(Rc::make_mut(&mut o.value), key, val);
                    }
                }
            }
        }
        self.patches_json6902(&k, &kdoc, &kfile, dir, acc);
        self.stack.pop();
    }

    fn load_resource_file(&mut self, path: &Path, acc: &mut Vec<Obj>, from: &Origin) {
        if is_pem(path) {
            // kustomize reads it as YAML, and kyaml kio/byteio_reader.go `splitDocuments` fails
            // on the `-----END ...-----` line ("invalid document separator"): a certificate or
            // key listed as a resource.
            let msg = format!(
                "resource {} is a PEM file, not YAML: kustomize fails to build (invalid document separator)",
                self.rel(path).display()
            );
            self.problem(ProblemKind::BuildError, &from.file, from.line, msg);
            return;
        }
        let Some(docs) = self.docs(path, from) else {
            return;
        };
        let file = self.rel(path);
        for d in docs.iter() {
            let Ok(v) = &d.value else { continue };
            // Kept in the model even when kustomize would refuse it, so that `seal` still finds
            // the SealedSecret file it must name in its error.
            self.check_object(v, d, path);
            let api_version = get_str(v, "apiVersion").unwrap_or_default().to_owned();
            let kind = get_str(v, "kind").unwrap_or_default().to_owned();
            if kind.ends_with("List") && v.get("items").is_some() {
                self.problem(
                    ProblemKind::NotModelled,
                    path,
                    d.start_line,
                    format!("`{kind}` documents are not expanded"),
                );
                continue;
            }
            let (name, namespace, name_line) = metadata_identity(v, d);
            let original = Identity {
                name: name.clone(),
                namespace: namespace.clone(),
            };
            acc.push(Obj {
                api_version,
                kind,
                history: vec![(name.clone(), namespace.clone())],
                original,
                name,
                namespace,
                prefixes: Vec::new(),
                suffixes: Vec::new(),
                value: Rc::clone(v),
                metadata_stale: false,
                origin: Origin {
                    file: file.clone(),
                    line: d.start_line,
                },
                doc_index: d.index,
                name_line,
                sources: vec![Source::Doc(Rc::clone(d), file.clone())],
                generated: None,
                needs_hash: false,
                hashed: false,
            });
        }
    }

    /// Records why a resource document is not a Kubernetes object kustomize accepts: a mapping
    /// with a `kind` and a string `metadata.name` (kustomize api/resource/factory.go: "missing
    /// kind in object", "missing metadata.name in object"). A document with a mapping or list as
    /// a key (an unrendered `{{ }}` template) is a YAML problem, reported as such.
    fn check_object(&mut self, v: &Value, d: &Doc, path: &Path) {
        if docs::has_complex_key(v) {
            self.problem(
                ProblemKind::Invalid,
                path,
                d.start_line,
                format!("{YAML_SYNTAX_PREFIX}a mapping key is itself a mapping or list (an unrendered `{{{{ }}}}` template?)"),
            );
            return;
        }
        let what = if !v.is_mapping() {
            "is not a mapping (a Kubernetes object)"
        } else if get_str(v, "kind").is_none_or(str::is_empty) {
            "has no kind (missing kind in object)"
        } else if v.get("items").is_some()
            && get_str(v, "kind").is_some_and(|k| k.ends_with("List"))
        {
            return;
        } else if v
            .get("metadata")
            .and_then(|m| get_str(m, "name"))
            .is_none_or(str::is_empty)
        {
            "has no metadata.name (missing metadata.name in object)"
        } else {
            return;
        };
        let msg = format!(
            "document {} of {} {what}: kustomize fails to build",
            d.index + 1,
            self.rel(path).display()
        );
        self.problem(ProblemKind::BuildError, path, d.start_line, msg);
    }

    /// kustomize's resource map refuses a second object with the same id (group, version, kind,
    /// name, namespace): api/resmap/reswrangler.go `Append`, "may not add resource with an
    /// already registered id". Checked once the level's resources are accumulated, before any
    /// transform changes the ids.
    fn check_unique_ids(&mut self, acc: &[Obj]) {
        let mut seen: HashMap<(&str, &str, &str, &str), &Obj> = HashMap::with_capacity(acc.len());
        let mut dups = Vec::new();
        for o in acc.iter().filter(|o| o.generated.is_none()) {
            let key = (
                o.api_version.as_str(),
                o.kind.as_str(),
                o.name.as_str(),
                effective_ns(o.namespace.as_deref(), &o.kind),
            );
            if let Some(first) = seen.insert(key, o) {
                dups.push((
                    o.origin.clone(),
                    first.origin.clone(),
                    o.kind.clone(),
                    o.name.clone(),
                ));
            }
        }
        for (at, first, kind, name) in dups {
            let msg = format!(
                "{kind} `{name}` is defined twice (also at {first}): kustomize fails to build (may not add resource with an already registered id)"
            );
            self.problem(ProblemKind::BuildError, &at.file, at.line, msg);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn generate(
        &mut self,
        acc: &mut Vec<Obj>,
        dir: &Path,
        gk: GeneratedKind,
        name: String,
        namespace: Option<String>,
        args: &Value,
        global: Option<&Value>,
        origin: &Origin,
        from_generators_file: bool,
    ) {
        let behavior = match get_str(args, "behavior").unwrap_or("create") {
            "merge" => Behavior::Merge,
            "replace" => Behavior::Replace,
            "create" | "" => Behavior::Create,
            other => {
                self.problem(
                    ProblemKind::BuildError,
                    &origin.file,
                    origin.line,
                    format!("unknown generator behavior `{other}`"),
                );
                return;
            }
        };
        // types.MergeGlobalOptionsIntoLocal: a local setting wins over generatorOptions.
        let opt = |key: &str| {
            args.get("options")
                .and_then(|o| o.get(key))
                .or_else(|| global.and_then(|g| g.get(key)))
                .and_then(Value::as_bool)
        };
        let disable = opt("disableNameSuffixHash");
        let envs: Vec<PathBuf> = str_list(args, "envs").iter().map(|e| dir.join(e)).collect();
        let mut envs_all = envs.clone();
        if let Some(e) = get_str(args, "env") {
            envs_all.push(dir.join(e));
        }
        let literal_keys: Vec<String> = str_list(args, "literals")
            .iter()
            .map(|l| l.split_once('=').map_or(l.as_str(), |(k, _)| k).to_owned())
            .collect();
        let files: Vec<FileSource> = str_list(args, "files")
            .iter()
            .map(|f| match f.split_once('=') {
                Some((k, p)) => FileSource {
                    key: k.to_owned(),
                    path: dir.join(p),
                },
                None => FileSource {
                    key: Path::new(f)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    path: dir.join(f),
                },
            })
            .collect();
        let mut keys: Option<Vec<String>> = Some(Vec::new());
        for e in &envs_all {
            if self.outside_root(dir, e, origin) {
                keys = None;
                continue;
            }
            match std::fs::read(e) {
                Ok(bytes) => {
                    let bytes = zeroize::Zeroizing::new(bytes);
                    match crate::envfile::parse(&bytes) {
                        Ok(parsed) => {
                            if let Some(k) = keys.as_mut() {
                                // Never a line that looks like a piece of a value as a key name.
                                k.extend(parsed.key_entries().map(|e| e.key.clone()));
                            }
                        }
                        Err(err) => {
                            self.problem(
                                ProblemKind::BuildError,
                                &origin.file,
                                origin.line,
                                format!(
                                    "env file {}: {err}: kustomize fails to build",
                                    self.rel(e).display()
                                ),
                            );
                            keys = None;
                        }
                    }
                }
                Err(err) if err.kind() == std::io::ErrorKind::NotFound && has_example(e) => {
                    // The untracked env file is absent (as on every CI runner) and its tracked
                    // `.example` stands in for its keys (rules::model::generated_keys).
                    keys = None;
                }
                Err(_) => {
                    self.problem(
                        ProblemKind::Invalid,
                        &origin.file,
                        origin.line,
                        format!(
                            "env file {} cannot be read: kustomize fails to build",
                            self.rel(e).display()
                        ),
                    );
                    keys = None;
                }
            }
        }
        if let Some(k) = keys.as_mut() {
            k.extend(literal_keys.iter().cloned());
            k.extend(files.iter().map(|f| f.key.clone()));
        }
        let spec = GeneratorSpec {
            origin: Origin {
                file: self.rel(&origin.file),
                line: origin.line,
            },
            from_generators_file,
            behavior,
            envs: envs_all.iter().map(|e| self.rel(e)).collect(),
            literal_keys,
            files: files
                .into_iter()
                .map(|f| FileSource {
                    key: f.key,
                    path: self.rel(&f.path),
                })
                .collect(),
            disable_name_suffix_hash: disable,
            secret_type: get_str(args, "type").map(str::to_owned),
        };
        let needs_hash = disable != Some(true);
        let existing = acc.iter().position(|o| {
            o.kind == gk.kind() && o.group().is_empty() && o.had_id(&name, namespace.as_deref())
        });
        match (behavior, existing) {
            (Behavior::Create, Some(_)) => {
                self.problem(
                    ProblemKind::BuildError,
                    &origin.file,
                    origin.line,
                    format!(
                        "{} `{name}` already exists: use behavior merge or replace",
                        gk.kind()
                    ),
                );
            }
            (Behavior::Create, None) => {
                let original = Identity {
                    name: name.clone(),
                    namespace: namespace.clone(),
                };
                let mut value = yaml_serde::Mapping::new();
                value.insert("apiVersion".into(), "v1".into());
                value.insert("kind".into(), gk.kind().into());
                let mut value = Value::Mapping(value);
                write_meta(&mut value, "name", Some(&name));
                write_meta(&mut value, "namespace", namespace.as_deref());
                let rel = self.rel(&origin.file);
                acc.push(Obj {
                    api_version: "v1".into(),
                    kind: gk.kind().into(),
                    original: original.clone(),
                    history: vec![(name.clone(), namespace.clone())],
                    name,
                    namespace,
                    prefixes: Vec::new(),
                    suffixes: Vec::new(),
                    value: Rc::new(value),
                    metadata_stale: false,
                    origin: Origin {
                        file: rel,
                        line: origin.line,
                    },
                    doc_index: 0,
                    name_line: origin.line,
                    sources: Vec::new(),
                    generated: Some(GenState {
                        kind: gk,
                        original,
                        specs: vec![spec],
                        keys,
                    }),
                    needs_hash,
                    hashed: false,
                });
            }
            (_, None) => {
                self.problem(
                    ProblemKind::BuildError,
                    &origin.file,
                    origin.line,
                    format!(
                        "{} `{name}` does not exist: kustomize fails to build (does not exist; cannot merge or replace)",
                        gk.kind()
                    ),
                );
            }
            (_, Some(i)) => {
                let o = &mut acc[i];
                // Checked against kustomize v5.5: the merged object keeps a hash suffix only
                // when both the old object and the merging generator want one (resmap
                // reswrangler.go appendReplaceOrMerge + resource.CopyMergeMetaDataFieldsFrom).
                o.needs_hash = o.needs_hash && needs_hash;
                if let Some(g) = o.generated.as_mut() {
                    if behavior == Behavior::Replace {
                        g.keys = keys;
                    } else if let (Some(a), Some(b)) = (g.keys.as_mut(), keys) {
                        for k in b {
                            if !a.contains(&k) {
                                a.push(k);
                            }
                        }
                    } else {
                        g.keys = None;
                    }
                    g.specs.push(spec);
                }
            }
        }
    }

    /// Inline patch text or a file's documents.
    fn patch_docs(
        &mut self,
        entry: &Value,
        dir: &Path,
        kfile: &Path,
        line: usize,
        inline_line: usize,
    ) -> Option<(Rc<Vec<Rc<Doc>>>, PathBuf)> {
        let from = Origin {
            file: kfile.to_path_buf(),
            line,
        };
        if let Some(text) = entry.as_str().or_else(|| get_str(entry, "patch")) {
            let looks_inline =
                text.contains('\n') || text.contains(": ") || text.trim_start().starts_with('-');
            if looks_inline {
                // Inline text: a block scalar starts on the line after its key (or list dash);
                // a one-line value is attributed to that line.
                let first = if text.contains('\n') {
                    inline_line + 1
                } else {
                    inline_line
                };
                let mut docs = docs::split_docs(text);
                for d in &mut docs {
                    d.start_line += first - 1;
                    d.error_line += first - 1;
                }
                return Some((
                    Rc::new(docs.into_iter().map(Rc::new).collect()),
                    kfile.to_path_buf(),
                ));
            }
            let path = dir.join(text);
            if self.outside_root(dir, &path, &from) {
                return None;
            }
            return self.docs(&path, &from).map(|d| (d, path));
        }
        let p = get_str(entry, "path")?;
        let path = dir.join(p);
        if self.outside_root(dir, &path, &from) {
            return None;
        }
        self.docs(&path, &from).map(|d| (d, path))
    }

    fn patches_strategic_merge(
        &mut self,
        k: &Value,
        kdoc: &Doc,
        kfile: &Path,
        dir: &Path,
        acc: &mut [Obj],
    ) {
        let Some(list) = k.get("patchesStrategicMerge").and_then(Value::as_sequence) else {
            return;
        };
        for (i, entry) in list.iter().enumerate() {
            let line = Self::kline(kdoc, "patchesStrategicMerge", Some(i));
            let Some((docs, file)) = self.patch_docs(entry, dir, kfile, line, line) else {
                continue;
            };
            if !self.patch_is_usable(&docs, &file, kfile, line, false) {
                continue;
            }
            for d in docs.iter() {
                self.apply_smp(d, &file, None, acc);
            }
        }
    }

    fn patches(&mut self, k: &Value, kdoc: &Doc, kfile: &Path, dir: &Path, acc: &mut [Obj]) {
        let Some(list) = k.get("patches").and_then(Value::as_sequence) else {
            return;
        };
        for (i, entry) in list.iter().enumerate() {
            let line = Self::kline(kdoc, "patches", Some(i));
            let inline_line = kdoc.line_of(&[
                Seg::Key("patches".into()),
                Seg::Index(i),
                Seg::Key("patch".into()),
            ]);
            let target = entry.get("target").map(Selector::from_value);
            let Some((docs, file)) = self.patch_docs(entry, dir, kfile, line, inline_line) else {
                continue;
            };
            if !self.patch_is_usable(&docs, &file, kfile, line, target.is_some()) {
                continue;
            }
            let is_json = docs
                .first()
                .and_then(|d| d.value.as_ref().ok())
                .is_some_and(|v| v.is_sequence());
            if is_json {
                let Some(t) = target else {
                    self.problem(
                        ProblemKind::BuildError,
                        kfile,
                        line,
                        "a JSON6902 patch needs a target".into(),
                    );
                    continue;
                };
                if let Some(d) = docs.first() {
                    self.apply_json(d, &file, &t, acc, kfile, line);
                }
            } else {
                for d in docs.iter() {
                    self.apply_smp(d, &file, target.as_ref(), acc);
                }
            }
        }
    }

    /// Whether a patch's documents are something kustomize can apply; otherwise records why it
    /// refuses them, at the kustomization line listing the patch (kustomize
    /// api/internal/builtins/PatchTransformer.go and PatchStrategicMergeTransformer.go: "patch
    /// appears to be empty", "unable to parse SM or JSON patch", "must specify a target for JSON
    /// patch"). Documents that do not parse are reported where they are, as YAML problems.
    fn patch_is_usable(
        &mut self,
        docs: &[Rc<Doc>],
        file: &Path,
        kfile: &Path,
        line: usize,
        targeted: bool,
    ) -> bool {
        let shown = self.rel(file).display().to_string();
        let problem = if docs.is_empty() {
            Some(format!(
                "patch {shown} is empty: kustomize fails to build (patch appears to be empty)"
            ))
        } else {
            docs.iter().find_map(|d| {
                let v = d.value.as_ref().ok()?;
                if v.is_sequence() {
                    return None;
                }
                let named = v
                    .get("metadata")
                    .and_then(|m| get_str(m, "name"))
                    .is_some_and(|n| !n.is_empty());
                let kinded = get_str(v, "kind").is_some_and(|k| !k.is_empty());
                if !v.is_mapping() {
                    Some(format!(
                        "patch {shown} is neither a strategic-merge patch nor a JSON patch: kustomize fails to build (unable to parse SM or JSON patch)"
                    ))
                } else if !(targeted || (named && kinded)) {
                    Some(format!(
                        "patch {shown} has no kind and metadata.name and no target: kustomize fails to build (unable to parse SM or JSON patch)"
                    ))
                } else {
                    None
                }
            })
        };
        match problem {
            Some(msg) => {
                self.problem(ProblemKind::BuildError, kfile, line, msg);
                false
            }
            None => true,
        }
    }

    fn patches_json6902(
        &mut self,
        k: &Value,
        kdoc: &Doc,
        kfile: &Path,
        dir: &Path,
        acc: &mut [Obj],
    ) {
        let Some(list) = k.get("patchesJson6902").and_then(Value::as_sequence) else {
            return;
        };
        for (i, entry) in list.iter().enumerate() {
            let line = Self::kline(kdoc, "patchesJson6902", Some(i));
            let inline_line = kdoc.line_of(&[
                Seg::Key("patchesJson6902".into()),
                Seg::Index(i),
                Seg::Key("patch".into()),
            ]);
            let Some(t) = entry.get("target").map(Selector::from_value) else {
                self.problem(
                    ProblemKind::BuildError,
                    kfile,
                    line,
                    "a patchesJson6902 entry needs a target".into(),
                );
                continue;
            };
            let Some((docs, file)) = self.patch_docs(entry, dir, kfile, line, inline_line) else {
                continue;
            };
            if let Some(d) = docs.first() {
                self.apply_json(d, &file, &t, acc, kfile, line);
            }
        }
    }

    fn selected(&mut self, sel: &Selector, acc: &[Obj], file: &Path, line: usize) -> Vec<usize> {
        if let Some(what) = sel.unsupported() {
            self.problem(
                ProblemKind::NotModelled,
                file,
                line,
                format!("{what} is not modelled"),
            );
            return Vec::new();
        }
        (0..acc.len())
            .filter(|&i| patch::selects(sel, &acc[i].candidate()))
            .collect()
    }

    fn apply_smp(&mut self, d: &Rc<Doc>, file: &Path, target: Option<&Selector>, acc: &mut [Obj]) {
        let Ok(pv) = &d.value else { return };
        let idx: Vec<usize> = match target {
            Some(sel) => self.selected(sel, acc, file, d.start_line),
            None => {
                let kind = get_str(pv, "kind").unwrap_or_default();
                let meta = pv.get("metadata");
                let name = meta.and_then(|m| get_str(m, "name")).unwrap_or_default();
                let ns = meta.and_then(|m| get_str(m, "namespace"));
                let api = get_str(pv, "apiVersion").unwrap_or_default();
                let group = api.rsplit_once('/').map_or("", |(g, _)| g);
                let hits: Vec<usize> = (0..acc.len())
                    .filter(|&i| {
                        let o = &acc[i];
                        o.kind == kind
                            && o.group() == group
                            && o.history.iter().any(|(n, _)| n == name)
                            && ns.is_none_or(|ns| {
                                o.history.iter().any(|(_, ons)| {
                                    effective_ns(ons.as_deref(), kind)
                                        == effective_ns(Some(ns), kind)
                                })
                            })
                    })
                    .collect();
                if hits.is_empty() {
                    let msg =
                        format!("patch target {kind} `{name}` not found: kustomize fails to build");
                    self.problem(ProblemKind::BuildError, file, d.start_line, msg);
                }
                hits
            }
        };
        let rel = self.rel(file);
        for i in idx {
            let o = &mut acc[i];
            let schema = is_builtin_api(&o.api_version);
            let mut patch_value = Value::clone(pv);
            if target.is_some() {
                // A targeted patch's own metadata does not rename the target.
                if let Some(m) = patch_value
                    .get_mut("metadata")
                    .and_then(Value::as_mapping_mut)
                {
                    m.remove("name");
                    m.remove("namespace");
                }
            } else if let Some(m) = patch_value
                .get_mut("metadata")
                .and_then(Value::as_mapping_mut)
            {
                m.remove("name");
                m.remove("namespace");
            }
            patch::strategic_merge(Rc::make_mut(&mut o.value), &patch_value, schema);
            o.sources.push(Source::Doc(Rc::clone(d), rel.clone()));
        }
    }

    fn apply_json(
        &mut self,
        d: &Rc<Doc>,
        file: &Path,
        sel: &Selector,
        acc: &mut [Obj],
        kfile: &Path,
        line: usize,
    ) {
        let Some(Value::Sequence(ops)) = d.value.as_deref().ok() else {
            return;
        };
        let mut parsed = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let name = get_str(op, "op").unwrap_or_default().to_owned();
            let path = patch::parse_pointer(get_str(op, "path").unwrap_or_default());
            // The `value:` line when there is one (that is where a reference is written).
            let op_line = if op.get("value").is_some() {
                d.line_of(&[Seg::Index(i), Seg::Key("value".into())])
            } else {
                d.line_of(&[Seg::Index(i)])
            };
            if !matches!(name.as_str(), "add" | "replace" | "remove" | "test") {
                self.problem(
                    ProblemKind::NotModelled,
                    file,
                    op_line,
                    format!("json patch op `{name}` is not modelled"),
                );
            }
            parsed.push(JsonOp {
                op: name,
                path,
                value: op.get("value").cloned(),
                line: op_line,
            });
        }
        let idx = self.selected(sel, acc, kfile, line);
        let rel = self.rel(file);
        for i in idx {
            let o = &mut acc[i];
            o.sync_metadata();
            for op in &parsed {
                if let Some(written) = patch::apply_json_op(Rc::make_mut(&mut o.value), op) {
                    o.sources.push(Source::Json {
                        file: rel.clone(),
                        line: op.line,
                        written,
                    });
                }
            }
            // A patch may rename the object or move it.
            let meta = o.value.get("metadata");
            let name = meta
                .and_then(|m| get_str(m, "name"))
                .unwrap_or_default()
                .to_owned();
            let ns = meta
                .and_then(|m| get_str(m, "namespace"))
                .map(str::to_owned);
            o.set_identity(name, ns);
        }
    }
}

fn set_annotation(value: &mut Value, key: &str, val: &str) {
    let Some(map) = value.as_mapping_mut() else {
        return;
    };
    let meta = map
        .entry("metadata".into())
        .or_insert_with(|| Value::Mapping(yaml_serde::Mapping::new()));
    let Some(meta) = meta.as_mapping_mut() else {
        return;
    };
    let ann = meta
        .entry("annotations".into())
        .or_insert_with(|| Value::Mapping(yaml_serde::Mapping::new()));
    if let Some(ann) = ann.as_mapping_mut() {
        ann.insert(key.into(), val.into());
    }
}

/// Where a final reference was written: the latest source that holds it.
///
/// `cache` holds, per source of `o`, the references extracted from that source's document: an
/// object with several references is attributed once per reference, and extraction is the
/// expensive part.
fn attribute(o: &Obj, r: &RawRef, cache: &mut [Option<Vec<RawRef>>]) -> Origin {
    for (s, cached) in o.sources.iter().zip(cache.iter_mut()).rev() {
        match s {
            Source::Json {
                file,
                line,
                written,
            } => {
                if r.path.starts_with(written) {
                    return Origin {
                        file: file.clone(),
                        line: *line,
                    };
                }
            }
            Source::Doc(d, file) => {
                let Ok(v) = &d.value else { continue };
                let extracted = cached.get_or_insert_with(|| {
                    let kind = get_str(v, "kind")
                        .filter(|k| !k.is_empty())
                        .unwrap_or(&o.kind);
                    let api = get_str(v, "apiVersion")
                        .filter(|k| !k.is_empty())
                        .unwrap_or(&o.api_version);
                    refs::extract(kind, api, v)
                });
                if let Some(src) = extracted
                    .iter()
                    .find(|x| x.norm == r.norm && x.name == r.name)
                {
                    return Origin {
                        file: file.clone(),
                        line: d.line_of(&src.path),
                    };
                }
            }
        }
    }
    o.origin.clone()
}

/// `metadata.name` (empty when absent), `metadata.namespace` and the 1-based line of
/// `metadata.name` (the document's first line when absent) of one document.
fn metadata_identity(v: &Value, d: &Doc) -> (String, Option<String>, usize) {
    let meta = v.get("metadata");
    let name = meta
        .and_then(|m| get_str(m, "name"))
        .unwrap_or_default()
        .to_owned();
    let namespace = meta
        .and_then(|m| get_str(m, "namespace"))
        .map(str::to_owned);
    let line = d.line_of(&[Seg::Key("metadata".into()), Seg::Key("name".into())]);
    (name, namespace, line)
}

pub(crate) fn build(root: &Path, dir: &Path) -> Result<BuildOutput, KustomizeError> {
    let Some(kfile) = kustomization_file(dir) else {
        return Err(KustomizeError::NoKustomization {
            dir: dir.to_path_buf(),
        });
    };
    let text = std::fs::read(&kfile).map_err(|e| KustomizeError::Unreadable {
        path: kfile.clone(),
        message: e.to_string(),
    })?;
    let text = String::from_utf8(text).map_err(|_| KustomizeError::Unreadable {
        path: kfile.clone(),
        message: "not valid utf-8".into(),
    })?;
    if let Some(d) = docs::split_docs(&text).first()
        && let Err(e) = &d.value
    {
        return Err(KustomizeError::Syntax {
            path: kfile.clone(),
            line: d.error_line,
            message: e.clone(),
        });
    }
    let mut b = Builder {
        root,
        files: HashMap::new(),
        problems: Vec::new(),
        rules: Vec::new(),
        stack: Vec::new(),
    };
    let mut acc = Vec::new();
    let top = Origin {
        file: b.rel(&kfile),
        line: 1,
    };
    b.accumulate(dir, &mut acc, false, &top);
    let rels: Vec<PathBuf> = b.problems.iter().map(|p| b.rel(&p.origin.file)).collect();
    for (p, f) in b.problems.iter_mut().zip(rels) {
        p.origin.file = f;
    }

    // addHashesToNames: once, at the top, after every transform.
    for o in acc.iter_mut().filter(|o| o.needs_hash) {
        o.hashed = true;
    }

    // FixBackReferences (api/filters/nameref/nameref.go selectReferral)
    let mut references = Vec::new();
    let (mut res_index, mut gen_index) = (Vec::new(), Vec::new());
    let (mut nres, mut ngen) = (0usize, 0usize);
    for o in &acc {
        if o.generated.is_some() {
            gen_index.push(Some(ngen));
            res_index.push(None);
            ngen += 1;
        } else {
            res_index.push(Some(nres));
            gen_index.push(None);
            nres += 1;
        }
    }
    for o in &acc {
        let mut attr_cache: Vec<Option<Vec<RawRef>>> = o.sources.iter().map(|_| None).collect();
        for r in refs::extract(&o.kind, &o.api_version, &o.value) {
            let rewritable = refs::builtin_rewrites(r.target_kind, &o.kind, &r.fs_path)
                || refs::configured(&b.rules, &r, &o.kind, o.group());
            let mut rendered_name = r.name.clone();
            let mut rendered_hash = false;
            if rewritable {
                let target_group = "";
                let ref_ns = effective_ns(o.namespace.as_deref(), &o.kind);
                let mut cands: Vec<&Obj> = acc
                    .iter()
                    .filter(|c| {
                        c.kind == r.target_kind
                            && (c.group() == target_group
                                || !matches!(
                                    r.target_kind,
                                    "Secret"
                                        | "ConfigMap"
                                        | "ServiceAccount"
                                        | "PersistentVolumeClaim"
                                ))
                    })
                    .filter(|c| c.history.iter().any(|(n, _)| *n == r.name))
                    .filter(|c| {
                        is_cluster_scoped(&o.kind)
                            || is_cluster_scoped(&c.kind)
                            || c.kind == "ServiceAccount"
                            || effective_ns(c.namespace.as_deref(), &c.kind) == ref_ns
                    })
                    .collect();
                if cands.len() > 1 {
                    let same: Vec<&Obj> = cands
                        .iter()
                        .copied()
                        .filter(|c| c.prefixes == o.prefixes && c.suffixes == o.suffixes)
                        .collect();
                    cands = same;
                }
                let pick = match cands.as_slice() {
                    [] => None,
                    [one] => Some(*one),
                    many if many
                        .iter()
                        .all(|c| c.name == many[0].name && c.hashed == many[0].hashed) =>
                    {
                        Some(many[0])
                    }
                    _ => {
                        let origin = attribute(o, &r, &mut attr_cache);
                        b.problems.push(Problem {
                            kind: ProblemKind::BuildError,
                            origin,
                            message: format!("{} reference `{}` matches several objects: kustomize fails to build", r.target_kind, r.name),
                        });
                        None
                    }
                };
                if let Some(c) = pick {
                    rendered_name = c.name.clone();
                    rendered_hash = c.hashed;
                }
            }
            let ref_ns = effective_ns(o.namespace.as_deref(), &o.kind);
            let resolution = acc
                .iter()
                .enumerate()
                .find(|(_, c)| {
                    let kind_ok = c.kind == r.target_kind
                        || (r.target_kind == "Secret"
                            && c.kind == "SealedSecret"
                            && c.api_version == "bitnami.com/v1alpha1");
                    kind_ok
                        && c.name == rendered_name
                        && c.hashed == rendered_hash
                        && (is_cluster_scoped(&c.kind)
                            || effective_ns(c.namespace.as_deref(), &c.kind) == ref_ns)
                })
                .map_or(Resolution::Unresolved, |(i, _)| {
                    match (res_index[i], gen_index[i]) {
                        (Some(ri), _) => Resolution::Resource(ri),
                        (_, Some(gi)) => Resolution::Generated(gi),
                        _ => Resolution::Unresolved,
                    }
                });
            references.push(Reference {
                referrer_kind: o.kind.clone(),
                referrer: Identity {
                    name: o.name.clone(),
                    namespace: o.namespace.clone(),
                },
                field: r.field,
                target_kind: r.target_kind.to_owned(),
                origin: attribute(o, &r, &mut attr_cache),
                path: r.path.clone(),
                name: r.name.clone(),
                keys: r.keys.clone(),
                optional: r.optional,
                rewritable,
                rendered_name,
                rendered_hash_suffix: rendered_hash,
                resolution,
            });
        }
    }

    let mut resources = Vec::new();
    let mut generated = Vec::new();
    for o in acc {
        let rendered = Identity {
            name: o.name.clone(),
            namespace: o.namespace.clone(),
        };
        if let Some(g) = o.generated {
            generated.push(Generated {
                kind: g.kind,
                original: g.original,
                rendered,
                hash_suffix: o.hashed,
                specs: g.specs,
                keys: g.keys,
            });
        } else {
            let annotations = o
                .value
                .get("metadata")
                .and_then(|m| m.get("annotations"))
                .and_then(Value::as_mapping)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
                        .collect()
                })
                .unwrap_or_default();
            resources.push(Resource {
                api_version: o.api_version,
                kind: o.kind,
                original: o.original,
                rendered,
                origin: o.origin,
                doc_index: o.doc_index,
                name_line: o.name_line,
                annotations,
            });
        }
    }
    Ok(BuildOutput {
        resources,
        generated,
        references,
        problems: b.problems,
    })
}
