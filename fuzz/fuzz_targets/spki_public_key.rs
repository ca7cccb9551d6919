//! Fuzz target: emp-seal's RSA public-key reader (`crypto::RsaPublicKey::from_spki_der`), the
//! code that reads every certificate's key, checked against two independent implementations.
//!
//! Properties: never panics; an accepted key reads back from its own DER to the same key; an
//! accepted key of 2048 to 8192 bits is accepted by AWS-LC for sealing (the certificate reader
//! relies on it); and within the sizes the RustCrypto `rsa` crate takes (up to 4096 bits), the
//! two readers accept exactly the same keys, with the same numbers.
#![no_main]

use emp_seal::crypto::{RsaPublicKey, SealingKey};
use libfuzzer_sys::fuzz_target;
use rsa::pkcs8::DecodePublicKey as _;
use rsa::traits::PublicKeyParts as _;

fuzz_target!(|data: &[u8]| {
    let ours = RsaPublicKey::from_spki_der(data);
    if let Ok(key) = &ours {
        let again = RsaPublicKey::from_spki_der(key.spki_der()).expect("reads back");
        assert_eq!(&again, key);
        if (2048..=8192).contains(&key.bits()) {
            assert!(
                SealingKey::from_spki_der(data).is_ok(),
                "AWS-LC refuses a {}-bit key emp-seal accepts",
                key.bits()
            );
        }
    }
    let theirs = rsa::PublicKey::from_public_key_der(data);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.modulus(), &b.n_bytes()[..], "same modulus");
            assert_eq!(a.exponent(), &b.e_bytes()[..], "same exponent");
        }
        (Err(e), Ok(_)) => panic!("the rsa crate accepts a key emp-seal refuses: {e}"),
        (Ok(a), Err(_)) if (2048..=4096).contains(&a.bits()) => {
            panic!("emp-seal accepts a {}-bit key the rsa crate refuses", a.bits())
        }
        _ => {}
    }
});
