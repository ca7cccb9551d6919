//! Rule `certificate-expiring`: the environment certificate's `NotAfter` is within 30 days. Needs the `cert` model.
//!
//! Registered with its id, documentation and tests reserved; its check needs a model this module
//! does not have yet (see the seams in [`super`]). It must not print or put secret values into
//! findings.

use crate::finding::{RuleMeta, Severity};

/// The rule's metadata.
pub static META: RuleMeta = RuleMeta {
    id: "certificate-expiring",
    summary: "The environment's sealing certificate expires within 30 days",
    default_severity: Severity::Warning,
    hint: "fetch the controller's current certificate (kubeseal --fetch-cert) before it expires",
};
