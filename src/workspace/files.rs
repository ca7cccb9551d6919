//! Environment arguments, `--from` lookup and the certificate and key files, resolved against
//! the [`super::Workspace`]. The error type is the seal use case's, whose commands these serve.

use std::path::{Path, PathBuf};

use crate::cert::Certificate;
use crate::crypto::UnsealingKey;
use crate::fsio;
use crate::seal::{CertSummary, SealError};

use super::{from_display, rel};

/// Largest env file, SealedSecret file or certificate emp-seal reads (a Secret is at most 1 MiB;
/// this leaves room for comments and base64 overhead).
pub const MAX_INPUT_BYTES: u64 = 8 * 1024 * 1024;

/// Largest file `check` and `check --render` read from the tree and the repository (a larger one
/// is reported as not read, never skipped in silence).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Resolves `--from` for the environments `targets` (as typed): a path that exists is used as
/// is; a bare file name that does not exist in the current directory is looked up in the
/// targets' directories first, then in every environment's directory. A file found only in
/// another environment's directory is refused when a target has an example of that name (it
/// keeps its own file: a developer who has only dev's `db.env` must not seal dev's values into
/// prod by its bare name). Returns the path and whether it was found by lookup (the CLI then
/// prints which file it used).
///
/// # Errors
/// [`SealError::FromNotFound`], [`SealError::FromAmbiguous`],
/// [`SealError::FromOtherEnvironment`].
pub fn resolve_from(
    root: &Path,
    from: &Path,
    targets: &[String],
) -> Result<(PathBuf, bool), SealError> {
    // A missing path that is not a bare name: the reader reports it with its own message.
    if from.as_os_str() == fsio::STDIN || from.exists() || from.components().count() != 1 {
        return Ok((from.to_path_buf(), false));
    }
    let name = from.display().to_string();
    let in_dir = |d: &Path| Some(d.join(from)).filter(|p| p.is_file());
    let target_dirs: Vec<(&String, PathBuf)> = (targets.iter())
        .filter_map(|t| Some((t, overlay_dir(root, &env_name(root, t)).ok()?)))
        .collect();
    let mut own: Vec<PathBuf> = target_dirs.iter().filter_map(|(_, d)| in_dir(d)).collect();
    own.dedup();
    // A target with an example of that name and no file of its own keeps its own file: the
    // file found elsewhere (another environment's, or another target's) is not its values.
    let lacking: Vec<&str> = (target_dirs.iter())
        .filter(|(_, d)| d.join(format!("{name}.example")).is_file() && in_dir(d).is_none())
        .map(|(t, _)| t.as_str())
        .collect();
    let found = if own.is_empty() {
        (super::get(root).envs.iter())
            .filter_map(|e| in_dir(&e.dir))
            .collect()
    } else {
        own.clone()
    };
    let shown = || {
        (found.iter().map(|p| rel(root, p)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match found.as_slice() {
        [] => Err(SealError::FromNotFound { name }),
        _ if !lacking.is_empty() => Err(SealError::FromOtherEnvironment {
            targets: lacking.join(", "),
            found: shown(),
            name,
        }),
        [one] => Ok((one.clone(), true)),
        _ => Err(SealError::FromAmbiguous {
            found: shown(),
            name,
        }),
    }
}

/// An environment as typed: its name (`paper`, `a/dev`), with or without a trailing `/` (a
/// shell completing the directory), or a path to its overlay directory (`k8s/overlays/paper/`)
/// all give its name; a path to another kustomization directory inside the repository gives
/// that path, repository-relative. A path written from the working directory (`.`, `../prod`)
/// is taken from there ([`super::resolve_typed`]). Anything else is returned as given, for
/// [`overlay_dir`] to judge.
pub fn env_name(root: &Path, arg: &str) -> String {
    match super::resolve_typed(root, arg) {
        Some(e) => e.name,
        // A path from the working directory to a directory inside the root that holds no
        // kustomization: by its path from the root, never as a name (`.` would be the root's
        // environment). One that leaves the root is returned as typed.
        None => super::typed_path(root, arg)
            .zip(std::fs::canonicalize(root).ok())
            .filter(|(p, r)| p.starts_with(r))
            .map_or_else(|| arg.to_owned(), |(p, r)| super::dir_rel(&r, &p)),
    }
}

/// The overlay directory of an environment name (or path, see [`env_name`]).
///
/// # Errors
/// [`SealError::UnknownEnv`].
pub fn overlay_dir(root: &Path, env: &str) -> Result<PathBuf, SealError> {
    if let Some(e) = super::resolve_fresh(root, env) {
        refuse_unread_config(root, &e)?;
        return Ok(e.dir);
    }
    let ws = super::get(root);
    // A name is looked for beside the other environments; a path (`.`, `apps/x/`) where it says.
    let is_path = env.contains('/') || env.starts_with('.');
    Err(SealError::UnknownEnv {
        env: env.to_owned(),
        dir: ws
            .common_parent()
            .filter(|p| !p.is_empty() && !is_path)
            .map_or_else(|| env.to_owned(), |p| format!("{p}/{env}")),
        known: ws.names(),
    })
}

/// Refuses an environment below a config file this run does not read: its settings (the
/// certificate, the scope) would not apply ([`super::Workspace::refuse_unread_config`]).
fn refuse_unread_config(root: &Path, e: &super::Environment) -> Result<(), SealError> {
    let dir = super::dir_rel(root, &e.dir);
    Ok(super::get(root).refuse_unread_config(&e.name, &dir)?)
}

/// The sealing certificate path of an environment: the config's `certificate` for it, else
/// `<overlay>/sealing-cert.pem` (`--cert` overrides both, in the caller).
pub fn cert_path(root: &Path, env: &str) -> Result<PathBuf, SealError> {
    match super::resolve(root, env) {
        Some(e) => refuse_unread_config(root, &e).map(|()| e.cert),
        None => overlay_dir(root, env).map(|d| d.join(super::DEFAULT_CERT_FILE)),
    }
}

/// Loads a certificate file and checks it is usable now.
///
/// # Errors
/// [`SealError::Fs`] or [`SealError::Cert`].
pub fn load_cert(
    root: &Path,
    path: &Path,
    now: u64,
) -> Result<(Certificate, CertSummary), SealError> {
    // Wiped: a certificate file may hold a private key block too (reported, never kept).
    let bytes = zeroize::Zeroizing::new(fsio::read_limited(path, MAX_INPUT_BYTES)?);
    let file = rel(root, path);
    let cert = Certificate::from_pem(&bytes).map_err(|source| SealError::Cert {
        file: file.clone(),
        source,
    })?;
    let warning = cert
        .check_time(now)
        .map_err(|source| SealError::Cert { file, source })?;
    let summary = CertSummary {
        path: path.to_path_buf(),
        sha256: cert.sha256_fingerprint(),
        key_bits: cert.key_bits(),
        not_after: cert.not_after(),
        expiry_warning: warning,
        demo: cert.is_demo(),
        private_key: crate::cert::private_key_blocks(&bytes)
            .into_iter()
            .next()
            .map(|k| k.label),
    };
    Ok((cert, summary))
}

/// Loads private keys from files (PEM or the controller's key Secret).
///
/// # Errors
/// [`SealError::Fs`] or [`SealError::Key`].
pub fn load_keys(root: &Path, files: &[PathBuf]) -> Result<Vec<UnsealingKey>, SealError> {
    fsio::refuse_stdin_twice(files.iter().map(PathBuf::as_path))?;
    let mut keys = Vec::new();
    for f in files {
        let bytes = zeroize::Zeroizing::new(fsio::read_input_limited(f, MAX_INPUT_BYTES)?);
        let name = from_display(root, f);
        keys.extend(
            crate::keys::load_private_keys(&bytes, &name)
                .map_err(|source| SealError::Key { file: name, source })?,
        );
    }
    Ok(keys)
}
