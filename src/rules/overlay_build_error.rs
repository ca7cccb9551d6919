//! Rule `overlay-build-error`: kustomize would refuse to build an overlay. Each problem the
//! overlay model found that makes `kustomize build` fail (see
//! [`Problem::fails_build`](crate::kustomize::Problem::fails_build)) is reported on the file and
//! line that causes it, with what kustomize would say.
//!
//! YAML that does not parse in a file the check scans is `yaml-syntax`'s, not this rule's (one
//! finding per cause); in a file outside the scanned tree it is reported here. While an overlay
//! does not build, the rules that read its rendered model (`RuleScope::Model`) are not run on
//! it: their findings would be knock-on effects of this one.

use super::View;
use super::locate::at_line;
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};
use crate::kustomize::Problem;
use crate::workspace::path_str;

pub static META: RuleMeta = RuleMeta {
    id: "overlay-build-error",
    summary: "kustomize cannot build the overlay",
    default_severity: Severity::Error,
    hint: "fix the file and line named; `kubectl kustomize <overlay>` shows kustomize's own error",
    scope: RuleScope::Overlay,
};

/// Reports every build-failing problem of every checked overlay.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let consequence = "its key and reference checks did not run";
    // The files `yaml-syntax` reports: a YAML problem of the model in any other file (one the
    // rules' own parse accepts) is reported here, so that no overlay fails to build unreported.
    let reported: std::collections::HashSet<&str> = (super::yamldocs::yaml_errors(cx).iter())
        .map(|e| e.file.path.as_str())
        .collect();
    problem_findings(cx, &META, consequence, |p, path| {
        let scanned_yaml = cx
            .file(path)
            .is_some_and(|f| f.is_yaml() && !f.repository_only);
        p.fails_build() && !(p.is_yaml_syntax() && scanned_yaml && reported.contains(path))
    })
}

/// One finding of `meta` per problem of every checked overlay, and of each of its variants
/// (a kustomization wrapping it, deployed in its place: `k8s/no-keda/paper`), that `wanted`
/// keeps (given the problem and its repo-relative file), at that file and line: kustomize's
/// message, then `consequence`. A variant's problem that its environment has too is reported
/// once, as the environment's. Shared with `overlay-not-modelled`.
pub(crate) fn problem_findings(
    cx: &View<'_, '_>,
    meta: &'static RuleMeta,
    consequence: &str,
    wanted: impl Fn(&Problem, &str) -> bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for ov in cx.overlays() {
        let own = ov.overlay.problems().iter().map(|p| (ov.name.clone(), p));
        let variants = ov.variant_problems().map(|(v, p)| {
            let label = format!("{}, variant `{}`", ov.name, v.dir);
            (label, p)
        });
        for (label, p) in own.chain(variants) {
            let path = path_str(&p.origin.file);
            if wanted(p, &path) {
                // A gap of the Flux artifact is the run's, not the overlay's: one finding for
                // every overlay built from it (`rules::run` drops the repeats).
                let message = if crate::workspace::artifact::is_gap(&p.message) {
                    let what = "the secret findings of the overlays Flux builds from it";
                    format!("{}; {what} are unverified", p.message)
                } else {
                    format!("overlay {label}: {}; {consequence}", p.message)
                };
                let loc = at_line(cx, &path, p.origin.line);
                out.push(Finding::new(meta, loc, message));
            }
        }
    }
    out
}
