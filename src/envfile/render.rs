//! Writing entries back as a kustomize `envs:` file.
//!
//! Owns the one-line-per-entry output and the refusal of entries the dialect cannot carry.
//! It must not write files (`fsio` does) and must never put a value into an error.

use std::collections::HashSet;

use zeroize::Zeroizing;

use super::EnvError;
use super::scan::{BOM, MAX_LINE_BYTES, is_go_space};
use crate::secret::SecretValue;

/// Renders `(key, value)` pairs as `KEY=value\n` lines that [`super::parse`] (and kustomize)
/// read back as exactly the same keys, values and order.
///
/// The dialect has no quoting or escapes, so this refuses an entry whose key is empty, contains
/// `=`, `\n` or `\r`, starts with whitespace, `#` or a BOM; a value that contains `\n` or `\r` or
/// is not UTF-8; a line over 65535 bytes; or a repeated key. The output holds secrets and is
/// wiped when dropped.
pub fn render<'a, I>(entries: I) -> Result<Zeroizing<Vec<u8>>, EnvError>
where
    I: IntoIterator<Item = (&'a str, &'a SecretValue)>,
{
    let mut out = Zeroizing::new(Vec::new());
    let mut seen = HashSet::new();
    for (key, value) in entries {
        let refuse = |reason| EnvError::Unrepresentable {
            key: key.to_owned(),
            reason,
        };
        check_key(key).map_err(refuse)?;
        let bytes = value.expose_secret();
        if bytes.contains(&b'\n') {
            return Err(refuse("its value contains a line feed"));
        }
        if bytes.contains(&b'\r') {
            return Err(refuse("its value contains a carriage return"));
        }
        if std::str::from_utf8(bytes).is_err() {
            return Err(refuse("its value is not valid utf-8"));
        }
        if key.len() + 1 + bytes.len() > MAX_LINE_BYTES {
            return Err(refuse("the line would exceed 65535 bytes"));
        }
        if !seen.insert(key) {
            return Err(refuse("the key is repeated"));
        }
        out.reserve(key.len() + bytes.len() + 2);
        out.extend_from_slice(key.as_bytes());
        out.push(b'=');
        out.extend_from_slice(bytes);
        out.push(b'\n');
    }
    Ok(out)
}

fn check_key(key: &str) -> Result<(), &'static str> {
    match key.chars().next() {
        None => Err("the key is empty"),
        Some(c) if is_go_space(c) => Err("the key starts with whitespace"),
        Some('#') => Err("the key starts with '#'"),
        Some(_) if key.as_bytes().starts_with(BOM) => Err("the key starts with a byte order mark"),
        Some(_) if key.contains('=') => Err("the key contains '='"),
        Some(_) if key.contains(['\n', '\r']) => Err("the key contains a line break"),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use proptest::prelude::*;

    fn sv(b: &[u8]) -> SecretValue {
        SecretValue::from_slice(b)
    }

    #[test]
    fn round_trips_tricky_values() {
        let items: Vec<(&str, SecretValue)> = vec![
            ("A", sv(b"")),
            ("B", sv(b"  padded  ")),
            ("C", sv(b"\"quoted\"")),
            ("D", sv(b"a=b # not a comment")),
            ("export E", sv(b"x")),
            ("F ", sv(b" y")),
            ("G", sv("ünïcødé\u{A0}".as_bytes())),
            ("H", sv(b"#hash")),
        ];
        let out = render(items.iter().map(|(k, v)| (*k, v))).expect("renders");
        let back = parse(&out).expect("parses");
        assert_eq!(back.len(), items.len());
        for (e, (k, v)) in back.entries.iter().zip(&items) {
            assert_eq!(e.key, *k);
            assert_eq!(&e.value, v);
        }
    }

    #[test]
    fn refuses_what_cannot_round_trip() {
        let v = sv(b"sentinel");
        for key in [
            "",
            " A",
            "#A",
            "A=B",
            "A\nB",
            "A\rB",
            "\u{FEFF}A",
            "\u{3000}A",
        ] {
            let e = render([(key, &v)]).expect_err(key);
            assert!(!e.to_string().contains("sentinel"));
        }
        for value in [&b"sentinel\n"[..], b"sentinel\r", b"a\rb", b"\xff"] {
            let v = sv(value);
            let e = render([("K", &v)]).expect_err("bad value");
            assert!(!e.to_string().contains("sentinel"), "{e}");
        }
        let e = render([("K", &v), ("K", &v)]).expect_err("duplicate");
        assert!(e.to_string().contains("repeated"));
        let long = sv(&vec![b'x'; MAX_LINE_BYTES]);
        assert!(render([("K", &long)]).is_err());
    }

    proptest! {
        #[test]
        fn render_then_parse_is_identity(
            items in proptest::collection::vec((".{0,12}", ".{0,24}"), 0..8)
        ) {
            let values: Vec<(String, SecretValue)> =
                items.into_iter().map(|(k, v)| (k, sv(v.as_bytes()))).collect();
            if let Ok(out) = render(values.iter().map(|(k, v)| (k.as_str(), v))) {
                let back = parse(&out).expect("rendered output parses");
                prop_assert_eq!(back.len(), values.len());
                for (e, (k, v)) in back.entries.iter().zip(&values) {
                    prop_assert_eq!(&e.key, k);
                    prop_assert_eq!(&e.value, v);
                }
            }
        }
    }
}
