//! The four output formats over one small synthetic report: insta snapshots (inline for text,
//! `.snap` files for JSON and SARIF), SARIF validated against the official SARIF 2.1.0 schema
//! (tests/data/sarif/) with check-jsonschema, and GitHub command escaping.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::process::Command;

use emp_seal::finding::{Finding, Location, Report, Severity};
use emp_seal::report::{self, Format, RenderOptions, TOOL_VERSION};
use emp_seal::rules::{self, SourceFile};

use crate::common;

/// Two files with findings of three severities, one suppressed, one with a related location and
/// characters that need escaping in GitHub commands and SARIF URIs.
fn synthetic() -> Report {
    let meta = |id| rules::find(id).expect("registered rule");
    let files = [
        SourceFile::new(
            "k8s/overlays/paper/sealedsecret.yaml",
            "spec:\n  encryptedData:\n    A: AgAAAA...\n    B: x # emp-seal:allow invalid-ciphertext -- known\n",
        ),
        SourceFile::new(
            "k8s/emp deployment, v1.yaml",
            "kind: Secret\ndata:\n  K: dg==\n",
        ),
    ];
    let findings = vec![
        Finding::new(
            meta("placeholder-ciphertext"),
            Location::new("k8s/overlays/paper/sealedsecret.yaml", 3, 5).with_bytes(30..31),
            "`A` in SealedSecret `emp-secrets`: the value is a literal placeholder (an ellipsis)",
        ),
        Finding::new(
            meta("invalid-ciphertext"),
            Location::new("k8s/overlays/paper/sealedsecret.yaml", 4, 5),
            "`B` in SealedSecret `emp-secrets`: the value is unpadded base64",
        ),
        Finding::new(
            meta("readable-secret-data"),
            Location::new("k8s/emp deployment, v1.yaml", 3, 3),
            "`K` in Secret `emp-secrets` is base64 of readable text: 100% readable",
        )
        .related(Location::new("k8s/emp deployment, v1.yaml", 1, 1)),
        Finding::new(
            meta("demo-certificate"),
            Location::file("k8s/overlays/paper/cert.pem"),
            "the paper environment uses the demo certificate",
        )
        .severity(Severity::Note),
    ];
    let mut findings = findings;
    rules::apply_suppressions(&files, &mut findings);
    Report::new(findings, 7, rules::all())
}

fn render(format: Format, options: RenderOptions) -> String {
    let mut out = Vec::new();
    report::render(format, &synthetic(), &mut out, &options).unwrap();
    String::from_utf8(out)
        .unwrap()
        .replace(TOOL_VERSION, "[VERSION]")
}

#[test]
fn text() {
    insta::assert_snapshot!(render(Format::Text, RenderOptions::default()), @r#"
        k8s/emp deployment, v1.yaml:3:3: warning[readable-secret-data]: `K` in Secret `emp-secrets` is base64 of readable text: 100% readable
          help: base64 is an encoding, not encryption: seal the value instead and rotate it
          note: see k8s/emp deployment, v1.yaml:1:1
        k8s/overlays/paper/cert.pem:1:1: note[demo-certificate]: the paper environment uses the demo certificate
          help: fetch the real controller certificate for this environment (kubeseal --fetch-cert)
        k8s/overlays/paper/sealedsecret.yaml:3:5: error[placeholder-ciphertext]: `A` in SealedSecret `emp-secrets`: the value is a literal placeholder (an ellipsis)
          help: seal the real value (emp-seal <env> --from FILE); the controller fails the whole SealedSecret with `no key could decrypt secret`
        3 findings (1 error, 1 warning, 1 note) in 7 files; 1 suppressed
    "#);
}

#[test]
fn text_with_suppressed_and_colour() {
    let plain = render(
        Format::Text,
        RenderOptions {
            color: false,
            show_suppressed: true,
        },
    );
    assert!(plain.contains(
        "k8s/overlays/paper/sealedsecret.yaml:4:5: error[invalid-ciphertext]: `B` in SealedSecret `emp-secrets`: the value is unpadded base64 (suppressed)"
    ));
    let colour = render(
        Format::Text,
        RenderOptions {
            color: true,
            show_suppressed: false,
        },
    );
    assert!(colour.contains("\x1b[1;31merror[placeholder-ciphertext]"));
    assert!(!render(Format::Text, RenderOptions::default()).contains('\x1b'));
}

#[test]
fn json() {
    let out = render(Format::Json, RenderOptions::default());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], 1);
    insta::assert_snapshot!("report_json", out);
}

#[test]
fn github() {
    insta::assert_snapshot!(render(Format::Github, RenderOptions::default()), @r#"
        ::warning file=k8s/emp deployment%2C v1.yaml,line=3,col=3,title=readable-secret-data::`K` in Secret `emp-secrets` is base64 of readable text: 100%25 readable%0Ahelp: base64 is an encoding, not encryption: seal the value instead and rotate it
        ::notice file=k8s/overlays/paper/cert.pem,line=1,col=1,title=demo-certificate::the paper environment uses the demo certificate%0Ahelp: fetch the real controller certificate for this environment (kubeseal --fetch-cert)
        ::error file=k8s/overlays/paper/sealedsecret.yaml,line=3,col=5,title=placeholder-ciphertext::`A` in SealedSecret `emp-secrets`: the value is a literal placeholder (an ellipsis)%0Ahelp: seal the real value (emp-seal <env> --from FILE); the controller fails the whole SealedSecret with `no key could decrypt secret`
    "#);
}

#[test]
fn sarif_snapshot_and_schema() {
    let out = render(Format::Sarif, RenderOptions::default());
    insta::assert_snapshot!("report_sarif", out);

    let Some(checker) = common::tool("check-jsonschema") else {
        common::missing("check-jsonschema in .venv-tools");
        return;
    };
    let schema = common::repo_root().join("tests/data/sarif/sarif-2.1.0.json");
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("report.sarif");
    std::fs::write(&good, &out).unwrap();
    let run = |file: &std::path::Path| {
        Command::new(&checker)
            .arg("--no-cache")
            .arg("--schemafile")
            .arg(&schema)
            .arg(file)
            .output()
            .expect("run check-jsonschema")
    };
    let ok = run(&good);
    assert!(
        ok.status.success(),
        "SARIF does not validate: {}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    // The validator really validates: a broken level is rejected.
    let bad = dir.path().join("bad.sarif");
    std::fs::write(
        &bad,
        out.replace("\"level\": \"note\"", "\"level\": \"info\""),
    )
    .unwrap();
    assert!(
        !run(&bad).status.success(),
        "schema accepted an invalid level"
    );
}
