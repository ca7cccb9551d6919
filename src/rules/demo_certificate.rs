//! Rule `demo-certificate`: under `--release`, the environment's sealing certificate is
//! emp-seal's demo certificate (subject contains `emp-seal DEMO`), whose private key is public.
//!
//! Fires only under `--release` (as an error): the demo certificate is the shipped tree's
//! default, so outside a release gate it is expected. The shared certificate check is in
//! `super::certs`; this file never prints and never reads files.

use super::View;
use super::certs::{Which, check as check_cert};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "demo-certificate",
    summary: "The environment uses the demo certificate shipped with the examples",
    default_severity: Severity::Error,
    hint: "fetch the real controller certificate for this environment (kubeseal --fetch-cert)",
    scope: RuleScope::Overlay,
};

/// Reports the demo certificate of the release environment.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    check_cert(cx, &META, Which::Demo)
}
