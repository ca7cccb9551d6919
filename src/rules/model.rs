//! The models the cross-file rules read: each overlay as kustomize renders it, its sealing
//! certificate, and every env file of the tree already parsed (keys and lints, never values).
//!
//! Filled by the check use case (`crate::check`), read by the rules. Owns only data and small
//! lookups; it must not read files, run rules or hold secret values (env files are kept as key
//! names, lines and lints). A key from an env-file line without `=` may be a piece of a pasted
//! value: messages show keys through `shown_key`, which names such a key by its line.

use std::collections::{BTreeSet, HashMap};

use super::Context;
use super::locate::at_sealed;
use crate::cert::Certificate;
use crate::envfile::EnvLint;
use crate::finding::Location;
use crate::kustomize::{Behavior, GeneratedKind, Overlay, Problem, SealedRef};
use crate::sealedsecret::{
    CERT_SHA256_ANNOTATION, SealedSecretDoc, SealedSecretError, SealedSecretFile,
};
use crate::workspace::path_str;

/// An overlay's sealing certificate (`k8s/overlays/<env>/sealing-cert.pem`).
#[derive(Debug, Clone)]
pub struct CertModel {
    /// Repo-relative path of the certificate file.
    pub path: String,
    pub status: CertStatus,
    /// The file's private key blocks (label and line only), which reading the certificate
    /// skips (see [`crate::cert::private_key_blocks`]).
    pub private_keys: Vec<crate::cert::PrivateKeyBlock>,
}

/// The result of reading a sealing certificate.
#[derive(Debug, Clone)]
pub enum CertStatus {
    /// A usable RSA certificate of at least 2048 bits (expiry not yet judged).
    Ok(Box<Certificate>),
    /// An RSA certificate whose key is under 2048 bits.
    WeakKey {
        /// The modulus size.
        bits: usize,
    },
}

impl CertModel {
    /// The certificate, when it is usable.
    pub fn certificate(&self) -> Option<&Certificate> {
        match &self.status {
            CertStatus::Ok(c) => Some(c),
            CertStatus::WeakKey { .. } => None,
        }
    }
}

/// Where an overlay's sealing certificate is to be, whether or not the file is there.
#[derive(Debug, Clone, Default)]
pub struct CertPlace {
    /// Repo-relative path: `<overlay>/sealing-cert.pem`, or the config file's `certificate`.
    pub path: String,
    /// When the config file names the path: the config file (repo-relative) and the line of its
    /// `certificate` setting.
    pub configured: Option<(String, usize)>,
}

/// One overlay (`k8s/overlays/<name>`), loaded.
#[derive(Debug, Clone)]
pub struct OverlayModel {
    pub name: String,
    /// Repo-relative overlay directory, e.g. `k8s/overlays/paper`.
    pub dir: String,
    pub overlay: Overlay,
    /// The overlay's sealing certificate, when the file exists.
    pub cert: Option<CertModel>,
    /// Where its sealing certificate is to be (see [`OverlayModel::cert`] for whether it is).
    pub cert_place: CertPlace,
    /// The environment's variants (kustomizations that wrap it, deployed as well), modelled.
    pub variants: Vec<Variant>,
}

/// A kustomization wrapping an environment's overlay (e.g. `k8s/no-keda/dev`), deployed in its
/// place: it may rename, move or re-scope the environment's `SealedSecret`s.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Repo-relative directory.
    pub dir: String,
    pub overlay: Overlay,
}

impl Variant {
    /// True when kustomize could not build the variant: its model is then incomplete.
    pub fn fails_build(&self) -> bool {
        self.overlay.problems().iter().any(|p| p.fails_build())
    }
}

/// One model an environment is deployed as: its overlay's own, or that of one of its variants
/// (see [`OverlayModel::deployments`]). The rules judging an environment's rendered model judge
/// each of these.
#[derive(Debug, Clone, Copy)]
pub struct Deployment<'a> {
    /// The environment: its name, its directory, and the objects deploying it (whose cluster
    /// and destination namespace a variant, deployed in its place, shares).
    pub env: &'a OverlayModel,
    /// The variant, for a variant's model.
    pub variant: Option<&'a Variant>,
    /// The rendered model: the environment's overlay, or the variant's.
    pub overlay: &'a Overlay,
}

impl Deployment<'_> {
    /// How messages name it after `overlay `: `paper`, or ``paper, variant `k8s/no-keda/paper` ``.
    pub fn label(&self) -> String {
        match self.variant {
            None => self.env.name.clone(),
            Some(v) => format!("{}, variant `{}`", self.env.name, v.dir),
        }
    }

    /// Why a variant's model may differ from its real render, when the variant itself uses
    /// something the model does not replay (the environment's own gaps are
    /// [`OverlayModel::not_modelled`]'s); `None` for the environment's own model.
    pub fn variant_not_modelled(&self) -> Option<String> {
        let v = self.variant?;
        let gaps = (self.env.variant_problems())
            .filter(|(x, p)| std::ptr::eq(*x, v) && !p.fails_build())
            .map(|(_, p)| p);
        gaps_text(&self.label(), gaps)
    }
}

impl OverlayModel {
    /// True when kustomize could not build the overlay (a problem of
    /// [`crate::kustomize::Problem::fails_build`]): the model is then incomplete.
    pub fn fails_build(&self) -> bool {
        self.overlay.problems().iter().any(|p| p.fails_build())
    }

    /// The problems of each variant that the environment's own model does not have, with the
    /// variant: a variant builds its environment, so it repeats the environment's problems,
    /// which are reported once, as the environment's.
    pub fn variant_problems(&self) -> impl Iterator<Item = (&Variant, &Problem)> {
        let own = self.overlay.problems();
        self.variants.iter().flat_map(move |v| {
            let new = v
                .overlay
                .problems()
                .iter()
                .filter(move |p| !own.contains(p));
            new.map(move |p| (v, p))
        })
    }

    /// Why the overlay's model may differ from the real render, when it uses something the model
    /// does not replay (`not-modelled` and `unsupported` problems); `None` when it is fully
    /// modelled.
    pub fn not_modelled(&self) -> Option<String> {
        let gaps = self.overlay.problems().iter().filter(|p| !p.fails_build());
        gaps_text(&self.name, gaps)
    }

    /// The models the environment is deployed as: its own, then each variant's that kustomize
    /// can build (one it cannot build is `overlay-build-error`'s; its model is incomplete).
    pub fn deployments(&self) -> impl Iterator<Item = Deployment<'_>> {
        let own = Deployment {
            env: self,
            variant: None,
            overlay: &self.overlay,
        };
        let variants = self.variants.iter().filter(|v| !v.fails_build());
        std::iter::once(own).chain(variants.map(move |v| Deployment {
            env: self,
            variant: Some(v),
            overlay: &v.overlay,
        }))
    }
}

/// `overlay LABEL is not fully modelled (see FILE:LINE)` for the first of `gaps`, with how many
/// more there are; `None` when there are none.
fn gaps_text<'p>(label: &str, mut gaps: impl Iterator<Item = &'p Problem>) -> Option<String> {
    let first = gaps.next()?;
    let more = gaps.count();
    let mut why = format!(
        "overlay {label} is not fully modelled (see {}:{})",
        path_str(&first.origin.file),
        first.origin.line
    );
    if more > 0 {
        why.push_str(&format!(" and {more} more"));
    }
    Some(why)
}

/// An env file of the tree (`*.env.example`, or a real env file present locally), parsed.
#[derive(Debug, Clone)]
pub struct EnvFileModel {
    /// Repo-relative path.
    pub path: String,
    /// Keys and their 1-based lines, or the parse error's line and message (never a value).
    pub parsed: Result<Vec<(String, usize)>, (usize, String)>,
    /// The keys of lines without `=` and their lines ([`crate::envfile::EnvFile::bare_entries`]),
    /// when the file parses: each may be a piece of a pasted value. Used only to recognise such a
    /// key; messages name it by line (`shown_key`), never by content.
    pub bare: Vec<(String, usize)>,
    pub lints: Vec<EnvLint>,
}

impl EnvFileModel {
    /// The keys, when the file parses.
    pub fn keys(&self) -> Option<BTreeSet<String>> {
        self.parsed
            .as_ref()
            .ok()
            .map(|k| k.iter().map(|(k, _)| k.clone()).collect())
    }

    /// The line of `key`, when present.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.parsed
            .as_ref()
            .ok()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, l)| *l)
    }
}

/// The tree model shared by the cross-file rules.
#[derive(Debug, Clone, Default)]
pub struct TreeModel {
    /// Every overlay that loaded, sorted by name.
    pub overlays: Vec<OverlayModel>,
    /// Every env file, sorted by path.
    pub env_files: Vec<EnvFileModel>,
    /// "Now" as Unix seconds, for certificate expiry.
    pub now: u64,
    /// `--release ENV`: the overlay rules look at this overlay only (the others still give
    /// context, e.g. their key sets).
    pub release_env: Option<String>,
    /// `check --render`: the real renders of the checked overlays (empty when not rendered).
    pub renders: Vec<crate::render::RenderedOverlay>,
    /// Secret names the repository declares created at run time (`--allow-runtime-secret`).
    pub runtime_secrets: Vec<String>,
    /// Rule ids the config file adds to [`super::RELEASE_UNSUPPRESSIBLE`].
    pub release_unsuppressible: Vec<String>,
    /// YAML files the overlay builds parsed whole and found no document of
    /// [`super::yamldocs::KEPT_KINDS`] in: the rules' YAML pass need not parse them again.
    pub parsed_elsewhere: std::collections::HashSet<String>,
    /// What git tracks, for files the rules did not read (see [`super::GitMap`]); `None`
    /// outside a git repository.
    pub git: Option<super::GitMap>,
    /// Secret generators' input files (repo-relative) that hold only PEM certificates
    /// ([`crate::cert::only_certificates`]): public data, no plaintext secret.
    pub public_inputs: BTreeSet<String>,
}

impl TreeModel {
    /// Whether git tracks `rel` (repo-relative).
    pub fn git_status(&self, rel: &str) -> super::GitStatus {
        super::GitStatus::of(self.git.as_ref(), rel)
    }

    /// The overlays the overlay rules report on: all, or only the release environment's.
    pub fn checked_overlays(&self) -> impl Iterator<Item = &OverlayModel> {
        self.overlays
            .iter()
            .filter(|o| self.release_env.as_ref().is_none_or(|e| *e == o.name))
    }

    /// The env file with this repo-relative path.
    pub fn env_file(&self, path: &str) -> Option<&EnvFileModel> {
        self.env_files.iter().find(|e| e.path == path)
    }
}

/// A rendered name as messages show it: `name-<hash>` when kustomize appends a hash suffix.
pub(crate) fn shown_name(name: &str, hash_suffix: bool) -> String {
    if hash_suffix {
        format!("{name}-<hash>")
    } else {
        name.to_owned()
    }
}

/// Where `key` is given on a line without `=` (repo-relative path and 1-based line), when it is:
/// the first such line of the tree's env files (by path), else of the env files the overlays'
/// generators read (the kustomize model records those, whatever their names).
fn bare_key_line(tree: &TreeModel, key: &str) -> Option<(String, usize)> {
    let in_env_files = tree.env_files.iter().find_map(|e| {
        e.bare
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, line)| (e.path.clone(), *line))
    });
    in_env_files.or_else(|| {
        tree.overlays
            .iter()
            .flat_map(|o| o.overlay.generated())
            .flat_map(|g| &g.specs)
            .flat_map(|s| &s.bare_env_keys)
            .find(|b| b.key == key)
            .map(|b| (path_str(&b.env), b.line))
    })
}

/// Where a key some env file gives on a line without `=` is, as a message names it (never its
/// content), or `None` for any other key.
pub(crate) fn bare_key_text(tree: &TreeModel, key: &str) -> Option<String> {
    bare_key_line(tree, key).map(|(path, line)| bare_line_text(&path, line))
}

/// How a message names the key of line `line` of `path`, a line without `=`.
pub(crate) fn bare_line_text(path: &str, line: usize) -> String {
    format!("the key on line {line} of `{path}` (a line without '=', not shown)")
}

/// A key for a message: `` `KEY` ``, or, for a key from a line without `=` (which may be a
/// piece of a pasted value), where that line is ([`bare_key_text`]).
pub(crate) fn shown_key(tree: &TreeModel, key: &str) -> String {
    bare_key_text(tree, key).unwrap_or_else(|| format!("`{key}`"))
}

/// `` key `KEY` ``, or where a key from a line without `=` is ([`bare_key_text`]).
pub(crate) fn key_phrase(tree: &TreeModel, key: &str) -> String {
    bare_key_text(tree, key).unwrap_or_else(|| format!("key `{key}`"))
}

/// Keys for a message, comma-separated, each as [`shown_key`] shows it.
pub(crate) fn key_list<'k>(tree: &TreeModel, keys: impl IntoIterator<Item = &'k String>) -> String {
    keys.into_iter()
        .map(|k| shown_key(tree, k))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The keys the Secret an overlay produces under `resolution` will hold, when known.
///
/// - a `SealedSecret`: its `encryptedData` keys and `spec.template.data` keys;
/// - a `v1` Secret resource: its `data` and `stringData` keys (read by the caller);
/// - a generated Secret: the generator's keys, with each env file that is not present locally
///   replaced by its `.example`'s keys (`None` if one of those is missing too). A `merge` entry
///   adds its keys, a `replace` entry drops every earlier one's (kustomize
///   api/resmap/reswrangler.go `appendReplaceOrMerge`).
pub fn generated_keys(
    tree: &TreeModel,
    overlay: &Overlay,
    index: usize,
) -> Option<BTreeSet<String>> {
    let g = overlay.generated().get(index)?;
    if g.kind != GeneratedKind::Secret {
        return None;
    }
    if let Some(keys) = &g.keys {
        return Some(keys.iter().cloned().collect());
    }
    let mut keys = BTreeSet::new();
    for spec in &g.specs {
        if spec.behavior == Behavior::Replace {
            keys.clear();
        }
        for env in &spec.envs {
            let path = path_str(&env.path);
            let model = tree
                .env_file(&path)
                .or_else(|| tree.env_file(&format!("{path}.example")))?;
            keys.extend(model.keys()?);
        }
        keys.extend(spec.literal_keys.iter().cloned());
        keys.extend(spec.files.iter().map(|f| f.key.clone()));
    }
    Some(keys)
}

impl SealedRef {
    /// Its file as a repo-relative path ([`path_str`]).
    pub fn path(&self) -> String {
        path_str(&self.file)
    }

    /// Its document as the `sealedsecret` reader sees it ([`sealed_doc`]).
    pub fn doc(&self, cx: &Context<'_>) -> Option<SealedSecretDoc> {
        let namespace = self.namespace_in_file.as_deref();
        sealed_doc(cx, &self.path(), &self.name_in_file, namespace)
    }
}

/// The `SealedSecret` of the already-read file `path` with `metadata.name` `name` and
/// `metadata.namespace` `namespace` as written (one file may hold a name in several
/// namespaces), as the `sealedsecret` reader sees it. `None` when the file was not read, does
/// not parse, or holds no such `SealedSecret`.
pub fn sealed_doc(
    cx: &Context<'_>,
    path: &str,
    name: &str,
    namespace: Option<&str>,
) -> Option<SealedSecretDoc> {
    let find = |f: &SealedSecretFile| {
        f.documents
            .iter()
            .filter_map(|d| d.sealed_secret.as_ref())
            .chain(f.listed.iter().map(|l| &l.sealed_secret))
            .find(|d| d.name.as_deref() == Some(name) && d.namespace.as_deref() == namespace)
            .cloned()
    };
    match cx.sealed_files().get(path) {
        Some(parsed) => parsed.as_ref().ok().and_then(find),
        None => find(&SealedSecretFile::parse(&cx.file(path)?.text).ok()?),
    }
}

/// The keys a `SealedSecret` gives its Secret: its `encryptedData` keys (`rendered`, as the
/// overlay renders them after patches, when known; else the file's) and its
/// `spec.template.data` keys.
pub(crate) fn sealed_keys(
    doc: &SealedSecretDoc,
    rendered: Option<&BTreeSet<String>>,
) -> BTreeSet<String> {
    let in_file = || doc.encrypted_data.iter().map(|e| e.key.clone()).collect();
    let mut keys: BTreeSet<String> = rendered.cloned().unwrap_or_else(in_file);
    keys.extend(doc.template.data_keys.iter().flatten().cloned());
    keys
}

/// One `SealedSecret` file as the `sealedsecret` reader saw it: parsed, or why it refused it
/// (reported by `sealed-secret-unread`).
pub type SealedParse = Result<SealedSecretFile, SealedSecretError>;

/// Every overlay's `SealedSecret` files (repo-relative) that were read, parsed with the
/// `sealedsecret` reader. Several rules read each of them once per overlay:
/// [`Context::sealed_files`] keeps this one parse, made in parallel.
pub(super) fn parse_sealed_files(cx: &Context<'_>) -> HashMap<String, SealedParse> {
    use rayon::prelude::*;
    let paths: BTreeSet<String> = cx
        .tree
        .overlays
        .iter()
        .flat_map(|o| o.overlay.sealed_secret_sources())
        .map(|s| s.path())
        .collect();
    paths
        .into_par_iter()
        .filter_map(|p| {
            let parsed = SealedSecretFile::parse(&cx.file(&p)?.text);
            Some((p, parsed))
        })
        .collect()
}

/// A `SealedSecret` of an overlay as the `sealedsecret` reader reads it, with the fingerprint of
/// the certificate it records it was sealed with (`emp-seal.dev/cert-sha256`).
pub struct SealedCert {
    pub src: SealedRef,
    pub doc: SealedSecretDoc,
    /// The recorded fingerprint, trimmed and lowercase; `None` when it records none (values
    /// sealed by kubeseal).
    pub sha256: Option<String>,
}

impl SealedCert {
    /// Where the record is: the annotation in its document.
    pub fn location(&self, cx: &Context<'_>) -> Location {
        let keys = ["metadata", "annotations", CERT_SHA256_ANNOTATION];
        at_sealed(
            cx,
            &self.src.path(),
            (self.src.doc_index, self.src.line),
            &keys,
        )
    }
}

/// Every `SealedSecret` of `ov` the `sealedsecret` reader reads, with its record.
pub fn sealed_certs(cx: &Context<'_>, ov: &OverlayModel) -> Vec<SealedCert> {
    (ov.overlay.sealed_secret_sources())
        .filter_map(|src| {
            let doc = src.doc(cx)?;
            let record = doc.annotation(CERT_SHA256_ANNOTATION);
            let sha256 = record.map(|r| r.trim().to_ascii_lowercase());
            Some(SealedCert { src, doc, sha256 })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_with_bare_line() -> TreeModel {
        let mut tree = TreeModel::default();
        tree.env_files.push(EnvFileModel {
            path: "k8s/overlays/dev/dev.env".into(),
            parsed: Ok(vec![("A".into(), 1), ("sentinel".into(), 2)]),
            bare: vec![("sentinel".into(), 2)],
            lints: Vec::new(),
        });
        tree
    }

    #[test]
    fn a_key_from_a_line_without_equals_is_named_by_its_line() {
        let tree = tree_with_bare_line();
        let keys: BTreeSet<String> = ["A".into(), "sentinel".into()].into();
        let text = key_list(&tree, &keys);
        assert_eq!(
            text,
            "`A`, the key on line 2 of `k8s/overlays/dev/dev.env` (a line without '=', not shown)"
        );
        assert_eq!(key_phrase(&tree, "A"), "key `A`");
        assert!(!key_phrase(&tree, "sentinel").contains("sentinel"));
    }
}
