//! Rule `identity-mismatch`: a `SealedSecret`'s rendered name, namespace or scope differs from
//! the identity its values were sealed for.
//!
//! A file the overlay renders with another scope than it declares (scope annotations added or
//! removed by `commonAnnotations`, a patch or a component) is one finding, whatever its record
//! says: the controller decrypts under the rendered scope, and `seal` refuses such a file.
//!
//! The identity sealed for is emp-seal's record (`emp-seal.dev/sealed-for: <scope> <ns>/<name>`)
//! when present; otherwise what the file itself claims (`metadata.namespace` as written and
//! `spec.template.metadata` name and namespace). Which parts matter depends on the scope
//! (sealed-secrets `EncryptionLabel`: strict binds namespace and name, namespace-wide only the
//! namespace, cluster-wide neither). Never quotes values.

use super::locate::{at_line, at_sealed};
use super::{Context, View};
use crate::crypto::Scope;
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};
use crate::kustomize::{Identity, SealedRef};
use crate::sealedsecret::{SEALED_FOR_ANNOTATION, SealedFor, SealedSecretDoc};

pub static META: RuleMeta = RuleMeta {
    id: "identity-mismatch",
    summary: "A SealedSecret's rendered name or namespace differs from the identity it was sealed for",
    default_severity: Severity::Error,
    hint: "re-seal for the rendered name and namespace (emp-seal <env> --from FILE), or undo the overlay's rename",
    scope: RuleScope::Model,
};

/// Reports every `SealedSecret` whose rendered identity differs from the one it was sealed for,
/// as each checked environment renders it and as each of its variants does (a kustomization
/// wrapping the overlay, deployed in its place, may rename, move or re-scope it). A variant is
/// reported only where it renders a `SealedSecret` otherwise than its environment does.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for ov in cx.overlays() {
        let own: Vec<SealedRef> = ov.overlay.sealed_secret_sources().collect();
        out.extend(mismatches(cx, &ov.name, &own));
        // Each variant kustomize can build (`OverlayModel::deployments` after the environment's
        // own model).
        for d in ov.deployments().skip(1) {
            let changed: Vec<SealedRef> = (d.overlay.sealed_secret_sources())
                .filter(|s| {
                    !own.iter().any(|o| {
                        (o.path(), o.doc_index, o.line, &o.rendered, o.scope)
                            == (s.path(), s.doc_index, s.line, &s.rendered, s.scope)
                    })
                })
                .collect();
            let why = d.variant_not_modelled();
            out.extend(
                mismatches(cx, &d.label(), &changed)
                    .into_iter()
                    .map(|mut f| {
                        f.unverified = why.clone();
                        f
                    }),
            );
        }
    }
    out
}

/// The findings for `sources`, rendered by `overlay` (a label for messages).
fn mismatches(cx: &Context<'_>, overlay: &str, sources: &[SealedRef]) -> Vec<Finding> {
    let mut out = Vec::new();
    for src in sources {
        let Some(doc) = src.doc(cx) else { continue };
        let subject = Subject { cx, overlay, src };
        if src.scope != doc.scope {
            out.push(subject.scope_mismatch(&doc));
            continue;
        }
        if src.scope != Scope::ClusterWide && src.rendered.namespace.is_none() {
            out.push(subject.no_namespace());
            continue;
        }
        match doc.annotation(SEALED_FOR_ANNOTATION) {
            Some(record) => out.extend(subject.record_mismatch(&doc, record)),
            None => out.extend(subject.claim_mismatches(&doc)),
        }
    }
    out
}

/// One rendered `SealedSecret` of an overlay.
struct Subject<'a, 'c> {
    cx: &'a Context<'c>,
    overlay: &'a str,
    src: &'a SealedRef,
}

impl Subject<'_, '_> {
    /// Its document and `metadata.name` line, which place it in a `List` too
    /// ([`at_sealed`]).
    fn at(&self) -> (usize, usize) {
        (self.src.doc_index, self.src.line)
    }

    fn rendered_namespace(&self) -> String {
        self.src.rendered.namespace.clone().unwrap_or_default()
    }

    /// The rendered identity. Shown only for a strict or namespace-wide `SealedSecret`, which
    /// has a namespace here (one without is `no_namespace`'s).
    fn shown(&self) -> String {
        self.src.rendered.to_string()
    }

    /// The finding for a file whose overlay renders it with another scope than it declares
    /// (`commonAnnotations`, a patch, a component): the controller reads the rendered
    /// annotations, so values sealed for the file's own scope do not decrypt.
    fn scope_mismatch(&self, doc: &SealedSecretDoc) -> Finding {
        let keys = ["metadata", "annotations"];
        let loc = at_sealed(self.cx, &self.src.path(), self.at(), &keys);
        let loc = if loc.line == 1 && self.src.line > 1 {
            at_line(self.cx, &self.src.path(), self.src.line)
        } else {
            loc
        };
        let message = format!(
            "overlay {}: SealedSecret `{}` declares {} scope but renders with {} scope (the controller decrypts under the rendered annotations)",
            self.overlay,
            self.src.rendered.name,
            doc.scope.as_str(),
            self.src.scope.as_str()
        );
        Finding::new(&META, loc, message)
            .hint("declare the rendered scope in the file itself and re-seal (emp-seal <env> --from FILE), or drop the scope annotation the overlay adds")
    }

    /// The finding for a strict or namespace-wide `SealedSecret` that renders without a
    /// namespace: the label it decrypts under is then the namespace it is applied in (the
    /// kubectl context's, Argo CD's `destination.namespace`), which the tree does not fix, and
    /// which `seal` refuses to guess.
    fn no_namespace(&self) -> Finding {
        let loc = at_line(self.cx, &self.src.path(), self.src.line);
        let message = format!(
            "overlay {}: SealedSecret `{}` renders without a namespace, so the namespace it is applied in decides whether its {} scope values decrypt, and nothing in the tree fixes that namespace",
            self.overlay,
            self.src.rendered.name,
            self.src.scope.as_str()
        );
        Finding::new(&META, loc, message).hint(
            "set `namespace:` in the overlay's kustomization (or in the SealedSecret) and re-seal (emp-seal <env> --from FILE), or seal it cluster-wide",
        )
    }

    /// The finding for an emp-seal record that is malformed, names another scope than the
    /// file declares, or names another identity than the rendered one (as far as the scope
    /// binds it).
    fn record_mismatch(&self, doc: &SealedSecretDoc, record: &str) -> Option<Finding> {
        let (overlay, rendered) = (self.overlay, &self.src.rendered);
        let message = match SealedFor::parse(record) {
            None => format!(
                "overlay {overlay}: SealedSecret `{}`: annotation `{SEALED_FOR_ANNOTATION}` is not `<scope> <namespace>/<name>`",
                rendered.name
            ),
            Some(r) if r.scope != doc.scope => format!(
                "overlay {overlay}: SealedSecret `{}` was sealed with {} scope but declares {} scope",
                rendered.name,
                r.scope.as_str(),
                doc.scope.as_str()
            ),
            Some(SealedFor {
                scope,
                namespace: ns,
                name,
            }) => {
                let r_ns = self.rendered_namespace();
                let differs = match scope {
                    Scope::Strict => ns != r_ns || name != rendered.name,
                    Scope::NamespaceWide => ns != r_ns,
                    Scope::ClusterWide => false,
                };
                if !differs {
                    return None;
                }
                let sealed_for = Identity {
                    name,
                    namespace: Some(ns),
                };
                format!(
                    "overlay {overlay}: SealedSecret was sealed for {sealed_for} ({} scope) but renders as {}",
                    scope.as_str(),
                    self.shown()
                )
            }
        };
        let keys = ["metadata", "annotations", SEALED_FOR_ANNOTATION];
        let loc = at_sealed(self.cx, &self.src.path(), self.at(), &keys);
        Some(Finding::new(&META, loc, message))
    }

    /// Without a record: each of the file's own identity claims that the scope binds and that
    /// differs from the rendered identity.
    fn claim_mismatches(&self, doc: &SealedSecretDoc) -> Vec<Finding> {
        let scope = doc.scope;
        let r_ns = self.rendered_namespace();
        let claims = [
            (
                "metadata.namespace",
                doc.namespace.as_ref(),
                &r_ns,
                &["metadata", "namespace"][..],
                scope != Scope::ClusterWide,
            ),
            (
                "spec.template.metadata.namespace",
                doc.template.namespace.as_ref(),
                &r_ns,
                &["spec", "template", "metadata", "namespace"][..],
                scope != Scope::ClusterWide,
            ),
            (
                "spec.template.metadata.name",
                doc.template.name.as_ref(),
                &self.src.rendered.name,
                &["spec", "template", "metadata", "name"][..],
                scope == Scope::Strict,
            ),
            // Without a template name, the written name is the one kubeseal sealed for: the
            // controller decrypts with the name the object renders as (sealed-secrets
            // `pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go`, `Unseal`).
            (
                "metadata.name",
                doc.name.as_ref().filter(|_| doc.template.name.is_none()),
                &self.src.rendered.name,
                &["metadata", "name"][..],
                scope == Scope::Strict,
            ),
        ];
        let mut out = Vec::new();
        for (what, found, want, keys, matters) in claims {
            let Some(found) = found else { continue };
            if !matters || found == want {
                continue;
            }
            let (path, line) = (&self.src.path(), self.src.line);
            let loc = at_sealed(self.cx, path, self.at(), keys);
            let loc = if loc.line == 1 && line > 1 {
                at_line(self.cx, path, line)
            } else {
                loc
            };
            let message = format!(
                "overlay {}: SealedSecret says {what} `{found}` ({} scope) but renders as {}",
                self.overlay,
                scope.as_str(),
                self.shown()
            );
            out.push(Finding::new(&META, loc, message));
        }
        out
    }
}
