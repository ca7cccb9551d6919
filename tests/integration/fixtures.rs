//! Test keys and certificates shared by every test module.
//!
//! Committed TEST ONLY pairs live in `tests/fixtures/{keys,certs,demo}/`; certificates whose
//! dates or key types vary are made at test time by `tests/fixtures/certs/make_cert.py` (python
//! `cryptography` from the peer virtualenv), because dates move.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

use emp_seal::cert::Certificate;
use emp_seal::crypto::{RsaPublicKey, UnsealingKey};

use crate::common;

/// The RSA sizes with committed TEST ONLY pairs.
pub(crate) const BITS: [usize; 3] = [2048, 3072, 4096];

/// Path of a file under `tests/fixtures/`.
pub(crate) fn fixture_path(rel: &str) -> PathBuf {
    common::repo_root().join("tests/fixtures").join(rel)
}

fn read(rel: &str) -> String {
    let p = fixture_path(rel);
    let text = std::fs::read_to_string(&p);
    assert!(
        text.is_ok(),
        "read {}: {:?}",
        p.display(),
        text.as_ref().err()
    );
    text.expect("fixture file is readable")
}

/// PKCS#8 PEM of the TEST ONLY RSA key of `bits` (2048, 3072 or 4096).
pub(crate) fn key_pem(bits: usize) -> String {
    read(&format!("keys/rsa-{bits}-key.pem"))
}

/// PKCS#1 (`RSA PRIVATE KEY`) PEM of the 2048-bit TEST ONLY key.
pub(crate) fn pkcs1_key_pem() -> String {
    read("keys/rsa-2048-key.pkcs1.pem")
}

/// Self-signed certificate (valid until 2036) for [`key_pem`]`(bits)`.
pub(crate) fn cert_pem(bits: usize) -> String {
    read(&format!("certs/rsa-{bits}-cert.pem"))
}

/// The demo sealing certificate (RSA-4096, subject contains `emp-seal DEMO`).
pub(crate) fn demo_cert_pem() -> String {
    read("demo/paper-sealing-cert.pem")
}

/// The demo sealing certificate's private key.
pub(crate) fn demo_key_pem() -> String {
    read("demo/paper-sealing-key.pem")
}

/// Parsed [`cert_pem`].
pub(crate) fn cert(bits: usize) -> Certificate {
    Certificate::from_pem(cert_pem(bits).as_bytes()).expect("fixture certificate parses")
}

/// Public key of the TEST ONLY pair of `bits`.
pub(crate) fn public_key(bits: usize) -> RsaPublicKey {
    cert(bits).public_key().clone()
}

/// Private key of the TEST ONLY pair of `bits`.
pub(crate) fn private_key(bits: usize) -> UnsealingKey {
    emp_seal::keys::load_private_keys(key_pem(bits).as_bytes(), "fixture")
        .expect("fixture key loads")
        .remove(0)
}

/// A self-signed certificate valid from `now + not_before_days` to `now + not_after_days`
/// (negative = past) for the committed key of `bits` (a fresh key for other sizes).
/// Returns `(cert_pem, key_pem)`, or `None` after [`common::missing`] without the peer venv.
pub(crate) fn make_cert(
    bits: usize,
    not_before_days: i64,
    not_after_days: i64,
) -> Option<(String, String)> {
    let key = if BITS.contains(&bits) {
        format!(
            "file:{}",
            fixture_path(&format!("keys/rsa-{bits}-key.pem")).display()
        )
    } else {
        format!("rsa:{bits}")
    };
    make_cert_with(&key, not_before_days, not_after_days)
}

/// [`make_cert`] with a `make_cert.py --key` spec: `rsa:BITS`, `ec` or `file:PATH`.
pub(crate) fn make_cert_with(
    key_spec: &str,
    not_before_days: i64,
    not_after_days: i64,
) -> Option<(String, String)> {
    let python = std::env::var_os("EMP_PEER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::repo_root().join(".venv-peer/bin/python"));
    if !python.is_file() {
        common::missing(&format!("python with cryptography at {}", python.display()));
        return None;
    }
    let out = Command::new(python)
        .arg(fixture_path("certs/make_cert.py"))
        .args(["--key", key_spec])
        .arg(format!("--not-before-days={not_before_days}"))
        .arg(format!("--not-after-days={not_after_days}"))
        .output()
        .expect("run make_cert.py");
    assert!(
        out.status.success(),
        "make_cert.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("make_cert.py JSON");
    Some((
        v["cert"].as_str().expect("cert").to_string(),
        v["key"].as_str().expect("key").to_string(),
    ))
}

/// Runs `openssl` with `args`, feeding `stdin`; returns stdout, or `None` after
/// [`common::missing`] when openssl is not installed. Panics if openssl fails.
pub(crate) fn openssl(args: &[&str], stdin: &[u8]) -> Option<Vec<u8>> {
    let out = openssl_result(args, stdin)?;
    assert!(out.is_ok(), "openssl {args:?} failed: {out:?}");
    out.ok()
}

/// [`openssl`], returning a failure (its stderr) instead of panicking.
pub(crate) fn openssl_result(args: &[&str], stdin: &[u8]) -> Option<Result<Vec<u8>, String>> {
    use std::io::Write;
    use std::process::Stdio;
    if common::which("openssl").is_none() {
        common::missing("openssl");
        return None;
    }
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn openssl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write openssl stdin");
    let out = child.wait_with_output().expect("openssl output");
    Some(if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    })
}

/// `cx` with `key` sealing the `SealedSecrets` under `dir` (repository-relative).
pub fn with_key<'a>(
    mut cx: emp_seal::rules::Context<'a>,
    dir: &str,
    key: RsaPublicKey,
) -> emp_seal::rules::Context<'a> {
    cx.keys.push(emp_seal::rules::EnvironmentKey {
        dir: dir.trim_end_matches('/').to_owned(),
        key,
    });
    cx
}
