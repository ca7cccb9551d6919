//! Rule `stale-certificate`: a recorded `emp-seal.dev/cert-sha256` that differs from the environment's current certificate. Needs the `cert` and `sealedsecret` models.
//!
//! Registered with its id, documentation and tests reserved; its check needs a model this module
//! does not have yet (see the seams in [`super`]). It must not print or put secret values into
//! findings.

use crate::finding::{RuleMeta, Severity};

/// The rule's metadata.
pub static META: RuleMeta = RuleMeta {
    id: "stale-certificate",
    summary: "A SealedSecret records a certificate fingerprint other than the environment's current certificate",
    default_severity: Severity::Warning,
    hint: "re-seal with the environment's current certificate, or commit the certificate the values were sealed with",
};
