//! Shared YAML access for rules: every document of every YAML file, parsed with `yaml_serde`
//! and paired with its [`yamlpos::Document`] so a rule can turn a key path into a [`Location`].
//!
//! Owns only the pairing; it never reports parse errors (a file that does not parse is skipped
//! here: rendering and schema validation report it) and never holds secret values beyond the
//! parsed document the rule is looking at.

use yaml_serde::Value;

use super::{Context, SourceFile};
use crate::finding::Location;
use crate::yamlpos::{self, Seg};

/// One parsed document of a YAML file.
#[derive(Debug)]
pub struct YamlDoc<'t> {
    /// The file it came from.
    pub file: &'t SourceFile,
    /// The document's position information.
    pub doc: yamlpos::Document<'t>,
    /// The parsed document.
    pub value: Value,
}

impl YamlDoc<'_> {
    /// The document's `kind`, if it is a string.
    pub fn kind(&self) -> Option<&str> {
        self.value.get("kind").and_then(Value::as_str)
    }

    /// The document's `metadata.name`, or `""` when absent or not a string.
    pub fn name(&self) -> &str {
        self.get(&["metadata", "name"])
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The value at a path of mapping keys.
    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        get(&self.value, path)
    }

    /// The location of `path` (falling back to its longest present prefix, then the document
    /// start).
    pub fn location(&self, path: &[&str]) -> Location {
        let segs: Vec<Seg> = path.iter().map(|k| Seg::from(*k)).collect();
        match self.doc.find(&segs) {
            Some(pos) => Location::new(self.file.path.clone(), pos.line, pos.column)
                .with_bytes(pos.offset..pos.offset + path.last().map_or(0, |k| k.len())),
            None => {
                let pos = self.doc.find_or_parent(&segs);
                Location::new(self.file.path.clone(), pos.line, pos.column)
            }
        }
    }
}

/// Follows mapping keys from `value`.
pub fn get<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, k| v.get(*k))
}

/// Every document of every YAML file in `cx` that parses. Documents that are empty or not
/// mappings are skipped. Parsed once per check run and shared by every rule.
pub fn yaml_docs<'c, 't>(cx: &'c Context<'t>) -> &'c [YamlDoc<'t>] {
    cx.yaml_docs_cache().get_or_init(|| parse_all(cx.files))
}

fn parse_all(files: &[SourceFile]) -> Vec<YamlDoc<'_>> {
    let mut out = Vec::new();
    for file in files.iter().filter(|f| f.is_yaml()) {
        for doc in yamlpos::documents(&file.text) {
            let Ok(value) = crate::yamlfast::from_str(doc.text) else {
                continue;
            };
            if value.is_mapping() {
                out.push(YamlDoc { file, doc, value });
            }
        }
    }
    out
}

/// The documents of [`yaml_docs`] whose `kind` is `kind`.
pub fn docs_of_kind<'c, 't>(
    cx: &'c Context<'t>,
    kind: &'static str,
) -> impl Iterator<Item = &'c YamlDoc<'t>> {
    yaml_docs(cx).iter().filter(move |d| d.kind() == Some(kind))
}
