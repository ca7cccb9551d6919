//! The `sealedsecret.yaml` a migration creates: a commented header saying where it came from and
//! how to re-seal it, then one `SealedSecret` with the generator's name as written, the rendered
//! identity in its template, the `emp-seal.dev/*` records and the scope's annotation, the sealed
//! values, and the generator's type, labels, annotations and `immutable`. Checked by parsing it
//! back.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::{GeneratorInfo, MigrateError};
use crate::kustomize::Identity;
use crate::seal::{self, Recipient, SealRequest};
use crate::sealedsecret::{
    API_VERSION, CERT_SHA256_ANNOTATION, SEALED_FOR_ANNOTATION, SealedSecretFile,
    plain_or_quoted as q,
};
use crate::secret::SecretValue;
use crate::workspace::{from_display, rel};

/// Seals the values: the new `SealedSecret` text, checked by parsing it back, and its keys.
pub(super) fn new_sealed_file(
    req: &SealRequest,
    env: &str,
    sealed_path: &Path,
    to: &Recipient,
    generator: &GeneratorInfo,
    name_as_written: &str,
    values: BTreeMap<String, SecretValue>,
) -> Result<(String, Vec<String>), MigrateError> {
    let root = &req.root;
    let (keys, plaintexts): (Vec<String>, Vec<SecretValue>) = values.into_iter().unzip();
    let ciphertexts = to.seal(&plaintexts)?;
    drop(plaintexts);
    // The env file as the header's re-seal command names it.
    let from = req.from.file_name().map_or_else(
        || from_display(root, &req.from),
        |n| n.to_string_lossy().into_owned(),
    );
    let cert = committed_name(root, &to.summary.path);
    let mut text = header(env, &generator.site.describe(), to, &cert, &from);
    let entries = keys.iter().zip(&ciphertexts);
    document(&mut text, to, generator, name_as_written, entries);
    verify_sealed(&text, &to.who.identity, &keys).map_err(|what| MigrateError::Unsupported {
        origin: rel(root, sealed_path),
        what: format!("internal check failed: {what}; nothing was changed"),
    })?;
    Ok((text, keys))
}

/// How the committed header names a file: relative to the repository root, or by its file name
/// alone when it lies outside (a `--cert` from a download folder): a comment in a shared
/// repository must not carry one person's absolute local path.
fn committed_name(root: &Path, path: &Path) -> String {
    let r = rel(root, path);
    if Path::new(&r).is_absolute() || r.starts_with("..") {
        path.file_name().map_or_else(
            || "the --cert file".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        )
    } else {
        r
    }
}

/// Where the file came from (the generator `gen_name`), what it is sealed for with the
/// certificate `cert` ([`committed_name`]), and how to re-seal it from the env file `from`.
fn header(env: &str, gen_name: &str, to: &Recipient, cert: &str, from: &str) -> String {
    format!(
        "# Secret {name} for the {env} overlay, as a Bitnami SealedSecret, migrated from {gen}\n\
         # by emp-seal. Sealed for {ns}/{name} ({scope} scope) with {cert}\n\
         # (sha256 {sha}).\n\
         # Re-seal changed values in place with:\n\
         #\n\
         #   emp-seal seal {env} --from {from}\n\
         #\n\
         # The overlay must not rename or move this object, or the controller can no longer\n\
         # decrypt it.\n",
        name = to.who.identity.name,
        gen = gen_name,
        ns = to.who.namespace,
        scope = to.who.scope.as_str(),
        sha = to.summary.sha256,
    )
}

/// The document: `apiVersion`, `kind`, the top-level `metadata` with the records and the scope's
/// annotation (strict scope is the absence of both scope annotations), and `spec`: the sealed
/// values (key and ciphertext, in order) and the template of the Secret the controller makes.
fn document<'k>(
    o: &mut String,
    to: &Recipient,
    g: &GeneratorInfo,
    name_as_written: &str,
    entries: impl Iterator<Item = (&'k String, &'k String)>,
) {
    let ns = to.who.namespace.as_str();
    let _ = write!(
        o,
        "apiVersion: {API_VERSION}\nkind: SealedSecret\nmetadata:\n  name: {}\n",
        q(name_as_written)
    );
    if !ns.is_empty() {
        let _ = writeln!(o, "  namespace: {}", q(ns));
    }
    let _ = write!(
        o,
        "  annotations:\n    {CERT_SHA256_ANNOTATION}: {}\n    {SEALED_FOR_ANNOTATION}: {}\n",
        q(&to.summary.sha256),
        q(&to.who.sealed_for())
    );
    if let Some(k) = seal::scope_annotation(to.who.scope) {
        let _ = writeln!(o, "    {k}: \"true\"");
    }
    o.push_str("spec:\n  encryptedData:\n");
    for (k, v) in entries {
        let _ = writeln!(o, "    {}: {v}", q(k));
    }
    let _ = writeln!(
        o,
        "  template:\n    metadata:\n      name: {}",
        q(&to.who.identity.name)
    );
    if !ns.is_empty() {
        let _ = writeln!(o, "      namespace: {}", q(ns));
    }
    seal::write_metadata_maps(o, "      ", &g.labels, &g.annotations);
    let _ = writeln!(
        o,
        "    type: {}",
        q(g.secret_type.as_deref().unwrap_or("Opaque"))
    );
    // The template's `immutable` (sealed-secrets `pkg/apis/sealedsecrets/v1alpha1/types.go`
    // `SecretTemplateSpec.Immutable`, added by its pull request 1395 and honoured by controllers
    // released after v0.24.5; older ones accept the field and ignore it). kubeseal writes it for
    // an immutable Secret.
    if g.immutable {
        o.push_str("    immutable: true\n");
    }
}

/// Parses the new text back: exactly one SealedSecret, the sealed keys in order, the template
/// named for `identity`.
fn verify_sealed(text: &str, identity: &Identity, keys: &[String]) -> Result<(), String> {
    let f = SealedSecretFile::parse(text).map_err(|e| e.to_string())?;
    let docs: Vec<_> = f.sealed_secrets().collect();
    let [(_, d)] = docs.as_slice() else {
        return Err("the new file does not hold exactly one SealedSecret".to_owned());
    };
    if !d.encrypted_data.iter().map(|e| &e.key).eq(keys) {
        return Err("the new file's keys differ from the sealed keys".to_owned());
    }
    if d.template.name.as_deref() != Some(identity.name.as_str()) {
        return Err("the new file's template name differs".to_owned());
    }
    Ok(())
}
