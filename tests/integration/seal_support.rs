//! Shared helpers for the `seal_*` tests: a temp copy of the repository's `k8s/` tree, running
//! the real `emp-seal` binary in it, the identity the real `kubectl kustomize` renders, decrypting
//! what was written with the Python peer, and the "only the sealed values changed" comparison.
#![allow(clippy::unwrap_used, clippy::panic, dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use yaml_serde::Value;

use crate::common::{self, Peer};
use emp_seal::sealedsecret::SealedSecretFile;

/// A sentinel that secret values in these tests contain; it must never reach stdout/stderr.
pub const SENTINEL: &str = "SENTINEL-b7f3c1";

/// The env file most tests seal: the paper keys, with values kustomize reads verbatim
/// (a `#` and `=` inside, trailing-free, non-ASCII), every one carrying the sentinel.
pub fn env_text() -> String {
    format!(
        "# test env file\nPOSTGRES_PASSWORD={SENTINEL}-pg=x#y\nREDIS_PASSWORD={SENTINEL}-redis\nAPI_KEY={SENTINEL}-api-\u{e4}\u{2713}\n"
    )
}

/// The plaintexts of [`env_text`], computed independently of emp-seal's parser.
pub fn env_values() -> BTreeMap<String, Vec<u8>> {
    [
        ("POSTGRES_PASSWORD", format!("{SENTINEL}-pg=x#y")),
        ("REDIS_PASSWORD", format!("{SENTINEL}-redis")),
        ("API_KEY", format!("{SENTINEL}-api-\u{e4}\u{2713}")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_bytes()))
    .collect()
}

/// The fixture directory of these tests.
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(common::repo_root().join("tests/fixtures/seal").join(name)).unwrap()
}

/// The demo private key of the paper certificate.
pub fn demo_key() -> String {
    std::fs::read_to_string(common::repo_root().join("tests/fixtures/demo/paper-sealing-key.pem"))
        .unwrap()
}

/// Certificate B and its private key (a 4096-bit TEST ONLY pair, tests/fixtures/certs/README.md).
pub fn cert_b() -> PathBuf {
    common::repo_root().join("tests/fixtures/certs/rsa-4096-cert.pem")
}
pub fn key_b() -> PathBuf {
    common::repo_root().join("tests/fixtures/keys/rsa-4096-key.pem")
}
/// A's private key: the demo paper key (the paper overlay's certificate).
pub fn key_a() -> PathBuf {
    common::repo_root().join("tests/fixtures/demo/paper-sealing-key.pem")
}

/// A temp copy of the repository's `k8s/` tree (no `.git`: the root is found by `k8s/overlays`).
pub struct Tree {
    pub dir: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Tree {
        let dir = tempfile::tempdir().unwrap();
        common::copy_dir(&common::repo_root().join("k8s"), &dir.path().join("k8s"));
        Tree { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn overlay(&self, env: &str) -> PathBuf {
        self.path(&format!("k8s/overlays/{env}"))
    }

    /// `k8s/overlays/<env>/sealedsecret.yaml`.
    pub fn ss(&self, env: &str) -> PathBuf {
        self.overlay(env).join("sealedsecret.yaml")
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        write_file(&p, bytes.as_ref());
        p
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    /// Copies overlay `from` to a new overlay `to` (same namespace, certificate and file).
    pub fn clone_overlay(&self, from: &str, to: &str) {
        common::copy_dir(&self.overlay(from), &self.overlay(to));
    }

    /// Runs `emp-seal -C ROOT ARGS...` with a scrubbed environment and no terminal.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut c = emp_seal_cmd();
        c.arg("-C").arg(self.root()).args(args);
        c.output().unwrap()
    }

    /// Runs `emp-seal ARGS...` from `cwd` (no `-C`).
    pub fn run_in(&self, cwd: &Path, args: &[&str]) -> Output {
        let mut c = emp_seal_cmd();
        c.current_dir(cwd).args(args);
        c.output().unwrap()
    }
}

/// Test-only file writer (the library's writer is what is under test).
#[allow(clippy::disallowed_methods)]
pub fn write_file(p: &Path, bytes: &[u8]) {
    std::fs::write(p, bytes).unwrap();
}

/// The real binary with every variable that could change its behaviour removed, stdin closed.
pub fn emp_seal_cmd() -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("emp-seal"));
    for v in [
        "NO_COLOR",
        "RUST_LOG",
        "SEALED_SECRETS_CERT",
        "SEALED_SECRETS_SCOPE",
        "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
        "EMP_SEAL_REPO",
        "EMP_SEAL_FROM",
        "EMP_SEAL_NO_INPUT",
        "EMP_SEAL_FORMAT",
        "EMP_SEAL_RELEASE",
        "EMP_SEAL_EXIT_ZERO",
    ] {
        c.env_remove(v);
    }
    c.stdin(std::process::Stdio::null());
    c
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Asserts success, showing stderr otherwise.
pub fn ok(o: &Output) {
    assert!(o.status.success(), "exit {:?}: {}", o.status, stderr(o));
}

/// Asserts exit code 2 with a one-line `error:` (plus an optional `help:` line), no panic.
pub fn fails_cleanly(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("note: ") && !l.starts_with("warning: "))
        .collect();
    assert!(
        !lines.is_empty() && lines[0].starts_with("error: "),
        "{err}"
    );
    assert!(lines.len() <= 2, "error is more than one line: {err}");
    if let Some(h) = lines.get(1) {
        assert!(h.starts_with("help: "), "{err}");
    }
    lines[0].to_owned()
}

/// Asserts the sentinel appears in neither stream.
pub fn no_secret(o: &Output) {
    for s in [&o.stdout, &o.stderr] {
        let t = String::from_utf8_lossy(s);
        assert!(!t.contains(SENTINEL), "a secret value leaked: {t}");
    }
}

/// What the real `kubectl kustomize` renders for an overlay's SealedSecret.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub name: String,
    pub namespace: Option<String>,
    /// `strict`, `namespace-wide` or `cluster-wide`, from the rendered top-level annotations.
    pub scope: &'static str,
    pub encrypted: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl Rendered {
    /// The OAEP label the controller uses (sealed-secrets `EncryptionLabel`).
    pub fn label(&self) -> Vec<u8> {
        let ns = self.namespace.clone().unwrap_or_default();
        match self.scope {
            "cluster-wide" => Vec::new(),
            "namespace-wide" => ns.into_bytes(),
            _ => format!("{ns}/{}", self.name).into_bytes(),
        }
    }
}

/// Renders `k8s/overlays/<env>` with the real kubectl and reads the one SealedSecret.
/// `None` (after `common::missing`) without kubectl.
pub fn render(tree: &Tree, env: &str) -> Option<Rendered> {
    common::kubectl()?;
    let out = common::kustomize(&tree.overlay(env));
    let mut found = Vec::new();
    for d in yaml_serde::Deserializer::from_str(&out) {
        let v: Value = serde::Deserialize::deserialize(d).unwrap();
        if v.get("kind").and_then(Value::as_str) == Some("SealedSecret") {
            found.push(v);
        }
    }
    assert_eq!(found.len(), 1, "one SealedSecret in the render");
    let v = &found[0];
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let meta = v.get("metadata").unwrap();
    let annotations: BTreeMap<String, String> = meta
        .get("annotations")
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap().to_owned(), s(Some(v)).unwrap()))
                .collect()
        })
        .unwrap_or_default();
    let is_true = |k: &str| annotations.get(k).map(String::as_str) == Some("true");
    let scope = if is_true("sealedsecrets.bitnami.com/cluster-wide") {
        "cluster-wide"
    } else if is_true("sealedsecrets.bitnami.com/namespace-wide") {
        "namespace-wide"
    } else {
        "strict"
    };
    let encrypted = v
        .get("spec")
        .and_then(|s| s.get("encryptedData"))
        .and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.as_str().unwrap().to_owned(),
                        s(Some(v)).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Rendered {
        name: s(meta.get("name")).unwrap(),
        namespace: s(meta.get("namespace")),
        scope,
        encrypted,
        annotations,
    })
}

/// Decrypts every value of the rendered SealedSecret with the Python peer under the label of the
/// rendered identity, and checks each `expected` key decrypts to its value. Returns false when a
/// component is missing (already reported).
pub fn assert_decrypts(tree: &Tree, env: &str, expected: &BTreeMap<String, Vec<u8>>) -> bool {
    let Some(r) = render(tree, env) else {
        return false;
    };
    let Some(mut peer) = Peer::start() else {
        return false;
    };
    let key = demo_key();
    for (k, want) in expected {
        let ct = r
            .encrypted
            .get(k)
            .unwrap_or_else(|| panic!("{env}: rendered SealedSecret lacks {k}"));
        let got = peer
            .decrypt(&key, &r.label(), &common::unb64(ct))
            .unwrap_or_else(|e| panic!("{env}: {k} does not decrypt under {:?}: {e}", r.label()));
        assert_eq!(&got, want, "{env}: {k}");
    }
    true
}

/// The `spec.encryptedData` values of the file's one SealedSecret.
pub fn values(text: &str) -> BTreeMap<String, String> {
    let f = SealedSecretFile::parse(text).unwrap();
    let mut it = f.sealed_secrets();
    let (_, d) = it.next().unwrap();
    d.encrypted_data
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect()
}

/// Replaces every `encryptedData` value span (from the crate's own span reader) by `<V:KEY>` and
/// the values of emp-seal's record annotations by `<R>`; a null placeholder `KEY:` becomes
/// `KEY:<V:KEY>` in both (the rewrite inserts ` value` after the colon).
fn mask(text: &str) -> String {
    let f = SealedSecretFile::parse(text).unwrap();
    let mut cuts: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for (_, d) in f.sealed_secrets() {
        for e in &d.encrypted_data {
            cuts.push((e.span.clone(), format!("<V:{}>", e.key)));
        }
    }
    cuts.sort_by_key(|c| c.0.start);
    let mut out = String::new();
    let mut pos = 0;
    for (r, m) in cuts {
        out.push_str(&text[pos..r.start]);
        out.push_str(&m);
        pos = r.end;
    }
    out.push_str(&text[pos..]);
    out.split_inclusive('\n')
        .map(|l| {
            let l = l.replacen(": <V:", ":<V:", 1);
            match l.find("emp-seal.dev/") {
                Some(i) => {
                    let colon = l[i..].find(": ").map(|c| i + c).unwrap();
                    let eol = if l.ends_with("\r\n") {
                        "\r\n"
                    } else if l.ends_with('\n') {
                        "\n"
                    } else {
                        ""
                    };
                    format!("{}: <R>{eol}", &l[..colon])
                }
                None => l,
            }
        })
        .collect()
}

/// Asserts `new` is `old` with only: `encryptedData` values replaced, lines for `added` keys
/// inserted, and emp-seal's record annotations (plus an `annotations:` header, plus scope
/// annotations when `scope_lines`) inserted. Every other byte is identical, line endings included.
/// Returns the inserted lines.
pub fn assert_only_values_changed(
    old: &str,
    new: &str,
    added: &[&str],
    scope_lines: bool,
) -> Vec<String> {
    let (mo, mn) = (mask(old), mask(new));
    let ol: Vec<&str> = mo.split_inclusive('\n').collect();
    let nl: Vec<&str> = mn.split_inclusive('\n').collect();
    let mut i = 0;
    let mut extra = Vec::new();
    for l in &nl {
        if i < ol.len() && ol[i] == *l {
            i += 1;
            continue;
        }
        let t = l.trim_start();
        let allowed = t.starts_with("emp-seal.dev/cert-sha256: <R>")
            || t.starts_with("emp-seal.dev/sealed-for: <R>")
            || t.trim_end() == "annotations:"
            || (scope_lines && t.starts_with("sealedsecrets.bitnami.com/"))
            || added.iter().any(|k| t.trim_end() == format!("{k}:<V:{k}>"));
        assert!(
            allowed,
            "unexpected change at output line {:?}\n--- old ---\n{mo}\n--- new ---\n{mn}",
            l
        );
        extra.push((*l).to_owned());
    }
    assert_eq!(
        i,
        ol.len(),
        "old lines missing from the output after {:?}\n--- old ---\n{mo}\n--- new ---\n{mn}",
        ol.get(i)
    );
    // Inserted lines keep the file's line ending.
    let crlf = old.contains("\r\n");
    for l in &extra {
        assert_eq!(l.ends_with("\r\n"), crlf, "line ending of inserted {l:?}");
    }
    extra
}

/// File permission bits.
pub fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// `openssl x509 -noout -fingerprint -sha256`, lowercase hex without colons; `None` after
/// [`common::missing`] when openssl is not installed.
pub fn openssl_sha256(cert: &Path) -> Option<String> {
    if common::which("openssl").is_none() {
        // Fails under CI=true: a fingerprint check must not vanish silently.
        common::missing("openssl (fingerprints)");
        return None;
    }
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(cert)
        .output()
        .unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    let fp = s
        .trim()
        .split('=')
        .nth(1)
        .unwrap_or_else(|| panic!("openssl gave no fingerprint for {}", cert.display()));
    Some(fp.replace(':', "").to_ascii_lowercase())
}

/// Makes a certificate with `tests/fixtures/certs/make_cert.py` (peer venv python).
pub fn make_cert(args: &[&str]) -> Option<String> {
    let python = common::repo_root().join(".venv-peer/bin/python");
    if !python.is_file() {
        common::missing("peer virtualenv python (for make_cert.py)");
        return None;
    }
    let out = std::process::Command::new(python)
        .arg(common::repo_root().join("tests/fixtures/certs/make_cert.py"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(v["cert"].as_str().unwrap().to_owned())
}
