//! Checks that keep `seal` from quietly weakening a secret: env-file warnings (fatal under
//! `--strict`), `--prune` of keys the workloads read, and a shared file sealed for one
//! environment's certificate or identity while another environment renders it differently.
//!
//! Owns those three decisions and their messages. Like the rest of the use case it must not
//! print, prompt or write; messages name files, lines, keys and workloads, never a value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{EnvPlan, SealError, SealedTo};
use crate::crypto::Scope;
use crate::envfile::{self, EnvFile, LintSeverity};
use crate::kustomize::{Identity, Overlay, SecretSource};
use crate::workspace::rel;

/// One thing about the env file that `seal` warns about (and `--strict` refuses): a line other
/// tools read differently, or an empty value. Names the line and key, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnvWarning {
    /// 1-based line.
    pub line: usize,
    /// The key of that line (absent when the line is no key, e.g. a file-wide lint).
    pub key: Option<String>,
    /// The lint id (`env-quoted-value`, ...) or `empty-value`.
    pub id: &'static str,
    /// What is wrong, in one phrase.
    pub what: &'static str,
}

impl std::fmt::Display for EnvWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(k) = &self.key {
            write!(f, " `{k}`")?;
        }
        write!(f, ": {} [{}]", self.what, self.id)
    }
}

/// The warnings of an env file that is about to be sealed: every lint the file has (the errors
/// that sealing refuses outright never get here), and every key whose value is empty.
pub(super) fn env_warnings(bytes: &[u8], parsed: &EnvFile) -> Vec<EnvWarning> {
    let key_at = |line: usize| {
        parsed
            .key_entries()
            .find(|e| e.line == line)
            .map(|e| e.key.clone())
    };
    let mut out: Vec<EnvWarning> = envfile::lint(bytes)
        .into_iter()
        .filter(|l| {
            l.severity == LintSeverity::Warning || l.id == envfile::LintId::MultilineAttempt
        })
        .map(|l| EnvWarning {
            line: l.line,
            key: key_at(l.line),
            id: l.id.as_str(),
            what: l.id.summary(),
        })
        .collect();
    out.extend(
        parsed
            .key_entries()
            .filter(|e| e.has_equals && e.value.is_empty())
            .map(|e| EnvWarning {
                line: e.line,
                key: Some(e.key.clone()),
                id: "empty-value",
                what: "an empty value, sealed as the empty string",
            }),
    );
    out.sort_by_key(|w| w.line);
    out
}

/// `--strict`: any warning refuses the file.
pub(super) fn refuse_if_strict(
    strict: bool,
    file: &str,
    warnings: &[EnvWarning],
) -> Result<(), SealError> {
    if !strict || warnings.is_empty() {
        return Ok(());
    }
    Err(SealError::StrictWarnings {
        file: file.to_owned(),
        list: warnings
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
    })
}

/// The keys of the Secret named `secret` that the overlay's workloads read one by one
/// (`secretKeyRef`, KEDA `secretTargetRef`, volume `items`; not `optional`), each with the
/// workloads that read it (`Kind/name`).
pub(crate) fn keys_read_by_workloads(
    overlay: &Overlay,
    secret: &str,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in overlay.references() {
        if r.target_kind != "Secret" || r.rendered_name != secret || r.optional {
            continue;
        }
        let who = format!("{}/{}", r.referrer_kind, r.referrer.name);
        for (k, _) in &r.keys {
            let list = out.entry(k.clone()).or_default();
            if !list.contains(&who) {
                list.push(who.clone());
            }
        }
    }
    out
}

/// `--prune` of keys the workloads read: refused without `--force`; with it, the keys and the
/// workloads that lose them are returned for the caller to report.
pub(super) fn check_prune(
    overlay: &Overlay,
    secret: &str,
    file: &str,
    removed: &[String],
    force: bool,
) -> Result<Vec<(String, Vec<String>)>, SealError> {
    let read = keys_read_by_workloads(overlay, secret);
    let lost: Vec<(String, Vec<String>)> = removed
        .iter()
        .filter_map(|k| read.get(k).map(|w| (k.clone(), w.clone())))
        .collect();
    if lost.is_empty() || force {
        return Ok(lost);
    }
    Err(SealError::PruneNeeded {
        file: file.to_owned(),
        keys: describe_lost(&lost),
    })
}

/// `KEY (read by Kind/name, Kind/name), KEY2 (...)`.
pub fn describe_lost(lost: &[(String, Vec<String>)]) -> String {
    lost.iter()
        .map(|(k, w)| format!("{k} (read by {})", w.join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Who renders a SealedSecret that `seal` writes: an environment of the run, or another one
/// whose overlay includes the same file.
struct Renderer {
    env: String,
    /// The certificate's path and SHA-256.
    cert: (PathBuf, String),
    scope: Scope,
    identity: Identity,
}

impl Renderer {
    fn of_plan(p: &EnvPlan) -> Renderer {
        Renderer {
            env: p.env.clone(),
            cert: (p.cert.path.clone(), p.cert.sha256.clone()),
            scope: p.scope,
            identity: p.identity.clone(),
        }
    }

    /// Whether one ciphertext opens for both: both labels known and equal. The label is the
    /// controller's decryption label (sealed-secrets `pkg/apis/sealedsecrets/v1alpha1`
    /// `EncryptionLabel`): a cluster-wide value opens under any name and namespace, a
    /// namespace-wide one under any name. A render without the namespace its scope binds has no
    /// label, which matches none (not even another such). Made by [`SealedTo`], as the label
    /// `seal` seals under is, so that the two cannot differ.
    fn same_label(&self, other: &Renderer) -> bool {
        let label = |r: &Renderer| SealedTo::new(r.scope, r.identity.clone()).map(|t| t.label());
        matches!((label(self), label(other)), (Some(a), Some(b)) if a == b)
    }

    /// What `other` would need to share with `self` for one ciphertext to decrypt for both.
    fn differs(&self, root: &Path, other: &Renderer) -> Option<String> {
        match (&self.cert, &other.cert) {
            ((qp, qs), (pp, ps)) if qs != ps => Some(format!(
                "certificates ({} sha256 {}, {} sha256 {})",
                rel(root, qp),
                crate::cert::short_fingerprint(qs),
                rel(root, pp),
                crate::cert::short_fingerprint(ps)
            )),
            _ if self.scope != other.scope || !self.same_label(other) => Some(format!(
                "identities ({}, {})",
                super::describe_identity(self.scope, &self.identity),
                super::describe_identity(other.scope, &other.identity)
            )),
            _ => None,
        }
    }
}

/// A SealedSecret written by several environments (a SealedSecret in a base the overlays share)
/// must be sealed with the same certificate and scope for the same label (the rendered name and
/// namespace as far as the scope binds them); otherwise the last write wins and every other
/// environment's controller cannot decrypt it. The same holds for an
/// environment the run does not seal whose overlay renders that SealedSecret too: its
/// controller reads the same file.
pub(crate) fn check_shared_targets(
    root: &Path,
    plans: &[&EnvPlan],
    now: u64,
) -> Result<(), SealError> {
    // Named by its real path (`k8s/base/...`), not the overlay-relative way it was reached.
    let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let real_root = real(root);
    let mut first: BTreeMap<(PathBuf, String), Renderer> = BTreeMap::new();
    for &p in plans {
        let key = (real(&p.target), p.name.clone());
        let r = Renderer::of_plan(p);
        let Some(q) = first.get(&key) else {
            first.insert(key, r);
            continue;
        };
        if let Some(what) = q.differs(root, &r) {
            return Err(SealError::SharedTarget {
                file: rel(&real_root, &key.0),
                first: q.env.clone(),
                second: r.env,
                what,
            });
        }
    }
    for (key, r) in other_renderers(root, plans, now, &first)? {
        if let Some(q) = first.get(&key)
            && let Some(what) = q.differs(root, &r)
        {
            return Err(SealError::SharedWithUnsealed {
                file: rel(&real_root, &key.0),
                env: q.env.clone(),
                other: r.env,
                what,
            });
        }
    }
    Ok(())
}

/// A SealedSecret a seal writes: its real file path and name as written.
type SealedKey = (PathBuf, String);

/// A SealedSecret another environment renders, with the scope and identity it renders with.
type SharedSource = (SealedKey, Scope, Identity);

/// The SealedSecrets the environments not in `plans` render that are among `wanted` (keyed by
/// real file path and name as written), with how each renders them. The overlays are built in
/// parallel over one parse cache; a certificate is read only for an environment that renders
/// one of `wanted`.
///
/// # Errors
/// [`SealError::SharedUnknown`] for an environment whose build may read one of the files but
/// whose overlay cannot be loaded, or that renders one of them through what emp-seal does not
/// model, or with a certificate that cannot be used: it may need other values than the run seals.
fn other_renderers(
    root: &Path,
    plans: &[&EnvPlan],
    now: u64,
    wanted: &BTreeMap<SealedKey, Renderer>,
) -> Result<Vec<(SealedKey, Renderer)>, SealError> {
    let ws = crate::workspace::get(root);
    let cache = crate::kustomize::ParseCache::default();
    // Only the environments whose build may read a wanted file are built; one is built on this
    // thread (starting rayon's pool for it would cost more than it saves).
    let reaching: Vec<_> = (ws.envs.iter())
        .filter(|e| plans.iter().all(|p| p.env != e.name))
        .filter_map(|env| Some((env, reached(env, wanted)?)))
        .collect();
    let other = |&(env, file): &(_, _)| other_env(root, (env, file), wanted, &cache);
    let found = crate::par::map(&reaching, reaching.len() <= 1, other);
    let mut out = Vec::new();
    for ((env, _), shared) in reaching.iter().zip(found) {
        let shared = shared?;
        let Some(((file, _), ..)) = shared.first() else {
            continue;
        };
        let cert = match super::values::certificate(root, &env.name, None, now) {
            Ok((_, s)) => (s.path, s.sha256),
            Err(e) => {
                let why = format!("its certificate cannot be used ({e})");
                return Err(unknown_error(root, wanted, &env.name, file, why));
            }
        };
        for (key, scope, identity) in shared {
            let r = Renderer {
                env: env.name.clone(),
                cert: cert.clone(),
                scope,
                identity,
            };
            out.push((key, r));
        }
    }
    Ok(out)
}

/// The first of `wanted`'s files environment `env`'s build may read; `None` when discovery knows
/// its build reads none of them (kustomize's load restrictor, api/internal/loader/
/// loadrestrictions.go `RestrictionRootOnly`: a file is read only by a kustomization in its
/// directory or above, or, as Flux builds without it, named by one as a resource:
/// `discover::reached`).
fn reached<'w>(
    env: &crate::workspace::Environment,
    wanted: &'w BTreeMap<SealedKey, Renderer>,
) -> Option<&'w PathBuf> {
    wanted.keys().map(|(file, _)| file).find(|file| {
        env.reaches
            .as_ref()
            .is_none_or(|dirs| dirs.iter().any(|d| file.starts_with(d)))
    })
}

/// What environment `env`'s build renders of `wanted`, given the file of them it may read
/// (`reached`): none of them (empty), or those it renders, with how.
///
/// # Errors
/// [`SealError::SharedUnknown`] when its overlay does not load or kustomize would not build it
/// (a problem that fails the build), or when it renders one of them through what emp-seal does
/// not model.
fn other_env(
    root: &Path,
    (env, reached): (&crate::workspace::Environment, &PathBuf),
    wanted: &BTreeMap<SealedKey, Renderer>,
    cache: &crate::kustomize::ParseCache,
) -> Result<Vec<SharedSource>, SealError> {
    let unknown = |file: &Path, why: String| unknown_error(root, wanted, &env.name, file, why);
    let unloadable =
        |what: String| unknown(reached, format!("its overlay cannot be loaded ({what})"));
    let overlay = Overlay::load_or_unbuildable(root, &env.name, cache)
        .map_err(|e| unloadable(e.to_string()))?;
    if let Some(p) = overlay.problems().iter().find(|p| p.fails_build()) {
        return Err(unloadable(format!("{}: {}", p.origin, p.message)));
    }
    let shared: Vec<_> = overlay
        .secret_sources()
        .iter()
        .filter_map(SecretSource::as_sealed)
        .map(|s| {
            let path = std::fs::canonicalize(root.join(&s.file)).unwrap_or(s.file.clone());
            ((path, s.name_in_file.clone()), s.scope, s.rendered.clone())
        })
        .filter(|(k, _, _)| wanted.contains_key(k))
        .collect();
    // The identity it renders the file with is a guess, as for the environments sealed
    // (`refuse_unverified`).
    if let Some(((file, _), ..)) = shared.first()
        && let Err(SealError::OverlayUnverified { origin, message }) =
            super::refuse_unverified(&overlay)
    {
        let why =
            format!("emp-seal does not model how its overlay renders it ({origin}: {message})");
        return Err(unknown(file, why));
    }
    Ok(shared)
}

/// [`SealError::SharedUnknown`]: environment `other` may render `file` (a real path among
/// `wanted`), and `why` says what about it is unknown.
fn unknown_error(
    root: &Path,
    wanted: &BTreeMap<SealedKey, Renderer>,
    other: &str,
    file: &Path,
    why: String,
) -> SealError {
    let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let sealed = wanted.iter().find(|((f, _), _)| f == file);
    SealError::SharedUnknown {
        file: rel(&real_root, file),
        env: sealed.map(|(_, r)| r.env.clone()).unwrap_or_default(),
        other: other.to_owned(),
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renderer(scope: Scope, namespace: Option<&str>, name: &str) -> Renderer {
        Renderer {
            env: "e".to_owned(),
            cert: (PathBuf::from("c.pem"), "sha".to_owned()),
            scope,
            identity: Identity {
                name: name.to_owned(),
                namespace: namespace.map(str::to_owned),
            },
        }
    }

    /// Two strict renders without a namespace have no label: they never count as sharing one
    /// (each would decrypt under whatever namespace it is applied in).
    #[test]
    fn renders_without_a_bound_namespace_never_share_a_label() {
        let root = Path::new(".");
        let bare = || renderer(Scope::Strict, None, "s");
        assert!(bare().differs(root, &bare()).is_some());
        let wide = || renderer(Scope::NamespaceWide, None, "s");
        assert!(wide().differs(root, &wide()).is_some());
        let a = renderer(Scope::Strict, Some("a"), "s");
        assert!(a.differs(root, &bare()).is_some());
        assert!(
            a.differs(root, &renderer(Scope::Strict, Some("a"), "s"))
                .is_none()
        );
        // Cluster-wide: the label holds no namespace, so none is needed.
        let cw = |ns| renderer(Scope::ClusterWide, ns, "s");
        assert!(cw(None).differs(root, &cw(Some("b"))).is_none());
    }
}
