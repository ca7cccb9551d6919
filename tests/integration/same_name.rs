//! One file holding two SealedSecrets (or two Secrets) of one name in two namespaces (legal:
//! kustomize tells objects apart by name and namespace). The rules look a rendered object's
//! document up by its name and namespace as written, as `seal` does; by name only, the second
//! was judged by the first one's claims.
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
    common::staged_repo(&[
        (
            "k8s/overlays/prod/kustomization.yaml",
            "resources:\n  - sealedsecrets.yaml\n",
        ),
        (FILE, SEALED),
    ])
}

/// The prod overlay rendered by the real `kubectl kustomize` (the oracle), or `None` (reported)
/// where kubectl is missing.
fn render(root: &Path) -> Option<String> {
    common::kubectl()?;
    Some(common::kustomize(&root.join("k8s/overlays/prod")))
}

fn line_of(root: &Path, needle: &str) -> u64 {
    line_in(root, FILE, needle, 0)
}

/// The 1-based line of the first line of `file` after line `after` that holds `needle`.
fn line_in(root: &Path, file: &str, needle: &str, after: u64) -> u64 {
    let text = std::fs::read_to_string(root.join(file)).unwrap();
    let skip = usize::try_from(after).unwrap();
    let idx = text.lines().skip(skip).position(|l| l.contains(needle));
    assert!(idx.is_some(), "{needle:?} not in {file} after line {after}");
    u64::try_from(idx.unwrap() + skip + 1).unwrap()
}

/// The `staging` SealedSecret is reported for its own template claim (`staging-old`), and
/// nothing else is: by name only, its claims were read from the `prod` document (a false
/// `metadata.namespace prod` finding, and the true one missed).
#[test]
fn identity_mismatch_reads_each_sealed_secret_of_a_shared_name_by_its_namespace() {
    let Some(t) = tree() else { return };
    if let Some(render) = render(t.path()) {
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

/// `db` in namespace `a` records the demo certificate's fingerprint; `db` in namespace `b`, in
/// the same file, records nothing (sealed by kubeseal) but its value was sealed with the demo
/// certificate too. Under `--release` both are reported: `a` at its record, `b` at its value.
/// The SealedSecrets already reported by their record were remembered by file and name only, so
/// `b`'s value was taken for `a`'s and dropped.
#[test]
fn sealed_with_demo_certificate_tells_a_shared_name_apart_by_namespace() {
    let Some(mut peer) = common::Peer::start() else {
        return;
    };
    let root = common::repo_root();
    let demo =
        std::fs::read_to_string(root.join("tests/fixtures/demo/paper-sealing-cert.pem")).unwrap();
    let own = std::fs::read_to_string(root.join("tests/fixtures/certs/rsa-2048-cert.pem")).unwrap();
    let demo_sha = emp_seal::cert::Certificate::from_pem(demo.as_bytes())
        .unwrap()
        .sha256_fingerprint();
    let sealed = |ns: &str, peer: &mut common::Peer| {
        let label = format!("{ns}/db");
        common::b64(&peer.encrypt(&demo, label.as_bytes(), b"not-a-secret"))
    };
    let doc = |ns: &str, annotations: &str, value: &str| {
        format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  namespace: {ns}\n{annotations}spec:\n  encryptedData:\n    API_KEY: {value}\n  template:\n    metadata:\n      name: db\n      namespace: {ns}\n"
        )
    };
    let record = format!("  annotations:\n    emp-seal.dev/cert-sha256: \"{demo_sha}\"\n");
    let text = format!(
        "{}---\n{}",
        doc("a", &record, &sealed("a", &mut peer)),
        doc("b", "", &sealed("b", &mut peer))
    );
    let Some(t) = common::staged_repo(&[
        (
            "k8s/overlays/prod/kustomization.yaml",
            "resources:\n  - sealedsecrets.yaml\n",
        ),
        ("k8s/overlays/prod/sealing-cert.pem", &own),
        (FILE, &text),
    ]) else {
        return;
    };
    if let Some(render) = render(t.path()) {
        assert!(render.contains("namespace: a\n"), "{render}");
        assert!(render.contains("namespace: b\n"), "{render}");
    }
    let (code, hits) = check_hits(t.path(), &["--release", "prod"]);
    assert_eq!(code, 1);
    let mut found: Vec<u64> = hits
        .iter()
        .filter(|h| h.rule == "sealed-with-demo-certificate")
        .map(|h| {
            assert_eq!(h.path, FILE, "{h:?}");
            h.line
        })
        .collect();
    found.sort_unstable();
    let b = line_of(t.path(), "namespace: b");
    assert_eq!(
        found,
        [
            line_of(t.path(), "emp-seal.dev/cert-sha256"),
            line_in(t.path(), FILE, "API_KEY:", b),
        ],
        "{hits:?}"
    );
}

/// A file holding two plain Secrets `db`: a service-account token Secret in namespace `a` (its
/// keys `token`, `ca.crt` and `namespace` are filled at run time) and an `Opaque` one in `b`
/// holding only `X`. A Deployment in each namespace reads key `token` of its `db`: `b`'s lacks
/// it, `a`'s has it. The Secret's document was found by file and name only, so whichever came
/// first in the file decided the type of both: `b`'s missing key was passed, or `a`'s token
/// reported missing.
#[test]
fn missing_secret_key_reads_each_secret_of_a_shared_name_by_its_namespace() {
    const TOKEN: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: a\n  annotations:\n    kubernetes.io/service-account.name: app\ntype: kubernetes.io/service-account-token\n";
    const OPAQUE: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: b\ntype: Opaque\ndata:\n  X: eHh4\n";
    let deployment = |ns: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  namespace: {ns}\nspec:\n  selector:\n    matchLabels: {{app: app}}\n  template:\n    metadata:\n      labels: {{app: app}}\n    spec:\n      containers:\n        - name: app\n          image: nginx\n          env:\n            - name: T\n              valueFrom:\n                secretKeyRef: {{name: db, key: token}}\n"
        )
    };
    let (dep_a, dep_b) = (deployment("a"), deployment("b"));
    for secrets in [
        format!("{TOKEN}---\n{OPAQUE}"),
        format!("{OPAQUE}---\n{TOKEN}"),
    ] {
        let Some(t) = common::staged_repo(&[
            (
                "k8s/overlays/prod/kustomization.yaml",
                "resources:\n  - secrets.yaml\n  - dep-a.yaml\n  - dep-b.yaml\n",
            ),
            ("k8s/overlays/prod/secrets.yaml", &secrets),
            ("k8s/overlays/prod/dep-a.yaml", &dep_a),
            ("k8s/overlays/prod/dep-b.yaml", &dep_b),
        ]) else {
            return;
        };
        if let Some(render) = render(t.path()) {
            for ns in ["a", "b"] {
                let n = render.matches(&format!("namespace: {ns}\n")).count();
                assert_eq!(n, 2, "a Secret and a Deployment in {ns}: {render}");
            }
        }
        let (_, hits) = check_hits(t.path(), &["--rules", "missing-secret-key"]);
        let found: Vec<(&str, u64)> = hits
            .iter()
            .filter(|h| h.rule == "missing-secret-key")
            .map(|h| (h.path.as_str(), h.line))
            .collect();
        let b = "k8s/overlays/prod/dep-b.yaml";
        assert_eq!(
            found,
            [(b, line_in(t.path(), b, "secretKeyRef", 0))],
            "{secrets}\n{hits:?}"
        );
    }
}

/// A Secret `db` in namespace `a` and one in `b`, in one file, each reading `${DB_PASSWORD}`
/// (under different keys), which a Flux Kustomization gives in plaintext; a patch opts `a` out
/// of the substitution. Only `b`'s key is reported: the documents each rendered Secret is read
/// from were found by file and name only, so `b` brought `a`'s document along, whose
/// `password` was reported though Flux leaves `a` alone.
#[test]
fn plaintext_secret_reads_flux_substitutions_of_a_shared_name_by_namespace() {
    let secret = |ns: &str, key: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: {ns}\nstringData:\n  {key}: ${{DB_PASSWORD}}\n"
        )
    };
    let secrets = format!("{}---\n{}", secret("a", "password"), secret("b", "token"));
    let opt_out = "patches:\n  - patch: |\n      apiVersion: v1\n      kind: Secret\n      metadata:\n        name: db\n        namespace: a\n        annotations: {kustomize.toolkit.fluxcd.io/substitute: disabled}\n";
    let flux = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: app, namespace: flux-system}\nspec:\n  interval: 10m\n  path: ./k8s/overlays/prod\n  prune: true\n  sourceRef: {kind: GitRepository, name: flux-system}\n  postBuild:\n    substitute:\n      DB_PASSWORD: \"Sup3rS3cretPassw0rd\"\n";
    let kustomization = format!("resources:\n  - secrets.yaml\n{opt_out}");
    let Some(t) = common::staged_repo(&[
        ("k8s/overlays/prod/kustomization.yaml", &kustomization),
        ("k8s/overlays/prod/secrets.yaml", &secrets),
        ("clusters/prod/app.yaml", flux),
    ]) else {
        return;
    };
    // The oracle: the patch opts out `a` only.
    if let Some(render) = render(t.path()) {
        let docs: Vec<&str> = render.split("\n---\n").collect();
        assert_eq!(docs.len(), 2, "{render}");
        for doc in docs {
            let disabled = doc.contains("substitute: disabled");
            assert_eq!(disabled, doc.contains("namespace: a\n"), "{render}");
        }
    }
    let (_, hits) = check_hits(t.path(), &[]);
    let found: Vec<&Hit> = hits
        .iter()
        .filter(|h| h.rule == "plaintext-secret")
        .collect();
    assert_eq!(found.len(), 1, "{hits:?}");
    let line = line_in(t.path(), "clusters/prod/app.yaml", "DB_PASSWORD:", 0);
    assert_eq!(
        (found[0].path.as_str(), found[0].line),
        ("clusters/prod/app.yaml", line)
    );
    let m = &found[0].message;
    assert!(
        m.ends_with("Flux substitutes it into Secret `db` (`stringData` key `token`)"),
        "{m}"
    );
    assert!(!m.contains("Sup3rS3cretPassw0rd"), "{m}");
}

/// Two SealedSecrets `db`, in namespaces `a` and `b` of one file, both recording the overlay's
/// certificate; a patch of `b` writes a value into `b`. When the value is `b`'s own (the one its
/// record covers), nothing is reported; when it is another, the patch's line is. The patched
/// value was matched to its record by file and name only, so `b`'s own value was compared with
/// `a`'s and reported as one no record covers.
#[test]
fn stale_certificate_matches_a_patched_value_to_its_record_by_namespace() {
    let root = common::repo_root();
    let pem = std::fs::read_to_string(root.join("tests/fixtures/certs/rsa-2048-cert.pem")).unwrap();
    let cert = emp_seal::cert::Certificate::from_pem(pem.as_bytes()).unwrap();
    let sealed = |ns: &str| {
        let label = format!("{ns}/db");
        let value = emp_seal::crypto::seal(cert.public_key(), label.as_bytes(), b"v").unwrap();
        common::b64(&value)
    };
    let doc = |ns: &str, value: &str| {
        format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  namespace: {ns}\n  annotations:\n    emp-seal.dev/cert-sha256: \"{}\"\nspec:\n  encryptedData:\n    API_KEY: {value}\n  template:\n    metadata:\n      name: db\n      namespace: {ns}\n",
            cert.sha256_fingerprint()
        )
    };
    let own_b = sealed("b");
    let text = format!("{}---\n{}", doc("a", &sealed("a")), doc("b", &own_b));
    let kustomization = |value: &str| {
        format!(
            "resources:\n  - sealedsecrets.yaml\npatches:\n  - patch: |\n      apiVersion: bitnami.com/v1alpha1\n      kind: SealedSecret\n      metadata: {{name: db, namespace: b}}\n      spec:\n        encryptedData:\n          API_KEY: {value}\n"
        )
    };
    const KUSTOMIZATION: &str = "k8s/overlays/prod/kustomization.yaml";
    for (value, reported) in [(own_b.clone(), false), (sealed("b"), true)] {
        let Some(t) = common::staged_repo(&[
            (KUSTOMIZATION, &kustomization(&value)),
            ("k8s/overlays/prod/sealing-cert.pem", &pem),
            (FILE, &text),
        ]) else {
            return;
        };
        // The oracle: the patch writes into `b` only.
        if let Some(render) = render(t.path()) {
            let b = render
                .split("\n---\n")
                .find(|d| d.contains("namespace: b\n"));
            assert!(b.is_some_and(|d| d.contains(&value)), "{render}");
            assert_eq!(render.matches(&value).count(), 1, "{render}");
        }
        let (_, hits) = check_hits(t.path(), &["--rules", "stale-certificate"]);
        let found: Vec<(&str, u64)> = hits
            .iter()
            .filter(|h| h.rule == "stale-certificate")
            .map(|h| (h.path.as_str(), h.line))
            .collect();
        let want = if reported {
            vec![(
                KUSTOMIZATION,
                line_in(t.path(), KUSTOMIZATION, "API_KEY:", 0),
            )]
        } else {
            Vec::new()
        };
        assert_eq!(found, want, "{hits:?}");
    }
}

/// `seal --name a/db` writes the `a` SealedSecret while a patch writes `b`'s `API_KEY`. By name
/// only, the patch was taken for one into `a` and the run was refused ("is written by the patch
/// at ..."); now the patch into `b` does not stop it, and one into `a` still does.
#[test]
fn seal_refuses_a_patched_key_only_for_the_namespace_the_patch_writes() {
    let root = common::repo_root();
    let pem = std::fs::read_to_string(root.join("tests/fixtures/certs/rsa-2048-cert.pem")).unwrap();
    let doc = |ns: &str| {
        format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  namespace: {ns}\nspec:\n  encryptedData:\n    API_KEY: AgBy3i4OJSWK+PiTySYZZA==\n  template:\n    metadata:\n      name: db\n      namespace: {ns}\n"
        )
    };
    let text = format!("{}---\n{}", doc("a"), doc("b"));
    let kustomization = |ns: &str| {
        format!(
            "resources:\n  - sealedsecrets.yaml\npatches:\n  - patch: |\n      apiVersion: bitnami.com/v1alpha1\n      kind: SealedSecret\n      metadata: {{name: db, namespace: {ns}}}\n      spec:\n        encryptedData:\n          API_KEY: AgBy3i4OJSWK+PiTySYZZA==\n"
        )
    };
    let env = tempfile::tempdir().unwrap();
    let env_file = env.path().join("prod.env");
    std::fs::write(&env_file, "API_KEY=test-only-1\n").unwrap();
    for (patched_ns, refused) in [("b", false), ("a", true)] {
        let Some(t) = common::staged_repo(&[
            (
                "k8s/overlays/prod/kustomization.yaml",
                &kustomization(patched_ns),
            ),
            ("k8s/overlays/prod/sealing-cert.pem", &pem),
            (FILE, &text),
        ]) else {
            return;
        };
        let before = std::fs::read(t.path().join(FILE)).unwrap();
        let out = common::emp_seal()
            .current_dir(t.path())
            .args(["prod", "--name", "a/db", "--from"])
            .arg(&env_file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("test-only-1"), "{stderr}");
        if refused {
            assert_eq!(out.status.code(), Some(2), "{patched_ns}: {stderr}");
            assert!(
                stderr.contains("is overwritten by the patch at"),
                "{stderr}"
            );
            assert_eq!(std::fs::read(t.path().join(FILE)).unwrap(), before);
        } else {
            assert_eq!(out.status.code(), Some(0), "{patched_ns}: {stderr}");
            let after = std::fs::read_to_string(t.path().join(FILE)).unwrap();
            let docs: Vec<&str> = after.split("---\n").collect();
            assert_eq!(docs.len(), 2, "{after}");
            assert!(!docs[0].contains("AgBy3i4OJSWK"), "a resealed: {after}");
            assert!(docs[1].contains("AgBy3i4OJSWK"), "b untouched: {after}");
        }
    }
}
