//! The serial, non-cryptographic part of one `emp-seal paper --from FILE` run: loading the
//! overlay's kustomize model, reading its SealedSecret file, and the in-place rewrite with its
//! re-verification, for the shipped file (3 values) and for a file holding 100 sealed values.
//! Whole-process figures come from scripts/bench.sh; results go to docs/performance.md.

// criterion_group! generates an undocumented `pub fn benches`.

use std::path::Path;

use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use emp_seal::kustomize::Overlay;
use emp_seal::sealedsecret::{self, EditPlan, SealedSecretFile};

/// A SealedSecret holding `n` values the size of RSA-4096 ciphertexts of 24-byte secrets
/// (2 + 512 + 24 + 16 bytes, base64: 740 characters). Not real ciphertext: parsing only.
fn sealed_file(n: usize) -> String {
    let mut text = String::from(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: emp-secrets\n  namespace: emp-paper\nspec:\n  encryptedData:\n",
    );
    for i in 0..n {
        text.push_str(&format!("    KEY_{i:03}: {}\n", fake_ciphertext(i)));
    }
    text.push_str(
        "  template:\n    metadata:\n      name: emp-secrets\n      namespace: emp-paper\n",
    );
    text
}

/// Base64 of 554 deterministic bytes: the length of a sealed 24-byte value under RSA-4096.
fn fake_ciphertext(seed: usize) -> String {
    let bytes: Vec<u8> = (0..554usize)
        .map(|j| u8::try_from((j * 31 + seed * 7) % 251).expect("below 251"))
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A plan that replaces every value of `file` (what a full reseal does).
fn reseal_plan(text: &str) -> EditPlan {
    let file = SealedSecretFile::parse(text).expect("parses");
    let (_, doc) = file.sealed_secrets().next().expect("one SealedSecret");
    EditPlan {
        set: doc
            .encrypted_data
            .iter()
            .enumerate()
            .map(|(i, e)| (e.key.clone(), fake_ciphertext(i + 1000)))
            .collect(),
        ..EditPlan::default()
    }
}

fn bench_plan(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    c.bench_function("kustomize: load the paper overlay", |b| {
        b.iter(|| Overlay::load(root, "paper").expect("paper loads"));
    });

    let shipped = std::fs::read_to_string(root.join("k8s/overlays/paper/sealedsecret.yaml"))
        .expect("shipped SealedSecret");
    let hundred = sealed_file(100);
    for (name, text) in [("shipped (3 values)", &shipped), ("100 values", &hundred)] {
        c.bench_function(&format!("sealedsecret: parse, {name}"), |b| {
            b.iter(|| SealedSecretFile::parse(std::hint::black_box(text)).expect("parses"));
        });
        let plan = reseal_plan(text);
        c.bench_function(&format!("sealedsecret: apply + verify, {name}"), |b| {
            b.iter(|| sealedsecret::apply(std::hint::black_box(text), 0, &plan).expect("applies"));
        });
    }
}

criterion_group!(benches, bench_plan);
criterion_main!(benches);
