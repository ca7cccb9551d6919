//! The step that `seal` and `seal --migrate` share: seal these values for this identity. It
//! finds the environment's certificate, works out the namespace the scope's label needs, asks for
//! the keys the env file lacks, and encrypts each value under the label (sealed-secrets
//! `pkg/crypto/crypto.go` `HybridEncrypt`, label from `pkg/apis/sealedsecrets/v1alpha1`
//! `EncryptionLabel`).
//!
//! Owns those decisions and their messages. Like the rest of the use case it must not print,
//! write, or prompt by itself (the caller's [`Prompter`] asks); messages name files and keys,
//! never a value.

use std::collections::BTreeSet;
use std::path::Path;

use super::{CertSummary, Prompter, SealError};
use crate::cert::Certificate;
use crate::crypto::{self, Scope};
use crate::kustomize::Identity;
use crate::sealedsecret::SealedFor;
use crate::secret::SecretValue;
use crate::workspace::{load_cert, rel};

/// Who values are sealed for: the scope and the identity, with the namespace the scope's label
/// takes. `seal`, `seal --migrate`, `unseal` and `reseal` build it only through
/// [`SealedTo::new`], the one check that a scope finds its namespace.
#[derive(Debug, Clone)]
pub(crate) struct SealedTo {
    pub(crate) scope: Scope,
    /// The rendered name and namespace (what the controller's label uses).
    pub(crate) identity: Identity,
    /// The namespace in the label (empty only for cluster-wide scope without one).
    pub(crate) namespace: String,
}

impl SealedTo {
    /// `identity` under `scope`; none when a strict or namespace-wide scope finds no namespace to
    /// put in the label.
    pub(crate) fn new(scope: Scope, identity: Identity) -> Option<Self> {
        let namespace = scope.label_namespace(identity.namespace.as_deref())?;
        Some(SealedTo {
            scope,
            identity,
            namespace,
        })
    }

    /// The label every value is sealed under.
    pub(crate) fn label(&self) -> Vec<u8> {
        self.scope.label(&self.namespace, &self.identity.name)
    }

    /// The `emp-seal.dev/sealed-for` record: `<scope> <namespace>/<name>` (the label's namespace
    /// is the identity's, or empty), spelled as [`SealedFor`] writes every record.
    pub(crate) fn sealed_for(&self) -> String {
        SealedFor {
            scope: self.scope,
            namespace: self.namespace.clone(),
            name: self.identity.name.clone(),
        }
        .to_string()
    }
}

/// Who values are sealed for, with the certificate that seals them (read as its [`SealedTo`]).
pub(crate) struct Recipient {
    /// The certificate whose public key seals.
    pub(crate) cert: Certificate,
    /// What the CLI reports about it.
    pub(crate) summary: CertSummary,
    pub(crate) who: SealedTo,
}

/// Loads the environment's sealing certificate: `cert` (`--cert`) when given, else the
/// workspace's (the config file's path for the environment, else `<overlay>/sealing-cert.pem`).
///
/// # Errors
/// [`SealError::NoCert`] when no `--cert` was given and nothing at all is at the default path (a
/// dangling link or a directory there is a bad file, reported by [`load_cert`] under its own
/// name); any error of [`load_cert`].
pub(crate) fn certificate(
    root: &Path,
    env: &str,
    cert: Option<&Path>,
    now: u64,
) -> Result<(Certificate, CertSummary), SealError> {
    let path = match cert {
        Some(c) => c.to_path_buf(),
        None => crate::workspace::cert_path(root, env)?,
    };
    let absent =
        std::fs::symlink_metadata(&path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound);
    if cert.is_none() && absent {
        return Err(SealError::NoCert {
            env: env.to_owned(),
            path: rel(root, &path),
        });
    }
    load_cert(root, &path, now)
}

/// `--scope` when given, else the config file's scope for the environment.
pub(crate) fn requested_scope(root: &Path, env: &str, given: Option<Scope>) -> Option<Scope> {
    given.or_else(|| crate::workspace::resolve(root, env).and_then(|e| e.scope))
}

/// Asks for the value of each `needed` key that `has` says the values lack, in order.
///
/// # Errors
/// [`SealError::MissingKeys`] (naming the env file `from_name` and every missing key) when the
/// prompter cannot ask (its hint offers `--only` when `only_allowed`); the prompter's own
/// errors.
pub(crate) fn ask_missing(
    env: &str,
    from_name: &str,
    needed: &BTreeSet<String>,
    has: impl Fn(&str) -> bool,
    prompter: &mut dyn Prompter,
    only_allowed: bool,
) -> Result<Vec<(String, SecretValue)>, SealError> {
    let missing: Vec<&str> = needed
        .iter()
        .map(String::as_str)
        .filter(|k| !has(k))
        .collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    if !prompter.can_prompt() {
        return Err(SealError::MissingKeys {
            env: env.to_owned(),
            file: from_name.to_owned(),
            keys: missing.join(", "),
            only_allowed,
        });
    }
    missing
        .iter()
        .map(|k| Ok(((*k).to_owned(), prompter.ask(env, k)?)))
        .collect()
}

impl Recipient {
    /// The recipient for `identity` under `scope`, with the certificate [`certificate`] loaded.
    ///
    /// # Errors
    /// [`SealError::NoNamespace`] (naming `file`) as [`SealedTo::new`] finds no namespace.
    pub(crate) fn new(
        (cert, summary): (Certificate, CertSummary),
        scope: Scope,
        identity: Identity,
        file: &str,
    ) -> Result<Self, SealError> {
        let who = SealedTo::new(scope, identity).ok_or_else(|| SealError::NoNamespace {
            file: file.to_owned(),
            scope: scope.as_str(),
        })?;
        Ok(Recipient { cert, summary, who })
    }

    /// Seals each value (in parallel), in order: the base64 ciphertexts for `encryptedData`.
    ///
    /// # Errors
    /// [`SealError::Crypto`].
    pub(crate) fn seal(&self, plaintexts: &[SecretValue]) -> Result<Vec<String>, SealError> {
        let key = self.cert.sealing_key();
        Ok(crypto::seal_many(key, &self.who.label(), plaintexts)?)
    }
}
