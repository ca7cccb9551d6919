//! `check` against `kubectl kustomize` on patches a prober found modelled wrongly: target
//! patterns (Go regular expressions), labels added before a `labelSelector` target, patch
//! fields in another case, JSON6902 ops on `/kind`, builds kustomize refuses, strategic-merge
//! `$patch` directives, and where a reference written by JSON6902 ops is located.
//!
//! Every tree is the same small repository: a base Deployment reading Secret `app-secrets`
//! through `envFrom`, and overlay `prod` (namespace `app-prod`) holding a SealedSecret sealed by
//! emp-seal for `app-prod/app-secrets`, on which `check --release prod` passes. Each test appends
//! to the overlay's kustomization; the real `kubectl kustomize` says what kustomize does with it.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::Path;

use yaml_serde::Value;

use crate::common::{self, check_hits as check, line_of, of, write};

const KUSTOMIZATION: &str = "k8s/overlays/prod/kustomization.yaml";

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
        - name: app
          image: nginx
          envFrom: [{secretRef: {name: app-secrets}}]
";

const SEALED: &str = "\
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: app-secrets
  namespace: app-prod
spec:
  encryptedData:
    API_KEY: x
  template:
    metadata: {name: app-secrets, namespace: app-prod}
";

/// The tree, sealed, with `tail` appended to the overlay's kustomization and `extra` files
/// written (`None` when git is missing outside CI).
fn tree(tail: &str, extra: &[(&str, &str)]) -> Option<tempfile::TempDir> {
    if common::which("git").is_none() {
        common::missing("git");
        return None;
    }
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(
        root,
        "k8s/base/kustomization.yaml",
        "resources: [deployment.yaml]\n",
    );
    write(root, "k8s/base/deployment.yaml", DEPLOYMENT);
    write(root, "k8s/overlays/prod/sealedsecret.yaml", SEALED);
    let kustomization = "namespace: app-prod\nresources: [../../base, sealedsecret.yaml]\n";
    write(root, KUSTOMIZATION, kustomization);
    std::fs::copy(
        common::repo_root().join("tests/fixtures/certs/rsa-4096-cert.pem"),
        root.join("k8s/overlays/prod/sealing-cert.pem"),
    )
    .unwrap();
    write(root, "k8s/overlays/prod/secrets.env.example", "API_KEY=\n");
    let env = tempfile::tempdir().unwrap();
    let env_file = env.path().join("prod.env");
    std::fs::write(&env_file, "API_KEY=test-only-1\n").unwrap();
    common::git(root, &["init", "-q"]);
    let sealed = common::emp_seal()
        .arg("-C")
        .arg(root)
        .args(["-q", "seal", "--from"])
        .arg(&env_file)
        .arg("prod")
        .output()
        .unwrap();
    assert!(
        sealed.status.success(),
        "{}",
        String::from_utf8_lossy(&sealed.stderr)
    );
    write(root, KUSTOMIZATION, &format!("{kustomization}{tail}"));
    for (rel, text) in extra {
        write(root, rel, text);
    }
    common::git(root, &["add", "-A"]);
    Some(t)
}

/// kubectl's render of the overlay: `Ok(objects)` or `Err(stderr)`; `None` when kubectl is
/// missing outside CI.
fn kubectl(root: &Path) -> Option<Result<Vec<Value>, String>> {
    common::kubectl()?;
    let out = common::kustomize_raw(&root.join("k8s/overlays/prod"));
    if !out.status.success() {
        return Some(Err(String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    let text = String::from_utf8(out.stdout).unwrap();
    let docs = yaml_serde::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    Some(Ok(docs))
}

/// The rendered SealedSecret (kubectl must build the overlay).
fn rendered_sealed(root: &Path) -> Option<Value> {
    let objects = kubectl(root)?.expect("kubectl builds the overlay");
    let sealed = objects
        .into_iter()
        .find(|o| o.get("kind").and_then(Value::as_str) == Some("SealedSecret"));
    Some(sealed.expect("a SealedSecret renders"))
}

fn name_of(o: &Value) -> &str {
    o.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap()
}

/// kubectl fails to build the overlay, its error mentioning `needle`.
fn kubectl_refuses(root: &Path, needle: &str) {
    let Some(out) = kubectl(root) else { return };
    let err = out.expect_err("kubectl builds it");
    assert!(err.contains(needle), "kubectl: {err}");
}

/// `check --release prod` reports exactly one `overlay-build-error`, at `line` of the overlay's
/// kustomization, its message containing `needle`.
fn one_build_error(root: &Path, line: u64, needle: &str) {
    let (code, hits) = check(root, &["--release", "prod"]);
    assert_eq!(code, 1, "{hits:?}");
    let errs = of(&hits, "overlay-build-error");
    assert_eq!(errs.len(), 1, "{hits:?}");
    assert_eq!((errs[0].path.as_str(), errs[0].line), (KUSTOMIZATION, line));
    assert!(errs[0].message.contains(needle), "{}", errs[0].message);
}

/// The SealedSecret renamed by kubectl to `app-secrets-v2` is judged under that name: the
/// model renamed it too (`identity-mismatch`), with no `overlay-not-modelled` and no divergence
/// from the render.
fn renamed_as_kubectl_renders(root: &Path) {
    let Some(sealed) = rendered_sealed(root) else {
        return;
    };
    assert_eq!(name_of(&sealed), "app-secrets-v2");
    for args in [&["--release", "prod"][..], &["--render=always"]] {
        let (code, hits) = check(root, args);
        assert_eq!(code, 1, "{args:?}: {hits:?}");
        let mismatch = of(&hits, "identity-mismatch");
        assert_eq!(mismatch.len(), 1, "{args:?}: {hits:?}");
        assert!(
            mismatch[0].message.contains("app-prod/app-secrets-v2"),
            "{}",
            mismatch[0].message
        );
        for rule in ["overlay-not-modelled", "model-divergence", "render-failed"] {
            assert!(of(&hits, rule).is_empty(), "{args:?}: {hits:?}");
        }
    }
}

/// Baseline: the tree as sealed passes, in the model and in kubectl's render.
#[test]
fn the_sealed_tree_passes() {
    let Some(t) = tree("", &[]) else { return };
    let Some(sealed) = rendered_sealed(t.path()) else {
        return;
    };
    assert_eq!(name_of(&sealed), "app-secrets");
    let (code, hits) = check(t.path(), &["--release", "prod", "--render=always"]);
    assert_eq!((code, hits.len()), (0, 0), "{hits:?}");
}

const RENAME: &str = "      - {op: replace, path: /metadata/name, value: app-secrets-v2}\n";

/// Target patterns are Go regular expressions anchored as `^(?:...)$`: `\w+` is a class of
/// word characters (the model read `\w` as the letter `w` and selected nothing), and a pattern
/// Go refuses fails the build (the model accepted it silently).
#[test]
fn target_patterns_are_go_regular_expressions() {
    let tail = format!(
        "patches:\n  - target: {{kind: SealedSecret, name: 'app-\\w+'}}\n    patch: |\n{RENAME}"
    );
    let Some(t) = tree(&tail, &[]) else { return };
    renamed_as_kubectl_renders(t.path());

    let invalid = tail.replace("app-\\w+", "*-secrets");
    let Some(t) = tree(&invalid, &[]) else { return };
    kubectl_refuses(t.path(), "error parsing regexp");
    let line = line_of(t.path(), KUSTOMIZATION, "target:");
    one_build_error(
        t.path(),
        line,
        "`*-secrets` is not a valid regular expression",
    );
}

/// Labels `commonLabels` and `labels` add are in `metadata.labels` when a later patch selects
/// by `labelSelector` (the model ignored them and selected nothing): a base's labels for the
/// overlay's `patches`, the same kustomization's for its `patchesJson6902`, which kustomize
/// runs after the labels; its `patches` run before them and do not see them.
#[test]
fn labels_added_below_or_before_a_patch_are_selected_by_it() {
    let base = "k8s/base/kustomization.yaml";
    let base_labelled = "resources: [deployment.yaml]\ncommonLabels: {rotate: \"yes\"}\n";
    let tail = "patches:\n  - target: {kind: Deployment, labelSelector: rotate=yes}\n    patch: |\n      - {op: replace, path: /spec/template/spec/containers/0/envFrom/0/secretRef/name, value: other-secrets}\n";
    let Some(t) = tree(tail, &[(base, base_labelled)]) else {
        return;
    };
    let Some(Ok(objects)) = kubectl(t.path()) else {
        return;
    };
    let rendered = serde_json::to_string(&objects).unwrap();
    assert!(rendered.contains("other-secrets"), "{rendered}");
    let (code, hits) = check(t.path(), &["--release", "prod", "--render=always"]);
    assert_eq!(code, 1, "{hits:?}");
    let dangling = of(&hits, "dangling-reference");
    assert_eq!(dangling.len(), 1, "{hits:?}");
    let line = line_of(t.path(), KUSTOMIZATION, "other-secrets");
    assert_eq!(
        (dangling[0].path.as_str(), dangling[0].line),
        (KUSTOMIZATION, line)
    );
    assert!(of(&hits, "model-divergence").is_empty(), "{hits:?}");

    let json6902 = "labels: [{pairs: {rotate: \"yes\"}}]\npatchesJson6902:\n  - target: {kind: SealedSecret, name: app-secrets, labelSelector: rotate=yes}\n    patch: |\n";
    let Some(t) = tree(&format!("{json6902}{RENAME}"), &[]) else {
        return;
    };
    renamed_as_kubectl_renders(t.path());

    let same_level = format!(
        "commonLabels: {{rotate: \"yes\"}}\npatches:\n  - target: {{kind: SealedSecret, labelSelector: rotate=yes}}\n    patch: |\n{RENAME}"
    );
    let Some(t) = tree(&same_level, &[]) else {
        return;
    };
    let Some(sealed) = rendered_sealed(t.path()) else {
        return;
    };
    assert_eq!(name_of(&sealed), "app-secrets");
    let (code, hits) = check(t.path(), &["--release", "prod", "--render=always"]);
    assert_eq!((code, hits.len()), (0, 0), "{hits:?}");
}

/// Patch entry and target fields are decoded case-insensitively, as kustomize decodes them
/// (Go `encoding/json`): `Target:`/`Patch:` were dropped (nothing patched), and a `Name:` in a
/// target was ignored (every SealedSecret patched). Of two spellings, the one sorting last
/// wins; an unknown field fails the build.
#[test]
fn patch_fields_in_another_case_are_read_as_kustomize_reads_them() {
    let tail = format!("patches:\n  - Target: {{kind: SealedSecret}}\n    Patch: |\n{RENAME}");
    let Some(t) = tree(&tail, &[]) else { return };
    renamed_as_kubectl_renders(t.path());

    for target in [
        "{kind: SealedSecret, Name: nomatch}",
        "{kind: SealedSecret, Name: app-secrets, name: nomatch}",
    ] {
        let tail = format!("patches:\n  - target: {target}\n    patch: |\n{RENAME}");
        let Some(t) = tree(&tail, &[]) else { return };
        let Some(sealed) = rendered_sealed(t.path()) else {
            return;
        };
        assert_eq!(name_of(&sealed), "app-secrets", "{target}");
        let (code, hits) = check(t.path(), &["--release", "prod", "--render=always"]);
        assert_eq!((code, hits.len()), (0, 0), "{target}: {hits:?}");
    }

    let tail = format!(
        "patches:\n  - target: {{kind: SealedSecret, nam: nomatch}}\n    patch: |\n{RENAME}"
    );
    let Some(t) = tree(&tail, &[]) else { return };
    kubectl_refuses(t.path(), "unknown field");
    let line = line_of(t.path(), KUSTOMIZATION, "target:");
    one_build_error(t.path(), line, "unknown field `nam`");
}

/// A JSON6902 op that replaces `/kind` or `/apiVersion` changes what the object is; the model
/// keeps both, so the overlay is not modelled (it was silently judged as unchanged).
#[test]
fn json_ops_on_kind_or_api_version_are_not_modelled() {
    for op in [
        "{op: replace, path: /apiVersion, value: bitnami.com/v1alpha2}",
        "{op: add, path: /kind, value: SealedSecretV2}",
    ] {
        let tail =
            format!("patches:\n  - target: {{kind: SealedSecret}}\n    patch: |\n      - {op}\n");
        let Some(t) = tree(&tail, &[]) else { return };
        let Some(Ok(_)) = kubectl(t.path()) else {
            return;
        };
        let (code, hits) = check(t.path(), &["--release", "prod"]);
        assert_eq!(code, 1, "{op}: {hits:?}");
        let not_modelled = of(&hits, "overlay-not-modelled");
        assert_eq!(not_modelled.len(), 1, "{op}: {hits:?}");
        let line = line_of(t.path(), KUSTOMIZATION, op);
        assert_eq!(
            (not_modelled[0].path.as_str(), not_modelled[0].line),
            (KUSTOMIZATION, line)
        );
    }
}

/// Builds kustomize refuses are `overlay-build-error`s at the line that causes them (each
/// passed `check`, or was judged as if kustomize built it).
#[test]
fn patches_kustomize_refuses_are_build_errors() {
    let json = |ops: &str| {
        format!(
            "patches:\n  - target: {{kind: SealedSecret, name: app-secrets}}\n    patch: |\n{ops}"
        )
    };
    let cases: Vec<(String, &str, &str, &str)> = vec![
        (
            json(&format!(
                "      - {{op: test, path: /metadata/name, value: other}}\n{RENAME}"
            )),
            "test failed",
            "op: test",
            "testing value /metadata/name failed",
        ),
        (
            json("      - {op: replace, path: /spec/a/b, value: x}\n"),
            "doc is missing path",
            "/spec/a/b",
            "replace operation does not apply: doc is missing path",
        ),
        (
            json("      - {op: add, path: '', value: {a: b}}\n"),
            "doc is missing path",
            "path: ''",
            "add operation does not apply",
        ),
        (
            json("      - {op: add, path: /spec/template/spec/containers/0/env/-, value: x}\n"),
            "doc is missing path",
            "env/-",
            "add operation does not apply",
        ),
        (
            "patches: [null]\n".to_owned(),
            "must specify one of patch and path",
            "patches:",
            "must specify one of patch and path",
        ),
        (
            format!(
                "patches:\n  - path: p.yaml\n    target: {{kind: SealedSecret}}\n    patch: |\n{RENAME}"
            ),
            "patch and path can't be set at the same time",
            "path: p.yaml",
            "patch and path can't be set at the same time",
        ),
        (
            format!(
                "patchesJson6902:\n  - target: {{kind: SealedSecret, version: v1alpha1, group: bitnami.com}}\n    patch: |\n{RENAME}"
            ),
            "must specify the target name",
            "target:",
            "must specify the target name",
        ),
        (
            format!("patches:\n  - target: []\n    patch: |\n{RENAME}"),
            "cannot unmarshal array",
            "target:",
            "`target` must be a mapping",
        ),
        (
            "replicas: [{name: app, count: x}]\n".to_owned(),
            "cannot unmarshal string",
            "replicas:",
            "`count` must be",
        ),
    ];
    for (tail, kubectl_says, at, says) in cases {
        let Some(t) = tree(&tail, &[]) else { return };
        kubectl_refuses(t.path(), kubectl_says);
        let line = line_of(t.path(), KUSTOMIZATION, at);
        one_build_error(t.path(), line, says);
    }
}

/// A strategic-merge patch whose top level is `$patch: replace` leaves the object as it was in
/// kustomize's render (kyaml's replacement node is not kept); the model dropped every key.
#[test]
fn a_top_level_replace_patch_leaves_the_object_as_it_was() {
    let tail = "patches:\n  - patch: |\n      apiVersion: bitnami.com/v1alpha1\n      kind: SealedSecret\n      metadata: {name: app-secrets, namespace: app-prod}\n      $patch: replace\n      spec:\n        template:\n          metadata: {labels: {x: y}}\n";
    let Some(t) = tree(tail, &[]) else { return };
    let Some(sealed) = rendered_sealed(t.path()) else {
        return;
    };
    let data = sealed.get("spec").and_then(|s| s.get("encryptedData"));
    assert!(data.and_then(|d| d.get("API_KEY")).is_some(), "{sealed:?}");
    let template = serde_json::to_string(&sealed).unwrap();
    assert!(!template.contains("\"x\""), "{template}");
    let (code, hits) = check(t.path(), &["--release", "prod", "--render=always"]);
    assert_eq!((code, hits.len()), (0, 0), "{hits:?}");
}

/// `$patch` inside `encryptedData` of an inline strategic-merge patch is a directive, not a key
/// the patch writes: it was reported as a value that is not ciphertext. The patch writes the
/// file's own value, which the file's `cert-sha256` record covers; the same patch carrying a
/// value sealed elsewhere (another tree's seal) is reported by `stale-certificate` alone, at the
/// patch's line: no record says which certificate sealed it.
#[test]
fn a_directive_inside_encrypted_data_is_not_a_key() {
    let Some(t) = tree("", &[]) else { return };
    let sealed =
        std::fs::read_to_string(t.path().join("k8s/overlays/prod/sealedsecret.yaml")).unwrap();
    let doc: Value = yaml_serde::from_str(&sealed).unwrap();
    let value = doc["spec"]["encryptedData"]["API_KEY"]
        .as_str()
        .unwrap()
        .to_owned();
    let patch = |body: &str| {
        format!(
            "patches:\n  - patch: |\n      apiVersion: bitnami.com/v1alpha1\n      kind: SealedSecret\n      metadata: {{name: app-secrets, namespace: app-prod}}\n      spec:\n        encryptedData:\n{body}"
        )
    };
    let replace = patch(&format!(
        "          $patch: replace\n          API_KEY: {value}\n"
    ));
    let kustomization = std::fs::read_to_string(t.path().join(KUSTOMIZATION)).unwrap();
    write(
        t.path(),
        KUSTOMIZATION,
        &format!("{kustomization}{replace}"),
    );
    common::git(t.path(), &["add", "-A"]);
    let Some(rendered) = rendered_sealed(t.path()) else {
        return;
    };
    let keys = rendered["spec"]["encryptedData"].as_mapping().unwrap();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let (code, hits) = check(t.path(), &["--release", "prod", "--render=always"]);
    assert_eq!((code, hits.len()), (0, 0), "{hits:?}");

    let Some(t) = tree(&replace, &[]) else { return };
    let (code, hits) = check(t.path(), &["--release", "prod", "--render=always"]);
    let at: Vec<(&str, &str, u64)> = hits
        .iter()
        .map(|h| (h.rule.as_str(), h.path.as_str(), h.line))
        .collect();
    let line = std::fs::read_to_string(t.path().join(KUSTOMIZATION))
        .unwrap()
        .lines()
        .position(|l| l.trim_start().starts_with("API_KEY: "))
        .unwrap() as u64
        + 1;
    assert_eq!(code, 1, "{hits:?}");
    assert_eq!(at, [("stale-certificate", KUSTOMIZATION, line)], "{hits:?}");

    let delete = patch("          $patch: delete\n");
    let Some(t) = tree(&delete, &[]) else { return };
    let Some(rendered) = rendered_sealed(t.path()) else {
        return;
    };
    assert!(
        rendered["spec"].get("encryptedData").is_none(),
        "{rendered:?}"
    );
    let (_, hits) = check(t.path(), &["--release", "prod", "--render=always"]);
    assert!(of(&hits, "placeholder-ciphertext").is_empty(), "{hits:?}");
    assert!(of(&hits, "model-divergence").is_empty(), "{hits:?}");
}

/// A reference a JSON6902 `add` appends to a list is located at its line inside that op's value
/// even when a later op inserts an item before it (the model lost it and pointed at line 1 of
/// the base Deployment).
#[test]
fn a_reference_moved_by_a_later_insert_keeps_its_op_line() {
    let deployment = DEPLOYMENT.replace(
        "          envFrom:",
        "          env: [{name: MODE, value: x}]\n          envFrom:",
    );
    let tail = "patches:\n  - target: {kind: Deployment, name: app}\n    patch: |\n      - op: add\n        path: /spec/template/spec/containers/0/env/-\n        value:\n          name: TOKEN\n          valueFrom: {secretKeyRef: {name: app-secrets, key: MISSING}}\n      - op: add\n        path: /spec/template/spec/containers/0/env/0\n        value: {name: FIRST, value: \"1\"}\n";
    let Some(t) = tree(tail, &[("k8s/base/deployment.yaml", &deployment)]) else {
        return;
    };
    let Some(Ok(objects)) = kubectl(t.path()) else {
        return;
    };
    let env = &objects[0]["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(
        env[2]["valueFrom"]["secretKeyRef"]["key"].as_str(),
        Some("MISSING")
    );
    let (_, hits) = check(t.path(), &["--release", "prod"]);
    let missing = of(&hits, "missing-secret-key");
    assert_eq!(missing.len(), 1, "{hits:?}");
    let key_line = line_of(t.path(), KUSTOMIZATION, "key: MISSING");
    assert_eq!(
        (missing[0].path.as_str(), missing[0].line),
        (KUSTOMIZATION, key_line)
    );
}
