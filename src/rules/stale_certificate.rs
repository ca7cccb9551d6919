//! Rule `stale-certificate`: a `SealedSecret`'s recorded `emp-seal.dev/cert-sha256` differs from
//! the fingerprint of the overlay's current sealing certificate
//! (`k8s/overlays/<env>/sealing-cert.pem`): the values were sealed with a rotated or a wrong
//! certificate.
//!
//! Skipped when the overlay has no usable certificate. A warning by default (the controller keeps
//! old keys, so old values still decrypt); an error under `--release`. A file whose SealedSecrets
//! carry no record (sealed by kubeseal) cannot be judged: it gets one note saying its values'
//! certificate is not verified (a note, also under `--release`: nothing is known to be wrong).

use std::collections::BTreeMap;

use super::Context;
use super::locate::at_yaml;
use super::model::{recorded_certs, sealed_doc, sealed_sources, short_sha256};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};
use crate::sealedsecret::CERT_SHA256_ANNOTATION;
use crate::sealedsecret::ciphertext::{self, Kind};

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
        out.extend(unrecorded(cx, ov, &cert_model.path));
    }
    out
}

/// One note per file of `ov` whose SealedSecrets hold sealed values but no
/// `emp-seal.dev/cert-sha256` record: which certificate sealed them is not verified (a public
/// key shows only that a value fits its size; the controller's private key alone can tell).
fn unrecorded(cx: &Context<'_>, ov: &super::model::OverlayModel, cert_path: &str) -> Vec<Finding> {
    // File -> (document index and line of its first such SealedSecret, their names).
    let mut files: BTreeMap<String, ((usize, usize), Vec<String>)> = BTreeMap::new();
    for src in sealed_sources(&ov.overlay) {
        let Some(doc) = sealed_doc(cx, &src.path, &src.name_in_file, src.written_namespace())
        else {
            continue;
        };
        let sealed = doc.encrypted_data.iter().any(|e| {
            let verdict = ciphertext::classify(&e.value, None);
            !verdict
                .reasons()
                .iter()
                .any(|r| r.kind() == Kind::Placeholder)
        });
        if !sealed || doc.annotation(CERT_SHA256_ANNOTATION).is_some() {
            continue;
        }
        let entry = files
            .entry(src.path.clone())
            .or_insert(((src.doc_index, src.line), Vec::new()));
        if !entry.1.contains(&src.name_in_file) {
            entry.1.push(src.name_in_file);
        }
    }
    files
        .into_iter()
        .map(|(path, ((doc_index, _), names))| {
            let (what, verb) = match names.len() {
                1 => ("SealedSecret", "records"),
                _ => ("SealedSecrets", "record"),
            };
            let names = names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let message = format!(
                "overlay {}: {what} {names} {verb} no emp-seal.dev/cert-sha256 (sealed by kubeseal?), so whether the values were sealed with `{cert_path}` is not verified",
                ov.name
            );
            Finding::new(&META, at_yaml(cx, &path, doc_index, &["metadata", "name"]), message)
                .severity(Severity::Note)
                .hint(format!(
                    "`emp-seal reseal {} --key KEY.pem` re-encrypts them to this certificate and records it; only the controller's private key can tell which certificate sealed them",
                    ov.name
                ))
        })
        .collect()
}
