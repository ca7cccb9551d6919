//! Rule `example-generator-mismatch`: every env file a Secret generator reads has a tracked
//! `<file>.example` beside it with exactly the same keys, and no key of the generator is given
//! twice (env files, `literals:` and `files:` together: kustomize refuses a repeated key).
//!
//! Reads the overlay models and the parsed env files; an env file that is not present locally
//! (the usual case in CI) is compared through its example only. Messages name keys, never values,
//! and a key from a line without `=` by its line only (`model::shown_key`).

use std::collections::{BTreeMap, BTreeSet};

use super::locate::at_line;
use super::model::{EnvFileModel, key_list, key_phrase};
use super::{Context, GitStatus, View};
use crate::finding::{Finding, Location, RuleMeta, RuleScope, Severity};
use crate::kustomize::{Generated, GeneratedKind};
use crate::workspace::path_str;

pub static META: RuleMeta = RuleMeta {
    id: "example-generator-mismatch",
    summary: "A secret generator's env file and its tracked .example do not have exactly the same keys",
    default_severity: Severity::Error,
    hint: "add the missing keys to the .example with empty values, or remove the extra ones",
    scope: RuleScope::Tree,
};

/// Reports missing, untracked or mismatching examples, and keys given twice.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for ov in &cx.tree.overlays {
        for g in ov.overlay.generated() {
            if g.kind != GeneratedKind::Secret {
                continue;
            }
            for spec in &g.specs {
                // Keys by source, to catch a key given twice across the entry's envs, literals
                // and files. Only within one entry: a `behavior: merge` or `replace` entry gives
                // a key of the base's again to override it, which kustomize accepts
                // (api/resmap/reswrangler.go `appendReplaceOrMerge`), while one entry repeating
                // a key fails the build (api/kv/kv.go: "illegally repeats the key").
                let mut sources: BTreeMap<String, Vec<String>> = BTreeMap::new();
                // With every env file read, the build judges repeats (an `overlay-build-error`):
                // only one whose `.example` stands in for it is judged here.
                let mut stood_in = false;
                let origin = at_line(cx, &path_str(&spec.origin.file), spec.origin.line);
                let literals = spec.literal_keys.iter().map(|k| (k, "literals"));
                for (k, from) in literals.chain(spec.files.iter().map(|f| (&f.key, "files"))) {
                    sources.entry(k.clone()).or_default().push(from.into());
                }
                for env in &spec.envs {
                    let env_path = path_str(&env.path);
                    let example_path = format!("{env_path}.example");
                    let Some(example) = cx.tree.env_file(&example_path) else {
                        let message = format!(
                            "overlay {}: secret generator `{}` reads `{env_path}`, which has no `{example_path}`",
                            ov.name, g.original.name
                        );
                        out.push(
                            Finding::new(&META, origin.clone(), message)
                                .hint("commit a .example beside the env file listing its keys with empty values"),
                        );
                        continue;
                    };
                    out.extend(untracked_example(cx, &env_path, &example_path, &origin));
                    let real = cx.tree.env_file(&env_path);
                    stood_in |= real.is_none();
                    let key_source = real
                        .and_then(|r| r.keys())
                        .or_else(|| example.keys())
                        .unwrap_or_default();
                    for k in &key_source {
                        sources.entry(k.clone()).or_default().push(env_path.clone());
                    }
                    if let Some(real) = real {
                        let pair = (env_path.as_str(), example_path.as_str());
                        out.extend(key_mismatches(cx, pair, real, example, &origin));
                    }
                }
                if stood_in {
                    out.extend(repeated_keys(&cx.tree, (&ov.name, g), &origin, &sources));
                }
            }
        }
    }
    out
}

/// A finding when the example exists but git does not track it.
fn untracked_example(
    cx: &Context<'_>,
    env_path: &str,
    example_path: &str,
    origin: &Location,
) -> Option<Finding> {
    let f = cx.file(example_path)?;
    if !matches!(f.git, GitStatus::Untracked { .. }) {
        return None;
    }
    let message = format!(
        "`{example_path}` is not tracked by git, so the keys of `{env_path}` are not recorded"
    );
    Some(
        Finding::new(&META, Location::file(example_path.to_owned()), message)
            .related(origin.clone())
            .hint("git add the .example"),
    )
}

/// Keys the env file has and its example lacks (one finding), and keys only the example has
/// (one each). `(env_path, example_path)` name the pair.
fn key_mismatches(
    cx: &Context<'_>,
    (env_path, example_path): (&str, &str),
    real: &EnvFileModel,
    example: &EnvFileModel,
    origin: &Location,
) -> Vec<Finding> {
    let (Some(real_keys), Some(example_keys)) = (real.keys(), example.keys()) else {
        return Vec::new(); // env-syntax reports it
    };
    let mut out = Vec::new();
    let missing: BTreeSet<String> = real_keys.difference(&example_keys).cloned().collect();
    let extra: BTreeSet<String> = example_keys.difference(&real_keys).cloned().collect();
    if !missing.is_empty() {
        let message = format!(
            "`{example_path}` lacks {} that `{env_path}` has: {}",
            if missing.len() == 1 { "a key" } else { "keys" },
            key_list(&cx.tree, &missing)
        );
        out.push(
            Finding::new(&META, Location::file(example_path.to_owned()), message).related(at_line(
                cx,
                &real.path,
                real.line_of(missing.iter().next().map_or("", String::as_str))
                    .unwrap_or(1),
            )),
        );
    }
    for k in &extra {
        let line = example.line_of(k).unwrap_or(1);
        let message = format!(
            "`{example_path}` has {}, which `{env_path}` does not have",
            key_phrase(&cx.tree, k)
        );
        out.push(
            Finding::new(&META, at_line(cx, example_path, line), message).related(origin.clone()),
        );
    }
    out
}

/// One finding per key that one entry of generator `g` (written at `loc`) gives more than once
/// across its sources.
fn repeated_keys(
    tree: &super::model::TreeModel,
    (overlay, g): (&str, &Generated),
    loc: &Location,
    sources: &BTreeMap<String, Vec<String>>,
) -> Vec<Finding> {
    sources
        .iter()
        .filter(|(_, from)| from.len() >= 2)
        .map(|(key, from)| {
            let message = format!(
                "overlay {overlay}: secret generator `{}` gives {} more than once ({}); kustomize refuses a repeated key",
                g.original.name,
                key_phrase(tree, key),
                from.join(", ")
            );
            Finding::new(&META, loc.clone(), message)
                .hint("give every key exactly once across envs, literals and files")
        })
        .collect()
}
