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
    /// Resource files the build parsed whole, with their kinds ([`ParseCache::manifests`]),
    /// when it read them through a cache of its own.
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
