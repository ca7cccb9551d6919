//! Env-file rules: `env-syntax` and the seam for the `envfile` module's lints.
//!
//! The `envfile` module owns the kustomize env dialect, its parse errors and its cross-dialect
//! lints, each lint with its own `env-*` id. Those ids are surfaced as-is: the coordinator lists
//! the lints' `RuleMeta`s in [`LINTS`] (so they are registered, documented and snapshotted with
//! every other id) and turns each lint into a [`Finding`](crate::finding::Finding) of that meta.
//! This file must not parse env files itself.

use crate::finding::{RuleMeta, Severity};

/// An env file (`*.env.example`, or a real env file present locally) that kustomize would reject.
pub static ENV_SYNTAX: RuleMeta = RuleMeta {
    id: "env-syntax",
    summary: "An env file does not parse the way kustomize v5 reads it",
    default_severity: Severity::Error,
    hint: "fix the line kustomize rejects (invalid UTF-8, a repeated key, an invalid key name)",
};

/// The `envfile` module's lint metas (ids `env-*`), registered as-is. Empty until wired.
pub static LINTS: &[&RuleMeta] = &[];
