//! Fuzz target: the in-place rewrite, structure-aware.
//!
//! The input drives a generator of supported `SealedSecret` layouts and an edit plan
//! (`rewrite_model.rs`); `apply` must succeed, and the output must satisfy the rewrite oracle:
//! it parses, holds the planned values and annotations, and every byte outside them is unchanged.
//! Inputs starting with `0xFF` are instead read as raw YAML (the rest up to a NUL byte) with a
//! generated plan: there `apply` may refuse, but whatever it returns must pass the same oracle.
#![no_main]

#[path = "rewrite_model.rs"]
mod rewrite_model;

use emp_seal::sealedsecret::{SealedSecretFile, apply};
use libfuzzer_sys::fuzz_target;
use rewrite_model::{Src, check_rewrite, gen_layout, gen_plan};

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&0xFF) {
        let body = &data[1..];
        let cut = body.iter().position(|b| *b == 0).unwrap_or(body.len());
        let Ok(text) = std::str::from_utf8(&body[..cut]) else {
            return;
        };
        let Ok(file) = SealedSecretFile::parse(text) else {
            return;
        };
        let Some((doc, _)) = file.sealed_secrets().next() else {
            return;
        };
        let mut src = Src::new(body.get(cut + 1..).unwrap_or(&[]));
        let plan = gen_plan(&mut src, text, doc);
        if let Ok(out) = apply(text, doc, &plan) {
            if let Err(e) = check_rewrite(text, doc, &plan, &out) {
                panic!("{e}\n--- old\n{text}\n--- plan\n{plan:?}\n--- new\n{out}");
            }
        }
        return;
    }
    let mut src = Src::new(data);
    let layout = gen_layout(&mut src);
    if let Err(e) = SealedSecretFile::parse(&layout.text) {
        panic!("generated layout refused: {e}\n{}", layout.text);
    }
    let plan = gen_plan(&mut src, &layout.text, layout.doc);
    let out = match apply(&layout.text, layout.doc, &plan) {
        Ok(out) => out,
        Err(e) => panic!(
            "apply refused a supported layout: {e}\n--- old\n{}\n--- plan\n{plan:?}",
            layout.text
        ),
    };
    if let Err(e) = check_rewrite(&layout.text, layout.doc, &plan, &out) {
        panic!(
            "{e}\n--- old\n{}\n--- plan\n{plan:?}\n--- new\n{out}",
            layout.text
        );
    }
});
