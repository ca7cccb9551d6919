//! The documents of a kustomize input file: split at `---` lines (as kyaml's `splitDocuments`
//! does: a `...` line does not split), each parsed with `yaml_serde` and located with the shared
//! [`crate::yamlpos`] line finder.
//!
//! Owns only the pairing of a document's text, and its parsed value. Must
//! not parse values itself or locate lines any other way than through [`crate::yamlpos`].

use std::sync::{Arc, OnceLock};

use yaml_serde::Value;

use crate::yamlpos::{self, Layout, Seg};

/// One document of a multi-document YAML file.
#[derive(Debug)]
pub(crate) struct Doc {
    /// The document's text (without its `---` line).
    pub(crate) text: String,
    /// 1-based line of the first line of `text` in the file.
    pub(crate) start_line: usize,
    /// 0-based index among the file's non-empty documents.
    pub(crate) index: usize,
    /// True when the document is its file's only one and kyaml cuts the file into no other
    /// piece, not even an empty one ([`super::lists::only_piece`]): kyaml's reader then unwraps
    /// a `List` more leniently ([`super::lists::expands_doc`]).
    pub(crate) alone: bool,
    /// The parsed value, or the parser's message (without positions: those are relative to the
    /// document, see `error_line`). Shared (not copied) by every object built from it until a
    /// transform changes that object (`Arc::make_mut`).
    pub(crate) value: Result<Arc<Value>, String>,
    /// When `value` is an error: the 1-based line in the file where the parser stopped.
    pub(crate) error_line: usize,
    /// The line layout of `text`, made on the first lookup and kept: a document is located
    /// once per reference and list entry it holds.
    layout: OnceLock<Layout>,
}

impl Doc {
    /// A document made of a value, with no text (a kustomization that is no file).
    pub(crate) fn of_value(value: Value) -> Doc {
        Doc {
            text: String::new(),
            start_line: 1,
            index: 0,
            alone: false,
            value: Ok(Arc::new(value)),
            error_line: 1,
            layout: OnceLock::new(),
        }
    }

    /// The document as written `below` lines further down its file: a document of text
    /// embedded in a literal block scalar (`- |`) whose header is at line `below`.
    pub(crate) fn moved_down(mut self, below: usize) -> Doc {
        self.start_line += below;
        self.error_line += below;
        self
    }

    /// The document with every node located at `line`: text embedded where its own lines do
    /// not map onto the file's (a quoted or folded scalar).
    pub(crate) fn pinned_at(self, line: usize) -> Doc {
        Doc {
            text: String::new(),
            start_line: line,
            index: self.index,
            alone: self.alone,
            value: self.value,
            error_line: line,
            layout: OnceLock::new(),
        }
    }

    /// The 1-based file line of the node at `path` (or of its deepest ancestor found), in block
    /// or flow style ([`yamlpos::Document::find_or_parent`]).
    pub(crate) fn line_of(&self, path: &[Seg]) -> usize {
        self.located().find_or_parent(path).line as usize
    }

    /// The document's text, for lookups in it, with its layout kept.
    pub(crate) fn located(&self) -> yamlpos::Document<'_> {
        let layout = self.layout.get_or_init(|| Layout::new(&self.text));
        yamlpos::Document::with_layout(&self.text, self.start_line, 0, layout)
    }
}

/// True when the first YAML document of `text` is empty (a `---` line opens a document with
/// nothing in it before the first that has content): a reader that decodes the first document
/// only (go-yaml v2 `Unmarshal`) reads nothing, while [`split_docs`] skips empty documents.
/// A `...` end marker before any content ends an empty first document as well (go-yaml then
/// reports "did not find expected node content").
pub(crate) fn first_document_empty(text: &str) -> bool {
    let first_line =
        (text.lines().map(str::trim_end)).find(|l| !l.is_empty() && !l.starts_with('#'));
    if first_line.is_some_and(|l| l == "..." || l.starts_with("... ")) {
        return true;
    }
    let pieces = yamlpos::pieces(text, false);
    // What comes before the first `---` is a document only when it holds content.
    let first = pieces.iter().find(|p| p.explicit || p.significant());
    first.is_some_and(|p| !p.significant())
}

/// True for a document kustomize drops when it reads a file of objects (resources, generator
/// and transformer configurations): `null` (or `~`), `{}` and `[]`, which kyaml's
/// `RNode.IsNilOrEmpty` (kyaml `yaml/rnode.go`) calls empty; `kubectl kustomize` builds a file
/// holding such a document beside its objects. Any other scalar is no object, and fails the
/// build.
pub(crate) fn nil_or_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Mapping(m) => m.is_empty(),
        Value::Sequence(s) => s.is_empty(),
        _ => false,
    }
}

/// Splits `text` into the documents kustomize reads ([`yamlpos::kyaml_pieces`]: at `---` lines;
/// a `...` line ends a document and what follows it up to the next `---` is dropped from the
/// build without a word) and parses each.
pub(crate) fn split_docs(text: &str) -> Vec<Doc> {
    let pieces = yamlpos::kyaml_pieces(text);
    pieces
        .into_iter()
        .enumerate()
        .map(|(index, piece)| {
            let alone = super::lists::alone(text, index);
            let text = piece.text;
            // yaml_serde's positions are inside the document: turn them into the file's line.
            let (value, error_line) = if piece.explicit && piece.head_line + 1 < piece.first_line {
                (Err(DIRECTIVE.to_owned()), piece.head_line)
            } else if let Some(line) = crate::yamlpos::too_deep(text) {
                let why = crate::yamlpos::TOO_DEEP.to_owned();
                (Err(why), piece.first_line + line - 1)
            } else {
                match yaml_serde::from_str::<yaml_serde::Value>(text) {
                    Ok(v) => (Ok(Arc::new(merged(v, text))), piece.first_line),
                    Err(e) => (
                        Err(without_positions(&crate::yamlpos::error_message(&e))),
                        crate::yamlpos::error_position(text, &e)
                            .map_or(piece.first_line, |(l, _)| piece.first_line + l.max(1) - 1),
                    ),
                }
            };
            Doc {
                text: text.to_owned(),
                start_line: piece.first_line,
                index,
                alone,
                value,
                error_line,
                layout: OnceLock::new(),
            }
        })
        .collect()
}

/// `v` with its YAML merge keys (`<<: *anchor`) applied, as go-yaml's decoder applies them
/// before kustomize reads the object: a reference written through one is a reference. When a
/// merge cannot be applied (a `<<` whose value is no mapping, or a quoted `"<<"` key, which
/// `yaml_serde`'s values cannot tell from a merge key), the value is kept as written.
pub(crate) fn merged(v: Value, text: &str) -> Value {
    // Only a document that may hold one is copied and walked (a `cat <<EOF` script holds none).
    let merge_key = text.match_indices("<<").any(|(i, _)| {
        let after = text[i + 2..].trim_start_matches([' ', '"', '\'']);
        after.starts_with(':')
    });
    if !merge_key {
        return v;
    }
    let mut applied = v.clone();
    match applied.apply_merge() {
        Ok(()) => applied,
        Err(_) => v,
    }
}

/// Why a piece with a `%` directive line does not load: kyaml cuts the file at `---` lines
/// before parsing, so a directive (`%YAML 1.2`, `%TAG`) is left without the document it
/// introduces, and the build fails (kustomize `kyaml/kio/byteio_reader.go`).
pub(crate) const DIRECTIVE: &str = "a `%` directive line, which kustomize cannot read: it splits the file at `---` lines first, so the directive stands without its document (\"did not find expected <document start>\")";

/// A parser message without its ` at line N column M` parts, which count lines from the start of
/// the document, not of the file.
fn without_positions(message: &str) -> String {
    let skip_digits = |s| str::trim_start_matches(s, |c: char| c.is_ascii_digit());
    let mut parts = message.split(" at line ");
    let mut out = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        let rest = skip_digits(part);
        out.push_str(rest.strip_prefix(" column ").map_or(rest, skip_digits));
    }
    out
}

/// True when some mapping in `v` has a mapping or a list as a key. kustomize converts every
/// document to JSON, whose keys are strings, so it cannot read such a document; in manifests
/// it is almost always an unrendered template (`name: {{ .Release.Name }}`).
pub(crate) fn has_complex_key(v: &Value) -> bool {
    match v {
        Value::Mapping(m) => m
            .iter()
            .any(|(k, v)| k.is_mapping() || k.is_sequence() || has_complex_key(v)),
        Value::Sequence(s) => s.iter().any(has_complex_key),
        Value::Tagged(t) => has_complex_key(&t.value),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As kyaml: a piece holds one document (what follows `...` is dropped), and a `%`
    /// directive line fails the build, whatever its version.
    #[test]
    fn a_piece_is_its_first_document_and_a_directive_does_not_load() {
        let docs = split_docs("kind: A\n...\nkind: B\n---\nkind: C\n");
        let kinds: Vec<String> = docs
            .iter()
            .map(|d| {
                d.value.as_ref().unwrap()["kind"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(kinds, ["A", "C"]);
        for text in [
            "%YAML 1.1\n---\nkind: A\n",
            "kind: A\n---\n%TAG ! x:\n---\nkind: B\n",
        ] {
            let docs = split_docs(text);
            let bad: Vec<usize> = docs
                .iter()
                .filter(|d| d.value.is_err())
                .map(|d| d.error_line)
                .collect();
            assert_eq!(bad.len(), 1, "{text}");
            let line = text.lines().nth(bad[0] - 1).unwrap_or_default();
            assert!(line.starts_with('%'), "{text}: line {}", bad[0]);
        }
    }

    /// Issue 17: a parse error in the second document names the file's line, not the document's.
    #[test]
    fn issue_17_parse_errors_name_the_file_line() {
        let docs = split_docs("# head\na: 1\n---\nb: 2\nc: [\n  d\n");
        assert_eq!(docs.len(), 2);
        let e = docs[1].value.as_ref().unwrap_err();
        assert!(!e.contains("at line"), "{e}");
        assert!(
            (5..=7).contains(&docs[1].error_line),
            "{}",
            docs[1].error_line
        );
        assert_eq!(
            without_positions(
                "did not find ',' at line 3 column 11, while parsing at line 1 column 4"
            ),
            "did not find ',', while parsing"
        );
    }

    #[test]
    fn splits_documents_with_lines() {
        let docs = split_docs("# c\n---\na: 1\n---\n\n---\nb: 2\n");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].start_line, 3);
        assert_eq!(docs[1].start_line, 7);
        assert_eq!(docs[1].line_of(&[Seg::Key("b".to_owned())]), 7);
    }
}
