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

use std::path::Path;

use yaml_serde::Value;

use super::super::Origin;
use super::super::deploy::Restrictor;
use super::super::docs::{self, Doc};
use super::Builder;
use super::accumulate::Level;
use super::obj::str_list;
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
    File,
    /// A generator's `files:` entry, `[key=]path`: a file.
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
                None if key == "chartHome" && !charts.is_empty() => {
                    let v = Value::from("charts");
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

    /// A `transformers:`/`validators:` entry: inline configuration, a file of configurations,
    /// or a directory (a kustomization of configurations the model does not walk).
    fn plugin_entry(&mut self, level: &Level, key: &str, i: usize, entry: &str) {
        let at = level.at(key, Some(i));
        if entry.contains('\n') || entry.contains(": ") {
            for d in docs::split_docs(entry) {
                self.plugin_config(level, &d, &at);
            }
            return;
        }
        if entry.contains("://") {
            return;
        }
        let path = level.dir.join(entry);
        if path.is_dir() {
            self.plugin_directory(&path, key, entry, &at);
            return;
        }
        if self.outside_root(&level.dir, &path, &at) {
            return;
        }
        // A missing file is reported by kustomize; the model reads what is there.
        if !path.is_file() {
            return;
        }
        for d in self.docs(&path, &at).iter().flat_map(|d| d.iter()) {
            self.plugin_config(level, d, &at);
        }
    }

    /// A directory of plugin configurations (`key`'s entry `entry`, named at `at`): kustomize
    /// builds it as a kustomization, which the model does not walk. Refused when outside the
    /// repository under Flux's restriction, else unjudged: what it reads is not known.
    pub(super) fn plugin_directory(&mut self, path: &Path, key: &str, entry: &str, at: &Origin) {
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
        let path = level.dir.join(s);
        match target {
            Target::File | Target::FilesEntry => _ = self.outside_root(&level.dir, &path, &at),
            Target::Dir => _ = self.outside_source(&path, &at),
        }
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

/// The items of a list field (none when absent or not a list).
fn seq(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_sequence).map_or(&[], Vec::as_slice)
}
