//! Rule `sealed-with-demo-certificate`: under `--release ENV`, a `SealedSecret` of ENV was
//! sealed with emp-seal's demo certificate, whose private key is published: its values are
//! readable by anyone. Judged two ways, so that it does not matter which `--cert` path sealed
//! it, which tool did, or what ENV's `sealing-cert.pem` is now:
//!
//! - the recorded fingerprint (`emp-seal.dev/cert-sha256`) is a demo certificate's: one finding
//!   for the SealedSecret, at the record;
//! - otherwise each value ENV renders (a patch's too) is tried with the published demo key: one
//!   whose session key it unwraps, under any label, was sealed for it (a value sealed by
//!   `kubeseal --cert`, which records nothing). One finding per value, at its key.
//!
//! Fires only under `--release` (an error an allow comment cannot suppress there,
//! `rules::RELEASE_UNSUPPRESSIBLE`); outside a release gate the demo is expected.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use super::model::sealed_certs;
use super::sealed_values;
use super::{Context, View};
use crate::crypto::UnsealingKey;
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "sealed-with-demo-certificate",
    summary: "Under --release, a SealedSecret was sealed with the demo certificate (its record says so, or the published demo key opens a value)",
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

/// The demo certificate's private key, published beside it on purpose (the demo is unsealed
/// offline); the binary carries it to recognise values sealed for it.
const DEMO_KEY_PEM: &[u8] = include_bytes!("../../tests/fixtures/demo/paper-sealing-key.pem");

/// The embedded demo key, parsed once. It is a constant of the binary (a unit test loads it), so
/// failing to load it is a broken build, not a reason to skip the check.
fn demo_key() -> &'static UnsealingKey {
    static KEY: OnceLock<UnsealingKey> = OnceLock::new();
    KEY.get_or_init(|| {
        crate::keys::load_private_keys(DEMO_KEY_PEM, "the demo key")
            .ok()
            .and_then(|keys| keys.into_iter().next())
            .expect("invariant: the embedded demo key loads")
    })
}

/// Reports the release environment's SealedSecrets that record a demo certificate, and its
/// other values the demo key opens.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let mut out = Vec::new();
    if !cx.release {
        return out;
    }
    let demo = demo_fingerprints(cx);
    // (file, name, namespace) as written of each SealedSecret reported by its record: one file
    // may hold a name in several namespaces, and only the one whose record says demo is covered.
    let mut recorded = BTreeSet::new();
    for ov in cx.overlays() {
        for rec in sealed_certs(cx, ov) {
            let Some(sha256) = rec.sha256.as_ref().filter(|s| demo.contains(*s)) else {
                continue;
            };
            let message = format!(
                "overlay {}: SealedSecret `{}` was sealed with the demo certificate (sha256 {}), whose private key is public: anyone can read its values",
                ov.name,
                rec.src.name_in_file,
                crate::cert::short_fingerprint(sha256)
            );
            out.push(Finding::new(&META, rec.location(cx), message));
            recorded.insert((
                rec.src.path().clone(),
                rec.src.name_in_file.clone(),
                rec.src.namespace_in_file.clone(),
            ));
        }
    }
    let key = demo_key();
    out.extend(sealed_values::check_with(cx, &META, |_, v| {
        let (file, name, namespace) = v.written_in();
        let written = (file.to_owned(), name.to_owned(), namespace.map(str::to_owned));
        let opened = v.checked()
            && !recorded.contains(&written)
            && v.text()
                .and_then(|t| crate::crypto::decode_value(t).ok())
                .is_some_and(|raw| key.wraps_session_key(&raw));
        if opened {
            vec!["sealed with the demo certificate: its private key is published, so anyone can read this value".to_owned()]
        } else {
            Vec::new()
        }
    }));
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

    #[test]
    fn the_demo_key_is_the_demo_certificates() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let pem = std::fs::read(root.join("tests/fixtures/demo/paper-sealing-cert.pem"));
        let cert = crate::cert::Certificate::from_pem(&pem.expect("shipped demo certificate"));
        let key = demo_key();
        let cert = cert.expect("parses");
        let sealed = crate::crypto::seal(cert.public_key(), b"any/label", b"v").expect("seals");
        assert!(key.wraps_session_key(&sealed));
    }
}
