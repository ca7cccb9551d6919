//! Rule `identity-mismatch`: a `SealedSecret`'s rendered name, namespace or scope differs from
//! the identity its values were sealed for.
//!
//! The identity sealed for is emp-seal's record (`emp-seal.dev/sealed-for: <scope> <ns>/<name>`)
//! when present; otherwise what the file itself claims (`metadata.namespace` as written and
//! `spec.template.metadata` name and namespace). Which parts matter depends on the scope
//! (sealed-secrets `EncryptionLabel`: strict binds namespace and name, namespace-wide only the
//! namespace, cluster-wide neither). Never quotes values.

use super::Context;
use super::locate::{at_line, at_yaml};
use super::model::{path_str, sealed_doc, sealed_sources};
use crate::crypto::Scope;
use crate::finding::{Finding, Location, RuleMeta, RuleScope, Severity};
use crate::kustomize::SecretSource;
use crate::sealedsecret::SEALED_FOR_ANNOTATION;

/// The rule's metadata.
pub static META: RuleMeta = RuleMeta {
    id: "identity-mismatch",
    summary: "A SealedSecret's rendered name or namespace differs from the identity it was sealed for",
    default_severity: Severity::Error,
    hint: "re-seal for the rendered name and namespace (emp-seal <env> --from FILE), or undo the overlay's rename",
    scope: RuleScope::Model,
};

/// Parses a `sealed-for` record: `<scope> <namespace>/<name>`.
pub fn parse_record(value: &str) -> Option<(Scope, String, String)> {
    let (scope, id) = value.trim().split_once(' ')?;
    let scope = match scope {
        "strict" => Scope::Strict,
        "namespace-wide" => Scope::NamespaceWide,
        "cluster-wide" => Scope::ClusterWide,
        _ => return None,
    };
    let (ns, name) = id.trim().split_once('/')?;
    Some((scope, ns.to_string(), name.to_string()))
}

/// Reports every `SealedSecret` whose rendered identity differs from the one it was sealed for.
pub fn check(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for ov in cx.overlays() {
        for src in sealed_sources(ov) {
            let SecretSource::Sealed {
                file,
                doc_index,
                line,
                name_in_file,
                rendered,
                ..
            } = src
            else {
                continue;
            };
            let path = path_str(&file);
            let Some(doc) = sealed_doc(cx, &path, name_in_file.as_str()) else {
                continue;
            };
            let r_ns = rendered.namespace.clone().unwrap_or_default();
            let shown = format!("{}/{}", r_ns, rendered.name);
            let annotation_loc = || {
                at_yaml(
                    cx,
                    &path,
                    doc_index,
                    &["metadata", "annotations", SEALED_FOR_ANNOTATION],
                )
            };
            let mut push = |loc: Location, message: String| {
                out.push(Finding::builder(&META, loc, message).build());
            };
            if let Some(record) = doc.annotation(SEALED_FOR_ANNOTATION) {
                let Some((scope, ns, name)) = parse_record(record) else {
                    push(
                        annotation_loc(),
                        format!(
                            "overlay {}: SealedSecret `{}`: annotation `{SEALED_FOR_ANNOTATION}` is not `<scope> <namespace>/<name>`",
                            ov.name, rendered.name
                        ),
                    );
                    continue;
                };
                if scope != doc.scope {
                    push(
                        annotation_loc(),
                        format!(
                            "overlay {}: SealedSecret `{}` was sealed with {} scope but declares {} scope",
                            ov.name,
                            rendered.name,
                            scope.as_str(),
                            doc.scope.as_str()
                        ),
                    );
                    continue;
                }
                let differs = match scope {
                    Scope::Strict => ns != r_ns || name != rendered.name,
                    Scope::NamespaceWide => ns != r_ns,
                    Scope::ClusterWide => false,
                };
                if differs {
                    push(
                        annotation_loc(),
                        format!(
                            "overlay {}: SealedSecret was sealed for {ns}/{name} ({} scope) but renders as {shown}",
                            ov.name,
                            scope.as_str()
                        ),
                    );
                }
                continue;
            }
            // No record: the file's own claims.
            let scope = doc.scope;
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
                    &rendered.name,
                    &["spec", "template", "metadata", "name"][..],
                    scope == Scope::Strict,
                ),
            ];
            for (what, found, want, keys, matters) in claims {
                let Some(found) = found else { continue };
                if !matters || found == want {
                    continue;
                }
                let loc = at_yaml(cx, &path, doc_index, keys);
                let loc = if loc.line == 1 && line > 1 {
                    at_line(cx, &path, line)
                } else {
                    loc
                };
                push(
                    loc,
                    format!(
                        "overlay {}: SealedSecret says {what} `{found}` ({} scope) but renders as {shown}",
                        ov.name,
                        scope.as_str()
                    ),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse() {
        assert_eq!(
            parse_record("strict emp-paper/emp-secrets"),
            Some((Scope::Strict, "emp-paper".into(), "emp-secrets".into()))
        );
        assert_eq!(
            parse_record("cluster-wide /x").map(|r| r.0),
            Some(Scope::ClusterWide)
        );
        assert!(parse_record("strict nope").is_none());
        assert!(parse_record("wide a/b").is_none());
    }
}
