//! What the Argo CD `Application`s and Flux `Kustomization`s deploying an overlay apply at sync
//! time that the model does not replay ([`DeployTime`], gathered by the workspace's discovery),
//! as the overlay's not-modelled problems: every command that loads the overlay (`check`, and
//! `seal`, which refuses an overlay it cannot vouch for) sees them.

use std::path::{Path, PathBuf};

use super::{Origin, Overlay, Problem, ProblemKind};
use crate::workspace::{DeployOption, DeployTime, MAX_FILE_BYTES, PostBuild};

/// The problems `deploy_time` gives `overlay`: each renaming option, and each place Flux's
/// `postBuild` substitution changes what the secret rules read. Files (only for a `postBuild`,
/// and only those of Secrets, `SealedSecret`s and objects that refer to Secrets) are taken from
/// the texts the run already read (`cache`), else read from under `root`.
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
    let mut out = options(&deploy_time.options);
    out.extend(substitutions(&deploy_time.post_build, overlay, &text));
    out
}

/// The kustomize options the Argo CD Applications and Flux Kustomizations deploying an overlay
/// apply at sync time that may rename or move objects (however the environment was found): not
/// modelled, so the overlay's findings are unverified (and `overlay-not-modelled` says why, at
/// the option's line).
fn options(options: &[DeployOption]) -> Vec<Problem> {
    options
        .iter()
        .map(|o| Problem {
            kind: ProblemKind::NotModelled,
            origin: Origin {
                file: PathBuf::from(&o.file),
                line: o.line,
            },
            message: format!(
                "the {} that deploys it sets `{}`, which it applies at sync time and the model does not: rendered names may differ",
                o.tool, o.option
            ),
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
        .map(|s| Problem {
            kind: ProblemKind::NotModelled,
            origin: s.origin.unwrap_or_else(|| Origin {
                file: PathBuf::from(&first.file),
                line: first.line,
            }),
            message: format!(
                "{}: {} {} a `${{...}}` expression, which the Flux Kustomization{plural} deploying it ({by}) substitute{} after the build (`postBuild`) and the model does not replay: the controller sees other values than the ones checked",
                s.object,
                s.fields.join(", "),
                if s.fields.len() > 1 { "hold" } else { "holds" },
                if plural.is_empty() { "s" } else { "" }
            ),
        })
        .collect()
}
