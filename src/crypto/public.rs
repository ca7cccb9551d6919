//! An RSA public key as a certificate carries it: read once from its DER `SubjectPublicKeyInfo`
//! by the `rsa` crate, then used by value (size, modulus) and for sealing.
//!
//! Encodings: RFC 5280 section 4.1 (`SubjectPublicKeyInfo`), RFC 8017 appendix A.1.1
//! (`RSAPublicKey`), RFC 3279 section 2.3.1 (rsaEncryption's parameters are NULL).

use rsa::pkcs1::RsaPublicKeyRef;
use rsa::pkcs8::DecodePublicKey as _;
use rsa::traits::PublicKeyParts as _;
use x509_cert::der::Decode as _;
use x509_cert::spki::SubjectPublicKeyInfoRef;

use super::{KeyRejected, MAX_KEY_BITS, MIN_KEY_BITS};

/// The rsaEncryption object identifier (RFC 8017 appendix A.1).
pub(crate) const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

/// An RSA public key of [`MIN_KEY_BITS`] to [`MAX_KEY_BITS`] bits, checked when read by the `rsa`
/// crate (rsaEncryption with NULL parameters, an odd modulus, an odd exponent from 3 to 2^33 - 1
/// below the modulus).
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    key: rsa::PublicKey,
    spki_der: Vec<u8>,
    /// Big-endian, without leading zero bytes.
    modulus: Box<[u8]>,
    /// Big-endian, without leading zero bytes.
    exponent: Box<[u8]>,
}

impl std::fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RsaPublicKey")
            .field("bits", &self.bits())
            .field("exponent", &be_to_u64(&self.exponent))
            .finish_non_exhaustive()
    }
}

impl RsaPublicKey {
    /// Reads the RSA key of a DER `SubjectPublicKeyInfo` (a certificate's, or the body of a
    /// `PUBLIC KEY` PEM block).
    ///
    /// # Errors
    /// [`KeyRejected::TooSmall`] / [`KeyRejected::TooLarge`] for a modulus outside
    /// [`MIN_KEY_BITS`]..=[`MAX_KEY_BITS`]; [`KeyRejected::Invalid`] naming what else is wrong
    /// (not rsaEncryption, not DER, numbers the `rsa` crate refuses).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyRejected> {
        // The size is judged first, from the encoding, so that the refusal can name it: the `rsa`
        // crate reports every refusal, a 16384-bit key included, as one "malformed key" error.
        check_bits(spki_modulus_bits(der)?)?;
        let key = rsa::PublicKey::from_public_key_der(der)
            .map_err(|e| KeyRejected::Invalid(format!("the rsa crate refused it: {e}").into()))?;
        Ok(Self {
            modulus: key.n_bytes(),
            exponent: key.e_bytes(),
            spki_der: der.to_vec(),
            key,
        })
    }

    /// The DER `SubjectPublicKeyInfo` the key was read from.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The modulus, big-endian, without leading zero bytes.
    pub fn modulus(&self) -> &[u8] {
        &self.modulus
    }

    /// The public exponent, big-endian, without leading zero bytes.
    pub fn exponent(&self) -> &[u8] {
        &self.exponent
    }

    pub fn bits(&self) -> usize {
        be_bits(&self.modulus)
    }

    /// Modulus size in bytes: the length of every RSA ciphertext for this key.
    pub fn size(&self) -> usize {
        self.modulus.len()
    }

    /// The key as the `rsa` crate holds it, for sealing.
    pub(crate) fn rsa(&self) -> &rsa::PublicKey {
        &self.key
    }
}

/// The modulus size of the RSA key in a DER `SubjectPublicKeyInfo`.
fn spki_modulus_bits(der: &[u8]) -> Result<usize, KeyRejected> {
    let invalid = |why: String| KeyRejected::Invalid(why.into());
    let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|e| invalid(e.to_string()))?;
    if spki.algorithm.oid.to_string() != OID_RSA_ENCRYPTION {
        return Err(invalid(format!(
            "the key's algorithm is {}, not rsaEncryption",
            spki.algorithm.oid
        )));
    }
    let raw = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| invalid("the key's bit string is not whole bytes".to_owned()))?;
    let key = RsaPublicKeyRef::from_der(raw).map_err(|e| invalid(e.to_string()))?;
    Ok(be_bits(key.modulus.as_bytes()))
}

/// Refuses a modulus of `bits` outside [`MIN_KEY_BITS`]..=[`MAX_KEY_BITS`].
pub(crate) fn check_bits(bits: usize) -> Result<(), KeyRejected> {
    if bits < MIN_KEY_BITS {
        return Err(KeyRejected::TooSmall { bits });
    }
    if bits > MAX_KEY_BITS {
        return Err(KeyRejected::TooLarge { bits });
    }
    Ok(())
}

/// A big-endian number without its leading zero bytes.
pub(crate) fn trim_zeros(be: &[u8]) -> &[u8] {
    &be[be.iter().position(|&b| b != 0).unwrap_or(be.len())..]
}

/// The bit length of a big-endian number.
pub(crate) fn be_bits(be: &[u8]) -> usize {
    let digits = trim_zeros(be);
    digits
        .first()
        .map_or(0, |&top| digits.len() * 8 - top.leading_zeros() as usize)
}

/// The exponent as a number, if it fits in 64 bits.
fn be_to_u64(be: &[u8]) -> Option<u64> {
    (be.len() <= 8).then(|| be.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_count_from_the_top_set_bit() {
        assert_eq!(be_bits(&[0x80; 256]), 2048);
        assert_eq!(be_bits(&[0x01, 0xff]), 9);
        assert_eq!(be_bits(&[0x00, 0x01, 0xff]), 9);
        assert_eq!(be_bits(&[0x7f; 512]), 4095);
        assert_eq!(be_bits(&[]), 0);
    }
}
