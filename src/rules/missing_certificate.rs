//! Rule `missing-certificate`: under `--release ENV`, ENV has `SealedSecret`s but no usable
//! sealing certificate (`k8s/overlays/<env>/sealing-cert.pem`) to verify them against, so the
//! gate cannot tell whether they were sealed for ENV's controller (`stale-certificate`,
//! `invalid-ciphertext` and `sealed-with-demo-certificate` compare against it).
//!
//! Fires only under `--release` (an error an allow comment cannot suppress there,
//! `rules::RELEASE_UNSUPPRESSIBLE`).

use super::Context;
use super::locate::at_line;
use super::model::sealed_sources;
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "missing-certificate",
    summary: "Under --release, the environment has SealedSecrets but no usable certificate to verify them against",
    default_severity: Severity::Error,
    hint: "commit the controller's certificate as <overlay>/sealing-cert.pem (emp-seal cert <env> --fetch URL, or kubeseal --fetch-cert)",
    scope: RuleScope::Overlay,
};

/// Reports each SealedSecret of the release environment when it has no usable certificate.
pub fn check(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    if !cx.release {
        return out;
    }
    for ov in cx.overlays() {
        let why = match &ov.cert {
            Some(c) if c.certificate().is_some() => continue,
            Some(c) => format!("`{}` is not usable (its RSA key is too small)", c.path),
            None => format!("there is no sealing certificate in `{}`", ov.dir),
        };
        for src in sealed_sources(&ov.overlay) {
            let message = format!(
                "overlay {}: {why} to verify SealedSecret `{}` against: which key sealed it cannot be checked",
                ov.name, src.name_in_file
            );
            out.push(Finding::new(
                &META,
                at_line(cx, &src.path, src.line),
                message,
            ));
        }
    }
    out
}
