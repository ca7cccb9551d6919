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
use super::yamldocs::{YamlDoc, repository_docs_of_kind};
use crate::finding::{Finding, RuleMeta, RuleScope};
use crate::sealedsecret::ciphertext::{Kind, classify};

/// Classifies every `encryptedData` value of every `kind: SealedSecret` document in `meta`'s
/// scope (the checked tree, or every file read for a repository-wide rule) and reports the
/// reasons of one kind under `meta`.
pub(crate) fn check_kind(cx: &Context<'_>, meta: &'static RuleMeta, kind: Kind) -> Vec<Finding> {
    use rayon::prelude::*;
    let repository = meta.scope == RuleScope::Repository;
    // (document, key, value); a non-string YAML value is given as empty.
    let values: Vec<(&YamlDoc<'_>, &str, &str)> = repository_docs_of_kind(cx, "SealedSecret")
        .filter(|d| repository || !d.file.repository_only)
        .filter_map(|doc| match doc.get(&["spec", "encryptedData"]) {
            Some(Value::Mapping(data)) => Some((doc, data)),
            _ => None,
        })
        .flat_map(|(doc, data)| {
            data.iter()
                .filter_map(move |(k, v)| Some((doc, k.as_str()?, v.as_str().unwrap_or_default())))
        })
        .collect();
    // Classified in parallel: a monorepo holds thousands of sealed values.
    let verdicts: Vec<_> = values
        .par_iter()
        .map(|(doc, _, value)| classify(value, cx.key_for(&doc.file.path)))
        .collect();
    let mut out = Vec::new();
    for ((doc, key, _), verdict) in values.into_iter().zip(verdicts) {
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
            "`{key}` in SealedSecret `{}`: {}",
            doc.name(),
            reasons.join("; ")
        );
        let location = doc.location(&["spec", "encryptedData", key]);
        out.push(Finding::new(meta, location, message));
    }
    out
}
