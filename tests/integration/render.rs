//! Issue 14 items 3 and 4 through the real binary: `check --render` builds overlays with the
//! real `kubectl kustomize` and compares the render with the model (`render-failed`,
//! `model-divergence`), never leaking an env-file value; `dangling-reference` covers every
//! reference kind the workloads use, with the run-time allow-list.
//!
//! The render tests need kubectl: without it they fail under CI=true (`common::missing`) and
//! are skipped with a note elsewhere.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};

use assert_cmd::Command as Bin;

use crate::common::{self, git, write};

/// A sentinel that must never appear in any output.
const SENTINEL: &str = "S3NTINEL-render-4f1c9a";

/// A temp git repository holding `files` (all staged; real env files are git-ignored).
fn repo(files: &[(&str, &str)]) -> Option<tempfile::TempDir> {
    let ignore = (".gitignore", "*.env\n!*.env.example\n");
    common::staged_repo(&[&[ignore][..], files].concat())
}

/// [`repo`] with `k8s/overlays/dev`: a Deployment `deploy.yaml` and `kustomization`.
fn dev_repo(kustomization: &str) -> Option<tempfile::TempDir> {
    repo(&[
        ("k8s/overlays/dev/deploy.yaml", DEPLOY),
        ("k8s/overlays/dev/kustomization.yaml", kustomization),
    ])
}

/// A directory holding only a link to `git`: as PATH, neither kubectl nor kustomize is on it.
fn git_only_path() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(common::which("git").unwrap(), dir.path().join("git")).unwrap();
    dir
}

/// Writes an executable `script` named `name` into `dir` (a PATH of [`git_only_path`]).
fn shim(dir: &Path, name: &str, script: &str) {
    let path = dir.join(name);
    std::fs::write(&path, script).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&path, perms).unwrap();
}

/// A copy of the shipped `k8s/` without dev's and prod's real env files.
fn shipped_k8s_without_env_files() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    common::copy_dir(&common::repo_root().join("k8s"), &root.join("k8s"));
    for env in ["dev", "prod"] {
        let _ = std::fs::remove_file(root.join(format!("k8s/overlays/{env}/{env}-secrets.env")));
    }
    tmp
}

fn bin() -> Bin {
    common::emp_seal()
}

fn check(root: &Path, args: &[&str]) -> Output {
    bin()
        .arg("-C")
        .arg(root)
        .arg("check")
        .args(args)
        .output()
        .unwrap()
}

/// (rule, path, line, message) of every unsuppressed finding in JSON output.
fn findings(out: &Output) -> Vec<(String, String, u64, String)> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{e}; stderr: {}", String::from_utf8_lossy(&out.stderr)))
        .expect("JSON on stdout");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["suppressed"].is_null())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["location"]["path"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn of_rule<'f>(
    all: &'f [(String, String, u64, String)],
    rule: &str,
) -> Vec<&'f (String, String, u64, String)> {
    all.iter().filter(|f| f.0 == rule).collect()
}

const SEALED: &str = "apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: emp-secrets
spec:
  encryptedData:
    API_KEY: AgBy3i4OJSWK+PiTySYZZA==
  template:
    metadata:
      name: emp-secrets
";

const DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: app
          image: app:1
          envFrom:
            - secretRef:
                name: emp-secrets
";

#[test]
fn issue_14_replacements_renaming_a_sealedsecret_is_a_model_divergence() {
    let Some(t) = repo(&[
        ("k8s/overlays/paper/sealedsecret.yaml", SEALED),
        ("k8s/overlays/paper/deploy.yaml", DEPLOY),
        (
            "k8s/overlays/paper/names.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: names\ndata:\n  secretName: emp-secrets-v2\n",
        ),
        (
            "k8s/overlays/paper/kustomization.yaml",
            "namespace: emp-paper
resources:
  - sealedsecret.yaml
  - deploy.yaml
  - names.yaml
replacements:
  - source:
      kind: ConfigMap
      name: names
      fieldPath: data.secretName
    targets:
      - select:
          kind: SealedSecret
          name: emp-secrets
        fieldPaths:
          - metadata.name
",
        ),
    ]) else {
        return;
    };
    if common::kubectl().is_none() {
        return;
    }
    // Without the render, the model alone does not see the rename.
    let model_only = check(t.path(), &["--format", "json", "--render=never"]);
    assert!(of_rule(&findings(&model_only), "model-divergence").is_empty());

    let out = check(t.path(), &["--format", "json", "--render=always"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = findings(&out);
    let div = of_rule(&all, "model-divergence");
    assert_eq!(div.len(), 1, "{all:?}");
    let (_, path, line, message) = div[0];
    assert_eq!(path, "k8s/overlays/paper/sealedsecret.yaml");
    assert_eq!(*line, 4, "the SealedSecret's metadata.name line");
    assert!(
        message.contains("the model renders SealedSecret `emp-paper/emp-secrets`")
            && message
                .contains("kubectl kustomize renders SealedSecret `emp-paper/emp-secrets-v2`"),
        "{message}"
    );
}

#[test]
fn issue_14_a_kustomize_build_failure_is_render_failed_with_its_message() {
    let Some(t) = dev_repo("namespace: emp-dev\nresources:\n  - deploy.yaml\n  - not-there.yaml\n")
    else {
        return;
    };
    if common::kubectl().is_none() {
        return;
    }
    let out = check(t.path(), &["--format", "json", "--render=always"]);
    assert_eq!(out.status.code(), Some(1));
    let all = findings(&out);
    let failed = of_rule(&all, "render-failed");
    assert_eq!(failed.len(), 1, "{all:?}");
    let (_, path, line, message) = failed[0];
    assert_eq!(
        (path.as_str(), *line),
        ("k8s/overlays/dev/kustomization.yaml", 1)
    );
    // kustomize's own words, unwrapped from kubectl's log line, with the repository path cut.
    assert!(
        message.contains("`kubectl kustomize")
            && message.contains("accumulating resources")
            && message.contains("k8s/overlays/dev/not-there.yaml")
            && !message.contains("command failed")
            && !message.contains(&t.path().display().to_string()),
        "{message}"
    );
    // No model comparison of an overlay that did not render.
    assert!(of_rule(&all, "model-divergence").is_empty(), "{all:?}");
}

/// kubectl logs a message that spans lines in klog's multi-line form (`err=<`, tab-indented
/// lines, ` >`), as it does for "Found multiple kustomization files"; the finding carried the
/// whole log line (timestamp, pid, `run.go`, `err=<`) instead of kustomize's words.
#[test]
fn a_multi_line_kubectl_message_is_unwrapped_too() {
    let k = "namespace: emp-dev\nresources:\n  - deploy.yaml\n";
    let Some(t) = repo(&[
        ("k8s/overlays/dev/deploy.yaml", DEPLOY),
        ("k8s/overlays/dev/kustomization.yaml", k),
        ("k8s/overlays/dev/kustomization.yml", k),
    ]) else {
        return;
    };
    if common::kubectl().is_none() {
        return;
    }
    let out = check(t.path(), &["--format", "json", "--render=always"]);
    let all = findings(&out);
    let failed = of_rule(&all, "render-failed");
    assert_eq!(failed.len(), 1, "{all:?}");
    let message = &failed[0].3;
    assert!(
        message.ends_with("failed: Found multiple kustomization files under: k8s/overlays/dev"),
        "{message}"
    );
}

#[test]
fn issue_14_render_always_without_kubectl_is_exit_2() {
    let Some(t) = dev_repo("resources:\n  - deploy.yaml\n") else {
        return;
    };
    let bin_dir = git_only_path();
    let run = |args: &[&str], env: Option<&str>| {
        let mut c = bin();
        c.env("PATH", bin_dir.path())
            .arg("-C")
            .arg(t.path())
            .arg("check")
            .args(args);
        if let Some(v) = env {
            c.env("EMP_SEAL_RENDER", v);
        }
        c.output().unwrap()
    };
    for out in [run(&["--render=always"], None), run(&[], Some("always"))] {
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("--render=always: neither `kubectl` nor `kustomize` is on PATH"),
            "{err}"
        );
        assert!(err.contains("help:"), "{err}");
        assert!(out.stdout.is_empty());
    }
    // auto under --release says the model went unverified, and still checks.
    let out = run(&["--release", "dev"], None);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--render=auto: neither kubectl nor kustomize is on PATH"),
        "{err}"
    );
    // never does not look for a tool at all.
    let out = run(&["--render=never"], None);
    assert_ne!(out.status.code(), Some(2));
}

/// A run that could not render (`--render=auto`, no tool on PATH) says so in every format, not
/// only in a `note:` on stderr: the JSON of such a run was byte-identical to the JSON of a run
/// that rendered, so a machine reader could not tell "verified clean" from "not checked".
#[test]
fn a_run_that_could_not_render_says_so_in_every_format() {
    let Some(t) = dev_repo("resources:\n  - deploy.yaml\n") else {
        return;
    };
    let git_only = git_only_path();
    let run = |format: &str, path: Option<&Path>| {
        let mut c = bin();
        if let Some(p) = path {
            c.env("PATH", p);
        }
        c.arg("-C")
            .arg(t.path())
            .args(["check", "--release", "dev", "--format", format])
            .output()
            .unwrap()
    };
    let said = "--render=auto: neither kubectl nor kustomize is on PATH";
    let json = run("json", Some(git_only.path()));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let notes = v["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{v}");
    assert_eq!(notes[0]["kind"], "render-unavailable");
    assert!(
        notes[0]["message"].as_str().unwrap().starts_with(said),
        "{v}"
    );
    // stderr keeps its note line.
    let stderr = String::from_utf8_lossy(&json.stderr);
    assert!(stderr.contains(&format!("note: {said}")), "{stderr}");

    let sarif = run("sarif", Some(git_only.path()));
    let v: serde_json::Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let invocation = &v["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true, "{v}");
    let n = &invocation["toolExecutionNotifications"];
    assert_eq!(n.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(n[0]["descriptor"]["id"], "render-unavailable");
    assert!(n[0]["message"]["text"].as_str().unwrap().starts_with(said));

    let github = run("github", Some(git_only.path()));
    let github = String::from_utf8_lossy(&github.stdout);
    assert!(
        github.lines().next().unwrap().starts_with(&format!(
            "::notice title=emp-seal note (render-unavailable)::{said}"
        )),
        "{github}"
    );

    // With kubectl the same run has no note: the two JSON reports differ.
    if common::kubectl().is_some() {
        let rendered = run("json", None);
        let v: serde_json::Value = serde_json::from_slice(&rendered.stdout).unwrap();
        assert_eq!(v["notes"], serde_json::json!([]), "{v}");
        assert_ne!(rendered.stdout, json.stdout);
    }
}

/// Outside git, the note that tracked status is unknown is in the JSON report too.
#[test]
fn a_run_outside_git_says_so_in_the_report() {
    let t = tempfile::tempdir().unwrap();
    write(t.path(), "k8s/overlays/dev/deploy.yaml", DEPLOY);
    write(
        t.path(),
        "k8s/overlays/dev/kustomization.yaml",
        "resources:\n  - deploy.yaml\n",
    );
    let out = check(t.path(), &["--format", "json", "--render=never"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = (v["notes"].as_array().unwrap().iter())
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["not-a-git-repository"], "{v}");
    assert!(
        v["notes"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("not a git repository: tracked status is unknown"),
        "{v}"
    );
}

/// kustomize's message quotes what it could not read: a `literals:` entry without `=` (a pasted
/// value) or an inline patch that does not parse. `render-failed` showed it word for word, in
/// every format; it shows kustomize's phrases with that content replaced.
#[test]
fn render_failed_never_quotes_what_kustomize_could_not_read() {
    let literal = format!(
        "resources:\n  - deploy.yaml\nsecretGenerator:\n  - name: lit\n    literals:\n      - {SENTINEL}\n"
    );
    let patch =
        format!("resources:\n  - deploy.yaml\npatches:\n  - patch: |\n      - {SENTINEL}\n");
    let cases = [
        (
            literal,
            "failed: loading KV pairs: literal sources [(content not shown)]: invalid literal source (content not shown), expected key=value",
        ),
        (
            patch,
            "failed: trouble configuring builtin PatchTransformer with config: `(content not shown)`: unable to parse SM or JSON patch from [(content not shown)]",
        ),
    ];
    for (kustomization, said) in cases {
        let Some(t) = repo(&[
            ("k8s/overlays/dev/deploy.yaml", DEPLOY),
            ("k8s/overlays/dev/kustomization.yaml", &kustomization),
        ]) else {
            return;
        };
        if common::kubectl().is_none() {
            return;
        }
        // kubectl itself quotes the sentinel.
        let direct = Command::new("kubectl")
            .arg("kustomize")
            .arg(t.path().join("k8s/overlays/dev"))
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&direct.stderr).contains(SENTINEL));
        for format in ["text", "json", "sarif", "github"] {
            let out = check(
                t.path(),
                &[
                    "--render=always",
                    "--rules",
                    "render-failed",
                    "--format",
                    format,
                ],
            );
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{format}: {stdout}\n{stderr}");
            assert!(stdout.contains("render-failed"), "{format}: {stdout}");
            assert!(
                !stdout.contains(SENTINEL) && !stderr.contains(SENTINEL),
                "{format}: {stdout}\n{stderr}"
            );
            if format == "json" {
                let all = findings(&out);
                let failed = of_rule(&all, "render-failed");
                assert_eq!(failed.len(), 1, "{all:?}");
                assert!(failed[0].3.ends_with(said), "{}", failed[0].3);
            }
        }
    }
}

/// dev reads an absent (untracked) env file, prod a present one holding sentinels.
fn env_tree() -> Option<tempfile::TempDir> {
    let generator = |env: &str| {
        format!(
            "apiVersion: builtin\nkind: SecretGenerator\nmetadata:\n  name: emp-secrets\nbehavior: create\nenvs:\n  - {env}-secrets.env\noptions:\n  disableNameSuffixHash: true\n"
        )
    };
    let kustomization = |env: &str| {
        format!(
            "namespace: emp-{env}\nresources:\n  - ../../base\ngenerators:\n  - secret-generator.yaml\n"
        )
    };
    let t = repo(&[
        (
            "k8s/base/kustomization.yaml",
            "resources:\n  - deploy.yaml\n",
        ),
        ("k8s/base/deploy.yaml", DEPLOY),
        ("k8s/overlays/dev/kustomization.yaml", &kustomization("dev")),
        ("k8s/overlays/dev/secret-generator.yaml", &generator("dev")),
        (
            "k8s/overlays/dev/dev-secrets.env.example",
            "API_KEY=example-only\n",
        ),
        (
            "k8s/overlays/prod/kustomization.yaml",
            &kustomization("prod"),
        ),
        (
            "k8s/overlays/prod/secret-generator.yaml",
            &generator("prod"),
        ),
        (
            "k8s/overlays/prod/prod-secrets.env.example",
            "API_KEY=example-only\n",
        ),
    ])?;
    // Untracked and ignored, as on a release host.
    write(
        t.path(),
        "k8s/overlays/prod/prod-secrets.env",
        &format!("API_KEY={SENTINEL}-api\n"),
    );
    Some(t)
}

#[test]
fn issue_14_an_absent_env_file_renders_through_its_example_and_no_value_leaks() {
    let Some(t) = env_tree() else { return };
    if common::kubectl().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for format in ["text", "json", "sarif", "github"] {
        let out = bin()
            .env("TMPDIR", tmp.path())
            .arg("-C")
            .arg(t.path())
            .args([
                "check",
                "--render=always",
                "--show-suppressed",
                "--format",
                format,
            ])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{format}: {stdout}\n{stderr}");
        assert!(
            !stdout.contains(SENTINEL) && !stderr.contains(SENTINEL),
            "{format}"
        );
    }
    // dev rendered (from a copy with the example standing in) and agreed with the model:
    // nothing at all was found, so neither overlay failed to render or diverged.
    let out = check(t.path(), &["--render=always", "--format", "json"]);
    assert_eq!(findings(&out), []);
    // The temporary copy is gone, and nothing was written into the tree.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    assert!(!t.path().join("k8s/overlays/dev/dev-secrets.env").exists());

    // A render that fails on the present env file quotes kustomize, never the value.
    write(
        t.path(),
        "k8s/overlays/prod/prod-secrets.env",
        &format!("API_KEY={SENTINEL}-api\nAPI_KEY={SENTINEL}-again\n"),
    );
    for format in ["text", "json", "sarif", "github"] {
        let out = check(t.path(), &["--render=always", "--format", format]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {stdout}\n{stderr}");
        assert!(stdout.contains("render-failed"), "{format}: {stdout}");
        assert!(
            stdout.contains("API_KEY"),
            "kustomize's message names the key: {stdout}"
        );
        assert!(
            !stdout.contains(SENTINEL) && !stderr.contains(SENTINEL),
            "{format}"
        );
    }

    // kustomize quotes what it takes for a key (a pasted value without `=`, repeated) and the
    // whole line it cannot decode (not UTF-8): the first is redacted, the second withheld.
    // Only the render rules run, so that what is judged is render-failed's message alone.
    let pasted = format!("{SENTINEL}-pasted\nAPI_KEY=x\n{SENTINEL}-pasted\n").into_bytes();
    let mut not_utf8 = format!("API_KEY={SENTINEL}-").into_bytes();
    not_utf8.extend_from_slice(b"\xff\n");
    let cases = [
        (pasted, "illegally repeats the key `(content not shown)`"),
        (
            not_utf8,
            "is not UTF-8, so its message (which may quote the file) is withheld",
        ),
    ];
    let env = t.path().join("k8s/overlays/prod/prod-secrets.env");
    for (bytes, said) in cases {
        std::fs::write(&env, &bytes).unwrap();
        // kustomize itself quotes the sentinel for this file.
        let direct = Command::new("kubectl")
            .arg("kustomize")
            .arg(t.path().join("k8s/overlays/prod"))
            .output()
            .unwrap();
        assert!(String::from_utf8_lossy(&direct.stderr).contains(SENTINEL));
        let out = check(
            t.path(),
            &[
                "--render=always",
                "--rules",
                "render-failed,model-divergence",
            ],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
        assert!(
            stdout.contains("render-failed") && stdout.contains(said),
            "{stdout}"
        );
        assert!(
            !stdout.contains(SENTINEL) && !stderr.contains(SENTINEL),
            "{stdout}"
        );
    }
}

#[test]
fn issue_14_the_shipped_tree_renders_as_modelled() {
    if common::kubectl().is_none() {
        return;
    }
    // A copy of k8s/: the repository's own root also holds deliberately broken test fixtures,
    // which the repository-wide rules read.
    let tmp = tempfile::tempdir().unwrap();
    common::copy_dir(&common::repo_root().join("k8s"), &tmp.path().join("k8s"));
    let root = tmp.path().to_path_buf();
    let started = std::time::Instant::now();
    let out = check(&root, &["--render=always", "--format", "json"]);
    let took = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = findings(&out);
    // Only the paper placeholders (the rest of the shipped tree is clean), so no overlay
    // failed to render and none diverged from the model.
    assert!(!all.is_empty());
    assert!(
        all.iter()
            .all(|f| f.0 == "placeholder-ciphertext"
                && f.1 == "k8s/overlays/paper/sealedsecret.yaml"),
        "{all:?}"
    );
    eprintln!("check --render=always on the shipped tree: {took:?}");

    // All three overlays really were rendered (dev and prod from a copy with their examples):
    // a change the model does not follow shows up in each of them.
    let t = tempfile::tempdir().unwrap();
    common::copy_dir(&root.join("k8s"), &t.path().join("k8s"));
    for env in ["dev", "paper", "prod"] {
        let k = t
            .path()
            .join(format!("k8s/overlays/{env}/kustomization.yaml"));
        let mut text = std::fs::read_to_string(&k).unwrap();
        text.push_str(
            "replacements:\n  - source: {kind: ConfigMap, name: emp-config, fieldPath: metadata.name}\n    targets:\n      - select: {kind: Deployment}\n        fieldPaths: [spec.template.spec.serviceAccountName]\n",
        );
        std::fs::write(&k, text).unwrap();
    }
    let _ = std::fs::remove_file(t.path().join("k8s/overlays/dev/dev-secrets.env"));
    let _ = std::fs::remove_file(t.path().join("k8s/overlays/prod/prod-secrets.env"));
    let out = check(t.path(), &["--render=always", "--format", "json"]);
    let all = findings(&out);
    for env in ["dev", "paper", "prod"] {
        let div: Vec<_> = of_rule(&all, "model-divergence")
            .into_iter()
            .filter(|f| f.3.starts_with(&format!("overlay {env}: ")))
            .collect();
        assert_eq!(div.len(), 1, "{env}: {all:?}");
        assert!(
            div[0].3.contains("names ServiceAccount `emp-app` in the model and `emp-config` in the kubectl kustomize render"),
            "{}",
            div[0].3
        );
    }
    // Each release gate renders its overlay under --render=auto (kubectl is on PATH).
    for env in ["dev", "paper", "prod"] {
        let out = check(&root, &["--release", env, "--format", "json"]);
        let all = findings(&out);
        assert!(
            of_rule(&all, "render-failed").is_empty()
                && of_rule(&all, "model-divergence").is_empty(),
            "{env}: {all:?}"
        );
    }
}

/// A `replacements:` entry (not modelled) that points every Deployment at the ServiceAccount
/// named like the shipped `emp-config` ConfigMap.
const SA_REPLACEMENT: &str = "replacements:\n  - source: {kind: ConfigMap, name: emp-config, fieldPath: metadata.name}\n    targets:\n      - select: {kind: Deployment}\n        fieldPaths: [spec.template.spec.serviceAccountName]\n";

/// A variant of an environment (a kustomization wrapping its overlay and deployed in its place,
/// `k8s/no-keda/prod`) was rendered under `--render` only to see that it builds: its render was
/// never compared with the variant's model, so whatever the model got wrong there passed the
/// release gate. Here a `replacements:` entry in the variant only (not modelled; its
/// `overlay-not-modelled` warning allowed, as by a user who relies on the gate's render) points
/// the Deployment at another ServiceAccount. The divergence is reported, named as the
/// variant's, and fails `--release prod`; the same entry in the environment itself is reported
/// once, as the environment's, not again for the variant that wraps it.
#[test]
fn a_variant_render_is_compared_with_the_variant_model() {
    if common::kubectl().is_none() {
        return;
    }
    let tmp = shipped_k8s_without_env_files();
    let root = tmp.path();
    let json = |args: &[&str]| {
        let out = check(root, &[args, &["--format", "json"]].concat());
        (out.status.code(), findings(&out))
    };
    let clean = json(&["--release", "prod"]);
    assert_eq!(clean, (Some(0), Vec::new()));

    let variant = "k8s/no-keda/prod/kustomization.yaml";
    let wrapper = std::fs::read_to_string(root.join(variant)).unwrap();
    let allowed = format!(
        "# emp-seal:allow overlay-not-modelled -- the release gate compares the render\n{SA_REPLACEMENT}"
    );
    write(root, variant, &format!("{wrapper}{allowed}"));
    // The reference is written in the base's Deployment, which the variant's model reads.
    let deployment = "k8s/base/deployment.yaml";
    let line = std::fs::read_to_string(root.join(deployment))
        .unwrap()
        .lines()
        .position(|l| l.contains("serviceAccountName:"))
        .unwrap() as u64
        + 1;
    let expected = |message: &str| {
        message.contains(
            "`spec.template.spec.serviceAccountName` names ServiceAccount `emp-app` in the model and `emp-config` in the kubectl kustomize render",
        )
    };
    for args in [&["--render=always"][..], &["--release", "prod"]] {
        let (code, all) = json(args);
        let div = of_rule(&all, "model-divergence");
        assert_eq!(div.len(), 1, "{args:?}: {all:?}");
        let (_, path, at, message) = div[0];
        assert_eq!((path.as_str(), *at), (deployment, line), "{message}");
        assert!(
            message.starts_with("overlay prod, variant `k8s/no-keda/prod`: ") && expected(message),
            "{message}"
        );
        if args[0] == "--release" {
            // The divergence alone fails the gate.
            assert_eq!((code, all.len()), (Some(1), 1), "{all:?}");
        }
    }
    // dev's gate does not cover prod's variant.
    assert_eq!(json(&["--release", "dev"]), (Some(0), Vec::new()));

    // The same entry in the environment: every variant wrapping it diverges the same way, and
    // that is reported once, as the environment's.
    write(root, variant, &wrapper);
    let overlay = "k8s/overlays/prod/kustomization.yaml";
    let text = std::fs::read_to_string(root.join(overlay)).unwrap();
    write(root, overlay, &format!("{text}{allowed}"));
    let (code, all) = json(&["--release", "prod"]);
    let div = of_rule(&all, "model-divergence");
    assert_eq!((code, div.len()), (Some(1), 1), "{all:?}");
    assert!(
        div[0].3.starts_with("overlay prod: ") && expected(&div[0].3),
        "{}",
        div[0].3
    );
}

/// A variant of prod that sits in dev's directory (`k8s/overlays/dev/prod-canary`, wrapping
/// `../../prod`): the release gate kept a finding inside another environment's directory only
/// when the gated environment's own build read that file, so prod's gate dropped the variant's
/// `render-failed` and its divergences located on its kustomization, and dev's gate, which does
/// not render prod's variants, never saw them either. A generator field spelled in another case
/// (kustomize decodes it, the model does not; its `overlay-not-modelled` warning allowed) makes
/// the variant render a ConfigMap its model lacks.
#[test]
fn a_variant_in_another_environments_directory_is_gated_with_its_environment() {
    if common::kubectl().is_none() {
        return;
    }
    let tmp = shipped_k8s_without_env_files();
    let root = tmp.path();
    let variant = "k8s/overlays/dev/prod-canary/kustomization.yaml";
    write(
        root,
        variant,
        "resources:\n  - ../../prod\n# emp-seal:allow overlay-not-modelled -- the release gate compares the render\nconfigMapgenerator:\n  - name: canary\n    literals: [MODE=canary]\n",
    );
    let json = |args: &[&str]| {
        let out = check(root, &[args, &["--format", "json"]].concat());
        (out.status.code(), findings(&out))
    };
    let (code, all) = json(&["--release", "prod"]);
    assert_eq!(code, Some(1), "{all:?}");
    let div = of_rule(&all, "model-divergence");
    assert_eq!(div.len(), 1, "{all:?}");
    let (_, path, line, message) = div[0];
    assert_eq!((path.as_str(), *line), (variant, 1), "{message}");
    assert!(
        message.starts_with("overlay prod, variant `k8s/overlays/dev/prod-canary`: ")
            && message.contains("kubectl kustomize renders ConfigMap `canary-")
            && message.ends_with("which the model does not have"),
        "{message}"
    );
    // A variant kubectl cannot build: its render-failed is prod's too.
    write(
        root,
        variant,
        "resources:\n  - ../../prod\ncomponents:\n  - gone\n",
    );
    let (code, all) = json(&["--release", "prod"]);
    let failed = of_rule(&all, "render-failed");
    assert_eq!((code, failed.len()), (Some(1), 1), "{all:?}");
    assert_eq!((failed[0].1.as_str(), failed[0].2), (variant, 1));
    // dev's gate renders dev alone: prod's variant is not reported under it.
    let (_, all) = json(&["--release", "dev"]);
    assert!(of_rule(&all, "render-failed").is_empty(), "{all:?}");
}

const REFS_BASE: &str = "apiVersion: v1
kind: ServiceAccount
metadata:
  name: runner
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: reports
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
";

/// A `StatefulSet` naming a PVC, a ConfigMap, a ServiceAccount and an image pull Secret.
fn refs_tree(claim: &str, config: &str, account: &str, pull: &str) -> Option<tempfile::TempDir> {
    let workload = format!(
        "apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: worker
spec:
  serviceName: worker
  template:
    spec:
      serviceAccountName: {account}
      imagePullSecrets:
        - name: {pull}
      containers:
        - name: worker
          image: worker:1
          envFrom:
            - configMapRef:
                name: {config}
      volumes:
        - name: reports
          persistentVolumeClaim:
            claimName: {claim}
"
    );
    repo(&[
        ("k8s/overlays/dev/base.yaml", REFS_BASE),
        ("k8s/overlays/dev/worker.yaml", &workload),
        (
            "k8s/overlays/dev/kustomization.yaml",
            "namespace: emp-dev\nresources:\n  - base.yaml\n  - worker.yaml\n",
        ),
    ])
}

fn dangling(out: &Output) -> Vec<(u64, String)> {
    of_rule(&findings(out), "dangling-reference")
        .into_iter()
        .map(|f| (f.2, f.3.clone()))
        .collect()
}

#[test]
fn issue_14_dangling_pvc_configmap_service_account_and_pull_secret() {
    let Some(t) = refs_tree("reprots", "app-confg", "runer", "regcred") else {
        return;
    };
    let out = check(t.path(), &["--format", "json", "--render=never"]);
    assert_eq!(out.status.code(), Some(1));
    let got = dangling(&out);
    let expect = [
        (9, "ServiceAccount `runer`"),
        (11, "Secret `regcred`"),
        (17, "ConfigMap `app-confg`"),
        (21, "PersistentVolumeClaim `reprots`"),
    ];
    assert_eq!(got.len(), expect.len(), "{got:?}");
    for ((line, message), (want_line, names)) in got.iter().zip(expect) {
        assert_eq!(*line, want_line, "{message}");
        assert!(
            message.contains(&format!("StatefulSet `worker` names {names}"))
                && message.contains("namespace emp-dev"),
            "{message}"
        );
    }

    // The twin names what exists (and `default`-style run-time objects): clean.
    let Some(ok) = refs_tree("reports", "app-config", "runner", "argocd-redis") else {
        return;
    };
    let out = check(ok.path(), &["--format", "json", "--render=never"]);
    assert_eq!(dangling(&out), []);
    assert_eq!(out.status.code(), Some(0));
    let Some(ok) = refs_tree("reports", "kube-root-ca.crt", "default", "argocd-redis") else {
        return;
    };
    let out = check(ok.path(), &["--format", "json", "--render=never"]);
    assert_eq!(dangling(&out), []);

    // The real render reads the same references the model does.
    if common::kubectl().is_some() {
        let out = check(t.path(), &["--format", "json", "--render=always"]);
        let all = findings(&out);
        assert!(of_rule(&all, "model-divergence").is_empty(), "{all:?}");
        assert!(of_rule(&all, "render-failed").is_empty(), "{all:?}");
        assert_eq!(dangling(&out).len(), 4);
    }
}

#[test]
fn issue_14_runtime_secrets_are_allowed_by_flag_env_certificate_and_suppression() {
    let Some(t) = refs_tree("reports", "app-config", "runner", "regcred") else {
        return;
    };
    let base = ["--format", "json", "--render=never"];
    assert_eq!(dangling(&check(t.path(), &base)).len(), 1);
    // The flag (repeatable) and the environment variable (comma-separated).
    let out = check(
        t.path(),
        &[
            &base[..],
            &[
                "--allow-runtime-secret",
                "other",
                "--allow-runtime-secret",
                "regcred",
            ],
        ]
        .concat(),
    );
    assert_eq!(dangling(&out), []);
    assert_eq!(out.status.code(), Some(0));
    let out = bin()
        .env("EMP_SEAL_ALLOW_RUNTIME_SECRETS", "other,regcred")
        .arg("-C")
        .arg(t.path())
        .arg("check")
        .args(base)
        .output()
        .unwrap();
    assert_eq!(dangling(&out), []);
    // Another name does not allow it.
    let out = check(
        t.path(),
        &[&base[..], &["--allow-runtime-secret", "regcreds"]].concat(),
    );
    assert_eq!(dangling(&out).len(), 1);

    // A cert-manager Certificate in the overlay creates its secretName.
    let cert = "apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: registry
spec:
  secretName: regcred
  dnsNames: [registry.example.internal]
  issuerRef:
    name: ca
";
    write(t.path(), "k8s/overlays/dev/cert.yaml", cert);
    write(
        t.path(),
        "k8s/overlays/dev/kustomization.yaml",
        "namespace: emp-dev\nresources:\n  - base.yaml\n  - worker.yaml\n  - cert.yaml\n",
    );
    git(t.path(), &["add", "-A"]);
    assert_eq!(dangling(&check(t.path(), &base)), []);

    // The inline suppression keeps the finding, suppressed.
    let Some(s) = refs_tree("reports", "app-config", "runner", "regcred") else {
        return;
    };
    let path = s.path().join("k8s/overlays/dev/worker.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "        - name: regcred\n",
        "        - name: regcred  # emp-seal:allow dangling-reference -- made by the registry operator\n",
    );
    std::fs::write(&path, text).unwrap();
    let out = check(s.path(), &base);
    assert_eq!(dangling(&out), []);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["suppressed"], 1);
}

#[test]
fn issue_14_every_pod_template_kind_is_read() {
    let pod = |claim: &str| {
        format!(
            "spec:\n  containers:\n    - name: c\n      image: c:1\n  volumes:\n    - name: v\n      persistentVolumeClaim:\n        claimName: {claim}\n"
        )
    };
    let indent = |text: String, by: usize| {
        text.lines()
            .map(|l| format!("{}{l}\n", " ".repeat(by)))
            .collect::<String>()
    };
    let mut docs = Vec::new();
    for kind in [
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
    ] {
        let group = if kind == "Job" { "batch/v1" } else { "apps/v1" };
        docs.push(format!(
            "apiVersion: {group}\nkind: {kind}\nmetadata:\n  name: w\nspec:\n  template:\n{}",
            indent(pod(&format!("gone-{}", kind.to_lowercase())), 4)
        ));
    }
    docs.push(format!(
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: w\nspec:\n  schedule: \"0 1 * * *\"\n  jobTemplate:\n    spec:\n      template:\n{}",
        indent(pod("gone-cronjob"), 8)
    ));
    docs.push(format!(
        "apiVersion: keda.sh/v1alpha1\nkind: ScaledJob\nmetadata:\n  name: w\nspec:\n  jobTargetRef:\n    template:\n{}",
        indent(pod("gone-scaledjob"), 6)
    ));
    docs.push(format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: w\n{}",
        pod("gone-pod")
    ));
    let Some(t) = repo(&[
        ("k8s/overlays/dev/workloads.yaml", &docs.join("---\n")),
        (
            "k8s/overlays/dev/kustomization.yaml",
            "namespace: emp-dev\nresources:\n  - workloads.yaml\n",
        ),
    ]) else {
        return;
    };
    let out = check(t.path(), &["--format", "json", "--render=never"]);
    let got: BTreeSet<String> = dangling(&out)
        .into_iter()
        .map(|(_, m)| m.split('`').nth(3).unwrap().to_owned())
        .collect();
    let want: BTreeSet<String> = [
        "deployment",
        "statefulset",
        "daemonset",
        "replicaset",
        "job",
        "cronjob",
        "scaledjob",
        "pod",
    ]
    .map(|k| format!("gone-{k}"))
    .into();
    assert_eq!(got, want);
    if common::kubectl().is_some() {
        let out = check(t.path(), &["--format", "json", "--render=always"]);
        let all = findings(&out);
        assert!(of_rule(&all, "model-divergence").is_empty(), "{all:?}");
        assert!(of_rule(&all, "render-failed").is_empty(), "{all:?}");
    }
}

/// Without kubectl, `kustomize build DIR` is used. Standalone kustomize is not installed here,
/// so a `kustomize` shim that insists on the `build DIR` form runs the kustomize built into the
/// real kubectl (same library, same messages).
#[test]
fn issue_14_kustomize_build_is_used_when_kubectl_is_absent() {
    let Some(t) = dev_repo("resources:\n  - deploy.yaml\n  - not-there.yaml\n") else {
        return;
    };
    let Some(kubectl) = common::kubectl() else {
        return;
    };
    let bin_dir = git_only_path();
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = build ] && [ $# -eq 2 ] || {{ echo \"shim: unexpected arguments: $*\" >&2; exit 99; }}\nexec {} kustomize \"$2\"\n",
        kubectl.display()
    );
    shim(bin_dir.path(), "kustomize", &script);
    let out = common::output_with_code(
        bin()
            .env("PATH", bin_dir.path())
            .arg("-C")
            .arg(t.path())
            .args(["check", "--render=always", "--format", "json"]),
        1,
    );
    let all = findings(&out);
    let failed = of_rule(&all, "render-failed");
    assert_eq!(failed.len(), 1, "{all:?}");
    assert!(
        failed[0]
            .3
            .contains("`kustomize build k8s/overlays/dev` failed")
            && failed[0].3.contains("not-there.yaml"),
        "{}",
        failed[0].3
    );
}

/// A tool killed by a signal (a crash, the OOM killer) says nothing: `render-failed` gave an
/// empty reason. It names the signal now. The kubectl here is a shim that kills itself (a live
/// crash cannot be arranged).
#[test]
fn a_render_tool_killed_by_a_signal_is_named_so() {
    let Some(t) = dev_repo("resources:\n  - deploy.yaml\n") else {
        return;
    };
    let bin_dir = git_only_path();
    shim(bin_dir.path(), "kubectl", "#!/bin/sh\nkill -9 $$\n");
    let out = common::output_with_code(
        bin()
            .env("PATH", bin_dir.path())
            .arg("-C")
            .arg(t.path())
            .args(["check", "--render=always", "--format", "json"]),
        1,
    );
    let all = findings(&out);
    let failed = of_rule(&all, "render-failed");
    assert_eq!(failed.len(), 1, "{all:?}");
    assert!(
        failed[0].3.contains("was killed by signal 9"),
        "{}",
        failed[0].3
    );
}

/// A service-account token Secret gets its keys from the token controller at run time.
#[test]
fn issue_14_service_account_token_keys_are_filled_at_run_time() {
    let tree = |kind_type: &str| {
        let secret = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: runner-token\n  annotations:\n    kubernetes.io/service-account.name: runner\ntype: {kind_type}\n"
        );
        let deploy = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: app
          image: app:1
          env:
            - name: TOKEN
              valueFrom:
                secretKeyRef:
                  name: runner-token
                  key: token
";
        repo(&[
            ("k8s/overlays/dev/secret.yaml", &secret),
            ("k8s/overlays/dev/deploy.yaml", deploy),
            (
                "k8s/overlays/dev/kustomization.yaml",
                "namespace: emp-dev\nresources:\n  - secret.yaml\n  - deploy.yaml\n",
            ),
        ])
    };
    let missing = |t: &tempfile::TempDir| {
        let out = check(t.path(), &["--format", "json", "--render=never"]);
        of_rule(&findings(&out), "missing-secret-key").len()
    };
    let Some(token) = tree("kubernetes.io/service-account-token") else {
        return;
    };
    assert_eq!(missing(&token), 0);
    let Some(opaque) = tree("Opaque") else { return };
    assert_eq!(
        missing(&opaque),
        1,
        "an Opaque Secret without the key still misses it"
    );
}
