//! Issue 14 (the release gate fails closed), the `check` side: overlays kustomize cannot build
//! (`overlay-build-error`), overlays the model does not replay (`overlay-not-modelled`, with the
//! overlay's findings marked unverified), YAML that does not parse (`yaml-syntax`), the demo
//! certificate and missing certificates under `--release`, and settings that fail closed.
//!
//! Every case runs the real binary on a tree written into a temp git repository. Every overlay
//! called unbuildable here is also built with the real `kubectl kustomize`, which must fail
//! (and its clean twin must build), so the tests cannot call something broken that kustomize
//! accepts.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::Command as Bin;
use serde_json::Value;

use crate::common::{self, Hit, Peer, check_hits as check, line_of, of, write};
use crate::fixtures;

pub(crate) const BASE_KUSTOMIZATION: &str = "resources:\n  - deployment.yaml\n";

pub(crate) const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
    spec:
      containers:
        - name: app
          image: busybox:1.36
          envFrom:
            - secretRef:
                name: app-secrets
";

/// The generator's literal is empty: a filled one is a plaintext secret committed in the
/// kustomization (`plaintext-secret`).
const DEV_KUSTOMIZATION: &str = "\
namespace: app-dev
resources:
  - ../../base
secretGenerator:
  - name: app-secrets
    literals:
      - MODE=
";

fn git(dir: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A small clean tree (a base Deployment reading Secret `app-secrets`, overlay `dev`
/// generating it) in a temp git repository, with `extra` files written on top and staged.
fn tree(extra: &[(&str, &str)]) -> Option<tempfile::TempDir> {
    if common::which("git").is_none() {
        common::missing("git");
        return None;
    }
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "k8s/base/kustomization.yaml", BASE_KUSTOMIZATION);
    write(root, "k8s/base/deployment.yaml", DEPLOYMENT);
    write(
        root,
        "k8s/overlays/dev/kustomization.yaml",
        DEV_KUSTOMIZATION,
    );
    for (rel, text) in extra {
        write(root, rel, text);
    }
    assert!(git(root, &["init", "-q"]) && git(root, &["add", "-A"]));
    Some(t)
}

fn bin() -> Bin {
    let mut c = Bin::cargo_bin("emp-seal").unwrap();
    c.env_remove("NO_COLOR")
        .env_remove("EMP_SEAL_RELEASE")
        .env_remove("EMP_SEAL_FORMAT")
        .env_remove("EMP_SEAL_EXIT_ZERO")
        .env_remove("EMP_SEAL_NO_INPUT")
        .env_remove("EMP_SEAL_REPO")
        .env_remove("SEALED_SECRETS_CERT");
    c
}

/// Asserts that the real `kubectl kustomize` render of `overlay` (repo-relative) holds every one
/// of `lines`: the oracle for what the overlay deploys (CI requires kubectl).
fn kubectl_renders(root: &Path, overlay: &str, lines: &[&str]) {
    if common::kubectl().is_none() {
        return;
    }
    let render = common::kustomize(&root.join(overlay));
    for line in lines {
        assert!(render.contains(line), "kubectl renders {line}:\n{render}");
    }
}

/// Runs `emp-seal -C ROOT ARGS` and parses its standard output as JSON.
fn json_of(root: &Path, args: &[&str]) -> Value {
    let out = bin().arg("-C").arg(root).args(args).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Builds `dir` with the real kubectl kustomize: `Some(success)`, or `None` when kubectl is
/// missing outside CI (under CI a missing kubectl fails the test).
fn kustomize_builds(dir: &Path) -> Option<bool> {
    common::kubectl()?;
    Some(common::kustomize_raw(dir).status.success())
}

/// Asserts that kubectl builds the clean tree's overlay and fails on the broken one.
fn kubectl_agrees_unbuildable(clean: &Path, broken: &Path, overlay: &str) {
    let rel = format!("k8s/overlays/{overlay}");
    if let Some(ok) = kustomize_builds(&clean.join(&rel)) {
        assert!(ok, "the clean twin of {overlay} must build");
        assert_eq!(
            kustomize_builds(&broken.join(&rel)),
            Some(false),
            "kubectl kustomize builds {overlay}, which emp-seal calls unbuildable"
        );
    }
}

/// The clean tree checks clean and builds; the tree with `extra` on top has exactly one
/// `overlay-build-error`, at `rel` on the line containing `needle`, kubectl fails on it, and
/// none of the overlay's model rules report knock-on findings.
fn build_error_case(extra: &[(&str, &str)], rel: &str, needle: &str) -> Option<Hit> {
    let clean = tree(&[])?;
    let (code, hits) = check(clean.path(), &[]);
    assert_eq!((code, hits.len()), (0, 0), "clean tree: {hits:?}");
    let t = tree(extra)?;
    let (code, hits) = check(t.path(), &[]);
    assert_eq!(code, 1, "{hits:?}");
    let errs = of(&hits, "overlay-build-error");
    assert_eq!(errs.len(), 1, "{hits:?}");
    let line = line_of(t.path(), rel, needle);
    assert_eq!(
        (errs[0].path.as_str(), errs[0].line),
        (rel, line),
        "{hits:?}"
    );
    assert_eq!(errs[0].severity, "error");
    assert!(
        of(&hits, "dangling-reference").is_empty(),
        "knock-on findings: {hits:?}"
    );
    kubectl_agrees_unbuildable(clean.path(), t.path(), "dev");
    Some(errs[0].clone())
}

const DEV: &str = "k8s/overlays/dev/kustomization.yaml";

#[test]
fn issue_14_missing_resource_file_is_a_build_error() {
    let k = DEV_KUSTOMIZATION.replace("  - ../../base\n", "  - ../../base\n  - missing.yaml\n");
    let Some(hit) = build_error_case(&[(DEV, &k)], DEV, "- missing.yaml") else {
        return;
    };
    assert!(hit.message.contains("missing.yaml"), "{}", hit.message);
}

/// A kustomization that decodes to the empty one (what `kustomize create` writes, `{}`, a null
/// or empty-string field) is "kustomization.yaml is empty" to kustomize, whether it is the
/// overlay or a base it lists; an empty list is something, and builds.
#[test]
fn a_kustomization_that_decodes_to_nothing_is_a_build_error() {
    let base = "k8s/overlays/dev/extra/kustomization.yaml";
    let listed = DEV_KUSTOMIZATION.replace("  - ../../base\n", "  - ../../base\n  - extra\n");
    for empty in [
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
        "{}\n",
        "resources: ~\n",
        "namespace: \"\"\nkind: Kustomization\n",
        "bases: []\nimageTags: []\n",
    ] {
        let Some(hit) = build_error_case(&[(DEV, empty)], DEV, "") else {
            return;
        };
        assert!(
            hit.message.contains("kustomization.yaml is empty"),
            "{}",
            hit.message
        );
        let Some(hit) = build_error_case(&[(DEV, &listed), (base, empty)], base, "") else {
            return;
        };
        assert!(hit.message.contains("holds nothing but"), "{}", hit.message);
    }
    let t = tree(&[(DEV, &listed), (base, "resources: []\n")]).unwrap();
    let (_, hits) = check(t.path(), &[]);
    assert!(of(&hits, "overlay-build-error").is_empty(), "{hits:?}");
    assert_ne!(
        kustomize_builds(&t.path().join("k8s/overlays/dev")),
        Some(false)
    );
}

/// kustomize decodes the first YAML document of a kustomization only: an empty one before the
/// content (`---` twice, a comment then `---` twice, a `...` end marker) leaves nothing to build,
/// and a `%YAML` directive is a document it cannot read. Each fails the build, and `check` says
/// so at line 1 (it had passed them, and for the directive printed "did not build" with exit 0).
#[test]
fn a_kustomization_whose_first_document_is_not_its_content_is_a_build_error() {
    for head in [
        "---\n---\n",
        "# dev\n---\n---\n",
        "...\n---\n",
        "%YAML 1.2\n---\n",
        "---\r---\r",
    ] {
        let k = format!("{head}{DEV_KUSTOMIZATION}");
        let Some(hit) = build_error_case(&[(DEV, &k)], DEV, "") else {
            return;
        };
        assert!(
            hit.message.contains("kustomization.yaml is empty")
                || hit.message.contains("directive"),
            "{head:?}: {}",
            hit.message
        );
    }
}

/// Empty documents (`null`, `~`, `{}`, `[]`) beside the objects of a resource file, a
/// `generators:` file or a patch: kustomize drops them when it reads objects and
/// strategic-merge patches, but converts a patch's first document to JSON, where an empty or
/// `null` one is a JSON patch of no operations, so the strategic-merge patches after it make the
/// text both ("illegally qualifies as both an SM and JSON patch"); a `---` line holding more
/// than a comment (`--- null`) is refused before any YAML is read ("invalid document
/// separator"). For each variant the real
/// kustomize is the oracle: `check` reports an `overlay-build-error` exactly when it fails.
#[test]
fn empty_documents_are_read_as_kustomize_reads_them() {
    let patch =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec: {replicas: 2}\n";
    let secret = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n";
    let generator = "apiVersion: builtin\nkind: SecretGenerator\nmetadata: {name: app-secrets}\nliterals: [MODE=]\n";
    let with_patch = format!("{DEV_KUSTOMIZATION}patches:\n  - path: patch.yaml\n");
    let with_resource =
        DEV_KUSTOMIZATION.replace("  - ../../base\n", "  - ../../base\n  - extra.yaml\n");
    let with_generator =
        "namespace: app-dev\nresources:\n  - ../../base\ngenerators:\n  - gen.yaml\n";
    // `OBJ` stands for the object (or the patch) in each framing.
    let mut cases: Vec<(&str, String, &str)> = Vec::new();
    for framing in [
        "---\n---\nOBJ",
        "null\n---\nOBJ",
        "~\n---\nOBJ",
        "{}\n---\nOBJ",
        "[]\n---\nOBJ",
        "OBJ---\n{}\n",
        "OBJ---\nnull\n",
        "OBJ---\n[]\n",
        "# c\n[]\n---\nOBJ",
    ] {
        cases.push(("patch.yaml", framing.replace("OBJ", patch), &with_patch));
    }
    // A `---` line holding more than a comment is refused by kyaml before any YAML is read.
    for framing in ["OBJ--- null\n", "OBJ--- {}\nOBJ", "OBJ--- # a comment\n"] {
        cases.push(("patch.yaml", framing.replace("OBJ", patch), &with_patch));
    }
    for framing in [
        "null\n---\nOBJ",
        "OBJ---\n~\n",
        "OBJ---\n[]\n",
        "{}\n---\nOBJ",
        "OBJ--- null\n",
        "OBJ--- {}\nOBJ",
        "OBJ--- # a comment\n",
    ] {
        cases.push(("extra.yaml", framing.replace("OBJ", secret), &with_resource));
        cases.push((
            "gen.yaml",
            framing.replace("OBJ", generator),
            with_generator,
        ));
    }
    for (file, text, kustomization) in &cases {
        let rel = format!("k8s/overlays/dev/{file}");
        let t = tree(&[(DEV, kustomization), (&rel, text)]).unwrap();
        let (_, hits) = check(t.path(), &["--render=never"]);
        let refused = !of(&hits, "overlay-build-error").is_empty();
        let Some(builds) = kustomize_builds(&t.path().join("k8s/overlays/dev")) else {
            return;
        };
        assert_eq!(refused, !builds, "{file}:\n{text}\n{hits:?}");
        let other: Vec<&Hit> = (hits.iter())
            .filter(|h| h.rule != "overlay-build-error")
            .collect();
        assert!(other.is_empty(), "{file}:\n{text}\n{other:?}");
    }
}

/// JSON 6902 ops on one annotation of an object without annotations: kustomize holds a
/// `metadata.annotations` map on every object while it builds, so `add` and `replace` apply, and
/// so does `remove` of the map, while `remove` of a missing key fails; the real kustomize is the
/// oracle for each.
#[test]
fn json_patch_ops_on_one_annotation_are_applied_as_kustomize_applies_them() {
    for (op, path) in [
        ("add", "/metadata/annotations/team"),
        ("replace", "/metadata/annotations/team"),
        ("remove", "/metadata/annotations/team"),
        ("remove", "/metadata/annotations"),
    ] {
        let k = format!(
            "{DEV_KUSTOMIZATION}patches:\n  - target: {{kind: Deployment, name: app}}\n    patch: |-\n      - op: {op}\n        path: {path}\n        value: a\n"
        );
        let t = tree(&[(DEV, &k)]).unwrap();
        let (_, hits) = check(t.path(), &["--render=never"]);
        let refused = !of(&hits, "overlay-build-error").is_empty();
        let want = op == "remove" && path.ends_with("team");
        assert_eq!(refused, want, "{op} {path}: {hits:?}");
        if let Some(builds) = kustomize_builds(&t.path().join("k8s/overlays/dev")) {
            assert_eq!(builds, !refused, "{op}");
        }
    }
}

/// The files of fields the model does not replay (`replacements`, `openapi`, `crds`) are read by
/// kustomize all the same: one that does not exist fails the build, and one git does not track
/// is a build input a clone lacks.
#[test]
fn files_of_unreplayed_fields_are_build_inputs() {
    for (field, needle) in [
        ("replacements:\n  - path: repl.yaml\n", "path: repl.yaml"),
        ("openapi:\n  path: schema.json\n", "path: schema.json"),
        ("crds:\n  - crd.yaml\n", "- crd.yaml"),
    ] {
        let k = format!("{DEV_KUSTOMIZATION}{field}");
        let Some(hit) = build_error_case(&[(DEV, &k)], DEV, needle) else {
            return;
        };
        assert!(hit.message.contains("does not exist"), "{}", hit.message);
    }
    let k = format!("{DEV_KUSTOMIZATION}replacements:\n  - path: repl.yaml\n");
    let t = tree(&[(DEV, &k)]).unwrap();
    let repl = "source: {kind: Deployment, name: web}\ntargets: []\n";
    write(t.path(), "k8s/overlays/dev/repl.yaml", repl);
    let (code, hits) = check(t.path(), &[]);
    assert_eq!(code, 1, "{hits:?}");
    let untracked = of(&hits, "untracked-build-input");
    assert_eq!(untracked.len(), 1, "{hits:?}");
    assert_eq!(untracked[0].path, "k8s/overlays/dev/repl.yaml");
    assert!(of(&hits, "overlay-build-error").is_empty(), "{hits:?}");
    assert!(git(t.path(), &["add", "-A"]));
    let (_, hits) = check(t.path(), &[]);
    assert!(of(&hits, "untracked-build-input").is_empty(), "{hits:?}");
}

#[test]
fn issue_14_empty_patch_file_is_a_build_error() {
    let k = format!("{DEV_KUSTOMIZATION}patches:\n  - path: patch-empty.yaml\n");
    let Some(hit) = build_error_case(
        &[(DEV, &k), ("k8s/overlays/dev/patch-empty.yaml", "")],
        DEV,
        "path: patch-empty.yaml",
    ) else {
        return;
    };
    assert!(hit.message.contains("empty"), "{}", hit.message);
}

#[test]
fn issue_14_patch_without_name_or_target_is_a_build_error() {
    let k = format!("{DEV_KUSTOMIZATION}patches:\n  - path: patch.yaml\n");
    let patch = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 2\n";
    build_error_case(
        &[(DEV, &k), ("k8s/overlays/dev/patch.yaml", patch)],
        DEV,
        "path: patch.yaml",
    );
}

/// An untargeted patch finds its object by a name the object has had; when two objects have had
/// it (the base deployed twice, once under a `namePrefix`), kustomize refuses to choose
/// ("multiple matches for Id ...; failed to find unique target for patch"). The model patched
/// both and called the overlay clean.
#[test]
fn an_untargeted_patch_matching_two_objects_is_a_build_error() {
    let k = DEV_KUSTOMIZATION.replace("  - ../../base\n", "  - ../../base\n  - ../../canary\n");
    let k = format!("{k}patches:\n  - path: patch.yaml\n");
    let patch =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 2\n";
    let canary = "namePrefix: canary-\nresources:\n  - ../base\n";
    let Some(hit) = build_error_case(
        &[
            (DEV, &k),
            ("k8s/overlays/dev/patch.yaml", patch),
            ("k8s/canary/kustomization.yaml", canary),
        ],
        "k8s/overlays/dev/patch.yaml",
        "apiVersion:",
    ) else {
        return;
    };
    assert!(hit.message.contains("2 objects"), "{}", hit.message);
}

#[test]
fn issue_14_generator_with_non_builtin_api_version_is_a_build_error() {
    let k =
        "namespace: app-dev\nresources:\n  - ../../base\ngenerators:\n  - secret-generator.yaml\n";
    let generator = "\
apiVersion: v1
kind: SecretGenerator
metadata:
  name: app-secrets
literals:
  - MODE=
";
    let gen_rel = "k8s/overlays/dev/secret-generator.yaml";
    let Some(hit) = build_error_case(&[(DEV, k), (gen_rel, generator)], gen_rel, "apiVersion:")
    else {
        return;
    };
    assert!(hit.message.contains("external plugin"), "{}", hit.message);
}

#[test]
fn issue_14_behavior_replace_without_a_base_secret_is_a_build_error() {
    let k = DEV_KUSTOMIZATION.replace(
        "  - name: app-secrets\n",
        "  - name: app-secrets\n    behavior: replace\n",
    );
    let Some(hit) = build_error_case(&[(DEV, &k)], DEV, "name: app-secrets") else {
        return;
    };
    assert!(hit.message.contains("does not exist"), "{}", hit.message);
}

#[test]
fn issue_14_pem_file_listed_as_a_resource_is_a_build_error() {
    let k = DEV_KUSTOMIZATION.replace("  - ../../base\n", "  - ../../base\n  - sealing-cert.pem\n");
    build_error_case(
        &[
            (DEV, &k),
            (
                "k8s/overlays/dev/sealing-cert.pem",
                &fixtures::cert_pem(2048),
            ),
        ],
        DEV,
        "- sealing-cert.pem",
    );
}

#[test]
fn issue_14_unknown_kustomization_field_is_a_build_error() {
    let k = format!("{DEV_KUSTOMIZATION}secretGenerators: []\n");
    let Some(hit) = build_error_case(&[(DEV, &k)], DEV, "secretGenerators:") else {
        return;
    };
    assert!(hit.message.contains("secretGenerators"), "{}", hit.message);
}

#[test]
fn issue_14_duplicate_resource_id_is_a_build_error() {
    let k = DEV_KUSTOMIZATION.replace("  - ../../base\n", "  - ../../base\n  - again.yaml\n");
    build_error_case(
        &[(DEV, &k), ("k8s/overlays/dev/again.yaml", DEPLOYMENT)],
        "k8s/overlays/dev/again.yaml",
        "apiVersion:",
    );
}

#[test]
fn issue_14_kustomization_that_does_not_parse_is_a_finding_not_an_abort() {
    // Bad indentation in the overlay's own kustomization: reported as yaml-syntax at the
    // parser's line, and the check goes on (exit 1, not 2).
    let k = DEV_KUSTOMIZATION.replace("namespace: app-dev\n", "namespace: app-dev\n  oops: 1\n");
    let Some(t) = tree(&[(DEV, &k)]) else { return };
    let (code, hits) = check(t.path(), &[]);
    assert_eq!(code, 1);
    let syn = of(&hits, "yaml-syntax");
    assert_eq!(syn.len(), 1, "{hits:?}");
    assert_eq!(syn[0].path, DEV);
    assert_eq!(syn[0].line, line_of(t.path(), DEV, "oops"));
    // kubectl refuses the kustomization too.
    assert_ne!(
        kustomize_builds(&t.path().join("k8s/overlays/dev")),
        Some(true)
    );
}

#[test]
fn issue_14_helm_charts_overlay_is_not_modelled_and_its_findings_unverified() {
    // The chart would create the Secret the Deployment reads: emp-seal cannot know, so the
    // dangling reference it computes is marked unverified, and the overlay is a warning
    // (an error under --release).
    let k = "namespace: app-dev\nresources:\n  - ../../base\nhelmCharts:\n  - name: secrets\n    repo: https://charts.example.invalid\n    version: 1.0.0\n";
    let Some(t) = tree(&[(DEV, k)]) else { return };
    let (code, hits) = check(t.path(), &[]);
    let nm = of(&hits, "overlay-not-modelled");
    assert_eq!(nm.len(), 1, "{hits:?}");
    assert_eq!(
        (nm[0].path.as_str(), nm[0].line, nm[0].severity.as_str()),
        (DEV, line_of(t.path(), DEV, "helmCharts:"), "warning")
    );
    assert!(nm[0].message.contains("helmCharts"), "{}", nm[0].message);
    let dangling = of(&hits, "dangling-reference");
    assert_eq!(dangling.len(), 1, "{hits:?}");
    let why = dangling[0]
        .unverified
        .as_deref()
        .expect("marked unverified");
    assert!(why.contains("overlay dev"), "{why}");
    assert!(nm[0].unverified.is_none());
    assert_eq!(code, 1, "the dangling reference is still an error");

    // Under --release the overlay itself is an error.
    let (_, hits) = check(t.path(), &["--release", "dev"]);
    assert_eq!(of(&hits, "overlay-not-modelled")[0].severity, "error");

    // Text and SARIF say it too.
    let text = bin().arg("-C").arg(t.path()).arg("check").output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("[dangling-reference]") && l.contains("[unverified: overlay dev")),
        "{text}"
    );
    assert!(text.trim_end().ends_with("1 unverified"), "{text}");
    let github = bin()
        .arg("-C")
        .arg(t.path())
        .args(["check", "--format", "github"])
        .output()
        .unwrap();
    let github = String::from_utf8(github.stdout).unwrap();
    assert!(
        github
            .lines()
            .any(|l| l.contains("title=dangling-reference")
                && l.contains("[unverified: overlay dev")),
        "{github}"
    );
    let sarif = json_of(t.path(), &["check", "--format", "sarif"]);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let r = results
        .iter()
        .find(|r| r["ruleId"] == "dangling-reference")
        .unwrap();
    assert!(
        r["properties"]["unverified"]
            .as_str()
            .unwrap()
            .contains("overlay dev")
    );
    let rules: Vec<&str> = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in [
        "overlay-build-error",
        "overlay-not-modelled",
        "yaml-syntax",
        "sealed-with-demo-certificate",
        "missing-certificate",
    ] {
        assert!(rules.contains(&id), "{id} missing from SARIF rules");
    }
}

#[test]
fn issue_14_remote_base_and_replacements_are_not_modelled() {
    let k = "namespace: app-dev\nresources:\n  - ../../base\n  - https://github.com/example/repo//base?ref=v1\nreplacements:\n  - path: r.yaml\nsecretGenerator:\n  - name: app-secrets\n    literals:\n      - MODE=\n";
    let Some(t) = tree(&[(DEV, k)]) else { return };
    let (_, hits) = check(t.path(), &[]);
    let lines: Vec<u64> = of(&hits, "overlay-not-modelled")
        .iter()
        .map(|h| h.line)
        .collect();
    assert_eq!(
        lines,
        [
            line_of(t.path(), DEV, "https://"),
            line_of(t.path(), DEV, "replacements:")
        ],
        "{hits:?}"
    );
}

#[test]
fn issue_14_templated_secret_is_a_yaml_syntax_finding() {
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-creds\ntype: Opaque\n";
    let k = DEV_KUSTOMIZATION.replace("  - ../../base\n", "  - ../../base\n  - secret.yaml\n");
    let rel = "k8s/overlays/dev/secret.yaml";
    let Some(t) = tree(&[(DEV, &k), (rel, secret)]) else {
        return;
    };
    let (code, hits) = check(t.path(), &[]);
    assert_eq!(code, 1);
    let syn = of(&hits, "yaml-syntax");
    assert_eq!(syn.len(), 1, "{hits:?}");
    assert_eq!((syn[0].path.as_str(), syn[0].line), (rel, 4));
    assert!(
        syn[0].message.contains("no other rule checked"),
        "{}",
        syn[0].message
    );
    assert!(syn[0].message.contains("overlay dev"), "{}", syn[0].message);
    // Nothing else about that overlay: the YAML error comes first.
    assert_eq!(hits.len(), 1, "{hits:?}");
    let Some(clean) = tree(&[]) else { return };
    kubectl_agrees_unbuildable(clean.path(), t.path(), "dev");
}

#[test]
fn issue_14_template_that_parses_as_a_complex_key_is_a_yaml_syntax_finding() {
    // `name: {{ .Release.Name }}` is valid YAML (a flow mapping used as a key), but no
    // Kubernetes object: kustomize cannot read it.
    let secret =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}\ntype: Opaque\n";
    let k = DEV_KUSTOMIZATION.replace("  - ../../base\n", "  - ../../base\n  - secret.yaml\n");
    let rel = "k8s/overlays/dev/secret.yaml";
    let Some(t) = tree(&[(DEV, &k), (rel, secret)]) else {
        return;
    };
    let (_, hits) = check(t.path(), &[]);
    let syn = of(&hits, "yaml-syntax");
    assert_eq!(syn.len(), 1, "{hits:?}");
    assert_eq!((syn[0].path.as_str(), syn[0].line), (rel, 4));
    assert!(of(&hits, "overlay-build-error").is_empty(), "{hits:?}");
    let Some(clean) = tree(&[]) else { return };
    kubectl_agrees_unbuildable(clean.path(), t.path(), "dev");
}

const PAPER_SS: &str = "k8s/overlays/paper/sealedsecret.yaml";

#[test]
fn issue_14_duplicate_key_in_sealedsecret_reports_the_yaml_error_not_knock_ons() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let path = t.path().join(PAPER_SS);
    let text = std::fs::read_to_string(&path).unwrap();
    let dup = text.replacen(
        "  name: emp-secrets\n",
        "  name: emp-secrets\n  name: emp-secrets-2\n",
        1,
    );
    assert_ne!(dup, text);
    std::fs::write(&path, &dup).unwrap();
    let (code, hits) = check(t.path(), &[]);
    assert_eq!(code, 1);
    let syn = of(&hits, "yaml-syntax");
    assert_eq!(syn.len(), 1, "{hits:?}");
    assert_eq!(
        (syn[0].path.as_str(), syn[0].line),
        (PAPER_SS, line_of(t.path(), PAPER_SS, "name: emp-secrets-2"))
    );
    assert!(
        syn[0].message.contains("overlay paper"),
        "{}",
        syn[0].message
    );
    for knock_on in [
        "dangling-reference",
        "missing-secret-key",
        "example-sealed-mismatch",
        "placeholder-ciphertext",
    ] {
        assert!(of(&hits, knock_on).is_empty(), "{knock_on}: {hits:?}");
    }
    // Only the broken document is reported: the other overlays are clean.
    assert_eq!(hits.len(), 1, "{hits:?}");
    // A narrowed run (as the placeholder pre-commit hook makes) still says it could not look.
    let (code, hits) = check(t.path(), &["--rules", "placeholder-ciphertext"]);
    assert_eq!(code, 1);
    assert_eq!(of(&hits, "yaml-syntax").len(), 1, "{hits:?}");
    let Some(clean) = common::shipped_git_copy() else {
        return;
    };
    kubectl_agrees_unbuildable(clean.path(), t.path(), "paper");
}

/// A value sealed with the demo certificate by another tool (`kubeseal --cert`, here the Python
/// peer) records nothing, so the release gate passed it. The published demo key opens it, under
/// any label: each such value of the release environment is reported at its key; values sealed
/// for the environment's own certificate are not.
#[test]
fn values_the_demo_key_opens_fail_the_release_gate_without_a_record() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let cert = tempfile::tempdir().unwrap();
    let real = cert.path().join("controller.pem");
    std::fs::write(&real, fixtures::cert_pem(4096)).unwrap();
    seal_paper_with(t.path(), &real);
    let (code, hits) = check(t.path(), &["--release", "paper", "--render", "never"]);
    assert_eq!(
        (code, hits.len()),
        (0, 0),
        "sealed for paper's own key: {hits:?}"
    );

    // Two values replaced by the peer's, sealed for the demo certificate: one for paper's
    // identity, one under another label (readable all the same).
    let demo = fixtures::demo_cert_pem();
    let path = t.path().join(PAPER_SS);
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (key, label) in [
        ("API_KEY", &b"emp-paper/emp-secrets"[..]),
        ("REDIS_PASSWORD", b"elsewhere"),
    ] {
        let value = common::b64(&peer.encrypt(&demo, label, b"not-a-secret-any-more"));
        let at = text.find(&format!("    {key}: ")).unwrap() + key.len() + 6;
        let end = at + text[at..].find('\n').unwrap();
        text.replace_range(at..end, &value);
    }
    std::fs::write(&path, &text).unwrap();
    let (code, hits) = check(t.path(), &["--release", "paper", "--render", "never"]);
    assert_eq!(code, 1, "{hits:?}");
    let demo_hits: Vec<(&str, u64)> = of(&hits, "sealed-with-demo-certificate")
        .iter()
        .map(|h| (h.path.as_str(), h.line))
        .collect();
    let at = |key: &str| {
        (
            PAPER_SS,
            line_of(t.path(), PAPER_SS, &format!("    {key}: ")),
        )
    };
    assert_eq!(demo_hits, [at("API_KEY"), at("REDIS_PASSWORD")], "{hits:?}");
    // Outside a release gate the demo is expected.
    let (_, hits) = check(t.path(), &["--render", "never"]);
    assert!(
        of(&hits, "sealed-with-demo-certificate").is_empty(),
        "{hits:?}"
    );
}

/// Seals paper in `t` (whose committed certificate is first replaced by a non-demo TEST
/// certificate) with `cert` given through `--cert`.
fn seal_paper_with(t: &Path, cert: &Path) {
    std::fs::write(
        t.join("k8s/overlays/paper/sealing-cert.pem"),
        fixtures::cert_pem(4096),
    )
    .unwrap();
    let (_env_dir, env) = common::paper_env_file();
    bin()
        .arg("-C")
        .arg(t)
        .args(["paper", "--no-input", "--from"])
        .arg(&env)
        .arg("--cert")
        .arg(cert)
        .assert()
        .success();
}

#[test]
fn issue_14_sealed_with_the_demo_certificate_through_cert_fails_the_release_gate() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    // The demo certificate, copied out of the tree under another name: the path says nothing.
    let elsewhere = tempfile::tempdir().unwrap();
    let demo = elsewhere.path().join("controller.pem");
    std::fs::write(&demo, fixtures::demo_cert_pem()).unwrap();
    seal_paper_with(t.path(), &demo);

    let (code, hits) = check(t.path(), &["--release", "paper"]);
    assert_eq!(code, 1);
    let demo_hits = of(&hits, "sealed-with-demo-certificate");
    assert_eq!(demo_hits.len(), 1, "{hits:?}");
    assert_eq!(
        (demo_hits[0].path.as_str(), demo_hits[0].line),
        (
            PAPER_SS,
            line_of(t.path(), PAPER_SS, "emp-seal.dev/cert-sha256")
        )
    );
    assert_eq!(demo_hits[0].severity, "error");
    // The recorded fingerprint differs from paper's certificate too.
    assert_eq!(of(&hits, "stale-certificate")[0].severity, "error");
    // Naming other rules does not switch the release gate's own checks off.
    let (code, hits) = check(
        t.path(),
        &["--release", "paper", "--rules", "placeholder-ciphertext"],
    );
    assert_eq!(code, 1);
    for rule in ["sealed-with-demo-certificate", "stale-certificate"] {
        assert_eq!(of(&hits, rule).len(), 1, "{rule}: {hits:?}");
    }
    // Not a release gate: the demo is expected there.
    let (_, hits) = check(t.path(), &[]);
    assert!(of(&hits, "sealed-with-demo-certificate").is_empty());

    // An allow comment does not get it past --release, but works without it.
    let path = t.path().join(PAPER_SS);
    let text = std::fs::read_to_string(&path).unwrap();
    let allowed: String = text
        .lines()
        .map(|l| {
            if l.contains("emp-seal.dev/cert-sha256") {
                format!("{l} # emp-seal:allow sealed-with-demo-certificate,stale-certificate\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&path, allowed).unwrap();
    let (code, hits) = check(t.path(), &["--release", "paper"]);
    assert_eq!(code, 1);
    for rule in ["sealed-with-demo-certificate", "stale-certificate"] {
        let h = of(&hits, rule);
        assert_eq!(h.len(), 1, "{rule}: {hits:?}");
        assert!(!h[0].suppressed, "{rule} suppressed under --release");
        assert!(
            h[0].message.contains("does not apply under --release"),
            "{}",
            h[0].message
        );
    }
    let (_, hits) = check(t.path(), &[]);
    assert!(of(&hits, "stale-certificate")[0].suppressed, "{hits:?}");
    // (invalid-ciphertext may or may not fire: whether a value sealed for the demo key happens
    // to be below the other certificate's modulus is random.)
    assert!(
        hits.iter()
            .all(|h| h.suppressed || h.rule == "invalid-ciphertext"),
        "{hits:?}"
    );
}

#[test]
fn issue_14_release_without_a_certificate_to_verify_against_fails() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let elsewhere = tempfile::tempdir().unwrap();
    let cert = elsewhere.path().join("paper.pem");
    std::fs::write(&cert, fixtures::cert_pem(4096)).unwrap();
    seal_paper_with(t.path(), &cert);
    let (code, hits) = check(t.path(), &["--release", "paper"]);
    assert_eq!(
        (code, hits.len()),
        (0, 0),
        "sealed with paper's own certificate: {hits:?}"
    );

    std::fs::remove_file(t.path().join("k8s/overlays/paper/sealing-cert.pem")).unwrap();
    let (code, hits) = check(t.path(), &["--release", "paper"]);
    assert_eq!(code, 1);
    let m = of(&hits, "missing-certificate");
    assert_eq!(m.len(), 1, "{hits:?}");
    assert_eq!(
        (m[0].path.as_str(), m[0].line),
        (PAPER_SS, line_of(t.path(), PAPER_SS, "name: emp-secrets"))
    );
}

#[test]
fn issue_14_empty_release_is_a_usage_error() {
    let Some(t) = tree(&[]) else { return };
    let run = |cmd: &mut Bin| {
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.starts_with("error: the release environment is empty"),
            "{err}"
        );
        assert!(err.contains("help: "), "{err}");
    };
    run(bin()
        .arg("-C")
        .arg(t.path())
        .args(["check", "--release", ""]));
    run(bin()
        .arg("-C")
        .arg(t.path())
        .arg("check")
        .env("EMP_SEAL_RELEASE", ""));
    run(bin()
        .arg("-C")
        .arg(t.path())
        .arg("check")
        .env("EMP_SEAL_RELEASE", "  "));
}

/// A blank path from an environment variable (`EMP_SEAL_REPO=" "`, `SEALED_SECRETS_CERT=" "`) or
/// an empty item of a `--key` list is a usage error naming the option, not a file named ` `
/// that is then not found.
#[test]
fn blank_paths_are_usage_errors_naming_the_option() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let (_, env) = common::paper_env_file();
    type Case<'a> = (&'a str, &'a [&'a str], Option<(&'a str, &'a str)>);
    let cases: [Case<'_>; 4] = [
        ("--repo", &["check"], Some(("EMP_SEAL_REPO", " "))),
        (
            "--cert",
            &["seal", "paper", "--dry-run"],
            Some(("SEALED_SECRETS_CERT", " \t")),
        ),
        ("--key", &["unseal", "paper", "--key", "a.pem,"], None),
        (
            "--from",
            &["seal", "paper", "--dry-run"],
            Some(("EMP_SEAL_FROM", "")),
        ),
    ];
    for (option, args, var) in cases {
        let mut c = bin();
        if var.is_none_or(|(name, _)| name != "EMP_SEAL_REPO") {
            c.arg("-C").arg(t.path());
        }
        c.args(args);
        if option == "--cert" {
            c.arg("--from").arg(&env);
        }
        if let Some((name, value)) = var {
            c.env(name, value);
        }
        let out = c.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{option}: {err}");
        assert!(
            err.starts_with("error: invalid value") && err.contains(option),
            "{option}: {err}"
        );
        assert!(err.contains("a path cannot be empty or blank"), "{err}");
    }
}

#[test]
fn issue_14_boolean_environment_variables_take_ci_idioms() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    // EMP_SEAL_NO_INPUT=1: init keeps the example's values instead of asking (no terminal).
    let init = |value: Option<&str>| {
        let mut c = bin();
        c.arg("-C").arg(t.path()).args(["init", "dev", "--force"]);
        if let Some(v) = value {
            c.env("EMP_SEAL_NO_INPUT", v);
        }
        c.output().unwrap()
    };
    for yes in ["1", "true", "TRUE", "yes", "Yes"] {
        let out = init(Some(yes));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{yes}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(t.path().join("k8s/overlays/dev/dev-secrets.env").is_file());
    }
    for no in [None, Some("0"), Some("false"), Some("NO")] {
        let out = init(no);
        assert_eq!(out.status.code(), Some(2), "{no:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("not a boolean"), "{no:?}: {err}");
    }
    for bad in ["maybe", "", "2"] {
        let out = init(Some(bad));
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("EMP_SEAL_NO_INPUT") || err.contains("no-input"),
            "{bad:?}: {err}"
        );
    }
    // EMP_SEAL_EXIT_ZERO: the shipped tree has findings (exit 1) unless it is true.
    let check_code = |value: &str| {
        bin()
            .arg("-C")
            .arg(common::repo_root())
            .arg("check")
            .env("EMP_SEAL_EXIT_ZERO", value)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(check_code("yes"), Some(0));
    assert_eq!(check_code("1"), Some(0));
    assert_eq!(check_code("0"), Some(1));
    assert_eq!(check_code("False"), Some(1));
    assert_eq!(check_code("sometimes"), Some(2));
}

#[test]
fn issue_14_zero_overlays_is_an_error_not_a_clean_pass() {
    let Some(t) = tree(&[]) else { return };
    std::fs::remove_dir_all(t.path().join("k8s/overlays/dev")).unwrap();
    let out = bin().arg("-C").arg(t.path()).arg("check").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    let looked: PathBuf = std::fs::canonicalize(t.path())
        .unwrap()
        .join("k8s/overlays");
    assert!(err.contains("no overlays found"), "{err}");
    assert!(err.contains(&looked.display().to_string()), "{err}");
    assert!(err.contains("-C DIR"), "{err}");
}

/// `check PATH` reports only the findings in PATH, but a report narrowed to clean files must
/// not read as a clean tree: a note (stderr, JSON `notes`, SARIF notifications) counts the
/// findings left out, and is absent when nothing was left out.
#[test]
fn findings_outside_the_paths_given_are_counted_not_passed_in_silence() {
    let leak = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  TOKEN: test-only-value\n";
    let Some(t) = tree(&[("deploy/secret.yaml", leak)]) else {
        return;
    };
    let base = t.path().join("k8s/base/deployment.yaml");
    let base = base.to_str().unwrap();
    let whole = json_of(t.path(), &["check", "--format", "json"]);
    let errors = whole["summary"]["errors"].as_u64().unwrap();
    assert!(errors > 0, "{whole}");
    assert_eq!(whole["notes"], serde_json::json!([]), "{whole}");

    let out = bin()
        .arg("-C")
        .arg(t.path())
        .args(["check", base])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let expected = format!(
        "note: {errors} finding{} ({errors} error{}) outside the paths given not reported",
        if errors == 1 { "" } else { "s" },
        if errors == 1 { "" } else { "s" }
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(!stderr.contains("test-only-value"), "{stderr}");
    let narrowed = json_of(t.path(), &["check", "--format", "json", base]);
    assert_eq!(narrowed["summary"]["errors"], 0, "{narrowed}");
    assert_eq!(narrowed["notes"][0]["kind"], "outside-paths", "{narrowed}");
    let sarif = json_of(t.path(), &["check", "--format", "sarif", base]);
    let sent = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(sent["descriptor"]["id"], "outside-paths", "{sarif}");

    // The leak's own file: nothing is left out, so no note.
    let own = t.path().join("deploy/secret.yaml");
    let own = json_of(
        t.path(),
        &["check", "--format", "json", own.to_str().unwrap()],
    );
    assert_eq!(own["summary"]["errors"], errors, "{own}");
    assert_eq!(own["notes"], serde_json::json!([]), "{own}");
}

#[test]
fn issue_14_unknown_rule_id_is_a_usage_error() {
    let Some(t) = tree(&[]) else { return };
    for rules in ["no-such-rule", "overlay-build-error,nope", ""] {
        let out = bin()
            .arg("-C")
            .arg(t.path())
            .args(["check", "--rules", rules])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{rules:?}");
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: unknown rule id"));
    }
    // A known new id narrows the run.
    let out = bin()
        .arg("-C")
        .arg(t.path())
        .args(["check", "--rules", "overlay-build-error"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn issue_14_missing_patch_component_and_generator_files_are_build_errors() {
    let cases = [
        (
            "patches:\n  - path: patch-gone.yaml\n",
            "path: patch-gone.yaml",
        ),
        (
            "components:\n  - ../../components/gone\n",
            "- ../../components/gone",
        ),
        (
            "generators:\n  - generator-gone.yaml\n",
            "- generator-gone.yaml",
        ),
        (
            "configurations:\n  - config-gone.yaml\n",
            "- config-gone.yaml",
        ),
    ];
    for (extra, needle) in cases {
        let k = format!("{DEV_KUSTOMIZATION}{extra}");
        let Some(hit) = build_error_case(&[(DEV, &k)], DEV, needle) else {
            return;
        };
        assert!(hit.message.contains("gone"), "{}", hit.message);
    }
}

#[test]
fn issue_14_kustomization_field_of_the_wrong_type_is_a_build_error() {
    let k = DEV_KUSTOMIZATION.replace(
        "namespace: app-dev\n",
        "namespace: app-dev\nnamePrefix: [a, b]\n",
    );
    let Some(hit) = build_error_case(&[(DEV, &k)], DEV, "namePrefix:") else {
        return;
    };
    assert!(hit.message.contains("must be a string"), "{}", hit.message);
}

#[test]
fn issue_14_field_spelled_in_another_case_is_not_modelled_not_refused() {
    // kustomize (Go encoding/json) reads `nameprefix` as `namePrefix`: not a build error, but the
    // model does not apply it.
    let k = DEV_KUSTOMIZATION.replace(
        "namespace: app-dev\n",
        "namespace: app-dev\nnameprefix: x-\n",
    );
    let Some(t) = tree(&[(DEV, &k)]) else { return };
    let (_, hits) = check(t.path(), &[]);
    assert!(of(&hits, "overlay-build-error").is_empty(), "{hits:?}");
    let nm = of(&hits, "overlay-not-modelled");
    assert_eq!(nm.len(), 1, "{hits:?}");
    assert_eq!(nm[0].line, line_of(t.path(), DEV, "nameprefix:"));
    if let Some(ok) = kustomize_builds(&t.path().join("k8s/overlays/dev")) {
        assert!(ok, "kubectl builds it");
        let out = common::kustomize(&t.path().join("k8s/overlays/dev"));
        assert!(
            out.contains("name: x-app"),
            "kustomize applied the prefix: {out}"
        );
    }
}

#[test]
fn issue_14_unknown_generator_field_is_a_build_error() {
    let k = DEV_KUSTOMIZATION.replace("    literals:\n", "    literal:\n");
    let Some(hit) = build_error_case(&[(DEV, &k)], DEV, "literal:") else {
        return;
    };
    assert!(hit.message.contains("`literal`"), "{}", hit.message);
}

#[test]
fn issue_14_generator_field_in_another_case_is_not_modelled() {
    let k = DEV_KUSTOMIZATION.replace("    literals:\n", "    Literals:\n");
    let Some(t) = tree(&[(DEV, &k)]) else { return };
    let (_, hits) = check(t.path(), &[]);
    assert!(of(&hits, "overlay-build-error").is_empty(), "{hits:?}");
    let nm = of(&hits, "overlay-not-modelled");
    assert_eq!(nm.len(), 1, "{hits:?}");
    assert_eq!(nm[0].line, line_of(t.path(), DEV, "Literals:"));
    assert_eq!(
        kustomize_builds(&t.path().join("k8s/overlays/dev")),
        common::kubectl().map(|_| true)
    );
}

/// A file `check` cannot read (not UTF-8, over the 16 MiB limit) is reported with the reason,
/// never counted as clean: a plaintext Secret in a Latin-1 YAML file went unreported before.
/// The same Secret in UTF-8 is a `plaintext-secret` error, so the file is one the rules read.
#[test]
fn unreadable_files_are_reported_not_skipped() {
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\n# caf\u{e9}\nstringData:\n  PASSWORD: hunter2hunter2\n";
    let Some(t) = tree(&[("k8s/overlays/dev/leaked.yaml", secret)]) else {
        return;
    };
    let root = t.path();
    let (code, hits) = check(root, &[]);
    assert_eq!(code, 1);
    assert_eq!(of(&hits, "plaintext-secret").len(), 1, "{hits:?}");

    // The same file in Latin-1 (é as one byte), a second one outside the tree, and an env
    // example over the limit.
    let latin1: Vec<u8> = secret
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect();
    std::fs::write(root.join("k8s/overlays/dev/leaked.yaml"), &latin1).unwrap();
    std::fs::write(root.join("chart.yaml"), &latin1).unwrap();
    let big = root.join("k8s/overlays/dev/big.env.example");
    std::fs::write(&big, "A=1\n").unwrap();
    std::fs::File::options()
        .append(true)
        .open(&big)
        .unwrap()
        .set_len(17 * 1024 * 1024)
        .unwrap();
    assert!(git(root, &["add", "-A"]));
    let (code, hits) = check(root, &[]);
    assert_eq!(code, 1, "{hits:?}");
    assert!(of(&hits, "plaintext-secret").is_empty(), "{hits:?}");
    let unread = of(&hits, "yaml-syntax");
    let at = |path: &str| {
        *unread
            .iter()
            .find(|h| h.path == path)
            .unwrap_or_else(|| panic!("{path}: {hits:?}"))
    };
    let in_tree = at("k8s/overlays/dev/leaked.yaml");
    assert_eq!(in_tree.severity, "error");
    assert!(
        in_tree
            .message
            .starts_with("cannot be read: not valid UTF-8"),
        "{}",
        in_tree.message
    );
    assert!(in_tree.message.contains("no rule checked this file"));
    let outside = at("chart.yaml");
    assert_eq!(outside.severity, "note");
    assert!(
        outside.message.contains("plaintext-secret"),
        "{}",
        outside.message
    );
    let env = of(&hits, "env-syntax");
    assert_eq!(env.len(), 1, "{hits:?}");
    assert_eq!(env[0].path, "k8s/overlays/dev/big.env.example");
    assert!(
        env[0].message.starts_with("cannot be read: larger than"),
        "{}",
        env[0].message
    );
    // The hint is about the file, not about a line kustomize rejects.
    assert!(
        env[0].hint.contains("smaller than 16 MiB"),
        "{}",
        env[0].hint
    );
    for h in &hits {
        assert!(!h.message.contains("hunter2"), "{}", h.message);
        assert!(
            !h.message.contains(&root.display().to_string()),
            "{}",
            h.message
        );
    }

    // A file git still lists but the work tree no longer has (deleted, not yet staged) is not
    // there to check: no "cannot be read" for it.
    std::fs::remove_file(root.join("chart.yaml")).unwrap();
    let (_, hits) = check(root, &[]);
    assert!(hits.iter().all(|h| h.path != "chart.yaml"), "{hits:?}");
    assert!(!of(&hits, "yaml-syntax").is_empty(), "{hits:?}");
}

/// Overlay `prod` of [`tree`]'s base: a `SealedSecret` holding a placeholder for `MODE`, and
/// an example listing `MODE` and `TOKEN` (so `TOKEN` is missing from the `SealedSecret`).
const PROD_FILES: [(&str, &str); 3] = [
    (
        "k8s/overlays/prod/kustomization.yaml",
        "namespace: app-prod\nresources:\n  - ../../base\n  - sealedsecret.yaml\n",
    ),
    (
        "k8s/overlays/prod/sealedsecret.yaml",
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app-secrets\n  namespace: app-prod\nspec:\n  encryptedData:\n    MODE: AgAAAAAAAAAA...REPLACE_ME\n",
    ),
    ("k8s/overlays/prod/prod.env.example", "MODE=\nTOKEN=\n"),
];

/// A file an environment deploys is checked, under the name its build reads it by: the
/// config's `ignore` cannot hide it (`check` passed with "no findings" while `prod` shipped a
/// placeholder), and neither can a symlinked overlay directory (the tree's walk did not enter
/// it, so the rules that look a `SealedSecret` up by the overlay's path found nothing).
#[test]
fn files_an_environment_deploys_are_checked_whatever_ignore_says_and_through_symlinks() {
    let Some(t) = tree(&PROD_FILES) else {
        return;
    };
    let root = t.path();
    let sealed = "k8s/overlays/prod/sealedsecret.yaml";
    let expect = |hits: &[Hit], path: &str| {
        for rule in ["placeholder-ciphertext", "example-sealed-mismatch"] {
            assert!(
                of(hits, rule).iter().any(|h| h.path == path),
                "{rule} at {path}: {hits:?}"
            );
        }
    };
    let (code, hits) = check(root, &[]);
    assert_eq!(code, 1, "{hits:?}");
    expect(&hits, sealed);

    write(
        root,
        "emp-seal.toml",
        "ignore = [\"k8s/overlays/prod/sealedsecret.yaml\"]\n",
    );
    let (code, hits) = check(root, &[]);
    assert_eq!(code, 1, "{hits:?}");
    expect(&hits, sealed);
    std::fs::remove_file(root.join("emp-seal.toml")).unwrap();

    // The overlay's real directory sorts after the link, so discovery names it by the link.
    std::fs::create_dir_all(root.join("k8s/real")).unwrap();
    std::fs::rename(root.join("k8s/overlays/prod"), root.join("k8s/real/prod")).unwrap();
    std::os::unix::fs::symlink("../real/prod", root.join("k8s/overlays/prod")).unwrap();
    assert!(git(root, &["add", "-A"]));
    let (code, hits) = check(root, &[]);
    assert_eq!(code, 1, "{hits:?}");
    expect(&hits, sealed);
}

/// An environment the config picks in a directory that the tree's walk lists under another
/// name only (a top-level link to it sorts first, so discovery names the kustomization by the
/// link), with its certificate elsewhere: its own directory is still walked, so its env example
/// is read and compared with its `SealedSecret`.
#[test]
fn an_environment_reached_only_through_a_link_is_walked_under_its_own_name() {
    let files: Vec<(&str, String)> = PROD_FILES
        .iter()
        .map(|(p, t)| {
            let text = t.replace("../../base", "../k8s/base");
            (p.strip_prefix("k8s/overlays/").unwrap_or(p), text)
        })
        .collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let Some(t) = tree(&files) else {
        return;
    };
    let root = t.path();
    std::os::unix::fs::symlink("prod", root.join("a")).unwrap();
    write(
        root,
        "emp-seal.toml",
        "environments = [\"prod\"]\n[environment.prod]\ncertificate = \"certs/prod.pem\"\n",
    );
    assert!(git(root, &["add", "-A"]));
    let (code, hits) = check(root, &[]);
    assert_eq!(code, 1, "{hits:?}");
    assert!(
        of(&hits, "example-sealed-mismatch")
            .iter()
            .any(|h| h.path == "prod/sealedsecret.yaml"),
        "{hits:?}"
    );
}

/// `--release ENV` drops findings in other environments' directories, but not in the files
/// ENV itself deploys: `prod-eu` builds on overlay `prod`, and its gate passed with "no
/// findings" while the `SealedSecret` it ships (in `prod`'s directory) held a placeholder.
#[test]
fn release_gate_keeps_findings_in_files_the_environment_deploys() {
    let mut files = PROD_FILES.to_vec();
    files.push((
        "k8s/overlays/prod-eu/kustomization.yaml",
        "resources:\n  - ../prod\n",
    ));
    // In `dev`'s directory, deployed by no environment: not prod-eu's finding.
    let stray = PROD_FILES[1].1.replace("app-prod", "app-dev");
    files.push(("k8s/overlays/dev/stray.yaml", &stray));
    let Some(t) = tree(&files) else {
        return;
    };
    let root = t.path();
    let (code, hits) = check(root, &["--release", "prod-eu", "--render", "never"]);
    assert_eq!(code, 1, "{hits:?}");
    let placeholders = of(&hits, "placeholder-ciphertext");
    assert!(
        placeholders
            .iter()
            .any(|h| h.path == "k8s/overlays/prod/sealedsecret.yaml"),
        "{hits:?}"
    );
    // Another environment's own files stay out of this gate.
    assert!(
        hits.iter()
            .all(|h| !h.path.starts_with("k8s/overlays/dev/")),
        "{hits:?}"
    );
    let (_, hits) = check(root, &[]);
    assert!(
        hits.iter()
            .any(|h| h.path == "k8s/overlays/dev/stray.yaml" && h.rule == "placeholder-ciphertext"),
        "{hits:?}"
    );
}

/// A line without `=` in an env file is a key with the empty value (kustomize v5), but it is
/// often a piece of a pasted value: no finding, in any format, prints its content. The findings
/// that compare key sets still fire and name such a key by its line.
#[test]
fn bare_env_lines_are_keys_named_by_line_never_by_content() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    let dev = "k8s/overlays/dev";
    let example = std::fs::read_to_string(root.join(format!("{dev}/dev-secrets.env.example")));
    // The untracked real env file: a pasted password on its own line, and one that the
    // generator's `literals:` also gives (a repeated key).
    let real = format!("{}S3CRETreal\nS3CRETdup\n", example.unwrap());
    write(root, &format!("{dev}/dev-secrets.env"), &real);
    let generator = format!("{dev}/secret-generator.yaml");
    let text = std::fs::read_to_string(root.join(&generator)).unwrap();
    let text = text.replace("envs:\n", "literals:\n  - S3CRETdup=x\nenvs:\n");
    write(root, &generator, &text);
    // A tracked example with a bare line: paper's SealedSecret then lacks that key.
    let prod_example = "k8s/overlays/prod/prod-secrets.env.example";
    let text = std::fs::read_to_string(root.join(prod_example)).unwrap();
    write(root, prod_example, &format!("{text}S3CRETabc\n"));
    assert!(git(root, &["add", "-A"]));

    for format in ["text", "json", "sarif", "github"] {
        let out = bin()
            .arg("-C")
            .arg(root)
            .args(["check", "--format", format])
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(2), "{format}");
        for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let s = String::from_utf8_lossy(stream);
            assert!(
                !s.contains("S3CRET"),
                "{format} {name} leaks a bare line:\n{s}"
            );
        }
    }

    let (_, hits) = check(root, &[]);
    let real_rel = format!("{dev}/dev-secrets.env");
    let shown = |path: &str, line: u64| {
        format!("the key on line {line} of `{path}` (a line without '=', not shown)")
    };
    let real_line = line_of(root, &real_rel, "S3CRETreal");
    let dup_line = line_of(root, &real_rel, "S3CRETdup");
    let abc_line = line_of(root, prod_example, "S3CRETabc");
    let example_generator = of(&hits, "example-generator-mismatch");
    assert!(
        example_generator
            .iter()
            .any(|h| h.message.contains("lacks keys")
                && h.message.contains(&shown(&real_rel, real_line))
                && h.message.contains(&shown(&real_rel, dup_line))),
        "{example_generator:#?}"
    );
    // The real env file is read, so the build judges the repeat (kustomize refuses it).
    let build = of(&hits, "overlay-build-error");
    assert!(
        build.iter().any(|h| h.message.contains(
            "Secret generator `emp-secrets` gives a key (from a line without '=', not shown) twice"
        )),
        "{build:#?}"
    );
    let example_sealed = of(&hits, "example-sealed-mismatch");
    assert!(
        example_sealed
            .iter()
            .any(|h| h.message.contains("overlay paper")
                && h.message.contains(&shown(prod_example, abc_line))
                && h.message.contains(&shown(&real_rel, real_line))),
        "{example_sealed:#?}"
    );
    // The lint still reports each line, without its content.
    let missing_equals = of(&hits, "env-missing-equals");
    for (path, line) in [(&real_rel, real_line), (&real_rel.clone(), dup_line)] {
        assert!(
            missing_equals
                .iter()
                .any(|h| h.path == *path && h.line == line),
            "{missing_equals:#?}"
        );
    }
    assert!(
        missing_equals
            .iter()
            .any(|h| h.path == prod_example && h.line == abc_line),
        "{missing_equals:#?}"
    );
}

/// The `.example` of an env file an environment's generator reads is the record of its keys:
/// the config's `ignore` cannot hide it either. Ignored, it was reported as missing ("has no
/// `...env.example`"); now it is read and compared like any other.
#[test]
fn ignore_does_not_hide_the_example_of_a_generator_env_file() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    let example = "k8s/overlays/dev/dev-secrets.env.example";
    write(
        root,
        "emp-seal.toml",
        &format!("ignore = [\"{example}\"]\n"),
    );
    let (_, hits) = check(root, &[]);
    let mismatch = of(&hits, "example-generator-mismatch");
    assert!(mismatch.is_empty(), "{hits:?}");
    // A key more in the example than in the generator's file: found through the ignore. The
    // real env file is written from the example, then the example gains a key.
    let text = std::fs::read_to_string(root.join(example)).unwrap();
    write(root, "k8s/overlays/dev/dev-secrets.env", &text);
    write(root, example, &format!("{text}EXTRA_KEY=\n"));
    let (_, hits) = check(root, &[]);
    let mismatch = of(&hits, "example-generator-mismatch");
    assert!(
        mismatch
            .iter()
            .any(|h| h.path == example && h.message.contains("EXTRA_KEY")),
        "{hits:?}"
    );
}

/// Files saved with a UTF-8 byte-order mark (Windows editors write one) build with kustomize,
/// whose YAML reader skips it; `check` read every such file as not parsing (`yaml-syntax`:
/// "more than one document"), failing a correct tree, a placeholder in such a file went unseen,
/// and discovery took a directory only such a kustomization includes (`k8s/common`) for an
/// environment of its own. Now the mark is skipped, and findings keep their lines.
#[test]
fn files_with_a_byte_order_mark_are_read_like_any_other() {
    let bom = |text: &str| format!("\u{feff}{text}");
    let sealed = "\
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: extra
  namespace: app-dev
spec:
  encryptedData:
    TOKEN: AgAAAA...
";
    let k = DEV_KUSTOMIZATION.replace("  - ../../base\n", "  - ../../base\n  - ../../common\n");
    let Some(t) = tree(&[
        ("k8s/base/kustomization.yaml", &bom(BASE_KUSTOMIZATION)),
        ("k8s/base/deployment.yaml", &bom(DEPLOYMENT)),
        (DEV, &bom(&k)),
        (
            "k8s/common/kustomization.yaml",
            &bom("resources:\n  - extra.yaml\n"),
        ),
        ("k8s/common/extra.yaml", &bom(sealed)),
    ]) else {
        return;
    };
    if let Some(ok) = kustomize_builds(&t.path().join("k8s/overlays/dev")) {
        assert!(ok, "kubectl kustomize builds the tree");
    }
    let v = json_of(t.path(), &["config", "--format", "json"]);
    let dirs: Vec<&str> = v["environments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["directory"].as_str())
        .collect();
    assert_eq!(dirs, ["k8s/overlays/dev"]);
    let (code, hits) = check(t.path(), &[]);
    let rules: Vec<&str> = hits.iter().map(|h| h.rule.as_str()).collect();
    assert_eq!(rules, ["placeholder-ciphertext"], "{hits:?}");
    assert_eq!(code, 1);
    let rel = "k8s/common/extra.yaml";
    assert_eq!(
        (hits[0].path.as_str(), hits[0].line),
        (rel, line_of(t.path(), rel, "TOKEN:"))
    );
}

/// A directory with two kustomization files (`kustomization.yaml` beside a newer
/// `kustomization.yml`): kustomize refuses to build it ("Found multiple kustomization files");
/// the model read the first name and checked the overlay as clean.
#[test]
fn two_kustomization_files_in_one_directory_are_a_build_error() {
    let yml = "k8s/overlays/dev/kustomization.yml";
    let Some(hit) = build_error_case(&[(yml, DEV_KUSTOMIZATION)], yml, "namespace:") else {
        return;
    };
    assert!(
        hit.message.contains("kustomization.yaml") && hit.message.contains("multiple"),
        "{}",
        hit.message
    );
}

/// `kubectl get secret -o yaml` of several Secrets writes a `kind: List`, and kustomize and
/// `kubectl apply` both expand its items. A plaintext Secret or a placeholder SealedSecret
/// inside one was never looked at: the file rules only read top-level documents.
#[test]
fn secrets_inside_a_list_document_are_checked() {
    let secrets = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: settings
  data:
    mode: fast
- apiVersion: v1
  kind: Secret
  metadata:
    name: prod-db
    namespace: prod
  type: Opaque
  data:
    password: aHVudGVyMi1yZWFsLXBhc3N3b3Jk
metadata:
  resourceVersion: \"\"
";
    let sealed = "\
apiVersion: v1
kind: SealedSecretList
items:
  - apiVersion: bitnami.com/v1alpha1
    kind: SealedSecret
    metadata:
      name: legacy
      namespace: prod
    spec:
      encryptedData:
        TOKEN: AgAAAA...
";
    // The SealedSecret list is one of the overlay's resources too (its item is read like a
    // document).
    let k = DEV_KUSTOMIZATION.replace("  - ../../base\n", "  - ../../base\n  - sealed.yaml\n");
    let Some(t) = tree(&[
        ("backup/secrets.yaml", secrets),
        ("k8s/overlays/dev/sealed.yaml", sealed),
        (DEV, &k),
    ]) else {
        return;
    };
    let (code, hits) = check(t.path(), &[]);
    assert_eq!(code, 1, "{hits:?}");
    let at = |rule: &str| -> Vec<(&str, u64)> {
        of(&hits, rule)
            .iter()
            .map(|h| (h.path.as_str(), h.line))
            .collect()
    };
    let backup = "backup/secrets.yaml";
    assert_eq!(
        at("plaintext-secret"),
        // At the Secret's `data:`, the line above its key.
        [(backup, line_of(t.path(), backup, "password:") - 1)]
    );
    assert_eq!(
        at("readable-secret-data"),
        [(backup, line_of(t.path(), backup, "password:"))]
    );
    let legacy = "k8s/overlays/dev/sealed.yaml";
    assert_eq!(
        at("placeholder-ciphertext"),
        [(legacy, line_of(t.path(), legacy, "TOKEN:"))]
    );
}

/// An overlay that patches keys into its base's SealedSecret (a strategic-merge patch adding an
/// `encryptedData` entry) renders a SealedSecret with both keys, but the key rules read the
/// base file alone: `example-sealed-mismatch` and `missing-secret-key` called the patched key
/// missing, and `check --render` reported a `model-divergence` of the keys. The model now
/// carries each Secret's and SealedSecret's keys as rendered.
#[test]
fn keys_a_patch_adds_to_a_sealed_secret_count() {
    // The file and the patch differ only in the key they hold.
    let holding = |key: &str| {
        format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app-secrets\nspec:\n  encryptedData:\n    {key}: AgBy3i4OJSWK+PiTySYZZA==\n"
        )
    };
    let (sealed, patch) = (holding("MODE"), holding("API_KEY"));
    let deployment = DEPLOYMENT.replace(
        "          envFrom:\n",
        "          env:\n            - name: API_KEY\n              valueFrom:\n                secretKeyRef:\n                  name: app-secrets\n                  key: API_KEY\n          envFrom:\n",
    );
    let k = "namespace: app-dev\nresources:\n  - ../../base\n  - sealedsecret.yaml\npatches:\n  - path: patch-sealed.yaml\n";
    let Some(t) = tree(&[
        ("k8s/base/deployment.yaml", &deployment),
        (DEV, k),
        ("k8s/overlays/dev/sealedsecret.yaml", &sealed),
        ("k8s/overlays/dev/patch-sealed.yaml", &patch),
    ]) else {
        return;
    };
    let args: &[&str] = if kustomize_builds(&t.path().join("k8s/overlays/dev")).is_some() {
        &["--render=always"]
    } else {
        &[]
    };
    let (_, hits) = check(t.path(), args);
    for rule in [
        "example-sealed-mismatch",
        "missing-secret-key",
        "model-divergence",
    ] {
        assert!(of(&hits, rule).is_empty(), "{hits:?}");
    }
}

/// kustomize matches a strategic-merge patch without a target by name and namespace, an unset
/// namespace meaning `default` (api/resid/resid.go `Equals`): a patch without `namespace:` does
/// not reach an object whose file gives one, and kubectl fails the build. The model matched any
/// namespace, so `check` passed an overlay kustomize cannot build.
#[test]
fn a_patch_without_the_namespace_its_object_is_written_with_is_a_build_error() {
    let own = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: own\n  namespace: app-dev\ndata:\n  mode: a\n";
    let patch = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: own\ndata:\n  mode: b\n";
    let k = DEV_KUSTOMIZATION.replace("  - ../../base\n", "  - ../../base\n  - own.yaml\n");
    let k = format!("{k}patches:\n  - path: patch-own.yaml\n");
    let patch_rel = "k8s/overlays/dev/patch-own.yaml";
    let Some(hit) = build_error_case(
        &[
            (DEV, &k),
            ("k8s/overlays/dev/own.yaml", own),
            (patch_rel, patch),
        ],
        patch_rel,
        "apiVersion:",
    ) else {
        return;
    };
    assert!(hit.message.contains("`own` not found"), "{}", hit.message);
    // With the namespace, kubectl and the model both apply it.
    let fixed = patch.replace("name: own\n", "name: own\n  namespace: app-dev\n");
    let Some(t) = tree(&[
        (DEV, &k),
        ("k8s/overlays/dev/own.yaml", own),
        (patch_rel, &fixed),
    ]) else {
        return;
    };
    let (code, hits) = check(t.path(), &[]);
    assert_eq!((code, hits.len()), (0, 0), "{hits:?}");
    if let Some(ok) = kustomize_builds(&t.path().join("k8s/overlays/dev")) {
        assert!(ok);
    }
}

/// A stand-in for a ciphertext written by a patch (an inline JSON 6902 op, an inline
/// strategic-merge patch, a JSON 6902 patch file) reaches the render, where the controller
/// fails the whole SealedSecret; no SealedSecret document shows it, so `check` and even
/// `--render always` passed. Each is reported where the patch writes it; kubectl's render (the
/// oracle) holds exactly those values.
/// A SealedSecret in a shared base (the Flux pattern), and a value a patch there writes: no
/// certificate sits beside them, so the ciphertext rules checked them against none, and a value
/// sealed for another environment's key size passed. Each is now checked against the certificate
/// of every environment that renders it, and a reason that holds for one of them names it. The
/// values come from the independent Python peer, sealed to a 2048-bit certificate; environment
/// `a` has a 4096-bit one, `b` the 2048-bit one.
#[test]
fn values_in_a_shared_base_are_checked_against_every_environment_that_renders_them() {
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/certs");
    let cert = |bits: u32| std::fs::read_to_string(fixtures.join(format!("rsa-{bits}-cert.pem")));
    let (c2048, c4096) = (cert(2048).unwrap(), cert(4096).unwrap());
    let mut sealed =
        |plaintext: &[u8]| common::b64(&peer.encrypt(&c2048, b"app/shared-secrets", plaintext));
    let (a_value, b_value) = (sealed(b"first"), sealed(b"second"));
    let shared_k = "k8s/shared/kustomization.yaml";
    let kustomization = format!(
        "resources:\n  - sealed.yaml\npatches:\n  - patch: |-\n      - op: add\n        path: /spec/encryptedData/B\n        value: {b_value}\n    target:\n      kind: SealedSecret\n"
    );
    let sealed_doc = format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: shared-secrets\n  namespace: app\nspec:\n  encryptedData:\n    A: {a_value}\n"
    );
    let overlay = "resources:\n  - ../../shared\n";
    let Some(t) = tree(&[
        (shared_k, &kustomization),
        ("k8s/shared/sealed.yaml", &sealed_doc),
        ("k8s/overlays/a/kustomization.yaml", overlay),
        ("k8s/overlays/a/sealing-cert.pem", &c4096),
        ("k8s/overlays/b/kustomization.yaml", overlay),
        ("k8s/overlays/b/sealing-cert.pem", &c2048),
    ]) else {
        return;
    };
    let root = t.path();
    kubectl_renders(root, "k8s/overlays/a", &[&format!("B: {b_value}")]);
    let want = [
        (shared_k, line_of(root, shared_k, "value: ")),
        (
            "k8s/shared/sealed.yaml",
            line_of(root, "k8s/shared/sealed.yaml", "A: "),
        ),
    ];
    for args in [&[][..], &["--release", "a"]] {
        let (code, hits) = check(root, args);
        let got = of(&hits, "ciphertext-key-size-mismatch");
        let at: Vec<(&str, u64)> = got.iter().map(|h| (h.path.as_str(), h.line)).collect();
        assert_eq!(at, want, "{args:?}: {hits:?}");
        // Under `--release a` only `a` renders it; otherwise the reason names the one of two.
        let named = if args.is_empty() { " (overlay a)" } else { "" };
        for h in got {
            let reason =
                "sealed for a 2048-bit key, but the environment's certificate has a 4096-bit key";
            assert!(
                h.message.ends_with(&format!("{reason}{named}")),
                "{}",
                h.message
            );
        }
        assert_eq!(code, 1, "{args:?}");
    }
    let (_, hits) = check(root, &["--release", "b"]);
    assert!(
        of(&hits, "ciphertext-key-size-mismatch").is_empty(),
        "{hits:?}"
    );
}

/// Plaintext a shared base's kustomization puts into Secrets (a committed generator input, a
/// filled literal, an inline patch's `stringData`), built by two environments: each reached the
/// base by its own path (`overlays/a/../../shared`), so the findings were per path, named files
/// that do not exist, and a committed input file was skipped as one git knows nothing of. Now
/// each is found once, at the file as the repository names it. A committed input that holds only
/// a PEM certificate (`ca.crt`) is public and no finding.
#[test]
fn plaintext_a_shared_base_writes_into_secrets_is_found_once_where_it_is_written() {
    let shared_k = "k8s/shared/kustomization.yaml";
    // (Not a `\` line continuation: it would eat the entries' indentation.)
    let kustomization = "resources:
  - secret.yaml
secretGenerator:
  - name: generated
    files:
      - token.txt
      - ca.crt
    literals:
      - PASSWORD=hunter2
patches:
  - patch: |-
      apiVersion: v1
      kind: Secret
      metadata:
        name: plain
      stringData:
        TOKEN: from-the-patch
";
    let secret =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\nstringData:\n  OTHER: \"\"\n";
    let overlay = "resources:\n  - ../../shared\n";
    let certs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/certs");
    let ca = std::fs::read_to_string(certs.join("rsa-2048-cert.pem")).unwrap();
    let Some(t) = tree(&[
        (shared_k, kustomization),
        ("k8s/shared/secret.yaml", secret),
        ("k8s/shared/token.txt", "not-a-real-token\n"),
        // Only a PEM certificate: public, no plaintext secret.
        ("k8s/shared/ca.crt", &ca),
        ("k8s/overlays/a/kustomization.yaml", overlay),
        ("k8s/overlays/b/kustomization.yaml", overlay),
    ]) else {
        return;
    };
    let root = t.path();
    kubectl_renders(
        root,
        "k8s/overlays/b",
        &["TOKEN: from-the-patch", "token.txt: "],
    );
    let (code, hits) = check(root, &[]);
    assert_eq!(code, 1);
    let mut at: Vec<(&str, u64)> = of(&hits, "plaintext-secret")
        .iter()
        .map(|h| (h.path.as_str(), h.line))
        .collect();
    at.sort_unstable();
    // The generator's findings (its input file, its literal) at its entry, the patch's at the
    // line writing the key.
    let generator = line_of(root, shared_k, "- name: generated");
    let mut want = vec![
        (shared_k, generator),
        (shared_k, generator),
        (shared_k, line_of(root, shared_k, "TOKEN: from-the-patch")),
    ];
    want.sort_unstable();
    assert_eq!(at, want, "{hits:?}");
}

/// A Secret value that is only a variable Flux fills in after the build (`${DB_PASSWORD}`, from
/// `postBuild.substituteFrom`: Flux's documented use) is no committed secret, in a document, a
/// generator literal or a patch: `plaintext-secret` called each a plaintext secret, an error no
/// Flux repository could pass. A variable with a written default is still reported.
#[test]
fn a_value_that_is_only_a_flux_variable_is_no_plaintext_secret() {
    let kustomization = "resources:
  - secret.yaml
secretGenerator:
  - name: generated
    literals:
      - TOKEN=${TOKEN}
      - QUOTED=\"${QUOTED}\"
patches:
  - patch: |-
      apiVersion: v1
      kind: Secret
      metadata:
        name: plain
      stringData:
        PATCHED: ${PATCHED}
";
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\nstringData:\n  DB_PASSWORD: ${DB_PASSWORD}\n  WITH_DEFAULT: ${WITH_DEFAULT:=hunter2}\n";
    let Some(t) = tree(&[
        ("k8s/overlays/flux/kustomization.yaml", kustomization),
        ("k8s/overlays/flux/secret.yaml", secret),
    ]) else {
        return;
    };
    let root = t.path();
    kubectl_renders(root, "k8s/overlays/flux", &["PATCHED: ${PATCHED}"]);
    let (code, hits) = check(root, &[]);
    let plain = of(&hits, "plaintext-secret");
    assert_eq!(plain.len(), 1, "{hits:?}");
    assert_eq!(plain[0].path, "k8s/overlays/flux/secret.yaml");
    assert!(
        plain[0].message.contains("`WITH_DEFAULT`"),
        "{}",
        plain[0].message
    );
    assert!(
        !plain[0].message.contains("DB_PASSWORD"),
        "{}",
        plain[0].message
    );
    assert_eq!(code, 1);
}

#[test]
fn placeholders_written_by_patches_are_found_where_the_patch_writes_them() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    let (_env_dir, env) = common::paper_env_file();
    bin()
        .arg("-C")
        .arg(root)
        .args(["paper", "--no-input", "--from"])
        .arg(&env)
        .assert()
        .success();
    assert!(git(root, &["add", "-A"]));
    let (code, hits) = check(root, &[]);
    let paper: Vec<&Hit> = hits.iter().filter(|h| h.path.contains("/paper/")).collect();
    assert!(paper.is_empty(), "sealed paper checks clean: {paper:?}");

    let paper_k = "k8s/overlays/paper/kustomization.yaml";
    // (Not a `\` line continuation: it would eat the first entry's indentation.)
    let patches = "  - patch: |-
      - op: replace
        path: /spec/encryptedData/API_KEY
        value: REPLACE_ME
    target:
      kind: SealedSecret
      name: emp-secrets
  - patch: |-
      apiVersion: bitnami.com/v1alpha1
      kind: SealedSecret
      metadata:
        name: emp-secrets
        namespace: emp-paper
      spec:
        encryptedData:
          REDIS_PASSWORD: <sealed>
  - path: ops.yaml
    target:
      kind: SealedSecret
";
    let text = std::fs::read_to_string(root.join(paper_k)).unwrap();
    write(root, paper_k, &format!("{text}{patches}"));
    let ops = "- op: add\n  path: /spec/encryptedData/EXTRA\n  value: CHANGEME\n";
    write(root, "k8s/overlays/paper/ops.yaml", ops);
    assert!(git(root, &["add", "-A"]));
    let written = [
        "API_KEY: REPLACE_ME",
        "REDIS_PASSWORD: <sealed>",
        "EXTRA: CHANGEME",
    ];
    kubectl_renders(root, "k8s/overlays/paper", &written);
    for args in [&[][..], &["--render", "always"], &["--release", "paper"]] {
        let (code_after, hits) = check(root, args);
        assert_eq!(code_after, 1, "{args:?}: {hits:?}");
        let mut at: Vec<(&str, u64)> = of(&hits, "placeholder-ciphertext")
            .iter()
            .map(|h| (h.path.as_str(), h.line))
            .collect();
        at.sort_unstable();
        let expected = vec![
            (paper_k, line_of(root, paper_k, "value: REPLACE_ME")),
            (paper_k, line_of(root, paper_k, "REDIS_PASSWORD: <sealed>")),
            ("k8s/overlays/paper/ops.yaml", 3),
        ];
        assert_eq!(at, expected, "{args:?}: {hits:?}");
        let api = of(&hits, "placeholder-ciphertext")
            .into_iter()
            .find(|h| h.message.starts_with("`API_KEY`"));
        assert!(
            api.is_some_and(|h| h.message.contains("as this patch writes it")),
            "{hits:?}"
        );
    }
    assert_eq!(code, 0);
}

/// Plaintext kustomize puts into Secrets from committed text that is not a Secret document: a
/// Secret generator's filled `literals:`, its tracked `files:` and `envs:` inputs, and a value a
/// patch writes (an inline JSON 6902 op). Each passed `check`. kubectl's render (the oracle)
/// holds each value in a Secret. Empty literals, ignored inputs and a patch that is itself a
/// Secret document (reported once, by the document rule) are not findings of this kind.
#[test]
fn plaintext_kustomize_writes_into_secrets_from_committed_text_is_found() {
    let k = "\
namespace: app-dev
resources:
  - ../../base
  - plain.yaml
secretGenerator:
  - name: app-secrets
    literals:
      - MODE=
      - PASSWORD=hunter2-literal
  - name: tls
    files:
      - key.txt
  - name: cfg
    envs:
      - app.properties
  - name: local
    files:
      - local.txt
  - name: ignored
    files:
      - ignored.txt
patches:
  - patch: |-
      - op: add
        path: /stringData
        value:
          TOKEN: hunter2-patch
    target:
      kind: Secret
      name: plain
  - path: patch-plain.yaml
";
    let plain = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\ntype: Opaque\n";
    let patch_doc = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\nstringData:\n  OTHER: hunter2-doc\n";
    let Some(t) = tree(&[
        (DEV, k),
        ("k8s/overlays/dev/plain.yaml", plain),
        ("k8s/overlays/dev/patch-plain.yaml", patch_doc),
        ("k8s/overlays/dev/key.txt", "hunter2-file\n"),
        ("k8s/overlays/dev/app.properties", "A=hunter2-env\n"),
        (".gitignore", "ignored.txt\nlocal.txt\n"),
    ]) else {
        return;
    };
    let root = t.path();
    write(root, "k8s/overlays/dev/ignored.txt", "x\n");
    // Not ignored, not tracked: one `git add .` away.
    write(root, ".gitignore", "ignored.txt\n");
    write(root, "k8s/overlays/dev/local.txt", "hunter2-local\n");
    let rendered = [
        "hunter2-patch",
        "hunter2-doc",
        "PASSWORD:",
        "key.txt:",
        "A:",
        "local.txt:",
    ];
    kubectl_renders(root, "k8s/overlays/dev", &rendered);
    let (code, hits) = check(root, &[]);
    assert_eq!(code, 1, "{hits:?}");
    let mut found: Vec<(u64, &str, String)> = of(&hits, "plaintext-secret")
        .iter()
        .map(|h| {
            let line = if h.path == DEV { h.line } else { 0 };
            (line, h.severity.as_str(), h.message.clone())
        })
        .collect();
    found.sort();
    let at = |needle: &str| line_of(root, DEV, needle);
    let expected = vec![
        (0, "error", "Secret `plain` holds 1 plaintext stringData key (`OTHER`)".to_owned()),
        (
            at("name: app-secrets"),
            "error",
            "the generator of Secret `app-secrets` has 1 plaintext literal key (`PASSWORD`)".to_owned(),
        ),
        (
            at("name: tls"),
            "error",
            "Secret `tls` is generated from `k8s/overlays/dev/key.txt`, which git tracks: its content is plaintext".to_owned(),
        ),
        (
            at("name: cfg"),
            "error",
            "Secret `cfg` is generated from `k8s/overlays/dev/app.properties`, which git tracks: its content is plaintext".to_owned(),
        ),
        (
            at("name: local"),
            "warning",
            "Secret `local` is generated from `k8s/overlays/dev/local.txt`, which git does not ignore: its content is plaintext".to_owned(),
        ),
        (
            at("TOKEN: hunter2-patch"),
            "error",
            "Secret `plain`, as this patch writes it, holds 1 plaintext stringData key (`TOKEN`)".to_owned(),
        ),
    ];
    assert_eq!(found, expected, "{hits:?}");
    let out = bin().arg("-C").arg(root).args(["check"]).output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("hunter2"), "a value is shown:\n{all}");
}

/// `check .` (or any directory) narrows the report to what it holds and reads it as the rest of
/// the repository is read: a git-ignored `target/` or `node_modules/` is not swept in. It read
/// every file under the directory, ignored ones included, so a plaintext Secret in an ignored
/// build output failed the check and the file count ran into the thousands.
#[test]
fn a_directory_argument_does_not_read_ignored_files() {
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\nstringData:\n  PASSWORD: hunter22\n";
    let Some(t) = tree(&[
        (".gitignore", "target/\n"),
        ("target/debug/leaked.yaml", secret),
    ]) else {
        return;
    };
    // Relative paths are taken from the working directory, not from `-C`.
    let at = |rel: &str| t.path().join(rel).to_str().unwrap().to_owned();
    let files = |args: &[&str]| {
        let v = json_of(t.path(), &[&["check", "--format", "json"], args].concat());
        v["summary"]["files_checked"].as_u64().unwrap()
    };
    let whole = files(&[]);
    for dir in [at("."), at("k8s/..")] {
        let (code, hits) = check(t.path(), &[&dir]);
        assert_eq!((code, hits.len()), (0, 0), "check {dir}: {hits:?}");
        assert_eq!(files(&[&dir]), whole, "check {dir}");
    }
    // Named on the command line, the ignored file is read (and, committed nowhere, is no
    // `plaintext-secret`).
    assert_eq!(files(&[&at("target/debug/leaked.yaml")]), 1);
}

/// A strict or namespace-wide SealedSecret that renders without a namespace decrypts under
/// whichever namespace it is applied in (kubectl's context, Argo CD's `destination.namespace`):
/// nothing in the tree fixes its label, which `seal` refuses to guess, so `check` must not call
/// it verified. A cluster-wide one is bound to no namespace and passes.
#[test]
fn a_namespaced_scope_sealedsecret_rendering_without_a_namespace_is_an_identity_mismatch() {
    let sealed = |annotations: &str| {
        format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app-secrets\n{annotations}spec:\n  encryptedData:\n    MODE: AgBy3i4OJSWK+PiTySYZZA==\n  template:\n    metadata:\n      name: app-secrets\n"
        )
    };
    let kustomization = "resources:\n  - ../../base\n  - sealedsecret.yaml\n";
    for (annotations, reported) in [
        ("", true),
        (
            "  annotations:\n    sealedsecrets.bitnami.com/namespace-wide: \"true\"\n",
            true,
        ),
        (
            "  annotations:\n    sealedsecrets.bitnami.com/cluster-wide: \"true\"\n",
            false,
        ),
    ] {
        let Some(t) = tree(&[
            ("k8s/overlays/prod/kustomization.yaml", kustomization),
            ("k8s/overlays/prod/sealedsecret.yaml", &sealed(annotations)),
        ]) else {
            return;
        };
        kubectl_renders(t.path(), "k8s/overlays/prod", &["name: app-secrets"]);
        let render = common::kustomize(&t.path().join("k8s/overlays/prod"));
        assert!(!render.contains("namespace:"), "{render}");
        let (_, hits) = check(t.path(), &["--rules", "identity-mismatch"]);
        let found = of(&hits, "identity-mismatch");
        if reported {
            assert_eq!(found.len(), 1, "{annotations}: {hits:?}");
            let ss = "k8s/overlays/prod/sealedsecret.yaml";
            assert_eq!((found[0].path.as_str(), found[0].line), (ss, 4));
            assert!(
                found[0].message.contains("renders without a namespace"),
                "{hits:?}"
            );
            assert_eq!(found[0].severity, "error");
        } else {
            assert!(found.is_empty(), "{hits:?}");
        }
    }
}

/// An env file a generator reads is an env file whatever its name: its `.example` is compared
/// with it (`secrets.properties` and `secrets.properties.example`), not called missing.
#[test]
fn a_generator_env_file_not_named_env_is_compared_with_its_example() {
    let kustomization = "namespace: app-dev\nresources:\n  - ../../base\nsecretGenerator:\n  - name: app-secrets\n    envs:\n      - secrets.properties\n";
    for (example, mismatch) in [("MODE=\n", false), ("MODE=\nEXTRA=\n", true)] {
        let Some(t) = tree(&[
            ("k8s/overlays/dev/kustomization.yaml", kustomization),
            ("k8s/overlays/dev/secrets.properties.example", example),
            ("k8s/overlays/dev/secrets.properties", "MODE=debug\n"),
            (".gitignore", "secrets.properties\n"),
        ]) else {
            return;
        };
        assert!(git(t.path(), &["add", "-A"]));
        kubectl_renders(t.path(), "k8s/overlays/dev", &["MODE: ZGVidWc="]);
        let (_, hits) = check(t.path(), &[]);
        let found = of(&hits, "example-generator-mismatch");
        if mismatch {
            let ex = "k8s/overlays/dev/secrets.properties.example";
            assert_eq!(found.len(), 1, "{hits:?}");
            assert_eq!((found[0].path.as_str(), found[0].line), (ex, 2));
        } else {
            assert!(found.is_empty(), "{hits:?}");
        }
    }
}

/// A `%YAML` (or any `%`) directive: YAML allows it, but kustomize cuts files at `---` lines
/// before parsing, so the directive stands alone and the build fails, whatever the version.
#[test]
fn a_yaml_directive_in_a_resource_is_a_build_error() {
    let dev = "namespace: app-dev\nresources:\n  - ../../base\n  - configmap.yaml\nsecretGenerator:\n  - name: app-secrets\n    literals:\n      - MODE=\n";
    let cm = "%YAML 1.1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n";
    let rel = "k8s/overlays/dev/configmap.yaml";
    let extra = [(DEV, dev), (rel, cm)];
    let Some(hit) = build_error_case(&extra, rel, "%YAML") else {
        return;
    };
    assert!(hit.message.contains("`%` directive"), "{}", hit.message);
}

/// kustomize decodes one document per `---` piece: a document after a `...` line in the same
/// piece is dropped from the render without a word. The model drops it too, so a reference
/// to what it held dangles, as it does in the cluster.
#[test]
fn a_document_after_an_end_marker_is_not_rendered() {
    let dev = "namespace: app-dev\nresources:\n  - ../../base\n  - secrets.yaml\n";
    let secrets = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\n...\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app-secrets\nspec:\n  encryptedData: {}\n";
    let Some(t) = tree(&[(DEV, dev), ("k8s/overlays/dev/secrets.yaml", secrets)]) else {
        return;
    };
    kubectl_renders(t.path(), "k8s/overlays/dev", &["name: first"]);
    if common::kubectl().is_some() {
        let render = common::kustomize(&t.path().join("k8s/overlays/dev"));
        assert!(!render.contains("SealedSecret"), "{render}");
    }
    let (code, hits) = check(t.path(), &[]);
    assert_eq!(code, 1, "{hits:?}");
    let dangling = of(&hits, "dangling-reference");
    assert_eq!(dangling.len(), 1, "{hits:?}");
    assert!(dangling[0].message.contains("app-secrets"), "{hits:?}");
}

/// A reference a JSON 6902 op writes is placed at the name or key inside the op's value, in a
/// patch file and in an inline patch alike, not at the op's `value:` line.
#[test]
fn references_a_json_patch_writes_are_placed_inside_its_value() {
    let ops = "- op: add\n  path: /spec/template/spec/containers/0/env\n  value:\n  - name: A\n    value: \"1\"\n  - name: B\n    valueFrom:\n      secretKeyRef:\n        name: no-such-secret\n        key: B\n";
    let inline = "      - op: add\n        path: /spec/template/spec/containers/0/env/-\n        value:\n          name: C\n          valueFrom:\n            secretKeyRef:\n              name: app-secrets\n              key: NOPE\n";
    let dev = format!(
        "{DEV_KUSTOMIZATION}patches:\n  - target: {{kind: Deployment}}\n    path: j.yaml\n  - target: {{kind: Deployment}}\n    patch: |-\n{inline}"
    );
    let j = "k8s/overlays/dev/j.yaml";
    let Some(t) = tree(&[(DEV, &dev), (j, ops)]) else {
        return;
    };
    kubectl_renders(
        t.path(),
        "k8s/overlays/dev",
        &["name: no-such-secret", "key: NOPE"],
    );
    let (code, hits) = check(t.path(), &[]);
    assert_eq!(code, 1, "{hits:?}");
    let dangling = of(&hits, "dangling-reference");
    assert_eq!(dangling.len(), 1, "{hits:?}");
    let name_line = line_of(t.path(), j, "name: no-such-secret");
    assert_eq!(
        (dangling[0].path.as_str(), dangling[0].line),
        (j, name_line)
    );
    let missing = of(&hits, "missing-secret-key");
    assert_eq!(missing.len(), 1, "{hits:?}");
    let key_line = line_of(t.path(), DEV, "key: NOPE");
    assert_eq!((missing[0].path.as_str(), missing[0].line), (DEV, key_line));
}

/// When a later op inserts into the list an op wrote, the items of that op's value no longer
/// sit at the object's indexes: the reference is placed at the op's `value:` line, as before,
/// not at another item's line (the review found `key: MODE` named for `NOPE`).
#[test]
fn a_reference_in_a_list_a_later_op_inserts_into_is_placed_at_the_value_line() {
    let ops = "- op: add\n  path: /spec/template/spec/containers/0/env\n  value:\n  - name: A\n    valueFrom:\n      secretKeyRef:\n        name: app-secrets\n        key: NOPE\n  - name: B\n    valueFrom:\n      secretKeyRef:\n        name: app-secrets\n        key: MODE\n- op: add\n  path: /spec/template/spec/containers/0/env/0\n  value:\n    name: Z\n    value: z\n";
    let dev = format!(
        "{DEV_KUSTOMIZATION}patches:\n  - target: {{kind: Deployment}}\n    path: j.yaml\n"
    );
    let j = "k8s/overlays/dev/j.yaml";
    let Some(t) = tree(&[(DEV, &dev), (j, ops)]) else {
        return;
    };
    kubectl_renders(t.path(), "k8s/overlays/dev", &["key: NOPE", "name: Z"]);
    let (_, hits) = check(t.path(), &[]);
    let missing = of(&hits, "missing-secret-key");
    assert_eq!(missing.len(), 1, "{hits:?}");
    let value_line = line_of(t.path(), j, "  value:");
    assert_eq!((missing[0].path.as_str(), missing[0].line), (j, value_line));
}

/// A finding on a quoted key (kubeseal writes JSON, every key quoted) spans the key as
/// written, its quotes included, in the JSON report's bytes (SARIF reports the same numbers);
/// the span used to start at the quote with the bare key's length.
#[test]
fn a_finding_on_a_quoted_key_spans_the_key_as_written() {
    let dev = "namespace: app-dev\nresources:\n  - ../../base\n  - sealed.json\n";
    let rel = "k8s/overlays/dev/sealed.json";
    let json = "{\"apiVersion\":\"bitnami.com/v1alpha1\",\"kind\":\"SealedSecret\",\"metadata\":{\"name\":\"app-secrets\"},\"spec\":{\"encryptedData\":{\"MODE\":\"AgAAAA...\"}}}\n";
    let Some(t) = tree(&[(DEV, dev), (rel, json)]) else {
        return;
    };
    let report = json_of(t.path(), &["check", "--format", "json"]);
    let findings = report["findings"].as_array().unwrap();
    let on_key: Vec<&Value> = findings
        .iter()
        .filter(|f| f["rule"] == "placeholder-ciphertext")
        .collect();
    assert_eq!(on_key.len(), 1, "{report}");
    let at = &on_key[0]["location"];
    let span = |k: &str| usize::try_from(at[k].as_u64().unwrap()).unwrap();
    assert_eq!(at["path"], rel);
    assert_eq!(&json[span("byte_start")..span("byte_end")], "\"MODE\"");
}

/// JSON objects written one after another (`kubeseal >> s.json`): kustomize renders the first
/// and drops the second without a word. The file is an error at the second object's line,
/// saying so, and the overlay is not passed.
#[test]
fn json_objects_written_one_after_another_are_named_at_the_second() {
    let dev = "namespace: app-dev\nresources:\n  - ../../base\n  - sealed.json\n";
    let one = |name: &str| {
        format!(
            "{{\"apiVersion\":\"bitnami.com/v1alpha1\",\"kind\":\"SealedSecret\",\"metadata\":{{\"name\":\"{name}\"}},\"spec\":{{\"encryptedData\":{{}}}}}}\n"
        )
    };
    let json = format!("{}{}", one("app-secrets"), one("second"));
    let Some(t) = tree(&[(DEV, dev), ("k8s/overlays/dev/sealed.json", &json)]) else {
        return;
    };
    kubectl_renders(t.path(), "k8s/overlays/dev", &["name: app-secrets"]);
    if common::kubectl().is_some() {
        let render = common::kustomize(&t.path().join("k8s/overlays/dev"));
        assert!(!render.contains("name: second"), "{render}");
    }
    let (code, hits) = check(t.path(), &[]);
    assert_eq!(code, 1, "{hits:?}");
    let syntax = of(&hits, "yaml-syntax");
    assert_eq!(syntax.len(), 1, "{hits:?}");
    assert_eq!(
        (syntax[0].path.as_str(), syntax[0].line),
        ("k8s/overlays/dev/sealed.json", 2)
    );
    assert!(
        syntax[0].message.contains("reads only the first"),
        "{}",
        syntax[0].message
    );
}

/// A strategic-merge patch file that is a SealedSecret document renders its values into the
/// release environment's SealedSecret. The ciphertext rules read it as a document but judged
/// it with no environment (no overlay lists it as a resource): without the environment's
/// certificate, so a value sealed for a 2048-bit key passed `ciphertext-key-size-mismatch`, and
/// as rendered by no checked environment, so a value the published demo key opens passed
/// `sealed-with-demo-certificate`. Both are now judged against paper, which builds the patch.
#[test]
fn a_patch_files_sealed_values_are_judged_with_the_environment_that_builds_it() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let Some(mut peer) = Peer::start() else {
        return;
    };
    let cert = tempfile::tempdir().unwrap();
    let real = cert.path().join("controller.pem");
    std::fs::write(&real, fixtures::cert_pem(4096)).unwrap();
    seal_paper_with(t.path(), &real);
    let label = b"emp-paper/emp-secrets";
    let demo = common::b64(&peer.encrypt(&fixtures::demo_cert_pem(), label, b"not-a-secret"));
    let small = common::b64(&peer.encrypt(&fixtures::cert_pem(2048), label, b"not-a-secret"));
    let patch = "k8s/overlays/paper/patch-sealed.yaml";
    write(
        t.path(),
        patch,
        &format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: emp-secrets\n  namespace: emp-paper\nspec:\n  encryptedData:\n    API_KEY: {demo}\n    REDIS_PASSWORD: {small}\n"
        ),
    );
    let k = "k8s/overlays/paper/kustomization.yaml";
    let text = std::fs::read_to_string(t.path().join(k)).unwrap();
    let text = text.replace("patches:\n", "patches:\n  - path: patch-sealed.yaml\n");
    write(t.path(), k, &text);
    common::git(t.path(), &["add", "-A"]);

    let (code, hits) = check(t.path(), &["--release", "paper", "--render", "never"]);
    assert_eq!(code, 1, "{hits:?}");
    let at = |rule: &str| -> Vec<(String, u64)> {
        of(&hits, rule)
            .iter()
            .map(|h| (h.path.clone(), h.line))
            .collect()
    };
    let line = |key: &str| line_of(t.path(), patch, &format!("    {key}: "));
    assert_eq!(
        at("sealed-with-demo-certificate"),
        [(patch.to_owned(), line("API_KEY"))],
        "{hits:?}"
    );
    assert_eq!(
        at("ciphertext-key-size-mismatch"),
        [(patch.to_owned(), line("REDIS_PASSWORD"))],
        "{hits:?}"
    );
    let mismatch = of(&hits, "ciphertext-key-size-mismatch");
    assert!(
        mismatch[0].message.contains("2048-bit") && mismatch[0].message.contains("4096-bit"),
        "{}",
        mismatch[0].message
    );
}

/// kustomize decodes the insides of `images`, `imageTags`, `labels`, `sortOptions`,
/// `helmGlobals`, `metadata` and `generatorOptions` strictly into Go structs
/// (api/types/kustomization.go and the types it names), and checks the top kustomization's
/// `sortOptions` (api/krusty/kustomizer.go `applySortOrder`): each case below fails
/// `kubectl kustomize`, and emp-seal must say so at the offending line.
#[test]
fn nested_kustomization_fields_kustomize_cannot_decode_are_build_errors() {
    let cases = [
        (
            "images:\n  - name: busybox\n    newTag: 1.37\n",
            "newTag:",
            "must be a string",
        ),
        (
            "imageTags:\n  - name: busybox\n    tag: x\n",
            "tag:",
            "unknown field",
        ),
        (
            "labels:\n  - pairs:\n      tier: 5\n",
            "tier:",
            "must be a string",
        ),
        (
            "labels:\n  - pairs: {a: b}\n    includeSelector: true\n",
            "includeSelector:",
            "unknown field",
        ),
        (
            "labels:\n  - pairs: {a: b}\n    includeSelectors: 'true'\n",
            "includeSelectors:",
            "must be a boolean",
        ),
        (
            "sortOptions:\n  order: Legacy\n",
            "order:",
            "`fifo` or `legacy`",
        ),
        ("sortOptions: {}\n", "sortOptions:", "`fifo` or `legacy`"),
        (
            "sortOptions:\n  order: fifo\n  legacySortOptions:\n    orderFirst: [Namespace]\n",
            "legacySortOptions:",
            "not `legacy`",
        ),
        (
            "helmGlobals:\n  chartHome: 5\n",
            "chartHome:",
            "must be a string",
        ),
        (
            "metadata:\n  generateName: x\n",
            "generateName:",
            "unknown field",
        ),
        (
            "generatorOptions:\n  labels:\n    a: 5\n",
            "a: 5",
            "must be a string",
        ),
    ];
    for (added, needle, says) in cases {
        let k = format!("{DEV_KUSTOMIZATION}{added}");
        let Some(hit) = build_error_case(&[(DEV, &k)], DEV, needle) else {
            return;
        };
        assert!(hit.message.contains(says), "{added}: {}", hit.message);
    }
}

/// What kustomize does decode in those fields checks clean and builds: field names in another
/// case, YAML 1.1 booleans, null items and values, every field of the structs, and
/// `sortOptions` in a base (kustomize reads only the top's).
#[test]
fn nested_kustomization_fields_kustomize_decodes_check_clean() {
    let added = "\
images:
  - name: busybox
    newtag: '1.37'
    NewName: busybox
  - ~
labels:
  - pairs: {tier: ~}
    includeSelectors: no
    includeTemplates: true
    fields:
      - {group: apps, version: v1, kind: Deployment, path: spec/template/metadata/labels, create: true}
sortOptions:
  order: legacy
  legacySortOptions:
    orderFirst: [Namespace, ~]
helmGlobals: {chartHome: charts, configHome: config}
metadata: {name: dev, namespace: app-dev, labels: {a: b}, annotations: {c: d}}
generatorOptions: {labels: {a: b}, annotations: {c: ~}}
";
    let k = format!("{DEV_KUSTOMIZATION}{added}");
    let base = format!("{BASE_KUSTOMIZATION}sortOptions:\n  order: bogus\n");
    let Some(t) = tree(&[(DEV, &k), ("k8s/base/kustomization.yaml", &base)]) else {
        return;
    };
    let (code, hits) = check(t.path(), &[]);
    assert_eq!((code, hits.len()), (0, 0), "{hits:?}");
    if let Some(ok) = kustomize_builds(&t.path().join("k8s/overlays/dev")) {
        assert!(ok, "kubectl kustomize refuses what emp-seal checks clean");
    }
}

/// kustomize's `Kustomization.EnforceFields` (api/types/kustomization.go): a kind other than
/// `Kustomization` or `Component`, or an apiVersion that is not its kind's, fails the build
/// ("Failed to read kustomization file"), in the overlay, a base or a component alike.
#[test]
fn kustomization_kind_and_api_version_kustomize_refuses_are_build_errors() {
    let comp = "k8s/components/c/kustomization.yaml";
    let with_comp = format!("{DEV_KUSTOMIZATION}components:\n  - ../../components/c\n");
    let base = "k8s/base/kustomization.yaml";
    let cases: [(&str, String, &str, &str, &str); 4] = [
        (
            comp,
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Component\n".into(),
            "apiVersion:",
            "should be kustomize.config.k8s.io/v1alpha1",
            &with_comp,
        ),
        (
            DEV,
            format!(
                "apiVersion: kustomize.config.k8s.io/v1\nkind: Kustomization\n{DEV_KUSTOMIZATION}"
            ),
            "apiVersion:",
            "should be kustomize.config.k8s.io/v1beta1",
            DEV_KUSTOMIZATION,
        ),
        (
            DEV,
            format!("kind: Kustomizatio\n{DEV_KUSTOMIZATION}"),
            "kind:",
            "should be Kustomization or Component",
            DEV_KUSTOMIZATION,
        ),
        (
            base,
            format!("apiVersion: kustomize.config.k8s.io/v1alpha1\n{BASE_KUSTOMIZATION}"),
            "apiVersion:",
            "should be kustomize.config.k8s.io/v1beta1",
            DEV_KUSTOMIZATION,
        ),
    ];
    for (rel, text, needle, says, dev) in &cases {
        let Some(hit) = build_error_case(&[(DEV, dev), (rel, text)], rel, needle) else {
            return;
        };
        assert!(hit.message.contains(says), "{rel}: {}", hit.message);
    }
}

/// An allow comment may silence a build error in an ordinary check, but the summary still says
/// which environment did not build, and a release gate is not passed by it: neither an
/// `overlay-build-error` nor a `yaml-syntax` error in a file the released overlay reads can be
/// suppressed under `--release`.
#[test]
fn a_suppressed_build_error_is_named_in_the_summary_and_fails_the_release_gate() {
    let missing = DEV_KUSTOMIZATION.replace(
        "  - ../../base\n",
        "  - ../../base\n  - missing.yaml # emp-seal:allow overlay-build-error -- later\n",
    );
    let broken = DEV_KUSTOMIZATION.replace("  - ../../base\n", "  - ../../base\n  - cm.yaml\n");
    let cm = "kind: ConfigMap\n  name: x # emp-seal:allow yaml-syntax\n";
    let broken_files = [(DEV, broken.as_str()), ("k8s/overlays/dev/cm.yaml", cm)];
    for (rule, extra) in [
        ("overlay-build-error", &[(DEV, missing.as_str())][..]),
        ("yaml-syntax", &broken_files[..]),
    ] {
        let Some(t) = tree(extra) else { return };
        assert_ne!(
            kustomize_builds(&t.path().join("k8s/overlays/dev")),
            Some(true),
            "{rule}: kubectl builds the overlay"
        );
        let (code, hits) = check(t.path(), &[]);
        let h = of(&hits, rule);
        assert_eq!((code, h.len()), (0, 1), "{rule}: {hits:?}");
        assert!(h[0].suppressed, "{rule}: {hits:?}");
        let summary = json_of(t.path(), &["check", "--format", "json"]);
        assert_eq!(summary["summary"]["not_built"], serde_json::json!(["dev"]));
        let text = bin().arg("-C").arg(t.path()).arg("check").output().unwrap();
        let text = String::from_utf8(text.stdout).unwrap();
        assert!(
            text.contains("; checked environment dev; did not build: dev; 1 suppressed"),
            "{rule}: {text}"
        );

        let (code, hits) = check(t.path(), &["--release", "dev"]);
        let h = of(&hits, rule);
        assert_eq!((code, h.len()), (1, 1), "{rule}: {hits:?}");
        assert!(!h[0].suppressed, "{rule} suppressed under --release");
        assert!(
            h[0].message.contains("does not apply under --release"),
            "{rule}: {}",
            h[0].message
        );
    }
}

/// A variant of `dev` (a kustomization wrapping it, deployed in its place) that kustomize cannot
/// build: its checks did not run, so the summary names `dev` as not built, though `dev` itself
/// builds.
#[test]
fn an_environment_whose_variant_does_not_build_is_named_as_not_built() {
    let variant = "k8s/variant/dev/kustomization.yaml";
    let extra = [(
        variant,
        "resources:\n  - ../../overlays/dev\n  - missing.yaml\n",
    )];
    let Some(t) = tree(&extra) else { return };
    assert_ne!(
        kustomize_builds(&t.path().join("k8s/overlays/dev")),
        Some(false)
    );
    assert_ne!(
        kustomize_builds(&t.path().join("k8s/variant/dev")),
        Some(true)
    );
    let (code, hits) = check(t.path(), &[]);
    let errs = of(&hits, "overlay-build-error");
    assert_eq!((code, errs.len()), (1, 1), "{hits:?}");
    assert_eq!(errs[0].path, variant, "{hits:?}");
    let summary = json_of(t.path(), &["check", "--format", "json"]);
    assert_eq!(
        summary["summary"]["environments"],
        serde_json::json!(["dev"])
    );
    assert_eq!(summary["summary"]["not_built"], serde_json::json!(["dev"]));
}

/// An overlay that does not build (an empty kustomization), wrapped by the shipped no-KEDA
/// variant: kustomize reports its first failure only, and so does `check`. The component's
/// patches, whose targets went missing with the overlay, are not blamed (the component is fine),
/// and the variant's message names the overlay's file as the repository does, without `..`.
#[test]
fn a_failed_build_is_not_blamed_on_the_patches_whose_targets_it_lost() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    write(t.path(), "k8s/overlays/prod/kustomization.yaml", "");
    assert_ne!(
        kustomize_builds(&t.path().join("k8s/no-keda/prod")),
        Some(true)
    );
    let (code, hits) = check(t.path(), &[]);
    let errs = of(&hits, "overlay-build-error");
    assert_eq!(code, 1, "{hits:?}");
    assert!(!errs.is_empty(), "{hits:?}");
    for e in &errs {
        assert_eq!(e.path, "k8s/overlays/prod/kustomization.yaml", "{e:?}");
        assert!(!e.message.contains(".."), "{e:?}");
        assert!(
            e.message
                .contains("k8s/overlays/prod/kustomization.yaml is empty"),
            "{e:?}"
        );
    }
    assert!(
        errs.iter().any(|e| e.message.contains("k8s/no-keda/prod")),
        "the variant's own failure is still reported: {hits:?}"
    );

    // A base that does not exist: the overlay's patches lose their targets with it.
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let kust = "k8s/overlays/prod/kustomization.yaml";
    let text = std::fs::read_to_string(t.path().join(kust)).unwrap();
    assert!(text.contains("  - ../../base\n"), "{text}");
    write(
        t.path(),
        kust,
        &text.replace("  - ../../base\n", "  - ../../basex\n"),
    );
    let (_, hits) = check(t.path(), &[]);
    let errs = of(&hits, "overlay-build-error");
    assert!(!errs.is_empty(), "{hits:?}");
    for e in &errs {
        assert_eq!(e.path, kust, "{e:?}");
        assert!(e.message.contains("`../../basex` does not exist"), "{e:?}");
    }
}

/// kustomize's loader refuses a root that contains a root being built ("cycle detected:
/// candidate root ... contains visited root"): a base at the repository's root under its
/// overlays, or a sub-overlay listing `..`. No overlay of such a tree deploys, so `check` fails
/// it at the line naming the directory above, and `render-failed` shows kubectl's reason.
#[test]
fn a_base_in_a_directory_above_its_overlay_is_a_cycle_that_fails_the_build() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    let sub = "k8s/overlays/paper/eu/kustomization.yaml";
    write(root, sub, "resources:\n  - ..\n  - cm.yaml\n");
    write(
        root,
        "k8s/overlays/paper/eu/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: eu\n",
    );
    common::git(root, &["add", "-A"]);
    assert_ne!(
        kustomize_builds(&root.join("k8s/overlays/paper/eu")),
        Some(true),
        "kubectl refuses the sub-overlay"
    );
    let (code, hits) = check(root, &[]);
    let errs = of(&hits, "overlay-build-error");
    assert_eq!((code, errs.len()), (1, 1), "{hits:?}");
    assert_eq!((errs[0].path.as_str(), errs[0].line), (sub, 2), "{hits:?}");
    assert!(
        errs[0]
            .message
            .contains("k8s/overlays/paper contains k8s/overlays/paper/eu"),
        "{hits:?}"
    );

    // The base at the root: every overlay lists `../../..`.
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    write(root, "kustomization.yaml", "resources:\n  - k8s/base\n");
    let dev = "k8s/overlays/dev/kustomization.yaml";
    let text = std::fs::read_to_string(root.join(dev)).unwrap();
    write(root, dev, &text.replace("../../base", "../../.."));
    common::git(root, &["add", "-A"]);
    assert_ne!(
        kustomize_builds(&root.join("k8s/overlays/dev")),
        Some(true),
        "kubectl refuses the overlay"
    );
    let render = if common::kubectl().is_some() {
        "always"
    } else {
        "never"
    };
    let (code, hits) = check(root, &["--release", "dev", "--render", render]);
    assert_eq!(code, 1, "{hits:?}");
    let errs = of(&hits, "overlay-build-error");
    assert!(
        errs.iter().any(|e| e.path == dev
            && e.message
                .contains(". contains k8s/overlays/dev, which is being built")),
        "{hits:?}"
    );
    if common::kubectl().is_some() {
        let failed = of(&hits, "render-failed");
        assert!(
            failed
                .iter()
                .any(|e| e.message.contains("cycle detected: candidate root")),
            "{hits:?}"
        );
    }
}

/// What is not a cycle: a kustomization at the root listing an overlay (the root is above the
/// overlay, but not being built when the overlay is entered), and a kustomization file that is a
/// link to a file in a directory below its own. kubectl builds both; `check` finds no build error.
#[test]
#[cfg(unix)]
fn a_root_listing_overlays_and_a_link_below_the_directory_are_no_cycles() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    write(
        root,
        "kustomization.yaml",
        "resources:\n  - k8s/overlays/paper\n",
    );
    let staging = root.join("k8s/overlays/staging");
    // Read as staging's own kustomization: its entries resolve from staging.
    write(
        root,
        "k8s/overlays/staging/real/kustomization.yaml",
        "resources:\n  - ../../base\n",
    );
    std::os::unix::fs::symlink(
        "real/kustomization.yaml",
        staging.join("kustomization.yaml"),
    )
    .unwrap();
    common::git(root, &["add", "-A"]);
    assert_ne!(
        kustomize_builds(root),
        Some(false),
        "kubectl builds the root"
    );
    assert_ne!(
        kustomize_builds(&staging),
        Some(false),
        "kubectl builds staging"
    );
    let (_, hits) = check(root, &[]);
    let errs = of(&hits, "overlay-build-error");
    assert!(
        errs.iter()
            .all(|e| !e.message.contains("cycle") && !e.message.contains("symbolic link")),
        "{hits:?}"
    );
}

/// A kustomization file that is a symbolic link to a file outside its directory: kustomize's
/// load restrictor refuses it and finds no kustomization there, so the environment it would make
/// does not build.
#[test]
#[cfg(unix)]
fn a_kustomization_file_linked_from_outside_its_directory_does_not_build() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    let staging = root.join("k8s/overlays/staging");
    std::fs::create_dir_all(&staging).unwrap();
    std::os::unix::fs::symlink(
        "../paper/kustomization.yaml",
        staging.join("kustomization.yaml"),
    )
    .unwrap();
    common::git(root, &["add", "-A"]);
    assert_ne!(kustomize_builds(&staging), Some(true), "kubectl refuses it");
    let (code, hits) = check(root, &[]);
    let errs = of(&hits, "overlay-build-error");
    assert_eq!(code, 1, "{hits:?}");
    assert!(
        errs.iter()
            .any(|e| e.path == "k8s/overlays/staging/kustomization.yaml"
                && e.message
                    .contains("is a symbolic link to k8s/overlays/paper/kustomization.yaml")),
        "{hits:?}"
    );
}

/// A vendored resource file whose path starts like a git host (`github.com/org/app/...`):
/// kustomize loads an entry as a local file before it tries a remote base, so the SealedSecret
/// there is the overlay's, judged where it is, with no "not fetched" and no dangling reference.
#[test]
fn a_local_file_at_a_git_host_like_path_is_read_from_disk() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    let vendored = "k8s/overlays/paper/github.com/org/app/sealedsecret.yaml";
    let text = std::fs::read_to_string(root.join("k8s/overlays/paper/sealedsecret.yaml")).unwrap();
    write(root, vendored, &text);
    std::fs::remove_file(root.join("k8s/overlays/paper/sealedsecret.yaml")).unwrap();
    let kust = "k8s/overlays/paper/kustomization.yaml";
    let k = std::fs::read_to_string(root.join(kust)).unwrap();
    assert!(k.contains("  - sealedsecret.yaml\n"), "{k}");
    write(
        root,
        kust,
        &k.replace(
            "  - sealedsecret.yaml\n",
            "  - github.com/org/app/sealedsecret.yaml\n",
        ),
    );
    common::git(root, &["add", "-A"]);
    kubectl_renders(root, "k8s/overlays/paper", &["kind: SealedSecret"]);
    let (_, hits) = check(root, &["--release", "paper", "--render", "never"]);
    for rule in [
        "overlay-not-modelled",
        "dangling-reference",
        "missing-secret-key",
    ] {
        assert!(of(&hits, rule).is_empty(), "{rule}: {hits:?}");
    }
    let placeholders = of(&hits, "placeholder-ciphertext");
    assert!(!placeholders.is_empty(), "{hits:?}");
    assert!(placeholders.iter().all(|h| h.path == vendored), "{hits:?}");
}

/// A workload of a kind emp-seal has no entry for, built on the pod template (Knative's
/// `Service`): its `spec.template.spec` is read as a Deployment's is, so a misspelt Secret or
/// ServiceAccount name there is a dangling reference, not a silent pass.
#[test]
fn a_pod_template_of_an_unlisted_kind_is_read_by_its_shape() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    let ksvc = "k8s/overlays/paper/ksvc.yaml";
    write(
        root,
        ksvc,
        "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: emp-api\nspec:\n  template:\n    spec:\n      serviceAccountName: no-such-sa\n      containers:\n        - image: ghcr.io/emp/emp-app:1\n          envFrom:\n            - secretRef: {name: emp-secretz}\n",
    );
    let kust = "k8s/overlays/paper/kustomization.yaml";
    let k = std::fs::read_to_string(root.join(kust)).unwrap();
    write(
        root,
        kust,
        &k.replace(
            "  - sealedsecret.yaml\n",
            "  - sealedsecret.yaml\n  - ksvc.yaml\n",
        ),
    );
    common::git(root, &["add", "-A"]);
    kubectl_renders(
        root,
        "k8s/overlays/paper",
        &["name: emp-secretz", "serviceAccountName: no-such-sa"],
    );
    let (code, hits) = check(root, &["--release", "paper", "--render", "never"]);
    let dangling = of(&hits, "dangling-reference");
    assert_eq!(code, 1, "{hits:?}");
    let lines: Vec<u64> = dangling
        .iter()
        .filter(|h| h.path == ksvc)
        .map(|h| h.line)
        .collect();
    assert_eq!(lines, [8, 12], "{hits:?}");
}

/// A kustomization no other includes, made only of what the model cannot see (a remote base,
/// `helmCharts`): it is no environment, but `check` says it was not checked, so a clean report is
/// not read as covering it; `ignore` takes the note away, `environments` makes it checked.
#[test]
fn a_top_level_kustomization_the_model_cannot_see_is_noted_as_not_checked() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    write(
        root,
        "deploy/monitoring/kustomization.yaml",
        "resources:\n  - https://github.com/prometheus-operator/kube-prometheus//manifests?ref=v0.13.0\n",
    );
    write(
        root,
        "deploy/redis/kustomization.yaml",
        "helmCharts:\n  - name: redis\n    repo: https://charts.bitnami.com/bitnami\n    version: 18.0.0\n    valuesInline: {auth: {existingSecret: redis-auth}}\n",
    );
    // One the model sees whole, though it does not replay its `replacements`: no note.
    write(
        root,
        "deploy/web/kustomization.yaml",
        "resources: [cm.yaml]\nreplacements:\n  - source: {kind: ConfigMap, name: web, fieldPath: data.a}\n    targets:\n      - select: {kind: ConfigMap, name: web}\n        fieldPaths: [data.b]\n",
    );
    write(
        root,
        "deploy/web/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: x\n  b: y\n",
    );
    common::git(root, &["add", "-A"]);
    let notes = |root: &Path| -> Vec<String> {
        let v = json_of(root, &["check", "--format", "json"]);
        (v["notes"].as_array().unwrap().iter())
            .filter(|n| n["kind"] == "not-checked")
            .map(|n| n["message"].as_str().unwrap().to_owned())
            .collect()
    };
    let got = notes(root);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0].starts_with("deploy/monitoring: "), "{got:?}");
    assert!(got[1].starts_with("deploy/redis: "), "{got:?}");
    assert!(
        got.iter()
            .all(|n| n.contains("not checked as an environment"))
    );
    write(root, "emp-seal.toml", "ignore = [\"deploy/**\"]\n");
    assert_eq!(notes(root), Vec::<String>::new());
}

/// An allow comment that names no rule, or an id emp-seal has no rule for (a typo), suppresses
/// nothing: the finding it was meant for still shows, and `allow-comment-unknown` says why at the
/// comment. A known id beside an unknown one still works; prose (a README) is not read for them.
#[test]
fn allow_comments_naming_no_known_rule_are_reported_at_the_comment() {
    let leak = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData: # emp-seal:allow plaintext-secrets\n  TOKEN: test-only-value\n";
    let both = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: t\nstringData: # emp-seal:allow plaintext-secret, bogus\n  TOKEN: test-only-value\n";
    let readme = "Suppress with `# emp-seal:allow <id>`.\n# emp-seal:allow\n";
    // A comment that only mentions the directive is no directive; one that opens with it
    // misspelled (`allowx`) is reported; a capitalised id is not read.
    let prose = "# To silence one, write \"# emp-seal:allow <rule-id> -- why\" on its line.\napiVersion: v1\nkind: ConfigMap # emp-seal:allowx\nmetadata: # emp-seal:allow Plaintext-Secret\n  name: c\n";
    // Misspelled directives (reported, with the right spelling) and prose naming emp-seal (not).
    let typos = "a: 1 # Emp-Seal:allow plaintext-secret\nb: 2 # emp-seal: allow x\n# emp-seal:allows\n# emp-seal allow\n# emp-seal allows a test value here\n# see emp-seal:allow in docs\nc: 3 # emp-seal:allow,plaintext-secret\n# emp-seal allow list below\n";
    // Misspelled in a file that holds no `emp-seal` in lower case.
    let shout = "a: 1 # EMP_SEAL:allow plaintext-secret\nb: 2 # EmpSeal allow plaintext-secret\n";
    // Env files are read for them too: a misspelled directive in an example's comment.
    let example = "TOKEN=\n# Emp_Seal:allow plaintext-secret\n";
    let Some(t) = tree(&[
        ("deploy/secret.yaml", leak),
        ("deploy/both.yaml", both),
        ("deploy/prose.yaml", prose),
        ("k8s/typos.yaml", typos),
        ("k8s/shout.yaml", shout),
        ("k8s/app.env.example", example),
        ("README.md", readme),
    ]) else {
        return;
    };
    let (_, hits) = check(t.path(), &[]);
    let of_rule = |rule: &str| -> Vec<(String, u64, bool)> {
        (hits.iter().filter(|h| h.rule == rule))
            .map(|h| (h.path.clone(), h.line, h.suppressed))
            .collect()
    };
    let at = |p: &str| (p.to_owned(), 5, false);
    let capitalised = ("deploy/prose.yaml".to_owned(), 4, false);
    assert_eq!(
        of_rule("allow-comment-unknown"),
        [
            at("deploy/both.yaml"),
            ("deploy/prose.yaml".to_owned(), 3, false),
            capitalised,
            at("deploy/secret.yaml"),
            ("k8s/app.env.example".to_owned(), 2, false),
            ("k8s/shout.yaml".to_owned(), 1, false),
            ("k8s/shout.yaml".to_owned(), 2, false),
            ("k8s/typos.yaml".to_owned(), 1, false),
            ("k8s/typos.yaml".to_owned(), 2, false),
            ("k8s/typos.yaml".to_owned(), 3, false),
            ("k8s/typos.yaml".to_owned(), 4, false),
            ("k8s/typos.yaml".to_owned(), 7, false),
        ],
        "{hits:?}"
    );
    let typo = |line: u64| {
        let h = hits
            .iter()
            .find(|h| h.path == "k8s/typos.yaml" && h.line == line);
        h.unwrap().message.clone()
    };
    assert!(
        typo(1).contains("`Emp-Seal:allow`")
            && typo(1).contains("`# emp-seal:allow plaintext-secret`"),
        "{hits:?}"
    );
    assert!(
        typo(2).contains("`emp-seal: allow`") && typo(2).contains("`# emp-seal:allow x`"),
        "{hits:?}"
    );
    assert!(
        typo(7).contains("needs a blank")
            && typo(7).contains("`# emp-seal:allow plaintext-secret`"),
        "{hits:?}"
    );
    let env = hits.iter().find(|h| h.path == "k8s/app.env.example");
    assert!(
        env.unwrap().message.contains("`Emp_Seal:allow`"),
        "{hits:?}"
    );
    let lower = hits.iter().find(|h| h.path == "deploy/prose.yaml");
    assert!(lower.unwrap().message.contains("lower-case"), "{hits:?}");
    let unknown = hits
        .iter()
        .find(|h| h.path == "deploy/secret.yaml" && h.rule == "allow-comment-unknown");
    assert!(
        unknown.unwrap().message.contains("`plaintext-secrets`"),
        "{hits:?}"
    );
    assert!(hits.iter().all(|h| !h.message.contains("test-only-value")));
    let leaks = of_rule("plaintext-secret");
    let suppressed = ("deploy/both.yaml".to_owned(), 5, true);
    assert!(
        leaks.contains(&at("deploy/secret.yaml")) && leaks.contains(&suppressed),
        "{leaks:?}"
    );
}

/// Overlay `dev`'s generator and its base, more resources to follow.
const GENERATED: &str = "secretGenerator:\n  - name: app-secrets\n    literals:\n      - MODE=\nresources:\n  - ../../base\n";

const SHARED_CM: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  a: b\n";

/// Commits what `repo` stages, clones it into another temp directory, and asserts that the real `kubectl
/// kustomize` builds each of `overlays` (repo-relative) in the working tree but not in the clone:
/// the oracle for "a clone lacks a file the build reads".
fn clone_cannot_build(repo: &Path, overlays: &[&str]) {
    if common::kubectl().is_none() {
        return;
    }
    assert!(git(repo, &["commit", "-q", "-m", "tracked part"]));
    let elsewhere = tempfile::tempdir().unwrap();
    let clone = elsewhere.path().join("clone");
    let cloned = Command::new("git")
        .arg("clone")
        .arg("-q")
        .arg(repo)
        .arg(&clone)
        .status();
    assert!(cloned.unwrap().success());
    for o in overlays {
        assert!(common::kustomize_raw(&repo.join(o)).status.success(), "{o}");
        let out = common::kustomize_raw(&clone.join(o));
        assert!(!out.status.success(), "a clone builds {o}");
    }
}

/// The (path, message) of every `untracked-build-input` finding of `check -C root`.
fn untracked_inputs(root: &Path) -> Vec<(String, String)> {
    let (code, hits) = check(root, &[]);
    let found: Vec<(String, String)> = of(&hits, "untracked-build-input")
        .into_iter()
        .map(|h| (h.path.clone(), h.message.clone()))
        .collect();
    assert_eq!(code, i32::from(!found.is_empty()), "{hits:?}");
    found
}

/// `untracked-build-input` judges a file the build reads above the checked root (a root below
/// the repository's top) by git's listing from the top, and reports a file outside the
/// repository altogether: no clone has either. An untracked file and an ignored one are told
/// apart.
#[test]
fn untracked_build_inputs_above_the_root_and_outside_the_repository_are_reported() {
    if common::which("git").is_none() {
        common::missing("git");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("repo");
    let api = repo.join("svc/api");
    write(&api, "k8s/base/kustomization.yaml", BASE_KUSTOMIZATION);
    write(&api, "k8s/base/deployment.yaml", DEPLOYMENT);
    for (dir, to) in [
        ("shared", "../../../../../shared/base"),
        ("outside", "../../../../../../outside/base"),
    ] {
        let listed = format!("{GENERATED}  - {to}\n");
        write(
            &api,
            &format!("k8s/overlays/{dir}/kustomization.yaml"),
            &listed,
        );
    }
    for base in [repo.join("shared/base"), t.path().join("outside/base")] {
        write(&base, "kustomization.yaml", "resources:\n  - cm.yaml\n");
        write(&base, "cm.yaml", SHARED_CM);
    }
    write(&repo, ".gitignore", "/shared/base/cm.yaml\n");
    assert!(git(&repo, &["init", "-q"]) && git(&repo, &["add", "svc"]));
    let found = untracked_inputs(&api);
    let want = |p: &str, why: &str| (p.to_owned(), why.to_owned());
    let expected: Vec<(String, String)> = [
        ("../../../outside/base/cm.yaml", "outside"),
        ("../../../outside/base/kustomization.yaml", "outside"),
        ("../../shared/base/cm.yaml", "shared"),
        ("../../shared/base/kustomization.yaml", "shared"),
    ]
    .into_iter()
    .map(|(p, env)| {
        let why = match (env, p.ends_with("cm.yaml")) {
            ("outside", _) => "lies outside the git repository",
            (_, true) => "is not tracked by git (it is ignored by a gitignore rule)",
            (_, false) => "is not tracked by git (it is untracked)",
        };
        want(p, &format!("`{p}`, which the build of {env} reads, {why}: a clone of the repository cannot build it"))
    })
    .collect();
    assert_eq!(found, expected);
    clone_cannot_build(
        &repo,
        &[
            "svc/api/k8s/overlays/shared",
            "svc/api/k8s/overlays/outside",
        ],
    );
    assert!(git(&repo, &["add", "-f", "shared"]));
    let left: Vec<String> = untracked_inputs(&api).into_iter().map(|(p, _)| p).collect();
    assert!(
        left.iter().all(|p| p.contains("outside")) && left.len() == 2,
        "{left:?}"
    );
}

/// A file in a nested git repository that is no submodule is not in the outer repository's
/// clones either: git lists the directory as itself, not its files. The message says so rather
/// than calling it ignored (no gitignore rule names it).
#[test]
fn an_untracked_build_input_in_a_nested_repository_is_named_so() {
    let Some(t) = tree(&[
        (
            "k8s/overlays/vendored/kustomization.yaml",
            "resources:\n  - ../../vendor/app\n",
        ),
        (
            "k8s/vendor/app/kustomization.yaml",
            "resources:\n  - cm.yaml\n",
        ),
        ("k8s/vendor/app/cm.yaml", SHARED_CM),
    ]) else {
        return;
    };
    let root = t.path();
    let nested = root.join("k8s/vendor");
    assert!(git(root, &["rm", "-q", "-r", "--cached", "k8s/vendor"]));
    assert!(git(&nested, &["init", "-q"]) && git(&nested, &["add", "-A"]));
    assert!(git(&nested, &["commit", "-q", "-m", "vendored"]));
    let why = "is not tracked by git (it is in a nested git repository that is not a submodule)";
    let files = [
        "k8s/vendor/app/cm.yaml",
        "k8s/vendor/app/kustomization.yaml",
    ];
    let expected: Vec<(String, String)> = (files.into_iter())
        .map(|p| {
            let m = format!("`{p}`, which the build of vendored reads, {why}: a clone of the repository cannot build it");
            (p.to_owned(), m)
        })
        .collect();
    assert_eq!(untracked_inputs(root), expected);
}

/// A file read through a symbolic link is missing in a clone when the link is untracked (git
/// lists the link, not the tracked files it leads to), and when the link is tracked but the file
/// it leads to is not.
#[cfg(unix)]
#[test]
fn untracked_build_inputs_through_symbolic_links_are_reported() {
    let Some(t) = tree(&[
        ("k8s/real/kustomization.yaml", "resources:\n  - cm.yaml\n"),
        ("k8s/real/cm.yaml", SHARED_CM),
        (
            "k8s/overlays/linked/kustomization.yaml",
            &format!("{GENERATED}  - ../../linked\n"),
        ),
        (
            "k8s/overlays/filelink/kustomization.yaml",
            &format!("{GENERATED}  - cm.yaml\n"),
        ),
        ("k8s/overlays/filelink/real/cm.yaml", SHARED_CM),
    ]) else {
        return;
    };
    let r = t.path();
    std::os::unix::fs::symlink("real", r.join("k8s/linked")).unwrap();
    std::os::unix::fs::symlink("real/cm.yaml", r.join("k8s/overlays/filelink/cm.yaml")).unwrap();
    assert!(git(
        r,
        &["rm", "-q", "--cached", "-r", "k8s/overlays/filelink/real"]
    ));
    assert!(git(r, &["add", "k8s/overlays/filelink/cm.yaml"]));
    let found = untracked_inputs(r);
    let reads = |p: &str, env: &str, why: &str| {
        (
            p.to_owned(),
            format!(
                "`{p}`, which the build of {env} reads, {why}: a clone of the repository cannot build it"
            ),
        )
    };
    let link = "is read through the symbolic link `k8s/linked`, which git does not track";
    assert_eq!(
        found,
        [
            reads("k8s/linked/cm.yaml", "linked", link),
            reads("k8s/linked/kustomization.yaml", "linked", link),
            reads(
                "k8s/overlays/filelink/cm.yaml",
                "filelink",
                "leads to `k8s/overlays/filelink/real/cm.yaml`, which git does not track"
            ),
        ]
    );
    clone_cannot_build(r, &["k8s/overlays/linked", "k8s/overlays/filelink"]);
    assert!(git(r, &["add", "k8s/linked", "k8s/overlays/filelink/real"]));
    assert_eq!(untracked_inputs(r), []);
}

/// A YAML merge key (`<<: *anchor`) is applied before kustomize reads the object (go-yaml's
/// decoder does it): a reference written through one is a reference, and a Secret's values
/// written through one are its values. Both used to be missed by plain `check`.
#[test]
fn references_and_values_written_through_a_merge_key_count() {
    let deployment = DEPLOYMENT.replace(
        "          envFrom:\n            - secretRef:\n                name: app-secrets\n",
        "          env:\n            - name: A\n              valueFrom:\n                secretKeyRef: &optional {name: feature-token, key: TOKEN, optional: true}\n            - name: B\n              valueFrom:\n                secretKeyRef: {<<: *optional, optional: false}\n",
    );
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\ncommon: &c\n  password: hunter2-merged\nstringData:\n  <<: *c\n";
    let Some(t) = tree(&[
        ("k8s/base/deployment.yaml", &deployment),
        ("deploy/leaked.yaml", secret),
    ]) else {
        return;
    };
    kubectl_renders(
        t.path(),
        "k8s/overlays/dev",
        &[
            "name: B\n          valueFrom:\n            secretKeyRef:\n              key: TOKEN\n              name: feature-token\n              optional: false",
        ],
    );
    let (code, hits) = check(t.path(), &[]);
    assert_eq!(code, 1, "{hits:?}");
    let dangling = of(&hits, "dangling-reference");
    assert_eq!(dangling.len(), 1, "{hits:?}");
    assert!(dangling[0].message.contains("`feature-token`"), "{hits:?}");
    let plain = of(&hits, "plaintext-secret");
    assert!(
        plain
            .iter()
            .any(|h| h.path == "deploy/leaked.yaml" && h.message.contains("`password`")),
        "{hits:?}"
    );
    assert!(!format!("{hits:?}").contains("hunter2"), "{hits:?}");
}

/// A generated Secret whose type requires a key it lacks (`files: [config.json]` for a
/// `kubernetes.io/dockerconfigjson` Secret, which needs `.dockerconfigjson=config.json`)
/// builds, but the API server refuses it: `invalid-secret-key` at the generator, as for a
/// SealedSecret's template. With the key, clean.
#[test]
fn a_generated_secret_lacking_the_key_its_type_requires_is_refused() {
    let registry = |files: &str| {
        format!(
            "{DEV_KUSTOMIZATION}  - name: regcred\n    type: kubernetes.io/dockerconfigjson\n    files:\n      - {files}\n"
        )
    };
    let config = ("k8s/overlays/dev/config.json", "{\"auths\": {}}\n");
    let k = registry("config.json");
    let Some(t) = tree(&[(DEV, &k), config]) else {
        return;
    };
    kubectl_renders(
        t.path(),
        "k8s/overlays/dev",
        &["  config.json: ", "type: kubernetes.io/dockerconfigjson"],
    );
    let (code, hits) = check(t.path(), &[]);
    assert_eq!(code, 1, "{hits:?}");
    let refused = of(&hits, "invalid-secret-key");
    assert_eq!(refused.len(), 1, "{hits:?}");
    assert_eq!(
        (refused[0].path.as_str(), refused[0].line),
        (DEV, line_of(t.path(), DEV, "- name: regcred"))
    );
    assert!(
        refused[0].message.contains("without `.dockerconfigjson`"),
        "{hits:?}"
    );

    let k = registry(".dockerconfigjson=config.json");
    let t = tree(&[(DEV, &k), config]).unwrap();
    let (_, hits) = check(t.path(), &[]);
    assert!(of(&hits, "invalid-secret-key").is_empty(), "{hits:?}");
}

/// With `environments` in emp-seal.toml, a kustomization that no configured environment is,
/// includes or is wrapped by is not checked, and one note names it: a variant left behind when
/// its overlay was renamed (kustomize cannot build it) used to pass without a word. The shipped
/// tree, all of whose kustomizations an environment covers, gets no such note.
#[test]
fn kustomizations_the_configured_environments_leave_out_are_named() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    write(
        root,
        "emp-seal.toml",
        "environments = [\"k8s/overlays/*\"]\n",
    );
    // An aggregator listing environments includes what is checked: not named.
    write(
        root,
        "k8s/all/kustomization.yaml",
        "resources:\n  - ../overlays/paper\n  - ../overlays/prod\n",
    );
    let uncovered = |root: &Path| {
        let v = json_of(root, &["check", "--format", "json", "--render=never"]);
        let notes: Vec<String> = (v["notes"].as_array().unwrap().iter())
            .map(|n| n["message"].as_str().unwrap().to_owned())
            .filter(|m| m.contains("no environment of the config's `environments`"))
            .collect();
        notes
    };
    assert_eq!(uncovered(root), Vec::<String>::new());
    std::fs::rename(
        root.join("k8s/overlays/dev"),
        root.join("k8s/overlays/development"),
    )
    .unwrap();
    assert!(git(root, &["add", "-A"]));
    if let Some(builds) = kustomize_builds(&root.join("k8s/no-keda/dev")) {
        assert!(!builds, "kubectl cannot build the variant left behind");
    }
    let notes = uncovered(root);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("1 kustomization(s)") && notes[0].contains("k8s/no-keda/dev"),
        "{notes:?}"
    );
}

/// A `labels` entry whose `fields` write its pairs into `metadata/annotations` (where a
/// SealedSecret's scope is decided) is not modelled: the model adds the pairs to
/// `metadata.labels` only, and kubectl writes them where the field specs say.
#[test]
fn labels_written_into_annotations_are_not_modelled() {
    let k = format!(
        "{DEV_KUSTOMIZATION}labels:\n  - pairs: {{team: web}}\n  - pairs:\n      sealedsecrets.bitnami.com/cluster-wide: \"true\"\n    fields:\n      - path: metadata/annotations\n        kind: Secret\n        create: true\n"
    );
    let Some(t) = tree(&[(DEV, &k)]) else {
        return;
    };
    kubectl_renders(
        t.path(),
        "k8s/overlays/dev",
        &["    sealedsecrets.bitnami.com/cluster-wide: \"true\""],
    );
    let (_, hits) = check(t.path(), &[]);
    let unmodelled = of(&hits, "overlay-not-modelled");
    assert_eq!(unmodelled.len(), 1, "{hits:?}");
    let entry = line_of(t.path(), DEV, "sealedsecrets.bitnami.com/cluster-wide") - 1;
    assert_eq!(unmodelled[0].line, entry, "{hits:?}");
    assert!(
        unmodelled[0]
            .message
            .contains("into `metadata/annotations`"),
        "{hits:?}"
    );
}

/// A document whose merge cannot be applied (a quoted `"<<"` key, which kustomize keeps as a
/// plain key) is read as written, not dropped: the overlay is still judged (its dangling
/// reference reported), as before merge keys were applied.
#[test]
fn a_merge_that_cannot_be_applied_leaves_the_document_as_written() {
    let base = "resources:\n  - deployment.yaml\n  - heredoc.yaml\n";
    let heredoc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: heredoc\ndata:\n  \"<<\": \"cat <<EOF\"\n";
    let deployment = DEPLOYMENT.replace("name: app-secrets", "name: no-such-secret");
    let Some(t) = tree(&[
        ("k8s/base/kustomization.yaml", base),
        ("k8s/base/heredoc.yaml", heredoc),
        ("k8s/base/deployment.yaml", &deployment),
    ]) else {
        return;
    };
    kubectl_renders(
        t.path(),
        "k8s/overlays/dev",
        &["name: heredoc", "name: no-such-secret"],
    );
    let (code, hits) = check(t.path(), &["--render=never"]);
    assert_eq!(code, 1, "{hits:?}");
    let dangling = of(&hits, "dangling-reference");
    assert_eq!(dangling.len(), 1, "{hits:?}");
    assert!(of(&hits, "overlay-build-error").is_empty(), "{hits:?}");
}
