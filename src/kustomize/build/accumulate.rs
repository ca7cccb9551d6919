//! The walk over kustomization files: one level's resources, configurations, generators and
//! components, then its transforms (kustomize `api/internal/target/kusttarget.go`
//! `accumulateTarget` and `runTransformers`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use yaml_serde::Value;

use super::super::docs::{self, Doc};
use super::super::lists::{self, Listed, expands_doc, is_list};
use super::super::{Origin, ProblemKind};
use super::fields::kline;
use super::fsmerge::{self, Verdict};
use super::obj::{Obj, Source, effective_ns, get_str, meta_str, metadata_identity, str_list};
use super::{Builder, YAML_SYNTAX_PREFIX, config, lock};
use crate::workspace::kustomization_file;
use crate::workspace::lexical;
use crate::yamlpos::Seg;

/// One kustomization being accumulated.
pub(super) struct Level {
    pub(super) dir: PathBuf,
    pub(super) kfile: PathBuf,
    pub(super) kdoc: Arc<Doc>,
    /// The kustomization's parsed value (`kdoc`'s).
    pub(super) k: Arc<Value>,
    /// For a generated kustomization (`super::GeneratedTop`): where every entry of it is
    /// reported, there being no file.
    pub(super) fixed: Option<Origin>,
}

impl Level {
    /// Where `key` (or its `idx`-th entry) is written.
    pub(super) fn at(&self, key: &str, idx: Option<usize>) -> Origin {
        if let Some(at) = &self.fixed {
            return at.clone();
        }
        Origin {
            file: self.kfile.clone(),
            line: kline(&self.kdoc, key, idx),
        }
    }
}

impl Builder<'_> {
    /// Accumulates the kustomization in `dir` into `acc` and applies its transforms.
    pub(super) fn accumulate(
        &mut self,
        dir: &Path,
        acc: &mut Vec<Obj>,
        is_component: bool,
        from: &Origin,
    ) {
        // A base or component outside the repository, which Flux's confined file system
        // refuses (the overlay itself is the build's, not named by a kustomization).
        if !self.stack.is_empty() && self.outside_source(dir, from) {
            return;
        }
        let Some((level, canonical)) = self.open(dir, is_component, from) else {
            return;
        };
        self.stack.push(canonical);
        self.resources(&level, acc);
        self.check_unique_ids(acc);
        self.configurations(&level);
        self.loaded_paths(&level);
        self.inline_generators(&level, acc);
        self.generator_files(&level, acc);
        self.components(&level, acc);
        self.check_not_modelled(&level.k, &level.kdoc, &level.kfile);
        self.transform(&level, acc);
        self.stack.pop();
    }

    /// Reads the kustomization of `dir`; None (with a problem recorded) when there is none, it
    /// is on the current path (a cycle), or it does not parse.
    fn open(&mut self, dir: &Path, is_component: bool, from: &Origin) -> Option<(Level, PathBuf)> {
        if self.stack.is_empty()
            && !is_component
            && let Some((kdoc, at)) = self.generated.take()
        {
            return self.open_generated(dir, kdoc, at);
        }
        let Some(kfile) = kustomization_file(dir) else {
            let msg = format!("{} has no kustomization file", self.shown(dir));
            self.problem_at(ProblemKind::Invalid, from, msg);
            return None;
        };
        let canonical = self.enterable(dir, &kfile, from)?;
        let docs = self.docs(&kfile, from)?;
        self.record_manifest(&kfile, &docs);
        // kustomize decodes the first document only (api/types/kustomization.go, via
        // sigs.k8s.io/yaml): an empty one before the content is an empty kustomization.
        let first_empty =
            (self.shared.read_text(&kfile)).is_ok_and(|text| docs::first_document_empty(&text));
        let Some(kdoc) = docs.first().filter(|_| !first_empty).cloned() else {
            let msg = format!(
                "{} is empty (its first YAML document, the one kustomize reads, holds nothing): kustomize fails to build (kustomization.yaml is empty)",
                self.shown(&kfile)
            );
            self.problem(ProblemKind::BuildError, &kfile, 1, msg);
            return None;
        };
        let mut k = kdoc.value.as_ref().ok()?.clone();
        self.read_yaml11_scalars(&mut k, &kdoc, &kfile);
        if self.stack.is_empty() && !is_component {
            k = self.deployed_top(k);
        }
        let errors = |b: &Self| {
            let is_error = |p: &&super::super::Problem| p.kind == ProblemKind::BuildError;
            b.problems.iter().filter(is_error).count()
        };
        let before = errors(self);
        self.check_fields(&k, &kdoc, &kfile);
        // A kustomization kustomize cannot decode (api/types/kustomization.go: "invalid
        // Kustomization") is the build's one error: nothing of it is read further.
        if errors(self) > before {
            return None;
        }
        if super::fields::decodes_empty(&k) {
            let msg = format!(
                "{} holds nothing but `apiVersion`/`kind` or empty values: kustomize fails to build (kustomization.yaml is empty)",
                self.shown(&kfile)
            );
            self.problem(ProblemKind::BuildError, &kfile, kdoc.start_line, msg);
            return None;
        }
        let level = Level {
            dir: dir.to_path_buf(),
            kfile,
            kdoc,
            k,
            fixed: None,
        };
        self.check_kind(&level, is_component);
        Some((level, canonical))
    }

    /// The canonical path of `kfile`, the kustomization file of `dir`, when the build may enter
    /// it: None (with a problem recorded) when it is on the current path (a cycle) or `dir`
    /// holds another kustomization file too.
    fn enterable(&mut self, dir: &Path, kfile: &Path, from: &Origin) -> Option<PathBuf> {
        // Compared by canonical path, so that a symlinked directory leading back to a
        // kustomization being built is a cycle, not an endless walk (kustomize
        // api/internal/loader/fileloader.go refuses it too: "cycle detected").
        let canonical = std::fs::canonicalize(kfile).unwrap_or_else(|_| kfile.to_path_buf());
        if self.stack.contains(&canonical) {
            let shown = self.shown(kfile);
            let msg = if lexical(kfile) == canonical {
                format!(
                    "cycle through {shown}: it includes itself, and kustomize fails to build (cycle detected)"
                )
            } else {
                format!(
                    "cycle through {shown}: a symlinked directory leads back to {}, which is being built, and kustomize fails to build (cycle detected)",
                    self.shown(&canonical)
                )
            };
            self.problem_at(ProblemKind::BuildError, from, msg);
            return None;
        }
        if let Some(msg) = self.cycle_above(dir, kfile, &canonical) {
            self.problem_at(ProblemKind::BuildError, from, msg);
            return None;
        }
        // kustomize api/internal/target/kusttarget.go `loadKustFile` reads every recognised
        // name and refuses a directory holding more than one.
        let first = kfile.file_name().unwrap_or_default();
        if let Some(other) = crate::workspace::KUSTOMIZATION_FILE_NAMES
            .iter()
            .find(|n| dir.join(n) != kfile && dir.join(n).is_file())
        {
            let msg = format!(
                "{} has both {} and {other}: kustomize fails to build (Found multiple kustomization files)",
                self.shown(dir),
                first.display(),
            );
            let other = dir.join(other);
            self.problem(ProblemKind::BuildError, &other, 1, msg);
            return None;
        }
        Some(canonical)
    }

    /// Why kustomize's loader refuses `dir` as a root, beyond including itself (kustomize
    /// api/internal/loader/fileloader.go, `errIfArgEqualOrHigher`, and the load restrictor the
    /// kustomization file is read through):
    /// - `dir` contains a directory being built (a base above its overlay, `resources: [..]`):
    ///   "cycle detected: candidate root ... contains visited root ...";
    /// - `kfile` is a symbolic link to a file outside what the load restriction lets the build
    ///   read (`dir` under kustomize's default, the source under Flux's): the restrictor
    ///   refuses it, and kustomize finds no kustomization file there.
    fn cycle_above(&self, dir: &Path, kfile: &Path, canonical: &Path) -> Option<String> {
        let real = std::fs::canonicalize(dir).ok()?;
        let bound = self.layer.restrictor.bound(dir);
        let readable = std::fs::canonicalize(bound).unwrap_or_else(|_| real.clone());
        if !canonical.starts_with(&readable) {
            return Some(format!(
                "{} is a symbolic link to {}, outside {}: kustomize reads no kustomization file there and fails to build (unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization')",
                self.shown(kfile),
                self.shown(canonical),
                self.shown(bound),
            ));
        }
        let visited = self
            .stack
            .iter()
            .filter_map(|k| k.parent())
            .find(|v| v.starts_with(&real) && *v != real)?;
        Some(format!(
            "{} contains {}, which is being built (a base cannot be a directory above its overlay), and kustomize fails to build (cycle detected)",
            self.shown(dir),
            self.shown(visited),
        ))
    }

    /// The level of the kustomization the tool deploying `dir` generates for it
    /// (`super::GeneratedTop`, as parsed in `kdoc`), with the fields the objects deploying it set
    /// there; everything about it is reported at `at`.
    fn open_generated(
        &mut self,
        dir: &Path,
        kdoc: Arc<Doc>,
        at: Origin,
    ) -> Option<(Level, PathBuf)> {
        let k = self.deployed_top(kdoc.value.as_ref().ok()?.clone());
        let canonical = std::fs::canonicalize(dir)
            .unwrap_or_else(|_| dir.to_path_buf())
            .join(super::GENERATED_KUSTOMIZATION);
        let level = Level {
            dir: dir.to_path_buf(),
            kfile: at.file.clone(),
            kdoc,
            k,
            fixed: Some(at),
        };
        Some((level, canonical))
    }

    /// The overlay's own kustomization `k` with the fields the objects deploying it set there
    /// (`super::super::deploy`): over its own values, as Flux and Argo CD write them.
    fn deployed_top(&self, k: Arc<Value>) -> Arc<Value> {
        if self.layer.fields.is_empty() {
            return k;
        }
        let mut v = (*k).clone();
        let Some(map) = v.as_mapping_mut() else {
            return k;
        };
        for (field, value, _) in &self.layer.fields {
            map.insert(Value::from(*field), Value::from(value.as_str()));
        }
        Arc::new(v)
    }

    /// A `Component` must be listed under `components:` and nothing else may be.
    fn check_kind(&mut self, level: &Level, is_component: bool) {
        let kind = get_str(&level.k, "kind").unwrap_or("Kustomization");
        // kustomize builds a Component given as the directory to build like a Kustomization
        // (api/internal/target/kusttarget.go `AccumulateTarget` checks kinds only of what it
        // includes).
        let top = self.stack.is_empty() && kind == "Component";
        if top || is_component == (kind == "Component") {
            return;
        }
        let shown = self.shown(&level.kfile);
        let msg = if is_component {
            format!("{shown} is listed under components but is not kind: Component")
        } else {
            format!("{shown} is kind: Component but is listed as a resource")
        };
        let o = level.at("kind", None);
        self.problem(ProblemKind::BuildError, &o.file, o.line, msg);
    }

    /// `resources:` (and the deprecated `bases:`): files and nested kustomizations.
    fn resources(&mut self, level: &Level, acc: &mut Vec<Obj>) {
        for key in ["resources", "bases"] {
            for (i, entry) in str_list(&level.k, key).iter().enumerate() {
                let o = level.at(key, Some(i));
                // kustomize api/internal/target/kusttarget.go `accumulateResources` loads an
                // entry as a local file first, and only then as a directory or a remote base:
                // a vendored `github.com/org/app/x.yaml` is read from disk.
                let path = self.shared.join(&level.dir, entry);
                if !path.is_file() && is_remote(entry) {
                    let msg = format!("remote resource `{entry}` is not fetched");
                    self.problem(ProblemKind::Unfetched, &o.file, o.line, msg);
                    continue;
                }
                if path.is_file() {
                    if !self.outside_root(&level.dir, &path, &o) {
                        self.load_resource_file(&path, acc, &o);
                    }
                } else if path.is_dir() {
                    if self.absolute_root(key, entry, &o) {
                        continue;
                    }
                    let mut sub = Vec::new();
                    self.accumulate(&path, &mut sub, false, &o);
                    acc.extend(sub);
                } else {
                    // `kubectl kustomize` opens a FIFO to read it and waits for a writer.
                    let msg = match crate::fsio::is_special_file(&path) {
                        true => format!(
                            "resource `{entry}` is not a regular file (a FIFO, socket or device): kustomize blocks or fails reading it"
                        ),
                        false => format!(
                            "resource `{entry}` does not exist: kustomize fails to build (accumulating resources: no such file or directory)"
                        ),
                    };
                    self.problem(ProblemKind::Invalid, &o.file, o.line, msg);
                }
            }
        }
    }

    /// `configurations:`: their nameReference entries extend the built-in table. kustomize
    /// decodes the first document of each file only (`config` says how).
    fn configurations(&mut self, level: &Level) {
        for (i, entry) in str_list(&level.k, "configurations").iter().enumerate() {
            let o = level.at("configurations", Some(i));
            let path = self.shared.join(&level.dir, entry);
            if self.outside_root(&level.dir, &path, &o) {
                continue;
            }
            let Some(docs) = self.docs(&path, &o) else {
                continue;
            };
            // The text the run already holds (the file was just split from it).
            let first_empty =
                (self.shared.read_text(&path)).is_ok_and(|text| docs::first_document_empty(&text));
            let Some(d) = docs.first().filter(|_| !first_empty) else {
                continue;
            };
            // A document that does not parse is reported where the file is read.
            let Ok(v) = &d.value else { continue };
            let decoded = match config::decode(v) {
                Ok(c) => c,
                Err((at, msg)) => {
                    let msg = format!("configurations file {}: {msg}", self.shown(&path));
                    self.problem(ProblemKind::BuildError, &path, d.line_of(&at), msg);
                    continue;
                }
            };
            for (at, msg) in decoded.not_modelled {
                let msg = format!("configurations file {}: {msg}", self.shown(&path));
                self.problem(ProblemKind::NotModelled, &path, d.line_of(&at), msg);
            }
            let file = self.rel(&path);
            for (fs, at) in decoded.merged {
                let origin = Origin::new(file.clone(), d.line_of(&at));
                let (kind, msg) = match fsmerge::check(&self.merged, &fs, &origin) {
                    Some(Verdict::Conflict(msg)) => (ProblemKind::BuildError, msg),
                    Some(Verdict::Unknown(msg)) => (ProblemKind::NotModelled, msg),
                    None => {
                        self.merged.push((fs, origin));
                        continue;
                    }
                };
                let msg = format!("configurations file {}: {msg}", file.display());
                self.problem(kind, &path, origin.line, msg);
                self.merged.push((fs, origin));
            }
            for (target, spec, at) in decoded.rules {
                let origin = Origin {
                    file: file.clone(),
                    line: d.line_of(&at),
                };
                self.rules.push(spec.into_rule(target, origin));
            }
        }
    }

    /// `components:`, accumulated into the parent's objects.
    fn components(&mut self, level: &Level, acc: &mut Vec<Obj>) {
        for (i, entry) in str_list(&level.k, "components").iter().enumerate() {
            let o = level.at("components", Some(i));
            if is_remote(entry) {
                // A component transforms its parent's objects: what it does is unknown.
                let msg = format!("remote component `{entry}` is not fetched");
                self.problem(ProblemKind::NotModelled, &o.file, o.line, msg);
                continue;
            }
            if !self.absolute_root("components", entry, &o) {
                self.accumulate(&self.shared.join(&level.dir, entry), acc, true, &o);
            }
        }
    }

    /// Whether `entry` of `key` (a directory to build, or a component) is an absolute path,
    /// which kustomize refuses to build from (api/internal/loader/fileloader.go `New`: "new root
    /// ... cannot be absolute"); recorded as a build error. An absolute file is loaded.
    fn absolute_root(&mut self, key: &str, entry: &str, at: &Origin) -> bool {
        if !Path::new(entry).is_absolute() {
            return false;
        }
        let msg = format!(
            "`{key}` entry `{entry}` is an absolute directory path: kustomize fails to build (new root cannot be absolute)"
        );
        self.problem_at(ProblemKind::BuildError, at, msg);
        true
    }

    fn load_resource_file(&mut self, path: &Path, acc: &mut Vec<Obj>, from: &Origin) {
        if is_pem(path) {
            // kustomize reads it as YAML, and kyaml kio/byteio_reader.go `splitDocuments` fails
            // on the `-----END ...-----` line ("invalid document separator"): a certificate or
            // key listed as a resource.
            let msg = format!(
                "resource {} is a PEM file, not YAML: kustomize fails to build (invalid document separator)",
                self.shown(path)
            );
            self.problem(ProblemKind::BuildError, &from.file, from.line, msg);
            return;
        }
        let Some(docs) = self.docs(path, from) else {
            return;
        };
        let text = self.shared.read_text(path).ok();
        if self.refuse_bad_separator(path, text.as_deref(), "resource") {
            return;
        }
        self.record_manifest(path, &docs);
        let file = self.rel(path);
        // A List's items follow the file's other documents, as kustomize queues them.
        let mut lists: Vec<&Arc<Doc>> = Vec::new();
        for d in docs.iter() {
            let Ok(v) = &d.value else { continue };
            if docs::nil_or_empty(v) {
                continue;
            }
            // Kept in the model even when kustomize would refuse it, so that `seal` still finds
            // the SealedSecret file it must name in its error.
            self.check_object(v, d, path);
            if expands_doc(v, d.alone) {
                lists.push(d);
                continue;
            }
            let kind = get_str(v, "kind").unwrap_or_default().to_owned();
            let api_version = get_str(v, "apiVersion").unwrap_or_default().to_owned();
            let (name, namespace, name_line) = metadata_identity(v, d);
            let origin = Origin {
                file: file.clone(),
                line: d.start_line,
            };
            let mut o = Obj::new(api_version, kind, (name, namespace), Arc::clone(v), origin);
            o.doc_index = d.index;
            o.name_line = name_line;
            o.sources.push(Source::Doc(Arc::clone(d), file.clone()));
            acc.push(o);
        }
        for d in lists {
            self.list_items(d, path, acc);
        }
    }

    /// True (with a build error) when `text`, of the file of objects `path` (a resource, patch
    /// or generator file: `what`), holds a document separator kyaml refuses ([`bad_separator`]).
    /// The caller reads the text once, for this and what else it needs.
    pub(super) fn refuse_bad_separator(
        &mut self,
        path: &Path,
        text: Option<&str>,
        what: &str,
    ) -> bool {
        let Some(line) = text.and_then(bad_separator) else {
            return false;
        };
        let msg = format!(
            "line {line} of {what} {} starts with `---` followed by more than a comment: kustomize fails to build (invalid document separator)",
            self.shown(path)
        );
        self.problem(ProblemKind::BuildError, path, line, msg);
        true
    }

    /// The items of the `List` document `d` ([`crate::kustomize::lists`], lists inside it
    /// expanded too), each an object located at its item.
    fn list_items(&mut self, d: &Arc<Doc>, path: &Path, acc: &mut Vec<Obj>) {
        let Ok(root) = &d.value else { return };
        let file = self.rel(path);
        for listed in lists::items_of_doc(root, d.alone) {
            let (item_at, item) = match listed {
                Listed::Item(at, item) => (at, item),
                Listed::NotASequence(at) => {
                    let msg = format!(
                        "`items` of the `List` in {} is not a list: kustomize fails to build",
                        file.display()
                    );
                    self.problem(ProblemKind::BuildError, path, d.line_of(&at), msg);
                    continue;
                }
            };
            let line = d.line_of(&item_at);
            if !self.check_item(item, &file, line) {
                continue;
            }
            let name_at = [&item_at[..], &[Seg::from("metadata"), Seg::from("name")]].concat();
            let (name, namespace) = super::obj::name_and_namespace(item);
            let api_version = get_str(item, "apiVersion").unwrap_or_default().to_owned();
            let kind = get_str(item, "kind").unwrap_or_default().to_owned();
            let value = Arc::new(item.clone());
            let origin = Origin {
                file: file.clone(),
                line,
            };
            let mut o = Obj::new(
                api_version,
                kind,
                (name, namespace),
                Arc::clone(&value),
                origin,
            );
            o.doc_index = d.index;
            o.name_line = d.line_of(&name_at);
            o.sources.push(Source::Item {
                doc: Arc::clone(d),
                file: file.clone(),
                at: item_at,
                value,
            });
            acc.push(o);
        }
    }

    /// False (with a problem) when a `List` item is not an object kustomize accepts: a mapping
    /// with a `kind` and a string `metadata.name` (api/resource/factory.go).
    fn check_item(&mut self, item: &Value, file: &Path, line: usize) -> bool {
        let Some(what) = object_defect(item) else {
            return true;
        };
        let msg = format!(
            "a `List` item of {} {what}: kustomize fails to build",
            file.display()
        );
        self.problem(ProblemKind::BuildError, file, line, msg);
        false
    }

    /// Records a file the build read as YAML (a resource, a kustomization, a patch) whose every
    /// document parsed, for [`super::ParseCache::manifests`].
    pub(super) fn record_manifest(&self, path: &Path, docs: &[Arc<Doc>]) {
        let mut kinds = Vec::with_capacity(docs.len());
        for d in docs {
            let Ok(v) = &d.value else { return };
            if docs::has_complex_key(v) || ends_early(&d.text) {
                return;
            }
            kinds.push(get_str(v, "kind").unwrap_or_default().to_owned());
        }
        lock(&self.shared.manifests).push((lexical(path), kinds));
    }

    /// Records why a resource document is not a Kubernetes object kustomize accepts: a mapping
    /// with a `kind` and a string `metadata.name` (kustomize api/resource/factory.go: "missing
    /// kind in object", "missing metadata.name in object"). A document with a mapping or list as
    /// a key (an unrendered `{{ }}` template) is a YAML problem, reported as such.
    fn check_object(&mut self, v: &Value, d: &Doc, path: &Path) {
        if docs::has_complex_key(v) {
            self.problem(
                ProblemKind::Invalid,
                path,
                d.start_line,
                format!("{YAML_SYNTAX_PREFIX}a mapping key is itself a mapping or list (an unrendered `{{{{ }}}}` template?)"),
            );
            return;
        }
        // A list's items are checked one by one (`check_item`).
        let Some(what) = object_defect(v).filter(|_| !expands_doc(v, d.alone)) else {
            return;
        };
        let msg = format!(
            "document {} of {} {what}: kustomize fails to build",
            d.index + 1,
            self.shown(path)
        );
        // An empty `metadata.name` is reported where it is written.
        let line = if what.starts_with("has no metadata.name") && meta_str(v, "name").is_some() {
            d.line_of(&[Seg::from("metadata"), Seg::from("name")])
        } else {
            d.start_line
        };
        self.problem(ProblemKind::BuildError, path, line, msg);
    }

    /// kustomize's resource map refuses a second object with the same id (group, version, kind,
    /// name, namespace): api/resmap/reswrangler.go `Append`, "may not add resource with an
    /// already registered id". Checked once the level's resources are accumulated, before any
    /// transform changes the ids. Generated objects count too: two bases generating the same
    /// Secret collide, their names carrying no hash yet (it is added at the top only).
    fn check_unique_ids(&mut self, acc: &[Obj]) {
        let mut seen: HashMap<(&str, &str, &str, &str), &Obj> = HashMap::with_capacity(acc.len());
        for o in acc {
            let key = (
                o.api_version.as_str(),
                o.kind.as_str(),
                o.name.as_str(),
                effective_ns(o.namespace.as_deref(), &o.kind),
            );
            if let Some(first) = seen.insert(key, o) {
                let first = Origin {
                    file: self.rel(&lexical(&first.origin.file)),
                    line: first.origin.line,
                };
                let msg = format!(
                    "{} `{}` is defined twice (also at {first}): kustomize fails to build (may not add resource with an already registered id)",
                    o.kind, o.name
                );
                self.problem(ProblemKind::BuildError, &o.origin.file, o.origin.line, msg);
            }
        }
    }
}

/// Why kustomize refuses `v` as an object (api/resource/factory.go: a mapping with a `kind` and
/// a `metadata.name`), or `None`.
fn object_defect(v: &Value) -> Option<&'static str> {
    if !v.is_mapping() {
        Some("is not a mapping (a Kubernetes object)")
    } else if get_str(v, "kind").is_none_or(str::is_empty) {
        Some("has no kind (missing kind in object)")
    } else if !is_list(v) && meta_str(v, "name").is_none_or(str::is_empty) {
        // A list kept whole (no `items`) needs no name: factory.go asks one of a kind not
        // ending in `List` only.
        Some("has no metadata.name (missing metadata.name in object)")
    } else {
        None
    }
}

/// Whether a document's text holds a `...` line (blanks after it allowed). Only a text holding
/// `...` at a line's start is read line by line.
fn ends_early(text: &str) -> bool {
    (text.starts_with("...") || text.contains("\n..."))
        && text.lines().any(|l| l.trim_end() == "...")
}

/// The 1-based line of the first document separator kyaml refuses in a file of objects: a line
/// after the first that starts with `---` and holds more than blanks and a comment after it
/// (`--- null`, `----`). kyaml `kio/byteio_reader.go`, `splitDocuments`, matches `\n---.*\n`
/// and fails on such a line ("invalid document separator") before any YAML is parsed.
pub(super) fn bad_separator(text: &str) -> Option<usize> {
    (text.split_inclusive('\n').enumerate().skip(1)).find_map(|(i, line)| {
        let rest = line.strip_suffix('\n')?.strip_prefix("---")?.trim();
        (!rest.is_empty() && !rest.starts_with('#')).then_some(i + 1)
    })
}

/// True when a file that is not named as YAML starts with a PEM header.
fn is_pem(path: &Path) -> bool {
    let yamlish = path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["yaml", "yml", "json"]
            .iter()
            .any(|y| e.eq_ignore_ascii_case(y))
    });
    if yamlish {
        return false;
    }
    let mut head = [0u8; 64];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    head[..n].trim_ascii_start().starts_with(b"-----BEGIN ")
}

/// Whether a `resources:`/`components:` entry is a remote target (a URL, a git host path or a
/// `?ref=` query), which kustomize fetches instead of reading from disk.
pub(crate) fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.starts_with("bitbucket.org/")
        || entry.starts_with("git@")
        || entry.contains("?ref=")
}

#[cfg(test)]
mod tests {
    use super::{bad_separator, ends_early};

    #[test]
    fn a_separator_line_holds_nothing_but_a_comment() {
        assert_eq!(bad_separator("a: 1\n--- null\nb: 2\n"), Some(2));
        assert_eq!(bad_separator("a: 1\n----\n"), Some(2));
        // The first line, a comment, blanks, CRLF and a last line without a newline pass.
        for ok in [
            "--- x\na: 1\n",
            "a: 1\n--- # c\n",
            "a: 1\n---  \r\nb: 1\n",
            "a: 1\n--- x",
        ] {
            assert_eq!(bad_separator(ok), None, "{ok:?}");
        }
    }

    #[test]
    fn ends_early_finds_a_dots_line_only() {
        for text in [
            "...\n",
            "a: 1\n...\nb: 2\n",
            "a: 1\n... \t\r\n",
            "a: 1\n...",
        ] {
            assert!(ends_early(text), "{text:?}");
        }
        for text in [
            "",
            "a: ...\n",
            "a: 1\n ...\n",
            "a: 1\n....\n",
            "a: 1\n...x\n",
        ] {
            assert!(!ends_early(text), "{text:?}");
        }
    }
}
