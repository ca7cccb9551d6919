//! Shared YAML access for rules: every document of every YAML file, parsed with `yaml_serde`
//! and paired with its [`yamlpos::Document`] so a rule can turn a key path into a [`Location`].
//!
//! Owns only the pairing; documents that do not parse are skipped by every rule and kept, with
//! the parser's position, for the `yaml-syntax` rule ([`yaml_errors`]). Never holds secret
//! values beyond the parsed document the rule is looking at.

use yaml_serde::Value;

use super::{Context, SourceFile};
use crate::finding::Location;
use crate::workspace::helm_chart;
use crate::yamlpos::{self, Seg};

/// One parsed document of a YAML file.
#[derive(Debug)]
pub struct YamlDoc<'t> {
    /// The file it came from.
    pub file: &'t SourceFile,
    /// The document's position information.
    pub doc: yamlpos::Document<'t>,
    /// The parsed document (for an item of a `List`, the item).
    pub value: Value,
    /// Where the value is in `doc`: the item's path, or when `doc` is the text of the item's top-level
    /// List item ([`yamlpos::Document::item_documents`]), the rest of the path in that.
    at: Vec<Seg>,
    /// The document has a top-level `sops` mapping: a file SOPS encrypted, whose encrypted
    /// values read `ENC[...]` (see `plaintext_secret::is_sops_encrypted`).
    pub sops: bool,
    /// The file is a template of a Helm chart (`workspace::helm_chart`: under a `templates/`
    /// directory beside a `Chart.yaml`): Helm fills its `{{ }}` from the chart's values.
    pub helm: bool,
}

impl YamlDoc<'_> {
    /// The document's `kind`, if it is a string.
    pub fn kind(&self) -> Option<&str> {
        self.value.get("kind").and_then(Value::as_str)
    }

    /// The document's `metadata.name`, or `""` when absent or not a string.
    pub fn name(&self) -> &str {
        self.get(&["metadata", "name"])
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The document's `metadata.namespace`, when it is a string.
    pub fn namespace(&self) -> Option<&str> {
        self.get(&["metadata", "namespace"]).and_then(Value::as_str)
    }

    /// The value at a path of mapping keys.
    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        yamlpos::value_at(&self.value, path)
    }

    /// The location of `path` (falling back to its longest present prefix, then the document
    /// start).
    pub fn location(&self, path: &[&str]) -> Location {
        let segs: Vec<Seg> = (self.at.iter().cloned())
            .chain(path.iter().map(|k| Seg::from(*k)))
            .collect();
        match self.doc.find(&segs) {
            Some(pos) => Location::new(self.file.path.clone(), pos.line, pos.column).with_bytes(
                self.doc
                    .key_bytes(pos, path.last().copied().unwrap_or_default()),
            ),
            None => {
                let pos = self.doc.find_or_parent(&segs);
                Location::new(self.file.path.clone(), pos.line, pos.column)
            }
        }
    }
}

/// A YAML document that does not parse.
#[derive(Debug)]
pub struct YamlError<'t> {
    /// The file it is in.
    pub file: &'t SourceFile,
    /// 1-based file line and column the parser points at (the document start when it gives
    /// no position).
    pub line: u32,
    /// See `line`.
    pub column: u32,
    /// The parser's message (positions in it are relative to the document; never a value).
    pub message: String,
}

/// Every parse of the tree's YAML: the documents that parse, and those that do not.
#[derive(Debug, Default)]
pub struct Parsed<'t> {
    /// Documents that parse and are mappings.
    pub docs: Vec<YamlDoc<'t>>,
    /// Documents that do not parse.
    pub errors: Vec<YamlError<'t>>,
    /// The indexes in `docs` of the documents of each [`DocKey`], in file order.
    named: std::collections::HashMap<DocKey, Vec<usize>>,
}

/// A document's file, kind, `metadata.name` and `metadata.namespace` as written: what tells
/// apart the objects of a file (one file may hold a name in several namespaces).
type DocKey = (String, String, String, Option<String>);

fn doc_key(path: &str, kind: &str, name: &str, namespace: Option<&str>) -> DocKey {
    let namespace = namespace.map(str::to_owned);
    (path.to_owned(), kind.to_owned(), name.to_owned(), namespace)
}

/// Every document of every YAML file in `cx` that parses and has one of the [`KEPT_KINDS`].
/// Parsed once per check run and shared by every rule.
pub fn yaml_docs<'c, 't>(cx: &'c Context<'t>) -> &'c [YamlDoc<'t>] {
    &cx.yaml_docs_cache().get_or_init(|| parse_all(cx)).docs
}

/// Every document of every YAML file in `cx` that does not parse (same single parse as
/// [`yaml_docs`]).
pub fn yaml_errors<'c, 't>(cx: &'c Context<'t>) -> &'c [YamlError<'t>] {
    &cx.yaml_docs_cache().get_or_init(|| parse_all(cx)).errors
}

/// The kinds whose documents [`yaml_docs`] keeps: those the rules read (plaintext-secret,
/// readable-secret-data, sealed values, scope annotations, model-divergence). Every other
/// document is parsed for `yaml-syntax` and dropped, so that a tree of many thousand manifests
/// is not held in memory. A rule reading another kind adds it here.
pub const KEPT_KINDS: [&str; 2] = ["Secret", "SealedSecret"];

/// True for a document [`yaml_docs`] reads: one of the [`KEPT_KINDS`], or a list whose items
/// may be (kustomize expands a kind ending in `List`).
pub fn is_read(kind: &str) -> bool {
    KEPT_KINDS.contains(&kind) || is_list(kind)
}

/// A kind kustomize and `kubectl` expand into its `items` (`List`, `SecretList`, ...).
fn is_list(kind: &str) -> bool {
    kind.ends_with("List")
}

fn parse_all<'t>(cx: &Context<'t>) -> Parsed<'t> {
    use rayon::prelude::*;
    let skip = &cx.tree.parsed_elsewhere;
    let parsed: Vec<Parsed<'t>> = cx
        .files
        .par_iter()
        .filter(|f| !skip.contains(&f.path))
        // Outside the tree only Secrets and SealedSecrets matter (the repository-wide rules).
        .filter(|f| {
            if f.repository_only {
                super::may_name_secret(&f.text)
            } else {
                f.is_yaml()
            }
        })
        .map(|f| {
            let mut parsed = parse_file(cx.root, f);
            // Parsed only for an escape that may spell the kind: a file that does not parse
            // and never names `Secret` is no template of one, and gets no `yaml-syntax` note.
            if f.repository_only && !f.text.contains("Secret") {
                parsed.errors.clear();
            }
            parsed
        })
        .collect();
    let mut out = Parsed::default();
    for p in parsed {
        out.docs.extend(p.docs);
        out.errors.extend(p.errors);
    }
    for (i, d) in out.docs.iter().enumerate() {
        let kind = d.kind().unwrap_or_default();
        let key = doc_key(&d.file.path, kind, d.name(), d.namespace());
        out.named.entry(key).or_default().push(i);
    }
    out
}

/// The documents of the file `path` with this `kind`, `metadata.name` and `metadata.namespace`
/// as written, in file order, looked up in the index the parse builds.
pub fn named_docs<'c, 't>(
    cx: &'c Context<'t>,
    path: &str,
    kind: &str,
    (name, namespace): (&str, Option<&str>),
) -> impl Iterator<Item = &'c YamlDoc<'t>> + use<'c, 't> {
    let parsed = cx.yaml_docs_cache().get_or_init(|| parse_all(cx));
    let key = doc_key(path, kind, name, namespace);
    let found = parsed.named.get(&key).map_or(&[][..], Vec::as_slice);
    found.iter().filter_map(|&i| parsed.docs.get(i))
}

fn parse_file<'t>(root: &std::path::Path, file: &'t SourceFile) -> Parsed<'t> {
    let mut out = Parsed::default();
    // Whether the file is a Helm chart's template: asked of the file system once, when needed.
    let mut in_chart: Option<bool> = None;
    for (index, doc) in yamlpos::documents(&file.text).into_iter().enumerate() {
        if let Some(line) = yamlpos::too_deep(doc.text) {
            out.errors.push(YamlError {
                file,
                line: doc.first_line + u32::try_from(line).unwrap_or(1) - 1,
                column: 1,
                message: yamlpos::TOO_DEEP.to_owned(),
            });
            continue;
        }
        let asked = || *in_chart.get_or_insert_with(|| helm_chart(root, &file.path).is_some());
        match parse_doc(doc.text, asked) {
            Ok(value) if crate::kustomize::has_complex_key(&value) => {
                out.errors.push(YamlError {
                    file,
                    line: template_line(&doc),
                    column: 1,
                    message: "a mapping key is itself a mapping or list (an unrendered `{{ }}` template?), which kustomize cannot read".to_owned(),
                });
            }
            Ok(value) => {
                // Merge keys applied as go-yaml applies them: a Secret's values written through
                // `<<: *anchor` are its values.
                let value = crate::kustomize::merged(value, doc.text);
                let sops = value.get("sops").is_some_and(Value::is_mapping);
                let alone = crate::kustomize::lists::alone(&file.text, index);
                // A `kind: List` (or `SecretList`, ...) as kustomize expands it: `kubectl get
                // secret -o yaml` output holds real Secrets.
                let items = crate::kustomize::lists::objects_of_doc(&value, alone);
                let mut items: Vec<_> = items.map(|(at, v)| (at, v.clone())).collect();
                let top = (value.get("items").and_then(Value::as_sequence)).map_or(0, Vec::len);
                // Each top-level item in a document of its own text when it can be cut so:
                // locating a key in the List's document walks every item before it.
                let cut = (!items.is_empty())
                    .then(|| doc.item_documents(&[Seg::from("items")]))
                    .flatten()
                    .filter(|cut| cut.len() == top);
                items.push((Vec::new(), value));
                for (item, value) in items {
                    let kept = value
                        .get("kind")
                        .and_then(Value::as_str)
                        .is_some_and(|k| KEPT_KINDS.contains(&k));
                    if !(kept && value.is_mapping()) {
                        continue;
                    }
                    let (doc, at) = placed(&doc, cut.as_deref(), &item);
                    out.docs.push(YamlDoc {
                        file,
                        doc,
                        value,
                        at,
                        sops,
                        helm: false,
                    });
                }
            }
            // Outside the tree a file that does not parse may be a template, not a manifest:
            // kept too, so that `yaml-syntax` can say (as a note) that nothing checked it.
            Err(e) => out.errors.push(parse_error(file, &doc, &e)),
        }
    }
    // The file system is asked at most once per file (a document's parse may have asked), and
    // only for a file holding a document kept.
    if !out.docs.is_empty()
        && *in_chart.get_or_insert_with(|| helm_chart(root, &file.path).is_some())
    {
        out.docs.iter_mut().for_each(|d| d.helm = true);
    }
    out
}

/// A document's value; one of a Helm chart's templates (`in_chart`, asked only then) that does
/// not parse as it is is parsed with its actions masked ([`helm_masked`]).
fn parse_doc(text: &str, in_chart: impl FnOnce() -> bool) -> Result<Value, yaml_serde::Error> {
    match yaml_serde::from_str::<Value>(text) {
        Err(e) if text.contains("{{") && in_chart() => helm_masked(text).ok_or(e),
        parsed => parsed,
    }
}

/// What stands for a `{{ }}` action in [`helm_masked`]'s text: a plain scalar.
const ACTION: &str = "EMP_SEAL_TEMPLATE_ACTION";

/// A Helm chart's template document that does not parse as it is (`name: {{ include ... }}-db`,
/// a `{{- include ... | nindent 4 }}` line), read with its actions masked: a line that is one
/// action is a comment, any other action a plain scalar, which comes back as `{{ }}` in the
/// values (so the rules see a templated value, as in a template that parses). None when it
/// still does not parse (an action spanning lines, a block the actions build). The values it
/// writes as they are (`password: hunter2`) are then judged, as a template that parses has its
/// judged.
fn helm_masked(text: &str) -> Option<Value> {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let eol = &line[body.len()..];
        let t = body.trim();
        if t.starts_with("{{") && t.find("}}") == Some(t.len().saturating_sub(2)) {
            out.push('#');
            out.push_str(eol);
            continue;
        }
        let mut rest = body;
        while let Some(start) = rest.find("{{") {
            let end = start + rest[start..].find("}}")? + 2;
            out.push_str(&rest[..start]);
            // A comment (`{{/* ... */}}`, `{{- /* ... */ -}}`) renders nothing.
            let inner =
                rest[start + 2..end - 2].trim_matches(|c: char| c == '-' || c.is_whitespace());
            if !(inner.starts_with("/*") && inner.ends_with("*/")) {
                out.push_str(ACTION);
            }
            rest = &rest[end..];
        }
        out.push_str(rest);
        out.push_str(eol);
    }
    let mut value: Value = yaml_serde::from_str(&out).ok()?;
    unmask(&mut value);
    Some(value)
}

/// Turns [`ACTION`] in `v`'s strings, keys too, back into a `{{ }}`.
fn unmask(v: &mut Value) {
    match v {
        Value::String(s) if s.contains(ACTION) => *s = s.replace(ACTION, "{{ }}"),
        Value::Mapping(m) => {
            *m = std::mem::take(m)
                .into_iter()
                .map(|(mut k, mut v)| {
                    unmask(&mut k);
                    unmask(&mut v);
                    (k, v)
                })
                .collect();
        }
        Value::Sequence(items) => items.iter_mut().for_each(unmask),
        Value::Tagged(t) => unmask(&mut t.value),
        _ => {}
    }
}

/// The document to locate an item at `item` in, and its path there: the text cut for its
/// top-level List item when there is one, else the whole document.
fn placed<'t>(
    doc: &yamlpos::Document<'t>,
    cut: Option<&[(yamlpos::Document<'t>, Vec<Seg>)]>,
    item: &[Seg],
) -> (yamlpos::Document<'t>, Vec<Seg>) {
    if let (Some(cut), [_, Seg::Index(i), rest @ ..]) = (cut, item)
        && let Some((own, at)) = cut.get(*i)
    {
        return (own.clone(), at.iter().chain(rest).cloned().collect());
    }
    (doc.clone(), item.to_vec())
}

/// A parse error at the parser's position. `yaml_serde` places a duplicate key at the start of
/// its mapping; like kustomize (go-yaml: "mapping key already defined at line N") the finding
/// points at the second one, which is usually the line to fix. A kustomization with one is
/// built by kubectl (sigs.k8s.io/yaml decodes it with go-yaml v2, where the last one wins), not
/// by the model: the message says so.
fn parse_error<'t>(
    file: &'t SourceFile,
    doc: &yamlpos::Document<'t>,
    e: &yaml_serde::Error,
) -> YamlError<'t> {
    let message = yamlpos::error_message(e);
    let (line, column) =
        yamlpos::error_position(doc.text, e).map_or((doc.first_line, 1), |(l, c)| {
            let rel = u32::try_from(l).unwrap_or(1).max(1);
            let col = u32::try_from(c).unwrap_or(1).max(1);
            (doc.first_line + rel - 1, col)
        });
    let mut message = shift_lines(&message, doc.first_line - 1);
    // Placed at the second occurrence by `error_position`; the message names the first.
    if let Some((key, first, _)) = yamlpos::repeated_key(doc.text, e) {
        let first = doc.first_line + u32::try_from(first).unwrap_or(1) - 1;
        message = format!("duplicate key \"{key}\" (first at line {first})");
        let name = file.path.rsplit('/').next().unwrap_or_default();
        if crate::workspace::KUSTOMIZATION_FILE_NAMES.contains(&name) {
            message.push_str(": kubectl kustomize takes the last one, the model reads neither");
        }
    }
    YamlError {
        file,
        line,
        column,
        message,
    }
}

/// The file line of a document's first `{{` outside a comment (its first line when none).
fn template_line(doc: &yamlpos::Document<'_>) -> u32 {
    (0u32..)
        .zip(doc.text.lines())
        .find(|(_, l)| {
            let code = l.split(" #").next().unwrap_or(l);
            !l.trim_start().starts_with('#') && code.contains("{{")
        })
        .map_or(doc.first_line, |(i, _)| doc.first_line + i)
}

/// The parser's message with its document-relative `line N` positions made file lines.
fn shift_lines(message: &str, by: u32) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("line ") {
        let (head, tail) = rest.split_at(i + "line ".len());
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        match tail[..digits].parse::<u32>() {
            Ok(n) => out.push_str(&(n + by).to_string()),
            Err(_) => out.push_str(&tail[..digits]),
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}

/// The documents of [`yaml_docs`] whose `kind` is `kind`, in the checked tree.
pub fn docs_of_kind<'c, 't>(
    cx: &'c Context<'t>,
    kind: &'static str,
) -> impl Iterator<Item = &'c YamlDoc<'t>> {
    repository_docs_of_kind(cx, kind).filter(|d| !d.file.repository_only)
}

/// The documents whose `kind` is `kind` in every file read, the repository-wide ones included
/// (for [`RuleScope::Repository`](crate::finding::RuleScope::Repository) rules).
pub fn repository_docs_of_kind<'c, 't>(
    cx: &'c Context<'t>,
    kind: &'static str,
) -> impl Iterator<Item = &'c YamlDoc<'t>> {
    yaml_docs(cx).iter().filter(move |d| d.kind() == Some(kind))
}
