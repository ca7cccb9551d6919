//! What the Argo CD `Application`s and Flux `Kustomization`s deploying an overlay apply at sync
//! time ([`DeployTime`], gathered by the workspace's discovery): the name and namespace options
//! the model replays ([`Layer`], laid on the build), and what it does not, as the overlay's
//! not-modelled problems: every command that loads the overlay (`check`, and `seal`, which
//! refuses an overlay it cannot vouch for) sees them.
//!
//! Both tools set these options in the directory's own kustomization before building it, not in
//! a kustomization wrapping it: Flux writes `namespace` (from `targetNamespace`), `namePrefix`
//! and `nameSuffix` over the file's own and appends its `patches` and `components` (fluxcd/pkg
//! `kustomize/kustomize_generator.go`); Argo CD runs `kustomize edit set namespace`,
//! `nameprefix` and `namesuffix` in the directory, which replace the file's own (argo-cd
//! `util/kustomize/kustomize.go`, `Build`). Argo CD then applies the namespaced objects that
//! render without a namespace into the Application's `spec.destination.namespace` (argo-cd
//! `controller/state.go`, `DeduplicateTargetObjects`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Origin, Overlay, Problem};
use crate::workspace::artifact::Artifact;
use crate::workspace::{Deploy, DeployOption, DeployTime, MAX_FILE_BYTES, PostBuild};

/// The sync-time options the model replays: the same for every object deploying the overlay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Layer {
    /// Fields set in the overlay's own kustomization, over its own values: `namespace`,
    /// `namePrefix`, `nameSuffix`, each with its value and the option that sets it.
    pub(crate) fields: Vec<(&'static str, String, DeployOption)>,
    /// Where the namespaced objects that render without a namespace are applied.
    pub(crate) destination: Destination,
    /// The load restriction the objects deploying it build it with.
    pub(crate) restrictor: Restrictor,
    /// Under Flux's restriction, the artifacts of the sources of the Flux Kustomizations
    /// deploying it (`crate::workspace::artifact`): a file one of them leaves out is not there
    /// for Flux's build to read.
    pub(crate) artifacts: Vec<Arc<Artifact>>,
    /// Whether Argo CD or Flux deploys it: they build it from the repository's commits, where
    /// a file git does not track is not.
    pub(crate) from_git: bool,
    /// The clusters the objects deploying it apply it to ([`Deploy::cluster`]), one each; empty
    /// when one is not known, or when they deploy it differently: then no other overlay's render
    /// is known to sit beside it.
    pub(crate) clusters: Vec<String>,
}

/// The load restriction an overlay is built with: which files its kustomizations may name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Restrictor {
    /// kustomize's default, `LoadRestrictionsRootOnly` (kubernetes-sigs/kustomize
    /// `api/internal/loader/fileloader.go`): a file must be in or below the directory of the
    /// kustomization naming it. `kubectl kustomize` builds so, and so does Argo CD unless its
    /// `argocd-cm` `kustomize.buildOptions` say otherwise (not read here). An overlay no object
    /// of this repository deploys, or one Argo CD deploys too, is built so.
    #[default]
    RootOnly,
    /// Flux's: `LoadRestrictionsNone`, on a file system confined to the root of the source
    /// artifact, this repository (fluxcd/pkg `kustomize/kustomize_generator.go`: `SecureBuild`
    /// makes the file system with `filesys.MakeFsOnDiskSecureBuild(root)` and `Build` sets
    /// `krusty.Options{LoadRestrictions: LoadRestrictionsNone}`; fluxcd/kustomize-controller
    /// `internal/controller/kustomization_controller.go` passes the directory the artifact is
    /// extracted to as the root). A file anywhere in the repository loads; one outside it,
    /// symlinks resolved (fluxcd/pkg `kustomize/filesys/fs_secure.go`, `isSecurePath`), does
    /// not. Holds the repository's top level as reached from the root.
    SourceRoot(PathBuf),
}

impl Restrictor {
    /// The directory no file is loaded, written or copied from outside of, given `base`: for
    /// Flux's, the repository's top level whatever `base` is (Flux refuses anything outside it,
    /// and the build's refusal of such a file is judged against this same path); for
    /// kustomize's default, `base` itself. The build passes the directory of the kustomization
    /// naming a file (kustomize's default bounds each file by it); `init` and `check --render`
    /// pass emp-seal's root, so that what emp-seal writes and copies for the overlay stays in it.
    pub(crate) fn bound<'a>(&'a self, base: &'a Path) -> &'a Path {
        match self {
            Restrictor::RootOnly => base,
            Restrictor::SourceRoot(top) => top,
        }
    }
}

/// The load restriction the objects of `deploy_time` build the overlay under `root` with:
/// Flux's when every one of them is a Flux Kustomization (discovery keeps only those whose
/// source is this repository), else kustomize's default, which an overlay that Argo CD or a
/// hand-run `kubectl kustomize` builds too must pass.
pub(crate) fn restrictor(root: &Path, deploy_time: &DeployTime) -> Restrictor {
    let deploys = &deploy_time.deploys;
    if !deploys.is_empty() && deploys.iter().all(|d| crate::workspace::is_flux(d.tool)) {
        Restrictor::SourceRoot(crate::workspace::repository_top(root))
    } else {
        Restrictor::RootOnly
    }
}

/// The distinct artifacts of the Flux Kustomizations of `deploy_time`: whatever else deploys
/// the overlay too (an Argo CD Application, under kustomize's own load restriction), Flux
/// builds it from its artifact, and fails on a file the artifact leaves out.
fn artifacts(deploy_time: &DeployTime) -> Vec<Arc<Artifact>> {
    let mut out: Vec<Arc<Artifact>> = Vec::new();
    for a in deploy_time
        .deploys
        .iter()
        .filter_map(|d| d.artifact.as_ref())
    {
        if !out.contains(a) {
            out.push(Arc::clone(a));
        }
    }
    out
}

/// Where Argo CD applies the namespaced objects that render without a namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Destination {
    /// Nowhere the model knows of (no Argo CD destination): they stay without one.
    #[default]
    Keep,
    /// Into this namespace (every object deploying the overlay is an Argo CD Application with
    /// this `destination.namespace`).
    Into(String),
    /// Not known (the objects deploying the overlay put them in different places, or a
    /// destination is templated): these problems hold when such an object renders.
    Unknown(Vec<Problem>),
}

/// The layer `deploy_time` lays on the build of the overlay under `root` (its load restriction
/// among it, [`restrictor`]), and the problems it gives the overlay: each option the model does not replay, the name and namespace options of objects that
/// deploy it differently (several deployments), and each place Flux's `postBuild` substitution
/// changes what the secret rules read (see [`substitutions`], once the overlay is built).
pub(crate) fn plan(root: &Path, deploy_time: &DeployTime) -> (Layer, Vec<Problem>) {
    let (modelled, other): (Vec<&DeployOption>, Vec<&DeployOption>) = deploy_time
        .options
        .iter()
        .partition(|o| field_of(o).is_some());
    let mut problems = options(&other);
    let per: Vec<Vec<(&'static str, String, DeployOption)>> =
        deploy_time.deploys.iter().map(fields).collect();
    let same = |a: &[(&str, String, DeployOption)], b: &[(&str, String, DeployOption)]| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.0 == y.0 && x.1 == y.1)
    };
    let agree = per.windows(2).all(|w| same(&w[0], &w[1]));
    let fields = if agree {
        per.into_iter().next().unwrap_or_default()
    } else {
        problems.extend(several(&modelled, &deploy_time.deploys));
        Vec::new()
    };
    let destination = destination(&deploy_time.deploys);
    let clusters = (deploy_time.deploys.iter())
        .map(|d| d.cluster.clone().filter(|_| agree))
        .collect::<Option<Vec<String>>>()
        .filter(|_| !matches!(destination, Destination::Unknown(_)));
    let restrictor = restrictor(root, deploy_time);
    let artifacts = artifacts(deploy_time);
    for a in &artifacts {
        problems.extend((a.unmodelled.iter()).map(|(file, line, message)| {
            Problem::not_modelled(Origin::new(file, *line), message.clone())
        }));
    }
    (
        Layer {
            fields,
            destination,
            restrictor,
            artifacts,
            from_git: !deploy_time.deploys.is_empty(),
            clusters: clusters.unwrap_or_default(),
        },
        problems,
    )
}

/// The problems `deploy_time` gives the built `overlay` after the build: each place Flux's
/// `postBuild` substitution changes what the secret rules read. Files (only those of Secrets,
/// `SealedSecret`s and objects that refer to Secrets) are taken from the texts the run already
/// read (`cache`), else read from under `root`.
pub(crate) fn problems(
    root: &Path,
    deploy_time: &DeployTime,
    overlay: &Overlay,
    cache: &super::ParseCache<'_>,
) -> Vec<Problem> {
    let text = |p: &Path| {
        let path = root.join(p);
        cache
            .text(&path)
            .map(str::to_owned)
            .or_else(|| crate::fsio::read_to_string_limited(&path, MAX_FILE_BYTES).ok())
    };
    substitutions(&deploy_time.post_build, overlay, &text)
}

/// The kustomization field a deploy option sets in place, when the model replays it: Flux's
/// `targetNamespace` and Argo CD's `namespace` set `namespace`; both tools' `namePrefix` and
/// `nameSuffix` set theirs. Only a plain, non-empty value known offline: not one with an
/// `ApplicationSet` placeholder (`{{...}}`) or a Flux variable (`${...}`, which the
/// Kustomization deploying this object's file may substitute).
fn field_of(o: &DeployOption) -> Option<&'static str> {
    let flux = crate::workspace::is_flux(o.tool);
    let field = match (flux, o.option.as_str()) {
        (true, "targetNamespace") | (false, "namespace") => "namespace",
        (_, "namePrefix") => "namePrefix",
        (_, "nameSuffix") => "nameSuffix",
        _ => return None,
    };
    known(o.value.as_deref()).map(|_| field)
}

/// A value known offline: a non-empty string without placeholders.
fn known(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty() && !v.contains("{{") && !v.contains("${"))
}

/// The fields one deploy source sets ([`field_of`]), sorted by field.
fn fields(d: &Deploy) -> Vec<(&'static str, String, DeployOption)> {
    let mut out: Vec<(&'static str, String, DeployOption)> = (d.options.iter())
        .filter_map(|o| Some((field_of(o)?, o.value.clone()?, o.clone())))
        .collect();
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

/// Not-modelled problems for the name and namespace options of objects that deploy one
/// directory with different ones: several deployments, of which the model checks none.
fn several(modelled: &[&DeployOption], deploys: &[Deploy]) -> Vec<Problem> {
    let all: Vec<String> = deploys
        .iter()
        .map(|d| format!("{}:{}", d.file, d.line))
        .collect();
    modelled
        .iter()
        .map(|o| {
            let message = format!(
                "the {} that deploys it sets `{}`, and the {} objects deploying the directory ({}) set different name or namespace options: several deployments, which the model does not check one by one, so rendered names may differ",
                o.tool,
                o.option,
                deploys.len(),
                all.join(", ")
            );
            not_modelled(o, message)
        })
        .collect()
}

/// Where the objects deploying the overlay apply its namespaced objects that render without a
/// namespace ([`Destination`]): into the one `destination.namespace` they all give, or, when
/// one gives one and they differ (or it is not known offline), not known.
fn destination(deploys: &[Deploy]) -> Destination {
    let given: Vec<&DeployOption> = deploys
        .iter()
        .filter_map(|d| d.destination.as_ref())
        .collect();
    let Some(first) = given.first() else {
        return Destination::Keep;
    };
    let value = known(first.value.as_deref());
    let agree =
        given.len() == deploys.len() && given.iter().all(|o| known(o.value.as_deref()) == value);
    match value {
        Some(v) if agree => Destination::Into(v.to_owned()),
        _ => {
            let where_: Vec<String> = deploys
                .iter()
                .map(|d| match &d.destination {
                    Some(o) => format!("{}:{} ({})", o.file, o.line, shown(o.value.as_deref())),
                    None => format!("{}:{} (none)", d.file, d.line),
                })
                .collect();
            let problems = given
                .iter()
                .map(|o| {
                    let message = format!(
                        "the {} that deploys it applies the objects that render without a namespace into its `destination.namespace`, and where they land is not one namespace known offline ({}): their namespace, and what their references reach, may differ from the model",
                        o.tool,
                        where_.join(", ")
                    );
                    not_modelled(o, message)
                })
                .collect();
            Destination::Unknown(problems)
        }
    }
}

/// An `overlay-not-modelled` problem at the line of the deploy option `o`.
fn not_modelled(o: &DeployOption, message: String) -> Problem {
    Problem::not_modelled(Origin::new(&o.file, o.line), message)
}

/// A destination value as a message shows it.
fn shown(value: Option<&str>) -> String {
    match known(value) {
        Some(v) => format!("`{}`", v.escape_debug()),
        None => "not known offline".to_owned(),
    }
}

/// The kustomize options the Argo CD Applications and Flux Kustomizations deploying an overlay
/// apply at sync time that may rename or move objects and the model does not replay (however the
/// environment was found): the overlay's findings are unverified (and `overlay-not-modelled`
/// says why, at the option's line).
fn options(options: &[&DeployOption]) -> Vec<Problem> {
    options
        .iter()
        .map(|o| {
            let why = (o.unresolved.as_ref())
                .map_or(String::new(), |w| format!(", whose value is not known offline ({w})"));
            let message = format!(
                "the {} that deploys it sets `{}`{why}, which it applies at sync time and the model does not: rendered names may differ",
                o.tool, o.option
            );
            not_modelled(o, message)
        })
        .collect()
}

/// The places where the model of an overlay a Flux Kustomization deploys with `postBuild`
/// substitution holds a substitution expression in what the secret rules read
/// ([`super::varsub`]): Flux replaces it after the build, the model does not, so the
/// overlay's findings are unverified. At the expression's line when it is found in the
/// object's file, else at the `postBuild` line. `text` gives a file's text by its path as the
/// model names it.
fn substitutions(
    post_build: &[PostBuild],
    overlay: &Overlay,
    text: &dyn Fn(&Path) -> Option<String>,
) -> Vec<Problem> {
    let Some(first) = post_build.first() else {
        return Vec::new();
    };
    let by: Vec<String> = post_build
        .iter()
        .map(|p| format!("{}:{}", p.file, p.line))
        .collect();
    let (plural, by) = (if by.len() > 1 { "s" } else { "" }, by.join(", "));
    super::varsub::substituted(overlay, text)
        .into_iter()
        .map(|s| {
            let origin = s.origin.unwrap_or_else(|| Origin::new(&first.file, first.line));
            let message = format!(
                "{}: {} {} a `${{...}}` expression, which the Flux Kustomization{plural} deploying it ({by}) substitute{} after the build (`postBuild`) and the model does not replay: the controller sees other values than the ones checked",
                s.object,
                s.fields.join(", "),
                if s.fields.len() > 1 { "hold" } else { "holds" },
                if plural.is_empty() { "s" } else { "" }
            );
            Problem::not_modelled(origin, message)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option(tool: &'static str, option: &str, value: &str, line: usize) -> DeployOption {
        DeployOption {
            tool,
            option: option.to_owned(),
            value: Some(value.to_owned()),
            file: "d.yaml".to_owned(),
            line,
            unresolved: None,
        }
    }

    fn deploy_time(deploys: Vec<Deploy>) -> DeployTime {
        DeployTime {
            options: deploys.iter().flat_map(|d| d.options.clone()).collect(),
            post_build: Vec::new(),
            deploys,
        }
    }

    fn deploy(options: Vec<DeployOption>, destination: Option<DeployOption>) -> Deploy {
        Deploy {
            tool: options.first().map_or("Argo CD Application", |o| o.tool),
            file: "d.yaml".to_owned(),
            line: 1,
            options,
            destination,
            plain: None,
            artifact: None,
            cluster: None,
        }
    }

    const FLUX: &str = "Flux Kustomization";
    const ARGO: &str = "Argo CD Application";

    #[test]
    fn the_same_options_everywhere_are_modelled_and_different_ones_are_not() {
        let target = |v: &str, line| option(FLUX, "targetNamespace", v, line);
        let same = deploy_time(vec![
            deploy(vec![target("prod", 3)], None),
            deploy(vec![target("prod", 9)], None),
        ]);
        let (layer, problems) = plan(Path::new("/"), &same);
        let fields: Vec<(&str, &str)> = (layer.fields.iter())
            .map(|(f, v, _)| (*f, v.as_str()))
            .collect();
        assert_eq!((fields, problems), (vec![("namespace", "prod")], vec![]));

        let different = deploy_time(vec![
            deploy(vec![target("prod", 3)], None),
            deploy(vec![target("staging", 9)], None),
        ]);
        let (layer, problems) = plan(Path::new("/"), &different);
        assert!(layer.fields.is_empty());
        let lines: Vec<usize> = problems.iter().map(|p| p.origin.line).collect();
        assert_eq!(lines, [3, 9]);

        // A value not known offline, and an option the model does not replay.
        let templated = deploy_time(vec![deploy(
            vec![
                option(ARGO, "namePrefix", "{{env}}-", 4),
                option(ARGO, "patches", "", 5),
            ],
            None,
        )]);
        let (layer, problems) = plan(Path::new("/"), &templated);
        assert!(layer.fields.is_empty());
        assert_eq!(problems.len(), 2);
    }

    #[test]
    fn one_destination_is_modelled_and_others_are_unknown() {
        let dest = |v: &str, line| Some(option(ARGO, "destination.namespace", v, line));
        let one = deploy_time(vec![deploy(vec![], dest("prod", 7))]);
        assert_eq!(
            plan(Path::new("/"), &one).0.destination,
            Destination::Into("prod".to_owned())
        );
        let two = deploy_time(vec![
            deploy(vec![], dest("prod", 7)),
            deploy(vec![], dest("qa", 17)),
        ]);
        let lines: Vec<usize> = match plan(Path::new("/"), &two).0.destination {
            Destination::Unknown(problems) => problems.iter().map(|p| p.origin.line).collect(),
            other => vec![usize::from(other == Destination::Keep)],
        };
        assert_eq!(lines, [7, 17], "two destinations are not one");
        let templated = deploy_time(vec![deploy(vec![], dest("app-{{env}}", 7))]);
        assert!(matches!(
            plan(Path::new("/"), &templated).0.destination,
            Destination::Unknown(_)
        ));
        assert_eq!(
            plan(Path::new("/"), &deploy_time(vec![])).0.destination,
            Destination::Keep
        );
    }

    /// Flux's load restriction only when every object deploying the overlay is a Flux
    /// Kustomization: one Argo CD deploys too must build under kustomize's default, and so must
    /// one nothing deploys (a hand-run `kubectl kustomize`).
    #[test]
    fn only_flux_deployers_lift_the_load_restrictor() {
        let t = tempfile::tempdir().expect("tempdir");
        let flux = || deploy(vec![option(FLUX, "targetNamespace", "prod", 3)], None);
        let argo = || {
            deploy(
                vec![],
                Some(option(ARGO, "destination.namespace", "prod", 7)),
            )
        };
        let restrictor = |deploys| plan(t.path(), &deploy_time(deploys)).0.restrictor;
        assert_eq!(
            restrictor(vec![flux(), flux()]),
            Restrictor::SourceRoot(t.path().to_path_buf())
        );
        assert_eq!(restrictor(vec![flux(), argo()]), Restrictor::RootOnly);
        assert_eq!(restrictor(vec![argo()]), Restrictor::RootOnly);
        assert_eq!(restrictor(vec![]), Restrictor::RootOnly);
    }
}
