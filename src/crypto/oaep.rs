//! RSAES-OAEP encryption (RFC 8017 section 7.1.1) with SHA-256 for the digest and MGF1, over the
//! `rsa` crate's public key and `crypto-bigint`'s Montgomery arithmetic.
//!
//! Why not `rsa::PublicKey::encrypt`: it raises the padded message to the public exponent with a
//! constant-time 4-bit window over the exponent, about twice the modular multiplications that
//! square-and-multiply needs for the exponent 65537 every controller uses, and sealing is nothing
//! but this operation. The exponent is public, so walking its bits is safe; the message (which
//! holds the session key) is handled only by constant-time Montgomery operations and wiped.
//! Decryption stays the `rsa` crate's. The tests check every value against OpenSSL's OAEP
//! (`openssl pkeyutl`, Python's `cryptography`) and the PyPI peer.

use crypto_bigint::BoxedUint;
use crypto_bigint::modular::BoxedMontyForm;
use rand::TryRng as _;
use rand::rngs::SysRng;
use rsa::traits::PublicKeyParts as _;
use sha2::{Digest as _, Sha256};
use zeroize::{Zeroize as _, Zeroizing};

use super::{CryptoError, RsaPublicKey};

/// SHA-256's output length, `hLen`.
const H_LEN: usize = 32;

/// `RSAES-OAEP-ENCRYPT(key, msg, label)` with SHA-256 and MGF1-SHA-256: `k` bytes, `k` being the
/// modulus size in bytes.
pub(super) fn encrypt(
    key: &RsaPublicKey,
    label: &[u8],
    msg: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let (k, rsa) = (key.size(), key.rsa());
    let em = encode(k, label, msg)?;
    let mut m = BoxedUint::from_be_slice(&em, rsa.n_bits_precision())
        .map_err(|_| CryptoError::RsaEncrypt("the padded message does not fit".to_owned()))?;
    let mut base = BoxedMontyForm::new(m.clone(), rsa.n_params());
    m.zeroize();
    // Left to right over the public exponent's bits, after its top bit (RFC 8017 5.1.1 RSAEP).
    let mut acc = base.clone();
    let bits = key
        .exponent()
        .iter()
        .flat_map(|byte| (0..8).rev().map(move |i| (byte >> i) & 1 == 1))
        .skip_while(|&bit| !bit)
        .skip(1);
    for bit in bits {
        acc = acc.square();
        if bit {
            acc = acc.mul(&base);
        }
    }
    base.zeroize();
    let c = acc.retrieve().to_be_bytes();
    // I2OSP(c, k): the number is below the modulus, so only zero bytes lie before the last k.
    let start = c.len().checked_sub(k).ok_or_else(|| {
        CryptoError::RsaEncrypt(format!("{}-byte result for a {k}-byte modulus", c.len()))
    })?;
    Ok(c[start..].to_vec())
}

/// EME-OAEP encoding: `0x00 || maskedSeed || maskedDB`, `DB = lHash || PS || 0x01 || msg`.
fn encode(k: usize, label: &[u8], msg: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if msg.len() + 2 * H_LEN + 2 > k {
        return Err(CryptoError::RsaEncrypt(
            "the message is too long for the key".to_owned(),
        ));
    }
    let mut em = Zeroizing::new(vec![0u8; k]);
    let (seed, db) = em[1..].split_at_mut(H_LEN);
    SysRng
        .try_fill_bytes(seed)
        .map_err(|e| CryptoError::Rng(e.to_string()))?;
    db[..H_LEN].copy_from_slice(&Sha256::digest(label));
    let one = db.len() - msg.len() - 1;
    db[one] = 0x01;
    db[one + 1..].copy_from_slice(msg);
    mgf1_xor(db, seed);
    mgf1_xor(seed, db);
    Ok(em)
}

/// Whether `em` (`k` bytes, an RSADP output) is an EME-OAEP encoding with SHA-256 and MGF1 of a
/// session key (16, 24 or 32 bytes) under *some* label: RFC 8017 7.1.2 step 3 without comparing
/// `lHash`. A wrong key leaves random bytes, which pass with odds far below 2^-3000 (a zero first
/// byte, then hundreds of zero padding bytes).
///
/// Not constant-time, so only for a published key (the demo key): it would tell an attacker
/// timing a real controller key which ciphertexts pad well.
pub(super) fn wraps_session_key(em: &mut [u8]) -> bool {
    let Some((&mut first, rest)) = em.split_first_mut() else {
        return false;
    };
    if first != 0 || rest.len() < 2 * H_LEN + 1 {
        return false;
    }
    let (seed, db) = rest.split_at_mut(H_LEN);
    mgf1_xor(seed, db);
    mgf1_xor(db, seed);
    let after_hash = &db[H_LEN..];
    let Some(one) = after_hash.iter().position(|&b| b != 0) else {
        return false;
    };
    after_hash[one] == 0x01 && matches!(after_hash.len() - one - 1, 16 | 24 | 32)
}

/// `out ^= MGF1-SHA-256(seed, out.len())` (RFC 8017 appendix B.2.1).
fn mgf1_xor(out: &mut [u8], seed: &[u8]) {
    for (counter, chunk) in (0u32..).zip(out.chunks_mut(H_LEN)) {
        let mask = Sha256::new()
            .chain_update(seed)
            .chain_update(counter.to_be_bytes())
            .finalize();
        for (o, m) in chunk.iter_mut().zip(mask) {
            *o ^= m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mgf1_matches_its_definition_for_two_blocks() {
        // MGF1(seed, 40) = SHA-256(seed || 0) || SHA-256(seed || 1)[..8].
        let seed = b"seed";
        let mut out = [0u8; 40];
        mgf1_xor(&mut out, seed);
        let block = |c: u32| {
            Sha256::new()
                .chain_update(seed)
                .chain_update(c.to_be_bytes())
                .finalize()
        };
        assert_eq!(out[..32], block(0)[..]);
        assert_eq!(out[32..], block(1)[..8]);
    }

    #[test]
    fn an_encoding_is_recognised_whatever_its_label_and_nothing_else_is() {
        for (label, len) in [(&b"ns/name"[..], 32), (b"", 16), (b"ns", 24)] {
            let mut em = encode(512, label, &vec![7; len]).unwrap();
            assert!(wraps_session_key(&mut em), "{len}-byte message");
        }
        let mut long = encode(512, b"", &[7; 33]).unwrap();
        assert!(!wraps_session_key(&mut long), "not a session key's length");
        let mut flipped = encode(512, b"", &[7; 32]).unwrap();
        flipped[200] ^= 1;
        assert!(!wraps_session_key(&mut flipped), "a damaged encoding");
        assert!(!wraps_session_key(&mut [0u8; 512]), "zeros");
    }

    #[test]
    fn messages_longer_than_the_key_allows_are_refused() {
        assert!(encode(256, b"", &[0; 256 - 66]).is_ok());
        assert!(encode(256, b"", &[0; 256 - 65]).is_err());
    }
}
