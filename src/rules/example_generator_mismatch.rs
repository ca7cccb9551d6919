//! Rule `example-generator-mismatch`: every env file a Secret generator reads has a tracked
//! `<file>.example` beside it with exactly the same keys, and no key of the generator is given
//! twice (env files, `literals:` and `files:` together: kustomize refuses a repeated key).
//!
//! Reads the overlay models and the parsed env files; an env file that is not present locally
//! (the usual case in CI) is compared through its example only. Messages name keys, never values.

use std::collections::{BTreeMap, BTreeSet};

use super::locate::at_line;
use super::model::path_str;
use super::{Context, GitStatus};
use crate::finding::{Finding, Location, RuleMeta, RuleScope, Severity};
use crate::kustomize::GeneratedKind;

/// The rule's metadata.
pub static META: RuleMeta = RuleMeta {
    id: "example-generator-mismatch",
    summary: "A secret generator's env file and its tracked .example do not have exactly the same keys",
    default_severity: Severity::Error,
    hint: "add the missing keys to the .example with empty values, or remove the extra ones",
    scope: RuleScope::Tree,
};

fn list(keys: &BTreeSet<String>) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reports missing, untracked or mismatching examples, and keys given twice.
pub fn check(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for ov in &cx.tree.overlays {
        for g in ov.overlay.generated() {
            if g.kind != GeneratedKind::Secret {
                continue;
            }
            // Keys by source, to catch a key given twice across envs/literals/files.
            let mut sources: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for spec in &g.specs {
                let origin = at_line(cx, &path_str(&spec.origin.file), spec.origin.line);
                for k in &spec.literal_keys {
                    sources
                        .entry(k.clone())
                        .or_default()
                        .push("literals".into());
                }
                for f in &spec.files {
                    sources
                        .entry(f.key.clone())
                        .or_default()
                        .push("files".into());
                }
                for env in &spec.envs {
                    let env_path = path_str(env);
                    let example_path = format!("{env_path}.example");
                    let example = cx.tree.env_file(&example_path);
                    let real = cx.tree.env_file(&env_path);
                    let example_file = cx.file(&example_path);
                    let Some(example) = example else {
                        let message = format!(
                            "overlay {}: secret generator `{}` reads `{env_path}`, which has no `{example_path}`",
                            ov.name, g.original.name
                        );
                        out.push(
                            Finding::builder(&META, origin.clone(), message)
                                .hint("commit a .example beside the env file listing its keys with empty values")
                                .build(),
                        );
                        continue;
                    };
                    if let Some(f) = example_file
                        && matches!(f.git, GitStatus::Untracked { .. })
                    {
                        let message = format!(
                            "`{example_path}` is not tracked by git, so the keys of `{env_path}` are not recorded"
                        );
                        out.push(
                            Finding::builder(&META, Location::file(example_path.clone()), message)
                                .related(origin.clone())
                                .hint("git add the .example")
                                .build(),
                        );
                    }
                    let example_keys = example.keys().unwrap_or_default();
                    let key_source = real
                        .and_then(|r| r.keys())
                        .unwrap_or_else(|| example_keys.clone());
                    for k in &key_source {
                        sources.entry(k.clone()).or_default().push(env_path.clone());
                    }
                    let (Some(real), Some(real_keys)) = (real, real.and_then(|r| r.keys())) else {
                        continue;
                    };
                    if example.keys().is_none() {
                        continue; // env-syntax reports it
                    }
                    let missing: BTreeSet<String> =
                        real_keys.difference(&example_keys).cloned().collect();
                    let extra: BTreeSet<String> =
                        example_keys.difference(&real_keys).cloned().collect();
                    if !missing.is_empty() {
                        let message = format!(
                            "`{example_path}` lacks {} that `{env_path}` has: {}",
                            if missing.len() == 1 { "a key" } else { "keys" },
                            list(&missing)
                        );
                        out.push(
                            Finding::builder(&META, Location::file(example_path.clone()), message)
                                .related(at_line(
                                    cx,
                                    &real.path,
                                    real.line_of(missing.iter().next().map_or("", String::as_str))
                                        .unwrap_or(1),
                                ))
                                .build(),
                        );
                    }
                    for k in &extra {
                        let line = example.line_of(k).unwrap_or(1);
                        let message = format!(
                            "`{example_path}` has key `{k}`, which `{env_path}` does not have"
                        );
                        out.push(
                            Finding::builder(&META, at_line(cx, &example_path, line), message)
                                .related(origin.clone())
                                .build(),
                        );
                    }
                }
            }
            for (key, from) in &sources {
                if from.len() < 2 {
                    continue;
                }
                let Some(first) = g.specs.first() else {
                    continue;
                };
                let message = format!(
                    "overlay {}: secret generator `{}` gives key `{key}` more than once ({}); kustomize refuses a repeated key",
                    ov.name,
                    g.original.name,
                    from.join(", ")
                );
                out.push(
                    Finding::builder(
                        &META,
                        at_line(cx, &path_str(&first.origin.file), first.origin.line),
                        message,
                    )
                    .hint("give every key exactly once across envs, literals and files")
                    .build(),
                );
            }
        }
    }
    out
}
