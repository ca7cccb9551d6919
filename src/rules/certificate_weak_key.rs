//! Rule `certificate-weak-key`: the overlay's sealing certificate has an RSA key under 2048 bits (`cert::MIN_KEY_BITS`).

use super::View;
use super::certs::{Which, check as check_cert};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "certificate-weak-key",
    summary: "The environment's sealing certificate has an RSA key under 2048 bits",
    default_severity: Severity::Error,
    hint: "use a controller key of at least 2048 bits (sealed-secrets generates 4096)",
    scope: RuleScope::Overlay,
};

pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    check_cert(cx, &META, Which::WeakKey)
}
