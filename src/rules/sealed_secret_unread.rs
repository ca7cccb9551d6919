//! Rule `sealed-secret-unread`: a `SealedSecret` file of a checked overlay that the
//! `sealedsecret` reader refuses (an `apiVersion` the controller does not serve, both the legacy
//! `spec.data` and `encryptedData`, a field of the wrong type, a layout it cannot place values
//! in), so that `identity-mismatch`, `stale-certificate`, `example-sealed-mismatch` and
//! `missing-secret-key`, which read SealedSecrets through it, did not check the file; and a
//! `kind: SealedSecret` document of the tree with an `apiVersion` other than
//! `bitnami.com/v1alpha1`, which no overlay counts as a SealedSecret. Without this rule those
//! files would pass in silence.
//!
//! A file that is not YAML at all is `yaml-syntax`'s, not reported here. The reader's message
//! names positions and fields, never a value.

use std::collections::BTreeSet;

use super::locate::at_line;
use super::yamldocs::{YamlDoc, docs_of_kind};
use super::{Context, View};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};
use crate::sealedsecret::{API_VERSION, SealedSecretError};

pub static META: RuleMeta = RuleMeta {
    id: "sealed-secret-unread",
    summary: "A SealedSecret file the identity and key rules could not read, so they did not check it",
    default_severity: Severity::Error,
    hint: "fix what the message names (the controller expects apiVersion bitnami.com/v1alpha1 and encryptedData as a mapping of strings)",
    scope: RuleScope::Tree,
};

/// Reports, once per file, each checked overlay's SealedSecret file the reader refused (kept by
/// `Context::sealed_files`, not parsed again here), and every
/// `kind: SealedSecret` document of the tree with another `apiVersion` (no overlay counts it as a
/// SealedSecret, so only the references to its Secret would show that something is wrong).
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let mut seen = BTreeSet::new();
    let mut out = wrong_api_version(cx);
    for ov in cx.overlays() {
        for src in ov.overlay.sealed_secret_sources() {
            let Some(Err(e)) = cx.sealed_files().get(&src.path()) else {
                continue;
            };
            // Not YAML: `yaml-syntax`'s. A wrong apiVersion: reported at its line below.
            if matches!(
                e,
                SealedSecretError::Yaml { .. } | SealedSecretError::ApiVersion { .. }
            ) || !seen.insert(src.path().clone())
            {
                continue;
            }
            // The reader stops at the first error of the file: name the SealedSecret it is in
            // (none when it is in no SealedSecret, e.g. content on another document's `---`).
            let (name, location) = match e.position() {
                Some((line, _)) => match doc_at(cx, &src.path(), line) {
                    Some(doc) => (doc.name(), doc.location(&["metadata", "name"])),
                    None => ("", at_line(cx, &src.path(), line)),
                },
                None => (
                    src.name_in_file.as_str(),
                    at_line(cx, &src.path(), src.line),
                ),
            };
            let named = if name.is_empty() {
                String::new()
            } else {
                format!(" `{name}`")
            };
            let message = format!(
                "SealedSecret{named} cannot be read: {e}; identity-mismatch, stale-certificate, example-sealed-mismatch and missing-secret-key did not check this file"
            );
            out.push(Finding::new(&META, location, message));
        }
    }
    out
}

/// The `kind: SealedSecret` document of the file `path` that holds its 1-based `line`.
fn doc_at<'c>(cx: &'c Context<'_>, path: &str, line: usize) -> Option<&'c YamlDoc<'c>> {
    docs_of_kind(cx, "SealedSecret").find(|d| {
        let first = d.doc.first_line as usize;
        d.file.path == path && (first..first + d.doc.text.lines().count().max(1)).contains(&line)
    })
}

/// `kind: SealedSecret` documents of the tree whose `apiVersion` the controller does not serve.
fn wrong_api_version(cx: &Context<'_>) -> Vec<Finding> {
    docs_of_kind(cx, "SealedSecret")
        .filter_map(|doc| {
            let api = doc.get(&["apiVersion"]).and_then(yaml_serde::Value::as_str);
            (api != Some(API_VERSION)).then(|| {
                let message = format!(
                    "SealedSecret `{}` has apiVersion `{}`, but the controller serves only `{API_VERSION}`: `kubectl apply` rejects it and no rule read it as a SealedSecret",
                    doc.name(),
                    api.unwrap_or("(none)")
                );
                Finding::new(&META, doc.location(&["apiVersion"]), message)
            })
        })
        .collect()
}
