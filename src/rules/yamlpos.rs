//! Line and column of a key path in a YAML file, for locating findings.
//!
//! `yaml_serde` gives structure but no positions; this module gives positions but no structure.
//! Use both: split a file with [`documents`], parse each [`Document::text`] with `yaml_serde`, and
//! ask [`Document::find`] where a path such as `["spec", "encryptedData", "KEY"]` sits.
//!
//! The scanner understands block mappings and block sequences (including the compact `- key: v`
//! form and sequences indented at their parent key's level), plain, single- and double-quoted keys,
//! comments, and skips the bodies of block scalars. It does not understand flow collections
//! (`{a: 1}`, `[1, 2]`), anchors/aliases as path steps, or multi-line keys: there it returns `None`
//! and the caller falls back to a coarser location (the parent key or the document start).
//! It must not interpret values, and it never reads files.

/// One step of a path into a YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg<'a> {
    /// A mapping key.
    Key(&'a str),
    /// A 0-based sequence index.
    Index(usize),
}

impl<'a> From<&'a str> for Seg<'a> {
    fn from(k: &'a str) -> Seg<'a> {
        Seg::Key(k)
    }
}

impl From<usize> for Seg<'_> {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

/// A position in the file: 1-based line and column (characters), and the byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// 1-based line in the whole file.
    pub line: u32,
    /// 1-based column in characters.
    pub column: u32,
    /// Byte offset of the key in the whole file.
    pub offset: usize,
}

/// One YAML document of a (possibly multi-document) file.
#[derive(Debug, Clone)]
pub struct Document<'t> {
    /// The document's text, without its `---` / `...` marker lines.
    pub text: &'t str,
    /// 1-based line in the file where `text` starts.
    pub first_line: u32,
    /// Byte offset in the file where `text` starts.
    pub offset: usize,
}

/// Splits a file into documents at `---` (optionally followed by a comment) and `...` lines, as
/// a YAML stream does: text before the first `---` or after a `...` that holds only comments and
/// blank lines is not a document; an explicit empty document (`---` then nothing) is one. A file
/// with no document at all gives one empty document.
pub fn documents(file: &str) -> Vec<Document<'_>> {
    fn has_content(text: &str) -> bool {
        text.lines().any(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        })
    }
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1u32;
    let mut explicit = false;
    let mut offset = 0usize;
    for (line_no, line) in (1u32..).zip(file.split_inclusive('\n')) {
        let bare = line.trim_end_matches(['\n', '\r']);
        let is_start = bare == "---" || bare.starts_with("--- ") || bare.starts_with("---\t");
        let is_end = bare == "...";
        if is_start || is_end {
            if explicit || has_content(&file[start..offset]) {
                docs.push(Document {
                    text: &file[start..offset],
                    first_line: start_line,
                    offset: start,
                });
            }
            explicit = is_start;
            // Content after `--- ` on the same line (e.g. `--- # comment`) is not a key; the
            // document starts on the next line.
            start = offset + line.len();
            start_line = line_no + 1;
        }
        offset += line.len();
    }
    if explicit || has_content(&file[start..]) || docs.is_empty() {
        docs.push(Document {
            text: &file[start..],
            first_line: start_line,
            offset: start,
        });
    }
    docs
}

/// Finds a path in one document of a file (convenience over [`documents`]): `doc` is the
/// 0-based index of the document.
pub fn find_in_file(file: &str, doc: usize, path: &[Seg<'_>]) -> Option<Pos> {
    documents(file).get(doc)?.find(path)
}

#[derive(Debug, Clone)]
struct Line<'t> {
    /// 0-based line index within the document.
    idx: usize,
    /// Byte offset of `text` within the document.
    at: usize,
    /// Indentation in characters (virtual, after `- ` markers are turned into spaces).
    indent: usize,
    /// Text after the indentation, without the line break.
    text: &'t str,
}

impl<'t> Document<'t> {
    /// Where the key (or the sequence item) at `path` starts, or `None` when the path is absent
    /// or outside what this scanner understands. An empty path gives the document's first line.
    pub fn find(&self, path: &[Seg<'_>]) -> Option<Pos> {
        let lines = self.lines();
        let (line, col) = find_path(&lines, path)?;
        Some(self.pos(line, col))
    }

    /// Like [`Document::find`], but falls back to the longest prefix of `path` that is found,
    /// and finally to the document start: always gives a usable position.
    pub fn find_or_parent(&self, path: &[Seg<'_>]) -> Pos {
        let lines = self.lines();
        for n in (0..=path.len()).rev() {
            if let Some((line, col)) = find_path(&lines, &path[..n]) {
                return self.pos(line, col);
            }
        }
        self.pos_of_line(0, 0)
    }

    fn pos(&self, line: &Line<'_>, col_bytes: usize) -> Pos {
        self.pos_of_line(line.idx, line.at + col_bytes)
    }

    /// Position of byte `at` (document-relative) on 0-based document line `idx`.
    fn pos_of_line(&self, idx: usize, at: usize) -> Pos {
        let line_start = self.text[..at.min(self.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let column = self.text[line_start..at.min(self.text.len())]
            .chars()
            .count()
            + 1;
        Pos {
            line: self.first_line + u32::try_from(idx).unwrap_or(u32::MAX - self.first_line),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            offset: self.offset + at,
        }
    }

    fn lines(&self) -> Vec<Line<'t>> {
        let mut out = Vec::new();
        let mut at = 0usize;
        let mut block_scalar_indent: Option<usize> = None;
        for (idx, raw) in self.text.split_inclusive('\n').enumerate() {
            let bare = raw.trim_end_matches(['\n', '\r']);
            let trimmed = bare.trim_start_matches(' ');
            let indent = bare.len() - trimmed.len();
            let line_at = at;
            at += raw.len();
            if let Some(parent) = block_scalar_indent {
                if trimmed.is_empty() || indent > parent {
                    continue;
                }
                block_scalar_indent = None;
            }
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if opens_block_scalar(trimmed) {
                block_scalar_indent = Some(indent);
            }
            out.push(Line {
                idx,
                at: line_at + indent,
                indent,
                text: trimmed,
            });
        }
        out
    }
}

/// True when a line ends with a block scalar header (`key: |`, `- >-`, `key: |2 # c`).
fn opens_block_scalar(text: &str) -> bool {
    let value = match split_key(text) {
        Some((_, rest)) => rest,
        None => text.strip_prefix("- ").unwrap_or(text),
    };
    let value = value.split(" #").next().unwrap_or(value).trim();
    let mut chars = value.chars();
    matches!(chars.next(), Some('|' | '>')) && chars.all(|c| matches!(c, '+' | '-' | '1'..='9'))
}

/// Splits `key: rest` (plain, 'single' or "double" quoted key). Returns the unquoted key and the
/// text after the colon.
fn split_key(text: &str) -> Option<(String, &str)> {
    let (key, after) = if let Some(rest) = text.strip_prefix('"') {
        let mut key = String::new();
        let mut chars = rest.char_indices();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, e)) = chars.next() {
                        key.push(e);
                    }
                }
                '"' => {
                    end = Some(i + 1);
                    break;
                }
                c => key.push(c),
            }
        }
        (key, &rest[end?..])
    } else if let Some(rest) = text.strip_prefix('\'') {
        let mut key = String::new();
        let mut i = 0;
        let bytes = rest.as_bytes();
        let end = loop {
            let c = *bytes.get(i)?;
            if c == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    key.push('\'');
                    i += 2;
                    continue;
                }
                break i + 1;
            }
            let ch = rest[i..].chars().next()?;
            key.push(ch);
            i += ch.len_utf8();
        };
        (key, &rest[end..])
    } else {
        if text.starts_with("- ") || text.starts_with(['[', '{', '?', '&', '*', '!', '|', '>']) {
            return None;
        }
        // A plain key ends at the first `: ` or a trailing `:`.
        let mut end = None;
        for (i, _) in text.match_indices(':') {
            let next = text[i + 1..].chars().next();
            if next.is_none_or(|c| c == ' ' || c == '\t') {
                end = Some(i);
                break;
            }
        }
        let end = end?;
        let key = text[..end].trim_end();
        if key.contains(" #") {
            return None;
        }
        return Some((key.to_string(), &text[end + 1..]));
    };
    let after = after.trim_start_matches([' ', '\t']);
    let rest = after.strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    Some((key, rest))
}

/// Resolves `path` within `lines` (one block). Returns the line and the byte column (relative to
/// the line's `at`) where the final step starts.
fn find_path<'l, 't>(lines: &'l [Line<'t>], path: &[Seg<'_>]) -> Option<(&'l Line<'t>, usize)> {
    let Some((first, rest)) = path.split_first() else {
        return lines.first().map(|l| (l, 0));
    };
    let indent = lines.first()?.indent;
    match first {
        Seg::Key(want) => {
            for (i, line) in lines.iter().enumerate() {
                if line.indent < indent {
                    break;
                }
                if line.indent != indent || line.text.starts_with("- ") || line.text == "-" {
                    continue;
                }
                let Some((key, after)) = split_key(line.text) else {
                    continue;
                };
                if key != *want {
                    continue;
                }
                if rest.is_empty() {
                    return Some((line, 0));
                }
                let mut children: Vec<Line<'t>> = Vec::new();
                let inline = after.trim();
                if !inline.is_empty() && !inline.starts_with('#') {
                    // `key: value` or `key: &anchor` on the same line: only an anchor/tag may be
                    // followed by a nested block.
                    if !(inline.starts_with('&') || inline.starts_with('!')) {
                        return None;
                    }
                }
                for next in &lines[i + 1..] {
                    let is_item = next.text.starts_with("- ") || next.text == "-";
                    if next.indent < indent || (next.indent == indent && !is_item) {
                        break;
                    }
                    children.push(next.clone());
                }
                let (l, c) = find_path(&children, rest)?;
                let original = lines.iter().find(|x| x.idx == l.idx)?;
                return Some((original, c + (l.at - original.at)));
            }
            None
        }
        Seg::Index(want) => {
            let mut item = 0usize;
            for (i, line) in lines.iter().enumerate() {
                if line.indent < indent {
                    break;
                }
                let is_item = line.text.starts_with("- ") || line.text == "-";
                if line.indent != indent || !is_item {
                    continue;
                }
                if item != *want {
                    item += 1;
                    continue;
                }
                if rest.is_empty() {
                    return Some((line, 0));
                }
                // The item's content: the text after `- ` becomes a line of its own, indented
                // where that text starts, followed by the deeper lines.
                let mut children = Vec::new();
                let content = line.text[1..].trim_start_matches(' ');
                let dash_gap = line.text.len() - content.len();
                if !content.is_empty() && !content.starts_with('#') {
                    children.push(Line {
                        idx: line.idx,
                        at: line.at + dash_gap,
                        indent: line.indent + dash_gap,
                        text: content,
                    });
                }
                for next in &lines[i + 1..] {
                    if next.indent <= indent {
                        break;
                    }
                    children.push(next.clone());
                }
                let (l, c) = find_path(&children, rest)?;
                let original = lines.iter().find(|x| x.idx == l.idx)?;
                return Some((original, c + (l.at - original.at)));
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# leading comment
apiVersion: v1
kind: Secret
metadata:
  name: s
  annotations:
    \"a.b/c\": x
data:
  A: eA==
  'B''s': eQ==
---
kind: Deployment
spec:
  template:
    spec:
      containers:
      - name: app
        env:
          - name: X
            valueFrom:
              secretKeyRef: {name: s, key: A}
        script: |
          data:
            A: fake
      - name: side
...
---
key: value
";

    fn at(doc: usize, path: &[Seg<'_>]) -> Option<(u32, u32)> {
        find_in_file(FILE, doc, path).map(|p| (p.line, p.column))
    }

    #[test]
    fn finds_keys_in_mappings() {
        assert_eq!(at(0, &["data".into(), "A".into()]), Some((9, 3)));
        assert_eq!(at(0, &["data".into(), "B's".into()]), Some((10, 3)));
        assert_eq!(
            at(
                0,
                &["metadata".into(), "annotations".into(), "a.b/c".into()]
            ),
            Some((7, 5))
        );
        assert_eq!(at(0, &["kind".into()]), Some((3, 1)));
        assert_eq!(at(0, &["data".into(), "C".into()]), None);
    }

    #[test]
    fn finds_sequence_items_and_skips_block_scalars() {
        let p = |s: &'static str| Seg::Key(s);
        let base = [p("spec"), p("template"), p("spec"), p("containers")];
        let mut path = base.to_vec();
        path.extend([Seg::Index(1), p("name")]);
        assert_eq!(at(1, &path), Some((25, 9)));
        let mut path = base.to_vec();
        path.extend([Seg::Index(0), p("env"), Seg::Index(0), p("valueFrom")]);
        assert_eq!(at(1, &path), Some((20, 13)));
        let mut path = base.to_vec();
        path.extend([Seg::Index(0), p("data")]);
        assert_eq!(
            at(1, &path),
            None,
            "keys inside a block scalar are not keys"
        );
        assert_eq!(at(2, &[p("key")]), Some((28, 1)));
    }

    #[test]
    fn documents_split_and_offsets() {
        let docs = documents(FILE);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[1].first_line, 12);
        assert!(docs[2].text.starts_with("key: value"));
        let pos = docs[0].find(&["data".into(), "A".into()]).unwrap();
        assert_eq!(&FILE[pos.offset..pos.offset + 2], "A:");
        assert_eq!(documents("").len(), 1);
        assert_eq!(documents("---\na: 1\n").len(), 1);
    }

    #[test]
    fn fallback_to_parent() {
        let docs = documents(FILE);
        let pos = docs[0].find_or_parent(&["data".into(), "missing".into()]);
        assert_eq!((pos.line, pos.column), (8, 1));
    }
}
