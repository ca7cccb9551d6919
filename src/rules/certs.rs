//! The certificate rules' shared check: each overlay's sealing certificate
//! (`k8s/overlays/<env>/sealing-cert.pem`) judged for expiry, key size and the demo marker, and
//! its file for private keys.
//!
//! Reads only the tree model's [`CertModel`](super::model::CertModel)s; never reads files.

use super::locate::at_line;
use super::model::CertStatus;
use super::{Context, View};
use crate::cert::{CertError, MIN_KEY_BITS, rfc3339};
use crate::finding::{Finding, RuleMeta};

/// Which certificate rule to report. The rule's file passes its own [`RuleMeta`] along, so this
/// shared check imports no rule file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    Expired,
    Expiring,
    WeakKey,
    Demo,
    PrivateKey,
}

/// The line of the first `-----BEGIN CERTIFICATE-----` (1 when absent).
fn begin_line(cx: &Context<'_>, path: &str) -> usize {
    cx.file(path)
        .and_then(|f| {
            f.text
                .lines()
                .position(|l| l.trim() == "-----BEGIN CERTIFICATE-----")
        })
        .map_or(1, |i| i + 1)
}

/// Reports one certificate rule (`which`, whose metadata is `meta`) over every checked overlay.
pub(crate) fn check(cx: &View<'_, '_>, meta: &'static RuleMeta, which: Which) -> Vec<Finding> {
    let mut out = Vec::new();
    for ov in cx.overlays() {
        let Some(cm) = &ov.cert else { continue };
        if which == Which::PrivateKey {
            // About the file, not the overlay: one finding per block however many environments
            // share the file (`rules::run` keeps one of identical findings).
            for key in &cm.private_keys {
                out.push(Finding::new(
                    meta,
                    at_line(cx, &cm.path, key.line),
                    format!(
                        "sealing certificate file `{}` also holds a private key (a `{}` block): anyone who can read the file can decrypt every SealedSecret sealed with this certificate",
                        cm.path, key.label
                    ),
                ));
            }
            continue;
        }
        let loc = at_line(cx, &cm.path, begin_line(cx, &cm.path));
        let mut push = |message: String| out.push(Finding::new(meta, loc.clone(), message));
        match (&cm.status, which) {
            (CertStatus::WeakKey { bits }, Which::WeakKey) => push(format!(
                "overlay {}: sealing certificate `{}` has an RSA key of {bits} bits; at least {MIN_KEY_BITS} are required",
                ov.name, cm.path
            )),
            (CertStatus::Ok(cert), Which::Expired | Which::Expiring) => {
                match cert.check_time(cx.tree.now) {
                    Err(CertError::Expired { not_after }) if which == Which::Expired => {
                        push(format!(
                            "overlay {}: sealing certificate `{}` expired on {not_after}",
                            ov.name, cm.path
                        ))
                    }
                    Ok(Some(w)) if which == Which::Expiring => push(format!(
                        "overlay {}: sealing certificate `{}` expires on {} ({} left)",
                        ov.name,
                        cm.path,
                        rfc3339(w.not_after),
                        crate::cert::days(w.days_left)
                    )),
                    _ => {}
                }
            }
            (CertStatus::Ok(cert), Which::Demo) if cx.release && cert.is_demo() => push(format!(
                "overlay {}: `{}` is the demo certificate whose private key is public: anything sealed with it is readable by anyone",
                ov.name, cm.path
            )),
            _ => {}
        }
    }
    out
}
