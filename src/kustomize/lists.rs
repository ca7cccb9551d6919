//! The expansion of a `kind: List` document into its items, shared by the build model, the rules'
//! document reader and repository discovery.
//!
//! kustomize reads lists in two places, which disagree on odd input:
//!
//! - kyaml's reader (`kyaml/kio/byteio_reader.go` `ByteReader.Read`) unwraps a document of kind
//!   `List` or `ResourceList` holding an `items` or a `functionConfig` field, but only when it is
//!   the only piece its file is cut into at `---` lines ([`only_piece`]). It takes the items node's
//!   children: a sequence's elements; nothing for a scalar, null or `{}`; a mapping's keys and
//!   values (each fails the build, "missing Resource metadata"). The same reader reads again each
//!   item of a list the factory expands (api/resource/factory.go `convertObjectSliceToNodeSlice`),
//!   so an item that is such a list is unwrapped in its place, as leniently.
//! - the factory (api/resource/factory.go `inlineAnyEmbeddedLists`) expands any other document
//!   whose kind ends in `List` and that has an `items` field: null items are an empty list, items
//!   that are lists themselves are queued behind the others, and `items` that is not a sequence
//!   fails the build ("expected array in ... items"). A list without an `items` field is not
//!   expanded: kustomize keeps it as a resource of its own (`kubectl kustomize` renders it, a
//!   `namePrefix` renames it, and two such lists of one name collide), see [`expands`].

use std::collections::VecDeque;

use yaml_serde::Value;

use crate::yamlpos::Seg;

/// One part of a `List`'s expansion.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Listed<'v> {
    /// An item that is not a list itself, and its path from the document.
    Item(Vec<Seg>, &'v Value),
    /// The path of an `items` that fails the build: neither a sequence nor null in a list the
    /// factory expands (kustomize: "expected array for ... items"), or a non-empty mapping in a
    /// list kyaml's reader unwraps, whose keys and values it reads as objects (kustomize:
    /// "missing Resource metadata").
    NotASequence(Vec<Seg>),
}

/// True for a value whose kind ends in `List` (`List`, `SecretList`, ...), which kustomize
/// expands into its items.
pub(crate) fn is_list(v: &Value) -> bool {
    v.get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
}

/// True for a list kustomize expands into its items: one ([`is_list`]) with an `items` field,
/// even a null one. A list without `items` is kept whole, as any other object
/// (api/resource/factory.go `inlineAnyEmbeddedLists` expands only a list holding the field).
pub(crate) fn expands(v: &Value) -> bool {
    is_list(v) && v.get("items").is_some()
}

/// True for a list kyaml's reader unwraps when it reads it alone: kind exactly `List` or
/// `ResourceList`, with an `items` or a `functionConfig` field (`kyaml/kio/byteio_reader.go`).
fn unwraps(v: &Value) -> bool {
    matches!(
        v.get("kind").and_then(Value::as_str),
        Some("List" | "ResourceList")
    ) && (v.get("items").is_some() || v.get("functionConfig").is_some())
}

/// [`expands`] for a document of a file: also a list kyaml's reader unwraps when the document is
/// the [`only_piece`] of its file (`alone`), such as a `List` with a `functionConfig` and no
/// `items`, which is then read as no object at all.
pub(crate) fn expands_doc(v: &Value, alone: bool) -> bool {
    (alone && unwraps(v)) || expands(v)
}

/// True when kyaml's `splitDocuments` (`kyaml/kio/byteio_reader.go`) leaves `text` in one piece:
/// it cuts at each match of `\n---.*\n` (Windows line ends made `\n` first), so a `---` on the
/// first line, or on the last line with no line end, does not cut. (Turning `\r\n` into `\n`
/// neither makes nor removes a `\n---`, nor a line end after it: the text is searched as it is.)
pub(crate) fn only_piece(text: &str) -> bool {
    // When the first `\n---` has no line end after it, no later one has.
    text.find("\n---")
        .is_none_or(|at| !text[at + 1..].contains('\n'))
}

/// The `alone` of [`items_of_doc`] for the document `index` (0-based, among those a reader cut
/// from the file `text`): kyaml's reader decodes one document per piece, the first (up to a `...`
/// line), so only the first document of a file that is its [`only_piece`] is read alone; a
/// document after a `...` line is not read at all (`kubectl kustomize` drops it).
pub(crate) fn alone(text: &str, index: usize) -> bool {
    index == 0 && only_piece(text)
}

/// The items of the document `v` with their paths from it, lists inside it expanded in
/// kustomize's order (see the module documentation). `alone`: the document is the
/// [`only_piece`] of its file. Empty when `v` is not a list that [`expands_doc`].
pub(crate) fn items_of_doc(v: &Value, alone: bool) -> Vec<Listed<'_>> {
    let mut out = Vec::new();
    let mut queue: VecDeque<(Vec<Seg>, &Value)> = VecDeque::new();
    if alone && unwraps(v) {
        unwrap(&[], v, &mut queue, &mut out);
    } else if expands(v) {
        queue.push_back((Vec::new(), v));
    }
    while let Some((at, value)) = queue.pop_front() {
        if !expands(value) {
            out.push(Listed::Item(at, value));
            continue;
        }
        let items = match value.get("items") {
            None | Some(Value::Null) => continue,
            Some(Value::Sequence(items)) => items,
            Some(_) => {
                out.push(Listed::NotASequence(items_path(&at)));
                continue;
            }
        };
        for (i, item) in items.iter().enumerate() {
            let mut item_at = items_path(&at);
            item_at.push(Seg::Index(i));
            if unwraps(item) {
                unwrap(&item_at, item, &mut queue, &mut out);
            } else {
                queue.push_back((item_at, item));
            }
        }
    }
    out
}

/// The objects of [`items_of_doc`] with their paths, without the `items` that fail the build.
pub(crate) fn objects_of_doc(v: &Value, alone: bool) -> impl Iterator<Item = (Vec<Seg>, &Value)> {
    (items_of_doc(v, alone).into_iter()).filter_map(|l| match l {
        Listed::Item(at, item) => Some((at, item)),
        Listed::NotASequence(_) => None,
    })
}

/// Queues the children of the `items` of `list` (at `at`), a list kyaml's reader unwraps: a
/// sequence's elements; nothing for a scalar, null or empty mapping; a non-empty mapping is a
/// [`Listed::NotASequence`].
fn unwrap<'v>(
    at: &[Seg],
    list: &'v Value,
    queue: &mut VecDeque<(Vec<Seg>, &'v Value)>,
    out: &mut Vec<Listed<'v>>,
) {
    match list.get("items") {
        Some(Value::Sequence(items)) => {
            for (i, item) in items.iter().enumerate() {
                let mut item_at = items_path(at);
                item_at.push(Seg::Index(i));
                queue.push_back((item_at, item));
            }
        }
        Some(Value::Mapping(m)) if !m.is_empty() => out.push(Listed::NotASequence(items_path(at))),
        _ => {}
    }
}

/// The path of the `items` of the list at `at`.
fn items_path(at: &[Seg]) -> Vec<Seg> {
    let mut items_at = at.to_vec();
    items_at.push(Seg::from("items"));
    items_at
}

#[cfg(test)]
mod tests {
    /// `kubectl kustomize` drops a document after a `...` line: it is not read alone.
    #[test]
    fn alone_is_the_first_document_only() {
        let text = "kind: List\nitems: []\n...\nkind: List\nitems: []\n";
        assert_eq!(crate::yamlpos::document_pieces(text).len(), 2);
        assert!(super::alone(text, 0) && !super::alone(text, 1));
        assert!(!super::alone("kind: A\n---\nkind: List\nitems: []\n", 0));
        // Windows line ends cut as `\n` ones; a last `---` with no line end does not cut.
        assert!(!super::only_piece("kind: A\r\n---\r\nkind: B\r\n"));
        assert!(super::only_piece("kind: A\r\n---") && super::only_piece("---\r\nkind: A\r\n"));
    }
}
