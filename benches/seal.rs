//! Sealing throughput with a 4096-bit certificate (what a sealed-secrets controller generates):
//! one value with a prepared key, and 100 values through `seal_many` (rayon); and unsealing one
//! value with the 4096-bit private key (recovery, no-churn reseal). Results go to
//! docs/performance.md.

// criterion_group! generates an undocumented `pub fn benches`.

use criterion::{Criterion, criterion_group, criterion_main};
use emp_seal::cert::Certificate;
use emp_seal::crypto::{Scope, encode_value, seal_many, unseal};
use emp_seal::secret::SecretValue;

fn demo_cert() -> Certificate {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/demo/paper-sealing-cert.pem"
    );
    let pem = std::fs::read(path).expect("demo certificate fixture");
    Certificate::from_pem(&pem).expect("demo certificate parses")
}

fn bench_seal(c: &mut Criterion) {
    let cert = demo_cert();
    let key = cert.sealing_key();
    let label = Scope::Strict.label("emp-paper", "emp-secrets");
    let value = b"postgres://user:correct-horse-battery-staple@db:5432/app";

    c.bench_function("seal one value (rsa-4096)", |b| {
        b.iter(|| encode_value(&key.seal(&label, std::hint::black_box(value)).expect("seal")));
    });

    let values: Vec<SecretValue> = (0..100)
        .map(|i| SecretValue::new(format!("value-{i}-{}", "x".repeat(40)).into_bytes()))
        .collect();
    let mut group = c.benchmark_group("seal_many");
    group.sample_size(10);
    group.bench_function("100 values (rsa-4096)", |b| {
        b.iter(|| seal_many(key, &label, std::hint::black_box(&values)).expect("seal"));
    });
    group.finish();

    let keys = emp_seal::keys::load_private_keys(
        include_bytes!("../tests/fixtures/demo/paper-sealing-key.pem"),
        "demo key",
    )
    .expect("demo key loads");
    let sealed = key.seal(&label, value).expect("seal");
    c.bench_function("unseal one value (rsa-4096)", |b| {
        b.iter(|| unseal(&keys, &label, std::hint::black_box(&sealed)).expect("unseal"));
    });
}

criterion_group!(benches, bench_seal);
criterion_main!(benches);
