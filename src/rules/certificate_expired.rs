//! Rule `certificate-expired`: the overlay's sealing certificate (`k8s/overlays/<env>/sealing-cert.pem`) is past its NotAfter; kubeseal refuses to seal with it.

use super::View;
use super::certs::{Which, check as check_cert};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "certificate-expired",
    summary: "The environment's sealing certificate has expired",
    default_severity: Severity::Error,
    hint: "fetch the controller's current certificate (kubeseal --fetch-cert) and commit it",
    scope: RuleScope::Overlay,
};

pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    check_cert(cx, &META, Which::Expired)
}
