//! The private-key side of the scheme: opening sealed values with the controller's keys
//! (recovery, `unseal`, and a reseal that keeps values whose plaintext did not change).
//!
//! RSA-OAEP decryption is the `rsa` crate's, blinded with the OS RNG. Its private-key operation
//! is not constant-time (RUSTSEC-2023-0071, "Marvin"): that matters to a service that decrypts
//! ciphertexts an attacker submits and times, not to this offline use on the key holder's own
//! machine (docs/security.md, deny.toml).
//!
//! Upstream: sealed-secrets `pkg/crypto/crypto.go` `HybridDecrypt`, and the controller's loop over
//! all its keys (`pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go` `Unseal`).

use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::aes::{Aes128, Aes192, Aes256};
use aes_gcm::{AesGcm, Tag};
use crypto_bigint::BoxedUint;
use rand::rngs::SysRng;
use rayon::prelude::*;
use rsa::Oaep;
use rsa::pkcs1::RsaPrivateKeyRef;
use rsa::pkcs8::{EncodePublicKey as _, PrivateKeyInfoRef};
use rsa::traits::{PrivateKeyParts as _, PublicKeyParts as _};
use sha2::Sha256;
use x509_cert::der::Decode as _;
use zeroize::Zeroizing;

use super::public::{OID_RSA_ENCRYPTION, be_bits, check_bits, trim_zeros};
use super::{
    CryptoError, GCM_TAG_BYTES, KeyRejected, LENGTH_PREFIX_BYTES, ZERO_NONCE, decode_value,
};
use crate::secret::SecretValue;

/// An RSA private key prepared for unsealing: parsed and checked once by the `rsa` crate (which
/// verifies the key's components are consistent), then used for every value.
///
/// The `rsa` crate wipes the key's numbers when it is dropped. `Debug` shows only the key size.
pub struct UnsealingKey {
    key: rsa::PrivateKey,
    /// The public half as a DER `SubjectPublicKeyInfo`: identifies the key without exposing it.
    public_der: Vec<u8>,
}

impl std::fmt::Debug for UnsealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnsealingKey")
            .field("bits", &self.key_bits())
            .finish_non_exhaustive()
    }
}

impl UnsealingKey {
    /// Reads a DER PKCS#8 v1 `PrivateKeyInfo` holding an RSA key (PEM label `PRIVATE KEY`).
    ///
    /// # Errors
    /// [`KeyRejected`] naming why: not valid DER, not RSA, inconsistent components, or a modulus
    /// outside [`super::MIN_KEY_BITS`]..=[`super::MAX_KEY_BITS`] (the sizes certificates are accepted with).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyRejected> {
        let info = PrivateKeyInfoRef::from_der(der).map_err(|e| not_der(&e))?;
        if info.algorithm.oid.to_string() != OID_RSA_ENCRYPTION {
            return Err(KeyRejected::Invalid(
                format!("not an RSA key (algorithm {})", info.algorithm.oid).into(),
            ));
        }
        Self::from_pkcs1_der(info.private_key.as_bytes())
    }

    /// Reads a DER PKCS#1 `RSAPrivateKey` (PEM label `RSA PRIVATE KEY`: the controller's
    /// `tls.key`).
    ///
    /// # Errors
    /// As [`UnsealingKey::from_pkcs8_der`].
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyRejected> {
        let parts = RsaPrivateKeyRef::from_der(der).map_err(|e| not_der(&e))?;
        // Judged before the `rsa` crate sees the key, so that the refusal can name the size.
        check_bits(be_bits(parts.modulus.as_bytes()))?;
        let stored_crt = [
            parts.exponent1.as_bytes(),
            parts.exponent2.as_bytes(),
            parts.coefficient.as_bytes(),
        ];
        let disagree = || KeyRejected::Invalid("its components do not agree".into());
        let key = rsa::PrivateKey::try_from(parts).map_err(|_| disagree())?;
        // The `rsa` crate checks n, e, d and the primes, and computes the CRT values itself from
        // the primes. Stored ones that differ mean a damaged file: refuse it as OpenSSL would.
        if !crt_values_agree(&key, stored_crt) {
            return Err(disagree());
        }
        let public_der = key
            .to_public_key()
            .to_public_key_der()
            .map_err(|_| KeyRejected::Invalid("its public key cannot be encoded".into()))?
            .into_vec();
        Ok(Self { key, public_der })
    }

    pub fn key_bits(&self) -> usize {
        be_bits(&self.key.n_bytes())
    }

    /// The public half as a DER `SubjectPublicKeyInfo` (compare it with a certificate's).
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_der
    }

    /// Whether the sealed value `value` (raw bytes) wraps its session key for this key, under
    /// whatever label it was sealed with: the RSA part is as long as the modulus, and its RSADP
    /// output is an OAEP encoding of a session key, whatever its label hashed to. For a
    /// published key only (the demo key): the RSA operation is not blinded and the padding
    /// check is not constant-time, since there is nothing secret to leak.
    pub fn wraps_session_key(&self, value: &[u8]) -> bool {
        let k = self.key.size();
        let Some((len_bytes, rest)) = value.split_first_chunk::<LENGTH_PREFIX_BYTES>() else {
            return false;
        };
        if usize::from(u16::from_be_bytes(*len_bytes)) != k || rest.len() < k {
            return false;
        }
        let Ok(c) = BoxedUint::from_be_slice(&rest[..k], self.key.n_bits_precision()) else {
            return false;
        };
        let Ok(m) = rsa::hazmat::rsa_decrypt_and_check(&self.key, None::<&mut SysRng>, &c) else {
            return false;
        };
        let mut m = Zeroizing::new(m.to_be_bytes());
        // I2OSP(m, k): the number is below the modulus, so only zero bytes lie before the last k.
        let Some(start) = m.len().checked_sub(k) else {
            return false;
        };
        super::oaep::wraps_session_key(&mut m[start..])
    }

    /// RSA-OAEP(SHA-256, MGF1-SHA-256, `label`) decryption of one wrapped session key, blinded;
    /// `None` on any failure, so that no detail (padding or label) escapes.
    fn open_session_key(&self, label: &[u8], rsa_ct: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        self.key
            .decrypt_blinded(&mut SysRng, Oaep::<Sha256>::new_with_label(label), rsa_ct)
            .ok()
            .map(Zeroizing::new)
    }
}

/// Whether the key file's stored `exponent1`, `exponent2` and `coefficient` (RFC 8017 A.1.2) are
/// the values the `rsa` crate computed from the primes.
fn crt_values_agree(key: &rsa::PrivateKey, stored: [&[u8]; 3]) -> bool {
    let computed = [
        key.dp().map(|v| Zeroizing::new(v.to_be_bytes())),
        key.dq().map(|v| Zeroizing::new(v.to_be_bytes())),
        key.crt_coefficient()
            .map(|v| Zeroizing::new(v.to_be_bytes())),
    ];
    computed.iter().zip(stored).all(|(ours, theirs)| {
        ours.as_ref()
            .is_some_and(|ours| trim_zeros(ours) == trim_zeros(theirs))
    })
}

/// A DER decoding error, without the bytes it quotes (none today, but the input is a key).
fn not_der(e: &x509_cert::der::Error) -> KeyRejected {
    KeyRejected::Invalid(format!("not valid DER ({})", e.kind()).into())
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
/// private-key operation per value and key tried, which costs more than starting the thread
/// pool, so even two values repay it). The results are in input order.
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
    match session_key.len() {
        16 => gcm_open::<AesGcm<Aes128, U12>>(&session_key, gcm_ct),
        24 => gcm_open::<AesGcm<Aes192, U12>>(&session_key, gcm_ct),
        32 => gcm_open::<AesGcm<Aes256, U12>>(&session_key, gcm_ct),
        _ => None,
    }
}

/// Opens AES-GCM `ciphertext || tag` under the all-zero nonce (each session key seals one value).
fn gcm_open<A>(session_key: &[u8], gcm_ct: &[u8]) -> Option<SecretValue>
where
    A: KeyInit + AeadInOut<NonceSize = U12, TagSize = U16>,
{
    let cipher = A::new_from_slice(session_key).ok()?;
    let split = gcm_ct.len().checked_sub(GCM_TAG_BYTES)?;
    let (body, tag) = gcm_ct.split_at(split);
    let tag = Tag::try_from(tag).ok()?;
    let mut buf = Zeroizing::new(body.to_vec());
    cipher
        .decrypt_inout_detached(&ZERO_NONCE.into(), &[], buf.as_mut_slice().into(), &tag)
        .ok()?;
    Some(SecretValue::new(std::mem::take(&mut *buf)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DER inside a one-block PEM file.
    fn pem_der(pem: &str) -> Vec<u8> {
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64).unwrap()
    }

    fn reason(r: Result<UnsealingKey, KeyRejected>) -> String {
        match r {
            Err(why) => why.to_string(),
            Ok(key) => panic!("expected a refusal, got {key:?}"),
        }
    }

    #[test]
    fn refusals_name_the_reason() {
        let pkcs1 = pem_der(include_str!(
            "../../tests/fixtures/keys/rsa-2048-key.pkcs1.pem"
        ));
        // PKCS#1 bytes where PKCS#8 is expected, and a truncated key: not DER of that shape.
        assert!(reason(UnsealingKey::from_pkcs8_der(&pkcs1)).starts_with("not valid DER"));
        assert!(
            reason(UnsealingKey::from_pkcs1_der(&pkcs1[..pkcs1.len() - 1]))
                .starts_with("not valid DER")
        );
        // Flip one bit in the middle of the key (inside the private exponent or a prime):
        // well-formed DER whose components no longer agree.
        let mut bad = pkcs1.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 1;
        assert_eq!(
            reason(UnsealingKey::from_pkcs1_der(&bad)),
            "its components do not agree"
        );
        // Flip one bit in the last byte, inside the stored CRT coefficient, which the `rsa`
        // crate itself would recompute and ignore: still refused.
        let mut bad = pkcs1.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(
            reason(UnsealingKey::from_pkcs1_der(&bad)),
            "its components do not agree"
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
