//! Splitting a YAML stream into documents and finding the 1-based line of a node.
//!
//! Owns a light, read-only text scan: `yaml_serde` gives typed values without positions, so
//! lines come from walking the block-style indentation of the document text along the same path
//! that was followed in the typed value. Flow-style nodes (`{...}`, `[...]`) stop the walk at the
//! line that holds them, which is still the right line for one-line flow values. Must not parse
//! values itself: typing is `yaml_serde`'s job.

use yaml_serde::Value;

/// One step of a path into a YAML value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index (0-based).
    Index(usize),
}

/// One document of a multi-document YAML file.
#[derive(Debug)]
pub(crate) struct Doc {
    /// The document's text (without its `---` line).
    pub(crate) text: String,
    /// 1-based line of the first line of `text` in the file.
    pub(crate) start_line: usize,
    /// 0-based index among the file's non-empty documents.
    pub(crate) index: usize,
    /// The parsed value, or the parser's message.
    pub(crate) value: Result<Value, String>,
}

impl Doc {
    /// The 1-based file line of the node at `path` (or of its deepest block-style ancestor).
    pub(crate) fn line_of(&self, path: &[Seg]) -> usize {
        self.start_line + locate(&self.text, path)
    }
}

/// Splits `text` at `---` lines and parses each non-empty document.
pub(crate) fn split_docs(text: &str) -> Vec<Doc> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    let mut cur_start = 1usize;
    let push = |buf: &str, start: usize, docs: &mut Vec<Doc>| {
        let significant = buf.lines().any(|l| {
            let t = l.trim_start();
            !t.is_empty() && !t.starts_with('#') && t != "..."
        });
        if significant {
            let index = docs.len();
            let value = yaml_serde::from_str::<Value>(buf).map_err(|e| {
                // yaml_serde's message names a position inside the document only.
                e.to_string()
            });
            docs.push(Doc {
                text: buf.to_owned(),
                start_line: start,
                index,
                value,
            });
        }
    };
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t") {
            push(&cur, cur_start, &mut docs);
            cur.clear();
            cur_start = i + 2;
        } else {
            cur.push_str(line);
        }
    }
    push(&cur, cur_start, &mut docs);
    docs
}

/// A significant line: its column of content and the content.
struct Line<'a> {
    idx: usize,
    col: usize,
    text: &'a str,
}

fn significant<'a>(
    lines: &[&'a str],
    lo: usize,
    hi: usize,
    first_col: Option<usize>,
) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    for (idx, raw) in lines.iter().enumerate().take(hi).skip(lo) {
        let (col, text) = match first_col {
            Some(c) if idx == lo => (c, raw.get(c..).unwrap_or("")),
            _ => {
                let t = raw.trim_start_matches(' ');
                (raw.len() - t.len(), t)
            }
        };
        let t = text.trim_end();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        out.push(Line { idx, col, text: t });
    }
    out
}

fn key_of(text: &str) -> Option<(&str, &str)> {
    let (k, rest) = if let Some(s) = text.strip_prefix('"') {
        let end = s.find('"')?;
        (&s[..end], s[end + 1..].trim_start())
    } else if let Some(s) = text.strip_prefix('\'') {
        let end = s.find('\'')?;
        (&s[..end], s[end + 1..].trim_start())
    } else {
        let end = text
            .find(": ")
            .or_else(|| text.strip_suffix(':').map(str::len))?;
        (&text[..end], &text[end..])
    };
    let rest = rest.strip_prefix(':')?;
    Some((k.trim_end(), rest.trim()))
}

/// 0-based line offset of `path` inside `text`; the deepest ancestor found when the walk stops.
pub(crate) fn locate(text: &str, path: &[Seg]) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let mut lo = 0usize;
    let mut hi = lines.len();
    let mut first_col: Option<usize> = None;
    let mut found = significant(&lines, 0, hi, None)
        .first()
        .map_or(0, |l| l.idx);
    for seg in path {
        let sig = significant(&lines, lo, hi, first_col);
        let Some(block_col) = sig.first().map(|l| l.col) else {
            return found;
        };
        match seg {
            Seg::Key(key) => {
                let hit = sig
                    .iter()
                    .find(|l| l.col == block_col && key_of(l.text).is_some_and(|(k, _)| k == key));
                let Some(hit) = hit else { return found };
                found = hit.idx;
                let rest = key_of(hit.text).map_or("", |(_, r)| r);
                if !rest.is_empty()
                    && !rest.starts_with('#')
                    && !rest.starts_with('|')
                    && !rest.starts_with('>')
                {
                    // The value sits on this line (scalar or flow collection).
                    return found;
                }
                let end = sig
                    .iter()
                    .find(|l| {
                        l.idx > hit.idx
                            && (l.col < block_col
                                || (l.col == block_col && !l.text.starts_with('-')))
                    })
                    .map_or(hi, |l| l.idx);
                lo = hit.idx + 1;
                hi = end;
                first_col = None;
            }
            Seg::Index(i) => {
                let items: Vec<&Line<'_>> = sig
                    .iter()
                    .filter(|l| l.col == block_col && (l.text == "-" || l.text.starts_with("- ")))
                    .collect();
                let Some(item) = items.get(*i) else {
                    return found;
                };
                found = item.idx;
                let end = items.get(i + 1).map_or(hi, |l| l.idx);
                let after = item.text.get(1..).unwrap_or("");
                let pad = after.len() - after.trim_start().len();
                if after.trim().is_empty() {
                    lo = item.idx + 1;
                    first_col = None;
                } else {
                    lo = item.idx;
                    first_col = Some(item.col + 1 + pad);
                }
                hi = end;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(s: &str) -> Seg {
        Seg::Key(s.to_owned())
    }

    #[test]
    fn locates_nested_keys_and_items() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    envFrom:\n    - secretRef:\n        name: s1\n  - name: b\n    envFrom:\n      - configMapRef: {name: c}\n";
        assert_eq!(locate(text, &[k("metadata"), k("name")]), 3);
        let p = [
            k("spec"),
            k("containers"),
            Seg::Index(0),
            k("envFrom"),
            Seg::Index(0),
            k("secretRef"),
            k("name"),
        ];
        assert_eq!(locate(text, &p), 9);
        let p = [
            k("spec"),
            k("containers"),
            Seg::Index(1),
            k("envFrom"),
            Seg::Index(0),
            k("configMapRef"),
            k("name"),
        ];
        assert_eq!(locate(text, &p), 12);
        let p = [k("spec"), k("containers"), Seg::Index(1), k("name")];
        assert_eq!(locate(text, &p), 10);
    }

    #[test]
    fn splits_documents_with_lines() {
        let docs = split_docs("# c\n---\na: 1\n---\n\n---\nb: 2\n");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].start_line, 3);
        assert_eq!(docs[1].start_line, 7);
        assert_eq!(docs[1].line_of(&[k("b")]), 7);
    }
}
