//! Variants (a kustomization wrapping an environment's overlay, deployed in its place: the
//! shipped `k8s/no-keda/paper`) are judged as deployments of their environment: a reference, a
//! key read or a shadowing Secret that only the variant renders is a finding of `check` and of
//! `check --release`, placed where the variant (or the overlay) wrote it and naming the variant;
//! one the environment's own model has too is reported once, as the environment's.
//!
//! Every case edits a copy of the shipped tree and asks the real `kubectl kustomize` that the
//! variant renders what the test says it does.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use crate::common::{self, Hit, check_hits as check, line_of, of, write};

const VARIANT: &str = "k8s/no-keda/paper";
const VARIANT_FILE: &str = "k8s/no-keda/paper/kustomization.yaml";
const NAMED: &str = "overlay paper, variant `k8s/no-keda/paper`:";

/// A copy of the shipped tree whose paper variant has `extra` appended to its kustomization,
/// with the variant's real render; `None` (said by `common::missing`) without kubectl or git.
fn variant_with(extra: &str) -> Option<(tempfile::TempDir, String)> {
    common::kubectl()?;
    let t = common::shipped_git_copy()?;
    let text = std::fs::read_to_string(t.path().join(VARIANT_FILE)).unwrap();
    write(t.path(), VARIANT_FILE, &format!("{text}{extra}"));
    common::git(t.path(), &["add", "-A"]);
    let rendered = common::kustomize(&t.path().join(VARIANT));
    Some((t, rendered))
}

/// The findings of `rule` from `check` and from `check --release paper`, which must agree: a
/// variant deploys its environment, so the release gate judges it too.
fn both(root: &Path, rule: &str) -> Vec<Hit> {
    let (code, hits) = check(root, &[]);
    let (release_code, release_hits) = check(root, &["--release", "paper"]);
    let found: Vec<Hit> = of(&hits, rule).into_iter().cloned().collect();
    let released: Vec<Hit> = of(&release_hits, rule).into_iter().cloned().collect();
    assert!(!found.is_empty(), "no {rule}: {hits:?}");
    assert_eq!((code, release_code), (1, 1), "{hits:?} {release_hits:?}");
    let places = |h: &[Hit]| {
        h.iter()
            .map(|h| (h.path.clone(), h.line, h.message.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(places(&found), places(&released));
    found
}

/// D2, case 1: the variant's own JSON 6902 patch points the Deployment's `secretRef` at a Secret
/// nothing renders. Reported at the patch's `value:` line, naming the variant.
#[test]
fn a_variant_patch_naming_a_missing_secret_is_a_dangling_reference_at_its_line() {
    let patch = "\
patches:
  - target: {kind: Deployment, name: emp-app}
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/envFrom/1/secretRef/name
        value: emp-secretz
";
    let Some((t, rendered)) = variant_with(patch) else {
        return;
    };
    assert!(rendered.contains("name: emp-secretz"), "{rendered}");
    let hits = both(t.path(), "dangling-reference");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].path, VARIANT_FILE);
    assert_eq!(
        hits[0].line,
        line_of(t.path(), VARIANT_FILE, "value: emp-secretz")
    );
    assert!(hits[0].message.starts_with(NAMED), "{hits:?}");
    assert!(hits[0].message.contains("`emp-secretz`"), "{hits:?}");
}

/// D2, case 2: the variant deletes the `SealedSecret` while the workloads still read
/// `emp-secrets`: each reader's reference dangles in the variant, at the base's line.
#[test]
fn a_variant_deleting_the_sealed_secret_leaves_its_readers_dangling() {
    let patch = "\
patches:
  - patch: |-
      $patch: delete
      apiVersion: bitnami.com/v1alpha1
      kind: SealedSecret
      metadata: {name: emp-secrets, namespace: emp-paper}
";
    let Some((t, rendered)) = variant_with(patch) else {
        return;
    };
    assert!(!rendered.contains("kind: SealedSecret"), "{rendered}");
    assert!(rendered.contains("name: emp-secrets"), "{rendered}");
    let hits = both(t.path(), "dangling-reference");
    let deployment = "k8s/base/deployment.yaml";
    let at = line_of(t.path(), deployment, "name: emp-secrets");
    assert!(
        hits.iter().any(|h| h.path == deployment && h.line == at),
        "{hits:?}"
    );
    for h in &hits {
        assert!(h.message.starts_with(NAMED), "{h:?}");
        assert!(h.message.contains("Secret `emp-secrets`"), "{h:?}");
    }
}

/// D2, case 3: the variant generates a Secret with the name and namespace the `SealedSecret`
/// unseals into, so the workloads would read the generated one. Reported at the `SealedSecret`,
/// with the variant's generator as the related place.
#[test]
fn a_variant_generating_the_sealed_secrets_secret_shadows_it() {
    let generator = "\
secretGenerator:
  - name: emp-secrets
    namespace: emp-paper
    literals: [API_KEY=]
    options: {disableNameSuffixHash: true}
";
    let Some((t, rendered)) = variant_with(generator) else {
        return;
    };
    let docs: Vec<&str> = rendered.split("\n---\n").collect();
    let secret = docs.iter().find(|d| d.contains("\nkind: Secret\n"));
    assert!(
        secret
            .is_some_and(|d| d.contains("name: emp-secrets") && d.contains("namespace: emp-paper")),
        "{rendered}"
    );
    assert!(rendered.contains("kind: SealedSecret"), "{rendered}");
    let hits = both(t.path(), "sealed-secret-shadowed");
    assert_eq!(hits.len(), 1, "{hits:?}");
    let sealed = "k8s/overlays/paper/sealedsecret.yaml";
    assert_eq!(hits[0].path, sealed);
    assert!(hits[0].message.starts_with(NAMED), "{hits:?}");
    let generator_at = format!(
        "{VARIANT_FILE}:{}",
        line_of(t.path(), VARIANT_FILE, "- name: emp-secrets")
    );
    assert!(hits[0].message.contains(&generator_at), "{hits:?}");
}

/// The variant's patch reads, by key, a key the `SealedSecret` does not hold: reported at the
/// patch's `key:` line, naming the variant.
#[test]
fn a_variant_reading_a_key_its_secret_lacks_is_a_missing_secret_key() {
    let patch = "\
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: emp-app
      spec:
        template:
          spec:
            containers:
              - name: emp-app
                env:
                  - name: SMTP_PASSWORD
                    valueFrom:
                      secretKeyRef:
                        name: emp-secrets
                        key: SMTP_PASSWORD
";
    let Some((t, rendered)) = variant_with(patch) else {
        return;
    };
    assert!(rendered.contains("key: SMTP_PASSWORD"), "{rendered}");
    let hits = both(t.path(), "missing-secret-key");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].path, VARIANT_FILE);
    assert_eq!(
        hits[0].line,
        line_of(t.path(), VARIANT_FILE, "key: SMTP_PASSWORD")
    );
    assert!(hits[0].message.starts_with(NAMED), "{hits:?}");
    assert!(hits[0].message.contains("`SMTP_PASSWORD`"), "{hits:?}");
}

/// A broken reference the overlay writes is the environment's: its variants render it too, and
/// it is reported once, at the overlay's line, naming the overlay only.
#[test]
fn a_reference_the_variant_shares_with_its_overlay_is_reported_once() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    if common::kubectl().is_none() {
        return;
    }
    let overlay = "k8s/overlays/paper/kustomization.yaml";
    let text = std::fs::read_to_string(t.path().join(overlay)).unwrap();
    // Appended to the overlay's `patches:` list (its last entry).
    let patch = "  - target: {kind: Deployment, name: emp-app}
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/envFrom/1/secretRef/name
        value: emp-secretz
";
    write(t.path(), overlay, &format!("{text}{patch}"));
    common::git(t.path(), &["add", "-A"]);
    let rendered = common::kustomize(&t.path().join(VARIANT));
    assert!(rendered.contains("name: emp-secretz"), "{rendered}");
    let hits = both(t.path(), "dangling-reference");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(
        (hits[0].path.as_str(), hits[0].line),
        (overlay, line_of(t.path(), overlay, "value: emp-secretz"))
    );
    assert!(hits[0].message.starts_with("overlay paper: "), "{hits:?}");
}

/// The variant's patch drops a key from the `SealedSecret`: the Secret it deploys lacks a key of
/// the environment's key set, reported at the `SealedSecret`'s `encryptedData`, naming the
/// variant.
#[test]
fn a_variant_dropping_a_sealed_key_is_an_example_sealed_mismatch() {
    let patch = "\
patches:
  - target: {kind: SealedSecret, name: emp-secrets}
    patch: |-
      - op: remove
        path: /spec/encryptedData/API_KEY
";
    let Some((t, rendered)) = variant_with(patch) else {
        return;
    };
    assert!(rendered.contains("kind: SealedSecret"), "{rendered}");
    assert!(!rendered.contains("API_KEY:"), "{rendered}");
    let hits = both(t.path(), "example-sealed-mismatch");
    assert_eq!(hits.len(), 1, "{hits:?}");
    let sealed = "k8s/overlays/paper/sealedsecret.yaml";
    assert_eq!(
        (hits[0].path.as_str(), hits[0].line),
        (sealed, line_of(t.path(), sealed, "encryptedData:"))
    );
    assert!(hits[0].message.starts_with(NAMED), "{hits:?}");
    assert!(hits[0].message.contains("`API_KEY`"), "{hits:?}");
}
