//! The real pre-commit (PyPI, `.venv-tools/bin/pre-commit`) installs this repository's hooks
//! (`.pre-commit-hooks.yaml`, `language: rust`, so `cargo install` of a copy of the working
//! tree) into a temp user repository, blocks commits that stage a placeholder SealedSecret or a
//! plaintext Secret, and lets a clean commit through.
//!
//! `cargo install` builds in release (unoptimised here through `CARGO_PROFILE_RELEASE_*`);
//! `CARGO_TARGET_DIR` points at target/precommit-cache so later runs reuse the build. `PRE_COMMIT_HOME` is a temp dir.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::Path;
use std::process::{Command, Output};

use crate::common;

fn git(dir: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A git repository holding the working copies of every file `git ls-files` lists here.
fn hook_repo(dst: &Path) -> String {
    let root = common::repo_root();
    let list = ok(&git(
        &root,
        &[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ],
    ));
    for rel in list.split('\0').filter(|s| !s.is_empty()) {
        let src = root.join(rel);
        if !src.is_file() {
            continue; // deleted in the working tree
        }
        let to = dst.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&src, &to).unwrap();
    }
    ok(&git(dst, &["init", "-q"]));
    ok(&git(dst, &["add", "-A"]));
    ok(&git(dst, &["commit", "-q", "--no-verify", "-m", "hooks"]));
    ok(&git(dst, &["rev-parse", "HEAD"])).trim().to_owned()
}

const KUSTOMIZATION: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: app\nresources:\n  - config.yaml\n";
const CONFIG: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  LOG_LEVEL: info\n";

/// A user repository with pre-commit installed, using `hooks` of this repository's
/// `.pre-commit-hooks.yaml`, holding overlay `app` (a ConfigMap); nothing committed yet.
struct UserRepo {
    user: tempfile::TempDir,
    home: tempfile::TempDir,
    hooks: tempfile::TempDir,
}

impl UserRepo {
    fn new(hooks: &[&str]) -> Option<Self> {
        let Some(pre_commit) = common::tool("pre-commit") else {
            common::missing("pre-commit in .venv-tools");
            return None;
        };
        if common::which("git").is_none() || common::which("cargo").is_none() {
            common::missing("git and cargo");
            return None;
        }
        let repo = UserRepo {
            user: tempfile::tempdir().unwrap(),
            home: tempfile::tempdir().unwrap(),
            hooks: tempfile::tempdir().unwrap(),
        };
        let sha = hook_repo(repo.hooks.path());
        let u = repo.user.path();
        ok(&git(u, &["init", "-q"]));
        let ids: String = hooks.iter().map(|h| format!("      - id: {h}\n")).collect();
        write(
            u,
            ".pre-commit-config.yaml",
            &format!(
                "repos:\n  - repo: {}\n    rev: {sha}\n    hooks:\n{ids}",
                repo.hooks.path().display()
            ),
        );
        write(u, "k8s/overlays/app/kustomization.yaml", KUSTOMIZATION);
        write(u, "k8s/overlays/app/config.yaml", CONFIG);
        let out = Command::new(&pre_commit)
            .current_dir(u)
            .arg("install")
            .env("PRE_COMMIT_HOME", repo.home.path())
            .output()
            .unwrap();
        ok(&out);
        Some(repo)
    }

    fn path(&self) -> &Path {
        self.user.path()
    }

    /// `git commit` of what is staged, running the installed hooks.
    fn commit(&self, msg: &str) -> Output {
        Command::new("git")
            .current_dir(self.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(["commit", "-q", "-m", msg])
            .env("PRE_COMMIT_HOME", self.home.path())
            .env(
                "CARGO_TARGET_DIR",
                common::repo_root().join("target/precommit-cache"),
            )
            .env_remove("NO_COLOR")
            // `cargo install` builds the release profile; the hook's behaviour does not depend on
            // optimisation, so the test builds it unoptimised (about 6x faster on 2 cores).
            .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
            .env("CARGO_PROFILE_RELEASE_LTO", "false")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256")
            .output()
            .unwrap()
    }
}

#[test]
fn hooks_block_placeholders_and_plaintext_and_pass_clean_commits() {
    let Some(repo) = UserRepo::new(&["emp-seal-check", "emp-seal-placeholders"]) else {
        return;
    };
    let u = repo.path();
    let commit = |msg: &str| repo.commit(msg);

    // Clean: passes (and builds the hook environment). The hooks are verbose: a passing run's
    // summary (and its notes, when it has any) is shown, not only a failing one's.
    ok(&git(u, &["add", "-A"]));
    let out = commit("clean");
    ok(&out);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("no findings in"), "{text}");

    // A placeholder SealedSecret is blocked.
    write(
        u,
        "k8s/overlays/app/sealedsecret.yaml",
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: s\n  namespace: app\nspec:\n  encryptedData:\n    TOKEN: AgAAAAAAAAAA...REPLACE_ME\n",
    );
    ok(&git(u, &["add", "-A"]));
    blocked(&commit("placeholder"), "placeholder-ciphertext");
    ok(&git(
        u,
        &["rm", "-q", "--cached", "k8s/overlays/app/sealedsecret.yaml"],
    ));
    std::fs::remove_file(u.join("k8s/overlays/app/sealedsecret.yaml")).unwrap();

    // A plaintext Secret anywhere is blocked.
    write(
        u,
        "deploy/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  TOKEN: test-only-value\n",
    );
    ok(&git(u, &["add", "-A"]));
    let text = blocked(&commit("plaintext"), "plaintext-secret");
    assert!(!text.contains("test-only-value"), "value leaked: {text}");
    ok(&git(u, &["rm", "-q", "--cached", "deploy/secret.yaml"]));
    std::fs::remove_file(u.join("deploy/secret.yaml")).unwrap();

    // A placeholder in a JSON SealedSecret (kubeseal's default output) is blocked too.
    write(
        u,
        "k8s/overlays/app/sealedsecret.json",
        r#"{"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "s", "namespace": "app"}, "spec": {"encryptedData": {"TOKEN": "AgAAAAAAAAAA...REPLACE_ME"}}}"#,
    );
    ok(&git(u, &["add", "-A"]));
    blocked(&commit("json placeholder"), "placeholder-ciphertext");
    ok(&git(
        u,
        &["rm", "-q", "--cached", "k8s/overlays/app/sealedsecret.json"],
    ));
    std::fs::remove_file(u.join("k8s/overlays/app/sealedsecret.json")).unwrap();

    // So is a private key, whatever directory it sits in.
    write(u, "backup/main.key", &crate::fixtures::key_pem(2048));
    ok(&git(u, &["add", "-A"]));
    blocked(&commit("private key"), "committed-private-key");
    ok(&git(u, &["rm", "-q", "--cached", "backup/main.key"]));
    std::fs::remove_file(u.join("backup/main.key")).unwrap();

    // Files whose names no extension filter knows are still checked: a kustomization named
    // `Kustomization` (kustomize reads it) with a literal secret, and a tracked env file a
    // generator reads under another name than `.env`.
    std::fs::remove_file(u.join("k8s/overlays/app/kustomization.yaml")).unwrap();
    write(
        u,
        "k8s/overlays/app/Kustomization",
        &format!(
            "{KUSTOMIZATION}secretGenerator:\n  - name: db\n    literals:\n      - password=test-only-value\n"
        ),
    );
    ok(&git(u, &["add", "-A"]));
    let text = blocked(&commit("literal"), "plaintext-secret");
    assert!(text.contains("Kustomization"), "{text}");
    assert!(!text.contains("test-only-value"), "value leaked: {text}");
    write(
        u,
        "k8s/overlays/app/Kustomization",
        &format!(
            "{KUSTOMIZATION}secretGenerator:\n  - name: db\n    envs:\n      - secrets.properties\n"
        ),
    );
    write(
        u,
        "k8s/overlays/app/secrets.properties.example",
        "DB_PASSWORD=\n",
    );
    write(
        u,
        "k8s/overlays/app/secrets.properties",
        "DB_PASSWORD=test-only-value\n",
    );
    ok(&git(u, &["add", "-A"]));
    let text = blocked(&commit("properties"), "plaintext-secret");
    assert!(text.contains("secrets.properties"), "{text}");
    assert!(!text.contains("test-only-value"), "value leaked: {text}");
    ok(&git(u, &["rm", "-q", "-r", "--cached", "k8s/overlays/app"]));
    for f in [
        "Kustomization",
        "secrets.properties",
        "secrets.properties.example",
    ] {
        std::fs::remove_file(u.join("k8s/overlays/app").join(f)).unwrap();
    }
    write(u, "k8s/overlays/app/kustomization.yaml", KUSTOMIZATION);
    ok(&git(u, &["add", "-A"]));

    // Another clean change passes.
    write(
        u,
        "k8s/overlays/app/config.yaml",
        &CONFIG.replace("info", "debug"),
    );
    ok(&git(u, &["add", "-A"]));
    ok(&commit("clean again"));
}

/// Asserts that a `git commit` was refused by a hook reporting `rule`; returns its output.
fn blocked(out: &Output, rule: &str) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "{rule}: the commit went through: {text}"
    );
    assert!(text.contains(rule), "{text}");
    text
}

/// A commit's problem shows where the tree breaks, which need not be a file it stages:
/// pre-commit passes no deleted file and skips a hook with no file to check, so each hook checks
/// the whole tree (`always_run`, `pass_filenames: false`). Deleting or renaming a resource the
/// kustomization lists, alone or beside an unrelated change, is blocked (`kubectl kustomize`
/// fails on each: accumulating resources, no such file); so is a commit that lacks a file the
/// kustomization lists (never added, or `git rm --cached`), which the working tree still has.
#[test]
fn commits_that_delete_or_rename_what_an_overlay_reads_are_blocked() {
    let Some(repo) = UserRepo::new(&["emp-seal-check"]) else {
        return;
    };
    let u = repo.path();
    ok(&git(u, &["add", "-A"]));
    ok(&repo.commit("clean"));
    let config = "k8s/overlays/app/config.yaml";
    let undo = || ok(&git(u, &["reset", "-q", "--hard", "HEAD"]));

    // Only a deletion: no file for pre-commit to pass.
    ok(&git(u, &["rm", "-q", config]));
    let text = blocked(&repo.commit("delete"), "overlay-build-error");
    assert!(text.contains("kustomization.yaml"), "{text}");
    undo();

    // A deletion beside an unrelated staged file.
    ok(&git(u, &["rm", "-q", config]));
    write(u, "README.md", "app\n");
    ok(&git(u, &["add", "README.md"]));
    blocked(&repo.commit("delete and readme"), "overlay-build-error");
    undo(); // also removes the staged README.md

    // A rename: only the new name is staged as added.
    ok(&git(u, &["mv", config, "k8s/overlays/app/cfg.yaml"]));
    blocked(&repo.commit("rename"), "overlay-build-error");
    undo();

    // A resource written and listed but never `git add`ed: the working tree builds, the commit
    // does not hold the file.
    let extra = "k8s/overlays/app/extra.yaml";
    write(u, extra, &CONFIG.replace("name: app", "name: extra"));
    let listed = format!("{KUSTOMIZATION}  - extra.yaml\n");
    write(u, "k8s/overlays/app/kustomization.yaml", &listed);
    ok(&git(u, &["add", "k8s/overlays/app/kustomization.yaml"]));
    let text = blocked(
        &repo.commit("list an unadded file"),
        "untracked-build-input",
    );
    assert!(text.contains(extra), "{text}");
    ok(&git(u, &["add", extra]));
    ok(&repo.commit("with the file"));
    // Taken out of the index with `git rm --cached`, still on disk.
    ok(&git(u, &["rm", "-q", "--cached", extra]));
    blocked(&repo.commit("unindex"), "untracked-build-input");
    undo();
    if common::kubectl().is_some() {
        std::fs::remove_file(u.join(config)).unwrap();
        let out = common::kustomize_raw(&u.join("k8s/overlays/app"));
        assert!(
            !out.status.success(),
            "kubectl builds the overlay without its resource"
        );
        undo();
    }
}
