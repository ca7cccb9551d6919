//! Applying an [`EditPlan`] to `SealedSecret` file text as byte splices.
//!
//! Owns the edit rules of docs/rewrite.md: replace a value where it stands (keeping its quote
//! style), append new keys after the last entry at the same indentation, remove an entry's line
//! only, turn `{}`/null/missing containers into block style, set top-level annotations. Must not
//! re-serialize anything: every byte outside the edited spans is copied.

use std::collections::HashSet;

use yaml_serde::{Mapping, Value};

use super::{
    BlockLayout, DocLayout, EncryptedDataLayout, ParsedDoc, SealedSecretDoc, SealedSecretError,
    parse_docs,
};
use crate::kustomize::lists;
use crate::yamlpos::block::{Block, Child, Lines, ScalarStyle, Val};
use crate::yamlpos::{Edit, Seg, splice};

/// What to change in one `SealedSecret` document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EditPlan {
    /// `spec.encryptedData` entries to set: (Secret key, base64 ciphertext). Existing keys are
    /// replaced where they stand; new keys are appended after the last entry in this order.
    pub set: Vec<(String, String)>,
    /// `spec.encryptedData` keys to remove (absent keys are ignored).
    pub remove: Vec<String>,
    /// Top-level `metadata.annotations` to set (replaced in place or appended in this order).
    pub annotations: Vec<(String, String)>,
    /// Top-level `metadata.annotations` keys to remove (only that entry's lines go; absent keys
    /// are ignored). Used when `--rescope` drops a scope annotation: the controller reads strict
    /// scope as the *absence* of both scope annotations (sealed-secrets
    /// `pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go` `SecretScope`).
    pub remove_annotations: Vec<String>,
}

/// Applies `plan` to document `doc_index` (0-based among all documents of the file, see
/// [`super::Document::index`]) and returns the new file text.
///
/// Only the named values, the removed entries' lines, the inserted lines and the annotations
/// change; the result is re-parsed and compared with the intended structure before it is
/// returned, so an `Ok` is a file that reads back exactly as planned.
///
/// # Errors
/// Any [`SealedSecretError`] of reading `text`, of the plan, or of the verification.
pub fn apply(text: &str, doc_index: usize, plan: &EditPlan) -> Result<String, SealedSecretError> {
    ParsedFile::parse(text)?.apply(doc_index, plan)
}

/// A file read once for both purposes of a reseal: reading its `SealedSecret` (what keys, what
/// scope) and then editing it. The edit works on the parse the caller planned from, so the
/// positions it splices at belong to the very documents the caller read.
#[derive(Debug)]
pub struct ParsedFile<'t> {
    lines: Lines<'t>,
    docs: Vec<ParsedDoc>,
    /// [`Self::listed_items`], computed once.
    listed: Vec<ListedItem>,
}

/// A listed `SealedSecret`: its document's index, its path there, its value and its line.
type ListedItem = (usize, Vec<Seg>, Value, usize);

impl<'t> ParsedFile<'t> {
    /// Parses `text` as [`super::SealedSecretFile::parse`] does.
    ///
    /// # Errors
    /// As [`super::SealedSecretFile::parse`].
    pub fn parse(text: &'t str) -> Result<ParsedFile<'t>, SealedSecretError> {
        let lines = Lines::new(text)?;
        let mut file = ParsedFile {
            docs: parse_docs(&lines)?,
            lines,
            listed: Vec::new(),
        };
        file.listed = file.listed_items();
        Ok(file)
    }

    /// The `SealedSecret` documents with their document index.
    pub fn sealed_secrets(&self) -> impl Iterator<Item = (usize, &SealedSecretDoc)> {
        self.docs
            .iter()
            .filter_map(|d| Some((d.public.index, d.public.sealed_secret.as_ref()?)))
    }

    /// The `SealedSecret`s that are items of the file's `List` documents, as kustomize expands
    /// them ([`crate::kustomize::lists::items_of_doc`], knowing whether the document is its
    /// file's only piece): each with its document's index, its path there, its value (not yet
    /// read as a `SealedSecret`) and the 1-based line of its `metadata.name` (or of the nearest
    /// key above). The one reading of listed `SealedSecret`s: `check` reads them
    /// ([`Self::listed`]), and commands that edit or read documents refuse them
    /// ([`Self::listed_line`]).
    fn listed_items(&self) -> Vec<ListedItem> {
        let mut out = Vec::new();
        for d in &self.docs {
            let index = d.public.index;
            let items = lists::objects_of_doc(&d.value, lists::alone(self.lines.text, index));
            let doc = self.doc_at(index);
            for (at, v) in items {
                if v.get("kind").and_then(Value::as_str) != Some("SealedSecret") {
                    continue;
                }
                let name_at = [&at[..], &[Seg::from("metadata"), Seg::from("name")]].concat();
                let line = doc.find_or_parent(&name_at).line as usize;
                out.push((index, at, v.clone(), line));
            }
        }
        out
    }

    /// The 1-based `metadata.name` line of the `List` item named `name` (in `namespace` as
    /// written), if the file has one ([`Self::listed_named`]).
    pub fn listed_line(&self, name: &str, namespace: Option<&str>) -> Option<usize> {
        self.listed_named(|n, ns| n == name && ns == namespace)
            .map(|(_, line)| line)
    }

    /// The first `List` item (as `listed_items` expands the file) whose `metadata.name` (empty
    /// when unset) and `metadata.namespace` `pick` accepts, with that name and its 1-based line,
    /// whether or not it reads as a `SealedSecret`: this reader edits documents only, so a
    /// caller looking for a document to edit or read can say why there is none.
    pub fn listed_named(
        &self,
        pick: impl Fn(&str, Option<&str>) -> bool,
    ) -> Option<(String, usize)> {
        self.listed.iter().find_map(|(_, _, v, line)| {
            let meta = v.get("metadata");
            let field = |k: &str| meta.and_then(|m| m.get(k)?.as_str());
            let name = field("name").unwrap_or_default();
            pick(name, field("namespace")).then(|| (name.to_owned(), *line))
        })
    }

    /// The listed `SealedSecret`s ([`Self::listed_items`]) read ([`super::ListedSealedSecret`]).
    pub(crate) fn listed(&self) -> Result<Vec<super::ListedSealedSecret>, SealedSecretError> {
        (self.listed.iter())
            .map(|(index, at, v, _)| {
                super::listed::read(&self.doc_at(*index), *index, at.clone(), v)
            })
            .collect()
    }

    fn doc_at(&self, index: usize) -> crate::yamlpos::Document<'t> {
        let d = &self.docs[index];
        let span = d.public.span.clone();
        crate::yamlpos::Document::new(&self.lines.text[span.clone()], d.public.line, span.start)
    }

    pub(crate) fn into_documents(self) -> Vec<super::Document> {
        self.docs.into_iter().map(|d| d.public).collect()
    }

    /// [`apply`] on the text this was parsed from.
    ///
    /// # Errors
    /// As [`apply`].
    pub fn apply(&self, doc_index: usize, plan: &EditPlan) -> Result<String, SealedSecretError> {
        validate(plan)?;
        let text = self.lines.text;
        let doc = self.docs.get(doc_index);
        let Some((layout, ss, line)) = doc.and_then(|d| {
            Some((
                d.layout.as_ref()?,
                d.public.sealed_secret.as_ref()?,
                d.public.line,
            ))
        }) else {
            return Err(SealedSecretError::NotASealedSecret { index: doc_index });
        };
        let mut edits = Vec::new();
        match layout {
            DocLayout::Flow(fl) => edits = super::flow::plan_edits(text, fl, ss, line, plan)?,
            DocLayout::Block(layout) => {
                let ed = Editor {
                    lines: &self.lines,
                    layout,
                    ss,
                    line,
                };
                // A flow mapping inside the block document is edited as flow.
                let (set, remove) = (&plan.annotations, &plan.remove_annotations);
                match &layout.annotations_flow {
                    Some(fm) => edits.extend(super::flow::member_edits(text, fm, set, remove)?),
                    None => ed.annotations(plan, &mut edits)?,
                }
                match &layout.encrypted_flow {
                    Some(fm) => {
                        let (set, remove) = (&plan.set, &plan.remove);
                        edits.extend(super::flow::member_edits(text, fm, set, remove)?);
                    }
                    None => ed.encrypted(plan, &mut edits)?,
                }
            }
        }
        if edits.is_empty() {
            return Ok(text.to_string());
        }
        let out = splice(text, edits).map_err(|e| SealedSecretError::Verification {
            what: e.to_string(),
        })?;
        verify(text, &self.docs, doc_index, plan, &out)?;
        Ok(out)
    }
}

fn validate(plan: &EditPlan) -> Result<(), SealedSecretError> {
    for (k, v) in &plan.set {
        // The API server's rule for Secret keys, as everywhere else (Kubernetes IsConfigMapKey).
        if let Err(problem) = crate::envfile::validate_key(k) {
            return Err(SealedSecretError::InvalidKey {
                key: k.clone(),
                problem: problem.describe(),
            });
        }
        let value_ok = !v.is_empty()
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        if !value_ok {
            return Err(SealedSecretError::InvalidValue { key: k.clone() });
        }
    }
    for (k, v) in &plan.annotations {
        let one_line = |s: &str| !s.chars().any(char::is_control);
        if k.is_empty() || k.trim() != k || !one_line(k) || !one_line(v) {
            return Err(SealedSecretError::InvalidAnnotation { key: k.clone() });
        }
    }
    let set = plan.set.iter().map(|(k, _)| k).chain(&plan.remove);
    let annotations = plan.annotations.iter().map(|(k, _)| k);
    for keys in [
        set.collect::<Vec<_>>(),
        annotations.chain(&plan.remove_annotations).collect(),
    ] {
        let mut seen = HashSet::new();
        if let Some(k) = keys.into_iter().find(|k| !seen.insert(*k)) {
            return Err(SealedSecretError::DuplicateKey { key: k.clone() });
        }
    }
    Ok(())
}

struct Editor<'a> {
    lines: &'a Lines<'a>,
    layout: &'a BlockLayout,
    ss: &'a SealedSecretDoc,
    /// 1-based line where the document starts.
    line: usize,
}

impl Editor<'_> {
    fn unsupported(&self, c: &Child, what: &str) -> SealedSecretError {
        super::unsupported(super::key_loc(self.lines, c), what)
    }

    fn root_indent(&self) -> usize {
        self.layout.root.indent.unwrap_or(0)
    }

    /// The file's indentation step: metadata's (or spec's) child indent minus the root indent.
    fn step(&self) -> usize {
        let from = |b: &Option<Block>| {
            b.as_ref()
                .and_then(|b| b.indent)
                .map(|i| i.saturating_sub(self.root_indent()))
        };
        from(&self.layout.metadata)
            .or_else(|| from(&self.layout.spec))
            .filter(|s| *s > 0)
            .unwrap_or(2)
    }

    /// Inserts whole lines after line `i`, with that line's break style.
    fn insert_after(&self, i: usize, new_lines: &[String]) -> Edit {
        let l = self.lines.lines[i];
        let eol = self.lines.eol_after(i);
        if l.next > l.end {
            let text = new_lines.iter().map(|s| format!("{s}{eol}")).collect();
            Edit::new(l.next..l.next, text)
        } else {
            let text = new_lines.iter().map(|s| format!("{eol}{s}")).collect();
            Edit::new(l.end..l.end, text)
        }
    }

    /// Removes lines `first..=last` including their break (or the break before, at EOF).
    fn remove_lines(&self, first: usize, last: usize) -> Edit {
        let ls = &self.lines.lines;
        let range = if ls[last].next == ls[last].end && first > 0 {
            ls[first - 1].end..ls[last].end
        } else {
            ls[first].start..ls[last].next
        };
        Edit::new(range, String::new())
    }

    /// Opens an empty container entry (`key:`, `key: {}`) for children; returns the edits.
    fn open_container(
        &self,
        c: &Child,
        children: &[String],
        edits: &mut Vec<Edit>,
    ) -> Result<(), SealedSecretError> {
        match &c.entry.val {
            Val::Empty if c.last == c.line => {}
            Val::FlowEmptyMap { span } => {
                // Deletes the one-line `{}` (and trailing blanks when nothing follows).
                let end_of_line = self.lines.lines[c.line].end;
                let rest = &self.lines.text[span.end..end_of_line];
                let end = if rest.trim().is_empty() {
                    end_of_line
                } else {
                    span.end
                };
                edits.push(Edit::new(c.entry.after_colon..end, String::new()));
            }
            _ => return Err(self.unsupported(c, "a container that is neither empty nor a block")),
        }
        edits.push(self.insert_after(c.line, children));
        Ok(())
    }

    /// Sets and removes top-level `metadata.annotations`.
    fn annotations(&self, plan: &EditPlan, edits: &mut Vec<Edit>) -> Result<(), SealedSecretError> {
        if plan.annotations.is_empty() && plan.remove_annotations.is_empty() {
            return Ok(());
        }
        let meta = self.layout.metadata.as_ref();
        let Some((mb, last, mi)) = meta.and_then(|b| Some((b, b.children.last()?, b.indent?)))
        else {
            return Err(SealedSecretError::NoMetadata {
                line: self.line,
                column: 1,
            });
        };
        let ab = self.layout.annotations.as_ref();
        let ai = ab.and_then(|b| b.indent).unwrap_or(mi + self.step());
        let new = self.set_entries(ab, ai, &plan.annotations, edits)?;
        let removed = self.remove_entries(ab, &plan.remove_annotations, edits);
        match (ab, mb.get("annotations")) {
            (Some(ab), Some(header)) => self.grow_or_empty(header, ab, &new, removed, edits),
            _ if new.is_empty() => {}
            // No annotations block: fill an empty `annotations:` entry, or add one after
            // metadata's last entry.
            (None, Some(c)) => self.open_container(c, &new, edits)?,
            (_, None) => {
                let mut all = vec![format!("{}annotations:", pad(mi))];
                all.extend(new);
                edits.push(self.insert_after(last.last, &all));
            }
        }
        Ok(())
    }

    /// Finishes the edit of the existing block `block` under `header`, after its entries were
    /// set and `removed` of them removed: the `new` lines go after its last entry; when every
    /// entry went, `{}` keeps a valid empty mapping, not a null (the controller expects
    /// `encryptedData: {}`).
    fn grow_or_empty(
        &self,
        header: &Child,
        block: &Block,
        new: &[String],
        removed: usize,
        edits: &mut Vec<Edit>,
    ) {
        if !new.is_empty() {
            let anchor = block.children.last().map_or(header.line, |c| c.last);
            edits.push(self.insert_after(anchor, new));
        } else if removed > 0 && removed == block.children.len() {
            let at = header.entry.after_colon;
            edits.push(Edit::new(at..at, " {}".into()));
        }
    }

    /// Replaces the values of the keys of `set` that `block` holds; returns the lines (at
    /// `indent`) of the others, in plan order, for the caller to insert.
    fn set_entries(
        &self,
        block: Option<&Block>,
        indent: usize,
        set: &[(String, String)],
        edits: &mut Vec<Edit>,
    ) -> Result<Vec<String>, SealedSecretError> {
        let mut new = Vec::new();
        for (k, v) in set {
            match block.and_then(|b| b.get(k)) {
                Some(c) => edits.extend(self.replace_value(c, v)?),
                None => new.push(format!(
                    "{}{}: {}",
                    pad(indent),
                    plain_or_quoted(k),
                    plain_or_quoted(v)
                )),
            }
        }
        Ok(new)
    }

    /// Replaces the value of a one-line entry, keeping its quote style.
    fn replace_value(&self, c: &Child, v: &str) -> Result<Option<Edit>, SealedSecretError> {
        if c.last != c.line {
            return Err(self.unsupported(c, "a value spanning several lines"));
        }
        match &c.entry.val {
            Val::Scalar { style, span, .. } => {
                let text = render_value(v, *style);
                if self.lines.text[span.clone()] == text {
                    return Ok(None);
                }
                Ok(Some(Edit::new(span.clone(), text)))
            }
            Val::Empty => Ok(Some(Edit::new(
                c.entry.after_colon..c.entry.after_colon,
                format!(" {}", plain_or_quoted(v)),
            ))),
            Val::BlockScalar => Err(self.unsupported(c, "a block scalar value")),
            Val::FlowEmptyMap { .. } => {
                Err(self.unsupported(c, "a mapping where a string belongs"))
            }
            Val::Other(what) => Err(self.unsupported(c, what)),
        }
    }

    /// Sets and removes `spec.encryptedData` entries.
    fn encrypted(&self, plan: &EditPlan, edits: &mut Vec<Edit>) -> Result<(), SealedSecretError> {
        if plan.set.is_empty() && plan.remove.is_empty() {
            return Ok(());
        }
        let spec_child = self.layout.root.get("spec");
        if self.ss.has_legacy_data && !plan.set.is_empty() {
            let (line, column) =
                spec_child.map_or((self.line, 1), |c| super::key_loc(self.lines, c));
            return Err(SealedSecretError::LegacyData { line, column });
        }
        let enc = self.layout.encrypted.as_ref();
        let spec = self.layout.spec.as_ref();
        let spec_i = spec
            .and_then(|b| b.indent)
            .unwrap_or(self.root_indent() + self.step());
        let enc_child = spec.and_then(|b| b.get("encryptedData"));
        let ei = enc
            .and_then(|b| b.indent)
            .unwrap_or(enc_child.map_or(spec_i, |c| c.entry.indent) + self.step());
        let new = self.set_entries(enc, ei, &plan.set, edits)?;
        let removed = self.remove_entries(enc, &plan.remove, edits);
        match self.ss.encrypted_data_layout {
            EncryptedDataLayout::Block => {
                let (Some(enc), Some(header)) = (enc, enc_child) else {
                    return Err(SealedSecretError::Verification {
                        what: "encryptedData block without a header".into(),
                    });
                };
                self.grow_or_empty(header, enc, &new, removed, edits);
            }
            EncryptedDataLayout::FlowEmpty
            | EncryptedDataLayout::Null
            | EncryptedDataLayout::Flow => {
                if let (false, Some(h)) = (new.is_empty(), enc_child) {
                    self.open_container(h, &new, edits)?;
                }
            }
            EncryptedDataLayout::Missing if new.is_empty() => {}
            // A new `encryptedData:` block under `spec` (created after the root's last entry
            // when there is none).
            EncryptedDataLayout::Missing => {
                let mut block = vec![format!("{}encryptedData:", pad(spec_i))];
                block.extend(new);
                match (spec_child, spec) {
                    (Some(sc), Some(sb)) if !sb.children.is_empty() => {
                        edits.push(self.insert_after(sc.line, &block));
                    }
                    (Some(sc), _) => self.open_container(sc, &block, edits)?,
                    (None, _) => {
                        let last = self.layout.root.children.last().map_or(0, |c| c.last);
                        let mut all = vec![format!("{}spec:", pad(self.root_indent()))];
                        all.extend(block);
                        edits.push(self.insert_after(last, &all));
                    }
                }
            }
        }
        Ok(())
    }

    /// Removes the entries of `block` named in `keys`, one splice per run of adjacent lines
    /// (two splices would overlap at a last line without a line break); returns how many
    /// entries went.
    fn remove_entries(
        &self,
        block: Option<&Block>,
        keys: &[String],
        edits: &mut Vec<Edit>,
    ) -> usize {
        let mut gone: Vec<(usize, usize)> = keys
            .iter()
            .filter_map(|k| block.and_then(|b| b.get(k)).map(|c| (c.line, c.last)))
            .collect();
        let removed = gone.len();
        gone.sort_unstable();
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for (first, last) in gone {
            match runs.last_mut() {
                Some(r) if r.1 + 1 == first => r.1 = last,
                _ => runs.push((first, last)),
            }
        }
        edits.extend(
            runs.into_iter()
                .map(|(first, last)| self.remove_lines(first, last)),
        );
        removed
    }
}

fn pad(n: usize) -> String {
    " ".repeat(n)
}

/// Whether `s` reads back as the same string when written unquoted, under YAML 1.2 and the
/// YAML 1.1 rules Kubernetes tooling still applies (booleans like `on`/`y`, numbers, nulls).
pub(crate) fn plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if "-?:,[]{}#&*!|>'\"%@`= ".contains(first)
        || s.ends_with([' ', ':'])
        || s.contains(": ")
        || s.contains(" #")
        || s.chars().any(|c| c.is_control())
    {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "y" | "yes" | "n" | "no" | "true" | "false" | "on" | "off" | "null" | "~"
    ) {
        return false;
    }
    let t = s.trim_start_matches(['+', '-']);
    if t.eq_ignore_ascii_case(".inf") || t.eq_ignore_ascii_case(".nan") {
        return false;
    }
    // Anything that starts like a number and has only number/date/time characters: quote.
    let numberish = t.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.:+-".contains(c));
    !numberish
}

pub(super) fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s` as a YAML scalar: plain when [`plain_safe`], else double-quoted. Used by every module
/// that writes YAML text by hand (the editor, `migrate`, `recover`).
pub(crate) fn plain_or_quoted(s: &str) -> String {
    if plain_safe(s) {
        s.to_string()
    } else {
        double_quoted(s)
    }
}

/// Renders `s` in the style the old value had (plain stays plain when that is safe).
pub(super) fn render_value(s: &str, style: ScalarStyle) -> String {
    match style {
        ScalarStyle::SingleQuoted => format!("'{}'", s.replace('\'', "''")),
        ScalarStyle::DoubleQuoted => double_quoted(s),
        ScalarStyle::Plain | ScalarStyle::Empty => plain_or_quoted(s),
    }
}

/// Re-parses the output and checks it against the intended structure.
fn verify(
    old: &str,
    before: &[ParsedDoc],
    doc_index: usize,
    plan: &EditPlan,
    out: &str,
) -> Result<(), SealedSecretError> {
    let fail = |what: String| SealedSecretError::Verification { what };
    let lines = Lines::new(out).map_err(|e| fail(format!("re-read failed: {e}")))?;
    let after = parse_docs(&lines).map_err(|e| fail(format!("re-parse failed: {e}")))?;
    if after.len() != before.len() {
        return Err(fail("the number of documents changed".into()));
    }
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        if i != doc_index && old[b.public.span.clone()] != out[a.public.span.clone()] {
            return Err(fail(format!("document {i} changed")));
        }
    }
    let mut expected = before[doc_index].value.clone();
    let root = expected
        .as_mapping_mut()
        .ok_or_else(|| fail("document is not a mapping".into()))?;
    let (set, remove) = (&plan.annotations, &plan.remove_annotations);
    expect_edit(root, ["metadata", "annotations"], set, remove);
    expect_edit(root, ["spec", "encryptedData"], &plan.set, &plan.remove);
    if after[doc_index].value != expected {
        return Err(fail("the edited document differs from the plan".into()));
    }
    Ok(())
}

/// Sets and removes the entries of the mapping at `path` of `root`, as the edit should have. The
/// mapping is created (replacing a null) only when something is set in it.
fn expect_edit(root: &mut Mapping, path: [&str; 2], set: &[(String, String)], remove: &[String]) {
    let exists = root
        .get(path[0])
        .and_then(|m| m.get(path[1]))
        .is_some_and(Value::is_mapping);
    if set.is_empty() && (!exists || remove.is_empty()) {
        return;
    }
    let m = sub_map(sub_map(root, path[0]), path[1]);
    for (k, v) in set {
        m.insert(Value::String(k.clone()), Value::String(v.clone()));
    }
    for k in remove {
        m.shift_remove(k.as_str());
    }
}

/// The mapping under `key`, created (replacing a null) when absent.
fn sub_map<'m>(m: &'m mut Mapping, key: &str) -> &'m mut Mapping {
    let slot = m
        .entry(Value::String(key.to_string()))
        .or_insert(Value::Mapping(Mapping::new()));
    if !slot.is_mapping() {
        *slot = Value::Mapping(Mapping::new());
    }
    slot.as_mapping_mut()
        .expect("invariant: replaced by a mapping above")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_safety() {
        for s in ["AgBx+/9=", "strict emp-paper/emp-secrets", "abc", "a-b.c"] {
            assert!(plain_safe(s), "{s}");
        }
        for s in [
            "",
            "true",
            "On",
            "y",
            "null",
            "~",
            "1234",
            "0x1F",
            "1e5",
            ".inf",
            "-.Inf",
            "3fa9",
            "2001-12-14",
            "-x",
            "a: b",
            "a #b",
            "=",
            "12:30",
        ] {
            assert!(!plain_safe(s), "{s}");
        }
    }

    #[test]
    fn remove_annotations_takes_only_their_lines() {
        let t = "kind: SealedSecret\napiVersion: bitnami.com/v1alpha1\nmetadata:\n  name: s\n  annotations:\n    # keep me\n    sealedsecrets.bitnami.com/namespace-wide: \"true\"\n    team: a\n    sealedsecrets.bitnami.com/cluster-wide: \"false\"\nspec:\n  encryptedData: {}\n";
        let plan = EditPlan {
            remove_annotations: vec![
                "sealedsecrets.bitnami.com/namespace-wide".into(),
                "sealedsecrets.bitnami.com/cluster-wide".into(),
                "absent".into(),
            ],
            ..EditPlan::default()
        };
        let out = apply(t, 0, &plan).unwrap();
        assert_eq!(
            out,
            t.replace(
                "    sealedsecrets.bitnami.com/namespace-wide: \"true\"\n",
                ""
            )
            .replace(
                "    sealedsecrets.bitnami.com/cluster-wide: \"false\"\n",
                ""
            )
        );
        // Removing every annotation leaves an empty mapping, not a null.
        let plan = EditPlan {
            remove_annotations: vec!["team".into()],
            ..EditPlan::default()
        };
        let out = apply(&out, 0, &plan).unwrap();
        assert!(
            out.contains("  annotations: {}\n    # keep me\nspec:"),
            "{out}"
        );
        // Set and remove the same key: refused.
        let plan = EditPlan {
            annotations: vec![("team".into(), "b".into())],
            remove_annotations: vec!["team".into()],
            ..EditPlan::default()
        };
        assert!(matches!(
            apply(t, 0, &plan),
            Err(SealedSecretError::DuplicateKey { .. })
        ));
    }

    #[test]
    fn quoted_round_trip_through_yaml() {
        for s in ["true", "1234", "a\"b\\c", "x'y", "=", "0o17"] {
            for style in [
                ScalarStyle::Plain,
                ScalarStyle::SingleQuoted,
                ScalarStyle::DoubleQuoted,
            ] {
                let doc = format!("k: {}\n", render_value(s, style));
                let v: Value = yaml_serde::from_str(&doc).unwrap();
                assert_eq!(v.get("k").and_then(Value::as_str), Some(s), "{doc}");
            }
        }
    }
}
