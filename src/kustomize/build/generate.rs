//! Secret and `ConfigMap` generators: inline `configMapGenerator`/`secretGenerator` entries and
//! `generators:` files with `apiVersion: builtin` (kustomize
//! `api/internal/target/kusttarget_configplugin.go` `configureBuiltinGenerators`, ConfigMaps
//! first). Reads env files for key names only.

use std::path::Path;
use std::sync::Arc;

use yaml_serde::Value;

use super::super::docs::Doc;
use super::super::{
    BareEnvKey, Behavior, EnvSource, FileSource, GeneratedKind, GeneratorSpec, Origin, ProblemKind,
};
use super::accumulate::Level;
use super::loaded::EntryDocs;
use super::obj::{GenState, Obj, get_str, metadata_identity, str_list, write_meta};
use super::{Builder, ParseCache};
use crate::fsio::FsError;
use crate::workspace::lexical;
use crate::yamlpos::Seg;

/// The generator configurations declared so far at a level: kind, name, namespace, where.
type Declared = Vec<(GeneratedKind, String, Option<String>, Origin)>;

/// One generator entry, inline or from a `generators:` entry.
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
    /// The document it is written in, and its path there.
    doc: &'a Doc,
    at: Vec<Seg>,
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
                if let Some(g) = global {
                    self.check_global_options(g, &level.kdoc, &level.kfile);
                }
                let line = level
                    .kdoc
                    .line_of(&[at[0].clone(), at[1].clone(), "name".into()]);
                let entry = Entry {
                    kind,
                    name: get_str(args, "name").unwrap_or_default().to_owned(),
                    namespace: get_str(args, "namespace").map(str::to_owned),
                    args,
                    global,
                    origin: Origin::new(&level.kfile, line),
                    from_generators_file: false,
                    doc: &level.kdoc,
                    at: at.to_vec(),
                };
                self.generate(acc, &level.dir, entry);
            }
        }
    }

    /// `generators:` entries, files or inline configuration: only kustomize's builtin generator
    /// kinds are modelled.
    pub(super) fn generator_files(&mut self, level: &Level, acc: &mut Vec<Obj>) {
        // The level's generator configurations are one resource map: a second one with the
        // same kind, name and namespace is refused (kustomize api/resmap/reswrangler.go
        // `Append`, "may not add resource with an already registered id").
        let mut declared: Declared = Vec::new();
        for (i, entry) in str_list(&level.k, "generators").iter().enumerate() {
            let o = level.at("generators", Some(i));
            // A generator file is read through the kustomization's loader, so the load
            // restrictor bounds it (kustomize api/internal/target/kusttarget.go
            // `configureExternalGenerators` accumulates the list as resources); inline
            // configuration is read from the entry's text the same way (`NewResMapFromBytes`),
            // as YAML 1.2 by kyaml, and generates what a file would.
            match self.plugin_entry_docs(level, "generators", entry, &o) {
                Some(EntryDocs::File(path, docs)) => {
                    let text = self.shared.read_text(&path).ok();
                    if self.refuse_bad_separator(&path, text.as_deref(), "generator file") {
                        continue;
                    }
                    for d in docs.iter() {
                        self.generator_doc(level, (&path, d, &o), &mut declared, acc);
                    }
                }
                Some(EntryDocs::Inline(docs)) => {
                    let kfile = level.kfile.clone();
                    let header = literal_block_header(&level.kdoc, o.line);
                    for d in docs {
                        // Located in the kustomization: line by line inside a literal block,
                        // else every node at the entry's line.
                        let d = match header {
                            Some(h) => d.moved_down(h),
                            None => d.pinned_at(o.line),
                        };
                        self.generator_doc(level, (&kfile, &d, &o), &mut declared, acc);
                    }
                }
                None => {}
            }
        }
    }

    /// One generator configuration document `d`, written in `path` and named by the
    /// `generators:` entry at `o`: a builtin `SecretGenerator`/`ConfigMapGenerator` generates
    /// into `acc`; any other kind is reported not modelled, what it loads judged.
    fn generator_doc(
        &mut self,
        level: &Level,
        (path, d, o): (&Path, &Doc, &Origin),
        declared: &mut Declared,
        acc: &mut Vec<Obj>,
    ) {
        let Ok(v) = &d.value else { return };
        if super::super::docs::nil_or_empty(v) {
            return;
        }
        if !matches!(
            get_str(v, "kind"),
            Some("SecretGenerator" | "ConfigMapGenerator")
        ) {
            // Not modelled (reported below), but what it loads is judged.
            self.plugin_config(level, d, o);
        }
        let Some(kind) = self.builtin_generator(v, path, d) else {
            return;
        };
        let (name, namespace, line) = metadata_identity(v, d);
        let origin = Origin::new(path, line);
        if self.declared_twice(declared, (kind, &name, &namespace), &origin) {
            return;
        }
        self.check_generator_file_shapes(v, d, path);
        let entry = Entry {
            kind,
            name,
            namespace,
            args: v,
            global: None,
            origin,
            from_generators_file: true,
            doc: d,
            at: Vec::new(),
        };
        self.generate(acc, &level.dir, entry);
    }

    /// True (with a problem) when a generator of this kind, name and namespace was declared
    /// before at this level; else records it in `declared`.
    fn declared_twice(
        &mut self,
        declared: &mut Declared,
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
        let first = Origin::new(self.rel(&lexical(&first.file)), first.line);
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
        // kustomize api/types/genargs.go `NewGenerationBehavior`: exactly `merge` or `replace`;
        // any other string (`Create`, `MERGE`, a typo) is unspecified, which creates.
        let behavior = match get_str(e.args, "behavior") {
            Some("merge") => Behavior::Merge,
            Some("replace") => Behavior::Replace,
            _ => Behavior::Create,
        };
        if e.name.is_empty() {
            // kustomize api/internal/generators/utils.go `makeBaseNode`.
            let msg = format!(
                "a {} generator without a name: kustomize fails to build (a configmap must have a name)",
                e.kind.kind()
            );
            self.problem(ProblemKind::BuildError, &e.origin.file, e.origin.line, msg);
            return;
        }
        let (spec, keys) = self.spec(dir, &e, behavior);
        let needs_hash = spec.disable_name_suffix_hash != Some(true);
        let kind = e.kind.kind();
        let name = &e.name;
        let existing = acc.iter().position(|o| {
            o.kind == kind && o.group().is_empty() && o.had_id(name, e.namespace.as_deref())
        });
        let (problem, msg) = match (behavior, existing) {
            (Behavior::Create, Some(_)) => (
                ProblemKind::BuildError,
                format!("{kind} `{name}` already exists: use behavior merge or replace"),
            ),
            (Behavior::Create, None) => {
                acc.push(self.created(e, spec, keys, needs_hash));
                return;
            }
            (_, None) => (
                ProblemKind::BuildError,
                format!(
                    "{kind} `{name}` does not exist: kustomize fails to build (does not exist; cannot merge or replace)"
                ),
            ),
            (_, Some(i)) if acc[i].generated.is_some() => {
                merge_into(&mut acc[i], spec, keys, needs_hash);
                return;
            }
            (_, Some(i)) => match keys {
                Some(keys) => {
                    merge_written(&mut acc[i], &spec, keys);
                    return;
                }
                None => (
                    ProblemKind::NotModelled,
                    format!(
                        "{kind} `{name}` is written, and the keys this generator gives it are not known: its keys are not modelled"
                    ),
                ),
            },
        };
        self.problem(problem, &e.origin.file, e.origin.line, msg);
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
        if e.kind == GeneratedKind::Secret {
            write_type(&mut value, &spec);
        }
        let origin = Origin::new(self.rel(&e.origin.file), e.origin.line);
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
        let disable = self.option_flag(e, "disableNameSuffixHash");
        let immutable = self.option_flag(e, "immutable");
        let envs = env_entries(self.shared, dir, e);
        let (literal_keys, filled_literals) = self.literals(e);
        // A problem with one entry is reported at the entry's line, as for `envs:`.
        let files: Vec<FileSource> = (str_list(e.args, "files").iter().enumerate())
            .filter_map(|(i, f)| {
                let at = [Seg::Key("files".into()), Seg::Index(i)];
                let line = e.doc.line_of(&[&e.at[..], &at].concat());
                self.file_source(dir, f, &Origin::new(&e.origin.file, line))
            })
            .collect();
        let mut bare_env_keys = Vec::new();
        let mut keys = self.env_keys(dir, &envs, &e.origin.file, &mut bare_env_keys);
        if let Some(k) = keys.as_mut() {
            k.extend(literal_keys.iter().cloned());
            k.extend(files.iter().map(|f| f.key.clone()));
            self.repeated_key(e, k, &bare_env_keys);
        }
        let spec = GeneratorSpec {
            origin: Origin::new(self.rel(&e.origin.file), e.origin.line),
            from_generators_file: e.from_generators_file,
            behavior,
            envs: (envs.into_iter())
                .map(|s| EnvSource {
                    path: self.rel(&s.path),
                    ..s
                })
                .collect(),
            literal_keys,
            filled_literals,
            files,
            disable_name_suffix_hash: disable,
            immutable,
            secret_type: get_str(e.args, "type").map(str::to_owned),
            bare_env_keys,
        };
        (spec, keys)
    }

    /// The keys of the generator's `literals:` and those of them with a value (not empty, not
    /// a variable). An item kustomize refuses is a problem at its own line, as for `envs:`.
    fn literals(&mut self, e: &Entry<'_>) -> (Vec<String>, Vec<String>) {
        let mut keys: Vec<String> = Vec::new();
        let mut filled: Vec<String> = Vec::new();
        let items = e.args.get("literals").and_then(Value::as_sequence);
        let items = items.into_iter().flatten().enumerate();
        for (i, l) in items.filter_map(|(i, l)| Some((i, l.as_str()?))) {
            match l.split_once('=') {
                Some((k, v)) if !k.is_empty() => {
                    keys.push(k.to_owned());
                    // kustomize api/kv/kv.go parseLiteralSource strips one pair of quotes.
                    let unquoted = ['"', '\'']
                        .iter()
                        .find_map(|q| v.strip_prefix(*q)?.strip_suffix(*q))
                        .unwrap_or(v);
                    if !unquoted.is_empty() && !super::super::varsub::is_variable(unquoted) {
                        filled.push(k.to_owned());
                    }
                }
                // kustomize api/kv/kv.go parseLiteralSource: "invalid literal source". Its
                // message quotes the item, which may be a piece of a value: never a key name.
                _ => {
                    let msg = format!(
                        "item {} of `literals:` has no '=' or no key before it (content not shown): kustomize fails to build",
                        i + 1
                    );
                    let at = [Seg::Key("literals".into()), Seg::Index(i)];
                    let line = e.doc.line_of(&[&e.at[..], &at].concat());
                    self.problem(ProblemKind::BuildError, &e.origin.file, line, msg);
                }
            }
        }
        (keys, filled)
    }

    /// A `files:` entry, `[key=]path`; the key defaults to the file's name. None (with a
    /// problem) when kustomize cannot parse it: api/kv/kv.go `ParseFileSource` (a missing key
    /// or path, more than one '='). A problem, the source kept (its key is known from the
    /// entry), when kustomize refuses its file: outside the load restriction (the file is read
    /// through the kustomization's loader, api/kv/kv.go `keyValuesFromFileSources`; "security;
    /// file ... is not in or below ..."), or a file that cannot be read and has no `.example`
    /// standing in for it (as for `envs:`, see `env_keys`).
    fn file_source(&mut self, dir: &Path, entry: &str, origin: &Origin) -> Option<FileSource> {
        let (key, path) = match entry.split_once('=') {
            None => {
                let name = Path::new(entry).file_name().unwrap_or_default();
                (name.to_string_lossy().into_owned(), entry)
            }
            Some((k, p)) if !k.is_empty() && !p.is_empty() && !p.contains('=') => (k.to_owned(), p),
            Some(_) => {
                let msg = format!(
                    "`files:` entry `{entry}` is not `[key=]path` with one '=' and both parts: kustomize fails to build"
                );
                self.problem(ProblemKind::BuildError, &origin.file, origin.line, msg);
                return None;
            }
        };
        let full = self.shared.join(dir, path);
        // A refused file is not read: whether it exists is not asked.
        let refused = self.outside_root(dir, &full, origin);
        if !refused && !full.is_file() && !has_example(&full) {
            let msg = format!(
                "file {} (`files:` entry for key `{key}`) cannot be read: kustomize fails to build",
                self.shown(&full)
            );
            self.problem(ProblemKind::Invalid, &origin.file, origin.line, msg);
        }
        Some(FileSource {
            key,
            path: self.rel(&full),
        })
    }

    /// The key names of `envs`, or None when one of them cannot be read for its keys. The keys
    /// of lines without `=` are also pushed to `bare` (never to be shown). A problem with an
    /// env file is reported at its entry (its line in the generator's `file`).
    fn env_keys(
        &mut self,
        dir: &Path,
        envs: &[EnvSource],
        file: &Path,
        bare: &mut Vec<BareEnvKey>,
    ) -> Option<Vec<String>> {
        let mut keys = Some(Vec::new());
        for EnvSource { path: env, line } in envs {
            let origin = &Origin::new(file, *line);
            if self.outside_root(dir, env, origin) {
                keys = None;
                continue;
            }
            let shown = self.shown(env);
            let failure = match super::read_file(env) {
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
                Err(FsError::NotFound { .. }) if has_example(env) => None,
                Err(e) => Some((
                    ProblemKind::Invalid,
                    format!(
                        "env file {shown} cannot be read: {}: kustomize fails to build",
                        super::reason(env, &e)
                    ),
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

impl Builder<'_> {
    /// A key a generator entry gives twice (its env files, literals and files together):
    /// kustomize api/internal/generators/utils.go `makeValidatedDataMap` fails ("illegally
    /// repeats the key"). Judged when every env file of the entry was read; one whose `.example`
    /// stands in is the rule `example-generator-mismatch`'s. A key from an env line without '='
    /// is not shown.
    fn repeated_key(&mut self, e: &Entry<'_>, keys: &[String], bare: &[BareEnvKey]) {
        let Some(k) = keys
            .iter()
            .enumerate()
            .find(|(i, k)| keys[..*i].contains(k))
            .map(|(_, k)| k)
        else {
            return;
        };
        let shown = if bare.iter().any(|b| &b.key == k) {
            "a key (from a line without '=', not shown)".to_owned()
        } else {
            format!("key `{k}`")
        };
        let msg = format!(
            "{} generator `{}` gives {shown} twice (env files, literals and files together): kustomize fails to build (illegally repeats the key)",
            e.kind.kind(),
            e.name
        );
        self.problem(ProblemKind::BuildError, &e.origin.file, e.origin.line, msg);
    }

    /// A boolean generator option after `generatorOptions` is merged in (kustomize
    /// api/types/generatoroptions.go `MergeGlobalOptionsIntoLocal`: a global `true` sets the
    /// entry's, whatever the entry says; else the entry's own setting). None when neither sets
    /// it, or one is not a boolean (a problem).
    fn option_flag(&mut self, e: &Entry<'_>, name: &str) -> Option<bool> {
        let local_at = [&e.at[..], &[Seg::from("options"), Seg::from(name)]].concat();
        let local = e.args.get("options").and_then(|o| o.get(name));
        let local = self.bool_field(e, local, &local_at);
        // `generatorOptions` is judged with the kustomization's fields (`fields::NESTED`), and
        // decoded as Go's encoding/json does: any case of the name (`DisableNameSuffixHash`).
        let global = e.global.and_then(Value::as_mapping).and_then(|g| {
            let fields = super::entry::fields(g, &super::fields::GENERATOR_OPTIONS, &[]).ok()?;
            fields.into_iter().find(|(f, ..)| *f == name)?.2.as_bool()
        });
        if global == Some(true) {
            return Some(true);
        }
        local.or(global)
    }

    /// A boolean field as kustomize decodes it. An unquoted YAML 1.1 word (`yes`, `on` ...) in
    /// a kustomization is a boolean already ([`Builder::read_yaml11_scalars`]); a `generators:`
    /// file is read by kyaml as YAML 1.2, like the model. Anything else fails the build ("cannot
    /// unmarshal string into Go struct field ... of type bool").
    fn bool_field(&mut self, e: &Entry<'_>, v: Option<&Value>, at: &[Seg]) -> Option<bool> {
        match v? {
            Value::Null => return None,
            Value::Bool(b) => return Some(*b),
            _ => {}
        }
        let key = match at.last() {
            Some(Seg::Key(k)) => k.as_str(),
            _ => "",
        };
        let msg = format!(
            "`{key}` must be true or false: kustomize fails to build (cannot unmarshal into Go struct field of type bool)"
        );
        self.problem(
            ProblemKind::BuildError,
            &e.origin.file,
            e.doc.line_of(at),
            msg,
        );
        None
    }
}

/// The boolean a YAML 1.1 plain scalar stands for (go-yaml v2 `resolve.go`).
pub(super) fn yaml11_bool(s: &str) -> Option<bool> {
    const TRUE: [&str; 11] = [
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
    ];
    const FALSE: [&str; 11] = [
        "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
    ];
    if TRUE.contains(&s) {
        Some(true)
    } else if FALSE.contains(&s) {
        Some(false)
    } else {
        None
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
    // kustomize keeps the later generated object and merges the earlier one's data into it
    // (api/resmap/reswrangler.go `appendReplaceOrMerge`): the later entry's type wins over one a
    // patch wrote into the earlier.
    if g.kind == GeneratedKind::Secret {
        write_type(Arc::make_mut(&mut o.value), &spec);
    }
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

/// Merges a `merge`/`replace` generator into an object written in a file, not generated
/// (api/resmap/reswrangler.go `appendReplaceOrMerge`): the generated object takes its place, with
/// the written one's metadata and, for `merge`, its `data` and `binaryData` merged in, the
/// generator's keys winning (api/resource/resource.go `MergeDataMapFrom`). The written
/// `stringData` does not survive, nor any other field of its own (`immutable`), and no name hash
/// is added (the written object wants none). The generator's values are not kept: its keys are
/// written with empty values.
fn merge_written(o: &mut Obj, spec: &GeneratorSpec, keys: Vec<String>) {
    let secret = o.kind == "Secret";
    let value = Arc::make_mut(&mut o.value);
    let Some(m) = value.as_mapping_mut() else {
        return;
    };
    let kept: &[&str] = match spec.behavior {
        Behavior::Replace => &["apiVersion", "kind", "metadata"],
        _ => &["apiVersion", "kind", "metadata", "data", "binaryData"],
    };
    m.retain(|k, _| k.as_str().is_some_and(|k| kept.contains(&k)));
    let data = m
        .entry("data".into())
        .or_insert_with(|| Value::Mapping(yaml_serde::Mapping::new()));
    if !data.is_mapping() {
        *data = Value::Mapping(yaml_serde::Mapping::new());
    }
    if let Some(data) = data.as_mapping_mut() {
        for k in keys {
            data.insert(k.into(), "".into());
        }
    }
    if secret {
        write_type(value, spec);
    }
}

/// The generated Secret's `type`, `Opaque` when the entry gives none (kustomize
/// api/internal/generators/secret.go `MakeSecret`): a patch may overwrite it.
fn write_type(value: &mut Value, spec: &GeneratorSpec) {
    if let Some(m) = value.as_mapping_mut() {
        let ty = spec.secret_type.as_deref().unwrap_or("Opaque");
        m.insert("type".into(), ty.into());
    }
}

/// True when `<env file>.example` exists beside an env file.
pub(super) fn has_example(env: &Path) -> bool {
    let mut name = env.as_os_str().to_owned();
    name.push(".example");
    Path::new(&name).is_file()
}

/// A generator's `envs:` files (then its `env:` file), resolved against `dir`, and the line of
/// each entry.
fn env_entries(cache: &ParseCache<'_>, dir: &Path, e: &Entry<'_>) -> Vec<EnvSource> {
    let at = |f: &str, tail: &[Seg]| EnvSource {
        path: cache.join(dir, f),
        line: e.doc.line_of(&[&e.at[..], tail].concat()),
    };
    let envs = str_list(e.args, "envs").into_iter().enumerate();
    let mut out: Vec<EnvSource> = envs
        .map(|(i, f)| at(&f, &[Seg::Key("envs".into()), Seg::Index(i)]))
        .collect();
    out.extend(get_str(e.args, "env").map(|f| at(f, &[Seg::Key("env".into())])));
    out
}

/// When the `generators:` entry at `line` of the kustomization `kdoc` is a literal block scalar
/// (`- |`, `- |-`, `- |2`, a comment after it), the line of its header: the entry's text then
/// starts on the next line, each of its lines on a line of the file. None for any other style
/// (quoted, folded, plain), whose lines do not map onto the file's.
fn literal_block_header(kdoc: &Doc, line: usize) -> Option<usize> {
    let text = kdoc.text.lines().nth(line.checked_sub(kdoc.start_line)?)?;
    let rest = text.trim_start().strip_prefix('-')?.trim_start();
    let rest = rest.strip_prefix('|')?;
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == '+' || c == '-');
    let rest = rest.trim_start();
    (rest.is_empty() || rest.starts_with('#')).then_some(line)
}
