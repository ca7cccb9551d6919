//! Env-file rules: `env-syntax` and the `envfile` module's cross-dialect lints, each under its
//! own `env-*` id.
//!
//! The `envfile` module owns the kustomize env dialect, its parse errors and its lints; the check
//! use case parses every `*.env.example` and every real env file present locally once and puts
//! the results (keys, lines, lints; never values) into the tree model. This file only turns them
//! into findings and must not parse env files itself.

use super::Context;
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

/// `env-bom`.
pub static BOM: RuleMeta = RuleMeta {
    id: "env-bom",
    summary: "the file starts with a UTF-8 byte order mark",
    default_severity: Severity::Warning,
    hint: "save the file as UTF-8 without a byte order mark",
    scope: RuleScope::Tree,
};

/// `env-crlf`.
pub static CRLF: RuleMeta = RuleMeta {
    id: "env-crlf",
    summary: "the file uses CRLF line endings",
    default_severity: Severity::Warning,
    hint: "convert the file to LF line endings (dos2unix)",
    scope: RuleScope::Tree,
};

/// `env-bare-cr`.
pub static BARE_CR: RuleMeta = RuleMeta {
    id: "env-bare-cr",
    summary: "a carriage return inside a line",
    default_severity: Severity::Warning,
    hint: "remove the carriage return, or store the value with `files:` if it really holds one",
    scope: RuleScope::Tree,
};

/// `env-leading-whitespace`.
pub static LEADING_WHITESPACE: RuleMeta = RuleMeta {
    id: "env-leading-whitespace",
    summary: "an indented or whitespace-only line",
    default_severity: Severity::Warning,
    hint: "start every line in column 1 and leave blank lines empty",
    scope: RuleScope::Tree,
};

/// `env-empty-key`.
pub static EMPTY_KEY: RuleMeta = RuleMeta {
    id: "env-empty-key",
    summary: "a line with an empty key, which kustomize silently drops",
    default_severity: Severity::Error,
    hint: "put the key before the `=`, or delete the line",
    scope: RuleScope::Tree,
};

/// `env-missing-equals`.
pub static MISSING_EQUALS: RuleMeta = RuleMeta {
    id: "env-missing-equals",
    summary: "a line without '='",
    default_severity: Severity::Warning,
    hint: "write `KEY=` for an empty value",
    scope: RuleScope::Tree,
};

/// `env-export-prefix`.
pub static EXPORT_PREFIX: RuleMeta = RuleMeta {
    id: "env-export-prefix",
    summary: "a shell `export` prefix that becomes part of the key",
    default_severity: Severity::Error,
    hint: "remove `export `: kustomize makes it part of the key",
    scope: RuleScope::Tree,
};

/// `env-space-around-equals`.
pub static SPACE_AROUND_EQUALS: RuleMeta = RuleMeta {
    id: "env-space-around-equals",
    summary: "whitespace around '='",
    default_severity: Severity::Warning,
    hint: "write `KEY=value` with nothing around the `=`",
    scope: RuleScope::Tree,
};

/// `env-invalid-key`.
pub static INVALID_KEY: RuleMeta = RuleMeta {
    id: "env-invalid-key",
    summary: "a key outside [-._a-zA-Z0-9]+ that the API server rejects",
    default_severity: Severity::Error,
    hint: "rename the key to letters, digits, '-', '_' and '.'",
    scope: RuleScope::Tree,
};

/// `env-key-not-env-name`.
pub static KEY_NOT_ENV_NAME: RuleMeta = RuleMeta {
    id: "env-key-not-env-name",
    summary: "a key kubectl --from-env-file refuses",
    default_severity: Severity::Warning,
    hint: "start the key with a letter or '_' so it can be an environment variable",
    scope: RuleScope::Tree,
};

/// `env-quoted-value`.
pub static QUOTED_VALUE: RuleMeta = RuleMeta {
    id: "env-quoted-value",
    summary: "a quoted value whose quotes kustomize keeps",
    default_severity: Severity::Warning,
    hint: "remove the quotes: kustomize deploys them as part of the value",
    scope: RuleScope::Tree,
};

/// `env-multiline-attempt`.
pub static MULTILINE_ATTEMPT: RuleMeta = RuleMeta {
    id: "env-multiline-attempt",
    summary: "an unterminated quote: a multi-line value kustomize does not support",
    default_severity: Severity::Error,
    hint: "store multi-line values with `files:` in the generator",
    scope: RuleScope::Tree,
};

/// `env-inline-comment`.
pub static INLINE_COMMENT: RuleMeta = RuleMeta {
    id: "env-inline-comment",
    summary: "a ` #` comment that kustomize keeps in the value",
    default_severity: Severity::Warning,
    hint: "move the comment to its own line above",
    scope: RuleScope::Tree,
};

/// `env-variable-expansion`.
pub static VARIABLE_EXPANSION: RuleMeta = RuleMeta {
    id: "env-variable-expansion",
    summary: "a `$` reference kustomize does not expand",
    default_severity: Severity::Warning,
    hint: "write the final value; kustomize does not expand variables",
    scope: RuleScope::Tree,
};

/// `env-escape-sequence`.
pub static ESCAPE_SEQUENCE: RuleMeta = RuleMeta {
    id: "env-escape-sequence",
    summary: "a backslash escape kustomize does not decode",
    default_severity: Severity::Warning,
    hint: "write the character itself, or store the value with `files:`",
    scope: RuleScope::Tree,
};

/// `env-trailing-whitespace`.
pub static TRAILING_WHITESPACE: RuleMeta = RuleMeta {
    id: "env-trailing-whitespace",
    summary: "trailing whitespace kept in the value",
    default_severity: Severity::Warning,
    hint: "remove the trailing whitespace unless the value really ends with it",
    scope: RuleScope::Tree,
};

/// `env-multiline-value`.
pub static MULTILINE_VALUE: RuleMeta = RuleMeta {
    id: "env-multiline-value",
    summary: "a value pasted over several lines, which kustomize reads as one key per line",
    default_severity: Severity::Error,
    hint: "put the value on one line, or store it with `files:` in the generator; rotate it if the file was shared",
    scope: RuleScope::Tree,
};

/// The `envfile` module's lint metas (ids `env-*`), registered as-is, in `LintId::ALL` order.
pub static LINTS: &[&RuleMeta] = &[
    &BOM,
    &CRLF,
    &BARE_CR,
    &LEADING_WHITESPACE,
    &EMPTY_KEY,
    &MISSING_EQUALS,
    &EXPORT_PREFIX,
    &SPACE_AROUND_EQUALS,
    &INVALID_KEY,
    &KEY_NOT_ENV_NAME,
    &QUOTED_VALUE,
    &MULTILINE_ATTEMPT,
    &INLINE_COMMENT,
    &VARIABLE_EXPANSION,
    &ESCAPE_SEQUENCE,
    &TRAILING_WHITESPACE,
    &MULTILINE_VALUE,
];

/// The meta of a lint id.
pub fn lint_meta(id: LintId) -> Option<&'static RuleMeta> {
    LINTS.iter().copied().find(|m| m.id == id.as_str())
}

/// Reports parse errors (`env-syntax`) and lints of every env file in the tree model.
pub fn check(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for env in &cx.tree.env_files {
        if let Err((line, message)) = &env.parsed {
            let line = u32::try_from(*line).unwrap_or(u32::MAX);
            let location = Location::new(env.path.clone(), line, 1);
            out.push(Finding::builder(&ENV_SYNTAX, location, message.clone()).build());
        }
        for lint in &env.lints {
            let Some(meta) = lint_meta(lint.id) else {
                continue;
            };
            let severity = match lint.severity {
                LintSeverity::Error => Severity::Error,
                LintSeverity::Warning => Severity::Warning,
            };
            let location = Location::new(
                env.path.clone(),
                u32::try_from(lint.line).unwrap_or(u32::MAX),
                u32::try_from(lint.column).unwrap_or(u32::MAX),
            )
            .with_bytes(lint.span.clone());
            out.push(
                Finding::builder(meta, location, lint.message.clone())
                    .severity(severity)
                    .build(),
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
        assert_eq!(LINTS.len(), LintId::ALL.len());
        for (meta, id) in LINTS.iter().zip(LintId::ALL) {
            assert_eq!(meta.id, id.as_str());
            assert_eq!(meta.summary, id.summary());
            let sev = match id.severity() {
                LintSeverity::Error => Severity::Error,
                LintSeverity::Warning => Severity::Warning,
            };
            assert_eq!(meta.default_severity, sev, "{}", meta.id);
        }
    }
}
