//! Rule `certificate-weak-key`: the environment certificate's RSA key has fewer than 2048 bits. Needs the `cert` model.
//!
//! Registered with its id, documentation and tests reserved; its check needs a model this module
//! does not have yet (see the seams in [`super`]). It must not print or put secret values into
//! findings.

use crate::finding::{RuleMeta, Severity};

/// The rule's metadata.
pub static META: RuleMeta = RuleMeta {
    id: "certificate-weak-key",
    summary: "The environment's sealing certificate has an RSA key under 2048 bits",
    default_severity: Severity::Error,
    hint: "use a controller key of at least 2048 bits (sealed-secrets generates 4096)",
};
