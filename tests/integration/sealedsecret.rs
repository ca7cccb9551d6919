//! Lossless rewrites of `SealedSecret` files (issue 4): golden fixtures under
//! tests/fixtures/sealedsecret/, checked programmatically: every byte outside the edited spans
//! and lines is identical, and a YAML parse of the output has exactly the planned values.
#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::print_stdout)]

use std::ops::Range;

use emp_seal::crypto::Scope;
use emp_seal::sealedsecret::{
    CERT_SHA256_ANNOTATION, EditPlan, EncryptedDataLayout, SEALED_FOR_ANNOTATION, ScalarStyle,
    SealedSecretError, SealedSecretFile, apply,
};
use yaml_serde::Value;

use crate::common::repo_root;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("tests/fixtures/sealedsecret").join(name))
        .expect("fixture")
}

fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

/// A distinct, valid-looking ciphertext per key.
fn ct(key: &str, round: u32) -> String {
    format!("AgB{}{round}x+/Zz==", key.replace(['_', '.', '-'], ""))
}

/// `text` with the given byte ranges cut out.
fn strip(text: &str, mut cuts: Vec<Range<usize>>) -> String {
    cuts.sort_by_key(|r| r.start);
    let mut out = String::new();
    let mut pos = 0;
    for r in cuts {
        if r.start > pos {
            out.push_str(&text[pos..r.start]);
        }
        pos = pos.max(r.end);
    }
    out.push_str(&text[pos..]);
    out
}

/// Byte range of the whole 1-based line `n` including its line break.
fn line_range(text: &str, n: usize) -> Range<usize> {
    let mut start = 0;
    for _ in 1..n {
        start += text[start..].find('\n').expect("line exists") + 1;
    }
    match text[start..].find('\n') {
        Some(i) => start..start + i + 1,
        // The last line without a break: take the break before it instead.
        None => start.saturating_sub(1)..text.len(),
    }
}

/// 1-based number of the first line whose content (trimmed) satisfies `pred`.
fn find_line(text: &str, pred: impl Fn(&str) -> bool) -> Option<usize> {
    text.lines().position(|l| pred(l.trim())).map(|i| i + 1)
}

/// Byte range of the value after `needle` on the line that contains it (up to any comment).
fn value_after(text: &str, needle: &str) -> Range<usize> {
    let at = text.find(needle).expect("needle") + needle.len();
    let rest = &text[at..];
    let end = rest.find([' ', '\r', '\n']).unwrap_or(rest.len());
    at..at + end
}

fn the_doc(text: &str) -> (usize, emp_seal::sealedsecret::SealedSecretDoc) {
    let f = SealedSecretFile::parse(text).expect("parses");
    let (i, d) = f.sealed_secrets().next().expect("one SealedSecret");
    (i, d.clone())
}

/// The `yaml_serde` view of document `i`.
fn yaml_doc(text: &str, i: usize) -> Value {
    use serde::Deserialize;
    yaml_serde::Deserializer::from_str(text)
        .nth(i)
        .map(|d| Value::deserialize(d).expect("valid YAML"))
        .expect("document exists")
}

fn enc_pairs(v: &Value) -> Vec<(String, String)> {
    v["spec"]["encryptedData"]
        .as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.as_str().unwrap().to_string(),
                        v.as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Applies a set/remove plan and proves: outside the old value spans, removed lines and added
/// lines, old and new text are byte-identical; the new file reads back with the planned values
/// in the planned order; every other document parses to the same value.
fn check_set_remove(before: &str, set: &[(&str, String)], remove: &[&str]) -> String {
    let plan = EditPlan {
        set: set
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        remove: remove.iter().map(|k| k.to_string()).collect(),
        annotations: vec![],
        ..EditPlan::default()
    };
    let (idx, old) = the_doc(before);
    let after = apply(before, idx, &plan).expect("apply");
    let (idx2, new) = the_doc(&after);
    assert_eq!(idx, idx2);

    let mut cut_before = Vec::new();
    let mut cut_after = Vec::new();
    for (k, _) in set {
        match old.entry(k) {
            Some(e) => {
                cut_before.push(e.span.clone());
                let n = new.entry(k).expect("still there");
                if e.style == ScalarStyle::Empty {
                    // `KEY:` gains ` value`.
                    cut_after.push(n.span.start - 1..n.span.end);
                } else {
                    cut_after.push(n.span.clone());
                }
                if remove.is_empty() {
                    assert_eq!(n.line, e.line, "{k} replaced where it stands");
                }
                if e.style != ScalarStyle::Empty {
                    assert_eq!(n.style, e.style, "{k} keeps its quote style");
                }
            }
            None => {
                let n = new.entry(k).expect("added");
                cut_after.push(line_range(&after, n.line));
            }
        }
    }
    for k in remove {
        if let Some(e) = old.entry(k) {
            cut_before.push(line_range(before, e.line));
        }
        assert!(new.entry(k).is_none(), "{k} removed");
    }
    // A container opened for the first new key: `{}` dropped, or header lines inserted.
    if set.iter().any(|(k, _)| old.entry(k).is_none()) {
        match old.encrypted_data_layout {
            EncryptedDataLayout::FlowEmpty => {
                let a = before.find("encryptedData: {}").unwrap() + "encryptedData:".len();
                cut_before.push(a..a + 3);
            }
            EncryptedDataLayout::Missing => {
                let n = find_line(&after, |l| l == "encryptedData:").unwrap();
                cut_after.push(line_range(&after, n));
                if find_line(before, |l| l == "spec:").is_none() {
                    let n = find_line(&after, |l| l == "spec:").unwrap();
                    cut_after.push(line_range(&after, n));
                }
            }
            _ => {}
        }
    }
    // Removing the last entry turns the block into `{}`.
    if new.encrypted_data.is_empty() && !old.encrypted_data.is_empty() {
        let at = after.find("encryptedData: {}").expect("flow empty") + "encryptedData:".len();
        cut_after.push(at..at + 3);
    }
    let (a, b) = (strip(before, cut_before), strip(&after, cut_after));
    if before.ends_with('\n') {
        assert_eq!(a, b);
    } else {
        assert_eq!(a.trim_end(), b.trim_end());
    }

    // Semantics: planned values, existing order kept, new keys appended in plan order.
    let mut expected: Vec<(String, String)> = enc_pairs(&yaml_doc(before, idx))
        .into_iter()
        .filter(|(k, _)| !remove.contains(&k.as_str()))
        .map(|(k, v)| {
            let nv = set.iter().find(|(sk, _)| *sk == k).map(|(_, v)| v.clone());
            (k, nv.unwrap_or(v))
        })
        .collect();
    for (k, v) in set {
        if old.entry(k).is_none() {
            expected.push((k.to_string(), v.clone()));
        }
    }
    assert_eq!(enc_pairs(&yaml_doc(&after, idx)), expected);
    let n_docs = SealedSecretFile::parse(before).unwrap().documents.len();
    for i in (0..n_docs).filter(|i| *i != idx) {
        assert_eq!(yaml_doc(before, i), yaml_doc(&after, i), "document {i}");
    }
    // Line endings: a CRLF file stays CRLF.
    if before.contains("\r\n") {
        assert_eq!(after.matches('\n').count(), after.matches("\r\n").count());
    }
    after
}

fn all_layouts() -> Vec<(&'static str, String)> {
    let mut v = Vec::new();
    for name in [
        "commented.yaml",
        "multidoc.yaml",
        "flow_empty.yaml",
        "null_encrypted_data.yaml",
        "missing_encrypted_data.yaml",
        "missing_spec_no_final_newline.yaml",
        "placeholder.yaml",
    ] {
        let t = fixture(name);
        v.push((name, crlf(&t)));
        v.push((name, t));
    }
    v
}

#[test]
fn issue_4_replace_in_place_keeps_every_other_byte() {
    for crlf_file in [false, true] {
        let mut t = fixture("commented.yaml");
        if crlf_file {
            t = crlf(&t);
        }
        let set = [
            ("REDIS_PASSWORD", ct("REDIS_PASSWORD", 1)),
            ("BROKER_API_KEY", ct("BROKER_API_KEY", 1)),
            ("BROKER_API_SECRET", ct("BROKER_API_SECRET", 1)),
        ];
        let after = check_set_remove(&t, &set, &[]);
        // Quote styles as they were, comments as they were.
        assert!(after.contains(&format!("'BROKER_API_KEY': '{}'", set[1].1)));
        assert!(after.contains(&format!("\"BROKER_API_SECRET\": \"{}\"", set[2].1)));
        assert!(after.contains(&format!("REDIS_PASSWORD: {}   # rotated 2026-01", set[0].1)));
    }
}

#[test]
fn issue_4_new_keys_append_after_last_entry_in_plan_order() {
    for (name, t) in all_layouts() {
        let set = [
            ("Z_LAST_BY_NAME", ct("Z", 2)),
            ("A_FIRST_BY_NAME", ct("A", 2)),
            ("REDIS_PASSWORD", ct("REDIS_PASSWORD", 2)),
        ];
        let after = check_set_remove(&t, &set, &[]);
        let (_, d) = the_doc(&after);
        let keys: Vec<&str> = d.encrypted_data.iter().map(|e| e.key.as_str()).collect();
        let z = keys.iter().position(|k| *k == "Z_LAST_BY_NAME").unwrap();
        assert_eq!(keys[z + 1], "A_FIRST_BY_NAME", "{name}: plan order");
        // Same indentation as the entries already there.
        let indents: Vec<usize> = d
            .encrypted_data
            .iter()
            .map(|e| {
                let line = after.lines().nth(e.line - 1).unwrap();
                line.len() - line.trim_start().len()
            })
            .collect();
        assert!(
            indents.windows(2).all(|w| w[0] == w[1]),
            "{name}: {indents:?}"
        );
        // Idempotent: the same plan again changes nothing.
        let plan = EditPlan {
            set: set
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            ..EditPlan::default()
        };
        let (i, _) = the_doc(&after);
        assert_eq!(apply(&after, i, &plan).unwrap(), after, "{name}");
    }
}

#[test]
fn issue_4_remove_takes_only_the_entry_lines() {
    let t = fixture("commented.yaml");
    let after = check_set_remove(&t, &[], &["BROKER_API_KEY", "NOT_THERE"]);
    assert!(after.contains("    # quoted key and value\n"));
    // Removing every key leaves `encryptedData: {}` and all comments.
    let all = [
        "REDIS_PASSWORD",
        "BROKER_API_KEY",
        "BROKER_API_SECRET",
        "DB_URL",
    ];
    for text in [t.clone(), crlf(&t)] {
        let after = check_set_remove(&text, &[], &all);
        assert!(after.contains("    # end of encryptedData"));
        let (_, d) = the_doc(&after);
        assert_eq!(d.encrypted_data_layout, EncryptedDataLayout::FlowEmpty);
    }
    // Remove and add in one plan (a rename).
    check_set_remove(&t, &[("DATABASE_URL", ct("DATABASE_URL", 3))], &["DB_URL"]);
}

/// Adjacent annotations removed at the end of a file without a final line break go in one
/// splice (two would overlap on the line break before the last one).
#[test]
fn removing_the_last_annotations_of_a_file_without_a_final_line_break() {
    let t = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nspec:\n  encryptedData: {}\nmetadata:\n  name: s\n  annotations:\n    a: x\n    b: y\n    c: z";
    let plan = EditPlan {
        remove_annotations: vec!["c".into(), "b".into()],
        ..EditPlan::default()
    };
    let want = t.strip_suffix("\n    b: y\n    c: z").unwrap();
    assert_eq!(apply(t, 0, &plan).unwrap(), want);
}

#[test]
fn issue_4_placeholders_are_replaced_where_they_stand() {
    let t = fixture("placeholder.yaml");
    let set = [
        ("BROKER_API_KEY", ct("BROKER_API_KEY", 4)),
        ("REDIS_PASSWORD", ct("REDIS_PASSWORD", 4)),
    ];
    let after = check_set_remove(&t, &set, &[]);
    assert!(after.contains(&format!("BROKER_API_KEY: {}   # to be sealed", set[0].1)));
    assert!(after.contains(&format!("REDIS_PASSWORD: {}  # placeholder", set[1].1)));
    assert_eq!(the_doc(&after).1.scope, Scope::NamespaceWide);
}

#[test]
fn issue_4_flow_empty_and_missing_become_block_style() {
    let t = fixture("flow_empty.yaml");
    let after = check_set_remove(&t, &[("K1", ct("K1", 5))], &[]);
    assert!(
        after.contains(&format!(
            "    encryptedData:   # nothing sealed yet\n        K1: {}\n",
            ct("K1", 5)
        )),
        "{after}"
    );
    let t = fixture("missing_encrypted_data.yaml");
    let after = check_set_remove(&t, &[("K1", ct("K1", 5))], &[]);
    assert!(after.starts_with(&t[..t.find("  # template only").unwrap()]));
    assert!(after.contains(&format!(
        "spec:\n  encryptedData:\n    K1: {}\n  # template only",
        ct("K1", 5)
    )));
    let t = fixture("missing_spec_no_final_newline.yaml");
    let after = check_set_remove(&t, &[("K1", ct("K1", 5))], &[]);
    assert_eq!(
        after,
        format!("{t}\nspec:\n  encryptedData:\n    K1: {}", ct("K1", 5))
    );
}

/// Annotations: replace an existing record in place, append a new one after the last
/// annotation; create `annotations:` when there is none; leave other documents alone.
#[test]
fn issue_4_records_which_certificate_sealed_it() {
    let records = vec![
        (CERT_SHA256_ANNOTATION.to_string(), "3f".repeat(32)),
        (
            SEALED_FOR_ANNOTATION.to_string(),
            "strict emp-paper/emp-secrets".to_string(),
        ),
    ];
    let plan = EditPlan {
        annotations: records.clone(),
        ..EditPlan::default()
    };
    for (name, before) in all_layouts() {
        let (idx, old) = the_doc(&before);
        let after = apply(&before, idx, &plan).expect(name);
        let (_, new) = the_doc(&after);
        for (k, v) in &records {
            assert_eq!(new.annotation(k), Some(v.as_str()), "{name}");
        }
        for (k, v) in &old.annotations {
            if !records.iter().any(|(rk, _)| rk == k) {
                assert_eq!(new.annotation(k), Some(v.as_str()), "{name}: {k} kept");
            }
        }
        assert_eq!(old.encrypted_data.len(), new.encrypted_data.len());
        // Lossless: cut the record lines (and a created `annotations:` header, or the `{}`
        // it replaced) and the texts are equal.
        let mut cut_before = Vec::new();
        let mut cut_after = Vec::new();
        for (k, _) in &records {
            let needle = format!("{k}: ");
            if old.annotation(k).is_some() {
                cut_before.push(value_after(&before, &needle));
                cut_after.push(value_after(&after, &needle));
            } else {
                let at = after.find(&needle).unwrap();
                let line = after[..at].matches('\n').count() + 1;
                cut_after.push(line_range(&after, line));
            }
        }
        if old.annotations.is_empty() {
            if let Some(at) = before.find("annotations: {}") {
                let a = at + "annotations:".len();
                cut_before.push(a..a + 3);
            } else {
                let at = after.find("  annotations:").unwrap();
                let line = after[..at].matches('\n').count() + 1;
                cut_after.push(line_range(&after, line));
            }
        }
        let (a, b) = (strip(&before, cut_before), strip(&after, cut_after));
        if before.ends_with('\n') {
            assert_eq!(a, b, "{name}");
        } else {
            assert_eq!(a.trim_end(), b.trim_end(), "{name}");
        }
        // The hash starts with a digit: YAML would read it as a number unquoted? It is
        // written so that it reads back as the same string.
        assert_eq!(
            yaml_doc(&after, idx)["metadata"]["annotations"][CERT_SHA256_ANNOTATION].as_str(),
            Some(records[0].1.as_str()),
            "{name}"
        );
    }
}

#[test]
fn multidoc_other_documents_are_byte_identical() {
    let t = fixture("multidoc.yaml");
    let f = SealedSecretFile::parse(&t).unwrap();
    assert_eq!(f.documents.len(), 3);
    assert_eq!(f.documents[0].kind.as_deref(), Some("ConfigMap"));
    let idx = f.sealed_secrets().next().unwrap().0;
    assert_eq!(idx, 1);
    let plan = EditPlan {
        set: vec![("NEW".into(), ct("NEW", 6))],
        annotations: vec![(CERT_SHA256_ANNOTATION.into(), "ab".repeat(32))],
        ..EditPlan::default()
    };
    let after = apply(&t, idx, &plan).unwrap();
    let g = SealedSecretFile::parse(&after).unwrap();
    for i in [0, 2] {
        assert_eq!(
            &t[f.documents[i].span.clone()],
            &after[g.documents[i].span.clone()]
        );
    }
    // Applying to a non-SealedSecret document is refused.
    assert!(matches!(
        apply(&t, 0, &plan),
        Err(SealedSecretError::NotASealedSecret { index: 0 })
    ));
}

#[test]
fn positions_are_file_relative() {
    let t = fixture("multidoc.yaml");
    let (_, d) = the_doc(&t);
    let e = d.entry("REDIS_PASSWORD").unwrap();
    let line = t.lines().nth(e.line - 1).unwrap();
    assert_eq!(&line[e.column - 1..], e.value);
    assert_eq!(&t[e.span.clone()], e.value);
    let t = crlf(&fixture("commented.yaml"));
    let (_, d) = the_doc(&t);
    let e = d.entry("BROKER_API_SECRET").unwrap();
    assert_eq!(&t[e.span.clone()], format!("\"{}\"", e.value));
    assert_eq!((e.line, e.column), (20, 26));
}

#[test]
fn legacy_data_and_unsupported_layouts_are_refused_without_values() {
    let t = fixture("legacy_data.yaml");
    let (idx, d) = the_doc(&t);
    assert!(d.has_legacy_data);
    let plan = EditPlan {
        set: vec![("K".into(), ct("K", 7))],
        ..EditPlan::default()
    };
    let e = apply(&t, idx, &plan).unwrap_err();
    assert!(
        matches!(e, SealedSecretError::LegacyData { line: 6, .. }),
        "{e}"
    );

    // JSON (kubeseal's default output) is read like YAML (issue 16); an anchor in it is not.
    let t = fixture("json.yaml");
    let f = SealedSecretFile::parse(&t).unwrap();
    let (_, d) = f.sealed_secrets().next().unwrap();
    assert_eq!(d.encrypted_data_layout, EncryptedDataLayout::Flow);
    assert_eq!(
        &t[d.entry("K").unwrap().span.clone()],
        "\"AgBSENTINELAAAA\""
    );
    let t = t.replace("\"K\":", "\"K\": &a ");
    let e = SealedSecretFile::parse(&t).unwrap_err();
    assert!(
        matches!(e, SealedSecretError::Unsupported { line: 1, .. }),
        "{e}"
    );
    assert!(!e.to_string().contains("SENTINEL"), "{e}");
    assert!(e.hint().is_some());

    // Invalid plan values are named by key only.
    let t = fixture("commented.yaml");
    let plan = EditPlan {
        set: vec![("K".into(), "hunter2 SENTINEL".into())],
        ..EditPlan::default()
    };
    let e = apply(&t, 0, &plan).unwrap_err();
    assert!(matches!(e, SealedSecretError::InvalidValue { .. }));
    assert!(!e.to_string().contains("SENTINEL"), "{e}");
    let plan = EditPlan {
        set: vec![("bad key".into(), ct("K", 7))],
        ..EditPlan::default()
    };
    assert!(matches!(
        apply(&t, 0, &plan),
        Err(SealedSecretError::InvalidKey { .. })
    ));

    // Multi-line values are located but not edited by guesswork.
    let t = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: s\nspec:\n  encryptedData:\n    K: AgBSENTINEL\n      AAAA\n";
    let e = SealedSecretFile::parse(t).unwrap_err();
    assert!(
        matches!(e, SealedSecretError::Unsupported { line: 7, .. }),
        "{e}"
    );
    assert!(!e.to_string().contains("SENTINEL"), "{e}");
}

/// Many random plans over every layout: each result passes the byte-level and semantic checks.
#[test]
fn random_plans_stay_lossless() {
    let keys = [
        "REDIS_PASSWORD",
        "BROKER_API_KEY",
        "BROKER_API_SECRET",
        "DB_URL",
        "NEW_1",
        "NEW_2",
        "x.y-z",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (_, mut text) in all_layouts() {
        for round in 0..12 {
            let mut set = Vec::new();
            let mut remove = Vec::new();
            for k in keys {
                match rnd() % 4 {
                    0 => set.push((k, ct(k, round))),
                    1 => remove.push(k),
                    _ => {}
                }
            }
            text = check_set_remove(&text, &set, &remove);
        }
    }
}
