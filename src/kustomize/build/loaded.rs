//! The files and directories kustomize loads through fields the model does not replay
//! (`openapi`, `crds`, `replacements`, the helm fields, and the plugin configurations of
//! `transformers:`, `validators:` and `generators:`), judged against the load restriction the
//! overlay is built with, as the replayed fields' files are (`Builder::outside_root`).
//!
//! kustomize loads each through the kustomization's own loader, relative to the kustomization
//! directory (api/internal/target/kusttarget.go: `accumulateCrds`, `configureBuiltinPlugin`
//! with `kt.ldr`, `configureExternalTransformers`/`configureExternalGenerators` giving the
//! plugins `kt.ldr`; krusty/kustomizer.go and kusttarget.go read `openapi.path` with it; the
//! builtin plugins' `Config` in api/internal/builtins/*.go load `path`, `paths`, `valuesFile`,
//! `additionalValuesFiles` with `h.Loader()`). A path the model cannot judge (not a string, a
//! glob, a directory it does not walk) is recorded as unjudged: under Flux's restriction,
//! `check --render` must not run kustomize unrestricted on the overlay (`Overlay::outside_source`).

use std::path::{Path, PathBuf};

use yaml_serde::Value;

use super::super::deploy::Restrictor;
use super::super::docs::{self, Doc};
use super::super::{Origin, ProblemKind};
use super::accumulate::Level;
use super::obj::str_list;
use super::{Builder, ParseCache};
use crate::yamlpos::Seg;

/// The top-level keys of a builtin plugin's configuration that name files (or, `chartHome` and
/// `configHome`, directories) its loader reads: `PatchTransformer` and `PatchJson6902Transformer`
/// `path`, `PatchStrategicMergeTransformer` `paths`, `HelmChartInflationGenerator` `valuesFile`,
/// `additionalValuesFiles`, `chartHome`, `configHome`, the builtin generators' `files`, `envs`,
/// `env` (api/internal/builtins, api/types/helmchartargs.go, api/types/generatorargs.go).
const PLUGIN_PATH_KEYS: [&str; 9] = [
    "path",
    "paths",
    "valuesFile",
    "additionalValuesFiles",
    "chartHome",
    "configHome",
    "files",
    "envs",
    "env",
];

/// A path field's value: a file or a directory the loader reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A file kustomize (or Helm) reads whole: the build fails without it, and a clone of the
    /// repository must hold it (a build input, as a resource is).
    File,
    /// A generator's `env`/`envs` entry: a file, which may be a real env file kept out of git.
    EnvFile,
    /// A generator's `files:` entry, `[key=]path`: a file, as `EnvFile`.
    FilesEntry,
    Dir,
}

impl Builder<'_> {
    /// Judges every path the level's unreplayed fields make kustomize load.
    pub(super) fn loaded_paths(&mut self, level: &Level) {
        let k = &level.k;
        if let Some(openapi) = k.get("openapi").filter(|v| !v.is_null()) {
            let at = level
                .kdoc
                .line_of(&[Seg::from("openapi"), Seg::from("path")]);
            match openapi.get("path") {
                Some(p) => self.judge(level, p, Target::File, "`openapi.path`", at),
                None if openapi.is_mapping() => {}
                None => self.unjudged(&level.at("openapi", None), "`openapi` is not a mapping"),
            }
        }
        self.judge_list(level, "crds", Target::File);
        for (i, r) in seq(k.get("replacements")).iter().enumerate() {
            let at = [Seg::from("replacements"), Seg::Index(i), Seg::from("path")];
            if let Some(p) = r.get("path") {
                let line = level.kdoc.line_of(&at);
                self.judge(level, p, Target::File, "a `replacements` path", line);
            }
        }
        self.helm(level);
        for key in ["transformers", "validators"] {
            for (i, entry) in str_list(k, key).iter().enumerate() {
                self.plugin_entry(level, key, i, entry);
            }
        }
    }

    /// `helmCharts` values files, `helmGlobals` directories (the chart home defaults to
    /// `charts` in the kustomization directory: api/types/helmchartargs.go), and the deprecated
    /// `helmChartInflationGenerator`, whose many path fields (and `helmBin`) are not judged.
    fn helm(&mut self, level: &Level) {
        let k = &level.k;
        let charts = seq(k.get("helmCharts"));
        for (i, chart) in charts.iter().enumerate() {
            for key in ["valuesFile", "additionalValuesFiles"] {
                let Some(v) = chart.get(key) else { continue };
                let at = [Seg::from("helmCharts"), Seg::Index(i), Seg::from(key)];
                let what = format!("helmCharts `{key}`");
                let line = level.kdoc.line_of(&at);
                if key == "valuesFile" {
                    self.judge(level, v, Target::File, &what, line);
                } else {
                    self.judge_each(level, v, Target::File, &what, line);
                }
            }
        }
        let globals = k.get("helmGlobals");
        for key in ["chartHome", "configHome"] {
            let at = [Seg::from("helmGlobals"), Seg::from(key)];
            let line = level.kdoc.line_of(&at);
            match globals.and_then(|g| g.get(key)) {
                Some(v) => self.judge(level, v, Target::Dir, &format!("`{key}`"), line),
                // Reported at `helmCharts:`, the field that makes kustomize read it.
                None if key == "chartHome" && !charts.is_empty() => {
                    let v = Value::from("charts");
                    let line = level.at("helmCharts", None).line;
                    self.judge(level, &v, Target::Dir, "the default `chartHome`", line);
                }
                None => {}
            }
        }
        if !seq(k.get("helmChartInflationGenerator")).is_empty() {
            let at = level.at("helmChartInflationGenerator", None);
            let why =
                "`helmChartInflationGenerator` names files and programs the model does not judge";
            self.unjudged(&at, why);
        }
    }

    /// Judges each entry of the path list `key` (the field's shape is checked on its own).
    fn judge_list(&mut self, level: &Level, key: &str, target: Target) {
        match level.k.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Sequence(items)) => {
                for (i, v) in items.iter().enumerate() {
                    let line = level.at(key, Some(i)).line;
                    self.judge(level, v, target, &format!("a `{key}` entry"), line);
                }
            }
            Some(other) => {
                let line = level.at(key, None).line;
                self.judge(level, other, target, &format!("`{key}`"), line);
            }
        }
    }

    /// A `transformers:`/`validators:` entry: what its configurations load is judged.
    fn plugin_entry(&mut self, level: &Level, key: &str, i: usize, entry: &str) {
        let at = level.at(key, Some(i));
        match self.plugin_entry_docs(level, key, entry, &at) {
            Some(EntryDocs::Inline(docs)) => {
                for d in &docs {
                    self.plugin_config(level, d, &at);
                }
            }
            Some(EntryDocs::File(_, docs)) => {
                for d in docs.iter() {
                    self.plugin_config(level, d, &at);
                }
            }
            None => {}
        }
    }

    /// The configuration documents of the `key` (`generators`, `transformers`, `validators`)
    /// entry `entry`, named at `at`, as [`classify`] tells it apart: inline ones, or those of a
    /// file the load restriction lets kustomize read. None when there are none to read, with
    /// what the entry is reported: a remote one is not fetched (and, under Flux's restriction,
    /// what its configurations load is unjudged), a directory is not walked
    /// ([`Builder::plugin_directory`]), a path naming nothing fails kustomize's build, a file
    /// outside the restriction is refused.
    pub(super) fn plugin_entry_docs(
        &mut self,
        level: &Level,
        key: &str,
        entry: &str,
        at: &Origin,
    ) -> Option<EntryDocs> {
        match classify(self.shared, &level.dir, entry) {
            Kind::Inline(docs) => return Some(EntryDocs::Inline(docs)),
            Kind::Remote => {
                if key == "generators" {
                    let msg = format!("remote generator configuration `{entry}` is not fetched");
                    self.problem(ProblemKind::Unfetched, &at.file, at.line, msg);
                }
                let why = format!("`{key}` entry `{entry}` is remote");
                self.unjudged(at, &why);
            }
            Kind::Dir(path) => {
                if key == "generators" {
                    let msg = format!("generator directory `{entry}` is not modelled");
                    self.problem(ProblemKind::NotModelled, &at.file, at.line, msg);
                }
                self.plugin_directory(&path, key, entry, at);
            }
            // The entry may be configuration text kustomize does not take for objects: it is
            // not shown (it may hold values).
            Kind::Missing => {
                // A one-line path is named; configuration text is not.
                let shown = if entry.contains(['\n', ':', '{', '[', '=']) {
                    "(content not shown)".to_owned()
                } else {
                    format!("`{entry}`")
                };
                let msg = format!(
                    "`{key}:` entry {shown} is neither inline configuration (objects, each with a kind and a metadata.name) nor a file or directory: kustomize fails to build (accumulating resources: no such file or directory)"
                );
                self.problem(ProblemKind::Invalid, &at.file, at.line, msg);
            }
            Kind::File(path) => {
                if !self.outside_root(&level.dir, &path, at) {
                    return Some(EntryDocs::File(path.clone(), self.docs(&path, at)?));
                }
            }
        }
        None
    }

    /// A directory of plugin configurations (`key`'s entry `entry`, named at `at`): kustomize
    /// builds it as a kustomization, which the model does not walk. Refused when outside the
    /// repository under Flux's restriction, else unjudged: what it reads is not known.
    fn plugin_directory(&mut self, path: &Path, key: &str, entry: &str, at: &Origin) {
        if !self.outside_source(path, at) {
            let why = format!("`{key}` entry `{entry}` is a directory the model does not walk");
            self.unjudged(at, &why);
        }
    }

    /// The paths a plugin configuration document names ([`PLUGIN_PATH_KEYS`], and a
    /// `ReplacementTransformer`'s `replacements[].path`), relative to the kustomization directory
    /// and reported at the entry naming the configuration, `at`.
    pub(super) fn plugin_config(&mut self, level: &Level, d: &Doc, at: &Origin) {
        let Ok(v) = &d.value else { return };
        for key in PLUGIN_PATH_KEYS {
            let Some(p) = v.get(key) else { continue };
            let target = match key {
                "files" => Target::FilesEntry,
                "envs" | "env" => Target::EnvFile,
                k if k.ends_with("Home") => Target::Dir,
                _ => Target::File,
            };
            let what = format!("plugin configuration field `{key}`");
            if ["paths", "additionalValuesFiles", "files", "envs"].contains(&key) {
                self.judge_each(level, p, target, &what, at.line);
            } else {
                self.judge(level, p, target, &what, at.line);
            }
        }
        // Without a `chartHome`, the chart home is `charts` in the kustomization directory, as
        // for `helmCharts` (kustomize plugin/builtin/helmchartinflationgenerator
        // HelmChartInflationGenerator.go `validateArgs`, `types.HelmDefaultHome`).
        let kind = v.get("kind").and_then(Value::as_str);
        let home = v
            .get("chartHome")
            .filter(|h| !h.is_null() && h.as_str() != Some(""));
        if kind == Some("HelmChartInflationGenerator") && home.is_none() {
            let what = "the default `chartHome` of a plugin configuration";
            self.judge(level, &Value::from("charts"), Target::Dir, what, at.line);
        }
        for r in seq(v.get("replacements")) {
            if let Some(p) = r.get("path") {
                let what = "plugin configuration field `replacements[].path`";
                self.judge(level, p, Target::File, what, at.line);
            }
        }
    }

    /// Judges each path of the list `v` (of the field `what`, at `line`): a value that is not a
    /// list is judged as one path (and so, when not a string, unjudged).
    fn judge_each(&mut self, level: &Level, v: &Value, target: Target, what: &str, line: usize) {
        match v {
            Value::Sequence(items) => {
                for item in items {
                    self.judge(level, item, target, what, line);
                }
            }
            other => self.judge(level, other, target, what, line),
        }
    }

    /// Judges the path value `v` (a string) of the field `what`, written at
    /// `line` of the level's kustomization: refused when the load restriction refuses it
    /// (`Builder::outside_root`, `Builder::outside_source`), unjudged when it cannot be told.
    fn judge(&mut self, level: &Level, v: &Value, target: Target, what: &str, line: usize) {
        let at = Origin {
            file: level.kfile.clone(),
            line,
        };
        let s = match v {
            Value::Null => return,
            Value::String(s) => s,
            _ => {
                self.unjudged(&at, &format!("{what} is not a string"));
                return;
            }
        };
        let s = match target {
            Target::FilesEntry => s.split_once('=').map_or(s.as_str(), |(_, p)| p),
            _ => s,
        };
        if s.is_empty() || s.contains("://") {
            return;
        }
        if s.contains(['*', '?', '[']) {
            self.unjudged(&at, &format!("{what} `{s}` is a pattern"));
            return;
        }
        let path = self.shared.join(&level.dir, s);
        match target {
            Target::File => {
                if !self.outside_root(&level.dir, &path, &at) {
                    self.input(&path, what, s, &at);
                }
            }
            Target::EnvFile | Target::FilesEntry => _ = self.outside_root(&level.dir, &path, &at),
            Target::Dir => _ = self.outside_source(&path, &at),
        }
    }

    /// A file the build reads whole (`path`, written `s` in the field `what`, at `at`): kustomize
    /// fails without it; one that exists is among the files the build reads
    /// ([`super::BuildOutput::manifests`]), so a clone lacking it is told (`untracked-build-input`).
    /// One that cannot be looked at (permission denied) fails the build too: kustomize cannot
    /// read it either.
    fn input(&mut self, path: &Path, what: &str, s: &str, at: &Origin) {
        let why = match std::fs::metadata(path) {
            Ok(_) => return self.loaded.push(path.to_path_buf()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "does not exist".to_owned(),
            Err(e) => format!("cannot be read ({})", e.kind()),
        };
        let msg = format!("{what} `{s}` {why}: kustomize fails to build");
        self.problem(ProblemKind::Invalid, &at.file, at.line, msg);
    }

    /// Under Flux's load restriction, records that the build cannot tell whether a path it
    /// loads lies inside the repository (see [`super::BuildOutput::unjudged`]).
    fn unjudged(&mut self, at: &Origin, why: &str) {
        if !matches!(self.layer.restrictor, Restrictor::SourceRoot(_)) {
            return;
        }
        self.unjudged.push(super::super::Problem::not_modelled(
            Origin {
                file: self.rel(&at.file),
                line: at.line,
            },
            format!(
                "{why}: the model cannot tell whether it reads a file outside the repository, which Flux refuses to load"
            ),
        ));
    }
}

/// The configuration documents of a plugin entry (see [`Builder::plugin_entry_docs`]).
pub(super) enum EntryDocs {
    /// Written in the kustomization (empty documents left out).
    Inline(Vec<Doc>),
    /// Read from this file.
    File(PathBuf, super::FileDocs),
}

/// What a `generators:`, `transformers:` or `validators:` entry is.
enum Kind {
    Inline(Vec<Doc>),
    Remote,
    Dir(PathBuf),
    File(PathBuf),
    /// None of the others: kustomize fails to build.
    Missing,
}

/// Tells a plugin entry apart as kustomize does (api/internal/target/kusttarget.go
/// `configureExternalGenerators`, `configureExternalTransformers`): text that reads as
/// Kubernetes objects (`NewResMapFromBytes`: each document a mapping with a kind and a
/// `metadata.name`; text with no document at all reads as none) is inline configuration, and
/// anything else a path, loaded as a `resources:` entry is (`accumulateResources`): a file
/// first, else a remote target (a URL kustomize fetches over HTTP or a git repository it
/// clones), else a directory (a kustomization of configurations).
fn classify(cache: &ParseCache<'_>, dir: &Path, entry: &str) -> Kind {
    let parsed = docs::split_docs(entry);
    let objects = parsed
        .iter()
        .all(|d| d.value.as_ref().is_ok_and(|v| v.is_null() || is_object(v)));
    if objects {
        let docs = parsed
            .into_iter()
            .filter(|d| d.value.as_ref().is_ok_and(|v| !v.is_null()))
            .collect();
        return Kind::Inline(docs);
    }
    let path = cache.join(dir, entry);
    if path.is_file() {
        Kind::File(path)
    } else if super::is_remote(entry) {
        Kind::Remote
    } else if path.is_dir() {
        Kind::Dir(path)
    } else {
        Kind::Missing
    }
}

/// Whether kustomize reads `v` as an object: a mapping with a kind and a `metadata.name`
/// (api/resource/factory.go, "missing kind in object", "missing metadata.name in object").
fn is_object(v: &Value) -> bool {
    let named = |v: Option<&Value>| v.and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    v.is_mapping() && named(v.get("kind")) && named(v.get("metadata").and_then(|m| m.get("name")))
}

/// The items of a list field (none when absent or not a list).
fn seq(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_sequence).map_or(&[], Vec::as_slice)
}
