//! Rule `render-failed`: under `check --render`, the real kustomize (`kubectl kustomize` or
//! `kustomize build`) could not build an overlay. The finding carries the tool's message, with
//! every value of the env files it read redacted (see [`crate::render`]); the tool's output is
//! never quoted. Reported on the overlay's kustomization file.
//!
//! Distinct from `overlay-build-error`, which reports what emp-seal's model predicts kustomize
//! would refuse, without running it.

use super::locate::at_line;
use super::{Context, View};
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};
use crate::render::NotRendered;

pub static META: RuleMeta = RuleMeta {
    id: "render-failed",
    summary: "The real kustomize could not build the overlay (check --render)",
    default_severity: Severity::Error,
    hint: "run the same command (kubectl kustomize DIR, with --load-restrictor LoadRestrictionsNone where the render lifted the restrictor) and fix what it reports; the overlay does not deploy as it is",
    scope: RuleScope::Tree,
};

/// The hint for a render that was not run because the overlay, deployed only by Flux, reads a
/// file or directory outside the repository, which Flux refuses to build (fluxcd/pkg
/// `kustomize/filesys/fs_secure.go`).
const NOT_RUN_HINT: &str = "the render was not run, as kustomize has no bound at the repository: move what the message names as outside the repository into the repository (Flux refuses to build the overlay reading it); for a path the message says the model cannot judge, write it as a plain path to a file in the repository";

/// Reports every checked overlay whose render failed.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for ov in cx.overlays() {
        // The overlay's own render, then its variants' (a wrapping kustomization such as
        // `k8s/no-keda/dev`, reported under its own directory).
        for render in cx.tree.renders.iter().filter(|r| r.overlay == ov.name) {
            let Err(why) = &render.outcome else {
                continue;
            };
            out.push(failed(cx, ov, render, why));
        }
    }
    out
}

fn failed(
    cx: &Context<'_>,
    ov: &super::model::OverlayModel,
    render: &crate::render::RenderedOverlay,
    why: &NotRendered,
) -> Finding {
    let copy = if render.stand_ins.is_empty() {
        String::new()
    } else {
        format!(
            " (rendered from a temporary copy in which the .example stood in for {})",
            render.stand_ins.join(", ")
        )
    };
    // A render that was not run did not fail and has no command to repeat:
    // `render::run_deployed` (src/render.rs) does not run the tool for an overlay only Flux
    // deploys that reads outside the repository. Otherwise the hint names the command actually
    // run: with the flag for an overlay only Flux deploys or a directory without a kustomization
    // file.
    let (outcome, message) = match why {
        NotRendered::Failed(m) => ("failed", m),
        NotRendered::NotRun(m) => ("was not run", m),
    };
    let text = match &render.variant {
        None => format!(
            "overlay {}: `{} {}` {outcome}{copy}: {message}",
            ov.name, render.tool, ov.dir
        ),
        Some(v) => format!(
            "overlay {}: its variant `{} {v}` {outcome}{copy}: {message}",
            ov.name, render.tool
        ),
    };
    let hint = match why {
        NotRendered::NotRun(_) => NOT_RUN_HINT.to_owned(),
        NotRendered::Failed(_) => format!(
            "run the same command ({}) and fix what it reports; the overlay does not deploy as it is",
            render.command
        ),
    };
    Finding::new(&META, at_line(cx, &render.kustomization, render.line), text).hint(hint)
}
