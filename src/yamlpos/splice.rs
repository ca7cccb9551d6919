//! Byte-range edits of a text, applied at once: how `seal` rewrites a SealedSecret file and
//! `migrate` a kustomization while every other byte stays.

use std::ops::Range;

/// One splice: replace `range` of the old text with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
}

impl Edit {
    pub fn new(range: Range<usize>, text: String) -> Edit {
        Edit { range, text }
    }
}

/// Two edits of one [`splice`] that overlap: the spans they were computed from are wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("overlapping edits")]
pub struct Overlap;

/// Applies `edits` to `text`, ordered by where they start: insertions at one point keep their
/// order and come before a removal there (the sort is stable).
///
/// # Errors
/// [`Overlap`] when two edits overlap.
pub fn splice(text: &str, mut edits: Vec<Edit>) -> Result<String, Overlap> {
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out =
        String::with_capacity(text.len() + edits.iter().map(|e| e.text.len()).sum::<usize>());
    let mut pos = 0;
    for e in edits {
        if e.range.start < pos {
            return Err(Overlap);
        }
        out.push_str(&text[pos..e.range.start]);
        out.push_str(&e.text);
        pos = e.range.end;
    }
    out.push_str(&text[pos..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_order_of_start_and_overlaps_are_refused() {
        let text = "a: 1\nb: 2\n";
        let edits = vec![
            Edit::new(5..10, String::new()),
            Edit::new(5..5, "x: 0\n".into()),
            Edit::new(3..4, "9".into()),
        ];
        assert_eq!(splice(text, edits).as_deref(), Ok("a: 9\nx: 0\n"));
        let overlapping = vec![
            Edit::new(0..4, String::new()),
            Edit::new(3..5, String::new()),
        ];
        assert_eq!(splice(text, overlapping), Err(Overlap));
    }
}
