//! Rule `example-sealed-mismatch`: each `SealedSecret` holds exactly the environment's key set; missing and extra keys are named. Needs the `envfile`, `kustomize` and `sealedsecret` models.
//!
//! Registered with its id, documentation and tests reserved; its check needs a model this module
//! does not have yet (see the seams in [`super`]). It must not print or put secret values into
//! findings.

use crate::finding::{RuleMeta, Severity};

/// The rule's metadata.
pub static META: RuleMeta = RuleMeta {
    id: "example-sealed-mismatch",
    summary: "A SealedSecret does not hold exactly the environment's key set",
    default_severity: Severity::Error,
    hint: "seal the missing keys (emp-seal <env> --from FILE) and remove the extra ones",
};
