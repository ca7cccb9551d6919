//! `SealedSecret`s that are items of a `List` document, which kustomize expands
//! (`kustomize::lists`) and the controller then reads like any other.
//!
//! Read from the item's parsed value by the same typed reader as a document
//! ([`super::read_typed`]), with the lines of its keys found by path. No layout is kept: the
//! span-exact editor edits documents only, and `seal` refuses an item
//! ([`super::ParsedFile::listed_sealed_secret_line`]).

use yaml_serde::Value;

use super::{
    EncryptedDataLayout, EncryptedEntry, SealedSecretDoc, SealedSecretError, not_a_mapping,
    not_a_string, read_typed,
};
use crate::yamlpos::{self, ScalarStyle, Seg};

/// A `SealedSecret` that is an item of a `List` document.
#[derive(Debug, Clone)]
pub struct ListedSealedSecret {
    /// 0-based index of the `List` document among the file's documents.
    pub index: usize,
    /// Its path in that document (`items`, 0; a List inside a List's items: `items`, 2, `items`,
    /// 0).
    pub item: Vec<Seg>,
    /// 1-based line of its `metadata.name` (or of the nearest key above it when it has none).
    pub line: usize,
    /// What it says. Its `encryptedData` entries have the line and column of their key and an
    /// empty span (nothing edits them); a layout is `Block` for any non-empty mapping.
    pub sealed_secret: SealedSecretDoc,
}

/// Reads the `SealedSecret` `value` at `item` of document `index` (`doc`). Refused as a document
/// would be: a field of the wrong type, another `apiVersion`, or a non-string value.
pub(super) fn read(
    doc: &yamlpos::Document<'_>,
    index: usize,
    item: Vec<Seg>,
    value: &Value,
) -> Result<ListedSealedSecret, SealedSecretError> {
    let pos = |path: &[&str]| {
        let segs: Vec<Seg> = (item.iter().cloned())
            .chain(path.iter().map(|k| Seg::from(*k)))
            .collect();
        doc.find_or_parent(&segs)
    };
    let at = |path: &[&str]| {
        let p = pos(path);
        (p.line as usize, p.column as usize)
    };
    let mut ss = read_typed(value, &at)?;
    let data = value.get("spec").and_then(|s| s.get("encryptedData"));
    if let Some(Value::Mapping(em)) = data {
        ss.encrypted_data_layout = if em.is_empty() {
            EncryptedDataLayout::FlowEmpty
        } else {
            EncryptedDataLayout::Block
        };
        let data_at = ["spec", "encryptedData"];
        for (k, v) in em {
            let key = k.as_str().ok_or_else(|| {
                not_a_mapping(at(&data_at), "spec.encryptedData (a key that is no string)")
            })?;
            let p = pos(&["spec", "encryptedData", key]);
            let (text, style) = match v {
                Value::String(s) => (s.clone(), ScalarStyle::Plain),
                Value::Null => (String::new(), ScalarStyle::Empty),
                _ => {
                    let at = (p.line as usize, p.column as usize);
                    return Err(not_a_string(at, format!("spec.encryptedData.{key}")));
                }
            };
            ss.encrypted_data.push(EncryptedEntry {
                key: key.to_owned(),
                value: text,
                line: p.line as usize,
                column: p.column as usize,
                span: p.offset..p.offset,
                style,
            });
        }
    }
    let line = at(&["metadata", "name"]).0;
    Ok(ListedSealedSecret {
        index,
        item,
        line,
        sealed_secret: ss,
    })
}
