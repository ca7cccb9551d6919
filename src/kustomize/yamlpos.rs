//! Splitting a YAML stream into documents and finding the 1-based line of a node.
//!
//! Owns a light, read-only text scan: `yaml_serde` gives typed values without positions, so
//! lines come from walking the block-style indentation of the document text along the same path
//! that was followed in the typed value. Flow-style nodes (`{...}`, `[...]`) stop the walk at the
//! line that holds them, which is still the right line for one-line flow values. Must not parse
//! values itself: typing is `yaml_serde`'s job.

use std::sync::OnceLock;

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
    /// The line layout of `text`, computed on the first [`Doc::line_of`] (a document is
    /// located many times: once per reference and per patch).
    layout: OnceLock<Layout>,
}

impl Doc {
    /// The 1-based file line of the node at `path` (or of its deepest block-style ancestor).
    pub(crate) fn line_of(&self, path: &[Seg]) -> usize {
        let layout = self.layout.get_or_init(|| Layout::new(&self.text));
        self.start_line + locate_in(&self.text, layout, path)
    }
}

/// Byte spans of a text's lines (as [`str::lines`] cuts them) and of its significant lines.
#[derive(Debug)]
struct Layout {
    /// `start..end` of every line, without its line ending.
    lines: Vec<(usize, usize)>,
    /// Every significant line of the whole text, in order.
    sig: Vec<SigLine>,
}

/// A significant line by offsets: content `text[start..end]` at column `col` of line `idx`.
#[derive(Debug, Clone, Copy)]
struct SigLine {
    idx: usize,
    col: usize,
    start: usize,
    end: usize,
}

impl Layout {
    fn new(text: &str) -> Layout {
        let mut lines = Vec::new();
        let mut sig = Vec::new();
        let mut pos = 0usize;
        for seg in text.split_inclusive('\n') {
            // `str::lines`: `\n` or `\r\n` ends a line; a lone `\r` does not.
            let raw = seg
                .strip_suffix('\n')
                .map_or(seg, |s| s.strip_suffix('\r').unwrap_or(s));
            let t = raw.trim_start_matches(' ');
            let col = raw.len() - t.len();
            let t = t.trim_end();
            if !t.is_empty() && !t.starts_with('#') {
                sig.push(SigLine {
                    idx: lines.len(),
                    col,
                    start: pos + col,
                    end: pos + col + t.len(),
                });
            }
            lines.push((pos, pos + raw.len()));
            pos += seg.len();
        }
        Layout { lines, sig }
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
                layout: OnceLock::new(),
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

/// The significant lines of lines `lo..hi`; with `first_col`, line `lo` is read from that
/// column on (the content after a sequence item's `- `).
fn significant<'a>(
    text: &'a str,
    layout: &Layout,
    lo: usize,
    hi: usize,
    first_col: Option<usize>,
) -> Vec<Line<'a>> {
    let a = layout.sig.partition_point(|l| l.idx < lo);
    let b = layout.sig.partition_point(|l| l.idx < hi).max(a);
    let mut rest = &layout.sig[a..b];
    let mut out = Vec::with_capacity(rest.len() + 1);
    if let (Some(c), Some(&(s, e))) = (first_col, layout.lines.get(lo).filter(|_| lo < hi)) {
        let t = text[s..e].get(c..).unwrap_or("").trim_end();
        if !t.is_empty() && !t.starts_with('#') {
            out.push(Line {
                idx: lo,
                col: c,
                text: t,
            });
        }
        if rest.first().is_some_and(|l| l.idx == lo) {
            rest = &rest[1..];
        }
    }
    out.extend(rest.iter().map(|l| Line {
        idx: l.idx,
        col: l.col,
        text: &text[l.start..l.end],
    }));
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
#[cfg(test)]
pub(crate) fn locate(text: &str, path: &[Seg]) -> usize {
    locate_in(text, &Layout::new(text), path)
}

/// [`locate`] over a precomputed [`Layout`] of `text`.
fn locate_in(text: &str, layout: &Layout, path: &[Seg]) -> usize {
    let mut lo = 0usize;
    let mut hi = layout.lines.len();
    let mut first_col: Option<usize> = None;
    let mut found = layout.sig.first().map_or(0, |l| l.idx);
    for seg in path {
        let sig = significant(text, layout, lo, hi, first_col);
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
