//! The kubeseal hybrid scheme: RSA-OAEP(SHA-256) wraps a fresh AES-256-GCM session key per value.
//!
//! Owns scope → OAEP label and the byte layout of one value. Pure bytes in, bytes out: no
//! filesystem, no YAML, no printing.
//! Upstream: sealed-secrets `pkg/crypto/crypto.go` (`HybridEncrypt`, `HybridDecrypt`) and
//! `pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go` (`EncryptionLabel`).

/// How widely a sealed value may be moved (sealed-secrets `SealingScope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Bound to one name in one namespace; label `<namespace>/<name>`. The default.
    Strict,
    /// Any name in one namespace; label `<namespace>`.
    NamespaceWide,
    /// Any name in any namespace; empty label.
    ClusterWide,
}

impl Scope {
    /// The kebab-case spelling used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Strict => "strict",
            Scope::NamespaceWide => "namespace-wide",
            Scope::ClusterWide => "cluster-wide",
        }
    }

    /// The scope [`Scope::as_str`] spells `text`; none for any other text.
    pub fn parse(text: &str) -> Option<Scope> {
        [Scope::Strict, Scope::NamespaceWide, Scope::ClusterWide]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// The OAEP label for this scope and identity.
    ///
    /// sealed-secrets `EncryptionLabel`: cluster-wide → empty, namespace-wide → namespace,
    /// strict → `namespace/name`.
    pub fn label(self, namespace: &str, name: &str) -> Vec<u8> {
        match self {
            Scope::Strict => format!("{namespace}/{name}").into_bytes(),
            Scope::NamespaceWide => namespace.as_bytes().to_vec(),
            Scope::ClusterWide => Vec::new(),
        }
    }

    /// The namespace a label for a Secret in `namespace` uses: empty for cluster-wide (which
    /// binds none), None when this scope binds a namespace and there is none.
    pub fn label_namespace(self, namespace: Option<&str>) -> Option<String> {
        match (namespace, self) {
            (Some(ns), _) => Some(ns.to_owned()),
            (None, Scope::ClusterWide) => Some(String::new()),
            (None, _) => None,
        }
    }
}

mod oaep;
mod public;
mod unseal;

pub use public::RsaPublicKey;
pub(crate) use public::{OID_RSA_ENCRYPTION, trim_zeros};
pub use unseal::{UnsealingKey, unseal, unseal_base64, unseal_many_base64};

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut as _, KeyInit as _};
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rand::TryRng as _;
use rand::rngs::SysRng;
use zeroize::Zeroizing;

use crate::secret::SecretValue;

/// The smallest RSA modulus emp-seal seals with or unseals with, in bits (controllers generate
/// 4096-bit keys).
pub const MIN_KEY_BITS: usize = 2048;

/// The largest RSA modulus emp-seal seals with or unseals with, in bits: the `rsa` crate's
/// default limit (rsa `src/public_key.rs` `PublicKey::MAX_SIZE`).
pub const MAX_KEY_BITS: usize = 8192;

/// Bytes in the AES-256 session key kubeseal generates for every value
/// (sealed-secrets `pkg/crypto/crypto.go` `sessionKeyBytes`).
pub const SESSION_KEY_BYTES: usize = 32;

/// Bytes in the AES-GCM authentication tag appended to the value's ciphertext.
pub const GCM_TAG_BYTES: usize = 16;

/// Bytes of the big-endian length prefix in front of the RSA ciphertext.
pub const LENGTH_PREFIX_BYTES: usize = 2;

/// The 12-byte all-zero GCM nonce. Safe only because every session key encrypts exactly one
/// value (sealed-secrets `pkg/crypto/crypto.go` `HybridEncrypt`: "Key is single-use, so nonce can be
/// zero").
const ZERO_NONCE: [u8; 12] = [0; 12];

/// Go's `base64.StdEncoding`: standard alphabet, `=` padding required, non-zero trailing bits
/// accepted (Go is not in strict mode).
pub(crate) const GO_STD_ENCODING: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical)
        .with_decode_allow_trailing_bits(true),
);

/// Errors from sealing or unsealing one value. Messages never contain plaintext or key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The operating system's random number generator could not supply a session key.
    #[error("the operating system random number generator failed: {0}")]
    Rng(String),
    /// RSA-OAEP refused to wrap the session key (a key this crate would not accept anyway).
    #[error("rsa-oaep encryption of the session key failed: {0}")]
    RsaEncrypt(String),
    /// AES-GCM refused the plaintext (over its 64 GiB limit).
    #[error("aes-gcm encryption failed: the value is too large")]
    AesEncrypt,
    #[error("no private keys to decrypt with")]
    NoKeys,
    /// No key could decrypt the value: too short, wrong label (scope, name or namespace), wrong
    /// key, or a corrupted ciphertext. Deliberately one message, like the controller's.
    #[error("no key could decrypt the value")]
    NoKeyCouldDecrypt,
    /// The sealed value is not standard padded base64 (Go's `base64.StdEncoding`).
    #[error("the sealed value is not valid padded standard base64")]
    Base64,
}

/// Why a key was refused, by [`RsaPublicKey::from_spki_der`] or [`UnsealingKey`]. The reason
/// names the structure only, never key material; callers put it in their own message, which
/// names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRejected {
    #[error("the modulus is under {MIN_KEY_BITS} bits")]
    TooSmall { bits: usize },
    #[error("the modulus is over {MAX_KEY_BITS} bits")]
    TooLarge { bits: usize },
    /// Anything else: not DER, not RSA, numbers that do not agree.
    #[error("{0}")]
    Invalid(std::borrow::Cow<'static, str>),
}

impl CryptoError {
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            CryptoError::NoKeyCouldDecrypt => Some(
                "check the scope, name and namespace the value was sealed for, and that the key \
                 set includes the key that sealed it",
            ),
            CryptoError::NoKeys => Some("pass at least one private key"),
            CryptoError::Base64 => Some(
                "sealed values are one padded standard-base64 string (alphabet +/, `=` padding)",
            ),
            _ => None,
        }
    }
}

/// A public key prepared for sealing, shared by every value sealed with it (including across
/// threads). The `rsa` crate prepares the modulus's Montgomery form once, when the key is read.
#[derive(Clone)]
pub struct SealingKey {
    key: RsaPublicKey,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingKey")
            .field("ciphertext_len", &self.ciphertext_len())
            .finish_non_exhaustive()
    }
}

impl SealingKey {
    pub fn new(key: &RsaPublicKey) -> Self {
        Self { key: key.clone() }
    }

    /// Modulus size in bytes: the length of every RSA ciphertext this key writes.
    pub fn ciphertext_len(&self) -> usize {
        self.key.size()
    }

    /// Seals one value under `label`, in kubeseal's exact byte layout.
    ///
    /// `u16 BE len(rsa_ct) || RSA-OAEP(SHA-256, MGF1-SHA-256, label)(session key) ||
    /// AES-256-GCM(session key, zero nonce, no AAD)(plaintext) || tag`, with a fresh 32-byte
    /// session key from the operating system for every call. The result is
    /// `2 + k + plaintext.len() + 16` bytes long, `k` being the modulus size in bytes.
    ///
    /// sealed-secrets `pkg/crypto/crypto.go` `HybridEncrypt`.
    ///
    /// # Errors
    /// [`CryptoError::Rng`] if the OS RNG fails; the other variants only for keys or values far
    /// outside what sealed-secrets supports.
    pub fn seal(&self, label: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut session_key = Zeroizing::new([0u8; SESSION_KEY_BYTES]);
        SysRng
            .try_fill_bytes(session_key.as_mut_slice())
            .map_err(|e| CryptoError::Rng(e.to_string()))?;

        let rsa_len = self.ciphertext_len();
        // Unreachable for keys of at most MAX_KEY_BITS (1,024 bytes), which every key is.
        let prefix = u16::try_from(rsa_len).map_err(|_| {
            CryptoError::RsaEncrypt(format!(
                "a {rsa_len}-byte modulus overflows the length prefix"
            ))
        })?;
        // An empty label is no label (sealed-secrets passes `[]byte{}` for cluster-wide; OAEP
        // hashes the empty string either way). The result is always `rsa_len` bytes long.
        let rsa_ct = oaep::encrypt(&self.key, label, session_key.as_slice())?;

        // One buffer: prefix, RSA ciphertext, then the plaintext copied in and encrypted in
        // place. Sized up front so that it never reallocates (which would leave an unwiped copy
        // of the plaintext behind), and wiped if anything fails before the copy has become
        // ciphertext.
        let total = LENGTH_PREFIX_BYTES + rsa_len + plaintext.len() + GCM_TAG_BYTES;
        let mut out = Zeroizing::new(Vec::with_capacity(total));
        out.extend_from_slice(&prefix.to_be_bytes());
        out.extend_from_slice(&rsa_ct);
        let body = out.len();
        out.extend_from_slice(plaintext);
        // aes-gcm's `zeroize` feature wipes the expanded key schedule when `cipher` is dropped.
        let cipher = Aes256Gcm::new_from_slice(session_key.as_slice())
            .map_err(|_| CryptoError::AesEncrypt)?;
        let tag = cipher
            .encrypt_inout_detached(&ZERO_NONCE.into(), &[], out[body..].as_mut().into())
            .map_err(|_| CryptoError::AesEncrypt)?;
        out.extend_from_slice(&tag);
        Ok(std::mem::take(&mut *out))
    }
}

/// Seals one value for `key` under `label`: [`SealingKey::seal`] with a key prepared for this one
/// call. Sealing several values, prepare the key once ([`SealingKey::new`]) or use
/// [`seal_many`].
///
/// # Errors
/// As [`SealingKey::seal`].
pub fn seal(key: &RsaPublicKey, label: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    SealingKey::new(key).seal(label, plaintext)
}

/// Up to this many values, [`seal_many`] seals on the calling thread: starting rayon's thread
/// pool (spawning threads, reading the cgroup CPU quota) costs more than sealing a few values.
const SEQUENTIAL_MAX: usize = 4;

/// Seals many values under one label in parallel (rayon; on the calling thread for up to
/// `SEQUENTIAL_MAX` (4) values), each with its own session key, as one line of base64 each. The
/// output is in input order.
///
/// # Errors
/// The first error any value hit, as [`SealingKey::seal`].
pub fn seal_many(
    key: &SealingKey,
    label: &[u8],
    plaintexts: &[SecretValue],
) -> Result<Vec<String>, CryptoError> {
    let one = |p: &SecretValue| key.seal(label, p.expose_secret()).map(|v| encode_value(&v));
    let sealed = crate::par::map(plaintexts, plaintexts.len() <= SEQUENTIAL_MAX, one);
    sealed.into_iter().collect()
}

/// Encodes raw value bytes as one line of padded standard base64.
pub fn encode_value(value: &[u8]) -> String {
    GO_STD_ENCODING.encode(value)
}

/// Decodes a sealed value's text the way the controller does (Go `base64.StdEncoding`):
/// `\r` and `\n` anywhere are ignored, padding is required, URL-safe characters and spaces are
/// rejected.
///
/// # Errors
/// [`CryptoError::Base64`].
pub fn decode_value(text: &str) -> Result<Vec<u8>, CryptoError> {
    let compact: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    GO_STD_ENCODING
        .decode(compact.as_bytes())
        .map_err(|_| CryptoError::Base64)
}

#[cfg(test)]
mod tests {
    use super::Scope;

    #[test]
    fn only_cluster_wide_labels_without_a_namespace() {
        assert_eq!(
            Scope::Strict.label_namespace(Some("ns")).as_deref(),
            Some("ns")
        );
        assert_eq!(
            Scope::ClusterWide.label_namespace(None).as_deref(),
            Some("")
        );
        assert_eq!(Scope::Strict.label_namespace(None), None);
        assert_eq!(Scope::NamespaceWide.label_namespace(None), None);
    }
}
