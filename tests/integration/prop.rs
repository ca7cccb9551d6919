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
use emp_seal::sealedsecret::{EditPlan, apply};
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
        let independent = independent_oracle(&layout.text, layout.doc, &plan, &out);
        prop_assert!(independent.is_ok(), "{:?}\n--- old\n{}\n--- plan {:?}\n--- new\n{}",
            independent.err(), layout.text, plan, out);
    }
}

/// The oracles are not vacuous: an unplanned comment, an unplanned line and a changed kept value
/// are each caught, by the model's oracle and by the independent one.
#[test]
fn rewrite_oracle_catches_corruption() {
    let mut caught = [0usize; 3];
    let mut caught_independently = [0usize; 3];
    for seed in 0u8..=255 {
        let bytes: Vec<u8> = (0..200u16)
            .map(|i| u8::try_from((u16::from(seed) * 31 + i * 17) % 256).unwrap())
            .collect();
        let mut src = Src::new(&bytes);
        let layout = gen_layout(&mut src);
        let plan = gen_plan(&mut src, &layout.text, layout.doc);
        let out = apply(&layout.text, layout.doc, &plan).unwrap();
        check_rewrite(&layout.text, layout.doc, &plan, &out).unwrap();
        independent_oracle(&layout.text, layout.doc, &plan, &out).unwrap();
        let corrupt = [
            out.replacen("kind: SealedSecret", "kind: SealedSecret # x", 1),
            out.replacen("kind: SealedSecret", "kind: SealedSecret\nextra: 1", 1),
            out.replacen("name: s", "name: t", 1),
        ];
        for (i, c) in corrupt.iter().enumerate() {
            if *c != out && check_rewrite(&layout.text, layout.doc, &plan, c).is_err() {
                caught[i] += 1;
            }
            if *c != out && independent_oracle(&layout.text, layout.doc, &plan, c).is_err() {
                caught_independently[i] += 1;
            }
        }
    }
    assert!(
        caught.iter().all(|n| *n > 200),
        "oracle caught {caught:?} of 256"
    );
    assert!(
        caught_independently.iter().all(|n| *n > 200),
        "independent oracle caught {caught_independently:?} of 256"
    );
}

/// Corruptions that a reader sharing the editor's notion of scalars and spans could agree with:
/// a YAML 1.1 boolean written plain, a comment lost after a replaced value, a key re-quoted,
/// a CRLF line turned LF. The independent oracle catches each.
#[test]
fn independent_oracle_catches_scalar_and_layout_slips() {
    let old = "apiVersion: bitnami.com/v1alpha1\r\nkind: SealedSecret\r\nmetadata:\r\n  name: s\r\nspec:\r\n  encryptedData:\r\n    A: AgAAAA==   # note\r\n    B: AgBBBB==\r\n";
    let plan = EditPlan {
        set: vec![("A".into(), "true".into())],
        ..EditPlan::default()
    };
    let good = apply(old, 0, &plan).unwrap();
    independent_oracle(old, 0, &plan, &good).unwrap();
    for bad in [
        good.replace("\"true\"", "true").replace("'true'", "true"),
        good.replace("   # note", ""),
        good.replace("    A:", "    'A':"),
        good.replacen("\r\n", "\n", 1),
    ] {
        assert_ne!(bad, good);
        assert!(
            independent_oracle(old, 0, &plan, &bad).is_err(),
            "missed:\n{bad}"
        );
    }
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

/// An oracle for `apply(old, doc, plan) == Ok(new)` that shares nothing with the crate's
/// SealedSecret reader: the expected document is computed with `yaml_serde` from the old text
/// and the plan, and the text is compared line by line (an LCS diff), never through spans.
///
/// 1. `new` has the same `---`-separated chunks, and every chunk but the edited document's is
///    byte-identical; a CRLF file stays CRLF.
/// 2. The edited document, read with `yaml_serde`, is the old one with the plan applied:
///    `encryptedData` and `annotations` hold the planned strings (never a YAML 1.1 boolean,
///    number or null), existing keys keep their place, new keys follow in plan order; nothing
///    else in the document changes. A missing, null or empty `encryptedData`/`annotations`
///    (and a `spec` left empty) count as the same thing.
/// 3. Every line the diff drops or adds is blank, a container header, or an entry line (at the
///    entry indentation) of a planned key; a replaced entry keeps its key exactly as written
///    and everything after its value (the comment).
fn independent_oracle(old: &str, doc: usize, plan: &EditPlan, new: &str) -> Result<(), String> {
    let (ca, cb) = (chunks(old), chunks(new));
    if ca.len() != cb.len() {
        return Err(format!("{} chunks became {}", ca.len(), cb.len()));
    }
    let target = ca
        .iter()
        .enumerate()
        .filter(|(_, c)| c.iter().any(|l| is_content(l)))
        .nth(doc)
        .map(|(i, _)| i)
        .ok_or("no such document")?;
    for (i, (a, b)) in ca.iter().zip(&cb).enumerate() {
        if i != target && a != b {
            return Err(format!("chunk {i} changed: {a:?} -> {b:?}"));
        }
    }
    let bare_lf = |t: &str| t.match_indices('\n').any(|(i, _)| !t[..i].ends_with('\r'));
    if old.contains("\r\n") && !bare_lf(old) && bare_lf(new) {
        return Err("a CRLF file got a bare LF".into());
    }
    let (va, vb) = (yaml_docs(old)?, yaml_docs(new)?);
    if va.len() != vb.len() || va.len() <= doc {
        return Err(format!("{} YAML documents became {}", va.len(), vb.len()));
    }
    compare_values(&va[doc], &vb[doc], plan)?;
    compare_lines(&ca[target], &cb[target], plan)
}

/// The text as chunks of lines (terminators kept); a `---` line starts a new chunk.
fn chunks(text: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = vec![Vec::new()];
    for line in text.split_inclusive('\n') {
        if line.trim_end_matches(['\r', '\n']) == "---" {
            out.push(Vec::new());
        }
        out.last_mut().unwrap().push(line);
    }
    out
}

/// A line that is neither blank, a comment nor a `---` separator.
fn is_content(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with('#') && t != "---"
}

fn yaml_docs(text: &str) -> Result<Vec<yaml_serde::Value>, String> {
    yaml_serde::Deserializer::from_str(text)
        .map(|d| {
            <yaml_serde::Value as serde::Deserialize>::deserialize(d)
                .map_err(|e| format!("yaml_serde: {e}"))
        })
        .collect()
}

/// `(key, value)` pairs of the mapping at `path`, in document order; missing or null is empty.
fn entries(
    v: &yaml_serde::Value,
    path: [&str; 2],
) -> Result<Vec<(String, yaml_serde::Value)>, String> {
    match v.get(path[0]).and_then(|x| x.get(path[1])) {
        None | Some(yaml_serde::Value::Null) => Ok(Vec::new()),
        Some(yaml_serde::Value::Mapping(m)) => m
            .iter()
            .map(|(k, x)| match k {
                yaml_serde::Value::String(k) => Ok((k.clone(), x.clone())),
                other => Err(format!("{path:?} has a non-string key {other:?}")),
            })
            .collect(),
        Some(other) => Err(format!("{path:?} is {other:?}")),
    }
}

/// `entries` with `set` applied in place or appended, and `remove` taken out.
fn planned(
    mut e: Vec<(String, yaml_serde::Value)>,
    set: &[(String, String)],
    remove: &[String],
) -> Vec<(String, yaml_serde::Value)> {
    for (k, v) in set {
        let v = yaml_serde::Value::String(v.clone());
        match e.iter_mut().find(|(ek, _)| ek == k) {
            Some(slot) => slot.1 = v,
            None => e.push((k.clone(), v)),
        }
    }
    e.retain(|(k, _)| !remove.contains(k));
    e
}

/// The document without `spec.encryptedData` and `metadata.annotations` (and without a `spec`
/// or `metadata` that only held them).
fn without_edited(v: &yaml_serde::Value) -> yaml_serde::Value {
    let mut v = v.clone();
    if let Some(root) = v.as_mapping_mut() {
        for (outer, inner) in [("spec", "encryptedData"), ("metadata", "annotations")] {
            let empty = match root.get_mut(outer) {
                Some(yaml_serde::Value::Mapping(m)) => {
                    m.shift_remove(inner);
                    m.is_empty()
                }
                Some(yaml_serde::Value::Null) => true,
                _ => false,
            };
            if empty {
                root.shift_remove(outer);
            }
        }
    }
    v
}

fn compare_values(
    a: &yaml_serde::Value,
    b: &yaml_serde::Value,
    plan: &EditPlan,
) -> Result<(), String> {
    let want = planned(
        entries(a, ["spec", "encryptedData"])?,
        &plan.set,
        &plan.remove,
    );
    let got = entries(b, ["spec", "encryptedData"])?;
    if got != want {
        return Err(format!("encryptedData {got:?} != planned {want:?}"));
    }
    let want = planned(
        entries(a, ["metadata", "annotations"])?,
        &plan.annotations,
        &plan.remove_annotations,
    );
    let got = entries(b, ["metadata", "annotations"])?;
    if got != want {
        return Err(format!("annotations {got:?} != planned {want:?}"));
    }
    if without_edited(a) != without_edited(b) {
        return Err("the document changed outside encryptedData and annotations".into());
    }
    Ok(())
}

/// An entry line `<indent><key>:<rest>` split into (indent, key as written, key, rest).
fn entry_line(line: &str) -> Option<(usize, &str, String, &str)> {
    let line = line.trim_end_matches(['\r', '\n']);
    let body = line.trim_start_matches(' ');
    let indent = line.len() - body.len();
    let written_len = match body.chars().next()? {
        q @ ('\'' | '"') => body[1..].find(q)? + 2,
        _ => body.find(':')?,
    };
    let (written, rest) = body.split_at(written_len);
    let rest = rest.strip_prefix(':')?;
    let key = written.trim_matches(['\'', '"']).to_string();
    Some((indent, written, key, rest))
}

/// `rest` of an entry line without its value token: what follows the value (a comment).
fn after_value(rest: &str) -> &str {
    let t = rest.trim_start_matches(' ');
    let mut chars = t.char_indices();
    let end = match chars.next() {
        None => return "",
        Some((_, '#')) => return t,
        Some((_, '\'')) => loop {
            match chars.next() {
                Some((i, '\'')) if t[i + 1..].starts_with('\'') => {
                    chars.next();
                }
                Some((i, '\'')) => break i + 1,
                Some(_) => {}
                None => break t.len(),
            }
        },
        Some((_, '"')) => loop {
            match chars.next() {
                Some((_, '\\')) => {
                    chars.next();
                }
                Some((i, '"')) => break i + 1,
                Some(_) => {}
                None => break t.len(),
            }
        },
        // A plain scalar runs to a ` #` comment or the line's end, trailing blanks excluded.
        Some(_) => {
            let body = t.find(" #").map_or(t, |c| &t[..c]);
            body.trim_end_matches([' ', '\t']).len()
        }
    };
    &t[end..]
}

/// Longest-common-subsequence pairing of two line lists: for each side, whether a line is kept.
fn lcs_kept(a: &[&str], b: &[&str]) -> (Vec<bool>, Vec<bool>) {
    let mut t = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            t[i][j] = if a[i] == b[j] {
                t[i + 1][j + 1] + 1
            } else {
                t[i + 1][j].max(t[i][j + 1])
            };
        }
    }
    let (mut ka, mut kb) = (vec![false; a.len()], vec![false; b.len()]);
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            ka[i] = true;
            kb[j] = true;
            i += 1;
            j += 1;
        } else if t[i + 1][j] >= t[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    (ka, kb)
}

fn compare_lines(a: &[&str], b: &[&str], plan: &EditPlan) -> Result<(), String> {
    let norm = |l: &&str| l.trim_end_matches(['\r', '\n']).to_string();
    let (la, lb): (Vec<String>, Vec<String>) =
        (a.iter().map(norm).collect(), b.iter().map(norm).collect());
    let (ra, rb): (Vec<&str>, Vec<&str>) = (
        la.iter().map(String::as_str).collect(),
        lb.iter().map(String::as_str).collect(),
    );
    // The entry indentation: two steps, a step being the indentation under `metadata:`.
    let step = ra
        .iter()
        .skip_while(|l| !l.starts_with("metadata:"))
        .nth(1)
        .map_or(2, |l| l.len() - l.trim_start_matches(' ').len());
    let planned_keys: Vec<&str> = plan
        .set
        .iter()
        .chain(&plan.annotations)
        .map(|(k, _)| k.as_str())
        .collect();
    let removed_keys: Vec<&str> = plan
        .remove
        .iter()
        .chain(&plan.remove_annotations)
        .map(String::as_str)
        .collect();
    let header = |l: &str| {
        let t = l.trim_start();
        ["spec:", "metadata:", "encryptedData:", "annotations:"]
            .iter()
            .any(|h| t.starts_with(h))
    };
    let entry_of = |l: &str, keys: &[&str]| {
        entry_line(l).is_some_and(|(ind, _, k, _)| ind == 2 * step && keys.contains(&k.as_str()))
    };
    let (ka, kb) = lcs_kept(&ra, &rb);
    let all: Vec<&str> = planned_keys.iter().chain(&removed_keys).copied().collect();
    let may_change = |l: &str, keys: &[&str]| l.trim().is_empty() || header(l) || entry_of(l, keys);
    for (l, kept) in ra.iter().zip(&ka) {
        if !kept && !may_change(l, &all) {
            return Err(format!("old line {l:?} was dropped"));
        }
    }
    for (l, kept) in rb.iter().zip(&kb) {
        if !kept && !may_change(l, &planned_keys) {
            return Err(format!("line {l:?} was added"));
        }
    }
    // A replaced entry keeps its key as written and what followed its value.
    for l in &ra {
        let Some((ind, written, key, rest)) = entry_line(l) else {
            continue;
        };
        if ind != 2 * step || !planned_keys.contains(&key.as_str()) {
            continue;
        }
        let again: Vec<_> = rb
            .iter()
            .filter_map(|n| entry_line(n))
            .filter(|(i, _, k, _)| *i == ind && *k == key)
            .collect();
        let [(_, w, _, r)] = &again[..] else {
            return Err(format!(
                "{key} appears {} times after the edit",
                again.len()
            ));
        };
        if *w != written {
            return Err(format!("{key} was written {written:?}, now {w:?}"));
        }
        // After a value, byte for byte; after an empty value, the same comment.
        let had_value = !rest.trim_start().is_empty() && !rest.trim_start().starts_with('#');
        let (was, now) = (after_value(rest), after_value(r));
        if (had_value && was != now) || was.trim() != now.trim() {
            return Err(format!("{key}: {was:?} after the value became {now:?}"));
        }
    }
    Ok(())
}
