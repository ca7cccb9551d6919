//! Turning the models' `file:line` origins and key paths into [`Location`]s with columns and
//! byte ranges, from the text the check already read.
//!
//! Owns only position arithmetic over [`Context::files`]; it never reads files or interprets
//! values. A file's line starts and YAML documents are found once per run (`Positions`), so
//! that a file with thousands of findings is not rescanned from the top for each of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::{Context, SourceFile};
use crate::finding::Location;
use crate::yamlpos::{self, Seg};

/// The per-file position tables of one run, built on first use.
#[derive(Debug, Default)]
pub(super) struct Positions<'a> {
    files: Mutex<HashMap<&'a str, Arc<FileIndex<'a>>>>,
}

/// Where a file's lines start and its YAML documents that hold more than comments.
#[derive(Debug)]
struct FileIndex<'a> {
    text: &'a str,
    line_starts: OnceLock<Vec<usize>>,
    docs: OnceLock<Vec<yamlpos::Document<'a>>>,
}

impl<'a> FileIndex<'a> {
    /// Line `idx` (0-based) as [`str::lines`] gives it.
    fn line(&self, idx: usize) -> Option<&'a str> {
        let text = self.text;
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .filter(|&i| i < text.len())
                .collect()
        });
        let start = *starts.get(idx)?;
        let end = starts.get(idx + 1).copied().unwrap_or(text.len());
        let line = &text[start..end];
        Some(match line.strip_suffix('\n') {
            Some(l) => l.strip_suffix('\r').unwrap_or(l),
            None => line,
        })
    }

    /// The documents kustomize reads, in file order: the numbering the models' `doc_index`
    /// uses ([`yamlpos::kyaml_documents`]).
    fn docs(&self) -> &[yamlpos::Document<'a>] {
        self.docs
            .get_or_init(|| yamlpos::kyaml_documents(self.text))
    }
}

/// The position tables of `file`, shared by every finding located in it.
fn index<'a>(cx: &Context<'a>, file: &'a SourceFile) -> Arc<FileIndex<'a>> {
    let mut files = (cx.positions.files.lock()).unwrap_or_else(PoisonError::into_inner);
    let entry = files.entry(file.path.as_str()).or_insert_with(|| {
        Arc::new(FileIndex {
            text: &file.text,
            line_starts: OnceLock::new(),
            docs: OnceLock::new(),
        })
    });
    Arc::clone(entry)
}

/// `path:line`, at the line's first non-blank character (column 1 when the text is unknown).
pub fn at_line(cx: &Context<'_>, path: &str, line: usize) -> Location {
    let line32 = u32::try_from(line).unwrap_or(u32::MAX);
    let Some(file) = cx.file(path) else {
        return Location::new(path, line32, 1);
    };
    let Some(text) = index(cx, file).line(line.saturating_sub(1)) else {
        return Location::new(path, line32, 1);
    };
    let indent = text.chars().take_while(|c| c.is_whitespace()).count();
    Location::new(path, line32, u32::try_from(indent + 1).unwrap_or(u32::MAX))
}

/// The key at `keys` in the `SealedSecret` of document `doc_index` whose `metadata.name` is on
/// `name_line`: the document itself, or the item of a `List` there that the `sealedsecret`
/// reader read with that line ([`crate::sealedsecret::ListedSealedSecret`]). Otherwise the key
/// in the document, falling back to its longest present prefix, then the document start.
pub fn at_sealed(
    cx: &Context<'_>,
    path: &str,
    (doc_index, name_line): (usize, usize),
    keys: &[&str],
) -> Location {
    let listed = match cx.sealed_files().get(path) {
        Some(Ok(f)) => f.listed.as_slice(),
        _ => &[],
    };
    let item = listed
        .iter()
        .find(|l| l.index == doc_index && l.line == name_line)
        .map_or(&[][..], |l| l.item.as_slice());
    at_path(cx, path, doc_index, item, keys)
}

/// The key at `keys` under `item` (empty for the document itself) in document `doc_index`.
fn at_path(
    cx: &Context<'_>,
    path: &str,
    doc_index: usize,
    item: &[Seg],
    keys: &[&str],
) -> Location {
    let Some(file) = cx.file(path) else {
        return Location::file(path);
    };
    let index = index(cx, file);
    let Some(doc) = index.docs().get(doc_index) else {
        return Location::file(path);
    };
    let segs: Vec<Seg> = (item.iter().cloned())
        .chain(keys.iter().map(|k| Seg::from(*k)))
        .collect();
    match doc.find(&segs) {
        Some(pos) => Location::new(path, pos.line, pos.column)
            .with_bytes(doc.key_bytes(pos, keys.last().copied().unwrap_or_default())),
        None => {
            let pos = doc.find_or_parent(&segs);
            Location::new(path, pos.line, pos.column)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_as_str_lines_does() {
        for text in ["", "a", "a\n", "a\r\nb", "\n\nc\n", "x\ny\r\n\nz"] {
            let index = FileIndex {
                text,
                line_starts: OnceLock::new(),
                docs: OnceLock::new(),
            };
            let got: Vec<&str> = (0..).map_while(|i| index.line(i)).collect();
            assert_eq!(got, text.lines().collect::<Vec<_>>(), "{text:?}");
        }
    }
}
