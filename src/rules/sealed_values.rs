//! The `spec.encryptedData` values of every `SealedSecret` in the tree, with their locations,
//! shared by the ciphertext rules.
//!
//! A lenient reader over [`yamldocs`](super::yamldocs), kept apart from the `sealedsecret`
//! module's span-exact reader on purpose: that one refuses whole files it could not edit in place
//! (JSON, flow style, anchors), whose values these rules must still check (docs/rules.md, "How
//! rules read SealedSecrets"). Values are ciphertext (or placeholders), not secrets; still, rules
//! only pass them to the classifier and never into messages.

use std::borrow::Cow;

use yaml_serde::Value;

use super::Context;
use super::locate::at_line;
use super::model::OverlayModel;
use super::yamldocs::{YamlDoc, repository_docs_of_kind};
use crate::finding::{Finding, RuleMeta, RuleScope};
use crate::sealedsecret::ciphertext::{Kind, classify};

/// One sealed value and where it is written.
struct Sealed<'a> {
    /// The SealedSecret's name.
    name: &'a str,
    key: &'a str,
    value: Cow<'a, str>,
    /// The file whose environment's certificate the value is checked against.
    file: Cow<'a, str>,
    place: Place<'a>,
}

enum Place<'a> {
    /// In a SealedSecret document.
    Doc(&'a YamlDoc<'a>),
    /// Written by a patch the documents do not show (`kustomize::WrittenValue`), at this line.
    Patch(usize),
}

/// Classifies every `encryptedData` value of every `kind: SealedSecret` document in `meta`'s
/// scope (the checked tree, or every file read for a repository-wide rule), and every value a
/// patch writes into a SealedSecret outside such a document, and reports the reasons of one kind
/// under `meta`.
pub(crate) fn check_kind(cx: &Context<'_>, meta: &'static RuleMeta, kind: Kind) -> Vec<Finding> {
    use rayon::prelude::*;
    let repository = meta.scope == RuleScope::Repository;
    let mut values: Vec<Sealed<'_>> = repository_docs_of_kind(cx, "SealedSecret")
        .filter(|d| repository || !d.file.repository_only)
        .filter_map(|doc| match doc.get(&["spec", "encryptedData"]) {
            Some(Value::Mapping(data)) => Some((doc, data)),
            _ => None,
        })
        .flat_map(|(doc, data)| {
            data.iter().filter_map(move |(k, v)| {
                Some(Sealed {
                    name: doc.name(),
                    key: k.as_str()?,
                    value: scalar_text(v),
                    file: Cow::Borrowed(&doc.file.path),
                    place: Place::Doc(doc),
                })
            })
        })
        .collect();
    values.extend(patched(cx, repository));
    // Classified in parallel: a monorepo holds thousands of sealed values.
    let verdicts: Vec<_> = values
        .par_iter()
        .map(|v| classify(&v.value, cx.key_for(&v.file)))
        .collect();
    let mut out = Vec::new();
    for (v, verdict) in values.into_iter().zip(verdicts) {
        let reasons: Vec<String> = verdict
            .reasons()
            .iter()
            .filter(|r| r.kind() == kind)
            .map(ToString::to_string)
            .collect();
        if reasons.is_empty() {
            continue;
        }
        let (key, name, reasons) = (v.key, v.name, reasons.join("; "));
        let (location, message) = match v.place {
            Place::Doc(doc) => (
                doc.location(&["spec", "encryptedData", key]),
                format!("`{key}` in SealedSecret `{name}`: {reasons}"),
            ),
            Place::Patch(line) => (
                at_line(cx, &v.file, line),
                format!("`{key}` in SealedSecret `{name}`, as this patch writes it: {reasons}"),
            ),
        };
        out.push(Finding::new(meta, location, message));
    }
    out
}

/// The values patches write into SealedSecrets where no SealedSecret document shows them, in
/// the checked overlays (every loaded overlay for a repository-wide rule), once each: a patch
/// in a shared base is built by every overlay that includes it.
fn patched<'c>(cx: &'c Context<'_>, repository: bool) -> Vec<Sealed<'c>> {
    let overlays: Vec<&OverlayModel> = if repository {
        cx.all_overlays().iter().collect()
    } else {
        cx.overlays().collect()
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    let written = overlays.iter().flat_map(|o| o.overlay.written_values());
    for w in written.filter(|w| !w.in_document) {
        let Some(value) = &w.ciphertext else { continue };
        let file = w.origin.file.to_string_lossy();
        if seen.insert((file.clone(), w.origin.line, w.key.as_str())) {
            out.push(Sealed {
                name: &w.name,
                key: &w.key,
                value: Cow::Borrowed(value),
                file,
                place: Place::Patch(w.origin.line),
            });
        }
    }
    out
}

/// A value as the classifier sees it: a string as written, a number or boolean as its YAML text
/// (`12` is no ciphertext, but it is not empty either); null, a list or a mapping as empty.
fn scalar_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        Value::Number(n) => Cow::Owned(n.to_string()),
        Value::Bool(b) => Cow::Owned(b.to_string()),
        _ => Cow::Borrowed(""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_or_boolean_is_classified_as_written_not_as_empty() {
        let v = |yaml: &str| yaml_serde::from_str::<Value>(yaml).unwrap();
        assert_eq!(scalar_text(&v("12")), "12");
        assert_eq!(scalar_text(&v("true")), "true");
        assert_eq!(scalar_text(&v("AgB=")), "AgB=");
        assert_eq!(scalar_text(&v("~")), "");
        assert_eq!(scalar_text(&v("[1]")), "");
    }
}
