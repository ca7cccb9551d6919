//! `configurations:` files read as kustomize reads them
//! (`api/internal/plugins/builtinconfig/loaddefaultconfig.go`, `makeTransformerConfigFromBytes`):
//! the file's first YAML document decoded through JSON into `TransformerConfig`
//! (`builtinconfig/transformerconfig.go`), strictly: an unknown field, or a value of the wrong
//! type, fails the build; field names match case-insensitively (Go `encoding/json`). Its
//! `nameReference` entries are `NameBackReferences` (`builtinconfig/namebackreferences.go`), every
//! other field a `types.FsSlice` of `types.FieldSpec` (`api/types/fieldspec.go`, the group,
//! version and kind inline from `api/resid/gvk.go`).
//!
//! Owns the decoding only: the nameReference rules come out for `nameref` to apply; what the
//! model does not follow comes out as not modelled.

use yaml_serde::Value;

use super::super::Origin;
use super::super::refs::NameRefRule;
use super::entry::json_fields;
use super::fsmerge::Fs;
use crate::yamlpos::Seg;

/// `TransformerConfig`'s fields.
const CONFIG_FIELDS: [&str; 11] = [
    "namePrefix",
    "nameSuffix",
    "namespace",
    "commonLabels",
    "templateLabels",
    "commonAnnotations",
    "nameReference",
    "varReference",
    "images",
    "replicas",
    "labels",
];

/// The fieldSpec lists that decide rendered names or namespaces, which the model does not
/// replay (kustomize's prefix, suffix and namespace transformers write every field they list).
const RENAMING_FIELDS: [&str; 3] = ["namePrefix", "nameSuffix", "namespace"];

/// `NameBackReferences`' fields.
const NBR_FIELDS: [&str; 4] = ["group", "version", "kind", "fieldSpecs"];

/// `FieldSpec`'s fields.
const FS_FIELDS: [&str; 5] = ["group", "version", "kind", "path", "create"];

/// Where in the file, and why.
pub(super) type At = (Vec<Seg>, String);

/// What one `configurations:` file gives the model.
#[derive(Default)]
pub(super) struct Config {
    /// Its nameReference fieldSpecs: the target, the fieldSpec, its path in the file.
    pub(super) rules: Vec<(Target, Spec, Vec<Seg>)>,
    /// What the model does not follow.
    pub(super) not_modelled: Vec<At>,
    /// Every fieldSpec, as kustomize merges it (`fsmerge`), with its path in the file.
    pub(super) merged: Vec<(Fs, Vec<Seg>)>,
}

/// Decodes the file's first document; Err is the build error kustomize fails with.
pub(super) fn decode(v: &Value) -> Result<Config, At> {
    let mut out = Config::default();
    let map = match v {
        Value::Null => return Ok(out),
        Value::Mapping(m) => m,
        _ => return Err((Vec::new(), refused("the file", "a mapping"))),
    };
    for (field, key, v) in json_fields(map, &CONFIG_FIELDS, &[]).map_err(unknown)? {
        let at = vec![Seg::Key(key.to_owned())];
        if field == "nameReference" {
            for (i, entry) in list(v, &at, key)?.iter().enumerate() {
                let at = [&at[..], &[Seg::Index(i)]].concat();
                name_back_references(entry, (&at, i), &mut out)?;
            }
            continue;
        }
        let specs = field_specs(v, &at, key, &mut out.not_modelled)?;
        out.merged
            .extend(specs.iter().filter_map(|(s, at)| s.merged(field, None, at)));
        if RENAMING_FIELDS.contains(&field) && !specs.is_empty() {
            let msg = format!(
                "`{key}` fieldSpecs are not modelled: kustomize writes the {field} into every field they list, so rendered names may differ"
            );
            out.not_modelled.push((at, msg));
        }
    }
    Ok(out)
}

/// One `nameReference` entry: the target's kind and the fields that refer to it.
fn name_back_references(
    entry: &Value,
    (at, i): (&[Seg], usize),
    out: &mut Config,
) -> Result<(), At> {
    let map = match entry {
        Value::Null => None,
        Value::Mapping(m) => Some(m),
        _ => return Err((at.to_vec(), refused("a `nameReference` entry", "a mapping"))),
    };
    let mut target = Target::default();
    let mut specs = Vec::new();
    let fields = map.map(|m| json_fields(m, &NBR_FIELDS, at)).transpose();
    for (field, key, v) in fields.map_err(unknown)?.into_iter().flatten() {
        let at = [at, &[Seg::Key(key.to_owned())]].concat();
        match field {
            "fieldSpecs" => specs = field_specs(v, &at, key, &mut out.not_modelled)?,
            _ => {
                let s = Some(gvk_str(v, &at, key)?.to_owned());
                match field {
                    "group" => target.group = s,
                    "version" => target.version = s,
                    _ => target.kind = s,
                }
            }
        }
    }
    let t = [&target.group, &target.version, &target.kind].map(|s| s.clone().unwrap_or_default());
    // The entry itself, even null or without fieldSpecs, is one a later entry of its target
    // merges into (`namebackreferences.go` `mergeOne`).
    let entry = Fs {
        list: "nameReference",
        target: Some((t.clone(), i)),
        gvk: Default::default(),
        path: None,
        create: false,
    };
    out.merged.push((entry, at.to_vec()));
    let merged = specs
        .iter()
        .filter_map(|(s, at)| s.merged("nameReference", Some((t.clone(), i)), at));
    out.merged.extend(merged);
    // A path that is no string is not followed (`field_specs` reports it): it is no empty path.
    for (mut spec, mut spec_at) in specs.into_iter().filter(|(s, _)| !s.path_unread) {
        // kyaml drops one leading `/` (`/spec/x` is `spec/x`; `/` alone is an empty path).
        let written = spec.path.clone();
        if let Some(p) = written.strip_prefix('/') {
            p.clone_into(&mut spec.path);
        }
        if let Some(why) = unfollowed_path(&spec.path) {
            spec_at.push(Seg::Key(spec.path_key));
            let msg = format!(
                "nameReference path `{written}` {why}: the model does not follow it, and kustomize may fail to build or rewrite other fields"
            );
            out.not_modelled.push((spec_at, msg));
            continue;
        }
        out.rules.push((target.clone(), spec, spec_at));
    }
    Ok(())
}

/// Why the model cannot follow a fieldSpec path the way kyaml walks it (None: it can). An empty
/// path is followed (`nameref` reports the build error it causes). kyaml reads an empty segment
/// (a trailing or doubled `/`) and a number (a list index) otherwise than as the name
/// of a field, and gives brackets, `*` and `\` meanings of their own.
fn unfollowed_path(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return None;
    }
    let segs: Vec<&str> = path.split('/').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Some("has an empty segment");
    }
    if segs.iter().any(|s| s.bytes().all(|b| b.is_ascii_digit())) {
        return Some("has a number for a segment");
    }
    let plain = |s: &&str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    if !segs.iter().all(plain) {
        return Some("has a segment kyaml reads as more than a field name");
    }
    None
}

/// The objects a `nameReference` entry follows the renames of: its group, version and kind.
#[derive(Default, Clone)]
pub(super) struct Target {
    group: Option<String>,
    version: Option<String>,
    kind: Option<String>,
}

impl Spec {
    /// The nameReference rule this fieldSpec of `target` makes, written at `origin`.
    pub(super) fn into_rule(self, target: Target, origin: Origin) -> NameRefRule {
        NameRefRule {
            target_kind: target.kind.unwrap_or_default(),
            target_group: target.group,
            target_version: target.version,
            path: self.path,
            referrer_kind: self.kind,
            referrer_group: self.group,
            referrer_version: self.version,
            origin,
        }
    }

    /// The fieldSpec as kustomize merges it (None: its path is not read).
    fn merged(
        &self,
        list: &'static str,
        target: Option<([String; 3], usize)>,
        at: &[Seg],
    ) -> Option<(Fs, Vec<Seg>)> {
        if self.path_unread {
            return None;
        }
        let gvk = [&self.group, &self.version, &self.kind].map(|s| s.clone().unwrap_or_default());
        let (path, create) = (Some(self.path.clone()), self.create);
        let fs = Fs {
            list,
            target,
            gvk,
            path,
            create,
        };
        Some((fs, at.to_vec()))
    }
}

/// One decoded `FieldSpec`.
#[derive(Default)]
pub(super) struct Spec {
    group: Option<String>,
    version: Option<String>,
    kind: Option<String>,
    /// Its `path`, as written (empty when absent).
    path: String,
    /// The spelling of its `path` key.
    path_key: String,
    /// Its `create`.
    create: bool,
    /// True when its `path` is a scalar other than a string, whose text kustomize reads as the
    /// path and the model does not.
    path_unread: bool,
}

/// A `types.FsSlice`: a list (null: empty) of fieldSpecs, each with its path in the file. What
/// the model cannot read the way kustomize does goes to `unread`.
fn field_specs(
    v: &Value,
    at: &[Seg],
    key: &str,
    unread: &mut Vec<At>,
) -> Result<Vec<(Spec, Vec<Seg>)>, At> {
    let mut out = Vec::new();
    for (i, item) in list(v, at, key)?.iter().enumerate() {
        let at = [at, &[Seg::Index(i)]].concat();
        let map = match item {
            Value::Null => {
                out.push((Spec::default(), at));
                continue;
            }
            Value::Mapping(m) => m,
            _ => return Err((at, refused(&format!("a `{key}` entry"), "a mapping"))),
        };
        let mut spec = Spec::default();
        for (field, key, v) in json_fields(map, &FS_FIELDS, &at).map_err(unknown)? {
            let at = [&at[..], &[Seg::Key(key.to_owned())]].concat();
            match (field, v) {
                ("path", Value::String(s)) => {
                    spec.path.clone_from(s);
                    key.clone_into(&mut spec.path_key);
                }
                ("path", Value::Sequence(_) | Value::Mapping(_)) => {
                    return Err((at, refused(&format!("`{key}`"), "a string")));
                }
                // sigs.k8s.io/yaml hands a string field any other scalar as its text.
                ("path", _) => {
                    let msg = format!(
                        "`{key}` is not a string: kustomize reads its text as the path, the model does not"
                    );
                    unread.push((at, msg));
                    spec.path_unread = true;
                }
                ("create", Value::Bool(b)) => spec.create = *b,
                // go-yaml v2 reads an unquoted `yes` as a boolean, a quoted one as a string
                // (which fails): the value alone does not tell which.
                ("create", Value::String(s))
                    if super::generate::yaml11_bool(s).is_some()
                        && !s.eq_ignore_ascii_case("true")
                        && !s.eq_ignore_ascii_case("false") =>
                {
                    let msg = format!(
                        "cannot tell whether `{key}` is quoted (a string kustomize refuses) or not (a YAML 1.1 boolean)"
                    );
                    unread.push((at, msg));
                    spec.create = super::generate::yaml11_bool(s).unwrap_or_default();
                }
                ("create", _) => return Err((at, refused(&format!("`{key}`"), "a boolean"))),
                _ => {
                    let s = Some(gvk_str(v, &at, key)?.to_owned());
                    match field {
                        "group" => spec.group = s,
                        "version" => spec.version = s,
                        _ => spec.kind = s,
                    }
                }
            }
        }
        out.push((spec, at));
    }
    Ok(out)
}

/// A group, version or kind: a string (the inline `resid.Gvk` takes no other scalar).
fn gvk_str<'v>(v: &'v Value, at: &[Seg], key: &str) -> Result<&'v str, At> {
    v.as_str()
        .ok_or_else(|| (at.to_vec(), refused(&format!("`{key}`"), "a string")))
}

/// A list field (null: empty).
fn list<'v>(v: &'v Value, at: &[Seg], key: &str) -> Result<&'v [Value], At> {
    match v {
        Value::Null => Ok(&[]),
        Value::Sequence(s) => Ok(s),
        _ => Err((at.to_vec(), refused(&format!("`{key}`"), "a list"))),
    }
}

fn refused(what: &str, want: &str) -> String {
    format!(
        "{what} must be {want}: kustomize fails to build (error unmarshaling JSON: json: cannot unmarshal)"
    )
}

fn unknown((at, key): (Vec<Seg>, String)) -> At {
    let msg =
        format!("unknown field `{key}`: kustomize fails to build (json: unknown field \"{key}\")");
    (at, msg)
}
