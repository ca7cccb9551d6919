//! The kustomize v5 `envs:` file dialect: a lossless parser with spans, cross-dialect lints and
//! a renderer.
//!
//! Owns reading an env file exactly as kustomize's `secretGenerator`/`configMapGenerator`
//! `envs:` does (so a sealed value equals the one the dev overlay deploys), the lints for lines
//! other consumers read differently, Secret key-name checks, and writing entries back in the
//! same dialect. It must not do I/O, and it exposes values only as [`SecretValue`]: no error,
//! lint or `Debug` output contains a value.
//!
//! Upstream: kustomize `api/kv/kv.go` (`keyValuesFromLines`, `keyValuesFromLine`) and
//! `api/internal/generators/utils.go` (`makeValidatedDataMap`: "illegally repeats the key").
//! The dialect is tabulated in `docs/envfiles.md`.

mod key;
mod lint;
mod pasted;
mod render;
mod scan;

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::secret::SecretValue;

pub use key::{KeyProblem, validate_key};
pub use lint::{EnvLint, LintId, LintSeverity, lint};
pub use pasted::{PastedKind, PastedValue, no_equals_looks_like_value, pasted_values};
pub use render::render;

/// One `KEY=value` entry, as kustomize would put it into the Secret.
#[derive(Debug)]
#[non_exhaustive]
pub struct EnvEntry {
    /// The key: everything before the first `=` after leading whitespace, not trimmed.
    pub key: String,
    /// The value: everything after the first `=` (empty for a line without `=`), raw bytes.
    pub value: SecretValue,
    /// 1-based line number.
    pub line: usize,
    /// Byte range of the key in the file.
    pub key_span: Range<usize>,
    /// Byte range of the value in the file (empty, at the end of the key, for a line without `=`).
    pub value_span: Range<usize>,
    /// Whether the line has an `=` (kustomize v5 gives a line without one the empty value).
    pub has_equals: bool,
    /// The line is probably a piece of a value, not a key: it continues a value pasted over
    /// several lines, its key is not a valid Secret key, or it has no `=` and looks like a value
    /// (see [`no_equals_looks_like_value`]). Its `key` may be secret material: never show it.
    pub value_like: bool,
}

/// A parsed env file: its entries in file order.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct EnvFile {
    pub entries: Vec<EnvEntry>,
    /// Values pasted over several lines (see [`pasted_values`]), in file order.
    pub pasted: Vec<PastedValue>,
    /// The lines with nothing before their `=` (`=value`), which kustomize drops without a word.
    pub empty_keys: Vec<usize>,
}

impl EnvFile {
    pub fn get(&self, key: &str) -> Option<&EnvEntry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// The keys in file order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.key.as_str())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries whose key may be used as a key name (not [`EnvEntry::value_like`]). A line
    /// without `=` among them is still never shown (see [`EnvFile::bare_entries`]).
    pub fn key_entries(&self) -> impl Iterator<Item = &EnvEntry> {
        self.entries.iter().filter(|e| !e.value_like)
    }

    /// The entries of lines without `=` (kustomize v5 makes each a key with the empty value).
    /// Such a line is often a piece of a pasted value, so however much it looks like a key, its
    /// key must never be shown: a message names it by file and line.
    pub fn bare_entries(&self) -> impl Iterator<Item = &EnvEntry> {
        self.entries.iter().filter(|e| !e.has_equals)
    }

    /// Refuses a file with a line that may not be shown as a key name: first a value pasted over
    /// several lines, then the first line without `=` (however much it looks like a key: a short
    /// password pasted alone on a line does too) or that looks like a value rather than a key
    /// ([`EnvEntry::value_like`]). Names the line only. For the commands that would otherwise
    /// show or ask for each key by name (`init`, `diff`).
    pub fn refuse_non_keys_with_path(&self, path: &Path) -> Result<(), EnvError> {
        self.refuse_pasted(path)?;
        let at = |e: &EnvEntry| At::new(Some(path), e.line);
        match self.entries.iter().find(|e| !e.has_equals || e.value_like) {
            Some(e) if !e.has_equals => Err(EnvError::MissingEquals {
                at: at(e),
                refused: "used",
            }),
            Some(e) => Err(EnvError::NotAKey { at: at(e) }),
            None => Ok(()),
        }
    }

    /// Refuses what must not be sealed: first a value pasted over several lines, then a line
    /// without `=` (it may be a pasted value, and sealing it would publish it as a key name),
    /// then a key the API server would reject in a Secret (see [`validate_key`]). kustomize
    /// checks none of these, so the sealing path must call this. Errors name `path` and the line,
    /// never its content.
    pub fn validate_keys_with_path(&self, path: &Path) -> Result<(), EnvError> {
        self.refuse_pasted(path)?;
        let at = |e: &EnvEntry| At::new(Some(path), e.line);
        if let Some(e) = self.entries.iter().find(|e| !e.has_equals) {
            return Err(EnvError::MissingEquals {
                at: at(e),
                refused: "sealed",
            });
        }
        for e in &self.entries {
            validate_key(&e.key).map_err(|problem| EnvError::InvalidKey {
                at: at(e),
                key: e.key.clone(),
                problem,
            })?;
            if e.value_like {
                return Err(EnvError::NotAKey { at: at(e) });
            }
        }
        Ok(())
    }

    /// Refuses a value pasted over several lines, then a line with an empty key, whose value
    /// kustomize would drop.
    fn refuse_pasted(&self, path: &Path) -> Result<(), EnvError> {
        if let Some(p) = self.pasted.first() {
            return Err(EnvError::PastedValue {
                at: At::new(Some(path), p.first_line),
                last_line: p.last_line,
                kind: p.kind.describe(),
            });
        }
        match self.empty_keys.first() {
            Some(&line) => Err(EnvError::EmptyKey {
                at: At::new(Some(path), line),
            }),
            None => Ok(()),
        }
    }
}

/// Where an error happened: an optional file path and a 1-based line.
///
/// Displays as `path:line` when the path is known and as `line N` otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    /// The file, when the caller named it.
    pub path: Option<PathBuf>,
    /// 1-based line number.
    pub line: usize,
}

impl At {
    fn new(path: Option<&Path>, line: usize) -> Self {
        Self {
            path: path.map(Path::to_path_buf),
            line,
        }
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}:{}", p.display(), self.line),
            None => write!(f, "line {}", self.line),
        }
    }
}

/// Errors of the env-file parser, key checks and renderer. Messages name the line and key,
/// never a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvError {
    /// A line is not valid UTF-8 (kustomize: "line ... has invalid utf8 bytes").
    #[error("{at} has invalid utf8 bytes")]
    InvalidUtf8 { at: At },
    /// A key appears twice (kustomize: "illegally repeats the key"). The key is shown only when
    /// it is a valid Secret key that cannot be a piece of a value: neither line is inside a value
    /// pasted over several lines, and both lines have an `=`.
    #[error("{at} illegally repeats the key {} already set on line {first_line}", shown_key(.key, *.showable))]
    DuplicateKey {
        /// The second occurrence.
        at: At,
        key: String,
        /// Whether the key may be shown (see above).
        showable: bool,
        /// Line of the first occurrence.
        first_line: usize,
    },
    /// A line is longer than kustomize's line scanner accepts; kustomize then silently drops
    /// this line and every line after it, so emp-seal refuses the file instead.
    #[error(
        "{at} is {len} bytes long; kustomize silently ignores a line over 65535 bytes and every line after it"
    )]
    LineTooLong { at: At, len: usize },
    /// A key the API server rejects in a Secret. The key is shown only when it cannot be a piece
    /// of a pasted value (see `pasted::invalid_key_is_showable`).
    #[error("{at}: {}", invalid_key_text(.key, *.problem))]
    InvalidKey {
        at: At,
        key: String,
        problem: KeyProblem,
    },
    /// A value pasted over several lines (a PEM key, JSON): kustomize would make each line a key.
    #[error(
        "{at}: {kind} continues over the lines up to {last_line}; kustomize reads each line as its own key (content not shown)"
    )]
    PastedValue {
        /// The line that opens it.
        at: At,
        last_line: usize,
        kind: &'static str,
    },
    /// A line with `=` whose key is not a valid Secret key, refused by the commands that name
    /// keys (a line without `=` is [`EnvError::MissingEquals`]).
    #[error(
        "{at} does not look like a key: it is not a valid secret key or looks like part of a value (content not shown)"
    )]
    NotAKey { at: At },
    /// A line with nothing before its `=`: kustomize drops it without a word (`env-empty-key`).
    #[error(
        "{at} has nothing before '=': kustomize drops such a line without a word, and any value on it (content not shown)"
    )]
    EmptyKey { at: At },
    /// A line without `=`, refused for sealing and by the commands that name keys: it may be a
    /// pasted value.
    #[error(
        "{at} has no '='; it may be part of a pasted value, so it is not {refused} as a key name (content not shown)"
    )]
    MissingEquals {
        at: At,
        /// What is not done with it: `sealed`, `used`.
        refused: &'static str,
    },
    /// An entry cannot be written as a line that kustomize reads back identically.
    #[error("cannot write key `{}` as an env file line: {reason}", .key.escape_debug())]
    Unrepresentable {
        key: String,
        /// Why (never the value).
        reason: &'static str,
    },
}

impl EnvError {
    /// The 1-based line the error is about, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::InvalidUtf8 { at }
            | Self::DuplicateKey { at, .. }
            | Self::LineTooLong { at, .. }
            | Self::InvalidKey { at, .. }
            | Self::PastedValue { at, .. }
            | Self::MissingEquals { at, .. }
            | Self::EmptyKey { at }
            | Self::NotAKey { at } => Some(at.line),
            Self::Unrepresentable { .. } => None,
        }
    }

    /// A suggestion for the user, printed as `help:` by the CLI.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::InvalidUtf8 { .. } => {
                Some("save the file as UTF-8; kustomize refuses the whole file otherwise")
            }
            Self::DuplicateKey { .. } => Some(
                "keep one line per key; docker-compose/godotenv silently keep the last one, kustomize refuses",
            ),
            Self::LineTooLong { .. } => {
                Some("store large values with `files:` in the generator instead of `envs:`")
            }
            Self::InvalidKey { .. } => Some(
                "secret keys may only use letters, digits, '-', '_' and '.'; see docs/envfiles.md",
            ),
            Self::PastedValue { .. } => Some(
                "an env file holds one value per line: store a multi-line value with `files:` in the generator, or put it on one line",
            ),
            Self::MissingEquals { .. } => Some("write `KEY=` for an empty value"),
            Self::EmptyKey { .. } => {
                Some("write the key's name before the '=', or delete the line")
            }
            Self::NotAKey { .. } => Some(
                "secret keys may only use letters, digits, '-', '_' and '.'; one `KEY=value` per line (docs/envfiles.md)",
            ),
            Self::Unrepresentable { .. } => Some(
                "the kustomize env dialect has no quoting or escapes; use another output format",
            ),
        }
    }
}

/// `` key `KEY` is not a valid secret key: it ... `` when the key may be shown, else the same
/// without the key and without the character that makes it invalid (a piece of the line too).
fn invalid_key_text(key: &str, problem: KeyProblem) -> String {
    let why = pasted::key_problem_text(key, problem);
    match pasted::invalid_key_is_showable(key) {
        true => format!(
            "key `{}` is not a valid secret key: it {why}",
            key.escape_debug()
        ),
        false => format!("the key is not a valid secret key: it {why}"),
    }
}

/// `` `KEY` `` for a valid Secret key, else `(not shown)`.
fn shown_key(key: &str, showable: bool) -> String {
    if showable && validate_key(key).is_ok() {
        format!("`{key}`")
    } else {
        "(not shown: it may be part of a value)".to_owned()
    }
}

/// True when `path` names a real env file rather than an example.
pub fn is_real_env_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let example = [".example", ".sample", ".template", ".dist"]
        .iter()
        .any(|s| name.ends_with(s));
    !example && (name == ".env" || name.ends_with(".env") || name.starts_with(".env."))
}

/// Parses an env file exactly as kustomize v5 `envs:` does. See [`parse_with_path`].
pub fn parse(bytes: &[u8]) -> Result<EnvFile, EnvError> {
    parse_at(bytes, None)
}

/// Parses an env file exactly as kustomize v5 `envs:` does, naming `path` in errors
/// (`path:line ...`).
///
/// - lines end at `\n` or `\r\n` (one `\r` before `\n` or at EOF is dropped);
/// - every line, comments included, must be valid UTF-8;
/// - a BOM is stripped from line 1 only; leading Unicode whitespace is trimmed, trailing kept;
/// - blank lines and lines starting with `#` are skipped;
/// - the key is everything before the first `=` (not trimmed), the value everything after;
/// - a line without `=` gives an empty value; a line with an empty key (`=x`) is dropped, as
///   kustomize drops it;
/// - a repeated key is an error, except on lines that continue a value pasted over several
///   lines (kustomize would refuse those too; they are reported as a pasted value instead).
///
/// Each entry also says whether its line looks like a value rather than a key
/// ([`EnvEntry::value_like`]), and [`EnvFile::pasted`] lists values pasted over several lines.
///
/// One deliberate difference: a line over 65535 bytes makes kustomize silently stop reading
/// (Go `bufio.Scanner` `ErrTooLong`, unchecked in `kv.go`); emp-seal returns
/// [`EnvError::LineTooLong`] rather than lose entries.
pub fn parse_with_path(path: &Path, bytes: &[u8]) -> Result<EnvFile, EnvError> {
    parse_at(bytes, Some(path))
}

fn parse_at(bytes: &[u8], path: Option<&Path>) -> Result<EnvFile, EnvError> {
    let pasted = pasted_values(bytes);
    let continues = |line: usize| pasted.iter().any(|p| p.continues_on(line));
    let mut entries = Vec::new();
    let mut empty_keys = Vec::new();
    // Each key's first line, and whether that line may show the key: not inside a pasted value,
    // and with an `=` (a line without one may be a piece of a value however it looks).
    let mut seen: HashMap<&str, (usize, bool)> = HashMap::new();
    for line in scan::lines(bytes) {
        if line.raw_len > scan::MAX_LINE_BYTES {
            return Err(EnvError::LineTooLong {
                at: At::new(path, line.number),
                len: line.raw_len,
            });
        }
        // kv.go keyValuesFromLine: utf8.Valid before anything else, comments included.
        let text = std::str::from_utf8(line.content).map_err(|_| EnvError::InvalidUtf8 {
            at: At::new(path, line.number),
        })?;
        let scan::Shape::Pair { key_at, key, value } = scan::shape(text, line.number == 1) else {
            continue;
        };
        // kv.go keyValuesFromLines: "no key means line was empty or a comment" - so `=x` is
        // dropped without a word (env-empty-key lints it).
        if key.is_empty() {
            empty_keys.push(line.number);
            continue;
        }
        let in_pasted = continues(line.number);
        // generators/utils.go makeValidatedDataMap: a repeated key is an error, inside a pasted
        // value too (kustomize reads each of its lines as a key).
        let showable = !in_pasted && value.is_some();
        if let Some(&(first_line, first_showable)) = seen.get(key) {
            return Err(EnvError::DuplicateKey {
                at: At::new(path, line.number),
                key: key.to_owned(),
                showable: showable && first_showable,
                first_line,
            });
        }
        seen.insert(key, (line.number, showable));
        let has_equals = value.is_some();
        let padding = value.is_some_and(|(_, v)| pasted::padding_looks_like_value(key, v));
        let key_start = line.start + key_at;
        let key_span = key_start..key_start + key.len();
        let (value_span, value) = match value {
            Some((at, v)) => (line.start + at..line.start + at + v.len(), v.as_bytes()),
            None => (key_span.end..key_span.end, &b""[..]),
        };
        let value_like = in_pasted
            || validate_key(key).is_err()
            || padding
            || (!has_equals && no_equals_looks_like_value(key));
        entries.push(EnvEntry {
            key: key.to_owned(),
            value: SecretValue::from_slice(value),
            line: line.number,
            key_span,
            value_span,
            has_equals,
            value_like,
        });
    }
    Ok(EnvFile {
        entries,
        pasted,
        empty_keys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(bytes: &[u8]) -> Vec<(String, Vec<u8>, usize)> {
        parse(bytes)
            .expect("parses")
            .entries
            .into_iter()
            .map(|e| (e.key, e.value.expose_secret().to_vec(), e.line))
            .collect()
    }

    fn p(k: &str, v: &[u8], line: usize) -> (String, Vec<u8>, usize) {
        (k.to_owned(), v.to_vec(), line)
    }

    #[test]
    fn kustomize_dialect() {
        let got = pairs(
            b"\xEF\xBB\xBFA=1\n=dropped\n   \n\t\nB\n  C = x  \nD=\"q\"\r\nE=x\r\rF\r\nG=a=b # c\nexport H=1\n#I=2\n  #J=3\nK=x\r",
        );
        assert_eq!(
            got,
            vec![
                p("A", b"1", 1),
                p("B", b"", 5),
                p("C ", b" x  ", 6),
                p("D", b"\"q\"", 7),
                p("E", b"x\r\rF", 8),
                p("G", b"a=b # c", 9),
                p("export H", b"1", 10),
                p("K", b"x", 13),
            ]
        );
    }

    #[test]
    fn bom_only_on_first_line() {
        let got = pairs(b"A=1\n\xEF\xBB\xBFB=2\n");
        assert_eq!(got[1].0, "\u{FEFF}B");
    }

    #[test]
    fn spans_point_at_key_and_value() {
        let src = b"\xEF\xBB\xBF  KEY=value\nX\n";
        let f = parse(src).expect("parses");
        assert_eq!(&src[f.entries[0].key_span.clone()], b"KEY");
        assert_eq!(&src[f.entries[0].value_span.clone()], b"value");
        assert_eq!(&src[f.entries[1].key_span.clone()], b"X");
        assert!(f.entries[1].value_span.is_empty());
    }

    #[test]
    fn errors_name_lines_not_values() {
        let e = parse(b"A=1\nB=sentinel-\xff\n").expect_err("invalid utf8");
        assert_eq!(e.to_string(), "line 2 has invalid utf8 bytes");
        let e = parse(b"#ok\n# \xff\n").expect_err("comment is checked too");
        assert_eq!(e.line(), Some(2));
        let e = parse_with_path(Path::new("dev.env"), b"A=sentinel\n B=x\nA=sentinel2\n")
            .expect_err("duplicate");
        let msg = e.to_string();
        assert_eq!(
            msg,
            "dev.env:3 illegally repeats the key `A` already set on line 1"
        );
        assert!(!msg.contains("sentinel"));
        // A line without `=` may be a password on its own line: never shown, however it looks.
        let e = parse(b"Sentinel1\nA=1\nSentinel1\n").expect_err("duplicate");
        assert!(!e.to_string().contains("Sentinel1"), "{e}");
        let e = parse(b"Sentinel1=x\nSentinel1\n").expect_err("duplicate");
        assert!(!e.to_string().contains("Sentinel1"), "{e}");
    }

    #[test]
    fn long_lines_are_refused() {
        let mut ok = b"A=".to_vec();
        ok.resize(scan::MAX_LINE_BYTES, b'x');
        assert_eq!(parse(&ok).expect("fits").len(), 1);
        ok.push(b'x');
        let e = parse(&ok).expect_err("too long");
        assert!(matches!(e, EnvError::LineTooLong { len: 65536, .. }), "{e}");
    }

    #[test]
    fn debug_never_shows_values() {
        let f = parse(b"TOKEN=sentinel-value-1234\nB\n").expect("parses");
        let shown = format!("{f:?} {:#?}", f.entries);
        assert!(!shown.contains("sentinel"), "{shown}");
        assert!(shown.contains("TOKEN"));
    }

    #[test]
    fn invalid_keys_are_refused_for_sealing() {
        let f = parse(b"GOOD=1\nexport BAD=sentinel\n").expect("kustomize accepts it");
        let e = f
            .validate_keys_with_path(Path::new("x.env"))
            .expect_err("API server would not");
        assert_eq!(
            e.to_string(),
            "x.env:2: key `export BAD` is not a valid secret key: it contains ' ', outside [-._a-zA-Z0-9]"
        );
        let ok = parse(b"A=1\n").expect("parses");
        assert!(ok.validate_keys_with_path(Path::new("x.env")).is_ok());
    }

    /// Sealing refuses a pasted value (first line named) before a line without `=`, and that
    /// before an invalid key; no message shows the line.
    #[test]
    fn pasted_values_and_bare_lines_are_refused_for_sealing() {
        let pem = b"A=1\nK=-----BEGIN PRIVATE KEY-----\nsentinel+/==\nsentinelABC\n-----END PRIVATE KEY-----\nsentinel\n";
        let f = parse(pem).expect("kustomize reads it");
        let e = f
            .validate_keys_with_path(Path::new("x.env"))
            .expect_err("pasted");
        assert!(
            matches!(e, EnvError::PastedValue { last_line: 5, .. }),
            "{e}"
        );
        assert!(e.to_string().starts_with("x.env:2: a PEM block"), "{e}");
        let bare = parse(b"A=1\nsentinel\nB C=1\n").expect("parses");
        let e = bare
            .validate_keys_with_path(Path::new("x.env"))
            .expect_err("no '='");
        assert_eq!(e.line(), Some(2));
        let pasted = f.validate_keys_with_path(Path::new("x.env"));
        for e in [e, pasted.expect_err("pasted")] {
            assert!(!e.to_string().contains("sentinel"), "{e}");
        }
        // Pasted and bare value-looking lines are no key entries; real keys are.
        let keys: Vec<&str> = f.key_entries().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["A", "K", "sentinel"]);
        // kustomize reads each line of a pasted value as a key, so a line repeated across two
        // pasted values is a repeated key to it too; the error never shows that line.
        let e = parse(b"J={\n}\nK={\n}\n").expect_err("kustomize refuses a repeated key");
        assert!(
            matches!(
                e,
                EnvError::DuplicateKey {
                    showable: false,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "line 4 illegally repeats the key (not shown: it may be part of a value) already set on line 2"
        );
    }

    /// The commands that name keys refuse every line without `=`, including one shaped like a
    /// key (a short password pasted alone on a line), and name it by its line only.
    #[test]
    fn non_keys_are_refused_by_line_only() {
        let path = Path::new("x.env");
        let f = parse(b"A=1\nsentinel\nB C=sentinel\n").expect("parses");
        assert!(!f.entries[1].value_like, "shaped like a key");
        let e = f.refuse_non_keys_with_path(path).expect_err("no '='");
        assert_eq!(
            e.to_string(),
            "x.env:2 has no '='; it may be part of a pasted value, so it is not used as a key name (content not shown)"
        );
        let f = parse(b"A=1\nB C=sentinel\nsentinel\n").expect("parses");
        let e = f.refuse_non_keys_with_path(path).expect_err("invalid key");
        assert!(matches!(e, EnvError::NotAKey { .. }), "{e:?}");
        assert_eq!(e.line(), Some(2));
        assert!(!e.to_string().contains("sentinel"), "{e}");
        let ok = parse(b"A=1\nB=\n").expect("parses");
        assert!(ok.refuse_non_keys_with_path(path).is_ok());
    }
}
