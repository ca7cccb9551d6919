//! The fields of a kustomization and of its inline generators, checked the way kustomize's
//! strict decoder reads them, and the fields emp-seal does not replay.

use yaml_serde::{Mapping, Value};

use super::super::docs::Doc;
use super::super::{GeneratedKind, ProblemKind};
use super::{Builder, entry};
use crate::yamlpos::Seg;
use std::path::Path;
use std::sync::Arc;

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

/// The Go type kustomize decodes a field below the top level of a kustomization into (decoded
/// strictly, field names matched case-insensitively as [`entry::json_fields`] does; a null is
/// an absent value).
#[derive(Clone, Copy)]
enum Ty {
    Str,
    Bool,
    StrList,
    /// `map[string]string`: a key YAML reads as no string decodes as its JSON text
    /// (sigs.k8s.io/yaml), but fails where the map is set on an object ([`Ty::Labels`]).
    StrMap,
    /// A `map[string]string` kustomize sets on objects as labels or annotations: a key YAML
    /// reads as no string fails ("json: unsupported type").
    Labels,
    Struct(&'static [(&'static str, Ty)]),
    List(&'static Ty),
}

/// `types.Image` (kustomize `api/types/image.go`).
const IMAGE: Ty = Ty::Struct(&[
    ("name", Ty::Str),
    ("newName", Ty::Str),
    ("tagSuffix", Ty::Str),
    ("newTag", Ty::Str),
    ("digest", Ty::Str),
]);

/// `types.FieldSpec` (`api/types/fieldspec.go`, its `resid.Gvk` inline).
const FIELD_SPEC: Ty = Ty::Struct(&[
    ("group", Ty::Str),
    ("version", Ty::Str),
    ("kind", Ty::Str),
    ("path", Ty::Str),
    ("create", Ty::Bool),
]);

/// `types.Label` (`api/types/labels.go`).
const LABEL: Ty = Ty::Struct(&[
    ("pairs", Ty::Labels),
    ("includeSelectors", Ty::Bool),
    ("includeTemplates", Ty::Bool),
    ("fields", Ty::List(&FIELD_SPEC)),
]);

/// The kustomization fields whose insides kustomize decodes into Go structs the model does not
/// otherwise read (`api/types/kustomization.go`, `sortoptions.go`, `helmchartargs.go`,
/// `objectmeta.go`, `generatoroptions.go`).
const NESTED: [(&str, Ty); 7] = [
    ("images", Ty::List(&IMAGE)),
    ("imageTags", Ty::List(&IMAGE)),
    ("labels", Ty::List(&LABEL)),
    (
        "sortOptions",
        Ty::Struct(&[
            ("order", Ty::Str),
            (
                "legacySortOptions",
                Ty::Struct(&[("orderFirst", Ty::StrList), ("orderLast", Ty::StrList)]),
            ),
        ]),
    ),
    (
        "helmGlobals",
        Ty::Struct(&[("chartHome", Ty::Str), ("configHome", Ty::Str)]),
    ),
    (
        "metadata",
        Ty::Struct(&[
            ("name", Ty::Str),
            ("namespace", Ty::Str),
            ("labels", Ty::StrMap),
            ("annotations", Ty::StrMap),
        ]),
    ),
    (
        "generatorOptions",
        Ty::Struct(&[
            ("labels", Ty::StrMap),
            ("annotations", Ty::StrMap),
            ("disableNameSuffixHash", Ty::Bool),
            ("immutable", Ty::Bool),
        ]),
    ),
];

/// Why kustomize cannot decode `v` as `ty` (`at` is its path; `written` the same node as YAML
/// 1.2 reads the text, for [`spelling`]): the path to report, the problem kind and the message;
/// None when it decodes.
fn decode_error(
    v: &Value,
    ty: Ty,
    at: &[Seg],
    written: Option<&Value>,
) -> Option<(Vec<Seg>, ProblemKind, String)> {
    let want = match (ty, v) {
        (_, Value::Null) | (Ty::Str, Value::String(_)) | (Ty::Bool, Value::Bool(_)) => return None,
        (Ty::StrList, Value::Sequence(items)) => {
            let bad = items.iter().position(|x| !x.is_string() && !x.is_null())?;
            let item = [at, &[Seg::Index(bad)]].concat();
            return Some((
                item.clone(),
                ProblemKind::BuildError,
                mistyped_msg(&item, "a string"),
            ));
        }
        (Ty::StrMap | Ty::Labels, Value::Mapping(m)) => {
            let key_at = |k: &Value| [at, &[Seg::Key(spelling(k, m, written))]].concat();
            if matches!(ty, Ty::Labels)
                && let Some(k) = m.keys().find(|k| !k.is_string())
            {
                let msg = format!(
                    "kustomization field `{}` has a key that is no string: kustomize fails to build (json: unsupported type)",
                    crate::yamlpos::dotted(at)
                );
                return Some((key_at(k), ProblemKind::BuildError, msg));
            }
            let (k, _) = m.iter().find(|(_, x)| !x.is_string() && !x.is_null())?;
            let item = key_at(k);
            return Some((
                item.clone(),
                ProblemKind::BuildError,
                mistyped_msg(&item, "a string"),
            ));
        }
        (Ty::List(item), Value::Sequence(items)) => {
            return items.iter().enumerate().find_map(|(i, x)| {
                let w = written.and_then(|w| w.get(i));
                decode_error(x, *item, &[at, &[Seg::Index(i)]].concat(), w)
            });
        }
        (Ty::Struct(known), Value::Mapping(m)) => {
            let names: Vec<&'static str> = known.iter().map(|(f, _)| *f).collect();
            let fields = match entry::fields(m, &names, at) {
                Ok(f) => f,
                Err((path, msg)) => return Some((path, ProblemKind::BuildError, msg)),
            };
            return fields.into_iter().find_map(|(field, key, x)| {
                let ty = known.iter().find(|(f, _)| *f == field).map(|(_, t)| *t)?;
                let w = written.and_then(|w| w.get(key));
                decode_error(x, ty, &[at, &[Seg::Key(key.to_owned())]].concat(), w)
            });
        }
        (Ty::Str, _) => "a string",
        (Ty::Bool, _) => "a boolean",
        (Ty::StrList, _) => "a list of strings",
        (Ty::StrMap | Ty::Labels, _) => "a mapping of strings",
        (Ty::List(_), _) => "a list",
        (Ty::Struct(_), _) => "a mapping",
    };
    Some((at.to_vec(), ProblemKind::BuildError, mistyped_msg(at, want)))
}

/// How `key` of `map` is written: a key YAML 1.1 reads as no string
/// ([`Builder::read_yaml11_scalars`]) by its spelling in `written` (the same map as YAML 1.2
/// reads the text), else as the JSON text sigs.k8s.io/yaml names it by.
fn spelling(key: &Value, map: &Mapping, written: Option<&Value>) -> String {
    if let Some(key) = key.as_str() {
        return key.to_owned();
    }
    let words = written
        .and_then(Value::as_mapping)
        .into_iter()
        .flat_map(|w| w.keys());
    let spelled = (words.filter_map(Value::as_str))
        .find(|w| !map.contains_key(*w) && yaml11_scalar(w).as_ref() == Some(key));
    let text = || {
        yaml_serde::to_string(key)
            .unwrap_or_default()
            .trim_end()
            .to_owned()
    };
    spelled.map_or_else(text, str::to_owned)
}

/// The message for the field at `at` not being `want`.
fn mistyped_msg(at: &[Seg], want: &str) -> String {
    format!(
        "kustomization field `{}` must be {want}: kustomize refuses the file (invalid Kustomization: json: cannot unmarshal)",
        crate::yamlpos::dotted(at)
    )
}

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
pub(super) const GENERATOR_OPTIONS: [&str; 4] = [
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
        (Shape::StrMap, Value::Mapping(m)) => m
            .iter()
            .all(|(k, x)| k.is_string() && (x.is_string() || x.is_null())),
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

/// A string YAML 1.1 reads as another scalar: its path, that scalar, and whether it is the key
/// ending the path.
type Word = (Vec<Seg>, Value, bool);

/// The strings of `v` (at `at`) that YAML 1.1 reads as another scalar ([`yaml11_scalar`]),
/// values and mapping keys, a key after the values below it.
fn yaml11_words(v: &Value, at: &mut Vec<Seg>, out: &mut Vec<Word>) {
    let items: Vec<(Seg, &Value)> = match v {
        Value::String(s) => return out.extend(yaml11_scalar(s).map(|x| (at.clone(), x, false))),
        Value::Sequence(items) => (items.iter().enumerate())
            .map(|(i, x)| (Seg::Index(i), x))
            .collect(),
        Value::Mapping(m) => (m.iter())
            .filter_map(|(key, x)| Some((Seg::Key(key.as_str()?.to_owned()), x)))
            .collect(),
        _ => return,
    };
    for (seg, x) in items {
        at.push(seg);
        yaml11_words(x, at, out);
        if let Some(Seg::Key(key)) = at.last() {
            out.extend(yaml11_scalar(key).map(|x| (at.clone(), x, true)));
        }
        at.pop();
    }
}

/// The boolean or number go-yaml v2 (`resolve.go`) reads a plain scalar YAML 1.2 reads as the
/// string `s` as: a boolean word (`yes`, `off` ...), or, `_` dropped, an integer as Go's
/// `strconv.ParseInt(s, 0, 64)` reads one (`0x`, `0o`, `0b` and a leading `0` for octal, in
/// either case: `1_000`, `017`, `0X1F`), else a float of go-yaml's `yamlStyleFloat` form
/// (`08`, `1_0.5`, `99999999999999999999`).
fn yaml11_scalar(s: &str) -> Option<Value> {
    if let Some(b) = super::generate::yaml11_bool(s) {
        return Some(Value::Bool(b));
    }
    if !s.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-') {
        return None;
    }
    let plain = s.replace('_', "");
    let unsigned = plain.trim_start_matches(['+', '-']);
    if unsigned.len() + 1 < plain.len() {
        return None;
    }
    let lower = unsigned.to_ascii_lowercase();
    let (radix, digits) = [("0x", 16), ("0o", 8), ("0b", 2)]
        .into_iter()
        .find_map(|(p, r)| Some((r, lower.strip_prefix(p)?)))
        .unwrap_or(match lower.strip_prefix('0') {
            Some(rest) if !rest.is_empty() => (8, rest),
            _ => (10, &lower[..]),
        });
    let int = u64::from_str_radix(digits, radix)
        .ok()
        .filter(|_| !digits.starts_with('+'));
    let n = int.and_then(|n| match plain.starts_with('-') {
        true => i64::try_from(-i128::from(n)).ok().map(Into::into),
        false => Some(n.into()),
    });
    // yamlStyleFloat: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`; Go's
    // ParseFloat refuses an out-of-range value.
    let (mantissa, exp) = lower.split_once('e').unwrap_or((&lower, "0"));
    let (whole, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let exp_digits = exp.trim_start_matches(['+', '-']);
    let float = all_digits(whole)
        && all_digits(frac)
        && !(whole.is_empty() && frac.is_empty())
        && !exp_digits.is_empty()
        && all_digits(exp_digits)
        && exp.len() <= exp_digits.len() + 1;
    let float = float.then(|| plain.parse::<f64>().ok().filter(|f| f.is_finite()));
    n.or(float.flatten().map(Into::into)).map(Value::Number)
}

impl Builder<'_> {
    /// kustomize reads a kustomization as YAML 1.1 (sigs.k8s.io/yaml over go-yaml v2, whose
    /// `resolve.go` lists the words): a plain `on`, `yes`, `n` ... is a boolean and `1_000`,
    /// `017` ... a number, which the YAML 1.2 parser reads as strings ([`yaml11_scalar`]). Such
    /// words become booleans and numbers in `k`, so that every field check judges them as
    /// kustomize does (a string field refuses them: "cannot unmarshal number into Go struct
    /// field Kustomization.namePrefix of type string"; a key is no label key). A word whose
    /// quoting the scanners cannot place is reported as not modelled and dropped (a key kept).
    pub(super) fn read_yaml11_scalars(&mut self, k: &mut Arc<Value>, kdoc: &Doc, kfile: &Path) {
        let mut words = Vec::new();
        yaml11_words(k, &mut Vec::new(), &mut words);
        let text = kdoc.located();
        for (at, x, key) in words {
            // A kustomization that is one word is no mapping: `check_fields` refuses it.
            let Some((last, parent)) = at.split_last() else {
                continue;
            };
            let new = match text.plain_at(&at, key) {
                Some(true) => x,
                Some(false) => continue,
                None => {
                    let msg = format!(
                        "cannot tell whether `{}` is quoted (a string) or not (a YAML 1.1 boolean or number to kustomize)",
                        crate::yamlpos::dotted(&at)
                    );
                    self.problem(ProblemKind::NotModelled, kfile, kdoc.line_of(&at), msg);
                    Value::Null
                }
            };
            let slot = parent.iter().try_fold(Arc::make_mut(k), |v, s| match s {
                Seg::Key(key) => v.get_mut(key.as_str()),
                Seg::Index(i) => v.get_mut(*i),
            });
            match (slot, last) {
                (Some(Value::Mapping(m)), Seg::Key(name)) if key => {
                    if let (false, Some(v)) = (new.is_null(), m.shift_remove(name.as_str())) {
                        m.insert(new, v);
                    }
                }
                (Some(v), last) => {
                    let slot = match last {
                        Seg::Key(name) => v.get_mut(name.as_str()),
                        Seg::Index(i) => v.get_mut(*i),
                    };
                    if let Some(slot) = slot {
                        *slot = new;
                    }
                }
                (None, _) => {}
            }
        }
    }

    /// Unknown fields and fields of the wrong type: kustomize decodes a kustomization strictly
    /// and refuses it ("invalid Kustomization: json: unknown field ...").
    pub(super) fn check_fields(&mut self, k: &Value, kdoc: &Doc, kfile: &Path) {
        let Some(map) = k.as_mapping() else {
            let msg = format!(
                "{} is not a mapping: kustomize refuses it (invalid Kustomization)",
                self.shown(kfile)
            );
            self.problem(ProblemKind::BuildError, kfile, kdoc.start_line, msg);
            return;
        };
        for (key, v) in map {
            // A key YAML reads as no string is one JSON names as text (sigs.k8s.io/yaml).
            let text = yaml_serde::to_string(key).unwrap_or_default();
            let at = spelling(key, map, kdoc.value.as_deref().ok());
            let key = key.as_str().unwrap_or(text.trim_end());
            let (kind, msg) = match KUSTOMIZATION_FIELDS.iter().find(|(f, _)| *f == key) {
                Some((_, shape)) => match shape_error(v, *shape) {
                    None if key == "replicas" => {
                        self.check_replicas(v, kdoc, kfile);
                        continue;
                    }
                    None => {
                        self.check_nested(key, v, kdoc, kfile);
                        continue;
                    }
                    Some(want) => (
                        ProblemKind::BuildError,
                        format!(
                            "kustomization field `{key}` must be {want}: kustomize refuses the file (invalid Kustomization)"
                        ),
                    ),
                },
                None => {
                    let known = KUSTOMIZATION_FIELDS.map(|(f, _)| f);
                    let (kind, msg) =
                        unknown_field("kustomization", key, &known, "rendered names may differ");
                    // A field kustomize reads and the model skips: what it would add is missing.
                    self.skipped_field |= kind == ProblemKind::NotModelled;
                    (kind, msg)
                }
            };
            // A list of strings is refused at its first item that is none.
            let item = v
                .as_sequence()
                .filter(|_| KUSTOMIZATION_FIELDS.contains(&(key, Shape::StrList)))
                .and_then(|s| s.iter().position(|x| !x.is_string()));
            self.problem(kind, kfile, kline(kdoc, &at, item), msg);
        }
        self.check_api_version(map, kdoc, kfile);
    }

    /// kustomize's `Kustomization.EnforceFields` (api/types/kustomization.go), after
    /// `FixKustomization` fills an absent kind and apiVersion in: the kind is `Kustomization` or
    /// `Component`, and a given apiVersion is the one of its kind ("Failed to read kustomization
    /// file").
    fn check_api_version(&mut self, map: &yaml_serde::Mapping, kdoc: &Doc, kfile: &Path) {
        let given = |f: &str| map.get(f).and_then(Value::as_str).filter(|s| !s.is_empty());
        let kind = given("kind").unwrap_or("Kustomization");
        let want = match kind {
            "Kustomization" => "kustomize.config.k8s.io/v1beta1",
            "Component" => "kustomize.config.k8s.io/v1alpha1",
            _ => {
                let msg = format!(
                    "kind `{kind}` should be Kustomization or Component: kustomize fails to read the kustomization file"
                );
                self.problem(
                    ProblemKind::BuildError,
                    kfile,
                    kline(kdoc, "kind", None),
                    msg,
                );
                return;
            }
        };
        if given("apiVersion").is_some_and(|v| v != want) {
            let msg = format!(
                "apiVersion for {kind} should be {want}: kustomize fails to read the kustomization file"
            );
            self.problem(
                ProblemKind::BuildError,
                kfile,
                kline(kdoc, "apiVersion", None),
                msg,
            );
        }
    }

    /// A field kustomize decodes into a Go struct ([`NESTED`]) that does not decode, and the top
    /// kustomization's `sortOptions` kustomize refuses.
    fn check_nested(&mut self, key: &str, v: &Value, kdoc: &Doc, kfile: &Path) {
        let Some((_, ty)) = NESTED.iter().find(|(f, _)| *f == key) else {
            return;
        };
        let written = kdoc.value.as_deref().ok().and_then(|w| w.get(key));
        match decode_error(v, *ty, &[Seg::Key(key.to_owned())], written) {
            Some((path, kind, msg)) => self.problem(kind, kfile, kdoc.line_of(&path), msg),
            None if key == "sortOptions" && self.stack.is_empty() => {
                self.check_sort_order(v, kdoc, kfile);
            }
            None => {}
        }
    }

    /// The top kustomization's `sortOptions` (kustomize reads no other's), checked as
    /// api/krusty/kustomizer.go `applySortOrder` checks them: the order is `fifo` or `legacy`,
    /// and `legacySortOptions` are set only with `legacy`.
    fn check_sort_order(&mut self, v: &Value, kdoc: &Doc, kfile: &Path) {
        let Some(Ok(fields)) = v
            .as_mapping()
            .map(|m| entry::fields(m, &["order", "legacySortOptions"], &[]))
        else {
            return;
        };
        let order = fields.iter().find(|(f, ..)| *f == "order");
        let order_is = order.and_then(|(.., v)| v.as_str()).unwrap_or_default();
        let legacy = fields.iter().find(|(f, ..)| *f == "legacySortOptions");
        let (key, msg) = match (order_is, legacy) {
            ("fifo", Some((_, key, _))) => (
                ["sortOptions", key],
                "`sortOptions.legacySortOptions` is set but the order is not `legacy`",
            ),
            ("fifo" | "legacy", _) => return,
            _ => (
                ["sortOptions", order.map_or("order", |(_, k, _)| k)],
                "`sortOptions.order` must be `fifo` or `legacy`",
            ),
        };
        let at = key.map(Seg::from);
        let line = kdoc.line_of(
            &at[..if order.is_none() && key[1] == "order" {
                1
            } else {
                2
            }],
        );
        let msg = format!("{msg}: kustomize fails to build");
        self.problem(ProblemKind::BuildError, kfile, line, msg);
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

    /// The labels and annotations of the kustomization's `generatorOptions`, which kustomize
    /// sets on each inline generator's object (api/types/generatoroptions.go
    /// `MergeGlobalOptionsIntoLocal`, api/internal/generators/utils.go `makeBaseNode`): a key
    /// YAML reads as no string fails the build there, and only there (it decodes: [`Ty::StrMap`]).
    pub(super) fn check_global_options(&mut self, global: &Value, kdoc: &Doc, kfile: &Path) {
        let Some(Ok(fields)) =
            (global.as_mapping()).map(|g| entry::fields(g, &GENERATOR_OPTIONS, &[]))
        else {
            return;
        };
        let written = kdoc
            .value
            .as_deref()
            .ok()
            .and_then(|w| w.get("generatorOptions"));
        for (field, key, v) in fields {
            let at = [Seg::from("generatorOptions"), Seg::Key(key.to_owned())];
            let written = written.and_then(|w| w.get(key));
            if let ("labels" | "annotations", Some((path, kind, msg))) =
                (field, decode_error(v, Ty::Labels, &at, written))
            {
                self.problem(kind, kfile, kdoc.line_of(&path), msg);
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
        self.check_label_fields(k, kdoc, kfile);
    }

    /// A `labels` entry whose `fields` write its pairs where names or a SealedSecret's scope are
    /// decided (`metadata/annotations`, `metadata/name`, `metadata/namespace`): the model adds
    /// the pairs to `metadata.labels` only, so such an entry is not modelled (a scope annotation
    /// written there makes a SealedSecret undecryptable; kustomize
    /// `api/filters/labels/labels.go` writes wherever the field specs say).
    fn check_label_fields(&mut self, k: &Value, kdoc: &Doc, kfile: &Path) {
        let entries = k.get("labels").and_then(Value::as_sequence);
        for (i, entry) in entries.into_iter().flatten().enumerate() {
            let specs = entry.get("fields").and_then(Value::as_sequence);
            let paths = specs.into_iter().flatten();
            let Some(path) = paths.filter_map(|f| f.get("path")?.as_str()).find(|p| {
                p.starts_with("metadata/annotations")
                    || ["metadata/name", "metadata/namespace"].contains(p)
            }) else {
                continue;
            };
            let msg = format!(
                "a `labels` entry writes its pairs into `{path}`, where names or a SealedSecret's scope are decided: not modelled, rendered names and scopes may differ"
            );
            self.problem(
                ProblemKind::NotModelled,
                kfile,
                kline(kdoc, "labels", Some(i)),
                msg,
            );
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

/// Whether a kustomization kustomize has decoded holds nothing: every field but `apiVersion`
/// and `kind` is absent, null or an empty string, or an empty list of a deprecated field
/// `FixKustomization` folds into another (`bases`, `imageTags`, `helmChartInflationGenerator`:
/// appending nothing to a nil list leaves it nil). Any other empty list or map counts as
/// something (Go's decoder keeps it non-nil), as kustomize's `reflect.DeepEqual` with the empty
/// Kustomization does (`api/types/kustomization.go`, `FixKustomization` and `CheckEmpty`:
/// "kustomization.yaml is empty"); what `kustomize create` writes, `{}` and `resources: ~` are
/// empty, `resources: []` is not.
pub(super) fn decodes_empty(k: &Value) -> bool {
    let Some(map) = k.as_mapping() else {
        return k.is_null();
    };
    map.iter().all(|(key, v)| {
        let key = key.as_str().unwrap_or_default();
        let folded = ["bases", "imageTags", "helmChartInflationGenerator"].contains(&key);
        ["apiVersion", "kind"].contains(&key)
            || match v {
                Value::Null => true,
                Value::String(s) => s.is_empty(),
                Value::Sequence(items) => folded && items.is_empty(),
                _ => false,
            }
    })
}

/// Line of `key` in a kustomization document, and of its n-th list entry.
pub(super) fn kline(doc: &Doc, key: &str, idx: Option<usize>) -> usize {
    let mut p = vec![Seg::Key(key.to_owned())];
    if let Some(i) = idx {
        p.push(Seg::Index(i));
    }
    doc.line_of(&p)
}
