//! Secret and `ConfigMap` generators: inline `configMapGenerator`/`secretGenerator` entries and
//! `generators:` files with `apiVersion: builtin` (kustomize
//! `api/internal/target/kusttarget_configplugin.go` `configureBuiltinGenerators`, ConfigMaps
//! first). Reads env files for key names only.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use yaml_serde::Value;

use super::super::{
    BareEnvKey, Behavior, FileSource, GeneratedKind, GeneratorSpec, Origin, ProblemKind,
};
use super::Builder;
use super::accumulate::Level;
use super::obj::{GenState, Obj, get_str, metadata_identity, str_list, write_meta};
use crate::yamlpos::Seg;

/// One generator entry, inline or from a `generators:` file.
struct Entry<'a> {
    kind: GeneratedKind,
    name: String,
    namespace: Option<String>,
    args: &'a Value,
    /// The kustomization's `generatorOptions` (inline entries only).
    global: Option<&'a Value>,
    /// Its `name:` line.
    origin: Origin,
    from_generators_file: bool,
}

impl Builder<'_> {
    /// `configMapGenerator:` then `secretGenerator:` entries.
    pub(super) fn inline_generators(&mut self, level: &Level, acc: &mut Vec<Obj>) {
        let global = level.k.get("generatorOptions");
        for (key, kind) in [
            ("configMapGenerator", GeneratedKind::ConfigMap),
            ("secretGenerator", GeneratedKind::Secret),
        ] {
            let Some(list) = level.k.get(key).and_then(Value::as_sequence) else {
                continue;
            };
            for (i, args) in list.iter().enumerate() {
                let at = [Seg::Key(key.into()), Seg::Index(i)];
                self.check_generator_fields(args, kind, &level.kdoc, &level.kfile, &at);
                let line = level
                    .kdoc
                    .line_of(&[at[0].clone(), at[1].clone(), "name".into()]);
                let entry = Entry {
                    kind,
                    name: get_str(args, "name").unwrap_or_default().to_owned(),
                    namespace: get_str(args, "namespace").map(str::to_owned),
                    args,
                    global,
                    origin: Origin {
                        file: level.kfile.clone(),
                        line,
                    },
                    from_generators_file: false,
                };
                self.generate(acc, &level.dir, entry);
            }
        }
    }

    /// `generators:` files: only kustomize's builtin generator kinds are modelled.
    pub(super) fn generator_files(&mut self, level: &Level, acc: &mut Vec<Obj>) {
        // The level's generator configurations are one resource map: a second one with the
        // same kind, name and namespace is refused (kustomize api/resmap/reswrangler.go
        // `Append`, "may not add resource with an already registered id").
        let mut declared: Vec<(GeneratedKind, String, Option<String>, Origin)> = Vec::new();
        for (i, entry) in str_list(&level.k, "generators").iter().enumerate() {
            let o = level.at("generators", Some(i));
            if entry.contains('\n') || entry.contains(": ") {
                let msg = "inline generator configuration is not modelled".to_owned();
                self.problem(ProblemKind::NotModelled, &o.file, o.line, msg);
                continue;
            }
            let path = level.dir.join(entry);
            if path.is_dir() {
                let msg = format!("generator directory `{entry}` is not modelled");
                self.problem(ProblemKind::NotModelled, &o.file, o.line, msg);
                continue;
            }
            let Some(docs) = self.docs(&path, &o) else {
                continue;
            };
            for d in docs.iter() {
                let Ok(v) = &d.value else { continue };
                let Some(kind) = self.builtin_generator(v, &path, d) else {
                    continue;
                };
                let (name, namespace, line) = metadata_identity(v, d);
                let origin = Origin {
                    file: path.clone(),
                    line,
                };
                if self.declared_twice(&mut declared, (kind, &name, &namespace), &origin) {
                    continue;
                }
                let entry = Entry {
                    kind,
                    name,
                    namespace,
                    args: v,
                    global: None,
                    origin,
                    from_generators_file: true,
                };
                self.generate(acc, &level.dir, entry);
            }
        }
    }

    /// True (with a problem) when a generator of this kind, name and namespace was declared
    /// before at this level; else records it in `declared`.
    fn declared_twice(
        &mut self,
        declared: &mut Vec<(GeneratedKind, String, Option<String>, Origin)>,
        (kind, name, namespace): (GeneratedKind, &str, &Option<String>),
        at: &Origin,
    ) -> bool {
        let first = declared
            .iter()
            .find(|(k, n, ns, _)| *k == kind && n == name && ns == namespace);
        let Some((_, _, _, first)) = first else {
            declared.push((kind, name.to_owned(), namespace.clone(), at.clone()));
            return false;
        };
        let first = Origin {
            file: self.rel(&super::normalize(&first.file)),
            line: first.line,
        };
        let msg = format!(
            "{}Generator `{name}` is declared twice under `generators:` (also at {first}): kustomize fails to build (may not add resource with an already registered id)",
            kind.kind()
        );
        self.problem(ProblemKind::BuildError, &at.file, at.line, msg);
        true
    }

    /// The kind a generator document produces, or None (with a problem) when it is not a
    /// builtin `SecretGenerator`/`ConfigMapGenerator`.
    fn builtin_generator(
        &mut self,
        v: &Value,
        path: &Path,
        d: &super::super::docs::Doc,
    ) -> Option<GeneratedKind> {
        let api = get_str(v, "apiVersion").unwrap_or_default();
        let gkind = get_str(v, "kind").unwrap_or_default();
        let kind = match gkind {
            "SecretGenerator" => GeneratedKind::Secret,
            "ConfigMapGenerator" => GeneratedKind::ConfigMap,
            _ => {
                let msg = format!("generator kind `{gkind}` is not modelled");
                self.problem(ProblemKind::NotModelled, path, d.start_line, msg);
                return None;
            }
        };
        // kustomize's plugin loader refuses anything but `builtin` without
        // --enable-alpha-plugins (api/internal/plugins/loader/loader.go
        // errOnlyBuiltinPluginsAllowed: "external plugins disabled; unable to load external
        // plugin ...").
        if api != "builtin" {
            let line = d.line_of(&["apiVersion".into()]);
            self.problem(
                ProblemKind::ExternalPlugin,
                path,
                line,
                format!("{gkind} has apiVersion `{api}`, not `builtin`: kustomize takes it for an external plugin and fails to build (external plugins disabled; unable to load external plugin '{gkind}')"),
            );
            return None;
        }
        Some(kind)
    }

    /// Adds the generated object, or merges into / replaces an earlier one (kustomize
    /// api/resmap/reswrangler.go `appendReplaceOrMerge`).
    fn generate(&mut self, acc: &mut Vec<Obj>, dir: &Path, e: Entry<'_>) {
        let behavior = match get_str(e.args, "behavior").unwrap_or("create") {
            "merge" => Behavior::Merge,
            "replace" => Behavior::Replace,
            "create" | "" => Behavior::Create,
            other => {
                let msg = format!("unknown generator behavior `{other}`");
                self.problem(ProblemKind::BuildError, &e.origin.file, e.origin.line, msg);
                return;
            }
        };
        let (spec, keys) = self.spec(dir, &e, behavior);
        let needs_hash = spec.disable_name_suffix_hash != Some(true);
        let kind = e.kind.kind();
        let name = &e.name;
        let existing = acc.iter().position(|o| {
            o.kind == kind && o.group().is_empty() && o.had_id(name, e.namespace.as_deref())
        });
        let msg = match (behavior, existing) {
            (Behavior::Create, Some(_)) => {
                format!("{kind} `{name}` already exists: use behavior merge or replace")
            }
            (Behavior::Create, None) => {
                acc.push(self.created(e, spec, keys, needs_hash));
                return;
            }
            (_, None) => format!(
                "{kind} `{name}` does not exist: kustomize fails to build (does not exist; cannot merge or replace)"
            ),
            (_, Some(i)) => {
                merge_into(&mut acc[i], spec, keys, needs_hash);
                return;
            }
        };
        self.problem(ProblemKind::BuildError, &e.origin.file, e.origin.line, msg);
    }

    fn created(
        &self,
        e: Entry<'_>,
        spec: GeneratorSpec,
        keys: Option<Vec<String>>,
        needs_hash: bool,
    ) -> Obj {
        let mut value = yaml_serde::Mapping::new();
        value.insert("apiVersion".into(), "v1".into());
        value.insert("kind".into(), e.kind.kind().into());
        let mut value = Value::Mapping(value);
        write_meta(&mut value, "name", Some(&e.name));
        write_meta(&mut value, "namespace", e.namespace.as_deref());
        let origin = Origin {
            file: self.rel(&e.origin.file),
            line: e.origin.line,
        };
        let mut o = Obj::new(
            "v1".into(),
            e.kind.kind().into(),
            (e.name, e.namespace),
            Arc::new(value),
            origin,
        );
        o.generated = Some(GenState {
            kind: e.kind,
            original: o.original.clone(),
            specs: vec![spec],
            keys,
        });
        o.needs_hash = needs_hash;
        o
    }

    /// The entry as the model records it, and the keys it produces (None when an env file
    /// could not be read for them).
    fn spec(
        &mut self,
        dir: &Path,
        e: &Entry<'_>,
        behavior: Behavior,
    ) -> (GeneratorSpec, Option<Vec<String>>) {
        // kustomize api/types/generatoroptions.go MergeGlobalOptionsIntoLocal: a local setting
        // wins over generatorOptions.
        let disable = e
            .args
            .get("options")
            .and_then(|o| o.get("disableNameSuffixHash"))
            .or_else(|| e.global.and_then(|g| g.get("disableNameSuffixHash")))
            .and_then(Value::as_bool);
        let mut envs: Vec<PathBuf> = str_list(e.args, "envs")
            .iter()
            .map(|f| dir.join(f))
            .collect();
        envs.extend(get_str(e.args, "env").map(|f| dir.join(f)));
        let mut literal_keys: Vec<String> = Vec::new();
        let mut filled_literals: Vec<String> = Vec::new();
        for (i, l) in str_list(e.args, "literals").iter().enumerate() {
            match l.split_once('=') {
                Some((k, v)) => {
                    literal_keys.push(k.to_owned());
                    // kustomize api/kv/kv.go parseLiteralSource strips one pair of quotes.
                    let unquoted = ['"', '\'']
                        .iter()
                        .find_map(|q| v.strip_prefix(*q)?.strip_suffix(*q))
                        .unwrap_or(v);
                    if !unquoted.is_empty() && !super::super::varsub::is_variable(unquoted) {
                        filled_literals.push(k.to_owned());
                    }
                }
                // kustomize api/kv/kv.go parseLiteralSource: "invalid literal source". Its
                // message quotes the item, which may be a piece of a value: never a key name.
                None => {
                    let msg = format!(
                        "item {} of `literals:` has no '=' (content not shown): kustomize fails to build",
                        i + 1
                    );
                    self.problem(ProblemKind::BuildError, &e.origin.file, e.origin.line, msg);
                }
            }
        }
        let files: Vec<FileSource> = str_list(e.args, "files")
            .iter()
            .map(|f| self.file_source(dir, f))
            .collect();
        let mut bare_env_keys = Vec::new();
        let mut keys = self.env_keys(dir, &envs, &e.origin, &mut bare_env_keys);
        if let Some(k) = keys.as_mut() {
            k.extend(literal_keys.iter().cloned());
            k.extend(files.iter().map(|f| f.key.clone()));
        }
        let spec = GeneratorSpec {
            origin: Origin {
                file: self.rel(&e.origin.file),
                line: e.origin.line,
            },
            from_generators_file: e.from_generators_file,
            behavior,
            envs: envs.iter().map(|p| self.rel(p)).collect(),
            literal_keys,
            filled_literals,
            files,
            disable_name_suffix_hash: disable,
            secret_type: get_str(e.args, "type").map(str::to_owned),
            bare_env_keys,
        };
        (spec, keys)
    }

    /// A `files:` entry, `[key=]path`; the key defaults to the file's name.
    fn file_source(&self, dir: &Path, entry: &str) -> FileSource {
        let (key, path) = match entry.split_once('=') {
            Some((k, p)) => (k.to_owned(), p),
            None => {
                let name = Path::new(entry).file_name().unwrap_or_default();
                (name.to_string_lossy().into_owned(), entry)
            }
        };
        FileSource {
            key,
            path: self.rel(&dir.join(path)),
        }
    }

    /// The key names of `envs`, or None when one of them cannot be read for its keys. The keys
    /// of lines without `=` are also pushed to `bare` (never to be shown).
    fn env_keys(
        &mut self,
        dir: &Path,
        envs: &[PathBuf],
        origin: &Origin,
        bare: &mut Vec<BareEnvKey>,
    ) -> Option<Vec<String>> {
        let mut keys = Some(Vec::new());
        for env in envs {
            if self.outside_root(dir, env, origin) {
                keys = None;
                continue;
            }
            let shown = self.rel(env).display().to_string();
            let failure = match std::fs::read(env) {
                Ok(bytes) => match crate::envfile::parse(&zeroize::Zeroizing::new(bytes)) {
                    Ok(parsed) => {
                        // Never a line that looks like a piece of a value as a key name.
                        if let Some(k) = keys.as_mut() {
                            k.extend(parsed.key_entries().map(|e| e.key.clone()));
                        }
                        let rel = self.rel(env);
                        bare.extend(parsed.bare_entries().map(|e| BareEnvKey {
                            key: e.key.clone(),
                            env: rel.clone(),
                            line: e.line,
                        }));
                        continue;
                    }
                    Err(err) => Some((
                        ProblemKind::BuildError,
                        format!("env file {shown}: {err}: kustomize fails to build"),
                    )),
                },
                // The untracked env file is absent (as on every CI runner) and its tracked
                // `.example` stands in for its keys (rules::model::generated_keys).
                Err(err) if err.kind() == std::io::ErrorKind::NotFound && has_example(env) => None,
                Err(_) => Some((
                    ProblemKind::Invalid,
                    format!("env file {shown} cannot be read: kustomize fails to build"),
                )),
            };
            if let Some((kind, msg)) = failure {
                self.problem(kind, &origin.file, origin.line, msg);
            }
            keys = None;
        }
        keys
    }
}

/// Merges a `merge`/`replace` generator into the object it names.
fn merge_into(o: &mut Obj, spec: GeneratorSpec, keys: Option<Vec<String>>, needs_hash: bool) {
    // Checked against kustomize v5.5: the merged object keeps a hash suffix only when both the
    // old object and the merging generator want one (api/resmap/reswrangler.go
    // appendReplaceOrMerge + api/resource/resource.go CopyMergeMetaDataFieldsFrom).
    o.needs_hash = o.needs_hash && needs_hash;
    let Some(g) = o.generated.as_mut() else {
        return;
    };
    if spec.behavior == Behavior::Replace {
        g.keys = keys;
    } else if let (Some(a), Some(b)) = (g.keys.as_mut(), keys) {
        for k in b {
            if !a.contains(&k) {
                a.push(k);
            }
        }
    } else {
        g.keys = None;
    }
    g.specs.push(spec);
}

/// True when `<env file>.example` exists beside an env file.
fn has_example(env: &Path) -> bool {
    let mut name = env.as_os_str().to_owned();
    name.push(".example");
    Path::new(&name).is_file()
}
