//! Rule `dangling-reference`: a rendered object names a Secret, `ConfigMap`, `ServiceAccount`,
//! `PersistentVolumeClaim` or `TriggerAuthentication` that the overlay does not render, with
//! names computed as kustomize renders them (the overlay model replays prefixes, suffixes,
//! namespaces, generator hashes and which fields kustomize rewrites). Every pod template the
//! model reads is covered (Pod, Deployment, `StatefulSet`, `DaemonSet`, `ReplicaSet`, Job, `CronJob`,
//! KEDA ScaledJob...): `envFrom`/`env` Secret and `ConfigMap` references, secret, `configMap`,
//! projected and `persistentVolumeClaim` volumes, `serviceAccountName` and `imagePullSecrets`;
//! plus `ServiceAccount` `imagePullSecrets` and KEDA `authenticationRef` / `secretTargetRef`.
//!
//! Not judged: `optional: true` references; Ingress TLS Secrets (an ingress controller's
//! prerequisite, commonly issued by cert-manager from an Ingress annotation); objects created at
//! run time ([`RUNTIME_CREATED`], the Secrets that operators make from custom resources the
//! overlay renders (cert-manager `Certificate`, External Secrets, Vault Secrets Operator,
//! 1Password, sops-secrets-operator: [`SECRET_MAKERS`](crate::kustomize::runtime_secrets::SECRET_MAKERS)),
//! and the names given with `--allow-runtime-secret`). When the reference is not rewritten by
//! kustomize and an object of that kind was renamed from the written name, the message says so.

use super::Context;
use super::locate::at_line;
use super::model::{OverlayModel, shown_name};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};
use crate::kustomize::{RefField, Reference, Resolution};
use crate::workspace::path_str;

pub static META: RuleMeta = RuleMeta {
    id: "dangling-reference",
    summary: "A rendered object names a Secret, ConfigMap, ServiceAccount, PersistentVolumeClaim or TriggerAuthentication that does not exist after rendering",
    default_severity: Severity::Error,
    hint: "create the object in the overlay or fix the name (namePrefix and nameSuffix do not rewrite names inside custom resources); a Secret created at run time can be allowed with --allow-runtime-secret NAME",
    scope: RuleScope::Model,
};

/// Objects known to be created at run time (kind, name in any namespace), so a reference to
/// them is not dangling (documented in docs/rules.md#dangling-reference).
pub static RUNTIME_CREATED: &[(&str, &str)] = &[
    // Kubernetes, in every namespace.
    ("ServiceAccount", "default"),
    // The kube-controller-manager's root CA publisher, in every namespace.
    ("ConfigMap", "kube-root-ca.crt"),
    // Argo CD's redis-secret-init job.
    ("Secret", "argocd-redis"),
];

/// True when something other than the tree creates `kind` `name` in `namespace`.
fn created_at_run_time(
    cx: &Context<'_>,
    ov: &OverlayModel,
    kind: &str,
    name: &str,
    namespace: Option<&str>,
) -> bool {
    RUNTIME_CREATED.contains(&(kind, name))
        || (kind == "Secret"
            && (cx.tree.runtime_secrets.iter().any(|n| n == name)
                || made_by_operator(ov, name, namespace)))
}

/// True when a custom resource the overlay renders makes Secret `name` in `namespace` at run
/// time (cert-manager `Certificate`, `ExternalSecret`, ...: the table is
/// [`SECRET_MAKERS`](crate::kustomize::runtime_secrets::SECRET_MAKERS), read by the model from
/// each object as it renders).
fn made_by_operator(ov: &OverlayModel, name: &str, namespace: Option<&str>) -> bool {
    ov.overlay
        .resources()
        .iter()
        .flat_map(|r| &r.runtime_secrets)
        .any(|s| s.name == name && s.scope.covers(namespace))
}

/// For a Secret reference: the Secrets operators make named after their custom resource (an
/// `ExternalSecret` without `target.name`, a `OnePasswordItem`), as (written name of the
/// resource, Secret name), so that a reference to the written name when `namePrefix` renamed
/// the resource says what the Secret is called.
fn named_after_maker<'o>(
    ov: &'o OverlayModel,
    target_kind: &str,
) -> impl Iterator<Item = (&'o String, String)> {
    let secret = target_kind == "Secret";
    ov.overlay
        .resources()
        .iter()
        .filter(move |_| secret)
        .flat_map(|o| {
            (o.runtime_secrets.iter())
                .filter(|s| s.name == o.rendered.name)
                .map(|s| (&o.original.name, s.name.clone()))
        })
}

/// Whether the rule judges a reference of this field and target kind.
fn judged(r: &Reference) -> bool {
    match r.target_kind.as_str() {
        "Secret" => r.field != RefField::IngressTls,
        "ConfigMap" | "ServiceAccount" | "PersistentVolumeClaim" | "TriggerAuthentication" => true,
        _ => false,
    }
}

/// Reports unresolved references.
pub fn check(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for ov in cx.overlays() {
        for r in ov.overlay.references() {
            if r.resolution != Resolution::Unresolved || r.optional {
                continue;
            }
            if !judged(r)
                || created_at_run_time(
                    cx,
                    ov,
                    &r.target_kind,
                    &r.rendered_name,
                    r.referrer.namespace.as_deref(),
                )
            {
                continue;
            }
            // An object of the target kind that was renamed away from the written name.
            let renamed = ov
                .overlay
                .resources()
                .iter()
                .filter(|o| {
                    o.kind == r.target_kind
                        || (r.target_kind == "Secret" && o.kind == "SealedSecret")
                })
                .map(|o| (&o.original.name, o.rendered.name.clone()))
                .chain(
                    ov.overlay
                        .generated()
                        .iter()
                        .filter(|g| g.kind.kind() == r.target_kind)
                        .map(|g| {
                            (
                                &g.original.name,
                                shown_name(&g.rendered.name, g.hash_suffix),
                            )
                        }),
                )
                .chain(named_after_maker(ov, &r.target_kind))
                .find(|(orig, rendered)| **orig == r.name && *rendered != r.rendered_name)
                .map(|(_, rendered)| rendered);
            let ns = r.referrer.namespace.as_deref().unwrap_or("<no namespace>");
            let mut message = format!(
                "overlay {}: {} `{}` names {} `{}`, which the overlay does not render in namespace {ns}",
                ov.name, r.referrer_kind, r.referrer.name, r.target_kind, r.rendered_name
            );
            if let Some(rendered) = renamed {
                message.push_str(&format!("; it renders as `{rendered}`"));
                if !r.rewritable {
                    message.push_str(", and kustomize does not rewrite this field");
                }
            }
            let loc = at_line(cx, &path_str(&r.origin.file), r.origin.line);
            out.push(Finding::new(&META, loc, message));
        }
    }
    out
}
