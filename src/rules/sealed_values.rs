//! The `spec.encryptedData` values of every `SealedSecret` in the tree, with their locations,
//! shared by the ciphertext rules.
//!
//! A lenient reader over [`yamldocs`](super::yamldocs), kept apart from the `sealedsecret`
//! module's span-exact reader on purpose: that one refuses whole files it could not edit in place
//! (JSON, flow style, anchors), whose values these rules must still check (docs/rules.md, "How
//! rules read SealedSecrets"). Values are ciphertext (or placeholders), not secrets; still, rules
//! only pass them to the classifier and never into messages.

use yaml_serde::Value;

use super::Context;
use super::yamldocs::repository_docs_of_kind;
use crate::finding::{Finding, Location, RuleMeta, RuleScope};
use crate::sealedsecret::ciphertext::{Kind, classify};

/// One `encryptedData` entry.
#[derive(Debug, Clone)]
pub struct SealedValue {
    pub location: Location,
    /// The `SealedSecret`'s `metadata.name` (empty when absent).
    pub object: String,
    pub key: String,
    /// The value text (a non-string YAML value is given as empty).
    pub value: String,
}

/// Every `encryptedData` entry of every `kind: SealedSecret` document of the checked tree, or of
/// every file read when `repository` is true.
pub fn sealed_values(cx: &Context<'_>, repository: bool) -> Vec<SealedValue> {
    let mut out = Vec::new();
    for doc in repository_docs_of_kind(cx, "SealedSecret")
        .filter(|d| repository || !d.file.repository_only)
    {
        let object = doc.name().to_string();
        let Some(Value::Mapping(data)) = doc.get(&["spec", "encryptedData"]) else {
            continue;
        };
        for (k, v) in data {
            let Some(key) = k.as_str() else { continue };
            out.push(SealedValue {
                location: doc.location(&["spec", "encryptedData", key]),
                object: object.clone(),
                key: key.to_string(),
                value: v.as_str().unwrap_or_default().to_string(),
            });
        }
    }
    out
}

/// Classifies every sealed value in `meta`'s scope and reports the reasons of one kind under
/// `meta`.
pub(crate) fn check_kind(cx: &Context<'_>, meta: &'static RuleMeta, kind: Kind) -> Vec<Finding> {
    use rayon::prelude::*;
    let values = sealed_values(cx, meta.scope == RuleScope::Repository);
    // Classified in parallel: a monorepo holds thousands of sealed values.
    let verdicts: Vec<_> = values
        .par_iter()
        .map(|sv| classify(&sv.value, cx.key_for(&sv.location.path)))
        .collect();
    let mut out = Vec::new();
    for (sv, verdict) in values.into_iter().zip(verdicts) {
        let reasons: Vec<String> = verdict
            .reasons()
            .iter()
            .filter(|r| r.kind() == kind)
            .map(ToString::to_string)
            .collect();
        if reasons.is_empty() {
            continue;
        }
        let message = format!(
            "`{}` in SealedSecret `{}`: {}",
            sv.key,
            sv.object,
            reasons.join("; ")
        );
        out.push(Finding::new(meta, sv.location, message));
    }
    out
}
