//! Rule `scope-annotation-misplaced`: a `SealedSecret` whose scope annotation
//! (`sealedsecrets.bitnami.com/namespace-wide` or `cluster-wide`) is only in
//! `spec.template.metadata`, or whose top-level value is not exactly the string `"true"`.
//!
//! The controller reads the scope from the object's own top-level metadata
//! (sealed-secrets `pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go`
//! `SecretScope`/`EncryptionLabel`), comparing the value with `"true"`; kubeseal also copies it
//! into the template, where it has no effect on decryption.

use yaml_serde::Value;

use super::View;
use super::yamldocs::docs_of_kind;
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};
use crate::render::SCOPE_ANNOTATIONS;

pub static META: RuleMeta = RuleMeta {
    id: "scope-annotation-misplaced",
    summary: "A SealedSecret scope annotation is not at top-level metadata, or its value is not exactly \"true\"",
    default_severity: Severity::Error,
    hint: "set `sealedsecrets.bitnami.com/<scope>: \"true\"` (quoted) under the SealedSecret's top-level metadata.annotations, then re-seal for that scope",
    scope: RuleScope::Tree,
};

/// Reports misplaced or malformed scope annotations.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for doc in docs_of_kind(cx, "SealedSecret") {
        let name = doc.name();
        for ann in SCOPE_ANNOTATIONS {
            let top_path = ["metadata", "annotations", ann];
            let tmpl_path = ["spec", "template", "metadata", "annotations", ann];
            match (doc.get(&top_path), doc.get(&tmpl_path)) {
                // "false" is an explicit choice kubeseal and `emp-seal --rescope` write.
                (Some(Value::String(s)), _) if s == "true" || s == "false" => {}
                (Some(v), _) => {
                    let what = match v {
                        Value::Bool(true) => {
                            "the YAML boolean true, not the string \"true\" (quote it)"
                        }
                        Value::String(_) => {
                            "a string other than exactly \"true\", so the controller ignores it"
                        }
                        _ => "not the string \"true\"",
                    };
                    let message = format!("SealedSecret `{name}`: annotation `{ann}` is {what}");
                    out.push(Finding::new(&META, doc.location(&top_path), message));
                }
                (None, Some(_)) => {
                    let message = format!(
                        "SealedSecret `{name}`: annotation `{ann}` is only in spec.template.metadata; the controller reads the scope from top-level metadata"
                    );
                    out.push(Finding::new(&META, doc.location(&tmpl_path), message));
                }
                (None, None) => {}
            }
        }
    }
    out
}
