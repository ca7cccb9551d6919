//! Rule `missing-secret-key`: a rendered workload reads, by key, a key that the Secret its
//! overlay produces does not have (non-optional `secretKeyRef`, secret volume `items[].key`,
//! KEDA `TriggerAuthentication` `secretTargetRef[].key`, an Ingress's TLS `tls.crt`/`tls.key`), or pulls images with a Secret whose
//! type is not a registry type, whose `.dockerconfigjson` the kubelet then never reads.
//!
//! The Secret's keys come from the overlay model: a `SealedSecret`'s `encryptedData` (as
//! rendered, after patches) and `spec.template.data` keys, a `v1` Secret's `data`/`stringData`
//! keys (as rendered), or a generator's keys
//! (an env file not present locally counts with its `.example`'s keys). When those are unknown
//! the reference is not judged. `envFrom` reads every key and names none, so it cannot miss one:
//! the environment's key set is `example-sealed-mismatch`'s business.

use std::collections::BTreeSet;

use yaml_serde::Value;

use super::locate::at_line;
use super::model::{Deployment, generated_keys, sealed_doc, sealed_keys};
use super::yamldocs::named_docs;
use super::{Context, View, judge_deployments};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};
use crate::kustomize::{Overlay, RefField, Resolution};
use crate::workspace::path_str;

pub static META: RuleMeta = RuleMeta {
    id: "missing-secret-key",
    summary: "A rendered workload reads a Secret key that the overlay's Secret does not have",
    default_severity: Severity::Error,
    hint: "add the key to the env file and its .example and seal it, or mark the reference optional",
    scope: RuleScope::Model,
};

/// The keys the token controller writes into a `kubernetes.io/service-account-token` Secret.
pub const SERVICE_ACCOUNT_TOKEN_KEYS: [&str; 3] = ["token", "ca.crt", "namespace"];

/// The keys of the Secret a reference resolves to in `overlay` (an environment's model or a
/// variant's), when known (a service-account token Secret has [`SERVICE_ACCOUNT_TOKEN_KEYS`]
/// too, filled at run time).
pub fn secret_keys(
    cx: &Context<'_>,
    overlay: &Overlay,
    res: Resolution,
) -> Option<BTreeSet<String>> {
    match res {
        Resolution::Generated(i) => generated_keys(&cx.tree, overlay, i),
        Resolution::Resource(i) => {
            let r = overlay.resources().get(i)?;
            let (path, name) = (path_str(&r.origin.file), r.original.name.as_str());
            let namespace = r.original.namespace.as_deref();
            match r.kind.as_str() {
                "SealedSecret" => Some(sealed_keys(
                    &sealed_doc(cx, &path, name, namespace)?,
                    r.keys.as_ref(),
                )),
                "Secret" => {
                    // Found by name and namespace as written: a file may hold `db` in two.
                    let doc = named_docs(cx, &path, "Secret", (name, namespace)).next()?;
                    let mut keys = BTreeSet::new();
                    // The token controller fills a service-account token Secret's keys at run
                    // time (kubernetes pkg/controller/serviceaccount/tokens_controller.go).
                    if doc.get(&["type"]).and_then(Value::as_str)
                        == Some("kubernetes.io/service-account-token")
                    {
                        keys.extend(SERVICE_ACCOUNT_TOKEN_KEYS.map(str::to_owned));
                    }
                    keys.extend(r.keys.iter().flatten().cloned());
                    Some(keys)
                }
                _ => None,
            }
        }
        Resolution::Unresolved => None,
    }
}

/// The type of the Secret a reference resolves to in `overlay`, as it renders it (`Opaque`
/// when none is written): a Secret's `type` or a `SealedSecret`'s `spec.template.type` after
/// patches ([`crate::kustomize::Resource::secret_type`]), or a generated Secret's after patches
/// ([`crate::kustomize::Generated::secret_type`]). `None` for what the overlay does not render
/// as a Secret or `SealedSecret` (an unresolved reference).
fn secret_type(overlay: &Overlay, res: Resolution) -> Option<String> {
    match res {
        Resolution::Generated(i) => overlay.generated().get(i)?.secret_type.clone(),
        Resolution::Resource(i) => overlay.resources().get(i)?.secret_type.clone(),
        Resolution::Unresolved => None,
    }
}

/// Every `imagePullSecrets` entry naming a Secret of the model that is not of a registry type:
/// the kubelet reads `.dockerconfigjson` only from a `kubernetes.io/dockerconfigjson` Secret and
/// `.dockercfg` only from a `kubernetes.io/dockercfg` one, and skips any other Secret in silence
/// (kubernetes `pkg/credentialprovider/secrets/secrets.go`, `MakeDockerKeyring`), so the pull
/// goes without the credentials.
fn pull_secret_types(cx: &Context<'_>, d: &Deployment<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for r in d.overlay.references() {
        if r.field != RefField::ImagePullSecret {
            continue;
        }
        let Some(ty) = secret_type(d.overlay, r.resolution) else {
            continue;
        };
        if matches!(
            ty.as_str(),
            "kubernetes.io/dockerconfigjson" | "kubernetes.io/dockercfg"
        ) {
            continue;
        }
        let message = format!(
            "overlay {}: {} `{}` pulls images with Secret `{}`, which is of type `{ty}`: the kubelet reads registry credentials only from a `kubernetes.io/dockerconfigjson` Secret's `.dockerconfigjson` (or a `kubernetes.io/dockercfg` Secret's `.dockercfg`) and skips this one",
            d.label(),
            r.referrer_kind,
            r.referrer.name,
            r.rendered_name
        );
        let loc = at_line(cx, &path_str(&r.origin.file), r.origin.line);
        out.push(Finding::new(&META, loc, message).hint(
            "give the Secret `type: kubernetes.io/dockerconfigjson` (a SealedSecret's spec.template.type) with its `.dockerconfigjson` key, or name a registry Secret",
        ));
    }
    out
}

/// Reports every key a workload reads that its Secret lacks, and every image pull Secret that
/// is not of a registry type, in each model an environment is deployed as (its own, and each
/// variant's).
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let judge = |ov| {
        judge_deployments(ov, |d| {
            let mut out = pull_secret_types(cx, d);
            out.extend(missing_keys(cx, d));
            out
        })
    };
    cx.overlays().flat_map(judge).collect()
}

/// Every key a workload of one model reads that its Secret lacks.
fn missing_keys(cx: &Context<'_>, d: &Deployment<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    // Many workloads read one Secret: look its keys up once per model.
    let mut known: Vec<(Resolution, Option<BTreeSet<String>>)> = Vec::new();
    for r in d.overlay.references() {
        if r.target_kind != "Secret" || r.optional || r.keys.is_empty() {
            continue;
        }
        let i = known.iter().position(|(res, _)| *res == r.resolution);
        let i = i.unwrap_or_else(|| {
            known.push((r.resolution, secret_keys(cx, d.overlay, r.resolution)));
            known.len() - 1
        });
        let Some(have) = &known[i].1 else {
            continue;
        };
        // Each at its own `key:` line ([`crate::kustomize::Reference::keys`]).
        for (key, at) in &r.keys {
            if have.contains(key) {
                continue;
            }
            let message = format!(
                "overlay {}: {} `{}` reads key `{key}` of Secret `{}`, which does not have it",
                d.label(),
                r.referrer_kind,
                r.referrer.name,
                r.rendered_name
            );
            let loc = at_line(cx, &path_str(&at.file), at.line);
            out.push(Finding::new(&META, loc, message));
        }
    }
    out
}
