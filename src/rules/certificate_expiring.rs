//! Rule `certificate-expiring`: the overlay's sealing certificate expires within 30 days (`cert::EXPIRY_WARNING_DAYS`). A warning; an error under `--release`.
//!
//! The shared certificate check is in `super::certs`; this file holds the rule's metadata and
//! entry point. It never prints and never reads files.

use super::Context;
use super::certs::{Which, check as check_cert};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "certificate-expiring",
    summary: "The environment's sealing certificate expires within 30 days",
    default_severity: Severity::Warning,
    hint: "fetch the controller's current certificate (kubeseal --fetch-cert) before it expires",
    scope: RuleScope::Overlay,
};

pub fn check(cx: &Context<'_>) -> Vec<Finding> {
    check_cert(cx, &META, Which::Expiring)
}
