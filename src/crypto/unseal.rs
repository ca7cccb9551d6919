//! The private-key side of the scheme: opening sealed values with the controller's keys
//! (recovery, `unseal`, and a reseal that keeps values whose plaintext did not change).
//!
//! Every private-key operation goes through AWS-LC (`aws-lc-rs`), whose RSA decryption is
//! blinded and constant-time. The `rsa` crate, which parses certificates' public keys, is never
//! given a private key: its private-key operations have a known timing side channel with no fixed
//! release (RUSTSEC-2023-0071, "Marvin"; deny.toml).
//!
//! Upstream: sealed-secrets `pkg/crypto/crypto.go` `HybridDecrypt`, and the controller's loop over
//! all its keys (`pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go` `Unseal`).

use aws_lc_rs::aead::{
    AES_128_GCM, AES_192_GCM, AES_256_GCM, Aad, Algorithm, LessSafeKey, Nonce, UnboundKey,
};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use rayon::prelude::*;
use zeroize::Zeroizing;

use super::{CryptoError, KeyRejected, LENGTH_PREFIX_BYTES, ZERO_NONCE, decode_value};
use crate::secret::SecretValue;

/// DER of the `AlgorithmIdentifier` for rsaEncryption (OID 1.2.840.113549.1.1.1, NULL
/// parameters), as PKCS#8 names an RSA key (RFC 8017 appendix A.1, RFC 5208).
const RSA_ENCRYPTION_ALGORITHM_ID: [u8; 15] = [
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];

/// DER of `version INTEGER 0`, the first field of a PKCS#8 v1 `PrivateKeyInfo`.
const PKCS8_V1_VERSION: [u8; 3] = [0x02, 0x01, 0x00];

/// An RSA private key prepared for unsealing: parsed and checked once by AWS-LC (which verifies
/// the key's components are consistent), then used for every value.
///
/// Holds no copy of the key outside AWS-LC's own structures, which `OPENSSL_free` wipes when the
/// key is dropped (aws-lc `crypto/mem.c`). `Debug` shows only the key size.
pub struct UnsealingKey {
    oaep: OaepPrivateDecryptingKey,
    /// The public half as a DER `SubjectPublicKeyInfo`: identifies the key without exposing it.
    public_der: Vec<u8>,
    bits: usize,
}

impl std::fmt::Debug for UnsealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnsealingKey")
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

impl UnsealingKey {
    /// Reads a DER PKCS#8 v1 `PrivateKeyInfo` holding an RSA key (PEM label `PRIVATE KEY`).
    ///
    /// # Errors
    /// [`KeyRejected`] naming why AWS-LC refused it: not valid DER, not RSA,
    /// inconsistent components, or a modulus outside 2048..=8192 bits (the sizes certificates
    /// are accepted with, `cert::MIN_KEY_BITS`..=`cert::MAX_KEY_BITS`).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyRejected> {
        let private = PrivateDecryptingKey::from_pkcs8(der)
            .map_err(|e| KeyRejected(rejection(e.description_()).into()))?;
        let bits = private.key_size_bits();
        let public_der = private
            .public_key()
            .as_der()
            .map_err(|_| KeyRejected("its public key cannot be encoded".into()))?
            .as_ref()
            .to_vec();
        let oaep = OaepPrivateDecryptingKey::new(private)
            .map_err(|_| KeyRejected("rsa-oaep refused the key".into()))?;
        Ok(Self {
            oaep,
            public_der,
            bits,
        })
    }

    /// Reads a DER PKCS#1 `RSAPrivateKey` (PEM label `RSA PRIVATE KEY`: the controller's
    /// `tls.key`). AWS-LC reads private keys as PKCS#8, so the bytes are wrapped in a
    /// `PrivateKeyInfo` first, in a buffer that is wiped when dropped.
    ///
    /// # Errors
    /// As [`UnsealingKey::from_pkcs8_der`].
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyRejected> {
        Self::from_pkcs8_der(&wrap_pkcs1_in_pkcs8(der))
    }

    /// The modulus size in bits.
    pub fn key_bits(&self) -> usize {
        self.bits
    }

    /// The public half as a DER `SubjectPublicKeyInfo` (compare it with a certificate's).
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_der
    }

    /// RSA-OAEP(SHA-256, MGF1-SHA-256, `label`) decryption of one wrapped session key; `None` on
    /// any failure, so that no detail (padding or label) escapes.
    fn open_session_key(&self, label: &[u8], rsa_ct: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let mut out = Zeroizing::new(vec![0u8; self.oaep.min_output_size()]);
        let len = self
            .oaep
            .decrypt(&OAEP_SHA256_MGF1SHA256, rsa_ct, &mut out, Some(label))
            .ok()?
            .len();
        out.truncate(len);
        Some(out)
    }
}

/// A human reading of AWS-LC's `KeyRejected` reasons (aws-lc-rs `src/error.rs`).
fn rejection(reason: &str) -> &'static str {
    match reason {
        // AWS-LC checks the components agree while parsing (RSA_check_key), and reports a key
        // whose do not as an encoding error too.
        "InvalidEncoding" => "bad DER, or components that do not agree",
        "WrongAlgorithm" => "not an RSA key",
        "InconsistentComponents" => "its components are inconsistent",
        "TooSmall" => "the modulus is under 2048 bits",
        "TooLarge" => "the modulus is over 8192 bits",
        _ => "AWS-LC refused the key",
    }
}

/// PKCS#1 `RSAPrivateKey` DER → PKCS#8 v1 `PrivateKeyInfo` DER:
/// `SEQUENCE { INTEGER 0, AlgorithmIdentifier rsaEncryption, OCTET STRING pkcs1 }` (RFC 5208).
/// The content is not inspected here; AWS-LC parses it.
fn wrap_pkcs1_in_pkcs8(pkcs1: &[u8]) -> Zeroizing<Vec<u8>> {
    let octets_len = 1 + der_length_len(pkcs1.len()) + pkcs1.len();
    let body_len = PKCS8_V1_VERSION.len() + RSA_ENCRYPTION_ALGORITHM_ID.len() + octets_len;
    // Sized up front: growing would reallocate and leave an unwiped copy of the key behind.
    let mut out = Zeroizing::new(Vec::with_capacity(1 + der_length_len(body_len) + body_len));
    out.push(0x30);
    push_der_length(&mut out, body_len);
    out.extend_from_slice(&PKCS8_V1_VERSION);
    out.extend_from_slice(&RSA_ENCRYPTION_ALGORITHM_ID);
    out.push(0x04);
    push_der_length(&mut out, pkcs1.len());
    out.extend_from_slice(pkcs1);
    out
}

/// The big-endian bytes of `len` without leading zeros (none for 0).
fn significant_bytes(len: usize) -> impl Iterator<Item = u8> {
    len.to_be_bytes().into_iter().skip_while(|&b| b == 0)
}

/// Bytes the DER definite-length encoding of `len` takes.
fn der_length_len(len: usize) -> usize {
    if len < 0x80 {
        1
    } else {
        1 + significant_bytes(len).count()
    }
}

/// Appends the DER definite-length encoding of `len` (X.690 8.1.3: short form under 128, else
/// the count of big-endian length bytes with the top bit set, then those bytes).
fn push_der_length(out: &mut Vec<u8>, len: usize) {
    match u8::try_from(len) {
        Ok(short) if short < 0x80 => out.push(short),
        _ => {
            // At most size_of::<usize>() (8) length bytes: the count fits the low 7 bits.
            let count = significant_bytes(len).count();
            out.push(0x80 | u8::try_from(count).unwrap_or(0x7f));
            out.extend(significant_bytes(len));
        }
    }
}

/// Unseals one raw value by trying every key in turn, like the controller does.
///
/// # Errors
/// [`CryptoError::NoKeys`] for an empty key list; otherwise any failure is
/// [`CryptoError::NoKeyCouldDecrypt`], with no detail on which step failed.
pub fn unseal(
    keys: &[UnsealingKey],
    label: &[u8],
    value: &[u8],
) -> Result<SecretValue, CryptoError> {
    if keys.is_empty() {
        return Err(CryptoError::NoKeys);
    }
    keys.iter()
        .find_map(|k| hybrid_decrypt(k, label, value))
        .ok_or(CryptoError::NoKeyCouldDecrypt)
}

/// [`decode_value`] then [`unseal`].
///
/// # Errors
/// As both.
pub fn unseal_base64(
    keys: &[UnsealingKey],
    label: &[u8],
    text: &str,
) -> Result<SecretValue, CryptoError> {
    let raw = decode_value(text)?;
    unseal(keys, label, &raw)
}

/// [`unseal_base64`] for many values under one label, spread over the cores with rayon (one RSA
/// private-key operation per value and key tried: about 1.5 ms at 4096 bits, so even two values
/// repay starting the thread pool). The results are in input order.
pub fn unseal_many_base64<S: AsRef<str> + Sync>(
    keys: &[UnsealingKey],
    label: &[u8],
    texts: &[S],
) -> Vec<Result<SecretValue, CryptoError>> {
    let one = |t: &S| unseal_base64(keys, label, t.as_ref());
    if texts.len() < 2 {
        return texts.iter().map(one).collect();
    }
    texts.par_iter().map(one).collect()
}

/// One attempt with one key; `None` on any failure so that no detail escapes.
fn hybrid_decrypt(key: &UnsealingKey, label: &[u8], value: &[u8]) -> Option<SecretValue> {
    let (len_bytes, rest) = value.split_first_chunk::<LENGTH_PREFIX_BYTES>()?;
    let rsa_len = usize::from(u16::from_be_bytes(*len_bytes));
    if rest.len() < rsa_len {
        return None;
    }
    let (rsa_ct, gcm_ct) = rest.split_at(rsa_len);
    let session_key = key.open_session_key(label, rsa_ct)?;
    // Go's aes.NewCipher accepts 16-, 24- and 32-byte keys, so the controller would open values
    // whose session key is AES-128 or AES-192 too; kubeseal itself always writes 32 bytes.
    let algorithm: &'static Algorithm = match session_key.len() {
        16 => &AES_128_GCM,
        24 => &AES_192_GCM,
        32 => &AES_256_GCM,
        _ => return None,
    };
    gcm_open(algorithm, &session_key, gcm_ct)
}

/// Opens AES-GCM `ciphertext || tag` under the all-zero nonce (each session key seals one value).
fn gcm_open(
    algorithm: &'static Algorithm,
    session_key: &[u8],
    gcm_ct: &[u8],
) -> Option<SecretValue> {
    let cipher = LessSafeKey::new(UnboundKey::new(algorithm, session_key).ok()?);
    let mut buf = Zeroizing::new(gcm_ct.to_vec());
    let plain_len = cipher
        .open_in_place(
            Nonce::assume_unique_for_key(ZERO_NONCE),
            Aad::empty(),
            &mut buf,
        )
        .ok()?
        .len();
    buf.truncate(plain_len);
    Some(SecretValue::new(std::mem::take(&mut *buf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_use_the_short_form_under_128_and_minimal_long_forms_above() {
        let enc = |len: usize| {
            let mut v = Vec::new();
            push_der_length(&mut v, len);
            assert_eq!(
                v.len(),
                der_length_len(len),
                "length of the encoding of {len}"
            );
            v
        };
        assert_eq!(enc(0), [0x00]);
        assert_eq!(enc(127), [0x7f]);
        assert_eq!(enc(128), [0x81, 0x80]);
        assert_eq!(enc(255), [0x81, 0xff]);
        assert_eq!(enc(256), [0x82, 0x01, 0x00]);
        assert_eq!(enc(2349), [0x82, 0x09, 0x2d]);
        assert_eq!(enc(65_536), [0x83, 0x01, 0x00, 0x00]);
    }

    /// The DER inside a one-block PEM file.
    fn pem_der(pem: &str) -> Vec<u8> {
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap()
    }

    #[test]
    fn wrapping_pkcs1_gives_the_pkcs8_document_openssl_wrote_for_the_same_key() {
        // The two fixtures are one key, written by OpenSSL as PKCS#8 and as PKCS#1.
        let pkcs8 = pem_der(include_str!("../../tests/fixtures/keys/rsa-2048-key.pem"));
        let pkcs1 = pem_der(include_str!(
            "../../tests/fixtures/keys/rsa-2048-key.pkcs1.pem"
        ));
        assert!(pkcs1.len() > 255, "exercises the two-byte long form");
        let wrapped = wrap_pkcs1_in_pkcs8(&pkcs1);
        assert_eq!(*wrapped, pkcs8);
        assert_eq!(
            wrapped.len(),
            wrapped.capacity(),
            "sized exactly: never reallocated"
        );
    }

    #[test]
    fn refusals_name_the_reason() {
        let pkcs1 = pem_der(include_str!(
            "../../tests/fixtures/keys/rsa-2048-key.pkcs1.pem"
        ));
        let reason = |r: Result<UnsealingKey, KeyRejected>| match r {
            Err(why) => why.reason().to_owned(),
            Ok(key) => panic!("expected a refusal, got {key:?}"),
        };
        assert_eq!(
            reason(UnsealingKey::from_pkcs8_der(&pkcs1)),
            "bad DER, or components that do not agree"
        );
        assert_eq!(
            reason(UnsealingKey::from_pkcs1_der(&pkcs1[..pkcs1.len() - 1])),
            "bad DER, or components that do not agree"
        );
        // Flip one bit in the last byte (inside the CRT coefficient): well-formed DER whose
        // components no longer agree. AWS-LC checks them (RSA_check_key) and refuses the key.
        let mut bad = pkcs1.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(
            reason(UnsealingKey::from_pkcs1_der(&bad)),
            "bad DER, or components that do not agree"
        );
    }

    #[test]
    fn debug_shows_the_size_and_nothing_of_the_key() {
        let der = pem_der(include_str!("../../tests/fixtures/keys/rsa-2048-key.pem"));
        let key = UnsealingKey::from_pkcs8_der(&der).unwrap();
        assert_eq!(format!("{key:?}"), "UnsealingKey { bits: 2048, .. }");
        assert_eq!(key.key_bits(), 2048);
    }
}
