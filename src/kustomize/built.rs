//! One build of a directory, shared by discovery and `check`: discovery builds a candidate
//! directory to judge whether it is an environment (`crate::workspace`, "no secret in its
//! render"), and `check` finishes that same build into the environment's model
//! ([`Built::finish`]) instead of building the directory again.

use std::path::{Path, PathBuf};

use super::{KustomizeError, Overlay, ParseCache, Problem, build, deploy, plain};
use crate::workspace::DeployTime;

/// A directory built with the sync-time options of the objects deploying it that the model
/// replays ([`deploy::Layer`]), with what the kustomization they generate for it leaves out
/// among its problems; the options the model does not replay are not judged yet.
#[derive(Debug)]
pub(crate) struct Built {
    overlay: Overlay,
    /// How many of the overlay's problems the build itself found (the generated
    /// kustomization's follow): the options' problems go between the two, where
    /// [`Overlay::load`] puts them.
    own: usize,
    /// The problems of the options the model does not replay (`deploy::plan`).
    options: Vec<Problem>,
    /// Resource, kustomization and patch files the build parsed whole, with their kinds
    /// ([`ParseCache::manifests`]), when it read them through a cache of its own.
    manifests: Vec<(PathBuf, Vec<String>)>,
    /// False when the layer it was built with is not the one `check` builds with: only
    /// discovery's judgement may use it.
    whole: bool,
}

impl Built {
    /// Builds `dir` (under `root`) as the objects of `deploy_time` build it, reading files
    /// through `cache`.
    fn new(
        root: &Path,
        dir: &Path,
        deploy_time: &DeployTime,
        (layer, options): (deploy::Layer, Vec<Problem>),
        cache: &ParseCache,
    ) -> Result<Built, KustomizeError> {
        let generated = plain::generated(root, dir, deploy_time);
        let top = generated.as_ref().map(|g| &g.top);
        let built = build::build_deployed(root, dir, cache, (&layer, top))?;
        let mut o = Overlay::with_build(dir, built);
        o.deployed = layer;
        let own = o.built.problems.len();
        if generated.is_none() {
            for problem in own_kustomization_untracked(root, dir, deploy_time) {
                o.add_problem(problem);
            }
        }
        if let Some(g) = generated {
            for problem in g.problems {
                o.add_problem(problem);
            }
            o.generated_entries = Some(g.top);
        }
        Ok(Built {
            overlay: o,
            own,
            options,
            manifests: Vec::new(),
            whole: true,
        })
    }

    /// Builds any kustomization directory, or a directory without one that the objects of
    /// `deploy_time` deploy (built as they generate its kustomization, `plain`), for discovery
    /// to judge ([`Built::judged`]); paths in results are relative to `root` when inside it.
    ///
    /// It is built as `check` builds an environment ([`Overlay::load`]) when that cannot change
    /// the judgement, so that `check` can take the build over ([`Built::reusable`]): when the
    /// objects deploying it set no kustomization field (`namespace`, `namePrefix`,
    /// `nameSuffix`: they rename objects, and may make two the same or a reference ambiguous) and
    /// do not disagree on the destination namespace (that adds not-modelled problems). A known
    /// destination namespace only changes where objects land, not what renders nor which
    /// problems the build finds. Otherwise it is built with the load restriction only.
    pub(crate) fn for_discovery(
        root: &Path,
        dir: &Path,
        deploy_time: &DeployTime,
    ) -> Result<Built, KustomizeError> {
        let (layer, options) = deploy::plan(root, deploy_time);
        let whole = layer.fields.is_empty()
            && !matches!(layer.destination, deploy::Destination::Unknown(_));
        let layer = if whole {
            layer
        } else {
            deploy::Layer {
                restrictor: layer.restrictor,
                ..deploy::Layer::default()
            }
        };
        let cache = ParseCache::default();
        let mut built = Self::new(root, dir, deploy_time, (layer, options), &cache)?;
        built.whole = whole;
        built.manifests = cache.manifests();
        Ok(built)
    }

    /// The build, as discovery judges it: without the problems of the deploy options the model
    /// does not replay.
    pub(crate) fn judged(&self) -> &Overlay {
        &self.overlay
    }

    /// Whether `check` can finish this build into the environment's model ([`Built::finish`]).
    pub(crate) fn reusable(&self) -> bool {
        self.whole
    }

    /// The directory `dir` under `root` as the objects of `deploy_time` build it, named `name`,
    /// reading files through `cache`: what [`Overlay::load`] gives.
    pub(super) fn load(
        root: &Path,
        dir: &Path,
        name: String,
        deploy_time: DeployTime,
        cache: &ParseCache,
    ) -> Result<Overlay, KustomizeError> {
        let plan = deploy::plan(root, &deploy_time);
        let built = Self::new(root, dir, &deploy_time, plan, cache)?;
        Ok(built.finish(root, name, deploy_time, cache))
    }

    /// The environment's model (see [`Overlay::load`]), named `name`, deployed by the objects of
    /// `deploy_time`: this build with the problems of the options the model does not replay and
    /// of Flux's `postBuild` substitutions. Files the substitutions concern are taken from
    /// `cache`'s texts, else read; the files this build parsed whole are recorded in `cache`
    /// ([`ParseCache::manifests`]) as if it had read them. Only for a build
    /// [`Built::reusable`].
    pub(crate) fn finish(
        self,
        root: &Path,
        name: String,
        deploy_time: DeployTime,
        cache: &ParseCache,
    ) -> Overlay {
        let mut o = self.overlay;
        o.name = name;
        let own = self.own.min(o.built.problems.len());
        o.built.problems.splice(own..own, self.options);
        cache.record_manifests(self.manifests);
        for problem in deploy::problems(root, &deploy_time, &o, cache) {
            o.add_problem(problem);
        }
        o.post_build = deploy_time.post_build;
        o
    }
}

/// An overlay Argo CD or Flux deploys whose own kustomization file git does not track: both
/// build from a clone of the repository's commits (argo-cd `reposerver/repository/repository.go`,
/// fluxcd/source-controller `internal/controller/gitrepository_controller.go`), where the
/// directory holds no kustomization file, so they do not build what the model builds. A build
/// error at each deploying object's `path` line (as every other file of the overlay git does not
/// track is one at the line naming it).
fn own_kustomization_untracked(root: &Path, dir: &Path, deploy_time: &DeployTime) -> Vec<Problem> {
    // Nothing deploys it: no problem to report, and no need to ask git (`seal` of a plain
    // overlay never spawns it).
    if deploy_time.deploys.is_empty() {
        return Vec::new();
    }
    let Some(kfile) = crate::workspace::kustomization_file(dir) else {
        return Vec::new();
    };
    let Some(lacks) = crate::workspace::clone_lacks(root, &kfile) else {
        return Vec::new();
    };
    let shown = crate::workspace::rel(root, &kfile);
    (deploy_time.deploys.iter())
        .map(|d| Problem {
            kind: super::ProblemKind::BuildError,
            origin: super::Origin::new(&d.file, d.line),
            message: format!(
                "the overlay's kustomization file {shown} {}: the {} deploying it builds from the repository's commits and will not find it",
                lacks.because("it"),
                d.tool
            ),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    use crate::workspace::write_fixture as write;

    /// A build made for discovery and finished for `check` is the model `Overlay::load` builds,
    /// problems in the same order: the build's own (a missing resource) and the deploy options'
    /// (Argo CD's `commonAnnotations`, not modelled) for a kustomization directory, the generated
    /// kustomization's (Argo CD's `directory.include`, not replayed) for a directory without a
    /// kustomization file, each deployed into a known destination namespace. One deployed with
    /// a `namePrefix` is not handed on.
    #[test]
    fn a_finished_discovery_build_is_the_loaded_model() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        let app = |name: &str, path: &str, source: &str| {
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\nspec:\n  source:\n    repoURL: https://example.org/r.git\n    path: {path}\n{source}  destination:\n    namespace: ns-{name}\n---\n"
            )
        };
        let apps = [
            app(
                "kust",
                "apps/kust",
                "    kustomize:\n      commonAnnotations:\n        a: b\n",
            ),
            app(
                "plain",
                "apps/plain",
                "    directory:\n      include: '*.yaml'\n",
            ),
            app(
                "prefixed",
                "apps/prefixed",
                "    kustomize:\n      namePrefix: p-\n",
            ),
        ];
        write(root, "argocd/apps.yaml", &apps.concat());
        let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n";
        let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n";
        write(root, "apps/kust/cm.yaml", cm);
        write(root, "apps/kust/secret.yaml", secret);
        write(
            root,
            "apps/kust/kustomization.yaml",
            "resources:\n  - cm.yaml\n  - secret.yaml\n  - missing.yaml\n",
        );
        write(root, "apps/plain/cm.yaml", cm);
        write(root, "apps/plain/secret.yaml", secret);
        write(root, "apps/prefixed/secret.yaml", secret);
        write(
            root,
            "apps/prefixed/kustomization.yaml",
            "resources:\n  - secret.yaml\n",
        );
        for name in ["kust", "plain"] {
            let env = crate::workspace::resolve(root, name).unwrap();
            let built = Built::for_discovery(root, &env.dir, &env.deploy_time).unwrap();
            assert!(built.reusable(), "{name}");
            let cache = ParseCache::default();
            let finished = built.finish(root, env.name.clone(), env.deploy_time, &cache);
            let loaded = Overlay::load(root, name).unwrap();
            assert!(!finished.problems().is_empty(), "{name}: {finished:?}");
            assert_eq!(format!("{finished:?}"), format!("{loaded:?}"), "{name}");
        }
        let env = crate::workspace::resolve(root, "prefixed").unwrap();
        let built = Built::for_discovery(root, &env.dir, &env.deploy_time).unwrap();
        assert!(!built.reusable());
    }
}
