//! A directory without a kustomization file, deployed by an Argo CD / Flux object, built with the
//! kustomization that tool generates for it (`crate::workspace::plain` synthesises it as a value;
//! nothing is written into the tree): every rule then applies to it as to any overlay.

use std::path::Path;

use super::build::GeneratedTop;
use super::{Origin, Problem};
use crate::workspace::DeployTime;

/// The generated kustomization the model builds a plain directory with.
pub(super) struct Generated {
    pub(super) top: GeneratedTop,
    /// What the model does not replay of how the tool builds the directory.
    pub(super) problems: Vec<Problem>,
}

/// The kustomization the objects of `deploy_time` generate for `dir` (under `root`) when it has
/// no kustomization file of its own; `None` when it has one, or no object deploying it builds it
/// from its manifests. When the objects build it differently (a Flux Kustomization and an Argo CD
/// directory source, or two Argo CD sources that do not agree on `recurse`), the first one's is
/// built and a not-modelled problem says so for each other.
pub(super) fn generated(root: &Path, dir: &Path, deploy_time: &DeployTime) -> Option<Generated> {
    if crate::workspace::kustomization_file(dir).is_some() {
        return None;
    }
    let mut plain = deploy_time
        .deploys
        .iter()
        .filter_map(|d| Some((d, d.plain.as_ref()?)));
    let (first, how) = plain.next()?;
    let s = crate::workspace::plain::synthesise(
        root,
        dir,
        (how, first.artifact.as_deref()),
        (&first.file, first.line),
    );
    let mut problems: Vec<Problem> = s
        .unmodelled
        .into_iter()
        .map(|(file, line, message)| Problem::not_modelled(Origin::new(file, line), message))
        .collect();
    for (d, other) in plain.filter(|(_, p)| *p != how) {
        let message = format!(
            "this {} builds the directory from its manifests as {other}, the {} in {}:{} as {how}: emp-seal models only the latter",
            d.tool, first.tool, first.file, first.line
        );
        problems.push(Problem::not_modelled(Origin::new(&d.file, d.line), message));
    }
    let at = Origin::new(&first.file, first.line);
    Some(Generated {
        top: GeneratedTop {
            entries: s.entries,
            at,
            untracked: s.untracked,
        },
        problems,
    })
}
