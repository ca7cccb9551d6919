//! The env-file parser against the real thing: every fixture under `tests/fixtures/envfile/`
//! is fed to a real `kubectl kustomize` secretGenerator (`envs:`), and the Secret it renders is
//! compared byte for byte with `emp_seal::envfile::parse`. `fail_*` fixtures must be rejected
//! by both, for the same line. Lint claims about `kubectl create secret --from-env-file` are
//! checked against the real kubectl too.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use emp_seal::envfile::{self, EnvError, LintId};

use crate::common;

fn fixture_dir() -> PathBuf {
    common::repo_root().join("tests/fixtures/envfile")
}

fn fixtures() -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("fixture dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "env"))
        .collect();
    all.sort();
    all
}

fn write_file(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::File::create(path).expect("create");
    f.write_all(bytes).expect("write");
}

#[derive(serde::Deserialize)]
struct Rendered {
    data: Option<BTreeMap<String, String>>,
}

/// Runs a real `kubectl kustomize` over a secretGenerator reading `bytes` through `envs:`.
/// Ok: the Secret's data, base64-decoded. Err: kubectl's stderr.
fn kustomize_envs(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    write_file(&dir.path().join("secrets.env"), bytes);
    write_file(
        &dir.path().join("kustomization.yaml"),
        b"secretGenerator:\n- name: probe\n  envs:\n  - secrets.env\n  options:\n    disableNameSuffixHash: true\n",
    );
    let out = common::kustomize_raw(dir.path());
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let doc: Rendered = yaml_serde::from_slice(&out.stdout).expect("kustomize renders one Secret");
    Ok(doc
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            // Long values come back as a folded block scalar: drop the line breaks.
            let b64: String = v.split_whitespace().collect();
            (k, common::unb64(&b64))
        })
        .collect())
}

/// Asserts our parse equals kustomize's Secret: same key set, byte-equal values, file order.
fn assert_same(name: &str, ours: &envfile::EnvFile, theirs: &BTreeMap<String, Vec<u8>>) {
    let our_keys: Vec<&str> = ours.keys().collect();
    let their_keys: Vec<&str> = theirs.keys().map(String::as_str).collect();
    let mut sorted = our_keys.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, their_keys, "{name}: key sets differ");
    for e in &ours.entries {
        assert_eq!(
            e.value.expose_secret(),
            theirs[&e.key].as_slice(),
            "{name}: value of {:?} (line {}) differs",
            e.key,
            e.line
        );
    }
    assert!(
        ours.entries.windows(2).all(|w| w[0].line < w[1].line),
        "{name}: entries not in file order"
    );
}

/// kustomize prints an invalid line as a Go byte slice: `line [66 61 255] has invalid utf8`.
fn kustomize_bad_line(stderr: &str) -> Option<Vec<u8>> {
    let rest = &stderr[stderr.find("line [")? + "line [".len()..];
    let list = &rest[..rest.find(']')?];
    Some(
        list.split_whitespace()
            .map(|n| n.parse::<u8>().expect("decimal byte"))
            .collect(),
    )
}

/// Line `n` (1-based) as Go's `bufio.ScanLines` yields it.
fn go_line(bytes: &[u8], n: usize) -> Vec<u8> {
    let line = bytes
        .split(|&b| b == b'\n')
        .nth(n - 1)
        .expect("line exists");
    line.strip_suffix(b"\r").unwrap_or(line).to_vec()
}

#[test]
fn corpus_matches_real_kustomize() {
    if common::kubectl().is_none() {
        return;
    }
    let (mut ok_files, mut fail_files, mut lines) = (0, 0, 0);
    for path in fixtures() {
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(&path).expect("read fixture");
        let ours = envfile::parse_with_path(&path, &bytes);
        let theirs = kustomize_envs(&bytes);
        if name.starts_with("fail_") {
            fail_files += 1;
            let stderr = theirs.expect_err(&format!("kustomize must reject {name}"));
            let err = ours.expect_err(&format!("emp-seal must reject {name}"));
            let msg = err.to_string();
            assert!(msg.starts_with(&path.display().to_string()), "{msg}");
            if let Some(start) = stderr.find("illegally repeats the key `") {
                let rest = &stderr[start + "illegally repeats the key `".len()..];
                let key = &rest[..rest.find('`').expect("closing backtick")];
                match &err {
                    EnvError::DuplicateKey { key: ours, .. } => assert_eq!(ours, key, "{name}"),
                    other => panic!("{name}: kustomize says duplicate, we say {other}"),
                }
            } else if let Some(bad) = kustomize_bad_line(&stderr) {
                assert!(matches!(err, EnvError::InvalidUtf8 { .. }), "{name}: {err}");
                let line = err.line().expect("utf8 errors carry a line");
                assert_eq!(
                    go_line(&bytes, line),
                    bad,
                    "{name}: not the line kustomize names"
                );
            } else {
                panic!("{name}: unexpected kustomize error: {stderr}");
            }
        } else {
            ok_files += 1;
            let theirs = theirs.unwrap_or_else(|e| panic!("kustomize rejects {name}: {e}"));
            let ours = ours.unwrap_or_else(|e| panic!("we reject {name}: {e}"));
            assert_same(&name, &ours, &theirs);
            // Every key kustomize accepts but the API server would not is flagged: by
            // env-invalid-key, or, on a line continuing a pasted value, by the one
            // env-multiline-value finding at the value's first line.
            let lints = envfile::lint(&bytes);
            let pasted = envfile::pasted_values(&bytes);
            for e in &ours.entries {
                if envfile::validate_key(&e.key).is_err() {
                    let in_value = pasted.iter().find(|p| p.continues_on(e.line));
                    assert!(
                        lints.iter().any(|l| match in_value {
                            None => l.id == LintId::InvalidKey && l.line == e.line,
                            Some(p) => l.id == LintId::MultilineValue && l.line == p.first_line,
                        }),
                        "{name}: line {} is not flagged",
                        e.line
                    );
                    assert!(
                        e.value_like,
                        "{name}: line {} is not marked value-like",
                        e.line
                    );
                }
            }
            if name.starts_with("corpus") {
                lines += bytes.split(|&b| b == b'\n').count();
            }
        }
    }
    assert!(
        ok_files >= 5 && fail_files >= 5,
        "{ok_files} ok, {fail_files} fail"
    );
    assert!(lines >= 40, "corpus has only {lines} lines");
}

/// kustomize silently stops reading at a line over 65535 bytes (Go `bufio.Scanner`
/// `ErrTooLong`, unchecked in `api/kv/kv.go`); emp-seal refuses exactly those files.
#[test]
fn long_lines_refused_exactly_where_kustomize_truncates() {
    if common::kubectl().is_none() {
        return;
    }
    for content_len in [65535usize, 65536] {
        for terminated in [true, false] {
            let mut bytes = b"A=1\nB=".to_vec();
            bytes.resize(4 + content_len, b'x');
            if terminated {
                bytes.extend_from_slice(b"\nC=3\n");
            }
            let theirs = kustomize_envs(&bytes).expect("kustomize never fails here");
            let all_read = theirs.contains_key("B");
            match envfile::parse(&bytes) {
                Ok(ours) => {
                    assert!(all_read, "{content_len}/{terminated}: kustomize truncated");
                    assert_same("long line", &ours, &theirs);
                }
                Err(e) => {
                    assert!(
                        !all_read,
                        "{content_len}/{terminated}: refused needlessly: {e}"
                    );
                    assert!(matches!(e, EnvError::LineTooLong { .. }) && e.line() == Some(2));
                    assert_eq!(theirs.keys().collect::<Vec<_>>(), ["A"]);
                }
            }
        }
    }
}

/// Rendered files read back identically through the real kustomize.
#[test]
fn render_round_trips_through_kustomize() {
    if common::kubectl().is_none() {
        return;
    }
    let items: Vec<(&str, emp_seal::secret::SecretValue)> = [
        ("EMPTY", &b""[..]),
        ("QUOTED", b"\"kept\""),
        ("HASH", b"x # kept"),
        ("SPACES", b"  both ends  "),
        ("UNICODE", "ünï\u{a0}code 🎉".as_bytes()),
        ("EQUALS", b"a=b=c"),
        ("DOLLAR", b"${NOT_EXPANDED}"),
    ]
    .into_iter()
    .map(|(k, v)| (k, emp_seal::secret::SecretValue::from_slice(v)))
    .collect();
    let out = envfile::render(items.iter().map(|(k, v)| (*k, v))).expect("renders");
    let theirs = kustomize_envs(&out).expect("kustomize reads rendered file");
    let ours = envfile::parse(&out).expect("parses");
    assert_same("rendered", &ours, &theirs);
    assert_eq!(ours.len(), items.len());
}

/// `kubectl create secret --from-env-file` (dry run, offline) behaves as the lint messages say.
#[test]
fn kubectl_from_env_file_disagrees_as_linted() {
    if common::kubectl().is_none() {
        return;
    }
    let run = |line: &str| {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("f.env");
        write_file(&file, line.as_bytes());
        Command::new("kubectl")
            .args([
                "create",
                "secret",
                "generic",
                "probe",
                "--dry-run=client",
                "-o",
                "yaml",
            ])
            .arg(format!("--from-env-file={}", file.display()))
            .env("EMP_SEAL_PROBE", "from-process-env")
            .output()
            .expect("run kubectl")
    };
    for (id, line) in [
        (LintId::ExportPrefix, "export A=1\n"),
        (LintId::InvalidKey, "A B=1\n"),
        (LintId::KeyNotEnvName, "1A=1\n"),
        (LintId::EmptyKey, "=1\n"),
    ] {
        assert!(envfile::lint(line.as_bytes()).iter().any(|l| l.id == id));
        assert!(
            envfile::parse(line.as_bytes()).is_ok(),
            "kustomize accepts {line:?}"
        );
        assert!(
            !run(line).status.success(),
            "kubectl should refuse {line:?} ({id})"
        );
    }
    // env-missing-equals: kubectl copies the value from its own environment.
    let line = "EMP_SEAL_PROBE\n";
    assert!(
        envfile::lint(line.as_bytes())
            .iter()
            .any(|l| l.id == LintId::MissingEquals)
    );
    let out = run(line);
    assert!(out.status.success());
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(yaml.contains(&common::b64(b"from-process-env")), "{yaml}");
    let ours = envfile::parse(line.as_bytes()).expect("parses");
    assert!(ours.entries[0].value.is_empty());
}
