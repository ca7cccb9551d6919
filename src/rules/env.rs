//! Env-file rules: `env-syntax` and the `envfile` module's cross-dialect lints, each under its
//! own `env-*` id.
//!
//! The `envfile` module owns the kustomize env dialect, its parse errors and its lints; the check
//! use case parses every `*.env.example` and every real env file present locally once and puts
//! the results (keys, lines, lints; never values) into the tree model. This file only turns them
//! into findings and must not parse env files itself.

use super::View;
use crate::envfile::{LintId, LintSeverity};
use crate::finding::{Finding, Location, RuleMeta, RuleScope, Severity};

/// An env file (`*.env.example`, or a real env file present locally) that kustomize would reject.
pub static ENV_SYNTAX: RuleMeta = RuleMeta {
    id: "env-syntax",
    summary: "An env file does not parse the way kustomize v5 reads it",
    default_severity: Severity::Error,
    hint: "fix the line kustomize rejects (invalid UTF-8, a repeated key, an invalid key name)",
    scope: RuleScope::Tree,
};

/// The `envfile` module's lints as rules (ids `env-*`), registered as-is, in `LintId::ALL` order.
/// Id, summary and severity are the lint's own; the hint says how to fix it.
pub static LINTS: [RuleMeta; 17] = [
    lint(
        LintId::Bom,
        "save the file as UTF-8 without a byte order mark",
    ),
    lint(
        LintId::Crlf,
        "convert the file to LF line endings (dos2unix)",
    ),
    lint(
        LintId::BareCr,
        "remove the carriage return, or store the value with `files:` if it really holds one",
    ),
    lint(
        LintId::LeadingWhitespace,
        "start every line in column 1 and leave blank lines empty",
    ),
    lint(
        LintId::EmptyKey,
        "put the key before the `=`, or delete the line",
    ),
    lint(LintId::MissingEquals, "write `KEY=` for an empty value"),
    lint(
        LintId::ExportPrefix,
        "remove `export `: kustomize makes it part of the key",
    ),
    lint(
        LintId::SpaceAroundEquals,
        "write `KEY=value` with nothing around the `=`",
    ),
    lint(
        LintId::InvalidKey,
        "rename the key to letters, digits, '-', '_' and '.'",
    ),
    lint(
        LintId::KeyNotEnvName,
        "start the key with a letter or '_' so it can be an environment variable",
    ),
    lint(
        LintId::QuotedValue,
        "remove the quotes: kustomize deploys them as part of the value",
    ),
    lint(
        LintId::MultilineAttempt,
        "store multi-line values with `files:` in the generator",
    ),
    lint(
        LintId::InlineComment,
        "move the comment to its own line above",
    ),
    lint(
        LintId::VariableExpansion,
        "write the final value; kustomize does not expand variables",
    ),
    lint(
        LintId::EscapeSequence,
        "write the character itself, or store the value with `files:`",
    ),
    lint(
        LintId::TrailingWhitespace,
        "remove the trailing whitespace unless the value really ends with it",
    ),
    lint(
        LintId::MultilineValue,
        "put the value on one line, or store it with `files:` in the generator; rotate it if the file was shared",
    ),
];

const fn lint(id: LintId, hint: &'static str) -> RuleMeta {
    RuleMeta {
        id: id.as_str(),
        summary: id.summary(),
        default_severity: severity(id.severity()),
        hint,
        scope: RuleScope::Tree,
    }
}

const fn severity(s: LintSeverity) -> Severity {
    match s {
        LintSeverity::Error => Severity::Error,
        LintSeverity::Warning => Severity::Warning,
    }
}

/// Reports parse errors (`env-syntax`) and lints of every env file in the tree model.
pub fn check(cx: &View<'_, '_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for env in &cx.tree.env_files {
        if let Err((line, message)) = &env.parsed {
            let line = u32::try_from(*line).unwrap_or(u32::MAX);
            let location = Location::new(env.path.clone(), line, 1);
            let mut finding = Finding::new(&ENV_SYNTAX, location, message.clone());
            // Not a line kustomize rejects: the file itself could not be read.
            if cx
                .files
                .iter()
                .any(|f| f.path == env.path && f.unread.is_some())
            {
                let mib = crate::workspace::MAX_FILE_BYTES >> 20;
                finding = finding.hint(format!(
                    "make the file readable and smaller than {mib} MiB, or remove it"
                ));
            }
            out.push(finding);
        }
        for lint in &env.lints {
            let Some(meta) = LINTS.iter().find(|m| m.id == lint.id.as_str()) else {
                continue;
            };
            let location = Location::new(
                env.path.clone(),
                u32::try_from(lint.line).unwrap_or(u32::MAX),
                u32::try_from(lint.column).unwrap_or(u32::MAX),
            )
            .with_bytes(lint.span.clone());
            out.push(
                Finding::new(meta, location, lint.message.clone())
                    .severity(severity(lint.severity)),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lint_metas_mirror_the_envfile_lints() {
        let ids: Vec<&str> = LINTS.iter().map(|m| m.id).collect();
        let want: Vec<&str> = LintId::ALL.iter().map(|id| id.as_str()).collect();
        assert_eq!(ids, want);
    }
}
