//! Fuzz target: certificate parsing (PEM and DER).
//!
//! Properties: `Certificate::from_pem` and `Certificate::from_der` never panic; an accepted
//! certificate has an RSA key of 2048 to 8192 bits, answers every accessor without panicking,
//! and its DER parses again to the same fingerprint.
#![no_main]

use emp_seal::cert::{Certificate, MAX_KEY_BITS, MIN_KEY_BITS};
use libfuzzer_sys::fuzz_target;

fn exercise(c: &Certificate) {
    assert!(
        (MIN_KEY_BITS..=MAX_KEY_BITS).contains(&c.key_bits()),
        "accepted a {}-bit key",
        c.key_bits()
    );
    let fp = c.sha256_fingerprint();
    assert_eq!(fp.len(), 64);
    let _ = c.ssh_fingerprint();
    // The key read and checked by `from_der`: its size is the certificate's, and its encoding
    // reads back to the same key.
    assert_eq!(c.public_key().bits(), c.key_bits());
    let again = emp_seal::crypto::RsaPublicKey::from_spki_der(c.public_key_der())
        .expect("the accepted key reads again");
    assert_eq!(&again, c.public_key());
    let _ = c.subject();
    let _ = c.is_demo();
    for now in [0, c.not_before(), c.not_after(), u64::MAX] {
        let _ = c.check_time(now);
    }
    let _ = emp_seal::cert::rfc3339(c.not_after());
    let again = Certificate::from_der(c.der().to_vec()).expect("own DER parses again");
    assert_eq!(again.sha256_fingerprint(), fp);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Certificate::from_pem(data) {
        exercise(&c);
    }
    if let Ok(c) = Certificate::from_der(data.to_vec()) {
        exercise(&c);
    }
});
