//! The `spec.encryptedData` values of every `SealedSecret` in the tree, with their locations,
//! shared by the ciphertext rules.
//!
//! A lenient reader over [`yamldocs`](super::yamldocs), kept apart from the `sealedsecret`
//! module's span-exact reader on purpose: that one refuses whole files it could not edit in place
//! (JSON, flow style, anchors), whose values these rules must still check (docs/rules.md, "How
//! rules read SealedSecrets"). Values are ciphertext (or placeholders), not secrets; still, rules
//! only pass them to the classifier and never into messages.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use yaml_serde::Value;

use super::locate::at_line;
use super::model::{CertModel, OverlayModel};
use super::yamldocs::{YamlDoc, repository_docs_of_kind};
use super::{Context, View};
use crate::cert::Certificate;
use crate::crypto::RsaPublicKey;
use crate::finding::{Finding, RuleMeta, RuleScope};
use crate::sealedsecret::ciphertext::{Kind, classify};
use crate::workspace::path_str;

/// One sealed value and where it is written.
pub(crate) struct Sealed<'a> {
    /// The SealedSecret's name.
    name: &'a str,
    key: &'a str,
    /// The text the classifier reads, or what the YAML value is when it is no string
    /// ([`value_of`]).
    value: Result<Cow<'a, str>, &'static str>,
    /// The file it is written in.
    file: Cow<'a, str>,
    /// The environments that render it (that build the patch, for a patch's value): it is
    /// checked against each one's certificate; when none of them has one, against the key the
    /// context holds for its file ([`Context::key_for`]).
    envs: Vec<&'a OverlayModel>,
    /// Whether an environment being checked renders it (builds the patch writing it), rather
    /// than only others ([`Sealed::envs`] then holds those).
    checked: bool,
    place: Place<'a>,
}

impl Sealed<'_> {
    /// The value's text; `None` when the YAML value is no string.
    pub(crate) fn text(&self) -> Option<&str> {
        self.value.as_deref().ok()
    }

    /// See [`Sealed::checked`].
    pub(crate) fn checked(&self) -> bool {
        self.checked
    }

    /// The file it is written in, and the SealedSecret's name and namespace there (one file may
    /// hold a name in several namespaces; see [`super::model::sealed_doc`]). A value a patch
    /// writes is in the patch's file, under the name it patched and no namespace.
    pub(crate) fn written_in(&self) -> (&str, &str, Option<&str>) {
        let namespace = match self.place {
            Place::Doc(doc) => doc.namespace(),
            Place::Patch(_) => None,
        };
        (&self.file, self.name, namespace)
    }
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
pub(crate) fn check_kind(cx: &View<'_, '_>, meta: &'static RuleMeta, kind: Kind) -> Vec<Finding> {
    check_with(cx, meta, |cx, v| reasons(cx, v, kind))
}

/// Judges every value [`check_kind`] reads with `judge` (its reasons to report, none when it
/// is fine), and reports them under `meta`, each at the value's key (or at the line of the
/// patch writing it).
pub(crate) fn check_with(
    cx: &View<'_, '_>,
    meta: &'static RuleMeta,
    judge: impl Fn(&Context<'_>, &Sealed<'_>) -> Vec<String> + Sync,
) -> Vec<Finding> {
    use rayon::prelude::*;
    let repository = meta.scope == RuleScope::Repository;
    let overlays: Vec<&OverlayModel> = if repository {
        cx.all_overlays().iter().collect()
    } else {
        cx.overlays().collect()
    };
    let mut values = documented(cx, &overlays, repository);
    values.extend(patched(&overlays));
    // Classified in parallel: a monorepo holds thousands of sealed values.
    let verdicts: Vec<Vec<String>> = values.par_iter().map(|v| judge(cx, v)).collect();
    let mut out = Vec::new();
    for (v, reasons) in values.into_iter().zip(verdicts) {
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

/// The values of the `SealedSecret` documents in scope, each with the environments of
/// `checked` that render its file (or build it as a patch), or, when none does (a file only another environment
/// renders, under `--release`), every loaded environment that does.
fn documented<'c>(
    cx: &'c Context<'_>,
    checked: &[&'c OverlayModel],
    repository: bool,
) -> Vec<Sealed<'c>> {
    let mut rendering: HashMap<String, Vec<&OverlayModel>> = HashMap::new();
    for ov in cx.all_overlays() {
        // A SealedSecret document of a patch file renders as the values it writes: the
        // environments building the patch judge it with their certificates, as its resources.
        let patches = ov
            .overlay
            .written_values()
            .iter()
            .filter(|w| w.in_document && w.kind == "SealedSecret")
            .map(|w| &w.origin.file);
        let files: BTreeSet<String> = ov
            .overlay
            .resources()
            .iter()
            .filter(|r| r.kind == "SealedSecret")
            .map(|r| &r.origin.file)
            .chain(patches)
            .map(|f| path_str(f))
            .collect();
        for f in files {
            rendering.entry(f).or_default().push(ov);
        }
    }
    repository_docs_of_kind(cx, "SealedSecret")
        .filter(|d| repository || !d.file.repository_only)
        .filter_map(|doc| match doc.get(&["spec", "encryptedData"]) {
            Some(Value::Mapping(data)) => Some((doc, data)),
            _ => None,
        })
        .flat_map(|(doc, data)| {
            let all = rendering.get(&doc.file.path).cloned().unwrap_or_default();
            let ours: Vec<&OverlayModel> = all
                .iter()
                .copied()
                .filter(|o| checked.iter().any(|c| std::ptr::eq(*c, *o)))
                .collect();
            let checked = !ours.is_empty();
            let envs = if checked { ours } else { all };
            data.iter().filter_map(move |(k, v)| {
                Some(Sealed {
                    name: doc.name(),
                    key: k.as_str()?,
                    value: value_of(v),
                    file: Cow::Borrowed(&doc.file.path),
                    envs: envs.clone(),
                    checked,
                    place: Place::Doc(doc),
                })
            })
        })
        .collect()
}

/// The values patches write into SealedSecrets where no SealedSecret document shows them, as
/// `overlays` build them, once each with every environment that builds it: a patch in a shared
/// base is built by every overlay that includes it.
fn patched<'c>(overlays: &[&'c OverlayModel]) -> Vec<Sealed<'c>> {
    let mut at: BTreeMap<(String, usize, &str), Sealed<'c>> = BTreeMap::new();
    for &ov in overlays {
        for w in ov
            .overlay
            .written_values()
            .iter()
            .filter(|w| !w.in_document)
        {
            let Some(value) = &w.ciphertext else { continue };
            // One place however the including overlay reached the file (`a/../../shared`).
            let file = path_str(&w.origin.file);
            let place = (file.clone(), w.origin.line, w.key.as_str());
            at.entry(place)
                .or_insert_with(|| Sealed {
                    name: &w.name,
                    key: &w.key,
                    value: Ok(Cow::Borrowed(value)),
                    file: Cow::Owned(file),
                    envs: Vec::new(),
                    checked: true,
                    place: Place::Patch(w.origin.line),
                })
                .envs
                .push(ov);
        }
    }
    at.into_values().collect()
}

/// The reasons of `kind` the classifier gives for `v`, against the certificate of each
/// environment that renders it (see [`Sealed::envs`]). A reason that holds for one certificate
/// and not another (a key-size mismatch in one of two environments) names the environments it
/// holds for.
fn reasons(cx: &Context<'_>, v: &Sealed<'_>, kind: Kind) -> Vec<String> {
    let text = match &v.value {
        Ok(text) => text,
        // Its text may even decode as base64 (`true`); the classifier's reasons would mislead.
        Err(what) if kind == Kind::Placeholder => {
            return vec![format!(
                "the value is a YAML {what}, not a string: no ciphertext"
            )];
        }
        Err(_) => return Vec::new(),
    };
    let mut keys: Vec<(Option<&str>, Option<&RsaPublicKey>)> = Vec::new();
    for ov in &v.envs {
        let cert = ov.cert.as_ref().and_then(CertModel::certificate);
        if let Some(key) = cert.map(Certificate::public_key)
            && !keys.iter().any(|(_, k)| *k == Some(key))
        {
            keys.push((Some(&ov.name), Some(key)));
        }
    }
    if keys.is_empty() {
        keys.push((None, cx.key_for(&v.file)));
    }
    let per_key: Vec<(Option<&str>, Vec<String>)> = keys
        .iter()
        .map(|&(env, key)| {
            let verdict = classify(text, key);
            let of_kind = verdict.reasons().iter().filter(|r| r.kind() == kind);
            (env, of_kind.map(ToString::to_string).collect())
        })
        .collect();
    let mut out: Vec<String> = Vec::new();
    for (env, reasons) in &per_key {
        for r in reasons {
            let everywhere = per_key.iter().all(|(_, rs)| rs.contains(r));
            let text = match env {
                Some(env) if !everywhere => format!("{r} (overlay {env})"),
                _ => r.clone(),
            };
            if !out.contains(&text) {
                out.push(text);
            }
        }
    }
    out
}

/// A value as the classifier sees it: a string as written; null, a list or a mapping as empty.
/// A number or a boolean is no ciphertext, but not empty either: it is named (`Err`).
fn value_of(v: &Value) -> Result<Cow<'_, str>, &'static str> {
    match v {
        Value::String(s) => Ok(Cow::Borrowed(s)),
        Value::Number(_) => Err("number"),
        Value::Bool(_) => Err("boolean"),
        _ => Ok(Cow::Borrowed("")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_or_boolean_is_named_not_classified_as_empty() {
        let v = |yaml: &str| yaml_serde::from_str::<Value>(yaml).unwrap();
        assert_eq!(value_of(&v("12")), Err("number"));
        assert_eq!(value_of(&v("true")), Err("boolean"));
        assert_eq!(value_of(&v("AgB=")), Ok(Cow::Borrowed("AgB=")));
        assert_eq!(value_of(&v("~")), Ok(Cow::Borrowed("")));
        assert_eq!(value_of(&v("[1]")), Ok(Cow::Borrowed("")));
    }
}
