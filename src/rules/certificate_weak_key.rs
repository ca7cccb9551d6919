//! Rule `certificate-weak-key`: the overlay's sealing certificate has an RSA key under 2048 bits (`cert::MIN_KEY_BITS`).
//!
//! The shared certificate check is in `super::certs`; this file holds the rule's metadata and
//! entry point. It never prints and never reads files.

use super::Context;
use super::certs::{Which, check as check_cert};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "certificate-weak-key",
    summary: "The environment's sealing certificate has an RSA key under 2048 bits",
    default_severity: Severity::Error,
    hint: "use a controller key of at least 2048 bits (sealed-secrets generates 4096)",
    scope: RuleScope::Overlay,
};

pub fn check(cx: &Context<'_>) -> Vec<Finding> {
    check_cert(cx, &META, Which::WeakKey)
}
