//! The four output formats over one small synthetic report: insta snapshots (inline for text,
//! `.snap` files for JSON and SARIF), SARIF validated against the official SARIF 2.1.0 schema
//! (tests/data/sarif/) with check-jsonschema, and GitHub command escaping.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::process::Command;

use emp_seal::finding::{Finding, Location, Note, Report, Severity};
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
    let mut report = Report::new(findings, 7, rules::all());
    // A note of what the run could not look at, with characters that need escaping.
    report.notes.push(Note::new(
        Note::RENDER_UNAVAILABLE,
        "--render=auto: no tool, so 100% of it was checked against the model only",
    ));
    report
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
    assert_eq!(v["notes"][0]["kind"], "render-unavailable", "{out}");
    insta::assert_snapshot!("report_json", out);
}

#[test]
fn github() {
    insta::assert_snapshot!(render(Format::Github, RenderOptions::default()), @r#"
        ::notice title=emp-seal note (render-unavailable)::--render=auto: no tool, so 100%25 of it was checked against the model only
        ::warning file=k8s/emp deployment%2C v1.yaml,line=3,col=3,title=readable-secret-data::`K` in Secret `emp-secrets` is base64 of readable text: 100%25 readable%0Ahelp: base64 is an encoding, not encryption: seal the value instead and rotate it
        ::notice file=k8s/overlays/paper/cert.pem,line=1,col=1,title=demo-certificate::the paper environment uses the demo certificate%0Ahelp: fetch the real controller certificate for this environment (kubeseal --fetch-cert)
        ::error file=k8s/overlays/paper/sealedsecret.yaml,line=3,col=5,title=placeholder-ciphertext::`A` in SealedSecret `emp-secrets`: the value is a literal placeholder (an ellipsis)%0Ahelp: seal the real value (emp-seal <env> --from FILE); the controller fails the whole SealedSecret with `no key could decrypt secret`
    "#);
}

#[test]
fn sarif_snapshot_and_schema() {
    let out = render(Format::Sarif, RenderOptions::default());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let invocation = &v["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true, "{out}");
    let notification = &invocation["toolExecutionNotifications"][0];
    assert_eq!(notification["descriptor"]["id"], "render-unavailable");
    assert!(
        notification["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("--render=auto: no tool")
    );
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

/// Text output prints paths, names and messages from the checked tree: a control character in
/// them is escaped, so a name cannot split a finding into a forged line of its own or hide text
/// on a terminal (ESC), and the bidirectional overrides cannot reorder it.
#[test]
fn text_escapes_control_characters_of_the_tree() {
    let forged = "x\nk8s/a.yaml:1:1: error[fake]: forged line\x1b[8m\r\u{202e}";
    let f = Finding::new(
        rules::find("plaintext-secret").expect("registered rule"),
        Location::new(format!("k8s/dir\n{forged}.yaml"), 4, 1),
        format!("Secret `{forged}` holds 1 plaintext stringData key (`p`)"),
    )
    .related(Location::new(format!("k8s/{forged}"), 1, 1));
    let mut f = f;
    f.unverified = Some(format!("overlay {forged} is not fully modelled"));
    let report = Report::new(vec![f], 1, rules::all());
    let mut out = Vec::new();
    report::render(Format::Text, &report, &mut out, &RenderOptions::default()).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        !out.contains(['\x1b', '\r', '\u{202e}']),
        "raw control characters: {out:?}"
    );
    // One finding line, its help line, its related line and the summary: nothing forged.
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].starts_with("k8s/dir\\nx\\nk8s/a.yaml:1:1: error[fake]: forged line\\u{1b}[8m\\r\\u{202e}.yaml:4:1: error[plaintext-secret]: Secret `x\\nk8s/a.yaml"),
        "{out}"
    );
    assert!(lines[0].ends_with("is not fully modelled]"), "{out}");
    assert!(
        lines[2].starts_with("  note: see k8s/x\\nk8s/a.yaml"),
        "{out}"
    );
    assert!(!lines.iter().any(|l| l.starts_with("k8s/a.yaml")), "{out}");
    // Text without such characters is unchanged.
    assert_eq!(report::text::escape("a `b`: c\\n"), "a `b`: c\\n");
}

/// GitHub workflow commands carry the same text: the Actions log renders ANSI sequences, so
/// control and bidirectional characters from the tree are escaped there too (they were printed
/// raw), before the toolkit's own `%` escaping.
#[test]
fn github_escapes_control_characters_of_the_tree() {
    let forged = "x\x1b[31mred\u{202e}evil";
    let mut f = Finding::new(
        rules::find("plaintext-secret").expect("registered rule"),
        Location::new(format!("k8s/{forged}.yaml"), 4, 1),
        format!("Secret `{forged}` holds 1 plaintext stringData key (`p`)"),
    );
    f.unverified = Some(format!("overlay {forged} is not fully modelled"));
    let report = Report::new(vec![f], 1, rules::all());
    let mut out = Vec::new();
    report::render(Format::Github, &report, &mut out, &RenderOptions::default()).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(!out.contains(['\x1b', '\u{202e}']), "raw: {out:?}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("x\\u{1b}[31mred\\u{202e}evil"), "{out}");
}

/// Through the binary: a Secret whose name holds a newline and ESC prints as one escaped finding
/// line, not as a forged finding line and hidden text.
#[test]
fn a_forged_secret_name_stays_on_its_line() {
    if common::which("git").is_none() {
        common::missing("git");
        return;
    }
    let t = tempfile::tempdir().unwrap();
    std::fs::write(
        t.path().join("docs.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata: {name: \"x\\nk8s/a.yaml:1:1: note[fake]: forged line\\e[8m\"}\nstringData: {\"p\": hunter2xyz}\n",
    )
    .unwrap();
    let dev = t.path().join("k8s/overlays/dev");
    std::fs::create_dir_all(&dev).unwrap();
    std::fs::write(
        dev.join("kustomization.yaml"),
        "resources:\n  - deploy.yaml\n",
    )
    .unwrap();
    std::fs::write(
        dev.join("deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: app:1\n          envFrom:\n            - secretRef:\n                name: app-secrets\n",
    )
    .unwrap();
    common::git(t.path(), &["init", "-q"]);
    common::git(t.path(), &["add", "-A"]);
    let out = common::emp_seal()
        .arg("-C")
        .arg(t.path())
        .args(["check", "--color", "never"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains('\x1b'), "{stdout:?}");
    assert!(
        !stdout.lines().any(|l| l.starts_with("k8s/a.yaml")),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "error[plaintext-secret]: Secret `x\\nk8s/a.yaml:1:1: note[fake]: forged line\\u{1b}[8m` holds"
        ),
        "{stdout}"
    );
}
