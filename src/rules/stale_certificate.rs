//! Rule `stale-certificate`: a `SealedSecret`'s recorded `emp-seal.dev/cert-sha256` differs from
//! the fingerprint of the overlay's current sealing certificate
//! (`k8s/overlays/<env>/sealing-cert.pem`): the values were sealed with a rotated or a wrong
//! certificate.
//!
//! Also reported: a value a patch of the overlay writes into such a `SealedSecret`, which the
//! file's record does not cover (at the patch's line).
//!
//! Skipped when the overlay has no usable certificate. A warning by default (the controller keeps
//! old keys, so old values still decrypt); an error under `--release`, and always an error when
//! the recorded certificate is the current one of another environment rendering the same
//! `SealedSecret` (a shared base sealed for one of them: no rotation explains it). A file whose
//! SealedSecrets carry no record (sealed by kubeseal) cannot be judged: it gets one note saying
//! its values' certificate is not verified (a note, also under `--release`: nothing is known to
//! be wrong).

use std::collections::{BTreeMap, BTreeSet};

use super::locate::{at_line, at_sealed};
use super::model::{OverlayModel, SealedCert, sealed_certs};
use super::{Context, View};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};
use crate::sealedsecret::ciphertext::{Kind, classify};
use crate::workspace::path_str;

pub static META: RuleMeta = RuleMeta {
    id: "stale-certificate",
    summary: "A SealedSecret records a certificate fingerprint other than the environment's current certificate",
    default_severity: Severity::Warning,
    hint: "re-encrypt the values to the current certificate offline with `emp-seal reseal <env> --key OLD_KEY.pem`, or commit the certificate the values were sealed with",
    scope: RuleScope::Model,
};

/// Reports recorded fingerprints that differ from the overlay's certificate, the files whose
/// SealedSecrets record none, and the values patches write past a record; each overlay's
/// SealedSecrets are read once for the three.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for ov in cx.overlays() {
        let Some(cert_model) = &ov.cert else { continue };
        let Some(cert) = cert_model.certificate() else {
            continue;
        };
        let sealed = sealed_certs(cx, ov);
        let current = cert.sha256_fingerprint();
        for rec in &sealed {
            let stale = rec
                .sha256
                .as_deref()
                .filter(|s| !s.eq_ignore_ascii_case(&current));
            let Some(sha256) = stale else { continue };
            if let Some(other) = sealed_for_another(cx, ov, rec, sha256) {
                out.push(shared_file(cx, ov, rec, other, &cert_model.path));
                continue;
            }
            let message = format!(
                "overlay {}: SealedSecret `{}` was sealed with certificate sha256 {}, but `{}` is {}; re-encrypt offline with `emp-seal reseal {} --key OLD_KEY.pem` (the controller's key that sealed it)",
                ov.name,
                rec.src.name_in_file,
                crate::cert::short_fingerprint(sha256),
                cert_model.path,
                crate::cert::short_fingerprint(&current),
                ov.name
            );
            let related = at_line(cx, &cert_model.path, 1);
            out.push(Finding::new(&META, rec.location(cx), message).related(related));
        }
        out.extend(unrecorded(cx, ov, &cert_model.path, &sealed));
        out.extend(patched_values(cx, ov, &sealed));
    }
    out
}

/// Another environment whose current certificate is the one `rec` records, and which renders
/// the same `SealedSecret` (file and name): the values were sealed for that environment, not by
/// an older key of this one's controller.
fn sealed_for_another<'c>(
    cx: &'c Context<'_>,
    ov: &OverlayModel,
    rec: &SealedCert,
    sha256: &str,
) -> Option<&'c OverlayModel> {
    cx.all_overlays().iter().find(|o| {
        let cert = o.cert.as_ref().and_then(|c| c.certificate());
        o.dir != ov.dir
            && cert.is_some_and(|c| c.sha256_fingerprint().eq_ignore_ascii_case(sha256))
            && (o.overlay.sealed_secret_sources())
                .any(|r| r.path() == rec.src.path() && r.name_in_file == rec.src.name_in_file)
    })
}

/// An error: one `SealedSecret` rendered by two environments whose certificates differ holds one
/// ciphertext per key, which only the controller of `other` (whose certificate sealed it) can
/// open. No rotation explains it and no reseal mends it (it would break `other`): `seal`
/// refuses to seal such a file for both.
fn shared_file(
    cx: &Context<'_>,
    ov: &OverlayModel,
    rec: &SealedCert,
    other: &OverlayModel,
    cert_path: &str,
) -> Finding {
    let message = format!(
        "overlay {}: SealedSecret `{}` in {} is rendered by {} too, whose certificate sealed it; `{cert_path}` differs, so {}'s controller cannot decrypt its values",
        ov.name,
        rec.src.name_in_file,
        rec.src.path(),
        other.name,
        ov.name,
    );
    let hint = format!(
        "give each environment a SealedSecret file of its own (one in each overlay, listed there instead of in the shared base) and seal each with `emp-seal <env> --from FILE`, or give {} and {} the same certificate",
        other.name, ov.name
    );
    Finding::new(&META, rec.location(cx), message)
        .severity(Severity::Error)
        .hint(hint)
}

/// Values a patch writes into a `SealedSecret` of `ov` whose file records a certificate: the
/// render takes the patch's value (kustomize applies patches after reading the file), but the
/// record holds for the file's values only, and nothing tells which certificate sealed the
/// patch's. `seal` and `reseal` refuse such a key, so a rotation never reaches it; without this
/// finding `--release` would certify a render that may still hold a value only an old key
/// opens. A value the classifier rejects for the current certificate is reported too: the
/// ciphertext rules do not see every patched value (a strategic-merge patch file's), and the
/// record covers it no more than a clean one; a patch that writes the file's own value again
/// changes nothing the record covers. A patched value is matched to
/// its `SealedSecret` by file, name and namespace as written (one file may hold a name in
/// several namespaces).
fn patched_values(cx: &Context<'_>, ov: &OverlayModel, sealed: &[SealedCert]) -> Vec<Finding> {
    let mut out = Vec::new();
    let overlays = std::iter::once(&ov.overlay).chain(ov.variants.iter().map(|v| &v.overlay));
    let mut seen = BTreeSet::new();
    for w in overlays.flat_map(|o| o.written_values()) {
        let Some(value) = &w.ciphertext else { continue };
        let Some(rec) = sealed.iter().find(|r| {
            w.kind == "SealedSecret"
                && r.sha256.is_some()
                && r.src.path() == path_str(&w.object_file)
                && r.src.name_in_file == w.object_name
                && r.src.namespace_in_file == w.object_namespace
        }) else {
            continue;
        };
        // The file's own value, written again by the patch, is the one the record covers.
        let same = rec.doc.entry(&w.key).is_some_and(|e| e.value == *value);
        let file = path_str(&w.origin.file);
        if same || !seen.insert((file.clone(), w.origin.line, w.key.clone())) {
            continue;
        }
        let message = format!(
            "overlay {}: `{}` of SealedSecret `{}` renders the value this patch writes, which the file's `emp-seal.dev/cert-sha256` record does not cover: which certificate sealed it is not known (an old one's key may be the only one that opens it)",
            ov.name, w.key, rec.src.name_in_file
        );
        let hint = format!(
            "drop `{}` from the patch and seal its value into {} with `emp-seal {} --from FILE`, so that the record covers it (seal and reseal refuse a key a patch writes)",
            w.key,
            rec.src.path(),
            ov.name
        );
        let finding = Finding::new(&META, at_line(cx, &file, w.origin.line), message)
            .related(rec.location(cx))
            .hint(hint);
        out.push(finding);
    }
    out
}

/// One note per file of `ov` whose SealedSecrets (`sealed`) hold sealed values but no
/// `emp-seal.dev/cert-sha256` record: which certificate sealed them is not verified (a public
/// key shows only that a value fits its size; the controller's private key alone can tell).
fn unrecorded(
    cx: &Context<'_>,
    ov: &OverlayModel,
    cert_path: &str,
    sealed: &[SealedCert],
) -> Vec<Finding> {
    // File -> (document index of its first such SealedSecret, their names).
    let mut files: BTreeMap<String, ((usize, usize), Vec<&str>)> = BTreeMap::new();
    for SealedCert { src, doc, sha256 } in sealed {
        let values = doc.encrypted_data.iter().any(|e| {
            let verdict = classify(&e.value, None);
            !verdict
                .reasons()
                .iter()
                .any(|r| r.kind() == Kind::Placeholder)
        });
        if !values || sha256.is_some() {
            continue;
        }
        let entry = files
            .entry(src.path())
            .or_insert(((src.doc_index, src.line), Vec::new()));
        if !entry.1.contains(&src.name_in_file.as_str()) {
            entry.1.push(&src.name_in_file);
        }
    }
    files
        .into_iter()
        .map(|(path, (at, names))| {
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
            Finding::new(&META, at_sealed(cx, &path, at, &["metadata", "name"]), message)
                .severity(Severity::Note)
                .hint(format!(
                    "`emp-seal reseal {} --key KEY.pem` re-encrypts them to this certificate and records it; only the controller's private key can tell which certificate sealed them",
                    ov.name
                ))
        })
        .collect()
}
