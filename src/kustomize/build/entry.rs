//! `patches:` and `patchesJson6902:` entries read as kustomize reads them: decoded through
//! JSON into Go's `types.Patch` (kustomize `api/types/patch.go`; its `target` is a
//! `types.Selector`, `api/types/selector.go`) strictly, with field names matched
//! case-insensitively (Go `encoding/json`), then checked as kustomize's
//! `api/internal/builtins/PatchTransformer.go` and `PatchJson6902Transformer.go` configure them.
//!
//! An entry comes out with its fields under their canonical names, so that the transforms read
//! `target`, `patch`, `path` and `options` whatever their spelling; an entry kustomize refuses
//! comes out as the problem and the line to report it at.

use yaml_serde::{Mapping, Value};

use crate::yamlpos::Seg;

/// `types.Patch`'s fields.
const PATCH_FIELDS: [&str; 4] = ["path", "patch", "target", "options"];

/// `types.Selector`'s fields (its embedded `resid.ResId` and `resid.Gvk` included).
const SELECTOR_FIELDS: [&str; 7] = [
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
];

/// Why kustomize refuses an entry: the path (below the entry) of the field to report it at,
/// and the message.
pub(super) type Refused = (Vec<Seg>, String);

/// A decoded entry: the canonical mapping, and the key its inline `patch` text is under.
pub(super) struct Decoded {
    pub(super) value: Value,
    pub(super) patch_key: String,
}

/// Decoded fields: each canonical name, the spelling it was written with, and its value.
pub(super) type Fields<'v> = Vec<(&'static str, &'v str, &'v Value)>;

/// The fields of `map` under their canonical names (`known`), as Go's `encoding/json` decodes a
/// struct: names match case-insensitively, and of several spellings of one field the one that
/// sorts last wins (sigs.k8s.io/yaml hands the decoder an object with sorted keys, and a later
/// key overwrites an earlier one). Null values are left out (an absent field). A name that is
/// none of `known` is refused (kustomize decodes strictly: "json: unknown field").
pub(super) fn fields<'v>(
    map: &'v Mapping,
    known: &[&'static str],
    at: &[Seg],
) -> Result<Fields<'v>, Refused> {
    json_fields(map, known, at).map_err(|(path, key)| {
        let msg = format!(
            "unknown field `{key}`: kustomize refuses the file (invalid Kustomization: json: unknown field \"{key}\")"
        );
        (path, msg)
    })
}

/// [`fields`], a name that is none of `known` coming back as its path and its spelling (for a
/// caller that words the refusal for another file than a kustomization).
pub(super) fn json_fields<'v>(
    map: &'v Mapping,
    known: &[&'static str],
    at: &[Seg],
) -> Result<Fields<'v>, (Vec<Seg>, String)> {
    let mut out: Vec<(&'static str, &'v str, &'v Value)> = Vec::new();
    for (k, v) in map {
        let key = k.as_str().unwrap_or_default();
        let Some(&field) = known.iter().find(|f| f.eq_ignore_ascii_case(key)) else {
            let shown = match k {
                Value::String(s) => s.clone(),
                other => yaml_serde::to_string(other)
                    .unwrap_or_default()
                    .trim_end()
                    .to_owned(),
            };
            return Err(([at, &[Seg::Key(key.to_owned())]].concat(), shown));
        };
        match out.iter_mut().find(|(f, _, _)| *f == field) {
            Some(slot) if slot.1 < key => *slot = (field, key, v),
            Some(_) => {}
            None => out.push((field, key, v)),
        }
    }
    out.retain(|(_, _, v)| !v.is_null());
    Ok(out)
}

/// Refuses a field of the wrong type (kustomize: "json: cannot unmarshal ...").
pub(super) fn mistyped(at: &[Seg], key: &str, want: &str) -> Refused {
    let msg = format!(
        "field `{key}` must be {want}: kustomize refuses the file (invalid Kustomization: json: cannot unmarshal)"
    );
    ([at, &[Seg::Key(key.to_owned())]].concat(), msg)
}

/// Decodes a `target:` mapping.
fn selector(v: &Value, at: &[Seg]) -> Result<Value, Refused> {
    let Some(map) = v.as_mapping() else {
        return Err((
            at.to_vec(),
            "`target` must be a mapping: kustomize refuses the file (invalid Kustomization: json: cannot unmarshal into types.Selector)".to_owned(),
        ));
    };
    let mut out = Mapping::new();
    for (field, key, v) in fields(map, &SELECTOR_FIELDS, at)? {
        if !v.is_string() {
            return Err(mistyped(at, key, "a string"));
        }
        out.insert(field.into(), v.clone());
    }
    Ok(Value::Mapping(out))
}

/// Decodes one entry of `patches` (`json6902`: of `patchesJson6902`); `at` is the entry's path
/// in the kustomization.
pub(super) fn decode(entry: &Value, json6902: bool, at: &[Seg]) -> Result<Decoded, Refused> {
    let empty = Mapping::new();
    let map = match entry {
        Value::Null => &empty,
        Value::Mapping(m) => m,
        _ => {
            let msg = "a patch entry must be a mapping (`path:` or `patch:`, `target:`): kustomize refuses the file (invalid Kustomization: json: cannot unmarshal into types.Patch)";
            return Err((at.to_vec(), msg.to_owned()));
        }
    };
    let mut out = Mapping::new();
    let mut patch_key = "patch".to_owned();
    for (field, key, v) in fields(map, &PATCH_FIELDS, at)? {
        let ok = match field {
            "path" | "patch" => v.is_string(),
            "options" => v
                .as_mapping()
                .is_some_and(|m| m.values().all(Value::is_bool)),
            _ => true,
        };
        if !ok {
            let want = if field == "options" {
                "a mapping of booleans"
            } else {
                "a string"
            };
            return Err(mistyped(at, key, want));
        }
        let v = if field == "target" {
            let target_at = [at, &[Seg::Key(key.to_owned())]].concat();
            selector(v, &target_at)?
        } else {
            v.clone()
        };
        if field == "patch" {
            key.clone_into(&mut patch_key);
        }
        out.insert(field.into(), v);
    }
    check(&out, json6902).map_err(|msg| (at.to_vec(), msg))?;
    Ok(Decoded {
        value: Value::Mapping(out),
        patch_key,
    })
}

/// kustomize's own checks of a decoded entry (`PatchTransformer.go` and
/// `PatchJson6902Transformer.go`, `Config`).
fn check(entry: &Mapping, json6902: bool) -> Result<(), String> {
    let set = |k: &str| {
        entry
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    };
    let fails = |why: &str| Err(format!("kustomize fails to build ({why})"));
    let target = entry.get("target");
    if json6902 {
        let named = target
            .and_then(|t| t.get("name"))
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        return match (target.is_some(), named, set("path"), set("patch")) {
            (false, ..) => fails("must specify a target for patch"),
            (_, false, ..) => fails("must specify the target name"),
            (.., false, false) => fails("empty file path and empty jsonOp"),
            (.., true, true) => fails("must specify a file path or jsonOp, not both"),
            _ => Ok(()),
        };
    }
    match (set("path"), set("patch")) {
        (true, true) => fails("patch and path can't be set at the same time"),
        (false, false) => fails("must specify one of patch and path"),
        _ => Ok(()),
    }
}

/// Checks one `replicas:` entry as kustomize decodes it (`api/types/replica.go`: `name`, a
/// string, and `count`, an integer).
pub(super) fn check_replica(entry: &Value, at: &[Seg]) -> Result<(), Refused> {
    let Some(map) = entry.as_mapping() else {
        if entry.is_null() {
            return Ok(());
        }
        let msg = "a `replicas` entry must be a mapping (`name:`, `count:`): kustomize refuses the file (invalid Kustomization: json: cannot unmarshal into types.Replica)";
        return Err((at.to_vec(), msg.to_owned()));
    };
    for (field, key, v) in fields(map, &["name", "count"], at)? {
        let ok = match field {
            "name" => v.is_string(),
            _ => v.as_i64().is_some() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        };
        if !ok {
            let want = if field == "name" {
                "a string"
            } else {
                "an integer"
            };
            return Err(mistyped(at, key, want));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(yaml: &str, json6902: bool) -> Result<Value, String> {
        let v: Value = yaml_serde::from_str(yaml).expect("yaml");
        decode(&v, json6902, &[])
            .map(|d| d.value)
            .map_err(|(_, m)| m)
    }

    #[test]
    fn fields_are_matched_case_insensitively_the_last_sorted_spelling_winning() {
        let v = decoded(
            "Target: {Name: a, name: b, KIND: Secret}\nPatch: x\nOptions: {allowNameChange: true}\n",
            false,
        )
        .expect("decodes");
        let target = v.get("target").expect("target");
        assert_eq!(target.get("name").and_then(Value::as_str), Some("b"));
        assert_eq!(target.get("kind").and_then(Value::as_str), Some("Secret"));
        assert_eq!(v.get("patch").and_then(Value::as_str), Some("x"));
        assert!(v.get("options").is_some());
    }

    #[test]
    fn entries_kustomize_refuses_are_refused() {
        for (yaml, json6902, why) in [
            ("null", false, "must specify one of patch and path"),
            ("x.yaml", false, "must be a mapping"),
            (
                "{path: a, patch: b}",
                false,
                "can't be set at the same time",
            ),
            (
                "{patch: b, target: []}",
                false,
                "`target` must be a mapping",
            ),
            ("{patch: b, target: {nam: x}}", false, "unknown field `nam`"),
            (
                "{patch: b, target: {name: 1}}",
                false,
                "`name` must be a string",
            ),
            (
                "{patch: b, options: {allowNameChange: 1}}",
                false,
                "booleans",
            ),
            ("{patch: b, target: {kind: Secret}}", true, "target name"),
        ] {
            let err = decoded(yaml, json6902).expect_err(yaml);
            assert!(err.contains(why), "{yaml}: {err}");
        }
        assert!(decoded("{patch: b, target: null}", false).is_ok());
    }
}
