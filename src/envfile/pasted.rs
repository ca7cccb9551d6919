//! Values pasted over several lines, and lines that look like a value rather than a key.
//!
//! Owns the one judgement the rest of the crate relies on to keep secret material out of
//! messages: which lines of an env file are probably not keys at all. kustomize has no multi-line
//! values (`api/kv/kv.go` reads every line on its own), so a PEM private key or a JSON blob pasted
//! into an env file becomes one "key" per line, each holding a piece of the secret. Such lines
//! must never be quoted, sealed as key names, or handed to rules that print key names. It must not
//! look at anything but the file's lines.
//!
//! The detection is a heuristic (kustomize reads these files without complaint), tuned to fail
//! towards "not a key": a false alarm costs a finding, a miss could print a secret.

use super::key::{KeyProblem, is_env_var_name, validate_key};
use super::scan::{self, RawLine, Shape};

/// What opened a multi-line value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PastedKind {
    /// A `-----BEGIN ...` line (a PEM key or certificate).
    Pem,
    /// A value opening a quote it does not close on its line (godotenv reads on to the closing
    /// quote).
    Quoted,
    /// A value opening `{` or `[` it does not close on its line (a JSON blob).
    Json,
}

impl PastedKind {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Pem => "a PEM block",
            Self::Quoted => "a quoted value",
            Self::Json => "a JSON value",
        }
    }
}

/// One value pasted over lines `first_line..=last_line` (1-based, `last_line > first_line`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PastedValue {
    pub kind: PastedKind,
    /// The line that opens it (usually `KEY=<first line of the value>`).
    pub first_line: usize,
    /// The last line that belongs to it.
    pub last_line: usize,
    /// Byte offset of the start of the first line.
    pub start: usize,
    /// Byte offset of the end of the last line's content.
    pub end: usize,
}

impl PastedValue {
    /// Whether 1-based `line` continues this value (the opening line excluded).
    pub fn continues_on(&self, line: usize) -> bool {
        line > self.first_line && line <= self.last_line
    }
}

/// Finds every value pasted over several lines, in file order; blocks never overlap.
///
/// A value opens on a line that starts a PEM block (`-----BEGIN `), or whose value opens a quote
/// or a `{`/`[` it does not close. It runs to the line that closes it (`-----END `, the quote,
/// the bracket), but stops early before a line that is clearly a key of its own (`NAME=...` with
/// an environment-variable name that is not base64-looking) or a blank or comment line; a line
/// opening nothing that is followed by no continuation is not a pasted value.
pub fn pasted_values(bytes: &[u8]) -> Vec<PastedValue> {
    // A line that is not UTF-8 or too long (`text()` is `None`) ends any value.
    let lines: Vec<RawLine<'_>> = scan::lines(bytes).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(kind) = lines[i].text().and_then(|t| opener(t, i == 0)) else {
            i += 1;
            continue;
        };
        let last = block_end(&lines, i, kind);
        if last > i {
            out.push(PastedValue {
                kind: kind.kind(),
                first_line: i + 1,
                last_line: last + 1,
                start: lines[i].start,
                end: lines[last].start + lines[last].content.len(),
            });
        }
        i = last + 1;
    }
    out
}

/// What closes an open value.
#[derive(Debug, Clone, Copy)]
enum Opener {
    Pem,
    Quote(char),
    Json(i64),
}

impl Opener {
    fn kind(self) -> PastedKind {
        match self {
            Self::Pem => PastedKind::Pem,
            Self::Quote(_) => PastedKind::Quoted,
            Self::Json(_) => PastedKind::Json,
        }
    }
}

fn opener(text: &str, first: bool) -> Option<Opener> {
    let value = match scan::shape(text, first) {
        Shape::Skip => return None,
        Shape::Pair {
            value: Some((_, v)),
            ..
        } => v.trim_start_matches(scan::is_go_space),
        Shape::Pair {
            key, value: None, ..
        } => key,
    };
    if let Some(q) = value.bytes().next().filter(|q| matches!(q, b'"' | b'\'')) {
        return closing_quote(value, q)
            .is_none()
            .then_some(Opener::Quote(char::from(q)));
    }
    if text.contains("-----BEGIN ") && !text.contains("-----END ") {
        return Some(Opener::Pem);
    }
    if value.starts_with(['{', '[']) {
        let depth = bracket_depth(value);
        return (depth > 0).then_some(Opener::Json(depth));
    }
    None
}

/// Byte index of the quote closing an opening `quote` at index 0, honouring `\` escapes inside
/// double quotes as godotenv does.
pub(super) fn closing_quote(value: &str, quote: u8) -> Option<usize> {
    let b = value.as_bytes();
    (1..b.len()).find(|&i| b[i] == quote && !(quote == b'"' && b[i - 1] == b'\\'))
}

/// Net `{`/`[` depth of `s`, ignoring brackets inside JSON strings.
fn bracket_depth(s: &str) -> i64 {
    let (mut depth, mut in_str, mut prev) = (0i64, false, '\0');
    for c in s.chars() {
        match c {
            '"' if prev != '\\' => in_str = !in_str,
            '{' | '[' if !in_str => depth += 1,
            '}' | ']' if !in_str => depth -= 1,
            _ => {}
        }
        prev = c;
    }
    depth
}

/// The index of the last line of the value opened at `open`.
fn block_end(lines: &[RawLine<'_>], open: usize, mut kind: Opener) -> usize {
    let mut last = open;
    for (j, line) in lines.iter().enumerate().skip(open + 1) {
        let Some(text) = line.text() else { break };
        let closes = match &mut kind {
            Opener::Pem => text.contains("-----END "),
            Opener::Quote(q) => text.contains(*q),
            Opener::Json(depth) => {
                *depth += bracket_depth(text);
                *depth <= 0
            }
        };
        if closes {
            return j;
        }
        if stands_alone(text, matches!(kind, Opener::Pem)) {
            break;
        }
        last = j;
    }
    last
}

/// A line that cannot be part of a pasted value: blank, a comment, or `NAME=...` with an
/// environment-variable name (inside a PEM block, not one that base64 could produce).
fn stands_alone(text: &str, pem: bool) -> bool {
    match scan::shape(text, false) {
        Shape::Skip => true,
        Shape::Pair {
            key,
            value: Some(_),
            ..
        } => is_env_var_name(key) && !(pem && is_base64_line(text.trim())),
        Shape::Pair { value: None, .. } => false,
    }
}

/// Only base64 characters, `=` only as trailing padding.
fn is_base64_line(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// Whether a key read from a line without `=` looks like a piece of a value rather than a key
/// name: not a valid key, or a long mix of upper case, lower case and digits (base64, a token).
pub fn no_equals_looks_like_value(key: &str) -> bool {
    validate_key(key).is_err() || !is_env_var_name(key) || token_like(key)
}

/// Whether a line with `=` looks like a piece of a base64 value rather than `KEY=value`: kustomize
/// splits `c2VjcmV0MTIzNDU2Nzg5MA==` at its first `=`, so the padding of a base64 value pasted
/// alone on a line (the last line of a wrapped blob) gives a valid key that is the value itself.
///
/// Such a line is a long key of letters and digits, followed by nothing but `=`, whose length
/// with them is a multiple of 4 (base64's), and which reads like random text, not words: a
/// share of class changes (upper case, lower case, digit) between neighbouring characters that
/// words do not reach, or short lower-case runs. With `==` (the value `=`, which no real setting
/// is) the bar is lower than with one `=` (an empty value, which an example may well have):
/// - `==`: upper and lower case, and a lower-case run of at most 4 letters or class changes
///   between more than 45% of neighbours;
/// - `=`: token-like ([`no_equals_looks_like_value`]'s test), and a lower-case run of at most 4
///   letters with at least two upper-case letters followed by no lower-case one, or class
///   changes between more than 52% of neighbours with a digit followed by a lower-case letter
///   somewhere (which a name of short words, `RedisTlsCaCertPemV2`, does not have).
///
/// A key name written as words (`Auth0ClientSecret=`, `AWSSecretAccessKey2=`,
/// `S3BucketAccessKeyId=`, `GCPServiceAccountJSON1==`) has long lower-case runs and few changes,
/// so it stays a key. Random base64 passes the `==` test about 98 times in 100, the `=` test
/// about 93 times in 100 (fewer for keys under 20 characters).
pub(super) fn padding_looks_like_value(key: &str, value: &str) -> bool {
    let b = key.as_bytes();
    let framed = value.bytes().all(|c| c == b'=')
        && (key.len() + 1 + value.len()).is_multiple_of(4)
        && key.len() >= 16
        && b.iter().all(u8::is_ascii_alphanumeric)
        && b.iter().any(u8::is_ascii_lowercase)
        && b.iter().any(u8::is_ascii_uppercase);
    if !framed {
        return false;
    }
    let longest_lower = (b.split(|c| !c.is_ascii_lowercase()).map(<[u8]>::len).max()).unwrap_or(0);
    let class = |c: u8| (c.is_ascii_uppercase(), c.is_ascii_lowercase());
    let changes = (b.windows(2))
        .filter(|w| class(w[0]) != class(w[1]))
        .count();
    let changes_over = |percent: usize| changes * 100 > (b.len() - 1) * percent;
    if value == "=" {
        return longest_lower <= 4 || changes_over(45);
    }
    let shouting = (b.windows(2))
        .filter(|w| w[0].is_ascii_uppercase() && !w[1].is_ascii_lowercase())
        .count();
    // A digit followed by a lower-case letter: random text has one, a key name made of short
    // words (`RedisTlsCaCertPemV2`, `S3AccessKeyIdProdEu`) changes case often but has none.
    let digit_then_lower =
        (b.windows(2)).any(|w| w[0].is_ascii_digit() && w[1].is_ascii_lowercase());
    token_like(key)
        && ((longest_lower <= 4 && shouting >= 2) || (changes_over(52) && digit_then_lower))
}

/// A long mix of upper case, lower case and digits (base64, a token).
fn token_like(key: &str) -> bool {
    let has = |f: fn(&u8) -> bool| key.as_bytes().iter().any(f);
    key.len() >= 16
        && has(u8::is_ascii_lowercase)
        && has(u8::is_ascii_uppercase)
        && has(u8::is_ascii_digit)
}

/// Why `key` is no valid Secret key, in words that name its bad character only when the key may
/// be shown ([`invalid_key_is_showable`]): the character is a piece of the line too.
pub(crate) fn key_problem_text(key: &str, problem: KeyProblem) -> String {
    match invalid_key_is_showable(key) {
        true => problem.describe(),
        false => problem.describe_withheld(),
    }
}

/// Whether an invalid key may be shown in an error message: short, not a long mix of upper
/// case, lower case and digits, and made only of what key names are made of (letters, digits,
/// `-`, `_`, `.`, `:`), after an optional `export ` prefix. `export TOKEN` and `A:B` are shown;
/// a key with a space (a passphrase, a TOTP seed in groups), a URL, `pa$$word` or base64 (`+`,
/// `/`) is not.
pub(crate) fn invalid_key_is_showable(key: &str) -> bool {
    let name = key.strip_prefix("export ").unwrap_or(key);
    key.len() <= 64
        && !token_like(name)
        && !name.is_empty()
        && !name.contains("-----")
        && (name.chars()).all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(src: &str) -> Vec<(PastedKind, usize, usize)> {
        pasted_values(src.as_bytes())
            .iter()
            .map(|p| (p.kind, p.first_line, p.last_line))
            .collect()
    }

    const PEM: &str = "A=1\nTLS_KEY=-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nabc+/def==\n-----END PRIVATE KEY-----\nB=2\n";

    #[test]
    fn pem_block_runs_to_its_end_line() {
        assert_eq!(ranges(PEM), vec![(PastedKind::Pem, 2, 5)]);
        let quoted = PEM
            .replace("=-----BEGIN", "=\"-----BEGIN")
            .replace("KEY-----\nB", "KEY-----\"\nB");
        assert_eq!(ranges(&quoted), vec![(PastedKind::Quoted, 2, 5)]);
        // A bare BEGIN line opens it too, and base64 lines with padding stay inside.
        let bare =
            "-----BEGIN RSA PRIVATE KEY-----\nQUJD==\nABCDEFGH\n-----END RSA PRIVATE KEY-----\n";
        assert_eq!(ranges(bare), vec![(PastedKind::Pem, 1, 4)]);
    }

    #[test]
    fn unclosed_values_stop_before_a_real_key() {
        let src = "TLS=-----BEGIN X-----\nMIIEvQ+/\nNEXT_KEY=1\n";
        assert_eq!(ranges(src), vec![(PastedKind::Pem, 1, 2)]);
        // A quote closed by nothing before the next key is no pasted value (kustomize's own
        // reading; env-multiline-attempt reports it).
        assert!(ranges("A3=\"unterminated\nA4=it's\n").is_empty());
        assert!(ranges("A=-----BEGIN\nB=1\n").is_empty());
    }

    #[test]
    fn json_blob_runs_to_the_closing_bracket() {
        let src =
            "CREDS={\n  \"type\": \"service_account\",\n  \"key\": \"{not a bracket\"\n}\nB=2\n";
        assert_eq!(ranges(src), vec![(PastedKind::Json, 1, 4)]);
        assert!(ranges("J={\"a\":1}\n").is_empty());
    }

    #[test]
    fn base64_padding_is_a_value_not_a_key() {
        for (k, v) in [
            ("czNudGluZWwtUEctOWQ0MWM3ZTI", ""),
            ("U1VQRVJTRUNSRVQxMjM0NTY3OA", "="),
            // Random tokens the earlier rule let through (a lower-case run of 5).
            ("U0VLUkVUX2FiYzEyM190b2tlblhZWg", "="),
            ("U0VLUkVUX2FiYzEyM190b2tlblhZWgQ", ""),
            ("Q2Fsa2V5bXlzZWNyZXRwYXNzd29yZA", "="),
        ] {
            assert!(padding_looks_like_value(k, v), "{k}={v}");
        }
        // A key with a value, a key name that is not token-like, one whose length base64 cannot
        // have, or one written as words stays a key.
        for (k, v) in [
            ("czNudGluZWwtUEctOWQ0MWM3ZTI", "x"),
            ("czNudGluZWwtUEctOWQ0MWM3ZT", ""),
            ("API_KEY", ""),
            ("REDIS_PASSWORD", "="),
            ("Auth0ClientSecret", ""),
            ("OAuth2ClientSecret", ""),
            ("AWSSecretAccessKey2", ""),
            ("S3BucketAccessKeyId", ""),
            ("StripeSecretKeyLive2024", ""),
            ("GCPServiceAccountJSON1", "="),
            ("AzureAdB2CClientSecret", "="),
            ("S3AccessKeyIdProdEu", ""),
            ("RedisTlsCaCertPemV2", ""),
            ("SamlIdpCertPemProd1", ""),
        ] {
            assert!(!padding_looks_like_value(k, v), "{k}={v}");
        }
    }

    #[test]
    fn values_without_equals() {
        for v in ["MIIEvQIBADANBgkqhkiG9w0B", "abc+def", "\"x\": 1", "9lives"] {
            assert!(no_equals_looks_like_value(v), "{v}");
        }
        for k in ["REDIS_PASSWORD", "apiKey", "A10", "hunter2"] {
            assert!(!no_equals_looks_like_value(k), "{k}");
        }
        for k in ["export TOKEN", "A28:colon", "my-key:v2"] {
            assert!(invalid_key_is_showable(k), "{k}");
        }
        for v in [
            "BAD KEY",
            "HXDM VJEC KZQW",
            "hunter2 is my pw",
            "user:pw@host?x",
            "A$B",
            "abc+def",
            "\"type\": \"x",
            "-----END PRIVATE KEY-----",
            "MIIEvQIBADANBgkq hkiG9w0B",
        ] {
            assert!(!invalid_key_is_showable(v), "{v}");
        }
    }
}
