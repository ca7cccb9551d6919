//! Rule `example-generator-mismatch`: each generator's env file has a tracked `.example` with exactly the same keys (envs, literals and files all count). Needs the `envfile` and `kustomize` models.
//!
//! Registered with its id, documentation and tests reserved; its check needs a model this module
//! does not have yet (see the seams in [`super`]). It must not print or put secret values into
//! findings.

use crate::finding::{RuleMeta, Severity};

/// The rule's metadata.
pub static META: RuleMeta = RuleMeta {
    id: "example-generator-mismatch",
    summary: "A secret generator's env file and its tracked .example do not have exactly the same keys",
    default_severity: Severity::Error,
    hint: "add the missing keys to the .example with empty values, or remove the extra ones",
};
