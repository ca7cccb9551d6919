//! Line scanning exactly as kustomize reads an `envs:` file.
//!
//! Owns the byte-level line splitting and whitespace rules shared by the parser and the linter.
//! It must not allocate per line or look at what a value means.
//!
//! Upstream: kustomize `api/kv/kv.go` `keyValuesFromLines` reads the file with a Go
//! `bufio.Scanner` in its default `ScanLines` mode, and `keyValuesFromLine` trims leading
//! whitespace with `bytes.TrimLeftFunc(line, unicode.IsSpace)`.

/// Longest line content (bytes before `\n`, a `\r` included) that Go's `bufio.Scanner` accepts
/// with its default buffer (`bufio.MaxScanTokenSize` = 64 KiB, and the terminating `\n` must fit
/// in that buffer too). kustomize ignores `scanner.Err()`, so a longer line silently ends the file.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024 - 1;

/// The UTF-8 byte order mark kustomize strips from the first line only (`kv.go` `utf8bom`).
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One physical line of the file, as `bufio.ScanLines` yields it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawLine<'a> {
    /// 1-based line number.
    pub(crate) number: usize,
    /// Byte offset of the first byte of the line in the file.
    pub(crate) start: usize,
    /// The line without its `\n` and without one `\r` right before it (Go `dropCR`).
    pub(crate) content: &'a [u8],
    /// Bytes before the `\n` (or up to EOF), the dropped `\r` included: what the scanner buffers.
    pub(crate) raw_len: usize,
    pub(crate) dropped_cr: bool,
}

/// Iterates over the lines of `bytes` the way Go's `bufio.ScanLines` does: split at `\n`, drop
/// one trailing `\r` (also on a last line without `\n`), no empty token after a final `\n`.
pub(crate) fn lines(bytes: &[u8]) -> impl Iterator<Item = RawLine<'_>> {
    let mut start = 0;
    bytes
        .split_inclusive(|&b| b == b'\n')
        .enumerate()
        .map(move |(i, chunk)| {
            let raw = chunk.strip_suffix(b"\n").unwrap_or(chunk);
            // Go bufio.ScanLines dropCR: one '\r' right before the '\n' (or at EOF) is removed.
            let content = raw.strip_suffix(b"\r");
            let line = RawLine {
                number: i + 1,
                start,
                content: content.unwrap_or(raw),
                raw_len: raw.len(),
                dropped_cr: content.is_some(),
            };
            start += chunk.len();
            line
        })
}

impl<'a> RawLine<'a> {
    /// The line as text, unless it is not UTF-8 or longer than [`MAX_LINE_BYTES`] (the parser
    /// reports those; the linter and the pasted-value scan skip them).
    pub(crate) fn text(&self) -> Option<&'a str> {
        (self.raw_len <= MAX_LINE_BYTES)
            .then(|| std::str::from_utf8(self.content).ok())
            .flatten()
    }
}

/// Go's `unicode.IsSpace`, which kustomize trims from the start of every line (`kv.go`
/// `bytes.TrimLeftFunc`). Go's table (the Latin-1 spaces plus the Unicode `White_Space`
/// property) is exactly Rust's `char::is_whitespace`; the unit test below checks the two against
/// Go's explicit list on every scalar value.
pub(crate) fn is_go_space(c: char) -> bool {
    c.is_whitespace()
}

/// What kustomize makes of one line once it is known to be valid UTF-8.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shape<'a> {
    /// Empty after the trim, or starting with `#`: skipped.
    Skip,
    /// A key, with or without `=`.
    Pair {
        /// Byte offset of the key inside the line content.
        key_at: usize,
        /// Everything before the first `=` (not trimmed).
        key: &'a str,
        /// Byte offset of the value inside the line content, and the value after the first `=`.
        /// `None` for a line without `=` (kustomize v5 gives it the empty value).
        value: Option<(usize, &'a str)>,
    },
}

/// Classifies a line's content (already valid UTF-8) as kustomize does in
/// `kv.go` `keyValuesFromLine`: strip the BOM on line 1, trim leading `unicode.IsSpace`, skip
/// empty and `#` lines, split at the first `=`.
pub(crate) fn shape(text: &str, first_line: bool) -> Shape<'_> {
    let after_bom = match text.strip_prefix('\u{FEFF}') {
        Some(rest) if first_line => rest,
        _ => text,
    };
    let trimmed = after_bom.trim_start_matches(is_go_space);
    let at = text.len() - trimmed.len();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Shape::Skip;
    }
    match trimmed.split_once('=') {
        Some((key, value)) => Shape::Pair {
            key_at: at,
            key,
            value: Some((at + key.len() + 1, value)),
        },
        None => Shape::Pair {
            key_at: at,
            key: trimmed,
            value: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_lines_like_go() {
        let got: Vec<(usize, &[u8], bool)> = lines(b"a\r\nb\r\r\n\nc\rd\ne\r")
            .map(|l| (l.number, l.content, l.dropped_cr))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, &b"a"[..], true),
                (2, &b"b\r"[..], true),
                (3, &b""[..], false),
                (4, &b"c\rd"[..], false),
                (5, &b"e"[..], true),
            ]
        );
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"\n").count(), 1);
        assert_eq!(lines(b"x\n").count(), 1);
    }

    /// Go's `unicode.IsSpace` as its source spells it (`unicode/graphic.go`: the Latin-1 cases,
    /// then the `White_Space` table).
    fn go_table(c: char) -> bool {
        matches!(
            c,
            '\t' | '\n'
                | '\u{0B}'
                | '\u{0C}'
                | '\r'
                | ' '
                | '\u{85}'
                | '\u{A0}'
                | '\u{1680}'
                | '\u{2000}'
                ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
        )
    }

    #[test]
    fn go_space_matches_go_on_every_scalar_value() {
        for c in ['\u{A0}', '\u{3000}', '\u{2028}', '\u{0B}', '\u{85}'] {
            assert!(is_go_space(c));
        }
        for c in ['\u{200B}', '\u{FEFF}', 'a', '#'] {
            assert!(!is_go_space(c));
        }
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            assert_eq!(is_go_space(c), go_table(c), "{c:?}");
        }
    }
}
