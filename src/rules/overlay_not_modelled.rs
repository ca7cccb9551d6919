//! Rule `overlay-not-modelled`: an overlay uses a kustomize feature emp-seal's model does not
//! replay (`helmCharts`, `replacements`, remote bases, `openapi`, `crds`, transformer or
//! validator plugins, ...; docs/kustomize-model.md), so its rendered names, and therefore the
//! overlay's secret findings, may differ from what kustomize renders.
//!
//! A warning; an error under `--release` (the gate cannot vouch for what it did not model). The
//! overlay's findings from the model rules are kept and marked unverified
//! (`rules::run_per_overlay`).

use super::View;
use super::overlay_build_error::problem_findings;
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "overlay-not-modelled",
    summary: "The overlay uses a kustomize feature emp-seal does not model, so its secret findings are unverified",
    default_severity: Severity::Warning,
    hint: "render the overlay with kubectl kustomize and check it yourself, or keep the overlay within the modelled subset (docs/kustomize-model.md)",
    scope: RuleScope::Overlay,
};

/// Reports every not-modelled or unsupported problem of every checked overlay.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let consequence = "its secret findings are unverified";
    problem_findings(cx, &META, consequence, |p, _| !p.fails_build())
}
