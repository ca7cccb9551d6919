//! `emp-seal cert`: what a sealing certificate is, which overlays use it, and whether their
//! `SealedSecret`s were sealed with it; `fetch` (its own module) downloads a controller's
//! certificate.
//!
//! Owns: resolving `ENV|PATH` to certificate files and the usage and "sealed with" report. Must
//! not print, read kubeconfig, or decrypt anything: "sealed with" is decided from the
//! `emp-seal.dev/cert-sha256` record and the ciphertexts' structure.

use std::path::{Path, PathBuf};

use crate::cert::{CertError, Certificate, SECONDS_PER_DAY};
use crate::fsio;
use crate::seal::{self, SealError};
use crate::sealedsecret::ciphertext::{self, Kind, Reason};
use crate::sealedsecret::{CERT_SHA256_ANNOTATION, SealedSecretDoc};
use crate::workspace::{DEFAULT_CERT_FILE, MAX_INPUT_BYTES, rel};

mod fetch;

pub(crate) use fetch::is_https;
pub use fetch::{FetchOptions, Saved, TlsProblem, fetch_url, save_fetched};

/// Errors of `emp-seal cert`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertInfoError {
    /// Resolving the environment or reading a file failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("no overlay has a {DEFAULT_CERT_FILE}")]
    NoCerts,
    #[error("no environment's sealing certificate is there (looked for {})", looked.join(", "))]
    NoneThere {
        /// Each environment's certificate path, repository-relative.
        looked: Vec<String>,
    },
    #[error("--fetch needs an environment or a path to save the certificate to")]
    FetchNeedsTarget,
    #[error("{target}: --fetch has no URL, and {config} names no certificate URL for it")]
    FetchNeedsUrl {
        /// The target as given (an environment or a path).
        target: String,
        env: Option<String>,
        /// The config file, repository-relative (`emp-seal.toml` when there is none).
        config: String,
    },
    #[error("{file}: {source}")]
    Cert { file: String, source: CertError },
    /// The certificate file parses, but its key cannot seal. Its subject and expiry are shown
    /// so that the user can tell which certificate it is.
    #[error(
        "{file}: the certificate `{subject}` (expires {not_after}) cannot be used for sealing: {source}"
    )]
    Unusable {
        file: String,
        /// Subject, RFC 4514 style.
        subject: String,
        /// `NotAfter`, RFC 3339.
        not_after: String,
        source: CertError,
    },
    /// The URL cannot be fetched as written (scheme, form, host).
    #[error("{url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("{url}: {reason}")]
    Fetch {
        /// The URL (without credentials).
        url: String,
        reason: String,
    },
    #[error("{url}: TLS: {reason}")]
    Tls {
        url: String,
        reason: String,
        /// The kind of failure (selects the hint).
        problem: TlsProblem,
    },
    #[error("{file}: not a usable CA certificate file: {reason}")]
    CaCert { file: String, reason: String },
    #[error("{url}: the download is not a usable certificate, nothing was saved: {source}")]
    NotACertificate { url: String, source: CertError },
    /// The download holds a private key next to the certificate. The certificate file is
    /// committed, so it is refused rather than written; the key's content is never shown.
    #[error(
        "{url}: the download holds a private key (a `{label}` block); nothing was saved, the certificate file is committed"
    )]
    PrivateKeyInDownload {
        url: String,
        /// The PEM label, e.g. `PRIVATE KEY`.
        label: String,
    },
    #[error(transparent)]
    Fs(#[from] fsio::FsError),
}

impl CertInfoError {
    pub fn hint(&self) -> Option<String> {
        match self {
            CertInfoError::Seal(e) => e.hint(),
            CertInfoError::NoCerts | CertInfoError::NoneThere { .. } => {
                Some("fetch one: emp-seal cert ENV --fetch URL (docs/certificates.md)".to_owned())
            }
            CertInfoError::FetchNeedsTarget => {
                Some("e.g. emp-seal cert paper --fetch http://127.0.0.1:8080/v1/cert.pem".to_owned())
            }
            CertInfoError::FetchNeedsUrl { target, env, config } => Some(match env {
                Some(env) => format!(
                    "give the URL: `emp-seal cert {target} --fetch https://HOST/v1/cert.pem`, or name it once in {config}: `[environment.{env}]` then `certificate = \"https://HOST/v1/cert.pem\"` (docs/certificates.md)"
                ),
                None => format!(
                    "give the URL: `emp-seal cert {target} --fetch https://HOST/v1/cert.pem`; a URL from {config} needs an environment name, not a path (docs/certificates.md)"
                ),
            }),
            CertInfoError::BadUrl { .. } => Some(
                "--fetch takes http://HOST:PORT/v1/cert.pem, https://HOST/PATH or file:///absolute/path.pem"
                    .to_owned(),
            ),
            CertInfoError::Fetch { url, .. } if url.starts_with("file:") => Some(
                "a file:// URL names a local file by its absolute path (file:///path/cert.pem)"
                    .to_owned(),
            ),
            CertInfoError::Fetch { .. } => Some(
                "is the controller reachable? e.g. `kubectl -n kube-system port-forward svc/sealed-secrets-controller 8080:8080` then http://127.0.0.1:8080/v1/cert.pem"
                    .to_owned(),
            ),
            CertInfoError::Tls { problem, .. } => Some(problem.hint().to_owned()),
            CertInfoError::CaCert { .. } => Some(
                "--ca-cert takes a PEM file of CERTIFICATE blocks, e.g. the cluster CA: kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d > ca.pem"
                    .to_owned(),
            ),
            CertInfoError::NotACertificate { .. } => Some(
                "the URL should serve the controller's /v1/cert.pem (a PEM CERTIFICATE)".to_owned(),
            ),
            CertInfoError::PrivateKeyInDownload { .. } => Some(
                "fetch only the controller's certificate (/v1/cert.pem, or `kubeseal --fetch-cert`), never its key Secret; treat a key served or stored where others read it as exposed"
                    .to_owned(),
            ),
            CertInfoError::Cert { source, .. } | CertInfoError::Unusable { source, .. } => {
                source.hint().map(str::to_owned)
            }
            CertInfoError::Fs(e) => e.hint().map(str::to_owned),
        }
    }
}

/// What a certificate is.
#[derive(Debug, Clone)]
pub struct CertInfo {
    pub path: PathBuf,
    /// Subject, RFC 4514 style.
    pub subject: String,
    pub key_bits: usize,
    /// `NotBefore`, Unix seconds.
    pub not_before: u64,
    /// `NotAfter`, Unix seconds.
    pub not_after: u64,
    /// Whole days until `NotAfter` (negative once expired).
    pub days_left: i64,
    /// SHA-256 of the DER, lowercase hex.
    pub sha256: String,
    /// kubeseal's SSH-style public-key fingerprint.
    pub ssh_fingerprint: String,
    /// Whether it is emp-seal's demo certificate.
    pub demo: bool,
}

impl CertInfo {
    fn new(path: &Path, c: &Certificate, now: u64) -> CertInfo {
        CertInfo {
            path: path.to_path_buf(),
            subject: c.subject().to_owned(),
            key_bits: c.key_bits(),
            not_before: c.not_before(),
            not_after: c.not_after(),
            days_left: days_left(c.not_after(), now),
            sha256: c.sha256_fingerprint(),
            ssh_fingerprint: c.ssh_fingerprint(),
            demo: c.is_demo(),
        }
    }

    /// Expired, or within [`crate::cert::EXPIRY_WARNING_DAYS`] of expiring.
    pub fn needs_attention(&self) -> bool {
        self.days_left < i64::try_from(crate::cert::EXPIRY_WARNING_DAYS).unwrap_or(30)
    }
}

/// Whole days until `after`; once past it, minus the whole days since (at least 1), so that a
/// certificate that expired two days and one second ago reads "2 days ago", not 3.
fn days_left(after: u64, now: u64) -> i64 {
    let days = |secs: u64| i64::try_from(secs / SECONDS_PER_DAY).unwrap_or(i64::MAX);
    if after >= now {
        days(after - now)
    } else {
        -days(now - after).max(1)
    }
}

/// Whether an overlay's `SealedSecret` was sealed with the certificate under inspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealedState {
    /// The `emp-seal.dev/cert-sha256` record names this certificate and every value fits its key.
    WithThis,
    /// The record names another certificate.
    WithOther { sha256: String },
    /// The record names this certificate, but some values cannot come from its key.
    RecordButValuesDiffer {
        /// Keys whose ciphertext does not fit this key.
        keys: Vec<String>,
    },
    /// No record, and some values cannot come from this key (other key size, or above its modulus).
    NotThis {
        /// Keys whose ciphertext does not fit this key.
        keys: Vec<String>,
    },
    /// No record; every value is structurally consistent with this key (cannot be proven
    /// without the private key).
    Unknown,
    /// Nothing sealed yet: placeholders or no values.
    NotSealed,
    /// The overlay's SealedSecrets, or this one's file, could not be read: nothing was compared.
    Unreadable {
        /// Why (names files, never values).
        reason: String,
    },
}

/// One overlay's `SealedSecret` compared with the certificate.
#[derive(Debug, Clone)]
pub struct SealedUse {
    pub env: String,
    /// The file holding the SealedSecret (the overlay's directory when its SealedSecrets could
    /// not be read).
    pub file: PathBuf,
    /// Its rendered `NAMESPACE/NAME` (`NAME` when it has no namespace); none when the overlay's
    /// SealedSecrets could not be read.
    pub name: Option<String>,
    pub state: SealedState,
}

/// The full report on one certificate.
#[derive(Debug, Clone)]
pub struct CertReport {
    pub info: CertInfo,
    /// Environments whose `sealing-cert.pem` is this certificate.
    pub used_by: Vec<String>,
    /// Every `SealedSecret` each overlay renders, and whether it was sealed with this certificate.
    pub sealed: Vec<SealedUse>,
    /// The inspected files holding this certificate that also hold a private key, with the
    /// label of the first such block (never its content).
    pub private_keys: Vec<(PathBuf, String)>,
}

/// The certificate file an `ENV|PATH` argument names: an overlay's `sealing-cert.pem` when it is
/// an environment name, else the path. Returns the environment too.
///
/// # Errors
/// [`CertInfoError::Seal`] with [`SealError::UnknownEnv`] for a bare name that is neither.
pub fn resolve_target(
    root: &Path,
    target: &str,
) -> Result<(PathBuf, Option<String>), CertInfoError> {
    let p = Path::new(target);
    let bare = !target.contains(['/', '\\']);
    // An environment's name (`paper`, `shop/dev`) or directory names its certificate.
    if !p.is_file()
        && let Some(e) = crate::workspace::resolve_fresh(root, target)
    {
        // Refused below a config file this run does not read (its `certificate` would not apply).
        crate::workspace::overlay_dir(root, target).map_err(CertInfoError::Seal)?;
        return Ok((e.cert, Some(e.name)));
    }
    // A directory that is no environment (`.` typed in `k8s/overlays`, passed on by its path
    // from the root) names no certificate file: report it as the environment it is not.
    let dir = p.is_dir() || root.join(target).is_dir();
    if !dir && (p.exists() || !bare || target.ends_with(".pem") || target.ends_with(".crt")) {
        return Ok((p.to_path_buf(), None));
    }
    Err(crate::workspace::overlay_dir(root, target)
        .err()
        .map_or(CertInfoError::NoCerts, CertInfoError::Seal))
}

/// The certificate in `path`, and the label of the first private key block the file also
/// holds (see [`crate::cert::private_key_blocks`]).
fn load(root: &Path, path: &Path) -> Result<(Certificate, Option<String>), CertInfoError> {
    // Wiped: a certificate file may hold a private key block too (reported, never kept).
    let bytes = zeroize::Zeroizing::new(fsio::read_limited(path, MAX_INPUT_BYTES)?);
    let private_key = crate::cert::private_key_blocks(&bytes)
        .into_iter()
        .next()
        .map(|k| k.label);
    let cert = Certificate::from_pem(&bytes).map_err(|source| {
        let file = rel(root, path);
        match crate::cert::describe_pem(&bytes) {
            Some((subject, not_after)) if source.is_unusable_key() => CertInfoError::Unusable {
                file,
                subject,
                not_after: crate::cert::rfc3339(not_after),
                source,
            },
            _ => CertInfoError::Cert { file, source },
        }
    })?;
    Ok((cert, private_key))
}

/// The environments whose sealing certificate is not there (name, repository-relative path).
pub type NotThere = Vec<(String, String)>;

/// Reports on the certificate(s) named by `target` (`None`: every environment's sealing
/// certificate), with the environments whose certificate is not there: what `cert` without a
/// target could not inspect.
///
/// # Errors
/// Any [`CertInfoError`].
pub fn inspect(
    root: &Path,
    target: Option<&str>,
    now: u64,
) -> Result<(Vec<CertReport>, NotThere), CertInfoError> {
    // Resolved first: a name not in the cached workspace refreshes it, and the environments
    // below are then those of the refreshed one.
    let resolved = target.map(|t| resolve_target(root, t)).transpose()?;
    let ws = crate::workspace::get(root);
    let envs = &ws.envs;
    let (paths, not_there) = cert_paths(root, resolved, envs)?;
    if paths.is_empty() {
        return Err(CertInfoError::NoCerts);
    }
    let certs = (paths.into_iter())
        .map(|p| load(root, &p).map(|(cert, key)| (p, cert, key)))
        .collect::<Result<Vec<_>, _>>()?;
    // Every environment is read once, whatever the number of certificates compared with it: its
    // certificate's fingerprint (taken from `certs` when it is one of them, so that no file is
    // read twice; none when `load` refuses it: a missing one is no match) and its SealedSecrets.
    let read: Vec<_> = (envs.iter())
        .map(|o| {
            let sha = match certs.iter().find(|(p, ..)| *p == o.cert) {
                Some((_, c, _)) => Some(c.sha256_fingerprint()),
                None => load(root, &o.cert)
                    .ok()
                    .map(|(c, _)| c.sha256_fingerprint()),
            };
            (o, sha, sealed_uses(root, o))
        })
        .collect();
    let mut reports: Vec<CertReport> = Vec::new();
    for (path, cert, private_key) in &certs {
        let info = CertInfo::new(path, cert, now);
        let private_keys: Vec<(PathBuf, String)> = (private_key.iter())
            .map(|l| (path.clone(), l.clone()))
            .collect();
        // Shown once, but a key in this file is still said.
        if let Some(r) = reports.iter_mut().find(|r| r.info.sha256 == info.sha256) {
            r.private_keys.extend(private_keys);
            continue;
        }
        let used_by = (read.iter())
            .filter(|(_, sha, _)| sha.as_ref() == Some(&info.sha256))
            .map(|(o, ..)| o.name.clone())
            .collect();
        let sealed = (read
            .iter()
            .flat_map(|(o, _, uses)| uses.iter().map(move |u| (o, u))))
        .map(|(o, u)| SealedUse {
            env: o.name.clone(),
            file: u.file.clone(),
            name: u.name.clone(),
            state: match &u.doc {
                Ok(d) => sealed_state(d, cert, &info.sha256),
                Err(reason) => SealedState::Unreadable {
                    reason: reason.clone(),
                },
            },
        })
        .collect();
        reports.push(CertReport {
            info,
            used_by,
            sealed,
            private_keys,
        });
    }
    Ok((reports, not_there))
}

/// The certificate files to report on: the one `resolved` names (refused when it is an
/// environment's and not there), else every environment's that is there, with those that are
/// not.
///
/// # Errors
/// [`SealError::NoCert`] or [`CertInfoError::NoneThere`].
fn cert_paths(
    root: &Path,
    resolved: Option<(PathBuf, Option<String>)>,
    envs: &[crate::workspace::Environment],
) -> Result<(Vec<PathBuf>, NotThere), CertInfoError> {
    match resolved {
        Some((path, env)) => {
            if let Some(env) = env
                && !path.is_file()
            {
                let path = rel(root, &path);
                return Err(SealError::NoCert { env, path }.into());
            }
            Ok((vec![path], Vec::new()))
        }
        None => {
            let (there, missing): (Vec<_>, Vec<_>) = envs.iter().partition(|o| o.cert.is_file());
            if there.is_empty() && !envs.is_empty() {
                let looked = envs.iter().map(|o| rel(root, &o.cert)).collect();
                return Err(CertInfoError::NoneThere { looked });
            }
            let missing = missing.iter().map(|o| (o.name.clone(), rel(root, &o.cert)));
            Ok((
                there.iter().map(|o| o.cert.clone()).collect(),
                missing.collect(),
            ))
        }
    }
}

/// One SealedSecret an environment renders, as read once for every certificate compared with
/// it: its document, or why it could not be read.
struct SealedRead {
    file: PathBuf,
    name: Option<String>,
    doc: Result<SealedSecretDoc, String>,
}

/// Every SealedSecret environment `o` renders, each with its document or why it cannot be read,
/// or one entry saying why the overlay's SealedSecrets could not be read (never left out
/// silently). Each certificate decides the state of an entry with a document
/// ([`sealed_state`]); one without is `Unreadable`.
fn sealed_uses(root: &Path, o: &crate::workspace::Environment) -> Vec<SealedRead> {
    match seal::sealed_secrets_of(root, &o.name) {
        Ok(targets) => (targets.into_iter())
            .map(|t| SealedRead {
                name: Some(t.identity.to_string()),
                doc: read_doc(root, &t),
                file: t.file,
            })
            .collect(),
        Err(e) => vec![SealedRead {
            file: o.dir.clone(),
            name: None,
            doc: Err(e.to_string()),
        }],
    }
}

/// The document of `target` in its file, or why it cannot be read (names the file, never a
/// value).
fn read_doc(root: &Path, target: &seal::SealedTarget) -> Result<SealedSecretDoc, String> {
    let read = seal::SealedFile::read(root, &target.file).map_err(|e| e.to_string())?;
    let parsed = read.parse().map_err(|e| e.to_string())?;
    (target.refuse_listed(&read.name, &parsed)).map_err(|e| e.to_string())?;
    target
        .doc_in(parsed.sealed_secrets())
        .map(|(_, d)| d.clone())
        .ok_or_else(|| {
            format!(
                "{}: no SealedSecret `{}` in it",
                rel(root, &target.file),
                target.name
            )
        })
}

/// How `doc`'s values relate to the certificate `cert` (fingerprint `sha`).
fn sealed_state(doc: &SealedSecretDoc, cert: &Certificate, sha: &str) -> SealedState {
    let mut placeholders = 0;
    let mut misfit = Vec::new();
    for e in &doc.encrypted_data {
        let verdict = ciphertext::classify(&e.value, Some(cert.public_key()));
        let reasons = verdict.reasons();
        if reasons.iter().any(|r| r.kind() == Kind::Placeholder) {
            placeholders += 1;
        } else if reasons
            .iter()
            .any(|r| matches!(r, Reason::KeySizeMismatch { .. } | Reason::NotBelowModulus))
        {
            misfit.push(e.key.clone());
        }
    }
    match doc.annotation(CERT_SHA256_ANNOTATION) {
        _ if placeholders == doc.encrypted_data.len() => SealedState::NotSealed,
        Some(rec) if !rec.eq_ignore_ascii_case(sha) => SealedState::WithOther {
            sha256: rec.to_owned(),
        },
        Some(_) if misfit.is_empty() => SealedState::WithThis,
        Some(_) => SealedState::RecordButValuesDiffer { keys: misfit },
        None if misfit.is_empty() => SealedState::Unknown,
        None => SealedState::NotThis { keys: misfit },
    }
}

#[cfg(test)]
mod tests {
    use super::{SECONDS_PER_DAY, days_left};

    #[test]
    fn days_left_counts_whole_days_either_side_of_not_after() {
        let d = SECONDS_PER_DAY;
        assert_eq!(days_left(1000 + 3 * d, 1000), 3);
        assert_eq!(days_left(1000 + 3 * d - 1, 1000), 2);
        assert_eq!(days_left(1000, 1000), 0);
        // Expired: an hour ago is "1 day ago", two days and a second ago is 2, not 3.
        assert_eq!(days_left(1000, 1000 + 3600), -1);
        assert_eq!(days_left(1000, 1000 + 2 * d + 1), -2);
        assert_eq!(days_left(1000, 1000 + 2 * d), -2);
    }
}
