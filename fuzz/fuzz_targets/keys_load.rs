//! Fuzz target: loading controller private keys (PEM PKCS#1/PKCS#8, key Secret YAML/JSON, List).
//!
//! Properties: `load_private_keys` never panics, and its error text never quotes the input
//! (the input is key material).
#![no_main]

use emp_seal::keys::load_private_keys;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = load_private_keys(data, "fuzz.pem") {
        let msg = e.to_string();
        let text = String::from_utf8_lossy(data);
        let t = text.trim();
        // An input made only of message-like characters may be a piece of the message itself
        // (`uzz.pem: no rsa private key`, an early finding of this very oracle).
        let phrase_like = t
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || " ,.;:'()`/_-".contains(c));
        if t.len() >= 16 && !phrase_like {
            assert!(!msg.contains(t), "error quotes the key file");
        }
    }
});
