//! What users read, under insta inline snapshots (issue 15 item 7): the `seal --dry-run`
//! listing, the seal summary, `cert`, `error:`/`help:` lines and the text report of `check`,
//! each produced by the real binary on a temp tree. A change in any of them shows up in review.
//!
//! Every run goes through [`run`], which scrubs the environment and replaces the temp directory
//! with `[TREE]`. Nothing here snapshots ciphertext (the seal tests decrypt it with the Python
//! peer instead). The certificates are committed fixtures, so their fingerprints and dates are
//! fixed; only "N days left", which moves with the clock, is redacted.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use crate::common;
use crate::seal_support::{SENTINEL, Tree, emp_seal_cmd, env_text, write_file};

/// Runs `emp-seal -C ROOT ARGS...` with `NO_COLOR`, `CI`, `SEALED_SECRETS_CERT`, `RUST_LOG` (and
/// every `EMP_SEAL_*` setting) removed and stdin closed, and returns exit code, stdout and
/// stderr as one text, with `ROOT` shown as `[TREE]` and the days left on a certificate as `[N]`.
/// Asserts that no secret value of [`env_text`] reached either stream.
fn run(root: &Path, args: &[&str]) -> String {
    let mut c = emp_seal_cmd();
    c.env_remove("CI").arg("-C").arg(root).args(args);
    let out = c.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    for s in [&stdout, &stderr] {
        assert!(!s.contains(SENTINEL), "a secret value leaked: {s}");
        assert!(!s.contains("panicked"), "{s}");
    }
    let text = format!(
        "exit: {}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        out.status
            .code()
            .map_or("signal".to_owned(), |c| c.to_string())
    );
    let mut text = text.replace(&root.display().to_string(), "[TREE]");
    if let Ok(real) = std::fs::canonicalize(root) {
        text = text.replace(&real.display().to_string(), "[TREE]");
    }
    redact_days_left(&text)
}

/// `(3645 days left)` -> `([N] days left)`: the only part of `cert` output that moves daily.
fn redact_days_left(text: &str) -> String {
    const TAIL: &str = " days left)";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(end) = rest.find(TAIL) {
        let head = &rest[..end];
        let start = head.rfind('(').map_or(end, |i| i + 1);
        if head[start..]
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-')
            && start < end
        {
            out.push_str(&head[..start]);
            out.push_str("[N]");
        } else {
            out.push_str(head);
        }
        out.push_str(TAIL);
        rest = &rest[end + TAIL.len()..];
    }
    out.push_str(rest);
    out
}

/// A temp copy of `k8s/` with the env file the seal tests use at `secrets.env`.
fn tree_with_env() -> Tree {
    let tree = Tree::new();
    tree.write("secrets.env", env_text());
    tree
}

#[test]
fn days_left_redaction_only_touches_the_count() {
    assert_eq!(
        redact_days_left("not after x (3645 days left)\n(a days left)\n(-2 days left)"),
        "not after x ([N] days left)\n(a days left)\n([N] days left)"
    );
}

/// A dry run says what the real run would do: after a seal with the current certificate every
/// value is current, so `reseal` (and `seal --key`, keeping every value) would leave the file
/// as it is, and the dry run says so rather than "would rewrite".
#[test]
fn dry_run_of_a_no_op_says_left_unchanged() {
    let tree = tree_with_env();
    let env = tree.path("secrets.env");
    let env = env.to_str().unwrap();
    let key = tree.write("key.pem", crate::seal_support::demo_key());
    let key = key.to_str().unwrap();
    assert!(run(tree.root(), &["seal", "paper", "--from", env, "-q"]).starts_with("exit: 0\n"));
    insta::assert_snapshot!(run(tree.root(), &["reseal", "paper", "--key", key, "--dry-run"]), @r"
        exit: 0
        --- stdout
        paper: would leave unchanged k8s/overlays/paper/sealedsecret.yaml
          old cert sha256 319d78e0460fa240da401f5ac4134ddeac37a95409aaed5e2f7b21f22ec3ccde
          new cert sha256 319d78e0460fa240da401f5ac4134ddeac37a95409aaed5e2f7b21f22ec3ccde (k8s/overlays/paper/sealing-cert.pem, 4096-bit, expires 2036-11-26T12:31:15Z)
          scope    strict emp-paper/emp-secrets
          resealed 0 key(s)
          current  API_KEY, POSTGRES_PASSWORD, REDIS_PASSWORD
        --- stderr
        note: paper: sealing with the DEMO certificate k8s/overlays/paper/sealing-cert.pem; replace it with your controller's (docs/certificates.md)
    ");
    insta::assert_snapshot!(
        run(tree.root(), &["seal", "paper", "--from", env, "--key", key, "--dry-run"]),
        @r"
        exit: 0
        --- stdout
        paper (strict emp-paper/emp-secrets): would leave unchanged k8s/overlays/paper/sealedsecret.yaml
          keep     API_KEY, POSTGRES_PASSWORD, REDIS_PASSWORD
        --- stderr
        note: paper: sealing with the DEMO certificate k8s/overlays/paper/sealing-cert.pem; replace it with your controller's (docs/certificates.md)
    "
    );
}

#[test]
fn seal_dry_run_listing() {
    let tree = tree_with_env();
    let env = tree.path("secrets.env");
    let env = env.to_str().unwrap();
    insta::assert_snapshot!(run(tree.root(), &["seal", "paper", "--from", env, "--dry-run"]), @r"
        exit: 0
        --- stdout
        paper (strict emp-paper/emp-secrets): would rewrite k8s/overlays/paper/sealedsecret.yaml
          seal     API_KEY, POSTGRES_PASSWORD, REDIS_PASSWORD
        --- stderr
        note: paper: sealing with the DEMO certificate k8s/overlays/paper/sealing-cert.pem; replace it with your controller's (docs/certificates.md)
    ");
    insta::assert_snapshot!(
        run(tree.root(), &["seal", "paper", "--from", env, "--dry-run", "--only", "API_KEY"]),
        @r"
        exit: 0
        --- stdout
        paper (strict emp-paper/emp-secrets): would rewrite k8s/overlays/paper/sealedsecret.yaml
          seal     API_KEY
          keep     POSTGRES_PASSWORD, REDIS_PASSWORD
        --- stderr
        note: paper: sealing with the DEMO certificate k8s/overlays/paper/sealing-cert.pem; replace it with your controller's (docs/certificates.md)
    "
    );
}

#[test]
fn seal_summary_then_clean_check() {
    let tree = tree_with_env();
    let env = tree.path("secrets.env");
    let before = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    insta::assert_snapshot!(run(tree.root(), &["seal", "paper", "--from", env.to_str().unwrap()]), @r"
        exit: 0
        --- stdout
        --- stderr
        note: paper: sealing with the DEMO certificate k8s/overlays/paper/sealing-cert.pem; replace it with your controller's (docs/certificates.md)
        paper: wrote k8s/overlays/paper/sealedsecret.yaml
          cert     k8s/overlays/paper/sealing-cert.pem (sha256 319d78e0460fa240da401f5ac4134ddeac37a95409aaed5e2f7b21f22ec3ccde, 4096-bit, expires 2036-11-26T12:31:15Z)
          scope    strict emp-paper/emp-secrets
          sealed   3 key(s)
          sealed   API_KEY, POSTGRES_PASSWORD, REDIS_PASSWORD
    ");
    assert_ne!(before, tree.read("k8s/overlays/paper/sealedsecret.yaml"));
    // The same tree once sealed: the placeholders are gone (not a git repository, said so).
    insta::assert_snapshot!(run(tree.root(), &["check"]), @r"
        exit: 0
        --- stdout
        no findings in 43 files; checked 3 environments: dev, paper, prod
        --- stderr
        note: not a git repository: tracked status is unknown; manifests and key files are checked as committed, env files and Secret generators' input files are not checked for being committed
    ");
}

#[test]
fn cert_of_the_demo_environment() {
    let tree = Tree::new();
    insta::assert_snapshot!(run(tree.root(), &["cert", "paper"]), @r"
        exit: 0
        --- stdout
        k8s/overlays/paper/sealing-cert.pem
          subject      CN=emp-seal DEMO sealing certificate (not a controller key),O=emp-seal demo
          key          RSA 4096 bits
          not before   2026-11-26T12:31:15Z
          not after    2036-11-26T12:31:15Z ([N] days left)
          sha256       319d78e0460fa240da401f5ac4134ddeac37a95409aaed5e2f7b21f22ec3ccde
          key sha256   SHA256:nZIkcbiNDZ4SFx1Tlmj67QJcr/8zDV9TOMQttBPlS2E
          demo         yes: its private key is public, so nothing sealed with it is secret
          used by      paper
          sealed       emp-paper/emp-secrets in k8s/overlays/paper/sealedsecret.yaml: not sealed yet (placeholders)
        --- stderr
    ");
}

#[test]
fn cert_of_every_environment() {
    let tree = Tree::new();
    std::fs::copy(
        common::repo_root().join("tests/fixtures/certs/rsa-2048-cert.pem"),
        tree.overlay("prod").join("sealing-cert.pem"),
    )
    .unwrap();
    insta::assert_snapshot!(run(tree.root(), &["cert"]), @r"
        exit: 0
        --- stdout
        k8s/overlays/paper/sealing-cert.pem
          subject      CN=emp-seal DEMO sealing certificate (not a controller key),O=emp-seal demo
          key          RSA 4096 bits
          not before   2026-11-26T12:31:15Z
          not after    2036-11-26T12:31:15Z ([N] days left)
          sha256       319d78e0460fa240da401f5ac4134ddeac37a95409aaed5e2f7b21f22ec3ccde
          key sha256   SHA256:nZIkcbiNDZ4SFx1Tlmj67QJcr/8zDV9TOMQttBPlS2E
          demo         yes: its private key is public, so nothing sealed with it is secret
          used by      paper
          sealed       emp-paper/emp-secrets in k8s/overlays/paper/sealedsecret.yaml: not sealed yet (placeholders)

        k8s/overlays/prod/sealing-cert.pem
          subject      O=emp-seal tests,CN=emp-seal TEST ONLY rsa-2048
          key          RSA 2048 bits
          not before   2026-11-26T12:31:12Z
          not after    2036-12-03T12:31:12Z ([N] days left)
          sha256       f4404089540fe1b407f9925841ab7ea877b7cb18aac0cacb981c5bda6152bc80
          key sha256   SHA256:ysLgXvZ7UjDX87lw8yP1WioH5pCHzztKlgkgGqD2qqM
          used by      prod
          sealed       emp-paper/emp-secrets in k8s/overlays/paper/sealedsecret.yaml: not sealed yet (placeholders)
        --- stderr
        note: dev: no sealing certificate at k8s/overlays/dev/sealing-cert.pem, not inspected
    ");
}

#[test]
fn error_unknown_environment() {
    let tree = tree_with_env();
    let env = tree.path("secrets.env");
    let env = env.to_str().unwrap();
    insta::assert_snapshot!(run(tree.root(), &["seal", "nosuch", "--from", env]), @r"
        exit: 2
        --- stdout
        --- stderr
        error: unknown environment `nosuch`: no kustomization in k8s/overlays/nosuch
        help: known environments: dev, paper, prod
    ");
    insta::assert_snapshot!(run(tree.root(), &["cert", "nosuch"]), @r"
        exit: 2
        --- stdout
        --- stderr
        error: unknown environment `nosuch`: no kustomization in k8s/overlays/nosuch
        help: known environments: dev, paper, prod
    ");
    // A path is looked for where it says, not beside the environments.
    insta::assert_snapshot!(run(tree.root(), &["seal", ".", "--from", env]), @r"
        exit: 2
        --- stdout
        --- stderr
        error: unknown environment `.`: no kustomization in .
        help: known environments: dev, paper, prod
    ");
}

#[test]
fn error_bad_env_file_line() {
    let tree = Tree::new();
    // A value pasted over two lines: the second has no `=`. Its text must not be echoed.
    let env = tree.write(
        "bad.env",
        format!("POSTGRES_PASSWORD=first-half\n{SENTINEL}-second-half\n"),
    );
    let before = tree.read("k8s/overlays/paper/sealedsecret.yaml");
    insta::assert_snapshot!(run(tree.root(), &["seal", "paper", "--from", env.to_str().unwrap()]), @r"
        exit: 2
        --- stdout
        --- stderr
        error: bad.env:2 has no '='; it may be part of a pasted value, so it is not sealed as a key name (content not shown)
        help: write `KEY=` for an empty value
    ");
    assert_eq!(before, tree.read("k8s/overlays/paper/sealedsecret.yaml"));
}

#[test]
fn error_missing_certificate() {
    let tree = tree_with_env();
    std::fs::remove_file(tree.overlay("paper").join("sealing-cert.pem")).unwrap();
    let env = tree.path("secrets.env");
    insta::assert_snapshot!(run(tree.root(), &["seal", "paper", "--from", env.to_str().unwrap()]), @r"
        exit: 2
        --- stdout
        --- stderr
        error: paper: no sealing certificate at k8s/overlays/paper/sealing-cert.pem
        help: fetch it: `emp-seal cert paper --fetch URL` or `kubeseal --fetch-cert > k8s/overlays/paper/sealing-cert.pem` (docs/certificates.md)
    ");
    insta::assert_snapshot!(run(tree.root(), &["cert", "paper"]), @r"
        exit: 2
        --- stdout
        --- stderr
        error: paper: no sealing certificate at k8s/overlays/paper/sealing-cert.pem
        help: fetch it: `emp-seal cert paper --fetch URL` or `kubeseal --fetch-cert > k8s/overlays/paper/sealing-cert.pem` (docs/certificates.md)
    ");
    // A --cert that does not exist is named as given.
    let missing = tree.path("nope.pem");
    insta::assert_snapshot!(
        run(tree.root(), &["seal", "paper", "--from", env.to_str().unwrap(), "--cert", missing.to_str().unwrap()]),
        @r"
        exit: 2
        --- stdout
        --- stderr
        error: [TREE]/nope.pem: no such file
    "
    );
}

/// A fixture tree in a temp git repository with every file staged, so that tracked env files
/// are seen as tracked.
fn git_tree(rel: &str) -> Option<tempfile::TempDir> {
    if common::which("git").is_none() {
        common::missing("git");
        return None;
    }
    let tmp = tempfile::tempdir().unwrap();
    common::copy_dir(
        &common::repo_root().join("tests/fixtures").join(rel),
        tmp.path(),
    );
    for args in [&["init", "-q"][..], &["add", "-A"]] {
        let ok = std::process::Command::new("git")
            .arg("-C")
            .arg(tmp.path())
            .args(args)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    }
    Some(tmp)
}

#[test]
fn check_text_report_of_a_small_tree() {
    let Some(tree) = git_tree("trees/seed-layout") else {
        return;
    };
    insta::assert_snapshot!(run(tree.path(), &["check"]), @r"
        exit: 1
        --- stdout
        k8s/base/deployment.yaml:23:19: error[missing-secret-key]: overlay paper: Deployment `emp-trader` reads key `REDIS_PASSWORD` of Secret `emp-secrets`, which does not have it
          help: add the key to the env file and its .example and seal it, or mark the reference optional
        k8s/base/keda.yaml:33:7: error[missing-secret-key]: overlay paper: TriggerAuthentication `emp-redis-auth` reads key `REDIS_PASSWORD` of Secret `emp-secrets`, which does not have it
          help: add the key to the env file and its .example and seal it, or mark the reference optional
        k8s/overlays/dev/dev-secrets.env:1:1: error[plaintext-env-file]: real env file `k8s/overlays/dev/dev-secrets.env` is tracked by git
          help: git rm --cached the file, add it to .gitignore (keep a .example beside it), and rotate every value it exposed
        k8s/overlays/dev/secret-generator.yaml:4:3: error[example-generator-mismatch]: overlay dev: secret generator `emp-secrets` reads `k8s/overlays/dev/dev-secrets.env`, which has no `k8s/overlays/dev/dev-secrets.env.example`
          help: commit a .example beside the env file listing its keys with empty values
        k8s/overlays/paper/sealedsecret.yaml:7:3: error[example-sealed-mismatch]: overlay paper: SealedSecret `emp-secrets` lacks a key of the environment's key set: `REDIS_PASSWORD`
          help: seal the missing keys (emp-seal <env> --from FILE) and remove the extra ones
        k8s/overlays/prod/prod-secrets.env:1:1: error[plaintext-env-file]: real env file `k8s/overlays/prod/prod-secrets.env` is tracked by git
          help: git rm --cached the file, add it to .gitignore (keep a .example beside it), and rotate every value it exposed
        k8s/overlays/prod/secret-generator.yaml:4:3: error[example-generator-mismatch]: overlay prod: secret generator `emp-secrets` reads `k8s/overlays/prod/prod-secrets.env`, which has no `k8s/overlays/prod/prod-secrets.env.example`
          help: commit a .example beside the env file listing its keys with empty values
        7 findings (7 errors, 0 warnings, 0 notes) in 11 files; checked 3 environments: dev, paper, prod
        --- stderr
    ");
}

#[test]
fn check_text_report_of_the_shipped_tree_and_release_gate() {
    let tree = Tree::new();
    // Not a git repository: the report must say that tracked status is unknown.
    insta::assert_snapshot!(run(tree.root(), &["check"]), @r"
        exit: 1
        --- stdout
        k8s/overlays/paper/sealedsecret.yaml:18:5: error[placeholder-ciphertext]: `API_KEY` in SealedSecret `emp-secrets`: the value is a literal placeholder (an ellipsis)
          help: seal the real value (emp-seal <env> --from FILE); the controller fails the whole SealedSecret with `no key could decrypt secret`
        k8s/overlays/paper/sealedsecret.yaml:19:5: error[placeholder-ciphertext]: `POSTGRES_PASSWORD` in SealedSecret `emp-secrets`: the value is a literal placeholder (an ellipsis)
          help: seal the real value (emp-seal <env> --from FILE); the controller fails the whole SealedSecret with `no key could decrypt secret`
        k8s/overlays/paper/sealedsecret.yaml:20:5: error[placeholder-ciphertext]: `REDIS_PASSWORD` in SealedSecret `emp-secrets`: the value is a literal placeholder (an ellipsis)
          help: seal the real value (emp-seal <env> --from FILE); the controller fails the whole SealedSecret with `no key could decrypt secret`
        3 findings (3 errors, 0 warnings, 0 notes) in 42 files; checked 3 environments: dev, paper, prod
        --- stderr
        note: not a git repository: tracked status is unknown; manifests and key files are checked as committed, env files and Secret generators' input files are not checked for being committed
    ");
    insta::assert_snapshot!(run(tree.root(), &["check", "--release", "paper"]), @r"
        exit: 1
        --- stdout
        k8s/overlays/paper/sealedsecret.yaml:18:5: error[placeholder-ciphertext]: `API_KEY` in SealedSecret `emp-secrets`: the value is a literal placeholder (an ellipsis)
          help: seal the real value (emp-seal <env> --from FILE); the controller fails the whole SealedSecret with `no key could decrypt secret`
        k8s/overlays/paper/sealedsecret.yaml:19:5: error[placeholder-ciphertext]: `POSTGRES_PASSWORD` in SealedSecret `emp-secrets`: the value is a literal placeholder (an ellipsis)
          help: seal the real value (emp-seal <env> --from FILE); the controller fails the whole SealedSecret with `no key could decrypt secret`
        k8s/overlays/paper/sealedsecret.yaml:20:5: error[placeholder-ciphertext]: `REDIS_PASSWORD` in SealedSecret `emp-secrets`: the value is a literal placeholder (an ellipsis)
          help: seal the real value (emp-seal <env> --from FILE); the controller fails the whole SealedSecret with `no key could decrypt secret`
        k8s/overlays/paper/sealing-cert.pem:1:1: error[demo-certificate]: overlay paper: `k8s/overlays/paper/sealing-cert.pem` is the demo certificate whose private key is public: anything sealed with it is readable by anyone
          help: fetch the real controller certificate for this environment (kubeseal --fetch-cert)
        4 findings (4 errors, 0 warnings, 0 notes) in 42 files; checked environment paper
        --- stderr
        note: not a git repository: tracked status is unknown; manifests and key files are checked as committed, env files and Secret generators' input files are not checked for being committed
    ");
}

/// `--from` naming a directory: one line naming it, nothing written.
#[test]
fn error_env_file_is_a_directory() {
    let tree = Tree::new();
    let p = tree.path("dir.env");
    std::fs::create_dir(&p).unwrap();
    write_file(&p.join("inner"), b"X=1\n");
    insta::assert_snapshot!(run(tree.root(), &["seal", "paper", "--from", p.to_str().unwrap()]), @r"
        exit: 2
        --- stdout
        --- stderr
        error: [TREE]/dir.env: is a directory, not a file
    ");
}

/// An overlay rendering several SealedSecrets: `cert` reports each on its own line, named
/// `NAMESPACE/NAME in FILE`, and one whose file the reader refuses says it was not compared.
/// It printed no `sealed` line at all for such an overlay (it could pick no single one), which
/// read as if the overlay had nothing sealed.
#[test]
fn cert_of_an_environment_rendering_several_sealed_secrets() {
    let tree = Tree::new();
    let doc = |name: &str, spec: &str| {
        format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: {name}\nspec:\n{spec}  template:\n    metadata:\n      name: {name}\n"
        )
    };
    tree.write(
        "k8s/overlays/paper/redis.yaml",
        doc(
            "redis",
            "  encryptedData:\n    PASSWORD: AgAAAA...REPLACE_ME\n",
        ),
    );
    // Both `data` and `encryptedData`: the controller rejects it, and the reader refuses it.
    tree.write(
        "k8s/overlays/paper/broken.yaml",
        doc(
            "broken",
            "  data: AgAAAA\n  encryptedData:\n    K: AgAAAA...REPLACE_ME\n",
        ),
    );
    let kust = tree.read("k8s/overlays/paper/kustomization.yaml").replace(
        "  - sealedsecret.yaml\n",
        "  - sealedsecret.yaml\n  - redis.yaml\n  - broken.yaml\n",
    );
    tree.write("k8s/overlays/paper/kustomization.yaml", kust);
    insta::assert_snapshot!(run(tree.root(), &["cert", "paper"]), @r"
        exit: 0
        --- stdout
        k8s/overlays/paper/sealing-cert.pem
          subject      CN=emp-seal DEMO sealing certificate (not a controller key),O=emp-seal demo
          key          RSA 4096 bits
          not before   2026-11-26T12:31:15Z
          not after    2036-11-26T12:31:15Z ([N] days left)
          sha256       319d78e0460fa240da401f5ac4134ddeac37a95409aaed5e2f7b21f22ec3ccde
          key sha256   SHA256:nZIkcbiNDZ4SFx1Tlmj67QJcr/8zDV9TOMQttBPlS2E
          demo         yes: its private key is public, so nothing sealed with it is secret
          used by      paper
          sealed       emp-paper/emp-secrets in k8s/overlays/paper/sealedsecret.yaml: not sealed yet (placeholders)
          sealed       emp-paper/redis in k8s/overlays/paper/redis.yaml: not sealed yet (placeholders)
          sealed       emp-paper/broken in k8s/overlays/paper/broken.yaml: cannot be read, so not compared with this certificate: k8s/overlays/paper/broken.yaml:5:1: spec has both the legacy `data` and `encryptedData`; the controller rejects this
        --- stderr
    ");
    let out = tree.run(&["cert", "paper", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sealed: Vec<(String, String)> = v["certificates"][0]["sealed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].to_string(), s["state"].to_string()))
        .collect();
    assert_eq!(sealed.len(), 3, "{sealed:?}");
}
