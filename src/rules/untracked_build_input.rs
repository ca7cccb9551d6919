//! Rule `untracked-build-input`: a file an environment's build reads as YAML (its kustomization,
//! a resource, a patch, ...) that git does not track. The working tree builds, but a clone of
//! the repository (what CI checks out, what Argo CD or Flux sync) lacks the file and cannot build
//! the environment: a SealedSecret written and listed but never `git add`ed, or taken out of the
//! index with `git rm --cached`. A pre-commit hook checks the working tree, so this is how it
//! sees what the commit will lack.

use std::collections::{BTreeMap, BTreeSet};

use super::View;
use super::locate::at_line;
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "untracked-build-input",
    summary: "A file an environment's build reads is not tracked by git",
    default_severity: Severity::Error,
    hint: "git add the file (or stop listing it): a clone of the repository does not have it, so kustomize cannot build the environment there",
    scope: RuleScope::Tree,
};

/// One finding per untracked file the checked environments' builds read, naming them. A file
/// an overlay Argo CD or Flux deploys reads that their clone lacks is an `overlay-build-error`
/// already, the more specific finding (the sync fails): the build refuses it, so it is not
/// among the files read, but for the overlay's own kustomization file, skipped here.
///
/// An environment whose own kustomization file a gitignore pattern keeps out (a developer's
/// `overlays/local`) is in no clone at all, on purpose: nothing a clone lacks breaks a build
/// there, so its files are not judged, and a note says so (an error when it is the environment
/// `--release` gates: no clone has it to deploy).
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    use rayon::prelude::*;
    if cx.tree.git.is_none() {
        return Vec::new();
    }
    let Some(clone) = crate::workspace::CloneContents::of(cx.root) else {
        return Vec::new();
    };
    let mut readers: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    let mut local = Vec::new();
    for ov in cx.tree.checked_overlays() {
        // One Argo CD or Flux deploys is not local: its clone lacking the kustomization is an
        // `overlay-build-error` already.
        let kfile = (!ov.overlay.built_from_git())
            .then(|| crate::workspace::kustomization_file(&ov.overlay.dir))
            .flatten();
        if let Some(k) = kfile.filter(|k| clone.lacks(k).is_some_and(|l| l.is_ignored())) {
            let rel = crate::workspace::rel(cx.root, &k);
            // Released, it is meant to be deployed: from a clone that lacks it altogether.
            let released = cx.tree.release_env.as_deref() == Some(ov.name.as_str());
            let (severity, hint) = match released {
                true => (
                    Severity::Error,
                    "stop ignoring the environment and commit it, or release another: a clone of the repository has no such environment to deploy",
                ),
                false => (
                    Severity::Note,
                    "nothing to do for a local-only environment; to deploy it, stop ignoring it and commit it",
                ),
            };
            let message = format!(
                "environment {}: its kustomization `{rel}` is ignored by a gitignore rule, so no clone of the repository has the environment; whether the files its build reads are tracked is not judged",
                ov.name
            );
            let finding = Finding::new(&META, at_line(cx, &rel, 1), message);
            local.push(finding.severity(severity).hint(hint));
            continue;
        }
        let variants = ov.variants.iter().map(|v| &v.overlay);
        for overlay in std::iter::once(&ov.overlay).chain(variants) {
            let own = (overlay.built_from_git())
                .then(|| crate::workspace::kustomization_file(&overlay.dir))
                .flatten()
                .map(|k| crate::workspace::rel(cx.root, &k));
            for path in overlay.manifest_files() {
                let rel = crate::workspace::rel(cx.root, path);
                if own.as_ref() != Some(&rel) {
                    readers.entry(rel).or_default().insert(&ov.name);
                }
            }
        }
    }
    let mut out: Vec<Finding> = readers
        .into_par_iter()
        .filter_map(|(rel, names)| {
            let why = clone.lacks(&cx.root.join(&rel))?;
            let names: Vec<&str> = names.into_iter().collect();
            let message = format!(
                "`{rel}`, which the build of {} reads, {why}: a clone of the repository cannot build {}",
                names.join(", "),
                if names.len() == 1 { "it" } else { "them" },
            );
            Some(Finding::new(&META, at_line(cx, &rel, 1), message))
        })
        .collect();
    out.extend(local);
    out
}
