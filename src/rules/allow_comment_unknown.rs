//! Rule `allow-comment-unknown`: an `# emp-seal:allow` comment that names no rule, or a rule id
//! emp-seal does not have (a typo, `all`, `*`). It suppresses nothing, so the finding it was
//! written for still shows; this rule says why, at the comment. Only the files allow comments
//! apply to are read: YAML files and env files (not prose, whose examples are not directives).

use std::collections::HashSet;

use super::Context;
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
pub fn check(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let env: HashSet<&str> = (cx.tree.env_files.iter()).map(|e| e.path.as_str()).collect();
    let files = (cx.files.iter()).filter(|f| f.is_yaml() || env.contains(f.path.as_str()));
    // Every comment reported holds the directive's name in some spelling ([`misspelled`]).
    let files = files.filter(|f| {
        let lower = f.text.to_ascii_lowercase();
        SPELLINGS.iter().any(|s| lower.contains(s))
    });
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
