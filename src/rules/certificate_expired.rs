//! Rule `certificate-expired`: the environment certificate's `NotAfter` is in the past. Needs the `cert` model.
//!
//! Registered with its id, documentation and tests reserved; its check needs a model this module
//! does not have yet (see the seams in [`super`]). It must not print or put secret values into
//! findings.

use crate::finding::{RuleMeta, Severity};

/// The rule's metadata.
pub static META: RuleMeta = RuleMeta {
    id: "certificate-expired",
    summary: "The environment's sealing certificate has expired",
    default_severity: Severity::Error,
    hint: "fetch the controller's current certificate (kubeseal --fetch-cert) and commit it",
};
