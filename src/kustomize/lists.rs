//! The expansion of a `kind: List` document into its items, shared by the build model, the rules'
//! document reader and repository discovery.
//!
//! kustomize (api/resource/factory.go, `inlineAnyEmbeddedLists`) and `kubectl apply` read a
//! document whose kind ends in `List` as its `items`: null or empty items are an empty list, an
//! item that is a list itself is expanded the same way (kustomize queues it behind the others),
//! and `items` that is not a sequence fails the build. A list without an `items` field is not
//! expanded: kustomize keeps it as a resource of its own (`kubectl kustomize` renders it, a
//! `namePrefix` renames it, and two such lists of one name collide), see [`expands`].

use std::collections::VecDeque;

use yaml_serde::Value;

use crate::yamlpos::Seg;

/// One part of a `List`'s expansion.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Listed<'v> {
    /// An item that is not a list itself, and its path from the document.
    Item(Vec<Seg>, &'v Value),
    /// The path of an `items` that is neither a sequence nor null (kustomize: "expected array
    /// for ... items").
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

/// The items of the list `v` with their paths from it, lists inside it expanded in kustomize's
/// order (an item that is a list goes behind the items already queued; one without `items` is an
/// item itself, see [`expands`]). Empty when `v` is not a list that [`expands`].
pub(crate) fn items(v: &Value) -> Vec<Listed<'_>> {
    let mut out = Vec::new();
    if !expands(v) {
        return out;
    }
    let mut queue: VecDeque<(Vec<Seg>, &Value)> = VecDeque::from([(Vec::new(), v)]);
    while let Some((at, value)) = queue.pop_front() {
        if !expands(value) {
            out.push(Listed::Item(at, value));
            continue;
        }
        let items = match value.get("items") {
            None | Some(Value::Null) => continue,
            Some(Value::Sequence(items)) => items,
            Some(_) => {
                let mut items_at = at;
                items_at.push(Seg::from("items"));
                out.push(Listed::NotASequence(items_at));
                continue;
            }
        };
        for (i, item) in items.iter().enumerate() {
            let mut item_at = at.clone();
            item_at.extend([Seg::from("items"), Seg::Index(i)]);
            queue.push_back((item_at, item));
        }
    }
    out
}
