//! An RSA public key as a certificate carries it: read and checked once from its DER
//! `SubjectPublicKeyInfo`, then used by value (size, modulus) and handed to AWS-LC for sealing.
//!
//! Encodings: RFC 5280 section 4.1 (`SubjectPublicKeyInfo`), RFC 8017 appendix A.1.1
//! (`RSAPublicKey`), RFC 3279 section 2.3.1 (rsaEncryption's parameters are NULL).

use x509_cert::der::asn1::UintRef;
use x509_cert::der::{Decode as _, Reader as _, SliceReader};
use x509_cert::spki::SubjectPublicKeyInfoRef;

use super::KeyRejected;

/// The rsaEncryption object identifier (RFC 8017 appendix A.1).
pub(crate) const OID_RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

/// The largest public exponent accepted: 2^33 - 1, the bound the common RSA implementations use
/// (Go's `crypto/rsa` takes up to 2^31 - 1, the `RustCrypto` `rsa` crate 2^33 - 1; controllers
/// use 65537).
const MAX_PUBLIC_EXPONENT: u64 = (1 << 33) - 1;

/// An RSA public key, checked when read: rsaEncryption with NULL parameters, a whole-byte key,
/// an odd modulus, and an odd exponent between 3 and 2^33 - 1 that is below the modulus. Its size
/// is the caller's to judge (certificates take 2048 to 8192 bits, `cert::MIN_KEY_BITS`).
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    spki_der: Vec<u8>,
    /// Big-endian, without leading zero bytes.
    modulus: Vec<u8>,
    /// Big-endian, without leading zero bytes.
    exponent: Vec<u8>,
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
    /// [`KeyRejected`] naming the first check that failed.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyRejected> {
        let bad = |reason: String| KeyRejected(reason.into());
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|e| bad(e.to_string()))?;
        if spki.algorithm.oid.to_string() != OID_RSA_ENCRYPTION {
            return Err(bad(format!(
                "the key's algorithm is {}, not rsaEncryption",
                spki.algorithm.oid
            )));
        }
        if !spki
            .algorithm
            .parameters
            .as_ref()
            .is_some_and(|p| p.is_null())
        {
            return Err(bad("the algorithm parameters are not NULL".to_owned()));
        }
        let raw = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| bad("the key's bit string is not whole bytes".to_owned()))?;
        let (modulus, exponent) = read_rsa_public_key(raw).map_err(|e| bad(e.to_string()))?;
        check_numbers(modulus, exponent).map_err(|reason| bad(reason.to_owned()))?;
        Ok(Self {
            spki_der: der.to_vec(),
            modulus: modulus.to_vec(),
            exponent: exponent.to_vec(),
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

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.modulus.first().map_or(0, |&top| {
            self.modulus.len() * 8 - top.leading_zeros() as usize
        })
    }

    /// Modulus size in bytes: the length of every RSA ciphertext for this key.
    pub fn size(&self) -> usize {
        self.modulus.len()
    }
}

/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`, both positive
/// (DER `INTEGER` read as unsigned, so a negative number is an error), nothing after it. Returns
/// both without leading zero bytes.
fn read_rsa_public_key(raw: &[u8]) -> Result<(&[u8], &[u8]), x509_cert::der::Error> {
    let mut reader = SliceReader::new(raw)?;
    let (n, e) = reader.sequence(|seq| {
        let n = UintRef::decode(seq)?;
        let e = UintRef::decode(seq)?;
        Ok::<_, x509_cert::der::Error>((n, e))
    })?;
    reader.finish()?;
    Ok((trim(n.as_bytes()), trim(e.as_bytes())))
}

/// `be` without leading zero bytes.
fn trim(be: &[u8]) -> &[u8] {
    &be[be.iter().position(|&b| b != 0).unwrap_or(be.len())..]
}

/// The exponent as a number, if it fits in 64 bits.
fn be_to_u64(be: &[u8]) -> Option<u64> {
    (be.len() <= 8).then(|| be.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// The checks every RSA implementation makes before it uses a public key (the `RustCrypto` `rsa`
/// crate's `PublicKey::new` makes these exact ones, rsa 0.10 `src/public_key.rs`): the modulus is
/// odd, the exponent is odd, at least 2 and at most 2^33 - 1, and below the modulus. Both
/// arguments are big-endian without leading zeros.
fn check_numbers(modulus: &[u8], exponent: &[u8]) -> Result<(), &'static str> {
    if modulus.last().is_none_or(|b| b & 1 == 0) {
        return Err("the modulus is even");
    }
    if exponent.last().is_none_or(|b| b & 1 == 0) {
        return Err("the public exponent is even");
    }
    if !be_to_u64(exponent).is_some_and(|e| (2..=MAX_PUBLIC_EXPONENT).contains(&e)) {
        return Err("the public exponent is out of range");
    }
    // Without leading zeros, a shorter number is smaller; at equal length big-endian byte order is
    // numeric order.
    if (exponent.len(), exponent) >= (modulus.len(), modulus) {
        return Err("the public exponent is not below the modulus");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_checks_agree_with_the_rsa_crate() {
        // The RustCrypto rsa crate, an implementation independent of this one, accepts a key
        // exactly when these checks pass.
        use rsa::BoxedUint;
        let mut n = vec![0xc5u8; 256];
        n[255] |= 1;
        for (e, ok) in [
            (&[0x01, 0x00, 0x01][..], true),
            (&[0x03][..], true),
            (&[0x01][..], false),
            (&[0x00][..], false),
            (&[][..], false),
            (&[0x01, 0x00, 0x00][..], false),
            (&[0x01, 0xff, 0xff, 0xff, 0xff][..], true),
            (&[0x02, 0x00, 0x00, 0x00, 0x01][..], false),
        ] {
            assert_eq!(check_numbers(&n, e).is_ok(), ok, "e = {e:02x?}");
            let built = rsa::PublicKey::new(
                BoxedUint::from_be_slice_vartime(&n),
                BoxedUint::from_be_slice_vartime(e),
            );
            assert_eq!(built.is_ok(), ok, "rsa crate, e = {e:02x?}");
        }
        let mut even = n.clone();
        even[255] &= !1;
        assert_eq!(
            check_numbers(&even, &[0x01, 0x00, 0x01]),
            Err("the modulus is even")
        );
        assert!(check_numbers(&[], &[0x01, 0x00, 0x01]).is_err());
        // A small odd modulus with a larger odd exponent.
        assert_eq!(
            check_numbers(&[0x0f], &[0x11]),
            Err("the public exponent is not below the modulus")
        );
        assert_eq!(
            check_numbers(&[0x11], &[0x11]),
            Err("the public exponent is not below the modulus")
        );
        assert!(check_numbers(&[0x13], &[0x11]).is_ok());
    }

    #[test]
    fn bits_count_from_the_top_set_bit() {
        let key = |modulus: Vec<u8>| RsaPublicKey {
            spki_der: Vec::new(),
            modulus,
            exponent: vec![3],
        };
        assert_eq!(key(vec![0x80; 256]).bits(), 2048);
        assert_eq!(key(vec![0x01, 0xff]).bits(), 9);
        assert_eq!(key(vec![0x7f; 512]).bits(), 4095);
        assert_eq!(key(Vec::new()).bits(), 0);
        assert_eq!(key(vec![0x80; 256]).size(), 256);
    }

    #[test]
    fn rsa_public_key_structure_is_strict() {
        // SEQUENCE { INTEGER 0x0d, INTEGER 3 }: well formed.
        assert_eq!(
            read_rsa_public_key(&[0x30, 0x06, 0x02, 0x01, 0x0d, 0x02, 0x01, 0x03]).unwrap(),
            (&[0x0d][..], &[0x03][..])
        );
        // A leading 0x00 that keeps a high bit positive is stripped.
        assert_eq!(
            read_rsa_public_key(&[0x30, 0x07, 0x02, 0x02, 0x00, 0x8d, 0x02, 0x01, 0x03])
                .unwrap()
                .0,
            &[0x8d][..]
        );
        for bad in [
            &[0x30, 0x03, 0x02, 0x01, 0x0d][..], // one integer
            &[0x30, 0x06, 0x02, 0x01, 0x8d, 0x02, 0x01, 0x03][..], // negative modulus
            &[0x30, 0x06, 0x02, 0x01, 0x0d, 0x02, 0x01, 0x03, 0x00][..], // trailing byte
            &[
                0x30, 0x09, 0x02, 0x01, 0x0d, 0x02, 0x01, 0x03, 0x02, 0x01, 0x03,
            ][..], // three
        ] {
            assert!(read_rsa_public_key(bad).is_err(), "{bad:02x?}");
        }
    }
}
