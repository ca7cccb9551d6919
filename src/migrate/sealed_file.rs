//! The `sealedsecret.yaml` a migration creates: a commented header saying where it came from and
//! how to re-seal it, then one `SealedSecret` with the generator's name as written, the rendered
//! identity in its template, the `emp-seal.dev/*` records and the scope's annotation, the sealed
//! values, and the generator's type, labels and annotations. Checked by parsing it back.

use std::fmt::Write as _;
use std::path::Path;

use crate::kustomize::Identity;
use crate::seal::Recipient;
use crate::sealedsecret::{
    API_VERSION, CERT_SHA256_ANNOTATION, SEALED_FOR_ANNOTATION, SealedSecretFile,
    plain_or_quoted as q,
};
use crate::workspace::rel;

/// Everything the new file says.
pub(super) struct SealedDoc<'a> {
    pub(super) env: &'a str,
    /// How the header names the generator it replaces.
    pub(super) gen_name: &'a str,
    pub(super) name_as_written: &'a str,
    pub(super) to: &'a Recipient,
    /// The certificate as the header names it ([`committed_name`]).
    pub(super) cert_rel: &'a str,
    /// The env file as the header's re-seal command names it.
    pub(super) from_name: &'a str,
    /// Key and ciphertext, in order.
    pub(super) entries: Vec<(String, String)>,
    pub(super) secret_type: Option<&'a str>,
    pub(super) labels: &'a [(String, String)],
    pub(super) annotations: &'a [(String, String)],
}

/// How the committed header names a file: relative to the repository root, or by its file name
/// alone when it lies outside (a `--cert` from a download folder): a comment in a shared
/// repository must not carry one person's absolute local path.
pub(super) fn committed_name(root: &Path, path: &Path) -> String {
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

/// The file's text.
pub(super) fn sealed_yaml(d: &SealedDoc<'_>) -> String {
    let mut o = header(d);
    metadata(&mut o, d);
    spec(&mut o, d);
    o
}

fn header(d: &SealedDoc<'_>) -> String {
    format!(
        "# Secret {name} for the {env} overlay, as a Bitnami SealedSecret, migrated from {gen}\n\
         # by emp-seal. Sealed for {ns}/{name} ({scope} scope) with {cert}\n\
         # (sha256 {sha}).\n\
         # Re-seal changed values in place with:\n\
         #\n\
         #   emp-seal {env} --from {from}\n\
         #\n\
         # The overlay must not rename or move this object, or the controller can no longer\n\
         # decrypt it.\n",
        name = d.to.identity.name,
        env = d.env,
        gen = d.gen_name,
        ns = d.to.namespace,
        scope = d.to.scope.as_str(),
        cert = d.cert_rel,
        sha = d.to.summary.sha256,
        from = d.from_name,
    )
}

/// `apiVersion`, `kind` and the top-level `metadata`, with the records and the scope's
/// annotation (strict scope is the absence of both scope annotations).
fn metadata(o: &mut String, d: &SealedDoc<'_>) {
    let ns = d.to.namespace.as_str();
    let _ = write!(
        o,
        "apiVersion: {API_VERSION}\nkind: SealedSecret\nmetadata:\n  name: {}\n",
        q(d.name_as_written)
    );
    if !ns.is_empty() {
        let _ = writeln!(o, "  namespace: {}", q(ns));
    }
    let _ = write!(
        o,
        "  annotations:\n    {CERT_SHA256_ANNOTATION}: {}\n    {SEALED_FOR_ANNOTATION}: {}\n",
        q(&d.to.summary.sha256),
        q(&d.to.sealed_for())
    );
    if let Some(k) = crate::seal::scope_annotation(d.to.scope) {
        let _ = writeln!(o, "    {k}: \"true\"");
    }
}

/// `spec`: the sealed values and the template of the Secret the controller makes.
fn spec(o: &mut String, d: &SealedDoc<'_>) {
    let ns = d.to.namespace.as_str();
    o.push_str("spec:\n  encryptedData:\n");
    for (k, v) in &d.entries {
        let _ = writeln!(o, "    {}: {v}", q(k));
    }
    let _ = writeln!(
        o,
        "  template:\n    metadata:\n      name: {}",
        q(&d.to.identity.name)
    );
    if !ns.is_empty() {
        let _ = writeln!(o, "      namespace: {}", q(ns));
    }
    for (title, map) in [("labels", d.labels), ("annotations", d.annotations)] {
        if map.is_empty() {
            continue;
        }
        let _ = writeln!(o, "      {title}:");
        for (k, v) in map {
            let _ = writeln!(o, "        {}: {}", q(k), q(v));
        }
    }
    let _ = writeln!(o, "    type: {}", q(d.secret_type.unwrap_or("Opaque")));
}

/// Parses the new text back: exactly one SealedSecret, the sealed keys in order, the template
/// named for `identity`.
pub(super) fn verify_sealed(
    text: &str,
    identity: &Identity,
    keys: &[String],
) -> Result<(), String> {
    let f = SealedSecretFile::parse(text).map_err(|e| e.to_string())?;
    let docs: Vec<_> = f.sealed_secrets().collect();
    let [(_, d)] = docs.as_slice() else {
        return Err("the new file does not hold exactly one SealedSecret".to_owned());
    };
    let got: Vec<&str> = d.encrypted_data.iter().map(|e| e.key.as_str()).collect();
    if got != keys.iter().map(String::as_str).collect::<Vec<_>>() {
        return Err("the new file's keys differ from the sealed keys".to_owned());
    }
    if d.template.name.as_deref() != Some(identity.name.as_str()) {
        return Err("the new file's template name differs".to_owned());
    }
    Ok(())
}
