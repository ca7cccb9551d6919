//! Rule `stale-certificate`: a `SealedSecret`'s recorded `emp-seal.dev/cert-sha256` differs from
//! the fingerprint of the overlay's current sealing certificate
//! (`k8s/overlays/<env>/sealing-cert.pem`): the values were sealed with a rotated or a wrong
//! certificate.
//!
//! Skipped when the overlay has no usable certificate or the file has no record. A warning by
//! default (the controller keeps old keys, so old values still decrypt); an error under
//! `--release`.

use super::Context;
use super::model::{recorded_certs, short_sha256};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "stale-certificate",
    summary: "A SealedSecret records a certificate fingerprint other than the environment's current certificate",
    default_severity: Severity::Warning,
    hint: "re-encrypt the values to the current certificate offline with `emp-seal reseal <env> --key OLD_KEY.pem`, or commit the certificate the values were sealed with",
    scope: RuleScope::Model,
};

/// Reports recorded fingerprints that differ from the overlay's certificate.
pub fn check(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for ov in cx.overlays() {
        let Some(cert_model) = &ov.cert else { continue };
        let Some(cert) = cert_model.certificate() else {
            continue;
        };
        let current = cert.sha256_fingerprint();
        for rec in recorded_certs(cx, ov) {
            if rec.sha256.eq_ignore_ascii_case(&current) {
                continue;
            }
            let message = format!(
                "overlay {}: SealedSecret `{}` was sealed with certificate sha256 {}..., but `{}` is {}...; re-encrypt offline with `emp-seal reseal {} --key OLD_KEY.pem` (the controller's key that sealed it)",
                ov.name,
                rec.src.name_in_file,
                short_sha256(&rec.sha256),
                cert_model.path,
                short_sha256(&current),
                ov.name
            );
            out.push(
                Finding::new(&META, rec.location(cx), message).related(super::locate::at_line(
                    cx,
                    &cert_model.path,
                    1,
                )),
            );
        }
    }
    out
}
