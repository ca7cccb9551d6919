//! Rule `allow-comment-unknown`: an `# emp-seal:allow` comment that names no rule, or a rule id
//! emp-seal does not have (a typo, `all`, `*`). It suppresses nothing, so the finding it was
//! written for still shows; this rule says why, at the comment. Only the files allow comments
//! apply to are read: YAML files and env files (not prose, whose examples are not directives).

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
    let files = (cx.files.iter()).filter(|f| f.is_yaml() || cx.tree.env_file(&f.path).is_some());
    for file in files {
        for (i, comment) in super::allow_comments(file).into_iter().enumerate() {
            let Some((c, _)) = comment else { continue };
            let Some(rest) = super::directive_in(c) else {
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
