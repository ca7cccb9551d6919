//! Property tests (proptest):
//! - seal then unseal returns arbitrary bytes, for arbitrary labels and every key size, and a
//!   different label never opens it;
//! - the in-place rewrite keeps every byte outside the replaced values, for generated layouts
//!   (the same generator and oracle as the `sealedsecret_rewrite` fuzz target);
//! - env parsing equals a reference model of kustomize's `envs:` semantics written from
//!   docs/envfiles.md, for generated lines; a few generated files are also rendered by the real
//!   `kubectl kustomize` (kept in sync with the kubectl-backed corpus in envfile.rs).
#![allow(clippy::unwrap_used, clippy::panic)] // test helpers: a failure is the report

use std::collections::BTreeMap;
use std::sync::OnceLock;

use emp_seal::crypto::{RsaPublicKey, UnsealingKey};
use emp_seal::envfile;
use emp_seal::sealedsecret::apply;
use proptest::prelude::*;

use crate::{common, fixtures};

#[path = "../../fuzz/fuzz_targets/rewrite_model.rs"]
mod rewrite_model;

use rewrite_model::{Src, check_rewrite, gen_layout, gen_plan};

fn keys() -> &'static [(RsaPublicKey, UnsealingKey); 3] {
    static KEYS: OnceLock<[(RsaPublicKey, UnsealingKey); 3]> = OnceLock::new();
    KEYS.get_or_init(|| fixtures::BITS.map(|b| (fixtures::public_key(b), fixtures::private_key(b))))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn seal_then_unseal_returns_the_bytes(
        plaintext in proptest::collection::vec(any::<u8>(), 0..4096),
        label in proptest::collection::vec(any::<u8>(), 0..96),
        other in proptest::collection::vec(any::<u8>(), 0..96),
        which in 0usize..3,
    ) {
        let (public, private) = &keys()[which];
        let sealed = emp_seal::crypto::seal(public, &label, &plaintext).unwrap();
        let opened = emp_seal::crypto::unseal(std::slice::from_ref(private), &label, &sealed).unwrap();
        prop_assert_eq!(opened.expose_secret(), &plaintext[..]);
        if other != label {
            prop_assert!(emp_seal::crypto::unseal(std::slice::from_ref(private), &other, &sealed).is_err());
        }
        // Only the right key opens it.
        let wrong = &keys()[(which + 1) % 3].1;
        prop_assert!(emp_seal::crypto::unseal(std::slice::from_ref(wrong), &label, &sealed).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn rewrite_keeps_every_byte_outside_the_values(
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut src = Src::new(&bytes);
        let layout = gen_layout(&mut src);
        let plan = gen_plan(&mut src, &layout.text, layout.doc);
        let out = apply(&layout.text, layout.doc, &plan);
        prop_assert!(out.is_ok(), "apply refused {:?}:\n{}", out.err(), layout.text);
        let out = out.unwrap();
        let checked = check_rewrite(&layout.text, layout.doc, &plan, &out);
        prop_assert!(checked.is_ok(), "{:?}\n--- old\n{}\n--- plan {:?}\n--- new\n{}",
            checked.err(), layout.text, plan, out);
    }
}

/// The oracle is not vacuous: an unplanned comment, an unplanned line and a changed kept value
/// are each caught.
#[test]
fn rewrite_oracle_catches_corruption() {
    let mut caught = [0usize; 3];
    for seed in 0u8..=255 {
        let bytes: Vec<u8> = (0..200u16)
            .map(|i| u8::try_from((u16::from(seed) * 31 + i * 17) % 256).unwrap())
            .collect();
        let mut src = Src::new(&bytes);
        let layout = gen_layout(&mut src);
        let plan = gen_plan(&mut src, &layout.text, layout.doc);
        let out = apply(&layout.text, layout.doc, &plan).unwrap();
        check_rewrite(&layout.text, layout.doc, &plan, &out).unwrap();
        let corrupt = [
            out.replacen("kind: SealedSecret", "kind: SealedSecret # x", 1),
            out.replacen("kind: SealedSecret", "kind: SealedSecret\nextra: 1", 1),
            out.replacen("name: s", "name: t", 1),
        ];
        for (i, c) in corrupt.iter().enumerate() {
            if *c != out && check_rewrite(&layout.text, layout.doc, &plan, c).is_err() {
                caught[i] += 1;
            }
        }
    }
    assert!(
        caught.iter().all(|n| *n > 200),
        "oracle caught {caught:?} of 256"
    );
}

/// Go `unicode.IsSpace`: what kustomize's `strings.TrimLeftFunc` trims. It is Rust's
/// `char::is_whitespace` on every scalar value (proved against Go's own table by the unit test
/// `envfile::scan::tests::go_space_matches_go_on_every_scalar_value`).
fn go_space(c: char) -> bool {
    c.is_whitespace()
}

/// The reference model of kustomize `api/kv/kv.go` for valid UTF-8 input (docs/envfiles.md):
/// `Ok(entries)` or `Err(line of the repeated key)`.
fn model(text: &str) -> Result<Vec<(String, String)>, usize> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut lines: Vec<&str> = text.split('\n').collect();
    if text.ends_with('\n') {
        lines.pop();
    }
    for (i, raw) in lines.into_iter().enumerate() {
        let mut line = raw.strip_suffix('\r').unwrap_or(raw);
        if i == 0 {
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        let line = line.trim_start_matches(go_space);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        if k.is_empty() {
            continue;
        }
        if out.iter().any(|(ok, _)| ok == k) {
            return Err(i + 1);
        }
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

fn env_line() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "A", "B", "k", "KEY_1", "export ", "=", "=", "#", " ", "\t", "\u{A0}", "\u{3000}",
        "\u{2028}", "\r", "x", "\"", "'", "$HOME", "\\n", "\u{FEFF}", "\u{200B}", "é", "\u{0B}",
    ]);
    proptest::collection::vec(token, 0..7).prop_map(|t| t.concat())
}

fn env_file() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(env_line(), 0..8),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, crlf, final_nl)| {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut s = lines.join(eol);
            if final_nl {
                s.push_str(eol);
            }
            s
        })
}

fn parsed(text: &str) -> Result<Vec<(String, String)>, usize> {
    match envfile::parse(text.as_bytes()) {
        Ok(f) => Ok(f
            .entries
            .iter()
            .map(|e| {
                (
                    e.key.clone(),
                    String::from_utf8(e.value.expose_secret().to_vec()).unwrap(),
                )
            })
            .collect()),
        Err(e) => Err(e.line().unwrap_or(0)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn env_parse_equals_the_kustomize_model(text in env_file()) {
        prop_assert_eq!(parsed(&text), model(&text), "{:?}", text);
    }
}

/// A handful of generated files through the real `kubectl kustomize`: same keys and values, or
/// both refuse. Deterministic inputs (a fixed-seed runner), five renders.
#[test]
fn generated_env_files_match_real_kustomize() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    if common::kubectl().is_none() {
        common::missing("kubectl (for kubectl kustomize)");
        return;
    }
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let strategy = env_file();
    let mut rendered = 0;
    let mut tries = 0;
    while rendered < 5 && tries < 200 {
        tries += 1;
        let text = strategy.new_tree(&mut runner).unwrap().current();
        let ours = parsed(&text);
        // Files whose keys the YAML round trip would blur (a key with `\r`) are skipped.
        if ours
            .as_ref()
            .is_ok_and(|v| v.is_empty() || v.iter().any(|(k, _)| k.contains('\r')))
        {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        emp_seal::fsio::atomic_write(&dir.path().join("s.env"), text.as_bytes()).unwrap();
        emp_seal::fsio::atomic_write(
            &dir.path().join("kustomization.yaml"),
            b"secretGenerator:\n- name: p\n  envs:\n  - s.env\n  options:\n    disableNameSuffixHash: true\n",
        )
        .unwrap();
        let out = common::kustomize_raw(dir.path());
        rendered += 1;
        match ours {
            Err(_) => assert!(!out.status.success(), "kustomize accepted {text:?}"),
            Ok(entries) => {
                assert!(
                    out.status.success(),
                    "kustomize refused {text:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                #[derive(serde::Deserialize)]
                struct Doc {
                    data: Option<BTreeMap<String, String>>,
                }
                let doc: Doc = yaml_serde::from_slice(&out.stdout).unwrap();
                let theirs: BTreeMap<String, Vec<u8>> = doc
                    .data
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, common::unb64(&v.split_whitespace().collect::<String>())))
                    .collect();
                let ours: BTreeMap<String, Vec<u8>> = entries
                    .into_iter()
                    .map(|(k, v)| (k, v.into_bytes()))
                    .collect();
                assert_eq!(ours, theirs, "{text:?}");
            }
        }
    }
    assert_eq!(rendered, 5);
}
