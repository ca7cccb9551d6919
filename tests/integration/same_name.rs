//! One file holding two SealedSecrets of one name in two namespaces (legal: kustomize tells
//! objects apart by name and namespace). The rules look a rendered SealedSecret's document up by
//! its name and namespace as written, as `seal` does; by name only, the second was judged by the
//! first one's claims.
//!
//! The tree is written into a temp git repository; the real `kubectl kustomize` renders both
//! objects, each in its own namespace.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::Path;

use crate::common::{self, Hit, check_hits};

const FILE: &str = "k8s/overlays/prod/sealedsecrets.yaml";

/// `app` in `prod` (its claims agree with its rendered identity), then `app` in `staging`
/// whose template claims namespace `staging-old`: a true mismatch, strict scope binding it.
const SEALED: &str = "\
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: app
  namespace: prod
spec:
  encryptedData:
    API_KEY: AgBy3i4OJSWK+PiTySYZZA==
  template:
    metadata:
      name: app
      namespace: prod
---
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: app
  namespace: staging
spec:
  encryptedData:
    API_KEY: AgBy3i4OJSWK+PiTySYZZA==
  template:
    metadata:
      name: app
      namespace: staging-old
";

fn tree() -> Option<tempfile::TempDir> {
    if common::which("git").is_none() {
        common::missing("git");
        return None;
    }
    let t = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let p = t.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "k8s/overlays/prod/kustomization.yaml",
        "resources:\n  - sealedsecrets.yaml\n",
    );
    write(FILE, SEALED);
    common::git(t.path(), &["init", "-q"]);
    common::git(t.path(), &["add", "-A"]);
    Some(t)
}

fn line_of(root: &Path, needle: &str) -> u64 {
    let text = std::fs::read_to_string(root.join(FILE)).unwrap();
    let idx = text.lines().position(|l| l.contains(needle));
    assert!(idx.is_some(), "{needle:?} not in {FILE}");
    u64::try_from(idx.unwrap() + 1).unwrap()
}

/// The `staging` SealedSecret is reported for its own template claim (`staging-old`), and
/// nothing else is: by name only, its claims were read from the `prod` document (a false
/// `metadata.namespace prod` finding, and the true one missed).
#[test]
fn identity_mismatch_reads_each_sealed_secret_of_a_shared_name_by_its_namespace() {
    let Some(t) = tree() else { return };
    if common::kubectl().is_none() {
        common::missing("kubectl");
    } else {
        let render = common::kustomize(&t.path().join("k8s/overlays/prod"));
        assert!(render.contains("namespace: prod"), "{render}");
        assert!(render.contains("namespace: staging\n"), "{render}");
        assert!(render.contains("namespace: staging-old"), "{render}");
    }
    let (_, hits) = check_hits(t.path(), &[]);
    let found: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.rule == "identity-mismatch")
        .collect();
    assert_eq!(found.len(), 1, "{hits:?}");
    let at = (found[0].path.as_str(), found[0].line);
    assert_eq!(at, (FILE, line_of(t.path(), "namespace: staging-old")));
    let m = &found[0].message;
    assert!(
        m.contains("spec.template.metadata.namespace `staging-old`") && m.contains("staging/app"),
        "{m}"
    );
}
