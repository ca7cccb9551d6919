//! The fields of a kustomization and of its inline generators, checked the way kustomize's
//! strict decoder reads them, and the fields emp-seal does not replay.

use yaml_serde::Value;

use super::super::docs::Doc;
use super::super::{GeneratedKind, ProblemKind};
use super::{Builder, entry};
use crate::yamlpos::Seg;
use std::path::Path;

/// Kustomization fields emp-seal does not replay although they can change what renders:
/// reported as `not-modelled` (helm ones as `unfetched`: kustomize would run helm).
const NOT_MODELLED_FIELDS: [&str; 8] = [
    "transformers",
    "replacements",
    "helmCharts",
    "helmChartInflationGenerator",
    "vars",
    "validators",
    "openapi",
    "crds",
];

/// The shape kustomize's strict decoder expects for a kustomization field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Str,
    Map,
    /// A mapping of strings (`map[string]string`: `commonLabels`, `commonAnnotations`); a null
    /// value decodes as the empty string.
    StrMap,
    List,
    /// A list of strings (paths, URLs or inline YAML text).
    StrList,
}

/// Every field of kustomize v5's `Kustomization` (kustomize `api/types/kustomization.go`,
/// decoded strictly: an unknown field or a wrong type is "invalid Kustomization"), with its shape.
const KUSTOMIZATION_FIELDS: [(&str, Shape); 34] = [
    ("apiVersion", Shape::Str),
    ("kind", Shape::Str),
    ("metadata", Shape::Map),
    ("openapi", Shape::Map),
    ("namePrefix", Shape::Str),
    ("nameSuffix", Shape::Str),
    ("namespace", Shape::Str),
    ("commonLabels", Shape::StrMap),
    ("labels", Shape::List),
    ("commonAnnotations", Shape::StrMap),
    ("patchesStrategicMerge", Shape::StrList),
    ("patchesJson6902", Shape::List),
    ("patches", Shape::List),
    ("images", Shape::List),
    ("imageTags", Shape::List),
    ("replacements", Shape::List),
    ("replicas", Shape::List),
    ("vars", Shape::List),
    ("sortOptions", Shape::Map),
    ("resources", Shape::StrList),
    ("components", Shape::StrList),
    ("crds", Shape::StrList),
    ("bases", Shape::StrList),
    ("configMapGenerator", Shape::List),
    ("secretGenerator", Shape::List),
    ("helmGlobals", Shape::Map),
    ("helmCharts", Shape::List),
    ("helmChartInflationGenerator", Shape::List),
    ("generatorOptions", Shape::Map),
    ("configurations", Shape::StrList),
    ("generators", Shape::StrList),
    ("transformers", Shape::StrList),
    ("validators", Shape::StrList),
    ("buildMetadata", Shape::StrList),
];

/// Fields of an inline generator entry (kustomize `api/types/generatorargs.go`,
/// `secretargs.go`; `type` is a Secret's only) and of its `options`
/// (`api/types/generatoroptions.go`).
const GENERATOR_ARGS: [&str; 9] = [
    "name",
    "namespace",
    "behavior",
    "literals",
    "files",
    "envs",
    "env",
    "options",
    "type",
];
const GENERATOR_OPTIONS: [&str; 4] = [
    "labels",
    "annotations",
    "disableNameSuffixHash",
    "immutable",
];

/// Why `v` does not have `shape` (None when it does; `null` always does: an omitted field).
/// kustomize decodes through JSON into Go types: a number or a boolean is not a string
/// (`json: cannot unmarshal number into Go struct field Kustomization.namespace of type string`).
fn shape_error(v: &Value, shape: Shape) -> Option<&'static str> {
    let ok = match (shape, v) {
        (_, Value::Null) => true,
        (Shape::Str, v) => v.is_string(),
        (Shape::Map, v) => v.is_mapping(),
        (Shape::StrMap, Value::Mapping(m)) => m.values().all(|x| x.is_string() || x.is_null()),
        (Shape::StrMap, _) => false,
        (Shape::List, v) => v.is_sequence(),
        (Shape::StrList, Value::Sequence(items)) => items.iter().all(Value::is_string),
        (Shape::StrList, _) => false,
    };
    if ok {
        return None;
    }
    Some(match shape {
        Shape::Str => "a string",
        Shape::Map => "a mapping",
        Shape::StrMap => "a mapping of strings",
        Shape::List => "a list",
        Shape::StrList => "a list of strings",
    })
}

impl Builder<'_> {
    /// Unknown fields and fields of the wrong type: kustomize decodes a kustomization strictly
    /// and refuses it ("invalid Kustomization: json: unknown field ...").
    pub(super) fn check_fields(&mut self, k: &Value, kdoc: &Doc, kfile: &Path) {
        let Some(map) = k.as_mapping() else {
            let msg = format!(
                "{} is not a mapping: kustomize refuses it (invalid Kustomization)",
                self.rel(kfile).display()
            );
            self.problem(ProblemKind::BuildError, kfile, kdoc.start_line, msg);
            return;
        };
        for (key, v) in map {
            let Some(key) = key.as_str() else { continue };
            let (kind, msg) = match KUSTOMIZATION_FIELDS.iter().find(|(f, _)| *f == key) {
                Some((_, shape)) => match shape_error(v, *shape) {
                    None if key == "replicas" => {
                        self.check_replicas(v, kdoc, kfile);
                        continue;
                    }
                    None => continue,
                    Some(want) => (
                        ProblemKind::BuildError,
                        format!(
                            "kustomization field `{key}` must be {want}: kustomize refuses the file (invalid Kustomization)"
                        ),
                    ),
                },
                None => {
                    let known = KUSTOMIZATION_FIELDS.map(|(f, _)| f);
                    unknown_field("kustomization", key, &known, "rendered names may differ")
                }
            };
            self.problem(kind, kfile, kline(kdoc, key, None), msg);
        }
    }

    /// `replicas:` entries kustomize cannot decode ([`entry::check_replica`]).
    fn check_replicas(&mut self, v: &Value, kdoc: &Doc, kfile: &Path) {
        for (i, r) in v.as_sequence().into_iter().flatten().enumerate() {
            let at = [Seg::Key("replicas".into()), Seg::Index(i)];
            if let Err((path, why)) = entry::check_replica(r, &at) {
                let msg = format!("`replicas` entry: {why}");
                self.problem(ProblemKind::BuildError, kfile, kdoc.line_of(&path), msg);
            }
        }
    }

    /// Unknown fields of an inline generator entry (decoded strictly with the kustomization),
    /// as [`unknown_field`] judges them.
    pub(super) fn check_generator_fields(
        &mut self,
        args: &Value,
        gk: GeneratedKind,
        kdoc: &Doc,
        kfile: &Path,
        at: &[Seg],
    ) {
        let known_args: &[&str] = match gk {
            GeneratedKind::Secret => &GENERATOR_ARGS,
            GeneratedKind::ConfigMap => &GENERATOR_ARGS[..8],
        };
        let opt_at = [at, &[Seg::Key("options".into())]].concat();
        let options = args.get("options").and_then(Value::as_mapping);
        let fields = [
            (args.as_mapping(), at, known_args),
            (options, &opt_at[..], &GENERATOR_OPTIONS[..]),
        ];
        for (map, parent, known) in fields {
            for (key, v) in map.iter().flat_map(|m| m.iter()) {
                let Some(key) = key.as_str() else { continue };
                if known.contains(&key) {
                    self.check_generator_shape(key, v, kdoc, kfile, parent);
                    continue;
                }
                let line = kdoc.line_of(&[parent, &[Seg::Key(key.to_owned())]].concat());
                let (kind, msg) =
                    unknown_field("generator", key, known, "the generated keys may differ");
                self.problem(kind, kfile, line, msg);
            }
        }
    }

    /// The fields of a `generators:` file's generator of the wrong type (kustomize decodes it
    /// leniently: an unknown field is ignored, a wrong type fails the build: "fails
    /// configuration: error unmarshaling JSON").
    pub(super) fn check_generator_file_shapes(&mut self, v: &Value, doc: &Doc, file: &Path) {
        let opt_at = [Seg::Key("options".into())];
        let options = v.get("options").and_then(Value::as_mapping);
        let fields = [
            (v.as_mapping(), &[][..], &GENERATOR_ARGS[..]),
            (options, &opt_at[..], &GENERATOR_OPTIONS[..]),
        ];
        for (map, parent, known) in fields {
            for (key, v) in map.iter().flat_map(|m| m.iter()) {
                match key.as_str() {
                    Some(key) if known.contains(&key) && key != "name" && key != "namespace" => {
                        self.check_generator_shape(key, v, doc, file, parent);
                    }
                    // Go's encoding/json matches field names case-insensitively: kustomize
                    // reads `Literals:` as `literals`, the model the exact spelling only.
                    Some(key) if known.iter().any(|f| f.eq_ignore_ascii_case(key)) => {
                        let line = doc.line_of(&[parent, &[Seg::Key(key.to_owned())]].concat());
                        let (kind, msg) =
                            unknown_field("generator", key, known, "the generated keys may differ");
                        self.problem(kind, file, line, msg);
                    }
                    _ => {}
                }
            }
        }
    }

    /// A generator field of the wrong type (kustomize decodes the kustomization strictly:
    /// "json: cannot unmarshal string into Go struct field SecretArgs.secretGenerator.envs of
    /// type []string"). The boolean options are judged where they are read
    /// (`generate::option_flag`).
    fn check_generator_shape(
        &mut self,
        key: &str,
        v: &Value,
        kdoc: &Doc,
        kfile: &Path,
        at: &[Seg],
    ) {
        let shape = match key {
            "literals" | "files" | "envs" => Shape::StrList,
            "options" => Shape::Map,
            "labels" | "annotations" => Shape::StrMap,
            "disableNameSuffixHash" | "immutable" => return,
            _ => Shape::Str,
        };
        let Some(want) = shape_error(v, shape) else {
            return;
        };
        let field = [at, &[Seg::Key(key.to_owned())]].concat();
        // An item that is no string (`literals: [7]`, `- true`) is reported at its own line; so
        // is a null one (`- ~`), which kustomize decodes as an empty string and then refuses
        // (api/kv/kv.go: "invalid literal source", or an env or file source "must resolve to a
        // file").
        let items = v.as_sequence().map_or(&[][..], Vec::as_slice);
        let item = items.iter().position(|x| !x.is_string());
        let (line, msg) = match item {
            Some(i) if items[i].is_null() => (
                kdoc.line_of(&[&field[..], &[Seg::Index(i)]].concat()),
                format!(
                    "item {} of generator field `{key}` is null: kustomize reads it as an empty string and fails to build",
                    i + 1
                ),
            ),
            Some(i) => (
                kdoc.line_of(&[&field[..], &[Seg::Index(i)]].concat()),
                format!(
                    "item {} of generator field `{key}` is not a string: kustomize refuses the file (invalid Kustomization)",
                    i + 1
                ),
            ),
            None => (
                kdoc.line_of(&field),
                format!(
                    "generator field `{key}` must be {want}: kustomize refuses the file (invalid Kustomization)"
                ),
            ),
        };
        self.problem(ProblemKind::BuildError, kfile, line, msg);
    }

    /// Non-empty fields the model does not replay.
    pub(super) fn check_not_modelled(&mut self, k: &Value, kdoc: &Doc, kfile: &Path) {
        for key in NOT_MODELLED_FIELDS {
            let set = k.get(key).is_some_and(|v| match v {
                Value::Null => false,
                Value::Sequence(s) => !s.is_empty(),
                Value::Mapping(m) => !m.is_empty(),
                _ => true,
            });
            if set {
                let kind = if key.starts_with("helm") {
                    ProblemKind::Unfetched
                } else {
                    ProblemKind::NotModelled
                };
                let msg = format!("`{key}` is not modelled: rendered names may differ");
                self.problem(kind, kfile, kline(kdoc, key, None), msg);
            }
        }
    }
}

/// The problem with a field name that is none of `known` (kustomize decodes a kustomization
/// strictly). Go's `encoding/json` matches field names case-insensitively: kustomize reads
/// `nameprefix` as `namePrefix`, the model the exact spelling only. Any other name is refused.
fn unknown_field(what: &str, key: &str, known: &[&str], differ: &str) -> (ProblemKind, String) {
    match known.iter().find(|f| f.eq_ignore_ascii_case(key)) {
        Some(field) => (
            ProblemKind::NotModelled,
            format!(
                "{what} field `{key}` is read by kustomize as `{field}`, a spelling the model does not read: {differ}"
            ),
        ),
        None => (
            ProblemKind::BuildError,
            format!(
                "unknown {what} field `{key}`: kustomize refuses the file (invalid Kustomization: json: unknown field \"{key}\")"
            ),
        ),
    }
}

/// Line of `key` in a kustomization document, and of its n-th list entry.
pub(super) fn kline(doc: &Doc, key: &str, idx: Option<usize>) -> usize {
    let mut p = vec![Seg::Key(key.to_owned())];
    if let Some(i) = idx {
        p.push(Seg::Index(i));
    }
    doc.line_of(&p)
}
