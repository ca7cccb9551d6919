//! `emp-seal check` end to end: a fail tree and a clean twin for every cross-file rule
//! (tests/fixtures/rules/<id>/{fail,pass}/, copied into a temp git repository), the certificate
//! rules with certificates made at test time, the shipped tree (exactly the paper placeholders;
//! `--release paper` fails until paper is sealed with a non-demo certificate), path filtering,
//! exit codes and output formats through the real binary.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::Command as Bin;
use emp_seal::check::{CheckOptions, run};
use emp_seal::finding::Report;

use crate::common::json_findings;
use crate::{common, fixtures};

fn copy(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        // Fixture trees carry `gitignore` (a real .gitignore would hide their env files from
        // this repository's own git).
        let to = dst.join(if name == "gitignore" {
            ".gitignore".to_owned()
        } else {
            name
        });
        if p.is_dir() {
            copy(&p, &to);
        } else {
            std::fs::copy(&p, &to).unwrap();
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A fixture tree in a temp git repository with every file staged.
fn tree(rel: &str) -> Option<tempfile::TempDir> {
    if common::which("git").is_none() {
        common::missing("git");
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    copy(
        &common::repo_root().join("tests/fixtures").join(rel),
        tmp.path(),
    );
    assert!(git(tmp.path(), &["init", "-q"]) && git(tmp.path(), &["add", "-A"]));
    Some(tmp)
}

fn check(root: &Path, release: Option<&str>) -> Report {
    let root = std::fs::canonicalize(root).unwrap();
    run(&CheckOptions {
        cwd: root.clone(),
        root,
        paths: Vec::new(),
        release: release.map(str::to_owned),
        rules: Vec::new(),
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        // The model alone: `--render` has its own tests (render.rs).
        render: emp_seal::render::RenderMode::Never,
        allow_runtime_secrets: Vec::new(),
    })
    .unwrap()
}

fn hits<'r>(report: &'r Report, rule: &str) -> Vec<(&'r str, u32)> {
    report
        .findings
        .iter()
        .filter(|f| f.rule.id == rule)
        .map(|f| (f.primary.path.as_str(), f.primary.line))
        .collect()
}

fn fail_and_pass(rule: &str, fail: &str, expected: &[(&str, u32)]) {
    let Some(t) = tree(&format!("rules/{rule}/{fail}")) else {
        return;
    };
    let report = check(t.path(), None);
    assert_eq!(hits(&report, rule), expected, "{rule} {fail} tree");
    for f in report.findings.iter().filter(|f| f.rule.id == rule) {
        assert!(!f.message.is_empty() && !f.hint.is_empty());
    }
    let t = tree(&format!("rules/{rule}/pass")).unwrap();
    let report = check(t.path(), None);
    assert_eq!(hits(&report, rule), [], "{rule} pass twin");
}

#[test]
fn example_generator_mismatch() {
    let ex = "k8s/overlays/dev/dev-secrets.env.example";
    fail_and_pass("example-generator-mismatch", "fail", &[(ex, 1), (ex, 2)]);
}

/// Keys the API server refuses in the Secret a SealedSecret unseals into, and a typed Secret
/// missing what its type requires (`template.type`), the template's own `data` keys included.
#[test]
fn invalid_secret_key() {
    let ss = "k8s/overlays/paper/sealedsecret.yaml";
    let expected = [(ss, 9), (ss, 10), (ss, 25), (ss, 36), (ss, 37)];
    fail_and_pass("invalid-secret-key", "fail", &expected);
}

/// A Secret the overlay renders under the name and namespace a SealedSecret unseals into (a
/// generator without its hash suffix, a plain Secret): the controller does not take it over.
/// The `pass` twin keeps the generator's hash and marks the plain Secret managed.
#[test]
fn sealed_secret_shadowed() {
    let ss = "k8s/overlays/paper/sealedsecret.yaml";
    let legacy = "k8s/overlays/paper/legacy-secret.yaml";
    fail_and_pass("sealed-secret-shadowed", "fail", &[(legacy, 10), (ss, 4)]);
    if common::kubectl().is_some() {
        let dir = common::repo_root().join("tests/fixtures/rules/sealed-secret-shadowed/fail");
        let render = common::kustomize(&dir.join("k8s/overlays/paper"));
        let ids: Vec<(String, String, String)> = render
            .split("\n---\n")
            .map(|doc| {
                let v: yaml_serde::Value = yaml_serde::from_str(doc).unwrap();
                let s = |x: &yaml_serde::Value| x.as_str().unwrap_or_default().to_owned();
                let m = &v["metadata"];
                (s(&v["kind"]), s(&m["namespace"]), s(&m["name"]))
            })
            .collect();
        for kind in ["Secret", "SealedSecret"] {
            let id = (
                kind.to_owned(),
                "emp-paper".to_owned(),
                "emp-secrets".to_owned(),
            );
            assert!(ids.contains(&id), "{id:?}: {ids:?}");
        }
    }
}

#[test]
fn example_sealed_mismatch() {
    let ss = "k8s/overlays/paper/sealedsecret.yaml";
    fail_and_pass("example-sealed-mismatch", "fail", &[(ss, 7), (ss, 9)]);
}

#[test]
fn missing_secret_key() {
    fail_and_pass(
        "missing-secret-key",
        "fail",
        // At the reference's `key: B` line.
        &[("k8s/base/deploy.yaml", 25)],
    );
}

/// The overlay the set-ups below write.
const DEV: &str = "k8s/overlays/dev";

/// A temp git repository holding `files` (relative to [`DEV`]), all staged.
fn dev_overlay(files: &[(&str, &str)]) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        common::write(t.path(), &format!("{DEV}/{rel}"), text);
    }
    common::git(t.path(), &["init", "-q"]);
    common::git(t.path(), &["add", "-A"]);
    t
}

/// `kubectl kustomize DIR`: its output and the documents in it.
fn rendered_docs(dir: &Path) -> (String, Vec<yaml_serde::Value>) {
    let render = common::kustomize(dir);
    let docs = render
        .split("\n---\n")
        .map(|d| yaml_serde::from_str(d).unwrap())
        .collect();
    (render, docs)
}

/// Asserts `check --render=never` of `root` finds nothing of `rules`.
fn assert_none_of(root: &Path, rules: &[&str]) {
    let (_, hits) = common::check_hits(root, &["--render=never"]);
    for rule in rules {
        assert!(common::of(&hits, rule).is_empty(), "{rule}: {hits:?}");
    }
}

/// An image pull Secret of no registry type: a SealedSecret whose template has no `type`
/// (so an `Opaque` Secret), named in `imagePullSecrets` by a pod template and by a
/// `ServiceAccount`. The kubelet skips it (kubernetes `pkg/credentialprovider/secrets/secrets.go`)
/// and pulls without credentials; the twin typed `kubernetes.io/dockerconfigjson` is clean.
#[test]
fn image_pull_secret_of_no_registry_type() {
    let dir = DEV;
    let write = |ty: &str| {
        dev_overlay(&[
            (
                "kustomization.yaml",
                "namespace: emp-dev\nresources:\n  - app.yaml\n  - regcred.yaml\n",
            ),
            (
                "app.yaml",
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\nimagePullSecrets:\n  - name: regcred\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      serviceAccountName: app\n      imagePullSecrets:\n        - name: regcred\n      containers:\n        - name: app\n          image: registry.example/app:1\n",
            ),
            (
                "regcred.yaml",
                &format!(
                    "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: regcred\n  namespace: emp-dev\nspec:\n  encryptedData:\n    .dockerconfigjson: AgB...\n  template:\n    metadata:\n      name: regcred\n{ty}"
                ),
            ),
        ])
    };
    let fail = write("");
    // The real render: both references name the Secret the SealedSecret unseals into.
    if common::kubectl().is_some() {
        let (render, docs) = rendered_docs(&fail.path().join(dir));
        let pulls: Vec<&str> = docs
            .iter()
            .filter_map(|d| {
                let holder = if d["kind"] == "ServiceAccount" {
                    d
                } else {
                    &d["spec"]["template"]["spec"]
                };
                holder["imagePullSecrets"][0]["name"].as_str()
            })
            .collect();
        assert_eq!(pulls, ["regcred", "regcred"], "{render}");
        let sealed = docs.iter().find(|d| d["kind"] == "SealedSecret").unwrap();
        assert!(sealed["spec"]["template"]["type"].is_null(), "{render}");
    }
    let (code, hits) = common::check_hits(fail.path(), &["--render=never"]);
    assert_eq!(code, 1);
    let got: Vec<(&str, u64)> = common::of(&hits, "missing-secret-key")
        .iter()
        .map(|h| (h.path.as_str(), h.line))
        .collect();
    let app = format!("{dir}/app.yaml");
    assert_eq!(got, [(app.as_str(), 6), (app.as_str(), 17)], "{hits:?}");
    for h in common::of(&hits, "missing-secret-key") {
        assert!(
            h.message
                .contains("Secret `regcred`, which is of type `Opaque`"),
            "{}",
            h.message
        );
    }

    let pass = write("    type: kubernetes.io/dockerconfigjson\n");
    assert_none_of(pass.path(), &["missing-secret-key", "invalid-secret-key"]);
}

/// An Ingress terminating TLS with a Secret that lacks `tls.key`: a SealedSecret of no type
/// (so the API server does not require the TLS keys) holding only `tls.crt`. The Ingress reads
/// both keys; the twin holding both is clean.
#[test]
fn ingress_tls_secret_without_tls_keys() {
    let dir = DEV;
    let write = |keys: &[&str]| {
        let data: String = keys.iter().map(|k| format!("    {k}: AgB...\n")).collect();
        dev_overlay(&[
            (
                "kustomization.yaml",
                "namespace: emp-dev\nresources:\n  - ingress.yaml\n  - web-tls.yaml\n",
            ),
            (
                "ingress.yaml",
                "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  tls:\n    - hosts: [web.example]\n      secretName: web-tls\n",
            ),
            (
                "web-tls.yaml",
                &format!(
                    "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: web-tls\n  namespace: emp-dev\nspec:\n  encryptedData:\n{data}"
                ),
            ),
        ])
    };
    let fail = write(&["tls.crt"]);
    // The real render: the Ingress names the Secret the SealedSecret unseals into.
    if common::kubectl().is_some() {
        let (_, docs) = rendered_docs(&fail.path().join(dir));
        let ingress = docs.iter().find(|d| d["kind"] == "Ingress").unwrap();
        let sealed = docs.iter().find(|d| d["kind"] == "SealedSecret").unwrap();
        assert_eq!(
            ingress["spec"]["tls"][0]["secretName"],
            sealed["metadata"]["name"]
        );
        assert_eq!(
            ingress["metadata"]["namespace"],
            sealed["metadata"]["namespace"]
        );
    }
    let (code, hits) = common::check_hits(fail.path(), &["--render=never"]);
    assert_eq!(code, 1);
    let missing = common::of(&hits, "missing-secret-key");
    assert_eq!(missing.len(), 1, "{hits:?}");
    assert_eq!(
        (missing[0].path.as_str(), missing[0].line),
        ("k8s/overlays/dev/ingress.yaml", 8)
    );
    assert!(
        missing[0]
            .message
            .contains("reads key `tls.key` of Secret `web-tls`"),
        "{}",
        missing[0].message
    );

    let pass = write(&["tls.crt", "tls.key"]);
    assert_none_of(
        pass.path(),
        &["missing-secret-key", "example-sealed-mismatch"],
    );
}

#[test]
fn dangling_reference() {
    fail_and_pass("dangling-reference", "fail", &[("k8s/base/ta.yaml", 8)]);
}

#[test]
fn identity_mismatch() {
    let ss = "k8s/overlays/paper/sealedsecret.yaml";
    fail_and_pass("identity-mismatch", "fail", &[(ss, 7)]);
    fail_and_pass("identity-mismatch", "fail-template", &[(ss, 12)]);
}

#[test]
fn stale_certificate() {
    let ss = "k8s/overlays/paper/sealedsecret.yaml";
    fail_and_pass("stale-certificate", "fail", &[(ss, 7)]);
    // An error under --release.
    let t = tree("rules/stale-certificate/fail").unwrap();
    let report = check(t.path(), Some("paper"));
    let f = report
        .findings
        .iter()
        .find(|f| f.rule.id == "stale-certificate")
        .unwrap();
    assert_eq!(f.severity, emp_seal::finding::Severity::Error);
}

/// A SealedSecret without an `emp-seal.dev/cert-sha256` record (as kubeseal writes it) cannot be
/// judged against the environment's certificate: check said nothing about it, so a clean run
/// (also `--release`) read as "sealed for this certificate". Now one note per file (not per key)
/// says it is not verified; a note under `--release` too, never an error, and exit 0.
#[test]
fn a_sealed_secret_without_a_certificate_record_is_noted_as_unverified() {
    let Some(t) = tree("rules/stale-certificate/pass") else {
        return;
    };
    let ss = "k8s/overlays/paper/sealedsecret.yaml";
    let values = tempfile::tempdir().unwrap();
    let env = values.path().join("paper.env");
    std::fs::write(&env, "A=first\nB=second\n").unwrap();
    let mut seal = common::emp_seal();
    seal.arg("-C")
        .arg(t.path())
        .args(["seal", "paper", "--from"])
        .arg(&env);
    common::output_with_code(&mut seal, 0);
    let notes = |report: &Report| -> Vec<(String, emp_seal::finding::Severity)> {
        report
            .findings
            .iter()
            .filter(|f| f.rule.id == "stale-certificate")
            .map(|f| (f.primary.path.clone(), f.severity))
            .collect()
    };
    // Sealed by emp-seal: the record names the certificate, nothing to say.
    assert_eq!(notes(&check(t.path(), None)), []);
    assert_eq!(notes(&check(t.path(), Some("paper"))), []);

    // The same values without emp-seal's annotations, as kubeseal writes them.
    let path = t.path().join(ss);
    let text = std::fs::read_to_string(&path).unwrap();
    let kubeseal: String = text
        .lines()
        .filter(|l| !l.contains("emp-seal.dev/") && l.trim() != "annotations:")
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(kubeseal.contains("\n    B: ") && !kubeseal.contains("cert-sha256"));
    std::fs::write(&path, kubeseal).unwrap();
    let note = emp_seal::finding::Severity::Note;
    for release in [None, Some("paper")] {
        let report = check(t.path(), release);
        assert_eq!(notes(&report), [(ss.to_owned(), note)], "{release:?}");
        let f = report
            .findings
            .iter()
            .find(|f| f.rule.id == "stale-certificate")
            .unwrap();
        assert!(
            f.message.contains("`emp-secrets`")
                && f.message.contains("not verified")
                && f.message.contains("k8s/overlays/paper/sealing-cert.pem"),
            "{}",
            f.message
        );
        assert_eq!(
            report.exit_code(emp_seal::finding::Severity::Error),
            0,
            "{release:?}"
        );
    }
    let out = Bin::from_std(common::emp_seal_std())
        .arg("-C")
        .arg(t.path())
        .args(["check", "--release", "paper"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("note[stale-certificate]"), "{text}");
}

#[test]
fn env_syntax_and_lints() {
    let ex = "k8s/overlays/dev/dev-secrets.env.example";
    fail_and_pass("env-syntax", "fail", &[(ex, 4)]);
    fail_and_pass("env-export-prefix", "fail", &[(ex, 2)]);
}

/// The certificate tree with `cert_pem` as paper's sealing certificate.
fn cert_tree(cert_pem: &str) -> Option<tempfile::TempDir> {
    let t = tree("rules/certificates/tree")?;
    std::fs::write(
        t.path().join("k8s/overlays/paper/sealing-cert.pem"),
        cert_pem,
    )
    .unwrap();
    Some(t)
}

#[test]
fn certificate_rules() {
    let pem = "k8s/overlays/paper/sealing-cert.pem";
    let all = [
        "certificate-expired",
        "certificate-expiring",
        "certificate-weak-key",
        "demo-certificate",
    ];
    let fired = |report: &Report| -> Vec<&'static str> {
        all.iter()
            .copied()
            .filter(|r| !hits(report, r).is_empty())
            .collect()
    };
    // Valid for a year: nothing.
    let Some((good, _)) = fixtures::make_cert(2048, -1, 365) else {
        return;
    };
    let t = cert_tree(&good).unwrap();
    assert!(fired(&check(t.path(), Some("paper"))).is_empty());

    let (expired, _) = fixtures::make_cert(2048, -60, -1).unwrap();
    let t = cert_tree(&expired).unwrap();
    let r = check(t.path(), None);
    assert_eq!(fired(&r), ["certificate-expired"]);
    assert_eq!(hits(&r, "certificate-expired"), [(pem, 1)]);

    let (expiring, _) = fixtures::make_cert(2048, -60, 10).unwrap();
    let t = cert_tree(&expiring).unwrap();
    let r = check(t.path(), None);
    assert_eq!(fired(&r), ["certificate-expiring"]);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule.id == "certificate-expiring")
        .unwrap();
    assert_eq!(
        f.severity.as_str(),
        "warning",
        "a warning outside --release"
    );
    let r = check(t.path(), Some("paper"));
    let f = r
        .findings
        .iter()
        .find(|f| f.rule.id == "certificate-expiring")
        .unwrap();
    assert_eq!(f.severity.as_str(), "error", "an error under --release");

    let (weak, _) = fixtures::make_cert(1024, -1, 365).unwrap();
    let t = cert_tree(&weak).unwrap();
    assert_eq!(fired(&check(t.path(), None)), ["certificate-weak-key"]);

    let t = cert_tree(&fixtures::demo_cert_pem()).unwrap();
    assert!(
        fired(&check(t.path(), None)).is_empty(),
        "demo only under --release"
    );
    let r = check(t.path(), Some("paper"));
    assert_eq!(fired(&r), ["demo-certificate"]);
    assert_eq!(hits(&r, "demo-certificate"), [(pem, 1)]);
}

fn bin() -> Bin {
    common::emp_seal()
}

/// The shipped tree's paper placeholders, read from the file itself.
fn paper_placeholder_lines(root: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(root.join("k8s/overlays/paper/sealedsecret.yaml")).unwrap();
    (1u64..)
        .zip(text.lines())
        .filter(|(_, l)| !l.trim_start().starts_with('#') && l.contains(": AgAAAA"))
        .map(|(n, _)| n)
        .collect()
}

#[test]
fn shipped_tree_reports_exactly_the_paper_placeholders() {
    // A copy: the repository's own root also holds deliberately broken test fixtures, which
    // the repository-wide rules read.
    let Some(t) = shipped_copy() else { return };
    let root = t.path().to_path_buf();
    let out = common::output_with_code(
        bin()
            .args(["-C"])
            .arg(&root)
            .args(["check", "--format", "json"]),
        1,
    );
    let found = json_findings(&out.stdout);
    let expected: Vec<(String, String, u64)> = paper_placeholder_lines(&root)
        .into_iter()
        .map(|l| {
            (
                "placeholder-ciphertext".to_owned(),
                "k8s/overlays/paper/sealedsecret.yaml".to_owned(),
                l,
            )
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(found, expected);
}

/// A temp copy of the repository's k8s/ tree (and .gitignore) as a git repository.
fn shipped_copy() -> Option<tempfile::TempDir> {
    if common::which("git").is_none() {
        common::missing("git");
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    copy(&common::repo_root().join("k8s"), &tmp.path().join("k8s"));
    std::fs::copy(
        common::repo_root().join(".gitignore"),
        tmp.path().join(".gitignore"),
    )
    .unwrap();
    assert!(git(tmp.path(), &["init", "-q"]) && git(tmp.path(), &["add", "-A"]));
    Some(tmp)
}

#[test]
fn release_gate_fails_on_the_shipped_tree_and_passes_once_paper_is_sealed() {
    let Some(t) = shipped_copy() else { return };
    let out = bin()
        .arg("-C")
        .arg(t.path())
        .args(["check", "--release", "paper", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let rules: Vec<String> = json_findings(&out.stdout)
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert!(
        rules.iter().any(|r| r == "placeholder-ciphertext"),
        "{rules:?}"
    );
    assert!(rules.iter().any(|r| r == "demo-certificate"), "{rules:?}");

    // Seal paper with a non-demo TEST certificate, committed as paper's certificate.
    let cert: PathBuf = t.path().join("k8s/overlays/paper/sealing-cert.pem");
    std::fs::write(&cert, fixtures::cert_pem(4096)).unwrap();
    let (_env_dir, env) = common::paper_env_file();
    bin()
        .arg("-C")
        .arg(t.path())
        .args(["paper", "--no-input", "--from"])
        .arg(&env)
        .arg("--cert")
        .arg(&cert)
        .assert()
        .success();
    let out = bin()
        .arg("-C")
        .arg(t.path())
        .args(["check", "--release", "paper"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The whole tree is clean too.
    bin().arg("-C").arg(t.path()).arg("check").assert().code(0);
}

#[test]
fn paths_filter_findings_but_keep_the_whole_tree_as_context() {
    let root = common::repo_root();
    let run = |args: &[&str]| {
        bin()
            .current_dir(&root)
            .arg("check")
            .args(args)
            .args(["--format", "json"])
            .output()
            .unwrap()
    };
    let out = run(&["k8s/overlays/dev/kustomization.yaml"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(json_findings(&out.stdout).is_empty());
    let abs = root.join("k8s/overlays/paper/sealedsecret.yaml");
    let out = run(&[abs.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        json_findings(&out.stdout).len(),
        paper_placeholder_lines(&root).len()
    );
    // A directory selects what is under it.
    let out = run(&["k8s/overlays/paper"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn exit_codes() {
    let Some(t) = shipped_copy() else { return };
    let root = t.path().to_path_buf();
    let cmd = |args: &[&str]| {
        bin()
            .current_dir(&root)
            .arg("check")
            .args(args)
            .output()
            .unwrap()
    };
    assert_eq!(cmd(&["--exit-zero"]).status.code(), Some(0));
    for bad in [
        &["no/such/file.yaml"][..],
        &["--release", "nope"],
        &["--rules", "no-such-rule"],
        &["/"],
    ] {
        let out = cmd(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: "), "{err}");
        assert!(out.stdout.is_empty());
    }
    // --rules narrows the run.
    let out = cmd(&["--rules", "plaintext-secret"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn text_colour_only_when_asked() {
    let root = common::repo_root();
    let out = bin().current_dir(&root).arg("check").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{1b}'), "no colour on a pipe");
    assert!(text.contains("k8s/overlays/paper/sealedsecret.yaml:"));
    assert!(text.contains(": error[placeholder-ciphertext]: "));
    let out = bin()
        .current_dir(&root)
        .args(["--color", "always", "check"])
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains('\u{1b}'));
}

#[test]
fn suppression_is_kept_and_shown_on_request() {
    let Some(t) = shipped_copy() else { return };
    let ss = t.path().join("k8s/overlays/paper/sealedsecret.yaml");
    let text = std::fs::read_to_string(&ss).unwrap();
    let text = text.replacen(
        "REPLACE_ME\n",
        "REPLACE_ME # emp-seal:allow placeholder-ciphertext -- test\n",
        1,
    );
    std::fs::write(&ss, text).unwrap();
    let out = bin()
        .arg("-C")
        .arg(t.path())
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["suppressed"], 1);
    let plain = bin().arg("-C").arg(t.path()).arg("check").output().unwrap();
    let shown = bin()
        .arg("-C")
        .arg(t.path())
        .args(["check", "--show-suppressed"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("(suppressed)"));
    assert!(String::from_utf8_lossy(&shown.stdout).contains("(suppressed)"));
}

#[test]
fn sarif_of_the_shipped_tree_validates() {
    let Some(checker) = common::tool("check-jsonschema") else {
        common::missing("check-jsonschema in .venv-tools");
        return;
    };
    let Some(t) = shipped_copy() else { return };
    let out = bin()
        .current_dir(t.path())
        .args(["check", "--format", "sarif", "--exit-zero"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("check.sarif");
    std::fs::write(&file, &out.stdout).unwrap();
    let ok = Command::new(checker)
        .arg("--no-cache")
        .arg("--schemafile")
        .arg(common::repo_root().join("tests/data/sarif/sarif-2.1.0.json"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let gh = bin()
        .current_dir(t.path())
        .args(["check", "--format", "github"])
        .output()
        .unwrap();
    let gh = String::from_utf8(gh.stdout).unwrap();
    assert!(gh.starts_with("::error file=k8s/overlays/paper/sealedsecret.yaml,line="));
}

#[test]
fn not_a_git_repository_is_said_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    copy(&common::repo_root().join("k8s"), &tmp.path().join("k8s"));
    let out = bin()
        .arg("-C")
        .arg(tmp.path())
        .arg("check")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a git repository"));
}

/// `-q` drops chatter, never a statement of what was not verified: outside git (tracked status
/// unknown) and under `--render=auto` with no kubectl or kustomize (the model only), a quiet
/// clean-looking run says so on stderr as a loud one does.
#[test]
fn quiet_check_keeps_the_notes_on_what_was_not_verified() {
    let tmp = tempfile::tempdir().unwrap();
    copy(&common::repo_root().join("k8s"), &tmp.path().join("k8s"));
    // A PATH with git only: neither kubectl nor kustomize.
    let bin_dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(common::which("git").unwrap(), bin_dir.path().join("git")).unwrap();
    for quiet in [false, true] {
        let mut c = bin();
        c.env("PATH", bin_dir.path()).arg("-C").arg(tmp.path());
        if quiet {
            c.arg("-q");
        }
        let out = c.args(["check", "--release", "paper"]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(2), "{err}");
        for note in [
            "note: not a git repository: tracked status is unknown",
            "note: --render=auto: neither kubectl nor kustomize is on PATH, so the overlay was checked against emp-seal's model only",
        ] {
            assert!(err.contains(note), "quiet {quiet}: `{note}` not in {err}");
        }
    }
}

/// A directory an Argo CD `Application` deploys as a Helm chart (its source has `helm`) that
/// holds no kustomization file: emp-seal does not model Helm, so the directory is no
/// environment. `check` checked its files one by one and said nothing of the rest (its
/// SealedSecret's identity, certificate, references): a clean run read as "verified clean". It
/// says so on stderr, under `-q` too, naming the object's file and line; a deployed directory
/// with a kustomization is an environment and gets no such note. (A Flux path or an Argo CD
/// directory source without a kustomization file is modelled: `tests/integration/plain_dirs.rs`.)
#[test]
fn check_says_which_deployed_directories_it_does_not_model() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        crate::seal_support::write_file(&p, text.as_bytes());
    };
    let flux = |env: &str| {
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/{env}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        )
    };
    let settings =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n";
    let helm = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: apps\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://example.org/apps.git\n    path: apps/dev\n    helm:\n      releaseName: apps\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: dev\n";
    write("clusters/dev/apps.yaml", helm);
    write("clusters/prod/apps.yaml", &flux("prod"));
    for env in ["dev", "prod"] {
        write(&format!("apps/{env}/settings.yaml"), settings);
    }
    // Only the "no environment" error speaks while prod holds no secret: it names apps/dev too.
    write(
        "apps/prod/kustomization.yaml",
        "resources:\n  - settings.yaml\n",
    );
    // Tracked, as Argo CD and Flux read the files from the repository's commits.
    common::git(root, &["init", "-q"]);
    common::git(root, &["add", "-A"]);
    let out = bin().arg("-C").arg(root).arg("check").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let named = "directories without a kustomization file they deploy as a Helm chart or through a plugin, which emp-seal does not model: apps/dev;";
    assert!(err.contains(named), "{err}");
    write(
        "apps/prod/kustomization.yaml",
        "resources:\n  - settings.yaml\nsecretGenerator:\n  - name: app\n    literals:\n      - MODE=\n",
    );
    common::git(root, &["add", "-A"]);
    for quiet in [false, true] {
        let mut c = bin();
        c.arg("-C").arg(root);
        if quiet {
            c.arg("-q");
        }
        let out = c.arg("check").output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        let notes: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("note: apps/"))
            .collect();
        assert_eq!(
            notes,
            [
                "note: apps/dev (Argo CD Application in clusters/dev/apps.yaml:10) has no kustomization file and is deployed as a Helm chart or through a config management plugin, which emp-seal does not model, so it is no environment and its files are checked one by one (placeholders, plaintext, ciphertext), not against a render"
            ],
            "quiet {quiet}: {err}"
        );
    }
}

/// A strict SealedSecret with neither a record nor a template name was sealed for the name it
/// is written with (kubeseal writes the Secret's own): renamed by `namePrefix`, the controller
/// decrypts it for another name and fails. `identity-mismatch` at its `metadata.name`; the
/// twin without the prefix is clean.
#[test]
fn a_renamed_sealedsecret_without_template_name_is_an_identity_mismatch() {
    let dir = "k8s/overlays/dev";
    let write = |root: &Path, prefix: &str| {
        let w = |rel: &str, text: &str| common::write(root, &format!("{dir}/{rel}"), text);
        w(
            "kustomization.yaml",
            &format!("namespace: emp-dev\n{prefix}resources:\n  - app.yaml\n"),
        );
        w(
            "app.yaml",
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: app-secrets\n  namespace: emp-dev\nspec:\n  encryptedData:\n    A: AgB...\n",
        );
        common::git(root, &["init", "-q"]);
        common::git(root, &["add", "-A"]);
    };
    let renamed = tempfile::tempdir().unwrap();
    write(renamed.path(), "namePrefix: p-\n");
    if common::kubectl().is_some() {
        let render = common::kustomize(&renamed.path().join(dir));
        assert!(render.contains("name: p-app-secrets"), "{render}");
    }
    let (_, hits) = common::check_hits(renamed.path(), &["--render=never"]);
    let found = common::of(&hits, "identity-mismatch");
    assert_eq!(found.len(), 1, "{hits:?}");
    assert_eq!(
        (found[0].path.as_str(), found[0].line),
        ("k8s/overlays/dev/app.yaml", 4)
    );
    assert!(
        found[0].message.contains("metadata.name `app-secrets`"),
        "{hits:?}"
    );

    let kept = tempfile::tempdir().unwrap();
    write(kept.path(), "");
    let (_, hits) = common::check_hits(kept.path(), &["--render=never"]);
    assert_eq!(common::of(&hits, "identity-mismatch").len(), 0, "{hits:?}");
}

/// A missing key is reported at its own `key:` line, not at the line naming the Secret: a
/// `secretKeyRef` whose `key` a strategic-merge patch writes without the name, one whose `key` a
/// JSON 6902 op replaces, a secret volume's `items[].key`, a projected volume's, and a KEDA
/// `secretTargetRef[].key`. A key the Secret has is not reported.
#[test]
fn missing_key_at_its_key_line() {
    let dir = "k8s/overlays/dev";
    let t = tempfile::tempdir().unwrap();
    let w = |rel: &str, text: &str| common::write(t.path(), &format!("{dir}/{rel}"), text);
    let files = [
        (
            "kustomization.yaml",
            "namespace: emp-dev\nresources:\n  - app.yaml\n  - keda.yaml\n  - db.yaml\npatches:\n  - path: patch.yaml\n  - target: {kind: Deployment, name: web}\n    patch: |-\n      - op: replace\n        path: /spec/template/spec/containers/0/env/1/valueFrom/secretKeyRef/key\n        value: MISS_JSON\n",
        ),
        (
            "app.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - name: app\n          image: busybox\n          env:\n            - name: A\n              valueFrom:\n                secretKeyRef:\n                  name: db\n                  key: HAVE\n            - name: B\n              valueFrom:\n                secretKeyRef:\n                  name: db\n                  key: HAVE\n            - name: C\n              valueFrom:\n                secretKeyRef:\n                  name: db\n                  key: MISS_REF\n      volumes:\n        - name: s\n          secret:\n            secretName: db\n            items:\n              - key: HAVE\n                path: h\n              - key: MISS_ITEM\n                path: m\n        - name: p\n          projected:\n            sources:\n              - secret:\n                  name: db\n                  items:\n                    - key: MISS_PROJECTED\n                      path: p\n",
        ),
        (
            "patch.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          env:\n            - name: A\n              valueFrom:\n                secretKeyRef:\n                  key: MISS_PATCHED\n",
        ),
        (
            "keda.yaml",
            "apiVersion: keda.sh/v1alpha1\nkind: TriggerAuthentication\nmetadata:\n  name: auth\nspec:\n  secretTargetRef:\n    - parameter: password\n      name: db\n      key: MISS_KEDA\n",
        ),
        (
            "db.yaml",
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\n  namespace: emp-dev\nspec:\n  encryptedData:\n    HAVE: AgB...\n",
        ),
    ];
    for (rel, text) in files {
        w(rel, text);
    }
    common::git(t.path(), &["init", "-q"]);
    common::git(t.path(), &["add", "-A"]);
    // The real render reads the patched keys.
    let render = common::kustomize(&t.path().join(dir));
    for key in [
        "MISS_PATCHED",
        "MISS_JSON",
        "MISS_REF",
        "MISS_ITEM",
        "MISS_PROJECTED",
    ] {
        assert!(render.contains(&format!("key: {key}")), "{render}");
    }
    // Where each key is written: the file and line of `key: KEY` (the JSON op's `value: KEY`),
    // each written once.
    let at = |key: &str| {
        let lines = files.iter().flat_map(|(rel, text)| {
            (text.lines().enumerate())
                .filter(|(_, l)| l.ends_with(&format!(": {key}")))
                .map(move |(i, _)| (format!("{dir}/{rel}"), i as u64 + 1))
        });
        let lines: Vec<(String, u64)> = lines.collect();
        assert_eq!(lines.len(), 1, "{key}: {lines:?}");
        lines[0].clone()
    };
    let (code, hits) = common::check_hits(t.path(), &["--render=never"]);
    assert_eq!(code, 1);
    let mut got: Vec<(String, u64)> = common::of(&hits, "missing-secret-key")
        .iter()
        .map(|h| (h.path.clone(), h.line))
        .collect();
    got.sort();
    let keys = [
        "MISS_PATCHED",
        "MISS_JSON",
        "MISS_REF",
        "MISS_ITEM",
        "MISS_PROJECTED",
        "MISS_KEDA",
    ];
    let mut want: Vec<(String, u64)> = keys.iter().map(|k| at(k)).collect();
    want.sort();
    assert_eq!(got, want, "{hits:?}");
}
