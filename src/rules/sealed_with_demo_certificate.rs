//! Rule `sealed-with-demo-certificate`: under `--release ENV`, a `SealedSecret` of ENV records
//! (`emp-seal.dev/cert-sha256`) that it was sealed with emp-seal's demo certificate, whose
//! private key is published: its values are readable by anyone. Judged by the recorded
//! fingerprint, so it does not matter which `--cert` path sealed it or what ENV's
//! `sealing-cert.pem` is now.
//!
//! Fires only under `--release` (an error an allow comment cannot suppress there,
//! `rules::RELEASE_UNSUPPRESSIBLE`); outside a release gate the demo is expected.

use std::collections::BTreeSet;

use super::Context;
use super::model::{recorded_certs, short_sha256};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "sealed-with-demo-certificate",
    summary: "Under --release, a SealedSecret records that it was sealed with the demo certificate",
    default_severity: Severity::Error,
    hint: "re-seal with the environment's controller certificate (kubeseal --fetch-cert, then emp-seal <env> --from FILE)",
    scope: RuleScope::Model,
};

/// SHA-256 (DER) of the demo certificate shipped in `tests/fixtures/demo/` and as the shipped
/// tree's `k8s/overlays/paper/sealing-cert.pem` (a unit test recomputes it from both files).
pub const DEMO_CERT_SHA256: &str =
    "319d78e0460fa240da401f5ac4134ddeac37a95409aaed5e2f7b21f22ec3ccde";

/// The demo fingerprints: the shipped one and those of any certificate in the tree carrying the
/// demo marker (`Certificate::is_demo`), lowercase.
fn demo_fingerprints(cx: &Context<'_>) -> BTreeSet<String> {
    cx.all_overlays()
        .iter()
        .filter_map(|ov| ov.cert.as_ref()?.certificate())
        .filter(|c| c.is_demo())
        .map(|c| c.sha256_fingerprint())
        .chain([DEMO_CERT_SHA256.to_owned()])
        .collect()
}

/// Reports the release environment's SealedSecrets sealed with a demo certificate.
pub fn check(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    if !cx.release {
        return out;
    }
    let demo = demo_fingerprints(cx);
    for ov in cx.overlays() {
        for rec in recorded_certs(cx, ov) {
            if !demo.contains(&rec.sha256) {
                continue;
            }
            let message = format!(
                "overlay {}: SealedSecret `{}` was sealed with the demo certificate (sha256 {}...), whose private key is public: anyone can read its values",
                ov.name,
                rec.src.name_in_file,
                short_sha256(&rec.sha256)
            );
            out.push(Finding::new(&META, rec.location(cx), message));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_fingerprint_is_the_shipped_demo_certificate() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for rel in [
            "tests/fixtures/demo/paper-sealing-cert.pem",
            "k8s/overlays/paper/sealing-cert.pem",
        ] {
            let pem = std::fs::read(root.join(rel)).expect("shipped demo certificate");
            let cert = crate::cert::Certificate::from_pem(&pem).expect("parses");
            assert!(cert.is_demo(), "{rel}");
            assert_eq!(cert.sha256_fingerprint(), DEMO_CERT_SHA256, "{rel}");
        }
    }
}
