//! Rule `missing-certificate`: the environment has `SealedSecret`s but no usable sealing
//! certificate (`k8s/overlays/<env>/sealing-cert.pem`, or the path the config file's
//! `[environment.NAME] certificate` names) to verify them against, so the gate cannot tell
//! whether they were sealed for the environment's controller (`stale-certificate`,
//! `invalid-ciphertext` and `sealed-with-demo-certificate` compare against it).
//!
//! Under `--release ENV` it is an error an allow comment cannot suppress
//! (`rules::RELEASE_UNSUPPRESSIBLE`), whichever file is missing or unusable. Without `--release`
//! only a certificate the config file names and that is not there is reported, as a warning:
//! the default file may be fetched later, but a configured path that names nothing is a setting
//! that does not hold (a typo, or a file not committed), and `seal` fails on it.

use super::locate::at_line;
use super::model::OverlayModel;
use super::{Context, View};
use crate::finding::{Finding, Location, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "missing-certificate",
    summary: "The environment has SealedSecrets but no usable certificate to verify them against (under --release, or when the certificate the config file names is not there)",
    default_severity: Severity::Error,
    hint: "commit the controller's certificate as <overlay>/sealing-cert.pem (emp-seal cert <env> --fetch URL, or kubeseal --fetch-cert)",
    scope: RuleScope::Overlay,
};

/// Why `ov` has no usable certificate, and the finding's hint and related location when they
/// differ from the rule's (a configured path); `None` when it has one, or when what is missing
/// is reported only under `--release`.
fn missing(cx: &Context<'_>, ov: &OverlayModel) -> Option<(String, Option<(String, Location)>)> {
    let place = &ov.cert_place;
    match (&ov.cert, &place.configured) {
        (Some(c), _) if c.certificate().is_some() => None,
        (Some(c), _) => cx.release.then(|| {
            let why = format!("`{}` is not usable (its RSA key is too small)", c.path);
            (why, None)
        }),
        (None, Some((file, line))) => {
            let why = format!(
                "there is no sealing certificate at `{}` (the path {file}:{line} configures)",
                place.path
            );
            let hint = format!(
                "commit the controller's certificate as {} (emp-seal cert {} --fetch URL, or kubeseal --fetch-cert), or correct the `certificate` path on {file}:{line}",
                place.path, ov.name
            );
            Some((why, Some((hint, at_line(cx, file, *line)))))
        }
        (None, None) => cx.release.then(|| {
            let why = format!("there is no sealing certificate in `{}`", ov.dir);
            (why, None)
        }),
    }
}

/// Reports each SealedSecret of an environment without a usable certificate: under
/// `--release` as an error, otherwise (a configured certificate that is not there) a warning.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let severity = if cx.release {
        Severity::Error
    } else {
        Severity::Warning
    };
    for ov in cx.overlays() {
        let Some((why, configured)) = missing(cx, ov) else {
            continue;
        };
        for src in ov.overlay.sealed_secret_sources() {
            let message = format!(
                "overlay {}: {why} to verify SealedSecret `{}` against: which key sealed it cannot be checked",
                ov.name, src.name_in_file
            );
            let mut f =
                Finding::new(&META, at_line(cx, &src.path(), src.line), message).severity(severity);
            if let Some((hint, config)) = &configured {
                f = f.hint(hint.clone()).related(config.clone());
            }
            out.push(f);
        }
    }
    out
}
