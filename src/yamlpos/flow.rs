//! The scanner for flow-style YAML, of which JSON is a subset: `{...}` mappings, `[...]`
//! sequences and one-line scalars, each with its byte span.
//!
//! kubeseal writes JSON by default, so a `SealedSecret` file is often one flow mapping. This
//! scanner gives the spans an in-place edit needs (every key, every value, every brace); it does
//! not type values: plain scalars keep their text, and callers cross-check keys and values
//! against `yaml_serde`. What it cannot place exactly (anchors, tags, aliases, `?` keys,
//! multi-line scalars, nesting deeper than [`MAX_DEPTH`]) is [`Unsupported`], never a guess.

use std::ops::Range;

use super::Unsupported;
use super::block::ScalarStyle;
use super::scalar::quoted;

/// Deepest nesting read (a `SealedSecret` nests four levels; kubeseal output five).
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// `{ key: value, ... }`.
    Map(Map),
    /// `[ a, b ]`; `span` covers the brackets.
    Seq {
        span: Range<usize>,
        items: Vec<Node>,
    },
    /// A one-line scalar (or nothing: an implicit null, with an empty span).
    Scalar(Scalar),
}

/// A flow mapping: `span` covers the braces.
#[derive(Debug, Clone)]
pub(crate) struct Map {
    pub(crate) span: Range<usize>,
    pub(crate) entries: Vec<Entry>,
}

impl Map {
    pub(crate) fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// The mapping at `key`, when its value is one.
    pub(crate) fn map(&self, key: &str) -> Option<&Map> {
        match &self.get(key)?.value {
            Node::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The mapping at `path` below this one, when every step is one.
    pub(crate) fn path(&self, path: &[&str]) -> Option<&Map> {
        path.iter().try_fold(self, |m, k| m.map(k))
    }

    pub(crate) fn keys(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.key.as_str()).collect()
    }
}

/// One `key: value` of a flow mapping.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) key: String,
    /// The key as written, quotes included.
    pub(crate) key_span: Range<usize>,
    pub(crate) key_style: ScalarStyle,
    pub(crate) value: Node,
}

impl Entry {
    /// Where the entry's value ends.
    pub(crate) fn end(&self) -> usize {
        self.value.span().end
    }
}

impl Node {
    /// The node's bytes, brackets or quotes included.
    pub(crate) fn span(&self) -> &Range<usize> {
        match self {
            Node::Map(m) => &m.span,
            Node::Seq { span, .. } => span,
            Node::Scalar(s) => &s.span,
        }
    }

    /// The node at `path` below this one.
    pub(crate) fn at(&self, path: &[super::Seg]) -> Option<&Node> {
        path.iter().try_fold(self, |n, seg| match (seg, n) {
            (super::Seg::Key(k), Node::Map(m)) => m.get(k).map(|e| &e.value),
            (super::Seg::Index(i), Node::Seq { items, .. }) => items.get(*i),
            _ => None,
        })
    }

    /// Follows `path` from this node: the byte offset of the deepest step found (a key's start,
    /// an item's start) and whether every step was found.
    pub(crate) fn walk(&self, path: &[super::Seg]) -> (usize, bool) {
        let mut node = self;
        let mut at = self.span().start;
        for seg in path {
            let next = match (seg, node) {
                (super::Seg::Key(k), Node::Map(m)) => {
                    m.get(k).map(|e| (e.key_span.start, &e.value))
                }
                (super::Seg::Index(i), Node::Seq { items, .. }) => {
                    items.get(*i).map(|n| (n.span().start, n))
                }
                _ => None,
            };
            let Some((pos, n)) = next else {
                return (at, false);
            };
            (at, node) = (pos, n);
        }
        (at, true)
    }
}

/// A one-line scalar: `span` includes the quotes; `raw` is the decoded text.
#[derive(Debug, Clone)]
pub(crate) struct Scalar {
    pub(crate) span: Range<usize>,
    pub(crate) style: ScalarStyle,
    pub(crate) raw: String,
}

/// Parses the flow collection that starts at byte `at` (`{` or `[`) and returns it with the
/// offset just after it.
///
/// # Errors
/// [`Unsupported`] at the first construct this scanner does not place exactly, or malformed text.
pub(crate) fn parse(text: &str, at: usize) -> Result<(Node, usize), Unsupported> {
    let mut p = Parser { text, pos: at };
    let node = p.node(0)?;
    Ok((node, p.pos))
}

/// 1-based line and column (characters) of byte `offset` in `text`.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        crate::fsio::line_at(text.as_bytes(), offset),
        before[line_start..].chars().count() + 1,
    )
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
}

impl Parser<'_> {
    fn fail(&self, at: usize, what: &str) -> Unsupported {
        let (line, column) = line_col(self.text, at);
        Unsupported {
            line,
            column,
            what: what.to_owned(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Skips blanks, line breaks and comments (a `#` after a blank or at a line start).
    fn skip_space(&mut self) {
        let b = self.text.as_bytes();
        while let Some(&c) = b.get(self.pos) {
            match c {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'#' if self.pos == 0
                    || matches!(b[self.pos - 1], b' ' | b'\t' | b'\n' | b'\r') =>
                {
                    self.pos = self.text[self.pos..]
                        .find('\n')
                        .map_or(self.text.len(), |i| self.pos + i);
                }
                _ => break,
            }
        }
    }

    fn node(&mut self, depth: usize) -> Result<Node, Unsupported> {
        if depth > MAX_DEPTH {
            return Err(self.fail(self.pos, "flow collections nested too deeply"));
        }
        match self.peek() {
            Some(b'{') => self.map(depth).map(Node::Map),
            Some(b'[') => self.seq(depth),
            _ => self.scalar().map(Node::Scalar),
        }
    }

    /// `{` ... `}` at `self.pos`.
    fn map(&mut self, depth: usize) -> Result<Map, Unsupported> {
        let missing = "a flow mapping without `,` or `}`";
        let (span, entries) = self.items(b'}', missing, |p| p.entry(depth))?;
        Ok(Map { span, entries })
    }

    /// `[` ... `]` at `self.pos`.
    fn seq(&mut self, depth: usize) -> Result<Node, Unsupported> {
        let missing = "a flow sequence without `,` or `]`";
        let (span, items) = self.items(b']', missing, |p| p.node(depth + 1))?;
        Ok(Node::Seq { span, items })
    }

    /// The `,`-separated items, each read by `item`, of the collection that opens at
    /// `self.pos` and closes with `close`; and its span, brackets included.
    fn items<T>(
        &mut self,
        close: u8,
        missing: &str,
        mut item: impl FnMut(&mut Self) -> Result<T, Unsupported>,
    ) -> Result<(Range<usize>, Vec<T>), Unsupported> {
        let start = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok((start..self.pos, items));
            }
            items.push(item(self)?);
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {}
                _ => return Err(self.fail(self.pos, missing)),
            }
        }
    }

    /// `key: value`, `key:` (null) or `key` (null) inside a flow mapping.
    fn entry(&mut self, depth: usize) -> Result<Entry, Unsupported> {
        if matches!(self.peek(), Some(b'{' | b'[')) {
            return Err(self.fail(self.pos, "a collection as a mapping key"));
        }
        let key = self.scalar()?;
        let quoted = key.style != ScalarStyle::Plain;
        self.skip_space();
        let b = self.text.as_bytes();
        // After a quoted (JSON-like) key, `:` needs no blank after it.
        let colon = self.peek() == Some(b':')
            && (quoted
                || b.get(self.pos + 1)
                    .is_none_or(|c| b" \t\r\n,{}[]".contains(c)));
        let value = if colon {
            self.pos += 1;
            self.skip_space();
            match self.peek() {
                Some(b',' | b'}') => Node::Scalar(Scalar {
                    span: self.pos..self.pos,
                    style: ScalarStyle::Empty,
                    raw: String::new(),
                }),
                _ => self.node(depth + 1)?,
            }
        } else {
            Node::Scalar(Scalar {
                span: key.span.end..key.span.end,
                style: ScalarStyle::Empty,
                raw: String::new(),
            })
        };
        Ok(Entry {
            key: key.raw,
            key_span: key.span,
            key_style: key.style,
            value,
        })
    }

    /// A quoted or plain scalar on one line.
    fn scalar(&mut self) -> Result<Scalar, Unsupported> {
        let p = self.pos;
        let end = self.text.len();
        let one_line = |q: usize| !self.text[p..q].contains('\n');
        let (style, q, raw) = match self.peek() {
            Some(b'"' | b'\'') => {
                let (style, q, raw) = quoted(self.text, p, end)
                    .filter(|&(_, q, _)| one_line(q))
                    .ok_or_else(|| self.fail(p, "a multi-line or unclosed quoted scalar"))?;
                let raw = raw.ok_or_else(|| self.fail(p, "an unsupported escape sequence"))?;
                (style, q, raw)
            }
            Some(b'&' | b'*' | b'!' | b'?' | b'|' | b'>' | b'%' | b'@' | b'`') => {
                return Err(self.fail(p, "an anchor, alias, tag or complex key in flow style"));
            }
            None => return Err(self.fail(p, "an unclosed flow collection")),
            Some(_) => {
                let q = self.plain_end(p);
                if q == p {
                    return Err(self.fail(p, "an empty flow entry"));
                }
                (ScalarStyle::Plain, q, self.text[p..q].to_owned())
            }
        };
        self.pos = q;
        Ok(Scalar {
            span: p..q,
            style,
            raw,
        })
    }

    /// End of a plain scalar starting at `p`: before `,`, `[`, `]`, `{`, `}`, `: `, ` #`, or
    /// the line end; trailing blanks excluded.
    fn plain_end(&self, p: usize) -> usize {
        let b = self.text.as_bytes();
        let mut q = p;
        while q < b.len() {
            match b[q] {
                b',' | b'[' | b']' | b'{' | b'}' | b'\n' | b'\r' => break,
                b':' if b.get(q + 1).is_none_or(|c| b" \t\r\n,[]{}".contains(c)) => {
                    break;
                }
                b'#' if q > p && matches!(b[q - 1], b' ' | b'\t') => break,
                _ => q += 1,
            }
        }
        p + self.text[p..q].trim_end_matches([' ', '\t']).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(text: &str) -> Map {
        match parse(text, 0).unwrap().0 {
            Node::Map(m) => m,
            n => panic!("{n:?}"),
        }
    }

    #[test]
    fn json_spans() {
        let t = "{\n  \"a\": \"x\\\"y\",\n  \"b\": {\"c\":null, \"d\": [1, {\"e\": 2}]}\n}";
        let m = map(t);
        assert_eq!(m.span, 0..t.len());
        assert_eq!(m.entries.len(), 2);
        let a = m.get("a").unwrap();
        assert_eq!(&t[a.key_span.clone()], "\"a\"");
        match &a.value {
            Node::Scalar(s) => {
                assert_eq!(s.raw, "x\"y");
                assert_eq!(&t[s.span.clone()], "\"x\\\"y\"");
            }
            n => panic!("{n:?}"),
        }
        let b = m.map("b").unwrap();
        assert_eq!(b.entries.len(), 2);
        assert_eq!(&t[b.entries[1].key_span.clone()], "\"d\"");
        assert_eq!(&t[b.entries[1].end() - 1..b.entries[1].end()], "]");
        assert_eq!(line_col(t, a.key_span.start), (2, 3));
    }

    #[test]
    fn yaml_flow_plain_keys_nulls_and_comments() {
        let t = "{a: b c, 'k''s': v, n:, m, # note\n u: http://x:1/}";
        let m = map(t);
        let keys: Vec<&str> = m.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["a", "k's", "n", "m", "u"]);
        let raw = |k: &str| match &m.get(k).unwrap().value {
            Node::Scalar(s) => (s.raw.clone(), s.style),
            n => panic!("{n:?}"),
        };
        assert_eq!(raw("a"), ("b c".into(), ScalarStyle::Plain));
        assert_eq!(raw("n").1, ScalarStyle::Empty);
        assert_eq!(raw("m").1, ScalarStyle::Empty);
        assert_eq!(raw("u").0, "http://x:1/");
    }

    #[test]
    fn refuses_what_it_cannot_place() {
        for t in [
            "{a: &x 1}",
            "{a: *x}",
            "{? a: 1}",
            "{a: \"x\n y\"}",
            "{a: 1",
            "{a: 1]}",
        ] {
            assert!(parse(t, 0).is_err(), "{t:?}");
        }
    }
}
