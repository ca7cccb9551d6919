//! Fuzz target: the ciphertext/placeholder classifier.
//!
//! Properties: `classify` never panics, with or without an expected key; a `Bad` verdict has at
//! least one reason; no reason's text quotes the value; and a value really sealed for the key
//! (the input bytes as plaintext) is always `Ok`.
#![no_main]

use emp_seal::cert::Certificate;
use emp_seal::sealedsecret::ciphertext::{Verdict, classify};
use libfuzzer_sys::fuzz_target;

static CERT_PEM: &[u8] = include_bytes!("../../tests/fixtures/certs/rsa-2048-cert.pem");

fuzz_target!(|data: &[u8]| {
    let cert = Certificate::from_pem(CERT_PEM).expect("fixture certificate parses");
    let key = cert.public_key();
    let text = String::from_utf8_lossy(data);
    for expected in [None, Some(key)] {
        let v = classify(&text, expected);
        if let Verdict::Bad(reasons) = &v {
            assert!(!reasons.is_empty(), "a bad verdict names a reason");
            // Reason texts are fixed lowercase phrases: a value made only of such characters
            // (e.g. `the value is not b`, an early finding of this very oracle) may match one.
            let phrase_like = text
                .trim()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || " ,.;:'()`/-".contains(c));
            if text.trim().len() >= 12 && !phrase_like {
                for r in reasons {
                    assert!(
                        !r.to_string().contains(text.trim()),
                        "a reason quotes the value"
                    );
                }
            }
        }
    }
    // A real ciphertext of these bytes is never flagged (one in four inputs: RSA is slow).
    if data.first().is_some_and(|b| b % 4 == 0) {
        let sealed = emp_seal::crypto::seal(key, b"ns/name", data).expect("seal");
        let sealed = emp_seal::crypto::encode_value(&sealed);
        let v = classify(&sealed, Some(key));
        assert!(v.is_ok(), "real ciphertext flagged: {:?}", v.reasons());
    }
});
