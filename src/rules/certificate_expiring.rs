//! Rule `certificate-expiring`: the overlay's sealing certificate expires within 30 days (`cert::EXPIRY_WARNING_DAYS`). A warning; an error under `--release`.

use super::View;
use super::certs::{Which, check as check_cert};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "certificate-expiring",
    summary: "The environment's sealing certificate expires within 30 days",
    default_severity: Severity::Warning,
    hint: "fetch the controller's current certificate (kubeseal --fetch-cert) before it expires",
    scope: RuleScope::Overlay,
};

pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    check_cert(cx, &META, Which::Expiring)
}
