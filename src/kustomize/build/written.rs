//! Values a patch writes into a Secret or a SealedSecret. The rules read every `kind: Secret` and
//! `kind: SealedSecret` document of the repository, but a value written by an inline patch of a
//! kustomization (a string inside `patches:`) or by a JSON 6902 operation (a list of operations,
//! not a document of either kind) reaches the render without being in such a document. The build
//! knows what each patch targets, so it hands those values to the rules ([`WrittenValue`]), and
//! every value a patch writes to `seal`, whose sealed value a patch would replace.

use std::path::Path;

use yaml_serde::Value;

use super::super::{Origin, WrittenValue};
use crate::yamlpos::Seg;

/// A value field's key path and the name a [`WrittenValue`] gives it.
type Field = (&'static [&'static str], &'static str);

/// The mapping fields that hold an object's values, by kind, each with the name a
/// [`WrittenValue`] gives it. A `SealedSecret`'s template `data` (and `stringData`) is text the
/// controller copies into its Secret (bitnami-labs/sealed-secrets `sealedsecret_expansion.go`):
/// plaintext, as a Secret's.
fn value_fields(kind: &str) -> &'static [Field] {
    match kind {
        "Secret" => &[(&["data"], "data"), (&["stringData"], "stringData")],
        "SealedSecret" => &[
            (&["spec", "encryptedData"], "encryptedData"),
            (&["spec", "template", "data"], "spec.template.data"),
            (
                &["spec", "template", "stringData"],
                "spec.template.stringData",
            ),
        ],
        _ => &[],
    }
}

/// Whether objects of `kind` hold values a patch may write (a Secret, a SealedSecret).
pub(super) fn holds_values(kind: &str) -> bool {
    !value_fields(kind).is_empty()
}

/// Whether the key path `at` equals `field` up to `at`'s length.
fn is_prefix(at: &[Seg], field: &[&str]) -> bool {
    at.len() <= field.len()
        && at
            .iter()
            .zip(field)
            .all(|(s, f)| matches!(s, Seg::Key(k) if k == f))
}

/// Every `(field, key, value)` that `value`, written at the key path `at` of an object of `kind`,
/// puts in the object's value fields: the whole object (a strategic-merge patch, `at` empty),
/// a whole field or one key (a JSON 6902 `add`/`replace`).
fn entries<'v>(kind: &str, at: &[Seg], value: &'v Value) -> Vec<(Field, String, &'v Value)> {
    let mut out = Vec::new();
    for &(field, label) in value_fields(kind) {
        let field_label = (field, label);
        if is_prefix(at, field) {
            let inner = crate::yamlpos::value_at(value, &field[at.len()..]);
            if let Some(Value::Mapping(m)) = inner {
                let keyed = m
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v)));
                out.extend(keyed.map(|(k, v)| (field_label, k, v)));
            }
        } else if let [head @ .., Seg::Key(key)] = at
            && head.len() == field.len()
            && is_prefix(head, field)
        {
            out.push((field_label, key.clone(), value));
        }
    }
    out
}

/// A patch writing into one object: what the recorded values say of both.
pub(super) struct Write<'a> {
    /// The object's kind and its name when the patch applies.
    pub(super) kind: &'a str,
    pub(super) name: &'a str,
    /// The file (repository-relative), name and namespace the object is written with.
    pub(super) object_file: &'a Path,
    pub(super) object_name: &'a str,
    pub(super) object_namespace: Option<&'a str>,
    /// The patch's file (repository-relative).
    pub(super) patch_file: &'a Path,
    /// Whether the patch is a Secret or SealedSecret document in a file of its own.
    pub(super) in_document: bool,
}

/// The values a patch writes into the object `w` describes: `value` written at `at`, `line`
/// giving the line of a field's key. A Secret's value is plaintext: only whether it is filled is
/// kept (an empty one, or one that is only a variable Flux fills in, is no finding), never the
/// value.
pub(super) fn written_values(
    w: &Write<'_>,
    at: &[Seg],
    value: &Value,
    line: impl Fn(&[&str], &str) -> usize,
) -> Vec<WrittenValue> {
    let sealed = |label: &str| label == "encryptedData";
    entries(w.kind, at, value)
        .into_iter()
        .filter(|((_, label), _, v)| {
            let text = v.as_str();
            let variable = text.is_some_and(super::super::varsub::is_variable);
            // A template value holding `{{ }}` is built from the sealed values.
            let templated = label.starts_with("spec.") && text.is_some_and(|t| t.contains("{{"));
            sealed(label)
                || !matches!(v, Value::Null) && text != Some("") && !variable && !templated
        })
        .map(|((field, label), key, v)| WrittenValue {
            kind: w.kind.to_owned(),
            name: w.name.to_owned(),
            object_file: w.object_file.to_path_buf(),
            object_name: w.object_name.to_owned(),
            object_namespace: w.object_namespace.map(str::to_owned),
            field: label,
            origin: Origin::new(w.patch_file, line(field, &key)),
            in_document: w.in_document,
            ciphertext: sealed(label).then(|| v.as_str().unwrap_or_default().to_owned()),
            key,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(kind: &str, at: &[&str], yaml: &str) -> Vec<(String, String, Option<String>)> {
        let at: Vec<Seg> = at.iter().map(|k| Seg::from(*k)).collect();
        let value: Value = yaml_serde::from_str(yaml).unwrap();
        let file = Path::new("k.yaml");
        let w = Write {
            kind,
            name: "s",
            object_file: file,
            object_name: "s",
            object_namespace: None,
            patch_file: file,
            in_document: false,
        };
        written_values(&w, &at, &value, |_, _| 1)
            .into_iter()
            .map(|w| (w.field.to_owned(), w.key, w.ciphertext))
            .collect()
    }

    #[test]
    fn finds_values_written_whole_by_field_or_by_key() {
        let whole = "spec:\n  encryptedData:\n    A: x\n    B: ''\n";
        assert_eq!(
            keys("SealedSecret", &[], whole),
            [
                ("encryptedData".into(), "A".into(), Some("x".into())),
                ("encryptedData".into(), "B".into(), Some(String::new())),
            ]
        );
        let one = keys(
            "SealedSecret",
            &["spec", "encryptedData", "A"],
            "REPLACE_ME",
        );
        assert_eq!(
            one,
            [(
                "encryptedData".into(),
                "A".into(),
                Some("REPLACE_ME".into())
            )]
        );
        let field = keys("Secret", &["stringData"], "{P: hunter2, E: ''}");
        assert_eq!(field, [("stringData".into(), "P".into(), None)]);
    }

    #[test]
    fn a_sealed_secret_s_template_data_is_plaintext_unless_templated() {
        let written = keys(
            "SealedSecret",
            &["spec", "template"],
            "{data: {A: aHVudGVy, T: '{{ .a }}', E: ''}}",
        );
        assert_eq!(written, [("spec.template.data".into(), "A".into(), None)]);
        let one = keys(
            "SealedSecret",
            &["spec", "template", "stringData", "P"],
            "hunter2",
        );
        assert_eq!(one, [("spec.template.stringData".into(), "P".into(), None)]);
    }

    #[test]
    fn ignores_other_fields_and_kinds() {
        assert!(keys("ConfigMap", &["data"], "{A: x}").is_empty());
        assert!(keys("Secret", &["metadata", "labels"], "{A: x}").is_empty());
        assert!(keys("SealedSecret", &["spec", "template"], "{type: Opaque}").is_empty());
        assert!(keys("Secret", &["data", "A", "deeper"], "x").is_empty());
    }
}
