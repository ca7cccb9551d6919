//! Rule `dangling-reference`: a rendered object names a Secret, `ConfigMap`, `ServiceAccount`,
//! `PersistentVolumeClaim` or `TriggerAuthentication` that the overlay does not render, with
//! names computed as kustomize renders them (the overlay model replays prefixes, suffixes,
//! namespaces, generator hashes and which fields kustomize rewrites). Every pod template the
//! model reads is covered (Pod, Deployment, `StatefulSet`, `DaemonSet`, `ReplicaSet`, Job, `CronJob`,
//! KEDA ScaledJob...): `envFrom`/`env` Secret and `ConfigMap` references, secret, `configMap`,
//! projected and `persistentVolumeClaim` volumes, the Secret of other volume sources (CSI
//! `nodePublishSecretRef`, `azureFile`, `secretRef` of `cephfs`, `rbd`, ...),
//! `serviceAccountName` and `imagePullSecrets`;
//! plus `ServiceAccount` `imagePullSecrets` and KEDA `authenticationRef` / `secretTargetRef`.
//!
//! Not judged: `optional: true` references; Ingress TLS Secrets (an ingress controller's
//! prerequisite, commonly issued by cert-manager from an Ingress annotation); objects created at
//! run time ([`RUNTIME_CREATED`], the Secrets that operators make from custom resources the
//! overlay renders (cert-manager `Certificate`, External Secrets, Vault Secrets Operator,
//! 1Password, sops-secrets-operator: [`SECRET_MAKERS`](crate::kustomize::runtime_secrets::SECRET_MAKERS)),
//! and the names given with `--allow-runtime-secret`); what another overlay deployed to the same
//! cluster renders (`rendered_beside`). When the reference is not rewritten by
//! kustomize and an object of that kind was renamed from the written name, the message says so.

use std::collections::HashMap;

use super::locate::at_line;
use super::model::{Deployment, OverlayModel, shown_name};
use super::{Context, View, judge_deployments};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};
use crate::kustomize::{Overlay, RefField, Reference, Resolution, SecretScope};
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

/// What one model renders, indexed once so that each unresolved reference is a lookup rather
/// than a scan of every object.
struct Rendered<'o> {
    /// The scopes of the Secrets custom resources make at run time, by Secret name (see
    /// [`SECRET_MAKERS`](crate::kustomize::runtime_secrets::SECRET_MAKERS)).
    made: HashMap<&'o str, Vec<&'o SecretScope>>,
    /// By (written name, the target kind it answers), the names an object renders as, in the
    /// order: resources, generated objects, Secrets named after their maker.
    renamed: HashMap<(&'o str, &'o str), Vec<String>>,
}

impl<'o> Rendered<'o> {
    fn of(overlay: &'o Overlay) -> Rendered<'o> {
        let mut made: HashMap<&str, Vec<&SecretScope>> = HashMap::new();
        let mut renamed: HashMap<(&str, &str), Vec<String>> = HashMap::new();
        for o in overlay.resources() {
            for s in &o.runtime_secrets {
                made.entry(s.name.as_str()).or_default().push(&s.scope);
            }
            // A SealedSecret answers a reference to a Secret (no other SealedSecret reference is
            // judged).
            let kind = if o.kind == "SealedSecret" {
                "Secret"
            } else {
                o.kind.as_str()
            };
            let key = (o.original.name.as_str(), kind);
            renamed
                .entry(key)
                .or_default()
                .push(o.rendered.name.clone());
        }
        for g in overlay.generated() {
            let key = (g.original.name.as_str(), g.kind.kind());
            let shown = shown_name(&g.rendered.name, g.hash_suffix);
            renamed.entry(key).or_default().push(shown);
        }
        // Secrets named after their custom resource (an `ExternalSecret` without `target.name`,
        // a `OnePasswordItem`): a reference to the written name when `namePrefix` renamed the
        // resource is told what the Secret is called.
        for o in overlay.resources() {
            for s in o
                .runtime_secrets
                .iter()
                .filter(|s| s.name == o.rendered.name)
            {
                let key = (o.original.name.as_str(), "Secret");
                renamed.entry(key).or_default().push(s.name.clone());
            }
        }
        Rendered { made, renamed }
    }

    /// True when a custom resource the overlay renders makes Secret `name` in `namespace` at
    /// run time.
    fn made_by_operator(&self, name: &str, namespace: Option<&str>) -> bool {
        self.made
            .get(name)
            .is_some_and(|scopes| scopes.iter().any(|s| s.covers(namespace)))
    }

    /// The name an object of `r`'s target kind written as `r.name` renders as, when that is
    /// not the name `r` asks for.
    fn renamed(&self, r: &Reference) -> Option<String> {
        let found = self
            .renamed
            .get(&(r.name.as_str(), r.target_kind.as_str()))?;
        found.iter().find(|n| **n != r.rendered_name).cloned()
    }
}

/// True when something other than the tree creates `kind` `name` in `namespace`.
fn created_at_run_time(
    cx: &Context<'_>,
    rendered: &Rendered<'_>,
    kind: &str,
    name: &str,
    namespace: Option<&str>,
) -> bool {
    RUNTIME_CREATED.contains(&(kind, name))
        || (kind == "Secret"
            && (cx.tree.runtime_secrets.iter().any(|n| n == name)
                || rendered.made_by_operator(name, namespace)))
}

/// True when, in every cluster the objects deploying `ov` apply it to (none known: false), an
/// overlay another of them deploys renders the target of `r` in the referrer's namespace: one
/// cluster holds what its Flux Kustomizations and Argo CD Applications render together.
fn rendered_beside(cx: &Context<'_>, ov: &OverlayModel, r: &Reference) -> bool {
    let ns_of =
        |o: &OverlayModel, ns: Option<&str>| ns.or(o.overlay.destination()).map(str::to_owned);
    let Some(ns) = ns_of(ov, r.referrer.namespace.as_deref()) else {
        return false;
    };
    let renders = |o: &OverlayModel| {
        let target = |kind: &str, id: &crate::kustomize::Identity| {
            answers(kind, &r.target_kind)
                && id.name == r.rendered_name
                && ns_of(o, id.namespace.as_deref()).as_ref() == Some(&ns)
        };
        (o.overlay.resources().iter()).any(|x| target(&x.kind, &x.rendered))
            || (o.overlay.generated().iter())
                .any(|g| !g.hash_suffix && target(g.kind.kind(), &g.rendered))
    };
    let clusters = ov.overlay.clusters();
    !clusters.is_empty()
        && clusters.iter().all(|c| {
            (cx.all_overlays().iter())
                .any(|o| o.dir != ov.dir && o.overlay.clusters().contains(c) && renders(o))
        })
}

/// True when `overlay` renders the target of `r` by its rendered name, in any namespace.
fn renders_anywhere(overlay: &Overlay, r: &Reference) -> bool {
    let target = |kind: &str| answers(kind, &r.target_kind);
    (overlay.resources().iter()).any(|x| target(&x.kind) && x.rendered.name == r.rendered_name)
        || (overlay.generated().iter())
            .any(|g| !g.hash_suffix && target(g.kind.kind()) && g.rendered.name == r.rendered_name)
}

/// Whether an object of `kind` answers a reference to `target_kind`: its own kind, or a
/// SealedSecret for a Secret (the controller makes the one from the other; no other
/// SealedSecret reference is judged).
fn answers(kind: &str, target_kind: &str) -> bool {
    kind == target_kind || (kind == "SealedSecret" && target_kind == "Secret")
}

/// Whether the rule judges a reference of this field and target kind.
fn judged(r: &Reference) -> bool {
    match r.target_kind.as_str() {
        "Secret" => r.field != RefField::IngressTls,
        "ConfigMap" | "ServiceAccount" | "PersistentVolumeClaim" | "TriggerAuthentication" => true,
        _ => false,
    }
}

/// Reports unresolved references, in each model an environment is deployed as (its own, and
/// each variant's).
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let judge = |ov| judge_deployments(ov, |d| unresolved(cx, d));
    cx.overlays().flat_map(judge).collect()
}

/// The unresolved references of one model. What another overlay renders beside it is judged
/// by the objects deploying the environment (a variant is deployed in its place).
fn unresolved(cx: &Context<'_>, d: &Deployment<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let rendered = Rendered::of(d.overlay);
    for r in d.overlay.references() {
        if r.resolution != Resolution::Unresolved || r.optional {
            continue;
        }
        if !judged(r)
            || created_at_run_time(
                cx,
                &rendered,
                &r.target_kind,
                &r.rendered_name,
                r.referrer.namespace.as_deref(),
            )
            || rendered_beside(cx, d.env, r)
        {
            continue;
        }
        // KEDA reads a (cluster-scoped) ClusterTriggerAuthentication's Secrets from its own
        // namespace, an install setting (keda `pkg/util/env.go`
        // `GetClusterObjectNamespace`: `KEDA_CLUSTER_OBJECT_NAMESPACE`, default `keda`):
        // any namespace the overlay renders the Secret in may be that one.
        let cluster_auth = r.referrer_kind == "ClusterTriggerAuthentication";
        if cluster_auth && renders_anywhere(d.overlay, r) {
            continue;
        }
        // An object of the target kind that was renamed away from the written name.
        let renamed = rendered.renamed(r);
        let place = match r.referrer.namespace.as_deref() {
            _ if cluster_auth => "in any namespace (KEDA reads a ClusterTriggerAuthentication's Secrets from its own namespace, `keda` by default)".to_owned(),
            Some(ns) => format!("in namespace {ns}"),
            None => "in namespace <no namespace>".to_owned(),
        };
        let mut message = format!(
            "overlay {}: {} `{}` names {} `{}`, which the overlay does not render {place}",
            d.label(),
            r.referrer_kind,
            r.referrer.name,
            r.target_kind,
            r.rendered_name
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
    out
}
