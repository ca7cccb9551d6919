//! Rule `certificate-expired`: the overlay's sealing certificate (`k8s/overlays/<env>/sealing-cert.pem`) is past its NotAfter; kubeseal refuses to seal with it.
//!
//! The shared certificate check is in `super::certs`; this file holds the rule's metadata and
//! entry point. It never prints and never reads files.

use super::Context;
use super::certs::{Which, check as check_cert};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "certificate-expired",
    summary: "The environment's sealing certificate has expired",
    default_severity: Severity::Error,
    hint: "fetch the controller's current certificate (kubeseal --fetch-cert) and commit it",
    scope: RuleScope::Overlay,
};

pub fn check(cx: &Context<'_>) -> Vec<Finding> {
    check_cert(cx, &META, Which::Expired)
}
