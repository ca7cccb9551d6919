//! Rule `allow-comment-unknown`: an `# emp-seal:allow` comment that names no rule, or a rule id
//! emp-seal does not have (a typo, `all`, `*`). It suppresses nothing, so the finding it was
//! written for still shows; this rule says why, at the comment. Only the files allow comments
//! apply to are read: YAML files and env files (not prose, whose examples are not directives).

use std::collections::HashSet;

use super::View;
use super::locate::at_line;
use crate::finding::{Finding, RuleMeta, RuleScope, Severity};

pub static META: RuleMeta = RuleMeta {
    id: "allow-comment-unknown",
    summary: "An emp-seal:allow comment names no rule, or a rule that does not exist, so it suppresses nothing",
    default_severity: Severity::Warning,
    hint: "name the rule of the finding to allow (`emp-seal check` prints it in brackets; docs/rules.md lists them all), e.g. `# emp-seal:allow plaintext-secret -- why`",
    scope: RuleScope::Tree,
};

/// One finding per allow comment naming no known rule id, or some unknown ones.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    use rayon::prelude::*;
    let mut out = Vec::new();
    let env: HashSet<&str> = (cx.tree.env_files.iter())
        .map(|e| e.path.as_str())
        .collect();
    let files = (cx.files.par_iter()).filter(|f| f.is_yaml() || env.contains(f.path.as_str()));
    // Every comment reported holds the directive's name in some spelling ([`misspelled`]).
    let files: Vec<_> = files.filter(|f| names_emp_seal(&f.text)).collect();
    for file in files {
        for (i, comment) in super::allow_comments(file).into_iter().enumerate() {
            let Some((c, _)) = comment else { continue };
            let Some(rest) = super::directive_in(c) else {
                if let Some(message) = misspelled(c) {
                    out.push(Finding::new(&META, at_line(cx, &file.path, i + 1), message));
                }
                continue;
            };
            let directive = super::ALLOW_DIRECTIVE;
            // Without a readable id, only a comment the directive opens is taken for one: a
            // comment quoting it further on (`write "# emp-seal:allow <id>"`) is prose.
            let opens = (c.trim_start_matches('#').trim_start()).starts_with(directive);
            let message = match super::parse_ids(rest) {
                None if !opens => continue,
                None if rest.trim().is_empty() => {
                    format!("this `{directive}` comment names no rule, so it suppresses nothing")
                }
                // `parse_ids` reads ids of lower-case letters, digits and `-` only.
                None => format!(
                    "this `{directive}` comment names no rule id emp-seal can read (ids are lower-case, such as `plaintext-secret`), so it suppresses nothing"
                ),
                Some(allow) => {
                    let unknown: Vec<String> = (allow.ids.into_iter())
                        .filter(|id| super::find(id).is_none())
                        .map(|id| format!("`{id}`"))
                        .collect();
                    if unknown.is_empty() {
                        continue;
                    }
                    format!(
                        "this `{directive}` comment names {}, which emp-seal has no rule for: it suppresses nothing for {}",
                        unknown.join(", "),
                        if unknown.len() == 1 { "it" } else { "them" }
                    )
                }
            };
            out.push(Finding::new(&META, at_line(cx, &file.path, i + 1), message));
        }
    }
    out
}

/// `emp-seal` as the directive writes it and as it is misspelled, lower-case.
const SPELLINGS: [&str; 3] = ["emp-seal", "emp_seal", "empseal"];

/// Whether `text` holds one of [`SPELLINGS`] in any case, compared in place (no lower-cased
/// copy of the text): at each `e` or `E`, the bytes from there against each spelling.
fn names_emp_seal(text: &str) -> bool {
    let bytes = text.as_bytes();
    (0..bytes.len())
        .filter(|&i| bytes[i].eq_ignore_ascii_case(&b'e'))
        .any(|i| {
            SPELLINGS.iter().any(|s| {
                (bytes.get(i..i + s.len())).is_some_and(|w| w.eq_ignore_ascii_case(s.as_bytes()))
            })
        })
}

/// What to say of the comment `c` (from its `#`) when it opens with the allow directive spelled
/// wrong, so that it is no directive: `emp-seal` in another case or with `_` or nothing for its
/// `-`, blanks around its `:`, `allow` with more letters after it (`allows`), its ids glued on
/// (`emp-seal:allow,<id>`), or no `:` at all (`# emp-seal allow <id>`; without a `:` only a bare
/// `allow` or one followed by a known rule id counts, so that prose such as `# emp-seal allows
/// ...` or `# emp-seal allow list below` is not taken for one). Only the misspelled words are
/// quoted.
fn misspelled(c: &str) -> Option<String> {
    let body = c.trim_start_matches('#').trim_start_matches([' ', '\t']);
    let lower = body.to_ascii_lowercase();
    let rest = SPELLINGS.iter().find_map(|p| lower.strip_prefix(p))?;
    let word = rest.trim_start_matches([' ', '\t', ':']);
    let after = word.strip_prefix("allow")?;
    let ids = after.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let colon = rest[..rest.len() - word.len()].contains(':');
    let given = super::parse_ids(ids.strip_prefix([',', '-', ':']).unwrap_or(ids));
    let known = (given.as_ref()).is_some_and(|a| a.ids.iter().any(|id| super::find(id).is_some()));
    if !(colon || after.is_empty() || (after.starts_with([' ', '\t']) && known)) {
        return None;
    }
    let written = &body[..body.len() - ids.len()];
    let directive = super::ALLOW_DIRECTIVE;
    let example = match given {
        Some(a) => a.ids.into_iter().collect::<Vec<_>>().join(", "),
        None => "<rule-id>".to_owned(),
    };
    Some(match written == directive {
        true => format!(
            "`{directive}` needs a blank before its rule ids, so this comment suppresses nothing: write `# {directive} {example}`"
        ),
        false => format!(
            "`{written}` is not the allow directive, so this comment suppresses nothing: write `# {directive} {example}` (lower-case, no blank around the `:`)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::names_emp_seal;

    #[test]
    fn names_emp_seal_finds_each_spelling_in_any_case_and_nothing_else() {
        for text in [
            "# emp-seal:allow x",
            "a: 1 # EMP_SEAL:allow",
            "# EmpSeal allow",
            "eeemp-seal",
            "ends with emp-seal",
        ] {
            assert!(names_emp_seal(text), "{text:?}");
        }
        for text in [
            "",
            "e",
            "emp",
            "emp seal",
            "emp--seal",
            "ém-seal",
            "emp-sea",
        ] {
            assert!(!names_emp_seal(text), "{text:?}");
        }
    }
}
