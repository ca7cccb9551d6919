//! One-line quoted scalars: where they end and what they decode to. Shared by the block scanner
//! ([`super::block`]), the flow scanner ([`super::flow`]) and the key finder ([`super`]).
//!
//! Upstream rules followed: the YAML 1.2 double-quoted escapes (spec section 5.7) and the
//! single-quoted `''` escape.

use super::block::ScalarStyle;

/// The quoted scalar (`"` or `'`) at `p`, if it closes before `end`: its style, its end (after the
/// closing quote) and its decoded text (`None` for an unknown escape).
pub(crate) fn quoted(
    text: &str,
    p: usize,
    end: usize,
) -> Option<(ScalarStyle, usize, Option<String>)> {
    let inner = |q: usize| &text[p + 1..q - 1];
    if text.as_bytes()[p] == b'"' {
        let q = scan_double(text, p, end)?;
        Some((ScalarStyle::DoubleQuoted, q, decode_double(inner(q))))
    } else {
        let q = scan_single(text, p, end)?;
        let raw = inner(q).replace("''", "'");
        Some((ScalarStyle::SingleQuoted, q, Some(raw)))
    }
}

/// End (exclusive, after the closing quote) of a double-quoted scalar starting at `p`, if it
/// closes before `end`.
fn scan_double(text: &str, p: usize, end: usize) -> Option<usize> {
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
fn scan_single(text: &str, p: usize, end: usize) -> Option<usize> {
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
