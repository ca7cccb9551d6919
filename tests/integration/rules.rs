//! Fixture trees for the rules that need only file text: each `fail/` tree triggers its rule
//! (rule id, file and line asserted), each `pass/` twin does not. Trees live in
//! tests/fixtures/rules/<rule-id>/{fail,pass}/ and are copied into a temp dir before checking.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

use emp_seal::finding::{Report, Severity};
use emp_seal::rules::{self, Context, GitStatus, SourceFile};

use crate::common;

fn walk(dir: &Path, root: &Path, out: &mut Vec<SourceFile>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, root, out);
        } else {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&p).unwrap();
            out.push(SourceFile::new(rel, text).with_git(GitStatus::Tracked));
        }
    }
}

/// Copies a fixture tree into a temp dir (real files) and reads it back.
fn load(rule: &str, twin: &str) -> (tempfile::TempDir, Vec<SourceFile>) {
    let src = common::repo_root()
        .join("tests/fixtures/rules")
        .join(rule)
        .join(twin);
    let tmp = tempfile::tempdir().unwrap();
    copy(&src, tmp.path());
    let mut files = Vec::new();
    walk(tmp.path(), tmp.path(), &mut files);
    (tmp, files)
}

fn copy(src: &Path, dst: &Path) {
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        let to = dst.join(p.file_name().unwrap());
        if p.is_dir() {
            std::fs::create_dir_all(&to).unwrap();
            copy(&p, &to);
        } else {
            std::fs::copy(&p, &to).unwrap();
        }
    }
}

fn hits<'r>(report: &'r Report, rule: &str) -> Vec<(&'r str, u32)> {
    report
        .findings
        .iter()
        .filter(|f| f.rule.id == rule)
        .map(|f| (f.primary.path.as_str(), f.primary.line))
        .collect()
}

fn check(rule: &str, expected_fail: &[(&str, u32)]) {
    let (tmp, files) = load(rule, "fail");
    let report = rules::run(&Context::new(tmp.path(), &files));
    assert_eq!(hits(&report, rule), expected_fail, "{rule} fail tree");
    let (tmp, files) = load(rule, "pass");
    let report = rules::run(&Context::new(tmp.path(), &files));
    assert_eq!(
        hits(&report, rule),
        Vec::<(&str, u32)>::new(),
        "{rule} pass twin"
    );
}

#[test]
fn plaintext_secret() {
    check("plaintext-secret", &[("emp-deployment.yaml", 13)]);
}

#[test]
fn readable_secret_data() {
    check("readable-secret-data", &[("secret.yaml", 8)]);
}

#[test]
fn scope_annotation_misplaced() {
    check(
        "scope-annotation-misplaced",
        &[("sealedsecret.yaml", 13), ("sealedsecret.yaml", 20)],
    );
}

#[test]
fn plaintext_env_file() {
    // Git status is the input here, so the files are built in memory.
    let rule = "plaintext-env-file";
    let files = [
        SourceFile::new("overlays/dev/dev-secrets.env", "A=1\n").with_git(GitStatus::Tracked),
        SourceFile::new("overlays/prod/prod-secrets.env", "A=1\n")
            .with_git(GitStatus::Untracked { ignored: false }),
        SourceFile::new("overlays/dev/dev-secrets.env.example", "A=\n")
            .with_git(GitStatus::Tracked),
        SourceFile::new("overlays/paper/paper-secrets.env", "A=1\n")
            .with_git(GitStatus::Untracked { ignored: true }),
    ];
    let report = rules::run(&Context::new(Path::new("."), &files));
    assert_eq!(
        hits(&report, rule),
        [
            ("overlays/dev/dev-secrets.env", 1),
            ("overlays/prod/prod-secrets.env", 1)
        ]
    );
    let sev: Vec<Severity> = report.findings.iter().map(|f| f.severity).collect();
    assert_eq!(sev, [Severity::Error, Severity::Warning]);
    let clean = &files[2..];
    assert!(hits(&rules::run(&Context::new(Path::new("."), clean)), rule).is_empty());
}

#[test]
fn suppressed_findings_are_kept_and_do_not_fail() {
    let (tmp, mut files) = load("plaintext-secret", "fail");
    let f = &mut files[0];
    f.text = f.text.replace(
        "stringData:",
        "stringData: # emp-seal:allow plaintext-secret -- test fixture",
    );
    let report = rules::run(&Context::new(tmp.path(), &files));
    let finding = report
        .findings
        .iter()
        .find(|f| f.rule.id == "plaintext-secret")
        .expect("still reported");
    let s = finding.suppressed.as_ref().expect("suppressed");
    assert_eq!(
        (s.line, s.justification.as_deref()),
        (13, Some("test fixture"))
    );
    assert_eq!(report.exit_code(Severity::Note), 0);
}

#[test]
fn messages_never_carry_values() {
    let (tmp, files) = load("plaintext-secret", "fail");
    let (_t2, more) = load("readable-secret-data", "fail");
    let all: Vec<SourceFile> = files.into_iter().chain(more).collect();
    let report = rules::run(&Context::new(tmp.path(), &all));
    assert!(!report.findings.is_empty());
    for f in &report.findings {
        for needle in ["not-a-real-password", "bm90LWEtcmVhbC1wYXNzd29yZA"] {
            assert!(
                !f.message.contains(needle) && !f.hint.contains(needle),
                "{}",
                f.message
            );
        }
    }
}

#[test]
fn ciphertexts_from_the_sealing_core_are_never_placeholders() {
    use emp_seal::crypto::{Scope, encode_value, seal};
    let path = "overlays/paper/sealedsecret.yaml";
    let mut total = 0;
    for bits in crate::fixtures::BITS {
        let key = crate::fixtures::public_key(bits);
        for scope in [Scope::Strict, Scope::NamespaceWide, Scope::ClusterWide] {
            let label = scope.label("emp-paper", "emp-secrets");
            let mut doc = String::from(
                "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: emp-secrets\n  namespace: emp-paper\nspec:\n  encryptedData:\n",
            );
            // Plaintext lengths 0..23: empty values, short ones, block boundaries.
            for n in 0..23usize {
                let plaintext = vec![b'x'; n * 7];
                let value = encode_value(&seal(&key, &label, &plaintext).unwrap());
                doc.push_str(&format!("    K{n}: {value}\n"));
                total += 1;
            }
            let files = [SourceFile::new(path, doc)];
            let cx = crate::fixtures::with_key(
                Context::new(Path::new("."), &files),
                "overlays/paper",
                key.clone(),
            );
            let report = rules::run(&cx);
            assert!(
                report.findings.is_empty(),
                "rsa-{bits} {scope:?}: {:?}",
                report
                    .findings
                    .iter()
                    .map(|f| &f.message)
                    .collect::<Vec<_>>()
            );
        }
    }
    assert!(total >= 200, "{total}");
}

/// A temp copy of `k8s/`, its paper SealedSecret file and that file's shipped text.
fn paper_copy() -> (tempfile::TempDir, PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    common::copy_dir(&common::repo_root().join("k8s"), &tmp.path().join("k8s"));
    let file = tmp.path().join("k8s/overlays/paper/sealedsecret.yaml");
    let shipped = std::fs::read_to_string(&file).unwrap();
    (tmp, file, shipped)
}

/// The JSON report of `check --rules sealed-secret-unread` on `root` once `file` holds `text`
/// (exit 1: it has findings).
fn unread_report(root: &Path, file: &Path, text: &str) -> Vec<u8> {
    std::fs::write(file, text).unwrap();
    let out = common::output_with_code(
        common::emp_seal().arg("-C").arg(root).args([
            "check",
            "--format",
            "json",
            "--rules",
            "sealed-secret-unread",
        ]),
        1,
    );
    out.stdout
}

/// A SealedSecret the identity and key rules could not read is reported, not passed in silence:
/// the legacy `spec.data` next to `encryptedData` (the controller rejects it), and a
/// `kind: SealedSecret` with an `apiVersion` the controller does not serve.
#[test]
fn sealed_secret_unread_reports_what_the_readers_refused() {
    let (tmp, file, shipped) = paper_copy();
    let root = tmp.path();
    let unread = |text: String| common::json_findings(&unread_report(root, &file, &text));
    let both = shipped.replacen("  encryptedData:\n", "  data: AgBx\n  encryptedData:\n", 1);
    let found = unread(both);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, "k8s/overlays/paper/sealedsecret.yaml");

    let v1beta1 = shipped.replacen(
        "apiVersion: bitnami.com/v1alpha1",
        "apiVersion: bitnami.com/v1beta1",
        1,
    );
    let line = 1 + v1beta1
        .lines()
        .position(|l| l == "apiVersion: bitnami.com/v1beta1")
        .unwrap() as u64;
    let found = unread(v1beta1);
    assert_eq!(
        found,
        [(
            "sealed-secret-unread".to_owned(),
            "k8s/overlays/paper/sealedsecret.yaml".to_owned(),
            line
        )]
    );

    // The shipped file is read: no finding (exit 0).
    std::fs::write(&file, &shipped).unwrap();
    let out = common::output_with_code(
        common::emp_seal()
            .arg("-C")
            .arg(root)
            .args(["check", "--rules", "sealed-secret-unread"]),
        0,
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("no findings"));
}

/// A read error in the second SealedSecret of a file is reported with that document's name and
/// at that document (no name when it has none), not with the first document's.
#[test]
fn sealed_secret_unread_names_the_document_the_error_is_in() {
    let (tmp, file, shipped) = paper_copy();
    let root = tmp.path();
    for (metadata, name) in [
        ("metadata:\n  name: emp-other\n", Some("emp-other")),
        ("metadata:\n  labels:\n    a: b\n", None),
    ] {
        let second = format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n{metadata}spec:\n  encryptedData: [1]\n"
        );
        let text = format!("{shipped}---\n{second}");
        let doc_line = 1 + text.lines().position(|l| l == "---").unwrap() as u64;
        let error_line = 1 + text
            .lines()
            .position(|l| l == "  encryptedData: [1]")
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&unread_report(root, &file, &text)).unwrap();
        // (A SealedSecret without a name also fails kustomize's build: `overlay-build-error`.)
        let found: Vec<_> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "sealed-secret-unread")
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        let message = found[0]["message"].as_str().unwrap();
        let line = found[0]["location"]["line"].as_u64().unwrap();
        let want = match name {
            Some(n) => format!("SealedSecret `{n}` cannot be read: {error_line}:"),
            None => format!("SealedSecret cannot be read: {error_line}:"),
        };
        assert!(message.starts_with(&want), "`{want}`: {message}");
        assert!(!message.contains("emp-secrets"), "{message}");
        assert!(
            line > doc_line,
            "{line} is not in the second document: {message}"
        );
    }
    // A document written on the `---` line itself is kyaml's "invalid document separator": the
    // build fails at that line, which is the finding (for the environment and its variant).
    let text = format!("{shipped}--- {{apiVersion: v1, kind: ConfigMap, metadata: {{name: c}}}}\n");
    let error_line = text.lines().count() as u64;
    let v: serde_json::Value = serde_json::from_slice(&unread_report(root, &file, &text)).unwrap();
    let found = v["findings"].as_array().unwrap();
    assert!(!found.is_empty());
    for f in found {
        let message = f["message"].as_str().unwrap();
        assert_eq!(f["rule"], "overlay-build-error", "{message}");
        assert!(message.contains("invalid document separator"), "{message}");
        assert_eq!(f["location"]["line"], error_line, "{message}");
    }
}
