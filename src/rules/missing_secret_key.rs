//! Rule `missing-secret-key`: every key a rendered workload reads (envFrom secretRef, non-optional secretKeyRef, secret volume items, KEDA secretTargetRef) exists in the Secret the overlay produces. Needs the `kustomize` model.
//!
//! Registered with its id, documentation and tests reserved; its check needs a model this module
//! does not have yet (see the seams in [`super`]). It must not print or put secret values into
//! findings.

use crate::finding::{RuleMeta, Severity};

/// The rule's metadata.
pub static META: RuleMeta = RuleMeta {
    id: "missing-secret-key",
    summary: "A rendered workload reads a Secret key that the overlay's Secret does not have",
    default_severity: Severity::Error,
    hint: "add the key to the env file and its .example and seal it, or mark the reference optional",
};
