//! Files and environments `check` must not pass over in silence: resource and patch files whose
//! names are not YAML names (kustomize reads them as YAML all the same), an environment whose
//! kustomization cannot be read, a config glob that matches nothing, a kustomization that is
//! not UTF-8, and the positions of many findings in one file.
//!
//! Every tree is written into a temp git repository and checked by the real binary; where what
//! kustomize reads matters, the real `kubectl kustomize` is the oracle.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::Path;

use crate::common::{self, check_hits, line_of, of, write};
use crate::gate::{BASE_KUSTOMIZATION, DEPLOYMENT};

const SEALED: &str = "\
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: app-secrets
  namespace: app-prod
spec:
  encryptedData:
    API_KEY: REPLACE_ME
  template:
    metadata:
      name: app-secrets
      namespace: app-prod
";

/// A base Deployment reading Secret `app-secrets` and the files given, in a temp git
/// repository with every file staged (`None` when git is missing outside CI).
fn tree(files: &[(&str, &str)]) -> Option<tempfile::TempDir> {
    if common::which("git").is_none() {
        common::missing("git");
        return None;
    }
    let t = tempfile::tempdir().unwrap();
    let root = t.path();
    write(root, "k8s/base/kustomization.yaml", BASE_KUSTOMIZATION);
    write(root, "k8s/base/deployment.yaml", DEPLOYMENT);
    for (rel, text) in files {
        write(root, rel, text);
    }
    common::git(root, &["init", "-q"]);
    common::git(root, &["add", "-A"]);
    Some(t)
}

/// The real `kubectl kustomize` output for `dir` (repo-relative), or `None` when kubectl is
/// missing outside CI.
fn kubectl_render(root: &Path, dir: &str) -> Option<std::process::Output> {
    common::kubectl()?;
    Some(common::kustomize_raw(&root.join(dir)))
}

/// The `summary` of a `check --format json` run's report.
fn summary(root: &Path, args: &[&str]) -> serde_json::Value {
    let out = common::emp_seal()
        .arg("-C")
        .arg(root)
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["summary"].clone()
}

/// The files checked, from a `check --format json` run's report.
fn files_checked(root: &Path, args: &[&str]) -> u64 {
    summary(root, args)["files_checked"].as_u64().unwrap()
}

/// kustomize reads every resource and patch file as YAML whatever its name: a SealedSecret in
/// `sealedsecret.txt`, a Secret in `db-secret` (no extension) and in `Extra.YAML`, and a
/// patch `ss-patch` writing a plaintext value are all in kubectl's render, so the file rules
/// read them too (and count them).
#[test]
fn resource_and_patch_files_are_read_whatever_their_names() {
    let db = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2xyz\n";
    let extra = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: extra\nstringData:\n  token: extratoken9\n";
    let patch =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  user: patcheduser7\n";
    let kust = "\
namespace: app-prod
resources:
  - ../../base
  - sealedsecret.txt
  - db-secret
  - Extra.YAML
patches:
  - path: ss-patch
";
    let overlay = "k8s/overlays/prod";
    let files = [
        ("k8s/overlays/prod/kustomization.yaml", kust),
        ("k8s/overlays/prod/sealedsecret.txt", SEALED),
        ("k8s/overlays/prod/db-secret", db),
        ("k8s/overlays/prod/Extra.YAML", extra),
        ("k8s/overlays/prod/ss-patch", patch),
    ];
    let Some(t) = tree(&files) else { return };
    let root = t.path();
    if let Some(out) = kubectl_render(root, overlay) {
        let render = String::from_utf8_lossy(&out.stdout);
        for value in ["REPLACE_ME", "hunter2xyz", "extratoken9", "patcheduser7"] {
            assert!(render.contains(value), "kubectl renders {value}:\n{render}");
        }
    }
    for args in [&[][..], &["--release", "prod"][..]] {
        let (code, hits) = check_hits(root, args);
        assert_eq!(code, 1, "{hits:#?}");
        let plain: Vec<(&str, u64)> = of(&hits, "plaintext-secret")
            .iter()
            .map(|h| (h.path.as_str(), h.line))
            .collect();
        for (file, line) in [("db-secret", 5), ("Extra.YAML", 5), ("ss-patch", 5)] {
            let path = format!("{overlay}/{file}");
            assert!(plain.contains(&(path.as_str(), line)), "{path}: {hits:#?}");
        }
        let placeholder = of(&hits, "placeholder-ciphertext");
        let path = format!("{overlay}/sealedsecret.txt");
        assert!(
            placeholder
                .iter()
                .any(|h| h.path == path && h.line == line_of(root, &path, "REPLACE_ME")),
            "{hits:#?}"
        );
    }
    // The five overlay files and the base's two.
    assert_eq!(files_checked(root, &[]), 7);
}

/// Runs `emp-seal -C ROOT ARGS`: exit code, stdout and stderr.
fn run(root: &Path, args: &[&str]) -> (i32, String, String) {
    let out = common::emp_seal()
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Sets up an overlay directory's kustomization.
type MakeStage = dyn Fn(&Path);

/// A tree with environment `prod` (conventional place, a placeholder SealedSecret) and
/// environment `stage` next to it, whose kustomization `make_stage` sets up.
fn two_overlays(make_stage: &MakeStage) -> Option<tempfile::TempDir> {
    let prod = "namespace: app-prod\nresources:\n  - ../../base\n  - sealedsecret.yaml\n";
    let t = tree(&[
        ("k8s/overlays/prod/kustomization.yaml", prod),
        ("k8s/overlays/prod/sealedsecret.yaml", SEALED),
        ("k8s/overlays/stage/sealedsecret.yaml", SEALED),
    ])?;
    make_stage(&t.path().join("k8s/overlays/stage"));
    common::git(t.path(), &["add", "-A"]);
    Some(t)
}

/// An environment whose kustomization.yaml cannot be read (a symlink to a file that is not
/// there, a symlink loop, a directory of that name) is one kubectl cannot build; `check` fails
/// with exit 2 naming the file and why, as docs/check.md says of a kustomization that cannot be
/// read, instead of dropping the environment and passing; `config` still lists it.
#[test]
fn an_environment_whose_kustomization_cannot_be_read_exits_2() {
    const KFILE: &str = "kustomization.yaml";
    let cases: [(&str, &MakeStage); 3] = [
        ("is not there", &|d: &Path| {
            std::os::unix::fs::symlink("../../shared/stage.yaml", d.join(KFILE)).unwrap();
        }),
        ("symlink loop", &|d: &Path| {
            std::os::unix::fs::symlink("loop-b.yaml", d.join(KFILE)).unwrap();
            std::os::unix::fs::symlink(KFILE, d.join("loop-b.yaml")).unwrap();
        }),
        ("directory", &|d: &Path| {
            write(d, &format!("{KFILE}/resources.yaml"), "resources: []\n");
        }),
    ];
    for (why, make) in cases {
        let Some(t) = two_overlays(make) else { return };
        let root = t.path();
        if let Some(out) = kubectl_render(root, "k8s/overlays/stage") {
            assert!(!out.status.success(), "kubectl builds it ({why})");
        }
        let (code, _, err) = run(root, &["check"]);
        assert_eq!(code, 2, "{why}: {err}");
        assert!(
            err.contains("k8s/overlays/stage/kustomization.yaml") && err.contains(why),
            "{why}: {err}"
        );
        let (code, out, err) = run(root, &["config"]);
        assert_eq!(code, 0, "{why}: {err}");
        assert!(out.contains("k8s/overlays/stage"), "{why}: {out}");
    }
}

/// An `environments` glob that matches no kustomization directory is a config error naming
/// the file, the line and the glob (exit 2), also when another glob finds environments: it
/// would otherwise drop the environments it was written for in silence.
#[test]
fn an_environments_glob_that_matches_nothing_is_a_config_error() {
    let prod = "namespace: app-prod\nresources:\n  - ../../base\n  - sealedsecret.yaml\n";
    let cases = [
        "environments = [\n  \"k8s/overlays/*\",\n  \"app/*/overlays/*\",\n]\n",
        "environments = [\n  \"app/*/overlays/*\",\n  \"k8s/overlays/*\",\n]\n",
        "environments = [\n  \"k8s/overlay/*\",\n  \"app/*/overlays/*\",\n]\n",
        "environments = [\n  'k8s/overlays/*',\n  'app/*/overlays/*',\n]\n",
    ];
    for config in cases {
        let Some(t) = tree(&[
            ("k8s/overlays/prod/kustomization.yaml", prod),
            ("k8s/overlays/prod/sealedsecret.yaml", SEALED),
            ("apps/api/overlays/prod/kustomization.yaml", prod),
            ("apps/api/overlays/prod/sealedsecret.yaml", SEALED),
            ("emp-seal.toml", config),
        ]) else {
            return;
        };
        let root = t.path();
        let glob = if config.contains("k8s/overlay/*") {
            "k8s/overlay/*"
        } else {
            "app/*/overlays/*"
        };
        // A TOML string in single quotes (a literal string) is found at its line too.
        let q = if config.contains('\'') { '\'' } else { '"' };
        let line = line_of(root, "emp-seal.toml", &format!("{q}{glob}{q}"));
        for args in [&["check"][..], &["config"][..]] {
            let (code, _, err) = run(root, args);
            assert_eq!(code, 2, "{args:?} {config}: {err}");
            let at = format!("emp-seal.toml:{line}:");
            assert!(err.contains(&at) && err.contains(glob), "{err}");
        }
    }
    // Every glob matching: no error.
    let Some(t) = tree(&[
        ("k8s/overlays/prod/kustomization.yaml", prod),
        ("k8s/overlays/prod/sealedsecret.yaml", SEALED),
        ("emp-seal.toml", "environments = [\"k8s/overlays/*\"]\n"),
    ]) else {
        return;
    };
    let (code, _, err) = run(t.path(), &["check"]);
    assert_eq!(code, 1, "{err}");
}

/// The repository root is the environment `.` (as `config` names it), and the glob `.` picks
/// it: a kustomization there, or a directory without one that a Flux Kustomization deploys
/// (`path: ./`). The glob used to be compared with `""`, and was a config error ("matches no
/// directory") for both.
#[test]
fn the_glob_dot_names_the_repository_root() {
    let flux = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";
    let cases = [
        ("kustomization.yaml", "resources:\n  - k8s/base\n"),
        ("clusters/apps.yaml", flux),
    ];
    for (file, text) in cases {
        let Some(t) = tree(&[(file, text), ("emp-seal.toml", "environments = [\".\"]\n")]) else {
            return;
        };
        let (code, out, err) = run(t.path(), &["config"]);
        assert_eq!(code, 0, "{file}: {err}");
        let dirs: Vec<&str> = (out.lines())
            .filter_map(|l| l.trim().strip_prefix("directory"))
            .map(str::trim)
            .collect();
        assert_eq!(dirs, ["."], "{file}: {out}");
    }
}

/// A kustomization with one byte that is not UTF-8 (Latin-1 `é` in a comment) is one kubectl
/// cannot build ("invalid Kustomization: yaml: ... UTF-8"): `overlay-build-error` says it is not
/// UTF-8, at the line of that byte, not that the file is empty.
#[test]
fn a_kustomization_that_is_not_utf8_is_named_so_at_its_line() {
    let Some(t) = tree(&[("k8s/overlays/prod/sealedsecret.yaml", SEALED)]) else {
        return;
    };
    let root = t.path();
    let mut text =
        b"namespace: app-prod\nresources:\n  - ../../base\n  - sealedsecret.yaml\n# caf".to_vec();
    text.extend([0xe9, b'\n']);
    std::fs::write(root.join("k8s/overlays/prod/kustomization.yaml"), text).unwrap();
    common::git(root, &["add", "-A"]);
    if let Some(out) = kubectl_render(root, "k8s/overlays/prod") {
        assert!(!out.status.success(), "kubectl builds it");
    }
    let (code, hits) = check_hits(root, &[]);
    assert_eq!(code, 1);
    let build = of(&hits, "overlay-build-error");
    assert_eq!(build.len(), 1, "{hits:#?}");
    assert_eq!(
        (build[0].path.as_str(), build[0].line),
        ("k8s/overlays/prod/kustomization.yaml", 5)
    );
    assert!(build[0].message.contains("not valid UTF-8"), "{hits:#?}");
    assert!(
        !hits.iter().any(|h| h.message.contains("empty")),
        "{hits:#?}"
    );
}

/// Many Secrets in one file, as the items of a `kind: List` and as separate documents: every
/// `plaintext-secret` and `readable-secret-data` finding is at its own Secret's `data:` line,
/// and an allow comment above the last one still suppresses it (findings are placed and
/// suppressed per file, not by scanning the file again for each).
#[test]
fn many_secrets_in_one_file_are_each_found_at_their_own_line() {
    const N: usize = 400;
    // "hunter2xyz", readable text in base64.
    let item = |i: usize, indent: &str, dash: &str, allow: &str| {
        format!(
            "{dash}apiVersion: v1\n{indent}kind: Secret\n{indent}metadata:\n{indent}  name: s{i}\n{allow}{indent}data:\n{indent}  p: aHVudGVyMnh5eg==\n"
        )
    };
    let mut list = String::from("apiVersion: v1\nkind: List\nitems:\n");
    let mut docs = String::new();
    for i in 0..N {
        list.push_str(&item(i, "  ", "- ", ""));
        let allow = if i + 1 == N {
            "# emp-seal:allow plaintext-secret fixture\n"
        } else {
            ""
        };
        docs.push_str(&item(i, "", "", allow));
        docs.push_str("---\n");
    }
    let prod = "namespace: app-prod\nresources:\n  - ../../base\n  - sealedsecret.yaml\n";
    let Some(t) = tree(&[
        ("k8s/overlays/prod/kustomization.yaml", prod),
        ("k8s/overlays/prod/sealedsecret.yaml", SEALED),
        ("backup/list.yaml", &list),
        ("backup/docs.yaml", &docs),
    ]) else {
        return;
    };
    let root = t.path();
    let (_, hits) = check_hits(root, &["--show-suppressed"]);
    for rule in ["plaintext-secret", "readable-secret-data"] {
        for file in ["backup/list.yaml", "backup/docs.yaml"] {
            let text = std::fs::read_to_string(root.join(file)).unwrap();
            let want: Vec<u64> = (1u64..)
                .zip(text.lines())
                .filter(|(_, l)| l.trim_start() == "data:")
                .map(|(n, _)| n + u64::from(rule == "readable-secret-data"))
                .collect();
            assert_eq!(want.len(), N);
            let mut got: Vec<(u64, bool)> = of(&hits, rule)
                .iter()
                .filter(|h| h.path == file)
                .map(|h| (h.line, h.suppressed))
                .collect();
            got.sort_unstable();
            let lines: Vec<u64> = got.iter().map(|g| g.0).collect();
            assert_eq!(lines, want, "{rule} in {file}");
            let suppressed: Vec<u64> = got.iter().filter(|g| g.1).map(|g| g.0).collect();
            let last = (want.last().copied())
                .filter(|_| file == "backup/docs.yaml" && rule == "plaintext-secret");
            assert_eq!(suppressed, Vec::from_iter(last), "{rule} in {file}");
        }
    }
}

/// The report names the environments it checked, so that a clean run says what it verified: the
/// shipped tree's overlays (listed from disk here), or the one `--release` gates.
#[test]
fn the_report_names_the_environments_checked() {
    let tree = crate::seal_support::Tree::new();
    let root = tree.root();
    let environments = |args: &[&str]| -> Vec<String> {
        let s = summary(root, args);
        let names = s["environments"].as_array().unwrap();
        names
            .iter()
            .map(|n| n.as_str().unwrap().to_owned())
            .collect()
    };
    let mut overlays: Vec<String> = std::fs::read_dir(root.join("k8s/overlays"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    overlays.sort();
    assert!(overlays.len() > 1, "{overlays:?}");
    assert_eq!(environments(&[]), overlays);
    assert_eq!(
        environments(&["--release", &overlays[1]]),
        [overlays[1].clone()]
    );
}
