//! Rule `dangling-reference`: every Secret, `TriggerAuthentication` and `ServiceAccount` named by a rendered object exists after rendering, with names computed as kustomize renders them. Needs the `kustomize` model.
//!
//! Registered with its id, documentation and tests reserved; its check needs a model this module
//! does not have yet (see the seams in [`super`]). It must not print or put secret values into
//! findings.

use crate::finding::{RuleMeta, Severity};

/// The rule's metadata.
pub static META: RuleMeta = RuleMeta {
    id: "dangling-reference",
    summary: "A rendered object names a Secret, TriggerAuthentication or ServiceAccount that does not exist after rendering",
    default_severity: Severity::Error,
    hint: "create the object in the overlay or fix the name; remember that namePrefix and nameSuffix do not rewrite names inside custom resources",
};
