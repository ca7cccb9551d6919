//! The main use case: seal an env file for one or more overlays and rewrite each overlay's
//! SealedSecret in place.
//!
//! Owns the decisions of `emp-seal seal`: which file, which certificate, which scope, which
//! identity, which keys (missing, unknown, `--only`, `--prune`, no-churn), and the all-or-nothing
//! write of every target. Planning ([`plan_with`]) reads files and encrypts but writes nothing;
//! [`commit_locked`] writes through [`crate::fsio`]. Must not print or prompt by itself:
//! prompting goes through the [`Prompter`] the caller supplies.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::cert::{Certificate, ExpiryWarning, short_fingerprint};
use crate::crypto::{self, Scope, UnsealingKey};
use crate::envfile;
use crate::fsio;
use crate::kustomize::{self, Identity, Overlay, SealedRef, SecretSource};
use crate::sealedsecret::{
    self, API_VERSION, CERT_SHA256_ANNOTATION, CLUSTER_WIDE_ANNOTATION, EditPlan,
    NAMESPACE_WIDE_ANNOTATION, SEALED_FOR_ANNOTATION, SealedFor, SealedSecretDoc, SealedSecretFile,
};
use crate::secret::SecretValue;

use crate::workspace::{MAX_INPUT_BYTES, from_display, load_keys, overlay_dir, rel};

mod guard;
pub(crate) mod values;
pub use guard::{EnvWarning, describe_lost};
pub(crate) use guard::{check_shared_targets, keys_read_by_workloads};
pub(crate) use values::{Recipient, SealedTo};

/// Errors of the seal use case. Messages name files, lines and keys, never values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    #[error("unknown environment `{env}`: no kustomization in {dir}")]
    UnknownEnv {
        env: String,
        dir: String,
        known: Vec<String>,
    },
    #[error(transparent)]
    UnreadConfig(#[from] crate::workspace::UnreadConfig),
    #[error("{env}: no sealing certificate at {path}")]
    NoCert {
        env: String,
        /// Where it was looked for, relative to the root.
        path: String,
    },
    #[error("{env}: the overlay renders no SealedSecret (its Secret comes from {source_desc})")]
    NoSealedSecret {
        env: String,
        source_desc: String,
        /// Whether that is a SecretGenerator (then `--migrate` is the way).
        generator: bool,
    },
    /// The SealedSecret to write is an item of a `List` document, which the span-exact editor
    /// does not edit (it edits documents only).
    #[error(
        "{file}:{line}: SealedSecret `{name}` is an item of a `List`: emp-seal reads and edits SealedSecret documents only and leaves the file unchanged"
    )]
    InList {
        file: String,
        line: usize,
        name: String,
    },
    /// The SealedSecret gives its Secret a key the API server refuses (`check` reports it as
    /// `invalid-secret-key`): the controller never creates the Secret. The key is shown quoted
    /// and escaped as `check` shows it ([`crate::report::text::quoted`]).
    #[error(
        "{file}:{line}: the SealedSecret gives its Secret the key {}, which {}: the API server refuses the Secret, so the controller never creates it; nothing was done",
        crate::report::text::quoted(.key),
        .problem.describe()
    )]
    InvalidSecretKey {
        file: String,
        line: usize,
        key: String,
        problem: envfile::KeyProblem,
    },
    #[error(
        "{origin}: the overlay's Secret `{name}` is a plain `kind: Secret`, not a SealedSecret; emp-seal {env} seals into a SealedSecret"
    )]
    PlainSecret {
        env: String,
        origin: kustomize::Origin,
        name: String,
    },
    /// The overlay renders several SealedSecrets and neither `--name` nor the env file's name
    /// picks one; emp-seal refuses to guess.
    #[error(
        "{env}: the overlay renders {count} SealedSecrets ({names}); pick one with --name NAME"
    )]
    SeveralSealedSecrets {
        env: String,
        count: usize,
        names: String,
    },
    #[error("{env}: the overlay renders no SealedSecret named `{name}` (it renders {names})")]
    NoSuchSealedSecret {
        env: String,
        name: String,
        names: String,
    },
    /// `--name` matches several SealedSecrets the overlay renders: by rendered name (the same
    /// name in several namespaces), or by their names in their files.
    #[error(
        "{env}: `{name}` names {count} of the SealedSecrets the overlay renders ({names}); --name takes the rendered name, or NAMESPACE/NAME"
    )]
    NameAmbiguous {
        env: String,
        name: String,
        count: usize,
        names: String,
    },
    #[error("env file `{name}` not found in the current directory nor in any overlay")]
    FromNotFound { name: String },
    #[error("env file `{name}` is ambiguous: found in {found}")]
    FromAmbiguous { name: String, found: String },
    /// A bare `--from` name found only in the directory of an environment not being sealed,
    /// while the one sealed has an example of that name (it keeps its own file): that
    /// environment's values are not taken for this one without its path.
    #[error(
        "env file `{name}` is not in the directory of {targets}, which has `{name}.example` (its own file is missing); it is in {found}, not {targets}'s"
    )]
    FromOtherEnvironment {
        name: String,
        targets: String,
        found: String,
    },
    #[error(
        "{file}: the SealedSecret renders without a namespace; {scope} scope needs one (kubeseal would take it from your kubeconfig)"
    )]
    NoNamespace { file: String, scope: &'static str },
    #[error(
        "{file}: the file is sealed {declared}, but {}",
        if *by_config { format!("the config file's scope for {env} is {requested}") } else { format!("--scope (or SEALED_SECRETS_SCOPE) asks for {requested}") }
    )]
    ScopeConflict {
        file: String,
        env: String,
        declared: &'static str,
        requested: &'static str,
        /// The requested scope is the config file's, not `--scope`'s.
        by_config: bool,
    },
    /// `--rescope` would leave keys sealed under the old scope: ones `--only` leaves out (the env
    /// file holds them), ones the env file lacks (without `--prune`), or both.
    #[error("{file}: --rescope must reseal every key, but {}", rescope_gap(.left_out, .lacking))]
    RescopeIncomplete {
        file: String,
        /// Keys the env file holds that `--only` leaves out.
        left_out: Vec<String>,
        /// Keys the env file lacks.
        lacking: Vec<String>,
    },
    /// Keys this run leaves alone were sealed (its record says) for another label than the
    /// rendered identity now gives.
    #[error(
        "{file}: its values were sealed for {old}, but the overlay now renders {new}: this run would leave {keys} sealed for the old identity"
    )]
    IdentityChangedIncomplete {
        file: String,
        old: String,
        new: String,
        keys: String,
    },
    /// Keys this run leaves as they are (`--only`) are not known to be sealed with this run's
    /// certificate for this run's identity: the records it writes would not hold for them.
    #[error(
        "{file}: this run keeps the sealed values of {keys} as they are, but {why}; the records would not hold for every value, so nothing was written"
    )]
    KeptUnverified {
        file: String,
        env: String,
        keys: String,
        /// What is different or unknown (fingerprints and record names, no value).
        why: String,
    },
    #[error(
        "{file}:{line}: {what} is `{found}`, but the overlay renders the SealedSecret as `{rendered}`"
    )]
    IdentityMismatch {
        file: String,
        line: usize,
        what: &'static str,
        found: String,
        rendered: String,
    },
    #[error("{env}: {file} lacks keys the overlay needs: {keys}")]
    MissingKeys {
        env: String,
        file: String,
        keys: String,
        /// Whether `--only` may seal a subset instead (not for `--migrate`, which refuses it).
        only_allowed: bool,
    },
    #[error("--only names `{key}`, which {file} does not define")]
    OnlyUnknown { key: String, file: String },
    #[error(
        "{file}: --prune would remove every key ({keys}); add --force to allow an empty secret"
    )]
    PruneEmpties { file: String, keys: String },
    #[error("{file}: no keys to seal")]
    NothingToSeal { file: String },
    #[error(
        "--cert names one certificate, but {count} environments were given; each uses its own certificate (`emp-seal config` lists them)"
    )]
    CertWithSeveralEnvs { count: usize },
    /// The prompt met the end of its input (Ctrl-D, a closed terminal): the run is abandoned.
    #[error("end of input at the prompt for `{key}`: nothing was written")]
    PromptEnded { key: String },
    #[error("{file}: --strict refuses env-file warnings: {list}")]
    StrictWarnings {
        file: String,
        /// The warnings (line, key, what), `; `-separated.
        list: String,
    },
    #[error("{file}: --prune would remove keys the workloads read: {keys}")]
    PruneNeeded { file: String, keys: String },
    #[error(
        "{file}: environments `{first}` and `{second}` both seal this file, with different {what}; nothing was written"
    )]
    SharedTarget {
        file: String,
        first: String,
        second: String,
        /// What differs, with both values.
        what: String,
    },
    /// An environment the run does not seal renders the SealedSecret it writes, with another
    /// certificate, scope or identity.
    #[error(
        "{file}: environment `{other}` also renders this SealedSecret, with different {what}: values sealed for `{env}` would not decrypt there; nothing was written"
    )]
    SharedWithUnsealed {
        file: String,
        env: String,
        other: String,
        /// What differs, with both values.
        what: String,
    },
    /// An environment the run does not seal may render the SealedSecret it writes (its build
    /// may read the file), but whether it does, or for which certificate and identity, is
    /// unknown: its overlay cannot be loaded, emp-seal does not model how it renders the file,
    /// or its certificate cannot be used.
    #[error(
        "{file}: environment `{other}` may render this SealedSecret, but {why}: values sealed for `{env}` might not decrypt there; nothing was written"
    )]
    SharedUnknown {
        file: String,
        env: String,
        other: String,
        /// What is unknown and why (`its overlay cannot be loaded (file:line: what)`, ...; no
        /// value).
        why: String,
    },
    #[error("cannot read a value for `{key}`: {reason}")]
    Prompt { key: String, reason: String },
    #[error("{file}: {source}")]
    Cert {
        file: String,
        source: crate::cert::CertError,
    },
    /// A private key problem (the key module's message already names the file).
    #[error("{source}")]
    Key {
        file: String,
        source: crate::keys::KeyError,
    },
    #[error(transparent)]
    Env(#[from] envfile::EnvError),
    /// A SealedSecret file problem (`path:line:col: ...` when the problem has a position).
    #[error("{file}{}{source}", position_sep(source))]
    SealedSecret {
        file: String,
        source: sealedsecret::SealedSecretError,
    },
    #[error(transparent)]
    Kustomize(#[from] kustomize::KustomizeError),
    /// The overlay's SealedSecret could not be read while loading the overlay (e.g. its YAML
    /// does not parse), so no SealedSecret was found.
    #[error("{origin}: {message}")]
    OverlayProblem {
        /// Where (file relative to the repository root, line).
        origin: kustomize::Origin,
        /// What (one line, no value).
        message: String,
    },
    /// The overlay renders the SealedSecret with another scope than the file declares (its
    /// `commonAnnotations`, a patch or a component sets the scope annotations).
    #[error(
        "{file}: the overlay renders this SealedSecret with {rendered} scope, but the file declares {declared} scope"
    )]
    RenderedScope {
        file: String,
        declared: &'static str,
        rendered: &'static str,
    },
    /// The overlay does not build, or uses what the kustomize model does not replay: the
    /// rendered identity is unknown.
    #[error(
        "{origin}: {message}; the name, namespace and scope the SealedSecret renders with are not known, so nothing is sealed"
    )]
    OverlayUnverified {
        origin: kustomize::Origin,
        /// The model's problem (one line, no value).
        message: String,
    },
    /// A patch of the overlay writes a key into the SealedSecret that this run answers for (one
    /// it seals, one it keeps, or one the file does not hold at all): the render holds the
    /// patch's value, which the run neither seals nor can vouch for in the file's records.
    #[error(
        "{file}: `{key}` of SealedSecret `{name}` is {} by the patch at {patch}{}; nothing is sealed",
        .how.verb(),
        .how.why()
    )]
    PatchedKey {
        file: String,
        name: String,
        key: String,
        /// `file:line` of the patch.
        patch: String,
        how: Patched,
    },
    #[error(transparent)]
    Crypto(#[from] crypto::CryptoError),
    #[error(transparent)]
    Fs(#[from] fsio::FsError),
}

/// How a patch of the overlay writes a key of the SealedSecret this run answers for
/// ([`SealError::PatchedKey`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patched {
    /// It writes a key that the run seals.
    Sealed,
    /// It overwrites a key of the file whose value the run keeps.
    Kept,
    /// It adds a key the file does not hold.
    Added,
}

impl Patched {
    fn verb(self) -> &'static str {
        match self {
            Patched::Sealed | Patched::Kept => "overwritten",
            Patched::Added => "added",
        }
    }

    /// What the render then holds that the run did not seal (with its leading punctuation).
    fn why(self) -> &'static str {
        match self {
            Patched::Sealed => ", so the value sealed into the file would not render",
            Patched::Kept => {
                ", so the value the file keeps would not render, and the file's records cannot vouch for the patch's"
            }
            Patched::Added => {
                ": the file does not hold it, so the render takes the patch's value, which no seal of the file reaches and the file's records cannot vouch for"
            }
        }
    }
}

/// `:` when a [`sealedsecret::SealedSecretError`] message starts with `line:column`, else `: `.
fn position_sep(e: &sealedsecret::SealedSecretError) -> &'static str {
    if e.to_string().starts_with(|c: char| c.is_ascii_digit()) {
        ":"
    } else {
        ": "
    }
}

/// What [`SealError::RescopeIncomplete`] leaves under the old scope, and how to reseal it.
fn rescope_gap(left_out: &[String], lacking: &[String]) -> String {
    let only = format!(
        "--only leaves out {}, which the env file holds",
        left_out.join(", ")
    );
    let lacks = format!("the env file lacks {}", lacking.join(", "));
    match (left_out.is_empty(), lacking.is_empty()) {
        (false, true) => format!("{only} (drop --only)"),
        (true, _) => format!("{lacks} (add them or use --prune)"),
        (false, false) => {
            format!("{only}, and {lacks} (drop --only; add the missing keys or use --prune)")
        }
    }
}

impl SealError {
    /// What the user can do about it. One arm per variant, a table longer than 80 lines on
    /// purpose: every hint reads beside the others, as the `help:` lines users see.
    pub fn hint(&self) -> Option<String> {
        match self {
            SealError::NoCert { env, path } => Some(format!(
                "fetch it: `emp-seal cert {env} --fetch URL` or `kubeseal --fetch-cert > {path}` (docs/certificates.md)"
            )),
            SealError::UnreadConfig(e) => Some(e.hint()),
            SealError::FromOtherEnvironment { found, .. } => Some(format!(
                "seal each environment from its own file; to seal these values there all the same, give the path (--from {})",
                found.split(", ").next().unwrap_or_default()
            )),
            SealError::UnknownEnv { known, .. } if known.is_empty() => Some(
                "known environments: none (is this the repository root? use -C DIR)".to_owned(),
            ),
            SealError::UnknownEnv { known, .. } => {
                Some(format!("known environments: {}", known.join(", ")))
            }
            SealError::ScopeConflict { by_config, .. } => Some(format!(
                "{} to keep the file's scope, or seal with --rescope, which reseals every key with the new one",
                if *by_config {
                    "remove the config file's `scope` for it (`emp-seal config` shows the file)"
                } else {
                    "drop --scope (and SEALED_SECRETS_SCOPE)"
                }
            )),
            SealError::IdentityMismatch { .. } => Some(
                "make the file's metadata and template agree with the overlay's namespace/namePrefix/nameSuffix, or remove the disagreeing field"
                    .to_owned(),
            ),
            SealError::RenderedScope { .. } => Some(
                "the controller reads the scope annotations of the rendered object: declare that scope in the file's metadata.annotations, or stop the overlay from changing them (docs/sealing.md)"
                    .to_owned(),
            ),
            SealError::OverlayProblem { .. } => Some(
                "fix the file and line named, then run again; `kubectl kustomize <overlay>` shows what kustomize renders (or its own error)"
                    .to_owned(),
            ),
            SealError::OverlayUnverified { .. } => Some(
                "keep the overlay buildable by `kubectl kustomize` and within what emp-seal models (docs/kustomize-model.md); `emp-seal check --render` compares the two"
                    .to_owned(),
            ),
            SealError::PatchedKey {
                how: Patched::Added,
                ..
            } => Some(
                "put the key in the file instead: drop it from the patch and seal its value with `emp-seal ENV --from FILE` (the file's value then renders and its records cover it), or remove the patch".to_owned(),
            ),
            SealError::PatchedKey { .. } => Some(
                "drop the key from the patch (the file's value then renders), or seal it where the patch writes it".to_owned(),
            ),
            SealError::IdentityChangedIncomplete { .. } => Some(
                "seal every key for the new identity (drop --only, or name those keys in --only too); the controller fails the whole SealedSecret when one value does not decrypt"
                    .to_owned(),
            ),
            SealError::KeptUnverified { env, .. } => Some(format!(
                "seal every key (drop --only), or first re-encrypt the file to the current certificate with `emp-seal reseal {env} --key KEY` (it records both), or add --key KEY (the current certificate's private key) so that the kept values are checked"
            )),
            SealError::MissingKeys { only_allowed, .. } => Some(format!(
                "add them to the env file{}",
                if *only_allowed {
                    ", run on a terminal to be prompted, or use --only to seal a subset"
                } else {
                    ", or run on a terminal to be prompted"
                }
            )),
            SealError::NoNamespace { .. } => Some(
                "set `namespace:` in the overlay's kustomization or the SealedSecret's metadata".to_owned(),
            ),
            SealError::NoSealedSecret { generator: true, .. } => Some(
                "to move an overlay from a SecretGenerator to a SealedSecret, add --migrate".to_owned(),
            ),
            SealError::PromptEnded { .. } => Some(
                "run again and answer every prompt, or add the keys to the env file".to_owned(),
            ),
            SealError::StrictWarnings { .. } => Some(
                "fix the lines (docs/envfiles.md), or drop --strict to seal the values as kustomize reads them".to_owned(),
            ),
            SealError::PruneNeeded { .. } => Some(
                "keep the keys in the env file, remove the references first, or add --force to remove them anyway".to_owned(),
            ),
            SealError::SharedTarget { .. } | SealError::SharedWithUnsealed { .. } => Some(
                "seal the environments one at a time into files of their own (a SealedSecret per overlay), or give them the same certificate and identity".to_owned(),
            ),
            SealError::SharedUnknown { other, .. } => Some(format!(
                "fix what the message names in `{other}`'s overlay or certificate (`emp-seal check` names overlay problems, `emp-seal cert {other}` certificate ones), or give this environment its own SealedSecret file that `{other}` does not include"
            )),
            SealError::NoSealedSecret { env, .. } => Some(format!(
                "write a SealedSecret skeleton to sealedsecret.yaml in {env}'s directory (apiVersion: {API_VERSION}, kind: SealedSecret, metadata.name: the Secret's name, spec.encryptedData: {{}}), list it under `resources:` in the overlay's kustomization, then run emp-seal {env} --from FILE again (docs/sealing.md)"
            )),
            SealError::InvalidSecretKey { .. } => Some(
                "rename the key in the file to 1 to 253 characters of [-._a-zA-Z0-9] and seal its value again, or remove the entry (`emp-seal check` reports it as invalid-secret-key)".to_owned(),
            ),
            SealError::InList { .. } => Some(
                "move the SealedSecret out of the List into a document of its own (`---` before `apiVersion: bitnami.com/v1alpha1`), then run again".to_owned(),
            ),
            SealError::PlainSecret { env, name, .. } => Some(format!(
                "move its values to an untracked env file, replace the document with a SealedSecret skeleton (apiVersion: {API_VERSION}, kind: SealedSecret, metadata.name: {name}, spec.encryptedData: {{}}), run emp-seal {env} --from FILE, and rotate the values: they were committed in plaintext"
            )),
            SealError::Cert { source, .. } => source.hint().map(str::to_owned),
            SealError::Key { source, .. } => source.hint().map(str::to_owned),
            SealError::Env(e) => e.hint().map(str::to_owned),
            SealError::SealedSecret { source, .. } => source.hint().map(str::to_owned),
            SealError::Kustomize(e) => e.hint().map(str::to_owned),
            SealError::Fs(e) => e.hint().map(str::to_owned),
            _ => None,
        }
    }
}

/// Asks for values of keys the env file lacks (hidden input on a terminal).
pub trait Prompter {
    /// Whether asking is possible (a terminal, and not `--no-input`).
    fn can_prompt(&self) -> bool;
    /// Asks for one value.
    ///
    /// # Errors
    /// [`SealError::Prompt`] when the answer cannot be read.
    fn ask(&mut self, env: &str, key: &str) -> Result<SecretValue, SealError>;
}

/// A [`Prompter`] that never asks (`--no-input`, no terminal, tests).
#[derive(Debug, Default)]
pub struct NoPrompt;

impl Prompter for NoPrompt {
    fn can_prompt(&self) -> bool {
        false
    }
    fn ask(&mut self, _env: &str, key: &str) -> Result<SecretValue, SealError> {
        Err(SealError::Prompt {
            key: key.to_owned(),
            reason: "prompting is disabled".to_owned(),
        })
    }
}

/// What the user asked for, validated by the CLI.
#[derive(Debug, Default)]
pub struct SealRequest {
    pub root: PathBuf,
    /// Environments, in the order given.
    pub envs: Vec<String>,
    /// The env file (already resolved, see [`crate::workspace::resolve_from`]).
    pub from: PathBuf,
    /// `--cert` (one environment only).
    pub cert: Option<PathBuf>,
    pub scope: Option<Scope>,
    pub rescope: bool,
    /// `--only` (empty = every key).
    pub only: Vec<String>,
    pub prune: bool,
    pub force: bool,
    /// `--strict`: env-file warnings are fatal.
    pub strict: bool,
    /// `--key` files (no churn).
    pub key_files: Vec<PathBuf>,
    /// The current time, Unix seconds (for certificate expiry).
    pub now: u64,
    /// `--name`: which SealedSecret, when an overlay renders several.
    pub name: Option<String>,
    /// Keys the run leaves as they are that are not known to be sealed with this run's
    /// certificate and identity keep the file's records unchanged instead of refusing the run
    /// (`reseal --skip-unopened`: the old certificate record keeps `check` reporting the file).
    pub keep_old_records: bool,
}

/// What the certificate used for one environment is.
#[derive(Debug, Clone)]
pub struct CertSummary {
    pub path: PathBuf,
    /// SHA-256 of the DER, lowercase hex.
    pub sha256: String,
    pub key_bits: usize,
    /// `NotAfter`, Unix seconds.
    pub not_after: u64,
    /// Set when it expires within 30 days.
    pub expiry_warning: Option<ExpiryWarning>,
    /// Whether it is emp-seal's demo certificate.
    pub demo: bool,
    /// The label of the first private key block the file also holds (sealing skips it), if any.
    pub private_key: Option<String>,
}

/// The planned rewrite of one environment's SealedSecret, ready to [`commit_locked`].
#[derive(Debug)]
pub struct EnvPlan {
    pub env: String,
    /// The SealedSecret file to rewrite.
    pub target: PathBuf,
    /// The SealedSecret's `metadata.name` as written in that file.
    pub name: String,
    pub old_text: String,
    /// Its text after (ciphertext only: no plaintext ever reaches it).
    pub new_text: String,
    pub cert: CertSummary,
    pub scope: Scope,
    /// The identity sealed for (rendered name and namespace).
    pub identity: Identity,
    pub added: Vec<String>,
    /// Keys whose old value was a placeholder, now sealed for the first time.
    pub filled: Vec<String>,
    /// Keys resealed (they had a real ciphertext).
    pub changed: Vec<String>,
    /// Keys whose ciphertext is kept (no churn, or not in the env file).
    pub kept: Vec<String>,
    /// Keys removed (`--prune`).
    pub removed: Vec<String>,
    /// Keys of the env file that the overlay does not otherwise know (sealed anyway).
    pub unknown: Vec<String>,
    /// Warnings about the env file (the same for every environment of one run).
    pub env_warnings: Vec<EnvWarning>,
    /// Keys removed under `--prune --force` that workloads read, with those workloads.
    pub pruned_needed: Vec<(String, Vec<String>)>,
}

/// The SealedSecret an environment renders.
#[derive(Debug, Clone)]
pub struct SealedTarget {
    /// The file holding it (absolute).
    pub file: PathBuf,
    /// Its `metadata.name` as written.
    pub name: String,
    /// Its `metadata.namespace` as written (two documents of one file may share a name).
    pub namespace_in_file: Option<String>,
    /// Its rendered name and namespace (what the controller's label uses).
    pub identity: Identity,
    /// The scope its rendered top-level annotations declare (what the controller's label uses).
    pub scope: Scope,
    /// Its `encryptedData` keys after rendering (a patch may add or remove some), when known.
    pub rendered_keys: Option<BTreeSet<String>>,
}

impl SealedTarget {
    /// Refuses the target when its file has a `List` item of that name and namespace
    /// ([`sealedsecret::ParsedFile::listed_line`], naming the item's line): kustomize expands
    /// the list, so the overlay renders it, but emp-seal edits and reads SealedSecret documents
    /// only. Every command that edits or reads the target gives this one reason.
    ///
    /// # Errors
    /// [`SealError::InList`].
    pub(crate) fn refuse_listed(
        &self,
        file_name: &str,
        file: &sealedsecret::ParsedFile<'_>,
    ) -> Result<(), SealError> {
        let Some(line) = file.listed_line(&self.name, self.namespace_in_file.as_deref()) else {
            return Ok(());
        };
        Err(SealError::InList {
            file: file_name.to_owned(),
            line,
            name: self.name.clone(),
        })
    }

    /// Its document among `docs` (a parsed file's `sealed_secrets()`): the one with its name and
    /// namespace as written.
    pub fn doc_in<'d>(
        &self,
        mut docs: impl Iterator<Item = (usize, &'d SealedSecretDoc)>,
    ) -> Option<(usize, &'d SealedSecretDoc)> {
        docs.find(|(_, d)| {
            d.name.as_deref() == Some(self.name.as_str()) && d.namespace == self.namespace_in_file
        })
    }
}

/// A SealedSecret file as every command reads it (within [`MAX_INPUT_BYTES`]): its name in
/// messages (relative to the root) and its text.
pub(crate) struct SealedFile {
    pub(crate) name: String,
    pub(crate) text: String,
}

impl SealedFile {
    pub(crate) fn read(root: &Path, file: &Path) -> Result<Self, SealError> {
        let text = fsio::read_to_string_limited(file, MAX_INPUT_BYTES)?;
        let name = rel(root, file);
        Ok(SealedFile { name, text })
    }

    /// Its documents, parsed for reading and editing; a problem reads `file:LINE:COL: ...`
    /// ([`SealError::SealedSecret`]).
    pub(crate) fn parse(&self) -> Result<sealedsecret::ParsedFile<'_>, SealError> {
        sealedsecret::ParsedFile::parse(&self.text).map_err(|e| self.error(e))
    }

    /// A problem of this file's text, named as [`SealedFile::parse`] names one.
    pub(crate) fn error(&self, source: sealedsecret::SealedSecretError) -> SealError {
        let file = self.name.clone();
        SealError::SealedSecret { file, source }
    }
}

/// Which SealedSecret to use when an overlay renders several: `--name` (`NAME`, or
/// `NAMESPACE/NAME` for one name in several namespaces), and the env file whose name picks one
/// when `--name` is not given (`redis.env` -> `redis`). `seal`, `reseal`, `unseal` and `diff`
/// share it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Pick<'a> {
    pub name: Option<&'a str>,
    pub from: Option<&'a Path>,
}

/// The one SealedSecret environment `env` renders, or the one `pick` chooses among several (for
/// recovery, rotation and inspection).
///
/// # Errors
/// [`SealError::UnknownEnv`], [`SealError::Kustomize`], [`SealError::NoSealedSecret`],
/// [`SealError::SeveralSealedSecrets`], [`SealError::NoSuchSealedSecret`],
/// [`SealError::NameAmbiguous`], [`SealError::OverlayProblem`] (the overlay does not build).
pub fn sealed_secret_of(root: &Path, env: &str, pick: Pick<'_>) -> Result<SealedTarget, SealError> {
    sealed_secret_in(root, env, pick).map(|(_, t)| t)
}

/// [`sealed_secret_of`], with the overlay loaded to find it.
///
/// # Errors
/// As [`sealed_secret_of`].
pub(crate) fn sealed_secret_in(
    root: &Path,
    env: &str,
    pick: Pick<'_>,
) -> Result<(Overlay, SealedTarget), SealError> {
    overlay_dir(root, env)?;
    let overlay = Overlay::load(root, env)?;
    let target = sealed_target(root, env, &overlay, pick)?;
    Ok((overlay, target))
}

/// The values patches of `overlay` write into the SealedSecret named `name_in_file` (told from a
/// same-named one by its namespace as written, `namespace`) in `file_name`: kustomize applies
/// them after reading the file, so the render holds them, not the file's.
pub(crate) fn patched_values<'o>(
    overlay: &'o Overlay,
    file_name: &str,
    name_in_file: &str,
    namespace: Option<&str>,
) -> impl Iterator<Item = &'o kustomize::WrittenValue> {
    overlay.written_values().iter().filter(move |w| {
        w.kind == "SealedSecret"
            && w.ciphertext.is_some()
            && w.object_name == name_in_file
            && w.object_namespace.as_deref() == namespace
            && crate::workspace::path_str(&w.object_file) == file_name
    })
}

/// Every SealedSecret environment `env` renders, in the model's order (for inspection, which
/// reports on each); none when it renders no SealedSecret (a generator, a plain Secret, or no
/// Secret source at all).
///
/// # Errors
/// [`SealError::UnknownEnv`], [`SealError::Kustomize`], or what stopped the overlay's
/// SealedSecrets from being read (see [`sealed_secret_of`]).
pub fn sealed_secrets_of(root: &Path, env: &str) -> Result<Vec<SealedTarget>, SealError> {
    overlay_dir(root, env)?;
    let overlay = Overlay::load(root, env)?;
    let sources = overlay.secret_sources();
    let sealed: Vec<&SealedRef> = sources.iter().filter_map(SecretSource::as_sealed).collect();
    if sealed.is_empty() {
        return match no_sealed_secret(root, env, &overlay) {
            SealError::NoSealedSecret { .. } | SealError::PlainSecret { .. } => Ok(Vec::new()),
            e => Err(e),
        };
    }
    Ok(sealed.iter().map(|c| target(root, c)).collect())
}

/// Which of `sealed` to use when an overlay renders several: the one `pick.name` (`--name`)
/// names ([`named`]), else the one named like the env file `pick.from` up to its first dot
/// (`emp-secrets.paper.env` -> `emp-secrets`); or the error listing them.
fn choose<'s>(
    env: &str,
    pick: Pick<'_>,
    sealed: &[&'s SealedRef],
) -> Result<&'s SealedRef, SealError> {
    // A name several of them render under (in several namespaces) is shown as NAMESPACE/NAME,
    // which `--name` takes.
    let shared = |c: &SealedRef| {
        sealed
            .iter()
            .filter(|o| o.rendered.name == c.rendered.name)
            .count()
            > 1
    };
    let list = |of: &[&SealedRef]| {
        of.iter()
            .map(|c| {
                let shown = if shared(c) {
                    c.rendered.to_string()
                } else {
                    c.rendered.name.clone()
                };
                format!("`{shown}` in {}", crate::workspace::path_str(&c.file))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(n) = pick.name {
        return match named(n, sealed) {
            Ok(one) => Ok(one),
            Err(hits) if hits.is_empty() => Err(SealError::NoSuchSealedSecret {
                env: env.to_owned(),
                name: n.to_owned(),
                names: list(sealed),
            }),
            Err(hits) => Err(SealError::NameAmbiguous {
                env: env.to_owned(),
                name: n.to_owned(),
                count: hits.len(),
                names: list(&hits),
            }),
        };
    }
    if let [one] = sealed {
        return Ok(*one);
    }
    pick.from
        .and_then(|f| f.file_name()?.to_str()?.split('.').next())
        .filter(|s| !s.is_empty())
        .and_then(|n| named(n, sealed).ok())
        .ok_or_else(|| SealError::SeveralSealedSecrets {
            env: env.to_owned(),
            count: sealed.len(),
            names: list(sealed),
        })
}

/// The one of `sealed` whose rendered identity `n` names ([`name_matches`]: what the controller
/// and the workloads know); failing that, the one whose name (and namespace) in its file `n`
/// names. Otherwise the candidates that matched (none, or several).
fn named<'s>(n: &str, sealed: &[&'s SealedRef]) -> Result<&'s SealedRef, Vec<&'s SealedRef>> {
    let rendered: Vec<&'s SealedRef> = sealed
        .iter()
        .filter(|c| name_matches(n, &c.rendered.name, c.rendered.namespace.as_deref()))
        .copied()
        .collect();
    let hits = if rendered.is_empty() {
        sealed
            .iter()
            .filter(|c| name_matches(n, &c.name_in_file, c.namespace_in_file.as_deref()))
            .copied()
            .collect()
    } else {
        rendered
    };
    match hits.as_slice() {
        [one] => Ok(*one),
        _ => Err(hits),
    }
}

/// Whether `--name`'s `n` names the object `name` in `namespace`: `NAME` alone, or
/// `NAMESPACE/NAME` (a Kubernetes object name has no `/`, so the split is unambiguous) when the
/// same name is in several namespaces.
pub(crate) fn name_matches(n: &str, name: &str, namespace: Option<&str>) -> bool {
    match n.split_once('/') {
        Some((ns, nm)) => nm == name && namespace.unwrap_or_default() == ns,
        None => n == name,
    }
}

/// The [`SealedTarget`] the SealedSecret `s` the overlay renders is.
pub(crate) fn target(root: &Path, s: &SealedRef) -> SealedTarget {
    SealedTarget {
        // `join` keeps an absolute path as it is.
        file: root.join(&s.file),
        name: s.name_in_file.clone(),
        namespace_in_file: s.namespace_in_file.clone(),
        identity: s.rendered.clone(),
        scope: s.scope,
        rendered_keys: s.keys.clone(),
    }
}

/// The one SealedSecret an overlay renders (or the one `pick` chooses). An overlay kustomize
/// would not build has no known render: its build error comes first, before a missing or
/// ambiguous `--name` (the model may miss the SealedSecret named), for `seal`, `reseal` and
/// `unseal` alike.
fn sealed_target(
    root: &Path,
    env: &str,
    overlay: &Overlay,
    pick: Pick<'_>,
) -> Result<SealedTarget, SealError> {
    if let Some(e) = build_error(overlay) {
        return Err(e);
    }
    let sources = overlay.secret_sources();
    let sealed: Vec<&SealedRef> = sources.iter().filter_map(SecretSource::as_sealed).collect();
    if sealed.is_empty() {
        return Err(no_sealed_secret(root, env, overlay));
    }
    Ok(target(root, choose(env, pick, &sealed)?))
}

/// Why an overlay renders no SealedSecret: a problem loading it, a plain Secret, a generator, or
/// nothing at all.
fn no_sealed_secret(root: &Path, env: &str, overlay: &Overlay) -> SealError {
    if let Err(e) = explain_missing_sealed_secret(root, overlay) {
        return e;
    }
    let sources = overlay.secret_sources();
    let generator = sources
        .iter()
        .find(|s| matches!(s, SecretSource::Generator { .. }));
    if generator.is_none()
        && let Some(r) = overlay.resources().iter().find(|r| r.kind == "Secret")
    {
        return SealError::PlainSecret {
            env: env.to_owned(),
            origin: r.origin.clone(),
            name: r.original.name.clone(),
        };
    }
    SealError::NoSealedSecret {
        env: env.to_owned(),
        source_desc: match generator {
            Some(SecretSource::Generator { origin, .. }) => {
                format!("a SecretGenerator at {origin}")
            }
            _ => empty_sealed_file(root, overlay).map_or_else(
                || "nowhere: it has no Secret source".to_owned(),
                |f| format!("nowhere: {f} holds no document"),
            ),
        },
        generator: generator.is_some(),
    }
}

/// The overlay's `sealedsecret.yaml` when it exists but holds no YAML document (empty, or only
/// comments), relative to the root.
fn empty_sealed_file(root: &Path, overlay: &Overlay) -> Option<String> {
    let path = overlay.dir.join("sealedsecret.yaml");
    let text = fsio::read_to_string_limited(&path, MAX_INPUT_BYTES).ok()?;
    let empty = text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    });
    empty.then(|| rel(root, &path))
}

/// Before saying an overlay has no SealedSecret: a `kind: SealedSecret` document the model
/// skipped (e.g. another apiVersion) or a problem that keeps kustomize from building the overlay
/// (a resource file that does not parse, or that the load restrictor refuses) is the real cause;
/// report it with its file and line.
fn explain_missing_sealed_secret(root: &Path, overlay: &Overlay) -> Result<(), SealError> {
    for r in overlay
        .resources()
        .iter()
        .filter(|r| r.kind == "SealedSecret")
    {
        let read = SealedFile::read(root, &root.join(&r.origin.file))?;
        SealedSecretFile::parse(&read.text).map_err(|e| read.error(e))?;
    }
    if !overlay.secret_sources().is_empty() {
        // It has a Secret source (a generator): that, not a load problem, is the answer.
        return Ok(());
    }
    if let Some(d) = overlay.deleted().iter().find(|d| d.kind == "SealedSecret") {
        return Err(SealError::OverlayProblem {
            origin: d.patch.clone(),
            message: format!(
                "this patch deletes SealedSecret `{}` from the overlay's render (`$patch: delete`): there is nothing to seal into",
                d.name
            ),
        });
    }
    build_error(overlay).map_or(Ok(()), Err)
}

/// The first problem that keeps kustomize from building the overlay, as an error.
fn build_error(overlay: &Overlay) -> Option<SealError> {
    let p = overlay.problems().iter().find(|p| p.fails_build())?;
    Some(SealError::OverlayProblem {
        origin: p.origin.clone(),
        message: p.message.clone(),
    })
}

/// Keys an overlay needs: those of the `*.env.example` files describing the SealedSecret
/// `name` in `file` ([`Overlay::sealed_example_keys`], the rule `check` judges by), those it
/// already holds, and those its workloads read from the Secret by key. Also, of the examples'
/// keys from lines without `=` (a key to kustomize v5 and to `check`, but perhaps a piece of a
/// pasted value, so never asked for by name), those the SealedSecret lacks and no workload
/// reads by name, with their lines.
fn needed_keys(
    root: &Path,
    overlay: &Overlay,
    (file, name, doc): (&Path, &str, &SealedSecretDoc),
    rendered_name: &str,
) -> (BTreeSet<String>, Vec<(String, PathBuf, usize)>) {
    let mut keys: BTreeSet<String> = doc.encrypted_data.iter().map(|e| e.key.clone()).collect();
    // A key a workload reads by name is a key, however an example writes it: asked for.
    keys.extend(guard::keys_read_by_workloads(overlay, rendered_name).into_keys());
    let examples_in = |dir: &Path| crate::kustomize::examples_on_disk(root, dir);
    let Some(e) = overlay.sealed_example_keys(root, (file, name), examples_in) else {
        return (keys, Vec::new());
    };
    let bare = (e.bare.into_iter())
        .filter(|(k, ..)| !keys.contains(k))
        .collect();
    keys.extend(e.keys);
    (keys, bare)
}

/// What `--from` and `--key` gave, read once: a pipe cannot be read a second time, so a
/// re-plan under the write lock ([`commit_locked`]) works from these.
pub struct SealInputs {
    /// The env file's name for messages (`<stdin>` for `-`).
    pub from_name: String,
    pub env: envfile::EnvFile,
    /// `--key` files' private keys (no churn).
    pub private_keys: Vec<UnsealingKey>,
    /// The env file's lint warnings (key names and lines, never values).
    pub env_warnings: Vec<guard::EnvWarning>,
}

/// Reads and checks `--from` (a file, `-` or a pipe, read once) and `--key`.
///
/// # Errors
/// Any [`SealError`] about those inputs.
pub fn load_inputs(req: &SealRequest) -> Result<SealInputs, SealError> {
    if req.cert.is_some() && req.envs.len() > 1 {
        return Err(SealError::CertWithSeveralEnvs {
            count: req.envs.len(),
        });
    }
    let keys = req.key_files.iter().map(PathBuf::as_path);
    fsio::refuse_stdin_twice(std::iter::once(req.from.as_path()).chain(keys))?;
    let from_name = from_display(&req.root, &req.from);
    let env_bytes = zeroize::Zeroizing::new(fsio::read_input_limited(&req.from, MAX_INPUT_BYTES)?);
    let parsed = envfile::parse_with_path(Path::new(&from_name), &env_bytes)?;
    parsed.validate_keys_with_path(Path::new(&from_name))?;
    let env_warnings = guard::env_warnings(&env_bytes, &parsed);
    guard::refuse_if_strict(req.strict, &from_name, &env_warnings)?;
    drop(env_bytes);
    if let Some(k) = req.only.iter().find(|k| parsed.get(k).is_none()) {
        return Err(SealError::OnlyUnknown {
            key: k.clone(),
            file: from_name,
        });
    }
    let private_keys = load_keys(&req.root, &req.key_files)?;
    Ok(SealInputs {
        from_name,
        env: parsed,
        private_keys,
        env_warnings,
    })
}

/// Plans the rewrite of every requested environment from inputs already read ([`load_inputs`]):
/// reads, checks and encrypts, writes nothing. Any error aborts the whole plan.
///
/// # Errors
/// Any [`SealError`].
pub fn plan_with(
    req: &SealRequest,
    inputs: &SealInputs,
    prompter: &mut dyn Prompter,
) -> Result<Vec<EnvPlan>, SealError> {
    let from_keys: BTreeMap<&str, &SecretValue> = inputs
        .env
        .entries
        .iter()
        .map(|e| (e.key.as_str(), &e.value))
        .collect();
    let mut plans = distinct(&req.envs)
        .map(|env| {
            let keys = &inputs.private_keys;
            plan_env(req, env, &inputs.from_name, &from_keys, keys, prompter)
        })
        .collect::<Result<Vec<_>, _>>()?;
    guard::check_shared_targets(&req.root, &plans.iter().collect::<Vec<_>>(), req.now)?;
    for p in &mut plans {
        p.env_warnings.clone_from(&inputs.env_warnings);
    }
    Ok(plans)
}

/// `envs` in the order given, each once (an environment named twice is planned once).
pub(crate) fn distinct(envs: &[String]) -> impl Iterator<Item = &String> {
    let first = |&(i, env): &(usize, &String)| !envs[..i].contains(env);
    envs.iter().enumerate().filter(first).map(|(_, env)| env)
}

/// Writes `plans` under the write lock of every target ([`fsio::lock_for_write`], sorted, so
/// runs cannot deadlock), every file or none. A target that changed since it was planned
/// (another run wrote it meanwhile) is planned again with `replan`, from its current content and
/// the same inputs, so that run's keys are kept; a `seal` re-plan passes the
/// [`RememberingPrompter`] the plans were made with, so that it does not ask again. `env_plan`
/// reaches each plan's [`EnvPlan`]. Returns the plans actually written.
///
/// # Errors
/// The re-plan's errors; [`SealError::Fs`] for a lock or a write ([`fsio::FsError::Busy`] when a
/// lock is not had in time). On error nothing is written.
pub fn commit_locked<P, E: From<SealError>>(
    plans: Vec<P>,
    env_plan: impl Fn(&P) -> &EnvPlan,
    replan: impl FnOnce() -> Result<Vec<P>, E>,
) -> Result<Vec<P>, E> {
    let targets: Vec<PathBuf> = plans.iter().map(|p| env_plan(p).target.clone()).collect();
    let _lock = fsio::lock_for_write(&targets).map_err(SealError::from)?;
    let fresh = plans
        .iter()
        .all(|p| fsio::unchanged(&env_plan(p).target, &env_plan(p).old_text));
    let plans = if fresh { plans } else { replan()? };
    if let Some(p) = plans
        .iter()
        .find(|p| !targets.contains(&env_plan(p).target))
    {
        // The tree changed under us to name another file: it is not locked, so do not write it.
        return Err(SealError::from(fsio::FsError::ChangedMeanwhile {
            path: env_plan(p).target.clone(),
        })
        .into());
    }
    // Every file or none: a read-only file among those that change is refused before any is
    // written; each new text goes to a temp file and is renamed over its target; if a later
    // target fails, the earlier ones are restored to their old text. A file whose text would
    // not change is not rewritten ([`EnvPlan::unchanged`]), read-only or not.
    let changed: Vec<&EnvPlan> = (plans.iter().map(&env_plan))
        .filter(|p| !p.unchanged())
        .collect();
    fsio::refuse_read_only(changed.iter().map(|p| p.target.as_path())).map_err(SealError::from)?;
    let mut done: Vec<&EnvPlan> = Vec::new();
    for p in changed {
        if let Err(e) = fsio::atomic_write(&p.target, p.new_text.as_bytes()) {
            for d in done.iter().rev() {
                let _ = fsio::atomic_write(&d.target, d.old_text.as_bytes());
            }
            return Err(SealError::from(e).into());
        }
        done.push(p);
    }
    Ok(plans)
}

impl EnvPlan {
    /// Whether the plan leaves the file's text as it is (every value kept, no record changed):
    /// such a file is not rewritten.
    pub fn unchanged(&self) -> bool {
        self.new_text == self.old_text
    }
}

/// A [`Prompter`] that asks each (environment, key) once and answers again with the same value:
/// a re-plan under the write lock ([`commit_locked`]) must not ask the user twice.
pub struct RememberingPrompter<'a> {
    inner: &'a mut dyn Prompter,
    answers: BTreeMap<(String, String), SecretValue>,
}

impl<'a> RememberingPrompter<'a> {
    pub fn new(inner: &'a mut dyn Prompter) -> Self {
        RememberingPrompter {
            inner,
            answers: BTreeMap::new(),
        }
    }
}

impl Prompter for RememberingPrompter<'_> {
    fn can_prompt(&self) -> bool {
        self.inner.can_prompt()
    }
    fn ask(&mut self, env: &str, key: &str) -> Result<SecretValue, SealError> {
        let id = (env.to_owned(), key.to_owned());
        if let Some(v) = self.answers.get(&id) {
            return Ok(v.duplicate());
        }
        let v = self.inner.ask(env, key)?;
        self.answers.insert(id, v.duplicate());
        Ok(v)
    }
}

/// Plans one environment's rewrite from values already read (`from_keys`): the body of [`plan_with`],
/// also used by `reseal` with the values it opened.
pub(crate) fn plan_env(
    req: &SealRequest,
    env: &str,
    from_name: &str,
    from_keys: &BTreeMap<&str, &SecretValue>,
    private_keys: &[UnsealingKey],
    prompter: &mut dyn Prompter,
) -> Result<EnvPlan, SealError> {
    let root = &req.root;
    let (overlay, target, cert) = load_target(req, env)?;
    let read = SealedFile::read(root, &target.file)?;
    // Parsed once: read here, edited below (`ParsedFile::apply`).
    let file = read.parse()?;
    let (file_name, old_text) = (read.name.as_str(), read.text.as_str());
    let (doc_index, doc) = target_doc(&file, &target, env, file_name)?;
    refuse_rendered_scope(file_name, doc, target.scope)?;

    let scope = choose_scope(req, env, doc.scope, file_name)?;
    let to = Recipient::new(cert, scope, target.identity, file_name)?;
    let rendered = (&to.who.identity, scope);
    check_identity(file_name, doc, doc_index, rendered, old_text)?;
    let rescoping = scope != doc.scope;
    let needed = needed_keys(
        root,
        &overlay,
        (&target.file, &target.name, doc),
        &to.who.identity.name,
    );
    let (mut values, unknown) = select_values(req, env, from_name, from_keys, &needed, prompter)?;
    refuse_patched(
        &overlay,
        (file_name, &target.name, doc),
        !req.only.is_empty(),
        values.iter().map(|(k, _)| k),
    )?;
    let (removed, untouched, pruned_needed) = check_removals(
        req,
        &overlay,
        &to,
        doc,
        (from_name, from_keys),
        file_name,
        &values,
    )?;
    let records = records_hold(req, env, doc, private_keys, &to, &untouched, file_name)?;
    let [added, filled, changed, kept] =
        classify_keys(doc, private_keys, &to, &mut values, untouched, rescoping);
    let plan = edit_plan(&to, doc, values, &removed, (rescoping, records))?;
    let new_text = file.apply(doc_index, &plan).map_err(|e| read.error(e))?;

    Ok(EnvPlan {
        env: env.to_owned(),
        target: target.file,
        name: target.name,
        old_text: read.text,
        new_text,
        cert: to.summary,
        scope,
        identity: to.who.identity,
        added,
        filled,
        changed,
        kept,
        removed,
        unknown,
        env_warnings: Vec::new(),
        pruned_needed,
    })
}

/// The overlay `env`, the SealedSecret `req` seals into there and the certificate it seals
/// with; refused when the model cannot vouch for the overlay's render.
fn load_target(
    req: &SealRequest,
    env: &str,
) -> Result<(Overlay, SealedTarget, (Certificate, CertSummary)), SealError> {
    let root = &req.root;
    overlay_dir(root, env)?;
    let overlay = Overlay::load(root, env)?;
    let pick = Pick {
        name: req.name.as_deref(),
        from: Some(&req.from),
    };
    // An overlay the model cannot vouch for may render a SealedSecret the model does not see
    // (`Resources:` spelt so): "renders no SealedSecret" would be a false reason.
    let target = sealed_target(root, env, &overlay, pick).map_err(|e| match e {
        SealError::NoSealedSecret { .. } => refuse_unverified(&overlay).err().unwrap_or(e),
        e => e,
    })?;
    refuse_unverified(&overlay)?;
    let cert = values::certificate(root, env, req.cert.as_deref(), req.now)?;
    Ok((overlay, target, cert))
}

/// Refuses an overlay whose render the kustomize model cannot vouch for: one kustomize would not
/// build, or one using what the model does not replay (`replacements`, `transformers`, remote
/// components, ...: docs/kustomize-model.md). The SealedSecret's rendered name, namespace and
/// scope, hence the label, would be a guess. Remote resources and Helm charts
/// ([`kustomize::ProblemKind::Unfetched`]) only add objects, which cannot change the
/// SealedSecret's identity: they do not stop a seal.
pub(crate) fn refuse_unverified(overlay: &Overlay) -> Result<(), SealError> {
    let modelled = |p: &&kustomize::Problem| p.kind != kustomize::ProblemKind::Unfetched;
    let Some(p) = overlay.problems().iter().find(modelled) else {
        return Ok(());
    };
    Err(SealError::OverlayUnverified {
        origin: p.origin.clone(),
        message: p.message.clone(),
    })
}

/// Refuses a run that a patch of the overlay would make incomplete: a key the patch writes into
/// this SealedSecret (`doc`, named `name_in_file` in `file_name`, told from a same-named one by
/// its namespace as written) that the run seals (`sealed`), that the file does not
/// hold at all (the patch adds it: no seal or reseal of the file ever reaches the value that
/// renders), or any other key unless `--only` leaves it out (`only`; the file's value is then kept
/// as it is). Kustomize applies the patch after reading the file, so the render, and the
/// controller, get the patch's value and never one sealed here, while the file's
/// `emp-seal.dev/*` records, which the run writes, cannot vouch for it. `reseal` seals every key
/// the file holds, so any key a patch writes is refused there.
///
/// # Errors
/// [`SealError::PatchedKey`].
fn refuse_patched<'k>(
    overlay: &Overlay,
    (file_name, name_in_file, doc): (&str, &str, &SealedSecretDoc),
    only: bool,
    sealed: impl IntoIterator<Item = &'k String>,
) -> Result<(), SealError> {
    let sealed: BTreeSet<&str> = sealed.into_iter().map(String::as_str).collect();
    let in_file = |key: &str| doc.encrypted_data.iter().any(|e| e.key == key);
    let mut patched = patched_values(overlay, file_name, name_in_file, doc.namespace.as_deref());
    let patched = patched.find(|w| sealed.contains(w.key.as_str()) || !in_file(&w.key) || !only);
    let Some(w) = patched else { return Ok(()) };
    let how = match (sealed.contains(w.key.as_str()), in_file(&w.key)) {
        (true, _) => Patched::Sealed,
        (false, true) => Patched::Kept,
        (false, false) => Patched::Added,
    };
    Err(SealError::PatchedKey {
        file: file_name.to_owned(),
        name: name_in_file.to_owned(),
        key: w.key.clone(),
        patch: format!(
            "{}:{}",
            crate::workspace::path_str(&w.origin.file),
            w.origin.line
        ),
        how,
    })
}

/// Refuses a SealedSecret the overlay renders with another scope (`rendered`, from its rendered
/// annotations, which the controller reads) than the file declares: values sealed for either
/// would not match the other.
///
/// # Errors
/// [`SealError::RenderedScope`].
pub(crate) fn refuse_rendered_scope(
    file_name: &str,
    doc: &SealedSecretDoc,
    rendered: Scope,
) -> Result<(), SealError> {
    if rendered == doc.scope {
        return Ok(());
    }
    Err(SealError::RenderedScope {
        file: file_name.to_owned(),
        declared: doc.scope.as_str(),
        rendered: rendered.as_str(),
    })
}

/// Refuses a SealedSecret that gives its Secret a key the API server refuses
/// ([`SealedSecretDoc::invalid_key`]): `seal`, `reseal`, `unseal` and `diff` read the file's keys
/// and would act on, and print, a key the controller can never deliver.
///
/// # Errors
/// [`SealError::InvalidSecretKey`], naming the file, the key's line and the key, escaped.
pub(crate) fn refuse_invalid_keys(file_name: &str, doc: &SealedSecretDoc) -> Result<(), SealError> {
    let Some((key, line, problem)) = doc.invalid_key() else {
        return Ok(());
    };
    Err(SealError::InvalidSecretKey {
        file: file_name.to_owned(),
        line,
        key: key.to_owned(),
        problem,
    })
}

/// The target's document in the parsed target file; refused when it holds a key the API server
/// refuses ([`refuse_invalid_keys`]).
fn target_doc<'f>(
    file: &'f sealedsecret::ParsedFile,
    target: &SealedTarget,
    env: &str,
    file_name: &str,
) -> Result<(usize, &'f SealedSecretDoc), SealError> {
    if let Some(found) = target.doc_in(file.sealed_secrets()) {
        refuse_invalid_keys(file_name, found.1)?;
        return Ok(found);
    }
    // Fail closed: a hint to write a new SealedSecret would leave two copies in the build.
    target.refuse_listed(file_name, file)?;
    Err(SealError::NoSealedSecret {
        env: env.to_owned(),
        source_desc: format!(
            "{file_name}, which has no SealedSecret named {}",
            target.name
        ),
        generator: false,
    })
}

/// Keys and values to seal, in order.
type KeyValues = Vec<(String, SecretValue)>;

/// Keys removed under `--prune --force` that workloads read, with those workloads.
type PrunedNeeded = Vec<(String, Vec<String>)>;

/// The scope to seal with: the file's declaration, unless `--scope` (or the config file's scope
/// for the environment) differs and `--rescope` allows the change.
fn choose_scope(
    req: &SealRequest,
    env: &str,
    declared: Scope,
    file_name: &str,
) -> Result<Scope, SealError> {
    match values::requested_scope(&req.root, env, req.scope) {
        Some(s) if s != declared && !req.rescope => Err(SealError::ScopeConflict {
            file: file_name.to_owned(),
            env: env.to_owned(),
            declared: declared.as_str(),
            requested: s.as_str(),
            by_config: req.scope.is_none(),
        }),
        Some(s) => Ok(s),
        None => Ok(declared),
    }
}

/// The values to seal: the keys of the env file (or `--only`), plus, when sealing every key
/// without `--prune`, the `needed` keys the env file lacks (asked for; refused, naming its line,
/// for a key from an example's line without `=`). Also returns the selected keys the overlay does
/// not otherwise know.
fn select_values(
    req: &SealRequest,
    env: &str,
    from_name: &str,
    from_keys: &BTreeMap<&str, &SecretValue>,
    (needed, bare): &(BTreeSet<String>, Vec<(String, PathBuf, usize)>),
    prompter: &mut dyn Prompter,
) -> Result<(KeyValues, Vec<String>), SealError> {
    let selected: Vec<&str> = if req.only.is_empty() {
        from_keys.keys().copied().collect()
    } else {
        req.only.iter().map(String::as_str).collect()
    };
    let mut values: Vec<(String, SecretValue)> = selected
        .iter()
        .map(|k| ((*k).to_owned(), from_keys[k].duplicate()))
        .collect();
    let unknown: Vec<String> = selected
        .iter()
        .filter(|k| !needed.contains(**k))
        .map(|k| (*k).to_owned())
        .collect();
    if req.only.is_empty() && !req.prune {
        let has = |k: &str| from_keys.contains_key(k);
        if let Some((_, path, line)) = bare.iter().find(|(k, ..)| !has(k)) {
            let at = envfile::At {
                path: Some(path.clone()),
                line: *line,
            };
            let refused = "used";
            return Err(envfile::EnvError::MissingEquals { at, refused }.into());
        }
        values.extend(values::ask_missing(
            env, from_name, needed, has, prompter, true,
        )?);
    }
    Ok((values, unknown))
}

/// The keys `--prune` removes (those of the SealedSecret the env file lacks), after the checks that
/// keep a run from emptying the secret, dropping keys the workloads read, leaving keys sealed
/// under the old scope, or doing nothing at all. Also returns the keys of the SealedSecret this
/// run neither seals nor removes, and the workloads that read pruned keys under `--force`.
fn check_removals(
    req: &SealRequest,
    overlay: &Overlay,
    to: &Recipient,
    doc: &SealedSecretDoc,
    (from_name, from_keys): (&str, &BTreeMap<&str, &SecretValue>),
    file_name: &str,
    values: &[(String, SecretValue)],
) -> Result<(Vec<String>, Vec<String>, PrunedNeeded), SealError> {
    let existing: BTreeSet<&str> = doc.encrypted_data.iter().map(|e| e.key.as_str()).collect();
    let sealing: BTreeSet<&str> = values.iter().map(|(k, _)| k.as_str()).collect();
    let removed: Vec<String> = if req.prune {
        (existing.iter())
            .filter(|k| !from_keys.contains_key(**k))
            .map(|k| (*k).to_owned())
            .collect()
    } else {
        Vec::new()
    };
    if req.prune && !req.force && sealing.is_empty() && removed.len() == existing.len() {
        return Err(SealError::PruneEmpties {
            file: file_name.to_owned(),
            keys: removed.join(", "),
        });
    }
    let pruned_needed = guard::check_prune(
        overlay,
        &to.who.identity.name,
        file_name,
        &removed,
        req.force,
    )?;
    let untouched: Vec<String> = existing
        .iter()
        .filter(|k| !sealing.contains(**k) && !removed.iter().any(|r| r == *k))
        .map(|k| (*k).to_owned())
        .collect();
    if to.who.scope != doc.scope && !untouched.is_empty() {
        let (left_out, lacking) = untouched
            .iter()
            .cloned()
            .partition(|k| from_keys.contains_key(k.as_str()));
        return Err(SealError::RescopeIncomplete {
            file: file_name.to_owned(),
            left_out,
            lacking,
        });
    }
    if let Some(old) = sealed_for_another_label(doc, to)
        && !untouched.is_empty()
    {
        return Err(SealError::IdentityChangedIncomplete {
            file: file_name.to_owned(),
            old,
            new: to.who.sealed_for(),
            keys: untouched.join(", "),
        });
    }
    if values.is_empty() && removed.is_empty() {
        return Err(SealError::NothingToSeal {
            file: from_name.to_owned(),
        });
    }
    Ok((removed, untouched, pruned_needed))
}

/// The file's `emp-seal.dev/sealed-for` record when it names an identity whose label differs
/// from the one `to` seals for (the overlay renamed or moved the SealedSecret since): the values
/// sealed then do not open under the new label.
fn sealed_for_another_label(doc: &SealedSecretDoc, to: &Recipient) -> Option<String> {
    let old = SealedFor::of(doc)??;
    (old.label() != to.who.label()).then(|| old.to_string())
}

/// The `sealed-for` record to write: the identity the file's record names, in the canonical
/// spelling, when it already gives this scope and label. Overlays sharing a cluster-wide (or
/// namespace-wide) SealedSecret render it under different names; the values open for each, and
/// the record would otherwise flip to whichever sealed last.
fn sealed_for_record(doc: &SealedSecretDoc, to: &Recipient) -> String {
    match SealedFor::of(doc).flatten() {
        Some(r) if r.scope == to.who.scope && r.label() == to.who.label() => r.to_string(),
        _ => to.who.sealed_for(),
    }
}

/// Whether the records this run writes (`cert-sha256`, `sealed-for`) hold for every value of the
/// file after it: true when the run leaves no sealed value as it is (placeholders are sealed with
/// nothing), when the file's records already name this run's certificate and label, or when a
/// `--key` whose public half is the certificate's opens each kept value under this label.
/// Otherwise the run is refused, naming the kept keys and what is unknown or different, or, under
/// [`SealRequest::keep_old_records`], false: the caller keeps the file's records as they are.
///
/// # Errors
/// [`SealError::KeptUnverified`].
fn records_hold(
    req: &SealRequest,
    env: &str,
    doc: &SealedSecretDoc,
    private_keys: &[UnsealingKey],
    to: &Recipient,
    untouched: &[String],
    file_name: &str,
) -> Result<bool, SealError> {
    let kept: Vec<&sealedsecret::EncryptedEntry> = untouched
        .iter()
        .filter_map(|k| doc.entry(k))
        .filter(|e| placeholder(&e.value).is_none())
        .collect();
    if kept.is_empty() {
        return Ok(true);
    }
    let why = records_differ(&req.root, doc, to);
    if why.is_empty() || opens_all(private_keys, to, &kept) {
        return Ok(true);
    }
    if req.keep_old_records {
        return Ok(false);
    }
    let keys: Vec<&str> = kept.iter().map(|e| e.key.as_str()).collect();
    Err(SealError::KeptUnverified {
        file: file_name.to_owned(),
        env: env.to_owned(),
        keys: keys.join(", "),
        why: why.join(", and "),
    })
}

/// What the file's records say that differs from this run's certificate and label, or that they
/// do not say (a file kubeseal wrote has neither record). Empty when both match.
fn records_differ(root: &Path, doc: &SealedSecretDoc, to: &Recipient) -> Vec<String> {
    let mut why = Vec::new();
    let current = &to.summary.sha256;
    match doc.annotation(CERT_SHA256_ANNOTATION).map(str::trim) {
        Some(r) if r.eq_ignore_ascii_case(current) => {}
        Some(r) => why.push(format!(
            "they were sealed with certificate sha256 {} (the file's `{CERT_SHA256_ANNOTATION}`), not with {} sha256 {}",
            short_fingerprint(r),
            rel(root, &to.summary.path),
            short_fingerprint(current)
        )),
        None => why.push(format!(
            "the file records no certificate for them (no `{CERT_SHA256_ANNOTATION}`)"
        )),
    }
    match SealedFor::of(doc) {
        Some(Some(r)) if r.label() == to.who.label() => {}
        // Another identity is refused before (`IdentityChangedIncomplete`).
        Some(Some(_)) => why.push(format!(
            "their `{SEALED_FOR_ANNOTATION}` names another identity"
        )),
        Some(None) => why.push(format!(
            "the file's `{SEALED_FOR_ANNOTATION}` is not `<scope> <namespace>/<name>`"
        )),
        None => why.push(format!(
            "the file records no identity for them (no `{SEALED_FOR_ANNOTATION}`)"
        )),
    }
    why
}

/// Whether every one of `kept` opens under `to`'s label with a private key whose public half is
/// `to`'s certificate (then it is sealed with this certificate for this identity).
fn opens_all(
    private_keys: &[UnsealingKey],
    to: &Recipient,
    kept: &[&sealedsecret::EncryptedEntry],
) -> bool {
    let texts: Vec<&str> = kept.iter().map(|e| e.value.as_str()).collect();
    let mut open = vec![false; texts.len()];
    open_with_cert(private_keys, &to.cert, &to.who.label(), &texts, |i, _| {
        open[i] = true
    });
    open.iter().all(|o| *o)
}

/// Opens `texts` under `label` with each of `private_keys` whose public half is `cert`'s
/// (decrypted in parallel, [`crypto::unseal_many_base64`]), passing `opened` the index and
/// plaintext of each one that opens.
fn open_with_cert(
    private_keys: &[UnsealingKey],
    cert: &Certificate,
    label: &[u8],
    texts: &[&str],
    mut opened: impl FnMut(usize, SecretValue),
) {
    for key in private_keys
        .iter()
        .filter(|k| k.public_key_der() == cert.public_key_der())
    {
        let results = crypto::unseal_many_base64(std::slice::from_ref(key), label, texts);
        for (i, r) in results.into_iter().enumerate() {
            if let Ok(plain) = r {
                opened(i, plain);
            }
        }
    }
}

/// Sorts the keys into `[added, filled, changed, kept]` as a run reports them (filled: a
/// placeholder sealed for the first time), and drops from `values` those whose ciphertext is
/// kept: with a private key, a value that already decrypts to the same plaintext under this label
/// with the current certificate's key (no churn). The `untouched` keys are kept too.
fn classify_keys(
    doc: &SealedSecretDoc,
    private_keys: &[UnsealingKey],
    to: &Recipient,
    values: &mut Vec<(String, SecretValue)>,
    untouched: Vec<String>,
    rescoping: bool,
) -> [Vec<String>; 4] {
    let mut kept = untouched;
    if !private_keys.is_empty() && !rescoping {
        let mut same =
            unchanged_values(private_keys, &to.cert, &to.who.label(), doc, values).into_iter();
        values.retain(|(k, _)| {
            let unchanged = same.next().unwrap_or(false);
            if unchanged {
                kept.push(k.clone());
            }
            !unchanged
        });
    }
    let (added, changed): (Vec<String>, Vec<String>) = values
        .iter()
        .map(|(k, _)| k.clone())
        .partition(|k| doc.entry(k).is_none());
    // A key whose old value was a placeholder is sealed for the first time, not resealed.
    let (filled, changed): (Vec<String>, Vec<String>) = changed
        .into_iter()
        .partition(|k| doc.entry(k).and_then(|e| placeholder(&e.value)).is_some());
    kept.sort();
    [added, filled, changed, kept]
}

/// Encrypts `values` and builds the edit of the document: existing keys keep their place; new
/// keys are appended in sorted order so re-runs are stable. The records are written when
/// `records` (they hold for every value, [`records_hold`]), else left as they are.
fn edit_plan(
    to: &Recipient,
    doc: &SealedSecretDoc,
    mut values: Vec<(String, SecretValue)>,
    removed: &[String],
    (rescoping, records): (bool, bool),
) -> Result<EditPlan, SealError> {
    values.sort_by_cached_key(|(k, _)| (doc.entry(k).is_none(), k.clone()));
    let (keys, plaintexts): (Vec<String>, Vec<SecretValue>) = values.into_iter().unzip();
    let mut plan = EditPlan {
        set: keys.into_iter().zip(to.seal(&plaintexts)?).collect(),
        remove: removed.to_vec(),
        ..EditPlan::default()
    };
    if records {
        plan.annotations = vec![
            (CERT_SHA256_ANNOTATION.to_owned(), to.summary.sha256.clone()),
            (SEALED_FOR_ANNOTATION.to_owned(), sealed_for_record(doc, to)),
        ];
    }
    if rescoping {
        scope_annotations(to.who.scope, doc, &mut plan);
    }
    Ok(plan)
}

/// For each of `values`, whether the file already holds a ciphertext of exactly that value
/// under `label` that the key of `cert` opens (no churn). Only keys whose public half is the
/// certificate's are tried: a value an older certificate sealed is resealed even when its
/// plaintext is unchanged, so the file's recorded certificate stays true (`emp-seal reseal`
/// relies on this).
fn unchanged_values(
    private_keys: &[UnsealingKey],
    cert: &Certificate,
    label: &[u8],
    doc: &SealedSecretDoc,
    values: &[(String, SecretValue)],
) -> Vec<bool> {
    // The values that have a ciphertext now.
    let (at, texts): (Vec<usize>, Vec<&str>) = values
        .iter()
        .enumerate()
        .filter_map(|(i, (k, _))| doc.entry(k).map(|e| (i, e.value.as_str())))
        .unzip();
    let mut same = vec![false; values.len()];
    open_with_cert(private_keys, cert, label, &texts, |j, o| {
        same[at[j]] |= o.expose_secret() == values[at[j]].1.expose_secret();
    });
    same
}

/// Why a sealed value is a stand-in rather than a ciphertext, when it is one (the classifier of
/// `placeholder-ciphertext`).
pub(crate) fn placeholder(value: &str) -> Option<String> {
    first_reason(value, crate::sealedsecret::ciphertext::Kind::Placeholder)
}

/// Why the controller cannot decode `value` (url-safe or unpadded base64, spaces or tabs), as
/// `check`'s `invalid-ciphertext` says it; none for a value it decodes (or a placeholder).
/// Without a certificate, the classifier's only such reasons are encoding ones.
pub(crate) fn misencoded(value: &str) -> Option<String> {
    first_reason(value, crate::sealedsecret::ciphertext::Kind::Invalid)
}

/// The classifier's first reason of `kind` for `value`, judged without a certificate.
fn first_reason(value: &str, kind: crate::sealedsecret::ciphertext::Kind) -> Option<String> {
    crate::sealedsecret::ciphertext::classify(value, None)
        .reasons()
        .iter()
        .find(|r| r.kind() == kind)
        .map(ToString::to_string)
}

/// Refuses when the file's own metadata or template names another identity than the one the
/// overlay renders, in a part the scope binds (strict: namespace and name; namespace-wide: the
/// namespace; cluster-wide: neither, as `check`'s `identity-mismatch` reads it): the values would
/// be sealed for the rendered identity, and the file would then say something untrue about what
/// they are sealed for. (The controller names the Secret after the SealedSecret's own metadata,
/// not the template: sealed-secrets `pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go`
/// `Unseal`.)
pub(crate) fn check_identity(
    file: &str,
    doc: &SealedSecretDoc,
    doc_index: usize,
    (rendered, scope): (&Identity, Scope),
    text: &str,
) -> Result<(), SealError> {
    let ns = rendered.namespace.clone().unwrap_or_default();
    let checks = [
        (
            "metadata.namespace",
            &doc.namespace,
            &ns,
            scope != Scope::ClusterWide,
        ),
        (
            "spec.template.metadata.namespace",
            &doc.template.namespace,
            &ns,
            scope != Scope::ClusterWide,
        ),
        (
            "spec.template.metadata.name",
            &doc.template.name,
            &rendered.name,
            scope == Scope::Strict,
        ),
    ];
    match checks
        .into_iter()
        .find(|(_, found, want, binds)| *binds && found.as_ref().is_some_and(|f| f != *want))
    {
        Some((what, Some(found), want, _)) => Err(SealError::IdentityMismatch {
            file: file.to_owned(),
            line: field_line(text, doc_index, what),
            what,
            found: found.clone(),
            rendered: want.clone(),
        }),
        _ => Ok(()),
    }
}

/// The line of the field `what` (a dotted path) in document `doc_index`, found by its path so
/// that `spec.template.metadata.name` is not confused with `metadata.name` (or the line of its
/// deepest parent that is there), in a block-style or flow/JSON document alike.
fn field_line(text: &str, doc_index: usize, what: &str) -> usize {
    let path: Vec<crate::yamlpos::Seg> = what.split('.').map(crate::yamlpos::Seg::from).collect();
    crate::yamlpos::documents(text)
        .get(doc_index)
        .and_then(|d| usize::try_from(d.find_or_parent(&path).line).ok())
        .unwrap_or(1)
}

/// Declares `scope` on the top-level metadata the way the controller reads it
/// (sealed-secrets `pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go` `SecretScope`):
/// the one annotation of the scope set to exactly `"true"`, the other one removed; strict scope is
/// the absence of both. Never writes `"false"`, which `scope-annotation-misplaced` reports.
fn scope_annotations(scope: Scope, doc: &SealedSecretDoc, plan: &mut EditPlan) {
    let set = scope_annotation(scope);
    if let Some(k) = set {
        plan.annotations.push((k.to_owned(), "true".to_owned()));
    }
    for k in [NAMESPACE_WIDE_ANNOTATION, CLUSTER_WIDE_ANNOTATION] {
        if Some(k) != set && doc.annotation(k).is_some() {
            plan.remove_annotations.push(k.to_owned());
        }
    }
}

/// The annotation that declares `scope` (set to `"true"`); none for strict scope.
pub(crate) fn scope_annotation(scope: Scope) -> Option<&'static str> {
    match scope {
        Scope::Strict => None,
        Scope::NamespaceWide => Some(NAMESPACE_WIDE_ANNOTATION),
        Scope::ClusterWide => Some(CLUSTER_WIDE_ANNOTATION),
    }
}

/// Appends the non-empty `labels:` and `annotations:` maps of a Secret's metadata at `indent`.
pub(crate) fn write_metadata_maps(
    out: &mut String,
    indent: &str,
    labels: &[(String, String)],
    annotations: &[(String, String)],
) {
    let q = sealedsecret::plain_or_quoted;
    for (title, map) in [("labels", labels), ("annotations", annotations)] {
        if !map.is_empty() {
            let _ = writeln!(out, "{indent}{title}:");
        }
        for (k, v) in map {
            let _ = writeln!(out, "{indent}  {}: {}", q(k), q(v));
        }
    }
}

/// `<scope> <namespace>/<name>`, as summaries and messages show what a Secret is sealed for (the
/// `emp-seal.dev/sealed-for` record's form). A cluster-wide identity without a namespace shows
/// ` /<name>`; a strict or namespace-wide identity without one, which is never sealed, shows
/// `<no namespace>/<name>`.
pub fn describe_identity(scope: Scope, identity: &Identity) -> String {
    let namespace = scope.label_namespace(identity.namespace.as_deref());
    format!(
        "{} {}/{}",
        scope.as_str(),
        namespace.as_deref().unwrap_or("<no namespace>"),
        identity.name
    )
}
