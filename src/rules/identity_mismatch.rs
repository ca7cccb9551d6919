//! Rule `identity-mismatch`: a `SealedSecret`'s rendered name and namespace match what it was sealed for (emp-seal's `emp-seal.dev/sealed-for` record, else its template metadata). Needs the `kustomize` and `sealedsecret` models.
//!
//! Registered with its id, documentation and tests reserved; its check needs a model this module
//! does not have yet (see the seams in [`super`]). It must not print or put secret values into
//! findings.

use crate::finding::{RuleMeta, Severity};

/// The rule's metadata.
pub static META: RuleMeta = RuleMeta {
    id: "identity-mismatch",
    summary: "A SealedSecret's rendered name or namespace differs from the identity it was sealed for",
    default_severity: Severity::Error,
    hint: "re-seal for the rendered name and namespace (emp-seal <env> --from FILE), or undo the overlay's rename",
};
