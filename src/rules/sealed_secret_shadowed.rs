//! Rule `sealed-secret-shadowed`: an overlay renders a Secret with the name and namespace of the
//! Secret one of its `SealedSecret`s unseals into.
//!
//! Both are applied; the Secret kustomize rendered (a generator without a hash suffix, or a
//! `kind: Secret` resource) exists first or is re-applied over the controller's, and the
//! sealed-secrets controller does not take over a Secret it did not create (upstream
//! `pkg/controller/controller.go`: "already exists and is not managed by SealedSecret") unless
//! that Secret carries `sealedsecrets.bitnami.com/managed: "true"`. Either way the workloads
//! read the rendered Secret's values, not the sealed ones: a generator left in place while
//! moving an environment to a `SealedSecret` is the usual cause. A generator whose name gets
//! the content-hash suffix renders under another name and is not a collision.

use super::locate::at_line;
use super::model::Deployment;
use super::{Context, View, judge_deployments};
use crate::finding::{Finding, Location, RuleMeta, RuleScope, Severity};
use crate::kustomize::{GeneratedKind, Identity};
use crate::workspace::path_str;

pub static META: RuleMeta = RuleMeta {
    id: "sealed-secret-shadowed",
    summary: "An overlay renders a Secret with the name and namespace a SealedSecret unseals into, so the sealed values never reach the workloads",
    default_severity: Severity::Error,
    hint: "remove the Secret or generator the overlay still renders under that name (or give the generator its hash suffix back), so that the controller creates the Secret",
    scope: RuleScope::Model,
};

/// The annotation by which an existing Secret lets the controller take it over.
const MANAGED: &str = "sealedsecrets.bitnami.com/managed";

/// Reports every `SealedSecret` of the overlay in focus whose Secret another rendered object
/// already is, in each model its environment is deployed as (its own, and each variant's).
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let judge = |ov| judge_deployments(ov, |d| shadowed(cx, d));
    cx.overlays().flat_map(judge).collect()
}

/// The shadowed `SealedSecret`s of one model.
fn shadowed(cx: &Context<'_>, d: &Deployment<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let managed = |annotations: &[(String, String)]| {
        annotations.iter().any(|(k, v)| k == MANAGED && v == "true")
    };
    let mut secrets: Vec<(&Identity, Location, &str)> = Vec::new();
    for g in d.overlay.generated() {
        let Some(first) = g.specs.first() else {
            continue;
        };
        if g.kind == GeneratedKind::Secret && !g.hash_suffix && !managed(&g.annotations) {
            let at = Location::new(path_str(&first.origin.file), line(first.origin.line), 1);
            secrets.push((&g.rendered, at, "the secret generator"));
        }
    }
    for r in d.overlay.resources() {
        if r.kind == "Secret" && r.api_version == "v1" && !managed(&r.annotations) {
            let at = Location::new(path_str(&r.origin.file), line(r.name_line), 1);
            secrets.push((&r.rendered, at, "the Secret"));
        }
    }
    for src in d.overlay.sealed_secret_sources() {
        let Some((_, at, what)) = secrets.iter().find(|(id, ..)| **id == src.rendered) else {
            continue;
        };
        let message = format!(
            "overlay {}: SealedSecret `{}` unseals into Secret `{}`, which {what} at {}:{} also renders: the controller does not take over a Secret it did not create, so the workloads read that one's values, not the sealed ones",
            d.label(),
            src.rendered.name,
            src.rendered,
            at.path,
            at.line
        );
        let f = Finding::new(&META, at_line(cx, &src.path(), src.line), message);
        out.push(f.related(at.clone()));
    }
    out
}

fn line(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
