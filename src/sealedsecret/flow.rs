//! `SealedSecret`s written in flow style: a whole document as one flow mapping (JSON, kubeseal's
//! default output) and flow mappings inside a block document (`encryptedData: {A: Ag...}`).
//!
//! Reading cross-checks the flow scanner's keys and values against `yaml_serde`, as for blocks.
//! Editing follows the block rules of docs/rewrite.md in flow terms: a value is replaced where it
//! stands in its own quote style; a new member goes after the last one, copying the separator,
//! the `:` spacing and the key quoting of the members already there (so a JSON file stays JSON
//! with its own indentation); removing a member takes it with one neighbouring comma; removing
//! every member leaves `{}`.

use std::ops::Range;

use yaml_serde::{Mapping, Value};

use super::edit::{double_quoted, plain_or_quoted, render_value};
use super::{
    EditPlan, EncryptedDataLayout, EncryptedEntry, ScalarStyle, SealedSecretDoc, SealedSecretError,
    check_keys,
};
use crate::yamlpos::Edit;
use crate::yamlpos::flow::{self, Map, Node, line_col};

/// Reads the flow mapping that fills `range` of `text`, cross-checked against `value`, and the
/// `encryptedData` entries into `doc`. `at` gives the file position of a key path.
pub(super) fn read_layout(
    text: &str,
    range: Range<usize>,
    value: &Value,
    at: &dyn Fn(&[&str]) -> (usize, usize),
    doc: &mut SealedSecretDoc,
) -> Result<Map, SealedSecretError> {
    let (node, end) = flow::parse(text, range.start)?;
    let trailing = text[end.min(range.end)..range.end]
        .lines()
        .any(|l| !crate::yamlpos::is_trivia(l));
    let Node::Map(root) = node else {
        return Err(unsupported(
            text,
            range.start,
            "a flow sequence as the document",
        ));
    };
    if trailing {
        return Err(unsupported(text, end, "content after the flow mapping"));
    }
    check_keys(&root.keys(), value.as_mapping(), at(&[]), "document")?;
    let typed = |path: &[&str]| crate::yamlpos::value_at(value, path).and_then(Value::as_mapping);
    for (path, field) in [
        (&["metadata"][..], "metadata"),
        (&["metadata", "annotations"], "metadata.annotations"),
        (&["spec"], "spec"),
        (&["spec", "encryptedData"], "spec.encryptedData"),
    ] {
        if let Some(m) = typed(path) {
            let ours = root.path(path).map(Map::keys).unwrap_or_default();
            check_keys(&ours, Some(m), at(path), field)?;
        }
    }
    if let (Some(em), Some(fm)) = (
        typed(&["spec", "encryptedData"]),
        root.path(&["spec", "encryptedData"]),
    ) {
        if em.is_empty() {
            doc.encrypted_data_layout = EncryptedDataLayout::FlowEmpty;
        } else {
            doc.encrypted_data_layout = EncryptedDataLayout::Flow;
            doc.encrypted_data = entries(text, fm, em)?;
        }
    }
    Ok(root)
}

fn unsupported(text: &str, at: usize, what: &str) -> SealedSecretError {
    super::unsupported(line_col(text, at), what)
}

/// The entries of a flow `encryptedData` mapping, each value checked against `em`.
pub(super) fn entries(
    text: &str,
    fm: &Map,
    em: &Mapping,
) -> Result<Vec<EncryptedEntry>, SealedSecretError> {
    let mut out = Vec::with_capacity(fm.entries.len());
    for e in &fm.entries {
        let (line, key_col) = line_col(text, e.key_span.start);
        let not_a_string =
            |column| super::not_a_string((line, column), format!("spec.encryptedData.{}", e.key));
        let Node::Scalar(s) = &e.value else {
            return Err(not_a_string(key_col));
        };
        let column = line_col(text, s.span.start).1;
        let (value, style) = match em.get(e.key.as_str()) {
            Some(Value::String(t)) if *t == s.raw && s.style != ScalarStyle::Empty => {
                (t.clone(), s.style)
            }
            Some(Value::String(_)) => {
                return Err(unsupported(
                    text,
                    e.key_span.start,
                    &format!(
                        "a value that does not read back as written for key `{}`",
                        e.key
                    ),
                ));
            }
            Some(Value::Null) => (String::new(), ScalarStyle::Empty),
            _ => return Err(not_a_string(column)),
        };
        out.push(EncryptedEntry {
            key: e.key.clone(),
            value,
            line,
            column,
            span: s.span.clone(),
            style,
        });
    }
    Ok(out)
}

/// How new flow text is written, taken from the document's root mapping.
struct Style {
    json: bool,
    multiline: bool,
    step: usize,
    /// What the document indents with: a tab (`jq --tab`) or a space.
    unit: char,
    eol: &'static str,
    colon: String,
    gap: String,
}

impl Style {
    fn of(text: &str, root: &Map) -> Style {
        let body = &text[root.span.clone()];
        let first = root.entries.first();
        let step = first.map_or(2, |e| {
            indent_of(text, e.key_span.start).saturating_sub(indent_of(text, root.span.start))
        });
        Style {
            json: first.is_some_and(|e| e.key_style == ScalarStyle::DoubleQuoted),
            multiline: body.contains('\n'),
            step: if step == 0 { 2 } else { step },
            unit: match first.map(|e| line_start(text, e.key_span.start)) {
                Some(at) if text[at..].starts_with('\t') => '\t',
                _ => ' ',
            },
            eol: if text.contains("\r\n") { "\r\n" } else { "\n" },
            colon: first.map_or_else(|| ": ".to_owned(), |e| colon_of(text, e)),
            gap: gap_of(text, root).unwrap_or_else(|| " ".to_owned()),
        }
    }

    /// A new mapping holding `members` (rendered key, rendered value), whose own line is
    /// indented by `indent`.
    fn map(&self, members: &[(String, String)], indent: usize) -> String {
        if members.is_empty() {
            return "{}".to_owned();
        }
        let items = members.iter().map(|(k, v)| format!("{k}{}{v}", self.colon));
        if !self.multiline {
            let sep = format!(",{}", self.gap);
            return format!("{{{}}}", items.collect::<Vec<_>>().join(&sep));
        }
        let inner = self.pad(indent + self.step);
        let sep = format!(",{}{inner}", self.eol);
        format!(
            "{{{eol}{inner}{}{eol}{}}}",
            items.collect::<Vec<_>>().join(&sep),
            self.pad(indent),
            eol = self.eol
        )
    }

    /// `n` indentation units.
    fn pad(&self, n: usize) -> String {
        std::iter::repeat_n(self.unit, n).collect()
    }
}

/// A scalar safe in flow context: double-quoted when `quote` (JSON strings in a JSON file), else
/// plain when that reads back the same.
fn flow_scalar(s: &str, quote: bool) -> String {
    if quote || s.contains([',', '[', ']', '{', '}']) {
        double_quoted(s)
    } else {
        plain_or_quoted(s)
    }
}

/// The start of the line holding byte `at`.
fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Leading blanks (spaces, or tabs in a `jq --tab` file) of the line holding byte `at`.
fn indent_of(text: &str, at: usize) -> usize {
    text[line_start(text, at)..]
        .bytes()
        .take_while(|b| *b == b' ' || *b == b'\t')
        .count()
}

/// The text between an entry's key and its value (`: ` or `:`).
fn colon_of(text: &str, e: &flow::Entry) -> String {
    let between = &text[e.key_span.end..e.value.span().start.max(e.key_span.end)];
    if between.trim() == ":" && !between.contains('\n') {
        between.to_owned()
    } else {
        ": ".to_owned()
    }
}

/// The blanks between a separating comma and the next key (or between `{` and the only key).
fn gap_of(text: &str, m: &Map) -> Option<String> {
    let (from, to) = match m.entries.as_slice() {
        [] => return None,
        [only] => (m.span.start + 1, only.key_span.start),
        [a, b, ..] => {
            let comma = a.end() + text[a.end()..b.key_span.start].find(',')?;
            (comma + 1, b.key_span.start)
        }
    };
    let gap = &text[from..to];
    if gap.is_empty() && m.entries.len() == 1 && colon_of(text, &m.entries[0]) != ":" {
        // `{a: b}`: no blank after `{`, but one after `,` (compact JSON has neither).
        return Some(" ".to_owned());
    }
    gap.chars().all(char::is_whitespace).then(|| gap.to_owned())
}

/// A new member's value: a string, or flow text already rendered (a nested mapping).
enum New {
    Str(String),
    Raw(String),
}

/// The edits that set and remove members of one flow mapping, keeping everything else.
fn map_edits(
    text: &str,
    m: &Map,
    set: &[(String, New)],
    remove: &[String],
    st: &Style,
) -> Result<Vec<Edit>, SealedSecretError> {
    let mut edits = Vec::new();
    let key_quoted = m
        .entries
        .last()
        .map_or(st.json, |e| e.key_style == ScalarStyle::DoubleQuoted);
    let value_quoted = m
        .entries
        .iter()
        .any(|e| matches!(&e.value, Node::Scalar(s) if s.style == ScalarStyle::DoubleQuoted))
        || st.json;
    let render = |v: &New| match v {
        New::Str(s) => flow_scalar(s, value_quoted),
        New::Raw(r) => r.clone(),
    };
    let mut new = Vec::new();
    for (k, v) in set {
        match m.get(k) {
            Some(e) => edits.extend(replace_edit(text, e, v, value_quoted)?),
            None => new.push((flow_scalar(k, key_quoted), render(v))),
        }
    }
    let kept: Vec<bool> = m.entries.iter().map(|e| !remove.contains(&e.key)).collect();
    if !kept.iter().any(|k| *k) {
        // Nothing of the old mapping stays (or it was empty): write it anew.
        if !m.entries.is_empty() || !new.is_empty() {
            let indent = indent_of(text, m.span.start);
            edits.push(Edit::new(m.span.clone(), st.map(&new, indent)));
        }
        return Ok(edits);
    }
    edits.extend(removal_runs(m, &kept));
    if !new.is_empty() {
        let last = (0..kept.len()).rev().find(|&i| kept[i]).unwrap_or(0);
        let e = &m.entries[last];
        let gap = gap_of(text, m).unwrap_or_else(|| " ".to_owned());
        let colon = colon_of(text, e);
        let added: String = new
            .iter()
            .map(|(k, v)| format!(",{gap}{k}{colon}{v}"))
            .collect();
        edits.push(Edit::new(e.end()..e.end(), added));
    }
    Ok(edits)
}

/// The edit that writes `v` over entry `e`'s value in its own quote style, a plain one as
/// [`flow_scalar`] with `quote` (`None`: unchanged).
fn replace_edit(
    text: &str,
    e: &flow::Entry,
    v: &New,
    quote: bool,
) -> Result<Option<Edit>, SealedSecretError> {
    let (Node::Scalar(old), New::Str(s)) = (&e.value, v) else {
        return Err(unsupported(
            text,
            e.key_span.start,
            "a mapping where a string belongs",
        ));
    };
    let r = match old.style {
        ScalarStyle::DoubleQuoted | ScalarStyle::SingleQuoted => render_value(s, old.style),
        _ => flow_scalar(s, quote),
    };
    // `{K}` (no colon) needs one; `K:` a blank.
    let pad = match (old.span.is_empty(), old.span.start == e.key_span.end) {
        (false, _) => "",
        (true, true) => ": ",
        (true, false) => " ",
    };
    Ok((text[old.span.clone()] != r).then(|| Edit::new(old.span.clone(), format!("{pad}{r}"))))
}

/// One splice per run of removed members: a run followed by a kept member goes up to that
/// member's key; a run at the end goes from the end of the last kept member.
fn removal_runs(m: &Map, kept: &[bool]) -> Vec<Edit> {
    let mut edits = Vec::new();
    let n = kept.len();
    let mut from = 0;
    while let Some(i) = (from..n).find(|&i| !kept[i]) {
        let j = (i..n).find(|&j| kept[j]).unwrap_or(n);
        let range = if j < n {
            m.entries[i].key_span.start..m.entries[j].key_span.start
        } else {
            m.entries[i - 1].end()..m.entries[n - 1].end()
        };
        edits.push(Edit::new(range, String::new()));
        from = j;
    }
    edits
}

/// Edits of a flow mapping inside a block document (`encryptedData: {...}`,
/// `annotations: {...}`): set and remove string members.
pub(super) fn member_edits(
    text: &str,
    m: &Map,
    set: &[(String, String)],
    remove: &[String],
) -> Result<Vec<Edit>, SealedSecretError> {
    map_edits(text, m, &strings(set), remove, &Style::of(text, m))
}

fn strings(set: &[(String, String)]) -> Vec<(String, New)> {
    set.iter()
        .map(|(k, v)| (k.clone(), New::Str(v.clone())))
        .collect()
}

/// The edits of `plan` on a document written as one flow mapping.
pub(super) fn plan_edits(
    text: &str,
    root: &Map,
    ss: &SealedSecretDoc,
    doc_line: usize,
    plan: &EditPlan,
) -> Result<Vec<Edit>, SealedSecretError> {
    let st = Style::of(text, root);
    let mut edits = Vec::new();
    if !plan.annotations.is_empty() || !plan.remove_annotations.is_empty() {
        let meta = root.map("metadata").ok_or(SealedSecretError::NoMetadata {
            line: doc_line,
            column: 1,
        })?;
        edits.extend(container_edits(
            text,
            &st,
            &[meta],
            &["annotations"],
            &plan.annotations,
            &plan.remove_annotations,
        )?);
    }
    if !plan.set.is_empty() || !plan.remove.is_empty() {
        if ss.has_legacy_data && !plan.set.is_empty() {
            let at = root
                .get("spec")
                .map_or(root.span.start, |e| e.key_span.start);
            let (line, column) = line_col(text, at);
            return Err(SealedSecretError::LegacyData { line, column });
        }
        let mut chain = vec![root];
        chain.extend(root.map("spec"));
        let path = &["spec", "encryptedData"][chain.len() - 1..];
        edits.extend(container_edits(
            text,
            &st,
            &chain,
            path,
            &plan.set,
            &plan.remove,
        )?);
    }
    Ok(edits)
}

/// Sets and removes members of the mapping at `path` under the last map of `chain` (the maps
/// that exist); creates the missing ones (or fills a null in their place) when there is
/// something to set.
fn container_edits(
    text: &str,
    st: &Style,
    chain: &[&Map],
    path: &[&str],
    set: &[(String, String)],
    remove: &[String],
) -> Result<Vec<Edit>, SealedSecretError> {
    let parent = chain
        .last()
        .expect("invariant: the chain starts at an existing map");
    let Some((first, rest)) = path.split_first() else {
        return map_edits(text, parent, &strings(set), remove, st);
    };
    let entry = parent.get(first);
    if let Some(Node::Map(m)) = entry.map(|e| &e.value) {
        return container_edits(text, st, &[m], rest, set, remove);
    }
    if set.is_empty() {
        return Ok(Vec::new());
    }
    // Render the missing containers from the inside out.
    let indent = match entry {
        Some(e) => indent_of(text, e.key_span.start),
        None => parent
            .entries
            .last()
            .map_or(indent_of(text, parent.span.start) + st.step, |e| {
                indent_of(text, e.key_span.start)
            }),
    };
    let mut inner: Vec<(String, String)> = set
        .iter()
        .map(|(k, v)| (flow_scalar(k, st.json), flow_scalar(v, st.json)))
        .collect();
    for (i, k) in rest.iter().enumerate().rev() {
        let value = st.map(&inner, indent + (i + 1) * st.step);
        inner = vec![(flow_scalar(k, st.json), value)];
    }
    let value = st.map(&inner, indent);
    match entry.map(|e| &e.value) {
        Some(Node::Scalar(s)) if s.style == ScalarStyle::Empty || s.raw == "null" => {
            let pad = if s.span.is_empty() { " " } else { "" };
            Ok(vec![Edit::new(s.span.clone(), format!("{pad}{value}"))])
        }
        Some(_) => {
            let at = entry.map_or(parent.span.start, |e| e.key_span.start);
            Err(unsupported(text, at, "a value where a mapping belongs"))
        }
        None => map_edits(
            text,
            parent,
            &[((*first).to_owned(), New::Raw(value))],
            &[],
            st,
        ),
    }
}
