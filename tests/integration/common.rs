//! Shared helpers for the integration tests: locating the repository, the Python peer, the
//! Python tools, kubectl, and running the `emp-seal` binary with a scrubbed environment.
//!
//! A missing external component skips a test only outside CI; under `CI=true` it fails loudly.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// True when running under CI, where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Call when an external component is missing. Panics under CI; otherwise prints a `SKIPPED:`
/// line and returns so the caller can `return` (the test then passes vacuously on a developer
/// machine only).
pub fn missing(what: &str) {
    let msg = format!("required test component missing: {what} (run .ci/setup.sh)");
    assert!(!in_ci(), "{msg}");
    // Straight to the process's stderr: the test harness captures `eprintln!` of a passing
    // test, which would hide the skip.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what} (run .ci/setup.sh)");
}

/// Copies a directory tree (directories and regular files; anything else, e.g. a symlink, is
/// left out), creating `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("dir entry");
        let t = e.file_type().expect("file type");
        let dest = to.join(e.file_name());
        if t.is_dir() {
            copy_dir(&e.path(), &dest);
        } else if t.is_file() {
            std::fs::copy(e.path(), &dest).expect("copy file");
        }
    }
}

/// Whether the tests run as root (needed to mount a tmpfs, and to make `chattr +i` meaningful).
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A tmpfs of `size` (e.g. `"2m"`) mounted on a fresh temp directory, unmounted on drop: a
/// small disk that a test can fill. Needs root; when it cannot be had, [`missing`] decides
/// (a failure under CI, a note elsewhere) and `None` is returned.
pub struct SmallTmpfs {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallTmpfs {
    /// Mounts it, or returns None after [`missing`].
    pub fn mount(size: &str) -> Option<SmallTmpfs> {
        if !is_root() {
            missing("root, to mount a small tmpfs for the full-disk test");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("small");
        std::fs::create_dir(&path).expect("mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            missing("mount -t tmpfs (the full-disk test needs it)");
            return None;
        }
        Some(SmallTmpfs { path, _dir: dir })
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SmallTmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

/// Path to a tool in the `.venv-tools` virtualenv (override the directory with `EMP_TOOLS_BIN`).
pub fn tool(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("EMP_TOOLS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv-tools/bin"));
    let p = dir.join(name);
    p.is_file().then_some(p)
}

/// `kubectl` on PATH, for a test (or the part of one) that needs it. When it is not there,
/// [`missing`] decides: under CI the test fails here; elsewhere a `SKIPPED:` line is printed and
/// `None` returned, and the caller leaves out what needed kubectl.
pub fn kubectl() -> Option<PathBuf> {
    let found = which("kubectl");
    if found.is_none() {
        missing("kubectl not on PATH");
    }
    found
}

/// Finds a program on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Renders a kustomization directory with the real `kubectl kustomize`; panics with kubectl's
/// stderr if it fails.
pub fn kustomize(dir: &Path) -> String {
    let out = kustomize_raw(dir);
    assert!(
        out.status.success(),
        "kubectl kustomize {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("kustomize output is UTF-8")
}

/// Runs `kubectl kustomize DIR` and returns the raw output.
pub fn kustomize_raw(dir: &Path) -> std::process::Output {
    Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("run kubectl kustomize")
}

/// A running `tests/peer/peer.py` (the `PyPI` `aes-gcm-rsa-oaep` implementation).
pub struct Peer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// Base64 helpers for the peer protocol.
pub fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Decodes standard base64, panicking on bad input (test helper).
pub fn unb64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .expect("valid base64")
}

impl Peer {
    /// Starts the peer, or returns None (after [`missing`]) when its virtualenv is absent.
    pub fn start() -> Option<Peer> {
        let python = std::env::var_os("EMP_PEER_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join(".venv-peer/bin/python"));
        if !python.is_file() {
            missing(&format!("python peer at {}", python.display()));
            return None;
        }
        let mut child = Command::new(python)
            .arg(repo_root().join("tests/peer/peer.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start peer");
        let stdin = child.stdin.take().expect("peer stdin");
        let stdout = BufReader::new(child.stdout.take().expect("peer stdout"));
        Some(Peer {
            child,
            stdin,
            stdout,
        })
    }

    fn call(&mut self, op: &str, pem: &str, label: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
        let req = serde_json::json!({"op": op, "pem": pem, "label": b64(label), "data": b64(data)});
        writeln!(self.stdin, "{req}").expect("write to peer");
        self.stdin.flush().expect("flush peer");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read from peer");
        let ans: serde_json::Value = serde_json::from_str(&line).expect("peer answers JSON");
        if ans["ok"].as_bool() == Some(true) {
            Ok(unb64(ans["data"].as_str().expect("data")))
        } else {
            Err(ans["error"].as_str().unwrap_or("?").to_string())
        }
    }

    /// Encrypts with the peer for a certificate or public-key PEM; returns raw value bytes.
    pub fn encrypt(&mut self, cert_pem: &str, label: &[u8], plaintext: &[u8]) -> Vec<u8> {
        self.call("encrypt", cert_pem, label, plaintext)
            .expect("peer encrypts")
    }

    /// Encrypts with the peer around the given AES session key (16, 24 or 32 bytes), built by
    /// the `cryptography` package rather than the PyPI peer, which always draws its own.
    pub fn encrypt_with_session_key(
        &mut self,
        cert_pem: &str,
        label: &[u8],
        session: &[u8],
        plaintext: &[u8],
    ) -> Vec<u8> {
        let req = serde_json::json!({
            "op": "encrypt_session", "pem": cert_pem, "label": b64(label),
            "data": b64(plaintext), "session": b64(session),
        });
        writeln!(self.stdin, "{req}").expect("write to peer");
        self.stdin.flush().expect("flush peer");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read from peer");
        let ans: serde_json::Value = serde_json::from_str(&line).expect("peer answers JSON");
        assert_eq!(ans["ok"].as_bool(), Some(true), "peer: {ans}");
        unb64(ans["data"].as_str().expect("data"))
    }

    /// Decrypts raw value bytes with the peer and a private-key PEM.
    pub fn decrypt(
        &mut self,
        key_pem: &str,
        label: &[u8],
        value: &[u8],
    ) -> Result<Vec<u8>, String> {
        self.call("decrypt", key_pem, label, value)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `emp-seal` binary with every environment variable it (or a tool it runs) reads removed,
/// so that the developer's own settings never reach a test.
pub fn emp_seal() -> assert_cmd::Command {
    assert_cmd::Command::from_std(emp_seal_std())
}

/// [`emp_seal`] as a plain `std::process::Command`, for a test that must set up stdout itself.
pub fn emp_seal_std() -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("emp-seal"));
    for var in [
        "NO_COLOR",
        "RUST_LOG",
        "EMP_SEAL_RELEASE",
        "EMP_SEAL_FORMAT",
        "EMP_SEAL_EXIT_ZERO",
        "EMP_SEAL_REPO",
        "EMP_SEAL_FROM",
        "EMP_SEAL_NO_INPUT",
        "EMP_SEAL_RENDER",
        "EMP_SEAL_ALLOW_RUNTIME_SECRETS",
        "SEALED_SECRETS_CERT",
        "SEALED_SECRETS_SCOPE",
        "SEALED_SECRETS_RECOVERY_PRIVATE_KEY",
    ] {
        c.env_remove(var);
    }
    c
}

/// Runs `cmd` and asserts that it exits with `code`, showing its stderr when it does not.
pub fn output_with_code(cmd: &mut assert_cmd::Command, code: i32) -> std::process::Output {
    let out = cmd.output().expect("run");
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The findings of a `check --format json` report (version 1) as (rule, path, line).
pub fn json_findings(out: &[u8]) -> Vec<(String, String, u64)> {
    let v: serde_json::Value = serde_json::from_slice(out).expect("JSON report");
    assert_eq!(v["version"], 1);
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().expect("rule").to_owned(),
                f["location"]["path"].as_str().expect("path").to_owned(),
                f["location"]["line"].as_u64().expect("line"),
            )
        })
        .collect()
}

/// Runs `git -C dir ARGS` with a fixed committer identity; panics when it fails.
pub fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "git {args:?}");
}

/// A temp copy of the repository's k8s/ tree (and .gitignore) as a git repository with every
/// file staged (`None` when git is missing outside CI).
pub fn shipped_git_copy() -> Option<tempfile::TempDir> {
    if which("git").is_none() {
        missing("git");
        return None;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    copy_dir(&repo_root().join("k8s"), &tmp.path().join("k8s"));
    std::fs::copy(
        repo_root().join(".gitignore"),
        tmp.path().join(".gitignore"),
    )
    .expect("copy .gitignore");
    git(tmp.path(), &["init", "-q"]);
    git(tmp.path(), &["add", "-A"]);
    Some(tmp)
}

/// An env file `paper.env` in a new temp directory with fake values for paper's three keys.
#[allow(clippy::disallowed_methods)] // a test fixture, not a product write
pub fn paper_env_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let env = dir.path().join("paper.env");
    std::fs::write(
        &env,
        "POSTGRES_PASSWORD=test-only-1\nREDIS_PASSWORD=test-only-2\nAPI_KEY=test-only-3\n",
    )
    .expect("write paper.env");
    (dir, env)
}

/// One finding of `check --format json`.
#[derive(Debug, Clone)]
pub struct Hit {
    pub rule: String,
    pub severity: String,
    pub path: String,
    pub line: u64,
    pub message: String,
    pub hint: String,
    pub unverified: Option<String>,
    pub suppressed: bool,
}

/// Runs `emp-seal -C ROOT check --format json ARGS`: its exit code (never 2: a usage or input
/// error fails the test, with emp-seal's stderr) and its findings.
pub fn check_hits(root: &Path, args: &[&str]) -> (i32, Vec<Hit>) {
    let out = emp_seal()
        .arg("-C")
        .arg(root)
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .expect("run emp-seal check");
    let code = out.status.code().expect("exit code");
    assert_ne!(code, 2, "{}", String::from_utf8_lossy(&out.stderr));
    (code, report_hits(&out.stdout))
}

/// The findings of a `check --format json` report.
pub fn report_hits(json: &[u8]) -> Vec<Hit> {
    let v: serde_json::Value = serde_json::from_slice(json).expect("a JSON report");
    let s = |f: &serde_json::Value| f.as_str().unwrap_or_default().to_owned();
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| Hit {
            rule: s(&f["rule"]),
            severity: s(&f["severity"]),
            path: s(&f["location"]["path"]),
            line: f["location"]["line"].as_u64().expect("a line"),
            message: s(&f["message"]),
            hint: s(&f["hint"]),
            unverified: f["unverified"].as_str().map(str::to_owned),
            suppressed: !f["suppressed"].is_null(),
        })
        .collect()
}

/// `files` (repository-relative path, text) in a temp git repository, all staged; `None` (said
/// by [`missing`]) without git.
pub fn staged_repo(files: &[(&str, &str)]) -> Option<tempfile::TempDir> {
    if which("git").is_none() {
        missing("git");
        return None;
    }
    let t = tempfile::tempdir().expect("tempdir");
    for (rel, text) in files {
        write(t.path(), rel, text);
    }
    git(t.path(), &["init", "-q"]);
    git(t.path(), &["add", "-A"]);
    Some(t)
}

/// A copy of the `sealed-nameref` tree (`tests/fixtures/trees/sealed-nameref`) with `files`
/// written over it, in a temp git repository, all staged; `None` (said by [`missing`]) without
/// kubectl or git.
pub fn sealed_nameref_tree(files: &[(&str, &str)]) -> Option<tempfile::TempDir> {
    kubectl()?;
    if which("git").is_none() {
        missing("git");
        return None;
    }
    let t = tempfile::tempdir().expect("tempdir");
    let from = repo_root().join("tests/fixtures/trees/sealed-nameref/k8s");
    copy_dir(&from, &t.path().join("k8s"));
    for (rel, text) in files {
        write(t.path(), rel, text);
    }
    git(t.path(), &["init", "-q"]);
    git(t.path(), &["add", "-A"]);
    Some(t)
}

/// Writes `text` to `rel` under `root`, creating its directories; returns the file's path.
pub fn write(root: &Path, rel: &str, text: &str) -> PathBuf {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("a file path")).expect("mkdir");
    #[allow(clippy::disallowed_methods)]
    std::fs::write(&p, text).expect("write");
    p
}

/// The findings of `hits` from `rule`.
pub fn of<'h>(hits: &'h [Hit], rule: &str) -> Vec<&'h Hit> {
    hits.iter().filter(|h| h.rule == rule).collect()
}

/// The 1-based line of the first line of `rel` (under `root`) containing `needle`.
pub fn line_of(root: &Path, rel: &str, needle: &str) -> u64 {
    let text = std::fs::read_to_string(root.join(rel)).expect("read");
    let idx = text.lines().position(|l| l.contains(needle));
    assert!(idx.is_some(), "{needle:?} not in {rel}");
    u64::try_from(idx.unwrap_or_default() + 1).expect("a line number")
}
