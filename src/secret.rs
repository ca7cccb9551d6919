//! Secret values: the only type that holds plaintext secret bytes.
//!
//! Owns zeroize-on-drop storage and a redacted `Debug`. It must not do I/O and must never gain
//! `Display`, `Serialize` or a derived `Clone`: every read of the bytes goes through
//! [`SecretValue::expose_secret`], which is easy to grep for.

use zeroize::Zeroizing;

/// Plaintext secret bytes, wiped from memory when dropped.
///
/// `Debug` prints `<redacted>`; there is deliberately no `Display`.
#[derive(PartialEq, Eq)]
pub struct SecretValue(Zeroizing<Vec<u8>>);

impl SecretValue {
    /// Wraps bytes that are already owned; they are wiped when the value is dropped.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Copies a byte slice into a new secret value.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self::new(bytes.to_vec())
    }

    /// The plaintext bytes. Every caller is a place where a secret is read: keep them few.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }

    /// Number of plaintext bytes (not secret in itself: ciphertext lengths reveal it too).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// An explicit copy; named so that duplication of secrets stays visible in review.
    pub fn duplicate(&self) -> Self {
        Self::from_slice(&self.0)
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `text` without its whitespace (base64 as a Secret's `data` may wrap it), in one buffer sized
/// up front and wiped when dropped: collecting into a growing `String` would free each smaller
/// copy of the secret unwiped.
pub fn compact_base64(text: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(text.len()));
    out.extend(text.chars().filter(|c| !c.is_whitespace()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let v = SecretValue::from_slice(b"hunter2-sentinel");
        let shown = format!("{v:?} {:?}", Some(&v));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"));
        assert_eq!(v.expose_secret(), b"hunter2-sentinel");
        assert_eq!(v.duplicate(), v);
    }
}
