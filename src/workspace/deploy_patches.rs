//! Kustomizations that patch the Argo CD `Application` / `ApplicationSet` and Flux
//! `Kustomization` objects discovery reads. Discovery reads those objects as written in their
//! files; a kustomization that patches them (Flux multi-tenancy's `tenants/<env>` setting a
//! base `Kustomization`'s `spec.path`, a `clusters/<env>` adding `postBuild` or
//! `targetNamespace`) changes what they deploy and how, which discovery does not replay. It
//! cannot look there, so `check` says so in a note.

use std::path::Path;

use yaml_serde::Value;

use crate::yamlpos::Seg;

/// The kinds discovery reads, with the API group each belongs to (kustomize's own
/// `Kustomization` is a file, never a resource, so a `Kustomization` resource is Flux's).
const DEPLOY_KINDS: [(&str, &str); 3] = [
    ("Kustomization", "kustomize.toolkit.fluxcd.io"),
    ("Application", "argoproj.io"),
    ("ApplicationSet", "argoproj.io"),
];

/// Largest patch file read to learn what it patches.
const MAX_PATCH_BYTES: u64 = 1024 * 1024;

/// Where (`file:line`, the first such patch entry) and a note for `check`, when the
/// kustomization `kfile` under `root` (text `text`, parsed as `v`) patches an object of one of
/// [`DEPLOY_KINDS`].
pub(crate) fn note(root: &Path, kfile: &Path, text: &str, v: &Value) -> Option<(String, String)> {
    let dir = kfile.parent()?;
    let (key, i, kind) = ["patches", "patchesStrategicMerge", "patchesJson6902"]
        .into_iter()
        .filter_map(|key| Some((key, v.get(key)?.as_sequence()?)))
        .flat_map(|(key, entries)| entries.iter().enumerate().map(move |(i, e)| (key, i, e)))
        .find_map(|(key, i, e)| Some((key, i, patched_kind(dir, e)?)))?;
    let doc = crate::yamlpos::documents(text).into_iter().next()?;
    let line = doc.find_or_parent(&[Seg::from(key), Seg::from(i)]).line;
    let file = super::rel(root, kfile);
    let what = super::discover::tool_name(kind);
    let note = format!(
        "{file}:{line} patches a {what}: emp-seal reads Argo CD / Flux objects as written in their files, so the path, source or sync-time options this patch gives it are not seen (which environments it names, and what it applies to them at sync time)"
    );
    Some((format!("{file}:{line}"), note))
}

/// The deploy kind one patch entry patches: its target's kind, or the kind of a document in its
/// inline text or its file (a `patchesStrategicMerge` string is either).
fn patched_kind(dir: &Path, entry: &Value) -> Option<&'static str> {
    if let Some(target) = entry.get("target") {
        let kind = target.get("kind").and_then(Value::as_str)?;
        let group = target.get("group").and_then(Value::as_str);
        return DEPLOY_KINDS
            .iter()
            .find(|(k, g)| *k == kind && group.is_none_or(|t| t == *g))
            .map(|(k, _)| *k);
    }
    let (inline, path) = match entry {
        Value::String(s) if s.contains('\n') || s.contains(':') => (Some(s.as_str()), None),
        Value::String(s) => (None, Some(s.as_str())),
        _ => (
            entry.get("patch").and_then(Value::as_str),
            entry.get("path").and_then(Value::as_str),
        ),
    };
    let read;
    let text = match (inline, path) {
        (Some(t), _) => t,
        (None, Some(p)) => {
            read = crate::fsio::read_to_string_limited(&super::entry_path(dir, p), MAX_PATCH_BYTES)
                .ok()?;
            &read
        }
        (None, None) => return None,
    };
    documents_kind(text)
}

/// The first of [`DEPLOY_KINDS`] among the documents of `text`, by `kind` and `apiVersion`.
fn documents_kind(text: &str) -> Option<&'static str> {
    use serde::Deserialize as _;
    yaml_serde::Deserializer::from_str(crate::yamlpos::without_bom(text))
        .filter_map(|d| Value::deserialize(d).ok())
        .find_map(|v| {
            let kind = v.get("kind").and_then(Value::as_str)?;
            let api = v.get("apiVersion").and_then(Value::as_str)?;
            DEPLOY_KINDS
                .iter()
                .find(|(k, g)| *k == kind && api.starts_with(&format!("{g}/")))
                .map(|(k, _)| *k)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note_of(kustomization: &str, files: &[(&str, &str)]) -> Option<String> {
        let t = tempfile::tempdir().expect("tempdir");
        for (rel, text) in files {
            crate::workspace::write_fixture(t.path(), rel, text);
        }
        let kfile = t.path().join("k.yaml");
        let v: Value = yaml_serde::from_str(kustomization).expect("parses");
        note(t.path(), &kfile, kustomization, &v).map(|(at, _)| at)
    }

    #[test]
    fn patches_of_flux_and_argo_objects_are_found_by_target_inline_text_or_file() {
        let flux = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\nspec:\n  path: ./staging\n";
        let argo = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\n";
        let by_target = "resources:\n  - sync.yaml\npatches:\n  - target:\n      kind: Kustomization\n    patch: |-\n      - op: replace\n        path: /spec/path\n        value: ./staging\n";
        assert_eq!(note_of(by_target, &[]).as_deref(), Some("k.yaml:4"));
        let inline = format!(
            "patches:\n  - patch: |-\n{}",
            flux.lines()
                .map(|l| format!("      {l}\n"))
                .collect::<String>()
        );
        assert_eq!(note_of(&inline, &[]).as_deref(), Some("k.yaml:2"));
        let by_file = "patchesStrategicMerge:\n  - deployment.yaml\n  - app.yaml\n";
        let files = [
            ("deployment.yaml", "kind: Deployment\n"),
            ("app.yaml", argo),
        ];
        assert_eq!(note_of(by_file, &files).as_deref(), Some("k.yaml:3"));
        // Other kinds, another group's `Application`, and no patches at all: nothing.
        let other = "patches:\n  - target:\n      kind: Deployment\n    path: p.yaml\n  - target:\n      group: app.k8s.io\n      kind: Application\n    path: p.yaml\n";
        assert_eq!(note_of(other, &[]), None);
        assert_eq!(note_of("resources:\n  - sync.yaml\n", &[]), None);
    }
}
