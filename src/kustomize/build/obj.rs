//! One object of a build in progress: its identity history, its value as transformed so far, and
//! where each part of it was written. Plus the kind/namespace facts kustomize's transforms use.

use std::path::PathBuf;
use std::sync::Arc;

use yaml_serde::Value;

use super::super::docs::Doc;
use super::super::patch::Candidate;
use super::super::{GeneratedKind, GeneratorSpec, Identity, Origin};
use crate::yamlpos::Seg;

/// Where a reference value may have been written.
#[derive(Debug, Clone)]
pub(super) enum Source {
    /// A whole document (the resource itself or a strategic-merge patch).
    Doc(Arc<Doc>, PathBuf),
    /// An item of a `List` document: the item at `at` in the document, whose value the object
    /// took.
    Item {
        doc: Arc<Doc>,
        file: PathBuf,
        at: Vec<Seg>,
        value: Arc<Value>,
    },
    /// Op `op` of the JSON6902 patch `doc`, which wrote its `value` as the subtree at
    /// `written`. `exact` until a later op inserts into or removes from a list inside that
    /// subtree: the value's own list indexes then no longer match the object's.
    Json {
        doc: Arc<Doc>,
        file: PathBuf,
        op: usize,
        written: Vec<Seg>,
        exact: bool,
    },
}

#[derive(Debug, Clone)]
pub(super) struct GenState {
    pub(super) kind: GeneratedKind,
    pub(super) original: Identity,
    pub(super) specs: Vec<GeneratorSpec>,
    pub(super) keys: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
pub(super) struct Obj {
    pub(super) api_version: String,
    pub(super) kind: String,
    pub(super) original: Identity,
    pub(super) name: String,
    pub(super) namespace: Option<String>,
    /// Every (name, namespace) the object has had, oldest first, current last.
    pub(super) history: Vec<(String, Option<String>)>,
    pub(super) prefixes: Vec<String>,
    pub(super) suffixes: Vec<String>,
    /// The object as transformed so far: shared with its source document until a transform
    /// changes it. `metadata.name`/`namespace` in it are brought up to date with `name` and
    /// `namespace` only where something reads them (`sync_metadata`).
    pub(super) value: Arc<Value>,
    /// Whether `value`'s `metadata.name`/`namespace` may differ from `name`/`namespace`.
    pub(super) metadata_stale: bool,
    pub(super) origin: Origin,
    pub(super) doc_index: usize,
    pub(super) name_line: usize,
    pub(super) sources: Vec<Source>,
    pub(super) generated: Option<GenState>,
    pub(super) needs_hash: bool,
    pub(super) hashed: bool,
    /// The namespace an Argo CD Application applies it into when it renders without one (its
    /// `spec.destination.namespace`, see `super::Deployed`); `None` when it keeps its own.
    pub(super) landed: Option<String>,
}

impl Obj {
    /// A new object named `name` in `namespace`, not yet transformed.
    pub(super) fn new(
        api_version: String,
        kind: String,
        (name, namespace): (String, Option<String>),
        value: Arc<Value>,
        origin: Origin,
    ) -> Obj {
        Obj {
            api_version,
            kind,
            original: Identity {
                name: name.clone(),
                namespace: namespace.clone(),
            },
            history: vec![(name.clone(), namespace.clone())],
            name,
            namespace,
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            value,
            metadata_stale: false,
            name_line: origin.line,
            origin,
            doc_index: 0,
            sources: Vec::new(),
            generated: None,
            needs_hash: false,
            hashed: false,
            landed: None,
        }
    }

    /// The namespace it is applied into: its own after the build, or the one an Argo CD
    /// Application's destination gives it ([`Obj::landed`]). Name references resolve against
    /// this (in the cluster); kustomize's own rewriting of them does not see it.
    pub(super) fn deployed_ns(&self) -> Option<&str> {
        self.landed.as_deref().or(self.namespace.as_deref())
    }

    /// A patch from `patch_file` writing into this object, written in `object_file` (both
    /// repository-relative; see [`super::written`]).
    pub(super) fn write<'a>(
        &'a self,
        object_file: &'a std::path::Path,
        patch_file: &'a std::path::Path,
        in_document: bool,
    ) -> super::written::Write<'a> {
        super::written::Write {
            kind: &self.kind,
            name: &self.name,
            object_file,
            object_name: &self.original.name,
            object_namespace: self.original.namespace.as_deref(),
            patch_file,
            in_document,
        }
    }

    pub(super) fn group(&self) -> &str {
        group_of(&self.api_version)
    }

    pub(super) fn set_identity(&mut self, name: String, namespace: Option<String>) {
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
    pub(super) fn sync_metadata(&mut self) {
        if std::mem::take(&mut self.metadata_stale) {
            let value = Arc::make_mut(&mut self.value);
            write_meta(value, "name", Some(&self.name));
            write_meta(value, "namespace", self.namespace.as_deref());
        }
    }

    /// Whether any earlier or current id is `name` in `namespace`, an unset namespace being
    /// `default` (kustomize `resid.ResId.Equals` over `PrevIds` and the current id, which is
    /// how a strategic-merge patch without a target and a generator's `merge` find their object:
    /// api/resmap/reswrangler.go `GetMatchingResourcesByAnyId`).
    pub(super) fn had_id(&self, name: &str, namespace: Option<&str>) -> bool {
        self.history.iter().any(|(n, ns)| {
            n == name
                && effective_ns(ns.as_deref(), &self.kind) == effective_ns(namespace, &self.kind)
        })
    }

    /// Whether any earlier or current name is `name`, in any namespace.
    pub(super) fn had_name(&self, name: &str) -> bool {
        self.history.iter().any(|(n, _)| n == name)
    }

    pub(super) fn candidate(&self) -> Candidate<'_> {
        Candidate {
            group: self.group(),
            version: self
                .api_version
                .rsplit_once('/')
                .map_or(&*self.api_version, |(_, v)| v),
            kind: &self.kind,
            names: [&self.original.name, &self.name],
            namespaces: [
                effective_ns(self.original.namespace.as_deref(), &self.kind),
                effective_ns(self.namespace.as_deref(), &self.kind),
            ],
            value: &self.value,
        }
    }

    /// Top-level `metadata.annotations` with string values.
    pub(super) fn annotations(&self) -> Vec<(String, String)> {
        crate::kustomize::string_pairs(
            self.value
                .get("metadata")
                .and_then(|m| m.get("annotations")),
        )
    }
}

/// The API group of an `apiVersion` (`""` for the core group).
pub(super) fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// The mapping at `key` of `map`, created when absent (None when `value` or it is no mapping).
fn child_map<'v>(value: &'v mut Value, key: &str) -> Option<&'v mut yaml_serde::Mapping> {
    value
        .as_mapping_mut()?
        .entry(Value::String(key.into()))
        .or_insert_with(|| Value::Mapping(yaml_serde::Mapping::new()))
        .as_mapping_mut()
}

/// Sets (or with None removes) `metadata.<key>`.
pub(super) fn write_meta(value: &mut Value, key: &str, v: Option<&str>) {
    let Some(meta) = child_map(value, "metadata") else {
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

/// Sets `metadata.annotations.<key>`.
pub(super) fn set_annotation(value: &mut Value, key: &str, val: &str) {
    set_meta_entry(value, "annotations", key, val);
}

/// Sets `metadata.labels.<key>`.
pub(super) fn set_label(value: &mut Value, key: &str, val: &str) {
    set_meta_entry(value, "labels", key, val);
}

/// Sets `metadata.<map>.<key>`, creating the mapping.
fn set_meta_entry(value: &mut Value, map: &str, key: &str, val: &str) {
    let Some(meta) = child_map(value, "metadata") else {
        return;
    };
    let entries = meta
        .entry(map.into())
        .or_insert_with(|| Value::Mapping(yaml_serde::Mapping::new()));
    if let Some(entries) = entries.as_mapping_mut() {
        entries.insert(key.into(), val.into());
    }
}

/// Kinds kustomize treats as cluster-scoped (kyaml `openapi.IsCertainlyClusterScoped`, from the
/// built-in schema; custom resources are namespaced).
pub(super) fn is_cluster_scoped(kind: &str) -> bool {
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

/// The namespace an object of `kind` lands in: `""` when cluster-scoped, `default` when unset.
pub(super) fn effective_ns<'a>(ns: Option<&'a str>, kind: &str) -> &'a str {
    if is_cluster_scoped(kind) {
        return "";
    }
    match ns {
        None | Some("") => "default",
        Some(n) => n,
    }
}

/// Whether kustomize knows the schema of `api_version` (strategic-merge keys apply).
pub(super) fn is_builtin_api(api_version: &str) -> bool {
    let group = group_of(api_version);
    group.is_empty() || !group.contains('.') || group.ends_with(".k8s.io")
}

pub(super) fn get_str<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

/// The strings of the list at `key` (non-strings skipped).
pub(super) fn str_list(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect()
}

/// `metadata.<key>`, when it is a string.
pub(super) fn meta_str<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    crate::yamlpos::value_at(v, &["metadata", key]).and_then(Value::as_str)
}

/// `metadata.name` (empty when absent) and `metadata.namespace`.
pub(super) fn name_and_namespace(v: &Value) -> (String, Option<String>) {
    let name = meta_str(v, "name").unwrap_or_default().to_owned();
    (name, meta_str(v, "namespace").map(str::to_owned))
}

/// [`name_and_namespace`] of one document, and the 1-based line of `metadata.name` (the
/// document's first line when absent).
pub(super) fn metadata_identity(v: &Value, d: &Doc) -> (String, Option<String>, usize) {
    let (name, namespace) = name_and_namespace(v);
    let line = d.line_of(&[Seg::Key("metadata".into()), Seg::Key("name".into())]);
    (name, namespace, line)
}
