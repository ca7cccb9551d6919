//! Rule `yaml-syntax`: a YAML document of the checked tree does not parse (an unrendered
//! `{{ }}` template, a duplicate key, bad indentation, a tab), so no other rule could look at
//! it. Reported at the parser's line, saying that the document's other rules did not run and,
//! when an overlay's build reads the file, that the overlay's key and reference checks did not
//! run either (they would only report knock-on effects, such as references to a SealedSecret
//! that did not parse).
//!
//! Outside the tree, a YAML/JSON file that mentions `Secret` and does not parse (a Helm
//! template, say) is a note: the repository-wide rules could not look at it. So is a Helm
//! chart's template that parses: its `{{ }}` values are Helm's to fill.
//!
//! A YAML/JSON file that could not be read at all (larger than 16 MiB, not UTF-8, unreadable)
//! is reported the same way, once, with the reason: an error in the tree, a note outside it.
//!
//! Reads the shared single parse (`yamldocs::yaml_errors`); never quotes document content
//! beyond the parser's own message, which names positions and keys, not values.

use super::yamldocs::{YamlError, yaml_errors};
use super::{Context, View};
use crate::finding::{Finding, Location, RuleMeta, RuleScope, Severity};
use crate::workspace::path_str;

pub static META: RuleMeta = RuleMeta {
    id: "yaml-syntax",
    summary: "A YAML document does not parse, so no other rule checked it",
    default_severity: Severity::Error,
    hint: "fix the YAML at the line named (render templates before kustomize reads them)",
    scope: RuleScope::Tree,
};

/// Reports every YAML document of the tree that does not parse, and every YAML/JSON file that
/// could not be read.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let mut out = unread(cx);
    let mut noted = std::collections::HashSet::new();
    for e in yaml_errors(cx) {
        let path = &e.file.path;
        if e.file.repository_only {
            // One note per file: the repository-wide rules could not look at it.
            if noted.insert(path) {
                out.push(not_checked(e));
            }
            continue;
        }
        let mut message = format!(
            "YAML does not parse: {}; no other rule checked this document",
            e.message
        );
        let blocked: Vec<&str> = cx
            .all_overlays()
            .iter()
            .filter(|ov| {
                ov.overlay
                    .problems()
                    .iter()
                    .any(|p| p.is_yaml_syntax() && path_str(&p.origin.file) == *path)
            })
            .filter(|ov| {
                cx.tree
                    .release_env
                    .as_ref()
                    .is_none_or(|env| *env == ov.name)
            })
            .map(|ov| ov.name.as_str())
            .collect();
        if !blocked.is_empty() {
            let (noun, verb) = if blocked.len() == 1 {
                ("overlay", "was not built, and its")
            } else {
                ("overlays", "were not built, and their")
            };
            message.push_str(&format!(
                "; {noun} {} {verb} key and reference checks did not run",
                blocked.join(", ")
            ));
        }
        let loc = Location::new(path.clone(), e.line, e.column);
        out.push(Finding::new(&META, loc, message));
    }
    for file in cx
        .files
        .iter()
        .filter(|f| f.repository_only && !noted.contains(&f.path))
    {
        if let Some(note) = helm_template(cx, file) {
            out.push(note);
        }
    }
    out
}

/// The note on a Helm chart's template outside the tree that names a `Secret` and parses
/// (one that does not parse has [`not_checked`]'s): Helm renders it with the chart's values,
/// which emp-seal does not, so the `{{ }}` values of its Secrets are not judged (the repository
/// rules report its written values only).
fn helm_template(cx: &Context<'_>, file: &super::SourceFile) -> Option<Finding> {
    if !file.is_yaml() || !file.text.contains("Secret") {
        return None;
    }
    let chart = crate::workspace::helm_chart(cx.root, &file.path)?;
    let message = format!(
        "a template of the Helm chart {chart}: Helm renders it with the chart's values, which emp-seal does not, so its `{{{{ }}}}` values were not checked (plaintext-secret, readable-secret-data and placeholder-ciphertext read only the values written in it)"
    );
    let finding = Finding::new(&META, Location::new(file.path.clone(), 1, 1), message)
        .severity(Severity::Note)
        .hint("check the chart's rendered output (helm template) for secrets; once it is known to hold none, list it under `ignore` in emp-seal.toml");
    Some(finding)
}

/// A file outside the tree that mentions `Secret` and does not parse (often a Helm template):
/// a note, not an error, saying that the repository-wide rules did not check it, so that
/// "nothing found" is never read as "verified clean" for it.
fn not_checked(e: &YamlError<'_>) -> Finding {
    let loc = Location::new(e.file.path.clone(), e.line, e.column);
    Finding::new(
        &META,
        loc,
        format!(
            "not read as a manifest: {}; plaintext-secret, readable-secret-data and placeholder-ciphertext did not check the documents of this file that do not parse (those that parse were checked)",
            e.message
        ),
    )
    .severity(Severity::Note)
    .hint("if it is a template, check its rendered output; once it is known to hold no secret, list it under `ignore` in emp-seal.toml")
}

/// YAML/JSON files that could not be read: an error in the tree, a note outside it (env files
/// that could not be read are `env-syntax` errors).
fn unread(cx: &Context<'_>) -> Vec<Finding> {
    cx.files
        .iter()
        .filter(|f| f.is_yaml())
        .filter_map(|f| Some((f, f.unread.as_deref()?)))
        .map(|(f, why)| {
            let loc = Location::file(f.path.clone());
            let mib = crate::workspace::MAX_FILE_BYTES >> 20;
            if f.repository_only {
                let message = format!(
                    "cannot be read: {why}; plaintext-secret, readable-secret-data and placeholder-ciphertext did not check this file"
                );
                Finding::new(&META, loc, message)
                    .severity(Severity::Note)
                    .hint(format!("make it UTF-8 and smaller than {mib} MiB, or list it under `ignore` in emp-seal.toml once it is known to hold no secret"))
            } else {
                let message = format!("cannot be read: {why}; no rule checked this file");
                Finding::new(&META, loc, message)
                    .hint(format!("make it UTF-8 and smaller than {mib} MiB (kustomize reads UTF-8 only), or move it out of the tree"))
            }
        })
        .collect()
}
