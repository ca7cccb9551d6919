//! Fuzz target: the kustomize env-file parser, linter and renderer.
//!
//! Properties: `parse` and `lint` never panic; every entry's spans lie inside the input and hold
//! exactly its key and value; lint spans lie inside the input; and whatever `render` accepts
//! parses back to the same keys and values in the same order.
#![no_main]

use emp_seal::envfile::{lint, parse, render};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for l in lint(data) {
        assert!(
            l.span.start <= l.span.end && l.span.end <= data.len(),
            "lint span out of range"
        );
        assert!(l.line >= 1, "lint line is 1-based");
    }
    let Ok(file) = parse(data) else {
        return;
    };
    let mut last_line = 0;
    for e in &file.entries {
        assert!(
            e.line > last_line,
            "entries are in line order, one per line"
        );
        last_line = e.line;
        assert_eq!(
            &data[e.key_span.clone()],
            e.key.as_bytes(),
            "key span holds the key"
        );
        assert_eq!(
            &data[e.value_span.clone()],
            e.value.expose_secret(),
            "value span holds the value"
        );
        assert!(!e.key.is_empty(), "an empty key is dropped, never returned");
    }
    if let Ok(out) = render(file.entries.iter().map(|e| (e.key.as_str(), &e.value))) {
        let back = parse(&out).expect("rendered output parses");
        assert_eq!(
            back.len(),
            file.len(),
            "render round trip keeps every entry"
        );
        for (a, b) in back.entries.iter().zip(&file.entries) {
            assert_eq!(a.key, b.key);
            assert_eq!(a.value.expose_secret(), b.value.expose_secret());
        }
    }
});
