//! The ciphertext classifier: can this `encryptedData` value be a real kubeseal ciphertext?
//!
//! A pure function of the value text and, optionally, the environment's public key: no I/O, no
//! YAML, no decryption, no secrets (a `SealedSecret` value is ciphertext, but its *reasons* never
//! quote it anyway). Used by the use cases that must tell a placeholder from a sealed value (`seal`,
//! `reseal`, `recover`, `certinfo`) and by the rules `placeholder-ciphertext`, `invalid-ciphertext`
//! and `ciphertext-key-size-mismatch`; fuzzable via [`classify`].
//!
//! The layout checked is sealed-secrets `pkg/crypto/crypto.go` `HybridEncrypt`:
//! `u16 BE k || RSA-OAEP block (k bytes) || AES-GCM ciphertext || 16-byte tag`, written as padded
//! standard base64 and decoded by the controller with Go's `base64.StdEncoding`, which skips `\r`
//! and `\n` and rejects everything else outside the alphabet (encoding/base64 `decode`).
//!
//! False positives on real ciphertexts: an RSA-OAEP ciphertext is (close to) uniform in
//! `[0, n)`. The only structural check a real value sealed for the expected key can fail is the
//! zero run: the chance that a `k`-byte block holds [`ZERO_RUN`] = 16 consecutive zero bytes is
//! at most `(k - 15) * 256^-16`, i.e. below `2^-119` for `k = 512` (about `1.5e-36`). Literal
//! placeholder words are matched only against the whole value or against values that contain a
//! character real base64 never has, so a real ciphertext cannot match them.

use std::fmt;

use crate::crypto::{GO_STD_ENCODING, RsaPublicKey};
use base64::Engine as _;

/// RSA modulus sizes in bytes that a sealed-secrets controller plausibly uses (2048, 3072 and
/// 4096 bits). Controllers generate 4096-bit keys; `--key-size` allows others, which the
/// environment's certificate then names.
pub const PLAUSIBLE_KEY_BYTES: [usize; 3] = [256, 384, 512];

/// Length of a run of zero bytes in the RSA block that no real ciphertext has (see module docs).
pub const ZERO_RUN: usize = 16;

/// Bytes after the RSA block in even an empty value: the 16-byte GCM tag.
pub const GCM_TAG: usize = 16;

/// Which rule a reason belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A stand-in, not a ciphertext at all: `placeholder-ciphertext`.
    Placeholder,
    /// Possibly real bytes in an encoding the controller rejects, or bytes this certificate
    /// cannot have produced: `invalid-ciphertext`.
    Invalid,
    /// Sealed for a different RSA key size than the environment's certificate:
    /// `ciphertext-key-size-mismatch`.
    KeySize,
}

/// Why a value is not a structurally valid ciphertext. `Display` gives one lowercase phrase that
/// never quotes the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The value is empty (or only line breaks).
    Empty,
    /// The value matches a literal placeholder style (the pattern's name is given).
    Literal(&'static str),
    /// The value uses the URL-safe base64 alphabet (`-`, `_`).
    UrlSafeBase64,
    /// The value is base64 without the `=` padding Go's standard decoder requires.
    Unpadded,
    /// The value contains whitespace other than line breaks (spaces, tabs).
    Whitespace,
    /// The value is not base64 at all (a character outside every base64 alphabet, or bad
    /// padding).
    NotBase64,
    /// Fewer than two bytes: no length prefix.
    NoLengthPrefix,
    /// The length prefix is not a plausible RSA modulus size.
    ImplausibleLengthPrefix(usize),
    /// The value is shorter than `2 + k + 16` bytes.
    TooShort {
        /// Decoded length.
        len: usize,
        /// Minimum for the announced key size.
        min: usize,
    },
    /// The RSA block holds a run of zero bytes no real ciphertext has.
    ZeroRun(usize),
    /// The RSA block, read as an integer, is not below the certificate's modulus.
    NotBelowModulus,
    /// Sealed for a `found`-byte RSA key, but the environment's key has `expected` bytes.
    KeySizeMismatch {
        /// Key size the value announces, in bytes.
        found: usize,
        /// Key size of the environment's certificate, in bytes.
        expected: usize,
    },
}

impl Reason {
    /// The rule this reason is reported under.
    pub fn kind(&self) -> Kind {
        match self {
            Reason::UrlSafeBase64 | Reason::Unpadded | Reason::Whitespace => Kind::Invalid,
            Reason::NotBelowModulus => Kind::Invalid,
            Reason::KeySizeMismatch { .. } => Kind::KeySize,
            _ => Kind::Placeholder,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Empty => f.write_str("the value is empty"),
            Reason::Literal(what) => write!(f, "the value is a literal placeholder ({what})"),
            Reason::UrlSafeBase64 => f.write_str(
                "the value uses the url-safe base64 alphabet; the controller accepts only standard base64",
            ),
            Reason::Unpadded => f.write_str(
                "the value is unpadded base64; the controller requires `=` padding",
            ),
            Reason::Whitespace => f.write_str(
                "the value contains spaces or tabs; the controller tolerates only line breaks",
            ),
            Reason::NotBase64 => f.write_str("the value is not base64"),
            Reason::NoLengthPrefix => {
                f.write_str("the value decodes to fewer than 2 bytes (no rsa length prefix)")
            }
            Reason::ImplausibleLengthPrefix(k) => write!(
                f,
                "the rsa length prefix announces {k} bytes, not a modulus size (256, 384 or 512)"
            ),
            Reason::TooShort { len, min } => write!(
                f,
                "the value decodes to {len} bytes, shorter than the {min} bytes of the smallest real value for its key size"
            ),
            Reason::ZeroRun(n) => write!(
                f,
                "the rsa block holds a run of {n} zero bytes, which no real ciphertext has"
            ),
            Reason::NotBelowModulus => f.write_str(
                "the rsa block is not below the certificate's modulus, so this certificate's key did not seal it",
            ),
            Reason::KeySizeMismatch { found, expected } => write!(
                f,
                "sealed for a {}-bit key, but the environment's certificate has a {}-bit key",
                found * 8,
                expected * 8
            ),
        }
    }
}

/// The classifier's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Structurally a real ciphertext (for the expected key, when one was given).
    Ok,
    /// Not a real ciphertext; the reasons in the order they were found (never empty).
    Bad(Vec<Reason>),
}

impl Verdict {
    pub fn is_ok(&self) -> bool {
        matches!(self, Verdict::Ok)
    }

    /// The reasons (empty for [`Verdict::Ok`]).
    pub fn reasons(&self) -> &[Reason] {
        match self {
            Verdict::Ok => &[],
            Verdict::Bad(r) => r,
        }
    }
}

/// Lenient decoding used only to look inside values that the controller would reject anyway
/// (url-safe or unpadded), so their structure can still be judged.
fn lenient_decode(s: &str) -> Option<Vec<u8>> {
    let std: String = s
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .filter(|c| *c != '=')
        .collect();
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(std)
        .ok()
}

/// Whole-value placeholder words (compared case-insensitively, ignoring `-`, `_`, `.`, spaces).
const WORDS: [(&str, &str); 14] = [
    ("replaceme", "REPLACE_ME"),
    ("changeme", "changeme"),
    ("todo", "TODO"),
    ("tbd", "TBD"),
    ("fixme", "FIXME"),
    ("placeholder", "placeholder"),
    ("dummy", "dummy"),
    ("redacted", "redacted"),
    ("secret", "secret"),
    ("password", "password"),
    ("encrypted", "encrypted"),
    ("sealed", "sealed"),
    ("null", "null"),
    ("none", "none"),
];

/// The length of the longest of [`WORDS`] (all ASCII: bytes are characters).
const LONGEST_WORD: usize = {
    let (mut i, mut n) = (0, 0);
    while i < WORDS.len() {
        if WORDS[i].0.len() > n {
            n = WORDS[i].0.len();
        }
        i += 1;
    }
    n
};

/// Words that mark a placeholder anywhere inside a value that already contains a character real
/// standard base64 never has.
const INNER_WORDS: [(&str, &str); 7] = [
    ("replace", "REPLACE_ME"),
    ("changeme", "changeme"),
    ("change_me", "changeme"),
    ("todo", "TODO"),
    ("fixme", "FIXME"),
    ("placeholder", "placeholder"),
    ("encrypted", "encrypted"),
];

fn literal(value: &str) -> Option<&'static str> {
    let v = value.trim();
    if v.starts_with('<') && v.ends_with('>') {
        return Some("<...>");
    }
    if v.contains("...") || v.contains('\u{2026}') {
        return Some("an ellipsis");
    }
    if (v.starts_with("${") || v.starts_with("$(")) || (v.starts_with("{{") && v.ends_with("}}")) {
        return Some("an unexpanded template variable");
    }
    let kept = || v.chars().filter(|c| !matches!(c, '-' | '_' | '.' | ' '));
    // A value longer than every word can be none of them when it holds an ASCII character other
    // than `x` and `*` (so it is no `xxx` or `***` either): most values are real ciphertexts
    // hundreds of characters long, not worth folding (a character lowercases to at least one
    // character).
    let mixed = kept().any(|c| c.is_ascii() && !matches!(c, 'x' | 'X' | '*'));
    if mixed && kept().nth(LONGEST_WORD).is_some() {
        return None;
    }
    let folded: String = kept().flat_map(char::to_lowercase).collect();
    if let Some((_, name)) = WORDS.iter().find(|(w, _)| *w == folded) {
        return Some(name);
    }
    if !folded.is_empty() && folded.chars().all(|c| c == 'x') {
        return Some("xxx");
    }
    if !folded.is_empty() && folded.chars().all(|c| c == '*') {
        return Some("***");
    }
    None
}

/// A placeholder word inside a value that contains a character real standard base64 never has
/// (`REPLACE_WITH_SEALED_VALUE`, `<your-encrypted-value>`).
///
/// Only asked of values that do not decode to a ciphertext-shaped byte string: a real ciphertext
/// pasted in url-safe base64 has `-` and `_`, and its random letters spell `todo` now and then.
fn inner_word(value: &str) -> Option<&'static str> {
    let v = value.trim();
    let foreign = v
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '\n' | '\r')));
    if !foreign {
        return None;
    }
    let lower = v.to_lowercase();
    INNER_WORDS
        .iter()
        .find(|(w, _)| lower.contains(w))
        .map(|(_, name)| *name)
}

/// `value` without line breaks, blanks and tabs; borrowed when it has none (a value written on
/// one line).
fn without_blanks(value: &str) -> std::borrow::Cow<'_, str> {
    let blank = |c: char| matches!(c, '\n' | '\r' | ' ' | '\t');
    match value.contains(blank) {
        true => value
            .chars()
            .filter(|c| !blank(*c))
            .collect::<String>()
            .into(),
        false => value.into(),
    }
}

/// Classifies one `encryptedData` value.
///
/// `expected` is the environment certificate's public key when known: then the length prefix
/// must equal its modulus size, and the RSA block must be below its modulus. Without it, any of
/// [`PLAUSIBLE_KEY_BYTES`] is accepted.
pub fn classify(value: &str, expected: Option<&RsaPublicKey>) -> Verdict {
    if value.chars().all(|c| matches!(c, '\n' | '\r')) {
        return Verdict::Bad(vec![Reason::Empty]);
    }
    let mut reasons: Vec<Reason> = literal(value).map(Reason::Literal).into_iter().collect();
    let has_space = value.contains([' ', '\t']);
    let compact = without_blanks(value);
    let bytes = match GO_STD_ENCODING.decode(compact.as_bytes()) {
        Ok(b) => Some(b),
        Err(_) => {
            let urlsafe = compact.contains(['-', '_']) && !compact.contains(['+', '/']);
            let alphabet_ok = compact
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_' | '='));
            let decoded = if alphabet_ok && (urlsafe || !compact.contains(['-', '_'])) {
                lenient_decode(&compact)
            } else {
                None
            };
            match decoded {
                Some(b) if urlsafe => {
                    reasons.push(Reason::UrlSafeBase64);
                    if !compact.ends_with('=') && !compact.len().is_multiple_of(4) {
                        reasons.push(Reason::Unpadded);
                    }
                    Some(b)
                }
                Some(b) if !compact.contains('=') && !compact.len().is_multiple_of(4) => {
                    reasons.push(Reason::Unpadded);
                    Some(b)
                }
                _ => {
                    if !reasons.iter().any(|r| matches!(r, Reason::Literal(_))) {
                        reasons.push(Reason::NotBase64);
                    }
                    None
                }
            }
        }
    };
    if has_space && bytes.is_some() {
        reasons.push(Reason::Whitespace);
    }
    let ciphertext_shaped = bytes.as_deref().is_some_and(|b| {
        let mut shape = Vec::new();
        structure(b, None, &mut shape);
        shape.is_empty()
    });
    if let Some(bytes) = bytes {
        structure(&bytes, expected, &mut reasons);
    }
    if !ciphertext_shaped
        && !reasons.iter().any(|r| matches!(r, Reason::Literal(_)))
        && let Some(name) = inner_word(value)
    {
        // A placeholder word says more than "not base64", as for whole-value literals above.
        reasons.retain(|r| *r != Reason::NotBase64);
        reasons.push(Reason::Literal(name));
    }
    // A value that is no plausible ciphertext at all is a placeholder and nothing else: how it
    // is encoded, or which key size its first bytes announce, says nothing about a value that
    // was never sealed (one `placeholder-ciphertext` finding per key, not a pair with
    // `invalid-ciphertext` or `ciphertext-key-size-mismatch`).
    if reasons.iter().any(|r| r.kind() == Kind::Placeholder) {
        reasons.retain(|r| r.kind() == Kind::Placeholder);
    }
    if reasons.is_empty() {
        Verdict::Ok
    } else {
        Verdict::Bad(reasons)
    }
}

/// Checks the decoded layout: length prefix, minimum length, the RSA block.
fn structure(bytes: &[u8], expected: Option<&RsaPublicKey>, reasons: &mut Vec<Reason>) {
    let [hi, lo, rest @ ..] = bytes else {
        reasons.push(Reason::NoLengthPrefix);
        return;
    };
    let k = usize::from(u16::from_be_bytes([*hi, *lo]));
    let expected_k = expected.map(RsaPublicKey::size);
    let plausible = PLAUSIBLE_KEY_BYTES.contains(&k) || expected_k == Some(k);
    if !plausible {
        reasons.push(Reason::ImplausibleLengthPrefix(k));
        return;
    }
    if let Some(e) = expected_k
        && e != k
    {
        reasons.push(Reason::KeySizeMismatch {
            found: k,
            expected: e,
        });
    }
    let min = 2 + k + GCM_TAG;
    if bytes.len() < min {
        reasons.push(Reason::TooShort {
            len: bytes.len(),
            min,
        });
    }
    let block = &rest[..k.min(rest.len())];
    let longest = block.split(|b| *b != 0).map(<[u8]>::len).max().unwrap_or(0);
    if longest >= ZERO_RUN {
        reasons.push(Reason::ZeroRun(longest));
    }
    if let Some(key) = expected
        && key.size() == k
        && block.len() == k
    {
        let n = key.modulus();
        // Both big-endian and k bytes long after left-padding n: byte order is numeric order.
        let mut padded = vec![0u8; k.saturating_sub(n.len())];
        padded.extend_from_slice(n);
        if block >= padded.as_slice() {
            reasons.push(Reason::NotBelowModulus);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn fake(k: u16, fill: u8, extra: usize) -> Vec<u8> {
        let mut v = k.to_be_bytes().to_vec();
        v.extend((0..usize::from(k)).map(|i| fill ^ u8::try_from(i % 251).unwrap()));
        v.extend(std::iter::repeat_n(7u8, GCM_TAG + extra));
        v
    }

    #[test]
    fn plausible_random_layout_is_ok() {
        for k in [256u16, 384, 512] {
            let v = b64(&fake(k, 0x5a, 3));
            assert_eq!(classify(&v, None), Verdict::Ok, "k={k}");
            let folded = format!("{}\n{}\r\n", &v[..40], &v[40..]);
            assert_eq!(classify(&folded, None), Verdict::Ok);
        }
    }

    /// Values longer than every placeholder word are still `xxx` / `***` when they hold nothing
    /// else (the shortcut that skips folding long values must not skip them), and a long value
    /// with another character is none.
    #[test]
    fn long_runs_of_x_and_stars_are_placeholders() {
        for (v, want) in [
            ("x".repeat(40), "xxx"),
            ("xX-x".repeat(10), "xxx"),
            ("*".repeat(40), "***"),
        ] {
            assert_eq!(literal(&v), Some(want), "{v}");
        }
        assert_eq!(literal(&format!("{}y", "x".repeat(40))), None);
    }

    #[test]
    fn url_safe_ciphertext_spelling_a_placeholder_word_is_not_a_placeholder() {
        let v = b64(&fake(256, 0x5a, 3)).replace('+', "-").replace('/', "_");
        // Two 4-character groups in the RSA block: one spells `todo`, one carries the url-safe
        // alphabet. Each group decodes to 3 bytes, so the layout stays a plausible ciphertext.
        let url = format!("{}todo{}a-b_{}", &v[..40], &v[44..80], &v[84..]);
        let reasons = classify(&url, None).reasons().to_vec();
        assert!(reasons.contains(&Reason::UrlSafeBase64), "{reasons:?}");
        assert!(!reasons.iter().any(|r| matches!(r, Reason::Literal(_))));
        // The same word in a value that is no ciphertext is still a placeholder.
        assert_eq!(
            classify("sealed-value-todo", None).reasons(),
            [Reason::Literal("TODO")]
        );
    }

    #[test]
    fn reasons() {
        let r = |v: &str| classify(v, None).reasons().to_vec();
        assert_eq!(r(""), vec![Reason::Empty]);
        assert_eq!(r("<encrypted>"), vec![Reason::Literal("<...>")]);
        assert!(r("AgAAAA...").contains(&Reason::Literal("an ellipsis")));
        assert_eq!(r("REPLACE_ME"), vec![Reason::Literal("REPLACE_ME")]);
        assert!(r("changeme").contains(&Reason::Literal("changeme")));
        assert!(
            r("AgBy3i4OJSWK+PiTySYZZA==")
                .iter()
                .any(|x| matches!(x, Reason::TooShort { .. }))
        );
        let real = fake(512, 0x33, 10);
        let v = b64(&real);
        let url = v.replace('+', "-").replace('/', "_");
        if url != v {
            assert!(r(&url).contains(&Reason::UrlSafeBase64));
        }
        let unpadded = b64(&fake(512, 0x33, 11));
        assert!(unpadded.ends_with('='));
        assert_eq!(r(unpadded.trim_end_matches('=')), vec![Reason::Unpadded]);
        assert_eq!(
            r(&format!("{} {}", &v[..10], &v[10..])),
            vec![Reason::Whitespace]
        );
        let mut zeros = fake(512, 0x33, 1);
        zeros[100..120].fill(0);
        assert_eq!(r(&b64(&zeros)), vec![Reason::ZeroRun(20)]);
        let mut bad_k = fake(512, 0x33, 1);
        bad_k[1] = 1;
        assert_eq!(r(&b64(&bad_k)), vec![Reason::ImplausibleLengthPrefix(513)]);
        let truncated = &fake(512, 0x33, 0)[..300];
        assert!(matches!(
            r(&b64(truncated))[..],
            [Reason::TooShort { len: 300, min: 530 }]
        ));
        assert_eq!(r("QQ=="), vec![Reason::NoLengthPrefix]);
        assert_eq!(r("not base64!"), vec![Reason::NotBase64]);
    }

    /// Issue 17: a placeholder is one `placeholder-ciphertext` finding, never paired with an
    /// encoding or key-size reason, whatever alphabet the marker happens to use.
    #[test]
    fn issue_17_placeholders_are_only_placeholders() {
        let real = b64(&fake(512, 0x33, 10));
        let k4096 = None::<&RsaPublicKey>;
        for v in [
            "REGENERATE_WITH_kubeseal",
            "<sealed>",
            "CHANGEME",
            "AgAAAA...",
            "AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "sealed-by-ci_later",
            "AgBy3i4OJSWK+PiTySYZZA",
            "Ag By3i4OJSWK+PiTySYZZA==",
            &real[..40],
        ] {
            let verdict = classify(v, k4096);
            let kinds: Vec<Kind> = verdict.reasons().iter().map(Reason::kind).collect();
            assert!(!kinds.is_empty(), "{v:?} is not flagged");
            assert!(
                kinds.iter().all(|k| *k == Kind::Placeholder),
                "{v:?}: {:?}",
                verdict.reasons()
            );
        }
        // A structurally real value keeps its encoding reasons (they are `invalid-ciphertext`).
        let unpadded = b64(&fake(512, 0x33, 11));
        let kinds: Vec<Kind> = classify(unpadded.trim_end_matches('='), None)
            .reasons()
            .iter()
            .map(Reason::kind)
            .collect();
        assert_eq!(kinds, vec![Kind::Invalid]);
    }

    #[test]
    fn reasons_never_quote_the_value() {
        let sentinel = "SENTINEL_x9";
        for r in classify(&format!("<{sentinel}>"), None).reasons() {
            assert!(!r.to_string().contains(sentinel));
        }
    }
}
