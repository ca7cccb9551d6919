//! Turning the models' `file:line` origins and key paths into [`Location`]s with columns and
//! byte ranges, from the text the check already read.
//!
//! Owns only position arithmetic over [`Context::files`]; it never reads files or interprets
//! values.

use super::Context;
use crate::finding::Location;
use crate::yamlpos::{self, Seg};

/// `path:line`, at the line's first non-blank character (column 1 when the text is unknown).
pub fn at_line(cx: &Context<'_>, path: &str, line: usize) -> Location {
    let line32 = u32::try_from(line).unwrap_or(u32::MAX);
    let Some(file) = cx.file(path) else {
        return Location::new(path, line32, 1);
    };
    let Some(text) = file.text.lines().nth(line.saturating_sub(1)) else {
        return Location::new(path, line32, 1);
    };
    let indent = text.chars().take_while(|c| c.is_whitespace()).count();
    Location::new(path, line32, u32::try_from(indent + 1).unwrap_or(u32::MAX))
}

/// The key at `keys` in document `doc_index` (0-based) of a YAML file, falling back to its
/// longest present prefix, then the document start.
pub fn at_yaml(cx: &Context<'_>, path: &str, doc_index: usize, keys: &[&str]) -> Location {
    let Some(file) = cx.file(path) else {
        return Location::file(path);
    };
    let docs: Vec<yamlpos::Document<'_>> = yamlpos::documents(&file.text)
        .into_iter()
        .filter(|d| {
            d.text.lines().any(|l| {
                let t = l.trim();
                !t.is_empty() && !t.starts_with('#')
            })
        })
        .collect();
    let Some(doc) = docs.get(doc_index) else {
        return Location::file(path);
    };
    let segs: Vec<Seg> = keys.iter().map(|k| Seg::from(*k)).collect();
    match doc.find(&segs) {
        Some(pos) => Location::new(path, pos.line, pos.column)
            .with_bytes(pos.offset..pos.offset + keys.last().map_or(0, |k| k.len())),
        None => {
            let pos = doc.find_or_parent(&segs);
            Location::new(path, pos.line, pos.column)
        }
    }
}
