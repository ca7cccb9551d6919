//! Fuzz target: the YAML fast path against yaml_serde.
//!
//! Property: whenever `yamlfast::parse` returns a value, `yaml_serde` parses the same text to
//! the same value; whenever `yaml_serde` fails, `yamlfast::parse` returns `None`.
#![no_main]

use emp_seal::yamlfast;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(fast) = yamlfast::parse(text) {
        match yaml_serde::from_str::<yaml_serde::Value>(text) {
            Ok(slow) => assert_eq!(fast, slow, "different values"),
            Err(e) => panic!("fast path accepted what yaml_serde refuses: {e}"),
        }
    }
});
