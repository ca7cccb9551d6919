//! kustomize merges every `configurations:` fieldSpec into its built-in configuration, and the
//! configurations of every level into one, as it loads them, whether or not a transformer uses
//! them (`api/internal/plugins/builtinconfig/transformerconfig.go` `Merge`, called from
//! `loaddefaultconfig.go` and `api/internal/accumulator/resaccumulator.go` `MergeConfig`). Two
//! fieldSpecs of one list with the same path, whose group, version and kind select one another
//! (`api/types/fsslice.go` `MergeOne`, `api/types/fieldspec.go` `effectivelyEquals`; kustomize
//! sorts each list before merging, so either may come first), but another `create`, fail the
//! build ("conflicting fieldspecs"). A `nameReference` fieldSpec meets only those of an entry
//! with exactly its target's group, version and kind, and one entry's own fieldSpecs meet one
//! another only when an earlier entry (even a null one, or one without fieldSpecs) has that
//! target (`builtinconfig/namebackreferences.go` `mergeOne` appends a new target's entry
//! unmerged).

use super::super::Origin;
use super::super::refs::{builtin_rewrites, gvk_selects};

/// One fieldSpec as kustomize merges it.
pub(super) struct Fs {
    /// Its list (`TransformerConfig`'s field).
    pub(super) list: &'static str,
    /// A `nameReference` fieldSpec's target (group, version, kind) and the index of its entry
    /// in its file.
    pub(super) target: Option<([String; 3], usize)>,
    /// Group, version, kind (empty when absent).
    pub(super) gvk: [String; 3],
    /// Its path; None for a `nameReference` entry itself, which later entries of its target
    /// merge into even when it has no fieldSpecs.
    pub(super) path: Option<String>,
    pub(super) create: bool,
}

/// What a merge of one more fieldSpec finds.
pub(super) enum Verdict {
    /// kustomize fails to build: the message.
    Conflict(String),
    /// The model cannot tell: the message.
    Unknown(String),
}

/// Built-in fieldSpecs of the small lists: list, kind, group, version, path, create
/// (kubernetes-sigs/kustomize `api/internal/konfig/builtinpluginconsts/`: `nameprefix.go`,
/// `namesuffix.go`, `namespace.go`, `commonannotations.go`, `images.go`, `replicas.go`;
/// `templateLabels` has none).
#[rustfmt::skip]
const BUILTIN: [(&str, &str, &str, &str, &str, bool); 22] = [
    ("namePrefix", "", "", "", "metadata/name", false),
    ("nameSuffix", "", "", "", "metadata/name", false),
    ("namespace", "Namespace", "", "", "metadata/name", true),
    ("namespace", "CustomResourceDefinition", "apiextensions.k8s.io", "", "spec/conversion/webhook/clientConfig/service/namespace", false),
    ("namespace", "APIService", "apiregistration.k8s.io", "", "spec/service/namespace", true),
    ("commonAnnotations", "", "", "", "metadata/annotations", true),
    ("commonAnnotations", "Deployment", "", "", "spec/template/metadata/annotations", true),
    ("commonAnnotations", "StatefulSet", "", "", "spec/template/metadata/annotations", true),
    ("commonAnnotations", "DaemonSet", "", "", "spec/template/metadata/annotations", true),
    ("commonAnnotations", "ReplicaSet", "", "", "spec/template/metadata/annotations", true),
    ("commonAnnotations", "ReplicationController", "", "v1", "spec/template/metadata/annotations", true),
    ("commonAnnotations", "Job", "batch", "", "spec/template/metadata/annotations", true),
    ("commonAnnotations", "CronJob", "batch", "", "spec/jobTemplate/metadata/annotations", true),
    ("commonAnnotations", "CronJob", "batch", "", "spec/jobTemplate/spec/template/metadata/annotations", true),
    ("images", "", "", "", "spec/containers[]/image", true),
    ("images", "", "", "", "spec/initContainers[]/image", true),
    ("images", "", "", "", "spec/template/spec/containers[]/image", true),
    ("images", "", "", "", "spec/template/spec/initContainers[]/image", true),
    ("replicas", "Deployment", "", "", "spec/replicas", true),
    ("replicas", "StatefulSet", "", "", "spec/replicas", true),
    ("replicas", "ReplicaSet", "", "", "spec/replicas", true),
    ("replicas", "ReplicationController", "", "", "spec/replicas", true),
];

/// The targets (group, version, kind) of the built-in `nameReference` entries
/// (`builtinpluginconsts/namereference.go`), whose fieldSpecs all have `create` false.
#[rustfmt::skip]
const BUILTIN_TARGETS: [[&str; 3]; 16] = [
    ["", "", "Deployment"],
    ["", "", "ReplicationController"],
    ["", "", "ReplicaSet"],
    ["", "", "StatefulSet"],
    ["", "v1", "ConfigMap"],
    ["", "v1", "Secret"],
    ["", "v1", "Service"],
    ["rbac.authorization.k8s.io", "", "Role"],
    ["rbac.authorization.k8s.io", "", "ClusterRole"],
    ["", "v1", "ServiceAccount"],
    ["", "v1", "PersistentVolumeClaim"],
    ["", "v1", "PersistentVolume"],
    ["storage.k8s.io", "v1", "StorageClass"],
    ["scheduling.k8s.io", "v1", "PriorityClass"],
    ["admissionregistration.k8s.io", "", "ValidatingAdmissionPolicy"],
    ["networking.k8s.io/v1", "v1", "IngressClass"],
];

/// The kinds the built-in tables the model does not hold name (`commonlabels.go`,
/// `labels.go`, `varreference.go`, and the `nameReference` fieldSpecs `refs::builtin_rewrites`
/// does not cover): a fieldSpec of another kind cannot meet one of them.
#[rustfmt::skip]
const TABLE_KINDS: [&str; 27] = [
    "APIService", "ClusterRole", "ClusterRoleBinding", "CronJob", "DaemonSet", "Deployment",
    "HorizontalPodAutoscaler", "Ingress", "Job", "MutatingWebhookConfiguration", "NetworkPolicy",
    "Node", "PersistentVolume", "PersistentVolumeClaim", "Pod", "PodDisruptionBudget",
    "PodTemplate", "ReplicaSet", "ReplicationController", "Role", "RoleBinding", "Service",
    "ServiceAccount", "StatefulSet", "StorageClass", "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
];

/// What merging `new` after `earlier` (this build's fieldSpecs, in load order) finds.
pub(super) fn check(earlier: &[(Fs, Origin)], new: &Fs, at: &Origin) -> Option<Verdict> {
    let path = new.path.as_deref()?;
    let msg = |with: &str| {
        let mut cat = new.list.to_owned();
        cat[..1].make_ascii_uppercase();
        format!(
            "`{}` fieldSpec `{}` conflicts with {with}: the same path for kinds that select one another, another `create`; kustomize fails to build (failed to merge {cat} fieldSpec: conflicting fieldspecs)",
            new.list, path
        )
    };
    let same_target = |e: &Fs| e.target.as_ref().map(|t| &t.0) == new.target.as_ref().map(|t| &t.0);
    let builtin_target = new.target.as_ref().is_some_and(|(t, _)| {
        BUILTIN_TARGETS
            .iter()
            .any(|b| b.iter().zip(t).all(|(b, t)| b == t))
    });
    // A new target's entry is appended without merging its own fieldSpecs.
    let merged_entry = builtin_target
        || earlier.iter().any(|(e, e_at)| {
            let entry = |f: &Fs| f.target.as_ref().map(|t| t.1);
            same_target(e) && (entry(e) != entry(new) || e_at.file != at.file)
        });
    let met = earlier.iter().find(|(e, _)| {
        e.list == new.list
            && same_target(e)
            && (merged_entry || new.target.is_none())
            && e.path == new.path
            && e.create != new.create
            && overlap(e.gvk.each_ref().map(String::as_str), &new.gvk)
    });
    if let Some((_, at)) = met {
        return Some(Verdict::Conflict(msg(&format!("the one at {at}"))));
    }
    builtin(new, path, builtin_target).map(|known| match known {
        true => Verdict::Conflict(msg("kustomize's built-in configuration")),
        false => Verdict::Unknown(format!(
            "`{}` fieldSpec `{}` may conflict with kustomize's built-in `{}` fieldSpecs, which the model does not hold: whether kustomize builds is not known",
            new.list, path, new.list
        )),
    })
}

/// Whether `new` conflicts with the built-in configuration: Some(true) it does, Some(false)
/// the model cannot tell, None it does not.
fn builtin(new: &Fs, path: &str, builtin_target: bool) -> Option<bool> {
    let kind = new.gvk[2].as_str();
    let in_tables = kind.is_empty() || TABLE_KINDS.contains(&kind);
    match new.list {
        "commonLabels" | "labels" | "varReference" => in_tables.then_some(false),
        "nameReference" if builtin_target && new.create => {
            let target = new.target.as_ref().map_or("", |t| t.0[2].as_str());
            let plain = new.gvk[0].is_empty() && new.gvk[1].is_empty();
            if plain && !kind.is_empty() && builtin_rewrites(target, kind, path) {
                Some(true)
            } else {
                in_tables.then_some(false)
            }
        }
        _ => BUILTIN
            .iter()
            .any(|&(list, k, g, v, p, create)| {
                list == new.list
                    && p == path
                    && create != new.create
                    && overlap([g, v, k], &new.gvk)
            })
            .then_some(true),
    }
}

/// True when either group, version and kind selects the other ([`gvk_selects`]): kustomize sorts
/// each list before merging, so either fieldSpec may be the one already merged.
fn overlap(a: [&str; 3], b: &[String; 3]) -> bool {
    let b = b.each_ref().map(String::as_str);
    gvk_selects(a, b) || gvk_selects(b, a)
}
