//! Rule `overlay-build-error`: kustomize would refuse to build an overlay. Each problem the
//! overlay model found that makes `kustomize build` fail (see
//! [`Problem::fails_build`](crate::kustomize::Problem::fails_build)) is reported on the file and
//! line that causes it, with what kustomize would say.
//!
//! YAML that does not parse in a file the check scans is `yaml-syntax`'s, not this rule's (one
//! finding per cause); in a file outside the scanned tree it is reported here. While an overlay
//! does not build, the rules that read its rendered model (`RuleScope::Model`) are not run on
//! it: their findings would be knock-on effects of this one.

use super::Context;
use super::locate::at_line;
use super::model::path_str;
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "overlay-build-error",
    summary: "kustomize cannot build the overlay",
    default_severity: Severity::Error,
    hint: "fix the file and line named; `kubectl kustomize <overlay>` shows kustomize's own error",
    scope: RuleScope::Overlay,
};

/// Reports every build-failing problem of every checked overlay.
pub fn check(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for ov in cx.overlays() {
        for p in ov.overlay.problems().iter().filter(|p| p.fails_build()) {
            let path = path_str(&p.origin.file);
            let scanned_yaml = cx
                .file(&path)
                .is_some_and(|f| f.is_yaml() && !f.repository_only);
            if p.is_yaml_syntax() && scanned_yaml {
                continue;
            }
            let message = format!(
                "overlay {}: {}; its key and reference checks did not run",
                ov.name, p.message
            );
            out.push(Finding::new(
                &META,
                at_line(cx, &path, p.origin.line),
                message,
            ));
        }
    }
    out
}
