//! `emp-seal seal ENV --from FILE --migrate`: move an overlay's Secret from a builtin
//! `SecretGenerator` (an inline `secretGenerator:` entry or a `generators:` file) to a committed
//! `SealedSecret`.
//!
//! Owns: the checks that make the move safe (exactly one generated Secret, made by one generator
//! entry of the overlay's own kustomization or a generator file it lists, without a hash suffix
//! unless `--keep-name`), the new `sealedsecret.yaml` (the generator's rendered name and
//! namespace, strict scope unless asked, its type, labels and annotations in the template), the
//! comment-preserving edit of the overlay's kustomization (the inline entry leaves
//! `secretGenerator:`, or the file leaves `generators:`; a list that becomes empty goes;
//! `sealedsecret.yaml` joins `resources:`), and the all-or-nothing write of both files. Sealing
//! itself is the step `seal` uses too (`seal::values`). Must not print or prompt by itself. A
//! generator file and the env files stay on disk: deleting files is the user's call (the CLI
//! says so).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use yaml_serde::Value;

use crate::crypto::Scope;
use crate::envfile;
use crate::fsio;
use crate::kustomize::{
    self, Behavior, Generated, GeneratedKind, GeneratorSpec, Identity, Overlay, SecretSource,
};
use crate::seal::{self, CertSummary, Prompter, Recipient, SealError, SealRequest, values};
use crate::secret::SecretValue;
use crate::workspace::path_str;
use crate::workspace::{MAX_INPUT_BYTES, rel};
use crate::yamlpos::block::{KeyAt, Lines, Val, key_at};
use crate::yamlpos::scalar::rest_is_comment;
use crate::yamlpos::{self, Edit, Seg, flow};

mod sealed_file;

/// The file the migration creates in the overlay directory.
pub const SEALED_FILE: &str = "sealedsecret.yaml";

/// Errors of the migration. Messages name files, lines and keys, never values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("{env}: the overlay already renders a SealedSecret ({file}); nothing to migrate")]
    AlreadySealed {
        env: String,
        file: String,
        /// The 1-based line of its `metadata.name` when it is an item of a `List`, which `seal`
        /// refuses ([`SealError::InList`]).
        listed: Option<usize>,
    },
    #[error("{env}: the overlay has no SecretGenerator to migrate")]
    NoGenerator { env: String },
    #[error("{env}: the overlay generates {count} Secrets ({names}); --migrate moves exactly one")]
    SeveralGenerators {
        env: String,
        count: usize,
        names: String,
    },
    #[error(
        "{origin}: the generator appends a content hash to `{name}`; a SealedSecret would produce a Secret without it"
    )]
    HashSuffix { origin: String, name: String },
    /// The migration would leave references that kustomize rewrote to the generated name (a
    /// `namePrefix`/`nameSuffix`, or under `--keep-name` a hash suffix) pointing at no Secret:
    /// refused before anything is sealed or written.
    #[error(
        "{origin}: {by} would leave {count} reference(s) to `{name}` pointing at no Secret, because kustomize rewrites references to a generated Secret but not to one a SealedSecret makes; nothing was written: {refs}",
        by = if *keep_name { "--keep-name" } else { "--migrate" },
        count = refs.len(),
        refs = refs.join(", ")
    )]
    Dangles {
        origin: String,
        name: String,
        /// The name kustomize renders for it (with the overlay's `namePrefix`/`nameSuffix`).
        rendered: String,
        /// True under `--keep-name` for a hash-suffixed generator.
        keep_name: bool,
        /// Under `--keep-name`, the name the SealedSecret would make, when known (the hash of
        /// the values).
        sealed_as: Option<String>,
        refs: Vec<String>,
    },
    /// A `literals:` item without `=`: kustomize refuses it ("invalid literal source"), and it
    /// may be a piece of a value, so it is named by its position only.
    #[error(
        "{origin}: item {item} of `literals:` has no '='; kustomize refuses it, and it may be part of a value (content not shown)"
    )]
    LiteralWithoutEquals {
        origin: String,
        /// 1-based position in the list.
        item: usize,
    },
    /// A generator layout the migration does not rewrite.
    #[error("{origin}: {what}")]
    Unsupported { origin: String, what: String },
    #[error("{file} already exists; not overwriting it")]
    Exists { file: String },
    #[error("{file}:{line}: cannot edit the kustomization in place: {what}")]
    Kustomization {
        file: String,
        /// 1-based line.
        line: usize,
        what: String,
    },
    /// Writing failed; nothing was changed.
    #[error(transparent)]
    Fs(#[from] fsio::FsError),
}

impl MigrateError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            // Sealing's own error, with the hint for a migration.
            MigrateError::Seal(SealError::NoCert { env, .. }) => Some(format!(
                "fetch the controller's certificate first: emp-seal cert {env} --fetch URL, or pass --cert (docs/certificates.md)"
            )),
            MigrateError::Seal(e) => e.hint(),
            MigrateError::AlreadySealed {
                env,
                file,
                listed: Some(line),
            } => Some(format!(
                "the SealedSecret at {file}:{line} is an item of a `List`, which emp-seal does not edit: move it into a document of its own (`---` before `apiVersion: bitnami.com/v1alpha1`), then seal it without --migrate: emp-seal {env} --from FILE"
            )),
            MigrateError::AlreadySealed { env, .. } => {
                Some(format!("seal it without --migrate: emp-seal {env} --from FILE"))
            }
            MigrateError::HashSuffix { name, .. } => Some(format!(
                "the workloads name `{name}`, and kustomize rewrites those references to the hashed name it generates; a SealedSecret's Secret gets no hash, so choose: set `options.disableNameSuffixHash: true` on the generator (the Secret is then named `{name}`), check the overlay still renders, then migrate; or add --keep-name to seal under the hashed name and point the workloads at it yourself (docs/lifecycle.md)"
            )),
            MigrateError::Dangles {
                name,
                keep_name: true,
                sealed_as,
                ..
            } => Some(format!(
                "either set `options.disableNameSuffixHash: true` on the generator (the Secret is then named `{name}`), check the overlay still renders, then migrate without --keep-name; or first point those references at the hashed name{}, then migrate with --keep-name (docs/lifecycle.md)",
                sealed_as.as_ref().map_or_else(
                    || " the overlay renders (`kubectl kustomize` shows it)".to_owned(),
                    |n| format!(" these values make, `{n}`")
                )
            )),
            MigrateError::Dangles { name, rendered, .. } => Some(format!(
                "kustomize names the SealedSecret's Secret `{rendered}` but leaves these references at `{name}`; either first point them at `{rendered}` (e.g. with a patch in the overlay), or drop the namePrefix/nameSuffix that renames the Secret; check the overlay still renders, then migrate (docs/lifecycle.md)"
            )),
            MigrateError::Exists { .. } => Some(
                "the overlay seems half-migrated: list sealedsecret.yaml in resources: and seal without --migrate, or remove the file"
                    .to_owned(),
            ),
            MigrateError::LiteralWithoutEquals { .. } => {
                Some("write each literal as `KEY=value`".to_owned())
            }
            MigrateError::Unsupported { .. } | MigrateError::Kustomization { .. } => Some(
                "migrate by hand: seal into a new sealedsecret.yaml with kubeseal, add it to resources:, and remove the generator (docs/lifecycle.md)"
                    .to_owned(),
            ),
            MigrateError::Fs(e) => e.hint().map(str::to_owned),
            _ => None,
        }
    }
}

/// Where the migrated generator was declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeneratorSite {
    /// A generator file listed under `generators:`; it stays on disk, no longer listed.
    File(PathBuf),
    /// The inline `secretGenerator:` entry of this name, removed from the kustomization.
    Inline(String),
}

impl GeneratorSite {
    /// How the new file's header and the kustomization's comment name it.
    fn describe(&self) -> String {
        match self {
            GeneratorSite::File(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            GeneratorSite::Inline(name) => format!("secretGenerator `{name}`"),
        }
    }
}

/// The planned migration, ready to [`commit`].
#[derive(Debug)]
pub struct MigratePlan {
    pub env: String,
    pub sealed_path: PathBuf,
    /// Its text (ciphertext only).
    pub sealed_text: String,
    /// The overlay's kustomization file.
    pub kustomization_path: PathBuf,
    pub new_kustomization: String,
    /// The generator that is no longer used.
    pub generator: GeneratorSite,
    /// The env files the generator read (left on disk).
    pub generator_envs: Vec<PathBuf>,
    /// The identity sealed for (under `--keep-name`, with the hash suffix).
    pub identity: Identity,
    pub scope: Scope,
    pub cert: CertSummary,
    pub keys: Vec<String>,
    /// Keys the env file lacked whose values came from the generator's `literals:`.
    pub from_literals: Vec<String>,
    /// The generator made an immutable Secret; the SealedSecret's template keeps
    /// `immutable: true`.
    pub immutable: bool,
}

/// What the migration keeps of the generator: where it is, the Secret's `type`, the generator's
/// labels, annotations and `immutable` (kustomize `api/types/generatorargs.go`,
/// `generatoroptions.go`) and its `literals:` values.
struct GeneratorInfo {
    site: GeneratorSite,
    secret_type: Option<String>,
    labels: Vec<(String, String)>,
    annotations: Vec<(String, String)>,
    /// `options.immutable: true` (the entry's or `generatorOptions`'): the Secret is immutable.
    immutable: bool,
    literals: Vec<(String, SecretValue)>,
}

fn kustomization_of(root: &Path, env: &str, dir: &Path) -> Result<PathBuf, MigrateError> {
    crate::workspace::kustomization_file(dir).ok_or_else(|| {
        MigrateError::from(SealError::UnknownEnv {
            env: env.to_owned(),
            dir: rel(root, dir),
            known: Vec::new(),
        })
    })
}

/// `sealedsecret.yaml` in the overlay's directory, which must not exist yet.
fn new_sealed_path(root: &Path, dir: &Path) -> Result<PathBuf, MigrateError> {
    let sealed_path = dir.join(SEALED_FILE);
    if std::fs::symlink_metadata(&sealed_path).is_ok() {
        return Err(MigrateError::Exists {
            file: rel(root, &sealed_path),
        });
    }
    Ok(sealed_path)
}

/// Plans the migration of `env`, the request's one environment: reads, checks and encrypts,
/// writes nothing. The request's `--only`, `--prune`, `--key` and friends are refused by the
/// CLI before this; its scope defaults to strict. `keep_name` is `--keep-name`: seal a
/// hash-suffixed generator's Secret under its hashed name.
///
/// # Errors
/// Any [`MigrateError`].
pub fn plan(
    req: &SealRequest,
    env: &str,
    keep_name: bool,
    prompter: &mut dyn Prompter,
) -> Result<MigratePlan, MigrateError> {
    let root = &req.root;
    let dir = crate::workspace::overlay_dir(root, env)?;
    let overlay = Overlay::load(root, env).map_err(SealError::from)?;
    let (g, spec) = the_generator(root, &overlay, env, keep_name)?;
    let kust_path = kustomization_of(root, env, &dir)?;
    let generator = read_generator(root, &dir, &kust_path, spec, &g.original.name)?;
    // Under --keep-name, a hash-suffixed generator's Secret is sealed under its hashed name.
    let hashed = keep_name && g.hash_suffix;
    // Refused before the env file is read or anything sealed: no reference may be left naming
    // something no Secret is called any more.
    if hashed {
        hash_lands_last(g, spec)?;
    }
    let refs = dangling_references(&overlay, g, hashed);
    refuse_dangling(spec, g, (hashed, None), refs)?;
    let sealed_path = new_sealed_path(root, &dir)?;

    // The env file is read first: its problems are the user's input errors and come before the
    // environment's (certificate) problems.
    // The CLI refuses --strict, --only and --key with --migrate: this reads the env file.
    let inputs = seal::load_inputs(req)?;
    refuse_generator_non_keys(root, spec)?;
    let cert = values::certificate(root, env, req.cert.as_deref(), req.now)?;
    // The rendered name, namespace and scope are the model's: it must have replayed the overlay.
    seal::refuse_unverified(&overlay)?;
    let scope = rendered_scope(root, env, req.scope, g, &sealed_path)?;
    let mut to = Recipient::new(cert, scope, g.rendered.clone(), &rel(root, &sealed_path))?;
    let needed = needed_keys(&overlay, g, spec);
    let (values, from_literals) = complete_values(env, inputs, &generator, &needed, prompter)?;
    // Under --keep-name the name takes the hash of these values; the namespace stays.
    let (name, name_as_written) = target_name(g, &generator, &values, hashed);
    if hashed {
        refuse_dangling(
            spec,
            g,
            (true, Some(&name)),
            other_hash_references(&overlay, g, &name),
        )?;
    }
    // Only the name changes: the namespace, which `SealedTo::new` checked, stays.
    to.who.identity.name = name;
    let (sealed_text, keys) = sealed_file::new_sealed_file(
        req,
        env,
        &sealed_path,
        &to,
        &generator,
        &name_as_written,
        values,
    )?;
    let new_kustomization = edit_overlay_kustomization(root, &kust_path, &generator.site, &to)?;
    Ok(MigratePlan {
        env: env.to_owned(),
        sealed_path,
        sealed_text,
        kustomization_path: kust_path,
        new_kustomization,
        generator: generator.site,
        generator_envs: spec.envs.iter().map(|e| root.join(&e.path)).collect(),
        identity: to.who.identity,
        scope,
        cert: to.summary,
        keys,
        from_literals,
        immutable: generator.immutable,
    })
}

/// The scope to seal the new SealedSecret with: `--scope` (or the config file's scope), else the
/// one the overlay gives its objects (its `commonAnnotations` or patches set on the generated
/// Secret, which the SealedSecret will get too). The controller reads the scope annotations of
/// the rendered object, so a scope the overlay would override is refused.
fn rendered_scope(
    root: &Path,
    env: &str,
    requested: Option<Scope>,
    g: &Generated,
    sealed_path: &Path,
) -> Result<Scope, SealError> {
    let from_overlay = crate::sealedsecret::scope_of(&g.annotations);
    let Some(scope) = values::requested_scope(root, env, requested) else {
        return Ok(from_overlay);
    };
    // The file declares `scope`; the overlay's annotations (one value per key) are set over
    // the file's.
    let mut renders = g.annotations.clone();
    if let Some(k) = seal::scope_annotation(scope)
        && !renders.iter().any(|(a, _)| a == k)
    {
        renders.push((k.to_owned(), "true".to_owned()));
    }
    match crate::sealedsecret::scope_of(&renders) {
        rendered if rendered == scope => Ok(scope),
        rendered => Err(SealError::RenderedScope {
            file: rel(root, sealed_path),
            declared: scope.as_str(),
            rendered: rendered.as_str(),
        }),
    }
}

/// The one generated Secret the overlay has, and the one generator entry that makes it; refuses
/// an overlay already sealed, several generated Secrets or generators, a hash suffix (unless
/// `--keep-name`), and a generator that does not create.
fn the_generator<'o>(
    root: &Path,
    overlay: &'o Overlay,
    env: &str,
    keep_name: bool,
) -> Result<(&'o Generated, &'o GeneratorSpec), MigrateError> {
    if let Some(s) = overlay
        .secret_sources()
        .iter()
        .find_map(SecretSource::as_sealed)
    {
        // `seal` reads its file the same way (failing here too) and refuses a `List` item.
        let target = seal::target(root, s);
        let read = seal::SealedFile::read(root, &target.file)?;
        let (file, parsed) = (read.name.clone(), read.parse()?);
        let listed = match target.refuse_listed(&file, &parsed) {
            Err(SealError::InList { line, .. }) => Some(line),
            _ => None,
        };
        return Err(MigrateError::AlreadySealed {
            env: env.to_owned(),
            file,
            listed,
        });
    }
    let generated: Vec<_> = overlay
        .generated()
        .iter()
        .filter(|g| g.kind == GeneratedKind::Secret)
        .collect();
    let no_generator = || MigrateError::NoGenerator {
        env: env.to_owned(),
    };
    let g = match generated.as_slice() {
        [] => return Err(no_generator()),
        [g] => *g,
        many => {
            return Err(MigrateError::SeveralGenerators {
                env: env.to_owned(),
                count: many.len(),
                names: many
                    .iter()
                    .map(|g| g.original.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    };
    let spec = match g.specs.as_slice() {
        [s] => s,
        [first, ..] => {
            return Err(MigrateError::Unsupported {
                origin: first.origin.to_string(),
                what: format!(
                    "{} generators contribute to `{}` (merge/replace); --migrate moves a single generator",
                    g.specs.len(),
                    g.original.name
                ),
            });
        }
        [] => return Err(no_generator()),
    };
    if g.hash_suffix && !keep_name {
        return Err(MigrateError::HashSuffix {
            origin: spec.origin.to_string(),
            name: g.original.name.clone(),
        });
    }
    if spec.behavior != Behavior::Create {
        return Err(MigrateError::Unsupported {
            origin: spec.origin.to_string(),
            what: "the generator does not use `behavior: create`".to_owned(),
        });
    }
    Ok((g, spec))
}

/// Reads the generator where it is declared: a generator file in the overlay directory, or an
/// inline `secretGenerator:` entry of the overlay's own kustomization (`kust_path`).
fn read_generator(
    root: &Path,
    dir: &Path,
    kust_path: &Path,
    spec: &GeneratorSpec,
    name: &str,
) -> Result<GeneratorInfo, MigrateError> {
    let origin = spec.origin.to_string();
    // `join` keeps an absolute path as it is.
    let gen_path = root.join(&spec.origin.file);
    let refused = match (spec.from_generators_file, gen_path == kust_path) {
        // Configuration given inline under `generators:` is text in a string of the
        // kustomization, which --migrate does not rewrite.
        (true, true) => Some("the generator is configuration given inline under `generators:`; --migrate moves a `secretGenerator:` entry or a `generators:` file only".to_owned()),
        (true, false) if gen_path.parent() != Some(dir) => Some(format!(
            "the generator file is not in the overlay directory {}; --migrate edits only the overlay's own kustomization",
            rel(root, dir)
        )),
        (false, false) => Some(format!(
            "the secretGenerator entry is in {}, not in the overlay's own kustomization; --migrate edits only that one",
            rel(root, &gen_path)
        )),
        _ => None,
    };
    if let Some(what) = refused {
        return Err(MigrateError::Unsupported { origin, what });
    }
    let text = fsio::read_to_string_limited(&gen_path, MAX_INPUT_BYTES)?;
    let doc = yaml_serde::from_str::<Value>(&text).unwrap_or(Value::Null);
    if spec.from_generators_file {
        refuse_literals_without_equals(&spec.origin.file, &text, &[], &doc)?;
        return Ok(generator_info(
            GeneratorSite::File(gen_path),
            &doc,
            None,
            spec,
        ));
    }
    let entries: Vec<(usize, &Value)> = (doc.get("secretGenerator").and_then(Value::as_sequence))
        .into_iter()
        .flatten()
        .enumerate()
        .filter(|(_, e)| e.get("name").and_then(Value::as_str) == Some(name))
        .collect();
    let [(index, entry)] = entries.as_slice() else {
        return Err(MigrateError::Unsupported {
            origin,
            what: format!(
                "`secretGenerator:` has {} entries named `{name}`; --migrate moves exactly one",
                entries.len()
            ),
        });
    };
    let at = [Seg::from("secretGenerator"), Seg::Index(*index)];
    refuse_literals_without_equals(&spec.origin.file, &text, &at, entry)?;
    Ok(generator_info(
        GeneratorSite::Inline(name.to_owned()),
        entry,
        doc.get("generatorOptions"),
        spec,
    ))
}

/// The Secret's `type`, the generator's `options.labels` and `options.annotations` over the
/// kustomization's `generatorOptions` ones (kustomize `api/types/generatoroptions.go`
/// `MergeGlobalOptionsIntoLocal`: the entry's own value wins), whether the Secret is immutable
/// (the model's [`GeneratorSpec::immutable`], merged the same way: a global `immutable: true`
/// cannot be turned off locally), and its `literals:`.
fn generator_info(
    site: GeneratorSite,
    entry: &Value,
    global: Option<&Value>,
    spec: &GeneratorSpec,
) -> GeneratorInfo {
    let map = |name: &str| -> Vec<(String, String)> {
        let pairs = |o: Option<&Value>| kustomize::string_pairs(o.and_then(|o| o.get(name)));
        let mut all: BTreeMap<String, String> = pairs(global).into_iter().collect();
        let local = pairs(entry.get("options"));
        if all.is_empty() {
            return local;
        }
        all.extend(local);
        all.into_iter().collect()
    };
    let literals = (entry.get("literals").and_then(Value::as_sequence))
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(literal)
        .collect();
    GeneratorInfo {
        site,
        secret_type: entry.get("type").and_then(Value::as_str).map(str::to_owned),
        labels: map("labels"),
        annotations: map("annotations"),
        // As the model read it: kustomize decodes a kustomization as YAML 1.1, so `immutable:
        // yes` (or `on`, `True`) makes an immutable Secret, which a YAML 1.2 reader misses.
        immutable: spec.immutable == Some(true),
        literals,
    }
}

/// A `literals:` item without `=` would otherwise become a key the Secret needs, named after
/// what may be a piece of a value. Reported at the item's own line of `file` (whose text is
/// `text`; the entry is at `at` in it), as the build model reports it.
fn refuse_literals_without_equals(
    file: &Path,
    text: &str,
    at: &[Seg],
    entry: &Value,
) -> Result<(), MigrateError> {
    let items = entry.get("literals").and_then(Value::as_sequence);
    let no_equals = |l: &Value| l.as_str().is_some_and(|l| !l.contains('='));
    let Some(i) = items.into_iter().flatten().position(no_equals) else {
        return Ok(());
    };
    let path = [at, &[Seg::from("literals"), Seg::Index(i)]].concat();
    let line = 1 + yamlpos::Layout::new(text).line_of(text, &path);
    Err(MigrateError::LiteralWithoutEquals {
        origin: format!("{}:{line}", file.display()),
        item: i + 1,
    })
}

/// The generator's env files hold only `KEY=value` lines, as `seal` requires of `--from`: a
/// line without `=` or a value pasted over several lines would become a key the Secret needs,
/// named after what may be a piece of a value. Refused naming the file and line only. An env
/// file that is there but cannot be read (too large, not a file, unreadable) is refused too:
/// the keys it gives the Secret would be unknown and lost. One that is not there on this
/// machine (an untracked env file) gives no keys; the values come from `--from`.
fn refuse_generator_non_keys(root: &Path, spec: &GeneratorSpec) -> Result<(), MigrateError> {
    for e in &spec.envs {
        // `join` keeps an absolute path as it is.
        let path = root.join(&e.path);
        let bytes = match fsio::read_limited(&path, MAX_INPUT_BYTES) {
            Ok(b) => zeroize::Zeroizing::new(b),
            Err(fsio::FsError::NotFound { .. }) => continue,
            Err(e) => return Err(SealError::from(e).into()),
        };
        let name = rel(root, &path);
        envfile::parse_with_path(Path::new(&name), &bytes)
            .and_then(|f| f.refuse_non_keys_with_path(Path::new(&name)))
            .map_err(SealError::from)?;
    }
    Ok(())
}

/// One `literals:` item as kustomize reads it (`api/kv/kv.go` `parseLiteralSource`): split at
/// the first `=`, and one pair of matching surrounding quotes removed from the value.
fn literal(item: &str) -> Option<(String, SecretValue)> {
    let (k, v) = item.split_once('=')?;
    if k.is_empty() {
        return None;
    }
    let v = match v.as_bytes() {
        [q, .., e] if q == e && (*q == b'"' || *q == b'\'') => &v[1..v.len() - 1],
        _ => v,
    };
    Some((k.to_owned(), SecretValue::from_slice(v.as_bytes())))
}

/// Keys the Secret must hold: those the generator makes (when known) and those the workloads
/// read from it.
fn needed_keys(overlay: &Overlay, g: &Generated, spec: &GeneratorSpec) -> BTreeSet<String> {
    let mut needed: BTreeSet<String> = g.keys.iter().flatten().cloned().collect();
    needed.extend(spec.literal_keys.iter().cloned());
    needed.extend(spec.files.iter().map(|f| f.key.clone()));
    needed.extend(seal::keys_read_by_workloads(overlay, &g.rendered.name).into_keys());
    needed
}

/// The values to seal: every key of the env file, then the generator's `literals:` the env file
/// lacks, then any `needed` key still missing (asked for, or an error). Also returns the keys
/// taken from the literals.
fn complete_values(
    env: &str,
    inputs: seal::SealInputs,
    generator: &GeneratorInfo,
    needed: &BTreeSet<String>,
    prompter: &mut dyn Prompter,
) -> Result<(BTreeMap<String, SecretValue>, Vec<String>), MigrateError> {
    let mut values: BTreeMap<String, SecretValue> = inputs
        .env
        .entries
        .into_iter()
        .map(|e| (e.key, e.value))
        .collect();
    let mut from_literals = Vec::new();
    for (k, v) in &generator.literals {
        if !values.contains_key(k) {
            values.insert(k.clone(), v.duplicate());
            from_literals.push(k.clone());
        }
    }
    let has = |k: &str| values.contains_key(k);
    let asked = values::ask_missing(env, &inputs.from_name, needed, has, prompter, false)?;
    values.extend(asked);
    if values.is_empty() {
        return Err(SealError::NothingToSeal {
            file: inputs.from_name,
        }
        .into());
    }
    Ok((values, from_literals))
}

/// The rendered name to seal for and the `metadata.name` to write: the generator's, or when `hashed`
/// (`--keep-name` for a hash-suffixed generator), both with the hash kustomize would append for
/// these values (the overlay's `namePrefix` still applies; a `nameSuffix`, which would land
/// after the hash, was refused by [`hash_lands_last`] before).
fn target_name(
    g: &Generated,
    generator: &GeneratorInfo,
    values: &BTreeMap<String, SecretValue>,
    hashed: bool,
) -> (String, String) {
    if !hashed {
        return (g.rendered.name.clone(), g.original.name.clone());
    }
    let secret_type = generator.secret_type.as_deref().unwrap_or("Opaque");
    let hash = name_hash(secret_type, values);
    (
        format!("{}-{hash}", g.rendered.name),
        format!("{}-{hash}", g.original.name),
    )
}

/// Under `--keep-name`: refused when a `nameSuffix` puts the hash before the suffix
/// (`<name><suffix>-<hash>`), a name no SealedSecret's `metadata.name` renders to.
fn hash_lands_last(g: &Generated, spec: &GeneratorSpec) -> Result<(), MigrateError> {
    if g.rendered.name.ends_with(&g.original.name) {
        return Ok(());
    }
    Err(MigrateError::Unsupported {
        origin: spec.origin.to_string(),
        what: format!(
            "--keep-name: a nameSuffix renders `{}` as `{}-<hash>`, which a SealedSecret cannot be named to produce",
            g.original.name, g.rendered.name
        ),
    })
}

/// The suffix kustomize appends to a generated Secret's name (kustomize `api/hasher/hasher.go`
/// `encodeSecret` and `encode`): the SHA-256 of the JSON `{"data":{KEY:base64,...},
/// "kind":"Secret","name":"","type":TYPE}` (keys sorted), its first ten hex digits with 0, 1, 3,
/// a and e mapped to g, h, k, m and t. The name is empty because hasher.go looks up
/// `metadata/name` as a single field name, which no Secret has. The JSON holds the values, so
/// it lives in a zeroizing buffer sized up front (no reallocation leaves a copy behind).
fn name_hash(secret_type: &str, values: &BTreeMap<String, SecretValue>) -> String {
    use base64::Engine;
    use sha2::Digest;
    let b64 = base64::engine::general_purpose::STANDARD;
    // Secret keys and types hold no character Go's encoder escapes differently from serde_json.
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let size: usize = values
        .iter()
        .map(|(k, v)| quoted(k).len() + v.len().div_ceil(3) * 4 + 4)
        .sum::<usize>()
        + quoted(secret_type).len()
        + 64;
    let mut json = zeroize::Zeroizing::new(String::with_capacity(size));
    json.push_str("{\"data\":{");
    for (i, (k, v)) in values.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&quoted(k));
        json.push_str(":\"");
        b64.encode_string(v.expose_secret(), &mut json);
        json.push('"');
    }
    json.push_str("},\"kind\":\"Secret\",\"name\":\"\",\"type\":");
    json.push_str(&quoted(secret_type));
    json.push('}');
    let digest = sha2::Sha256::digest(json.as_bytes());
    digest
        .iter()
        .flat_map(|b| [b >> 4, b & 0xf])
        .take(10)
        .map(|n| match n {
            0 => 'g',
            1 => 'h',
            3 => 'k',
            0xa => 'm',
            0xe => 't',
            n => char::from_digit(u32::from(n), 16).unwrap_or('?'),
        })
        .collect()
}

/// The references to the generated Secret that would name no Secret after the migration.
/// Without `hashed`: those kustomize rewrote (a `namePrefix` or `nameSuffix`), which would then
/// name something else than the Secret the SealedSecret makes: kustomize applies the prefix to
/// the SealedSecret (so its Secret keeps the rendered name) but rewrites references only to a
/// Secret it generates or renames, never to one a SealedSecret makes. When `hashed` (`--keep-name`
/// of a hash-suffixed generator): every reference kustomize resolves to the generator: the
/// SealedSecret's name is fixed, so none of them is rewritten to it any more.
fn dangling_references(overlay: &Overlay, g: &Generated, hashed: bool) -> Vec<String> {
    describe_references(overlay, |r| {
        r.rendered_name == g.rendered.name && (hashed || r.name != g.rendered.name)
    })
}

/// References that already name a hashed form of the generator's name (`app-secrets-<hash>`),
/// but not `final_name`, the one the env file's values hash to.
fn other_hash_references(overlay: &Overlay, g: &Generated, final_name: &str) -> Vec<String> {
    let stem = format!("{}-", g.rendered.name);
    describe_references(overlay, |r| {
        r.rendered_name.len() == stem.len() + 10
            && r.rendered_name.starts_with(&stem)
            && r.rendered_name != final_name
    })
}

/// The overlay's references to a Secret that `pick` selects, as `Kind/name (file:line)` with the
/// file's `..` steps resolved (`k8s/base/x.yaml`, not `k8s/overlays/stage/../../base/x.yaml`),
/// sorted and deduplicated.
fn describe_references(
    overlay: &Overlay,
    pick: impl Fn(&kustomize::Reference) -> bool,
) -> Vec<String> {
    let out: BTreeSet<String> = overlay
        .references()
        .iter()
        .filter(|r| r.target_kind == "Secret" && pick(r))
        .map(|r| {
            format!(
                "{}/{} ({}:{})",
                r.referrer_kind,
                r.referrer.name,
                path_str(&r.origin.file),
                r.origin.line
            )
        })
        .collect();
    out.into_iter().collect()
}

/// [`MigrateError::Dangles`] when `refs` is not empty; `keep_name` is whether `--keep-name`
/// keeps a hashed name and, when known, the name the values hash to.
fn refuse_dangling(
    spec: &GeneratorSpec,
    g: &Generated,
    (keep_name, sealed_as): (bool, Option<&str>),
    refs: Vec<String>,
) -> Result<(), MigrateError> {
    if refs.is_empty() {
        return Ok(());
    }
    Err(MigrateError::Dangles {
        origin: spec.origin.to_string(),
        name: g.original.name.clone(),
        rendered: g.rendered.name.clone(),
        keep_name,
        sealed_as: sealed_as.map(str::to_owned),
        refs,
    })
}

/// The overlay's kustomization after the edit: the generator's entry out, the new file in
/// `resources:` after a one-line comment.
fn edit_overlay_kustomization(
    root: &Path,
    kust_path: &Path,
    site: &GeneratorSite,
    to: &Recipient,
) -> Result<String, MigrateError> {
    let old = fsio::read_to_string_limited(kust_path, MAX_INPUT_BYTES)?;
    let comment = format!(
        "Secret {}, sealed for {}/{} ({} scope); was {}.",
        to.who.identity.name,
        to.who.namespace,
        to.who.identity.name,
        to.who.scope.as_str(),
        site.describe(),
    );
    edit_kustomization(&old, site, SEALED_FILE, &comment).map_err(|(line, what)| {
        MigrateError::Kustomization {
            file: rel(root, kust_path),
            line,
            what,
        }
    })
}

/// Writes both files, or neither: the new `sealedsecret.yaml` first, then the kustomization; if
/// the second write fails, the new file is removed again.
///
/// # Errors
/// [`MigrateError::Fs`] (after rolling back).
pub fn commit(plan: &MigratePlan) -> Result<(), MigrateError> {
    fsio::atomic_write(&plan.sealed_path, plan.sealed_text.as_bytes())?;
    if let Err(e) = fsio::atomic_write(&plan.kustomization_path, plan.new_kustomization.as_bytes())
    {
        let _ = std::fs::remove_file(&plan.sealed_path);
        return Err(e.into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The kustomization edit, over the YAML position layer (`yamlpos::block` lines, keys and
// scalars; `yamlpos::flow` for one-line flow lists).

/// A line-level error: 1-based line and what was found.
type LineError = (usize, String);

/// A top-level mapping key on line `i` (`key:` at column 0).
fn top_key<'t>(lines: &Lines<'t>, i: usize) -> Option<std::borrow::Cow<'t, str>> {
    let c = lines.content(i);
    if lines.indent(i) != 0 || lines.is_trivia(i) {
        return None;
    }
    match key_at(c, 0, c.len()) {
        KeyAt::Key(k, _) => Some(k),
        _ => None,
    }
}

/// Where the value after line `i`'s top-level `key:` starts, when there is one (not only blanks
/// or a comment).
fn inline_value(lines: &Lines<'_>, i: usize) -> Option<usize> {
    let c = lines.content(i);
    let KeyAt::Key(_, after) = key_at(c, 0, c.len()) else {
        return None;
    };
    let (start, end) = (lines.lines[i].start, lines.lines[i].end);
    let blanks = c[after..].len() - c[after..].trim_start_matches([' ', '\t']).len();
    (!rest_is_comment(lines.text, start + after, end)).then_some(start + after + blanks)
}

/// A top-level key's line, and the lines of its block that are neither blank nor comments.
fn block(lines: &Lines<'_>, key: &str) -> Option<(usize, Vec<usize>)> {
    let at = (0..lines.len()).find(|&i| top_key(lines, i).as_deref() == Some(key))?;
    let ends_block = |i: usize| {
        top_key(lines, i).is_some()
            || (lines.indent(i) == 0 && !lines.is_trivia(i) && !lines.content(i).starts_with('-'))
    };
    let content = (at + 1..lines.len())
        .take_while(|&i| !ends_block(i))
        .filter(|&i| !lines.is_trivia(i))
        .collect();
    Some((at, content))
}

/// The one-line scalar of a block-list item `- value` on line `i`, read by the layer (quotes
/// decoded, comment dropped).
fn item_value(lines: &Lines<'_>, i: usize) -> Option<String> {
    let c = lines.content(i);
    let t = c.trim_start();
    let rest = t.strip_prefix('-')?;
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    match lines.value_at(i, lines.lines[i].start + (c.len() - t.len()) + 1) {
        Val::Scalar { raw, .. } => Some(raw),
        Val::Empty => Some(String::new()),
        _ => None,
    }
}

fn same_path(a: &str, b: &str) -> bool {
    a.trim_start_matches("./") == b.trim_start_matches("./")
}

/// A one-line flow list of scalars (`[a, "b"]`): each item's decoded text and its bytes as
/// written (quotes included), and the offset of its closing `]`.
struct FlowList {
    items: Vec<(String, std::ops::Range<usize>)>,
    close: usize,
}

impl FlowList {
    /// The edits that take out the items `drop` picks, each with the separator before it (after
    /// it, for the first), leaving the other items, their quotes and the line's comment as
    /// written. `None` when they are all picked.
    fn without(&self, drop: impl Fn(&str) -> bool) -> Option<Vec<Edit>> {
        let kept: Vec<bool> = self.items.iter().map(|(v, _)| !drop(v)).collect();
        let first_kept = kept.iter().position(|k| *k)?;
        let mut edits = Vec::new();
        for (n, (_, span)) in self.items.iter().enumerate().filter(|(n, _)| !kept[*n]) {
            let range = match n < first_kept {
                true => span.start..self.items[n + 1].1.start,
                false => self.items[n - 1].1.end..span.end,
            };
            edits.push(Edit::new(range, String::new()));
        }
        Some(edits)
    }

    /// The edit that appends `item` after the last item (into the brackets of an empty list).
    fn append(&self, item: &str) -> Edit {
        match self.items.last() {
            Some((_, last)) => Edit::new(last.end..last.end, format!(", {item}")),
            None => Edit::new(self.close..self.close, item.to_owned()),
        }
    }
}

/// The flow list `[a, "b"]` on line `i` after its top-level `key:`; `None` when the key has no
/// value on its line (a block list).
///
/// # Errors
/// When the value is no one-line flow list of scalars.
fn flow_list(lines: &Lines<'_>, i: usize, key: &str) -> Result<Option<FlowList>, LineError> {
    let Some(from) = inline_value(lines, i) else {
        return Ok(None);
    };
    let end = lines.lines[i].end;
    let list = match flow::parse(lines.text, from) {
        Ok((flow::Node::Seq { items, span }, after))
            if after <= end && rest_is_comment(lines.text, after, end) =>
        {
            let items = (items.into_iter())
                .map(|n| match n {
                    flow::Node::Scalar(s) if !s.span.is_empty() => Some((s.raw, s.span)),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>();
            items.map(|items| FlowList {
                items,
                close: span.end - 1,
            })
        }
        _ => None,
    };
    list.map(Some).ok_or((
        i + 1,
        format!("`{key}:` is neither a block list nor a simple flow list"),
    ))
}

/// Rewrites a kustomization: removes the generator `entry` (a file in the kustomization's
/// directory, listed by its file name, or an inline entry) (and its list's key when the list
/// becomes empty) and appends `resource` to `resources:` (creating it when absent), touching no
/// other line: comments, order, blank lines and line endings stay. The result is checked by
/// parsing both texts and comparing with the intended structure.
///
/// # Errors
/// `(line, what)` when the layout cannot be edited with certainty.
pub fn edit_kustomization(
    text: &str,
    entry: &GeneratorSite,
    resource: &str,
    comment: &str,
) -> Result<String, LineError> {
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines = Lines::new(text).map_err(|e| (e.line, e.what))?;
    let mut edits = match entry {
        GeneratorSite::File(_) => remove_generator_file(&lines, &entry.describe())?,
        GeneratorSite::Inline(name) => remove_inline_generator(&lines, name)?,
    };
    edits.extend(add_resource(text, &lines, resource, comment, nl)?);
    let out =
        yamlpos::splice(text, edits).map_err(|e| (1, format!("internal check failed: {e}")))?;
    verify_kustomization(text, &out, entry, resource)
        .map_err(|what| (1, format!("internal check failed: {what}")))?;
    Ok(out)
}

/// The whole line `i`, line break included, as an edit that deletes it.
fn delete_line(lines: &Lines<'_>, i: usize) -> Edit {
    let l = lines.lines[i];
    Edit::new(l.start..l.next, String::new())
}

/// Removes `generator` from `generators:` (a block list or a simple flow list).
fn remove_generator_file(lines: &Lines<'_>, generator: &str) -> Result<Vec<Edit>, LineError> {
    let (g_at, item_lines) =
        block(lines, "generators").ok_or((1, "no top-level `generators:` list".to_owned()))?;
    let not_listed = || {
        (
            g_at + 1,
            format!("`{generator}` is not listed in `generators:`"),
        )
    };
    if let Some(listed) = flow_list(lines, g_at, "generators")? {
        if !listed.items.iter().any(|(v, _)| same_path(v, generator)) {
            return Err(not_listed());
        }
        // Emptied, the list goes with its line.
        return Ok(listed
            .without(|v| same_path(v, generator))
            .unwrap_or_else(|| vec![delete_line(lines, g_at)]));
    }
    let mut target = None;
    for &i in &item_lines {
        match item_value(lines, i) {
            Some(v) if same_path(&v, generator) => target = Some(i),
            Some(_) => {}
            None => {
                return Err((
                    i + 1,
                    "`generators:` holds something other than one-line file entries".to_owned(),
                ));
            }
        }
    }
    let t = target.ok_or_else(not_listed)?;
    let mut edits = vec![delete_line(lines, t)];
    if item_lines.len() == 1 {
        edits.push(delete_line(lines, g_at));
    }
    Ok(edits)
}

/// Removes the block-list item of `secretGenerator:` whose `name:` is `name`: every line from
/// its `- ` to its last content line (comments between items stay), and the `secretGenerator:`
/// line when it was the only item. Each item is read as YAML on its own to learn its name, so a
/// `name:` nested deeper (e.g. in `options`) is not mistaken for it.
fn remove_inline_generator(lines: &Lines<'_>, name: &str) -> Result<Vec<Edit>, LineError> {
    let (at, content) = block(lines, "secretGenerator")
        .ok_or((1, "no top-level `secretGenerator:` list".to_owned()))?;
    if inline_value(lines, at).is_some() {
        return Err((at + 1, "`secretGenerator:` is not a block list".to_owned()));
    }
    let indent = content.first().map_or(0, |&i| lines.indent(i));
    // Each item's first (`- `) and last content line.
    let mut items: Vec<(usize, usize)> = Vec::new();
    for &i in &content {
        let item = lines.content(i).trim_start().starts_with('-');
        if lines.indent(i) < indent || (lines.indent(i) == indent && !item) {
            return Err((
                i + 1,
                "`secretGenerator:` is not a list of entries".to_owned(),
            ));
        }
        match items.last_mut() {
            Some((_, last)) if lines.indent(i) > indent => *last = i,
            _ => items.push((i, i)),
        }
    }
    let found: Vec<&(usize, usize)> = (items.iter())
        .filter(|&&(first, last)| {
            inline_item_name(lines, first..=last, indent).as_deref() == Some(name)
        })
        .collect();
    let [(first, last)] = found.as_slice() else {
        return Err((
            at + 1,
            format!(
                "`secretGenerator:` has {} entries named `{name}`; expected exactly one",
                found.len()
            ),
        ));
    };
    let mut edits = vec![Edit::new(
        lines.lines[*first].start..lines.lines[*last].next,
        String::new(),
    )];
    if items.len() == 1 {
        edits.push(delete_line(lines, at));
    }
    Ok(edits)
}

/// The `name:` of one `secretGenerator:` item, read from its lines (dedented by the list's
/// indentation) as a one-element YAML list.
fn inline_item_name(
    lines: &Lines<'_>,
    item: std::ops::RangeInclusive<usize>,
    indent: usize,
) -> Option<String> {
    let text: String = item
        .map(|i| {
            let l = lines.lines[i];
            let t = &lines.text[l.start..l.next];
            let spaces = t.len() - t.trim_start_matches(' ').len();
            &t[spaces.min(indent)..]
        })
        .collect();
    let v: Value = yaml_serde::from_str(&text).ok()?;
    let [entry] = v.as_sequence()?.as_slice() else {
        return None;
    };
    entry.get("name")?.as_str().map(str::to_owned)
}

/// Appends `resource` to `resources:` (a block list or a simple flow list), after a one-line
/// `comment`; creates the list at the end of the file when absent.
fn add_resource(
    text: &str,
    lines: &Lines<'_>,
    resource: &str,
    comment: &str,
    nl: &str,
) -> Result<Vec<Edit>, LineError> {
    let Some((r_at, items)) = block(lines, "resources") else {
        let at = text.len();
        let prefix = if text.is_empty() || text.ends_with('\n') {
            ""
        } else {
            nl
        };
        return Ok(vec![Edit::new(
            at..at,
            format!("{prefix}# {comment}{nl}resources:{nl}  - {resource}{nl}"),
        )]);
    };
    let already = || {
        Err((
            r_at + 1,
            format!("`{resource}` is already listed in `resources:`"),
        ))
    };
    if let Some(list) = flow_list(lines, r_at, "resources")? {
        if list.items.iter().any(|(v, _)| same_path(v, resource)) {
            return already();
        }
        let line = lines.lines[r_at].start;
        return Ok(vec![
            Edit::new(line..line, format!("# {comment}{nl}")),
            list.append(resource),
        ]);
    }
    if items
        .iter()
        .any(|&i| item_value(lines, i).is_some_and(|v| same_path(&v, resource)))
    {
        return already();
    }
    let (indent, at) = match items.last() {
        Some(&last) => {
            if item_value(lines, last).is_none() {
                return Err((
                    last + 1,
                    "`resources:` holds something other than one-line entries".to_owned(),
                ));
            }
            (" ".repeat(lines.indent(last)), lines.lines[last].next)
        }
        None => ("  ".to_owned(), lines.lines[r_at].next),
    };
    let prefix = if text[..at].ends_with('\n') { "" } else { nl };
    Ok(vec![Edit::new(
        at..at,
        format!("{prefix}{indent}# {comment}{nl}{indent}- {resource}{nl}"),
    )])
}

/// Parses both texts and checks that the new one is the old one with exactly the intended
/// change: the generator entry gone (its list too when emptied), `resource` appended.
fn verify_kustomization(
    old: &str,
    new: &str,
    entry: &GeneratorSite,
    resource: &str,
) -> Result<(), String> {
    let parse = |text: &str, which: &str| {
        yaml_serde::from_str::<Value>(text)
            .map_err(|e| format!("{which} text: {}", crate::yamlpos::error_message(&e)))
    };
    let (mut want, got) = (parse(old, "old")?, parse(new, "new")?);
    let m = want
        .as_mapping_mut()
        .ok_or("the kustomization is not a mapping")?;
    let file = entry.describe();
    let key = match entry {
        GeneratorSite::File(_) => "generators",
        GeneratorSite::Inline(_) => "secretGenerator",
    };
    let is_entry = |v: &Value| match entry {
        GeneratorSite::File(_) => v.as_str().is_some_and(|s| same_path(s, &file)),
        GeneratorSite::Inline(n) => v.get("name").and_then(Value::as_str) == Some(n.as_str()),
    };
    let list = m
        .get_mut(key)
        .and_then(Value::as_sequence_mut)
        .ok_or(format!("no {key} list"))?;
    let before = list.len();
    list.retain(|v| !is_entry(v));
    if before - list.len() != 1 {
        return Err(format!("{key} does not hold exactly one such entry"));
    }
    if list.is_empty() {
        m.remove(key);
    }
    match m.get_mut("resources") {
        Some(Value::Sequence(r)) => r.push(resource.into()),
        // `resources:` with nothing after it: kustomize reads no resource.
        Some(Value::Null) | None => {
            m.insert("resources".into(), Value::Sequence(vec![resource.into()]));
        }
        Some(_) => return Err("resources is not a list".to_owned()),
    }
    if want == got {
        Ok(())
    } else {
        Err("the edited kustomization does not read back as intended".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &str = "# head\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\nresources:\n  - ../../base # base\n\n# the generator\ngenerators:\n  - secret-generator.yaml\n\nimages:\n  - name: x\n";

    /// `t` with the generator file `g` (or the inline entry `app`) removed and `r` added.
    fn edited(t: &str, g: Option<&str>, r: &str) -> String {
        let entry = g.map_or(GeneratorSite::Inline("app".into()), |g| {
            GeneratorSite::File(g.into())
        });
        edit_kustomization(t, &entry, r, "c").expect("edits")
    }

    #[test]
    fn block_lists() {
        assert_eq!(
            edited(K, Some("secret-generator.yaml"), "sealedsecret.yaml"),
            "# head\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\nresources:\n  - ../../base # base\n  # c\n  - sealedsecret.yaml\n\n# the generator\n\nimages:\n  - name: x\n"
        );
    }

    /// A flow list is edited in place: its other items keep their quotes, the line its
    /// comment; `resources:` with nothing after it takes the new entry.
    #[test]
    fn flow_lists_keep_quotes_and_comments_and_an_empty_resources_takes_the_entry() {
        for (t, want) in [
            (
                "resources: [cm.yaml]   # keep me\ngenerators: [g.yaml]\n",
                "# c\nresources: [cm.yaml, s.yaml]   # keep me\n",
            ),
            (
                "resources: []  # empty\ngenerators: [g.yaml]\n",
                "# c\nresources: [s.yaml]  # empty\n",
            ),
            (
                "resources: [\"cm.yaml\", 'x', y,]\ngenerators: [\"a b.yaml\", 'g.yaml', c] # gens\n",
                "# c\nresources: [\"cm.yaml\", 'x', y, s.yaml,]\ngenerators: [\"a b.yaml\", c] # gens\n",
            ),
            (
                "generators: [ g.yaml , c ]\nresources:   # none yet\n",
                "generators: [ c ]\nresources:   # none yet\n  # c\n  - s.yaml\n",
            ),
        ] {
            assert_eq!(edited(t, Some("g.yaml"), "s.yaml"), want, "{t}");
        }
    }

    #[test]
    fn keeps_other_generators_and_handles_flow_and_missing_resources() {
        let t = "generators:\n- other.yaml\n- ./secret-generator.yaml\n";
        assert_eq!(
            edited(t, Some("secret-generator.yaml"), "s.yaml"),
            "generators:\n- other.yaml\n# c\nresources:\n  - s.yaml\n"
        );
        let t = "resources: [a.yaml]\ngenerators: [secret-generator.yaml]\n";
        assert_eq!(
            edited(t, Some("secret-generator.yaml"), "s.yaml"),
            "# c\nresources: [a.yaml, s.yaml]\n"
        );
        let crlf = "resources:\r\n  - a\r\ngenerators:\r\n  - g.yaml\r\n";
        assert_eq!(
            edited(crlf, Some("g.yaml"), "s.yaml"),
            "resources:\r\n  - a\r\n  # c\r\n  - s.yaml\r\n"
        );
    }

    /// Every text in `texts` is refused when asked to drop `entry` and add `sealedsecret.yaml`.
    fn refuses(entry: &GeneratorSite, texts: &[&str]) {
        for t in texts {
            assert!(
                edit_kustomization(t, entry, "sealedsecret.yaml", "c").is_err(),
                "{t}"
            );
        }
    }

    #[test]
    fn refuses_what_it_cannot_place() {
        refuses(
            &GeneratorSite::File("g.yaml".into()),
            &[
                "resources:\n  - a\n",
                "generators:\n  - other.yaml\n",
                "generators:\n  - apiVersion: builtin\n    kind: SecretGenerator\n",
                "resources:\n  - sealedsecret.yaml\ngenerators:\n  - g.yaml\n",
            ],
        );
    }

    #[test]
    fn removes_one_inline_secret_generator_entry() {
        let t = "resources:\n  - ../../base\n\nsecretGenerator:\n  # the app's secret\n  - name: app\n    envs:\n      - app.env # untracked\n    options:\n      labels:\n        name: other\n\n  - name: other\n    literals:\n      - A=b\nimages: []\n";
        assert_eq!(
            edited(t, None, "s.yaml"),
            "resources:\n  - ../../base\n  # c\n  - s.yaml\n\nsecretGenerator:\n  # the app's secret\n\n  - name: other\n    literals:\n      - A=b\nimages: []\n"
        );
        // The only entry: the key goes too; column-0 items and CRLF line ends.
        let t = "secretGenerator:\r\n- name: app\r\n  literals:\r\n  - A=b\r\n# after\r\nresources: [a.yaml]\r\n";
        assert_eq!(
            edited(t, None, "s.yaml"),
            "# after\r\n# c\r\nresources: [a.yaml, s.yaml]\r\n"
        );
    }

    #[test]
    fn refuses_inline_entries_it_cannot_place() {
        refuses(
            &GeneratorSite::Inline("app".into()),
            &[
                "resources: []\n",
                "secretGenerator: [{name: app, literals: [A=b]}]\n",
                "secretGenerator:\n  - name: other\n",
                "secretGenerator:\n  - name: app\n  - name: app\n    behavior: merge\n",
                "secretGenerator:\n  - name: x\n    options:\n      name: app\n",
                "secretGenerator:\n  - name: app\n  name: x\n",
            ],
        );
    }
}
