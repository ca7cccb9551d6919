//! Rule `demo-certificate`: the environment's certificate is the demo certificate; a warning normally, an error under `--release` (the check sets the severity). Needs the `cert` model.
//!
//! Registered with its id, documentation and tests reserved; its check needs a model this module
//! does not have yet (see the seams in [`super`]). It must not print or put secret values into
//! findings.

use crate::finding::{RuleMeta, Severity};

/// The rule's metadata.
pub static META: RuleMeta = RuleMeta {
    id: "demo-certificate",
    summary: "The environment uses the demo certificate shipped with the examples",
    default_severity: Severity::Warning,
    hint: "fetch the real controller certificate for this environment (kubeseal --fetch-cert)",
};
