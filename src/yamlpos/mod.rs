//! Where a key path sits in YAML text: document splitting and a line/column finder, shared by
//! `kustomize` (line numbers of references, patches and generators) and `rules` (finding
//! locations).
//!
//! `yaml_serde` gives structure but no positions; this module gives positions but no structure.
//! Use both: split a file with [`documents`], parse each [`Document::text`] with `yaml_serde`, and
//! ask [`Document::find`] where a path such as `["spec", "encryptedData", "KEY"]` sits.
//!
//! The scanner understands block mappings and block sequences (including the compact `- key: v`
//! form and sequences indented at their parent key's level), plain, single- and double-quoted keys,
//! comments, anchors and tags before a nested block, and skips the bodies of block scalars. It does
//! not understand flow collections (`{a: 1}`, `[1, 2]`), aliases as path steps, or multi-line
//! keys: there the walk stops at the line holding them (still the right line for a one-line flow
//! value), [`Document::find`] gives `None` and [`Document::find_or_parent`] the deepest step found.
//!
//! Each document's line layout (its significant lines, block-scalar bodies left out) is computed
//! once, on the first lookup, and every walk runs over it without allocating: `kustomize` locates
//! one document many times (once per reference and per patch).
//!
//! Must not interpret values (typing is `yaml_serde`'s job) and never reads files.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::OnceLock;

pub(crate) mod block;
pub(crate) mod flow;
pub(crate) mod scalar;
mod splice;

pub use block::ScalarStyle;
pub use splice::{Edit, Overlap, splice};

/// A layout the scanners cannot place byte-exactly: `line:column` (1-based, in the scanned text)
/// and what was found there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {what}")]
pub struct Unsupported {
    pub line: usize,
    pub column: usize,
    pub what: String,
}

/// One step of a path into a YAML document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    /// A 0-based sequence index.
    Index(usize),
}

impl From<&str> for Seg {
    fn from(k: &str) -> Seg {
        Seg::Key(k.to_owned())
    }
}

impl From<usize> for Seg {
    fn from(i: usize) -> Self {
        Seg::Index(i)
    }
}

/// A step a path into a parsed value can take: a [`Seg`], or a mapping key written as `&str`.
pub trait Step {
    /// The value one step into `v`: a key of a mapping, an index of a sequence (never a
    /// numeric key of a mapping).
    fn step<'v>(&self, v: &'v yaml_serde::Value) -> Option<&'v yaml_serde::Value>;
}

impl Step for Seg {
    fn step<'v>(&self, v: &'v yaml_serde::Value) -> Option<&'v yaml_serde::Value> {
        match self {
            Seg::Key(k) => k.as_str().step(v),
            Seg::Index(i) => v.as_sequence()?.get(*i),
        }
    }
}

impl Step for &str {
    fn step<'v>(&self, v: &'v yaml_serde::Value) -> Option<&'v yaml_serde::Value> {
        v.get(*self)
    }
}

/// The value at `path` in the parsed value `v`: the one lookup of a path in a parsed document
/// (the text position of the same path is [`Document::find`]).
pub fn value_at<'v, S: Step>(
    v: &'v yaml_serde::Value,
    path: &[S],
) -> Option<&'v yaml_serde::Value> {
    path.iter().try_fold(v, |v, s| s.step(v))
}

/// A path as messages name it: `spec.containers[0].env[1].valueFrom.secretKeyRef.name`.
pub fn dotted(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// A position in the whole file: 1-based line and column (characters), and the byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
    pub offset: usize,
}

/// One YAML document of a (possibly multi-document) file.
#[derive(Debug, Clone)]
pub struct Document<'t> {
    /// The document's text, without its `---` / `...` marker lines.
    pub text: &'t str,
    /// 1-based line in the file where `text` starts.
    pub first_line: u32,
    /// Byte offset in the file where `text` starts.
    pub offset: usize,
    /// The line layout of `text` lent by a caller who keeps it for many lookups
    /// ([`Document::with_layout`]).
    lent: Option<&'t Layout>,
    /// Otherwise the line layout of `text`, computed on the first lookup.
    layout: OnceLock<Layout>,
}

/// A piece of a file between document markers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Piece<'t> {
    /// The text between the markers (marker lines excluded).
    pub(crate) text: &'t str,
    /// 1-based line in the file where `text` starts.
    pub(crate) first_line: usize,
    /// Byte offset in the file where `text` starts.
    pub(crate) offset: usize,
    /// True when a `---` line opened this piece.
    pub(crate) explicit: bool,
    /// 1-based line where the `%` directive lines before the opening `---` start (they belong
    /// to this piece's document); `first_line` when there are none.
    pub(crate) head_line: usize,
}

/// True for a document marker line (`---` with `start`, else `...`), optionally followed by
/// blanks and a comment (or, after `---`, by content).
fn is_marker(bare: &str, start: bool) -> bool {
    let Some(rest) = bare.strip_prefix(if start { "---" } else { "..." }) else {
        return false;
    };
    rest.is_empty() || rest.starts_with([' ', '\t'])
}

/// Whether some line of `text` starts with `marker`: a quick test for the markers
/// [`is_marker`] finds.
fn opens_a_line(text: &str, marker: &str) -> bool {
    // A match at 0 is the `starts_with`: every later one has a byte before it.
    text.starts_with(marker)
        || (text.match_indices(marker)).any(|(at, _)| text.as_bytes()[at - 1] == b'\n')
}

/// Where a `yaml_serde` error points in `text`, the text it parsed: 1-based line and column.
/// libyaml's reader errors (a control character, invalid UTF-16) give their place only in the
/// message, "at position N", a byte offset into the input (their `location()` says line 1,
/// column 1), which is turned into the line and column of that byte here; other errors carry
/// a location.
///
/// A repeated key is placed at its second occurrence, the line to fix (go-yaml, which kustomize
/// reads with, says "mapping key already defined at line N" there too); `yaml_serde` places it
/// at the start of its mapping.
///
/// A second document with no `---` line before it is placed at its start.
pub(crate) fn error_position(text: &str, e: &yaml_serde::Error) -> Option<(usize, usize)> {
    let message = e.to_string();
    let offset = message
        .rsplit_once(" at position ")
        .and_then(|(_, n)| n.parse::<usize>().ok())
        .or_else(|| {
            message
                .contains(MORE_THAN_ONE)
                .then(|| second_document(text))?
        });
    let Some(offset) = offset.map(|n| n.min(text.len())) else {
        let at = e.location().map(|l| (l.line(), l.column()));
        let second = repeated_key(text, e).map(|(_, _, second)| second);
        return at.map(|(line, column)| (second.unwrap_or(line), column));
    };
    let before = &text.as_bytes()[..offset];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    Some((
        crate::fsio::line_at(text.as_bytes(), offset),
        offset - line_start + 1,
    ))
}

/// A `yaml_serde` error's message for users: without its " at position N" (a byte offset, shown
/// as a line instead) and without the input it quotes. serde's `invalid value: string "VALUE",
/// expected an integer` (a scalar whose `!!int`/`!!bool`/`!!float`/`!!null` tag does not match
/// it; serde `de/mod.rs` `Error::invalid_value`, `yaml_serde` `de.rs`) would print the scalar,
/// which may be a Secret's value: only its type and what was expected are kept.
pub(crate) fn error_message(e: &yaml_serde::Error) -> String {
    let full = e.to_string();
    if full.contains(MORE_THAN_ONE) {
        return SECOND_DOCUMENT.to_owned();
    }
    let message = without_offset(&full);
    for lead in ["invalid value: ", "invalid type: "] {
        let Some((before, rest)) = message.split_once(lead) else {
            continue;
        };
        let kind = rest.split([' ', ',']).next().unwrap_or_default();
        // The last ", expected": the quoted scalar may hold those words itself.
        let tail = rest
            .rfind(", expected ")
            .or_else(|| rest.rfind(" at line "))
            .map_or("", |at| &rest[at..]);
        return format!("{before}{lead}{kind} (not shown){tail}");
    }
    message.to_owned()
}

/// `yaml_serde`'s words for a text holding a second document.
const MORE_THAN_ONE: &str = "more than one document";

/// What a second document with no `---` line before it means for kustomize. kyaml cuts a file
/// at `---` lines and decodes one document per piece, so the rest of the piece is dropped
/// without a word (kustomize `kyaml/kio/byteio_reader.go`); `kubeseal >> s.json` makes such
/// files, one JSON object after another.
pub(crate) const SECOND_DOCUMENT: &str = "a second document follows the first with no `---` line between them (JSON objects written one after another?): kustomize reads only the first and drops the rest without a word; put a `---` line between documents";

/// Where the second document of `text` starts, when its first is a flow collection (a JSON
/// object or list) followed by more than blanks and comments: the byte offset. `None` for any
/// other first document (anchored, tagged, a scalar): the error then keeps the piece's start.
fn second_document(text: &str) -> Option<usize> {
    let skip = |from: usize| {
        let mut at = from;
        for line in text[from..].split_inclusive('\n') {
            if !is_trivia(line.trim_end()) {
                return Some(at + (line.len() - line.trim_start().len()));
            }
            at += line.len();
        }
        None
    };
    let start = skip(0)?;
    if !text[start..].starts_with(['{', '[']) {
        return None;
    }
    let (_, end) = flow::parse(text, start).ok()?;
    // The rest of the first node's line, then the next line holding more than trivia.
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    let tail = text[end..line_end].trim();
    if !tail.is_empty() && !tail.starts_with('#') {
        return Some(end + (text[end..].len() - text[end..].trim_start().len()));
    }
    skip(line_end)
}

/// For `yaml_serde`'s "duplicate entry with key \"K\"" in a block mapping: the key, and the
/// 1-based lines in `text` of its first and second occurrence. The mapping starts at the error's
/// location (its first line may open a list item, `- K: 1`); its keys sit at that column, plain
/// or quoted, and it ends at the first line indented less, or at another list item. `None` when
/// the two are not found so (a flow mapping, a key over several lines): the caller keeps the
/// mapping's start.
pub(crate) fn repeated_key(text: &str, e: &yaml_serde::Error) -> Option<(String, usize, usize)> {
    let message = e.to_string();
    let rest = message.split("duplicate entry with key \"").nth(1)?;
    let key = rest.split('"').next()?;
    let loc = e.location()?;
    let indent = loc.column().checked_sub(1)?;
    let names = [key.to_owned(), format!("\"{key}\""), format!("'{key}'")];
    let holds_key = |l: &str| {
        let at = l.get(indent..).unwrap_or_default();
        (names.iter()).any(|n| {
            at.strip_prefix(n.as_str())
                .is_some_and(|r| r.trim_start().starts_with(':'))
        })
    };
    let mut found = Vec::new();
    for (n, l) in (1..).zip(text.lines()).skip(loc.line().checked_sub(1)?) {
        let lead = l.len() - l.trim_start_matches(' ').len();
        let first = n == loc.line();
        let blank = l.trim().is_empty() || l.trim_start().starts_with('#');
        if !first && !blank && (lead < indent || (lead == indent && l[lead..].starts_with('-'))) {
            break;
        }
        let lead_ok = first
            && (l.get(..indent)).is_some_and(|p| p.bytes().all(|b| b == b' ' || b == b'-'))
            || !first && lead == indent;
        if lead_ok && holds_key(l) {
            found.push(n);
            if found.len() == 2 {
                return Some((key.to_owned(), found[0], found[1]));
            }
        }
    }
    None
}

/// `message` without its " at position N" (a byte offset, shown as a line instead).
fn without_offset(message: &str) -> &str {
    message
        .rsplit_once(" at position ")
        .filter(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .map_or(message, |(m, _)| m)
}

/// Blank or a comment.
pub(crate) fn is_trivia(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// Where each line of a YAML text has a comment: the byte offset of its `#` in the line, or
/// `None`. A `#` starts a comment at a line's start or after a blank, outside a quoted scalar
/// (one that goes on over lines included) and outside the body of a block scalar (`key: |`),
/// where it is content (YAML 1.2, sections 6.6 and 8.1). Lines end at `\n`, as
/// [`str::lines`] cuts them.
pub(crate) fn comment_offsets(text: &str) -> Vec<Option<usize>> {
    let mut out = Vec::new();
    let mut block_scalar: Option<usize> = None;
    let mut open_quote: Option<u8> = None;
    for line in text.lines() {
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        if let Some(parent) = block_scalar {
            if content.trim().is_empty() || indent > parent {
                out.push(None);
                continue;
            }
            block_scalar = None;
        }
        let comment = line_comment(line, &mut open_quote);
        if comment.is_none()
            && open_quote.is_none()
            && block::opens_block_scalar(content.trim_end())
        {
            block_scalar = Some(indent);
        }
        out.push(comment);
    }
    out
}

/// The offset of the comment on `line`, if any (see [`comment_offsets`]); `open_quote` is the
/// quote of a scalar an earlier line left open, and is left set when this line leaves one open.
fn line_comment(line: &str, open_quote: &mut Option<u8>) -> Option<usize> {
    let b = line.as_bytes();
    let mut p = 0;
    if let Some(q) = *open_quote {
        p = quote_end(b, 0, q)?;
        *open_quote = None;
    }
    while p < b.len() {
        let after_blank = p == 0 || matches!(b[p - 1], b' ' | b'\t');
        match b[p] {
            b'#' if after_blank => return Some(p),
            q @ (b'"' | b'\'')
                if p == 0 || matches!(b[p - 1], b' ' | b'\t' | b'[' | b'{' | b',' | b':') =>
            {
                match quote_end(b, p + 1, q) {
                    Some(end) => p = end,
                    None => {
                        *open_quote = Some(q);
                        return None;
                    }
                }
            }
            _ => p += 1,
        }
    }
    None
}

/// The offset after the quote `q` that closes a scalar whose text starts at `from` (`\` escapes
/// in a double-quoted scalar, `''` in a single-quoted one), if it closes on this line.
fn quote_end(b: &[u8], from: usize, q: u8) -> Option<usize> {
    let mut p = from;
    while p < b.len() {
        match b[p] {
            b'\\' if q == b'"' => p += 2,
            c if c == q => {
                if q == b'\'' && b.get(p + 1) == Some(&b'\'') {
                    p += 2;
                } else {
                    return Some(p + 1);
                }
            }
            _ => p += 1,
        }
    }
    None
}

/// How deep flow collections (`[`, `{`) may nest before a document is not parsed. The YAML
/// parser's scanner takes time growing with the square of that depth (libyaml keeps a possible
/// key per level and walks them all at each token), so a file of nothing but `[` can stall a
/// pre-commit hook. The parser refuses anything deeper than 128
/// levels anyway; the brackets are counted by a rule of thumb, not a parse, hence the margin.
pub(crate) const MAX_FLOW_DEPTH: usize = 512;

/// `text` with each carriage return that no line feed follows turned into a line feed. YAML
/// (1.2, section 5.4) and the parsers kustomize and kubectl use break lines at a lone CR as at
/// LF or CRLF, while emp-seal's line-based readers (document splitting, comments, positions)
/// look for LF: a file saved with old Mac line endings would read as one comment line, and a
/// Secret in it would go unseen. The length is unchanged, so byte offsets still hold. For text
/// read as YAML only (an env file's lines end at LF, as kustomize reads them).
pub(crate) fn lone_cr_as_lf(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let mut bytes = text.into_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            bytes[i] = b'\n';
        }
    }
    String::from_utf8(bytes).expect("invariant: one ASCII byte replaced by another")
}

/// Why a document nested deeper than [`MAX_FLOW_DEPTH`] is not read.
pub(crate) const TOO_DEEP: &str = "flow collections (`[`, `{`) nested more than 512 deep, which no manifest needs: not parsed (parsing takes time growing with the square of the depth)";

/// The 1-based line of `text` at which flow collections first nest deeper than
/// [`MAX_FLOW_DEPTH`] (one pass, before the parser sees the text). A bracket opens a collection
/// only where a value may start: after `:`, `-`, `,`, `?`, another opening bracket, or at the
/// start of a line, spaces aside. So `\033[32m` in a script, or `"[INFO]"`, is not counted.
pub(crate) fn too_deep(text: &str) -> Option<usize> {
    let (mut depth, mut line, mut before) = (0usize, 1, b'\n');
    for b in text.bytes() {
        match b {
            b'[' | b'{' if matches!(before, b'\n' | b':' | b'-' | b',' | b'?' | b'[' | b'{') => {
                depth += 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'\n' => line += 1,
            _ => {}
        }
        if depth > MAX_FLOW_DEPTH {
            return Some(line);
        }
        if !matches!(b, b' ' | b'\t') {
            before = b;
        }
    }
    None
}

/// `text` without the UTF-8 byte-order mark that may open it. YAML readers skip the mark
/// (go-yaml v3 `readerc.go`, `yaml_parser_determine_encoding`, which kustomize's kyaml uses),
/// so a file saved with one builds.
pub(crate) fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Cuts `file` at every `---` line and, with `end_markers`, at every `...` line. Every piece is
/// returned, even an empty one; the caller decides which pieces are documents. `%` directive
/// lines right before a `---` (with the blank and comment lines around them) go to the piece
/// that `---` opens. A byte-order mark opening the file is in no piece ([`without_bom`]).
pub(crate) fn pieces(file: &str, end_markers: bool) -> Vec<Piece<'_>> {
    let bom = file.len() - without_bom(file).len();
    let body = &file[bom..];
    let cuts = opens_a_line(body, "---") || (end_markers && opens_a_line(body, "..."));
    if !cuts {
        // No line is a marker: the loop below would cut nowhere.
        let whole = Piece {
            text: body,
            first_line: 1,
            offset: bom,
            explicit: false,
            head_line: 1,
        };
        return vec![whole];
    }
    let mut out = Vec::new();
    let (mut start, mut start_line, mut head_line) = (bom, 1usize, 1usize);
    let mut explicit = false;
    let mut offset = bom;
    // The trailing run of directive, blank and comment lines: (line, offset, has a directive).
    let mut run: Option<(usize, usize, bool)> = None;
    for (line_no, line) in (1usize..).zip(file[bom..].split_inclusive('\n')) {
        let bare = line.trim_end_matches(['\n', '\r']);
        let is_start = is_marker(bare, true);
        if is_start || (end_markers && is_marker(bare, false)) {
            let (cut_line, cut) = match run {
                Some((l, o, true)) if is_start => (l, o),
                _ => (line_no, offset),
            };
            out.push(Piece {
                text: &file[start..cut],
                first_line: start_line,
                offset: start,
                explicit,
                head_line,
            });
            explicit = is_start;
            // Content after `--- ` on the same line (e.g. `--- # comment`) is not a key; the
            // document starts on the next line.
            start = offset + line.len();
            start_line = line_no + 1;
            head_line = if is_start { cut_line } else { start_line };
            run = None;
        } else if bare.starts_with('%') || is_trivia(bare) {
            let (l, o, directive) = run.unwrap_or((line_no, offset, false));
            run = Some((l, o, directive || bare.starts_with('%')));
        } else {
            run = None;
        }
        offset += line.len();
    }
    out.push(Piece {
        text: &file[start..],
        first_line: start_line,
        offset: start,
        explicit,
        head_line,
    });
    out
}

/// The pieces of [`pieces`] (cut at `---` and `...`) that are documents, as a YAML stream has
/// them: text before the first `---` or after a `...` that holds only comments and blank lines
/// is not a document; an explicit empty document (`---` then nothing) is one.
pub(crate) fn document_pieces(file: &str) -> Vec<Piece<'_>> {
    let has_content = |text: &str| text.lines().any(|l| !is_trivia(l));
    pieces(file, true)
        .into_iter()
        .filter(|p| p.explicit || has_content(p.text))
        .collect()
}

/// The pieces of `file` that kustomize reads as documents, in its order: the numbering of the
/// kustomize model's `doc_index`. kyaml cuts a file at `---` lines only and decodes one document
/// per piece, so a `...` line ends the piece's document and what follows it up to the next `---`
/// is never read (kustomize `kyaml/kio/byteio_reader.go`); each piece's `text` stops there.
/// Pieces holding nothing but blank, comment and `...` lines are no document.
pub(crate) fn kyaml_pieces(file: &str) -> Vec<Piece<'_>> {
    pieces(file, false)
        .into_iter()
        .filter(Piece::significant)
        .map(|p| Piece {
            text: first_document(p.text),
            ..p
        })
        .collect()
}

/// The documents of [`kyaml_pieces`], to find positions in.
pub(crate) fn kyaml_documents(file: &str) -> Vec<Document<'_>> {
    kyaml_pieces(file)
        .iter()
        .map(|p| Document::new(p.text, p.first_line, p.offset))
        .collect()
}

impl Piece<'_> {
    /// True when the piece holds more than blank lines, comments and `...` lines.
    pub(crate) fn significant(&self) -> bool {
        self.text
            .lines()
            .any(|l| !is_trivia(l) && !is_marker(l.trim_end(), false))
    }
}

/// The text of the first document of a piece: up to a `...` line that follows content.
fn first_document(text: &str) -> &str {
    if !opens_a_line(text, "...") {
        return text;
    }
    let mut at = 0;
    let mut content = false;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end();
        if is_marker(bare, false) {
            if content {
                return &text[..at];
            }
        } else if !is_trivia(bare) {
            content = true;
        }
        at += line.len();
    }
    text
}

/// Splits a file into documents as `document_pieces` does. A file with no document at all
/// gives one empty document.
pub fn documents(file: &str) -> Vec<Document<'_>> {
    let mut docs = document_pieces(file);
    if docs.is_empty() {
        docs.extend(pieces(file, true).pop());
    }
    docs.iter()
        .map(|p| Document::new(p.text, p.first_line, p.offset))
        .collect()
}

impl<'t> Document<'t> {
    pub(crate) fn new(text: &'t str, first_line: usize, offset: usize) -> Document<'t> {
        Document {
            text,
            first_line: u32::try_from(first_line).unwrap_or(u32::MAX),
            offset,
            lent: None,
            layout: OnceLock::new(),
        }
    }

    /// A document over `text` whose line layout is `layout`, built from that very text
    /// ([`Layout::new`]) and kept by the caller across many documents made over it.
    pub(crate) fn with_layout(
        text: &'t str,
        first_line: usize,
        offset: usize,
        layout: &'t Layout,
    ) -> Document<'t> {
        Document {
            lent: Some(layout),
            ..Document::new(text, first_line, offset)
        }
    }

    fn layout(&self) -> &Layout {
        self.lent
            .unwrap_or_else(|| self.layout.get_or_init(|| Layout::new(self.text)))
    }

    /// Where the key (or the sequence item) at `path` starts, or `None` when the path is absent
    /// or outside what this scanner understands. An empty path gives the document's first line.
    pub fn find(&self, path: &[Seg]) -> Option<Pos> {
        if let Some((at, complete)) = self.flow_walk(path) {
            return complete.then(|| self.pos_of(at));
        }
        let (line, complete) = self.layout().walk(self.text, path);
        Some(self.line_pos(line.filter(|_| complete)?))
    }

    /// The bytes in the file of the key `key` that [`Document::find`] placed at `pos`: the key as
    /// written, with its quotes when it is quoted (kubeseal's JSON quotes every key).
    pub fn key_bytes(&self, pos: Pos, key: &str) -> Range<usize> {
        let b = self.text.as_bytes();
        let at = pos.offset.saturating_sub(self.offset);
        let quoted = match b.get(at) {
            Some(&q @ (b'"' | b'\'')) => quote_end(b, at + 1, q),
            _ => None,
        };
        pos.offset..quoted.map_or(pos.offset + key.len(), |end| self.offset + end)
    }

    /// Like [`Document::find`], but falls back to the longest prefix of `path` that is found,
    /// and finally to the document start: always gives a usable position.
    pub fn find_or_parent(&self, path: &[Seg]) -> Pos {
        if let Some((at, _)) = self.flow_walk(path) {
            return self.pos_of(at);
        }
        let (line, complete) = self.layout().walk(self.text, path);
        // The rest of the path inside a flow collection after the deepest block step.
        let inner = (!complete).then(|| self.block_then_flow(path)).flatten();
        if let Some((_, p, Some(from))) = inner
            && let Ok((node, _)) = flow::parse(self.text, from)
        {
            return self.pos_of(node.walk(&path[p..]).0);
        }
        line.map_or_else(|| self.pos_of(0), |l| self.line_pos(l))
    }

    /// The deepest block step of `path` found: its line, how many steps it took, and where the
    /// value after its `key:` or `- ` starts on that line (`None` when no key is read there).
    fn block_then_flow(&self, path: &[Seg]) -> Option<(Line, usize, Option<usize>)> {
        let walk = |p: usize| self.layout().walk(self.text, &path[..p]);
        let p = (1..=path.len()).rev().find(|&p| walk(p).1)?;
        let line = walk(p).0?;
        let value = match &path[p - 1] {
            Seg::Key(_) => match block::key_at(self.text, line.at, line.end) {
                block::KeyAt::Key(_, after_colon) => Some(after_colon),
                _ => None,
            },
            Seg::Index(_) => Some(line.at + 1),
        };
        let from = value.map(|v| block::skip_blanks(self.text.as_bytes(), v, line.end));
        Some((line, p, from))
    }

    /// Whether the scalar at `path` (with `key`: the key ending `path`) is written plain
    /// (Some(true)) or quoted (Some(false)): the deepest step found on a block line, then the
    /// flow collection or scalar after its `key:` or `- ` (or the whole flow document). None
    /// where the scanners cannot place it (a block scalar, a tag, an anchor).
    pub(crate) fn plain_at(&self, path: &[Seg], key: bool) -> Option<bool> {
        let first = self.layout().lines.first()?;
        let (from, rest) = if self.text[first.at..].starts_with(['{', '[']) {
            (first.at, path)
        } else {
            let (line, p, from) = self.block_then_flow(path)?;
            if key && p == path.len() {
                return Some(!self.text[line.at..].starts_with(['"', '\'']));
            }
            (from?, &path[p..])
        };
        let node = flow::parse(self.text, from).ok()?.0;
        let style = match (key, rest.split_last()) {
            (true, Some((Seg::Key(k), parent))) => match node.at(parent)? {
                flow::Node::Map(m) => m.get(k)?.key_style,
                _ => return None,
            },
            (true, _) => return None,
            (false, _) => match node.at(rest)? {
                flow::Node::Scalar(s) => s.style,
                _ => return None,
            },
        };
        Some(style == ScalarStyle::Plain)
    }

    /// For a document written as one flow collection (JSON, kubeseal's default output): the
    /// walk of `path` through it. `None` for a block-style document or unscannable flow text.
    fn flow_walk(&self, path: &[Seg]) -> Option<(usize, bool)> {
        let first = self.layout().lines.first()?;
        if !self.text[first.at..].starts_with(['{', '[']) {
            return None;
        }
        let (node, _) = flow::parse(self.text, first.at).ok()?;
        Some(node.walk(path))
    }

    /// The items of the sequence at `path` (the `items` of a `kind: List`), each as a document
    /// of its own text, with the path of the item in it (`[0]` for a block item, whose text
    /// opens with its `- `; empty for a flow item, whose text is the line up to its closing
    /// bracket). A path below the item is found in its document as in this one, without walking
    /// the items before it (each lookup here walks the whole sequence): for a caller looking
    /// into every item of a long sequence. `None` when the sequence is not found, or is a flow
    /// sequence whose items do not each start a line of their own.
    pub fn item_documents(&self, path: &[Seg]) -> Option<Vec<(Document<'t>, Vec<Seg>)>> {
        let (ranges, at) = match self.flow_item_ranges(path) {
            Some(ranges) => (ranges?, Vec::new()),
            None => (
                self.layout().item_ranges(self.text, path)?,
                vec![Seg::Index(0)],
            ),
        };
        let mut line = 0usize;
        let mut counted = 0usize;
        let docs = ranges.into_iter().map(|(start, end)| {
            line += self.text[counted..start].matches('\n').count();
            counted = start;
            let first = self.first_line as usize + line;
            (
                Document::new(&self.text[start..end], first, self.offset + start),
                at.clone(),
            )
        });
        Some(docs.collect())
    }

    /// For a flow document ([`Document::flow_walk`]): the byte ranges of the items of the
    /// sequence at `path`, each from the start of its line to its closing bracket (`Some(None)`
    /// when one does not start its line, or the path is no sequence). `None` for a block
    /// document.
    fn flow_item_ranges(&self, path: &[Seg]) -> Option<Option<Vec<(usize, usize)>>> {
        let first = self.layout().lines.first()?;
        if !self.text[first.at..].starts_with(['{', '[']) {
            return None;
        }
        let Ok((node, _)) = flow::parse(self.text, first.at) else {
            return Some(None);
        };
        let Some(flow::Node::Seq { items, .. }) = node.at(path) else {
            return Some(None);
        };
        let ranges = items.iter().map(|item| {
            let span = item.span();
            let line_start = self.text[..span.start].rfind('\n').map_or(0, |i| i + 1);
            let lead = &self.text[line_start..span.start];
            lead.trim().is_empty().then_some((line_start, span.end))
        });
        Some(ranges.collect())
    }

    /// [`Document::pos_of`] the start of a significant line, whose index the layout holds: the
    /// lines before it are not counted again.
    fn line_pos(&self, l: Line) -> Pos {
        let line_start = self.text[..l.at].rfind('\n').map_or(0, |i| i + 1);
        let column = self.text[line_start..l.at].chars().count() + 1;
        Pos {
            line: self.first_line + u32::try_from(l.idx).unwrap_or(u32::MAX - self.first_line),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            offset: self.offset + l.at,
        }
    }

    /// Position of document-relative byte `at`.
    fn pos_of(&self, at: usize) -> Pos {
        let (line, column) = flow::line_col(self.text, at);
        Pos {
            line: self.first_line + u32::try_from(line - 1).unwrap_or(u32::MAX - self.first_line),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            offset: self.offset + at,
        }
    }
}

/// The significant lines of a text: comments, blank lines and block-scalar bodies left out.
/// Holds offsets only; every method takes the text it was built from.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    lines: Vec<Line>,
}

/// A significant line: content `text[at..end]` (trailing blanks removed) of 0-based line `idx`.
#[derive(Debug, Clone, Copy)]
struct Line {
    /// 0-based line index within the text.
    idx: usize,
    /// Byte offset of the content.
    at: usize,
    /// Byte offset of the end of the content.
    end: usize,
    /// Indentation in characters (virtual, after `- ` markers are turned into spaces).
    indent: usize,
}

impl Line {
    fn text<'t>(&self, text: &'t str) -> &'t str {
        &text[self.at..self.end]
    }

    fn is_item(&self, text: &str) -> bool {
        let t = self.text(text);
        t.starts_with("- ") || t == "-"
    }
}

impl Layout {
    pub(crate) fn new(text: &str) -> Layout {
        let mut lines = Vec::new();
        let mut at = 0usize;
        let mut block_scalar_indent: Option<usize> = None;
        for (idx, raw) in text.split_inclusive('\n').enumerate() {
            let bare = raw.trim_end_matches(['\n', '\r']);
            let trimmed = bare.trim_start_matches(' ');
            let indent = bare.len() - trimmed.len();
            let content = trimmed.trim_end();
            let line_at = at;
            at += raw.len();
            if let Some(parent) = block_scalar_indent {
                if content.is_empty() || indent > parent {
                    continue;
                }
                block_scalar_indent = None;
            }
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            if block::opens_block_scalar(content) {
                block_scalar_indent = Some(indent);
            }
            lines.push(Line {
                idx,
                at: line_at + indent,
                end: line_at + indent + content.len(),
                indent,
            });
        }
        Layout { lines }
    }

    /// The 0-based line of `path` in `text` (which this layout was built from), or of the
    /// deepest step of it that is found; the first significant line when not even the first
    /// step is found, and 0 for a text without significant lines.
    pub(crate) fn line_of(&self, text: &str, path: &[Seg]) -> usize {
        self.walk(text, path).0.map_or(0, |l| l.idx)
    }

    /// Follows `path` from the whole text down, one step per segment, each step looking only
    /// inside the block the previous step found. Gives the line of the deepest step found (the
    /// first line for an empty path; `None` when the text has no significant line) and whether
    /// every step was found.
    fn walk(&self, text: &str, path: &[Seg]) -> (Option<Line>, bool) {
        let (found, complete, _) = self.descend(text, path);
        (found, complete)
    }

    /// [`Layout::walk`], also giving the block of the value the whole path leads to (`None`
    /// when it is not found, or is a value on its key's line).
    fn descend(&self, text: &str, path: &[Seg]) -> (Option<Line>, bool, Option<Block>) {
        let mut block = Block {
            head: None,
            lo: 0,
            hi: self.lines.len(),
        };
        let mut found = self.lines.first().copied();
        for (step, seg) in path.iter().enumerate() {
            let hit = match seg {
                Seg::Key(want) => self.find_key(text, &block, want),
                Seg::Index(want) => self.find_item(text, &block, *want),
            };
            let Some((line, inner)) = hit else {
                return (found, false, None);
            };
            found = Some(line);
            let Some(inner) = inner else {
                return (found, step + 1 == path.len(), None);
            };
            block = inner;
        }
        (found, true, Some(block))
    }

    /// The byte ranges of the items of the block sequence at `path` in `text`, each from the
    /// start of its `- ` line to the start of the next item's (the last to the end of the
    /// sequence), in one pass over its lines. `None` when `path` leads to no block sequence.
    fn item_ranges(&self, text: &str, path: &[Seg]) -> Option<Vec<(usize, usize)>> {
        let (_, true, Some(block)) = self.descend(text, path) else {
            return None;
        };
        if block.head.is_some() {
            return None;
        }
        let line_start = |l: &Line| l.at - l.indent;
        let indent = self
            .lines
            .get(block.lo)
            .filter(|_| block.lo < block.hi)?
            .indent;
        let end = (block.lo..block.hi)
            .find(|&i| self.lines[i].indent < indent)
            .unwrap_or(block.hi);
        let starts: Vec<usize> = self.lines[block.lo..end]
            .iter()
            .filter(|l| l.indent == indent && l.is_item(text))
            .map(line_start)
            .collect();
        if starts.first() != Some(&line_start(&self.lines[block.lo])) {
            return None;
        }
        let stop = self.lines.get(end).map_or(text.len(), line_start);
        let ends = starts.iter().skip(1).copied().chain([stop]);
        Some(starts.iter().copied().zip(ends).collect())
    }

    /// The block's lines with their index into `self.lines` (`None` for the head), and the
    /// block's indentation (`None` for an empty block).
    fn block_lines<'s>(
        &'s self,
        block: &Block,
    ) -> (
        Option<usize>,
        impl Iterator<Item = (Option<usize>, Line)> + 's,
    ) {
        let indent = block
            .head
            .or_else(|| {
                self.lines
                    .get(block.lo)
                    .filter(|_| block.lo < block.hi)
                    .copied()
            })
            .map(|l| l.indent);
        let lines = block
            .head
            .map(|h| (None, h))
            .into_iter()
            .chain((block.lo..block.hi).map(|i| (Some(i), self.lines[i])));
        (indent, lines)
    }

    /// The entry `want` of the mapping `block`: its line, and the block of its value when a
    /// nested block may follow (`None` when `key: value` on the same line ends the walk).
    fn find_key(&self, text: &str, block: &Block, want: &str) -> Option<(Line, Option<Block>)> {
        let (indent, lines) = self.block_lines(block);
        let indent = indent?;
        let (at, line, inline) = lines
            .take_while(|(_, line)| line.indent >= indent)
            .filter(|(_, line)| line.indent == indent && !line.is_item(text))
            .find_map(|(at, line)| {
                let t = line.text(text);
                // A plain key is spelt at the start of its line, a quoted one after its quote
                // (`block::key_at`): other lines need not be read as keys.
                if !t.starts_with(want) && !t.starts_with(['"', '\'']) {
                    return None;
                }
                let (key, inline) = split_key(t)?;
                (key.as_ref() == want).then_some((at, line, inline))
            })?;
        let inline = inline.trim();
        // Only an anchor or a tag (or a comment) may be followed by a nested block.
        if !inline.is_empty()
            && !inline.starts_with('#')
            && !inline.starts_with('&')
            && !inline.starts_with('!')
        {
            return Some((line, None));
        }
        let lo = at.map_or(block.lo, |i| i + 1); // after the matched line
        let hi = (lo..block.hi)
            .find(|&i| {
                let next = self.lines[i];
                next.indent < indent || (next.indent == indent && !next.is_item(text))
            })
            .unwrap_or(block.hi);
        Some((line, Some(Block { head: None, lo, hi })))
    }

    /// Item `want` (0-based) of the sequence `block`: its line and the block of its content.
    fn find_item(&self, text: &str, block: &Block, want: usize) -> Option<(Line, Option<Block>)> {
        let (indent, lines) = self.block_lines(block);
        let indent = indent?;
        let (at, line) = lines
            .take_while(|(_, line)| line.indent >= indent)
            .filter(|(_, line)| line.indent == indent && line.is_item(text))
            .nth(want)?;
        // The item's content: the text after `- ` becomes a line of its own, indented where
        // that text starts, followed by the deeper lines.
        let t = line.text(text);
        let content = t[1..].trim_start_matches(' ');
        let gap = t.len() - content.len();
        let head = (!content.is_empty() && !content.starts_with('#')).then_some(Line {
            idx: line.idx,
            at: line.at + gap,
            end: line.end,
            indent: line.indent + gap,
        });
        let lo = at.map_or(block.lo, |i| i + 1); // after the matched line
        let hi = (lo..block.hi)
            .find(|&i| self.lines[i].indent <= indent)
            .unwrap_or(block.hi);
        Some((line, Some(Block { head, lo, hi })))
    }
}

/// A block to walk into: `head` (the content after a sequence item's `- `, as a line of its
/// own) followed by the layout's lines `lo..hi`.
#[derive(Debug, Clone, Copy)]
struct Block {
    head: Option<Line>,
    lo: usize,
    hi: usize,
}

/// Splits `key: rest` with the layer's one key reader ([`block::key_at`]): the unquoted key
/// (borrowed when plain: most keys, and every line of a layout is split once) and the text after
/// the colon.
fn split_key(text: &str) -> Option<(Cow<'_, str>, &str)> {
    match block::key_at(text, 0, text.len()) {
        block::KeyAt::Key(key, after_colon) => Some((key, &text[after_colon..])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_carriage_returns_break_lines_as_in_yaml() {
        let t = lone_cr_as_lf("# c\rkind: Secret\r\nx: 1\r".to_owned());
        assert_eq!(t, "# c\nkind: Secret\r\nx: 1\n");
        assert_eq!(lone_cr_as_lf("a\r\n".to_owned()), "a\r\n");
    }

    #[test]
    fn too_deep_names_the_line_where_flow_nesting_passes_the_limit() {
        let at = |open: &str| format!("a: 1\nb: {}\n", open.repeat(MAX_FLOW_DEPTH + 1));
        assert_eq!(too_deep(&at("[")), Some(2));
        assert_eq!(too_deep(&at("{")), Some(2));
        let closed = "[]".repeat(10 * MAX_FLOW_DEPTH);
        assert_eq!(too_deep(&closed), None);
        assert_eq!(too_deep(&"[".repeat(MAX_FLOW_DEPTH)), None);
        assert_eq!(
            too_deep(&format!("a: - [ [ {}", "[ ".repeat(MAX_FLOW_DEPTH))),
            Some(1)
        );
        // Brackets inside a value are no collections: colour codes in a script, a log tag.
        let script = "data:\n  run.sh: |\n    echo -e \"\\033[32mok [INFO]\"\n".repeat(2000);
        assert_eq!(too_deep(&script), None);
    }

    #[test]
    fn paths_read_as_messages_name_them() {
        let p = [Seg::from("spec"), Seg::from("containers"), Seg::from(0)];
        assert_eq!(
            dotted(&[&p[..], &[Seg::from("env")]].concat()),
            "spec.containers[0].env"
        );
        assert_eq!(dotted(&[Seg::from(1)]), "[1]");
    }

    /// Each item of a List cut into a document of its own is found where the List's own
    /// document finds it, block and flow alike.
    #[test]
    fn item_documents_find_what_the_list_document_finds() {
        let block = "apiVersion: v1\nkind: List\nitems:\n- kind: Secret\n  # c\n  data:\n    p: eA==\n-   kind: Secret\n    data: {q: eQ==}\n- kind: ConfigMap\n  data:\n    r: x\nmetadata: {}\n";
        let flow = "{\n  \"kind\": \"List\",\n  \"items\": [\n    {\"kind\": \"Secret\", \"data\": {\"p\": \"eA==\"}},\n    {\n      \"kind\": \"Secret\",\n      \"data\": {\"q\": \"eQ==\"}\n    }\n  ]\n}\n";
        for (text, n) in [(block, 3), (flow, 2)] {
            let doc = &documents(text)[0];
            let items = doc.item_documents(&[Seg::from("items")]).expect("cut");
            assert_eq!(items.len(), n, "{text}");
            for (i, (item, at)) in items.iter().enumerate() {
                for key in ["kind", "data"] {
                    let whole = doc.find(&[Seg::from("items"), Seg::Index(i), Seg::from(key)]);
                    let mut path = at.clone();
                    path.push(Seg::from(key));
                    let own = item.find(&path);
                    assert!(whole.is_some(), "{i} {key}");
                    assert_eq!(
                        own.map(|p| (p.line, p.column, p.offset)),
                        whole.map(|p| (p.line, p.column, p.offset)),
                        "item {i} {key} in {text}"
                    );
                }
            }
        }
        // A flow List written on one line is not cut.
        let one_line = "{\"kind\": \"List\", \"items\": [{\"kind\": \"Secret\"}]}\n";
        assert!(
            documents(one_line)[0]
                .item_documents(&[Seg::from("items")])
                .is_none()
        );
    }

    #[test]
    fn comments_are_found_outside_quotes_and_block_scalars_only() {
        let text = "a: 1 # c1\nb: \"x # no\" # c2\nc: 'it''s # no'\nd: |\n  # no\n  x\n# c3\ne: x#no\nf: \"multi\n  # no\n  line\" # c4\n{\"g\": \"# no\"}\n";
        let got: Vec<Option<usize>> = comment_offsets(text);
        assert_eq!(
            got,
            [
                Some(5),
                Some(12),
                None,
                None,
                None,
                None,
                Some(0),
                None,
                None,
                None,
                Some(8),
                None
            ]
        );
    }

    const FILE: &str = "\
# leading comment
apiVersion: v1
kind: Secret
metadata:
  name: s
  annotations:
    \"a.b/c\": x
data:
  A: eA==
  'B''s': eQ==
---
kind: Deployment
spec:
  template:
    spec:
      containers:
      - name: app
        env:
          - name: X
            valueFrom:
              secretKeyRef: {name: s, key: A}
        script: |
          data:
            A: fake
      - name: side
...
---
key: value
";

    fn at(doc: usize, path: &[Seg]) -> Option<(u32, u32)> {
        documents(FILE)[doc].find(path).map(|p| (p.line, p.column))
    }

    fn k(s: &str) -> Seg {
        Seg::Key(s.to_owned())
    }

    /// 0-based line of `path` in `text` (the deepest ancestor found when the walk stops).
    fn locate(text: &str, path: &[Seg]) -> usize {
        Layout::new(text).line_of(text, path)
    }

    #[test]
    fn finds_keys_in_mappings() {
        assert_eq!(at(0, &["data".into(), "A".into()]), Some((9, 3)));
        assert_eq!(at(0, &["data".into(), "B's".into()]), Some((10, 3)));
        assert_eq!(
            at(
                0,
                &["metadata".into(), "annotations".into(), "a.b/c".into()]
            ),
            Some((7, 5))
        );
        assert_eq!(at(0, &["kind".into()]), Some((3, 1)));
        assert_eq!(at(0, &["data".into(), "C".into()]), None);
    }

    #[test]
    fn finds_sequence_items_and_skips_block_scalars() {
        let base = [k("spec"), k("template"), k("spec"), k("containers")];
        let under = |rest: &[Seg]| [&base[..], rest].concat();
        assert_eq!(at(1, &under(&[Seg::Index(1), k("name")])), Some((25, 9)));
        let env = [Seg::Index(0), k("env"), Seg::Index(0), k("valueFrom")];
        assert_eq!(at(1, &under(&env)), Some((20, 13)));
        assert_eq!(
            at(1, &under(&[Seg::Index(0), k("data")])),
            None,
            "keys inside a block scalar are not keys"
        );
        assert_eq!(at(2, &[k("key")]), Some((28, 1)));
    }

    #[test]
    fn documents_split_and_offsets() {
        let docs = documents(FILE);
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[1].first_line, 12);
        assert!(docs[2].text.starts_with("key: value"));
        let pos = docs[0].find(&["data".into(), "A".into()]).unwrap();
        assert_eq!(&FILE[pos.offset..pos.offset + 2], "A:");
        assert_eq!(documents("").len(), 1);
        assert_eq!(documents("---\na: 1\n").len(), 1);
    }

    #[test]
    fn fallback_to_parent() {
        let docs = documents(FILE);
        let pos = docs[0].find_or_parent(&["data".into(), "missing".into()]);
        assert_eq!((pos.line, pos.column), (8, 1));
    }

    #[test]
    fn locates_nested_keys_and_items() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    envFrom:\n    - secretRef:\n        name: s1\n  - name: b\n    envFrom:\n      - configMapRef: {name: c}\n";
        assert_eq!(locate(text, &[k("metadata"), k("name")]), 3);
        let env_from = |item: usize, kind: &str| {
            [
                k("spec"),
                k("containers"),
                Seg::Index(item),
                k("envFrom"),
                Seg::Index(0),
                k(kind),
                k("name"),
            ]
        };
        assert_eq!(locate(text, &env_from(0, "secretRef")), 9);
        assert_eq!(locate(text, &env_from(1, "configMapRef")), 12);
        let p = [k("spec"), k("containers"), Seg::Index(1), k("name")];
        assert_eq!(locate(text, &p), 10);
    }

    #[test]
    fn opens_a_line_finds_markers_at_line_starts_only() {
        assert!(opens_a_line("---\na: 1\n", "---"));
        assert!(opens_a_line("a: 1\n--- # c\n", "---"));
        assert!(opens_a_line("a: 1\n...", "..."));
        assert!(!opens_a_line("a: ---\nb: x---\n \t---\n", "---"));
        assert!(!opens_a_line("", "..."));
    }

    #[test]
    fn walks_through_anchors_and_stops_at_block_scalars_and_flow() {
        let text = "a: &x\n  b: 1\nc: |\n  d: 1\ne: {f: 1}\n";
        assert_eq!(locate(text, &[k("a"), k("b")]), 1);
        assert_eq!(
            locate(text, &[k("c"), k("d")]),
            2,
            "a block scalar body has no keys"
        );
        assert_eq!(
            locate(text, &[k("e"), k("f")]),
            4,
            "a flow value stops at its line"
        );
        let doc = &documents(text)[0];
        assert_eq!(doc.find(&[k("e"), k("f")]), None);
        let tagged = &documents("c: !!binary |\n  d: 1\n")[0];
        assert_eq!(tagged.find(&[k("c"), k("d")]), None, "nor has a tagged one");
        assert_eq!(doc.find_or_parent(&[k("e"), k("f")]).line, 5);
    }

    #[test]
    fn pieces_keep_every_cut() {
        let p = pieces("# c\n---\na: 1\n...\n---\n\n---\nb: 2\n", false);
        let texts: Vec<&str> = p.iter().map(|p| p.text).collect();
        assert_eq!(texts, ["# c\n", "a: 1\n...\n", "\n", "b: 2\n"]);
        assert_eq!(p[3].first_line, 8);
        assert_eq!(pieces("a: 1\n...\nb: 2\n", true).len(), 2);
    }

    #[test]
    fn a_byte_order_mark_is_in_no_piece() {
        let p = pieces("\u{feff}---\na: 1\n", false);
        let texts: Vec<&str> = p.iter().map(|p| p.text).collect();
        assert_eq!(texts, ["", "a: 1\n"]);
        assert_eq!((p[1].first_line, p[1].offset), (2, 7));
        let p = pieces("\u{feff}a: 1\n", false);
        assert_eq!((p[0].text, p[0].offset), ("a: 1\n", 3));
    }

    #[test]
    fn directives_belong_to_the_next_document_and_end_markers_take_comments() {
        let d = document_pieces("a: 1\n\n%YAML 1.2\n---\nb: 2\n");
        let texts: Vec<&str> = d.iter().map(|p| p.text).collect();
        assert_eq!(texts, ["a: 1\n", "b: 2\n"]);
        assert_eq!((d[0].head_line, d[1].head_line, d[1].first_line), (1, 2, 5));
        assert_eq!(documents("%YAML 1.2\n---\nb: 2\n").len(), 1);
        let texts: Vec<&str> = documents("a: 1\n... # end\n# tail\n")
            .iter()
            .map(|d| d.text)
            .collect();
        assert_eq!(texts, ["a: 1\n"]);
    }
}

#[cfg(test)]
mod error_position_tests {
    /// A repeated key is placed at its second occurrence, at the top level and nested, where
    /// the parser places it at its mapping's start.
    #[test]
    fn a_repeated_key_is_placed_at_its_second_occurrence() {
        for (t, key, first, second) in [
            ("apiVersion: v1\nkind: A\nkind: B\n", "kind", 2, 3),
            ("a: 1\nspec:\n  x: 1\n  k: 1\n  y: 2\n  k: 2\n", "k", 4, 6),
            ("x:\n- k: 1\n  k: 2\n", "k", 2, 3),
            ("x:\n- \"k\": 1\n  j: 2\n  k: 3\n- k: 4\n", "k", 2, 4),
        ] {
            let e = yaml_serde::from_str::<yaml_serde::Value>(t).expect_err("repeated");
            assert_eq!(
                super::repeated_key(t, &e),
                Some((key.to_owned(), first, second))
            );
            assert_eq!(super::error_position(t, &e).map(|(l, _)| l), Some(second));
        }
        // In a flow mapping the second is not placed: the parser's place is kept, not a later
        // list item's valid `k`.
        let t = "x:\n- {k: 1, k: 2}\n- k: 4\n- k: 5\n";
        let e = yaml_serde::from_str::<yaml_serde::Value>(t).expect_err("repeated");
        assert_eq!(super::repeated_key(t, &e), None);
        assert_eq!(
            super::error_position(t, &e),
            e.location().map(|l| (l.line(), l.column()))
        );
    }

    /// A key's bytes are the key as written: quotes included, escapes too.
    #[test]
    fn key_bytes_cover_the_key_as_written() {
        let file = "x: 1\n---\n{\"a\": {\"K\\u0031\": 1, 'b''c': 2, d: 3}}\n";
        let docs = super::documents(file);
        let doc = &docs[1];
        for (path, key, written) in [
            (["a", "K1"], "K1", "\"K\\u0031\""),
            (["a", "b'c"], "b'c", "'b''c'"),
            (["a", "d"], "d", "d"),
        ] {
            let segs: Vec<super::Seg> = path.iter().map(|k| super::Seg::from(*k)).collect();
            let pos = doc.find(&segs).expect("found");
            assert_eq!(&file[doc.key_bytes(pos, key)], written);
        }
    }

    /// JSON objects written one after another (`kubeseal >> s.json`): the second is placed at
    /// its start, on its own line or the first's, and the message says what kustomize does.
    #[test]
    fn a_second_document_without_a_separator_is_placed_at_its_start() {
        for (t, at) in [
            ("{\"kind\":\"A\"}\n{\"kind\":\"B\"}\n", (2, 1)),
            ("# c\n\n  {\"a\": [1,\n 2]}  # x\n\n# y\n  [1]\n", (7, 3)),
            ("{\"a\": 1} {\"b\": 2}\n", (1, 10)),
        ] {
            let e = yaml_serde::from_str::<yaml_serde::Value>(t).expect_err("two documents");
            assert_eq!(super::error_position(t, &e), Some(at), "{t:?}");
            assert_eq!(super::error_message(&e), super::SECOND_DOCUMENT);
        }
    }

    /// The quoted scalar may hold ", expected" itself: only the parser's own last one is kept.
    #[test]
    fn a_scalar_quoting_the_parser_s_words_is_not_shown() {
        let t = "password: !!int \"hunter2, expected TOPSECRETTAIL\"\n";
        let e = yaml_serde::from_str::<yaml_serde::Value>(t).expect_err("mistagged");
        let shown = super::error_message(&e);
        assert!(
            !shown.contains("TOPSECRET") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    /// A scalar whose tag it does not match is named by its type, never quoted: it may be a
    /// Secret's value.
    #[test]
    fn a_mistagged_scalar_is_not_quoted() {
        for (tag, expected) in [
            ("!!int", "an integer"),
            ("!!bool", "a boolean"),
            ("!!float", "a float"),
        ] {
            let t = format!("kind: Secret\nstringData:\n  password: {tag} SUPERSECRET123\n");
            let e = yaml_serde::from_str::<yaml_serde::Value>(&t).expect_err("mistagged");
            assert!(
                e.to_string().contains("SUPERSECRET123"),
                "the parser quotes it: {e}"
            );
            let shown = super::error_message(&e);
            assert!(!shown.contains("SUPERSECRET"), "{shown}");
            assert!(
                shown.contains("(not shown)") && shown.contains(expected),
                "{shown}"
            );
        }
    }

    /// A reader error (a control character) is placed at its byte, not at line 1, and its
    /// message loses the offset; a parser error keeps its own location.
    #[test]
    fn reader_errors_get_the_line_of_their_byte() {
        let t = "a: 1\nb: 2 \u{1}\n";
        let e = yaml_serde::from_str::<yaml_serde::Value>(t).expect_err("control character");
        assert_eq!(super::error_position(t, &e), Some((2, 6)));
        assert_eq!(
            super::error_message(&e),
            "control characters are not allowed"
        );
        let t = "a: 1\nb: [\n";
        let e = yaml_serde::from_str::<yaml_serde::Value>(t).expect_err("unclosed");
        let at = super::error_position(t, &e).expect("a location");
        assert_eq!(Some(at), e.location().map(|l| (l.line(), l.column())));
    }
}
