//! Rule `dangling-reference`: a rendered object names a Secret, `TriggerAuthentication` or
//! `ServiceAccount` that the overlay does not render, with names computed as kustomize renders
//! them (the overlay model replays prefixes, suffixes, namespaces, generator hashes and which
//! fields kustomize rewrites).
//!
//! Not judged: `optional: true` references; the `default` `ServiceAccount` (every namespace has
//! one); Ingress TLS Secrets and `imagePullSecrets`, which are commonly provisioned outside the
//! tree (cert-manager, registry credentials). When the reference is not rewritten by kustomize
//! and an object of that kind was renamed from the written name, the message says so.

use super::Context;
use super::locate::at_line;
use super::model::path_str;
use crate::finding::{Finding, RuleMeta, Severity};
use crate::kustomize::{RefField, Resolution};

/// The rule's metadata.
pub static META: RuleMeta = RuleMeta {
    id: "dangling-reference",
    summary: "A rendered object names a Secret, TriggerAuthentication or ServiceAccount that does not exist after rendering",
    default_severity: Severity::Error,
    hint: "create the object in the overlay or fix the name; remember that namePrefix and nameSuffix do not rewrite names inside custom resources",
};

/// Reports unresolved references.
pub fn check(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for ov in cx.overlays() {
        for r in ov.overlay.references() {
            if r.resolution != Resolution::Unresolved || r.optional {
                continue;
            }
            let judged = match r.target_kind.as_str() {
                "Secret" => !matches!(r.field, RefField::IngressTls | RefField::ImagePullSecret),
                "TriggerAuthentication" => true,
                "ServiceAccount" => r.rendered_name != "default",
                _ => false,
            };
            if !judged {
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
                            let name = if g.hash_suffix {
                                format!("{}-<hash>", g.rendered.name)
                            } else {
                                g.rendered.name.clone()
                            };
                            (&g.original.name, name)
                        }),
                )
                .find(|(orig, rendered)| **orig == r.name && *rendered != r.rendered_name)
                .map(|(_, rendered)| rendered);
            let ns = r.referrer.namespace.as_deref().unwrap_or("<no namespace>");
            let mut message = format!(
                "overlay {}: {} `{}` names {} `{}`, which the overlay does not render in namespace {ns}",
                ov.name, r.referrer_kind, r.referrer.name, r.target_kind, r.rendered_name
            );
            if let Some(rendered) = renamed {
                if r.rewritable {
                    message.push_str(&format!("; it renders as `{rendered}`"));
                } else {
                    message.push_str(&format!(
                        "; it renders as `{rendered}`, and kustomize does not rewrite this field"
                    ));
                }
            }
            let loc = at_line(cx, &path_str(&r.origin.file), r.origin.line);
            out.push(Finding::builder(&META, loc, message).build());
        }
    }
    out
}
