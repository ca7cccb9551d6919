//! Offline recovery with the controller's private keys: decrypting a `SealedSecret` into the
//! Secret the controller would create ([`unseal`]), and comparing an env file with what is
//! sealed without revealing either ([`diff`]).
//!
//! Owns: choosing the document and the OAEP label (the rendered identity for an environment, the
//! file's own top-level metadata for a file), trying every key as the controller does, and
//! rendering the result as a Secret in YAML or as a kustomize env file. Must not print, write
//! files or put a value into an error: plaintext lives only in [`SecretValue`] and in the
//! zeroized buffers the renderers return, which the CLI sends to stdout.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::crypto::{self, Scope, UnsealingKey};
use crate::envfile;
use crate::fsio;
use crate::kustomize::Identity;
use crate::seal::{self, SealError, SealedFile, SealedTo};
use crate::sealedsecret::{self, SealedSecretDoc, plain_or_quoted};
use crate::secret::SecretValue;
use crate::workspace::{MAX_INPUT_BYTES, from_display};

/// Errors of recovery and diff. Messages name files, lines and keys, never values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecoverError {
    /// Resolving the environment, reading keys or the env file failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("{file}: no SealedSecret document in the file")]
    NoSealedSecret { file: String },
    #[error("{file}: no SealedSecret named `{name}` in the file")]
    NoSuchName { file: String, name: String },
    #[error("{file}: {count} SealedSecret documents; unseal needs exactly one")]
    SeveralSealedSecrets { file: String, count: usize },
    #[error(
        "{file}: the SealedSecret has no namespace; its {scope} label cannot be computed (kubeseal would take it from your kubeconfig)"
    )]
    NoNamespace { file: String, scope: &'static str },
    #[error(
        "{file}: the SealedSecret uses the legacy `spec.data` blob, which emp-seal does not decrypt"
    )]
    LegacyData { file: String },
    #[error("{file}:{line}: `{key}` is a placeholder, not a sealed value ({reason})")]
    Placeholder {
        file: String,
        /// 1-based line of the entry.
        line: usize,
        key: String,
        /// Why it is not a ciphertext.
        reason: String,
    },
    /// A value encoded so the controller cannot decode it (url-safe or unpadded base64, spaces;
    /// `check` reports it as `invalid-ciphertext`): no key opens it, whichever is given.
    #[error(
        "{file}:{line}: `{key}`: {reason}; neither the controller nor emp-seal can decode it, whatever key is given"
    )]
    Undecodable {
        file: String,
        /// 1-based line of the entry.
        line: usize,
        key: String,
        /// The encoding problem ([`crate::sealedsecret::ciphertext::Reason`]).
        reason: String,
    },
    /// No key decrypts a value (wrong key, wrong identity, or corrupt ciphertext).
    #[error("{file}:{line}: `{key}`: no key could decrypt the value (sealed for {sealed_for})")]
    Decrypt {
        file: String,
        /// 1-based line of the entry.
        line: usize,
        key: String,
        /// `<scope> <namespace>/<name>` used for the label.
        sealed_for: String,
    },
    /// A patch of the overlay writes a value into the environment's SealedSecret: the render,
    /// which the controller decrypts, does not hold the file's value.
    #[error(
        "{file}: `{key}` of SealedSecret `{name}` is {how} by {}, so the overlay does not render the file's value; nothing is decrypted",
        .patch.as_ref().map_or_else(|| "a patch of the overlay".to_owned(), |p| format!("the patch at {p}"))
    )]
    PatchedKey {
        file: String,
        name: String,
        key: String,
        /// `file:line` of the patch, when known (not for a key a patch removes).
        patch: Option<String>,
        /// `overwritten`, `added` or `removed`.
        how: &'static str,
    },
    #[error(transparent)]
    Fs(#[from] fsio::FsError),
    /// An env file problem (also: a value the env dialect cannot carry).
    #[error(transparent)]
    Env(#[from] envfile::EnvError),
}

impl RecoverError {
    pub fn hint(&self) -> Option<String> {
        match self {
            RecoverError::Seal(e) => e.hint(),
            RecoverError::Decrypt { .. } => Some(
                "pass every controller key (`kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml`); if the keys are right, the value was sealed for another name/namespace/scope or is corrupt"
                    .to_owned(),
            ),
            RecoverError::Undecodable { .. } => Some(
                "the value was re-encoded or edited after sealing: restore it from version control, or seal its plaintext again (emp-seal ENV --from FILE); reseal --skip-unopened does not keep such a value"
                    .to_owned(),
            ),
            RecoverError::Placeholder { .. } => {
                Some("seal real values first: emp-seal ENV --from FILE".to_owned())
            }
            RecoverError::SeveralSealedSecrets { .. } => Some(
                "pick one with --name NAME (or NAMESPACE/NAME, as written in the file), or unseal the environment instead (emp-seal unseal ENV), which knows how it renders"
                    .to_owned(),
            ),
            RecoverError::NoNamespace { .. } => Some(
                "unseal the environment instead (emp-seal unseal ENV), whose kustomization sets the namespace"
                    .to_owned(),
            ),
            RecoverError::PatchedKey { .. } => Some(
                "drop the key from the patch and seal its value into the file, or unseal the file itself (emp-seal unseal FILE), which reads the file's own values"
                    .to_owned(),
            ),
            RecoverError::Fs(e) => e.hint().map(str::to_owned),
            RecoverError::Env(e) => e.hint().map(str::to_owned),
            _ => None,
        }
    }
}

/// The Secret the controller would create from a `SealedSecret` (without its owner reference).
#[derive(Debug)]
pub struct UnsealedSecret {
    pub file: PathBuf,
    /// The identity the values were decrypted for (and the Secret's name and namespace).
    pub identity: Identity,
    pub scope: Scope,
    /// `spec.template.metadata.labels`.
    pub labels: Vec<(String, String)>,
    /// `spec.template.metadata.annotations`.
    pub annotations: Vec<(String, String)>,
    /// `spec.template.type` (`Opaque` when unset, as the API server defaults it).
    pub secret_type: String,
    /// Decrypted values, in file order.
    pub data: Vec<(String, SecretValue)>,
    /// Keys of `spec.template.data` (Go templates the controller renders; not rendered here).
    /// The controller sets them after decrypting, over a decrypted value of the same key
    /// ([`UnsealedSecret::overridden`]).
    pub template_data_keys: Vec<String>,
    /// `spec.template.immutable: true`: the Secret the controller creates is immutable, and so
    /// is the one [`UnsealedSecret::to_yaml`] writes.
    pub immutable: bool,
}

/// The `SealedSecret` file to decrypt, parsed, and which identity its label uses.
#[derive(Debug)]
struct Located {
    file: PathBuf,
    /// `file` for messages, relative to the root.
    file_name: String,
    /// Its documents. `List` items are not read: every command refuses them
    /// ([`seal::SealedTarget::refuse_listed`]).
    documents: Vec<sealedsecret::Document>,
    /// The SealedSecret an environment renders (its rendered identity and scope give the
    /// label); none for a file named on its own.
    target: Option<seal::SealedTarget>,
    /// For a file named on its own: `--name` (`NAME` or `NAMESPACE/NAME` as written).
    name: Option<String>,
    /// For a file named on its own: the first `List` item `name` picks (its name and line),
    /// refused when no document is picked.
    listed: Option<(String, usize)>,
}

/// `ENV` when it names an overlay, else a file path. `pick` chooses among several SealedSecrets
/// (for a file, by `--name` only, as written in the file).
fn locate(root: &Path, target: &str, pick: seal::Pick<'_>) -> Result<Located, RecoverError> {
    let as_path = Path::new(target);
    // An environment's name (`paper`, `shop/dev`) or its directory; a file is a file.
    let is_env = !as_path.is_file() && crate::workspace::resolve_fresh(root, target).is_some();
    if is_env {
        return locate_env(root, target, pick);
    }
    // Neither a file nor an environment: report it as an environment. So is a directory that is
    // no environment (`.` typed in `k8s/overlays`, passed on by its path from the root).
    let bare_name =
        !as_path.exists() && !target.contains(['/', '\\']) && !target.ends_with(".yaml");
    if bare_name || as_path.is_dir() || root.join(target).is_dir() {
        crate::workspace::overlay_dir(root, target)?;
    }
    read(root, as_path.to_path_buf(), Err(pick.name))
}

/// The SealedSecret environment `env` renders (or the one `pick` chooses), whose rendered
/// identity gives the label.
/// Refused when a patch writes a value into it ([`RecoverError::PatchedKey`]): what the
/// controller decrypts is then not what the file holds.
fn locate_env(root: &Path, env: &str, pick: seal::Pick<'_>) -> Result<Located, RecoverError> {
    let (overlay, t) = seal::sealed_secret_in(root, env, pick)?;
    let (name, namespace) = (t.name.clone(), t.namespace_in_file.clone());
    let rendered = t.rendered_keys.clone();
    let located = read(root, t.file.clone(), Ok(t))?;
    let file = located.file_name.as_str();
    let refused = |key: &str, how, patch: Option<String>| RecoverError::PatchedKey {
        file: file.to_owned(),
        name: name.clone(),
        key: key.to_owned(),
        how,
        patch,
    };
    let held = &located.doc()?.encrypted_data;
    if let Some(w) = seal::patched_values(&overlay, file, &name, namespace.as_deref()).next() {
        let how = match held.iter().any(|e| e.key == w.key) {
            true => "overwritten",
            false => "added",
        };
        return Err(refused(&w.key, how, Some(w.origin.to_string())));
    }
    // A key a patch removes (a JSON 6902 `remove`, a `$patch: delete`) renders no value.
    let gone = held
        .iter()
        .find(|e| rendered.as_ref().is_some_and(|r| !r.contains(&e.key)));
    if let Some(e) = gone {
        return Err(refused(&e.key, "removed", None));
    }
    Ok(located)
}

/// Reads and parses `file`, which holds `target` (or, for a file named on its own, the
/// SealedSecret `--name` picks).
fn read(
    root: &Path,
    file: PathBuf,
    target: Result<seal::SealedTarget, Option<&str>>,
) -> Result<Located, RecoverError> {
    let read = SealedFile::read(root, &file)?;
    let parsed = read.parse()?;
    let file_name = read.name.clone();
    // Never read as SealedSecrets: an item that does not read is still a `List` item.
    let (target, name, listed) = match target {
        Ok(t) => {
            t.refuse_listed(&file_name, &parsed)?;
            (Some(t), None, None)
        }
        Err(name) => {
            let picks =
                |n: &str, ns: Option<&str>| name.is_none_or(|p| seal::name_matches(p, n, ns));
            (None, name.map(str::to_owned), parsed.listed_named(picks))
        }
    };
    Ok(Located {
        file,
        file_name,
        documents: parsed.into_documents(),
        target,
        name,
        listed,
    })
}

impl Located {
    /// The document to decrypt: the environment's, else the file's only one (or the one
    /// `--name` names); refused when its values are a legacy `spec.data` blob, or when it holds a
    /// key the API server refuses ([`seal::refuse_invalid_keys`]).
    fn doc(&self) -> Result<&SealedSecretDoc, RecoverError> {
        let doc = self.find()?;
        if doc.has_legacy_data {
            return Err(RecoverError::LegacyData {
                file: self.file_name.clone(),
            });
        }
        seal::refuse_invalid_keys(&self.file_name, doc)?;
        Ok(doc)
    }

    /// [`Located::doc`]'s lookup, whatever the document's format.
    fn find(&self) -> Result<&SealedSecretDoc, RecoverError> {
        let file = self.file_name.clone();
        let sealed_secrets =
            || (self.documents.iter()).filter_map(|d| Some((d.index, d.sealed_secret.as_ref()?)));
        if let Some(t) = &self.target {
            return t
                .doc_in(sealed_secrets())
                .map(|(_, d)| d)
                .ok_or(RecoverError::NoSealedSecret { file });
        }
        let named = |d: &&SealedSecretDoc| {
            self.name.as_deref().is_none_or(|n| {
                seal::name_matches(
                    n,
                    d.name.as_deref().unwrap_or_default(),
                    d.namespace.as_deref(),
                )
            })
        };
        let docs: Vec<&SealedSecretDoc> = sealed_secrets().map(|(_, d)| d).filter(named).collect();
        match docs.as_slice() {
            [d] => Ok(d),
            // An item of a `List`: the one reason every command gives (`seal`'s refusal).
            [] => Err(match (self.listed.clone(), self.name.clone()) {
                (Some((name, line)), _) => SealError::InList { file, line, name }.into(),
                (None, Some(name)) => RecoverError::NoSuchName { file, name },
                (None, None) => RecoverError::NoSealedSecret { file },
            }),
            many => Err(RecoverError::SeveralSealedSecrets {
                file,
                count: many.len(),
            }),
        }
    }

    /// The rendered identity and scope, for an environment.
    fn rendered(&self) -> Option<(&Identity, Scope)> {
        self.target.as_ref().map(|t| (&t.identity, t.scope))
    }
}

/// The label's identity and scope: the rendered ones for an environment (the controller reads
/// the rendered object's metadata and annotations), else the file's own metadata and scope.
pub(crate) fn label_for(
    file_name: &str,
    doc: &SealedSecretDoc,
    rendered: Option<(&Identity, Scope)>,
) -> Result<SealedTo, RecoverError> {
    let (identity, scope) = match rendered {
        Some((i, s)) => (i.clone(), s),
        None => {
            let own = Identity {
                name: doc.name.clone().unwrap_or_default(),
                namespace: doc.namespace.clone(),
            };
            (own, doc.scope)
        }
    };
    SealedTo::new(scope, identity).ok_or_else(|| RecoverError::NoNamespace {
        file: file_name.to_owned(),
        scope: scope.as_str(),
    })
}

/// Decrypts `entries` (in parallel), each result turned into a message naming the key on failure
/// (and a placeholder into its own message). Results are in entry order.
pub(crate) fn open_entries(
    keys: &[UnsealingKey],
    to: &SealedTo,
    file_name: &str,
    entries: &[&sealedsecret::EncryptedEntry],
) -> Vec<Result<SecretValue, RecoverError>> {
    let texts: Vec<&str> = entries.iter().map(|e| e.value.as_str()).collect();
    crypto::unseal_many_base64(keys, &to.label(), &texts)
        .into_iter()
        .zip(entries)
        .map(|(opened, entry)| opened.map_err(|_| entry_error(file_name, to, entry)))
        .collect()
}

/// Why `entry` did not decrypt: a placeholder, an encoding the controller cannot decode (as
/// `check` judges both: [`sealedsecret::ciphertext::classify`]), or no key opens it for this
/// scope and identity.
fn entry_error(
    file_name: &str,
    to: &SealedTo,
    entry: &sealedsecret::EncryptedEntry,
) -> RecoverError {
    if let Some(reason) = seal::placeholder(&entry.value) {
        return RecoverError::Placeholder {
            file: file_name.to_owned(),
            line: entry.line,
            key: entry.key.clone(),
            reason,
        };
    }
    if let Some(reason) = seal::misencoded(&entry.value) {
        return RecoverError::Undecodable {
            file: file_name.to_owned(),
            line: entry.line,
            key: entry.key.clone(),
            reason,
        };
    }
    RecoverError::Decrypt {
        file: file_name.to_owned(),
        line: entry.line,
        key: entry.key.clone(),
        sealed_for: to.sealed_for(),
    }
}

/// Decrypts the `SealedSecret` of environment `target` (its rendered identity gives the label)
/// or of the file `target` (its own metadata and scope give the label), trying every key; `name`
/// (`--name`) picks one when the environment renders, or the file holds, several.
/// Every value must decrypt, or nothing is returned.
///
/// # Errors
/// Any [`RecoverError`]; [`RecoverError::Decrypt`] names the first key no private key opens.
pub fn unseal(
    root: &Path,
    target: &str,
    name: Option<&str>,
    key_files: &[PathBuf],
) -> Result<UnsealedSecret, RecoverError> {
    let keys = crate::workspace::load_keys(root, key_files)?;
    let loc = locate(root, target, seal::Pick { name, from: None })?;
    let (file_name, doc) = (&loc.file_name, loc.doc()?);
    let to = label_for(file_name, doc, loc.rendered())?;
    let entries: Vec<&sealedsecret::EncryptedEntry> = doc.encrypted_data.iter().collect();
    let data = open_entries(&keys, &to, file_name, &entries)
        .into_iter()
        .zip(&entries)
        .map(|(opened, e)| Ok((e.key.clone(), opened?)))
        .collect::<Result<_, RecoverError>>()?;
    Ok(UnsealedSecret {
        file: loc.file.clone(),
        identity: to.identity,
        scope: to.scope,
        labels: doc.template.labels.clone(),
        annotations: doc.template.annotations.clone(),
        secret_type: doc
            .template
            .secret_type
            .clone()
            .unwrap_or_else(|| "Opaque".to_owned()),
        data,
        template_data_keys: doc.template.data_keys.clone().unwrap_or_default(),
        immutable: doc.template.immutable,
    })
}

impl UnsealedSecret {
    /// The decrypted keys `spec.template.data` also sets, in file order: the controller renders
    /// the template after decrypting (sealed-secrets `sealedsecret_expansion.go` `Unseal`), so its
    /// Secret holds the template's result under these keys, not the decrypted value.
    pub fn overridden(&self) -> Vec<&str> {
        (self.data.iter())
            .map(|(k, _)| k.as_str())
            .filter(|k| self.template_data_keys.iter().any(|t| t == k))
            .collect()
    }

    /// The `spec.template.data` keys no value is sealed under, in file order.
    pub fn template_only(&self) -> Vec<&str> {
        (self.template_data_keys.iter())
            .map(String::as_str)
            .filter(|t| !self.data.iter().any(|(k, _)| k == t))
            .collect()
    }

    /// The Secret as YAML (`apiVersion: v1`, `kind: Secret`, metadata from the template,
    /// `type`, `data` in base64). The buffer holds secrets and is wiped when dropped. A key
    /// `spec.template.data` sets is left out ([`UnsealedSecret::overridden`]): the controller's
    /// Secret holds the rendered template there, which emp-seal does not render.
    pub fn to_yaml(&self) -> Zeroizing<Vec<u8>> {
        let q = plain_or_quoted;
        let mut out = Zeroizing::new(Vec::with_capacity(256 + self.data.len() * 64));
        let mut meta = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {}\n",
            q(&self.identity.name)
        );
        if let Some(ns) = &self.identity.namespace {
            let _ = writeln!(meta, "  namespace: {}", q(ns));
        }
        seal::write_metadata_maps(&mut meta, "  ", &self.labels, &self.annotations);
        let _ = writeln!(meta, "type: {}", q(&self.secret_type));
        if self.immutable {
            meta.push_str("immutable: true\n");
        }
        out.extend_from_slice(meta.as_bytes());
        let overridden = self.overridden();
        let shown = || {
            self.data
                .iter()
                .filter(|(k, _)| !overridden.contains(&k.as_str()))
        };
        if shown().next().is_none() {
            out.extend_from_slice(b"data: {}\n");
            return out;
        }
        out.extend_from_slice(b"data:\n");
        for (k, v) in shown() {
            let encoded = Zeroizing::new(crypto::encode_value(v.expose_secret()));
            out.extend_from_slice(format!("  {}: \"", q(k)).as_bytes());
            out.extend_from_slice(encoded.as_bytes());
            out.extend_from_slice(b"\"\n");
        }
        out
    }

    /// The values as a kustomize env file (`KEY=value` lines) that `--from` reads back as the
    /// same keys and values.
    ///
    /// # Errors
    /// [`RecoverError::Env`] when a value cannot be written in that dialect (a line break, not
    /// UTF-8); the message names the key only.
    pub fn to_env(&self) -> Result<Zeroizing<Vec<u8>>, RecoverError> {
        Ok(envfile::render(
            self.data.iter().map(|(k, v)| (k.as_str(), v)),
        )?)
    }
}

/// How an env file compares with an environment's sealed values (`spec.encryptedData`, what
/// `seal` writes), not with the Secret the controller creates, whose `spec.template.data` keys
/// hold rendered templates. Key names only.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KeyDiff {
    pub file: PathBuf,
    /// Keys whose sealed value equals the env file's (and `spec.template.data` does not set).
    pub same: Vec<String>,
    /// Keys whose sealed value equals the env file's but `spec.template.data` also sets: the
    /// controller's Secret holds the template's result, not that value.
    pub overridden: Vec<String>,
    /// Every key `spec.template.data` sets (its other lines note that the Secret holds the
    /// template's result).
    pub templated: Vec<String>,
    /// Keys whose sealed value differs from the env file's.
    pub changed: Vec<String>,
    /// Keys of the env file not sealed yet.
    pub added: Vec<String>,
    /// Sealed keys the env file does not have.
    pub removed: Vec<String>,
    /// Sealed keys holding a placeholder instead of a ciphertext.
    pub placeholders: Vec<String>,
}

impl KeyDiff {
    /// True when the env file and the sealed values agree on every key (an
    /// [`KeyDiff::overridden`] one too: its sealed value is the env file's).
    pub fn is_clean(&self) -> bool {
        self.changed.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.placeholders.is_empty()
    }
}

/// Compares the env file `from` with the sealed values of environment `env` (of the SealedSecret
/// `name` or, as `seal` picks, `from`'s name chooses when it renders several), decrypting with
/// `key_files`. Every real ciphertext must decrypt; placeholders are reported as such.
///
/// # Errors
/// Any [`RecoverError`].
pub fn diff(
    root: &Path,
    env: &str,
    (from, name): (&Path, Option<&str>),
    key_files: &[PathBuf],
) -> Result<KeyDiff, RecoverError> {
    fsio::refuse_stdin_twice(std::iter::once(from).chain(key_files.iter().map(PathBuf::as_path)))?;
    let keys = crate::workspace::load_keys(root, key_files)?;
    // As `seal` picks: `--name`, else the SealedSecret named like the env file.
    let pick = seal::Pick {
        name,
        from: Some(from),
    };
    let loc = locate_env(root, env, pick)?;
    let (file_name, doc) = (&loc.file_name, loc.doc()?);
    let to = label_for(file_name, doc, loc.rendered())?;

    let from_name = from_display(root, from);
    let env_bytes = Zeroizing::new(fsio::read_input_limited(from, MAX_INPUT_BYTES)?);
    let env_file = envfile::parse_with_path(Path::new(&from_name), &env_bytes)?;
    // Never list a "key" that may be a piece of a value (a pasted value, a line without `=`).
    env_file.refuse_non_keys_with_path(Path::new(&from_name))?;
    drop(env_bytes);

    // Entries FILE also has; the others were removed from FILE.
    let (present, removed): (Vec<_>, Vec<_>) = doc
        .encrypted_data
        .iter()
        .partition(|e| env_file.get(&e.key).is_some());
    let templated = doc.template.data_keys.clone().unwrap_or_default();
    let mut out = KeyDiff {
        file: loc.file.clone(),
        removed: removed.into_iter().map(|e| e.key.clone()).collect(),
        ..KeyDiff::default()
    };
    let opened = open_entries(&keys, &to, file_name, &present);
    for (e, opened) in present.iter().zip(opened) {
        let mine = env_file.get(&e.key).map(|m| m.value.expose_secret());
        match opened {
            Ok(v) if Some(v.expose_secret()) == mine && templated.contains(&e.key) => {
                out.overridden.push(e.key.clone());
            }
            Ok(v) if Some(v.expose_secret()) == mine => out.same.push(e.key.clone()),
            Ok(_) => out.changed.push(e.key.clone()),
            Err(RecoverError::Placeholder { .. }) => out.placeholders.push(e.key.clone()),
            Err(err) => return Err(err),
        }
    }
    out.added = env_file
        .keys()
        .filter(|k| doc.entry(k).is_none())
        .map(str::to_owned)
        .collect();
    out.templated = templated;
    Ok(out)
}
