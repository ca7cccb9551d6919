//! Cross-dialect lints: lines that kustomize reads one way and another consumer of the "same"
//! `.env` file reads another way.
//!
//! Owns the lint ids (future `emp-seal check` rule ids), their severities and messages. It must
//! not fail (a line kustomize rejects is the parser's business) and no message may contain a
//! value: messages describe the shape of the line, never its content.
//!
//! Who disagrees, as read from upstream:
//! - kubectl `pkg/cmd/util/env_file.go` (`kubectl create secret --from-env-file`): same split as
//!   kustomize, but keys must pass `IsEnvVarName` and a line without `=` reads the process
//!   environment;
//! - joho/godotenv `parser.go` (docker-compose's dotenv reading follows the same rules):
//!   strips `export` and one pair of quotes, trims the key and the unquoted value, cuts ` #`
//!   comments, expands `$VAR`/`${VAR}`, unescapes `\n` in double quotes, lets a quoted value span
//!   lines, treats `\r` as a line end, keeps the last duplicate;
//! - getsops/sops `stores/dotenv/store.go` (SOPS dotenv, used by ksops): splits at `\n` only
//!   (a `\r` stays in the value), does not trim, reads only column-1 `#` as a comment, errors on
//!   a line without `=`, decodes `\n` to a newline;
//! - dotenv-linter: its quote and whitespace fixes rewrite values kustomize deploys verbatim.

use std::fmt;
use std::ops::Range;

use super::key::{is_env_var_name, validate_key};
use super::pasted::{PastedValue, closing_quote, pasted_values};
use super::scan::{self, BOM, Shape, is_go_space};

/// How bad a lint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LintSeverity {
    /// Another consumer reads the line differently; kustomize's reading is probably intended.
    Warning,
    /// kustomize's own result is wrong or will be rejected (by the API server), or data is lost.
    Error,
}

macro_rules! lint_ids {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, $sev:ident, $summary:literal; )*) => {
        /// Stable identifiers of the env-file lints; each becomes an `emp-seal check` rule id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum LintId {
            $( $(#[$doc])* $variant, )*
        }

        impl LintId {
            /// Every lint id, in documentation order.
            pub const ALL: &'static [LintId] = &[$(LintId::$variant),*];

            /// The kebab-case id, e.g. `env-quoted-value`. Never changes.
            pub const fn as_str(self) -> &'static str {
                match self { $(LintId::$variant => $id,)* }
            }

            /// The severity every finding of this lint has.
            pub const fn severity(self) -> LintSeverity {
                match self { $(LintId::$variant => LintSeverity::$sev,)* }
            }

            /// One-line summary for rule listings.
            pub const fn summary(self) -> &'static str {
                match self { $(LintId::$variant => $summary,)* }
            }
        }
    };
}

lint_ids! {
    Bom = "env-bom", Warning, "the file starts with a UTF-8 byte order mark";
    Crlf = "env-crlf", Warning, "the file uses CRLF line endings";
    BareCr = "env-bare-cr", Warning, "a carriage return inside a line";
    LeadingWhitespace = "env-leading-whitespace", Warning, "an indented or whitespace-only line";
    EmptyKey = "env-empty-key", Error, "a line with an empty key, which kustomize silently drops";
    MissingEquals = "env-missing-equals", Warning, "a line without '='";
    /// `export KEY=value`.
    ExportPrefix = "env-export-prefix", Error, "a shell `export` prefix that becomes part of the key";
    SpaceAroundEquals = "env-space-around-equals", Warning, "whitespace around '='";
    InvalidKey = "env-invalid-key", Error, "a key outside [-._a-zA-Z0-9]+ that the API server rejects";
    /// A valid key that is not an environment-variable name (starts with a digit).
    KeyNotEnvName = "env-key-not-env-name", Warning, "a key kubectl --from-env-file refuses";
    QuotedValue = "env-quoted-value", Warning, "a quoted value whose quotes kustomize keeps";
    MultilineAttempt = "env-multiline-attempt", Error, "an unterminated quote: a multi-line value kustomize does not support";
    /// ` # text` after a value.
    InlineComment = "env-inline-comment", Warning, "a ` #` comment that kustomize keeps in the value";
    /// `$VAR`, `${VAR}` or `$(cmd)` in a value.
    VariableExpansion = "env-variable-expansion", Warning, "a `$` reference kustomize does not expand";
    /// A backslash escape such as `\n` in a value.
    EscapeSequence = "env-escape-sequence", Warning, "a backslash escape kustomize does not decode";
    TrailingWhitespace = "env-trailing-whitespace", Warning, "trailing whitespace kept in the value";
    /// A value pasted over several lines (a PEM key, a JSON blob); reported once, on its first
    /// line, and no line of it is quoted.
    MultilineValue = "env-multiline-value", Error, "a value pasted over several lines, which kustomize reads as one key per line";
}

impl fmt::Display for LintId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One lint finding on one line. Its message never contains a value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EnvLint {
    pub id: LintId,
    /// Its severity (always `id.severity()`).
    pub severity: LintSeverity,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// Byte range in the file the lint points at.
    pub span: Range<usize>,
    /// What kustomize does and who disagrees.
    pub message: String,
}

#[derive(Default)]
struct Sink<'a> {
    out: Vec<EnvLint>,
    line: usize,
    line_start: usize,
    text: &'a str,
}

impl Sink<'_> {
    /// A lint at byte `at..end` of the current line's text.
    fn at(&self, id: LintId, at: usize, end: usize, message: String) -> EnvLint {
        EnvLint {
            id,
            severity: id.severity(),
            line: self.line,
            column: self.text.get(..at).map_or(at, |s| s.chars().count()) + 1,
            span: self.line_start + at..self.line_start + end,
            message,
        }
    }

    /// Records a lint at byte `at..end` of the current line's text.
    fn push(&mut self, id: LintId, at: usize, end: usize, message: String) {
        self.out.push(self.at(id, at, end, message));
    }
}

/// Lints every line of an env file for readings that differ between kustomize and other
/// consumers. Never fails: lines that are not UTF-8 or too long are skipped (the parser reports
/// them). Findings come in line order.
///
/// A value pasted over several lines ([`pasted_values`]) gives one `env-multiline-value` finding
/// on its first line and nothing else on any of its lines. No message quotes a key either, as a
/// line that looks like a key may be a piece of a value: the line and column say which.
pub fn lint(bytes: &[u8]) -> Vec<EnvLint> {
    let pasted = pasted_values(bytes);
    let mut sink = Sink::default();
    let mut crlf_lines = 0usize;
    let mut first_crlf: Option<EnvLint> = None;
    for line in scan::lines(bytes) {
        let Some(text) = line.text() else {
            continue;
        };
        sink.line = line.number;
        sink.line_start = line.start;
        sink.text = text;
        if line.dropped_cr {
            crlf_lines += 1;
            let end = text.len();
            first_crlf.get_or_insert_with(|| sink.at(LintId::Crlf, end, end + 1, String::new()));
        }
        match pasted.iter().find(|p| p.first_line == line.number) {
            Some(p) => push_pasted(&mut sink, p),
            None if pasted.iter().any(|p| p.continues_on(line.number)) => {}
            None => lint_line(&mut sink, text, line.number == 1),
        }
    }
    if let Some(mut crlf) = first_crlf {
        crlf.message = format!(
            "{crlf_lines} line(s) end in CRLF: kustomize and kubectl drop the `\\r`, but SOPS dotenv (ksops) and shells that `source` the file keep it at the end of every value"
        );
        sink.out.push(crlf);
        sink.out.sort_by_key(|l| (l.line, l.column));
    }
    sink.out
}

/// The one finding of a pasted value, on its first line, spanning all of its lines.
fn push_pasted(s: &mut Sink<'_>, p: &PastedValue) {
    let lines = p.last_line - p.first_line + 1;
    s.push(
        LintId::MultilineValue,
        0,
        p.end - p.start,
        format!(
            "{} pasted over {lines} lines (to line {}): kustomize reads each line as its own key, so the Secret gets pieces of the value as key names; godotenv/docker-compose read one value (content not shown)",
            p.kind.describe(),
            p.last_line
        ),
    );
}

fn lint_line(s: &mut Sink<'_>, text: &str, first: bool) {
    let body_at = if first && text.as_bytes().starts_with(BOM) {
        s.push(
            LintId::Bom,
            0,
            BOM.len(),
            "the file starts with a byte order mark: kustomize strips it, but godotenv/docker-compose reject the first key and SOPS dotenv keeps it in the key".to_owned(),
        );
        BOM.len()
    } else {
        0
    };
    let body = &text[body_at..];
    if let Some(cr) = body.find('\r') {
        s.push(
            LintId::BareCr,
            body_at + cr,
            body_at + cr + 1,
            "a carriage return inside the line: kustomize keeps it in the key or value, but godotenv/docker-compose end the line there".to_owned(),
        );
    }
    let trimmed = body.trim_start_matches(is_go_space);
    let indent = body.len() - trimmed.len();
    if indent > 0 {
        let message = if trimmed.is_empty() {
            "a line of only whitespace: kustomize skips it, but SOPS dotenv (ksops) fails on it (no '=')"
        } else if trimmed.starts_with('#') {
            "an indented comment: kustomize skips it, but SOPS dotenv (ksops) reads only a column-1 `#` as a comment and fails on this line"
        } else {
            "an indented line: kustomize and godotenv trim the indent, but SOPS dotenv (ksops) keeps it in the key"
        };
        s.push(
            LintId::LeadingWhitespace,
            body_at,
            body_at + indent,
            message.to_owned(),
        );
    }
    let Shape::Pair { key_at, key, value } = scan::shape(text, first) else {
        return;
    };
    let key_end = key_at + key.len();
    if key.is_empty() {
        s.push(
            LintId::EmptyKey,
            key_at,
            key_at + 1,
            "nothing before '=': kustomize silently drops this line, kubectl --from-env-file rejects it".to_owned(),
        );
        return;
    }
    lint_key(s, key, key_at, value.is_none());
    let Some((value_at, value)) = value else {
        s.push(
            LintId::MissingEquals,
            key_at,
            key_end,
            "no '=' on this line (content not shown: it may be a pasted value): kustomize v5 reads it as a key with the empty value, kubectl --from-env-file (and kustomize before v5) copy it from the process environment, SOPS dotenv (ksops) fails".to_owned(),
        );
        return;
    };
    if key.ends_with(is_go_space) || value.starts_with(is_go_space) {
        let at = key_at + key.trim_end_matches(is_go_space).len();
        let end = value_at + (value.len() - value.trim_start_matches(is_go_space).len());
        s.push(
            LintId::SpaceAroundEquals,
            at,
            end,
            "whitespace around '=': kustomize keeps it in the key and value, godotenv/docker-compose trim it".to_owned(),
        );
    }
    lint_value(s, value, value_at);
}

fn lint_key(s: &mut Sink<'_>, key: &str, key_at: usize, no_equals: bool) {
    let key_end = key_at + key.len();
    if let Some(rest) = key.strip_prefix("export")
        && rest.starts_with(is_go_space)
    {
        s.push(
            LintId::ExportPrefix,
            key_at,
            key_at + "export".len(),
            "`export` prefix: kustomize makes it part of the key (`export NAME`), godotenv/docker-compose strip it, kubectl --from-env-file rejects it".to_owned(),
        );
    }
    match validate_key(key) {
        Err(problem) => {
            // A line without '=' keeps its trailing whitespace in the key; say so plainly.
            // The key is not shown; nor is its bad character when the key may be a value.
            let why = super::pasted::key_problem_text(key, problem);
            let extra = if no_equals && key.ends_with(is_go_space) {
                " (trailing whitespace on a line without '=' is part of the key)"
            } else {
                ""
            };
            s.push(
                LintId::InvalidKey,
                key_at,
                key_end,
                format!(
                    "the key {why}{extra}: kustomize accepts it, but the API server rejects the Secret and kubectl --from-env-file refuses it"
                ),
            );
        }
        Ok(()) if !is_env_var_name(key) => {
            s.push(
                LintId::KeyNotEnvName,
                key_at,
                key_end,
                "the key starts with a digit: kustomize and the API server accept it, but kubectl --from-env-file refuses it and `envFrom` cannot expose it as a variable".to_owned(),
            );
        }
        Ok(()) => {}
    }
}

fn lint_value(s: &mut Sink<'_>, full: &str, full_at: usize) {
    // godotenv skips whitespace after '=' before looking for a quote.
    let value = full.trim_start_matches(is_go_space);
    let value_at = full_at + (full.len() - value.len());
    let quote = value.bytes().next().filter(|q| matches!(q, b'"' | b'\''));
    // The part godotenv treats as the value proper, and where a comment it drops starts.
    let (inner, comment_at) = match quote {
        Some(q) => match closing_quote(value, q) {
            Some(close) => {
                s.push(
                    LintId::QuotedValue,
                    value_at,
                    value_at + close + 1,
                    "quoted value: kustomize and kubectl keep the quotes in the value, godotenv/docker-compose/SOPS dotenv strip them (and dotenv-linter's fix would change what kustomize deploys)".to_owned(),
                );
                let after = close + 1;
                (
                    &value[1..close],
                    value[after..].find('#').map(|i| after + i),
                )
            }
            None => {
                s.push(
                    LintId::MultilineAttempt,
                    value_at,
                    value_at + 1,
                    "opening quote without a closing one on this line: godotenv/docker-compose read the following lines into this value, kustomize ends the value here and reads each following line as its own entry".to_owned(),
                );
                (&value[1..], None)
            }
        },
        None => (value, find_inline_comment(value)),
    };
    if let Some(at) = comment_at {
        s.push(
            LintId::InlineComment,
            value_at + at,
            value_at + value.len(),
            "text after ` #`: kustomize and kubectl keep it in the value, godotenv/docker-compose drop it as a comment".to_owned(),
        );
    }
    // Where `inner` starts: after the opening quote.
    let inner_at = value_at + usize::from(quote.is_some());
    if quote != Some(b'\'')
        && let Some(at) = find_expansion(inner)
    {
        s.push(
            LintId::VariableExpansion,
            inner_at + at,
            inner_at + at + 1,
            "`$` reference: kustomize keeps it literally, godotenv/docker-compose substitute a variable".to_owned(),
        );
    }
    if let Some(at) = find_escape(inner, quote == Some(b'"')) {
        s.push(
            LintId::EscapeSequence,
            inner_at + at,
            inner_at + at + 2,
            "backslash escape: kustomize keeps the backslash, SOPS dotenv (ksops) decodes `\\n` everywhere and godotenv/docker-compose decode escapes in double quotes".to_owned(),
        );
    }
    let kept = full.trim_end_matches(is_go_space);
    if kept.len() < full.len() {
        s.push(
            LintId::TrailingWhitespace,
            full_at + kept.len(),
            full_at + full.len(),
            "trailing whitespace: kustomize and kubectl keep it in the value, godotenv/docker-compose/SOPS dotenv trim unquoted values".to_owned(),
        );
    }
}

/// godotenv `extractVarValue`: a `#` preceded by whitespace (not at the start) opens a comment.
fn find_inline_comment(value: &str) -> Option<usize> {
    let mut prev_space = false;
    value
        .char_indices()
        .find(|&(_, c)| {
            let opens = c == '#' && prev_space;
            prev_space = is_go_space(c);
            opens
        })
        .map(|(i, _)| i)
}

/// `$NAME`, `${...}` or `$(...)`, not escaped with a backslash.
fn find_expansion(value: &str) -> Option<usize> {
    let b = value.as_bytes();
    (0..b.len()).find(|&i| {
        b[i] == b'$'
            && (i == 0 || b[i - 1] != b'\\')
            && b.get(i + 1)
                .is_some_and(|&n| n == b'{' || n == b'(' || n == b'_' || n.is_ascii_alphabetic())
    })
}

/// `\n` anywhere (SOPS dotenv decodes it), or any backslash escape inside double quotes.
fn find_escape(value: &str, double_quoted: bool) -> Option<usize> {
    let b = value.as_bytes();
    (0..b.len().saturating_sub(1)).find(|&i| b[i] == b'\\' && (double_quoted || b[i + 1] == b'n'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn ids(src: &str) -> Vec<&'static str> {
        lint(src.as_bytes()).iter().map(|l| l.id.as_str()).collect()
    }

    /// Each lint fires on its bad line and not on a clean twin.
    #[test]
    fn each_lint_fires_on_bad_line_only() {
        let cases: &[(LintId, &str, &str)] = &[
            (LintId::Bom, "\u{FEFF}A=1\n", "A=1\n"),
            (LintId::Crlf, "A=1\r\n", "A=1\n"),
            (LintId::BareCr, "A=1\r2\n", "A=12\n"),
            (LintId::LeadingWhitespace, "  A=1\n", "A=1\n"),
            (LintId::LeadingWhitespace, "  # note\n", "# note\n"),
            (LintId::LeadingWhitespace, "A=1\n \t\nB=2\n", "A=1\n\nB=2\n"),
            (LintId::EmptyKey, "=1\n", "A=1\n"),
            (LintId::MissingEquals, "A\n", "A=\n"),
            (LintId::ExportPrefix, "export A=1\n", "exporter=1\n"),
            (LintId::SpaceAroundEquals, "A= 1\n", "A=1\n"),
            (LintId::SpaceAroundEquals, "A =1\n", "A=1\n"),
            (LintId::InvalidKey, "A:B=1\n", "A.B=1\n"),
            (LintId::InvalidKey, "A \n", "A\n"),
            (LintId::InvalidKey, "..A=1\n", ".A=1\n"),
            (LintId::KeyNotEnvName, "1A=1\n", "A1=1\n"),
            (LintId::QuotedValue, "A=\"1\"\n", "A=1\n"),
            (LintId::QuotedValue, "A='1'\n", "A=1'\n"),
            (
                LintId::MultilineAttempt,
                "A=\"-----BEGIN\n",
                "A=-----BEGIN\n",
            ),
            (LintId::InlineComment, "A=1 # note\n", "A=1#note\n"),
            (
                LintId::InlineComment,
                "A=\"1\" # note\n",
                "A=\"1 # note\"\n",
            ),
            (LintId::VariableExpansion, "A=${HOME}/x\n", "A=$$/x\n"),
            (LintId::VariableExpansion, "A=\"$HOME\"\n", "A='$HOME'\n"),
            (LintId::EscapeSequence, "A=line\\nnext\n", "A=C:\\path\n"),
            (LintId::EscapeSequence, "A=\"tab\\t\"\n", "A='tab\\t'\n"),
            (LintId::TrailingWhitespace, "A=1 \n", "A=1\n"),
            (LintId::TrailingWhitespace, "A=1\t\r\n", "A=1\r\n"),
            (
                LintId::MultilineValue,
                "K=-----BEGIN X-----\nQUJD\n-----END X-----\n",
                "K=-----BEGIN X-----\\nQUJD\\n-----END X-----\n",
            ),
        ];
        let mut covered = HashSet::new();
        for (id, bad, clean) in cases {
            let got = lint(bad.as_bytes());
            assert!(
                got.iter().any(|l| l.id == *id),
                "{id} should fire on {bad:?}: {got:?}"
            );
            assert!(
                !lint(clean.as_bytes()).iter().any(|l| l.id == *id),
                "{id} should not fire on {clean:?}"
            );
            covered.insert(*id);
        }
        for id in LintId::ALL {
            assert!(covered.contains(id), "{id} has no test case");
        }
    }

    #[test]
    fn clean_file_is_clean() {
        assert!(ids("# comment\n\nA=1\nb.c-d_e=x=y\nEMPTY=\n").is_empty());
    }

    #[test]
    fn positions_and_order() {
        let l = lint(b"OK=1\n  A = \"v\"  # c\n");
        let got: Vec<(&str, usize, usize)> = l
            .iter()
            .map(|l| (l.id.as_str(), l.line, l.column))
            .collect();
        assert_eq!(
            got,
            vec![
                ("env-leading-whitespace", 2, 1),
                ("env-invalid-key", 2, 3),
                ("env-space-around-equals", 2, 4),
                ("env-quoted-value", 2, 7),
                ("env-inline-comment", 2, 12),
            ]
        );
        let crlf = lint(b"A=1\r\nB=2\r\n");
        assert_eq!(crlf.len(), 1, "one CRLF finding per file: {crlf:?}");
        assert_eq!((crlf[0].line, crlf[0].column), (1, 4));
    }

    #[test]
    fn messages_never_contain_values() {
        let src = "export A=\"sentinel\" # sentinel\nB = sentinel${X}\\n \nC=\"sentinel\n1D=sentinel\r\n=sentinel\n";
        let all = lint(src.as_bytes());
        assert!(all.len() >= 8, "{all:?}");
        for l in &all {
            assert!(!l.message.contains("sentinel"), "{l:?}");
            assert_eq!(l.severity, l.id.severity());
        }
    }

    /// A pasted private key: one finding on its first line spanning the block, and no line of it
    /// in any message, whatever the body lines look like to the other lints.
    #[test]
    fn pasted_key_is_one_finding_quoting_nothing() {
        let body = [
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7sentinel",
            "9sentinelDigitFirst==",
            "sentinel+with/slash ",
            "export sentinel",
        ];
        let src = format!(
            "A=1\nTLS_KEY=-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\nB=2 \n",
            body.join("\n")
        );
        let all = lint(src.as_bytes());
        let pasted: Vec<&EnvLint> = all
            .iter()
            .filter(|l| l.id == LintId::MultilineValue)
            .collect();
        assert_eq!(pasted.len(), 1, "{all:?}");
        assert_eq!((pasted[0].line, pasted[0].column), (2, 1));
        assert!(
            pasted[0].message.contains("to line 7"),
            "{}",
            pasted[0].message
        );
        assert!(src[pasted[0].span.clone()].ends_with("-----END PRIVATE KEY-----"));
        // Nothing else on lines 2-7; line 8 is still linted.
        assert!(
            all.iter()
                .all(|l| l.id == LintId::MultilineValue || l.line == 8),
            "{all:?}"
        );
        assert!(
            all.iter()
                .any(|l| l.id == LintId::TrailingWhitespace && l.line == 8)
        );
        for l in &all {
            assert!(!l.message.contains("sentinel"), "{l:?}");
        }
        // Outside a block, lines that are not keys are named by line only.
        for l in lint(b"9sentinel=1\nsentinel+/\nsentinelKey\n") {
            assert!(!l.message.contains("sentinel"), "{l:?}");
        }
    }

    #[test]
    fn ids_are_unique_kebab_case() {
        let mut seen = HashSet::new();
        for id in LintId::ALL {
            let s = id.as_str();
            assert!(
                s.starts_with("env-") && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
            );
            assert!(seen.insert(s), "duplicate {s}");
            assert!(!id.summary().is_empty());
        }
    }

    #[test]
    fn never_fails_on_bad_input() {
        assert!(
            lint(b"A=\xff\n\xEF\xBB\xBFB=1\n")
                .iter()
                .any(|l| l.id == LintId::InvalidKey)
        );
    }
}
