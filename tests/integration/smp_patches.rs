//! `check` on overlays whose strategic-merge patches delete objects (`$patch: delete` at the top
//! of a patch) or rename them (`options.allowNameChange: true`). Both were `overlay-not-modelled`
//! (an error under `--release`) and the model kept the objects under their old names, so the
//! rules judged objects that do not deploy. The real `kubectl kustomize` render is the oracle:
//! what it drops or renames, the findings follow, and `check --render=always` finds no
//! divergence.
//!
//! The tree is `tests/fixtures/trees/smp-delete-rename` (its kustomizations say what each
//! overlay does), copied into a temp git repository.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::Path;

use yaml_serde::Value;

use crate::common::{self, Hit, check_hits as check};

const BASE_DEPLOYMENT: &str = "k8s/base/deployment.yaml";
const BASE_SECRETS: &str = "k8s/base/secrets.yaml";

/// The fixture tree in a temp git repository, with `edits` written on top (`None` when git is
/// missing outside CI).
fn repo(edits: &[(&str, &str)]) -> Option<tempfile::TempDir> {
    if common::which("git").is_none() {
        common::missing("git");
        return None;
    }
    let t = tempfile::tempdir().unwrap();
    let fixture = common::repo_root().join("tests/fixtures/trees/smp-delete-rename/k8s");
    common::copy_dir(&fixture, &t.path().join("k8s"));
    for (rel, text) in edits {
        let p = t.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    common::git(t.path(), &["init", "-q"]);
    common::git(t.path(), &["add", "-A"]);
    Some(t)
}

/// The findings of `rule` about overlay `overlay` (their messages start with its name).
fn of<'h>(hits: &'h [Hit], rule: &str, overlay: &str) -> Vec<&'h Hit> {
    let lead = format!("overlay {overlay}:");
    hits.iter()
        .filter(|h| h.rule == rule && h.message.starts_with(&lead))
        .collect()
}

/// The (kind, name) of every object `kubectl kustomize` renders for `overlay`, or `None` when
/// kubectl is missing outside CI.
fn rendered(root: &Path, overlay: &str) -> Option<Vec<(String, String)>> {
    common::kubectl()?;
    let out = common::kustomize(&root.join("k8s/overlays").join(overlay));
    let objects = yaml_serde::Deserializer::from_str(&out).map(|d| {
        let v: Value = serde::Deserialize::deserialize(d).unwrap();
        let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
        let name = s(v.get("metadata").and_then(|m| m.get("name")));
        (s(v.get("kind")), name)
    });
    Some(objects.collect())
}

/// The 1-based line of the first line of `rel` containing `needle`.
fn line_of(root: &Path, rel: &str, needle: &str) -> u64 {
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    let idx = text.lines().position(|l| l.contains(needle));
    u64::try_from(idx.expect(needle) + 1).unwrap()
}

/// The modelled overlays carry no `overlay-not-modelled` and, rendered by kubectl, no
/// `model-divergence` or `render-failed`.
fn assert_modelled(hits: &[Hit]) {
    for rule in ["overlay-not-modelled", "model-divergence", "render-failed"] {
        let found: Vec<&Hit> = hits.iter().filter(|h| h.rule == rule).collect();
        assert!(found.is_empty(), "{rule}: {found:?}");
    }
    assert!(hits.iter().all(|h| h.unverified.is_none()), "{hits:?}");
}

/// Overlay `drop` deletes the base's SealedSecret and Secret with `$patch: delete` patches;
/// the base Deployment still reads both. kubectl renders neither, so both references dangle,
/// with or without the render, and verified.
#[test]
fn a_deleted_secret_leaves_its_readers_dangling() {
    let Some(t) = repo(&[]) else { return };
    let root = t.path();
    let Some(objects) = rendered(root, "drop") else {
        return;
    };
    let secret_kinds = ["Secret", "SealedSecret"];
    assert!(
        objects
            .iter()
            .all(|(k, _)| !secret_kinds.contains(&k.as_str())),
        "kubectl renders {objects:?}"
    );
    for args in [&[][..], &["--render=always"], &["--release", "drop"]] {
        let (code, hits) = check(root, args);
        assert_eq!(code, 1, "{args:?}: {hits:?}");
        assert_modelled(&hits);
        let mut at: Vec<u64> = of(&hits, "dangling-reference", "drop")
            .iter()
            .filter(|h| h.path == BASE_DEPLOYMENT)
            .map(|h| h.line)
            .collect();
        at.sort_unstable();
        let want = [
            line_of(root, BASE_DEPLOYMENT, "name: app-secrets"),
            line_of(root, BASE_DEPLOYMENT, "name: legacy"),
        ];
        assert_eq!(at, want, "{args:?}: {hits:?}");
        // Nothing deployed by `drop` holds a key its workloads read: the Secret is gone.
        assert!(
            of(&hits, "missing-secret-key", "drop").is_empty(),
            "{hits:?}"
        );
    }
}

/// Overlay `rename` renames the base's SealedSecret with `allowNameChange` (and `rename-top`,
/// above it, adds a prefix): the controller makes a Secret under the new name, which the
/// SealedSecret's strict scope was not sealed for. `identity-mismatch` names the name kubectl
/// renders, and the Deployment's reference to the old name dangles.
#[test]
fn a_renamed_sealed_secret_is_judged_under_its_rendered_name() {
    let Some(t) = repo(&[]) else { return };
    let root = t.path();
    for overlay in ["rename", "rename-top"] {
        let Some(objects) = rendered(root, overlay) else {
            return;
        };
        let sealed: Vec<&String> = objects
            .iter()
            .filter(|(k, _)| k == "SealedSecret")
            .map(|(_, n)| n)
            .collect();
        assert_eq!(sealed.len(), 1, "{objects:?}");
        assert_ne!(sealed[0], "app-secrets");
        for args in [&[][..], &["--render=always"]] {
            let (code, hits) = check(root, args);
            assert_eq!(code, 1, "{args:?}: {hits:?}");
            assert_modelled(&hits);
            let mismatch = of(&hits, "identity-mismatch", overlay);
            assert_eq!(mismatch.len(), 1, "{overlay} {args:?}: {hits:?}");
            let h = mismatch[0];
            let line = line_of(root, BASE_SECRETS, "      name: app-secrets");
            assert_eq!((h.path.as_str(), h.line), (BASE_SECRETS, line));
            assert!(
                h.message.contains(&format!("/{}", sealed[0])),
                "{}",
                h.message
            );
            let dangling = of(&hits, "dangling-reference", overlay);
            let line = line_of(root, BASE_DEPLOYMENT, "name: app-secrets");
            assert!(dangling.iter().any(|h| h.line == line), "{hits:?}");
        }
    }
}

/// kustomize fails the build when a `$patch: delete` patch without a target matches nothing
/// ("no matches for Id"), as for any strategic-merge patch; the model said only that it did
/// not model the patch. A targeted one that matches nothing changes nothing, in both.
#[test]
fn an_unmatched_delete_patch_is_a_build_error_unless_targeted() {
    let k = "k8s/overlays/drop/kustomization.yaml";
    let text = std::fs::read_to_string(
        common::repo_root()
            .join("tests/fixtures/trees/smp-delete-rename")
            .join(k),
    )
    .unwrap();
    let unmatched = text.replacen("name: app-secrets", "name: app-secret", 1);
    let Some(t) = repo(&[(k, &unmatched)]) else {
        return;
    };
    if common::kubectl().is_some() {
        let out = common::kustomize_raw(&t.path().join("k8s/overlays/drop"));
        assert!(!out.status.success(), "kubectl builds it");
    }
    let (code, hits) = check(t.path(), &[]);
    assert_eq!(code, 1, "{hits:?}");
    let errs: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.rule == "overlay-build-error")
        .collect();
    assert_eq!(errs.len(), 1, "{hits:?}");
    let line = line_of(t.path(), k, "$patch: delete");
    assert_eq!((errs[0].path.as_str(), errs[0].line), (k, line), "{hits:?}");
    assert!(
        errs[0].message.contains("`app-secret` not found"),
        "{hits:?}"
    );
    assert!(
        hits.iter().all(|h| h.rule != "overlay-not-modelled"),
        "{hits:?}"
    );

    // Targeted at nothing: kubectl builds it, keeping the Secret.
    let targeted = text.replacen("name: legacy", "name: no-such-secret", 1);
    let Some(t) = repo(&[(k, &targeted)]) else {
        return;
    };
    let Some(objects) = rendered(t.path(), "drop") else {
        return;
    };
    assert!(
        objects.iter().any(|(kind, _)| kind == "Secret"),
        "{objects:?}"
    );
    let (_, hits) = check(t.path(), &["--render=always"]);
    assert_modelled(&hits);
    assert!(
        hits.iter().all(|h| h.rule != "overlay-build-error"),
        "{hits:?}"
    );
    let dangling = of(&hits, "dangling-reference", "drop");
    assert_eq!(dangling.len(), 1, "only the SealedSecret is gone: {hits:?}");
}

/// A rename onto the id another object has fails kustomize ("may not add resource with an
/// already registered id"); the model reports that build error at the patch, and kubectl
/// agrees. `allowKindChange` stays not modelled, named at its patch entry.
#[test]
fn a_rename_onto_another_object_fails_and_kind_changes_are_not_modelled() {
    let k = "k8s/overlays/rename/kustomization.yaml";
    let fixture = common::repo_root().join("tests/fixtures/trees/smp-delete-rename");
    let text = std::fs::read_to_string(fixture.join(k)).unwrap();
    let other = std::fs::read_to_string(fixture.join(BASE_SECRETS))
        .unwrap()
        .replacen("name: app-secrets\n", "name: app-secrets-v2\n", 1);
    let other = other.split("\n---").next().unwrap().to_owned() + "\n";
    let with_other = text.replacen("  - ../../base\n", "  - ../../base\n  - other.yaml\n", 1);
    let Some(t) = repo(&[(k, &with_other), ("k8s/overlays/rename/other.yaml", &other)]) else {
        return;
    };
    if common::kubectl().is_some() {
        let out = common::kustomize_raw(&t.path().join("k8s/overlays/rename"));
        assert!(!out.status.success(), "kubectl builds the clash");
    }
    let (_, hits) = check(t.path(), &[]);
    let errs = of(&hits, "overlay-build-error", "rename");
    assert_eq!(errs.len(), 1, "{hits:?}");
    let line = line_of(t.path(), k, "apiVersion: bitnami.com");
    assert_eq!((errs[0].path.as_str(), errs[0].line), (k, line), "{hits:?}");
    assert!(
        errs[0].message.contains("already registered id"),
        "{hits:?}"
    );

    let kind_change = text.replacen("allowNameChange: true", "allowKindChange: true", 1);
    let Some(t) = repo(&[(k, &kind_change)]) else {
        return;
    };
    let (_, hits) = check(t.path(), &[]);
    let not_modelled = of(&hits, "overlay-not-modelled", "rename");
    assert_eq!(not_modelled.len(), 1, "{hits:?}");
    let line = line_of(t.path(), k, "- target:");
    assert_eq!(
        (not_modelled[0].path.as_str(), not_modelled[0].line),
        (k, line)
    );
    assert!(
        not_modelled[0].message.contains("allowKindChange"),
        "{hits:?}"
    );
}

/// A small git repository: `base/` holds Deployment `web` (`containers`), `overlays/prod`
/// includes it with a generated Secret `app-secrets` (key `DB_PASSWORD`) and `patches`.
fn ordered_repo(containers: &str, patches: &str) -> Option<tempfile::TempDir> {
    if common::which("git").is_none() {
        common::missing("git");
        return None;
    }
    let t = tempfile::tempdir().unwrap();
    let w = |rel: &str, text: &str| common::write(t.path(), rel, text);
    w("base/kustomization.yaml", "resources: [deployment.yaml]\n");
    w(
        "base/deployment.yaml",
        &format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n{containers}"
        ),
    );
    w(
        "overlays/prod/kustomization.yaml",
        &format!(
            "namespace: app-prod\nresources: [../../base]\nsecretGenerator:\n  - name: app-secrets\n    literals: [DB_PASSWORD=x]\n    options: {{disableNameSuffixHash: true}}\npatches:\n{patches}"
        ),
    );
    common::git(t.path(), &["init", "-q"]);
    common::git(t.path(), &["add", "-A"]);
    Some(t)
}

/// kustomize's strategic merge puts the list items a patch names first, in the patch's order,
/// then the others: a patch that only bumps a sidecar's image renders the sidecar first. The
/// model follows, so the render comparison of a valid overlay finds no divergence (it compared
/// references by list position and failed the release gate).
#[test]
fn a_patched_list_item_moves_to_the_front_as_in_kustomize() {
    let containers = "        - name: web\n          image: nginx\n          envFrom: [{secretRef: {name: app-secrets}}]\n        - name: sidecar\n          image: exporter:1.0\n";
    let patch = "  - patch: |-\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: web}\n      spec: {template: {spec: {containers: [{name: sidecar, image: exporter:1.1}]}}}\n";
    let Some(t) = ordered_repo(containers, patch) else {
        return;
    };
    let Some(_) = common::kubectl() else { return };
    let rendered = common::kustomize(&t.path().join("overlays/prod"));
    let sidecar = rendered.find("image: exporter:1.1").unwrap();
    assert!(
        sidecar < rendered.find("image: nginx").unwrap(),
        "{rendered}"
    );
    let (_, hits) = check(t.path(), &["--render=always"]);
    assert_modelled(&hits);
}

/// A JSON6902 op by index after a strategic merge reordered the list: kustomize applies it to
/// the item now at that index, so `DB_PASSWORD` reads the op's key, which the Secret lacks.
/// Plain `check` (no render) reports it where the op writes it.
#[test]
fn a_json_op_by_index_sees_the_order_a_strategic_merge_left() {
    let containers = "        - name: web\n          image: nginx\n          env:\n            - name: DB_PASSWORD\n              valueFrom: {secretKeyRef: {name: app-secrets, key: DB_PASSWORD}}\n            - name: TOKEN\n              valueFrom: {secretKeyRef: {name: app-secrets, key: DB_PASSWORD}}\n";
    let patches = "  - patch: |-\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: web}\n      spec: {template: {spec: {containers: [{name: web, env: [{name: TOKEN, value: plain}]}]}}}\n  - target: {kind: Deployment, name: web}\n    patch: |-\n      - op: replace\n        path: /spec/template/spec/containers/0/env/1/valueFrom/secretKeyRef/key\n        value: RENAMED_KEY\n";
    let Some(t) = ordered_repo(containers, patches) else {
        return;
    };
    if common::kubectl().is_some() {
        let rendered = common::kustomize(&t.path().join("overlays/prod"));
        let renamed = rendered.find("key: RENAMED_KEY").expect(&rendered);
        assert!(
            rendered[..renamed].contains("name: DB_PASSWORD"),
            "{rendered}"
        );
    }
    let (code, hits) = check(t.path(), &[]);
    assert_eq!(code, 1, "{hits:?}");
    let missing: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.rule == "missing-secret-key")
        .collect();
    assert_eq!(missing.len(), 1, "{hits:?}");
    assert!(missing[0].message.contains("`RENAMED_KEY`"), "{hits:?}");
    assert_eq!(missing[0].path, "overlays/prod/kustomization.yaml");
    assert_eq!(missing[0].line, 17, "{hits:?}");
}
