//! A fast path for reading the YAML that Kubernetes manifests are made of, in front of
//! `yaml_serde`.
//!
//! `yaml_serde`'s parser (a line-by-line port of libyaml) costs about 300 instructions per byte;
//! reading a kustomize overlay is most of the time of `emp-seal ENV --from FILE`, and re-reading a
//! `SealedSecret` with hundreds of long values most of a reseal (docs/performance.md). This module
//! reads the common block-style subset directly and gives up (`None`) on anything else, which
//! then goes to `yaml_serde` unchanged. Whenever it returns a value, that value is exactly what
//! `yaml_serde::from_str::<Value>` returns for the same text; whenever `yaml_serde` fails, it
//! returns `None`. Both properties are tested against `yaml_serde` itself, on every YAML file in
//! the repository and on generated documents (tests/integration/yamlfast.rs).
//!
//! Read: block mappings with plain keys, block sequences (also `- key: value` entries), plain
//! single-line scalars (resolved as `yaml_serde` resolves them: null, bool, integers; anything
//! number-like beyond plain integers is left to `yaml_serde`), single- and double-quoted
//! single-line scalars, literal block scalars `|` and `|-`, `{}` and `[]`, comments.
//! Not read (`None`): tabs and carriage returns anywhere, directives and document markers,
//! anchors, aliases, tags, flow collections with content, folded scalars, multi-line plain or
//! quoted scalars, quoted or complex keys, duplicate keys, and anything malformed.
//!
//! Upstream rules followed: the YAML 1.2 block grammar; `yaml_serde` `src/de.rs`
//! (`visit_untagged_scalar`: `parse_null`, `parse_bool`, `visit_int`, `digits_but_not_number`,
//! `parse_f64`) for what a plain scalar becomes.

use yaml_serde::{Mapping, Value};

/// Parses one YAML document (no `---`), or `None` where `yaml_serde` has to.
pub fn parse(text: &str) -> Option<Value> {
    // Tabs and carriage returns (whitespace rules this does not model), a byte-order mark, and
    // anything YAML does not allow unescaped (c-printable): yaml_serde reports those.
    if !text.chars().all(|c| c == '\n' || is_printable(c)) || text.contains('\u{feff}') {
        return None;
    }
    let mut p = Parser {
        lines: text
            .split('\n')
            .map(|raw| {
                let indent = raw.len() - raw.trim_start_matches(' ').len();
                Line {
                    raw,
                    indent,
                    at: indent,
                }
            })
            .collect(),
        i: 0,
        depth: 0,
    };
    // Directives and document markers (a `---` or `...` at column 0 also ends a block scalar).
    if p.lines
        .iter()
        .any(|l| l.raw.starts_with("---") || l.raw.starts_with("...") || l.raw.starts_with('%'))
    {
        return None;
    }
    let first = p.next_significant()?;
    let indent = p.lines[first].indent;
    let value = p.node(indent)?;
    // Everything must have been read.
    if p.next_significant().is_some() {
        return None;
    }
    Some(value)
}

/// `yaml_serde::from_str::<Value>`, through the fast path where it applies.
///
/// # Errors
/// `yaml_serde`'s error (the fast path never fails: it defers).
pub fn from_str(text: &str) -> Result<Value, yaml_serde::Error> {
    match parse(text) {
        Some(v) => Ok(v),
        None => yaml_serde::from_str(text),
    }
}

#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    raw: &'a str,
    /// Leading spaces of the raw line.
    indent: usize,
    /// Byte where the unread content of the line starts (after `- ` of a sequence entry whose
    /// content is a mapping, this moves right and `indent` with it).
    at: usize,
}

impl<'a> Line<'a> {
    fn rest(&self) -> &'a str {
        &self.raw[self.at..]
    }

    /// Blank or comment only.
    fn is_trivia(&self) -> bool {
        let r = self.raw.trim_start_matches(' ');
        r.is_empty() || r.starts_with('#')
    }
}

/// Deepest nesting read here; `yaml_serde` refuses documents nested deeper than 128 levels
/// (its `recursion limit exceeded` error), so the fast path defers well before that.
const MAX_DEPTH: usize = 64;

/// Longest implicit key read here, in bytes up to its `:` (YAML allows 1024 characters; a byte
/// count at or below 1000 is always within that).
const MAX_IMPLICIT_KEY_BYTES: usize = 1000;

/// YAML's c-printable set, without tab, carriage return, and the three characters libyaml
/// (YAML 1.1) also takes as line breaks: U+0085, U+2028, U+2029. All deferred to `yaml_serde`.
fn is_printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{2027}' | '\u{202a}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        || c >= '\u{10000}'
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    i: usize,
    /// Block nodes open around the current position.
    depth: usize,
}

impl<'a> Parser<'a> {
    /// Moves to the next line with content and returns its index.
    fn next_significant(&mut self) -> Option<usize> {
        while self.i < self.lines.len() {
            if !self.lines[self.i].is_trivia() {
                return Some(self.i);
            }
            self.i += 1;
        }
        None
    }

    /// The block node whose first line is the next significant one, at `indent`.
    fn node(&mut self, indent: usize) -> Option<Value> {
        let i = self.next_significant()?;
        let line = self.lines[i];
        if line.indent != indent {
            return None;
        }
        if is_entry(line.rest()) {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        }
    }

    /// Runs `f` one nesting level deeper, or defers past [`MAX_DEPTH`].
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn mapping(&mut self, indent: usize) -> Option<Value> {
        self.nested(|p| p.mapping_body(indent))
    }

    fn mapping_body(&mut self, indent: usize) -> Option<Value> {
        let mut map = Mapping::new();
        while let Some(i) = self.next_significant() {
            let line = self.lines[i];
            if line.indent < indent {
                break;
            }
            if line.indent > indent || is_entry(line.rest()) {
                return None;
            }
            let (key, after) = split_key(line.rest())?;
            let key = resolve_plain(key)?;
            self.i = i + 1;
            let value = self.value_after(after, indent, true)?;
            if map.insert(key, value).is_some() {
                return None; // duplicate key: yaml_serde's error
            }
        }
        Some(Value::Mapping(map))
    }

    fn sequence(&mut self, indent: usize) -> Option<Value> {
        self.nested(|p| p.sequence_body(indent))
    }

    fn sequence_body(&mut self, indent: usize) -> Option<Value> {
        let mut seq = Vec::new();
        while let Some(i) = self.next_significant() {
            let line = self.lines[i];
            if line.indent < indent {
                break;
            }
            if line.indent > indent {
                return None;
            }
            if !is_entry(line.rest()) {
                break; // the next key of a mapping this sequence is the value of
            }
            let after = &line.rest()[1..];
            let content = after.trim_start_matches(' ');
            if is_entry(content) {
                return None; // `- - x`
            }
            if !content.is_empty() && !content.starts_with('#') && split_key(content).is_some() {
                // `- key: value`: a mapping whose indentation is the key's column.
                let col = line.raw.len() - content.len();
                self.lines[i].indent = col;
                self.lines[i].at = col;
                seq.push(self.mapping(col)?);
                continue;
            }
            self.i = i + 1;
            seq.push(self.value_after(after, indent, false)?);
        }
        Some(Value::Sequence(seq))
    }

    /// The value after `key:` or `-` on a line whose block sits at `indent`; `after` starts right
    /// after the `:` or `-`. In a mapping, a sequence value may sit at the key's own indentation.
    fn value_after(&mut self, after: &'a str, indent: usize, in_mapping: bool) -> Option<Value> {
        if !after.is_empty() && !after.starts_with(' ') {
            return None;
        }
        let content = after.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            // The value is the block below, or null.
            let Some(j) = self.next_significant() else {
                return Some(Value::Null);
            };
            let next = self.lines[j];
            if next.indent > indent {
                return self.node(next.indent);
            }
            if in_mapping && next.indent == indent && is_entry(next.rest()) {
                return self.sequence(indent);
            }
            return Some(Value::Null);
        }
        let value = match content.as_bytes()[0] {
            b'|' => return self.literal(content, indent),
            b'"' => Value::String(double_quoted(content)?),
            b'\'' => Value::String(single_quoted(content)?),
            b'{' => {
                empty_flow(content, '}')?;
                Value::Mapping(Mapping::new())
            }
            b'[' => {
                empty_flow(content, ']')?;
                Value::Sequence(Vec::new())
            }
            _ => resolve_plain(plain_value(content)?)?,
        };
        // A more indented line after a one-line value would continue it (a multi-line scalar)
        // or be an error: either way, not ours.
        if let Some(j) = self.next_significant()
            && self.lines[j].indent > indent
        {
            return None;
        }
        Some(value)
    }

    /// A literal block scalar (`|` or `|-`, optionally followed by a comment) whose parent
    /// node sits at `indent`; the content lines follow.
    fn literal(&mut self, header: &str, indent: usize) -> Option<Value> {
        let (strip, rest) = match header.strip_prefix("|-") {
            Some(r) => (true, r),
            None => (false, &header[1..]),
        };
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None; // `|+`, `|2`, `|-2`, ...
        }
        let rest = rest.trim_start_matches(' ');
        if !(rest.is_empty() || rest.starts_with('#')) {
            return None;
        }
        // Content: the lines up to the first non-blank line indented no deeper than the parent.
        let start = self.i;
        let mut end = start;
        let mut block_indent = None;
        while end < self.lines.len() {
            let l = self.lines[end];
            let blank = l.raw.trim_start_matches(' ').is_empty();
            if !blank {
                if l.indent <= indent {
                    break;
                }
                block_indent.get_or_insert(l.indent);
            }
            end += 1;
        }
        // Trailing blank lines belong to the scalar (chomping) unless they end the text; the
        // next node starts at `end` either way.
        let Some(bi) = block_indent else {
            // Only blank lines: the empty string (both chomping modes).
            if (start..end).any(|k| !self.lines[k].raw.is_empty()) {
                return None;
            }
            self.i = end;
            return Some(Value::String(String::new()));
        };
        let mut out = String::new();
        for k in start..end {
            let l = self.lines[k];
            if l.raw.trim_start_matches(' ').is_empty() {
                if l.raw.len() > bi {
                    return None; // spaces beyond the indentation are content: leave it
                }
                out.push('\n');
            } else {
                if l.indent < bi {
                    return None; // less indented than the first line: an error
                }
                out.push_str(&l.raw[bi..]);
                out.push('\n');
            }
        }
        // Leading blank lines with more spaces than a later first content line are an error in
        // YAML; they were refused above only when longer than `bi`, which is that rule.
        let trimmed = out.trim_end_matches('\n').len();
        if strip {
            out.truncate(trimmed);
        } else {
            out.truncate(trimmed + 1); // clip: exactly one line break
        }
        // The last text line is followed by a line break only if one existed in the input.
        if end == self.lines.len() && !strip && !self.ends_with_newline() {
            return None;
        }
        self.i = end;
        Some(Value::String(out))
    }

    /// Whether the text ended with a line break (its last split piece is empty).
    fn ends_with_newline(&self) -> bool {
        self.lines.last().is_some_and(|l| l.raw.is_empty())
    }
}

/// A sequence entry: `-` followed by a space or the end of the line.
fn is_entry(rest: &str) -> bool {
    rest == "-" || rest.starts_with("- ")
}

/// Splits `key: value` / `key:` into the plain key and what follows the `:`. `None` if the line
/// is not a plain-key mapping entry.
fn split_key(rest: &str) -> Option<(&str, &str)> {
    let first = *rest.as_bytes().first()?;
    if is_indicator(first) && !(matches!(first, b'-' | b'?' | b':') && plain_safe_start(rest)) {
        return None;
    }
    let b = rest.as_bytes();
    let mut k = 0;
    while k < b.len() {
        match b[k] {
            b':' if k + 1 == b.len() || b[k + 1] == b' ' => {
                // An implicit key spans at most 1024 characters up to its `:` (YAML 1.2 §7.4;
                // libyaml's "mapping values are not allowed in this context" beyond that).
                if k > MAX_IMPLICIT_KEY_BYTES {
                    return None;
                }
                let key = &rest[..k];
                let key = key.trim_end_matches(' ');
                if key.is_empty() {
                    return None;
                }
                return Some((key, &rest[k + 1..]));
            }
            b'#' if k > 0 && b[k - 1] == b' ' => return None,
            _ => {}
        }
        k += 1;
    }
    None
}

/// A plain scalar value on one line: up to a ` #` comment, trailing spaces trimmed. `None` for
/// what would not be a plain scalar here.
fn plain_value(content: &str) -> Option<&str> {
    let first = content.as_bytes()[0];
    if is_indicator(first) && !(matches!(first, b'-' | b'?' | b':') && plain_safe_start(content)) {
        return None;
    }
    let end = match content.find(" #") {
        Some(h) => h,
        None => content.len(),
    };
    let v = content[..end].trim_end_matches(' ');
    // `a: b: c` is an error; `a: b:` too.
    if v.contains(": ") || v.ends_with(':') {
        return None;
    }
    Some(v)
}

/// `-`, `?` and `:` may start a plain scalar when followed by a non-space.
fn plain_safe_start(s: &str) -> bool {
    s.as_bytes().get(1).is_some_and(|&c| c != b' ')
}

/// YAML's c-indicator characters.
fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

fn after_spaces(s: &str) -> &str {
    s.trim_start_matches(' ')
}

/// `{}` or `[]` (spaces allowed inside), then only a comment.
fn empty_flow(content: &str, close: char) -> Option<()> {
    let rest = after_spaces(&content[1..]).strip_prefix(close)?;
    rest_is_comment(content, content.len() - rest.len(), content.len()).then_some(())
}

/// A plain scalar as `yaml_serde` resolves it, or `None` where its number rules are needed.
fn resolve_plain(s: &str) -> Option<Value> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    let b = s.as_bytes();
    // Plain decimal integers without leading zeros, as yaml_serde's `visit_int` reads them.
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || digits.len() == 1)
        && s != "-0"
    {
        return if b[0] == b'-' {
            s.parse::<i64>().ok().map(|n| Value::Number(n.into()))
        } else {
            s.parse::<u64>().ok().map(|n| Value::Number(n.into()))
        };
    }
    // Anything else yaml_serde could read as a number (other integer forms, floats, `.inf`,
    // `.nan`, digit strings like `007`) is left to it; the rest is a string.
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let number_like = s.parse::<f64>().is_ok()
        || ["0x", "0o", "0b"].iter().any(|p| unsigned.starts_with(p))
        || matches!(
            unsigned,
            ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN"
        );
    if number_like {
        None
    } else {
        Some(Value::String(s.to_owned()))
    }
}

/// A double-quoted scalar that closes on this line, followed only by spaces or a comment.
fn double_quoted(content: &str) -> Option<String> {
    let q = scan_double(content, 0, content.len())?;
    if !rest_is_comment(content, q, content.len()) {
        return None;
    }
    decode_double(&content[1..q - 1])
}

/// A single-quoted scalar that closes on this line, followed only by spaces or a comment.
fn single_quoted(content: &str) -> Option<String> {
    let q = scan_single(content, 0, content.len())?;
    if !rest_is_comment(content, q, content.len()) {
        return None;
    }
    Some(content[1..q - 1].replace("''", "'"))
}

// One-line quoted scalars, shared with the `SealedSecret` span scanner (`sealedsecret::scan`).

/// End (exclusive, after the closing quote) of a double-quoted scalar starting at `p`, if it
/// closes before `end`.
pub(crate) fn scan_double(text: &str, p: usize, end: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut q = p + 1;
    while q < end {
        match b[q] {
            b'\\' => q += 2,
            b'"' => return Some(q + 1),
            _ => q += 1,
        }
    }
    None
}

/// End (exclusive) of a single-quoted scalar starting at `p`, if it closes before `end`.
pub(crate) fn scan_single(text: &str, p: usize, end: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut q = p + 1;
    while q < end {
        if b[q] == b'\'' {
            if b.get(q + 1) == Some(&b'\'') && q + 1 < end {
                q += 2;
                continue;
            }
            return Some(q + 1);
        }
        q += 1;
    }
    None
}

/// Only whitespace or a comment between `q` and `end`.
pub(crate) fn rest_is_comment(text: &str, q: usize, end: usize) -> bool {
    let rest = &text[q..end];
    let t = rest.trim_start_matches([' ', '\t']);
    t.is_empty() || (t.starts_with('#') && t.len() < rest.len())
}

/// Decodes the inside of a double-quoted scalar (YAML 1.2 escapes); `None` for an unknown escape.
pub(crate) fn decode_double(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next()?;
        let hex = |n: usize, chars: &mut std::str::Chars<'_>| -> Option<char> {
            let h: String = chars.by_ref().take(n).collect();
            if h.len() != n {
                return None;
            }
            char::from_u32(u32::from_str_radix(&h, 16).ok()?)
        };
        out.push(match e {
            '\\' => '\\',
            '"' => '"',
            '/' => '/',
            ' ' => ' ',
            '0' => '\0',
            'a' => '\u{7}',
            'b' => '\u{8}',
            't' | '\t' => '\t',
            'n' => '\n',
            'v' => '\u{b}',
            'f' => '\u{c}',
            'r' => '\r',
            'e' => '\u{1b}',
            'N' => '\u{85}',
            '_' => '\u{a0}',
            'L' => '\u{2028}',
            'P' => '\u{2029}',
            'x' => hex(2, &mut chars)?,
            'u' => hex(4, &mut chars)?,
            'U' => hex(8, &mut chars)?,
            _ => return None,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(text: &str) {
        let slow: Value = yaml_serde::from_str(text).unwrap();
        assert_eq!(parse(text), Some(slow), "{text:?}");
    }

    #[test]
    fn reads_the_manifest_subset_like_yaml_serde() {
        same("a: 1\nb: x\nc:\n  d: [] # c\n  e: {}\n");
        same("a:\n- x\n- 'y''s'\n- \"q\\\"\\n\"\nb: -5\n");
        same("- name: a\n  value: b\n-   name: c\n    x:\n      - 1\n");
        same("k: |\n  line 1\n\n  line 3\n\nnext: |-\n    a\n     b\n");
        same("# top\nkey: null\nt: True\nf: FALSE\ne:\nz: ~\nurl: http://x:80/a#b\n");
    }

    #[test]
    fn defers_what_it_does_not_read() {
        for t in [
            "a: 1.5\n",
            "a: 007\n",
            "a: +1\n",
            "a: &x 1\n",
            "a: [1, 2]\n",
            "a: >\n  x\n",
            "a: b: c\n",
            "a: 1\na: 2\n",
            "a: 1\n b: 2\n",
            "a: x\n  y\n",
            "\"a\": 1\n",
            "a:\tb\n",
            "a: 1\r\n",
            "a: \"x\n  y\"\n",
            "- - a\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: |+\n  x\n",
            "a: 0x1f\n",
            "a: .inf\n",
            "a: x\u{1}y\n",
            "a: x\u{7f}\n",
            "a: \u{feff}x\n",
            &format!("{}: 1\n", "k".repeat(1001)),
        ] {
            assert_eq!(parse(t), None, "{t:?}");
        }
    }

    #[test]
    fn deep_nesting_defers_before_yaml_serde_refuses() {
        let mut deep = String::new();
        for d in 0..200 {
            deep.push_str(&" ".repeat(d));
            deep.push_str("a:\n");
        }
        assert!(yaml_serde::from_str::<Value>(&deep).is_err());
        assert_eq!(parse(&deep), None);
        let mut ok = String::new();
        for d in 0..MAX_DEPTH - 1 {
            ok.push_str(&" ".repeat(d));
            ok.push_str("a:\n");
        }
        same(&ok);
    }
}
