//! A sealing certificate file that also holds a private key (`-----BEGIN ... PRIVATE KEY-----`):
//! the file is committed, so the key would let anyone decrypt every SealedSecret sealed to it.
//! `check` reports it (`certificate-private-key`, an error at the key block's BEGIN line that
//! names only the block's label, not suppressible under `--release`); `seal` and `cert` keep
//! working with it (sealing needs only the public key) and print one `warning:` line naming the
//! file. The real binary on real temp files; no output may hold a line of the key.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::Path;

use serde_json::Value;

use crate::common::{self, Hit};
use crate::fixtures;

const PAPER_CERT: &str = "k8s/overlays/paper/sealing-cert.pem";
const RULE: &str = "certificate-private-key";

/// A temp copy of the repository's k8s/ tree (and .gitignore) as a git repository, with
/// paper's certificate file replaced by `cert_file` and staged.
fn shipped_with(cert_file: &str) -> Option<tempfile::TempDir> {
    let tmp = common::shipped_git_copy()?;
    std::fs::write(tmp.path().join(PAPER_CERT), cert_file).unwrap();
    common::git(tmp.path(), &["add", "-A"]);
    Some(tmp)
}

/// Writes `bytes` to `root/rel`, creating its directory.
#[allow(clippy::disallowed_methods)] // a test fixture, not a product write
fn write_at(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// `check --format json` on `root`, which must fail: the `committed-private-key` findings as
/// sorted (path, line, severity), and every hit.
fn committed_keys(root: &Path) -> (Vec<(String, u64, String)>, Vec<Hit>) {
    let (code, hits) = check_json(root, &[]);
    assert_eq!(code, 1);
    let mut got: Vec<(String, u64, String)> = hits
        .iter()
        .filter(|h| h.rule == "committed-private-key")
        .map(|h| (h.path.clone(), h.line, h.severity.clone()))
        .collect();
    got.sort();
    (got, hits)
}

/// The base64 body lines of every private key used here: none may appear in any output.
fn key_lines() -> Vec<String> {
    [
        fixtures::key_pem(4096),
        fixtures::key_pem(2048),
        fixtures::pkcs1_key_pem(),
    ]
    .iter()
    .flat_map(|k| {
        k.lines()
            .filter(|l| !l.starts_with("-----") && l.len() > 16)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    })
    .collect()
}

fn assert_no_key_material(what: &str, out: &str) {
    for l in key_lines() {
        assert!(!out.contains(&l), "{what}: key material printed:\n{out}");
    }
}

/// `pem` with its `PRIVATE KEY` labels renamed to `label` (same body).
fn relabel(pem: &str, label: &str) -> String {
    pem.replace("BEGIN PRIVATE KEY", &format!("BEGIN {label}"))
        .replace("END PRIVATE KEY", &format!("END {label}"))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(root: &Path, args: &[&str]) -> Run {
    let o = common::emp_seal()
        .arg("-C")
        .arg(root)
        .current_dir(root)
        .args(args)
        .output()
        .unwrap();
    let r = Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    assert_no_key_material(&format!("{args:?} stdout"), &r.stdout);
    assert_no_key_material(&format!("{args:?} stderr"), &r.stderr);
    r
}

fn check_json(root: &Path, args: &[&str]) -> (i32, Vec<Hit>) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let r = run(root, &all);
    assert_ne!(r.code, 2, "{}", r.stderr);
    let hits = common::report_hits(r.stdout.as_bytes());
    (r.code, hits)
}

fn of(hits: &[Hit], rule: &str) -> Vec<(String, u64)> {
    hits.iter()
        .filter(|h| h.rule == rule)
        .map(|h| (h.path.clone(), h.line))
        .collect()
}

/// The 1-based line of the first line of `text` equal to `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    let i = text.lines().position(|l| l == needle).unwrap();
    u64::try_from(i + 1).unwrap()
}

#[test]
fn check_reports_a_private_key_in_the_sealing_certificate_at_its_begin_line() {
    let cert = fixtures::cert_pem(4096);
    let key = fixtures::key_pem(4096);
    let cases = [
        (
            "cert then PKCS#8 key",
            format!("{cert}{key}"),
            "PRIVATE KEY",
        ),
        (
            "PKCS#1 key then cert",
            format!("{}{cert}", fixtures::pkcs1_key_pem()),
            "RSA PRIVATE KEY",
        ),
        (
            "cert then EC key",
            format!("{cert}{}", relabel(&key, "EC PRIVATE KEY")),
            "EC PRIVATE KEY",
        ),
        (
            "text, cert, encrypted key",
            format!(
                "controller certificate\n{cert}\n{}",
                relabel(&key, "ENCRYPTED PRIVATE KEY")
            ),
            "ENCRYPTED PRIVATE KEY",
        ),
    ];
    for (name, file, label) in cases {
        let Some(t) = shipped_with(&file) else { return };
        let (code, hits) = check_json(t.path(), &[]);
        assert_eq!(code, 1, "{name}");
        let begin = line_of(&file, &format!("-----BEGIN {label}-----"));
        assert_eq!(
            of(&hits, RULE),
            [(PAPER_CERT.to_owned(), begin)],
            "{name}: {hits:?}"
        );
        let h = hits.iter().find(|h| h.rule == RULE).unwrap();
        assert_eq!(h.severity, "error", "{name}");
        assert!(
            h.message.contains(&format!("`{label}`"))
                && h.message.contains(PAPER_CERT)
                && h.message.contains("private key"),
            "{name}: {}",
            h.message
        );
        // The certificate itself is still read: no other certificate finding, no exit 2.
        for other in [
            "certificate-expired",
            "certificate-weak-key",
            "missing-certificate",
        ] {
            assert!(of(&hits, other).is_empty(), "{name}: {other}: {hits:?}");
        }
        // Every output format names the finding and holds no key material (run() asserts it).
        let text = run(t.path(), &["check"]);
        assert_eq!(text.code, 1);
        assert!(
            text.stdout
                .contains(&format!("{PAPER_CERT}:{begin}:1: error[{RULE}]")),
            "{name}: {}",
            text.stdout
        );
        for format in ["sarif", "github"] {
            let o = run(t.path(), &["check", "--format", format]);
            assert_eq!(o.code, 1, "{name} {format}");
            assert!(o.stdout.contains(RULE), "{name} {format}: {}", o.stdout);
        }
    }
}

#[test]
fn check_is_silent_on_a_certificate_file_without_a_private_key() {
    // A certificate followed by a public key: nothing to report.
    let file = format!(
        "{}-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        fixtures::cert_pem(4096)
    );
    let Some(t) = shipped_with(&file) else { return };
    let (_, hits) = check_json(t.path(), &[]);
    assert!(of(&hits, RULE).is_empty(), "{hits:?}");
    let (_, hits) = check_json(t.path(), &["--release", "paper"]);
    assert!(of(&hits, RULE).is_empty(), "{hits:?}");
}

#[test]
fn check_private_key_allow_comment_works_only_outside_release() {
    let cert = fixtures::cert_pem(4096);
    let key = fixtures::key_pem(4096);
    let file = format!("{cert}# emp-seal:allow {RULE} -- test fixture\n{key}");
    let Some(t) = shipped_with(&file) else { return };
    let begin = line_of(&file, "-----BEGIN PRIVATE KEY-----");
    let (_, hits) = check_json(t.path(), &[]);
    let h: Vec<&Hit> = hits.iter().filter(|h| h.rule == RULE).collect();
    assert_eq!(h.len(), 1, "{hits:?}");
    assert!(h[0].suppressed, "{hits:?}");
    let (code, hits) = check_json(t.path(), &["--release", "paper"]);
    assert_eq!(code, 1);
    let h: Vec<&Hit> = hits.iter().filter(|h| h.rule == RULE).collect();
    assert_eq!(h.len(), 1, "{hits:?}");
    assert_eq!((h[0].line, h[0].severity.as_str()), (begin, "error"));
    assert!(!h[0].suppressed, "suppressed under --release: {hits:?}");
    assert!(
        h[0].message.contains("does not apply under --release"),
        "{}",
        h[0].message
    );
    // --rules narrows to it.
    let (code, hits) = check_json(t.path(), &["--release", "paper", "--rules", RULE]);
    assert_eq!(code, 1);
    assert_eq!(of(&hits, RULE), [(PAPER_CERT.to_owned(), begin)]);
}

#[test]
fn check_reports_a_private_key_in_the_certificate_the_config_file_names() {
    let Some(t) = shipped_with(&fixtures::demo_cert_pem()) else {
        return;
    };
    let rel = "certs/paper.pem";
    let file = format!("{}{}", fixtures::pkcs1_key_pem(), fixtures::cert_pem(4096));
    std::fs::create_dir_all(t.path().join("certs")).unwrap();
    std::fs::write(t.path().join(rel), &file).unwrap();
    std::fs::write(
        t.path().join("emp-seal.toml"),
        format!("[environment.paper]\ncertificate = \"{rel}\"\n"),
    )
    .unwrap();
    common::git(t.path(), &["add", "-A"]);
    let (code, hits) = check_json(t.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(of(&hits, RULE), [(rel.to_owned(), 1)], "{hits:?}");
    let (_, hits) = check_json(t.path(), &["--release", "paper"]);
    assert_eq!(of(&hits, RULE), [(rel.to_owned(), 1)], "{hits:?}");
}

/// The `warning:` lines of a run's stderr.
fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect()
}

fn assert_private_key_warning(what: &str, stderr: &str, file: &str, label: &str) {
    let w: Vec<&str> = warnings(stderr)
        .into_iter()
        .filter(|l| l.contains("private key"))
        .collect();
    assert_eq!(w.len(), 1, "{what}: {stderr}");
    assert!(
        w[0].contains(file)
            && w[0].contains(&format!("`{label}`"))
            && w[0].contains("remove")
            && w[0].contains("rotate"),
        "{what}: {}",
        w[0]
    );
}

#[test]
fn seal_works_with_a_certificate_file_holding_a_private_key_and_warns() {
    let cert = fixtures::cert_pem(4096);
    let file = format!("{cert}{}", fixtures::key_pem(4096));
    let Some(t) = shipped_with(&file) else { return };
    let (_env_dir, env) = common::paper_env_file();
    let env = env.to_str().unwrap();
    let o = run(t.path(), &["paper", "--no-input", "--from", env]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_private_key_warning("seal", &o.stderr, PAPER_CERT, "PRIVATE KEY");
    // Sealed with the certificate's public key: its fingerprint is recorded.
    let sha = fixtures::cert(4096).sha256_fingerprint();
    let sealed =
        std::fs::read_to_string(t.path().join("k8s/overlays/paper/sealedsecret.yaml")).unwrap();
    assert!(sealed.contains(&sha), "{sealed}");
    // The certificate file is left as it is: emp-seal does not edit it.
    assert_eq!(
        std::fs::read_to_string(t.path().join(PAPER_CERT)).unwrap(),
        file
    );
    // --quiet keeps warnings (as it keeps the expiry warning).
    let o = run(t.path(), &["-q", "paper", "--no-input", "--from", env]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_private_key_warning("seal -q", &o.stderr, PAPER_CERT, "PRIVATE KEY");

    // --cert naming such a file outside the repository warns the same way, naming it.
    let elsewhere = tempfile::tempdir().unwrap();
    let other = elsewhere.path().join("bundle.pem");
    std::fs::write(&other, format!("{}{cert}", fixtures::pkcs1_key_pem())).unwrap();
    std::fs::write(t.path().join(PAPER_CERT), &cert).unwrap();
    let o = run(
        t.path(),
        &[
            "paper",
            "--no-input",
            "--from",
            env,
            "--cert",
            other.to_str().unwrap(),
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_private_key_warning("seal --cert", &o.stderr, "bundle.pem", "RSA PRIVATE KEY");

    // A clean certificate file: no such warning.
    let o = run(t.path(), &["paper", "--no-input", "--from", env]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(!o.stderr.contains("private key"), "{}", o.stderr);
}

#[test]
fn cert_shows_a_certificate_file_holding_a_private_key_and_warns() {
    let cert = fixtures::cert_pem(4096);
    let file = format!(
        "{cert}{}",
        relabel(&fixtures::key_pem(4096), "EC PRIVATE KEY")
    );
    let Some(t) = shipped_with(&file) else { return };
    let sha = fixtures::cert(4096).sha256_fingerprint();
    for args in [
        &["cert", "paper"][..],
        &["cert"][..],
        &["cert", PAPER_CERT][..],
    ] {
        let o = run(t.path(), args);
        assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
        assert!(o.stdout.contains(&sha), "{args:?}: {}", o.stdout);
        assert_private_key_warning(
            &format!("{args:?}"),
            &o.stderr,
            PAPER_CERT,
            "EC PRIVATE KEY",
        );
    }
    // --json: stdout stays one JSON document, the warning goes to stderr.
    let o = run(t.path(), &["cert", "paper", "--json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(v["certificates"][0]["sha256"], sha.as_str());
    assert_eq!(v["certificates"][0]["private_key"], "EC PRIVATE KEY");
    assert_private_key_warning("cert --json", &o.stderr, PAPER_CERT, "EC PRIVATE KEY");

    // Without the key: no warning, and `private_key` is null.
    std::fs::write(t.path().join(PAPER_CERT), &cert).unwrap();
    let o = run(t.path(), &["cert", "paper"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(warnings(&o.stderr).is_empty(), "{}", o.stderr);
    let o = run(t.path(), &["cert", "paper", "--json"]);
    let v: Value = serde_json::from_str(&o.stdout).unwrap();
    assert!(v["certificates"][0]["private_key"].is_null(), "{v}");
}

/// `committed-private-key`: key files anywhere in the repository (a PEM key, a backup of the
/// controller's keys as `kubectl get secret ... -o yaml` saves it, an OpenSSH key, a key pasted
/// on one line), by git status; certificates alone and ignored files are no findings, and a
/// key file that cannot be read is a note saying so. Nothing of a key reaches the output.
#[test]
fn check_reports_private_keys_committed_anywhere_in_the_repository() {
    const RULE: &str = "committed-private-key";
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    let write = |rel: &str, bytes: &[u8]| write_at(root, rel, bytes);
    write(
        "ops/main.key",
        format!("# the controller's key\n{}", fixtures::key_pem(2048)).as_bytes(),
    );
    let backup = format!(
        "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Secret\n    type: kubernetes.io/tls\n    data:\n      tls.crt: {}\n      tls.key: {}\n",
        common::b64(fixtures::cert_pem(4096).as_bytes()),
        common::b64(fixtures::key_pem(4096).as_bytes()),
    );
    write("backup/sealed-secrets.key", backup.as_bytes());
    write(".ssh/id_rsa", fixtures::pkcs1_key_pem().as_bytes());
    write(
        "one-line.pem",
        fixtures::pkcs1_key_pem().replace('\n', "").as_bytes(),
    );
    write("certs/ca.crt", fixtures::cert_pem(2048).as_bytes());
    // A certificate file in the tree that is no environment's.
    let retired = format!("{}{}", fixtures::cert_pem(2048), fixtures::key_pem(2048));
    write("k8s/retired/sealing-cert.pem", retired.as_bytes());
    write("binary.key", &[0x30, 0x82, 0xff, 0xfe, 0x00]);
    write("secret.key", fixtures::key_pem(2048).as_bytes());
    write(".gitignore", b"secret.key\nlocal.pem\n");
    common::git(root, &["add", "-A"]);
    // Not staged: one not ignored, one ignored.
    write("untracked.pem", fixtures::key_pem(2048).as_bytes());
    write("local.pem", fixtures::key_pem(2048).as_bytes());

    let (got, hits) = committed_keys(root);
    let want = |p: &str, line: u64, sev: &str| (p.to_owned(), line, sev.to_owned());
    let tls_key_line = line_of(
        &backup,
        backup.lines().find(|l| l.contains("tls.key")).unwrap(),
    );
    assert_eq!(
        got,
        vec![
            want(".ssh/id_rsa", 1, "error"),
            want("backup/sealed-secrets.key", tls_key_line, "error"),
            want("binary.key", 1, "note"),
            want(
                "k8s/retired/sealing-cert.pem",
                line_of(&retired, "-----BEGIN PRIVATE KEY-----"),
                "error"
            ),
            want("one-line.pem", 1, "error"),
            want("ops/main.key", 2, "error"),
            want("untracked.pem", 1, "warning"),
        ],
        "{hits:?}"
    );
    let binary = hits.iter().find(|h| h.path == "binary.key").unwrap();
    assert!(
        binary.message.contains("did not check"),
        "{}",
        binary.message
    );
    // The release gate and the pre-commit hook (which passes the staged file) report it too.
    let (code, hits) = check_json(root, &["--release", "paper", "ops/main.key"]);
    assert_eq!(code, 1);
    assert_eq!(
        of(&hits, RULE),
        vec![("ops/main.key".to_owned(), 2)],
        "{hits:?}"
    );
}

/// A PEM private key written into a manifest or data file (a ConfigMap mounting an SSH key, a
/// JSON file holding one as a one-line string, a SealedSecret's plaintext template) is committed
/// as surely as a `.key` file; `check` read those files and passed them. Each is reported at its
/// `-----BEGIN` line by git status; a Secret holding a key stays `plaintext-secret`'s alone, and
/// a certificate is no finding. Nothing of a key reaches the output.
#[test]
fn check_reports_private_keys_written_into_yaml_and_json_files() {
    let Some(t) = common::shipped_git_copy() else {
        return;
    };
    let root = t.path();
    let write = |rel: &str, text: &str| write_at(root, rel, text.as_bytes());
    let indented = |pem: &str| {
        pem.lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    };
    let key = fixtures::key_pem(2048);
    let config_map = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: git-sync\ndata:\n  ca.crt: |\n{}  id_rsa: |\n{}",
        indented(&fixtures::cert_pem(2048)),
        indented(&fixtures::pkcs1_key_pem()),
    );
    write("apps/git-sync/configmap.yaml", &config_map);
    let json = format!(
        "{{\n  \"name\": \"deploy\",\n  \"key\": {}\n}}\n",
        serde_json::to_string(&key).unwrap()
    );
    write("ops/deploy.json", &json);
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\nstringData:\n  tls.key: |\n{}",
        indented(&key)
    );
    write("apps/tls/secret.yaml", &secret);
    common::git(root, &["add", "-A"]);
    write(
        "scratch/values.yaml",
        &format!("sshKey: |\n{}", indented(&key)),
    );

    let (got, hits) = committed_keys(root);
    let want = |p: &str, line: u64, sev: &str| (p.to_owned(), line, sev.to_owned());
    assert_eq!(
        got,
        vec![
            want(
                "apps/git-sync/configmap.yaml",
                line_of(&config_map, "    -----BEGIN RSA PRIVATE KEY-----"),
                "error"
            ),
            want("ops/deploy.json", 3, "error"),
            want("scratch/values.yaml", 2, "warning"),
        ],
        "{hits:?}"
    );
    assert_eq!(
        of(&hits, "plaintext-secret"),
        vec![("apps/tls/secret.yaml".to_owned(), 5)],
        "{hits:?}"
    );
    let out = run(root, &["check"]);
    assert_no_key_material("check", &format!("{}{}", out.stdout, out.stderr));
}
