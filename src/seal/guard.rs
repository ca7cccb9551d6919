//! Checks that keep `seal` from quietly weakening a secret: env-file warnings (fatal under
//! `--strict`), `--prune` of keys the workloads read, and several environments writing one shared
//! file with different certificates or identities.
//!
//! Owns those three decisions and their messages. Like the rest of the use case it must not
//! print, prompt or write; messages name files, lines, keys and workloads, never a value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{EnvPlan, SealError};
use crate::envfile::{self, EnvFile, LintSeverity};
use crate::kustomize::Overlay;
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
        for k in &r.keys {
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

/// `KEY (Kind/name, Kind/name), KEY2 (...)`.
pub fn describe_lost(lost: &[(String, Vec<String>)]) -> String {
    lost.iter()
        .map(|(k, w)| format!("{k} (read by {})", w.join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Several environments that would write the same file (a SealedSecret in a base the overlays
/// share) must seal it with the same certificate for the same identity and scope; otherwise the
/// last write wins and every other environment's controller cannot decrypt it.
pub(super) fn check_shared_targets(root: &Path, plans: &[EnvPlan]) -> Result<(), SealError> {
    let mut first: BTreeMap<PathBuf, &EnvPlan> = BTreeMap::new();
    // Named by its real path (`k8s/base/...`), not the overlay-relative way it was reached.
    let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    for p in plans {
        let key = std::fs::canonicalize(&p.target).unwrap_or_else(|_| p.target.clone());
        let Some(q) = first.get(&key) else {
            first.insert(key, p);
            continue;
        };
        let differs = if q.cert.sha256 != p.cert.sha256 {
            Some(format!(
                "certificates ({} sha256 {}, {} sha256 {})",
                rel(root, &q.cert.path),
                short(&q.cert.sha256),
                rel(root, &p.cert.path),
                short(&p.cert.sha256)
            ))
        } else if q.scope != p.scope || q.identity != p.identity {
            Some(format!(
                "identities ({}, {})",
                super::describe_identity(q.scope, &q.identity),
                super::describe_identity(p.scope, &p.identity)
            ))
        } else {
            None
        };
        if let Some(what) = differs {
            return Err(SealError::SharedTarget {
                file: rel(&real_root, &key),
                first: q.env.clone(),
                second: p.env.clone(),
                what,
            });
        }
    }
    Ok(())
}

fn short(sha: &str) -> &str {
    sha.get(..16).unwrap_or(sha)
}
