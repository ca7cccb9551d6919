//! Shared by the `sealedsecret_rewrite` fuzz target and `tests/integration/prop.rs`: a generator
//! of `SealedSecret` file layouts and edit plans driven by a byte string, and the oracle that
//! checks a rewrite (docs/reliability.md).
//!
//! The oracle, for `apply(text, doc, plan) == Ok(out)`:
//! 1. `out` parses, has as many documents, and every other document's text is byte-identical;
//! 2. the edited document's `encryptedData` is the old one with the plan applied (replaced keys
//!    where they stood, removed keys gone, new keys appended in plan order);
//! 3. every planned annotation reads back with its value and the other annotations are kept;
//! 4. every old line that the plan does not name appears in `out`, unchanged and in order, and
//!    every other line of `out` names a planned key or is a container header;
//! 5. a plan that only replaces existing non-empty values changes nothing but those values:
//!    the text between consecutive value spans is byte-identical.
#![allow(dead_code)]

use emp_seal::sealedsecret::{
    CERT_SHA256_ANNOTATION, EditPlan, SEALED_FOR_ANNOTATION, ScalarStyle, SealedSecretFile,
};

/// Reads choices from a byte string; past its end every choice is 0.
pub struct Src<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Src<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// The next byte (0 once exhausted).
    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n
    }

    /// A coin flip.
    pub fn flip(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// One of `items`.
    pub fn pick<'b, T: ?Sized>(&mut self, items: &[&'b T]) -> &'b T {
        items[self.below(items.len())]
    }

    /// The unread rest.
    pub fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }
}

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

/// Existing keys (plain-safe as YAML strings).
const KEYS: &[&str] = &[
    "A", "B_2", "api.key", "db-pass", "x.y-z", "TOKEN", "n1", "Zz",
];
/// Keys that only stay strings when quoted (YAML 1.1/1.2 booleans, numbers, null).
const SPECIAL_KEYS: &[&str] = &["yes", "on", "true", "1e3", "012", "null", "0x1F", "1.5"];
/// Annotation values that need care when written.
const ANN_VALUES: &[&str] = &[
    "0123abcdef",
    "strict emp/secrets",
    "yes",
    "a: b",
    "#x",
    "",
    "'q'",
    "\"dq\"",
    "ünï",
    "- item",
    "x #y",
    "[1]",
    "{a}",
    "@at",
    "%p",
    "~",
    "2026-01-01",
];

fn b64(src: &mut Src<'_>, min: usize, max: usize) -> String {
    let n = min + src.below(max - min + 1);
    (0..n)
        .map(|_| char::from(B64[src.below(B64.len())]))
        .collect()
}

/// A ciphertext-looking value that is a plain YAML string (starts with `Ag`).
fn value(src: &mut Src<'_>) -> String {
    format!("Ag{}", b64(src, 0, 40))
}

/// A value for a plan: any base64 characters (the editor must quote what needs quoting).
fn plan_value(src: &mut Src<'_>) -> String {
    if src.below(4) == 0 {
        src.pick(&["1", "12e3", "0x1A", "=", "1/2", "+1", "0123", "Ag", "true"])
            .to_string()
    } else {
        b64(src, 1, 60)
    }
}

fn quoted(s: &str, style: usize) -> String {
    match style {
        1 => format!("'{s}'"),
        2 => format!("\"{s}\""),
        _ => s.to_string(),
    }
}

/// A generated file: its text and the index of the `SealedSecret` document.
pub struct Layout {
    /// The file text.
    pub text: String,
    /// Document index of the `SealedSecret`.
    pub doc: usize,
}

/// Generates a supported `SealedSecret` file layout: indentation 2 or 4, comments, blank lines,
/// quoted keys and values, null placeholders, `{}`/null/missing `encryptedData`, missing `spec`,
/// annotations or not, a template with a block scalar, other documents, CRLF, no final newline.
pub fn gen_layout(src: &mut Src<'_>) -> Layout {
    let step = if src.flip() { 4 } else { 2 };
    let ind = |n: usize| " ".repeat(n * step);
    let mut lines: Vec<String> = Vec::new();
    let mut doc = 0;
    if src.flip() {
        lines.push("# generated".into());
    }
    let before = src.below(3);
    for i in 0..before {
        if i > 0 || src.flip() {
            lines.push("---".into());
        }
        lines.push("apiVersion: v1".into());
        lines.push("kind: ConfigMap".into());
        lines.push("metadata:".into());
        lines.push(format!("{}name: c{i}", ind(1)));
        lines.push("data:".into());
        lines.push(format!("{}A: not-this-one", ind(1)));
        doc += 1;
    }
    if before > 0 || src.flip() {
        lines.push("---".into());
    }
    lines.push("apiVersion: bitnami.com/v1alpha1".into());
    lines.push("kind: SealedSecret".into());
    lines.push("metadata:".into());
    lines.push(format!("{}name: s", ind(1)));
    if src.flip() {
        lines.push(format!("{}namespace: ns   # where", ind(1)));
    }
    match src.below(4) {
        0 => {}
        1 => lines.push(format!("{}annotations: {{}}", ind(1))),
        _ => {
            lines.push(format!("{}annotations:", ind(1)));
            if src.flip() {
                lines.push(format!("{}# records", ind(2)));
            }
            for (i, k) in ["a.example/x", CERT_SHA256_ANNOTATION, SEALED_FOR_ANNOTATION]
                .iter()
                .enumerate()
            {
                if i == 0 || src.flip() {
                    let v = quoted(&format!("v{i}"), src.below(3));
                    lines.push(format!("{}{k}: {v}", ind(2)));
                }
            }
        }
    }
    let template = |src: &mut Src<'_>, lines: &mut Vec<String>| {
        lines.push(format!("{}template:", ind(1)));
        lines.push(format!("{}metadata:", ind(2)));
        lines.push(format!("{}name: s", ind(3)));
        if src.flip() {
            lines.push(format!("{}data:", ind(2)));
            lines.push(format!("{}cfg: |", ind(3)));
            lines.push(format!("{}# part of the template", ind(4)));
            lines.push(format!("{}A: {{{{ .A }}}}", ind(4)));
        }
    };
    if src.below(6) != 0 {
        lines.push("spec:".into());
        let template_first = src.below(4) == 0;
        if template_first {
            template(src, &mut lines);
        }
        match src.below(6) {
            0 => lines.push(format!("{}encryptedData: {{}}", ind(1))),
            1 => lines.push(format!("{}encryptedData:", ind(1))),
            2 => {}
            _ => {
                lines.push(format!("{}encryptedData:", ind(1)));
                let n = 1 + src.below(KEYS.len() + 1);
                let mut used = Vec::new();
                for _ in 0..n {
                    let special = src.below(5) == 0;
                    let key = if special {
                        src.pick(SPECIAL_KEYS)
                    } else {
                        src.pick(KEYS)
                    };
                    if used.contains(&key) {
                        continue;
                    }
                    used.push(key);
                    if src.below(4) == 0 {
                        lines.push(format!("{}# about {key}", ind(2)));
                    }
                    if src.below(6) == 0 {
                        lines.push(String::new());
                    }
                    let kq = if special {
                        1 + src.below(2)
                    } else {
                        src.below(3)
                    };
                    let k = quoted(key, kq);
                    let v = match src.below(5) {
                        0 => String::new(),
                        s => format!(" {}", quoted(&value(src), s % 3)),
                    };
                    let c = if src.below(4) == 0 { "   # note" } else { "" };
                    lines.push(format!("{}{k}:{v}{c}", ind(2)));
                }
                if src.flip() {
                    lines.push(format!("{}# end of entries", ind(2)));
                }
            }
        }
        if !template_first && src.flip() {
            template(src, &mut lines);
        }
    }
    for i in 0..src.below(3) {
        lines.push("---".into());
        lines.push(format!("# after {i}"));
        lines.push("kind: Other".into());
        lines.push(format!("name: after{i}"));
    }
    if src.flip() {
        lines.push("# trailing".into());
    }
    let eol = if src.below(4) == 0 { "\r\n" } else { "\n" };
    let mut text = lines.join(eol);
    if src.below(5) != 0 {
        text.push_str(eol);
    }
    Layout { text, doc }
}

/// Generates a valid plan for document `doc` of `text` (which must parse).
pub fn gen_plan(src: &mut Src<'_>, text: &str, doc: usize) -> EditPlan {
    let file = SealedSecretFile::parse(text).expect("generated layout parses");
    let existing: Vec<String> = file.documents[doc]
        .sealed_secret
        .as_ref()
        .map(|s| s.encrypted_data.iter().map(|e| e.key.clone()).collect())
        .unwrap_or_default();
    let mut plan = EditPlan::default();
    let mut used: Vec<String> = Vec::new();
    let candidates: Vec<String> = existing
        .iter()
        .cloned()
        .chain(
            [
                "NEW_1", "new.2", "N-3", "yes", "on", "1e3", "012", "true", "null", "A", "Zz",
            ]
            .iter()
            .map(|s| (*s).to_string()),
        )
        .collect();
    for _ in 0..src.below(8) {
        let k = candidates[src.below(candidates.len())].clone();
        if used.contains(&k) {
            continue;
        }
        used.push(k.clone());
        if src.below(3) == 0 {
            plan.remove.push(k);
        } else {
            let v = plan_value(src);
            plan.set.push((k, v));
        }
    }
    for k in [
        CERT_SHA256_ANNOTATION,
        SEALED_FOR_ANNOTATION,
        "x.example/note",
    ] {
        if src.below(3) == 0 {
            plan.annotations
                .push((k.to_string(), src.pick(ANN_VALUES).to_string()));
        }
    }
    plan
}

fn lines_of(text: &str) -> Vec<&str> {
    let mut v: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    if text.ends_with('\n') {
        v.pop();
    }
    v
}

/// Checks the rewrite `old -> new` of document `doc` under `plan` (see the module docs).
pub fn check_rewrite(old: &str, doc: usize, plan: &EditPlan, new: &str) -> Result<(), String> {
    let a = SealedSecretFile::parse(old).map_err(|e| format!("old does not parse: {e}"))?;
    let b = SealedSecretFile::parse(new).map_err(|e| format!("output does not parse: {e}"))?;
    if a.documents.len() != b.documents.len() {
        return Err("document count changed".into());
    }
    for (da, db) in a.documents.iter().zip(&b.documents) {
        if da.index != doc && old[da.span.clone()] != new[db.span.clone()] {
            return Err(format!("document {} changed", da.index));
        }
    }
    let sa = a.documents[doc]
        .sealed_secret
        .as_ref()
        .ok_or("old doc not a SealedSecret")?;
    let sb = b.documents[doc]
        .sealed_secret
        .as_ref()
        .ok_or("new doc not a SealedSecret")?;

    // 2. encryptedData is the old one with the plan applied.
    let mut want: Vec<(String, String)> = Vec::new();
    for e in &sa.encrypted_data {
        if plan.remove.contains(&e.key) {
            continue;
        }
        let v = plan
            .set
            .iter()
            .find(|(k, _)| *k == e.key)
            .map_or_else(|| e.value.clone(), |(_, v)| v.clone());
        want.push((e.key.clone(), v));
    }
    for (k, v) in &plan.set {
        if sa.entry(k).is_none() {
            want.push((k.clone(), v.clone()));
        }
    }
    let got: Vec<(String, String)> = sb
        .encrypted_data
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect();
    if got != want {
        return Err(format!("encryptedData {got:?} != planned {want:?}"));
    }

    // 3. annotations.
    for (k, v) in &plan.annotations {
        if sb.annotation(k) != Some(v.as_str()) {
            return Err(format!(
                "annotation {k} reads back as {:?}",
                sb.annotation(k)
            ));
        }
    }
    for (k, v) in &sa.annotations {
        if !plan.annotations.iter().any(|(pk, _)| pk == k) && sb.annotation(k) != Some(v.as_str()) {
            return Err(format!("annotation {k} lost or changed"));
        }
    }

    // 4. untouched old lines survive in order; new lines are planned or headers.
    let old_lines = lines_of(old);
    let new_lines = lines_of(new);
    let doc_lines = {
        let d = &a.documents[doc];
        let first = d.line;
        let count = lines_of(&old[d.span.clone()]).len();
        first..first + count
    };
    let touched_entry_lines: Vec<usize> = sa
        .encrypted_data
        .iter()
        .filter(|e| plan.remove.contains(&e.key) || plan.set.iter().any(|(k, _)| *k == e.key))
        .map(|e| e.line)
        .collect();
    let planned_names: Vec<&str> = plan
        .set
        .iter()
        .map(|(k, _)| k.as_str())
        .chain(plan.annotations.iter().map(|(k, _)| k.as_str()))
        .collect();
    let mut j = 0;
    // Old lines the plan may rewrite; an output line equal to one of them is fine too.
    let mut skipped: Vec<&str> = Vec::new();
    for (i, line) in old_lines.iter().enumerate() {
        let n = i + 1;
        // Container headers may be rewritten (`encryptedData:` becomes `encryptedData: {}` when
        // every key goes); a blank line may lose its break when the entry after it, the file's
        // last line without a final newline, is removed (docs/rewrite.md).
        let header = ["encryptedData:", "annotations:"]
            .iter()
            .any(|h| line.trim_start().starts_with(h));
        let touched = touched_entry_lines.contains(&n)
            || line.trim().is_empty()
            || (doc_lines.contains(&n)
                && (header
                    || plan
                        .annotations
                        .iter()
                        .any(|(k, _)| line.contains(k.as_str()))));
        if touched {
            skipped.push(*line);
            continue;
        }
        loop {
            let Some(nl) = new_lines.get(j) else {
                return Err(format!("old line {n} {line:?} is missing from the output"));
            };
            j += 1;
            if nl == line {
                break;
            }
            let header = ["spec:", "encryptedData:", "annotations:", "metadata:"]
                .iter()
                .any(|h| nl.trim_start().starts_with(h));
            let allowed = header
                || nl.trim().is_empty()
                || skipped.contains(nl)
                || planned_names.iter().any(|k| nl.contains(k));
            if !allowed {
                return Err(format!(
                    "output line {j} {nl:?} is neither kept nor planned"
                ));
            }
        }
    }

    // 5. replacement-only plans: only the value spans differ.
    let replace_only = plan.remove.is_empty()
        && plan.annotations.is_empty()
        && plan
            .set
            .iter()
            .all(|(k, _)| sa.entry(k).is_some_and(|e| e.style != ScalarStyle::Empty));
    if replace_only {
        let mut spans: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> = plan
            .set
            .iter()
            .map(|(k, _)| {
                let x = sa.entry(k).map(|e| e.span.clone()).unwrap_or_default();
                let y = sb.entry(k).map(|e| e.span.clone()).unwrap_or_default();
                (x, y)
            })
            .collect();
        spans.sort_by_key(|(x, _)| x.start);
        let (mut pa, mut pb) = (0, 0);
        for (x, y) in spans.iter().chain(std::iter::once(&(
            old.len()..old.len(),
            new.len()..new.len(),
        ))) {
            if old.get(pa..x.start) != new.get(pb..y.start) {
                return Err(format!(
                    "bytes {pa}..{} outside the values changed",
                    x.start
                ));
            }
            pa = x.end;
            pb = y.end;
        }
    }
    Ok(())
}
