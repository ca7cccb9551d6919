//! One level's transforms, in kustomize's order (`api/internal/target/kusttarget_configplugin.go`
//! `configureBuiltinTransformers`): patchesStrategicMerge, patches, namespace, prefix/suffix,
//! labels, annotations, patchesJson6902.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use yaml_serde::Value;

use super::super::docs::{self, Doc};
use super::super::patch::{self, JsonOp, Refusal, Selector};
use super::super::{Deleted, Origin, ProblemKind};
use super::accumulate::Level;
use super::fields::kline;
use super::obj::{
    Obj, Source, effective_ns, get_str, group_of, is_builtin_api, is_cluster_scoped, meta_str,
    name_and_namespace, set_annotation, set_label,
};
use super::{Builder, FileDocs, entry, written};
use crate::yamlpos::Seg;

/// A patch list entry (for `patches` and `patchesJson6902`, decoded: see [`entry`]): its line,
/// and the line its inline `patch:` text starts on.
struct PatchEntry<'a> {
    entry: Cow<'a, Value>,
    line: usize,
    inline_line: usize,
}

impl Builder<'_> {
    pub(super) fn transform(&mut self, level: &Level, acc: &mut Vec<Obj>) {
        for e in self.patch_entries(level, "patchesStrategicMerge") {
            self.patch_strategic_merge(level, &e, acc);
        }
        for e in self.patch_entries(level, "patches") {
            self.patch(level, &e, acc);
        }
        if let Some(ns) = get_str(&level.k, "namespace").filter(|n| !n.is_empty()) {
            set_namespace(acc, ns);
        }
        let renamed_empty = add_prefix_suffix(
            acc,
            get_str(&level.k, "namePrefix").unwrap_or_default(),
            get_str(&level.k, "nameSuffix").unwrap_or_default(),
        );
        for i in renamed_empty {
            let o = &acc[i];
            let msg = format!(
                "the `{}` has an empty metadata.name and is renamed twice (namePrefix, nameSuffix): kustomize panics and fails to build",
                o.kind
            );
            let (file, line) = (o.origin.file.clone(), o.name_line);
            self.problem(ProblemKind::BuildError, &file, line, msg);
        }
        let labels = labels(&level.k);
        if !labels.is_empty() {
            for o in acc.iter_mut() {
                for (key, val) in &labels {
                    set_label(Arc::make_mut(&mut o.value), key, val);
                }
            }
        }
        let annotations = crate::kustomize::string_pairs(level.k.get("commonAnnotations"));
        for o in acc.iter_mut() {
            for (key, val) in &annotations {
                set_annotation(Arc::make_mut(&mut o.value), key, val);
            }
        }
        for e in self.patch_entries(level, "patchesJson6902") {
            self.patch_json6902(level, &e, acc);
        }
        self.check_replica_targets(level, acc);
    }

    /// kustomize's `ReplicaCountTransformer` (api/builtins/ReplicaCountTransformer.go, run after
    /// the patches and renames) fails the build when a `replicas` entry's name is no name an
    /// object of a kind its fieldSpecs select has had (the built-in ones of
    /// api/internal/konfig/builtinpluginconsts/replicas.go, and those of `configurations:`).
    fn check_replica_targets(&mut self, level: &Level, acc: &[Obj]) {
        let builtin = [
            "Deployment",
            "StatefulSet",
            "ReplicaSet",
            "ReplicationController",
        ];
        let mut gvks: Vec<[String; 3]> = builtin
            .map(|k| [String::new(), String::new(), k.into()])
            .into();
        let configured = self.merged.iter().filter(|(fs, _)| fs.list == "replicas");
        gvks.extend(configured.map(|(fs, _)| fs.gvk.clone()));
        let entries = level.k.get("replicas").and_then(Value::as_sequence);
        for (i, r) in entries.into_iter().flatten().enumerate() {
            let name = get_str(r, "name").unwrap_or_default();
            let selected = |o: &Obj, gvk: &[String; 3]| {
                let of = crate::kustomize::refs::split_gvk(&o.kind, &o.api_version);
                crate::kustomize::refs::gvk_selects(gvk.each_ref().map(String::as_str), of)
            };
            let found = acc
                .iter()
                .any(|o| o.had_name(name) && gvks.iter().any(|gvk| selected(o, gvk)));
            if !found && !self.failed() {
                let msg = format!(
                    "`replicas` entry `{name}` names no object of a kind `replicas` applies to (Deployment, StatefulSet, ReplicaSet, ReplicationController, or one `configurations:` adds): kustomize fails to build (does not match a config with the following GVK)"
                );
                self.problem(
                    ProblemKind::BuildError,
                    &level.kfile,
                    kline(&level.kdoc, "replicas", Some(i)),
                    msg,
                );
            }
        }
    }

    fn patch_strategic_merge(&mut self, level: &Level, e: &PatchEntry<'_>, acc: &mut Vec<Obj>) {
        let Some((docs, file, _)) = self.patch_docs(level, e) else {
            return;
        };
        let docs = without_empty(&docs);
        if self.patch_is_usable(&docs, &file, &level.kfile, e.line, false) {
            for d in docs.iter() {
                self.apply_smp(d, &file, None, false, acc);
            }
        }
    }

    /// A `patches:` entry: strategic-merge or JSON6902, by its content (kustomize
    /// api/internal/builtins/PatchTransformer.go).
    fn patch(&mut self, level: &Level, e: &PatchEntry<'_>, acc: &mut Vec<Obj>) {
        let target = e.entry.get("target").map(Selector::from_value);
        let Some((docs, file, null_first)) = self.patch_docs(level, e) else {
            return;
        };
        if empty_json(&docs) {
            let msg = "the patch is an empty list (`[]`), both a strategic-merge and a JSON patch: kustomize fails to build (illegally qualifies as both an SM and JSON patch)".to_owned();
            self.problem(ProblemKind::BuildError, &level.kfile, e.line, msg);
            return;
        }
        // kustomize reads the whole text as strategic-merge patches (empty documents dropped)
        // and its first document as a JSON patch; a first document that is empty or `null`
        // is a JSON patch of no operations, so the strategic-merge patches after it make the
        // text both.
        let docs = without_empty(&docs);
        if null_first && !docs.is_empty() {
            let msg = "the patch's first YAML document is empty (`null`, `[]`), which kustomize reads as a JSON patch of no operations, and the documents after it are strategic-merge patches: kustomize fails to build (illegally qualifies as both an SM and JSON patch)".to_owned();
            self.problem(ProblemKind::BuildError, &level.kfile, e.line, msg);
            return;
        }
        if !self.patch_is_usable(&docs, &file, &level.kfile, e.line, target.is_some()) {
            return;
        }
        let json = docs
            .first()
            .filter(|d| d.value.as_ref().is_ok_and(|v| v.is_sequence()));
        match (json, target) {
            (Some(d), Some(t)) => self.apply_json(d, &file, &t, acc, &level.kfile, e.line),
            (Some(_), None) => {
                let msg = "a JSON6902 patch needs a target".to_owned();
                self.problem(ProblemKind::BuildError, &level.kfile, e.line, msg);
            }
            // api/internal/builtins/PatchTransformer.go refuses a target for several.
            (None, Some(_)) if docs.len() > 1 => {
                let msg = format!(
                    "{} strategic-merge patches in one `patches` entry with a `target`: kustomize fails to build (Multiple Strategic-Merge Patches in one `patches` entry is not allowed to set `patches.target` field)",
                    docs.len()
                );
                self.problem(ProblemKind::BuildError, &level.kfile, e.line, msg);
            }
            (None, target) => {
                let rename = self.smp_options(level, e);
                for d in docs.iter() {
                    self.apply_smp(d, &file, target.as_ref(), rename, acc);
                }
            }
        }
    }

    /// A strategic-merge patch's `options` (kustomize api/internal/builtins/PatchTransformer.go
    /// `Config`): whether `allowNameChange` lets the patch's own `metadata.name` replace the
    /// target's (modelled, see [`Self::apply_smp`]). `allowKindChange` lets its kind replace the
    /// target's; the model keeps the kind, so that option makes the overlay not modelled.
    fn smp_options(&mut self, level: &Level, e: &PatchEntry<'_>) -> bool {
        let option = |o: &str| {
            let options = e.entry.get("options");
            options.and_then(|m| m.get(o)).and_then(Value::as_bool) == Some(true)
        };
        if option("allowKindChange") {
            let msg = "patch option `allowKindChange` is not modelled: rendered kinds and names may differ".to_owned();
            self.problem(ProblemKind::NotModelled, &level.kfile, e.line, msg);
        }
        option("allowNameChange")
    }

    fn patch_json6902(&mut self, level: &Level, e: &PatchEntry<'_>, acc: &mut [Obj]) {
        let Some(t) = e.entry.get("target").map(Selector::from_value) else {
            let msg = "a patchesJson6902 entry needs a target".to_owned();
            self.problem(ProblemKind::BuildError, &level.kfile, e.line, msg);
            return;
        };
        let Some((docs, file, _)) = self.patch_docs(level, e) else {
            return;
        };
        match docs.first() {
            Some(d) if !empty_json(&docs) => {
                self.apply_json(d, &file, &t, acc, &level.kfile, e.line)
            }
            // api/internal/builtins/PatchJson6902Transformer.go: "patch appears to be empty".
            _ => {
                let shown = self.shown(&file);
                let msg = format!(
                    "patch {shown} is empty: kustomize fails to build (patch appears to be empty)"
                );
                self.problem(ProblemKind::BuildError, &level.kfile, e.line, msg);
            }
        }
    }

    /// The entries of a patch list with their lines. A `patches`/`patchesJson6902` entry is
    /// decoded as kustomize decodes it ([`entry::decode`]); one kustomize refuses is reported
    /// and left out.
    fn patch_entries<'a>(&mut self, level: &'a Level, key: &str) -> Vec<PatchEntry<'a>> {
        let list = level.k.get(key).and_then(Value::as_sequence);
        let mut out = Vec::new();
        for (i, raw) in list.into_iter().flatten().enumerate() {
            let line = kline(&level.kdoc, key, Some(i));
            if key == "patchesStrategicMerge" {
                // Its entries are the patch text (or path) themselves.
                out.push(PatchEntry {
                    entry: Cow::Borrowed(raw),
                    line,
                    inline_line: line,
                });
                continue;
            }
            let at = [Seg::Key(key.into()), Seg::Index(i)];
            match entry::decode(raw, key == "patchesJson6902", &at) {
                Ok(d) => {
                    let inline = [&at[..], &[Seg::Key(d.patch_key)]].concat();
                    out.push(PatchEntry {
                        entry: Cow::Owned(d.value),
                        line,
                        inline_line: level.kdoc.line_of(&inline),
                    });
                }
                Err((path, why)) => {
                    let msg = format!("`{key}` entry: {why}");
                    let line = level.kdoc.line_of(&path);
                    self.problem(ProblemKind::BuildError, &level.kfile, line, msg);
                }
            }
        }
        out
    }

    /// Inline patch text or a file's documents, with the file they are attributed to, and
    /// whether kustomize reads the text as a JSON patch of no operations ([`null_first`]).
    fn patch_docs(
        &mut self,
        level: &Level,
        e: &PatchEntry<'_>,
    ) -> Option<(FileDocs, PathBuf, bool)> {
        let from = Origin {
            file: level.kfile.clone(),
            line: e.line,
        };
        // A `patch:` field is always inline text; a patchesStrategicMerge entry is when it
        // does not read as a path.
        let inline = get_str(&e.entry, "patch");
        let text = e.entry.as_str().or(inline);
        if let Some(text) = text
            && (inline.is_some()
                || text.contains('\n')
                || text.contains(": ")
                || text.trim_start().starts_with('-'))
        {
            // Inline text: a block scalar starts on the line after its key (or list dash);
            // a one-line value is attributed to that line.
            let first = e.inline_line + usize::from(text.contains('\n'));
            let mut docs = docs::split_docs(text);
            for d in &mut docs {
                d.start_line += first - 1;
                d.error_line += first - 1;
            }
            let null = null_first(text, docs.iter());
            let docs = Arc::new(docs.into_iter().map(Arc::new).collect());
            return Some((docs, level.kfile.clone(), null));
        }
        let path = (self.shared).join(&level.dir, text.or_else(|| get_str(&e.entry, "path"))?);
        if self.outside_root(&level.dir, &path, &from) {
            return None;
        }
        let docs = self.docs(&path, &from)?;
        let text = self.shared.read_text(&path).ok();
        if self.refuse_bad_separator(&path, text.as_deref(), "patch") {
            return None;
        }
        self.record_manifest(&path, &docs);
        let null = text.is_some_and(|text| null_first(&text, docs.iter().map(|d| &**d)));
        Some((docs, path, null))
    }

    /// Whether a patch's documents are something kustomize can apply; otherwise records why it
    /// refuses them, at the kustomization line listing the patch (kustomize
    /// api/internal/builtins/PatchTransformer.go and PatchStrategicMergeTransformer.go: "patch
    /// appears to be empty", "unable to parse SM or JSON patch", "must specify a target for JSON
    /// patch"). Documents that do not parse are reported where they are, as YAML problems.
    fn patch_is_usable(
        &mut self,
        docs: &[Arc<Doc>],
        file: &Path,
        kfile: &Path,
        line: usize,
        targeted: bool,
    ) -> bool {
        let shown = self.shown(file);
        let problem = if docs.is_empty() || empty_json(docs) {
            Some("is empty: kustomize fails to build (patch appears to be empty)")
        } else {
            docs.iter().find_map(|d| {
                let v = d.value.as_ref().ok()?;
                let named = meta_str(v, "name").is_some_and(|n| !n.is_empty());
                let kinded = get_str(v, "kind").is_some_and(|k| !k.is_empty());
                if v.is_sequence() {
                    None
                } else if !v.is_mapping() {
                    Some("is neither a strategic-merge patch nor a JSON patch: kustomize fails to build (unable to parse SM or JSON patch)")
                } else if !(targeted || (named && kinded)) {
                    Some("has no kind and metadata.name and no target: kustomize fails to build (unable to parse SM or JSON patch)")
                } else {
                    None
                }
            })
        };
        let Some(what) = problem else {
            return true;
        };
        self.problem(
            ProblemKind::BuildError,
            kfile,
            line,
            format!("patch {shown} {what}"),
        );
        false
    }

    /// The objects a `target:` selects. A pattern Go's `regexp` refuses fails the build
    /// (kustomize `api/types/selector.go`, `NewSelectorRegex`), whether or not anything would
    /// match.
    fn selected(&mut self, sel: &Selector, acc: &[Obj], file: &Path, line: usize) -> Vec<usize> {
        let matcher = match sel.compile() {
            Ok(m) => m,
            Err(Refusal::Invalid(what)) => {
                let msg = format!("{what}: kustomize fails to build (error parsing regexp)");
                self.problem(ProblemKind::BuildError, file, line, msg);
                return Vec::new();
            }
            Err(Refusal::NotModelled(what)) => {
                let msg = format!("{what} is not modelled");
                self.problem(ProblemKind::NotModelled, file, line, msg);
                return Vec::new();
            }
        };
        (0..acc.len())
            .filter(|&i| matcher.selects(&acc[i].candidate()))
            .collect()
    }

    /// The object a strategic-merge patch without a target applies to: its kind, group, and a
    /// name (and namespace, when it gives one) the object has had. None, or several, fail the
    /// build.
    fn smp_targets(&mut self, pv: &Value, d: &Doc, file: &Path, acc: &[Obj]) -> Vec<usize> {
        let kind = get_str(pv, "kind").unwrap_or_default();
        let name = meta_str(pv, "name").unwrap_or_default();
        let ns = meta_str(pv, "namespace");
        let group = group_of(get_str(pv, "apiVersion").unwrap_or_default());
        let hits: Vec<usize> = (0..acc.len())
            .filter(|&i| {
                let o = &acc[i];
                o.kind == kind && o.group() == group && o.had_id(name, ns)
            })
            .collect();
        // kustomize api/resmap/reswrangler.go `GetById` demands exactly one object with the id
        // among every id each object has had.
        let found = match hits.len() {
            1 => return hits,
            0 if self.failed() => return hits,
            0 => "not found".to_owned(),
            n => format!("matches {n} objects (each has had that name)"),
        };
        let msg = format!("patch target {kind} `{name}` {found}: kustomize fails to build");
        self.problem(ProblemKind::BuildError, file, d.start_line, msg);
        Vec::new()
    }

    /// Applies one strategic-merge patch document to the objects it targets. `rename`: the
    /// patch's `metadata.name` becomes theirs (`options.allowNameChange`).
    fn apply_smp(
        &mut self,
        d: &Arc<Doc>,
        file: &Path,
        target: Option<&Selector>,
        rename: bool,
        acc: &mut Vec<Obj>,
    ) {
        let Ok(pv) = &d.value else { return };
        let idx = match target {
            Some(sel) => self.selected(sel, acc, file, d.start_line),
            None => self.smp_targets(pv, d, file, acc),
        };
        if pv.get("$patch").and_then(Value::as_str) == Some("delete") {
            // kustomize api/filters/patchstrategicmerge (kyaml merge2 `$patch: delete`) leaves
            // nothing of the object, and an emptied object leaves the resource map: dropped at
            // once by api/resmap/reswrangler.go `ApplySmPatch` (a targeted patch), skipped by
            // every later lookup (`GetMatchingResourcesByAnyId`) and dropped from the render
            // (an untargeted one). A later patch naming it finds nothing.
            let patch = Origin {
                file: self.rel(file),
                line: d.start_line,
            };
            self.deleted.extend(idx.iter().map(|&i| Deleted {
                kind: acc[i].kind.clone(),
                name: acc[i].name.clone(),
                patch: patch.clone(),
            }));
            let mut at = 0;
            acc.retain(|_| {
                let keep = !idx.contains(&at);
                at += 1;
                keep
            });
            return;
        }
        if pv.get("$patch").and_then(Value::as_str) == Some("replace") {
            // kyaml merge2 answers a top-level `$patch: replace` with the patch as a new node,
            // but kustomize api/resource/resource.go `ApplyFilter` only asks whether the filter
            // (api/filters/patchstrategicmerge) left anything and keeps the object's own node:
            // the object renders unchanged, names and keys included.
            return;
        }
        // The patch's own metadata never moves the object it patches, and renames it only when
        // allowed (kustomize api/resource/resource.go `ApplySmPatch`).
        let new_name = meta_str(pv, "name")
            .filter(|n| rename && !n.is_empty())
            .map(str::to_owned);
        let mut patch_value = Value::clone(pv);
        if let Some(m) = patch_value
            .get_mut("metadata")
            .and_then(Value::as_mapping_mut)
        {
            m.remove("name");
            m.remove("namespace");
        }
        self.merge_into(d, file, pv, &patch_value, &idx, acc);
        if let Some(name) = new_name {
            self.rename(&idx, &name, acc, file, d.start_line);
        }
    }

    /// Merges `patch_value` (the document `d` of `file`, `pv` as written) into the objects
    /// `idx` of `acc`, recording the values it writes into Secrets and SealedSecrets.
    fn merge_into(
        &mut self,
        d: &Arc<Doc>,
        file: &Path,
        pv: &Value,
        patch_value: &Value,
        idx: &[usize],
        acc: &mut [Obj],
    ) {
        let rel = self.rel(file);
        // A patch that is itself a Secret or SealedSecret document in its own file is read by
        // the rules as such; an inline one, or one of another kind, is not.
        let in_kustomization = file
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| crate::workspace::KUSTOMIZATION_FILE_NAMES.contains(&n));
        let in_document =
            !in_kustomization && matches!(get_str(pv, "kind"), Some("Secret" | "SealedSecret"));
        let line = |field: &[&str], key: &str| {
            let path: Vec<Seg> = field.iter().chain([&key]).map(|k| Seg::from(*k)).collect();
            d.line_of(&path)
        };
        // `$patch` and the other directives are instructions to the merge, not keys it writes.
        let written_value = patch::strip_directives(patch_value);
        for &i in idx {
            let o = &mut acc[i];
            let schema = is_builtin_api(&o.api_version);
            patch::strategic_merge(Arc::make_mut(&mut o.value), patch_value, schema);
            o.sources.push(Source::Doc(Arc::clone(d), rel.clone()));
            if written::holds_values(&o.kind) {
                let object_file = self.rel(&o.origin.file);
                let w = o.write(&object_file, &rel, in_document);
                let values = written::written_values(&w, &[], &written_value, line);
                self.written.extend(values);
            }
        }
    }

    /// `options.allowNameChange`: the objects `idx` take the name `name` (their namespace stays),
    /// the earlier name kept in their history as a prefix or suffix rename keeps it, so later
    /// patches and name references find them by either (kustomize api/resource/resource.go
    /// `ApplySmPatch`, `StorePreviousId`). Two objects left with one id fail the build
    /// (api/resmap/reswrangler.go `ApplySmPatch` re-adds every object: "may not add resource
    /// with an already registered id").
    fn rename(&mut self, idx: &[usize], name: &str, acc: &mut [Obj], file: &Path, line: usize) {
        for &i in idx {
            let ns = acc[i].namespace.clone();
            acc[i].set_identity(name.to_owned(), ns);
        }
        let id = |o: &Obj| {
            let ns = effective_ns(o.namespace.as_deref(), &o.kind).to_owned();
            (o.api_version.clone(), o.kind.clone(), o.name.clone(), ns)
        };
        let clash = idx.iter().find_map(|&i| {
            let renamed = id(&acc[i]);
            let twice = (0..acc.len()).any(|j| j != i && id(&acc[j]) == renamed);
            twice.then_some(renamed)
        });
        if let Some((_, kind, name, _)) = clash {
            let msg = format!(
                "patch renames an object to {kind} `{name}`, which another object already is: kustomize fails to build (may not add resource with an already registered id)"
            );
            self.problem(ProblemKind::BuildError, file, line, msg);
        }
    }

    fn apply_json(
        &mut self,
        d: &Arc<Doc>,
        file: &Path,
        sel: &Selector,
        acc: &mut [Obj],
        kfile: &Path,
        line: usize,
    ) {
        let Some(Value::Sequence(ops)) = d.value.as_deref().ok() else {
            return;
        };
        let parsed: Vec<JsonOp> = ops
            .iter()
            .enumerate()
            .map(|(i, op)| self.json_op(d, file, i, op))
            .collect();
        let idx = self.selected(sel, acc, kfile, line);
        for i in idx {
            let o = &mut acc[i];
            o.sync_metadata();
            for (n, op) in parsed.iter().enumerate() {
                match patch::apply_json_op(Arc::make_mut(&mut o.value), op) {
                    Ok(applied) => self.json_written(d, file, n, op, applied, o),
                    Err(failure) => {
                        self.json_failed(o, op, &failure, file);
                        break;
                    }
                }
            }
            // A patch may rename the object or move it.
            let (name, ns) = name_and_namespace(&o.value);
            o.set_identity(name, ns);
        }
    }

    /// Records what op `n` of the JSON6902 patch `d` (in `file`) wrote into `o`: the values it
    /// wrote into a Secret or SealedSecret, and where the subtree it wrote comes from. An item
    /// it inserted into or removed from a list moves the later items, and the places earlier
    /// ops wrote them move with them.
    fn json_written(
        &mut self,
        d: &Arc<Doc>,
        file: &Path,
        n: usize,
        op: &JsonOp,
        applied: patch::Applied,
        o: &mut Obj,
    ) {
        let rel = self.rel(file);
        if let Some((list, at, delta)) = &applied.shift {
            // Items after `at` moved (none when the op appended, or removed the last).
            let len = crate::yamlpos::value_at(&o.value, list)
                .and_then(Value::as_sequence)
                .map_or(0, Vec::len);
            let moved = if *delta > 0 { at + 1 < len } else { *at < len };
            for s in &mut o.sources {
                if let Source::Json { written, exact, .. } = s {
                    shift_index(written, list, *at, *delta);
                    *exact &= !(moved && list.starts_with(written));
                }
            }
        }
        let Some(written) = applied.written else {
            return;
        };
        if let Some(value) = op.value.as_ref().filter(|_| written::holds_values(&o.kind)) {
            let line = |field: &[&str], key: &str| {
                json_value_line(d, n, &written, field, key).unwrap_or(op.line)
            };
            let object_file = self.rel(&o.origin.file);
            let w = o.write(&object_file, &rel, false);
            let values = written::written_values(&w, &written, value, line);
            self.written.extend(values);
        }
        o.sources.push(Source::Json {
            doc: Arc::clone(d),
            file: rel,
            op: n,
            written,
            exact: true,
        });
    }

    /// An op kustomize cannot apply fails its build. When the model may lack what kustomize has
    /// at that path (a generated object's data, or fields its other transformers write: label
    /// selectors and template labels, template annotations, images, replicas, subjects), the
    /// failure may be the model's own: the op is reported not modelled instead.
    fn json_failed(&mut self, o: &Obj, op: &JsonOp, failure: &patch::OpFailure, file: &Path) {
        const WRITTEN_ELSEWHERE: [&str; 9] = [
            "selector",
            "matchLabels",
            "labels",
            "annotations",
            "image",
            "replicas",
            "subjects",
            "volumeClaimTemplates",
            "podSelector",
        ];
        let top_metadata = |i: usize| i == 1 && op.path.first().is_some_and(|p| p == "metadata");
        let uncertain = o.generated.is_some()
            || op
                .path
                .iter()
                .enumerate()
                .any(|(i, t)| WRITTEN_ELSEWHERE.contains(&t.as_str()) && !top_metadata(i));
        let target = format!("{} `{}`", o.kind, o.name);
        let pointer = op.pointer();
        let (kind, msg) = if uncertain {
            (
                ProblemKind::NotModelled,
                format!(
                    "json patch op `{}` {pointer} on {target} does not apply to the model's object, which may lack what kustomize's other transformers write there: not modelled",
                    op.op
                ),
            )
        } else {
            (
                ProblemKind::BuildError,
                format!(
                    "json patch op `{}` {pointer} on {target}: {}: kustomize fails to build",
                    op.op, failure.why
                ),
            )
        };
        self.problem(kind, file, op.line, msg);
    }

    /// The `i`-th op of a JSON6902 patch; an op the model does not replay is recorded.
    fn json_op(&mut self, d: &Doc, file: &Path, i: usize, op: &Value) -> JsonOp {
        let name = get_str(op, "op").unwrap_or_default().to_owned();
        let path = patch::parse_pointer(get_str(op, "path").unwrap_or_default());
        // The `value:` line when there is one (that is where a reference is written).
        let op_line = if op.get("value").is_some() {
            d.line_of(&[Seg::Index(i), Seg::Key("value".into())])
        } else {
            d.line_of(&[Seg::Index(i)])
        };
        if !matches!(name.as_str(), "add" | "replace" | "remove" | "test") {
            let msg = format!("json patch op `{name}` is not modelled");
            self.problem(ProblemKind::NotModelled, file, op_line, msg);
        } else if name != "test"
            && matches!(path.as_slice(), [k] if k == "kind" || k == "apiVersion")
        {
            // The model keeps an object's kind and apiVersion (as for `allowKindChange`):
            // later patches, name references and the rules would see the old ones.
            let msg = format!(
                "json patch op `{name}` on /{} is not modelled: rendered kinds may differ",
                path[0]
            );
            self.problem(ProblemKind::NotModelled, file, op_line, msg);
        }
        JsonOp {
            op: name,
            path,
            value: op.get("value").cloned(),
            line: op_line,
        }
    }
}

/// The documents of a patch kustomize reads as strategic-merge patches: those that are not
/// empty (`null`, `{}`, `[]`; [`docs::nil_or_empty`]), which it drops (or that do not parse,
/// which are reported where they are).
fn without_empty(docs: &[Arc<Doc>]) -> Vec<Arc<Doc>> {
    (docs.iter())
        .filter(|d| !d.value.as_ref().is_ok_and(|v| docs::nil_or_empty(v)))
        .cloned()
        .collect()
}

/// Whether kustomize reads a `patches:` text as a JSON patch of no operations: it converts the
/// first YAML document to JSON unless the text starts with `[` (api/internal/builtins/
/// PatchTransformer.go, `jsonPatchFromBytes`, through sigs.k8s.io/yaml `YAMLToJSON`), and an
/// empty first document, a `null` one or an empty list (`[]` after a comment) converts to
/// `null` or `[]`, which decode as no operations.
fn null_first<'d>(text: &str, mut docs: impl Iterator<Item = &'d Doc>) -> bool {
    let no_ops = |v: &Value| v.is_null() || v.as_sequence().is_some_and(Vec::is_empty);
    !text.starts_with('[')
        && (docs::first_document_empty(text)
            || docs
                .next()
                .is_some_and(|d| d.value.as_ref().is_ok_and(|v| no_ops(v))))
}

/// Whether a patch is one empty list (`[]`), which kustomize reads as an empty JSON patch and
/// an empty list of strategic-merge patches alike.
fn empty_json(docs: &[Arc<Doc>]) -> bool {
    let empty = |d: &Arc<Doc>| {
        d.value
            .as_ref()
            .is_ok_and(|v| v.as_sequence().is_some_and(Vec::is_empty))
    };
    matches!(docs, [d] if empty(d))
}

/// Moves a list index in `written` when an item was inserted into (`delta` 1) or removed from
/// (`delta` -1) the list at `list`, at index `at`. A path into the removed item is left pointing
/// nowhere (past any index).
fn shift_index(written: &mut [Seg], list: &[Seg], at: usize, delta: isize) {
    if !written.starts_with(list) {
        return;
    }
    if let Some(Seg::Index(i)) = written.get_mut(list.len())
        && *i >= at
    {
        *i = match delta {
            1 => *i + 1,
            _ if *i == at => usize::MAX,
            _ => *i - 1,
        };
    }
}

/// The line of `key` inside the value of op `n` of the JSON 6902 patch `d`, which writes at the
/// key path `written` a mapping holding `field`; `None` when the op writes `key` itself (its
/// `value:` line is then the key's line).
fn json_value_line(d: &Doc, n: usize, written: &[Seg], field: &[&str], key: &str) -> Option<usize> {
    let inner = field.get(written.len()..)?.iter().copied().chain([key]);
    let path: Vec<Seg> = [Seg::Index(n), Seg::from("value")]
        .into_iter()
        .chain(inner.map(Seg::from))
        .collect();
    Some(d.line_of(&path))
}

/// The labels kustomize's `LabelTransformer` adds to every object's `metadata.labels`: each
/// `labels:` entry's `pairs`, then `commonLabels` (kustomize
/// `api/internal/target/kusttarget_configplugin.go`; both write `metadata/labels`, creating
/// it). Modelled for the `labelSelector` of the patches that run after them. A null value is
/// the empty string, as kustomize decodes it.
fn labels(k: &Value) -> Vec<(String, String)> {
    let pairs = |m: Option<&Value>| -> Vec<(String, String)> {
        let m = m.and_then(Value::as_mapping).into_iter().flatten();
        m.filter_map(|(k, v)| {
            let v = if v.is_null() { "" } else { v.as_str()? };
            Some((k.as_str()?.to_owned(), v.to_owned()))
        })
        .collect()
    };
    let entries = k.get("labels").and_then(Value::as_sequence);
    let mut out: Vec<(String, String)> = entries
        .into_iter()
        .flatten()
        .flat_map(|e| pairs(e.get("pairs")))
        .collect();
    out.extend(pairs(k.get("commonLabels")));
    out
}

/// kustomize api/filters/namespace: every namespaced object moves to `ns`.
fn set_namespace(acc: &mut [Obj], ns: &str) {
    for o in acc.iter_mut() {
        if o.kind == "Namespace" {
            // builtinpluginconsts/namespace.go: `metadata/name` of kind Namespace is a
            // namespace field, so a Namespace object is renamed to the namespace.
            let keep = o.namespace.clone();
            o.set_identity(ns.to_owned(), keep);
        } else if !is_cluster_scoped(&o.kind) {
            let name = o.name.clone();
            o.set_identity(name, Some(ns.to_owned()));
        }
    }
}

/// kustomize api/internal/builtins/PrefixSuffixTransformer.go. Returns the indexes of the
/// objects whose `metadata.name` was empty and that are now renamed a second time: kustomize
/// records the empty name as no previous name, so its previous names and namespaces no longer
/// pair up and it panics (api/resource/resource.go `PrevIds`, "number of previous names ... not
/// equal"). A non-empty prefix and a non-empty suffix are two renames.
fn add_prefix_suffix(acc: &mut [Obj], prefix: &str, suffix: &str) -> Vec<usize> {
    let mut renamed_empty = Vec::new();
    for (i, o) in acc.iter_mut().enumerate() {
        // PrefixSuffixTransformer.go prefixSuffixFieldSpecsToSkip
        let skip = matches!(o.kind.as_str(), "CustomResourceDefinition" | "Namespace")
            || (o.kind == "APIService" && o.group() == "apiregistration.k8s.io");
        // Only a list kept whole has no name or an empty one (see `lists::expands`):
        // api/filters/prefix and suffix set `metadata/name` only where it is, so `metadata: {}`
        // stays as it is, while `name: ""` becomes the prefix and suffix.
        let has_name = (o.value.get("metadata"))
            .and_then(|m| m.get("name"))
            .is_some_and(Value::is_string);
        if skip || (o.name.is_empty() && !has_name) {
            continue;
        }
        o.prefixes.push(prefix.to_owned());
        o.suffixes.push(suffix.to_owned());
        let name = format!("{prefix}{}{suffix}", o.name);
        let ns = o.namespace.clone();
        o.set_identity(name, ns);
        let renames = (o.prefixes.iter().chain(&o.suffixes))
            .filter(|a| !a.is_empty())
            .count();
        if o.original.name.is_empty() && renames >= 2 {
            renamed_empty.push(i);
        }
    }
    renamed_empty
}
