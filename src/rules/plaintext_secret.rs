//! Rule `plaintext-secret`: a `kind: Secret` with non-empty `data` or `stringData` in a tracked
//! YAML or JSON file (any document of a multi-document file, the legacy flat manifest included).
//!
//! Looks at every YAML/JSON file of the repository git does not ignore, not only the checked
//! tree. Located at the `data` / `stringData` key. Files git does not track are skipped, but for
//! one git does not ignore that an environment's build reads or would read once committed (a
//! warning); files whose git status is unknown are checked. The message names the Secret and
//! its keys, never a value.
//!
//! A `SealedSecret`'s `spec.template.data` is plaintext the controller copies into its Secret:
//! reported the same way, at that key. So is a Flux `postBuild.substitute` value a `${NAME}` of a
//! rendered Secret reads, at the variable's line. Which values are committed secret text is
//! judged once, `is_committed_secret` (not empty values, `${VAR}`, SOPS values, certificates,
//! template values).
//!
//! Secrets that hold no credential by design are not findings ([`non_credential`]): an Argo CD
//! repository Secret that names only a repository, and a service-account token Secret the
//! cluster fills in.

use yaml_serde::Value;

use super::locate::at_line;
use super::model::shown_key;
use super::yamldocs::{YamlDoc, named_docs, repository_docs_of_kind};
use super::{Context, GitStatus, View};
use crate::envfile;
use crate::finding::{Finding, Location, RuleMeta, RuleScope, Severity};
use crate::kustomize::{GeneratedKind, GeneratorSpec, varsub};
use crate::workspace::path_str;

pub static META: RuleMeta = RuleMeta {
    id: "plaintext-secret",
    summary: "A tracked YAML or JSON file holds a Secret with data or stringData in plaintext",
    default_severity: Severity::Error,
    hint: "move the values into an env file and seal them (emp-seal <env> --from FILE), delete the Secret from git, and rotate the exposed values",
    scope: RuleScope::Repository,
};

/// How the values of a map a Secret is made from are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// A Secret's `data`: base64.
    Base64,
    /// A Secret's `stringData`: the text itself.
    Text,
    /// A `SealedSecret`'s `spec.template.data` (or `stringData`): text the controller copies
    /// into the Secret, after running it as a Go template over the decrypted values
    /// (bitnami-labs/sealed-secrets `pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go`,
    /// `Unseal`), so `{{ .password }}` names a sealed value.
    Template,
}

/// Where a value sits, for [`is_committed_secret`]: the document is SOPS-encrypted
/// ([`YamlDoc::sops`]), or is a template of a Helm chart (Helm fills `{{ }}` from the chart's
/// values when it renders).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Around {
    pub(crate) sops: bool,
    pub(crate) helm: bool,
}

impl Around {
    /// What surrounds the values of `doc`.
    pub(crate) fn of(doc: &YamlDoc<'_>) -> Around {
        Around {
            sops: doc.sops,
            helm: doc.helm,
        }
    }
}

/// True when a value of a Secret (or of a `SealedSecret`'s template) is committed secret text:
/// not when it is empty, only a variable Flux fills in after the build (`${DB_PASSWORD}`,
/// [`varsub::is_variable`]), a SOPS-encrypted value in a SOPS document
/// ([`is_sops_encrypted`]), a `{{ }}` template the engine around it fills (a Helm chart's, a
/// `SealedSecret` template's), or public data: nothing but PEM certificates
/// ([`crate::cert::only_certificates`], as for generator inputs). A number, a boolean or a
/// nested value is text kubectl writes into the Secret (or refuses): secret.
pub(crate) fn is_committed_secret(value: &Value, written: Written, around: Around) -> bool {
    let text = match value {
        Value::Null => return false,
        Value::String(s) => s,
        _ => return true,
    };
    let templated = around.helm || written == Written::Template;
    if text.is_empty()
        || varsub::is_variable(text)
        || (around.sops && is_sops_encrypted(text))
        || (templated && text.contains("{{"))
    {
        return false;
    }
    if written == Written::Base64 {
        use base64::Engine as _;
        let compact = crate::secret::compact_base64(text);
        let bytes = base64::engine::general_purpose::STANDARD.decode(compact.as_bytes());
        let bytes = zeroize::Zeroizing::new(bytes.unwrap_or_default());
        return !std::str::from_utf8(&bytes).is_ok_and(crate::cert::only_certificates);
    }
    !crate::cert::only_certificates(text)
}

/// True for a value SOPS encrypted: `ENC[AES256_GCM,data:...,iv:...,tag:...,type:str]`
/// (getsops/sops `aes/cipher.go`, `encryptedValueRegex`). Only meaningful in a document with a
/// top-level `sops` map, which every SOPS-encrypted file has.
pub(crate) fn is_sops_encrypted(text: &str) -> bool {
    text.strip_prefix("ENC[")
        .and_then(|r| r.strip_suffix(']'))
        .is_some_and(|body| body.contains("data:") && body.contains(",type:"))
}

/// A mapping key as kubectl reads it: YAML converted to JSON writes a number or a boolean key
/// as its text (`1234:` is the Secret key `1234`). `None` for a key that is no scalar.
pub(crate) fn key_text(key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("null".to_owned()),
        _ => None,
    }
}

/// Keys of a `data`/`stringData` (or template `data`) mapping whose value is committed secret
/// text ([`is_committed_secret`]), every key included however it is written ([`key_text`]).
pub(crate) fn secret_keys(map: Option<&Value>, written: Written, around: Around) -> Vec<String> {
    let Some(Value::Mapping(m)) = map else {
        return Vec::new();
    };
    m.iter()
        .filter(|(_, v)| is_committed_secret(v, written, around))
        .filter_map(|(k, _)| key_text(k))
        .collect()
}

/// Argo CD repository Secret keys that name a repository and how to reach it, holding no
/// credential (argo-cd docs/operator-manual/declarative-setup.md, "Repositories"). `username`,
/// `password`, `sshPrivateKey`, `tlsClientCertKey`, `githubAppPrivateKey`, `bearerToken`,
/// `gcpServiceAccountKey` and any key not listed here make the Secret a credential.
pub const ARGOCD_REPOSITORY_KEYS: &[&str] = &[
    "url",
    "type",
    "name",
    "project",
    "proxy",
    "noProxy",
    "enableLfs",
    "enableOCI",
    "insecure",
    "forceHttpBasicAuth",
    "githubAppID",
    "githubAppInstallationID",
    "githubAppEnterpriseBaseUrl",
];

/// True for a Secret that holds no credential by design, whatever its `data`/`stringData`:
///
/// - an Argo CD repository Secret (label `argocd.argoproj.io/secret-type: repository` or
///   `repo-creds`) whose keys are all in [`ARGOCD_REPOSITORY_KEYS`] and whose `url` carries no
///   credential (`url_has_credential`);
/// - a `kubernetes.io/service-account-token` Secret with no data: the cluster writes the token
///   into the live object, never into the file.
pub fn non_credential(doc: &YamlDoc<'_>) -> bool {
    let data = doc.get(&["data"]);
    let string_data = doc.get(&["stringData"]);
    if doc.get(&["type"]).and_then(Value::as_str) == Some("kubernetes.io/service-account-token") {
        let none = Around::default();
        return secret_keys(data, Written::Base64, none).is_empty()
            && secret_keys(string_data, Written::Text, none).is_empty();
    }
    let secret_type = doc.get(&["metadata", "labels", "argocd.argoproj.io/secret-type"]);
    if !matches!(
        secret_type.and_then(Value::as_str),
        Some("repository" | "repo-creds")
    ) {
        return false;
    }
    let entries = [(data, true), (string_data, false)];
    entries.iter().all(|(map, encoded)| match map {
        None | Some(Value::Null) => true,
        Some(Value::Mapping(m)) => m.iter().all(|(k, v)| {
            let Some(key) = k.as_str() else { return false };
            ARGOCD_REPOSITORY_KEYS.contains(&key)
                && (key != "url" || !url_has_credential(v, *encoded))
        }),
        Some(_) => false,
    })
}

/// Query parameter names (compared in lower case, as parts of the name) that carry a
/// credential: `private_token` (GitLab), `access_token`, `token`, `api_key`, `password`,
/// `sig` (an Azure SAS), `X-Amz-Credential` / `X-Amz-Signature` / `X-Amz-Security-Token` (an S3
/// presigned URL), `auth`, `secret`, `session`.
const CREDENTIAL_PARAMETERS: &[&str] = &[
    "token",
    "key",
    "pass",
    "pwd",
    "secret",
    "auth",
    "sig",
    "credential",
    "session",
];

/// True when a repository URL (base64 in `data` when `encoded`) carries a credential: any user
/// information of an HTTP(S) or other URL (`https://user:pass@host`, and a token as the user
/// name, `https://TOKEN@github.com/...`, which git sends as a basic-auth user GitHub and GitLab
/// accept as a token), a password in an `ssh://` URL (a user name alone there, `ssh://git@host`,
/// is not one: SSH authenticates with a key), or a query parameter whose name says it holds
/// one ([`CREDENTIAL_PARAMETERS`]). A URL that cannot be read (not a string, bad base64, not
/// UTF-8) counts as a credential.
fn url_has_credential(value: &Value, encoded: bool) -> bool {
    use base64::Engine as _;
    let Some(text) = value.as_str() else {
        return true;
    };
    let url = if encoded {
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text.trim()) else {
            return true;
        };
        match String::from_utf8(bytes) {
            Ok(s) => zeroize::Zeroizing::new(s),
            Err(_) => return true,
        }
    } else {
        zeroize::Zeroizing::new(text.to_owned())
    };
    // An scp-like SSH address (`git@github.com:org/repo.git`) has no scheme and names a user
    // only: SSH authenticates with a key, which the Secret would hold under `sshPrivateKey`.
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if let Some((user_info, _)) = authority.rsplit_once('@') {
            let ssh = scheme.eq_ignore_ascii_case("ssh") || scheme.ends_with("+ssh");
            if !ssh || user_info.contains(':') {
                return true;
            }
        }
    }
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or_default();
    query.split('&').any(|pair| {
        let name = pair
            .split('=')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        CREDENTIAL_PARAMETERS.iter().any(|c| name.contains(c))
    })
}

/// The Secret documents of the repository that may be committed (tracked, or git status
/// unknown) and may hold a credential (not [`non_credential`]).
pub(crate) fn committed_credentials<'c, 't>(
    cx: &'c Context<'t>,
) -> impl Iterator<Item = &'c YamlDoc<'t>> {
    repository_docs_of_kind(cx, "Secret")
        .filter(|d| !matches!(d.file.git, GitStatus::Untracked { .. }) && !non_credential(d))
}

/// Reports every Secret document with plaintext data, every plaintext value a patch writes into
/// a Secret outside such a document, and every filled `literals:` entry of a Secret generator.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let mut out: Vec<Finding> = (committed_credentials(cx))
        .flat_map(|doc| secret_plaintext(cx, doc))
        .map(|(at, holds)| Finding::new(&META, at, holds))
        .collect();
    out.extend(uncommitted_in_builds(cx));
    out.extend(sealed_templates(cx));
    out.extend(flux_substitutes(cx));
    out.extend(written_in_kustomizations(cx));
    out.extend(committed_generator_inputs(cx));
    out
}

/// The Secret documents with plaintext data in files git neither tracks nor ignores that an
/// environment's build reads: not committed yet, but one `git add .` away, and deployed the
/// moment they are (a warning, as for a Secret generator's input; an ignored file, the local
/// file convention, is not one). An overlay Argo CD or Flux deploys fails the build on such a
/// file already (`overlay-build-error`, the file refused): the plaintext is reported all the
/// same. So is such a file the kustomization generated for a plain directory would list once
/// committed ([`crate::kustomize::Overlay::unbuilt_files`]).
fn uncommitted_in_builds(cx: &Context<'_>) -> Vec<Finding> {
    let untracked: Vec<_> = (repository_docs_of_kind(cx, "Secret"))
        .filter(|doc| matches!(doc.file.git, GitStatus::Untracked { ignored: false }))
        .collect();
    if untracked.is_empty() {
        return Vec::new();
    }
    let built: std::collections::BTreeSet<String> = (cx.all_overlays().iter())
        .flat_map(|ov| {
            let files = ov
                .overlay
                .files()
                .into_iter()
                .map(std::path::Path::to_path_buf);
            files.chain(ov.overlay.unbuilt_files())
        })
        .map(|p| path_str(p.strip_prefix(cx.root).unwrap_or(&p)))
        .collect();
    (untracked.into_iter())
        .filter(|doc| built.contains(&doc.file.path) && !non_credential(doc))
        .flat_map(|doc| secret_plaintext(cx, doc))
        .map(|(at, holds)| {
            let message = format!("{holds} in a file an environment's build reads, which git does not ignore");
            Finding::new(&META, at, message)
                .severity(Severity::Warning)
                .hint("seal the values (emp-seal <env> --from FILE) instead of building a plaintext Secret, or add the file to .gitignore so it cannot be committed by accident")
        })
        .collect()
}

/// For each of a Secret document's `data` and `stringData` that holds plaintext: where, and
/// "Secret `NAME` holds ..." (keys and sizes, never values).
fn secret_plaintext(cx: &Context<'_>, doc: &YamlDoc<'_>) -> Vec<(Location, String)> {
    let around = Around::of(doc);
    [("data", Written::Base64), ("stringData", Written::Text)]
        .into_iter()
        .filter_map(|(field, written)| {
            let value = doc.get(&[field]);
            if let Some(shape) = misshapen(value, written, around) {
                let message = format!(
                    "Secret `{}` holds `{field}` as {shape}, not a map: the API server refuses the Secret, and the text is committed",
                    doc.name()
                );
                return Some((doc.location(&[field]), message));
            }
            let keys = secret_keys(value, written, around);
            (!keys.is_empty()).then(|| {
                let holds = plaintext(cx, field, &keys);
                (
                    doc.location(&[field]),
                    format!("Secret `{}` holds {holds}", doc.name()),
                )
            })
        })
        .collect()
}

/// What a `data`/`stringData` that is no map holds, when it is committed secret text: a string
/// (`"a string of 16 bytes"`), a number or boolean (a PIN), or a list holding one. kustomize renders it as written, and only
/// the API server refuses it, so the text would still be in the repository.
fn misshapen(value: Option<&Value>, written: Written, around: Around) -> Option<String> {
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let secret = |v: &Value| is_committed_secret(v, written, around);
    match value? {
        v @ Value::String(s) if secret(v) => {
            Some(format!("a string of {}", plural(s.len(), "byte")))
        }
        Value::Number(_) | Value::Bool(_) => Some("a single value".to_owned()),
        Value::Sequence(items) if items.iter().any(secret) => {
            Some(format!("a list of {}", plural(items.len(), "item")))
        }
        _ => None,
    }
}

/// The plaintext of every committed `SealedSecret`'s `spec.template.data` (and `stringData`,
/// should a template have one): the controller writes it into the Secret it creates as
/// written, after running it as a Go template over the decrypted values ([`Written::Template`]).
fn sealed_templates(cx: &Context<'_>) -> Vec<Finding> {
    let committed = repository_docs_of_kind(cx, "SealedSecret")
        .filter(|d| !matches!(d.file.git, GitStatus::Untracked { .. }));
    let mut out = Vec::new();
    for doc in committed {
        let around = Around::of(doc);
        for field in ["data", "stringData"] {
            let path = ["spec", "template", field];
            let keys = secret_keys(doc.get(&path), Written::Template, around);
            if !keys.is_empty() {
                let field = format!("spec.template.{field}");
                let message = format!(
                    "SealedSecret `{}` holds {}, which the controller copies into its Secret",
                    doc.name(),
                    plaintext(cx, &field, &keys)
                );
                out.push(Finding::new(&META, doc.location(&path), message));
            }
        }
    }
    out
}

/// The fields of a Secret (or a `SealedSecret`'s template) whose values become the Secret's.
fn value_fields(kind: &str) -> [&'static [&'static str]; 2] {
    if kind == "SealedSecret" {
        [
            &["spec", "template", "data"],
            &["spec", "template", "stringData"],
        ]
    } else {
        [&["data"], &["stringData"]]
    }
}

/// Committed plaintext a Flux Kustomization substitutes into a Secret: a variable its
/// `postBuild.substitute` gives a value (committed text) read by a `${NAME}` expression in a
/// value of a Secret, or of a `SealedSecret`'s template, that an overlay it deploys renders
/// (fluxcd/pkg `kustomize/kustomize_varsub.go`: every rendered object is substituted unless it
/// opts out). The `${NAME}` exemption of [`is_committed_secret`] holds for variables the
/// cluster gives (`substituteFrom`), not for these. Reported at the variable's line in the
/// Flux file, once per variable and Secret key; Flux files git does not track are skipped.
fn flux_substitutes(cx: &Context<'_>) -> Vec<Finding> {
    use std::collections::BTreeMap;
    // (file, line, variable) -> "Secret `db` key `password`"
    let mut found: BTreeMap<(String, usize, String), Vec<String>> = BTreeMap::new();
    for ov in cx.all_overlays() {
        let given: Vec<(&str, usize, &str)> = (ov.overlay.post_build().iter())
            .filter(|p| !matches!(cx.tree.git_status(&p.file), GitStatus::Untracked { .. }))
            .flat_map(|p| {
                p.substitute
                    .iter()
                    .map(|(v, l)| (p.file.as_str(), *l, v.as_str()))
            })
            .collect();
        if given.is_empty() {
            continue;
        }
        for (doc, kind) in substituted_docs(cx, &ov.overlay) {
            for path in value_fields(kind) {
                let Some(Value::Mapping(m)) = doc.get(path) else {
                    continue;
                };
                for (k, v) in m {
                    let (Some(key), Some(text)) = (key_text(k), v.as_str()) else {
                        continue;
                    };
                    for name in varsub::variables(text) {
                        for (file, line, _) in given.iter().filter(|g| g.2 == name) {
                            let what = format!(
                                "{kind} `{}` (`{}` key `{key}`)",
                                doc.name(),
                                path.join(".")
                            );
                            let at = found.entry(((*file).to_owned(), *line, name.to_owned()));
                            let list = at.or_default();
                            if !list.contains(&what) {
                                list.push(what);
                            }
                        }
                    }
                }
            }
        }
    }
    found
        .into_iter()
        .map(|((file, line, name), into)| {
            let message = format!(
                "`{name}` is given here in plaintext and Flux substitutes it into {}",
                into.join(", ")
            );
            Finding::new(&META, at_line(cx, &file, line), message)
        })
        .collect()
}

/// The Secret and `SealedSecret` documents `overlay` renders from its resource files that Flux
/// substitutes (not opted out), with their kind: each resource's document found by file, name
/// and namespace as written (one file may hold a name in several namespaces).
fn substituted_docs<'c>(
    cx: &'c Context<'_>,
    overlay: &crate::kustomize::Overlay,
) -> Vec<(&'c YamlDoc<'c>, &'static str)> {
    let mut out = Vec::new();
    for kind in ["Secret", "SealedSecret"] {
        for r in overlay.resources().iter().filter(|r| r.kind == kind) {
            let written = (r.original.name.as_str(), r.original.namespace.as_deref());
            let docs = named_docs(cx, &path_str(&r.origin.file), kind, written)
                .filter(|d| !varsub::substitution_disabled(&r.annotations, d.get(&["metadata"])));
            out.extend(docs.map(|d| (d, kind)));
        }
    }
    out
}

/// "N plaintext FIELD key(s) (`a`, `b`, ...)": names at most five keys, never a value (nor a
/// key an env file gives on a line without `=`, which may be a pasted value: [`shown_key`]).
fn plaintext(cx: &Context<'_>, field: &str, keys: &[String]) -> String {
    let shown: Vec<String> = keys
        .iter()
        .take(5)
        .map(|k| shown_key(&cx.tree, k))
        .collect();
    let more = if keys.len() > 5 { ", ..." } else { "" };
    let plural = if keys.len() == 1 { "" } else { "s" };
    format!(
        "{} plaintext {field} key{plural} ({}{more})",
        keys.len(),
        shown.join(", ")
    )
}

/// Plaintext that kustomize puts into Secrets from committed text no Secret document shows: a
/// patch's values ([`crate::kustomize::WrittenValue`]: an inline patch, a JSON 6902 op) and a
/// Secret generator's filled `literals:`. One finding per line and field, over every loaded
/// overlay (a shared base is built by each overlay that includes it); files git does not track
/// are skipped, as for documents.
fn written_in_kustomizations(cx: &Context<'_>) -> Vec<Finding> {
    use std::collections::BTreeMap;
    // (file, line, Secret name, field) -> keys
    let mut found: BTreeMap<(String, usize, String, &str), Vec<String>> = BTreeMap::new();
    let mut add = |origin: &crate::kustomize::Origin, name: &str, field, key: &str| {
        // One place however the including overlay reached the file (`a/../../shared`).
        let file = path_str(&origin.file);
        let untracked = matches!(cx.tree.git_status(&file), GitStatus::Untracked { .. });
        let keys = found
            .entry((file, origin.line, name.to_owned(), field))
            .or_default();
        if !untracked && !keys.iter().any(|k| k == key) {
            keys.push(key.to_owned());
        }
    };
    for ov in cx.all_overlays() {
        for w in ov.overlay.written_values() {
            if w.ciphertext.is_none() && !w.in_document {
                add(&w.origin, &w.name, w.field, &w.key);
            }
        }
    }
    for (name, spec) in secret_generators(cx) {
        for key in &spec.filled_literals {
            add(&spec.origin, name, "literal", key);
        }
    }
    let mut out = Vec::new();
    for ((file, line, name, field), keys) in found {
        if keys.is_empty() {
            continue;
        }
        let message = if field == "literal" {
            format!(
                "the generator of Secret `{name}` has {}",
                plaintext(cx, field, &keys)
            )
        } else if field.starts_with("spec.template") {
            format!(
                "SealedSecret `{name}`, as this patch writes it, holds {}, which the controller copies into its Secret",
                plaintext(cx, field, &keys)
            )
        } else {
            format!(
                "Secret `{name}`, as this patch writes it, holds {}",
                plaintext(cx, field, &keys)
            )
        };
        out.push(Finding::new(&META, at_line(cx, &file, line), message));
    }
    out
}

/// Every Secret generator entry of every loaded overlay, with the Secret's name as written.
fn secret_generators<'c>(
    cx: &'c Context<'_>,
) -> impl Iterator<Item = (&'c str, &'c GeneratorSpec)> {
    cx.all_overlays()
        .iter()
        .flat_map(|ov| ov.overlay.generated())
        .filter(|g| g.kind == GeneratedKind::Secret)
        .flat_map(|g| g.specs.iter().map(|s| (g.original.name.as_str(), s)))
}

/// The `files:` and `envs:` of Secret generators that git tracks (an error: the Secret's content
/// is committed) or does not ignore (a warning: one `git add .` away), once per generator entry
/// and file. Real env files by name (`*.env`, `.env`) are `plaintext-env-file`'s; files whose git
/// status is unknown (no repository) are skipped, as that rule does, and so are files holding
/// only PEM certificates (`TreeModel::public_inputs`: public data).
fn committed_generator_inputs(cx: &Context<'_>) -> Vec<Finding> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (name, spec) in secret_generators(cx) {
        let envs = spec.envs.iter().map(|e| &e.path);
        let inputs = spec.files.iter().map(|f| &f.path).chain(envs);
        for file in inputs.map(|f| path_str(f)) {
            let tracked = match cx.tree.git_status(&file) {
                GitStatus::Tracked => true,
                GitStatus::Untracked { ignored: false } => false,
                _ => continue,
            };
            let generator = path_str(&spec.origin.file);
            if envfile::is_real_env_file(&file)
                || cx.tree.public_inputs.contains(&file)
                || !seen.insert((generator.clone(), spec.origin.line, file.clone()))
            {
                continue;
            }
            let at = at_line(cx, &generator, spec.origin.line);
            let what = if tracked { "tracks" } else { "does not ignore" };
            let message = format!(
                "Secret `{name}` is generated from `{file}`, which git {what}: its content is plaintext"
            );
            let finding = Finding::new(&META, at, message);
            out.push(if tracked {
                finding
            } else {
                finding
                    .severity(Severity::Warning)
                    .hint("add the file to .gitignore so it cannot be committed by accident")
            });
        }
    }
    out
}
