//! Offline rotation: `emp-seal reseal ENV... --key KEY...` re-encrypts every value of each
//! environment's SealedSecret to the environment's current certificate, without a cluster.
//!
//! Owns: opening every value with the given private keys (any of them opens, as the controller
//! tries all its keys; the label is the rendered identity's, as `unseal` computes it), refusing
//! when some value opens with none of them (unless `--skip-unopened`), and handing the opened
//! values to the seal use case (`seal::plan_env`) as if they came from an env file, restricted
//! to exactly the keys the file holds. Sealing's no-churn rule keeps, byte for byte, the values the
//! current certificate's own key already opens, so only values an older certificate sealed are
//! re-encrypted. Writing goes through [`seal::commit_locked`]: every file or none, under the
//! write locks, re-planned from the current file when another run wrote it meanwhile.
//!
//! Must not print or write by itself, and plaintext never leaves memory: opened values are
//! [`SecretValue`]s (zeroized when dropped) and reach only the encryptor.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::crypto::{Scope, UnsealingKey};
use crate::fsio;
use crate::kustomize::Identity;
use crate::recover::{self, RecoverError};
use crate::seal::{self, EnvPlan, NoPrompt, SealError, SealRequest, SealedFile, SealedTo};
use crate::sealedsecret::{self, CERT_SHA256_ANNOTATION, SealedSecretDoc};
use crate::secret::SecretValue;

/// Errors of `reseal`. Messages name files, lines and keys, never values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResealError {
    /// Resolving the environment, reading the certificate or keys, sealing or writing failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// Computing the label or reading the SealedSecret for recovery failed.
    #[error(transparent)]
    Recover(#[from] RecoverError),
    #[error("{file}: no given key opens {count} value(s): {keys}; nothing was written")]
    Unopened {
        file: String,
        count: usize,
        /// `KEY (line N)` for each, placeholders marked.
        keys: String,
        /// Whether `--skip-unopened` was given (then no value opened at all).
        skipping: bool,
    },
    #[error("{file}: the SealedSecret holds no values to reseal")]
    Empty { file: String },
    /// Values that no given key opens under the rendered identity, but one opens under the
    /// file's own name and namespace: the overlay renames or moves the SealedSecret (nothing was
    /// written).
    #[error(
        "{file}: {keys} open(s) under `{sealed_for}` (the file's own {whose}), but the overlay renders the SealedSecret as `{rendered}`, the identity the controller decrypts under: the values were sealed for another identity; nothing was written"
    )]
    SealedForAnother {
        file: String,
        /// `KEY (line N)` for each value that opens only under the file's identity.
        keys: String,
        /// `<scope> <namespace>/<name>` of the file's own metadata, and of the render.
        sealed_for: String,
        /// What `sealed_for` is: the file's own name and namespace, or its name in the rendered
        /// namespace.
        whose: &'static str,
        rendered: String,
    },
}

impl ResealError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ResealError::Seal(e) => e.hint(),
            ResealError::Recover(e) => e.hint(),
            ResealError::Unopened { skipping: false, .. } => Some(
                "pass the controller key(s) that sealed them (`kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml > keys.yaml`, then --key keys.yaml), or add --skip-unopened to reseal the others and leave these as they are"
                    .to_owned(),
            ),
            ResealError::Unopened { skipping: true, .. } => Some(
                "none of the given keys sealed this file; pass the controller key(s) that did"
                    .to_owned(),
            ),
            ResealError::Empty { .. } => Some("seal values first: emp-seal ENV --from FILE".to_owned()),
            ResealError::SealedForAnother { file, .. } => Some(format!(
                "the overlay's namespace, namePrefix or nameSuffix changed the SealedSecret's identity: undo that, or seal the values for the rendered identity (`emp-seal unseal {file} --key KEY --format env > FILE.env`, then `emp-seal ENV --from FILE.env`)"
            )),
        }
    }
}

/// What the user asked for, validated by the CLI.
#[derive(Debug)]
pub struct ResealRequest {
    pub root: PathBuf,
    /// Environments, in the order given.
    pub envs: Vec<String>,
    /// Private key files (PEM or the controller's key Secret; `-` or a pipe is read once).
    pub key_files: Vec<PathBuf>,
    /// Leave values that no key opens as they are instead of refusing.
    pub skip_unopened: bool,
    /// The current time, Unix seconds (certificate expiry).
    pub now: u64,
    /// `--name`: which SealedSecret, when an overlay renders several ([`seal::Pick`]).
    pub name: Option<String>,
}

/// A value that no given key opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unopened {
    pub key: String,
    /// 1-based line of the entry.
    pub line: usize,
    /// Whether the value is a placeholder rather than a ciphertext.
    pub placeholder: bool,
}

/// The planned reseal of one environment, ready to write.
#[derive(Debug)]
pub struct ResealPlan {
    /// The rewrite (its `changed` keys are the resealed ones).
    pub plan: EnvPlan,
    /// The certificate fingerprint the file recorded before (`emp-seal.dev/cert-sha256`).
    pub old_cert: Option<String>,
    /// Keys re-encrypted to the current certificate.
    pub resealed: Vec<String>,
    /// Keys the current certificate's key already opens: kept byte for byte.
    pub current: Vec<String>,
    /// Keys left as they are because no key opens them (`--skip-unopened`).
    pub skipped: Vec<Unopened>,
}

/// Plans the reseal of every environment: opens, checks and encrypts, writes nothing.
///
/// # Errors
/// Any [`ResealError`]; the first environment that fails aborts the whole plan.
pub fn plan(req: &ResealRequest) -> Result<Vec<ResealPlan>, ResealError> {
    let keys = crate::workspace::load_keys(&req.root, &req.key_files)?;
    plan_with(req, &keys)
}

/// [`plan`] with the private keys already read (a re-plan cannot read a pipe twice).
///
/// # Errors
/// As [`plan`].
pub fn plan_with(
    req: &ResealRequest,
    keys: &[UnsealingKey],
) -> Result<Vec<ResealPlan>, ResealError> {
    let plans: Vec<ResealPlan> = seal::distinct(&req.envs)
        .map(|env| plan_env(req, env, keys))
        .collect::<Result<_, _>>()?;
    // A shared file is resealed for every environment that renders it, or for none.
    let env_plans: Vec<&EnvPlan> = plans.iter().map(|p| &p.plan).collect();
    seal::check_shared_targets(&req.root, &env_plans, req.now)?;
    Ok(plans)
}

/// Plans, then writes every file or none under the write locks ([`seal::commit_locked`]); a file
/// another run changed meanwhile is planned again from its current content. Returns the plans
/// written.
///
/// # Errors
/// Any [`ResealError`]; nothing is written on error.
pub fn reseal(req: &ResealRequest) -> Result<Vec<ResealPlan>, ResealError> {
    let keys = crate::workspace::load_keys(&req.root, &req.key_files)?;
    let plans = plan_with(req, &keys)?;
    seal::commit_locked(plans, |p| &p.plan, || plan_with(req, &keys))
}

fn describe(unopened: &[Unopened]) -> String {
    unopened
        .iter()
        .map(|u| {
            format!(
                "`{}` (line {}{})",
                u.key,
                u.line,
                if u.placeholder { ", a placeholder" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn plan_env(
    req: &ResealRequest,
    env: &str,
    keys: &[UnsealingKey],
) -> Result<ResealPlan, ResealError> {
    let root = &req.root;
    let pick = seal::Pick {
        name: req.name.as_deref(),
        from: None,
    };
    let target = seal::sealed_secret_of(root, env, pick)?;
    let rendered = (&target.identity, target.scope);
    let read = SealedFile::read(root, &target.file)?;
    let (file_name, text) = (&read.name, &read.text);
    let parsed = read.parse()?;
    target.refuse_listed(file_name, &parsed)?;
    let found = target.doc_in(parsed.sealed_secrets());
    let (doc_index, doc) = found.ok_or_else(|| RecoverError::NoSealedSecret {
        file: file_name.to_owned(),
    })?;
    seal::refuse_invalid_keys(file_name, doc)?;
    // Checked before opening, as `seal` checks them: values that do not open under the rendered
    // label are then not blamed on a missing key.
    seal::refuse_rendered_scope(file_name, doc, target.scope)?;
    seal::check_identity(file_name, doc, doc_index, rendered, text)?;
    let (opened, unopened) = open_checked(req, file_name, doc, rendered, keys)?;
    let old_cert = doc.annotation(CERT_SHA256_ANNOTATION).map(str::to_owned);

    // The opened values stand in for an env file holding exactly the file's keys; sealing's
    // no-churn rule (with the current certificate's key only) keeps the ones already current.
    let from_keys: BTreeMap<&str, &SecretValue> =
        opened.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let seal_req = seal_request(req, env, &target.file, &target.identity, &opened);
    let plan = seal::plan_env(&seal_req, env, file_name, &from_keys, keys, &mut NoPrompt)?;
    drop(from_keys);
    drop(opened);
    if plan.old_text != *text {
        // Another run wrote the file between the two reads: what was opened is not what the
        // plan edits. The locked re-plan (or the next run) starts over.
        return Err(SealError::from(fsio::FsError::ChangedMeanwhile { path: target.file }).into());
    }
    let current = plan
        .kept
        .iter()
        .filter(|k| !unopened.iter().any(|u| &u.key == *k))
        .cloned()
        .collect();
    let resealed = plan.changed.iter().chain(&plan.filled).cloned().collect();
    Ok(ResealPlan {
        plan,
        old_cert,
        resealed,
        current,
        skipped: unopened,
    })
}

/// The values of one file, opened: `(key, value)` in file order, and the ones no key opens.
type Opened = (Vec<(String, SecretValue)>, Vec<Unopened>);

/// Opens every value of `doc` with the identity's label ([`recover::open_entries`], which also
/// tells placeholders and values encoded so the controller cannot decode them apart), refusing a
/// file with legacy `data`, no values, such a mis-encoded value (even with `--skip-unopened`), or
/// values no key opens (all of them, or any without `--skip-unopened`).
fn open_checked(
    req: &ResealRequest,
    file_name: &str,
    doc: &SealedSecretDoc,
    rendered: (&Identity, Scope),
    keys: &[UnsealingKey],
) -> Result<Opened, ResealError> {
    if doc.has_legacy_data {
        return Err(RecoverError::LegacyData {
            file: file_name.to_owned(),
        }
        .into());
    }
    if doc.encrypted_data.is_empty() {
        return Err(ResealError::Empty {
            file: file_name.to_owned(),
        });
    }
    let to = recover::label_for(file_name, doc, Some(rendered))?;
    let entries: Vec<_> = doc.encrypted_data.iter().collect();
    let results = recover::open_entries(keys, &to, file_name, &entries);
    let mut opened = Vec::with_capacity(entries.len());
    let mut unopened = Vec::new();
    for (e, r) in entries.iter().zip(results) {
        match r {
            Ok(v) => opened.push((e.key.clone(), v)),
            // Not a key's fault, and not a value to keep: the controller cannot decode it at all,
            // so `--skip-unopened` does not leave it either.
            Err(err @ RecoverError::Undecodable { .. }) => return Err(err.into()),
            Err(err) => unopened.push(Unopened {
                key: e.key.clone(),
                line: e.line,
                placeholder: matches!(err, RecoverError::Placeholder { .. }),
            }),
        }
    }
    refuse_sealed_for_another(file_name, doc, &to, keys, &entries, &unopened)?;
    if opened.is_empty() || (!unopened.is_empty() && !req.skip_unopened) {
        return Err(ResealError::Unopened {
            file: file_name.to_owned(),
            count: unopened.len(),
            keys: describe(&unopened),
            skipping: req.skip_unopened,
        });
    }
    Ok((opened, unopened))
}

/// Refuses when a value no key opens under the rendered identity (`rendered`) does open under
/// an identity the file itself writes: its own name and namespace, or its own name in the
/// rendered namespace (a file without `metadata.namespace` takes the overlay's). The overlay
/// renames or moves the SealedSecret (a `namePrefix` it gained, say, where the file's template
/// does not name it), so the values were sealed for an identity the controller does not decrypt
/// under. That, not a missing key, is what the user must fix; `--skip-unopened` would leave
/// values the render never opens.
fn refuse_sealed_for_another(
    file_name: &str,
    doc: &SealedSecretDoc,
    rendered: &SealedTo,
    keys: &[UnsealingKey],
    entries: &[&sealedsecret::EncryptedEntry],
    unopened: &[Unopened],
) -> Result<(), ResealError> {
    let tried: Vec<&sealedsecret::EncryptedEntry> = entries
        .iter()
        .copied()
        .filter(|e| unopened.iter().any(|u| u.key == e.key && !u.placeholder))
        .collect();
    let Some(name) = doc.name.clone() else {
        return Ok(());
    };
    let mut written = vec![(&doc.namespace, "name and namespace")];
    if rendered.identity.namespace != doc.namespace {
        written.push((
            &rendered.identity.namespace,
            "name in the rendered namespace",
        ));
    }
    for (namespace, whose) in written {
        let identity = Identity {
            name: name.clone(),
            namespace: namespace.clone(),
        };
        // A file without a namespace gives no label of its own (then only the rendered one).
        let Some(own) = SealedTo::new(doc.scope, identity) else {
            continue;
        };
        if own.label() == rendered.label() {
            continue;
        }
        let results = recover::open_entries(keys, &own, file_name, &tried);
        let elsewhere: Vec<Unopened> = tried
            .iter()
            .zip(results)
            .filter(|(_, r)| r.is_ok())
            .map(|(e, _)| Unopened {
                key: e.key.clone(),
                line: e.line,
                placeholder: false,
            })
            .collect();
        if !elsewhere.is_empty() {
            return Err(ResealError::SealedForAnother {
                file: file_name.to_owned(),
                keys: describe(&elsewhere),
                sealed_for: own.sealed_for(),
                whose,
                rendered: rendered.sealed_for(),
            });
        }
    }
    Ok(())
}

/// The seal request that re-encrypts exactly the `opened` keys of `file`, as they are, in the
/// SealedSecret rendered as `rendered` (named `NAMESPACE/NAME`, unique in a render).
fn seal_request(
    req: &ResealRequest,
    env: &str,
    file: &std::path::Path,
    rendered: &Identity,
    opened: &[(String, SecretValue)],
) -> SealRequest {
    SealRequest {
        root: req.root.clone(),
        envs: vec![env.to_owned()],
        from: file.to_path_buf(),
        only: opened.iter().map(|(k, _)| k.clone()).collect(),
        now: req.now,
        name: Some(rendered.to_string()),
        // Values no key opened (`--skip-unopened`) stay as they are, sealed with a certificate
        // and for an identity this run cannot confirm: the file keeps its records as they were,
        // so `check` keeps reporting an old certificate.
        keep_old_records: req.skip_unopened,
        ..SealRequest::default()
    }
}
