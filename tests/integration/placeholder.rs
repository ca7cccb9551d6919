//! The placeholder classifier against real ciphertexts from the independent Python peer (every
//! key size and scope: it must never fire) and against a corpus of placeholder styles seen in the
//! wild (it must always fire), plus the ciphertext rules end to end over generated trees.
// Test helpers outside #[test] fns: unwrap is the assertion; temp files are written directly.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::Path;
use std::process::Command;

use emp_seal::crypto::RsaPublicKey;
use emp_seal::rules::{self, Context, SourceFile};
use emp_seal::sealedsecret::ciphertext::{Reason, Verdict, classify};
use rustls_pki_types::SubjectPublicKeyInfoDer;
use rustls_pki_types::pem::PemObject as _;

use crate::common::{self, Peer, b64};

/// A TEST ONLY RSA key pair generated with openssl into a temp dir.
struct TestKey {
    bits: u32,
    public_pem: String,
    key: RsaPublicKey,
}

fn openssl_key(dir: &Path, bits: u32) -> Option<TestKey> {
    let Some(openssl) = common::which("openssl") else {
        common::missing("openssl");
        return None;
    };
    let private = dir.join(format!("test-only-{bits}.key"));
    let public = dir.join(format!("test-only-{bits}.pub"));
    let ok = Command::new(&openssl)
        .args(["genrsa", "-out"])
        .arg(&private)
        .arg(bits.to_string())
        .output()
        .expect("run openssl genrsa")
        .status
        .success();
    assert!(ok, "openssl genrsa {bits}");
    let ok = Command::new(&openssl)
        .args(["rsa", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .output()
        .expect("run openssl rsa -pubout")
        .status
        .success();
    assert!(ok, "openssl rsa -pubout");
    let public_pem = std::fs::read_to_string(&public).expect("read public key");
    // emp-seal reads openssl's key to the modulus openssl prints.
    let spki = SubjectPublicKeyInfoDer::from_pem_slice(public_pem.as_bytes()).expect("pem");
    let key = RsaPublicKey::from_spki_der(spki.as_ref()).expect("emp-seal reads the key");
    assert_eq!(key.bits(), usize::try_from(bits).unwrap());
    let out = Command::new(&openssl)
        .args(["rsa", "-pubin", "-noout", "-modulus", "-in"])
        .arg(&public)
        .output()
        .expect("run openssl rsa -modulus");
    let hex: String = key.modulus().iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("Modulus={hex}")
    );
    Some(TestKey {
        bits,
        public_pem,
        key,
    })
}

/// xorshift64*: deterministic "random" lengths and bytes, so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> usize {
        usize::try_from(self.next() % n).unwrap()
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next().to_le_bytes()[0]).collect()
    }
}

const LABELS: [&[u8]; 3] = [b"emp-paper/emp-secrets", b"emp-paper", b""];

struct Corpus {
    _dir: tempfile::TempDir,
    keys: Vec<TestKey>,
    /// (key index, base64 value)
    values: Vec<(usize, String)>,
}

fn corpus(per_key_and_scope: usize) -> Option<Corpus> {
    let dir = tempfile::tempdir().unwrap();
    let mut keys = Vec::new();
    for bits in [2048, 3072, 4096] {
        keys.push(openssl_key(dir.path(), bits)?);
    }
    let mut peer = Peer::start()?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut values = Vec::new();
    for (ki, k) in keys.iter().enumerate() {
        for label in LABELS {
            for _ in 0..per_key_and_scope {
                let len = rng.below(301);
                let plaintext = rng.bytes(len);
                let raw = peer.encrypt(&k.public_pem, label, &plaintext);
                values.push((ki, b64(&raw)));
            }
        }
    }
    Some(Corpus {
        _dir: dir,
        keys,
        values,
    })
}

fn wild() -> Vec<String> {
    let path = common::repo_root().join("tests/fixtures/placeholders/wild.txt");
    std::fs::read_to_string(path)
        .expect("read wild.txt")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

fn sealed_secret(values: &[(String, String)]) -> String {
    let mut s = String::from(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: emp-secrets\n  namespace: emp-paper\nspec:\n  encryptedData:\n",
    );
    for (k, v) in values {
        s.push_str(&format!("    {k}: {v}\n"));
    }
    s.push_str("  template:\n    metadata:\n      name: emp-secrets\n      namespace: emp-paper\n");
    s
}

#[test]
fn real_ciphertexts_are_never_flagged() {
    // 3 key sizes x 3 scopes x 23 = 207 values from the independent peer.
    let Some(c) = corpus(23) else { return };
    assert!(c.values.len() >= 200);
    for (ki, v) in &c.values {
        let k = &c.keys[*ki];
        assert_eq!(
            classify(v, None),
            Verdict::Ok,
            "{}-bit value flagged",
            k.bits
        );
        assert_eq!(
            classify(v, Some(&k.key)),
            Verdict::Ok,
            "{}-bit value flagged against its own key",
            k.bits
        );
    }
    // End to end: the rules over one SealedSecret per key size find nothing.
    for (ki, k) in c.keys.iter().enumerate() {
        let entries: Vec<(String, String)> = c
            .values
            .iter()
            .filter(|(i, _)| *i == ki)
            .enumerate()
            .map(|(n, (_, v))| (format!("KEY_{n}"), v.clone()))
            .collect();
        let files = [SourceFile::new(
            "overlays/paper/sealedsecret.yaml",
            sealed_secret(&entries),
        )];
        let cx = crate::fixtures::with_key(
            Context::new(Path::new("."), &files),
            "overlays/paper",
            k.key.clone(),
        );
        let report = rules::run(&cx);
        assert!(
            report.findings.is_empty(),
            "{}-bit: {:?}",
            k.bits,
            report
                .findings
                .iter()
                .map(|f| &f.message)
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn wild_placeholders_are_always_flagged() {
    let values = wild();
    assert!(values.len() >= 30, "wild.txt has {} values", values.len());
    for v in &values {
        assert!(!classify(v, None).is_ok(), "not flagged: {v}");
    }
}

#[test]
fn damaged_real_ciphertexts_are_flagged() {
    let Some(c) = corpus(2) else { return };
    for (ki, v) in &c.values {
        let k = &c.keys[*ki];
        // Truncated pastes, at several lengths (kept on a 4-character boundary so they stay
        // padded base64).
        for keep in [8usize, 100, 300, v.len() / 2] {
            let cut = &v[..keep - keep % 4];
            assert!(
                !classify(cut, None).is_ok(),
                "truncated to {keep} not flagged"
            );
        }
        // The whole RSA block and tag gone: only the GCM body of a short plaintext left.
        let raw = common::unb64(v);
        let minimal = b64(&raw[..2 + (k.bits as usize / 8) + 15]);
        assert!(matches!(
            classify(&minimal, None).reasons(),
            [Reason::TooShort { .. }]
        ));
        // Unpadded and url-safe variants.
        if v.ends_with('=') {
            assert!(
                classify(v.trim_end_matches('='), None)
                    .reasons()
                    .contains(&Reason::Unpadded)
            );
        }
        let url = v.replace('+', "-").replace('/', "_");
        if url != *v {
            assert!(
                classify(&url, None)
                    .reasons()
                    .contains(&Reason::UrlSafeBase64)
            );
        }
        // Against a key of another size: the size mismatch is named.
        let other = &c.keys[(ki + 1) % c.keys.len()];
        assert!(
            classify(v, Some(&other.key))
                .reasons()
                .iter()
                .any(|r| matches!(r, Reason::KeySizeMismatch { .. }))
        );
    }
}

#[test]
fn ciphertext_rules_on_fixture_trees() {
    let Some(c) = corpus(1) else { return };
    let (k2048, k4096) = (&c.keys[0], &c.keys[2]);
    let real_4096 = c.values.iter().find(|(i, _)| *i == 2).unwrap().1.clone();
    let real_2048 = c.values.iter().find(|(i, _)| *i == 0).unwrap().1.clone();
    let url = real_4096.replace('+', "-").replace('/', "_");
    let url = if url == real_4096 {
        format!("{}-_", &url[..url.len() - 2])
    } else {
        url
    };
    let path = "overlays/paper/sealedsecret.yaml";

    // Failing tree: each value on its own line (lines 8, 9, 10 of the generated file).
    let entries = [
        ("A".to_string(), "AgAAAA...".to_string()),
        ("B".to_string(), url),
        ("C".to_string(), real_2048.clone()),
    ];
    let files = [SourceFile::new(path, sealed_secret(&entries))];
    let cx = crate::fixtures::with_key(
        Context::new(Path::new("."), &files),
        "overlays/paper",
        k4096.key.clone(),
    );
    let report = rules::run(&cx);
    let got: Vec<(&str, &str, u32)> = report
        .findings
        .iter()
        .map(|f| (f.rule.id, f.primary.path.as_str(), f.primary.line))
        .collect();
    assert_eq!(
        got,
        vec![
            ("placeholder-ciphertext", path, 8),
            ("invalid-ciphertext", path, 9),
            ("ciphertext-key-size-mismatch", path, 10),
        ]
    );

    // Clean twin: real values for the environment's key.
    let entries = [("A".to_string(), real_4096.clone())];
    let files = [SourceFile::new(path, sealed_secret(&entries))];
    let cx = crate::fixtures::with_key(
        Context::new(Path::new("."), &files),
        "overlays/paper",
        k4096.key.clone(),
    );
    assert!(rules::run(&cx).findings.is_empty());
    // And the 2048-bit value is clean for a 2048-bit environment.
    let entries = [("C".to_string(), real_2048)];
    let files = [SourceFile::new(path, sealed_secret(&entries))];
    let cx = crate::fixtures::with_key(
        Context::new(Path::new("."), &files),
        "overlays/paper",
        k2048.key.clone(),
    );
    assert!(rules::run(&cx).findings.is_empty());
}

/// A real value sealed for `bits`, with `zeros` zero bytes written into the RSA block at
/// `offset` (from the block's start) and a non-zero byte on either side, so the run is exactly
/// `zeros` long. Offsets past the block put the run into the AES-GCM part.
fn with_zero_run(bits: usize, offset: usize, zeros: usize) -> String {
    use emp_seal::crypto::{LENGTH_PREFIX_BYTES, encode_value, seal};
    let key = crate::fixtures::public_key(bits);
    let mut raw = seal(&key, b"emp-paper/emp-secrets", &[b'v'; 40]).unwrap();
    let start = LENGTH_PREFIX_BYTES + offset;
    raw[start..start + zeros].fill(0);
    for at in [start.wrapping_sub(1), start + zeros] {
        if at >= LENGTH_PREFIX_BYTES && at < raw.len() {
            raw[at] = 0x5a;
        }
    }
    encode_value(&raw)
}

/// Issue 14: the zero-run threshold at its edge. A run of 16 zero bytes anywhere in the RSA
/// block is a placeholder (`ZERO_RUN`: a real block holds one with probability below 2^-119);
/// 15 is not, and neither are zeros outside the block. Checked with and without the
/// environment's key, for every key size, at the block's start, middle and end.
#[test]
fn issue_14_zero_run_threshold_is_sixteen_bytes_of_the_rsa_block() {
    for bits in crate::fixtures::BITS {
        let key = crate::fixtures::public_key(bits);
        let k = bits / 8;
        for expected in [None, Some(&key)] {
            for offset in [0, k / 2, k - 16] {
                let at = format!(
                    "rsa-{bits}, offset {offset}, key given: {}",
                    expected.is_some()
                );
                let fifteen = classify(&with_zero_run(bits, offset + 1, 15), expected);
                assert_eq!(fifteen, Verdict::Ok, "15 zeros, {at}");
                let sixteen = classify(&with_zero_run(bits, offset, 16), expected);
                assert_eq!(
                    sixteen,
                    Verdict::Bad(vec![Reason::ZeroRun(16)]),
                    "16 zeros, {at}"
                );
            }
            // 15 zeros ending the block and one more starting the AES part: a run of 16 bytes,
            // but only 15 of them in the RSA block.
            let straddling = classify(&with_zero_run(bits, k - 15, 16), expected);
            assert_eq!(
                straddling,
                Verdict::Ok,
                "rsa-{bits}: straddling the block end"
            );
            let in_aes = classify(&with_zero_run(bits, k + 4, 32), expected);
            assert_eq!(in_aes, Verdict::Ok, "rsa-{bits}: zeros in the AES-GCM part");
        }
    }
}

/// The same edge through the rules: a 16-zero value is a `placeholder-ciphertext` finding on its
/// key's line, a 15-zero value beside it gives none.
#[test]
fn issue_14_zero_run_edge_through_the_rules() {
    let path = "overlays/paper/sealedsecret.yaml";
    let entries = [
        ("FIFTEEN".to_string(), with_zero_run(4096, 201, 15)),
        ("SIXTEEN".to_string(), with_zero_run(4096, 200, 16)),
    ];
    let files = [SourceFile::new(path, sealed_secret(&entries))];
    let cx = crate::fixtures::with_key(
        Context::new(Path::new("."), &files),
        "overlays/paper",
        crate::fixtures::public_key(4096),
    );
    let got: Vec<(&str, u32)> = rules::run(&cx)
        .findings
        .iter()
        .map(|f| (f.rule.id, f.primary.line))
        .collect();
    assert_eq!(got, vec![("placeholder-ciphertext", 9)]);
}

/// A YAML number or boolean where a ciphertext string belongs (`A: 12`, `B: true`): the API
/// server's string map refuses it, and no ciphertext it is. `true` even decodes as base64, so
/// the classifier named an RSA length prefix; both are now one `placeholder-ciphertext` saying
/// what the value is, and no other ciphertext rule speaks of them.
#[test]
fn a_number_or_boolean_is_a_placeholder_named_for_what_it_is() {
    let path = "overlays/paper/sealedsecret.yaml";
    let text = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: s\n  namespace: ns\nspec:\n  encryptedData:\n    A: 12\n    B: true\n";
    let files = [SourceFile::new(path, text)];
    let report = rules::run(&Context::new(Path::new("."), &files));
    let got: Vec<(&str, u32, &str)> = report
        .findings
        .iter()
        .map(|f| (f.rule.id, f.primary.line, f.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "placeholder-ciphertext",
                8,
                "`A` in SealedSecret `s`: the value is a YAML number, not a string: no ciphertext"
            ),
            (
                "placeholder-ciphertext",
                9,
                "`B` in SealedSecret `s`: the value is a YAML boolean, not a string: no ciphertext"
            ),
        ]
    );
}
