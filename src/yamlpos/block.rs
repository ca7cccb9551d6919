//! The line-level scanner for block-style YAML: lines, document markers, block-mapping entries
//! and the exact span of a single-line scalar value.
//!
//! It does not decide what YAML *means*; the typed view comes from `yaml_serde`, and callers
//! (`sealedsecret`) cross-check every block this scanner reports against it, so a layout the
//! scanner misreads becomes an "unsupported layout" error instead of a wrong edit.

use std::ops::Range;

use super::scalar::{quoted, rest_is_comment};

use super::Unsupported;

/// One physical line: `start..end` is the content (no line break), `next` is where the next line
/// starts (so `end..next` is `""`, `"\n"` or `"\r\n"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) next: usize,
}

/// How a scalar is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    /// Unquoted.
    Plain,
    /// `'single'`.
    SingleQuoted,
    /// `"double"`.
    DoubleQuoted,
    /// Nothing after the colon (a null value standing as a placeholder).
    Empty,
}

/// What follows `key:` on an entry line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Val {
    /// Nothing but an optional comment: a nested block follows, or the value is null.
    Empty,
    /// A single-line scalar; `span` includes the quotes.
    Scalar {
        style: ScalarStyle,
        span: Range<usize>,
        raw: String,
    },
    /// `{}` on one line; `span` covers the braces.
    FlowEmptyMap { span: Range<usize> },
    /// A block scalar (`|`, `>`), possibly after a tag or anchor.
    BlockScalar,
    /// Anything else: flow collections, aliases, tags, multi-line quoted scalars.
    Other(&'static str),
}

/// A `key: value` line of a block mapping.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) indent: usize,
    pub(crate) key: String,
    pub(crate) key_start: usize,
    /// Byte offset just after the `:`.
    pub(crate) after_colon: usize,
    pub(crate) val: Val,
}

/// An entry of a block mapping with the line range its value occupies.
#[derive(Debug, Clone)]
pub(crate) struct Child {
    /// Line index of the `key:` line.
    pub(crate) line: usize,
    /// Line index of the last non-blank, non-comment line of the entry (== `line` for scalars).
    pub(crate) last: usize,
    pub(crate) entry: Entry,
}

/// The entries of one block mapping.
#[derive(Debug, Clone, Default)]
pub(crate) struct Block {
    pub(crate) indent: Option<usize>,
    pub(crate) children: Vec<Child>,
}

impl Block {
    pub(crate) fn get(&self, key: &str) -> Option<&Child> {
        self.children.iter().find(|c| c.entry.key == key)
    }

    pub(crate) fn keys(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.entry.key.as_str()).collect()
    }
}

/// The text split into lines, with helpers that never allocate per line.
#[derive(Debug)]
pub(crate) struct Lines<'a> {
    pub(crate) text: &'a str,
    pub(crate) lines: Vec<Line>,
}

impl<'a> Lines<'a> {
    /// Splits on `\n` (a preceding `\r` belongs to the break). A lone `\r` is a YAML line break
    /// this scanner does not support.
    pub(crate) fn new(text: &'a str) -> Result<Self, Unsupported> {
        let mut lines = Vec::new();
        let mut start = if text.starts_with('\u{feff}') { 3 } else { 0 };
        for raw in text[start..].split_inclusive('\n') {
            let content = raw
                .strip_suffix('\n')
                .map_or(raw, |l| l.strip_suffix('\r').unwrap_or(l));
            if let Some(cr) = content.find('\r') {
                return Err(Unsupported {
                    line: lines.len() + 1,
                    column: cr + 1,
                    what: "a carriage return without a line feed (old Mac line endings)".into(),
                });
            }
            let next = start + raw.len();
            lines.push(Line {
                start,
                end: start + content.len(),
                next,
            });
            start = next;
        }
        Ok(Lines { text, lines })
    }

    pub(crate) fn len(&self) -> usize {
        self.lines.len()
    }

    pub(crate) fn content(&self, i: usize) -> &'a str {
        let l = self.lines[i];
        &self.text[l.start..l.end]
    }

    /// Leading spaces of line `i`.
    pub(crate) fn indent(&self, i: usize) -> usize {
        self.content(i).bytes().take_while(|b| *b == b' ').count()
    }

    /// Blank or comment-only.
    pub(crate) fn is_trivia(&self, i: usize) -> bool {
        let t = self.content(i).trim_start_matches([' ', '\t']);
        t.is_empty() || t.starts_with('#')
    }

    pub(crate) fn is_blank(&self, i: usize) -> bool {
        self.content(i).trim_matches([' ', '\t']).is_empty()
    }

    /// 1-based column of byte offset `pos` on line `i` (counted in characters).
    pub(crate) fn column(&self, i: usize, pos: usize) -> usize {
        let l = self.lines[i];
        self.text[l.start..pos.min(l.end).max(l.start)]
            .chars()
            .count()
            + 1
    }

    /// The line break used after line `i`, or the file's first one, or `\n`.
    pub(crate) fn eol_after(&self, i: usize) -> &'a str {
        let l = self.lines[i];
        if l.next > l.end {
            return &self.text[l.end..l.next];
        }
        self.lines
            .iter()
            .find(|l| l.next > l.end)
            .map_or("\n", |l| &self.text[l.end..l.next])
    }

    fn unsupported(&self, i: usize, pos: usize, what: &str) -> Unsupported {
        Unsupported {
            line: i + 1,
            column: self.column(i, pos),
            what: what.to_string(),
        }
    }

    /// Parses line `i` as a block-mapping entry. `Ok(None)` when the line is not one (sequence
    /// item, scalar continuation, comment).
    pub(crate) fn entry(&self, i: usize) -> Result<Option<Entry>, Unsupported> {
        let indent = self.indent(i);
        let p = self.lines[i].start + indent;
        let (key, after_colon) = match key_at(self.text, p, self.lines[i].end) {
            KeyAt::Key(key, after_colon) => (key.into_owned(), after_colon),
            KeyAt::NotAKey => return Ok(None),
            KeyAt::Unsupported(what) => return Err(self.unsupported(i, p, what)),
        };
        Ok(Some(Entry {
            indent,
            key,
            key_start: p,
            after_colon,
            val: self.value_at(i, after_colon),
        }))
    }

    /// Classifies the value that starts after byte `from` on line `i`.
    pub(crate) fn value_at(&self, i: usize, from: usize) -> Val {
        let end = self.lines[i].end;
        let b = self.text.as_bytes();
        let p = skip_blanks(b, from, end);
        if p >= end || b[p] == b'#' {
            return Val::Empty;
        }
        match b[p] {
            b'"' | b'\'' => self.quoted(p, end),
            b'{' => self.flow_empty_map(p, end),
            b'[' => Val::Other("a flow-style sequence"),
            b'|' | b'>' => Val::BlockScalar,
            b'*' => Val::Other("an alias"),
            b'&' | b'!' if block_scalar_at(b, p, end) => Val::BlockScalar,
            b'&' | b'!' => Val::Other("a tag or anchor"),
            _ => self.plain(p, end),
        }
    }

    /// A quoted value at `p`, ending the line (but for a comment).
    fn quoted(&self, p: usize, end: usize) -> Val {
        match quoted(self.text, p, end) {
            Some((style, q, raw)) if rest_is_comment(self.text, q, end) => match raw {
                Some(raw) => Val::Scalar {
                    style,
                    span: p..q,
                    raw,
                },
                None => Val::Other("an unsupported escape sequence"),
            },
            _ => Val::Other("a multi-line quoted scalar"),
        }
    }

    /// `{}` at `p`, ending the line (but for a comment); any other flow mapping is unsupported.
    fn flow_empty_map(&self, p: usize, end: usize) -> Val {
        let inner = self.text[p + 1..end].trim_start_matches([' ', '\t']);
        if let Some(after) = inner.strip_prefix('}') {
            let q = end - after.len();
            if rest_is_comment(self.text, q, end) {
                return Val::FlowEmptyMap { span: p..q };
            }
        }
        Val::Other("a flow-style mapping")
    }

    /// A plain value at `p`: it ends at the first ` #`/`\t#` (a comment) or at the line's end.
    fn plain(&self, p: usize, end: usize) -> Val {
        let b = self.text.as_bytes();
        // Searching for `#` (memchr) instead of testing every byte: sealed values are hundreds
        // of characters long.
        let q = self.text[p..end]
            .match_indices('#')
            .map(|(off, _)| p + off)
            .find(|&h| h > p && (b[h - 1] == b' ' || b[h - 1] == b'\t'))
            .map_or(end, |h| h - 1);
        let raw = self.text[p..q].trim_end_matches([' ', '\t']);
        Val::Scalar {
            style: ScalarStyle::Plain,
            span: p..p + raw.len(),
            raw: raw.to_string(),
        }
    }

    /// The entries of the block mapping whose lines are `from..to` and whose parent sits at
    /// `parent_indent` (`None` for the document root). Stops at the first content line indented
    /// no deeper than the parent.
    pub(crate) fn block(
        &self,
        from: usize,
        to: usize,
        parent_indent: Option<usize>,
    ) -> Result<Block, Unsupported> {
        let mut block = Block::default();
        let mut scalar_indent: Option<usize> = None;
        for i in from..to {
            if let Some(si) = scalar_indent {
                if self.is_blank(i) || self.indent(i) > si {
                    if let (false, Some(c)) = (self.is_blank(i), block.children.last_mut()) {
                        c.last = i;
                    }
                    continue;
                }
                scalar_indent = None;
            }
            if self.is_trivia(i) {
                continue;
            }
            let ind = self.indent(i);
            if parent_indent.is_some_and(|p| ind <= p) {
                break;
            }
            let child_indent = *block.indent.get_or_insert(ind);
            let l = self.lines[i];
            if ind < child_indent {
                return Err(self.unsupported(i, l.start, "inconsistent indentation"));
            }
            let rest = &self.content(i)[ind..];
            let seq_item = rest
                .strip_prefix('-')
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']));
            if ind == child_indent && !seq_item {
                match self.entry(i)? {
                    Some(entry) => block.children.push(Child {
                        line: i,
                        last: i,
                        entry,
                    }),
                    None => {
                        return Err(self.unsupported(
                            i,
                            l.start + ind,
                            "a line that is not `key: value`",
                        ));
                    }
                }
            } else {
                match block.children.last_mut() {
                    Some(c) => c.last = i,
                    None => {
                        return Err(self.unsupported(i, l.start + ind, "a value without a key"));
                    }
                }
            }
            if opens_block_scalar(rest) {
                scalar_indent = Some(ind);
            }
        }
        Ok(block)
    }
}

/// Whether a line's content (indentation left out) ends with a block scalar header: `key: |`,
/// `- >-`, `- key: |2 # c`, `key: &a !!binary |`. The one test of both scanners (the entry
/// scanner here and the key-path finder's [`super::Layout`]).
pub(crate) fn opens_block_scalar(content: &str) -> bool {
    let b = content.as_bytes();
    // Most lines have neither indicator: skip the key split for them.
    if !b.iter().any(|&c| c == b'|' || c == b'>') {
        return false;
    }
    let mut p = 0;
    // Compact sequence indicators (`- - |`).
    while p < b.len() && b[p] == b'-' && (p + 1 >= b.len() || b[p + 1] == b' ') {
        p += 1;
        while p < b.len() && b[p] == b' ' {
            p += 1;
        }
    }
    let from = match key_at(content, p, b.len()) {
        KeyAt::Key(_, after_colon) => after_colon,
        _ => p,
    };
    block_scalar_at(b, from, b.len())
}

/// Whether a block scalar indicator (`|`, `>`) starts at or after `p`, after blanks and any
/// tag or anchor tokens.
fn block_scalar_at(b: &[u8], p: usize, end: usize) -> bool {
    let mut q = skip_blanks(b, p, end);
    while q < end && (b[q] == b'&' || b[q] == b'!') {
        while q < end && b[q] != b' ' && b[q] != b'\t' {
            q += 1;
        }
        q = skip_blanks(b, q, end);
    }
    q < end && (b[q] == b'|' || b[q] == b'>')
}

/// The first byte at or after `p` (before `end`) that is not a space or a tab.
pub(crate) fn skip_blanks(b: &[u8], mut p: usize, end: usize) -> usize {
    while p < end && (b[p] == b' ' || b[p] == b'\t') {
        p += 1;
    }
    p
}

/// What starts at byte `p` of a line that ends at `end`.
#[derive(Debug)]
pub(crate) enum KeyAt<'t> {
    /// `key:`: the unquoted key (borrowed when plain) and the offset just after the colon.
    Key(std::borrow::Cow<'t, str>, usize),
    /// Not a mapping entry (sequence item, comment, scalar continuation, anchor...).
    NotAKey,
    /// A key this scanner cannot place exactly.
    Unsupported(&'static str),
}

/// Reads a block-mapping key (plain, 'single' or "double" quoted) at `p`: the one key reader of
/// this layer, used by the entry scanner and by the key-path finder.
pub(crate) fn key_at(text: &str, p: usize, end: usize) -> KeyAt<'_> {
    use std::borrow::Cow;
    let b = text.as_bytes();
    if p >= end {
        return KeyAt::NotAKey;
    }
    let next_is_sep = |q: usize| q >= end || b[q] == b' ' || b[q] == b'\t';
    let (key, after_key) = match b[p] {
        b'?' if next_is_sep(p + 1) => return KeyAt::Unsupported("a complex (`? `) mapping key"),
        b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`' => return KeyAt::NotAKey,
        b'-' if next_is_sep(p + 1) => return KeyAt::NotAKey,
        b'"' | b'\'' => match quoted(text, p, end) {
            Some((_, q, key)) => (key.map(Cow::Owned), q),
            None => return KeyAt::Unsupported("a multi-line or malformed quoted key"),
        },
        b'{' | b'[' => return KeyAt::Unsupported("a flow-style (JSON) mapping"),
        _ => {
            let mut q = p;
            loop {
                if q >= end || (b[q] == b'#' && q > p && matches!(b[q - 1], b' ' | b'\t')) {
                    return KeyAt::NotAKey;
                }
                if b[q] == b':' && next_is_sep(q + 1) {
                    break;
                }
                q += 1;
            }
            let raw = text[p..q].trim_end_matches([' ', '\t']);
            (Some(Cow::Borrowed(raw)), p + raw.len())
        }
    };
    let Some(key) = key else {
        return KeyAt::Unsupported("an escape sequence in a quoted key");
    };
    let q = skip_blanks(b, after_key, end);
    if q >= end || b[q] != b':' || !next_is_sep(q + 1) {
        return KeyAt::NotAKey;
    }
    KeyAt::Key(key, q + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_spans() {
        let t = "a: 1\r\n\"b c\": 'x''y' # c\n  - q\nd:\nk: {}  # e\n";
        let l = Lines::new(t).unwrap();
        assert_eq!(l.len(), 5);
        assert_eq!(l.eol_after(0), "\r\n");
        let e = l.entry(1).unwrap().unwrap();
        assert_eq!(e.key, "b c");
        match e.val {
            Val::Scalar { style, span, raw } => {
                assert_eq!(style, ScalarStyle::SingleQuoted);
                assert_eq!(&t[span], "'x''y'");
                assert_eq!(raw, "x'y");
            }
            v => panic!("{v:?}"),
        }
        assert!(l.entry(2).unwrap().is_none());
        assert_eq!(l.entry(3).unwrap().unwrap().val, Val::Empty);
        assert!(matches!(
            l.entry(4).unwrap().unwrap().val,
            Val::FlowEmptyMap { .. }
        ));
    }

    #[test]
    fn block_scalar_comment_lines_stay_inside() {
        let t = "a:\n  s: |\n    x\n    # not a comment\nb: 1\n";
        let l = Lines::new(t).unwrap();
        let root = l.block(0, l.len(), None).unwrap();
        assert_eq!(root.children.len(), 2);
        assert_eq!(root.children[0].last, 3);
    }

    #[test]
    fn decode_escapes() {
        use super::super::scalar::decode_double;
        assert_eq!(decode_double(r#"a\"b\\c\u0041\x41"#).unwrap(), "a\"b\\cAA");
        assert!(decode_double(r"\q").is_none());
    }
}
